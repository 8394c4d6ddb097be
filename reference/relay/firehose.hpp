// The relay's output firehose: events already stored in the AccountStore's
// log under the relay's own sequence numbers are fanned out to WebSocket
// consumers, each from its own position, by one thread that never blocks
// on a consumer.
// https://atproto.com/specs/event-stream#sequence-numbers
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "atproto/relay/account_store.hpp"
#include "atproto/xrpc/websocket.hpp"

namespace atproto::relay {

struct FirehoseOptions {
  // [relay.consumer.slow] Bytes queued on a consumer's connection above
  // which the fan-out waits for it; a consumer that stays above for
  // slow_consumer_ms is sent ConsumerTooSlow and closed.
  std::size_t consumer_queue_bytes = 8 << 20;
  int slow_consumer_ms = 10000;
  // Recent frames kept in memory so live consumers are not served from disk.
  std::size_t recent_events = 4096;
};

class Firehose {
 public:
  Firehose(AccountStore& store, FirehoseOptions options);
  ~Firehose();  // stop()
  Firehose(const Firehose&) = delete;
  Firehose& operator=(const Firehose&) = delete;

  void start();
  void stop();

  // [relay.output.cursor] A new consumer: no cursor streams from now on; a
  // cursor replays the stored events after it (0: from the oldest), with an
  // OutdatedCursor #info first when events after it were pruned; a cursor
  // beyond the last seq gets a FutureCursor error and the connection closes.
  void subscribe(std::shared_ptr<xrpc::WebSocketConnection> connection,
                 std::optional<std::int64_t> cursor);
  // After a batch of events was stored (its transaction committed), in seq
  // order: wakes the fan-out once.
  void published(std::vector<AccountStore::Appended> events);
  std::size_t consumer_count() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace atproto::relay

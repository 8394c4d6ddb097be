// The PDS's durable sequencer and its firehose (subscribeRepos): every
// repository, identity and account change is stored as a numbered event in
// the same transaction as the change itself, then fanned out to WebSocket
// consumers, each with its own queue.
// https://atproto.com/specs/event-stream and https://atproto.com/specs/sync#firehose
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "atproto/common/result.hpp"
#include "atproto/pds/context.hpp"
#include "atproto/sync/events.hpp"
#include "atproto/xrpc/websocket.hpp"

namespace atproto::pds {

class Sequencer {
 public:
  explicit Sequencer(PdsContext& context);
  ~Sequencer();  // stop()
  Sequencer(const Sequencer&) = delete;
  Sequencer& operator=(const Sequencer&) = delete;

  Status init_schema();
  // Inside the caller's transaction: gives the event the next sequence
  // number (strictly increasing, never reused, also across restarts) and
  // its time, stores the encoded frame, and returns the number.
  Result<std::int64_t> append_in_tx(sync::Event event);
  // After the caller's COMMIT: wakes the fan-out so consumers get the new
  // events. (Never before: an event must not be seen and then rolled back.)
  void notify();

  // A new consumer: replays from `cursor` as the event-stream page says,
  // then streams live. Never blocks the caller. Without a cursor the stream
  // starts after `live_after` (the last seq when the request arrived, taken
  // before the upgrade is answered, so that a client which writes as soon
  // as it is connected sees its own events), or after the current last seq.
  void subscribe(std::shared_ptr<xrpc::WebSocketConnection> connection,
                 std::optional<std::int64_t> cursor,
                 std::optional<std::int64_t> live_after = std::nullopt);
  std::int64_t last_seq() const;
  // Deletes the events stored before `cutoff_ms` (ms since the epoch), but
  // never the newest one, whose number the next event continues from. The
  // fan-out thread runs it every minute with --event-retention-hours.
  void prune(std::int64_t cutoff_ms);
  void stop();

 private:
  struct State;
  PdsContext& context_;
  std::unique_ptr<State> state_;
};

}  // namespace atproto::pds

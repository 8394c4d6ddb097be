// Fan-out of the relay's output log; see firehose.hpp.
#include "atproto/relay/firehose.hpp"

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "atproto/sync/events.hpp"

namespace atproto::relay {

namespace {

using Clock = std::chrono::steady_clock;

struct Consumer {
  std::shared_ptr<xrpc::WebSocketConnection> connection;
  std::int64_t next = 1;  // the next seq to send
  std::optional<Clock::time_point> full_since;
};

}  // namespace

struct Firehose::State {
  AccountStore& store;
  FirehoseOptions options;

  mutable std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;
  bool woken = false;
  std::vector<std::shared_ptr<Consumer>> consumers;
  // The most recent frames, by consecutive seq (appends are serialized by
  // the caller, so published() sees seqs in order).
  std::deque<std::pair<std::int64_t, std::shared_ptr<const Bytes>>> recent;
  std::int64_t head = 0;  // last seq published
  std::thread thread;
  // The fan-out thread's frames of one send (reused: no allocation per send).
  std::vector<std::shared_ptr<const Bytes>> frames_buffer;

  State(AccountStore& s, FirehoseOptions o) : store(s), options(o) {}

  // The frames from `from` on, at most `limit`: from memory when they are
  // still there, else from the log on disk.
  // `from` becomes the seq of the first frame returned.
  // `out` is the fan-out thread's one buffer (emptied here; it keeps its
  // capacity from round to round).
  void frames_from(std::int64_t& from, std::size_t limit,
                   std::vector<std::shared_ptr<const Bytes>>& out) {
    out.clear();
    {
      std::lock_guard lock(mutex);
      if (!recent.empty() && from >= recent.front().first) {
        auto index = static_cast<std::size_t>(from - recent.front().first);
        for (; index < recent.size() && out.size() < limit; ++index) {
          out.push_back(recent[index].second);
        }
        return;
      }
    }
    auto stored = store.events_after(from - 1, static_cast<int>(limit));
    if (!stored) return;
    for (auto& e : stored.value()) {
      // A gap (pruned events): the consumer continues at the first one kept.
      if (out.empty()) from = e.seq;
      if (e.seq != from + static_cast<std::int64_t>(out.size())) break;
      out.push_back(std::make_shared<const Bytes>(std::move(e.frame)));
    }
  }

  void drop_slow(Consumer& c) {
    // [relay.consumer.slow] Never wait for a consumer: tell it why and close
    // ([sync.stream.close-after-error]: nothing follows the error frame).
    (void)c.connection->send_binary(sync::encode_error_frame(
        {"ConsumerTooSlow", "the consumer did not keep up; reconnect with a cursor"}));
    c.connection->close(1008, "ConsumerTooSlow");
  }

  // Sends what the consumer can take now; false when it is to be removed.
  bool serve(Consumer& c, std::int64_t last) {
    while (c.next <= last) {
      if (!c.connection->is_open()) return false;
      if (c.connection->queued_bytes() >= options.consumer_queue_bytes) {
        auto now = Clock::now();
        if (!c.full_since) c.full_since = now;
        if (now - *c.full_since > std::chrono::milliseconds(options.slow_consumer_ms)) {
          drop_slow(c);
          return false;
        }
        return true;
      }
      c.full_since.reset();
      std::int64_t start = c.next;
      auto& frames = frames_buffer;
      frames_from(start, 256, frames);
      if (frames.empty()) return true;  // storage error: try again next round
      c.next = start;                   // later than asked when events were pruned meanwhile
      // As many as fit below the consumer's bound (at least one), queued at
      // once: one lock of the connection and one wake-up of its writer.
      const std::size_t queued_now = c.connection->queued_bytes();
      const std::size_t room =
          queued_now < options.consumer_queue_bytes ? options.consumer_queue_bytes - queued_now : 0;
      std::size_t count = 0;
      for (std::size_t bytes = 0; count < frames.size(); ++count) {
        bytes += frames[count]->size();
        if (bytes > room && count > 0) break;
      }
      std::size_t queued = c.connection->send_shared({frames.data(), count});
      frames.clear();  // holds no frame past its use
      c.next += static_cast<std::int64_t>(queued);
      if (queued < count) return false;
    }
    return c.connection->is_open();
  }

  void run() {
    std::unique_lock lock(mutex);
    while (!stopping) {
      wake.wait_for(lock, std::chrono::milliseconds(50), [&] { return stopping || woken; });
      woken = false;
      if (stopping) break;
      auto snapshot = consumers;
      std::int64_t last = head;
      lock.unlock();
      std::vector<std::shared_ptr<Consumer>> gone;
      for (auto& c : snapshot) {
        if (!serve(*c, last)) gone.push_back(c);
      }
      lock.lock();
      if (!gone.empty()) {
        std::erase_if(consumers, [&](const auto& c) {
          return std::find(gone.begin(), gone.end(), c) != gone.end();
        });
      }
    }
  }
};

Firehose::Firehose(AccountStore& store, FirehoseOptions options)
    : state_(std::make_unique<State>(store, options)) {
  auto last = store.last_seq();
  state_->head = last ? last.value() : 0;
}

Firehose::~Firehose() { stop(); }

void Firehose::start() {
  std::lock_guard lock(state_->mutex);
  if (state_->thread.joinable() || state_->stopping) return;
  state_->thread = std::thread([s = state_.get()] {
    pthread_setname_np(pthread_self(), "relay-fanout");  // per-thread CPU figures name it
    s->run();
  });
}

void Firehose::stop() {
  std::vector<std::shared_ptr<Consumer>> consumers;
  {
    std::lock_guard lock(state_->mutex);
    state_->stopping = true;
    consumers.swap(state_->consumers);
  }
  state_->wake.notify_all();
  if (state_->thread.joinable()) state_->thread.join();
  // The connections are left to the server's stop, which closes them
  // without flushing their queues (close() here would wait for a consumer
  // that no longer reads).
}

void Firehose::subscribe(std::shared_ptr<xrpc::WebSocketConnection> connection,
                         std::optional<std::int64_t> cursor) {
  auto consumer = std::make_shared<Consumer>();
  consumer->connection = std::move(connection);
  std::lock_guard lock(state_->mutex);
  if (state_->stopping) {
    consumer->connection->close(1001, "relay stopping");
    return;
  }
  if (!cursor) {
    consumer->next = state_->head + 1;
  } else if (*cursor > state_->head) {
    // [relay.output.cursor] [sync.stream.close-after-error] A cursor in the
    // future: an error, then close.
    (void)consumer->connection->send_binary(sync::encode_error_frame(
        {"FutureCursor", "cursor " + std::to_string(*cursor) + " is beyond the last seq " +
                             std::to_string(state_->head)}));
    consumer->connection->close(1008, "FutureCursor");
    return;
  } else {
    auto first = state_->store.first_seq();
    std::int64_t oldest = first && first.value() > 0 ? first.value() : state_->head + 1;
    if (*cursor != 0 && *cursor + 1 < oldest) {
      // [relay.output.cursor] Events after the cursor were pruned: say so,
      // then send the whole window.
      (void)consumer->connection->send_binary(sync::encode_event(sync::InfoEvent{
          "OutdatedCursor", "events after the cursor are no longer kept; starting at the oldest"}));
    }
    consumer->next = std::max(*cursor + 1, oldest);
  }
  state_->consumers.push_back(std::move(consumer));
  state_->woken = true;
  state_->wake.notify_all();
}

void Firehose::published(std::vector<AccountStore::Appended> events) {
  if (events.empty()) return;
  // The frames are shared with the consumers' queues, not copied. The batch
  // is one shared allocation and each frame an aliasing pointer into it,
  // not an allocation per frame: a batch is freed once the last consumer
  // and the recent window are done with all of its frames (they are sent
  // in order, so that is soon after its last one). Made outside the lock.
  auto batch = std::make_shared<std::vector<AccountStore::Appended>>(std::move(events));
  {
    std::lock_guard lock(state_->mutex);
    for (const auto& e : *batch) {
      state_->head = std::max(state_->head, e.seq);
      if (!state_->recent.empty() && state_->recent.back().first + 1 != e.seq) {
        state_->recent.clear();
      }
      state_->recent.emplace_back(e.seq, std::shared_ptr<const Bytes>(batch, &e.frame));
    }
    while (state_->recent.size() > state_->options.recent_events) state_->recent.pop_front();
    state_->woken = true;
  }
  state_->wake.notify_all();  // once per batch
}

std::size_t Firehose::consumer_count() const {
  std::lock_guard lock(state_->mutex);
  return state_->consumers.size();
}

}  // namespace atproto::relay

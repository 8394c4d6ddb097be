// The durable sequencer and the firehose fan-out.
// https://atproto.com/specs/event-stream and https://atproto.com/specs/sync#firehose
//
// Every consumer is a cursor into the stored event log: one fan-out thread
// moves each consumer's cursor forward by handing frames to its connection,
// which queues them (WebSocketConnection::send_binary never blocks). A
// consumer whose connection already holds kHighWaterBytes unsent gets no more
// until it drains, so a slow consumer costs only its own cursor position and
// never delays the others; it catches up from the database.
#include "atproto/pds/sequencer.hpp"
#include "atproto/common/files.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <thread>
#include <type_traits>
#include <vector>

#include "atproto/pds/statement_cache.hpp"

namespace atproto::pds {

namespace {

constexpr std::size_t kHighWaterBytes = 4 << 20;  // per consumer, unsent
constexpr std::size_t kBatch = 256;               // events per read
constexpr std::size_t kRecentEvents = 4096;       // frames kept in memory
constexpr auto kIdleWake = std::chrono::milliseconds(50);
constexpr auto kPruneEvery = std::chrono::seconds(60);

struct StoredEvent {
  std::int64_t seq;
  std::vector<std::uint8_t> frame;
};

struct Subscriber {
  std::shared_ptr<xrpc::WebSocketConnection> connection;
  std::int64_t next = 1;  // the next sequence number this consumer needs
  std::atomic<bool> closed{false};
};

}  // namespace

struct Sequencer::State {
  explicit State(sqlite::Database& db) : statements(db) {}
  StatementCache statements;  // under db_mutex

  std::mutex mutex;  // guards the fields below
  std::condition_variable wake;
  bool stopping = false;
  bool pending = false;
  std::vector<std::shared_ptr<Subscriber>> subscribers;
  std::thread thread;

  // Fan-out thread only.
  std::deque<StoredEvent> recent;
  std::chrono::steady_clock::time_point last_prune{};

  // Under db_mutex: the count of a database whose repo_seq was made with
  // AUTOINCREMENT (sqlite_sequence), which may be past every stored event.
  std::int64_t legacy_floor = 0;

  // Under db_mutex: the last number given out (0: none yet), and the
  // newest stored event's (0: none).
  std::int64_t last();
  std::int64_t newest_stored();
  void fan_out(PdsContext& context, const std::vector<std::shared_ptr<Subscriber>>& consumers);
};

Sequencer::Sequencer(PdsContext& context)
    : context_(context), state_(std::make_unique<State>(context.db)) {
  state_->thread = std::thread([this] {
    std::unique_lock lock(state_->mutex);
    while (!state_->stopping) {
      state_->wake.wait_for(lock, kIdleWake,
                            [this] { return state_->stopping || state_->pending; });
      if (state_->stopping) break;
      state_->pending = false;
      auto subscribers = state_->subscribers;
      lock.unlock();
      if (std::chrono::steady_clock::now() - state_->last_prune > kPruneEvery) {
        state_->last_prune = std::chrono::steady_clock::now();
        // https://atproto.com/specs/event-stream#sequence-numbers Events
        // are kept for a limited window; older cursors get OutdatedCursor.
        prune(unix_time_ms() -
              static_cast<std::int64_t>(context_.config.event_retention_hours) * 3'600'000);
      }
      if (!subscribers.empty()) state_->fan_out(context_, subscribers);
      lock.lock();
      std::erase_if(state_->subscribers, [](const auto& s) { return s->closed.load(); });
    }
  });
}

Sequencer::~Sequencer() { stop(); }

void Sequencer::stop() {
  std::vector<std::shared_ptr<Subscriber>> subscribers;
  {
    std::lock_guard lock(state_->mutex);
    if (state_->stopping && !state_->thread.joinable()) return;
    state_->stopping = true;
    subscribers.swap(state_->subscribers);
  }
  state_->wake.notify_all();
  if (state_->thread.joinable()) state_->thread.join();
  for (auto& s : subscribers) s->connection->close(1001, "server shutting down");
}

Status Sequencer::init_schema() {
  std::lock_guard lock(context_.db_mutex);
  // [sync.stream.seq-positive] [sync.stream.persist-before-send]
  // [pds.service.firehose.order] [pds.robust.durable-sequence]
  // Numbers start at 1; each is the last stored one plus one, in the
  // transaction of the change, so a rolled-back change gives its number
  // back and none is skipped. Pruning never deletes the newest event
  // (prune()), so the last number stays stored and none is handed out
  // again, also after restarts, and a consumer's cursor stays meaningful.
  // (The table had AUTOINCREMENT: one more page written per event, for the
  // sqlite_sequence row. A table made so keeps it, and its count, which
  // pruning may have left past every stored event, is the floor below.)
  // Consumers are fed from this table only, so an event is sent only once
  // its transaction committed. Pruning finds its cut by seq (events are
  // stored in time order): no index on time to write per event.
  auto st = context_.db.exec(
      "CREATE TABLE IF NOT EXISTS repo_seq ("
      " seq INTEGER PRIMARY KEY,"
      " did TEXT NOT NULL,"
      " type TEXT NOT NULL,"
      " time INTEGER NOT NULL,"  // ms since the epoch, for pruning
      " frame BLOB NOT NULL);"
      "DROP INDEX IF EXISTS repo_seq_time;");
  if (!st.ok()) return st;
  auto has_counts =
      context_.db.prepare("SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_sequence'");
  if (has_counts.step() == SQLITE_ROW) {
    auto q = context_.db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'repo_seq'");
    if (q.step() == SQLITE_ROW) state_->legacy_floor = q.integer(0);
  }
  return {};
}

std::int64_t Sequencer::State::newest_stored() {
  auto& q = statements.get("SELECT max(seq) FROM repo_seq");
  std::int64_t out = 0;
  if (q.ok() && q.step() == SQLITE_ROW && !q.is_null(0)) out = q.integer(0);
  q.reset();
  return out;
}

std::int64_t Sequencer::State::last() { return std::max(newest_stored(), legacy_floor); }

Result<std::int64_t> Sequencer::append_in_tx(sync::Event event) {
  std::lock_guard lock(context_.db_mutex);
  const std::int64_t seq = state_->last() + 1;
  // [sync.stream.seq-safe-range] Refused rather than numbered past 2^53 - 1.
  if (auto st = sync::check_emitted_seqs(seq); !st.ok()) return st.error();
  std::string did;
  std::string time = now_datetime();
  std::visit(
      [&](auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (!std::is_same_v<T, sync::InfoEvent>) {
          e.seq = seq;
          e.time = time;
          if constexpr (std::is_same_v<T, sync::CommitEvent>) {
            did = e.repo;
          } else {
            did = e.did;
          }
        }
      },
      event);
  if (std::holds_alternative<sync::InfoEvent>(event)) {
    return make_error("InvalidRequest", "#info messages are not sequenced");
  }
  auto frame = sync::encode_event(event);
  auto& insert = state_->statements.get(
      "INSERT INTO repo_seq (seq, did, type, time, frame) VALUES (?, ?, ?, ?, ?)");
  insert.bind(1, seq).bind(2, did).bind(3, sync::event_type(event)).bind(4, unix_time_ms());
  insert.bind_blob(5, frame);
  if (auto st = insert.run(); !st.ok()) return st.error();
  return seq;
}

void Sequencer::notify() {
  {
    std::lock_guard lock(state_->mutex);
    // Without consumers there is nothing to hand out (a new one starts from
    // the stored log): no wake-up, which would cost a thread switch per
    // write.
    if (state_->subscribers.empty()) return;
    state_->pending = true;
  }
  state_->wake.notify_one();
}

std::int64_t Sequencer::last_seq() const {
  std::lock_guard lock(context_.db_mutex);
  return state_->last();
}

namespace {

// The oldest stored event's number, or nullopt when none is stored.
std::optional<std::int64_t> oldest_seq(StatementCache& statements) {
  auto& q = statements.get("SELECT min(seq) FROM repo_seq");
  std::optional<std::int64_t> out;
  if (q.ok() && q.step() == SQLITE_ROW && !q.is_null(0)) out = q.integer(0);
  q.reset();
  return out;
}

}  // namespace

void Sequencer::subscribe(std::shared_ptr<xrpc::WebSocketConnection> connection,
                          std::optional<std::int64_t> cursor,
                          std::optional<std::int64_t> live_after) {
  auto subscriber = std::make_shared<Subscriber>();
  subscriber->connection = connection;
  std::weak_ptr<Subscriber> weak = subscriber;
  connection->on_close([weak] {
    if (auto s = weak.lock()) s->closed = true;
  });
  {
    std::lock_guard db_lock(context_.db_mutex);
    std::int64_t last = last_seq();
    // https://atproto.com/specs/event-stream#sequence-numbers
    if (!cursor) {
      // [sync.stream.cursor-none] Live events only, from the position the
      // stream had when the request arrived.
      subscriber->next = std::min(live_after.value_or(last), last) + 1;
    } else if (*cursor > last) {
      // [sync.stream.cursor-future] [sync.stream.close-after-error] An
      // error frame, then the connection closes.
      connection->send_binary(sync::encode_error_frame(
          {"FutureCursor", "cursor " + std::to_string(*cursor) + " is ahead of the stream (" +
                               std::to_string(last) + ")"}));
      connection->close(1000, "FutureCursor");
      return;
    } else {
      auto oldest = oldest_seq(state_->statements).value_or(last + 1);
      if (*cursor == 0) {
        // [sync.stream.cursor-zero] The whole window, no complaint.
        subscriber->next = oldest;
      } else if (*cursor + 1 < oldest) {
        // [sync.stream.cursor-outdated] Events after the cursor were
        // pruned: an OutdatedCursor #info first, then the whole window.
        connection->send_binary(sync::encode_event(sync::InfoEvent{
            "OutdatedCursor", "events before " + std::to_string(oldest) + " are no longer kept"}));
        subscriber->next = oldest;
      } else {
        // [sync.stream.cursor-backfill] The events after the cursor (the
        // last one the consumer processed, as the TypeScript PDS and
        // @atproto/sync read it), then live.
        subscriber->next = *cursor + 1;
      }
    }
  }
  {
    std::lock_guard lock(state_->mutex);
    if (state_->stopping) {
      connection->close(1001, "server shutting down");
      return;
    }
    state_->subscribers.push_back(std::move(subscriber));
    state_->pending = true;
  }
  state_->wake.notify_all();
}

void Sequencer::State::fan_out(PdsContext& context,
                               const std::vector<std::shared_ptr<Subscriber>>& consumers) {
  auto& st = *this;
  // Refresh the in-memory tail of the log: one read for every consumer
  // that is live.
  {
    std::lock_guard db_lock(context.db_mutex);
    std::int64_t after = st.recent.empty() ? 0 : st.recent.back().seq;
    if (st.recent.empty()) {
      // Start from the newest kRecentEvents only.
      auto& q = st.statements.get("SELECT max(seq) FROM repo_seq");
      if (q.ok() && q.step() == SQLITE_ROW && !q.is_null(0)) {
        after = std::max<std::int64_t>(0, q.integer(0) - static_cast<std::int64_t>(kRecentEvents));
      }
      q.reset();
    }
    auto& q = st.statements.get("SELECT seq, frame FROM repo_seq WHERE seq > ? ORDER BY seq");
    q.bind(1, after);
    while (q.ok() && q.step() == SQLITE_ROW) st.recent.push_back({q.integer(0), q.blob(1)});
    q.reset();
    while (st.recent.size() > kRecentEvents) st.recent.pop_front();
  }
  std::optional<std::int64_t> oldest;
  bool oldest_known = false;
  for (const auto& s : consumers) {
    if (s->closed) continue;
    auto& connection = *s->connection;
    std::size_t sent = 0;
    while (!s->closed && connection.queued_bytes() < kHighWaterBytes && sent < 8 * kBatch) {
      std::vector<StoredEvent> batch;
      if (!st.recent.empty() && s->next >= st.recent.front().seq) {
        auto it = std::lower_bound(st.recent.begin(), st.recent.end(), s->next,
                                   [](const StoredEvent& e, std::int64_t n) { return e.seq < n; });
        for (; it != st.recent.end() && batch.size() < kBatch; ++it) batch.push_back(*it);
      } else {
        std::lock_guard db_lock(context.db_mutex);
        if (!oldest_known) {
          oldest = oldest_seq(st.statements);
          oldest_known = true;
        }
        if (oldest && s->next < *oldest) {
          // Pruned while this consumer lagged behind: it cannot be served
          // in order any more; it may reconnect with a cursor.
          connection.send_binary(sync::encode_error_frame(
              {"ConsumerTooSlow", "the events this consumer needed next were pruned"}));
          connection.close(1008, "ConsumerTooSlow");
          s->closed = true;
          break;
        }
        auto& q = st.statements.get(
            "SELECT seq, frame FROM repo_seq WHERE seq >= ? ORDER BY seq LIMIT ?");
        q.bind(1, s->next).bind(2, static_cast<std::int64_t>(kBatch));
        while (q.ok() && q.step() == SQLITE_ROW) batch.push_back({q.integer(0), q.blob(1)});
        q.reset();
      }
      if (batch.empty()) break;
      for (auto& e : batch) {
        if (!connection.send_binary(std::move(e.frame))) {
          s->closed = true;
          break;
        }
        s->next = e.seq + 1;
        ++sent;
      }
    }
    // More to send than one round allows: come back without waiting.
    if (!s->closed && sent >= 8 * kBatch) {
      std::lock_guard lock(st.mutex);
      st.pending = true;
    }
  }
}

void Sequencer::prune(std::int64_t cutoff_ms) {
  std::lock_guard db_lock(context_.db_mutex);
  auto& st = *state_;
  // Two statements: SQLite answers a lone min() or max() from the end of
  // the B-tree, but both in one statement by reading every row.
  auto oldest = oldest_seq(st.statements);
  if (!oldest) return;
  std::int64_t lo = *oldest;
  std::int64_t hi = st.newest_stored();
  // Bisection for the first event not older than the cutoff (events are
  // appended in time order); the answer stays within [lo, hi], and `hi`,
  // the newest event, is never pruned [pds.robust.durable-sequence].
  auto& at =
      st.statements.get("SELECT seq, time FROM repo_seq WHERE seq >= ? ORDER BY seq LIMIT 1");
  while (lo < hi) {
    std::int64_t mid = lo + (hi - lo) / 2;
    at.bind(1, mid);
    if (at.step() != SQLITE_ROW) {
      at.reset();
      return;
    }
    std::int64_t seq = at.integer(0);
    std::int64_t time = at.integer(1);
    at.reset();
    if (time < cutoff_ms) {
      lo = std::min(seq + 1, hi);
    } else {
      hi = mid;
    }
  }
  auto& q = st.statements.get("DELETE FROM repo_seq WHERE seq < ?");
  q.bind(1, lo);
  (void)q.run();
  q.reset();
}

}  // namespace atproto::pds

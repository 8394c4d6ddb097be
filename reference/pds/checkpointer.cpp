// The background WAL checkpoint of the PDS database (checkpointer.hpp).
#include "atproto/pds/checkpointer.hpp"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace atproto::pds {

namespace {

// Frames appended to the log that wake the checkpointer. A wider window
// than SQLite's own 1,000 pages copies fewer pages per commit: the pages
// every commit dirties (B-tree roots and inner nodes, the ends of the
// append-only indexes) are copied once per window, not once per 1,000.
constexpr int kWakePages = 4000;
// The log size at which the checkpointer holds the writers off to copy the
// last frames, so that the next write starts the log over (see
// checkpointer.hpp). Below it the log grows: a few tens of megabytes.
constexpr int kRestartPages = 16'000;
// The size at which the committing writer checkpoints itself, as SQLite
// would, in case the thread cannot keep up.
constexpr int kInlinePages = 100'000;
// A small log is still moved over now and then, so that an idle server's
// database file is current.
constexpr auto kIdleCheckpoint = std::chrono::seconds(5);

}  // namespace

struct WalCheckpointer::State {
  PdsContext* context = nullptr;
  sqlite3* own = nullptr;  // the checkpointer's connection
  std::mutex mutex;
  std::condition_variable wake;
  bool pending = false;
  bool stopping = false;
  std::thread thread;
  // The hook's count (under db_mutex): the log's size at the last commit
  // and at the last wake.
  int last_pages = 0;
  int woken_at = 0;

  // The main connection's WAL hook: runs inside a COMMIT, under db_mutex.
  static int on_commit(void* self, sqlite3* db, const char* name, int pages) {
    auto* state = static_cast<State*>(self);
    if (pages >= kInlinePages) {
      (void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
      return SQLITE_OK;
    }
    // The log started over: frames are counted from its beginning again.
    if (pages < state->last_pages) state->woken_at = 0;
    state->last_pages = pages;
    if (pages - state->woken_at >= kWakePages) {
      state->woken_at = pages;
      {
        std::lock_guard lock(state->mutex);
        state->pending = true;
      }
      state->wake.notify_one();
    }
    return SQLITE_OK;
  }

  void run() {
    std::unique_lock lock(mutex);
    while (!stopping) {
      wake.wait_for(lock, kIdleCheckpoint, [this] { return stopping || pending; });
      if (stopping) break;
      pending = false;
      lock.unlock();
      // PASSIVE: copies what no reader still needs and never waits for
      // the writers, who go on appending meanwhile.
      int log_frames = 0;
      (void)sqlite3_wal_checkpoint_v2(own, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log_frames,
                                      nullptr);
      if (log_frames >= kRestartPages) {
        // Then what they appended, with them held off: after this step
        // the whole log is copied and the next write restarts it. It
        // syncs, so the writers wait some milliseconds: once per
        // kRestartPages frames, not on every wake.
        std::lock_guard db_lock(context->db_mutex);
        (void)sqlite3_wal_checkpoint_v2(own, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
      }
      lock.lock();
    }
  }
};

Result<std::unique_ptr<WalCheckpointer>> WalCheckpointer::start(PdsContext& context,
                                                                const std::string& path) {
  std::unique_ptr<WalCheckpointer> out(new WalCheckpointer());
  out->state_ = std::make_unique<State>();
  State& s = *out->state_;
  s.context = &context;
  // The same VFS as the main connection: with unix-excl (pds.cpp) both
  // share the in-memory WAL index and locks of this process.
  sqlite3_vfs* vfs = nullptr;
  {
    std::lock_guard lock(context.db_mutex);
    (void)sqlite3_file_control(context.db.handle(), "main", SQLITE_FCNTL_VFS_POINTER, &vfs);
  }
  if (sqlite3_open_v2(path.c_str(), &s.own, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX,
                      vfs ? vfs->zName : nullptr) != SQLITE_OK) {
    std::string message = s.own ? sqlite3_errmsg(s.own) : "out of memory";
    sqlite3_close(s.own);
    s.own = nullptr;
    return make_error(sqlite::kIoError, "open " + path + " for checkpoints: " + message);
  }
  sqlite3_busy_timeout(s.own, 5000);
  // A connection learns that the file is in WAL mode when it first reads
  // it; until then a checkpoint through it does nothing.
  if (sqlite3_exec(s.own, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr) != SQLITE_OK) {
    std::string message = sqlite3_errmsg(s.own);
    sqlite3_close(s.own);
    s.own = nullptr;
    return make_error(sqlite::kIoError, "checkpoint connection: " + message);
  }
  {
    std::lock_guard lock(context.db_mutex);
    // Replaces the automatic checkpoint (itself a WAL hook).
    sqlite3_wal_hook(context.db.handle(), &State::on_commit, &s);
  }
  s.thread = std::thread([&s] { s.run(); });
  return out;
}

void WalCheckpointer::stop() {
  if (!state_ || !state_->context) return;
  State& s = *state_;
  {
    std::lock_guard lock(s.context->db_mutex);
    sqlite3_wal_autocheckpoint(s.context->db.handle(), kWakePages);
  }
  {
    std::lock_guard lock(s.mutex);
    s.stopping = true;
  }
  s.wake.notify_one();
  if (s.thread.joinable()) s.thread.join();
  sqlite3_close(s.own);
  s.own = nullptr;
  s.context = nullptr;
}

WalCheckpointer::~WalCheckpointer() { stop(); }

}  // namespace atproto::pds

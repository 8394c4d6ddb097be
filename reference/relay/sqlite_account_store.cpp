// AccountStore on one SQLite database (reference/common/sqlite.hpp).
#include <mutex>
#include <string_view>
#include <unordered_map>

#include "atproto/common/sqlite.hpp"
#include "atproto/relay/account_store.hpp"
#include "atproto/sync/events.hpp"

namespace atproto::relay {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS account (
  did TEXT PRIMARY KEY,
  host TEXT NOT NULL,
  rev TEXT,
  head TEXT,
  data TEXT,
  active INTEGER NOT NULL,
  status TEXT,
  desynchronized INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS account_host ON account(host);
CREATE TABLE IF NOT EXISTS host (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  hostname TEXT NOT NULL UNIQUE,
  cursor INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL DEFAULT 'active'
);
CREATE TABLE IF NOT EXISTS event (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  time_ms INTEGER NOT NULL,
  frame BLOB NOT NULL
);
)sql";

AccountState read_account(const sqlite::Statement& s) {
  AccountState a;
  a.did = s.text(0);
  a.host = s.text(1);
  a.rev = s.optional_text(2);
  a.head = s.optional_text(3);
  a.data = s.optional_text(4);
  a.active = s.integer(5) != 0;
  a.status = s.optional_text(6);
  a.desynchronized = s.integer(7) != 0;
  return a;
}

constexpr const char* kAccountColumns =
    "did, host, rev, head, data, active, status, desynchronized";

// A statement prepared once and reused: reset when taken and when given
// back, so that no read stays open (an open read would hold back WAL
// checkpoints).
class Cached {
 public:
  Cached(sqlite::Database& db, std::string sql) : db_(db), sql_(std::move(sql)) {}
  sqlite::Statement& take() {
    if (!statement_) statement_ = std::make_unique<sqlite::Statement>(db_.handle(), sql_);
    statement_->reset();
    return *statement_;
  }

 private:
  sqlite::Database& db_;
  std::string sql_;
  std::unique_ptr<sqlite::Statement> statement_;
};

struct Returned {
  sqlite::Statement& statement;
  ~Returned() { statement.reset(); }
};

class SqliteAccountStore final : public AccountStore {
 public:
  explicit SqliteAccountStore(sqlite::Database db) : db_(std::move(db)) {}

  Result<std::optional<AccountState>> account(std::string_view did) override {
    std::lock_guard lock(mutex_);
    auto& s = select_account_.take();
    Returned done{s};
    if (!s.ok()) return s.error("prepare");
    s.bind(1, did);
    int rc = s.step();
    if (rc == SQLITE_DONE) return std::optional<AccountState>();
    if (rc != SQLITE_ROW) return s.error("account");
    return std::optional<AccountState>(read_account(s));
  }

  Result<std::vector<AccountState>> list_accounts(std::string_view after_did, int limit) override {
    std::lock_guard lock(mutex_);
    auto s = db_.prepare(std::string("SELECT ") + kAccountColumns +
                         " FROM account WHERE did > ? ORDER BY did LIMIT ?");
    if (!s.ok()) return s.error("prepare");
    s.bind(1, after_did).bind(2, limit);
    std::vector<AccountState> out;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) out.push_back(read_account(s));
    if (rc != SQLITE_DONE) return s.error("list accounts");
    return out;
  }

  Status put_account(const AccountState& account) override {
    std::lock_guard lock(mutex_);
    return write_account(account);
  }

  Result<std::optional<HostState>> host(std::string_view hostname) override {
    std::lock_guard lock(mutex_);
    auto s = db_.prepare(std::string(kHostSelect) + " WHERE h.hostname = ?");
    if (!s.ok()) return s.error("prepare");
    s.bind(1, hostname);
    int rc = s.step();
    if (rc == SQLITE_DONE) return std::optional<HostState>();
    if (rc != SQLITE_ROW) return s.error("host");
    return std::optional<HostState>(read_host(s));
  }

  Result<std::vector<HostState>> list_hosts(std::int64_t after_id, int limit) override {
    std::lock_guard lock(mutex_);
    auto s = db_.prepare(std::string(kHostSelect) + " WHERE h.id > ? ORDER BY h.id LIMIT ?");
    if (!s.ok()) return s.error("prepare");
    s.bind(1, after_id).bind(2, limit);
    std::vector<HostState> out;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) out.push_back(read_host(s));
    if (rc != SQLITE_DONE) return s.error("list hosts");
    return out;
  }

  Result<HostState> add_host(std::string_view hostname) override {
    {
      std::lock_guard lock(mutex_);
      auto s = db_.prepare("INSERT OR IGNORE INTO host (hostname) VALUES (?)");
      s.bind(1, hostname);
      if (auto r = s.run(); !r) return r.error();
    }
    auto h = host(hostname);
    if (!h) return h.error();
    if (!*h) return make_error(sqlite::kIoError, "host vanished after insert");
    return **h;
  }

  Status set_host_status(std::string_view hostname, std::string_view status) override {
    std::lock_guard lock(mutex_);
    auto s = db_.prepare("UPDATE host SET status = ? WHERE hostname = ?");
    s.bind(1, status).bind(2, hostname);
    return s.run();
  }

  Status set_host_cursor(std::string_view hostname, std::int64_t cursor) override {
    std::lock_guard lock(mutex_);
    return write_cursor(hostname, cursor);
  }

  Result<std::vector<Appended>> append(const std::vector<Append>& batch, std::string_view hostname,
                                       std::int64_t host_cursor) override {
    std::lock_guard lock(mutex_);
    sqlite::Transaction tx(db_);
    if (!tx.began()) return make_error(sqlite::kIoError, "begin failed");
    // The next seq is counted here (appends are serialized by the mutex);
    // AUTOINCREMENT keeps the highest one ever used in sqlite_sequence, so a
    // seq is never reused, also after pruning and restarts.
    if (next_seq_ == 0) {
      auto last = last_seq_locked();
      if (!last) return last.error();
      next_seq_ = last.value() + 1;
    }
    std::int64_t seq = next_seq_;
    // [sync.stream.seq-safe-range] The whole batch stays at or below 2^53 - 1.
    std::int64_t events = 0;
    for (const auto& change : batch) events += change.encode ? 1 : 0;
    if (auto s = sync::check_emitted_seqs(seq, events); !s) return s.error();
    // An account changed several times in the batch is written once, in
    // its last state (the transaction commits them all or none).
    std::unordered_map<std::string_view, std::size_t> last_change;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (batch[i].account) last_change[batch[i].account->did] = i;
    }
    std::vector<Appended> out;
    out.reserve(batch.size());
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const auto& change = batch[i];
      if (change.account && last_change[change.account->did] == i) {
        if (auto s = write_account(*change.account); !s) return s.error();
      }
      if (!change.encode) continue;
      Bytes frame = change.encode(seq);
      auto& insert = insert_event_.take();
      Returned done{insert};
      insert.bind(1, seq).bind(2, change.time_ms).bind_blob(3, frame);
      if (auto s = insert.run(); !s) return s.error();
      out.push_back({seq++, std::move(frame)});
    }
    if (!hostname.empty()) {
      if (auto s = write_cursor(hostname, host_cursor); !s) return s.error();
    }
    if (auto s = tx.commit(); !s) return s.error();
    next_seq_ = seq;
    return out;
  }

  Result<std::vector<StoredEvent>> events_after(std::int64_t after, int limit) override {
    std::lock_guard lock(mutex_);
    auto s =
        db_.prepare("SELECT seq, time_ms, frame FROM event WHERE seq > ? ORDER BY seq LIMIT ?");
    if (!s.ok()) return s.error("prepare");
    s.bind(1, after).bind(2, limit);
    std::vector<StoredEvent> out;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) out.push_back({s.integer(0), s.integer(1), s.blob(2)});
    if (rc != SQLITE_DONE) return s.error("events");
    return out;
  }

  Result<std::int64_t> last_seq() override {
    std::lock_guard lock(mutex_);
    return last_seq_locked();
  }

  Result<std::int64_t> last_seq_locked() {
    // The AUTOINCREMENT counter, not MAX(seq): it survives pruning the log empty.
    auto s = db_.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'event'");
    int rc = s.step();
    if (rc == SQLITE_DONE) return std::int64_t{0};
    if (rc != SQLITE_ROW) return s.error("last seq");
    return s.integer(0);
  }

  Result<std::int64_t> first_seq() override {
    std::lock_guard lock(mutex_);
    auto s = db_.prepare("SELECT MIN(seq) FROM event");
    if (s.step() != SQLITE_ROW) return s.error("first seq");
    return s.is_null(0) ? std::int64_t{0} : s.integer(0);
  }

  Status prune_events(std::int64_t before_time_ms) override {
    std::lock_guard lock(mutex_);
    auto s = db_.prepare("DELETE FROM event WHERE time_ms < ?");
    s.bind(1, before_time_ms);
    return s.run();
  }

  Status init() { return db_.exec(kSchema); }

 private:
  static constexpr const char* kHostSelect =
      "SELECT h.id, h.hostname, h.cursor, h.status,"
      " (SELECT COUNT(*) FROM account a WHERE a.host = h.hostname) FROM host h";

  static HostState read_host(const sqlite::Statement& s) {
    HostState h;
    h.id = s.integer(0);
    h.hostname = s.text(1);
    h.cursor = s.integer(2);
    h.status = s.text(3);
    h.account_count = s.integer(4);
    return h;
  }

  Status write_account(const AccountState& a) {
    auto& s = upsert_account_.take();
    Returned done{s};
    s.bind(1, a.did).bind(2, a.host).bind(3, a.rev).bind(4, a.head).bind(5, a.data);
    s.bind(6, a.active ? 1 : 0).bind(7, a.status).bind(8, a.desynchronized ? 1 : 0);
    return s.run();
  }

  Status write_cursor(std::string_view hostname, std::int64_t cursor) {
    auto& s = update_cursor_.take();
    Returned done{s};
    s.bind(1, cursor).bind(2, hostname);
    return s.run();
  }

  std::mutex mutex_;
  sqlite::Database db_;
  std::int64_t next_seq_ = 0;  // 0: not read yet
  Cached select_account_{db_,
                         std::string("SELECT ") + kAccountColumns + " FROM account WHERE did = ?"};
  // An upsert that updates the row in place (INSERT OR REPLACE would delete
  // and insert it again, rewriting both of its indexes on every event).
  Cached upsert_account_{db_,
                         std::string("INSERT INTO account (") + kAccountColumns +
                             ") VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(did) DO UPDATE SET "
                             "host = excluded.host, rev = excluded.rev, head = excluded.head, "
                             "data = excluded.data, active = excluded.active, "
                             "status = excluded.status, "
                             "desynchronized = excluded.desynchronized"};
  Cached update_cursor_{db_, "UPDATE host SET cursor = ? WHERE hostname = ?"};
  Cached insert_event_{db_, "INSERT INTO event (seq, time_ms, frame) VALUES (?, ?, ?)"};
};

}  // namespace

Result<std::unique_ptr<AccountStore>> open_sqlite_account_store(const std::string& path) {
  // [relay.host.cursor] synchronous=NORMAL: in WAL mode a process crash
  // loses nothing; a power loss may lose the last transactions, and with
  // them the upstream cursor that was committed beside them, so the relay
  // reads those events again from the PDS rather than skipping them.
  auto db = sqlite::Database::open(path, sqlite::Database::Synchronous::kNormal);
  if (!db) return db.error();
  auto store = std::make_unique<SqliteAccountStore>(std::move(db).value());
  if (auto s = store->init(); !s) return s.error();
  return std::unique_ptr<AccountStore>(std::move(store));
}

}  // namespace atproto::relay

// AccountStore on one SQLite database (reference/common/sqlite.hpp) and the
// output event log's segment files (event_log.hpp).
#include <algorithm>
#include <filesystem>
#include <mutex>
#include <string_view>
#include <unordered_map>

#include "atproto/common/sqlite.hpp"
#include "atproto/data/cid.hpp"
#include "atproto/relay/account_store.hpp"
#include "atproto/relay/event_log.hpp"
#include "atproto/sync/events.hpp"

namespace atproto::relay {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS account (
  did TEXT PRIMARY KEY,
  host TEXT NOT NULL,
  rev TEXT,
  head BLOB,
  data BLOB,
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
CREATE TABLE IF NOT EXISTS sequence (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  last_seq INTEGER NOT NULL
);
INSERT OR IGNORE INTO sequence (id, last_seq) VALUES (1, 0);
)sql";

// The commit and MST root CIDs are stored in their binary form (36 bytes,
// as in DAG-CBOR links; `hex(head)` in the sqlite3 shell): written on every
// event, they are never turned into text on the way (only listRepos and
// getLatestCommit answer them as strings). A database written by an older
// version holds them as strings; those rows read as well: a binary CIDv1
// begins with the byte 0x01, a base32 string with 'b'.
Result<std::optional<data::Cid>> read_cid(const sqlite::Statement& s, int column) {
  if (s.is_null(column)) return std::optional<data::Cid>();
  const Bytes stored = s.blob(column);
  auto cid = !stored.empty() && stored.front() == 'b'
                 ? data::Cid::parse(std::string_view(reinterpret_cast<const char*>(stored.data()),
                                                     stored.size()))
                 : data::Cid::from_bytes(stored);
  if (!cid) return make_error(sqlite::kIoError, "damaged account row: " + cid.error().message);
  return std::optional<data::Cid>(cid.value());
}

Result<AccountState> read_account(const sqlite::Statement& s) {
  AccountState a;
  a.did = s.text(0);
  a.host = s.text(1);
  a.rev = s.optional_text(2);
  auto head = read_cid(s, 3);
  if (!head) return head.error();
  a.head = head.value();
  auto data = read_cid(s, 4);
  if (!data) return data.error();
  a.data = data.value();
  a.active = s.integer(5) != 0;
  a.status = s.optional_text(6);
  a.desynchronized = s.integer(7) != 0;
  return a;
}

// `scratch` is reused: the binding copies the bytes.
void bind_cid(sqlite::Statement& s, int index, const std::optional<data::Cid>& cid,
              Bytes& scratch) {
  if (!cid) {
    s.bind_null(index);
    return;
  }
  scratch.clear();
  cid->append_bytes(scratch);
  s.bind_blob(index, scratch);
}

// Whether `next` differs from `stored` in the fields a verified commit moves
// (rev, head, data) only: the common case, written by a narrower UPDATE.
bool only_commit_moved(const AccountState& stored, const AccountState& next) {
  return stored.did == next.did && stored.host == next.host && stored.active == next.active &&
         stored.status == next.status && stored.desynchronized == next.desynchronized;
}

constexpr const char* kAccountColumns =
    "did, host, rev, head, data, active, status, desynchronized";

// A statement prepared once and reused. take() lends it until the returned
// guard goes out of scope, which resets it (and its bindings): no read stays
// open (an open read would hold back WAL checkpoints), and the next use finds
// it ready without a second reset.
class Cached {
 public:
  Cached(sqlite::Database& db, std::string sql) : db_(db), sql_(std::move(sql)) {}

  class Lent {
   public:
    explicit Lent(sqlite::Statement& s) : statement_(s) {}
    ~Lent() { statement_.reset(); }
    Lent(const Lent&) = delete;
    Lent& operator=(const Lent&) = delete;
    sqlite::Statement& operator*() const { return statement_; }
    sqlite::Statement* operator->() const { return &statement_; }

   private:
    sqlite::Statement& statement_;
  };

  Lent take() {
    if (!statement_) statement_ = std::make_unique<sqlite::Statement>(db_.handle(), sql_);
    return Lent(*statement_);
  }

 private:
  sqlite::Database& db_;
  std::string sql_;
  std::unique_ptr<sqlite::Statement> statement_;
};

class SqliteAccountStore final : public AccountStore {
 public:
  SqliteAccountStore(sqlite::Database db, std::unique_ptr<EventLog> log)
      : db_(std::move(db)), log_(std::move(log)) {}

  Result<std::optional<AccountState>> account(std::string_view did) override {
    std::lock_guard lock(mutex_);
    if (auto it = cache_.find(did); it != cache_.end()) {
      return std::optional<AccountState>(it->second);
    }
    auto lent = select_account_.take();
    auto& s = *lent;
    if (!s.ok()) return s.error("prepare");
    s.bind(1, did);
    int rc = s.step();
    if (rc == SQLITE_DONE) return std::optional<AccountState>();
    if (rc != SQLITE_ROW) return s.error("account");
    auto found = read_account(s);
    if (!found) return found.error();
    remember(found.value());
    return std::optional<AccountState>(std::move(found).value());
  }

  Result<std::vector<AccountState>> list_accounts(std::string_view after_did, int limit) override {
    std::lock_guard lock(mutex_);
    auto s = db_.prepare(std::string("SELECT ") + kAccountColumns +
                         " FROM account WHERE did > ? ORDER BY did LIMIT ?");
    if (!s.ok()) return s.error("prepare");
    s.bind(1, after_did).bind(2, limit);
    std::vector<AccountState> out;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
      auto a = read_account(s);
      if (!a) return a.error();
      out.push_back(std::move(a).value());
    }
    if (rc != SQLITE_DONE) return s.error("list accounts");
    return out;
  }

  Status put_account(const AccountState& account) override {
    std::lock_guard lock(mutex_);
    auto s = write_account(account);
    if (s) remember(account);
    return s;
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
    // init() started it after every seq ever used, so none is reused, also
    // after pruning and restarts.
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
    std::vector<EventLog::Record> records;
    records.reserve(batch.size());
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const auto& change = batch[i];
      if (change.account && last_change[change.account->did] == i) {
        if (auto s = write_account(*change.account); !s) return s.error();
      }
      if (!change.encode) continue;
      out.push_back({seq, change.encode(seq)});
      records.push_back({seq, change.time_ms, out.back().frame});  // `out` never reallocates
      ++seq;
    }
    if (!hostname.empty()) {
      if (auto s = write_cursor(hostname, host_cursor); !s) return s.error();
    }
    if (!records.empty()) {
      // [relay.host.cursor] The events are on disk (synced) before the
      // transaction that moves the host's cursor past them commits.
      if (auto s = log_->write(records); !s) return s.error();
      if (auto s = write_last_seq(seq - 1); !s) {
        log_->rollback();
        return s.error();
      }
    }
    if (auto s = tx.commit(); !s) {
      log_->rollback();
      return s.error();
    }
    log_->commit();
    next_seq_ = seq;
    for (const auto& [did, i] : last_change) remember(*batch[i].account);
    return out;
  }

  Result<std::vector<StoredEvent>> events_after(std::int64_t after, int limit) override {
    return log_->read_after(after, limit);
  }

  Result<std::int64_t> last_seq() override {
    std::lock_guard lock(mutex_);
    return next_seq_ - 1;  // the last seq used: also once its event is pruned
  }

  Result<std::int64_t> first_seq() override { return log_->first_seq(); }

  Status prune_events(std::int64_t before_time_ms) override { return log_->prune(before_time_ms); }

  // Creates the tables, moves an older version's `event` table into the
  // log, and makes the log and the database agree: events a batch wrote to
  // the log whose transaction never committed (a crash between the two) are
  // cut off, and their seqs are not used again.
  Status init() {
    if (auto s = db_.exec(kSchema); !s) return s;
    if (auto s = migrate_event_table(); !s) return s;
    auto committed = read_last_seq();
    if (!committed) return committed.error();
    const std::int64_t written = log_->last_seq();
    if (written > committed.value()) {
      if (auto s = log_->truncate_after(committed.value()); !s) return s;
      if (auto s = write_last_seq(written); !s) return s;
    }
    next_seq_ = std::max(written, committed.value()) + 1;
    return {};
  }

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

  // Writes the account's row unless it is already as committed: the cache
  // holds exactly the committed rows, so an account found there with only
  // its commit moved (the hot path: a verified #commit) has just those three
  // columns updated, and one found unchanged is not written at all.
  Status write_account(const AccountState& a) {
    if (auto it = cache_.find(a.did); it != cache_.end()) {
      if (it->second == a) return {};
      if (only_commit_moved(it->second, a)) {
        auto lent = update_commit_.take();
        auto& s = *lent;
        s.bind(1, a.rev);
        bind_cid(s, 2, a.head, scratch_);
        bind_cid(s, 3, a.data, scratch_);
        s.bind(4, a.did);
        if (auto r = s.run(); !r) return r;
        if (db_.changes() == 1) return {};
        // Not there after all (no path leads here): written in full below.
      }
    }
    auto lent = upsert_account_.take();
    auto& s = *lent;
    s.bind(1, a.did).bind(2, a.host).bind(3, a.rev);
    bind_cid(s, 4, a.head, scratch_);
    bind_cid(s, 5, a.data, scratch_);
    s.bind(6, a.active ? 1 : 0).bind(7, a.status).bind(8, a.desynchronized ? 1 : 0);
    return s.run();
  }

  Result<std::int64_t> read_last_seq() {
    auto s = db_.prepare("SELECT last_seq FROM sequence WHERE id = 1");
    if (s.step() != SQLITE_ROW) return s.error("last seq");
    return s.integer(0);
  }

  // The accounts' rows as last committed, so that the relay's read of an
  // account before each event is not a query. Bounded: emptied when full.
  void remember(const AccountState& account) {
    if (cache_.size() >= kCachedAccounts && !cache_.count(account.did)) cache_.clear();
    cache_.insert_or_assign(account.did, account);
  }

  Status write_last_seq(std::int64_t seq) {
    auto lent = update_last_seq_.take();
    auto& s = *lent;
    s.bind(1, seq);
    return s.run();
  }

  // An older version kept the log in an `event` table (seq AUTOINCREMENT):
  // its rows are appended to the log in order, then the table is dropped
  // and its highest seq ever used carried over. Resumable: rows the log
  // already has are skipped.
  Status migrate_event_table() {
    {
      auto exists =
          db_.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'event'");
      if (exists.step() != SQLITE_ROW) return {};
    }
    std::int64_t after = log_->last_seq();
    while (true) {
      auto s = db_.prepare(
          "SELECT seq, time_ms, frame FROM event WHERE seq > ? ORDER BY seq LIMIT 1000");
      if (!s.ok()) return s.error("prepare");
      s.bind(1, after);
      std::vector<StoredEvent> rows;
      int rc;
      while ((rc = s.step()) == SQLITE_ROW) rows.push_back({s.integer(0), s.integer(1), s.blob(2)});
      if (rc != SQLITE_DONE) return s.error("events");
      if (rows.empty()) break;
      // One write per run of consecutive seqs (a log segment's are).
      std::vector<EventLog::Record> run;
      for (std::size_t i = 0; i <= rows.size(); ++i) {
        if (!run.empty() && (i == rows.size() || rows[i].seq != run.back().seq + 1)) {
          if (auto w = log_->write(run); !w) return w;
          log_->commit();
          run.clear();
        }
        if (i < rows.size()) run.push_back({rows[i].seq, rows[i].time_ms, rows[i].frame});
      }
      after = rows.back().seq;
    }
    std::int64_t used = after;
    {
      auto s = db_.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'event'");
      if (s.step() == SQLITE_ROW) used = std::max(used, s.integer(0));
    }
    sqlite::Transaction tx(db_);
    if (!tx.began()) return make_error(sqlite::kIoError, "begin failed");
    if (auto s = db_.exec("DROP TABLE event"); !s) return s;
    auto s = db_.prepare("UPDATE sequence SET last_seq = MAX(last_seq, ?) WHERE id = 1");
    s.bind(1, used);
    if (auto r = s.run(); !r) return r;
    return tx.commit();
  }

  Status write_cursor(std::string_view hostname, std::int64_t cursor) {
    auto lent = update_cursor_.take();
    auto& s = *lent;
    s.bind(1, cursor).bind(2, hostname);
    return s.run();
  }

  std::mutex mutex_;
  sqlite::Database db_;
  std::unique_ptr<EventLog> log_;
  std::int64_t next_seq_ = 1;  // set by init()
  Bytes scratch_;              // a CID's bytes while they are bound
  static constexpr std::size_t kCachedAccounts = 10000;
  struct DidHash {
    using is_transparent = void;  // finds by string_view, no copy
    std::size_t operator()(std::string_view did) const {
      return std::hash<std::string_view>{}(did);
    }
  };
  std::unordered_map<std::string, AccountState, DidHash, std::equal_to<>> cache_;
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
  Cached update_commit_{db_, "UPDATE account SET rev = ?, head = ?, data = ? WHERE did = ?"};
  Cached update_cursor_{db_, "UPDATE host SET cursor = ? WHERE hostname = ?"};
  Cached update_last_seq_{db_, "UPDATE sequence SET last_seq = ? WHERE id = 1"};
};

}  // namespace

Result<std::unique_ptr<AccountStore>> open_sqlite_account_store(const std::string& path,
                                                                std::string events_dir,
                                                                EventLogOptions events) {
  // [relay.host.cursor] synchronous=NORMAL: in WAL mode a process crash
  // loses nothing; a power loss may lose the last transactions, and with
  // them the upstream cursor that was committed beside them, so the relay
  // reads those events again from the PDS rather than skipping them. The
  // event log is synced before each transaction, so what the database
  // keeps never runs ahead of it (init() cuts the log back to the database).
  auto db = sqlite::Database::open(path, sqlite::Database::Synchronous::kNormal);
  if (!db) return db.error();
  // The relay is the database's only user: holding its lock for good spares
  // each statement taking and releasing the file locks (several fcntl calls
  // per read), and keeps a second relay off the same folder.
  if (auto s = db.value().exec("PRAGMA locking_mode=EXCLUSIVE"); !s) return s.error();
  if (events_dir.empty()) {
    events_dir = (std::filesystem::path(path).parent_path() / "events").string();
  }
  auto log = EventLog::open(events_dir, events);
  if (!log) return log.error();
  auto store = std::make_unique<SqliteAccountStore>(std::move(db).value(), std::move(log).value());
  if (auto s = store->init(); !s) return s.error();
  return std::unique_ptr<AccountStore>(std::move(store));
}

}  // namespace atproto::relay

// The SQLite PlcStore: one table of operations in acceptance order.
//
//   operations(seq INTEGER PRIMARY KEY AUTOINCREMENT, did, cid, operation
//              (JSON text), nullified (0/1), created_at (RFC 3339, ms, UTC))
//
// One connection behind one mutex: every append is a BEGIN IMMEDIATE
// transaction that reads the DID's log, checks the operation against it and
// writes, so two submissions can never both extend the same head. WAL mode
// with synchronous=FULL: COMMIT returns once the write-ahead log is on disk.
#include <sqlite3.h>

#include <mutex>

#include "atproto/plc/store.hpp"

namespace atproto::plc {

namespace {

using identity::AuditEntry;
using identity::PlcOperation;
using Clock = std::chrono::system_clock;

Error store_error(sqlite3* db, const std::string& what) {
  return make_error("plc.store.io", what + ": " + (db ? sqlite3_errmsg(db) : "no database"));
}

// A prepared statement that finalizes itself, with the binds this store uses.
class Query {
 public:
  Query(sqlite3* db, const char* sql) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) stmt_ = nullptr;
  }
  ~Query() { sqlite3_finalize(stmt_); }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  bool ok() const { return stmt_ != nullptr; }
  bool text(int index, std::string_view value) {
    return sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()),
                             SQLITE_TRANSIENT) == SQLITE_OK;
  }
  bool integer(int index, std::int64_t value) {
    return sqlite3_bind_int64(stmt_, index, value) == SQLITE_OK;
  }
  int step() { return sqlite3_step(stmt_); }
  std::string column_text(int index) const {
    const auto* p = sqlite3_column_text(stmt_, index);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<std::size_t>(sqlite3_column_bytes(stmt_, index)))
             : std::string();
  }
  std::int64_t column_integer(int index) const { return sqlite3_column_int64(stmt_, index); }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS operations ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " did TEXT NOT NULL,"
    " cid TEXT NOT NULL,"
    " operation TEXT NOT NULL,"
    " nullified INTEGER NOT NULL DEFAULT 0,"
    " created_at TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS operations_by_did ON operations (did, seq);"
    "CREATE INDEX IF NOT EXISTS operations_by_time ON operations (created_at);";

// Columns every reading query selects, in this order.
constexpr const char* kColumns = "seq, did, cid, operation, nullified, created_at";

class SqliteStore final : public PlcStore {
 public:
  explicit SqliteStore(sqlite3* db) : db_(db) {}
  ~SqliteStore() override { sqlite3_close(db_); }
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  Status exec(const char* sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
      std::string text = message ? message : "unknown error";
      sqlite3_free(message);
      return make_error("plc.store.io", std::string(sql).substr(0, 40) + ": " + text);
    }
    return {};
  }

  Result<std::vector<AuditEntry>> audit_log(std::string_view did) override {
    std::lock_guard lock(mutex_);
    return read_log(did);
  }

  Result<StoredOperation> append(std::string_view did, const PlcOperation& operation,
                                 const SubmissionCheck& check) override {
    auto cid = identity::plc_operation_cid(operation);
    if (!cid.ok()) return cid.error();
    std::lock_guard lock(mutex_);
    if (auto st = exec("BEGIN IMMEDIATE"); !st.ok()) return st.error();
    auto result = append_in_transaction(did, operation, *cid, check);
    if (!result.ok()) {
      (void)exec("ROLLBACK");
      return result;
    }
    // [plc.directory.durable] Acknowledged only after this COMMIT returns.
    if (auto st = exec("COMMIT"); !st.ok()) {
      (void)exec("ROLLBACK");
      return st.error();
    }
    return result;
  }

  Result<std::vector<StoredOperation>> export_after_seq(std::int64_t after,
                                                        std::size_t count) override {
    std::lock_guard lock(mutex_);
    std::string sql =
        std::string("SELECT ") + kColumns + " FROM operations WHERE seq > ? ORDER BY seq LIMIT ?";
    Query q(db_, sql.c_str());
    if (!q.ok() || !q.integer(1, after) || !q.integer(2, static_cast<std::int64_t>(count))) {
      return store_error(db_, "export");
    }
    return read_rows(q);
  }

  Result<std::vector<StoredOperation>> export_after_time(std::optional<Clock::time_point> after,
                                                         std::size_t count) override {
    std::lock_guard lock(mutex_);
    // createdAt is stored in one fixed-width UTC form, so text order is time
    // order; stored instants are whole milliseconds, so "later than `after`"
    // is "later than `after` truncated to the millisecond".
    std::string bound = after ? identity::format_created_at(*after) : std::string();
    std::string sql = std::string("SELECT ") + kColumns +
                      " FROM operations WHERE created_at > ? ORDER BY created_at, seq LIMIT ?";
    Query q(db_, sql.c_str());
    if (!q.ok() || !q.text(1, bound) || !q.integer(2, static_cast<std::int64_t>(count))) {
      return store_error(db_, "export");
    }
    return read_rows(q);
  }

  Status health() override {
    std::lock_guard lock(mutex_);
    return exec("SELECT 1");
  }

 private:
  Result<std::vector<StoredOperation>> read_rows(Query& q) {
    std::vector<StoredOperation> out;
    for (;;) {
      int rc = q.step();
      if (rc == SQLITE_DONE) return out;
      if (rc != SQLITE_ROW) return store_error(db_, "read");
      StoredOperation row;
      row.seq = q.column_integer(0);
      row.entry.did = q.column_text(1);
      row.entry.cid = q.column_text(2);
      auto doc = nlohmann::json::parse(q.column_text(3), nullptr, false);
      auto op = identity::parse_plc_operation(doc);
      if (!op.ok()) {
        return make_error("plc.store.corrupt", "stored operation " + row.entry.cid + " of " +
                                                   row.entry.did +
                                                   " does not parse: " + op.error().message);
      }
      row.entry.operation = std::move(op).value();
      row.entry.nullified = q.column_integer(4) != 0;
      row.entry.created_at = q.column_text(5);
      out.push_back(std::move(row));
    }
  }

  Result<std::vector<AuditEntry>> read_log(std::string_view did) {
    std::string sql =
        std::string("SELECT ") + kColumns + " FROM operations WHERE did = ? ORDER BY seq";
    Query q(db_, sql.c_str());
    if (!q.ok() || !q.text(1, did)) return store_error(db_, "audit log");
    auto rows = read_rows(q);
    if (!rows.ok()) return rows.error();
    std::vector<AuditEntry> log;
    log.reserve(rows->size());
    for (auto& row : rows.value()) log.push_back(std::move(row.entry));
    return log;
  }

  // The acceptance instant: now, but strictly after the latest createdAt
  // stored (clocks step back; two operations may land in one millisecond).
  Result<Clock::time_point> next_created_at() {
    auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(Clock::now());
    Query q(db_, "SELECT max(created_at) FROM operations");
    if (!q.ok()) return store_error(db_, "clock");
    if (q.step() != SQLITE_ROW) return store_error(db_, "clock");
    std::string latest = q.column_text(0);
    if (latest.empty()) return Clock::time_point(now);
    auto last = identity::parse_created_at(latest);
    if (!last.ok()) return last.error();
    auto floor = std::chrono::time_point_cast<std::chrono::milliseconds>(*last) +
                 std::chrono::milliseconds(1);
    return Clock::time_point(std::max(now, floor));
  }

  Result<StoredOperation> append_in_transaction(std::string_view did, const PlcOperation& operation,
                                                const std::string& cid,
                                                const SubmissionCheck& check) {
    auto log = read_log(did);
    if (!log.ok()) return log.error();
    auto now = next_created_at();
    if (!now.ok()) return now.error();
    auto plan = check(*log, *now);
    if (!plan.ok()) return plan.error();

    StoredOperation stored;
    stored.entry.did = std::string(did);
    stored.entry.operation = operation;
    stored.entry.cid = cid;
    stored.entry.created_at = identity::format_created_at(*now);
    Query insert(db_,
                 "INSERT INTO operations (did, cid, operation, nullified, created_at) "
                 "VALUES (?, ?, ?, 0, ?)");
    std::string text = identity::to_json(operation).dump();
    if (!insert.ok() || !insert.text(1, did) || !insert.text(2, cid) || !insert.text(3, text) ||
        !insert.text(4, stored.entry.created_at) || insert.step() != SQLITE_DONE) {
      return store_error(db_, "insert");
    }
    stored.seq = sqlite3_last_insert_rowid(db_);
    // [plc.directory.recovery] The overridden entries are nullified in the
    // same transaction that stores the recovery operation.
    for (std::size_t index : plan->nullifies) {
      if (index >= log->size()) {
        return make_error("plc.store.plan", "nullified index out of range");
      }
      Query update(db_, "UPDATE operations SET nullified = 1 WHERE did = ? AND cid = ?");
      if (!update.ok() || !update.text(1, did) || !update.text(2, (*log)[index].cid) ||
          update.step() != SQLITE_DONE) {
        return store_error(db_, "nullify");
      }
    }
    return stored;
  }

  sqlite3* db_;
  std::mutex mutex_;
};

}  // namespace

Result<std::unique_ptr<PlcStore>> open_sqlite_store(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    Error e = store_error(db, "cannot open " + path);
    sqlite3_close(db);
    return e;
  }
  auto store = std::make_unique<SqliteStore>(db);
  // [plc.directory.durable] WAL with full syncs: a committed operation
  // survives a crash of the process and of the machine.
  for (const char* sql : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
                          "PRAGMA busy_timeout=5000", kSchema}) {
    if (auto st = store->exec(sql); !st.ok()) return st.error();
  }
  return std::unique_ptr<PlcStore>(std::move(store));
}

}  // namespace atproto::plc

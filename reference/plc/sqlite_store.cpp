// The SQLite PlcStore: one table of operations in acceptance order.
//
//   operations(seq INTEGER PRIMARY KEY AUTOINCREMENT, did, cid, operation
//              (JSON text), nullified (0/1), created_at (RFC 3339, ms, UTC))
//
// One connection behind one mutex: every append is a BEGIN IMMEDIATE
// transaction that reads the DID's log, checks the operation against it and
// writes, so two submissions can never both extend the same head. WAL mode
// with synchronous=FULL: COMMIT returns once the write-ahead log is on disk.
#include <mutex>

#include "atproto/common/sqlite.hpp"
#include "atproto/plc/store.hpp"

namespace atproto::plc {

namespace {

using identity::AuditEntry;
using identity::PlcOperation;
using Clock = std::chrono::system_clock;

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
  explicit SqliteStore(sqlite::Database db) : db_(std::move(db)) {}

  Status exec(const char* sql) { return db_.exec(sql); }

  Result<std::vector<AuditEntry>> audit_log(std::string_view did) override {
    std::lock_guard lock(mutex_);
    return read_log(did);
  }

  Result<StoredOperation> append(std::string_view did, const PlcOperation& operation,
                                 const SubmissionCheck& check) override {
    auto cid = identity::plc_operation_cid(operation);
    if (!cid.ok()) return cid.error();
    std::lock_guard lock(mutex_);
    sqlite::Transaction tx(db_);
    if (!tx.began()) return make_error(sqlite::kIoError, "append: cannot begin a transaction");
    auto result = append_in_transaction(did, operation, *cid, check);
    if (!result.ok()) return result;  // the guard rolls back
    // [plc.directory.durable] Acknowledged only after this COMMIT returns.
    if (auto st = tx.commit(); !st.ok()) return st.error();
    return result;
  }

  Result<std::vector<StoredOperation>> export_after_seq(std::int64_t after,
                                                        std::size_t count) override {
    std::lock_guard lock(mutex_);
    std::string sql =
        std::string("SELECT ") + kColumns + " FROM operations WHERE seq > ? ORDER BY seq LIMIT ?";
    auto q = db_.prepare(sql);
    if (!q.ok()) return q.error("export");
    q.bind(1, after).bind(2, static_cast<std::int64_t>(count));
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
    auto q = db_.prepare(sql);
    if (!q.ok()) return q.error("export");
    q.bind(1, bound).bind(2, static_cast<std::int64_t>(count));
    return read_rows(q);
  }

  Status health() override {
    std::lock_guard lock(mutex_);
    return exec("SELECT 1");
  }

 private:
  Result<std::vector<StoredOperation>> read_rows(sqlite::Statement& q) {
    std::vector<StoredOperation> out;
    for (;;) {
      int rc = q.step();
      if (rc == SQLITE_DONE) return out;
      if (rc != SQLITE_ROW) return q.error("read");
      StoredOperation row;
      row.seq = q.integer(0);
      row.entry.did = q.text(1);
      row.entry.cid = q.text(2);
      auto doc = nlohmann::json::parse(q.text(3), nullptr, false);
      auto op = identity::parse_plc_operation(doc);
      if (!op.ok()) {
        return make_error("plc.store.corrupt", "stored operation " + row.entry.cid + " of " +
                                                   row.entry.did +
                                                   " does not parse: " + op.error().message);
      }
      row.entry.operation = std::move(op).value();
      row.entry.nullified = q.integer(4) != 0;
      row.entry.created_at = q.text(5);
      out.push_back(std::move(row));
    }
  }

  Result<std::vector<AuditEntry>> read_log(std::string_view did) {
    std::string sql =
        std::string("SELECT ") + kColumns + " FROM operations WHERE did = ? ORDER BY seq";
    auto q = db_.prepare(sql);
    if (!q.ok()) return q.error("audit log");
    q.bind(1, did);
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
    auto q = db_.prepare("SELECT max(created_at) FROM operations");
    if (!q.ok() || q.step() != SQLITE_ROW) return q.error("clock");
    std::string latest = q.text(0);
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
    auto insert = db_.prepare(
        "INSERT INTO operations (did, cid, operation, nullified, created_at) "
        "VALUES (?, ?, ?, 0, ?)");
    insert.bind(1, did).bind(2, cid).bind(3, identity::to_json(operation).dump());
    insert.bind(4, stored.entry.created_at);
    if (auto st = insert.run(); !st.ok()) return st.error();
    stored.seq = db_.last_insert_rowid();
    // [plc.directory.recovery] The overridden entries are nullified in the
    // same transaction that stores the recovery operation.
    for (std::size_t index : plan->nullifies) {
      if (index >= log->size()) {
        return make_error("plc.store.plan", "nullified index out of range");
      }
      auto update = db_.prepare("UPDATE operations SET nullified = 1 WHERE did = ? AND cid = ?");
      update.bind(1, did).bind(2, (*log)[index].cid);
      if (auto st = update.run(); !st.ok()) return st.error();
    }
    return stored;
  }

  sqlite::Database db_;
  std::mutex mutex_;
};

}  // namespace

Result<std::unique_ptr<PlcStore>> open_sqlite_store(const std::string& path) {
  // [plc.directory.durable] The wrapper opens in WAL mode with full syncs:
  // a committed operation survives a crash of the process and the machine.
  auto db = sqlite::Database::open(path);
  if (!db.ok()) return db.error();
  auto store = std::make_unique<SqliteStore>(std::move(db).value());
  if (auto st = store->exec(kSchema); !st.ok()) return st.error();
  return std::unique_ptr<PlcStore>(std::move(store));
}

}  // namespace atproto::plc

#include "atproto/repo/sqlite_block_store.hpp"

#include <sqlite3.h>

namespace atproto::repo {

namespace {

Error io_error(sqlite3* db, const std::string& what) {
  return make_error("repo.store.io", what + ": " + (db ? sqlite3_errmsg(db) : "no database"));
}

// A prepared statement that finalizes itself.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) stmt_ = nullptr;
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  sqlite3_stmt* get() const { return stmt_; }
  bool bind_blob(int index, std::span<const std::uint8_t> bytes) {
    // A null pointer would bind SQL NULL; an empty block is a zero-length blob.
    if (bytes.empty()) return sqlite3_bind_zeroblob(stmt_, index, 0) == SQLITE_OK;
    return sqlite3_bind_blob(stmt_, index, bytes.data(), static_cast<int>(bytes.size()),
                             SQLITE_TRANSIENT) == SQLITE_OK;
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace

Result<std::unique_ptr<SqliteBlockStore>> SqliteBlockStore::open(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    Error e = io_error(db, "cannot open " + path);
    sqlite3_close(db);
    return e;
  }
  std::unique_ptr<SqliteBlockStore> store(new SqliteBlockStore(db));
  if (auto st = store->exec("PRAGMA journal_mode=WAL"); !st.ok()) return st.error();
  if (auto st = store->exec(
          "CREATE TABLE IF NOT EXISTS blocks (cid BLOB PRIMARY KEY, bytes BLOB NOT NULL) "
          "WITHOUT ROWID");
      !st.ok()) {
    return st.error();
  }
  return store;
}

SqliteBlockStore::~SqliteBlockStore() { sqlite3_close(db_); }

Status SqliteBlockStore::exec(const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message ? message : "unknown error";
    sqlite3_free(message);
    return make_error("repo.store.io", std::string(sql) + ": " + text);
  }
  return {};
}

Result<std::optional<Bytes>> SqliteBlockStore::get(const data::Cid& cid) const {
  Statement stmt(db_, "SELECT bytes FROM blocks WHERE cid = ?");
  auto key = cid.to_bytes();
  if (!stmt.get() || !stmt.bind_blob(1, key)) return io_error(db_, "get");
  int rc = sqlite3_step(stmt.get());
  if (rc == SQLITE_DONE) return std::optional<Bytes>{};
  if (rc != SQLITE_ROW) return io_error(db_, "get");
  const auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt.get(), 0));
  auto size = static_cast<std::size_t>(sqlite3_column_bytes(stmt.get(), 0));
  if (size == 0) return std::optional<Bytes>{Bytes{}};
  return std::optional<Bytes>{Bytes(data, data + size)};
}

Result<bool> SqliteBlockStore::has(const data::Cid& cid) const {
  Statement stmt(db_, "SELECT 1 FROM blocks WHERE cid = ?");
  auto key = cid.to_bytes();
  if (!stmt.get() || !stmt.bind_blob(1, key)) return io_error(db_, "has");
  int rc = sqlite3_step(stmt.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return io_error(db_, "has");
}

Status SqliteBlockStore::put(const data::Cid& cid, std::span<const std::uint8_t> bytes) {
  Statement stmt(db_, "INSERT OR IGNORE INTO blocks (cid, bytes) VALUES (?, ?)");
  auto key = cid.to_bytes();
  if (!stmt.get() || !stmt.bind_blob(1, key) || !stmt.bind_blob(2, bytes)) {
    return io_error(db_, "put");
  }
  if (sqlite3_step(stmt.get()) != SQLITE_DONE) return io_error(db_, "put");
  return {};
}

Status SqliteBlockStore::remove(const data::Cid& cid) {
  Statement stmt(db_, "DELETE FROM blocks WHERE cid = ?");
  auto key = cid.to_bytes();
  if (!stmt.get() || !stmt.bind_blob(1, key)) return io_error(db_, "remove");
  if (sqlite3_step(stmt.get()) != SQLITE_DONE) return io_error(db_, "remove");
  return {};
}

Status SqliteBlockStore::put_many(const std::vector<std::pair<data::Cid, Bytes>>& blocks) {
  if (auto st = exec("BEGIN"); !st.ok()) return st;
  for (const auto& [cid, bytes] : blocks) {
    if (auto st = put(cid, bytes); !st.ok()) {
      (void)exec("ROLLBACK");
      return st;
    }
  }
  return exec("COMMIT");
}

}  // namespace atproto::repo

#include "atproto/repo/sqlite_block_store.hpp"

namespace atproto::repo {

Result<std::unique_ptr<SqliteBlockStore>> SqliteBlockStore::open(const std::string& path) {
  auto db = sqlite::Database::open(path);
  if (!db) return db.error();
  std::unique_ptr<SqliteBlockStore> store(new SqliteBlockStore(std::move(db).value()));
  if (auto st = store->db_.exec(
          "CREATE TABLE IF NOT EXISTS blocks (cid BLOB PRIMARY KEY, bytes BLOB NOT NULL) "
          "WITHOUT ROWID");
      !st.ok()) {
    return st.error();
  }
  return store;
}

Result<std::optional<Bytes>> SqliteBlockStore::get(const data::Cid& cid) const {
  auto stmt = db_.prepare("SELECT bytes FROM blocks WHERE cid = ?");
  if (!stmt.ok()) return stmt.error("get");
  stmt.bind_blob(1, cid.to_bytes());
  int rc = stmt.step();
  if (rc == SQLITE_DONE) return std::optional<Bytes>{};
  if (rc != SQLITE_ROW) return stmt.error("get");
  return std::optional<Bytes>{stmt.blob(0)};
}

Result<bool> SqliteBlockStore::has(const data::Cid& cid) const {
  auto stmt = db_.prepare("SELECT 1 FROM blocks WHERE cid = ?");
  if (!stmt.ok()) return stmt.error("has");
  stmt.bind_blob(1, cid.to_bytes());
  int rc = stmt.step();
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return stmt.error("has");
}

Status SqliteBlockStore::put(const data::Cid& cid, std::span<const std::uint8_t> bytes) {
  auto stmt = db_.prepare("INSERT OR IGNORE INTO blocks (cid, bytes) VALUES (?, ?)");
  if (!stmt.ok()) return stmt.error("put");
  stmt.bind_blob(1, cid.to_bytes()).bind_blob(2, bytes);
  return stmt.run();
}

Status SqliteBlockStore::remove(const data::Cid& cid) {
  auto stmt = db_.prepare("DELETE FROM blocks WHERE cid = ?");
  if (!stmt.ok()) return stmt.error("remove");
  stmt.bind_blob(1, cid.to_bytes());
  return stmt.run();
}

Status SqliteBlockStore::put_many(const std::vector<std::pair<data::Cid, Bytes>>& blocks) {
  sqlite::Transaction tx(db_);
  if (!tx.began()) return make_error(sqlite::kIoError, "put_many: cannot begin a transaction");
  for (const auto& [cid, bytes] : blocks) {
    if (auto st = put(cid, bytes); !st.ok()) return st;
  }
  return tx.commit();
}

}  // namespace atproto::repo

// SQLite block store: the on-disk store a PDS keeps repositories in.
// One table, blocks(cid BLOB PRIMARY KEY, bytes BLOB), keyed by the binary
// CID. Errors from SQLite come back as repo.store.io with SQLite's message.
#pragma once

#include <memory>
#include <string>

#include "atproto/repo/block_store.hpp"

struct sqlite3;

namespace atproto::repo {

class SqliteBlockStore final : public BlockStore {
 public:
  // Opens (creating if needed) the database at `path`; ":memory:" works too.
  static Result<std::unique_ptr<SqliteBlockStore>> open(const std::string& path);
  ~SqliteBlockStore() override;
  SqliteBlockStore(const SqliteBlockStore&) = delete;
  SqliteBlockStore& operator=(const SqliteBlockStore&) = delete;

  Result<std::optional<Bytes>> get(const data::Cid& cid) const override;
  Result<bool> has(const data::Cid& cid) const override;
  Status put(const data::Cid& cid, std::span<const std::uint8_t> bytes) override;
  Status remove(const data::Cid& cid) override;
  // All in one transaction.
  Status put_many(const std::vector<std::pair<data::Cid, Bytes>>& blocks) override;

 private:
  explicit SqliteBlockStore(sqlite3* db) : db_(db) {}
  Status exec(const char* sql);
  sqlite3* db_;
};

}  // namespace atproto::repo

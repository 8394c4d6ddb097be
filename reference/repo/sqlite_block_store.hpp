// SQLite block store: the on-disk store a PDS keeps repositories in.
// One table, blocks(cid BLOB PRIMARY KEY, bytes BLOB), keyed by the binary
// CID. Errors from SQLite come back as storage.io with SQLite's message
// (reference/common/sqlite.hpp, the wrapper every on-disk store shares).
#pragma once

#include <memory>
#include <string>

#include "atproto/common/sqlite.hpp"

#include "atproto/repo/block_store.hpp"

namespace atproto::repo {

class SqliteBlockStore final : public BlockStore {
 public:
  // Opens (creating if needed) the database at `path`; ":memory:" works too.
  static Result<std::unique_ptr<SqliteBlockStore>> open(const std::string& path);
  SqliteBlockStore(const SqliteBlockStore&) = delete;
  SqliteBlockStore& operator=(const SqliteBlockStore&) = delete;

  Result<std::optional<Bytes>> get(const data::Cid& cid) const override;
  Result<bool> has(const data::Cid& cid) const override;
  Status put(const data::Cid& cid, std::span<const std::uint8_t> bytes) override;
  Status remove(const data::Cid& cid) override;
  // All in one transaction.
  Status put_many(const std::vector<std::pair<data::Cid, Bytes>>& blocks) override;

 private:
  explicit SqliteBlockStore(sqlite::Database db) : db_(std::move(db)) {}
  // Reads prepare statements too; the wrapper's methods are not const.
  mutable sqlite::Database db_;
};

}  // namespace atproto::repo

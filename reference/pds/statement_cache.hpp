// Prepared statements kept across calls: the write path runs the same few
// statements for every record, and preparing them each time would cost more
// than running them. Not thread-safe: its owner uses it with db_mutex held.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "atproto/common/sqlite.hpp"

namespace atproto::pds {

class StatementCache {
 public:
  explicit StatementCache(sqlite::Database& db) : db_(&db) {}

  // The statement for `sql`, reset and with its bindings cleared. A
  // statement that failed to prepare is not kept (its ok() is false and the
  // caller reports the error); the next call tries again.
  sqlite::Statement& get(std::string_view sql) {
    auto it = statements_.find(std::string(sql));
    if (it != statements_.end()) {
      it->second->reset();
      return *it->second;
    }
    auto statement = std::make_unique<sqlite::Statement>(db_->handle(), sql);
    if (!statement->ok()) {
      failed_ = std::move(statement);
      return *failed_;
    }
    auto& out = *statement;
    statements_.emplace(std::string(sql), std::move(statement));
    return out;
  }

 private:
  sqlite::Database* db_;
  std::unordered_map<std::string, std::unique_ptr<sqlite::Statement>> statements_;
  std::unique_ptr<sqlite::Statement> failed_;
};

// Several reads as one read transaction (a savepoint, so it nests inside a
// write transaction too). Outside a transaction every statement takes and
// drops SQLite's WAL read lock on its own, a few system calls each: a
// getRepo of 2,000 records paid that 2,000 times. The caller holds db_mutex
// for the guard's whole life.
class ReadTransaction {
 public:
  explicit ReadTransaction(StatementCache& statements) : statements_(&statements) {
    auto& begin = statements_->get("SAVEPOINT pds_read");
    began_ = begin.run().ok();
    begin.reset();
  }
  ~ReadTransaction() {
    if (!began_) return;
    auto& release = statements_->get("RELEASE pds_read");
    (void)release.run();
    release.reset();
  }
  ReadTransaction(const ReadTransaction&) = delete;
  ReadTransaction& operator=(const ReadTransaction&) = delete;

 private:
  StatementCache* statements_;
  bool began_ = false;
};

}  // namespace atproto::pds

// A thin SQLite wrapper shared by the services that keep state on disk (the
// PDS; the PLC directory and the repo layer's block store keep older private
// copies until they move onto it). One connection, prepared statements that
// finalize themselves, and a transaction guard. Header-only so that layers
// which link SQLite can use it without another library.
//
// Durability: open() puts the database in WAL mode; with synchronous=FULL
// (the default) COMMIT returns only once the write-ahead log is on disk, so
// nothing acknowledged is lost even if the machine crashes; see
// Database::Synchronous for the faster setting that survives kill -9 only.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "atproto/common/result.hpp"

namespace atproto::sqlite {

// Error code for every storage failure: the message carries SQLite's text.
inline constexpr const char* kIoError = "storage.io";

class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr) !=
        SQLITE_OK)
      stmt_ = nullptr;
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  bool ok() const { return stmt_ != nullptr; }
  Error error(std::string_view what) const {
    return make_error(kIoError, std::string(what) + ": " + sqlite3_errmsg(db_));
  }

  // Binds are 1-based, as in SQLite.
  Statement& bind(int index, std::string_view text) {
    sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
  Statement& bind(int index, const std::string& text) {
    return bind(index, std::string_view(text));
  }
  Statement& bind(int index, std::int64_t value) {
    sqlite3_bind_int64(stmt_, index, value);
    return *this;
  }
  Statement& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
  Statement& bind_blob(int index, std::span<const std::uint8_t> bytes) {
    // A null pointer would bind SQL NULL: an empty span is a zero-length blob.
    if (bytes.empty()) {
      sqlite3_bind_zeroblob(stmt_, index, 0);
      return *this;
    }
    sqlite3_bind_blob(stmt_, index, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& bind_null(int index) {
    sqlite3_bind_null(stmt_, index);
    return *this;
  }
  template <typename T>
  Statement& bind(int index, const std::optional<T>& value) {
    return value ? bind(index, *value) : bind_null(index);
  }

  // SQLITE_ROW, SQLITE_DONE, or an error code.
  int step() { return sqlite3_step(stmt_); }
  // Steps once and expects SQLITE_DONE (an INSERT, UPDATE, DELETE).
  Status run() {
    if (!ok()) return error("prepare");
    if (step() != SQLITE_DONE) return error("step");
    return {};
  }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  bool is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  std::int64_t integer(int column) const { return sqlite3_column_int64(stmt_, column); }
  std::string text(int column) const {
    const auto* p = sqlite3_column_text(stmt_, column);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)))
             : std::string();
  }
  std::optional<std::string> optional_text(int column) const {
    if (is_null(column)) return std::nullopt;
    return text(column);
  }
  std::vector<std::uint8_t> blob(int column) const {
    const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_, column));
    return p ? std::vector<std::uint8_t>(
                   p, p + static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)))
             : std::vector<std::uint8_t>();
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

class Database {
 public:
  // How COMMIT meets the disk. kFull (the default): COMMIT returns once the
  // write-ahead log is synced, so an acknowledged write survives a crash of
  // the machine. kNormal (WAL mode only): COMMIT returns once the log is
  // written to the operating system; an acknowledged write survives the
  // process being killed (kill -9) but the last ones may be lost if the
  // machine loses power. https://www.sqlite.org/pragma.html#pragma_synchronous
  enum class Synchronous { kFull, kNormal };

  // Opens (creating if needed) the file at `path` (":memory:" works) in WAL
  // mode with the given synchronous setting and foreign keys on. `vfs`
  // names a SQLite VFS (nullptr: the default). "unix-excl" holds the file
  // for this process alone: no other process can open it meanwhile, and in
  // return the locks between this process's connections and the WAL index
  // stay in memory, with no system call per transaction.
  // https://www.sqlite.org/vfs.html#standard_unix_vfses
  static Result<Database> open(const std::string& path,
                               Synchronous synchronous = Synchronous::kFull,
                               const char* vfs = nullptr) {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path.c_str(), &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        vfs) != SQLITE_OK) {
      std::string message = db ? sqlite3_errmsg(db) : "out of memory";
      sqlite3_close(db);
      return make_error(kIoError, "open " + path + ": " + message);
    }
    Database out(db);
    sqlite3_busy_timeout(db, 5000);
    const char* sync_pragma =
        synchronous == Synchronous::kFull ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL";
    for (const char* pragma : {"PRAGMA journal_mode=WAL", sync_pragma, "PRAGMA foreign_keys=ON"}) {
      if (auto s = out.exec(pragma); !s) return s.error();
    }
    return out;
  }

  Database(Database&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}
  Database& operator=(Database&& other) noexcept {
    if (this != &other) {
      sqlite3_close(db_);
      db_ = std::exchange(other.db_, nullptr);
    }
    return *this;
  }
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database() { sqlite3_close(db_); }

  // One or more statements without results (schema, pragmas).
  Status exec(std::string_view sql) {
    std::string owned(sql);
    char* message = nullptr;
    if (sqlite3_exec(db_, owned.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
      std::string text = message ? message : sqlite3_errmsg(db_);
      sqlite3_free(message);
      return make_error(kIoError, text);
    }
    return {};
  }
  Statement prepare(std::string_view sql) { return Statement(db_, sql); }
  std::int64_t last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
  int changes() const { return sqlite3_changes(db_); }
  sqlite3* handle() const { return db_; }

 private:
  explicit Database(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
};

// BEGIN IMMEDIATE on construction; ROLLBACK on destruction unless commit()
// succeeded. Nested use is a bug (SQLite has no nested BEGIN).
class Transaction {
 public:
  explicit Transaction(Database& db) : db_(&db) { began_ = db.exec("BEGIN IMMEDIATE").ok(); }
  ~Transaction() {
    if (began_ && !done_) (void)db_->exec("ROLLBACK");
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  bool began() const { return began_; }
  Status commit() {
    if (!began_) return make_error(kIoError, "transaction did not begin");
    auto s = db_->exec("COMMIT");
    if (s) done_ = true;
    return s;
  }

 private:
  Database* db_;
  bool began_ = false;
  bool done_ = false;
};

}  // namespace atproto::sqlite

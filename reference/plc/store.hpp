// Storage of a PLC directory: the audit log of every DID and the global
// order of accepted operations (for /export). A small interface so that a
// directory that outgrows one machine can put it on another database; the
// one we ship is SQLite (sqlite_store.cpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "atproto/common/result.hpp"
#include "atproto/identity/plc.hpp"

namespace atproto::plc {

// One accepted operation with its place in the directory's global order.
struct StoredOperation {
  std::int64_t seq = 0;  // strictly increasing over the whole directory
  identity::AuditEntry entry;
};

// Decides, inside the store's write transaction, whether `operation` may
// extend `log` (the DID's audit log as stored right now) when accepted at
// `now`. Returns the entries it nullifies, or the error to answer with.
using SubmissionCheck = std::function<Result<identity::SubmissionPlan>(
    const std::vector<identity::AuditEntry>& log, std::chrono::system_clock::time_point now)>;

class PlcStore {
 public:
  virtual ~PlcStore() = default;

  // The DID's audit log in the order accepted, nullified entries included;
  // empty for a DID never registered.
  virtual Result<std::vector<identity::AuditEntry>> audit_log(std::string_view did) = 0;

  // [plc.directory.no-fork] Atomically: reads the DID's log, runs `check`
  // on it, and when it passes appends the operation and marks the entries
  // it names nullified, in one transaction, serialized with every other
  // append. [plc.directory.durable] Returns only after the transaction has
  // committed durably. `now` handed to `check` is also the entry's
  // createdAt; it is strictly later than every createdAt already stored, so
  // that createdAt alone orders and pages the export.
  virtual Result<StoredOperation> append(std::string_view did,
                                         const identity::PlcOperation& operation,
                                         const SubmissionCheck& check) = 0;

  // Up to `count` operations with seq > after, in seq order.
  virtual Result<std::vector<StoredOperation>> export_after_seq(std::int64_t after,
                                                                std::size_t count) = 0;
  // Up to `count` operations created strictly after `after` (all when
  // nullopt), in createdAt order.
  virtual Result<std::vector<StoredOperation>> export_after_time(
      std::optional<std::chrono::system_clock::time_point> after, std::size_t count) = 0;

  // Whether the storage answers (for /_health).
  virtual Status health() = 0;
};

// Opens (creating if needed) the SQLite database at `path` in WAL mode with
// full synchronous commits. Error code: storage.io.
Result<std::unique_ptr<PlcStore>> open_sqlite_store(const std::string& path);

}  // namespace atproto::plc

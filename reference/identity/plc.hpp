// did:plc operations and audit logs.
// https://web.plc.directory/spec/v0.1/did-plc (shared/atproto-spec/did-plc.md)
//
// API CONTRACT (integration note, remove when implemented): declared here
// first so that the PLC directory server can be written in parallel with the
// library. The plc-lib work implements it (plc.cpp, audit_log.cpp, ...) and
// may extend it; renaming anything here must be said in its report.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "atproto/common/result.hpp"
#include "atproto/crypto/keys.hpp"
#include "atproto/identity/did_document.hpp"

namespace atproto::identity {

enum class PlcOperationType { kOperation, kTombstone, kLegacyCreate };

struct PlcService {
  std::string type;
  std::string endpoint;
};

// One signed (or, before signing, unsigned) operation. For kTombstone only
// prev and sig are meaningful; for kLegacyCreate the legacy fields are
// mapped to the regular ones when the document is rendered.
struct PlcOperation {
  PlcOperationType type = PlcOperationType::kOperation;
  std::vector<std::string> rotation_keys;                  // did:key, priority order
  std::map<std::string, std::string> verification_methods;  // name -> did:key
  std::vector<std::string> also_known_as;
  std::map<std::string, PlcService> services;
  std::optional<std::string> prev;  // CID string; nullopt for a genesis operation
  std::string sig;                  // base64url, no padding; "" when unsigned
  // kLegacyCreate only:
  std::string signing_key, recovery_key, handle, service;
};

// Strict parse of an operation's JSON form; every failure names its rule.
Result<PlcOperation> parse_plc_operation(const nlohmann::json& operation);
nlohmann::json to_json(const PlcOperation& operation);
// DAG-CBOR of the operation without its `sig` field: the bytes that are signed.
Result<std::vector<std::uint8_t>> unsigned_operation_bytes(const PlcOperation& operation);
// Signs in place with a rotation key (low-S, base64url without padding).
Status sign_plc_operation(PlcOperation& operation, const crypto::PrivateKey& rotation_key);
// CID (string form) of the signed operation's DAG-CBOR.
Result<std::string> plc_operation_cid(const PlcOperation& operation);
// did:plc:<24 chars> derived from a signed genesis operation.
Result<std::string> did_for_genesis(const PlcOperation& genesis);

// One entry of a PLC directory's audit log (/{did}/log/audit).
struct AuditEntry {
  std::string did;
  PlcOperation operation;
  std::string cid;
  bool nullified = false;
  std::string created_at;  // RFC 3339 with milliseconds, as the directory wrote it
};
Result<std::vector<AuditEntry>> parse_audit_log(const nlohmann::json& log);
nlohmann::json to_json(const AuditEntry& entry);

// Validates a whole audit log for `did` (every rule of the did:plc spec,
// each failure naming its rule) and returns the DID document of the last
// valid, non-nullified operation. A DID whose last operation is a tombstone
// yields an error with code "plc.tombstoned".
Result<DidDocument> validate_audit_log(std::string_view did, const std::vector<AuditEntry>& log);

// The document an operation describes for `did` (legacy create mapped).
Result<DidDocument> document_for_operation(std::string_view did, const PlcOperation& operation);

// Directory side: may `operation`, submitted at `now`, extend the stored
// `log` of `did` (empty for a new DID, in which case it must be a genesis
// operation whose derived DID is `did`)? On success lists the indexes of the
// entries it nullifies (a recovery by a higher-priority rotation key within
// 72 hours, exactly 72 h included).
struct SubmissionPlan {
  std::vector<std::size_t> nullifies;
};
Result<SubmissionPlan> check_plc_submission(std::string_view did,
                                            const std::vector<AuditEntry>& log,
                                            const PlcOperation& operation,
                                            std::chrono::system_clock::time_point now);

}  // namespace atproto::identity

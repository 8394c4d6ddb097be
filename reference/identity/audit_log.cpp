// The rules of a did:plc audit log, one function per rule, each failing with
// the requirement id it enforces; the directory's check of a submission; and
// the DID document a valid log resolves to.
// Spec: https://web.plc.directory/spec/v0.1/did-plc#operation-serialization-signing-and-validation
// and #key-rotation--account-recovery, #audit-logs.
#include <cstdio>
#include <set>
#include <unordered_map>

#include "atproto/data/base64.hpp"
#include "atproto/data/cid.hpp"
#include "atproto/data/multibase.hpp"
#include "atproto/identity/plc.hpp"
#include "atproto/syntax/datetime.hpp"
#include "atproto/syntax/did.hpp"

namespace atproto::identity {

namespace {

using nlohmann::json;
using Clock = std::chrono::system_clock;

constexpr std::string_view kDidKeyPrefix = "did:key:";

// A rotation key parsed from its did:key. A log names the same few keys in
// every operation, and parsing one (base58, point decompression) costs about
// as much as a verification, so each thread keeps the keys it parsed last;
// the result is exactly PublicKey::from_did_key's.
Result<crypto::PublicKey> parse_rotation_key(const std::string& did_key) {
  thread_local std::unordered_map<std::string, crypto::PublicKey> parsed;
  if (auto it = parsed.find(did_key); it != parsed.end()) return it->second;
  auto key = crypto::PublicKey::from_did_key(did_key);
  if (key) {
    if (parsed.size() >= 256) parsed.clear();
    parsed.emplace(did_key, *key);
  }
  return key;
}

Error with_context(const Error& error, const std::string& context) {
  return make_error(error.code, context + ": " + error.message);
}

// ---------------------------------------------------------------------------
// Rules of one operation on its own.

// [plc.op.prev] Genesis operations carry a null prev, tombstones never do.
Status check_prev_form(const PlcOperation& operation) {
  if (operation.type == PlcOperationType::kTombstone && !operation.prev) {
    return make_error("plc.op.prev", "a tombstone's prev may not be null");
  }
  if (operation.type == PlcOperationType::kLegacyCreate && operation.prev) {
    return make_error("plc.op.prev", "a legacy create operation's prev must be null");
  }
  // [plc.op.prev-cid] A dag-cbor CID string.
  if (operation.prev) {
    auto cid = data::Cid::parse(*operation.prev);
    if (!cid || cid->codec() != data::Codec::kDagCbor) {
      return make_error("plc.op.prev-cid", "prev is not a dag-cbor CID string");
    }
  }
  return {};
}

// [plc.op.rotation-keys-count] One to five rotation keys.
Status check_rotation_key_count(const PlcOperation& operation) {
  if (operation.type != PlcOperationType::kOperation) return {};
  std::size_t n = operation.rotation_keys.size();
  if (n < kMinRotationKeys || n > kMaxRotationKeys) {
    return make_error("plc.op.rotation-keys-count",
                      std::to_string(n) + " rotation keys (1 to 5 are allowed)");
  }
  return {};
}

// [plc.op.rotation-keys-unique] No rotation key listed twice.
Status check_rotation_keys_unique(const PlcOperation& operation) {
  std::set<std::string> seen;
  for (const auto& key : operation.rotation_keys) {
    if (!seen.insert(key).second) {
      return make_error("plc.op.rotation-keys-unique", "rotation key listed twice: " + key);
    }
  }
  return {};
}

// [plc.op.rotation-key-type] Rotation keys (and the two keys of a legacy
// create, which act as rotation keys) are did:keys of P-256 or K-256.
Status check_rotation_key_types(const PlcOperation& operation) {
  std::vector<std::string> keys = operation.rotation_keys;
  if (operation.type == PlcOperationType::kLegacyCreate) {
    keys = {operation.recovery_key, operation.signing_key};
  }
  for (const auto& key : keys) {
    if (auto parsed = parse_rotation_key(key); !parsed) {
      return make_error(
          "plc.op.rotation-key-type",
          "rotation key " + key + " is not a P-256 or K-256 did:key (" + parsed.error().code + ")");
    }
  }
  return {};
}

// [plc.op.verification-method-syntax] Verification methods may use any key
// type but must be did:key: followed by a base58btc multibase string.
Status check_verification_method_syntax(const PlcOperation& operation) {
  for (const auto& [name, key] : operation.verification_methods) {
    std::string_view rest = key;
    bool ok = rest.starts_with(kDidKeyPrefix);
    if (ok) {
      rest.remove_prefix(kDidKeyPrefix.size());
      ok = rest.size() > 1 && rest.front() == 'z' && data::base58btc_decode(rest.substr(1)).ok();
    }
    if (!ok) {
      return make_error("plc.op.verification-method-syntax",
                        "verification method \"" + name + "\" is not a did:key: " + key);
    }
  }
  return {};
}

// [plc.op.verification-methods-max] At most ten verification methods.
Status check_verification_method_count(const PlcOperation& operation) {
  if (operation.verification_methods.size() > kMaxVerificationMethods) {
    return make_error("plc.op.verification-methods-max",
                      std::to_string(operation.verification_methods.size()) +
                          " verification methods (at most 10)");
  }
  return {};
}

// [plc.op.size] The signed operation's DAG-CBOR is at most 7500 bytes.
Status check_operation_size(const PlcOperation& operation) {
  auto bytes = signed_operation_bytes(operation);
  if (!bytes) return bytes.error();
  if (bytes->size() > kMaxOperationBytes) {
    return make_error("plc.op.size", "the operation is " + std::to_string(bytes->size()) +
                                         " bytes of DAG-CBOR (at most 7500)");
  }
  return {};
}

// [plc.sig.base64url] [plc.sig.compact] The signature decodes as unpadded
// base64url (zero trailing bits) to exactly 64 bytes, r||s, not DER.
Result<std::vector<std::uint8_t>> decode_signature(const PlcOperation& operation) {
  auto bytes = data::base64url_decode(operation.sig);
  if (!bytes) {
    return make_error("plc.sig.base64url",
                      "sig is not unpadded base64url: " + bytes.error().message);
  }
  if (bytes->size() != crypto::kSignatureSize) {
    bool der = !bytes->empty() && (*bytes)[0] == 0x30;
    return make_error("plc.sig.compact", std::string("sig is ") +
                                             (der ? "DER-encoded" : "not 64 bytes") +
                                             "; the compact r||s form is required");
  }
  return bytes;
}

// ---------------------------------------------------------------------------
// Rules of an operation within its log.

// [plc.log.genesis] A DID starts with one operation whose prev is null, in
// the regular or the legacy form (never a tombstone).
Status check_genesis(const PlcOperation& operation) {
  if (operation.type == PlcOperationType::kTombstone || operation.prev) {
    return make_error("plc.log.genesis", "the first operation of a DID must have a null prev");
  }
  return {};
}

// [plc.did.genesis] The DID is the hash of its signed genesis operation.
Status check_genesis_did(std::string_view did, const PlcOperation& genesis) {
  auto derived = did_for_genesis(genesis);
  if (!derived) return derived.error();
  if (*derived != did) {
    return make_error("plc.did.genesis",
                      "the genesis operation belongs to " + *derived + ", not " + std::string(did));
  }
  return {};
}

// [plc.op.legacy-genesis-only] The legacy create form only starts a DID.
Status check_not_legacy(const PlcOperation& operation) {
  if (operation.type == PlcOperationType::kLegacyCreate) {
    return make_error("plc.op.legacy-genesis-only",
                      "a legacy create operation can only be the genesis operation");
  }
  return {};
}

// [plc.log.prev] An update names, by CID, an operation of the DID's current
// (non-nullified) history; returns its position in `valid`.
Result<std::size_t> find_prev(const std::vector<AuditEntry>& log,
                              const std::vector<std::size_t>& valid,
                              const PlcOperation& operation) {
  if (!operation.prev) {
    return make_error("plc.log.prev", "the DID exists already: an update needs a prev");
  }
  for (std::size_t i = 0; i < valid.size(); ++i) {
    if (log[valid[i]].cid == *operation.prev) return i;
  }
  return make_error("plc.log.prev", "prev " + *operation.prev +
                                        " is not an operation of the DID's current history");
}

// [plc.tombstone.final] Nothing can follow a tombstone; only a recovery
// that forks before it (within the window) undoes it.
Status check_prev_not_tombstone(const PlcOperation& prev) {
  if (prev.type == PlcOperationType::kTombstone) {
    return make_error("plc.tombstone.final", "the DID is tombstoned: prev is a tombstone");
  }
  return {};
}

// [plc.recovery.priority] A fork is signed by a rotation key listed before
// (of higher authority than) the key that signed the first operation it
// nullifies.
Status check_recovery_priority(std::size_t recovery_signer, std::size_t disputed_signer) {
  if (recovery_signer >= disputed_signer) {
    return make_error("plc.recovery.priority",
                      "the fork is signed by rotation key " + std::to_string(recovery_signer) +
                          ", which does not outrank key " + std::to_string(disputed_signer) +
                          " that signed the operation it would nullify");
  }
  return {};
}

// [plc.recovery.window] A fork comes at most 72 hours after the first
// operation it nullifies; exactly 72 hours is still in time.
Status check_recovery_window(Clock::time_point disputed_at, Clock::time_point now) {
  if (now - disputed_at > kRecoveryWindow) {
    auto late = std::chrono::duration_cast<std::chrono::milliseconds>(now - disputed_at);
    return make_error("plc.recovery.window",
                      "the fork comes " + std::to_string(late.count()) +
                          " ms after the operation it would nullify (72 h at most)");
  }
  return {};
}

// [plc.log.did] Every entry belongs to the DID whose log it is.
Status check_entry_did(std::string_view did, const AuditEntry& entry) {
  if (entry.did != did) {
    return make_error("plc.log.did",
                      "an entry of " + entry.did + " in the log of " + std::string(did));
  }
  return {};
}

// [plc.log.cid] An entry's cid is the CID of its operation.
Status check_entry_cid(const AuditEntry& entry) {
  auto cid = plc_operation_cid(entry.operation);
  if (!cid) return cid.error();
  if (*cid != entry.cid) {
    return make_error("plc.log.cid",
                      "entry cid " + entry.cid + " is not its operation's CID " + *cid);
  }
  return {};
}

// [plc.log.created-at] Entries are in the order the directory accepted
// them: createdAt never goes back.
Result<Clock::time_point> check_entry_time(const AuditEntry& entry,
                                           std::optional<Clock::time_point> previous) {
  auto at = parse_created_at(entry.created_at);
  if (!at) return at.error();
  if (previous && *at < *previous) {
    return make_error("plc.log.created-at",
                      "createdAt " + entry.created_at + " is earlier than the entry before it");
  }
  return at;
}

// [plc.log.nullified] The log's nullified flags are the ones the recovery
// rules give.
Status check_nullified_flag(const AuditEntry& entry, bool derived) {
  if (entry.nullified != derived) {
    return make_error("plc.log.nullified", "entry " + entry.cid + " is marked " +
                                               (entry.nullified ? "nullified" : "not nullified") +
                                               " but the recovery rules say otherwise");
  }
  return {};
}

Error entry_error(const std::string& why) {
  return make_error("plc.log.entry", "malformed audit log entry: " + why);
}

}  // namespace

Status validate_plc_operation(const PlcOperation& operation) {
  for (auto rule : {check_prev_form, check_rotation_key_count, check_rotation_keys_unique,
                    check_rotation_key_types, check_verification_method_syntax,
                    check_verification_method_count, check_operation_size}) {
    if (auto s = rule(operation); !s) return s;
  }
  if (auto sig = decode_signature(operation); !sig) return sig.error();
  return {};
}

Result<std::size_t> plc_signer_index(const PlcOperation& operation,
                                     const std::vector<std::string>& rotation_keys) {
  auto signature = decode_signature(operation);
  if (!signature) return signature.error();
  auto bytes = unsigned_operation_bytes(operation);
  if (!bytes) return bytes.error();
  // [plc.sig.rotation-key] Try each rotation key in effect; the first that
  // verifies is the signer. [plc.sig.low-s] A high-S signature verifies
  // under none (the crypto layer refuses it before checking).
  bool high_s = false;
  bool out_of_range = false;
  for (std::size_t i = 0; i < rotation_keys.size(); ++i) {
    auto key = parse_rotation_key(rotation_keys[i]);
    if (!key) continue;
    auto status = key->verify(*bytes, *signature);
    if (status) return i;
    if (status.error().code == "crypto.sig.low-s") high_s = true;
    if (status.error().code == "crypto.sig.scalar-range") out_of_range = true;
  }
  if (high_s) return make_error("plc.sig.low-s", "the signature is not in low-S form");
  if (out_of_range) return make_error("plc.sig.compact", "r or s is outside the group order");
  return make_error("plc.sig.rotation-key", "no rotation key in effect verifies the signature");
}

Result<std::chrono::system_clock::time_point> parse_created_at(std::string_view created_at) {
  auto parsed = syntax::parse_datetime(created_at);
  if (!parsed) {
    return make_error("plc.log.created-at",
                      "createdAt is not a datetime: " + std::string(created_at));
  }
  return Clock::time_point(
      std::chrono::duration_cast<Clock::duration>(std::chrono::seconds(parsed->epoch_seconds) +
                                                  std::chrono::nanoseconds(parsed->nanoseconds())));
}

std::string format_created_at(std::chrono::system_clock::time_point at) {
  auto ms = std::chrono::floor<std::chrono::milliseconds>(at);
  auto day = std::chrono::floor<std::chrono::days>(ms);
  std::chrono::year_month_day ymd{day};
  std::chrono::hh_mm_ss<std::chrono::milliseconds> time{ms - day};
  char out[32];
  std::snprintf(out, sizeof out, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", int(ymd.year()),
                unsigned(ymd.month()), unsigned(ymd.day()), int(time.hours().count()),
                int(time.minutes().count()), int(time.seconds().count()),
                int(time.subseconds().count()));
  return out;
}

Result<std::vector<AuditEntry>> parse_audit_log(const nlohmann::json& log) {
  // [plc.log.entry] An array of {did, operation, cid, nullified, createdAt}.
  if (!log.is_array()) return entry_error("the audit log is not a JSON array");
  std::vector<AuditEntry> out;
  for (const auto& entry : log) {
    if (!entry.is_object()) return entry_error("an entry is not an object");
    for (const auto& [key, value] : entry.items()) {
      if (key != "did" && key != "operation" && key != "cid" && key != "nullified" &&
          key != "createdAt") {
        return entry_error("unexpected field \"" + key + "\"");
      }
    }
    if (!entry.contains("did") || !entry["did"].is_string() || !entry.contains("cid") ||
        !entry["cid"].is_string() || !entry.contains("createdAt") ||
        !entry["createdAt"].is_string() || !entry.contains("nullified") ||
        !entry["nullified"].is_boolean() || !entry.contains("operation")) {
      return entry_error("needs string did, cid and createdAt, boolean nullified and operation");
    }
    auto operation = parse_plc_operation(entry["operation"]);
    if (!operation) {
      return with_context(operation.error(), "entry " + std::to_string(out.size()));
    }
    out.push_back(AuditEntry{entry["did"].get<std::string>(), std::move(*operation),
                             entry["cid"].get<std::string>(), entry["nullified"].get<bool>(),
                             entry["createdAt"].get<std::string>()});
  }
  return out;
}

nlohmann::json to_json(const AuditEntry& entry) {
  return json{{"did", entry.did},
              {"operation", to_json(entry.operation)},
              {"cid", entry.cid},
              {"nullified", entry.nullified},
              {"createdAt", entry.created_at}};
}

Result<SubmissionPlan> check_plc_submission(std::string_view did,
                                            const std::vector<AuditEntry>& log,
                                            const PlcOperation& operation,
                                            std::chrono::system_clock::time_point now) {
  if (auto s = syntax::validate_did_plc(did); !s) return s.error();
  if (auto s = validate_plc_operation(operation); !s) return s.error();

  std::vector<std::size_t> valid;  // indexes of the current history
  for (std::size_t i = 0; i < log.size(); ++i) {
    if (!log[i].nullified) valid.push_back(i);
  }

  if (valid.empty()) {
    // A new DID: its genesis operation, signed by one of its own rotation keys.
    if (auto s = check_genesis(operation); !s) return s.error();
    auto signer = plc_signer_index(operation, normalize_plc_operation(operation).rotation_keys);
    if (!signer) return signer.error();
    if (auto s = check_genesis_did(did, operation); !s) return s.error();
    return SubmissionPlan{};
  }

  if (auto s = check_not_legacy(operation); !s) return s.error();
  auto at = find_prev(log, valid, operation);
  if (!at) return at.error();
  const PlcOperation& prev = log[valid[*at]].operation;
  if (auto s = check_prev_not_tombstone(prev); !s) return s.error();
  // [plc.sig.rotation-key] The keys in effect are those of the prev operation.
  const auto keys = normalize_plc_operation(prev).rotation_keys;
  auto signer = plc_signer_index(operation, keys);
  if (!signer) return signer.error();

  SubmissionPlan plan;
  for (std::size_t i = *at + 1; i < valid.size(); ++i) plan.nullifies.push_back(valid[i]);
  if (plan.nullifies.empty()) return plan;

  // A fork: a recovery that rewrites the operations after prev.
  const AuditEntry& disputed = log[plan.nullifies.front()];
  auto disputed_signer = plc_signer_index(disputed.operation, keys);
  if (!disputed_signer) {
    return with_context(disputed_signer.error(), "the operation the fork would nullify");
  }
  if (auto s = check_recovery_priority(*signer, *disputed_signer); !s) return s.error();
  auto disputed_at = parse_created_at(disputed.created_at);
  if (!disputed_at) return disputed_at.error();
  if (auto s = check_recovery_window(*disputed_at, now); !s) return s.error();
  return plan;
}

Result<DidDocument> validate_audit_log(std::string_view did, const std::vector<AuditEntry>& log) {
  if (auto s = syntax::validate_did_plc(did); !s) return s.error();
  if (log.empty()) return make_error("plc.log.genesis", "the audit log is empty");

  // Replay: each entry is checked as the submission it was, at its
  // createdAt, against the history before it; nullified flags are derived.
  std::vector<AuditEntry> replayed;
  std::optional<Clock::time_point> previous;
  for (std::size_t i = 0; i < log.size(); ++i) {
    const AuditEntry& entry = log[i];
    const std::string context = "entry " + std::to_string(i);
    if (auto s = check_entry_did(did, entry); !s) return with_context(s.error(), context);
    if (auto s = check_entry_cid(entry); !s) return with_context(s.error(), context);
    auto at = check_entry_time(entry, previous);
    if (!at) return with_context(at.error(), context);
    previous = *at;
    auto plan = check_plc_submission(did, replayed, entry.operation, *at);
    if (!plan) return with_context(plan.error(), context);
    for (std::size_t n : plan->nullifies) replayed[n].nullified = true;
    AuditEntry accepted = entry;
    accepted.nullified = false;
    replayed.push_back(std::move(accepted));
  }
  for (std::size_t i = 0; i < log.size(); ++i) {
    if (auto s = check_nullified_flag(log[i], replayed[i].nullified); !s) {
      return with_context(s.error(), "entry " + std::to_string(i));
    }
  }
  // [plc.tombstoned] The document is the last operation of the current
  // history's; a tombstone there means the DID is deactivated.
  for (std::size_t i = replayed.size(); i-- > 0;) {
    if (!replayed[i].nullified) return document_for_operation(did, replayed[i].operation);
  }
  return make_error("plc.log.genesis", "no operation of the log is in effect");
}

}  // namespace atproto::identity

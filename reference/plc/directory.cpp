#include "atproto/plc/directory.hpp"

#include <algorithm>
#include <thread>

#include "atproto/crypto/keys.hpp"
#include "atproto/identity/did_document.hpp"
#include "atproto/syntax/did.hpp"

namespace atproto::plc {

namespace {

using identity::AuditEntry;
using identity::PlcOperation;
using identity::PlcOperationType;
using json = nlohmann::json;
using xrpc::HttpResponse;

// Error bodies are {"message": ...} as the OpenAPI description shows; the
// rule's id rides along in "error" for machines.
HttpResponse failure(int status, const std::string& message, const std::string& code = "") {
  json body = {{"message", message}};
  if (!code.empty()) body["error"] = code;
  return HttpResponse::json(status, body);
}

HttpResponse rejected(int status, const Error& error) {
  return failure(status, error.code + ": " + error.message, error.code);
}

constexpr std::size_t kDefaultExportCount = 10;  // the OpenAPI default
constexpr std::size_t kMaxExportCount = 1000;    // [plc.directory.export.count]

bool all_digits(std::string_view s) {
  return !s.empty() && s.size() <= 18 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The /{did}/data object: the current operation's fields (a legacy create
// mapped to the regular form) plus the DID.
json data_object(const std::string& did, const PlcOperation& operation) {
  json out = identity::to_json(identity::normalize_plc_operation(operation));
  out.erase("type");
  out.erase("prev");
  out.erase("sig");
  out["did"] = did;
  return out;
}

}  // namespace

const std::vector<FaultInfo>& fault_table() {
  static const std::vector<FaultInfo> kFaults = {
      {Fault::kAcceptBadSignature, "accept-bad-signature",
       "store operations whose only fault is a signature rule (plc.sig.*)"},
      {Fault::kAcceptInvalid, "accept-invalid", "store every parsable operation, valid or not"},
      {Fault::kNoNullification, "no-nullification", "accept recoveries without nullifying"},
      {Fault::kNoSerialization, "no-serialization",
       "check submissions outside the write transaction, then pause 100 ms"},
      {Fault::kTombstoneNotFound, "tombstone-not-found",
       "answer 404 instead of 410 for tombstones"},
      {Fault::kStaleReads, "stale-reads",
       "resolve, data, log and last serve the genesis operation's state"},
      {Fault::kIncludeNullified, "include-nullified",
       "/log and /log/last include nullified entries"},
      {Fault::kAuditWrongCid, "audit-wrong-cid",
       "audit log and export give CIDs of the unsigned operations"},
      {Fault::kDropHandle, "drop-handle", "documents and data lose alsoKnownAs"},
      {Fault::kExportIgnoresAfter, "export-ignores-after", "/export ignores `after`"},
      {Fault::kExportIgnoresCount, "export-ignores-count", "/export ignores `count` (1000 lines)"},
      {Fault::kNoSequencedExport, "no-sequenced-export", "an integer `after` is ignored"},
      {Fault::kUnknownAsEmpty, "unknown-as-empty", "unknown DIDs answer 200 with empty data"},
      {Fault::kMalformedAs500, "malformed-as-500", "malformed submissions answer 500"},
      {Fault::kWrongContentType, "wrong-content-type", "DID documents as application/json"},
      {Fault::kRejectP256, "reject-p256", "reject operations with P-256 rotation keys"},
  };
  return kFaults;
}

PlcDirectory::PlcDirectory(PlcStore& store, DirectoryOptions options)
    : store_(store), options_(std::move(options)) {}

bool PlcDirectory::has(Fault fault) const {
  return std::find(options_.faults.begin(), options_.faults.end(), fault) != options_.faults.end();
}

HttpResponse PlcDirectory::handle(const xrpc::HttpRequest& request) {
  const std::string& path = request.path;
  if (path == "/_health" || path == "/xrpc/_health") {
    if (request.method != "GET" && request.method != "HEAD") {
      return failure(405, "method not allowed");
    }
    return health();
  }
  if (path == "/export") {
    if (request.method != "GET") return failure(405, "method not allowed");
    return export_operations(request);
  }
  // /{did}, /{did}/data, /{did}/log, /{did}/log/audit, /{did}/log/last
  if (path.size() < 2 || path[0] != '/') return failure(404, "not found");
  std::size_t slash = path.find('/', 1);
  std::string did = path.substr(1, slash == std::string::npos ? std::string::npos : slash - 1);
  std::string rest = slash == std::string::npos ? "" : path.substr(slash);
  static const std::vector<std::pair<std::string, std::string>> kReads = {
      {"", "document"},        {"/data", "data"},     {"/log", "log"},
      {"/log/audit", "audit"}, {"/log/last", "last"},
  };
  auto read =
      std::find_if(kReads.begin(), kReads.end(), [&](const auto& r) { return r.first == rest; });
  if (read == kReads.end()) return failure(404, "not found");
  if (auto st = syntax::validate_did_plc(did); !st.ok()) {
    return rejected(400, st.error());
  }
  if (rest.empty() && request.method == "POST") return submit(did, request.body);
  if (request.method != "GET") return failure(405, "method not allowed");
  return resolve(did, read->second);
}

HttpResponse PlcDirectory::health() {
  if (auto st = store_.health(); !st.ok()) {
    return HttpResponse::json(503, {{"version", options_.version}, {"error", st.error().message}});
  }
  return HttpResponse::json(200, {{"version", options_.version}});
}

HttpResponse PlcDirectory::resolve(const std::string& did, const std::string& what) {
  auto stored = store_.audit_log(did);
  if (!stored.ok()) return rejected(500, stored.error());
  std::vector<AuditEntry> log = std::move(stored).value();
  if (log.empty()) {
    if (has(Fault::kUnknownAsEmpty)) {
      return HttpResponse::json(200,
                                what == "log" || what == "audit" ? json::array() : json::object());
    }
    // [plc.directory.not-found]
    return failure(404, "DID not registered: " + did);
  }
  if (has(Fault::kAuditWrongCid)) {
    for (auto& entry : log) {
      PlcOperation unsigned_op = entry.operation;
      unsigned_op.sig.clear();
      if (auto cid = identity::plc_operation_cid(unsigned_op); cid.ok()) entry.cid = *cid;
    }
  }
  if (what == "audit") {
    // [plc.directory.audit-log] Everything accepted, nullified entries too.
    json out = json::array();
    for (const auto& entry : log) out.push_back(identity::to_json(entry));
    return HttpResponse::json(200, out);
  }
  // The current chain: [plc.directory.log] nullified entries left out.
  std::vector<const AuditEntry*> chain;
  for (const auto& entry : log) {
    if (!entry.nullified || has(Fault::kIncludeNullified)) chain.push_back(&entry);
  }
  if (chain.empty()) return failure(500, "the log of " + did + " has no current operation");
  if (has(Fault::kStaleReads)) chain.erase(chain.begin() + 1, chain.end());
  if (what == "log") {
    json out = json::array();
    for (const auto* entry : chain) out.push_back(identity::to_json(entry->operation));
    return HttpResponse::json(200, out);
  }
  const PlcOperation& current = chain.back()->operation;
  if (what == "last") {
    // [plc.directory.last]
    return HttpResponse::json(200, identity::to_json(current));
  }
  if (current.type == PlcOperationType::kTombstone) {
    // [plc.directory.tombstoned] Gone, not unknown: 410.
    return failure(has(Fault::kTombstoneNotFound) ? 404 : 410, "DID not available: " + did);
  }
  if (what == "data") {
    // [plc.directory.data]
    json data = data_object(did, current);
    if (has(Fault::kDropHandle)) data["alsoKnownAs"] = json::array();
    return HttpResponse::json(200, data);
  }
  // [plc.directory.resolve]
  auto document = identity::document_for_operation(did, current);
  if (!document.ok()) return rejected(500, document.error());
  if (has(Fault::kDropHandle)) document.value().also_known_as.clear();
  // [plc.directory.resolve.content-type]
  return HttpResponse::text(
      200, identity::to_json(*document).dump(),
      has(Fault::kWrongContentType) ? "application/json" : "application/did+ld+json");
}

HttpResponse PlcDirectory::submit(const std::string& did, const std::string& body) {
  // [plc.directory.submit.malformed]
  const int malformed = has(Fault::kMalformedAs500) ? 500 : 400;
  json document = json::parse(body, nullptr, false);
  if (document.is_discarded()) return failure(malformed, "the body is not JSON", "malformed");
  if (!document.is_object())
    return failure(malformed, "the body is not a JSON object", "malformed");
  auto parsed = identity::parse_plc_operation(document);
  if (!parsed.ok()) return rejected(malformed, parsed.error());
  const PlcOperation& operation = *parsed;
  if (has(Fault::kRejectP256)) {
    for (const auto& key : operation.rotation_keys) {
      auto pub = crypto::PublicKey::from_did_key(key);
      if (pub.ok() && pub->curve() == crypto::Curve::kP256) {
        return failure(400, "P-256 rotation keys are not accepted");
      }
    }
  }

  // What the check saw, to pick the status of a rejection.
  bool unknown_did = false;
  bool tombstoned = false;
  // [plc.directory.submit.validate] Every rule of the did:plc spec, against
  // the log as stored inside the write transaction.
  auto check = [&](const std::vector<AuditEntry>& log,
                   std::chrono::system_clock::time_point now) -> Result<identity::SubmissionPlan> {
    unknown_did = log.empty();
    const AuditEntry* head = nullptr;
    for (const auto& entry : log) {
      if (!entry.nullified) head = &entry;
    }
    tombstoned = head && head->operation.type == PlcOperationType::kTombstone;
    auto plan = identity::check_plc_submission(did, log, operation, now);
    if (!plan.ok()) {
      bool signature_rule = plan.error().code.rfind("plc.sig.", 0) == 0;
      if (has(Fault::kAcceptInvalid) || (has(Fault::kAcceptBadSignature) && signature_rule)) {
        return identity::SubmissionPlan{};
      }
      return plan.error();
    }
    if (has(Fault::kNoNullification)) plan.value().nullifies.clear();
    return plan;
  };

  Result<StoredOperation> stored = make_error("storage.io", "not attempted");
  if (has(Fault::kNoSerialization)) {
    // The race the transaction prevents: check first, write later.
    auto log = store_.audit_log(did);
    if (!log.ok()) return rejected(500, log.error());
    auto plan = check(*log, std::chrono::system_clock::now());
    if (plan.ok()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      stored = store_.append(did, operation, [&](const auto&, auto) { return plan; });
    } else {
      stored = plan.error();
    }
  } else {
    // [plc.directory.no-fork] The check runs inside the transaction.
    stored = store_.append(did, operation, check);
  }
  if (!stored.ok()) {
    const Error& error = stored.error();
    if (error.code.rfind("plc.store.", 0) == 0 || error.code == "storage.io") {
      return rejected(500, error);
    }
    if (unknown_did && operation.prev) {
      return failure(404, "DID not registered: " + did + " (" + error.message + ")", error.code);
    }
    if (tombstoned) {
      return failure(410, "DID not available: " + did + " (" + error.message + ")", error.code);
    }
    return rejected(400, error);
  }
  // [plc.directory.submit] Committed: answer with the entry as stored.
  return HttpResponse::json(200, identity::to_json(stored->entry));
}

HttpResponse PlcDirectory::export_operations(const xrpc::HttpRequest& request) {
  std::size_t count = kDefaultExportCount;
  if (auto text = request.query_param("count")) {
    if (!all_digits(*text) || std::stoll(*text) < 1) {
      return failure(400, "count must be a positive integer");
    }
    count = static_cast<std::size_t>(std::min<long long>(std::stoll(*text), kMaxExportCount));
  }
  if (has(Fault::kExportIgnoresCount)) count = kMaxExportCount;
  std::optional<std::string> after = request.query_param("after");
  if (has(Fault::kExportIgnoresAfter)) after.reset();
  bool sequenced = after && all_digits(*after);
  if (sequenced && has(Fault::kNoSequencedExport)) {
    sequenced = false;
    after.reset();
  }
  Result<std::vector<StoredOperation>> rows = std::vector<StoredOperation>{};
  if (sequenced) {
    // [plc.directory.export.sequenced]
    rows = store_.export_after_seq(std::stoll(*after), count);
  } else {
    // [plc.directory.export] The legacy form, paged by createdAt.
    std::optional<std::chrono::system_clock::time_point> since;
    if (after) {
      auto at = identity::parse_created_at(*after);
      if (!at.ok()) return failure(400, "after must be a sequence number or a datetime");
      since = *at;
    }
    rows = store_.export_after_time(since, count);
  }
  if (!rows.ok()) return rejected(500, rows.error());
  std::string out;
  for (const auto& row : *rows) {
    json line = identity::to_json(row.entry);
    if (has(Fault::kAuditWrongCid)) {
      PlcOperation unsigned_op = row.entry.operation;
      unsigned_op.sig.clear();
      if (auto cid = identity::plc_operation_cid(unsigned_op); cid.ok()) line["cid"] = *cid;
    }
    if (sequenced) {
      line.erase("nullified");
      line["type"] = "sequenced_op";
      line["seq"] = row.seq;
    }
    out += line.dump();
    out += '\n';
  }
  return HttpResponse::text(200, std::move(out), "application/jsonlines");
}

}  // namespace atproto::plc

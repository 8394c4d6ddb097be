// plc/validate-log: a did:plc audit log validated by reference/identity.
// Spec: https://web.plc.directory/spec/v0.1/did-plc#audit-logs
#include "atproto/identity/plc.hpp"
#include "reference_ops.hpp"

namespace atproto::conformance {

// {"did": str, "log": [audit-log entries]} -> {"valid": true, "document"},
// {"valid": true, "tombstoned": true} or {"valid": false, "error", "code"}
// where code names the rule broken (an extension protocol v0 allows).
// [plc.tombstoned] A log whose operation in effect is a tombstone is valid
// (the official interop fixture audit_log/valid/log_tombstone.json says so):
// the DID is deactivated and resolves to no document. validate_audit_log
// resolves the document, so it answers plc.tombstoned for such a log, and
// only after every other rule held (see the end of audit_log.cpp): that
// code alone means "valid, no document".
Response plc_validate_log(const json& request) {
  if (!request.is_object() || !request.contains("did") || !request["did"].is_string() ||
      !request.contains("log")) {
    return bad_request("plc/validate-log needs a string field \"did\" and a field \"log\"");
  }
  auto log = identity::parse_audit_log(request["log"]);
  auto document =
      log ? identity::validate_audit_log(request["did"].get_ref<const std::string&>(), *log)
          : Result<identity::DidDocument>(log.error());
  if (!document && document.error().code == "plc.tombstoned") {
    return answer(200, json{{"valid", true}, {"tombstoned", true}});
  }
  if (!document) {
    return answer(200, json{{"valid", false},
                            {"code", document.error().code},
                            {"error", document.error().code + ": " + document.error().message}});
  }
  return answer(200, json{{"valid", true}, {"document", identity::to_json(*document)}});
}

}  // namespace atproto::conformance

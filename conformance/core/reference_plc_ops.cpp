// plc/validate-log: a did:plc audit log validated by reference/identity.
// Spec: https://web.plc.directory/spec/v0.1/did-plc#audit-logs
#include "atproto/identity/plc.hpp"
#include "reference_ops.hpp"

namespace atproto::conformance {

// {"did": str, "log": [audit-log entries]} -> {"valid": true, "document"} or
// {"valid": false, "error", "code"} where code names the rule broken (an
// extension protocol v0 allows); a deactivated DID is invalid with
// plc.tombstoned.
Response plc_validate_log(const json& request) {
  if (!request.is_object() || !request.contains("did") || !request["did"].is_string() ||
      !request.contains("log")) {
    return bad_request("plc/validate-log needs a string field \"did\" and a field \"log\"");
  }
  auto log = identity::parse_audit_log(request["log"]);
  auto document =
      log ? identity::validate_audit_log(request["did"].get_ref<const std::string&>(), *log)
          : Result<identity::DidDocument>(log.error());
  if (!document) {
    return answer(200, json{{"valid", false},
                            {"code", document.error().code},
                            {"error", document.error().code + ": " + document.error().message}});
  }
  return answer(200, json{{"valid", true}, {"document", identity::to_json(*document)}});
}

}  // namespace atproto::conformance

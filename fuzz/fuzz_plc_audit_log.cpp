// Fuzz target: {"did": ..., "log": [...]} (JSON text, the shape of a
// vectors/plc/audit-log.json case) through parse_audit_log and
// validate_audit_log: every refusal names a rule, verdicts are deterministic
// and survive a JSON round trip, and a valid log resolves to its own DID.
// Spec: https://web.plc.directory/spec/v0.1/did-plc#audit-logs
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "atproto/identity/plc.hpp"
#include "fuzz_check.hpp"

namespace identity = atproto::identity;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  std::string_view in = fuzz::begin_input(bytes, size);
  auto json = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object() || !json.contains("did") ||
      !json["did"].is_string() || !json.contains("log")) {
    return 0;
  }
  const std::string did = json["did"].get<std::string>();
  auto log = identity::parse_audit_log(json["log"]);
  if (!log) {
    FUZZ_CHECK(fuzz::error_in_family(atproto::Status(log.error()), "plc."));
    return 0;
  }
  auto doc = identity::validate_audit_log(did, *log);
  // Deterministic, and the same for the log written back as JSON.
  auto again = identity::validate_audit_log(did, *log);
  FUZZ_CHECK(doc.ok() == again.ok());
  nlohmann::json written = nlohmann::json::array();
  for (const auto& entry : *log) written.push_back(identity::to_json(entry));
  auto reparsed = identity::parse_audit_log(written);
  FUZZ_CHECK(reparsed.ok());
  auto third = identity::validate_audit_log(did, *reparsed);
  FUZZ_CHECK(doc.ok() == third.ok());
  if (!doc) {
    FUZZ_CHECK(doc.error().code == third.error().code);
    // [plc.log.entry] Every failure names a did:plc rule (or the DID syntax,
    // or the data model for text the CBOR encoder refuses).
    FUZZ_CHECK(doc.error().code.starts_with("plc.") || doc.error().code.starts_with("did.") ||
               doc.error().code.starts_with("data."));
    return 0;
  }
  // [plc.doc.render] A valid log resolves to a document of its own DID.
  FUZZ_CHECK(doc->id == did);
  FUZZ_CHECK(identity::to_json(*doc) == identity::to_json(*third));
  return 0;
}

// Fuzz target: one did:plc operation (JSON text) through parse_plc_operation
// and validate_plc_operation; what is accepted re-encodes consistently.
// Spec: https://web.plc.directory/spec/v0.1/did-plc#operation-serialization-signing-and-validation
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

#include "atproto/data/cbor.hpp"
#include "atproto/identity/plc.hpp"
#include "fuzz_check.hpp"

namespace identity = atproto::identity;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  std::string_view in = fuzz::begin_input(bytes, size);
  auto json = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return 0;
  auto op = identity::parse_plc_operation(json);
  if (!op) {
    // [plc.op.fields] [plc.op.type] Every refusal names a did:plc rule.
    FUZZ_CHECK(fuzz::error_in_family(atproto::Status(op.error()), "plc.op."));
    return 0;
  }
  // An empty sig reads as "unsigned", which to_json leaves out.
  if (op->sig.empty()) return 0;
  // [plc.op.fields] Strict: the JSON form is exactly what was read.
  FUZZ_CHECK(identity::to_json(*op) == json);
  auto again = identity::parse_plc_operation(identity::to_json(*op));
  FUZZ_CHECK(again.ok());
  auto status = identity::validate_plc_operation(*op);
  FUZZ_CHECK(status.ok() || fuzz::error_in_family(status, "plc.") ||
             fuzz::error_in_family(status, "data."));
  // [plc.sig.unsigned-cbor] The signed bytes are canonical DAG-CBOR without sig.
  auto unsigned_bytes = identity::unsigned_operation_bytes(*op);
  if (!unsigned_bytes) {
    FUZZ_CHECK(unsigned_bytes.error().code == "data.model.utf8");
    return 0;
  }
  auto value = atproto::data::decode_cbor(*unsigned_bytes);
  FUZZ_CHECK(value.ok());
  FUZZ_CHECK(value->find("sig") == nullptr);
  // [plc.cid.operation] Same operation, same CID, through JSON and back.
  auto cid = identity::plc_operation_cid(*op);
  FUZZ_CHECK(cid.ok());
  FUZZ_CHECK(identity::plc_operation_cid(*again).value() == *cid);
  if (op->type != identity::PlcOperationType::kTombstone && !op->prev) {
    auto did = identity::did_for_genesis(*op);
    FUZZ_CHECK(did.ok() && did->size() == 32);
  }
  return 0;
}

// The reference implementation behind the adapter protocol.
#include <algorithm>
#include <span>

#include "atproto/data/base64.hpp"
#include "atproto/data/cbor.hpp"
#include "atproto/data/cid.hpp"
#include "atproto/data/json.hpp"
#include "atproto/data/validate.hpp"
#include "atproto/syntax/format.hpp"
#include "exact_json.hpp"
#include "reference_ops.hpp"

namespace atproto::conformance {

Response answer(int status, json body) {
  Response r;
  r.status = status;
  r.raw_body = body.dump();
  r.body = std::move(body);
  return r;
}

Response bad_request(const std::string& why) { return answer(400, json{{"error", why}}); }

std::string padded_base64(std::span<const std::uint8_t> bytes) {
  std::string out = data::base64_encode(bytes);
  while (out.size() % 4 != 0) out += '=';
  return out;
}

Response rejected(const Error& error) {
  return answer(
      200, json{{"ok", false}, {"error", error.code + ": " + error.message}, {"code", error.code}});
}

namespace {

Response syntax_validate(const json& request) {
  if (!request.is_object() || !request.contains("type") || !request["type"].is_string() ||
      !request.contains("value") || !request["value"].is_string()) {
    return bad_request("syntax/validate needs string fields \"type\" and \"value\"");
  }
  const auto& type = request["type"].get_ref<const std::string&>();
  if (!syntax::string_format_from_name(type)) {
    return answer(501, json{{"error", "unsupported type: " + type}});
  }
  auto status =
      syntax::validate_string_format(type, request["value"].get_ref<const std::string&>());
  json body{{"valid", status.ok()}};
  // Extension (protocol v0 allows extra fields): the rule that was broken.
  if (!status.ok()) body["error"] = status.error().code;
  return answer(200, std::move(body));
}

// data/encode: strict JSON -> canonical DAG-CBOR and its CID.
Response data_encode(const json& request) {
  if (!request.is_object() || !request.contains("json")) {
    return bad_request("data/encode needs a \"json\" field");
  }
  auto value = data::record_from_json(request["json"]);
  if (!value.ok()) return rejected(value.error());
  auto bytes = data::encode_cbor(*value);
  if (!bytes.ok()) return rejected(bytes.error());
  auto cid = data::Cid::compute(data::Codec::kDagCbor, *bytes);
  return answer(200, json{{"ok", true}, {"cbor", padded_base64(*bytes)}, {"cid", cid.to_string()}});
}

// data/decode: strict DAG-CBOR -> the JSON form and the CID of the bytes.
Response data_decode(const json& request) {
  if (!request.is_object() || !request.contains("cbor") || !request["cbor"].is_string()) {
    return bad_request("data/decode needs a string field \"cbor\" (base64)");
  }
  auto bytes = data::base64_decode(request["cbor"].get_ref<const std::string&>());
  if (!bytes.ok()) return bad_request("\"cbor\" is not base64: " + bytes.error().message);
  auto value = data::decode_cbor(*bytes);
  if (!value.ok()) return rejected(value.error());
  if (auto status = data::validate_record(*value); !status.ok()) return rejected(status.error());
  auto cid = data::Cid::compute(data::Codec::kDagCbor, *bytes);
  return answer(200, json{{"ok", true}, {"json", data::to_json(*value)}, {"cid", cid.to_string()}});
}

class ReferenceTarget final : public Target {
 public:
  std::string description() const override { return "reference (in-process)"; }
  Response capabilities() override {
    return answer(200, json{{"name", "atproto-cpp reference"},
                            {"version", "0.1.0"},
                            {"operations", reference_operations()}});
  }
  Response call(const std::string& operation, const json& request) override {
    return reference_dispatch(operation, request);
  }
  std::string reproduce_command(const std::string&, const json&,
                                const std::string&) const override {
    return "";
  }
};

}  // namespace

bool Capabilities::supports(const std::string& operation) const {
  return std::find(operations.begin(), operations.end(), operation) != operations.end();
}

const std::vector<std::string>& reference_operations() {
  static const std::vector<std::string> kOperations = {"syntax/validate",
                                                       "data/encode",
                                                       "data/decode",
                                                       "car/read",
                                                       "mst/key-height",
                                                       "mst/root",
                                                       "mst/proof",
                                                       "repo/verify",
                                                       "crypto/verify",
                                                       "crypto/parse-key",
                                                       "lexicon/validate-schema",
                                                       "lexicon/validate-record",
                                                       "lexicon/validate-params",
                                                       "plc/validate-log"};
  return kOperations;
}

Response reference_dispatch_text(const std::string& operation, std::string_view body) {
  // Our data layer sees parsed JSON, where a repeated key is already gone;
  // the text is where it shows. Integers beyond 64 bits become doubles, which
  // data/encode refuses as it must (data.model.int64).
  ParsedJson parsed = parse_json(body, BigNumbers::kAsDouble);
  if (parsed.value.is_discarded()) return bad_request("the request body is not JSON");
  // [data.cbor.map-key-unique] A map never holds a key twice, so JSON text
  // that repeats one is not a data model value.
  if (operation == "data/encode" && parsed.duplicate_key) {
    return rejected(Error{"data.cbor.map-key-unique", "an object repeats a key"});
  }
  return reference_dispatch(operation, parsed.value);
}

Response reference_dispatch(const std::string& operation, const json& request) {
  // Raw JSON (exact_json.hpp) is answered as the same text over HTTP would be.
  if (contains_raw_json(request)) return reference_dispatch_text(operation, dump_json(request));
  if (operation == "syntax/validate") return syntax_validate(request);
  if (operation == "data/encode") return data_encode(request);
  if (operation == "data/decode") return data_decode(request);
  if (operation == "car/read") return car_read(request);
  if (operation == "mst/key-height") return mst_key_height(request);
  if (operation == "mst/root") return mst_root(request);
  if (operation == "mst/proof") return mst_proof(request);
  if (operation == "repo/verify") return repo_verify(request);
  if (operation == "crypto/verify") return crypto_verify(request);
  if (operation == "crypto/parse-key") return crypto_parse_key(request);
  if (operation == "lexicon/validate-schema") return lexicon_validate_schema(request);
  if (operation == "lexicon/validate-record") return lexicon_validate_record(request);
  if (operation == "lexicon/validate-params") return lexicon_validate_params(request);
  if (operation == "plc/validate-log") return plc_validate_log(request);
  return answer(404, json{{"error", "unsupported operation: " + operation}});
}

std::unique_ptr<Target> make_reference_target() { return std::make_unique<ReferenceTarget>(); }

}  // namespace atproto::conformance

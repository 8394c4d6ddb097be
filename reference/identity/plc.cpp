// did:plc operations: the JSON form, DAG-CBOR, signatures, CIDs, the DID of
// a genesis operation and the document an operation describes.
// Spec: https://web.plc.directory/spec/v0.1/did-plc (shared/atproto-spec/did-plc.md)
#include <algorithm>
#include <set>

#include "atproto/data/base64.hpp"
#include "atproto/data/cbor.hpp"
#include "atproto/data/cid.hpp"
#include "atproto/data/json.hpp"
#include "atproto/data/multibase.hpp"
#include "atproto/identity/plc.hpp"

namespace atproto::identity {

namespace {

using nlohmann::json;

constexpr std::string_view kDidKeyPrefix = "did:key:";

Error fields_error(const std::string& why) {
  return make_error("plc.op.fields", "malformed operation: " + why);
}

// [plc.op.fields] Exactly the members of the operation's type, no others.
Status check_members(const json& operation, std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : operation.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return fields_error("unexpected field \"" + key + "\"");
    }
  }
  for (auto name : allowed) {
    if (!operation.contains(std::string(name))) {
      return fields_error("missing field \"" + std::string(name) + "\"");
    }
  }
  return {};
}

Result<std::string> string_member(const json& operation, const char* name) {
  const auto& value = operation.at(name);
  if (!value.is_string()) return fields_error(std::string("\"") + name + "\" is not a string");
  return value.get<std::string>();
}

Result<std::vector<std::string>> string_array(const json& value, const char* name) {
  if (!value.is_array()) return fields_error(std::string("\"") + name + "\" is not an array");
  std::vector<std::string> out;
  for (const auto& entry : value) {
    if (!entry.is_string()) {
      return fields_error(std::string("an entry of \"") + name + "\" is not a string");
    }
    out.push_back(entry.get<std::string>());
  }
  return out;
}

// [plc.op.prev] `prev` is always present; [plc.op.prev-cid] when not null it
// is the string form of a dag-cbor sha-256 CIDv1.
Result<std::optional<std::string>> prev_member(const json& operation) {
  const auto& value = operation.at("prev");
  if (value.is_null()) return std::optional<std::string>();
  if (!value.is_string()) return fields_error("\"prev\" is neither null nor a string");
  auto text = value.get<std::string>();
  auto cid = data::Cid::parse(text);
  if (!cid || cid->codec() != data::Codec::kDagCbor) {
    return make_error("plc.op.prev-cid",
                      "\"prev\" is not a dag-cbor CID string: " +
                          (cid ? std::string("wrong codec") : cid.error().message));
  }
  return std::optional<std::string>(std::move(text));
}

Result<PlcOperation> parse_regular(const json& operation) {
  if (auto s = check_members(operation, {"type", "rotationKeys", "verificationMethods",
                                         "alsoKnownAs", "services", "prev", "sig"});
      !s) {
    return s.error();
  }
  PlcOperation out;
  out.type = PlcOperationType::kOperation;
  auto rotation = string_array(operation.at("rotationKeys"), "rotationKeys");
  if (!rotation) return rotation.error();
  out.rotation_keys = std::move(*rotation);
  const auto& methods = operation.at("verificationMethods");
  if (!methods.is_object()) return fields_error("\"verificationMethods\" is not an object");
  for (const auto& [name, key] : methods.items()) {
    if (!key.is_string())
      return fields_error("verification method \"" + name + "\" is not a string");
    out.verification_methods[name] = key.get<std::string>();
  }
  auto aka = string_array(operation.at("alsoKnownAs"), "alsoKnownAs");
  if (!aka) return aka.error();
  out.also_known_as = std::move(*aka);
  const auto& services = operation.at("services");
  if (!services.is_object()) return fields_error("\"services\" is not an object");
  for (const auto& [name, service] : services.items()) {
    if (!service.is_object() || service.size() != 2 || !service.contains("type") ||
        !service.contains("endpoint") || !service["type"].is_string() ||
        !service["endpoint"].is_string()) {
      return fields_error("service \"" + name + "\" is not {type, endpoint} strings");
    }
    out.services[name] =
        PlcService{service["type"].get<std::string>(), service["endpoint"].get<std::string>()};
  }
  auto prev = prev_member(operation);
  if (!prev) return prev.error();
  out.prev = std::move(*prev);
  auto sig = string_member(operation, "sig");
  if (!sig) return sig.error();
  out.sig = std::move(*sig);
  return out;
}

Result<PlcOperation> parse_tombstone(const json& operation) {
  if (auto s = check_members(operation, {"type", "prev", "sig"}); !s) return s.error();
  PlcOperation out;
  out.type = PlcOperationType::kTombstone;
  auto prev = prev_member(operation);
  if (!prev) return prev.error();
  // [plc.op.prev] A tombstone always points at the operation it ends.
  if (!*prev) return make_error("plc.op.prev", "a tombstone's \"prev\" may not be null");
  out.prev = std::move(*prev);
  auto sig = string_member(operation, "sig");
  if (!sig) return sig.error();
  out.sig = std::move(*sig);
  return out;
}

Result<PlcOperation> parse_legacy_create(const json& operation) {
  if (auto s = check_members(
          operation, {"type", "signingKey", "recoveryKey", "handle", "service", "prev", "sig"});
      !s) {
    return s.error();
  }
  PlcOperation out;
  out.type = PlcOperationType::kLegacyCreate;
  for (auto [name, field] :
       {std::pair{"signingKey", &out.signing_key}, std::pair{"recoveryKey", &out.recovery_key},
        std::pair{"handle", &out.handle}, std::pair{"service", &out.service},
        std::pair{"sig", &out.sig}}) {
    auto value = string_member(operation, name);
    if (!value) return value.error();
    *field = std::move(*value);
  }
  // [plc.op.prev] The legacy form exists only for genesis: prev is null.
  if (!operation.at("prev").is_null()) {
    return make_error("plc.op.prev", "a legacy create operation's \"prev\" must be null");
  }
  return out;
}

// The data model value of an operation; `with_sig` adds the signature.
data::Value operation_value(const PlcOperation& operation, bool with_sig) {
  data::Map map;
  data::Value prev = operation.prev ? data::Value(*operation.prev) : data::Value(nullptr);
  switch (operation.type) {
    case PlcOperationType::kOperation: {
      map["type"] = "plc_operation";
      data::Array rotation(operation.rotation_keys.begin(), operation.rotation_keys.end());
      map["rotationKeys"] = std::move(rotation);
      data::Map methods;
      for (const auto& [name, key] : operation.verification_methods) methods[name] = key;
      map["verificationMethods"] = std::move(methods);
      data::Array aka(operation.also_known_as.begin(), operation.also_known_as.end());
      map["alsoKnownAs"] = std::move(aka);
      data::Map services;
      for (const auto& [name, service] : operation.services) {
        services[name] = data::Map{{"type", service.type}, {"endpoint", service.endpoint}};
      }
      map["services"] = std::move(services);
      map["prev"] = std::move(prev);
      break;
    }
    case PlcOperationType::kTombstone:
      map["type"] = "plc_tombstone";
      map["prev"] = std::move(prev);
      break;
    case PlcOperationType::kLegacyCreate:
      map["type"] = "create";
      map["signingKey"] = operation.signing_key;
      map["recoveryKey"] = operation.recovery_key;
      map["handle"] = operation.handle;
      map["service"] = operation.service;
      map["prev"] = nullptr;
      break;
  }
  if (with_sig) map["sig"] = operation.sig;
  return data::Value(std::move(map));
}

}  // namespace

Result<PlcOperation> parse_plc_operation(const nlohmann::json& operation) {
  if (!operation.is_object()) return fields_error("an operation is a JSON object");
  auto type = operation.find("type");
  if (type == operation.end() || !type->is_string()) {
    return make_error("plc.op.type", "an operation needs a string \"type\"");
  }
  // [plc.op.type] The three operation types the spec defines.
  const auto& name = type->get_ref<const std::string&>();
  if (name == "plc_operation") return parse_regular(operation);
  if (name == "plc_tombstone") return parse_tombstone(operation);
  if (name == "create") return parse_legacy_create(operation);
  return make_error("plc.op.type", "unknown operation type \"" + name + "\"");
}

nlohmann::json to_json(const PlcOperation& operation) {
  // The JSON form holds the same members as the DAG-CBOR one (strings, lists,
  // maps and null only), so it is the data model value written as JSON.
  return data::to_json(operation_value(operation, !operation.sig.empty()));
}

Result<std::vector<std::uint8_t>> unsigned_operation_bytes(const PlcOperation& operation) {
  // [plc.sig.unsigned-cbor] The signed bytes are the DAG-CBOR of the
  // operation with no `sig` member at all (not a null one).
  return data::encode_cbor(operation_value(operation, false));
}

Result<std::vector<std::uint8_t>> signed_operation_bytes(const PlcOperation& operation) {
  return data::encode_cbor(operation_value(operation, true));
}

Status sign_plc_operation(PlcOperation& operation, const crypto::PrivateKey& rotation_key) {
  auto bytes = unsigned_operation_bytes(operation);
  if (!bytes) return bytes.error();
  // [plc.sig.low-s] [plc.sig.compact] The key signs SHA-256 of the bytes and
  // writes the 64-byte low-S r||s; [plc.sig.base64url] base64url, unpadded.
  auto signature = rotation_key.sign(*bytes);
  operation.sig = data::base64url_encode(signature);
  return {};
}

Result<std::string> plc_operation_cid(const PlcOperation& operation) {
  // [plc.cid.operation] CIDv1, dag-cbor, sha-256 of the signed operation.
  auto bytes = signed_operation_bytes(operation);
  if (!bytes) return bytes.error();
  return data::Cid::compute(data::Codec::kDagCbor, *bytes).to_string();
}

Result<std::string> did_for_genesis(const PlcOperation& genesis) {
  if (genesis.type == PlcOperationType::kTombstone || genesis.prev) {
    return make_error("plc.log.genesis", "only an operation with a null prev starts a DID");
  }
  // [plc.did.genesis] base32 of SHA-256 of the signed genesis operation's
  // DAG-CBOR, cut to 24 characters.
  auto bytes = signed_operation_bytes(genesis);
  if (!bytes) return bytes.error();
  auto digest = data::sha256(*bytes);
  return "did:plc:" + data::base32_encode(digest).substr(0, 24);
}

PlcOperation normalize_plc_operation(const PlcOperation& operation) {
  if (operation.type != PlcOperationType::kLegacyCreate) return operation;
  // [plc.doc.legacy-create] The regular form of a legacy create: the
  // recovery key ranks above the signing key as rotation keys, the signing
  // key is the atproto key, the bare handle becomes an at:// URI and the
  // service the PDS (prefixes added only when missing, as old logs need).
  PlcOperation out;
  out.type = PlcOperationType::kOperation;
  out.rotation_keys = {operation.recovery_key, operation.signing_key};
  out.verification_methods["atproto"] = operation.signing_key;
  std::string handle = operation.handle;
  if (!handle.starts_with("at://")) {
    if (handle.starts_with("https://")) handle = handle.substr(8);
    if (handle.starts_with("http://")) handle = handle.substr(7);
    handle = "at://" + handle;
  }
  out.also_known_as = {handle};
  std::string endpoint = operation.service;
  if (!endpoint.starts_with("https://") && !endpoint.starts_with("http://")) {
    endpoint = "https://" + endpoint;
  }
  out.services["atproto_pds"] = PlcService{"AtprotoPersonalDataServer", endpoint};
  out.prev = std::nullopt;
  out.sig = operation.sig;
  return out;
}

Result<DidDocument> document_for_operation(std::string_view did, const PlcOperation& operation) {
  if (operation.type == PlcOperationType::kTombstone) {
    return make_error("plc.tombstoned", "the DID " + std::string(did) + " is deactivated");
  }
  PlcOperation regular = normalize_plc_operation(operation);
  // [plc.doc.render] Verification methods become "<did>#<name>" Multikey
  // entries controlled by the DID (the did:key without its prefix), services
  // "#<name>" entries, and alsoKnownAs is copied in order.
  DidDocument document;
  document.id = std::string(did);
  document.also_known_as = regular.also_known_as;
  for (const auto& [name, key] : regular.verification_methods) {
    std::string_view multibase = key;
    if (multibase.starts_with(kDidKeyPrefix)) multibase.remove_prefix(kDidKeyPrefix.size());
    document.verification_methods.push_back(VerificationMethod{
        document.id + "#" + name, "Multikey", document.id, std::string(multibase)});
  }
  for (const auto& [name, service] : regular.services) {
    document.services.push_back(Service{"#" + name, service.type, service.endpoint});
  }
  return document;
}

}  // namespace atproto::identity

// crypto/verify and crypto/parse-key: strict signature verification and
// did:key parsing, answered by reference/crypto.
// Spec: https://atproto.com/specs/cryptography
#include "atproto/crypto/keys.hpp"
#include "atproto/data/base64.hpp"
#include "reference_ops.hpp"

namespace atproto::conformance {

namespace {

bool has_string(const json& request, const char* field) {
  return request.is_object() && request.contains(field) && request[field].is_string();
}

}  // namespace

// crypto/verify: {"publicKey": did:key or multikey, "message": b64, "signature": b64}
// -> {"valid": bool}; when invalid, "code" and "error" name the rule broken
// (an extension protocol v0 allows).
Response crypto_verify(const json& request) {
  if (!has_string(request, "publicKey") || !has_string(request, "message") ||
      !has_string(request, "signature")) {
    return bad_request(
        "crypto/verify needs string fields \"publicKey\", \"message\" and \"signature\" "
        "(base64)");
  }
  auto message = data::base64_decode(request["message"].get_ref<const std::string&>());
  if (!message) return bad_request("\"message\" is not base64: " + message.error().message);
  auto signature = data::base64_decode(request["signature"].get_ref<const std::string&>());
  if (!signature) return bad_request("\"signature\" is not base64: " + signature.error().message);
  const auto& text = request["publicKey"].get_ref<const std::string&>();
  // The protocol takes either form of the key: did:key, or the bare multikey.
  auto key = text.starts_with("did:") ? crypto::PublicKey::from_did_key(text)
                                      : crypto::PublicKey::from_multibase(text);
  Status status = key ? key->verify(*message, *signature) : Status(key.error());
  json body{{"valid", status.ok()}};
  if (!status.ok()) {
    body["code"] = status.error().code;
    body["error"] = status.error().code + ": " + status.error().message;
  }
  return answer(200, std::move(body));
}

// crypto/parse-key: {"didKey": str} -> {"ok": true, "algorithm", "publicKeyMultibase"}
// or a rejection naming the rule.
Response crypto_parse_key(const json& request) {
  if (!has_string(request, "didKey")) {
    return bad_request("crypto/parse-key needs a string field \"didKey\"");
  }
  auto key = crypto::PublicKey::from_did_key(request["didKey"].get_ref<const std::string&>());
  if (!key) return rejected(key.error());
  return answer(200, json{{"ok", true},
                          {"algorithm", std::string(crypto::jwt_algorithm(key->curve()))},
                          {"publicKeyMultibase", key->multibase()}});
}

}  // namespace atproto::conformance

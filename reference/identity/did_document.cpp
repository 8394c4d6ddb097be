// DID documents: parsing, the W3C JSON form, and the three atproto fields.
// Spec: https://atproto.com/specs/did#did-documents
#include "atproto/identity/did_document.hpp"

#include <algorithm>

#include "atproto/syntax/did.hpp"
#include "atproto/syntax/handle.hpp"

namespace atproto::identity {

namespace {

using nlohmann::json;

constexpr std::string_view kPdsServiceType = "AtprotoPersonalDataServer";

Error shape_error(const std::string& why) {
  return make_error("did.document.shape", "malformed DID document: " + why);
}

// A string member, or "" when absent; an error when present with another type.
Result<std::string> optional_string(const json& object, const char* field, const char* where) {
  auto it = object.find(field);
  if (it == object.end()) return std::string();
  if (!it->is_string()) {
    return shape_error(std::string(where) + " field \"" + field + "\" is not a string");
  }
  return it->get<std::string>();
}

Result<std::string> required_string(const json& object, const char* field, const char* where) {
  auto it = object.find(field);
  if (it == object.end() || !it->is_string()) {
    return shape_error(std::string(where) + " needs a string field \"" + field + "\"");
  }
  return it->get<std::string>();
}

// An optional array member whose elements are all objects (or all strings).
Result<const json*> optional_array(const json& document, const char* field) {
  auto it = document.find(field);
  if (it == document.end()) return static_cast<const json*>(nullptr);
  if (!it->is_array()) return shape_error(std::string("\"") + field + "\" is not an array");
  return &*it;
}

// [did.doc.relative-ids] An entry id names `fragment` either as the relative
// "#fragment" or fully qualified as "<document id>#fragment".
bool id_names(std::string_view entry_id, std::string_view did, std::string_view fragment) {
  if (!entry_id.ends_with(fragment)) return false;
  std::string_view prefix = entry_id.substr(0, entry_id.size() - fragment.size());
  return prefix.empty() || prefix == did;
}

// [did.doc.pds] A bare http(s) origin: scheme, host and an optional port;
// no userinfo, path (a lone "/" is tolerated), query or fragment.
bool is_http_origin(std::string_view url) {
  std::string_view rest;
  if (url.starts_with("https://")) {
    rest = url.substr(8);
  } else if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else {
    return false;
  }
  if (rest.ends_with('/')) rest.remove_suffix(1);
  if (rest.empty()) return false;
  std::size_t colon = rest.find(':');
  std::string_view host = rest.substr(0, colon);
  if (host.empty()) return false;
  for (char c : host) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.';
    if (!ok) return false;
  }
  if (colon != std::string_view::npos) {
    std::string_view port = rest.substr(colon + 1);
    if (port.empty() || port.size() > 5) return false;
    if (!std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return false;
    }
  }
  return true;
}

}  // namespace

Result<DidDocument> parse_did_document(const nlohmann::json& document) {
  // [did.document.shape] An object whose `id` is a DID; the atproto fields,
  // when present, have the W3C shapes.
  if (!document.is_object()) return shape_error("not a JSON object");
  DidDocument out;
  auto id = required_string(document, "id", "the document");
  if (!id) return id.error();
  if (auto valid = syntax::validate_did(*id); !valid) {
    return shape_error("\"id\" is not a DID: " + valid.error().message);
  }
  out.id = std::move(*id);

  auto aka = optional_array(document, "alsoKnownAs");
  if (!aka) return aka.error();
  if (*aka != nullptr) {
    for (const auto& entry : **aka) {
      if (!entry.is_string()) return shape_error("an alsoKnownAs entry is not a string");
      out.also_known_as.push_back(entry.get<std::string>());
    }
  }

  auto methods = optional_array(document, "verificationMethod");
  if (!methods) return methods.error();
  if (*methods != nullptr) {
    for (const auto& entry : **methods) {
      if (!entry.is_object()) return shape_error("a verificationMethod entry is not an object");
      VerificationMethod method;
      auto mid = required_string(entry, "id", "a verificationMethod");
      if (!mid) return mid.error();
      auto type = required_string(entry, "type", "a verificationMethod");
      if (!type) return type.error();
      auto controller = required_string(entry, "controller", "a verificationMethod");
      if (!controller) return controller.error();
      // Other key forms (publicKeyJwk, ...) are allowed by DID Core; atproto
      // only reads publicKeyMultibase, so an entry without it is kept empty.
      auto multibase = optional_string(entry, "publicKeyMultibase", "a verificationMethod");
      if (!multibase) return multibase.error();
      method.id = std::move(*mid);
      method.type = std::move(*type);
      method.controller = std::move(*controller);
      method.public_key_multibase = std::move(*multibase);
      out.verification_methods.push_back(std::move(method));
    }
  }

  auto services = optional_array(document, "service");
  if (!services) return services.error();
  if (*services != nullptr) {
    for (const auto& entry : **services) {
      if (!entry.is_object()) return shape_error("a service entry is not an object");
      Service service;
      auto sid = required_string(entry, "id", "a service");
      if (!sid) return sid.error();
      auto type = required_string(entry, "type", "a service");
      if (!type) return type.error();
      // DID Core also allows a map or a list as serviceEndpoint; atproto's
      // services are single URLs, so those are kept as "" (never usable).
      auto endpoint = entry.find("serviceEndpoint");
      if (endpoint == entry.end()) return shape_error("a service has no serviceEndpoint");
      service.id = std::move(*sid);
      service.type = std::move(*type);
      if (endpoint->is_string()) service.endpoint = endpoint->get<std::string>();
      out.services.push_back(std::move(service));
    }
  }
  return out;
}

nlohmann::json to_json(const DidDocument& document) {
  // [plc.doc.render] The contexts a PLC directory writes: DID Core, Multikey,
  // and the suite of each curve its keys use.
  json context =
      json::array({"https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"});
  auto add_context = [&context](const char* url) {
    if (std::find(context.begin(), context.end(), url) == context.end()) context.push_back(url);
  };
  json methods = json::array();
  for (const auto& method : document.verification_methods) {
    auto key =
        crypto::PublicKey::from_verification_method(method.type, method.public_key_multibase);
    if (key) {
      add_context(key->curve() == crypto::Curve::kP256
                      ? "https://w3id.org/security/suites/ecdsa-2019/v1"
                      : "https://w3id.org/security/suites/secp256k1-2019/v1");
    }
    methods.push_back(json{{"id", method.id},
                           {"type", method.type},
                           {"controller", method.controller},
                           {"publicKeyMultibase", method.public_key_multibase}});
  }
  json services = json::array();
  for (const auto& service : document.services) {
    services.push_back(
        json{{"id", service.id}, {"type", service.type}, {"serviceEndpoint", service.endpoint}});
  }
  return json{{"@context", std::move(context)},
              {"id", document.id},
              {"alsoKnownAs", document.also_known_as},
              {"verificationMethod", std::move(methods)},
              {"service", std::move(services)}};
}

Result<crypto::PublicKey> atproto_signing_key(const DidDocument& document) {
  // [did.doc.signing-key] The first entry with id #atproto, controlled by the
  // DID itself, whose key parses; [did.doc.legacy-keys] the legacy types
  // (uncompressed multibase, curve named by the type) are accepted too.
  std::string first_problem;
  for (const auto& method : document.verification_methods) {
    if (!id_names(method.id, document.id, "#atproto")) continue;
    if (method.controller != document.id) {
      if (first_problem.empty()) first_problem = "its controller is not the DID";
      continue;
    }
    auto key =
        crypto::PublicKey::from_verification_method(method.type, method.public_key_multibase);
    if (key) return key;
    if (first_problem.empty()) first_problem = key.error().code + ": " + key.error().message;
  }
  return make_error("did.doc.signing-key",
                    first_problem.empty()
                        ? "no #atproto verification method"
                        : "no usable #atproto verification method (" + first_problem + ")");
}

std::optional<std::string> atproto_pds_endpoint(const DidDocument& document) {
  // [did.doc.pds] The first #atproto_pds service of the PDS type is the one;
  // when its endpoint is not an http(s) origin there is no usable PDS (later
  // entries are not consulted).
  for (const auto& service : document.services) {
    if (!id_names(service.id, document.id, "#atproto_pds") || service.type != kPdsServiceType) {
      continue;
    }
    if (!is_http_origin(service.endpoint)) return std::nullopt;
    return service.endpoint;
  }
  return std::nullopt;
}

std::optional<std::string> claimed_handle(const DidDocument& document) {
  // [did.doc.handle] The first at:// entry holding a syntactically valid
  // handle, normalized to lowercase; later entries are ignored.
  for (const auto& uri : document.also_known_as) {
    if (!uri.starts_with("at://")) continue;
    std::string_view handle = std::string_view(uri).substr(5);
    if (syntax::validate_handle(handle)) return syntax::normalize_handle(handle);
  }
  return std::nullopt;
}

}  // namespace atproto::identity

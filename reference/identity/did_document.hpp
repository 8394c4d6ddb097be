// DID documents as atproto uses them: the `#atproto` signing key, the
// `#atproto_pds` service and the handle in `alsoKnownAs`.
// https://atproto.com/specs/did#did-documents
//
// API CONTRACT (integration note, remove when implemented): declared here
// first so that the PLC, resolver and server work can proceed in parallel.
// The plc-lib work implements this header in did_document.cpp.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "atproto/common/result.hpp"
#include "atproto/crypto/keys.hpp"

namespace atproto::identity {

struct VerificationMethod {
  std::string id;          // as written: "did:plc:...#atproto" or "#atproto"
  std::string type;        // "Multikey" or a legacy type
  std::string controller;  // a DID
  std::string public_key_multibase;
};

struct Service {
  std::string id;    // as written: "#atproto_pds" or "did:...#atproto_pds"
  std::string type;  // "AtprotoPersonalDataServer" for the PDS
  std::string endpoint;
};

struct DidDocument {
  std::string id;  // the DID
  std::vector<std::string> also_known_as;
  std::vector<VerificationMethod> verification_methods;
  std::vector<Service> services;
};

// Parses the fields atproto reads; rejects a document that is not an object,
// has no string `id`, or has malformed entries in the fields above.
Result<DidDocument> parse_did_document(const nlohmann::json& document);
// The W3C JSON form (with @context), as a PLC directory serves it.
nlohmann::json to_json(const DidDocument& document);

// The key of the verification method whose id ends in "#atproto" (either
// the full "<did>#atproto" or the relative "#atproto" form).
Result<crypto::PublicKey> atproto_signing_key(const DidDocument& document);
// The endpoint of the service "#atproto_pds" of type
// AtprotoPersonalDataServer, when it is an http(s) URL.
std::optional<std::string> atproto_pds_endpoint(const DidDocument& document);
// The handle claimed by the first "at://" entry of alsoKnownAs, if any.
std::optional<std::string> claimed_handle(const DidDocument& document);

}  // namespace atproto::identity

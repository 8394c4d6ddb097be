// Unit tests for DID documents: parsing, the JSON form and the atproto
// fields (signing key, PDS, handle).
#include <catch2/catch.hpp>

#include "atproto/identity/did_document.hpp"
#include "atproto/identity/test_generators.hpp"

namespace {

using namespace atproto;
using namespace atproto::identity;
using nlohmann::json;

const std::string kDid = "did:plc:ewvi7nxzyoun6zhxrhs64oiz";

json sample(const std::string& key_multibase) {
  return json{{"@context", {"https://www.w3.org/ns/did/v1"}},
              {"id", kDid},
              {"alsoKnownAs", {"at://Alice.Test", "at://bob.test"}},
              {"verificationMethod",
               {{{"id", kDid + "#atproto"},
                 {"type", "Multikey"},
                 {"controller", kDid},
                 {"publicKeyMultibase", key_multibase}}}},
              {"service",
               {{{"id", "#atproto_pds"},
                 {"type", "AtprotoPersonalDataServer"},
                 {"serviceEndpoint", "https://pds.example.com"}}}}};
}

}  // namespace

TEST_CASE("a DID document's atproto fields [did.doc.signing-key] [did.doc.pds] [did.doc.handle]",
          "[did-document]") {
  auto key = testing::test_key(crypto::Curve::kK256, 9);
  auto multibase = key.key.public_key().multibase();
  auto doc = parse_did_document(sample(multibase));
  REQUIRE(doc.ok());
  auto signing = atproto_signing_key(*doc);
  REQUIRE(signing.ok());
  CHECK(*signing == key.key.public_key());
  CHECK(atproto_pds_endpoint(*doc) == std::optional<std::string>("https://pds.example.com"));
  // The first valid at:// handle, lowercased.
  CHECK(claimed_handle(*doc) == std::optional<std::string>("alice.test"));
  // Round trip through the W3C form, with the secp256k1 suite context.
  auto json = to_json(*doc);
  CHECK(json["@context"].size() == 3);
  CHECK(json["@context"][2] == "https://w3id.org/security/suites/secp256k1-2019/v1");
  auto again = parse_did_document(json);
  REQUIRE(again.ok());
  CHECK(to_json(*again) == json);
}

TEST_CASE(
    "signing key selection rules [did.doc.signing-key] [did.doc.relative-ids] "
    "[did.doc.legacy-keys]",
    "[did-document]") {
  auto key = testing::test_key(crypto::Curve::kP256, 5);
  auto doc_json = sample(key.key.public_key().multibase());
  // A relative id works too.
  doc_json["verificationMethod"][0]["id"] = "#atproto";
  CHECK(atproto_signing_key(parse_did_document(doc_json).value()).ok());
  // An id qualified by another DID does not name this document's key.
  doc_json["verificationMethod"][0]["id"] = "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa#atproto";
  CHECK(atproto_signing_key(parse_did_document(doc_json).value()).error().code ==
        "did.doc.signing-key");
  // Another controller is refused.
  doc_json["verificationMethod"][0]["id"] = "#atproto";
  doc_json["verificationMethod"][0]["controller"] = "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa";
  CHECK(atproto_signing_key(parse_did_document(doc_json).value()).error().code ==
        "did.doc.signing-key");
  // The first VALID #atproto entry counts: a broken one is skipped.
  doc_json["verificationMethod"][0]["controller"] = kDid;
  doc_json["verificationMethod"][0]["publicKeyMultibase"] = "zBroken";
  auto legacy = doc_json["verificationMethod"][0];
  legacy["type"] = "EcdsaSecp256r1VerificationKey2019";
  legacy["publicKeyMultibase"] = key.key.public_key().legacy_multibase();
  doc_json["verificationMethod"].push_back(legacy);
  auto found = atproto_signing_key(parse_did_document(doc_json).value());
  REQUIRE(found.ok());
  CHECK(*found == key.key.public_key());
}

TEST_CASE(
    "PDS endpoint and handle edge cases [did.doc.pds] [did.doc.handle] [did.doc.relative-ids]",
    "[did-document]") {
  auto doc_json = sample("zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF");
  doc_json["service"][0]["id"] = kDid + "#atproto_pds";
  CHECK(atproto_pds_endpoint(parse_did_document(doc_json).value()).has_value());
  for (const char* bad : {"ftp://pds.example.com", "https://user@pds.example.com",
                          "https://pds.example.com/xrpc", "https://", "pds.example.com"}) {
    doc_json["service"][0]["serviceEndpoint"] = bad;
    CHECK_FALSE(atproto_pds_endpoint(parse_did_document(doc_json).value()).has_value());
  }
  doc_json["service"][0]["serviceEndpoint"] = "http://localhost:2583";
  CHECK(atproto_pds_endpoint(parse_did_document(doc_json).value()) ==
        std::optional<std::string>("http://localhost:2583"));
  doc_json["service"][0]["type"] = "Other";
  CHECK_FALSE(atproto_pds_endpoint(parse_did_document(doc_json).value()).has_value());

  doc_json["alsoKnownAs"] = {"https://alice.test", "at://not_a_handle", "at://carol.test"};
  CHECK(claimed_handle(parse_did_document(doc_json).value()) ==
        std::optional<std::string>("carol.test"));
  doc_json["alsoKnownAs"] = json::array();
  CHECK_FALSE(claimed_handle(parse_did_document(doc_json).value()).has_value());
}

TEST_CASE("malformed DID documents are refused [did.document.shape]", "[did-document]") {
  auto good = sample("zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF");
  CHECK(parse_did_document(good).ok());
  std::vector<json> bad = {json::array(), json{{"id", 5}}, json{{"id", "not a did"}}};
  auto aka = good;
  aka["alsoKnownAs"] = {5};
  bad.push_back(aka);
  auto vm = good;
  vm["verificationMethod"][0].erase("type");
  bad.push_back(vm);
  auto vm_not_array = good;
  vm_not_array["verificationMethod"] = json::object();
  bad.push_back(vm_not_array);
  auto service = good;
  service["service"][0].erase("serviceEndpoint");
  bad.push_back(service);
  for (const auto& doc : bad) {
    auto r = parse_did_document(doc);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == "did.document.shape");
  }
}

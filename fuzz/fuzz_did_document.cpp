// Fuzz target: DID documents (JSON text) through parse_did_document, the W3C
// JSON form and the atproto fields (signing key, PDS, handle).
// Spec: https://atproto.com/specs/did#did-documents
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

#include "atproto/identity/did_document.hpp"
#include "atproto/syntax/handle.hpp"
#include "fuzz_check.hpp"

namespace identity = atproto::identity;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  std::string_view in = fuzz::begin_input(bytes, size);
  auto json = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return 0;
  auto doc = identity::parse_did_document(json);
  if (!doc) {
    // [did.document.shape]
    FUZZ_CHECK(doc.error().code == "did.document.shape");
    return 0;
  }
  // The W3C form reads back to the same document and the same answers.
  auto written = identity::to_json(*doc);
  auto again = identity::parse_did_document(written);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(identity::to_json(*again) == written);
  auto key = identity::atproto_signing_key(*doc);
  auto key_again = identity::atproto_signing_key(*again);
  FUZZ_CHECK(key.ok() == key_again.ok());
  // [did.doc.signing-key]
  if (key) FUZZ_CHECK(*key == *key_again);
  if (!key) FUZZ_CHECK(key.error().code == "did.doc.signing-key");
  // [did.doc.pds] Only http(s) URLs.
  auto pds = identity::atproto_pds_endpoint(*doc);
  FUZZ_CHECK(pds == identity::atproto_pds_endpoint(*again));
  if (pds) FUZZ_CHECK(pds->starts_with("https://") || pds->starts_with("http://"));
  // [did.doc.handle] A valid, lowercase handle.
  auto handle = identity::claimed_handle(*doc);
  if (handle) {
    FUZZ_CHECK(atproto::syntax::validate_handle(*handle).ok());
    FUZZ_CHECK(fuzz::ascii_lower(*handle) == *handle);
  }
  return 0;
}

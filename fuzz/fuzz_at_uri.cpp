// Fuzz target: AT URIs, restricted (Lexicon) and general forms.
// Spec: https://atproto.com/specs/at-uri-scheme
#include <cstddef>
#include <cstdint>
#include <string>

#include "atproto/syntax/at_identifier.hpp"
#include "atproto/syntax/at_uri.hpp"
#include "atproto/syntax/format.hpp"
#include "atproto/syntax/nsid.hpp"
#include "atproto/syntax/record_key.hpp"
#include "atproto/syntax/uri.hpp"
#include "fuzz_check.hpp"
#include "oracles.hpp"

namespace syn = atproto::syntax;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in = fuzz::begin_input(data, size);

  auto valid = syn::validate_at_uri(in);
  FUZZ_CHECK(fuzz::error_in_family(valid, "aturi."));
  FUZZ_CHECK(syn::validate_string_format(syn::StringFormat::kAtUri, in).ok() == valid.ok());
  auto parsed = syn::parse_at_uri(in);
  FUZZ_CHECK(parsed.ok() == valid.ok());
  auto general = syn::parse_at_uri_general(in);

  // Composition oracle: the restricted form is "at://" + an at-identifier,
  // then an optional NSID and an optional record key, within 8 KiB.
  {
    bool expected = false;
    if (in.size() <= syn::kAtUriMaxLength && fuzz::starts_with(in, "at://")) {
      auto parts = fuzz::oracle::split(in.substr(5), '/');
      expected = parts.size() <= 3 && syn::validate_at_identifier(parts[0]).ok() &&
                 (parts.size() < 2 || syn::validate_nsid(parts[1]).ok()) &&
                 (parts.size() < 3 || syn::validate_record_key(parts[2]).ok());
    }
    FUZZ_CHECK(valid.ok() == expected);
  }

  if (valid.ok()) {
    const syn::AtUri& uri = *parsed;
    FUZZ_CHECK(uri.to_string() == in);
    FUZZ_CHECK(syn::validate_at_identifier(uri.authority).ok());
    FUZZ_CHECK(uri.authority_is_did() == fuzz::starts_with(uri.authority, "did:"));
    if (uri.collection) FUZZ_CHECK(syn::validate_nsid(*uri.collection).ok());
    if (uri.record_key)
      FUZZ_CHECK(uri.collection && syn::validate_record_key(*uri.record_key).ok());
    FUZZ_CHECK(syn::validate_uri(in).ok());  // an AT URI is a URI

    // The general form accepts everything the restricted form does.
    FUZZ_CHECK(general.ok());
    FUZZ_CHECK(general->authority == uri.authority);
    FUZZ_CHECK(!general->query && !general->fragment);
    std::size_t expected_segments = uri.record_key ? 2 : uri.collection ? 1 : 0;
    FUZZ_CHECK(general->path.size() == expected_segments);

    // [aturi.normalize]: lowercase handle and NSID authority; idempotent.
    std::string norm = syn::normalize_at_uri(uri);
    FUZZ_CHECK(norm.size() == in.size());
    auto reparsed = syn::parse_at_uri(norm);
    FUZZ_CHECK(reparsed.ok());
    FUZZ_CHECK(syn::normalize_at_uri(*reparsed) == norm);
    if (uri.authority_is_did())
      FUZZ_CHECK(reparsed->authority == uri.authority);
    else
      FUZZ_CHECK(reparsed->authority == fuzz::ascii_lower(uri.authority));
    if (uri.collection) FUZZ_CHECK(*reparsed->collection == syn::normalize_nsid(*uri.collection));
    FUZZ_CHECK(reparsed->record_key == uri.record_key);
  }

  if (general.ok()) {
    FUZZ_CHECK(fuzz::starts_with(in, "at://"));
    FUZZ_CHECK(!general->authority.empty());  // [aturi.authority.required]
    for (const auto& segment : general->path)
      FUZZ_CHECK(!segment.empty());  // [aturi.path.no-trailing-slash]
    if (general->fragment)
      FUZZ_CHECK(fuzz::starts_with(*general->fragment, "/"));  // [aturi.general.fragment]
  }
  return 0;
}

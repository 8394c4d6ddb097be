// Fuzz target: DIDs (generic syntax, did:plc, did:web, support checks).
// Spec: https://atproto.com/specs/did
#include <cstddef>
#include <cstdint>

#include "atproto/syntax/at_identifier.hpp"
#include "atproto/syntax/did.hpp"
#include "atproto/syntax/format.hpp"
#include "fuzz_check.hpp"
#include "oracles.hpp"

namespace syn = atproto::syntax;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in = fuzz::begin_input(data, size);

  auto valid = syn::validate_did(in);
  FUZZ_CHECK(valid.ok() == fuzz::oracle::is_did(in));  // [did.syntax.*]
  FUZZ_CHECK(fuzz::error_in_family(valid, "did."));
  FUZZ_CHECK(syn::validate_string_format(syn::StringFormat::kDid, in).ok() == valid.ok());
  if (fuzz::starts_with(in, "did:")) {
    FUZZ_CHECK(syn::validate_at_identifier(in).ok() == valid.ok());  // [lex.format.at-identifier]
  }

  auto parsed = syn::parse_did(in);
  FUZZ_CHECK(parsed.ok() == valid.ok());
  if (parsed.ok()) {
    FUZZ_CHECK(parsed->to_string() == in);
    FUZZ_CHECK(!parsed->method.empty() && !parsed->identifier.empty());
  }

  // [did.plc.syntax]
  auto plc = syn::validate_did_plc(in);
  FUZZ_CHECK(plc.ok() == fuzz::oracle::is_did_plc(in));

  // [did.web.*]: the development policy only widens what is accepted.
  auto web = syn::validate_did_web(in);
  auto web_dev = syn::validate_did_web(in, syn::DidWebPolicy{true});
  if (web.ok()) FUZZ_CHECK(web_dev.ok());
  if (web_dev.ok()) FUZZ_CHECK(valid.ok() && parsed->method == "web");

  // [did.method.blessed] [did.percent-encoding]
  auto pct = syn::check_did_percent_encoding(in);
  auto supported = syn::check_did_supported(in);
  auto supported_dev = syn::check_did_supported(in, syn::DidWebPolicy{true});
  if (supported.ok()) FUZZ_CHECK(supported_dev.ok());
  if (supported_dev.ok()) {
    FUZZ_CHECK(valid.ok() && pct.ok());
    FUZZ_CHECK(plc.ok() || web_dev.ok());
  }
  if (plc.ok()) FUZZ_CHECK(valid.ok() && supported.ok());
  if (web.ok() && pct.ok()) FUZZ_CHECK(supported.ok());
  return 0;
}

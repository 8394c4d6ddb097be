// Fuzz target: at-identifier (a DID or a handle).
// Spec: https://atproto.com/specs/lexicon#at-identifier
#include <cstddef>
#include <cstdint>

#include "atproto/syntax/at_identifier.hpp"
#include "atproto/syntax/did.hpp"
#include "atproto/syntax/format.hpp"
#include "atproto/syntax/handle.hpp"
#include "fuzz_check.hpp"
#include "oracles.hpp"

namespace syn = atproto::syntax;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in = fuzz::begin_input(data, size);

  // [lex.format.at-identifier]: "did:..." is judged as a DID, the rest as a handle.
  auto valid = syn::validate_at_identifier(in);
  bool is_did = fuzz::starts_with(in, "did:");
  auto as_did = syn::validate_did(in);
  auto as_handle = syn::validate_handle(in);
  FUZZ_CHECK(valid.ok() == (is_did ? as_did.ok() : as_handle.ok()));
  FUZZ_CHECK(valid.ok() == (is_did ? fuzz::oracle::is_did(in) : fuzz::oracle::is_handle(in)));
  if (!valid.ok()) FUZZ_CHECK(valid.error() == (is_did ? as_did.error() : as_handle.error()));
  FUZZ_CHECK(syn::validate_string_format(syn::StringFormat::kAtIdentifier, in).ok() == valid.ok());
  FUZZ_CHECK(syn::validate_string_format("at-identifier", in).ok() == valid.ok());
  // No string is both: handles cannot contain ':'.
  FUZZ_CHECK(!(as_did.ok() && as_handle.ok()));
  return 0;
}

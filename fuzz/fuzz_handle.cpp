// Fuzz target: handles. Spec: https://atproto.com/specs/handle
#include <cstddef>
#include <cstdint>

#include "atproto/syntax/at_identifier.hpp"
#include "atproto/syntax/format.hpp"
#include "atproto/syntax/handle.hpp"
#include "fuzz_check.hpp"
#include "oracles.hpp"

namespace syn = atproto::syntax;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in = fuzz::begin_input(data, size);

  auto valid = syn::validate_handle(in);
  FUZZ_CHECK(valid.ok() == fuzz::oracle::is_handle(in));  // [handle.syntax.*]
  FUZZ_CHECK(fuzz::error_in_family(valid, "handle.syntax."));
  FUZZ_CHECK(syn::validate_string_format(syn::StringFormat::kHandle, in).ok() == valid.ok());
  if (!fuzz::starts_with(in, "did:")) {
    FUZZ_CHECK(syn::validate_at_identifier(in).ok() == valid.ok());  // [lex.format.at-identifier]
  }

  auto parsed = syn::parse_handle(in);
  FUZZ_CHECK(parsed.ok() == valid.ok());

  // Registration checks only narrow the syntax. [handle.disallowed-tld] ...
  auto usable = syn::check_handle_usable(in);
  auto usable_dev = syn::check_handle_usable(in, syn::HandleUsePolicy{true});
  if (usable.ok()) FUZZ_CHECK(usable_dev.ok());
  if (usable_dev.ok()) FUZZ_CHECK(valid.ok() && in.size() <= syn::kHandleMaxRegistrableLength);
  (void)syn::has_disallowed_tld(in);

  if (valid.ok()) {
    // [handle.normalize.lowercase]
    std::string norm = syn::normalize_handle(in);
    FUZZ_CHECK(norm == fuzz::ascii_lower(in));
    FUZZ_CHECK(*parsed == norm);
    FUZZ_CHECK(syn::validate_handle(norm).ok());
    FUZZ_CHECK(syn::normalize_handle(norm) == norm);
    FUZZ_CHECK(syn::has_disallowed_tld(norm) == syn::has_disallowed_tld(in));
    if (syn::has_disallowed_tld(in)) FUZZ_CHECK(!usable.ok());
    if (norm == syn::kInvalidHandle) FUZZ_CHECK(!usable.ok());  // [handle.invalid-value]
  }
  return 0;
}

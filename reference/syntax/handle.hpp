// Handles: DNS-hostname account names.
// Spec: https://atproto.com/specs/handle
#pragma once

#include <string>
#include <string_view>

#include "atproto/common/result.hpp"

namespace atproto::syntax {

inline constexpr std::size_t kHandleMaxLength = 253;
// Longest handle whose "_atproto." DNS name still fits in 253 characters.
inline constexpr std::size_t kHandleMaxRegistrableLength = 244;
inline constexpr std::string_view kInvalidHandle = "handle.invalid";

// Syntax only: accepts any case and reserved TLDs (Lexicon `handle` format).
// Error codes: handle.syntax.*.
Status validate_handle(std::string_view input);

// Validates, then returns the normalized (lowercase) handle.
Result<std::string> parse_handle(std::string_view input);

// ASCII lowercase of an already-valid handle. [handle.normalize.lowercase]
std::string normalize_handle(std::string_view handle);

// True when the handle's TLD is one of the TLDs the spec disallows for
// registration and resolution (.alt, .arpa, ..., .onion). Case-insensitive.
bool has_disallowed_tld(std::string_view handle);

struct HandleUsePolicy {
  bool allow_test_tld = false;  // development setups may use .test
};

// Checks a syntactically valid handle for registration or resolution:
// disallowed TLDs (handle.disallowed-tld), the special handle.invalid value
// (handle.invalid-value), .test outside development (handle.test-tld) and
// the 244-character practical limit (handle.practical-length).
Status check_handle_usable(std::string_view input, HandleUsePolicy policy = {});

}  // namespace atproto::syntax

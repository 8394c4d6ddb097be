// DIDs: persistent account identifiers.
// Spec: https://atproto.com/specs/did and the did:plc method spec.
#pragma once

#include <string>
#include <string_view>

#include "atproto/common/result.hpp"

namespace atproto::syntax {

inline constexpr std::size_t kDidMaxLength = 2048;

struct Did {
  std::string method;      // "plc", "web", ...
  std::string identifier;  // everything after "did:<method>:"

  std::string to_string() const { return "did:" + method + ":" + identifier; }
  friend bool operator==(const Did&, const Did&) = default;
};

// Generic DID syntax as atproto restricts it (Lexicon `did` format): any
// method is accepted here. Error codes: did.syntax.*.
Status validate_did(std::string_view input);
Result<Did> parse_did(std::string_view input);

// did:plc method syntax. [did.plc.syntax]
Status validate_did_plc(std::string_view input);

struct DidWebPolicy {
  bool allow_localhost = false;  // development and testing only
};
// did:web method syntax: hostname only, handle TLD rules, ports only on
// localhost. Error codes: did.web.*.
Status validate_did_web(std::string_view input, DidWebPolicy policy = {});

// For registration and resolution: syntax, then the method must be one of
// the blessed ones (did.method.blessed) and follow its rules, and any
// percent-encoding must be well formed (did.percent-encoding).
Status check_did_supported(std::string_view input, DidWebPolicy policy = {});

// Well-formed percent-encoding ('%' followed by two hex digits). [did.percent-encoding]
Status check_did_percent_encoding(std::string_view input);

}  // namespace atproto::syntax

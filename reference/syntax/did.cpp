// DID syntax, and the did:plc / did:web method rules.
// Spec: https://atproto.com/specs/did and https://web.plc.directory/spec/v0.1/did-plc
#include "atproto/syntax/did.hpp"

#include <array>

#include "ascii.hpp"
#include "atproto/syntax/handle.hpp"

namespace atproto::syntax {
namespace {

Error did_error(std::string code, std::string_view input, std::string_view why) {
  return make_error(std::move(code),
                    "invalid DID " + ascii::quote(input) + ": " + std::string(why));
}

// [did.syntax.chars]
constexpr bool is_did_char(char c) {
  return ascii::is_alnum(c) || c == '.' || c == '_' || c == ':' || c == '%' || c == '-';
}

// is_did_char as a table: every record with a DID field (mentions, likes,
// follows) checks each of its characters.
constexpr std::array<bool, 256> kDidChars = [] {
  std::array<bool, 256> table{};
  for (int c = 0; c < 256; ++c)
    table[static_cast<std::size_t>(c)] = is_did_char(static_cast<char>(c));
  return table;
}();

constexpr bool is_base32_lower(char c) { return ascii::is_lower(c) || (c >= '2' && c <= '7'); }

}  // namespace

Status validate_did(std::string_view input) {
  // [did.syntax.prefix] Case-sensitive: "DID:" and "Did:" are rejected.
  if (input.substr(0, 4) != "did:") {
    return did_error("did.syntax.prefix", input, "must start with lowercase \"did:\"");
  }
  // [did.syntax.max-length]
  if (input.size() > kDidMaxLength) {
    return did_error("did.syntax.max-length", input, "longer than 2048 characters");
  }
  for (char c : input) {
    if (kDidChars[static_cast<unsigned char>(c)]) continue;
    // [did.syntax.no-query-fragment] DID URL parts are not identifiers.
    if (c == '/' || c == '?' || c == '#') {
      return did_error("did.syntax.no-query-fragment", input,
                       "paths, queries and fragments are not part of a DID");
    }
    return did_error("did.syntax.chars", input,
                     "only ASCII letters, digits and . _ : % - are allowed");
  }
  // [did.syntax.method] One or more lowercase letters, then ':'.
  std::string_view rest = input.substr(4);
  std::size_t colon = rest.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return did_error("did.syntax.method", input, "a method name followed by ':' is required");
  }
  for (char c : rest.substr(0, colon)) {
    if (!ascii::is_lower(c)) {
      return did_error("did.syntax.method", input, "the method name must be lowercase letters a-z");
    }
  }
  // [did.syntax.identifier] Non-empty, and not ending in ':' or '%'.
  std::string_view identifier = rest.substr(colon + 1);
  if (identifier.empty()) {
    return did_error("did.syntax.identifier", input, "the method-specific identifier is empty");
  }
  if (identifier.back() == ':' || identifier.back() == '%') {
    return did_error("did.syntax.identifier", input, "a DID may not end with ':' or '%'");
  }
  return {};
}

Result<Did> parse_did(std::string_view input) {
  if (auto status = validate_did(input); !status.ok()) return status.error();
  std::string_view rest = input.substr(4);
  std::size_t colon = rest.find(':');
  return Did{std::string(rest.substr(0, colon)), std::string(rest.substr(colon + 1))};
}

Status check_did_percent_encoding(std::string_view input) {
  // [did.percent-encoding] '%' must introduce exactly two hex digits.
  for (std::size_t i = 0; i < input.size(); ++i) {
    if (input[i] != '%') continue;
    if (i + 2 >= input.size() || !ascii::is_hex(input[i + 1]) || !ascii::is_hex(input[i + 2])) {
      return did_error("did.percent-encoding", input, "'%' must be followed by two hex digits");
    }
  }
  return {};
}

Status validate_did_plc(std::string_view input) {
  if (auto status = validate_did(input); !status.ok()) return status;
  if (input.substr(0, 8) != "did:plc:") {
    return did_error("did.plc.syntax", input, "not a did:plc DID");
  }
  // [did.plc.syntax] 24 characters of lowercase base32 after "did:plc:".
  std::string_view id = input.substr(8);
  if (id.size() != 24) {
    return did_error("did.plc.syntax", input, "a did:plc identifier is exactly 24 characters");
  }
  bool has_upper = false;
  for (char c : id) {
    if (is_base32_lower(c)) continue;
    if (ascii::is_upper(c) && is_base32_lower(ascii::to_lower(c))) {
      has_upper = true;
      continue;
    }
    return did_error("did.plc.syntax", input,
                     "a did:plc identifier uses only base32 characters a-z and 2-7");
  }
  // [did.case.reject-invalid] Reject rather than silently lowercase.
  if (has_upper) {
    return did_error("did.case.reject-invalid", input, "did:plc identifiers are lowercase");
  }
  return {};
}

Status validate_did_web(std::string_view input, DidWebPolicy policy) {
  if (auto status = validate_did(input); !status.ok()) return status;
  if (input.substr(0, 8) != "did:web:") {
    return did_error("did.web.hostname-only", input, "not a did:web DID");
  }
  std::string_view id = input.substr(8);
  // [did.web.hostname-only] Further ':' would introduce path segments.
  if (id.find(':') != std::string_view::npos) {
    return did_error("did.web.hostname-only", input,
                     "did:web paths are not supported in atproto, only a hostname");
  }
  // [did.web.localhost-port] A port needs an encoded colon, "%3A".
  std::string_view host = id;
  std::string_view port;
  if (std::size_t pct = id.find('%'); pct != std::string_view::npos) {
    std::string_view encoded = id.substr(pct);
    if (encoded.size() < 3 || !ascii::equals_ignore_case(encoded.substr(0, 3), "%3a")) {
      return did_error("did.web.hostname-only", input,
                       "the only percent-encoding allowed in did:web is %3A before a port");
    }
    host = id.substr(0, pct);
    port = encoded.substr(3);
    if (port.empty() || port.size() > 5) {
      return did_error("did.web.localhost-port", input, "the port must be 1 to 5 digits");
    }
    unsigned value = 0;
    for (char c : port) {
      if (!ascii::is_digit(c)) {
        return did_error("did.web.localhost-port", input, "the port must be decimal digits");
      }
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value == 0 || value > 65535) {
      return did_error("did.web.localhost-port", input, "the port must be 1 to 65535");
    }
  }
  if (host == "localhost") {
    if (!policy.allow_localhost) {
      return did_error("did.web.localhost-port", input,
                       "did:web:localhost is only for development and testing");
    }
    return {};
  }
  if (!port.empty()) {
    return did_error("did.web.localhost-port", input, "ports are only allowed for localhost");
  }
  if (auto status = validate_handle(host); !status.ok()) {
    return did_error("did.web.hostname-only", input,
                     "the identifier is not a valid hostname (" + status.error().code + ")");
  }
  // [did.case.reject-invalid]
  for (char c : host) {
    if (ascii::is_upper(c)) {
      return did_error("did.case.reject-invalid", input, "did:web hostnames are lowercase");
    }
  }
  // [did.web.disallowed-tld] The handle TLD rules apply.
  if (has_disallowed_tld(host)) {
    return did_error("did.web.disallowed-tld", input, "the hostname's TLD is disallowed");
  }
  return {};
}

Status check_did_supported(std::string_view input, DidWebPolicy policy) {
  if (auto status = validate_did(input); !status.ok()) return status;
  if (auto status = check_did_percent_encoding(input); !status.ok()) return status;
  // [did.method.blessed] [did.distinguish-failures] An unsupported method is
  // its own outcome, distinct from invalid syntax.
  if (input.substr(0, 8) == "did:plc:") return validate_did_plc(input);
  if (input.substr(0, 8) == "did:web:") return validate_did_web(input, policy);
  return did_error("did.method.blessed", input, "only did:plc and did:web are supported");
}

}  // namespace atproto::syntax

// Record key syntax and Lexicon record key types.
// Spec: https://atproto.com/specs/record-key
#include "atproto/syntax/record_key.hpp"

#include <string>

#include "ascii.hpp"
#include "atproto/syntax/nsid.hpp"
#include "atproto/syntax/tid.hpp"

namespace atproto::syntax {
namespace {

Error rkey_error(std::string code, std::string_view input, std::string_view why) {
  return make_error(std::move(code),
                    "invalid record key " + ascii::quote(input) + ": " + std::string(why));
}

// [rkey.syntax.chars] The RFC 3986 "unreserved" set plus ':'.
constexpr bool is_record_key_char(char c) {
  return ascii::is_alnum(c) || c == '.' || c == '-' || c == '_' || c == ':' || c == '~';
}

}  // namespace

Status validate_record_key(std::string_view input) {
  // [rkey.syntax.length]
  if (input.empty() || input.size() > kRecordKeyMaxLength) {
    return rkey_error("rkey.syntax.length", input, "must be 1 to 512 characters");
  }
  for (char c : input) {
    if (!is_record_key_char(c)) {
      return rkey_error("rkey.syntax.chars", input,
                        "only ASCII letters, digits and . - _ : ~ are allowed");
    }
  }
  // [rkey.syntax.not-dot]
  if (input == "." || input == "..") {
    return rkey_error("rkey.syntax.not-dot", input, "'.' and '..' are not record keys");
  }
  // [rkey.case-sensitive] Nothing is normalized: keys compare byte for byte.
  return {};
}

Status validate_record_key_type(std::string_view key, std::string_view key_type) {
  if (auto status = validate_record_key(key); !status.ok()) return status;
  if (key_type == "any") return {};  // [rkey.type.any]
  if (key_type == "tid") {           // [rkey.type.tid]
    if (auto status = validate_tid(key); !status.ok()) {
      return rkey_error("rkey.type.tid", key,
                        "this collection requires TID keys (" + status.error().code + ")");
    }
    return {};
  }
  if (key_type == "nsid") {  // [rkey.type.nsid]
    if (auto status = validate_nsid(key); !status.ok()) {
      return rkey_error("rkey.type.nsid", key,
                        "this collection requires NSID keys (" + status.error().code + ")");
    }
    return {};
  }
  constexpr std::string_view kLiteral = "literal:";
  if (key_type.substr(0, kLiteral.size()) == kLiteral) {  // [rkey.type.literal]
    std::string_view literal = key_type.substr(kLiteral.size());
    if (key != literal) {
      return rkey_error("rkey.type.literal", key,
                        "this collection only allows the key " + ascii::quote(literal));
    }
    return {};
  }
  return make_error("rkey.type.unknown", "unknown record key type " + ascii::quote(key_type) +
                                             " (expected tid, nsid, any or literal:<value>)");
}

}  // namespace atproto::syntax

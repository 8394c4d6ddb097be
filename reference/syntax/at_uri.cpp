// AT URI parsing: the restricted Lexicon form and the general syntax.
// Spec: https://atproto.com/specs/at-uri-scheme
#include "atproto/syntax/at_uri.hpp"

#include "ascii.hpp"
#include "atproto/syntax/did.hpp"
#include "atproto/syntax/handle.hpp"
#include "atproto/syntax/nsid.hpp"
#include "atproto/syntax/record_key.hpp"
#include "uri_chars.hpp"

namespace atproto::syntax {
namespace {

Error aturi_error(std::string code, std::string_view input, std::string_view why) {
  return make_error(std::move(code),
                    "invalid AT URI " + ascii::quote(input) + ": " + std::string(why));
}

// Checks shared by both forms; on success `rest` is what follows "at://".
Status check_prefix(std::string_view input, std::string_view& rest) {
  // [aturi.syntax.ascii] ASCII, and no whitespace or control characters.
  for (char c : input) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) {
      return aturi_error("aturi.syntax.ascii", input,
                         "only printable ASCII is allowed (no spaces or control characters)");
    }
  }
  // [aturi.syntax.max-length]
  if (input.size() > kAtUriMaxLength) {
    return aturi_error("aturi.syntax.max-length", input, "longer than 8192 characters");
  }
  // [aturi.syntax.scheme] Lowercase "at", and the authority's "//".
  if (input.substr(0, 5) != "at://") {
    return aturi_error("aturi.syntax.scheme", input, "must start with \"at://\"");
  }
  rest = input.substr(5);
  return {};
}

// [aturi.authority.required] [aturi.authority.no-userinfo]
Status check_authority_shape(std::string_view input, std::string_view authority) {
  if (authority.empty()) {
    return aturi_error("aturi.authority.required", input, "the authority is empty");
  }
  if (authority.find('@') != std::string_view::npos) {
    return aturi_error("aturi.authority.no-userinfo", input,
                       "userinfo (and a leading '@') is not supported in the authority");
  }
  return {};
}

}  // namespace

std::string AtUri::to_string() const {
  std::string out = "at://" + authority;
  if (collection) out += "/" + *collection;
  if (record_key) out += "/" + *record_key;
  return out;
}

Result<AtUri> parse_at_uri(std::string_view input) {
  std::string_view rest;
  if (auto status = check_prefix(input, rest); !status.ok()) return status.error();
  // [aturi.restricted.no-query-fragment]
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return aturi_error("aturi.restricted.no-query-fragment", input,
                       "the Lexicon at-uri form has no query or fragment");
  }
  std::vector<std::string_view> parts;
  ascii::split(rest, '/', [&](std::string_view p) { parts.push_back(p); });
  if (auto status = check_authority_shape(input, parts[0]); !status.ok()) return status.error();
  // [aturi.path.no-trailing-slash] An empty segment is a trailing or doubled slash.
  for (std::size_t i = 1; i < parts.size(); ++i) {
    if (parts[i].empty()) {
      return aturi_error("aturi.path.no-trailing-slash", input,
                         "trailing or doubled '/' in the path");
    }
  }
  AtUri uri;
  uri.authority = std::string(parts[0]);
  // [aturi.authority.identifier] A DID (anything starting "did:") or a handle.
  Status authority_status =
      uri.authority_is_did() ? validate_did(uri.authority) : validate_handle(uri.authority);
  if (!authority_status.ok()) {
    return aturi_error("aturi.authority.identifier", input,
                       "the authority is neither a valid DID nor a valid handle (" +
                           authority_status.error().code + ")");
  }
  if (parts.size() > 3) {
    return aturi_error("aturi.path.record-key", input,
                       "at most two path segments (collection and record key) are allowed");
  }
  if (parts.size() >= 2) {
    // [aturi.path.collection]
    if (auto status = validate_nsid(parts[1]); !status.ok()) {
      return aturi_error("aturi.path.collection", input,
                         "the collection is not a valid NSID (" + status.error().code + ")");
    }
    uri.collection = std::string(parts[1]);
  }
  if (parts.size() == 3) {
    // [aturi.path.record-key]
    if (auto status = validate_record_key(parts[2]); !status.ok()) {
      return aturi_error("aturi.path.record-key", input,
                         "the record key is not valid (" + status.error().code + ")");
    }
    uri.record_key = std::string(parts[2]);
  }
  return uri;
}

Status validate_at_uri(std::string_view input) {
  auto parsed = parse_at_uri(input);
  if (!parsed.ok()) return parsed.error();
  return {};
}

std::string normalize_at_uri(const AtUri& uri) {
  // [aturi.normalize] Handles and NSID authorities are case-insensitive;
  // DIDs and record keys are case-sensitive and kept as they are.
  AtUri out = uri;
  if (!out.authority_is_did()) out.authority = normalize_handle(out.authority);
  if (out.collection) out.collection = normalize_nsid(*out.collection);
  return out.to_string();
}

Result<AtUriGeneral> parse_at_uri_general(std::string_view input) {
  using uri_chars::all_chars_or_pct;
  using uri_chars::is_pchar;
  std::string_view rest;
  if (auto status = check_prefix(input, rest); !status.ok()) return status.error();
  AtUriGeneral uri;
  // [aturi.general.fragment] A JSON Path fragment, which starts with '/'.
  if (std::size_t hash = rest.find('#'); hash != std::string_view::npos) {
    std::string_view fragment = rest.substr(hash + 1);
    rest = rest.substr(0, hash);
    if (fragment.empty() || fragment[0] != '/') {
      return aturi_error("aturi.general.fragment", input,
                         "a fragment is a JSON Path and starts with '/'");
    }
    if (!all_chars_or_pct(fragment, [](char c) { return is_pchar(c) || c == '/' || c == '?'; })) {
      return aturi_error("aturi.general.percent-encoding", input,
                         "invalid character or percent-encoding in the fragment");
    }
    uri.fragment = std::string(fragment);
  }
  // [aturi.general.query] Generic URI query syntax.
  if (std::size_t q = rest.find('?'); q != std::string_view::npos) {
    std::string_view query = rest.substr(q + 1);
    rest = rest.substr(0, q);
    if (!all_chars_or_pct(query, [](char c) { return is_pchar(c) || c == '/' || c == '?'; })) {
      return aturi_error("aturi.general.query", input,
                         "invalid character or percent-encoding in the query");
    }
    uri.query = std::string(query);
  }
  std::vector<std::string_view> parts;
  ascii::split(rest, '/', [&](std::string_view p) { parts.push_back(p); });
  if (auto status = check_authority_shape(input, parts[0]); !status.ok()) return status.error();
  // The general authority is an opaque string: a DID (whose syntax leaves
  // percent-escapes unchecked, so the restricted form stays a subset of the
  // general one), or reg-name characters and ':' with well-formed escapes.
  // [aturi.general.percent-encoding]
  const bool did_authority = parts[0].substr(0, 4) == "did:" && validate_did(parts[0]).ok();
  if (!did_authority && !all_chars_or_pct(parts[0], [](char c) {
        return uri_chars::is_unreserved(c) || uri_chars::is_sub_delim(c) || c == ':';
      })) {
    return aturi_error("aturi.general.percent-encoding", input,
                       "invalid character or percent-encoding in the authority");
  }
  uri.authority = std::string(parts[0]);
  for (std::size_t i = 1; i < parts.size(); ++i) {
    // [aturi.path.no-trailing-slash]
    if (parts[i].empty()) {
      return aturi_error("aturi.path.no-trailing-slash", input,
                         "trailing or doubled '/' in the path");
    }
    if (!all_chars_or_pct(parts[i], is_pchar)) {
      return aturi_error("aturi.general.percent-encoding", input,
                         "invalid character or percent-encoding in the path");
    }
    uri.path.emplace_back(parts[i]);
  }
  return uri;
}

}  // namespace atproto::syntax

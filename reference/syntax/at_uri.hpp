// AT URIs: at://AUTHORITY[/COLLECTION[/RKEY]].
// Spec: https://atproto.com/specs/at-uri-scheme
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "atproto/common/result.hpp"

namespace atproto::syntax {

inline constexpr std::size_t kAtUriMaxLength = 8192;

// The restricted form used by the Lexicon `at-uri` format.
struct AtUri {
  std::string authority;  // a DID or a handle, as written
  std::optional<std::string> collection;
  std::optional<std::string> record_key;

  bool authority_is_did() const { return authority.rfind("did:", 0) == 0; }
  std::string to_string() const;
  friend bool operator==(const AtUri&, const AtUri&) = default;
};

// Error codes: aturi.*.
Status validate_at_uri(std::string_view input);
Result<AtUri> parse_at_uri(std::string_view input);

// Lowercases a handle authority and the collection's NSID authority.
// [aturi.normalize]
std::string normalize_at_uri(const AtUri& uri);

// The general syntax: any path segments, optional query and fragment.
struct AtUriGeneral {
  std::string authority;
  std::vector<std::string> path;  // segments, still percent-encoded
  std::optional<std::string> query;
  std::optional<std::string> fragment;  // without '#', starts with '/'
};
Result<AtUriGeneral> parse_at_uri_general(std::string_view input);

}  // namespace atproto::syntax

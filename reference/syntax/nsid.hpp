// NSIDs: namespaced identifiers for Lexicon schemas.
// Spec: https://atproto.com/specs/nsid
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "atproto/common/result.hpp"

namespace atproto::syntax {

inline constexpr std::size_t kNsidMaxLength = 317;
inline constexpr std::size_t kNsidAuthorityMaxLength = 253;
inline constexpr std::size_t kNsidSegmentMaxLength = 63;

struct Nsid {
  std::vector<std::string> segments;  // as written, e.g. {"com","example","fooBar"}

  // "example.com": the authority segments in DNS (un-reversed) order.
  std::string authority_domain() const;
  // "fooBar": the last segment.
  const std::string& name() const { return segments.back(); }
  std::string to_string() const;
  friend bool operator==(const Nsid&, const Nsid&) = default;
};

// Error codes: nsid.syntax.*, nsid.authority.*, nsid.name.*.
Status validate_nsid(std::string_view input);
Result<Nsid> parse_nsid(std::string_view input);

// Lowercases the authority segments only; the name keeps its case.
// [nsid.authority.normalize] [nsid.name.case-sensitive]
std::string normalize_nsid(std::string_view valid_nsid);

// NSID patterns: a full NSID (matches itself), a bare "*" (matches all),
// or one or more authority-style segments followed by ".*" (matches every
// NSID under that prefix, nested ones included). Error code nsid.glob.
// [nsid.glob]
Status validate_nsid_glob(std::string_view input);
// Whether `nsid` matches `pattern` (an NSID or a valid glob).
bool nsid_glob_matches(std::string_view pattern, std::string_view nsid);

}  // namespace atproto::syntax

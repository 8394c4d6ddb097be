// The Lexicon `uri` format: RFC 3986 section 3 "URI" (absolute, optional
// fragment), limited to 8 KiB.
// Spec: https://atproto.com/specs/lexicon#uri
#include "atproto/syntax/uri.hpp"

#include <string>
#include <vector>

#include "atproto/syntax/did.hpp"
#include "uri_chars.hpp"

namespace atproto::syntax {
namespace {

using uri_chars::all_chars_or_pct;
using uri_chars::is_pchar;
using uri_chars::is_sub_delim;
using uri_chars::is_unreserved;

Error uri_error(std::string_view input, std::string_view why) {
  return make_error("lex.format.uri",
                    "invalid URI " + ascii::quote(input) + ": " + std::string(why));
}

// dec-octet "." dec-octet "." dec-octet "." dec-octet
bool is_ipv4(std::string_view s) {
  int parts = 0;
  bool ok = true;
  ascii::split(s, '.', [&](std::string_view p) {
    ++parts;
    // dec-octet: 1-3 digits, no leading zero, at most 255.
    if (p.empty() || p.size() > 3 || (p.size() > 1 && p[0] == '0')) {
      ok = false;
      return;
    }
    int v = 0;
    for (char c : p) {
      if (!ascii::is_digit(c)) {
        ok = false;
        return;
      }
      v = v * 10 + (c - '0');
    }
    if (v > 255) ok = false;
  });
  return ok && parts == 4;
}

bool is_h16(std::string_view s) {
  if (s.empty() || s.size() > 4) return false;
  for (char c : s) {
    if (!ascii::is_hex(c)) return false;
  }
  return true;
}

// RFC 3986 IPv6address: eight h16 groups, or fewer with one "::", and an
// optional trailing IPv4 address taking the place of the last two groups.
bool is_ipv6(std::string_view s) {
  std::size_t gap = s.find("::");
  if (gap != std::string_view::npos && s.find("::", gap + 1) != std::string_view::npos)
    return false;
  auto count_groups = [](std::string_view part, bool may_end_ipv4, int& groups) {
    if (part.empty()) return true;
    bool ok = true;
    std::vector<std::string_view> pieces;
    ascii::split(part, ':', [&](std::string_view p) { pieces.push_back(p); });
    for (std::size_t i = 0; i < pieces.size(); ++i) {
      if (may_end_ipv4 && i + 1 == pieces.size() && pieces[i].find('.') != std::string_view::npos) {
        if (!is_ipv4(pieces[i])) ok = false;
        groups += 2;
      } else {
        if (!is_h16(pieces[i])) ok = false;
        groups += 1;
      }
    }
    return ok;
  };
  int groups = 0;
  if (gap == std::string_view::npos) {
    return count_groups(s, true, groups) && groups == 8;
  }
  std::string_view head = s.substr(0, gap);
  std::string_view tail = s.substr(gap + 2);
  if (!count_groups(head, false, groups) || !count_groups(tail, true, groups)) return false;
  return groups <= 7;
}

// IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )
bool is_ipvfuture(std::string_view s) {
  if (s.size() < 4 || (s[0] != 'v' && s[0] != 'V')) return false;
  std::size_t dot = s.find('.');
  if (dot == std::string_view::npos || dot < 2) return false;
  for (char c : s.substr(1, dot - 1)) {
    if (!ascii::is_hex(c)) return false;
  }
  std::string_view rest = s.substr(dot + 1);
  if (rest.empty()) return false;
  for (char c : rest) {
    if (!is_unreserved(c) && !is_sub_delim(c) && c != ':') return false;
  }
  return true;
}

// authority = [ userinfo "@" ] host [ ":" port ]
bool is_authority(std::string_view s) {
  std::size_t at = s.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view userinfo = s.substr(0, at);
    if (!all_chars_or_pct(userinfo,
                          [](char c) { return is_unreserved(c) || is_sub_delim(c) || c == ':'; })) {
      return false;
    }
    s = s.substr(at + 1);
  }
  std::string_view host = s;
  if (!s.empty() && s[0] == '[') {
    std::size_t close = s.find(']');
    if (close == std::string_view::npos) return false;
    std::string_view literal = s.substr(1, close - 1);
    if (!is_ipv6(literal) && !is_ipvfuture(literal)) return false;
    host = s.substr(0, close + 1);
    s = s.substr(close + 1);
    if (!s.empty() && s[0] != ':') return false;
  } else {
    std::size_t colon = s.find(':');
    host = s.substr(0, colon);
    s = colon == std::string_view::npos ? std::string_view{} : s.substr(colon);
    // reg-name (which also covers IPv4address)
    if (!all_chars_or_pct(host, [](char c) { return is_unreserved(c) || is_sub_delim(c); })) {
      return false;
    }
  }
  if (!s.empty()) {  // ":" port, port = *DIGIT
    for (char c : s.substr(1)) {
      if (!ascii::is_digit(c)) return false;
    }
  }
  return true;
}

bool is_path(std::string_view s) {
  return all_chars_or_pct(s, [](char c) { return is_pchar(c) || c == '/'; });
}

}  // namespace

Status validate_uri(std::string_view input) {
  // [lex.format.uri]
  if (input.size() > kUriMaxLength) return uri_error(input, "longer than 8 KiB");
  // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then ':'.
  std::size_t colon = input.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return uri_error(input,
                     "a scheme followed by ':' is required (relative references are not URIs)");
  }
  std::string_view scheme = input.substr(0, colon);
  if (!ascii::is_alpha(scheme[0])) return uri_error(input, "the scheme must start with a letter");
  for (char c : scheme) {
    if (!ascii::is_alnum(c) && c != '+' && c != '-' && c != '.') {
      return uri_error(input, "the scheme may only hold letters, digits, '+', '-' and '.'");
    }
  }
  std::string_view rest = input.substr(colon + 1);
  if (rest.empty()) return uri_error(input, "nothing follows the scheme");
  // Split off the fragment, then the query.
  std::string_view fragment, query;
  bool has_fragment = false, has_query = false;
  if (std::size_t hash = rest.find('#'); hash != std::string_view::npos) {
    fragment = rest.substr(hash + 1);
    rest = rest.substr(0, hash);
    has_fragment = true;
  }
  if (std::size_t q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
    has_query = true;
  }
  auto query_char = [](char c) { return is_pchar(c) || c == '/' || c == '?'; };
  if (has_fragment && !all_chars_or_pct(fragment, query_char)) {
    return uri_error(input, "invalid character or percent-encoding in the fragment");
  }
  if (has_query && !all_chars_or_pct(query, query_char)) {
    return uri_error(input, "invalid character or percent-encoding in the query");
  }
  // hier-part
  const bool has_authority = rest.substr(0, 2) == "//";
  if (has_authority) {
    rest = rest.substr(2);
    std::size_t slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    std::string_view path =
        slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
    // AT URIs put DIDs, with unencoded colons, in the authority, which RFC
    // 3986 would misread as host:port. The Lexicon spec names `at` as a uri
    // scheme and asks for the most expansive reading, so for at: URIs an
    // authority of reg-name characters plus ':' is also accepted.
    bool at_authority =
        ascii::equals_ignore_case(scheme, "at") &&
        (validate_did(authority).ok() || uri_chars::all_chars_or_pct(authority, [](char c) {
           return is_unreserved(c) || is_sub_delim(c) || c == ':';
         }));
    if (!is_authority(authority) && !at_authority) return uri_error(input, "invalid authority");
    if (!is_path(path))
      return uri_error(input, "invalid character or percent-encoding in the path");
  } else {
    // path-absolute / path-rootless / path-empty. path-absolute may not
    // begin with "//", handled above.
    if (!is_path(rest))
      return uri_error(input, "invalid character or percent-encoding in the path");
  }
  if (rest.empty() && !has_authority && !has_query && !has_fragment) {
    return uri_error(input, "nothing follows the scheme");
  }
  return {};
}

}  // namespace atproto::syntax

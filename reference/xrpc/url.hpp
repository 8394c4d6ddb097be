// Request-target helpers for the HTTP server: percent-decoding of the path
// and of query parameters (RFC 3986 section 2.1; '+' means space in a query,
// as HTML forms and every XRPC client library encode it).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "atproto/common/result.hpp"

namespace atproto::xrpc {

// Decodes %XX escapes (and '+' as space when plus_is_space); a '%' not
// followed by two hex digits is an error ("xrpc.url.escape").
Result<std::string> percent_decode(std::string_view in, bool plus_is_space);

// Percent-encodes every byte outside the RFC 3986 unreserved set
// (A-Z a-z 0-9 - . _ ~), with uppercase hex digits.
std::string percent_encode(std::string_view in);

struct RequestTarget {
  std::string path;                                        // decoded
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
};

// Splits "path?query" and decodes both parts. A parameter without '=' has
// an empty value; empty pairs ("a=1&&b=2") are skipped.
Result<RequestTarget> split_target(std::string_view target);

}  // namespace atproto::xrpc

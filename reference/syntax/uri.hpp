// The Lexicon `uri` format: an absolute URI under RFC 3986.
// Spec: https://atproto.com/specs/lexicon#uri
#pragma once

#include <string_view>

#include "atproto/common/result.hpp"

namespace atproto::syntax {

inline constexpr std::size_t kUriMaxLength = 8192;

// RFC 3986 "URI" production (scheme ":" hier-part ["?" query] ["#" fragment])
// with a non-empty part after the scheme, at most 8 KiB. Error code:
// lex.format.uri.
Status validate_uri(std::string_view input);

}  // namespace atproto::syntax

// at-identifier: a DID or a handle.
// Spec: https://atproto.com/specs/lexicon#at-identifier
#pragma once

#include <string_view>

#include "atproto/common/result.hpp"

namespace atproto::syntax {

// A string starting with "did:" must be a valid DID; anything else must be a
// valid handle. The error is the DID or handle error. [lex.format.at-identifier]
Status validate_at_identifier(std::string_view input);

}  // namespace atproto::syntax

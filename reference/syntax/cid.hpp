// CID strings as the Lexicon `cid` format carries them.
// Spec: https://atproto.com/specs/data-model#link-and-cid-formats
#pragma once

#include <cstdint>
#include <string_view>

#include "atproto/common/result.hpp"

namespace atproto::syntax {

inline constexpr std::uint64_t kCodecDagCbor = 0x71;
inline constexpr std::uint64_t kCodecRaw = 0x55;
inline constexpr std::uint64_t kHashSha256 = 0x12;

// Syntax of a blessed CID string: 'b' + lowercase base32 (RFC 4648, no
// padding) of: varint version 1, varint codec (0x71 or 0x55), varint hash
// code 0x12, varint length 32, then 32 digest bytes, and nothing else.
// Error code: lex.format.cid (the message names the part that is wrong).
Status validate_cid_string(std::string_view input);

}  // namespace atproto::syntax

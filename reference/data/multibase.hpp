// Multibase string encodings used by atproto: lowercase base32 (prefix 'b',
// the string form of CIDs) and base58btc (prefix 'z', used by did:key and
// multikey values).
// Spec: https://atproto.com/specs/data-model#link-and-cid-formats and
// https://atproto.com/specs/cryptography#public-key-encoding
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "atproto/common/result.hpp"

namespace atproto::data {

using ByteVector = std::vector<std::uint8_t>;

// RFC 4648 base32, lowercase alphabet a-z 2-7, no padding (no prefix).
std::string base32_encode(std::span<const std::uint8_t> bytes);
// Strict inverse of base32_encode: only a-z and 2-7, no padding, a length
// that some byte string produces, and unused trailing bits all zero, so each
// byte string has exactly one accepted text. Error code: data.multibase.base32.
Result<ByteVector> base32_decode(std::string_view text);

// Bitcoin base58 alphabet (no 0, O, I, l); leading zero bytes become '1'.
std::string base58btc_encode(std::span<const std::uint8_t> bytes);
// Error code: data.multibase.base58btc (a character outside the alphabet).
Result<ByteVector> base58btc_decode(std::string_view text);

enum class Multibase { kBase32, kBase58btc };

// The prefix character followed by the encoding: 'b' + base32, 'z' + base58btc.
std::string multibase_encode(Multibase base, std::span<const std::uint8_t> bytes);
// Accepts only the two prefixes above. Error codes: data.multibase.prefix,
// then those of the decoder for the chosen base.
Result<ByteVector> multibase_decode(std::string_view text);

}  // namespace atproto::data

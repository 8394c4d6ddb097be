// Base64 for the JSON form of `bytes` values.
// Spec: https://atproto.com/specs/data-model#bytes
//
// The data model uses the standard RFC 4648 section 4 alphabet (A-Z a-z 0-9
// + /, not the URL-safe one) and makes '=' padding optional. We always write
// it without padding. The decoder accepts a text with no padding or with the
// exact padding RFC 4648 prescribes, and nothing else: no whitespace, no
// URL-safe characters, no stray '=' and no non-zero unused bits (those would
// let two texts mean the same bytes).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "atproto/common/result.hpp"

namespace atproto::data {

// Standard alphabet, no padding.
std::string base64_encode(std::span<const std::uint8_t> bytes);

// Error code: data.json.bytes-base64.
Result<std::vector<std::uint8_t>> base64_decode(std::string_view text);

// Base64url (RFC 4648 section 5), the URL-safe alphabet ('-' and '_'),
// always without padding: the `sig` of did:plc operations uses it
// (https://web.plc.directory/spec/v0.1/did-plc).
std::string base64url_encode(std::span<const std::uint8_t> bytes);
// Strict inverse of base64url_encode: URL-safe alphabet only, no '='
// padding, a length some byte string produces and unused trailing bits all
// zero, so each byte string has exactly one accepted text. Error code:
// data.base64url.
Result<std::vector<std::uint8_t>> base64url_decode(std::string_view text);

}  // namespace atproto::data

// Unsigned varints as multiformats uses them inside CIDs and multihashes.
// Spec: https://atproto.com/specs/data-model#link-and-cid-formats (CIDs follow
// DASL CID, whose binary form is a sequence of multiformats unsigned varints).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "atproto/common/result.hpp"

namespace atproto::data {

// The multiformats unsigned varint is capped at 9 bytes (63 bits of payload).
inline constexpr std::size_t kMaxVarintBytes = 9;
inline constexpr std::uint64_t kMaxVarintValue = (std::uint64_t{1} << 63) - 1;

// Appends the minimal LEB128 encoding of `value` (7 bits per byte, low group
// first, high bit set on every byte but the last). `value` must not exceed
// kMaxVarintValue; larger values are a caller bug and are clamped.
void append_varint(std::vector<std::uint8_t>& out, std::uint64_t value);

// Reads one varint starting at `pos` and advances `pos` past it.
// Error codes: data.varint.truncated (input ends inside the varint),
// data.varint.max-length (more than 9 bytes), data.varint.minimal (a trailing
// zero group, i.e. the value has a shorter encoding).
Result<std::uint64_t> read_varint(std::span<const std::uint8_t> in, std::size_t& pos);

}  // namespace atproto::data

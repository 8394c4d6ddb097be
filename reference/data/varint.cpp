// Unsigned varints (multiformats flavour of LEB128).
// Spec: https://atproto.com/specs/data-model#link-and-cid-formats
#include "atproto/data/varint.hpp"

#include <string>

#include "atproto/common/varint.hpp"

namespace atproto::data {

void append_varint(std::vector<std::uint8_t>& out, std::uint64_t value) {
  if (value > kMaxVarintValue) value = kMaxVarintValue;
  while (value >= 0x80) {
    out.push_back(static_cast<std::uint8_t>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<std::uint8_t>(value));
}

Result<std::uint64_t> read_varint(std::span<const std::uint8_t> in, std::size_t& pos) {
  std::uint64_t value = 0;
  switch (varint::read(in, pos, value)) {
    case varint::ReadError::kNone:
      return value;
    case varint::ReadError::kTruncated:
      // [data.varint.truncated] The input may not end inside a varint.
      return make_error("data.varint.truncated", "input ends inside a varint");
    case varint::ReadError::kNotMinimal:
      // [data.varint.minimal] A last group of zero means a shorter form exists.
      return make_error("data.varint.minimal",
                        "varint is not minimally encoded (last byte is 0x00)");
    case varint::ReadError::kTooLong:
      break;
  }
  // [data.varint.max-length] At most 9 bytes.
  return make_error("data.varint.max-length", "varint is longer than 9 bytes");
}

}  // namespace atproto::data

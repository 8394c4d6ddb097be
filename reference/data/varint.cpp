// Unsigned varints (multiformats flavour of LEB128).
// Spec: https://atproto.com/specs/data-model#link-and-cid-formats
#include "atproto/data/varint.hpp"

#include <string>

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
  for (std::size_t n = 0; n < kMaxVarintBytes; ++n) {
    // [data.varint.truncated] The input may not end inside a varint.
    if (pos >= in.size()) {
      return make_error("data.varint.truncated", "input ends inside a varint");
    }
    std::uint8_t byte = in[pos++];
    value |= std::uint64_t{byte & 0x7fu} << (7 * n);
    if ((byte & 0x80) == 0) {
      // [data.varint.minimal] A last group of zero means a shorter form exists.
      if (byte == 0 && n > 0) {
        return make_error("data.varint.minimal",
                          "varint is not minimally encoded (last byte is 0x00)");
      }
      return value;
    }
  }
  // [data.varint.max-length] At most 9 bytes.
  return make_error("data.varint.max-length", "varint is longer than 9 bytes");
}

}  // namespace atproto::data

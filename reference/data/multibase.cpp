// Multibase base32 (lowercase, 'b') and base58btc ('z').
// Spec: https://atproto.com/specs/data-model#link-and-cid-formats
#include "atproto/data/multibase.hpp"

#include <cstddef>

#include "atproto/common/base32.hpp"

namespace atproto::data {
namespace {

constexpr char kBase32Alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
constexpr char kBase58Alphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

int base58_value(char c) {
  for (int i = 0; i < 58; ++i) {
    if (kBase58Alphabet[i] == c) return i;
  }
  return -1;
}

Error base32_error(std::string why) {
  return make_error("data.multibase.base32", "invalid base32: " + why);
}

}  // namespace

namespace {

// Appends the base32 text of `bytes` to `out`, written in place (one
// resize; no growth check per character): each 5 bytes are 8 digits, the
// rest is padded with zero bits. CID strings are formatted per relayed
// event, so this is on the relay's path.
void append_base32(std::string& out, std::span<const std::uint8_t> bytes) {
  const std::size_t start = out.size();
  out.resize(start + (bytes.size() * 8 + 4) / 5);
  char* p = out.data() + start;
  std::size_t i = 0;
  for (; i + 5 <= bytes.size(); i += 5) {
    std::uint64_t group = 0;
    for (std::size_t k = 0; k < 5; ++k) group = (group << 8) | bytes[i + k];
    for (int shift = 35; shift >= 0; shift -= 5) *p++ = kBase32Alphabet[(group >> shift) & 0x1f];
  }
  std::uint32_t buffer = 0;
  int bits = 0;
  for (; i < bytes.size(); ++i) {
    buffer = (buffer << 8) | bytes[i];
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      *p++ = kBase32Alphabet[(buffer >> bits) & 0x1f];
    }
    buffer &= (1u << bits) - 1;
  }
  if (bits > 0) *p++ = kBase32Alphabet[(buffer << (5 - bits)) & 0x1f];
}

}  // namespace

std::string base32_encode(std::span<const std::uint8_t> bytes) {
  std::string out;
  append_base32(out, bytes);
  return out;
}

Result<ByteVector> base32_decode(std::string_view text) {
  ByteVector out;
  switch (base32::decode(text, out)) {
    case base32::DecodeError::kNone:
      return out;
    case base32::DecodeError::kCharacter:
      // [data.multibase.base32] Lowercase RFC 4648 alphabet, no padding.
      return base32_error("character outside a-z and 2-7 (lowercase, no padding)");
    case base32::DecodeError::kLength:
      // [data.multibase.base32] A canonical text leaves fewer than 5 spare
      // bits, all zero; otherwise two texts would decode to the same bytes.
      return base32_error("length is not one an encoder produces");
    case base32::DecodeError::kTrailingBits:
      return base32_error("unused trailing bits are not zero");
  }
  return base32_error("unknown");
}

std::string base58btc_encode(std::span<const std::uint8_t> bytes) {
  std::size_t zeros = 0;
  while (zeros < bytes.size() && bytes[zeros] == 0) ++zeros;
  // Base-58 digits, least significant first, by repeated multiply-add.
  std::vector<std::uint8_t> digits;
  for (std::size_t i = zeros; i < bytes.size(); ++i) {
    std::uint32_t carry = bytes[i];
    for (auto& d : digits) {
      carry += std::uint32_t{d} << 8;
      d = static_cast<std::uint8_t>(carry % 58);
      carry /= 58;
    }
    while (carry > 0) {
      digits.push_back(static_cast<std::uint8_t>(carry % 58));
      carry /= 58;
    }
  }
  std::string out(zeros, '1');
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) out += kBase58Alphabet[*it];
  return out;
}

Result<ByteVector> base58btc_decode(std::string_view text) {
  std::size_t ones = 0;
  while (ones < text.size() && text[ones] == '1') ++ones;
  // Bytes, least significant first.
  std::vector<std::uint8_t> bytes;
  for (std::size_t i = ones; i < text.size(); ++i) {
    int v = base58_value(text[i]);
    // [data.multibase.base58btc] Only the 58 characters of the bitcoin alphabet.
    if (v < 0) {
      return make_error("data.multibase.base58btc",
                        "invalid base58btc: character outside the bitcoin alphabet");
    }
    auto carry = static_cast<std::uint32_t>(v);
    for (auto& b : bytes) {
      carry += std::uint32_t{b} * 58;
      b = static_cast<std::uint8_t>(carry & 0xff);
      carry >>= 8;
    }
    while (carry > 0) {
      bytes.push_back(static_cast<std::uint8_t>(carry & 0xff));
      carry >>= 8;
    }
  }
  ByteVector out(ones, 0);
  out.insert(out.end(), bytes.rbegin(), bytes.rend());
  return out;
}

std::string multibase_encode(Multibase base, std::span<const std::uint8_t> bytes) {
  if (base == Multibase::kBase32) {
    std::string out(1, 'b');
    append_base32(out, bytes);
    return out;
  }
  return "z" + base58btc_encode(bytes);
}

Result<ByteVector> multibase_decode(std::string_view text) {
  // [data.multibase.prefix] Only 'b' (base32 lower) and 'z' (base58btc).
  if (!text.empty() && text[0] == 'b') return base32_decode(text.substr(1));
  if (!text.empty() && text[0] == 'z') return base58btc_decode(text.substr(1));
  return make_error("data.multibase.prefix",
                    "unsupported multibase prefix: only 'b' (base32) and 'z' (base58btc)");
}

}  // namespace atproto::data

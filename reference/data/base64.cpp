// Base64 (RFC 4648 section 4) for `$bytes`.
// Spec: https://atproto.com/specs/data-model#bytes
#include "atproto/data/base64.hpp"

namespace atproto::data {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int value_of(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

Error base64_error(const std::string& why) {
  return make_error("data.json.bytes-base64", "invalid base64 in $bytes: " + why);
}

}  // namespace

std::string base64_encode(std::span<const std::uint8_t> bytes) {
  // [data.json.bytes-base64] Written with the standard alphabet, unpadded.
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (std::uint8_t b : bytes) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(buffer >> bits) & 0x3f];
    }
    buffer &= (1u << bits) - 1;
  }
  if (bits > 0) out += kAlphabet[(buffer << (6 - bits)) & 0x3f];
  return out;
}

Result<std::vector<std::uint8_t>> base64_decode(std::string_view text) {
  // [data.json.bytes-base64] Padding is optional, but when present it must be
  // exactly what completes the last group of four characters.
  std::size_t end = text.size();
  while (end > 0 && text[end - 1] == '=') --end;
  std::size_t padding = text.size() - end;
  if (padding > 0 && (text.size() % 4 != 0 || padding > 2)) {
    return base64_error("wrong '=' padding");
  }
  std::vector<std::uint8_t> out;
  out.reserve(end * 3 / 4);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (std::size_t i = 0; i < end; ++i) {
    int v = value_of(text[i]);
    // [data.json.bytes-base64] Standard alphabet only (not URL-safe).
    if (v < 0) return base64_error("character outside the standard alphabet");
    buffer = (buffer << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>(buffer >> bits));
      buffer &= (1u << bits) - 1;
    }
  }
  // One leftover character (6 bits) cannot come from any byte string.
  if (bits >= 6) return base64_error("length is not one an encoder produces");
  if (padding > 0 && (end % 4) + padding != 4) return base64_error("wrong '=' padding");
  if (buffer != 0) return base64_error("unused trailing bits are not zero");
  return out;
}

}  // namespace atproto::data

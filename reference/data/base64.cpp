// Base64 (RFC 4648 section 4) for `$bytes`.
// Spec: https://atproto.com/specs/data-model#bytes
#include "atproto/data/base64.hpp"

namespace atproto::data {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
// RFC 4648 section 5: the last two characters are replaced by '-' and '_'.
constexpr char kUrlAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int value_of(char c, const char* alphabet) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == alphabet[62]) return 62;
  if (c == alphabet[63]) return 63;
  return -1;
}

std::string encode_with(std::span<const std::uint8_t> bytes, const char* alphabet) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (std::uint8_t b : bytes) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += alphabet[(buffer >> bits) & 0x3f];
    }
    buffer &= (1u << bits) - 1;
  }
  if (bits > 0) out += alphabet[(buffer << (6 - bits)) & 0x3f];
  return out;
}

// Decodes the characters of `text` (no padding left in it); "" on success or
// the reason the text is not one an encoder writes.
std::string decode_with(std::string_view text, const char* alphabet,
                        std::vector<std::uint8_t>& out) {
  out.reserve(text.size() * 3 / 4);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    int v = value_of(c, alphabet);
    if (v < 0) return "character outside the alphabet";
    buffer = (buffer << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>(buffer >> bits));
      buffer &= (1u << bits) - 1;
    }
  }
  // One leftover character (6 bits) cannot come from any byte string.
  if (bits >= 6) return "length is not one an encoder produces";
  if (buffer != 0) return "unused trailing bits are not zero";
  return "";
}

Error base64_error(const std::string& why) {
  return make_error("data.json.bytes-base64", "invalid base64 in $bytes: " + why);
}

}  // namespace

std::string base64_encode(std::span<const std::uint8_t> bytes) {
  // [data.json.bytes-base64] Written with the standard alphabet, unpadded.
  return encode_with(bytes, kAlphabet);
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
  // [data.json.bytes-base64] Standard alphabet only (not URL-safe).
  std::vector<std::uint8_t> out;
  if (auto why = decode_with(text.substr(0, end), kAlphabet, out); !why.empty()) {
    return base64_error(why);
  }
  if (padding > 0 && (end % 4) + padding != 4) return base64_error("wrong '=' padding");
  return out;
}

std::string base64url_encode(std::span<const std::uint8_t> bytes) {
  return encode_with(bytes, kUrlAlphabet);
}

Result<std::vector<std::uint8_t>> base64url_decode(std::string_view text) {
  std::vector<std::uint8_t> out;
  if (text.find('=') != std::string_view::npos) {
    return make_error("data.base64url", "invalid base64url: '=' padding is not allowed");
  }
  if (auto why = decode_with(text, kUrlAlphabet, out); !why.empty()) {
    return make_error("data.base64url", "invalid base64url: " + why);
  }
  return out;
}

}  // namespace atproto::data

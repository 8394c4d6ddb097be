// CID string syntax for the blessed atproto CID forms.
// Spec: https://atproto.com/specs/data-model#link-and-cid-formats
#include "atproto/syntax/cid.hpp"

#include <string>
#include <vector>

#include "ascii.hpp"

namespace atproto::syntax {
namespace {

Error cid_error(std::string_view input, std::string_view why) {
  return make_error("lex.format.cid",
                    "invalid CID " + ascii::quote(input) + ": " + std::string(why));
}

int base32_value(char c) {
  if (c >= 'a' && c <= 'z') return c - 'a';
  if (c >= '2' && c <= '7') return c - '2' + 26;
  return -1;
}

// Reads an unsigned LEB128 varint (multiformats style: at most 9 bytes,
// minimal encoding). Returns false if malformed.
bool read_varint(const std::vector<std::uint8_t>& bytes, std::size_t& pos, std::uint64_t& out) {
  out = 0;
  for (int shift = 0, n = 0; n < 9; shift += 7, ++n) {
    if (pos >= bytes.size()) return false;
    std::uint8_t b = bytes[pos++];
    out |= std::uint64_t{b & 0x7fu} << shift;
    if ((b & 0x80) == 0) return !(b == 0 && n > 0);  // no trailing zero groups
  }
  return false;
}

}  // namespace

Status validate_cid_string(std::string_view input) {
  // [lex.format.cid] Only CIDv1, base32 lowercase with the 'b' prefix.
  if (input.empty()) return cid_error(input, "empty");
  if (input.size() > 256) return cid_error(input, "longer than any blessed CID");
  if (input[0] != 'b') {
    return cid_error(input, input.substr(0, 2) == "Qm"
                                ? "CIDv0 (base58 \"Qm...\") is not allowed; use CIDv1 in base32"
                                : "must use the base32 multibase prefix 'b'");
  }
  std::vector<std::uint8_t> bytes;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : input.substr(1)) {
    int v = base32_value(c);
    if (v < 0) return cid_error(input, "not lowercase base32 (a-z, 2-7, no padding)");
    buffer = (buffer << 5) | static_cast<std::uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes.push_back(static_cast<std::uint8_t>(buffer >> bits));
      buffer &= (1u << bits) - 1;
    }
  }
  // A canonical encoding leaves fewer than 5 spare bits, all zero.
  if (bits >= 5 || buffer != 0) return cid_error(input, "non-canonical base32 ending");
  std::size_t pos = 0;
  std::uint64_t version = 0, codec = 0, hash = 0, length = 0;
  if (!read_varint(bytes, pos, version) || version != 1) {
    return cid_error(input, "the CID version must be 1");
  }
  if (!read_varint(bytes, pos, codec) || (codec != kCodecDagCbor && codec != kCodecRaw)) {
    return cid_error(input, "the codec must be dag-cbor (0x71) or raw (0x55)");
  }
  if (!read_varint(bytes, pos, hash) || hash != kHashSha256) {
    return cid_error(input, "the multihash must be sha2-256 (0x12)");
  }
  if (!read_varint(bytes, pos, length) || length != 32) {
    return cid_error(input, "a sha2-256 digest is 32 bytes");
  }
  if (bytes.size() - pos != 32) {
    return cid_error(
        input, bytes.size() - pos < 32 ? "the digest is truncated" : "bytes follow the digest");
  }
  return {};
}

}  // namespace atproto::syntax

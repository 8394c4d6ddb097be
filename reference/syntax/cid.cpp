// CID string syntax for the blessed atproto CID forms.
// Spec: https://atproto.com/specs/data-model#link-and-cid-formats
#include "atproto/syntax/cid.hpp"

#include <string>
#include <vector>

#include "ascii.hpp"
#include "atproto/common/base32.hpp"
#include "atproto/common/varint.hpp"

namespace atproto::syntax {
namespace {

Error cid_error(std::string_view input, std::string_view why) {
  return make_error("lex.format.cid",
                    "invalid CID " + ascii::quote(input) + ": " + std::string(why));
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
  switch (base32::decode(input.substr(1), bytes)) {
    case base32::DecodeError::kNone:
      break;
    case base32::DecodeError::kCharacter:
      return cid_error(input, "not lowercase base32 (a-z, 2-7, no padding)");
    case base32::DecodeError::kLength:
    case base32::DecodeError::kTrailingBits:
      // A canonical encoding leaves fewer than 5 spare bits, all zero.
      return cid_error(input, "non-canonical base32 ending");
  }
  std::size_t pos = 0;
  std::uint64_t version = 0, codec = 0, hash = 0, length = 0;
  // Each field is a minimal varint of at most 9 bytes.
  auto read_varint = [&](std::uint64_t& out) {
    return varint::read(bytes, pos, out) == varint::ReadError::kNone;
  };
  if (!read_varint(version) || version != 1) {
    return cid_error(input, "the CID version must be 1");
  }
  if (!read_varint(codec) || (codec != kCodecDagCbor && codec != kCodecRaw)) {
    return cid_error(input, "the codec must be dag-cbor (0x71) or raw (0x55)");
  }
  if (!read_varint(hash) || hash != kHashSha256) {
    return cid_error(input, "the multihash must be sha2-256 (0x12)");
  }
  if (!read_varint(length) || length != 32) {
    return cid_error(input, "a sha2-256 digest is 32 bytes");
  }
  if (bytes.size() - pos != 32) {
    return cid_error(
        input, bytes.size() - pos < 32 ? "the digest is truncated" : "bytes follow the digest");
  }
  return {};
}

}  // namespace atproto::syntax

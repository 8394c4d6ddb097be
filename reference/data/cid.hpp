// Content identifiers (CIDs) in the forms atproto blesses.
// Spec: https://atproto.com/specs/data-model#link-and-cid-formats and
// https://atproto.com/specs/blob#blob-metadata
//
// A blessed CID is: version 1, codec dag-cbor (0x71, DRISL data) or raw
// (0x55, blobs), multihash sha2-256 (0x12) with a 32-byte digest. Its binary
// form is varint(1) varint(codec) varint(0x12) varint(32) digest (36 bytes);
// its string form is 'b' followed by lowercase base32 of the binary form.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "atproto/common/result.hpp"

namespace atproto::data {

enum class Codec : std::uint8_t {
  kRaw = 0x55,      // blobs
  kDagCbor = 0x71,  // DRISL / DAG-CBOR data nodes
};

inline constexpr std::uint64_t kHashSha256 = 0x12;
inline constexpr std::size_t kSha256Size = 32;
inline constexpr std::size_t kCidBinarySize = 36;

using Digest = std::array<std::uint8_t, kSha256Size>;

// SHA-256 of `bytes` (OpenSSL libcrypto).
Digest sha256(std::span<const std::uint8_t> bytes);

class Cid {
 public:
  Cid(Codec codec, const Digest& digest) : codec_(codec), digest_(digest) {}

  // The CID of a block: SHA-256 of its bytes, with the given codec.
  static Cid compute(Codec codec, std::span<const std::uint8_t> block);

  // Parses the binary form; the span must hold exactly one CID. Error codes:
  // data.cid.version, data.cid.codec, data.cid.hash, data.cid.binary (bad
  // varint, truncated, or bytes after the digest).
  static Result<Cid> from_bytes(std::span<const std::uint8_t> bytes);

  // Parses the string form ('b' + base32). Error codes: data.cid.string
  // (anything but canonical lowercase base32 with the 'b' prefix, including
  // CIDv0 "Qm..."), then those of from_bytes.
  static Result<Cid> parse(std::string_view text);

  Codec codec() const { return codec_; }
  const Digest& digest() const { return digest_; }

  std::vector<std::uint8_t> to_bytes() const;
  // The binary form (always kCidBinarySize bytes: both codecs are one-byte
  // varints) appended to `out`, for encoders that would otherwise copy it
  // out of a vector of its own.
  void append_bytes(std::vector<std::uint8_t>& out) const;
  std::string to_string() const;

  // Ordering follows the binary form (codec byte, then digest bytes).
  friend auto operator<=>(const Cid&, const Cid&) = default;
  friend bool operator==(const Cid&, const Cid&) = default;

 private:
  Codec codec_;
  Digest digest_;
};

}  // namespace atproto::data

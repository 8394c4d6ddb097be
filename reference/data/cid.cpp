// Blessed CIDs: parse, format, compute.
// Spec: https://atproto.com/specs/data-model#link-and-cid-formats
#include "atproto/data/cid.hpp"

// The low-level SHA-256 calls are deprecated in OpenSSL 3 in favour of
// EVP, but EVP_DigestInit_ex allocates (and frees) the provider's context on
// every call in OpenSSL 3.0, even with a context kept per thread: one malloc
// per hash, about a third of the time of hashing a 40-byte key. The
// low-level calls run the same SHA-256 code (SHA-NI where the CPU has it)
// on a context on the stack.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <cstdlib>

#include "atproto/data/multibase.hpp"
#include "atproto/data/varint.hpp"

namespace atproto::data {

Digest sha256(std::span<const std::uint8_t> bytes) {
  Digest out{};
  SHA256_CTX context;
  // These calls cannot fail for a context on the stack; a failure would be
  // a broken OpenSSL installation, not the input, so it is fatal.
  if (SHA256_Init(&context) != 1 || SHA256_Update(&context, bytes.data(), bytes.size()) != 1 ||
      SHA256_Final(out.data(), &context) != 1) {
    std::abort();
  }
  return out;
}

Cid Cid::compute(Codec codec, std::span<const std::uint8_t> block) {
  return Cid(codec, sha256(block));
}

Result<Cid> Cid::from_bytes(std::span<const std::uint8_t> bytes) {
  // The usual input first: a blessed CID whose four varints are one byte
  // each (0x01, 0x71 or 0x55, 0x12, 0x20), then the digest. One-byte
  // varints are always minimal, so this is exactly what the checks below
  // accept in these 36 bytes; any other input goes through them.
  if (bytes.size() == kCidBinarySize && bytes[0] == 0x01 &&
      (bytes[1] == static_cast<std::uint8_t>(Codec::kDagCbor) ||
       bytes[1] == static_cast<std::uint8_t>(Codec::kRaw)) &&
      bytes[2] == kHashSha256 && bytes[3] == kSha256Size) {
    Digest digest;
    std::copy(bytes.begin() + 4, bytes.end(), digest.begin());
    return Cid(static_cast<Codec>(bytes[1]), digest);
  }
  std::size_t pos = 0;
  auto binary_error = [](const Error& e) {
    return make_error("data.cid.binary", "malformed CID: " + e.message);
  };
  auto version = read_varint(bytes, pos);
  if (!version) return binary_error(version.error());
  // [data.cid.version] Only CIDv1. (A CIDv0 starts with 0x12 0x20.)
  if (*version != 1) {
    return make_error("data.cid.version", "CID version must be 1, got " + std::to_string(*version));
  }
  auto codec = read_varint(bytes, pos);
  if (!codec) return binary_error(codec.error());
  // [data.cid.codec] dag-cbor (0x71) for data, raw (0x55) for blobs.
  if (*codec != static_cast<std::uint64_t>(Codec::kDagCbor) &&
      *codec != static_cast<std::uint64_t>(Codec::kRaw)) {
    return make_error("data.cid.codec", "CID codec must be dag-cbor (0x71) or raw (0x55), got " +
                                            std::to_string(*codec));
  }
  auto hash = read_varint(bytes, pos);
  if (!hash) return binary_error(hash.error());
  // [data.cid.hash] The multihash is sha2-256 with a 32-byte digest.
  if (*hash != kHashSha256) {
    return make_error("data.cid.hash",
                      "CID hash must be sha2-256 (0x12), got " + std::to_string(*hash));
  }
  auto length = read_varint(bytes, pos);
  if (!length) return binary_error(length.error());
  if (*length != kSha256Size) {
    return make_error("data.cid.hash",
                      "sha2-256 digest length must be 32, got " + std::to_string(*length));
  }
  // [data.cid.binary] Exactly the digest follows, nothing more or less.
  if (bytes.size() - pos < kSha256Size) {
    return make_error("data.cid.binary", "CID digest is truncated");
  }
  if (bytes.size() - pos > kSha256Size) {
    return make_error("data.cid.binary", "bytes follow the CID digest");
  }
  Digest digest{};
  std::copy(bytes.begin() + static_cast<std::ptrdiff_t>(pos), bytes.end(), digest.begin());
  return Cid(static_cast<Codec>(*codec), digest);
}

Result<Cid> Cid::parse(std::string_view text) {
  // [data.cid.string] The string form is 'b' + lowercase base32 of the binary form.
  if (text.empty() || text[0] != 'b') {
    return make_error("data.cid.string",
                      text.substr(0, 2) == "Qm"
                          ? "CIDv0 strings (base58 \"Qm...\") are not allowed"
                          : "CID string must start with the base32 multibase prefix 'b'");
  }
  // A blessed CID is 36 bytes, 58 base32 characters; refuse long input early.
  if (text.size() > 1 + 64) return make_error("data.cid.string", "CID string is too long");
  auto bytes = base32_decode(text.substr(1));
  if (!bytes) return make_error("data.cid.string", "CID string: " + bytes.error().message);
  return from_bytes(*bytes);
}

namespace {

// The binary form of a blessed CID. Each of its four varints is a single
// byte (every value is below 0x80), so they are written as bytes, without
// the general varint encoder: CIDs are written for every MST node encoded
// and every CID string formatted, on the relay's path among others.
using Binary = std::array<std::uint8_t, kCidBinarySize>;
static_assert(static_cast<std::uint8_t>(Codec::kDagCbor) < 0x80 &&
              static_cast<std::uint8_t>(Codec::kRaw) < 0x80 && kHashSha256 < 0x80 &&
              kSha256Size < 0x80 && kCidBinarySize == 4 + kSha256Size);
Binary binary_form(Codec codec, const Digest& digest) {
  Binary out{0x01, static_cast<std::uint8_t>(codec), kHashSha256, kSha256Size};
  std::copy(digest.begin(), digest.end(), out.begin() + 4);
  return out;
}

}  // namespace

std::vector<std::uint8_t> Cid::to_bytes() const {
  const Binary binary = binary_form(codec_, digest_);
  return std::vector<std::uint8_t>(binary.begin(), binary.end());
}

void Cid::append_bytes(std::vector<std::uint8_t>& out) const {
  const Binary binary = binary_form(codec_, digest_);
  out.insert(out.end(), binary.begin(), binary.end());
}

// The binary form stays on the stack: no vector of its own per string.
std::string Cid::to_string() const {
  return multibase_encode(Multibase::kBase32, binary_form(codec_, digest_));
}

}  // namespace atproto::data

// K-256 (secp256k1) keys through libsecp256k1: point parsing, public key
// derivation, low-S signing and verification.
// Spec: https://atproto.com/specs/cryptography
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <cstdlib>

#include "keys_internal.hpp"

namespace atproto::crypto::detail {
namespace {

// A libsecp256k1 context for signing and verifying, made once. Its blinding
// is randomized at creation (a side-channel defence for signing); after that
// it is only read, which libsecp256k1 allows from several threads at once.
const secp256k1_context* k256_context() {
  static const secp256k1_context* const context = [] {
    secp256k1_context* ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    if (ctx == nullptr) std::abort();
    unsigned char seed[32];
    // Without randomness the context still works, only without blinding.
    if (RAND_bytes(seed, sizeof seed) == 1 && secp256k1_context_randomize(ctx, seed) != 1) {
      std::abort();
    }
    OPENSSL_cleanse(seed, sizeof seed);
    return ctx;
  }();
  return context;
}

}  // namespace

bool k256_parse_point(std::span<const std::uint8_t> sec1, PublicKeyState& state) {
  // [crypto.key.on-curve] libsecp256k1 checks coordinates and the curve equation.
  if (secp256k1_ec_pubkey_parse(k256_context(), &state.k256, sec1.data(), sec1.size()) != 1) {
    return false;
  }
  std::size_t size = kCompressedKeySize;
  secp256k1_ec_pubkey_serialize(k256_context(), state.compressed.data(), &size, &state.k256,
                                SECP256K1_EC_COMPRESSED);
  size = kUncompressedKeySize;
  secp256k1_ec_pubkey_serialize(k256_context(), state.uncompressed.data(), &size, &state.k256,
                                SECP256K1_EC_UNCOMPRESSED);
  return true;
}

Point k256_public_point(std::span<const std::uint8_t> secret) {
  Point point{};
  secp256k1_pubkey pub;
  std::size_t size = point.size();
  if (secp256k1_ec_pubkey_create(k256_context(), &pub, secret.data()) != 1) std::abort();
  secp256k1_ec_pubkey_serialize(k256_context(), point.data(), &size, &pub,
                                SECP256K1_EC_UNCOMPRESSED);
  return point;
}

bool k256_verify(const PublicKeyState& key, Digest32 digest,
                 std::span<const std::uint8_t> signature) {
  secp256k1_ecdsa_signature sig;
  if (secp256k1_ecdsa_signature_parse_compact(k256_context(), &sig, signature.data()) != 1 ||
      secp256k1_ecdsa_verify(k256_context(), &sig, digest.data(), &key.k256) != 1) {
    return false;
  }
  return true;
}

std::array<std::uint8_t, 64> k256_sign(const PrivateKeyState& key, Digest32 digest) {
  std::array<std::uint8_t, 64> out{};
  // libsecp256k1 always produces low-S signatures, with RFC 6979 nonces.
  secp256k1_ecdsa_signature sig;
  if (secp256k1_ecdsa_sign(k256_context(), &sig, digest.data(), key.secret.bytes().data(), nullptr,
                           nullptr) != 1 ||
      secp256k1_ecdsa_signature_serialize_compact(k256_context(), out.data(), &sig) != 1) {
    std::abort();
  }
  return out;
}

}  // namespace atproto::crypto::detail

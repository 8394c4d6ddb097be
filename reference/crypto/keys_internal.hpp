// Private to the crypto layer: the key states behind PublicKey and
// PrivateKey, the curve constants, and the operations each curve provides
// (keys_k256.cpp: libsecp256k1; keys_p256.cpp: OpenSSL 3). keys.cpp holds
// what both curves share: SEC1 and signature-form checks, multikey and
// did:key, and the dispatch by curve.
// Spec: https://atproto.com/specs/cryptography
#pragma once

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <secp256k1.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>

#include "atproto/crypto/keys.hpp"

namespace atproto::crypto::detail {

using Bytes32 = std::array<std::uint8_t, 32>;
using Point = std::array<std::uint8_t, kUncompressedKeySize>;
using Digest32 = std::span<const std::uint8_t, 32>;

// Group orders n and floor(n/2), big-endian. A scalar compares against them
// as a 32-byte big-endian string, which is the same as comparing integers.
inline constexpr Bytes32 kP256Order = {
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51};
inline constexpr Bytes32 kP256HalfOrder = {
    0x7f, 0xff, 0xff, 0xff, 0x80, 0x00, 0x00, 0x00, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xde, 0x73, 0x7d, 0x56, 0xd3, 0x8b, 0xcf, 0x42, 0x79, 0xdc, 0xe5, 0x61, 0x7e, 0x31, 0x92, 0xa8};
inline constexpr Bytes32 kK256Order = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
inline constexpr Bytes32 kK256HalfOrder = {
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0};

inline const Bytes32& order_of(Curve curve) {
  return curve == Curve::kP256 ? kP256Order : kK256Order;
}
inline const Bytes32& half_order_of(Curve curve) {
  return curve == Curve::kP256 ? kP256HalfOrder : kK256HalfOrder;
}

// Big-endian comparison of a 32-byte scalar with a constant: <0, 0, >0.
inline int compare_scalar(std::span<const std::uint8_t> scalar, const Bytes32& bound) {
  return std::memcmp(scalar.data(), bound.data(), bound.size());
}
inline bool is_zero(std::span<const std::uint8_t> scalar) {
  return std::all_of(scalar.begin(), scalar.end(), [](std::uint8_t b) { return b == 0; });
}

// Small owners for OpenSSL objects, so every early return frees them.
struct BnFree {
  void operator()(BIGNUM* bn) const { BN_clear_free(bn); }
};
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;
struct PointFree {
  void operator()(EC_POINT* p) const { EC_POINT_free(p); }
};
using PointPtr = std::unique_ptr<EC_POINT, PointFree>;
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
struct SigFree {
  void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); }
};
using SigPtr = std::unique_ptr<ECDSA_SIG, SigFree>;
struct BnCtxFree {
  void operator()(BN_CTX* c) const { BN_CTX_free(c); }
};
using BnCtxPtr = std::unique_ptr<BN_CTX, BnCtxFree>;
struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* b) const { OSSL_PARAM_BLD_free(b); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};

// True when the bytes parse as a DER ECDSA-Sig-Value (and nothing more).
bool is_der_signature(std::span<const std::uint8_t> bytes);

struct PublicKeyState {
  Curve curve = Curve::kK256;
  std::array<std::uint8_t, kCompressedKeySize> compressed{};
  std::array<std::uint8_t, kUncompressedKeySize> uncompressed{};
  secp256k1_pubkey k256{};   // parsed once, K-256 only
  EVP_PKEY* p256 = nullptr;  // parsed once, P-256 only

  PublicKeyState() = default;
  PublicKeyState(const PublicKeyState&) = delete;
  PublicKeyState& operator=(const PublicKeyState&) = delete;
  ~PublicKeyState() { EVP_PKEY_free(p256); }
};

struct PrivateKeyState {
  Curve curve = Curve::kK256;
  SecretBytes secret;
  std::shared_ptr<const PublicKeyState> public_key;
  EVP_PKEY* p256 = nullptr;  // the key pair, P-256 only

  PrivateKeyState() = default;
  PrivateKeyState(const PrivateKeyState&) = delete;
  PrivateKeyState& operator=(const PrivateKeyState&) = delete;
  ~PrivateKeyState() { EVP_PKEY_free(p256); }  // OpenSSL clears the secret scalar
};

// --- K-256 (keys_k256.cpp)

// Parses a SEC1 point into state (k256, compressed, uncompressed); false
// when it is not a point on the curve.
bool k256_parse_point(std::span<const std::uint8_t> sec1, PublicKeyState& state);
// The uncompressed public point d*G of a valid secret scalar d.
Point k256_public_point(std::span<const std::uint8_t> secret);
bool k256_verify(const PublicKeyState& key, Digest32 digest,
                 std::span<const std::uint8_t> signature);
std::array<std::uint8_t, 64> k256_sign(const PrivateKeyState& key, Digest32 digest);

// --- P-256 (keys_p256.cpp)

bool p256_parse_point(std::span<const std::uint8_t> sec1, PublicKeyState& state);
// The uncompressed public point d*G of a valid secret scalar d; also gives
// state the OpenSSL key pair.
Point p256_key_pair(std::span<const std::uint8_t> secret, PrivateKeyState& state);
bool p256_verify(const PublicKeyState& key, Digest32 digest,
                 std::span<const std::uint8_t> signature);
std::array<std::uint8_t, 64> p256_sign(const PrivateKeyState& key, Digest32 digest);

}  // namespace atproto::crypto::detail

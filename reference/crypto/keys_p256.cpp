// P-256 (secp256r1) keys through OpenSSL 3: point parsing, key pairs,
// signing (normalized to low-S) and verification.
// Spec: https://atproto.com/specs/cryptography
#include <openssl/core_names.h>
#include <openssl/obj_mac.h>

#include <cstdlib>

#include "keys_internal.hpp"

namespace atproto::crypto::detail {
namespace {

// The P-256 group, for point decompression and public key derivation.
const EC_GROUP* p256_group() {
  static EC_GROUP* const group = [] {
    EC_GROUP* g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    if (g == nullptr) std::abort();
    return g;
  }();
  return group;
}

// Builds an EVP_PKEY for P-256 from parameters (a public key alone, or a key pair).
EVP_PKEY* p256_pkey_from_params(OSSL_PARAM* params, int selection) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* pkey = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, selection, params) != 1) {
    return nullptr;
  }
  return pkey;
}

// An EVP_PKEY holding only the P-256 group, made once; public keys copy its
// parameters and then set their point. (Building each key with
// EVP_PKEY_fromdata looks the group up by name every time, which costs about
// three times as much; bench/crypto_bench.cpp measures key parsing.)
const EVP_PKEY* p256_parameters() {
  static EVP_PKEY* const parameters = [] {
    char group_name[] = "prime256v1";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group_name, 0),
        OSSL_PARAM_construct_end()};
    EVP_PKEY* pkey = p256_pkey_from_params(params, EVP_PKEY_KEY_PARAMETERS);
    if (pkey == nullptr) std::abort();
    return pkey;
  }();
  return parameters;
}

EVP_PKEY* p256_public_pkey(const std::array<std::uint8_t, kUncompressedKeySize>& point) {
  EVP_PKEY* pkey = EVP_PKEY_new();
  if (pkey == nullptr || EVP_PKEY_copy_parameters(pkey, p256_parameters()) != 1 ||
      EVP_PKEY_set1_encoded_public_key(pkey, point.data(), point.size()) != 1) {
    EVP_PKEY_free(pkey);
    return nullptr;
  }
  return pkey;
}

}  // namespace

bool p256_parse_point(std::span<const std::uint8_t> sec1, PublicKeyState& state) {
  // [crypto.key.on-curve] EC_POINT_oct2point rejects coordinates outside
  // the field, points off the curve and x values without a square root.
  PointPtr point(EC_POINT_new(p256_group()));
  BnCtxPtr bn_ctx(BN_CTX_new());
  if (!point || !bn_ctx) std::abort();
  if (EC_POINT_oct2point(p256_group(), point.get(), sec1.data(), sec1.size(), bn_ctx.get()) != 1 ||
      EC_POINT_is_at_infinity(p256_group(), point.get()) == 1) {
    return false;
  }
  if (EC_POINT_point2oct(p256_group(), point.get(), POINT_CONVERSION_UNCOMPRESSED,
                         state.uncompressed.data(), state.uncompressed.size(),
                         bn_ctx.get()) != kUncompressedKeySize ||
      EC_POINT_point2oct(p256_group(), point.get(), POINT_CONVERSION_COMPRESSED,
                         state.compressed.data(), state.compressed.size(),
                         bn_ctx.get()) != kCompressedKeySize) {
    return false;
  }
  state.p256 = p256_public_pkey(state.uncompressed);
  if (state.p256 == nullptr) return false;
  return true;
}

Point p256_key_pair(std::span<const std::uint8_t> secret, PrivateKeyState& state) {
  Point point{};
  // Derive the public point d*G, then hand OpenSSL the key pair.
  BnPtr d(BN_secure_new());
  PointPtr pub(EC_POINT_new(p256_group()));
  BnCtxPtr bn_ctx(BN_CTX_secure_new());
  if (!d || !pub || !bn_ctx || BN_bin2bn(secret.data(), 32, d.get()) == nullptr ||
      EC_POINT_mul(p256_group(), pub.get(), d.get(), nullptr, nullptr, bn_ctx.get()) != 1 ||
      EC_POINT_point2oct(p256_group(), pub.get(), POINT_CONVERSION_UNCOMPRESSED, point.data(),
                         point.size(), bn_ctx.get()) != point.size()) {
    std::abort();
  }
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> build(OSSL_PARAM_BLD_new());
  if (!build ||
      OSSL_PARAM_BLD_push_utf8_string(build.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) !=
          1 ||
      OSSL_PARAM_BLD_push_octet_string(build.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1 ||
      OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_PRIV_KEY, d.get()) != 1) {
    std::abort();
  }
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(build.get()));
  if (!params) std::abort();
  state.p256 = p256_pkey_from_params(params.get(), EVP_PKEY_KEYPAIR);
  if (state.p256 == nullptr) std::abort();
  return point;
}

bool p256_verify(const PublicKeyState& key, Digest32 digest,
                 std::span<const std::uint8_t> signature) {
  // OpenSSL verifies DER, so the (already range-checked) compact form is
  // re-encoded; the DER here is an internal detail, never accepted as input.
  SigPtr sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(signature.data(), 32, nullptr);
  BIGNUM* s = BN_bin2bn(signature.data() + 32, 32, nullptr);
  if (!sig || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    std::abort();
  }
  unsigned char der[80];
  unsigned char* out = der;
  const int der_size = i2d_ECDSA_SIG(sig.get(), &out);
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new(key.p256, nullptr));
  if (der_size <= 0 || !ctx || EVP_PKEY_verify_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()) != 1) {
    std::abort();
  }
  if (EVP_PKEY_verify(ctx.get(), der, static_cast<std::size_t>(der_size), digest.data(),
                      digest.size()) != 1) {
    return false;
  }
  return true;
}

std::array<std::uint8_t, 64> p256_sign(const PrivateKeyState& key, Digest32 digest) {
  std::array<std::uint8_t, 64> out{};
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new(key.p256, nullptr));
  unsigned char der[80];
  std::size_t der_size = sizeof der;
  if (!ctx || EVP_PKEY_sign_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()) != 1 ||
      EVP_PKEY_sign(ctx.get(), der, &der_size, digest.data(), digest.size()) != 1) {
    std::abort();
  }
  const unsigned char* p = der;
  SigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_size)));
  if (!sig) std::abort();
  const BIGNUM* r = ECDSA_SIG_get0_r(sig.get());
  const BIGNUM* s = ECDSA_SIG_get0_s(sig.get());
  if (BN_bn2binpad(r, out.data(), 32) != 32 || BN_bn2binpad(s, out.data() + 32, 32) != 32) {
    std::abort();
  }
  // [crypto.sig.low-s] OpenSSL does not normalize P-256 signatures; when
  // s > n/2, replace it by n - s, which verifies the same and is low.
  if (compare_scalar(std::span(out).subspan<32, 32>(), kP256HalfOrder) > 0) {
    BnPtr n(BN_bin2bn(kP256Order.data(), 32, nullptr));
    BnPtr low(BN_new());
    if (!n || !low || BN_sub(low.get(), n.get(), s) != 1 ||
        BN_bn2binpad(low.get(), out.data() + 32, 32) != 32) {
      std::abort();
    }
  }
  return out;
}

bool is_der_signature(std::span<const std::uint8_t> bytes) {
  if (bytes.empty() || bytes[0] != 0x30) return false;
  const unsigned char* p = bytes.data();
  SigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(bytes.size())));
  return sig != nullptr && p == bytes.data() + bytes.size();
}

}  // namespace atproto::crypto::detail

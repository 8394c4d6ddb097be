// P-256 (OpenSSL 3 EVP) and K-256 (libsecp256k1) keys, strict low-S ECDSA
// over SHA-256, multikey / did:key encodings.
// Spec: https://atproto.com/specs/cryptography
#include "atproto/crypto/keys.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <secp256k1.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "atproto/data/cid.hpp"
#include "atproto/data/multibase.hpp"
#include "atproto/data/varint.hpp"

namespace atproto::crypto {

namespace {

using Bytes32 = std::array<std::uint8_t, 32>;

// Group orders n and floor(n/2), big-endian. A scalar compares against them
// as a 32-byte big-endian string, which is the same as comparing integers.
constexpr Bytes32 kP256Order = {0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff,
                                0xff, 0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17,
                                0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51};
constexpr Bytes32 kP256HalfOrder = {
    0x7f, 0xff, 0xff, 0xff, 0x80, 0x00, 0x00, 0x00, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xde, 0x73, 0x7d, 0x56, 0xd3, 0x8b, 0xcf, 0x42, 0x79, 0xdc, 0xe5, 0x61, 0x7e, 0x31, 0x92, 0xa8};
constexpr Bytes32 kK256Order = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
                                0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
constexpr Bytes32 kK256HalfOrder = {
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0};

const Bytes32& order_of(Curve curve) { return curve == Curve::kP256 ? kP256Order : kK256Order; }
const Bytes32& half_order_of(Curve curve) {
  return curve == Curve::kP256 ? kP256HalfOrder : kK256HalfOrder;
}

// Big-endian comparison of a 32-byte scalar with a constant: <0, 0, >0.
int compare_scalar(std::span<const std::uint8_t> scalar, const Bytes32& bound) {
  return std::memcmp(scalar.data(), bound.data(), bound.size());
}
bool is_zero(std::span<const std::uint8_t> scalar) {
  return std::all_of(scalar.begin(), scalar.end(), [](std::uint8_t b) { return b == 0; });
}

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

// The P-256 group, for point decompression and public key derivation.
const EC_GROUP* p256_group() {
  static EC_GROUP* const group = [] {
    EC_GROUP* g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    if (g == nullptr) std::abort();
    return g;
  }();
  return group;
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

bool is_der_signature(std::span<const std::uint8_t> bytes) {
  if (bytes.empty() || bytes[0] != 0x30) return false;
  const unsigned char* p = bytes.data();
  SigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(bytes.size())));
  return sig != nullptr && p == bytes.data() + bytes.size();
}

Error key_error(std::string code, std::string message) {
  return make_error(std::move(code), std::move(message));
}

}  // namespace

namespace detail {

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

}  // namespace detail

std::string_view curve_name(Curve curve) { return curve == Curve::kP256 ? "p256" : "k256"; }
std::string_view jwt_algorithm(Curve curve) { return curve == Curve::kP256 ? "ES256" : "ES256K"; }

Status check_signature_form(Curve curve, std::span<const std::uint8_t> signature) {
  if (signature.size() != kSignatureSize) {
    // [crypto.sig.der] A DER-encoded ECDSA-Sig-Value is the classic mix-up;
    // name it when the bytes parse as one.
    if (is_der_signature(signature)) {
      return make_error("crypto.sig.der",
                        "signature is DER-encoded; atproto uses the 64-byte compact form r||s");
    }
    // [crypto.sig.length] Compact signatures are exactly 64 bytes.
    return make_error("crypto.sig.length",
                      "signature must be 64 bytes (r||s), got " + std::to_string(signature.size()));
  }
  const auto r = signature.first<32>();
  const auto s = signature.subspan<32, 32>();
  // [crypto.sig.scalar-range] r and s are integers in [1, n-1].
  if (is_zero(r) || compare_scalar(r, order_of(curve)) >= 0) {
    return make_error("crypto.sig.scalar-range",
                      "signature r is zero or not below the group order");
  }
  if (is_zero(s) || compare_scalar(s, order_of(curve)) >= 0) {
    return make_error("crypto.sig.scalar-range",
                      "signature s is zero or not below the group order");
  }
  // [crypto.sig.low-s] Only the low-S form is accepted (s <= n/2), which
  // removes the malleability of (r, n-s).
  if (compare_scalar(s, half_order_of(curve)) > 0) {
    return make_error("crypto.sig.low-s", "signature is high-S (s > n/2); atproto requires low-S");
  }
  return {};
}

// ---------------------------------------------------------------------------
// PublicKey

PublicKey::PublicKey(std::shared_ptr<const detail::PublicKeyState> state)
    : state_(std::move(state)) {}

Result<PublicKey> PublicKey::from_bytes(Curve curve, std::span<const std::uint8_t> sec1) {
  // [crypto.key.point-encoding] SEC1: 0x02/0x03 then x (33 bytes), or 0x04
  // then x and y (65 bytes). The "hybrid" 0x06/0x07 forms some libraries
  // accept are not SEC1 public keys in atproto.
  const bool compressed_form =
      sec1.size() == kCompressedKeySize && (sec1[0] == 0x02 || sec1[0] == 0x03);
  const bool uncompressed_form = sec1.size() == kUncompressedKeySize && sec1[0] == 0x04;
  if (!compressed_form && !uncompressed_form) {
    return key_error("crypto.key.point-encoding",
                     "public key must be a 33-byte compressed (0x02/0x03) or 65-byte "
                     "uncompressed (0x04) SEC1 point, got " +
                         std::to_string(sec1.size()) + " bytes");
  }
  auto state = std::make_shared<detail::PublicKeyState>();
  state->curve = curve;
  const Error off_curve =
      key_error("crypto.key.on-curve", std::string("public key is not a point on the ") +
                                           std::string(curve_name(curve)) + " curve");
  if (curve == Curve::kK256) {
    // [crypto.key.on-curve] libsecp256k1 checks coordinates and the curve equation.
    if (secp256k1_ec_pubkey_parse(k256_context(), &state->k256, sec1.data(), sec1.size()) != 1) {
      return off_curve;
    }
    std::size_t size = kCompressedKeySize;
    secp256k1_ec_pubkey_serialize(k256_context(), state->compressed.data(), &size, &state->k256,
                                  SECP256K1_EC_COMPRESSED);
    size = kUncompressedKeySize;
    secp256k1_ec_pubkey_serialize(k256_context(), state->uncompressed.data(), &size, &state->k256,
                                  SECP256K1_EC_UNCOMPRESSED);
  } else {
    // [crypto.key.on-curve] EC_POINT_oct2point rejects coordinates outside
    // the field, points off the curve and x values without a square root.
    PointPtr point(EC_POINT_new(p256_group()));
    BnCtxPtr bn_ctx(BN_CTX_new());
    if (!point || !bn_ctx) std::abort();
    if (EC_POINT_oct2point(p256_group(), point.get(), sec1.data(), sec1.size(), bn_ctx.get()) !=
            1 ||
        EC_POINT_is_at_infinity(p256_group(), point.get()) == 1) {
      return off_curve;
    }
    if (EC_POINT_point2oct(p256_group(), point.get(), POINT_CONVERSION_UNCOMPRESSED,
                           state->uncompressed.data(), state->uncompressed.size(),
                           bn_ctx.get()) != kUncompressedKeySize ||
        EC_POINT_point2oct(p256_group(), point.get(), POINT_CONVERSION_COMPRESSED,
                           state->compressed.data(), state->compressed.size(),
                           bn_ctx.get()) != kCompressedKeySize) {
      return off_curve;
    }
    state->p256 = p256_public_pkey(state->uncompressed);
    if (state->p256 == nullptr) return off_curve;
  }
  return PublicKey(std::move(state));
}

Result<PublicKey> PublicKey::from_multibase(std::string_view multikey) {
  // [crypto.key.multibase] A multikey is 'z' followed by base58btc.
  if (multikey.empty() || multikey[0] != 'z') {
    return key_error("crypto.key.multibase", "multikey must start with 'z' (multibase base58btc)");
  }
  auto bytes = data::base58btc_decode(multikey.substr(1));
  if (!bytes) {
    return key_error("crypto.key.multibase",
                     "multikey is not valid base58btc: " + bytes.error().message);
  }
  // [crypto.key.multicodec] The key bytes start with the varint of p256-pub
  // (0x1200, bytes 80 24) or secp256k1-pub (0xe7, bytes e7 01).
  std::size_t pos = 0;
  auto code = data::read_varint(*bytes, pos);
  if (!code) {
    return key_error(
        "crypto.key.multicodec",
        "multikey does not start with a valid multicodec varint: " + code.error().message);
  }
  Curve curve;
  if (*code == kMulticodecP256Pub) {
    curve = Curve::kP256;
  } else if (*code == kMulticodecSecp256k1Pub) {
    curve = Curve::kK256;
  } else {
    return key_error("crypto.key.multicodec",
                     "multicodec " + std::to_string(*code) +
                         " is neither p256-pub (0x1200) nor secp256k1-pub (0xe7)");
  }
  const std::span<const std::uint8_t> point = std::span(*bytes).subspan(pos);
  // [crypto.key.compressed] Multikeys carry the 33-byte compressed point.
  if (point.size() != kCompressedKeySize) {
    return key_error("crypto.key.compressed",
                     "multikey must hold a 33-byte compressed point, got " +
                         std::to_string(point.size()) + " bytes");
  }
  return from_bytes(curve, point);
}

Result<PublicKey> PublicKey::from_did_key(std::string_view did_key) {
  // [crypto.did-key.prefix] did:key is "did:key:" followed by a multikey.
  constexpr std::string_view kPrefix = "did:key:";
  if (!did_key.starts_with(kPrefix)) {
    return key_error("crypto.did-key.prefix", "did:key must start with \"did:key:\"");
  }
  return from_multibase(did_key.substr(kPrefix.size()));
}

Result<PublicKey> PublicKey::from_legacy_multibase(Curve curve, std::string_view multibase) {
  if (multibase.empty() || multibase[0] != 'z') {
    return key_error("crypto.key.multibase",
                     "publicKeyMultibase must start with 'z' (multibase base58btc)");
  }
  auto bytes = data::base58btc_decode(multibase.substr(1));
  if (!bytes) {
    return key_error("crypto.key.multibase",
                     "publicKeyMultibase is not valid base58btc: " + bytes.error().message);
  }
  // [crypto.legacy.multibase] The legacy form is the 65-byte uncompressed
  // point with no multicodec prefix.
  if (bytes->size() != kUncompressedKeySize || (*bytes)[0] != 0x04) {
    return key_error("crypto.legacy.multibase",
                     "legacy publicKeyMultibase must hold a 65-byte uncompressed point (0x04) "
                     "without multicodec, got " +
                         std::to_string(bytes->size()) + " bytes");
  }
  return from_bytes(curve, *bytes);
}

Result<PublicKey> PublicKey::from_verification_method(std::string_view type,
                                                      std::string_view public_key_multibase) {
  // [crypto.multikey.type] Multikey uses the did:key encoding; the two legacy
  // types name the curve and use the legacy encoding.
  if (type == kMultikeyType) return from_multibase(public_key_multibase);
  if (type == kLegacyP256Type) return from_legacy_multibase(Curve::kP256, public_key_multibase);
  if (type == kLegacyK256Type) return from_legacy_multibase(Curve::kK256, public_key_multibase);
  return key_error("crypto.multikey.type",
                   "verificationMethod type must be Multikey (or a legacy "
                   "EcdsaSecp256r1/k1VerificationKey2019), got \"" +
                       std::string(type) + "\"");
}

Curve PublicKey::curve() const { return state_->curve; }

std::string PublicKey::multibase() const {
  std::vector<std::uint8_t> bytes;
  data::append_varint(bytes,
                      state_->curve == Curve::kP256 ? kMulticodecP256Pub : kMulticodecSecp256k1Pub);
  bytes.insert(bytes.end(), state_->compressed.begin(), state_->compressed.end());
  return data::multibase_encode(data::Multibase::kBase58btc, bytes);
}

std::string PublicKey::did_key() const { return "did:key:" + multibase(); }

std::string PublicKey::legacy_multibase() const {
  return data::multibase_encode(data::Multibase::kBase58btc, state_->uncompressed);
}

std::vector<std::uint8_t> PublicKey::compressed() const {
  return {state_->compressed.begin(), state_->compressed.end()};
}

std::vector<std::uint8_t> PublicKey::uncompressed() const {
  return {state_->uncompressed.begin(), state_->uncompressed.end()};
}

bool operator==(const PublicKey& a, const PublicKey& b) {
  return a.state_->curve == b.state_->curve && a.state_->compressed == b.state_->compressed;
}

Status PublicKey::verify(std::span<const std::uint8_t> message,
                         std::span<const std::uint8_t> signature) const {
  // [crypto.sig.sha256] The signed value is the SHA-256 digest of the message.
  const data::Digest digest = data::sha256(message);
  return verify_digest(digest, signature);
}

Status PublicKey::verify_digest(std::span<const std::uint8_t, 32> digest,
                                std::span<const std::uint8_t> signature) const {
  if (auto form = check_signature_form(state_->curve, signature); !form) return form;
  const Error mismatch =
      make_error("crypto.sig.verify", "signature does not match this key and message");
  // [crypto.sig.verify] Checked by the library's verification routine.
  if (state_->curve == Curve::kK256) {
    secp256k1_ecdsa_signature sig;
    if (secp256k1_ecdsa_signature_parse_compact(k256_context(), &sig, signature.data()) != 1 ||
        secp256k1_ecdsa_verify(k256_context(), &sig, digest.data(), &state_->k256) != 1) {
      return mismatch;
    }
    return {};
  }
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
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new(state_->p256, nullptr));
  if (der_size <= 0 || !ctx || EVP_PKEY_verify_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()) != 1) {
    std::abort();
  }
  if (EVP_PKEY_verify(ctx.get(), der, static_cast<std::size_t>(der_size), digest.data(),
                      digest.size()) != 1) {
    return mismatch;
  }
  return {};
}

// ---------------------------------------------------------------------------
// SecretBytes

SecretBytes::SecretBytes(SecretBytes&& other) noexcept : bytes_(other.bytes_) {
  OPENSSL_cleanse(other.bytes_.data(), other.bytes_.size());
}
SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    bytes_ = other.bytes_;
    OPENSSL_cleanse(other.bytes_.data(), other.bytes_.size());
  }
  return *this;
}
SecretBytes::~SecretBytes() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }

// ---------------------------------------------------------------------------
// PrivateKey

PrivateKey::PrivateKey(std::unique_ptr<detail::PrivateKeyState> state) : state_(std::move(state)) {}
PrivateKey::PrivateKey(PrivateKey&&) noexcept = default;
PrivateKey& PrivateKey::operator=(PrivateKey&&) noexcept = default;
PrivateKey::~PrivateKey() = default;

Result<PrivateKey> PrivateKey::from_bytes(Curve curve, std::span<const std::uint8_t> raw32) {
  // [crypto.private-key.length] A private key is 32 raw bytes.
  if (raw32.size() != kPrivateKeySize) {
    return make_error("crypto.private-key.length",
                      "private key must be 32 bytes, got " + std::to_string(raw32.size()));
  }
  // [crypto.private-key.range] ... holding a scalar in [1, n-1].
  if (is_zero(raw32) || compare_scalar(raw32, order_of(curve)) >= 0) {
    return make_error("crypto.private-key.range",
                      "private key is zero or not below the group order");
  }
  auto state = std::make_unique<detail::PrivateKeyState>();
  state->curve = curve;
  std::copy(raw32.begin(), raw32.end(), state->secret.mutable_bytes().begin());
  const auto secret = state->secret.bytes();

  std::array<std::uint8_t, kUncompressedKeySize> point{};
  if (curve == Curve::kK256) {
    secp256k1_pubkey pub;
    std::size_t size = point.size();
    if (secp256k1_ec_pubkey_create(k256_context(), &pub, secret.data()) != 1) std::abort();
    secp256k1_ec_pubkey_serialize(k256_context(), point.data(), &size, &pub,
                                  SECP256K1_EC_UNCOMPRESSED);
  } else {
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
    state->p256 = p256_pkey_from_params(params.get(), EVP_PKEY_KEYPAIR);
    if (state->p256 == nullptr) std::abort();
  }
  auto public_key = PublicKey::from_bytes(curve, point);
  if (!public_key) std::abort();  // d*G with d in [1, n-1] is always a valid point
  state->public_key = public_key->state_;
  return PrivateKey(std::move(state));
}

Result<PrivateKey> PrivateKey::generate(Curve curve) {
  // Rejection sampling: draw 32 random bytes until they are a valid scalar
  // (a miss has probability below 2^-32 for both curves).
  SecretBytes candidate;
  for (;;) {
    if (RAND_priv_bytes(candidate.mutable_bytes().data(), kPrivateKeySize) != 1) {
      return make_error("crypto.random", "the system random source failed");
    }
    auto key = from_bytes(curve, candidate.bytes());
    if (key) return key;
  }
}

Curve PrivateKey::curve() const { return state_->curve; }

PublicKey PrivateKey::public_key() const { return PublicKey(state_->public_key); }

SecretBytes PrivateKey::export_bytes() const {
  SecretBytes out;
  std::copy(state_->secret.bytes().begin(), state_->secret.bytes().end(),
            out.mutable_bytes().begin());
  return out;
}

std::array<std::uint8_t, 64> PrivateKey::sign(std::span<const std::uint8_t> message) const {
  // [crypto.sig.sha256] Sign the SHA-256 digest of the message.
  const data::Digest digest = data::sha256(message);
  return sign_digest(digest);
}

std::array<std::uint8_t, 64> PrivateKey::sign_digest(
    std::span<const std::uint8_t, 32> digest) const {
  std::array<std::uint8_t, 64> out{};
  if (state_->curve == Curve::kK256) {
    // libsecp256k1 always produces low-S signatures, with RFC 6979 nonces.
    secp256k1_ecdsa_signature sig;
    if (secp256k1_ecdsa_sign(k256_context(), &sig, digest.data(), state_->secret.bytes().data(),
                             nullptr, nullptr) != 1 ||
        secp256k1_ecdsa_signature_serialize_compact(k256_context(), out.data(), &sig) != 1) {
      std::abort();
    }
    return out;
  }
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new(state_->p256, nullptr));
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

}  // namespace atproto::crypto

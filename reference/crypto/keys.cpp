// What P-256 and K-256 keys share: SEC1 and compact-signature checks, the
// multikey / did:key encodings, SecretBytes, and the dispatch to each
// curve's file (keys_k256.cpp: libsecp256k1; keys_p256.cpp: OpenSSL 3).
// Spec: https://atproto.com/specs/cryptography
#include "atproto/crypto/keys.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstdlib>
#include <utility>

#include "atproto/data/cid.hpp"
#include "atproto/data/multibase.hpp"
#include "atproto/data/varint.hpp"
#include "keys_internal.hpp"

namespace atproto::crypto {

using detail::compare_scalar;
using detail::half_order_of;
using detail::is_der_signature;
using detail::is_zero;
using detail::order_of;

namespace {

Error key_error(std::string code, std::string message) {
  return make_error(std::move(code), std::move(message));
}

}  // namespace

std::string_view curve_name(Curve curve) { return curve == Curve::kP256 ? "p256" : "k256"; }
std::string_view jwt_algorithm(Curve curve) { return curve == Curve::kP256 ? "ES256" : "ES256K"; }

std::array<std::uint8_t, kSignatureSize> high_s_twin(Curve curve,
                                                     std::array<std::uint8_t, kSignatureSize> sig) {
  const detail::Bytes32& n = detail::order_of(curve);
  int borrow = 0;
  for (std::size_t i = 32; i-- > 0;) {
    int d = n[i] - sig[32 + i] - borrow;
    borrow = d < 0 ? 1 : 0;
    sig[32 + i] = static_cast<std::uint8_t>(d + 256 * borrow);
  }
  return sig;
}

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
  // [crypto.key.on-curve] Each curve's library checks the coordinates and
  // the curve equation.
  const bool on_curve = curve == Curve::kK256 ? detail::k256_parse_point(sec1, *state)
                                              : detail::p256_parse_point(sec1, *state);
  if (!on_curve) return off_curve;
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
  // [crypto.sig.verify] Checked by the library's verification routine. The
  // error (two strings) is built only when it fails: this runs once per
  // event on a relay.
  const bool valid = state_->curve == Curve::kK256
                         ? detail::k256_verify(*state_, digest, signature)
                         : detail::p256_verify(*state_, digest, signature);
  if (!valid)
    return make_error("crypto.sig.verify", "signature does not match this key and message");
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

  const detail::Point point = curve == Curve::kK256 ? detail::k256_public_point(secret)
                                                    : detail::p256_key_pair(secret, *state);
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
  return state_->curve == Curve::kK256 ? detail::k256_sign(*state_, digest)
                                       : detail::p256_sign(*state_, digest);
}

}  // namespace atproto::crypto

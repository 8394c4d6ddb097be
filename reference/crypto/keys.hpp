// Keys and signatures for the two curves atproto uses: P-256 (NIST, through
// OpenSSL 3) and K-256 (secp256k1, through libsecp256k1).
// Spec: https://atproto.com/specs/cryptography and, for keys in DID documents,
// https://atproto.com/specs/did#representation-of-public-keys
//
// Signing and verification follow the atproto pattern: the message bytes are
// hashed with SHA-256 and the raw digest is signed. A signature is the 64-byte
// compact form r||s (each a 32-byte big-endian integer) and its s is always in
// the lower half of the group order ("low-S"). Verification is strict: it
// rejects high-S, DER-encoded and wrong-length signatures with an error whose
// code names the rule, never by comparing signature bytes.
//
// Public keys are written as multikey strings ('z' + base58btc of a varint
// multicodec prefix and the 33-byte compressed point), and as did:key
// ("did:key:" + multikey). The legacy DID-document form (uncompressed point,
// no multicodec, curve given by the verificationMethod type) is parsed too.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "atproto/common/result.hpp"

namespace atproto::crypto {

// [crypto.curves.supported] Both curves, fully: keys, signing, verification.
enum class Curve { kP256, kK256 };  // ES256 / ES256K

// "p256" or "k256", the short names the spec uses.
std::string_view curve_name(Curve curve);
// The JWT / JWS algorithm name: "ES256" (P-256) or "ES256K" (K-256).
std::string_view jwt_algorithm(Curve curve);

inline constexpr std::size_t kSignatureSize = 64;
inline constexpr std::size_t kPrivateKeySize = 32;
inline constexpr std::size_t kCompressedKeySize = 33;
inline constexpr std::size_t kUncompressedKeySize = 65;

// The multicodec codes of the two public key types (varint-encoded in front of
// the compressed key in a multikey).
inline constexpr std::uint64_t kMulticodecP256Pub = 0x1200;
inline constexpr std::uint64_t kMulticodecSecp256k1Pub = 0xe7;

// verificationMethod types a DID document may carry (see from_verification_method).
inline constexpr std::string_view kMultikeyType = "Multikey";
inline constexpr std::string_view kLegacyP256Type = "EcdsaSecp256r1VerificationKey2019";
inline constexpr std::string_view kLegacyK256Type = "EcdsaSecp256k1VerificationKey2019";

// Checks the form of a compact signature without a key: 64 bytes, r and s in
// [1, n-1] for the curve's group order n, and s <= n/2. Error codes:
// crypto.sig.der (a DER-encoded signature), crypto.sig.length,
// crypto.sig.scalar-range, crypto.sig.low-s.
Status check_signature_form(Curve curve, std::span<const std::uint8_t> signature);

// (r, n - s): the other valid ECDSA signature for the same key and message,
// which strict verifiers refuse as high-S [crypto.sig.low-s]. For tests and
// conformance cases that must show a high-S signature is rejected.
std::array<std::uint8_t, kSignatureSize> high_s_twin(Curve curve,
                                                     std::array<std::uint8_t, kSignatureSize> sig);

namespace detail {
struct PublicKeyState;
struct PrivateKeyState;
}  // namespace detail

class PublicKey {
 public:
  // "did:key:" followed by a multikey. Error codes: crypto.did-key.prefix, then
  // those of from_multibase.
  static Result<PublicKey> from_did_key(std::string_view did_key);
  // A multikey ('z' + base58btc of multicodec varint + compressed point), the
  // `publicKeyMultibase` of a Multikey verification method. Error codes:
  // crypto.key.multibase, crypto.key.multicodec, crypto.key.compressed,
  // crypto.key.point-encoding, crypto.key.on-curve.
  static Result<PublicKey> from_multibase(std::string_view multikey);
  // The legacy DID-document encoding: 'z' + base58btc of the 65-byte
  // uncompressed point, no multicodec; the curve comes from the document.
  // Error codes: crypto.key.multibase, crypto.legacy.multibase,
  // crypto.key.on-curve.
  static Result<PublicKey> from_legacy_multibase(Curve curve, std::string_view multibase);
  // A verificationMethod's `type` and `publicKeyMultibase`: "Multikey" takes a
  // multikey, the two legacy types take the legacy encoding for their curve.
  // Error codes: crypto.multikey.type, then those of the chosen parser.
  static Result<PublicKey> from_verification_method(std::string_view type,
                                                    std::string_view public_key_multibase);
  // SEC1 point bytes: 33 (0x02/0x03 + x) or 65 (0x04 + x + y). Error codes:
  // crypto.key.point-encoding, crypto.key.on-curve.
  static Result<PublicKey> from_bytes(Curve curve, std::span<const std::uint8_t> sec1);

  Curve curve() const;
  std::string did_key() const;                     // compressed, multicodec-prefixed, base58btc
  std::string multibase() const;                   // the same z... string without "did:key:"
  std::string legacy_multibase() const;            // 'z' + base58btc(uncompressed), no multicodec
  std::vector<std::uint8_t> compressed() const;    // 33 bytes
  std::vector<std::uint8_t> uncompressed() const;  // 65 bytes

  // Strict: SHA-256 of `message`, 64-byte compact r||s, low-S only. Error
  // codes: those of check_signature_form, then crypto.sig.verify when the
  // signature does not match this key and message.
  Status verify(std::span<const std::uint8_t> message,
                std::span<const std::uint8_t> signature) const;
  // The same for a message already hashed with SHA-256.
  Status verify_digest(std::span<const std::uint8_t, 32> digest,
                       std::span<const std::uint8_t> signature) const;

  friend bool operator==(const PublicKey& a, const PublicKey& b);

 private:
  explicit PublicKey(std::shared_ptr<const detail::PublicKeyState> state);
  std::shared_ptr<const detail::PublicKeyState> state_;
  friend class PrivateKey;
};

// 32 secret bytes that are wiped when they go out of scope.
class SecretBytes {
 public:
  SecretBytes() = default;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  ~SecretBytes();

  std::span<const std::uint8_t, kPrivateKeySize> bytes() const { return bytes_; }
  std::span<std::uint8_t, kPrivateKeySize> mutable_bytes() { return bytes_; }

 private:
  std::array<std::uint8_t, kPrivateKeySize> bytes_{};
};

class PrivateKey {  // move-only; secret bytes are cleared on destruction
 public:
  // A fresh key from the operating system's random source (OpenSSL RAND).
  static Result<PrivateKey> generate(Curve curve);
  // 32 raw big-endian bytes, a scalar in [1, n-1]. Error codes:
  // crypto.private-key.length, crypto.private-key.range.
  static Result<PrivateKey> from_bytes(Curve curve, std::span<const std::uint8_t> raw32);

  PrivateKey(PrivateKey&&) noexcept;
  PrivateKey& operator=(PrivateKey&&) noexcept;
  PrivateKey(const PrivateKey&) = delete;
  PrivateKey& operator=(const PrivateKey&) = delete;
  ~PrivateKey();

  Curve curve() const;
  PublicKey public_key() const;
  // The 32 raw bytes, for storing the key. Handle with care.
  SecretBytes export_bytes() const;

  // SHA-256 of message, compact 64-byte r||s, always low-S. K-256 signing uses
  // libsecp256k1's default RFC 6979 nonces, so it is deterministic (and equals
  // what @atproto/crypto produces for the same key and message). P-256 uses
  // OpenSSL's random nonces.
  std::array<std::uint8_t, 64> sign(std::span<const std::uint8_t> message) const;
  // The same for a message already hashed with SHA-256.
  std::array<std::uint8_t, 64> sign_digest(std::span<const std::uint8_t, 32> digest) const;

 private:
  explicit PrivateKey(std::unique_ptr<detail::PrivateKeyState> state);
  std::unique_ptr<detail::PrivateKeyState> state_;
};

}  // namespace atproto::crypto

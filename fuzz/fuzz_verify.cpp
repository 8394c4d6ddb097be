// Fuzz target: strict signature verification with arbitrary keys, messages
// and signatures.
// Spec: https://atproto.com/specs/cryptography#ecdsa-signature-malleability
//
// Input layout (tools/fuzz-seeds writes the vectors this way):
//   byte 0      bit 0: curve (0 = P-256, 1 = K-256)
//   byte 1      key length L, then L bytes of SEC1 point
//   next byte   signature length S, then S bytes of signature
//   the rest    the message
// Invariants: no crash; a rejected key or signature names a crypto.* rule;
// an accepted signature passes the form checks (64 bytes, r and s in range,
// low-S), its high-S twin is rejected as crypto.sig.low-s, and the
// underlying library (libsecp256k1 / OpenSSL) agrees that it verifies.
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <secp256k1.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "atproto/crypto/keys.hpp"
#include "atproto/data/cid.hpp"
#include "fuzz_check.hpp"

namespace crypto = atproto::crypto;

namespace {

// The libraries' own verdicts, without atproto's form rules.
bool k256_library_verify(std::span<const std::uint8_t> point, const atproto::data::Digest& digest,
                         std::span<const std::uint8_t> sig) {
  static secp256k1_context* ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
  secp256k1_pubkey pub;
  secp256k1_ecdsa_signature s;
  if (secp256k1_ec_pubkey_parse(ctx, &pub, point.data(), point.size()) != 1) return false;
  if (secp256k1_ecdsa_signature_parse_compact(ctx, &s, sig.data()) != 1) return false;
  return secp256k1_ecdsa_verify(ctx, &s, digest.data(), &pub) == 1;
}

bool p256_library_verify(std::span<const std::uint8_t> point, const atproto::data::Digest& digest,
                         std::span<const std::uint8_t> sig) {
  EC_GROUP* group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
  EC_POINT* pt = EC_POINT_new(group);
  BIGNUM* r = BN_bin2bn(sig.data(), 32, nullptr);
  BIGNUM* s = BN_bin2bn(sig.data() + 32, 32, nullptr);
  BIGNUM* x = BN_new();
  BIGNUM* y = BN_new();
  BIGNUM* w = BN_new();
  BIGNUM* u1 = BN_new();
  BIGNUM* u2 = BN_new();
  BIGNUM* e = BN_bin2bn(digest.data(), 32, nullptr);
  BN_CTX* bn = BN_CTX_new();
  EC_POINT* sum = EC_POINT_new(group);
  const BIGNUM* n = EC_GROUP_get0_order(group);
  // Textbook ECDSA verification with EC_POINT arithmetic: R = u1*G + u2*Q,
  // valid when R.x mod n == r.
  bool ok = EC_POINT_oct2point(group, pt, point.data(), point.size(), bn) == 1 &&
            BN_mod_inverse(w, s, n, bn) != nullptr && BN_mod_mul(u1, e, w, n, bn) == 1 &&
            BN_mod_mul(u2, r, w, n, bn) == 1 && EC_POINT_mul(group, sum, u1, pt, u2, bn) == 1 &&
            EC_POINT_is_at_infinity(group, sum) != 1 &&
            EC_POINT_get_affine_coordinates(group, sum, x, y, bn) == 1 &&
            BN_nnmod(x, x, n, bn) == 1 && BN_cmp(x, r) == 0;
  EC_POINT_free(sum);
  BN_CTX_free(bn);
  BN_free(e);
  BN_free(u2);
  BN_free(u1);
  BN_free(w);
  BN_free(y);
  BN_free(x);
  BN_free(s);
  BN_free(r);
  EC_POINT_free(pt);
  EC_GROUP_free(group);
  return ok;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::begin_input(data, size);
  std::span<const std::uint8_t> in(data, size);
  if (in.size() < 2) return 0;
  const crypto::Curve curve = (in[0] & 1) ? crypto::Curve::kK256 : crypto::Curve::kP256;
  std::size_t pos = 1;
  const std::size_t key_size = in[pos++];
  if (in.size() < pos + key_size + 1) return 0;
  const auto point = in.subspan(pos, key_size);
  pos += key_size;
  const std::size_t sig_size = in[pos++];
  if (in.size() < pos + sig_size) return 0;
  const auto sig = in.subspan(pos, sig_size);
  const auto message = in.subspan(pos + sig_size);

  // [crypto.key.point-encoding] [crypto.key.on-curve]
  auto key = crypto::PublicKey::from_bytes(curve, point);
  if (!key) {
    FUZZ_CHECK(key.error().code == "crypto.key.point-encoding" ||
               key.error().code == "crypto.key.on-curve");
    return 0;
  }
  // [crypto.sig.length] [crypto.sig.der] [crypto.sig.scalar-range] [crypto.sig.low-s]
  // [crypto.sig.verify]
  auto status = key->verify(message, sig);
  auto form = crypto::check_signature_form(curve, sig);
  if (!form) {
    // The form rules come first, so a malformed signature reports its rule.
    FUZZ_CHECK(!status.ok());
    FUZZ_CHECK(status.error().code == form.error().code);
    return 0;
  }
  const auto digest = atproto::data::sha256(message);
  const auto compressed = key->compressed();
  const bool library = curve == crypto::Curve::kK256 ? k256_library_verify(compressed, digest, sig)
                                                     : p256_library_verify(compressed, digest, sig);
  // Differential: with the form rules passed, our verdict is the library's.
  FUZZ_CHECK(status.ok() == library);
  if (!status.ok()) {
    FUZZ_CHECK(status.error().code == "crypto.sig.verify");
    return 0;
  }
  std::array<std::uint8_t, 64> compact{};
  std::copy(sig.begin(), sig.end(), compact.begin());
  auto twin = key->verify(message, crypto::high_s_twin(curve, compact));
  FUZZ_CHECK(!twin.ok() && twin.error().code == "crypto.sig.low-s");
  return 0;
}

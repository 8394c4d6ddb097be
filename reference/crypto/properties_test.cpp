// Property tests for the crypto layer (RapidCheck inside Catch2).
//
// Keys come from random 32-byte scalars on either curve, messages are random
// bytes. The properties: a signature verifies for its key and message; a
// changed message, signature bit or key makes verification fail; every
// signature is low-S and its high-S twin is rejected as such; did:key,
// multikey, legacy and raw private key encodings round-trip; a one-character
// change to a did:key is either rejected or names another key whose did:key
// is exactly that string (the encoding is unique).
//
// Run only these with: crypto_tests "[properties]". RC_PARAMS="max_success=N"
// changes the number of cases per property (default 100).
#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "atproto/crypto/keys.hpp"
#include "atproto/crypto/test_generators.hpp"

namespace {

namespace gen = rc::gen;
using namespace atproto::crypto;
using namespace atproto::crypto::generators;

PrivateKey make_key(Curve c, const std::vector<std::uint8_t>& raw) {
  auto key = PrivateKey::from_bytes(c, raw);
  RC_ASSERT(key.ok());
  return std::move(key).value();
}

// s > n/2, read from the signature bytes against the published half orders.
bool is_high_s(Curve c, const std::array<std::uint8_t, 64>& sig) {
  static const std::array<std::uint8_t, 32> p256_half = {
      0x7f, 0xff, 0xff, 0xff, 0x80, 0x00, 0x00, 0x00, 0x7f, 0xff, 0xff,
      0xff, 0xff, 0xff, 0xff, 0xff, 0xde, 0x73, 0x7d, 0x56, 0xd3, 0x8b,
      0xcf, 0x42, 0x79, 0xdc, 0xe5, 0x61, 0x7e, 0x31, 0x92, 0xa8};
  static const std::array<std::uint8_t, 32> k256_half = {
      0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      0xff, 0xff, 0xff, 0xff, 0xff, 0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4,
      0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0};
  const auto& half = c == Curve::kP256 ? p256_half : k256_half;
  return std::lexicographical_compare(half.begin(), half.end(), sig.begin() + 32, sig.end());
}

}  // namespace

// [crypto.sig.verify] [crypto.sig.sha256] [crypto.curves.supported]
TEST_CASE("properties: sign then verify", "[crypto][properties]") {
  rc::prop("verify(m, sign(m)) succeeds", [] {
    const Curve c = *curve();
    const auto key = make_key(c, *private_key_bytes(c));
    const auto m = *message();
    const auto sig = key.sign(m);
    RC_ASSERT(key.public_key().verify(m, sig).ok());
  });
}

// [crypto.sig.verify]
TEST_CASE("properties: a changed message, signature or key fails", "[crypto][properties]") {
  rc::prop("another message does not verify", [] {
    const Curve c = *curve();
    const auto key = make_key(c, *private_key_bytes(c));
    const auto m = *message();
    const auto other = *message();
    RC_PRE(other != m);
    const auto status = key.public_key().verify(other, key.sign(m));
    RC_ASSERT(!status.ok());
    RC_ASSERT(status.error().code == "crypto.sig.verify");
  });
  rc::prop("flipping one signature bit makes it fail", [] {
    const Curve c = *curve();
    const auto key = make_key(c, *private_key_bytes(c));
    const auto m = *message();
    auto sig = key.sign(m);
    const auto bit = *gen::inRange<std::size_t>(0, 64 * 8);
    sig[bit / 8] = static_cast<std::uint8_t>(sig[bit / 8] ^ (1u << (bit % 8)));
    RC_ASSERT(!key.public_key().verify(m, sig).ok());
  });
  rc::prop("another key does not verify", [] {
    const Curve c = *curve();
    const auto raw = *private_key_bytes(c);
    const auto other_raw = *private_key_bytes(c);
    RC_PRE(raw != other_raw);
    const auto key = make_key(c, raw);
    const auto other = make_key(c, other_raw);
    const auto m = *message();
    RC_ASSERT(!other.public_key().verify(m, key.sign(m)).ok());
  });
}

// [crypto.sig.low-s]
TEST_CASE("properties: signatures are low-S, their twins rejected", "[crypto][properties]") {
  rc::prop("every signature is low-S; (r, n-s) fails with crypto.sig.low-s", [] {
    const Curve c = *curve();
    const auto key = make_key(c, *private_key_bytes(c));
    const auto m = *message();
    const auto sig = key.sign(m);
    RC_ASSERT(!is_high_s(c, sig));
    RC_ASSERT(check_signature_form(c, sig).ok());
    const auto twin = high_s_twin(c, sig);
    RC_ASSERT(is_high_s(c, twin));
    const auto status = key.public_key().verify(m, twin);
    RC_ASSERT(!status.ok());
    RC_ASSERT(status.error().code == "crypto.sig.low-s");
  });
}

// [crypto.did-key.prefix] [crypto.key.multicodec] [crypto.key.compressed]
// [crypto.legacy.multibase] [crypto.private-key.length]
TEST_CASE("properties: key encodings round-trip", "[crypto][properties]") {
  rc::prop("did:key, multikey, legacy, SEC1 and raw private key round-trip", [] {
    const Curve c = *curve();
    const auto raw = *private_key_bytes(c);
    const auto key = make_key(c, raw);
    const auto pub = key.public_key();
    const auto did = pub.did_key();
    auto back = PublicKey::from_did_key(did);
    RC_ASSERT(back.ok());
    RC_ASSERT(*back == pub);
    RC_ASSERT(back->did_key() == did);
    RC_ASSERT(did == "did:key:" + pub.multibase());
    auto legacy = PublicKey::from_legacy_multibase(c, pub.legacy_multibase());
    RC_ASSERT(legacy.ok());
    RC_ASSERT(*legacy == pub);
    auto from_u = PublicKey::from_bytes(c, pub.uncompressed());
    RC_ASSERT(from_u.ok());
    RC_ASSERT(from_u->compressed() == pub.compressed());
    const auto exported = key.export_bytes();
    RC_ASSERT(std::equal(raw.begin(), raw.end(), exported.bytes().begin()));
  });
}

// [crypto.key.multibase] [crypto.key.on-curve]
TEST_CASE("properties: did:key has one encoding per key", "[crypto][properties]") {
  rc::prop("a one-character change is rejected or is exactly another key's did:key", [] {
    const Curve c = *curve();
    const auto did = make_key(c, *private_key_bytes(c)).public_key().did_key();
    const auto pos = *gen::inRange<std::size_t>(0, did.size());
    const char replacement = *gen::inRange<char>(32, 127);
    std::string changed = did;
    changed[pos] = replacement;
    RC_PRE(changed != did);
    auto parsed = PublicKey::from_did_key(changed);
    if (parsed) RC_ASSERT(parsed->did_key() == changed);
  });
}

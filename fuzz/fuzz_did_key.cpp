// Fuzz target: did:key and multikey parsing, and the DID-document key forms
// (Multikey and the legacy uncompressed encodings).
// Spec: https://atproto.com/specs/cryptography#public-key-encoding and
// https://atproto.com/specs/did#representation-of-public-keys
//
// Input: the text to parse. Invariants: no crash; every refusal names a
// crypto.* rule; an accepted did:key or multikey is exactly the one string the
// encoder writes for that key (the encoding is unique), with a 33-byte
// compressed point whose uncompressed form parses back to the same key.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "atproto/crypto/keys.hpp"
#include "fuzz_check.hpp"

namespace crypto = atproto::crypto;

namespace {

template <typename R>
bool crypto_error(const R& r) {
  return r.ok() || fuzz::starts_with(r.error().code, "crypto.");
}

void check_key(const crypto::PublicKey& key) {
  FUZZ_CHECK(key.compressed().size() == crypto::kCompressedKeySize);
  auto again = crypto::PublicKey::from_bytes(key.curve(), key.uncompressed());
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(*again == key);
  auto legacy = crypto::PublicKey::from_legacy_multibase(key.curve(), key.legacy_multibase());
  FUZZ_CHECK(legacy.ok());
  FUZZ_CHECK(*legacy == key);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in = fuzz::begin_input(data, size);
  if (in.size() > 4096) return 0;  // base58 decoding is quadratic; long inputs add nothing

  // [crypto.did-key.prefix] [crypto.key.multicodec] [crypto.key.compressed]
  auto did = crypto::PublicKey::from_did_key(in);
  FUZZ_CHECK(crypto_error(did));
  if (did) {
    FUZZ_CHECK(did->did_key() == in);
    check_key(*did);
  }
  // [crypto.key.multibase] [crypto.key.on-curve]
  auto multi = crypto::PublicKey::from_multibase(in);
  FUZZ_CHECK(crypto_error(multi));
  if (multi) {
    FUZZ_CHECK(multi->multibase() == in);
    check_key(*multi);
  }
  // A string is never both a did:key and a bare multikey.
  FUZZ_CHECK(!(did.ok() && multi.ok()));

  // [crypto.legacy.multibase] [crypto.multikey.type]
  for (auto type : {crypto::kMultikeyType, crypto::kLegacyP256Type, crypto::kLegacyK256Type}) {
    auto vm = crypto::PublicKey::from_verification_method(type, in);
    FUZZ_CHECK(crypto_error(vm));
    if (type == crypto::kMultikeyType) {
      FUZZ_CHECK(vm.ok() == multi.ok());
    } else if (vm) {
      FUZZ_CHECK(vm->legacy_multibase() == in);
    }
  }
  return 0;
}

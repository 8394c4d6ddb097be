// Test support, not implementation: RapidCheck generators for the crypto
// layer (a curve, a valid raw private key, message bytes). Shared by the
// crypto property tests and the conformance runner's crypto properties.
#pragma once

#include <rapidcheck.h>

#include <array>
#include <cstdint>
#include <vector>

#include "atproto/crypto/keys.hpp"

namespace atproto::crypto::generators {

namespace gen = rc::gen;

inline rc::Gen<Curve> curve() { return gen::element(Curve::kP256, Curve::kK256); }

// 32 bytes that are a valid private key for `c`: random bytes, with the rare
// out-of-range draw (zero or >= n) replaced by a fixed small scalar. Shrinks
// towards small keys.
inline rc::Gen<std::vector<std::uint8_t>> private_key_bytes(Curve c) {
  return gen::map(gen::container<std::vector<std::uint8_t>>(32, gen::arbitrary<std::uint8_t>()),
                  [c](std::vector<std::uint8_t> raw) {
                    if (!PrivateKey::from_bytes(c, raw).ok()) {
                      raw.assign(32, 0);
                      raw[31] = 7;
                    }
                    return raw;
                  });
}

// Message bytes, from empty to a few hundred bytes.
inline rc::Gen<std::vector<std::uint8_t>> message() {
  return gen::container<std::vector<std::uint8_t>>(gen::arbitrary<std::uint8_t>());
}

}  // namespace atproto::crypto::generators

// bench-crypto: signing and verification per second on both curves (issue 5),
// next to @atproto/crypto (bench/typescript/crypto.mjs) on the same keys,
// messages and signatures, plus a raw libsecp256k1 verify loop to show what
// our K-256 verify costs on top of the library's own call.
//
// Usage: bench-crypto DIR   writes DIR/crypto.json (keys, message, signatures),
//                           then measures and prints JSON lines.
//
// Ids (the TypeScript side uses the same ones):
//   crypto.sign.<curve>    sign a 200-byte message (SHA-256 + ECDSA, low-S)
//   crypto.verify.<curve>  verify from the did:key string, as verifySignature(didKey, ...)
//                          does (parse the key + SHA-256 + strict checks + ECDSA verify)
// C++ only:
//   crypto.verify-parsed.<curve>  verify with an already parsed PublicKey
//   crypto.verify-raw.k256        secp256k1_ecdsa_verify alone, on pre-parsed
//                                 inputs and a precomputed digest
#include <secp256k1.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "atproto/common/hex.hpp"
#include "atproto/common/testing.hpp"
#include "atproto/crypto/keys.hpp"
#include "atproto/data/cid.hpp"
#include "bench.hpp"

namespace {

using atproto::crypto::Curve;
using atproto::crypto::PrivateKey;
using atproto::crypto::PublicKey;
using nlohmann::json;
namespace bench = atproto::bench;

template <typename T>
T must(atproto::Result<T> r, const char* what) {
  if (!r.ok()) {
    std::cerr << "bench-crypto: " << what << ": " << r.error().code << ": " << r.error().message
              << "\n";
    std::exit(1);
  }
  return std::move(r).value();
}

// The bench loop of bench.hpp, returning ops/s so that a ratio between two
// measurements can be printed beside them.
struct Rate {
  std::uint64_t ops = 0;
  double seconds = 0;
  double per_second() const { return seconds > 0 ? static_cast<double>(ops) / seconds : 0; }
};

template <typename Body>
Rate run(Body&& body) {
  using clock = std::chrono::steady_clock;
  const double budget = bench::min_seconds();
  Rate rate;
  std::uint64_t batch = 1;
  const auto start = clock::now();
  while (rate.seconds < budget) {
    for (std::uint64_t i = 0; i < batch; ++i) body();
    rate.ops += batch;
    rate.seconds = std::chrono::duration<double>(clock::now() - start).count();
    if (rate.seconds < budget / 10) batch *= 2;
  }
  return rate;
}

void print(const bench::Spec& spec, const std::string& check, const Rate& rate,
           const json& extra = json::object()) {
  json line{{"id", spec.id},
            {"what", spec.what},
            {"ops", rate.ops},
            {"seconds", rate.seconds},
            {"bytes", spec.bytes},
            {"check", check},
            {"target_ratio", spec.target_ratio}};
  for (const auto& [k, v] : extra.items()) line[k] = v;
  std::cout << line.dump() << std::endl;
}

// Fixed private keys, so that both sides use the same ones and K-256
// signatures (RFC 6979) can be compared byte for byte.
const char* private_hex(Curve c) {
  return c == Curve::kK256 ? "9085d2bef69286a6cbb51623c8fa258629945cd55ca705cc4e66700396894e0c"
                           : "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721";
}

using atproto::testing::hex_bytes;

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: bench-crypto DIR\n";
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  // A message the size of a typical unsigned commit (DRISL CBOR, ~200 bytes).
  std::vector<std::uint8_t> message(200);
  for (std::size_t i = 0; i < message.size(); ++i) {
    message[i] = static_cast<std::uint8_t>(i * 31 + 7);
  }

  json inputs{{"message_hex", atproto::hex_encode(message)}};
  struct Side {
    Curve curve;
    std::string name;
    PrivateKey key;
    PublicKey pub;
    std::array<std::uint8_t, 64> sig;
  };
  std::vector<Side> sides;
  for (Curve c : {Curve::kK256, Curve::kP256}) {
    auto key = must(PrivateKey::from_bytes(c, hex_bytes(private_hex(c))), "private key");
    auto pub = key.public_key();
    auto sig = key.sign(message);
    const std::string name(atproto::crypto::curve_name(c));
    inputs[name] = json{{"private_key_hex", private_hex(c)},
                        {"did_key", pub.did_key()},
                        {"signature_hex", atproto::hex_encode(sig)}};
    sides.push_back(Side{c, name, std::move(key), pub, sig});
  }
  std::ofstream(dir / "crypto.json") << inputs.dump(2) << "\n";

  const std::size_t bytes = message.size();
  for (const auto& side : sides) {
    // K-256 signatures are deterministic, so both sides must print the same
    // bytes; P-256 ones are randomized, so the check is that they verify.
    bench::Spec spec{"crypto.sign." + side.name, "sign 200 B, " + side.name, bytes, 0};
    if (bench::selected(spec.id)) {
      const auto sig = side.key.sign(message);
      const std::string check = side.curve == Curve::kK256
                                    ? atproto::hex_encode(sig)
                                    : (side.pub.verify(message, sig).ok() ? "verifies" : "BAD");
      print(spec, check, run([&] { bench::keep(side.key.sign(message)); }));
    }
  }
  Rate k256_parsed;
  for (const auto& side : sides) {
    const std::string did = side.pub.did_key();
    bench::Spec spec{"crypto.verify." + side.name, "verify 200 B from did:key, " + side.name, bytes,
                     40};
    if (bench::selected(spec.id)) {
      auto once = [&] {
        auto key = PublicKey::from_did_key(did);
        return key.ok() && key->verify(message, side.sig).ok();
      };
      const std::string check = once() ? "valid" : "invalid";
      print(spec, check, run([&] { bench::keep(once()); }));
    }
    bench::Spec parsed{"crypto.verify-parsed." + side.name,
                       "verify 200 B with a parsed key, " + side.name, bytes, 0};
    if (bench::selected(parsed.id)) {
      const std::string check = side.pub.verify(message, side.sig).ok() ? "valid" : "invalid";
      Rate rate = run([&] { bench::keep(side.pub.verify(message, side.sig).ok()); });
      if (side.curve == Curve::kK256) k256_parsed = rate;
      print(parsed, check, rate);
    }
  }

  // libsecp256k1's own verify on pre-parsed inputs: the floor for our K-256
  // verify, which adds SHA-256 of the message, the form checks and parsing
  // the compact signature.
  bench::Spec raw{"crypto.verify-raw.k256", "secp256k1_ecdsa_verify alone (pre-parsed, pre-hashed)",
                  0, 0};
  if (bench::selected(raw.id)) {
    const Side& k = sides[0];
    secp256k1_context* ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    secp256k1_pubkey pub;
    secp256k1_ecdsa_signature sig;
    const auto compressed = k.pub.compressed();
    const auto digest = atproto::data::sha256(message);
    if (secp256k1_ec_pubkey_parse(ctx, &pub, compressed.data(), compressed.size()) != 1 ||
        secp256k1_ecdsa_signature_parse_compact(ctx, &sig, k.sig.data()) != 1) {
      std::cerr << "bench-crypto: libsecp256k1 rejected the bench inputs\n";
      return 1;
    }
    const std::string check =
        secp256k1_ecdsa_verify(ctx, &sig, digest.data(), &pub) == 1 ? "valid" : "invalid";
    Rate rate = run([&] { bench::keep(secp256k1_ecdsa_verify(ctx, &sig, digest.data(), &pub)); });
    json extra = json::object();
    if (k256_parsed.ops > 0) {
      // Cost per call of our verify over the raw call's (target: at most 1.5).
      extra["our_verify_cost_vs_raw"] =
          std::round(rate.per_second() / k256_parsed.per_second() * 100) / 100;
    }
    print(raw, check, rate, extra);
    secp256k1_context_destroy(ctx);
  }
  return 0;
}

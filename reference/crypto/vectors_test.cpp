// Runs the shared crypto test vectors (vectors/crypto/*.json) against the
// reference. The file format is described in vectors/README.md; every mismatch
// is reported with the case id.
//
// verify: the key (did:key or multikey) is parsed and the signature verified;
// the verdict and the error code must match. Valid K-256 cases that name their
// private key must also be reproduced exactly by signing (RFC 6979), and every
// valid case's private key must sign something the public key verifies.
// parse-key: PublicKey::from_did_key, comparing curve, multikey and points.
// verification-method: PublicKey::from_verification_method.
// did-key: PrivateKey::from_bytes then public_key().did_key().
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "atproto/common/hex.hpp"
#include "atproto/common/testing.hpp"
#include "atproto/crypto/keys.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace atproto;
using namespace atproto::crypto;

const fs::path kVectorDir = fs::path(ATPROTO_VECTORS_DIR) / "crypto";

json read_file(const std::string& name) {
  std::ifstream in(kVectorDir / name);
  if (!in) throw std::runtime_error("cannot open " + (kVectorDir / name).string());
  return json::parse(in);
}

using atproto::testing::hex_bytes;

Curve curve_of(const json& c) { return c.at("curve") == "p256" ? Curve::kP256 : Curve::kK256; }

using atproto::testing::code_of;

// The expected code: "<ok>" for valid cases, the error otherwise.
std::string expected_code(const json& c) {
  return c.at("valid").get<bool>() ? "<ok>" : c.at("error").get<std::string>();
}

// Each file has enough of both verdicts to be worth running, and unique ids.
void check_file_shape(const json& file, std::size_t min_valid, std::size_t min_invalid) {
  std::size_t valid = 0, invalid = 0;
  std::set<std::string> ids;
  for (const auto& c : file.at("cases")) {
    (c.at("valid").get<bool>() ? valid : invalid)++;
    CHECK(ids.insert(c.at("id").get<std::string>()).second);
  }
  CHECK(valid >= min_valid);
  CHECK(invalid >= min_invalid);
}

Result<PublicKey> parse_any(const std::string& text) {
  return text.starts_with("did:") ? PublicKey::from_did_key(text) : PublicKey::from_multibase(text);
}

}  // namespace

// [crypto.sig.low-s] [crypto.sig.der] [crypto.sig.length] [crypto.sig.scalar-range]
// [crypto.sig.verify] [crypto.sig.sha256]
TEST_CASE("crypto vectors: verify", "[crypto][vectors]") {
  const json file = read_file("verify.json");
  check_file_shape(file, 16, 50);
  for (const auto& c : file.at("cases")) {
    const std::string id = c.at("id");
    CAPTURE(id);
    const auto message = hex_bytes(c.at("message_hex").get<std::string>());
    const auto signature = hex_bytes(c.at("signature_hex").get<std::string>());
    auto key = parse_any(c.at("public_key"));
    std::string got = key ? code_of(key->verify(message, signature)) : key.error().code;
    CHECK(got == expected_code(c));
    if (key) CHECK(key->curve() == curve_of(c));
    if (c.contains("private_key_hex") && c.at("valid").get<bool>()) {
      auto priv = PrivateKey::from_bytes(curve_of(c),
                                         hex_bytes(c.at("private_key_hex").get<std::string>()));
      REQUIRE(priv.ok());
      REQUIRE(key.ok());
      CHECK(priv->public_key() == *key);
      const auto ours = priv->sign(message);
      CHECK(key->verify(message, ours).ok());
      // libsecp256k1's RFC 6979 nonces make K-256 signatures reproducible.
      if (curve_of(c) == Curve::kK256) CHECK(atproto::hex_encode(ours) == c.at("signature_hex"));
    }
  }
}

// [crypto.key.multibase] [crypto.key.multicodec] [crypto.key.compressed]
// [crypto.key.point-encoding] [crypto.key.on-curve] [crypto.did-key.prefix]
TEST_CASE("crypto vectors: parse-key", "[crypto][vectors]") {
  const json file = read_file("parse-key.json");
  check_file_shape(file, 10, 40);
  for (const auto& c : file.at("cases")) {
    const std::string id = c.at("id");
    CAPTURE(id);
    auto key = PublicKey::from_did_key(c.at("input").get<std::string>());
    CHECK(code_of(key) == expected_code(c));
    if (key && c.at("valid").get<bool>()) {
      CHECK(key->curve() == curve_of(c));
      CHECK(jwt_algorithm(key->curve()) == c.at("jwt_alg").get<std::string>());
      CHECK(key->did_key() == c.at("input").get<std::string>());
      CHECK(key->multibase() == c.at("public_key_multibase").get<std::string>());
      CHECK(atproto::hex_encode(key->compressed()) == c.at("compressed_hex").get<std::string>());
      CHECK(atproto::hex_encode(key->uncompressed()) ==
            c.at("uncompressed_hex").get<std::string>());
    }
  }
}

// [crypto.multikey.type] [crypto.legacy.multibase]
TEST_CASE("crypto vectors: verification-method", "[crypto][vectors]") {
  const json file = read_file("verification-method.json");
  check_file_shape(file, 6, 12);
  for (const auto& c : file.at("cases")) {
    const std::string id = c.at("id");
    CAPTURE(id);
    auto key = PublicKey::from_verification_method(c.at("type").get<std::string>(),
                                                   c.at("public_key_multibase").get<std::string>());
    CHECK(code_of(key) == expected_code(c));
    if (key && c.at("valid").get<bool>()) {
      CHECK(key->curve() == curve_of(c));
      CHECK(key->did_key() == c.at("did_key").get<std::string>());
    }
  }
}

// [crypto.private-key.length] [crypto.private-key.range] [crypto.did-key.prefix]
TEST_CASE("crypto vectors: did-key from private key", "[crypto][vectors]") {
  const json file = read_file("did-key.json");
  check_file_shape(file, 20, 12);
  for (const auto& c : file.at("cases")) {
    const std::string id = c.at("id");
    CAPTURE(id);
    const auto raw = hex_bytes(c.at("private_key_hex").get<std::string>());
    auto key = PrivateKey::from_bytes(curve_of(c), raw);
    CHECK(code_of(key) == expected_code(c));
    if (key && c.at("valid").get<bool>()) {
      CHECK(key->public_key().did_key() == c.at("did_key").get<std::string>());
      const auto exported = key->export_bytes();
      CHECK(atproto::hex_encode(exported.bytes()) == c.at("private_key_hex").get<std::string>());
    }
  }
}

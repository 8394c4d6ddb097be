// Fuzz target: JWT decoding and both verifiers (HS256 session tokens and
// ES256K inter-service tokens).
// Spec: https://atproto.com/specs/xrpc#inter-service-authentication-jwt
//
// Input layout:
//   byte 0 even  the rest is a token, given to decode_jwt,
//                verify_jwt_hs256 (secret "fuzz-secret") and
//                verify_service_auth (the fixed K-256 key below)
//   byte 0 odd   the rest is a payload text, signed with the fixed K-256
//                key under an ES256K header, then verified: a correctly
//                signed token with good claims must be accepted
// Invariants: no crash; every refusal carries one of the documented codes;
// an accepted token has the algorithm, audience, expiry and lxm asked for;
// the key lookup runs at most twice.
#include <array>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <set>
#include <span>
#include <string>

#include "atproto/data/base64.hpp"
#include "atproto/syntax/did.hpp"
#include "atproto/xrpc/jwt.hpp"
#include "fuzz_check.hpp"

namespace xrpc = atproto::xrpc;
namespace crypto = atproto::crypto;

namespace {

constexpr std::int64_t kNow = 1'700'000'000;
const std::string kAud = "did:web:fuzz.example#svc";
const std::string kLxm = "com.example.fuzz";

const crypto::PrivateKey& signing_key() {
  static const crypto::PrivateKey key = [] {
    std::array<std::uint8_t, 32> raw{};
    for (std::size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<std::uint8_t>(i + 1);
    return crypto::PrivateKey::from_bytes(crypto::Curve::kK256, raw).value();
  }();
  return key;
}

std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

bool integer_after(const nlohmann::json& p, const char* name, std::int64_t bound) {
  auto it = p.find(name);
  if (it == p.end()) return false;
  if (it->is_number_unsigned()) {
    auto v = it->get<std::uint64_t>();
    return v <= static_cast<std::uint64_t>(INT64_MAX) && static_cast<std::int64_t>(v) > bound;
  }
  if (it->is_number_integer()) return it->get<std::int64_t>() > bound;
  return false;
}

void check_service_auth(std::string_view token, bool must_accept_if_claims_good) {
  int lookups = 0;
  xrpc::SigningKeyLookup lookup = [&](std::string_view did, bool) {
    ++lookups;
    // [xrpc.jwt.claims] The lookup is asked for the DID, never a fragment.
    FUZZ_CHECK(did.find('#') == std::string_view::npos);
    return atproto::Result<crypto::PublicKey>(signing_key().public_key());
  };
  xrpc::ServiceAuthExpectations expect{kAud, kLxm, kNow};
  auto verified = xrpc::verify_service_auth(token, expect, lookup);
  FUZZ_CHECK(lookups <= 2);
  if (verified) {
    FUZZ_CHECK(verified->aud == kAud);
    FUZZ_CHECK(verified->exp > kNow);
    FUZZ_CHECK(verified->lxm == kLxm);
    auto jwt = xrpc::decode_jwt(token);
    FUZZ_CHECK(jwt.ok());
    FUZZ_CHECK(jwt->header.value("alg", "") == "ES256K");
    FUZZ_CHECK(jwt->signature.size() == 64);
    return;
  }
  static const std::set<std::string> kCodes = {
      "xrpc.jwt.malformed", "xrpc.jwt.alg",    "xrpc.jwt.typ",
      "xrpc.jwt.kid",       "xrpc.jwt.claims", "xrpc.jwt.expired",
      "xrpc.jwt.audience",  "xrpc.jwt.lxm",    "xrpc.jwt.signature"};
  FUZZ_CHECK(kCodes.count(verified.error().code) == 1);
  if (!must_accept_if_claims_good) return;
  // The token was signed correctly under a plain ES256K/JWT header: only
  // the claims may refuse it.
  auto jwt = xrpc::decode_jwt(token);
  if (!jwt) {
    FUZZ_CHECK(verified.error().code == "xrpc.jwt.malformed");
    return;
  }
  const auto& p = jwt->payload;
  bool good = p.contains("iss") && p["iss"].is_string() &&
              atproto::syntax::validate_did(
                  p["iss"].get<std::string>().substr(0, p["iss"].get<std::string>().find('#')))
                  .ok() &&
              p.value("aud", nlohmann::json()) == kAud && integer_after(p, "exp", kNow) &&
              p.value("lxm", nlohmann::json()) == kLxm &&
              (!p.contains("iat") ||
               (p["iat"].is_number_unsigned() ? p["iat"].get<std::uint64_t>() <= INT64_MAX
                                              : p["iat"].is_number_integer())) &&
              (!p.contains("jti") || p["jti"].is_string());
  if (good) FUZZ_CHECK(verified.ok());
  FUZZ_CHECK(verified.error().code != "xrpc.jwt.signature");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  std::string_view in = fuzz::begin_input(bytes, size);
  if (in.empty()) return 0;
  bool sign_payload = (static_cast<unsigned char>(in[0]) & 1) != 0;
  std::string_view rest = in.substr(1);

  if (sign_payload) {
    std::string input =
        atproto::data::base64url_encode(bytes_of(R"({"typ":"JWT","alg":"ES256K"})")) + "." +
        atproto::data::base64url_encode(bytes_of(rest));
    auto sig = signing_key().sign(bytes_of(input));
    check_service_auth(input + "." + atproto::data::base64url_encode(sig), true);
    return 0;
  }

  auto jwt = xrpc::decode_jwt(rest);
  if (jwt) {
    // [xrpc.jwt.signature] The signed text is the first two parts as given.
    FUZZ_CHECK(jwt->header.is_object() && jwt->payload.is_object());
    FUZZ_CHECK(fuzz::starts_with(rest, jwt->signing_input + "."));
  } else {
    FUZZ_CHECK(jwt.error().code == "xrpc.jwt.malformed");
  }

  static const std::string secret = "fuzz-secret";
  auto hs = xrpc::verify_jwt_hs256(rest, bytes_of(secret), kNow);
  if (hs) {
    FUZZ_CHECK(jwt.ok());
    FUZZ_CHECK(hs->header.value("alg", "") == "HS256");
    FUZZ_CHECK(integer_after(hs->payload, "exp", kNow));
    // Re-signing the same header and payload text gives the same MAC.
    auto again = xrpc::sign_jwt_hs256(hs->payload, bytes_of(secret), "JWT");
    FUZZ_CHECK(xrpc::verify_jwt_hs256(again, bytes_of(secret), kNow).ok());
  } else {
    static const std::set<std::string> kCodes = {"xrpc.jwt.malformed", "xrpc.jwt.alg",
                                                 "xrpc.jwt.signature", "xrpc.jwt.expired"};
    FUZZ_CHECK(kCodes.count(hs.error().code) == 1);
  }
  check_service_auth(rest, false);
  return 0;
}

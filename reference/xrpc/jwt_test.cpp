// JWTs: decoding, HS256 session tokens, inter-service tokens on both curves,
// and every refusal the verifier documents.
#include "atproto/xrpc/jwt.hpp"

#include <array>
#include <catch2/catch.hpp>
#include <string>

#include "atproto/common/testing.hpp"
#include "atproto/data/base64.hpp"

using atproto::Result;
using atproto::crypto::Curve;
using atproto::crypto::PrivateKey;
using atproto::crypto::PublicKey;
using atproto::testing::code_of;
using namespace atproto::xrpc;
using nlohmann::json;

namespace {

constexpr std::int64_t kNow = 1'700'000'000;
const std::string kIss = "did:plc:ewvi7nxzyoun6zhxrhs64oiz";
const std::string kAud = "did:web:service.example.com#atproto_appview";

std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string b64(std::string_view s) { return atproto::data::base64url_encode(bytes_of(s)); }

// A token with any header and payload, signed over their exact text by `key`.
std::string signed_token(const std::string& header, const std::string& payload,
                         const PrivateKey& key) {
  std::string input = b64(header) + "." + b64(payload);
  return input + "." + atproto::data::base64url_encode(key.sign(bytes_of(input)));
}

ServiceAuthClaims claims() {
  ServiceAuthClaims c;
  c.iss = kIss;
  c.aud = kAud;
  c.lxm = "app.bsky.feed.getTimeline";
  c.iat = kNow;
  c.exp = kNow + 60;
  c.jti = "nonce-1";
  return c;
}

ServiceAuthExpectations expect() {
  return ServiceAuthExpectations{kAud, std::string("app.bsky.feed.getTimeline"), kNow};
}

// A lookup that answers with `first` until asked for a fresh key, then with
// `fresh`; counts both kinds of calls.
struct Lookup {
  Lookup(PublicKey first_key, PublicKey fresh_key)
      : first(std::move(first_key)), fresh(std::move(fresh_key)) {}
  PublicKey first;
  PublicKey fresh;
  int cached_calls = 0;
  int fresh_calls = 0;
  std::string last_did;

  SigningKeyLookup fn() {
    return [this](std::string_view did, bool want_fresh) -> Result<PublicKey> {
      last_did = std::string(did);
      (want_fresh ? fresh_calls : cached_calls)++;
      return want_fresh ? fresh : first;
    };
  }
};

PrivateKey key(Curve curve) { return PrivateKey::generate(curve).value(); }

}  // namespace

TEST_CASE("decode_jwt splits and decodes the three parts", "[xrpc][jwt]") {
  std::string token = b64(R"({"alg":"HS256"})") + "." + b64(R"({"sub":"x","n":9007199254740993})") +
                      "." + b64("sig");
  auto jwt = decode_jwt(token);
  REQUIRE(jwt.ok());
  CHECK(jwt->header["alg"] == "HS256");
  // Integers keep every digit (2^53 + 1 is not a double).
  CHECK(jwt->payload["n"].get<std::int64_t>() == 9007199254740993);
  CHECK(jwt->signing_input == token.substr(0, token.rfind('.')));
  CHECK(std::string(jwt->signature.begin(), jwt->signature.end()) == "sig");
}

TEST_CASE("decode_jwt refuses malformed tokens", "[xrpc][jwt]") {
  std::string h = b64(R"({"alg":"HS256"})");
  std::string p = b64(R"({"sub":"x"})");
  for (const std::string& bad : {
           std::string(""),
           h,
           h + "." + p,
           h + "." + p + ".c2ln.c2ln",
           h + "=." + p + ".c2ln",                                      // padding
           h + "." + p + ".c2l+",                                       // standard alphabet
           b64("not json") + "." + p + ".c2ln",                         // header not JSON
           b64("[1]") + "." + p + ".c2ln",                              // header not an object
           h + "." + b64("\"str\"") + ".c2ln",                          // payload not an object
           b64(R"({"alg":"HS256","alg":"none"})") + "." + p + ".c2ln",  // duplicate key
           "." + p + ".c2ln",
       }) {
    INFO(bad);
    CHECK(code_of(decode_jwt(bad)) == "xrpc.jwt.malformed");
  }
}

TEST_CASE("HS256 session tokens round trip and refuse tampering", "[xrpc][jwt]") {
  const std::string secret_text = "server-secret";
  auto secret = bytes_of(secret_text);
  json payload = {{"scope", "com.atproto.access"}, {"sub", kIss}, {"exp", kNow + 100}};
  std::string token = sign_jwt_hs256(payload, secret, "at+jwt");

  auto ok = verify_jwt_hs256(token, secret, kNow);
  REQUIRE(ok.ok());
  CHECK(ok->payload == payload);
  CHECK(ok->header["typ"] == "at+jwt");
  CHECK(ok->header["alg"] == "HS256");

  const std::string other = "other-secret";
  CHECK(code_of(verify_jwt_hs256(token, bytes_of(other), kNow)) == "xrpc.jwt.signature");
  CHECK(code_of(verify_jwt_hs256(token, secret, kNow + 100)) == "xrpc.jwt.expired");
  CHECK(code_of(verify_jwt_hs256(token, secret, kNow + 99)) == "<ok>");

  // A payload swapped for another (later expiry) keeps the old MAC: refused.
  auto dot1 = token.find('.');
  auto dot2 = token.rfind('.');
  json longer = payload;
  longer["exp"] = kNow + 100000;
  std::string tampered = token.substr(0, dot1) + "." + b64(longer.dump()) + token.substr(dot2);
  CHECK(code_of(verify_jwt_hs256(tampered, secret, kNow)) == "xrpc.jwt.signature");

  // alg "none" with no signature, and another HMAC name, are refused by alg.
  std::string none =
      b64(R"({"alg":"none","typ":"JWT"})") + "." + token.substr(dot1 + 1, dot2 - dot1);
  CHECK(code_of(verify_jwt_hs256(none, secret, kNow)) == "xrpc.jwt.alg");
  std::string hs512 = b64(R"({"alg":"HS512"})") + token.substr(dot1);
  CHECK(code_of(verify_jwt_hs256(hs512, secret, kNow)) == "xrpc.jwt.alg");

  // No exp at all: refused (session tokens always expire).
  std::string forever = sign_jwt_hs256(json{{"sub", kIss}}, secret);
  CHECK(code_of(verify_jwt_hs256(forever, secret, kNow)) == "xrpc.jwt.expired");
  CHECK(code_of(verify_jwt_hs256("a.b", secret, kNow)) == "xrpc.jwt.malformed");
}

TEST_CASE("service auth tokens round trip on both curves [xrpc.jwt.alg]", "[xrpc][jwt]") {
  for (Curve curve : {Curve::kK256, Curve::kP256}) {
    INFO(atproto::crypto::curve_name(curve));
    auto k = key(curve);
    std::string token = create_service_auth(k, claims());
    auto jwt = decode_jwt(token);
    REQUIRE(jwt.ok());
    CHECK(jwt->header["alg"] == atproto::crypto::jwt_algorithm(curve));
    CHECK(jwt->header["typ"] == "JWT");
    CHECK(jwt->signature.size() == 64);

    Lookup lookup{k.public_key(), k.public_key()};
    auto verified = verify_service_auth(token, expect(), lookup.fn());
    REQUIRE(verified.ok());
    CHECK(verified->iss == kIss);
    CHECK(verified->aud == kAud);
    CHECK(verified->lxm == std::optional<std::string>("app.bsky.feed.getTimeline"));
    CHECK(verified->exp == kNow + 60);
    CHECK(verified->iat == kNow);
    CHECK(verified->jti == "nonce-1");
    CHECK(lookup.cached_calls == 1);
    CHECK(lookup.fresh_calls == 0);
    CHECK(lookup.last_did == kIss);
  }
}

TEST_CASE("service auth: a replay cache accepts a token once [xrpc.jwt.jti-replay]",
          "[xrpc][jwt]") {
  auto k = key(Curve::kK256);
  Lookup lookup{k.public_key(), k.public_key()};
  JtiReplayCache cache;
  auto with_cache = expect();
  with_cache.replay = &cache;
  std::string token = create_service_auth(k, claims());
  REQUIRE(verify_service_auth(token, with_cache, lookup.fn()).ok());
  auto again = verify_service_auth(token, with_cache, lookup.fn());
  CHECK(code_of(again) == "xrpc.jwt.jti-replay");
  // Without the cache the verifier itself remembers nothing.
  CHECK(verify_service_auth(token, expect(), lookup.fn()).ok());
  // Another nonce is another token.
  auto other = claims();
  other.jti = "nonce-2";
  CHECK(verify_service_auth(create_service_auth(k, other), with_cache, lookup.fn()).ok());
  // Tokens that fail another check are not remembered: a wrong audience
  // first, then the same nonce for the right one is accepted.
  auto third = claims();
  third.jti = "nonce-3";
  auto wrong_aud = third;
  wrong_aud.aud = "did:web:elsewhere.example.com";
  CHECK(code_of(verify_service_auth(create_service_auth(k, wrong_aud), with_cache, lookup.fn())) ==
        "xrpc.jwt.audience");
  CHECK(verify_service_auth(create_service_auth(k, third), with_cache, lookup.fn()).ok());
  // A token without jti cannot be remembered: refused where a cache is used.
  std::string no_jti = signed_token(
      R"({"alg":"ES256K","typ":"JWT"})",
      json{{"iss", kIss}, {"aud", kAud}, {"exp", kNow + 60}, {"lxm", "app.bsky.feed.getTimeline"}}
          .dump(),
      k);
  CHECK(verify_service_auth(no_jti, expect(), lookup.fn()).ok());
  CHECK(code_of(verify_service_auth(no_jti, with_cache, lookup.fn())) == "xrpc.jwt.jti-replay");
}

TEST_CASE("jti replay cache: keyed by issuer, entries leave with their token [xrpc.jwt.jti-replay]",
          "[xrpc][jwt]") {
  JtiReplayCache cache(3);
  auto c = claims();
  REQUIRE(cache.remember(c, kNow).ok());
  CHECK(code_of(cache.remember(c, kNow + 59)) == "xrpc.jwt.jti-replay");
  // The same nonce from another issuer is another token.
  auto other_iss = c;
  other_iss.iss = "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa";
  CHECK(cache.remember(other_iss, kNow).ok());
  CHECK(cache.size(kNow) == 2);
  // Full: a third live entry fits, a fourth is refused, nothing is evicted.
  auto late = c;
  late.jti = "late";
  late.exp = kNow + 600;
  CHECK(cache.remember(late, kNow).ok());
  auto fourth = c;
  fourth.jti = "fourth";
  fourth.exp = kNow + 120;
  CHECK(code_of(cache.remember(fourth, kNow)) == "xrpc.jwt.jti-replay");
  CHECK(code_of(cache.remember(c, kNow)) == "xrpc.jwt.jti-replay");
  // Once the first two tokens expire (exp <= now) their entries are gone
  // and there is room again; the longer-lived one is still remembered.
  CHECK(cache.size(kNow + 60) == 1);
  CHECK(cache.remember(fourth, kNow + 60).ok());
  CHECK(code_of(cache.remember(fourth, kNow + 119)) == "xrpc.jwt.jti-replay");
  CHECK(code_of(cache.remember(late, kNow + 599)) == "xrpc.jwt.jti-replay");
  CHECK(cache.size(kNow + 600) == 0);
}

TEST_CASE("service auth: an empty jti becomes a random nonce", "[xrpc][jwt]") {
  auto k = key(Curve::kK256);
  auto c = claims();
  c.jti.clear();
  auto a = decode_jwt(create_service_auth(k, c)).value().payload["jti"].get<std::string>();
  auto b = decode_jwt(create_service_auth(k, c)).value().payload["jti"].get<std::string>();
  CHECK(a.size() == 32);
  CHECK(a != b);
}

TEST_CASE("service auth refuses expired, misdirected and unbound tokens", "[xrpc][jwt]") {
  auto k = key(Curve::kK256);
  Lookup lookup{k.public_key(), k.public_key()};
  std::string token = create_service_auth(k, claims());

  SECTION("expired [xrpc.jwt.expired]") {
    auto e = expect();
    e.now = kNow + 60;
    CHECK(code_of(verify_service_auth(token, e, lookup.fn())) == "xrpc.jwt.expired");
    e.now = kNow + 59;
    CHECK(code_of(verify_service_auth(token, e, lookup.fn())) == "<ok>");
  }
  SECTION("wrong audience [xrpc.jwt.audience]") {
    auto e = expect();
    e.aud = "did:web:service.example.com";  // the bare DID is another audience
    CHECK(code_of(verify_service_auth(token, e, lookup.fn())) == "xrpc.jwt.audience");
    e.aud = "did:web:other.example.com#atproto_appview";
    CHECK(code_of(verify_service_auth(token, e, lookup.fn())) == "xrpc.jwt.audience");
  }
  SECTION("wrong or missing lxm [xrpc.jwt.lxm]") {
    auto e = expect();
    e.lxm = "com.atproto.repo.createRecord";
    CHECK(code_of(verify_service_auth(token, e, lookup.fn())) == "xrpc.jwt.lxm");
    auto c = claims();
    c.lxm.reset();
    std::string unbound = create_service_auth(k, c);
    CHECK(code_of(verify_service_auth(unbound, expect(), lookup.fn())) == "xrpc.jwt.lxm");
    e.lxm.reset();  // a service that does not ask for a binding accepts both
    CHECK(code_of(verify_service_auth(unbound, e, lookup.fn())) == "<ok>");
    CHECK(code_of(verify_service_auth(token, e, lookup.fn())) == "<ok>");
  }
  CHECK(lookup.fresh_calls == 0);
}

TEST_CASE("service auth refuses bad claims [xrpc.jwt.claims]", "[xrpc][jwt]") {
  auto k = key(Curve::kK256);
  Lookup lookup{k.public_key(), k.public_key()};
  const std::string header = R"({"alg":"ES256K","typ":"JWT"})";
  json full = {{"iss", kIss},
               {"aud", kAud},
               {"exp", kNow + 60},
               {"iat", kNow},
               {"lxm", "app.bsky.feed.getTimeline"},
               {"jti", "n"}};
  CHECK(code_of(verify_service_auth(signed_token(header, full.dump(), k), expect(), lookup.fn())) ==
        "<ok>");
  for (const char* field : {"iss", "aud", "exp"}) {
    json p = full;
    p.erase(field);
    INFO(field);
    CHECK(code_of(verify_service_auth(signed_token(header, p.dump(), k), expect(), lookup.fn())) ==
          "xrpc.jwt.claims");
  }
  for (const auto& [field, value] :
       std::vector<std::pair<std::string, json>>{{"iss", 5},
                                                 {"iss", "not-a-did"},
                                                 {"aud", json::array()},
                                                 {"exp", "soon"},
                                                 {"exp", json(std::uint64_t{1} << 63)},
                                                 {"exp", 1.7e9 + 0.5},
                                                 {"iat", "now"},
                                                 {"lxm", 1},
                                                 {"jti", false}}) {
    json p = full;
    p[field] = value;
    INFO(p.dump());
    CHECK(code_of(verify_service_auth(signed_token(header, p.dump(), k), expect(), lookup.fn())) ==
          "xrpc.jwt.claims");
  }
  // An iss with a service fragment names the DID before it to the lookup.
  json p = full;
  p["iss"] = kIss + "#atproto_labeler";
  auto ok = verify_service_auth(signed_token(header, p.dump(), k), expect(), lookup.fn());
  CHECK(code_of(ok) == "<ok>");
  CHECK(lookup.last_did == kIss);
}

TEST_CASE("service auth refuses other algorithms [xrpc.jwt.alg]", "[xrpc][jwt]") {
  auto k = key(Curve::kK256);
  Lookup lookup{k.public_key(), k.public_key()};
  std::string token = create_service_auth(k, claims());
  auto dot1 = token.find('.');
  auto dot2 = token.rfind('.');
  std::string payload_part = token.substr(dot1 + 1, dot2 - dot1 - 1);

  // alg "none" with an empty signature.
  std::string none = b64(R"({"alg":"none","typ":"JWT"})") + "." + payload_part + ".";
  CHECK(code_of(verify_service_auth(none, expect(), lookup.fn())) == "xrpc.jwt.alg");
  // An HS256 token keyed with the public key bytes (the classic confusion).
  auto pub = k.public_key().compressed();
  std::string hs = sign_jwt_hs256(decode_jwt(token).value().payload, pub);
  CHECK(code_of(verify_service_auth(hs, expect(), lookup.fn())) == "xrpc.jwt.alg");
  // No alg at all.
  std::string bare = signed_token(R"({"typ":"JWT"})", decode_jwt(token)->payload.dump(), k);
  CHECK(code_of(verify_service_auth(bare, expect(), lookup.fn())) == "xrpc.jwt.alg");
  // ES256 claimed over a K-256 signature: the key's curve decides.
  std::string p256_claim =
      signed_token(R"({"alg":"ES256","typ":"JWT"})", decode_jwt(token)->payload.dump(), k);
  CHECK(code_of(verify_service_auth(p256_claim, expect(), lookup.fn())) == "xrpc.jwt.alg");
  CHECK(lookup.cached_calls == 1);  // only the last one got as far as the lookup
}

TEST_CASE("service auth refuses session typs and foreign kids [xrpc.jwt.typ] [xrpc.jwt.kid]",
          "[xrpc][jwt]") {
  auto k = key(Curve::kP256);
  Lookup lookup{k.public_key(), k.public_key()};
  std::string payload =
      json{{"iss", kIss}, {"aud", kAud}, {"exp", kNow + 60}, {"lxm", "app.bsky.feed.getTimeline"}}
          .dump();
  for (const char* typ : {"at+jwt", "refresh+jwt", "dpop+jwt"}) {
    std::string header = json{{"alg", "ES256"}, {"typ", typ}}.dump();
    CHECK(code_of(verify_service_auth(signed_token(header, payload, k), expect(), lookup.fn())) ==
          "xrpc.jwt.typ");
  }
  std::string other_kid = R"({"alg":"ES256","typ":"JWT","kid":"#atproto_label"})";
  CHECK(code_of(verify_service_auth(signed_token(other_kid, payload, k), expect(), lookup.fn())) ==
        "xrpc.jwt.kid");
  std::string atproto_kid = R"({"alg":"ES256","typ":"JWT","kid":"#atproto"})";
  CHECK(code_of(verify_service_auth(signed_token(atproto_kid, payload, k), expect(),
                                    lookup.fn())) == "<ok>");
}

TEST_CASE("service auth refuses bad signatures [xrpc.jwt.signature]", "[xrpc][jwt]") {
  for (Curve curve : {Curve::kK256, Curve::kP256}) {
    INFO(atproto::crypto::curve_name(curve));
    auto k = key(curve);
    std::string token = create_service_auth(k, claims());
    auto dot1 = token.find('.');
    auto dot2 = token.rfind('.');

    SECTION("tampered payload") {
      Lookup lookup{k.public_key(), k.public_key()};
      auto c = claims();
      c.exp = kNow + 100000;
      std::string other = create_service_auth(k, c);
      std::string tampered = token.substr(0, dot1) +
                             other.substr(other.find('.'), other.rfind('.') - other.find('.')) +
                             token.substr(dot2);
      CHECK(code_of(verify_service_auth(tampered, expect(), lookup.fn())) == "xrpc.jwt.signature");
      // The key may have rotated: one fresh lookup, no more.
      CHECK(lookup.fresh_calls == 1);
    }
    SECTION("high-S twin of a valid signature [crypto.sig.low-s]") {
      Lookup lookup{k.public_key(), k.public_key()};
      auto sig = atproto::data::base64url_decode(token.substr(dot2 + 1)).value();
      std::array<std::uint8_t, 64> compact{};
      std::copy(sig.begin(), sig.end(), compact.begin());
      auto twin = atproto::crypto::high_s_twin(curve, compact);
      std::string high = token.substr(0, dot2 + 1) + atproto::data::base64url_encode(twin);
      CHECK(code_of(verify_service_auth(high, expect(), lookup.fn())) == "xrpc.jwt.signature");
      CHECK(lookup.fresh_calls == 0);  // a malformed signature needs no second look
    }
    SECTION("a DER or short signature") {
      Lookup lookup{k.public_key(), k.public_key()};
      std::string short_sig = token.substr(0, dot2 + 1) + b64(std::string(63, 'x'));
      CHECK(code_of(verify_service_auth(short_sig, expect(), lookup.fn())) == "xrpc.jwt.signature");
    }
    SECTION("another key, then the rotated key") {
      auto stranger = key(curve);
      Lookup wrong{stranger.public_key(), stranger.public_key()};
      CHECK(code_of(verify_service_auth(token, expect(), wrong.fn())) == "xrpc.jwt.signature");
      CHECK(wrong.cached_calls == 1);
      CHECK(wrong.fresh_calls == 1);
      // The cache holds an old key; the fresh lookup finds the signing one.
      Lookup rotated{stranger.public_key(), k.public_key()};
      CHECK(code_of(verify_service_auth(token, expect(), rotated.fn())) == "<ok>");
      CHECK(rotated.fresh_calls == 1);
    }
  }
}

TEST_CASE("service auth passes the lookup's error through", "[xrpc][jwt]") {
  auto k = key(Curve::kK256);
  std::string token = create_service_auth(k, claims());
  int calls = 0;
  SigningKeyLookup failing = [&](std::string_view, bool) -> Result<PublicKey> {
    ++calls;
    return atproto::make_error("identity.did.not-found", "no such DID");
  };
  CHECK(code_of(verify_service_auth(token, expect(), failing)) == "identity.did.not-found");
  CHECK(calls == 1);
  // A fresh lookup that fails after a signature mismatch reports its error.
  auto stranger = key(Curve::kK256);
  SigningKeyLookup flaky = [&](std::string_view, bool fresh) -> Result<PublicKey> {
    if (fresh) return atproto::make_error("identity.did.unavailable", "down");
    return stranger.public_key();
  };
  CHECK(code_of(verify_service_auth(token, expect(), flaky)) == "identity.did.unavailable");
}

TEST_CASE("atproto-proxy header parsing [xrpc.proxy.header]", "[xrpc][jwt]") {
  auto ok = parse_proxy_header("did:web:api.bsky.app#bsky_appview");
  REQUIRE(ok.ok());
  CHECK(ok->did == "did:web:api.bsky.app");
  CHECK(ok->service_id == "bsky_appview");
  auto plc = parse_proxy_header("did:plc:ewvi7nxzyoun6zhxrhs64oiz#atproto_labeler");
  REQUIRE(plc.ok());
  CHECK(plc->service_id == "atproto_labeler");
  for (const char* bad :
       {"did:web:api.bsky.app", "did:web:api.bsky.app#", "#bsky_appview", "not a did#svc",
        "did:web:api.bsky.app#a b", "did:web:api.bsky.app#a#b", ""}) {
    INFO(bad);
    CHECK(code_of(parse_proxy_header(bad)) == "xrpc.proxy.header");
  }
}

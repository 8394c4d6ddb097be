// JSON Web Tokens as atproto uses them: inter-service auth tokens signed by
// an account's signing key (ES256K or ES256), and the HS256 session tokens a
// PDS issues to its own clients.
// https://atproto.com/specs/xrpc#inter-service-authentication-jwt
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <queue>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "atproto/common/result.hpp"
#include "atproto/crypto/keys.hpp"

namespace atproto::xrpc {

// A compact JWT split and decoded, signature not yet checked.
struct Jwt {
  nlohmann::json header;
  nlohmann::json payload;
  std::string signing_input;  // base64url(header) "." base64url(payload)
  std::vector<std::uint8_t> signature;
};

// Error codes: "xrpc.jwt.malformed" (not three base64url parts without
// padding, header or payload not a JSON object).
Result<Jwt> decode_jwt(std::string_view token);

// HS256 session tokens. `payload` is written as given; the header is
// {"typ": <typ>, "alg": "HS256"}.
std::string sign_jwt_hs256(const nlohmann::json& payload, std::span<const std::uint8_t> secret,
                           std::string_view typ = "JWT");
// Error codes: "xrpc.jwt.malformed", "xrpc.jwt.alg" (not HS256),
// "xrpc.jwt.signature", "xrpc.jwt.expired" (exp <= now; exp required).
Result<Jwt> verify_jwt_hs256(std::string_view token, std::span<const std::uint8_t> secret,
                             std::int64_t now_seconds);

// The claims of an inter-service token.
struct ServiceAuthClaims {
  std::string iss;                 // the account DID (optionally "#fragment" service)
  std::string aud;                 // the receiving service's DID (optionally #fragment)
  std::optional<std::string> lxm;  // the NSID the token is bound to
  std::int64_t exp = 0;            // seconds since the epoch
  std::int64_t iat = 0;
  std::string jti;  // a random nonce
};

// Signs the claims with `key`; "alg" is ES256K or ES256 by the key's curve.
// An empty jti is replaced by 16 random bytes in hex.
std::string create_service_auth(const crypto::PrivateKey& key, const ServiceAuthClaims& claims);

// [xrpc.jwt.jti-replay] The nonces (jti) of the inter-service tokens a
// service accepted, each kept until its token expires, so that a token is
// accepted once: https://atproto.com/specs/xrpc#inter-service-authentication-jwt
// Keyed by issuer and jti (one issuer cannot block another's nonce). Memory
// is bounded twice: an entry goes once its token has expired (it would be
// refused as expired anyway), and at most `capacity` live entries are kept;
// when they are all live, a new token is refused rather than an entry
// dropped early (dropping one would let its token be replayed).
// Thread-safe.
class JtiReplayCache {
 public:
  static constexpr std::size_t kDefaultCapacity = 100000;
  explicit JtiReplayCache(std::size_t capacity = kDefaultCapacity) : capacity_(capacity) {}

  // Records the token's (iss, jti) until its exp. Error code
  // "xrpc.jwt.jti-replay": no jti (nothing to remember it by), the same
  // iss and jti seen before and not yet expired, or the table full.
  Status remember(const ServiceAuthClaims& claims, std::int64_t now);
  // Live entries (after dropping the expired ones as of `now`).
  std::size_t size(std::int64_t now);

 private:
  void drop_expired(std::int64_t now);  // with mutex_ held
  std::size_t capacity_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::int64_t> expiry_;  // "iss jti" -> exp
  // (exp, key), soonest first: which entries to drop as time passes.
  std::priority_queue<std::pair<std::int64_t, std::string>,
                      std::vector<std::pair<std::int64_t, std::string>>, std::greater<>>
      by_expiry_;
};

struct ServiceAuthExpectations {
  std::string aud;                 // must equal the token's aud
  std::optional<std::string> lxm;  // when set, the token's lxm must equal it
  std::int64_t now = 0;            // seconds since the epoch
  // When set, a token that passes every other check is remembered here and
  // refused if it comes again [xrpc.jwt.jti-replay]; it then needs a jti.
  JtiReplayCache* replay = nullptr;
};

// Looks up the signing key of the DID in `iss` (without any fragment).
// `fresh` asks the resolver to bypass its cache: verify_service_auth calls
// it once more with fresh=true when the signature does not verify with the
// first key (the account may have rotated its key).
using SigningKeyLookup = std::function<Result<crypto::PublicKey>(std::string_view did, bool fresh)>;

// Error codes, in the order checked: "xrpc.jwt.malformed", "xrpc.jwt.alg"
// (not ES256K/ES256, or not the key's curve), "xrpc.jwt.typ" (a session
// token's typ: at+jwt, refresh+jwt, dpop+jwt), "xrpc.jwt.kid" (a kid other
// than "#atproto"), "xrpc.jwt.claims" (iss, aud or exp missing or mistyped,
// iss not a DID; iat, lxm, jti mistyped), "xrpc.jwt.expired",
// "xrpc.jwt.audience", "xrpc.jwt.lxm", the lookup's error,
// "xrpc.jwt.signature" (also for a high-S or non-compact signature),
// "xrpc.jwt.jti-replay" (with expect.replay: see JtiReplayCache::remember).
Result<ServiceAuthClaims> verify_service_auth(std::string_view token,
                                              const ServiceAuthExpectations& expect,
                                              const SigningKeyLookup& lookup);

// `atproto-proxy: <did>#<service id>`: the DID and the fragment.
// https://atproto.com/specs/xrpc#service-proxying
struct ProxyTarget {
  std::string did;
  std::string service_id;  // without the '#'
};
// Error code "xrpc.proxy.header".
Result<ProxyTarget> parse_proxy_header(std::string_view value);

}  // namespace atproto::xrpc

// JSON Web Tokens as atproto uses them: inter-service auth tokens signed by
// an account's signing key (ES256K or ES256), and the HS256 session tokens a
// PDS issues to its own clients.
// https://atproto.com/specs/xrpc#inter-service-authentication-jwt
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
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

struct ServiceAuthExpectations {
  std::string aud;                 // must equal the token's aud
  std::optional<std::string> lxm;  // when set, the token's lxm must equal it
  std::int64_t now = 0;            // seconds since the epoch
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
// "xrpc.jwt.signature" (also for a high-S or non-compact signature).
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

// JWTs: compact decoding, HS256 session tokens, and inter-service tokens
// signed with an account's atproto key.
// https://atproto.com/specs/xrpc#inter-service-authentication-jwt
#include "atproto/xrpc/jwt.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <array>
#include <set>

#include "atproto/common/hex.hpp"
#include "atproto/data/base64.hpp"
#include "atproto/syntax/did.hpp"

namespace atproto::xrpc {

namespace {

using nlohmann::json;

std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

Error malformed(std::string why) { return make_error("xrpc.jwt.malformed", std::move(why)); }

// Parses one JSON object, refusing duplicated keys at any depth: a header or
// payload whose meaning depends on which duplicate a parser keeps (alg, aud)
// is never accepted.
Result<json> parse_object(const std::vector<std::uint8_t>& text, std::string_view part) {
  std::vector<std::set<std::string>> keys;
  bool duplicate = false;
  json::parser_callback_t cb = [&](int, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) {
      keys.emplace_back();
    } else if (event == json::parse_event_t::object_end) {
      if (!keys.empty()) keys.pop_back();
    } else if (event == json::parse_event_t::key && !keys.empty()) {
      if (!keys.back().insert(parsed.get<std::string>()).second) duplicate = true;
    }
    return true;
  };
  json value = json::parse(text.begin(), text.end(), cb, false);
  if (value.is_discarded()) return malformed(std::string(part) + " is not JSON");
  if (duplicate) return malformed(std::string(part) + " repeats a key");
  if (!value.is_object()) return malformed(std::string(part) + " is not a JSON object");
  return value;
}

std::string encode_part(const json& value) {
  return data::base64url_encode(bytes_of(value.dump()));
}

std::array<std::uint8_t, 32> hmac_sha256(std::span<const std::uint8_t> secret,
                                         std::string_view message) {
  std::array<std::uint8_t, 32> out{};
  unsigned int length = 0;
  // An empty key is legal HMAC; OpenSSL wants a non-null pointer for it.
  static const std::uint8_t kEmpty = 0;
  HMAC(EVP_sha256(), secret.empty() ? &kEmpty : secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), out.data(), &length);
  return out;
}

std::optional<std::int64_t> integer_claim(const json& payload, const char* name) {
  auto it = payload.find(name);
  if (it == payload.end()) return std::nullopt;
  // nlohmann reads non-negative integers as unsigned: those above the int64
  // range are refused, not wrapped.
  if (it->is_number_unsigned()) {
    auto v = it->get<std::uint64_t>();
    if (v <= static_cast<std::uint64_t>(INT64_MAX)) return static_cast<std::int64_t>(v);
    return std::nullopt;
  }
  if (it->is_number_integer()) return it->get<std::int64_t>();
  return std::nullopt;
}

std::string random_nonce() {
  std::array<std::uint8_t, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    // The OS random source failing is not recoverable for a nonce.
    std::abort();
  }
  return hex_encode(bytes);
}

}  // namespace

Result<Jwt> decode_jwt(std::string_view token) {
  auto first = token.find('.');
  if (first == std::string_view::npos) return malformed("a JWT has three parts, found one");
  auto second = token.find('.', first + 1);
  if (second == std::string_view::npos) return malformed("a JWT has three parts, found two");
  if (token.find('.', second + 1) != std::string_view::npos)
    return malformed("a JWT has three parts, found more");
  auto header_text = data::base64url_decode(token.substr(0, first));
  auto payload_text = data::base64url_decode(token.substr(first + 1, second - first - 1));
  auto signature = data::base64url_decode(token.substr(second + 1));
  if (!header_text.ok() || !payload_text.ok() || !signature.ok())
    return malformed("a JWT part is not unpadded base64url");
  if (header_text->empty() || payload_text->empty()) return malformed("empty header or payload");
  auto header = parse_object(header_text.value(), "header");
  if (!header.ok()) return header.error();
  auto payload = parse_object(payload_text.value(), "payload");
  if (!payload.ok()) return payload.error();
  Jwt out;
  out.header = std::move(header).value();
  out.payload = std::move(payload).value();
  out.signing_input = std::string(token.substr(0, second));
  out.signature = std::move(signature).value();
  return out;
}

std::string sign_jwt_hs256(const nlohmann::json& payload, std::span<const std::uint8_t> secret,
                           std::string_view typ) {
  json header = {{"typ", typ}, {"alg", "HS256"}};
  std::string input = encode_part(header) + "." + encode_part(payload);
  auto mac = hmac_sha256(secret, input);
  return input + "." + data::base64url_encode(mac);
}

Result<Jwt> verify_jwt_hs256(std::string_view token, std::span<const std::uint8_t> secret,
                             std::int64_t now_seconds) {
  auto jwt = decode_jwt(token);
  if (!jwt.ok()) return jwt.error();
  // The algorithm is fixed by the verifier, never chosen by the token: a
  // token claiming "none" or an asymmetric algorithm is refused here.
  auto alg = jwt->header.find("alg");
  if (alg == jwt->header.end() || !alg->is_string() || *alg != "HS256")
    return make_error("xrpc.jwt.alg", "expected alg HS256");
  auto mac = hmac_sha256(secret, jwt->signing_input);
  if (jwt->signature.size() != mac.size() ||
      CRYPTO_memcmp(jwt->signature.data(), mac.data(), mac.size()) != 0)
    return make_error("xrpc.jwt.signature", "the HS256 signature does not match");
  auto exp = integer_claim(jwt->payload, "exp");
  if (!exp) return make_error("xrpc.jwt.expired", "the token has no integer exp claim");
  if (*exp <= now_seconds) return make_error("xrpc.jwt.expired", "the token has expired");
  return jwt;
}

std::string create_service_auth(const crypto::PrivateKey& key, const ServiceAuthClaims& claims) {
  // [xrpc.jwt.alg] ES256K for k256 keys, ES256 for p256 keys.
  json header = {{"typ", "JWT"}, {"alg", crypto::jwt_algorithm(key.curve())}};
  json payload = {{"iss", claims.iss},
                  {"aud", claims.aud},
                  {"exp", claims.exp},
                  {"iat", claims.iat},
                  {"jti", claims.jti.empty() ? random_nonce() : claims.jti}};
  if (claims.lxm) payload["lxm"] = *claims.lxm;
  std::string input = encode_part(header) + "." + encode_part(payload);
  auto signature = key.sign(bytes_of(input));
  return input + "." + data::base64url_encode(signature);
}

Result<ServiceAuthClaims> verify_service_auth(std::string_view token,
                                              const ServiceAuthExpectations& expect,
                                              const SigningKeyLookup& lookup) {
  auto jwt = decode_jwt(token);
  if (!jwt.ok()) return jwt.error();
  const json& header = jwt->header;
  const json& payload = jwt->payload;

  // [xrpc.jwt.alg] Only the two atproto curves; "none", HS256
  // and anything else are refused before any key is looked up.
  auto alg_it = header.find("alg");
  std::string alg = alg_it != header.end() && alg_it->is_string() ? alg_it->get<std::string>() : "";
  std::optional<crypto::Curve> curve;
  if (alg == "ES256K") curve = crypto::Curve::kK256;
  if (alg == "ES256") curve = crypto::Curve::kP256;
  if (!curve) return make_error("xrpc.jwt.alg", "alg must be ES256K or ES256, got '" + alg + "'");
  // [xrpc.jwt.typ] Session tokens (access, refresh, DPoP) are
  // never accepted as inter-service tokens.
  if (auto typ = header.find("typ"); typ != header.end()) {
    if (!typ->is_string() || *typ == "at+jwt" || *typ == "refresh+jwt" || *typ == "dpop+jwt")
      return make_error("xrpc.jwt.typ", "typ is not that of an inter-service token");
  }
  // [xrpc.jwt.kid] Only the atproto signing key is looked up,
  // so a token naming another key is refused.
  if (auto kid = header.find("kid"); kid != header.end()) {
    if (!kid->is_string() || *kid != "#atproto")
      return make_error("xrpc.jwt.kid", "only the #atproto key is accepted");
  }

  // [xrpc.jwt.claims] iss, aud and exp are required.
  ServiceAuthClaims claims;
  auto iss = payload.find("iss");
  auto aud = payload.find("aud");
  auto exp = integer_claim(payload, "exp");
  if (iss == payload.end() || !iss->is_string() || aud == payload.end() || !aud->is_string() ||
      !exp)
    return make_error("xrpc.jwt.claims", "iss and aud strings and an integer exp are required");
  claims.iss = iss->get<std::string>();
  claims.aud = aud->get<std::string>();
  claims.exp = *exp;
  if (payload.contains("iat")) {
    auto iat = integer_claim(payload, "iat");
    if (!iat) return make_error("xrpc.jwt.claims", "iat is not an integer");
    claims.iat = *iat;
  }
  if (auto lxm = payload.find("lxm"); lxm != payload.end()) {
    if (!lxm->is_string()) return make_error("xrpc.jwt.claims", "lxm is not a string");
    claims.lxm = lxm->get<std::string>();
  }
  if (auto jti = payload.find("jti"); jti != payload.end()) {
    if (!jti->is_string()) return make_error("xrpc.jwt.claims", "jti is not a string");
    claims.jti = jti->get<std::string>();
  }
  std::string did = claims.iss.substr(0, claims.iss.find('#'));
  if (!syntax::validate_did(did).ok())
    return make_error("xrpc.jwt.claims", "iss is not a DID: " + claims.iss);

  // [xrpc.jwt.expired]
  if (claims.exp <= expect.now) return make_error("xrpc.jwt.expired", "the token has expired");
  // [xrpc.jwt.audience] The audience must be this service, exactly.
  if (claims.aud != expect.aud)
    return make_error("xrpc.jwt.audience",
                      "token is for " + claims.aud + ", this service is " + expect.aud);
  // [xrpc.jwt.lxm] A token bound to one method does not
  // authorize another; a token bound to none is refused where one is asked.
  if (expect.lxm && claims.lxm != expect.lxm)
    return make_error("xrpc.jwt.lxm", "token is not bound to " + *expect.lxm);

  auto key = lookup(did, false);
  if (!key.ok()) return key.error();
  // [xrpc.jwt.signature] Strict form: a high-S or non-compact
  // signature is refused whatever the key (and needs no second lookup).
  if (!crypto::check_signature_form(*curve, jwt->signature).ok())
    return make_error("xrpc.jwt.signature", "the signature is not a compact low-S signature");
  auto check = [&](const crypto::PublicKey& k) -> Status {
    if (k.curve() != *curve)
      return make_error("xrpc.jwt.alg", alg + " does not match the signing key's curve");
    if (!k.verify(bytes_of(jwt->signing_input), jwt->signature).ok())
      return make_error("xrpc.jwt.signature",
                        "the signature does not verify with " + did + "'s key");
    return {};
  };
  auto verified = check(key.value());
  if (!verified.ok()) {
    // The account may have rotated its key since the resolver cached it:
    // look it up once more, bypassing the cache.
    auto fresh = lookup(did, true);
    if (!fresh.ok()) return fresh.error();
    if (!(fresh.value() == key.value())) verified = check(fresh.value());
  }
  if (!verified.ok()) return verified.error();
  // [xrpc.jwt.jti-replay] Last, so that only tokens this service would
  // accept take a place in the table.
  if (expect.replay != nullptr) {
    if (auto st = expect.replay->remember(claims, expect.now); !st.ok()) return st.error();
  }
  return claims;
}

void JtiReplayCache::drop_expired(std::int64_t now) {
  // The same rule as verify_service_auth: a token is expired once exp <= now.
  while (!by_expiry_.empty() && by_expiry_.top().first <= now) {
    auto it = expiry_.find(by_expiry_.top().second);
    // A key remembered again later has a newer exp: that entry stays.
    if (it != expiry_.end() && it->second <= now) expiry_.erase(it);
    by_expiry_.pop();
  }
}

Status JtiReplayCache::remember(const ServiceAuthClaims& claims, std::int64_t now) {
  if (claims.jti.empty()) {
    return make_error("xrpc.jwt.jti-replay",
                      "the token has no jti, so its reuse cannot be detected");
  }
  std::string key = claims.iss + " " + claims.jti;
  std::lock_guard lock(mutex_);
  drop_expired(now);
  if (expiry_.count(key) != 0) {
    return make_error("xrpc.jwt.jti-replay", "the token (jti " + claims.jti + ") was already used");
  }
  if (expiry_.size() >= capacity_) {
    return make_error("xrpc.jwt.jti-replay",
                      "too many unexpired tokens to remember; try again later");
  }
  expiry_.emplace(key, claims.exp);
  by_expiry_.emplace(claims.exp, std::move(key));
  return {};
}

std::size_t JtiReplayCache::size(std::int64_t now) {
  std::lock_guard lock(mutex_);
  drop_expired(now);
  return expiry_.size();
}

Result<ProxyTarget> parse_proxy_header(std::string_view value) {
  // [xrpc.proxy.header] A DID and a service id joined by '#'.
  auto hash = value.find('#');
  if (hash == std::string_view::npos)
    return make_error("xrpc.proxy.header", "atproto-proxy needs <did>#<service id>");
  std::string_view did = value.substr(0, hash);
  std::string_view service = value.substr(hash + 1);
  if (!syntax::validate_did(did).ok())
    return make_error("xrpc.proxy.header", "atproto-proxy names no valid DID: " + std::string(did));
  if (service.empty()) return make_error("xrpc.proxy.header", "atproto-proxy has no service id");
  for (char c : service) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '#')
      return make_error("xrpc.proxy.header", "bad character in the service id");
  }
  return ProxyTarget{std::string(did), std::string(service)};
}

}  // namespace atproto::xrpc

// Accounts, sessions and the server's secrets. See accounts.hpp.
#include "atproto/pds/accounts.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <mutex>
#include <unordered_map>

#include "atproto/common/hex.hpp"
#include "atproto/data/base64.hpp"
#include "atproto/pds/blobs.hpp"
#include "atproto/pds/repos.hpp"
#include "atproto/pds/sequencer.hpp"
#include "atproto/pds/statement_cache.hpp"
#include "atproto/syntax/did.hpp"
#include "atproto/syntax/handle.hpp"
#include "atproto/xrpc/jwt.hpp"

namespace atproto::pds {

namespace {

using nlohmann::json;

constexpr std::uint64_t kScryptN = 16384;
constexpr std::uint64_t kScryptR = 8;
constexpr std::uint64_t kScryptP = 1;
constexpr std::size_t kScryptKeyBytes = 64;
constexpr std::size_t kSaltBytes = 16;
constexpr std::int64_t kEmailTokenSeconds = 15 * 60;
// The official PDS's limits on the label in front of a service domain.
constexpr std::size_t kMinHandleLabel = 3;
constexpr std::size_t kMaxHandleLabel = 18;

std::vector<std::uint8_t> random_bytes(std::size_t n) {
  std::vector<std::uint8_t> out(n);
  if (RAND_bytes(out.data(), static_cast<int>(n)) != 1) {
    // The operating system's random source failing is not recoverable: a
    // predictable secret would be worse than stopping.
    std::cerr << "atproto-pds: RAND_bytes failed\n";
    std::abort();
  }
  return out;
}

// Lowercase base32 characters, as the official PDS's app passwords and
// one-time tokens use (easy to read and type).
std::string random_code(std::size_t length) {
  static constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz234567";
  auto bytes = random_bytes(length);
  std::string out;
  for (auto b : bytes) out += kAlphabet[b & 31u];
  return out;
}

// xxxx-xxxx-xxxx-xxxx
std::string grouped_code(int groups) {
  std::string out;
  for (int i = 0; i < groups; ++i) {
    if (i) out += '-';
    out += random_code(4);
  }
  return out;
}

Result<std::vector<std::uint8_t>> scrypt(std::string_view password,
                                         std::span<const std::uint8_t> salt) {
  std::vector<std::uint8_t> out(kScryptKeyBytes);
  if (EVP_PBE_scrypt(password.data(), password.size(), salt.data(), salt.size(), kScryptN, kScryptR,
                     kScryptP, 64u << 20, out.data(), out.size()) != 1) {
    return make_error("InternalServerError", "scrypt failed");
  }
  return out;
}

Error storage(const Error& e) { return make_error("InternalServerError", e.message); }

AccountStatus status_from_name(const std::string& name) {
  if (name == "deactivated") return AccountStatus::kDeactivated;
  if (name == "takendown") return AccountStatus::kTakendown;
  if (name == "deleted") return AccountStatus::kDeleted;
  return AccountStatus::kActive;
}

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS server_secret (
  name TEXT PRIMARY KEY,
  value BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS account (
  did TEXT PRIMARY KEY,
  handle TEXT NOT NULL UNIQUE,
  email TEXT,
  password_scrypt TEXT NOT NULL,
  signing_key BLOB NOT NULL,
  status TEXT NOT NULL DEFAULT 'active',
  created_at TEXT NOT NULL,
  email_confirmed_at TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS account_email ON account(email) WHERE email IS NOT NULL;
CREATE TABLE IF NOT EXISTS account_app_password (
  did TEXT NOT NULL,
  name TEXT NOT NULL,
  password_scrypt TEXT NOT NULL,
  privileged INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (did, name)
);
CREATE TABLE IF NOT EXISTS account_refresh_token (
  id TEXT PRIMARY KEY,
  did TEXT NOT NULL,
  app_password_name TEXT,
  expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS account_refresh_token_did ON account_refresh_token(did);
CREATE TABLE IF NOT EXISTS account_invite_code (
  code TEXT PRIMARY KEY,
  available_uses INTEGER NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0,
  for_account TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS account_invite_use (
  code TEXT NOT NULL,
  used_by TEXT NOT NULL,
  used_at TEXT NOT NULL,
  PRIMARY KEY (code, used_by)
);
CREATE TABLE IF NOT EXISTS account_email_token (
  purpose TEXT NOT NULL,
  did TEXT NOT NULL,
  token TEXT NOT NULL,
  requested_at INTEGER NOT NULL,
  PRIMARY KEY (purpose, did)
);
)sql";

std::int64_t system_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string random_token(std::size_t bytes) { return data::base64url_encode(random_bytes(bytes)); }

Result<std::string> hash_password(std::string_view password) {
  auto salt = random_bytes(kSaltBytes);
  auto key = scrypt(password, salt);
  if (!key) return key.error();
  return hex_encode(salt) + ":" + hex_encode(*key);
}

bool verify_password(std::string_view password, std::string_view stored) {
  auto colon = stored.find(':');
  if (colon == std::string_view::npos) return false;
  auto salt = hex_decode(stored.substr(0, colon));
  auto expected = hex_decode(stored.substr(colon + 1));
  if (!salt || !expected || expected->size() != kScryptKeyBytes) return false;
  auto key = scrypt(password, *salt);
  if (!key) return false;
  return CRYPTO_memcmp(key->data(), expected->data(), kScryptKeyBytes) == 0;
}

xrpc::HttpResponse error_response(const Error& error) {
  const std::string& code = error.code;
  // [pds.auth.status] Credential problems are 401 with a WWW-Authenticate
  // challenge; an account that may not act is refused with 400.
  if (code == "AuthenticationRequired" || code == "ExpiredToken" || code == "InvalidToken" ||
      code == "AccountDeactivated" || code == "AccountTakedown") {
    return auth_error_response(error);
  }
  if (code == "InternalServerError") return xrpc::xrpc_error(500, code, error.message);
  if (code == "UpstreamFailure") return xrpc::xrpc_error(502, code, error.message);
  if (code == "Forbidden") return xrpc::xrpc_error(403, code, error.message);
  if (code == "NotFound") return xrpc::xrpc_error(404, code, error.message);
  return xrpc::xrpc_error(400, code, error.message);
}

struct Accounts::VerifiedTokens {
  static constexpr std::size_t kMax = 4096;
  struct Entry {
    json payload;
    std::int64_t exp = 0;
  };
  std::mutex mutex;
  std::unordered_map<std::string, Entry> entries;
};

Accounts::Accounts(PdsContext& context)
    : context_(context),
      statements_(std::make_unique<StatementCache>(context.db)),
      verified_(std::make_unique<VerifiedTokens>()),
      clock_(system_seconds) {}

Accounts::~Accounts() = default;

std::string Accounts::service_did() const {
  return "did:web:" +
         (context_.config.hostname.empty() ? std::string("localhost") : context_.config.hostname);
}

identity::FetchPolicy Accounts::fetch_policy() const {
  identity::FetchPolicy policy;
  policy.allow_private_addresses = context_.config.allow_private_addresses;
  // The operator chose the PLC directory: its address is reachable even on
  // a private network, without opening every other fetch to one.
  if (auto url = identity::parse_url(context_.config.plc_url); url.ok()) {
    policy.allowed_addresses.push_back(url->host);
  }
  return policy;
}

identity::DidResolverOptions Accounts::did_resolver_options() const {
  identity::DidResolverOptions options;
  options.fetch = fetch_policy();
  options.plc_directory = context_.config.plc_url;
  options.allow_localhost_did_web = context_.config.allow_private_addresses;
  options.did_web_origin_for_tests = did_web_origin_;
  return options;
}

Status Accounts::init_schema() {
  std::lock_guard lock(context_.db_mutex);
  if (auto s = context_.db.exec(kSchema); !s) return storage(s.error());
  return load_secrets();
}

Status Accounts::load_secrets() {
  // The session secret and the rotation key are made once, on the first
  // start, and kept in the database so sessions and DIDs survive restarts.
  std::lock_guard lock(context_.db_mutex);
  sqlite::Transaction tx(context_.db);
  auto read = [&](const char* name) -> std::optional<std::vector<std::uint8_t>> {
    auto st = context_.db.prepare("SELECT value FROM server_secret WHERE name = ?");
    st.bind(1, name);
    if (st.ok() && st.step() == SQLITE_ROW) return st.blob(0);
    return std::nullopt;
  };
  auto write = [&](const char* name, std::span<const std::uint8_t> value) {
    auto st = context_.db.prepare("INSERT INTO server_secret (name, value) VALUES (?, ?)");
    st.bind(1, name).bind_blob(2, value);
    return st.run();
  };
  auto secret = read("jwt_secret");
  if (!secret) {
    secret = random_bytes(32);
    if (auto s = write("jwt_secret", *secret); !s) return storage(s.error());
  }
  jwt_secret_ = *secret;
  auto rotation = read("plc_rotation_key");
  if (!rotation) {
    auto key = crypto::PrivateKey::generate(crypto::Curve::kK256);
    if (!key) return key.error();
    auto bytes = key->export_bytes();
    rotation = std::vector<std::uint8_t>(bytes.bytes().begin(), bytes.bytes().end());
    if (auto s = write("plc_rotation_key", *rotation); !s) return storage(s.error());
  }
  auto key = crypto::PrivateKey::from_bytes(crypto::Curve::kK256, *rotation);
  std::fill(rotation->begin(), rotation->end(), std::uint8_t{0});
  if (!key) return key.error();
  rotation_key_.emplace(std::move(key).value());
  if (auto s = tx.commit(); !s) return storage(s.error());
  return {};
}

// ---------------------------------------------------------------------------
// Lookups

namespace {

constexpr const char* kAccountColumns = "did, handle, email, status, created_at";

AccountInfo read_account(const sqlite::Statement& st) {
  AccountInfo info;
  info.did = st.text(0);
  info.handle = st.text(1);
  info.email = st.optional_text(2).value_or("");
  info.status = status_from_name(st.text(3));
  info.created_at = st.text(4);
  return info;
}

}  // namespace

Result<std::optional<AccountInfo>> Accounts::find(std::string_view did_or_handle) const {
  std::lock_guard lock(context_.db_mutex);
  const bool is_did = did_or_handle.rfind("did:", 0) == 0;
  std::string key = is_did ? std::string(did_or_handle) : syntax::normalize_handle(did_or_handle);
  static const std::string by_did =
      std::string("SELECT ") + kAccountColumns + " FROM account WHERE did = ?";
  static const std::string by_handle =
      std::string("SELECT ") + kAccountColumns + " FROM account WHERE handle = ?";
  auto& st = statements_->get(is_did ? by_did : by_handle);
  if (!st.ok()) return storage(st.error("find account"));
  st.bind(1, key);
  std::optional<AccountInfo> out;
  if (st.step() == SQLITE_ROW) out = read_account(st);
  st.reset();
  return out;
}

Result<AccountInfo> Accounts::account(std::string_view did) const {
  auto found = find(did);
  if (!found) return found.error();
  if (!*found) return make_error("AccountNotFound", "no account " + std::string(did));
  return **found;
}

Result<crypto::PrivateKey> Accounts::signing_key(std::string_view did) const {
  std::lock_guard lock(context_.db_mutex);
  auto& st = statements_->get("SELECT signing_key FROM account WHERE did = ?");
  st.bind(1, did);
  if (!st.ok() || st.step() != SQLITE_ROW) {
    st.reset();
    return make_error("AccountNotFound", "no account " + std::string(did));
  }
  auto bytes = st.blob(0);
  st.reset();
  auto key = crypto::PrivateKey::from_bytes(crypto::Curve::kK256, bytes);
  std::fill(bytes.begin(), bytes.end(), std::uint8_t{0});
  return key;
}

// ---------------------------------------------------------------------------
// Tokens

std::string Accounts::sign_access(const std::string& did, std::string_view scope) const {
  const auto iat = now();
  json payload = {{"scope", scope},
                  {"sub", did},
                  {"aud", service_did()},
                  {"iat", iat},
                  {"exp", iat + context_.config.access_token_seconds}};
  return xrpc::sign_jwt_hs256(payload, jwt_secret_, kTypAccess);
}

Result<Session> Accounts::issue_session(const AccountInfo& account,
                                        const std::optional<std::string>& app_password,
                                        bool privileged) {
  std::string_view scope = !app_password ? kScopeAccess
                           : privileged  ? kScopeAppPassPrivileged
                                         : kScopeAppPass;
  Session session;
  session.account = account;
  session.access_jwt = sign_access(account.did, scope);
  const auto iat = now();
  const auto exp = iat + context_.config.refresh_token_seconds;
  // [pds.session.refresh-single-use] Each refresh token has an id kept in
  // the database until it is used once or revoked.
  std::string jti = random_token(32);
  json payload = {{"scope", kScopeRefresh},
                  {"sub", account.did},
                  {"aud", service_did()},
                  {"jti", jti},
                  {"iat", iat},
                  {"exp", exp}};
  session.refresh_jwt = xrpc::sign_jwt_hs256(payload, jwt_secret_, kTypRefresh);
  std::lock_guard lock(context_.db_mutex);
  auto st = context_.db.prepare(
      "INSERT INTO account_refresh_token (id, did, app_password_name, expires_at) "
      "VALUES (?, ?, ?, ?)");
  st.bind(1, jti).bind(2, account.did).bind(3, app_password).bind(4, exp);
  if (auto s = st.run(); !s) return storage(s.error());
  return session;
}

Result<json> Accounts::verify_token(const xrpc::HttpRequest& request, std::string_view typ,
                                    std::string_view scope_kind) const {
  auto header = request.header("authorization");
  // [pds.service.auth-required] 401 with WWW-Authenticate (error_response).
  if (!header) return make_error("AuthenticationRequired", "Authentication Required");
  std::string_view value = *header;
  constexpr std::string_view kBearer = "Bearer ";
  if (value.size() <= kBearer.size() ||
      !std::equal(kBearer.begin(), kBearer.end(), value.begin(),
                  [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
    return make_error("AuthenticationRequired", "expected a Bearer token");
  }
  const std::string_view token = value.substr(kBearer.size());
  std::string cache_key;
  cache_key.reserve(typ.size() + scope_kind.size() + token.size() + 2);
  cache_key.append(typ).append(1, ' ').append(scope_kind).append(1, ' ').append(token);
  {
    std::lock_guard lock(verified_->mutex);
    if (auto it = verified_->entries.find(cache_key); it != verified_->entries.end()) {
      // The same rule as verify_jwt_hs256: expired once exp is reached.
      if (it->second.exp > now()) return it->second.payload;
      verified_->entries.erase(it);
    }
  }
  // [pds.service.auth-invalid] A token that is not a JWT, whose signature
  // does not match (tampered, or signed by another service) or whose
  // audience is another is InvalidToken: 401, before any handler runs.
  auto verified = xrpc::verify_jwt_hs256(token, jwt_secret_, now());
  if (!verified) {
    if (verified.error().code == "xrpc.jwt.expired") {
      return make_error("ExpiredToken", "Token has expired");
    }
    return make_error("InvalidToken", "Token could not be verified");
  }
  const json& head = verified->header;
  const json& payload = verified->payload;
  // [pds.session.token-kinds] An access token is never accepted where a
  // refresh token is expected, nor the other way round.
  if (!head.contains("typ") || head["typ"] != typ) {
    return make_error("InvalidToken", "Invalid token type");
  }
  if (!payload.contains("scope") || !payload["scope"].is_string()) {
    return make_error("InvalidToken", "Bad token scope");
  }
  const std::string scope = payload["scope"];
  const bool access_scope =
      scope == kScopeAccess || scope == kScopeAppPass || scope == kScopeAppPassPrivileged;
  if ((scope_kind == kScopeRefresh) ? scope != kScopeRefresh : !access_scope) {
    return make_error("InvalidToken", "Bad token scope");
  }
  if (!payload.contains("aud") || payload["aud"] != service_did()) {
    return make_error("InvalidToken", "Bad token audience");
  }
  if (!payload.contains("sub") || !payload["sub"].is_string() ||
      !syntax::validate_did(payload["sub"].get<std::string>()).ok()) {
    return make_error("InvalidToken", "Bad token subject");
  }
  if (payload.contains("exp") && payload["exp"].is_number_integer()) {
    std::lock_guard lock(verified_->mutex);
    if (verified_->entries.size() >= VerifiedTokens::kMax) verified_->entries.clear();
    verified_->entries.insert_or_assign(
        std::move(cache_key), VerifiedTokens::Entry{payload, payload["exp"].get<std::int64_t>()});
  }
  return payload;
}

Result<Caller> Accounts::authenticate(const xrpc::HttpRequest& request) const {
  return authenticate(request, AuthOptions{});
}

Result<Caller> Accounts::authenticate(const xrpc::HttpRequest& request, AuthOptions options) const {
  auto payload = verify_token(request, kTypAccess, kScopeAccess);
  if (!payload) return payload.error();
  Caller caller;
  caller.did = (*payload)["sub"].get<std::string>();
  const std::string scope = (*payload)["scope"];
  caller.scope = scope == kScopeAccess    ? AuthScope::kAccess
                 : scope == kScopeAppPass ? AuthScope::kAppPassword
                                          : AuthScope::kAppPasswordPrivileged;
  if (caller.scope != AuthScope::kAccess) {
    if (!options.allow_app_password) {
      return make_error("InvalidToken", "app passwords may not use this method");
    }
    if (options.require_privileged && caller.scope != AuthScope::kAppPasswordPrivileged) {
      return make_error("InvalidToken", "this method needs a privileged app password");
    }
  }
  auto found = find(caller.did);
  if (!found) return found.error();
  if (!*found) return make_error("InvalidToken", "the token's account does not exist");
  // [account.status.inactive] Inactive accounts may manage their
  // session and status but not act on their repository.
  if ((*found)->status == AccountStatus::kTakendown) {
    return make_error("AccountTakedown", "Account has been taken down");
  }
  if ((*found)->status != AccountStatus::kActive && !options.allow_deactivated) {
    return make_error("AccountDeactivated", "Account is deactivated");
  }
  request.authenticated_did = caller.did;
  return caller;
}

std::optional<std::string> Accounts::access_token_subject(const xrpc::HttpRequest& request) const {
  // authenticate() accepted this request's token already.
  if (!request.authenticated_did.empty()) return request.authenticated_did;
  auto payload = verify_token(request, kTypAccess, kScopeAccess);
  if (!payload) return std::nullopt;
  return (*payload)["sub"].get<std::string>();
}

Status Accounts::authenticate_admin(const xrpc::HttpRequest& request) const {
  const std::string& password = context_.config.admin_password;
  if (password.empty()) return make_error("Forbidden", "admin routes are disabled");
  auto header = request.header("authorization");
  constexpr std::string_view kBasic = "Basic ";
  if (!header || header->rfind(kBasic, 0) != 0) {
    return make_error("AuthenticationRequired", "admin basic auth required");
  }
  auto decoded = data::base64_decode(std::string_view(*header).substr(kBasic.size()));
  std::string expected = "admin:" + password;
  if (!decoded || decoded->size() != expected.size() ||
      CRYPTO_memcmp(decoded->data(), expected.data(), expected.size()) != 0) {
    return make_error("AuthenticationRequired", "bad admin credentials");
  }
  return {};
}

// ---------------------------------------------------------------------------
// Handles

bool Accounts::is_local_domain(std::string_view handle) const {
  for (const auto& domain : context_.config.handle_domains) {
    if (handle.size() > domain.size() &&
        handle.compare(handle.size() - domain.size(), domain.size(), domain) == 0) {
      return true;
    }
  }
  return false;
}

Result<std::string> Accounts::check_local_handle(std::string_view input) const {
  auto parsed = syntax::parse_handle(input);
  if (!parsed) return make_error("InvalidHandle", "Input/handle must be a valid handle");
  // [handle.normalize.lowercase] stored and compared in lowercase.
  std::string handle = *parsed;
  // [pds.account.handle-domain] Under one of this server's domains.
  if (!is_local_domain(handle)) {
    return make_error("UnsupportedDomain", "Not a supported handle domain");
  }
  // The service's own domains decide the TLD, .test included.
  if (auto s = syntax::check_handle_usable(handle, {.allow_test_tld = true}); !s) {
    return make_error("InvalidHandle", s.error().message);
  }
  for (const auto& domain : context_.config.handle_domains) {
    if (handle.size() <= domain.size() ||
        handle.compare(handle.size() - domain.size(), domain.size(), domain) != 0) {
      continue;
    }
    std::string label = handle.substr(0, handle.size() - domain.size());
    if (label.find('.') != std::string::npos) {
      return make_error("InvalidHandle", "Invalid characters in handle");
    }
    if (label.size() < kMinHandleLabel) return make_error("InvalidHandle", "Handle too short");
    if (label.size() > kMaxHandleLabel) return make_error("InvalidHandle", "Handle too long");
  }
  auto existing = find(handle);
  if (!existing) return existing.error();
  if (*existing) return make_error("HandleNotAvailable", "Handle already taken: " + handle);
  return handle;
}

// ---------------------------------------------------------------------------
// PLC

Result<identity::PlcOperation> Accounts::last_plc_operation(const std::string& did) const {
  auto got = identity::http_get(context_.config.plc_url + "/" + did + "/log/last", fetch_policy());
  if (!got) return make_error("UpstreamFailure", "PLC directory: " + got.error().message);
  if (got->status != 200) {
    return make_error("UpstreamFailure",
                      "PLC directory answered " + std::to_string(got->status) + " for " + did);
  }
  auto body = json::parse(got->body, nullptr, false);
  if (body.is_discarded()) return make_error("UpstreamFailure", "PLC directory: not JSON");
  auto op = identity::parse_plc_operation(body);
  if (!op) return make_error("UpstreamFailure", "PLC directory: " + op.error().message);
  return op;
}

Status Accounts::submit_plc_operation(const std::string& did,
                                      const identity::PlcOperation& op) const {
  auto got = identity::http_request("POST", context_.config.plc_url + "/" + did, to_json(op).dump(),
                                    {{"content-type", "application/json"}}, fetch_policy());
  if (!got) return make_error("UpstreamFailure", "PLC directory: " + got.error().message);
  if (got->status < 200 || got->status >= 300) {
    return make_error("UpstreamFailure", "PLC directory refused the operation (" +
                                             std::to_string(got->status) + "): " + got->body);
  }
  return {};
}

// ---------------------------------------------------------------------------
// Accounts

// [pds.service.create-account] An active account and its first session.
Result<Session> Accounts::create_account(const NewAccount& input) {
  auto handle = check_local_handle(input.handle);
  if (!handle) return handle.error();
  if (input.password.empty()) return make_error("InvalidPassword", "a password is required");
  std::string email = input.email;
  std::transform(email.begin(), email.end(), email.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (!email.empty()) {
    std::lock_guard lock(context_.db_mutex);
    auto st = context_.db.prepare("SELECT 1 FROM account WHERE email = ?");
    st.bind(1, email);
    if (st.step() == SQLITE_ROW) {
      return make_error("InvalidRequest", "Email already taken: " + email);
    }
  }
  if (context_.config.invite_required) {
    if (!input.invite_code) return make_error("InvalidInviteCode", "No invite code provided");
    std::lock_guard lock(context_.db_mutex);
    auto st = context_.db.prepare(
        "SELECT available_uses - (SELECT COUNT(*) FROM account_invite_use u WHERE u.code = c.code),"
        " disabled FROM account_invite_code c WHERE code = ?");
    st.bind(1, *input.invite_code);
    if (st.step() != SQLITE_ROW || st.integer(0) <= 0 || st.integer(1) != 0) {
      return make_error("InvalidInviteCode", "Provided invite code not available");
    }
  }
  auto password = hash_password(input.password);
  if (!password) return password.error();
  auto key = crypto::PrivateKey::generate(crypto::Curve::kK256);
  if (!key) return key.error();

  std::string did;
  AccountStatus status = AccountStatus::kActive;
  if (input.did) {
    // A did:web whose control the route checked: the document still points
    // elsewhere, so the account waits deactivated until activateAccount.
    did = *input.did;
    status = AccountStatus::kDeactivated;
  } else {
    // [pds.account.plc-genesis] A new did:plc: the server's rotation key
    // (after the client's recovery key, when given), the account's new
    // signing key as #atproto, the handle and this PDS as #atproto_pds.
    // [pds.service.identity] That key signs the account's commits.
    identity::PlcOperation op;
    if (input.recovery_key) op.rotation_keys.push_back(*input.recovery_key);
    op.rotation_keys.push_back(rotation_key().public_key().did_key());
    op.verification_methods["atproto"] = key->public_key().did_key();
    op.also_known_as.push_back("at://" + *handle);
    op.services["atproto_pds"] = {"AtprotoPersonalDataServer", context_.config.public_url};
    if (auto s = identity::sign_plc_operation(op, rotation_key()); !s) return s.error();
    // A recovery key that is not a did:key, or an operation over the size
    // limit, is the client's mistake.
    if (auto s = identity::validate_plc_operation(op); !s) {
      return make_error("InvalidRequest", "PLC operation: " + s.error().message);
    }
    auto derived = identity::did_for_genesis(op);
    if (!derived) return derived.error();
    did = *derived;
    if (auto s = submit_plc_operation(did, op); !s) return s.error();
  }

  AccountInfo info;
  info.did = did;
  info.handle = *handle;
  info.email = email;
  info.status = status;
  info.created_at = now_datetime();
  {
    std::lock_guard lock(context_.db_mutex);
    sqlite::Transaction tx(context_.db);
    if (!tx.began()) return make_error("InternalServerError", "could not begin a transaction");
    {
      auto st = context_.db.prepare(
          "INSERT INTO account (did, handle, email, password_scrypt, signing_key, status, "
          "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)");
      auto bytes = key->export_bytes();
      st.bind(1, did).bind(2, *handle);
      if (email.empty()) {
        st.bind_null(3);
      } else {
        st.bind(3, email);
      }
      st.bind(4, *password).bind_blob(5, bytes.bytes());
      st.bind(6, account_status_name(status)).bind(7, info.created_at);
      if (auto s = st.run(); !s) {
        // The UNIQUE constraints catch a concurrent registration.
        return make_error("HandleNotAvailable", "Handle or DID already registered");
      }
    }
    if (input.invite_code && context_.config.invite_required) {
      auto st = context_.db.prepare(
          "INSERT INTO account_invite_use (code, used_by, used_at) VALUES (?, ?, ?)");
      st.bind(1, *input.invite_code).bind(2, did).bind(3, info.created_at);
      if (auto s = st.run(); !s) return storage(s.error());
    }
    // [pds.account.create-events] [sync.pds.identity-events]
    // [sync.pds.account-events] #identity and #account come first,
    // then the repository's first #commit, in one transaction.
    sync::IdentityEvent identity_event;
    identity_event.did = did;
    identity_event.handle = *handle;
    if (auto s = context_.sequencer->append_in_tx(identity_event); !s) return s.error();
    sync::AccountEvent account_event;
    account_event.did = did;
    account_event.active = status == AccountStatus::kActive;
    if (!account_event.active) account_event.status = account_status_name(status);
    if (auto s = context_.sequencer->append_in_tx(account_event); !s) return s.error();
    if (auto s = context_.repos->create_repo_in_tx(did, *key); !s) return s.error();
    if (auto s = tx.commit(); !s) return storage(s.error());
  }
  context_.sequencer->notify();
  return issue_session(info, std::nullopt, false);
}

// [pds.service.session] By handle, DID or email; a wrong password is
// AuthenticationRequired (401).
Result<Session> Accounts::create_session(std::string_view identifier, std::string_view password) {
  std::string key(identifier);
  std::string column = "handle";
  if (key.rfind("did:", 0) == 0) {
    column = "did";
  } else if (key.find('@') != std::string::npos) {
    column = "email";
    std::transform(key.begin(), key.end(), key.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  } else {
    key = syntax::normalize_handle(key);
  }
  std::optional<AccountInfo> info;
  std::string stored;
  {
    std::lock_guard lock(context_.db_mutex);
    auto st = context_.db.prepare(std::string("SELECT ") + kAccountColumns +
                                  ", password_scrypt FROM account WHERE " + column + " = ?");
    st.bind(1, key);
    if (st.step() == SQLITE_ROW) {
      info = read_account(st);
      stored = st.text(5);
    }
  }
  if (!info) return make_error("AuthenticationRequired", "Invalid identifier or password");
  if (verify_password(password, stored)) {
    if (info->status == AccountStatus::kTakendown) {
      return make_error("AccountTakedown", "Account has been taken down");
    }
    return issue_session(*info, std::nullopt, false);
  }
  // An app password opens a narrower session.
  std::vector<std::tuple<std::string, std::string, bool>> app_passwords;
  {
    std::lock_guard lock(context_.db_mutex);
    auto st = context_.db.prepare(
        "SELECT name, password_scrypt, privileged FROM account_app_password WHERE did = ?");
    st.bind(1, info->did);
    while (st.step() == SQLITE_ROW) {
      app_passwords.emplace_back(st.text(0), st.text(1), st.integer(2) != 0);
    }
  }
  for (const auto& [name, hash, privileged] : app_passwords) {
    if (verify_password(password, hash)) {
      if (info->status == AccountStatus::kTakendown) {
        return make_error("AccountTakedown", "Account has been taken down");
      }
      return issue_session(*info, name, privileged);
    }
  }
  return make_error("AuthenticationRequired", "Invalid identifier or password");
}

// [pds.service.refresh-rotation] A new pair; the old refresh token is spent.
Result<Session> Accounts::refresh_session(const xrpc::HttpRequest& request) {
  auto payload = verify_token(request, kTypRefresh, kScopeRefresh);
  if (!payload) return payload.error();
  if (!payload->contains("jti") || !(*payload)["jti"].is_string()) {
    return make_error("InvalidToken", "refresh token without an id");
  }
  const std::string jti = (*payload)["jti"];
  const std::string did = (*payload)["sub"];
  std::optional<std::string> app_password;
  bool privileged = false;
  {
    std::lock_guard lock(context_.db_mutex);
    sqlite::Transaction tx(context_.db);
    auto st = context_.db.prepare(
        "SELECT app_password_name FROM account_refresh_token WHERE id = ? AND did = ?");
    st.bind(1, jti).bind(2, did);
    if (st.step() != SQLITE_ROW) {
      // [pds.session.refresh-single-use] [pds.service.refresh-revoked] used,
      // revoked (deleteSession) or never issued.
      return make_error("InvalidToken", "Token has been revoked");
    }
    app_password = st.optional_text(0);
    auto del = context_.db.prepare("DELETE FROM account_refresh_token WHERE id = ?");
    del.bind(1, jti);
    if (auto s = del.run(); !s) return storage(s.error());
    if (app_password) {
      auto ap = context_.db.prepare(
          "SELECT privileged FROM account_app_password WHERE did = ? AND name = ?");
      ap.bind(1, did).bind(2, *app_password);
      if (ap.step() != SQLITE_ROW) return make_error("InvalidToken", "Token has been revoked");
      privileged = ap.integer(0) != 0;
    }
    if (auto s = tx.commit(); !s) return storage(s.error());
  }
  auto info = account(did);
  if (!info) return make_error("InvalidToken", "the token's account does not exist");
  if (info->status == AccountStatus::kTakendown) {
    return make_error("AccountTakedown", "Account has been taken down");
  }
  return issue_session(*info, app_password, privileged);
}

Status Accounts::delete_session(const xrpc::HttpRequest& request) {
  auto payload = verify_token(request, kTypRefresh, kScopeRefresh);
  if (!payload) return payload.error();
  if (!payload->contains("jti") || !(*payload)["jti"].is_string()) {
    return make_error("InvalidToken", "refresh token without an id");
  }
  std::lock_guard lock(context_.db_mutex);
  auto st = context_.db.prepare("DELETE FROM account_refresh_token WHERE id = ?");
  st.bind(1, (*payload)["jti"].get<std::string>());
  if (auto s = st.run(); !s) return storage(s.error());
  return {};
}

// [pds.service.app-password] Stored as an scrypt hash: listed by name only.
Result<AppPassword> Accounts::create_app_password(const std::string& did, const std::string& name,
                                                  bool privileged) {
  if (name.empty()) return make_error("InvalidRequest", "an app password needs a name");
  AppPassword out;
  out.name = name;
  out.password = grouped_code(4);
  out.created_at = now_datetime();
  out.privileged = privileged;
  auto hash = hash_password(out.password);
  if (!hash) return hash.error();
  std::lock_guard lock(context_.db_mutex);
  auto st = context_.db.prepare(
      "INSERT INTO account_app_password (did, name, password_scrypt, privileged, created_at) "
      "VALUES (?, ?, ?, ?, ?)");
  st.bind(1, did).bind(2, name).bind(3, *hash).bind(4, privileged ? 1 : 0).bind(5, out.created_at);
  if (auto s = st.run(); !s) {
    return make_error("InvalidRequest", "an app password with this name exists: " + name);
  }
  return out;
}

Result<std::vector<AppPassword>> Accounts::list_app_passwords(const std::string& did) const {
  std::lock_guard lock(context_.db_mutex);
  auto st = context_.db.prepare(
      "SELECT name, privileged, created_at FROM account_app_password WHERE did = ? "
      "ORDER BY created_at DESC, name");
  if (!st.ok()) return storage(st.error("list app passwords"));
  st.bind(1, did);
  std::vector<AppPassword> out;
  while (st.step() == SQLITE_ROW) {
    AppPassword p;
    p.name = st.text(0);
    p.privileged = st.integer(1) != 0;
    p.created_at = st.text(2);
    out.push_back(std::move(p));
  }
  return out;
}

Status Accounts::revoke_app_password(const std::string& did, const std::string& name) {
  std::lock_guard lock(context_.db_mutex);
  sqlite::Transaction tx(context_.db);
  // Revoking ends the sessions opened with it: their refresh tokens go too.
  for (const char* sql : {"DELETE FROM account_app_password WHERE did = ? AND name = ?",
                          "DELETE FROM account_refresh_token WHERE did = ? AND "
                          "app_password_name = ?"}) {
    auto st = context_.db.prepare(sql);
    st.bind(1, did).bind(2, name);
    if (auto s = st.run(); !s) return storage(s.error());
  }
  if (auto s = tx.commit(); !s) return storage(s.error());
  return {};
}

// [pds.service.deactivate] The status getRepoStatus and the sync routes read.
Status Accounts::set_active(const std::string& did, bool active) {
  auto info = account(did);
  if (!info) return info.error();
  if (info->status == AccountStatus::kTakendown) {
    return make_error("AccountTakedown", "Account has been taken down");
  }
  {
    std::lock_guard lock(context_.db_mutex);
    sqlite::Transaction tx(context_.db);
    auto st = context_.db.prepare("UPDATE account SET status = ? WHERE did = ?");
    st.bind(1, active ? "active" : "deactivated").bind(2, did);
    if (auto s = st.run(); !s) return storage(s.error());
    // [account.status.account-event] [sync.pds.account-events]
    // [sync.pds.identity-events] Every change of hosting status is an
    // #account event; activation also re-announces the identity, so
    // consumers refresh the handle and DID document they may have dropped.
    if (active) {
      sync::IdentityEvent identity_event;
      identity_event.did = did;
      identity_event.handle = info->handle;
      if (auto s = context_.sequencer->append_in_tx(identity_event); !s) return s.error();
    }
    sync::AccountEvent event;
    event.did = did;
    event.active = active;
    if (!active) event.status = "deactivated";
    if (auto s = context_.sequencer->append_in_tx(event); !s) return s.error();
    if (auto s = tx.commit(); !s) return storage(s.error());
  }
  context_.sequencer->notify();
  return {};
}

Status Accounts::set_takedown(const std::string& did, bool applied) {
  auto info = account(did);
  if (!info) return info.error();
  // Lifting a takedown that is not there changes nothing (a deactivated
  // account stays deactivated).
  if (!applied && info->status != AccountStatus::kTakendown) return {};
  {
    std::lock_guard lock(context_.db_mutex);
    sqlite::Transaction tx(context_.db);
    auto st = context_.db.prepare("UPDATE account SET status = ? WHERE did = ?");
    st.bind(1, applied ? "takendown" : "active").bind(2, did);
    if (auto s = st.run(); !s) return storage(s.error());
    if (applied) {
      auto del = context_.db.prepare("DELETE FROM account_refresh_token WHERE did = ?");
      del.bind(1, did);
      if (auto s = del.run(); !s) return storage(s.error());
    }
    // [account.status.account-event] [account.status.inactive] A taken-down
    // account is inactive everywhere downstream until the takedown is lifted.
    sync::AccountEvent event;
    event.did = did;
    event.active = !applied;
    if (applied) event.status = "takendown";
    if (auto s = context_.sequencer->append_in_tx(event); !s) return s.error();
    if (auto s = tx.commit(); !s) return storage(s.error());
  }
  context_.sequencer->notify();
  return {};
}

Result<std::string> Accounts::issue_token(const std::string& did, std::string_view purpose) {
  std::string token = grouped_code(2);
  std::lock_guard lock(context_.db_mutex);
  auto st = context_.db.prepare(
      "INSERT OR REPLACE INTO account_email_token (purpose, did, token, requested_at) "
      "VALUES (?, ?, ?, ?)");
  st.bind(1, purpose).bind(2, did).bind(3, token).bind(4, now());
  if (auto s = st.run(); !s) return storage(s.error());
  // No mail is sent by this server: the operator reads the token here.
  std::cerr << "atproto-pds: " << purpose << " token for " << did << ": " << token << std::endl;
  return token;
}

Status Accounts::consume_token(const std::string& did, std::string_view purpose,
                               std::string_view token) {
  std::lock_guard lock(context_.db_mutex);
  auto st = context_.db.prepare(
      "SELECT token, requested_at FROM account_email_token WHERE purpose = ? AND did = ?");
  st.bind(1, purpose).bind(2, did);
  if (st.step() != SQLITE_ROW) return make_error("InvalidToken", "Token is invalid");
  const std::string stored = st.text(0);
  const std::int64_t requested = st.integer(1);
  if (stored.size() != token.size() ||
      CRYPTO_memcmp(stored.data(), token.data(), token.size()) != 0) {
    return make_error("InvalidToken", "Token is invalid");
  }
  if (now() > requested + kEmailTokenSeconds) {
    return make_error("ExpiredToken", "Token is expired");
  }
  auto del = context_.db.prepare("DELETE FROM account_email_token WHERE purpose = ? AND did = ?");
  del.bind(1, purpose).bind(2, did);
  if (auto s = del.run(); !s) return storage(s.error());
  return {};
}

Status Accounts::delete_account(const std::string& did, std::string_view password,
                                std::string_view token) {
  std::string stored;
  {
    std::lock_guard lock(context_.db_mutex);
    auto st = context_.db.prepare("SELECT password_scrypt FROM account WHERE did = ?");
    st.bind(1, did);
    if (st.step() != SQLITE_ROW) return make_error("InvalidRequest", "account not found");
    stored = st.text(0);
  }
  if (!verify_password(password, stored)) {
    return make_error("AuthenticationRequired", "Invalid did or password");
  }
  if (auto s = consume_token(did, "delete_account", token); !s) return s;
  {
    std::lock_guard lock(context_.db_mutex);
    sqlite::Transaction tx(context_.db);
    for (const char* sql :
         {"DELETE FROM account_refresh_token WHERE did = ?",
          "DELETE FROM account_app_password WHERE did = ?",
          "DELETE FROM account_email_token WHERE did = ?", "DELETE FROM account WHERE did = ?"}) {
      auto st = context_.db.prepare(sql);
      st.bind(1, did);
      if (auto s = st.run(); !s) return storage(s.error());
    }
    if (auto s = context_.repos->delete_repo_in_tx(did); !s) return s;
    if (auto s = context_.blobs->delete_account_in_tx(did); !s) return s;
    // [account.status.deleted-event] Downstream services remove the content.
    sync::AccountEvent event;
    event.did = did;
    event.active = false;
    event.status = "deleted";
    if (auto s = context_.sequencer->append_in_tx(event); !s) return s.error();
    if (auto s = tx.commit(); !s) return storage(s.error());
  }
  context_.sequencer->notify();
  return {};
}

Result<std::vector<std::string>> Accounts::create_invite_codes(int code_count, int use_count,
                                                               const std::string& for_account) {
  if (code_count < 1 || code_count > 1000 || use_count < 1) {
    return make_error("InvalidRequest", "codeCount must be 1-1000 and useCount at least 1");
  }
  std::string prefix = context_.config.hostname.empty() ? "localhost" : context_.config.hostname;
  std::replace(prefix.begin(), prefix.end(), '.', '-');
  std::vector<std::string> codes;
  std::lock_guard lock(context_.db_mutex);
  sqlite::Transaction tx(context_.db);
  for (int i = 0; i < code_count; ++i) {
    std::string code = prefix + "-" + random_code(5) + "-" + random_code(5);
    auto st = context_.db.prepare(
        "INSERT INTO account_invite_code (code, available_uses, for_account, created_at) "
        "VALUES (?, ?, ?, ?)");
    st.bind(1, code).bind(2, use_count).bind(3, for_account).bind(4, now_datetime());
    if (auto s = st.run(); !s) return storage(s.error());
    codes.push_back(std::move(code));
  }
  if (auto s = tx.commit(); !s) return storage(s.error());
  return codes;
}

Status Accounts::sequence_identity(const std::string& did) {
  auto info = account(did);
  if (!info) return info.error();
  {
    std::lock_guard lock(context_.db_mutex);
    sqlite::Transaction tx(context_.db);
    sync::IdentityEvent event;
    event.did = did;
    event.handle = info->handle;
    if (auto s = context_.sequencer->append_in_tx(event); !s) return s.error();
    if (auto s = tx.commit(); !s) return storage(s.error());
  }
  context_.sequencer->notify();
  return {};
}

// [pds.service.update-handle] The DID document first, then the account row
// that resolveHandle and /.well-known/atproto-did answer from.
Status Accounts::update_handle(const std::string& did, const std::string& handle) {
  if (did.rfind("did:plc:", 0) == 0) {
    // [account.migration.identity-event] The handle lives in the DID document:
    // a new operation on top of the last one, signed by the rotation key.
    auto last = last_plc_operation(did);
    if (!last) return last.error();
    auto prev = identity::plc_operation_cid(*last);
    if (!prev) return prev.error();
    identity::PlcOperation op = identity::normalize_plc_operation(*last);
    op.type = identity::PlcOperationType::kOperation;
    op.prev = *prev;
    op.sig.clear();
    std::string aka = "at://" + handle;
    auto it = std::find_if(op.also_known_as.begin(), op.also_known_as.end(),
                           [](const std::string& s) { return s.rfind("at://", 0) == 0; });
    if (it != op.also_known_as.end()) {
      *it = aka;
    } else {
      op.also_known_as.insert(op.also_known_as.begin(), aka);
    }
    if (auto s = identity::sign_plc_operation(op, rotation_key()); !s) return s;
    if (auto s = submit_plc_operation(did, op); !s) return s;
  }
  {
    std::lock_guard lock(context_.db_mutex);
    sqlite::Transaction tx(context_.db);
    auto st = context_.db.prepare("UPDATE account SET handle = ? WHERE did = ?");
    st.bind(1, handle).bind(2, did);
    if (auto s = st.run(); !s) return make_error("HandleNotAvailable", "Handle already taken");
    sync::IdentityEvent event;
    event.did = did;
    event.handle = handle;
    if (auto s = context_.sequencer->append_in_tx(event); !s) return s.error();
    if (auto s = tx.commit(); !s) return storage(s.error());
  }
  context_.sequencer->notify();
  return {};
}

// ---------------------------------------------------------------------------
// Email: addresses are stored and confirmed with logged tokens; nothing is
// ever mailed.

namespace {

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

}  // namespace

Result<bool> Accounts::email_confirmed(const std::string& did) const {
  std::lock_guard lock(context_.db_mutex);
  auto st = context_.db.prepare("SELECT email_confirmed_at FROM account WHERE did = ?");
  st.bind(1, did);
  if (st.step() != SQLITE_ROW) return make_error("AccountNotFound", "no account " + did);
  return !st.is_null(0);
}

Status Accounts::confirm_email(const std::string& did, std::string_view email,
                               std::string_view token) {
  auto info = account(did);
  if (!info) return info.error();
  if (info->email.empty() || info->email != lowercase(std::string(email))) {
    return make_error("InvalidEmail", "invalid email");
  }
  if (auto s = consume_token(did, "confirm_email", token); !s) return s;
  std::lock_guard lock(context_.db_mutex);
  auto st = context_.db.prepare("UPDATE account SET email_confirmed_at = ? WHERE did = ?");
  st.bind(1, now_datetime()).bind(2, did);
  if (auto s = st.run(); !s) return storage(s.error());
  return {};
}

Status Accounts::update_email(const std::string& did, std::string_view email,
                              const std::optional<std::string>& token) {
  auto confirmed = email_confirmed(did);
  if (!confirmed) return confirmed.error();
  // A confirmed address only changes with a token sent to it.
  if (*confirmed) {
    if (!token) return make_error("TokenRequired", "confirmation token required");
    if (auto s = consume_token(did, "update_email", *token); !s) return s;
  }
  std::string address = lowercase(std::string(email));
  if (address.find('@') == std::string::npos) {
    return make_error("InvalidRequest", "This email address is not supported");
  }
  std::lock_guard lock(context_.db_mutex);
  auto st =
      context_.db.prepare("UPDATE account SET email = ?, email_confirmed_at = NULL WHERE did = ?");
  st.bind(1, address).bind(2, did);
  if (auto s = st.run(); !s)
    return make_error("InvalidRequest", "This email address is already in use");
  return {};
}

Result<std::optional<std::string>> Accounts::did_for_email(std::string_view email) const {
  std::lock_guard lock(context_.db_mutex);
  auto st = context_.db.prepare("SELECT did FROM account WHERE email = ?");
  st.bind(1, lowercase(std::string(email)));
  if (st.step() != SQLITE_ROW) return std::optional<std::string>();
  return std::optional<std::string>(st.text(0));
}

Status Accounts::reset_password(std::string_view token, std::string_view password) {
  std::string did;
  {
    std::lock_guard lock(context_.db_mutex);
    auto st = context_.db.prepare(
        "SELECT did FROM account_email_token WHERE purpose = 'reset_password' AND token = ?");
    st.bind(1, token);
    if (st.step() != SQLITE_ROW) return make_error("InvalidToken", "Token is invalid");
    did = st.text(0);
  }
  if (auto s = consume_token(did, "reset_password", token); !s) return s;
  if (password.empty()) return make_error("InvalidRequest", "a password is required");
  auto hash = hash_password(password);
  if (!hash) return hash.error();
  std::lock_guard lock(context_.db_mutex);
  sqlite::Transaction tx(context_.db);
  auto st = context_.db.prepare("UPDATE account SET password_scrypt = ? WHERE did = ?");
  st.bind(1, *hash).bind(2, did);
  if (auto s = st.run(); !s) return storage(s.error());
  // A new password ends every session opened with the old one.
  auto del = context_.db.prepare("DELETE FROM account_refresh_token WHERE did = ?");
  del.bind(1, did);
  if (auto s = del.run(); !s) return storage(s.error());
  if (auto s = tx.commit(); !s) return storage(s.error());
  return {};
}

}  // namespace atproto::pds

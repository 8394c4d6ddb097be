// The accounts part of the PDS: accounts and their passwords, sessions
// (HS256 access and refresh tokens), app passwords, invite codes, the
// account lifecycle (deactivate, activate, delete) and the server's own
// secrets (the session-token secret and the did:plc rotation key), all in
// the shared database.
// https://atproto.com/specs/account and https://atproto.com/specs/xrpc#authentication
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "atproto/common/result.hpp"
#include "atproto/crypto/keys.hpp"
#include "atproto/identity/did_resolver.hpp"
#include "atproto/identity/fetch.hpp"
#include "atproto/identity/plc.hpp"
#include "atproto/pds/context.hpp"
#include "atproto/xrpc/router.hpp"

namespace atproto::pds {

class StatementCache;

// Passwords are stored as "<salt hex>:<scrypt hex>" (N=16384, r=8, p=1,
// 64-byte key, 16-byte random salt), the parameters the official PDS uses.
Result<std::string> hash_password(std::string_view password);
// Constant-time comparison of the derived key.
bool verify_password(std::string_view password, std::string_view stored);

// `bytes` random bytes from the operating system, base64url.
std::string random_token(std::size_t bytes);

// The request's JSON body, checked against the method's input schema in
// the loaded Lexicons. Error InvalidRequest.
Result<nlohmann::json> read_input(const PdsContext& context, const xrpc::HttpRequest& request,
                                  std::string_view nsid);

// Fields of a request body, read without throwing: a missing or mistyped
// field reads as absent (with the lexicons loaded, read_input has already
// refused a mistyped one).
std::string string_field(const nlohmann::json& body, const char* key);
std::optional<std::string> optional_string_field(const nlohmann::json& body, const char* key);
std::optional<std::int64_t> integer_field(const nlohmann::json& body, const char* key);
bool boolean_field(const nlohmann::json& body, const char* key, bool fallback);

// The scopes and token types of session tokens, as the official PDS writes
// them (clients read them back to tell an app-password session).
inline constexpr std::string_view kScopeAccess = "com.atproto.access";
inline constexpr std::string_view kScopeAppPass = "com.atproto.appPass";
inline constexpr std::string_view kScopeAppPassPrivileged = "com.atproto.appPassPrivileged";
inline constexpr std::string_view kScopeRefresh = "com.atproto.refresh";
inline constexpr std::string_view kTypAccess = "at+jwt";
inline constexpr std::string_view kTypRefresh = "refresh+jwt";

struct Session {
  std::string access_jwt;
  std::string refresh_jwt;
  AccountInfo account;
};

struct NewAccount {
  std::string handle;
  std::string email;
  std::string password;
  std::optional<std::string> invite_code;
  // A did:web the client proved it controls (service auth); the account
  // starts deactivated until its DID document points here.
  std::optional<std::string> did;
  std::optional<std::string> recovery_key;  // did:key, first rotation key
};

struct AppPassword {
  std::string name;
  std::string password;  // only when just created
  std::string created_at;
  bool privileged = false;
};

// What a route lets through besides active accounts with full sessions.
struct AuthOptions {
  bool allow_deactivated = false;  // getSession, activateAccount, ...
  bool allow_app_password = true;
  bool require_privileged = false;  // app passwords must be privileged
};

// Errors of this part carry the XRPC error name as their code
// ("InvalidHandle", "AuthenticationRequired", ...); error_response() turns
// one into the answer.
xrpc::HttpResponse error_response(const Error& error);

class Accounts final : public AccountAccess {
 public:
  using Clock = std::function<std::int64_t()>;  // seconds since the epoch

  explicit Accounts(PdsContext& context);
  ~Accounts();
  // Creates the tables, then loads (or on first start generates and stores)
  // the server's secrets.
  Status init_schema();

  std::string service_did() const;  // did:web:<hostname>
  const crypto::PrivateKey& rotation_key() const { return *rotation_key_; }
  std::int64_t now() const { return clock_(); }
  void set_clock_for_tests(Clock clock) { clock_ = std::move(clock); }
  // Tests only: did:web documents are fetched from this origin (with the
  // DID's host as the Host header) instead of https://<host>. Set before
  // the server takes requests.
  void set_did_web_origin_for_tests(std::string origin) { did_web_origin_ = std::move(origin); }

  // AccountAccess: active accounts only (AccountDeactivated, AccountTakedown).
  Result<Caller> authenticate(const xrpc::HttpRequest& request) const override;
  Result<std::optional<AccountInfo>> find(std::string_view did_or_handle) const override;
  Result<crypto::PrivateKey> signing_key(std::string_view did) const override;

  Result<Caller> authenticate(const xrpc::HttpRequest& request, AuthOptions options) const;
  // `Authorization: Basic admin:<admin_password>`.
  Status authenticate_admin(const xrpc::HttpRequest& request) const;
  // The DID of the valid access token the request carries (signature,
  // audience, expiry and scope checked; the account itself is not looked
  // up), or nullopt. For Atproto-Repo-Rev [sync.pds.repo-rev-header]. A
  // request authenticate() accepted answers from what it recorded there
  // (HttpRequest::authenticated_did), without a second verification.
  std::optional<std::string> access_token_subject(const xrpc::HttpRequest& request) const;

  // A handle a new account (or updateHandle) may take on this server:
  // valid syntax, normalized, under one of config.handle_domains with one
  // label of 3 to 18 characters in front, not taken. Errors: InvalidHandle,
  // UnsupportedDomain, HandleNotAvailable.
  Result<std::string> check_local_handle(std::string_view handle) const;
  bool is_local_domain(std::string_view normalized_handle) const;

  // Creates the identity (a did:plc genesis operation posted to the
  // directory, unless `input.did` is set), the account, its repository and
  // its #identity and #account events, in one transaction.
  Result<Session> create_account(const NewAccount& input);
  // `identifier` is a handle, a DID or an email address.
  Result<Session> create_session(std::string_view identifier, std::string_view password);
  // Refresh tokens are single-use: the presented one is consumed.
  Result<Session> refresh_session(const xrpc::HttpRequest& request);
  Status delete_session(const xrpc::HttpRequest& request);
  Result<AccountInfo> account(std::string_view did) const;  // AccountNotFound

  Result<AppPassword> create_app_password(const std::string& did, const std::string& name,
                                          bool privileged);
  Result<std::vector<AppPassword>> list_app_passwords(const std::string& did) const;
  Status revoke_app_password(const std::string& did, const std::string& name);

  // Deactivate / activate with their #account (and, on activation,
  // #identity) events.
  Status set_active(const std::string& did, bool active);
  // An operator's takedown (or its reversal) with its #account event; a
  // takedown also ends the account's sessions.
  Status set_takedown(const std::string& did, bool applied);
  // Checks the password and the emailed (here: logged) token, then removes
  // the account, its repository and blobs and emits #account deleted.
  Status delete_account(const std::string& did, std::string_view password, std::string_view token);

  // One-time tokens sent by email in the official PDS; here logged to
  // stderr and kept in the database (15 minutes). Purposes:
  // "delete_account", "plc_operation" and the email ones below.
  Result<std::string> issue_token(const std::string& did, std::string_view purpose);
  Status consume_token(const std::string& did, std::string_view purpose, std::string_view token);

  // Email addresses are kept and confirmed with logged tokens (purposes
  // "confirm_email", "update_email", "reset_password"); no mail is sent.
  Result<bool> email_confirmed(const std::string& did) const;
  Status confirm_email(const std::string& did, std::string_view email, std::string_view token);
  // A confirmed address needs an "update_email" token (TokenRequired).
  Status update_email(const std::string& did, std::string_view email,
                      const std::optional<std::string>& token);
  Result<std::optional<std::string>> did_for_email(std::string_view email) const;
  // Sets the password of the account the token was issued for and ends its
  // sessions.
  Status reset_password(std::string_view token, std::string_view password);

  Result<std::vector<std::string>> create_invite_codes(int code_count, int use_count,
                                                       const std::string& for_account);

  // did:plc: the last operation in the directory, or an error.
  Result<identity::PlcOperation> last_plc_operation(const std::string& did) const;
  // Posts a signed operation to the directory.
  Status submit_plc_operation(const std::string& did, const identity::PlcOperation& op) const;
  // Changes the handle: a PLC update (did:plc), the database, an #identity event.
  Status update_handle(const std::string& did, const std::string& handle);
  // Emits #identity for `did` (after an operation submitted by the client).
  Status sequence_identity(const std::string& did);

  identity::FetchPolicy fetch_policy() const;
  identity::DidResolverOptions did_resolver_options() const;

 private:
  Status load_secrets();
  Result<Session> issue_session(const AccountInfo& account,
                                const std::optional<std::string>& app_password, bool privileged);
  std::string sign_access(const std::string& did, std::string_view scope) const;
  Result<nlohmann::json> verify_token(const xrpc::HttpRequest& request, std::string_view typ,
                                      std::string_view scope_kind) const;

  PdsContext& context_;
  // The statements of the per-request reads (find, signing_key), prepared
  // once; used with db_mutex held.
  std::unique_ptr<StatementCache> statements_;
  // Tokens already verified (signature, type, scope, audience, subject),
  // by type and token text, with their payload: every request of a session
  // presents the same token, and checking it again cost more than a
  // database read. Expiry is still checked on every use.
  struct VerifiedTokens;
  std::unique_ptr<VerifiedTokens> verified_;
  Clock clock_;
  std::vector<std::uint8_t> jwt_secret_;
  std::optional<crypto::PrivateKey> rotation_key_;
  std::string did_web_origin_;
};

// com.atproto.server.* (sessions, accounts, app passwords, invite codes,
// service auth) and /xrpc/_health's neighbours.
void register_account_routes(xrpc::Router& router, PdsContext& context, Accounts& accounts);
// com.atproto.identity.* and GET /.well-known/atproto-did.
void register_identity_routes(xrpc::Router& router, PdsContext& context, Accounts& accounts);

// atproto-proxy: forwards a request for a method this PDS does not serve
// to the service named by the header, with a service-auth token of the
// caller. Returns nullopt when the request carries no such header.
// https://atproto.com/specs/xrpc#service-proxying
std::optional<xrpc::HttpResponse> proxy_request(const xrpc::HttpRequest& request,
                                                Accounts& accounts);

}  // namespace atproto::pds

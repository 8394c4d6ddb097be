// com.atproto.server.*: the account and session routes of the PDS.
// https://atproto.com/specs/account and https://atproto.com/specs/xrpc
#include <algorithm>
#include <charconv>
#include <string>

#include <nlohmann/json.hpp>

#include "atproto/data/json.hpp"
#include "atproto/identity/did_document.hpp"
#include "atproto/identity/did_resolver.hpp"
#include "atproto/lexicon/validate.hpp"
#include "atproto/pds/accounts.hpp"
#include "atproto/pds/repos.hpp"
#include "atproto/syntax/did.hpp"
#include "atproto/syntax/nsid.hpp"
#include "atproto/xrpc/jwt.hpp"

namespace atproto::pds {

namespace {

using nlohmann::json;
using xrpc::HttpRequest;
using xrpc::HttpResponse;

constexpr std::int64_t kServiceAuthDefaultSeconds = 60;
constexpr std::int64_t kServiceAuthMaxSeconds = 60 * 60;

HttpResponse ok_json(const json& body) { return HttpResponse::json(200, body); }
HttpResponse ok_empty() { return HttpResponse{}; }

json session_json(const Session& session) {
  json out = {{"accessJwt", session.access_jwt},
              {"refreshJwt", session.refresh_jwt},
              {"handle", session.account.handle},
              {"did", session.account.did}};
  return out;
}

// The fields getSession, createSession and refreshSession share.
void add_account_state(json& out, const Accounts& accounts, const AccountInfo& account,
                       bool with_email) {
  if (with_email && !account.email.empty()) {
    auto confirmed = accounts.email_confirmed(account.did);
    out["email"] = account.email;
    out["emailConfirmed"] = confirmed.ok() && *confirmed;
    out["emailAuthFactor"] = false;
  }
  const bool active = account.status == AccountStatus::kActive;
  out["active"] = active;
  if (!active) out["status"] = account_status_name(account.status);
}

}  // namespace

std::string string_field(const json& body, const char* key) {
  auto it = body.find(key);
  return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<std::string> optional_string_field(const json& body, const char* key) {
  auto it = body.find(key);
  if (it != body.end() && it->is_string()) return it->get<std::string>();
  return std::nullopt;
}

std::optional<std::int64_t> integer_field(const json& body, const char* key) {
  auto it = body.find(key);
  if (it != body.end() && it->is_number_integer()) return it->get<std::int64_t>();
  return std::nullopt;
}

bool boolean_field(const json& body, const char* key, bool fallback) {
  auto it = body.find(key);
  return it != body.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

Result<json> read_input(const PdsContext& context, const HttpRequest& request,
                        std::string_view nsid) {
  auto type = request.header("content-type");
  if (type && type->rfind("application/json", 0) != 0) {
    return make_error("InvalidRequest", "Wrong request encoding (Content-Type): " + *type);
  }
  auto body = json::parse(request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return make_error("InvalidRequest", "the request body must be a JSON object");
  }
  // [pds.xrpc.input-lexicon] Bodies are checked against the method's
  // official Lexicon before any handler reads them.
  // [pds.service.bad-request] A malformed or mistyped body is a 400.
  if (context.catalog.document(nsid)) {
    auto value = data::from_json(body);
    if (!value) return make_error("InvalidRequest", value.error().message);
    if (auto s = lexicon::validate_input(context.catalog, nsid, *value); !s) {
      return make_error("InvalidRequest", s.error().message);
    }
  }
  return body;
}

namespace {

// Does the DID document point at this PDS with the account's key?
Result<bool> did_points_here(const PdsContext& context, const Accounts& accounts,
                             const std::string& did) {
  auto doc = identity::resolve_did(did, accounts.did_resolver_options());
  if (!doc) return false;
  auto key = accounts.signing_key(did);
  if (!key) return key.error();
  auto doc_key = identity::atproto_signing_key(*doc);
  auto endpoint = identity::atproto_pds_endpoint(*doc);
  auto strip = [](std::string url) {
    while (!url.empty() && url.back() == '/') url.pop_back();
    return url;
  };
  return doc_key.ok() && *doc_key == key->public_key() && endpoint &&
         strip(*endpoint) == strip(context.config.public_url);
}

// What checkAccountStatus counts, read from the repositories part's tables
// (repo_block, record: repos.cpp; blob, record_blob: blobs.cpp). This
// server keeps no private account state (preferences), so
// privateStateValues is 0.
Result<json> account_counts(PdsContext& context, const std::string& did) {
  std::lock_guard lock(context.db_mutex);
  json out = {{"privateStateValues", 0}};
  const std::pair<const char*, const char*> queries[] = {
      {"repoBlocks", "SELECT COUNT(*) FROM repo_block WHERE did = ?"},
      {"indexedRecords", "SELECT COUNT(*) FROM record WHERE did = ?"},
      {"expectedBlobs", "SELECT COUNT(DISTINCT cid) FROM record_blob WHERE did = ?"},
      {"importedBlobs",
       "SELECT COUNT(DISTINCT r.cid) FROM record_blob r JOIN blob b"
       " ON b.did = r.did AND b.cid = r.cid WHERE r.did = ?"},
  };
  for (const auto& [name, sql] : queries) {
    auto st = context.db.prepare(sql);
    if (!st.ok()) return make_error("InternalServerError", st.error(name).message);
    st.bind(1, did);
    if (st.step() != SQLITE_ROW) return make_error("InternalServerError", st.error(name).message);
    out[name] = st.integer(0);
  }
  return out;
}

// createAccount with a did:web the client brings: it proves control with
// a service-auth token for this server, signed by the DID's current key.
Status check_did_control(PdsContext& context, const HttpRequest& request, const Accounts& accounts,
                         const std::string& did) {
  if (did.rfind("did:web:", 0) != 0) {
    return make_error("InvalidRequest", "only a did:web may be brought to a new account");
  }
  auto header = request.header("authorization");
  if (!header || header->rfind("Bearer ", 0) != 0) {
    return make_error("AuthenticationRequired",
                      "a service-auth token of the DID is required to create an account for it");
  }
  xrpc::ServiceAuthExpectations expect;
  expect.aud = accounts.service_did();
  expect.lxm = "com.atproto.server.createAccount";
  expect.now = accounts.now();
  // [xrpc.jwt.jti-replay] A proof is good for one request.
  expect.replay = &context.service_auth_replay;
  auto options = accounts.did_resolver_options();
  auto claims =
      xrpc::verify_service_auth(std::string_view(*header).substr(7), expect,
                                [&](std::string_view iss, bool) -> Result<crypto::PublicKey> {
                                  auto doc = identity::resolve_did(iss, options);
                                  if (!doc) return doc.error();
                                  return identity::atproto_signing_key(*doc);
                                });
  if (!claims) return make_error("InvalidToken", claims.error().message);
  if (claims->iss != did) {
    return make_error("InvalidToken", "the service-auth token was issued by another DID");
  }
  return {};
}

}  // namespace

void register_account_routes(xrpc::Router& router, PdsContext& context, Accounts& accounts) {
  PdsContext* ctx = &context;
  Accounts* acc = &accounts;
  auto must = [](Status s) {
    // Only a malformed NSID fails registration: a bug in this file.
    if (!s) std::abort();
  };

  // [pds.service.describe-server] The service DID and the handle domains
  // (Pds::open refuses a domain that does not start with a dot).
  must(router.query("com.atproto.server.describeServer", {}, [ctx, acc](const HttpRequest&) {
    json out = {{"did", acc->service_did()},
                {"availableUserDomains", ctx->config.handle_domains},
                {"inviteCodeRequired", ctx->config.invite_required},
                {"phoneVerificationRequired", false},
                {"blobUploadLimit", ctx->config.max_blob_bytes},
                {"links", json::object()},
                {"contact", json::object()}};
    return ok_json(out);
  }));

  // [pds.service.create-account] The new DID, the handle asked for and a
  // session (Accounts::create_account).
  must(router.procedure(
      "com.atproto.server.createAccount", {}, [ctx, acc](const HttpRequest& request) {
        auto body = read_input(*ctx, request, "com.atproto.server.createAccount");
        if (!body) return error_response(body.error());
        NewAccount input;
        input.handle = string_field(*body, "handle");
        input.email = string_field(*body, "email");
        input.password = string_field(*body, "password");
        input.invite_code = optional_string_field(*body, "inviteCode");
        input.recovery_key = optional_string_field(*body, "recoveryKey");
        input.did = optional_string_field(*body, "did");
        if (body->contains("plcOp")) {
          return error_response(make_error(
              "InvalidRequest", "importing a did:plc with plcOp is not supported by this PDS"));
        }
        if (input.did) {
          if (auto s = check_did_control(*ctx, request, *acc, *input.did); !s) {
            return error_response(s.error());
          }
        }
        auto session = acc->create_account(input);
        if (!session) return error_response(session.error());
        return ok_json(session_json(*session));
      }));

  // [pds.service.session] createSession and getSession (Accounts::create_session).
  must(router.procedure(
      "com.atproto.server.createSession", {}, [ctx, acc](const HttpRequest& request) {
        auto body = read_input(*ctx, request, "com.atproto.server.createSession");
        if (!body) return error_response(body.error());
        auto session =
            acc->create_session(string_field(*body, "identifier"), string_field(*body, "password"));
        if (!session) return error_response(session.error());
        json out = session_json(*session);
        add_account_state(out, *acc, session->account, true);
        return ok_json(out);
      }));

  // [pds.service.refresh-rotation] A new access and refresh token pair
  // (Accounts::refresh_session).
  must(router.procedure("com.atproto.server.refreshSession", {}, [acc](const HttpRequest& request) {
    auto session = acc->refresh_session(request);
    if (!session) return error_response(session.error());
    json out = session_json(*session);
    add_account_state(out, *acc, session->account, false);
    return ok_json(out);
  }));

  must(router.query("com.atproto.server.getSession", {}, [acc](const HttpRequest& request) {
    auto caller = acc->authenticate(request, {.allow_deactivated = true});
    if (!caller) return error_response(caller.error());
    auto info = acc->account(caller->did);
    if (!info) return error_response(info.error());
    json out = {{"handle", info->handle}, {"did", info->did}};
    // A plain app password does not see the account's email.
    add_account_state(out, *acc, *info, caller->scope != AuthScope::kAppPassword);
    return ok_json(out);
  }));

  must(router.procedure("com.atproto.server.deleteSession", {}, [acc](const HttpRequest& request) {
    if (auto s = acc->delete_session(request); !s) {
      return error_response(s.error());
    }
    return ok_empty();
  }));

  // [pds.service.app-password] Created here, listed by name only below, and
  // revoked with the sessions it opened (Accounts::revoke_app_password).
  must(router.procedure(
      "com.atproto.server.createAppPassword", {}, [ctx, acc](const HttpRequest& request) {
        auto caller = acc->authenticate(request, {.allow_app_password = false});
        if (!caller) return error_response(caller.error());
        auto body = read_input(*ctx, request, "com.atproto.server.createAppPassword");
        if (!body) return error_response(body.error());
        bool privileged = boolean_field(*body, "privileged", false);
        auto created =
            acc->create_app_password(caller->did, string_field(*body, "name"), privileged);
        if (!created) return error_response(created.error());
        return ok_json({{"name", created->name},
                        {"password", created->password},
                        {"createdAt", created->created_at},
                        {"privileged", created->privileged}});
      }));

  must(router.query("com.atproto.server.listAppPasswords", {}, [acc](const HttpRequest& request) {
    auto caller = acc->authenticate(request, {.require_privileged = true});
    if (!caller) return error_response(caller.error());
    auto list = acc->list_app_passwords(caller->did);
    if (!list) return error_response(list.error());
    json passwords = json::array();
    for (const auto& p : *list) {
      passwords.push_back(
          {{"name", p.name}, {"createdAt", p.created_at}, {"privileged", p.privileged}});
    }
    return ok_json({{"passwords", passwords}});
  }));

  must(router.procedure(
      "com.atproto.server.revokeAppPassword", {}, [ctx, acc](const HttpRequest& request) {
        auto caller = acc->authenticate(request, {.allow_app_password = false});
        if (!caller) return error_response(caller.error());
        auto body = read_input(*ctx, request, "com.atproto.server.revokeAppPassword");
        if (!body) return error_response(body.error());
        if (auto s = acc->revoke_app_password(caller->did, string_field(*body, "name")); !s) {
          return error_response(s.error());
        }
        return ok_empty();
      }));

  // [pds.service.deactivate] Deactivation and activation (Accounts::set_active);
  // the sync routes do not serve the repository meanwhile (sync_routes.cpp).
  must(router.procedure(
      "com.atproto.server.deactivateAccount", {}, [acc](const HttpRequest& request) {
        auto caller =
            acc->authenticate(request, {.allow_deactivated = true, .allow_app_password = false});
        if (!caller) return error_response(caller.error());
        // deleteAfter is only a recommendation; this server keeps the
        // account until it is deleted.
        if (auto s = acc->set_active(caller->did, false); !s) return error_response(s.error());
        return ok_empty();
      }));

  must(router.procedure(
      "com.atproto.server.activateAccount", {}, [ctx, acc](const HttpRequest& request) {
        auto caller =
            acc->authenticate(request, {.allow_deactivated = true, .allow_app_password = false});
        if (!caller) return error_response(caller.error());
        // [account.migration.did-points-here] An account only becomes
        // active once its DID document names this PDS and its key.
        auto valid = did_points_here(*ctx, *acc, caller->did);
        if (!valid) return error_response(valid.error());
        if (!*valid) {
          return error_response(make_error(
              "InvalidRequest",
              "the DID document does not point at this PDS with the account's signing key"));
        }
        if (auto s = acc->set_active(caller->did, true); !s) return error_response(s.error());
        return ok_empty();
      }));

  must(router.query(
      "com.atproto.server.checkAccountStatus", {}, [ctx, acc](const HttpRequest& request) {
        auto caller = acc->authenticate(request, {.allow_deactivated = true});
        if (!caller) return error_response(caller.error());
        auto info = acc->account(caller->did);
        if (!info) return error_response(info.error());
        auto valid = did_points_here(*ctx, *acc, caller->did);
        if (!valid) return error_response(valid.error());
        auto root = ctx->repos->root(caller->did);
        if (!root) return error_response(make_error("InternalServerError", root.error().message));
        json out = {{"activated", info->status == AccountStatus::kActive}, {"validDid", *valid}};
        if (*root) {
          out["repoCommit"] = (*root)->commit.to_string();
          out["repoRev"] = (*root)->rev;
        }
        auto counts = account_counts(*ctx, caller->did);
        if (!counts) return error_response(counts.error());
        out.update(*counts);
        return ok_json(out);
      }));

  must(router.procedure(
      "com.atproto.server.requestAccountDelete", {}, [acc](const HttpRequest& request) {
        auto caller =
            acc->authenticate(request, {.allow_deactivated = true, .allow_app_password = false});
        if (!caller) return error_response(caller.error());
        // No mail: the token is written to the server's log (stderr).
        auto token = acc->issue_token(caller->did, "delete_account");
        if (!token) return error_response(token.error());
        return ok_empty();
      }));

  must(router.procedure(
      "com.atproto.server.deleteAccount", {}, [ctx, acc](const HttpRequest& request) {
        auto body = read_input(*ctx, request, "com.atproto.server.deleteAccount");
        if (!body) return error_response(body.error());
        if (auto s =
                acc->delete_account(string_field(*body, "did"), string_field(*body, "password"),
                                    string_field(*body, "token"));
            !s) {
          return error_response(s.error());
        }
        return ok_empty();
      }));

  must(router.query(
      "com.atproto.server.getServiceAuth",
      {{"aud", xrpc::ParamSpec::Kind::string, true},
       {"exp", xrpc::ParamSpec::Kind::integer, false},
       {"lxm", xrpc::ParamSpec::Kind::string, false}},
      [ctx, acc](const HttpRequest& request) {
        auto caller = acc->authenticate(request, {.allow_deactivated = true});
        if (!caller) return error_response(caller.error());
        auto params = lexicon::validate_params(ctx->catalog, "com.atproto.server.getServiceAuth",
                                               request.query);
        if (ctx->catalog.document("com.atproto.server.getServiceAuth") && !params) {
          return error_response(make_error("InvalidRequest", params.error().message));
        }
        xrpc::ServiceAuthClaims claims;
        claims.iss = caller->did;
        claims.aud = *request.query_param("aud");
        std::string aud_did = claims.aud.substr(0, claims.aud.find('#'));
        if (!syntax::validate_did(aud_did).ok()) {
          return error_response(make_error("InvalidRequest", "aud must be a DID"));
        }
        claims.lxm = request.query_param("lxm");
        if (claims.lxm && !syntax::validate_nsid(*claims.lxm).ok()) {
          return error_response(make_error("InvalidRequest", "lxm must be an NSID"));
        }
        claims.iat = acc->now();
        claims.exp = claims.iat + kServiceAuthDefaultSeconds;
        if (auto exp = request.query_param("exp")) {
          auto [end, ec] = std::from_chars(exp->data(), exp->data() + exp->size(), claims.exp);
          if (ec != std::errc() || end != exp->data() + exp->size()) {
            return error_response(make_error("BadExpiration", "exp is not a usable integer"));
          }
        }
        // [pds.service-auth.expiry] Not in the past, at most an hour ahead,
        // and a token bound to no method lives at most a minute.
        if (claims.exp <= claims.iat) {
          return error_response(make_error("BadExpiration", "expiration is in the past"));
        }
        if (claims.exp - claims.iat > kServiceAuthMaxSeconds) {
          return error_response(make_error(
              "BadExpiration", "cannot request a token expiring more than an hour ahead"));
        }
        if (!claims.lxm && claims.exp - claims.iat > kServiceAuthDefaultSeconds) {
          return error_response(
              make_error("BadExpiration",
                         "cannot request a method-less token expiring more than 60 seconds ahead"));
        }
        if (caller->scope != AuthScope::kAccess) {
          // App passwords may not mint tokens for account-management
          // methods, nor tokens good for any method.
          if (!claims.lxm) {
            return error_response(
                make_error("InvalidToken", "app passwords cannot request method-less tokens"));
          }
          if (claims.lxm->rfind("com.atproto.server.", 0) == 0 ||
              claims.lxm->rfind("com.atproto.identity.", 0) == 0 ||
              claims.lxm->rfind("com.atproto.admin.", 0) == 0) {
            return error_response(make_error(
                "InvalidToken", "app passwords cannot request tokens for " + *claims.lxm));
          }
        }
        // A random nonce: two tokens of the same second differ.
        claims.jti = random_token(16);
        auto key = acc->signing_key(caller->did);
        if (!key) return error_response(key.error());
        return ok_json({{"token", xrpc::create_service_auth(*key, claims)}});
      }));

  // Email: no mail is sent; each token is written to the server's log.
  must(router.procedure(
      "com.atproto.server.requestEmailConfirmation", {}, [acc](const HttpRequest& request) {
        auto caller = acc->authenticate(request, {.allow_deactivated = true});
        if (!caller) return error_response(caller.error());
        auto info = acc->account(caller->did);
        if (!info) return error_response(info.error());
        if (info->email.empty()) {
          return error_response(make_error("InvalidRequest", "account has no email address"));
        }
        auto token = acc->issue_token(caller->did, "confirm_email");
        if (!token) return error_response(token.error());
        return ok_empty();
      }));
  must(router.procedure("com.atproto.server.confirmEmail", {},
                        [ctx, acc](const HttpRequest& request) {
                          auto caller = acc->authenticate(request, {.allow_deactivated = true});
                          if (!caller) return error_response(caller.error());
                          auto body = read_input(*ctx, request, "com.atproto.server.confirmEmail");
                          if (!body) return error_response(body.error());
                          if (auto s = acc->confirm_email(caller->did, string_field(*body, "email"),
                                                          string_field(*body, "token"));
                              !s) {
                            return error_response(s.error());
                          }
                          return ok_empty();
                        }));
  must(router.procedure("com.atproto.server.requestEmailUpdate", {},
                        [acc](const HttpRequest& request) {
                          auto caller = acc->authenticate(request, {.allow_deactivated = true});
                          if (!caller) return error_response(caller.error());
                          auto confirmed = acc->email_confirmed(caller->did);
                          if (!confirmed) return error_response(confirmed.error());
                          if (*confirmed) {
                            auto token = acc->issue_token(caller->did, "update_email");
                            if (!token) return error_response(token.error());
                          }
                          return ok_json({{"tokenRequired", *confirmed}});
                        }));
  must(router.procedure(
      "com.atproto.server.updateEmail", {}, [ctx, acc](const HttpRequest& request) {
        auto caller =
            acc->authenticate(request, {.allow_deactivated = true, .require_privileged = true});
        if (!caller) return error_response(caller.error());
        auto body = read_input(*ctx, request, "com.atproto.server.updateEmail");
        if (!body) return error_response(body.error());
        if (auto s = acc->update_email(caller->did, string_field(*body, "email"),
                                       optional_string_field(*body, "token"));
            !s) {
          return error_response(s.error());
        }
        return ok_empty();
      }));
  must(router.procedure(
      "com.atproto.server.requestPasswordReset", {}, [ctx, acc](const HttpRequest& request) {
        auto body = read_input(*ctx, request, "com.atproto.server.requestPasswordReset");
        if (!body) return error_response(body.error());
        auto did = acc->did_for_email(string_field(*body, "email"));
        if (!did) return error_response(did.error());
        // An unknown address answers the same, so addresses cannot be probed.
        if (*did) {
          auto token = acc->issue_token(**did, "reset_password");
          if (!token) return error_response(token.error());
        }
        return ok_empty();
      }));
  must(router.procedure(
      "com.atproto.server.resetPassword", {}, [ctx, acc](const HttpRequest& request) {
        auto body = read_input(*ctx, request, "com.atproto.server.resetPassword");
        if (!body) return error_response(body.error());
        if (auto s =
                acc->reset_password(string_field(*body, "token"), string_field(*body, "password"));
            !s) {
          return error_response(s.error());
        }
        return ok_empty();
      }));

  auto invite_codes = [ctx, acc](const HttpRequest& request, bool many) {
    if (auto s = acc->authenticate_admin(request); !s) return error_response(s.error());
    std::string nsid =
        many ? "com.atproto.server.createInviteCodes" : "com.atproto.server.createInviteCode";
    auto body = read_input(*ctx, request, nsid);
    if (!body) return error_response(body.error());
    auto use_count = integer_field(*body, "useCount").value_or(0);
    auto code_count = integer_field(*body, "codeCount").value_or(1);
    if (use_count < 1 || use_count > 1'000'000 || code_count < 1 || code_count > 1000) {
      return error_response(
          make_error("InvalidRequest", "useCount must be at least 1 and codeCount 1 to 1000"));
    }
    if (!many) {
      auto codes =
          acc->create_invite_codes(1, static_cast<int>(use_count),
                                   optional_string_field(*body, "forAccount").value_or("admin"));
      if (!codes) return error_response(codes.error());
      return ok_json({{"code", codes->front()}});
    }
    std::vector<std::string> owners = {"admin"};
    if (auto it = body->find("forAccounts"); it != body->end() && it->is_array() && !it->empty()) {
      owners.clear();
      for (const auto& owner : *it) {
        if (!owner.is_string()) {
          return error_response(make_error("InvalidRequest", "forAccounts holds DIDs"));
        }
        owners.push_back(owner.get<std::string>());
      }
    }
    json out = json::array();
    for (const auto& account : owners) {
      auto codes = acc->create_invite_codes(static_cast<int>(code_count),
                                            static_cast<int>(use_count), account);
      if (!codes) return error_response(codes.error());
      out.push_back({{"account", account}, {"codes", *codes}});
    }
    return ok_json({{"codes", out}});
  };
  // Moderation by the operator: account takedowns (repository subjects only).
  must(router.procedure(
      "com.atproto.admin.updateSubjectStatus", {}, [ctx, acc](const HttpRequest& request) {
        if (auto s = acc->authenticate_admin(request); !s) return error_response(s.error());
        auto body = read_input(*ctx, request, "com.atproto.admin.updateSubjectStatus");
        if (!body) return error_response(body.error());
        auto subject = body->find("subject");
        if (subject == body->end() || !subject->is_object() ||
            string_field(*subject, "$type") != "com.atproto.admin.defs#repoRef") {
          return error_response(
              make_error("InvalidRequest", "only repository subjects (repoRef) are supported"));
        }
        const std::string did = string_field(*subject, "did");
        json out = {{"subject", *subject}};
        if (auto takedown = body->find("takedown");
            takedown != body->end() && takedown->is_object()) {
          bool applied = boolean_field(*takedown, "applied", false);
          if (auto s = acc->set_takedown(did, applied); !s) return error_response(s.error());
          out["takedown"] = *takedown;
        }
        return ok_json(out);
      }));
  must(router.query(
      "com.atproto.admin.getSubjectStatus", {{"did", xrpc::ParamSpec::Kind::string, true}},
      [acc](const HttpRequest& request) {
        if (auto s = acc->authenticate_admin(request); !s) {
          return error_response(s.error());
        }
        auto info = acc->account(*request.query_param("did"));
        if (!info) return error_response(make_error("NotFound", "Subject not found"));
        return ok_json(
            {{"subject", {{"$type", "com.atproto.admin.defs#repoRef"}, {"did", info->did}}},
             {"takedown", {{"applied", info->status == AccountStatus::kTakendown}}},
             {"deactivated", {{"applied", info->status == AccountStatus::kDeactivated}}}});
      }));

  must(router.procedure("com.atproto.server.createInviteCode", {},
                        [invite_codes](const HttpRequest& r) { return invite_codes(r, false); }));
  must(router.procedure("com.atproto.server.createInviteCodes", {},
                        [invite_codes](const HttpRequest& r) { return invite_codes(r, true); }));
}

}  // namespace atproto::pds

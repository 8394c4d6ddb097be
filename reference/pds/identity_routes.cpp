// com.atproto.identity.*, /.well-known/atproto-did and atproto-proxy
// forwarding.
// https://atproto.com/specs/handle, https://atproto.com/specs/did and
// https://atproto.com/specs/xrpc#service-proxying
#include <algorithm>
#include <string>

#include <nlohmann/json.hpp>

#include "atproto/identity/did_document.hpp"
#include "atproto/identity/did_resolver.hpp"
#include "atproto/identity/handle_resolver.hpp"
#include "atproto/identity/plc.hpp"
#include "atproto/pds/accounts.hpp"
#include "atproto/syntax/handle.hpp"
#include "atproto/syntax/nsid.hpp"
#include "atproto/xrpc/jwt.hpp"

namespace atproto::pds {

namespace {

using nlohmann::json;
using xrpc::HttpRequest;
using xrpc::HttpResponse;

constexpr std::int64_t kProxyTokenSeconds = 60;
constexpr std::size_t kMaxProxiedResponseBytes = 64 << 20;

identity::HandleResolverOptions handle_options(const Accounts& accounts) {
  identity::HandleResolverOptions options;
  options.fetch = accounts.fetch_policy();
  return options;
}

// A handle for `did` that is not under this server's domains: it must
// resolve (DNS or HTTPS) to the DID. [handle.resolve.bidirectional]
Result<std::string> check_external_handle(const Accounts& accounts, std::string_view input,
                                          const std::string& did) {
  auto parsed = syntax::parse_handle(input);
  if (!parsed) return make_error("InvalidHandle", parsed.error().message);
  if (auto s = syntax::check_handle_usable(*parsed); !s) {
    return make_error("InvalidHandle", s.error().message);
  }
  auto resolved = identity::resolve_handle(*parsed, handle_options(accounts));
  if (!resolved || resolved->did != did) {
    return make_error("InvalidHandle", "External handle did not resolve to DID");
  }
  auto existing = accounts.find(*parsed);
  if (!existing) return existing.error();
  if (*existing && (*existing)->did != did) {
    return make_error("HandleNotAvailable", "Handle already taken: " + *parsed);
  }
  return *parsed;
}

json services_json(const std::map<std::string, identity::PlcService>& services) {
  json out = json::object();
  for (const auto& [name, service] : services) {
    out[name] = {{"type", service.type}, {"endpoint", service.endpoint}};
  }
  return out;
}

// The operation the account's DID document should have for this PDS.
identity::PlcOperation recommended(const PdsContext& context, const Accounts& accounts,
                                   const AccountInfo& info, const crypto::PrivateKey& key) {
  identity::PlcOperation op;
  op.rotation_keys = {accounts.rotation_key().public_key().did_key()};
  op.verification_methods["atproto"] = key.public_key().did_key();
  op.also_known_as = {"at://" + info.handle};
  op.services["atproto_pds"] = {"AtprotoPersonalDataServer", context.config.public_url};
  return op;
}

Result<std::vector<std::string>> string_array(const json& value, const char* field) {
  if (!value.is_array()) return make_error("InvalidRequest", std::string(field) + ": not an array");
  std::vector<std::string> out;
  for (const auto& v : value) {
    if (!v.is_string()) return make_error("InvalidRequest", std::string(field) + ": not strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

}  // namespace

void register_identity_routes(xrpc::Router& router, PdsContext& context, Accounts& accounts) {
  PdsContext* ctx = &context;
  Accounts* acc = &accounts;
  auto must = [](Status s) {
    if (!s) std::abort();  // a malformed NSID in this file
  };

  // [pds.service.resolve-handle]
  must(router.query(
      "com.atproto.identity.resolveHandle", {{"handle", xrpc::ParamSpec::Kind::string, true}},
      [acc](const HttpRequest& request) {
        auto parsed = syntax::parse_handle(*request.query_param("handle"));
        if (!parsed) {
          return error_response(make_error("InvalidRequest", parsed.error().message));
        }
        // Accounts of this server answer without a network round trip.
        auto local = acc->find(*parsed);
        if (!local) return error_response(local.error());
        if (*local) return HttpResponse::json(200, {{"did", (*local)->did}});
        auto resolved = identity::resolve_handle(*parsed, handle_options(*acc));
        if (!resolved) {
          return error_response(make_error("HandleNotFound", "Unable to resolve handle"));
        }
        return HttpResponse::json(200, {{"did", resolved->did}});
      }));

  // [pds.service.update-handle] The DID document, resolveHandle and the
  // well-known answer follow (Accounts::update_handle).
  must(router.procedure(
      "com.atproto.identity.updateHandle", {}, [ctx, acc](const HttpRequest& request) {
        auto caller = acc->authenticate(request, {.require_privileged = true});
        if (!caller) return error_response(caller.error());
        auto body = read_input(*ctx, request, "com.atproto.identity.updateHandle");
        if (!body) return error_response(body.error());
        std::string input = string_field(*body, "handle");
        auto normalized = syntax::parse_handle(input);
        if (!normalized) return error_response(make_error("InvalidHandle", "invalid handle"));
        Result<std::string> handle = *normalized;
        auto current = acc->account(caller->did);
        if (!current) return error_response(current.error());
        if (*normalized != current->handle) {
          handle = acc->is_local_domain(*normalized)
                       ? acc->check_local_handle(*normalized)
                       : check_external_handle(*acc, *normalized, caller->did);
        }
        if (!handle) return error_response(handle.error());
        if (auto s = acc->update_handle(caller->did, *handle); !s) {
          return error_response(s.error());
        }
        return HttpResponse{};
      }));

  must(router.query("com.atproto.identity.getRecommendedDidCredentials", {},
                    [ctx, acc](const HttpRequest& request) {
                      auto caller = acc->authenticate(request, {.allow_deactivated = true});
                      if (!caller) return error_response(caller.error());
                      auto info = acc->account(caller->did);
                      if (!info) return error_response(info.error());
                      auto key = acc->signing_key(caller->did);
                      if (!key) return error_response(key.error());
                      auto op = recommended(*ctx, *acc, *info, *key);
                      json out = {{"alsoKnownAs", op.also_known_as},
                                  {"verificationMethods", op.verification_methods},
                                  {"services", services_json(op.services)}};
                      // Rotation keys only mean something for did:plc.
                      if (caller->did.rfind("did:plc:", 0) == 0)
                        out["rotationKeys"] = op.rotation_keys;
                      return HttpResponse::json(200, out);
                    }));

  must(router.procedure(
      "com.atproto.identity.requestPlcOperationSignature", {}, [acc](const HttpRequest& request) {
        auto caller =
            acc->authenticate(request, {.allow_deactivated = true, .allow_app_password = false});
        if (!caller) return error_response(caller.error());
        if (caller->did.rfind("did:plc:", 0) != 0) {
          return error_response(make_error("InvalidRequest", "not a did:plc account"));
        }
        // No mail: the token goes to the server's log and the database.
        auto token = acc->issue_token(caller->did, "plc_operation");
        if (!token) return error_response(token.error());
        return HttpResponse{};
      }));

  must(router.procedure(
      "com.atproto.identity.signPlcOperation", {}, [ctx, acc](const HttpRequest& request) {
        auto caller =
            acc->authenticate(request, {.allow_deactivated = true, .allow_app_password = false});
        if (!caller) return error_response(caller.error());
        auto body = read_input(*ctx, request, "com.atproto.identity.signPlcOperation");
        if (!body) return error_response(body.error());
        auto token = string_field(*body, "token");
        if (token.empty()) {
          return error_response(make_error("InvalidRequest", "email confirmation token required"));
        }
        if (auto s = acc->consume_token(caller->did, "plc_operation", token); !s) {
          return error_response(s.error());
        }
        auto last = acc->last_plc_operation(caller->did);
        if (!last) return error_response(last.error());
        auto prev = identity::plc_operation_cid(*last);
        if (!prev) return error_response(prev.error());
        // Fields the client leaves out keep their current values.
        identity::PlcOperation op = identity::normalize_plc_operation(*last);
        op.type = identity::PlcOperationType::kOperation;
        op.prev = *prev;
        op.sig.clear();
        if (body->contains("rotationKeys")) {
          auto keys = string_array((*body)["rotationKeys"], "rotationKeys");
          if (!keys) return error_response(keys.error());
          op.rotation_keys = *keys;
        }
        if (body->contains("alsoKnownAs")) {
          auto aka = string_array((*body)["alsoKnownAs"], "alsoKnownAs");
          if (!aka) return error_response(aka.error());
          op.also_known_as = *aka;
        }
        if (body->contains("verificationMethods")) {
          const json& vm = (*body)["verificationMethods"];
          if (!vm.is_object()) {
            return error_response(make_error("InvalidRequest", "verificationMethods: not a map"));
          }
          op.verification_methods.clear();
          for (const auto& [name, key] : vm.items()) {
            if (!key.is_string()) {
              return error_response(
                  make_error("InvalidRequest", "verificationMethods: not a did:key"));
            }
            op.verification_methods[name] = key.get<std::string>();
          }
        }
        if (body->contains("services")) {
          const json& services = (*body)["services"];
          if (!services.is_object()) {
            return error_response(make_error("InvalidRequest", "services: not a map"));
          }
          op.services.clear();
          for (const auto& [name, service] : services.items()) {
            if (!service.is_object() || !service.contains("type") || !service["type"].is_string() ||
                !service.contains("endpoint") || !service["endpoint"].is_string()) {
              return error_response(make_error("InvalidRequest", "services: malformed " + name));
            }
            op.services[name] = {service["type"], service["endpoint"]};
          }
        }
        if (auto s = identity::sign_plc_operation(op, acc->rotation_key()); !s) {
          return error_response(s.error());
        }
        if (auto s = identity::validate_plc_operation(op); !s) {
          return error_response(make_error("InvalidRequest", s.error().message));
        }
        return HttpResponse::json(200, {{"operation", to_json(op)}});
      }));

  must(router.procedure(
      "com.atproto.identity.submitPlcOperation", {}, [ctx, acc](const HttpRequest& request) {
        auto caller =
            acc->authenticate(request, {.allow_deactivated = true, .allow_app_password = false});
        if (!caller) return error_response(caller.error());
        auto body = read_input(*ctx, request, "com.atproto.identity.submitPlcOperation");
        if (!body) return error_response(body.error());
        auto it = body->find("operation");
        if (it == body->end()) {
          return error_response(make_error("InvalidRequest", "an operation is required"));
        }
        auto op = identity::parse_plc_operation(*it);
        if (!op) return error_response(make_error("InvalidRequest", op.error().message));
        auto info = acc->account(caller->did);
        if (!info) return error_response(info.error());
        auto key = acc->signing_key(caller->did);
        if (!key) return error_response(key.error());
        // [account.migration.did-points-here] The operation must keep this
        // PDS able to serve the account: our rotation key, the account's
        // signing key, its handle and this server as #atproto_pds.
        const auto& keys = op->rotation_keys;
        if (std::find(keys.begin(), keys.end(), acc->rotation_key().public_key().did_key()) ==
            keys.end()) {
          return error_response(
              make_error("InvalidRequest", "Rotation keys do not include server's rotation key"));
        }
        auto vm = op->verification_methods.find("atproto");
        if (vm == op->verification_methods.end() || vm->second != key->public_key().did_key()) {
          return error_response(make_error("InvalidRequest", "Incorrect signing key"));
        }
        const auto& aka = op->also_known_as;
        if (std::find(aka.begin(), aka.end(), "at://" + info->handle) == aka.end()) {
          return error_response(make_error("InvalidRequest", "Incorrect handle in alsoKnownAs"));
        }
        auto pds = op->services.find("atproto_pds");
        if (pds == op->services.end() || pds->second.type != "AtprotoPersonalDataServer" ||
            pds->second.endpoint != ctx->config.public_url) {
          return error_response(
              make_error("InvalidRequest", "Incorrect endpoint on atproto_pds service"));
        }
        if (auto s = acc->submit_plc_operation(caller->did, *op); !s) {
          return error_response(s.error());
        }
        // [account.migration.identity-event] [sync.pds.identity-events]
        if (auto s = acc->sequence_identity(caller->did); !s) return error_response(s.error());
        return HttpResponse{};
      }));

  // [handle.resolve.https-well-known] [pds.service.well-known] The handle is
  // the request's host name.
  router.route("GET", "/.well-known/atproto-did", [acc](const HttpRequest& request) {
    std::string host = request.header("host").value_or("");
    if (auto colon = host.rfind(':'); colon != std::string::npos) host.resize(colon);
    auto parsed = syntax::parse_handle(host);
    if (parsed) {
      auto found = acc->find(*parsed);
      if (found && *found) {
        return HttpResponse::text(200, (*found)->did, "text/plain; charset=utf-8");
      }
    }
    return HttpResponse::text(404, "User not found", "text/plain; charset=utf-8");
  });
}

std::optional<HttpResponse> proxy_request(const HttpRequest& request, Accounts& accounts) {
  auto header = request.header("atproto-proxy");
  if (!header) return std::nullopt;
  constexpr std::string_view kPrefix = "/xrpc/";
  if (request.path.rfind(kPrefix, 0) != 0) return std::nullopt;
  const std::string nsid = request.path.substr(kPrefix.size());
  auto target = xrpc::parse_proxy_header(*header);
  if (!target) return error_response(make_error("InvalidRequest", target.error().message));
  // [pds.proxy.did-service] The header names a DID and a service id in its
  // document; the request goes to that service's endpoint.
  auto doc = identity::resolve_did(target->did, accounts.did_resolver_options());
  if (!doc) {
    return error_response(
        make_error("InvalidRequest", "could not resolve proxy DID: " + doc.error().message));
  }
  std::optional<std::string> endpoint;
  for (const auto& service : doc->services) {
    if (service.id == "#" + target->service_id ||
        service.id == target->did + "#" + target->service_id) {
      endpoint = service.endpoint;
    }
  }
  if (!endpoint) {
    return error_response(make_error("InvalidRequest", "could not resolve proxy DID service url"));
  }
  while (!endpoint->empty() && endpoint->back() == '/') endpoint->pop_back();

  identity::HeaderList headers;
  for (const char* name :
       {"content-type", "accept", "accept-language", "atproto-accept-labelers", "x-bsky-topics"}) {
    if (auto v = request.header(name)) headers.emplace_back(name, *v);
  }
  if (request.header("authorization")) {
    // [pds.proxy.service-auth] The caller's session becomes a service-auth
    // token signed by the account's key, bound to the method.
    auto caller = accounts.authenticate(request);
    if (!caller) return error_response(caller.error());
    auto key = accounts.signing_key(caller->did);
    if (!key) return error_response(key.error());
    xrpc::ServiceAuthClaims claims;
    claims.iss = caller->did;
    claims.aud = target->did + "#" + target->service_id;
    claims.lxm = nsid;
    claims.iat = accounts.now();
    claims.exp = claims.iat + kProxyTokenSeconds;
    claims.jti = random_token(16);
    headers.emplace_back("authorization", "Bearer " + xrpc::create_service_auth(*key, claims));
  }
  auto policy = accounts.fetch_policy();
  policy.max_response_bytes = kMaxProxiedResponseBytes;
  policy.max_redirects = 0;
  std::string query =
      request.target.substr(std::min(request.target.find('?'), request.target.size()));
  auto got = identity::http_request(request.method, *endpoint + request.path + query, request.body,
                                    headers, policy);
  if (!got) {
    return error_response(make_error("UpstreamFailure", "proxy: " + got.error().message));
  }
  HttpResponse out;
  out.status = got->status;
  out.body = std::move(got->body);
  for (const auto& [name, value] : got->headers) {
    if (name == "content-type" || name == "content-language" ||
        name == "atproto-content-labelers" || name == "atproto-repo-rev") {
      out.headers.emplace_back(name, value);
    }
  }
  return out;
}

}  // namespace atproto::pds

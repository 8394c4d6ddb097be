#include "atproto/xrpc/router.hpp"

#include <cctype>
#include <charconv>
#include <optional>

#include "atproto/data/json.hpp"
#include "atproto/lexicon/catalog.hpp"
#include "atproto/lexicon/validate.hpp"
#include "atproto/syntax/nsid.hpp"

namespace atproto::xrpc {

namespace {

// [xrpc.http.path] Methods live at the top-level /xrpc/<nsid>.
constexpr std::string_view kPrefix = "/xrpc/";

std::string check_param(const ParamSpec& spec, const std::vector<std::string>& values) {
  if (values.empty()) return spec.required ? "missing required parameter " + spec.name : "";
  if (!spec.array && values.size() > 1) return "parameter " + spec.name + " given more than once";
  for (const auto& v : values) {
    if (spec.kind == ParamSpec::Kind::integer) {
      long long n = 0;
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (v.empty() || ec != std::errc{} || end != v.data() + v.size())
        return "parameter " + spec.name + " is not an integer: " + v;
    } else if (spec.kind == ParamSpec::Kind::boolean) {
      // [xrpc.http.params] Booleans travel as the strings true and false.
      // https://atproto.com/specs/xrpc#lexicon-http-endpoints
      if (v != "true" && v != "false")
        return "parameter " + spec.name + " is not true or false: " + v;
    }
  }
  return "";
}

HttpResponse invalid(const Error& e) {
  return xrpc_error(400, "InvalidRequest", e.code + ": " + e.message);
}

// The media type of a Content-Type value: parameters dropped, lowercased.
std::string media_type(std::string_view content_type) {
  std::string_view type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
  std::string out(type);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Checks a request against the method's Lexicon; an empty optional when it
// passes.
std::optional<HttpResponse> check_lexicon(const lexicon::Catalog& catalog, std::string_view nsid,
                                          MethodType type, const HttpRequest& request) {
  const auto* doc = catalog.document(nsid);
  if (!doc) return std::nullopt;
  auto main = doc->def("main");
  // [xrpc.http.params] Parameters are read and checked as the Lexicon's
  // params types say.
  auto params = lexicon::validate_params(catalog, nsid, request.query);
  if (!params.ok()) return invalid(params.error());
  if (type != MethodType::procedure || !main) return std::nullopt;
  // [xrpc.http.input-encoding] The body's content type must be the input's
  // encoding (a pattern such as image/* or */* for blobs); JSON inputs are
  // validated against their schema.
  if (!main->input) {
    if (!request.body.empty())
      return xrpc_error(400, "InvalidRequest", "this procedure takes no request body");
    return std::nullopt;
  }
  const std::string& encoding = main->input->encoding;
  auto content_type = request.header("content-type");
  if (!content_type)
    return xrpc_error(400, "InvalidRequest", "a request body of type " + encoding + " is expected");
  std::string type_given = media_type(*content_type);
  if (!lexicon::mime_type_matches(encoding, type_given)) {
    return xrpc_error(400, "InvalidRequest",
                      "wrong request encoding " + type_given + ", expected " + encoding);
  }
  if (encoding != "application/json") return std::nullopt;
  auto json = nlohmann::json::parse(request.body, nullptr, false);
  if (json.is_discarded()) return xrpc_error(400, "InvalidRequest", "the request body is not JSON");
  auto value = data::from_json(json);
  if (!value.ok()) return invalid(value.error());
  if (auto st = lexicon::validate_input(catalog, nsid, value.value()); !st.ok())
    return invalid(st.error());
  return std::nullopt;
}

}  // namespace

Router::Router(RouterOptions options) : options_(std::move(options)) {}

Status Router::add(std::string_view nsid, MethodType type, std::vector<ParamSpec> params,
                   Handler handler) {
  if (auto st = syntax::validate_nsid(nsid); !st.ok()) return st;
  methods_.insert_or_assign(std::string(nsid), Method{type, std::move(params), std::move(handler)});
  return {};
}

Status Router::query(std::string_view nsid, std::vector<ParamSpec> params, Handler handler) {
  return add(nsid, MethodType::query, std::move(params), std::move(handler));
}

Status Router::procedure(std::string_view nsid, std::vector<ParamSpec> params, Handler handler) {
  return add(nsid, MethodType::procedure, std::move(params), std::move(handler));
}

Status Router::subscription(std::string_view nsid, std::vector<ParamSpec> params, Handler handler) {
  return add(nsid, MethodType::subscription, std::move(params), std::move(handler));
}

void Router::route(std::string method, std::string path, Handler handler) {
  routes_.insert_or_assign({std::move(method), std::move(path)}, std::move(handler));
}

Handler Router::handler() const {
  return [this](const HttpRequest& request) { return handle(request); };
}

// [xrpc.cors] On by default: the spec encourages it.
void Router::add_cors(HttpResponse& response) const {
  if (!options_.cors) return;
  response.headers.emplace_back("access-control-allow-origin", options_.cors_origin);
}

HttpResponse Router::handle(const HttpRequest& request) const {
  HttpResponse response = dispatch(request);
  add_cors(response);
  return response;
}

HttpResponse Router::dispatch(const HttpRequest& request) const {
  if (request.method == "OPTIONS" && options_.cors) {
    // CORS preflight: browsers ask before sending auth or JSON bodies.
    HttpResponse r;
    r.status = 204;
    r.headers.emplace_back("access-control-allow-methods", "GET, POST, OPTIONS");
    r.headers.emplace_back("access-control-allow-headers",
                           request.header("access-control-request-headers").value_or("*"));
    r.headers.emplace_back("access-control-max-age", "86400");
    return r;
  }
  if (request.path.rfind(kPrefix, 0) != 0) {
    auto it = routes_.find({request.method, request.path});
    // HEAD is served by the GET route (the server drops the body).
    if (it == routes_.end() && request.method == "HEAD") it = routes_.find({"GET", request.path});
    if (it != routes_.end()) return it->second(request);
    return xrpc_error(404, "NotFound", "no route for " + request.path);
  }
  std::string_view nsid = std::string_view(request.path).substr(kPrefix.size());
  if (nsid == "_health") {
    return HttpResponse::json(200, {{"version", options_.health_version}});
  }
  auto it = methods_.find(nsid);
  if (it == methods_.end()) {
    // [xrpc.status.not-implemented] The TypeScript reference answers every
    // unregistered method with 501
    // MethodNotImplemented; clients rely on that name.
    // https://atproto.com/specs/xrpc#summary-of-http-status-codes
    if (!syntax::validate_nsid(nsid).ok()) {
      return xrpc_error(400, "InvalidRequest", "not an NSID: " + std::string(nsid));
    }
    return xrpc_error(501, "MethodNotImplemented", "method not implemented: " + std::string(nsid));
  }
  const Method& method = it->second;
  // [xrpc.http.method] Queries are GET (HEAD too), procedures POST;
  // [sync.stream.http-errors] subscriptions are a GET upgraded to a
  // WebSocket, other methods get 405.
  const char* expected = method.type == MethodType::procedure ? "POST" : "GET";
  bool head_ok = method.type == MethodType::query && request.method == "HEAD";
  if (request.method != expected && !head_ok) {
    auto r = xrpc_error(405, "InvalidRequest",
                        "incorrect HTTP method " + request.method + ", expected " + expected);
    r.headers.emplace_back("allow", expected);
    return r;
  }
  for (const auto& spec : method.params) {
    auto problem = check_param(spec, request.query_params(spec.name));
    if (!problem.empty()) return xrpc_error(400, "InvalidRequest", problem);
  }
  if (options_.catalog) {
    if (auto refused = check_lexicon(*options_.catalog, nsid, method.type, request))
      return *refused;
  }
  return method.handler(request);
}

}  // namespace atproto::xrpc

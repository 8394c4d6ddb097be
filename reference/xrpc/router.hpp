// XRPC routing on top of HttpServer: `/xrpc/<nsid>` queries (GET) and
// procedures (POST), parameter checks, XRPC error bodies, CORS, and
// `/xrpc/_health`. Services (PLC directory, PDS) register their methods here.
// https://atproto.com/specs/xrpc#lexicon-http-endpoints
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "atproto/xrpc/http_server.hpp"

namespace atproto::lexicon {
class Catalog;
}

namespace atproto::xrpc {

enum class MethodType { query, procedure, subscription };

// A Lexicon `params` entry as the router checks it: the HTTP query string
// carries every value as text.
struct ParamSpec {
  enum class Kind { string, integer, boolean };
  std::string name;
  Kind kind = Kind::string;
  bool required = false;
  bool array = false;  // repeated parameter allowed
};

struct RouterOptions {
  bool cors = true;  // CORS is encouraged by the spec; on by default
  std::string cors_origin = "*";
  std::string health_version = "atproto-cpp";
  // When set (it must outlive the router), methods whose NSID the catalog
  // holds are checked against their Lexicon before the handler runs: query
  // parameters (lexicon::validate_params), the input's content type against
  // its declared encoding, and JSON inputs (lexicon::validate_input). A
  // failure is 400 InvalidRequest whose message starts with the rule's code.
  const lexicon::Catalog* catalog = nullptr;
};

class Router {
 public:
  explicit Router(RouterOptions options = {});

  // The NSID must be valid; registering one twice replaces the handler.
  Status query(std::string_view nsid, std::vector<ParamSpec> params, Handler handler);
  Status procedure(std::string_view nsid, std::vector<ParamSpec> params, Handler handler);
  // A subscription (GET with a WebSocket upgrade). The handler checks the
  // parameters and returns an HttpResponse whose `upgrade` is set, or an
  // error response (sent before the upgrade).
  // https://atproto.com/specs/event-stream
  Status subscription(std::string_view nsid, std::vector<ParamSpec> params, Handler handler);
  // A plain route outside /xrpc/ (e.g. "/.well-known/did.json"), exact path.
  void route(std::string method, std::string path, Handler handler);

  HttpResponse handle(const HttpRequest& request) const;
  // For HttpServer: a handler that calls handle() on this router, which must
  // outlive the server.
  Handler handler() const;

 private:
  struct Method {
    MethodType type;
    std::vector<ParamSpec> params;
    Handler handler;
  };
  Status add(std::string_view nsid, MethodType type, std::vector<ParamSpec> params,
             Handler handler);
  HttpResponse dispatch(const HttpRequest& request) const;
  void add_cors(HttpResponse& response) const;

  RouterOptions options_;
  std::map<std::string, Method, std::less<>> methods_;
  std::map<std::pair<std::string, std::string>, Handler> routes_;
};

}  // namespace atproto::xrpc

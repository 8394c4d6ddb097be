// A small HTTP/1.1 server on Boost.Beast: every service binary (PLC
// directory, PDS, relay) serves its routes through it; XRPC routing by NSID
// sits on top. Listens on 127.0.0.1 by default.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "atproto/common/result.hpp"
#include "atproto/xrpc/websocket.hpp"

namespace atproto::xrpc {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;                                      // "GET", "POST", ...
  std::string target;                                      // path and query as received
  std::string path;                                        // percent-decoded path, no query
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  HeaderList headers;                                      // names lowercased
  std::string body;
  std::string remote_address;
  // Set by the service once it has verified the request's access token:
  // the token's subject, so that a later step answering the same request
  // (the PDS's atproto-repo-rev header) need not verify it again.
  mutable std::string authenticated_did;

  std::optional<std::string> header(std::string_view name) const;       // first match
  std::optional<std::string> query_param(std::string_view name) const;  // first match
  std::vector<std::string> query_params(std::string_view name) const;   // all matches
};

struct HttpResponse {
  int status = 200;
  HeaderList headers;
  std::string body;
  // Set by a subscription handler: when the request is a WebSocket upgrade
  // the server accepts it (status, headers and body are then ignored) and
  // hands the connection to this callback; for a request that is not an
  // upgrade the server answers 426 (Upgrade Required, as the event-stream
  // spec asks) with an InvalidRequest error body instead.
  UpgradeCallback upgrade;

  static HttpResponse json(int status, const nlohmann::json& body);
  static HttpResponse text(int status, std::string body, std::string content_type);
};

// Called on a server thread for every request; must be thread-safe. An
// exception escaping it becomes a 500 with an XRPC error body (and is a bug).
using Handler = std::function<HttpResponse(const HttpRequest&)>;

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0: any free port
  std::size_t max_body_bytes = 1 << 20;
  std::size_t max_header_bytes = 16 * 1024;
  int threads = 2;
  // A read or write that takes longer closes the connection (checked every
  // quarter of it, at most every second, so it closes up to that much later).
  int read_timeout_ms = 30000;
  // Per WebSocket connection: bytes queued for a consumer before it is
  // dropped as too slow (see WebSocketConnection::send_binary).
  std::size_t max_queued_bytes = 64 << 20;
};

class HttpServer {
 public:
  HttpServer(ServerOptions options, Handler handler);
  ~HttpServer();  // stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens and serves on background threads; returns the bound port.
  Result<std::uint16_t> start();
  // Graceful: stops accepting, lets requests in flight finish, joins threads.
  void stop();
  std::uint16_t port() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// The XRPC error envelope: {"error": <name>, "message": <message>}.
// https://atproto.com/specs/xrpc#error-responses
HttpResponse xrpc_error(int status, std::string_view error, std::string_view message);

}  // namespace atproto::xrpc

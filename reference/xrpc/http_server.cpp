// HttpServer on Boost.Beast: one asynchronous session per connection, a pool
// of io threads, request limits answered with XRPC error bodies.
// https://atproto.com/specs/xrpc#summary-of-http-status-codes
#include "atproto/xrpc/http_server.hpp"

#include <algorithm>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <chrono>
#include <exception>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "atproto/xrpc/url.hpp"

namespace atproto::xrpc {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

std::optional<std::string> HttpRequest::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return v;
  return std::nullopt;
}

std::optional<std::string> HttpRequest::query_param(std::string_view name) const {
  for (const auto& [k, v] : query)
    if (k == name) return v;
  return std::nullopt;
}

std::vector<std::string> HttpRequest::query_params(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : query)
    if (k == name) out.push_back(v);
  return out;
}

HttpResponse HttpResponse::json(int status, const nlohmann::json& body) {
  HttpResponse r;
  r.status = status;
  r.headers.emplace_back("content-type", "application/json; charset=utf-8");
  // Replace invalid UTF-8 instead of throwing: a response must always go out.
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

HttpResponse HttpResponse::text(int status, std::string body, std::string content_type) {
  HttpResponse r;
  r.status = status;
  r.headers.emplace_back("content-type", std::move(content_type));
  r.body = std::move(body);
  return r;
}

// [xrpc.error.body] {"error": <name>, "message": <text>} with a JSON content type.
HttpResponse xrpc_error(int status, std::string_view error, std::string_view message) {
  return HttpResponse::json(status, nlohmann::json{{"error", error}, {"message", message}});
}

namespace {

class Session;

// The server's shared state; HttpServer::State is private, so sessions see it
// through this base.
struct ServerCore {
  ServerOptions options;
  Handler handler;
  asio::io_context ioc;
  std::optional<tcp::acceptor> acceptor;
  std::vector<std::thread> threads;
  std::atomic<bool> stopping{false};
  std::atomic<std::uint16_t> port{0};
  std::mutex mu;  // guards sessions
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;
  bool running = false;

  void do_accept();
};

}  // namespace

struct HttpServer::State : ServerCore {};

namespace {

// One connection. All its handlers run on its strand; the user handler runs
// synchronously on that strand (so it occupies one io thread while it works).
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, ServerCore& server) : stream_(std::move(socket)), server_(server) {}

  void start() {
    {
      std::lock_guard lock(server_.mu);
      server_.sessions.emplace(this, weak_from_this());
    }
    beast::error_code ec;
    auto ep = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ = ep.address().to_string();
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->do_read(); });
  }

  ~Session() {
    std::lock_guard lock(server_.mu);
    server_.sessions.erase(this);
  }

  // Called by stop(): an idle connection (waiting for a request) is closed
  // now; a busy one closes after its response is written.
  void shutdown_if_idle() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] {
      if (self->reading_) {
        beast::error_code ec;
        self->stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
        self->stream_.socket().close(ec);
      }
    });
  }

 private:
  void do_read() {
    if (server_.stopping) return close();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(server_.options.max_header_bytes, UINT32_MAX)));
    parser_->body_limit(server_.options.max_body_bytes);
    stream_.expires_after(std::chrono::milliseconds(server_.options.read_timeout_ms));
    reading_ = true;
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    reading_ = false;
    if (ec == http::error::end_of_stream || ec == asio::error::operation_aborted ||
        ec == beast::error::timeout || server_.stopping) {
      return close();
    }
    if (ec == http::error::body_limit) {
      return send_error(xrpc_error(
          413, "PayloadTooLarge",
          "request body exceeds " + std::to_string(server_.options.max_body_bytes) + " bytes"));
    }
    if (ec == http::error::header_limit) {
      return send_error(xrpc_error(
          431, "RequestHeaderFieldsTooLarge",
          "request headers exceed " + std::to_string(server_.options.max_header_bytes) + " bytes"));
    }
    if (ec) {
      // Malformed HTTP: answer 400 when the socket still works, then close.
      if (ec.category() == http::make_error_code(http::error::bad_method).category())
        return send_error(xrpc_error(400, "InvalidRequest", "malformed HTTP request"));
      return close();
    }
    handle(parser_->release());
  }

  void handle(http::request<http::string_body> req) {
    keep_alive_ = req.keep_alive();
    HttpResponse response;
    HttpRequest request;
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    request.remote_address = remote_;
    for (const auto& field : req) {
      request.headers.emplace_back(
          lowercase(std::string_view(field.name_string().data(), field.name_string().size())),
          std::string(field.value()));
    }
    request.body = std::move(req.body());
    auto target = split_target(request.target);
    if (!target.ok()) {
      response = xrpc_error(400, "InvalidRequest", target.error().message);
    } else {
      request.path = std::move(target.value().path);
      request.query = std::move(target.value().query);
      try {
        response = server_.handler(request);
      } catch (const std::exception& e) {
        response = xrpc_error(500, "InternalServerError", "internal error");
      } catch (...) {
        response = xrpc_error(500, "InternalServerError", "internal error");
      }
    }
    send(std::move(response), keep_alive_ && !server_.stopping);
  }

  void send_error(HttpResponse response) {
    // After a limit error the rest of the request is unread: close after.
    send(std::move(response), false);
  }

  void send(HttpResponse response, bool keep_alive) {
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(11);
    res->result(static_cast<unsigned>(response.status));
    for (auto& [k, v] : response.headers) res->insert(k, v);
    res->body() = std::move(response.body);
    res->keep_alive(keep_alive);
    res->prepare_payload();
    stream_.expires_after(std::chrono::milliseconds(server_.options.read_timeout_ms));
    http::async_write(
        stream_, *res,
        [self = shared_from_this(), res, keep_alive](beast::error_code ec, std::size_t) {
          if (ec || !keep_alive) return self->close();
          self->do_read();
        });
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  ServerCore& server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string remote_;
  bool reading_ = false;
  bool keep_alive_ = false;
};

}  // namespace

void ServerCore::do_accept() {
  acceptor->async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || stopping) return;
    if (!ec) std::make_shared<Session>(std::move(socket), *this)->start();
    do_accept();
  });
}

HttpServer::HttpServer(ServerOptions options, Handler handler) : state_(new State) {
  state_->options = std::move(options);
  state_->handler = std::move(handler);
}

HttpServer::~HttpServer() { stop(); }

Result<std::uint16_t> HttpServer::start() {
  auto& s = *state_;
  if (s.running) return s.port.load();
  beast::error_code ec;
  auto address = asio::ip::make_address(s.options.host, ec);
  if (ec) return make_error("xrpc.server.address", "not an IP address: " + s.options.host);
  tcp::endpoint endpoint(address, s.options.port);
  s.acceptor.emplace(s.ioc);
  if (s.acceptor->open(endpoint.protocol(), ec) ||
      s.acceptor->set_option(asio::socket_base::reuse_address(true), ec) ||
      s.acceptor->bind(endpoint, ec) ||
      s.acceptor->listen(asio::socket_base::max_listen_connections, ec)) {
    s.acceptor.reset();
    return make_error("xrpc.server.listen", "cannot listen on " + s.options.host + ":" +
                                                std::to_string(s.options.port) + ": " +
                                                ec.message());
  }
  s.port = s.acceptor->local_endpoint().port();
  s.stopping = false;
  s.ioc.restart();
  s.do_accept();
  int n = std::max(1, s.options.threads);
  for (int i = 0; i < n; ++i) s.threads.emplace_back([&s] { s.ioc.run(); });
  s.running = true;
  return s.port.load();
}

void HttpServer::stop() {
  auto& s = *state_;
  if (!s.running) return;
  s.stopping = true;
  asio::post(s.ioc, [&s] {
    beast::error_code ec;
    s.acceptor->close(ec);
  });
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard lock(s.mu);
    for (auto& [_, weak] : s.sessions)
      if (auto p = weak.lock()) live.push_back(std::move(p));
  }
  for (auto& session : live) session->shutdown_if_idle();
  live.clear();
  // Sessions in flight finish their response and then close; when no work
  // is left, run() returns on every thread.
  for (auto& t : s.threads) t.join();
  s.threads.clear();
  s.acceptor.reset();
  s.running = false;
}

std::uint16_t HttpServer::port() const { return state_->port.load(); }

}  // namespace atproto::xrpc

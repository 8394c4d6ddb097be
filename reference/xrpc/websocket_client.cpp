// WebSocketClient: a blocking ws:// / wss:// client on Beast for stream
// consumers. Addresses are resolved and vetted by the identity layer's
// fetch policy (private addresses refused unless allowed) and the
// connection goes to a vetted address only.
// https://atproto.com/specs/event-stream#connection
#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <cctype>
#include <chrono>
#include <functional>

#include "atproto/xrpc/websocket.hpp"

namespace atproto::xrpc {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// Runs `ioc` until `done` or `deadline`. On the deadline, `cancel` closes
// the socket and the aborted handlers are drained; the answer is false.
bool run_until(asio::io_context& ioc, const bool& done, Clock::time_point deadline,
               const std::function<void()>& cancel) {
  while (!done) {
    ioc.restart();
    if (ioc.run_one_until(deadline) == 0 && !done && Clock::now() >= deadline) {
      cancel();
      ioc.restart();
      ioc.run();
      return false;
    }
  }
  return true;
}

Error timeout_error() {
  return make_error("fetch.timeout", "the WebSocket connection was not set up in time");
}

template <typename Stream>
class Client final : public WebSocketClient {
 public:
  Client(std::unique_ptr<asio::io_context> ioc, std::unique_ptr<ssl::context> tls,
         std::unique_ptr<Stream> ws)
      : ioc_(std::move(ioc)), tls_(std::move(tls)), ws_(std::move(ws)) {}
  ~Client() override { shut(); }

  Result<std::optional<std::vector<std::uint8_t>>> read(int timeout_ms) override {
    if (closed_) return make_error("xrpc.ws.closed", "the connection is closed");
    if (!read_pending_) {
      // A read that timed out stays pending and is picked up here, so a
      // timeout never loses or splits a message.
      read_pending_ = true;
      read_done_ = false;
      buffer_.clear();
      ws_->async_read(buffer_, [this](beast::error_code ec, std::size_t) {
        read_ec_ = ec;
        read_done_ = true;
      });
    }
    auto deadline = Clock::now() + std::chrono::milliseconds(std::max(0, timeout_ms));
    while (!read_done_) {
      ioc_->restart();
      if (ioc_->run_one_until(deadline) == 0 && !read_done_ && Clock::now() >= deadline)
        return make_error("xrpc.ws.timeout",
                          "no message within " + std::to_string(timeout_ms) + " ms");
    }
    read_pending_ = false;
    if (!read_ec_) {
      auto data = buffer_.cdata();
      auto* p = static_cast<const std::uint8_t*>(data.data());
      return std::optional<std::vector<std::uint8_t>>(
          std::vector<std::uint8_t>(p, p + data.size()));
    }
    closed_ = true;
    if (read_ec_ == websocket::error::closed) {
      close_code_ = static_cast<std::uint16_t>(ws_->reason().code);
      close_reason_ = std::string(ws_->reason().reason.c_str());
      return std::optional<std::vector<std::uint8_t>>();
    }
    if (read_ec_ == websocket::error::message_too_big)
      return make_error("xrpc.ws.too-large", "a message exceeds the size limit");
    if (read_ec_.category() == websocket::make_error_code(websocket::error::closed).category())
      return make_error("xrpc.ws.protocol", "WebSocket protocol error: " + read_ec_.message());
    return make_error("xrpc.ws.connection", "the connection ended: " + read_ec_.message());
  }

  Status handshake(const identity::ParsedUrl& url, const WebSocketClientOptions& options,
                   Clock::time_point deadline) {
    auto& ws = *ws_;
    ws.read_message_max(options.max_message_bytes);
    ws.binary(true);
    ws.set_option(websocket::stream_base::decorator(
        [](websocket::request_type& req) { req.set(http::field::user_agent, "atproto-cpp"); }));
    bool v6 = url.host.find(':') != std::string::npos;
    std::string host = v6 ? "[" + url.host + "]" : url.host;
    bool default_port =
        (url.scheme == "https" && url.port == 443) || (url.scheme == "http" && url.port == 80);
    if (!default_port) host += ":" + std::to_string(url.port);
    websocket::response_type response;
    bool done = false;
    beast::error_code ec;
    ws.async_handshake(response, host, url.target, [&](beast::error_code e) {
      ec = e;
      done = true;
    });
    auto cancel = [&] {
      beast::error_code ignored;
      beast::get_lowest_layer(ws).socket().close(ignored);
    };
    closed_ = true;  // until the handshake succeeds, nothing to close
    if (!run_until(*ioc_, done, deadline, cancel)) return timeout_error();
    if (ec) {
      // [xrpc.ws.upgrade] Failing to upgrade is an error for the client; the
      // server's status and error body say why.
      if (response.result_int() != 0 && response.result_int() != 101) {
        return make_error("xrpc.ws.handshake", "the server answered the upgrade with HTTP " +
                                                   std::to_string(response.result_int()) + ": " +
                                                   response.body());
      }
      if (url.scheme == "https" && ec.category() == asio::error::get_ssl_category())
        return make_error("fetch.tls", "TLS error: " + ec.message());
      return make_error("xrpc.ws.handshake", "the WebSocket handshake failed: " + ec.message());
    }
    closed_ = false;
    return {};
  }

  std::optional<std::uint16_t> close_code() const override { return close_code_; }
  std::string close_reason() const override { return close_reason_; }
  void close() override { shut(); }

 private:
  // Sends a close frame and waits (two seconds at most) for the peer's.
  void shut() {
    if (shut_) return;
    shut_ = true;
    bool was_closed = closed_;
    closed_ = true;
    auto cancel = [this] {
      beast::error_code ignored;
      beast::get_lowest_layer(*ws_).socket().close(ignored);
    };
    auto deadline = Clock::now() + std::chrono::seconds(2);
    if (!was_closed && ws_->is_open()) {
      bool done = false;
      ws_->async_close(websocket::close_code::normal, [&done](beast::error_code) { done = true; });
      if (!run_until(*ioc_, done, deadline, cancel)) return;
    }
    if (read_pending_) run_until(*ioc_, read_done_, deadline, cancel);
    cancel();
    ioc_->restart();
    ioc_->run();
  }

  std::unique_ptr<asio::io_context> ioc_;
  std::unique_ptr<ssl::context> tls_;  // outlives the stream that uses it
  std::unique_ptr<Stream> ws_;
  beast::flat_buffer buffer_;
  beast::error_code read_ec_;
  bool read_pending_ = false;
  bool read_done_ = false;
  bool closed_ = false;
  bool shut_ = false;
  std::optional<std::uint16_t> close_code_;
  std::string close_reason_;
};

bool istarts_with(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  return true;
}

// Connects to the vetted addresses only: no second name lookup.
Status connect_tcp(asio::io_context& ioc, tcp::socket& socket,
                   const std::vector<tcp::endpoint>& endpoints, const identity::ParsedUrl& url,
                   Clock::time_point deadline) {
  bool done = false;
  beast::error_code ec;
  asio::async_connect(socket, endpoints, [&](beast::error_code e, const tcp::endpoint&) {
    ec = e;
    done = true;
  });
  auto cancel = [&] {
    beast::error_code ignored;
    socket.close(ignored);
  };
  if (!run_until(ioc, done, deadline, cancel)) return timeout_error();
  if (ec) return make_error("fetch.connect", "cannot connect to " + url.host + ": " + ec.message());
  socket.set_option(tcp::no_delay(true), ec);
  return {};
}

// The WebSocket handshake on a connected (and, for wss, TLS) stream. The
// client object owns the io_context, TLS context and stream from here on,
// so they are destroyed in the right order on every path.
template <typename Stream>
Result<std::unique_ptr<WebSocketClient>> handshake(std::unique_ptr<asio::io_context> ioc,
                                                   std::unique_ptr<ssl::context> tls,
                                                   std::unique_ptr<Stream> stream,
                                                   const identity::ParsedUrl& url,
                                                   const WebSocketClientOptions& options,
                                                   Clock::time_point deadline) {
  auto client = std::make_unique<Client<Stream>>(std::move(ioc), std::move(tls), std::move(stream));
  auto status = client->handshake(url, options, deadline);
  if (!status.ok()) return status.error();
  return std::unique_ptr<WebSocketClient>(std::move(client));
}

}  // namespace

Result<std::unique_ptr<WebSocketClient>> WebSocketClient::connect(
    std::string_view url, const WebSocketClientOptions& options) {
  std::string http_url;
  if (istarts_with(url, "ws://")) {
    http_url = "http://" + std::string(url.substr(5));
  } else if (istarts_with(url, "wss://")) {
    http_url = "https://" + std::string(url.substr(6));
  } else {
    return make_error("fetch.url", "not a ws:// or wss:// URL: " + std::string(url));
  }
  auto parsed = identity::parse_url(http_url);
  if (!parsed.ok()) return parsed.error();
  const auto& u = parsed.value();
  auto deadline = Clock::now() + std::chrono::milliseconds(options.connect_timeout_ms);

  auto addresses =
      identity::resolve_vetted(u.host, u.port, options.policy, options.connect_timeout_ms);
  if (!addresses.ok()) return addresses.error();
  std::vector<tcp::endpoint> endpoints;
  for (const auto& a : addresses.value()) endpoints.emplace_back(asio::ip::make_address(a), u.port);

  auto ioc = std::make_unique<asio::io_context>();
  if (u.scheme == "http") {
    auto ws = std::make_unique<websocket::stream<beast::tcp_stream>>(*ioc);
    auto connected =
        connect_tcp(*ioc, beast::get_lowest_layer(*ws).socket(), endpoints, u, deadline);
    if (!connected.ok()) return connected.error();
    return handshake(std::move(ioc), nullptr, std::move(ws), u, options, deadline);
  }

  beast::error_code ec;
  auto tls = std::make_unique<ssl::context>(ssl::context::tls_client);
  tls->set_default_verify_paths(ec);
  if (!options.policy.extra_ca_file.empty()) {
    tls->load_verify_file(options.policy.extra_ca_file, ec);
    if (ec) return make_error("fetch.tls", "cannot load CA file " + options.policy.extra_ca_file);
  }
  tls->set_verify_mode(ssl::verify_peer);
  using TlsStream = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;
  auto ws = std::make_unique<TlsStream>(*ioc, *tls);
  auto connected = connect_tcp(*ioc, beast::get_lowest_layer(*ws).socket(), endpoints, u, deadline);
  if (!connected.ok()) return connected.error();
  auto& tls_stream = ws->next_layer();
  beast::error_code literal_ec;
  asio::ip::make_address(u.host, literal_ec);
  if (literal_ec && !SSL_set_tlsext_host_name(tls_stream.native_handle(), u.host.c_str()))
    return make_error("fetch.tls", "cannot set the TLS server name");
  tls_stream.set_verify_callback(ssl::host_name_verification(u.host));
  bool done = false;
  tls_stream.async_handshake(ssl::stream_base::client, [&](beast::error_code e) {
    ec = e;
    done = true;
  });
  auto cancel = [&] {
    beast::error_code ignored;
    beast::get_lowest_layer(*ws).socket().close(ignored);
  };
  if (!run_until(*ioc, done, deadline, cancel)) return timeout_error();
  if (ec) return make_error("fetch.tls", "TLS handshake with " + u.host + ": " + ec.message());
  return handshake(std::move(ioc), std::move(tls), std::move(ws), u, options, deadline);
}

}  // namespace atproto::xrpc

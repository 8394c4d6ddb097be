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
#include <cctype>
#include <chrono>
#include <cstring>
#include <functional>
#include <span>
#include <type_traits>

#include <openssl/rand.h>
#include <openssl/sha.h>

#include "atproto/common/utf8.hpp"
#include "atproto/data/base64.hpp"
#include "atproto/xrpc/websocket.hpp"
#include "atproto/xrpc/websocket_frame.hpp"

namespace atproto::xrpc {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
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

// The frames of RFC 6455 section 5.2 the client reads and writes itself:
// Beast's websocket stream reads at most 1,536 bytes ahead of a message, so
// a stream of small messages cost one or two receive calls each; here one
// receive takes whatever the socket holds (up to kReadChunk), and the
// messages are cut out of that buffer.
constexpr std::size_t kReadChunk = 256 * 1024;
// Standard base64 with padding (the handshake's keys are padded).
std::string base64_padded(std::span<const std::uint8_t> bytes) {
  std::string out = data::base64_encode(bytes);
  while (out.size() % 4 != 0) out += '=';
  return out;
}

// Sec-WebSocket-Accept for a key (RFC 6455 section 4.2.2).
std::string accept_for(const std::string& key) {
  std::string text = key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  std::uint8_t digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  return base64_padded(digest);
}

// Whether a comma-separated header value holds `token` (case-insensitive).
bool has_token(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    auto comma = value.find(',');
    auto item = value.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item.size() == token.size() &&
        std::equal(item.begin(), item.end(), token.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        }))
      return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

template <typename Stream>
class Client final : public WebSocketClient {
 public:
  Client(std::unique_ptr<asio::io_context> ioc, std::unique_ptr<ssl::context> tls,
         std::unique_ptr<Stream> stream, std::size_t max_message_bytes)
      : ioc_(std::move(ioc)),
        tls_(std::move(tls)),
        stream_(std::move(stream)),
        max_message_(max_message_bytes) {}
  ~Client() override { shut(); }

  Result<std::optional<std::vector<std::uint8_t>>> read(int timeout_ms) override {
    if (closed_) return make_error("xrpc.ws.closed", "the connection is closed");
    auto deadline = Clock::now() + std::chrono::milliseconds(std::max(0, timeout_ms));
    while (true) {
      // One whole frame in the buffer: its header, then its payload.
      auto header = ws_frame::parse_header({in_.data() + begin_, end_ - begin_}, need_);
      if (header) {
        const auto& h = *header;
        // [xrpc.ws.upgrade] A server's frames are unmasked, use no extension
        // (none was asked for) and known opcodes; control frames are whole
        // and short (RFC 6455 sections 5.1, 5.2, 5.5).
        if (h.masked || !h.well_formed() ||
            (!h.control() && (h.opcode == ws_frame::kContinuation) != in_message_)) {
          return fail(1002, "a frame out of place");
        }
        if (!h.control() &&
            (h.length > max_message_ || message_.size() + h.length > max_message_)) {
          return fail(1009, "a message exceeds the size limit", "xrpc.ws.too-large");
        }
        need_ = h.size + static_cast<std::size_t>(h.length);
        if (end_ - begin_ >= need_) {
          const std::uint8_t* payload = in_.data() + begin_ + h.size;
          const auto length = static_cast<std::size_t>(h.length);
          begin_ += need_;
          if (begin_ == end_) begin_ = end_ = 0;
          if (h.control()) {
            auto answer = on_control(h.opcode, payload, length);
            if (answer) return std::move(*answer);
            continue;
          }
          if (h.opcode != ws_frame::kContinuation) message_text_ = h.opcode == ws_frame::kText;
          std::vector<std::uint8_t> out;
          if (!in_message_ && h.fin) {
            out.assign(payload, payload + length);  // the usual case: one frame, one copy
          } else {
            message_.insert(message_.end(), payload, payload + length);
            in_message_ = !h.fin;
            if (in_message_) continue;
            out = std::move(message_);
            message_ = {};
          }
          if (message_text_ && !utf8::is_valid(std::string_view(
                                   reinterpret_cast<const char*>(out.data()), out.size()))) {
            return fail(1007, "a text message that is not UTF-8");
          }
          return std::optional<std::vector<std::uint8_t>>(std::move(out));
        }
      }
      // Not a whole frame yet: read more.
      beast::error_code ec;
      if (!fill(deadline, ec)) {
        return make_error("xrpc.ws.timeout",
                          "no message within " + std::to_string(timeout_ms) + " ms");
      }
      if (ec) {
        closed_ = true;
        return make_error("xrpc.ws.connection", "the connection ended: " + ec.message());
      }
    }
  }

  Status handshake(const identity::ParsedUrl& url, const WebSocketClientOptions& options,
                   Clock::time_point deadline) {
    (void)options;
    bool v6 = url.host.find(':') != std::string::npos;
    std::string host = v6 ? "[" + url.host + "]" : url.host;
    bool default_port =
        (url.scheme == "https" && url.port == 443) || (url.scheme == "http" && url.port == 80);
    if (!default_port) host += ":" + std::to_string(url.port);
    std::uint8_t nonce[16];
    if (RAND_bytes(nonce, sizeof nonce) != 1) {
      return make_error("xrpc.ws.handshake", "no random bytes for the WebSocket key");
    }
    const std::string key = base64_padded(nonce);
    http::request<http::empty_body> request{http::verb::get, url.target, 11};
    request.set(http::field::host, host);
    request.set(http::field::upgrade, "websocket");
    request.set(http::field::connection, "Upgrade");
    request.set(http::field::sec_websocket_key, key);
    request.set(http::field::sec_websocket_version, "13");
    request.set(http::field::user_agent, "atproto-cpp");
    closed_ = true;  // until the handshake succeeds, nothing to close
    auto cancel = [this] { close_socket(); };
    bool done = false;
    beast::error_code ec;
    http::async_write(*stream_, request, [&](beast::error_code e, std::size_t) {
      ec = e;
      done = true;
    });
    if (!run_until(*ioc_, done, deadline, cancel)) return timeout_error();
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024);
    if (!ec) {
      done = false;
      http::async_read(*stream_, buffer, parser, [&](beast::error_code e, std::size_t) {
        ec = e;
        done = true;
      });
      if (!run_until(*ioc_, done, deadline, cancel)) return timeout_error();
    }
    if (ec) {
      if (url.scheme == "https" && ec.category() == asio::error::get_ssl_category())
        return make_error("fetch.tls", "TLS error: " + ec.message());
      return make_error("xrpc.ws.handshake", "the WebSocket handshake failed: " + ec.message());
    }
    const auto& response = parser.get();
    // [xrpc.ws.upgrade] Failing to upgrade is an error for the client; the
    // server's status and error body say why.
    if (response.result_int() != 101) {
      return make_error("xrpc.ws.handshake", "the server answered the upgrade with HTTP " +
                                                 std::to_string(response.result_int()) + ": " +
                                                 response.body());
    }
    auto field = [&](http::field f) {
      auto it = response.find(f);
      return it == response.end() ? std::string_view()
                                  : std::string_view(it->value().data(), it->value().size());
    };
    if (!has_token(field(http::field::upgrade), "websocket") ||
        !has_token(field(http::field::connection), "upgrade") ||
        field(http::field::sec_websocket_accept) != accept_for(key) ||
        response.find(http::field::sec_websocket_extensions) != response.end()) {
      return make_error("xrpc.ws.handshake",
                        "the WebSocket handshake failed: the server's 101 answer does not accept "
                        "the upgrade (RFC 6455 section 4.1)");
    }
    // Frames the server sent right after its answer were read with it.
    in_.resize(std::max(kReadChunk, buffer.size()));
    auto leftover = buffer.cdata();
    std::memcpy(in_.data(), leftover.data(), leftover.size());
    begin_ = 0;
    end_ = leftover.size();
    closed_ = false;
    return {};
  }

  std::optional<std::uint16_t> close_code() const override { return close_code_; }
  std::string close_reason() const override { return close_reason_; }
  void close() override { shut(); }

 private:
  // Reads more bytes (at least need_ - (end_ - begin_) of room) before the
  // deadline; false on the deadline. A read that timed out stays pending
  // and is picked up by the next call, so a timeout loses nothing.
  bool fill(Clock::time_point deadline, beast::error_code& ec) {
    if (!fill_pending_) {
      if (begin_ > 0 && (in_.size() - begin_ < std::max(need_, kReadChunk / 2))) {
        std::memmove(in_.data(), in_.data() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
      }
      if (in_.size() - begin_ < need_) in_.resize(begin_ + need_);
      if (in_.size() < kReadChunk) in_.resize(kReadChunk);
      fill_pending_ = true;
      fill_done_ = false;
      stream_->async_read_some(asio::buffer(in_.data() + end_, in_.size() - end_),
                               [this](beast::error_code e, std::size_t n) {
                                 fill_ec_ = e;
                                 end_ += n;
                                 fill_done_ = true;
                               });
    }
    while (!fill_done_) {
      ioc_->restart();
      if (ioc_->run_one_until(deadline) == 0 && !fill_done_ && Clock::now() >= deadline) {
        return false;
      }
    }
    fill_pending_ = false;
    ec = fill_ec_;
    return true;
  }

  // Writes one masked frame from the client (RFC 6455 section 5.3) within
  // `deadline`; false when it could not be written.
  bool send_frame(std::uint8_t opcode, std::span<const std::uint8_t> payload,
                  Clock::time_point deadline) {
    std::uint8_t mask[4];
    if (RAND_bytes(mask, sizeof mask) != 1) return false;
    std::vector<std::uint8_t> frame(ws_frame::kMaxHeaderBytes + payload.size());
    std::size_t n = ws_frame::write_header(frame.data(), opcode, payload.size(), mask);
    for (std::size_t i = 0; i < payload.size(); ++i) frame[n++] = payload[i] ^ mask[i % 4];
    frame.resize(n);
    bool done = false;
    beast::error_code ec;
    asio::async_write(*stream_, asio::buffer(frame), [&](beast::error_code e, std::size_t) {
      ec = e;
      done = true;
    });
    if (!run_until(*ioc_, done, deadline, [this] { close_socket(); })) return false;
    return !ec;
  }

  // A ping is answered, a pong ignored, a close answered and the
  // connection ended (nullopt to the reader).
  std::optional<Result<std::optional<std::vector<std::uint8_t>>>> on_control(
      std::uint8_t opcode, const std::uint8_t* payload, std::size_t length) {
    auto soon = Clock::now() + std::chrono::seconds(2);
    if (opcode == ws_frame::kPing) {
      if (!send_frame(ws_frame::kPong, {payload, length}, soon)) {
        closed_ = true;
        return Result<std::optional<std::vector<std::uint8_t>>>(
            make_error("xrpc.ws.connection", "the connection ended while answering a ping"));
      }
      return std::nullopt;
    }
    if (opcode == ws_frame::kPong) return std::nullopt;
    std::uint16_t code = 0;  // none given
    std::string_view reason;
    if (length == 1) return fail(1002, "a close frame of one byte");
    if (length >= 2) {
      code = static_cast<std::uint16_t>(payload[0] << 8 | payload[1]);
      reason = std::string_view(reinterpret_cast<const char*>(payload + 2), length - 2);
      if (!ws_frame::valid_close_code(code) || !utf8::is_valid(reason)) {
        return fail(1002, "a close frame with a bad code or reason");
      }
    }
    close_code_ = code;
    close_reason_ = std::string(reason);
    closed_ = true;
    // The peer's close is answered with its code (RFC 6455 section 5.5.1).
    std::uint8_t echo[2] = {static_cast<std::uint8_t>(code >> 8),
                            static_cast<std::uint8_t>(code & 0xFF)};
    (void)send_frame(ws_frame::kClose, {echo, code == 0 ? 0u : 2u}, soon);
    finish_transport(soon);
    return Result<std::optional<std::vector<std::uint8_t>>>(
        std::optional<std::vector<std::uint8_t>>());
  }

  // A protocol failure: a close frame with `code` (best effort), then the
  // connection ends.
  Result<std::optional<std::vector<std::uint8_t>>> fail(std::uint16_t code, const std::string& what,
                                                        const char* error = "xrpc.ws.protocol") {
    closed_ = true;
    auto soon = Clock::now() + std::chrono::seconds(1);
    if (!fill_pending_) {
      std::uint8_t bytes[2] = {static_cast<std::uint8_t>(code >> 8),
                               static_cast<std::uint8_t>(code & 0xFF)};
      (void)send_frame(ws_frame::kClose, bytes, soon);
    }
    close_socket();
    drain();
    if (std::string_view(error) == "xrpc.ws.too-large") {
      return make_error(error, "a message exceeds the size limit");
    }
    return make_error(error, "WebSocket protocol error: " + what);
  }

  // Ends TLS (best effort, until `deadline`) and closes the socket.
  void finish_transport(Clock::time_point deadline) {
    if constexpr (!std::is_same_v<Stream, beast::tcp_stream>) {
      if (!fill_pending_) {
        bool done = false;
        stream_->async_shutdown([&done](beast::error_code) { done = true; });
        run_until(*ioc_, done, deadline, [this] { close_socket(); });
      }
    } else {
      (void)deadline;
    }
    close_socket();
    drain();
  }

  void close_socket() {
    beast::error_code ignored;
    beast::get_lowest_layer(*stream_).socket().close(ignored);
  }

  // Lets aborted handlers run, so that nothing refers to this object later.
  void drain() {
    ioc_->restart();
    ioc_->run();
    fill_pending_ = false;
  }

  // Sends a close frame and waits (two seconds at most) for the peer's.
  void shut() {
    if (shut_) return;
    shut_ = true;
    bool was_closed = closed_;
    closed_ = true;
    auto deadline = Clock::now() + std::chrono::seconds(2);
    if (!was_closed && beast::get_lowest_layer(*stream_).socket().is_open()) {
      std::uint8_t normal[2] = {0x03, 0xE8};  // 1000
      if (send_frame(ws_frame::kClose, normal, deadline)) {
        // Frames still on their way are skipped until the peer's close.
        while (true) {
          auto next = read_after_close(deadline);
          if (!next) break;
        }
      }
    }
    finish_transport(deadline);
  }

  // Skips one frame (false at the peer's close, an error or the deadline).
  bool read_after_close(Clock::time_point deadline) {
    while (true) {
      auto header = ws_frame::parse_header({in_.data() + begin_, end_ - begin_}, need_);
      if (header) {
        if (header->length > max_message_) return false;
        need_ = header->size + static_cast<std::size_t>(header->length);
        if (end_ - begin_ >= need_) {
          begin_ += need_;
          return header->opcode != ws_frame::kClose;
        }
      }
      beast::error_code ec;
      if (!fill(deadline, ec) || ec) return false;
    }
  }

  std::unique_ptr<asio::io_context> ioc_;
  std::unique_ptr<ssl::context> tls_;  // outlives the stream that uses it
  std::unique_ptr<Stream> stream_;
  const std::size_t max_message_;
  // Bytes read and not yet taken: in_[begin_, end_).
  std::vector<std::uint8_t> in_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  std::size_t need_ = 2;               // bytes of the next frame known to be needed
  std::vector<std::uint8_t> message_;  // a fragmented message so far
  bool in_message_ = false;
  bool message_text_ = false;
  bool fill_pending_ = false;
  bool fill_done_ = false;
  beast::error_code fill_ec_;
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
  auto client = std::make_unique<Client<Stream>>(std::move(ioc), std::move(tls), std::move(stream),
                                                 options.max_message_bytes);
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
    auto ws = std::make_unique<beast::tcp_stream>(*ioc);
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
  using TlsStream = beast::ssl_stream<beast::tcp_stream>;
  auto ws = std::make_unique<TlsStream>(*ioc, *tls);
  auto connected = connect_tcp(*ioc, beast::get_lowest_layer(*ws).socket(), endpoints, u, deadline);
  if (!connected.ok()) return connected.error();
  auto& tls_stream = *ws;
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

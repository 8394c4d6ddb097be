// WebSockets for XRPC subscriptions (the firehose and its kin): the server
// side handed to a subscription handler, and a client for consumers (the
// relay, the PDS suite, tests).
// https://atproto.com/specs/event-stream#streaming-wire-protocol-v0
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "atproto/common/result.hpp"
#include "atproto/identity/fetch.hpp"

namespace atproto::xrpc {

// The server side of one accepted WebSocket connection. Thread-safe: a
// service's fan-out thread calls send_binary while the io threads write.
class WebSocketConnection {
 public:
  virtual ~WebSocketConnection() = default;

  // Queues one binary message and returns at once; never blocks the caller.
  // Returns false when the connection is closed, or when the messages queued
  // and not yet written exceed the server's max_queued_bytes: then the
  // connection is closed (a consumer too slow to keep up is dropped, never
  // allowed to stall the producer; it may reconnect with a cursor).
  virtual bool send_binary(std::vector<std::uint8_t> message) = 0;
  // Queues binary messages that may be shared with other connections (a
  // fan-out sends one frame to many consumers without copying it), in
  // order, under the same rule as send_binary; returns how many were
  // queued (fewer than given once the connection is closed or dropped).
  // One wake-up of the writer for all of them. This default copies each
  // into send_binary.
  virtual std::size_t send_shared(
      std::span<const std::shared_ptr<const std::vector<std::uint8_t>>> messages) {
    std::size_t queued = 0;
    for (const auto& m : messages) {
      if (!send_binary(*m)) break;
      ++queued;
    }
    return queued;
  }
  // Sends the queued messages, then a close frame with `code` and `reason`.
  virtual void close(std::uint16_t code = 1000, std::string reason = "") = 0;
  virtual bool is_open() const = 0;
  virtual std::size_t queued_bytes() const = 0;
  // Called once, on an io thread, when the connection has ended for any
  // reason (peer close, error, close(), server stop, slow-consumer drop).
  // Set it in the upgrade callback, before the first send.
  virtual void on_close(std::function<void()> callback) = 0;
  virtual std::string remote_address() const = 0;
};

// A subscription handler's answer: HttpResponse::upgrade (http_server.hpp)
// receives the accepted connection.
using UpgradeCallback = std::function<void(std::shared_ptr<WebSocketConnection>)>;

struct WebSocketClientOptions {
  int connect_timeout_ms = 10000;
  std::size_t max_message_bytes = 8 << 20;
  identity::FetchPolicy policy;  // which addresses may be contacted
};

// A blocking WebSocket client: one reader thread at a time.
class WebSocketClient {
 public:
  // ws:// and wss:// URLs (path and query included). Error codes:
  // "fetch.url", "fetch.address-refused", "fetch.dns", "fetch.connect",
  // "fetch.timeout", "fetch.tls", "xrpc.ws.handshake" (the server answered
  // the upgrade with an HTTP status: the status and body are in the message).
  static Result<std::unique_ptr<WebSocketClient>> connect(std::string_view url,
                                                          const WebSocketClientOptions& options);
  virtual ~WebSocketClient() = default;

  // The next binary (or text) message; nullopt once the peer closed the
  // connection normally. Error codes: "xrpc.ws.timeout" (nothing within
  // timeout_ms; the connection stays usable: the next read continues the
  // same wait), "xrpc.ws.closed" (read after close, or after an earlier
  // read ended the connection), "xrpc.ws.protocol", "xrpc.ws.too-large",
  // "xrpc.ws.connection" (the connection ended without a close frame, as
  // when a server drops a slow consumer).
  virtual Result<std::optional<std::vector<std::uint8_t>>> read(int timeout_ms) = 0;
  // The close code and reason the peer sent, once read() returned nullopt.
  virtual std::optional<std::uint16_t> close_code() const = 0;
  virtual std::string close_reason() const = 0;
  virtual void close() = 0;
};

}  // namespace atproto::xrpc

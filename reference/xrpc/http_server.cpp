// HttpServer on Boost.Beast: one asynchronous session per connection, a pool
// of io threads sharing one io_context, request limits answered with XRPC
// error bodies.
// https://atproto.com/specs/xrpc#summary-of-http-status-codes
#include "atproto/xrpc/http_server.hpp"

#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <cctype>
#include <chrono>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <span>
#include <thread>
#include <unordered_map>

#include "atproto/xrpc/url.hpp"
#include "atproto/xrpc/websocket_frame.hpp"

namespace atproto::xrpc {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
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
class WsConnection;

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
  std::unordered_map<WsConnection*, std::weak_ptr<WsConnection>> websockets;
  bool running = false;
  // Idle and stalled connections are closed by a periodic sweep over the
  // sessions instead of a timer per read and write (with Beast's timed
  // stream that was two timer system calls and a cancelled wait, handed to
  // another thread, per request).
  std::optional<asio::steady_timer> sweep_timer;

  void do_accept();
  void sweep();
  std::chrono::milliseconds sweep_period() const {
    // A connection is closed between read_timeout_ms and a quarter more.
    return std::chrono::milliseconds(std::clamp(options.read_timeout_ms / 4, 5, 1000));
  }
};

}  // namespace

struct HttpServer::State : ServerCore {};

namespace {

// One accepted WebSocket connection (the server side of a subscription).
//
// Beast does the opening handshake; after it the connection reads and
// writes its frames itself (websocket_frame.hpp): every message queued when
// the writer wakes goes out in one gathered write (Beast writes one message
// per call, one system call per message of a firehose), and client frames
// are read from one buffer.
//
// Every operation on the socket runs on the connection's strand. The send
// queue is guarded by a mutex so that any thread may call send_binary; it
// posts the first write and returns, never waiting for the network.
//
// The stream and its executor live in optionals that are released on the
// strand once the connection has ended and no operation is pending: a
// service may keep its shared_ptr after the server (and its io_context) is
// gone, and then holds no Asio object.
class WsConnection : public WebSocketConnection, public std::enable_shared_from_this<WsConnection> {
 public:
  using Stream = websocket::stream<beast::tcp_stream>;
  using Executor = Stream::executor_type;

  // Subscribers send nothing of substance; a bigger message from one is refused.
  static constexpr std::size_t kMaxClientMessage = 64 * 1024;
  // At most this many messages (and about this many bytes) per gathered write.
  static constexpr std::size_t kBatchMessages = 256;
  static constexpr std::size_t kBatchBytes = 1 << 20;
  // A client silent for half of kIdle is pinged; for all of it, dropped.
  static constexpr std::chrono::seconds kIdle{300};

  WsConnection(beast::tcp_stream stream, ServerCore& server, std::string remote)
      : server_(&server), max_queued_(server.options.max_queued_bytes), remote_(std::move(remote)) {
    stream_.emplace(std::move(stream));
    executor_.emplace(stream_->get_executor());
    timer_.emplace(*executor_);
    idle_timer_.emplace(*executor_);
  }

  // Completes the opening handshake on `request`, then hands the connection
  // to `callback`.
  void accept(http::request<http::string_body> request, UpgradeCallback callback) {
    beast::get_lowest_layer(*stream_).expires_never();
    // Only the handshake is timed by Beast: after it Beast does no I/O on
    // this stream (its keep-alive pings would interleave with our writes);
    // the idle check is ours (check_idle).
    websocket::stream_base::timeout timeouts{std::chrono::seconds(10),
                                             websocket::stream_base::none(), false};
    stream_->set_option(timeouts);
    auto req = std::make_shared<http::request<http::string_body>>(std::move(request));
    reading_ = true;  // the handshake holds the stream like a read
    stream_->async_accept(*req, [self = shared_from_this(), req,
                                 callback = std::move(callback)](beast::error_code ec) {
      self->reading_ = false;
      if (ec) return self->finish();
      self->on_accepted(callback);
    });
  }

  bool send_binary(std::vector<std::uint8_t> message) override {
    auto shared = std::make_shared<const std::vector<std::uint8_t>>(std::move(message));
    return send_shared({&shared, 1}) == 1;
  }

  std::size_t send_shared(
      std::span<const std::shared_ptr<const std::vector<std::uint8_t>>> messages) override {
    std::unique_lock lock(mu_);
    std::size_t queued = 0;
    for (const auto& message : messages) {
      if (!open_) break;
      if (queued_bytes_ + message->size() > max_queued_) {
        // [xrpc.ws.slow-consumer] Too far behind: dropped, never waited for.
        open_ = false;
        queue_.clear();
        asio::post(*executor_, [self = shared_from_this()] { self->drop(); });
        return queued;
      }
      queued_bytes_ += message->size();
      queue_.push_back(message);
      ++queued;
    }
    if (queued > 0 && accepted_ && !writing_) {
      writing_ = true;
      asio::post(*executor_, [self = shared_from_this()] { self->write_next(); });
    }
    return queued;
  }

  void close(std::uint16_t code, std::string reason) override {
    request_close(code, std::move(reason), /*flush=*/true, std::chrono::seconds(10));
  }

  // Server stop: the queue is dropped, a going-away close frame is sent, and
  // the socket is closed after a short grace period whatever the peer does.
  void shutdown() {
    request_close(websocket::close_code::going_away, "server shutting down", /*flush=*/false,
                  std::chrono::milliseconds(1000));
  }

  bool is_open() const override {
    std::lock_guard lock(mu_);
    return open_;
  }

  std::size_t queued_bytes() const override {
    std::lock_guard lock(mu_);
    return queued_bytes_;
  }

  void on_close(std::function<void()> callback) override {
    std::unique_lock lock(mu_);
    if (!finished_) {
      on_close_ = std::move(callback);
      return;
    }
    // Already ended (the callback came late): run it now, still only once.
    lock.unlock();
    if (callback) callback();
  }

  std::string remote_address() const override { return remote_; }

 private:
  beast::tcp_stream& socket_stream() { return beast::get_lowest_layer(*stream_); }

  void on_accepted(const UpgradeCallback& callback) {
    {
      std::lock_guard lock(server_->mu);
      server_->websockets.emplace(this, weak_from_this());
    }
    try {
      if (callback) callback(shared_from_this());
    } catch (...) {
      // A throwing subscription handler is a bug; the connection is ended.
      request_close(websocket::close_code::internal_error, "internal error", false,
                    std::chrono::milliseconds(1000));
    }
    {
      std::lock_guard lock(mu_);
      accepted_ = true;
      // Messages sent (and a close requested) from inside the callback go
      // out now; a requested close follows the queue.
      if (!queue_.empty() && !writing_) {
        writing_ = true;
        asio::post(*executor_, [self = shared_from_this()] { self->write_next(); });
      }
    }
    if (server_->stopping) shutdown();
    in_.resize(4096);
    check_idle();
    read_next();
  }

  // [sync.stream.ignore-client-frames] Incoming messages are read and dropped;
  // control frames are answered (a ping with a pong, a close with a close).
  void read_next() {
    if (finished_flag_ || read_stopped_) return release_if_idle();
    if (in_.size() - end_ < 512) in_.resize(std::max(in_.size() * 2, end_ + 4096));
    reading_ = true;
    socket_stream().async_read_some(
        asio::buffer(in_.data() + end_, in_.size() - end_),
        [self = shared_from_this()](beast::error_code ec, std::size_t n) {
          self->reading_ = false;
          if (ec) return self->finish();
          self->end_ += n;
          self->heard_ = true;
          self->on_bytes();
          self->read_next();
        });
  }

  // The whole frames in in_[0, end_): answered or skipped.
  void on_bytes() {
    if (discarding_) {
      end_ = 0;
      return;
    }
    std::size_t at = 0;
    while (!read_stopped_) {
      std::size_t need = 0;
      auto header = ws_frame::parse_header({in_.data() + at, end_ - at}, need);
      if (!header) break;
      const auto& h = *header;
      // RFC 6455 section 5.1: a client's frames are masked.
      if (!h.masked || !h.well_formed() ||
          (!h.control() && (h.opcode == ws_frame::kContinuation) != in_message_)) {
        return fail(websocket::close_code::protocol_error);
      }
      // The message so far, this frame included, within the limit.
      const std::uint64_t message_bytes =
          (h.opcode == ws_frame::kContinuation ? message_bytes_ : 0) + h.length;
      if (!h.control() && message_bytes > kMaxClientMessage) {
        return fail(websocket::close_code::too_big);
      }
      const std::size_t length = static_cast<std::size_t>(h.length);
      if (end_ - at < h.size + length) {
        if (in_.size() < h.size + length) in_.resize(h.size + length);
        break;
      }
      if (!h.control()) {
        message_bytes_ = message_bytes;
        in_message_ = !h.fin;
      }
      std::uint8_t* payload = in_.data() + at + h.size;
      for (std::size_t i = 0; i < length; ++i) payload[i] ^= h.mask[i % 4];
      at += h.size + length;
      if (h.opcode == ws_frame::kPing) {
        send_control(ws_frame::kPong, {payload, length});
      } else if (h.opcode == ws_frame::kClose) {
        on_peer_close({payload, length});
      }
    }
    std::memmove(in_.data(), in_.data() + at, end_ - at);
    end_ -= at;
  }

  // The peer's close frame: answered (when we did not start the close) and
  // the connection ends once our close frame is out.
  void on_peer_close(std::span<const std::uint8_t> payload) {
    read_stopped_ = true;
    peer_closed_ = true;
    if (close_started_) {
      if (close_written_) finish_closed();
      return;
    }
    {
      std::lock_guard lock(mu_);
      open_ = false;
      for (const auto& m : queue_) queued_bytes_ -= std::min(queued_bytes_, m->size());
      queue_.clear();
    }
    close_started_ = true;
    std::vector<std::uint8_t> echo;
    if (payload.size() >= 2) echo.assign(payload.begin(), payload.begin() + 2);
    send_control(ws_frame::kClose, echo);
  }

  // A protocol error of the peer's: a close frame with `code`, then the end.
  // What the peer sends after it is read and dropped unparsed (so that
  // closing the socket does not reset it with unread data).
  void fail(std::uint16_t code) {
    discarding_ = true;
    end_ = 0;
    request_close(code, "", /*flush=*/false, std::chrono::milliseconds(1000));
  }

  // Queues a control frame ahead of the messages and wakes the writer.
  void send_control(std::uint8_t opcode, std::span<const std::uint8_t> payload) {
    std::vector<std::uint8_t> frame(ws_frame::kMaxHeaderBytes + payload.size());
    std::size_t n = ws_frame::write_header(frame.data(), opcode, payload.size());
    std::copy(payload.begin(), payload.end(), frame.begin() + static_cast<std::ptrdiff_t>(n));
    frame.resize(n + payload.size());
    control_.push_back({opcode == ws_frame::kClose, std::move(frame)});
    bool start;
    {
      std::lock_guard lock(mu_);
      start = !writing_;
      writing_ = true;
    }
    if (start) write_next();
  }

  // Writes the control frames waiting, then every message queued (up to a
  // batch), in one gathered write.
  void write_next() {
    enum class Next { write, close, idle } next = Next::idle;
    std::size_t data_bytes = 0;
    batch_.clear();
    buffers_.clear();
    batch_has_close_ = false;
    batch_controls_ = 0;
    {
      std::lock_guard lock(mu_);
      if (finished_) {
        writing_ = false;
      } else {
        std::size_t bytes = 0;
        if (!close_sent_) {
          for (auto& c : control_) {
            bytes += c.frame.size();
            batch_.push_back(std::make_shared<const std::vector<std::uint8_t>>(std::move(c.frame)));
            ++batch_controls_;
            if (c.close) {
              batch_has_close_ = true;
              break;  // nothing follows a close frame
            }
          }
          control_.clear();
        } else {
          control_.clear();
        }
        while (!batch_has_close_ && !queue_.empty() && batch_.size() < kBatchMessages &&
               bytes < kBatchBytes) {
          bytes += queue_.front()->size();
          data_bytes += queue_.front()->size();
          batch_.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
        if (!batch_.empty()) {
          next = Next::write;
        } else {
          writing_ = false;
          next = close_requested_ && !close_started_ ? Next::close : Next::idle;
        }
      }
    }
    if (next == Next::close) return start_close();
    if (next == Next::idle) return release_if_idle();
    // Headers for the messages (control frames carry theirs), then one
    // buffer list: header, payload, header, payload...
    headers_.resize(batch_.size());
    for (std::size_t i = 0; i < batch_.size(); ++i) {
      if (i < batch_controls_) {
        buffers_.push_back(asio::buffer(*batch_[i]));
        continue;
      }
      auto& h = headers_[i];
      h.size = ws_frame::write_header(h.bytes.data(), ws_frame::kBinary, batch_[i]->size());
      buffers_.push_back(asio::buffer(h.bytes.data(), h.size));
      buffers_.push_back(asio::buffer(*batch_[i]));
    }
    asio::async_write(socket_stream(), buffers_,
                      [self = shared_from_this(), data_bytes](beast::error_code ec, std::size_t) {
                        self->on_written(ec, data_bytes);
                      });
  }

  void on_written(beast::error_code ec, std::size_t data_bytes) {
    {
      std::lock_guard lock(mu_);
      queued_bytes_ -= std::min(queued_bytes_, data_bytes);
      if (ec) writing_ = false;
    }
    batch_.clear();
    buffers_.clear();
    if (ec) return finish();
    if (batch_has_close_) {
      close_sent_ = true;
      close_written_ = true;
      {
        std::lock_guard lock(mu_);
        writing_ = false;
      }
      // Our close frame is out: the connection ends when the peer's close
      // arrives (at once if it came first), or when the timer runs out.
      if (peer_closed_) return finish_closed();
      return release_if_idle();
    }
    write_next();
  }

  void request_close(std::uint16_t code, std::string reason, bool flush,
                     std::chrono::steady_clock::duration grace) {
    std::lock_guard lock(mu_);
    if (finished_ || close_requested_) return;
    open_ = false;
    close_requested_ = true;
    websocket::close_reason close_reason;
    close_reason.code = code;
    // A close frame's reason is at most 123 bytes.
    auto text = std::string_view(reason).substr(0, close_reason.reason.max_size());
    close_reason.reason.assign(text.data(), text.size());
    if (!flush) {
      for (const auto& m : queue_) queued_bytes_ -= std::min(queued_bytes_, m->size());
      queue_.clear();
    }
    // Set here, under the lock: a write completing meanwhile may start the
    // close before the lambda below runs.
    close_reason_ = close_reason;
    asio::post(*executor_, [self = shared_from_this(), grace] {
      if (self->finished_flag_) return;
      self->timer_->expires_after(grace);
      self->timer_pending_ = true;
      self->timer_->async_wait([self](beast::error_code ec) {
        self->timer_pending_ = false;
        if (!ec) self->drop();
        self->release_if_idle();
      });
      bool busy;
      {
        std::lock_guard inner(self->mu_);
        busy = self->writing_ || !self->accepted_;
      }
      // A write in flight starts the close when it completes.
      if (!busy) self->start_close();
    });
  }

  // Our close frame, after the queue (the writer calls this once it is
  // empty); the peer's answer ends the connection (on_peer_close).
  void start_close() {
    if (close_started_ || finished_flag_) return;
    close_started_ = true;
    websocket::close_reason reason;
    {
      std::lock_guard lock(mu_);
      reason = close_reason_;
    }
    std::vector<std::uint8_t> payload;
    if (reason.code != websocket::close_code::none) {
      payload.push_back(static_cast<std::uint8_t>(reason.code >> 8));
      payload.push_back(static_cast<std::uint8_t>(reason.code & 0xFF));
      payload.insert(payload.end(), reason.reason.begin(), reason.reason.end());
    }
    send_control(ws_frame::kClose, payload);
  }

  // The close handshake is over: the server closes the TCP connection first
  // (RFC 6455 section 7.1.1).
  void finish_closed() {
    beast::error_code ec;
    socket_stream().socket().shutdown(tcp::socket::shutdown_both, ec);
    finish();
  }

  // [xrpc.ws.upgrade] Keep-alive: a client silent for half of kIdle gets a
  // ping; one silent for all of it (no pong either) is dropped.
  void check_idle() {
    if (finished_flag_) return;
    idle_timer_->expires_after(kIdle / 2);
    idle_pending_ = true;
    idle_timer_->async_wait([self = shared_from_this()](beast::error_code ec) {
      self->idle_pending_ = false;
      if (ec || self->finished_flag_) return self->release_if_idle();
      if (self->heard_) {
        self->heard_ = false;
        self->pinged_ = false;
      } else if (self->pinged_) {
        return self->drop();
      } else if (!self->close_started_) {
        self->pinged_ = true;
        self->send_control(ws_frame::kPing, {});
      }
      self->check_idle();
    });
  }

  // Ends the connection at once: pending operations complete with errors.
  void drop() {
    if (finished_flag_) return;
    beast::error_code ec;
    auto& socket = socket_stream().socket();
    socket.shutdown(tcp::socket::shutdown_both, ec);
    socket.close(ec);
    finish();
  }

  // Runs on the strand; the first call ends the connection and calls the
  // on_close callback, later calls only release what is idle.
  void finish() {
    std::function<void()> callback;
    {
      std::lock_guard lock(mu_);
      if (!finished_) {
        finished_ = true;
        open_ = false;
        queue_.clear();
        callback = std::move(on_close_);
        on_close_ = nullptr;
      }
    }
    if (!finished_flag_) {
      finished_flag_ = true;
      beast::error_code ec;
      socket_stream().socket().close(ec);
      timer_->cancel();
      idle_timer_->cancel();
      {
        std::lock_guard lock(server_->mu);
        server_->websockets.erase(this);
      }
      if (callback) {
        try {
          callback();
        } catch (...) {
          // Nothing sensible to do; the connection is already gone.
        }
      }
    }
    release_if_idle();
  }

  // Once ended and with no operation pending, the Asio objects go, on the
  // strand, while the io_context is still alive.
  void release_if_idle() {
    if (!finished_flag_ || reading_ || timer_pending_ || idle_pending_) return;
    std::lock_guard lock(mu_);
    if (writing_ || !stream_) return;
    timer_.reset();
    idle_timer_.reset();
    stream_.reset();
    executor_.reset();
  }

  ServerCore* server_;
  const std::size_t max_queued_;
  const std::string remote_;

  // Guarded by mu_ (touched by any thread).
  mutable std::mutex mu_;
  std::deque<std::shared_ptr<const std::vector<std::uint8_t>>> queue_;
  std::size_t queued_bytes_ = 0;
  bool open_ = true;
  bool accepted_ = false;
  bool writing_ = false;
  bool close_requested_ = false;
  bool finished_ = false;
  std::function<void()> on_close_;
  websocket::close_reason close_reason_;  // for the close frame we send
  std::optional<Executor> executor_;
  std::optional<Stream> stream_;

  // Strand only.
  struct Control {
    bool close = false;
    std::vector<std::uint8_t> frame;  // header included
  };
  struct FrameHeader {
    std::array<std::uint8_t, ws_frame::kMaxHeaderBytes> bytes{};
    std::size_t size = 0;
  };
  std::optional<asio::steady_timer> timer_;
  std::optional<asio::steady_timer> idle_timer_;
  std::vector<Control> control_;
  std::vector<std::shared_ptr<const std::vector<std::uint8_t>>> batch_;  // being written
  std::vector<FrameHeader> headers_;
  std::vector<asio::const_buffer> buffers_;
  bool batch_has_close_ = false;
  std::size_t batch_controls_ = 0;  // the control frames at the batch's start
  std::vector<std::uint8_t> in_;    // client bytes not yet taken: in_[0, end_)
  std::size_t end_ = 0;
  std::uint64_t message_bytes_ = 0;
  bool in_message_ = false;
  bool reading_ = false;
  bool read_stopped_ = false;
  bool discarding_ = false;  // after a protocol error of the peer's
  bool heard_ = false;
  bool pinged_ = false;
  bool idle_pending_ = false;
  bool close_started_ = false;
  bool close_sent_ = false;
  bool close_written_ = false;
  bool peer_closed_ = false;
  bool timer_pending_ = false;
  bool finished_flag_ = false;
};

// One connection. Its steps (read, handler, write) run one after the other
// on whichever io thread is free; the user handler runs synchronously (so it
// occupies that thread while it works).
//
// No strand: a session has one operation in flight at a time, and the
// only calls from other threads (stop() and the sweep) go through mu_ and
// shut the socket down at the system level, which makes the pending
// operation complete; the session then closes itself. A strand cost a post
// (and a wake-up of another io thread) for every completion.
// A session's completion handler marked as a continuation: the next step of
// the connection, not new work. Asio then queues an operation that
// completes at once (a response written in one send, a request already
// read) on the running thread instead of waking another io thread for it.
template <typename F>
struct Continuation {
  F f;
  template <typename... Args>
  void operator()(Args&&... args) {
    f(std::forward<Args>(args)...);
  }
  friend bool asio_handler_is_continuation(Continuation*) { return true; }
};
template <typename F>
Continuation(F) -> Continuation<F>;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, ServerCore& server) : socket_(std::move(socket)), server_(server) {
    // Room for a whole small request: the first read takes the head and the
    // body at once (an empty buffer reads 512 bytes, so a request took two
    // reads and two trips through the io loop).
    buffer_.reserve(16 * 1024);
  }

  void start() {
    {
      std::lock_guard lock(server_.mu);
      server_.sessions.emplace(this, weak_from_this());
    }
    beast::error_code ec;
    auto ep = socket_.remote_endpoint(ec);
    if (!ec) remote_ = ep.address().to_string();
    asio::dispatch(socket_.get_executor(), [self = shared_from_this()] { self->do_read(); });
  }

  ~Session() {
    std::lock_guard lock(server_.mu);
    server_.sessions.erase(this);
  }

  // Called by stop(), from any thread: an idle connection (waiting for a
  // request) is shut down now; a busy one closes after its response.
  void shutdown_if_idle() {
    std::lock_guard lock(mu_);
    if (reading_) shutdown_locked();
  }

  // Called by the sweep, from any thread: a read or write that has run past
  // read_timeout_ms ends the connection.
  void shutdown_if_expired(std::chrono::steady_clock::time_point now) {
    std::lock_guard lock(mu_);
    if (io_pending_ && now >= deadline_) {
      expired_ = true;
      shutdown_locked();
    }
  }

 private:
  // The socket is shut down, not closed: its pending operation completes
  // (end of stream or an error) on an io thread, which closes it. Holding
  // mu_ keeps the descriptor from being closed (and reused) meanwhile.
  void shutdown_locked() {
    if (closed_) return;
    ::shutdown(socket_.native_handle(), SHUT_RDWR);
  }

  void start_io(bool reading) {
    std::lock_guard lock(mu_);
    reading_ = reading;
    io_pending_ = true;
    deadline_ = std::chrono::steady_clock::now() +
                std::chrono::milliseconds(server_.options.read_timeout_ms);
    // stop() sets `stopping` before it visits the sessions under their
    // mutex: a read that starts after that visit ends at once instead of
    // waiting for a request (or the timeout) with the server stopping.
    if (reading && server_.stopping) shutdown_locked();
  }

  // Whether the operation just completed ran past its deadline.
  bool end_io() {
    std::lock_guard lock(mu_);
    reading_ = false;
    io_pending_ = false;
    return expired_;
  }

  void do_read() {
    if (server_.stopping) return close();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(server_.options.max_header_bytes, UINT32_MAX)));
    parser_->body_limit(server_.options.max_body_bytes);
    start_io(true);
    http::async_read(socket_, buffer_, *parser_,
                     Continuation{[self = shared_from_this()](beast::error_code ec, std::size_t) {
                       self->on_read(ec);
                     }});
  }

  void on_read(beast::error_code ec) {
    const bool expired = end_io();
    if (ec == http::error::end_of_stream || ec == asio::error::operation_aborted || expired ||
        server_.stopping) {
      return close();
    }
    // [xrpc.status.payload-too-large]
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
    head_ = req.method() == http::verb::head;
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
    if (response.upgrade) {
      // [xrpc.ws.upgrade] A subscription is a GET upgraded to a WebSocket;
      // the handler's own errors go out as plain HTTP, before any upgrade.
      // [sync.stream.http-errors] Without the upgrade: 426 (the router
      // answers other methods with 405).
      if (websocket::is_upgrade(req) && !server_.stopping) {
        if (auto stream = websocket_stream()) {
          auto connection = std::make_shared<WsConnection>(std::move(*stream), server_, remote_);
          connection->accept(std::move(req), std::move(response.upgrade));
        }
        return;
      }
      response = xrpc_error(426, "InvalidRequest", "this endpoint needs a WebSocket upgrade");
    }
    send(std::move(response), keep_alive_ && !server_.stopping);
  }

  // The connection moved to a stream on a strand of its own: a WebSocket
  // has a read, a write, a close and a timer in flight at once.
  std::optional<beast::tcp_stream> websocket_stream() {
    std::lock_guard lock(mu_);
    beast::error_code ec;
    auto protocol = socket_.local_endpoint(ec).protocol();
    if (ec) return std::nullopt;
    auto fd = socket_.release(ec);
    closed_ = true;  // this session's socket no longer holds the descriptor
    if (ec) return std::nullopt;
    tcp::socket moved(asio::make_strand(server_.ioc));
    moved.assign(protocol, fd, ec);
    if (ec) {
      ::close(fd);
      return std::nullopt;
    }
    return beast::tcp_stream(std::move(moved));
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
    if (head_) {
      // A HEAD answer is the GET answer's head: its Content-Length, no body.
      auto length = res->body().size();
      res->body().clear();
      res->content_length(length);
      head_ = false;
    }
    start_io(false);
    http::async_write(socket_, *res,
                      Continuation{[self = shared_from_this(), res, keep_alive](
                                       beast::error_code ec, std::size_t) {
                        const bool expired = self->end_io();
                        if (ec || !keep_alive || expired) return self->close();
                        self->do_read();
                      }});
  }

  void close() {
    std::lock_guard lock(mu_);
    if (closed_) return;
    closed_ = true;
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    socket_.close(ec);
  }

  tcp::socket socket_;
  ServerCore& server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string remote_;
  bool keep_alive_ = false;
  bool head_ = false;
  // Shared with stop() and the sweep.
  std::mutex mu_;
  std::chrono::steady_clock::time_point deadline_;
  bool reading_ = false;
  bool io_pending_ = false;  // a read or write the deadline applies to
  bool expired_ = false;
  bool closed_ = false;
};

}  // namespace

void ServerCore::sweep() {
  sweep_timer->expires_after(sweep_period());
  sweep_timer->async_wait([this](beast::error_code ec) {
    if (ec || stopping) return;
    std::vector<std::shared_ptr<Session>> live;
    {
      std::lock_guard lock(mu);
      live.reserve(sessions.size());
      for (auto& [_, weak] : sessions)
        if (auto p = weak.lock()) live.push_back(std::move(p));
    }
    const auto now = std::chrono::steady_clock::now();
    for (auto& session : live) session->shutdown_if_expired(now);
    live.clear();
    sweep();
  });
}

void ServerCore::do_accept() {
  acceptor->async_accept(ioc, [this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || stopping) return;
    if (!ec) {
      // Answers go out as soon as they are written: Nagle's algorithm would
      // hold back the tail of a response while an earlier segment waits for
      // the peer's (possibly delayed) acknowledgement.
      beast::error_code nodelay_error;
      socket.set_option(tcp::no_delay(true), nodelay_error);
      std::make_shared<Session>(std::move(socket), *this)->start();
    }
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
  s.sweep_timer.emplace(s.ioc);
  s.sweep();
  int n = std::max(1, s.options.threads);
  for (int i = 0; i < n; ++i) {
    s.threads.emplace_back([&s] {
      pthread_setname_np(pthread_self(), "http-io");  // so per-thread CPU figures name it
      s.ioc.run();
    });
  }
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
    s.sweep_timer->cancel();
  });
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard lock(s.mu);
    for (auto& [_, weak] : s.sessions)
      if (auto p = weak.lock()) live.push_back(std::move(p));
  }
  for (auto& session : live) session->shutdown_if_idle();
  live.clear();
  // Open WebSockets are closed (going away); a peer that does not answer
  // the close is cut off after a short grace period.
  std::vector<std::shared_ptr<WsConnection>> sockets;
  {
    std::lock_guard lock(s.mu);
    for (auto& [_, weak] : s.websockets)
      if (auto p = weak.lock()) sockets.push_back(std::move(p));
  }
  for (auto& socket : sockets) socket->shutdown();
  sockets.clear();
  // Sessions in flight finish their response and then close; when no work
  // is left, run() returns on every thread.
  for (auto& t : s.threads) t.join();
  s.threads.clear();
  s.acceptor.reset();
  s.sweep_timer.reset();
  s.running = false;
}

std::uint16_t HttpServer::port() const { return state_->port.load(); }

}  // namespace atproto::xrpc

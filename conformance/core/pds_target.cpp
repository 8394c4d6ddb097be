// The target of the "pds" suite (pds_suite.hpp): HTTP exchanges through the
// identity layer's safe fetch, firehose windows through the xrpc layer's
// WebSocket client, each message decoded by the sync layer only to decide
// when a window is complete (the suite decodes and judges them itself).
#include <chrono>
#include <cstdlib>
#include <variant>

#include "atproto/common/hex.hpp"
#include "atproto/identity/fetch.hpp"
#include "atproto/sync/events.hpp"
#include "atproto/xrpc/websocket.hpp"
#include "pds_suite.hpp"

namespace atproto::conformance {
namespace {

// Whether a message is what a window waits for: `until` names the DID
// ("did") and the message type ("type"), and optionally the #commit's
// "rev", the #identity's "handle" or the #account's "active".
bool awaited(const sync::Message& m, const json& until) {
  const auto* e = std::get_if<sync::Event>(&m);
  if (!e || until.value("type", "") != sync::event_type(*e)) return false;
  const std::string did = until.value("did", "");
  if (const auto* c = std::get_if<sync::CommitEvent>(e)) {
    return c->repo == did && (!until.contains("rev") || until["rev"] == c->rev);
  }
  if (const auto* i = std::get_if<sync::IdentityEvent>(e)) {
    return i->did == did && (!until.contains("handle") || until["handle"] == i->handle);
  }
  if (const auto* a = std::get_if<sync::AccountEvent>(e)) {
    return a->did == did && (!until.contains("active") || until["active"] == a->active);
  }
  return false;
}

// One connected subscription: reads messages until the request's `until`
// condition, `max_messages`, `idle_ms` without a message, or the close.
class Subscription final : public PdsSubscription {
 public:
  explicit Subscription(std::unique_ptr<xrpc::WebSocketClient> client)
      : client_(std::move(client)) {}
  ~Subscription() override { client_->close(); }

  Response read(const json& request) override {
    Response out;
    const json until = request.value("until", json::object());
    const std::size_t until_count =
        until.value("count", until.empty() ? std::size_t{0} : std::size_t{1});
    const std::size_t max_messages = request.value("max_messages", std::size_t{2000});
    const int idle_ms = request.value("idle_ms", 3000);
    std::size_t matched = 0;
    json messages = json::array();
    bool closed = false;
    for (std::size_t i = 0; i < max_messages; ++i) {
      auto message = client_->read(idle_ms);
      if (!message.ok()) {
        if (message.error().code != "xrpc.ws.timeout") {
          out.body["read_error"] = message.error().code + ": " + message.error().message;
          closed = true;
        }
        break;
      }
      if (!message->has_value()) {
        closed = true;
        break;
      }
      const auto& bytes = **message;
      messages.push_back(hex_encode(bytes));
      if (until_count == 0) continue;
      auto decoded = sync::decode_message(bytes);
      if (decoded.ok() && awaited(*decoded, until) && ++matched >= until_count) break;
    }
    out.status = 101;
    out.body["messages"] = std::move(messages);
    out.body["closed"] = closed;
    if (closed && client_->close_code()) out.body["close_code"] = *client_->close_code();
    return out;
  }

 private:
  std::unique_ptr<xrpc::WebSocketClient> client_;
};

class PdsTarget final : public Target, public PdsFirehose {
 public:
  PdsTarget(std::string base_url, int timeout_ms, bool allow_private)
      : base_url_(std::move(base_url)) {
    while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
    policy_.allow_private_addresses = allow_private;
    policy_.timeout_ms = timeout_ms;
    policy_.max_response_bytes = 64u << 20;  // a whole repository
    policy_.max_redirects = 0;
  }

  std::string description() const override { return "PDS at " + base_url_; }

  Response capabilities() override {
    // A PDS has no capabilities document; describeServer says it is one.
    Response described =
        call(kPdsHttp, {{"method", "GET"}, {"path", "/xrpc/com.atproto.server.describeServer"}});
    if (!described.transport_error.empty()) return described;
    Response out;
    out.status = 200;
    out.body = {
        {"name", "pds"}, {"version", ""}, {"operations", json::array({kPdsHttp, kPdsSubscribe})}};
    return out;
  }

  Response call(const std::string& operation, const json& request) override {
    if (operation == kPdsSubscribe) return subscribe(request);
    Response out;
    if (operation != kPdsHttp) {
      out.status = 404;
      out.body = {{"error", "unknown operation " + operation}};
      return out;
    }
    std::string method = request.value("method", "GET");
    std::string body = request.value("body", "");
    if (request.contains("body_size")) {
      body.assign(request["body_size"].get<std::size_t>(), 'a');
    }
    identity::HeaderList headers;
    if (request.contains("headers")) {
      for (const auto& [name, value] : request["headers"].items()) {
        headers.emplace_back(name, value.get<std::string>());
      }
    }
    auto result = identity::http_request(method, base_url_ + request.value("path", "/"), body,
                                         headers, policy_);
    if (!result.ok()) {
      out.transport_error = result.error().code + ": " + result.error().message;
      return out;
    }
    out.status = result->status;
    out.raw_body = result->body;
    json response_headers = json::object();
    std::string content_type;
    for (const auto& [name, value] : result->headers) {
      response_headers[name] = value;
      if (name == "content-type") content_type = value;
    }
    json parsed = content_type.rfind("application/json", 0) == 0
                      ? json::parse(result->body, nullptr, false)
                      : json();
    out.body = {{"content_type", content_type},
                {"headers", response_headers},
                {"json", parsed.is_discarded() ? json() : parsed}};
    return out;
  }

  std::string reproduce_command(const std::string& operation, const json& request,
                                const std::string& body_file) const override {
    if (!request.is_object()) return "";
    if (operation == kPdsSubscribe) {
      // Any WebSocket client shows the window, e.g. websocat.
      return "websocat --binary " + shell_quote(ws_url(request.value("path", "/")));
    }
    if (operation != kPdsHttp) return "";
    std::string command = "curl -sS -i -X " + request.value("method", "GET") + " " +
                          shell_quote(base_url_ + request.value("path", "/"));
    if (request.contains("headers")) {
      for (const auto& [name, value] : request["headers"].items()) {
        command += " -H " + shell_quote(name + ": " + value.get<std::string>());
      }
    }
    if (request.contains("body_size")) {
      command += " --data-binary @<(head -c " +
                 std::to_string(request["body_size"].get<std::size_t>()) +
                 " /dev/zero | tr '\\0' a)";
    } else if (request.contains("body") && request["body"].is_string()) {
      command +=
          " --data-binary " + (body_file.empty() ? shell_quote(request["body"].get<std::string>())
                                                 : "@" + shell_quote(body_file));
    }
    return command;
  }

  std::string request_body(const json& request) const override {
    return request.is_object() && request.contains("body") && request["body"].is_string()
               ? request["body"].get<std::string>()
               : "";
  }

 private:
  std::string ws_url(const std::string& path) const {
    std::string url = base_url_;
    if (url.rfind("https://", 0) == 0) {
      url = "wss://" + url.substr(8);
    } else if (url.rfind("http://", 0) == 0) {
      url = "ws://" + url.substr(7);
    }
    return url + path;
  }

  Response subscribe(const json& request) {
    auto opened = open(request);
    if (auto* answer = std::get_if<Response>(&opened)) return std::move(*answer);
    return std::get<std::unique_ptr<PdsSubscription>>(opened)->read(request);
  }

 public:
  std::variant<std::unique_ptr<PdsSubscription>, Response> open(const json& request) override {
    Response out;
    xrpc::WebSocketClientOptions options;
    options.policy = policy_;
    options.connect_timeout_ms = policy_.timeout_ms;
    auto client = xrpc::WebSocketClient::connect(ws_url(request.value("path", "/")), options);
    if (client.ok()) return std::make_unique<Subscription>(std::move(client).value());
    const Error& e = client.error();
    if (e.code == "xrpc.ws.handshake") {
      // The upgrade was refused with an HTTP status: that is an answer.
      out.status = 400;
      auto at = e.message.find("HTTP ");
      if (at != std::string::npos && at + 8 <= e.message.size()) {
        int code = std::atoi(e.message.substr(at + 5, 3).c_str());
        if (code >= 100 && code < 600) out.status = code;
      }
      out.raw_body = e.message;
      out.body = {{"messages", json::array()}, {"closed", true}, {"refused", e.message}};
      return out;
    }
    out.transport_error = e.code + ": " + e.message;
    return out;
  }

 private:
  std::string base_url_;
  identity::FetchPolicy policy_;
};

}  // namespace

std::unique_ptr<Target> make_pds_target(const std::string& base_url, int timeout_ms,
                                        bool allow_private_addresses) {
  return std::make_unique<PdsTarget>(base_url, timeout_ms, allow_private_addresses);
}

}  // namespace atproto::conformance

// An adapter reached over HTTP/1.1 (Boost.Beast, synchronous, keep-alive).
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>

#include "exact_json.hpp"
#include "target.hpp"

namespace atproto::conformance {

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

struct Endpoint {
  std::string host;
  std::string port;
};

std::optional<Endpoint> parse_base_url(const std::string& url) {
  const std::string prefix = "http://";
  if (url.rfind(prefix, 0) != 0) return std::nullopt;
  std::string rest = url.substr(prefix.size());
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.find('/') != std::string::npos) return std::nullopt;
  std::size_t colon = rest.rfind(':');
  if (colon == std::string::npos) return Endpoint{rest, "80"};
  return Endpoint{rest.substr(0, colon), rest.substr(colon + 1)};
}

class HttpTarget final : public Target {
 public:
  HttpTarget(std::string base_url, int timeout_ms)
      : base_url_(std::move(base_url)), timeout_ms_(timeout_ms) {
    while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
  }

  std::string description() const override { return "adapter at " + base_url_; }

  Response capabilities() override { return request(http::verb::get, "/v0/capabilities", ""); }

  Response call(const std::string& operation, const json& body) override {
    return request(http::verb::post, "/v0/" + operation, dump_json(body));
  }

  std::string reproduce_command(const std::string& operation, const json& body,
                                const std::string& body_file) const override {
    std::string data =
        body_file.empty() ? shell_quote(dump_json(body)) : "@" + shell_quote(body_file);
    return "curl -sS -X POST -H 'content-type: application/json' --data-binary " + data + " " +
           base_url_ + "/v0/" + operation;
  }

 private:
  Response request(http::verb verb, const std::string& path, const std::string& body) {
    // One retry on a fresh connection: the adapter may have closed an idle
    // keep-alive connection between requests.
    Response r = attempt(verb, path, body);
    if (!r.transport_error.empty()) {
      stream_.reset();
      r = attempt(verb, path, body);
    }
    return r;
  }

  Response attempt(http::verb verb, const std::string& path, const std::string& body) {
    Response r;
    auto endpoint = parse_base_url(base_url_);
    if (!endpoint) {
      r.transport_error = "adapter URL must look like http://HOST:PORT";
      return r;
    }
    try {
      if (!stream_) {
        stream_.emplace(io_);
        asio::ip::tcp::resolver resolver(io_);
        stream_->expires_after(std::chrono::milliseconds(timeout_ms_));
        stream_->connect(resolver.resolve(endpoint->host, endpoint->port));
      }
      http::request<http::string_body> req{verb, path, 11};
      req.set(http::field::host, endpoint->host);
      req.set(http::field::user_agent, "atproto-conformance");
      req.keep_alive(true);
      if (verb == http::verb::post) {
        req.set(http::field::content_type, "application/json");
        req.body() = body;
        req.prepare_payload();
      }
      stream_->expires_after(std::chrono::milliseconds(timeout_ms_));
      http::write(*stream_, req);
      beast::flat_buffer buffer;
      http::response_parser<http::string_body> parser;
      parser.body_limit(64 * 1024 * 1024);
      http::read(*stream_, buffer, parser);
      auto& res = parser.get();
      r.status = static_cast<int>(res.result_int());
      r.raw_body = res.body();
      // Integers beyond 64 bits keep their digits, for comparison and report.
      r.body = parse_json(r.raw_body).value;
      if (!res.keep_alive()) stream_.reset();
    } catch (const std::exception& e) {
      stream_.reset();
      r.transport_error = e.what();
    }
    return r;
  }

  std::string base_url_;
  int timeout_ms_;
  asio::io_context io_;
  std::optional<beast::tcp_stream> stream_;
};

}  // namespace

std::string Target::request_body(const json& request) const { return dump_json(request); }

std::unique_ptr<Target> make_http_target(const std::string& base_url, int timeout_ms) {
  return std::make_unique<HttpTarget>(base_url, timeout_ms);
}

}  // namespace atproto::conformance

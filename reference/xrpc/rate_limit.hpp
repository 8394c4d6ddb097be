// Request limits for services: a fixed-window counter per key (a client IP,
// an account DID) answering 429 RateLimitExceeded once a key has used its
// window, with the RateLimit-* headers the TypeScript reference services
// send; and the 401 answer with its WWW-Authenticate challenge.
// https://atproto.com/specs/xrpc#summary-of-http-status-codes
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "atproto/xrpc/http_server.hpp"

namespace atproto::xrpc {

struct RateLimitDecision {
  bool allowed = true;
  std::int64_t limit = 0;
  std::int64_t remaining = 0;      // after this request
  std::int64_t reset_seconds = 0;  // until the current window ends (at least 1)
};

// Thread-safe. Windows are aligned to multiples of `window` on the clock, so
// every key's window ends at the same moment.
class RateLimiter {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  // `name` appears in error messages; `limit` requests per `window`.
  RateLimiter(std::string name, std::int64_t limit, std::chrono::seconds window,
              Clock clock = nullptr);

  // Counts `cost` requests for `key` and says whether they fit the window.
  // A refused request does not count.
  RateLimitDecision check(std::string_view key, std::int64_t cost = 1);

  // RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset and
  // RateLimit-Policy ("<limit>;w=<window seconds>") on `response`.
  void add_headers(HttpResponse& response, const RateLimitDecision& decision) const;
  // 429 RateLimitExceeded with those headers and Retry-After.
  HttpResponse exceeded(const RateLimitDecision& decision) const;

  // A handler that checks the limit for key(request) (the client address
  // when `key` is null) before calling `inner`, and adds the headers to its
  // answer. The limiter must outlive the handler.
  Handler wrap(Handler inner, std::function<std::string(const HttpRequest&)> key = nullptr);

  std::int64_t limit() const { return limit_; }

 private:
  struct Window {
    std::int64_t index = 0;  // which window (time / window length)
    std::int64_t used = 0;
  };
  std::string name_;
  std::int64_t limit_;
  std::chrono::seconds window_;
  Clock clock_;
  std::mutex mu_;
  std::unordered_map<std::string, Window> windows_;
  std::size_t checks_since_prune_ = 0;
};

// 401 with `WWW-Authenticate: <scheme> realm="<realm>"` (plus the error
// name for Bearer, as RFC 6750 has it) and an XRPC error body.
HttpResponse unauthorized(std::string_view error, std::string_view message,
                          std::string_view scheme = "Bearer", std::string_view realm = "atproto");

}  // namespace atproto::xrpc

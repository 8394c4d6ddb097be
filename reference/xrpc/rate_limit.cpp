#include "atproto/xrpc/rate_limit.hpp"

#include <algorithm>

namespace atproto::xrpc {

RateLimiter::RateLimiter(std::string name, std::int64_t limit, std::chrono::seconds window,
                         Clock clock)
    : name_(std::move(name)),
      limit_(std::max<std::int64_t>(0, limit)),
      window_(std::max(window, std::chrono::seconds(1))),
      clock_(clock ? std::move(clock) : Clock([] { return std::chrono::steady_clock::now(); })) {}

RateLimitDecision RateLimiter::check(std::string_view key, std::int64_t cost) {
  auto now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_().time_since_epoch()).count();
  auto window_ms = static_cast<std::int64_t>(window_.count()) * 1000;
  std::int64_t index = now_ms / window_ms;
  std::int64_t ends_in_ms = (index + 1) * window_ms - now_ms;
  RateLimitDecision d;
  d.limit = limit_;
  d.reset_seconds = std::max<std::int64_t>(1, (ends_in_ms + 999) / 1000);

  std::lock_guard lock(mu_);
  // Windows of past periods are dropped now and then, so the map holds only
  // the keys seen in the current window.
  if (++checks_since_prune_ >= 4096) {
    checks_since_prune_ = 0;
    std::erase_if(windows_, [index](const auto& entry) { return entry.second.index != index; });
  }
  Window& w = windows_[std::string(key)];
  if (w.index != index) w = Window{index, 0};
  d.allowed = cost <= limit_ - w.used;
  if (d.allowed) w.used += cost;
  d.remaining = std::max<std::int64_t>(0, limit_ - w.used);
  return d;
}

void RateLimiter::add_headers(HttpResponse& response, const RateLimitDecision& d) const {
  response.headers.emplace_back("ratelimit-limit", std::to_string(d.limit));
  response.headers.emplace_back("ratelimit-remaining", std::to_string(d.remaining));
  response.headers.emplace_back("ratelimit-reset", std::to_string(d.reset_seconds));
  response.headers.emplace_back("ratelimit-policy",
                                std::to_string(limit_) + ";w=" + std::to_string(window_.count()));
}

HttpResponse RateLimiter::exceeded(const RateLimitDecision& d) const {
  // [xrpc.status.rate-limit] 429 tells the client to back off; Retry-After
  // says for how long.
  auto r = xrpc_error(429, "RateLimitExceeded", "rate limit " + name_ + " exceeded");
  add_headers(r, d);
  r.headers.emplace_back("retry-after", std::to_string(d.reset_seconds));
  return r;
}

Handler RateLimiter::wrap(Handler inner, std::function<std::string(const HttpRequest&)> key) {
  return [this, inner = std::move(inner), key = std::move(key)](const HttpRequest& request) {
    auto d = check(key ? key(request) : request.remote_address);
    if (!d.allowed) return exceeded(d);
    HttpResponse r = inner(request);
    add_headers(r, d);
    return r;
  };
}

HttpResponse unauthorized(std::string_view error, std::string_view message, std::string_view scheme,
                          std::string_view realm) {
  // [xrpc.status.unauthorized] A 401 carries a WWW-Authenticate challenge.
  auto r = xrpc_error(401, error, message);
  std::string challenge = std::string(scheme) + " realm=\"" + std::string(realm) + "\"";
  if (scheme == "Bearer") challenge += ", error=\"" + std::string(error) + "\"";
  r.headers.emplace_back("www-authenticate", challenge);
  return r;
}

}  // namespace atproto::xrpc

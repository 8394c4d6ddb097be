#include "atproto/identity/handle_resolver.hpp"

#include <future>

#include "atproto/syntax/did.hpp"
#include "atproto/syntax/handle.hpp"

namespace atproto::identity {

namespace {

constexpr std::string_view kDidPrefix = "did=";

// [handle.resolve.did-syntax] The DID an answer carries must be a DID of a
// supported method; anything else fails the resolution (a wrong value is not
// silently skipped).
Result<std::string> checked_did(std::string_view value, std::string_view where) {
  if (auto st = syntax::check_did_supported(value); !st.ok()) {
    return make_error("handle.resolve.did-syntax",
                      std::string(where) + " gives '" + std::string(value) +
                          "', not a usable DID: " + st.error().message);
  }
  return std::string(value);
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

Result<std::string> usable_handle(std::string_view handle, const HandleResolverOptions& options) {
  auto parsed = syntax::parse_handle(handle);
  if (!parsed.ok()) return parsed.error();
  syntax::HandleUsePolicy policy;
  policy.allow_test_tld = options.allow_test_tld;
  if (auto st = syntax::check_handle_usable(parsed.value(), policy); !st.ok()) return st.error();
  return parsed;
}

}  // namespace

Result<std::optional<std::string>> resolve_handle_dns(std::string_view handle,
                                                      const HandleResolverOptions& options) {
  // [handle.resolve.dns-txt] TXT records at _atproto.<handle>; only values
  // starting with did= count, the rest are ignored.
  std::string name = "_atproto." + std::string(handle);
  auto txt = lookup_txt(name, options.dns);
  if (!txt.ok()) return txt.error();
  std::optional<std::string> found;
  for (const auto& record : txt->records) {
    if (record.compare(0, kDidPrefix.size(), kDidPrefix) != 0) continue;
    auto did = checked_did(std::string_view(record).substr(kDidPrefix.size()), name);
    if (!did.ok()) return did.error();
    // [handle.resolve.dns-txt-conflict] several did= records naming
    // different DIDs make the resolution fail; repeats of one DID are fine.
    if (found && *found != did.value()) {
      return make_error(
          "handle.resolve.dns-txt-conflict",
          name + " has TXT records for different DIDs: " + *found + " and " + did.value());
    }
    found = std::move(did).value();
  }
  return found;
}

Result<std::optional<std::string>> resolve_handle_https(std::string_view handle,
                                                        const HandleResolverOptions& options) {
  // [handle.resolve.https-well-known] GET /.well-known/atproto-did on the
  // handle's host; the body is the DID. The Content-Type is not checked
  // strictly, as the spec allows.
  const std::string path = "/.well-known/atproto-did";
  HeaderList headers;
  std::string url;
  if (options.well_known_origin_for_tests.empty()) {
    url = "https://" + std::string(handle) + path;
  } else {
    url = options.well_known_origin_for_tests + path;
    headers.emplace_back("Host", std::string(handle));
  }
  FetchPolicy policy = options.fetch;
  // [handle.resolve.https-redirects] redirects are followed, a bounded
  // number of hops (the fetch policy's limit, vetted at each hop). A DID
  // is at most 2048 characters, so a larger body cannot be an answer.
  policy.max_response_bytes = std::min<std::size_t>(policy.max_response_bytes, 4096);
  auto res = http_request("GET", url, "", headers, policy);
  if (!res.ok()) return res.error();
  // [handle.resolve.https-status] only a 2xx answer carries a DID.
  if (res->status < 200 || res->status > 299) return std::optional<std::string>{};
  // [handle.resolve.https-trim] surrounding whitespace is tolerated.
  std::string_view body = res->body;
  while (!body.empty() && is_space(body.front())) body.remove_prefix(1);
  while (!body.empty() && is_space(body.back())) body.remove_suffix(1);
  auto did = checked_did(body, url);
  if (!did.ok()) return did.error();
  return std::optional<std::string>(std::move(did).value());
}

Result<HandleResolution> resolve_handle(std::string_view input,
                                        const HandleResolverOptions& options) {
  auto handle = usable_handle(input, options);
  if (!handle.ok()) return handle.error();
  // Both methods run at once; the DNS answer is awaited first because it wins.
  std::future<Result<std::optional<std::string>>> https;
  if (options.use_https) {
    https = std::async(std::launch::async,
                       [&options, h = handle.value()] { return resolve_handle_https(h, options); });
  }
  std::optional<Result<std::optional<std::string>>> dns;
  if (options.use_dns) dns.emplace(resolve_handle_dns(handle.value(), options));
  std::optional<Result<std::optional<std::string>>> web;
  if (https.valid()) web.emplace(https.get());

  // A DNS conflict or a malformed DNS answer fails the resolution outright:
  // falling back to HTTPS would let a broken or hijacked record pass.
  if (dns && !dns->ok() && dns->error().code.rfind("handle.", 0) == 0) return dns->error();
  bool dns_answer = dns && dns->ok() && dns->value().has_value();
  bool web_answer = web && web->ok() && web->value().has_value();
  if (dns_answer) {
    // [handle.resolve.prefer-dns] when both answer and differ, DNS wins;
    // the disagreement is reported to the caller.
    HandleResolution out{*dns->value(), HandleMethod::dns, false};
    out.conflicting_https_answer = web_answer && *web->value() != out.did;
    return out;
  }
  if (web_answer) return HandleResolution{*web->value(), HandleMethod::https, false};
  if (web && !web->ok() && web->error().code.rfind("handle.", 0) == 0) return web->error();
  std::string why;
  if (dns && !dns->ok()) why += " DNS: " + dns->error().message + ".";
  if (web && !web->ok()) why += " HTTPS: " + web->error().message + ".";
  return make_error("handle.resolve.not-found",
                    "no DID found for handle " + handle.value() + "." + why);
}

HandleResolver::HandleResolver(HandleResolverOptions options, CacheOptions cache, Clock clock)
    : options_(std::move(options)), cache_(cache), clock_(std::move(clock)) {
  if (!clock_) clock_ = [] { return std::chrono::steady_clock::now(); };
}

Result<HandleResolution> HandleResolver::resolve(std::string_view handle) {
  auto key = syntax::parse_handle(handle);
  if (!key.ok()) return key.error();
  // [handle.resolve.cache] answers are kept for a bounded time, failures
  // for a shorter one, then resolved again.
  auto now = clock_();
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(key.value());
    if (it != entries_.end() && it->second.expires > now) return it->second.result;
  }
  // Resolved outside the lock: a slow handle does not block the others.
  auto result = resolve_handle(key.value(), options_);
  auto ttl = result.ok() ? cache_.ttl : cache_.failure_ttl;
  std::lock_guard lock(mu_);
  if (entries_.size() >= cache_.max_entries) entries_.clear();
  entries_.insert_or_assign(key.value(), Entry{result, now + ttl});
  return result;
}

void HandleResolver::invalidate(std::string_view handle) {
  auto key = syntax::parse_handle(handle);
  if (!key.ok()) return;
  std::lock_guard lock(mu_);
  entries_.erase(key.value());
}

std::size_t HandleResolver::cache_size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace atproto::identity

// Handle resolution: DNS TXT `_atproto.<handle>` and HTTPS
// `/.well-known/atproto-did`, the rules for conflicting answers, and a
// caching resolver. https://atproto.com/specs/handle#handle-resolution
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "atproto/common/result.hpp"
#include "atproto/identity/dns.hpp"
#include "atproto/identity/fetch.hpp"

namespace atproto::identity {

struct HandleResolverOptions {
  DnsOptions dns;
  FetchPolicy fetch;
  bool use_dns = true;
  bool use_https = true;
  // Tests and local development only: fetch the well-known document from
  // this origin ("http://127.0.0.1:8080") with a `Host: <handle>` header,
  // instead of https://<handle>. Empty in production.
  std::string well_known_origin_for_tests;
  // Also for tests: allow handles under .test.
  bool allow_test_tld = false;
};

// Which method produced the answer.
enum class HandleMethod { dns, https };

struct HandleResolution {
  std::string did;
  HandleMethod method = HandleMethod::dns;
  // DNS and HTTPS both answered, with different DIDs (DNS won).
  bool conflicting_https_answer = false;
};

// The DID of the `_atproto.<handle>` TXT records, or nullopt when there is
// none. Errors: handle.resolve.dns-txt-conflict, handle.resolve.did-syntax,
// dns.*.
Result<std::optional<std::string>> resolve_handle_dns(std::string_view handle,
                                                      const HandleResolverOptions& options);
// The DID served at /.well-known/atproto-did, or nullopt on a non-2xx
// answer. Errors: handle.resolve.did-syntax, fetch.*.
Result<std::optional<std::string>> resolve_handle_https(std::string_view handle,
                                                        const HandleResolverOptions& options);
// Both methods (concurrently); DNS wins when both answer and differ.
// Errors: the handle's syntax and usability codes (handle.syntax.*,
// handle.disallowed-tld, ...), handle.resolve.dns-txt-conflict,
// handle.resolve.did-syntax, and "handle.resolve.not-found" when neither
// method gives a DID.
Result<HandleResolution> resolve_handle(std::string_view handle,
                                        const HandleResolverOptions& options);

// Cache lifetimes of HandleResolver. The spec leaves them to the service
// (https://atproto.com/specs/handle#resolution-best-practices); DNS TTLs
// are considered too short for handles, so these are fixed durations.
struct HandleCacheOptions {
  std::chrono::seconds ttl{3600};        // a resolved DID
  std::chrono::seconds failure_ttl{60};  // a failed resolution
  std::size_t max_entries = 100000;      // the cache is cleared when full
};

// A resolver with a cache: answers (and failures, for a shorter time) are
// kept per normalized handle. The clock is injectable for tests.
class HandleResolver {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  using CacheOptions = HandleCacheOptions;

  explicit HandleResolver(HandleResolverOptions options, CacheOptions cache = {},
                          Clock clock = nullptr);
  Result<HandleResolution> resolve(std::string_view handle);
  // Forgets one handle (after a #identity event, say).
  void invalidate(std::string_view handle);
  std::size_t cache_size() const;

 private:
  struct Entry {
    Result<HandleResolution> result;
    std::chrono::steady_clock::time_point expires;
  };
  HandleResolverOptions options_;
  CacheOptions cache_;
  Clock clock_;
  mutable std::mutex mu_;
  std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace atproto::identity

// Safe outbound HTTP(S) for identity resolution (DID documents, handles) and
// every later fetch of a server: private, loopback and link-local addresses
// are refused (after redirects too) unless the policy allows them; every
// fetch has a timeout and a size cap.
//
// API CONTRACT (integration note, remove when implemented): the net work
// implements it in fetch.cpp.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "atproto/common/result.hpp"

namespace atproto::identity {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct FetchPolicy {
  bool allow_private_addresses = false;  // tests and local setups only
  int timeout_ms = 10000;                // whole exchange, connect included
  std::size_t max_response_bytes = 1 << 20;
  int max_redirects = 3;
};

struct HttpResult {
  int status = 0;
  HeaderList headers;  // names lowercased
  std::string body;
  std::string final_url;  // after redirects
};

// http:// and https:// URLs. Error codes: "fetch.url", "fetch.address-refused",
// "fetch.dns", "fetch.connect", "fetch.timeout", "fetch.too-large",
// "fetch.redirects", "fetch.tls", "fetch.protocol".
Result<HttpResult> http_request(std::string_view method, std::string_view url,
                                std::string_view body, const HeaderList& headers,
                                const FetchPolicy& policy);
inline Result<HttpResult> http_get(std::string_view url, const FetchPolicy& policy) {
  return http_request("GET", url, "", {}, policy);
}

}  // namespace atproto::identity

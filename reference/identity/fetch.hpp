// Safe outbound HTTP(S) for identity resolution (DID documents, handles) and
// every later fetch of a server: private, loopback and link-local addresses
// are refused (after redirects too) unless the policy allows them; every
// fetch has a timeout and a size cap.
#pragma once

#include <cstddef>
#include <cstdint>
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
  // Added by the implementation: a PEM file of extra trusted CAs (on top of
  // the system store), for tests against a local TLS server.
  std::string extra_ca_file;
  // Added by the implementation: IP addresses (as written by inet_ntop, e.g.
  // "127.0.0.1") contacted even though they are private, such as the address
  // of a local PLC directory; every other address still obeys the policy.
  std::vector<std::string> allowed_addresses;
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

// Added by the implementation. True when an IP address (literal, v4 or v6)
// may be contacted by a fetch under the default policy: not private,
// loopback, link-local, unspecified, multicast, documentation or otherwise
// reserved (IPv4-mapped and similar v6 forms are judged by their v4 part).
// False for anything that is not an IP literal.
bool is_public_address(std::string_view ip_literal);

// Added for other clients on the same policy (the xrpc layer's WebSocket
// client): resolves `host` (or takes an IP literal) within `timeout_ms` and
// vets every address as http_request does. The addresses, as text, in the
// resolver's order. Error codes: "fetch.dns", "fetch.timeout",
// "fetch.address-refused".
Result<std::vector<std::string>> resolve_vetted(std::string_view host, std::uint16_t port,
                                                const FetchPolicy& policy, int timeout_ms);

// Added by the implementation: the parts of an http(s) URL that a fetch uses.
struct ParsedUrl {
  std::string scheme;  // "http" or "https"
  std::string host;    // without brackets for IPv6, lowercased
  std::uint16_t port = 0;
  std::string target;  // path and query, "/" when empty
};
// Error code "fetch.url": other schemes, user info, bad ports, spaces.
Result<ParsedUrl> parse_url(std::string_view url);

}  // namespace atproto::identity

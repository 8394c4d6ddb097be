// DNS TXT lookups through c-ares, for handle resolution by the
// `_atproto.<handle>` TXT record.
// https://atproto.com/specs/handle#dns-txt-method
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "atproto/common/result.hpp"

namespace atproto::identity {

struct DnsOptions {
  // "address:port" of the DNS server to ask ("127.0.0.1:5353", "[::1]:53");
  // empty: the system's resolvers from /etc/resolv.conf.
  std::string server;
  int timeout_ms = 3000;  // per try
  int tries = 2;
};

struct TxtLookup {
  bool found = false;                // false: no such name, or no TXT records at it
  std::vector<std::string> records;  // each record's strings joined, in answer order
};

// One TXT query. "No such name" and "no TXT data" are answers (found =
// false), not errors. Error codes: "dns.timeout", "dns.error" (server
// failure, refused, bad reply), "dns.config" (bad server address).
Result<TxtLookup> lookup_txt(std::string_view name, const DnsOptions& options);

}  // namespace atproto::identity

// The "pds" service suite: drives a running PDS over its XRPC API and its
// firehose (com.atproto.sync.subscribeRepos) exactly as a client or a relay
// would, and checks every answer against the spec's rules with the
// project's own verifiers (repository exports, commit signatures, MST
// proofs, operation inversion, event frames).
//
// Write mode (the default) creates a test account (a handle under the
// server's first handle domain, --invite-code and --admin-password when the
// server wants them), writes records and blobs, changes the handle,
// deactivates a second account, and deletes (with the admin password) or
// deactivates its accounts at the end: point it at a test instance.
// Read-only mode (--read-only --account HANDLE-OR-DID) writes nothing: it
// checks an existing account's identity, repository, records, blobs and a
// window of the firehose. Case ids are pds.* and cite pds.service.* ids
// (spec/requirements/pds-service.json) and the repository, car, handle and
// did rules they rest on.
#pragma once

#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "model.hpp"

namespace atproto::conformance {

// One HTTP exchange with the PDS. Request {"method", "path" (with the
// query), "headers"? {name: value}, "body"? (text), "body_size"? (a body of
// that many 'a' bytes, for size limits)}; the Response's status is the HTTP
// status, raw_body the body, and body {"content_type", "headers" {name:
// value, lowercased}, "json" (null when not JSON)}.
inline constexpr const char* kPdsHttp = "pds/http";
// A window of the firehose. Request {"path" (subscribeRepos with its
// query), "until"? {"did", "type" (e.g. "#commit"), "rev"?, "handle"?,
// "active"?, "count"? (default 1)}: stop once that many messages of that
// type about that DID (with that #commit rev, #identity handle or #account
// active flag) arrived, "idle_ms" (stop after that long without a message),
// "max_messages"? (default 2000)}. Response body {"messages": [hex of each binary
// message], "closed": bool (the server closed the connection),
// "close_code"?}; status 101 once upgraded, the HTTP status when the
// upgrade was refused.
inline constexpr const char* kPdsSubscribe = "pds/subscribe";

// The pds target also offers a firehose window in two steps, for cases that
// must be subscribed before they write: open() returns once the WebSocket
// is connected, read() then reads as call(kPdsSubscribe) would.
class PdsSubscription {
 public:
  virtual ~PdsSubscription() = default;
  virtual Response read(const json& request) = 0;
};
class PdsFirehose {
 public:
  virtual ~PdsFirehose() = default;
  // The subscription, or the answer when there is none (a refused upgrade,
  // a transport error).
  virtual std::variant<std::unique_ptr<PdsSubscription>, Response> open(const json& request) = 0;
};

struct PdsSuiteOptions {
  bool read_only = false;
  std::string account;  // read-only mode: the handle or DID to check
  std::string invite_code;
  std::string admin_password;
  // The PLC directory the PDS registers its DIDs at (resolving did:plc).
  std::string plc_url = "https://plc.directory";
  bool allow_private_addresses = false;
  int timeout_ms = 10000;
};

// A PDS at base_url ("http://127.0.0.1:2583"). Loopback and private
// addresses are refused unless allow_private_addresses.
std::unique_ptr<Target> make_pds_target(const std::string& base_url, int timeout_ms,
                                        bool allow_private_addresses);

// The cases of one run (write mode, or read-only mode's subset). They share
// the run's test account, so they run in the order given.
std::vector<Case> build_pds_suite(const Catalog& catalog, const PdsSuiteOptions& options);

}  // namespace atproto::conformance

// A target is the implementation under test, reached through the adapter
// protocol (docs/adapter-protocol.md): either our reference in-process, or
// any adapter over HTTP.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace atproto::conformance {

using json = nlohmann::json;

// One answer to an operation. status is the HTTP status (200 for a verdict);
// transport_error is set when no answer arrived at all.
struct Response {
  int status = 0;
  json body;
  std::string raw_body;
  std::string transport_error;

  bool ok() const { return transport_error.empty() && status == 200; }
};

struct Capabilities {
  std::string name;
  std::string version;
  std::vector<std::string> operations;
  bool supports(const std::string& operation) const;
};

class Target {
 public:
  virtual ~Target() = default;
  virtual std::string description() const = 0;
  virtual Response capabilities() = 0;
  // operation is "<area>/<operation>", e.g. "syntax/validate".
  virtual Response call(const std::string& operation, const json& request) = 0;
  // A one-line shell command that reproduces the call, or "" if none applies.
  // With body_file, the command reads the request body from that file (which
  // the caller writes) instead of carrying it inline.
  virtual std::string reproduce_command(const std::string& operation, const json& request,
                                        const std::string& body_file) const = 0;
  // The body a reproduction sends for `request` (what body_file holds): the
  // request itself for adapters; service targets carry their HTTP body inside.
  virtual std::string request_body(const json& request) const;
};

// Our reference implementation, called in-process. The same dispatch backs
// atproto-adapter, so in-process and HTTP runs answer identically.
std::unique_ptr<Target> make_reference_target();

// An adapter at base_url, e.g. "http://127.0.0.1:8123". Loopback only is
// not enforced here; the CLI documents it.
std::unique_ptr<Target> make_http_target(const std::string& base_url, int timeout_ms = 10000);

// Quotes a string for a POSIX shell (reproduce commands).
std::string shell_quote(const std::string& s);

// The reference's answer to one protocol request: (status, body). Used by
// the reference target and by atproto-adapter.
Response reference_dispatch(const std::string& operation, const json& request);
// The same for a request body as JSON text (atproto-adapter's entry): a body
// that is not JSON gets 400, and data/encode refuses objects that repeat a
// key, which parsed JSON can no longer show.
Response reference_dispatch_text(const std::string& operation, std::string_view body);
// The operations reference_dispatch answers.
const std::vector<std::string>& reference_operations();

}  // namespace atproto::conformance

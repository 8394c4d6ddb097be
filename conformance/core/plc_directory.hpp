// The "plc-directory" service suite: drives a running did:plc directory
// over its HTTP API (shared/atproto-spec/plc-server-openapi3.yaml) as a
// client would: creates DIDs, updates them, rotates keys, recovers within
// the 72-hour window, tombstones them, submits broken operations, and
// checks every read (resolve, data, log, audit log, last, export) against
// what was submitted and against the identity library's audit-log rules.
//
// Every case makes its own fresh DIDs with fresh random keys, so cases are
// independent of each other and the suite can run again against the same
// directory. It writes to the directory: point it at a test instance.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "model.hpp"

namespace atproto::conformance {

// The single operation a plc-directory target offers: one HTTP exchange.
// Request {"method", "path", "body"?}; the Response's status is the HTTP
// status, raw_body the body, and body {"content_type", "json"} (json is
// null when the body is not JSON).
inline constexpr const char* kPlcDirectoryHttp = "plc-directory/http";

// A PLC directory at base_url ("http://127.0.0.1:2582"). Loopback and
// private addresses are refused unless allow_private_addresses (the CLI's
// --allow-private), as for every outbound fetch of the project.
std::unique_ptr<Target> make_plc_directory_target(const std::string& base_url, int timeout_ms,
                                                  bool allow_private_addresses);

std::vector<Case> build_plc_directory_suite(const Catalog& catalog);

}  // namespace atproto::conformance

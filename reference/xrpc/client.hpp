// An XRPC client: queries and procedures against a service URL, with the
// safe-fetch policy of the identity layer (timeouts, size caps, private
// addresses refused unless allowed). Used by the PDS (PLC directory,
// atproto-proxy), the relay, the service suites and the tests.
// https://atproto.com/specs/xrpc
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "atproto/common/result.hpp"
#include "atproto/identity/fetch.hpp"

namespace atproto::xrpc {

using QueryParams = std::vector<std::pair<std::string, std::string>>;

struct XrpcResponse {
  int status = 0;
  identity::HeaderList headers;  // names lowercased
  std::string body;
  // The body parsed as JSON when the content type is application/json and
  // it parses (integers keep every digit: int64/uint64, never double).
  std::optional<nlohmann::json> json;

  bool ok() const { return status >= 200 && status < 300; }
  std::optional<std::string> header(std::string_view name) const;
  // The XRPC error name ("InvalidRequest", ...) of an error body, or "".
  std::string error_name() const;
  std::string error_message() const;
};

class XrpcClient {
 public:
  // `service` is the base URL ("http://127.0.0.1:2583"); a trailing slash is
  // ignored.
  explicit XrpcClient(std::string service, identity::FetchPolicy policy = {});

  // Sent as `Authorization: Bearer <token>` on every later call; "" clears.
  void set_bearer(std::string token);
  const std::string& service() const { return service_; }

  // GET /xrpc/<nsid>?params (percent-encoded, repeated keys for arrays).
  // Transport failures are errors (the fetch.* codes); any HTTP status,
  // 4xx and 5xx included, is a response.
  Result<XrpcResponse> query(std::string_view nsid, const QueryParams& params = {},
                             const identity::HeaderList& headers = {}) const;
  // POST /xrpc/<nsid> with a JSON body (none when `input` is null).
  Result<XrpcResponse> procedure(std::string_view nsid, const nlohmann::json& input,
                                 const QueryParams& params = {},
                                 const identity::HeaderList& headers = {}) const;
  // POST with raw bytes and a content type (uploadBlob, importRepo).
  Result<XrpcResponse> procedure_bytes(std::string_view nsid, std::string_view body,
                                       std::string_view content_type,
                                       const QueryParams& params = {},
                                       const identity::HeaderList& headers = {}) const;
  // Any method and path (for non-XRPC routes such as
  // /.well-known/atproto-did, and for malformed requests in tests).
  Result<XrpcResponse> request(std::string_view method, std::string_view path_and_query,
                               std::string_view body, const identity::HeaderList& headers) const;

 private:
  std::string service_;
  identity::FetchPolicy policy_;
  std::string bearer_;
};

// "a=1&b=x%20y": each key and value percent-encoded (unreserved kept).
std::string encode_query(const QueryParams& params);

}  // namespace atproto::xrpc

// XrpcClient: XRPC calls over the identity layer's safe fetch, so every call
// has its timeout, size cap and address vetting.
// https://atproto.com/specs/xrpc#lexicon-http-endpoints
#include "atproto/xrpc/client.hpp"

#include <algorithm>
#include <cctype>

#include "atproto/xrpc/url.hpp"

namespace atproto::xrpc {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool has_header(const identity::HeaderList& headers, std::string_view name) {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& h) { return iequals(h.first, name); });
}

// application/json, with or without parameters (charset), any case.
bool is_json_type(std::string_view content_type) {
  auto semi = content_type.find(';');
  std::string_view type = content_type.substr(0, semi);
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  return iequals(type, "application/json");
}

std::string string_field(const std::optional<nlohmann::json>& json, const char* name) {
  if (!json || !json->is_object()) return "";
  auto it = json->find(name);
  return it != json->end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

std::optional<std::string> XrpcResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return v;
  return std::nullopt;
}

// [xrpc.error.body] The error name and message of the standard error body.
std::string XrpcResponse::error_name() const { return string_field(json, "error"); }
std::string XrpcResponse::error_message() const { return string_field(json, "message"); }

std::string encode_query(const QueryParams& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out.push_back('&');
    out += percent_encode(k);
    out.push_back('=');
    out += percent_encode(v);
  }
  return out;
}

XrpcClient::XrpcClient(std::string service, identity::FetchPolicy policy)
    : service_(std::move(service)), policy_(std::move(policy)) {
  while (!service_.empty() && service_.back() == '/') service_.pop_back();
}

void XrpcClient::set_bearer(std::string token) { bearer_ = std::move(token); }

Result<XrpcResponse> XrpcClient::request(std::string_view method, std::string_view path_and_query,
                                         std::string_view body,
                                         const identity::HeaderList& headers) const {
  identity::HeaderList all = headers;
  if (!bearer_.empty() && !has_header(all, "authorization"))
    all.emplace_back("Authorization", "Bearer " + bearer_);
  std::string url = service_;
  if (path_and_query.empty() || path_and_query.front() != '/') url.push_back('/');
  url += path_and_query;
  auto fetched = identity::http_request(method, url, body, all, policy_);
  if (!fetched.ok()) return fetched.error();
  XrpcResponse out;
  out.status = fetched->status;
  out.headers = std::move(fetched.value().headers);
  out.body = std::move(fetched.value().body);
  if (auto type = out.header("content-type"); type && is_json_type(*type)) {
    // nlohmann keeps integers as int64/uint64, so no digit is lost.
    auto parsed = nlohmann::json::parse(out.body, nullptr, false);
    if (!parsed.is_discarded()) out.json = std::move(parsed);
  }
  return out;
}

namespace {

std::string method_path(std::string_view nsid, const QueryParams& params) {
  // [xrpc.http.path] Every method lives at /xrpc/<nsid>, at the top level.
  std::string path = "/xrpc/" + std::string(nsid);
  if (!params.empty()) path += "?" + encode_query(params);
  return path;
}

}  // namespace

Result<XrpcResponse> XrpcClient::query(std::string_view nsid, const QueryParams& params,
                                       const identity::HeaderList& headers) const {
  return request("GET", method_path(nsid, params), "", headers);
}

Result<XrpcResponse> XrpcClient::procedure(std::string_view nsid, const nlohmann::json& input,
                                           const QueryParams& params,
                                           const identity::HeaderList& headers) const {
  if (input.is_null()) return request("POST", method_path(nsid, params), "", headers);
  identity::HeaderList all = headers;
  if (!has_header(all, "content-type")) all.emplace_back("Content-Type", "application/json");
  return request("POST", method_path(nsid, params),
                 input.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), all);
}

Result<XrpcResponse> XrpcClient::procedure_bytes(std::string_view nsid, std::string_view body,
                                                 std::string_view content_type,
                                                 const QueryParams& params,
                                                 const identity::HeaderList& headers) const {
  identity::HeaderList all = headers;
  if (!has_header(all, "content-type")) all.emplace_back("Content-Type", std::string(content_type));
  return request("POST", method_path(nsid, params), body, all);
}

}  // namespace atproto::xrpc

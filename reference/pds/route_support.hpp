// Pieces the repository and sync routes share: errors as XRPC answers,
// lexicon parameter checks, JSON bodies, and finding the account a `repo`
// parameter names.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

#include "atproto/common/result.hpp"
#include "atproto/data/json.hpp"
#include "atproto/lexicon/validate.hpp"
#include "atproto/pds/context.hpp"
#include "atproto/xrpc/http_server.hpp"

namespace atproto::pds::routes {

// An Error as an XRPC answer: XRPC-style names (capitalized: InvalidSwap,
// RecordNotFound, ...) are answered as they are with 400, storage failures
// as 500 InternalServerError, anything else (a rule id of a lower layer) as
// 400 InvalidRequest with the id in the message.
inline xrpc::HttpResponse error_response(const Error& error) {
  if (error.code == "storage.io") {
    return xrpc::xrpc_error(500, "InternalServerError", error.message);
  }
  if (!error.code.empty() && error.code[0] >= 'A' && error.code[0] <= 'Z') {
    return xrpc::xrpc_error(400, error.code, error.message);
  }
  return xrpc::xrpc_error(400, "InvalidRequest", error.code + ": " + error.message);
}

// Either the value or the answer to give instead.
template <typename T>
using Checked = std::variant<T, xrpc::HttpResponse>;

// The query parameters checked against the method's lexicon (types,
// ranges, formats), with defaults filled in. Without the lexicon in the
// catalog, the raw text values. [pds.service.bad-request] A bad or missing
// parameter is a 400 before the handler reads anything
// [pds.robust.fuzz-every-route].
inline Checked<data::Map> params(const PdsContext& context, std::string_view nsid,
                                 const xrpc::HttpRequest& request) {
  if (context.catalog.document(nsid) != nullptr) {
    auto checked = lexicon::validate_params(context.catalog, nsid, request.query);
    if (!checked.ok()) return xrpc::xrpc_error(400, "InvalidRequest", checked.error().message);
    return std::move(checked).value();
  }
  data::Map out;
  for (const auto& [name, value] : request.query) out.emplace(name, value);
  return out;
}

inline std::optional<std::string> string_param(const data::Map& params, const std::string& name) {
  auto it = params.find(name);
  if (it == params.end() || !it->second.is_string()) return std::nullopt;
  return it->second.as_string();
}

inline std::optional<std::int64_t> integer_param(const data::Map& params, const std::string& name) {
  auto it = params.find(name);
  if (it == params.end()) return std::nullopt;
  if (it->second.is_integer()) return it->second.as_integer();
  if (it->second.is_string()) {
    const auto& text = it->second.as_string();
    std::int64_t n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec == std::errc{} && end == text.data() + text.size()) return n;
  }
  return std::nullopt;
}

inline bool bool_param(const data::Map& params, const std::string& name) {
  auto it = params.find(name);
  if (it == params.end()) return false;
  if (it->second.is_bool()) return it->second.as_bool();
  return it->second.is_string() && it->second.as_string() == "true";
}

// A JSON request body as a data model map, checked against the method's
// input schema when the catalog holds it. [pds.service.bad-request] A
// malformed or mistyped body is a 400 [pds.robust.fuzz-every-route].
inline Checked<data::Value> json_body(const PdsContext& context, std::string_view nsid,
                                      const xrpc::HttpRequest& request) {
  auto json = nlohmann::json::parse(request.body, nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    return xrpc::xrpc_error(400, "InvalidRequest", "the body is not a JSON object");
  }
  auto value = data::from_json(json);
  if (!value.ok()) {
    return xrpc::xrpc_error(
        400, "InvalidRequest",
        "the body is not valid data: " + value.error().code + ": " + value.error().message);
  }
  if (context.catalog.document(nsid) != nullptr) {
    if (auto st = lexicon::validate_input(context.catalog, nsid, *value); !st.ok()) {
      return xrpc::xrpc_error(400, "InvalidRequest", "Input " + st.error().message);
    }
  }
  return std::move(value).value();
}

// The account a `repo` parameter (DID or handle) names, or the answer when
// there is none.
inline Checked<AccountInfo> find_account(const PdsContext& context, const std::string& repo) {
  auto found = context.accounts->find(repo);
  if (!found.ok()) return error_response(found.error());
  if (!found->has_value()) {
    return xrpc::xrpc_error(400, "RepoNotFound", "could not find repo: " + repo);
  }
  return **found;
}

}  // namespace atproto::pds::routes

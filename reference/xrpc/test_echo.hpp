// Test support for the xrpc layer's tests: a request as the server decoded
// it, written back as JSON so a client-side test can see every part.
#pragma once

#include <nlohmann/json.hpp>

#include "atproto/xrpc/http_server.hpp"

namespace atproto::xrpc::testing {

inline nlohmann::json request_as_json(const HttpRequest& req) {
  nlohmann::json q = nlohmann::json::array();
  for (const auto& [k, v] : req.query) q.push_back({k, v});
  nlohmann::json h = nlohmann::json::object();
  for (const auto& [k, v] : req.headers) h[k] = v;
  return {{"method", req.method}, {"target", req.target}, {"path", req.path},
          {"query", q},           {"headers", h},         {"body", req.body}};
}

}  // namespace atproto::xrpc::testing

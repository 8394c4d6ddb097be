// Test and bench support for the relay: a did:plc directory faked on
// loopback, a firehose reader, and (from atproto/sync/fake_host.hpp, shared
// with the conformance runner's relay suite) PDS hosts and accounts whose
// commits are genuine signed commits of repo::Repository.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "atproto/car/car.hpp"
#include "atproto/crypto/keys.hpp"
#include "atproto/data/value.hpp"
#include "atproto/identity/did_document.hpp"
#include "atproto/repo/block_store.hpp"
#include "atproto/repo/repository.hpp"
#include "atproto/sync/events.hpp"
#include "atproto/sync/fake_host.hpp"
#include "atproto/syntax/tid.hpp"
#include "atproto/xrpc/http_server.hpp"
#include "atproto/xrpc/router.hpp"
#include "atproto/xrpc/websocket.hpp"

namespace atproto::relay::testing {

using sync::testing::FakePds;
using sync::testing::now_datetime_for_tests;
using sync::testing::test_record;
using sync::testing::TestAccount;

// A did:plc directory answering GET /<did> from a map the test edits.
class FakePlc {
 public:
  FakePlc()
      : server_({}, [this](const xrpc::HttpRequest& r) {
          std::lock_guard lock(mutex_);
          auto it = documents_.find(r.path.substr(1));
          if (it == documents_.end()) return xrpc::HttpResponse::json(404, {{"message", "no"}});
          return xrpc::HttpResponse::json(200, it->second);
        }) {
    port_ = server_.start().value();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void put(const std::string& did, const crypto::PublicKey& key, const std::string& pds_url) {
    identity::DidDocument doc;
    doc.id = did;
    doc.also_known_as = {"at://" + did.substr(8) + ".test"};
    doc.verification_methods = {{did + "#atproto", "Multikey", did, key.multibase()}};
    doc.services = {{"#atproto_pds", "AtprotoPersonalDataServer", pds_url}};
    std::lock_guard lock(mutex_);
    documents_[did] = identity::to_json(doc);
  }

 private:
  std::mutex mutex_;
  std::map<std::string, nlohmann::json> documents_;
  xrpc::HttpServer server_;
  std::uint16_t port_ = 0;
};

// A did:plc-shaped DID (24 base32 characters) from a number.
inline std::string test_did(int n) {
  std::string body = "relaytest" + std::to_string(n);
  const char* alphabet = "abcdefghijklmnopqrstuvwxyz234567";
  std::string out;
  for (char c : body) out += alphabet[static_cast<unsigned char>(c) % 32];
  out.resize(24, 'a');
  return "did:plc:" + out;
}

// A consumer of a firehose.
class Reader {
 public:
  static std::unique_ptr<Reader> connect(std::uint16_t port, std::optional<std::int64_t> cursor) {
    std::string url =
        "ws://127.0.0.1:" + std::to_string(port) + "/xrpc/com.atproto.sync.subscribeRepos";
    if (cursor) url += "?cursor=" + std::to_string(*cursor);
    xrpc::WebSocketClientOptions options;
    options.policy.allow_private_addresses = true;
    auto client = xrpc::WebSocketClient::connect(url, options);
    if (!client) return nullptr;
    auto out = std::make_unique<Reader>();
    out->client = std::move(client).value();
    return out;
  }

  // The next message, or nullopt after timeout_ms or at the end.
  std::optional<sync::Message> next(int timeout_ms = 10000) {
    auto bytes = client->read(timeout_ms);
    if (!bytes) {
      ended = bytes.error().code != "xrpc.ws.timeout";
      return std::nullopt;
    }
    if (!bytes.value()) {
      ended = true;
      return std::nullopt;
    }
    auto message = sync::decode_message(*bytes.value());
    if (!message) return std::nullopt;
    return std::move(message).value();
  }
  // The next event (skipping nothing): nullopt when the next message is
  // not an event or nothing came.
  std::optional<sync::Event> next_event(int timeout_ms = 10000) {
    auto m = next(timeout_ms);
    if (!m) return std::nullopt;
    if (auto* e = std::get_if<sync::Event>(&*m)) return *e;
    return std::nullopt;
  }

  std::unique_ptr<xrpc::WebSocketClient> client;
  bool ended = false;
};

}  // namespace atproto::relay::testing

// A PDS host faked on loopback (an HttpServer serving subscribeRepos and
// getRepo) and accounts whose commits are genuine signed commits of
// repo::Repository: what the relay's tests and the conformance runner's
// relay suite (conformance/core/relay_suite.cpp) emit to a relay under test,
// valid chains and, by editing an event after it was built, each kind of
// invalid one.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "atproto/crypto/keys.hpp"
#include "atproto/data/value.hpp"
#include "atproto/repo/block_store.hpp"
#include "atproto/repo/repository.hpp"
#include "atproto/sync/events.hpp"
#include "atproto/syntax/tid.hpp"
#include "atproto/xrpc/http_server.hpp"
#include "atproto/xrpc/router.hpp"
#include "atproto/xrpc/websocket.hpp"

namespace atproto::sync::testing {

// The informal `time` of the events built here (the spec leaves it out of
// every check).
inline std::string now_datetime_for_tests() { return "2024-01-01T00:00:00.000Z"; }

inline data::Value test_record(int i, std::size_t padding = 0) {
  return data::Map{{"$type", "app.bsky.feed.post"},
                   {"text", "post " + std::to_string(i) + std::string(padding, 'x')},
                   {"createdAt", "2024-01-01T00:00:00.000Z"}};
}

// An account with a real repository. Its first commit() creates the
// repository and returns the first #commit a PDS emits for a new account
// (since null, no prevData: it inverts to the empty tree); later ones apply
// writes to it.
struct TestAccount {
  std::string did;
  crypto::PrivateKey key;
  repo::MemoryBlockStore blocks;
  std::optional<repo::Repository> repository;
  int records = 0;

  explicit TestAccount(std::string d)
      : did(std::move(d)), key(crypto::PrivateKey::generate(crypto::Curve::kK256).value()) {}

  static repo::Repository::RevClock clock(std::int64_t offset_us = 0) {
    return [offset_us] {
      auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
      return syntax::encode_tid({static_cast<std::uint64_t>(now + offset_us), 0}).value();
    };
  }

  std::vector<repo::WriteOp> creates(int n, std::size_t padding = 0) {
    std::vector<repo::WriteOp> writes;
    for (int i = 0; i < n; ++i) {
      ++records;
      auto rkey =
          syntax::encode_tid({1'700'000'000'000'000ULL + static_cast<std::uint64_t>(records), 0});
      writes.push_back({repo::Action::kCreate, "app.bsky.feed.post", rkey.value(),
                        test_record(records, padding)});
    }
    return writes;
  }

  // The next commit of n created records on the account's chain.
  sync::CommitEvent commit(int n = 1, std::size_t padding = 0) {
    if (!repository) {
      repository.emplace(
          repo::Repository::create(blocks, did, key, creates(n, padding), clock()).value());
      std::vector<repo::RecordOp> ops;
      for (const auto& entry : repository->list_records().value()) {
        ops.push_back({repo::Action::kCreate, entry.key, entry.value, std::nullopt});
      }
      return sync::CommitEvent{.seq = 0,
                               .repo = did,
                               .commit = repository->commit_cid(),
                               .rev = repository->commit().rev,
                               .since = std::nullopt,
                               .blocks = repository->export_car().value(),
                               .ops = std::move(ops),
                               .blobs = {},
                               .prev_data = std::nullopt,
                               .time = now_datetime_for_tests()};
    }
    auto result = repository->apply_writes(creates(n, padding), key);
    return sync::commit_event(result.value(), 0, now_datetime_for_tests());
  }

  // A commit off the chain: built on the current head (after the first
  // commit), signed by `signer`, leaving the account's own chain as it was.
  sync::CommitEvent fork(const crypto::PrivateKey& signer, int n = 1,
                         repo::Repository::RevClock fork_clock = {}) {
    auto other =
        repo::Repository::load(blocks, repository->commit_cid(), fork_clock ? fork_clock : clock())
            .value();
    auto result = other.apply_writes(creates(n), signer);
    return sync::commit_event(result.value(), 0, now_datetime_for_tests());
  }
};

// A PDS host: subscribeRepos replays its events after the cursor and then
// streams new ones; getRepo answers the CARs the test puts (held back on
// request: hold_get_repo).
class FakePds {
 public:
  explicit FakePds(std::uint16_t port = 0, std::int64_t first_seq = 1) : next_seq_(first_seq) {
    (void)router_.subscription(
        "com.atproto.sync.subscribeRepos", {{"cursor", xrpc::ParamSpec::Kind::integer}},
        [this](const xrpc::HttpRequest& r) {
          std::int64_t cursor = 0;
          if (auto c = r.query_param("cursor")) cursor = std::stoll(*c);
          xrpc::HttpResponse response;
          response.upgrade = [this, cursor](std::shared_ptr<xrpc::WebSocketConnection> c) {
            std::lock_guard lock(mutex_);
            cursors_.push_back(cursor);
            for (const auto& [seq, frame] : frames_) {
              if (seq > cursor) c->send_binary(frame);
            }
            live_.push_back(std::move(c));
          };
          return response;
        });
    (void)router_.query(
        "com.atproto.sync.getRepo", {{"did", xrpc::ParamSpec::Kind::string, true}},
        [this](const xrpc::HttpRequest& r) {
          std::unique_lock lock(mutex_);
          ++get_repo_calls_;
          auto it = repos_.find(r.query_param("did").value_or(""));
          if (it == repos_.end()) {
            return xrpc::xrpc_error(400, "RepoNotFound", "no such repo");
          }
          // The repository as it is when the request comes,
          // answered once released (at most a minute later).
          std::string car(it->second.begin(), it->second.end());
          released_.wait_for(lock, std::chrono::minutes(1), [this] { return !hold_get_repo_; });
          return xrpc::HttpResponse::text(200, std::move(car), "application/vnd.ipld.car");
        });
    start(port);
  }
  ~FakePds() { stop(); }

  void start(std::uint16_t port) {
    xrpc::ServerOptions options;
    options.port = port;
    options.threads = 4;  // a held getRepo occupies one
    server_ = std::make_unique<xrpc::HttpServer>(options, router_.handler());
    port_ = server_->start().value();
  }
  // Closes every subscriber and stops listening (the events are kept).
  void stop() {
    release_get_repo();
    {
      std::lock_guard lock(mutex_);
      for (auto& c : live_) c->close(1001, "going away");
      live_.clear();
    }
    if (server_) server_->stop();
    server_.reset();
  }

  std::uint16_t port() const { return port_; }
  std::string hostname() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string url() const { return "http://" + hostname(); }

  // Sequences and sends an event; returns its seq.
  std::int64_t emit(sync::Event event) {
    std::lock_guard lock(mutex_);
    std::int64_t seq = next_seq_++;
    std::visit(
        [&](auto& e) {
          if constexpr (!std::is_same_v<std::decay_t<decltype(e)>, sync::InfoEvent>) e.seq = seq;
        },
        event);
    return send_locked(seq, sync::encode_event(event));
  }
  // Sends bytes as they are (a malformed frame) under the next seq slot.
  std::int64_t emit_raw(std::vector<std::uint8_t> frame) {
    std::lock_guard lock(mutex_);
    return send_locked(next_seq_++, std::move(frame));
  }
  // Sends bytes to the subscribers connected now only, outside the
  // sequence and not kept for replay (a frame damaged on the way, say): a
  // consumer that reconnects by cursor does not get it again.
  void send_live(const std::vector<std::uint8_t>& frame) {
    std::lock_guard lock(mutex_);
    std::erase_if(live_, [&](const auto& c) { return !c->send_binary(frame); });
  }
  // From now on getRepo answers wait until release_get_repo(), each with
  // the repository as it was when its request came.
  void hold_get_repo() {
    std::lock_guard lock(mutex_);
    hold_get_repo_ = true;
  }
  void release_get_repo() {
    {
      std::lock_guard lock(mutex_);
      hold_get_repo_ = false;
    }
    released_.notify_all();
  }
  void put_repo(const std::string& did, std::vector<std::uint8_t> car) {
    std::lock_guard lock(mutex_);
    repos_[did] = std::move(car);
  }
  std::vector<std::int64_t> cursors() const {
    std::lock_guard lock(mutex_);
    return cursors_;
  }
  int get_repo_calls() const {
    std::lock_guard lock(mutex_);
    return get_repo_calls_;
  }

 private:
  std::int64_t send_locked(std::int64_t seq, std::vector<std::uint8_t> frame) {
    frames_.emplace_back(seq, frame);
    std::erase_if(live_, [&](const auto& c) { return !c->send_binary(frame); });
    return seq;
  }

  mutable std::mutex mutex_;
  xrpc::Router router_;
  std::unique_ptr<xrpc::HttpServer> server_;
  std::uint16_t port_ = 0;
  std::int64_t next_seq_;
  std::vector<std::pair<std::int64_t, std::vector<std::uint8_t>>> frames_;
  std::vector<std::shared_ptr<xrpc::WebSocketConnection>> live_;
  std::vector<std::int64_t> cursors_;
  std::map<std::string, std::vector<std::uint8_t>> repos_;
  int get_repo_calls_ = 0;
  bool hold_get_repo_ = false;
  std::condition_variable released_;
};

}  // namespace atproto::sync::testing

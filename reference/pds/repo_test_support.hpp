// What the repositories part's tests share: a PdsContext on a fresh data
// folder, the official lexicons, a fake account side (bearer token = DID),
// the repositories, blobs and sequencer parts, and a fake WebSocket
// connection that records what it was sent.
#pragma once

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "atproto/lexicon/catalog.hpp"
#include "atproto/lexicon/schema.hpp"
#include "atproto/pds/blobs.hpp"
#include "atproto/pds/context.hpp"
#include "atproto/pds/repos.hpp"
#include "atproto/pds/sequencer.hpp"
#include "atproto/xrpc/router.hpp"

namespace atproto::pds::testing {

// The official lexicons (tools/fetch-lexicons), loaded once per process.
inline void load_official_lexicons(lexicon::Catalog& catalog) {
  const auto dir = std::filesystem::path(ATPROTO_SOURCE_ROOT) / "generated" / "lexicons";
  if (!std::filesystem::is_directory(dir)) return;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".json") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    if (auto doc = lexicon::parse_lexicon_text(text.str()); doc.ok())
      (void)catalog.add(std::move(doc).value());
  }
}

class FakeAccounts final : public AccountAccess {
 public:
  // A new active account with a fresh k256 signing key.
  void add(const std::string& did, const std::string& handle) {
    std::lock_guard lock(mutex_);
    auto key = crypto::PrivateKey::generate(crypto::Curve::kK256);
    keys_.emplace(did, std::move(key).value());
    infos_[did] = AccountInfo{did, handle, handle + "@example.com", AccountStatus::kActive, ""};
  }
  void set_status(const std::string& did, AccountStatus status) {
    std::lock_guard lock(mutex_);
    infos_[did].status = status;
  }
  Result<Caller> authenticate(const xrpc::HttpRequest& request) const override {
    auto header = request.header("authorization");
    if (!header || header->rfind("Bearer ", 0) != 0)
      return make_error("AuthenticationRequired", "no bearer token");
    std::string did = header->substr(7);
    std::lock_guard lock(mutex_);
    auto it = infos_.find(did);
    if (it == infos_.end()) return make_error("InvalidToken", "unknown token");
    // As Accounts does: only an active account acts on its repository.
    if (it->second.status == AccountStatus::kTakendown)
      return make_error("AccountTakedown", "Account has been taken down");
    if (it->second.status != AccountStatus::kActive)
      return make_error("AccountDeactivated", "Account is deactivated");
    return Caller{did, AuthScope::kAccess};
  }
  Result<std::optional<AccountInfo>> find(std::string_view did_or_handle) const override {
    std::lock_guard lock(mutex_);
    for (const auto& [did, info] : infos_) {
      if (did == did_or_handle || info.handle == did_or_handle)
        return std::optional<AccountInfo>(info);
    }
    return std::optional<AccountInfo>{};
  }
  Result<crypto::PrivateKey> signing_key(std::string_view did) const override {
    std::lock_guard lock(mutex_);
    auto it = keys_.find(std::string(did));
    if (it == keys_.end()) return make_error("AccountNotFound", "no key");
    auto bytes = it->second.export_bytes();
    return crypto::PrivateKey::from_bytes(it->second.curve(), bytes.bytes());
  }
  crypto::PublicKey public_key(const std::string& did) const {
    std::lock_guard lock(mutex_);
    return keys_.at(did).public_key();
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, crypto::PrivateKey> keys_;
  std::map<std::string, AccountInfo> infos_;
};

// Records what the fan-out sends; `stalled` makes it report a full queue,
// as a real connection to a consumer that reads nothing would.
class FakeConnection final : public xrpc::WebSocketConnection {
 public:
  bool send_binary(std::vector<std::uint8_t> message) override {
    std::lock_guard lock(mutex_);
    if (closed_) return false;
    messages_.push_back(std::move(message));
    return true;
  }
  void close(std::uint16_t code, std::string reason) override {
    std::function<void()> callback;
    {
      std::lock_guard lock(mutex_);
      if (closed_) return;
      closed_ = true;
      close_code_ = code;
      close_reason_ = std::move(reason);
      callback = on_close_;
    }
    if (callback) callback();
  }
  bool is_open() const override {
    std::lock_guard lock(mutex_);
    return !closed_;
  }
  std::size_t queued_bytes() const override { return stalled ? std::size_t{1} << 30 : 0; }
  void on_close(std::function<void()> callback) override {
    std::lock_guard lock(mutex_);
    on_close_ = std::move(callback);
  }
  std::string remote_address() const override { return "127.0.0.1"; }

  std::vector<std::vector<std::uint8_t>> messages() const {
    std::lock_guard lock(mutex_);
    return messages_;
  }
  std::size_t count() const {
    std::lock_guard lock(mutex_);
    return messages_.size();
  }
  std::uint16_t close_code() const {
    std::lock_guard lock(mutex_);
    return close_code_;
  }

  std::atomic<bool> stalled{false};

 private:
  mutable std::mutex mutex_;
  std::vector<std::vector<std::uint8_t>> messages_;
  bool closed_ = false;
  std::uint16_t close_code_ = 0;
  std::string close_reason_;
  std::function<void()> on_close_;
};

inline std::string fresh_data_dir() {
  static std::atomic<int> counter{0};
  std::random_device random;
  auto dir = std::filesystem::temp_directory_path() /
             ("pds-repo-test-" + std::to_string(random()) + "-" + std::to_string(counter++));
  std::filesystem::create_directories(dir);
  return dir.string();
}

inline const lexicon::Catalog& official_catalog_once() {
  static lexicon::Catalog* catalog = [] {
    auto* c = new lexicon::Catalog();
    load_official_lexicons(*c);
    return c;
  }();
  return *catalog;
}

// One PDS's repositories side over a fresh database.
struct RepoFixture {
  std::string dir = fresh_data_dir();
  std::unique_ptr<PdsContext> context;
  FakeAccounts accounts;
  std::unique_ptr<Sequencer> sequencer;
  std::unique_ptr<Repos> repos;
  std::unique_ptr<Blobs> blobs;
  xrpc::Router router;

  explicit RepoFixture(bool with_lexicons = false, PdsConfig config = {}) {
    config.data_dir = dir;
    auto db = sqlite::Database::open(dir + "/pds.sqlite");
    context = std::make_unique<PdsContext>(std::move(config), std::move(db).value());
    if (with_lexicons) load_official_lexicons(context->catalog);
    sequencer = std::make_unique<Sequencer>(*context);
    repos = std::make_unique<Repos>(*context);
    blobs = std::make_unique<Blobs>(*context);
    context->accounts = &accounts;
    context->sequencer = sequencer.get();
    context->repos = repos.get();
    context->blobs = blobs.get();
    (void)sequencer->init_schema();
    (void)repos->init_schema();
    (void)blobs->init_schema();
    register_repo_routes(router, *context);
    register_sync_routes(router, *context);
  }
  ~RepoFixture() {
    sequencer->stop();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  // An account with an empty repository.
  void add_account(const std::string& did, const std::string& handle) {
    accounts.add(did, handle);
    std::lock_guard lock(context->db_mutex);
    sqlite::Transaction tx(context->db);
    auto key = accounts.signing_key(did);
    auto created = repos->create_repo_in_tx(did, *key);
    if (created.ok()) (void)tx.commit();
    sequencer->notify();
  }

  xrpc::HttpResponse call(const std::string& method, const std::string& nsid,
                          const std::vector<std::pair<std::string, std::string>>& query,
                          const std::string& body = "", const std::string& as_did = "",
                          const std::string& content_type = "application/json") const {
    xrpc::HttpRequest request;
    request.method = method;
    request.path = "/xrpc/" + nsid;
    request.target = request.path;
    request.query = query;
    request.body = body;
    if (!as_did.empty()) request.headers.emplace_back("authorization", "Bearer " + as_did);
    if (!body.empty() || method == "POST")
      request.headers.emplace_back("content-type", content_type);
    std::string q;
    for (const auto& [k, v] : query) q += (q.empty() ? "?" : "&") + k + "=" + v;
    request.target += q;
    return router.handle(request);
  }
};

}  // namespace atproto::pds::testing

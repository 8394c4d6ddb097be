// The accounts part of the PDS over HTTP: a whole atproto-pds (Pds::open)
// and our PLC directory (reference/plc) in-process on loopback, driven the
// way the official client drives them.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "atproto/common/sqlite.hpp"
#include "atproto/data/base64.hpp"
#include "atproto/identity/did_document.hpp"
#include "atproto/identity/fetch.hpp"
#include "atproto/identity/plc.hpp"
#include "atproto/pds/accounts.hpp"
#include "atproto/pds/context.hpp"
#include "atproto/pds/pds.hpp"
#include "atproto/pds/sequencer.hpp"
#include "atproto/plc/directory.hpp"
#include "atproto/plc/store.hpp"
#include "atproto/sync/events.hpp"
#include "atproto/xrpc/http_server.hpp"
#include "atproto/xrpc/jwt.hpp"
#include "atproto/xrpc/websocket.hpp"

namespace {

using namespace atproto;
using json = nlohmann::json;
namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  TempDir() {
    std::random_device rd;
    path = fs::temp_directory_path() /
           ("pds-accounts-test-" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

struct Reply {
  int status = 0;
  json body;
  identity::HeaderList headers;
  std::string text;
  std::string header(const std::string& name) const {
    for (const auto& [k, v] : headers) {
      if (k == name) return v;
    }
    return "";
  }
  std::string error() const { return body.is_object() ? body.value("error", "") : ""; }
};

identity::FetchPolicy loopback() {
  identity::FetchPolicy policy;
  policy.allow_private_addresses = true;
  policy.timeout_ms = 20000;
  return policy;
}

Reply http(const std::string& method, const std::string& url, const std::string& body = "",
           identity::HeaderList headers = {}) {
  if (!body.empty()) headers.emplace_back("content-type", "application/json");
  auto got = identity::http_request(method, url, body, headers, loopback());
  REQUIRE(got.ok());
  Reply r;
  r.status = got->status;
  r.headers = got->headers;
  r.text = got->body;
  r.body = json::parse(got->body, nullptr, false);
  return r;
}

// An in-process PLC directory on a loopback port.
struct PlcServer {
  TempDir dir;
  std::unique_ptr<plc::PlcStore> store;
  std::unique_ptr<plc::PlcDirectory> directory;
  std::unique_ptr<xrpc::HttpServer> server;
  std::string url;
  PlcServer() {
    auto s = plc::open_sqlite_store((dir.path / "plc.sqlite").string());
    REQUIRE(s.ok());
    store = std::move(s).value();
    directory = std::make_unique<plc::PlcDirectory>(*store, plc::DirectoryOptions{});
    server = std::make_unique<xrpc::HttpServer>(
        xrpc::ServerOptions{}, [this](const xrpc::HttpRequest& r) { return directory->handle(r); });
    auto port = server->start();
    REQUIRE(port.ok());
    url = "http://127.0.0.1:" + std::to_string(*port);
  }
};

struct PdsServer {
  TempDir dir;
  pds::PdsConfig config;
  std::unique_ptr<pds::Pds> pds;
  std::string url;
  explicit PdsServer(const PlcServer& plc,
                     const std::function<void(pds::PdsConfig&)>& tweak = nullptr) {
    config.port = 0;
    config.data_dir = (dir.path / "data").string();
    config.plc_url = plc.url;
    config.allow_private_addresses = true;
    config.admin_password = "admin-secret";
    config.threads = 2;
    config.lexicon_dir = (fs::path(ATPROTO_SOURCE_ROOT) / "generated" / "lexicons").string();
    if (tweak) tweak(config);
    open();
  }
  // Stops the server and opens it again on the same data and port.
  void restart() {
    pds.reset();
    config.port = static_cast<std::uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
    open();
  }
  void open() {
    auto opened = pds::Pds::open(config);
    INFO((opened.ok() ? "" : opened.error().message));
    REQUIRE(opened.ok());
    pds = std::move(opened).value();
    auto port = pds->start();
    REQUIRE(port.ok());
    url = "http://127.0.0.1:" + std::to_string(*port);
  }
  std::string db() const { return (dir.path / "data" / "pds.sqlite").string(); }

  Reply post(const std::string& nsid, const json& body, const std::string& token = "",
             identity::HeaderList headers = {}) const {
    if (!token.empty()) headers.emplace_back("authorization", "Bearer " + token);
    return http("POST", url + "/xrpc/" + nsid, body.is_null() ? "" : body.dump(), headers);
  }
  Reply get(const std::string& nsid_and_query, const std::string& token = "",
            identity::HeaderList headers = {}) const {
    if (!token.empty()) headers.emplace_back("authorization", "Bearer " + token);
    return http("GET", url + "/xrpc/" + nsid_and_query, "", headers);
  }
  json create_account(const std::string& handle, const std::string& password = "hunter22",
                      const std::string& email = "") const {
    json input = {{"handle", handle}, {"password", password}};
    if (!email.empty()) input["email"] = email;
    auto r = post("com.atproto.server.createAccount", input);
    INFO(r.text);
    REQUIRE(r.status == 200);
    return r.body;
  }
  // The one-time token the server logged, read back from its database.
  std::string emailed_token(const std::string& did, const std::string& purpose) const {
    auto opened = sqlite::Database::open(this->db());
    REQUIRE(opened.ok());
    sqlite::Database db = std::move(opened).value();
    auto st = db.prepare("SELECT token FROM account_email_token WHERE did = ? AND purpose = ?");
    st.bind(1, did).bind(2, purpose);
    REQUIRE(st.step() == SQLITE_ROW);
    return st.text(0);
  }
};

// A firehose consumer without sockets: the sequencer's frames as they come.
class Recorder final : public xrpc::WebSocketConnection {
 public:
  bool send_binary(std::vector<std::uint8_t> message) override {
    std::lock_guard lock(mu_);
    messages_.push_back(std::move(message));
    cv_.notify_all();
    return open_;
  }
  void close(std::uint16_t, std::string) override {
    std::lock_guard lock(mu_);
    open_ = false;
  }
  bool is_open() const override {
    std::lock_guard lock(mu_);
    return open_;
  }
  std::size_t queued_bytes() const override { return 0; }
  void on_close(std::function<void()>) override {}
  std::string remote_address() const override { return "127.0.0.1"; }

  // The first `n` messages as "#type" or "#type:status", waiting at most
  // ten seconds for them.
  std::vector<std::string> events(std::size_t n) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(10), [&] { return messages_.size() >= n; });
    std::vector<std::string> out;
    for (const auto& m : messages_) {
      auto message = sync::decode_message(m);
      REQUIRE(message.ok());
      const auto* event = std::get_if<sync::Event>(&*message);
      REQUIRE(event);
      std::string text = sync::event_type(*event);
      if (const auto* account = std::get_if<sync::AccountEvent>(event)) {
        text += account->active ? ":active" : ":" + account->status.value_or("?");
      }
      out.push_back(text);
    }
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::vector<std::uint8_t>> messages_;
  bool open_ = true;
};

// Every event the server sequenced for `did`, from the start of its stream.
std::vector<std::string> events_of(pds::Pds& server, std::size_t expected) {
  auto recorder = std::make_shared<Recorder>();
  server.context().sequencer->subscribe(recorder, std::int64_t{0});
  return recorder->events(expected);
}

json plc_document(const PlcServer& plc, const std::string& did) {
  auto r = http("GET", plc.url + "/" + did);
  REQUIRE(r.status == 200);
  return r.body;
}

// A service DID at the directory naming `endpoint` as its #bsky_appview.
std::string register_service(const PlcServer& plc, const std::string& endpoint) {
  auto service_key = crypto::PrivateKey::generate(crypto::Curve::kK256);
  REQUIRE(service_key.ok());
  identity::PlcOperation op;
  op.rotation_keys = {service_key->public_key().did_key()};
  op.verification_methods["atproto"] = service_key->public_key().did_key();
  op.services["bsky_appview"] = {"BskyAppView", endpoint};
  REQUIRE(identity::sign_plc_operation(op, *service_key).ok());
  const std::string did = identity::did_for_genesis(op).value();
  REQUIRE(http("POST", plc.url + "/" + did, identity::to_json(op).dump()).status == 200);
  return did;
}

json jwt_payload(const std::string& token) {
  auto jwt = xrpc::decode_jwt(token);
  REQUIRE(jwt.ok());
  return jwt->payload;
}

}  // namespace

TEST_CASE("passwords are scrypt hashes with a random salt, compared in constant time",
          "[pds][accounts]") {
  auto a = pds::hash_password("correct horse");
  auto b = pds::hash_password("correct horse");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(*a != *b);  // a fresh salt each time
  CHECK(a->find("correct") == std::string::npos);
  CHECK(pds::verify_password("correct horse", *a));
  CHECK(pds::verify_password("correct horse", *b));
  CHECK_FALSE(pds::verify_password("correct horsE", *a));
  CHECK_FALSE(pds::verify_password("", *a));
  // A damaged record never verifies.
  std::string damaged = *a;
  damaged.back() = damaged.back() == '0' ? '1' : '0';
  CHECK_FALSE(pds::verify_password("correct horse", damaged));
  CHECK_FALSE(pds::verify_password("correct horse", "nocolon"));
  CHECK_FALSE(pds::verify_password("correct horse", a->substr(0, a->find(':') + 3)));
}

TEST_CASE(
    "createAccount makes a did:plc at the directory and a session [pds.account.plc-genesis] "
    "[pds.xrpc.input-lexicon] [handle.resolve.https-well-known] "
    "[pds.session.token-kinds] [pds.auth.status]",
    "[pds][accounts]") {
  PlcServer plc;
  PdsServer server(plc);
  auto describe = server.get("com.atproto.server.describeServer");
  REQUIRE(describe.status == 200);
  CHECK(describe.body["did"] == "did:web:localhost");
  CHECK(describe.body["availableUserDomains"] == json::array({".test"}));
  CHECK(describe.body["inviteCodeRequired"] == false);

  auto created = server.create_account("Alice.test", "hunter22", "alice@example.com");
  const std::string did = created["did"];
  CHECK(did.rfind("did:plc:", 0) == 0);
  CHECK(created["handle"] == "alice.test");  // [handle.normalize.lowercase]

  // The directory holds the genesis operation this PDS signed.
  auto doc = identity::parse_did_document(plc_document(plc, did));
  REQUIRE(doc.ok());
  CHECK(identity::claimed_handle(*doc) == "alice.test");
  auto endpoint = identity::atproto_pds_endpoint(*doc);
  REQUIRE(endpoint);
  CHECK(*endpoint == "http://localhost:" + server.url.substr(server.url.rfind(':') + 1));
  auto log = http("GET", plc.url + "/" + did + "/log/audit");
  REQUIRE(log.status == 200);
  REQUIRE(log.body.size() == 1);
  CHECK(log.body[0]["operation"]["rotationKeys"].size() == 1);

  // Access token: at+jwt, the access scope, our DID as audience, the
  // account as subject, and an expiry.
  auto access = xrpc::decode_jwt(created["accessJwt"].get<std::string>());
  REQUIRE(access.ok());
  CHECK(access->header["typ"] == "at+jwt");
  CHECK(access->header["alg"] == "HS256");
  CHECK(access->payload["scope"] == "com.atproto.access");
  CHECK(access->payload["aud"] == "did:web:localhost");
  CHECK(access->payload["sub"] == did);
  CHECK(access->payload["exp"].get<std::int64_t>() > access->payload["iat"].get<std::int64_t>());
  auto refresh = xrpc::decode_jwt(created["refreshJwt"].get<std::string>());
  REQUIRE(refresh.ok());
  CHECK(refresh->header["typ"] == "refresh+jwt");
  CHECK(refresh->payload["scope"] == "com.atproto.refresh");
  CHECK(refresh->payload["jti"].is_string());

  auto session = server.get("com.atproto.server.getSession", created["accessJwt"]);
  REQUIRE(session.status == 200);
  CHECK(session.body["did"] == did);
  CHECK(session.body["handle"] == "alice.test");
  CHECK(session.body["email"] == "alice@example.com");
  CHECK(session.body["active"] == true);

  // The refresh token is not an access token, nor the other way round.
  auto wrong = server.get("com.atproto.server.getSession", created["refreshJwt"]);
  CHECK(wrong.status == 401);
  CHECK(wrong.error() == "InvalidToken");
  auto wrong2 = server.post("com.atproto.server.refreshSession", nullptr, created["accessJwt"]);
  CHECK(wrong2.status == 401);
  CHECK(wrong2.error() == "InvalidToken");

  // No token at all, or a forged one.
  auto none = server.get("com.atproto.server.getSession");
  CHECK(none.status == 401);
  CHECK(none.error() == "AuthenticationRequired");
  CHECK(none.header("www-authenticate").rfind("Bearer", 0) == 0);
  std::string forged = created["accessJwt"];
  forged.back() = forged.back() == 'A' ? 'B' : 'A';
  CHECK(server.get("com.atproto.server.getSession", forged).error() == "InvalidToken");

  // Logging in by handle (any case), by DID and by email.
  for (std::string identifier : {"ALICE.test", did.c_str(), "Alice@Example.com"}) {
    auto login = server.post("com.atproto.server.createSession",
                             {{"identifier", identifier}, {"password", "hunter22"}});
    INFO(identifier << " " << login.text);
    CHECK(login.status == 200);
    CHECK(login.body["did"] == did);
  }
  auto bad = server.post("com.atproto.server.createSession",
                         {{"identifier", "alice.test"}, {"password", "hunter23"}});
  CHECK(bad.status == 401);
  CHECK(bad.error() == "AuthenticationRequired");

  auto resolved = server.get("com.atproto.identity.resolveHandle?handle=alice.test");
  REQUIRE(resolved.status == 200);
  CHECK(resolved.body["did"] == did);
  auto well_known =
      http("GET", server.url + "/.well-known/atproto-did", "", {{"host", "alice.test"}});
  CHECK(well_known.status == 200);
  CHECK(well_known.text == did);
  CHECK(
      http("GET", server.url + "/.well-known/atproto-did", "", {{"host", "nobody.test"}}).status ==
      404);
}

TEST_CASE("the configured PLC directory is reachable on loopback without opening other fetches",
          "[pds][accounts]") {
  PlcServer plc;
  PdsServer server(plc, [](pds::PdsConfig& c) { c.allow_private_addresses = false; });
  auto created = server.create_account("paul.test");
  CHECK(std::string(created["did"]).rfind("did:plc:", 0) == 0);
  // Another loopback address stays out of reach.
  std::atomic<int> calls{0};
  xrpc::ServerOptions options;
  options.host = "127.0.0.2";
  xrpc::HttpServer upstream(options, [&](const xrpc::HttpRequest&) {
    ++calls;
    return xrpc::HttpResponse::json(200, json::object());
  });
  auto port = upstream.start();
  REQUIRE(port.ok());
  const std::string service = register_service(plc, "http://127.0.0.2:" + std::to_string(*port));
  auto proxied = server.get("app.bsky.actor.getProfile?actor=x", created["accessJwt"],
                            {{"atproto-proxy", service + "#bsky_appview"}});
  CHECK(proxied.status == 502);
  CHECK(calls == 0);
}

TEST_CASE("handles of new accounts follow the server's rules [pds.account.handle-domain]",
          "[pds][accounts]") {
  PlcServer plc;
  PdsServer server(plc);
  server.create_account("taken.test");
  struct Case {
    const char* handle;
    const char* error;
  };
  for (auto c : {Case{"taken.test", "HandleNotAvailable"}, Case{"TAKEN.test", "HandleNotAvailable"},
                 Case{"someone.example.com", "UnsupportedDomain"}, Case{"ab.test", "InvalidHandle"},
                 Case{"abcdefghijklmnopqrstuvwxyz.test", "InvalidHandle"},
                 Case{"two.labels.test", "InvalidHandle"}}) {
    auto r =
        server.post("com.atproto.server.createAccount", {{"handle", c.handle}, {"password", "pw"}});
    INFO(c.handle << " " << r.text);
    CHECK(r.status == 400);
    CHECK(r.error() == c.error);
  }
  // Not a handle at all: refused by the lexicon's handle format already.
  auto r = server.post("com.atproto.server.createAccount",
                       {{"handle", "not a handle"}, {"password", "pw"}});
  CHECK(r.status == 400);
}

TEST_CASE("refresh tokens rotate and are single-use [pds.session.refresh-single-use]",
          "[pds][accounts]") {
  // [pds.service.refresh-rotation] [pds.service.refresh-revoked]
  PlcServer plc;
  PdsServer server(plc);
  auto created = server.create_account("bob.test");
  std::string refresh1 = created["refreshJwt"];
  auto r1 = server.post("com.atproto.server.refreshSession", nullptr, refresh1);
  INFO(r1.text);
  REQUIRE(r1.status == 200);
  std::string refresh2 = r1.body["refreshJwt"];
  CHECK(refresh2 != refresh1);
  CHECK(server.get("com.atproto.server.getSession", r1.body["accessJwt"]).status == 200);
  // The used token is gone.
  auto reuse = server.post("com.atproto.server.refreshSession", nullptr, refresh1);
  CHECK(reuse.status == 401);
  CHECK(reuse.error() == "InvalidToken");
  // deleteSession revokes the current one.
  CHECK(server.post("com.atproto.server.deleteSession", nullptr, refresh2).status == 200);
  CHECK(server.post("com.atproto.server.refreshSession", nullptr, refresh2).error() ==
        "InvalidToken");
}

TEST_CASE("expired access tokens answer ExpiredToken", "[pds][accounts]") {
  PlcServer plc;
  PdsServer server(plc, [](pds::PdsConfig& c) { c.access_token_seconds = 1; });
  auto created = server.create_account("carol.test");
  std::string access = created["accessJwt"];
  const auto exp = jwt_payload(access)["exp"].get<std::int64_t>();
  // Wait (bounded) until the expiry second has passed.
  for (int i = 0; i < 40; ++i) {
    auto now = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    if (now > exp) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  auto r = server.get("com.atproto.server.getSession", access);
  CHECK(r.status == 401);
  CHECK(r.error() == "ExpiredToken");
  CHECK(r.header("www-authenticate").find("invalid_token") != std::string::npos);
  // The refresh token still works and gives a fresh access token.
  auto refreshed = server.post("com.atproto.server.refreshSession", nullptr, created["refreshJwt"]);
  CHECK(refreshed.status == 200);
}

TEST_CASE("app passwords open narrower sessions and can be revoked", "[pds][accounts]") {
  // [pds.service.app-password]
  PlcServer plc;
  PdsServer server(plc);
  auto created = server.create_account("dave.test", "main-password");
  std::string full = created["accessJwt"];
  auto app = server.post("com.atproto.server.createAppPassword", {{"name", "phone"}}, full);
  INFO(app.text);
  REQUIRE(app.status == 200);
  std::string app_password = app.body["password"];
  CHECK(app_password.size() == 19);  // xxxx-xxxx-xxxx-xxxx
  CHECK(app.body["privileged"] == false);

  auto login = server.post("com.atproto.server.createSession",
                           {{"identifier", "dave.test"}, {"password", app_password}});
  REQUIRE(login.status == 200);
  std::string narrow = login.body["accessJwt"];
  CHECK(jwt_payload(narrow)["scope"] == "com.atproto.appPass");
  CHECK(server.get("com.atproto.server.getSession", narrow).status == 200);
  // Not for managing app passwords, nor listing them (privileged only).
  CHECK(server.post("com.atproto.server.createAppPassword", {{"name", "x"}}, narrow).status == 401);
  CHECK(server.get("com.atproto.server.listAppPasswords", narrow).status == 401);
  auto list = server.get("com.atproto.server.listAppPasswords", full);
  REQUIRE(list.status == 200);
  REQUIRE(list.body["passwords"].size() == 1);
  CHECK(list.body["passwords"][0]["name"] == "phone");
  CHECK_FALSE(list.body["passwords"][0].contains("password"));

  CHECK(server.post("com.atproto.server.revokeAppPassword", {{"name", "phone"}}, full).status ==
        200);
  CHECK(server
            .post("com.atproto.server.createSession",
                  {{"identifier", "dave.test"}, {"password", app_password}})
            .status == 401);
  CHECK(
      server.post("com.atproto.server.refreshSession", nullptr, login.body["refreshJwt"]).error() ==
      "InvalidToken");
}

TEST_CASE(
    "deactivation, activation and deletion [account.status.inactive] "
    "[account.status.account-event] [account.status.deleted-event]",
    "[pds][accounts]") {
  PlcServer plc;
  PdsServer server(plc);
  auto created = server.create_account("erin.test", "pw-erin");
  std::string access = created["accessJwt"];
  const std::string did = created["did"];
  REQUIRE(server.post("com.atproto.server.deactivateAccount", json::object(), access).status ==
          200);
  auto session = server.get("com.atproto.server.getSession", access);
  REQUIRE(session.status == 200);
  CHECK(session.body["active"] == false);
  CHECK(session.body["status"] == "deactivated");
  // Writing routes refuse a deactivated account.
  auto refused =
      server.post("com.atproto.identity.updateHandle", {{"handle", "erin2.test"}}, access);
  CHECK(refused.status == 400);
  CHECK(refused.error() == "AccountDeactivated");
  auto status = server.get("com.atproto.server.checkAccountStatus", access);
  REQUIRE(status.status == 200);
  CHECK(status.body["activated"] == false);
  CHECK(status.body["validDid"] == true);
  CHECK(status.body["indexedRecords"] == 0);
  CHECK(status.body["repoBlocks"].get<int>() >= 2);  // the commit and the empty MST root

  REQUIRE(server.post("com.atproto.server.activateAccount", nullptr, access).status == 200);
  CHECK(server.get("com.atproto.server.getSession", access).body["active"] == true);
  // A record referencing an uploaded blob shows in the counts.
  auto blob = http("POST", server.url + "/xrpc/com.atproto.repo.uploadBlob", "some image bytes",
                   {{"authorization", "Bearer " + access}, {"content-type", "image/png"}});
  INFO(blob.text);
  REQUIRE(blob.status == 200);
  json record = {
      {"$type", "app.bsky.actor.profile"}, {"displayName", "Erin"}, {"avatar", blob.body["blob"]}};
  auto put = server.post("com.atproto.repo.putRecord",
                         {{"repo", did},
                          {"collection", "app.bsky.actor.profile"},
                          {"rkey", "self"},
                          {"record", record}},
                         access);
  INFO(put.text);
  REQUIRE(put.status == 200);
  status = server.get("com.atproto.server.checkAccountStatus", access);
  CHECK(status.body["activated"] == true);
  CHECK(status.body["indexedRecords"] == 1);
  CHECK(status.body["expectedBlobs"] == 1);
  CHECK(status.body["importedBlobs"] == 1);
  CHECK(status.body["privateStateValues"] == 0);

  // Deletion needs the password and the token the server logged.
  REQUIRE(server.post("com.atproto.server.requestAccountDelete", nullptr, access).status == 200);
  std::string token = server.emailed_token(did, "delete_account");
  auto wrong = server.post("com.atproto.server.deleteAccount",
                           {{"did", did}, {"password", "pw-erin"}, {"token", "wrong-token"}});
  CHECK(wrong.status == 401);
  CHECK(wrong.error() == "InvalidToken");
  auto bad_password = server.post("com.atproto.server.deleteAccount",
                                  {{"did", did}, {"password", "nope"}, {"token", token}});
  CHECK(bad_password.status == 401);
  auto deleted = server.post("com.atproto.server.deleteAccount",
                             {{"did", did}, {"password", "pw-erin"}, {"token", token}});
  INFO(deleted.text);
  CHECK(deleted.status == 200);
  CHECK(server.get("com.atproto.server.getSession", access).error() == "InvalidToken");
  CHECK(server.get("com.atproto.identity.resolveHandle?handle=erin.test").status == 400);
  // The handle is free again.
  server.create_account("erin.test");
}

TEST_CASE("updateHandle writes a PLC operation [account.migration.identity-event]",
          "[pds][accounts]") {
  PlcServer plc;
  PdsServer server(plc);
  auto created = server.create_account("frank.test");
  const std::string did = created["did"];
  auto r = server.post("com.atproto.identity.updateHandle", {{"handle", "Franklin.test"}},
                       created["accessJwt"]);
  INFO(r.text);
  REQUIRE(r.status == 200);
  auto doc = identity::parse_did_document(plc_document(plc, did));
  REQUIRE(doc.ok());
  CHECK(identity::claimed_handle(*doc) == "franklin.test");
  CHECK(server.get("com.atproto.identity.resolveHandle?handle=franklin.test").body["did"] == did);
  CHECK(server.get("com.atproto.identity.resolveHandle?handle=frank.test").status == 400);
  server.create_account("george.test");
  CHECK(server
            .post("com.atproto.identity.updateHandle", {{"handle", "george.test"}},
                  created["accessJwt"])
            .error() == "HandleNotAvailable");
}

TEST_CASE("PLC operations signed for the account on request [account.migration.did-points-here]",
          "[pds][accounts]") {
  PlcServer plc;
  PdsServer server(plc);
  auto created = server.create_account("hana.test");
  const std::string did = created["did"];
  std::string access = created["accessJwt"];
  auto creds = server.get("com.atproto.identity.getRecommendedDidCredentials", access);
  REQUIRE(creds.status == 200);
  CHECK(creds.body["alsoKnownAs"] == json::array({"at://hana.test"}));
  CHECK(creds.body["rotationKeys"].size() == 1);

  // Without the logged token, no signature.
  CHECK(server.post("com.atproto.identity.signPlcOperation", {{"token", "guess"}}, access).status ==
        401);
  REQUIRE(
      server.post("com.atproto.identity.requestPlcOperationSignature", nullptr, access).status ==
      200);
  std::string token = server.emailed_token(did, "plc_operation");
  auto extra = crypto::PrivateKey::generate(crypto::Curve::kK256);
  REQUIRE(extra.ok());
  json keys = creds.body["rotationKeys"];
  keys.push_back(extra->public_key().did_key());
  auto signed_op = server.post("com.atproto.identity.signPlcOperation",
                               {{"token", token}, {"rotationKeys", keys}}, access);
  INFO(signed_op.text);
  REQUIRE(signed_op.status == 200);
  // Single use.
  CHECK(server.post("com.atproto.identity.signPlcOperation", {{"token", token}}, access).status ==
        401);
  // An operation dropping this server's rotation key is refused.
  json bad = signed_op.body["operation"];
  bad["rotationKeys"] = json::array({extra->public_key().did_key()});
  CHECK(
      server.post("com.atproto.identity.submitPlcOperation", {{"operation", bad}}, access).status ==
      400);
  auto submitted = server.post("com.atproto.identity.submitPlcOperation",
                               {{"operation", signed_op.body["operation"]}}, access);
  INFO(submitted.text);
  REQUIRE(submitted.status == 200);
  auto log = http("GET", plc.url + "/" + did + "/log/audit");
  REQUIRE(log.body.size() == 2);
  CHECK(log.body[1]["operation"]["rotationKeys"].size() == 2);
}

TEST_CASE("getServiceAuth signs with the account key [pds.service-auth.expiry]",
          "[pds][accounts]") {
  PlcServer plc;
  PdsServer server(plc);
  auto created = server.create_account("ivy.test");
  const std::string did = created["did"];
  std::string access = created["accessJwt"];
  auto r = server.get(
      "com.atproto.server.getServiceAuth?aud=did:web:api.example.com&lxm=app.bsky.feed.getTimeline",
      access);
  INFO(r.text);
  REQUIRE(r.status == 200);
  auto key =
      identity::atproto_signing_key(identity::parse_did_document(plc_document(plc, did)).value());
  REQUIRE(key.ok());
  xrpc::ServiceAuthExpectations expect;
  expect.aud = "did:web:api.example.com";
  expect.lxm = "app.bsky.feed.getTimeline";
  expect.now = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
  auto claims = xrpc::verify_service_auth(
      r.body["token"].get<std::string>(), expect,
      [&](std::string_view, bool) -> Result<crypto::PublicKey> { return *key; });
  INFO((claims.ok() ? "" : claims.error().message));
  REQUIRE(claims.ok());
  CHECK(claims->iss == did);

  auto now = expect.now;
  CHECK(server
            .get("com.atproto.server.getServiceAuth?aud=did:web:x.com&exp=" +
                     std::to_string(now - 10),
                 access)
            .error() == "BadExpiration");
  CHECK(server
            .get("com.atproto.server.getServiceAuth?aud=did:web:x.com&exp=" +
                     std::to_string(now + 600),
                 access)
            .error() == "BadExpiration");  // method-less: a minute at most
  CHECK(server
            .get("com.atproto.server.getServiceAuth?aud=did:web:x.com&lxm=a.b.c&exp=" +
                     std::to_string(now + 600),
                 access)
            .status == 200);
  CHECK(server
            .get("com.atproto.server.getServiceAuth?aud=did:web:x.com&lxm=a.b.c&exp=" +
                     std::to_string(now + 7200),
                 access)
            .error() == "BadExpiration");
  CHECK(server.get("com.atproto.server.getServiceAuth?aud=not-a-did", access).status == 400);
}

TEST_CASE("invite codes: admin-made, required, used up", "[pds][accounts]") {
  PlcServer plc;
  PdsServer server(plc, [](pds::PdsConfig& c) { c.invite_required = true; });
  CHECK(server.get("com.atproto.server.describeServer").body["inviteCodeRequired"] == true);
  auto no_code = server.post("com.atproto.server.createAccount",
                             {{"handle", "jack.test"}, {"password", "pw"}});
  CHECK(no_code.error() == "InvalidInviteCode");
  // Admin basic auth only.
  CHECK(server.post("com.atproto.server.createInviteCode", {{"useCount", 1}}).status == 401);
  std::string basic = "admin:admin-secret";
  std::string auth =
      "Basic " +
      data::base64_encode({reinterpret_cast<const std::uint8_t*>(basic.data()), basic.size()});
  auto wrong_auth = "Basic " + data::base64_encode(std::vector<std::uint8_t>{'a', ':', 'b'});
  CHECK(server
            .post("com.atproto.server.createInviteCode", {{"useCount", 1}}, "",
                  {{"authorization", wrong_auth}})
            .status == 401);
  auto code = server.post("com.atproto.server.createInviteCode", {{"useCount", 1}}, "",
                          {{"authorization", auth}});
  INFO(code.text);
  REQUIRE(code.status == 200);
  std::string invite = code.body["code"];
  auto ok = server.post("com.atproto.server.createAccount",
                        {{"handle", "jack.test"}, {"password", "pw"}, {"inviteCode", invite}});
  CHECK(ok.status == 200);
  auto used = server.post("com.atproto.server.createAccount",
                          {{"handle", "kate.test"}, {"password", "pw"}, {"inviteCode", invite}});
  CHECK(used.error() == "InvalidInviteCode");
  auto many = server.post("com.atproto.server.createInviteCodes",
                          {{"codeCount", 3}, {"useCount", 2}}, "", {{"authorization", auth}});
  REQUIRE(many.status == 200);
  CHECK(many.body["codes"][0]["codes"].size() == 3);
}

TEST_CASE(
    "atproto-proxy forwards unserved methods with a service-auth token "
    "[pds.proxy.did-service] [pds.proxy.service-auth] [pds.proxy.unserved-only]",
    "[pds][accounts]") {
  PlcServer plc;
  PdsServer server(plc);
  // The upstream: records what it got.
  std::mutex mu;
  xrpc::HttpRequest seen;
  xrpc::HttpServer upstream(xrpc::ServerOptions{}, [&](const xrpc::HttpRequest& r) {
    std::lock_guard lock(mu);
    seen = r;
    return xrpc::HttpResponse::json(200, {{"proxied", true}, {"path", r.path}});
  });
  auto upstream_port = upstream.start();
  REQUIRE(upstream_port.ok());
  const std::string service_did =
      register_service(plc, "http://127.0.0.1:" + std::to_string(*upstream_port));

  auto created = server.create_account("liam.test");
  const std::string did = created["did"];
  auto r = server.get("app.bsky.actor.getProfile?actor=liam.test", created["accessJwt"],
                      {{"atproto-proxy", service_did + "#bsky_appview"}});
  INFO(r.text);
  REQUIRE(r.status == 200);
  CHECK(r.body["proxied"] == true);
  std::string authorization;
  {
    std::lock_guard lock(mu);
    CHECK(seen.path == "/xrpc/app.bsky.actor.getProfile");
    CHECK(seen.query_param("actor") == "liam.test");
    authorization = seen.header("authorization").value_or("");
  }
  REQUIRE(authorization.rfind("Bearer ", 0) == 0);
  auto account_key =
      identity::atproto_signing_key(identity::parse_did_document(plc_document(plc, did)).value());
  REQUIRE(account_key.ok());
  xrpc::ServiceAuthExpectations expect;
  expect.aud = service_did + "#bsky_appview";
  expect.lxm = "app.bsky.actor.getProfile";
  expect.now = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
  auto claims = xrpc::verify_service_auth(
      authorization.substr(7), expect,
      [&](std::string_view, bool) -> Result<crypto::PublicKey> { return *account_key; });
  REQUIRE(claims.ok());
  CHECK(claims->iss == did);

  // An unknown service id, and a method this PDS serves itself.
  CHECK(server
            .get("app.bsky.actor.getProfile?actor=x", created["accessJwt"],
                 {{"atproto-proxy", service_did + "#nope"}})
            .status == 400);
  auto local = server.get("com.atproto.server.describeServer", "",
                          {{"atproto-proxy", service_did + "#bsky_appview"}});
  CHECK(local.body.contains("availableUserDomains"));
  // Without the header, an unserved method is MethodNotImplemented.
  CHECK(server.get("app.bsky.actor.getProfile?actor=x", created["accessJwt"]).status == 501);
}

TEST_CASE("sessions and the server's keys survive a restart", "[pds][accounts]") {
  PlcServer plc;
  PdsServer server(plc);
  auto created = server.create_account("mia.test");
  auto before =
      server.get("com.atproto.identity.getRecommendedDidCredentials", created["accessJwt"]);
  REQUIRE(before.status == 200);
  server.restart();
  auto after =
      server.get("com.atproto.identity.getRecommendedDidCredentials", created["accessJwt"]);
  REQUIRE(after.status == 200);
  CHECK(after.body["rotationKeys"] == before.body["rotationKeys"]);
  CHECK(after.body["verificationMethods"] == before.body["verificationMethods"]);
  CHECK(server.post("com.atproto.server.refreshSession", nullptr, created["refreshJwt"]).status ==
        200);
}

TEST_CASE(
    "the account lifecycle on the firehose [pds.account.create-events] "
    "[account.status.account-event] [account.status.deleted-event] "
    "[account.migration.identity-event] [sync.pds.identity-events] [sync.pds.account-events]",
    "[pds][accounts]") {
  PlcServer plc;
  PdsServer server(plc);
  auto created = server.create_account("nina.test", "pw-nina");
  std::string access = created["accessJwt"];
  const std::string did = created["did"];
  CHECK(events_of(*server.pds, 3) ==
        std::vector<std::string>{"#identity", "#account:active", "#commit"});
  REQUIRE(server.post("com.atproto.server.deactivateAccount", json::object(), access).status ==
          200);
  REQUIRE(server.post("com.atproto.server.activateAccount", nullptr, access).status == 200);
  REQUIRE(
      server.post("com.atproto.identity.updateHandle", {{"handle", "nina2.test"}}, access).status ==
      200);
  REQUIRE(server.post("com.atproto.server.requestAccountDelete", nullptr, access).status == 200);
  REQUIRE(server
              .post("com.atproto.server.deleteAccount",
                    {{"did", did},
                     {"password", "pw-nina"},
                     {"token", server.emailed_token(did, "delete_account")}})
              .status == 200);
  CHECK(events_of(*server.pds, 8) ==
        std::vector<std::string>{"#identity", "#account:active", "#commit", "#account:deactivated",
                                 "#identity", "#account:active", "#identity", "#account:deleted"});
}

TEST_CASE("email addresses are confirmed and changed with logged tokens; passwords reset",
          "[pds][accounts]") {
  PlcServer plc;
  PdsServer server(plc);
  auto created = server.create_account("olga.test", "old-password", "olga@example.com");
  const std::string did = created["did"];
  std::string access = created["accessJwt"];
  CHECK(server.get("com.atproto.server.getSession", access).body["emailConfirmed"] == false);
  // Nothing to update without a token while the address is unconfirmed.
  auto update = server.post("com.atproto.server.requestEmailUpdate", nullptr, access);
  REQUIRE(update.status == 200);
  CHECK(update.body["tokenRequired"] == false);

  REQUIRE(server.post("com.atproto.server.requestEmailConfirmation", nullptr, access).status ==
          200);
  std::string token = server.emailed_token(did, "confirm_email");
  CHECK(server
            .post("com.atproto.server.confirmEmail",
                  {{"email", "other@example.com"}, {"token", token}}, access)
            .error() == "InvalidEmail");
  REQUIRE(server
              .post("com.atproto.server.confirmEmail",
                    {{"email", "OLGA@example.com"}, {"token", token}}, access)
              .status == 200);
  CHECK(server.get("com.atproto.server.getSession", access).body["emailConfirmed"] == true);

  // A confirmed address changes only with a token.
  update = server.post("com.atproto.server.requestEmailUpdate", nullptr, access);
  CHECK(update.body["tokenRequired"] == true);
  CHECK(server.post("com.atproto.server.updateEmail", {{"email", "new@example.com"}}, access)
            .error() == "TokenRequired");
  REQUIRE(server
              .post("com.atproto.server.updateEmail",
                    {{"email", "new@example.com"},
                     {"token", server.emailed_token(did, "update_email")}},
                    access)
              .status == 200);
  auto session = server.get("com.atproto.server.getSession", access);
  CHECK(session.body["email"] == "new@example.com");
  CHECK(session.body["emailConfirmed"] == false);

  // Password reset: the token goes to the log, the old sessions end.
  REQUIRE(server.post("com.atproto.server.requestPasswordReset", {{"email", "new@example.com"}})
              .status == 200);
  CHECK(server
            .post("com.atproto.server.resetPassword",
                  {{"token", "wrong"}, {"password", "new-password"}})
            .error() == "InvalidToken");
  REQUIRE(server
              .post("com.atproto.server.resetPassword",
                    {{"token", server.emailed_token(did, "reset_password")},
                     {"password", "new-password"}})
              .status == 200);
  CHECK(server
            .post("com.atproto.server.createSession",
                  {{"identifier", "olga.test"}, {"password", "old-password"}})
            .status == 401);
  CHECK(server
            .post("com.atproto.server.createSession",
                  {{"identifier", "olga.test"}, {"password", "new-password"}})
            .status == 200);
  CHECK(server.post("com.atproto.server.refreshSession", nullptr, created["refreshJwt"]).error() ==
        "InvalidToken");
}

TEST_CASE("mistyped bodies are refused, with or without the lexicons loaded", "[pds][accounts]") {
  PlcServer plc;
  for (bool lexicons : {true, false}) {
    PdsServer server(plc, [&](pds::PdsConfig& c) {
      if (!lexicons) c.lexicon_dir.clear();
    });
    INFO("lexicons loaded: " << lexicons);
    std::string basic = "admin:admin-secret";
    identity::HeaderList admin = {
        {"authorization",
         "Basic " + data::base64_encode(
                        {reinterpret_cast<const std::uint8_t*>(basic.data()), basic.size()})}};
    CHECK(server.post("com.atproto.server.createInviteCode", {{"useCount", "many"}}, "", admin)
              .status == 400);
    CHECK(server
              .post("com.atproto.server.createInviteCodes",
                    {{"useCount", 1}, {"forAccounts", json::array({1, 2})}}, "", admin)
              .status == 400);
    CHECK(server.post("com.atproto.server.createAccount", {{"handle", 5}, {"password", "pw"}})
              .status == 400);
    CHECK(server.post("com.atproto.server.createSession", {{"identifier", json::array()}}).status ==
          (lexicons ? 400 : 401));
    auto created = server.create_account(lexicons ? "quinn.test" : "rita.test");
    CHECK(server
              .get("com.atproto.server.getServiceAuth?aud=did:web:x.com&lxm=a.b.c&exp="
                   "99999999999999999999999",
                   created["accessJwt"])
              .status == 400);
    CHECK(server.post("com.atproto.identity.updateHandle", {{"handle", true}}, created["accessJwt"])
              .status == 400);
    CHECK(http("POST", server.url + "/xrpc/com.atproto.server.createSession", "not json",
               {{"content-type", "application/json"}})
              .status == 400);
  }
}

TEST_CASE("a body over --max-request-bytes is refused with 413; blobs keep their own limit",
          "[pds][accounts]") {
  // [pds.service.body-limit] Every route but uploadBlob and importRepo.
  PlcServer plc;
  PdsServer server(plc, [](pds::PdsConfig& c) {
    c.max_request_bytes = 2000;
    c.max_blob_bytes = 6000;
  });
  auto created = server.create_account("sven.test");
  const std::string token = created["accessJwt"];
  json record = {{"$type", "app.bsky.feed.post"},
                 {"text", std::string(2500, 'x')},
                 {"createdAt", "2026-12-06T09:00:00.000Z"}};
  auto big = server.post(
      "com.atproto.repo.createRecord",
      {{"repo", created["did"]}, {"collection", "app.bsky.feed.post"}, {"record", record}}, token);
  CHECK(big.status == 413);
  CHECK(big.error() == "PayloadTooLarge");
  CHECK(server
            .post("com.atproto.server.createSession",
                  {{"identifier", "sven.test"}, {"password", std::string(3000, 'p')}})
            .status == 413);
  // The same write under the limit goes through: the limit is the body's size.
  record["text"] = "short";
  CHECK(
      server
          .post(
              "com.atproto.repo.createRecord",
              {{"repo", created["did"]}, {"collection", "app.bsky.feed.post"}, {"record", record}},
              token)
          .status == 200);
  identity::HeaderList auth = {{"authorization", "Bearer " + token}};
  auto blob =
      http("POST", server.url + "/xrpc/com.atproto.repo.uploadBlob", std::string(4000, 'b'), auth);
  CHECK(blob.status == 200);
  auto too_big =
      http("POST", server.url + "/xrpc/com.atproto.repo.uploadBlob", std::string(7000, 'b'), auth);
  CHECK(too_big.status == 400);
  CHECK(too_big.error() == "BlobTooLarge");
}

TEST_CASE("answers to an account's requests carry its repo rev [sync.pds.repo-rev-header]",
          "[pds][accounts]") {
  PlcServer plc;
  PdsServer server(plc);
  auto alice = server.create_account("alice.test");
  auto bob = server.create_account("bob.test");
  const std::string token = alice["accessJwt"];
  const std::string did = alice["did"];
  auto latest_rev = [&](const std::string& who) {
    auto latest = server.get("com.atproto.sync.getLatestCommit?did=" + who);
    REQUIRE(latest.status == 200);
    return latest.body["rev"].get<std::string>();
  };
  auto session = server.get("com.atproto.server.getSession", token);
  REQUIRE(session.status == 200);
  CHECK(session.header("atproto-repo-rev") == latest_rev(did));
  // A write: the answer names the new commit's rev, which later answers repeat.
  json record = {
      {"$type", "app.bsky.feed.post"}, {"text", "hi"}, {"createdAt", "2026-12-06T09:00:00.000Z"}};
  auto written =
      server.post("com.atproto.repo.createRecord",
                  {{"repo", did}, {"collection", "app.bsky.feed.post"}, {"record", record}}, token);
  REQUIRE(written.status == 200);
  const std::string rev = written.body["commit"]["rev"];
  CHECK(written.header("atproto-repo-rev") == rev);
  CHECK(rev == latest_rev(did));
  // A public read made with the token: the caller's rev, not that of the
  // repository read.
  auto read =
      server.get("com.atproto.repo.describeRepo?repo=" + bob["did"].get<std::string>(), token);
  REQUIRE(read.status == 200);
  CHECK(read.header("atproto-repo-rev") == rev);
  CHECK(rev != latest_rev(bob["did"]));
  // No token, a token that does not verify, or a failed request: no header.
  CHECK(server.get("com.atproto.server.describeServer").header("atproto-repo-rev").empty());
  CHECK(server.get("com.atproto.server.describeServer", token + "x")
            .header("atproto-repo-rev")
            .empty());
  auto failed = server.get("com.atproto.repo.getRecord?repo=" + did +
                               "&collection=app.bsky.feed.post&rkey=3kzzzzzzzzzzz",
                           token);
  CHECK(failed.status == 400);
  CHECK(failed.header("atproto-repo-rev").empty());
}

TEST_CASE(
    "a did:web account: control proven by service auth, active once its document points here "
    "[account.migration.did-points-here]",
    "[pds][accounts]") {
  PlcServer plc;
  PdsServer server(plc);
  const std::string did = "did:web:webuser.example.com";
  auto own_key = crypto::PrivateKey::generate(crypto::Curve::kK256);
  REQUIRE(own_key.ok());
  // The DID's host, serving a document that can change during the test.
  std::mutex mu;
  json document = {
      {"id", did},
      {"alsoKnownAs", json::array({"at://webuser.test"})},
      {"verificationMethod",
       json::array({{{"id", did + "#atproto"},
                     {"type", "Multikey"},
                     {"controller", did},
                     {"publicKeyMultibase", own_key->public_key().multibase()}}})},
      {"service", json::array({{{"id", "#atproto_pds"},
                                {"type", "AtprotoPersonalDataServer"},
                                {"serviceEndpoint", "https://old-pds.example.com"}}})}};
  xrpc::HttpServer host(xrpc::ServerOptions{}, [&](const xrpc::HttpRequest& r) {
    std::lock_guard lock(mu);
    if (r.path != "/.well-known/did.json" || r.header("host") != "webuser.example.com") {
      return xrpc::HttpResponse::text(404, "not found", "text/plain");
    }
    return xrpc::HttpResponse::json(200, document);
  });
  auto host_port = host.start();
  REQUIRE(host_port.ok());
  auto* accounts = dynamic_cast<pds::Accounts*>(server.pds->context().accounts);
  REQUIRE(accounts);
  accounts->set_did_web_origin_for_tests("http://127.0.0.1:" + std::to_string(*host_port));

  auto service_auth = [&](const crypto::PrivateKey& key) {
    xrpc::ServiceAuthClaims claims;
    claims.iss = did;
    claims.aud = "did:web:localhost";
    claims.lxm = "com.atproto.server.createAccount";
    claims.iat = std::chrono::duration_cast<std::chrono::seconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
    claims.exp = claims.iat + 60;
    return xrpc::create_service_auth(key, claims);
  };
  json input = {{"handle", "webuser.test"}, {"password", "pw-web"}, {"did", did}};
  // No proof, or a proof signed by another key: refused.
  CHECK(server.post("com.atproto.server.createAccount", input).status == 401);
  auto stranger = crypto::PrivateKey::generate(crypto::Curve::kK256);
  REQUIRE(stranger.ok());
  CHECK(server.post("com.atproto.server.createAccount", input, service_auth(*stranger)).error() ==
        "InvalidToken");
  // [xrpc.jwt.jti-replay] A proof is accepted once: spent on a request that
  // fails after it (a handle outside this server's domains), it does not
  // serve again.
  std::string spent = service_auth(*own_key);
  json elsewhere = input;
  elsewhere["handle"] = "webuser.elsewhere.example.com";
  CHECK(server.post("com.atproto.server.createAccount", elsewhere, spent).error() ==
        "UnsupportedDomain");
  auto replayed = server.post("com.atproto.server.createAccount", input, spent);
  CHECK(replayed.error() == "InvalidToken");
  CHECK(replayed.text.find("already used") != std::string::npos);
  auto created = server.post("com.atproto.server.createAccount", input, service_auth(*own_key));
  INFO(created.text);
  REQUIRE(created.status == 200);
  CHECK(created.body["did"] == did);
  std::string access = created.body["accessJwt"];
  auto session = server.get("com.atproto.server.getSession", access);
  CHECK(session.body["active"] == false);
  CHECK(session.body["status"] == "deactivated");

  // The document still names the old PDS and key: no activation yet.
  CHECK(server.post("com.atproto.server.activateAccount", nullptr, access).status == 400);
  auto creds = server.get("com.atproto.identity.getRecommendedDidCredentials", access);
  REQUIRE(creds.status == 200);
  CHECK_FALSE(creds.body.contains("rotationKeys"));  // no meaning for did:web
  auto new_key = crypto::PublicKey::from_did_key(
      creds.body["verificationMethods"]["atproto"].get<std::string>());
  REQUIRE(new_key.ok());
  {
    std::lock_guard lock(mu);
    document["verificationMethod"][0]["publicKeyMultibase"] = new_key->multibase();
    document["service"][0]["serviceEndpoint"] = creds.body["services"]["atproto_pds"]["endpoint"];
  }
  auto activated = server.post("com.atproto.server.activateAccount", nullptr, access);
  INFO(activated.text);
  CHECK(activated.status == 200);
  CHECK(server.get("com.atproto.server.getSession", access).body["active"] == true);
  CHECK(server.get("com.atproto.server.checkAccountStatus", access).body["validDid"] == true);
}

TEST_CASE(
    "an operator's takedown and its reversal [account.status.inactive] "
    "[account.status.account-event]",
    "[pds][accounts]") {
  PlcServer plc;
  PdsServer server(plc);
  auto created = server.create_account("sara.test", "pw-sara");
  const std::string did = created["did"];
  std::string basic = "admin:admin-secret";
  identity::HeaderList admin = {
      {"authorization",
       "Basic " + data::base64_encode(
                      {reinterpret_cast<const std::uint8_t*>(basic.data()), basic.size()})}};
  json subject = {{"$type", "com.atproto.admin.defs#repoRef"}, {"did", did}};
  // Admin only.
  CHECK(server
            .post("com.atproto.admin.updateSubjectStatus",
                  {{"subject", subject}, {"takedown", {{"applied", true}}}}, created["accessJwt"])
            .status == 401);
  REQUIRE(server
              .post("com.atproto.admin.updateSubjectStatus",
                    {{"subject", subject}, {"takedown", {{"applied", true}}}}, "", admin)
              .status == 200);
  auto status = server.get("com.atproto.admin.getSubjectStatus?did=" + did, "", admin);
  CHECK(status.body["takedown"]["applied"] == true);
  auto session = server.get("com.atproto.server.getSession", created["accessJwt"]);
  CHECK(session.status == 400);
  CHECK(session.error() == "AccountTakedown");
  CHECK(server
            .post("com.atproto.server.createSession",
                  {{"identifier", "sara.test"}, {"password", "pw-sara"}})
            .error() == "AccountTakedown");
  // The takedown ended the sessions.
  CHECK(server.post("com.atproto.server.refreshSession", nullptr, created["refreshJwt"]).error() ==
        "InvalidToken");
  REQUIRE(server
              .post("com.atproto.admin.updateSubjectStatus",
                    {{"subject", subject}, {"takedown", {{"applied", false}}}}, "", admin)
              .status == 200);
  CHECK(server.get("com.atproto.server.getSession", created["accessJwt"]).status == 200);
  CHECK(events_of(*server.pds, 5) == std::vector<std::string>{"#identity", "#account:active",
                                                              "#commit", "#account:takendown",
                                                              "#account:active"});
}

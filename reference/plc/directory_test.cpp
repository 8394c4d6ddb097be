// The PLC directory in-process: the SQLite store and the HTTP handler,
// without sockets. The binary and the plc-directory suite over HTTP are
// tested by plc_server_test.py.
#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <random>
#include <thread>

#include "atproto/identity/test_generators.hpp"
#include "atproto/plc/directory.hpp"
#include "atproto/plc/store.hpp"

namespace {

using namespace atproto;
using namespace atproto::identity;
using namespace atproto::identity::testing;
using atproto::plc::PlcDirectory;
using atproto::plc::PlcStore;
using crypto::Curve;
using json = nlohmann::json;

// A fresh folder under the system temp dir, removed afterwards.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::random_device rd;
    path = std::filesystem::temp_directory_path() /
           ("plc-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string db() const { return (path / "plc.sqlite").string(); }
};

std::unique_ptr<PlcStore> open_store(const TempDir& dir) {
  auto store = plc::open_sqlite_store(dir.db());
  REQUIRE(store.ok());
  return std::move(store).value();
}

PlcOperation signed_op(PlcOperation op, const crypto::PrivateKey& key) {
  REQUIRE(sign_plc_operation(op, key).ok());
  return op;
}

std::string cid_of(const PlcOperation& op) { return plc_operation_cid(op).value(); }

xrpc::HttpResponse get(PlcDirectory& directory, const std::string& path) {
  xrpc::HttpRequest request;
  request.method = "GET";
  request.target = path;
  auto q = path.find('?');
  request.path = path.substr(0, q);
  if (q != std::string::npos) {
    std::string query = path.substr(q + 1);
    std::size_t start = 0;
    while (start <= query.size()) {
      std::size_t amp = query.find('&', start);
      std::string pair = query.substr(start, amp == std::string::npos ? amp : amp - start);
      auto eq = pair.find('=');
      request.query.emplace_back(pair.substr(0, eq),
                                 eq == std::string::npos ? "" : pair.substr(eq + 1));
      if (amp == std::string::npos) break;
      start = amp + 1;
    }
  }
  return directory.handle(request);
}

xrpc::HttpResponse post(PlcDirectory& directory, const std::string& did, const std::string& body) {
  xrpc::HttpRequest request;
  request.method = "POST";
  request.target = request.path = "/" + did;
  request.body = body;
  return directory.handle(request);
}

xrpc::HttpResponse post(PlcDirectory& directory, const std::string& did, const PlcOperation& op) {
  return post(directory, did, to_json(op).dump());
}

struct Keys {
  TestKey recovery = test_key(Curve::kK256, 1);
  TestKey rotation = test_key(Curve::kP256, 2);
  TestKey signing = test_key(Curve::kK256, 3);
  TestKey other = test_key(Curve::kK256, 4);
};

}  // namespace

TEST_CASE("the SQLite store appends, nullifies in the same step and reads back",
          "[plc.directory.audit-log][plc.directory.recovery]") {
  TempDir dir;
  Keys k;
  auto genesis = signed_op(regular_operation({k.recovery.did_key, k.rotation.did_key},
                                             k.signing.did_key, "alice.test", std::nullopt),
                           k.rotation.key);
  std::string did = did_for_genesis(genesis).value();
  auto update = signed_op(regular_operation({k.recovery.did_key, k.rotation.did_key},
                                            k.signing.did_key, "bob.test", cid_of(genesis)),
                          k.rotation.key);
  {
    auto store = open_store(dir);
    auto accept = [](const std::vector<AuditEntry>&, auto) -> Result<SubmissionPlan> {
      return SubmissionPlan{};
    };
    REQUIRE(store->append(did, genesis, accept).ok());
    REQUIRE(store->append(did, update, accept).ok());
    // A failing check stores nothing.
    auto refused = store->append(did, update, [](const auto&, auto) -> Result<SubmissionPlan> {
      return make_error("plc.log.prev", "no");
    });
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code == "plc.log.prev");
    // The check sees the log as stored, and its nullifies are applied.
    std::size_t seen = 0;
    auto recovery = signed_op(
        regular_operation({k.recovery.did_key}, k.signing.did_key, "alice.test", cid_of(genesis)),
        k.recovery.key);
    auto stored =
        store->append(did, recovery, [&](const auto& log, auto) -> Result<SubmissionPlan> {
          seen = log.size();
          return SubmissionPlan{{1}};
        });
    REQUIRE(stored.ok());
    CHECK(seen == 2);
    CHECK(stored->seq == 3);
  }
  // Reopened: everything is there, in order, createdAt strictly increasing.
  auto store = open_store(dir);
  auto log = store->audit_log(did).value();
  REQUIRE(log.size() == 3);
  CHECK(log[0].cid == cid_of(genesis));
  CHECK_FALSE(log[0].nullified);
  CHECK(log[1].nullified);
  CHECK_FALSE(log[2].nullified);
  CHECK(log[0].created_at < log[1].created_at);
  CHECK(log[1].created_at < log[2].created_at);
  CHECK(validate_audit_log(did, log).ok());
  CHECK(store->audit_log("did:plc:aaaaaaaaaaaaaaaaaaaaaaaa").value().empty());

  // [plc.directory.export] [plc.directory.export.sequenced] Paging by seq
  // and by createdAt both walk the three entries in order.
  auto by_seq = store->export_after_seq(1, 10).value();
  REQUIRE(by_seq.size() == 2);
  CHECK(by_seq[0].seq == 2);
  CHECK(store->export_after_seq(0, 1).value().size() == 1);
  auto first = store->export_after_time(std::nullopt, 1).value();
  REQUIRE(first.size() == 1);
  auto after = parse_created_at(first[0].entry.created_at).value();
  auto rest = store->export_after_time(after, 10).value();
  REQUIRE(rest.size() == 2);
  CHECK(rest[0].entry.cid == log[1].cid);
}

TEST_CASE("the directory serves a DID's life: create, update, recover, tombstone",
          "[plc.directory.submit][plc.directory.resolve][plc.directory.data][plc.directory.log]"
          "[plc.directory.last][plc.directory.recovery][plc.directory.tombstoned]"
          "[plc.directory.not-found][plc.directory.submit.malformed]") {
  TempDir dir;
  auto store = open_store(dir);
  PlcDirectory directory(*store, {});
  Keys k;
  auto genesis = signed_op(regular_operation({k.recovery.did_key, k.rotation.did_key},
                                             k.signing.did_key, "alice.test", std::nullopt),
                           k.rotation.key);
  std::string did = did_for_genesis(genesis).value();

  CHECK(get(directory, "/" + did).status == 404);
  CHECK(get(directory, "/" + did + "/log/audit").status == 404);
  CHECK(get(directory, "/not-a-did").status == 400);
  CHECK(get(directory, "/_health").status == 200);

  // Malformed bodies and operations are 400 with a message.
  auto bad = post(directory, did, "{not json");
  CHECK(bad.status == 400);
  CHECK(json::parse(bad.body).contains("message"));
  CHECK(post(directory, did, R"({"type":"plc_operation"})").status == 400);
  // A genesis operation posted to another DID's path.
  CHECK(post(directory, "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa", genesis).status == 400);

  REQUIRE(post(directory, did, genesis).status == 200);
  auto doc = get(directory, "/" + did);
  REQUIRE(doc.status == 200);
  CHECK(json::parse(doc.body)["alsoKnownAs"] == json::array({"at://alice.test"}));

  auto update = signed_op(regular_operation({k.recovery.did_key, k.rotation.did_key},
                                            k.signing.did_key, "bob.test", cid_of(genesis)),
                          k.rotation.key);
  REQUIRE(post(directory, did, update).status == 200);
  CHECK(json::parse(get(directory, "/" + did + "/data").body)["alsoKnownAs"] ==
        json::array({"at://bob.test"}));
  // Resubmitting it: its prev is no longer the head.
  CHECK(post(directory, did, update).status == 400);

  // Recovery by the higher-priority key from the genesis operation.
  auto recovery = signed_op(
      regular_operation({k.recovery.did_key}, k.signing.did_key, "carol.test", cid_of(genesis)),
      k.recovery.key);
  REQUIRE(post(directory, did, recovery).status == 200);
  auto audit = json::parse(get(directory, "/" + did + "/log/audit").body);
  REQUIRE(audit.size() == 3);
  CHECK(audit[1]["nullified"] == true);
  auto log = json::parse(get(directory, "/" + did + "/log").body);
  REQUIRE(log.size() == 2);
  CHECK(log[1] == to_json(recovery));
  CHECK(json::parse(get(directory, "/" + did + "/log/last").body) == to_json(recovery));
  CHECK(validate_audit_log(did, parse_audit_log(audit).value()).ok());

  auto tombstone = signed_op(tombstone_operation(cid_of(recovery)), k.recovery.key);
  REQUIRE(post(directory, did, tombstone).status == 200);
  CHECK(get(directory, "/" + did).status == 410);
  CHECK(get(directory, "/" + did + "/data").status == 410);
  CHECK(get(directory, "/" + did + "/log/audit").status == 200);
  // Nothing extends a tombstone.
  auto after = signed_op(
      regular_operation({k.recovery.did_key}, k.signing.did_key, "dave.test", cid_of(tombstone)),
      k.recovery.key);
  CHECK(post(directory, did, after).status / 100 == 4);

  // The export lists all four, legacy and sequenced forms.
  auto lines = get(directory, "/export?count=10").body;
  CHECK(std::count(lines.begin(), lines.end(), '\n') == 4);
  auto sequenced = get(directory, "/export?after=2&count=1");
  auto line = json::parse(sequenced.body.substr(0, sequenced.body.find('\n')));
  CHECK(line["type"] == "sequenced_op");
  CHECK(line["seq"] == 3);
  CHECK(get(directory, "/export?count=0").status == 400);
}

TEST_CASE("concurrent submissions on one head: exactly one wins", "[plc.directory.no-fork]") {
  auto run = [](std::vector<plc::Fault> faults) {
    TempDir dir;
    auto store = open_store(dir);
    plc::DirectoryOptions options;
    options.faults = std::move(faults);
    PlcDirectory directory(*store, options);
    Keys k;
    auto genesis = signed_op(regular_operation({k.recovery.did_key, k.rotation.did_key},
                                               k.signing.did_key, "alice.test", std::nullopt),
                             k.recovery.key);
    std::string did = did_for_genesis(genesis).value();
    REQUIRE(post(directory, did, genesis).status == 200);
    // Eight different updates of the same head, all signed by the same
    // key: none is a recovery of another, so at most one may be accepted.
    std::vector<PlcOperation> updates;
    for (int i = 0; i < 8; ++i) {
      updates.push_back(
          signed_op(regular_operation({k.recovery.did_key, k.rotation.did_key}, k.signing.did_key,
                                      "user" + std::to_string(i) + ".test", cid_of(genesis)),
                    k.recovery.key));
    }
    std::atomic<int> accepted{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (const auto& update : updates) {
      threads.emplace_back([&, update] {
        while (!go) std::this_thread::yield();
        if (post(directory, did, update).status == 200) ++accepted;
      });
    }
    go = true;
    for (auto& t : threads) t.join();
    auto log = store->audit_log(did).value();
    return std::make_pair(accepted.load(), log.size());
  };
  auto [accepted, size] = run({});
  CHECK(accepted == 1);
  CHECK(size == 2);
  // The same race without the transaction forks the log: the test can fail.
  auto [forked, forked_size] = run({plc::Fault::kNoSerialization});
  CHECK(forked > 1);
  CHECK(forked_size > 2);
}

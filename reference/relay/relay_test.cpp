// The relay against fake PDS hosts on loopback: forwarding under new seq
// numbers, each kind of invalid event dropped, out-of-sync accounts resynced
// from getRepo (and the events that arrive meanwhile held, then processed in
// order), cursors kept across restarts, reconnects (also after a frame that
// is not DRISL-CBOR), slow consumers dropped while fast ones continue, and
// replay by cursor.
#include <catch2/catch.hpp>

#include "atproto/common/testing.hpp"
#include "atproto/relay/relay.hpp"
#include "atproto/relay/test_support.hpp"
#include "atproto/xrpc/client.hpp"

namespace {

using namespace atproto;
using namespace atproto::relay;
using namespace atproto::relay::testing;

using TempDir = atproto::testing::TempDir;

template <typename F>
bool eventually(F condition, int timeout_ms = 15000) {
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < end) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

// `host` sends `n` new commits of `account`; their revs, in order.
std::vector<std::string> emit_commits(FakePds& host, TestAccount& account, int n) {
  std::vector<std::string> revs;
  for (int i = 0; i < n; ++i) {
    auto e = account.commit();
    revs.push_back(e.rev);
    host.emit(e);
  }
  return revs;
}

struct Net {
  FakePlc plc;
  TempDir dir;

  RelayConfig config() const {
    RelayConfig c;
    c.data_dir = dir.path.string();
    c.port = 0;
    c.plc_url = plc.url();
    c.allow_private_addresses = true;
    c.reconnect_min_ms = 50;
    c.reconnect_max_ms = 400;
    c.threads = 2;
    return c;
  }
};

// One PDS host with one account on it; config() crawls the host.
struct OneHost {
  Net net;
  FakePds a;
  TestAccount alice{test_did(1)};
  OneHost() { net.plc.put(alice.did, alice.key.public_key(), a.url()); }
  RelayConfig config() const {
    auto c = net.config();
    c.crawl = {a.url()};
    return c;
  }
};

struct Running {
  std::unique_ptr<Relay> relay;
  std::uint16_t port = 0;
  xrpc::XrpcClient client() const {
    identity::FetchPolicy policy;
    policy.allow_private_addresses = true;
    return xrpc::XrpcClient("http://127.0.0.1:" + std::to_string(port), policy);
  }
  std::int64_t drops(const std::string& code) const {
    auto stats = relay->stats();
    auto it = stats.drop_reasons.find(code);
    return it == stats.drop_reasons.end() ? 0 : it->second;
  }
  std::int64_t drops_with_prefix(const std::string& prefix) const {
    std::int64_t n = 0;
    for (const auto& [code, count] : relay->stats().drop_reasons) {
      if (code.rfind(prefix, 0) == 0) n += count;
    }
    return n;
  }
};

Running start(RelayConfig config) {
  auto relay = Relay::open(std::move(config));
  REQUIRE(relay.ok());
  Running r;
  r.relay = std::move(relay).value();
  auto port = r.relay->start();
  REQUIRE(port.ok());
  r.port = port.value();
  return r;
}

// By value: the event usually comes as a temporary.
sync::CommitEvent as_commit(const std::optional<sync::Event>& e) {
  REQUIRE(e);
  REQUIRE(std::holds_alternative<sync::CommitEvent>(*e));
  return std::get<sync::CommitEvent>(*e);
}

sync::SyncEvent as_sync(const std::optional<sync::Event>& e) {
  REQUIRE(e);
  REQUIRE(std::holds_alternative<sync::SyncEvent>(*e));
  return std::get<sync::SyncEvent>(*e);
}

nlohmann::json query_ok(const Running& r, const std::string& nsid, const xrpc::QueryParams& p) {
  auto response = r.client().query(nsid, p);
  REQUIRE(response.ok());
  INFO(response.value().body);
  REQUIRE(response.value().status == 200);
  REQUIRE(response.value().json);
  return *response.value().json;
}

// getRepoStatus shows the account active at `rev`; then its next commit
// (continuing the chain from there) is forwarded.
void expect_in_sync_at(const Running& r, FakePds& pds, TestAccount& account, Reader& reader,
                       const std::string& rev) {
  auto status = query_ok(r, "com.atproto.sync.getRepoStatus", {{"did", account.did}});
  CHECK(status["active"] == true);
  CHECK(status["rev"] == rev);
  auto next = account.commit();
  pds.emit(next);
  CHECK(as_commit(reader.next_event()).rev == next.rev);
}

}  // namespace

TEST_CASE("relay: valid events from several hosts are forwarded under the relay's own seq",
          "[relay][relay.output.seq][relay.account.state][relay.api.list-repos]"
          "[sync.relay.per-account-order]"
          "[relay.api.repo-status][relay.api.latest-commit][relay.api.hosts]") {
  Net net;
  FakePds a(0, 100), b(0, 500);
  TestAccount alice(test_did(1)), bob(test_did(2));
  net.plc.put(alice.did, alice.key.public_key(), a.url());
  net.plc.put(bob.did, bob.key.public_key(), b.url());
  auto config = net.config();
  config.crawl = {a.url(), b.url()};
  auto r = start(config);
  auto reader = Reader::connect(r.port, 0);
  REQUIRE(reader);

  auto a1 = alice.commit();
  auto b1 = bob.commit();
  auto a2 = alice.commit(2);
  a.emit(a1);
  b.emit(b1);
  a.emit(a2);
  std::map<std::string, std::vector<std::string>> revs;
  for (std::int64_t expected = 1; expected <= 3; ++expected) {
    const auto& c = as_commit(reader->next_event());
    CHECK(c.seq == expected);  // re-sequenced: 1, 2, 3 whatever the hosts' seqs
    revs[c.repo].push_back(c.rev);
  }
  CHECK(revs[alice.did] == std::vector<std::string>{a1.rev, a2.rev});
  CHECK(revs[bob.did] == std::vector<std::string>{b1.rev});

  sync::IdentityEvent identity;
  identity.did = alice.did;
  identity.handle = "alice.test";
  identity.time = now_datetime_for_tests();
  a.emit(identity);
  auto forwarded = reader->next_event();
  REQUIRE(forwarded);
  REQUIRE(std::holds_alternative<sync::IdentityEvent>(*forwarded));
  CHECK(std::get<sync::IdentityEvent>(*forwarded).seq == 4);
  CHECK(std::get<sync::IdentityEvent>(*forwarded).handle == identity.handle);

  auto repos = query_ok(r, "com.atproto.sync.listRepos", {});
  REQUIRE(repos["repos"].size() == 2);
  std::map<std::string, nlohmann::json> by_did;
  for (const auto& repo : repos["repos"]) by_did[repo["did"]] = repo;
  CHECK(by_did[alice.did]["head"] == a2.commit.to_string());
  CHECK(by_did[alice.did]["rev"] == a2.rev);
  CHECK(by_did[bob.did]["head"] == b1.commit.to_string());
  auto paged = query_ok(r, "com.atproto.sync.listRepos", {{"limit", "1"}});
  REQUIRE(paged["repos"].size() == 1);
  REQUIRE(paged.contains("cursor"));
  auto rest = query_ok(r, "com.atproto.sync.listRepos",
                       {{"limit", "1"}, {"cursor", paged["cursor"].get<std::string>()}});
  REQUIRE(rest["repos"].size() == 1);
  CHECK(rest["repos"][0]["did"] != paged["repos"][0]["did"]);

  auto latest = query_ok(r, "com.atproto.sync.getLatestCommit", {{"did", alice.did}});
  CHECK(latest["cid"] == a2.commit.to_string());
  CHECK(latest["rev"] == a2.rev);
  auto status = query_ok(r, "com.atproto.sync.getRepoStatus", {{"did", bob.did}});
  CHECK(status["active"] == true);
  CHECK(status["rev"] == b1.rev);
  auto unknown = r.client().query("com.atproto.sync.getRepoStatus", {{"did", test_did(99)}});
  REQUIRE(unknown.ok());
  CHECK(unknown.value().error_name() == "RepoNotFound");

  auto hosts = query_ok(r, "com.atproto.sync.listHosts", {});
  REQUIRE(hosts["hosts"].size() == 2);
  CHECK(hosts["hosts"][0]["hostname"] == a.hostname());  // first seen first
  CHECK(hosts["hosts"][1]["hostname"] == b.hostname());
  auto host_a = query_ok(r, "com.atproto.sync.getHostStatus", {{"hostname", a.hostname()}});
  CHECK(host_a["accountCount"] == 1);
  CHECK(host_a["status"] == "active");
  CHECK(host_a["seq"] == 102);  // the upstream cursor: a's identity event
  auto missing = r.client().query("com.atproto.sync.getHostStatus", {{"hostname", "nowhere.test"}});
  REQUIRE(missing.ok());
  CHECK(missing.value().error_name() == "HostNotFound");
}

TEST_CASE("relay: each kind of invalid event is dropped, the stream goes on",
          "[relay][relay.verify.checklist]") {
  Net net;
  FakePds a, b;
  TestAccount alice(test_did(1)), carol(test_did(3)), dave(test_did(4)), erin(test_did(5));
  net.plc.put(alice.did, alice.key.public_key(), a.url());
  net.plc.put(carol.did, carol.key.public_key(), b.url());  // hosted on b, not a
  net.plc.put(erin.did, erin.key.public_key(), a.url());
  // dave has no DID document at all
  auto config = net.config();
  config.crawl = {a.url()};
  auto r = start(config);
  auto reader = Reader::connect(r.port, 0);
  REQUIRE(reader);

  auto first = alice.commit();
  a.emit(first);
  CHECK(as_commit(reader->next_event()).rev == first.rev);

  // Emits the bad event, then a good commit of alice's: the good one must be
  // the next thing downstream, and the drop counted under `code`.
  auto expect_dropped = [&](const std::function<void()>& emit_bad, const std::string& code) {
    INFO("expected drop: " << code);
    std::int64_t before = r.drops_with_prefix(code);
    emit_bad();
    auto good = alice.commit();
    a.emit(good);
    CHECK(as_commit(reader->next_event()).rev == good.rev);
    CHECK(r.drops_with_prefix(code) == before + 1);
  };

  auto other_key = crypto::PrivateKey::generate(crypto::Curve::kK256).value();
  expect_dropped([&] { a.emit(alice.fork(other_key)); }, "sync.check.signature");
  expect_dropped(
      [&] {
        auto e = alice.fork(alice.key);
        e.rev = syntax::encode_tid({1'800'000'000'000'000ULL, 1}).value();
        a.emit(e);
      },
      "sync.check.fields-match");
  expect_dropped(
      [&] {
        auto e = alice.fork(alice.key, 2);
        e.ops.pop_back();  // the ops no longer account for the diff
        a.emit(e);
      },
      "sync.check.inversion");
  expect_dropped(
      [&] {
        auto e = alice.fork(alice.key);
        e.prev_data = e.commit;  // a CID that is not the previous tree
        a.emit(e);
      },
      "sync.check.inversion");
  expect_dropped(
      [&] {
        auto e = alice.fork(alice.key);
        e.prev_data.reset();
        a.emit(e);
      },
      "sync.check.inversion");
  expect_dropped([&] { a.emit(first); }, "sync.check.rev-order");  // replayed: rev not newer
  expect_dropped([&] { a.emit(alice.fork(alice.key, 1, TestAccount::clock(3600LL * 1'000'000))); },
                 "sync.check.rev-future");
  expect_dropped([&] { a.emit(alice.fork(alice.key, 201)); }, "sync.limits.commit-ops");
  expect_dropped([&] { a.emit(carol.commit()); }, "sync.check.host");
  expect_dropped([&] { a.emit(dave.commit()); }, "sync.check.identity");
  // Well framed, but a #commit without its fields: skipped, the stream goes on.
  expect_dropped(
      [&] {
        sync::FrameHeader header;
        header.t = "#commit";
        a.emit_raw(sync::encode_frame(header, data::Map{{"seq", std::int64_t{99}}}));
      },
      "sync.event.fields");

  // An account its PDS deactivated: its commits are not redistributed.
  sync::AccountEvent deactivated;
  deactivated.did = erin.did;
  deactivated.active = false;
  deactivated.status = "deactivated";
  deactivated.time = now_datetime_for_tests();
  a.emit(deactivated);
  auto account = reader->next_event();
  REQUIRE(account);
  REQUIRE(std::holds_alternative<sync::AccountEvent>(*account));
  CHECK_FALSE(std::get<sync::AccountEvent>(*account).active);
  expect_dropped([&] { a.emit(erin.commit()); }, "sync.check.active");
  auto status = query_ok(r, "com.atproto.sync.getRepoStatus", {{"did", erin.did}});
  CHECK(status["active"] == false);
  CHECK(status["status"] == "deactivated");
}

TEST_CASE("relay: a broken chain marks the account out of sync and resyncs it from getRepo",
          "[relay][relay.resync][relay.verify.checklist][sync.check.resync-upstream]") {
  OneHost h;
  auto& a = h.a;
  auto& alice = h.alice;
  auto config = h.config();
  auto r = start(config);
  auto reader = Reader::connect(r.port, 0);
  REQUIRE(reader);

  auto c1 = alice.commit();
  a.emit(c1);
  CHECK(as_commit(reader->next_event()).rev == c1.rev);
  (void)alice.commit();  // c2: never emitted, the relay misses it
  auto c3 = alice.commit();
  auto car = alice.repository->export_car();
  REQUIRE(car.ok());
  a.put_repo(alice.did, car.value());
  a.emit(c3);

  // Not forwarded as a commit: the relay fetched the repository and says so
  // with a #sync event at the fetched rev.
  auto next = reader->next_event();
  REQUIRE(next);
  REQUIRE(std::holds_alternative<sync::SyncEvent>(*next));
  const auto& resynced = std::get<sync::SyncEvent>(*next);
  CHECK(resynced.did == alice.did);
  CHECK(resynced.rev == c3.rev);
  CHECK(a.get_repo_calls() == 1);
  CHECK(r.drops("sync.check.since") == 1);
  CHECK(r.relay->stats().resyncs == 1);
  // The chain continues from the resynced state.
  expect_in_sync_at(r, a, alice, *reader, c3.rev);
}

TEST_CASE("relay: the upstream cursor and the output seq survive a restart",
          "[relay][relay.host.cursor][relay.output.seq][sync.relay.cursor-persist]") {
  Net net;
  FakePds a(0, 10);
  TestAccount alice(test_did(1));
  net.plc.put(alice.did, alice.key.public_key(), a.url());
  auto config = net.config();
  config.crawl = {a.url()};
  {
    auto r = start(config);
    auto reader = Reader::connect(r.port, 0);
    REQUIRE(reader);
    a.emit(alice.commit());
    a.emit(alice.commit());
    CHECK(as_commit(reader->next_event()).seq == 1);
    CHECK(as_commit(reader->next_event()).seq == 2);
    r.relay->stop();
  }
  auto missed = alice.commit();
  a.emit(missed);  // upstream seq 12, while the relay is down

  auto restart = net.config();  // no --crawl: the host comes from the store
  auto r = start(restart);
  auto reader = Reader::connect(r.port, 2);
  REQUIRE(reader);
  const auto& c = as_commit(reader->next_event());
  CHECK(c.seq == 3);  // the output seq continues
  CHECK(c.rev == missed.rev);
  REQUIRE(eventually([&] { return a.cursors().size() == 2; }));
  CHECK(a.cursors().back() == 11);       // resumed after the last processed upstream event
  CHECK_FALSE(reader->next_event(300));  // nothing replayed twice
}

TEST_CASE("relay: a host that goes away is retried with backoff and resumed by cursor",
          "[relay][relay.host.reconnect][relay.host.cursor]") {
  Net net;
  auto a = std::make_unique<FakePds>();
  TestAccount alice(test_did(1));
  net.plc.put(alice.did, alice.key.public_key(), a->url());
  auto config = net.config();
  config.crawl = {a->url()};
  auto r = start(config);
  auto reader = Reader::connect(r.port, 0);
  REQUIRE(reader);
  a->emit(alice.commit());
  CHECK(as_commit(reader->next_event()).seq == 1);

  std::uint16_t port = a->port();
  std::string hostname = a->hostname();
  a->stop();
  REQUIRE(eventually([&] {
    auto s = r.client().query("com.atproto.sync.getHostStatus", {{"hostname", hostname}});
    return s.ok() && s.value().json && (*s.value().json)["status"] == "offline";
  }));
  a->start(port);
  auto after = alice.commit();
  a->emit(after);
  const auto& c = as_commit(reader->next_event());
  CHECK(c.rev == after.rev);
  CHECK(c.seq == 2);
  REQUIRE(a->cursors().size() >= 2);
  CHECK(a->cursors().back() == 1);
  auto s = query_ok(r, "com.atproto.sync.getHostStatus", {{"hostname", hostname}});
  CHECK(s["status"] == "active");
}

TEST_CASE("relay: replay by cursor, from the oldest, live only, and a future cursor",
          "[relay][relay.output.cursor]") {
  OneHost h;
  auto& a = h.a;
  auto& alice = h.alice;
  auto config = h.config();
  auto r = start(config);
  std::vector<std::string> revs;
  {
    auto reader = Reader::connect(r.port, 0);
    revs = emit_commits(a, alice, 5);
    for (int i = 0; i < 5; ++i) CHECK(as_commit(reader->next_event()).rev == revs[i]);
  }
  auto from2 = Reader::connect(r.port, 2);
  for (int i = 2; i < 5; ++i) {
    const auto& c = as_commit(from2->next_event());
    CHECK(c.seq == i + 1);
    CHECK(c.rev == revs[static_cast<std::size_t>(i)]);
  }
  auto all = Reader::connect(r.port, 0);
  for (int i = 0; i < 5; ++i) CHECK(as_commit(all->next_event()).seq == i + 1);

  auto live = Reader::connect(r.port, std::nullopt);
  CHECK_FALSE(live->next_event(300));  // nothing old
  auto e = alice.commit();
  a.emit(e);
  const auto& c = as_commit(live->next_event());
  CHECK(c.seq == 6);
  CHECK(c.rev == e.rev);

  auto future = Reader::connect(r.port, 99);
  REQUIRE(future);
  auto m = future->next();
  REQUIRE(m);
  REQUIRE(std::holds_alternative<sync::ErrorFrame>(*m));
  CHECK(std::get<sync::ErrorFrame>(*m).error == "FutureCursor");
}

TEST_CASE("relay: a slow consumer is dropped while a fast one continues, and resumes by cursor",
          "[relay][relay.consumer.slow]") {
  OneHost h;
  auto& a = h.a;
  auto& alice = h.alice;
  auto config = h.config();
  config.consumer_queue_bytes = 256 * 1024;
  config.slow_consumer_ms = 300;
  auto r = start(config);
  auto slow = Reader::connect(r.port, 0);
  auto fast = Reader::connect(r.port, 0);
  REQUIRE(slow);
  REQUIRE(fast);

  // About 8 MB: more than the loopback socket buffers hold for a consumer
  // that does not read (about 4 MB here: tcp_wmem's maximum, and a receive
  // buffer that does not grow while nothing is read).
  constexpr int kEvents = 20;
  std::thread producer([&] {
    for (int i = 0; i < kEvents; ++i) a.emit(alice.commit(1, 400'000));
  });
  int fast_seen = 0;
  while (fast_seen < kEvents) {
    auto e = fast->next_event(20000);
    if (!e) break;
    CHECK(sync::event_seq(*e) == fast_seen + 1);
    ++fast_seen;
  }
  producer.join();
  CHECK(fast_seen == kEvents);
  REQUIRE(eventually([&] { return r.relay->stats().consumers == 1; }));

  // The slow one got a prefix, then ConsumerTooSlow (or just the close).
  std::int64_t last = 0;
  bool too_slow = false;
  while (auto m = slow->next(2000)) {
    if (auto* e = std::get_if<sync::Event>(&*m)) {
      CHECK(sync::event_seq(*e) == last + 1);
      last = sync::event_seq(*e);
    } else if (auto* err = std::get_if<sync::ErrorFrame>(&*m)) {
      too_slow = err->error == "ConsumerTooSlow";
    }
  }
  CHECK(last < kEvents);
  CHECK(too_slow);
  auto resumed = Reader::connect(r.port, last);
  REQUIRE(resumed);
  for (std::int64_t seq = last + 1; seq <= kEvents; ++seq) {
    auto e = resumed->next_event();
    REQUIRE(e);
    CHECK(sync::event_seq(*e) == seq);
  }
}

TEST_CASE("relay: requestCrawl adds a host; loopback hosts need the private-address flag",
          "[relay][relay.api.request-crawl][relay.host.private-addresses]") {
  Net net;
  FakePds a;
  {
    auto config = net.config();
    config.allow_private_addresses = false;
    auto r = start(config);
    auto refused = r.relay->request_crawl(a.url());
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code == "relay.host.private-addresses");
    auto answer =
        r.client().procedure("com.atproto.sync.requestCrawl", {{"hostname", a.hostname()}});
    REQUIRE(answer.ok());
    CHECK(answer.value().status == 400);
  }
  TempDir other;
  auto config = net.config();
  config.data_dir = other.path.string();
  auto r = start(config);
  auto answer = r.client().procedure("com.atproto.sync.requestCrawl", {{"hostname", a.hostname()}});
  REQUIRE(answer.ok());
  CHECK(answer.value().status == 200);
  auto hosts = query_ok(r, "com.atproto.sync.listHosts", {});
  REQUIRE(hosts["hosts"].size() == 1);
  CHECK(hosts["hosts"][0]["hostname"] == a.hostname());
  REQUIRE(eventually([&] { return a.cursors().size() == 1; }));  // subscribed
  auto bad = r.client().procedure("com.atproto.sync.requestCrawl", {{"hostname", "not a host"}});
  REQUIRE(bad.ok());
  CHECK(bad.value().status == 400);
}

TEST_CASE("relay: per-host limits on accounts and on events per second",
          "[relay][relay.host.limits][sync.check.rate-limits]") {
  Net net;
  FakePds a;
  TestAccount alice(test_did(1)), bob(test_did(2));
  net.plc.put(alice.did, alice.key.public_key(), a.url());
  net.plc.put(bob.did, bob.key.public_key(), a.url());
  auto config = net.config();
  config.crawl = {a.url()};
  config.host_max_accounts = 1;
  config.host_events_per_second = 4;
  auto r = start(config);
  auto reader = Reader::connect(r.port, 0);
  REQUIRE(reader);

  a.emit(alice.commit());
  CHECK(as_commit(reader->next_event()).repo == alice.did);
  a.emit(bob.commit());  // a second account on a host allowed one
  auto start_time = std::chrono::steady_clock::now();
  auto revs = emit_commits(a, alice, 13);
  for (const auto& rev : revs) CHECK(as_commit(reader->next_event()).rev == rev);
  // 15 events read at 4 per second, windows from the first event on: the
  // 9th and the 13th each wait a whole second after start_time.
  CHECK(std::chrono::steady_clock::now() - start_time >= std::chrono::milliseconds(1800));
  CHECK(r.drops("relay.host.limits") == 1);
  auto host = query_ok(r, "com.atproto.sync.getHostStatus", {{"hostname", a.hostname()}});
  CHECK(host["accountCount"] == 1);
}

namespace {

// After c1 is forwarded the host sends `frame` on its live connection and
// then c2 on the same connection, which the relay must have left by then:
// c2 reaches it by the cursor of a new subscription (c1's upstream seq) and
// is forwarded once, as the relay's seq 2 (nothing for the frame).
void resubscribes_after(OneHost& h, Reader& reader, const std::vector<std::uint8_t>& frame) {
  auto c1 = h.alice.commit();
  std::int64_t c1_seq = h.a.emit(c1);
  CHECK(as_commit(reader.next_event()).rev == c1.rev);
  REQUIRE(h.a.cursors().size() == 1);
  h.a.send_live(frame);
  auto c2 = h.alice.commit();
  h.a.emit(c2);
  const auto& forwarded = as_commit(reader.next_event());
  CHECK(forwarded.rev == c2.rev);
  CHECK(forwarded.seq == 2);
  REQUIRE(h.a.cursors().size() == 2);
  CHECK(h.a.cursors().back() == c1_seq);  // resumed after the last good event
  CHECK_FALSE(reader.next_event(300));    // c2 once only
}

}  // namespace

TEST_CASE(
    "relay: a frame that is not DRISL-CBOR ends the connection; the host is read again "
    "from the cursor",
    "[relay][sync.frame.encoding][relay.host.cursor][relay.host.reconnect]") {
  OneHost h;
  auto& a = h.a;
  auto& alice = h.alice;
  auto r = start(h.config());
  auto reader = Reader::connect(r.port, 0);
  REQUIRE(reader);
  // A map of one entry whose value never comes: not a frame.
  resubscribes_after(h, *reader, {0xa1, 0x01});
  CHECK(r.drops_with_prefix("data.") == 1);

  // An unknown message type is skipped without leaving the connection.
  sync::FrameHeader header;
  header.t = "#someday";
  a.emit_raw(sync::encode_frame(header, data::Map{{"seq", std::int64_t{1}}}));
  auto c3 = alice.commit();
  a.emit(c3);
  CHECK(as_commit(reader->next_event()).rev == c3.rev);
  CHECK(a.cursors().size() == 2);
}

TEST_CASE(
    "relay: an error frame from the host ends the connection; the host is read again from the "
    "cursor",
    "[relay][sync.stream.close-after-error][relay.host.cursor][relay.host.reconnect]") {
  OneHost h;
  auto r = start(h.config());
  auto reader = Reader::connect(r.port, 0);
  REQUIRE(reader);
  // Closing after the error frame is the only way c2 can come out once.
  resubscribes_after(h, *reader,
                     sync::encode_error_frame({"HostTrouble", "the host is having trouble"}));
  CHECK(r.relay->stats().dropped == 0);  // an error frame is no dropped event
}

namespace {

// The account's repository as its PDS serves it from now on.
void publish_repo(FakePds& pds, TestAccount& account) {
  auto car = account.repository->export_car();
  REQUIRE(car.ok());
  pds.put_repo(account.did, car.value());
}

// After the account's first commit: misses one commit and emits the next
// (c3), which breaks the chain; returns c3 once the relay's getRepo (at c3)
// has come and is held at the PDS.
sync::CommitEvent break_chain_with_fetch_held(FakePds& pds, TestAccount& account) {
  (void)account.commit();  // c2: never emitted
  auto c3 = account.commit();
  publish_repo(pds, account);
  pds.hold_get_repo();
  pds.emit(c3);
  REQUIRE(eventually([&] { return pds.get_repo_calls() == 1; }));
  return c3;
}

}  // namespace

TEST_CASE(
    "relay: events that arrive while a resync runs are held, then processed in order "
    "against the fetched state",
    "[relay][sync.check.desynchronized][relay.resync][sync.relay.per-account-order]") {
  OneHost h;
  auto& a = h.a;
  auto& alice = h.alice;
  TestAccount bob(test_did(2));
  h.net.plc.put(bob.did, bob.key.public_key(), a.url());
  auto r = start(h.config());
  auto reader = Reader::connect(r.port, 0);
  REQUIRE(reader);

  auto c1 = alice.commit();
  a.emit(c1);
  CHECK(as_commit(reader->next_event()).rev == c1.rev);
  auto c3 = break_chain_with_fetch_held(a, alice);

  // While the fetch is held at the PDS: c3 again (covered by the fetch),
  // an #identity, then c4 and c5 continuing from c3; bob's commit in
  // between is no part of it and goes through.
  a.emit(c3);
  sync::IdentityEvent identity;
  identity.did = alice.did;
  identity.time = now_datetime_for_tests();
  a.emit(identity);
  auto c4 = alice.commit();
  a.emit(c4);
  auto b1 = bob.commit();
  a.emit(b1);
  auto c5 = alice.commit(2);
  a.emit(c5);
  publish_repo(a, alice);
  auto fence = as_commit(reader->next_event());
  CHECK(fence.repo == bob.did);  // only bob's commit: alice's events are held
  CHECK_FALSE(reader->next_event(300));
  auto held = query_ok(r, "com.atproto.sync.getRepoStatus", {{"did", alice.did}});
  CHECK(held["status"] == "desynchronized");

  a.release_get_repo();
  CHECK(as_sync(reader->next_event()).rev == c3.rev);
  auto identity_out = reader->next_event();
  REQUIRE(identity_out);
  CHECK(std::holds_alternative<sync::IdentityEvent>(*identity_out));
  const auto& got4 = as_commit(reader->next_event());
  CHECK(got4.rev == c4.rev);
  CHECK(got4.blocks == c4.blocks);
  CHECK(as_commit(reader->next_event()).rev == c5.rev);
  CHECK_FALSE(reader->next_event(300));
  CHECK(r.drops("sync.check.rev-order") == 1);  // c3 again: older than the fetch
  CHECK(r.drops("sync.check.desynchronized") == 0);
  CHECK(a.get_repo_calls() == 1);
  expect_in_sync_at(r, a, alice, *reader, c5.rev);
}

TEST_CASE("relay: past its bound the resync queue is dropped and another resync follows",
          "[relay][sync.check.desynchronized][relay.resync]") {
  OneHost h;
  auto& a = h.a;
  auto& alice = h.alice;
  auto config = h.config();
  config.resync_queue_events = 2;
  auto r = start(config);
  auto reader = Reader::connect(r.port, 0);
  REQUIRE(reader);

  a.emit(alice.commit());
  CHECK(as_commit(reader->next_event()).repo == alice.did);
  auto c3 = break_chain_with_fetch_held(a, alice);
  auto revs = emit_commits(a, alice, 4);
  publish_repo(a, alice);  // what the second fetch gets
  // The two held ones, then the two past the bound.
  REQUIRE(eventually([&] { return r.drops("sync.check.desynchronized") == 4; }));

  a.release_get_repo();
  CHECK(as_sync(reader->next_event()).rev == c3.rev);
  CHECK(as_sync(reader->next_event()).rev == revs.back());  // the second fetch
  CHECK(a.get_repo_calls() == 2);
  expect_in_sync_at(r, a, alice, *reader, revs.back());
}

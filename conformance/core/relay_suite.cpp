// The "relay" service suite (see relay_suite.hpp). Case ids mirror the
// sync vectors' ids (vectors/sync/firehose.json) where a case plays one of
// them live: relay.firehose.<vector id>. Each case cites the sync rule it
// plays (spec/requirements/sync.json) and the relay requirement of what it
// observes (spec/requirements/relay.json).
#include "relay_suite.hpp"

#include <algorithm>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <variant>

#include "atproto/car/car.hpp"
#include "atproto/common/hex.hpp"
#include "atproto/identity/fetch.hpp"
#include "atproto/identity/plc.hpp"
#include "atproto/repo/commit.hpp"
#include "atproto/sync/events.hpp"
#include "atproto/sync/fake_host.hpp"
#include "atproto/syntax/tid.hpp"
#include "atproto/xrpc/client.hpp"
#include "http_session.hpp"
#include "pds_suite.hpp"
#include "suites.hpp"

namespace atproto::conformance {
namespace {

using Bytes = std::vector<std::uint8_t>;
using sync::testing::FakePds;
using sync::testing::TestAccount;
using SteadyClock = std::chrono::steady_clock;

// ---------------------------------------------------------------- target

// The relay target: the pds target's HTTP exchanges and firehose windows
// (the same transport: safe fetch and the xrpc WebSocket client) under the
// relay's operation names.
class RelayTarget final : public Target, public PdsFirehose {
 public:
  RelayTarget(const std::string& base_url, int timeout_ms, bool allow_private)
      : base_url_(base_url), inner_(make_pds_target(base_url, timeout_ms, allow_private)) {
    firehose_ = dynamic_cast<PdsFirehose*>(inner_.get());
  }
  std::string description() const override { return "relay at " + base_url_; }
  Response capabilities() override {
    // A relay has no capabilities document; any HTTP answer says it is up.
    Response health = inner_->call(kPdsHttp, {{"method", "GET"}, {"path", "/xrpc/_health"}});
    if (!health.transport_error.empty()) return health;
    Response out;
    out.status = 200;
    out.body = {{"name", "relay"},
                {"version", ""},
                {"operations", json::array({kRelayHttp, kRelaySubscribe})}};
    return out;
  }
  Response call(const std::string& operation, const json& request) override {
    return inner_->call(inner_operation(operation), request);
  }
  std::string reproduce_command(const std::string& operation, const json& request,
                                const std::string& body_file) const override {
    return inner_->reproduce_command(inner_operation(operation), request, body_file);
  }
  std::string request_body(const json& request) const override {
    return inner_->request_body(request);
  }
  std::variant<std::unique_ptr<PdsSubscription>, Response> open(const json& request) override {
    return firehose_->open(request);
  }

 private:
  static std::string inner_operation(const std::string& operation) {
    if (operation == kRelayHttp) return kPdsHttp;
    if (operation == kRelaySubscribe) return kPdsSubscribe;
    return operation;
  }
  std::string base_url_;
  std::unique_ptr<Target> inner_;
  PdsFirehose* firehose_ = nullptr;
};

// ---------------------------------------------------------------- run state

using Http = HttpAnswer;

struct Host;

// An account of the run: a did:plc registered at the directory, and a
// repository on a fake host whose commits are genuinely signed.
struct Account {
  TestAccount repo{"did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"};  // the DID is set once registered
  crypto::PrivateKey rotation = crypto::PrivateKey::generate(crypto::Curve::kK256).value();
  std::string last_operation;  // CID of the last PLC operation
  Host* host = nullptr;
  const std::string& did() const { return repo.did; }
};

// One fake PDS host with its fence account.
struct Host {
  std::unique_ptr<FakePds> pds;
  std::unique_ptr<Account> fence;
  std::int64_t last_upstream_seq = 0;
  std::string hostname() const { return pds->hostname(); }
};

struct RelayRun {
  RelaySuiteOptions options;
  std::mutex mutex;  // one case at a time
  bool started = false;
  std::string setup_error;  // set when the hosts could not be crawled
  Host a, b;
  std::unique_ptr<PdsSubscription> stream;  // the relay's firehose, read live
  std::int64_t last_seq = 0;                // highest relay seq read
  std::vector<std::unique_ptr<Account>> accounts;
};
using RunPtr = std::shared_ptr<RelayRun>;

// A relay event as read: its frame and the decoded event.
struct Seen {
  Bytes frame;
  sync::Event event;
};

// The DID an event is about ("" for #info).
std::string event_did(const sync::Event& e) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, sync::CommitEvent>) {
          return v.repo;
        } else if constexpr (std::is_same_v<T, sync::InfoEvent>) {
          return "";
        } else {
          return v.did;
        }
      },
      e);
}

json describe(const sync::Event& e) {
  json out = {{"type", sync::event_type(e)}, {"seq", sync::event_seq(e)}, {"did", event_did(e)}};
  if (const auto* c = std::get_if<sync::CommitEvent>(&e)) out["rev"] = c->rev;
  if (const auto* s = std::get_if<sync::SyncEvent>(&e)) out["rev"] = s->rev;
  if (const auto* a = std::get_if<sync::AccountEvent>(&e)) out["active"] = a->active;
  return out;
}

// ---------------------------------------------------------------- session

// One message of a subscription, as received and decoded.
struct Message {
  Bytes bytes;
  Result<sync::Message> message;
};

// The next message, waiting until `deadline`; nullopt when none came
// (`closed` then says whether the relay closed the stream).
std::optional<Message> read_one(PdsSubscription& subscription, SteadyClock::time_point deadline,
                                bool& closed) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
  if (left.count() <= 0) return std::nullopt;
  Response r =
      subscription.read({{"idle_ms", static_cast<int>(std::max<std::int64_t>(left.count(), 1))},
                         {"max_messages", 1}});
  auto messages = r.body.value("messages", json::array());
  if (messages.empty()) {
    closed = r.body.value("closed", false);
    return std::nullopt;
  }
  auto bytes = hex_decode(messages[0].get<std::string>()).value_or(Bytes{});
  auto decoded = sync::decode_message(bytes);
  return Message{std::move(bytes), std::move(decoded)};
}

// One case's exchanges with the relay, the events it read, and its first
// failure.
class Session : public HttpSession {
 public:
  Session(RunContext& context, RelayRun& run)
      : HttpSession(context.target, kRelayHttp, "the relay"), run_(run) {}

  RelayRun& run() { return run_; }
  const RelaySuiteOptions& options() const { return run_.options; }

  Http request(const std::string& method, const std::string& path,
               std::optional<std::string> body = std::nullopt) {
    json sent = {{"method", method}, {"path", path}};
    if (body) {
      sent["headers"] = {{"content-type", "application/json"}};
      sent["body"] = *body;
    }
    return note(sent, target().call(kRelayHttp, sent));
  }
  Http query(const std::string& nsid, const xrpc::QueryParams& params) {
    std::string q = xrpc::encode_query(params);
    return request("GET", "/xrpc/" + nsid + (q.empty() ? "" : "?" + q));
  }

  bool ok_answer(const Http& h, const std::string& what) {
    return check(h.status == 200 && h.body.is_object(),
                 what + " answered HTTP " + std::to_string(h.status) +
                     (h.error().empty() ? "" : " " + h.error()),
                 "HTTP 200 with a JSON object");
  }

  // The events this case read from the relay's stream, in order.
  const std::vector<Seen>& window() const { return window_; }
  // Messages of the relay's stream read by read_until that did not decode
  // or are of no type the lexicon defines.
  int unexpected() const { return unexpected_; }
  std::vector<const Seen*> events_of(const std::string& did) const {
    std::vector<const Seen*> out;
    for (const auto& s : window_) {
      if (event_did(s.event) == did) out.push_back(&s);
    }
    return out;
  }

  // Reads the relay's stream until `done` holds for an event or nothing
  // came for timeout_ms; a closed stream is reopened after the last seq
  // read. False (a failure recorded) when `done` never held.
  bool read_until(const std::function<bool(const sync::Event&)>& done, const std::string& what) {
    auto deadline = SteadyClock::now() + std::chrono::milliseconds(options().timeout_ms);
    bool reopened = false;
    while (true) {
      if (!run_.stream) {
        run_.stream = open_subscription("?cursor=" + std::to_string(run_.last_seq));
        if (!run_.stream) return false;
      }
      bool closed = false;
      auto message = read_one(*run_.stream, deadline, closed);
      if (!message) {
        if (!closed || reopened) break;
        run_.stream.reset();  // reopened above, by cursor
        reopened = true;
        continue;
      }
      if (!message->message ||
          std::holds_alternative<sync::UnknownMessage>(message->message.value())) {
        ++unexpected_;
      }
      auto* event =
          message->message ? std::get_if<sync::Event>(&message->message.value()) : nullptr;
      if (!event) continue;
      run_.last_seq = std::max(run_.last_seq, sync::event_seq(*event));
      window_.push_back(Seen{std::move(message->bytes), *event});
      if (done(*event)) return true;
    }
    json seen = json::array();
    for (const auto& w : window_) seen.push_back(describe(w.event));
    sent({{"path", "/xrpc/com.atproto.sync.subscribeRepos"}}, kRelaySubscribe);
    received(101, {{"events", seen}});
    return check(false, "the relay did not forward " + what + " within " +
                            std::to_string(options().timeout_ms) + " ms");
  }

  // A second subscription (`query` after subscribeRepos): reads until
  // `done` holds for an event, the stream closes, `max_messages` arrived
  // or nothing came for timeout_ms.
  struct Other {
    std::vector<Seen> events;
    std::vector<std::string> errors;  // error frames' names
    bool closed = false;
  };
  std::optional<Other> subscribe(const std::string& query,
                                 const std::function<bool(const Seen&)>& done,
                                 std::size_t max_messages = 100000) {
    auto subscription = open_subscription(query);
    if (!subscription) return std::nullopt;
    Other out;
    json summary = json::array();
    auto deadline = SteadyClock::now() + std::chrono::milliseconds(options().timeout_ms);
    for (std::size_t i = 0; i < max_messages; ++i) {
      auto message = read_one(*subscription, deadline, out.closed);
      if (!message) break;
      if (!message->message) {
        summary.push_back("undecodable: " + message->message.error().code);
      } else if (auto* error = std::get_if<sync::ErrorFrame>(&message->message.value())) {
        out.errors.push_back(error->error);
        summary.push_back({{"error", error->error}});
      } else if (auto* event = std::get_if<sync::Event>(&message->message.value())) {
        out.events.push_back(Seen{std::move(message->bytes), *event});
        summary.push_back(describe(*event));
        if (done(out.events.back())) break;
      }
    }
    received(101, {{"messages", summary}, {"closed", out.closed}});
    return out;
  }

  // Opens the relay's firehose with `query`; nullptr (a failure recorded)
  // when it was refused.
  std::unique_ptr<PdsSubscription> open_subscription(const std::string& query) {
    std::string path = "/xrpc/com.atproto.sync.subscribeRepos" + query;
    sent({{"path", path}}, kRelaySubscribe);
    auto* firehose = dynamic_cast<PdsFirehose*>(&target());
    if (!check(firehose != nullptr, "the target offers no firehose")) return nullptr;
    auto opened = firehose->open({{"path", path}});
    if (auto* answer = std::get_if<Response>(&opened)) {
      check(false,
            "subscribeRepos was refused: " +
                (answer->transport_error.empty() ? answer->raw_body : answer->transport_error));
      return nullptr;
    }
    return std::move(std::get<std::unique_ptr<PdsSubscription>>(opened));
  }

  // The live stream of the run, without a cursor (from now on).
  bool open_live_stream() {
    run_.stream = open_subscription("");
    return run_.stream != nullptr;
  }

 private:
  RelayRun& run_;
  std::vector<Seen> window_;
  int unexpected_ = 0;
};

// ---------------------------------------------------------------- identities

// Submits an operation for the account's DID (a genesis operation when it
// has none yet) naming its current key and the host's URL.
bool register_identity(Session& s, Account& account, const std::string& pds_url,
                       bool with_key = true) {
  identity::PlcOperation op;
  op.rotation_keys = {account.rotation.public_key().did_key()};
  if (with_key) op.verification_methods["atproto"] = account.repo.key.public_key().did_key();
  if (!pds_url.empty()) {
    op.services["atproto_pds"] = identity::PlcService{"AtprotoPersonalDataServer", pds_url};
  }
  if (!account.last_operation.empty()) op.prev = account.last_operation;
  (void)identity::sign_plc_operation(op, account.rotation);
  if (account.last_operation.empty()) {
    auto did = identity::did_for_genesis(op);
    if (!s.check(did.ok(), "cannot derive a did:plc")) return false;
    account.repo.did = did.value();
  }
  identity::FetchPolicy policy;
  policy.allow_private_addresses = s.options().allow_private_addresses;
  policy.timeout_ms = s.options().timeout_ms;
  std::string url = s.options().plc_url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  auto posted =
      identity::http_request("POST", url + "/" + account.did(), identity::to_json(op).dump(),
                             {{"content-type", "application/json"}}, policy);
  if (!s.check(posted.ok() && posted->status == 200,
               "the PLC directory " + url + " did not accept the operation for " + account.did() +
                   ": " +
                   (posted.ok() ? "HTTP " + std::to_string(posted->status) + " " + posted->body
                                : posted.error().message))) {
    return false;
  }
  auto cid = identity::plc_operation_cid(op);
  account.last_operation = cid ? cid.value() : "";
  return true;
}

// A new account on `host`, its identity registered (with `pds_url`
// overriding the host's URL; "-" for no PDS at all).
Account* new_account(Session& s, Host& host, const std::string& pds_url = "",
                     bool with_key = true) {
  auto account = std::make_unique<Account>();
  account->host = &host;
  std::string url = pds_url == "-" ? "" : pds_url.empty() ? host.pds->url() : pds_url;
  if (!register_identity(s, *account, url, with_key)) return nullptr;
  s.run().accounts.push_back(std::move(account));
  return s.run().accounts.back().get();
}

// ---------------------------------------------------------------- emitting

// The host sends an event; the account's repository is what getRepo serves.
std::int64_t emit(Host& host, sync::Event event) {
  host.last_upstream_seq = host.pds->emit(std::move(event));
  return host.last_upstream_seq;
}
sync::CommitEvent next_commit(Account& account, int writes = 1) {
  auto commit = account.repo.commit(writes);
  if (auto car = account.repo.repository->export_car()) {
    account.host->pds->put_repo(account.did(), car.value());
  }
  return commit;
}
sync::CommitEvent emit_commit(Account& account, int writes = 1) {
  auto commit = next_commit(account, writes);
  emit(*account.host, commit);
  return commit;
}

bool is_commit(const sync::Event& e, const std::string& did, const std::string& rev) {
  const auto* c = std::get_if<sync::CommitEvent>(&e);
  return c && c->repo == did && c->rev == rev;
}

// Emits the next commit of the host's fence account and reads the relay's
// stream until it is forwarded: every event the relay forwards for what the
// host sent before it has then been read.
bool fence(Session& s, Host& host) {
  auto commit = emit_commit(*host.fence);
  return s.read_until(
      [&](const sync::Event& e) { return is_commit(e, host.fence->did(), commit.rev); },
      "the fence commit " + commit.rev + " of " + host.fence->did() + " (from " + host.hostname() +
          ")");
}

// After the fence: nothing about `did` was forwarded, or `what` fails.
bool none_forwarded(Session& s, const std::string& did, const std::string& what) {
  auto forwarded = s.events_of(did);
  json seen = json::array();
  for (const auto* e : forwarded) seen.push_back(describe(e->event));
  return s.check(forwarded.empty(), what + " was forwarded: " + seen.dump(), "nothing forwarded");
}

// The forwarded #commit of `did` at `rev`, or nullptr (a failure recorded).
const sync::CommitEvent* forwarded_commit(Session& s, const std::string& did,
                                          const std::string& rev, const std::string& what) {
  for (const auto* e : s.events_of(did)) {
    if (is_commit(e->event, did, rev)) return &std::get<sync::CommitEvent>(e->event);
  }
  s.check(false, what + " (" + did + " rev " + rev + ") was not forwarded before the fence");
  return nullptr;
}

// A new account on host a whose first commit the relay forwarded (the
// start of every case about what follows on a known account); nullptr
// after a failure. `first` receives that commit when given.
Account* known_account(Session& s, sync::CommitEvent* first = nullptr) {
  Account* x = new_account(s, s.run().a);
  if (!x) return nullptr;
  auto commit = emit_commit(*x);
  if (!fence(s, s.run().a) || !forwarded_commit(s, x->did(), commit.rev, "the first commit")) {
    return nullptr;
  }
  if (first) *first = std::move(commit);
  return x;
}

// ---------------------------------------------------------------- setup

// Starts the two fake hosts, registers their fence accounts, asks the relay
// to crawl both, and opens the live stream: a fence of each host read
// through it proves the relay subscribed.
bool start(Session& s) {
  RelayRun& run = s.run();
  if (run.started) return s.check(run.setup_error.empty(), run.setup_error);
  run.started = true;
  auto fail = [&](const std::string& message) {
    run.setup_error = "setup: " + message;
    return s.check(false, run.setup_error);
  };
  if (run.options.plc_url.empty()) return fail("the relay suite needs --plc URL");
  // Host b's upstream seqs start far above a's, so an event forwarded under
  // its upstream seq instead of the relay's shows.
  run.a.pds = std::make_unique<FakePds>(0, 1);
  run.b.pds = std::make_unique<FakePds>(0, 1'000'000);
  for (Host* host : {&run.a, &run.b}) {
    auto fence = std::make_unique<Account>();
    fence->host = host;
    if (!register_identity(s, *fence, host->pds->url())) return fail("the PLC directory refused");
    host->fence = std::move(fence);
    Http crawl = s.request("POST", "/xrpc/com.atproto.sync.requestCrawl",
                           json({{"hostname", host->hostname()}}).dump());
    if (!crawl.accepted()) {
      return fail("requestCrawl of " + host->hostname() + " answered HTTP " +
                  std::to_string(crawl.status) + " " + crawl.text.substr(0, 300));
    }
  }
  // The relay must connect to both hosts.
  auto deadline = SteadyClock::now() + std::chrono::milliseconds(run.options.timeout_ms);
  while (SteadyClock::now() < deadline &&
         (run.a.pds->cursors().empty() || run.b.pds->cursors().empty())) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (run.a.pds->cursors().empty() || run.b.pds->cursors().empty()) {
    return fail("the relay did not subscribe to " +
                std::string(run.a.pds->cursors().empty() ? run.a.hostname() : run.b.hostname()) +
                " after requestCrawl");
  }
  // A subscription without a cursor starts at "now", which may be taken
  // after the first fence went out: up to three fences per host.
  if (!s.open_live_stream()) return fail("subscribeRepos was refused");
  for (Host* host : {&run.a, &run.b}) {
    bool seen = false;
    for (int attempt = 0; attempt < 3 && !seen; ++attempt) {
      auto commit = emit_commit(*host->fence);
      Session probe = s;  // a missed fence is not yet a failure
      seen = probe.read_until(
          [&](const sync::Event& e) { return is_commit(e, host->fence->did(), commit.rev); },
          "the fence");
      run.last_seq = std::max(run.last_seq, probe.run().last_seq);
    }
    if (!seen) return fail("the relay forwarded no commit of " + host->hostname());
  }
  return true;
}

// ---------------------------------------------------------------- cases

using Body = std::function<void(Session&)>;

struct Builder {
  std::vector<Case>& cases;
  const Catalog& catalog;
  RunPtr run;

  void add(const std::string& id, std::vector<std::string> requirements,
           const std::string& description, Body body) {
    Case c = service_case(catalog, "relay", id, std::move(requirements), kRelayHttp, description);
    c.run = [body = std::move(body), run = run](RunContext& context) {
      std::lock_guard lock(run->mutex);
      Session s(context, *run);
      if (start(s)) body(s);
      return s.verdict();
    };
    cases.push_back(std::move(c));
  }
};

// The cases that play one invalid event: a fresh account's first commit is
// forwarded, then `bad` (built from the account) is emitted and must not
// be, nor anything else about the account, before the fence.
void dropped_case(Builder& b, const std::string& id, std::vector<std::string> requirements,
                  const std::string& description,
                  std::function<sync::Event(Session&, Account&)> bad) {
  requirements.push_back("relay.verify.checklist");
  b.add(id, std::move(requirements), description, [bad = std::move(bad)](Session& s) {
    Account* x = known_account(s);
    if (!x) return;
    sync::Event event = bad(s, *x);
    if (s.failed()) return;
    std::size_t from = s.window().size();          // what follows the invalid event
    const std::string claimed = event_did(event);  // the repo it names, maybe not x's
    emit(s.run().a, std::move(event));
    if (!fence(s, s.run().a)) return;
    json seen = json::array();
    for (std::size_t i = from; i < s.window().size(); ++i) {
      const std::string did = event_did(s.window()[i].event);
      if (did == x->did() || did == claimed) seen.push_back(describe(s.window()[i].event));
    }
    s.check(seen.empty(), "the invalid event was forwarded: " + seen.dump(), "nothing forwarded");
  });
}

// [relay.host.cursor] The host sends the frame `make` gives on its live
// connection only (never replayed to a cursor), then a commit: a relay that
// must leave the connection for that frame forwards nothing for it,
// resubscribes with a cursor at or before its last processed event, and
// forwards the commit (replayed to that cursor) once. `what` names the frame
// in the wait's message, `forwarded` in the check that nothing came out for
// it, `kept_reading` is the failure when the relay did not resubscribe.
void resubscribes_after(Session& s, const std::function<Bytes(Account&)>& make,
                        const std::string& what, const std::string& forwarded,
                        const std::string& kept_reading) {
  Account* x = known_account(s);
  if (!x) return;
  FakePds& pds = *x->host->pds;
  std::size_t subscriptions = pds.cursors().size();
  std::int64_t last_good = x->host->last_upstream_seq;
  pds.send_live(make(*x));
  auto second = emit_commit(*x);
  if (!s.read_until([&](const sync::Event& e) { return is_commit(e, x->did(), second.rev); },
                    "the commit " + second.rev + " sent after " + what)) {
    return;
  }
  int copies = 0;
  for (const auto* e : s.events_of(x->did())) copies += is_commit(e->event, x->did(), second.rev);
  auto cursors = pds.cursors();
  (void)(s.check(s.unexpected() == 0, "the relay forwarded " + forwarded) &&
         s.check(copies == 1, "the commit after " + what + " was forwarded " +
                                  std::to_string(copies) + " times") &&
         s.check(cursors.size() > subscriptions, kept_reading, "a new subscribeRepos") &&
         s.check(cursors.back() <= last_good,
                 "the relay resubscribed with cursor " + std::to_string(cursors.back()) +
                     ", past the last event it processed (" + std::to_string(last_good) + ")"));
}

void add_forwarding_cases(Builder& b) {
  // [sync.check.since] [sync.check.inversion] [relay.verify.checklist]
  b.add("firehose.first-commit",
        {"sync.check.since", "sync.check.inversion", "relay.verify.checklist"},
        "a new account's first commit (since null, no prevData) is forwarded unchanged but for "
        "its seq",
        [](Session& s) {
          Account* x = new_account(s, s.run().a);
          if (!x) return;
          auto sent = emit_commit(*x);
          if (!fence(s, s.run().a)) return;
          const auto* got = forwarded_commit(s, x->did(), sent.rev, "the first commit");
          if (!got) return;
          (void)(s.check(got->commit == sent.commit, "the commit CID changed") &&
                 s.check(!got->since, "since is no longer null") &&
                 s.check(got->blocks == sent.blocks, "the blocks changed") &&
                 s.check(got->ops.size() == sent.ops.size(), "the ops changed") &&
                 s.check(!got->prev_data, "a prevData appeared"));
        });
  // [relay.account.state] [sync.check.prev-data] [sync.check.since]
  b.add(
      "firehose.chain",
      {"relay.verify.checklist", "relay.account.state", "sync.check.since", "sync.check.prev-data"},
      "a chain of commits (each since the previous rev, prevData the previous data) is "
      "forwarded in order",
      [](Session& s) {
        Account* x = new_account(s, s.run().a);
        if (!x) return;
        std::vector<sync::CommitEvent> sent;
        std::vector<std::string> revs;
        for (int i = 0; i < 3; ++i) {
          sent.push_back(emit_commit(*x, i + 1));
          revs.push_back(sent.back().rev);
        }
        if (!fence(s, s.run().a)) return;
        std::vector<std::string> got;
        for (const auto* e : s.events_of(x->did())) {
          if (const auto* c = std::get_if<sync::CommitEvent>(&e->event)) got.push_back(c->rev);
        }
        if (!s.check(got == revs, "the chain was not forwarded as sent", revs)) return;
        for (std::size_t i = 0; i < sent.size(); ++i) {
          const auto* c = forwarded_commit(s, x->did(), sent[i].rev, "a commit of the chain");
          if (!c || !s.check(c->since == sent[i].since && c->prev_data == sent[i].prev_data &&
                                 c->ops.size() == sent[i].ops.size() && c->blocks == sent[i].blocks,
                             "commit " + sent[i].rev +
                                 " was changed on the way (since, prevData, ops or blocks)")) {
            return;
          }
        }
      });

  auto other_key = [] { return crypto::PrivateKey::generate(crypto::Curve::kK256).value(); };
  // [sync.check.signature]
  dropped_case(b, "firehose.signature-invalid", {"sync.check.signature"},
               "a commit signed by a key that is not the account's is dropped",
               [other_key](Session&, Account& x) { return x.repo.fork(other_key()); });
  // [sync.check.fields-match]
  dropped_case(b, "firehose.fields-match", {"sync.check.fields-match"},
               "a #commit whose rev is not its commit's rev is dropped", [](Session&, Account& x) {
                 auto e = x.repo.fork(x.repo.key);
                 e.rev = syntax::encode_tid({1'800'000'000'000'000ULL, 1}).value();
                 return e;
               });
  dropped_case(b, "firehose.fields-match-did", {"sync.check.fields-match"},
               "a #commit whose repo is another account than its commit's is dropped",
               [](Session& s, Account& x) {
                 Account* y = new_account(s, s.run().a);
                 if (!y) return sync::Event(x.repo.fork(x.repo.key));
                 emit_commit(*y);  // y exists on the relay
                 (void)fence(s, s.run().a);
                 auto e = x.repo.fork(x.repo.key);
                 e.repo = y->did();
                 return sync::Event(e);
               });
  // [sync.check.structure]
  dropped_case(b, "firehose.structure", {"sync.check.structure"},
               "a #commit whose blocks are not a CAR holding its commit is dropped",
               [](Session&, Account& x) {
                 auto e = x.repo.fork(x.repo.key);
                 e.blocks = Bytes{0x0a, 0xa1, 0x65, 'r', 'o', 'o', 't', 's'};
                 return e;
               });
  // [sync.check.rev-order]
  dropped_case(b, "firehose.rev-replay", {"sync.check.rev-order"},
               "a commit emitted again (its rev not newer than the last) is dropped",
               [](Session& s, Account& x) {
                 auto second = emit_commit(x);
                 if (!fence(s, *x.host)) return sync::Event(second);
                 forwarded_commit(s, x.did(), second.rev, "the second commit");
                 return sync::Event(second);
               });
  dropped_case(b, "firehose.rev-older", {"sync.check.rev-order"},
               "a commit whose rev is older than the last one is dropped",
               [](Session& s, Account& x) {
                 // Built on the current head now, sent after a later commit
                 // moved the account on: its rev is older than the last.
                 auto older = x.repo.fork(x.repo.key);
                 auto later = emit_commit(x);
                 if (fence(s, *x.host)) forwarded_commit(s, x.did(), later.rev, "the later commit");
                 return older;
               });
  // [sync.check.rev-future]
  dropped_case(b, "firehose.rev-future", {"sync.check.rev-future"},
               "a commit whose rev is an hour ahead of the clock is dropped",
               [](Session&, Account& x) {
                 return x.repo.fork(x.repo.key, 1, TestAccount::clock(3600LL * 1'000'000));
               });
  // [sync.check.inversion]
  dropped_case(b, "firehose.inversion", {"sync.check.inversion"},
               "a #commit whose ops do not invert to its prevData is dropped",
               [](Session&, Account& x) {
                 auto e = x.repo.fork(x.repo.key, 2);
                 e.ops.pop_back();
                 return e;
               });
  // [sync.limits.commit-ops]
  dropped_case(b, "firehose.commit-ops-limit", {"sync.limits.commit-ops"},
               "a #commit of 201 record operations is dropped",
               [](Session&, Account& x) { return x.repo.fork(x.repo.key, 201); });
  // [sync.check.host]
  b.add("firehose.wrong-host", {"sync.check.host", "relay.verify.checklist"},
        "a commit that arrives from a host that is not the account's PDS is dropped",
        [](Session& s) {
          Account* x = new_account(s, s.run().a);  // its PDS is host a
          if (!x) return;
          auto commit = next_commit(*x);
          emit(s.run().b, commit);
          if (!fence(s, s.run().b)) return;
          none_forwarded(s, x->did(), "a commit from the wrong host");
        });
  // [sync.check.identity]
  b.add("firehose.identity-no-pds", {"sync.check.identity", "relay.verify.checklist"},
        "a commit of a DID whose document names no PDS is dropped", [](Session& s) {
          Account* x = new_account(s, s.run().a, "-");
          if (!x) return;
          emit_commit(*x);
          if (!fence(s, s.run().a)) return;
          none_forwarded(s, x->did(), "a commit of a DID without a PDS");
        });
  b.add("firehose.identity-no-key", {"sync.check.identity", "relay.verify.checklist"},
        "a commit of a DID whose document has no #atproto signing key is dropped", [](Session& s) {
          Account* x = new_account(s, s.run().a, "", false);
          if (!x) return;
          emit_commit(*x);
          if (!fence(s, s.run().a)) return;
          none_forwarded(s, x->did(), "a commit of a DID without a signing key");
        });
  // [sync.check.signature] A failure with the cached key resolves the DID again.
  b.add("firehose.signature-stale-key", {"sync.check.signature", "relay.verify.checklist"},
        "after the account's signing key changed in its DID document, its commits signed with "
        "the new key are forwarded (the relay resolves the DID again)",
        [](Session& s) {
          Account* x = known_account(s);
          if (!x) return;
          x->repo.key = crypto::PrivateKey::generate(crypto::Curve::kK256).value();
          if (!register_identity(s, *x, s.run().a.pds->url())) return;
          auto second = emit_commit(*x);
          if (!fence(s, s.run().a)) return;
          forwarded_commit(s, x->did(), second.rev, "the commit signed with the rotated key");
        });
  // [sync.frame.encoding] [relay.host.cursor]
  b.add("firehose.malformed-frame", {"sync.frame.encoding", "relay.host.cursor"},
        "a frame cut short (not DRISL-CBOR) is a hard error: nothing is forwarded for it, the "
        "relay drops the connection and resubscribes, and the host's next commit, asked for "
        "again by cursor, is forwarded once",
        [](Session& s) {
          resubscribes_after(
              s,
              [](Account& x) {
                Bytes damaged = sync::encode_event(x.repo.fork(x.repo.key));
                damaged.resize(damaged.size() / 2);
                return damaged;
              },
              "the damaged frame", "a frame that does not decode",
              "the relay kept reading the connection that carried a frame that is not "
              "DRISL-CBOR (a hard error for the connection)");
        });
  // [sync.stream.close-after-error] [relay.host.cursor]
  b.add("firehose.error-frame", {"sync.stream.close-after-error", "relay.host.cursor"},
        "an error frame from the host ends the stream: the relay closes that connection and "
        "resubscribes, and the host's next commit, asked for again by cursor, is forwarded once",
        [](Session& s) {
          resubscribes_after(
              s,
              [](Account&) {
                return sync::encode_error_frame({"HostTrouble", "the host is having trouble"});
              },
              "the error frame", "the error frame",
              "the relay kept reading the connection after the host's error frame (streams are "
              "closed after an error frame)");
        });
}

// A #sync of the account's current commit (a CAR of the commit block only).
sync::SyncEvent sync_event(Account& x) {
  const auto& repository = *x.repo.repository;
  car::CarFile slice;
  slice.roots = {repository.commit_cid()};
  slice.blocks = {{repository.commit_cid(), repo::encode_commit(repository.commit())}};
  sync::SyncEvent e;
  e.did = x.did();
  e.rev = repository.commit().rev;
  e.blocks = car::write_car(slice);
  e.time = sync::testing::now_datetime_for_tests();
  return e;
}

// After the fence: the relay marked the account out of sync, fetched it
// with getRepo and said so with a #sync at `rev`; nothing else about the
// account was forwarded, and the chain goes on from there.
void expect_resync(Session& s, Account& x, int get_repo_before, const std::string& rev) {
  auto is_sync = [&](const sync::Event& e) {
    const auto* y = std::get_if<sync::SyncEvent>(&e);
    return y && y->did == x.did() && y->rev == rev;
  };
  bool seen = false;
  for (const auto* e : s.events_of(x.did())) seen = seen || is_sync(e->event);
  if (!seen && !s.read_until(is_sync, "a #sync of " + x.did() + " at rev " + rev)) return;
  for (const auto* e : s.events_of(x.did())) {
    if (const auto* c = std::get_if<sync::CommitEvent>(&e->event)) {
      if (!s.check(c->rev != rev, "the commit that broke the chain was forwarded")) return;
    }
  }
  if (!s.check(x.host->pds->get_repo_calls() > get_repo_before,
               "the relay did not fetch the repository with getRepo")) {
    return;
  }
  Http status = s.query("com.atproto.sync.getRepoStatus", {{"did", x.did()}});
  if (!s.ok_answer(status, "getRepoStatus") ||
      !s.check(status.body.value("active", false) == true && status.body.value("rev", "") == rev,
               "getRepoStatus does not show the fetched rev",
               json({{"active", true}, {"rev", rev}}))) {
    return;
  }
  auto next = emit_commit(x);
  if (!fence(s, *x.host)) return;
  forwarded_commit(s, x.did(), next.rev, "the commit after the resync");
}

void add_resync_cases(Builder& b) {
  // [sync.check.since] [relay.resync]
  b.add("firehose.since-gap", {"sync.check.since", "relay.resync"},
        "a commit whose since is not the last rev the relay saw marks the account out of sync: "
        "it is fetched with getRepo and announced with a #sync",
        [](Session& s) {
          Account* x = known_account(s);
          if (!x) return;
          (void)next_commit(*x);  // never emitted: the relay misses it
          int before = x->host->pds->get_repo_calls();
          auto third = emit_commit(*x);
          if (!fence(s, s.run().a)) return;
          expect_resync(s, *x, before, third.rev);
        });
  // [sync.stream.unknown-types]
  b.add(
      "firehose.unknown-type", {"sync.stream.unknown-types"},
      "frames of an unknown t and of an unknown op are skipped: nothing is forwarded for "
      "them, the connection stays up and the host's next commit is forwarded",
      [](Session& s) {
        Account* x = known_account(s);
        if (!x) return;
        FakePds& pds = *x->host->pds;
        std::size_t subscriptions = pds.cursors().size();
        // Sent on the live connection only, so that a relay which wrongly
        // resubscribes is not sent them again by cursor.
        sync::FrameHeader future;
        future.t = "#futureMessage";
        pds.send_live(sync::encode_frame(
            future, data::Map{{"seq", x->host->last_upstream_seq + 1}, {"did", x->did()}}));
        sync::FrameHeader other_op;
        other_op.op = 2;
        pds.send_live(sync::encode_frame(other_op, data::Map{{"did", x->did()}}));
        auto second = emit_commit(*x);
        if (!s.read_until([&](const sync::Event& e) { return is_commit(e, x->did(), second.rev); },
                          "the commit " + second.rev + " sent after the unknown frames")) {
          return;
        }
        (void)(s.check(s.unexpected() == 0, "the relay forwarded a frame of an unknown type") &&
               s.check(s.events_of(x->did()).size() == 2,
                       "the relay forwarded more than the account's two commits") &&
               s.check(pds.cursors().size() == subscriptions,
                       "the relay left the connection and subscribed again after frames of "
                       "an unknown type, which consumers skip",
                       "the same subscription"));
      });
  // [sync.check.prev-data]
  b.add("firehose.prev-data-mismatch", {"sync.check.prev-data", "relay.resync"},
        "a commit whose since is the last rev but whose prevData is not the last data marks "
        "the account out of sync and it is fetched again",
        [](Session& s) {
          sync::CommitEvent first;
          Account* x = known_account(s, &first);
          if (!x) return;
          (void)next_commit(*x);
          int before = x->host->pds->get_repo_calls();
          auto third = next_commit(*x);
          third.since = first.rev;  // unsigned: the chain claims to continue
          emit(s.run().a, third);
          if (!fence(s, s.run().a)) return;
          expect_resync(s, *x, before, third.rev);
        });
  // [sync.check.sync-reset]
  b.add("firehose.sync-reset", {"sync.check.sync-reset", "relay.resync"},
        "a #sync naming a tree the relay does not have makes it fetch the repository again",
        [](Session& s) {
          Account* x = known_account(s);
          if (!x) return;
          (void)next_commit(*x, 2);  // the host's repository moved on
          int before = x->host->pds->get_repo_calls();
          auto reset = sync_event(*x);
          emit(s.run().a, reset);
          if (!fence(s, s.run().a)) return;
          expect_resync(s, *x, before, reset.rev);
        });
  // [sync.check.desynchronized] [relay.resync]
  b.add("firehose.queued-during-resync", {"sync.check.desynchronized", "relay.resync"},
        "commits that arrive while the relay's getRepo of an out-of-sync account is still "
        "unanswered are forwarded after its #sync, in order; one the fetch covers is not",
        [](Session& s) {
          Account* x = known_account(s);
          if (!x) return;
          FakePds& pds = *x->host->pds;
          (void)next_commit(*x);  // never emitted: the relay misses it
          int before = pds.get_repo_calls();
          // The fetch is answered (with the repository as it was when the
          // request came) only once released, whatever happens here.
          pds.hold_get_repo();
          struct Release {
            FakePds& pds;
            ~Release() { pds.release_get_repo(); }
          } release{pds};
          auto third = emit_commit(*x);
          auto deadline = SteadyClock::now() + std::chrono::milliseconds(s.options().timeout_ms);
          while (pds.get_repo_calls() == before && SteadyClock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
          }
          if (!s.check(pds.get_repo_calls() > before,
                       "the relay did not fetch the repository with getRepo after the chain "
                       "broke")) {
            return;
          }
          // While the fetch is held: the third again (the fetch covers it),
          // then two commits continuing from it; the fence shows the relay
          // read them all before the fetch was answered.
          emit(*x->host, third);
          auto fourth = emit_commit(*x);
          auto fifth = emit_commit(*x, 2);
          if (!fence(s, *x->host)) return;
          pds.release_get_repo();
          if (!s.read_until([&](const sync::Event& e) { return is_commit(e, x->did(), fifth.rev); },
                            "the commit " + fifth.rev + " sent while the resync was running")) {
            return;
          }
          // After the first commit: the #sync at the third, then the fourth
          // and the fifth, nothing else.
          std::vector<json> got;
          for (const auto* e : s.events_of(x->did())) got.push_back(describe(e->event));
          std::vector<json> want = {json({{"type", "#sync"}, {"rev", third.rev}}),
                                    json({{"type", "#commit"}, {"rev", fourth.rev}}),
                                    json({{"type", "#commit"}, {"rev", fifth.rev}})};
          bool same = got.size() == want.size() + 1;
          for (std::size_t i = 0; same && i < want.size(); ++i) {
            same = got[i + 1]["type"] == want[i]["type"] && got[i + 1]["rev"] == want[i]["rev"];
          }
          s.check(same, "the account's events after its first commit were " + json(got).dump(),
                  want);
        });
}

sync::AccountEvent account_event(const Account& x, bool active, std::optional<std::string> status) {
  sync::AccountEvent e;
  e.did = x.did();
  e.active = active;
  e.status = std::move(status);
  e.time = sync::testing::now_datetime_for_tests();
  return e;
}

const sync::AccountEvent* forwarded_account(Session& s, const std::string& did, bool active) {
  for (const auto* e : s.events_of(did)) {
    const auto* a = std::get_if<sync::AccountEvent>(&e->event);
    if (a && a->active == active) return a;
  }
  s.check(false, std::string("the #account event (active ") + (active ? "true" : "false") +
                     ") was not forwarded");
  return nullptr;
}

void add_account_cases(Builder& b) {
  // [sync.check.account-event] [sync.check.active] [relay.api.repo-status]
  b.add("firehose.inactive",
        {"sync.check.account-event", "sync.check.active", "relay.api.repo-status"},
        "a deactivated account's #account is forwarded, its commits are then dropped, and "
        "after it is active again they are forwarded",
        [](Session& s) {
          Account* x = new_account(s, s.run().a);
          if (!x) return;
          emit_commit(*x);
          emit(s.run().a, account_event(*x, false, "deactivated"));
          auto blocked = emit_commit(*x);
          if (!fence(s, s.run().a)) return;
          const auto* off = forwarded_account(s, x->did(), false);
          if (!off || !s.check(off->status == "deactivated", "the status changed")) return;
          for (const auto* e : s.events_of(x->did())) {
            if (!s.check(!is_commit(e->event, x->did(), blocked.rev),
                         "a commit of the deactivated account was forwarded")) {
              return;
            }
          }
          Http status = s.query("com.atproto.sync.getRepoStatus", {{"did", x->did()}});
          if (!s.ok_answer(status, "getRepoStatus") ||
              !s.check(status.body.value("active", true) == false &&
                           status.body.value("status", "") == "deactivated",
                       "getRepoStatus does not show the account deactivated",
                       json({{"active", false}, {"status", "deactivated"}}))) {
            return;
          }
          emit(s.run().a, account_event(*x, true, std::nullopt));
          // The blocked commit was never processed: the chain continues
          // from it (the host's repository has it), so the relay resyncs
          // or accepts; either way the next commit's rev shows up.
          auto next = emit_commit(*x);
          if (!fence(s, s.run().a) || !forwarded_account(s, x->did(), true)) return;
          bool seen = false;
          for (const auto* e : s.events_of(x->did())) {
            if (is_commit(e->event, x->did(), next.rev)) seen = true;
            if (const auto* y = std::get_if<sync::SyncEvent>(&e->event)) {
              seen = seen || y->rev == next.rev;
            }
          }
          if (!seen) {
            s.read_until(
                [&](const sync::Event& e) {
                  const auto* y = std::get_if<sync::SyncEvent>(&e);
                  return is_commit(e, x->did(), next.rev) || (y && y->did == x->did());
                },
                "the account's commit after it was reactivated");
          }
        });
  // [sync.check.account-event] [relay.api.latest-commit]
  b.add("firehose.takedown", {"sync.check.account-event", "relay.api.latest-commit"},
        "a taken-down account's #account is forwarded and getLatestCommit answers RepoTakendown",
        [](Session& s) {
          Account* x = new_account(s, s.run().a);
          if (!x) return;
          emit_commit(*x);
          emit(s.run().a, account_event(*x, false, "takendown"));
          if (!fence(s, s.run().a)) return;
          const auto* off = forwarded_account(s, x->did(), false);
          if (!off || !s.check(off->status == "takendown", "the status changed")) return;
          Http latest = s.query("com.atproto.sync.getLatestCommit", {{"did", x->did()}});
          s.check(latest.status == 400 && latest.error() == "RepoTakendown",
                  "getLatestCommit of a taken-down account answered HTTP " +
                      std::to_string(latest.status) + " " + latest.error(),
                  "HTTP 400 RepoTakendown");
        });
  // [sync.check.host] Hosting status is hop by hop.
  b.add("firehose.account-wrong-host", {"sync.check.host", "sync.check.account-event"},
        "an #account event from a host that is not the account's PDS is dropped", [](Session& s) {
          Account* x = new_account(s, s.run().a);
          if (!x) return;
          emit_commit(*x);
          if (!fence(s, s.run().a)) return;
          emit(s.run().b, account_event(*x, false, "takendown"));
          if (!fence(s, s.run().b)) return;
          for (const auto* e : s.events_of(x->did())) {
            if (!s.check(!std::holds_alternative<sync::AccountEvent>(e->event),
                         "the #account event from the wrong host was forwarded")) {
              return;
            }
          }
          Http status = s.query("com.atproto.sync.getRepoStatus", {{"did", x->did()}});
          (void)(s.ok_answer(status, "getRepoStatus") &&
                 s.check(status.body.value("active", false) == true,
                         "the account is no longer active"));
        });
  // [sync.check.identity-event]
  b.add("firehose.identity-event", {"sync.check.identity-event"},
        "an #identity event from the account's PDS is forwarded", [](Session& s) {
          Account* x = new_account(s, s.run().a);
          if (!x) return;
          emit_commit(*x);
          sync::IdentityEvent e;
          e.did = x->did();
          e.time = sync::testing::now_datetime_for_tests();
          emit(s.run().a, e);
          if (!fence(s, s.run().a)) return;
          bool seen = false;
          for (const auto* got : s.events_of(x->did())) {
            seen = seen || std::holds_alternative<sync::IdentityEvent>(got->event);
          }
          s.check(seen, "the #identity event was not forwarded");
        });
}

void add_output_cases(Builder& b) {
  // [relay.output.seq] [sync.stream.seq-positive]
  b.add("output.seq", {"relay.output.seq", "sync.stream.seq-positive"},
        "events from two hosts come out under the relay's own seq, positive and strictly "
        "increasing",
        [](Session& s) {
          Account* x = new_account(s, s.run().a);
          Account* y = x ? new_account(s, s.run().b) : nullptr;
          if (!y) return;
          std::int64_t before = s.run().last_seq;
          emit_commit(*x);
          emit_commit(*y);
          emit_commit(*x);
          if (!fence(s, s.run().a) || !fence(s, s.run().b)) return;
          std::int64_t last = before;
          for (const auto& e : s.window()) {
            std::int64_t seq = sync::event_seq(e.event);
            if (!s.check(seq > last, "seq " + std::to_string(seq) + " after seq " +
                                         std::to_string(last) + ": not increasing")) {
              return;
            }
            last = seq;
          }
        });
  // [relay.output.cursor] [sync.stream.cursor-backfill]
  b.add("output.replay", {"relay.output.cursor", "sync.stream.cursor-backfill"},
        "a subscription with a cursor replays the stored events after it, byte for byte",
        [](Session& s) {
          Account* x = new_account(s, s.run().a);
          if (!x) return;
          std::int64_t cursor = s.run().last_seq;
          std::vector<std::string> revs;
          for (int i = 0; i < 3; ++i) revs.push_back(emit_commit(*x).rev);
          if (!fence(s, s.run().a)) return;
          auto live = s.events_of(x->did());
          if (!s.check(live.size() == 3, "the three commits were not forwarded live")) return;
          auto replay = s.subscribe("?cursor=" + std::to_string(cursor), [&](const Seen& e) {
            return is_commit(e.event, x->did(), revs[2]);
          });
          if (!replay) return;
          std::vector<const Seen*> replayed;
          for (const auto& e : replay->events) {
            if (event_did(e.event) == x->did()) replayed.push_back(&e);
          }
          if (!s.check(replayed.size() == live.size(),
                       "the replay holds " + std::to_string(replayed.size()) +
                           " events of the account, not the 3 forwarded live")) {
            return;
          }
          for (std::size_t i = 0; i < live.size(); ++i) {
            if (!s.check(replayed[i]->frame == live[i]->frame,
                         "replayed event " + std::to_string(i) + " differs from the live one")) {
              return;
            }
          }
        });
  // [sync.stream.cursor-future]
  b.add("output.future-cursor", {"sync.stream.cursor-future", "relay.output.cursor"},
        "a cursor beyond the last seq gets a FutureCursor error frame and the stream closes",
        [](Session& s) {
          if (!fence(s, s.run().a)) return;
          auto window = s.subscribe(
              "?cursor=" + std::to_string(s.run().last_seq + 1'000'000),
              [](const Seen&) { return false; }, 2);
          if (!window) return;
          (void)(s.check(!window->errors.empty() && window->errors[0] == "FutureCursor",
                         "no FutureCursor error frame", "an error frame FutureCursor") &&
                 s.check(window->events.empty(), "events were sent after FutureCursor") &&
                 s.check(window->closed, "the stream stayed open after the error frame"));
        });
}

void add_api_cases(Builder& b) {
  // [relay.api.repo-status] [relay.account.state]
  b.add("api.repo-status", {"relay.api.repo-status", "relay.account.state"},
        "getRepoStatus answers active and the rev of the last forwarded commit", [](Session& s) {
          Account* x = new_account(s, s.run().a);
          if (!x) return;
          emit_commit(*x);
          auto last = emit_commit(*x);
          if (!fence(s, s.run().a)) return;
          Http status = s.query("com.atproto.sync.getRepoStatus", {{"did", x->did()}});
          (void)(s.ok_answer(status, "getRepoStatus") &&
                 s.check(status.body.value("did", "") == x->did() &&
                             status.body.value("active", false) == true &&
                             status.body.value("rev", "") == last.rev,
                         "getRepoStatus does not match the last commit",
                         json({{"did", x->did()}, {"active", true}, {"rev", last.rev}})));
        });
  // [relay.api.latest-commit] [relay.account.state]
  b.add("api.latest-commit", {"relay.api.latest-commit", "relay.account.state"},
        "getLatestCommit answers the last verified commit (not a dropped one after it), and "
        "RepoNotFound for an account the relay never saw",
        [](Session& s) {
          Account* x = new_account(s, s.run().a);
          if (!x) return;
          auto good = emit_commit(*x);
          emit(s.run().a, x->repo.fork(crypto::PrivateKey::generate(crypto::Curve::kK256).value()));
          if (!fence(s, s.run().a)) return;
          Http latest = s.query("com.atproto.sync.getLatestCommit", {{"did", x->did()}});
          if (!s.ok_answer(latest, "getLatestCommit") ||
              !s.check(latest.body.value("cid", "") == good.commit.to_string() &&
                           latest.body.value("rev", "") == good.rev,
                       "getLatestCommit is not the last verified commit",
                       json({{"cid", good.commit.to_string()}, {"rev", good.rev}}))) {
            return;
          }
          Account* never = new_account(s, s.run().a);
          if (!never) return;
          Http unknown = s.query("com.atproto.sync.getLatestCommit", {{"did", never->did()}});
          s.check(unknown.status == 400 && unknown.error() == "RepoNotFound",
                  "getLatestCommit of an unknown account answered HTTP " +
                      std::to_string(unknown.status) + " " + unknown.error(),
                  "HTTP 400 RepoNotFound");
        });
  // [relay.api.list-repos]
  b.add("api.list-repos", {"relay.api.list-repos"},
        "listRepos pages to an account with its head, rev and active flag", [](Session& s) {
          Account* x = new_account(s, s.run().a);
          if (!x) return;
          auto last = emit_commit(*x);
          if (!fence(s, s.run().a)) return;
          std::string cursor;
          for (int page = 0; page < 100; ++page) {
            xrpc::QueryParams params = {{"limit", "1000"}};
            if (!cursor.empty()) params.push_back({"cursor", cursor});
            Http list = s.query("com.atproto.sync.listRepos", params);
            if (!s.ok_answer(list, "listRepos")) return;
            for (const auto& r : list.body.value("repos", json::array())) {
              if (r.value("did", "") != x->did()) continue;
              s.check(r.value("head", "") == last.commit.to_string() &&
                          r.value("rev", "") == last.rev && r.value("active", false) == true,
                      "listRepos does not show the last commit",
                      json({{"did", x->did()},
                            {"head", last.commit.to_string()},
                            {"rev", last.rev},
                            {"active", true}}));
              return;
            }
            cursor = list.body.value("cursor", "");
            if (cursor.empty()) break;
          }
          s.check(false, "listRepos does not list " + x->did());
        });
  // [relay.api.hosts] [relay.host.cursor]
  b.add("api.hosts", {"relay.api.hosts", "relay.host.cursor"},
        "listHosts and getHostStatus show the crawled host active, with its accounts and the "
        "last upstream seq processed",
        [](Session& s) {
          if (!fence(s, s.run().a)) return;
          Host& a = s.run().a;
          Http status = s.query("com.atproto.sync.getHostStatus", {{"hostname", a.hostname()}});
          if (!s.ok_answer(status, "getHostStatus") ||
              !s.check(status.body.value("hostname", "") == a.hostname() &&
                           status.body.value("status", "") == "active" &&
                           status.body.value("accountCount", 0) >= 1 &&
                           status.body.value("seq", std::int64_t{0}) >= a.last_upstream_seq,
                       "getHostStatus does not show the host active at its last seq",
                       json({{"hostname", a.hostname()},
                             {"status", "active"},
                             {"seq", a.last_upstream_seq}}))) {
            return;
          }
          std::set<std::string> wanted = {a.hostname(), s.run().b.hostname()};
          std::string cursor;
          for (int page = 0; page < 100 && !wanted.empty(); ++page) {
            xrpc::QueryParams params = {{"limit", "1000"}};
            if (!cursor.empty()) params.push_back({"cursor", cursor});
            Http list = s.query("com.atproto.sync.listHosts", params);
            if (!s.ok_answer(list, "listHosts")) return;
            for (const auto& h : list.body.value("hosts", json::array())) {
              wanted.erase(h.value("hostname", ""));
            }
            cursor = list.body.value("cursor", "");
            if (cursor.empty()) break;
          }
          s.check(wanted.empty(), "listHosts does not list the crawled hosts");
        });
  // [relay.api.request-crawl]
  b.add("api.request-crawl", {"relay.api.request-crawl"},
        "requestCrawl refuses a hostname that is not one", [](Session& s) {
          Http bad = s.request("POST", "/xrpc/com.atproto.sync.requestCrawl",
                               json({{"hostname", "not a host name!"}}).dump());
          s.check(
              bad.status >= 400 && bad.status < 500,
              "requestCrawl of \"not a host name!\" answered HTTP " + std::to_string(bad.status),
              "a 4xx status");
        });
}

}  // namespace

std::unique_ptr<Target> make_relay_target(const std::string& base_url, int timeout_ms,
                                          bool allow_private_addresses) {
  return std::make_unique<RelayTarget>(base_url, timeout_ms, allow_private_addresses);
}

std::vector<Case> build_relay_suite(const Catalog& catalog, const RelaySuiteOptions& options) {
  auto run = std::make_shared<RelayRun>();
  run->options = options;
  std::vector<Case> cases;
  Builder b{cases, catalog, run};
  add_forwarding_cases(b);
  add_resync_cases(b);
  add_account_cases(b);
  add_output_cases(b);
  add_api_cases(b);
  return cases;
}

}  // namespace atproto::conformance

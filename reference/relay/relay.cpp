// atproto-relay: host subscriptions, verification, re-sequencing, resync
// and the XRPC routes; see relay.hpp.
#include "atproto/relay/relay.hpp"
#include "atproto/common/files.hpp"

#include <arpa/inet.h>
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>

#include "atproto/car/car.hpp"
#include "atproto/identity/did_resolver.hpp"
#include "atproto/relay/fault.hpp"  // test-only hooks; no-ops in atproto-relay
#include "atproto/relay/firehose.hpp"
#include "atproto/repo/commit.hpp"
#include "atproto/repo/repository.hpp"
#include "atproto/sync/checklist.hpp"
#include "atproto/sync/events.hpp"
#include "atproto/syntax/datetime.hpp"
#include "atproto/syntax/did.hpp"
#include "atproto/xrpc/client.hpp"
#include "atproto/xrpc/http_server.hpp"
#include "atproto/xrpc/router.hpp"
#include "atproto/xrpc/websocket.hpp"

namespace atproto::relay {

namespace {

using Clock = std::chrono::steady_clock;

bool is_ip_literal(const std::string& host) {
  unsigned char buffer[16];
  return inet_pton(AF_INET, host.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

// The host part of "host[:port]".
std::string host_part(std::string_view hostname) {
  if (!hostname.empty() && hostname.front() == '[') {
    auto end = hostname.find(']');
    return std::string(hostname.substr(1, end == std::string_view::npos ? 0 : end - 1));
  }
  auto colon = hostname.rfind(':');
  return std::string(colon == std::string_view::npos ? hostname : hostname.substr(0, colon));
}

// [relay.host.private-addresses] Loopback, private and link-local hosts are
// contacted only when the relay was started to allow it, and then over
// plain http/ws (a local test setup has no certificates).
bool is_local_host(std::string_view hostname) {
  std::string host = host_part(hostname);
  if (host == "localhost") return true;
  return is_ip_literal(host) && !identity::is_public_address(host);
}

// "host[:port]" of an http(s) URL: the port only when not the scheme's default.
Result<std::string> hostname_of_url(std::string_view url) {
  auto parsed = identity::parse_url(url);
  if (!parsed) return parsed.error();
  const auto& u = parsed.value();
  std::string host = u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host;
  bool default_port =
      (u.scheme == "http" && u.port == 80) || (u.scheme == "https" && u.port == 443);
  if (!default_port) host += ":" + std::to_string(u.port);
  return host;
}

// A hostname as requestCrawl and --crawl take it: "host[:port]" or an
// http(s) URL, normalized to lowercase "host[:port]".
Result<std::string> normalize_hostname(std::string_view input) {
  if (input.find("://") != std::string_view::npos) return hostname_of_url(input);
  auto url = hostname_of_url("https://" + std::string(input));
  if (!url) return make_error("relay.host.hostname", "not a hostname: " + std::string(input));
  return url;
}

// One upstream subscription's state on its thread: the host, its cursor
// and the changes not yet committed (a group commit: flushed when the batch
// is full or the stream pauses, never later than a few milliseconds).
struct Upstream {
  std::string host;
  std::int64_t cursor = 0;
  bool cursor_dirty = false;
  std::vector<AccountStore::Append> pending;
  // The accounts in `pending`: the index of each one's latest change there
  // (its state is kept once, in the change the store writes).
  std::unordered_map<std::string, std::size_t> staged;
  bool broken = false;  // a frame that is not valid framing: the connection ends
  // [sync.check.desynchronized] The accounts whose resync this host's
  // thread scheduled, until it applies the outcome, with the events held
  // meanwhile (from the moment the fetch began), in the order they came.
  struct Held {
    std::deque<std::pair<sync::Event, Bytes>> events;  // the event and its frame
    std::size_t bytes = 0;
    bool overflowed = false;  // over the bound: dropped, another resync follows
  };
  std::unordered_map<std::string, Held> held;
};
constexpr std::size_t kBatchEvents = 256;
constexpr int kBatchPauseMs = 2;

struct Identity {
  std::string pds_host;  // "host[:port]" of the #atproto_pds endpoint
  crypto::PublicKey key;
  std::optional<std::string> handle;
};

// What a resync fetched, for the host thread that scheduled it to apply:
// the verified commit (did, host, rev, head, data) and the #sync that
// announces it, or why the fetch failed.
struct Resynced {
  std::string did;
  Result<AccountState> fetched = AccountState{};
  sync::SyncEvent event;
};

}  // namespace

struct Relay::State {
  RelayConfig config;
  std::unique_ptr<AccountStore> store;
  std::unique_ptr<Firehose> firehose;
  xrpc::Router router;
  std::unique_ptr<xrpc::HttpServer> server;
  identity::FetchPolicy fetch;
  identity::DidResolverOptions resolver;

  std::atomic<bool> stopping{false};
  std::mutex wait_mutex;  // for interruptible sleeps
  std::condition_variable wait_cv;

  // Appends and their publication happen in seq order.
  std::mutex sequence_mutex;

  std::mutex identity_mutex;
  // Identities are shared, not copied, with the threads that use them (one
  // look-up per event).
  using SharedIdentity = std::shared_ptr<const Identity>;
  struct CachedIdentity {
    Result<SharedIdentity> identity;
    Clock::time_point expires;
  };
  std::unordered_map<std::string, CachedIdentity> identities;

  std::mutex hosts_mutex;
  std::map<std::string, std::thread> host_threads;

  std::mutex resync_mutex;
  std::condition_variable resync_cv;
  std::deque<std::pair<std::string, std::string>> resync_queue;  // (did, host that asked)
  std::set<std::string> resync_pending;
  // [sync.check.desynchronized] Accounts whose fetch has begun ("in
  // progress"), until their host thread applies the outcome; outcomes wait
  // in `resynced` by host.
  std::set<std::string> resync_started;
  std::unordered_map<std::string, std::vector<Resynced>> resynced;
  std::atomic<int> resynced_waiting{0};
  std::thread resync_thread;

  mutable std::mutex stats_mutex;
  RelayStats stats;

  // ---- helpers ----

  void count(std::int64_t RelayStats::*field) {
    std::lock_guard lock(stats_mutex);
    ++(stats.*field);
  }
  void dropped(const Error& reason) {
    std::lock_guard lock(stats_mutex);
    ++stats.dropped;
    ++stats.drop_reasons[reason.code];
  }

  // Sleeps up to `ms`, waking early when the relay stops; false when stopping.
  bool pause(int ms) {
    std::unique_lock lock(wait_mutex);
    wait_cv.wait_for(lock, std::chrono::milliseconds(ms), [&] { return stopping.load(); });
    return !stopping;
  }

  std::string base_url(std::string_view hostname, bool websocket) const {
    bool plain = config.allow_private_addresses && is_local_host(hostname);
    std::string scheme =
        websocket ? (plain ? "ws://" : "wss://") : (plain ? "http://" : "https://");
    return scheme + std::string(hostname);
  }

  // The account's identity, resolved by the relay itself: its DID document
  // must name a signing key and a PDS ([sync.check.identity]). Cached for identity_ttl_seconds;
  // `fresh` resolves again.
  Result<SharedIdentity> identity_of(const std::string& did, bool fresh) {
    if (!fresh) {
      std::lock_guard lock(identity_mutex);
      auto it = identities.find(did);
      if (it != identities.end() && it->second.expires > Clock::now()) return it->second.identity;
    }
    Result<SharedIdentity> out = resolve(did);
    // A failure is kept for a short while only: an account created just
    // after a failed lookup must not wait a whole TTL.
    int ttl = out ? config.identity_ttl_seconds : std::min(config.identity_ttl_seconds, 30);
    std::lock_guard lock(identity_mutex);
    if (identities.size() > 100'000) identities.clear();  // bounded memory
    identities.insert_or_assign(did, CachedIdentity{out, Clock::now() + std::chrono::seconds(ttl)});
    return out;
  }

  Result<SharedIdentity> resolve(const std::string& did) {
    auto doc = identity::resolve_did(did, resolver);
    if (!doc) return doc.error();
    auto key = identity::atproto_signing_key(doc.value());
    if (!key) {
      return make_error("sync.check.identity",
                        did + " has no usable signing key: " + key.error().message);
    }
    auto endpoint = identity::atproto_pds_endpoint(doc.value());
    if (!endpoint) return make_error("sync.check.identity", did + " names no PDS");
    auto host = hostname_of_url(*endpoint);
    if (!host) return make_error("sync.check.identity", did + ": bad PDS endpoint");
    return std::make_shared<const Identity>(
        Identity{host.value(), key.value(), identity::claimed_handle(doc.value())});
  }

  // The account as the host thread sees it: staged changes first.
  Result<std::optional<AccountState>> account_of(Upstream& up, const std::string& did) {
    auto it = up.staged.find(did);
    if (it != up.staged.end()) return up.pending[it->second].account;
    return store->account(did);
  }

  // Queues the account's new state and the event to forward (with the
  // relay's seq, given when the batch is committed). `received`, when not
  // empty, is the frame the event was decoded from: its seq is replaced in
  // place instead of encoding the event again (sync::resequence_frame, which
  // declines frames that carry fields beyond the lexicon's).
  void stage(Upstream& up, AccountState&& next, std::optional<sync::Event> event,
             Bytes received = {}) {
    // Built in place at the end of the batch (an Append is large to move).
    AccountStore::Append& change = up.pending.emplace_back();
    change.time_ms = unix_time_ms();
    std::optional<sync::SeqSlot> slot;
    if (event && !received.empty() && !fault::rewrites_events()) slot = sync::seq_slot(*event);
    if (slot) {
      // Only the received frame is kept (the event is freed here, while
      // it is still in cache); its seq is spliced in at the slot the
      // decoder found, without decoding it again. The store calls encode
      // once per append, so the frame is moved out, not copied.
      change.encode = [frame = std::move(received), slot = *slot](std::int64_t seq) mutable {
        sync::resequence_in_place(frame, slot, seq);
        return std::move(frame);
      };
    } else if (event) {
      auto shared = std::make_shared<sync::Event>(std::move(*event));
      auto frame = std::make_shared<Bytes>(std::move(received));
      change.encode = [shared, frame](std::int64_t seq) {
        if (!frame->empty() && !fault::rewrites_events()) {
          if (auto out = sync::resequence_frame(*frame, *shared, seq)) return std::move(*out);
        }
        std::visit(
            [&](auto& e) {
              if constexpr (!std::is_same_v<std::decay_t<decltype(e)>, sync::InfoEvent>) {
                fault::sequence(e, seq);
              }
            },
            *shared);
        return sync::encode_event(*shared);
      };
    }
    up.staged.insert_or_assign(next.did, up.pending.size() - 1);
    change.account = std::move(next);
    if (up.pending.size() >= kBatchEvents) flush(up);
  }

  // [relay.output.seq] Commits the staged changes and the host's cursor in
  // one transaction, then hands the new frames to the fan-out.
  void flush(Upstream& up) {
    if (up.pending.empty() && !up.cursor_dirty) return;
    std::lock_guard lock(sequence_mutex);
    auto appended = store->append(up.pending, up.host, up.cursor);
    if (!appended) {
      std::cerr << "atproto-relay: storing events of " << up.host << ": "
                << appended.error().message << "\n";
      for (std::size_t i = 0; i < up.pending.size(); ++i) dropped(appended.error());
    } else {
      const auto count = static_cast<std::int64_t>(appended.value().size());
      firehose->published(std::move(appended).value());
      std::lock_guard stats_lock(stats_mutex);
      stats.forwarded += count;
    }
    up.pending.clear();
    up.staged.clear();
    up.cursor_dirty = false;
  }

  // False when the account's resync is queued already.
  bool enqueue_resync(const std::string& did, const std::string& host) {
    {
      std::lock_guard lock(resync_mutex);
      if (!resync_pending.insert(did).second) return false;
      resync_queue.emplace_back(did, host);
    }
    resync_cv.notify_all();
    return true;
  }

  // [sync.check.desynchronized] Queues the account's resync; the host
  // thread that queued it holds the account's events once the fetch has
  // begun and applies the outcome (apply_resyncs).
  void schedule_resync(Upstream& up, const std::string& did) {
    if (enqueue_resync(did, up.host)) up.held.try_emplace(did);
  }

  // [sync.check.desynchronized] An event of an account whose resync is in
  // progress is held, to be processed in order after the fetched state; past
  // the bound the held events are dropped and another resync is scheduled
  // when this one ends. nullopt: not held, process it now (an account that
  // is not being resynchronized, or whose fetch has not begun: the fetch
  // will cover what its PDS sent so far).
  template <typename E>
  std::optional<Status> hold(Upstream& up, const std::string& did, E& event, Bytes& received) {
    auto it = up.held.find(did);
    if (it == up.held.end()) return std::nullopt;
    {
      std::lock_guard lock(resync_mutex);
      if (!resync_started.count(did)) return std::nullopt;
    }
    if (fault::drop_during_resync()) {
      return make_error("sync.check.desynchronized", "fault: drop-during-resync");
    }
    auto& held = it->second;
    if (!held.overflowed && held.events.size() < config.resync_queue_events &&
        held.bytes + received.size() <= config.resync_queue_bytes) {
      held.bytes += received.size();
      held.events.emplace_back(sync::Event(std::move(event)), std::move(received));
      return Status{};
    }
    if (!held.overflowed) {
      Error over = make_error("sync.check.desynchronized",
                              did + ": more events than the resync queue holds");
      for (std::size_t i = 0; i < held.events.size(); ++i) dropped(over);
      held.events.clear();
      held.bytes = 0;
      held.overflowed = true;
    }
    return make_error("sync.check.desynchronized",
                      did + ": resync queue over its bound, another resync follows");
  }

  // The outcomes of the resyncs this host's thread scheduled.
  void apply_resyncs(Upstream& up) {
    if (resynced_waiting.load() == 0) return;
    std::vector<Resynced> ready;
    {
      std::lock_guard lock(resync_mutex);
      auto it = resynced.find(up.host);
      if (it == resynced.end()) return;
      ready.swap(it->second);
      resynced.erase(it);
      resynced_waiting -= static_cast<int>(ready.size());
      for (const auto& r : ready) resync_started.erase(r.did);
    }
    for (auto& r : ready) apply_resync(up, r);
  }

  // [relay.resync] [sync.check.desynchronized] The fetched commit becomes
  // the account's state, announced by a #sync; then the held events are
  // processed against it in order: those the fetch covered fail the rev
  // order and are dropped as old, later ones are verified and forwarded. A
  // failed fetch drops them: the account stays desynchronized and its next
  // event schedules another resync.
  void apply_resync(Upstream& up, Resynced& r) {
    auto it = up.held.find(r.did);
    Upstream::Held held;
    if (it != up.held.end()) {
      held = std::move(it->second);
      up.held.erase(it);
    }
    auto account = account_of(up, r.did);
    if (!r.fetched || !account) {
      Error why = !r.fetched ? r.fetched.error() : account.error();
      for (std::size_t i = 0; i < held.events.size(); ++i) dropped(why);
      return;
    }
    const AccountState& fetched = r.fetched.value();
    AccountState next = std::move(account).value().value_or(AccountState{});
    next.did = r.did;
    next.host = fetched.host;
    next.rev = fetched.rev;
    next.head = fetched.head;
    next.data = fetched.data;
    // Events dropped over the bound may be newer than the fetch.
    next.desynchronized = held.overflowed;
    stage(up, std::move(next), sync::Event(std::move(r.event)));
    if (held.overflowed) {
      flush(up);
      schedule_resync(up, r.did);
      return;
    }
    for (auto& [event, frame] : held.events) {
      if (Status status = on_event(up, event, frame); !status) dropped(status.error());
    }
  }

  // ---- upstream events ----

  // Whether the host may take one more account ([relay.host.limits]).
  Status check_host_room(Upstream& up, const std::optional<AccountState>& account) {
    const std::string& host = up.host;
    if (config.host_max_accounts <= 0 || (account && account->host == host)) return {};
    flush(up);  // a new account: count the staged ones too
    auto h = store->host(host);
    if (h && h.value() && h.value()->account_count < config.host_max_accounts) return {};
    return make_error("relay.host.limits", host + " has reached its account limit");
  }

  // The checklist's view of an account: the relay's stored state plus the
  // identity resolved for it.
  static sync::AccountState checklist_state(const std::string& did,
                                            const std::optional<AccountState>& account,
                                            const Result<SharedIdentity>& id, bool fresh) {
    sync::AccountState s;
    s.did = did;
    if (id) {
      s.host = id.value()->pds_host;
      s.signing_key = id.value()->key;
    }
    s.identity_fresh = fresh;
    if (account) {
      s.active = account->active;
      s.status = account->status;
      s.last_rev = account->rev.value_or("");
      s.last_data = account->data;
    }
    return s;
  }

  // [relay.verify.checklist] The one place the relay runs the sync layer's
  // checklist on a #commit or #sync: with the cached identity, resolved
  // again first when the event comes from another host than the cached one
  // (the account may just have moved), and once more when the checklist
  // asks for it after a signature failure.
  template <typename E, typename Check>
  sync::Verdict run_checklist(const E& event, const std::string& did, const std::string& host,
                              const std::optional<AccountState>& account, Check check) {
    sync::CheckContext context;
    context.host = host;
    context.now_micros = unix_time_ms() * 1000;
    context.clock_skew_micros = std::int64_t{config.rev_clock_skew_seconds} * 1'000'000;
    auto id = identity_of(did, false);
    bool fresh = false;
    if (id && id.value()->pds_host != host) {
      id = identity_of(did, true);
      fresh = true;
    }
    auto verdict =
        fault::verdict(event, check(event, checklist_state(did, account, id, fresh), context));
    if (verdict.action == sync::VerdictAction::kRefreshIdentity) {
      id = identity_of(did, true);
      verdict = check(event, checklist_state(did, account, id, true), context);
      if (verdict.action == sync::VerdictAction::kRefreshIdentity) {
        verdict.action = sync::VerdictAction::kDrop;
      }
    }
    return verdict;
  }

  static Error verdict_error(const sync::Verdict& verdict) {
    return make_error(verdict.rule.empty() ? "relay.verify.checklist" : verdict.rule,
                      verdict.message);
  }

  // What #commit and #sync share: the account's stored state, which must
  // not be waiting for a resync, and the host's account limit.
  Result<std::optional<AccountState>> repo_event_account(Upstream& up, const std::string& did) {
    auto account = account_of(up, did);
    if (!account) return account.error();
    if (account.value() && account.value()->desynchronized) {
      // [relay.resync] [sync.check.desynchronized] Out of sync and its fetch
      // not begun: dropped (the fetch covers it).
      schedule_resync(up, did);
      return make_error("sync.check.desynchronized", did + " is desynchronized");
    }
    if (auto s = check_host_room(up, account.value()); !s) return s.error();
    return account;
  }

  // [relay.resync] Marks the account out of sync and queues the fetch.
  Status desynchronize(Upstream& up, std::optional<AccountState> account, const std::string& did,
                       const sync::Verdict& verdict) {
    AccountState next = std::move(account).value_or(AccountState{});
    next.did = did;
    next.host = up.host;
    next.desynchronized = true;
    stage(up, std::move(next), std::nullopt);
    flush(up);  // stored before the fetch: after a restart its next event resyncs it
    schedule_resync(up, did);
    return verdict_error(verdict);
  }

  Status on_commit(Upstream& up, sync::CommitEvent event, Bytes& received) {
    const std::string& host = up.host;
    if (auto held = hold(up, event.repo, event, received)) return *held;
    auto account = repo_event_account(up, event.repo);
    if (!account) return account.error();
    auto verdict = run_checklist(event, event.repo, host, account.value(), sync::check_commit);
    if (verdict.action == sync::VerdictAction::kResync) {
      return desynchronize(up, account.value(), event.repo, verdict);
    }
    if (verdict.action != sync::VerdictAction::kAccept) return verdict_error(verdict);
    // The account's state is moved along, not copied (the hot path).
    AccountState next = std::move(account).value().value_or(AccountState{});
    next.did = event.repo;
    next.host = host;
    next.rev = std::move(verdict.next_rev);
    next.head = event.commit;
    if (verdict.next_data) next.data = verdict.next_data;
    stage(up, std::move(next), sync::Event(std::move(event)), std::move(received));
    return {};
  }

  Status on_sync(Upstream& up, sync::SyncEvent event, Bytes& received) {
    const std::string& host = up.host;
    if (auto held = hold(up, event.did, event, received)) return *held;
    auto account = repo_event_account(up, event.did);
    if (!account) return account.error();
    auto verdict = run_checklist(event, event.did, host, account.value(), sync::check_sync);
    if (verdict.action == sync::VerdictAction::kResync) {
      return desynchronize(up, account.value(), event.did, verdict);
    }
    if (verdict.action != sync::VerdictAction::kAccept) return verdict_error(verdict);
    auto carried = sync::read_carried_commit(event.blocks);  // accepted: it reads
    if (!carried) return carried.error();
    AccountState next = std::move(account).value().value_or(AccountState{});
    next.did = event.did;
    next.host = host;
    next.rev = verdict.next_rev;
    next.head = carried.value().cid;
    if (verdict.next_data) next.data = verdict.next_data;
    stage(up, std::move(next), sync::Event(std::move(event)), std::move(received));
    return {};
  }

  Status on_identity(Upstream& up, sync::IdentityEvent event) {
    const std::string& host = up.host;
    Bytes no_frame;
    if (auto held = hold(up, event.did, event, no_frame)) return *held;
    // The DID document may have changed: resolve it again, then only the
    // account's current PDS may speak for it ([sync.check.host]).
    auto id = identity_of(event.did, true);
    auto account = account_of(up, event.did);
    if (!account) return account.error();
    auto state = checklist_state(event.did, account.value(), id, true);
    auto verdict = fault::verdict(event, sync::check_identity_event(event, state));
    if (verdict.action != sync::VerdictAction::kAccept) return verdict_error(verdict);
    if (auto s = fault::status(sync::check_host(state, host)); !s) return s.error();
    if (auto s = check_host_room(up, account.value()); !s) return s.error();
    AccountState next = std::move(account).value().value_or(AccountState{});
    next.did = event.did;
    next.host = host;
    stage(up, std::move(next), sync::Event(std::move(event)));
    return {};
  }

  Status on_account(Upstream& up, sync::AccountEvent event) {
    const std::string& host = up.host;
    Bytes no_frame;
    if (auto held = hold(up, event.did, event, no_frame)) return *held;
    // Hosting status is hop-by-hop: only the account's current PDS says
    // whether it hosts the account ([sync.check.host]).
    auto id = identity_of(event.did, false);
    bool fresh = false;
    if (!id || id.value()->pds_host != host) {
      id = identity_of(event.did, true);
      fresh = true;
    }
    auto account = account_of(up, event.did);
    if (!account) return account.error();
    auto state = checklist_state(event.did, account.value(), id, fresh);
    if (auto s = fault::status(sync::check_host(state, host)); !s) return s.error();
    auto verdict = fault::verdict(event, sync::check_account_event(event, state));
    if (verdict.action != sync::VerdictAction::kAccept) return verdict_error(verdict);
    if (auto s = check_host_room(up, account.value()); !s) return s.error();
    AccountState next = std::move(account).value().value_or(AccountState{});
    next.did = event.did;
    next.host = host;
    if (verdict.next_active) next.active = *verdict.next_active;
    if (verdict.next_status) next.status = *verdict.next_status;
    stage(up, std::move(next), sync::Event(std::move(event)));
    return {};
  }

  // An event by its type (moved from); `bytes` is its frame.
  Status on_event(Upstream& up, sync::Event& event, Bytes& bytes) {
    return std::visit(
        [&](auto& e) -> Status {
          using T = std::decay_t<decltype(e)>;
          if constexpr (std::is_same_v<T, sync::CommitEvent>) {
            return on_commit(up, std::move(e), bytes);
          } else if constexpr (std::is_same_v<T, sync::SyncEvent>) {
            return on_sync(up, std::move(e), bytes);
          } else if constexpr (std::is_same_v<T, sync::IdentityEvent>) {
            return on_identity(up, std::move(e));
          } else if constexpr (std::is_same_v<T, sync::AccountEvent>) {
            return on_account(up, std::move(e));
          } else {
            return {};
          }
        },
        event);
  }

  // ---- host subscriptions ----

  void run_host(std::string host) {
    int failures = 0;
    xrpc::WebSocketClientOptions options;
    options.policy = fetch;
    options.max_message_bytes = sync::kMaxFrameBytes;
    std::int64_t window_start = 0;
    int window_count = 0;
    Upstream up;
    up.host = host;
    up.pending.reserve(kBatchEvents);  // a batch never moves its changes
    while (!stopping) {
      auto state = store->host(host);
      if (!state || !state.value()) return;
      if (state.value()->status == kHostBanned) return;
      up.cursor = state.value()->cursor;
      std::string url = base_url(host, true) + "/xrpc/com.atproto.sync.subscribeRepos";
      if (up.cursor > 0) url += "?cursor=" + std::to_string(up.cursor);
      auto client = xrpc::WebSocketClient::connect(url, options);
      if (client) {
        (void)store->set_host_status(host, kHostActive);
        while (!stopping) {
          apply_resyncs(up);
          bool waiting = !up.pending.empty() || up.cursor_dirty;
          auto message = client.value()->read(waiting ? kBatchPauseMs : 250);
          if (!message) {
            if (message.error().code != "xrpc.ws.timeout") break;
            flush(up);  // the stream paused: commit what is staged
            continue;
          }
          if (!message.value()) break;  // closed by the PDS
          count(&RelayStats::received);
          if (config.host_events_per_second > 0 && !within_rate(up, window_start, window_count)) {
            break;
          }
          handle_frame(up, *message.value());
          // [sync.frame.encoding] [sync.stream.close-after-error] Reconnect
          // after the backoff.
          if (up.broken) break;
          failures = 0;
        }
        up.broken = false;
        flush(up);
        client.value()->close();
      }
      if (stopping) break;
      // [relay.host.reconnect] Exponential backoff between attempts.
      ++failures;
      if (failures > 1) (void)store->set_host_status(host, kHostOffline);
      long delay = config.reconnect_min_ms;
      for (int i = 1; i < failures && delay < config.reconnect_max_ms; ++i) delay *= 2;
      delay = std::min<long>(delay, config.reconnect_max_ms);
      if (!pause(static_cast<int>(delay))) break;
    }
  }

  // [relay.host.limits] [sync.check.rate-limits] At most host_events_per_second events of one host
  // per one-second window: over it, this host's reading (only it) waits for
  // the next window. False when the relay stops meanwhile.
  bool within_rate(Upstream& up, std::int64_t& window_start, int& window_count) {
    const std::string& host = up.host;
    std::int64_t now = unix_time_ms();
    if (now - window_start >= 1000) {
      window_start = now;
      window_count = 0;
    }
    if (++window_count <= config.host_events_per_second) return true;
    flush(up);  // nothing waits in the batch while the host is held back
    (void)store->set_host_status(host, kHostThrottled);
    if (!pause(static_cast<int>(window_start + 1000 - now))) return false;
    (void)store->set_host_status(host, kHostActive);
    window_start = unix_time_ms();
    window_count = 1;
    return true;
  }

  // `bytes` may be moved from (into the staged event's output frame).
  // [sync.relay.per-account-order] One thread per host reads its stream and
  // handles each event before the next; an account's events all come from
  // its one host, so they are processed in their order.
  void handle_frame(Upstream& up, Bytes& bytes) {
    if (auto s = sync::check_frame_size(bytes.size()); !s) {
      dropped(s.error());
      return;
    }
    auto message = sync::decode_message(bytes);
    if (!message) {
      dropped(message.error());
      // [sync.frame.encoding] Bad framing or DRISL-CBOR encoding ends the
      // connection (an event that is well framed but misses fields is only
      // skipped): the host is asked again for the events after the cursor.
      const std::string& code = message.error().code;
      up.broken = (code.rfind("data.", 0) == 0 || code.rfind("sync.frame.", 0) == 0) &&
                  !fault::skips_bad_frames();
      return;
    }
    auto* event = std::get_if<sync::Event>(&message.value());
    if (auto* error = std::get_if<sync::ErrorFrame>(&message.value())) {
      // [sync.stream.close-after-error] An error frame ends the stream: the
      // relay closes the connection at once (whatever follows it is not
      // read) and reconnects after the backoff, asking for the events after
      // its cursor.
      std::cerr << "atproto-relay: " << up.host << " sent the error " << error->error
                << (error->message ? ": " + *error->message : std::string()) << "\n";
      up.broken = !fault::keeps_reading_after_error();
      return;
    }
    if (!event) {  // unknown types are skipped
      up.broken = fault::unknown_types_end_connection();
      return;
    }
    std::int64_t seq = sync::event_seq(*event);
    if (std::holds_alternative<sync::InfoEvent>(*event)) return;
    // [relay.host.cursor] Events at or before the cursor were processed.
    if (seq <= up.cursor) return;
    Status status = on_event(up, *event, bytes);
    // [relay.host.cursor] [sync.relay.cursor-persist] Committed with the
    // next flush, forwarded or not: a restart resumes after it.
    up.cursor = seq;
    up.cursor_dirty = true;
    if (!status) dropped(status.error());
  }

  // What requestCrawl and --crawl do.
  Status crawl(std::string_view input) {
    auto host = normalize_hostname(input);
    if (!host) return host.error();
    if (is_local_host(host.value()) && !config.allow_private_addresses) {
      return make_error("relay.host.private-addresses",
                        host.value() +
                            " is a loopback or private address; the relay was not "
                            "started with --allow-private-addresses");
    }
    auto existing = store->host(host.value());
    if (!existing) return existing.error();
    if (existing.value() && existing.value()->status == kHostBanned) {
      return make_error("relay.host.banned", host.value() + " is banned here");
    }
    auto added = store->add_host(host.value());
    if (!added) return added.error();
    subscribe_host(host.value());
    return {};
  }

  void subscribe_host(const std::string& host) {
    std::lock_guard lock(hosts_mutex);
    if (stopping || host_threads.count(host)) return;
    host_threads.emplace(host, std::thread([this, host] {
                           pthread_setname_np(pthread_self(),
                                              "relay-host");  // per-thread CPU figures name it
                           run_host(host);
                         }));
  }

  // ---- resync ----

  // [relay.resync] [sync.check.resync-upstream] The whole repository from
  // the account's PDS (the relay's direct upstream), verified, to become the
  // account's state (apply_resync); a #sync event tells consumers.
  Result<AccountState> resync(const std::string& did, sync::SyncEvent& event) {
    if (fault::skip_resync()) return make_error("relay.resync", "fault: no-resync");
    auto id = identity_of(did, true);
    if (!id) return id.error();
    identity::FetchPolicy policy = fetch;
    policy.max_response_bytes = config.max_repo_bytes;
    policy.timeout_ms = 60000;
    xrpc::XrpcClient client(base_url(id.value()->pds_host, false), policy);
    auto response = client.query("com.atproto.sync.getRepo", {{"did", did}});
    if (!response) return response.error();
    if (!response.value().ok()) {
      return make_error("relay.resync",
                        "getRepo answered " + std::to_string(response.value().status));
    }
    const std::string& body = response.value().body;
    auto verified = repo::verify_repo_car(
        std::span(reinterpret_cast<const std::uint8_t*>(body.data()), body.size()), did,
        id.value()->key);
    if (!verified) return verified.error();
    const auto& commit = verified.value().commit;
    AccountState fetched;
    fetched.did = did;
    fetched.host = id.value()->pds_host;
    fetched.rev = commit.rev;
    fetched.head = verified.value().commit_cid;
    fetched.data = commit.data;
    car::CarFile slice;
    slice.roots = {verified.value().commit_cid};
    slice.blocks = {{verified.value().commit_cid, repo::encode_commit(commit)}};
    event.did = did;
    event.rev = commit.rev;
    event.blocks = car::write_car(slice);
    event.time = syntax::now_datetime();
    count(&RelayStats::resyncs);
    return fetched;
  }

  void run_resync() {
    auto last_prune = Clock::now() - std::chrono::hours(1);
    while (!stopping) {
      std::string did, host;
      {
        std::unique_lock lock(resync_mutex);
        resync_cv.wait_for(lock, std::chrono::seconds(1),
                           [&] { return stopping.load() || !resync_queue.empty(); });
        if (stopping) return;
        if (!resync_queue.empty()) {
          std::tie(did, host) = resync_queue.front();
          resync_queue.pop_front();
          // [sync.check.desynchronized] In progress from before the fetch
          // is sent: the host thread holds the account's events from now on.
          resync_started.insert(did);
        }
      }
      if (!did.empty()) {
        Resynced out{did, AccountState{}, {}};
        out.fetched = resync(did, out.event);
        if (!out.fetched) {
          std::cerr << "atproto-relay: resync of " << did << ": " << out.fetched.error().message
                    << "\n";
        }
        std::lock_guard lock(resync_mutex);
        resync_pending.erase(did);
        resynced[host].push_back(std::move(out));
        ++resynced_waiting;
      }
      if (Clock::now() - last_prune > std::chrono::minutes(1)) {
        // [relay.output.retention]
        (void)store->prune_events(unix_time_ms() -
                                  std::int64_t{config.event_retention_hours} * 3600 * 1000);
        last_prune = Clock::now();
      }
    }
  }

  // ---- routes ----

  void add_routes();
};

namespace {

std::optional<std::int64_t> int_param(const xrpc::HttpRequest& request, std::string_view name) {
  auto text = request.query_param(name);
  if (!text || text->empty() || text->size() > 18) return std::nullopt;
  if (text->find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  return std::stoll(*text);
}

xrpc::HttpResponse bad_request(std::string_view message) {
  return xrpc::xrpc_error(400, "InvalidRequest", message);
}

int limit_param(const xrpc::HttpRequest& request, int fallback) {
  auto limit = int_param(request, "limit");
  if (!limit) return fallback;
  return static_cast<int>(std::clamp<std::int64_t>(*limit, 1, 1000));
}

nlohmann::json host_json(const HostState& h) {
  return {{"hostname", h.hostname},
          {"seq", h.cursor},
          {"accountCount", h.account_count},
          {"status", h.status}};
}

}  // namespace

void Relay::State::add_routes() {
  using xrpc::ParamSpec;
  using Kind = ParamSpec::Kind;
  // [relay.api.list-repos] Accounts with a verified commit, in DID order.
  (void)router.query(
      "com.atproto.sync.listRepos", {{"limit", Kind::integer}, {"cursor", Kind::string}},
      [this](const xrpc::HttpRequest& request) {
        int limit = limit_param(request, 500);
        std::string after = request.query_param("cursor").value_or("");
        auto rows = store->list_accounts(after, limit);
        if (!rows) return xrpc::xrpc_error(500, "InternalServerError", rows.error().message);
        nlohmann::json repos = nlohmann::json::array();
        for (const auto& a : rows.value()) {
          if (!a.head || !a.rev) continue;
          nlohmann::json r = {{"did", a.did}, {"head", a.head->to_string()}, {"rev", *a.rev}};
          r["active"] = a.active && !a.desynchronized;
          if (!a.active && a.status) r["status"] = *a.status;
          if (a.active && a.desynchronized) r["status"] = "desynchronized";
          repos.push_back(std::move(r));
        }
        nlohmann::json out = {{"repos", repos}};
        if (static_cast<int>(rows.value().size()) == limit) out["cursor"] = rows.value().back().did;
        return xrpc::HttpResponse::json(200, out);
      });

  // [relay.api.repo-status]
  (void)router.query(
      "com.atproto.sync.getRepoStatus", {{"did", Kind::string, true}},
      [this](const xrpc::HttpRequest& request) {
        std::string did = request.query_param("did").value_or("");
        if (!syntax::validate_did(did)) return bad_request("did is not a DID");
        auto account = store->account(did);
        if (!account) return xrpc::xrpc_error(500, "InternalServerError", account.error().message);
        if (!account.value()) return xrpc::xrpc_error(400, "RepoNotFound", "unknown repository");
        const auto& a = *account.value();
        nlohmann::json out = {{"did", a.did}, {"active", a.active && !a.desynchronized}};
        if (!a.active && a.status) out["status"] = *a.status;
        if (a.active && a.desynchronized) out["status"] = "desynchronized";
        if (a.active && a.rev) out["rev"] = *a.rev;
        return xrpc::HttpResponse::json(200, out);
      });

  // [relay.api.latest-commit]
  (void)router.query(
      "com.atproto.sync.getLatestCommit", {{"did", Kind::string, true}},
      [this](const xrpc::HttpRequest& request) {
        std::string did = request.query_param("did").value_or("");
        if (!syntax::validate_did(did)) return bad_request("did is not a DID");
        auto account = store->account(did);
        if (!account) return xrpc::xrpc_error(500, "InternalServerError", account.error().message);
        if (!account.value() || !account.value()->head) {
          return xrpc::xrpc_error(400, "RepoNotFound", "no commit known for this repository");
        }
        const auto& a = *account.value();
        if (!a.active) {
          std::string status = a.status.value_or("");
          if (status == "takendown") return xrpc::xrpc_error(400, "RepoTakendown", "taken down");
          if (status == "suspended") return xrpc::xrpc_error(400, "RepoSuspended", "suspended");
          return xrpc::xrpc_error(400, "RepoDeactivated", "not active");
        }
        return xrpc::HttpResponse::json(200, {{"cid", a.head->to_string()}, {"rev", *a.rev}});
      });

  // [relay.api.hosts] Hosts in order of first sight.
  (void)router.query("com.atproto.sync.listHosts",
                     {{"limit", Kind::integer}, {"cursor", Kind::string}},
                     [this](const xrpc::HttpRequest& request) {
                       int limit = limit_param(request, 200);
                       std::int64_t after = 0;
                       if (auto c = request.query_param("cursor"); c && !c->empty()) {
                         auto parsed = int_param(request, "cursor");
                         if (!parsed) return bad_request("bad cursor");
                         after = *parsed;
                       }
                       auto rows = store->list_hosts(after, limit);
                       if (!rows)
                         return xrpc::xrpc_error(500, "InternalServerError", rows.error().message);
                       nlohmann::json hosts = nlohmann::json::array();
                       for (const auto& h : rows.value()) hosts.push_back(host_json(h));
                       nlohmann::json out = {{"hosts", hosts}};
                       if (static_cast<int>(rows.value().size()) == limit) {
                         out["cursor"] = std::to_string(rows.value().back().id);
                       }
                       return xrpc::HttpResponse::json(200, out);
                     });

  (void)router.query("com.atproto.sync.getHostStatus", {{"hostname", Kind::string, true}},
                     [this](const xrpc::HttpRequest& request) {
                       auto name = normalize_hostname(request.query_param("hostname").value_or(""));
                       if (!name) return bad_request(name.error().message);
                       auto h = store->host(name.value());
                       if (!h)
                         return xrpc::xrpc_error(500, "InternalServerError", h.error().message);
                       if (!h.value()) return xrpc::xrpc_error(400, "HostNotFound", "unknown host");
                       return xrpc::HttpResponse::json(200, host_json(*h.value()));
                     });

  // [relay.api.request-crawl]
  (void)router.procedure(
      "com.atproto.sync.requestCrawl", {}, [this](const xrpc::HttpRequest& request) {
        auto body = nlohmann::json::parse(request.body, nullptr, false);
        if (!body.is_object() || !body.contains("hostname") || !body["hostname"].is_string()) {
          return bad_request("the body must be {\"hostname\": string}");
        }
        auto s = crawl(body["hostname"].get<std::string>());
        if (!s) {
          if (s.error().code == "relay.host.banned") {
            return xrpc::xrpc_error(400, "HostBanned", s.error().message);
          }
          return bad_request(s.error().message);
        }
        return xrpc::HttpResponse::json(200, nlohmann::json::object());
      });

  // [relay.output.seq] The re-sequenced output.
  (void)router.subscription(
      "com.atproto.sync.subscribeRepos", {{"cursor", Kind::integer}},
      [this](const xrpc::HttpRequest& request) {
        std::optional<std::int64_t> cursor;
        if (request.query_param("cursor")) {
          cursor = int_param(request, "cursor");
          if (!cursor) return bad_request("cursor must be a non-negative integer");
        }
        xrpc::HttpResponse response;
        response.upgrade = [this, cursor](std::shared_ptr<xrpc::WebSocketConnection> c) {
          firehose->subscribe(std::move(c), cursor);
        };
        return response;
      });
}

Relay::Relay() : state_(std::make_unique<State>()) {}

Relay::~Relay() { stop(); }

Result<std::unique_ptr<Relay>> Relay::open(RelayConfig config) {
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) return make_error("storage.io", "cannot create " + config.data_dir + ": " + ec.message());
  auto store =
      open_sqlite_account_store((std::filesystem::path(config.data_dir) / "relay.sqlite").string());
  if (!store) return store.error();
  std::unique_ptr<Relay> relay(new Relay());
  auto& s = *relay->state_;
  s.config = std::move(config);
  s.store = std::move(store).value();
  s.fetch.allow_private_addresses = s.config.allow_private_addresses;
  s.resolver.fetch = s.fetch;
  s.resolver.plc_directory = s.config.plc_url;
  FirehoseOptions firehose;
  firehose.consumer_queue_bytes = s.config.consumer_queue_bytes;
  firehose.slow_consumer_ms = s.config.slow_consumer_ms;
  s.firehose = std::make_unique<Firehose>(*s.store, firehose);
  s.add_routes();
  return relay;
}

Result<std::uint16_t> Relay::start() {
  auto& s = *state_;
  xrpc::ServerOptions options;
  options.host = s.config.host;
  options.port = s.config.port;
  options.threads = s.config.threads;
  // The fan-out paces itself below consumer_queue_bytes; the server's own
  // cap is a backstop above it.
  options.max_queued_bytes = s.config.consumer_queue_bytes * 2 + (1 << 20);
  s.server = std::make_unique<xrpc::HttpServer>(options, fault::handler(s.router.handler()));
  auto port = s.server->start();
  if (!port) return port.error();
  s.firehose->start();
  s.resync_thread = std::thread([&s] {
    pthread_setname_np(pthread_self(), "relay-resync");
    s.run_resync();
  });
  std::int64_t after = 0;
  while (true) {
    auto hosts = s.store->list_hosts(after, 500);
    if (!hosts) return hosts.error();
    for (const auto& h : hosts.value()) {
      if (h.status != kHostBanned) s.subscribe_host(h.hostname);
      after = h.id;
    }
    if (hosts.value().size() < 500) break;
  }
  for (const auto& c : s.config.crawl) {
    if (auto r = s.crawl(c); !r) return r.error();
  }
  return port;
}

void Relay::stop() {
  auto& s = *state_;
  if (s.stopping.exchange(true)) return;
  s.wait_cv.notify_all();
  s.resync_cv.notify_all();
  std::map<std::string, std::thread> threads;
  {
    std::lock_guard lock(s.hosts_mutex);
    threads.swap(s.host_threads);
  }
  for (auto& [host, thread] : threads) thread.join();
  if (s.resync_thread.joinable()) s.resync_thread.join();
  s.firehose->stop();
  if (s.server) s.server->stop();
}

Status Relay::request_crawl(std::string_view hostname_or_url) {
  return state_->crawl(hostname_or_url);
}

AccountStore& Relay::store() { return *state_->store; }

RelayStats Relay::stats() const {
  std::lock_guard lock(state_->stats_mutex);
  RelayStats out = state_->stats;
  out.consumers = state_->firehose->consumer_count();
  return out;
}

}  // namespace atproto::relay

// TESTING ONLY: one fault at a time for atproto-relay-with-fault, the
// test-only build of the relay (never installed) that shows each case of the
// conformance runner's relay suite able to fail (conformance/relay_suite_test.py).
//
// relay.cpp calls these hooks at the few places a rule or behaviour is
// decided. In the production build (ATPROTO_RELAY_FAULTS undefined) each
// hook returns its input unchanged and compiles away: atproto-relay has no
// way to switch verification off. In the fault build the environment
// variable ATPROTO_RELAY_FAULT names the one fault (kRelayFaults below);
// an unknown name stops the relay at start.
#pragma once

#include <string_view>
#include <utility>

#include "atproto/common/result.hpp"
#include "atproto/sync/checklist.hpp"
#include "atproto/xrpc/http_server.hpp"
#include "atproto/xrpc/router.hpp"

#ifdef ATPROTO_RELAY_FAULTS
#include <cstdlib>
#include <iostream>
#include <string>
#endif

namespace atproto::relay::fault {

#ifdef ATPROTO_RELAY_FAULTS

struct FaultInfo {
  const char* name;
  const char* effect;
};
// A checklist rule's id disables that rule: an event it refuses (drop,
// resync or identity refresh) is accepted as it is; #identity and #account
// events, which the rule of their type forwards, are dropped instead.
inline constexpr FaultInfo kRelayFaults[] = {
    {"sync.check.signature", "commits whose signature fails are accepted"},
    {"sync.check.fields-match", "events whose fields differ from their commit are accepted"},
    {"sync.check.structure", "events whose blocks are no valid CAR with a commit are accepted"},
    {"sync.check.rev-order", "commits whose rev is not newer are accepted"},
    {"sync.check.rev-future", "commits whose rev is in the future are accepted"},
    {"sync.check.inversion", "commits whose ops do not invert to prevData are accepted"},
    {"sync.check.since", "a commit whose since is not the last rev is accepted (no resync)"},
    {"sync.check.prev-data", "a commit whose prevData is not the last data is accepted"},
    {"sync.check.sync-reset", "a #sync naming another tree is accepted without a fetch"},
    {"sync.check.identity", "events of DIDs without a working identity are accepted"},
    {"sync.check.host", "events from a host that is not the account's PDS are accepted"},
    {"sync.check.active", "commits of inactive accounts are accepted"},
    {"sync.limits.commit-ops", "commits of more than 200 ops are accepted"},
    {"sync.check.identity-event", "#identity events are dropped"},
    {"sync.check.account-event", "#account events are dropped"},
    {"no-identity-refresh", "a signature failing with the cached key is final (no re-resolve)"},
    {"no-resync", "an out-of-sync account is never fetched again"},
    {"drop-during-resync", "events that arrive while a resync is in progress are dropped"},
    {"skip-bad-frames", "a frame that is not valid DRISL-CBOR is skipped, the connection kept"},
    {"unknown-types-hard", "a frame of an unknown op or t ends the connection"},
    {"keep-after-error", "an error frame from a host is skipped, the connection kept"},
    {"upstream-seq", "forwarded events keep the upstream host's seq"},
    {"drop-ops", "forwarded #commit events lose their ops"},
    {"ignore-cursor", "subscribeRepos ignores the cursor (always live)"},
    {"latest-commit-not-found", "getLatestCommit answers RepoNotFound"},
    {"repo-status-active", "getRepoStatus answers active, without status"},
    {"repo-status-no-rev", "getRepoStatus leaves out the rev"},
    {"list-repos-empty", "listRepos answers no repository"},
    {"hosts-unknown", "listHosts lists nothing and getHostStatus answers HostNotFound"},
    {"request-crawl-accepts", "requestCrawl accepts any hostname"},
};

inline const std::string& active() {
  static const std::string name = [] {
    const char* v = std::getenv("ATPROTO_RELAY_FAULT");
    std::string n = v ? v : "";
    bool known = n.empty();
    for (const auto& f : kRelayFaults) known = known || n == f.name;
    if (!known) {
      std::cerr << "atproto-relay-with-fault: unknown ATPROTO_RELAY_FAULT " << n << "; one of:\n";
      for (const auto& f : kRelayFaults) std::cerr << "  " << f.name << "  " << f.effect << "\n";
      std::exit(2);
    }
    if (!n.empty()) std::cerr << "atproto-relay-with-fault: fault " << n << "\n";
    return n;
  }();
  return name;
}

inline bool is(std::string_view name) { return active() == name; }

// Whether the disabled rule is the one that decided (the structure rule's
// failures may carry the lower layer's code: car.*, repo.*, data.*).
inline bool rule_disabled(std::string_view rule) {
  if (active().empty() || rule.empty()) return false;
  if (is("sync.check.structure") && rule.rfind("sync.", 0) != 0) return true;
  return active() == rule;
}

template <typename E>
sync::Verdict verdict(const E& event, sync::Verdict v) {
  if (v.action == sync::VerdictAction::kRefreshIdentity && is("no-identity-refresh")) {
    v.action = sync::VerdictAction::kDrop;
    return v;
  }
  if (!rule_disabled(v.rule)) return v;
  if (v.action == sync::VerdictAction::kAccept) {
    v.action = sync::VerdictAction::kDrop;
    return v;
  }
  v.action = sync::VerdictAction::kAccept;
  if constexpr (requires { event.blocks; }) {
    v.next_rev = event.rev;
    if (auto carried = sync::read_carried_commit(event.blocks)) v.next_data = carried->commit.data;
  }
  return v;
}

inline Status status(Status s) {
  if (!s && rule_disabled(s.error().code)) return {};
  return s;
}

inline bool skip_resync() { return is("no-resync"); }
inline bool drop_during_resync() { return is("drop-during-resync"); }
inline bool skips_bad_frames() { return is("skip-bad-frames"); }
inline bool unknown_types_end_connection() { return is("unknown-types-hard"); }
inline bool keeps_reading_after_error() { return is("keep-after-error"); }

// Faults that change a forwarded event: its frame must be encoded again
// rather than re-sequenced in place.
inline bool rewrites_events() { return is("drop-ops") || is("upstream-seq"); }

// Gives an event about to be forwarded its relay seq.
template <typename E>
void sequence(E& event, std::int64_t relay_seq) {
  if (!is("upstream-seq") || event.seq <= 0) event.seq = relay_seq;
  if constexpr (requires { event.ops; }) {
    if (is("drop-ops")) event.ops.clear();
  }
}

// The XRPC faults, around the router's handler.
inline xrpc::Handler handler(xrpc::Handler inner) {
  (void)active();  // an unknown fault stops the relay now, not at first use
  return [inner = std::move(inner)](const xrpc::HttpRequest& request) {
    const std::string nsid =
        request.path.rfind("/xrpc/", 0) == 0 ? request.path.substr(6) : std::string();
    if (nsid == "com.atproto.sync.subscribeRepos" && is("ignore-cursor")) {
      xrpc::HttpRequest live = request;
      std::erase_if(live.query, [](const auto& p) { return p.first == "cursor"; });
      return inner(live);
    }
    if (nsid == "com.atproto.sync.getLatestCommit" && is("latest-commit-not-found")) {
      return xrpc::xrpc_error(400, "RepoNotFound", "fault: latest-commit-not-found");
    }
    if (nsid == "com.atproto.sync.listRepos" && is("list-repos-empty")) {
      return xrpc::HttpResponse::json(200, {{"repos", nlohmann::json::array()}});
    }
    if (nsid == "com.atproto.sync.listHosts" && is("hosts-unknown")) {
      return xrpc::HttpResponse::json(200, {{"hosts", nlohmann::json::array()}});
    }
    if (nsid == "com.atproto.sync.getHostStatus" && is("hosts-unknown")) {
      return xrpc::xrpc_error(400, "HostNotFound", "fault: hosts-unknown");
    }
    xrpc::HttpResponse out = inner(request);
    if (nsid == "com.atproto.sync.getRepoStatus" && is("repo-status-active") && out.status == 200) {
      auto body = nlohmann::json::parse(out.body, nullptr, false);
      body["active"] = true;
      body.erase("status");
      return xrpc::HttpResponse::json(200, body);
    }
    if (nsid == "com.atproto.sync.getRepoStatus" && is("repo-status-no-rev") && out.status == 200) {
      auto body = nlohmann::json::parse(out.body, nullptr, false);
      body.erase("rev");
      return xrpc::HttpResponse::json(200, body);
    }
    if (nsid == "com.atproto.sync.requestCrawl" && is("request-crawl-accepts")) {
      return xrpc::HttpResponse::json(200, nlohmann::json::object());
    }
    return out;
  };
}

#else  // the production build: every hook is the identity

template <typename E>
sync::Verdict verdict(const E&, sync::Verdict v) {
  return v;
}
inline Status status(Status s) { return s; }
inline constexpr bool skip_resync() { return false; }
inline constexpr bool drop_during_resync() { return false; }
inline constexpr bool skips_bad_frames() { return false; }
inline constexpr bool unknown_types_end_connection() { return false; }
inline constexpr bool keeps_reading_after_error() { return false; }
inline constexpr bool rewrites_events() { return false; }
template <typename E>
void sequence(E& event, std::int64_t relay_seq) {
  event.seq = relay_seq;
}
inline xrpc::Handler handler(xrpc::Handler inner) { return inner; }

#endif

}  // namespace atproto::relay::fault

// atproto-relay: subscribes to the firehose of every PDS host it knows
// (com.atproto.sync.subscribeRepos), verifies each event with the sync
// spec's checklist, and re-sequences what passes into one output firehose
// of its own, durable and resumable by cursor. Plus the sync queries a relay
// answers (listRepos, getRepoStatus, getLatestCommit, listHosts,
// getHostStatus) and requestCrawl.
// https://atproto.com/specs/sync#firehose
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "atproto/common/result.hpp"
#include "atproto/relay/account_store.hpp"

namespace atproto::relay {

struct RelayConfig {
  std::string host = "127.0.0.1";  // listen address
  std::uint16_t port = 2470;
  std::string data_dir;  // relay.sqlite and the event log's events/
  // Hosts to subscribe to at start: URLs ("http://127.0.0.1:2583") or
  // hostnames ("pds.example.com", reached over https/wss).
  std::vector<std::string> crawl;
  // The did:plc directory identities are resolved at.
  std::string plc_url = "https://plc.directory";
  // Upstream hosts, DID documents and repositories may be on loopback and
  // private addresses (reached over plain http/ws): tests and local setups
  // only. [relay.host.private-addresses]
  bool allow_private_addresses = false;
  int threads = 4;  // HTTP worker threads
  // [relay.consumer.slow] A consumer whose send queue stays above
  // consumer_queue_bytes for longer than slow_consumer_ms is dropped.
  std::size_t consumer_queue_bytes = 8 << 20;
  int slow_consumer_ms = 10000;
  // [relay.host.reconnect] Reconnect backoff: doubles from the first value
  // up to the second after each failed attempt.
  int reconnect_min_ms = 1000;
  int reconnect_max_ms = 60000;
  // [relay.host.limits] Per-host limits: events per second read from one
  // host (0: none) and accounts one host may hold here (0: none).
  int host_events_per_second = 0;
  int host_max_accounts = 0;
  // [relay.output.retention] Output events older than this are pruned.
  int event_retention_hours = 72;
  // Clock drift allowed for a commit's rev (the checklist's rev-future rule).
  int rev_clock_skew_seconds = 300;
  // How long a resolved identity is trusted before resolving again.
  int identity_ttl_seconds = 3600;
  // Largest repository a resync fetches with getRepo.
  std::size_t max_repo_bytes = 100'000'000;
  // [sync.check.desynchronized] Events of one account held while its
  // resync runs, at most this many and this many frame bytes; past either
  // bound the held events are dropped and another resync follows the
  // running one.
  std::size_t resync_queue_events = 1000;
  std::size_t resync_queue_bytes = 16 << 20;
};

struct RelayStats {
  std::int64_t received = 0;   // upstream messages read
  std::int64_t forwarded = 0;  // events appended to the output log
  std::int64_t dropped = 0;    // events rejected by verification or policy
  std::int64_t resyncs = 0;    // repositories fetched again with getRepo
  std::size_t consumers = 0;   // output subscribers connected now
  // Dropped events by reason (the rule's error code).
  std::map<std::string, std::int64_t> drop_reasons;
};

class Relay {
 public:
  // Opens (creating if needed) <data_dir>/relay.sqlite and <data_dir>/events/.
  static Result<std::unique_ptr<Relay>> open(RelayConfig config);
  ~Relay();  // stop()
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  // Listens on config.host:config.port, then subscribes to the stored hosts
  // and the --crawl ones. Returns the bound port.
  Result<std::uint16_t> start();
  void stop();

  // What requestCrawl does: adds the host (a hostname, optionally with a
  // port, or an http(s) URL) and subscribes to it.
  Status request_crawl(std::string_view hostname_or_url);

  AccountStore& store();
  RelayStats stats() const;

 private:
  Relay();
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace atproto::relay

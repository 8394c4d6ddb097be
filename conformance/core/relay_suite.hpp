// The "relay" service suite: the runner plays two PDS hosts on loopback
// (atproto/sync/fake_host.hpp: genuine signed commits of fresh accounts),
// registers each account's identity (a did:plc whose #atproto_pds names
// the fake host) at the PLC directory the relay resolves DIDs at, asks the
// relay under test to crawl the hosts (com.atproto.sync.requestCrawl), and
// then emits, per case, a valid or an invalid event sequence mirroring the
// sync vectors (vectors/sync/firehose.json, one rule each), and frames that
// are not DRISL-CBOR or of an unknown type. It checks what the relay
// forwards on its own subscribeRepos, what it drops, which accounts it marks
// out of sync and fetches again with getRepo (holding back the answer to
// send more commits meanwhile), and what it serves: replay by cursor, its
// own monotonic seqs, listRepos, getRepoStatus, getLatestCommit, listHosts
// and getHostStatus.
//
// "Not forwarded" is observed, never slept on: after the events under test
// the case emits a "fence", a valid commit of an account kept for that on
// the same host; a relay handles one host's events in order, so once the
// fence is forwarded the dropped event will not be.
//
// It writes DIDs to the PLC directory: point --plc at a test directory
// (the suite refuses to run without --plc). The relay must reach the fake
// hosts on 127.0.0.1 (for our relay: --allow-private-addresses).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "model.hpp"

namespace atproto::conformance {

// One HTTP exchange with the relay (as kPdsHttp of pds_suite.hpp).
inline constexpr const char* kRelayHttp = "relay/http";
// A window of the relay's firehose (as kPdsSubscribe of pds_suite.hpp).
inline constexpr const char* kRelaySubscribe = "relay/subscribe";

struct RelaySuiteOptions {
  // The PLC directory the relay resolves did:plc at; the suite creates its
  // accounts' DIDs there.
  std::string plc_url;
  bool allow_private_addresses = false;
  // Longest wait for one awaited event or answer.
  int timeout_ms = 10000;
};

// A relay at base_url ("http://127.0.0.1:2470"). Loopback and private
// addresses are refused unless allow_private_addresses.
std::unique_ptr<Target> make_relay_target(const std::string& base_url, int timeout_ms,
                                          bool allow_private_addresses);

// The cases share the run's fake hosts (started by the first case that
// runs), so they run in the order given.
std::vector<Case> build_relay_suite(const Catalog& catalog, const RelaySuiteOptions& options);

}  // namespace atproto::conformance

// atproto-relay: a relay (https://atproto.com/specs/sync#firehose).
//   atproto-relay --port P --data DIR [--crawl URL ...]
// Every setting is one row of the option table below; the flags, the
// environment variables (ATPROTO_RELAY_<FLAG>) and --help all come from it.
// SIGTERM or SIGINT stop it cleanly.
#include <iostream>
#include <string>
#include <vector>

#include "atproto/common/command_line.hpp"
#include "atproto/relay/relay.hpp"

namespace {

using namespace atproto;
using C = relay::RelayConfig;
namespace cl = command_line;

const cl::Program kProgram = {
    "atproto-relay", "0.1.0", "--port P --data DIR [--crawl URL ...] [options]",
    "A relay: subscribes to the firehose of each PDS it crawls, verifies every\n"
    "event (https://atproto.com/specs/sync#message-validation-checklist) and\n"
    "serves them re-sequenced on com.atproto.sync.subscribeRepos, with\n"
    "listRepos, getRepoStatus, getLatestCommit, listHosts, getHostStatus and\n"
    "requestCrawl. Listens on 127.0.0.1; /xrpc/_health answers when ready.\n",
    "ATPROTO_RELAY_"};

std::vector<cl::Option<C>> options() {
  auto port = cl::integer<C, std::uint16_t>(
      "port", "P", "port to listen on (0: any free port, printed on start)", &C::port, 0, 65535);
  port.required = true;
  auto data = cl::text<C>(
      "data", "DIR", "folder of relay.sqlite and events/ (created when missing)", &C::data_dir);
  data.required = true;
  return {
      port,
      data,
      cl::each<C>("crawl", "URL", "subscribe to this PDS (URL or hostname); repeatable", &C::crawl),
      cl::text<C>("host", "ADDR", "address to listen on", &C::host),
      cl::text<C>("plc", "URL", "did:plc directory", &C::plc_url),
      cl::enable<C>("allow-private-addresses",
                    "hosts, DID documents and repositories may be on loopback or private\n"
                    "addresses, reached over plain http/ws (tests and local setups only)",
                    &C::allow_private_addresses),
      cl::integer<C, int>("threads", "N", "HTTP worker threads", &C::threads, 1, 64),
      cl::integer<C, std::size_t>("consumer-queue-bytes", "N",
                                  "bytes queued for one output consumer before it counts as behind",
                                  &C::consumer_queue_bytes, 1024, std::size_t{1} << 32),
      cl::integer<C, int>("slow-consumer-ms", "MS",
                          "a consumer behind for this long is sent ConsumerTooSlow and dropped",
                          &C::slow_consumer_ms, 1, 3'600'000),
      cl::integer<C, int>("reconnect-min-ms", "MS", "first reconnect delay to a host",
                          &C::reconnect_min_ms, 1, 3'600'000),
      cl::integer<C, int>("reconnect-max-ms", "MS",
                          "longest reconnect delay, the backoff doubles up to it",
                          &C::reconnect_max_ms, 1, 3'600'000),
      cl::integer<C, int>("host-events-per-second", "N",
                          "events read per second from one host (0: no limit)",
                          &C::host_events_per_second, 0, 1'000'000'000),
      cl::integer<C, int>("host-max-accounts", "N", "accounts one host may hold (0: no limit)",
                          &C::host_max_accounts, 0, 1'000'000'000),
      cl::integer<C, int>("event-retention-hours", "H", "output events kept for replay",
                          &C::event_retention_hours, 1, 24 * 365),
      cl::integer<C, int>("rev-clock-skew-seconds", "S",
                          "how far in the future a commit's rev may be", &C::rev_clock_skew_seconds,
                          0, 86400),
      cl::integer<C, int>("identity-ttl-seconds", "S", "how long a resolved identity is cached",
                          &C::identity_ttl_seconds, 0, 86400 * 30),
      cl::integer<C, std::size_t>("resync-queue-events", "N",
                                  "events of one account held while its resync runs",
                                  &C::resync_queue_events, 1, 1'000'000),
      cl::integer<C, std::size_t>("resync-queue-bytes", "N",
                                  "frame bytes of one account held while its resync runs",
                                  &C::resync_queue_bytes, 1024, std::size_t{1} << 32),
  };
}

}  // namespace

int main(int argc, char** argv) {
  C config;
  if (auto exit_status = cl::parse(kProgram, options(), argc, argv, config)) return *exit_status;

  cl::StopSignals stop_signals;
  auto opened = relay::Relay::open(config);
  if (!opened) {
    std::cerr << "atproto-relay: " << opened.error().code << ": " << opened.error().message << "\n";
    return 1;
  }
  auto& relay = *opened.value();
  auto port = relay.start();
  if (!port) {
    std::cerr << "atproto-relay: cannot start: " << port.error().message << "\n";
    return 1;
  }
  std::cout << "listening on http://" << config.host << ":" << port.value() << std::endl;
  int signal = stop_signals.wait();
  std::cerr << "atproto-relay: stopping (signal " << signal << ")\n";
  relay.stop();
  // What the run did, for operators and for relay_test.py's check that no
  // upstream event was dropped: the counters, then the drops by rule.
  auto stats = relay.stats();
  std::cerr << "atproto-relay: stats received=" << stats.received
            << " forwarded=" << stats.forwarded << " dropped=" << stats.dropped
            << " resyncs=" << stats.resyncs;
  for (const auto& [code, n] : stats.drop_reasons) std::cerr << " " << code << "=" << n;
  std::cerr << "\n";
  return 0;
}

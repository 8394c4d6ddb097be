// atproto-relay: a relay (https://atproto.com/specs/sync#firehose).
//   atproto-relay --port P --data DIR [--crawl URL ...]
// Every setting is one row of the flag table below; --help and the
// environment variables (ATPROTO_RELAY_<FLAG>) are generated from it.
// SIGTERM or SIGINT stop it cleanly.
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "atproto/relay/relay.hpp"

namespace {

using namespace atproto;

constexpr const char* kVersion = "0.1.0";

struct Flag {
  const char* name;   // without the leading "--"
  const char* value;  // the value's name in --help; nullptr for a switch
  const char* help;
  // Applies the value ("" for a switch); false when it is not acceptable.
  std::function<bool(relay::RelayConfig&, const std::string&)> apply;
};

bool parse_int(const std::string& s, long min, long max, long& out) {
  if (s.empty() || s.size() > 12 || s.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  out = std::stol(s);
  return out >= min && out <= max;
}

template <typename T>
std::function<bool(relay::RelayConfig&, const std::string&)> integer(T relay::RelayConfig::*field,
                                                                     long min, long max) {
  return [=](relay::RelayConfig& c, const std::string& v) {
    long n = 0;
    if (!parse_int(v, min, max, n)) return false;
    c.*field = static_cast<T>(n);
    return true;
  };
}

std::function<bool(relay::RelayConfig&, const std::string&)> text(
    std::string relay::RelayConfig::*field) {
  return [=](relay::RelayConfig& c, const std::string& v) {
    if (v.empty()) return false;
    c.*field = v;
    return true;
  };
}

const std::vector<Flag>& flags() {
  using C = relay::RelayConfig;
  static const std::vector<Flag> table = {
      {"port", "P", "port to listen on (required; 0: any free port, printed on start)",
       integer(&C::port, 0, 65535)},
      {"data", "DIR", "folder of relay.sqlite (required; created when missing)",
       text(&C::data_dir)},
      {"crawl", "URL", "subscribe to this PDS (URL or hostname); repeatable",
       [](C& c, const std::string& v) {
         if (v.empty()) return false;
         c.crawl.push_back(v);
         return true;
       }},
      {"host", "ADDR", "address to listen on (default 127.0.0.1)", text(&C::host)},
      {"plc", "URL", "did:plc directory (default https://plc.directory)", text(&C::plc_url)},
      {"allow-private-addresses", nullptr,
       "hosts, DID documents and repositories may be on loopback or private\n"
       "addresses, reached over plain http/ws (tests and local setups only)",
       [](C& c, const std::string&) {
         c.allow_private_addresses = true;
         return true;
       }},
      {"threads", "N", "HTTP worker threads (default 4)", integer(&C::threads, 1, 64)},
      {"consumer-queue-bytes", "N",
       "bytes queued for one output consumer before it counts as behind (default 8 MiB)",
       integer(&C::consumer_queue_bytes, 1024, 1L << 32)},
      {"slow-consumer-ms", "MS",
       "a consumer behind for this long is sent ConsumerTooSlow and dropped (default 10000)",
       integer(&C::slow_consumer_ms, 1, 3'600'000)},
      {"reconnect-min-ms", "MS", "first reconnect delay to a host (default 1000)",
       integer(&C::reconnect_min_ms, 1, 3'600'000)},
      {"reconnect-max-ms", "MS",
       "longest reconnect delay, the backoff doubles up to it (default 60000)",
       integer(&C::reconnect_max_ms, 1, 3'600'000)},
      {"host-events-per-second", "N", "events read per second from one host (default 0: no limit)",
       integer(&C::host_events_per_second, 0, 1'000'000'000)},
      {"host-max-accounts", "N", "accounts one host may hold (default 0: no limit)",
       integer(&C::host_max_accounts, 0, 1'000'000'000)},
      {"event-retention-hours", "H", "output events kept for replay (default 72)",
       integer(&C::event_retention_hours, 1, 24 * 365)},
      {"rev-clock-skew-seconds", "S", "how far in the future a commit's rev may be (default 300)",
       integer(&C::rev_clock_skew_seconds, 0, 86400)},
      {"identity-ttl-seconds", "S", "how long a resolved identity is cached (default 3600)",
       integer(&C::identity_ttl_seconds, 0, 86400 * 30)},
  };
  return table;
}

std::string env_name(const Flag& f) {
  std::string out = "ATPROTO_RELAY_";
  for (const char* p = f.name; *p; ++p) {
    out += *p == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(*p)));
  }
  return out;
}

std::string usage() {
  std::string out =
      "usage: atproto-relay --port P --data DIR [--crawl URL ...] [options]\n"
      "\n"
      "A relay: subscribes to the firehose of each PDS it crawls, verifies every\n"
      "event (https://atproto.com/specs/sync#message-validation-checklist) and\n"
      "serves them re-sequenced on com.atproto.sync.subscribeRepos, with\n"
      "listRepos, getRepoStatus, getLatestCommit, listHosts, getHostStatus and\n"
      "requestCrawl. Listens on 127.0.0.1; /xrpc/_health answers when ready.\n"
      "\n";
  for (const auto& f : flags()) {
    std::string head = std::string("  --") + f.name + (f.value ? std::string(" ") + f.value : "");
    head.resize(std::max<std::size_t>(head.size() + 2, 32), ' ');
    std::string help = f.help;
    std::string indent(32, ' ');
    for (std::size_t pos = 0; (pos = help.find('\n', pos)) != std::string::npos; pos += 1) {
      help.insert(pos + 1, indent);
    }
    out += head + help + "\n" + indent + "(env " + env_name(f) + ")\n";
  }
  out +=
      "  --version                     print the version and exit\n"
      "  -h, --help                    this text\n";
  return out;
}

int fail_usage(const std::string& message) {
  std::cerr << "atproto-relay: " << message << "\n\n" << usage();
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  relay::RelayConfig config;
  config.port = 0;
  bool have_port = false;
  // Environment first, so that flags override it.
  for (const auto& f : flags()) {
    const char* v = std::getenv(env_name(f).c_str());
    if (!v) continue;
    if (!f.apply(config, f.value ? v : "")) return fail_usage("bad value in " + env_name(f));
    if (std::string(f.name) == "port") have_port = true;
  }
  std::vector<std::string> args(argv + 1, argv + argc);
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      std::cout << usage();
      return 0;
    }
    if (a == "--version") {
      std::cout << "atproto-relay " << kVersion << "\n";
      return 0;
    }
    const Flag* flag = nullptr;
    for (const auto& f : flags()) {
      if (a == std::string("--") + f.name) flag = &f;
    }
    if (!flag) return fail_usage("unknown argument " + a);
    std::string value;
    if (flag->value) {
      if (i + 1 >= args.size()) return fail_usage(a + " needs " + flag->value);
      value = args[++i];
    }
    if (!flag->apply(config, value)) return fail_usage("bad value for " + a + ": " + value);
    if (std::string(flag->name) == "port") have_port = true;
  }
  if (!have_port) return fail_usage("--port is required");
  if (config.data_dir.empty()) return fail_usage("--data is required");

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

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
  int signal = 0;
  sigwait(&stop_signals, &signal);
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

// bench-relay DIR: verified #commit events per second through the relay
// (a fake PDS streaming genuine signed commits of many accounts, the relay
// verifying and re-sequencing them into DIR/relay.sqlite, one consumer
// reading its output), beside the machine's raw K-256 verify rate on one
// core. The target: at least half the raw verify rate, with memory
// flat over the run (resident size noted after a quarter and at the end).
#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <thread>

#include <sys/resource.h>
#include <time.h>

#include "bench.hpp"

#include "atproto/relay/relay.hpp"
#include "atproto/relay/test_support.hpp"

namespace {

using namespace atproto;
using namespace atproto::relay;
using namespace atproto::relay::testing;

// CPU seconds used so far: by the whole process, or by the calling thread.
double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}
double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

double rss_mb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0;
}

// A PDS that streams a fixed list of frames to its subscriber, never more
// than a few MB ahead of it (so the sender's queue does not count as the
// relay's memory).
class StreamingPds {
 public:
  explicit StreamingPds(std::vector<std::vector<std::uint8_t>> frames)
      : frames_(std::move(frames)) {
    (void)router_.subscription(
        "com.atproto.sync.subscribeRepos", {{"cursor", xrpc::ParamSpec::Kind::integer}},
        [this](const xrpc::HttpRequest&) {
          xrpc::HttpResponse response;
          response.upgrade = [this](std::shared_ptr<xrpc::WebSocketConnection> c) {
            sender_ = std::thread([this, c] {
              for (const auto& f : frames_) {
                while (c->is_open() && c->queued_bytes() > (4 << 20)) {
                  std::this_thread::sleep_for(std::chrono::microseconds(200));
                }
                if (!c->send_binary(f)) return;
              }
            });
          };
          return response;
        });
    server_ = std::make_unique<xrpc::HttpServer>(xrpc::ServerOptions{}, router_.handler());
    port_ = server_->start().value();
  }
  ~StreamingPds() {
    server_->stop();
    if (sender_.joinable()) sender_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  std::vector<std::vector<std::uint8_t>> frames_;
  xrpc::Router router_;
  std::unique_ptr<xrpc::HttpServer> server_;
  std::uint16_t port_ = 0;
  std::thread sender_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: bench-relay DIR\n";
    return 2;
  }
  // Raw verify: one K-256 signature over a 32-byte digest, one core.
  auto key = crypto::PrivateKey::generate(crypto::Curve::kK256).value();
  std::array<std::uint8_t, 32> digest{};
  digest[0] = 1;
  auto signature = key.sign_digest(digest);
  auto public_key = key.public_key();
  double raw_rate = 0;
  double raw_cpu_rate = 0;  // per CPU-second: what one core does, whatever the machine's load
  {
    using clock = std::chrono::steady_clock;
    std::uint64_t ops = 0;
    auto start = clock::now();
    double cpu_start = thread_cpu_seconds();
    double elapsed = 0;
    while (elapsed < bench::min_seconds()) {
      for (int i = 0; i < 256; ++i) bench::keep(public_key.verify_digest(digest, signature).ok());
      ops += 256;
      elapsed = std::chrono::duration<double>(clock::now() - start).count();
    }
    raw_rate = static_cast<double>(ops) / elapsed;
    raw_cpu_rate = static_cast<double>(ops) / (thread_cpu_seconds() - cpu_start);
    nlohmann::json raw{{"id", "relay.k256-verify-raw"},
                       {"what", "raw K-256 signature verify, one core"},
                       {"ops", ops},
                       {"seconds", elapsed},
                       {"bytes", 0},
                       {"check", ""},
                       {"target_ratio", 0}};
    std::cout << raw.dump() << std::endl;
  }

  // The events: commits of 100 accounts, round robin, one record each;
  // about 4 s of the raw verify rate per second of --seconds.
  const int accounts = 100;
  const auto events =
      static_cast<int>(std::clamp(raw_rate * bench::min_seconds() * 2, 2000.0, 400000.0));
  FakePlc plc;
  std::vector<std::unique_ptr<TestAccount>> people;
  std::vector<std::vector<std::uint8_t>> frames;
  frames.reserve(static_cast<std::size_t>(events));
  for (int i = 0; i < accounts; ++i) people.push_back(std::make_unique<TestAccount>(test_did(i)));
  for (int i = 0; i < events; ++i) {
    auto e = people[static_cast<std::size_t>(i % accounts)]->commit();
    e.seq = i + 1;
    frames.push_back(sync::encode_event(e));
  }
  StreamingPds pds(std::move(frames));
  for (const auto& p : people) plc.put(p->did, p->key.public_key(), pds.url());

  RelayConfig config;
  config.data_dir = argv[1];
  config.port = 0;
  config.plc_url = plc.url();
  config.allow_private_addresses = true;
  config.crawl = {pds.url()};
  auto relay = Relay::open(config).value();
  auto port = relay->start().value();
  auto reader = Reader::connect(port, 0);
  if (!reader) {
    std::cerr << "bench-relay: cannot connect to the relay\n";
    return 1;
  }
  auto start = std::chrono::steady_clock::now();
  double cpu_start = process_cpu_seconds();
  double rss_quarter = 0;
  int seen = 0;
  while (seen < events) {
    // Counted, not decoded: the consumer's own work stays small.
    auto message = reader->client->read(30000);
    if (!message || !message.value()) break;
    ++seen;
    if (seen == events / 4) rss_quarter = rss_mb();
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double cpu_seconds = process_cpu_seconds() - cpu_start;
  double rss_end = rss_mb();
  auto stats = relay->stats();
  relay->stop();
  if (seen != events) {
    std::cerr << "bench-relay: " << seen << " of " << events << " events came through ("
              << stats.dropped << " dropped)\n";
    return 1;
  }
  double rate = seen / seconds;
  // Per CPU-second of the whole process (the relay's threads, the fake
  // PDS's sender and the consumer): the relay's cost per event on one core.
  double cpu_rate = seen / cpu_seconds;
  nlohmann::json line{{"id", "relay.commit.verified"},
                      {"what", "#commit events verified and re-sequenced through the relay"},
                      {"ops", seen},
                      {"seconds", seconds},
                      {"bytes", 0},
                      {"check", std::to_string(seen) + " forwarded"},
                      {"target_ratio", 0},
                      {"of_raw_verify_wall", std::round(rate / raw_rate * 100) / 100},
                      {"events_per_cpu_second", std::round(cpu_rate)},
                      {"raw_verifies_per_cpu_second", std::round(raw_cpu_rate)},
                      {"of_raw_verify_per_core", std::round(cpu_rate / raw_cpu_rate * 100) / 100},
                      {"target_of_raw_verify", 0.5},
                      {"rss_mb_quarter", std::round(rss_quarter)},
                      {"rss_mb_end", std::round(rss_end)}};
  std::cout << line.dump() << std::endl;
  return 0;
}

// bench-relay DIR: verified #commit events per second through the relay
// (a fake PDS in a child process streaming genuine signed commits of 1-3
// records of many accounts, the relay verifying and re-sequencing them into
// its event log in DIR/events (accounts in DIR/relay.sqlite), one consumer
// reading and checking its output), beside
// the machine's raw K-256 verify rate on one core. The target: at
// least half the raw verify rate per core, with memory flat over the run
// (resident size sampled every 5% of the events).
// ATPROTO_BENCH_RELAY_EVENTS=N sets the number of events (the one-million-
// event memory run); otherwise it grows with ATPROTO_BENCH_SECONDS.
#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include <pthread.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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

// Each thread's CPU time so far, by thread id: its name (comm), the
// nanoseconds it ran (schedstat) and its user and system ticks (stat). The
// relay names its threads (relay-host, relay-fanout, relay-resync, http-io),
// so the run's CPU can be split by what each thread does.
struct ThreadCpu {
  std::string name;
  double run_ns = 0;
  double user_ticks = 0;
  double system_ticks = 0;
};
std::map<std::string, ThreadCpu> threads_cpu() {
  std::map<std::string, ThreadCpu> out;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task", error)) {
    ThreadCpu t;
    std::ifstream comm(entry.path() / "comm");
    std::getline(comm, t.name);
    std::ifstream schedstat(entry.path() / "schedstat");
    schedstat >> t.run_ns;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    std::getline(stat, line);
    // Fields after the ")" that ends the name: state is field 3, utime 14, stime 15.
    auto close = line.rfind(')');
    if (close != std::string::npos) {
      std::istringstream fields(line.substr(close + 2));
      std::string field;
      for (int i = 3; i <= 15 && fields >> field; ++i) {
        if (i == 14) t.user_ticks = std::atof(field.c_str());
        if (i == 15) t.system_ticks = std::atof(field.c_str());
      }
    }
    out[entry.path().filename().string()] = t;
  }
  return out;
}

// Microseconds of CPU per event by thread name between two snapshots, with
// the share of system time: {"name": [us per event, system share, threads]}.
nlohmann::json threads_per_event(const std::map<std::string, ThreadCpu>& before,
                                 const std::map<std::string, ThreadCpu>& after,
                                 std::int64_t events) {
  struct Sum {
    double ns = 0, user = 0, system = 0;
    int threads = 0;
  };
  std::map<std::string, Sum> sums;
  for (const auto& [tid, t] : after) {
    auto it = before.find(tid);
    Sum& sum = sums[t.name];
    sum.ns += t.run_ns - (it == before.end() ? 0 : it->second.run_ns);
    sum.user += t.user_ticks - (it == before.end() ? 0 : it->second.user_ticks);
    sum.system += t.system_ticks - (it == before.end() ? 0 : it->second.system_ticks);
    ++sum.threads;
  }
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, sum] : sums) {
    double ticks = sum.user + sum.system;
    out[name] = {std::round(sum.ns / 1000.0 / static_cast<double>(events) * 10) / 10,
                 ticks > 0 ? std::round(sum.system / ticks * 100) / 100 : 0.0, sum.threads};
  }
  return out;
}

// Names a thread of this process (one the bench did not start).
void name_thread(const std::string& tid, const std::string& name) {
  std::ofstream comm("/proc/self/task/" + tid + "/comm");
  comm << name;
}

double rss_mb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0;
}

// The fake PDS runs in a child process (this program again, with --pds), so
// that neither its commit signing nor its sending counts as the relay's
// CPU time or memory. Accounts are numbered: event i belongs to slot
// i % kSlots, and each slot moves on to a new account after
// 1,000 commits (so a long run sees many accounts while the
// generator's in-memory repositories stay small). Account n's key is derived
// from n, so both processes know it. ATPROTO_BENCH_RELAY_COMMITS_PER_ACCOUNT
// changes the 1,000 (the child inherits the environment): with it at least
// the events / 100, a run keeps the same 100 accounts from start to end, so
// its memory series shows what the events cost apart from new accounts.
constexpr int kSlots = 100;

std::int64_t commits_per_account() {
  static const std::int64_t n = [] {
    const char* env = std::getenv("ATPROTO_BENCH_RELAY_COMMITS_PER_ACCOUNT");
    const std::int64_t value = env ? std::atoll(env) : 0;
    return value > 0 ? value : std::int64_t{1000};
  }();
  return n;
}

crypto::PrivateKey account_key(int n) {
  std::string seed = "bench-relay account " + std::to_string(n);
  auto digest =
      data::sha256(std::span(reinterpret_cast<const std::uint8_t*>(seed.data()), seed.size()));
  return crypto::PrivateKey::from_bytes(crypto::Curve::kK256, digest).value();
}

int account_of_event(std::int64_t i) {
  auto round = i / kSlots;
  return static_cast<int>((round / commits_per_account()) * kSlots + i % kSlots);
}

// Realistic commits of 1 to 3 created records (the "1-3 operations").
int ops_of_event(std::int64_t i) { return 1 + static_cast<int>((i % kSlots + i / kSlots) % 3); }

// The child: generates the events in order into a bounded queue and
// streams them to its one subscriber, never more than a few MB ahead of
// it. Writes its port to `ready_fd` once `lookahead` frames are queued
// (or all of them), so the timed part starts with frames waiting.
int run_pds(std::int64_t events, std::size_t lookahead, int ready_fd) {
  std::mutex mutex;
  std::condition_variable changed;
  std::deque<std::vector<std::uint8_t>> queue;
  bool done = false;
  std::thread generator([&] {
    std::map<int, std::unique_ptr<TestAccount>> live;
    for (std::int64_t i = 0; i < events; ++i) {
      int n = account_of_event(i);
      auto& account = live[n];
      if (!account) {
        live.erase(n - kSlots);  // that slot's previous account is finished
        account = std::make_unique<TestAccount>(test_did(n));
        account->key = account_key(n);
      }
      auto e = account->commit(ops_of_event(i));
      e.seq = i + 1;
      auto frame = sync::encode_event(e);
      std::unique_lock lock(mutex);
      changed.wait(lock, [&] { return queue.size() < lookahead; });
      queue.push_back(std::move(frame));
      changed.notify_all();
    }
    std::lock_guard lock(mutex);
    done = true;
    changed.notify_all();
  });
  {
    std::unique_lock lock(mutex);
    changed.wait(lock, [&] { return done || queue.size() >= lookahead; });
  }
  // Frames handed out are kept a while, so that a relay reconnecting with
  // its cursor (it commits the cursor with each batch) gets the ones after
  // it again. Frame i has seq i + 1; `popped` frames left the queue so far.
  std::deque<std::vector<std::uint8_t>> sent;
  const std::size_t kKeepSent = 20000;
  std::int64_t popped = 0;
  std::uint64_t subscriber = 0;  // the current one; an older sender stops
  std::vector<std::thread> senders;
  xrpc::Router router;
  (void)router.subscription(
      "com.atproto.sync.subscribeRepos", {{"cursor", xrpc::ParamSpec::Kind::integer}},
      [&](const xrpc::HttpRequest& request) {
        std::int64_t cursor = 0;
        if (auto c = request.query_param("cursor")) cursor = std::atoll(c->c_str());
        xrpc::HttpResponse response;
        response.upgrade = [&, cursor](std::shared_ptr<xrpc::WebSocketConnection> c) {
          std::lock_guard subscribing(mutex);
          const std::uint64_t me = ++subscriber;
          changed.notify_all();
          senders.emplace_back([&, c, cursor, me] {
            std::int64_t position = cursor;  // the last seq this subscriber has
            while (true) {
              std::vector<std::uint8_t> frame;
              {
                std::unique_lock lock(mutex);
                changed.wait(lock, [&] {
                  return subscriber != me || done || !queue.empty() || position < popped;
                });
                if (subscriber != me) return;
                const std::int64_t oldest = popped - static_cast<std::int64_t>(sent.size()) + 1;
                if (position + 1 < oldest) position = oldest - 1;  // older ones are gone
                if (position < popped) {
                  frame = sent[static_cast<std::size_t>(position + 1 - oldest)];
                } else if (!queue.empty()) {
                  sent.push_back(std::move(queue.front()));
                  queue.pop_front();
                  ++popped;
                  if (sent.size() > kKeepSent) sent.pop_front();
                  frame = sent.back();
                  changed.notify_all();
                } else {
                  return;  // all sent
                }
              }
              while (c->is_open() && c->queued_bytes() > (4 << 20)) {
                std::this_thread::sleep_for(std::chrono::microseconds(200));
              }
              if (!c->send_binary(frame)) return;
              ++position;
            }
          });
        };
        return response;
      });
  xrpc::HttpServer server(xrpc::ServerOptions{}, router.handler());
  std::uint16_t port = server.start().value();
  if (write(ready_fd, &port, sizeof port) != sizeof port) _exit(1);
  // Runs until the parent ends it (SIGTERM) or goes away.
  while (getppid() != 1) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  _exit(0);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 5 && std::string(argv[1]) == "--pds") {
    return run_pds(std::atoll(argv[2]), static_cast<std::size_t>(std::atoll(argv[3])),
                   std::atoi(argv[4]));
  }
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
  // The raw rate moves by up to a quarter between runs on a shared machine,
  // so it is measured before and again after the relay's run, and the
  // ratios use the faster of the two: the conservative figure.
  struct RawRate {
    double wall = 0;
    double cpu = 0;  // per CPU-second: what one core does, whatever the machine's load
  };
  auto measure_raw = [&](std::uint64_t& ops, double& elapsed) {
    using clock = std::chrono::steady_clock;
    ops = 0;
    elapsed = 0;
    auto start = clock::now();
    double cpu_start = thread_cpu_seconds();
    while (elapsed < bench::min_seconds()) {
      for (int i = 0; i < 256; ++i) bench::keep(public_key.verify_digest(digest, signature).ok());
      ops += 256;
      elapsed = std::chrono::duration<double>(clock::now() - start).count();
    }
    return RawRate{static_cast<double>(ops) / elapsed,
                   static_cast<double>(ops) / (thread_cpu_seconds() - cpu_start)};
  };
  RawRate raw_before;
  {
    std::uint64_t ops = 0;
    double elapsed = 0;
    raw_before = measure_raw(ops, elapsed);
    nlohmann::json raw{{"id", "relay.k256-verify-raw"},
                       {"what", "raw K-256 signature verify, one core"},
                       {"ops", ops},
                       {"seconds", elapsed},
                       {"bytes", 0},
                       {"check", ""},
                       {"target_ratio", 0}};
    std::cout << raw.dump() << std::endl;
  }
  const double raw_rate = raw_before.wall;

  // The events: about 2 s of the raw verify rate per second of --seconds,
  // or ATPROTO_BENCH_RELAY_EVENTS of them (the one-million-event memory run).
  std::int64_t events =
      static_cast<std::int64_t>(std::clamp(raw_rate * bench::min_seconds() * 2, 2000.0, 400000.0));
  if (const char* env = std::getenv("ATPROTO_BENCH_RELAY_EVENTS")) events = std::atoll(env);
  if (events < 1) {
    std::cerr << "bench-relay: ATPROTO_BENCH_RELAY_EVENTS must be a positive count\n";
    return 2;
  }
  // Every account a slot will use (the last round may not reach them all).
  const int accounts = static_cast<int>((events - 1) / kSlots / commits_per_account() + 1) * kSlots;
  // Up to 100,000 frames are made before the clock starts (all of them in an
  // ordinary run); beyond that the generator keeps pace as it can, which
  // bounds the wall-clock rate but not the per-CPU-second one.
  const auto lookahead = static_cast<std::size_t>(std::min<std::int64_t>(events, 100'000));
  // This program, again (resolved before the fork: under valgrind
  // /proc/self/exe is valgrind's own).
  std::error_code link_error;
  const std::string self = std::filesystem::read_symlink("/proc/self/exe", link_error).string();
  int ready[2];
  if (link_error || pipe(ready) != 0) return 1;
  pid_t pds_pid = fork();
  if (pds_pid < 0) return 1;
  if (pds_pid == 0) {
    close(ready[0]);
    std::string events_arg = std::to_string(events);
    std::string lookahead_arg = std::to_string(lookahead);
    std::string fd_arg = std::to_string(ready[1]);
    execl(self.c_str(), argv[0], "--pds", events_arg.c_str(), lookahead_arg.c_str(), fd_arg.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(ready[1]);
  std::uint16_t pds_port = 0;
  if (read(ready[0], &pds_port, sizeof pds_port) != sizeof pds_port) {
    std::cerr << "bench-relay: the fake PDS did not start\n";
    return 1;
  }
  close(ready[0]);
  const std::string pds_url = "http://127.0.0.1:" + std::to_string(pds_port);
  FakePlc plc;
  // The directory's server threads are the bench's, not the relay's: named
  // apart from the relay's own io threads (once they have named themselves).
  // The consumer is this thread.
  pthread_setname_np(pthread_self(), "consumer");
  for (int tries = 0; tries < 200; ++tries) {
    int named = 0;
    for (const auto& [tid, t] : threads_cpu()) {
      if (t.name == "http-io") {
        name_thread(tid, "plc-io");
        ++named;
      }
    }
    if (named == xrpc::ServerOptions{}.threads) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  for (int i = 0; i < accounts; ++i) {
    plc.put(test_did(i), account_key(i).public_key(), pds_url);
  }

  RelayConfig config;
  config.data_dir = argv[1];
  config.port = 0;
  config.plc_url = plc.url();
  config.allow_private_addresses = true;
  config.crawl = {pds_url};
  auto relay = Relay::open(config).value();
  auto port = relay->start().value();
  auto reader = Reader::connect(port, 0);
  if (!reader) {
    std::cerr << "bench-relay: cannot connect to the relay\n";
    kill(pds_pid, SIGTERM);
    return 1;
  }
  auto start = std::chrono::steady_clock::now();
  double cpu_start = process_cpu_seconds();
  double consumer_cpu_start = thread_cpu_seconds();
  const auto threads_start = threads_cpu();
  double rss_quarter = 0;
  nlohmann::json rss_series = nlohmann::json::array();  // [events seen, MB]
  const std::int64_t rss_every = std::max<std::int64_t>(events / 20, 1000);
  std::int64_t seen = 0;
  std::string failure;
  while (seen < events) {
    auto message = reader->client->read(60000);
    if (!message || !message.value()) {
      failure = message ? "the relay closed the stream" : "reading: " + message.error().message;
      break;
    }
    ++seen;
    // The consumer checks what it counts: a #commit under the relay's next
    // seq (the relay numbers from 1 in a new database).
    auto decoded = sync::decode_message(*message.value());
    const sync::Event* event = decoded ? std::get_if<sync::Event>(&decoded.value()) : nullptr;
    if (event == nullptr || !std::holds_alternative<sync::CommitEvent>(*event) ||
        sync::event_seq(*event) != seen) {
      failure =
          "event " + std::to_string(seen) + " is not the #commit of seq " + std::to_string(seen);
      break;
    }
    if (seen == events / 4) rss_quarter = rss_mb();
    if (seen % rss_every == 0) rss_series.push_back({seen, std::round(rss_mb())});
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double consumer_cpu = thread_cpu_seconds() - consumer_cpu_start;
  double cpu_seconds = process_cpu_seconds() - cpu_start - consumer_cpu;
  double rss_end = rss_mb();
  const auto threads_end = threads_cpu();
  auto stats = relay->stats();
  relay->stop();
  kill(pds_pid, SIGTERM);
  waitpid(pds_pid, nullptr, 0);
  if (!failure.empty() || seen != events) {
    std::cerr << "bench-relay: " << seen << " of " << events << " events came through ("
              << stats.dropped << " dropped) " << failure << "\n";
    for (const auto& [reason, count] : stats.drop_reasons) {
      std::cerr << "  dropped under " << reason << ": " << count << "\n";
    }
    return 1;
  }
  double rate = static_cast<double>(seen) / seconds;
  RawRate raw_after;
  {
    std::uint64_t ops = 0;
    double elapsed = 0;
    raw_after = measure_raw(ops, elapsed);
  }
  const double raw_wall_best = std::max(raw_before.wall, raw_after.wall);
  const double raw_cpu_best = std::max(raw_before.cpu, raw_after.cpu);
  // Per CPU-second of the relay: the whole process (the relay's threads and
  // the consumer) less the consumer's thread; the fake PDS is another process.
  double cpu_rate = static_cast<double>(seen) / cpu_seconds;
  nlohmann::json line{
      {"id", "relay.commit.verified"},
      {"what", "#commit events verified and re-sequenced through the relay"},
      {"ops", seen},
      {"seconds", seconds},
      {"bytes", 0},
      {"check", std::to_string(seen) + " forwarded"},
      {"target_ratio", 0},
      {"of_raw_verify_wall", std::round(rate / raw_wall_best * 100) / 100},
      {"events_per_cpu_second", std::round(cpu_rate)},
      // the faster of the two raw measurements, and each of them
      {"raw_verifies_per_cpu_second", std::round(raw_cpu_best)},
      {"raw_verifies_per_cpu_second_before_after",
       {std::round(raw_before.cpu), std::round(raw_after.cpu)}},
      {"of_raw_verify_per_core", std::round(cpu_rate / raw_cpu_best * 100) / 100},
      {"target_of_raw_verify", 0.5},
      {"consumer_cpu_seconds", std::round(consumer_cpu * 100) / 100},
      {"accounts", accounts},
      {"rss_mb_quarter", std::round(rss_quarter)},
      {"rss_mb_end", std::round(rss_end)},
      {"rss_mb_series", rss_series},
      // [us of CPU per event, system share, threads] by thread name
      {"threads_us_per_event", threads_per_event(threads_start, threads_end, seen)}};
  std::cout << line.dump() << std::endl;
  return 0;
}

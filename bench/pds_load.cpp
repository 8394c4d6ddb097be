// The createRecord load generator of `tools/bench pds`: the same program
// measures our PDS and the official one, so the two figures compare.
//
// Usage: bench-pds-load PDS_URL [--seconds S] [--clients N,...]
//
// For each client count (default 1 and 8) it creates that many accounts,
// then each client, on its own thread and its own keep-alive HTTP/1.1
// connection, sends createRecord (an app.bsky.feed.post) and waits for the
// answer, again and again, for S seconds (default ATPROTO_BENCH_SECONDS, else
// 1). It prints the JSON line of bench/README.md with the id
// pds.createRecord.c<N>: ops, seconds, and p50_ms / p99_ms of the request
// latency.
//
// Why C++ and not the Node client (conformance/peers/pds-client/load.mjs,
// which still measures getRepo and the firehose): Node spends about 0.2 ms of
// CPU per request and adds its event loop's latency to each one. Against the
// official PDS (about 11 ms a request) that is noise; against ours (under
// 1 ms) it was a third of the measured latency and, with eight clients on two
// cores, CPU taken from the server. A blocking client on a thread costs a
// write and a read per request.
#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "atproto/identity/fetch.hpp"
#include "atproto/syntax/datetime.hpp"
#include "bench.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

struct Url {
  std::string host;
  std::string port;
};

// One keep-alive connection; requests go one after the other.
class Connection {
 public:
  explicit Connection(const Url& url) : url_(url), stream_(ioc_) {
    tcp::resolver resolver(ioc_);
    stream_.connect(resolver.resolve(url.host, url.port));
    stream_.socket().set_option(tcp::no_delay(true));
  }

  // The body of a 200 answer parsed as JSON; anything else throws.
  json call(http::verb method, const std::string& nsid, const json& body = nullptr,
            const std::string& token = "") {
    http::request<http::string_body> req{method, "/xrpc/" + nsid, 11};
    req.set(http::field::host, url_.host + ":" + url_.port);
    req.keep_alive(true);
    if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
    if (!body.is_null()) {
      req.set(http::field::content_type, "application/json");
      req.body() = body.dump();
    }
    req.prepare_payload();
    http::write(stream_, req);
    http::response<http::string_body> res;
    buffer_.clear();
    http::read(stream_, buffer_, res);
    if (res.result_int() != 200)
      throw std::runtime_error(nsid + ": HTTP " + std::to_string(res.result_int()) + " " +
                               res.body().substr(0, 300));
    return json::parse(res.body());
  }

 private:
  Url url_;
  asio::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
};

struct Client {
  std::unique_ptr<Connection> connection;
  std::string did;
  std::string token;
};

std::string run_tag() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return "c" + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(now).count() %
                              100'000'000);
}

Client new_account(const Url& url, const std::string& run, int n) {
  Client c;
  c.connection = std::make_unique<Connection>(url);
  json desc = c.connection->call(http::verb::get, "com.atproto.server.describeServer");
  std::string handle = "b" + run + "x" + std::to_string(n) +
                       desc.at("availableUserDomains").at(0).get<std::string>();
  json out = c.connection->call(http::verb::post, "com.atproto.server.createAccount",
                                {{"handle", handle},
                                 {"email", "b" + run + "x" + std::to_string(n) + "@example.com"},
                                 {"password", "pw-" + run + "-" + std::to_string(n)}});
  c.did = out.at("did").get<std::string>();
  c.token = out.at("accessJwt").get<std::string>();
  return c;
}

// The record load.mjs writes too.
json post(std::uint64_t i) {
  return {
      {"$type", "app.bsky.feed.post"},
      {"text", "bench post " + std::to_string(i) + ": the quick brown fox jumps over the lazy dog"},
      {"createdAt", atproto::syntax::now_datetime()}};
}

double once(Client& c, std::uint64_t i) {
  auto t0 = Clock::now();
  c.connection->call(http::verb::post, "com.atproto.repo.createRecord",
                     {{"repo", c.did}, {"collection", "app.bsky.feed.post"}, {"record", post(i)}},
                     c.token);
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

double quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  auto at = static_cast<std::size_t>(q * static_cast<double>(sorted.size()));
  return sorted[std::min(sorted.size() - 1, at)];
}

double rounded(double x) { return static_cast<double>(std::llround(x * 1000)) / 1000; }

json create_records(const Url& url, const std::string& run, int concurrency, double seconds,
                    int& accounts) {
  std::vector<Client> clients;
  for (int c = 0; c < concurrency; ++c) clients.push_back(new_account(url, run, accounts++));
  // Warm up: a few writes per client, not timed.
  for (auto& c : clients)
    for (int i = 0; i < 5; ++i) once(c, i);
  std::vector<std::vector<double>> latencies(clients.size());
  std::mutex failure_mutex;
  std::optional<std::string> failure;
  const auto start = Clock::now();
  const auto end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  std::vector<std::thread> threads;
  for (std::size_t k = 0; k < clients.size(); ++k) {
    threads.emplace_back([&, k] {
      try {
        for (std::uint64_t i = 0; Clock::now() < end; ++i)
          latencies[k].push_back(once(clients[k], i));
      } catch (const std::exception& e) {
        std::lock_guard lock(failure_mutex);
        failure = e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  if (failure) throw std::runtime_error(*failure);
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  return {{"ops", all.size()},
          {"seconds", rounded(elapsed)},
          {"bytes", 0},
          {"check", "ok"},
          {"p50_ms", rounded(quantile(all, 0.5))},
          {"p99_ms", rounded(quantile(all, 0.99))}};
}

[[noreturn]] void usage() {
  std::cerr << "usage: bench-pds-load PDS_URL [--seconds S] [--clients N,...]\n";
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<std::string> base;
  double seconds = atproto::bench::min_seconds();
  std::vector<int> counts = {1, 8};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--seconds" && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
      if (!(seconds > 0)) usage();
    } else if (a == "--clients" && i + 1 < argc) {
      counts.clear();
      std::string list = argv[++i];
      for (std::size_t p = 0; p <= list.size();) {
        auto comma = std::min(list.find(',', p), list.size());
        int n = std::atoi(list.substr(p, comma - p).c_str());
        if (n < 1 || n > 256) usage();
        counts.push_back(n);
        p = comma + 1;
      }
    } else if (!base && a.rfind("--", 0) != 0) {
      base = a;
    } else {
      usage();
    }
  }
  if (!base) usage();
  auto parsed = atproto::identity::parse_url(*base);
  if (!parsed.ok() || parsed->scheme != "http") {
    std::cerr << "bench-pds-load: " << *base << " is not an http:// URL\n";
    return 2;
  }
  const Url url{parsed->host, std::to_string(parsed->port)};
  const std::string run = run_tag();
  int accounts = 0;
  int failures = 0;
  for (int n : counts) {
    json line = {
        {"id", "pds.createRecord.c" + std::to_string(n)},
        {"what", "createRecord, " + std::to_string(n) + " concurrent client" + (n > 1 ? "s" : "")}};
    try {
      line.update(create_records(url, run, n, seconds, accounts));
    } catch (const std::exception& e) {
      // A measurement that fails still prints its line, with ops 0 and the
      // reason as its check, so the table shows it instead of dropping it.
      ++failures;
      std::cerr << "bench-pds-load: " << line["id"].get<std::string>() << ": " << e.what() << "\n";
      line.update({{"ops", 0},
                   {"seconds", 0},
                   {"bytes", 0},
                   {"check", std::string("failed: ") + std::string(e.what()).substr(0, 190)}});
    }
    std::cout << line.dump() << std::endl;
  }
  return failures == static_cast<int>(counts.size()) ? 1 : 0;
}

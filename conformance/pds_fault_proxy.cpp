// pds-fault-proxy: TESTING ONLY. Forwards HTTP and the subscribeRepos
// WebSocket to an upstream PDS with exactly one deliberate fault, so that a
// test can show each case of the pds suite able to fail: the suite run
// through the proxy must fail exactly the cases the fault breaks
// (conformance/pds_suite_test.py holds the expected sets).
//   pds-fault-proxy --upstream URL --fault NAME [--port P]
// Prints "listening on http://127.0.0.1:PORT"; SIGTERM or SIGINT stop it.
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "atproto/data/cid.hpp"
#include "atproto/identity/fetch.hpp"
#include "atproto/sync/events.hpp"
#include "atproto/xrpc/client.hpp"
#include "atproto/xrpc/http_server.hpp"
#include "atproto/xrpc/websocket.hpp"

namespace {

using namespace atproto;
using Bytes = std::vector<std::uint8_t>;

struct Fault {
  const char* name;
  const char* effect;
};

// The one table of faults: --help prints it, and the test's expectations
// name the same entries.
const std::vector<Fault>& fault_table() {
  static const std::vector<Fault> kFaults = {
      {"drop-www-authenticate", "remove the WWW-Authenticate header from every response"},
      {"client-errors-as-500", "answer 500 instead of any 4xx status (the body kept)"},
      {"drop-blob-headers",
       "remove X-Content-Type-Options and Content-Security-Policy from getBlob"},
      {"corrupt-repo-block", "flip one byte of the last block of every full getRepo CAR"},
      {"stale-latest-commit",
       "answer getLatestCommit from the first answer seen for the DID, never refreshed"},
      {"well-known-wrong-did", "answer /.well-known/atproto-did with another DID"},
      {"reorder-events", "swap the first two messages of every firehose connection"},
      {"duplicate-events", "send every #commit message of the firehose twice"},
      {"corrupt-prevdata", "replace the prevData of every #commit with another CID"},
      {"stale-cursor", "ask upstream for cursor - 2 instead of the client's cursor"},
      {"drop-identity-events", "drop every #identity message of the firehose"},
      {"drop-account-events", "drop every #account message of the firehose"},
      {"drop-error-frames", "drop every error frame of the firehose"},
      {"wrong-record-cid", "answer repo.getRecord with the CID of another record"},
      {"list-drops-record", "drop the last record of every listRecords page"},
      {"describe-without-did", "drop the server's did from describeServer"},
      {"describe-repo-no-collections", "answer describeRepo with no collections"},
      {"stale-resolve-handle",
       "answer resolveHandle from the first answer seen for the handle, never refreshed"},
      {"refresh-reuses-token", "answer refreshSession with the refresh token it was sent"},
      {"corrupt-record-proof", "flip one byte of the last block of every sync.getRecord CAR"},
      {"corrupt-blob", "flip one byte of every getBlob body"},
      {"admin-forbidden", "answer 403 to every com.atproto.admin.* call"},
  };
  return kFaults;
}

std::string usage() {
  std::string out =
      "usage: pds-fault-proxy --upstream URL --fault NAME [--port P]\n"
      "\n"
      "TESTING ONLY: forwards HTTP and the com.atproto.sync.subscribeRepos WebSocket to\n"
      "the PDS at URL (loopback allowed) with exactly one deliberate fault.\n"
      "\n"
      "  --upstream URL    the PDS, e.g. http://127.0.0.1:2583\n"
      "  --port P          port to listen on (0, the default: any free port; printed as\n"
      "                    \"listening on http://127.0.0.1:PORT\")\n"
      "  --fault NAME      one of:\n";
  for (const auto& f : fault_table()) {
    std::string name(f.name);
    name.resize(std::max<std::size_t>(name.size() + 1, 24), ' ');
    out += "                      " + name + std::string(f.effect) + "\n";
  }
  out += "  -h, --help        this text\n";
  return out;
}

// Hop-by-hop and framing headers are the proxy's own business.
bool forwardable(const std::string& name) {
  static const char* const kDropped[] = {"connection",       "content-length", "transfer-encoding",
                                         "keep-alive",       "upgrade",        "te",
                                         "proxy-connection", "accept-encoding"};
  return std::none_of(std::begin(kDropped), std::end(kDropped),
                      [&](const char* d) { return name == d; });
}

class Proxy {
 public:
  Proxy(std::string upstream, std::string fault)
      : upstream_(std::move(upstream)), fault_(std::move(fault)) {
    while (!upstream_.empty() && upstream_.back() == '/') upstream_.pop_back();
    policy_.allow_private_addresses = true;
    policy_.timeout_ms = 60000;
    policy_.max_response_bytes = 256u << 20;
    policy_.max_redirects = 0;
  }

  ~Proxy() { join_relays(); }

  xrpc::HttpResponse handle(const xrpc::HttpRequest& request) {
    auto upgrade = request.header("upgrade");
    if (request.path == "/xrpc/com.atproto.sync.subscribeRepos" && upgrade &&
        (*upgrade == "websocket" || *upgrade == "WebSocket")) {
      return subscribe(request);
    }
    return forward(request);
  }

  void join_relays() {
    stopping_ = true;
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mutex_);
      threads.swap(relays_);
    }
    for (auto& t : threads) t.join();
  }

 private:
  xrpc::HttpResponse forward(const xrpc::HttpRequest& request) {
    identity::HeaderList headers;
    for (const auto& [name, value] : request.headers) {
      if (forwardable(name)) headers.emplace_back(name, value);
    }
    auto answer = identity::http_request(request.method, upstream_ + request.target, request.body,
                                         headers, policy_);
    if (!answer.ok()) {
      return xrpc::xrpc_error(502, "UpstreamFailure",
                              answer.error().code + ": " + answer.error().message);
    }
    xrpc::HttpResponse out;
    out.status = answer->status;
    out.body = std::move(answer->body);
    for (auto& [name, value] : answer->headers) {
      if (forwardable(name)) out.headers.emplace_back(name, value);
    }
    apply_http_fault(request, out);
    return out;
  }

  void drop_header(xrpc::HttpResponse& r, const std::string& name) {
    r.headers.erase(std::remove_if(r.headers.begin(), r.headers.end(),
                                   [&](const auto& h) { return h.first == name; }),
                    r.headers.end());
  }

  void apply_http_fault(const xrpc::HttpRequest& request, xrpc::HttpResponse& r) {
    const std::string& path = request.path;
    if (fault_ == "drop-www-authenticate") {
      drop_header(r, "www-authenticate");
    } else if (fault_ == "client-errors-as-500") {
      if (r.status >= 400 && r.status < 500) r.status = 500;
    } else if (fault_ == "drop-blob-headers" && path == "/xrpc/com.atproto.sync.getBlob") {
      drop_header(r, "x-content-type-options");
      drop_header(r, "content-security-policy");
    } else if (fault_ == "corrupt-repo-block" && path == "/xrpc/com.atproto.sync.getRepo" &&
               !request.query_param("since") && r.status == 200 && r.body.size() > 8) {
      // The last byte of a CAR is the last byte of its last block's data:
      // the block no longer matches its CID.
      r.body.back() = static_cast<char>(r.body.back() ^ 0x01);
    } else if (fault_ == "stale-latest-commit" &&
               path == "/xrpc/com.atproto.sync.getLatestCommit" && r.status == 200) {
      std::string did = request.query_param("did").value_or("");
      std::lock_guard lock(mutex_);
      auto [it, fresh] = latest_.try_emplace(did, r.body);
      if (!fresh) r.body = it->second;
    } else if (fault_ == "well-known-wrong-did" && path == "/.well-known/atproto-did" &&
               r.status == 200) {
      r.body = "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa";
    } else if (fault_ == "corrupt-record-proof" && path == "/xrpc/com.atproto.sync.getRecord" &&
               r.status == 200 && !r.body.empty()) {
      r.body.back() = static_cast<char>(r.body.back() ^ 0x01);
    } else if (fault_ == "corrupt-blob" && path == "/xrpc/com.atproto.sync.getBlob" &&
               r.status == 200 && !r.body.empty()) {
      r.body.back() = static_cast<char>(r.body.back() ^ 0x01);
    } else if (fault_ == "admin-forbidden" && path.rfind("/xrpc/com.atproto.admin.", 0) == 0) {
      r = xrpc::xrpc_error(403, "Forbidden", "pds-fault-proxy: admin-forbidden");
    } else if (fault_ == "stale-resolve-handle" &&
               path == "/xrpc/com.atproto.identity.resolveHandle") {
      // Once a handle resolved, it keeps resolving the same way, even after
      // the server answered otherwise.
      std::string handle = request.query_param("handle").value_or("");
      std::lock_guard lock(mutex_);
      auto it = resolved_.find(handle);
      if (it != resolved_.end()) {
        r.status = 200;
        r.body = it->second;
      } else if (r.status == 200) {
        resolved_.emplace(handle, r.body);
      }
    } else {
      edit_json(request, r);
    }
  }

  // The faults that change one field of a JSON answer.
  void edit_json(const xrpc::HttpRequest& request, xrpc::HttpResponse& r) {
    const std::string& path = request.path;
    if (r.status != 200) return;
    nlohmann::json body = nlohmann::json::parse(r.body, nullptr, false);
    if (!body.is_object()) return;
    if (fault_ == "wrong-record-cid" && path == "/xrpc/com.atproto.repo.getRecord") {
      // A CID that is valid but names other bytes.
      std::string other = r.body + " (another record)";
      body["cid"] =
          data::Cid::compute(data::Codec::kDagCbor, Bytes(other.begin(), other.end())).to_string();
    } else if (fault_ == "list-drops-record" && path == "/xrpc/com.atproto.repo.listRecords" &&
               body.contains("records") && body["records"].is_array() && !body["records"].empty()) {
      body["records"].erase(body["records"].size() - 1);
    } else if (fault_ == "describe-without-did" &&
               path == "/xrpc/com.atproto.server.describeServer") {
      body.erase("did");
    } else if (fault_ == "describe-repo-no-collections" &&
               path == "/xrpc/com.atproto.repo.describeRepo") {
      body["collections"] = nlohmann::json::array();
    } else if (fault_ == "refresh-reuses-token" &&
               path == "/xrpc/com.atproto.server.refreshSession") {
      std::string sent = request.header("authorization").value_or("");
      if (sent.rfind("Bearer ", 0) == 0) body["refreshJwt"] = sent.substr(7);
    } else {
      return;
    }
    r.body = body.dump();
  }

  xrpc::HttpResponse subscribe(const xrpc::HttpRequest& request) {
    std::string query;
    for (const auto& [name, value] : request.query) {
      std::string v = value;
      if (name == "cursor" && fault_ == "stale-cursor") {
        try {
          v = std::to_string(std::max<long long>(0, std::stoll(value) - 2));
        } catch (...) {
        }
      }
      query += (query.empty() ? "?" : "&") + xrpc::encode_query({{name, v}});
    }
    std::string url = upstream_;
    url = (url.rfind("https://", 0) == 0 ? "wss://" + url.substr(8) : "ws://" + url.substr(7)) +
          request.path + query;
    xrpc::HttpResponse out;
    out.upgrade = [this, url](std::shared_ptr<xrpc::WebSocketConnection> downstream) {
      std::lock_guard lock(mutex_);
      relays_.emplace_back([this, url, downstream] { relay(url, downstream); });
    };
    return out;
  }

  // Copies upstream messages to the client, with the fault, until either
  // side closes.
  void relay(const std::string& url, const std::shared_ptr<xrpc::WebSocketConnection>& down) {
    xrpc::WebSocketClientOptions options;
    options.policy = policy_;
    auto up = xrpc::WebSocketClient::connect(url, options);
    if (!up.ok()) {
      down->close(1011, "upstream: " + up.error().message);
      return;
    }
    std::optional<Bytes> held;  // reorder-events: the first message
    bool reordered = false;
    auto held_since = std::chrono::steady_clock::now();
    while (!stopping_ && down->is_open()) {
      auto message = (*up)->read(100);
      if (!message.ok()) {
        if (message.error().code == "xrpc.ws.timeout") {
          // A first message with no second after a second goes out alone.
          if (held && std::chrono::steady_clock::now() - held_since > std::chrono::seconds(1)) {
            down->send_binary(std::move(*held));
            held.reset();
            reordered = true;
          }
          continue;
        }
        break;
      }
      if (!message->has_value()) {
        if (held) down->send_binary(std::move(*held));
        down->close((*up)->close_code().value_or(1000), (*up)->close_reason());
        return;
      }
      Bytes bytes = std::move(**message);
      if (fault_ == "reorder-events" && !reordered) {
        if (!held) {
          held = std::move(bytes);
          held_since = std::chrono::steady_clock::now();
          continue;
        }
        down->send_binary(std::move(bytes));
        down->send_binary(std::move(*held));
        held.reset();
        reordered = true;
        continue;
      }
      for (auto& out : apply_event_fault(std::move(bytes))) down->send_binary(std::move(out));
    }
    (*up)->close();
    if (down->is_open()) down->close(1001, "proxy stopping");
  }

  std::vector<Bytes> apply_event_fault(Bytes bytes) {
    auto message = sync::decode_message(bytes);
    const sync::Event* event = message.ok() ? std::get_if<sync::Event>(&*message) : nullptr;
    const char* type = event ? sync::event_type(*event) : "";
    const std::string t(type);
    if (fault_ == "duplicate-events" && t == "#commit") return {bytes, bytes};
    if (fault_ == "drop-error-frames" && message.ok() &&
        std::holds_alternative<sync::ErrorFrame>(*message)) {
      return {};
    }
    if (fault_ == "drop-identity-events" && t == "#identity") return {};
    if (fault_ == "drop-account-events" && t == "#account") return {};
    if (fault_ == "corrupt-prevdata" && t == "#commit") {
      auto commit = std::get<sync::CommitEvent>(*event);
      if (commit.prev_data) {
        std::string other = "not the previous tree";
        commit.prev_data =
            data::Cid::compute(data::Codec::kDagCbor, Bytes(other.begin(), other.end()));
        return {sync::encode_event(sync::Event(std::move(commit)))};
      }
    }
    return {std::move(bytes)};
  }

  std::string upstream_;
  std::string fault_;
  identity::FetchPolicy policy_;
  std::mutex mutex_;
  std::vector<std::thread> relays_;
  std::map<std::string, std::string> latest_;
  std::map<std::string, std::string> resolved_;
  std::atomic<bool> stopping_{false};
};

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string upstream, fault;
  long port = 0;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= args.size()) return false;
      out = args[++i];
      return true;
    };
    std::string v;
    if (a == "-h" || a == "--help") {
      std::cout << usage();
      return 0;
    } else if (a == "--upstream") {
      if (!value(upstream)) return std::cerr << usage(), 2;
    } else if (a == "--fault") {
      if (!value(fault)) return std::cerr << usage(), 2;
    } else if (a == "--port") {
      if (!value(v) || v.empty() || v.size() > 5 ||
          v.find_first_not_of("0123456789") != std::string::npos || std::stol(v) > 65535) {
        std::cerr << "pds-fault-proxy: --port needs a port number\n";
        return 2;
      }
      port = std::stol(v);
    } else {
      std::cerr << "pds-fault-proxy: unknown argument " << a << "\n\n" << usage();
      return 2;
    }
  }
  const auto& faults = fault_table();
  if (upstream.empty() ||
      std::none_of(faults.begin(), faults.end(), [&](const Fault& f) { return f.name == fault; })) {
    std::cerr << "pds-fault-proxy: --upstream URL and one known --fault NAME are required\n\n"
              << usage();
    return 2;
  }

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  Proxy proxy(upstream, fault);
  xrpc::ServerOptions options;
  options.port = static_cast<std::uint16_t>(port);
  options.max_body_bytes = 256u << 20;  // the PDS judges sizes, not the proxy
  options.threads = 4;
  xrpc::HttpServer server(options, [&](const xrpc::HttpRequest& r) { return proxy.handle(r); });
  auto bound = server.start();
  if (!bound.ok()) {
    std::cerr << "pds-fault-proxy: " << bound.error().message << "\n";
    return 1;
  }
  std::cout << "listening on http://127.0.0.1:" << *bound << std::endl;
  int signal = 0;
  sigwait(&stop_signals, &signal);
  server.stop();
  proxy.join_relays();
  return 0;
}

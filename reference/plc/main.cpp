// atproto-plc: a did:plc directory server.
//   atproto-plc --port P --data DIR
// Serves the PLC directory HTTP API on 127.0.0.1 from a SQLite database in
// DIR; /_health answers once it is ready; SIGTERM or SIGINT stop it cleanly
// (requests in flight finish, the database is closed).
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "atproto/plc/directory.hpp"
#include "atproto/plc/store.hpp"
#include "atproto/xrpc/http_server.hpp"

namespace {

using namespace atproto;

std::string usage() {
  std::string out =
      "usage: atproto-plc --port P --data DIR [options]\n"
      "\n"
      "A did:plc directory (https://web.plc.directory/spec/v0.1/did-plc) on one\n"
      "SQLite database, DIR/plc.sqlite (created when missing).\n"
      "\n"
      "  --port P          port to listen on (0: any free port; the bound port is\n"
      "                    printed as \"listening on http://HOST:PORT\")\n"
      "  --data DIR        folder of the database (created when missing)\n"
      "  --host ADDR       address to listen on (default 127.0.0.1)\n"
      "  --threads N       HTTP worker threads (default 4)\n"
      "  --fault NAME      TESTING ONLY: misbehave on purpose; repeatable. NAME is one of:\n";
  for (const auto& f : plc::fault_table()) {
    std::string name(f.name);
    name.resize(std::max<std::size_t>(name.size() + 1, 22), ' ');
    out += "                      " + name + std::string(f.effect) + "\n";
  }
  out +=
      "  --version         print the version and exit\n"
      "  -h, --help        this text\n"
      "\n"
      "Routes: GET /{did}, /{did}/data, /{did}/log, /{did}/log/audit, /{did}/log/last,\n"
      "POST /{did}, GET /export?after=&count=, GET /_health (also /xrpc/_health).\n";
  return out;
}

constexpr const char* kVersion = "0.1.0";

int fail_usage(const std::string& message) {
  std::cerr << "atproto-plc: " << message << "\n\n" << usage();
  return 2;
}

bool parse_int(const std::string& s, long max, long& out) {
  if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  out = std::stol(s);
  return out <= max;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  long port = -1;
  long threads = 4;
  std::string data_dir;
  xrpc::ServerOptions server_options;
  plc::DirectoryOptions directory_options;
  directory_options.version = kVersion;
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
    } else if (a == "--version") {
      std::cout << "atproto-plc " << kVersion << "\n";
      return 0;
    } else if (a == "--port") {
      if (!value(v) || !parse_int(v, 65535, port)) return fail_usage("--port needs 0-65535");
    } else if (a == "--data") {
      if (!value(data_dir) || data_dir.empty()) return fail_usage("--data needs a folder");
    } else if (a == "--host") {
      if (!value(server_options.host)) return fail_usage("--host needs an address");
    } else if (a == "--threads") {
      if (!value(v) || !parse_int(v, 64, threads) || threads < 1) {
        return fail_usage("--threads needs 1-64");
      }
    } else if (a == "--fault") {
      if (!value(v)) return fail_usage("--fault needs a name");
      bool known = false;
      for (const auto& f : plc::fault_table()) {
        if (f.name == v) {
          directory_options.faults.push_back(f.fault);
          known = true;
        }
      }
      if (!known) return fail_usage("unknown fault " + v);
    } else {
      return fail_usage("unknown argument " + a);
    }
  }
  if (port < 0) return fail_usage("--port is required");
  if (data_dir.empty()) return fail_usage("--data is required");

  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) {
    std::cerr << "atproto-plc: cannot create " << data_dir << ": " << ec.message() << "\n";
    return 1;
  }
  auto store = plc::open_sqlite_store((std::filesystem::path(data_dir) / "plc.sqlite").string());
  if (!store.ok()) {
    std::cerr << "atproto-plc: " << store.error().code << ": " << store.error().message << "\n";
    return 1;
  }
  if (!directory_options.faults.empty()) {
    std::cerr << "atproto-plc: WARNING: running with deliberate faults (testing only)\n";
  }
  plc::PlcDirectory directory(**store, directory_options);

  // Signals are taken by sigwait below; block them before any thread starts
  // so that no server thread is interrupted by one.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  server_options.port = static_cast<std::uint16_t>(port);
  server_options.threads = static_cast<int>(threads);
  xrpc::HttpServer server(
      server_options, [&](const xrpc::HttpRequest& request) { return directory.handle(request); });
  auto bound = server.start();
  if (!bound.ok()) {
    std::cerr << "atproto-plc: cannot listen: " << bound.error().message << "\n";
    return 1;
  }
  std::cout << "listening on http://" << server_options.host << ":" << *bound << std::endl;

  int signal = 0;
  sigwait(&stop_signals, &signal);
  std::cerr << "atproto-plc: stopping (signal " << signal << ")\n";
  server.stop();
  return 0;
}

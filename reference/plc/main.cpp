// atproto-plc: a did:plc directory server.
//   atproto-plc --port P --data DIR
// Serves the PLC directory HTTP API on 127.0.0.1 from a SQLite database in
// DIR; /_health answers once it is ready; SIGTERM or SIGINT stop it cleanly
// (requests in flight finish, the database is closed). The flags, their
// ATPROTO_PLC_* environment variables and --help come from one option table.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "atproto/common/command_line.hpp"
#include "atproto/plc/directory.hpp"
#include "atproto/plc/store.hpp"
#include "atproto/xrpc/http_server.hpp"

namespace {

using namespace atproto;
namespace cl = command_line;

constexpr const char* kVersion = "0.1.0";

const cl::Program kProgram = {
    "atproto-plc", kVersion, "--port P --data DIR [options]",
    "A did:plc directory (https://web.plc.directory/spec/v0.1/did-plc) on one\n"
    "SQLite database, DIR/plc.sqlite (created when missing). Prints\n"
    "\"listening on http://HOST:PORT\" once it serves.\n"
    "\n"
    "Routes: GET /{did}, /{did}/data, /{did}/log, /{did}/log/audit, /{did}/log/last,\n"
    "POST /{did}, GET /export?after=&count=, GET /_health (also /xrpc/_health).\n",
    "ATPROTO_PLC_"};

struct Settings {
  std::uint16_t port = 0;
  std::string data_dir;
  std::string host = "127.0.0.1";
  int threads = 4;
  std::vector<plc::Fault> faults;
};

std::vector<cl::Option<Settings>> options() {
  using S = Settings;
  auto port = cl::integer<S, std::uint16_t>("port", "P", "port to listen on (0: any free port)",
                                            &S::port, 0, 65535);
  port.required = true;
  auto data =
      cl::text<S>("data", "DIR", "folder of the database (created when missing)", &S::data_dir);
  data.required = true;
  std::string fault_help = "TESTING ONLY: misbehave on purpose; repeatable. NAME is one of:";
  for (const auto& f : plc::fault_table()) {
    std::string name(f.name);
    name.resize(std::max<std::size_t>(name.size() + 1, 22), ' ');
    fault_help += "\n  " + name + std::string(f.effect);
  }
  return {
      port,
      data,
      cl::text<S>("host", "ADDR", "address to listen on", &S::host),
      cl::integer<S, int>("threads", "N", "HTTP worker threads", &S::threads, 1, 64),
      {"fault", "NAME", fault_help,
       [](S& s, const std::string& v) {
         for (const auto& f : plc::fault_table()) {
           if (f.name == v) {
             s.faults.push_back(f.fault);
             return true;
           }
         }
         return false;
       }},
  };
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  if (auto exit_status = cl::parse(kProgram, options(), argc, argv, settings)) {
    return *exit_status;
  }
  const std::string& data_dir = settings.data_dir;
  xrpc::ServerOptions server_options;
  server_options.host = settings.host;
  server_options.port = settings.port;
  server_options.threads = settings.threads;
  plc::DirectoryOptions directory_options;
  directory_options.version = kVersion;
  directory_options.faults = settings.faults;

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

  cl::StopSignals stop_signals;  // before any thread starts
  xrpc::HttpServer server(
      server_options, [&](const xrpc::HttpRequest& request) { return directory.handle(request); });
  auto bound = server.start();
  if (!bound.ok()) {
    std::cerr << "atproto-plc: cannot listen: " << bound.error().message << "\n";
    return 1;
  }
  std::cout << "listening on http://" << server_options.host << ":" << *bound << std::endl;

  int signal = stop_signals.wait();
  std::cerr << "atproto-plc: stopping (signal " << signal << ")\n";
  server.stop();
  return 0;
}

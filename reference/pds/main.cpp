// atproto-pds: a personal data server.
//   atproto-pds --port P --data DIR --plc URL [options]
// Every setting of PdsConfig has a flag and an ATPROTO_PDS_* environment
// variable (the flag wins); both come from the one option table below, which
// also writes --help. Prints "listening on http://HOST:PORT" once it serves;
// SIGTERM or SIGINT stop it cleanly.
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "atproto/common/command_line.hpp"
#include "atproto/pds/config.hpp"
#include "atproto/pds/pds.hpp"

namespace {

using atproto::pds::PdsConfig;
using C = PdsConfig;
namespace cl = atproto::command_line;

const cl::Program kProgram = {
    "atproto-pds", "0.1.0", "--port P --data DIR --plc URL [options]",
    "An atproto personal data server on one SQLite database, DIR/pds.sqlite.\n"
    "Prints \"listening on http://HOST:PORT\" once it serves. Each option may\n"
    "also be given as an environment variable (the flag wins).\n",
    "ATPROTO_PDS_"};

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    if (comma > start) out.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

std::string join_commas(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

std::vector<cl::Option<C>> options() {
  constexpr std::size_t kTiB = std::size_t{1} << 40;
  auto data = cl::text<C>(
      "data", "DIR", "folder of pds.sqlite and the blobs (created when missing)", &C::data_dir);
  data.required = true;
  auto plc = cl::text<C>("plc", "URL", "URL of the did:plc directory accounts are created at",
                         &C::plc_url);
  plc.required = true;
  return {
      cl::text<C>("host", "ADDR", "address to listen on", &C::host),
      cl::integer<C, std::uint16_t>("port", "P", "port to listen on (0: any free port)", &C::port,
                                    0, 65535),
      data,
      plc,
      cl::text<C>("public-url", "URL",
                  "URL clients reach this PDS at, written into DID documents\n"
                  "(empty: http://localhost:PORT)",
                  &C::public_url, true),
      cl::text<C>("hostname", "NAME",
                  "the service's hostname; its DID is did:web:HOSTNAME (empty: localhost)",
                  &C::hostname, true),
      {"handle-domains", "LIST", "comma-separated handle suffixes offered to new accounts",
       [](C& c, const std::string& v) {
         c.handle_domains = split_commas(v);
         return !c.handle_domains.empty();
       },
       [](const C& c) { return join_commas(c.handle_domains); }},
      cl::boolean<C>("invite-required", "createAccount needs an invite code", &C::invite_required),
      cl::text<C>("admin-password", "PASSWORD",
                  "password of the admin routes (user \"admin\"; empty disables them)",
                  &C::admin_password, true),
      cl::boolean<C>("allow-private-addresses",
                     "outbound fetches may reach loopback and private addresses (tests only)",
                     &C::allow_private_addresses),
      cl::text<C>("lexicon-dir", "DIR",
                  "folder of the official lexicons (empty: generated/lexicons of the\n"
                  "source tree, written by tools/fetch-lexicons, when present)",
                  &C::lexicon_dir, true),
      cl::integer<C, std::size_t>("max-blob-bytes", "N", "largest blob upload", &C::max_blob_bytes,
                                  1, kTiB),
      cl::integer<C, std::size_t>("max-request-bytes", "N",
                                  "largest request body besides blobs and imports",
                                  &C::max_request_bytes, 1, kTiB),
      cl::integer<C, std::size_t>("max-import-bytes", "N", "largest importRepo body",
                                  &C::max_import_bytes, 1, kTiB),
      cl::integer<C, int>("access-token-seconds", "S", "lifetime of access tokens",
                          &C::access_token_seconds, 1, 1 << 30),
      cl::integer<C, int>("refresh-token-seconds", "S", "lifetime of refresh tokens",
                          &C::refresh_token_seconds, 1, 1 << 30),
      cl::integer<C, int>("event-retention-hours", "H", "how long firehose events are replayed",
                          &C::event_retention_hours, 1, 1 << 20),
      cl::integer<C, int>("threads", "N", "HTTP worker threads", &C::threads, 1, 256),
      cl::boolean<C>("fsync-each-write",
                     "sync every acknowledged write to disk (survives a machine crash);\n"
                     "false: survives kill -9 of the server only, faster on slow disks",
                     &C::fsync_each_write),
  };
}

}  // namespace

int main(int argc, char** argv) {
  PdsConfig config;
  if (auto exit_status = cl::parse(kProgram, options(), argc, argv, config)) return *exit_status;
#ifdef ATPROTO_DEFAULT_LEXICON_DIR
  // Without --lexicon-dir, the lexicons tools/fetch-lexicons wrote into this
  // source tree, when they are there: records and bodies are then checked
  // against the official schemas out of the box.
  if (config.lexicon_dir.empty() && std::filesystem::is_directory(ATPROTO_DEFAULT_LEXICON_DIR)) {
    config.lexicon_dir = ATPROTO_DEFAULT_LEXICON_DIR;
  }
#endif

  cl::StopSignals stop_signals;  // before any thread starts
  auto pds = atproto::pds::Pds::open(config);
  if (!pds) {
    std::cerr << "atproto-pds: " << pds.error().code << ": " << pds.error().message << "\n";
    return 1;
  }
  auto port = (*pds)->start();
  if (!port) {
    std::cerr << "atproto-pds: cannot listen: " << port.error().message << "\n";
    return 1;
  }
  std::cout << "listening on http://" << config.host << ":" << *port << std::endl;
  int signal = stop_signals.wait();
  std::cerr << "atproto-pds: stopping (signal " << signal << ")\n";
  (*pds)->stop();
  return 0;
}

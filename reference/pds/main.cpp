// atproto-pds: a personal data server.
//   atproto-pds --port P --data DIR --plc URL [options]
// Every setting of PdsConfig has a flag and an ATPROTO_PDS_* environment
// variable (the flag wins); both come from the one table below, which also
// writes --help. Prints "listening on http://HOST:PORT" once it serves;
// SIGTERM or SIGINT stop it cleanly.
#include <pthread.h>
#include <signal.h>

#include <charconv>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "atproto/pds/config.hpp"
#include "atproto/pds/pds.hpp"

namespace {

using atproto::pds::PdsConfig;

constexpr const char* kVersion = "0.1.0";

template <typename T>
bool parse_number(const std::string& text, T min, T max, T& out) {
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return false;
  }
  out = value;
  return true;
}

bool parse_bool(const std::string& text, bool& out) {
  if (text == "true" || text == "1" || text == "yes") {
    out = true;
  } else if (text == "false" || text == "0" || text == "no") {
    out = false;
  } else {
    return false;
  }
  return true;
}

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

// One setting: its flag (without "--"), what it means, how to read it
// into the config and how to show its default.
struct Setting {
  const char* flag;
  const char* meaning;
  std::function<bool(PdsConfig&, const std::string&)> set;
  std::function<std::string(const PdsConfig&)> show;
};

template <typename T>
Setting number(const char* flag, const char* meaning, T PdsConfig::*field, T min, T max) {
  return {flag, meaning,
          [=](PdsConfig& c, const std::string& v) { return parse_number(v, min, max, c.*field); },
          [=](const PdsConfig& c) { return std::to_string(c.*field); }};
}

Setting text(const char* flag, const char* meaning, std::string PdsConfig::*field) {
  return {flag, meaning,
          [=](PdsConfig& c, const std::string& v) {
            c.*field = v;
            return true;
          },
          [=](const PdsConfig& c) { return c.*field; }};
}

Setting boolean(const char* flag, const char* meaning, bool PdsConfig::*field) {
  return {flag, meaning,
          [=](PdsConfig& c, const std::string& v) { return parse_bool(v, c.*field); },
          [=](const PdsConfig& c) { return std::string(c.*field ? "true" : "false"); }};
}

const std::vector<Setting>& settings() {
  static const std::vector<Setting> table = {
      text("host", "address to listen on", &PdsConfig::host),
      number<std::uint16_t>("port", "port to listen on (0: any free port)", &PdsConfig::port, 0,
                            65535),
      text("data", "folder of pds.sqlite and the blobs (created when missing)",
           &PdsConfig::data_dir),
      text("plc", "URL of the did:plc directory accounts are created at", &PdsConfig::plc_url),
      text("public-url",
           "URL clients reach this PDS at, written into DID documents "
           "(default http://localhost:PORT)",
           &PdsConfig::public_url),
      text("hostname", "the service's hostname; its DID is did:web:HOSTNAME (default localhost)",
           &PdsConfig::hostname),
      {"handle-domains", "comma-separated handle suffixes offered to new accounts",
       [](PdsConfig& c, const std::string& v) {
         c.handle_domains = split_commas(v);
         return !c.handle_domains.empty();
       },
       [](const PdsConfig& c) { return join_commas(c.handle_domains); }},
      boolean("invite-required", "createAccount needs an invite code", &PdsConfig::invite_required),
      text("admin-password", "password of the admin routes (user \"admin\"; empty disables them)",
           &PdsConfig::admin_password),
      boolean("allow-private-addresses",
              "outbound fetches may reach loopback and private addresses (tests only)",
              &PdsConfig::allow_private_addresses),
      text("lexicon-dir",
           "folder of the official lexicons (default: generated/lexicons of the source tree, "
           "written by tools/fetch-lexicons, when present)",
           &PdsConfig::lexicon_dir),
      number<std::size_t>("max-blob-bytes", "largest blob upload", &PdsConfig::max_blob_bytes, 1,
                          std::size_t{1} << 40),
      number<std::size_t>("max-request-bytes", "largest request body besides blobs and imports",
                          &PdsConfig::max_request_bytes, 1, std::size_t{1} << 40),
      number<std::size_t>("max-import-bytes", "largest importRepo body",
                          &PdsConfig::max_import_bytes, 1, std::size_t{1} << 40),
      number<int>("access-token-seconds", "lifetime of access tokens",
                  &PdsConfig::access_token_seconds, 1, 1 << 30),
      number<int>("refresh-token-seconds", "lifetime of refresh tokens",
                  &PdsConfig::refresh_token_seconds, 1, 1 << 30),
      number<int>("event-retention-hours", "how long firehose events are replayed",
                  &PdsConfig::event_retention_hours, 1, 1 << 20),
      number<int>("threads", "HTTP worker threads", &PdsConfig::threads, 1, 256),
      boolean("fsync-each-write",
              "sync every acknowledged write to disk (survives a machine crash); false: "
              "survives kill -9 of the server only, faster on slow disks",
              &PdsConfig::fsync_each_write),
  };
  return table;
}

// ATPROTO_PDS_ and the flag in upper case with '_' for '-'.
std::string env_name(const char* flag) {
  std::string out = "ATPROTO_PDS_";
  for (const char* p = flag; *p; ++p) {
    out += *p == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(*p)));
  }
  return out;
}

std::string usage() {
  PdsConfig defaults;
  std::string out =
      "usage: atproto-pds --port P --data DIR --plc URL [options]\n"
      "\n"
      "An atproto personal data server on one SQLite database, DIR/pds.sqlite.\n"
      "Prints \"listening on http://HOST:PORT\" once it serves. Each option may\n"
      "also be given as an environment variable (the flag wins).\n\n";
  for (const auto& s : settings()) {
    std::string line = "  --" + std::string(s.flag) + " VALUE";
    out += line + "\n      " + s.meaning;
    std::string shown = s.show(defaults);
    if (!shown.empty()) out += " [default: " + shown + "]";
    out += "\n      env " + env_name(s.flag) + "\n";
  }
  out +=
      "  --version\n      print the version and exit\n"
      "  -h, --help\n      this text\n";
  return out;
}

int fail_usage(const std::string& message) {
  std::cerr << "atproto-pds: " << message << "\n\n" << usage();
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  PdsConfig config;
  // The environment first, so that flags override it.
  for (const auto& s : settings()) {
    if (const char* value = std::getenv(env_name(s.flag).c_str())) {
      if (!s.set(config, value)) return fail_usage("bad value in " + env_name(s.flag));
    }
  }
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      std::cout << usage();
      return 0;
    }
    if (a == "--version") {
      std::cout << "atproto-pds " << kVersion << "\n";
      return 0;
    }
    const Setting* match = nullptr;
    for (const auto& s : settings()) {
      if (a == "--" + std::string(s.flag)) match = &s;
    }
    if (!match) return fail_usage("unknown argument " + a);
    if (i + 1 >= args.size()) return fail_usage(a + " needs a value");
    if (!match->set(config, args[++i])) return fail_usage("bad value for " + a);
  }
  if (config.data_dir.empty()) return fail_usage("--data is required");
  if (config.plc_url.empty()) return fail_usage("--plc is required");
#ifdef ATPROTO_DEFAULT_LEXICON_DIR
  // Without --lexicon-dir, the lexicons tools/fetch-lexicons wrote into this
  // source tree, when they are there: records and bodies are then checked
  // against the official schemas out of the box.
  if (config.lexicon_dir.empty() && std::filesystem::is_directory(ATPROTO_DEFAULT_LEXICON_DIR)) {
    config.lexicon_dir = ATPROTO_DEFAULT_LEXICON_DIR;
  }
#endif

  auto pds = atproto::pds::Pds::open(config);
  if (!pds) {
    std::cerr << "atproto-pds: " << pds.error().code << ": " << pds.error().message << "\n";
    return 1;
  }
  // Signals are taken by sigwait below; block them before any thread starts.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto port = (*pds)->start();
  if (!port) {
    std::cerr << "atproto-pds: cannot listen: " << port.error().message << "\n";
    return 1;
  }
  std::cout << "listening on http://" << config.host << ":" << *port << std::endl;
  int signal = 0;
  sigwait(&stop_signals, &signal);
  std::cerr << "atproto-pds: stopping (signal " << signal << ")\n";
  (*pds)->stop();
  return 0;
}

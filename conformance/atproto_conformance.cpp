// atproto-conformance: runs the conformance suites against our reference
// (in-process, the default) or against any adapter over HTTP.
// Usage: see usage() below and docs/conformance.md.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "core/exact_json.hpp"
#include "core/pds_suite.hpp"
#include "core/plc_directory.hpp"
#include "core/relay_suite.hpp"
#include "core/report.hpp"
#include "core/runner.hpp"
#include "core/suites.hpp"

#ifndef ATPROTO_SOURCE_ROOT
#define ATPROTO_SOURCE_ROOT "."
#endif

namespace {

using namespace atproto::conformance;

// The usage text; suite and profile lists come from the registry.
std::string usage_text() {
  std::string suites;
  for (const auto& info : suite_registry()) {
    suites += "                           " + info.name +
              (info.needs.empty() ? "" : " (needs " + info.needs + ")") + "\n";
  }
  std::string profiles;
  for (const auto& info : profile_registry()) {
    profiles += "                           " + info.name + "\n";
  }
  return R"(usage: atproto-conformance [options]

Target (default: our reference, in-process):
  --adapter URL          an adapter speaking the adapter protocol, e.g. http://127.0.0.1:8123
  --timeout-ms N         per-request timeout for --adapter, --plc-directory, --pds and
                         --relay, and the relay suite's longest wait for an event (default 10000)
  --plc-directory URL    a running did:plc directory, e.g. http://127.0.0.1:2582: runs the
                         plc-directory service suite against it (it creates DIDs: use a test
                         instance)
  --pds URL              a running PDS, e.g. http://127.0.0.1:2583: runs the pds service suite
                         against it (docs/pds-suite.md). It creates accounts and writes records
                         unless --read-only: use a test instance
  --relay URL            a running relay, e.g. http://127.0.0.1:2470: runs the relay service
                         suite against it (docs/relay-suite.md). The runner plays PDS hosts on
                         127.0.0.1, registers their accounts' DIDs at --plc (required: a test
                         directory, the one the relay resolves DIDs at) and asks the relay to
                         crawl them
  --plc URL              the PLC directory the PDS registers its DIDs at (default
                         https://plc.directory), for resolving the accounts' DID documents
  --read-only            write nothing: check the existing account named by --account
  --account HANDLE-OR-DID  the account --read-only checks
  --invite-code CODE     an invite code for the test accounts, when the PDS wants one
  --admin-password P     the PDS's admin password: makes invite codes when needed and deletes
                         the test accounts at the end (without it they are deactivated)
  --allow-private        let --plc-directory, --pds and --relay (and --plc) reach loopback and private
                         addresses (refused by default, as for every outbound fetch)

Selection:
  --suite NAME           suite to run; repeatable. Default: every suite with an
                         operation the target lists in /v0/capabilities. Known:
)" + suites +
         R"(  --profile NAME         which rules to check (default atproto). Known:
)" + profiles +
         R"(  --filter GLOB          only case ids matching GLOB ('*', '?'); repeatable, any may match
  --interop-tests DIR    also replay a checkout of bluesky-social/atproto-interop-tests
  --plc-interop-tests DIR  also replay the audit logs of a did-method-plc checkout
  --interop-reviews FILE decided reviews of fixture disagreements (default:
                         the source tree's conformance/interop-reviews.json)
  --list                 print every case id with its kind, level and requirements; run nothing
  --list-suites          print the suites (with --markdown: as the docs' table); run nothing

Cases:
  --seed N               seed for properties and fuzzing (default 1); printed in every report
  --property-cases N     generated inputs per property (default 100)
  --fuzz-seconds S       time budget for differential fuzzing per suite (default 2)
  --fuzz-iterations N    fixed number of fuzz inputs per suite instead (deterministic)

Grading and output:
  --expect-fail FILE     known divergences, "<case-id> <reason>" per line
  --strict               "should" violations fail the run too
  --format F             text, json, junit, tap or html; repeatable
  --out FILE             where the preceding --format goes (default: stdout)
  --vectors DIR          vector folder (default: the source tree's vectors/)
  --spec DIR             requirement catalog folder (default: spec/requirements)

Exit status: 0 when cases ran and nothing unexpected failed; 1 when something
failed or no case ran (every case skipped); 2 on usage and set-up errors
(a --filter that matches no case included).
)";
}

struct Output {
  ReportFormat format;
  std::string path;  // "" = stdout
};

bool parse_number(const std::string& s, double& out) {
  try {
    std::size_t used = 0;
    out = std::stod(s, &used);
    return used == s.size() && out >= 0;
  } catch (...) {
    return false;
  }
}

int usage_error(const std::string& message) {
  std::cerr << "atproto-conformance: " << message << "\n\n" << usage_text();
  return 2;
}

// --list-suites: the registry, with the operations each suite's cases use
// (built, so the list cannot drift from the cases) and whether the codec
// profile keeps any of them. With `markdown`, the table of
// docs/conformance.md, which a test compares with this output.
void write_suite_list(const SuiteSources& sources, const Catalog& catalog, bool markdown,
                      std::ostream& out) {
  if (markdown) {
    out << "| suite | operations | `--profile codec` | what it checks |\n";
    out << "|---|---|---|---|\n";
  }
  for (const auto& info : suite_registry()) {
    std::vector<std::string> operations;
    bool codec = false;
    std::vector<Case> built;
    if (info.name == "plc-directory") {
      built = build_plc_directory_suite(catalog);
    } else if (info.name == "pds") {
      built = build_pds_suite(catalog, PdsSuiteOptions{});
    } else if (info.name == "relay") {
      built = build_relay_suite(catalog, RelaySuiteOptions{});
    } else if (info.needs.empty()) {
      if (auto r = build_suite(info.name, sources, catalog)) built = std::move(r).value();
    }
    {
      for (const auto& c : built) {
        if (!c.operation.empty() &&
            std::find(operations.begin(), operations.end(), c.operation) == operations.end()) {
          operations.push_back(c.operation);
        }
        codec = codec || in_profile("codec", c);
      }
    }
    std::string ops;
    for (const auto& op : operations) {
      ops += (ops.empty() ? "" : markdown ? ", " : ",") + (markdown ? "`" + op + "`" : op);
    }
    if (ops.empty()) ops = "those of the files (needs " + info.needs + ")";
    if (markdown) {
      out << "| `" << info.name << "` | " << ops << " | " << (codec ? "yes" : "no") << " | "
          << info.summary << " |\n";
    } else {
      out << info.name << "\t" << ops << "\t" << info.summary << "\n";
    }
  }
}

// Long reproduction commands are hard to read and to paste: a request body
// longer than this goes to a file next to the report, and the command reads
// it from there.
constexpr std::size_t kInlineBodyLimit = 400;

void shorten_reproductions(RunSummary& summary, const Target& target,
                           const std::vector<Output>& outputs) {
  std::string dir = "conformance-requests";
  for (const auto& o : outputs) {
    if (!o.path.empty()) {
      dir = o.path + ".requests";
      break;
    }
  }
  bool made = false;
  for (auto& r : summary.results) {
    if (r.reproduce.empty()) continue;
    std::string body = target.request_body(r.verdict.sent);
    if (body.size() <= kInlineBodyLimit) continue;
    std::string name;
    for (char ch : r.test_case->id) {
      bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                   (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_';
      name += plain ? ch : '_';
    }
    std::error_code ec;
    if (!made) std::filesystem::create_directories(dir, ec);
    made = true;
    std::string path = dir + "/" + name + ".json";
    std::ofstream file(path, std::ios::binary);
    if (!(file << body)) continue;  // keep the inline command
    r.reproduce = target.reproduce_command(r.verdict.operation, r.verdict.sent, path);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string adapter;
  int timeout_ms = 10000;
  std::vector<std::string> suites;
  std::vector<std::string> filters;
  std::string interop_dir;
  std::string plc_interop_dir;
  std::string plc_directory;
  std::string pds;
  PdsSuiteOptions pds_options;
  std::string relay;
  bool plc_given = false;
  bool allow_private = false;
  std::string interop_reviews =
      std::string(ATPROTO_SOURCE_ROOT) + "/conformance/interop-reviews.json";
  bool list = false;
  bool list_suites = false;
  bool markdown = false;
  std::string profile = "atproto";
  RunOptions options;
  std::string expect_file;
  std::vector<Output> outputs;
  std::string vectors_dir = std::string(ATPROTO_SOURCE_ROOT) + "/vectors";
  std::string spec_dir = std::string(ATPROTO_SOURCE_ROOT) + "/spec/requirements";

  std::vector<std::string> args(argv + 1, argv + argc);
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= args.size()) return false;
      out = args[++i];
      return true;
    };
    std::string v;
    double number = 0;
    if (a == "-h" || a == "--help") {
      std::cout << usage_text();
      return 0;
    } else if (a == "--adapter") {
      if (!value(adapter)) return usage_error("--adapter needs a URL");
    } else if (a == "--timeout-ms") {
      if (!value(v) || !parse_number(v, number)) return usage_error("--timeout-ms needs a number");
      timeout_ms = static_cast<int>(number);
    } else if (a == "--suite") {
      if (!value(v)) return usage_error("--suite needs a name");
      suites.push_back(v);
    } else if (a == "--filter") {
      if (!value(v)) return usage_error("--filter needs a glob");
      filters.push_back(v);
    } else if (a == "--interop-tests") {
      if (!value(interop_dir)) return usage_error("--interop-tests needs a folder");
    } else if (a == "--plc-directory") {
      if (!value(plc_directory)) return usage_error("--plc-directory needs a URL");
    } else if (a == "--pds") {
      if (!value(pds)) return usage_error("--pds needs a URL");
    } else if (a == "--relay") {
      if (!value(relay)) return usage_error("--relay needs a URL");
    } else if (a == "--plc") {
      if (!value(pds_options.plc_url)) return usage_error("--plc needs a URL");
      plc_given = true;
    } else if (a == "--read-only") {
      pds_options.read_only = true;
    } else if (a == "--account") {
      if (!value(pds_options.account)) return usage_error("--account needs a handle or DID");
    } else if (a == "--invite-code") {
      if (!value(pds_options.invite_code)) return usage_error("--invite-code needs a code");
    } else if (a == "--admin-password") {
      if (!value(pds_options.admin_password)) return usage_error("--admin-password needs a value");
    } else if (a == "--allow-private") {
      allow_private = true;
    } else if (a == "--plc-interop-tests") {
      if (!value(plc_interop_dir)) return usage_error("--plc-interop-tests needs a folder");
    } else if (a == "--interop-reviews") {
      if (!value(interop_reviews)) return usage_error("--interop-reviews needs a file");
    } else if (a == "--list") {
      list = true;
    } else if (a == "--list-suites") {
      list_suites = true;
    } else if (a == "--markdown") {
      markdown = true;
    } else if (a == "--profile") {
      if (!value(profile)) return usage_error("--profile needs a name");
    } else if (a == "--seed") {
      if (!value(v) || v.empty() || v.find_first_not_of("0123456789") != std::string::npos ||
          v.size() > 19) {
        return usage_error("--seed needs a whole number");
      }
      options.seed = static_cast<std::uint64_t>(std::stoull(v));
    } else if (a == "--property-cases") {
      if (!value(v) || !parse_number(v, number))
        return usage_error("--property-cases needs a number");
      options.property_cases = static_cast<int>(number);
    } else if (a == "--fuzz-seconds") {
      if (!value(v) || !parse_number(v, number))
        return usage_error("--fuzz-seconds needs a number");
      options.fuzz_seconds = number;
    } else if (a == "--fuzz-iterations") {
      if (!value(v) || !parse_number(v, number))
        return usage_error("--fuzz-iterations needs a number");
      options.fuzz_iterations = static_cast<std::uint64_t>(number);
    } else if (a == "--expect-fail") {
      if (!value(expect_file)) return usage_error("--expect-fail needs a file");
    } else if (a == "--strict") {
      options.strict = true;
    } else if (a == "--format") {
      if (!value(v)) return usage_error("--format needs a name");
      auto f = report_format_from_name(v);
      if (!f) return usage_error("unknown format " + v + " (text, json, junit, tap, html)");
      outputs.push_back({*f, ""});
    } else if (a == "--out") {
      if (!value(v)) return usage_error("--out needs a file");
      if (outputs.empty()) outputs.push_back({ReportFormat::kText, ""});
      if (!outputs.back().path.empty()) return usage_error("each --out follows its own --format");
      outputs.back().path = v;
    } else if (a == "--vectors") {
      if (!value(vectors_dir)) return usage_error("--vectors needs a folder");
    } else if (a == "--spec") {
      if (!value(spec_dir)) return usage_error("--spec needs a folder");
    } else {
      return usage_error("unknown argument " + a);
    }
  }
  if (std::none_of(profile_registry().begin(), profile_registry().end(),
                   [&](const ProfileInfo& p) { return p.name == profile; })) {
    return usage_error("unknown profile " + profile);
  }
  for (const auto& name : suites) {
    if (std::find(suite_names().begin(), suite_names().end(), name) == suite_names().end()) {
      return usage_error("unknown suite " + name);
    }
    if (name == "interop" && interop_dir.empty() && plc_interop_dir.empty()) {
      return usage_error("the interop suite needs --interop-tests DIR or --plc-interop-tests DIR");
    }
  }
  // The plc-directory suite drives a running directory, not an adapter.
  bool plc_suite = std::find(suites.begin(), suites.end(), "plc-directory") != suites.end();
  if (!plc_directory.empty()) {
    if (!adapter.empty()) return usage_error("--plc-directory and --adapter are separate runs");
    if (suites.empty()) suites.push_back("plc-directory");
    if (suites.size() != 1 || suites[0] != "plc-directory") {
      return usage_error("--plc-directory runs the plc-directory suite only");
    }
  } else if (plc_suite && !list) {
    return usage_error("the plc-directory suite needs --plc-directory URL");
  }
  // The pds suite drives a running PDS, likewise.
  bool pds_suite = std::find(suites.begin(), suites.end(), "pds") != suites.end();
  if (!pds.empty()) {
    if (!adapter.empty() || !plc_directory.empty()) {
      return usage_error("--pds, --plc-directory and --adapter are separate runs");
    }
    if (suites.empty()) suites.push_back("pds");
    if (suites.size() != 1 || suites[0] != "pds")
      return usage_error("--pds runs the pds suite only");
    if (pds_options.read_only && pds_options.account.empty()) {
      return usage_error("--read-only needs --account HANDLE-OR-DID");
    }
    if (!pds_options.read_only && !pds_options.account.empty()) {
      return usage_error("--account goes with --read-only (write mode makes its own accounts)");
    }
  } else if (pds_suite && !list) {
    return usage_error("the pds suite needs --pds URL");
  }
  pds_options.allow_private_addresses = allow_private;
  pds_options.timeout_ms = timeout_ms;
  // The relay suite drives a running relay, likewise; it writes DIDs to the
  // directory, so that one is never the default plc.directory.
  bool relay_suite = std::find(suites.begin(), suites.end(), "relay") != suites.end();
  if (!relay.empty()) {
    if (!adapter.empty() || !plc_directory.empty() || !pds.empty()) {
      return usage_error("--relay, --pds, --plc-directory and --adapter are separate runs");
    }
    if (suites.empty()) suites.push_back("relay");
    if (suites.size() != 1 || suites[0] != "relay") {
      return usage_error("--relay runs the relay suite only");
    }
    if (!plc_given && !list) {
      return usage_error(
          "--relay needs --plc URL, the (test) PLC directory the relay resolves "
          "DIDs at");
    }
  } else if (relay_suite && !list) {
    return usage_error("the relay suite needs --relay URL");
  }
  RelaySuiteOptions relay_options;
  relay_options.plc_url = plc_given ? pds_options.plc_url : "";
  relay_options.allow_private_addresses = allow_private;
  relay_options.timeout_ms = timeout_ms;
  if (markdown && !list_suites) return usage_error("--markdown goes with --list-suites");
  if (outputs.empty()) outputs.push_back({ReportFormat::kText, ""});

  Catalog catalog;
  if (std::string err = catalog.load(spec_dir); !err.empty()) {
    std::cerr << "atproto-conformance: " << err << "\n";
    return 2;
  }
  SuiteSources sources{vectors_dir, interop_dir, plc_interop_dir, interop_reviews};
  if (list_suites) {
    write_suite_list(sources, catalog, markdown, std::cout);
    return 0;
  }

  // The target first: without --suite, its capabilities choose the suites.
  std::unique_ptr<Target> target =
      !pds.empty()     ? make_pds_target(pds, timeout_ms, allow_private)
      : !relay.empty() ? make_relay_target(relay, timeout_ms, allow_private)
      : !plc_directory.empty()
          ? make_plc_directory_target(plc_directory, timeout_ms, allow_private)
          : (adapter.empty() ? make_reference_target() : make_http_target(adapter, timeout_ms));
  Capabilities capabilities;
  Response caps = target->capabilities();
  if (!caps.ok() && !pds.empty()) {
    std::cerr << "atproto-conformance: cannot reach the PDS " << pds << ": " << caps.transport_error
              << "\n";
    if (caps.transport_error.rfind("fetch.address-refused", 0) == 0) {
      std::cerr << "atproto-conformance: a local PDS needs --allow-private\n";
    }
    return 2;
  }
  if (!caps.ok() && !relay.empty()) {
    std::cerr << "atproto-conformance: cannot reach the relay " << relay << ": "
              << caps.transport_error << "\n";
    if (caps.transport_error.rfind("fetch.address-refused", 0) == 0) {
      std::cerr << "atproto-conformance: a local relay needs --allow-private\n";
    }
    return 2;
  }
  if (!caps.ok() && !plc_directory.empty()) {
    std::cerr << "atproto-conformance: cannot reach the PLC directory " << plc_directory << ": "
              << caps.transport_error << "\n";
    if (caps.transport_error.rfind("fetch.address-refused", 0) == 0) {
      std::cerr << "atproto-conformance: a local directory needs --allow-private\n";
    }
    return 2;
  }
  if (!caps.ok()) {
    std::cerr << "atproto-conformance: cannot read " << adapter << "/v0/capabilities: "
              << (caps.transport_error.empty() ? "HTTP " + std::to_string(caps.status)
                                               : caps.transport_error)
              << "\n";
    return 2;
  }
  if (caps.body.is_object() && caps.body.contains("operations") &&
      caps.body["operations"].is_array()) {
    for (const auto& op : caps.body["operations"]) {
      if (op.is_string()) capabilities.operations.push_back(op.get<std::string>());
    }
  }

  const bool chosen_by_capabilities = suites.empty();
  if (chosen_by_capabilities) {
    for (const auto& info : suite_registry()) {
      if (info.needs.empty() ||
          (info.name == "interop" && (!interop_dir.empty() || !plc_interop_dir.empty()))) {
        suites.push_back(info.name);
      }
    }
  } else if ((!interop_dir.empty() || !plc_interop_dir.empty()) &&
             std::find(suites.begin(), suites.end(), "interop") == suites.end()) {
    suites.push_back("interop");
  }

  std::vector<Case> cases;
  std::vector<std::string> selected;  // suites whose cases are in `cases`
  std::set<std::string> known_ids;    // every case of the selected suites
  std::vector<std::size_t> filter_hits(filters.size(), 0);
  for (const auto& name : suites) {
    auto built = name == "plc-directory"
                     ? atproto::Result<std::vector<Case>>(build_plc_directory_suite(catalog))
                 : name == "pds"
                     ? atproto::Result<std::vector<Case>>(build_pds_suite(catalog, pds_options))
                 : name == "relay"
                     ? atproto::Result<std::vector<Case>>(build_relay_suite(catalog, relay_options))
                     : build_suite(name, sources, catalog);
    if (!built) {
      std::cerr << "atproto-conformance: suite " << name << ": " << built.error().message << "\n";
      return 2;
    }
    std::vector<Case> in_scope;
    for (auto& c : built.value()) {
      if (in_profile(profile, c)) in_scope.push_back(std::move(c));
    }
    if (chosen_by_capabilities) {
      bool usable = std::any_of(in_scope.begin(), in_scope.end(),
                                [&](const Case& c) { return capabilities.supports(c.operation); });
      if (!usable) continue;
    } else if (in_scope.empty()) {
      std::cerr << "atproto-conformance: suite " << name << " has no case in profile " << profile
                << "\n";
      return 2;
    }
    selected.push_back(name);
    for (auto& c : in_scope) {
      known_ids.insert(c.id);
      bool keep = filters.empty();
      for (std::size_t f = 0; f < filters.size(); ++f) {
        if (glob_match(filters[f], c.id)) {
          keep = true;
          ++filter_hits[f];
        }
      }
      if (keep) cases.push_back(std::move(c));
    }
  }
  if (selected.empty()) {
    std::string listed;
    for (const auto& op : capabilities.operations) listed += (listed.empty() ? "" : ", ") + op;
    std::cerr << "atproto-conformance: no suite applies: the target's /v0/capabilities lists "
              << (listed.empty() ? "no operation" : listed) << ", and no suite"
              << (profile == "atproto" ? "" : " of profile " + profile)
              << " uses any of them (operation names: docs/adapter-protocol.md; suites: "
                 "--list-suites)\n";
    return 2;
  }
  for (std::size_t f = 0; f < filters.size(); ++f) {
    if (filter_hits[f] != 0) continue;
    std::string hint;
    std::string prefix = filters[f].substr(0, filters[f].find('.'));
    if (std::find(suite_names().begin(), suite_names().end(), prefix) != suite_names().end() &&
        std::find(selected.begin(), selected.end(), prefix) == selected.end()) {
      hint = "; the " + prefix + " suite is not selected (add --suite " + prefix + ")";
    }
    std::string names;
    for (const auto& n : selected) names += (names.empty() ? "" : ", ") + n;
    std::cerr << "atproto-conformance: --filter '" << filters[f]
              << "' matches no case of the suites run (" << names << ")" << hint
              << "; --list shows the case ids\n";
    return 2;
  }
  if (list) {
    write_case_list(cases, std::cout);
    return 0;
  }
  Expectations expectations;
  if (!expect_file.empty()) {
    if (std::string err = expectations.load(expect_file); !err.empty()) {
      std::cerr << "atproto-conformance: " << err << "\n";
      return 2;
    }
  }

  // A progress line on a terminal only; nothing but the report otherwise.
  if (isatty(STDERR_FILENO)) {
    options.progress = [](std::size_t done, std::size_t total, const CaseResult& r) {
      std::fprintf(stderr, "\r\033[K[%zu/%zu] %.60s", done, total, r.test_case->id.c_str());
      if (done == total) std::fprintf(stderr, "\r\033[K");
      std::fflush(stderr);
    };
  }
  RunSummary summary = run_cases(*target, cases, expectations, options);
  summary.profile = profile;
  // Entries for suites that did not run, or for cases filtered out, say so
  // or stay quiet; an id no selected suite has is worth a warning (typos,
  // cases renamed upstream).
  for (const auto& entry : expectations.reasons) {
    const std::string& id = entry.first;
    std::string suite = id.substr(0, id.find('.'));
    bool known_suite =
        std::find(suite_names().begin(), suite_names().end(), suite) != suite_names().end();
    if (known_suite && std::find(selected.begin(), selected.end(), suite) == selected.end()) {
      std::cerr << "atproto-conformance: note: expected failure " << id << ": suite " << suite
                << " was not run\n";
    } else if (known_ids.count(id) == 0 && profile == "atproto") {
      std::cerr << "atproto-conformance: warning: expected failure " << id << " matches no case\n";
    }
  }
  shorten_reproductions(summary, *target, outputs);
  for (const auto& o : outputs) {
    if (o.path.empty()) {
      write_report(o.format, summary, catalog, std::cout);
    } else {
      std::ofstream file(o.path);
      if (!file) {
        std::cerr << "atproto-conformance: cannot write " << o.path << "\n";
        return 2;
      }
      write_report(o.format, summary, catalog, file);
    }
  }
  std::size_t ran = summary.results.size() - summary.count(Outcome::kSkipped);
  if (ran == 0) {
    // A run that checked nothing must not look green in a CI.
    std::cerr << "atproto-conformance: no case ran: all " << summary.results.size()
              << " selected cases were skipped, since the target does not support their "
                 "operations (see the skipped section of the report); this run checked "
                 "nothing\n";
    return 1;
  }
  return summary.failed() ? 1 : 0;
}

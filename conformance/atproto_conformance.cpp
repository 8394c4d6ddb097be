// atproto-conformance: runs the conformance suites against our reference
// (in-process, the default) or against any adapter over HTTP.
// Usage: see usage() below and docs/conformance.md.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "core/report.hpp"
#include "core/runner.hpp"
#include "core/suites.hpp"

#ifndef ATPROTO_SOURCE_ROOT
#define ATPROTO_SOURCE_ROOT "."
#endif

namespace {

using namespace atproto::conformance;

const char* kUsage = R"(usage: atproto-conformance [options]

Target (default: our reference, in-process):
  --adapter URL          an adapter speaking the adapter protocol, e.g. http://127.0.0.1:8123
  --timeout-ms N         per-request timeout for --adapter (default 10000)

Selection:
  --suite NAME           suite to run; repeatable (default: syntax). Known: syntax, data, car, crypto, mst, repo, lexicon, plc, interop
  --filter GLOB          only case ids matching GLOB ('*', '?'); repeatable, any may match
  --interop-tests DIR    also replay a checkout of bluesky-social/atproto-interop-tests
  --list                 print every case id with its kind, level and requirements; run nothing

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

Exit status: 0 when nothing unexpected failed, 1 otherwise, 2 on usage errors.
)";

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
  std::cerr << "atproto-conformance: " << message << "\n\n" << kUsage;
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string adapter;
  int timeout_ms = 10000;
  std::vector<std::string> suites;
  std::vector<std::string> filters;
  std::string interop_dir;
  bool list = false;
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
      std::cout << kUsage;
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
    } else if (a == "--list") {
      list = true;
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
  if (suites.empty()) suites.push_back("syntax");
  if (!interop_dir.empty() && std::find(suites.begin(), suites.end(), "interop") == suites.end()) {
    suites.push_back("interop");
  }
  if (outputs.empty()) outputs.push_back({ReportFormat::kText, ""});

  Catalog catalog;
  if (std::string err = catalog.load(spec_dir); !err.empty()) {
    std::cerr << "atproto-conformance: " << err << "\n";
    return 2;
  }
  SuiteSources sources{vectors_dir, interop_dir};
  std::vector<Case> cases;
  for (const auto& name : suites) {
    if (name == "interop" && interop_dir.empty()) {
      return usage_error("the interop suite needs --interop-tests DIR");
    }
    std::string err;
    auto built = build_suite(name, sources, catalog, err);
    if (!err.empty()) {
      std::cerr << "atproto-conformance: suite " << name << ": " << err << "\n";
      return 2;
    }
    for (auto& c : built) {
      bool keep = filters.empty();
      for (const auto& f : filters) keep = keep || glob_match(f, c.id);
      if (keep) cases.push_back(std::move(c));
    }
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

  std::unique_ptr<Target> target =
      adapter.empty() ? make_reference_target() : make_http_target(adapter, timeout_ms);
  if (!adapter.empty()) {
    Response caps = target->capabilities();
    if (!caps.ok()) {
      std::cerr << "atproto-conformance: cannot read " << adapter << "/v0/capabilities: "
                << (caps.transport_error.empty() ? "HTTP " + std::to_string(caps.status)
                                                 : caps.transport_error)
                << "\n";
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
  // Expected failures for cases that were filtered out are not reported;
  // listed ids that match no case at all are worth a warning.
  for (const auto& entry : expectations.reasons) {
    const std::string& id = entry.first;
    bool found = std::any_of(cases.begin(), cases.end(), [&](const Case& c) { return c.id == id; });
    if (!found && filters.empty()) {
      std::cerr << "atproto-conformance: warning: expected failure " << id << " matches no case\n";
    }
  }
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
  return summary.failed() ? 1 : 0;
}

#include "runner.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace atproto::conformance {

std::string_view level_name(Level level) {
  switch (level) {
    case Level::kMust:
      return "must";
    case Level::kShould:
      return "should";
    case Level::kMay:
      return "may";
  }
  return "must";
}

std::string_view case_kind_name(CaseKind kind) {
  switch (kind) {
    case CaseKind::kVector:
      return "vector";
    case CaseKind::kProperty:
      return "property";
    case CaseKind::kFuzz:
      return "fuzz";
    case CaseKind::kInterop:
      return "interop";
    case CaseKind::kService:
      return "service";
  }
  return "vector";
}

std::string_view outcome_name(Outcome outcome) {
  switch (outcome) {
    case Outcome::kPass:
      return "pass";
    case Outcome::kFail:
      return "fail";
    case Outcome::kNonStrict:
      return "non-strict";
    case Outcome::kInformational:
      return "informational";
    case Outcome::kSkipped:
      return "skipped";
    case Outcome::kExpectedFail:
      return "expected-fail";
    case Outcome::kUnexpectedPass:
      return "unexpected-pass";
  }
  return "fail";
}

bool outcome_fails_run(Outcome outcome, bool strict) {
  return outcome == Outcome::kFail || outcome == Outcome::kUnexpectedPass ||
         (strict && outcome == Outcome::kNonStrict);
}

std::size_t RunSummary::count(Outcome outcome) const {
  std::size_t n = 0;
  for (const auto& r : results) n += r.outcome == outcome ? 1 : 0;
  return n;
}

bool RunSummary::failed() const {
  for (const auto& r : results) {
    if (outcome_fails_run(r.outcome, strict)) return true;
  }
  return false;
}

std::string Catalog::load(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return "requirement catalog not found at " + dir;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    std::ifstream in(entry.path());
    json doc = json::parse(in, nullptr, false);
    if (doc.is_discarded() || !doc.contains("requirements")) {
      return "malformed catalog file " + entry.path().string();
    }
    std::string page_url = doc.value("url", "");
    for (const auto& r : doc["requirements"]) {
      Requirement req;
      req.id = r.value("id", "");
      std::string level = r.value("level", "must");
      req.level = level == "should" ? Level::kShould : level == "may" ? Level::kMay : Level::kMust;
      req.url = r.value("page_url", page_url) + "#" + r.value("section", "");
      req.text = r.value("text", "");
      by_id_[req.id] = req;
    }
  }
  return "";
}

const Requirement* Catalog::find(const std::string& id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &it->second;
}

std::string Expectations::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return "cannot read expected-failures file " + path;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == '#') continue;
    std::size_t space = line.find_first_of(" \t", start);
    std::string id = line.substr(start, space == std::string::npos ? space : space - start);
    std::string reason;
    if (space != std::string::npos) {
      std::size_t r = line.find_first_not_of(" \t", space);
      if (r != std::string::npos) reason = line.substr(r);
    }
    if (reason.empty()) {
      return path + ":" + std::to_string(number) + ": entry for " + id + " has no reason";
    }
    reasons[id] = reason;
  }
  return "";
}

bool glob_match(std::string_view pattern, std::string_view text) {
  // Iterative wildcard match with backtracking to the last '*'.
  std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

namespace {

Outcome grade(const Case& c, const Verdict& v, bool strict) {
  (void)strict;
  switch (v.state) {
    case Verdict::State::kPass:
      return Outcome::kPass;
    case Verdict::State::kUnsupported:
      return Outcome::kSkipped;
    case Verdict::State::kAdapterError:
      return Outcome::kFail;
    case Verdict::State::kMismatch:
      break;
  }
  switch (v.level.value_or(c.level)) {
    case Level::kMust:
      return Outcome::kFail;
    case Level::kShould:
      return Outcome::kNonStrict;
    case Level::kMay:
      return Outcome::kInformational;
  }
  return Outcome::kFail;
}

}  // namespace

RunSummary run_cases(Target& target, const std::vector<Case>& cases,
                     const Expectations& expectations, const RunOptions& options) {
  RunSummary summary;
  summary.target = target.description();
  summary.seed = options.seed;
  summary.strict = options.strict;
  auto started = std::chrono::steady_clock::now();

  Response caps = target.capabilities();
  Capabilities capabilities;
  if (caps.ok() && caps.body.is_object()) {
    capabilities.name = caps.body.value("name", "");
    capabilities.version = caps.body.value("version", "");
    if (caps.body.contains("operations") && caps.body["operations"].is_array()) {
      for (const auto& op : caps.body["operations"]) {
        if (op.is_string()) capabilities.operations.push_back(op.get<std::string>());
      }
    }
  }
  summary.target_name = capabilities.name;
  summary.target_version = capabilities.version;

  RunContext context{target, options.seed, options.property_cases, options.fuzz_seconds,
                     options.fuzz_iterations};
  summary.results.reserve(cases.size());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    CaseResult result;
    result.test_case = &c;
    auto case_start = std::chrono::steady_clock::now();
    if (!c.not_run_reason.empty()) {
      result.verdict.state = Verdict::State::kUnsupported;
      result.verdict.message = c.not_run_reason;
    } else if (!capabilities.supports(c.operation)) {
      // Confirmed unsupported through /v0/capabilities: never a failure.
      result.verdict.state = Verdict::State::kUnsupported;
      result.verdict.operation = c.operation;
      result.verdict.message = "the adapter does not list " + c.operation + " in /v0/capabilities";
    } else {
      result.verdict = c.run(context);
    }
    result.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - case_start).count();
    result.outcome = grade(c, result.verdict, options.strict);
    if (auto it = expectations.reasons.find(c.id); it != expectations.reasons.end()) {
      result.expectation_reason = it->second;
      if (result.outcome == Outcome::kPass) {
        result.outcome = Outcome::kUnexpectedPass;
      } else if (result.outcome != Outcome::kSkipped) {
        result.outcome = Outcome::kExpectedFail;
      }
    }
    if (result.verdict.state != Verdict::State::kPass && !result.verdict.sent.is_null()) {
      result.reproduce =
          target.reproduce_command(result.verdict.operation, result.verdict.sent, "");
    }
    summary.results.push_back(std::move(result));
    if (options.progress) options.progress(i + 1, cases.size(), summary.results.back());
  }
  summary.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return summary;
}

}  // namespace atproto::conformance

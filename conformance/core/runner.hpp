// Running cases against a target and grading the results.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "model.hpp"

namespace atproto::conformance {

// Known divergences pinned by a CI: case id -> reason. File format: one
// entry per line, "<case-id> <reason>", '#' starts a comment line; every
// entry needs a reason.
struct Expectations {
  std::map<std::string, std::string> reasons;
  // Returns "" or an error message naming the offending line.
  std::string load(const std::string& path);
};

struct RunOptions {
  std::uint64_t seed = 1;
  int property_cases = 100;
  double fuzz_seconds = 2.0;
  std::uint64_t fuzz_iterations = 0;
  bool strict = false;
  // Called after each case (for a progress line).
  std::function<void(std::size_t done, std::size_t total, const CaseResult&)> progress;
};

// Shell-style glob on case ids: '*' any run, '?' one character.
bool glob_match(std::string_view pattern, std::string_view text);

RunSummary run_cases(Target& target, const std::vector<Case>& cases,
                     const Expectations& expectations, const RunOptions& options);

}  // namespace atproto::conformance

// The conformance model: requirements, cases, verdicts and graded results.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "target.hpp"

namespace atproto::conformance {

// Requirement levels, as the catalog writes them.
enum class Level { kMust, kShould, kMay };
std::string_view level_name(Level level);

struct Requirement {
  std::string id;
  Level level = Level::kMust;
  std::string url;  // spec page URL with the section anchor
  std::string text;
};

// spec/requirements/*.json, indexed by id.
class Catalog {
 public:
  // Loads every *.json in dir; returns an error message or "" on success.
  std::string load(const std::string& dir);
  const Requirement* find(const std::string& id) const;
  std::size_t size() const { return by_id_.size(); }

 private:
  std::map<std::string, Requirement> by_id_;
};

// kService: a case that drives a running server over its own API.
enum class CaseKind { kVector, kProperty, kFuzz, kInterop, kService };
std::string_view case_kind_name(CaseKind kind);

// What one case observed. A case may make many calls (properties, fuzz);
// the exchange shown is the one that failed, or the last one.
struct Verdict {
  enum class State { kPass, kMismatch, kAdapterError, kUnsupported };
  State state = State::kPass;
  std::string message;  // what went wrong, for people
  std::string operation;
  json sent;
  json expected;
  json received;
  int http_status = 0;
  // For property and fuzz cases: a minimized input written as a vector case
  // that can be pasted into vectors/<suite>/.
  json suggested_vector;
  std::uint64_t calls = 0;
  // For generated inputs the rule at stake is only known once a
  // disagreement is found: the level of the rule the reference says was
  // broken. Overrides Case::level when set.
  std::optional<Level> level;
};

struct RunContext {
  Target& target;
  std::uint64_t seed = 1;
  int property_cases = 100;
  double fuzz_seconds = 2.0;
  std::uint64_t fuzz_iterations = 0;  // 0: bounded by time only
};

struct Case {
  std::string id;  // stable across runs and releases
  std::string suite;
  CaseKind kind = CaseKind::kVector;
  std::vector<std::string> requirements;
  Level level = Level::kMust;
  std::string operation;  // the adapter operation the case needs
  std::string description;
  // Whether the reference judges this case's generated inputs by atproto's
  // record rules too (a top-level object, $type, blobs, the commit root), so
  // that a library of only the codec would disagree for reasons outside the
  // "codec" profile (registry.cpp).
  bool oracle_applies_record_rules = false;
  // Set for a vector that no adapter operation can carry: the case is
  // reported skipped with this reason and never sent.
  std::string not_run_reason;
  std::function<Verdict(RunContext&)> run;
};

// Graded outcome of one case after levels, --strict and expectations.
enum class Outcome {
  kPass,
  kFail,            // a "must" is broken, or the adapter itself failed
  kNonStrict,       // a "should" is not followed (fails only with --strict)
  kInformational,   // behaviour the spec leaves open ("may")
  kSkipped,         // the adapter does not support the operation
  kExpectedFail,    // failed, and listed in the expected-failures file
  kUnexpectedPass,  // listed as an expected failure, but passed
};
std::string_view outcome_name(Outcome outcome);
// Whether this outcome makes the run fail.
bool outcome_fails_run(Outcome outcome, bool strict);

struct CaseResult {
  const Case* test_case = nullptr;
  Outcome outcome = Outcome::kPass;
  Verdict verdict;
  std::string expectation_reason;  // from the expected-failures file
  std::string reproduce;           // one-line command, when the target has one
  double seconds = 0;
};

struct RunSummary {
  std::string target;
  std::string profile = "atproto";
  std::string target_name;
  std::string target_version;
  std::uint64_t seed = 0;
  bool strict = false;
  std::vector<CaseResult> results;
  double seconds = 0;

  std::size_t count(Outcome outcome) const;
  bool failed() const;
};

}  // namespace atproto::conformance

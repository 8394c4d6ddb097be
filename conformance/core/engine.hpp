// The case engine: the loops every generated case shares, whatever it tests.
//
// A property draws inputs from a RapidCheck generator, has each checked
// against the target (the reference is the oracle), and shrinks the first
// disagreement to a small input. A fuzz case mutates seed inputs for a time
// or iteration budget and lists up to ten disagreements as vector cases.
// A suite plugs in what differs: the generator (or the seeds and the
// mutation), the checker that turns one input into a Verdict, the shrinker,
// and how a finding is written up. Library suites use it over the adapter
// protocol; service suites (PLC directory, PDS, relay) plug in checkers that
// speak XRPC instead.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <rapidcheck.h>

#include "model.hpp"

namespace atproto::conformance::engine {

// Whether a verdict is a disagreement worth shrinking and reporting: a
// different answer, or a malformed one (adapter errors are minimized too).
bool disagrees(const Verdict& v);

// Reads the framing every adapter answer shares: fills http_status and
// received, and returns false with the verdict set when there is no result
// to compare (no answer at all: adapter error; HTTP 501: unsupported, with
// `unsupported` as the message).
bool answered(const Response& r, Verdict& v,
              const std::string& unsupported = "the adapter answered 501 for this input");

// Reads an answer of the form {"valid": bool, ...} (the lexicon and plc
// operations): the shared framing above, HTTP 404 or 501 as unsupported, and
// any other shape as an adapter error. Returns the body when it holds a
// verdict, nullptr otherwise (with the verdict set).
const json* verdict_answer(const Response& r, Verdict& v);

// One random edit of a byte string: replace a byte, flip a bit, insert a
// byte, delete a byte, or (with may_truncate) cut the string short.
void mutate_bytes(std::vector<std::uint8_t>& bytes, std::mt19937_64& rng,
                  bool may_truncate = false);

// A property over inputs of type T.
template <typename T>
struct Property {
  explicit Property(rc::Gen<T> gen) : generator(std::move(gen)) {}

  rc::Gen<T> generator;
  // Mixed into the run's seed so that each property draws its own inputs.
  std::uint64_t salt = 0;
  // The checker: the target's verdict on one input. kPass and kUnsupported
  // end the input's turn (kUnsupported ends the case); anything else is a
  // disagreement.
  std::function<Verdict(const T& input)> check;
  // Optional: turns the i-th generated value into the input checked (a
  // mutation of it). Derived inputs are not shrunk along the shrink tree.
  std::function<T(const T& generated, int index)> derive;
  // Optional shrinker: smaller inputs to try, in order. Without one, the
  // generator's shrink tree is followed.
  std::function<std::vector<T>(const T& input)> shrink;
  // Whether a shrink candidate's verdict still counts as the failure.
  std::function<bool(const Verdict&)> still_fails = disagrees;
  bool shrink_enabled = true;
  int shrink_steps = 200;
  // Optional: the final word on a (shrunk) disagreement: sets the level at
  // stake, the suggested vector, further minimization...
  std::function<Verdict(const T& input, Verdict v)> finish;
};

template <typename T>
Verdict run_property(RunContext& ctx, const Property<T>& p) {
  rc::Random random(ctx.seed * 0x9e3779b97f4a7c15ull + p.salt);
  for (int i = 0; i < ctx.property_cases; ++i) {
    const int size = std::min(100, i * 100 / std::max(1, ctx.property_cases - 1));
    rc::Random r = random.split();
    rc::Shrinkable<T> shrinkable = p.generator(r, size);
    T input = p.derive ? p.derive(shrinkable.value(), i) : shrinkable.value();
    Verdict v = p.check(input);
    if (v.state == Verdict::State::kUnsupported) return v;
    if (v.state == Verdict::State::kPass) continue;
    // Shrink while the disagreement persists, one accepted step at a time.
    for (int step = 0; p.shrink_enabled && !p.derive && step < p.shrink_steps; ++step) {
      bool progress = false;
      if (p.shrink) {
        for (auto& smaller : p.shrink(input)) {
          Verdict probe = p.check(smaller);
          if (p.still_fails(probe)) {
            input = std::move(smaller);
            v = std::move(probe);
            progress = true;
            break;
          }
        }
      } else {
        auto shrinks = shrinkable.shrinks();
        while (auto next = shrinks.next()) {
          Verdict probe = p.check(next->value());
          if (p.still_fails(probe)) {
            shrinkable = std::move(*next);
            input = shrinkable.value();
            v = std::move(probe);
            progress = true;
            break;
          }
        }
      }
      if (!progress) break;
    }
    return p.finish ? p.finish(input, std::move(v)) : v;
  }
  Verdict pass;
  pass.calls = static_cast<std::uint64_t>(ctx.property_cases);
  return pass;
}

// A disagreement found by fuzzing, written up by the suite.
struct Finding {
  Verdict verdict;             // shown for the case when it is the first finding
  Level level = Level::kMust;  // the level of the rule at stake
  json vector;                 // the input as a vector case; its "id" is unique per input
};

// A fuzz case over inputs of type T.
template <typename T>
struct Fuzz {
  // Seeds the mutation generator (mixed with the run's seed).
  std::uint64_t salt = 0;
  // Whether there is anything to mutate; with no seeds the case passes.
  bool has_seeds = true;
  // This case gets 1/share of the run's fuzz budget (time and iterations).
  std::size_t share = 1;
  // The next input: a seed picked and mutated with rng.
  std::function<T(std::mt19937_64& rng)> next;
  std::function<Verdict(const T& input)> check;
  // Writes up a disagreement (shrinking it first if the suite can); nullopt
  // to pass over it (e.g. it shrank to an input already reported).
  std::function<std::optional<Finding>(const T& input, Verdict v)> explain;
  // How the findings are described after their count, e.g.
  // "disagreement(s), listed as vectors".
  std::string found_note = "disagreement(s), listed as vectors";
  std::size_t max_findings = 10;
};

template <typename T>
Verdict run_fuzz(RunContext& ctx, const Fuzz<T>& f) {
  Verdict result;
  if (!f.has_seeds) return result;
  std::mt19937_64 rng(ctx.seed ^ f.salt);
  const auto share = static_cast<double>(std::max<std::size_t>(1, f.share));
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::duration<double>(ctx.fuzz_seconds / share);
  const std::uint64_t iterations =
      ctx.fuzz_iterations ? std::max<std::uint64_t>(1, ctx.fuzz_iterations / f.share) : 0;
  json found = json::array();
  std::uint64_t tried = 0;
  for (;;) {
    if (iterations ? tried >= iterations : std::chrono::steady_clock::now() >= deadline) break;
    ++tried;
    T input = f.next(rng);
    Verdict v = f.check(input);
    if (v.state == Verdict::State::kUnsupported) return v;
    if (v.state == Verdict::State::kPass) continue;
    auto finding = f.explain(input, std::move(v));
    if (!finding) continue;
    if (std::any_of(found.begin(), found.end(),
                    [&](const json& seen) { return seen["id"] == finding->vector["id"]; })) {
      continue;
    }
    if (found.empty()) result = std::move(finding->verdict);
    // The case is graded at the strongest level among its findings.
    result.level = std::min(result.level.value_or(Level::kMay), finding->level);
    found.push_back(std::move(finding->vector));
    if (found.size() >= f.max_findings) break;
  }
  result.calls = tried;
  if (found.empty()) return result;
  result.message += " (" + std::to_string(found.size()) + " " + f.found_note + ")";
  result.suggested_vector = std::move(found);
  return result;
}

}  // namespace atproto::conformance::engine

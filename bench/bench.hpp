// Shared timing loop of the C++ benches (bench/README.md describes the
// output protocol that tools/bench reads).
//
// Each measurement runs its body in batches until at least `min_seconds`
// have passed (ATPROTO_BENCH_SECONDS overrides the default of 1 s), then
// prints one JSON line:
//   {"id": "...", "what": "...", "ops": N, "seconds": S, "bytes": B,
//    "check": "...", "target_ratio": R}
// `bytes` is the input size of one operation (for MB/s), `check` a result
// both implementations must agree on (a CID, a count), `target_ratio` the
// speed-up over the TypeScript figure the issue asks for (0: none).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

namespace atproto::bench {

inline double min_seconds() {
  if (const char* env = std::getenv("ATPROTO_BENCH_SECONDS")) {
    char* end = nullptr;
    double v = std::strtod(env, &end);
    if (end != env && v > 0) return v;
  }
  return 1.0;
}

// ATPROTO_BENCH_ONLY=<prefix> limits a run to the measurements whose id
// starts with the prefix (for profiling one of them).
inline bool selected(const std::string& id) {
  const char* only = std::getenv("ATPROTO_BENCH_ONLY");
  return only == nullptr || id.rfind(only, 0) == 0;
}

// Keeps the optimizer from discarding a result that is otherwise unused.
template <typename T>
inline void keep(const T& value) {
  asm volatile("" : : "r,m"(value) : "memory");
}

struct Spec {
  std::string id;    // stable, e.g. "data.encode.post"; the TypeScript side uses the same id
  std::string what;  // a short description for the table
  std::size_t bytes = 0;
  double target_ratio = 0;
};

// Runs `body` (which returns nothing) until min_seconds() have passed and
// prints the measurement; `check` is printed as given.
template <typename Body>
void measure(const Spec& spec, const std::string& check, Body&& body) {
  if (!selected(spec.id)) return;
  using clock = std::chrono::steady_clock;
  const double budget = min_seconds();
  std::uint64_t ops = 0;
  std::uint64_t batch = 1;
  const auto start = clock::now();
  double elapsed = 0;
  while (elapsed < budget) {
    for (std::uint64_t i = 0; i < batch; ++i) body();
    ops += batch;
    elapsed = std::chrono::duration<double>(clock::now() - start).count();
    if (elapsed < budget / 10) batch *= 2;
  }
  nlohmann::json line{{"id", spec.id},
                      {"what", spec.what},
                      {"ops", ops},
                      {"seconds", elapsed},
                      {"bytes", spec.bytes},
                      {"check", check},
                      {"target_ratio", spec.target_ratio}};
  std::cout << line.dump() << std::endl;
}

// A measurement taken once (a long job such as building a large repository):
// prints ops = 1 and the elapsed time, plus any extra fields (peak memory).
inline void report_once(const Spec& spec, const std::string& check, double seconds,
                        const nlohmann::json& extra = nlohmann::json::object()) {
  nlohmann::json line{{"id", spec.id},
                      {"what", spec.what},
                      {"ops", 1},
                      {"seconds", seconds},
                      {"bytes", spec.bytes},
                      {"check", check},
                      {"target_ratio", spec.target_ratio}};
  for (const auto& [k, v] : extra.items()) line[k] = v;
  std::cout << line.dump() << std::endl;
}

}  // namespace atproto::bench

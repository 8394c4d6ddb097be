// bench-repo DIR: the repository layer next to @atproto/repo
// (bench/typescript/repo.mjs): build a 100,000-record repository in memory,
// make 1,000 single-record commits on top of it, export it as a CAR, and
// verify that CAR as an untrusted import. Records, record keys, timestamps
// and the signing key are fixed, so both sides print the same MST root.
// Writes DIR/repo.car (this side's export) for the TypeScript side to verify.
#include <sys/resource.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "atproto/common/testing.hpp"
#include "atproto/crypto/keys.hpp"
#include "atproto/repo/repository.hpp"
#include "atproto/syntax/tid.hpp"
#include "bench.hpp"

namespace {

using namespace atproto;  // NOLINT: a bench program

constexpr int kRecords = 100'000;
constexpr int kCommits = 1'000;
const std::string kDid = "did:plc:benchbenchbenchbenchbenc";
// The bench's K-256 signing key (also in repo.mjs).
const char* kKeyHex = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
constexpr std::uint64_t kBaseMicros = 1'700'000'000'000'000ULL;

std::string rkey(int i) {
  return syntax::encode_tid({kBaseMicros + static_cast<std::uint64_t>(i) * 1000, 0}).value();
}

// A short post with a fixed timestamp (also in repo.mjs).
data::Value post(int i) {
  return data::Map{{"$type", "app.bsky.feed.post"},
                   {"text", "bench post number " + std::to_string(i)},
                   {"createdAt", "2023-11-14T22:13:20.000Z"}};
}

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

using atproto::testing::hex_bytes;

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: bench-repo DIR\n";
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir);
  using clock = std::chrono::steady_clock;
  auto seconds_since = [](clock::time_point t) {
    return std::chrono::duration<double>(clock::now() - t).count();
  };
  auto key = crypto::PrivateKey::from_bytes(crypto::Curve::kK256, hex_bytes(kKeyHex)).value();
  std::uint64_t rev_counter = kBaseMicros;
  auto clock_fn = [&rev_counter] { return syntax::encode_tid({++rev_counter, 0}).value(); };

  repo::MemoryBlockStore store;
  auto start = clock::now();
  // Records are made and added one at a time, as an import would stream them.
  repo::RepositoryBuilder builder(store, kDid);
  for (int i = 0; i < kRecords; ++i) {
    if (auto st = builder.add("app.bsky.feed.post", rkey(i), post(i)); !st.ok()) {
      std::cerr << "add failed: " << st.error().code << "\n";
      return 1;
    }
  }
  auto repository = builder.finish(key, clock_fn).value();
  double build_seconds = seconds_since(start);
  bench::report_once({"repo.build.100k", "build a 100,000-record repository", 0, 20},
                     repository.commit().data.to_string(), build_seconds,
                     {{"peak_rss_mb", peak_rss_mb()}});

  start = clock::now();
  for (int i = 0; i < kCommits; ++i) {
    auto result = repository.apply_writes(
        {{repo::Action::kCreate, "app.bsky.feed.post", rkey(kRecords + i), post(kRecords + i)}},
        key);
    if (!result.ok()) {
      std::cerr << "commit failed: " << result.error().code << "\n";
      return 1;
    }
  }
  bench::report_once({"repo.commit.1000", "1,000 single-record commits on top", 0, 20},
                     repository.commit().data.to_string(), seconds_since(start));

  start = clock::now();
  auto car = repository.export_car().value();
  bench::report_once(
      {"repo.export", "export the 101,000-record repository as a CAR", car.size(), 20},
      repository.commit().data.to_string(), seconds_since(start));
  std::ofstream(dir / "repo.car", std::ios::binary)
      .write(reinterpret_cast<const char*>(car.data()), static_cast<std::streamsize>(car.size()));

  start = clock::now();
  auto verified = repo::verify_repo_car(car, kDid, key.public_key());
  if (!verified.ok()) {
    std::cerr << "verify failed: " << verified.error().code << "\n";
    return 1;
  }
  bench::report_once(
      {"repo.import-verify", "import and verify that CAR", car.size(), 20},
      verified->commit.data.to_string() + " " + std::to_string(verified->records.size()),
      seconds_since(start), {{"peak_rss_mb", peak_rss_mb()}});
  return 0;
}

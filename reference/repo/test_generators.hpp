// Test support, not implementation: RapidCheck generators of repo paths and
// record CIDs, shared by the repo tests and the conformance runner.
#pragma once

#include <rapidcheck.h>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "atproto/data/cid.hpp"

namespace atproto::repo::generators {

namespace gen = rc::gen;

// A few collections, so paths share long prefixes (prefix compression) and
// sort across collection boundaries.
inline rc::Gen<std::string> collection() {
  return gen::element<std::string>("app.bsky.feed.post", "app.bsky.feed.like", "com.example.record",
                                   "com.example.a");
}

// Record keys from a small alphabet, 1-13 characters: many shared prefixes,
// and every depth up to what the number of keys makes likely.
inline rc::Gen<std::string> record_key() {
  auto chars = [](std::size_t n) {
    return gen::container<std::string>(n, gen::element('a', 'b', '2', '3', 'z', '-', '~'));
  };
  return gen::map(gen::mapcat(gen::inRange<std::size_t>(1, 14), chars), [](std::string s) {
    if (s == "." || s == "..") s = "x";
    return s;
  });
}

inline rc::Gen<std::string> repo_path() {
  return gen::apply([](const std::string& c, const std::string& k) { return c + "/" + k; },
                    collection(), record_key());
}

// Distinct paths, up to `max` of them.
inline rc::Gen<std::vector<std::string>> distinct_paths(std::size_t max) {
  return gen::map(
      gen::resize(static_cast<int>(max), gen::container<std::set<std::string>>(repo_path())),
      [](const std::set<std::string>& s) { return std::vector<std::string>(s.begin(), s.end()); });
}

// A record CID standing for the n-th record value.
inline data::Cid record_cid(std::uint64_t n) {
  std::vector<std::uint8_t> bytes(8);
  for (int i = 0; i < 8; ++i)
    bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(n >> (8 * i));
  return data::Cid::compute(data::Codec::kDagCbor, bytes);
}

}  // namespace atproto::repo::generators

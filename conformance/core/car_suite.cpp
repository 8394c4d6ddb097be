// The car suite: car/read vectors (vectors/car), RapidCheck properties over
// generated CAR files and their one-byte mutations (the reference is the
// oracle), and differential fuzzing of mutated CAR files with shrinking.
#include <algorithm>
#include <chrono>
#include <iterator>
#include <map>
#include <optional>
#include <random>
#include <set>

#include "atproto/car/car.hpp"
#include "atproto/car/test_generators.hpp"
#include "atproto/data/base64.hpp"
#include "atproto/data/cid.hpp"
#include "reference_ops.hpp"
#include "suites.hpp"

namespace atproto::conformance {
namespace {

using Bytes = std::vector<std::uint8_t>;
const std::string kOperation = "car/read";

json request_for(const Bytes& car) { return json{{"car", padded_base64(car)}}; }

// What a car/read answer says, reduced to what the protocol compares.
struct CarAnswer {
  bool ok = false;
  std::vector<std::string> roots;
  std::vector<std::string> block_cids;  // in file order
  std::vector<Bytes> block_data;        // same order; empty when not known (vectors)
  std::string code;                     // our error code, when the reference answered
};

// Reads an adapter's answer; returns nullopt (and fills the verdict) when the
// answer is not a well-formed result.
std::optional<CarAnswer> read_answer(const Response& r, Verdict& v) {
  v.http_status = r.status;
  v.received = r.body.is_discarded() ? json(r.raw_body) : r.body;
  auto malformed = [&](const std::string& why) {
    v.state = Verdict::State::kAdapterError;
    v.message = why;
    return std::nullopt;
  };
  if (!r.transport_error.empty())
    return malformed("no answer from the adapter: " + r.transport_error);
  if (r.status == 501) {
    v.state = Verdict::State::kUnsupported;
    v.message = "the adapter answered 501 for this input";
    return std::nullopt;
  }
  const json& b = r.body;
  if (r.status != 200 || !b.is_object() || !b.contains("ok") || !b["ok"].is_boolean()) {
    return malformed("the adapter did not answer with a result (HTTP " + std::to_string(r.status) +
                     ", expected 200 with {\"ok\": bool, ...})");
  }
  CarAnswer a;
  a.ok = b["ok"].get<bool>();
  a.code = b.value("code", "");
  if (!a.ok) return a;
  if (!b.contains("roots") || !b["roots"].is_array() || !b.contains("blocks") ||
      !b["blocks"].is_array()) {
    return malformed("an ok car/read answer needs \"roots\" and \"blocks\" arrays");
  }
  for (const auto& root : b["roots"]) {
    if (!root.is_string()) return malformed("every root must be a CID string");
    a.roots.push_back(root.get<std::string>());
  }
  for (const auto& block : b["blocks"]) {
    if (!block.is_object() || !block.contains("cid") || !block["cid"].is_string() ||
        !block.contains("data") || !block["data"].is_string()) {
      return malformed("every block must be {\"cid\": string, \"data\": base64}");
    }
    auto bytes = data::base64_decode(block["data"].get_ref<const std::string&>());
    if (!bytes) return malformed("block data is not base64: " + bytes.error().message);
    a.block_cids.push_back(block["cid"].get<std::string>());
    a.block_data.push_back(std::move(bytes).value());
  }
  return a;
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return "[" + out + "]";
}

// Compares an adapter's answer with the expected one; "" when they agree.
// Roots are compared in order; blocks as sets, as the protocol says
// (docs/adapter-protocol.md): a reader may de-duplicate [car.block.duplicates]
// and keep blocks in any order. Each block's data must be the expected one
// or, when only CIDs are known (vectors), hash to its CID.
std::string difference(const CarAnswer& got, const CarAnswer& want) {
  if (got.ok != want.ok) {
    return want.ok ? "the file is valid, the adapter rejected it"
                   : "the file breaks " + (want.code.empty() ? std::string("a rule") : want.code) +
                         ", the adapter accepted it";
  }
  if (!want.ok) return "";
  if (got.roots != want.roots) {
    return "different roots: " + joined(got.roots) + ", expected " + joined(want.roots);
  }
  std::set<std::string> got_set(got.block_cids.begin(), got.block_cids.end());
  std::set<std::string> want_set(want.block_cids.begin(), want.block_cids.end());
  if (got_set != want_set) {
    std::vector<std::string> missing, extra;
    std::set_difference(want_set.begin(), want_set.end(), got_set.begin(), got_set.end(),
                        std::back_inserter(missing));
    std::set_difference(got_set.begin(), got_set.end(), want_set.begin(), want_set.end(),
                        std::back_inserter(extra));
    return "different blocks: missing " + joined(missing) + ", unexpected " + joined(extra);
  }
  std::map<std::string, const Bytes*> want_data;
  for (std::size_t i = 0; i < want.block_data.size(); ++i) {
    want_data.emplace(want.block_cids[i], &want.block_data[i]);
  }
  for (std::size_t i = 0; i < got.block_cids.size(); ++i) {
    const std::string& cid_text = got.block_cids[i];
    if (auto it = want_data.find(cid_text); it != want_data.end()) {
      if (got.block_data[i] != *it->second) return "block " + cid_text + " has different data";
      continue;
    }
    // Vectors list CIDs only; the data must then hash to its CID.
    auto cid = data::Cid::parse(cid_text);
    if (!cid || data::Cid::compute(cid->codec(), got.block_data[i]) != *cid) {
      return "the data of block " + cid_text + " does not hash to that CID";
    }
  }
  return "";
}

// The reference's answer, as the oracle for generated inputs.
CarAnswer oracle(const json& request) {
  Verdict scratch;
  return *read_answer(reference_dispatch(kOperation, request), scratch);
}

json expected_json(const CarAnswer& want) {
  if (!want.ok) return json{{"ok", false}};
  json blocks = json::array();
  for (std::size_t i = 0; i < want.block_cids.size(); ++i) {
    json block{{"cid", want.block_cids[i]}};
    if (!want.block_data.empty()) block["data"] = padded_base64(want.block_data[i]);
    blocks.push_back(std::move(block));
  }
  return json{{"ok", true}, {"roots", want.roots}, {"blocks", std::move(blocks)}};
}

Verdict run_one(RunContext& ctx, const json& request, const CarAnswer& want) {
  Verdict v;
  v.operation = kOperation;
  v.sent = request;
  v.calls = 1;
  v.expected = expected_json(want);
  Response r = ctx.target.call(kOperation, request);
  auto got = read_answer(r, v);
  if (!got) return v;
  std::string diff = difference(*got, want);
  if (!diff.empty()) {
    v.state = Verdict::State::kMismatch;
    v.message = diff;
  }
  return v;
}

bool disagrees(const Verdict& v) {
  return v.state == Verdict::State::kMismatch || v.state == Verdict::State::kAdapterError;
}

Level level_at_stake(const Catalog& catalog, const CarAnswer& want) {
  return want.ok || want.code.empty() ? Level::kMust : strongest_level(catalog, {want.code});
}

// A vector case for a generated file, verdict from the reference.
json found_vector(const Bytes& bytes, const CarAnswer& want, const std::string& how) {
  json vector{
      {"id", std::string("car.read.") + (want.ok ? "valid" : "invalid") + ".found-" +
                 stable_hash_hex(hex_of(bytes), 10)},
      {"requirements", want.ok ? json::array({"car.block.cid-matches"}) : json::array({want.code})},
      {"car_hex", hex_of(bytes)},
      {"valid", want.ok}};
  if (want.ok) {
    vector["roots"] = want.roots;
    vector["blocks"] = want.block_cids;
  } else {
    vector["error"] = want.code;
  }
  vector["comment"] = "found by " + how + "; verdict from the reference";
  return vector;
}

// The byte ranges of the block frames of a file, as far as its framing can
// be followed (minimal or not, the varints give the lengths); the rest of a
// file whose framing breaks is one last range.
std::vector<std::pair<std::size_t, std::size_t>> block_frames(const Bytes& bytes) {
  std::vector<std::pair<std::size_t, std::size_t>> frames;
  auto next_frame_end = [&](std::size_t at) -> std::optional<std::size_t> {
    std::uint64_t len = 0;
    for (int shift = 0; at < bytes.size() && shift < 63; shift += 7) {
      const std::uint8_t b = bytes[at++];
      len |= std::uint64_t{b & 0x7fu} << shift;
      if ((b & 0x80) == 0) {
        if (len > bytes.size() - at) return std::nullopt;
        return at + static_cast<std::size_t>(len);
      }
    }
    return std::nullopt;
  };
  auto header_end = next_frame_end(0);
  if (!header_end) return frames;
  std::size_t pos = *header_end;
  while (pos < bytes.size()) {
    auto end = next_frame_end(pos);
    frames.emplace_back(pos, end ? *end : bytes.size());
    pos = end ? *end : bytes.size();
  }
  return frames;
}

// Shrinks a file the adapter and the reference disagree on, while the
// disagreement persists: first drops whole block frames, then runs of bytes,
// longest first. Bounded in calls.
Bytes shrink_bytes(RunContext& ctx, Bytes bytes, Verdict& v) {
  int budget = 400;
  auto try_smaller = [&](Bytes smaller) {
    --budget;
    json request = request_for(smaller);
    Verdict probe = run_one(ctx, request, oracle(request));
    if (!disagrees(probe)) return false;
    bytes = std::move(smaller);
    v = probe;
    return true;
  };
  for (bool progress = true; progress && budget > 0;) {
    progress = false;
    const auto frames = block_frames(bytes);
    for (auto it = frames.rbegin(); it != frames.rend() && budget > 0; ++it) {
      Bytes smaller = bytes;
      smaller.erase(smaller.begin() + static_cast<std::ptrdiff_t>(it->first),
                    smaller.begin() + static_cast<std::ptrdiff_t>(it->second));
      if (try_smaller(std::move(smaller))) {
        progress = true;
        break;
      }
    }
  }
  for (std::size_t chunk = std::max<std::size_t>(1, bytes.size() / 2); budget > 0; chunk /= 2) {
    for (bool progress = true; progress && budget > 0;) {
      progress = false;
      for (std::size_t at = 0; at + chunk <= bytes.size() && budget > 0; at += chunk) {
        Bytes smaller = bytes;
        smaller.erase(smaller.begin() + static_cast<std::ptrdiff_t>(at),
                      smaller.begin() + static_cast<std::ptrdiff_t>(at + chunk));
        if (try_smaller(std::move(smaller))) {
          progress = true;
          break;
        }
      }
    }
    if (chunk == 1) break;
  }
  return bytes;
}

struct CarVector {
  std::string id;
  json request;
  CarAnswer want;
  std::vector<std::string> requirements;
  std::string comment;
  Bytes bytes;
};

std::string load_car_vectors(const std::string& dir, std::vector<CarVector>& out) {
  std::string error;
  std::string read = for_each_vector_file(dir, /*optional=*/true, [&](const json& doc) {
    if (!error.empty() || doc.value("kind", "") != "car" || doc.value("operation", "") != "read") {
      return;
    }
    for (const auto& c : doc.value("cases", json::array())) {
      CarVector v;
      v.id = c.value("id", "");
      v.comment = c.value("comment", "");
      v.requirements = string_list(c.value("requirements", json::array()));
      if (c.contains("car_hex")) {
        auto bytes = hex_decode(c.value("car_hex", ""));
        if (!bytes) {
          error = "bad car_hex in " + v.id;
          return;
        }
        v.bytes = std::move(*bytes);
      } else {
        auto bytes = data::base64_decode(c.value("car_base64", ""));
        if (!bytes) {
          error = "bad car_base64 in " + v.id;
          return;
        }
        v.bytes = std::move(bytes).value();
      }
      v.request = request_for(v.bytes);
      v.want.ok = c.value("valid", false);
      v.want.code = c.value("error", "");
      if (v.want.ok) {
        v.want.roots = string_list(c.value("roots", json::array()));
        v.want.block_cids = string_list(c.value("blocks", json::array()));
      }
      out.push_back(std::move(v));
    }
  });
  return read.empty() ? error : read;
}

Case car_vector_case(const CarVector& cv, const Catalog& catalog) {
  Case c;
  c.id = "car.vector." + cv.id;
  c.suite = "car";
  c.kind = CaseKind::kVector;
  c.requirements = cv.requirements;
  c.level = strongest_level(catalog, cv.requirements);
  c.operation = kOperation;
  c.description = std::string(cv.want.ok ? "accept" : "reject") + " via car/read" +
                  (cv.comment.empty() ? "" : ": " + cv.comment);
  c.run = [cv](RunContext& ctx) { return run_one(ctx, cv.request, cv.want); };
  return c;
}

// A generated file and, for the mutation property, the one byte to change.
struct Generated {
  car::CarFile file;
  std::size_t index = 0;  // mutation: which byte (modulo the size)
  int delta = 0;          // mutation: added to it (1-255); 0 = none
};

Bytes bytes_of(const Generated& g) {
  Bytes bytes = car::write_car(g.file);
  if (g.delta != 0 && !bytes.empty()) {
    auto& b = bytes[g.index % bytes.size()];
    b = static_cast<std::uint8_t>((b + g.delta) & 0xff);
  }
  return bytes;
}

// Properties: generated files are read as the reference reads them (roots,
// block CIDs and data); with one byte changed, the adapter gives the
// reference's verdict (and, if accepted, the same content).
Case car_property_case(bool mutated, const Catalog& catalog) {
  Case c;
  c.id = mutated ? "car.property.read.one-byte-changed" : "car.property.read.generated";
  c.suite = "car";
  c.oracle_applies_record_rules = mutated;  // a changed byte can drop the commit root
  c.kind = CaseKind::kProperty;
  c.requirements =
      mutated ? std::vector<std::string>{"car.block.cid-matches", "car.block.frame",
                                         "car.header.frame", "car.block.cid"}
              : std::vector<std::string>{"car.header.roots", "car.block.cid-matches",
                                         "car.block.duplicates", "car.roots.commit-included"};
  c.level = Level::kMust;
  c.operation = kOperation;
  c.description = mutated ? "give the reference's verdict on generated CAR files with one byte "
                            "changed"
                          : "read generated CAR files (raw and DAG-CBOR blocks, duplicates, "
                            "several roots) as the reference does";
  c.run = [mutated, &catalog](RunContext& ctx) {
    rc::Random random(ctx.seed * 0x9e3779b97f4a7c15ull + (mutated ? 0xca2b : 0xca2a));
    auto gen = rc::gen::exec([mutated] {
      Generated g;
      g.file = *car::generators::car_file();
      if (mutated) {
        g.index = *rc::gen::inRange<std::size_t>(0, 1u << 16);
        g.delta = *rc::gen::inRange(1, 256);
      }
      return g;
    });
    Verdict last;
    for (int i = 0; i < ctx.property_cases; ++i) {
      int size = std::min(100, i * 100 / std::max(1, ctx.property_cases - 1));
      rc::Random r = random.split();
      auto shrinkable = gen(r, size);
      auto verdict_for = [&](const Generated& g) {
        json request = request_for(bytes_of(g));
        return run_one(ctx, request, oracle(request));
      };
      Verdict v = verdict_for(shrinkable.value());
      if (v.state == Verdict::State::kUnsupported) return v;
      if (v.state == Verdict::State::kPass) continue;
      // Shrink along RapidCheck's shrink tree while the disagreement persists.
      for (int steps = 0; steps < 200; ++steps) {
        bool progress = false;
        auto shrinks = shrinkable.shrinks();
        while (auto next = shrinks.next()) {
          Verdict probe = verdict_for(next->value());
          if (disagrees(probe)) {
            shrinkable = std::move(*next);
            v = probe;
            progress = true;
            break;
          }
        }
        if (!progress) break;
      }
      const Bytes bytes = bytes_of(shrinkable.value());
      CarAnswer want = oracle(request_for(bytes));
      v.level = level_at_stake(catalog, want);
      v.suggested_vector = found_vector(
          bytes, want, mutated ? "the one-byte-changed property" : "the generated-files property");
      return v;
    }
    last.calls = static_cast<std::uint64_t>(ctx.property_cases);
    return last;
  };
  return c;
}

// Differential fuzz: byte mutations of the vectors' files, each compared
// with the reference; disagreements are shrunk and listed as vectors.
Case car_fuzz_case(std::vector<Bytes> seeds, const Catalog& catalog) {
  Case c;
  c.id = "car.fuzz.read";
  c.suite = "car";
  c.oracle_applies_record_rules = true;
  c.kind = CaseKind::kFuzz;
  c.requirements = {"car.block.frame", "car.block.cid-matches"};
  c.level = Level::kMust;
  c.operation = kOperation;
  c.description = "agree with the reference on mutated CAR files from the vectors";
  c.run = [seeds = std::move(seeds), &catalog](RunContext& ctx) {
    Verdict result;
    if (seeds.empty()) return result;
    std::mt19937_64 rng(ctx.seed ^ 0xca7f);
    auto deadline =
        std::chrono::steady_clock::now() + std::chrono::duration<double>(ctx.fuzz_seconds);
    json found = json::array();
    std::uint64_t calls = 0;
    for (std::uint64_t i = 0;; ++i) {
      if (ctx.fuzz_iterations ? i >= ctx.fuzz_iterations
                              : std::chrono::steady_clock::now() >= deadline) {
        break;
      }
      Bytes bytes = seeds[rng() % seeds.size()];
      int edits = 1 + static_cast<int>(rng() % 3);
      for (int e = 0; e < edits; ++e) {
        std::size_t pos = bytes.empty() ? 0 : rng() % bytes.size();
        switch (rng() % 5) {
          case 0:
            if (!bytes.empty()) bytes[pos] = static_cast<std::uint8_t>(rng());
            break;
          case 1:
            if (!bytes.empty()) bytes[pos] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
            break;
          case 2:
            bytes.insert(bytes.begin() + static_cast<std::ptrdiff_t>(pos),
                         static_cast<std::uint8_t>(rng()));
            break;
          case 3:
            if (!bytes.empty()) bytes.erase(bytes.begin() + static_cast<std::ptrdiff_t>(pos));
            break;
          default:
            // Cut the file short: truncation is the commonest transport fault.
            bytes.resize(pos);
            break;
        }
      }
      json request = request_for(bytes);
      Verdict v = run_one(ctx, request, oracle(request));
      ++calls;
      if (v.state == Verdict::State::kUnsupported) return v;
      if (v.state == Verdict::State::kPass) continue;
      bytes = shrink_bytes(ctx, std::move(bytes), v);
      CarAnswer want = oracle(request_for(bytes));
      Level at_stake = level_at_stake(catalog, want);
      if (found.empty()) result = v;
      result.level = std::min(result.level.value_or(Level::kMay), at_stake);
      json vector = found_vector(bytes, want, "differential fuzzing");
      if (std::none_of(found.begin(), found.end(),
                       [&](const json& f) { return f["id"] == vector["id"]; })) {
        found.push_back(std::move(vector));
      }
      if (found.size() >= 10) break;
    }
    result.calls = calls;
    if (found.empty()) return result;
    result.message +=
        " (" + std::to_string(found.size()) + " shrunk disagreement(s), listed as vectors)";
    result.suggested_vector = found;
    return result;
  };
  return c;
}

}  // namespace

std::vector<Case> build_car_suite(const SuiteSources& sources, const Catalog& catalog,
                                  std::string& error) {
  std::vector<CarVector> vectors;
  error = load_car_vectors(sources.vectors_dir + "/car", vectors);
  if (!error.empty()) return {};
  std::vector<Case> cases;
  std::vector<Bytes> seeds;
  for (const auto& v : vectors) {
    cases.push_back(car_vector_case(v, catalog));
    seeds.push_back(v.bytes);
  }
  cases.push_back(car_property_case(/*mutated=*/false, catalog));
  cases.push_back(car_property_case(/*mutated=*/true, catalog));
  cases.push_back(car_fuzz_case(std::move(seeds), catalog));
  return cases;
}

}  // namespace atproto::conformance

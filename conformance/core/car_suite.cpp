// The car suite: car/read vectors (vectors/car), RapidCheck properties over
// generated CAR files and their one-byte mutations (the reference is the
// oracle), and differential fuzzing of mutated CAR files with shrinking.
#include <algorithm>
#include <iterator>
#include <map>
#include <optional>
#include <random>
#include <set>

#include "atproto/car/car.hpp"
#include "atproto/car/test_generators.hpp"
#include "atproto/data/base64.hpp"
#include "atproto/data/cid.hpp"
#include "engine.hpp"
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
  auto malformed = [&](const std::string& why) {
    v.state = Verdict::State::kAdapterError;
    v.message = why;
    return std::nullopt;
  };
  if (!engine::answered(r, v)) return std::nullopt;
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

Level level_at_stake(const Catalog& catalog, const CarAnswer& want) {
  return want.ok || want.code.empty() ? Level::kMust : strongest_level(catalog, {want.code});
}

// A vector case for a generated file, verdict from the reference.
json found_vector(const Bytes& bytes, const CarAnswer& want, const std::string& how) {
  json vector{
      {"id", std::string("car.read.") + (want.ok ? "valid" : "invalid") + ".found-" +
                 stable_hash_hex(hex_encode(bytes), 10)},
      {"requirements", want.ok ? json::array({"car.block.cid-matches"}) : json::array({want.code})},
      {"car_hex", hex_encode(bytes)},
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
    if (!engine::disagrees(probe)) return false;
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

Status load_car_vectors(const std::string& dir, std::vector<CarVector>& out) {
  return for_each_vector_file(dir, /*optional=*/true, [&](const json& doc) -> Status {
    if (doc.value("kind", "") != "car" || doc.value("operation", "") != "read") return {};
    for (const auto& c : doc.value("cases", json::array())) {
      CarVector v;
      v.id = c.value("id", "");
      v.comment = c.value("comment", "");
      v.requirements = string_list(c.value("requirements", json::array()));
      if (c.contains("car_hex")) {
        auto bytes = hex_decode(c.value("car_hex", ""));
        if (!bytes) return bad_vector("bad car_hex in " + v.id);
        v.bytes = std::move(*bytes);
      } else {
        auto bytes = data::base64_decode(c.value("car_base64", ""));
        if (!bytes) return bad_vector("bad car_base64 in " + v.id);
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
    return {};
  });
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
    engine::Property<Generated> property(rc::gen::exec([mutated] {
      Generated g;
      g.file = *car::generators::car_file();
      if (mutated) {
        g.index = *rc::gen::inRange<std::size_t>(0, 1u << 16);
        g.delta = *rc::gen::inRange(1, 256);
      }
      return g;
    }));
    property.salt = mutated ? 0xca2b : 0xca2a;
    property.check = [&](const Generated& g) {
      json request = request_for(bytes_of(g));
      return run_one(ctx, request, oracle(request));
    };
    property.finish = [&](const Generated& g, Verdict v) {
      const Bytes bytes = bytes_of(g);
      CarAnswer want = oracle(request_for(bytes));
      v.level = level_at_stake(catalog, want);
      v.suggested_vector = found_vector(
          bytes, want, mutated ? "the one-byte-changed property" : "the generated-files property");
      return v;
    };
    return engine::run_property(ctx, property);
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
    engine::Fuzz<Bytes> fuzz;
    fuzz.salt = 0xca7f;
    fuzz.has_seeds = !seeds.empty();
    fuzz.next = [&](std::mt19937_64& rng) {
      Bytes bytes = seeds[rng() % seeds.size()];
      const int edits = 1 + static_cast<int>(rng() % 3);
      for (int e = 0; e < edits; ++e) engine::mutate_bytes(bytes, rng, /*may_truncate=*/true);
      return bytes;
    };
    fuzz.check = [&](const Bytes& bytes) {
      json request = request_for(bytes);
      return run_one(ctx, request, oracle(request));
    };
    fuzz.explain = [&](const Bytes& input, Verdict v) {
      Bytes bytes = shrink_bytes(ctx, input, v);
      CarAnswer want = oracle(request_for(bytes));
      return std::optional<engine::Finding>(
          engine::Finding{std::move(v), level_at_stake(catalog, want),
                          found_vector(bytes, want, "differential fuzzing")});
    };
    fuzz.found_note = "shrunk disagreement(s), listed as vectors";
    return engine::run_fuzz(ctx, fuzz);
  };
  return c;
}

}  // namespace

Result<std::vector<Case>> build_car_suite(const SuiteSources& sources, const Catalog& catalog) {
  std::vector<CarVector> vectors;
  if (auto read = load_car_vectors(sources.vectors_dir + "/car", vectors); !read) {
    return read.error();
  }
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

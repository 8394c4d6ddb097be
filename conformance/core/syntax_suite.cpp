// The syntax suite: every syntax/validate vector, RapidCheck properties with
// the reference as oracle, and time-boxed differential fuzzing.
#include <algorithm>
#include <random>
#include <set>

#include "atproto/syntax/format.hpp"
#include "atproto/syntax/test_generators.hpp"
#include "engine.hpp"
#include "exact_json.hpp"
#include "suites.hpp"
#include "utf8.hpp"

namespace atproto::conformance {
namespace {

// The reference's verdict and error code for a syntax value.
struct Oracle {
  bool valid;
  std::string error;
};
Oracle oracle(const std::string& type, const std::string& value) {
  auto status = syntax::validate_string_format(type, value);
  return {status.ok(), status.ok() ? "" : status.error().code};
}

// Asks the target for a verdict. Returns nullopt (and fills verdict) when
// the adapter answered something other than a well-formed verdict.
std::optional<bool> ask(RunContext& ctx, const std::string& type, const std::string& value,
                        Verdict& verdict) {
  json request{{"type", type}, {"value", value}};
  Response r = ctx.target.call("syntax/validate", request);
  ++verdict.calls;
  verdict.operation = "syntax/validate";
  verdict.sent = request;
  if (!engine::answered(r, verdict, "the adapter answered 501: type " + type + " not supported")) {
    return std::nullopt;
  }
  if (r.status != 200 || !r.body.is_object() || !r.body.contains("valid") ||
      !r.body["valid"].is_boolean()) {
    verdict.state = Verdict::State::kAdapterError;
    verdict.message = "the adapter did not answer with a verdict (HTTP " +
                      std::to_string(r.status) + ", expected 200 with {\"valid\": bool})";
    return std::nullopt;
  }
  return r.body["valid"].get<bool>();
}

// A disagreement written as a vector case ready to add to vectors/syntax/.
json suggested_vector(const std::string& type, const std::string& value, const char* found_by) {
  Oracle o = oracle(type, value);
  json v{{"id", type + (o.valid ? ".valid" : ".invalid") + ".found-" + stable_hash_hex(value, 10)},
         {"requirements", o.valid ? json::array() : json::array({o.error})},
         {"input", value},
         {"valid", o.valid}};
  if (!o.valid) v["error"] = o.error;
  v["comment"] = std::string("found by ") + found_by + "; verdict from the reference";
  return v;
}

// Does the target disagree with the reference on this value? Adapter
// errors count as disagreement so they are minimized too.
bool disagrees(RunContext& ctx, const std::string& type, const std::string& value,
               Verdict& scratch) {
  auto got = ask(ctx, type, value, scratch);
  if (!got) return scratch.state == Verdict::State::kAdapterError;
  return *got != oracle(type, value).valid;
}

// The checker of generated inputs: the target's verdict on one value, a
// mismatch when it differs from the reference's.
Verdict check(RunContext& ctx, const std::string& type, const std::string& value) {
  Verdict v;
  auto got = ask(ctx, type, value, v);
  if (got && *got != oracle(type, value).valid) v.state = Verdict::State::kMismatch;
  return v;
}

// Greedy delta-debugging: drop chunks, then single characters, while the
// disagreement persists. Bounded in calls.
std::string minimize(RunContext& ctx, const std::string& type, std::string value,
                     std::uint64_t& calls) {
  Verdict scratch;
  const std::uint64_t budget = 400;
  for (std::size_t chunk = std::max<std::size_t>(value.size() / 2, 1); chunk >= 1; chunk /= 2) {
    bool progress = true;
    while (progress && scratch.calls < budget) {
      progress = false;
      for (std::size_t at = 0; at + chunk <= value.size() && scratch.calls < budget; ++at) {
        std::string candidate = value.substr(0, at) + value.substr(at + chunk);
        if (candidate.empty() || !is_valid_utf8(candidate)) continue;
        if (disagrees(ctx, type, candidate, scratch)) {
          value = std::move(candidate);
          progress = true;
          break;
        }
      }
    }
    if (chunk == 1) break;
  }
  calls += scratch.calls;
  return value;
}

// The level at stake in a disagreement on a generated input: the level of
// the rule the reference says is broken, or "must" when the value is valid.
Level level_at_stake(const Catalog& catalog, const std::string& type, const std::string& value) {
  Oracle o = oracle(type, value);
  return o.valid ? Level::kMust : strongest_level(catalog, {o.error});
}

Verdict mismatch(Verdict v, const std::string& type, const std::string& value, bool got,
                 const char* found_by) {
  Oracle o = oracle(type, value);
  v.state = Verdict::State::kMismatch;
  v.expected = json{{"valid", o.valid}};
  v.message = std::string("the adapter says ") + (got ? "valid" : "invalid") + " but the " +
              (o.valid ? "value is valid" : "value breaks " + o.error);
  if (found_by) v.suggested_vector = suggested_vector(type, value, found_by);
  return v;
}

// Byte-level mutations used by the property and fuzz cases.
std::string mutate_bytes(const std::string& in, std::mt19937_64& rng);

std::string mutate(const std::string& in, std::mt19937_64& rng) {
  std::string s;
  do {
    s = mutate_bytes(in, rng);
  } while (!is_valid_utf8(s));
  return s;
}

std::string mutate_bytes(const std::string& in, std::mt19937_64& rng) {
  static constexpr std::string_view kInteresting[] = {"",
                                                      ".",
                                                      "-",
                                                      ":",
                                                      "/",
                                                      "%",
                                                      "@",
                                                      "#",
                                                      "?",
                                                      "~",
                                                      "_",
                                                      " ",
                                                      "\t",
                                                      "\n",
                                                      std::string_view("\0", 1),
                                                      "A",
                                                      "z",
                                                      "0",
                                                      "9",
                                                      "\xc3\xa9",
                                                      "\xf0\x9f\x92\xa9",
                                                      "\xe2\x80\x8d",
                                                      "..",
                                                      "//",
                                                      "%3A",
                                                      "did:",
                                                      "at://",
                                                      "T",
                                                      "Z",
                                                      "+01:00",
                                                      "-00:00",
                                                      "x-",
                                                      "2",
                                                      "7",
                                                      "b"};
  std::string s = in;
  std::uniform_int_distribution<int> op_dist(0, 6);
  int rounds = 1 + static_cast<int>(rng() % 3);
  for (int round = 0; round < rounds; ++round) {
    std::size_t pos = s.empty() ? 0 : rng() % (s.size() + 1);
    auto piece = kInteresting[rng() % std::size(kInteresting)];
    switch (op_dist(rng)) {
      case 0:  // insert an interesting piece
        s.insert(pos, piece);
        break;
      case 1:  // delete a run
        if (!s.empty()) s.erase(std::min(pos, s.size() - 1), 1 + rng() % 3);
        break;
      case 2:  // replace one byte
        if (!s.empty()) s[std::min(pos, s.size() - 1)] = static_cast<char>(rng() % 128);
        break;
      case 3:  // flip case of one byte
        if (!s.empty()) {
          char& c = s[std::min(pos, s.size() - 1)];
          if (c >= 'a' && c <= 'z')
            c = static_cast<char>(c - 32);
          else if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c + 32);
        }
        break;
      case 4:  // duplicate a slice (grows toward length limits)
        if (!s.empty()) s.insert(pos, s.substr(rng() % s.size(), 1 + rng() % 64));
        break;
      case 5:  // truncate
        s.resize(pos);
        break;
      default:  // repeat the whole value
        if (s.size() < 4096) s += s;
        break;
    }
  }
  return s;
}

struct VectorCase {
  std::string id;
  std::string type;
  std::string input;
  bool valid;
  std::vector<std::string> requirements;
  std::string comment;
};

Status load_vectors(const std::string& dir, std::vector<VectorCase>& out) {
  return for_each_vector_file(dir, /*optional=*/false, [&](const json& doc) -> Status {
    if (doc.value("operation", "validate") != "validate") return {};
    std::string type = doc.value("type", "");
    if (!syntax::string_format_from_name(type)) return {};
    for (const auto& c : doc.value("cases", json::array())) {
      // Byte-level inputs (input_hex) cannot travel as JSON strings.
      if (!c.contains("input") || !c["input"].is_string()) continue;
      VectorCase v;
      v.id = c.value("id", "");
      v.type = type;
      v.input = c["input"].get<std::string>();
      v.valid = c.value("valid", false);
      v.comment = c.value("comment", "");
      v.requirements = string_list(c.value("requirements", json::array()));
      out.push_back(std::move(v));
    }
    return {};
  });
}

Case vector_case(const VectorCase& v, const Catalog& catalog) {
  Case c;
  c.id = "syntax.vector." + v.id;
  c.suite = "syntax";
  c.kind = CaseKind::kVector;
  c.requirements = v.requirements;
  c.level = strongest_level(catalog, v.requirements);
  c.operation = "syntax/validate";
  c.description = (v.valid ? "accept " : "reject ") + v.type + " " + json(v.input).dump() +
                  (v.comment.empty() ? "" : ": " + v.comment);
  c.run = [v](RunContext& ctx) {
    Verdict verdict;
    verdict.expected = json{{"valid", v.valid}};
    auto got = ask(ctx, v.type, v.input, verdict);
    if (!got) return verdict;
    verdict.expected = json{{"valid", v.valid}};
    if (*got != v.valid) {
      verdict.state = Verdict::State::kMismatch;
      verdict.message = std::string("expected the ") + v.type + " to be " +
                        (v.valid ? "accepted" : "rejected") + ", the adapter " +
                        (*got ? "accepted" : "rejected") + " it";
    }
    return verdict;
  };
  return c;
}

// Property: RapidCheck-generated values (valid by construction, and their
// mutations); the adapter must agree with the reference on each. A
// disagreement is shrunk through RapidCheck's shrink tree, then by deletion.
Case property_case(const std::string& type, bool mutated, const Catalog& catalog) {
  Case c;
  c.id = "syntax.property." + type + (mutated ? ".mutated" : ".generated");
  c.suite = "syntax";
  c.kind = CaseKind::kProperty;
  c.requirements = {"lex.format.names"};
  c.level = Level::kMust;
  c.operation = "syntax/validate";
  c.description = mutated ? "agree with the reference on mutations of generated " + type + " values"
                          : "accept RapidCheck-generated valid " + type + " values";
  c.run = [type, mutated, &catalog](RunContext& ctx) {
    auto format = *syntax::string_format_from_name(type);
    std::mt19937_64 rng(ctx.seed ^ std::hash<std::string>{}(type));
    engine::Property<std::string> property(syntax::generators::valid_string(format));
    property.salt = std::hash<std::string>{}(type);
    // Mutated values are not shrunk along the tree, only by deletion.
    if (mutated) {
      property.derive = [&](const std::string& value, int) { return mutate(value, rng); };
    }
    property.check = [&](const std::string& value) { return check(ctx, type, value); };
    property.finish = [&](const std::string& input, Verdict v) {
      std::uint64_t calls = v.calls;
      std::string value = minimize(ctx, type, input, calls);
      Verdict final_verdict;
      auto final_got = ask(ctx, type, value, final_verdict);
      final_verdict.calls = calls;
      if (!final_got) return final_verdict;
      Verdict found = mismatch(final_verdict, type, value, *final_got,
                               mutated ? "property (mutated)" : "property");
      found.level = level_at_stake(catalog, type, value);
      return found;
    };
    return engine::run_property(ctx, property);
  };
  return c;
}

// Differential fuzz: random mutations of the vector inputs, time-boxed.
Case fuzz_case(const std::string& type, std::vector<std::string> seeds, std::size_t type_count,
               const Catalog& catalog) {
  Case c;
  c.id = "syntax.fuzz." + type;
  c.suite = "syntax";
  c.kind = CaseKind::kFuzz;
  c.requirements = {"lex.format.names"};
  c.level = Level::kMust;
  c.operation = "syntax/validate";
  c.description = "agree with the reference on mutated " + type + " vector inputs";
  c.run = [type, seeds = std::move(seeds), type_count, &catalog](RunContext& ctx) {
    std::set<std::string> reported;
    engine::Fuzz<std::string> fuzz;
    fuzz.salt = std::hash<std::string>{}(type) << 1;
    fuzz.has_seeds = !seeds.empty();
    fuzz.share = type_count;  // the fuzz budget is split among the types
    fuzz.next = [&](std::mt19937_64& rng) { return mutate(seeds[rng() % seeds.size()], rng); };
    fuzz.check = [&](const std::string& value) { return check(ctx, type, value); };
    fuzz.explain = [&](const std::string& value, Verdict) -> std::optional<engine::Finding> {
      std::uint64_t calls = 0;
      std::string small = minimize(ctx, type, value, calls);
      if (!reported.insert(small).second) return std::nullopt;
      Verdict probe;
      auto small_got = ask(ctx, type, small, probe);
      engine::Finding finding;
      finding.verdict =
          small_got ? mismatch(probe, type, small, *small_got, "differential fuzz") : probe;
      finding.level = small_got ? level_at_stake(catalog, type, small) : Level::kMust;
      finding.vector = suggested_vector(type, small, "differential fuzz");
      return finding;
    };
    fuzz.found_note = "distinct minimized disagreement(s); all are listed as vectors";
    return engine::run_fuzz(ctx, fuzz);
  };
  return c;
}

}  // namespace

Result<std::vector<Case>> build_syntax_suite(const SuiteSources& sources, const Catalog& catalog) {
  std::vector<VectorCase> vectors;
  if (auto read = load_vectors(sources.vectors_dir + "/syntax", vectors); !read) {
    return read.error();
  }
  std::vector<Case> cases;
  std::map<std::string, std::vector<std::string>> seeds;
  for (const auto& v : vectors) {
    cases.push_back(vector_case(v, catalog));
    seeds[v.type].push_back(v.input);
  }
  for (std::string_view type : syntax::kStringFormatNames) {
    cases.push_back(property_case(std::string(type), false, catalog));
    cases.push_back(property_case(std::string(type), true, catalog));
  }
  for (std::string_view type : syntax::kStringFormatNames) {
    cases.push_back(fuzz_case(std::string(type), seeds[std::string(type)],
                              syntax::kStringFormatNames.size(), catalog));
  }
  return cases;
}

}  // namespace atproto::conformance

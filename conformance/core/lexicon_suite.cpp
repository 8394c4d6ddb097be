// The lexicon suite: vectors/lexicon (lexicon/validate-schema,
// lexicon/validate-record, lexicon/validate-params), RapidCheck properties
// over records generated from the example Lexicons (the reference is the
// oracle), and differential fuzzing of mutated records and documents.
#include <algorithm>
#include <random>

#include "atproto/data/json.hpp"
#include "atproto/lexicon/catalog.hpp"
#include "atproto/lexicon/test_generators.hpp"
#include "engine.hpp"
#include "suites.hpp"

namespace atproto::conformance {
namespace {

// What an answer says, reduced to what the protocol compares: the verdict.
// The code is kept for reports (other implementations name rules
// differently, so codes are not compared).
struct LexAnswer {
  bool valid = false;
  std::string code;
};

std::optional<LexAnswer> read_answer(const Response& r, Verdict& v) {
  const json* body = engine::verdict_answer(r, v);
  if (!body) return std::nullopt;
  const json& b = *body;
  LexAnswer a;
  a.valid = b["valid"].get<bool>();
  if (b.contains("code") && b["code"].is_string()) a.code = b["code"].get<std::string>();
  return a;
}

LexAnswer oracle(const std::string& operation, const json& request) {
  Verdict scratch;
  auto a = read_answer(reference_dispatch(operation, request), scratch);
  return a ? *a : LexAnswer{};
}

Verdict run_one(RunContext& ctx, const std::string& operation, const json& request,
                const LexAnswer& want) {
  Verdict v;
  v.operation = operation;
  v.sent = request;
  v.calls = 1;
  v.expected = json{{"valid", want.valid}};
  if (!want.valid && !want.code.empty()) v.expected["code"] = want.code;
  Response r = ctx.target.call(operation, request);
  auto got = read_answer(r, v);
  if (!got) return v;
  if (got->valid != want.valid) {
    v.state = Verdict::State::kMismatch;
    v.message = want.valid ? "the input is valid, the adapter rejected it" +
                                 (got->code.empty() ? std::string() : " (" + got->code + ")")
                           : "the input breaks " +
                                 (want.code.empty() ? std::string("a rule") : want.code) +
                                 ", the adapter accepted it";
  }
  return v;
}

Level level_at_stake(const Catalog& catalog, const LexAnswer& want) {
  return want.valid || want.code.empty() ? Level::kMust : strongest_level(catalog, {want.code});
}

struct LexVector {
  std::string id;
  std::string operation;
  json request;
  LexAnswer want;
  std::vector<std::string> requirements;
  std::string comment;
};

Status load_vectors(const std::string& dir, std::vector<LexVector>& out, json& record_lexicons) {
  std::size_t record_cases = 0;
  return for_each_vector_file(dir, /*optional=*/true, [&](const json& doc) -> Status {
    const std::string op = doc.value("operation", "");
    if (op != "validate-schema" && op != "validate-record" && op != "validate-params") return {};
    json lexicons = doc.value("lexicons", json::array());
    // The properties use the example Lexicons of the largest record file
    // (record.json: every field type and constraint).
    if (op == "validate-record" && doc.value("cases", json::array()).size() > record_cases) {
      record_lexicons = lexicons;
      record_cases = doc.value("cases", json::array()).size();
    }
    for (const auto& c : doc.value("cases", json::array())) {
      LexVector v;
      v.id = c.value("id", "");
      v.operation = "lexicon/" + op;
      v.comment = c.value("comment", "");
      v.requirements = string_list(c.value("requirements", json::array()));
      if (op == "validate-schema") {
        v.request = json{{"lexicon", c.value("lexicon", json())}};
      } else if (op == "validate-record") {
        v.request = json{{"lexicons", lexicons}, {"record", c.value("record", json())}};
      } else {
        v.request = json{
            {"lexicons", lexicons}, {"nsid", c.value("nsid", "")}, {"query", c.value("query", "")}};
      }
      v.want.valid = c.value("valid", false);
      v.want.code = c.value("error", "");
      out.push_back(std::move(v));
    }
    return {};
  });
}

Case vector_case(const LexVector& lv, const Catalog& catalog) {
  Case c;
  c.id = "lexicon.vector." + lv.id;
  c.suite = "lexicon";
  c.kind = CaseKind::kVector;
  c.requirements = lv.requirements;
  c.level = strongest_level(catalog, lv.requirements);
  c.operation = lv.operation;
  c.description = std::string(lv.want.valid ? "accept" : "reject") + " via " + lv.operation +
                  (lv.comment.empty() ? "" : ": " + lv.comment);
  c.run = [lv](RunContext& ctx) { return run_one(ctx, lv.operation, lv.request, lv.want); };
  return c;
}

// The example Lexicons as a catalog, shared by the property cases.
struct Examples {
  json documents;
  lexicon::Catalog catalog;
};

std::shared_ptr<Examples> load_examples(const json& documents) {
  auto ex = std::make_shared<Examples>();
  ex->documents = documents;
  for (const auto& d : documents) {
    if (!ex->catalog.add_json(d)) return nullptr;
  }
  return ex;
}

json suggested(const std::string& slug, const json& request, const LexAnswer& want,
               const std::string& how) {
  json vector{
      {"id", "lex.validate-record." + std::string(want.valid ? "valid" : "invalid") + "." + slug +
                 "-" +
                 stable_hash_hex(
                     request["record"].dump(-1, ' ', false, json::error_handler_t::replace), 10)},
      {"requirements", want.valid ? json::array({"lex.validate.type"}) : json::array({want.code})},
      {"record", request["record"]},
      {"valid", want.valid}};
  if (!want.valid) vector["error"] = want.code;
  vector["comment"] = how + "; verdict from the reference";
  return vector;
}

// Property: records generated from the example Lexicons, valid as they are
// ("generated") or with one constraint broken ("one-violation"), get the
// reference's verdict. Disagreements on valid records are shrunk.
Case property_case(const std::string& variant, std::shared_ptr<Examples> ex,
                   const Catalog& catalog) {
  Case c;
  c.id = "lexicon.property.validate-record." + variant;
  c.suite = "lexicon";
  c.kind = CaseKind::kProperty;
  c.requirements =
      variant == "generated"
          ? std::vector<std::string>{"lex.validate.type", "lex.validate.required"}
          : std::vector<std::string>{"lex.validate.integer-range", "lex.validate.string-length",
                                     "lex.validate.string-graphemes"};
  c.level = Level::kMust;
  c.operation = "lexicon/validate-record";
  c.description = variant == "generated"
                      ? "accept records generated from the example Lexicons"
                      : "reject generated records with exactly one constraint broken";
  c.run = [variant, ex, &catalog](RunContext& ctx) {
    const std::string op = "lexicon/validate-record";
    const lexicon::TypeDef& def = *ex->catalog.def("com.example.kitchen#main");
    std::string how = "generated from the example Lexicons";
    engine::Property<data::Value> property(
        lexicon::generators::valid_record(ex->catalog, "com.example.kitchen"));
    property.salt = std::hash<std::string>{}(variant);
    if (variant == "one-violation") {
      property.derive = [&](const data::Value& record, int index) {
        auto violations = lexicon::generators::violations_of(ex->catalog, def, record);
        std::mt19937_64 pick(ctx.seed + static_cast<std::uint64_t>(index));
        const auto& v = violations[pick() % violations.size()];
        how = v.what + " at " + v.path;
        return v.record;
      };
    }
    property.check = [&](const data::Value& record) {
      json request{{"lexicons", ex->documents}, {"record", data::to_json(record)}};
      return run_one(ctx, op, request, oracle(op, request));
    };
    // Only a different verdict is shrunk, not a malformed answer.
    property.still_fails = [](const Verdict& v) { return v.state == Verdict::State::kMismatch; };
    property.finish = [&](const data::Value&, Verdict v) {
      LexAnswer want = oracle(op, v.sent);
      v.level = level_at_stake(catalog, want);
      v.message += " [" + how + "]";
      v.suggested_vector =
          suggested("found", v.sent, want, "found by the " + variant + " property, " + how);
      return v;
    };
    return engine::run_property(ctx, property);
  };
  return c;
}

// The rule a fuzz case is mainly about.
std::string c_requirement(const std::string& operation) {
  return operation == "lexicon/validate-record" ? "lex.validate.type" : "lex.schema.field";
}

// One random edit of a JSON tree: replace a value, drop a key, or stretch a
// string past the limits the schemas set.
void mutate(json& node, std::mt19937_64& rng, int depth = 0) {
  static const std::vector<json> replacements = {
      nullptr,
      true,
      0,
      -1,
      101,
      "",
      "x",
      "not valid!",
      json::array(),
      json::object(),
      json{{"$type", "com.example.unlisted"}},
      "\U0001F468\u200D\U0001F469\u200D\U0001F467",
      "e\u0301e\u0301e\u0301e\u0301e\u0301e\u0301e\u0301e\u0301e\u0301e\u0301e\u0301",
      std::string(31, 'a'),
      "2024-01-01",
      "did:plc:ewvi7nxzyoun6zhxrhs64oiz",
      1.5};
  if ((node.is_object() || node.is_array()) && !node.empty() && depth < 6 && rng() % 4 != 0) {
    std::size_t n = rng() % node.size();
    auto it = node.begin();
    std::advance(it, static_cast<std::ptrdiff_t>(n));
    if (node.is_object() && rng() % 5 == 0) {
      node.erase(it.key());
      return;
    }
    mutate(*it, rng, depth + 1);
    return;
  }
  if (node.is_string() && rng() % 3 == 0) {
    std::string s = node.get<std::string>();
    node = s + s + "\U0001F1EB\U0001F1F7";
    return;
  }
  node = replacements[rng() % replacements.size()];
}

// Differential fuzz: mutated vector records (or documents) against the
// reference's verdict.
Case fuzz_case(const std::string& operation, std::vector<json> seeds, const Catalog& catalog) {
  Case c;
  c.id = "lexicon.fuzz." + operation.substr(8);
  c.suite = "lexicon";
  c.kind = CaseKind::kFuzz;
  c.requirements = {c_requirement(operation)};
  c.level = Level::kMust;
  c.operation = operation;
  c.description = "agree with the reference on mutated " +
                  std::string(operation == "lexicon/validate-record" ? "records" : "documents") +
                  " from the vectors";
  c.run = [operation, seeds = std::move(seeds), &catalog](RunContext& ctx) {
    const char* field = operation == "lexicon/validate-record" ? "record" : "lexicon";
    engine::Fuzz<json> fuzz;
    fuzz.salt = 0x1e71c0;
    fuzz.has_seeds = !seeds.empty();
    fuzz.next = [&](std::mt19937_64& rng) {
      json request = seeds[rng() % seeds.size()];
      const int edits = 1 + static_cast<int>(rng() % 2);
      for (int e = 0; e < edits; ++e) mutate(request[field], rng);
      return request;
    };
    fuzz.check = [&](const json& request) {
      return run_one(ctx, operation, request, oracle(operation, request));
    };
    fuzz.explain = [&](const json& request, Verdict v) {
      LexAnswer want = oracle(operation, request);
      json vector{
          {"id", "lex." + operation.substr(8) + "." +
                     std::string(want.valid ? "valid" : "invalid") + ".found-" +
                     stable_hash_hex(
                         request[field].dump(-1, ' ', false, json::error_handler_t::replace), 10)},
          {"requirements",
           want.valid ? json::array({c_requirement(operation)}) : json::array({want.code})},
          {field, request[field]},
          {"valid", want.valid}};
      if (!want.valid) vector["error"] = want.code;
      vector["comment"] = "found by differential fuzzing; verdict from the reference";
      return std::optional<engine::Finding>(
          engine::Finding{std::move(v), level_at_stake(catalog, want), std::move(vector)});
    };
    return engine::run_fuzz(ctx, fuzz);
  };
  return c;
}

}  // namespace

Result<std::vector<Case>> build_lexicon_suite(const SuiteSources& sources, const Catalog& catalog) {
  std::vector<LexVector> vectors;
  json record_lexicons = json::array();
  if (auto read = load_vectors(sources.vectors_dir + "/lexicon", vectors, record_lexicons); !read) {
    return read.error();
  }
  std::vector<Case> cases;
  std::vector<json> record_seeds;
  std::vector<json> schema_seeds;
  for (const auto& v : vectors) {
    cases.push_back(vector_case(v, catalog));
    if (v.operation == "lexicon/validate-record" && v.request["lexicons"] == record_lexicons) {
      record_seeds.push_back(v.request);
    }
    if (v.operation == "lexicon/validate-schema") schema_seeds.push_back(v.request);
  }
  if (!record_lexicons.empty()) {
    auto ex = load_examples(record_lexicons);
    if (ex && ex->catalog.def("com.example.kitchen#main")) {
      cases.push_back(property_case("generated", ex, catalog));
      cases.push_back(property_case("one-violation", ex, catalog));
    }
  }
  cases.push_back(fuzz_case("lexicon/validate-record", std::move(record_seeds), catalog));
  cases.push_back(fuzz_case("lexicon/validate-schema", std::move(schema_seeds), catalog));
  return cases;
}

}  // namespace atproto::conformance

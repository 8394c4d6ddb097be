// The data suite: data/encode and data/decode vectors, RapidCheck properties
// (generated records; the reference is the oracle) and differential fuzzing
// of CBOR bytes.
#include <algorithm>
#include <random>

#include "atproto/data/base64.hpp"
#include "atproto/data/cbor.hpp"
#include "atproto/data/json.hpp"
#include "atproto/data/test_generators.hpp"
#include "engine.hpp"
#include "exact_json.hpp"
#include "reference_ops.hpp"
#include "suites.hpp"

namespace atproto::conformance {
namespace {

// What an answer says, reduced to what the protocol compares.
struct DataAnswer {
  bool ok = false;
  std::vector<std::uint8_t> cbor;  // data/encode
  json value;                      // data/decode
  std::string cid;
  std::string code;  // our error code, when the reference answered
};

// Reads an adapter's answer; returns nullopt (and fills the verdict) when the
// answer is not a well-formed result.
std::optional<DataAnswer> read_answer(const std::string& operation, const Response& r, Verdict& v) {
  if (!engine::answered(r, v)) return std::nullopt;
  const json& b = r.body;
  if (r.status != 200 || !b.is_object() || !b.contains("ok") || !b["ok"].is_boolean()) {
    v.state = Verdict::State::kAdapterError;
    v.message = "the adapter did not answer with a result (HTTP " + std::to_string(r.status) +
                ", expected 200 with {\"ok\": bool, ...})";
    return std::nullopt;
  }
  DataAnswer a;
  a.ok = b["ok"].get<bool>();
  a.code = b.value("code", "");
  if (!a.ok) return a;
  if (!b.contains("cid") || !b["cid"].is_string()) {
    v.state = Verdict::State::kAdapterError;
    v.message = "an ok answer needs a \"cid\" string";
    return std::nullopt;
  }
  a.cid = b["cid"].get<std::string>();
  if (operation == "data/encode") {
    auto bytes = b.contains("cbor") && b["cbor"].is_string()
                     ? data::base64_decode(b["cbor"].get_ref<const std::string&>())
                     : Result<std::vector<std::uint8_t>>(Error{"", ""});
    if (!bytes.ok()) {
      v.state = Verdict::State::kAdapterError;
      v.message = "an ok data/encode answer needs \"cbor\" as base64";
      return std::nullopt;
    }
    a.cbor = std::move(bytes).value();
  } else {
    if (!b.contains("json")) {
      v.state = Verdict::State::kAdapterError;
      v.message = "an ok data/decode answer needs \"json\"";
      return std::nullopt;
    }
    a.value = b["json"];
  }
  return a;
}

// Compares an adapter's answer with the expected one; "" when they agree.
std::string difference(const std::string& operation, const DataAnswer& got,
                       const DataAnswer& want) {
  if (got.ok != want.ok) {
    return want.ok ? "the input is valid, the adapter rejected it"
                   : "the input breaks " + (want.code.empty() ? std::string("a rule") : want.code) +
                         ", the adapter accepted it";
  }
  if (!want.ok) return "";
  if (got.cid != want.cid) return "wrong CID: " + got.cid + ", expected " + want.cid;
  if (operation == "data/encode" && got.cbor != want.cbor) {
    return "different CBOR bytes: " + hex_encode(got.cbor) + ", expected " + hex_encode(want.cbor);
  }
  if (operation == "data/decode" && got.value != want.value) {
    return "different JSON value; first difference at " +
           first_difference(got.value, want.value).value_or("$");
  }
  return "";
}

// The reference's answer, as the oracle for generated inputs.
DataAnswer oracle(const std::string& operation, const json& request) {
  Verdict scratch;
  return *read_answer(operation, reference_dispatch(operation, request), scratch);
}

Verdict run_one(RunContext& ctx, const std::string& operation, const json& request,
                const DataAnswer& want) {
  Verdict v;
  v.operation = operation;
  v.sent = request;
  v.calls = 1;
  v.expected = want.ok ? json{{"ok", true}, {"cid", want.cid}} : json{{"ok", false}};
  if (want.ok && operation == "data/encode") v.expected["cbor"] = padded_base64(want.cbor);
  if (want.ok && operation == "data/decode") v.expected["json"] = want.value;
  Response r = ctx.target.call(operation, request);
  auto got = read_answer(operation, r, v);
  if (!got) return v;
  std::string diff = difference(operation, *got, want);
  if (!diff.empty()) {
    v.state = Verdict::State::kMismatch;
    v.message = diff;
  }
  return v;
}

Level level_at_stake(const Catalog& catalog, const DataAnswer& want) {
  return want.ok || want.code.empty() ? Level::kMust : strongest_level(catalog, {want.code});
}

struct DataVector {
  std::string id;
  std::string operation;  // data/encode or data/decode
  json request;
  DataAnswer want;
  std::vector<std::string> requirements;
  std::string comment;
};

Status load_data_vectors(const std::string& dir, std::vector<DataVector>& out) {
  // No data vectors folder means no vector cases, not an error.
  return for_each_vector_file(dir, /*optional=*/true, [&](const json& doc) -> Status {
    const std::string op = doc.value("operation", "");
    if (op != "encode" && op != "decode") return {};
    for (const auto& c : doc.value("cases", json::array())) {
      DataVector v;
      v.id = c.value("id", "");
      v.operation = "data/" + op;
      v.comment = c.value("comment", "");
      v.requirements = string_list(c.value("requirements", json::array()));
      if (op == "encode") {
        if (c.contains("json_text") && c["json_text"].is_string()) {
          // Raw text (a repeated key, say), sent exactly as written.
          const auto& text = c["json_text"].get_ref<const std::string&>();
          if (!json::accept(text)) {
            return bad_vector("json_text of " + v.id + " is not JSON text");
          }
          v.request = json{{"json", raw_json(text)}};
        } else if (c.contains("json")) {
          v.request = json{{"json", c["json"]}};
        } else {
          return bad_vector("encode vector " + v.id + " has neither json nor json_text");
        }
      } else {
        auto bytes = hex_decode(c.value("cbor_hex", ""));
        if (!bytes) return bad_vector("bad cbor_hex in " + v.id);
        v.request = json{{"cbor", padded_base64(*bytes)}};
      }
      v.want.ok = c.value("valid", false);
      v.want.code = c.value("error", "");
      if (v.want.ok) {
        v.want.cid = c.value("cid", "");
        if (op == "encode") {
          auto bytes = hex_decode(c.value("cbor_hex", ""));
          if (!bytes) return bad_vector("bad cbor_hex in " + v.id);
          v.want.cbor = *bytes;
        } else {
          v.want.value = c.value("json", json());
        }
      }
      out.push_back(std::move(v));
    }
    return {};
  });
}

Case data_vector_case(const DataVector& dv, const Catalog& catalog) {
  Case c;
  c.id = "data.vector." + dv.id;
  c.suite = "data";
  c.kind = CaseKind::kVector;
  c.requirements = dv.requirements;
  c.level = strongest_level(catalog, dv.requirements);
  c.operation = dv.operation;
  c.description = std::string(dv.want.ok ? "accept" : "reject") + " via " + dv.operation +
                  (dv.comment.empty() ? "" : ": " + dv.comment);
  c.run = [dv](RunContext& ctx) { return run_one(ctx, dv.operation, dv.request, dv.want); };
  return c;
}

// Property: generated records encode to the same bytes and CID as the
// reference, and the reference's bytes decode to the same JSON.
Case data_property_case(const std::string& operation, const Catalog& catalog) {
  Case c;
  c.id = "data.property." + operation.substr(5) + ".generated";
  c.suite = "data";
  c.kind = CaseKind::kProperty;
  c.requirements = {"data.cbor.map-key-order", "data.cbor.int-shortest", "data.json.link",
                    "data.json.bytes"};
  c.level = Level::kMust;
  c.operation = operation;
  c.description = "agree with the reference on " + operation + " of RapidCheck-generated records";
  c.run = [operation, &catalog](RunContext& ctx) {
    auto request_for = [&](const data::Value& value) {
      if (operation == "data/encode") return json{{"json", data::to_json(value)}};
      return json{{"cbor", padded_base64(*data::encode_cbor(value))}};
    };
    engine::Property<data::Value> property(data::generators::record(3));
    property.salt = std::hash<std::string>{}(operation);
    property.check = [&](const data::Value& value) {
      json request = request_for(value);
      return run_one(ctx, operation, request, oracle(operation, request));
    };
    property.finish = [&](const data::Value&, Verdict v) {
      DataAnswer want = oracle(operation, v.sent);
      v.level = level_at_stake(catalog, want);
      json vector{{"id", "data." + operation.substr(5) + ".found-" +
                             stable_hash_hex(
                                 v.sent.dump(-1, ' ', false, json::error_handler_t::replace), 10)},
                  {"requirements", want.ok ? json::array() : json::array({want.code})},
                  {"valid", want.ok}};
      if (operation == "data/encode") {
        vector["json"] = v.sent["json"];
        if (want.ok) vector["cbor_hex"] = hex_encode(want.cbor);
      } else {
        vector["cbor_hex"] = hex_encode(*data::base64_decode(v.sent["cbor"].get<std::string>()));
        if (want.ok) vector["json"] = want.value;
      }
      if (want.ok) vector["cid"] = want.cid;
      if (!want.ok) vector["error"] = want.code;
      vector["comment"] = "found by the " + operation + " property; verdict from the reference";
      v.suggested_vector = vector;
      return v;
    };
    return engine::run_property(ctx, property);
  };
  return c;
}

// Differential fuzz: byte mutations of the decode vectors' CBOR.
Case data_fuzz_case(std::vector<std::vector<std::uint8_t>> seeds, const Catalog& catalog) {
  Case c;
  c.id = "data.fuzz.decode";
  c.suite = "data";
  c.oracle_applies_record_rules = true;  // mutated maps become non-record values
  c.kind = CaseKind::kFuzz;
  c.requirements = {"data.cbor.well-formed"};
  c.level = Level::kMust;
  c.operation = "data/decode";
  c.description = "agree with the reference on mutated CBOR from the decode vectors";
  c.run = [seeds = std::move(seeds), &catalog](RunContext& ctx) {
    engine::Fuzz<std::vector<std::uint8_t>> fuzz;
    fuzz.salt = 0xda7a;
    fuzz.has_seeds = !seeds.empty();
    fuzz.next = [&](std::mt19937_64& rng) {
      std::vector<std::uint8_t> bytes = seeds[rng() % seeds.size()];
      const int edits = 1 + static_cast<int>(rng() % 3);
      for (int e = 0; e < edits; ++e) engine::mutate_bytes(bytes, rng);
      return bytes;
    };
    fuzz.check = [&](const std::vector<std::uint8_t>& bytes) {
      json request{{"cbor", padded_base64(bytes)}};
      return run_one(ctx, "data/decode", request, oracle("data/decode", request));
    };
    fuzz.explain = [&](const std::vector<std::uint8_t>& bytes, Verdict v) {
      DataAnswer want = oracle("data/decode", v.sent);
      json vector{{"id", "data.decode.found-" + stable_hash_hex(hex_encode(bytes), 10)},
                  {"requirements", want.ok ? json::array() : json::array({want.code})},
                  {"cbor_hex", hex_encode(bytes)},
                  {"valid", want.ok}};
      if (want.ok) {
        vector["json"] = want.value;
        vector["cid"] = want.cid;
      } else {
        vector["error"] = want.code;
      }
      vector["comment"] = "found by differential fuzzing; verdict from the reference";
      return std::optional<engine::Finding>(
          engine::Finding{std::move(v), level_at_stake(catalog, want), std::move(vector)});
    };
    return engine::run_fuzz(ctx, fuzz);
  };
  return c;
}

}  // namespace

Result<std::vector<Case>> build_data_suite(const SuiteSources& sources, const Catalog& catalog) {
  std::vector<DataVector> vectors;
  if (auto read = load_data_vectors(sources.vectors_dir + "/data", vectors); !read) {
    return read.error();
  }
  std::vector<Case> cases;
  std::vector<std::vector<std::uint8_t>> seeds;
  for (const auto& v : vectors) {
    cases.push_back(data_vector_case(v, catalog));
    if (v.operation == "data/decode") {
      seeds.push_back(*data::base64_decode(v.request["cbor"].get<std::string>()));
    }
  }
  cases.push_back(data_property_case("data/encode", catalog));
  cases.push_back(data_property_case("data/decode", catalog));
  cases.push_back(data_fuzz_case(std::move(seeds), catalog));
  return cases;
}

}  // namespace atproto::conformance

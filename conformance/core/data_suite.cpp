// The data suite: data/encode and data/decode vectors, RapidCheck properties
// (generated records; the reference is the oracle) and differential fuzzing
// of CBOR bytes.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>

#include "atproto/data/base64.hpp"
#include "atproto/data/cbor.hpp"
#include "atproto/data/json.hpp"
#include "atproto/data/test_generators.hpp"
#include "exact_json.hpp"
#include "reference_ops.hpp"
#include "suites.hpp"

namespace atproto::conformance {
namespace {

namespace fs = std::filesystem;

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
  v.http_status = r.status;
  v.received = r.body.is_discarded() ? json(r.raw_body) : r.body;
  if (!r.transport_error.empty()) {
    v.state = Verdict::State::kAdapterError;
    v.message = "no answer from the adapter: " + r.transport_error;
    return std::nullopt;
  }
  if (r.status == 501) {
    v.state = Verdict::State::kUnsupported;
    v.message = "the adapter answered 501 for this input";
    return std::nullopt;
  }
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
    return "different CBOR bytes: " + hex_of(got.cbor) + ", expected " + hex_of(want.cbor);
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

std::string load_data_vectors(const std::string& dir, std::vector<DataVector>& out) {
  // No data vectors folder means no vector cases, not an error.
  std::string error;
  std::string read = for_each_vector_file(dir, /*optional=*/true, [&](const json& doc) {
    const std::string op = doc.value("operation", "");
    if (!error.empty() || (op != "encode" && op != "decode")) return;
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
            error = "json_text of " + v.id + " is not JSON text";
            return;
          }
          v.request = json{{"json", raw_json(text)}};
        } else if (c.contains("json")) {
          v.request = json{{"json", c["json"]}};
        } else {
          error = "encode vector " + v.id + " has neither json nor json_text";
          return;
        }
      } else {
        auto bytes = hex_decode(c.value("cbor_hex", ""));
        if (!bytes) {
          error = "bad cbor_hex in " + v.id;
          return;
        }
        v.request = json{{"cbor", padded_base64(*bytes)}};
      }
      v.want.ok = c.value("valid", false);
      v.want.code = c.value("error", "");
      if (v.want.ok) {
        v.want.cid = c.value("cid", "");
        if (op == "encode") {
          auto bytes = hex_decode(c.value("cbor_hex", ""));
          if (!bytes) {
            error = "bad cbor_hex in " + v.id;
            return;
          }
          v.want.cbor = *bytes;
        } else {
          v.want.value = c.value("json", json());
        }
      }
      out.push_back(std::move(v));
    }
  });
  return read.empty() ? error : read;
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
    rc::Random random(ctx.seed * 0x9e3779b97f4a7c15ull + std::hash<std::string>{}(operation));
    auto gen = data::generators::record(3);
    Verdict last;
    for (int i = 0; i < ctx.property_cases; ++i) {
      int size = std::min(100, i * 100 / std::max(1, ctx.property_cases - 1));
      rc::Random r = random.split();
      auto shrinkable = gen(r, size);
      auto request_for = [&](const data::Value& value) {
        if (operation == "data/encode") return json{{"json", data::to_json(value)}};
        return json{{"cbor", padded_base64(*data::encode_cbor(value))}};
      };
      auto verdict_for = [&](const data::Value& value) {
        json request = request_for(value);
        return run_one(ctx, operation, request, oracle(operation, request));
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
          if (probe.state == Verdict::State::kMismatch ||
              probe.state == Verdict::State::kAdapterError) {
            shrinkable = std::move(*next);
            v = probe;
            progress = true;
            break;
          }
        }
        if (!progress) break;
      }
      DataAnswer want = oracle(operation, v.sent);
      v.level = level_at_stake(catalog, want);
      json vector{{"id", "data." + operation.substr(5) + ".found-" +
                             stable_hash_hex(
                                 v.sent.dump(-1, ' ', false, json::error_handler_t::replace), 10)},
                  {"requirements", want.ok ? json::array() : json::array({want.code})},
                  {"valid", want.ok}};
      if (operation == "data/encode") {
        vector["json"] = v.sent["json"];
        if (want.ok) vector["cbor_hex"] = hex_of(want.cbor);
      } else {
        vector["cbor_hex"] = hex_of(*data::base64_decode(v.sent["cbor"].get<std::string>()));
        if (want.ok) vector["json"] = want.value;
      }
      if (want.ok) vector["cid"] = want.cid;
      if (!want.ok) vector["error"] = want.code;
      vector["comment"] = "found by the " + operation + " property; verdict from the reference";
      v.suggested_vector = vector;
      return v;
    }
    last.calls = static_cast<std::uint64_t>(ctx.property_cases);
    return last;
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
    Verdict result;
    if (seeds.empty()) return result;
    std::mt19937_64 rng(ctx.seed ^ 0xda7a);
    auto deadline =
        std::chrono::steady_clock::now() + std::chrono::duration<double>(ctx.fuzz_seconds);
    json found = json::array();
    for (std::uint64_t i = 0;; ++i) {
      if (ctx.fuzz_iterations ? i >= ctx.fuzz_iterations
                              : std::chrono::steady_clock::now() >= deadline) {
        break;
      }
      std::vector<std::uint8_t> bytes = seeds[rng() % seeds.size()];
      int edits = 1 + static_cast<int>(rng() % 3);
      for (int e = 0; e < edits; ++e) {
        std::size_t pos = bytes.empty() ? 0 : rng() % bytes.size();
        switch (rng() % 4) {
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
          default:
            if (!bytes.empty()) bytes.erase(bytes.begin() + static_cast<std::ptrdiff_t>(pos));
            break;
        }
      }
      json request{{"cbor", padded_base64(bytes)}};
      DataAnswer want = oracle("data/decode", request);
      Verdict v = run_one(ctx, "data/decode", request, want);
      if (v.state == Verdict::State::kUnsupported) return v;
      if (v.state == Verdict::State::kPass) continue;
      Level at_stake = level_at_stake(catalog, want);
      if (found.empty()) result = v;
      result.level = std::min(result.level.value_or(Level::kMay), at_stake);
      json vector{{"id", "data.decode.found-" + stable_hash_hex(hex_of(bytes), 10)},
                  {"requirements", want.ok ? json::array() : json::array({want.code})},
                  {"cbor_hex", hex_of(bytes)},
                  {"valid", want.ok}};
      if (want.ok) {
        vector["json"] = want.value;
        vector["cid"] = want.cid;
      } else {
        vector["error"] = want.code;
      }
      vector["comment"] = "found by differential fuzzing; verdict from the reference";
      found.push_back(vector);
      if (found.size() >= 10) break;
    }
    if (found.empty()) return result;
    result.message += " (" + std::to_string(found.size()) + " disagreement(s), listed as vectors)";
    result.suggested_vector = found;
    return result;
  };
  return c;
}

}  // namespace

std::vector<Case> build_data_suite(const SuiteSources& sources, const Catalog& catalog,
                                   std::string& error) {
  std::vector<DataVector> vectors;
  error = load_data_vectors(sources.vectors_dir + "/data", vectors);
  if (!error.empty()) return {};
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

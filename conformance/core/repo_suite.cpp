// The mst and repo suites: vectors/repo (key depths, roots, commit proofs,
// repository CARs to verify) and RapidCheck properties with the reference
// as the oracle (generated key sets and commits; generated repositories and
// their one-byte corruptions).
#include <algorithm>
#include <random>

#include "atproto/crypto/keys.hpp"
#include "atproto/data/base64.hpp"
#include "atproto/repo/repository.hpp"
#include "atproto/repo/test_generators.hpp"
#include "engine.hpp"
#include "reference_ops.hpp"
#include "suites.hpp"

namespace atproto::conformance {
namespace {

// "" when the answer agrees with `want`, else what differs. `want` holds
// the expected body; comparisons follow the adapter protocol.
std::string difference(const std::string& operation, const json& got, const json& want) {
  if (operation == "mst/key-height") {
    if (!got.contains("height") || got["height"] != want["height"]) {
      return "height " + got.value("height", json()).dump() + ", expected " + want["height"].dump();
    }
    return "";
  }
  if (operation == "mst/proof") {
    for (const char* field : {"rootBeforeCommit", "rootAfterCommit"}) {
      if (!got.contains(field) || got[field] != want[field]) {
        return std::string(field) + " " + got.value(field, json()).dump() + ", expected " +
               want[field].dump();
      }
    }
    if (!got.contains("blocksInProof") || !got["blocksInProof"].is_array()) {
      return "no blocksInProof array";
    }
    // The proof must carry at least these blocks; more is allowed.
    for (const auto& cid : want["blocksInProof"]) {
      if (std::find(got["blocksInProof"].begin(), got["blocksInProof"].end(), cid) ==
          got["blocksInProof"].end()) {
        return "blocksInProof lacks " + cid.get<std::string>() +
               ", which inverting the operations needs";
      }
    }
    return "";
  }
  // mst/root and repo/verify: verdict first, then the values.
  if (!got.contains("ok") || !got["ok"].is_boolean()) return "no boolean \"ok\" in the answer";
  bool ok = got["ok"].get<bool>();
  if (ok != want["ok"].get<bool>()) {
    return want["ok"].get<bool>()
               ? "the input is valid, the adapter rejected it"
               : "the input breaks " + want.value("code", std::string("a rule")) +
                     ", the adapter accepted it";
  }
  if (!ok) return "";
  for (const char* field : {"root", "rev", "data", "records"}) {
    if (want.contains(field) && (!got.contains(field) || got[field] != want[field])) {
      return std::string("different ") + field + ": " + got.value(field, json()).dump() +
             ", expected " + want[field].dump();
    }
  }
  return "";
}

Verdict run_one(RunContext& ctx, const std::string& operation, const json& request,
                const json& want) {
  Verdict v;
  v.operation = operation;
  v.sent = request;
  v.expected = want;
  v.calls = 1;
  Response r = ctx.target.call(operation, request);
  if (!engine::answered(r, v, "the adapter answered 501")) return v;
  if (r.status != 200 || !r.body.is_object()) {
    v.state = Verdict::State::kAdapterError;
    v.message = "the adapter did not answer with a result (HTTP " + std::to_string(r.status) + ")";
  } else if (auto diff = difference(operation, r.body, want); !diff.empty()) {
    v.state = Verdict::State::kMismatch;
    v.message = diff;
  }
  return v;
}

Case vector_case(const std::string& suite, const std::string& operation, const json& c,
                 json request, json want, const Catalog& catalog) {
  Case out;
  out.id = suite + ".vector." + c.value("id", "");
  out.suite = suite;
  out.kind = CaseKind::kVector;
  out.requirements = string_list(c.value("requirements", json::array()));
  out.level = strongest_level(catalog, out.requirements);
  out.operation = operation;
  out.description = c.value("comment", "");
  out.run = [operation, request = std::move(request), want = std::move(want)](RunContext& ctx) {
    return run_one(ctx, operation, request, want);
  };
  return out;
}

// The reference's answer body.
json oracle(const std::string& operation, const json& request) {
  return reference_dispatch(operation, request).body;
}

// Shrinks by dropping one element of an array field at a time.
std::vector<json> drop_one(const json& request, const std::vector<std::string>& fields) {
  std::vector<json> out;
  for (const auto& field : fields) {
    if (!request.contains(field)) continue;
    for (std::size_t i = 0; i < request[field].size(); ++i) {
      json smaller = request;
      smaller[field].erase(i);
      out.push_back(std::move(smaller));
    }
  }
  return out;
}

std::vector<std::string> gen_paths(rc::Random& r, int size, std::size_t max) {
  return repo::generators::distinct_paths(max)(r, size).value();
}

Case property_case(const std::string& suite, const std::string& name, const std::string& operation,
                   std::vector<std::string> requirements, const std::string& description,
                   std::function<json(rc::Random&, int)> make,
                   std::vector<std::string> shrink_fields) {
  Case c;
  c.id = suite + ".property." + name;
  c.suite = suite;
  c.kind = CaseKind::kProperty;
  c.requirements = std::move(requirements);
  c.level = Level::kMust;
  c.operation = operation;
  c.description = description;
  c.run = [operation, make = std::move(make), shrink_fields = std::move(shrink_fields),
           salt = std::hash<std::string>{}(name)](RunContext& ctx) {
    engine::Property<json> property(rc::Gen<json>([make](const rc::Random& random, int size) {
      rc::Random r = random;
      return rc::shrinkable::just(make(r, size));
    }));
    property.salt = salt;
    property.check = [&](const json& request) {
      return run_one(ctx, operation, request, oracle(operation, request));
    };
    property.shrink = [&](const json& request) { return drop_one(request, shrink_fields); };
    property.finish = [](const json&, Verdict v) {
      v.message += " (found by a generated input; the reference is the oracle)";
      return v;
    };
    return engine::run_property(ctx, property);
  };
  return c;
}

}  // namespace

Result<std::vector<Case>> build_mst_suite(const SuiteSources& sources, const Catalog& catalog) {
  std::vector<Case> cases;
  Status read = for_each_vector_file(
      sources.vectors_dir + "/repo", /*optional=*/false, [&](const json& doc) -> Status {
        const std::string op = doc.value("operation", "");
        for (const auto& c : doc.value("cases", json::array())) {
          if (op == "key-depth") {
            cases.push_back(vector_case("mst", "mst/key-height", c, json{{"key", c["input"]}},
                                        json{{"height", c["depth"]}}, catalog));
          } else if (op == "root") {
            json want{{"ok", c["valid"]}};
            if (c["valid"].get<bool>()) want["root"] = c["root"];
            if (c.contains("error")) want["code"] = c["error"];
            cases.push_back(
                vector_case("mst", "mst/root", c, json{{"entries", c["entries"]}}, want, catalog));
          } else if (op == "proof") {
            json request{{"keys", c["keys"]},
                         {"leafValue", c["leafValue"]},
                         {"adds", c["adds"]},
                         {"dels", c["dels"]}};
            json want{{"rootBeforeCommit", c["rootBeforeCommit"]},
                      {"rootAfterCommit", c["rootAfterCommit"]},
                      {"blocksInProof", c["blocksInProof"]}};
            cases.push_back(vector_case("mst", "mst/proof", c, request, want, catalog));
          }
        }
        return {};
      });
  if (!read) return read.error();
  cases.push_back(
      property_case("mst", "key-height.generated", "mst/key-height", {"repo.mst.key-depth"},
                    "agree with the reference on the depth of generated keys",
                    [](rc::Random& r, int size) {
                      return json{{"key", repo::generators::repo_path()(r, size).value()}};
                    },
                    {}));
  cases.push_back(property_case("mst", "root.generated", "mst/root",
                                {"repo.mst.key-depth", "repo.mst.node-schema",
                                 "repo.mst.prefix-compression", "repo.mst.deterministic"},
                                "agree with the reference on the root CID of generated key sets",
                                [](rc::Random& r, int size) {
                                  json entries = json::array();
                                  auto paths = gen_paths(r, size, 200);
                                  for (std::size_t i = 0; i < paths.size(); ++i) {
                                    entries.push_back(
                                        json{{"key", paths[i]},
                                             {"cid", repo::generators::record_cid(i).to_string()}});
                                  }
                                  return json{{"entries", std::move(entries)}};
                                },
                                {"entries"}));
  cases.push_back(property_case(
      "mst", "proof.generated", "mst/proof", {"repo.diff.inversion-blocks", "repo.diff.inversion"},
      "agree with the reference on roots and proof blocks of generated commits",
      [](rc::Random& r, int size) {
        auto keys = gen_paths(r, size, 120);
        auto extra = gen_paths(r, size, 6);
        json adds = json::array(), dels = json::array(), kept = json::array();
        for (const auto& k : extra) {
          if (std::find(keys.begin(), keys.end(), k) == keys.end()) adds.push_back(k);
        }
        for (std::size_t i = 0; i < keys.size(); ++i) {
          if (i % 9 == 4) dels.push_back(keys[i]);
          kept.push_back(keys[i]);
        }
        return json{{"keys", kept},
                    {"leafValue", repo::generators::record_cid(7).to_string()},
                    {"adds", adds},
                    {"dels", dels}};
      },
      {"adds"}));
  return cases;
}

Result<std::vector<Case>> build_repo_suite(const SuiteSources& sources, const Catalog& catalog) {
  std::vector<Case> cases;
  Status read = for_each_vector_file(
      sources.vectors_dir + "/repo", /*optional=*/false, [&](const json& doc) -> Status {
        if (doc.value("operation", "") != "verify") return {};
        for (const auto& c : doc.value("cases", json::array())) {
          if (c.value("check", "verify") != "verify") continue;  // block order: no operation
          json request{{"car", c["car_base64"]}, {"did", c["did"]}, {"publicKey", c["publicKey"]}};
          json want{{"ok", c["valid"]}};
          if (c["valid"].get<bool>()) {
            want["rev"] = c["rev"];
            want["data"] = c["data"];
            want["records"] = c["records"];
          }
          if (c.contains("error")) want["code"] = c["error"];
          cases.push_back(vector_case("repo", "repo/verify", c, request, want, catalog));
        }
        return {};
      });
  if (!read) return read.error();
  cases.push_back(property_case(
      "repo", "verify.generated", "repo/verify",
      {"repo.commit.signature", "repo.mst.key-depth", "car.block.cid-matches",
       "car.export.complete"},
      "agree with the reference on generated repository exports, intact or with one byte "
      "changed",
      [](rc::Random& r, int size) {
        auto paths = gen_paths(r, size, 60);
        std::vector<std::uint8_t> raw(32, 7);
        raw[0] = 0x41;
        auto key = crypto::PrivateKey::from_bytes(crypto::Curve::kK256, raw).value();
        std::vector<repo::WriteOp> writes;
        for (std::size_t i = 0; i < paths.size(); ++i) {
          auto slash = paths[i].find('/');
          writes.push_back({repo::Action::kCreate, paths[i].substr(0, slash),
                            paths[i].substr(slash + 1),
                            data::Value(data::Map{{"n", static_cast<std::int64_t>(i)}})});
        }
        repo::MemoryBlockStore store;
        const std::string did = "did:plc:w4xbfzo7kqfes5zb7r6qv3rw";
        auto repository = repo::Repository::create(store, did, key, writes, [] {
                            return std::string("3lbzyjqq2nk2a");
                          }).value();
        auto car = repository.export_car().value();
        auto corrupt = rc::gen::inRange(0, 2)(r, size).value();
        if (corrupt == 1 && !car.empty()) {
          auto pos = rc::gen::inRange<std::size_t>(0, car.size())(r, size).value();
          car[pos] = static_cast<std::uint8_t>(car[pos] ^ 0x5a);
        }
        return json{
            {"car", padded_base64(car)}, {"did", did}, {"publicKey", key.public_key().did_key()}};
      },
      {}));
  return cases;
}

}  // namespace atproto::conformance

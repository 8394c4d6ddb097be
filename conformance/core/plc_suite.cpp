// The plc suite: vectors/plc/audit-log.json through plc/validate-log (the
// verdict, and for valid logs the DID document or, when a tombstone is in
// effect, "tombstoned": true and no document), and properties over audit
// logs the reference signs at random: valid ones, ones with one damage, and
// recoveries around the 72-hour boundary. The reference is the oracle.
// Spec: https://web.plc.directory/spec/v0.1/did-plc
#include <algorithm>
#include <random>

#include "atproto/identity/did_document.hpp"
#include "atproto/identity/test_generators.hpp"
#include "engine.hpp"
#include "reference_ops.hpp"
#include "suites.hpp"

namespace atproto::conformance {
namespace {

constexpr const char* kOperation = "plc/validate-log";

struct PlcAnswer {
  bool valid = false;
  // [plc.tombstoned] A valid log whose operation in effect is a tombstone:
  // the DID is deactivated and has no document.
  bool tombstoned = false;
  json document;  // valid answers only; null when tombstoned
  std::string code;
};

// What a DID document says, in a form where what the specs leave open does
// not matter: entry ids by their fragment (relative "#atproto" and
// "<did>#atproto" are the same, did.doc.relative-ids), keys as did:keys
// whichever representation carries them (Multikey or the legacy types,
// did.doc.legacy-keys), entries sorted, @context left out. A document that
// does not parse is compared as it is.
json normalized_document(const json& doc) {
  auto parsed = identity::parse_did_document(doc);
  if (!parsed) return doc;
  auto fragment = [](const std::string& id) {
    auto hash = id.find('#');
    return hash == std::string::npos ? id : id.substr(hash);
  };
  json methods = json::array();
  for (const auto& m : parsed->verification_methods) {
    auto key = crypto::PublicKey::from_verification_method(m.type, m.public_key_multibase);
    methods.push_back(json{{"id", fragment(m.id)},
                           {"controller", m.controller},
                           {"key", key ? key->did_key() : m.type + " " + m.public_key_multibase}});
  }
  json services = json::array();
  for (const auto& sv : parsed->services) {
    services.push_back(json{{"id", fragment(sv.id)}, {"type", sv.type}, {"endpoint", sv.endpoint}});
  }
  std::sort(methods.begin(), methods.end());
  std::sort(services.begin(), services.end());
  return json{{"id", parsed->id},
              {"alsoKnownAs", parsed->also_known_as},
              {"verificationMethod", methods},
              {"service", services}};
}

std::optional<PlcAnswer> read_answer(const Response& r, Verdict& v) {
  const json* body = engine::verdict_answer(r, v);
  if (!body) return std::nullopt;
  const json& b = *body;
  PlcAnswer a;
  a.valid = b["valid"].get<bool>();
  if (a.valid) a.document = b.value("document", json());
  if (a.valid && b.contains("tombstoned") && b["tombstoned"].is_boolean()) {
    a.tombstoned = b["tombstoned"].get<bool>();
  }
  if (b.contains("code") && b["code"].is_string()) a.code = b["code"].get<std::string>();
  return a;
}

PlcAnswer oracle(const json& request) {
  Verdict scratch;
  auto a = read_answer(reference_dispatch(kOperation, request), scratch);
  return a ? *a : PlcAnswer{};
}

Verdict run_one(RunContext& ctx, const json& request, const PlcAnswer& want) {
  Verdict v;
  v.operation = kOperation;
  v.sent = request;
  v.calls = 1;
  v.expected = json{{"valid", want.valid}};
  if (want.valid && want.tombstoned) v.expected["tombstoned"] = true;
  if (want.valid && !want.tombstoned) v.expected["document"] = want.document;
  if (!want.valid && !want.code.empty()) v.expected["code"] = want.code;
  Response r = ctx.target.call(kOperation, request);
  auto got = read_answer(r, v);
  if (!got) return v;
  if (got->valid != want.valid) {
    v.state = Verdict::State::kMismatch;
    v.message = want.valid
                    ? "the log is valid, the adapter rejected it" +
                          (got->code.empty() ? std::string() : " (" + got->code + ")")
                    : "the log breaks " + (want.code.empty() ? std::string("a rule") : want.code) +
                          ", the adapter accepted it";
  } else if (want.valid && want.tombstoned != got->tombstoned) {
    v.state = Verdict::State::kMismatch;
    v.message = want.tombstoned ? "the log ends in a tombstone, the adapter did not answer "
                                  "\"tombstoned\": true"
                                : "the log's DID is not deactivated, the adapter answered "
                                  "\"tombstoned\": true";
  } else if (want.valid && want.tombstoned && !got->document.is_null()) {
    v.state = Verdict::State::kMismatch;
    v.message = "the DID is deactivated (tombstoned), but the adapter gave a DID document";
  } else if (want.valid && !want.tombstoned &&
             normalized_document(got->document) != normalized_document(want.document)) {
    v.state = Verdict::State::kMismatch;
    v.message = "the log is valid, but the adapter resolved it to another DID document";
  }
  return v;
}

Level level_at_stake(const Catalog& catalog, const PlcAnswer& want) {
  return want.valid || want.code.empty() ? Level::kMust : strongest_level(catalog, {want.code});
}

json suggested(const std::string& slug, const json& request, const PlcAnswer& want,
               const std::string& how) {
  json vector{
      {"id", "plc.validate-log." + std::string(want.valid ? "valid" : "invalid") + "." + slug +
                 "-" + stable_hash_hex(request.dump(), 10)},
      {"requirements",
       want.valid ? (want.tombstoned ? json::array({"plc.sig.rotation-key", "plc.tombstoned"})
                                     : json::array({"plc.sig.rotation-key"}))
                  : json::array({want.code})},
      {"did", request["did"]},
      {"log", request["log"]},
      {"valid", want.valid}};
  if (want.valid && want.tombstoned) {
    vector["tombstoned"] = true;
  } else if (want.valid) {
    vector["document"] = want.document;
  } else {
    vector["error"] = want.code;
  }
  vector["comment"] = how + "; verdict from the reference";
  return vector;
}

Case vector_case(const json& c, const Catalog& catalog) {
  Case out;
  out.id = "plc.vector." + c.value("id", "");
  out.suite = "plc";
  out.kind = CaseKind::kVector;
  out.requirements = string_list(c.value("requirements", json::array()));
  out.level = strongest_level(catalog, out.requirements);
  out.operation = kOperation;
  const bool valid = c.value("valid", false);
  out.description = std::string(valid ? "accept" : "reject") + " via " + kOperation + ": " +
                    c.value("comment", "");
  json request{{"did", c.value("did", json())}, {"log", c.value("log", json())}};
  PlcAnswer want;
  want.valid = valid;
  want.tombstoned = valid && c.value("tombstoned", false);
  want.document = c.value("document", json());
  want.code = c.value("error", "");
  out.run = [request, want](RunContext& ctx) { return run_one(ctx, request, want); };
  return out;
}

// A log for one property draw: "generated" (valid as signed), "one-damage"
// (one change the rules must catch) or "recovery-window" (a fork some
// milliseconds around 72 hours after the operation it nullifies).
json property_request(const std::string& variant, std::mt19937_64& rng, std::string& how) {
  using namespace identity::testing;
  if (variant == "recovery-window") {
    std::int64_t ms = 72LL * 3600 * 1000 - 3000 + static_cast<std::int64_t>(rng() % 6001);
    LogBuilder log = recovery_log(std::chrono::milliseconds(ms));
    how = "a recovery " + std::to_string(ms) + " ms after the operation it nullifies";
    return json{{"did", log.did()}, {"log", log.to_json()}};
  }
  LogBuilder log = random_log(rng);
  how = "a random log of " + std::to_string(log.entries().size()) + " operations";
  if (variant == "one-damage") {
    how += ", " + mutate_log(log.entries(), rng);
  }
  return json{{"did", log.did()}, {"log", log.to_json()}};
}

Case property_case(const std::string& variant, const Catalog& catalog) {
  Case c;
  c.id = "plc.property.validate-log." + variant;
  c.suite = "plc";
  c.kind = CaseKind::kProperty;
  if (variant == "generated") {
    c.requirements = {"plc.sig.rotation-key", "plc.log.prev", "plc.recovery.priority",
                      "plc.doc.render", "plc.tombstoned"};
    c.description =
        "accept random logs the reference signs (updates, rotations, recoveries, "
        "tombstones) and resolve them to the same DID document, or to none when a "
        "tombstone is in effect";
  } else if (variant == "one-damage") {
    c.requirements = {"plc.sig.rotation-key", "plc.log.prev", "plc.log.nullified",
                      "plc.sig.base64url"};
    c.description =
        "reject random signed logs with one damage (a field changed after signing, "
        "a flipped signature bit, another prev, a toggled nullified flag, padding)";
  } else {
    c.requirements = {"plc.recovery.window"};
    c.description =
        "accept a recovery up to exactly 72 hours after the operation it nullifies, "
        "reject it one millisecond later";
  }
  c.level = Level::kMust;
  c.operation = kOperation;
  c.run = [variant, &catalog](RunContext& ctx) {
    // Each draw is a seed for the log builders (they take a std::mt19937_64);
    // shrinking a seed says nothing about the log, so there is no shrinking.
    struct Draw {
      json request;
      std::string how;
    };
    engine::Property<Draw> property(
        rc::gen::map(rc::gen::arbitrary<std::uint64_t>(), [variant](std::uint64_t seed) {
          std::mt19937_64 rng(seed);
          Draw d;
          d.request = property_request(variant, rng, d.how);
          return d;
        }));
    property.salt = std::hash<std::string>{}(variant);
    property.shrink_enabled = false;
    property.check = [&ctx](const Draw& d) { return run_one(ctx, d.request, oracle(d.request)); };
    property.finish = [&catalog, variant](const Draw& d, Verdict v) {
      PlcAnswer want = oracle(d.request);
      v.level = level_at_stake(catalog, want);
      v.message += " [" + d.how + "]";
      v.suggested_vector =
          suggested("found", d.request, want, "found by the " + variant + " property, " + d.how);
      return v;
    };
    return engine::run_property(ctx, property);
  };
  return c;
}

}  // namespace

Result<std::vector<Case>> build_plc_suite(const SuiteSources& sources, const Catalog& catalog) {
  std::vector<Case> cases;
  auto read = for_each_vector_file(sources.vectors_dir + "/plc", /*optional=*/false,
                                   [&](const json& doc) -> Status {
                                     if (doc.value("operation", "") != "validate-log") return {};
                                     for (const auto& c : doc.value("cases", json::array())) {
                                       cases.push_back(vector_case(c, catalog));
                                     }
                                     return {};
                                   });
  if (!read.ok()) return read.error();
  for (const char* variant : {"generated", "one-damage", "recovery-window"}) {
    cases.push_back(property_case(variant, catalog));
  }
  return cases;
}

}  // namespace atproto::conformance

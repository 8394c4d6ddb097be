// Replays the firehose vectors (vectors/sync/firehose.json, written by
// tools/gen-sync-vectors.py independently of this code): every frame of
// every case through check_frame against the case's account state, with
// the expected verdict and deciding rule, applying accepted events.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "atproto/common/hex.hpp"
#include "atproto/sync/checklist.hpp"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace atproto::sync;

const fs::path kVectorDir = fs::path(ATPROTO_VECTORS_DIR) / "sync";

json load(const std::string& name) {
  std::ifstream in(kVectorDir / name);
  REQUIRE(in.good());
  return json::parse(in);
}

std::optional<std::string> optional_string(const json& v) {
  if (v.is_null()) return std::nullopt;
  return v.get<std::string>();
}

AccountState account_of(const json& a) {
  AccountState s;
  s.did = a.at("did").get<std::string>();
  s.host = optional_string(a.at("host"));
  s.active = a.at("active").get<bool>();
  s.status = optional_string(a.at("status"));
  s.last_rev = optional_string(a.at("rev")).value_or("");
  if (!a.at("data").is_null()) {
    s.last_data = atproto::data::Cid::parse(a.at("data").get<std::string>()).value();
  }
  if (!a.at("signingKey").is_null()) {
    s.signing_key =
        atproto::crypto::PublicKey::from_did_key(a.at("signingKey").get<std::string>()).value();
  }
  s.identity_fresh = a.at("identityFresh").get<bool>();
  return s;
}

}  // namespace

TEST_CASE("sync vectors: firehose verdicts, one case per checklist rule at least", "[vectors]") {
  json doc = load("firehose.json");
  REQUIRE(doc.at("kind") == "sync");
  std::set<std::string> rules_seen;
  std::set<std::string> verdicts_seen;
  std::size_t events = 0;
  for (const json& c : doc.at("cases")) {
    const std::string id = c.at("id").get<std::string>();
    AccountState state = account_of(c.at("account"));
    const json& ctx = c.at("context");
    CheckContext context{ctx.at("host").get<std::string>(), ctx.at("nowMicros").get<std::int64_t>(),
                         ctx.at("clockSkewMicros").get<std::int64_t>()};
    bool all_accepted = true;
    std::size_t index = 0;
    for (const json& e : c.at("events")) {
      INFO(id << " event " << index++ << ": " << e.at("summary").get<std::string>());
      auto frame = atproto::hex_decode(e.at("frame").get<std::string>());
      REQUIRE(frame.has_value());
      Verdict v = check_frame(*frame, state, context);
      INFO("got " << verdict_action_name(v.action) << " " << v.rule << ": " << v.message);
      CHECK(std::string(verdict_action_name(v.action)) == e.at("verdict").get<std::string>());
      const std::string rule = e.at("rule").is_null() ? "" : e.at("rule").get<std::string>();
      CHECK(v.rule == rule);
      apply_verdict(state, v);
      all_accepted = all_accepted && v.action == VerdictAction::kAccept;
      if (!rule.empty()) rules_seen.insert(rule);
      verdicts_seen.insert(e.at("verdict").get<std::string>());
      ++events;
    }
    CHECK(c.at("valid").get<bool>() == all_accepted);
  }
  // Every rule of the checklist that a vector can show (the multi-megabyte
  // limits are left to checklist_test.cpp) decides at least one event.
  for (const char* rule :
       {"sync.limits.commit-ops", "sync.limits.sync-blocks", "sync.check.identity",
        "sync.check.host", "sync.check.active", "sync.check.structure", "sync.check.signature",
        "sync.check.fields-match", "sync.check.rev-order", "sync.check.rev-future",
        "sync.check.records", "sync.check.inversion", "sync.check.since", "sync.check.prev-data",
        "sync.check.sync-reset", "sync.check.identity-event", "sync.check.account-event"}) {
    INFO(rule);
    CHECK(rules_seen.count(rule) == 1);
  }
  CHECK(verdicts_seen == std::set<std::string>{"accept", "drop", "resync", "refresh-identity"});
  CHECK(events >= 40);
}

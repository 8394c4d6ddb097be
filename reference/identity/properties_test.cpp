// Property tests for did:plc (RapidCheck inside Catch2).
//
// Random valid logs (updates, key rotations, recoveries, tombstones) built
// by signing with the rotation keys validate, and resolve to the document of
// their last operation in effect; one damage (a field changed after signing,
// a flipped signature bit, another prev, a toggled nullified flag, a padded
// signature) makes them invalid; a recovery is in time exactly up to 72 h.
//
// Run only these with: identity_tests "[properties]".
#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include <chrono>
#include <random>

#include "atproto/identity/plc.hpp"
#include "atproto/identity/test_generators.hpp"

namespace {

namespace gen = rc::gen;
using namespace atproto;
using namespace atproto::identity;
using namespace atproto::identity::testing;

const AuditEntry& last_in_effect(const std::vector<AuditEntry>& log) {
  std::size_t i = log.size() - 1;
  while (log[i].nullified) --i;
  return log[i];
}

}  // namespace

TEST_CASE(
    "did:plc properties [plc.sig.rotation-key] [plc.log.prev] [plc.recovery.priority] "
    "[plc.log.nullified]",
    "[properties][plc]") {
  rc::prop("a log signed by the rules validates and resolves to its last operation", [] {
    std::mt19937_64 rng(*gen::arbitrary<std::uint64_t>());
    LogBuilder log = random_log(rng);
    auto doc = validate_audit_log(log.did(), log.entries());
    const auto& last = last_in_effect(log.entries());
    if (last.operation.type == PlcOperationType::kTombstone) {
      RC_ASSERT(!doc.ok());
      RC_ASSERT(doc.error().code == "plc.tombstoned");
      return;
    }
    RC_ASSERT(doc.ok());
    RC_ASSERT(to_json(*doc) == to_json(document_for_operation(log.did(), last.operation).value()));
    // The JSON form round-trips and validates the same.
    auto parsed = parse_audit_log(log.to_json());
    RC_ASSERT(parsed.ok());
    RC_ASSERT(validate_audit_log(log.did(), *parsed).ok());
  });

  rc::prop("one damage to a valid log makes it invalid", [] {
    std::mt19937_64 rng(*gen::arbitrary<std::uint64_t>());
    LogBuilder log = random_log(rng);
    auto entries = log.entries();
    std::string what = mutate_log(entries, rng);
    RC_LOG() << what << "\n";
    auto doc = validate_audit_log(log.did(), entries);
    RC_ASSERT(!doc.ok());
    RC_ASSERT(doc.error().code != "plc.tombstoned");
  });
}

TEST_CASE("the recovery window ends at exactly 72 hours [plc.recovery.window]",
          "[properties][plc]") {
  rc::prop("a fork d after the disputed operation is valid iff d <= 72 h", [] {
    using std::chrono::milliseconds;
    auto d = milliseconds(
        *gen::inRange<std::int64_t>(72LL * 3600 * 1000 - 5000, 72LL * 3600 * 1000 + 5000));
    LogBuilder log = recovery_log(d);
    auto doc = validate_audit_log(log.did(), log.entries());
    if (d <= kRecoveryWindow) {
      RC_ASSERT(doc.ok());
    } else {
      RC_ASSERT(!doc.ok());
      RC_ASSERT(doc.error().code == "plc.recovery.window");
    }
  });
}

TEST_CASE(
    "operations round-trip through JSON and keep their CID [plc.cid.operation] [plc.op.fields]",
    "[properties][plc]") {
  rc::prop("parse(to_json(op)) has the same CID", [] {
    std::mt19937_64 rng(*gen::arbitrary<std::uint64_t>());
    LogBuilder log = random_log(rng);
    for (const auto& e : log.entries()) {
      auto back = parse_plc_operation(to_json(e.operation));
      RC_ASSERT(back.ok());
      RC_ASSERT(plc_operation_cid(*back).value() == e.cid);
    }
  });
}

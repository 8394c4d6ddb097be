// Unit tests for did:plc operations and audit-log validation: each rule is
// broken once and the failure must name it.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <string>

#include "atproto/data/base64.hpp"
#include "atproto/data/cbor.hpp"
#include "atproto/identity/plc.hpp"
#include "atproto/identity/test_generators.hpp"

namespace {

using namespace atproto;
using namespace atproto::identity;
using namespace atproto::identity::testing;
using crypto::Curve;
using std::chrono::hours;
using std::chrono::milliseconds;

template <typename R>
std::string code_of(const R& r) {
  return r.ok() ? std::string("<ok>") : r.error().code;
}

struct Fixture {
  TestKey recovery = test_key(Curve::kK256, 1);
  TestKey rotation = test_key(Curve::kP256, 2);
  TestKey signing = test_key(Curve::kK256, 3);
  TestKey attacker = test_key(Curve::kK256, 4);
  LogBuilder log;
  std::string genesis_cid;

  Fixture() {
    genesis_cid = log.append(regular_operation({recovery.did_key, rotation.did_key},
                                               signing.did_key, "alice.test", std::nullopt),
                             rotation.key, test_epoch());
  }
  PlcOperation update(const std::string& prev, const std::string& handle) const {
    return regular_operation({recovery.did_key, rotation.did_key}, signing.did_key, handle, prev);
  }
};

}  // namespace

TEST_CASE("a signed genesis operation derives its DID and validates [plc.did.genesis]", "[plc]") {
  Fixture f;
  const auto& did = f.log.did();
  CHECK(did.size() == 32);
  CHECK(did.starts_with("did:plc:"));
  auto doc = validate_audit_log(did, f.log.entries());
  REQUIRE(doc.ok());
  CHECK(doc->id == did);
  CHECK(doc->also_known_as == std::vector<std::string>{"at://alice.test"});
  // [plc.doc.render] "<did>#atproto" Multikey and "#atproto_pds".
  REQUIRE(doc->verification_methods.size() == 1);
  CHECK(doc->verification_methods[0].id == did + "#atproto");
  CHECK("did:key:" + doc->verification_methods[0].public_key_multibase == f.signing.did_key);
  REQUIRE(doc->services.size() == 1);
  CHECK(doc->services[0].id == "#atproto_pds");
  CHECK(doc->services[0].endpoint == "https://pds.example.com");
  // A log for another DID fails the genesis hash rule.
  auto other = validate_audit_log("did:plc:aaaaaaaaaaaaaaaaaaaaaaaa", f.log.entries());
  // plc.log.did comes first: the entries name their own DID.
  CHECK(code_of(other) == "plc.log.did");
  auto entries = f.log.entries();
  for (auto& e : entries) e.did = "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa";
  CHECK(code_of(validate_audit_log("did:plc:aaaaaaaaaaaaaaaaaaaaaaaa", entries)) ==
        "plc.did.genesis");
}

TEST_CASE(
    "the signed bytes omit sig and the sig is unpadded base64url [plc.sig.unsigned-cbor] "
    "[plc.sig.base64url]",
    "[plc]") {
  Fixture f;
  const auto& op = f.log.entries()[0].operation;
  auto unsigned_bytes = unsigned_operation_bytes(op);
  REQUIRE(unsigned_bytes.ok());
  auto value = data::decode_cbor(*unsigned_bytes);
  REQUIRE(value.ok());
  CHECK(value->find("sig") == nullptr);
  CHECK(value->find("prev") != nullptr);  // present, null
  CHECK(value->find("prev")->is_null());
  CHECK(op.sig.size() == 86);
  CHECK(op.sig.find('=') == std::string::npos);
  // The signature verifies over exactly these bytes with the rotation key.
  auto sig = data::base64url_decode(op.sig);
  REQUIRE(sig.ok());
  CHECK(f.rotation.key.public_key().verify(*unsigned_bytes, *sig).ok());
  // [plc.cid.operation] the entry CID is the signed operation's.
  auto signed_bytes = signed_operation_bytes(op);
  REQUIRE(signed_bytes.ok());
  CHECK(f.log.entries()[0].cid ==
        data::Cid::compute(data::Codec::kDagCbor, *signed_bytes).to_string());
}

TEST_CASE(
    "JSON round trip and strict parsing [plc.op.fields] [plc.op.type] [plc.op.prev] "
    "[plc.op.prev-cid]",
    "[plc]") {
  Fixture f;
  auto json = to_json(f.log.entries()[0].operation);
  auto back = parse_plc_operation(json);
  REQUIRE(back.ok());
  CHECK(to_json(*back) == json);

  auto extra = json;
  extra["extra"] = 1;
  CHECK(code_of(parse_plc_operation(extra)) == "plc.op.fields");
  auto missing = json;
  missing.erase("prev");
  CHECK(code_of(parse_plc_operation(missing)) == "plc.op.fields");
  auto no_sig = json;
  no_sig.erase("sig");
  CHECK(code_of(parse_plc_operation(no_sig)) == "plc.op.fields");
  auto bad_type = json;
  bad_type["type"] = "plc_update";
  CHECK(code_of(parse_plc_operation(bad_type)) == "plc.op.type");
  auto bad_prev = json;
  bad_prev["prev"] = "not-a-cid";
  CHECK(code_of(parse_plc_operation(bad_prev)) == "plc.op.prev-cid");
  nlohmann::json tombstone = {{"type", "plc_tombstone"}, {"prev", nullptr}, {"sig", "AA"}};
  CHECK(code_of(parse_plc_operation(tombstone)) == "plc.op.prev");
  nlohmann::json service_extra = json;
  service_extra["services"]["atproto_pds"]["x"] = "y";
  CHECK(code_of(parse_plc_operation(service_extra)) == "plc.op.fields");
}

TEST_CASE(
    "operation limits [plc.op.rotation-keys-count] [plc.op.rotation-keys-unique] "
    "[plc.op.rotation-key-type] [plc.op.verification-method-syntax] "
    "[plc.op.verification-methods-max] [plc.op.size]",
    "[plc]") {
  Fixture f;
  auto op = f.log.entries()[0].operation;
  CHECK(validate_plc_operation(op).ok());

  auto none = op;
  none.rotation_keys.clear();
  CHECK(code_of(validate_plc_operation(none)) == "plc.op.rotation-keys-count");
  auto six = op;
  for (std::uint8_t i = 10; i < 14; ++i)
    six.rotation_keys.push_back(test_key(Curve::kK256, i).did_key);
  CHECK(six.rotation_keys.size() == 6);
  CHECK(code_of(validate_plc_operation(six)) == "plc.op.rotation-keys-count");
  six.rotation_keys.pop_back();  // five is the limit, and allowed
  CHECK(validate_plc_operation(six).ok());
  auto twice = op;
  twice.rotation_keys.push_back(twice.rotation_keys[0]);
  CHECK(code_of(validate_plc_operation(twice)) == "plc.op.rotation-keys-unique");
  auto ed25519 = op;
  ed25519.rotation_keys[1] = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK";
  CHECK(code_of(validate_plc_operation(ed25519)) == "plc.op.rotation-key-type");
  // Verification methods may be any did:key (ed25519 here), but must be one.
  auto vm_any = op;
  vm_any.verification_methods["other"] = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK";
  CHECK(validate_plc_operation(vm_any).ok());
  auto vm_bad = op;
  vm_bad.verification_methods["other"] = "did:key:zInvalid0OIl";
  CHECK(code_of(validate_plc_operation(vm_bad)) == "plc.op.verification-method-syntax");
  auto vm_many = op;
  for (int i = 0; i < 10; ++i)
    vm_many.verification_methods["k" + std::to_string(i)] = f.signing.did_key;
  CHECK(vm_many.verification_methods.size() == 11);
  CHECK(code_of(validate_plc_operation(vm_many)) == "plc.op.verification-methods-max");
  // The size limit counts the signed DAG-CBOR: grow alsoKnownAs until just
  // over 7500 bytes.
  auto big = op;
  while (signed_operation_bytes(big)->size() <= kMaxOperationBytes) {
    big.also_known_as.push_back("at://padding-" + std::to_string(big.also_known_as.size()) +
                                ".test");
  }
  CHECK(code_of(validate_plc_operation(big)) == "plc.op.size");
  big.also_known_as.pop_back();
  CHECK(signed_operation_bytes(big)->size() <= kMaxOperationBytes);
  CHECK(validate_plc_operation(big).ok());
}

TEST_CASE(
    "signature strictness [plc.sig.base64url] [plc.sig.compact] [plc.sig.low-s] "
    "[plc.sig.rotation-key]",
    "[plc]") {
  Fixture f;
  auto entries = f.log.entries();
  const auto op = entries[0].operation;
  auto bytes = data::base64url_decode(op.sig).value();

  auto padded = op;
  padded.sig += "==";
  CHECK(code_of(validate_plc_operation(padded)) == "plc.sig.base64url");
  auto standard = op;
  standard.sig = data::base64_encode(bytes);
  if (standard.sig != op.sig) {
    CHECK(code_of(validate_plc_operation(standard)) == "plc.sig.base64url");
  }
  // DER: 0x30 len 0x02 0x20 r 0x02 0x20 s (r and s below 0x80 not needed
  // for the length check: any 0x30-led non-64-byte string is named DER).
  std::vector<std::uint8_t> der = {0x30, 0x44, 0x02, 0x20};
  der.insert(der.end(), bytes.begin(), bytes.begin() + 32);
  der.push_back(0x02);
  der.push_back(0x20);
  der.insert(der.end(), bytes.begin() + 32, bytes.end());
  auto der_op = op;
  der_op.sig = data::base64url_encode(der);
  CHECK(code_of(validate_plc_operation(der_op)) == "plc.sig.compact");
  // High-S twin (s -> n - s) of the genuine (P-256) signature: refused as such.
  std::array<std::uint8_t, crypto::kSignatureSize> compact{};
  std::copy(bytes.begin(), bytes.end(), compact.begin());
  const auto twin = crypto::high_s_twin(crypto::Curve::kP256, compact);
  auto high = op;
  high.sig = data::base64url_encode(twin);
  CHECK(code_of(plc_signer_index(high, op.rotation_keys)) == "plc.sig.low-s");
  entries[0].operation = high;
  entries[0].cid = plc_operation_cid(high).value();
  // (the DID also changes with the signature, but the signature rule comes first)
  CHECK(code_of(check_plc_submission(f.log.did(), {}, high, test_epoch())) == "plc.sig.low-s");
  // A key outside the rotation keys in effect.
  CHECK(plc_signer_index(op, op.rotation_keys).value() == 1);
  CHECK(code_of(plc_signer_index(op, {f.attacker.did_key})) == "plc.sig.rotation-key");
}

TEST_CASE(
    "updates chain by prev and are signed by the previous rotation keys [plc.log.prev] "
    "[plc.log.genesis] "
    "[plc.sig.rotation-key] [plc.log.cid]",
    "[plc]") {
  Fixture f;
  auto t = test_epoch();
  auto second = f.log.append(f.update(f.genesis_cid, "bob.test"), f.rotation.key, t + hours(1));
  auto doc = validate_audit_log(f.log.did(), f.log.entries());
  REQUIRE(doc.ok());
  CHECK(doc->also_known_as == std::vector<std::string>{"at://bob.test"});

  // A key rotation takes effect for the NEXT operation only.
  auto rotate = regular_operation({f.attacker.did_key}, f.signing.did_key, "bob.test", second);
  LogBuilder copy = f.log;
  auto third = copy.append(rotate, f.rotation.key, t + hours(2));
  copy.append(f.update(third, "carol.test"), f.attacker.key, t + hours(3));
  CHECK(validate_audit_log(copy.did(), copy.entries()).ok());
  // ... and the old keys no longer sign.
  LogBuilder stale = f.log;
  stale.append(rotate, f.rotation.key, t + hours(2));
  stale.append(f.update(stale.entries().back().cid, "carol.test"), f.rotation.key, t + hours(3));
  CHECK(code_of(validate_audit_log(stale.did(), stale.entries())) == "plc.sig.rotation-key");

  // prev naming an unknown operation.
  LogBuilder unknown = f.log;
  unknown.append(f.update("bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm", "x.test"),
                 f.rotation.key, t + hours(2));
  CHECK(code_of(validate_audit_log(unknown.did(), unknown.entries())) == "plc.log.prev");
  // A second genesis in an existing log.
  LogBuilder again = f.log;
  again.append(regular_operation({f.rotation.did_key}, f.signing.did_key, "x.test", std::nullopt),
               f.rotation.key, t + hours(2));
  again.entries().back().did = f.log.did();
  CHECK(code_of(validate_audit_log(again.did(), again.entries())) == "plc.log.prev");
  // A wrong entry cid.
  auto entries = f.log.entries();
  entries[1].cid = entries[0].cid;
  CHECK(code_of(validate_audit_log(f.log.did(), entries)) == "plc.log.cid");
  // A log that does not start with a genesis operation.
  std::vector<AuditEntry> headless(f.log.entries().begin() + 1, f.log.entries().end());
  CHECK(code_of(validate_audit_log(f.log.did(), headless)) == "plc.log.genesis");
  CHECK(code_of(validate_audit_log(f.log.did(), {})) == "plc.log.genesis");
}

TEST_CASE(
    "recovery: a higher-priority key forks within 72 hours, inclusive [plc.recovery.priority] "
    "[plc.recovery.window] [plc.log.nullified]",
    "[plc]") {
  Fixture f;
  auto t = test_epoch();
  // The lower-priority rotation key (index 1) moves the account.
  f.log.append(f.update(f.genesis_cid, "mallory.test"), f.rotation.key, t + hours(1));
  const auto disputed_at = t + hours(1);

  for (auto [delay, ok] : {std::pair{hours(72), true}, std::pair{hours(1), true}}) {
    LogBuilder fork = f.log;
    fork.append(f.update(f.genesis_cid, "alice.test"), f.recovery.key, disputed_at + delay);
    fork.entries()[1].nullified = true;
    auto doc = validate_audit_log(fork.did(), fork.entries());
    CHECK(doc.ok() == ok);
    if (doc) CHECK(doc->also_known_as == std::vector<std::string>{"at://alice.test"});
    // The flags must match what the rules derive.
    fork.entries()[1].nullified = false;
    CHECK(code_of(validate_audit_log(fork.did(), fork.entries())) == "plc.log.nullified");
  }
  // One millisecond past 72 hours is late.
  {
    LogBuilder fork = f.log;
    fork.append(f.update(f.genesis_cid, "alice.test"), f.recovery.key,
                disputed_at + hours(72) + milliseconds(1));
    fork.entries()[1].nullified = true;
    CHECK(code_of(validate_audit_log(fork.did(), fork.entries())) == "plc.recovery.window");
  }
  // The same key (or a lower one) cannot fork.
  {
    LogBuilder fork = f.log;
    fork.append(f.update(f.genesis_cid, "alice.test"), f.rotation.key, disputed_at + hours(2));
    fork.entries()[1].nullified = true;
    CHECK(code_of(validate_audit_log(fork.did(), fork.entries())) == "plc.recovery.priority");
  }
  // Directory side: the plan lists what the recovery nullifies.
  auto recovery = f.update(f.genesis_cid, "alice.test");
  REQUIRE(sign_plc_operation(recovery, f.recovery.key).ok());
  auto plan = check_plc_submission(f.log.did(), f.log.entries(), recovery, disputed_at + hours(72));
  REQUIRE(plan.ok());
  CHECK(plan->nullifies == std::vector<std::size_t>{1});
  CHECK(code_of(check_plc_submission(f.log.did(), f.log.entries(), recovery,
                                     disputed_at + hours(72) + milliseconds(1))) ==
        "plc.recovery.window");
  // Building on a nullified operation is refused.
  auto entries = f.log.entries();
  entries[1].nullified = true;
  auto on_nullified = f.update(entries[1].cid, "x.test");
  REQUIRE(sign_plc_operation(on_nullified, f.recovery.key).ok());
  CHECK(code_of(check_plc_submission(f.log.did(), entries, on_nullified, disputed_at)) ==
        "plc.log.prev");
}

TEST_CASE(
    "tombstones deactivate, end the log, and can be recovered [plc.tombstoned] "
    "[plc.tombstone.final]",
    "[plc]") {
  Fixture f;
  auto t = test_epoch();
  auto tomb = f.log.append(tombstone_operation(f.genesis_cid), f.rotation.key, t + hours(1));
  CHECK(code_of(validate_audit_log(f.log.did(), f.log.entries())) == "plc.tombstoned");
  LogBuilder after = f.log;
  after.append(f.update(tomb, "x.test"), f.recovery.key, t + hours(2));
  CHECK(code_of(validate_audit_log(after.did(), after.entries())) == "plc.tombstone.final");
  // The recovery key undoes the tombstone within the window.
  LogBuilder undo = f.log;
  undo.append(f.update(f.genesis_cid, "alice.test"), f.recovery.key, t + hours(5));
  undo.entries()[1].nullified = true;
  CHECK(validate_audit_log(undo.did(), undo.entries()).ok());
}

TEST_CASE(
    "legacy create operations start a DID and only that [plc.doc.legacy-create] "
    "[plc.op.legacy-genesis-only]",
    "[plc]") {
  Fixture f;
  PlcOperation create;
  create.type = PlcOperationType::kLegacyCreate;
  create.signing_key = f.signing.did_key;
  create.recovery_key = f.recovery.did_key;
  create.handle = "alice.test";
  create.service = "https://pds.example.com";
  LogBuilder log;
  // Signed by the signing key, which a legacy create makes a rotation key.
  auto genesis = log.append(create, f.signing.key, test_epoch());
  auto doc = validate_audit_log(log.did(), log.entries());
  REQUIRE(doc.ok());
  CHECK(doc->also_known_as == std::vector<std::string>{"at://alice.test"});
  REQUIRE(doc->services.size() == 1);
  CHECK(doc->services[0].endpoint == "https://pds.example.com");
  auto json = to_json(log.entries()[0].operation);
  CHECK(json["type"] == "create");
  CHECK(json.contains("prev"));
  CHECK(parse_plc_operation(json).ok());
  // The recovery key outranks the signing key for a fork.
  log.append(f.update(genesis, "bob.test"), f.signing.key, test_epoch() + hours(1));
  LogBuilder fork = log;
  fork.append(f.update(genesis, "alice.test"), f.recovery.key, test_epoch() + hours(2));
  fork.entries()[1].nullified = true;
  CHECK(validate_audit_log(fork.did(), fork.entries()).ok());
  // A legacy create after the genesis is refused.
  auto late = create;
  late.handle = "other.test";
  REQUIRE(sign_plc_operation(late, f.signing.key).ok());
  CHECK(code_of(check_plc_submission(log.did(), log.entries(), late, test_epoch())) ==
        "plc.op.legacy-genesis-only");
}

TEST_CASE(
    "audit log JSON: entries, DIDs and timestamps [plc.log.entry] [plc.log.did] "
    "[plc.log.created-at]",
    "[plc]") {
  Fixture f;
  f.log.append(f.update(f.genesis_cid, "bob.test"), f.rotation.key, test_epoch() + hours(1));
  auto json = f.log.to_json();
  auto parsed = parse_audit_log(json);
  REQUIRE(parsed.ok());
  CHECK(validate_audit_log(f.log.did(), *parsed).ok());
  CHECK(json[0]["createdAt"] == "2024-01-01T00:00:00.000Z");

  auto extra = json;
  extra[0]["seq"] = 1;
  CHECK(code_of(parse_audit_log(extra)) == "plc.log.entry");
  auto not_bool = json;
  not_bool[0]["nullified"] = "false";
  CHECK(code_of(parse_audit_log(not_bool)) == "plc.log.entry");
  CHECK(code_of(parse_audit_log(nlohmann::json::object())) == "plc.log.entry");

  auto entries = *parsed;
  entries[1].created_at = "2023-12-31T23:59:59.999Z";
  CHECK(code_of(validate_audit_log(f.log.did(), entries)) == "plc.log.created-at");
  entries[1].created_at = "yesterday";
  CHECK(code_of(validate_audit_log(f.log.did(), entries)) == "plc.log.created-at");
  entries = *parsed;
  entries[1].did = "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa";
  CHECK(code_of(validate_audit_log(f.log.did(), entries)) == "plc.log.did");
  CHECK(code_of(validate_audit_log("did:plc:short", *parsed)) == "did.plc.syntax");
}

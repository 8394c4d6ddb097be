// The checklist, rule by rule: each test takes a commit (or #sync) that a
// correct consumer accepts, breaks one thing, and shows the rule that
// catches it and the verdict it gives.
// Spec: https://atproto.com/specs/sync#message-validation-checklist
#include "atproto/sync/checklist.hpp"

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "atproto/car/car.hpp"
#include "atproto/common/testing.hpp"
#include "atproto/data/cbor.hpp"
#include "atproto/repo/repository.hpp"
#include "atproto/syntax/tid.hpp"

namespace {

using atproto::car::CarBlock;
using atproto::car::CarFile;
using atproto::crypto::Curve;
using atproto::crypto::PrivateKey;
using atproto::data::Cid;
using atproto::data::Codec;
using atproto::data::Map;
using atproto::data::Value;
using atproto::repo::Action;
using atproto::repo::MemoryBlockStore;
using atproto::repo::Repository;
using atproto::repo::WriteOp;
using atproto::testing::code_of;
using namespace atproto::sync;

constexpr std::int64_t kBaseMicros = 1'725'000'000'000'000;  // 2024-08-30
const std::string kDid = "did:plc:ewvi7nxzyoun6zhxrhs64oiz";
const std::string kHost = "pds.example.com";

std::string tid_at(std::int64_t micros) {
  return atproto::syntax::encode_tid({static_cast<std::uint64_t>(micros), 0}).value();
}

PrivateKey fixed_key(std::uint8_t seed) {
  std::vector<std::uint8_t> raw(32, seed);
  return PrivateKey::from_bytes(Curve::kK256, raw).value();
}

WriteOp create(const std::string& rkey, const std::string& text) {
  return WriteOp{Action::kCreate, "app.bsky.feed.post", rkey,
                 Value(Map{{"$type", Value("app.bsky.feed.post")}, {"text", Value(text)}})};
}

// A repository with a few records, one commit on top of it (the event under
// test) and the consumer's state from before that commit.
struct Fixture {
  MemoryBlockStore store;
  PrivateKey key = fixed_key(7);
  std::int64_t clock = kBaseMicros;
  std::unique_ptr<Repository> repo;
  AccountState state;
  CheckContext context;
  CommitEvent event;

  Fixture() {
    auto tick = [this] {
      clock += 1'000'000;
      return tid_at(clock);
    };
    repo = std::make_unique<Repository>(
        Repository::create(store, kDid, key,
                           {create("3l3qo2vuaaa2b", "one"), create("3l3qo2vubbb2b", "two"),
                            create("3l3qo2vuccc2b", "three")},
                           tick)
            .value());
    state.did = kDid;
    state.host = kHost;
    state.last_rev = repo->commit().rev;
    state.last_data = repo->commit().data;
    state.signing_key = key.public_key();
    event = next_commit({create("3l3qo2vuddd2b", "four"),
                         WriteOp{Action::kDelete, "app.bsky.feed.post", "3l3qo2vuaaa2b", {}},
                         WriteOp{Action::kUpdate, "app.bsky.feed.post", "3l3qo2vubbb2b",
                                 Value(Map{{"text", Value("two again")}})}});
    context.host = kHost;
    context.now_micros = clock + 1'000'000;
  }

  CommitEvent next_commit(const std::vector<WriteOp>& writes) {
    auto result = repo->apply_writes(writes, key).value();
    return commit_event(result, 100, "2024-08-30T06:40:00.000Z");
  }

  Verdict check() const { return check_commit(event, state, context); }
};

// The CAR of `event` with `edit` applied to its blocks.
template <typename Edit>
void edit_blocks(CommitEvent& event, Edit edit) {
  CarFile car = atproto::car::read_car(event.blocks).value();
  edit(car);
  event.blocks = atproto::car::write_car(car);
}

}  // namespace

TEST_CASE("a well-formed commit is accepted and moves the account on", "[sync]") {
  Fixture f;
  Verdict v = f.check();
  INFO(v.message);
  REQUIRE(v.action == VerdictAction::kAccept);
  CHECK(v.rule.empty());
  apply_verdict(f.state, v);
  CHECK(f.state.last_rev == f.event.rev);
  CHECK(f.state.last_data == f.repo->commit().data);
  // Replaying it is now stale; the next commit chains onto it.
  CHECK(f.check().rule == "sync.check.rev-order");
  f.event = f.next_commit({create("3l3qo2vueee2b", "five")});
  f.context.now_micros = f.clock;
  CHECK(f.check().action == VerdictAction::kAccept);
}

TEST_CASE("blocks beyond 2,000,000 bytes are dropped [sync.limits.commit-blocks]", "[sync]") {
  Fixture f;
  CHECK(check_commit_blocks_size(f.event).ok());
  f.event.blocks.resize(kMaxCommitBlocksBytes + 1);
  CHECK(code_of(check_commit_blocks_size(f.event)) == "sync.limits.commit-blocks");
  Verdict v = f.check();
  CHECK(v.action == VerdictAction::kDrop);
  CHECK(v.rule == "sync.limits.commit-blocks");
  f.event.blocks.resize(kMaxCommitBlocksBytes);
  CHECK(check_commit_blocks_size(f.event).ok());
}

TEST_CASE("more than 200 ops are dropped [sync.limits.commit-ops]", "[sync]") {
  Fixture f;
  f.event.ops.resize(kMaxCommitOps, f.event.ops.front());
  CHECK(check_commit_ops_count(f.event).ok());
  f.event.ops.push_back(f.event.ops.front());
  CHECK(code_of(check_commit_ops_count(f.event)) == "sync.limits.commit-ops");
  CHECK(f.check().rule == "sync.limits.commit-ops");
  CHECK(f.check().action == VerdictAction::kDrop);
}

TEST_CASE("frames beyond 5 MB are dropped [sync.limits.frame-size]", "[sync]") {
  CHECK(check_frame_size(kMaxFrameBytes).ok());
  CHECK(code_of(check_frame_size(kMaxFrameBytes + 1)) == "sync.limits.frame-size");
  Fixture f;
  Bytes frame = encode_event(Event(f.event));
  REQUIRE(check_frame(frame, f.state, f.context).action == VerdictAction::kAccept);
  frame.resize(kMaxFrameBytes + 1);
  CHECK(check_frame(frame, f.state, f.context).rule == "sync.limits.frame-size");
}

TEST_CASE("no working identity: dropped [sync.check.identity]", "[sync]") {
  Fixture f;
  AccountState no_key = f.state;
  no_key.signing_key.reset();
  CHECK(code_of(check_identity(kDid, no_key)) == "sync.check.identity");
  CHECK(check_commit(f.event, no_key, f.context).rule == "sync.check.identity");
  AccountState no_pds = f.state;
  no_pds.host.reset();
  CHECK(check_commit(f.event, no_pds, f.context).rule == "sync.check.identity");
  // A state that belongs to another DID is no identity for this one.
  AccountState other = f.state;
  other.did = "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa";
  CHECK(check_commit(f.event, other, f.context).rule == "sync.check.identity");
  CHECK(check_commit(f.event, other, f.context).action == VerdictAction::kDrop);
}

TEST_CASE("events from a host that is not the account's PDS are dropped [sync.check.host]",
          "[sync]") {
  Fixture f;
  f.context.host = "PDS.Example.COM";  // hostnames are case-insensitive
  CHECK(f.check().action == VerdictAction::kAccept);
  f.context.host = "other.example.com";
  CHECK(code_of(check_host(f.state, f.context.host)) == "sync.check.host");
  Verdict v = f.check();
  CHECK(v.action == VerdictAction::kDrop);
  CHECK(v.rule == "sync.check.host");
}

TEST_CASE("events of an inactive account are dropped [sync.check.active]", "[sync]") {
  Fixture f;
  f.state.active = false;
  f.state.status = "deactivated";
  CHECK(code_of(check_active(f.state)) == "sync.check.active");
  CHECK(f.check().rule == "sync.check.active");
  CHECK(f.check().action == VerdictAction::kDrop);
}

TEST_CASE("blocks that do not carry a valid commit are dropped [sync.check.structure]", "[sync]") {
  Fixture f;
  REQUIRE(read_carried_commit(f.event.blocks).ok());
  SECTION("not a CAR") { f.event.blocks = {0x01, 0x02, 0x03}; }
  SECTION("the commit block missing") {
    edit_blocks(f.event, [&](CarFile& car) {
      std::erase_if(car.blocks, [&](const CarBlock& b) { return b.cid == f.event.commit; });
    });
  }
  SECTION("the root is a record, not a commit") {
    edit_blocks(f.event, [&](CarFile& car) {
      for (const CarBlock& b : car.blocks) {
        if (b.cid != f.event.commit) car.roots = {b.cid};
      }
    });
  }
  CHECK(code_of(read_carried_commit(f.event.blocks)) == "sync.check.structure");
  Verdict v = f.check();
  CHECK(v.action == VerdictAction::kDrop);
  CHECK(v.rule == "sync.check.structure");
}

TEST_CASE("a block over 1,000,000 bytes is dropped [sync.limits.record-size]", "[sync]") {
  Fixture f;
  std::vector<std::uint8_t> big(kMaxRecordBytes + 1, 0x41);
  edit_blocks(f.event, [&](CarFile& car) {
    car.blocks.push_back(CarBlock{Cid::compute(Codec::kRaw, big), big});
  });
  Verdict v = f.check();
  CHECK(v.action == VerdictAction::kDrop);
  CHECK(v.rule == "sync.limits.record-size");
  big.pop_back();
  CHECK(
      check_record_sizes(atproto::car::CarView{
                             {}, {atproto::car::CarBlockView{Cid::compute(Codec::kRaw, big), big}}})
          .ok());
}

TEST_CASE("message fields must match the signed commit [sync.check.fields-match]", "[sync]") {
  Fixture f;
  SECTION("rev") { f.event.rev = tid_at(f.clock + 5); }
  SECTION("commit CID") {
    f.event.commit = Cid::compute(Codec::kDagCbor, std::vector<std::uint8_t>{0xa0});
  }
  SECTION("repo") {
    // The state is the other DID's, so only the field comparison can fail.
    f.event.repo = "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa";
    f.state.did = f.event.repo;
  }
  auto carried = read_carried_commit(f.event.blocks).value();
  CHECK(code_of(check_commit_fields(f.event, carried)) == "sync.check.fields-match");
  Verdict v = f.check();
  CHECK(v.action == VerdictAction::kDrop);
  CHECK(v.rule == "sync.check.fields-match");
}

TEST_CASE("a bad signature asks for one identity refresh, then drops [sync.check.signature]",
          "[sync]") {
  Fixture f;
  f.state.signing_key = fixed_key(9).public_key();  // a rotated key the cache does not know
  Verdict v = f.check();
  CHECK(v.action == VerdictAction::kRefreshIdentity);
  CHECK(v.rule == "sync.check.signature");
  auto carried = read_carried_commit(f.event.blocks).value();
  SignatureCheck sig = check_signature(carried.commit, f.state);
  CHECK(code_of(sig.status) == "sync.check.signature");
  CHECK(sig.refresh_identity);
  // After the refresh the key is still wrong: conclusive.
  f.state.identity_fresh = true;
  v = f.check();
  CHECK(v.action == VerdictAction::kDrop);
  CHECK(v.rule == "sync.check.signature");
  // The refresh found the real key: accepted.
  f.state.signing_key = f.key.public_key();
  CHECK(f.check().action == VerdictAction::kAccept);
}

TEST_CASE("a rev not after the last one is dropped [sync.check.rev-order]", "[sync]") {
  Fixture f;
  f.state.last_rev = f.event.rev;  // a replay
  CHECK(code_of(check_rev_order(f.event.rev, f.state)) == "sync.check.rev-order");
  CHECK(f.check().rule == "sync.check.rev-order");
  f.state.last_rev = tid_at(f.clock + 1);  // the account is already further on
  Verdict v = f.check();
  CHECK(v.action == VerdictAction::kDrop);
  CHECK(v.rule == "sync.check.rev-order");
  f.state.last_rev.clear();  // nothing processed yet: any rev is new
  CHECK(check_rev_order(f.event.rev, f.state).ok());
}

TEST_CASE("a rev from the future beyond the clock skew is dropped [sync.check.rev-future]",
          "[sync]") {
  Fixture f;
  const auto rev_time =
      static_cast<std::int64_t>(atproto::syntax::decode_tid(f.event.rev).value().timestamp_us);
  f.context.now_micros = rev_time - kRevClockSkewMicros;  // exactly at the edge: fine
  CHECK(check_rev_future(f.event.rev, f.context).ok());
  CHECK(f.check().action == VerdictAction::kAccept);
  f.context.now_micros = rev_time - kRevClockSkewMicros - 1;
  CHECK(code_of(check_rev_future(f.event.rev, f.context)) == "sync.check.rev-future");
  Verdict v = f.check();
  CHECK(v.action == VerdictAction::kDrop);
  CHECK(v.rule == "sync.check.rev-future");
}

TEST_CASE("a created record that is not a CBOR map is dropped [sync.check.records]", "[sync]") {
  Fixture f;
  std::vector<std::uint8_t> text = atproto::data::encode_cbor(Value("not a record")).value();
  const Cid text_cid = Cid::compute(Codec::kDagCbor, text);
  edit_blocks(f.event, [&](CarFile& car) { car.blocks.push_back(CarBlock{text_cid, text}); });
  for (auto& op : f.event.ops) {
    if (op.action == Action::kCreate) op.cid = text_cid;
  }
  auto carried = read_carried_commit(f.event.blocks).value();
  CHECK(code_of(check_records(f.event, carried.car)) == "sync.check.records");
  Verdict v = f.check();
  CHECK(v.action == VerdictAction::kDrop);
  CHECK(v.rule == "sync.check.records");
}

TEST_CASE(
    "ops that do not invert to prevData are dropped [sync.check.inversion]"
    " [repo.diff.inversion]",
    "[sync]") {
  Fixture f;
  SECTION("an op left out") { f.event.ops.pop_back(); }
  SECTION("a wrong prevData") {
    f.event.prev_data = Cid::compute(Codec::kDagCbor, std::vector<std::uint8_t>{0xa0});
  }
  SECTION("no prevData on a commit with since") { f.event.prev_data.reset(); }
  SECTION("an update without prev") {
    for (auto& op : f.event.ops) {
      if (op.action == Action::kUpdate) op.prev.reset();
    }
  }
  auto carried = read_carried_commit(f.event.blocks).value();
  CHECK(code_of(check_inversion(f.event, carried)) == "sync.check.inversion");
  Verdict v = f.check();
  CHECK(v.action == VerdictAction::kDrop);
  CHECK(v.rule == "sync.check.inversion");
}

TEST_CASE("a first commit inverts to the empty tree [sync.check.inversion]", "[sync]") {
  MemoryBlockStore store;
  PrivateKey key = fixed_key(3);
  std::int64_t clock = kBaseMicros;
  auto repo = Repository::create(store, kDid, key, {create("3l3qo2vuaaa2b", "one")}, [&] {
                return tid_at(clock += 1000);
              }).value();
  CommitEvent e;
  e.seq = 1;
  e.repo = kDid;
  e.commit = repo.commit_cid();
  e.rev = repo.commit().rev;
  e.blocks = repo.export_car().value();
  auto entries = repo.list_records().value();
  REQUIRE(entries.size() == 1);
  e.ops = {{Action::kCreate, entries[0].key, entries[0].value, std::nullopt}};
  e.time = "2024-08-30T06:40:00.000Z";
  AccountState state{kDid, kHost, true, {}, {}, {}, key.public_key(), false};
  CheckContext context{kHost, clock, kRevClockSkewMicros};
  Verdict v = check_commit(e, state, context);
  INFO(v.message);
  CHECK(v.action == VerdictAction::kAccept);
  // Without its create the tree does not invert to empty.
  e.ops.clear();
  CHECK(check_commit(e, state, context).rule == "sync.check.inversion");
}

TEST_CASE("since other than the last rev: out of sync, resync [sync.check.since]", "[sync]") {
  Fixture f;
  f.state.last_rev = tid_at(kBaseMicros);  // an older rev: commits were missed
  CHECK(code_of(check_since(f.event, f.state)) == "sync.check.since");
  Verdict v = f.check();
  CHECK(v.action == VerdictAction::kResync);
  CHECK(v.rule == "sync.check.since");
  // A null since fits only an account with no history.
  f.event.since.reset();
  CHECK(code_of(check_since(f.event, f.state)) == "sync.check.since");
  f.state.last_rev.clear();
  CHECK(check_since(f.event, f.state).ok());
}

TEST_CASE("prevData other than the last data: out of sync, resync [sync.check.prev-data]",
          "[sync]") {
  Fixture f;
  f.state.last_data = Cid::compute(Codec::kDagCbor, std::vector<std::uint8_t>{0xa0});
  CHECK(code_of(check_prev_data(f.event, f.state)) == "sync.check.prev-data");
  Verdict v = f.check();
  CHECK(v.action == VerdictAction::kResync);
  CHECK(v.rule == "sync.check.prev-data");
  apply_verdict(f.state, v);  // resync leaves the state for the refetch
  CHECK(f.state.last_rev != f.event.rev);
  f.state.last_data.reset();  // unknown data: nothing to compare
  CHECK(check_prev_data(f.event, f.state).ok());
}

namespace {

SyncEvent sync_event_of(const Fixture& f) {
  const Cid cid = f.repo->commit_cid();
  auto bytes = f.store.get(cid).value().value();
  return SyncEvent{101, kDid, atproto::car::write_car(CarFile{{cid}, {CarBlock{cid, bytes}}}),
                   f.repo->commit().rev, "2024-08-30T06:40:00.000Z"};
}

}  // namespace

TEST_CASE("#sync: the same tree is accepted, another one means resync [sync.check.sync-reset]",
          "[sync]") {
  Fixture f;
  SyncEvent s = sync_event_of(f);  // the commit after the state's
  Verdict v = check_sync(s, f.state, f.context);
  CHECK(v.action == VerdictAction::kResync);
  CHECK(v.rule == "sync.check.sync-reset");
  // Once the commit is processed, a #sync of a later rev with the same tree
  // only confirms it; of the same rev it is stale.
  apply_verdict(f.state, f.check());
  REQUIRE(f.state.last_rev == f.event.rev);
  CHECK(check_sync(s, f.state, f.context).rule == "sync.check.rev-order");
  f.state.last_rev = tid_at(kBaseMicros);
  v = check_sync(s, f.state, f.context);
  INFO(v.message);
  CHECK(v.action == VerdictAction::kAccept);
  apply_verdict(f.state, v);
  CHECK(f.state.last_rev == s.rev);
}

TEST_CASE("#sync runs the identity, host, size, fields and signature rules", "[sync]") {
  Fixture f;
  apply_verdict(f.state, f.check());
  f.state.last_rev = tid_at(kBaseMicros);
  SyncEvent s = sync_event_of(f);
  REQUIRE(check_sync(s, f.state, f.context).action == VerdictAction::kAccept);
  {  // [sync.limits.sync-blocks]
    SyncEvent big = s;
    big.blocks.resize(kMaxSyncBlocksBytes + 1);
    CHECK(code_of(check_sync_blocks_size(big)) == "sync.limits.sync-blocks");
    CHECK(check_sync(big, f.state, f.context).rule == "sync.limits.sync-blocks");
  }
  {  // [sync.check.fields-match]
    SyncEvent other_rev = s;
    other_rev.rev = tid_at(f.clock + 7);
    CHECK(check_sync(other_rev, f.state, f.context).rule == "sync.check.fields-match");
  }
  {  // [sync.check.host] [sync.check.active] [sync.check.identity]
    CheckContext elsewhere = f.context;
    elsewhere.host = "elsewhere.example.com";
    CHECK(check_sync(s, f.state, elsewhere).rule == "sync.check.host");
    AccountState inactive = f.state;
    inactive.active = false;
    CHECK(check_sync(s, inactive, f.context).rule == "sync.check.active");
    AccountState no_key = f.state;
    no_key.signing_key.reset();
    CHECK(check_sync(s, no_key, f.context).rule == "sync.check.identity");
  }
  {  // [sync.check.signature]
    AccountState wrong_key = f.state;
    wrong_key.signing_key = fixed_key(9).public_key();
    CHECK(check_sync(s, wrong_key, f.context).action == VerdictAction::kRefreshIdentity);
  }
  {  // [sync.check.structure]
    SyncEvent garbage = s;
    garbage.blocks = {0xff};
    CHECK(check_sync(garbage, f.state, f.context).rule == "sync.check.structure");
  }
}

TEST_CASE(
    "#identity asks for a refresh; #account sets the hosting status "
    "[sync.check.identity-event] [sync.check.account-event]",
    "[sync]") {
  Fixture f;
  Verdict v = check_identity_event(IdentityEvent{5, kDid, "2024-08-30T06:40:00.000Z", {}}, f.state);
  CHECK(v.action == VerdictAction::kAccept);
  CHECK(v.rule == "sync.check.identity-event");
  CHECK(check_identity_event(IdentityEvent{5, "did:web:example.com", "t", {}}, f.state).action ==
        VerdictAction::kDrop);

  v = check_account_event(AccountEvent{6, kDid, "t", false, "takendown"}, f.state);
  CHECK(v.action == VerdictAction::kAccept);
  CHECK(v.rule == "sync.check.account-event");
  apply_verdict(f.state, v);
  CHECK_FALSE(f.state.active);
  CHECK(f.state.status == std::optional<std::string>("takendown"));
  // Now commits are dropped until the account is active again.
  CHECK(f.check().rule == "sync.check.active");
  apply_verdict(f.state, check_account_event(AccountEvent{7, kDid, "t", true, {}}, f.state));
  CHECK(f.state.active);
  CHECK_FALSE(f.state.status.has_value());
  CHECK(f.check().action == VerdictAction::kAccept);
}

TEST_CASE("check_frame decodes, then dispatches by type", "[sync]") {
  Fixture f;
  Bytes frame = encode_event(Event(f.event));
  CHECK(check_frame(frame, f.state, f.context).action == VerdictAction::kAccept);
  frame.push_back(0);
  CHECK(check_frame(frame, f.state, f.context).rule == "sync.frame.trailing");
  CHECK(check_frame(encode_error_frame(ErrorFrame{"FutureCursor", {}}), f.state, f.context).rule ==
        "sync.stream.error-frame");
  CHECK(
      check_frame(encode_frame(FrameHeader{1, "#future"}, Value(Map{})), f.state, f.context).rule ==
      "sync.stream.unknown-types");
  Verdict info =
      check_frame(encode_event(Event(InfoEvent{"OutdatedCursor", {}})), f.state, f.context);
  CHECK(info.action == VerdictAction::kAccept);
  CHECK(std::string(verdict_action_name(VerdictAction::kResync)) == "resync");
  CHECK(std::string(verdict_action_name(VerdictAction::kRefreshIdentity)) == "refresh-identity");
}

TEST_CASE(
    "seqs on a connection are positive and increase [sync.stream.seq-positive] "
    "[sync.stream.seq-order]",
    "[sync]") {
  CHECK(check_seq_order(0, 1).ok());
  CHECK(check_seq_order(5, 9).ok());  // gaps are allowed
  CHECK(check_seq_order(5, (std::int64_t{1} << 53) + 1).ok());
  CHECK(code_of(check_seq_order(0, 0)) == "sync.stream.seq-positive");
  CHECK(code_of(check_seq_order(0, -3)) == "sync.stream.seq-positive");
  CHECK(code_of(check_seq_order(9, 9)) == "sync.stream.seq-order");
  CHECK(code_of(check_seq_order(9, 4)) == "sync.stream.seq-order");
}

// The firehose consumer's checklist (checklist.hpp).
// Spec: https://atproto.com/specs/sync#message-validation-checklist
#include "atproto/sync/checklist.hpp"

#include <cctype>
#include <optional>
#include <span>
#include <unordered_map>
#include <utility>

#include "atproto/data/cbor.hpp"
#include "atproto/data/cbor_view.hpp"
#include "atproto/repo/block_store.hpp"
#include "atproto/repo/inversion.hpp"
#include "atproto/repo/mst.hpp"
#include "atproto/sync/tape_lease.hpp"
#include "atproto/syntax/tid.hpp"

namespace atproto::sync {

namespace {

Error lower_error(const char* rule, const Error& cause) {
  return make_error(rule, cause.code + ": " + cause.message);
}

// Hostnames compared case-insensitively. They are ASCII (internationalized
// names travel in punycode), so only A-Z fold: what std::tolower does in the
// C locale, without a library call per character.
bool same_host(std::string_view a, std::string_view b) {
  const auto lower = [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  };
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// The MST root a first commit's inversion must reach: the empty tree.
const data::Cid& empty_tree_root() {
  static const data::Cid root = repo::Mst().root_cid().value();
  return root;
}

Verdict verdict(VerdictAction action, const Error& error) {
  Verdict v;
  v.action = action;
  v.rule = error.code;
  v.message = error.message;
  return v;
}
Verdict drop(const Error& error) { return verdict(VerdictAction::kDrop, error); }

// The tape carried records are decoded onto (check_records).
using RecordTapeLease = detail::TapeLease<struct RecordUse>;

// The inversion's read-only store over a carried CAR: no block is copied
// into a map up front, and the tree reads its nodes through view(), which
// copies nothing. The
// CIDs were checked against the bytes when the CAR was read. A commit's
// slice is a handful of blocks, so a scan beats building an index; a large
// one (up to kCommitBlocksMaxBytes) gets a hash index.
class CarViewStore final : public repo::BlockStore {
 public:
  explicit CarViewStore(const car::CarView& car) : car_(car) {
    if (car.blocks.size() <= kScanLimit) return;
    index_.reserve(car.blocks.size());
    // Duplicates keep their first appearance, as MemoryBlockStore did.
    for (const car::CarBlockView& block : car.blocks) index_.try_emplace(block.cid, block.bytes);
  }

  Result<std::optional<repo::Bytes>> get(const data::Cid& cid) const override {
    const auto* bytes = find(cid);
    if (bytes == nullptr) return std::optional<repo::Bytes>{};
    return std::optional<repo::Bytes>{repo::Bytes(bytes->begin(), bytes->end())};
  }
  Result<bool> has(const data::Cid& cid) const override { return find(cid) != nullptr; }
  std::optional<std::span<const std::uint8_t>> view(const data::Cid& cid) const override {
    const auto* bytes = find(cid);
    if (bytes == nullptr) return std::nullopt;
    return *bytes;
  }
  Status put(const data::Cid&, std::span<const std::uint8_t>) override {
    return make_error("sync.check.inversion", "the carried blocks are read-only");
  }
  Status remove(const data::Cid&) override {
    return make_error("sync.check.inversion", "the carried blocks are read-only");
  }

 private:
  static constexpr std::size_t kScanLimit = 32;

  const std::span<const std::uint8_t>* find(const data::Cid& cid) const {
    if (car_.blocks.size() <= kScanLimit) {
      for (const car::CarBlockView& block : car_.blocks) {
        if (block.cid == cid) return &block.bytes;
      }
      return nullptr;
    }
    auto it = index_.find(cid);
    return it == index_.end() ? nullptr : &it->second;
  }

  const car::CarView& car_;
  std::unordered_map<data::Cid, std::span<const std::uint8_t>, repo::CidHash> index_;
};

}  // namespace

const char* verdict_action_name(VerdictAction action) {
  switch (action) {
    case VerdictAction::kAccept:
      return "accept";
    case VerdictAction::kDrop:
      return "drop";
    case VerdictAction::kResync:
      return "resync";
    case VerdictAction::kRefreshIdentity:
      return "refresh-identity";
  }
  return "?";
}

void apply_verdict(AccountState& state, const Verdict& verdict) {
  if (verdict.action != VerdictAction::kAccept) return;
  if (verdict.next_rev) state.last_rev = *verdict.next_rev;
  if (verdict.next_data) state.last_data = *verdict.next_data;
  if (verdict.next_active) state.active = *verdict.next_active;
  if (verdict.next_status) state.status = *verdict.next_status;
}

// ---- Rules ----

Status check_frame_size(std::size_t frame_bytes) {
  // [sync.limits.frame-size]
  if (frame_bytes > kMaxFrameBytes) {
    return make_error("sync.limits.frame-size", "frame of " + std::to_string(frame_bytes) +
                                                    " bytes exceeds " +
                                                    std::to_string(kMaxFrameBytes));
  }
  return {};
}

Status check_commit_blocks_size(const CommitEvent& event) {
  // [sync.limits.commit-blocks]
  if (event.blocks.size() > kMaxCommitBlocksBytes) {
    return make_error("sync.limits.commit-blocks",
                      "blocks of " + std::to_string(event.blocks.size()) + " bytes exceed " +
                          std::to_string(kMaxCommitBlocksBytes));
  }
  return {};
}

Status check_commit_ops_count(const CommitEvent& event) {
  // [sync.limits.commit-ops]
  if (event.ops.size() > kMaxCommitOps) {
    return make_error("sync.limits.commit-ops", std::to_string(event.ops.size()) + " ops exceed " +
                                                    std::to_string(kMaxCommitOps));
  }
  return {};
}

Status check_sync_blocks_size(const SyncEvent& event) {
  // [sync.limits.sync-blocks]
  if (event.blocks.size() > kMaxSyncBlocksBytes) {
    return make_error("sync.limits.sync-blocks",
                      "blocks of " + std::to_string(event.blocks.size()) + " bytes exceed " +
                          std::to_string(kMaxSyncBlocksBytes));
  }
  return {};
}

Status check_identity(std::string_view did, const AccountState& state) {
  // [sync.check.identity] Events of a DID the consumer has no working
  // identity for are ignored; a state of another DID counts as none.
  if (did != state.did) {
    return make_error("sync.check.identity", "no identity known for " + std::string(did) +
                                                 " (state is " + state.did + ")");
  }
  if (!state.signing_key) {
    return make_error("sync.check.identity", state.did + " has no signing key");
  }
  if (!state.host || state.host->empty()) {
    return make_error("sync.check.identity", state.did + " has no PDS");
  }
  return {};
}

Status check_host(const AccountState& state, std::string_view from_host) {
  // [sync.check.host]
  if (!state.host || !same_host(*state.host, from_host)) {
    return make_error("sync.check.host", "event for " + state.did + " came from " +
                                             std::string(from_host) + ", its PDS is " +
                                             state.host.value_or("(none)"));
  }
  return {};
}

Status check_active(const AccountState& state) {
  // [sync.check.active]
  if (!state.active) {
    return make_error("sync.check.active",
                      state.did + " is not active (" + state.status.value_or("no status") + ")");
  }
  return {};
}

Result<CarriedCommit> read_carried_commit(std::span<const std::uint8_t> blocks) {
  // [sync.check.structure] A CAR with the commit block as its first root.
  // [car.block.cid-matches] read_car_view hashes every block as read_car
  // does; the blocks stay in the event's bytes.
  auto car = car::read_car_view(blocks);
  if (!car) return lower_error("sync.check.structure", car.error());
  if (auto st = car::check_roots_present(*car); !st) {
    return lower_error("sync.check.structure", st.error());
  }
  const data::Cid root = car->roots.front();
  for (const car::CarBlockView& block : car->blocks) {
    if (block.cid != root) continue;
    auto decoded = repo::decode_signed_commit(block.bytes);
    if (!decoded) return lower_error("sync.check.structure", decoded.error());
    // Moved out of the Result, not copied (operator-> gives a const view).
    repo::SignedCommit commit = std::move(decoded).value();
    return CarriedCommit{std::move(car).value(), root, std::move(commit.commit),
                         commit.unsigned_digest};
  }
  return make_error("sync.check.structure", "commit block missing");  // unreachable
}

Status check_record_sizes(const car::CarView& car) {
  // [sync.limits.record-size]
  for (const car::CarBlockView& block : car.blocks) {
    if (block.bytes.size() > kMaxRecordBytes) {
      return make_error("sync.limits.record-size", "block " + block.cid.to_string() + " of " +
                                                       std::to_string(block.bytes.size()) +
                                                       " bytes exceeds " +
                                                       std::to_string(kMaxRecordBytes));
    }
  }
  return {};
}

Status check_commit_fields(const CommitEvent& event, const CarriedCommit& carried) {
  // [sync.check.fields-match]
  if (event.commit != carried.cid) {
    return make_error(
        "sync.check.fields-match",
        "commit " + event.commit.to_string() + " is not the CAR's root " + carried.cid.to_string());
  }
  if (event.repo != carried.commit.did) {
    return make_error("sync.check.fields-match",
                      "repo " + event.repo + " but the commit's did is " + carried.commit.did);
  }
  if (event.rev != carried.commit.rev) {
    return make_error("sync.check.fields-match",
                      "rev " + event.rev + " but the commit's rev is " + carried.commit.rev);
  }
  return {};
}

Status check_sync_fields(const SyncEvent& event, const CarriedCommit& carried) {
  // [sync.check.fields-match]
  if (event.did != carried.commit.did) {
    return make_error("sync.check.fields-match",
                      "did " + event.did + " but the commit's did is " + carried.commit.did);
  }
  if (event.rev != carried.commit.rev) {
    return make_error("sync.check.fields-match",
                      "rev " + event.rev + " but the commit's rev is " + carried.commit.rev);
  }
  return {};
}

namespace {

// [sync.check.signature] With the current key; a failure with a cached key
// asks for one refresh of the identity, a failure with a fresh one is
// conclusive. `verify` runs the repo layer's check with the key.
template <class Verify>
SignatureCheck signature_check(const AccountState& state, Verify verify) {
  SignatureCheck out;
  if (!state.signing_key) {
    out.status = make_error("sync.check.signature", state.did + " has no signing key");
    out.refresh_identity = !state.identity_fresh;
    return out;
  }
  if (auto st = verify(*state.signing_key); !st) {
    out.status = lower_error("sync.check.signature", st.error());
    out.refresh_identity = !state.identity_fresh;
  }
  return out;
}

}  // namespace

SignatureCheck check_signature(const repo::Commit& commit, const AccountState& state) {
  return signature_check(state, [&](const crypto::PublicKey& key) {
    return repo::verify_commit_signature(commit, key);
  });
}

SignatureCheck check_signature(const CarriedCommit& carried, const AccountState& state) {
  return signature_check(state, [&](const crypto::PublicKey& key) {
    return repo::verify_commit_signature(carried.commit, carried.unsigned_digest, key);
  });
}

Status check_rev_order(std::string_view rev, const AccountState& state) {
  // [sync.check.rev-order] TIDs sort as strings; equal is stale too.
  if (!state.last_rev.empty() && rev <= state.last_rev) {
    return make_error(
        "sync.check.rev-order",
        "rev " + std::string(rev) + " is not after the last processed rev " + state.last_rev);
  }
  return {};
}

Status check_rev_future(std::string_view rev, const CheckContext& context) {
  // [sync.check.rev-future]
  auto parts = syntax::decode_tid(rev);
  if (!parts) return lower_error("sync.check.rev-future", parts.error());
  const auto limit = context.now_micros + context.clock_skew_micros;
  if (limit >= 0 && parts->timestamp_us > static_cast<std::uint64_t>(limit)) {
    return make_error(
        "sync.check.rev-future",
        "rev " + std::string(rev) + " is " +
            std::to_string((parts->timestamp_us - static_cast<std::uint64_t>(context.now_micros)) /
                           1'000'000) +
            " s ahead of the clock");
  }
  return {};
}

Status check_records(const CommitEvent& event, const car::CarView& car) {
  // [sync.check.records] Records are looked up by the ops' cids; a record
  // the diff does not carry is not checked here. A view decode: the same
  // strict rules, no Value built, onto a tape the thread keeps between
  // events (no allocation per event once it has grown to a typical record).
  RecordTapeLease lease;
  data::CborTape& tape = lease.tape();
  for (const repo::RecordOp& op : event.ops) {
    if (!op.cid) continue;
    for (const car::CarBlockView& block : car.blocks) {
      if (block.cid != *op.cid) continue;
      if (auto st = data::decode_cbor_view(block.bytes, tape); !st) {
        return make_error("sync.check.records",
                          "record " + op.path + ": " + st.error().code + ": " + st.error().message);
      }
      if (!tape.root().is_map()) {
        return make_error("sync.check.records", "record " + op.path + " is not a map");
      }
      break;
    }
  }
  return {};
}

Status check_inversion(const CommitEvent& event, const CarriedCommit& carried) {
  // [sync.check.inversion] [repo.diff.inversion]
  data::Cid prev_data = empty_tree_root();
  if (event.prev_data) {
    prev_data = *event.prev_data;
  } else if (event.since) {
    return make_error("sync.check.inversion",
                      "no prevData: the commit cannot be checked against its ops");
  }
  const CarViewStore store(carried.car);
  if (auto st = repo::verify_inversion(store, carried.commit.data, event.ops, prev_data); !st) {
    return lower_error("sync.check.inversion", st.error());
  }
  return {};
}

Status check_since(const CommitEvent& event, const AccountState& state) {
  // [sync.check.since] A first commit (since null) fits only an account
  // with no history; any other since must be the last processed rev.
  const std::string_view since = event.since ? std::string_view(*event.since) : "";
  if (since != state.last_rev) {
    return make_error("sync.check.since",
                      "since " + event.since.value_or("null") + " but the last processed rev is " +
                          (state.last_rev.empty() ? std::string("none") : state.last_rev));
  }
  return {};
}

Status check_prev_data(const CommitEvent& event, const AccountState& state) {
  // [sync.check.prev-data]
  if (!state.last_data) return {};
  const data::Cid prev = event.prev_data.value_or(empty_tree_root());
  if (prev != *state.last_data) {
    return make_error("sync.check.prev-data", "prevData " + prev.to_string() +
                                                  " but the last processed data is " +
                                                  state.last_data->to_string());
  }
  return {};
}

Status check_sync_matches(const CarriedCommit& carried, const AccountState& state) {
  // [sync.check.sync-reset]
  if (!state.last_data || carried.commit.data != *state.last_data) {
    return make_error("sync.check.sync-reset",
                      "#sync names tree " + carried.commit.data.to_string() +
                          (state.last_data ? ", not " + state.last_data->to_string()
                                           : std::string(", no tree known")) +
                          ": the repository must be fetched again");
  }
  return {};
}

Status check_seq_order(std::int64_t last_seq, std::int64_t seq) {
  // [sync.stream.seq-positive]
  if (seq <= 0) return make_error("sync.stream.seq-positive", "seq " + std::to_string(seq));
  // [sync.stream.seq-order]
  if (seq <= last_seq) {
    return make_error("sync.stream.seq-order",
                      "seq " + std::to_string(seq) + " after seq " + std::to_string(last_seq));
  }
  return {};
}

// ---- Whole checklists ----

Verdict check_commit(const CommitEvent& event, const AccountState& state,
                     const CheckContext& context) {
  // Cheap limits first, then who may send it, then the signed content, then
  // its consistency with itself and with the account's chain.
  if (auto st = check_commit_blocks_size(event); !st) return drop(st.error());
  if (auto st = check_commit_ops_count(event); !st) return drop(st.error());
  if (auto st = check_identity(event.repo, state); !st) return drop(st.error());
  if (auto st = check_host(state, context.host); !st) return drop(st.error());
  if (auto st = check_active(state); !st) return drop(st.error());
  auto carried = read_carried_commit(event.blocks);
  if (!carried) return drop(carried.error());
  if (auto st = check_record_sizes(carried->car); !st) return drop(st.error());
  if (auto st = check_commit_fields(event, *carried); !st) return drop(st.error());
  if (auto sig = check_signature(*carried, state); !sig.status) {
    return verdict(sig.refresh_identity ? VerdictAction::kRefreshIdentity : VerdictAction::kDrop,
                   sig.status.error());
  }
  if (auto st = check_rev_order(event.rev, state); !st) return drop(st.error());
  if (auto st = check_rev_future(event.rev, context); !st) return drop(st.error());
  if (auto st = check_records(event, carried->car); !st) return drop(st.error());
  if (auto st = check_inversion(event, *carried); !st) return drop(st.error());
  if (auto st = check_since(event, state); !st) return verdict(VerdictAction::kResync, st.error());
  if (auto st = check_prev_data(event, state); !st) {
    return verdict(VerdictAction::kResync, st.error());
  }
  Verdict v;
  v.action = VerdictAction::kAccept;
  v.message = "commit " + event.rev + " accepted";
  v.next_rev = event.rev;
  v.next_data = carried->commit.data;
  return v;
}

Verdict check_sync(const SyncEvent& event, const AccountState& state, const CheckContext& context) {
  if (auto st = check_sync_blocks_size(event); !st) return drop(st.error());
  if (auto st = check_identity(event.did, state); !st) return drop(st.error());
  if (auto st = check_host(state, context.host); !st) return drop(st.error());
  if (auto st = check_active(state); !st) return drop(st.error());
  auto carried = read_carried_commit(event.blocks);
  if (!carried) return drop(carried.error());
  if (auto st = check_sync_fields(event, *carried); !st) return drop(st.error());
  if (auto sig = check_signature(*carried, state); !sig.status) {
    return verdict(sig.refresh_identity ? VerdictAction::kRefreshIdentity : VerdictAction::kDrop,
                   sig.status.error());
  }
  if (auto st = check_rev_order(event.rev, state); !st) return drop(st.error());
  if (auto st = check_rev_future(event.rev, context); !st) return drop(st.error());
  if (auto st = check_sync_matches(*carried, state); !st) {
    return verdict(VerdictAction::kResync, st.error());
  }
  // The tree is the one already held: only the rev moves on.
  Verdict v;
  v.action = VerdictAction::kAccept;
  v.message = "#sync confirms the current tree";
  v.next_rev = event.rev;
  v.next_data = carried->commit.data;
  return v;
}

Verdict check_identity_event(const IdentityEvent& event, const AccountState& state) {
  if (event.did != state.did) {
    return drop(make_error("sync.check.identity",
                           "#identity for " + event.did + ", state is " + state.did));
  }
  // [sync.check.identity-event]
  Verdict v;
  v.action = VerdictAction::kAccept;
  v.rule = "sync.check.identity-event";
  v.message = "refresh the cached identity of " + event.did;
  return v;
}

Verdict check_account_event(const AccountEvent& event, const AccountState& state) {
  if (event.did != state.did) {
    return drop(
        make_error("sync.check.identity", "#account for " + event.did + ", state is " + state.did));
  }
  // [sync.check.account-event]
  Verdict v;
  v.action = VerdictAction::kAccept;
  v.rule = "sync.check.account-event";
  v.message = std::string(event.active ? "active" : "inactive") +
              (event.status ? " (" + *event.status + ")" : std::string());
  v.next_active = event.active;
  v.next_status = event.active ? std::nullopt : event.status;
  return v;
}

Verdict check_frame(std::span<const std::uint8_t> frame, const AccountState& state,
                    const CheckContext& context) {
  if (auto st = check_frame_size(frame.size()); !st) return drop(st.error());
  auto message = decode_message(frame);
  if (!message) return drop(message.error());
  if (const auto* error = std::get_if<ErrorFrame>(&*message)) {
    // [sync.stream.error-frame] The stream ends after it; nothing to apply.
    return drop(make_error("sync.stream.error-frame", "error frame " + error->error));
  }
  if (const auto* unknown = std::get_if<UnknownMessage>(&*message)) {
    // [sync.stream.unknown-types] Skipped.
    return drop(make_error("sync.stream.unknown-types", "skipped message " + unknown->type));
  }
  const Event& event = std::get<Event>(*message);
  if (const auto* e = std::get_if<CommitEvent>(&event)) return check_commit(*e, state, context);
  if (const auto* e = std::get_if<SyncEvent>(&event)) return check_sync(*e, state, context);
  if (const auto* e = std::get_if<IdentityEvent>(&event)) return check_identity_event(*e, state);
  if (const auto* e = std::get_if<AccountEvent>(&event)) return check_account_event(*e, state);
  Verdict v;  // #info: informational only
  v.action = VerdictAction::kAccept;
  v.message = "#info " + std::get<InfoEvent>(event).name;
  return v;
}

}  // namespace atproto::sync

// The checklist verdicts of verify.hpp.
//
// PLANNED: reference/sync/checklist.hpp (the sync layer's one function per
// rule plus a whole-checklist verdict) replaces the body of this file when
// it lands on main; until then each rule is one call into the repo, car and
// crypto layers that hold the actual logic. Nothing else in the relay
// checks commits, so the switch is local to this file.
#include "atproto/relay/verify.hpp"

#include <span>
#include <string>
#include <utility>

#include "atproto/car/car.hpp"
#include "atproto/repo/block_store.hpp"
#include "atproto/repo/inversion.hpp"
#include "atproto/syntax/tid.hpp"

namespace atproto::relay {
namespace {

// https://atproto.com/specs/sync#commit-events: limits of one #commit.
constexpr std::size_t kMaxOps = 200;
constexpr std::size_t kMaxRecordBytes = 1'000'000;

EventCheck verdict(Verdict v, std::string code, std::string message) {
  EventCheck out;
  out.verdict = v;
  out.reason = make_error(std::move(code), std::move(message));
  return out;
}

struct SignedCommit {
  car::CarFile car;
  repo::Commit commit;
  data::Cid cid;
};

// The CAR slice, its first root and the signed commit block it names;
// `did` and `rev` must match the commit.
Result<SignedCommit> read_signed_commit(std::span<const std::uint8_t> blocks,
                                        std::string_view did, std::string_view rev) {
  car::CarLimits limits;
  limits.max_car_bytes = car::kCommitBlocksMaxBytes;
  auto car = car::read_car(blocks, limits);
  if (!car) return car.error();
  if (auto s = car::check_roots_present(car.value()); !s) return s.error();
  const data::Cid& root = car.value().roots.front();
  const car::CarBlock* block = nullptr;
  for (const auto& b : car.value().blocks) {
    if (b.cid == root) block = &b;
  }
  if (!block) return make_error("car.roots.commit-included", "the commit block is missing");
  auto commit = repo::decode_commit(block->bytes);
  if (!commit) return commit.error();
  // [relay.verify.fields] The event's fields must say what the signed commit says.
  if (commit.value().did != did) {
    return make_error("relay.verify.fields", "the commit is for " + commit.value().did +
                                                 ", the event for " + std::string(did));
  }
  if (commit.value().rev != rev) {
    return make_error("relay.verify.fields", "the event's rev " + std::string(rev) +
                                                 " is not the commit's " + commit.value().rev);
  }
  return SignedCommit{std::move(car).value(), std::move(commit).value(), root};
}

// [relay.verify.rev] Not newer than the last processed rev: stale. From the
// future beyond the clock skew: invalid.
std::optional<EventCheck> check_rev(std::string_view rev, const ChainState& prior,
                                    const CheckOptions& options) {
  if (prior.rev && rev <= *prior.rev) {
    return verdict(Verdict::stale, "relay.verify.rev",
                   "rev " + std::string(rev) + " is not after " + *prior.rev);
  }
  auto parts = syntax::decode_tid(rev);
  if (!parts) return verdict(Verdict::reject, parts.error().code, parts.error().message);
  std::int64_t limit = options.now_us + std::int64_t{options.rev_clock_skew_seconds} * 1'000'000;
  if (static_cast<std::int64_t>(parts.value().timestamp_us) > limit) {
    return verdict(Verdict::reject, "relay.verify.rev-future",
                   "rev " + std::string(rev) + " is in the future");
  }
  return std::nullopt;
}

EventCheck signature_check(const repo::Commit& commit, const crypto::PublicKey& key) {
  // [relay.verify.signature]
  auto s = repo::verify_commit_signature(commit, key);
  if (s) return EventCheck{Verdict::accept, {}, {}, {}, false};
  auto out = verdict(Verdict::reject, s.error().code, s.error().message);
  out.signature_failed = true;
  return out;
}

}  // namespace

EventCheck check_commit_event(const sync::CommitEvent& event, const ChainState& prior,
                              const crypto::PublicKey& key, const CheckOptions& options) {
  // [relay.verify.size] Limits first: nothing big is parsed.
  if (event.blocks.size() > car::kCommitBlocksMaxBytes) {
    return verdict(Verdict::reject, "relay.verify.size", "blocks exceed 2,000,000 bytes");
  }
  if (event.ops.size() > kMaxOps) {
    return verdict(Verdict::reject, "relay.verify.size", "more than 200 ops");
  }
  auto signed_commit = read_signed_commit(event.blocks, event.repo, event.rev);
  if (!signed_commit) {
    return verdict(Verdict::reject, signed_commit.error().code, signed_commit.error().message);
  }
  auto& sc = signed_commit.value();
  if (sc.cid != event.commit) {
    return verdict(Verdict::reject, "relay.verify.fields",
                   "the event's commit CID is not the CAR's root");
  }
  if (auto sig = signature_check(sc.commit, key); sig.verdict != Verdict::accept) return sig;
  if (auto r = check_rev(event.rev, prior, options)) return *r;

  repo::MemoryBlockStore store;
  for (auto& b : sc.car.blocks) store.put_owned(b.cid, std::move(b.bytes));
  for (const auto& op : event.ops) {
    if (!op.cid) continue;
    // [relay.verify.size] Each new record is in the slice and within 1 MB.
    const auto* record = store.find(*op.cid);
    if (!record) {
      return verdict(Verdict::reject, "relay.verify.fields",
                     "the record of " + op.path + " is not in blocks");
    }
    if (record->size() > kMaxRecordBytes) {
      return verdict(Verdict::reject, "relay.verify.size",
                     "the record of " + op.path + " exceeds 1,000,000 bytes");
    }
  }
  // [relay.verify.inversion] The ops, inverted against the slice, must lead
  // back to prevData.
  if (!event.prev_data) {
    return verdict(Verdict::reject, "relay.verify.inversion",
                   "no prevData: the commit cannot be checked by inversion");
  }
  if (auto s = repo::verify_inversion(store, sc.commit.data, event.ops, *event.prev_data); !s) {
    return verdict(Verdict::reject, s.error().code, s.error().message);
  }
  EventCheck out;
  out.commit = sc.commit;
  out.commit_cid = sc.cid;
  // [relay.verify.chain] A valid commit whose since or prevData is not what
  // the relay last verified: the chain broke.
  if (prior.rev && (event.since != prior.rev || (prior.data && *event.prev_data != *prior.data))) {
    out.verdict = Verdict::desync;
    out.reason = make_error("relay.verify.chain", "since " + event.since.value_or("null") +
                                                      " does not follow rev " + *prior.rev);
    return out;
  }
  out.verdict = Verdict::accept;
  return out;
}

EventCheck check_sync_event(const sync::SyncEvent& event, const ChainState& prior,
                            const crypto::PublicKey& key, const CheckOptions& options) {
  if (event.blocks.size() > car::kCommitBlocksMaxBytes) {
    return verdict(Verdict::reject, "relay.verify.size", "blocks exceed 2,000,000 bytes");
  }
  auto signed_commit = read_signed_commit(event.blocks, event.did, event.rev);
  if (!signed_commit) {
    return verdict(Verdict::reject, signed_commit.error().code, signed_commit.error().message);
  }
  auto& sc = signed_commit.value();
  if (auto sig = signature_check(sc.commit, key); sig.verdict != Verdict::accept) return sig;
  if (auto r = check_rev(event.rev, prior, options)) return *r;
  EventCheck out;
  out.verdict = Verdict::accept;
  out.commit = sc.commit;
  out.commit_cid = sc.cid;
  return out;
}

}  // namespace atproto::relay

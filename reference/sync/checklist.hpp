// The firehose consumer's validation checklist: what a relay (or any
// consumer) checks on each event before it trusts it, and what it does when
// a check fails.
// Spec: https://atproto.com/specs/sync#message-validation-checklist, with
// #repository-revisions, #commit-events, #sync-events and
// #reliable-repository-synchronization.
//
// One function per rule. Each returns a Status whose error code is the
// rule's requirement id (spec/requirements/sync.json), so a failure names
// the rule. check_commit / check_sync / check_identity_event /
// check_account_event run the rules for one event in order against the
// consumer's state for the account and return a Verdict: accept, drop,
// resync (mark the repository out of sync and fetch it again) or
// refresh-identity (resolve the DID again, then re-run).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "atproto/car/car.hpp"
#include "atproto/common/result.hpp"
#include "atproto/crypto/keys.hpp"
#include "atproto/data/cid.hpp"
#include "atproto/repo/commit.hpp"
#include "atproto/sync/events.hpp"

namespace atproto::sync {

// [sync.limits.frame-size] Largest firehose frame: 5 MB, encoding included.
inline constexpr std::size_t kMaxFrameBytes = 5'000'000;
// [sync.limits.commit-blocks] Largest #commit blocks field.
inline constexpr std::size_t kMaxCommitBlocksBytes = 2'000'000;
// [sync.limits.commit-ops] Most record operations in one #commit.
inline constexpr std::size_t kMaxCommitOps = 200;
// [sync.limits.record-size] Largest block (record) inside a #commit.
inline constexpr std::size_t kMaxRecordBytes = 1'000'000;
// [sync.limits.sync-blocks] Largest #sync blocks field (the lexicon's
// maxLength: a CAR of one commit block needs far less).
inline constexpr std::size_t kMaxSyncBlocksBytes = 10'000;
// [sync.check.rev-future] How far a rev's timestamp may run ahead of the
// consumer's clock. The spec asks for "a few minutes" of drift; five
// minutes tolerates ordinary clock error without letting a host claim revs
// far ahead (which would make the account's later real commits look old).
inline constexpr std::int64_t kRevClockSkewMicros = 5LL * 60 * 1000 * 1000;

// What the consumer knows about one account (the DID's identity, its
// hosting status and the last commit it processed).
struct AccountState {
  std::string did;
  // The host of the account's current PDS (from its DID document's
  // #atproto_pds service; hostname, optionally ":port"). nullopt: the
  // identity has no PDS, so it does not work.
  std::optional<std::string> host;
  // The account's hosting status as the consumer last learnt it.
  bool active = true;
  std::optional<std::string> status;
  // The rev and MST root (`data`) of the last commit processed; empty rev
  // and nullopt data when none has been (a new or unknown repository).
  std::string last_rev;
  std::optional<data::Cid> last_data;
  // The identity's current signing key (#atproto verification method).
  // nullopt: none, so the identity does not work (as for a tombstoned DID).
  std::optional<crypto::PublicKey> signing_key;
  // True when signing_key was resolved just now (after a refresh), so a
  // signature failing against it is conclusive.
  bool identity_fresh = false;
};

// Where and when an event is checked.
struct CheckContext {
  std::string host;             // the host the subscription is connected to
  std::int64_t now_micros = 0;  // the consumer's clock, UNIX microseconds
  std::int64_t clock_skew_micros = kRevClockSkewMicros;
};

enum class VerdictAction {
  kAccept,           // processed: apply the verdict's state changes
  kDrop,             // ignored or rejected: state unchanged
  kResync,           // valid but the chain broke: mark the repository
                     // desynchronized and fetch it again
  kRefreshIdentity,  // signature failed with a cached key: resolve the DID
                     // again and re-run with identity_fresh set
};
// "accept", "drop", "resync", "refresh-identity" (the vectors' spelling).
const char* verdict_action_name(VerdictAction action);

struct Verdict {
  VerdictAction action = VerdictAction::kDrop;
  // The requirement id of the rule that decided; empty when a #commit or
  // #sync passed every rule. #identity and #account are accepted under the
  // rule that says what to do with them.
  std::string rule;
  std::string message;
  // State changes on accept (apply_verdict applies them).
  std::optional<std::string> next_rev;
  std::optional<data::Cid> next_data;
  std::optional<bool> next_active;
  std::optional<std::optional<std::string>> next_status;
};

// The account state after the event: changes only on accept.
void apply_verdict(AccountState& state, const Verdict& verdict);

// The commit a #commit or #sync carries: its CAR, the block of the first
// root, decoded. The CAR's blocks are views into the event's `blocks`
// bytes (read once, every block's hash checked, nothing copied): the event
// must outlive its CarriedCommit.
// `unsigned_digest` is the SHA-256 of the bytes the commit's signature
// covers, taken from its block (repo::decode_signed_commit).
struct CarriedCommit {
  car::CarView car;
  data::Cid cid;
  repo::Commit commit;
  data::Digest unsigned_digest{};
};

// ---- One function per rule. ----

// [sync.limits.frame-size]
Status check_frame_size(std::size_t frame_bytes);
// [sync.limits.commit-blocks]
Status check_commit_blocks_size(const CommitEvent& event);
// [sync.limits.commit-ops]
Status check_commit_ops_count(const CommitEvent& event);
// [sync.limits.sync-blocks]
Status check_sync_blocks_size(const SyncEvent& event);
// [sync.check.identity] The state is this DID's and its identity works: a
// signing key and a PDS host.
Status check_identity(std::string_view did, const AccountState& state);
// [sync.check.host] The event came from the account's current PDS
// (hostnames compared case-insensitively).
Status check_host(const AccountState& state, std::string_view from_host);
// [sync.check.active]
Status check_active(const AccountState& state);
// [sync.check.structure] `blocks` is a valid CAR whose first root's block is
// present and is a valid commit. The lower layer's code (car.*, repo.*,
// data.*) leads the message.
Result<CarriedCommit> read_carried_commit(std::span<const std::uint8_t> blocks);
// [sync.limits.record-size] No carried block exceeds kMaxRecordBytes.
Status check_record_sizes(const car::CarView& car);
// [sync.check.fields-match] repo, rev and commit CID of the message are the
// signed commit's.
Status check_commit_fields(const CommitEvent& event, const CarriedCommit& carried);
// [sync.check.fields-match] did and rev of a #sync are its commit's.
Status check_sync_fields(const SyncEvent& event, const CarriedCommit& carried);

// [sync.check.signature] The commit verifies with the state's signing key.
// On failure `refresh_identity` tells the caller to resolve the DID again
// and retry once (false when the key was already fresh: conclusive).
struct SignatureCheck {
  Status status;
  bool refresh_identity = false;
};
SignatureCheck check_signature(const repo::Commit& commit, const AccountState& state);
// The same for a carried commit: its digest is already taken, so only the
// verify is left.
SignatureCheck check_signature(const CarriedCommit& carried, const AccountState& state);

// [sync.check.rev-order] rev is greater than the last processed rev.
Status check_rev_order(std::string_view rev, const AccountState& state);
// [sync.check.rev-future] rev's timestamp is at most clock_skew_micros
// ahead of now_micros.
Status check_rev_future(std::string_view rev, const CheckContext& context);
// [sync.check.records] Each created or updated record the diff carries is
// a strict DRISL-CBOR map.
Status check_records(const CommitEvent& event, const car::CarView& car);
// [sync.check.inversion] Inverting the ops over the carried blocks gives
// prevData (for a first commit, since null, without prevData: the empty
// tree). prevData missing otherwise fails: the commit cannot be checked.
Status check_inversion(const CommitEvent& event, const CarriedCommit& carried);
// [sync.check.since] since is the last processed rev (null when there is
// none).
Status check_since(const CommitEvent& event, const AccountState& state);
// [sync.check.prev-data] prevData (the empty tree for a first commit) is
// the last processed commit's data, when that is known.
Status check_prev_data(const CommitEvent& event, const AccountState& state);
// [sync.check.sync-reset] The #sync's commit names the tree the consumer
// has; otherwise the repository must be fetched again.
Status check_sync_matches(const CarriedCommit& carried, const AccountState& state);

// ---- Per connection. ----

// [sync.stream.seq-positive] [sync.stream.seq-order] A sequenced event's seq
// (every type but #info) is positive and greater than the last seq received
// on the same connection (`last_seq` 0 before the first). Out-of-order or
// repeated seqs are errors: the consumer does not process the event and
// drops the connection (https://atproto.com/specs/event-stream#sequence-numbers).
Status check_seq_order(std::int64_t last_seq, std::int64_t seq);

// ---- Whole checklists for one event. ----

Verdict check_commit(const CommitEvent& event, const AccountState& state,
                     const CheckContext& context);
Verdict check_sync(const SyncEvent& event, const AccountState& state, const CheckContext& context);
// [sync.check.identity-event] Accepted: the caller refreshes its identity
// cache for the DID (nothing in AccountState changes until it does).
Verdict check_identity_event(const IdentityEvent& event, const AccountState& state);
// [sync.check.account-event] Accepted: the account's hosting status becomes
// the event's.
Verdict check_account_event(const AccountEvent& event, const AccountState& state);

// A whole frame: the frame size, decode_message (a failure drops the frame
// under the decoder's code; the spec makes bad framing a connection error,
// which is the caller's to enforce), then the checklist of its type.
// #info, error frames and unknown types are accepted with no state change
// under the rule that covers them.
Verdict check_frame(std::span<const std::uint8_t> frame, const AccountState& state,
                    const CheckContext& context);

}  // namespace atproto::sync

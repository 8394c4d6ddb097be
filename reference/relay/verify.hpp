// The relay's verdict on one upstream #commit or #sync event: the sync
// spec's validation checklist applied to the event, the account's signing
// key and the last state the relay verified for it. This is the one place
// the relay calls the checklist; identity (host match, active account, the
// re-resolve after a failed signature) is the caller's part.
// https://atproto.com/specs/sync#message-validation-checklist
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "atproto/common/result.hpp"
#include "atproto/crypto/keys.hpp"
#include "atproto/data/cid.hpp"
#include "atproto/repo/commit.hpp"
#include "atproto/sync/events.hpp"

namespace atproto::relay {

// What the relay last verified for the account (nothing for a new one).
struct ChainState {
  std::optional<std::string> rev;
  std::optional<data::Cid> data;
};

enum class Verdict {
  accept,  // forward it
  reject,  // invalid: drop it
  stale,   // rev not newer than the last one processed: drop it quietly
  desync,  // valid, but the chain broke: mark out of sync, resync
};

struct EventCheck {
  Verdict verdict = Verdict::reject;
  Error reason;  // for reject, stale and desync
  // For accept and desync: the signed commit and its CID.
  std::optional<repo::Commit> commit;
  std::optional<data::Cid> commit_cid;
  // Whether the reason is a signature failure (the caller re-resolves the
  // identity once and checks again).
  bool signature_failed = false;
};

struct CheckOptions {
  std::int64_t now_us = 0;  // the clock, microseconds since the epoch
  int rev_clock_skew_seconds = 300;
};

EventCheck check_commit_event(const sync::CommitEvent& event, const ChainState& prior,
                              const crypto::PublicKey& key, const CheckOptions& options);
EventCheck check_sync_event(const sync::SyncEvent& event, const ChainState& prior,
                            const crypto::PublicKey& key, const CheckOptions& options);

}  // namespace atproto::relay

// Fuzz target: one firehose frame (a WebSocket binary message) through
// decode_message and the consumer's checklist, against the account of
// vectors/sync/firehose.json (once with its state from the "chain" case, once
// as a repository the consumer has no history for).
// Spec: https://atproto.com/specs/event-stream#framing and
// https://atproto.com/specs/sync#message-validation-checklist
//
// Oracle: a refused frame names a rule (sync.* or data.*). A decoded message
// survives encoding: encode_event / encode_error_frame of it decodes to the
// same message, and a re-sequenced frame (resequence_frame) is the event
// encoded under its new seq. check_frame is deterministic, never accepts what
// decode_message refuses, names a sync.* or data.* rule for every verdict
// but accept, and an accepted #commit or #sync belongs to the account and
// moves its rev forward.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <type_traits>
#include <variant>

#include "atproto/sync/checklist.hpp"
#include "fuzz_check.hpp"

namespace firehose = atproto::sync;

namespace {

const char* kDid = "did:plc:w4xbfzo7kqfes5zb7r6qv3rw";

firehose::AccountState chain_state() {
  // The "chain" case of tools/gen-sync-vectors.py.
  firehose::AccountState s;
  s.did = kDid;
  s.host = "pds.example.com";
  s.last_rev = "3l2w24vkvm222";
  s.last_data =
      atproto::data::Cid::parse("bafyreidtyocaxhdigjm5ihpxsfsxmsgxjnmu3hgjx6cjgrfs2amovxdju4")
          .value();
  s.signing_key = atproto::crypto::PublicKey::from_did_key(
                      "did:key:zQ3shfXbYeAcZzyyXjopyVPt4AkYRrV97BtaHEzHPCHEYysXR")
                      .value();
  return s;
}

bool rule_code(const std::string& code) {
  return fuzz::starts_with(code, "sync.") || fuzz::starts_with(code, "data.");
}

// Re-encodes a decoded message; decoding that gives the same message.
void check_round_trip(const firehose::Message& message) {
  if (const auto* event = std::get_if<firehose::Event>(&message)) {
    auto again = firehose::decode_message(firehose::encode_event(*event));
    FUZZ_CHECK(again.ok() && std::holds_alternative<firehose::Event>(*again));
    const auto& back = std::get<firehose::Event>(*again);
    FUZZ_CHECK(back.index() == event->index());
    FUZZ_CHECK(firehose::event_body(back) == firehose::event_body(*event));
    FUZZ_CHECK(firehose::event_seq(back) == firehose::event_seq(*event));
  } else if (const auto* error = std::get_if<firehose::ErrorFrame>(&message)) {
    auto again = firehose::decode_message(firehose::encode_error_frame(*error));
    FUZZ_CHECK(again.ok() && std::holds_alternative<firehose::ErrorFrame>(*again));
    FUZZ_CHECK(std::get<firehose::ErrorFrame>(*again).error == error->error);
    FUZZ_CHECK(std::get<firehose::ErrorFrame>(*again).message == error->message);
  }
}

// A relay's re-sequencing of the frame, when resequence_frame takes it, is
// the decoded event encoded under the new seq.
void check_resequence(std::span<const std::uint8_t> in, const firehose::Message& message) {
  const auto* event = std::get_if<firehose::Event>(&message);
  if (event == nullptr) return;
  auto out = firehose::resequence_frame(in, *event, 7);
  if (!out) return;
  firehose::Event renumbered = *event;
  std::visit(
      [](auto& e) {
        if constexpr (!std::is_same_v<std::decay_t<decltype(e)>, firehose::InfoEvent>) e.seq = 7;
      },
      renumbered);
  FUZZ_CHECK(*out == firehose::encode_event(renumbered));
}

void check_verdicts(std::span<const std::uint8_t> in, const firehose::Message* message,
                    const firehose::AccountState& state) {
  const firehose::CheckContext context{"pds.example.com", 1'725'000'000'000'000,
                                       firehose::kRevClockSkewMicros};
  const firehose::Verdict v = firehose::check_frame(in, state, context);
  const firehose::Verdict again = firehose::check_frame(in, state, context);
  FUZZ_CHECK(v.action == again.action && v.rule == again.rule);
  if (message == nullptr) {
    FUZZ_CHECK(v.action == firehose::VerdictAction::kDrop);
  }
  if (v.action != firehose::VerdictAction::kAccept) {
    FUZZ_CHECK(rule_code(v.rule));
    return;
  }
  FUZZ_CHECK(message != nullptr && std::holds_alternative<firehose::Event>(*message));
  const auto& event = std::get<firehose::Event>(*message);
  if (const auto* commit = std::get_if<firehose::CommitEvent>(&event)) {
    FUZZ_CHECK(commit->repo == state.did);
    FUZZ_CHECK(v.next_rev && *v.next_rev == commit->rev && v.next_data);
    FUZZ_CHECK(state.last_rev.empty() || commit->rev > state.last_rev);
  }
  if (const auto* s = std::get_if<firehose::SyncEvent>(&event)) {
    FUZZ_CHECK(s->did == state.did);
    FUZZ_CHECK(v.next_data && state.last_data && *v.next_data == *state.last_data);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::begin_input(data, size);
  static const firehose::AccountState known = chain_state();
  static const firehose::AccountState fresh = [] {
    firehose::AccountState s = chain_state();
    s.last_rev.clear();
    s.last_data.reset();
    return s;
  }();
  std::span<const std::uint8_t> in(data, size);
  auto message = firehose::decode_message(in);
  if (!message) {
    FUZZ_CHECK(rule_code(message.error().code));
  } else {
    check_round_trip(*message);
    check_resequence(in, *message);
  }
  const firehose::Message* decoded = message ? &*message : nullptr;
  check_verdicts(in, decoded, known);
  check_verdicts(in, decoded, fresh);
  return 0;
}

// The event stream's wire format and the messages of
// com.atproto.sync.subscribeRepos: each WebSocket binary message is a frame,
// a DAG-CBOR header followed by a DAG-CBOR body.
// https://atproto.com/specs/event-stream#streaming-wire-protocol-v0 and
// https://atproto.com/specs/sync#firehose
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "atproto/common/result.hpp"
#include "atproto/data/cid.hpp"
#include "atproto/data/value.hpp"
#include "atproto/repo/inversion.hpp"
#include "atproto/repo/repository.hpp"

namespace atproto::sync {

using Bytes = std::vector<std::uint8_t>;

// Frame header: op 1 is a message (with `t`, the message type such as
// "#commit"), op -1 an error (no `t`).
struct FrameHeader {
  std::int64_t op = 1;
  std::optional<std::string> t;
};

struct Frame {
  FrameHeader header;
  data::Value body;  // a map
};

// Header bytes then body bytes, each canonical DAG-CBOR. Precondition:
// every string in `body` (and `t`) is valid UTF-8, the one thing the CBOR
// encoder can refuse; a violation is a programming error and throws.
Bytes encode_frame(const FrameHeader& header, const data::Value& body);
// Strict: both parts strict DRISL-CBOR maps, nothing after the body, the
// header's op 1 with a string t or op -1 without (other ops pass with any
// string t or none: decode_message skips them). Error codes:
// "sync.frame.header", "sync.frame.body", "sync.frame.trailing", and the
// data.* codes of the CBOR decoder.
Result<Frame> decode_frame(std::span<const std::uint8_t> bytes);

// Where a received #commit or #sync frame holds its seq value: the offset
// of the value's CBOR head in the frame and the head's length. decode_message
// sets it when the frame holds exactly the fields encode_event writes (a
// header of op and t, the lexicon's fields in the body) and the seq is an
// unsigned integer, so that resequence_frame can splice a new seq into the
// received bytes without decoding them again. Events built in memory have
// none.
struct SeqSlot {
  std::size_t offset = 0;
  std::size_t size = 0;
  friend bool operator==(const SeqSlot&, const SeqSlot&) = default;
};

// #commit: one signed commit and what it changed (sync 1.1).
struct CommitEvent {
  std::int64_t seq = 0;
  std::string repo;  // DID
  // Cid has no default constructor; an all-zero digest placeholder keeps
  // CommitEvent default-constructible (every decoded or built event sets it).
  data::Cid commit{data::Codec::kDagCbor, data::Digest{}};
  std::string rev;
  std::optional<std::string> since;  // rev of the previous commit; null for the first
  Bytes blocks;                      // a CAR slice: commit, MST nodes, records
  std::vector<repo::RecordOp> ops;
  std::vector<data::Cid> blobs;  // deprecated: always empty when written
  std::optional<data::Cid> prev_data;
  std::string time;      // RFC 3339, when the event was sequenced
  bool rebase = false;   // deprecated, always false
  bool too_big = false;  // deprecated, always false
  // Set by decode_message (SeqSlot).
  std::optional<SeqSlot> seq_slot = std::nullopt;
};

// #sync: the account's repository state was reset to `blocks` (a CAR
// holding only the signed commit).
struct SyncEvent {
  std::int64_t seq = 0;
  std::string did;
  Bytes blocks;
  std::string rev;
  std::string time;
  // Set by decode_message (SeqSlot).
  std::optional<SeqSlot> seq_slot = std::nullopt;
};

// #identity: the account's DID document or handle may have changed.
struct IdentityEvent {
  std::int64_t seq = 0;
  std::string did;
  std::string time;
  std::optional<std::string> handle;
};

// #account: the account's hosting status changed.
struct AccountEvent {
  std::int64_t seq = 0;
  std::string did;
  std::string time;
  bool active = true;
  // When inactive: takendown, suspended, deleted, deactivated, ...
  std::optional<std::string> status;
};

// #info: informational, not sequenced (e.g. "OutdatedCursor").
struct InfoEvent {
  std::string name;
  std::optional<std::string> message;
};

using Event = std::variant<CommitEvent, SyncEvent, IdentityEvent, AccountEvent, InfoEvent>;

// An error frame: {"error": name, "message"?}; the server closes after it.
struct ErrorFrame {
  std::string error;  // "FutureCursor", "ConsumerTooSlow", ...
  std::optional<std::string> message;
};

// A message type this version does not know: consumers skip it.
struct UnknownMessage {
  std::string type;
  data::Value body;
};

using Message = std::variant<Event, ErrorFrame, UnknownMessage>;

// The message type names: "#commit", "#sync", "#identity", "#account", "#info".
const char* event_type(const Event& event);
std::int64_t event_seq(const Event& event);  // 0 for #info

// [sync.stream.seq-safe-range] The largest seq a producer (a PDS's
// sequencer, a relay's output log) hands out: 2^53 - 1, so that JavaScript
// consumers hold every seq exactly
// (https://atproto.com/specs/event-stream#sequence-numbers). Decoders still
// take any positive int64.
inline constexpr std::int64_t kMaxEmittedSeq = (std::int64_t{1} << 53) - 1;
// Error "sync.stream.seq-safe-range" when `count` events numbered from
// `first` on would go past kMaxEmittedSeq.
Status check_emitted_seqs(std::int64_t first, std::int64_t count = 1);

// The body as a data model map (the lexicon's field names), and the frame.
data::Value event_body(const Event& event);
Bytes encode_event(const Event& event);
Bytes encode_error_frame(const ErrorFrame& error);

// A #commit or #sync frame under another seq, made from the bytes it was
// decoded from by replacing the seq in place (what a relay does to each
// event it re-sequences, without encoding the event again). `frame` must be
// what decode_message read `event` from. When it returns a frame, that
// frame is byte for byte encode_event(event) with `seq` (frames are strict
// DRISL-CBOR, so a frame holding exactly the lexicon's fields has one
// encoding). nullopt when the frame holds fields the lexicon does not
// define (encode_event would drop them), or for the other event types: the
// caller encodes the event instead. An event with a seq_slot is spliced
// there without decoding the frame again.
std::optional<Bytes> resequence_frame(std::span<const std::uint8_t> frame, const Event& event,
                                      std::int64_t seq);
// The seq_slot of a #commit or #sync; nullopt for the other types.
std::optional<SeqSlot> seq_slot(const Event& event);
// Puts `seq` (>= 0) into `frame`, the bytes decode_message read an event
// with `slot` from, in place, and moves `slot` to the new value's head (so
// a second call works on the result). The frame is then byte for byte
// encode_event of that event with `seq`.
void resequence_in_place(Bytes& frame, SeqSlot& slot, std::int64_t seq);

// The #commit event of one commit (repo::Repository::apply_writes): its
// blocks as a CAR whose only root is the commit, since, prevData and ops as
// the commit result has them, blobs empty, tooBig and rebase false
// (what a PDS emits, https://atproto.com/specs/sync#commit-events).
CommitEvent commit_event(const repo::CommitResult& result, std::int64_t seq, std::string time);

// decode_frame, then the body by its type. Field errors name the message
// and field: "sync.event.fields" (a missing or mistyped field, a repo/did
// that is not a DID, a rev/since that is not a TID), "sync.event.ops" (an
// op whose cid/prev do not fit its action, or an unknown action). Fields
// the lexicon does not define are ignored; `time` is kept as sent (the spec
// calls it informal). A frame of an unknown op, or of op 1 with an unknown
// t, decodes to UnknownMessage (type: the t, or "op <n>"). Size limits are
// the checklist's (checklist.hpp), not the decoder's.
Result<Message> decode_message(std::span<const std::uint8_t> bytes);

}  // namespace atproto::sync

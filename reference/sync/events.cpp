// Event stream frames and the subscribeRepos messages (events.hpp).
// Spec: https://atproto.com/specs/event-stream#framing and
// https://atproto.com/specs/sync#repository-event-stream
#include "atproto/sync/events.hpp"

#include <algorithm>
#include <array>
#include <iterator>
#include <stdexcept>
#include <string_view>
#include <type_traits>
#include <utility>

#include "atproto/common/utf8.hpp"
#include "atproto/data/cbor.hpp"
#include "atproto/data/cbor_view.hpp"
#include "atproto/sync/tape_lease.hpp"
#include "atproto/syntax/did.hpp"
#include "atproto/syntax/tid.hpp"

namespace atproto::sync {

namespace {

using data::Map;
using data::Value;
using data::ValueView;

Bytes must_encode(const Value& value) {
  // encode_cbor fails only on strings that are not UTF-8: a caller's bug
  // (events.hpp states the precondition), so value() may throw here.
  return data::encode_cbor(value).value();
}

Error fields_error(std::string_view type, const std::string& what) {
  return make_error("sync.event.fields", std::string(type) + ": " + what);
}

// Reads the fields of one message body (a view into the frame: the
// firehose's hot path decodes onto a tape, not into Values), naming the
// message in every error. The body's map is walked once: each key of the
// message's lexicon (`names`, in the order of the decoder's field enum)
// gets its value in a slot, so a field costs one array read instead of a
// search of the map, and fields the lexicon does not define are ignored
// [sync.stream.unknown-fields]. A strict DRISL-CBOR map holds each key
// once, so no slot is written twice. Values stay views: only what the
// event keeps is copied, once, into the event.
template <std::size_t N>
class Fields {
 public:
  using Names = std::array<std::string_view, N>;

  // `type` names the message in errors ("#commit"); `op`, for the fields
  // of a #commit's op, its index (the name becomes "#commit op <op>", and
  // is only built for an error).
  Fields(std::string_view type, data::MapView body, const Names& names,
         std::optional<std::size_t> op = std::nullopt)
      : type_(type), op_(op), names_(names) {
    for (const auto [key, value] : body) {
      for (std::size_t i = 0; i < N; ++i) {
        if (key == names_[i]) {
          slots_[i] = value;
          break;
        }
      }
    }
  }

  std::string type() const {
    return op_ ? std::string(type_) + " op " + std::to_string(*op_) : std::string(type_);
  }
  Error error(const std::string& what) const { return fields_error(type(), what); }

  const std::optional<ValueView>& find(std::size_t field) const { return slots_[field]; }

  Result<ValueView> get(std::size_t field, data::Kind kind) const {
    const auto& v = slots_[field];
    if (!v) return error("missing field " + std::string(names_[field]));
    if (v->kind() != kind) {
      return error("field " + std::string(names_[field]) + " is " + data::kind_name(v->kind()) +
                   ", not " + data::kind_name(kind));
    }
    return *v;
  }

  // An optional field: absent gives nullopt; present must have `kind`.
  Result<std::optional<ValueView>> optional(std::size_t field, data::Kind kind) const {
    if (!slots_[field]) return std::optional<ValueView>();
    auto checked = get(field, kind);
    if (!checked) return checked.error();
    return std::optional<ValueView>(*checked);
  }

  Result<std::int64_t> integer(std::size_t field) const {
    auto v = get(field, data::Kind::kInteger);
    if (!v) return v.error();
    return v->as_integer();
  }
  Result<std::string_view> string(std::size_t field) const {
    auto v = get(field, data::Kind::kString);
    if (!v) return v.error();
    return v->as_string();
  }
  Result<std::optional<std::string>> optional_string(std::size_t field) const {
    auto v = optional(field, data::Kind::kString);
    if (!v) return v.error();
    if (!*v) return std::optional<std::string>();
    return std::optional<std::string>(std::string((*v)->as_string()));
  }
  Result<std::span<const std::uint8_t>> bytes(std::size_t field) const {
    auto v = get(field, data::Kind::kBytes);
    if (!v) return v.error();
    return v->as_bytes();
  }
  Result<bool> boolean(std::size_t field) const {
    auto v = get(field, data::Kind::kBool);
    if (!v) return v.error();
    return v->as_bool();
  }
  Result<std::string_view> did(std::size_t field) const {
    auto s = string(field);
    if (!s) return s;
    if (auto ok = syntax::validate_did(*s); !ok) {
      return error("field " + std::string(names_[field]) + " is not a DID: " + ok.error().message);
    }
    return s;
  }
  Status tid(std::size_t field, std::string_view value) const {
    if (auto ok = syntax::validate_tid(value); !ok) {
      return error("field " + std::string(names_[field]) + " is not a TID: " + ok.error().message);
    }
    return {};
  }

 private:
  std::string_view type_;
  std::optional<std::size_t> op_;
  const Names& names_;
  std::array<std::optional<ValueView>, N> slots_{};
};

// Early return of a failed Result from a function returning Result<U> or
// Status.
#define SYNC_TRY(var, expr)                       \
  auto var##_result = (expr);                     \
  if (!var##_result) return var##_result.error(); \
  auto var = std::move(var##_result).value()

// The fields of a #commit op (com.atproto.sync.subscribeRepos#repoOp).
enum OpField : std::size_t { kOpAction, kOpPath, kOpCid, kOpPrev };
constexpr Fields<4>::Names kOpFields{"action", "path", "cid", "prev"};

// [sync.event.ops] Each op's cid and prev fit its action: create has a new
// cid and no prev; update a new cid; delete a null cid. prev is optional for
// update and delete in the lexicon, but inversion needs it
// ([repo.diff.inversion] reports its absence). Decoded into `op`.
Status decode_op(ValueView item, std::size_t index, repo::RecordOp& op) {
  const auto where = [index] { return "#commit op " + std::to_string(index); };
  if (!item.is_map()) return make_error("sync.event.fields", where() + " is not a map");
  const Fields<4> f("#commit", item.as_map(), kOpFields, index);
  SYNC_TRY(action, f.string(kOpAction));
  SYNC_TRY(path, f.string(kOpPath));
  const auto& cid = f.find(kOpCid);
  if (!cid) return f.error("missing field cid");
  if (!cid->is_null() && !cid->is_link()) return f.error("field cid is not a link or null");
  SYNC_TRY(prev, f.optional(kOpPrev, data::Kind::kLink));
  op.path = path;
  if (cid->is_link()) op.cid = cid->as_link();
  if (prev) op.prev = prev->as_link();
  if (action == "create") {
    op.action = repo::Action::kCreate;
    if (!op.cid) return make_error("sync.event.ops", where() + ": a create needs a cid");
    if (prev) return make_error("sync.event.ops", where() + ": a create has no prev");
  } else if (action == "update") {
    op.action = repo::Action::kUpdate;
    if (!op.cid) return make_error("sync.event.ops", where() + ": an update needs a cid");
  } else if (action == "delete") {
    op.action = repo::Action::kDelete;
    if (op.cid) return make_error("sync.event.ops", where() + ": a delete has a null cid");
  } else {
    return make_error("sync.event.ops", where() + ": unknown action " + std::string(action));
  }
  return {};
}

// The fields of a #commit (com.atproto.sync.subscribeRepos#commit).
enum CommitField : std::size_t {
  kCommitSeq,
  kCommitRepo,
  kCommitCommit,
  kCommitRev,
  kCommitSince,
  kCommitBlocks,
  kCommitOps,
  kCommitBlobs,
  kCommitPrevData,
  kCommitTime,
  kCommitRebase,
  kCommitTooBig,
};
constexpr Fields<12>::Names kCommitFields{"seq", "repo",  "commit",   "rev",  "since",  "blocks",
                                          "ops", "blobs", "prevData", "time", "rebase", "tooBig"};

// Decoded into `e` (built in place in the message decode_message returns:
// a CommitEvent is large, and moving it through a chain of Results cost
// more than its fields did).
Status decode_commit(data::MapView body, CommitEvent& e) {
  const Fields<12> f("#commit", body, kCommitFields);
  SYNC_TRY(seq, f.integer(kCommitSeq));
  SYNC_TRY(repo, f.did(kCommitRepo));
  SYNC_TRY(commit, f.get(kCommitCommit, data::Kind::kLink));
  SYNC_TRY(rev, f.string(kCommitRev));
  if (auto ok = f.tid(kCommitRev, rev); !ok) return ok.error();
  const auto& since = f.find(kCommitSince);
  if (!since) return f.error("missing field since (null when there is none)");
  if (!since->is_null() && !since->is_string()) {
    return f.error("field since is not a string or null");
  }
  if (since->is_string()) {
    if (auto ok = f.tid(kCommitSince, since->as_string()); !ok) return ok.error();
  }
  SYNC_TRY(blocks, f.bytes(kCommitBlocks));
  SYNC_TRY(ops, f.get(kCommitOps, data::Kind::kArray));
  SYNC_TRY(blobs, f.get(kCommitBlobs, data::Kind::kArray));
  SYNC_TRY(prev_data, f.optional(kCommitPrevData, data::Kind::kLink));
  SYNC_TRY(time, f.string(kCommitTime));
  SYNC_TRY(rebase, f.boolean(kCommitRebase));
  SYNC_TRY(too_big, f.boolean(kCommitTooBig));
  e.seq = seq;
  e.repo = repo;
  e.commit = commit.as_link();
  e.rev = rev;
  if (since->is_string()) e.since = std::string(since->as_string());
  e.blocks.assign(blocks.begin(), blocks.end());
  e.ops.resize(ops.as_array().size(),
               repo::RecordOp{repo::Action::kCreate, {}, std::nullopt, std::nullopt});
  std::size_t index = 0;
  for (ValueView item : ops.as_array()) {
    if (auto st = decode_op(item, index, e.ops[index]); !st) return st.error();
    ++index;
  }
  for (ValueView blob : blobs.as_array()) {
    if (!blob.is_link()) return f.error("a blobs entry is not a link");
    e.blobs.push_back(blob.as_link());
  }
  if (prev_data) e.prev_data = prev_data->as_link();
  e.time = time;
  e.rebase = rebase;
  e.too_big = too_big;
  return {};
}

// The fields of a #sync (com.atproto.sync.subscribeRepos#sync).
enum SyncField : std::size_t { kSyncSeq, kSyncDid, kSyncBlocks, kSyncRev, kSyncTime };
constexpr Fields<5>::Names kSyncFields{"seq", "did", "blocks", "rev", "time"};

// Decoded into `e`, as decode_commit.
Status decode_sync(data::MapView body, SyncEvent& e) {
  const Fields<5> f("#sync", body, kSyncFields);
  SYNC_TRY(seq, f.integer(kSyncSeq));
  SYNC_TRY(did, f.did(kSyncDid));
  SYNC_TRY(blocks, f.bytes(kSyncBlocks));
  SYNC_TRY(rev, f.string(kSyncRev));
  if (auto ok = f.tid(kSyncRev, rev); !ok) return ok.error();
  SYNC_TRY(time, f.string(kSyncTime));
  e.seq = seq;
  e.did = did;
  e.blocks.assign(blocks.begin(), blocks.end());
  e.rev = rev;
  e.time = time;
  return {};
}

// The fields of an #identity (com.atproto.sync.subscribeRepos#identity).
enum IdentityField : std::size_t { kIdentitySeq, kIdentityDid, kIdentityTime, kIdentityHandle };
constexpr Fields<4>::Names kIdentityFields{"seq", "did", "time", "handle"};

Result<IdentityEvent> decode_identity(data::MapView body) {
  const Fields<4> f("#identity", body, kIdentityFields);
  IdentityEvent e;
  SYNC_TRY(seq, f.integer(kIdentitySeq));
  SYNC_TRY(did, f.did(kIdentityDid));
  SYNC_TRY(time, f.string(kIdentityTime));
  SYNC_TRY(handle, f.optional_string(kIdentityHandle));
  e.seq = seq;
  e.did = did;
  e.time = time;
  e.handle = std::move(handle);
  return e;
}

// The fields of an #account (com.atproto.sync.subscribeRepos#account).
enum AccountField : std::size_t {
  kAccountSeq,
  kAccountDid,
  kAccountTime,
  kAccountActive,
  kAccountStatus
};
constexpr Fields<5>::Names kAccountFields{"seq", "did", "time", "active", "status"};

Result<AccountEvent> decode_account(data::MapView body) {
  const Fields<5> f("#account", body, kAccountFields);
  AccountEvent e;
  SYNC_TRY(seq, f.integer(kAccountSeq));
  SYNC_TRY(did, f.did(kAccountDid));
  SYNC_TRY(time, f.string(kAccountTime));
  SYNC_TRY(active, f.boolean(kAccountActive));
  SYNC_TRY(status, f.optional_string(kAccountStatus));
  e.seq = seq;
  e.did = did;
  e.time = time;
  e.active = active;
  e.status = std::move(status);
  return e;
}

// The fields of an #info (com.atproto.sync.subscribeRepos#info) and of an
// error frame's payload.
enum NamedField : std::size_t { kNamedName, kNamedMessage };
constexpr Fields<2>::Names kInfoFields{"name", "message"};
constexpr Fields<2>::Names kErrorFields{"error", "message"};

Result<InfoEvent> decode_info(data::MapView body) {
  const Fields<2> f("#info", body, kInfoFields);
  InfoEvent e;
  SYNC_TRY(name, f.string(kNamedName));
  SYNC_TRY(message, f.optional_string(kNamedMessage));
  e.name = name;
  e.message = std::move(message);
  return e;
}

// [sync.stream.error-frame] An error payload: a string error name and an
// optional string message.
Result<ErrorFrame> decode_error(data::MapView body) {
  const Fields<2> f("error frame", body, kErrorFields);
  ErrorFrame e;
  SYNC_TRY(error, f.string(kNamedName));
  SYNC_TRY(message, f.optional_string(kNamedMessage));
  e.error = error;
  e.message = std::move(message);
  return e;
}

template <typename T>
Result<Message> as_message(Result<T> event) {
  if (!event) return event.error();
  return Message(Event(std::move(event).value()));
}

Value optional_string_value(const std::optional<std::string>& s) { return s ? Value(*s) : Value(); }

}  // namespace

Bytes encode_frame(const FrameHeader& header, const data::Value& body) {
  Map head{{"op", Value(header.op)}};
  if (header.t) head.emplace("t", Value(*header.t));
  Bytes out = must_encode(Value(std::move(head)));
  Bytes payload = must_encode(body);
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

namespace {

// The type of a message frame whose header is exactly what encode_frame
// writes for one, {"t": <type>, "op": 1}, read from its bytes: canonical
// DRISL-CBOR gives that map one encoding ("t" sorts first, being shorter),
// so nearly every frame of a stream is recognised without decoding its
// header. nullopt for any other header, which is then decoded in full; for
// this one that decode finds the same: a map of two keys in canonical
// order, t a UTF-8 string, op the integer 1. `header_size` receives the
// header's length.
std::optional<std::string_view> message_header_type(std::span<const std::uint8_t> bytes,
                                                    std::size_t& header_size) {
  // Map of 2; text "t"; a text whose length (under 24) is in its head.
  static constexpr std::uint8_t kMapT[] = {0xa2, 0x61, 't'};
  // Text "op"; the integer 1.
  static constexpr std::uint8_t kOp1[] = {0x62, 'o', 'p', 0x01};
  constexpr std::size_t kTypeAt = sizeof kMapT + 1;
  if (bytes.size() < kTypeAt || !std::equal(std::begin(kMapT), std::end(kMapT), bytes.begin()) ||
      (bytes[sizeof kMapT] >> 5) != 3 || (bytes[sizeof kMapT] & 0x1f) >= 24) {
    return std::nullopt;
  }
  const std::size_t length = bytes[sizeof kMapT] & 0x1f;
  if (bytes.size() - kTypeAt < length + sizeof kOp1 ||
      !std::equal(std::begin(kOp1), std::end(kOp1),
                  bytes.begin() + static_cast<std::ptrdiff_t>(kTypeAt + length))) {
    return std::nullopt;
  }
  const std::string_view type(reinterpret_cast<const char*>(bytes.data() + kTypeAt), length);
  if (!utf8::is_valid(type)) return std::nullopt;
  header_size = kTypeAt + length + sizeof kOp1;
  return type;
}

// The frame header, and where the body starts.
// `entries`, when given, receives the number of the header's fields.
// `recognise`: whether a message header may be read from its bytes
// (message_header_type); decode_frame decodes every header in full, and the
// tests compare the two.
Result<FrameHeader> decode_header(std::span<const std::uint8_t> bytes, std::size_t& header_size,
                                  std::size_t* entries = nullptr, bool recognise = true) {
  if (recognise) {
    if (auto type = message_header_type(bytes, header_size)) {
      if (header_size == bytes.size()) {
        return make_error("sync.frame.body", "frame has no body after its header");
      }
      if (entries != nullptr) *entries = 2;
      return FrameHeader{1, std::string(*type)};
    }
  }
  // [sync.frame.encoding] Both parts are strict DRISL-CBOR; any encoding
  // error is a hard error (the data.* code says which rule).
  // Onto a tape of the thread's (a header is a map of two or three short
  // entries): no Value map built per frame.
  thread_local data::CborTape tape;
  if (auto st = data::decode_cbor_view_prefix(bytes, tape, header_size); !st) return st.error();
  const ValueView header = tape.root();
  // [sync.frame.header] A map with an integer op; op 1 names its type in a
  // string t, op -1 (an error) has no t.
  if (!header.is_map()) return make_error("sync.frame.header", "frame header is not a map");
  const auto op = header.find("op");
  if (!op || !op->is_integer()) {
    return make_error("sync.frame.header", "frame header has no integer op");
  }
  FrameHeader out;
  out.op = op->as_integer();
  const auto t = header.find("t");
  if (t && !t->is_string()) {
    return make_error("sync.frame.header", "frame header t is not a string");
  }
  if (t) out.t = std::string(t->as_string());
  if (out.op == 1 && !out.t) {
    return make_error("sync.frame.header", "message frame (op 1) without t");
  }
  if (out.op == -1 && out.t) {
    return make_error("sync.frame.header", "error frame (op -1) with t");
  }
  if (header_size == bytes.size()) {
    return make_error("sync.frame.body", "frame has no body after its header");
  }
  if (entries != nullptr) *entries = header.as_map().size();
  return out;
}

// [sync.frame.trailing] Exactly two items: the body decoder's trailing
// bytes check is this rule for a frame.
Error body_error(const Error& error) {
  if (error.code == "data.cbor.trailing-bytes") {
    return make_error("sync.frame.trailing", "bytes after the frame body: " + error.message);
  }
  return error;
}

// The tape frame bodies are decoded onto.
using TapeLease = detail::TapeLease<struct FrameBodyUse>;

// The body of a frame decoded onto `tape` (the same rules as decode_frame's).
Status decode_body_view(std::span<const std::uint8_t> body, data::CborTape& tape) {
  if (auto st = data::decode_cbor_view(body, tape); !st) return body_error(st.error());
  // [sync.frame.body] Payloads are always maps.
  if (!tape.root().is_map()) return make_error("sync.frame.body", "frame body is not a map");
  return {};
}

}  // namespace

Result<Frame> decode_frame(std::span<const std::uint8_t> bytes) {
  std::size_t header_size = 0;
  auto header = decode_header(bytes, header_size, nullptr, false);
  if (!header) return header.error();
  auto body = data::decode_cbor(bytes.subspan(header_size));
  if (!body) return body_error(body.error());
  // [sync.frame.body] Payloads are always maps.
  if (!body->is_map()) return make_error("sync.frame.body", "frame body is not a map");
  return Frame{std::move(header).value(), std::move(body).value()};
}

const char* event_type(const Event& event) {
  return std::visit(
      [](const auto& e) -> const char* {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, CommitEvent>) return "#commit";
        if constexpr (std::is_same_v<T, SyncEvent>) return "#sync";
        if constexpr (std::is_same_v<T, IdentityEvent>) return "#identity";
        if constexpr (std::is_same_v<T, AccountEvent>) return "#account";
        if constexpr (std::is_same_v<T, InfoEvent>) return "#info";
      },
      event);
}

Status check_emitted_seqs(std::int64_t first, std::int64_t count) {
  // [sync.stream.seq-safe-range] Written so that nothing overflows: first
  // and count are each at most kMaxEmittedSeq here.
  if (count <= 0) return {};
  if (first > kMaxEmittedSeq || count > kMaxEmittedSeq - first + 1) {
    return make_error("sync.stream.seq-safe-range", "sequence number " + std::to_string(first) +
                                                        " (+" + std::to_string(count - 1) +
                                                        ") would pass 2^53 - 1, the last seq " +
                                                        "JavaScript consumers can hold exactly");
  }
  return {};
}

std::int64_t event_seq(const Event& event) {
  return std::visit(
      [](const auto& e) -> std::int64_t {
        if constexpr (std::is_same_v<std::decay_t<decltype(e)>, InfoEvent>) {
          return 0;
        } else {
          return e.seq;
        }
      },
      event);
}

data::Value event_body(const Event& event) {
  // [sync.event.fields] The lexicon's field names and types; no $type, the
  // header's t says it [sync.stream.no-type-field].
  struct Visitor {
    Value operator()(const CommitEvent& e) const {
      data::Array ops;
      for (const auto& op : e.ops) {
        Map m{{"action", Value(repo::action_name(op.action))},
              {"path", Value(op.path)},
              {"cid", op.cid ? Value(*op.cid) : Value()}};
        if (op.prev) m.emplace("prev", Value(*op.prev));
        ops.emplace_back(std::move(m));
      }
      data::Array blobs;
      for (const auto& b : e.blobs) blobs.emplace_back(b);
      Map m{{"seq", Value(e.seq)},
            {"rebase", Value(e.rebase)},
            {"tooBig", Value(e.too_big)},
            {"repo", Value(e.repo)},
            {"commit", Value(e.commit)},
            {"rev", Value(e.rev)},
            {"since", optional_string_value(e.since)},
            {"blocks", Value(e.blocks)},
            {"ops", Value(std::move(ops))},
            {"blobs", Value(std::move(blobs))},
            {"time", Value(e.time)}};
      if (e.prev_data) m.emplace("prevData", Value(*e.prev_data));
      return m;
    }
    Value operator()(const SyncEvent& e) const {
      return Map{{"seq", Value(e.seq)},
                 {"did", Value(e.did)},
                 {"blocks", Value(e.blocks)},
                 {"rev", Value(e.rev)},
                 {"time", Value(e.time)}};
    }
    Value operator()(const IdentityEvent& e) const {
      Map m{{"seq", Value(e.seq)}, {"did", Value(e.did)}, {"time", Value(e.time)}};
      if (e.handle) m.emplace("handle", Value(*e.handle));
      return m;
    }
    Value operator()(const AccountEvent& e) const {
      Map m{{"seq", Value(e.seq)},
            {"did", Value(e.did)},
            {"time", Value(e.time)},
            {"active", Value(e.active)}};
      if (e.status) m.emplace("status", Value(*e.status));
      return m;
    }
    Value operator()(const InfoEvent& e) const {
      Map m{{"name", Value(e.name)}};
      if (e.message) m.emplace("message", Value(*e.message));
      return m;
    }
  };
  return std::visit(Visitor{}, event);
}

Bytes encode_event(const Event& event) {
  return encode_frame(FrameHeader{1, std::string(event_type(event))}, event_body(event));
}

Bytes encode_error_frame(const ErrorFrame& error) {
  Map body{{"error", Value(error.error)}};
  if (error.message) body.emplace("message", Value(*error.message));
  return encode_frame(FrameHeader{-1, std::nullopt}, Value(std::move(body)));
}

CommitEvent commit_event(const repo::CommitResult& result, std::int64_t seq, std::string time) {
  CommitEvent e;
  e.seq = seq;
  e.repo = result.commit.did;
  e.commit = result.cid;
  e.rev = result.commit.rev;
  e.since = result.since;
  e.blocks = car::write_car(car::CarFile{{result.cid}, result.blocks});
  e.ops = result.ops;
  e.prev_data = result.prev_data;
  e.time = std::move(time);
  return e;
}

namespace {

// The tape entries of the body encode_event writes for a #commit or #sync
// (each container one entry plus its contents, each map key one): a
// received body with as many entries, having decoded as that event, holds
// exactly the lexicon's fields, nothing more.
std::size_t body_entries(const CommitEvent& e) {
  const std::size_t keys = 11 + (e.prev_data ? 1 : 0);
  std::size_t ops = 1;
  for (const auto& op : e.ops) ops += 1 + 2 * (3 + (op.prev ? 1 : 0));
  // The map, its keys, the scalar values, then ops and blobs.
  return 1 + keys + (keys - 2) + ops + 1 + e.blobs.size();
}
std::size_t body_entries(const SyncEvent&) { return 1 + 5 + 5; }

// The encoded length of the CBOR head starting with `initial`.
std::size_t head_size(std::uint8_t initial) {
  const std::uint8_t info = initial & 0x1f;
  if (info < 24) return 1;
  return 1 + (std::size_t{1} << (info - 24));
}

// Where the body on `tape`, decoded from `frame` (its entries point into
// the frame), holds its seq value: nullopt unless the body has exactly the
// `expected` entries of the fields encode_event writes and the seq is an
// unsigned integer. The frame's header must be checked by the caller.
std::optional<SeqSlot> find_seq_slot(std::span<const std::uint8_t> frame,
                                     const data::CborTape& tape, std::size_t expected) {
  if (tape.size() != expected) return std::nullopt;
  // The seq key's text lies in the frame; its value's head follows it.
  const data::TapeEntry* key = nullptr;
  for (auto it = tape.root().as_map().begin(); it != tape.root().as_map().end(); ++it) {
    if ((*it).first == "seq" && (*it).second.is_integer()) {
      key = (*it).second.entry() - 1;
      break;
    }
  }
  if (key == nullptr) return std::nullopt;
  const std::uint8_t* value = key->data + key->length;
  const auto offset = static_cast<std::size_t>(value - frame.data());
  if (offset >= frame.size() || (*value >> 5) != 0) return std::nullopt;  // not unsigned
  const std::size_t size = head_size(*value);
  if (size > frame.size() - offset) return std::nullopt;
  return SeqSlot{offset, size};
}

// The seq_slot of a decoded #commit or #sync (a header of exactly op and
// t: `header_entries` 2).
template <typename T>
void set_seq_slot(T& event, std::span<const std::uint8_t> frame, const data::CborTape& tape,
                  std::size_t header_entries) {
  if (header_entries == 2) event.seq_slot = find_seq_slot(frame, tape, body_entries(event));
}

// A #commit or #sync decoded in place into the message returned (no moves
// of the event through intermediate Results), with its seq_slot.
template <typename T>
Result<Message> decode_repo_event(data::MapView body, std::span<const std::uint8_t> frame,
                                  const data::CborTape& tape, std::size_t header_entries,
                                  Status (*decode)(data::MapView, T&)) {
  Result<Message> out = Message(std::in_place_type<Event>, std::in_place_type<T>);
  T& event = std::get<T>(std::get<Event>(out.value()));
  if (auto st = decode(body, event); !st) return st.error();
  set_seq_slot(event, frame, tape, header_entries);
  return out;
}

}  // namespace

std::optional<SeqSlot> seq_slot(const Event& event) {
  if (const auto* e = std::get_if<CommitEvent>(&event)) return e->seq_slot;
  if (const auto* e = std::get_if<SyncEvent>(&event)) return e->seq_slot;
  return std::nullopt;
}

void resequence_in_place(Bytes& frame, SeqSlot& slot, std::int64_t seq) {
  if (seq < 0 || slot.offset > frame.size() || slot.size > frame.size() - slot.offset) {
    throw std::invalid_argument("resequence_in_place: a negative seq or a slot outside the frame");
  }
  const Bytes encoded = must_encode(Value(seq));
  const auto at = frame.begin() + static_cast<std::ptrdiff_t>(slot.offset);
  if (encoded.size() == slot.size) {
    std::copy(encoded.begin(), encoded.end(), at);
  } else {
    frame.erase(at, at + static_cast<std::ptrdiff_t>(slot.size));
    frame.insert(frame.begin() + static_cast<std::ptrdiff_t>(slot.offset), encoded.begin(),
                 encoded.end());
  }
  slot.size = encoded.size();
}

std::optional<Bytes> resequence_frame(std::span<const std::uint8_t> frame, const Event& event,
                                      std::int64_t seq) {
  if (seq < 0) return std::nullopt;
  std::optional<SeqSlot> slot = seq_slot(event);
  if (!slot) {
    // An event without a slot: decode the frame to find it.
    std::optional<std::size_t> entries;
    if (const auto* e = std::get_if<CommitEvent>(&event)) entries = body_entries(*e);
    if (const auto* e = std::get_if<SyncEvent>(&event)) entries = body_entries(*e);
    if (!entries) return std::nullopt;
    std::size_t header_size = 0;
    auto header = data::decode_cbor_prefix(frame, header_size);
    // The header encode_frame writes: {op, t}.
    if (!header || !header->is_map() || header->as_map().size() != 2) return std::nullopt;
    TapeLease lease;
    data::CborTape& tape = lease.tape();
    if (!decode_body_view(frame.subspan(header_size), tape)) return std::nullopt;
    slot = find_seq_slot(frame, tape, *entries);
    if (!slot) return std::nullopt;
  }
  Bytes out(frame.begin(), frame.end());
  resequence_in_place(out, *slot, seq);
  return out;
}

Result<Message> decode_message(std::span<const std::uint8_t> bytes) {
  // Frames arrive by the thousand: the body is read as a view (one tape per
  // thread, reused), and only what an event keeps is copied out of it.
  std::size_t header_size = 0;
  std::size_t header_entries = 0;
  auto header = decode_header(bytes, header_size, &header_entries);
  if (!header) return header.error();
  TapeLease lease;
  data::CborTape& tape = lease.tape();
  if (auto st = decode_body_view(bytes.subspan(header_size), tape); !st) return st.error();
  data::MapView body = tape.root().as_map();
  if (header->op == -1) {
    auto error = decode_error(body);
    if (!error) return error.error();
    return Message(std::move(error).value());
  }
  // [sync.stream.unknown-types] Frames of an unknown op or t are skipped by
  // consumers, not treated as errors.
  if (header->op != 1) {
    return Message(UnknownMessage{"op " + std::to_string(header->op), data::to_value(tape.root())});
  }
  const std::string& t = *header->t;
  if (t == "#commit") {
    return decode_repo_event<CommitEvent>(body, bytes, tape, header_entries, decode_commit);
  }
  if (t == "#sync") {
    return decode_repo_event<SyncEvent>(body, bytes, tape, header_entries, decode_sync);
  }
  if (t == "#identity") return as_message(decode_identity(body));
  if (t == "#account") return as_message(decode_account(body));
  if (t == "#info") return as_message(decode_info(body));
  return Message(UnknownMessage{t, data::to_value(tape.root())});
}

}  // namespace atproto::sync

// Event stream frames and the subscribeRepos messages (events.hpp).
// Spec: https://atproto.com/specs/event-stream#framing and
// https://atproto.com/specs/sync#repository-event-stream
#include "atproto/sync/events.hpp"

#include <algorithm>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "atproto/data/cbor.hpp"
#include "atproto/data/cbor_view.hpp"
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

Error fields_error(const std::string& type, const std::string& what) {
  return make_error("sync.event.fields", type + ": " + what);
}

// Reads the fields of one message body (a view into the frame: the
// firehose's hot path decodes onto a tape, not into Values), naming the
// message in every error. Fields the lexicon does not define are ignored
// [sync.stream.unknown-fields].
class Fields {
 public:
  Fields(std::string type, data::MapView body) : type_(std::move(type)), body_(body) {}

  std::optional<ValueView> find(const char* name) const { return body_.find(name); }

  Result<ValueView> get(const char* name, data::Kind kind) const {
    auto v = find(name);
    if (!v) return fields_error(type_, std::string("missing field ") + name);
    if (v->kind() != kind) {
      return fields_error(type_, std::string("field ") + name + " is " +
                                     data::kind_name(v->kind()) + ", not " + data::kind_name(kind));
    }
    return *v;
  }

  // An optional field: absent gives nullopt; present must have `kind`.
  Result<std::optional<ValueView>> optional(const char* name, data::Kind kind) const {
    auto v = find(name);
    if (!v) return std::optional<ValueView>();
    auto checked = get(name, kind);
    if (!checked) return checked.error();
    return std::optional<ValueView>(*checked);
  }

  Result<std::int64_t> integer(const char* name) const {
    auto v = get(name, data::Kind::kInteger);
    if (!v) return v.error();
    return v->as_integer();
  }
  Result<std::string> string(const char* name) const {
    auto v = get(name, data::Kind::kString);
    if (!v) return v.error();
    return std::string(v->as_string());
  }
  Result<std::optional<std::string>> optional_string(const char* name) const {
    auto v = optional(name, data::Kind::kString);
    if (!v) return v.error();
    if (!*v) return std::optional<std::string>();
    return std::optional<std::string>(std::string((*v)->as_string()));
  }
  Result<bool> boolean(const char* name) const {
    auto v = get(name, data::Kind::kBool);
    if (!v) return v.error();
    return v->as_bool();
  }
  Result<Bytes> bytes(const char* name) const {
    auto v = get(name, data::Kind::kBytes);
    if (!v) return v.error();
    auto b = v->as_bytes();
    return Bytes(b.begin(), b.end());
  }
  Result<std::string> did(const char* name) const {
    auto s = string(name);
    if (!s) return s;
    if (auto ok = syntax::validate_did(*s); !ok) {
      return fields_error(type_,
                          std::string("field ") + name + " is not a DID: " + ok.error().message);
    }
    return s;
  }
  Status tid(const char* name, const std::string& value) const {
    if (auto ok = syntax::validate_tid(value); !ok) {
      return fields_error(type_,
                          std::string("field ") + name + " is not a TID: " + ok.error().message);
    }
    return {};
  }

  const std::string& type() const { return type_; }

 private:
  std::string type_;
  data::MapView body_;
};

// Early return of a failed Result from a function returning Result<U>.
#define SYNC_TRY(var, expr)                       \
  auto var##_result = (expr);                     \
  if (!var##_result) return var##_result.error(); \
  auto var = std::move(var##_result).value()

// [sync.event.ops] Each op's cid and prev fit its action: create has a new
// cid and no prev; update a new cid; delete a null cid. prev is optional for
// update and delete in the lexicon, but inversion needs it
// ([repo.diff.inversion] reports its absence).
Result<repo::RecordOp> decode_op(ValueView item, std::size_t index) {
  const std::string where = "#commit op " + std::to_string(index);
  if (!item.is_map()) return make_error("sync.event.fields", where + " is not a map");
  Fields f(where, item.as_map());
  SYNC_TRY(action, f.string("action"));
  SYNC_TRY(path, f.string("path"));
  auto cid = f.find("cid");
  if (!cid) return fields_error(where, "missing field cid");
  if (!cid->is_null() && !cid->is_link())
    return fields_error(where, "field cid is not a link or null");
  SYNC_TRY(prev, f.optional("prev", data::Kind::kLink));
  repo::RecordOp op{repo::Action::kCreate, std::move(path), std::nullopt, std::nullopt};
  if (cid->is_link()) op.cid = cid->as_link();
  if (prev) op.prev = prev->as_link();
  if (action == "create") {
    op.action = repo::Action::kCreate;
    if (!op.cid) return make_error("sync.event.ops", where + ": a create needs a cid");
    if (f.find("prev")) {
      return make_error("sync.event.ops", where + ": a create has no prev");
    }
  } else if (action == "update") {
    op.action = repo::Action::kUpdate;
    if (!op.cid) return make_error("sync.event.ops", where + ": an update needs a cid");
  } else if (action == "delete") {
    op.action = repo::Action::kDelete;
    if (op.cid) return make_error("sync.event.ops", where + ": a delete has a null cid");
  } else {
    return make_error("sync.event.ops", where + ": unknown action " + action);
  }
  return op;
}

Result<CommitEvent> decode_commit(data::MapView body) {
  Fields f("#commit", body);
  CommitEvent e;
  SYNC_TRY(seq, f.integer("seq"));
  SYNC_TRY(repo, f.did("repo"));
  SYNC_TRY(commit, f.get("commit", data::Kind::kLink));
  SYNC_TRY(rev, f.string("rev"));
  if (auto ok = f.tid("rev", rev); !ok) return ok.error();
  auto since = f.find("since");
  if (!since) return fields_error("#commit", "missing field since (null when there is none)");
  if (!since->is_null() && !since->is_string()) {
    return fields_error("#commit", "field since is not a string or null");
  }
  if (since->is_string()) {
    std::string text(since->as_string());
    if (auto ok = f.tid("since", text); !ok) return ok.error();
    e.since = std::move(text);
  }
  SYNC_TRY(blocks, f.get("blocks", data::Kind::kBytes));
  SYNC_TRY(ops, f.get("ops", data::Kind::kArray));
  SYNC_TRY(blobs, f.get("blobs", data::Kind::kArray));
  SYNC_TRY(prev_data, f.optional("prevData", data::Kind::kLink));
  SYNC_TRY(time, f.string("time"));
  SYNC_TRY(rebase, f.boolean("rebase"));
  SYNC_TRY(too_big, f.boolean("tooBig"));
  e.seq = seq;
  e.repo = std::move(repo);
  e.commit = commit.as_link();
  e.rev = std::move(rev);
  e.blocks.assign(blocks.as_bytes().begin(), blocks.as_bytes().end());
  e.ops.reserve(ops.as_array().size());
  std::size_t index = 0;
  for (ValueView item : ops.as_array()) {
    SYNC_TRY(op, decode_op(item, index++));
    e.ops.push_back(std::move(op));
  }
  for (ValueView blob : blobs.as_array()) {
    if (!blob.is_link()) return fields_error("#commit", "a blobs entry is not a link");
    e.blobs.push_back(blob.as_link());
  }
  if (prev_data) e.prev_data = prev_data->as_link();
  e.time = std::move(time);
  e.rebase = rebase;
  e.too_big = too_big;
  return e;
}

Result<SyncEvent> decode_sync(data::MapView body) {
  Fields f("#sync", body);
  SyncEvent e;
  SYNC_TRY(seq, f.integer("seq"));
  SYNC_TRY(did, f.did("did"));
  SYNC_TRY(blocks, f.bytes("blocks"));
  SYNC_TRY(rev, f.string("rev"));
  if (auto ok = f.tid("rev", rev); !ok) return ok.error();
  SYNC_TRY(time, f.string("time"));
  e.seq = seq;
  e.did = std::move(did);
  e.blocks = std::move(blocks);
  e.rev = std::move(rev);
  e.time = std::move(time);
  return e;
}

Result<IdentityEvent> decode_identity(data::MapView body) {
  Fields f("#identity", body);
  IdentityEvent e;
  SYNC_TRY(seq, f.integer("seq"));
  SYNC_TRY(did, f.did("did"));
  SYNC_TRY(time, f.string("time"));
  SYNC_TRY(handle, f.optional_string("handle"));
  e.seq = seq;
  e.did = std::move(did);
  e.time = std::move(time);
  e.handle = std::move(handle);
  return e;
}

Result<AccountEvent> decode_account(data::MapView body) {
  Fields f("#account", body);
  AccountEvent e;
  SYNC_TRY(seq, f.integer("seq"));
  SYNC_TRY(did, f.did("did"));
  SYNC_TRY(time, f.string("time"));
  SYNC_TRY(active, f.boolean("active"));
  SYNC_TRY(status, f.optional_string("status"));
  e.seq = seq;
  e.did = std::move(did);
  e.time = std::move(time);
  e.active = active;
  e.status = std::move(status);
  return e;
}

Result<InfoEvent> decode_info(data::MapView body) {
  Fields f("#info", body);
  InfoEvent e;
  SYNC_TRY(name, f.string("name"));
  SYNC_TRY(message, f.optional_string("message"));
  e.name = std::move(name);
  e.message = std::move(message);
  return e;
}

// [sync.stream.error-frame] An error payload: a string error name and an
// optional string message.
Result<ErrorFrame> decode_error(data::MapView body) {
  Fields f("error frame", body);
  ErrorFrame e;
  SYNC_TRY(error, f.string("error"));
  SYNC_TRY(message, f.optional_string("message"));
  e.error = std::move(error);
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

// The frame header, and where the body starts.
// `entries`, when given, receives the number of the header's fields.
Result<FrameHeader> decode_header(std::span<const std::uint8_t> bytes, std::size_t& header_size,
                                  std::size_t* entries = nullptr) {
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

// The tape of the calling thread, for frames decoded on the hot path. A
// tape that grew for an unusually large frame (up to kMaxFrameBytes of tiny
// items) is let go when the lease ends, so a thread keeps a modest one.
class TapeLease {
 public:
  TapeLease() : tape_(thread_tape()) {}
  ~TapeLease() {
    if (tape_.entries().capacity() > kKeptTapeEntries) {
      std::vector<data::TapeEntry>().swap(tape_.entries());
    }
  }
  TapeLease(const TapeLease&) = delete;
  TapeLease& operator=(const TapeLease&) = delete;
  data::CborTape& tape() { return tape_; }

 private:
  static constexpr std::size_t kKeptTapeEntries = 1 << 16;
  static data::CborTape& thread_tape() {
    thread_local data::CborTape tape;
    return tape;
  }
  data::CborTape& tape_;
};

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
  auto header = decode_header(bytes, header_size);
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

// A decoded #commit or #sync with its seq_slot (a header of exactly op
// and t: `header_entries` 2).
template <typename T>
Result<T> with_seq_slot(Result<T> event, std::span<const std::uint8_t> frame,
                        const data::CborTape& tape, std::size_t header_entries) {
  if (event && header_entries == 2) {
    T& e = event.value();
    e.seq_slot = find_seq_slot(frame, tape, body_entries(e));
  }
  return event;
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
    return as_message(with_seq_slot(decode_commit(body), bytes, tape, header_entries));
  }
  if (t == "#sync") {
    return as_message(with_seq_slot(decode_sync(body), bytes, tape, header_entries));
  }
  if (t == "#identity") return as_message(decode_identity(body));
  if (t == "#account") return as_message(decode_account(body));
  if (t == "#info") return as_message(decode_info(body));
  return Message(UnknownMessage{t, data::to_value(tape.root())});
}

}  // namespace atproto::sync

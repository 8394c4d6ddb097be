// Frames and subscribeRepos messages: round trips, and every way a frame or
// a message body can be wrong.
#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "atproto/common/testing.hpp"
#include "atproto/data/cbor.hpp"
#include "atproto/sync/events.hpp"

namespace {

using atproto::data::Array;
using atproto::data::Cid;
using atproto::data::Codec;
using atproto::data::Map;
using atproto::data::Value;
using atproto::repo::Action;
using atproto::repo::RecordOp;
using atproto::testing::code_of;
using namespace atproto::sync;

Cid cid_of_text(const std::string& text) {
  return Cid::compute(Codec::kDagCbor,
                      std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

CommitEvent sample_commit() {
  CommitEvent e;
  e.seq = 42;
  e.repo = "did:plc:abcdefghijklmnopqrstuvwx";
  e.commit = cid_of_text("commit");
  e.rev = "3l3qo2vutsw2b";
  e.since = "3l3qo2vuowo2b";
  e.blocks = {0x01, 0x02, 0x03};
  e.ops = {
      RecordOp{Action::kCreate, "app.bsky.feed.post/3l3qo2vuaaa2b", cid_of_text("a"), std::nullopt},
      RecordOp{Action::kUpdate, "app.bsky.actor.profile/self", cid_of_text("b"), cid_of_text("c")},
      RecordOp{Action::kDelete, "app.bsky.feed.like/3l3qo2vubbb2b", std::nullopt, cid_of_text("d")},
  };
  e.prev_data = cid_of_text("prev data");
  e.time = "2024-09-09T19:46:02.102Z";
  return e;
}

SyncEvent sample_sync() {
  return SyncEvent{7,
                   "did:plc:abcdefghijklmnopqrstuvwx",
                   {0xaa, 0xbb},
                   "3l3qo2vutsw2b",
                   "2024-09-09T19:46:02.102Z"};
}
IdentityEvent sample_identity() {
  return IdentityEvent{8, "did:web:example.com", "2024-09-09T19:46:02.102Z", "alice.example.com"};
}
AccountEvent sample_account() {
  return AccountEvent{9, "did:plc:abcdefghijklmnopqrstuvwx", "2024-09-09T19:46:02.102Z", false,
                      "takendown"};
}

template <typename T>
T round_trip(const T& event) {
  auto bytes = encode_event(Event(event));
  auto message = decode_message(bytes);
  REQUIRE(message.ok());
  REQUIRE(std::holds_alternative<Event>(*message));
  const Event& decoded = std::get<Event>(*message);
  REQUIRE(std::holds_alternative<T>(decoded));
  return std::get<T>(decoded);
}

// A frame with the given type and body, encoded as is.
Bytes frame_of(const std::string& type, const Value& body) {
  return encode_frame(FrameHeader{1, type}, body);
}

Bytes cbor(const Value& v) { return atproto::data::encode_cbor(v).value(); }

Bytes concat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace

TEST_CASE("#commit round trips with every op action and field [sync.event.fields]", "[sync]") {
  CommitEvent e = sample_commit();
  CommitEvent back = round_trip(e);
  CHECK(back.seq == e.seq);
  CHECK(back.repo == e.repo);
  CHECK(back.commit == e.commit);
  CHECK(back.rev == e.rev);
  CHECK(back.since == e.since);
  CHECK(back.blocks == e.blocks);
  CHECK(back.ops == e.ops);
  CHECK(back.blobs.empty());
  CHECK(back.prev_data == e.prev_data);
  CHECK(back.time == e.time);
  CHECK_FALSE(back.rebase);
  CHECK_FALSE(back.too_big);

  // The first commit of a repository: since is null and there is no prevData.
  e.since.reset();
  e.prev_data.reset();
  e.blobs = {cid_of_text("blob")};
  back = round_trip(e);
  CHECK_FALSE(back.since.has_value());
  CHECK_FALSE(back.prev_data.has_value());
  CHECK(back.blobs == e.blobs);
}

TEST_CASE("the #commit body has the lexicon names, no $type [sync.stream.no-type-field]",
          "[sync]") {
  CommitEvent e = sample_commit();
  e.since.reset();
  Value body = event_body(Event(e));
  for (const char* name : {"seq", "rebase", "tooBig", "repo", "commit", "rev", "since", "blocks",
                           "ops", "blobs", "time", "prevData"}) {
    INFO(name);
    CHECK(body.find(name) != nullptr);
  }
  CHECK(body.find("since")->is_null());
  CHECK(body.as_map().size() == 12);
  CHECK(body.find("$type") == nullptr);
  const Array& ops = body.find("ops")->as_array();
  CHECK(ops[0].find("prev") == nullptr);  // create: prev not defined
  CHECK(ops[2].find("cid")->is_null());   // delete: cid null
  CHECK(*ops[1].find("action") == Value("update"));
}

TEST_CASE("#sync, #identity, #account and #info round trip", "[sync]") {
  SyncEvent s = round_trip(sample_sync());
  CHECK(s.seq == 7);
  CHECK(s.did == sample_sync().did);
  CHECK(s.blocks == sample_sync().blocks);
  CHECK(s.rev == sample_sync().rev);
  CHECK(s.time == sample_sync().time);

  IdentityEvent i = round_trip(sample_identity());
  CHECK(i.seq == 8);
  CHECK(i.did == "did:web:example.com");
  CHECK(i.handle == std::optional<std::string>("alice.example.com"));
  IdentityEvent no_handle = sample_identity();
  no_handle.handle.reset();
  CHECK_FALSE(round_trip(no_handle).handle.has_value());

  AccountEvent a = round_trip(sample_account());
  CHECK(a.seq == 9);
  CHECK_FALSE(a.active);
  CHECK(a.status == std::optional<std::string>("takendown"));
  AccountEvent active = sample_account();
  active.active = true;
  active.status.reset();
  AccountEvent back = round_trip(active);
  CHECK(back.active);
  CHECK_FALSE(back.status.has_value());

  InfoEvent info = round_trip(InfoEvent{"OutdatedCursor", "cursor too old"});
  CHECK(info.name == "OutdatedCursor");
  CHECK(info.message == std::optional<std::string>("cursor too old"));
  CHECK(event_seq(Event(info)) == 0);
  CHECK(std::string(event_type(Event(info))) == "#info");
  CHECK(std::string(event_type(Event(sample_commit()))) == "#commit");
  CHECK(event_seq(Event(sample_commit())) == 42);
}

TEST_CASE(
    "producers number up to 2^53 - 1; seq values beyond it still decode as int64 "
    "[data.model.int64] [sync.stream.seq-safe-range]",
    "[sync]") {
  CHECK(kMaxEmittedSeq == 9007199254740991);
  CHECK(check_emitted_seqs(1).ok());
  CHECK(check_emitted_seqs(kMaxEmittedSeq).ok());
  CHECK(check_emitted_seqs(kMaxEmittedSeq - 9, 10).ok());
  CHECK(code_of(check_emitted_seqs(kMaxEmittedSeq + 1)) == "sync.stream.seq-safe-range");
  CHECK(code_of(check_emitted_seqs(kMaxEmittedSeq - 9, 11)) == "sync.stream.seq-safe-range");
  CHECK(code_of(check_emitted_seqs(2, std::numeric_limits<std::int64_t>::max())) ==
        "sync.stream.seq-safe-range");
  CHECK(code_of(check_emitted_seqs(std::numeric_limits<std::int64_t>::max())) ==
        "sync.stream.seq-safe-range");
  // A batch of no events needs no numbers.
  CHECK(check_emitted_seqs(kMaxEmittedSeq + 1, 0).ok());
  // Consumers are not held to the producers' limit.
  for (std::int64_t seq : {std::int64_t{1} << 53, (std::int64_t{1} << 53) + 1,
                           std::numeric_limits<std::int64_t>::max()}) {
    CommitEvent e = sample_commit();
    e.seq = seq;
    CHECK(round_trip(e).seq == seq);
    AccountEvent a = sample_account();
    a.seq = seq;
    CHECK(round_trip(a).seq == seq);
  }
}

TEST_CASE("error frames: op -1 and no t [sync.frame.header] [sync.stream.error-frame]", "[sync]") {
  Bytes bytes = encode_error_frame(ErrorFrame{"FutureCursor", "cursor in the future"});
  // The header is exactly {"op": -1}.
  Bytes header = cbor(Value(Map{{"op", Value(-1)}}));
  REQUIRE(bytes.size() > header.size());
  CHECK(Bytes(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(header.size())) == header);
  auto message = decode_message(bytes);
  REQUIRE(message.ok());
  REQUIRE(std::holds_alternative<ErrorFrame>(*message));
  CHECK(std::get<ErrorFrame>(*message).error == "FutureCursor");
  CHECK(std::get<ErrorFrame>(*message).message ==
        std::optional<std::string>("cursor in the future"));

  auto bare = decode_message(encode_error_frame(ErrorFrame{"ConsumerTooSlow", std::nullopt}));
  REQUIRE(bare.ok());
  CHECK_FALSE(std::get<ErrorFrame>(*bare).message.has_value());

  // An error body needs a string error; message must be a string.
  CHECK(code_of(decode_message(encode_frame(FrameHeader{-1, std::nullopt}, Value(Map{})))) ==
        "sync.event.fields");
  CHECK(code_of(decode_message(
            encode_frame(FrameHeader{-1, std::nullopt}, Value(Map{{"error", Value(5)}})))) ==
        "sync.event.fields");
  CHECK(code_of(decode_message(encode_frame(
            FrameHeader{-1, std::nullopt},
            Value(Map{{"error", Value("X")}, {"message", Value(1)}})))) == "sync.event.fields");
  // An error frame may not carry t.
  CHECK(code_of(decode_frame(
            encode_frame(FrameHeader{-1, "#commit"}, Value(Map{{"error", Value("X")}})))) ==
        "sync.frame.header");
}

TEST_CASE("frame headers are checked [sync.frame.header]", "[sync]") {
  Bytes body = cbor(Value(Map{{"name", Value("x")}}));
  auto with_header = [&](const Value& header) { return concat(cbor(header), body); };
  CHECK(code_of(decode_frame(with_header(Value(Map{{"op", Value(1)}})))) == "sync.frame.header");
  CHECK(code_of(decode_frame(with_header(Value(Map{{"t", Value("#info")}})))) ==
        "sync.frame.header");
  CHECK(code_of(decode_frame(with_header(Value(Map{{"op", Value("1")}, {"t", Value("#info")}})))) ==
        "sync.frame.header");
  CHECK(code_of(decode_frame(with_header(Value(Map{{"op", Value(1)}, {"t", Value(3)}})))) ==
        "sync.frame.header");
  CHECK(code_of(decode_frame(with_header(Value(Array{Value(1)})))) == "sync.frame.header");
  auto ok = decode_frame(with_header(Value(Map{{"op", Value(1)}, {"t", Value("#info")}})));
  REQUIRE(ok.ok());
  CHECK(ok->header.op == 1);
  CHECK(ok->header.t == std::optional<std::string>("#info"));
  CHECK(ok->body == Value(Map{{"name", Value("x")}}));
}

TEST_CASE("frame bodies: a map, present, nothing after it [sync.frame.body] [sync.frame.trailing]",
          "[sync]") {
  Bytes header = cbor(Value(Map{{"op", Value(1)}, {"t", Value("#info")}}));
  CHECK(code_of(decode_frame(header)) == "sync.frame.body");
  CHECK(code_of(decode_frame(concat(header, cbor(Value("text"))))) == "sync.frame.body");
  Bytes good = concat(header, cbor(Value(Map{{"name", Value("x")}})));
  REQUIRE(decode_frame(good).ok());
  CHECK(code_of(decode_frame(concat(good, Bytes{0x00}))) == "sync.frame.trailing");
  CHECK(code_of(decode_frame(concat(good, cbor(Value(Map{}))))) == "sync.frame.trailing");
  // Truncation anywhere is an encoding error of the data layer.
  for (std::size_t cut = 0; cut < good.size(); ++cut) {
    if (cut == header.size()) continue;  // header alone: no body
    INFO(cut);
    CHECK(code_of(decode_frame(std::span(good.data(), cut))) == "data.cbor.truncated");
  }
}

TEST_CASE("frames must be strict DRISL-CBOR [sync.frame.encoding]", "[sync]") {
  // Header {"op": 1, "t": "#info"} with op as a non-shortest integer (0x18 0x01).
  Bytes header = {0xa2, 0x61, 't', 0x65, '#', 'i', 'n', 'f', 'o', 0x62, 'o', 'p', 0x18, 0x01};
  Bytes body = cbor(Value(Map{{"name", Value("x")}}));
  CHECK(code_of(decode_frame(concat(header, body))) == "data.cbor.int-shortest");
  // Keys out of canonical order in the header ("t" before "op" is canonical:
  // shorter first; swap them).
  Bytes swapped = {0xa2, 0x62, 'o', 'p', 0x01, 0x61, 't', 0x65, '#', 'i', 'n', 'f', 'o'};
  CHECK(code_of(decode_frame(concat(swapped, body))) == "data.cbor.map-key-order");
  Bytes canonical = cbor(Value(Map{{"op", Value(1)}, {"t", Value("#info")}}));
  // A float in the body.
  Bytes float_body = {0xa1, 0x64, 'n', 'a', 'm', 'e', 0xf9, 0x3c, 0x00};
  CHECK(code_of(decode_frame(concat(canonical, float_body))) == "data.model.no-floats");
}

TEST_CASE("unknown message types and ops are skipped, not errors [sync.stream.unknown-types]",
          "[sync]") {
  Value body(Map{{"anything", Value(1)}});
  auto unknown = decode_message(frame_of("#labels", body));
  REQUIRE(unknown.ok());
  REQUIRE(std::holds_alternative<UnknownMessage>(*unknown));
  CHECK(std::get<UnknownMessage>(*unknown).type == "#labels");
  CHECK(std::get<UnknownMessage>(*unknown).body == body);

  auto other_op = decode_message(encode_frame(FrameHeader{2, std::nullopt}, body));
  REQUIRE(other_op.ok());
  REQUIRE(std::holds_alternative<UnknownMessage>(*other_op));
  CHECK(std::get<UnknownMessage>(*other_op).type == "op 2");
}

TEST_CASE("unknown fields in a body are ignored [sync.stream.unknown-fields]", "[sync]") {
  Value body = event_body(Event(sample_commit()));
  body.as_map().emplace("futureField", Value("whatever"));
  auto message = decode_message(frame_of("#commit", body));
  REQUIRE(message.ok());
  CHECK(std::get<CommitEvent>(std::get<Event>(*message)).ops == sample_commit().ops);
}

namespace {

struct FieldCase {
  std::string type;
  Value body;
  std::vector<std::string> required;
  std::vector<std::string> optional;
};

std::vector<FieldCase> field_cases() {
  return {
      {"#commit",
       event_body(Event(sample_commit())),
       {"seq", "rebase", "tooBig", "repo", "commit", "rev", "since", "blocks", "ops", "blobs",
        "time"},
       {"prevData"}},
      {"#sync", event_body(Event(sample_sync())), {"seq", "did", "blocks", "rev", "time"}, {}},
      {"#identity", event_body(Event(sample_identity())), {"seq", "did", "time"}, {"handle"}},
      {"#account",
       event_body(Event(sample_account())),
       {"seq", "did", "time", "active"},
       {"status"}},
      {"#info", event_body(Event(InfoEvent{"OutdatedCursor", "m"})), {"name"}, {"message"}},
  };
}

}  // namespace

TEST_CASE("every required field: missing or mistyped is an error [sync.event.fields]", "[sync]") {
  for (const auto& c : field_cases()) {
    REQUIRE(decode_message(frame_of(c.type, c.body)).ok());
    for (const auto& name : c.required) {
      INFO(c.type << " " << name);
      Value missing = c.body;
      REQUIRE(missing.as_map().erase(name) == 1);
      CHECK(code_of(decode_message(frame_of(c.type, missing))) == "sync.event.fields");
      // A map is the wrong kind for every field of these messages.
      Value mistyped = c.body;
      mistyped.as_map()[name] = Value(Map{});
      CHECK(code_of(decode_message(frame_of(c.type, mistyped))) == "sync.event.fields");
    }
    for (const auto& name : c.optional) {
      INFO(c.type << " " << name);
      Value absent = c.body;
      REQUIRE(absent.as_map().erase(name) == 1);
      CHECK(decode_message(frame_of(c.type, absent)).ok());
      Value mistyped = c.body;
      mistyped.as_map()[name] = Value(Map{});
      CHECK(code_of(decode_message(frame_of(c.type, mistyped))) == "sync.event.fields");
      // Optional is not nullable: null is the wrong kind too.
      Value null_value = c.body;
      null_value.as_map()[name] = Value();
      CHECK(code_of(decode_message(frame_of(c.type, null_value))) == "sync.event.fields");
    }
  }
}

TEST_CASE("DIDs and revs must have their syntax [sync.event.fields]", "[sync]") {
  Value body = event_body(Event(sample_commit()));
  auto with = [&](const char* name, Value v) {
    Value b = body;
    b.as_map()[name] = std::move(v);
    return code_of(decode_message(frame_of("#commit", b)));
  };
  CHECK(with("repo", Value("not a did")) == "sync.event.fields");
  CHECK(with("rev", Value("3l3qo2vutsw2")) == "sync.event.fields");
  CHECK(with("since", Value("nope")) == "sync.event.fields");
  CHECK(with("since", Value(5)) == "sync.event.fields");
  CHECK(with("blobs", Value(Array{Value("x")})) == "sync.event.fields");
  CHECK(with("ops", Value(Array{Value(1)})) == "sync.event.fields");
  Value sync_body = event_body(Event(sample_sync()));
  sync_body.as_map()["did"] = Value("did:");
  CHECK(code_of(decode_message(frame_of("#sync", sync_body))) == "sync.event.fields");
}

TEST_CASE("each op's cid and prev fit its action [sync.event.ops]", "[sync]") {
  Value link(cid_of_text("x"));
  auto op_code = [&](Map op) {
    Value body = event_body(Event(sample_commit()));
    body.as_map()["ops"] = Value(Array{Value(std::move(op))});
    return code_of(decode_message(frame_of("#commit", body)));
  };
  const std::string path = "app.bsky.feed.post/3l3qo2vuaaa2b";
  auto op = [&](const char* action) {
    return Map{{"action", Value(action)}, {"path", Value(path)}};
  };
  // create: a cid, no prev (not even null).
  Map create = op("create");
  create["cid"] = link;
  CHECK(op_code(create) == "<ok>");
  Map create_prev = create;
  create_prev["prev"] = link;
  CHECK(op_code(create_prev) == "sync.event.ops");
  Map create_null_prev = create;
  create_null_prev["prev"] = Value();
  CHECK(op_code(create_null_prev) == "sync.event.fields");
  Map create_null = op("create");
  create_null["cid"] = Value();
  CHECK(op_code(create_null) == "sync.event.ops");
  // update: a cid; prev optional in the lexicon.
  Map update = op("update");
  update["cid"] = link;
  CHECK(op_code(update) == "<ok>");
  update["prev"] = link;
  CHECK(op_code(update) == "<ok>");
  update["cid"] = Value();
  CHECK(op_code(update) == "sync.event.ops");
  // delete: cid null.
  Map del = op("delete");
  del["cid"] = Value();
  del["prev"] = link;
  CHECK(op_code(del) == "<ok>");
  del["cid"] = link;
  CHECK(op_code(del) == "sync.event.ops");
  // cid must be present (nullable, not optional), a link or null.
  Map no_cid = op("delete");
  CHECK(op_code(no_cid) == "sync.event.fields");
  Map text_cid = op("create");
  text_cid["cid"] = Value(cid_of_text("x").to_string());
  CHECK(op_code(text_cid) == "sync.event.fields");
  // Unknown action; missing path.
  Map move = op("move");
  move["cid"] = link;
  CHECK(op_code(move) == "sync.event.ops");
  Map no_path{{"action", Value("create")}, {"cid", link}};
  CHECK(op_code(no_path) == "sync.event.fields");
}

namespace {

// What decode_message made of `frame`, in terms decode_frame's header can
// be compared with: the error, or the message's type.
std::string header_verdict(const atproto::Result<Message>& message) {
  if (!message) return "error " + message.error().code + ": " + message.error().message;
  if (const auto* event = std::get_if<Event>(&*message)) return event_type(*event);
  if (std::holds_alternative<ErrorFrame>(*message)) return "error frame";
  return "unknown " + std::get<UnknownMessage>(*message).type;
}

}  // namespace

// [sync.frame.header] [sync.frame.encoding] decode_message reads the usual
// message header ({"t": type, "op": 1}) from its bytes; decode_frame decodes
// every header in full. On every one-byte change of the header bytes (each
// position, each other value) and of the byte after them, the two agree:
// the same error, or the same type (decode_message may still refuse a
// body's fields, under sync.event.*).
TEST_CASE("the recognised message header decides as the full header decode [sync.frame.header]",
          "[sync][properties]") {
  const std::vector<Bytes> frames{encode_event(Event(sample_commit())),
                                  encode_event(Event(sample_identity())),
                                  encode_event(Event(InfoEvent{"OutdatedCursor", std::nullopt})),
                                  frame_of("", Value(Map{{"name", Value("x")}})),
                                  frame_of("#a-type-of-23-bytes-long", Value(Map{})),
                                  encode_error_frame(ErrorFrame{"FutureCursor", "too far"})};
  std::size_t compared = 0;
  for (const Bytes& frame : frames) {
    std::size_t header_size = 0;
    REQUIRE(atproto::data::decode_cbor_prefix(frame, header_size).ok());
    for (std::size_t i = 0; i <= header_size && i < frame.size(); ++i) {
      for (int delta = 0; delta < 256; ++delta) {
        Bytes changed = frame;
        changed[i] = static_cast<std::uint8_t>((changed[i] + delta) & 0xff);
        const auto full = decode_frame(changed);
        const auto message = decode_message(changed);
        INFO("byte " << i << " + " << delta);
        if (!full) {
          CHECK(header_verdict(message) == header_verdict(atproto::Result<Message>(full.error())));
          continue;
        }
        ++compared;
        if (!message) {
          CHECK(message.error().code.rfind("sync.event.", 0) == 0);
        } else if (full->header.op == 1) {
          const std::string verdict = header_verdict(message);
          CHECK((verdict == *full->header.t || verdict == "unknown " + *full->header.t));
        } else if (full->header.op == -1) {
          CHECK(header_verdict(message) == "error frame");
        } else {
          CHECK(header_verdict(message) == "unknown op " + std::to_string(full->header.op));
        }
      }
    }
  }
  CHECK(compared > 0);
}

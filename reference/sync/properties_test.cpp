// RapidCheck properties of the sync layer: generated events survive the
// wire, mangled frames are refused with a rule (never a crash), and a chain
// of generated commits is accepted commit after commit while a commit with
// an op left out never is.
#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include <catch2/catch.hpp>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "atproto/data/test_generators.hpp"
#include "atproto/repo/repository.hpp"
#include "atproto/repo/test_generators.hpp"
#include "atproto/sync/checklist.hpp"
#include "atproto/syntax/test_generators.hpp"
#include "atproto/syntax/tid.hpp"

namespace {

namespace gen = rc::gen;
namespace dgen = atproto::data::generators;
namespace rgen = atproto::repo::generators;
namespace sgen = atproto::syntax::generators;
using atproto::repo::Action;
using atproto::repo::RecordOp;
using namespace atproto::sync;

rc::Gen<RecordOp> record_op() {
  return gen::apply(
      [](int action, const std::string& path, const atproto::data::Cid& a,
         const atproto::data::Cid& b, bool with_prev) {
        switch (action) {
          case 0:
            return RecordOp{Action::kCreate, path, a, std::nullopt};
          case 1:
            return RecordOp{Action::kUpdate, path, a, with_prev ? std::optional(b) : std::nullopt};
          default:
            return RecordOp{Action::kDelete, path, std::nullopt,
                            with_prev ? std::optional(b) : std::nullopt};
        }
      },
      gen::inRange(0, 3), rgen::repo_path(), dgen::cid(), dgen::cid(), gen::arbitrary<bool>());
}

template <typename T>
rc::Gen<std::optional<T>> maybe(rc::Gen<T> g) {
  return gen::map(gen::maybe(std::move(g)), [](const rc::Maybe<T>& m) {
    return m ? std::optional<T>(*m) : std::optional<T>();
  });
}

rc::Gen<Event> event() {
  auto commit = gen::apply(
      [](std::int64_t seq, const std::string& repo, const atproto::data::Cid& cid,
         const std::string& rev, const std::optional<std::string>& since, const Bytes& blocks,
         const std::vector<RecordOp>& ops, const std::optional<atproto::data::Cid>& prev_data,
         const std::string& time) {
        CommitEvent e;
        e.seq = seq;
        e.repo = repo;
        e.commit = cid;
        e.rev = rev;
        e.since = since;
        e.blocks = blocks;
        e.ops = ops;
        e.prev_data = prev_data;
        e.time = time;
        return Event(e);
      },
      dgen::integer(), sgen::gen_did(), dgen::cid(), sgen::gen_tid(), maybe(sgen::gen_tid()),
      gen::arbitrary<Bytes>(), gen::resize(8, gen::container<std::vector<RecordOp>>(record_op())),
      maybe(dgen::cid()), dgen::utf8_string());
  auto sync = gen::apply(
      [](std::int64_t seq, const std::string& did, const Bytes& blocks, const std::string& rev,
         const std::string& time) {
        return Event(SyncEvent{seq, did, blocks, rev, time});
      },
      dgen::integer(), sgen::gen_did(), gen::arbitrary<Bytes>(), sgen::gen_tid(),
      dgen::utf8_string());
  auto identity = gen::apply(
      [](std::int64_t seq, const std::string& did, const std::string& time,
         const std::optional<std::string>& handle) {
        return Event(IdentityEvent{seq, did, time, handle});
      },
      dgen::integer(), sgen::gen_did(), dgen::utf8_string(), maybe(sgen::gen_handle()));
  auto account = gen::apply(
      [](std::int64_t seq, const std::string& did, const std::string& time, bool active,
         const std::optional<std::string>& status) {
        return Event(AccountEvent{seq, did, time, active, status});
      },
      dgen::integer(), sgen::gen_did(), dgen::utf8_string(), gen::arbitrary<bool>(),
      maybe(dgen::utf8_string()));
  auto info = gen::apply(
      [](const std::string& name, const std::optional<std::string>& message) {
        return Event(InfoEvent{name, message});
      },
      dgen::utf8_string(), maybe(dgen::utf8_string()));
  return gen::oneOf(commit, sync, identity, account, info);
}

}  // namespace

TEST_CASE("properties: events survive encoding, canonically [sync.event.fields] [sync.event.ops]",
          "[properties]") {
  rc::prop("decode(encode(e)) is e and re-encodes to the same bytes", [] {
    const Event e = *event();
    const Bytes bytes = encode_event(e);
    auto decoded = decode_message(bytes);
    RC_ASSERT(decoded.ok());
    RC_ASSERT(std::holds_alternative<Event>(*decoded));
    const Event& back = std::get<Event>(*decoded);
    RC_ASSERT(back.index() == e.index());
    RC_ASSERT(event_body(back) == event_body(e));
    RC_ASSERT(encode_event(back) == bytes);
  });
}

TEST_CASE(
    "properties: mangled frames are refused with a rule or decode consistently "
    "[sync.frame.encoding]",
    "[properties]") {
  rc::prop("a mutated frame never crashes the decoder or the checklist", [] {
    const Bytes bytes = dgen::mutated(encode_event(*event()));
    auto decoded = decode_message(bytes);
    if (!decoded.ok()) {
      const std::string& code = decoded.error().code;
      RC_ASSERT(code.rfind("sync.", 0) == 0 || code.rfind("data.", 0) == 0);
    } else if (const auto* e = std::get_if<Event>(&*decoded)) {
      auto again = decode_message(encode_event(*e));
      RC_ASSERT(again.ok());
      RC_ASSERT(event_body(std::get<Event>(*again)) == event_body(*e));
    }
    AccountState state;
    state.did = "did:plc:ewvi7nxzyoun6zhxrhs64oiz";
    Verdict v = check_frame(bytes, state, CheckContext{"pds.example.com", 0, 0});
    RC_ASSERT(v.action != VerdictAction::kAccept || decoded.ok());
  });
}

namespace {

std::string tid_at(std::int64_t micros) {
  return atproto::syntax::encode_tid({static_cast<std::uint64_t>(micros), 0}).value();
}

}  // namespace

TEST_CASE(
    "properties: a generated chain of commits is accepted; an op left out never is "
    "[sync.check.inversion] [sync.check.since] [sync.check.prev-data]",
    "[properties]") {
  rc::prop("every commit of a chain passes, and each without one of its ops fails", [] {
    atproto::repo::MemoryBlockStore store;
    const auto key = atproto::crypto::PrivateKey::from_bytes(atproto::crypto::Curve::kK256,
                                                             std::vector<std::uint8_t>(32, 5))
                         .value();
    std::int64_t clock = 1'725'000'000'000'000;
    auto tick = [&clock] { return tid_at(clock += 1'000'000); };
    const std::string did = "did:plc:ewvi7nxzyoun6zhxrhs64oiz";
    auto repo = std::make_unique<atproto::repo::Repository>(
        atproto::repo::Repository::create(store, did, key, {}, tick).value());
    AccountState state;
    state.did = did;
    state.host = "pds.example.com";
    state.last_rev = repo->commit().rev;
    state.last_data = repo->commit().data;
    state.signing_key = key.public_key();
    CheckContext context{"pds.example.com", 0, kRevClockSkewMicros};

    std::vector<std::string> present;
    const auto rounds = *gen::inRange(1, 5);
    for (int round = 0; round < rounds; ++round) {
      std::vector<atproto::repo::WriteOp> writes;
      std::set<std::string> touched;
      for (const auto& path : *rgen::distinct_paths(6)) {
        const auto slash = path.find('/');
        const auto collection = path.substr(0, slash);
        const auto rkey = path.substr(slash + 1);
        const bool exists = std::find(present.begin(), present.end(), path) != present.end();
        atproto::data::Value record(atproto::data::Map{{"n", atproto::data::Value(round)}});
        if (!exists) {
          writes.push_back({Action::kCreate, collection, rkey, record});
        } else if (*gen::arbitrary<bool>()) {
          writes.push_back({Action::kUpdate, collection, rkey, record});
        } else {
          writes.push_back({Action::kDelete, collection, rkey, std::nullopt});
        }
        touched.insert(path);
      }
      auto result = repo->apply_writes(writes, key);
      RC_ASSERT(result.ok());
      for (const auto& w : writes) {
        const auto path = w.collection + "/" + w.rkey;
        if (w.action == Action::kCreate) present.push_back(path);
        if (w.action == Action::kDelete) std::erase(present, path);
      }
      CommitEvent e = commit_event(*result, round + 1, "2024-08-30T06:40:00.000Z");
      context.now_micros = clock;
      // Through the wire and back, as a consumer sees it.
      Verdict v = check_frame(encode_event(Event(e)), state, context);
      RC_ASSERT(v.action == VerdictAction::kAccept);
      for (std::size_t drop = 0; drop < e.ops.size(); ++drop) {
        CommitEvent partial = e;
        partial.ops.erase(partial.ops.begin() + static_cast<std::ptrdiff_t>(drop));
        RC_ASSERT(check_commit(partial, state, context).rule == "sync.check.inversion");
      }
      apply_verdict(state, v);
      RC_ASSERT(state.last_rev == e.rev);
    }
  });
}

namespace {

Event with_seq(Event e, std::int64_t seq) {
  std::visit(
      [&](auto& x) {
        if constexpr (!std::is_same_v<std::decay_t<decltype(x)>, InfoEvent>) x.seq = seq;
      },
      e);
  return e;
}

// The event as if built in memory: resequence_frame then finds the seq by
// decoding the frame again (the path for events without a seq_slot).
Event without_slot(Event e) {
  if (auto* c = std::get_if<CommitEvent>(&e)) c->seq_slot.reset();
  if (auto* y = std::get_if<SyncEvent>(&e)) y->seq_slot.reset();
  return e;
}

bool spliceable(const Event& e) {
  return (std::holds_alternative<CommitEvent>(e) || std::holds_alternative<SyncEvent>(e)) &&
         event_seq(e) >= 0;
}

}  // namespace

TEST_CASE(
    "properties: a re-sequenced frame is the event encoded with its new seq [relay.output.seq]",
    "[properties]") {
  rc::prop("resequence_frame(encode(e), s) is encode(e with seq s), byte for byte", [] {
    const Event e = *event();
    const auto seq = *gen::inRange<std::int64_t>(0, std::numeric_limits<std::int64_t>::max());
    const Bytes frame = encode_event(e);
    auto decoded = decode_message(frame);
    RC_ASSERT(decoded.ok());
    const Event& received = std::get<Event>(*decoded);
    // The decoder records where the seq sits exactly when it can be spliced.
    RC_ASSERT(seq_slot(received).has_value() == spliceable(e));
    auto out = resequence_frame(frame, received, seq);
    RC_ASSERT(out.has_value() == spliceable(e));
    // Finding the seq by decoding again gives the same frame.
    RC_ASSERT(resequence_frame(frame, without_slot(received), seq) == out);
    if (!out) return;
    RC_ASSERT(*out == encode_event(with_seq(e, seq)));
    auto again = decode_message(*out);
    RC_ASSERT(again.ok());
    RC_ASSERT(event_body(std::get<Event>(*again)) == event_body(with_seq(e, seq)));
    // In place, twice over (the slot follows a value of another length).
    Bytes in_place = frame;
    SeqSlot slot = *seq_slot(received);
    resequence_in_place(in_place, slot, seq);
    RC_ASSERT(in_place == *out);
    const auto next = *gen::inRange<std::int64_t>(0, std::numeric_limits<std::int64_t>::max());
    resequence_in_place(in_place, slot, next);
    RC_ASSERT(in_place == encode_event(with_seq(e, next)));
    auto moved = decode_message(in_place);
    RC_ASSERT(moved.ok());
    RC_ASSERT(seq_slot(std::get<Event>(*moved)) == slot);
  });
  rc::prop("a frame with a field beyond the lexicon's is left to encode_event", [] {
    const Event e = *event();
    RC_PRE(spliceable(e));
    atproto::data::Value body = event_body(e);
    auto extra = *gen::element<std::string>("zzUnknown", "x", "extraField");
    body.as_map().emplace(extra, atproto::data::Value(std::int64_t{7}));
    const Bytes frame = encode_frame(FrameHeader{1, std::string(event_type(e))}, body);
    auto decoded = decode_message(frame);
    RC_ASSERT(decoded.ok());
    RC_ASSERT(!seq_slot(std::get<Event>(*decoded)).has_value());
    RC_ASSERT(!resequence_frame(frame, std::get<Event>(*decoded), 5).has_value());
    RC_ASSERT(!resequence_frame(frame, without_slot(std::get<Event>(*decoded)), 5).has_value());
  });
  rc::prop("whatever a mutated frame decodes to, a re-sequenced one re-encodes it", [] {
    const Bytes frame = dgen::mutated(encode_event(*event()));
    auto decoded = decode_message(frame);
    if (!decoded.ok()) return;  // refused: nothing to re-sequence
    const auto* e = std::get_if<Event>(&*decoded);
    if (e == nullptr) return;
    auto out = resequence_frame(frame, *e, 42);
    RC_ASSERT(resequence_frame(frame, without_slot(*e), 42) == out);
    if (out) RC_ASSERT(*out == encode_event(with_seq(*e, 42)));
  });
}

// The SQLite AccountStore: accounts, hosts, and the output log's sequence
// numbers (never reused, also across reopening and pruning).
#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "atproto/common/sqlite.hpp"
#include "atproto/common/testing.hpp"
#include "atproto/relay/account_store.hpp"
#include "atproto/sync/events.hpp"

namespace {

using namespace atproto::relay;

struct TempDir : atproto::testing::TempDir {
  TempDir() : atproto::testing::TempDir("relay-store-") {}
  std::string db() const { return (path / "relay.sqlite").string(); }
};

std::unique_ptr<AccountStore> open(const TempDir& dir) {
  EventLogOptions log;
  log.segment_bytes = 1;  // a segment per batch: pruning by segment prunes by event
  auto store = open_sqlite_account_store(dir.db(), "", log);
  REQUIRE(store.ok());
  return std::move(store).value();
}

Bytes frame_for(std::int64_t seq) { return Bytes{static_cast<std::uint8_t>(seq), 0xAA}; }

atproto::data::Cid cid_of(std::string_view text) {
  return atproto::data::Cid::compute(
      atproto::data::Codec::kDagCbor,
      std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

// An account with a verified commit (its CID and MST root made from the texts).
AccountState with_commit(const std::string& did, const std::string& host, const std::string& rev,
                         std::string_view head, std::string_view data) {
  AccountState a;
  a.did = did;
  a.host = host;
  a.rev = rev;
  a.head = cid_of(head);
  a.data = cid_of(data);
  return a;
}

// The account as a freshly opened store reads it from the database (no
// cache in between).
AccountState stored(const TempDir& dir, const std::string& did) {
  auto store = open(dir);
  auto got = store->account(did);
  REQUIRE(got.ok());
  REQUIRE(got.value());
  return *got.value();
}

}  // namespace

TEST_CASE("relay store: accounts round-trip and page in DID order",
          "[relay][relay.account.state]") {
  TempDir dir;
  auto store = open(dir);
  for (const char* did : {"did:plc:ccc", "did:plc:aaa", "did:plc:bbb"}) {
    AccountState a;
    a.did = did;
    a.host = "pds.example";
    REQUIRE(store->put_account(a).ok());
  }
  AccountState full = with_commit("did:plc:bbb", "other.example", "3kabcdefghijk", "head", "data");
  full.active = false;
  full.status = "takendown";
  full.desynchronized = true;
  REQUIRE(store->put_account(full).ok());
  auto got = store->account("did:plc:bbb");
  REQUIRE(got.ok());
  REQUIRE(got.value());
  CHECK(got.value()->host == "other.example");
  CHECK(got.value()->rev == full.rev);
  CHECK(got.value()->head == full.head);
  CHECK(got.value()->data == full.data);
  CHECK_FALSE(got.value()->active);
  CHECK(got.value()->status == full.status);
  CHECK(got.value()->desynchronized);
  CHECK_FALSE(store->account("did:plc:zzz").value());

  auto page1 = store->list_accounts("", 2);
  REQUIRE(page1.ok());
  REQUIRE(page1.value().size() == 2);
  CHECK(page1.value()[0].did == "did:plc:aaa");
  CHECK(page1.value()[1].did == "did:plc:bbb");
  auto page2 = store->list_accounts(page1.value()[1].did, 2);
  REQUIRE(page2.value().size() == 1);
  CHECK(page2.value()[0].did == "did:plc:ccc");
}

TEST_CASE("relay store: hosts keep first-seen order, cursor, status and account count",
          "[relay][relay.host.cursor]") {
  TempDir dir;
  {
    auto store = open(dir);
    REQUIRE(store->add_host("b.example").ok());
    REQUIRE(store->add_host("a.example").ok());
    auto again = store->add_host("b.example");  // no duplicate, no reset
    REQUIRE(again.ok());
    REQUIRE(store->set_host_cursor("b.example", 42).ok());
    REQUIRE(store->set_host_status("a.example", kHostBanned).ok());
    AccountState a;
    a.did = "did:plc:one";
    a.host = "b.example";
    REQUIRE(store->put_account(a).ok());
  }
  auto store = open(dir);  // reopened: all of it persisted
  auto hosts = store->list_hosts(0, 10);
  REQUIRE(hosts.ok());
  REQUIRE(hosts.value().size() == 2);
  CHECK(hosts.value()[0].hostname == "b.example");
  CHECK(hosts.value()[0].cursor == 42);
  CHECK(hosts.value()[0].account_count == 1);
  CHECK(hosts.value()[1].hostname == "a.example");
  CHECK(hosts.value()[1].status == kHostBanned);
  auto after_first = store->list_hosts(hosts.value()[0].id, 10);
  REQUIRE(after_first.value().size() == 1);
  CHECK(after_first.value()[0].hostname == "a.example");
}

TEST_CASE("relay store: an appended event carries its seq, the account and the host cursor",
          "[relay][relay.output.seq]") {
  TempDir dir;
  auto store = open(dir);
  REQUIRE(store->add_host("pds.example").ok());
  AccountState a;
  a.did = "did:plc:one";
  a.host = "pds.example";
  a.rev = "3kaaaaaaaaaaa";
  std::int64_t seen = 0;
  auto seq = store->append_event(&a, "pds.example", 7, 1000, [&](std::int64_t s) {
    seen = s;
    return frame_for(s);
  });
  REQUIRE(seq.ok());
  CHECK(seq.value() == 1);
  CHECK(seen == 1);
  CHECK(store->account("did:plc:one").value()->rev == a.rev);
  CHECK(store->host("pds.example").value()->cursor == 7);
  auto events = store->events_after(0, 10);
  REQUIRE(events.value().size() == 1);
  CHECK(events.value()[0].frame == frame_for(1));
}

TEST_CASE("relay store: seqs increase, are never reused after pruning or reopening",
          "[relay][relay.output.seq][relay.output.retention]") {
  TempDir dir;
  {
    auto store = open(dir);
    for (int i = 0; i < 5; ++i) {
      auto seq = store->append_event(nullptr, "", 0, 1000 + i, frame_for);
      REQUIRE(seq.ok());
      CHECK(seq.value() == i + 1);
    }
    REQUIRE(store->prune_events(1003).ok());  // drops seq 1..3
    CHECK(store->first_seq().value() == 4);
    CHECK(store->last_seq().value() == 5);
    auto rest = store->events_after(0, 10);
    REQUIRE(rest.value().size() == 2);
    CHECK(rest.value()[0].seq == 4);
    REQUIRE(store->prune_events(5000).ok());  // all but the newest segment
    CHECK(store->first_seq().value() == 5);
    CHECK(store->last_seq().value() == 5);
  }
  auto store = open(dir);
  auto seq = store->append_event(nullptr, "", 0, 6000, frame_for);
  REQUIRE(seq.ok());
  CHECK(seq.value() == 6);
}

TEST_CASE(
    "relay store: seqs stop at 2^53 - 1, a batch that would pass it is refused whole "
    "[sync.stream.seq-safe-range]",
    "[relay][relay.output.seq]") {
  TempDir dir;
  REQUIRE(open(dir)->append_event(nullptr, "", 0, 1000, frame_for).ok());
  {
    // As if the relay had numbered events up to just below the limit.
    auto opened = atproto::sqlite::Database::open(dir.db());
    REQUIRE(opened.ok());
    atproto::sqlite::Database db = std::move(opened).value();
    auto set = db.prepare("UPDATE sequence SET last_seq = ? WHERE id = 1");
    set.bind(1, atproto::sync::kMaxEmittedSeq - 2);
    REQUIRE(set.run().ok());
    REQUIRE(db.changes() == 1);
  }
  auto store = open(dir);
  std::vector<AccountStore::Append> two(2);
  for (auto& a : two) a.encode = frame_for;
  std::vector<AccountStore::Append> three(3);
  for (auto& a : three) a.encode = frame_for;
  auto refused = store->append(three, "", 0);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == "sync.stream.seq-safe-range");
  auto appended = store->append(two, "", 0);
  REQUIRE(appended.ok());
  REQUIRE(appended->size() == 2);
  CHECK(appended->back().seq == atproto::sync::kMaxEmittedSeq);
  CHECK(store->last_seq().value() == atproto::sync::kMaxEmittedSeq);
  CHECK(store->append_event(nullptr, "", 0, 1000, frame_for).error().code ==
        "sync.stream.seq-safe-range");
}

TEST_CASE(
    "relay store: every way an append writes an account row (a new row, only the commit "
    "moved, unchanged, other fields changed, several changes in one batch) is what a "
    "reopened store reads",
    "[relay][relay.account.state]") {
  TempDir dir;
  const AccountState a = with_commit("did:plc:one", "pds.example", "3kaaaaaaaaaaa", "c1", "d1");
  auto append = [&](std::vector<AccountState> states) {
    auto store = open(dir);
    REQUIRE(store->account(a.did).ok());  // known to the store's cache when it exists
    std::vector<AccountStore::Append> batch(states.size());
    for (std::size_t i = 0; i < states.size(); ++i) {
      batch[i].account = states[i];
      batch[i].encode = frame_for;
    }
    REQUIRE(store->append(batch, "", 0).ok());
    // The same store answers what it committed.
    CHECK(*store->account(a.did).value() == states.back());
  };
  append({a});  // a new row
  CHECK(stored(dir, a.did) == a);

  AccountState moved = a;  // a verified commit: rev, head and data only
  moved.rev = "3kbbbbbbbbbbb";
  moved.head = cid_of("c2");
  moved.data = cid_of("d2");
  append({moved});
  CHECK(stored(dir, a.did) == moved);

  append({moved});  // unchanged
  CHECK(stored(dir, a.did) == moved);

  AccountState other = moved;  // hosting status and host change with the commit
  other.host = "other.example";
  other.active = false;
  other.status = "suspended";
  other.rev = "3kccccccccccc";
  other.head = cid_of("c3");
  append({other});
  CHECK(stored(dir, a.did) == other);

  // Several changes in one batch: the last one is the row; the head back to
  // none and the data cleared are written as NULL.
  AccountState first = other;
  first.rev = "3kddddddddddd";
  AccountState last = first;
  last.active = true;
  last.status.reset();
  last.desynchronized = true;
  last.head.reset();
  last.data.reset();
  append({first, last});
  CHECK(stored(dir, a.did) == last);
}

TEST_CASE("relay store: a row whose CID is not a CID is an error, not a wrong state",
          "[relay][relay.account.state]") {
  TempDir dir;
  AccountState a;
  a.did = "did:plc:one";
  a.host = "pds.example";
  a.head = cid_of("c1");
  REQUIRE(open(dir)->put_account(a).ok());
  {
    auto opened = atproto::sqlite::Database::open(dir.db());
    REQUIRE(opened.ok());
    atproto::sqlite::Database db = std::move(opened).value();
    REQUIRE(db.exec("UPDATE account SET data = 'not-a-cid'").ok());
  }
  auto store = open(dir);
  auto got = store->account(a.did);
  REQUIRE_FALSE(got.ok());
  CHECK(got.error().code == atproto::sqlite::kIoError);
  CHECK_FALSE(store->list_accounts("", 10).ok());
}

TEST_CASE(
    "relay store: CIDs are stored as their bytes; rows an older version wrote as strings read "
    "the same and take bytes when next written",
    "[relay][relay.account.state]") {
  TempDir dir;
  const AccountState a = with_commit("did:plc:one", "pds.example", "3kaaaaaaaaaaa", "c1", "d1");
  REQUIRE(open(dir)->put_account(a).ok());
  auto typeof_cids = [&] {
    auto opened = atproto::sqlite::Database::open(dir.db());
    REQUIRE(opened.ok());
    atproto::sqlite::Database db = std::move(opened).value();
    auto s = db.prepare("SELECT typeof(head) || ' ' || typeof(data) FROM account");
    REQUIRE(s.step() == SQLITE_ROW);
    return s.text(0);
  };
  CHECK(typeof_cids() == "blob blob");
  {
    // As an older version wrote the row: the CIDs' strings.
    auto opened = atproto::sqlite::Database::open(dir.db());
    REQUIRE(opened.ok());
    atproto::sqlite::Database db = std::move(opened).value();
    auto s = db.prepare("UPDATE account SET head = ?, data = ?");
    s.bind(1, a.head->to_string()).bind(2, a.data->to_string());
    REQUIRE(s.run().ok());
  }
  CHECK(typeof_cids() == "text text");
  CHECK(stored(dir, a.did) == a);
  AccountState moved = a;
  moved.rev = "3kbbbbbbbbbbb";
  moved.head = cid_of("c2");
  moved.data = cid_of("d2");
  {
    auto store = open(dir);
    REQUIRE(store->account(a.did).ok());
    std::vector<AccountStore::Append> batch(1);
    batch[0].account = moved;
    REQUIRE(store->append(batch, "", 0).ok());
  }
  CHECK(typeof_cids() == "blob blob");
  CHECK(stored(dir, a.did) == moved);
}

TEST_CASE(
    "relay store property: after random batches of account changes (commits, host and status "
    "changes, repeats, unchanged states), the store and a reopened one read the model's states",
    "[relay][relay.account.state]") {
  TempDir dir;
  std::mt19937 random(20261206);  // fixed: a failure replays
  std::map<std::string, AccountState> model;
  const std::vector<std::string> dids = {"did:plc:a", "did:plc:b", "did:plc:c", "did:plc:d"};
  auto store = open(dir);
  int commits = 0;
  for (int round = 0; round < 60; ++round) {
    std::vector<AccountStore::Append> batch(1 + random() % 6);
    for (auto& change : batch) {
      const std::string& did = dids[random() % dids.size()];
      auto it = model.find(did);
      AccountState next = it != model.end() ? it->second : AccountState{};
      next.did = did;
      if (next.host.empty()) next.host = "pds.example";
      switch (random() % 5) {
        case 0:
        case 1: {  // a verified commit (the narrow UPDATE when the row is known)
          const std::string n = std::to_string(++commits);
          next.rev = "3k" + std::string(11 - n.size(), 'a') + n;
          next.head = cid_of("head " + n);
          next.data = cid_of("data " + n);
          break;
        }
        case 2:  // a move to another host
          next.host = next.host == "pds.example" ? "other.example" : "pds.example";
          break;
        case 3:  // a status change, or out of sync and back
          if (random() % 2) {
            next.active = !next.active;
            next.status = next.active ? std::nullopt : std::optional<std::string>("suspended");
          } else {
            next.desynchronized = !next.desynchronized;
          }
          break;
        default:  // unchanged
          break;
      }
      model[did] = next;
      change.account = std::move(next);
      if (random() % 2) change.encode = frame_for;
    }
    REQUIRE(store->append(batch, "", 0).ok());
    for (const auto& [did, expected] : model) {
      auto got = store->account(did);
      REQUIRE(got.ok());
      REQUIRE(got.value());
      CHECK(*got.value() == expected);
    }
    if (round % 10 == 9) {
      store.reset();  // the database alone, no cache
      store = open(dir);
      auto rows = store->list_accounts("", 10);
      REQUIRE(rows.ok());
      REQUIRE(rows.value().size() == model.size());
      for (const auto& row : rows.value()) CHECK(row == model.at(row.did));
    }
  }
}

// The repositories part's storage and write path, without HTTP: commits
// chain and verify, swaps conflict, the record index pages, exports and
// diffs verify, proofs verify, and each write is one sequenced #commit.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "atproto/car/car.hpp"
#include "atproto/data/cbor.hpp"
#include "atproto/pds/repo_test_support.hpp"
#include "atproto/repo/inversion.hpp"
#include "atproto/sync/events.hpp"

using namespace atproto;
using namespace atproto::pds;
using pds::testing::RepoFixture;

namespace {

const std::string kAlice = "did:plc:aliceaaaaaaaaaaaaaaaaaaa";
const std::string kBob = "did:plc:bobbbbbbbbbbbbbbbbbbbbbb";

data::Value post(const std::string& text) {
  return data::Value(data::Map{
      {"$type", "app.bsky.feed.post"}, {"text", text}, {"createdAt", "2026-12-06T09:00:00.000Z"}});
}

RecordWrite create(const std::string& collection, const std::string& rkey, data::Value record) {
  RecordWrite w;
  w.op = repo::WriteOp{repo::Action::kCreate, collection, rkey, std::move(record)};
  return w;
}

RecordWrite remove(const std::string& collection, const std::string& rkey) {
  RecordWrite w;
  w.op = repo::WriteOp{repo::Action::kDelete, collection, rkey, std::nullopt};
  return w;
}

// Alice, Bob and two more accounts, added to `f`.
std::vector<std::string> four_accounts(RepoFixture& f) {
  const std::vector<std::string> dids = {kAlice, kBob, "did:plc:carolaaaaaaaaaaaaaaaaaaa",
                                         "did:plc:danaaaaaaaaaaaaaaaaaaaaa"};
  for (std::size_t i = 0; i < dids.size(); ++i)
    f.add_account(dids[i], "u" + std::to_string(i) + ".test");
  return dids;
}

// Every stored event, decoded, in order.
std::vector<sync::Event> stored_events(RepoFixture& f) {
  std::lock_guard lock(f.context->db_mutex);
  auto q = f.context->db.prepare("SELECT seq, frame FROM repo_seq ORDER BY seq");
  std::vector<sync::Event> out;
  while (q.step() == SQLITE_ROW) {
    auto message = sync::decode_message(q.blob(1));
    REQUIRE(message.ok());
    auto* event = std::get_if<sync::Event>(&*message);
    REQUIRE(event != nullptr);
    CHECK(sync::event_seq(*event) == q.integer(0));
    out.push_back(*event);
  }
  return out;
}

}  // namespace

TEST_CASE("pds repos: a new account's repository is an empty signed commit and a #commit",
          "[pds][repos]") {
  RepoFixture f;
  f.add_account(kAlice, "alice.test");
  auto root = f.repos->root(kAlice);
  REQUIRE(root.ok());
  REQUIRE(root->has_value());
  auto car = f.repos->export_car(kAlice, std::nullopt);
  REQUIRE(car.ok());
  auto verified = repo::verify_repo_car(*car, kAlice, f.accounts.public_key(kAlice));
  REQUIRE(verified.ok());
  CHECK(verified->records.empty());
  CHECK(verified->commit_cid == (*root)->commit);
  auto events = stored_events(f);
  REQUIRE(events.size() == 1);
  const auto& commit = std::get<sync::CommitEvent>(events[0]);
  CHECK(commit.repo == kAlice);
  CHECK(commit.commit == (*root)->commit);
  CHECK_FALSE(commit.since.has_value());
  CHECK(commit.ops.empty());
}

TEST_CASE(
    "pds repos: each write is one commit chained to the last, with an invertible #commit "
    "[sync.pds.commit-events] [repo.commit.rev-increases] [repo.diff.inversion]",
    "[pds][repos]") {
  RepoFixture f;
  f.add_account(kAlice, "alice.test");
  std::vector<repo::CommitResult> commits;
  for (int i = 0; i < 5; ++i) {
    auto r = f.repos->apply_writes(
        kAlice, {create("app.bsky.feed.post", "3kaaaaaaaaa2" + std::to_string(i), post("p"))},
        std::nullopt);
    REQUIRE(r.ok());
    commits.push_back(*r);
  }
  auto deleted =
      f.repos->apply_writes(kAlice, {remove("app.bsky.feed.post", "3kaaaaaaaaa22")}, std::nullopt);
  REQUIRE(deleted.ok());
  commits.push_back(*deleted);

  auto events = stored_events(f);
  REQUIRE(events.size() == 7);  // the empty repository, five creates, a delete
  for (std::size_t i = 1; i < events.size(); ++i) {
    const auto& previous_commit = std::get<sync::CommitEvent>(events[i - 1]);
    const auto& e = std::get<sync::CommitEvent>(events[i]);
    // [repo.commit.rev-increases] and the chain: since is the previous rev,
    // prevData the previous tree.
    CHECK(e.rev > previous_commit.rev);
    REQUIRE(e.since.has_value());
    CHECK(*e.since == previous_commit.rev);
    auto car = car::read_car(e.blocks);
    REQUIRE(car.ok());
    REQUIRE(car->roots.size() == 1);
    CHECK(car->roots[0] == e.commit);
    repo::MemoryBlockStore blocks;
    for (const auto& b : car->blocks) REQUIRE(blocks.put(b.cid, b.bytes).ok());
    auto commit_bytes = blocks.find(e.commit);
    REQUIRE(commit_bytes != nullptr);
    auto commit = repo::decode_commit(*commit_bytes);
    REQUIRE(commit.ok());
    CHECK(repo::verify_commit_signature(*commit, f.accounts.public_key(kAlice)).ok());
    // [repo.diff.inversion] The blocks carry what inverting the ops needs,
    // and inverting gives prevData.
    REQUIRE(e.prev_data.has_value());
    CHECK(repo::verify_inversion(blocks, commit->data, e.ops, *e.prev_data).ok());
    REQUIRE(e.ops.size() == 1);
    CHECK(e.blobs.empty());
    CHECK_FALSE(e.too_big);
    CHECK(car->blocks.front().cid == e.commit);  // the commit block first
  }
  const auto& last = std::get<sync::CommitEvent>(events.back());
  CHECK(last.ops[0].action == repo::Action::kDelete);
  CHECK_FALSE(last.ops[0].cid.has_value());
  CHECK(last.ops[0].prev.has_value());

  // The stored repository is the last commit, and it verifies in full.
  auto car = f.repos->export_car(kAlice, std::nullopt);
  REQUIRE(car.ok());
  auto verified = repo::verify_repo_car(*car, kAlice, f.accounts.public_key(kAlice));
  REQUIRE(verified.ok());
  CHECK(verified->commit_cid == commits.back().cid);
  CHECK(verified->records.size() == 4);
  CHECK(repo::check_block_order(*car).ok());
}

TEST_CASE("pds repos: swapCommit and swapRecord conflicts change nothing", "[pds][repos]") {
  RepoFixture f;
  f.add_account(kAlice, "alice.test");
  auto first = f.repos->apply_writes(
      kAlice, {create("app.bsky.feed.post", "3kaaaaaaaaa22", post("a"))}, std::nullopt);
  REQUIRE(first.ok());
  auto second = f.repos->apply_writes(
      kAlice, {create("app.bsky.feed.post", "3kaaaaaaaaa23", post("b"))}, first->cid);
  REQUIRE(second.ok());
  // The first commit is no longer current.
  auto conflict = f.repos->apply_writes(
      kAlice, {create("app.bsky.feed.post", "3kaaaaaaaaa24", post("c"))}, first->cid);
  REQUIRE_FALSE(conflict.ok());
  CHECK(conflict.error().code == "InvalidSwap");
  // swapRecord: the record's CID must match; null means "must not exist".
  RecordWrite update;
  update.op =
      repo::WriteOp{repo::Action::kUpdate, "app.bsky.feed.post", "3kaaaaaaaaa22", post("a2")};
  update.swap_record = std::optional<data::Cid>{second->cid};  // a CID, but not the record's
  auto wrong = f.repos->apply_writes(kAlice, {update}, std::nullopt);
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.error().code == "InvalidSwap");
  update.swap_record = std::optional<data::Cid>{};
  auto must_be_absent = f.repos->apply_writes(kAlice, {update}, std::nullopt);
  REQUIRE_FALSE(must_be_absent.ok());
  CHECK(must_be_absent.error().code == "InvalidSwap");
  update.swap_record = std::optional<data::Cid>{*first->ops[0].cid};
  auto right = f.repos->apply_writes(kAlice, {update}, std::nullopt);
  REQUIRE(right.ok());
  CHECK(right->ops[0].action == repo::Action::kUpdate);
  CHECK(right->ops[0].prev == first->ops[0].cid);
  // Failed writes left no commit and no event behind.
  auto root = f.repos->root(kAlice);
  CHECK((*root)->commit == right->cid);
  CHECK(stored_events(f).size() == 4);
  // A create over an existing record fails and the repository still works.
  auto exists = f.repos->apply_writes(
      kAlice, {create("app.bsky.feed.post", "3kaaaaaaaaa22", post("again"))}, std::nullopt);
  REQUIRE_FALSE(exists.ok());
  CHECK(exists.error().code == "InvalidRequest");
  auto after = f.repos->apply_writes(
      kAlice, {create("app.bsky.feed.post", "3kaaaaaaaaa25", post("d"))}, right->cid);
  CHECK(after.ok());
}

TEST_CASE(
    "pds repos: writes that wait for the database are committed together, and a failing one "
    "takes only itself back",
    "[pds][repos]") {
  RepoFixture f;
  const auto dids = four_accounts(f);
  auto stale = f.repos->root(kAlice);
  REQUIRE(stale.ok());
  // A first write per account, so that each account's repository is in
  // memory and its next writes are prepared without the database.
  for (const auto& did : dids) {
    REQUIRE(f.repos
                ->apply_writes(did, {create("app.bsky.feed.post", "3kaaaaaaa0000", post("x"))},
                               std::nullopt)
                .ok());
  }
  const auto events_before = stored_events(f).size();
  int commits = 0;
  sqlite3_commit_hook(
      f.context->db.handle(),
      [](void* n) {
        ++*static_cast<int*>(n);
        return 0;
      },
      &commits);
  // Two writes per account, and Alice's third one swaps on a commit that is
  // no longer current: InvalidSwap, whatever batch it lands in. Writes to
  // different accounts share batches; those of one account come one after
  // the other.
  struct Outcome {
    std::string did;
    bool should_fail = false;
    std::optional<Result<repo::CommitResult>> result;
  };
  std::vector<Outcome> outcomes;
  for (const auto& did : dids) {
    outcomes.push_back({did, false, std::nullopt});
    outcomes.push_back({did, false, std::nullopt});
  }
  outcomes.push_back({kAlice, true, std::nullopt});
  // The first batch's leader waits (outside the database: the others
  // still prepare their commits) until the other accounts' first writes
  // are queued behind it, so they go in together whatever the scheduling.
  std::atomic<bool> first_batch{true};
  const std::size_t others = dids.size() - 1;
  f.repos->set_before_batch_hook([&] {
    if (!first_batch.exchange(false)) return;
    for (int i = 0; i < 1000 && f.repos->writes_waiting() < others; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  });
  std::vector<std::thread> writers;
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    writers.emplace_back([&, i] {
      auto& o = outcomes[i];
      char key[16];
      std::snprintf(key, sizeof key, "3kaaaaaaa%04zu", i + 1);
      auto swap = o.should_fail ? std::optional<data::Cid>((*stale)->commit) : std::nullopt;
      o.result = f.repos->apply_writes(o.did, {create("app.bsky.feed.post", key, post(key))}, swap);
    });
  }
  for (auto& t : writers) t.join();
  f.repos->set_before_batch_hook(nullptr);
  sqlite3_commit_hook(f.context->db.handle(), nullptr, nullptr);
  std::size_t written = 0;
  for (const auto& o : outcomes) {
    REQUIRE(o.result.has_value());
    if (o.should_fail) {
      REQUIRE_FALSE(o.result->ok());
      CHECK(o.result->error().code == "InvalidSwap");
    } else {
      REQUIRE(o.result->ok());
      ++written;
    }
  }
  // Fewer transactions than writes: the queued ones went in together.
  CHECK(commits >= 1);
  CHECK(commits < static_cast<int>(written));
  // Every acknowledged write is stored, sequenced once, in a repository
  // that verifies; the failed one left nothing behind.
  auto events = stored_events(f);
  CHECK(events.size() == events_before + written);
  for (std::size_t i = 1; i < events.size(); ++i)
    CHECK(sync::event_seq(events[i]) == sync::event_seq(events[i - 1]) + 1);
  for (const auto& did : dids) {
    auto car = f.repos->export_car(did, std::nullopt);
    REQUIRE(car.ok());
    auto verified = repo::verify_repo_car(*car, did, f.accounts.public_key(did));
    REQUIRE(verified.ok());
    CHECK(verified->records.size() == 3u);
  }
}

TEST_CASE("pds repos: listRecords pages in both directions without gaps or repeats",
          "[pds][repos]") {
  RepoFixture f;
  f.add_account(kAlice, "alice.test");
  f.add_account(kBob, "bob.test");
  std::vector<std::string> keys;
  for (int i = 0; i < 23; ++i) {
    char key[16];
    std::snprintf(key, sizeof key, "3kaaaaaaa%04d", i);
    keys.push_back(key);
    REQUIRE(
        f.repos->apply_writes(kAlice, {create("app.bsky.feed.post", key, post(key))}, std::nullopt)
            .ok());
  }
  // Another collection and another account do not leak in.
  REQUIRE(f.repos
              ->apply_writes(kAlice,
                             {create("app.bsky.feed.like", "3kaaaaaaa0001",
                                     data::Value(data::Map{{"$type", "app.bsky.feed.like"}}))},
                             std::nullopt)
              .ok());
  REQUIRE(f.repos
              ->apply_writes(kBob, {create("app.bsky.feed.post", "3kaaaaaaa0005", post("b"))},
                             std::nullopt)
              .ok());
  for (bool reverse : {false, true}) {
    std::vector<std::string> seen;
    std::optional<std::string> cursor;
    for (int page = 0; page < 10; ++page) {
      auto records = f.repos->list_records(kAlice, "app.bsky.feed.post", 5, cursor, reverse);
      REQUIRE(records.ok());
      for (const auto& r : *records) {
        seen.push_back(r.rkey);
        CHECK(r.value.find("text")->as_string() == r.rkey);
      }
      if (records->size() < 5) break;
      cursor = records->back().rkey;
    }
    auto expected = keys;
    if (!reverse) std::reverse(expected.begin(), expected.end());
    CHECK(seen == expected);
  }
  auto collections = f.repos->collections(kAlice);
  REQUIRE(collections.ok());
  CHECK(*collections == std::vector<std::string>{"app.bsky.feed.like", "app.bsky.feed.post"});
}

TEST_CASE("pds repos: a since-diff and a record proof verify", "[pds][repos]") {
  RepoFixture f;
  f.add_account(kAlice, "alice.test");
  for (int i = 0; i < 40; ++i) {
    char key[16];
    std::snprintf(key, sizeof key, "3kaaaaaaa%04d", i);
    REQUIRE(
        f.repos->apply_writes(kAlice, {create("app.bsky.feed.post", key, post(key))}, std::nullopt)
            .ok());
  }
  auto middle = f.repos->root(kAlice);
  REQUIRE(middle.ok());
  std::string since = (*middle)->rev;
  auto later = f.repos->apply_writes(kAlice,
                                     {create("app.bsky.feed.post", "3kzzzzzzz0001", post("new")),
                                      remove("app.bsky.feed.post", "3kaaaaaaa0003")},
                                     std::nullopt);
  REQUIRE(later.ok());

  // [repo.diff.contents] The diff starts at the newest commit and carries
  // the new record but none of the unchanged ones.
  auto diff = f.repos->export_car(kAlice, since);
  REQUIRE(diff.ok());
  auto car = car::read_car(*diff);
  REQUIRE(car.ok());
  CHECK(car->roots[0] == later->cid);
  repo::MemoryBlockStore blocks;
  for (const auto& b : car->blocks) REQUIRE(blocks.put(b.cid, b.bytes).ok());
  CHECK(blocks.find(*later->ops[0].cid) != nullptr);
  auto full = f.repos->export_car(kAlice, std::nullopt);
  REQUIRE(full.ok());
  CHECK(diff->size() < full->size() / 4);
  // Applied in reverse, its ops give the tree the client had at `since`.
  CHECK(repo::verify_inversion(blocks, later->commit.data, later->ops, (*middle)->data).ok());

  // [repo.mst.proof] The proof CAR proves presence (with the CID) and absence.
  auto proof = f.repos->record_proof_car(kAlice, "app.bsky.feed.post", "3kzzzzzzz0001");
  REQUIRE(proof.ok());
  auto proof_car = car::read_car(*proof);
  REQUIRE(proof_car.ok());
  auto commit = repo::decode_commit(proof_car->blocks.front().bytes);
  REQUIRE(commit.ok());
  CHECK(repo::verify_commit_signature(*commit, f.accounts.public_key(kAlice)).ok());
  auto proven =
      repo::verify_proof(commit->data, "app.bsky.feed.post/3kzzzzzzz0001", proof_car->blocks);
  REQUIRE(proven.ok());
  CHECK(*proven == later->ops[0].cid);
  auto absent = f.repos->record_proof_car(kAlice, "app.bsky.feed.post", "3kaaaaaaa0003");
  REQUIRE(absent.ok());
  auto absent_car = car::read_car(*absent);
  auto none =
      repo::verify_proof(commit->data, "app.bsky.feed.post/3kaaaaaaa0003", absent_car->blocks);
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());
}

TEST_CASE(
    "pds repos: a write the firehose could not carry is refused and changes nothing "
    "[sync.limits.record-size] [sync.limits.commit-blocks]",
    "[pds][repos]") {
  RepoFixture f;
  f.add_account(kAlice, "alice.test");
  auto before = f.repos->root(kAlice);
  auto big = post(std::string(1'000'001, 'x'));
  auto refused = f.repos->apply_writes(kAlice, {create("app.bsky.feed.post", "3kaaaaaaaaa22", big)},
                                       std::nullopt);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == "InvalidRequest");
  // Three records under the per-record limit, over the commit's together.
  std::vector<RecordWrite> writes;
  for (int i = 0; i < 3; ++i) {
    writes.push_back(create("app.bsky.feed.post", "3kaaaaaaaaa2" + std::to_string(i + 2),
                            post(std::string(700'000, static_cast<char>('a' + i)))));
  }
  auto too_much = f.repos->apply_writes(kAlice, writes, std::nullopt);
  REQUIRE_FALSE(too_much.ok());
  CHECK((*f.repos->root(kAlice))->commit == (*before)->commit);
  CHECK(stored_events(f).size() == 1);
  writes.pop_back();
  CHECK(f.repos->apply_writes(kAlice, writes, std::nullopt).ok());
}

TEST_CASE("pds repos: deleting an account's repository leaves the others", "[pds][repos]") {
  RepoFixture f;
  f.add_account(kAlice, "alice.test");
  f.add_account(kBob, "bob.test");
  REQUIRE(f.repos
              ->apply_writes(kAlice, {create("app.bsky.feed.post", "3kaaaaaaa0001", post("a"))},
                             std::nullopt)
              .ok());
  REQUIRE(f.repos
              ->apply_writes(kBob, {create("app.bsky.feed.post", "3kaaaaaaa0001", post("a"))},
                             std::nullopt)
              .ok());
  {
    std::lock_guard lock(f.context->db_mutex);
    sqlite::Transaction tx(f.context->db);
    REQUIRE(f.repos->delete_repo_in_tx(kAlice).ok());
    REQUIRE(tx.commit().ok());
  }
  CHECK_FALSE(f.repos->root(kAlice)->has_value());
  CHECK_FALSE(f.repos->get_record(kAlice, "app.bsky.feed.post", "3kaaaaaaa0001")->has_value());
  auto bob = f.repos->get_record(kBob, "app.bsky.feed.post", "3kaaaaaaa0001");
  REQUIRE(bob.ok());
  CHECK(bob->has_value());
  auto write =
      f.repos->apply_writes(kAlice, {create("app.bsky.feed.post", "3k2", post("x"))}, std::nullopt);
  REQUIRE_FALSE(write.ok());
  CHECK(write.error().code == "RepoNotFound");
}

TEST_CASE(
    "pds repos: a block is stored once per account, in the current layout and in the older "
    "WITHOUT ROWID one",
    "[pds][repos]") {
  for (bool legacy : {false, true}) {
    CAPTURE(legacy);
    RepoFixture f;
    auto count = [&](const std::string& sql, const std::string& bind = {}) {
      std::lock_guard lock(f.context->db_mutex);
      auto q = f.context->db.prepare(sql);
      if (!bind.empty()) q.bind(1, bind);
      REQUIRE(q.step() == SQLITE_ROW);
      return q.integer(0);
    };
    if (legacy) {
      // A database made before repo_block became a rowid table.
      {
        std::lock_guard lock(f.context->db_mutex);
        REQUIRE(f.context->db
                    .exec("DROP TABLE repo_block; DROP TABLE repo_commit;"
                          "CREATE TABLE repo_block (did TEXT NOT NULL, cid BLOB NOT NULL,"
                          " bytes BLOB NOT NULL, rev TEXT NOT NULL,"
                          " PRIMARY KEY (did, cid)) WITHOUT ROWID;")
                    .ok());
      }
      REQUIRE(f.repos->init_schema().ok());
    }
    // The layout is kept: no second (did, cid) key on the older table.
    CHECK(count("SELECT count(*) FROM sqlite_schema WHERE name = 'repo_block_cid'") ==
          (legacy ? 0 : 1));
    // Commits by rev: listed in repo_commit, or found by the older index.
    CHECK(count("SELECT count(*) FROM sqlite_schema WHERE name = 'repo_block_rev'") ==
          (legacy ? 1 : 0));
    CHECK(count("SELECT count(*) FROM sqlite_schema WHERE name = 'repo_commit'") ==
          (legacy ? 0 : 1));
    f.add_account(kAlice, "alice.test");
    f.add_account(kBob, "bob.test");
    // Two records with the same content, written by two commits, share one
    // block; Bob's copy is his.
    auto a = f.repos->apply_writes(
        kAlice, {create("app.bsky.feed.post", "3kaaaaaaa0001", post("same"))}, std::nullopt);
    REQUIRE(a.ok());
    auto second = f.repos->apply_writes(
        kAlice, {create("app.bsky.feed.post", "3kaaaaaaa0002", post("same"))}, std::nullopt);
    REQUIRE(second.ok());
    REQUIRE(f.repos
                ->apply_writes(kBob, {create("app.bsky.feed.post", "3kaaaaaaa0001", post("same"))},
                               std::nullopt)
                .ok());
    REQUIRE(second->ops.at(0).cid == a->ops.at(0).cid);
    auto blocks_of = [&](const std::string& did) {
      std::lock_guard lock(f.context->db_mutex);
      auto q = f.context->db.prepare("SELECT count(*) FROM repo_block WHERE did = ? AND cid = ?");
      q.bind(1, did).bind_blob(2, a->ops.at(0).cid->to_bytes());
      REQUIRE(q.step() == SQLITE_ROW);
      return q.integer(0);
    };
    CHECK(blocks_of(kAlice) == 1);
    CHECK(blocks_of(kBob) == 1);
    // The block stays while a record uses it, and goes with the last one.
    const std::string before = (*f.repos->root(kAlice))->rev;
    const data::Cid data_before = (*f.repos->root(kAlice))->data;
    auto removed = f.repos->apply_writes(kAlice, {remove("app.bsky.feed.post", "3kaaaaaaa0001")},
                                         std::nullopt);
    REQUIRE(removed.ok());
    {
      // [repo.diff.contents] A since-diff starts from the commit at
      // `before` in either layout: the latest ops inverted give its tree.
      auto diff = f.repos->export_car(kAlice, before);
      REQUIRE(diff.ok());
      auto car = car::read_car(*diff);
      REQUIRE(car.ok());
      CHECK(car->roots[0] == removed->cid);
      repo::MemoryBlockStore blocks;
      for (const auto& b : car->blocks) REQUIRE(blocks.put(b.cid, b.bytes).ok());
      CHECK(repo::verify_inversion(blocks, removed->commit.data, removed->ops, data_before).ok());
      CHECK(car->blocks.size() < 8);
    }
    CHECK(blocks_of(kAlice) == 1);
    REQUIRE(
        f.repos->apply_writes(kAlice, {remove("app.bsky.feed.post", "3kaaaaaaa0002")}, std::nullopt)
            .ok());
    CHECK(blocks_of(kAlice) == 0);
    CHECK(blocks_of(kBob) == 1);
    // Each repository still exports whole and verifies.
    for (const auto& did : {kAlice, kBob}) {
      auto car = f.repos->export_car(did, std::nullopt);
      REQUIRE(car.ok());
      auto verified = repo::verify_repo_car(*car, did, f.accounts.public_key(did));
      REQUIRE(verified.ok());
      CHECK(verified->records.size() == (did == kAlice ? 0u : 1u));
    }
    CHECK(count("SELECT count(*) FROM repo_block WHERE did = ?", kAlice) > 0);
  }
}

namespace {

// Each account's #commit events in order, checked to form one chain: each
// `since` is the rev before it and each prevData the tree before it.
// Returns the commit CIDs per account.
std::map<std::string, std::vector<data::Cid>> commit_chains(RepoFixture& f) {
  auto events = stored_events(f);
  for (std::size_t i = 1; i < events.size(); ++i)
    CHECK(sync::event_seq(events[i]) == sync::event_seq(events[i - 1]) + 1);
  std::map<std::string, std::vector<data::Cid>> chains;
  std::map<std::string, std::pair<std::string, data::Cid>> last;  // rev, data
  for (const auto& event : events) {
    const auto* commit = std::get_if<sync::CommitEvent>(&event);
    if (commit == nullptr) continue;
    auto decoded = car::read_car(commit->blocks);
    REQUIRE(decoded.ok());
    std::optional<repo::Commit> signed_commit;
    for (const auto& block : decoded->blocks) {
      if (block.cid == commit->commit) signed_commit = repo::decode_commit(block.bytes).value();
    }
    REQUIRE(signed_commit.has_value());
    if (auto it = last.find(commit->repo); it != last.end()) {
      CHECK(commit->since == it->second.first);
      CHECK(commit->prev_data == it->second.second);
      CHECK(commit->rev > it->second.first);
    }
    last.insert_or_assign(commit->repo, std::make_pair(commit->rev, signed_commit->data));
    chains[commit->repo].push_back(commit->commit);
  }
  return chains;
}

}  // namespace

TEST_CASE(
    "pds repos: writes prepared in parallel, to several accounts and to one account, are all "
    "stored, each account's commits form one chain and the firehose has no gap "
    "[pds.service.record-write]",
    "[pds][repos]") {
  RepoFixture f;
  const auto dids = four_accounts(f);
  // Three threads per account, each writing its own records one after the
  // other: the writes of one account race for its lock, those of different
  // accounts prepare side by side.
  constexpr int kThreads = 12;
  constexpr int kWrites = 10;
  struct Written {
    std::string did;
    std::string rkey;
    Result<repo::CommitResult> result;
  };
  std::vector<std::vector<Written>> written(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string& did = dids[static_cast<std::size_t>(t) % dids.size()];
      for (int i = 0; i < kWrites; ++i) {
        char rkey[16];
        std::snprintf(rkey, sizeof rkey, "t%02dn%03d", t, i);
        written[static_cast<std::size_t>(t)].push_back(
            {did, rkey,
             f.repos->apply_writes(did, {create("app.bsky.feed.post", rkey, post(rkey))},
                                   std::nullopt)});
      }
    });
  }
  for (auto& t : threads) t.join();
  std::map<std::string, std::set<data::Cid>> acknowledged;
  for (const auto& list : written) {
    for (const auto& w : list) {
      REQUIRE(w.result.ok());
      acknowledged[w.did].insert(w.result->cid);
      // Every acknowledged record is there, with the CID the write gave.
      auto record = f.repos->get_record(w.did, "app.bsky.feed.post", w.rkey);
      REQUIRE(record.ok());
      REQUIRE(record->has_value());
      CHECK((*record)->cid == w.result->ops.at(0).cid);
    }
  }
  // One #commit per acknowledged write (plus the account's first), in one
  // chain per account, numbered without gaps.
  auto chains = commit_chains(f);
  for (const auto& did : dids) {
    const auto& chain = chains[did];
    REQUIRE(chain.size() == acknowledged[did].size() + 1);
    CHECK(std::set<data::Cid>(chain.begin() + 1, chain.end()) == acknowledged[did]);
    auto root = f.repos->root(did);
    REQUIRE(root.ok());
    CHECK((*root)->commit == chain.back());
    auto car = f.repos->export_car(did, std::nullopt);
    REQUIRE(car.ok());
    auto verified = repo::verify_repo_car(*car, did, f.accounts.public_key(did));
    REQUIRE(verified.ok());
    CHECK(verified->records.size() == acknowledged[did].size());
  }
}

TEST_CASE(
    "pds repos: a write whose batch fails leaves nothing, and the account's next write builds on "
    "the stored commit [pds.robust.durable-writes]",
    "[pds][repos]") {
  RepoFixture f;
  f.add_account(kAlice, "alice.test");
  f.add_account(kBob, "bob.test");
  // The database refuses one record (as a full disk would refuse a batch):
  // its commit was prepared and signed, then its batch fails.
  {
    std::lock_guard lock(f.context->db_mutex);
    REQUIRE(f.context->db
                .exec("CREATE TEMP TRIGGER refuse_boom BEFORE INSERT ON main.record"
                      " WHEN NEW.rkey = 'boom' BEGIN SELECT RAISE(ABORT, 'refused'); END;")
                .ok());
  }
  auto write = [&](const std::string& did, const std::string& rkey) {
    return f.repos->apply_writes(did, {create("app.bsky.feed.post", rkey, post(rkey))},
                                 std::nullopt);
  };
  auto first = write(kAlice, "3kaaaaaaa0001");
  REQUIRE(first.ok());
  REQUIRE(write(kBob, "3kaaaaaaa0001").ok());
  const auto events_before = stored_events(f).size();
  auto check_next_write = [&](const repo::CommitResult& before, const std::string& rkey) {
    // Nothing of the failed write is stored or sequenced ...
    CHECK((*f.repos->root(kAlice))->commit == before.cid);
    CHECK_FALSE(f.repos->get_record(kAlice, "app.bsky.feed.post", "boom")->has_value());
    // ... and the next write follows the stored commit, not the failed one.
    auto next = write(kAlice, rkey);
    REQUIRE(next.ok());
    CHECK(next->since == before.commit.rev);
    CHECK(next->prev_data == before.commit.data);
    return std::move(next).value();
  };
  SECTION("alone in its batch") {
    auto failed = write(kAlice, "boom");
    REQUIRE_FALSE(failed.ok());
    CHECK(stored_events(f).size() == events_before);
    check_next_write(*first, "3kaaaaaaa0002");
  }
  SECTION("in a batch with another account's write, which is stored") {
    const std::string carol = "did:plc:carolaaaaaaaaaaaaaaaaaaa";
    f.add_account(carol, "carol.test");
    REQUIRE(write(carol, "3kaaaaaaa0001").ok());
    const auto events_then = stored_events(f).size();
    std::optional<Result<repo::CommitResult>> failed, bobs, carols;
    {
      // Carol's write leads a batch that waits for the database; Alice's
      // and Bob's, prepared meanwhile (their accounts are loaded), queue
      // for the next batch together.
      std::unique_lock busy(f.context->db_mutex);
      std::thread c([&] { carols = write(carol, "3kaaaaaaa0002"); });
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      std::thread a([&] { failed = write(kAlice, "boom"); });
      std::thread b([&] { bobs = write(kBob, "3kaaaaaaa0002"); });
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      busy.unlock();
      c.join();
      a.join();
      b.join();
    }
    REQUIRE_FALSE(failed->ok());
    REQUIRE(bobs->ok());
    REQUIRE(carols->ok());
    CHECK(stored_events(f).size() == events_then + 2);
    check_next_write(*first, "3kaaaaaaa0002");
  }
  auto chains = commit_chains(f);
  CHECK(chains[kAlice].size() == 3);
  for (const auto& did : {kAlice, kBob}) {
    auto car = f.repos->export_car(did, std::nullopt);
    REQUIRE(car.ok());
    CHECK(repo::verify_repo_car(*car, did, f.accounts.public_key(did)).ok());
  }
}

TEST_CASE(
    "pds repos: a write prepared on a commit that an import replaced is prepared again on the "
    "new one, and one whose account went is RepoNotFound [pds.service.swap]",
    "[pds][repos]") {
  RepoFixture f;
  f.add_account(kAlice, "alice.test");
  auto write = [&](const std::string& rkey) {
    return f.repos->apply_writes(kAlice, {create("app.bsky.feed.post", rkey, post(rkey))},
                                 std::nullopt);
  };
  REQUIRE(write("3kaaaaaaa0001").ok());
  auto snapshot = f.repos->export_car(kAlice, std::nullopt);
  REQUIRE(snapshot.ok());
  REQUIRE(write("3kaaaaaaa0002").ok());
  std::optional<Result<repo::CommitResult>> raced;
  std::optional<Result<RepoRoot>> imported;
  {
    // The write is prepared on the commit holding 0001 and 0002 and waits
    // for the database; meanwhile an import puts back the snapshot.
    std::unique_lock busy(f.context->db_mutex);
    std::thread writer([&] { raced = write("3kaaaaaaa0003"); });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    imported = f.repos->import_car(kAlice, *snapshot);
    busy.unlock();
    writer.join();
  }
  REQUIRE(imported->ok());
  REQUIRE(raced->ok());
  CHECK((*raced)->since == (*imported)->rev);
  CHECK((*raced)->prev_data == (*imported)->data);
  auto car = f.repos->export_car(kAlice, std::nullopt);
  REQUIRE(car.ok());
  auto verified = repo::verify_repo_car(*car, kAlice, f.accounts.public_key(kAlice));
  REQUIRE(verified.ok());
  std::vector<std::string> keys;
  for (const auto& entry : verified->records) keys.push_back(entry.key);
  CHECK(keys == std::vector<std::string>{"app.bsky.feed.post/3kaaaaaaa0001",
                                         "app.bsky.feed.post/3kaaaaaaa0003"});
  CHECK_FALSE(f.repos->get_record(kAlice, "app.bsky.feed.post", "3kaaaaaaa0002")->has_value());
  {
    std::unique_lock busy(f.context->db_mutex);
    std::thread writer([&] { raced = write("3kaaaaaaa0004"); });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    {
      sqlite::Transaction tx(f.context->db);
      REQUIRE(f.repos->delete_repo_in_tx(kAlice).ok());
      REQUIRE(tx.commit().ok());
    }
    busy.unlock();
    writer.join();
  }
  REQUIRE_FALSE(raced->ok());
  CHECK(raced->error().code == "RepoNotFound");
  CHECK_FALSE(f.repos->root(kAlice)->has_value());
}

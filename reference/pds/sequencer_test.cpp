// The sequencer and the firehose fan-out, with fake connections: the
// cursor cases of https://atproto.com/specs/event-stream, numbering that
// survives pruning, and a stalled consumer that delays nobody else.
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "atproto/pds/repo_test_support.hpp"
#include "atproto/sync/events.hpp"

using namespace atproto;
using namespace atproto::pds;
using pds::testing::FakeConnection;
using pds::testing::RepoFixture;

namespace {

const std::string kAlice = "did:plc:aliceaaaaaaaaaaaaaaaaaaa";

void write_posts(RepoFixture& f, int count) {
  static int serial = 0;
  for (int i = 0; i < count; ++i) {
    RecordWrite w;
    char key[16];
    std::snprintf(key, sizeof key, "3kaaaaaa%05d", serial++);
    w.op = repo::WriteOp{repo::Action::kCreate, "app.bsky.feed.post", key,
                         data::Value(data::Map{{"$type", "app.bsky.feed.post"},
                                               {"text", std::string(key)},
                                               {"createdAt", "2026-12-06T09:00:00.000Z"}})};
    REQUIRE(f.repos->apply_writes(kAlice, {w}, std::nullopt).ok());
  }
}

// Waits (bounded) until the connection got `n` messages or closed.
bool wait_for(const FakeConnection& c, std::size_t n, int ms = 5000) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (c.count() >= n) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return c.count() >= n;
}

struct Received {
  std::vector<std::int64_t> seqs;
  std::vector<std::string> infos;
  std::vector<std::string> errors;
};

Received decode_all(const FakeConnection& c) {
  Received out;
  for (const auto& m : c.messages()) {
    auto message = sync::decode_message(m);
    REQUIRE(message.ok());
    if (auto* e = std::get_if<sync::Event>(&*message)) {
      if (auto* info = std::get_if<sync::InfoEvent>(e)) {
        out.infos.push_back(info->name);
      } else {
        out.seqs.push_back(sync::event_seq(*e));
      }
    } else if (auto* error = std::get_if<sync::ErrorFrame>(&*message)) {
      out.errors.push_back(error->error);
    }
  }
  return out;
}

// Runs `sql` on the fixture's database, as pruning or an older server did.
void run_sql(RepoFixture& f, const char* sql) {
  std::lock_guard lock(f.context->db_mutex);
  REQUIRE(f.context->db.exec(sql).ok());
}

std::vector<std::int64_t> range(std::int64_t from, std::int64_t to) {
  std::vector<std::int64_t> out;
  for (auto i = from; i <= to; ++i) out.push_back(i);
  return out;
}

}  // namespace

TEST_CASE("pds sequencer: without a cursor, live events only [sync.stream.cursor-none]",
          "[pds][sequencer]") {
  RepoFixture f;
  f.add_account(kAlice, "alice.test");
  write_posts(f, 3);
  auto c = std::make_shared<FakeConnection>();
  f.sequencer->subscribe(c, std::nullopt);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(c->count() == 0);
  write_posts(f, 2);
  REQUIRE(wait_for(*c, 2));
  CHECK(decode_all(*c).seqs == range(5, 6));
}

TEST_CASE(
    "pds sequencer: without a cursor, the live position is the one the request found, so "
    "events written while the upgrade completes are not skipped [sync.stream.cursor-none]",
    "[pds][sequencer]") {
  RepoFixture f;
  f.add_account(kAlice, "alice.test");
  write_posts(f, 3);
  // subscribeRepos takes the position before it answers 101; the client may
  // write before the connection reaches the sequencer.
  std::int64_t at_request = f.sequencer->last_seq();
  write_posts(f, 2);
  auto c = std::make_shared<FakeConnection>();
  f.sequencer->subscribe(c, std::nullopt, at_request);
  REQUIRE(wait_for(*c, 2));
  CHECK(decode_all(*c).seqs == range(at_request + 1, at_request + 2));
}

TEST_CASE(
    "pds sequencer: a cursor in the past replays everything after it, then live "
    "[sync.stream.cursor-backfill] [sync.stream.cursor-zero] [sync.stream.seq-positive]",
    "[pds][sequencer]") {
  RepoFixture f;
  f.add_account(kAlice, "alice.test");
  write_posts(f, 5);  // events 1..6
  auto c = std::make_shared<FakeConnection>();
  f.sequencer->subscribe(c, 2);
  REQUIRE(wait_for(*c, 4));
  write_posts(f, 2);
  REQUIRE(wait_for(*c, 6));
  auto got = decode_all(*c);
  CHECK(got.seqs == range(3, 8));
  CHECK(got.infos.empty());
  // Cursor 0 is the start of the stream.
  auto all = std::make_shared<FakeConnection>();
  f.sequencer->subscribe(all, 0);
  REQUIRE(wait_for(*all, 8));
  CHECK(decode_all(*all).seqs == range(1, 8));
}

TEST_CASE(
    "pds sequencer: a cursor in the future gets FutureCursor and the connection closes "
    "[sync.stream.cursor-future] [sync.stream.close-after-error]",
    "[pds][sequencer]") {
  RepoFixture f;
  f.add_account(kAlice, "alice.test");
  auto c = std::make_shared<FakeConnection>();
  f.sequencer->subscribe(c, 1000);
  REQUIRE(wait_for(*c, 1));
  auto got = decode_all(*c);
  CHECK(got.errors == std::vector<std::string>{"FutureCursor"});
  CHECK(got.seqs.empty());
  CHECK_FALSE(c->is_open());
}

TEST_CASE(
    "pds sequencer: a cursor older than the kept events gets OutdatedCursor, then the rest "
    "[sync.stream.cursor-outdated] [sync.stream.cursor-zero]",
    "[pds][sequencer]") {
  RepoFixture f;
  f.add_account(kAlice, "alice.test");
  write_posts(f, 5);  // events 1..6
  // What pruning past the retention window does.
  run_sql(f, "DELETE FROM repo_seq WHERE seq <= 3");
  auto c = std::make_shared<FakeConnection>();
  f.sequencer->subscribe(c, 1);
  REQUIRE(wait_for(*c, 4));
  auto got = decode_all(*c);
  CHECK(got.infos == std::vector<std::string>{"OutdatedCursor"});
  CHECK(got.seqs == range(4, 6));
  // The info comes first.
  auto first = sync::decode_message(c->messages().front());
  REQUIRE(first.ok());
  CHECK(std::holds_alternative<sync::InfoEvent>(std::get<sync::Event>(*first)));
  // A cursor just before the oldest kept event is not outdated.
  auto d = std::make_shared<FakeConnection>();
  f.sequencer->subscribe(d, 3);
  REQUIRE(wait_for(*d, 3));
  CHECK(decode_all(*d).infos.empty());
  // Cursor 0 asks for the whole window: no #info, from the oldest kept.
  auto z = std::make_shared<FakeConnection>();
  f.sequencer->subscribe(z, 0);
  REQUIRE(wait_for(*z, 3));
  auto zero = decode_all(*z);
  CHECK(zero.infos.empty());
  CHECK(zero.seqs == range(4, 6));
}

namespace {

std::vector<std::int64_t> stored_seqs(RepoFixture& f) {
  std::lock_guard lock(f.context->db_mutex);
  auto q = f.context->db.prepare("SELECT seq FROM repo_seq ORDER BY seq");
  std::vector<std::int64_t> out;
  while (q.step() == SQLITE_ROW) out.push_back(q.integer(0));
  return out;
}

// A new sequencer over the same database, as after a restart.
void restart_sequencer(RepoFixture& f) {
  f.sequencer->stop();
  f.sequencer = std::make_unique<Sequencer>(*f.context);
  f.context->sequencer = f.sequencer.get();
  REQUIRE(f.sequencer->init_schema().ok());
}

std::int64_t epoch_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace

TEST_CASE(
    "pds sequencer: pruning keeps the newest event, so numbers are never reused, also after a "
    "restart [sync.stream.persist-before-send] [pds.robust.durable-sequence]",
    "[pds][sequencer]") {
  RepoFixture f;
  f.add_account(kAlice, "alice.test");
  write_posts(f, 2);
  CHECK(f.sequencer->last_seq() == 3);
  // Everything is older than a cutoff in the future: all but the newest go.
  f.sequencer->prune(epoch_ms() + 3'600'000);
  CHECK(stored_seqs(f) == std::vector<std::int64_t>{3});
  write_posts(f, 1);
  CHECK(f.sequencer->last_seq() == 4);
  CHECK(stored_seqs(f) == range(3, 4));
  // A cursor older than everything kept, with everything pruned but one.
  auto c = std::make_shared<FakeConnection>();
  f.sequencer->subscribe(c, 1);
  REQUIRE(wait_for(*c, 3));
  auto got = decode_all(*c);
  CHECK(got.infos == std::vector<std::string>{"OutdatedCursor"});
  CHECK(got.seqs == range(3, 4));
  // A restarted sequencer over the same database continues the count.
  f.sequencer->prune(epoch_ms() + 3'600'000);
  restart_sequencer(f);
  CHECK(f.sequencer->last_seq() == 4);
  write_posts(f, 1);
  CHECK(stored_seqs(f) == range(4, 5));
}

TEST_CASE("pds sequencer: pruning deletes exactly the events older than the cutoff",
          "[pds][sequencer]") {
  RepoFixture f;
  f.add_account(kAlice, "alice.test");
  write_posts(f, 9);  // events 1..10
  // Events 1..6 an hour old, 7..10 now.
  run_sql(f, "UPDATE repo_seq SET time = time - 3600000 WHERE seq <= 6");
  f.sequencer->prune(epoch_ms() - 1'800'000);
  CHECK(stored_seqs(f) == range(7, 10));
  // Nothing older left: nothing more goes.
  f.sequencer->prune(epoch_ms() - 1'800'000);
  CHECK(stored_seqs(f) == range(7, 10));
  write_posts(f, 1);
  CHECK(stored_seqs(f) == range(7, 11));
}

TEST_CASE(
    "pds sequencer: a database made with AUTOINCREMENT continues from its count, also when "
    "every event was pruned [pds.robust.durable-sequence]",
    "[pds][sequencer]") {
  RepoFixture f;
  // The table as it was made before, with its events all pruned past 7.
  run_sql(f,
          "DROP TABLE repo_seq;"
          "CREATE TABLE repo_seq (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
          " did TEXT NOT NULL, type TEXT NOT NULL, time INTEGER NOT NULL,"
          " frame BLOB NOT NULL);"
          "CREATE INDEX repo_seq_time ON repo_seq(time);"
          "INSERT INTO repo_seq (seq, did, type, time, frame)"
          " VALUES (7, 'did:plc:x', '#commit', 0, x'00');"
          "DELETE FROM repo_seq;");
  restart_sequencer(f);
  CHECK(f.sequencer->last_seq() == 7);
  f.add_account(kAlice, "alice.test");
  write_posts(f, 1);
  CHECK(stored_seqs(f) == range(8, 9));
  {
    // The time index is gone: nothing to write per event.
    std::lock_guard lock(f.context->db_mutex);
    auto q =
        f.context->db.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'repo_seq_time'");
    REQUIRE(q.step() == SQLITE_ROW);
    CHECK(q.integer(0) == 0);
  }
}

TEST_CASE("pds sequencer: a stalled consumer does not delay another, and catches up in order",
          "[pds][sequencer]") {
  RepoFixture f;
  f.add_account(kAlice, "alice.test");
  auto slow = std::make_shared<FakeConnection>();
  auto fast = std::make_shared<FakeConnection>();
  slow->stalled = true;  // reads nothing: its queue reports full
  f.sequencer->subscribe(slow, 0);
  f.sequencer->subscribe(fast, 0);
  write_posts(f, 30);
  REQUIRE(wait_for(*fast, 31));
  CHECK(decode_all(*fast).seqs == range(1, 31));
  // Once it drains, the slow one gets every event, in order, from the log.
  slow->stalled = false;
  REQUIRE(wait_for(*slow, 31));
  CHECK(decode_all(*slow).seqs == range(1, 31));
  CHECK(slow->is_open());
}

TEST_CASE(
    "pds sequencer: seqs stop at 2^53 - 1; the write that would pass it fails "
    "[sync.stream.seq-safe-range]",
    "[pds][sequencer]") {
  RepoFixture f;
  f.add_account(kAlice, "alice.test");
  {
    // As if the server had numbered events up to just below the limit.
    std::lock_guard lock(f.context->db_mutex);
    auto set = f.context->db.prepare(
        "UPDATE repo_seq SET seq = ? WHERE seq = (SELECT max(seq) FROM repo_seq)");
    set.bind(1, sync::kMaxEmittedSeq - 1);
    REQUIRE(set.run().ok());
    REQUIRE(f.context->db.changes() == 1);
  }
  write_posts(f, 1);
  CHECK(f.sequencer->last_seq() == sync::kMaxEmittedSeq);
  auto before = f.repos->root(kAlice);
  RecordWrite w;
  w.op = repo::WriteOp{repo::Action::kCreate, "app.bsky.feed.post", "3kaaaaaazzzzz",
                       data::Value(data::Map{{"$type", "app.bsky.feed.post"},
                                             {"text", "one too many"},
                                             {"createdAt", "2026-12-06T09:00:00.000Z"}})};
  auto refused = f.repos->apply_writes(kAlice, {w}, std::nullopt);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == "sync.stream.seq-safe-range");
  // Nothing of the write stayed: the repository and the stream are as before.
  CHECK((*f.repos->root(kAlice))->rev == (*before)->rev);
  CHECK(f.sequencer->last_seq() == sync::kMaxEmittedSeq);
}

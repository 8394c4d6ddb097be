// The output event log's segment files: reading back by seq across
// segments and gaps, commit and rollback, what opening does with the end
// a crash leaves (a torn or damaged last record), pruning by segment, and
// the store's agreement between the log and its database.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "atproto/common/sqlite.hpp"
#include "atproto/common/testing.hpp"
#include "atproto/relay/event_log.hpp"

namespace {

using namespace atproto;
using namespace atproto::relay;

struct TempDir : atproto::testing::TempDir {
  TempDir() : atproto::testing::TempDir("relay-log-") {}
  std::string events() const { return (path / "events").string(); }
};

// A frame whose bytes depend on its seq (and vary in length).
Bytes frame_of(std::int64_t seq) {
  Bytes out(static_cast<std::size_t>(10 + seq % 7), static_cast<std::uint8_t>(seq));
  out[0] = static_cast<std::uint8_t>(seq >> 8);
  return out;
}

std::unique_ptr<EventLog> open_log(const TempDir& dir, EventLogOptions options = {}) {
  options.sync = false;
  auto log = EventLog::open(dir.events(), options);
  REQUIRE(log.ok());
  return std::move(log).value();
}

// Writes and commits seqs [from, to] with time_ms = 1000 * seq.
void append(EventLog& log, std::int64_t from, std::int64_t to) {
  std::vector<Bytes> frames;
  for (std::int64_t s = from; s <= to; ++s) frames.push_back(frame_of(s));
  std::vector<EventLog::Record> records;
  for (std::int64_t s = from; s <= to; ++s) {
    records.push_back({s, 1000 * s, frames[static_cast<std::size_t>(s - from)]});
  }
  REQUIRE(log.write(records).ok());
  log.commit();
}

std::vector<std::int64_t> seqs_after(EventLog& log, std::int64_t after, int limit) {
  auto events = log.read_after(after, limit);
  REQUIRE(events.ok());
  std::vector<std::int64_t> out;
  for (const auto& e : events.value()) {
    CHECK(e.frame == frame_of(e.seq));
    CHECK(e.time_ms == 1000 * e.seq);
    out.push_back(e.seq);
  }
  return out;
}

std::vector<std::filesystem::path> segment_files(const TempDir& dir) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(dir.events())) {
    if (e.path().extension() == ".events") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// A log of events 1..last, all in one segment: that segment's data file.
std::filesystem::path one_segment_of(const TempDir& dir, std::int64_t last) {
  {
    auto log = open_log(dir);
    append(*log, 1, last);
  }
  auto files = segment_files(dir);
  REQUIRE(files.size() == 1);
  return files[0];
}

}  // namespace

TEST_CASE("event log: events read back by seq across segments and after a gap",
          "[relay][relay.output.seq][relay.output.cursor]") {
  TempDir dir;
  EventLogOptions small;
  small.segment_bytes = 100;  // a few events per segment
  {
    auto log = open_log(dir, small);
    CHECK(log->last_seq() == 0);
    CHECK(log->first_seq() == 0);
    for (std::int64_t s = 1; s <= 20; s += 2) append(*log, s, s + 1);
    append(*log, 31, 33);  // seqs 21..30 were never used: a new segment
    CHECK(log->last_seq() == 33);
    CHECK(log->first_seq() == 1);
    CHECK(segment_files(dir).size() > 3);
    auto all = seqs_after(*log, 0, 1000);
    REQUIRE(all.size() == 23);
    CHECK(all.front() == 1);
    CHECK(all[19] == 20);
    CHECK(all[20] == 31);
    // Pages of a few events, from any seq, across segment ends.
    CHECK(seqs_after(*log, 4, 3) == std::vector<std::int64_t>{5, 6, 7});
    CHECK(seqs_after(*log, 18, 5) == std::vector<std::int64_t>{19, 20, 31, 32, 33});
    CHECK(seqs_after(*log, 25, 5) == std::vector<std::int64_t>{31, 32, 33});
    CHECK(seqs_after(*log, 33, 5).empty());
  }
  auto log = open_log(dir, small);  // reopened: the same
  CHECK(log->last_seq() == 33);
  CHECK(seqs_after(*log, 9, 2) == std::vector<std::int64_t>{10, 11});
  append(*log, 34, 34);
  CHECK(seqs_after(*log, 32, 10) == std::vector<std::int64_t>{33, 34});
}

TEST_CASE("event log: written events are seen only once committed; rollback takes them back",
          "[relay][relay.output.seq]") {
  TempDir dir;
  {
    auto log = open_log(dir);
    append(*log, 1, 3);
    Bytes f4 = frame_of(4);
    REQUIRE(log->write({{4, 4000, f4}}).ok());
    CHECK(log->last_seq() == 3);
    CHECK(seqs_after(*log, 0, 10).size() == 3);
    log->rollback();
    CHECK(log->last_seq() == 3);
    append(*log, 4, 5);
    CHECK(seqs_after(*log, 3, 10) == std::vector<std::int64_t>{4, 5});
    // Seqs must continue the log: a write that does not is refused.
    Bytes f9 = frame_of(9);
    CHECK_FALSE(log->write({{9, 9000, f9}, {11, 11000, f9}}).ok());
  }
  auto log = open_log(dir);
  CHECK(seqs_after(*log, 0, 10) == std::vector<std::int64_t>{1, 2, 3, 4, 5});
}

TEST_CASE("event log: opening cuts a torn or damaged end and appends after it",
          "[relay][relay.output.seq]") {
  TempDir dir;
  const auto segment = one_segment_of(dir, 6);
  const auto whole = std::filesystem::file_size(segment);
  std::int64_t expected = 0;
  SECTION("a record cut short") {
    std::filesystem::resize_file(segment, whole - 3);
    expected = 5;
  }
  SECTION("a record whose bytes changed") {
    std::fstream f(segment, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(whole - 2));
    f.put('\x7f');
    expected = 5;
  }
  SECTION("garbage after the last record") {
    std::ofstream f(segment, std::ios::app | std::ios::binary);
    f << std::string(40, '\x01');
    expected = 6;
  }
  auto log = open_log(dir);
  const std::int64_t last = log->last_seq();
  CHECK(last == expected);
  auto seqs = seqs_after(*log, 0, 10);
  CHECK(static_cast<std::int64_t>(seqs.size()) == last);
  append(*log, last + 1, last + 2);
  CHECK(seqs_after(*log, last - 1, 10) == std::vector<std::int64_t>{last, last + 1, last + 2});
}

TEST_CASE("event log: pruning drops whole old segments, never the newest",
          "[relay][relay.output.retention]") {
  TempDir dir;
  EventLogOptions small;
  small.segment_bytes = 1;  // one write per segment
  auto log = open_log(dir, small);
  append(*log, 1, 2);              // times 1000, 2000
  append(*log, 3, 4);              // 3000, 4000
  append(*log, 5, 6);              // 5000, 6000
  REQUIRE(log->prune(3500).ok());  // segment 1-2 is older; 3-4 holds a newer event
  CHECK(log->first_seq() == 3);
  CHECK(seqs_after(*log, 0, 10) == std::vector<std::int64_t>{3, 4, 5, 6});
  REQUIRE(log->prune(100000).ok());
  CHECK(log->first_seq() == 5);  // the newest segment stays
  CHECK(log->last_seq() == 6);
  CHECK(segment_files(dir).size() == 1);
  append(*log, 7, 7);
  CHECK(seqs_after(*log, 0, 10) == std::vector<std::int64_t>{5, 6, 7});
}

TEST_CASE("event log: a segment is closed once its first event is older than segment_ms",
          "[relay][relay.output.retention]") {
  TempDir dir;
  EventLogOptions hourly;
  hourly.segment_ms = 2500;
  auto log = open_log(dir, hourly);
  append(*log, 1, 1);  // time 1000
  append(*log, 2, 2);  // 2000: same segment
  append(*log, 4, 4);  // a gap: new segment
  append(*log, 5, 5);
  CHECK(segment_files(dir).size() == 2);
  append(*log, 7, 7);  // gap again
  append(*log, 8, 8);  // 8000 - 7000 < 2500: same segment
  append(*log, 9, 9);
  append(*log, 10, 10);  // 10000 - 7000 >= 2500: a new one
  CHECK(segment_files(dir).size() == 4);
}

TEST_CASE("relay store: log events whose transaction never committed are cut, their seqs skipped",
          "[relay][relay.output.seq]") {
  TempDir dir;
  const std::string db = (dir.path / "relay.sqlite").string();
  {
    auto store = open_sqlite_account_store(db).value();
    for (int i = 0; i < 3; ++i) {
      REQUIRE(store->append_event(nullptr, "", 0, 1000 * (i + 1), frame_of).ok());
    }
  }
  {
    // What a crash between the log's write and the transaction leaves:
    // events 4 and 5 in the log, the database at 3.
    auto log = open_log(dir);
    append(*log, 4, 5);
  }
  auto store = open_sqlite_account_store(db).value();
  auto events = store->events_after(0, 10);
  REQUIRE(events.ok());
  CHECK(events.value().size() == 3);
  CHECK(store->last_seq().value() == 5);  // used, if never committed
  auto seq = store->append_event(nullptr, "", 0, 6000, frame_of);
  REQUIRE(seq.ok());
  CHECK(seq.value() == 6);
  events = store->events_after(3, 10);
  REQUIRE(events.value().size() == 1);
  CHECK(events.value()[0].seq == 6);
  CHECK(events.value()[0].frame == frame_of(6));
}

TEST_CASE("relay store: an older database's event table moves into the log",
          "[relay][relay.output.seq]") {
  TempDir dir;
  const std::string db = (dir.path / "relay.sqlite").string();
  {
    auto old = sqlite::Database::open(db).value();
    REQUIRE(old.exec("CREATE TABLE event (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
                     "time_ms INTEGER NOT NULL, frame BLOB NOT NULL)")
                .ok());
    for (std::int64_t s = 1; s <= 7; ++s) {
      auto insert = old.prepare("INSERT INTO event (seq, time_ms, frame) VALUES (?, ?, ?)");
      insert.bind(1, s).bind(2, 1000 * s).bind_blob(3, frame_of(s));
      REQUIRE(insert.run().ok());
    }
    REQUIRE(
        old.exec("DELETE FROM event WHERE seq <= 2 OR seq = 7").ok());  // pruned; 7 the last used
  }
  {
    auto store = open_sqlite_account_store(db).value();
    auto events = store->events_after(0, 10);
    REQUIRE(events.ok());
    REQUIRE(events.value().size() == 4);
    CHECK(events.value()[0].seq == 3);
    CHECK(events.value()[3].seq == 6);
    CHECK(events.value()[3].frame == frame_of(6));
    CHECK(store->last_seq().value() == 7);
    CHECK(store->append_event(nullptr, "", 0, 8000, frame_of).value() == 8);
  }
  // The relay holds the database's lock while open; closed, it can be read.
  auto check = sqlite::Database::open(db).value();
  auto table = check.prepare("SELECT 1 FROM sqlite_master WHERE name = 'event'");
  CHECK(table.step() == SQLITE_DONE);
}

TEST_CASE("event log: a second writer on the same folder is refused", "[relay][relay.output.seq]") {
  TempDir dir;
  auto log = open_log(dir);
  auto second = EventLog::open(dir.events());
  REQUIRE_FALSE(second.ok());
  CHECK(second.error().message.find("in use") != std::string::npos);
  log.reset();
  CHECK(EventLog::open(dir.events()).ok());  // free again once closed
}

TEST_CASE("event log: a segment cut at any byte opens to its whole records, and appends go on",
          "[relay][relay.output.seq]") {
  TempDir dir;
  const auto segment = one_segment_of(dir, 5);
  std::ifstream in(segment, std::ios::binary);
  const std::string whole((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Where each record ends: 8 bytes of magic, then 24 of header and the frame.
  std::vector<std::size_t> ends;
  std::size_t at = 8;
  for (std::int64_t s = 1; s <= 5; ++s) ends.push_back(at += 24 + frame_of(s).size());
  REQUIRE(ends.back() == whole.size());
  for (std::size_t cut = 0; cut <= whole.size(); ++cut) {
    INFO("cut at byte " << cut);
    {
      std::ofstream out(segment, std::ios::binary | std::ios::trunc);
      out.write(whole.data(), static_cast<std::streamsize>(cut));
    }
    std::filesystem::remove(dir.events() + "/" + segment.stem().string() + ".index");
    const auto kept =
        static_cast<std::int64_t>(std::upper_bound(ends.begin(), ends.end(), cut) - ends.begin());
    auto log = open_log(dir);
    REQUIRE(log->last_seq() == kept);
    std::vector<std::int64_t> expected;
    for (std::int64_t s = 1; s <= kept; ++s) expected.push_back(s);
    CHECK(seqs_after(*log, 0, 10) == expected);
    append(*log, kept + 1, kept + 1);
    CHECK(seqs_after(*log, kept, 10) == std::vector<std::int64_t>{kept + 1});
  }
}

TEST_CASE("event log: a segment whose first write was rolled back takes the next write",
          "[relay][relay.output.seq][relay.output.retention]") {
  TempDir dir;
  EventLogOptions small;
  small.segment_bytes = 1;  // a new segment for every write into a non-empty one
  auto log = open_log(dir, small);
  append(*log, 1, 2);
  Bytes f3 = frame_of(3);
  REQUIRE(log->write({{3, 3000, f3}}).ok());  // into a new segment 3
  log->rollback();
  append(*log, 3, 3);  // into that same segment, not a second one named 3
  append(*log, 4, 4);
  CHECK(segment_files(dir).size() == 3);
  REQUIRE(log->prune(2500).ok());  // drops 1-2 only: segment 3 holds a newer event
  CHECK(seqs_after(*log, 0, 10) == std::vector<std::int64_t>{3, 4});
  auto reopened = (log.reset(), open_log(dir, small));
  CHECK(seqs_after(*reopened, 0, 10) == std::vector<std::int64_t>{3, 4});
  CHECK(reopened->last_seq() == 4);
}

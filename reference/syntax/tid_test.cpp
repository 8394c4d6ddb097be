// Unit tests for TIDs: syntax error codes, the integer layout, and the
// generator's monotonicity and thread-safety.
// Spec: https://atproto.com/specs/tid
#include "atproto/syntax/tid.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "atproto/syntax/test_support.hpp"

using namespace std::string_view_literals;
using namespace atproto::syntax::testing;
using atproto::syntax::decode_tid;
using atproto::syntax::encode_tid;
using atproto::syntax::kTidMaxClockId;
using atproto::syntax::kTidMaxTimestamp;
using atproto::syntax::tid_from_integer;
using atproto::syntax::tid_to_integer;
using atproto::syntax::TidGenerator;
using atproto::syntax::TidParts;
using atproto::syntax::validate_tid;

namespace {

constexpr std::uint64_t kTopBit = std::uint64_t{1} << 63;

std::uint64_t now_us() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

// next_at() that must succeed.
std::string issue_at(TidGenerator& generator, std::uint64_t now) {
  auto tid = generator.next_at(now);
  REQUIRE(tid.ok());
  return *tid;
}

}  // namespace

// [tid.syntax.length] [tid.syntax.charset] [tid.syntax.first-char]
TEST_CASE("tid: spec examples of valid syntax", "[tid]") {
  for (std::string_view input :
       {"3jzfcijpj2z2a"sv, "7777777777777"sv, "3zzzzzzzzzzzz"sv, "2222222222222"sv,
        "bzzzzzzzzzzzz"sv, "jzzzzzzzzzzzz"sv, "a234567abcdef"sv}) {
    CAPTURE(input);
    CHECK(code_of(validate_tid(input)) == "<ok>");
  }
  CHECK(atproto::syntax::kTidLength == 13);
}

// [tid.syntax.charset]
TEST_CASE("tid: base32-sortable characters only", "[tid]") {
  for (std::string_view input :
       {"3jzfcijpj2z21"sv, "3jzfcijpj2z20"sv, "3jzfcijpj2z28"sv, "3jzfcijpj2z29"sv,
        "3JZFCIJPJ2Z2A"sv, "3jzfcijpj2z2A"sv, "3jzf-cijpj2z2"sv, "3jzfcijpj2z2="sv,
        "3jzfcijpj2z2 "sv, "3jzfcijpj2z2\0"sv}) {
    CAPTURE(input);
    CHECK(code_of(validate_tid(input)) == "tid.syntax.charset");
  }
  CHECK_THAT(code_of(validate_tid("0000000000000")),
             Equals("tid.syntax.charset") || Equals("tid.syntax.first-char"));
}

// [tid.syntax.length]
TEST_CASE("tid: exactly 13 characters, no legacy dashes", "[tid]") {
  for (std::string_view input : {"3jzfcijpj2z2aa"sv, "3jzfcijpj2z2"sv, "222"sv, ""sv,
                                 "3jzf-cij-pj2z-2a"sv, "22222222222222222222222222"sv}) {
    CAPTURE(input);
    CHECK(code_of(validate_tid(input)) == "tid.syntax.length");
  }
}

// [tid.syntax.first-char]
TEST_CASE("tid: the first character is one of 234567abcdefghij", "[tid]") {
  for (std::string_view input :
       {"zzzzzzzzzzzzz"sv, "kjzfcijpj2z2a"sv, "k222222222222"sv, "s222222222222"sv}) {
    CAPTURE(input);
    CHECK(code_of(validate_tid(input)) == "tid.syntax.first-char");
  }
}

// [tid.structure.encoding]
TEST_CASE("tid: integer encoding", "[tid]") {
  CHECK(tid_to_integer("2222222222222").value() == 0);
  CHECK(tid_to_integer("2222222222223").value() == 1);
  CHECK(tid_to_integer("222222222222z").value() == 31);
  CHECK(tid_to_integer("2222222222232").value() == 32);
  CHECK(tid_to_integer("3zzzzzzzzzzzz").value() == 0x1fffffffffffffffULL);
  CHECK(tid_to_integer("7777777777777").value() == 0x5294a5294a5294a5ULL);
  CHECK(tid_to_integer("3jzfcijpj2z2a").value() == 0x17fd6873eaf07c06ULL);
  CHECK(tid_to_integer("bzzzzzzzzzzzz").value() == kTopBit - 1);

  CHECK(tid_from_integer(0).value() == "2222222222222");
  CHECK(tid_from_integer(1).value() == "2222222222223");
  CHECK(tid_from_integer(32).value() == "2222222222232");
  CHECK(tid_from_integer(0x17fd6873eaf07c06ULL).value() == "3jzfcijpj2z2a");
  CHECK(tid_from_integer(kTopBit - 1).value() == "bzzzzzzzzzzzz");

  CHECK(code_of(tid_to_integer("3jzfcijpj2z21")) == "tid.syntax.charset");
  CHECK(code_of(tid_to_integer("222")) == "tid.syntax.length");
}

// [tid.structure.encoding]
TEST_CASE("tid: string order follows integer order", "[tid]") {
  std::vector<std::uint64_t> values = {0,
                                       1,
                                       31,
                                       32,
                                       33,
                                       1023,
                                       1024,
                                       0x17fd6873eaf07c06ULL,
                                       0x1fffffffffffffffULL,
                                       0x2000000000000000ULL,
                                       kTopBit - 2,
                                       kTopBit - 1};
  for (std::size_t i = 1; i < values.size(); ++i) {
    const std::uint64_t lower = values[i - 1];
    const std::uint64_t upper = values[i];
    CAPTURE(lower, upper);
    CHECK(tid_from_integer(lower).value() < tid_from_integer(upper).value());
  }
  for (std::uint64_t v : values) {
    CAPTURE(v);
    auto text = tid_from_integer(v);
    REQUIRE(text.ok());
    CHECK(text->size() == 13);
    CHECK(validate_tid(*text).ok());
    CHECK(tid_to_integer(*text).value() == v);
  }
}

// [tid.structure.layout]
TEST_CASE("tid: the top bit is always zero", "[tid]") {
  CHECK(code_of(tid_from_integer(kTopBit)) == "tid.structure.layout");
  CHECK(code_of(tid_from_integer(kTopBit + 1)) == "tid.structure.layout");
  CHECK(code_of(tid_from_integer(~std::uint64_t{0})) == "tid.structure.layout");
  // First characters c..j pass the reference regex but would set bit 63.
  for (std::string_view input :
       {"c222222222222"sv, "czzzzzzzzzzzz"sv, "jzzzzzzzzzzzz"sv, "d3jzfcijpj2z2"sv}) {
    CAPTURE(input);
    CHECK(validate_tid(input).ok());
    CHECK(code_of(tid_to_integer(input)) == "tid.structure.layout");
    CHECK(code_of(decode_tid(input)) == "tid.structure.layout");
  }
}

// [tid.structure.layout]
TEST_CASE("tid: timestamp and clock id fields", "[tid]") {
  CHECK(kTidMaxTimestamp == (std::uint64_t{1} << 53) - 1);
  CHECK(kTidMaxClockId == 1023);

  CHECK(encode_tid(TidParts{0, 0}).value() == "2222222222222");
  CHECK(encode_tid(TidParts{0, 1}).value() == "2222222222223");
  CHECK(encode_tid(TidParts{1, 0}).value() == "2222222222322");  // 1 << 10
  CHECK(encode_tid(TidParts{kTidMaxTimestamp, kTidMaxClockId}).value() == "bzzzzzzzzzzzz");
  CHECK(encode_tid(TidParts{1688137381887007, 6}).value() == "3jzfcijpj2z2a");

  auto decoded = decode_tid("3jzfcijpj2z2a");
  REQUIRE(decoded.ok());
  CHECK(decoded->timestamp_us == 1688137381887007);
  CHECK(decoded->clock_id == 6);
  CHECK(*decode_tid("2222222222222") == TidParts{0, 0});
  CHECK(*decode_tid("bzzzzzzzzzzzz") == TidParts{kTidMaxTimestamp, kTidMaxClockId});
  CHECK(*decode_tid("7777777777777") == TidParts{5811096293381285, 165});

  CHECK(code_of(encode_tid(TidParts{kTidMaxTimestamp + 1, 0})) == "tid.structure.layout");
  CHECK(code_of(encode_tid(TidParts{~std::uint64_t{0}, 0})) == "tid.structure.layout");
  CHECK(code_of(encode_tid(TidParts{0, kTidMaxClockId + 1})) == "tid.structure.layout");
  CHECK(code_of(encode_tid(TidParts{0, 0xffffffffu})) == "tid.structure.layout");

  CHECK(code_of(decode_tid("3jzfcijpj2z21")) == "tid.syntax.charset");
  CHECK(code_of(decode_tid("kjzfcijpj2z2a")) == "tid.syntax.first-char");
  CHECK(code_of(decode_tid("")) == "tid.syntax.length");
}

// [tid.structure.layout] [tid.structure.encoding]
TEST_CASE("tid: encode/decode round trip", "[tid]") {
  const std::vector<std::uint64_t> timestamps = {
      0, 1, 999, 1000, 1688137381887007, 1700000000000000, kTidMaxTimestamp - 1, kTidMaxTimestamp};
  const std::vector<std::uint32_t> clocks = {0, 1, 6, 512, kTidMaxClockId};
  for (std::uint64_t ts : timestamps) {
    for (std::uint32_t clock : clocks) {
      CAPTURE(ts, clock);
      auto text = encode_tid(TidParts{ts, clock});
      REQUIRE(text.ok());
      CHECK(validate_tid(*text).ok());
      CHECK(*decode_tid(*text) == TidParts{ts, clock});
      CHECK(tid_to_integer(*text).value() == ((ts << 10) | clock));
    }
  }
}

// [tid.generator.monotonic]
TEST_CASE("tid: next() strictly increases", "[tid][generator]") {
  TidGenerator generator;
  std::string previous = generator.next();
  REQUIRE(validate_tid(previous).ok());
  for (int i = 0; i < 100000; ++i) {
    std::string current = generator.next();
    if (!(previous < current)) {
      CAPTURE(i, previous, current);
      FAIL("TID did not increase");
    }
    previous = std::move(current);
  }
  CHECK(validate_tid(previous).ok());
}

// [tid.generator.monotonic]
TEST_CASE("tid: next_at with a stalled or backwards clock", "[tid][generator]") {
  TidGenerator generator(7);
  const std::uint64_t t0 = 1700000000000000;
  std::string first = issue_at(generator, t0);
  CHECK(*decode_tid(first) == TidParts{t0, 7});

  std::vector<std::string> issued = {first};
  for (int i = 0; i < 1000; ++i) issued.push_back(issue_at(generator, t0));  // stalled
  for (std::uint64_t t = t0; t > t0 - 5000; t -= 10) {
    issued.push_back(issue_at(generator, t));  // stepping back
  }
  issued.push_back(issue_at(generator, 0));  // far in the past
  issued.push_back(issue_at(generator, t0 + 10));
  issued.push_back(issue_at(generator, t0 + 5000000));  // jump ahead
  issued.push_back(issue_at(generator, t0 + 5000000));
  for (std::size_t i = 1; i < issued.size(); ++i) {
    if (!(issued[i - 1] < issued[i])) {
      CAPTURE(i, issued[i - 1], issued[i]);
      FAIL("TID did not increase");
    }
  }
  for (const std::string& tid : issued) {
    auto parts = decode_tid(tid);
    REQUIRE(parts.ok());
    CHECK(parts->clock_id == 7);
    CHECK(parts->timestamp_us >= t0);
  }
  // After a jump ahead the clock reading is used again.
  CHECK(decode_tid(issued[issued.size() - 2])->timestamp_us == t0 + 5000000);
}

// [tid.generator.monotonic] [tid.structure.layout]
TEST_CASE("tid: next_at clamps to the 53-bit range and then refuses", "[tid][generator]") {
  TidGenerator generator(3);
  const std::string last = issue_at(generator, ~std::uint64_t{0});
  CHECK(*decode_tid(last) == TidParts{kTidMaxTimestamp, 3});
  CHECK(code_of(generator.next_at(kTidMaxTimestamp)) == "tid.generator.monotonic");
  CHECK(code_of(generator.next_at(0)) == "tid.generator.monotonic");

  TidGenerator near_end(4);
  CHECK(decode_tid(issue_at(near_end, kTidMaxTimestamp - 1))->timestamp_us == kTidMaxTimestamp - 1);
  CHECK(decode_tid(issue_at(near_end, kTidMaxTimestamp - 1))->timestamp_us == kTidMaxTimestamp);
  CHECK(code_of(near_end.next_at(kTidMaxTimestamp - 1)) == "tid.generator.monotonic");
}

// [tid.generator.clock-id]
TEST_CASE("tid: clock ids", "[tid][generator]") {
  TidGenerator a(1);
  TidGenerator b(2);
  CHECK(a.clock_id() == 1);
  CHECK(b.clock_id() == 2);
  const std::uint64_t t = 1700000000000000;
  const std::string from_a = issue_at(a, t);
  const std::string from_b = issue_at(b, t);
  CHECK(from_a != from_b);
  CHECK(decode_tid(from_a)->clock_id == 1);
  CHECK(decode_tid(from_b)->clock_id == 2);
  CHECK(decode_tid(from_a)->timestamp_us == t);
  CHECK(decode_tid(from_b)->timestamp_us == t);

  TidGenerator max_clock(kTidMaxClockId);
  CHECK(decode_tid(max_clock.next())->clock_id == kTidMaxClockId);
  TidGenerator zero_clock(0);
  CHECK(decode_tid(zero_clock.next())->clock_id == 0);

  // Random clock ids are in range and preserved in every output.
  std::set<std::uint32_t> seen;
  for (int i = 0; i < 32; ++i) {
    TidGenerator random;
    CHECK(random.clock_id() <= kTidMaxClockId);
    seen.insert(random.clock_id());
    CHECK(decode_tid(random.next())->clock_id == random.clock_id());
  }
  // 32 draws from 1024 values: all equal would mean the id is not random.
  CHECK(seen.size() > 1);
}

// [tid.generator.millisecond-padding]
TEST_CASE("tid: timestamps are microseconds since the epoch", "[tid][generator]") {
  TidGenerator generator;
  const std::uint64_t before = now_us();
  auto parts = decode_tid(generator.next());
  const std::uint64_t after = now_us();
  REQUIRE(parts.ok());
  CAPTURE(before, parts->timestamp_us, after);
  // Within a minute of the system clock, read in microseconds (a
  // milliseconds value would be 1000 times smaller).
  CHECK(parts->timestamp_us + 60000000 >= before);
  CHECK(parts->timestamp_us <= after + 60000000);
}

// [tid.generator.monotonic]
TEST_CASE("tid: one generator shared by several threads", "[tid][generator]") {
  TidGenerator generator(42);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 20000;
  std::vector<std::vector<std::string>> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&generator, &out = results[static_cast<std::size_t>(t)]] {
      out.reserve(kPerThread);
      for (int i = 0; i < kPerThread; ++i) out.push_back(generator.next());
    });
  }
  for (auto& thread : threads) thread.join();

  std::set<std::string> all;
  for (const auto& out : results) {
    // Each thread sees its own sequence increasing.
    CHECK(std::is_sorted(out.begin(), out.end()));
    CHECK(std::adjacent_find(out.begin(), out.end()) == out.end());
    all.insert(out.begin(), out.end());
  }
  CHECK(all.size() == static_cast<std::size_t>(kThreads * kPerThread));
  for (const auto& out : results) {
    for (const std::string& tid : out) {
      if (decode_tid(tid)->clock_id != 42) FAIL("clock id changed: " << tid);
    }
  }
}

// [tid.syntax.length] [tid.syntax.charset]
TEST_CASE("tid: robustness against hostile input", "[tid][robustness]") {
  const std::vector<std::string_view> inputs = {
      ""sv,
      "\0"sv,
      "\0\0\0\0\0\0\0\0\0\0\0\0\0"sv,
      "222222222222\0"sv,
      "\0222222222222"sv,
      "222222222222\xff"sv,
      "\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80"sv,
      "22222222222\xc0\xaf"sv,
      "2222222222\xe0\x80\xaf"sv,
      "2222222222\xed\xa0\x80"sv,
      "22222222222\xc3\xa9"sv,  // 13 bytes, 12 characters
  };
  for (std::string_view input : inputs) {
    CAPTURE(input);
    CHECK_FALSE(validate_tid(input).ok());
    CHECK_FALSE(tid_to_integer(input).ok());
    CHECK_FALSE(decode_tid(input).ok());
  }
  const std::string huge(1 << 20, '2');
  CHECK(code_of(validate_tid(huge)) == "tid.syntax.length");
  CHECK_FALSE(tid_to_integer(huge).ok());
  CHECK_FALSE(decode_tid(huge).ok());
  CHECK_THAT(code_of(validate_tid("22222222222\xc3\xa9"sv)), StartsWith("tid.syntax."));
}

// Unit tests for the Lexicon datetime format: syntax error codes, the parsed
// instant, and normalization.
// Spec: https://atproto.com/specs/lexicon#datetime
#include "atproto/syntax/datetime.hpp"

#include <catch2/catch.hpp>
#include <chrono>

#include <string>
#include <string_view>
#include <vector>

#include "atproto/syntax/test_support.hpp"

using namespace std::string_view_literals;
using namespace atproto::syntax::testing;
using atproto::syntax::Datetime;
using atproto::syntax::format_datetime;
using atproto::syntax::normalize_datetime;
using atproto::syntax::now_datetime;
using atproto::syntax::parse_datetime;
using atproto::syntax::validate_datetime;

namespace {

std::string normalized(std::string_view input) {
  auto result = normalize_datetime(input);
  return result.ok() ? *result : "<error " + result.error().code + ">";
}

}  // namespace

// [lex.format.datetime.syntax] [lex.format.datetime.seconds] [lex.format.datetime.timezone]
TEST_CASE("datetime: spec examples of valid datetimes", "[datetime]") {
  for (std::string_view input :
       {"1985-04-12T23:20:50.123Z"sv, "1985-04-12T23:20:50.123456Z"sv, "1985-04-12T23:20:50.120Z"sv,
        "1985-04-12T23:20:50.120000Z"sv, "0001-01-01T00:00:00.000Z"sv, "0000-01-01T00:00:00.000Z"sv,
        "1985-04-12T23:20:50.12345678912345Z"sv, "1985-04-12T23:20:50Z"sv,
        "1985-04-12T23:20:50.0Z"sv, "1985-04-12T23:20:50.123+00:00"sv,
        "1985-04-12T23:20:50.123-07:00"sv, "9999-12-31T23:59:59.999Z"sv, "2000-02-29T12:00:00Z"sv,
        "2024-02-29T00:00:00Z"sv, "1985-04-12T23:20:50+23:59"sv, "1985-04-12T23:20:50-23:59"sv,
        "1985-04-12T00:00:00+05:30"sv}) {
    CAPTURE(input);
    CHECK(code_of(validate_datetime(input)) == "<ok>");
  }
}

// [lex.format.datetime.syntax]
TEST_CASE("datetime: four-digit year, two-digit fields", "[datetime]") {
  for (std::string_view input :
       {"+001985-04-12T23:20:50.123Z"sv, "23:20:50.123Z"sv, "-1985-04-12T23:20:50.123Z"sv,
        "1985-4-12T23:20:50.123Z"sv, "01985-04-12T23:20:50.123Z"sv, "85-04-12T23:20:50.123Z"sv,
        "1985-04-2T23:20:50.123Z"sv, "1985-04-12T3:20:50.123Z"sv, "1985/04/12T23:20:50.123Z"sv,
        "19850412T232050Z"sv, "1985-04-12T23.20.50Z"sv, "198a-04-12T23:20:50Z"sv,
        "1985-04-12T23:2a:50Z"sv}) {
    CAPTURE(input);
    CHECK(code_of(validate_datetime(input)) == "lex.format.datetime.syntax");
  }
  for (std::string_view input : {"1985-04-12"sv, "1985-04-12T"sv, ""sv}) {
    CAPTURE(input);
    CHECK_THAT(code_of(validate_datetime(input)),
               Equals("lex.format.datetime.syntax") || Equals("lex.format.datetime.separator"));
  }
}

// [lex.format.datetime.separator]
TEST_CASE("datetime: uppercase T between date and time", "[datetime]") {
  for (std::string_view input : {"1985-04-12t23:20:50.123Z"sv, "1985-04-12 23:20:50.123Z"sv,
                                 "1985-04-12_23:20:50.123Z"sv, "1985-04-12x23:20:50.123Z"sv}) {
    CAPTURE(input);
    CHECK(code_of(validate_datetime(input)) == "lex.format.datetime.separator");
  }
}

// [lex.format.datetime.seconds]
TEST_CASE("datetime: whole seconds required, any fraction", "[datetime]") {
  for (std::string_view input :
       {"1985-04-12T23:20Z"sv, "1985-04-12T23:20:5Z"sv, "1985-04-12T23:20:50.Z"sv,
        "1985-04-12T23:20+00:00"sv, "1985-04-12T23:20:50.+00:00"sv}) {
    CAPTURE(input);
    CHECK_THAT(code_of(validate_datetime(input)),
               Equals("lex.format.datetime.seconds") || Equals("lex.format.datetime.syntax"));
  }
  // A bad fraction may also be read as a bad timezone.
  for (std::string_view input : {"1985-04-12T23:20:50,123Z"sv, "1985-04-12T23:20:50.12a3Z"sv}) {
    CAPTURE(input);
    CHECK_THAT(code_of(validate_datetime(input)), Equals("lex.format.datetime.seconds") ||
                                                      Equals("lex.format.datetime.syntax") ||
                                                      Equals("lex.format.datetime.timezone"));
  }
  CHECK(validate_datetime("1985-04-12T23:20:50.1Z").ok());
  CHECK(validate_datetime("1985-04-12T23:20:50." + std::string(100, '9') + "Z").ok());
}

// [lex.format.datetime.timezone]
TEST_CASE("datetime: timezone is Z or +HH:MM / -HH:MM, never -00:00", "[datetime]") {
  for (std::string_view input :
       {"1985-04-12T23:20:50.123"sv, "1985-04-12T23:20:50"sv, "1985-04-12T23:20:50.123z"sv,
        "1985-04-12T23:20:50.123+00"sv, "1985-04-12T23:20:50.123+0000"sv,
        "1985-04-12T23:20:50.123-00:00"sv, "1985-04-12T23:20:50.123+1:00"sv,
        "1985-04-12T23:20:50.123+01:0"sv, "1985-04-12T23:20:50.123+01:00:00"sv,
        "1985-04-12T23:20:50.123ZZ"sv, "1985-04-12T23:20:50.123Z+01:00"sv,
        "1985-04-12T23:20:50.123 Z"sv, "1985-04-12T23:20:50.123UTC"sv,
        "1985-04-12T23:20:50.123GMT"sv, "1985-04-12T23:20:50.123*01:00"sv}) {
    CAPTURE(input);
    CHECK(code_of(validate_datetime(input)) == "lex.format.datetime.timezone");
  }
  CHECK(validate_datetime("1985-04-12T23:20:50.123+00:00").ok());
}

// [lex.format.datetime.semantics]
TEST_CASE("datetime: field values must exist", "[datetime]") {
  for (std::string_view input :
       {"1985-04-12T23:99:50.123Z"sv, "1985-00-12T23:20:50.123Z"sv, "1985-13-12T23:20:50Z"sv,
        "1985-04-00T23:20:50Z"sv, "1985-04-31T23:20:50Z"sv, "1985-01-32T23:20:50Z"sv,
        "2023-02-29T00:00:00Z"sv, "1900-02-29T00:00:00Z"sv, "2100-02-29T00:00:00Z"sv,
        "1985-02-30T00:00:00Z"sv, "1985-04-12T24:00:00Z"sv, "1985-04-12T23:60:00Z"sv,
        "1985-04-12T23:59:60Z"sv, "1985-04-12T23:20:50+24:00"sv, "1985-04-12T23:20:50+12:60"sv,
        "1985-04-12T23:20:50-99:99"sv}) {
    CAPTURE(input);
    CHECK(code_of(validate_datetime(input)) == "lex.format.datetime.semantics");
  }
  for (std::string_view input :
       {"2000-02-29T00:00:00Z"sv, "2024-02-29T00:00:00Z"sv, "1600-02-29T00:00:00Z"sv,
        "0000-02-29T00:00:00Z"sv, "1985-01-31T00:00:00Z"sv, "1985-04-30T00:00:00Z"sv,
        "1985-12-31T23:59:59Z"sv}) {
    CAPTURE(input);
    CHECK(validate_datetime(input).ok());
  }
}

// [lex.format.datetime.not-negative]
TEST_CASE("datetime: nothing before year 0000 in UTC", "[datetime]") {
  CHECK(code_of(validate_datetime("0000-01-01T00:00:00+01:00")) ==
        "lex.format.datetime.not-negative");
  CHECK(code_of(validate_datetime("0000-01-01T00:59:59.999+01:00")) ==
        "lex.format.datetime.not-negative");
  CHECK(code_of(normalize_datetime("0000-01-01T00:00:00+01:00")) ==
        "lex.format.datetime.not-negative");
  CHECK(validate_datetime("0000-01-01T01:00:00+01:00").ok());
  CHECK(validate_datetime("0000-01-01T00:00:00-01:00").ok());
  CHECK(validate_datetime("0000-01-01T00:00:00Z").ok());
}

// [lex.format.datetime.range]
TEST_CASE("datetime: nothing after year 9999 in UTC", "[datetime]") {
  // The spec itself only rules out negative years; the catalog reads the
  // four-digit year of the normalized form as an upper bound too.
  CHECK(code_of(validate_datetime("9999-12-31T23:59:59-23:59")) == "lex.format.datetime.range");
  CHECK(code_of(validate_datetime("9999-12-31T23:59:59-00:01")) == "lex.format.datetime.range");
  CHECK(code_of(normalize_datetime("9999-12-31T23:00:00-01:00")) == "lex.format.datetime.range");
  CHECK(validate_datetime("9999-12-31T23:59:59.999999999Z").ok());
  CHECK(validate_datetime("9999-12-31T23:59:59+00:00").ok());
  CHECK(validate_datetime("9999-12-31T23:59:59+23:59").ok());
  CHECK(validate_datetime("9999-12-31T22:59:59-01:00").ok());
}

// [lex.format.datetime.normalize]
TEST_CASE("datetime: parse_datetime instant", "[datetime]") {
  auto epoch = parse_datetime("1970-01-01T00:00:00Z");
  REQUIRE(epoch.ok());
  CHECK(epoch->epoch_seconds == 0);
  CHECK(epoch->fraction.empty());
  CHECK(epoch->offset_minutes == 0);
  CHECK(epoch->nanoseconds() == 0);

  CHECK(parse_datetime("0000-01-01T00:00:00Z")->epoch_seconds == -62167219200);
  CHECK(parse_datetime("0001-01-01T00:00:00Z")->epoch_seconds == -62135596800);
  CHECK(parse_datetime("9999-12-31T23:59:59Z")->epoch_seconds == 253402300799);
  CHECK(parse_datetime("2000-01-01T00:00:00Z")->epoch_seconds == 946684800);
  CHECK(parse_datetime("2024-02-29T00:00:00Z")->epoch_seconds == 1709164800);
  CHECK(parse_datetime("1969-12-31T23:59:59Z")->epoch_seconds == -1);

  auto spec = parse_datetime("1985-04-12T23:20:50.123Z");
  REQUIRE(spec.ok());
  CHECK(spec->epoch_seconds == 482196050);
  CHECK(spec->fraction == "123");
  CHECK(spec->offset_minutes == 0);

  auto minus7 = parse_datetime("1985-04-12T23:20:50.123-07:00");
  REQUIRE(minus7.ok());
  CHECK(minus7->epoch_seconds == 482196050 + 7 * 3600);
  CHECK(minus7->offset_minutes == -420);
  CHECK(minus7->fraction == "123");

  auto plus1 = parse_datetime("2000-01-01T00:00:00+01:00");
  REQUIRE(plus1.ok());
  CHECK(plus1->epoch_seconds == 946684800 - 3600);
  CHECK(plus1->offset_minutes == 60);

  auto india = parse_datetime("1985-04-12T23:20:50+05:30");
  REQUIRE(india.ok());
  CHECK(india->epoch_seconds == 482196050 - 5 * 3600 - 30 * 60);
  CHECK(india->offset_minutes == 330);

  CHECK(parse_datetime("1985-04-12T23:20:50+00:00")->offset_minutes == 0);
  CHECK(parse_datetime("1985-04-12T23:20:50-23:59")->offset_minutes == -(23 * 60 + 59));
  CHECK(parse_datetime("1985-04-12T23:20:50.120000Z")->fraction == "120000");

  // Equal instants in different zones.
  CHECK(parse_datetime("1985-04-12T23:20:50Z")->epoch_seconds ==
        parse_datetime("1985-04-13T01:20:50+02:00")->epoch_seconds);

  CHECK(code_of(parse_datetime("1985-04-12T23:20:50.123")) == "lex.format.datetime.timezone");
  CHECK(code_of(parse_datetime("1985-02-30T00:00:00Z")) == "lex.format.datetime.semantics");
}

// [lex.format.datetime.seconds]
TEST_CASE("datetime: nanoseconds of the fraction", "[datetime]") {
  auto nanos = [](std::string fraction) {
    Datetime datetime;
    datetime.fraction = std::move(fraction);
    return datetime.nanoseconds();
  };
  CHECK(nanos("") == 0);
  CHECK(nanos("0") == 0);
  CHECK(nanos("1") == 100000000);
  CHECK(nanos("12") == 120000000);
  CHECK(nanos("123") == 123000000);
  CHECK(nanos("123456") == 123456000);
  CHECK(nanos("123456789") == 123456789);
  CHECK(nanos("000000001") == 1);
  CHECK(nanos("999999999") == 999999999);
  CHECK(nanos("1234567891") == 123456789);
  CHECK(nanos("12345678912345") == 123456789);
  CHECK(nanos("9999999999999999") == 999999999);
  CHECK(parse_datetime("1985-04-12T23:20:50.12345678912345Z")->nanoseconds() == 123456789);
}

// [lex.format.datetime.normalize]
TEST_CASE("datetime: normalize_datetime", "[datetime]") {
  CHECK(normalized("1985-04-12T23:20:50.123Z") == "1985-04-12T23:20:50.123Z");
  CHECK(normalized("1985-04-12T23:20:50.1Z") == "1985-04-12T23:20:50.100Z");
  CHECK(normalized("1985-04-12T23:20:50.12Z") == "1985-04-12T23:20:50.120Z");
  CHECK(normalized("1985-04-12T23:20:50Z") == "1985-04-12T23:20:50.000Z");
  CHECK(normalized("1985-04-12T23:20:50.0Z") == "1985-04-12T23:20:50.000Z");
  CHECK(normalized("1985-04-12T23:20:50.123456Z") == "1985-04-12T23:20:50.123456Z");
  CHECK(normalized("1985-04-12T23:20:50.120000Z") == "1985-04-12T23:20:50.120000Z");
  CHECK(normalized("1985-04-12T23:20:50.12345678912345Z") == "1985-04-12T23:20:50.12345678912345Z");
  CHECK(normalized("1985-04-12T23:20:50.123+00:00") == "1985-04-12T23:20:50.123Z");
  CHECK(normalized("1985-04-12T23:20:50.123-07:00") == "1985-04-13T06:20:50.123Z");
  CHECK(normalized("1985-04-12T23:20:50+05:30") == "1985-04-12T17:50:50.000Z");
  // Across a year boundary, both ways.
  CHECK(normalized("2000-01-01T00:30:00+01:00") == "1999-12-31T23:30:00.000Z");
  CHECK(normalized("1999-12-31T23:30:00.5-01:00") == "2000-01-01T00:30:00.500Z");
  CHECK(normalized("2000-01-01T00:00:00+23:59") == "1999-12-31T00:01:00.000Z");
  // Across month ends and leap days.
  CHECK(normalized("2024-02-28T23:00:00-02:00") == "2024-02-29T01:00:00.000Z");
  CHECK(normalized("2023-02-28T23:00:00-02:00") == "2023-03-01T01:00:00.000Z");
  CHECK(normalized("2024-03-01T01:00:00+02:00") == "2024-02-29T23:00:00.000Z");
  CHECK(normalized("1985-04-30T23:00:00-01:00") == "1985-05-01T00:00:00.000Z");
  // The earliest and latest instants.
  CHECK(normalized("0000-01-01T00:00:00Z") == "0000-01-01T00:00:00.000Z");
  CHECK(normalized("0000-01-01T01:00:00+01:00") == "0000-01-01T00:00:00.000Z");
  CHECK(normalized("9999-12-31T23:59:59.999Z") == "9999-12-31T23:59:59.999Z");
  CHECK(normalized("1970-01-01T00:00:00Z") == "1970-01-01T00:00:00.000Z");
  CHECK(normalized("1969-12-31T23:59:59.999999Z") == "1969-12-31T23:59:59.999999Z");

  // Lossless: same instant and fraction give the same string; a different
  // number of written digits beyond milliseconds stays visible.
  CHECK(normalized("1985-04-12T23:20:50.12Z") == normalized("1985-04-12T23:20:50.120Z"));
  CHECK(normalized("1985-04-13T01:20:50.12+02:00") == normalized("1985-04-12T23:20:50.120Z"));
  CHECK(normalized("1985-04-12T23:20:50.1200Z") != normalized("1985-04-12T23:20:50.120Z"));

  CHECK(code_of(normalize_datetime("1985-04-12")) != "<ok>");
  CHECK(code_of(normalize_datetime("1985-04-12T23:20:50.123-00:00")) ==
        "lex.format.datetime.timezone");
}

// [lex.format.datetime.normalize]
TEST_CASE("datetime: format_datetime", "[datetime]") {
  CHECK(format_datetime(Datetime{}) == "1970-01-01T00:00:00.000Z");
  CHECK(format_datetime(Datetime{482196050, "123", 0}) == "1985-04-12T23:20:50.123Z");
  CHECK(format_datetime(Datetime{482196050, "1", 0}) == "1985-04-12T23:20:50.100Z");
  CHECK(format_datetime(Datetime{482196050, "1234567", 0}) == "1985-04-12T23:20:50.1234567Z");
  // The offset only records how the input was written; output is UTC.
  CHECK(format_datetime(Datetime{482196050, "", -420}) == "1985-04-12T23:20:50.000Z");
  CHECK(format_datetime(Datetime{-62167219200, "", 0}) == "0000-01-01T00:00:00.000Z");
  CHECK(format_datetime(Datetime{253402300799, "999", 0}) == "9999-12-31T23:59:59.999Z");
  CHECK(format_datetime(Datetime{-1, "", 0}) == "1969-12-31T23:59:59.000Z");
  for (std::string_view input : {"1985-04-12T23:20:50.123Z"sv, "2024-02-29T12:34:56.789012Z"sv,
                                 "0000-01-01T00:00:00.000Z"sv, "1999-12-31T23:59:59.999Z"sv}) {
    CAPTURE(input);
    auto parsed = parse_datetime(input);
    REQUIRE(parsed.ok());
    CHECK(format_datetime(*parsed) == input);
    CHECK(*parse_datetime(format_datetime(*parsed)) == *parsed);
  }
}

// [lex.format.datetime.syntax] [lex.format.datetime.seconds]
TEST_CASE("datetime: robustness against hostile input", "[datetime][robustness]") {
  const std::vector<std::string_view> inputs = {
      ""sv,
      "\0"sv,
      "1985-04-12T23:20:50.123Z\0"sv,
      "1985-04-12T23:20:50.123\0Z"sv,
      "1985-04-12\0T23:20:50.123Z"sv,
      "\0"
      "1985-04-12T23:20:50.123Z"sv,
      "1985-04-12T23:20:50.123Z\xff"sv,
      "1985-04-12T23:20:50.\xff"
      "Z"sv,
      "1985-04-12T23:20:50.123\x80"sv,
      "1985-04-12T23:20:50.123\xc0\xaf"sv,
      "1985-04-12T23:20:50.123\xe0\x80\xaf"sv,
      "1985-04-12T23:20:50.123\xed\xa0\x80"sv,
      "\xef\xbc\x91"
      "985-04-12T23:20:50Z"sv,            // fullwidth digit one
      "1985-04-12T23:20:50.\xd9\xa3Z"sv,  // Arabic-Indic digit three
  };
  for (std::string_view input : inputs) {
    CAPTURE(input);
    CHECK_FALSE(validate_datetime(input).ok());
    CHECK_FALSE(parse_datetime(input).ok());
    CHECK_FALSE(normalize_datetime(input).ok());
  }
  const std::string huge(1 << 20, '1');
  CHECK_FALSE(validate_datetime(huge).ok());
  CHECK_FALSE(normalize_datetime(huge).ok());
  const std::string huge_year = std::string(1 << 20, '9') + "-01-01T00:00:00Z";
  CHECK(code_of(validate_datetime(huge_year)) == "lex.format.datetime.syntax");
  // Any number of fractional digits is allowed, even a megabyte of them.
  const std::string long_fraction = "1985-04-12T23:20:50." + std::string(1 << 20, '7') + "Z";
  CHECK(validate_datetime(long_fraction).ok());
  auto parsed = parse_datetime(long_fraction);
  REQUIRE(parsed.ok());
  CHECK(parsed->nanoseconds() == 777777777);
  CHECK(normalized(long_fraction) == long_fraction);
  const std::string long_fraction_no_zone = "1985-04-12T23:20:50." + std::string(1 << 20, '7');
  CHECK(code_of(validate_datetime(long_fraction_no_zone)) == "lex.format.datetime.timezone");
}

TEST_CASE("datetime: now_datetime is the current instant in normal form with milliseconds",
          "[datetime]") {
  auto before = std::chrono::system_clock::now();
  std::string now = now_datetime();
  auto after = std::chrono::system_clock::now();
  REQUIRE(validate_datetime(now).ok());
  CHECK(normalize_datetime(now).value() == now);
  CHECK(now.size() == 24);  // YYYY-MM-DDTHH:MM:SS.mmmZ
  auto parsed = parse_datetime(now);
  REQUIRE(parsed.ok());
  auto ms = parsed->epoch_seconds * 1000 + parsed->nanoseconds() / 1'000'000;
  auto ms_of = [](auto t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  };
  CHECK(ms >= ms_of(before));
  CHECK(ms <= ms_of(after));
}

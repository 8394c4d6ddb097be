// Datetime validation, parsing and normalization.
// Spec: https://atproto.com/specs/lexicon#datetime
//
// The accepted form is the intersection of RFC 3339, ISO 8601 and the WHATWG
// HTML global date-and-time string:
//   YYYY-MM-DD "T" HH:MM:SS [ "." 1*DIGIT ] ( "Z" / ("+" / "-") HH:MM )
// Second 60 is rejected: RFC 3339 would allow a leap second, but the HTML
// grammar allows 00-59 only, so it is outside the intersection.
#include "atproto/syntax/datetime.hpp"

#include <chrono>
#include <cstdio>

#include "ascii.hpp"

namespace atproto::syntax {
namespace {

Error datetime_error(std::string code, std::string_view input, std::string_view why) {
  return make_error(std::move(code),
                    "invalid datetime " + ascii::quote(input) + ": " + std::string(why));
}

// Reads `count` ASCII digits at `pos`; -1 if any is not a digit.
int read_digits(std::string_view s, std::size_t pos, std::size_t count) {
  if (pos + count > s.size()) return -1;
  int value = 0;
  for (std::size_t i = 0; i < count; ++i) {
    char c = s[pos + i];
    if (!ascii::is_digit(c)) return -1;
    value = value * 10 + (c - '0');
  }
  return value;
}

bool is_leap_year(std::int64_t year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int days_in_month(std::int64_t year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap_year(year) ? 29 : kDays[month - 1];
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
// days_from_civil), valid for year 0 and negative years.
std::int64_t days_from_civil(std::int64_t y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

struct CivilDate {
  std::int64_t year;
  int month;
  int day;
};

CivilDate civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return {yoe + era * 400 + (m <= 2 ? 1 : 0), m, d};
}

constexpr std::int64_t kSecondsPerDay = 86400;
// 0000-01-01T00:00:00Z and 10000-01-01T00:00:00Z in UNIX seconds.
const std::int64_t kMinEpochSeconds = days_from_civil(0, 1, 1) * kSecondsPerDay;
const std::int64_t kEndEpochSeconds = days_from_civil(10000, 1, 1) * kSecondsPerDay;

}  // namespace

std::uint32_t Datetime::nanoseconds() const {
  std::uint32_t ns = 0;
  for (std::size_t i = 0; i < 9; ++i) {
    ns = ns * 10 + (i < fraction.size() ? static_cast<std::uint32_t>(fraction[i] - '0') : 0);
  }
  return ns;
}

Result<Datetime> parse_datetime(std::string_view input) {
  constexpr auto kSyntax = "lex.format.datetime.syntax";
  // [lex.format.datetime.syntax] "YYYY-MM-DD" with exactly four year digits:
  // no sign, no expanded years, no omitted fields.
  const int year = read_digits(input, 0, 4);
  if (year < 0 || input.size() < 10 || input[4] != '-' || input[7] != '-') {
    return datetime_error(kSyntax, input, "expected a YYYY-MM-DD date first");
  }
  const int month = read_digits(input, 5, 2);
  const int day = read_digits(input, 8, 2);
  if (month < 0 || day < 0) {
    return datetime_error(kSyntax, input, "month and day are two digits each");
  }
  // [lex.format.datetime.separator] Uppercase 'T' only.
  if (input.size() == 10) {
    return datetime_error(kSyntax, input, "a time part is required after the date");
  }
  if (input[10] != 'T') {
    return datetime_error("lex.format.datetime.separator", input,
                          "date and time are separated by an uppercase 'T'");
  }
  const int hour = read_digits(input, 11, 2);
  const int minute = read_digits(input, 14, 2);
  if (hour < 0 || minute < 0 || input.size() < 16 || input[13] != ':') {
    return datetime_error(kSyntax, input, "expected HH:MM after 'T'");
  }
  // [lex.format.datetime.seconds] Whole seconds are required.
  if (input.size() < 17 || input[16] != ':') {
    return datetime_error("lex.format.datetime.seconds", input, "seconds are required (HH:MM:SS)");
  }
  const int second = read_digits(input, 17, 2);
  if (second < 0 || (input.size() > 19 && ascii::is_digit(input[19]))) {
    return datetime_error("lex.format.datetime.seconds", input, "seconds are exactly two digits");
  }
  std::size_t pos = 19;
  Datetime out;
  if (pos < input.size() && input[pos] == '.') {
    std::size_t start = ++pos;
    while (pos < input.size() && ascii::is_digit(input[pos])) ++pos;
    if (pos == start) {
      return datetime_error("lex.format.datetime.seconds", input,
                            "a '.' must be followed by fractional digits");
    }
    out.fraction = std::string(input.substr(start, pos - start));
  }
  // [lex.format.datetime.timezone] 'Z' or +HH:MM / -HH:MM, nothing after.
  std::string_view zone = input.substr(pos);
  int offset = 0;
  if (zone == "Z") {
    offset = 0;
  } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':' &&
             read_digits(zone, 1, 2) >= 0 && read_digits(zone, 4, 2) >= 0) {
    const int oh = read_digits(zone, 1, 2);
    const int om = read_digits(zone, 4, 2);
    if (oh > 23 || om > 59) {
      return datetime_error("lex.format.datetime.semantics", input,
                            "offset hours are 00-23 and minutes 00-59");
    }
    if (zone[0] == '-' && oh == 0 && om == 0) {
      return datetime_error("lex.format.datetime.timezone", input,
                            "\"-00:00\" is not allowed; use Z or +00:00");
    }
    offset = (zone[0] == '-' ? -1 : 1) * (oh * 60 + om);
  } else if (zone.empty()) {
    return datetime_error("lex.format.datetime.timezone", input, "a timezone is required");
  } else {
    return datetime_error("lex.format.datetime.timezone", input,
                          "the timezone must be 'Z' or an offset like +01:00");
  }
  // [lex.format.datetime.semantics] Fields must name a real moment.
  if (month < 1 || month > 12) {
    return datetime_error("lex.format.datetime.semantics", input, "month must be 01-12");
  }
  if (day < 1 || day > days_in_month(year, month)) {
    return datetime_error("lex.format.datetime.semantics", input,
                          "day does not exist in that month");
  }
  if (hour > 23 || minute > 59 || second > 59) {
    return datetime_error("lex.format.datetime.semantics", input,
                          "hour must be 00-23, minutes and seconds 00-59");
  }
  const std::int64_t local =
      days_from_civil(year, month, day) * kSecondsPerDay + hour * 3600 + minute * 60 + second;
  out.epoch_seconds = local - std::int64_t{offset} * 60;
  out.offset_minutes = offset;
  // [lex.format.datetime.not-negative] Before year zero once in UTC.
  if (out.epoch_seconds < kMinEpochSeconds) {
    return datetime_error("lex.format.datetime.not-negative", input,
                          "the instant in UTC falls before year 0000");
  }
  // [lex.format.datetime.range] The UTC form needs a four-digit year.
  if (out.epoch_seconds >= kEndEpochSeconds) {
    return datetime_error("lex.format.datetime.range", input,
                          "the instant in UTC falls after year 9999");
  }
  return out;
}

Status validate_datetime(std::string_view input) {
  auto parsed = parse_datetime(input);
  if (!parsed.ok()) return parsed.error();
  return {};
}

std::string format_datetime(const Datetime& datetime) {
  std::int64_t days = datetime.epoch_seconds / kSecondsPerDay;
  std::int64_t rest = datetime.epoch_seconds % kSecondsPerDay;
  if (rest < 0) {
    rest += kSecondsPerDay;
    --days;
  }
  CivilDate date = civil_from_days(days);
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%04lld-%02d-%02dT%02d:%02d:%02d",
                static_cast<long long>(date.year), date.month, date.day,
                static_cast<int>(rest / 3600), static_cast<int>(rest / 60 % 60),
                static_cast<int>(rest % 60));
  std::string out = buffer;
  std::string fraction = datetime.fraction;
  // [lex.format.datetime.normalize] At least millisecond precision.
  while (fraction.size() < 3) fraction += '0';
  return out + "." + fraction + "Z";
}

Result<std::string> normalize_datetime(std::string_view input) {
  auto parsed = parse_datetime(input);
  if (!parsed.ok()) return parsed.error();
  return format_datetime(*parsed);
}

std::string now_datetime() {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  std::string fraction = std::to_string(1000 + ms % 1000).substr(1);
  return format_datetime(Datetime{ms / 1000, fraction, 0});
}

}  // namespace atproto::syntax

// Datetimes: the strict RFC 3339 / ISO 8601 / WHATWG intersection that the
// Lexicon `datetime` format requires.
// Spec: https://atproto.com/specs/lexicon#datetime
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "atproto/common/result.hpp"

namespace atproto::syntax {

struct Datetime {
  // The instant in UTC: seconds since 1970-01-01T00:00:00Z (negative for
  // earlier instants, down to year 0000) plus the fractional digits exactly
  // as written (possibly empty), so nothing is lost when normalizing.
  std::int64_t epoch_seconds = 0;
  std::string fraction;             // digits after '.', as written
  std::int32_t offset_minutes = 0;  // the original offset; 0 for 'Z'

  // Nanoseconds of the fraction (digits past the ninth are truncated).
  std::uint32_t nanoseconds() const;
  friend bool operator==(const Datetime&, const Datetime&) = default;
};

// Error codes: lex.format.datetime.*.
Status validate_datetime(std::string_view input);
Result<Datetime> parse_datetime(std::string_view input);

// Normal form: the same instant in UTC with a 'Z' suffix and the original
// fractional digits, padded with zeros to at least milliseconds, e.g.
// "1985-04-12T23:20:50.120Z". Lossless: equal instants written with the
// same fraction give equal strings. [lex.format.datetime.normalize]
Result<std::string> normalize_datetime(std::string_view input);
std::string format_datetime(const Datetime& datetime);

// The current instant in normal form with milliseconds, UTC
// ("2026-12-06T09:35:02.123Z"): what a service writes as createdAt, time.
std::string now_datetime();

}  // namespace atproto::syntax

// Fuzz target: Lexicon datetimes. Spec: https://atproto.com/specs/lexicon#datetime
#include <cstddef>
#include <cstdint>
#include <string>

#include "atproto/syntax/datetime.hpp"
#include "atproto/syntax/format.hpp"
#include "fuzz_check.hpp"
#include "oracles.hpp"

namespace syn = atproto::syntax;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in = fuzz::begin_input(data, size);

  auto valid = syn::validate_datetime(in);
  FUZZ_CHECK(fuzz::error_in_family(valid, "lex.format.datetime."));
  FUZZ_CHECK(syn::validate_string_format(syn::StringFormat::kDatetime, in).ok() == valid.ok());
  auto parsed = syn::parse_datetime(in);
  auto norm = syn::normalize_datetime(in);
  FUZZ_CHECK(parsed.ok() == valid.ok());
  FUZZ_CHECK(norm.ok() == valid.ok());
  if (!valid.ok()) return 0;

  // Cheap shape checks. [lex.format.datetime.syntax] [lex.format.datetime.separator]
  // [lex.format.datetime.timezone]
  FUZZ_CHECK(in.size() >= 20 && in[4] == '-' && in[7] == '-' && in[10] == 'T' && in[13] == ':' &&
             in[16] == ':');
  FUZZ_CHECK(in.back() == 'Z' || in.substr(in.size() - 6, 1) == "+" ||
             in.substr(in.size() - 6, 1) == "-");
  FUZZ_CHECK(!(in.size() >= 6 && in.substr(in.size() - 6) == "-00:00"));
  FUZZ_CHECK(fuzz::oracle::all_in(parsed->fraction, fuzz::oracle::kDigits));
  FUZZ_CHECK(parsed->nanoseconds() < 1'000'000'000u);
  FUZZ_CHECK(parsed->offset_minutes > -24 * 60 && parsed->offset_minutes < 24 * 60);

  // [lex.format.datetime.normalize]: the normal form is valid, in UTC, has the
  // same instant and fraction digits (padded to milliseconds), and is a
  // fixed point. [lex.format.datetime.not-negative]: never before year 0000.
  FUZZ_CHECK(*norm == syn::format_datetime(*parsed));
  FUZZ_CHECK(syn::validate_datetime(*norm).ok());
  FUZZ_CHECK(norm->back() == 'Z');
  auto reparsed = syn::parse_datetime(*norm);
  FUZZ_CHECK(reparsed.ok());
  FUZZ_CHECK(reparsed->epoch_seconds == parsed->epoch_seconds);
  FUZZ_CHECK(reparsed->nanoseconds() == parsed->nanoseconds());
  FUZZ_CHECK(reparsed->offset_minutes == 0);
  std::string padded = parsed->fraction;
  if (padded.size() < 3) padded.resize(3, '0');
  FUZZ_CHECK(reparsed->fraction == padded);
  FUZZ_CHECK(*syn::normalize_datetime(*norm) == *norm);
  if (in.back() == 'Z' && parsed->fraction.size() >= 3) FUZZ_CHECK(*norm == in);
  return 0;
}

// Test support, not implementation: RapidCheck generators of valid values
// for every Lexicon string format, written from the spec grammars and
// independent of the validators. Shared
// by the property tests (properties_test.cpp) and the conformance runner's
// property cases, which use our reference as the oracle.
//
// Functions that draw with `*generator` must run inside a RapidCheck
// generation context (gen::exec or a property body).
#pragma once

#include <rapidcheck.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "atproto/syntax/did.hpp"
#include "atproto/syntax/format.hpp"
#include "atproto/syntax/handle.hpp"
#include "atproto/syntax/language.hpp"
#include "atproto/syntax/nsid.hpp"
#include "atproto/syntax/record_key.hpp"

namespace atproto::syntax::generators {

namespace gen = rc::gen;
namespace syn = atproto::syntax;

inline constexpr std::string_view kLower = "abcdefghijklmnopqrstuvwxyz";
inline constexpr std::string_view kUpper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
inline constexpr std::string_view kDigits = "0123456789";
inline constexpr std::string_view kAlpha = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
inline constexpr std::string_view kAlnum =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
inline constexpr std::string_view kLowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789";
inline constexpr std::string_view kBase32Sortable = "234567abcdefghijklmnopqrstuvwxyz";
inline constexpr std::string_view kRecordKeyChars =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:~";

inline char pick(std::string_view alphabet) {
  return alphabet[*gen::inRange<std::size_t>(0, alphabet.size())];
}

// Small helpers.

inline std::string pick_n(std::string_view alphabet, std::size_t n) {
  std::string out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) out += pick(alphabet);
  return out;
}

// A length in [lo, hi], usually short, sometimes anywhere in the range, and
// sometimes exactly at a bound (bounds are where parsers go wrong).
inline std::size_t length_between(std::size_t lo, std::size_t hi) {
  switch (*gen::inRange(0, 10)) {
    case 0:
      return lo;
    case 1:
      return hi;
    case 2:
    case 3:
      return *gen::inRange<std::size_t>(lo, hi + 1);
    default:
      return *gen::inRange<std::size_t>(lo, std::min(hi, lo + 8) + 1);
  }
}

inline std::string lowercase(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

inline bool equals_ignore_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && lowercase(std::string(a)) == lowercase(std::string(b));
}

// Flips the case of random ASCII letters.
inline std::string random_case(std::string s) {
  for (char& c : s) {
    if (!*gen::arbitrary<bool>()) continue;
    if (c >= 'a' && c <= 'z')
      c = static_cast<char>(c - 'a' + 'A');
    else if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

inline bool in(std::string_view alphabet, char c) {
  return alphabet.find(c) != std::string_view::npos;
}

inline std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    std::size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

// ---------------------------------------------------------------------------
// Mutations: one random edit of a valid value. The inserted or replacing byte
// is drawn from a mix of separators, letters, NUL, control and non-ASCII bytes.

inline char interesting_byte() {
  static constexpr std::string_view kInteresting{
      "\x00\x01\x09\x0a\x20\x7f\x80\xc3\xa9\xff.-_:~/%#?@*+=ZzAa09:T", 34};
  if (*gen::arbitrary<bool>()) return pick(kInteresting);
  return static_cast<char>(*gen::inRange(0, 256));
}

inline std::string mutate(std::string s) {
  const int kind = *gen::inRange(0, 6);
  const std::size_t pos = s.empty() ? 0 : *gen::inRange<std::size_t>(0, s.size());
  switch (kind) {
    case 0:  // insert
      s.insert(s.begin() + static_cast<std::ptrdiff_t>(*gen::inRange<std::size_t>(0, s.size() + 1)),
               interesting_byte());
      break;
    case 1:  // delete
      if (!s.empty()) s.erase(pos, 1);
      break;
    case 2:  // replace
      if (!s.empty()) s[pos] = interesting_byte();
      break;
    case 3:  // truncate
      s.resize(*gen::inRange<std::size_t>(0, s.size() + 1));
      break;
    case 4: {  // duplicate a slice in place
      if (s.empty()) break;
      std::size_t len = *gen::inRange<std::size_t>(1, s.size() - pos + 1);
      s.insert(pos, s.substr(pos, len));
      break;
    }
    default:  // duplicate the whole value
      s += s;
      break;
  }
  return s;
}

// ---------------------------------------------------------------------------
// Generators of valid values, straight from the spec grammars.

// One DNS label: 1-63 letters/digits/hyphens, no hyphen at either end; the
// TLD (and the first NSID segment) does not start with a digit.
inline std::string dns_label(std::size_t len, bool letter_first, std::string_view letters) {
  std::string inner_alphabet = std::string(letters) + std::string(kDigits) + "-";
  std::string edge_alphabet = std::string(letters) + std::string(kDigits);
  std::string out;
  for (std::size_t i = 0; i < len; ++i) {
    if (i == 0 && letter_first)
      out += pick(letters);
    else if (i == 0 || i + 1 == len)
      out += pick(edge_alphabet);
    else
      out += pick(inner_alphabet);
  }
  return out;
}

// Labels for a hostname-like name of at most `max_total` characters; the
// label at index `letter_first_index` starts with a letter.
inline std::vector<std::string> dns_labels(std::size_t max_total, std::size_t min_labels,
                                           std::size_t letter_first_index_from_end,
                                           std::string_view letters) {
  std::size_t count = *gen::weightedElement<std::size_t>(
      {{6, min_labels}, {3, min_labels + 1}, {2, min_labels + 2}, {1, min_labels + 5}});
  std::vector<std::string> labels;
  std::size_t used = 0;
  for (std::size_t i = 0; i < count; ++i) {
    std::size_t remaining_labels = count - i - 1;
    // Room left for this label once the rest get one character and a period each.
    std::size_t budget = max_total - used - (i == 0 ? 0 : 1) - remaining_labels * 2;
    std::size_t len = length_between(1, std::min<std::size_t>(63, budget));
    bool letter_first = (i == count - 1 - letter_first_index_from_end);
    labels.push_back(dns_label(len, letter_first, letters));
    used += len + (i == 0 ? 0 : 1);
  }
  return labels;
}

inline std::string join(const std::vector<std::string>& parts, char sep) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}

// [handle.syntax.*]: lowercase unless `mixed_case`.
inline rc::Gen<std::string> gen_handle(bool mixed_case = false) {
  return gen::exec([mixed_case] {
    auto labels = dns_labels(syn::kHandleMaxLength, 2, 0, mixed_case ? kAlpha : kLower);
    return join(labels, '.');
  });
}

// [nsid.syntax.*]: reversed-domain authority plus a camel-case name.
inline rc::Gen<std::string> gen_nsid() {
  return gen::exec([] {
    bool mixed = *gen::arbitrary<bool>();
    auto labels = dns_labels(syn::kNsidAuthorityMaxLength, 2, 0, mixed ? kAlpha : kLower);
    std::reverse(labels.begin(), labels.end());  // the TLD comes first
    std::size_t name_len = length_between(1, syn::kNsidSegmentMaxLength);
    std::string name(1, pick(kAlpha));
    name += pick_n(kAlnum, name_len - 1);
    labels.push_back(name);
    return join(labels, '.');
  });
}

inline rc::Gen<std::string> gen_did_plc() {
  return gen::exec([] { return "did:plc:" + pick_n("abcdefghijklmnopqrstuvwxyz234567", 24); });
}

inline const std::set<std::string> kDisallowedTlds = {"alt",     "arpa",  "example",   "internal",
                                                      "invalid", "local", "localhost", "onion"};

// [did.web.hostname-only]: a lowercase hostname with an allowed TLD.
inline rc::Gen<std::string> gen_did_web() {
  return gen::exec([] {
    std::vector<std::string> labels;
    do {
      labels = dns_labels(200, 2, 0, kLower);
    } while (kDisallowedTlds.count(labels.back()) != 0);
    return "did:web:" + join(labels, '.');
  });
}

// [did.syntax.*]: any method; identifier chars [A-Za-z0-9._:%-], last char
// not ':' or '%'. `with_percent` allows '%' (syntax does not check escapes).
inline rc::Gen<std::string> gen_did_generic(bool with_percent = true) {
  return gen::exec([with_percent] {
    std::string method = pick_n(kLower, length_between(1, 10));
    std::string chars = std::string(kAlnum) + "._-:" + (with_percent ? "%" : "");
    std::size_t max_id = syn::kDidMaxLength - 5 - method.size();
    std::size_t len = *gen::weightedElement<std::size_t>(
        {{10, *gen::inRange<std::size_t>(1, 40)}, {1, max_id}, {1, 1}});
    std::string id = pick_n(chars, len - 1);
    id += pick(std::string(kAlnum) + "._-");
    return "did:" + method + ":" + id;
  });
}

inline rc::Gen<std::string> gen_did() {
  return gen::oneOf(gen_did_plc(), gen_did_web(), gen_did_generic());
}

// [rkey.syntax.*]
inline rc::Gen<std::string> gen_record_key() {
  return gen::exec([] {
    std::string key;
    switch (*gen::inRange(0, 4)) {
      case 0:
        key = "self";
        break;
      case 1:
        key = pick_n(kRecordKeyChars, length_between(1, syn::kRecordKeyMaxLength));
        break;
      default:
        key = pick_n(kRecordKeyChars, *gen::inRange<std::size_t>(1, 20));
        break;
    }
    if (key == "." || key == "..") key += "x";
    return key;
  });
}

// [tid.syntax.*]: the first character keeps the top bit clear.
inline rc::Gen<std::string> gen_tid() {
  return gen::exec([] {
    std::string tid(1, pick("234567abcdefghij"));
    tid += pick_n(kBase32Sortable, 12);
    return tid;
  });
}

// A TID whose 64-bit value has bit 63 clear too (first char '2'..'b').
inline rc::Gen<std::string> gen_tid_small() {
  return gen::exec([] {
    std::string tid(1, pick("234567ab"));
    tid += pick_n(kBase32Sortable, 12);
    return tid;
  });
}

inline rc::Gen<std::string> gen_at_identifier() { return gen::oneOf(gen_handle(true), gen_did()); }

// [aturi.*] restricted form, optionally with collection and record key.
struct GeneratedAtUri {
  std::string authority;
  std::optional<std::string> collection;
  std::optional<std::string> record_key;
  std::string text() const {
    std::string out = "at://" + authority;
    if (collection) out += "/" + *collection;
    if (record_key) out += "/" + *record_key;
    return out;
  }
};

inline rc::Gen<GeneratedAtUri> gen_at_uri() {
  return gen::exec([] {
    GeneratedAtUri uri;
    // DIDs with '%' are left out: the AT URI rules on percent-encoding are
    // stricter than the DID syntax rules.
    uri.authority =
        *gen::oneOf(gen_handle(true), gen_did_plc(), gen_did_web(), gen_did_generic(false));
    int parts = *gen::inRange(0, 3);
    if (parts >= 1) uri.collection = *gen_nsid();
    if (parts >= 2) uri.record_key = *gen_record_key();
    return uri;
  });
}

// [lex.format.datetime.*]
struct GeneratedDatetime {
  int year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0;
  std::string fraction;               // digits, maybe empty
  std::optional<int> offset_minutes;  // nullopt: 'Z'
  std::string text;
};

inline bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
inline int days_in_month(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
inline std::int64_t days_from_civil(std::int64_t y, int m, int d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

inline std::string two(int v) {
  return std::string{static_cast<char>('0' + v / 10), static_cast<char>('0' + v % 10)};
}
inline std::string four(int v) { return two(v / 100) + two(v % 100); }

inline rc::Gen<GeneratedDatetime> gen_datetime() {
  return gen::exec([] {
    GeneratedDatetime dt;
    dt.year = *gen::weightedElement<int>(
        {{6, *gen::inRange(1970, 2100)}, {3, *gen::inRange(0, 10000)}, {1, 0}, {1, 9999}});
    dt.month = *gen::inRange(1, 13);
    dt.day = *gen::inRange(1, days_in_month(dt.year, dt.month) + 1);
    dt.hour = *gen::inRange(0, 24);
    dt.minute = *gen::inRange(0, 60);
    dt.second = *gen::inRange(0, 60);
    std::size_t digits = *gen::weightedElement<std::size_t>(
        {{2, 0}, {3, 3}, {2, 6}, {3, *gen::inRange<std::size_t>(1, 13)}, {1, 30}});
    dt.fraction = pick_n(kDigits, digits);
    if (*gen::inRange(0, 3) != 0) {
      int hh = *gen::inRange(0, 24);
      int mm = *gen::inRange(0, 60);
      int magnitude = hh * 60 + mm;
      // '-' moves the UTC instant later, '+' earlier. Keep the instant within
      // years 0000-9999 in UTC ([lex.format.datetime.not-negative]) and never
      // write "-00:00" ([lex.format.datetime.timezone]).
      bool negative = *gen::arbitrary<bool>();
      if (dt.year == 0) negative = true;
      if (dt.year == 9999) negative = false;
      if (magnitude == 0) negative = false;
      dt.offset_minutes = negative ? -magnitude : magnitude;
    }
    dt.text = four(dt.year) + "-" + two(dt.month) + "-" + two(dt.day) + "T" + two(dt.hour) + ":" +
              two(dt.minute) + ":" + two(dt.second);
    if (!dt.fraction.empty()) dt.text += "." + dt.fraction;
    if (!dt.offset_minutes) {
      dt.text += "Z";
    } else {
      int off = *dt.offset_minutes;
      int mag = off < 0 ? -off : off;
      dt.text += (off < 0 ? "-" : "+") + two(mag / 60) + ":" + two(mag % 60);
    }
    return dt;
  });
}

inline std::int64_t expected_epoch(const GeneratedDatetime& dt) {
  return days_from_civil(dt.year, dt.month, dt.day) * 86400 + dt.hour * 3600 + dt.minute * 60 +
         dt.second - std::int64_t{dt.offset_minutes.value_or(0)} * 60;
}

inline std::uint32_t expected_nanos(const std::string& fraction) {
  std::uint32_t ns = 0;
  for (std::size_t i = 0; i < 9; ++i) {
    ns = ns * 10 + (i < fraction.size() ? static_cast<std::uint32_t>(fraction[i] - '0') : 0u);
  }
  return ns;
}

// [lex.format.language]: RFC 5646 section 2.1 grammar, with distinct
// variants and singletons (as the RFC asks of well-formed tags), random case.
struct GeneratedLanguage {
  syn::LanguageTag::Kind kind = syn::LanguageTag::Kind::kLangtag;
  std::string text;
};

inline std::string private_use_part() {
  std::string out = "x";
  std::size_t n = *gen::inRange<std::size_t>(1, 4);
  for (std::size_t i = 0; i < n; ++i) out += "-" + pick_n(kLowerAlnum, length_between(1, 8));
  return out;
}

inline const std::vector<std::string> kGrandfathered = {
    "en-GB-oed", "i-ami",     "i-bnn",     "i-default",  "i-enochian",  "i-hak",  "i-klingon",
    "i-lux",     "i-mingo",   "i-navajo",  "i-pwn",      "i-tao",       "i-tay",  "i-tsu",
    "sgn-BE-FR", "sgn-BE-NL", "sgn-CH-DE", "art-lojban", "cel-gaulish", "no-bok", "no-nyn",
    "zh-guoyu",  "zh-hakka",  "zh-min",    "zh-min-nan", "zh-xiang"};

inline rc::Gen<GeneratedLanguage> gen_language() {
  return gen::exec([] {
    GeneratedLanguage out;
    int kind = *gen::weightedElement<int>({{8, 0}, {1, 1}, {1, 2}});
    if (kind == 1) {
      out.kind = syn::LanguageTag::Kind::kPrivateUse;
      out.text = private_use_part();
    } else if (kind == 2) {
      out.kind = syn::LanguageTag::Kind::kGrandfathered;
      out.text = *gen::elementOf(kGrandfathered);
    } else {
      std::vector<std::string> parts;
      // language = 2*3ALPHA ["-" extlang] / 4ALPHA / 5*8ALPHA
      std::size_t lang_len = *gen::weightedElement<std::size_t>(
          {{8, 2}, {4, 3}, {1, 4}, {1, *gen::inRange<std::size_t>(5, 9)}});
      parts.push_back(pick_n(kLower, lang_len));
      if (lang_len <= 3) {
        std::size_t extlangs = *gen::weightedElement<std::size_t>({{6, 0}, {2, 1}, {1, 2}, {1, 3}});
        for (std::size_t i = 0; i < extlangs; ++i) parts.push_back(pick_n(kLower, 3));
      }
      if (*gen::inRange(0, 3) == 0) parts.push_back(pick_n(kLower, 4));  // script
      if (*gen::arbitrary<bool>()) {                                     // region
        parts.push_back(*gen::arbitrary<bool>() ? pick_n(kLower, 2) : pick_n(kDigits, 3));
      }
      std::set<std::string> seen_variants;
      std::size_t variants = *gen::weightedElement<std::size_t>({{6, 0}, {2, 1}, {1, 2}});
      for (std::size_t i = 0; i < variants; ++i) {
        std::string v = *gen::arbitrary<bool>()
                            ? pick_n(kLowerAlnum, *gen::inRange<std::size_t>(5, 9))
                            : std::string(1, pick(kDigits)) + pick_n(kLowerAlnum, 3);
        if (seen_variants.insert(v).second) parts.push_back(v);
      }
      std::set<char> seen_singletons;
      std::size_t extensions = *gen::weightedElement<std::size_t>({{6, 0}, {2, 1}, {1, 2}});
      for (std::size_t i = 0; i < extensions; ++i) {
        char singleton = pick("0123456789abcdefghijklmnopqrstuvwyz");  // not 'x'
        if (!seen_singletons.insert(singleton).second) continue;
        std::string ext(1, singleton);
        std::size_t n = *gen::inRange<std::size_t>(1, 4);
        for (std::size_t j = 0; j < n; ++j)
          ext += "-" + pick_n(kLowerAlnum, *gen::inRange<std::size_t>(2, 9));
        parts.push_back(ext);
      }
      if (*gen::inRange(0, 4) == 0) parts.push_back(private_use_part());
      out.text = join(parts, '-');
    }
    if (*gen::arbitrary<bool>()) out.text = random_case(out.text);
    return out;
  });
}

// [lex.format.cid]: CIDv1 bytes, multibase 'b' + lowercase RFC 4648 base32.
inline std::string base32_lower(const std::vector<std::uint8_t>& bytes) {
  static constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz234567";
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (std::uint8_t b : bytes) {
    buffer = ((buffer << 8) | b) & 0xffffu;
    bits += 8;
    while (bits >= 5) {
      out += kAlphabet[(buffer >> (bits - 5)) & 31u];
      bits -= 5;
    }
  }
  if (bits > 0) out += kAlphabet[(buffer << (5 - bits)) & 31u];
  return out;
}

inline std::vector<std::uint8_t> gen_cid_bytes() {
  std::vector<std::uint8_t> bytes = {0x01, *gen::element<std::uint8_t>(0x71, 0x55), 0x12, 0x20};
  for (int i = 0; i < 32; ++i) bytes.push_back(*gen::arbitrary<std::uint8_t>());
  return bytes;
}

inline rc::Gen<std::string> gen_cid() {
  return gen::exec([] { return "b" + base32_lower(gen_cid_bytes()); });
}

// [lex.format.uri]: RFC 3986 absolute URIs built from the grammar.
inline rc::Gen<std::string> gen_uri() {
  return gen::exec([] {
    static constexpr std::string_view kUnreserved =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~";
    static constexpr std::string_view kSubDelims = "!$&'()*+,;=";
    std::string pchar_set = std::string(kUnreserved) + std::string(kSubDelims) + ":@";
    auto pchars = [&](std::size_t n) {
      std::string s;
      for (std::size_t i = 0; i < n; ++i) {
        if (*gen::inRange(0, 12) == 0)
          s += "%" + std::string(1, pick("0123456789ABCDEFabcdef")) + pick("0123456789ABCDEF");
        else
          s += pick(pchar_set);
      }
      return s;
    };
    std::string uri(1, pick(kAlpha));
    uri += pick_n(std::string(kAlpha) + std::string(kDigits) + "+-.",
                  *gen::inRange<std::size_t>(0, 8));
    uri += ":";
    if (*gen::arbitrary<bool>()) {
      // "//" authority path-abempty
      uri += "//";
      if (*gen::inRange(0, 4) == 0) uri += pchars(*gen::inRange<std::size_t>(0, 6)) + "@";
      switch (*gen::inRange(0, 6)) {
        case 0:
          uri += "[::1]";
          break;
        case 1:
          uri += "[2001:db8::7]";
          break;
        case 2:
          uri += "192.0.2.16";
          break;
        default: {
          std::string host_set = std::string(kUnreserved) + std::string(kSubDelims);
          uri += pick_n(host_set, *gen::inRange<std::size_t>(0, 20));
        }
      }
      if (*gen::inRange(0, 4) == 0) uri += ":" + pick_n(kDigits, *gen::inRange<std::size_t>(0, 6));
      std::size_t segments = *gen::inRange<std::size_t>(0, 4);
      for (std::size_t i = 0; i < segments; ++i)
        uri += "/" + pchars(*gen::inRange<std::size_t>(0, 10));
      if (uri.size() == uri.find(':') + 3 && *gen::arbitrary<bool>()) uri += "/";
    } else {
      // path-rootless (non-empty first segment), or path-absolute
      if (*gen::arbitrary<bool>()) uri += "/";
      uri += pchars(*gen::inRange<std::size_t>(1, 12));
      std::size_t segments = *gen::inRange<std::size_t>(0, 3);
      for (std::size_t i = 0; i < segments; ++i)
        uri += "/" + pchars(*gen::inRange<std::size_t>(0, 10));
    }
    if (*gen::inRange(0, 3) == 0) uri += "?" + pchars(*gen::inRange<std::size_t>(0, 12)) + "/?";
    if (*gen::inRange(0, 3) == 0) uri += "#" + pchars(*gen::inRange<std::size_t>(0, 12)) + "/?";
    return uri;
  });
}

// A generator of valid strings for a Lexicon string format.
inline rc::Gen<std::string> valid_string(StringFormat format) {
  switch (format) {
    case StringFormat::kAtIdentifier:
      return gen_at_identifier();
    case StringFormat::kAtUri:
      return gen::map(gen_at_uri(), [](const GeneratedAtUri& u) { return u.text(); });
    case StringFormat::kCid:
      return gen_cid();
    case StringFormat::kDatetime:
      return gen::map(gen_datetime(), [](const GeneratedDatetime& d) { return d.text; });
    case StringFormat::kDid:
      return gen_did();
    case StringFormat::kHandle:
      return gen_handle(true);
    case StringFormat::kNsid:
      return gen_nsid();
    case StringFormat::kTid:
      return gen_tid();
    case StringFormat::kRecordKey:
      return gen_record_key();
    case StringFormat::kUri:
      return gen_uri();
    case StringFormat::kLanguage:
      return gen::map(gen_language(), [](const GeneratedLanguage& l) { return l.text; });
  }
  return gen_handle();
}

}  // namespace atproto::syntax::generators

// Property tests for the syntax layer (RapidCheck inside Catch2).
//
// Each identifier type has a generator of VALID values (test_generators.hpp,
// written from the spec grammars, independent of the implementation, shared
// with the conformance runner). The properties check that
// generated values validate, that parsing and formatting round-trip, that
// normalization is idempotent, and that arbitrary byte mutations of valid
// values never crash and (where a simple independent predicate is practical)
// get the same verdict from the implementation as from that predicate.
//
// Run only these with: syntax_tests "[properties]". RC_PARAMS="max_success=N"
// changes the number of cases per property (default 100).
#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "atproto/syntax/at_identifier.hpp"
#include "atproto/syntax/at_uri.hpp"
#include "atproto/syntax/cid.hpp"
#include "atproto/syntax/datetime.hpp"
#include "atproto/syntax/did.hpp"
#include "atproto/syntax/format.hpp"
#include "atproto/syntax/handle.hpp"
#include "atproto/syntax/language.hpp"
#include "atproto/syntax/nsid.hpp"
#include "atproto/syntax/record_key.hpp"
#include "atproto/syntax/test_generators.hpp"
#include "atproto/syntax/tid.hpp"
#include "atproto/syntax/uri.hpp"

// RapidCheck prints counterexamples through showValue, found by ADL.
namespace atproto::syntax::generators {
void showValue(const GeneratedAtUri& uri, std::ostream& os) { os << uri.text(); }
void showValue(const GeneratedDatetime& dt, std::ostream& os) { os << dt.text; }
void showValue(const GeneratedLanguage& tag, std::ostream& os) { os << tag.text; }
}  // namespace atproto::syntax::generators

namespace {

namespace gen = rc::gen;
namespace syn = atproto::syntax;
using namespace atproto::syntax::generators;  // NOLINT: generators and helpers

// ---------------------------------------------------------------------------
// Independent predicates, written straight from the spec's rule lists.

// [tid.syntax.length] [tid.syntax.charset] [tid.syntax.first-char]
bool simple_is_tid(std::string_view s) {
  if (s.size() != 13) return false;
  if (!in("234567abcdefghij", s[0])) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return in(kBase32Sortable, c); });
}

// The 65-bit base32-sortable number of a 13-char TID, modulo 2^64.
std::uint64_t simple_tid_value(std::string_view s) {
  std::uint64_t v = 0;
  for (char c : s) v = (v << 5) | static_cast<std::uint64_t>(kBase32Sortable.find(c));
  return v;
}

// [rkey.syntax.chars] [rkey.syntax.length] [rkey.syntax.not-dot]
bool simple_is_record_key(std::string_view s) {
  if (s.empty() || s.size() > 512 || s == "." || s == "..") return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return in(kRecordKeyChars, c); });
}

bool simple_is_dns_label(std::string_view label) {
  if (label.empty() || label.size() > 63) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  return std::all_of(label.begin(), label.end(), [](char c) { return in(kAlnum, c) || c == '-'; });
}

// [handle.syntax.*]
bool simple_is_handle(std::string_view s) {
  if (s.size() > 253) return false;
  auto labels = split(s, '.');
  if (labels.size() < 2) return false;
  for (auto label : labels) {
    if (!simple_is_dns_label(label)) return false;
  }
  return !in(kDigits, labels.back().front());
}

// [nsid.syntax.*] [nsid.authority.*] [nsid.name.*]
bool simple_is_nsid(std::string_view s) {
  if (s.size() > 317) return false;
  auto segments = split(s, '.');
  if (segments.size() < 3) return false;
  std::size_t authority_len = s.size() - segments.back().size() - 1;
  if (authority_len > 253) return false;
  for (std::size_t i = 0; i + 1 < segments.size(); ++i) {
    if (!simple_is_dns_label(segments[i])) return false;
  }
  if (in(kDigits, segments.front().front())) return false;
  auto name = segments.back();
  if (name.empty() || name.size() > 63 || !in(kAlpha, name.front())) return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return in(kAlnum, c); });
}

// [did.syntax.*]
bool simple_is_did(std::string_view s) {
  if (s.size() > 2048 || s.substr(0, 4) != "did:") return false;
  std::size_t colon = s.find(':', 4);
  if (colon == std::string_view::npos || colon == 4) return false;
  for (std::size_t i = 4; i < colon; ++i) {
    if (!in(kLower, s[i])) return false;
  }
  std::string_view id = s.substr(colon + 1);
  if (id.empty() || id.back() == ':' || id.back() == '%') return false;
  return std::all_of(id.begin(), id.end(), [](char c) { return in(kAlnum, c) || in("._:%-", c); });
}

// [did.plc.syntax]
bool simple_is_did_plc(std::string_view s) {
  if (s.size() != 32 || s.substr(0, 8) != "did:plc:") return false;
  return std::all_of(s.begin() + 8, s.end(),
                     [](char c) { return in("abcdefghijklmnopqrstuvwxyz234567", c); });
}

}  // namespace

// ===========================================================================
// Handles

TEST_CASE("properties: handle", "[properties][handle]") {
  // [handle.syntax.segments] [handle.syntax.segment-length] [handle.syntax.segment-chars]
  // [handle.syntax.segment-hyphen] [handle.syntax.tld-not-digit] [handle.syntax.max-length]
  rc::prop("generated handles validate", [] {
    std::string h = *gen_handle(true);
    RC_ASSERT(syn::validate_handle(h).ok());
    RC_ASSERT(simple_is_handle(h));
    RC_ASSERT(syn::validate_string_format(syn::StringFormat::kHandle, h).ok());
  });

  // [handle.normalize.lowercase]
  rc::prop("uppercase variants validate and normalize back", [] {
    std::string lower = *gen_handle(false);
    std::string mixed = random_case(lower);
    RC_ASSERT(syn::validate_handle(mixed).ok());
    RC_ASSERT(syn::normalize_handle(mixed) == lower);
    auto parsed = syn::parse_handle(mixed);
    RC_ASSERT(parsed.ok());
    RC_ASSERT(*parsed == lower);
  });

  rc::prop("normalize is idempotent", [] {
    std::string h = *gen_handle(true);
    std::string once = syn::normalize_handle(h);
    RC_ASSERT(syn::validate_handle(once).ok());
    RC_ASSERT(syn::normalize_handle(once) == once);
    RC_ASSERT(equals_ignore_case(once, h));
  });

  // [handle.syntax.reserved-tld-passes] [handle.disallowed-tld]
  rc::prop("reserved TLDs pass syntax but fail use", [] {
    std::string tld =
        *gen::elementOf(std::vector<std::string>(kDisallowedTlds.begin(), kDisallowedTlds.end()));
    std::string h = random_case(*gen_handle(false) + "." + tld);
    RC_PRE(h.size() <= syn::kHandleMaxLength);
    RC_ASSERT(syn::validate_handle(h).ok());
    RC_ASSERT(syn::has_disallowed_tld(h));
    RC_ASSERT(!syn::check_handle_usable(h).ok());
  });

  rc::prop("mutations agree with a simple predicate", [] {
    std::string m = mutate(*gen_handle(true));
    auto v = syn::validate_handle(m);
    RC_ASSERT(v.ok() == simple_is_handle(m));
    auto p = syn::parse_handle(m);
    RC_ASSERT(p.ok() == v.ok());
    if (!v.ok()) RC_ASSERT(v.error().code.rfind("handle.syntax.", 0) == 0);
    if (p.ok()) RC_ASSERT(*p == lowercase(m));
    // Usable for registration implies valid syntax.
    if (syn::check_handle_usable(m).ok()) RC_ASSERT(v.ok());
  });
}

// ===========================================================================
// DIDs

TEST_CASE("properties: did", "[properties][did]") {
  // [did.syntax.prefix] [did.syntax.method] [did.syntax.identifier] [did.syntax.chars]
  rc::prop("generated DIDs validate and round-trip", [] {
    std::string d = *gen_did();
    RC_ASSERT(syn::validate_did(d).ok());
    RC_ASSERT(syn::validate_string_format(syn::StringFormat::kDid, d).ok());
    auto parsed = syn::parse_did(d);
    RC_ASSERT(parsed.ok());
    RC_ASSERT(parsed->to_string() == d);
    RC_ASSERT(d.rfind("did:" + parsed->method + ":", 0) == 0);
  });

  // [did.plc.syntax] [did.method.blessed]
  rc::prop("generated did:plc validate", [] {
    std::string d = *gen_did_plc();
    RC_ASSERT(syn::validate_did_plc(d).ok());
    RC_ASSERT(syn::check_did_supported(d).ok());
    auto parsed = syn::parse_did(d);
    RC_ASSERT(parsed.ok());
    RC_ASSERT(parsed->method == "plc");
    RC_ASSERT(parsed->identifier == d.substr(8));
  });

  // [did.web.hostname-only] [did.web.disallowed-tld]
  rc::prop("generated did:web validate", [] {
    std::string d = *gen_did_web();
    RC_ASSERT(syn::validate_did_web(d).ok());
    RC_ASSERT(syn::check_did_supported(d).ok());
    RC_ASSERT(syn::parse_did(d)->method == "web");
  });

  // [did.web.localhost-port]
  rc::prop("did:web localhost ports need the development policy", [] {
    std::string d = "did:web:localhost%3A" + std::to_string(*gen::inRange(1, 65536));
    RC_ASSERT(syn::validate_did(d).ok());
    RC_ASSERT(syn::validate_did_web(d, syn::DidWebPolicy{true}).ok());
    RC_ASSERT(!syn::validate_did_web(d, syn::DidWebPolicy{false}).ok());
    std::string host = *gen_did_web() + "%3A" + std::to_string(*gen::inRange(1, 65536));
    RC_ASSERT(!syn::validate_did_web(host, syn::DidWebPolicy{true}).ok());
  });

  // [did.method.blessed]: other methods are valid syntax but unsupported.
  rc::prop("non-blessed methods validate but are unsupported", [] {
    std::string d = *gen_did_generic();
    auto parsed = syn::parse_did(d);
    RC_ASSERT(parsed.ok());
    RC_PRE(parsed->method != "plc" && parsed->method != "web");
    RC_ASSERT(syn::validate_did(d).ok());
    RC_ASSERT(!syn::check_did_supported(d).ok());
  });

  rc::prop("mutations agree with a simple predicate", [] {
    std::string m = mutate(*gen_did());
    auto v = syn::validate_did(m);
    RC_ASSERT(v.ok() == simple_is_did(m));
    auto p = syn::parse_did(m);
    RC_ASSERT(p.ok() == v.ok());
    if (p.ok()) RC_ASSERT(p->to_string() == m);
    if (!v.ok()) RC_ASSERT(v.error().code.rfind("did.", 0) == 0);
    RC_ASSERT(syn::validate_did_plc(m).ok() == simple_is_did_plc(m));
    if (syn::validate_did_web(m, syn::DidWebPolicy{true}).ok()) RC_ASSERT(v.ok());
    if (syn::check_did_supported(m).ok()) RC_ASSERT(v.ok());
  });
}

// ===========================================================================
// NSIDs

TEST_CASE("properties: nsid", "[properties][nsid]") {
  // [nsid.syntax.*] [nsid.authority.*] [nsid.name.*]
  rc::prop("generated NSIDs validate and round-trip", [] {
    std::string n = *gen_nsid();
    RC_ASSERT(syn::validate_nsid(n).ok());
    RC_ASSERT(simple_is_nsid(n));
    auto parsed = syn::parse_nsid(n);
    RC_ASSERT(parsed.ok());
    RC_ASSERT(parsed->to_string() == n);
    RC_ASSERT(parsed->segments.size() >= 3u);
    RC_ASSERT(n.substr(n.rfind('.') + 1) == parsed->name());
  });

  // [nsid.authority.normalize] [nsid.name.case-sensitive]
  rc::prop("normalize lowercases the authority only and is idempotent", [] {
    std::string n = *gen_nsid();
    std::string norm = syn::normalize_nsid(n);
    std::size_t dot = n.rfind('.');
    RC_ASSERT(norm == lowercase(n.substr(0, dot)) + n.substr(dot));
    RC_ASSERT(syn::validate_nsid(norm).ok());
    RC_ASSERT(syn::normalize_nsid(norm) == norm);
  });

  rc::prop("authority_domain reverses the authority", [] {
    std::string n = *gen_nsid();
    auto parsed = syn::parse_nsid(n);
    RC_ASSERT(parsed.ok());
    auto segs = parsed->segments;
    segs.pop_back();
    std::reverse(segs.begin(), segs.end());
    RC_ASSERT(parsed->authority_domain() == join(segs, '.'));
  });

  // [nsid.glob]
  rc::prop("prefix globs match their NSIDs", [] {
    std::string n = *gen_nsid();
    auto segs = split(n, '.');
    std::size_t keep = *gen::inRange<std::size_t>(1, segs.size());
    std::string prefix;
    for (std::size_t i = 0; i < keep; ++i) prefix += std::string(segs[i]) + ".";
    std::string glob = prefix + "*";
    RC_ASSERT(syn::validate_nsid_glob(glob).ok());
    RC_ASSERT(syn::nsid_glob_matches(glob, n));
    RC_ASSERT(syn::nsid_glob_matches("*", n));
    RC_ASSERT(syn::nsid_glob_matches(n, n));
  });

  rc::prop("mutations agree with a simple predicate", [] {
    std::string m = mutate(*gen_nsid());
    auto v = syn::validate_nsid(m);
    RC_ASSERT(v.ok() == simple_is_nsid(m));
    auto p = syn::parse_nsid(m);
    RC_ASSERT(p.ok() == v.ok());
    if (p.ok()) RC_ASSERT(p->to_string() == m);
    if (!v.ok()) RC_ASSERT(v.error().code.rfind("nsid.", 0) == 0);
    (void)syn::validate_nsid_glob(m);
    (void)syn::nsid_glob_matches(m, "com.example.fooBar");
  });
}

// ===========================================================================
// AT URIs

TEST_CASE("properties: at-uri", "[properties][at-uri]") {
  // [aturi.syntax.scheme] [aturi.authority.identifier] [aturi.path.collection]
  // [aturi.path.record-key]
  rc::prop("generated AT URIs validate and round-trip", [] {
    GeneratedAtUri g = *gen_at_uri();
    std::string text = g.text();
    RC_ASSERT(syn::validate_at_uri(text).ok());
    auto parsed = syn::parse_at_uri(text);
    RC_ASSERT(parsed.ok());
    RC_ASSERT(parsed->authority == g.authority);
    RC_ASSERT(parsed->collection == g.collection);
    RC_ASSERT(parsed->record_key == g.record_key);
    RC_ASSERT(parsed->to_string() == text);
    RC_ASSERT(parsed->authority_is_did() == (g.authority.rfind("did:", 0) == 0));
    auto general = syn::parse_at_uri_general(text);
    RC_ASSERT(general.ok());
    RC_ASSERT(general->authority == g.authority);
  });

  // [aturi.normalize]
  rc::prop("normalize lowercases handle and NSID authority, and is idempotent", [] {
    GeneratedAtUri g = *gen_at_uri();
    auto parsed = syn::parse_at_uri(g.text());
    RC_ASSERT(parsed.ok());
    std::string norm = syn::normalize_at_uri(*parsed);
    GeneratedAtUri expected = g;
    if (g.authority.rfind("did:", 0) != 0) expected.authority = lowercase(g.authority);
    if (g.collection) expected.collection = syn::normalize_nsid(*g.collection);
    RC_ASSERT(norm == expected.text());
    auto reparsed = syn::parse_at_uri(norm);
    RC_ASSERT(reparsed.ok());
    RC_ASSERT(syn::normalize_at_uri(*reparsed) == norm);
  });

  // The restricted form is exactly: scheme, an at-identifier, then an
  // optional NSID and an optional record key, within 8 KiB.
  rc::prop("mutations agree with the component validators", [] {
    std::string m = mutate((*gen_at_uri()).text());
    auto v = syn::validate_at_uri(m);
    auto p = syn::parse_at_uri(m);
    RC_ASSERT(p.ok() == v.ok());
    if (!v.ok()) RC_ASSERT(v.error().code.rfind("aturi.", 0) == 0);
    if (p.ok()) {
      RC_ASSERT(p->to_string() == m);
      std::string norm = syn::normalize_at_uri(*p);
      RC_ASSERT(syn::validate_at_uri(norm).ok());
      RC_ASSERT(syn::parse_at_uri_general(m).ok());
    }
    bool expected = false;
    if (m.size() <= syn::kAtUriMaxLength && m.rfind("at://", 0) == 0) {
      auto parts = split(std::string_view(m).substr(5), '/');
      expected = parts.size() <= 3 && syn::validate_at_identifier(parts[0]).ok() &&
                 (parts.size() < 2 || syn::validate_nsid(parts[1]).ok()) &&
                 (parts.size() < 3 || syn::validate_record_key(parts[2]).ok());
    }
    RC_ASSERT(v.ok() == expected);
  });
}

// Counterexamples the properties and fuzzers found, kept as fixed cases so a
// failure does not depend on the random seed.
TEST_CASE("properties: at-uri regressions", "[properties][at-uri]") {
  // The general form accepts everything the restricted form accepts, and an
  // AT URI is a URI. A DID authority with malformed percent-encoding once
  // broke both (the DID syntax lets '%' through; URI syntax does not).
  for (std::string_view uri :
       {"at://did:x:a%zz", "at://did:web:local1Ao%sth3234/com.example.foo/self",
        "at://did:x:a%41/com.example.foo"}) {
    INFO(uri);
    if (syn::validate_at_uri(uri).ok()) {
      CHECK(syn::parse_at_uri_general(uri).ok());
      CHECK(syn::validate_uri(uri).ok());
    }
  }
}

// ===========================================================================
// TIDs

TEST_CASE("properties: tid", "[properties][tid]") {
  // [tid.syntax.length] [tid.syntax.charset] [tid.syntax.first-char]
  rc::prop("generated TIDs validate", [] {
    std::string t = *gen_tid();
    RC_ASSERT(syn::validate_tid(t).ok());
    RC_ASSERT(syn::validate_string_format(syn::StringFormat::kTid, t).ok());
    RC_ASSERT(syn::validate_record_key_type(t, "tid").ok());
  });

  // [tid.structure.encoding] [tid.structure.layout]
  rc::prop("integer and parts round-trip", [] {
    std::string t = *gen_tid_small();
    auto value = syn::tid_to_integer(t);
    RC_ASSERT(value.ok());
    RC_ASSERT(*value == simple_tid_value(t));
    RC_ASSERT(*syn::tid_from_integer(*value) == t);
    auto parts = syn::decode_tid(t);
    RC_ASSERT(parts.ok());
    RC_ASSERT(parts->timestamp_us == (*value >> 10));
    RC_ASSERT(parts->clock_id == (*value & 1023u));
    RC_ASSERT(*syn::encode_tid(*parts) == t);
  });

  rc::prop("conversions of any valid TID are consistent when they succeed", [] {
    std::string t = *gen_tid();
    auto value = syn::tid_to_integer(t);
    if (value.ok()) {
      RC_ASSERT(*value == simple_tid_value(t));
      RC_ASSERT((*value >> 63) == 0u);  // bit 63 is reserved
      auto back = syn::tid_from_integer(*value);
      RC_ASSERT(back.ok());
      RC_ASSERT(*back == t);
    }
    auto parts = syn::decode_tid(t);
    if (parts.ok()) {
      RC_ASSERT(parts->timestamp_us <= syn::kTidMaxTimestamp);
      auto back = syn::encode_tid(*parts);
      RC_ASSERT(back.ok());
      RC_ASSERT(*back == t);
    }
  });

  // [tid.syntax.first-char] [tid.structure.layout]: first characters c-j
  // pass the syntax but set the reserved bit 63, so they have no integer or
  // timestamp reading.
  rc::prop("first characters c-j validate but have no integer reading", [] {
    std::string t =
        std::string(1, *gen::elementOf(std::string("cdefghij"))) + pick_n(kBase32Sortable, 12);
    RC_ASSERT(syn::validate_tid(t).ok());
    auto value = syn::tid_to_integer(t);
    RC_ASSERT(!value.ok());
    RC_ASSERT(value.error().code == "tid.structure.layout");
    auto parts = syn::decode_tid(t);
    RC_ASSERT(!parts.ok());
    RC_ASSERT(parts.error().code == "tid.structure.layout");
    RC_ASSERT(!syn::tid_from_integer(simple_tid_value(t)).ok());
  });

  // [tid.structure.layout]
  rc::prop("encode of in-range parts validates and decodes back", [] {
    syn::TidParts parts{*gen::inRange<std::uint64_t>(0, syn::kTidMaxTimestamp + 1),
                        *gen::inRange<std::uint32_t>(0, syn::kTidMaxClockId + 1)};
    auto t = syn::encode_tid(parts);
    RC_ASSERT(t.ok());
    RC_ASSERT(simple_is_tid(*t));
    RC_ASSERT(syn::validate_tid(*t).ok());
    RC_ASSERT(*syn::decode_tid(*t) == parts);
  });

  rc::prop("integers with the top bit clear round-trip", [] {
    std::uint64_t v = *gen::arbitrary<std::uint64_t>() >> 1;
    auto t = syn::tid_from_integer(v);
    RC_ASSERT(t.ok());
    RC_ASSERT(syn::validate_tid(*t).ok());
    RC_ASSERT(*syn::tid_to_integer(*t) == v);
    RC_ASSERT(!syn::tid_from_integer(v | (std::uint64_t{1} << 63)).ok());
  });

  // [tid.structure.encoding]: string order is integer order is (timestamp, clock id) order.
  rc::prop("string order equals timestamp and integer order", [] {
    auto gen_parts = gen::exec([] {
      return syn::TidParts{
          *gen::weightedElement<std::uint64_t>(
              {{3, *gen::inRange<std::uint64_t>(0, syn::kTidMaxTimestamp + 1)},
               {1, *gen::inRange<std::uint64_t>(1'700'000'000'000'000, 1'700'000'000'000'100)}}),
          *gen::inRange<std::uint32_t>(0, syn::kTidMaxClockId + 1)};
    });
    syn::TidParts a = *gen_parts;
    syn::TidParts b = *gen::oneOf(
        gen_parts, gen::just(syn::TidParts{a.timestamp_us, *gen::inRange<std::uint32_t>(0, 1024)}));
    std::string ta = *syn::encode_tid(a);
    std::string tb = *syn::encode_tid(b);
    auto key = [](const syn::TidParts& p) { return std::pair(p.timestamp_us, p.clock_id); };
    RC_ASSERT((ta < tb) == (key(a) < key(b)));
    RC_ASSERT((ta == tb) == (key(a) == key(b)));
    RC_ASSERT((ta < tb) == (*syn::tid_to_integer(ta) < *syn::tid_to_integer(tb)));
    if (a.timestamp_us != b.timestamp_us) RC_ASSERT((ta < tb) == (a.timestamp_us < b.timestamp_us));
  });

  // [tid.generator.monotonic]
  rc::prop("generator output strictly increases for any clock readings", [] {
    std::uint32_t clock_id = *gen::inRange<std::uint32_t>(0, syn::kTidMaxClockId + 1);
    syn::TidGenerator generator(clock_id);
    RC_ASSERT(generator.clock_id() == clock_id);
    std::uint64_t base = *gen::inRange<std::uint64_t>(0, std::uint64_t{1} << 52);
    auto readings = *gen::container<std::vector<std::uint64_t>>(gen::weightedOneOf<std::uint64_t>({
        {3, gen::inRange<std::uint64_t>(base, base + 5)},  // stalls and small steps back
        {2, gen::inRange<std::uint64_t>(base, base + 1'000'000)},
        {1, gen::inRange<std::uint64_t>(0, base + 1)},  // big steps back
        {1, gen::just(base)},
    }));
    std::string previous;
    for (std::uint64_t now : readings) {
      auto issued = generator.next_at(now);
      RC_ASSERT(issued.ok());
      const std::string& t = *issued;
      RC_ASSERT(syn::validate_tid(t).ok());
      RC_ASSERT(t > previous);
      auto parts = syn::decode_tid(t);
      RC_ASSERT(parts.ok());
      RC_ASSERT(parts->clock_id == clock_id);
      RC_ASSERT(parts->timestamp_us >= now);  // never behind the clock
      previous = t;
    }
  });

  // [tid.generator.monotonic]: readings past the 53-bit range are clamped,
  // and once the largest timestamp is issued the generator refuses to repeat.
  rc::prop("generator clamps and then stops at the largest timestamp", [] {
    syn::TidGenerator generator(*gen::inRange<std::uint32_t>(0, syn::kTidMaxClockId + 1));
    std::uint64_t near_end = syn::kTidMaxTimestamp - *gen::inRange<std::uint64_t>(0, 4);
    std::string previous;
    for (std::uint64_t ts = near_end; ts <= syn::kTidMaxTimestamp; ++ts) {
      auto t = generator.next_at(ts);
      RC_ASSERT(t.ok());
      RC_ASSERT(*t > previous);
      previous = *t;
    }
    RC_ASSERT(syn::decode_tid(previous)->timestamp_us == syn::kTidMaxTimestamp);
    std::uint64_t later = syn::kTidMaxTimestamp + *gen::inRange<std::uint64_t>(0, 1000);
    auto refused = generator.next_at(*gen::element(later, std::uint64_t{0}, ~std::uint64_t{0}));
    RC_ASSERT(!refused.ok());
    RC_ASSERT(refused.error().code == "tid.generator.monotonic");

    syn::TidGenerator fresh(1);
    auto clamped = fresh.next_at(~std::uint64_t{0});
    RC_ASSERT(clamped.ok());
    RC_ASSERT(syn::decode_tid(*clamped)->timestamp_us == syn::kTidMaxTimestamp);
  });

  // [tid.generator.monotonic] [tid.generator.clock-id]
  rc::prop("system clock generator is monotonic and near the clock", [] {
    syn::TidGenerator generator;
    RC_ASSERT(generator.clock_id() <= syn::kTidMaxClockId);
    auto now_us =
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count());
    std::string previous;
    int count = *gen::inRange(1, 200);
    for (int i = 0; i < count; ++i) {
      std::string t = generator.next();
      RC_ASSERT(t > previous);
      previous = t;
    }
    auto parts = syn::decode_tid(previous);
    RC_ASSERT(parts.ok());
    RC_ASSERT(parts->clock_id == generator.clock_id());
    std::uint64_t ten_minutes = 600'000'000;
    RC_ASSERT(parts->timestamp_us + ten_minutes > now_us);
    RC_ASSERT(parts->timestamp_us < now_us + ten_minutes);
  });

  rc::prop("mutations agree with a simple predicate", [] {
    std::string m = mutate(*gen_tid());
    auto v = syn::validate_tid(m);
    RC_ASSERT(v.ok() == simple_is_tid(m));
    if (!v.ok()) {
      RC_ASSERT(v.error().code.rfind("tid.syntax.", 0) == 0);
      RC_ASSERT(!syn::tid_to_integer(m).ok());
      RC_ASSERT(!syn::decode_tid(m).ok());
    }
    RC_ASSERT(syn::validate_record_key_type(m, "tid").ok() == v.ok());
  });
}

// ===========================================================================
// Record keys

TEST_CASE("properties: record-key", "[properties][record-key]") {
  // [rkey.syntax.chars] [rkey.syntax.length] [rkey.syntax.not-dot] [rkey.type.any]
  rc::prop("generated record keys validate", [] {
    std::string k = *gen_record_key();
    RC_ASSERT(syn::validate_record_key(k).ok());
    RC_ASSERT(syn::validate_record_key_type(k, "any").ok());
    RC_ASSERT(syn::validate_string_format(syn::StringFormat::kRecordKey, k).ok());
  });

  // [rkey.type.literal]
  rc::prop("literal types accept exactly their value", [] {
    std::string k = *gen_record_key();
    std::string other = *gen_record_key();
    RC_ASSERT(syn::validate_record_key_type(k, "literal:" + k).ok());
    RC_ASSERT(syn::validate_record_key_type(other, "literal:" + k).ok() == (other == k));
  });

  // [rkey.type.nsid] [rkey.type.tid]
  rc::prop("nsid and tid key types", [] {
    std::string n = *gen_nsid();
    RC_ASSERT(syn::validate_record_key_type(n, "nsid").ok());
    RC_ASSERT(syn::validate_record_key(*gen_tid()).ok());
    RC_ASSERT(syn::validate_record_key_type(*gen_tid(), "tid").ok());
  });

  rc::prop("mutations agree with a simple predicate", [] {
    std::string m = mutate(*gen_record_key());
    auto v = syn::validate_record_key(m);
    RC_ASSERT(v.ok() == simple_is_record_key(m));
    if (!v.ok()) RC_ASSERT(v.error().code.rfind("rkey.syntax.", 0) == 0);
    RC_ASSERT(syn::validate_record_key_type(m, "any").ok() == v.ok());
    RC_ASSERT(syn::validate_record_key_type(m, "nsid").ok() == (v.ok() && simple_is_nsid(m)));
    RC_ASSERT(syn::validate_record_key_type(m, "tid").ok() == simple_is_tid(m));
  });
}

// ===========================================================================
// Datetimes

TEST_CASE("properties: datetime", "[properties][datetime]") {
  // [lex.format.datetime.syntax] [lex.format.datetime.separator] [lex.format.datetime.seconds]
  // [lex.format.datetime.timezone] [lex.format.datetime.semantics]
  rc::prop("generated datetimes validate and parse to the right instant", [] {
    GeneratedDatetime g = *gen_datetime();
    RC_ASSERT(syn::validate_datetime(g.text).ok());
    auto parsed = syn::parse_datetime(g.text);
    RC_ASSERT(parsed.ok());
    RC_ASSERT(parsed->epoch_seconds == expected_epoch(g));
    RC_ASSERT(parsed->fraction == g.fraction);
    RC_ASSERT(parsed->offset_minutes == g.offset_minutes.value_or(0));
    RC_ASSERT(parsed->nanoseconds() == expected_nanos(g.fraction));
  });

  // [lex.format.datetime.normalize]
  rc::prop("normalized form parses to the same instant and is idempotent", [] {
    GeneratedDatetime g = *gen_datetime();
    auto parsed = syn::parse_datetime(g.text);
    RC_ASSERT(parsed.ok());
    auto norm = syn::normalize_datetime(g.text);
    RC_ASSERT(norm.ok());
    RC_ASSERT(*norm == syn::format_datetime(*parsed));
    RC_ASSERT(syn::validate_datetime(*norm).ok());
    RC_ASSERT(norm->back() == 'Z');
    auto reparsed = syn::parse_datetime(*norm);
    RC_ASSERT(reparsed.ok());
    RC_ASSERT(reparsed->epoch_seconds == parsed->epoch_seconds);
    RC_ASSERT(reparsed->nanoseconds() == parsed->nanoseconds());
    RC_ASSERT(reparsed->offset_minutes == 0);
    std::string padded = g.fraction;
    if (padded.size() < 3) padded.resize(3, '0');
    RC_ASSERT(reparsed->fraction == padded);
    RC_ASSERT(*syn::normalize_datetime(*norm) == *norm);
    // Already-normal input (Z, at least millisecond digits) is unchanged.
    if (!g.offset_minutes && g.fraction.size() >= 3) RC_ASSERT(*norm == g.text);
  });

  // [lex.format.datetime.timezone]
  rc::prop("negative zero offset and lowercase markers are rejected", [] {
    GeneratedDatetime g = *gen_datetime();
    std::string base = g.text.substr(0, g.text.find_first_of("Z+-", 19));
    RC_ASSERT(!syn::validate_datetime(base).ok());  // no timezone
    RC_ASSERT(!syn::validate_datetime(base + "-00:00").ok());
    RC_ASSERT(!syn::validate_datetime(base + "z").ok());
    std::string lower_t = g.text;
    lower_t[10] = 't';
    RC_ASSERT(!syn::validate_datetime(lower_t).ok());  // [lex.format.datetime.separator]
  });

  rc::prop("mutations keep validate, parse and normalize consistent", [] {
    std::string m = mutate((*gen_datetime()).text);
    auto v = syn::validate_datetime(m);
    auto p = syn::parse_datetime(m);
    auto n = syn::normalize_datetime(m);
    RC_ASSERT(p.ok() == v.ok());
    RC_ASSERT(n.ok() == v.ok());
    if (!v.ok()) RC_ASSERT(v.error().code.rfind("lex.format.datetime.", 0) == 0);
    if (n.ok()) {
      RC_ASSERT(syn::validate_datetime(*n).ok());
      RC_ASSERT(syn::parse_datetime(*n)->epoch_seconds == p->epoch_seconds);
    }
  });
}

// ===========================================================================
// Languages

TEST_CASE("properties: language", "[properties][language]") {
  // [lex.format.language]
  rc::prop("generated language tags validate and parse into their parts", [] {
    GeneratedLanguage g = *gen_language();
    RC_ASSERT(syn::validate_language(g.text).ok());
    RC_ASSERT(syn::validate_string_format(syn::StringFormat::kLanguage, g.text).ok());
    auto parsed = syn::parse_language(g.text);
    RC_ASSERT(parsed.ok());
    RC_ASSERT(parsed->kind == g.kind);
    if (g.kind == syn::LanguageTag::Kind::kLangtag) {
      std::vector<std::string> parts = {parsed->language};
      if (!parsed->script.empty()) parts.push_back(parsed->script);
      if (!parsed->region.empty()) parts.push_back(parsed->region);
      for (const auto& v : parsed->variants) parts.push_back(v);
      for (const auto& e : parsed->extensions) parts.push_back(e);
      if (!parsed->private_use.empty()) parts.push_back(parsed->private_use);
      RC_ASSERT(equals_ignore_case(join(parts, '-'), g.text));
    } else if (g.kind == syn::LanguageTag::Kind::kPrivateUse) {
      RC_ASSERT(equals_ignore_case(parsed->private_use, g.text));
    }
  });

  rc::prop("mutations keep validate and parse consistent", [] {
    std::string m = mutate((*gen_language()).text);
    auto v = syn::validate_language(m);
    RC_ASSERT(syn::parse_language(m).ok() == v.ok());
    if (!v.ok()) RC_ASSERT(v.error().code == "lex.format.language");
  });
}

// ===========================================================================
// CIDs

TEST_CASE("properties: cid", "[properties][cid]") {
  // [lex.format.cid]
  rc::prop("generated CIDs validate", [] {
    std::string c = *gen_cid();
    RC_ASSERT(c.size() == 59u);
    RC_ASSERT(syn::validate_cid_string(c).ok());
    RC_ASSERT(syn::validate_string_format(syn::StringFormat::kCid, c).ok());
  });

  rc::prop("a wrong header byte or digest length is rejected", [] {
    auto bytes = gen_cid_bytes();
    switch (*gen::inRange(0, 4)) {
      case 0: {  // header byte: version, codec, hash code or digest length
        std::size_t i = *gen::inRange<std::size_t>(0, 4);
        std::uint8_t b = *gen::suchThat(gen::arbitrary<std::uint8_t>(), [&](std::uint8_t x) {
          return x != bytes[i] && !(i == 1 && (x == 0x71 || x == 0x55));
        });
        bytes[i] = b;
        break;
      }
      case 1:
        bytes.pop_back();
        break;  // 31-byte digest
      case 2:
        bytes.push_back(*gen::arbitrary<std::uint8_t>());
        break;  // trailing byte
      default:
        bytes.erase(bytes.begin());
        break;  // no version
    }
    RC_ASSERT(!syn::validate_cid_string("b" + base32_lower(bytes)).ok());
  });

  rc::prop("other multibase prefixes and uppercase are rejected", [] {
    std::string c = *gen_cid();
    std::string upper = c;
    for (char& ch : upper) {
      if (ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 'a' + 'A');
    }
    RC_ASSERT(!syn::validate_cid_string(upper).ok());
    RC_ASSERT(!syn::validate_cid_string(c.substr(1)).ok());
    RC_ASSERT(!syn::validate_cid_string("z" + c.substr(1)).ok());
  });

  rc::prop("mutations never crash and report lex.format.cid", [] {
    std::string m = mutate(*gen_cid());
    auto v = syn::validate_cid_string(m);
    if (!v.ok()) RC_ASSERT(v.error().code == "lex.format.cid");
    if (v.ok()) RC_ASSERT(m.size() == 59u && m[0] == 'b');
  });
}

// ===========================================================================
// URIs and at-identifiers

TEST_CASE("properties: uri", "[properties][uri]") {
  // [lex.format.uri]
  rc::prop("generated URIs validate", [] {
    std::string u = *gen_uri();
    RC_ASSERT(syn::validate_uri(u).ok());
    RC_ASSERT(syn::validate_string_format(syn::StringFormat::kUri, u).ok());
  });

  rc::prop("AT URIs are URIs", [] { RC_ASSERT(syn::validate_uri((*gen_at_uri()).text()).ok()); });

  rc::prop("mutations never crash; valid results keep the URI shape", [] {
    std::string m = mutate(*gen_uri());
    auto v = syn::validate_uri(m);
    if (!v.ok()) {
      RC_ASSERT(v.error().code == "lex.format.uri");
      return;
    }
    std::size_t colon = m.find(':');
    RC_ASSERT(colon != std::string::npos && colon > 0 && colon + 1 < m.size());
    RC_ASSERT(in(kAlpha, m[0]));
    RC_ASSERT(std::all_of(m.begin(), m.end(), [](char c) {
      auto u = static_cast<unsigned char>(c);
      return u > 0x20 && u < 0x7f;
    }));
  });
}

TEST_CASE("properties: at-identifier", "[properties][at-identifier]") {
  // [lex.format.at-identifier]
  rc::prop("generated at-identifiers validate", [] {
    std::string id = *gen_at_identifier();
    RC_ASSERT(syn::validate_at_identifier(id).ok());
    RC_ASSERT(syn::validate_string_format(syn::StringFormat::kAtIdentifier, id).ok());
  });

  rc::prop("mutations are judged as a DID or a handle", [] {
    std::string m = mutate(*gen_at_identifier());
    bool expected =
        m.rfind("did:", 0) == 0 ? syn::validate_did(m).ok() : syn::validate_handle(m).ok();
    RC_ASSERT(syn::validate_at_identifier(m).ok() == expected);
  });
}

// Test support, not implementation: RapidCheck generators of data model
// values, written from the data model's kinds (valid UTF-8 strings, any
// int64, bytes, blessed CIDs, nested arrays and maps). Shared by the data
// property tests and the conformance runner's data properties.
#pragma once

#include <rapidcheck.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "atproto/data/cid.hpp"
#include "atproto/data/value.hpp"

namespace atproto::data::generators {

namespace gen = rc::gen;

inline void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

// Valid UTF-8: code points outside the surrogate range, mostly ASCII.
inline rc::Gen<std::string> utf8_string() {
  auto code_point = gen::weightedOneOf<std::uint32_t>({
      {6, gen::inRange<std::uint32_t>(0x20, 0x7f)},
      {1, gen::inRange<std::uint32_t>(0, 0xd800)},
      {1, gen::inRange<std::uint32_t>(0xe000, 0x110000)},
  });
  return gen::map(gen::container<std::vector<std::uint32_t>>(code_point),
                  [](const std::vector<std::uint32_t>& cps) {
                    std::string s;
                    for (auto cp : cps) append_utf8(s, cp);
                    return s;
                  });
}

// Map keys: short, so that equal lengths and shared prefixes are common; never
// starting with '$' (reserved names such as $link would change JSON meaning).
inline rc::Gen<std::string> map_key() {
  return gen::map(gen::resize(6, utf8_string()), [](std::string s) {
    if (!s.empty() && s[0] == '$') s[0] = '_';
    return s;
  });
}

inline rc::Gen<Cid> cid() {
  return gen::apply(
      [](Codec codec, const std::vector<std::uint8_t>& seed) { return Cid::compute(codec, seed); },
      gen::element(Codec::kDagCbor, Codec::kRaw), gen::arbitrary<std::vector<std::uint8_t>>());
}

inline rc::Gen<std::int64_t> integer() {
  return gen::oneOf(
      gen::arbitrary<std::int64_t>(),
      gen::element<std::int64_t>(0, 23, 24, 255, 256, 65535, 65536, -1, -24, -25, -256, -257,
                                 4294967295, 4294967296, std::numeric_limits<std::int64_t>::max(),
                                 std::numeric_limits<std::int64_t>::min()));
}

inline rc::Gen<Value> value(int depth) {
  auto scalar = gen::oneOf(
      gen::just(Value(nullptr)), gen::map(gen::arbitrary<bool>(), [](bool b) { return Value(b); }),
      gen::map(integer(), [](std::int64_t i) { return Value(i); }),
      gen::map(utf8_string(), [](std::string s) { return Value(std::move(s)); }),
      gen::map(gen::arbitrary<Bytes>(), [](Bytes b) { return Value(std::move(b)); }),
      gen::map(cid(), [](Cid c) { return Value(c); }));
  if (depth == 0) return scalar;
  auto array = gen::map(gen::resize(6, gen::container<Array>(value(depth - 1))),
                        [](Array a) { return Value(std::move(a)); });
  auto map = gen::map(gen::resize(6, gen::container<Map>(map_key(), value(depth - 1))),
                      [](Map m) { return Value(std::move(m)); });
  return gen::weightedOneOf<Value>({{3, scalar}, {1, array}, {1, map}});
}

// A record-shaped value: a map at the top level, as data/encode requires.
inline rc::Gen<Value> record(int depth) {
  return gen::map(gen::resize(6, gen::container<Map>(map_key(), value(depth - 1))),
                  [](Map m) { return Value(std::move(m)); });
}

// `bytes` after one to three random edits (a byte replaced, inserted or
// removed); for use inside a property.
inline std::vector<std::uint8_t> mutated(std::vector<std::uint8_t> bytes) {
  const auto edits = *gen::inRange(1, 4);
  for (int i = 0; i < edits; ++i) {
    const auto kind = *gen::inRange(0, 3);
    const auto at = *gen::inRange<std::size_t>(0, bytes.size() + 1);
    const auto byte = *gen::arbitrary<std::uint8_t>();
    if (kind == 0 && at < bytes.size()) bytes[at] = byte;
    if (kind == 1) bytes.insert(bytes.begin() + static_cast<std::ptrdiff_t>(at), byte);
    if (kind == 2 && at < bytes.size()) {
      bytes.erase(bytes.begin() + static_cast<std::ptrdiff_t>(at));
    }
  }
  return bytes;
}

}  // namespace atproto::data::generators

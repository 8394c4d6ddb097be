// Unit tests for the Lexicon cid string format: the blessed CIDv1 forms in
// base32 with the 'b' multibase prefix.
// Spec: https://atproto.com/specs/data-model#link-and-cid-formats
#include "atproto/syntax/cid.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "atproto/syntax/test_support.hpp"

using namespace std::string_view_literals;
using namespace atproto::syntax::testing;
using atproto::syntax::kCodecDagCbor;
using atproto::syntax::kCodecRaw;
using atproto::syntax::kHashSha256;
using atproto::syntax::validate_cid_string;

namespace {

using Bytes = std::vector<std::uint8_t>;

// RFC 4648 base32, lowercase, no padding (test-side encoder, independent of
// the implementation).
std::string base32(const Bytes& bytes) {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (std::uint8_t byte : bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += kAlphabet[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += kAlphabet[(buffer << (5 - bits)) & 31];
  return out;
}

Bytes digest(std::size_t size, std::uint8_t seed = 0xa5) {
  Bytes out(size);
  for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<std::uint8_t>(seed + i * 7);
  return out;
}

Bytes concat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// "b" + base32 of the given CID bytes.
std::string cid_string(const Bytes& bytes) { return "b" + base32(bytes); }

std::string cid_string(std::uint8_t version, std::uint8_t codec, std::uint8_t hash,
                       std::uint8_t length, const Bytes& hash_bytes) {
  return cid_string(concat({version, codec, hash, length}, hash_bytes));
}

// Real CIDs seen in atproto data.
constexpr std::string_view kDagCborCid =
    "bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a";
constexpr std::string_view kRawCid = "bafkreibme22gw2h7y2h7tg2fhqotaqjucnbc24deqo72b6mkl2egezxhvy";

}  // namespace

// [lex.format.cid]
TEST_CASE("cid: blessed CIDv1 strings", "[cid]") {
  CHECK(kCodecDagCbor == 0x71);
  CHECK(kCodecRaw == 0x55);
  CHECK(kHashSha256 == 0x12);
  CHECK(validate_cid_string(kDagCborCid).ok());
  CHECK(validate_cid_string(kRawCid).ok());
  // The test encoder: RFC 4648 section 10 vector, and the well-known prefixes.
  CHECK(base32(Bytes{'f', 'o', 'o', 'b', 'a', 'r'}) == "mzxw6ytboi");
  CHECK(cid_string(1, 0x71, 0x12, 0x20, digest(32)).rfind("bafyrei", 0) == 0);
  CHECK(cid_string(1, 0x55, 0x12, 0x20, digest(32)).rfind("bafkrei", 0) == 0);
  CHECK(cid_string(1, 0x71, 0x12, 0x20, digest(32)).size() == kDagCborCid.size());
  for (std::uint8_t seed : std::initializer_list<std::uint8_t>{0x00, 0x01, 0x5a, 0xff}) {
    CAPTURE(seed);
    CHECK(validate_cid_string(cid_string(1, 0x71, 0x12, 0x20, digest(32, seed))).ok());
    CHECK(validate_cid_string(cid_string(1, 0x55, 0x12, 0x20, digest(32, seed))).ok());
  }
  CHECK(validate_cid_string(cid_string(1, 0x71, 0x12, 0x20, Bytes(32, 0x00))).ok());
  CHECK(validate_cid_string(cid_string(1, 0x55, 0x12, 0x20, Bytes(32, 0xff))).ok());
}

// [lex.format.cid]
TEST_CASE("cid: wrong multibase, version, codec or hash", "[cid]") {
  const Bytes d = digest(32);
  const std::vector<std::string> bad = {
      // Other multibase encodings of a good CID.
      "B" + base32(concat({1, 0x71, 0x12, 0x20}, d)),  // base32 upper
      "z" + base32(concat({1, 0x71, 0x12, 0x20}, d)),  // 'z' is base58btc
      "f01711220" + std::string(64, 'a'),              // base16
      base32(concat({1, 0x71, 0x12, 0x20}, d)),        // no prefix
      // CIDv0 (base58btc sha-256 multihash).
      "QmY7Yh4UquoXHLPFo2XbhXkhBvFoPwmQUSa92pxnxjQuPU",
      // Versions other than 1.
      cid_string(0, 0x71, 0x12, 0x20, d),
      cid_string(2, 0x71, 0x12, 0x20, d),
      // Codecs other than dag-cbor and raw.
      cid_string(1, 0x70, 0x12, 0x20, d),                  // dag-pb
      cid_string(1, 0x72, 0x12, 0x20, d),                  // libp2p-key
      cid_string(concat({1, 0xa9, 0x02, 0x12, 0x20}, d)),  // dag-json (0x0129)
      // Hashes other than sha-256 / 32 bytes.
      cid_string(1, 0x71, 0x13, 0x40, digest(64)),  // sha2-512
      cid_string(1, 0x71, 0x1e, 0x20, d),           // blake3
      cid_string(1, 0x71, 0x00, 0x20, d),           // identity
      cid_string(1, 0x55, 0x12, 0x1f, digest(31)),  // short digest, declared
      cid_string(1, 0x55, 0x12, 0x21, digest(33)),  // long digest, declared
      cid_string(1, 0x71, 0x12, 0x20, digest(31)),  // truncated digest
      cid_string(1, 0x71, 0x12, 0x20, digest(33)),  // trailing byte
      cid_string(concat(concat({1, 0x71, 0x12, 0x20}, d), d)),
      cid_string(Bytes{1, 0x71, 0x12}),
      cid_string(Bytes{1, 0x71}),
      cid_string(Bytes{1}),
      "b",
      "",
      // Non-minimal varints for the version and the codec.
      cid_string(concat({0x81, 0x00, 0x71, 0x12, 0x20}, d)),
      cid_string(concat({1, 0xf1, 0x00, 0x12, 0x20}, d)),
  };
  for (const std::string& input : bad) {
    CAPTURE(input);
    CHECK(code_of(validate_cid_string(input)) == "lex.format.cid");
  }
}

// [lex.format.cid]
TEST_CASE("cid: strict base32 text", "[cid]") {
  const std::string good(kDagCborCid);
  std::vector<std::string> bad;
  bad.push_back(good.substr(0, good.size() - 1));  // one character short
  bad.push_back(good + "a");                       // one character long
  bad.push_back(good + "=");                       // padding
  bad.push_back(good + "=====");                   // full padding
  bad.push_back(good + " ");
  bad.push_back(" " + good);
  bad.push_back(good + "\n");
  std::string upper = good;
  for (std::size_t i = 1; i < upper.size(); ++i) {
    if (upper[i] >= 'a' && upper[i] <= 'z') upper[i] = static_cast<char>(upper[i] - 'a' + 'A');
  }
  bad.push_back(upper);  // uppercase body after a lowercase prefix
  std::string one_upper = good;
  one_upper[10] = static_cast<char>(one_upper[10] - 'a' + 'A');
  bad.push_back(one_upper);
  for (char c : {'0', '1', '8', '9', '-', '_', '/', '+'}) {
    std::string s = good;
    s[20] = c;  // not in the RFC 4648 base32 alphabet
    bad.push_back(s);
  }
  for (const std::string& input : bad) {
    CAPTURE(input);
    CHECK(code_of(validate_cid_string(input)) == "lex.format.cid");
  }
}

// [lex.format.cid]
TEST_CASE("cid: trailing bits of the last base32 character are zero", "[cid]") {
  // 36 bytes are 288 bits: 57 full characters and one carrying 3 bits, so
  // the last character's 2 low bits are padding and must be zero for the
  // encoding to be canonical.
  const std::string good(kDagCborCid);
  const char last = good.back();  // 'a' = 0b00000
  REQUIRE(last == 'a');
  for (char c : {'b', 'c', 'd'}) {  // padding bits 01, 10, 11
    std::string s = good;
    s.back() = c;
    CAPTURE(s);
    CHECK(code_of(validate_cid_string(s)) == "lex.format.cid");
  }
  std::string next = good;
  next.back() = 'e';  // changes a real bit: a different, valid CID
  CHECK(validate_cid_string(next).ok());
}

// [lex.format.cid]
TEST_CASE("cid: robustness against hostile input", "[cid][robustness]") {
  const std::string good(kDagCborCid);
  std::vector<std::string> inputs = {
      std::string("\0", 1),
      std::string("b\0", 2),
      good + std::string("\0", 1),
      std::string("\0", 1) + good,
      "\xff",
      "b\xff",
      good.substr(0, 30) + "\x80" + good.substr(31),
      good.substr(0, 30) + "\xc0\xaf" + good.substr(32),
      good.substr(0, 30) + "\xe0\x80\xaf" + good.substr(33),
      good.substr(0, 30) + "\xed\xa0\x80" + good.substr(33),
      good.substr(0, 30) + "\xc3\xa9" + good.substr(32),
      good.substr(0, 30) + std::string("\0", 1) + good.substr(31),
      "b" + std::string(1 << 20, 'a'),
      "b" + std::string(1 << 20, '7'),
      std::string(1 << 20, 'b'),
      "b" + base32(Bytes(1 << 20, 0xff)),
      "b" + base32(concat({1, 0x71, 0x12}, Bytes(1 << 20, 0xff))),  // huge varint
  };
  for (const std::string& input : inputs) {
    CAPTURE(input.size());
    CHECK(code_of(validate_cid_string(input)) == "lex.format.cid");
  }
}

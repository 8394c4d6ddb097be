// Tests for the CARv1 reader and writer: known answers, every error path with
// hand-made bad bytes, round trips, and RapidCheck properties.
// Spec: https://atproto.com/specs/repository#car-file-serialization
#include "atproto/car/car.hpp"

#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include <catch2/catch.hpp>

#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <string>
#include <vector>

#include "atproto/common/testing.hpp"
#include "atproto/data/cbor.hpp"
#include "atproto/data/cid.hpp"
#include "atproto/data/value.hpp"
#include "atproto/data/varint.hpp"

namespace atproto::car {
// RapidCheck prints counterexamples through showValue, found by ADL.
void showValue(const CarFile& car, std::ostream& os) {
  os << "CarFile{roots:";
  for (const auto& root : car.roots) os << ' ' << root.to_string();
  os << "; blocks:";
  for (const auto& block : car.blocks) {
    os << ' ' << block.cid.to_string() << '(' << block.bytes.size() << " bytes)";
  }
  os << '}';
}
}  // namespace atproto::car

namespace {

using atproto::car::append_block;
using atproto::car::CarBlock;
using atproto::car::CarFile;
using atproto::car::CarLimits;
using atproto::car::check_roots_present;
using atproto::car::read_car;
using atproto::car::read_car_header;
using atproto::car::read_car_view;
using atproto::car::write_car;
using atproto::data::Array;
using atproto::data::Cid;
using atproto::data::Codec;
using atproto::data::Map;
using atproto::data::Value;
using Bytes = std::vector<std::uint8_t>;

using atproto::testing::code_of;

// A CAR holding one block, the empty DAG-CBOR map (0xa0), which is also its
// only root. Written out byte by byte: header length 0x3a (58), the header
// {"roots": [link], "version": 1}, then one frame of 0x25 (37) bytes: the
// 36-byte CID 01 71 12 20 <sha-256 of a0> followed by a0. Digest computed
// independently with python hashlib.
const Bytes kEmptyMapCar = {
    0x3a, 0xa2, 0x65, 'r',  'o',  'o',  't',  's',  0x81, 0xd8, 0x2a, 0x58, 0x25, 0x00,
    0x01, 0x71, 0x12, 0x20, 0xc1, 0x9a, 0x79, 0x7f, 0xa1, 0xfd, 0x59, 0x0c, 0xd2, 0xe5,
    0xb4, 0x2d, 0x1c, 0xf5, 0xf2, 0x46, 0xe2, 0x9b, 0x91, 0x68, 0x4e, 0x2f, 0x87, 0x40,
    0x4b, 0x81, 0xdc, 0x34, 0x5c, 0x7a, 0x56, 0xa0, 0x67, 'v',  'e',  'r',  's',  'i',
    'o',  'n',  0x01, 0x25, 0x01, 0x71, 0x12, 0x20, 0xc1, 0x9a, 0x79, 0x7f, 0xa1, 0xfd,
    0x59, 0x0c, 0xd2, 0xe5, 0xb4, 0x2d, 0x1c, 0xf5, 0xf2, 0x46, 0xe2, 0x9b, 0x91, 0x68,
    0x4e, 0x2f, 0x87, 0x40, 0x4b, 0x81, 0xdc, 0x34, 0x5c, 0x7a, 0x56, 0xa0, 0xa0,
};
constexpr std::size_t kEmptyMapHeaderSize = 58;
constexpr std::size_t kEmptyMapHeaderEnd = 1 + kEmptyMapHeaderSize;  // where the blocks start
const char* const kEmptyMapCid = "bafyreigbtj4x7ip5legnfznufuopl4sg4knzc2cof6duas4b3q2fy6swua";

Cid empty_map_cid() { return Cid::parse(kEmptyMapCid).value(); }

Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& part : parts) out.insert(out.end(), part.begin(), part.end());
  return out;
}

// varint(size) + bytes: a header or block frame around `body`.
Bytes framed(const Bytes& body) {
  Bytes out;
  atproto::data::append_varint(out, body.size());
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

// A header frame holding the canonical encoding of `header`.
Bytes header_frame(const Value& header) {
  return framed(atproto::data::encode_cbor(header).value());
}

Bytes good_header() {
  return header_frame(Value(Map{{"roots", Value(Array{Value(empty_map_cid())})}, {"version", 1}}));
}

// The frame of the empty-map block.
Bytes empty_map_frame() {
  return Bytes(kEmptyMapCar.begin() + kEmptyMapHeaderEnd, kEmptyMapCar.end());
}

// A block frame: binary CID + data.
Bytes block_frame(const Cid& cid, const Bytes& data) { return framed(cat({cid.to_bytes(), data})); }

}  // namespace

// [car.header.version] [car.header.roots] [car.block.cid] [car.block.cid-matches]
TEST_CASE("car: known answer, the empty-map block written by hand", "[car]") {
  REQUIRE(kEmptyMapCar.size() == 97);
  auto car = read_car(kEmptyMapCar);
  REQUIRE(car.ok());
  REQUIRE(car->roots.size() == 1);
  CHECK(car->roots[0].to_string() == kEmptyMapCid);
  REQUIRE(car->blocks.size() == 1);
  CHECK(car->blocks[0].cid.to_string() == kEmptyMapCid);
  CHECK(car->blocks[0].cid.codec() == Codec::kDagCbor);
  CHECK(car->blocks[0].bytes == Bytes{0xa0});
  CHECK(check_roots_present(*car).ok());

  // The writer produces exactly the hand-written bytes.
  CarFile built{{empty_map_cid()}, {CarBlock{empty_map_cid(), {0xa0}}}};
  CHECK(write_car(built) == kEmptyMapCar);
  CHECK(write_car(*car) == kEmptyMapCar);
  // The test helpers agree with the hand-written bytes.
  CHECK(cat({good_header(), empty_map_frame()}) == kEmptyMapCar);
}

// [car.block.cid]
TEST_CASE("car: raw blocks, empty blocks and header-only files are accepted", "[car]") {
  // The empty raw block (an empty blob) has a 36-byte frame: CID, no data.
  const Cid empty_raw = Cid::compute(Codec::kRaw, Bytes{});
  CHECK(empty_raw.to_string() == "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku");
  const Bytes with_raw = cat({good_header(), block_frame(empty_raw, {}), empty_map_frame()});
  auto car = read_car(with_raw);
  REQUIRE(car.ok());
  REQUIRE(car->blocks.size() == 2);
  CHECK(car->blocks[0].cid == empty_raw);
  CHECK(car->blocks[0].bytes.empty());
  CHECK(write_car(*car) == with_raw);

  // A header and no blocks is a well-formed CAR; its root is not present.
  auto header_only = read_car(good_header());
  REQUIRE(header_only.ok());
  CHECK(header_only->blocks.empty());
  CHECK(code_of(check_roots_present(*header_only)) == "car.roots.commit-included");
}

// [car.block.any-order] [car.block.duplicates]
TEST_CASE("car: blocks in any order and duplicated blocks are accepted", "[car]") {
  const Bytes hello = {0xa1, 0x65, 'h', 'e', 'l', 'l', 'o', 0x65, 'w', 'o', 'r', 'l', 'd'};
  const Cid hello_cid = Cid::compute(Codec::kDagCbor, hello);
  // The root block comes last.
  auto reordered = read_car(cat({good_header(), block_frame(hello_cid, hello), empty_map_frame()}));
  REQUIRE(reordered.ok());
  REQUIRE(reordered->blocks.size() == 2);
  CHECK(reordered->blocks[0].cid == hello_cid);
  CHECK(check_roots_present(*reordered).ok());

  // The same block three times is kept three times, in file order.
  const Bytes dup = cat({good_header(), empty_map_frame(), empty_map_frame(), empty_map_frame()});
  auto duplicated = read_car(dup);
  REQUIRE(duplicated.ok());
  CHECK(duplicated->blocks.size() == 3);
  CHECK(write_car(*duplicated) == dup);
}

// [car.roots.commit-included] [car.header.roots-nonempty]
TEST_CASE("car: check_roots_present looks for the first root", "[car]") {
  const Cid other = Cid::compute(Codec::kDagCbor, Bytes{0xf6});
  CarFile car{{empty_map_cid(), other}, {CarBlock{empty_map_cid(), {0xa0}}}};
  CHECK(check_roots_present(car).ok());  // later roots are not checked
  car.roots = {other, empty_map_cid()};
  CHECK(code_of(check_roots_present(car)) == "car.roots.commit-included");
  car.roots.clear();
  CHECK(code_of(check_roots_present(car)) == "car.header.roots-nonempty");
}

// [car.limits.car-size] [car.limits.block-size] [car.limits.header-size]
TEST_CASE("car: limits", "[car]") {
  CarLimits limits;
  CHECK(limits.max_car_bytes == std::size_t{1} << 30);
  CHECK(limits.max_block_bytes == 2'000'000);
  CHECK(limits.max_header_bytes == 64 * 1024);
  CHECK(atproto::car::kCommitBlocksMaxBytes == 2'000'000);

  SECTION("whole file") {
    limits.max_car_bytes = kEmptyMapCar.size();
    CHECK(read_car(kEmptyMapCar, limits).ok());
    limits.max_car_bytes = kEmptyMapCar.size() - 1;
    CHECK(code_of(read_car(kEmptyMapCar, limits)) == "car.limits.car-size");
  }
  SECTION("header") {
    limits.max_header_bytes = kEmptyMapHeaderSize;
    CHECK(read_car(kEmptyMapCar, limits).ok());
    limits.max_header_bytes = kEmptyMapHeaderSize - 1;
    CHECK(code_of(read_car(kEmptyMapCar, limits)) == "car.limits.header-size");
  }
  SECTION("block data, checked before the frame is read") {
    limits.max_block_bytes = 1;
    CHECK(read_car(kEmptyMapCar, limits).ok());
    limits.max_block_bytes = 0;
    CHECK(code_of(read_car(kEmptyMapCar, limits)) == "car.limits.block-size");
    // A frame claiming 3,000,000 bytes is refused by size, not as truncated.
    Bytes huge = good_header();
    atproto::data::append_varint(huge, 3'000'000);
    huge.push_back(0x01);
    CHECK(code_of(read_car(huge)) == "car.limits.block-size");
    // Just over the default limit: 2,000,001 bytes of data plus the CID.
    Bytes over = good_header();
    atproto::data::append_varint(over, 2'000'001 + atproto::data::kCidBinarySize);
    CHECK(code_of(read_car(over)) == "car.limits.block-size");
  }
}

// [car.header.frame]
TEST_CASE("car: bad header frames", "[car]") {
  CHECK(code_of(read_car(Bytes{})) == "car.header.frame");                  // empty input
  CHECK(code_of(read_car(Bytes{0x00})) == "car.header.frame");              // zero length
  CHECK(code_of(read_car(Bytes{0x80})) == "car.header.frame");              // truncated varint
  CHECK(code_of(read_car(Bytes{0xba, 0x00, 0xa2})) == "car.header.frame");  // non-minimal
  // Header length 58 but only 2 bytes follow.
  CHECK(code_of(read_car(Bytes{0x3a, 0xa2, 0x65})) == "car.header.frame");
  // The whole file cut inside the header.
  const Bytes cut(kEmptyMapCar.begin(), kEmptyMapCar.begin() + 30);
  CHECK(code_of(read_car(cut)) == "car.header.frame");
}

// Header CBOR errors keep the data layer's code.
// [car.header.map]
TEST_CASE("car: header that is not strict DRISL-CBOR or not a map", "[car]") {
  // {"version": 1, "roots": [...]}: keys out of canonical order.
  Bytes unordered = {0xa2, 0x67, 'v', 'e', 'r', 's', 'i', 'o', 'n',
                     0x01, 0x65, 'r', 'o', 'o', 't', 's', 0x80};
  CHECK(code_of(read_car(framed(unordered))) == "data.cbor.map-key-order");
  CHECK(code_of(read_car(framed({0xa1}))) == "data.cbor.truncated");
  CHECK(code_of(read_car(framed({0xa0, 0x00}))) == "data.cbor.trailing-bytes");
  CHECK(code_of(read_car(framed({0xfb, 0, 0, 0, 0, 0, 0, 0, 0}))) == "data.model.no-floats");
  // Well-formed but not a map: [1], 1, "roots".
  CHECK(code_of(read_car(framed({0x81, 0x01}))) == "car.header.map");
  CHECK(code_of(read_car(framed({0x01}))) == "car.header.map");
  CHECK(code_of(read_car(header_frame(Value("roots")))) == "car.header.map");
}

// [car.header.version] [car.header.roots] [car.header.roots-nonempty] [car.header.keys]
TEST_CASE("car: header fields", "[car]") {
  const Value root_list(Array{Value(empty_map_cid())});
  auto header_code = [](Map header) {
    return code_of(read_car(cat({header_frame(Value(std::move(header))), empty_map_frame()})));
  };
  CHECK(header_code(Map{{"roots", root_list}, {"version", 1}}) == "<ok>");

  CHECK(header_code(Map{}) == "car.header.version");
  CHECK(header_code(Map{{"roots", root_list}}) == "car.header.version");
  CHECK(header_code(Map{{"roots", root_list}, {"version", 2}}) == "car.header.version");
  CHECK(header_code(Map{{"roots", root_list}, {"version", 0}}) == "car.header.version");
  CHECK(header_code(Map{{"roots", root_list}, {"version", "1"}}) == "car.header.version");
  CHECK(header_code(Map{{"roots", root_list}, {"version", true}}) == "car.header.version");
  // A CARv2 pragma: {"version": 2} alone.
  CHECK(header_code(Map{{"version", 2}}) == "car.header.version");

  CHECK(header_code(Map{{"version", 1}}) == "car.header.roots");
  CHECK(header_code(Map{{"roots", nullptr}, {"version", 1}}) == "car.header.roots");
  CHECK(header_code(Map{{"roots", Value(empty_map_cid())}, {"version", 1}}) == "car.header.roots");
  CHECK(header_code(Map{{"roots", Value(Array{Value(kEmptyMapCid)})}, {"version", 1}}) ==
        "car.header.roots");
  CHECK(header_code(Map{{"roots", Value(Array{Value(empty_map_cid()), Value(nullptr)})},
                        {"version", 1}}) == "car.header.roots");
  CHECK(header_code(Map{{"roots", Value(Array{})}, {"version", 1}}) == "car.header.roots-nonempty");

  CHECK(header_code(Map{{"extra", 1}, {"roots", root_list}, {"version", 1}}) == "car.header.keys");
  CHECK(header_code(Map{{"roots", root_list}, {"version", 1}, {"zzzzzzzz", Value(Map{})}}) ==
        "car.header.keys");
}

// [car.block.frame]
TEST_CASE("car: bad block frames and trailing garbage", "[car]") {
  const Bytes base = kEmptyMapCar;
  CHECK(code_of(read_car(cat({base, {0x00}}))) == "car.block.frame");        // zero length
  CHECK(code_of(read_car(cat({base, {0x80}}))) == "car.block.frame");        // truncated varint
  CHECK(code_of(read_car(cat({base, {0x05, 0x01}}))) == "car.block.frame");  // frame past end
  CHECK(code_of(read_car(cat({base, {0xff}}))) == "car.block.frame");
  // A non-minimal frame length (0x25 written as a5 00) around a good block.
  Bytes non_minimal = good_header();
  non_minimal.push_back(0xa5);
  non_minimal.push_back(0x00);
  non_minimal.insert(non_minimal.end(), kEmptyMapCar.begin() + kEmptyMapHeaderEnd + 1,
                     kEmptyMapCar.end());
  CHECK(code_of(read_car(non_minimal)) == "car.block.frame");
  // Every strict prefix that ends inside the block frame.
  for (std::size_t n = kEmptyMapHeaderEnd + 1; n < kEmptyMapCar.size(); ++n) {
    CAPTURE(n);
    const Bytes cut(kEmptyMapCar.begin(), kEmptyMapCar.begin() + static_cast<std::ptrdiff_t>(n));
    CHECK(code_of(read_car(cut)) == "car.block.frame");
  }
}

// [car.block.cid]
TEST_CASE("car: block frames that do not start with a blessed CID", "[car]") {
  const Bytes digest(32, 0xab);
  auto code = [&](const Bytes& body) {
    return code_of(read_car(cat({good_header(), framed(body)})));
  };
  CHECK(code(cat({{0x12, 0x20}, digest, {0xa0}})) == "car.block.cid");      // CIDv0
  CHECK(code(cat({{0x02, 0x71, 0x12, 0x20}, digest})) == "car.block.cid");  // version 2
  CHECK(code(cat({{0x01, 0x70, 0x12, 0x20}, digest})) == "car.block.cid");  // dag-pb
  CHECK(code(cat({{0x01, 0x71, 0x13, 0x20}, digest})) == "car.block.cid");  // sha-512 code
  CHECK(code(cat({{0x01, 0x71, 0x12, 0x10}, digest})) == "car.block.cid");  // 16-byte digest
  CHECK(code(cat({{0x01, 0x71, 0x12, 0x21}, digest})) == "car.block.cid");  // digest past end
  CHECK(code({0x01}) == "car.block.cid");                                   // CID cut short
  CHECK(code({0x01, 0x71, 0x12}) == "car.block.cid");
  CHECK(code({0x01, 0xff}) == "car.block.cid");                    // bad varint
  CHECK(code({0x01, 0xf1, 0x00, 0x12, 0x20}) == "car.block.cid");  // non-minimal
  // The same bytes with the blessed prefix are only refused for the hash.
  CHECK(code(cat({{0x01, 0x71, 0x12, 0x20}, digest})) == "car.block.cid-matches");
}

// [car.block.cid-matches]
TEST_CASE("car: blocks whose bytes do not hash to their CID", "[car]") {
  Bytes changed = kEmptyMapCar;
  changed.back() = 0xa1;
  CHECK(code_of(read_car(changed)) == "car.block.cid-matches");
  Bytes digest_changed = kEmptyMapCar;
  digest_changed[kEmptyMapHeaderEnd + 1 + 10] ^= 0x01;
  CHECK(code_of(read_car(digest_changed)) == "car.block.cid-matches");
  // The empty-map bytes under a raw CID hash the same, so the CID matches.
  const Cid raw = Cid::compute(Codec::kRaw, Bytes{0xa0});
  CHECK(code_of(read_car(cat({good_header(), block_frame(raw, {0xa0})}))) == "<ok>");
  // Extra data after the block changes the hash.
  CHECK(code_of(read_car(cat({good_header(), block_frame(empty_map_cid(), {0xa0, 0xa0})}))) ==
        "car.block.cid-matches");
  // A good block after a bad one does not help.
  CHECK(code_of(read_car(cat({changed, empty_map_frame()}))) == "car.block.cid-matches");
}

namespace {

namespace gen = rc::gen;

rc::Gen<Cid> arbitrary_cid() {
  return gen::map(
      gen::pair(gen::element(Codec::kDagCbor, Codec::kRaw),
                gen::container<Bytes>(atproto::data::kSha256Size, gen::arbitrary<std::uint8_t>())),
      [](const std::pair<Codec, Bytes>& p) {
        atproto::data::Digest digest{};
        std::copy(p.second.begin(), p.second.end(), digest.begin());
        return Cid(p.first, digest);
      });
}

rc::Gen<CarBlock> arbitrary_block() {
  return gen::map(gen::pair(gen::element(Codec::kDagCbor, Codec::kRaw),
                            gen::resize(64, gen::arbitrary<Bytes>())),
                  [](const std::pair<Codec, Bytes>& p) {
                    return CarBlock{Cid::compute(p.first, p.second), p.second};
                  });
}

// A valid CAR: one to three roots (the first usually among the blocks) and
// up to eight blocks.
rc::Gen<CarFile> arbitrary_car() {
  return gen::exec([] {
    CarFile car;
    car.blocks = *gen::resize(8, gen::container<std::vector<CarBlock>>(arbitrary_block()));
    car.roots =
        *gen::container<std::vector<Cid>>(*gen::inRange<std::size_t>(1, 4), arbitrary_cid());
    if (!car.blocks.empty() && *gen::arbitrary<bool>()) {
      car.roots[0] = car.blocks[*gen::inRange<std::size_t>(0, car.blocks.size())].cid;
    }
    return car;
  });
}

}  // namespace

// [car.block.cid-matches] [car.block.frame] [car.header.roots]
TEST_CASE("car properties: write then read gives back the same file", "[car][properties]") {
  rc::prop("read_car(write_car(car)) == car, and writing again gives the same bytes", [] {
    const CarFile car = *arbitrary_car();
    const Bytes bytes = write_car(car);
    auto back = read_car(bytes);
    RC_ASSERT(back.ok());
    RC_ASSERT(*back == car);
    RC_ASSERT(write_car(*back) == bytes);
  });
}

// [car.block.cid-matches] [car.block.frame] [car.header.frame]
TEST_CASE("car properties: a one-byte change is rejected or changes the content",
          "[car][properties]") {
  rc::prop("any single-byte change to a valid CAR is detected", [] {
    const CarFile car = *arbitrary_car();
    Bytes bytes = write_car(car);
    const auto index = *gen::inRange<std::size_t>(0, bytes.size());
    const auto delta = *gen::inRange<int>(1, 256);
    bytes[index] = static_cast<std::uint8_t>((bytes[index] + delta) & 0xff);
    auto back = read_car(bytes);
    if (back.ok()) {
      // The strict reader accepts only canonical bytes, so accepted changed
      // bytes must decode to different content.
      RC_ASSERT(!(*back == car));
      RC_ASSERT(write_car(*back) == bytes);
    }
  });
}

namespace {

// A CAR of `header_bytes` (the header's DRISL-CBOR) and the frames of
// `blocks`, for comparing read_car_view with read_car_header.
Bytes car_with_header(const Bytes& header_bytes, const std::vector<CarBlock>& blocks) {
  Bytes out;
  atproto::data::append_varint(out, header_bytes.size());
  out.insert(out.end(), header_bytes.begin(), header_bytes.end());
  for (const CarBlock& block : blocks) append_block(out, block.cid, block.bytes);
  return out;
}

// The header bytes write_car writes for `roots`.
Bytes header_of(const std::vector<Cid>& roots) {
  const Bytes file = write_car(CarFile{roots, {}});
  std::size_t pos = 0;
  REQUIRE(atproto::data::read_varint(file, pos).ok());
  return Bytes(file.begin() + static_cast<std::ptrdiff_t>(pos), file.end());
}

// read_car_view of a CAR with `header_bytes` and valid `blocks` decides as
// read_car_header does on the header alone: same roots, or the same error.
bool same_verdict(const Bytes& header_bytes, const std::vector<CarBlock>& blocks) {
  const auto plain = read_car_header(header_bytes);
  const auto view = read_car_view(car_with_header(header_bytes, blocks));
  if (!plain.ok()) return !view.ok() && view.error() == plain.error();
  return view.ok() && view->roots == *plain;
}

}  // namespace

// [car.header.roots] [car.header.version] [car.header.keys] read_car_view
// recognises the one-root header atproto writers emit from its bytes; every
// one-byte change of it (each position, each other value) must get the
// verdict of the full header check.
TEST_CASE("car: the recognised one-root header decides as the full header check",
          "[car][properties]") {
  const std::vector<CarBlock> blocks{
      CarBlock{Cid::compute(Codec::kRaw, Bytes{1, 2, 3}), Bytes{1, 2, 3}}};
  for (const Codec codec : {Codec::kDagCbor, Codec::kRaw}) {
    const Bytes header = header_of({Cid::compute(codec, Bytes{7})});
    REQUIRE(header.size() == 58);
    CHECK(same_verdict(header, blocks));
    for (std::size_t i = 0; i < header.size(); ++i) {
      for (int delta = 1; delta < 256; ++delta) {
        Bytes changed = header;
        changed[i] = static_cast<std::uint8_t>((changed[i] + delta) & 0xff);
        INFO("byte " << i << " + " << delta);
        CHECK(same_verdict(changed, blocks));
      }
    }
  }
}

TEST_CASE("car properties: read_car_view's headers decide as read_car_header",
          "[car][properties]") {
  rc::prop("with one root or several, changed or not", [] {
    CarFile car = *arbitrary_car();
    if (*gen::arbitrary<bool>()) car.roots.erase(car.roots.begin() + 1, car.roots.end());
    Bytes header = header_of(car.roots);
    if (*gen::arbitrary<bool>()) {
      const auto index = *gen::inRange<std::size_t>(0, header.size());
      header[index] =
          static_cast<std::uint8_t>((header[index] + *gen::inRange<int>(1, 256)) & 0xff);
    }
    RC_ASSERT(same_verdict(header, car.blocks));
  });
}

// CARv1 reader and writer. See car.hpp for the format and the error codes.
// Spec: https://atproto.com/specs/repository#car-file-serialization
#include "atproto/car/car.hpp"

#include <algorithm>
#include <iterator>
#include <optional>
#include <string>
#include <utility>

#include "atproto/data/cbor.hpp"
#include "atproto/data/cbor_view.hpp"
#include "atproto/data/value.hpp"
#include "atproto/data/varint.hpp"

namespace atproto::car {

namespace {

using Bytes = std::vector<std::uint8_t>;

// An error whose message also names the lower-level code that caused it.
Error wrap(const char* code, const std::string& what, const Error& cause) {
  return make_error(code, what + " (" + cause.code + ": " + cause.message + ")");
}

// Parses the CID at the start of a block frame and returns it together with
// the number of bytes it occupies. CIDs carry no length prefix inside a
// frame: the length follows from the four varints (version, codec, hash
// code, digest size) and the digest size.
// [car.block.cid] Blocks are named by blessed CIDs
// (https://atproto.com/specs/repository#cid-formats); CIDv0 and other codecs
// or hashes are refused by data::Cid::from_bytes.
Result<std::pair<data::Cid, std::size_t>> read_block_cid(std::span<const std::uint8_t> frame) {
  // The usual frame starts with a blessed CID whose varints are one byte
  // each, kCidBinarySize bytes in all; from_bytes recognises those 36 bytes
  // without parsing varints. When they are not one, the parse below finds
  // the CID's length and names the rule it breaks.
  if (frame.size() >= data::kCidBinarySize) {
    if (auto cid = data::Cid::from_bytes(frame.first(data::kCidBinarySize))) {
      return std::pair<data::Cid, std::size_t>{*cid, data::kCidBinarySize};
    }
  }
  if (frame.size() >= 2 && frame[0] == 0x12 && frame[1] == 0x20) {
    return make_error("car.block.cid", "block CID is a CIDv0 (bare sha-256 multihash)");
  }
  std::size_t pos = 0;
  std::uint64_t digest_size = 0;
  for (int field = 0; field < 4; ++field) {
    auto v = data::read_varint(frame, pos);
    if (!v) return wrap("car.block.cid", "malformed varint in block CID", v.error());
    digest_size = *v;  // the last of the four is the digest size
  }
  if (digest_size > frame.size() - pos) {
    return make_error("car.block.cid", "block frame ends inside its CID digest");
  }
  const std::size_t cid_size = pos + static_cast<std::size_t>(digest_size);
  auto cid = data::Cid::from_bytes(frame.first(cid_size));
  if (!cid) return wrap("car.block.cid", "block CID is not a blessed CID", cid.error());
  return std::pair<data::Cid, std::size_t>{*cid, cid_size};
}

// Checks the decoded header value and returns its roots.
Result<std::vector<data::Cid>> read_header_value(data::ValueView header) {
  // [car.header.map]
  if (!header.is_map()) {
    return make_error("car.header.map", std::string("CAR header is a ") +
                                            data::kind_name(header.kind()) + ", not a map");
  }
  // [car.header.version] Only CARv1 is accepted (a CARv2 pragma is
  // {"version": 2} and lands here too).
  const auto version = header.find("version");
  if (!version) return make_error("car.header.version", "CAR header has no version");
  if (!version->is_integer() || version->as_integer() != 1) {
    return make_error("car.header.version", "CAR header version is not the integer 1");
  }
  // [car.header.roots] An array of cid-links.
  const auto roots = header.find("roots");
  if (!roots) return make_error("car.header.roots", "CAR header has no roots");
  if (!roots->is_array()) return make_error("car.header.roots", "CAR header roots is not an array");
  std::vector<data::Cid> out;
  for (const data::ValueView root : roots->as_array()) {
    if (!root.is_link()) {
      return make_error("car.header.roots", std::string("CAR header root is a ") +
                                                data::kind_name(root.kind()) + ", not a cid-link");
    }
    out.push_back(root.as_link());
  }
  // [car.header.roots-nonempty] atproto names at least one root: the commit
  // (https://atproto.com/specs/repository#car-file-serialization).
  if (out.empty()) return make_error("car.header.roots-nonempty", "CAR header has zero roots");
  // [car.header.keys] CARv1 defines exactly "roots" and "version".
  for (const auto [key, value] : header.as_map()) {
    if (key != "roots" && key != "version") {
      return make_error("car.header.keys",
                        "CAR header has an unexpected key \"" + std::string(key) + "\"");
    }
  }
  return out;
}

// The header of a CAR with one root as atproto writers emit it (write_car
// of a commit's blocks): canonical DRISL-CBOR gives {"roots": [root],
// "version": 1} exactly one encoding, these bytes around the root's binary
// CID, so the header of nearly every CAR read on the firehose's hot path is
// recognised without decoding it. nullopt for any other header (then
// decoded and checked in full); for this one that check gives the same
// roots: a map of the two keys in canonical order, version the integer 1,
// roots an array of one cid-link whose CID from_bytes accepts.
std::optional<data::Cid> single_root_header(std::span<const std::uint8_t> header) {
  // Map of 2; text "roots"; array of 1; tag 42; bytes of 37; 0x00 (the
  // identity multibase prefix of a CID in DRISL-CBOR); then the CID.
  static constexpr std::uint8_t kBefore[] = {0xa2, 0x65, 'r',  'o',  'o',  't', 's',
                                             0x81, 0xd8, 0x2a, 0x58, 0x25, 0x00};
  // Text "version"; the integer 1.
  static constexpr std::uint8_t kAfter[] = {0x67, 'v', 'e', 'r', 's', 'i', 'o', 'n', 0x01};
  if (header.size() != sizeof kBefore + data::kCidBinarySize + sizeof kAfter ||
      !std::equal(std::begin(kBefore), std::end(kBefore), header.begin()) ||
      !std::equal(std::begin(kAfter), std::end(kAfter),
                  header.end() - static_cast<std::ptrdiff_t>(sizeof kAfter))) {
    return std::nullopt;
  }
  auto cid = data::Cid::from_bytes(header.subspan(sizeof kBefore, data::kCidBinarySize));
  if (!cid) return std::nullopt;
  return *cid;
}

}  // namespace

Result<std::vector<data::Cid>> read_car_header(std::span<const std::uint8_t> header_bytes) {
  // The header is strict DRISL-CBOR; a data-layer failure keeps its own code.
  // Room for the usual header ({roots: [one root], version}) from the
  // start, so the tape does not grow by doubling.
  data::CborTape header;
  header.entries().reserve(8);
  if (auto st = data::decode_cbor_view(header_bytes, header); !st) {
    return make_error(st.error().code, "CAR header: " + st.error().message);
  }
  return read_header_value(header.root());
}

Result<CarView> read_car_view(std::span<const std::uint8_t> bytes, CarLimits limits) {
  // [car.limits.car-size]
  if (bytes.size() > limits.max_car_bytes) {
    return make_error("car.limits.car-size", "CAR file of " + std::to_string(bytes.size()) +
                                                 " bytes exceeds the limit of " +
                                                 std::to_string(limits.max_car_bytes));
  }
  std::size_t pos = 0;

  // Header: varint length, then that many bytes of DRISL-CBOR.
  // [car.header.frame]
  auto header_len = data::read_varint(bytes, pos);
  if (!header_len) return wrap("car.header.frame", "bad CAR header length", header_len.error());
  if (*header_len == 0) return make_error("car.header.frame", "CAR header length is zero");
  // [car.limits.header-size]
  if (*header_len > limits.max_header_bytes) {
    return make_error("car.limits.header-size", "CAR header of " + std::to_string(*header_len) +
                                                    " bytes exceeds the limit of " +
                                                    std::to_string(limits.max_header_bytes));
  }
  if (*header_len > bytes.size() - pos) {
    return make_error("car.header.frame", "CAR header runs past the end of the input");
  }
  const auto header_bytes = bytes.subspan(pos, static_cast<std::size_t>(*header_len));
  pos += header_bytes.size();
  // The usual header is recognised from its bytes; any other is decoded
  // and checked (read_car_header), with the same verdict for this one.
  std::vector<data::Cid> roots;
  if (auto root = single_root_header(header_bytes)) {
    roots.push_back(*root);
  } else {
    auto read = read_car_header(header_bytes);
    if (!read) return read.error();
    roots = std::move(read).value();
  }

  CarView car;
  car.roots = std::move(roots);
  // Count the frames first (their lengths only; the loop below checks
  // everything), so the block list is allocated once: growing it by
  // doubling for a repository of 200,000 blocks zeroed and copied it
  // several times over.
  std::size_t frames = 0;
  for (std::size_t at = pos; at < bytes.size(); ++frames) {
    auto length = data::read_varint(bytes, at);
    if (!length || *length > bytes.size() - at) break;
    at += static_cast<std::size_t>(*length);
  }
  car.blocks.reserve(frames);

  // Blocks: frames until the input ends exactly at a frame boundary.
  // [car.block.any-order] No order is required of the blocks.
  // [car.block.duplicates] A block seen before is accepted again and kept.
  while (pos < bytes.size()) {
    const std::size_t frame_start = pos;
    // [car.block.frame]
    auto frame_len = data::read_varint(bytes, pos);
    if (!frame_len) {
      return wrap("car.block.frame",
                  "bad block frame length at offset " + std::to_string(frame_start),
                  frame_len.error());
    }
    if (*frame_len == 0) {
      return make_error("car.block.frame",
                        "zero-length block frame at offset " + std::to_string(frame_start));
    }
    // [car.limits.block-size] A blessed CID is always kCidBinarySize bytes,
    // so this bounds the block's data exactly.
    if (*frame_len > data::kCidBinarySize &&
        *frame_len - data::kCidBinarySize > limits.max_block_bytes) {
      return make_error("car.limits.block-size",
                        "block frame at offset " + std::to_string(frame_start) + " of " +
                            std::to_string(*frame_len) + " bytes exceeds the block limit of " +
                            std::to_string(limits.max_block_bytes) + " bytes plus the CID");
    }
    if (*frame_len > bytes.size() - pos) {
      return make_error("car.block.frame", "block frame at offset " + std::to_string(frame_start) +
                                               " runs past the end of the input");
    }
    const auto frame = bytes.subspan(pos, static_cast<std::size_t>(*frame_len));
    pos += frame.size();

    auto cid = read_block_cid(frame);
    if (!cid) return cid.error();
    const auto block_data = frame.subspan(cid->second);
    // [car.block.cid-matches] The CID is the SHA-256 of the block's bytes.
    const data::Digest digest = data::sha256(block_data);
    if (digest != cid->first.digest()) {
      return make_error("car.block.cid-matches", "block at offset " + std::to_string(frame_start) +
                                                     " does not hash to " + cid->first.to_string());
    }
    car.blocks.push_back(CarBlockView{cid->first, block_data});
  }
  return car;
}

Result<CarFile> read_car(std::span<const std::uint8_t> bytes, CarLimits limits) {
  auto view = read_car_view(bytes, limits);
  if (!view) return view.error();
  CarFile car;
  car.roots = std::move(view->roots);
  car.blocks.reserve(view->blocks.size());
  for (const CarBlockView& block : view->blocks) {
    car.blocks.push_back(CarBlock{block.cid, Bytes(block.bytes.begin(), block.bytes.end())});
  }
  return car;
}

namespace {

template <class Car>
Status roots_present(const Car& car) {
  if (car.roots.empty()) return make_error("car.header.roots-nonempty", "CAR has zero roots");
  // [car.roots.commit-included]
  for (const auto& block : car.blocks) {
    if (block.cid == car.roots.front()) return {};
  }
  return make_error("car.roots.commit-included",
                    "the first root " + car.roots.front().to_string() + " is not among the blocks");
}

}  // namespace

Status check_roots_present(const CarFile& car) { return roots_present(car); }
Status check_roots_present(const CarView& car) { return roots_present(car); }

std::vector<std::uint8_t> write_car(const CarFile& car) {
  data::Array roots;
  for (const data::Cid& root : car.roots) roots.emplace_back(root);
  data::Map header;
  header.emplace("roots", data::Value(std::move(roots)));
  header.emplace("version", data::Value(1));
  // Links and ASCII keys only, so encoding cannot fail.
  const Bytes header_bytes = data::encode_cbor(data::Value(std::move(header))).value();

  Bytes out;
  data::append_varint(out, header_bytes.size());
  out.insert(out.end(), header_bytes.begin(), header_bytes.end());
  for (const CarBlock& block : car.blocks) append_block(out, block.cid, block.bytes);
  return out;
}

void append_block(Bytes& out, const data::Cid& cid, std::span<const std::uint8_t> bytes) {
  data::append_varint(out, data::kCidBinarySize + bytes.size());
  cid.append_bytes(out);
  out.insert(out.end(), bytes.begin(), bytes.end());
}

}  // namespace atproto::car

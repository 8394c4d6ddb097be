// CARv1 files (Content Addressable aRchives): strict reader and canonical
// writer for repository exports and commit "CAR slices".
// Spec: https://atproto.com/specs/repository#car-file-serialization, the
// CARv1 format it points to, and the CAR slice rules of
// https://atproto.com/specs/repository#repository-diffs.
//
// Layout of a CAR file:
//   varint(n) header            header: n bytes of DRISL-CBOR, the map
//                               {"roots": [cid-link, ...], "version": 1}
//   varint(m) cid data          one frame per block, repeated to the end:
//   varint(m) cid data          m bytes = binary CID + the block's bytes
//   ...
// Varints are the minimal multiformats unsigned varints (data/varint.hpp).
//
// Reader decisions (each under the id it enforces; error code = that id):
//   car.limits.car-size      the whole input is larger than CarLimits::max_car_bytes
//   car.header.frame         header length varint malformed, zero, or past the end
//   car.limits.header-size   header longer than CarLimits::max_header_bytes
//   data.*                   the header is not valid strict DRISL-CBOR: the
//                            data layer's code is passed through unchanged,
//                            since it names the exact rule broken
//   car.header.map           the header is not a map
//   car.header.keys          the header has keys besides "roots" and "version"
//                            (CARv1 defines exactly these two; rejecting the
//                            rest keeps a file's meaning unambiguous)
//   car.header.version       "version" missing or not the integer 1
//   car.header.roots         "roots" missing, not an array, or holding
//                            something other than cid-links
//   car.header.roots-nonempty  zero roots: atproto headers name one or more
//                            roots, the first being the commit
//   car.block.frame          a block frame's length varint malformed, a zero
//                            length, or a frame running past the end; any
//                            trailing garbage ends up here too
//   car.limits.block-size    a block's data larger than CarLimits::max_block_bytes
//   car.block.cid            the frame does not start with a blessed CID
//                            (v1, dag-cbor or raw, sha-256, 32-byte digest)
//   car.block.cid-matches    SHA-256 of the block's bytes differs from its CID
//
// Accepted on purpose: blocks in any order [car.block.any-order] and the same
// block more than once [car.block.duplicates]; both are kept as read. The
// reader checks framing and hashes only; decoding block contents (commits,
// MST nodes, records) belongs to the repo layer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "atproto/common/result.hpp"
#include "atproto/data/cid.hpp"

namespace atproto::car {

struct CarBlock {
  data::Cid cid;
  std::vector<std::uint8_t> bytes;

  friend bool operator==(const CarBlock&, const CarBlock&) = default;
};

struct CarFile {
  std::vector<data::Cid> roots;  // roots[0] is the commit in atproto
  std::vector<CarBlock> blocks;  // in file order, duplicates kept

  friend bool operator==(const CarFile&, const CarFile&) = default;
};

// [car.limits.car-size] [car.limits.block-size] [car.limits.header-size]
// Resource limits for untrusted CAR input
// (https://atproto.com/specs/repository#security-considerations).
struct CarLimits {
  // Largest accepted file. Full repository exports have no size set by the
  // spec; 1 GiB bounds memory while leaving room for large accounts. For a
  // firehose #commit slice use kCommitBlocksMaxBytes (see below).
  std::size_t max_car_bytes = std::size_t{1} << 30;
  // Largest accepted block data (the bytes after the CID). The sync spec caps
  // a commit's whole CAR slice at 2,000,000 bytes and a record at 1,000,000
  // bytes; no legitimate block (commit, MST node, record) is larger than the
  // slice that carries it, so 2,000,000 is the default. The tighter record
  // limit is a record rule, checked where blocks are known to be records.
  std::size_t max_block_bytes = 2'000'000;
  // Largest accepted header. A header holds one root in practice; 64 KiB
  // leaves room for well over a thousand.
  std::size_t max_header_bytes = 64 * 1024;
};

// The hard limit on a #commit event's `blocks` CAR slice
// (https://atproto.com/specs/sync#commit-events).
inline constexpr std::size_t kCommitBlocksMaxBytes = 2'000'000;

// A block as a view into the CAR bytes it was read from.
struct CarBlockView {
  data::Cid cid;
  std::span<const std::uint8_t> bytes;
};

// A CAR file read without copying any block: the views point into the
// input, which must outlive them.
struct CarView {
  std::vector<data::Cid> roots;
  std::vector<CarBlockView> blocks;  // in file order, duplicates kept
};

// Strict parse of a whole CARv1 file; see the error codes above.
Result<CarFile> read_car(std::span<const std::uint8_t> bytes, CarLimits limits = {});
// The same checks (every block's hash included) without copying the blocks,
// for readers that use them while the input is at hand (a verified import).
Result<CarView> read_car_view(std::span<const std::uint8_t> bytes, CarLimits limits = {});

// The roots of a CAR header: `header_bytes` are the header's DRISL-CBOR
// (after its length varint), checked in full by the header rules above
// (data.*, car.header.*). read_car_view gives the same verdict; it
// recognises the usual one-root header from its bytes without decoding it.
Result<std::vector<data::Cid>> read_car_header(std::span<const std::uint8_t> header_bytes);

// [car.roots.commit-included] The block of the first root (the commit) is
// among the blocks. Further roots have no defined meaning yet and are not
// checked. Error codes: car.header.roots-nonempty (no roots at all),
// car.roots.commit-included.
Status check_roots_present(const CarFile& car);
Status check_roots_present(const CarView& car);

// Canonical CARv1 bytes: the header as canonical DRISL-CBOR
// {"roots": [...], "version": 1}, then each block in the given order as
// minimal varint(len) + binary CID + bytes. No validation is done: a CarFile
// with no roots or a block whose CID does not match is written as given
// (and read_car will then reject it).
std::vector<std::uint8_t> write_car(const CarFile& car);

// One block frame (minimal varint(len) + binary CID + bytes) appended to
// `out`: for writers that stream a CAR without building a CarFile first
// (write_car of a CarFile with no blocks gives the header to start from).
void append_block(std::vector<std::uint8_t>& out, const data::Cid& cid,
                  std::span<const std::uint8_t> bytes);

}  // namespace atproto::car

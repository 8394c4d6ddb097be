// DRISL-CBOR (the DAG-CBOR subset atproto uses): canonical encoder and
// strict decoder for data model values.
// Spec: https://atproto.com/specs/data-model (opening section and
// #data-types), with the normalization rules of DRISL / DAG-CBOR it cites.
//
// The encoder writes the one canonical form of a value: shortest integer and
// length heads, definite lengths only, map keys ordered by length then
// bytewise, and cid-links as tag 42 over a byte string 0x00 + binary CID.
//
// The decoder accepts exactly that form and rejects everything else, each
// with the id of the rule broken as error code:
//   data.cbor.truncated          input ends inside an item (or is empty)
//   data.cbor.well-formed        reserved additional-info values (28-30),
//                                 additional info 31 on integers or tags
//   data.cbor.indefinite-length  indefinite-length strings, arrays, maps, or
//                                 a stray "break" byte
//   data.cbor.int-shortest       an integer not in its shortest form
//   data.cbor.length-shortest    a length or tag number not in shortest form
//   data.model.int64             an integer outside the signed 64-bit range
//   data.model.utf8               a text string that is not valid UTF-8
//   data.cbor.map-key-string     a map key that is not a text string
//   data.cbor.map-key-order      map keys not in length-then-bytewise order
//   data.cbor.map-key-unique     a repeated map key
//   data.model.no-floats         a half, single or double float
//   data.cbor.simple-values      undefined or any simple value besides
//                                 false, true and null
//   data.cbor.tag-42-only        a tag other than 42
//   data.cbor.cid-link           tag 42 content not a byte string with a
//                                 leading 0x00 (then data.cid.* for the CID)
//   data.cbor.trailing-bytes     bytes after the single top-level item
//   data.limits.depth            nesting deeper than DecodeLimits::max_depth
//   data.limits.size             input or item count beyond DecodeLimits
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "atproto/common/result.hpp"
#include "atproto/data/cid.hpp"
#include "atproto/data/value.hpp"

namespace atproto::data {

// [data.limits.depth] [data.limits.size] Resource limits for untrusted input.
struct DecodeLimits {
  // Arrays and maps nested deeper than this are refused (the top-level
  // container is depth 1).
  std::size_t max_depth = 128;
  // Largest accepted input, matching the firehose frame limit of 5 MB
  // (https://atproto.com/specs/sync).
  std::size_t max_input_bytes = 5 * 1024 * 1024;
  // Most data items (scalars and containers) in one input; bounds memory.
  std::size_t max_items = 1'000'000;
};

// Canonical DRISL-CBOR bytes of `value`. Fails only for a string or map key
// that is not valid UTF-8 (error code data.model.utf8).
Result<std::vector<std::uint8_t>> encode_cbor(const Value& value);

// Strict decoding of exactly one DRISL-CBOR item; see the codes above.
Result<Value> decode_cbor(std::span<const std::uint8_t> bytes, const DecodeLimits& limits = {});

// The same strict decoding of the first item of `bytes`, which may be
// followed by more: `consumed` receives the item's length. For formats that
// concatenate items, such as event stream frames (a header then a body,
// https://atproto.com/specs/event-stream#framing).
Result<Value> decode_cbor_prefix(std::span<const std::uint8_t> bytes, std::size_t& consumed,
                                 const DecodeLimits& limits = {});

// The dag-cbor CID of a value: SHA-256 over encode_cbor(value).
Result<Cid> cid_of(const Value& value);

}  // namespace atproto::data

// Blob references: the `blob` data model type and its legacy form.
// Spec: https://atproto.com/specs/data-model#blob-type and
// https://atproto.com/specs/blob#blob-metadata
#pragma once

#include <cstdint>
#include <string>

#include "atproto/common/result.hpp"
#include "atproto/data/cid.hpp"
#include "atproto/data/value.hpp"

namespace atproto::data {

// One in-memory form for both blob shapes. For a legacy reference the size
// is unknown and stored as 0 (see blob_to_value).
struct BlobRef {
  Cid ref;
  std::string mime_type;
  std::int64_t size = 0;
  bool legacy = false;

  friend bool operator==(const BlobRef&, const BlobRef&) = default;
};

// True for a map whose "$type" is the string "blob".
bool is_blob_node(const Map& map);

// Reads a blob node: a map with "$type": "blob", "ref" (a cid-link with the
// raw codec), "mimeType" (non-empty string) and "size" (integer > 0).
// Without "$type" it accepts the legacy form {"cid": <CID string>,
// "mimeType": <non-empty string>} and returns it with legacy = true.
// Other fields are ignored. Error codes: data.blob.shape (not a map, a
// missing field or a field of the wrong kind), data.blob.ref-raw,
// data.blob.mime-type, data.blob.size, data.blob.legacy-shape.
Result<BlobRef> parse_blob(const Value& value);

// The blob node for `blob`, always in the current form. A legacy reference,
// or any size of zero or less, is refused (data.blob.legacy-no-write), so a
// legacy blob can never be written back out, and neither can an invalid one
// (data.blob.ref-raw, data.blob.mime-type).
Result<Value> blob_to_value(const BlobRef& blob);

}  // namespace atproto::data

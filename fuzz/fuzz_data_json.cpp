// Fuzz target: JSON text read as data model values (from_json,
// record_from_json), then written as DRISL-CBOR and read back.
// Spec: https://atproto.com/specs/data-model#json-representation
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "atproto/data/cbor.hpp"
#include "atproto/data/cid.hpp"
#include "atproto/data/json.hpp"
#include "atproto/data/validate.hpp"
#include "atproto/data/value.hpp"
#include "fuzz_check.hpp"

namespace data = atproto::data;

namespace {

bool json_error_code(const atproto::Status& s) {
  return fuzz::error_in_family(s, "data.json.") || fuzz::error_in_family(s, "data.model.") ||
         fuzz::error_in_family(s, "data.limits.") || fuzz::error_in_family(s, "data.cid.") ||
         fuzz::error_in_family(s, "data.blob.");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in = fuzz::begin_input(data, size);

  nlohmann::json j =
      nlohmann::json::parse(in.begin(), in.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;

  auto value = data::from_json(j);
  auto record = data::record_from_json(j);
  if (!value) {
    FUZZ_CHECK(json_error_code(value.error()));
    // [data.model.record-object] A record is a value with a map on top, so a
    // refused value is a refused record.
    FUZZ_CHECK(!record.ok());
    FUZZ_CHECK(json_error_code(record.error()));
    return 0;
  }
  const data::Value& v = *value;
  FUZZ_CHECK(data::validate_data(v).ok());

  // record_from_json accepts exactly the values with a map on top (a $link or
  // $bytes object is a JSON object but not a map).
  FUZZ_CHECK(record.ok() == v.is_map());
  if (record.ok()) {
    FUZZ_CHECK(*record == v);
    FUZZ_CHECK(j.is_object());
  } else {
    FUZZ_CHECK(record.error().code == "data.model.record-object");
  }

  // CBOR: encode, decode back, same value; encoding is deterministic.
  auto bytes = data::encode_cbor(v);
  FUZZ_CHECK(bytes.ok());
  auto decoded = data::decode_cbor(*bytes);
  FUZZ_CHECK(decoded.ok());
  FUZZ_CHECK(*decoded == v);
  auto bytes2 = data::encode_cbor(*decoded);
  FUZZ_CHECK(bytes2.ok() && *bytes2 == *bytes);
  auto cid = data::cid_of(v);
  FUZZ_CHECK(cid.ok() && *cid == data::Cid::compute(data::Codec::kDagCbor, *bytes));

  // JSON: the value's own JSON form reads back as the same value.
  auto back = data::from_json(data::to_json(v));
  FUZZ_CHECK(back.ok());
  FUZZ_CHECK(*back == v);
  return 0;
}

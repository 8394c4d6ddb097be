// Fuzz target: the strict DRISL-CBOR decoder, the tape decoder beside it
// (which must agree with it on every input), and the CBOR <-> JSON mapping
// of whatever they accept.
// Spec: https://atproto.com/specs/data-model (DRISL / DAG-CBOR normalization)
// and https://atproto.com/specs/data-model#json-representation
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "atproto/data/cbor.hpp"
#include "atproto/data/cbor_view.hpp"
#include "atproto/data/cid.hpp"
#include "atproto/data/json.hpp"
#include "atproto/data/validate.hpp"
#include "atproto/data/value.hpp"
#include "fuzz_check.hpp"

namespace data = atproto::data;

namespace {

// True when some map holds a "$link" or "$bytes" key: its JSON form reads
// back as a cid-link, bytes, or a data.json.* error, not as the map.
bool has_json_reserved_key(const data::Value& v) {
  if (v.is_array()) {
    for (const auto& item : v.as_array()) {
      if (has_json_reserved_key(item)) return true;
    }
  } else if (v.is_map()) {
    for (const auto& [key, item] : v.as_map()) {
      if (key == "$link" || key == "$bytes" || has_json_reserved_key(item)) return true;
    }
  }
  return false;
}

bool decode_error_code(const atproto::Status& s) {
  return fuzz::error_in_family(s, "data.cbor.") || fuzz::error_in_family(s, "data.model.") ||
         fuzz::error_in_family(s, "data.limits.") || fuzz::error_in_family(s, "data.cid.");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::begin_input(data, size);
  std::span<const std::uint8_t> in(data, size);

  auto decoded = data::decode_cbor(in);
  // Both decoders: the same verdict, the same error, the same value.
  data::CborTape tape;
  auto viewed = data::decode_cbor_view(in, tape);
  FUZZ_CHECK(viewed.ok() == decoded.ok());
  if (!decoded) FUZZ_CHECK(viewed.error() == decoded.error());
  if (decoded) FUZZ_CHECK(data::to_value(tape.root()) == *decoded);
  if (!decoded) {
    // Every refusal names a rule of the decoder's families.
    FUZZ_CHECK(!decoded.error().code.empty());
    FUZZ_CHECK(decode_error_code(decoded.error()));
    return 0;
  }
  const data::Value& value = *decoded;

  // The decoder accepts only canonical bytes: re-encoding gives the input.
  auto encoded = data::encode_cbor(value);
  FUZZ_CHECK(encoded.ok());
  FUZZ_CHECK(encoded->size() == size);
  FUZZ_CHECK(std::vector<std::uint8_t>(in.begin(), in.end()) == *encoded);

  // cid_of hashes the canonical encoding, which is the input itself.
  auto cid = data::cid_of(value);
  FUZZ_CHECK(cid.ok());
  FUZZ_CHECK(*cid == data::Cid::compute(data::Codec::kDagCbor, *encoded));
  FUZZ_CHECK(*cid == data::Cid::compute(data::Codec::kDagCbor, in));
  FUZZ_CHECK(cid->codec() == data::Codec::kDagCbor);

  // Decoding the re-encoding gives the same value.
  auto again = data::decode_cbor(*encoded);
  FUZZ_CHECK(again.ok() && *again == value);

  // JSON form: from_json(to_json(v)) is v, and it succeeds exactly when
  // validate_data does, unless a map has a "$link" / "$bytes" key (whose JSON
  // form is read back as a link, bytes or a data.json.* error).
  nlohmann::json j = data::to_json(value);
  auto back = data::from_json(j);
  auto valid = data::validate_data(value);
  if (!has_json_reserved_key(value)) {
    FUZZ_CHECK(back.ok() == valid.ok());
    if (back.ok()) FUZZ_CHECK(*back == value);
    if (!back.ok()) FUZZ_CHECK(back.error().code == valid.error().code);
    // record_from_json: the same, plus a map at the top level.
    auto record = data::record_from_json(j);
    FUZZ_CHECK(record.ok() == (valid.ok() && value.is_map()));
    FUZZ_CHECK(record.ok() == data::validate_record(value).ok());
  } else if (back.ok()) {
    // Whatever it reads as is itself a valid value that round-trips.
    auto reencoded = data::encode_cbor(*back);
    FUZZ_CHECK(reencoded.ok());
    auto redecoded = data::decode_cbor(*reencoded);
    FUZZ_CHECK(redecoded.ok() && *redecoded == *back);
  }

  // The JSON text round-trips through nlohmann (strings are valid UTF-8,
  // so serializing cannot throw).
  std::string text = j.dump();
  nlohmann::json parsed = nlohmann::json::parse(text, nullptr, false);
  FUZZ_CHECK(!parsed.is_discarded());
  FUZZ_CHECK(parsed == j);
  return 0;
}

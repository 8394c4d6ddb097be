// Fuzz target: TIDs, their integer and (timestamp, clock id) forms, and the
// generator with fuzzer-chosen clock readings. Spec: https://atproto.com/specs/tid
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "atproto/syntax/format.hpp"
#include "atproto/syntax/record_key.hpp"
#include "atproto/syntax/tid.hpp"
#include "fuzz_check.hpp"
#include "oracles.hpp"

namespace syn = atproto::syntax;

namespace {

std::uint64_t load_u64(std::string_view bytes) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8 && i < bytes.size(); ++i) {
    v = (v << 8) | static_cast<unsigned char>(bytes[i]);
  }
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in = fuzz::begin_input(data, size);

  // As a string. [tid.syntax.length] [tid.syntax.charset] [tid.syntax.first-char]
  auto valid = syn::validate_tid(in);
  FUZZ_CHECK(valid.ok() == fuzz::oracle::is_tid(in));
  FUZZ_CHECK(fuzz::error_in_family(valid, "tid."));
  FUZZ_CHECK(syn::validate_string_format(syn::StringFormat::kTid, in).ok() == valid.ok());
  FUZZ_CHECK(syn::validate_record_key_type(in, "tid").ok() == valid.ok());  // [rkey.type.tid]

  auto value = syn::tid_to_integer(in);
  auto parts = syn::decode_tid(in);
  if (!valid.ok()) FUZZ_CHECK(!value.ok() && !parts.ok());
  if (valid.ok()) {
    // [tid.structure.layout]: first characters c-j set the reserved bit 63;
    // such TIDs pass the syntax but have no integer or parts reading.
    bool top_bit = (fuzz::oracle::tid_value(in) >> 63) != 0;
    FUZZ_CHECK(value.ok() == !top_bit && parts.ok() == !top_bit);
    if (top_bit) {
      FUZZ_CHECK(value.error().code == "tid.structure.layout");
      FUZZ_CHECK(parts.error().code == "tid.structure.layout");
    }
  }
  if (value.ok()) {
    // [tid.structure.encoding]
    FUZZ_CHECK(*value == fuzz::oracle::tid_value(in));
    FUZZ_CHECK((*value >> 63) == 0);
    auto back = syn::tid_from_integer(*value);
    FUZZ_CHECK(back.ok() && *back == in);
  }
  if (parts.ok()) {
    FUZZ_CHECK(value.ok());
    FUZZ_CHECK(parts->timestamp_us == (*value >> 10) && parts->clock_id == (*value & 1023u));
    auto back = syn::encode_tid(*parts);
    FUZZ_CHECK(back.ok() && *back == in);
  }

  // As a 64-bit integer.
  std::uint64_t raw = load_u64(in);
  auto encoded = syn::tid_from_integer(raw);
  FUZZ_CHECK(encoded.ok() == ((raw >> 63) == 0));
  if (encoded.ok()) {
    FUZZ_CHECK(syn::validate_tid(*encoded).ok());
    FUZZ_CHECK(fuzz::oracle::tid_value(*encoded) == raw);
    FUZZ_CHECK(*syn::tid_to_integer(*encoded) == raw);
  }

  // As parts: in range iff encodable.
  syn::TidParts p{raw >> 8,
                  static_cast<std::uint32_t>(load_u64(in.size() > 8 ? in.substr(8) : "") & 0xfffu)};
  auto from_parts = syn::encode_tid(p);
  FUZZ_CHECK(from_parts.ok() ==
             (p.timestamp_us <= syn::kTidMaxTimestamp && p.clock_id <= syn::kTidMaxClockId));
  if (from_parts.ok()) {
    FUZZ_CHECK(syn::validate_tid(*from_parts).ok());
    FUZZ_CHECK(*syn::decode_tid(*from_parts) == p);
  }

  // As clock readings for a generator: 8 bytes each; the first byte of the
  // input picks the clock id. [tid.generator.monotonic]
  if (size >= 2) {
    syn::TidGenerator generator(static_cast<std::uint32_t>(static_cast<unsigned char>(in[0])) * 4u);
    std::string previous;
    bool exhausted = false;
    for (std::size_t off = 1; off < in.size() && off < 1 + 8 * 64; off += 8) {
      std::uint64_t now = load_u64(in.substr(off));
      // Spread small inputs over the timestamp range, but keep room to grow.
      if (in[0] & 1) now >>= 11;
      auto t = generator.next_at(now);
      if (!t.ok()) {
        FUZZ_CHECK(t.error().code == "tid.generator.monotonic");
        exhausted = true;
        continue;
      }
      FUZZ_CHECK(!exhausted);  // once exhausted, never again
      FUZZ_CHECK(syn::validate_tid(*t).ok());
      FUZZ_CHECK(*t > previous);
      auto tp = syn::decode_tid(*t);
      FUZZ_CHECK(tp.ok() && tp->clock_id == generator.clock_id());
      FUZZ_CHECK(tp->timestamp_us >= std::min(now, syn::kTidMaxTimestamp));
      previous = *t;
    }
  }
  return 0;
}

// Fuzz target: CID strings (Lexicon `cid` format).
// Spec: https://atproto.com/specs/data-model#link-and-cid-formats
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "atproto/syntax/cid.hpp"
#include "atproto/syntax/format.hpp"
#include "fuzz_check.hpp"
#include "oracles.hpp"

namespace syn = atproto::syntax;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in = fuzz::begin_input(data, size);

  // [lex.format.cid], against a naive base32 decoder.
  auto valid = syn::validate_cid_string(in);
  FUZZ_CHECK(valid.ok() || valid.error().code == "lex.format.cid");
  FUZZ_CHECK(syn::validate_string_format(syn::StringFormat::kCid, in).ok() == valid.ok());
  auto expected = fuzz::oracle::is_cid(in);
  if (expected) FUZZ_CHECK(valid.ok() == *expected);
  if (valid.ok()) FUZZ_CHECK(in.size() == 59 && in[0] == 'b');

  // The input bytes as a CID: the first byte picks the codec, the next 32
  // (zero-padded) are the digest; the result must validate.
  std::vector<std::uint8_t> bytes = {
      0x01, (size > 0 && (data[0] & 1)) ? std::uint8_t{0x55} : std::uint8_t{0x71}, 0x12, 0x20};
  for (std::size_t i = 1; i <= 32; ++i) bytes.push_back(i < size ? data[i] : 0);
  std::string built = "b" + fuzz::oracle::base32_encode(bytes);
  FUZZ_CHECK(syn::validate_cid_string(built).ok());
  // ...and any other raw byte string of the input is a CID exactly when the
  // naive decoder says so.
  std::vector<std::uint8_t> raw(data, data + std::min<std::size_t>(size, 64));
  std::string raw_cid = "b" + fuzz::oracle::base32_encode(raw);
  auto raw_expected = fuzz::oracle::is_cid(raw_cid);
  FUZZ_CHECK(raw_expected.has_value());
  FUZZ_CHECK(syn::validate_cid_string(raw_cid).ok() == *raw_expected);
  return 0;
}

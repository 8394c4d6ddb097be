// Fuzz target: the encodings under CIDs and bytes values: multibase (base32,
// base58btc), unsigned varints, base64, and CIDs in string and binary form.
// Spec: https://atproto.com/specs/data-model#link-and-cid-formats,
// https://atproto.com/specs/data-model#bytes and
// https://atproto.com/specs/cryptography#public-key-encoding
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "atproto/data/base64.hpp"
#include "atproto/data/cid.hpp"
#include "atproto/data/multibase.hpp"
#include "atproto/data/varint.hpp"
#include "atproto/syntax/cid.hpp"
#include "fuzz_check.hpp"

namespace data = atproto::data;
namespace syn = atproto::syntax;

namespace {

using Bytes = std::vector<std::uint8_t>;

void check_text(std::string_view in) {
  // [data.multibase.prefix] Decoders are strict: every accepted text is the
  // one text the encoder writes for the decoded bytes.
  auto b32 = data::base32_decode(in);
  if (b32)
    FUZZ_CHECK(data::base32_encode(*b32) == in);
  else
    FUZZ_CHECK(b32.error().code == "data.multibase.base32");

  // base58btc has no padding or spare bits: decoding is a bijection.
  if (in.size() <= 1024) {  // quadratic; larger inputs add nothing
    auto b58 = data::base58btc_decode(in);
    if (b58)
      FUZZ_CHECK(data::base58btc_encode(*b58) == in);
    else
      FUZZ_CHECK(b58.error().code == "data.multibase.base58btc");

    auto mb = data::multibase_decode(in);
    if (mb) {
      FUZZ_CHECK(!in.empty() && (in[0] == 'b' || in[0] == 'z'));
      auto base = in[0] == 'b' ? data::Multibase::kBase32 : data::Multibase::kBase58btc;
      FUZZ_CHECK(data::multibase_encode(base, *mb) == in);
    } else {
      FUZZ_CHECK(fuzz::starts_with(mb.error().code, "data.multibase."));
      if (in.empty() || (in[0] != 'b' && in[0] != 'z'))
        FUZZ_CHECK(mb.error().code == "data.multibase.prefix");
    }
  }

  // [data.json.bytes-base64] Unpadded or exactly padded standard base64;
  // an accepted text is the encoding of its bytes, plus optional padding.
  auto b64 = data::base64_decode(in);
  if (b64) {
    std::string unpadded = data::base64_encode(*b64);
    FUZZ_CHECK(fuzz::starts_with(in, unpadded));
    std::string_view rest = in.substr(unpadded.size());
    FUZZ_CHECK(rest.find_first_not_of('=') == std::string_view::npos);
    FUZZ_CHECK(rest.empty() || (in.size() % 4 == 0 && rest.size() <= 2));
  } else {
    FUZZ_CHECK(b64.error().code == "data.json.bytes-base64");
  }

  // [data.cid.string] A CID string is 'b' + canonical base32 of a binary CID.
  auto cid = data::Cid::parse(in);
  if (cid) {
    FUZZ_CHECK(cid->to_string() == in);
    FUZZ_CHECK(in.size() == 59);
    auto binary = data::multibase_decode(in);
    FUZZ_CHECK(binary.ok() && *binary == cid->to_bytes());
  } else {
    FUZZ_CHECK(fuzz::starts_with(cid.error().code, "data.cid."));
    if (!in.empty() && in[0] == 'b' && in.size() <= 65) {
      auto binary = data::base32_decode(in.substr(1));
      FUZZ_CHECK(!binary.ok() || !data::Cid::from_bytes(*binary).ok());
    }
  }
  // The data layer and the Lexicon `cid` string format agree.
  FUZZ_CHECK(cid.ok() == syn::validate_cid_string(in).ok());
}

void check_cid_bytes(std::span<const std::uint8_t> in) {
  // [data.cid.binary] Exactly one blessed binary CID.
  auto cid = data::Cid::from_bytes(in);
  if (!cid) {
    FUZZ_CHECK(fuzz::starts_with(cid.error().code, "data.cid."));
    return;
  }
  Bytes bytes = cid->to_bytes();
  FUZZ_CHECK(bytes.size() == data::kCidBinarySize);
  FUZZ_CHECK(Bytes(in.begin(), in.end()) == bytes);
  auto parsed = data::Cid::parse(cid->to_string());
  FUZZ_CHECK(parsed.ok() && *parsed == *cid);
  FUZZ_CHECK(syn::validate_cid_string(cid->to_string()).ok());
}

void check_varints(std::span<const std::uint8_t> in) {
  // Read varints back to back; each is minimal and re-encodes to its bytes.
  std::size_t pos = 0;
  while (pos < in.size()) {
    std::size_t start = pos;
    auto v = data::read_varint(in, pos);
    if (!v) {
      const std::string& code = v.error().code;
      FUZZ_CHECK(code == "data.varint.truncated" || code == "data.varint.max-length" ||
                 code == "data.varint.minimal");
      break;
    }
    FUZZ_CHECK(pos > start && pos - start <= data::kMaxVarintBytes);
    FUZZ_CHECK(*v <= data::kMaxVarintValue);
    Bytes out;
    data::append_varint(out, *v);
    FUZZ_CHECK(Bytes(in.begin() + static_cast<std::ptrdiff_t>(start),
                     in.begin() + static_cast<std::ptrdiff_t>(pos)) == out);
  }

  // The first 8 bytes as a value (63 bits): encode, then read back.
  std::uint64_t x = 0;
  if (!in.empty()) std::memcpy(&x, in.data(), std::min<std::size_t>(in.size(), sizeof x));
  x &= data::kMaxVarintValue;
  Bytes enc;
  data::append_varint(enc, x);
  std::size_t p = 0;
  auto y = data::read_varint(enc, p);
  FUZZ_CHECK(y.ok() && *y == x && p == enc.size());
  std::size_t bits = 1;
  while (bits < 64 && (x >> bits) != 0) ++bits;
  FUZZ_CHECK(enc.size() == (bits + 6) / 7);  // minimal length
}

void check_encoders(std::span<const std::uint8_t> in) {
  // Every byte string survives each encoding.
  auto b32 = data::base32_decode(data::base32_encode(in));
  FUZZ_CHECK(b32.ok() && std::equal(b32->begin(), b32->end(), in.begin(), in.end()));
  if (in.size() <= 512) {
    auto b58 = data::multibase_decode(data::multibase_encode(data::Multibase::kBase58btc, in));
    FUZZ_CHECK(b58.ok() && std::equal(b58->begin(), b58->end(), in.begin(), in.end()));
  }
  auto mb = data::multibase_decode(data::multibase_encode(data::Multibase::kBase32, in));
  FUZZ_CHECK(mb.ok() && std::equal(mb->begin(), mb->end(), in.begin(), in.end()));
  std::string b64text = data::base64_encode(in);
  FUZZ_CHECK(b64text.find('=') == std::string::npos);
  auto b64 = data::base64_decode(b64text);
  FUZZ_CHECK(b64.ok() && std::equal(b64->begin(), b64->end(), in.begin(), in.end()));
  // ...and with RFC 4648 padding, which is optional.
  std::string padded = b64text + std::string((4 - b64text.size() % 4) % 4, '=');
  auto b64p = data::base64_decode(padded);
  FUZZ_CHECK(b64p.ok() && *b64p == *b64);

  // A CID over the input, both codecs, round-trips through both forms.
  for (auto codec : {data::Codec::kDagCbor, data::Codec::kRaw}) {
    data::Cid cid = data::Cid::compute(codec, in);
    FUZZ_CHECK(cid.digest() == data::sha256(in));
    auto from_text = data::Cid::parse(cid.to_string());
    FUZZ_CHECK(from_text.ok() && *from_text == cid);
    auto from_bytes = data::Cid::from_bytes(cid.to_bytes());
    FUZZ_CHECK(from_bytes.ok() && *from_bytes == cid);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in = fuzz::begin_input(data, size);
  std::span<const std::uint8_t> bytes(data, size);
  check_text(in);
  check_cid_bytes(bytes);
  check_varints(bytes);
  check_encoders(bytes);
  return 0;
}

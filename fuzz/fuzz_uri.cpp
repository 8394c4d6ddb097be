// Fuzz target: the Lexicon `uri` format (RFC 3986 absolute URI).
// Spec: https://atproto.com/specs/lexicon#uri
#include <cstddef>
#include <cstdint>

#include "atproto/syntax/format.hpp"
#include "atproto/syntax/uri.hpp"
#include "fuzz_check.hpp"
#include "oracles.hpp"

namespace syn = atproto::syntax;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in = fuzz::begin_input(data, size);

  // [lex.format.uri]
  auto valid = syn::validate_uri(in);
  FUZZ_CHECK(valid.ok() || valid.error().code == "lex.format.uri");
  FUZZ_CHECK(syn::validate_string_format(syn::StringFormat::kUri, in).ok() == valid.ok());
  FUZZ_CHECK(syn::validate_string_format("uri", in).ok() == valid.ok());
  if (!valid.ok()) return 0;

  // Necessary conditions any RFC 3986 URI meets.
  FUZZ_CHECK(in.size() <= syn::kUriMaxLength);
  std::size_t colon = in.find(':');
  FUZZ_CHECK(colon != std::string_view::npos && colon > 0 && colon + 1 < in.size());
  FUZZ_CHECK(fuzz::oracle::in(fuzz::oracle::kAlpha, in[0]));
  for (std::size_t i = 1; i < colon; ++i) {
    FUZZ_CHECK(fuzz::oracle::in(fuzz::oracle::kAlnum, in[i]) || fuzz::oracle::in("+-.", in[i]));
  }
  // at: URIs may carry any valid DID as authority, and DID syntax leaves
  // percent-escapes unchecked, so escapes are only checked outside it there.
  std::size_t authority_end = 0;
  if (fuzz::equals_ignore_case(in.substr(0, colon), "at") && in.substr(colon + 1, 2) == "//") {
    authority_end = in.find_first_of("/?#", colon + 3);
    if (authority_end == std::string_view::npos) authority_end = in.size();
  }
  for (std::size_t i = 0; i < in.size(); ++i) {
    auto c = static_cast<unsigned char>(in[i]);
    FUZZ_CHECK(c > 0x20 && c < 0x7f);
    FUZZ_CHECK(!fuzz::oracle::in("\"<>\\^`{|} ", in[i]));
    if (in[i] == '%' && i >= authority_end) {
      FUZZ_CHECK(i + 2 < in.size());
      FUZZ_CHECK(fuzz::oracle::in("0123456789abcdefABCDEF", in[i + 1]));
      FUZZ_CHECK(fuzz::oracle::in("0123456789abcdefABCDEF", in[i + 2]));
    }
  }
  // At most one '#'; nothing follows it but fragment characters.
  std::size_t hash = in.find('#');
  if (hash != std::string_view::npos) FUZZ_CHECK(in.find('#', hash + 1) == std::string_view::npos);
  return 0;
}

// Fuzz target: record keys and key types. Spec: https://atproto.com/specs/record-key
#include <cstddef>
#include <cstdint>
#include <string>

#include "atproto/syntax/format.hpp"
#include "atproto/syntax/nsid.hpp"
#include "atproto/syntax/record_key.hpp"
#include "atproto/syntax/tid.hpp"
#include "fuzz_check.hpp"
#include "oracles.hpp"

namespace syn = atproto::syntax;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in = fuzz::begin_input(data, size);

  // [rkey.syntax.chars] [rkey.syntax.length] [rkey.syntax.not-dot]
  auto valid = syn::validate_record_key(in);
  FUZZ_CHECK(valid.ok() == fuzz::oracle::is_record_key(in));
  FUZZ_CHECK(fuzz::error_in_family(valid, "rkey.syntax."));
  FUZZ_CHECK(syn::validate_string_format(syn::StringFormat::kRecordKey, in).ok() == valid.ok());

  // [rkey.type.any] [rkey.type.tid] [rkey.type.nsid] [rkey.type.literal]
  FUZZ_CHECK(syn::validate_record_key_type(in, "any").ok() == valid.ok());
  FUZZ_CHECK(syn::validate_record_key_type(in, "tid").ok() == fuzz::oracle::is_tid(in));
  FUZZ_CHECK(syn::validate_record_key_type(in, "nsid").ok() ==
             (valid.ok() && fuzz::oracle::is_nsid(in)));
  FUZZ_CHECK(syn::validate_record_key_type(in, "literal:self").ok() == (in == "self"));
  if (valid.ok()) {
    FUZZ_CHECK(syn::validate_record_key_type(in, "literal:" + std::string(in)).ok());
  }

  // The input as a key type: only known types are accepted.
  auto typed = syn::validate_record_key_type("self", in);
  bool known = in == "any" || in == "tid" || in == "nsid" || fuzz::starts_with(in, "literal:");
  if (!known) {
    FUZZ_CHECK(!typed.ok() && typed.error().code == "rkey.type.unknown");
  }
  if (typed.ok()) FUZZ_CHECK(in == "any" || in == "literal:self");
  return 0;
}

// Fuzz target: NSIDs and NSID globs. Spec: https://atproto.com/specs/nsid
#include <cstddef>
#include <cstdint>
#include <string>

#include "atproto/syntax/format.hpp"
#include "atproto/syntax/nsid.hpp"
#include "fuzz_check.hpp"
#include "oracles.hpp"

namespace syn = atproto::syntax;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in = fuzz::begin_input(data, size);

  auto valid = syn::validate_nsid(in);
  FUZZ_CHECK(valid.ok() ==
             fuzz::oracle::is_nsid(in));  // [nsid.syntax.*] [nsid.authority.*] [nsid.name.*]
  FUZZ_CHECK(fuzz::error_in_family(valid, "nsid."));
  FUZZ_CHECK(syn::validate_string_format(syn::StringFormat::kNsid, in).ok() == valid.ok());

  auto parsed = syn::parse_nsid(in);
  FUZZ_CHECK(parsed.ok() == valid.ok());

  // [nsid.glob]: a full NSID is a pattern matching itself.
  auto glob = syn::validate_nsid_glob(in);
  FUZZ_CHECK(fuzz::error_in_family(glob, "nsid."));
  if (valid.ok()) FUZZ_CHECK(glob.ok());
  if (glob.ok()) {
    FUZZ_CHECK(in == "*" || valid.ok() || (in.size() >= 2 && in.substr(in.size() - 2) == ".*"));
    (void)syn::nsid_glob_matches(in, "com.example.fooBar");
  }
  (void)syn::nsid_glob_matches("com.example.*", in);

  if (valid.ok()) {
    FUZZ_CHECK(parsed->to_string() == in);
    FUZZ_CHECK(parsed->segments.size() >= 3);
    FUZZ_CHECK(in.substr(in.rfind('.') + 1) == parsed->name());

    // [nsid.authority.normalize] [nsid.name.case-sensitive]
    std::string norm = syn::normalize_nsid(in);
    std::size_t dot = in.rfind('.');
    FUZZ_CHECK(norm == fuzz::ascii_lower(in.substr(0, dot)) + std::string(in.substr(dot)));
    FUZZ_CHECK(syn::validate_nsid(norm).ok());
    FUZZ_CHECK(syn::normalize_nsid(norm) == norm);

    // Globs: "*", itself, and every authority prefix + ".*" match.
    FUZZ_CHECK(syn::nsid_glob_matches("*", in));
    FUZZ_CHECK(syn::nsid_glob_matches(in, in));
    std::string prefix;
    for (std::size_t i = 0; i + 1 < parsed->segments.size(); ++i) {
      prefix += parsed->segments[i] + ".";
      std::string pattern = prefix + "*";
      FUZZ_CHECK(syn::validate_nsid_glob(pattern).ok());
      FUZZ_CHECK(syn::nsid_glob_matches(pattern, in));
    }
  }
  return 0;
}

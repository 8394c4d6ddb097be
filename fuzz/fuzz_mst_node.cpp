// Fuzz target: MST node decoding (decode_node).
// Spec: https://atproto.com/specs/repository#mst-structure
//
// Oracle: a refusal names a rule (repo.mst.* or a data.* code from the
// strict CBOR decoder). An accepted node re-encodes to exactly the input:
// strict DRISL-CBOR, the exact schema and full prefix compression leave one
// encoding per node, so anything else accepted would be a second encoding.
// Keys in an accepted node strictly increase.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "atproto/repo/mst.hpp"
#include "fuzz_check.hpp"

namespace repo = atproto::repo;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::begin_input(data, size);
  std::span<const std::uint8_t> in(data, size);
  auto node = repo::decode_node(in);
  if (!node) {
    FUZZ_CHECK(fuzz::error_in_family(node.error(), "repo.mst.") ||
               fuzz::error_in_family(node.error(), "data."));
    return 0;
  }
  auto again = repo::encode_node(*node);
  FUZZ_CHECK(std::vector<std::uint8_t>(in.begin(), in.end()) == again);
  for (std::size_t i = 1; i < node->entries.size(); ++i) {
    FUZZ_CHECK(node->entries[i - 1].key < node->entries[i].key);
  }
  return 0;
}

// Fuzz target: the strict CARv1 reader (read_car, check_roots_present).
// Spec: https://atproto.com/specs/repository#car-file-serialization
//
// Oracle: a refusal names a rule (a car.* code, or a data.* code passed
// through from the header's CBOR); an accepted file re-reads to the same
// CarFile after write_car, and since the reader takes only canonical bytes
// (minimal varints, canonical header), write_car gives the input back. Every
// block's CID is the hash of its bytes. A tighter block limit never turns a
// refusal into an acceptance.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "atproto/car/car.hpp"
#include "atproto/data/cid.hpp"
#include "fuzz_check.hpp"

namespace car = atproto::car;
namespace data = atproto::data;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::begin_input(data, size);
  std::span<const std::uint8_t> in(data, size);

  auto read = car::read_car(in);
  // With a 64-byte block limit, nothing refused by default is accepted.
  car::CarLimits tight;
  tight.max_block_bytes = 64;
  auto read_tight = car::read_car(in, tight);
  if (read_tight) FUZZ_CHECK(read.ok() && *read_tight == *read);

  if (!read) {
    FUZZ_CHECK(fuzz::error_in_family(read.error(), "car.") ||
               fuzz::error_in_family(read.error(), "data."));
    return 0;
  }
  const car::CarFile& file = *read;
  FUZZ_CHECK(!file.roots.empty());
  for (const auto& block : file.blocks) {
    FUZZ_CHECK(block.cid == data::Cid::compute(block.cid.codec(), block.bytes));
  }
  auto present = car::check_roots_present(file);
  if (!present) FUZZ_CHECK(present.error().code == "car.roots.commit-included");

  const std::vector<std::uint8_t> written = car::write_car(file);
  FUZZ_CHECK(written == std::vector<std::uint8_t>(in.begin(), in.end()));
  auto again = car::read_car(written);
  FUZZ_CHECK(again.ok() && *again == file);
  return 0;
}

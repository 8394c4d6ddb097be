// Fuzz target: verifying a repository CAR (verify_repo_car) and the block
// order check, with the account and key of vectors/repo/verify.json.
// Spec: https://atproto.com/specs/repository
//
// Oracle: a refusal names a rule (car.*, data.* or repo.*). An accepted
// repository is consistent: records strictly ordered, every path a valid
// repo path, and the MST rebuilt from scratch from the records has the
// commit's root, since the tree's shape follows from its contents alone.
#include <cstddef>
#include <cstdint>
#include <span>

#include "atproto/crypto/keys.hpp"
#include "atproto/repo/repository.hpp"
#include "fuzz_check.hpp"

namespace repo = atproto::repo;

namespace {

const atproto::crypto::PublicKey& vector_key() {
  // The signing key of tools/gen-repo-vectors.py.
  static const auto key = atproto::crypto::PublicKey::from_did_key(
                              "did:key:zQ3shfXbYeAcZzyyXjopyVPt4AkYRrV97BtaHEzHPCHEYysXR")
                              .value();
  return key;
}

bool rule_code(const atproto::Error& e) {
  return fuzz::error_in_family(e, "car.") || fuzz::error_in_family(e, "data.") ||
         fuzz::error_in_family(e, "repo.");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::begin_input(data, size);
  std::span<const std::uint8_t> in(data, size);
  auto order = repo::check_block_order(in);
  if (!order) FUZZ_CHECK(rule_code(order.error()));
  auto verified = repo::verify_repo_car(in, "did:plc:w4xbfzo7kqfes5zb7r6qv3rw", vector_key());
  if (!verified) {
    FUZZ_CHECK(rule_code(verified.error()));
    return 0;
  }
  for (std::size_t i = 0; i < verified->records.size(); ++i) {
    FUZZ_CHECK(repo::validate_repo_path(verified->records[i].key).ok());
    if (i > 0) FUZZ_CHECK(verified->records[i - 1].key < verified->records[i].key);
  }
  auto rebuilt = repo::Mst::from_entries(verified->records);
  FUZZ_CHECK(rebuilt.ok() && rebuilt->root_cid().ok() &&
             *rebuilt->root_cid() == verified->commit.data);
  return 0;
}

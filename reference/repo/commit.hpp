// Commit objects (repository format version 3): the signed top block of a
// repository, naming the MST root and the revision.
// Spec: https://atproto.com/specs/repository#commit-objects
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "atproto/common/result.hpp"
#include "atproto/crypto/keys.hpp"
#include "atproto/data/cid.hpp"
#include "atproto/data/value.hpp"

namespace atproto::repo {

inline constexpr std::int64_t kRepoVersion = 3;

struct Commit {
  std::string did;
  data::Cid data;                 // MST root
  std::string rev;                // TID
  std::optional<data::Cid> prev;  // virtually always null, but always present
  std::vector<std::uint8_t> sig;  // empty while unsigned
  std::int64_t version = kRepoVersion;
  friend bool operator==(const Commit&, const Commit&) = default;
};

// The commit without `sig`, as a data model value: what gets signed.
data::Value unsigned_commit_value(const Commit& commit);
// The whole commit, `sig` included.
data::Value commit_value(const Commit& commit);
// Canonical DRISL-CBOR of the signed commit, and its CID [repo.commit.cid].
std::vector<std::uint8_t> encode_commit(const Commit& commit);

// Strict decoding of a commit block. Error codes: data.* (not strict
// DRISL-CBOR), repo.commit.fields (missing, extra or mistyped fields, prev
// absent instead of null, non-dag-cbor data or prev links),
// repo.commit.version (not 3), repo.commit.rev (not a TID),
// repo.commit.did (not a valid DID).
Result<Commit> decode_commit(std::span<const std::uint8_t> bytes);

// A commit block as received, decoded as decode_commit does, with the
// SHA-256 of the bytes its signature covers, taken from the block itself:
// a strict DRISL-CBOR map without one of its entries is the canonical
// encoding of the rest once the map head counts one entry less, so the
// unsigned commit's bytes are the block minus its `sig` entry (no data
// model map built and encoded again). The same error codes as
// decode_commit.
struct SignedCommit {
  Commit commit;
  data::Digest unsigned_digest{};
};
Result<SignedCommit> decode_signed_commit(std::span<const std::uint8_t> bytes);

// [repo.commit.signature] Fills `sig`: the key signs the SHA-256 of the
// unsigned commit's DRISL-CBOR bytes.
void sign_commit(Commit& commit, const crypto::PrivateKey& key);
// Error codes: repo.commit.signature (wrapping the crypto layer's reason).
Status verify_commit_signature(const Commit& commit, const crypto::PublicKey& key);
// The same with the unsigned commit's digest already taken (by
// decode_signed_commit): only the verify.
Status verify_commit_signature(const Commit& commit, const data::Digest& unsigned_digest,
                               const crypto::PublicKey& key);

// [repo.commit.rev-increases] The rev for a new commit: `candidate` (a TID,
// usually the current time) if it is greater than `previous`, else the TID
// just after `previous`. An empty `previous` means no earlier commit.
Result<std::string> next_rev(std::string_view previous, std::string_view candidate);

}  // namespace atproto::repo

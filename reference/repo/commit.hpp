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

// [repo.commit.signature] Fills `sig`: the key signs the SHA-256 of the
// unsigned commit's DRISL-CBOR bytes.
void sign_commit(Commit& commit, const crypto::PrivateKey& key);
// Error codes: repo.commit.signature (wrapping the crypto layer's reason).
Status verify_commit_signature(const Commit& commit, const crypto::PublicKey& key);

// [repo.commit.rev-increases] The rev for a new commit: `candidate` (a TID,
// usually the current time) if it is greater than `previous`, else the TID
// just after `previous`. An empty `previous` means no earlier commit.
Result<std::string> next_rev(std::string_view previous, std::string_view candidate);

}  // namespace atproto::repo

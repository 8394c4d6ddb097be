// A repository: records by collection and record key in an MST under a
// signed commit; writes produce new commits; export and import as CAR.
// Spec: https://atproto.com/specs/repository and
// https://atproto.com/specs/sync#repository-revisions
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "atproto/car/car.hpp"
#include "atproto/common/result.hpp"
#include "atproto/crypto/keys.hpp"
#include "atproto/data/value.hpp"
#include "atproto/repo/block_store.hpp"
#include "atproto/repo/commit.hpp"
#include "atproto/repo/inversion.hpp"
#include "atproto/repo/mst.hpp"

namespace atproto::repo {

// One record write; `record` for create and update.
struct WriteOp {
  Action action;
  std::string collection;
  std::string rkey;
  std::optional<data::Value> record;
};

// What one commit changed: the material of a #commit event.
struct CommitResult {
  data::Cid cid;  // the new commit
  Commit commit;
  std::optional<std::string> since;    // rev of the previous commit
  std::optional<data::Cid> prev_data;  // MST root of the previous commit
  std::vector<RecordOp> ops;
  // [repo.diff.contents] The diff: the commit, new MST nodes, the nodes
  // needed for inversion, created and updated records. Commit first.
  std::vector<car::CarBlock> blocks;
};

class Repository {
 public:
  // Supplies revs: a TID for "now". The default reads the system clock.
  using RevClock = std::function<std::string()>;

  // A new repository for `did` holding `writes` (creates only), signed by
  // `key`; everything is written to `store`, which must outlive it.
  static Result<Repository> create(BlockStore& store, const std::string& did,
                                   const crypto::PrivateKey& key,
                                   const std::vector<WriteOp>& writes = {}, RevClock clock = {});
  // The repository whose commit `commit_cid` is in `store` (trusted store:
  // no signature check; use verify_repo_car for untrusted input).
  static Result<Repository> load(BlockStore& store, const data::Cid& commit_cid,
                                 RevClock clock = {});

  const Commit& commit() const { return commit_; }
  const data::Cid& commit_cid() const { return commit_cid_; }
  const Mst& tree() const { return tree_; }
  const std::string& did() const { return commit_.did; }

  Result<std::optional<data::Value>> get_record(std::string_view collection,
                                                std::string_view rkey) const;
  // Records of one collection (or all, for ""), in key order.
  Result<std::vector<MstEntry>> list_records(std::string_view collection = "") const;

  // Applies the writes as one commit. Error codes: repo.path.* (bad
  // collection or record key), usage.key-exists (create of an existing
  // record), usage.key-absent (update or delete of a missing one),
  // usage.write (a record missing, or a record that is not a map).
  Result<CommitResult> apply_writes(const std::vector<WriteOp>& writes,
                                    const crypto::PrivateKey& key);

  // [car.block.preferred-order] The full repository as a CAR: the commit as
  // root, then blocks in the streaming order.
  Result<std::vector<std::uint8_t>> export_car() const;
  // [repo.diff.contents] A CAR of what changed since the commit with rev
  // `since` (one of this repository's earlier commits in the store).
  Result<std::vector<std::uint8_t>> diff_car_since(std::string_view since) const;
  // The same from an earlier commit of this repository whose tree is in the
  // store (a service that keeps old nodes finds it by rev itself).
  Result<std::vector<std::uint8_t>> diff_car_from(const Commit& earlier) const;

 private:
  friend class RepositoryBuilder;
  Repository(BlockStore& store, Commit commit, data::Cid cid, Mst tree, RevClock clock);
  BlockStore* store_;
  Commit commit_;
  data::Cid commit_cid_;
  Mst tree_;
  RevClock clock_;
  std::vector<data::Cid> history_;  // commit CIDs, oldest first
};

// Bulk creation of a new repository (an import, a migration, a bench)
// without holding every record value at once: each record is encoded and
// stored as it is added; finish() builds the tree in one pass and signs it.
class RepositoryBuilder {
 public:
  RepositoryBuilder(BlockStore& store, std::string did) : store_(&store), did_(std::move(did)) {}
  // Error codes: usage.write (not a map), data.model.utf8.
  Status add(std::string_view collection, std::string_view rkey, const data::Value& record);
  // Error codes: repo.commit.did, repo.path.*, repo.mst.key-unique.
  Result<Repository> finish(const crypto::PrivateKey& key, Repository::RevClock clock = {});

 private:
  BlockStore* store_;
  std::string did_;
  std::vector<MstEntry> entries_;
};

// The result of verifying a repository CAR.
struct VerifiedRepo {
  data::Cid commit_cid;
  Commit commit;
  std::vector<MstEntry> records;  // in key order
};

// Full verification of an untrusted repository export. Error codes, in the
// order checked: car.* (framing, hashes, first root present), the commit's
// (repo.commit.fields/version/rev/did), repo.commit.did (not `did`),
// repo.commit.signature (not signed by `key`), the MST's (decode_node and
// Mst::verify: repo.mst.*, repo.path.*), car.export.complete (a record
// block missing), data.* (a record block that is not a strict DRISL-CBOR
// map). Block order is not checked here: readers accept any order.
Result<VerifiedRepo> verify_repo_car(std::span<const std::uint8_t> car_bytes, std::string_view did,
                                     const crypto::PublicKey& key);

// [car.block.preferred-order] Whether the blocks of a (verified) repository
// CAR follow the streaming order: commit first, then MST nodes in pre-order
// with each node's records and subtrees in entry order, each block at its
// first use. Blocks nothing links to may only follow at the end.
Status check_block_order(std::span<const std::uint8_t> car_bytes);

}  // namespace atproto::repo

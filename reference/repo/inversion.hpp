// Commit proofs and operation inversion (sync 1.1): a commit's diff blocks
// plus its record operations let anyone recompute the previous tree root.
// Spec: https://atproto.com/specs/repository#repository-diffs and
// https://atproto.com/specs/sync#reliable-repository-synchronization
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "atproto/car/car.hpp"
#include "atproto/common/result.hpp"
#include "atproto/data/cid.hpp"
#include "atproto/repo/block_store.hpp"
#include "atproto/repo/mst.hpp"

namespace atproto::repo {

enum class Action { kCreate, kUpdate, kDelete };
const char* action_name(Action action);

// One record operation of a commit, as in a #commit event's `ops`.
struct RecordOp {
  Action action;
  std::string path;
  std::optional<data::Cid> cid;   // the new record (create, update); none for delete
  std::optional<data::Cid> prev;  // the old record (update, delete); none for create
  friend bool operator==(const RecordOp&, const RecordOp&) = default;
};

// [repo.diff.inversion-blocks] The MST nodes of `after` that a diff must
// carry so that operations on `paths` can be inverted: the union of
// Mst::covering_proof for each path, each node once, in first-seen order.
Result<std::vector<car::CarBlock>> commit_proof(const Mst& after,
                                                const std::vector<std::string>& paths);

// [repo.diff.inversion] Applies `ops` in reverse to the tree rooted at
// `data` (read from `blocks`, usually a commit's CAR slice) and returns the
// resulting root: create becomes delete, update puts back `prev`, delete
// re-adds `prev`. Each op must match the tree it is inverted against (the
// created or updated value present, a deleted path absent), each path may
// appear once. Error codes: repo.diff.inversion (inconsistent ops),
// repo.diff.inversion-blocks (a node the inversion needs is not in
// `blocks`), and the MST decoding codes.
Result<data::Cid> invert_ops(const BlockStore& blocks, const data::Cid& data,
                             const std::vector<RecordOp>& ops);

// invert_ops, then the result must equal `prev_data`.
Status verify_inversion(const BlockStore& blocks, const data::Cid& data,
                        const std::vector<RecordOp>& ops, const data::Cid& prev_data);

}  // namespace atproto::repo

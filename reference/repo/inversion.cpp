#include "atproto/repo/inversion.hpp"

#include <algorithm>
#include <optional>
#include <unordered_set>

namespace atproto::repo {

using data::Cid;

const char* action_name(Action action) {
  switch (action) {
    case Action::kCreate:
      return "create";
    case Action::kUpdate:
      return "update";
    case Action::kDelete:
      return "delete";
  }
  return "?";
}

Result<std::vector<car::CarBlock>> commit_proof(const Mst& after,
                                                const std::vector<std::string>& paths) {
  std::vector<car::CarBlock> out;
  std::unordered_set<Cid, CidHash> seen;
  for (const auto& path : paths) {
    auto proof = after.covering_proof(path);
    if (!proof.ok()) return proof.error();
    for (auto& block : *proof) {
      if (seen.insert(block.cid).second) out.push_back(std::move(block));
    }
  }
  return out;
}

namespace {

Error inconsistent(const RecordOp& op, const std::string& why) {
  return make_error("repo.diff.inversion",
                    std::string(action_name(op.action)) + " of " + op.path + ": " + why);
}

// A node the tree needs but the diff lacks is the diff's fault.
Error blame_blocks(Error e) {
  if (e.code == "repo.mst.complete") {
    e.code = "repo.diff.inversion-blocks";
    e.message = "the diff lacks an MST node needed to invert its operations: " + e.message;
  }
  return e;
}

}  // namespace

Result<Cid> invert_ops(const BlockStore& blocks, const Cid& data,
                       const std::vector<RecordOp>& ops) {
  // [repo.diff.inversion] Walk the operations backwards over the new tree.
  Mst tree = Mst::load(blocks, data);
  // Each path once: the ops sorted by path (pointers, no copies), then
  // neighbours compared. The op named is the first, in the ops' order, whose
  // path an earlier op has.
  std::vector<const RecordOp*> by_path;
  by_path.reserve(ops.size());
  for (const auto& op : ops) by_path.push_back(&op);
  std::stable_sort(by_path.begin(), by_path.end(),
                   [](const RecordOp* a, const RecordOp* b) { return a->path < b->path; });
  const RecordOp* repeated = nullptr;
  for (std::size_t i = 1; i < by_path.size(); ++i) {
    if (by_path[i - 1]->path == by_path[i]->path && (!repeated || by_path[i] < repeated)) {
      repeated = by_path[i];
    }
  }
  if (repeated) return inconsistent(*repeated, "the path appears twice");
  for (auto it = ops.rbegin(); it != ops.rend(); ++it) {
    const RecordOp& op = *it;
    auto current = tree.get(op.path);
    if (!current.ok()) return blame_blocks(current.error());
    std::optional<Result<Mst>> next;
    switch (op.action) {
      case Action::kCreate:
        if (!op.cid || *current != op.cid) {
          return inconsistent(op, "the tree does not hold the created record");
        }
        // Only the tree before this op is kept: the nodes on the path are
        // edited in place rather than copied.
        next.emplace(std::move(tree).remove(op.path));
        break;
      case Action::kUpdate:
        if (!op.cid || !op.prev) return inconsistent(op, "an update needs cid and prev");
        if (*current != op.cid) return inconsistent(op, "the tree does not hold the new record");
        next.emplace(tree.update(op.path, *op.prev));
        break;
      case Action::kDelete:
        if (!op.prev) return inconsistent(op, "a delete needs prev to be inverted");
        if (current->has_value()) return inconsistent(op, "the tree still holds the path");
        next.emplace(tree.add(op.path, *op.prev));
        break;
    }
    if (!next->ok()) return blame_blocks(next->error());
    tree = std::move(**next);
  }
  auto root = tree.root_cid();
  if (!root.ok()) return blame_blocks(root.error());
  return *root;
}

Status verify_inversion(const BlockStore& blocks, const Cid& data, const std::vector<RecordOp>& ops,
                        const Cid& prev_data) {
  auto root = invert_ops(blocks, data, ops);
  if (!root.ok()) return root.error();
  if (*root != prev_data) {
    return make_error("repo.diff.inversion", "inverting the operations gives " + root->to_string() +
                                                 ", not prevData " + prev_data.to_string());
  }
  return {};
}

}  // namespace atproto::repo

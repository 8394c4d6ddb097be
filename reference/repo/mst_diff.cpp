// MST diffs between two trees, and inclusion proofs: the path to a key and
// the blocks that inverting a commit needs.
// Spec: https://atproto.com/specs/sync
#include "atproto/repo/mst.hpp"

#include <algorithm>
#include <map>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "atproto/data/cbor.hpp"
#include "atproto/syntax/nsid.hpp"
#include "atproto/syntax/record_key.hpp"
#include "mst_tree.hpp"

namespace atproto::repo {

using namespace detail;

namespace {

using NodeMap = std::unordered_map<Cid, NodePtr, CidHash>;

}  // namespace

Result<MstDiff> Mst::diff(const Mst& from, const Mst& to) {
  Reader rfrom(from.store_);
  Reader rto(to.store_);
  // Every node of `from`, by CID.
  NodeMap from_nodes;
  {
    std::vector<NodePtr> stack{from.root_};
    while (!stack.empty()) {
      NodePtr box = std::move(stack.back());
      stack.pop_back();
      auto c = rfrom.cid(box);
      if (!c.ok()) return c.error();
      if (!from_nodes.emplace(*c, box).second) continue;
      auto node = rfrom.load(box);
      if (!node.ok()) return node.error();
      if ((*node)->left) stack.push_back((*node)->left);
      for (const auto& e : (*node)->entries) {
        if (e.right) stack.push_back(e.right);
      }
    }
  }
  // Nodes of `to` that `from` lacks; a shared node means a shared subtree.
  MstDiff out;
  std::map<std::string, Cid> added;  // entries of new nodes
  std::unordered_set<Cid, CidHash> shared;
  {
    std::vector<NodePtr> stack{to.root_};
    std::unordered_set<Cid, CidHash> seen;
    while (!stack.empty()) {
      NodePtr box = std::move(stack.back());
      stack.pop_back();
      auto c = rto.cid(box);
      if (!c.ok()) return c.error();
      if (from_nodes.count(*c)) {
        shared.insert(*c);
        continue;
      }
      if (!seen.insert(*c).second) continue;
      auto blk = rto.block(box);
      if (!blk.ok()) return blk.error();
      out.new_blocks.push_back(std::move(*blk));
      auto node = rto.load(box);
      if (!node.ok()) return node.error();
      if ((*node)->left) stack.push_back((*node)->left);
      for (const auto& e : (*node)->entries) {
        added.emplace(e.key, e.value);
        if (e.right) stack.push_back(e.right);
      }
    }
  }
  // Nodes of `from` under a shared node are shared too.
  {
    std::vector<NodePtr> stack;
    for (const auto& c : shared) stack.push_back(from_nodes.at(c));
    while (!stack.empty()) {
      NodePtr box = std::move(stack.back());
      stack.pop_back();
      const Node& node = *box->node;  // loaded by the walk above
      for (std::size_t i = 0; i <= node.entries.size(); ++i) {
        const NodePtr& child = slot(node, i);
        if (child && shared.insert(*child->cid).second) stack.push_back(child);
      }
    }
  }
  std::map<std::string, Cid> removed;
  for (const auto& [c, box] : from_nodes) {
    if (shared.count(c)) continue;
    out.removed_blocks.push_back(c);
    for (const auto& e : box->node->entries) removed.emplace(e.key, e.value);
  }
  std::sort(out.removed_blocks.begin(), out.removed_blocks.end());
  for (const auto& [key, value] : added) {
    auto it = removed.find(key);
    if (it == removed.end()) {
      out.created.push_back(MstEntry{key, value});
    } else if (it->second != value) {
      out.updated.emplace_back(MstEntry{key, value}, it->second);
    }
  }
  for (const auto& [key, value] : removed) {
    if (!added.count(key)) out.deleted.push_back(MstEntry{key, value});
  }
  return out;
}

Result<std::vector<car::CarBlock>> Mst::prove(std::string_view key) const {
  Reader reader(store_);
  std::vector<car::CarBlock> out;
  NodePtr box = root_;
  for (int down = 0; box; ++down) {
    if (down > kMaxNesting) return too_deep();
    auto blk = reader.block(box);
    if (!blk.ok()) return blk.error();
    out.push_back(std::move(*blk));
    auto node = reader.load(box);
    if (!node.ok()) return node.error();
    std::size_t i = lower_bound(**node, key);
    if (found_at(**node, i, key)) break;
    box = slot(**node, i);
  }
  return out;
}

Result<std::vector<car::CarBlock>> Mst::covering_proof(std::string_view key) const {
  Reader reader(store_);
  auto path = prove(key);
  if (!path.ok()) return path;
  std::vector<car::CarBlock> out = std::move(path).value();
  // Find the node holding the key, if any, to add the merge edges.
  NodePtr box = root_;
  while (box) {
    auto node = reader.load(box);
    if (!node.ok()) return node.error();
    std::size_t i = lower_bound(**node, key);
    if (!found_at(**node, i, key)) {
      box = slot(**node, i);
      continue;
    }
    // A removal merges the subtree before the key (along its right edge)
    // with the subtree after it (along its left edge).
    for (int side = 0; side < 2; ++side) {
      NodePtr edge = side == 0 ? slot(**node, i) : (*node)->entries[i].right;
      for (int down = 0; edge; ++down) {
        if (down > kMaxNesting) return too_deep();
        auto blk = reader.block(edge);
        if (!blk.ok()) return blk.error();
        out.push_back(std::move(*blk));
        auto en = reader.load(edge);
        if (!en.ok()) return en.error();
        edge = side == 0 ? slot(**en, (*en)->entries.size()) : (*en)->left;
      }
    }
    break;
  }
  return out;
}

Result<std::optional<Cid>> verify_proof(const Cid& root, std::string_view key,
                                        const std::vector<car::CarBlock>& blocks) {
  MemoryBlockStore store;
  for (const auto& b : blocks) {
    if (Cid::compute(b.cid.codec(), b.bytes) != b.cid) {
      return make_error("car.block.cid-matches", "proof block does not hash to its CID");
    }
    if (auto st = store.put(b.cid, b.bytes); !st.ok()) return st.error();
  }
  return Mst::load(store, root).get(key);
}

}  // namespace atproto::repo

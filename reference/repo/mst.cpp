// The MST: building, reading and editing trees, storing new nodes and
// structural verification. Diffs and proofs are in mst_diff.cpp.
// Spec: https://atproto.com/specs/repository#mst-structure
#include "atproto/repo/mst.hpp"

#include <algorithm>
#include <deque>
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

Mst::Mst() : root_(empty_root()) {}

Mst Mst::load(const BlockStore& store, const Cid& root) { return Mst(stored_box(root), &store); }

bool Mst::is_empty() const {
  return root_->node && root_->node->entries.empty() && !root_->node->left;
}

namespace {

// [repo.mst.deterministic] Builds the subtree at `layer` for sorted entries
// [begin, end): the shape follows from the keys' depths and order alone, and
// the operations below keep exactly this shape (the tests compare them).
NodePtr build(std::vector<MstEntry>& items, const std::vector<int>& depths, std::size_t begin,
              std::size_t end, int layer) {
  if (begin == end) return nullptr;
  Node node;
  std::size_t run = begin;  // first item of the pending gap
  for (std::size_t i = begin; i < end; ++i) {
    if (depths[i] == layer) {
      slot(node, node.entries.size()) = build(items, depths, run, i, layer - 1);
      node.entries.push_back(Entry{std::move(items[i].key), items[i].value, nullptr, depths[i]});
      run = i + 1;
    }
  }
  slot(node, node.entries.size()) = build(items, depths, run, end, layer - 1);
  return make_box(std::move(node));
}

}  // namespace

Result<Mst> Mst::from_entries(std::vector<MstEntry> entries) {
  std::sort(entries.begin(), entries.end(),
            [](const MstEntry& a, const MstEntry& b) { return a.key < b.key; });
  std::vector<int> depths;
  depths.reserve(entries.size());
  int top = 0;
  RepoPathValidator paths;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    if (auto st = paths.check(e.key); !st.ok()) return st.error();
    // [repo.mst.key-unique] The tree is a mapping.
    if (i > 0 && entries[i - 1].key == e.key) {
      return make_error("repo.mst.key-unique", "key " + e.key + " appears twice");
    }
    depths.push_back(key_depth(e.key));
    top = std::max(top, depths.back());
  }
  if (entries.empty()) return Mst();
  return Mst(build(entries, depths, 0, entries.size(), top), nullptr);
}

Result<std::optional<Cid>> Mst::get(std::string_view key) const {
  Reader reader(store_);
  NodePtr box = root_;
  for (int down = 0; box; ++down) {
    if (down > kMaxNesting) return too_deep();
    auto node = reader.load(box);
    if (!node.ok()) return node.error();
    std::size_t i = lower_bound(**node, key);
    if (found_at(**node, i, key)) return std::optional<Cid>{(*node)->entries[i].value};
    box = slot(**node, i);
  }
  return std::optional<Cid>{};
}

Result<Mst> Mst::add(std::string_view key_view, const Cid& value, KeyRule rule) const {
  if (auto st = validate_key(key_view, rule); !st.ok()) return st.error();
  std::string key(key_view);
  Reader reader(store_);
  auto layer = reader.layer_of(root_);
  if (!layer.ok()) return layer.error();
  int depth = key_depth(key);
  // [repo.mst.node-size] A mined key too deep for readers is refused.
  if (auto st = check_layer(depth, kMaxLayer); !st.ok()) return st.error();
  if (*layer < 0) return Mst(leaf(key, value), store_);
  if (depth > *layer) {
    // The key goes above the current root: split the whole tree around it
    // and lift both halves to the layer just below the key.
    auto parts = reader.split(root_, *layer, key);
    if (!parts.ok()) return parts.error();
    Node node;
    node.left = wrap(parts->first, *layer, depth - 1);
    node.entries.push_back(Entry{key, value, wrap(parts->second, *layer, depth - 1), depth});
    return Mst(make_box(std::move(node)), store_);
  }
  auto root = reader.insert(root_, *layer, key, depth, value);
  if (!root.ok()) return root.error();
  return Mst(*root, store_);
}

Result<Mst> Mst::remove(std::string_view key) const& { return remove_key(key, false); }

Result<Mst> Mst::remove(std::string_view key) && { return remove_key(key, true); }

Result<Mst> Mst::remove_key(std::string_view key, bool in_place) const {
  Reader reader(store_);
  auto layer = reader.layer_of(root_);
  if (!layer.ok()) return layer.error();
  if (*layer < 0) return make_error("usage.key-absent", "key not in the tree");
  auto root = reader.remove(root_, *layer, key, in_place);
  if (!root.ok()) return root.error();
  auto normal = normalize_root(reader, *root);
  if (!normal.ok()) return normal.error();
  return Mst(*normal, store_);
}

Result<Mst> Mst::update(std::string_view key, const Cid& value) const {
  // Same key, same depth, same shape: only the value on the key's path
  // changes, so a remove and an add give exactly the updated tree.
  auto removed = remove(key);
  if (!removed.ok()) return removed;
  return removed->add(key, value);
}

Result<Cid> Mst::root_cid() const { return Reader(store_).cid(root_); }

Status Mst::walk(const Visitor& visit) const { return walk_range("", "", visit); }

Status Mst::walk_range(std::string_view from, std::string_view to, const Visitor& visit) const {
  auto r = Reader(store_).walk(root_, from, to, visit, 0);
  if (!r.ok()) return r.error();
  return {};
}

Result<std::vector<MstEntry>> Mst::list() const {
  std::vector<MstEntry> out;
  auto st = walk([&](const std::string& key, const Cid& value) {
    out.push_back(MstEntry{key, value});
    return true;
  });
  if (!st.ok()) return st.error();
  return out;
}

Status Mst::for_each_node(const std::function<Status(const car::CarBlock&)>& on_node,
                          const std::function<Status(const Cid&)>& on_record) const {
  return Reader(store_).for_each(root_, on_node, on_record, 0);
}

Result<std::vector<car::CarBlock>> Mst::store_new_nodes(BlockStore& store, bool collect) const {
  Reader reader(store_);
  if (auto c = reader.cid(root_); !c.ok()) return c.error();
  std::vector<car::CarBlock> out;
  std::vector<std::pair<Cid, Bytes>> puts;
  auto flush = [&]() -> Status {
    if (puts.empty()) return {};
    if (auto st = store.put_many(puts); !st.ok()) return st;
    if (collect) {
      for (auto& [c, bytes] : puts) out.push_back(car::CarBlock{c, std::move(bytes)});
    }
    puts.clear();
    return {};
  };
  std::vector<NodePtr> stack{root_};
  while (!stack.empty()) {
    NodePtr box = std::move(stack.back());
    stack.pop_back();
    auto known = store.has(*box->cid);
    if (!known.ok()) return known.error();
    if (*known) continue;  // a stored node's whole subtree is stored
    auto blk = reader.block(box);
    if (!blk.ok()) return blk.error();
    auto node = reader.load(box);
    if (!node.ok()) return node.error();
    for (auto it = (*node)->entries.rbegin(); it != (*node)->entries.rend(); ++it) {
      if (it->right) stack.push_back(it->right);
    }
    if ((*node)->left) stack.push_back((*node)->left);
    puts.emplace_back(blk->cid, std::move(blk->bytes));
    // Written in batches, so a transactional store commits few times and a
    // big tree is never held twice.
    if (puts.size() >= 4096) {
      if (auto st = flush(); !st.ok()) return st.error();
    }
  }
  if (auto st = flush(); !st.ok()) return st.error();
  return out;
}

Status Mst::verify(const MstLimits& limits) const {
  Reader reader(store_);
  auto node = reader.load(root_);
  if (!node.ok()) return node.error();
  if ((*node)->entries.empty() && !(*node)->left) return {};  // the empty tree
  auto layer = reader.layer_of(root_);
  if (!layer.ok()) return layer.error();
  // [repo.mst.node-size]
  if (auto st = check_layer(*layer, limits.max_layer); !st.ok()) return st;
  RepoPathValidator paths;
  return reader.verify(root_, *layer, nullptr, nullptr, true, paths, limits);
}

namespace {

// Mst::verify_stored: a depth-first walk holding one decoded node per
// level, whose storage the next node on that level reuses.
class StoredVerifier {
 public:
  StoredVerifier(const Mst::BlockLookup& blocks, const Mst::Visitor& visit, const MstLimits& limits)
      : blocks_(blocks), visit_(visit), limits_(limits) {}

  // false: the visitor asked to stop.
  Result<bool> run(const Cid& cid, int layer, const std::string* lo, const std::string* hi,
                   std::size_t nesting) {
    if (nesting > static_cast<std::size_t>(kMaxNesting)) return too_deep();
    auto bytes = blocks_(cid);
    // [repo.mst.complete] Every node the tree links to must be available.
    if (!bytes) {
      return make_error("repo.mst.complete", "MST node block " + cid.to_string() + " is missing");
    }
    // A deque: the keys of the levels above stay where they are (lo and hi
    // point at them) when a deeper level is added.
    if (levels_.size() == nesting) levels_.emplace_back();
    NodeData& node = levels_[nesting];
    if (auto st = decode_node_into(*bytes, node, tape_); !st.ok()) return st.error();
    const bool is_root = nesting == 0;
    if (is_root) {
      if (node.entries.empty() && !node.left) return true;  // the empty tree
      // The root's layer is its first key's depth (a root without keys is
      // refused by check_node).
      if (!node.entries.empty()) layer = key_depth(node.entries[0].key);
      // [repo.mst.node-size]
      if (auto st = check_layer(layer, limits_.max_layer); !st.ok()) return st.error();
    }
    if (auto st = check_node(node, layer, lo, hi, is_root, paths_, limits_); !st.ok())
      return st.error();
    for (std::size_t i = 0; i <= node.entries.size(); ++i) {
      const auto& child = i == 0 ? node.left : node.entries[i - 1].right;
      if (child) {
        const std::string* child_lo = i == 0 ? lo : &node.entries[i - 1].key;
        const std::string* child_hi = i == node.entries.size() ? hi : &node.entries[i].key;
        auto more = run(*child, layer - 1, child_lo, child_hi, nesting + 1);
        if (!more.ok() || !*more) return more;
      }
      if (i < node.entries.size() && !visit_(node.entries[i].key, node.entries[i].value)) {
        return false;
      }
    }
    return true;
  }

 private:
  const Mst::BlockLookup& blocks_;
  const Mst::Visitor& visit_;
  const MstLimits& limits_;
  std::deque<NodeData> levels_;
  data::CborTape tape_;  // one decode at a time: each node is copied out of it
  RepoPathValidator paths_;
};

}  // namespace

Status Mst::verify_stored(const BlockLookup& blocks, const Cid& root, const Visitor& visit,
                          const MstLimits& limits) {
  StoredVerifier verifier(blocks, visit, limits);
  auto r = verifier.run(root, 0, nullptr, nullptr, 0);
  if (!r.ok()) return r.error();
  return {};
}

}  // namespace atproto::repo

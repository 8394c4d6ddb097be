// Private to the repo layer: the in-memory form of an MST (nodes shared
// between tree versions, loaded lazily from a block store) and the Reader
// that loads, hashes, edits and walks it. Shared by mst.cpp (tree
// operations) and mst_diff.cpp (diffs and proofs); mst_node.cpp holds the
// node codec they build on.
#pragma once

#include "atproto/repo/mst.hpp"

#include <algorithm>
#include <map>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "atproto/data/cbor.hpp"
#include "atproto/syntax/nsid.hpp"
#include "atproto/syntax/record_key.hpp"

namespace atproto::repo {

using data::Cid;

// ---------------------------------------------------------------- tree

namespace detail {

struct Entry;
using NodePtr = std::shared_ptr<NodeBox>;

inline NodePtr stored_box(const Cid& cid);

// A node's link to a subtree: a box, or for a node read from a block, at
// first only the subtree's CID, boxed (one allocation) the first time the
// tree goes down that link. A loaded node links to up to kMaxNodeEntries + 1
// subtrees, and a lookup or an edit goes down one of them. Like a box's
// lazily loaded node, the box is filled in on a const path: a tree is not
// to be read from several threads at once.
class Link {
 public:
  Link() = default;
  Link(std::nullptr_t) {}                      // NOLINT: no subtree
  Link(NodePtr box) : box_(std::move(box)) {}  // NOLINT: a subtree in memory
  static Link stored(const Cid& cid) {
    Link link;
    link.cid_ = cid;
    return link;
  }

  explicit operator bool() const { return box_ != nullptr || cid_.has_value(); }
  friend bool operator==(const Link& link, std::nullptr_t) { return !link; }

  // The subtree's box (made now for a link known only by its CID).
  const NodePtr& box() const {
    if (!box_ && cid_) box_ = stored_box(*cid_);
    return box_;
  }
  operator const NodePtr&() const { return box(); }  // NOLINT: where a box is wanted
  NodeBox* operator->() const { return box().get(); }

  // The subtree's CID when known without hashing: a link not yet boxed, or
  // a box whose CID is computed or read. nullopt for no subtree too.
  std::optional<Cid> known_cid() const;
  // True when the subtree is in memory and may lack a CID (a box).
  bool boxed() const { return box_ != nullptr; }

 private:
  mutable NodePtr box_;
  std::optional<Cid> cid_;  // only read while box_ is null
};

struct Entry {
  std::string key;
  Cid value;
  Link right;
  // key_depth(key) once asked for (-1: not yet): the tree's layer is the
  // depth of its root's first key, which every change asks again (a commit's
  // inversion removes key after key from the same root). The key never
  // changes, so the cached depth travels with the entry when it is copied.
  mutable int depth = -1;

  int key_depth() const {
    if (depth < 0) depth = repo::key_depth(key);
    return depth;
  }
};

struct Node {
  Link left;
  std::vector<Entry> entries;
};

// One node of a tree: its contents (once known) and its CID and bytes (once
// computed or read). Contents never change after creation, so the caches
// are safe to share between tree versions. The contents live in the box
// (one allocation for both).
struct NodeBox {
  std::optional<Cid> cid;
  std::optional<Node> node;
  std::optional<Bytes> bytes;
};

inline std::optional<Cid> Link::known_cid() const {
  if (box_) return box_->cid;
  return cid_;
}

}  // namespace detail

using detail::Entry;
using detail::Node;
using detail::NodeBox;
using detail::NodePtr;

namespace detail {

// Deepest nesting any valid tree has: layers go from 128 (a hash of all
// zeros) down to 0. Anything deeper is a malformed tree.
inline constexpr int kMaxNesting = 130;

inline Error too_deep() {
  return make_error("repo.mst.key-depth", "MST nesting is deeper than any valid tree");
}

// [repo.mst.node-size] (mst.hpp explains the limits.)
inline Status check_node_entries(std::size_t entries, std::size_t max) {
  if (entries <= max) return {};
  return make_error("repo.mst.node-size", "an MST node has " + std::to_string(entries) +
                                              " entries, more than the " + std::to_string(max) +
                                              " allowed");
}
inline Status check_layer(int layer, int max) {
  if (layer <= max) return {};
  return make_error("repo.mst.node-size", "the MST reaches layer " + std::to_string(layer) +
                                              ", above the " + std::to_string(max) +
                                              " allowed (a key of that depth is mined)");
}

inline NodePtr make_box(Node node) {
  auto box = std::make_shared<NodeBox>();
  box->node.emplace(std::move(node));
  return box;
}

// A node with nothing in it is no node at all.
inline NodePtr box_or_null(Node node) {
  if (node.entries.empty() && !node.left) return nullptr;
  return make_box(std::move(node));
}

inline NodePtr stored_box(const Cid& cid) {
  auto box = std::make_shared<NodeBox>();
  box->cid = cid;
  return box;
}

inline NodePtr leaf(std::string key, const Cid& value) {
  Node node;
  node.entries.push_back(Entry{std::move(key), value, nullptr});
  return make_box(std::move(node));
}

// The link in gap `i`: before entry i (0: the left link).
inline const Link& slot(const Node& node, std::size_t i) {
  return i == 0 ? node.left : node.entries[i - 1].right;
}
inline Link& slot(Node& node, std::size_t i) {
  return i == 0 ? node.left : node.entries[i - 1].right;
}

inline std::size_t lower_bound(const Node& node, std::string_view key) {
  auto it = std::lower_bound(node.entries.begin(), node.entries.end(), key,
                             [](const Entry& e, std::string_view k) { return e.key < k; });
  return static_cast<std::size_t>(it - node.entries.begin());
}

inline bool found_at(const Node& node, std::size_t i, std::string_view key) {
  return i < node.entries.size() && node.entries[i].key == key;
}

// Puts `node` under `to - from` empty intermediate nodes, so that a subtree
// built at layer `from` hangs at layer `to`.
inline NodePtr wrap(NodePtr node, int from, int to) {
  if (!node) return node;
  for (int layer = from; layer < to; ++layer) {
    Node parent;
    parent.left = std::move(node);
    node = make_box(std::move(parent));
  }
  return node;
}

inline bool links_at(const Node& node, std::size_t i) { return static_cast<bool>(slot(node, i)); }
inline bool links_at(const NodeData& node, std::size_t i) {
  return (i == 0 ? node.left : node.entries[i - 1].right).has_value();
}

// The checks of Mst::verify on one node at `layer` whose keys must lie
// strictly between *lo and *hi (null: unbounded), for a node in memory
// (Node) or as decoded (NodeData). Key order within a node is decode_node's
// check; subtrees are the caller's to visit.
template <class N>
Status check_node(const N& node, int layer, const std::string* lo, const std::string* hi,
                  bool is_root, RepoPathValidator& paths, const MstLimits& limits) {
  if (auto st = check_node_entries(node.entries.size(), limits.max_node_entries); !st.ok()) {
    return st;
  }
  // [repo.mst.empty-nodes] Only the empty tree is an empty leaf; a root
  // never only links down; any other node has keys or links down.
  if (node.entries.empty()) {
    if (is_root && links_at(node, 0)) {
      return make_error("repo.mst.empty-nodes", "the root node is empty and only links down");
    }
    if (!is_root && !links_at(node, 0)) {
      return make_error("repo.mst.empty-nodes", "an MST node is empty and links nowhere");
    }
  }
  for (std::size_t i = 0; i < node.entries.size(); ++i) {
    const std::string& key = node.entries[i].key;
    if (auto st = paths.check(key); !st.ok()) return st;
    // [repo.mst.key-depth] Each key sits in a node of its own depth.
    if (int depth = key_depth(key); depth != layer) {
      return make_error("repo.mst.key-depth", "key " + key + " has depth " + std::to_string(depth) +
                                                  " but sits at layer " + std::to_string(layer));
    }
    // [repo.mst.subtree-range] Keys of a subtree lie inside its gap.
    if ((lo && !(*lo < key)) || (hi && !(key < *hi))) {
      return make_error("repo.mst.subtree-range",
                        "key " + key + " lies outside the key range of its subtree");
    }
  }
  if (layer == 0) {
    for (std::size_t i = 0; i <= node.entries.size(); ++i) {
      if (links_at(node, i)) {
        return make_error("repo.mst.key-depth", "a node at layer 0 links to a subtree");
      }
    }
  }
  return {};
}

// The node codec's entry points for the tree (mst_node.cpp). A node block
// decoded straight into a tree's Node, with decode_node's checks and codes.
Status decode_node_into(std::span<const std::uint8_t> bytes, Node& node);
// encode_node of a tree's Node, whose subtrees' CIDs are all known.
Bytes encode_node(const Node& node);
// decode_node's two ways, public to the tests that compare them: the
// one-pass reader of the canonical layout (false: not a valid node in it),
// and the general decoder over the CBOR tape that names each broken rule.
bool read_canonical_node(std::span<const std::uint8_t> bytes, NodeData& node);
bool read_canonical_node(std::span<const std::uint8_t> bytes, Node& node);
Status decode_node_general(std::span<const std::uint8_t> bytes, NodeData& node,
                           data::CborTape& tape);

class Reader {
 public:
  explicit Reader(const BlockStore* store) : store_(store) {}

  Result<const Node*> load(const NodePtr& box) const {
    if (box->node) return &*box->node;
    if (!box->cid) return make_error("repo.mst.complete", "MST node with neither content nor CID");
    if (store_ == nullptr) {
      return make_error("repo.mst.complete",
                        "MST node " + box->cid->to_string() + " is not loaded");
    }
    // A store holding its blocks in memory lends the bytes (no copy).
    std::optional<std::span<const std::uint8_t>> view = store_->view(*box->cid);
    std::optional<Bytes> owned;
    if (!view) {
      auto bytes = store_->get(*box->cid);
      if (!bytes.ok()) return bytes.error();
      // [repo.mst.complete] Every node the tree links to must be available.
      if (!bytes->has_value()) {
        return make_error("repo.mst.complete",
                          "MST node block " + box->cid->to_string() + " is missing");
      }
      owned = std::move(*bytes);
      view = std::span<const std::uint8_t>(*owned);
    }
    // Decoded straight into the tree's node. Links stay CIDs until the tree
    // goes down them (Link).
    Node& node = box->node.emplace();
    if (auto st = decode_node_into(*view, node); !st.ok()) {
      box->node.reset();
      return st.error();
    }
    return &node;
  }

  Result<Cid> cid(const NodePtr& box, int nesting = 0) const {
    if (box->cid) return *box->cid;
    if (nesting > kMaxNesting) return too_deep();
    const Node& node = *box->node;  // boxes without a CID were built in memory
    // [repo.mst.node-size] A tree others would refuse is never written.
    if (auto st = check_node_entries(node.entries.size(), kMaxNodeEntries); !st.ok()) {
      return st.error();
    }
    // The subtrees first (each keeps its CID in its box): the node's
    // encoding names them. (Only boxes can lack a CID: a link not yet boxed
    // is one.)
    for (std::size_t i = 0; i <= node.entries.size(); ++i) {
      const Link& child = slot(node, i);
      if (child.boxed() && !child->cid) {
        if (auto c = cid(child.box(), nesting + 1); !c.ok()) return c;
      }
    }
    const Bytes& bytes = box->bytes.emplace(encode_node(node));
    box->cid = Cid::compute(data::Codec::kDagCbor, bytes);
    return *box->cid;
  }

  Result<car::CarBlock> block(const NodePtr& box) const {
    auto c = cid(box);
    if (!c.ok()) return c.error();
    if (box->bytes) return car::CarBlock{*c, *box->bytes};
    if (store_ == nullptr) return make_error("repo.mst.complete", "MST node bytes unavailable");
    auto bytes = store_->get(*c);
    if (!bytes.ok()) return bytes.error();
    if (!bytes->has_value()) {
      return make_error("repo.mst.complete", "MST node block " + c->to_string() + " is missing");
    }
    return car::CarBlock{*c, std::move(**bytes)};
  }

  // The layer of a node: the depth of its first key, plus one per empty
  // node on the way down to the first node that has keys. -1: no keys.
  Result<int> layer_of(const NodePtr& root) const {
    NodePtr box = root;
    for (int down = 0; box; ++down) {
      if (down > kMaxNesting) return too_deep();
      auto node = load(box);
      if (!node.ok()) return node.error();
      if (!(*node)->entries.empty()) {
        int layer = (*node)->entries[0].key_depth() + down;
        // [repo.mst.node-size]
        if (auto st = check_layer(layer, kMaxLayer); !st.ok()) return st.error();
        return layer;
      }
      box = (*node)->left;
    }
    return -1;
  }

  // Splits the subtree `box` at layer `layer` around `key` (not in it) into
  // the part before and the part after the key, both at the same layer.
  Result<std::pair<NodePtr, NodePtr>> split(const NodePtr& box, int layer,
                                            std::string_view key) const {
    if (!box) return std::pair<NodePtr, NodePtr>{};
    if (layer < 0) return too_deep();
    auto loaded = load(box);
    if (!loaded.ok()) return loaded.error();
    const Node& node = **loaded;
    std::size_t i = lower_bound(node, key);
    if (found_at(node, i, key)) return make_error("usage.key-exists", "key already in the tree");
    auto parts = split(slot(node, i), layer - 1, key);
    if (!parts.ok()) return parts.error();
    Node before;
    before.left = node.left;
    before.entries.assign(node.entries.begin(),
                          node.entries.begin() + static_cast<std::ptrdiff_t>(i));
    slot(before, i) = parts->first;
    Node after;
    after.left = parts->second;
    after.entries.assign(node.entries.begin() + static_cast<std::ptrdiff_t>(i), node.entries.end());
    return std::pair<NodePtr, NodePtr>{box_or_null(std::move(before)),
                                       box_or_null(std::move(after))};
  }

  // Inserts a key of depth `depth` <= `layer` into the subtree `box`.
  Result<NodePtr> insert(const NodePtr& box, int layer, const std::string& key, int depth,
                         const Cid& value) const {
    if (layer < 0) return too_deep();
    auto loaded = load(box);
    if (!loaded.ok()) return loaded.error();
    Node node = **loaded;
    std::size_t i = lower_bound(node, key);
    if (found_at(node, i, key)) return make_error("usage.key-exists", "key already in the tree");
    if (depth == layer) {
      // The key belongs here: the subtree of its gap splits around it.
      auto parts = split(slot(node, i), layer - 1, key);
      if (!parts.ok()) return parts.error();
      slot(node, i) = parts->first;
      node.entries.insert(node.entries.begin() + static_cast<std::ptrdiff_t>(i),
                          Entry{key, value, parts->second, depth});
    } else {
      const NodePtr& gap = slot(node, i);
      NodePtr child;
      if (gap) {
        auto inserted = insert(gap, layer - 1, key, depth, value);
        if (!inserted.ok()) return inserted;
        child = *inserted;
      } else {
        child = wrap(leaf(key, value), depth, layer - 1);
      }
      slot(node, i) = std::move(child);
    }
    return make_box(std::move(node));
  }

  // Joins two adjacent subtrees of the same layer (all of `a` before `b`).
  Result<NodePtr> merge(const NodePtr& a, const NodePtr& b, int layer) const {
    if (!a) return b;
    if (!b) return a;
    if (layer < 0) return too_deep();
    auto la = load(a);
    if (!la.ok()) return la.error();
    auto lb = load(b);
    if (!lb.ok()) return lb.error();
    Node node = **la;
    const Node& right = **lb;
    std::size_t last = node.entries.size();
    auto inner = merge(slot(node, last), right.left, layer - 1);
    if (!inner.ok()) return inner;
    slot(node, last) = *inner;
    node.entries.insert(node.entries.end(), right.entries.begin(), right.entries.end());
    return make_box(std::move(node));
  }

  // Removes `key` from the subtree `box`; null when nothing is left. With
  // `in_place` (Mst::remove of a tree being consumed), a box no one else
  // holds (use_count 1: only the consumed tree's root or its parent's link,
  // itself edited in place) is edited where it is, and its CID and bytes
  // forgotten, instead of copied into a new box: no other tree can see it.
  // Below a copied node every box is shared with the original, so the
  // copying goes on down from there.
  Result<NodePtr> remove(const NodePtr& box, int layer, std::string_view key,
                         bool in_place = false) const {
    if (!box) return make_error("usage.key-absent", "key not in the tree");
    if (layer < 0) return too_deep();
    auto loaded = load(box);
    if (!loaded.ok()) return loaded.error();
    const bool edit_here = in_place && box.use_count() == 1;
    std::optional<Node> copy;
    if (!edit_here) copy.emplace(**loaded);
    Node& node = edit_here ? *box->node : *copy;
    std::size_t i = lower_bound(node, key);
    if (found_at(node, i, key)) {
      auto merged = merge(slot(node, i), node.entries[i].right, layer - 1);
      if (!merged.ok()) return merged;
      node.entries.erase(node.entries.begin() + static_cast<std::ptrdiff_t>(i));
      slot(node, i) = *merged;
    } else {
      auto child = remove(slot(node, i), layer - 1, key, edit_here);
      if (!child.ok()) return child;
      slot(node, i) = *child;
    }
    if (!edit_here) return box_or_null(std::move(node));
    box->cid.reset();
    box->bytes.reset();
    if (node.entries.empty() && !node.left) return NodePtr();
    return box;
  }

  // Result<bool>: false when the visitor asked to stop.
  Result<bool> walk(const NodePtr& box, std::string_view from, std::string_view to,
                    const Mst::Visitor& visit, int nesting) const {
    if (!box) return true;
    if (nesting > kMaxNesting) return too_deep();
    auto loaded = load(box);
    if (!loaded.ok()) return loaded.error();
    const NodePtr keep = box;  // alive while visiting
    const Node* node = &*box->node;
    const auto& entries = node->entries;
    for (std::size_t i = 0; i <= entries.size(); ++i) {
      // Gap i holds keys between entries[i-1] and entries[i]; skip it when
      // that range misses [from, to).
      bool below = i < entries.size() && entries[i].key <= from;
      bool above = !to.empty() && i > 0 && entries[i - 1].key >= to;
      if (!below && !above) {
        auto more = walk(slot(*node, i), from, to, visit, nesting + 1);
        if (!more.ok() || !*more) return more;
      }
      if (i == entries.size()) break;
      const auto& e = entries[i];
      if (e.key >= from && (to.empty() || e.key < to)) {
        if (!visit(e.key, e.value)) return false;
      }
    }
    return true;
  }

  Status for_each(const NodePtr& box, const std::function<Status(const car::CarBlock&)>& on_node,
                  const std::function<Status(const Cid&)>& on_record, int nesting) const {
    if (!box) return {};
    if (nesting > kMaxNesting) return too_deep();
    auto blk = block(box);
    if (!blk.ok()) return blk.error();
    if (auto st = on_node(*blk); !st.ok()) return st;
    auto loaded = load(box);
    if (!loaded.ok()) return loaded.error();
    const NodePtr keep = box;
    const Node* node = &*box->node;
    if (auto st = for_each(node->left, on_node, on_record, nesting + 1); !st.ok()) return st;
    for (const auto& e : node->entries) {
      if (on_record) {
        if (auto st = on_record(e.value); !st.ok()) return st;
      }
      if (auto st = for_each(e.right, on_node, on_record, nesting + 1); !st.ok()) return st;
    }
    return {};
  }

  Status verify(const NodePtr& box, int layer, const std::string* lo, const std::string* hi,
                bool is_root, RepoPathValidator& paths, const MstLimits& limits) const {
    auto loaded = load(box);
    if (!loaded.ok()) return loaded.error();
    const NodePtr keep = box;
    const Node* node = &*box->node;
    if (auto st = check_node(*node, layer, lo, hi, is_root, paths, limits); !st.ok()) return st;
    for (std::size_t i = 0; i <= node->entries.size(); ++i) {
      const NodePtr& child = slot(*node, i);
      if (!child) continue;
      const std::string* child_lo = i == 0 ? lo : &node->entries[i - 1].key;
      const std::string* child_hi = i == node->entries.size() ? hi : &node->entries[i].key;
      if (auto st = verify(child, layer - 1, child_lo, child_hi, false, paths, limits); !st.ok())
        return st;
    }
    return {};
  }

 private:
  const BlockStore* store_;
};

inline NodePtr empty_root() { return make_box(Node{}); }

// Drops empty nodes above the first node with keys; the empty tree is one
// empty node. [repo.mst.empty-nodes]
inline Result<NodePtr> normalize_root(const Reader& reader, NodePtr root) {
  if (!root) return empty_root();
  for (int down = 0;; ++down) {
    if (down > kMaxNesting) return too_deep();
    auto node = reader.load(root);
    if (!node.ok()) return node.error();
    if (!(*node)->entries.empty() || !(*node)->left) return root;
    root = (*node)->left;
  }
}

}  // namespace detail

}  // namespace atproto::repo

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

// ---------------------------------------------------------------- keys

Status validate_repo_path(std::string_view path) {
  // [repo.path.syntax] Exactly two segments, no leading slash, not empty.
  auto slash = path.find('/');
  if (path.empty() || slash == std::string_view::npos || slash == 0 || slash + 1 == path.size() ||
      path.find('/', slash + 1) != std::string_view::npos) {
    return make_error("repo.path.syntax",
                      "a repo path is <collection>/<record-key>: exactly one '/', both "
                      "segments non-empty");
  }
  auto collection = path.substr(0, slash);
  auto rkey = path.substr(slash + 1);
  // [repo.path.collection] A valid NSID in its normalized form.
  if (auto st = syntax::validate_nsid(collection); !st.ok()) {
    return make_error("repo.path.collection",
                      "collection is not a valid NSID: " + st.error().message);
  }
  if (syntax::normalize_nsid(collection) != collection) {
    return make_error("repo.path.collection", "collection NSID is not normalized");
  }
  // [repo.path.record-key] A valid record key ("." and ".." included).
  if (auto st = syntax::validate_record_key(rkey); !st.ok()) {
    return make_error("repo.path.record-key", "record key is not valid: " + st.error().message);
  }
  return {};
}

Status validate_key(std::string_view key, KeyRule rule) {
  if (rule == KeyRule::kRepoPath) return validate_repo_path(key);
  // [repo.mst.key-nonempty] Any byte string but the empty one.
  if (key.empty()) return make_error("repo.mst.key-nonempty", "an MST key is never empty");
  return {};
}

int key_depth(std::string_view key) {
  // [repo.mst.key-depth] Count leading zero bits of SHA-256(key), in pairs.
  auto digest = data::sha256(
      std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(key.data()), key.size()));
  int zeros = 0;
  for (std::uint8_t byte : digest) {
    if (byte == 0) {
      zeros += 8;
      continue;
    }
    for (int bit = 7; bit >= 0 && ((byte >> bit) & 1) == 0; --bit) ++zeros;
    break;
  }
  return zeros / 2;
}

// ---------------------------------------------------------------- node codec

namespace {

void put_head(Bytes& out, std::uint8_t major, std::uint64_t n) {
  auto m = static_cast<std::uint8_t>(major << 5);
  if (n < 24) {
    out.push_back(static_cast<std::uint8_t>(m | n));
  } else if (n < 0x100) {
    out.push_back(m | 24);
    out.push_back(static_cast<std::uint8_t>(n));
  } else if (n < 0x10000) {
    out.push_back(m | 25);
    for (int s = 8; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(n >> s));
  } else if (n < 0x100000000ULL) {
    out.push_back(m | 26);
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(n >> s));
  } else {
    out.push_back(m | 27);
    for (int s = 56; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(n >> s));
  }
}

void put_text_key(Bytes& out, char k) {
  out.push_back(0x61);  // text string of length 1
  out.push_back(static_cast<std::uint8_t>(k));
}

void put_link(Bytes& out, const std::optional<Cid>& cid) {
  if (!cid) {
    out.push_back(0xf6);  // null
    return;
  }
  out.push_back(0xd8);  // tag 42
  out.push_back(42);
  auto raw = cid->to_bytes();
  put_head(out, 2, raw.size() + 1);
  out.push_back(0x00);  // the multibase identity prefix of a CBOR cid-link
  out.insert(out.end(), raw.begin(), raw.end());
}

std::size_t shared_prefix(std::string_view a, std::string_view b) {
  std::size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
  return n;
}

}  // namespace

// Written directly rather than through data::Value because nodes are the
// hottest encoding of the repository; mst_test.cpp checks it byte for byte
// against encode_cbor of the same node as a data model value.
Bytes encode_node(const NodeData& node) {
  Bytes out;
  out.reserve(16 + node.entries.size() * 96);
  // Canonical map key order is by length then bytes: "e" before "l"; within
  // an entry "k", "p", "t", "v".
  out.push_back(0xa2);
  put_text_key(out, 'e');
  put_head(out, 4, node.entries.size());
  std::string_view prev;
  for (const auto& entry : node.entries) {
    // [repo.mst.prefix-compression] Share as many bytes as possible with the
    // previous key of this node (none for the first).
    std::size_t p = shared_prefix(prev, entry.key);
    out.push_back(0xa4);
    put_text_key(out, 'k');
    put_head(out, 2, entry.key.size() - p);
    out.insert(out.end(), entry.key.begin() + static_cast<std::ptrdiff_t>(p), entry.key.end());
    put_text_key(out, 'p');
    put_head(out, 0, p);
    put_text_key(out, 't');
    put_link(out, entry.right);
    put_text_key(out, 'v');
    put_link(out, entry.value);
    prev = entry.key;
  }
  put_text_key(out, 'l');
  put_link(out, node.left);
  return out;
}

namespace {

Error schema_error(const std::string& what) {
  return make_error("repo.mst.node-schema", "MST node: " + what);
}

// Keys of `map` are exactly `names`.
bool has_exactly(const data::Map& map, std::initializer_list<const char*> names) {
  if (map.size() != names.size()) return false;
  for (const char* name : names) {
    if (map.count(name) == 0) return false;
  }
  return true;
}

Result<std::optional<Cid>> node_link(const data::Value& v, const char* field) {
  if (v.is_null()) return std::optional<Cid>{};
  if (!v.is_link()) return schema_error(std::string(field) + " is neither null nor a link");
  // [repo.mst.node-cid] Links between MST nodes are dag-cbor CIDs.
  if (v.as_link().codec() != data::Codec::kDagCbor) {
    return make_error("repo.mst.node-cid",
                      std::string("MST node: ") + field + " links to a non-dag-cbor CID");
  }
  return std::optional<Cid>{v.as_link()};
}

}  // namespace

Result<NodeData> decode_node(std::span<const std::uint8_t> bytes) {
  auto value = data::decode_cbor(bytes);
  if (!value.ok()) return value.error();
  // [repo.mst.node-schema] {l, e} with entries {p, k, v, t}; nullable fields
  // present as null, nothing else.
  if (!value->is_map() || !has_exactly(value->as_map(), {"e", "l"})) {
    return schema_error("not a map of exactly the fields e and l");
  }
  const auto& map = value->as_map();
  NodeData node;
  auto left = node_link(map.at("l"), "l");
  if (!left.ok()) return left.error();
  node.left = *left;
  const auto& e = map.at("e");
  if (!e.is_array()) return schema_error("e is not an array");
  std::string prev;
  for (const auto& item : e.as_array()) {
    if (!item.is_map() || !has_exactly(item.as_map(), {"k", "p", "t", "v"})) {
      return schema_error("an entry is not a map of exactly the fields k, p, t and v");
    }
    const auto& fields = item.as_map();
    const auto& p = fields.at("p");
    const auto& k = fields.at("k");
    const auto& v = fields.at("v");
    if (!p.is_integer() || p.as_integer() < 0)
      return schema_error("p is not a non-negative integer");
    if (!k.is_bytes()) return schema_error("k is not a byte string");
    if (!v.is_link()) return schema_error("v is not a link");
    auto right = node_link(fields.at("t"), "t");
    if (!right.ok()) return right.error();
    auto shared = static_cast<std::uint64_t>(p.as_integer());
    // [repo.mst.prefix-compression] The first key is whole; every p counts
    // exactly the bytes shared with the previous key, no fewer.
    if (node.entries.empty() && shared != 0) {
      return make_error("repo.mst.prefix-compression", "first entry of a node has p != 0");
    }
    if (shared > prev.size()) {
      return make_error("repo.mst.prefix-compression", "p is longer than the previous key");
    }
    std::string key = prev.substr(0, shared);
    key.append(k.as_bytes().begin(), k.as_bytes().end());
    if (!node.entries.empty() && shared_prefix(prev, key) != shared) {
      return make_error("repo.mst.prefix-compression",
                        "p is shorter than the prefix the key shares with the previous key");
    }
    // [repo.mst.key-order] Keys strictly increase within the node.
    if (!node.entries.empty() && !(prev < key)) {
      return make_error("repo.mst.key-order", "keys in a node are not in increasing order");
    }
    node.entries.push_back(NodeEntry{key, v.as_link(), *right});
    prev = std::move(key);
  }
  return node;
}

// ---------------------------------------------------------------- tree

namespace detail {

struct Entry;
using NodePtr = std::shared_ptr<NodeBox>;

struct Entry {
  std::string key;
  Cid value;
  NodePtr right;
};

struct Node {
  NodePtr left;
  std::vector<Entry> entries;
};

// One node of a tree: its contents (once known) and its CID and bytes (once
// computed or read). Contents never change after creation, so the caches
// are safe to share between tree versions.
struct NodeBox {
  std::optional<Cid> cid;
  std::shared_ptr<const Node> node;
  std::shared_ptr<const Bytes> bytes;
};

}  // namespace detail

using detail::Entry;
using detail::Node;
using detail::NodeBox;
using detail::NodePtr;

namespace {

// Deepest nesting any valid tree has: layers go from 128 (a hash of all
// zeros) down to 0. Anything deeper is a malformed tree.
constexpr int kMaxNesting = 130;

Error too_deep() {
  return make_error("repo.mst.key-depth", "MST nesting is deeper than any valid tree");
}

NodePtr make_box(Node node) {
  auto box = std::make_shared<NodeBox>();
  box->node = std::make_shared<const Node>(std::move(node));
  return box;
}

// A node with nothing in it is no node at all.
NodePtr box_or_null(Node node) {
  if (node.entries.empty() && !node.left) return nullptr;
  return make_box(std::move(node));
}

NodePtr stored_box(const Cid& cid) {
  auto box = std::make_shared<NodeBox>();
  box->cid = cid;
  return box;
}

NodePtr leaf(std::string key, const Cid& value) {
  Node node;
  node.entries.push_back(Entry{std::move(key), value, nullptr});
  return make_box(std::move(node));
}

// The link in gap `i`: before entry i (0: the left link).
const NodePtr& slot(const Node& node, std::size_t i) {
  return i == 0 ? node.left : node.entries[i - 1].right;
}
NodePtr& slot(Node& node, std::size_t i) { return i == 0 ? node.left : node.entries[i - 1].right; }

std::size_t lower_bound(const Node& node, std::string_view key) {
  auto it = std::lower_bound(node.entries.begin(), node.entries.end(), key,
                             [](const Entry& e, std::string_view k) { return e.key < k; });
  return static_cast<std::size_t>(it - node.entries.begin());
}

bool found_at(const Node& node, std::size_t i, std::string_view key) {
  return i < node.entries.size() && node.entries[i].key == key;
}

// Puts `node` under `to - from` empty intermediate nodes, so that a subtree
// built at layer `from` hangs at layer `to`.
NodePtr wrap(NodePtr node, int from, int to) {
  if (!node) return node;
  for (int layer = from; layer < to; ++layer) {
    Node parent;
    parent.left = std::move(node);
    node = make_box(std::move(parent));
  }
  return node;
}

class Reader {
 public:
  explicit Reader(const BlockStore* store) : store_(store) {}

  Result<const Node*> load(const NodePtr& box) const {
    if (box->node) return box->node.get();
    if (!box->cid) return make_error("repo.mst.complete", "MST node with neither content nor CID");
    if (store_ == nullptr) {
      return make_error("repo.mst.complete",
                        "MST node " + box->cid->to_string() + " is not loaded");
    }
    auto bytes = store_->get(*box->cid);
    if (!bytes.ok()) return bytes.error();
    // [repo.mst.complete] Every node the tree links to must be available.
    if (!bytes->has_value()) {
      return make_error("repo.mst.complete",
                        "MST node block " + box->cid->to_string() + " is missing");
    }
    auto decoded = decode_node(**bytes);
    if (!decoded.ok()) return decoded.error();
    Node node;
    if (decoded->left) node.left = stored_box(*decoded->left);
    node.entries.reserve(decoded->entries.size());
    for (auto& e : decoded->entries) {
      node.entries.push_back(
          Entry{std::move(e.key), e.value, e.right ? stored_box(*e.right) : nullptr});
    }
    box->node = std::make_shared<const Node>(std::move(node));
    return box->node.get();
  }

  Result<Cid> cid(const NodePtr& box, int nesting = 0) const {
    if (box->cid) return *box->cid;
    if (nesting > kMaxNesting) return too_deep();
    const Node& node = *box->node;  // boxes without a CID were built in memory
    NodeData data;
    if (node.left) {
      auto c = cid(node.left, nesting + 1);
      if (!c.ok()) return c;
      data.left = *c;
    }
    data.entries.reserve(node.entries.size());
    for (const auto& e : node.entries) {
      std::optional<Cid> right;
      if (e.right) {
        auto c = cid(e.right, nesting + 1);
        if (!c.ok()) return c;
        right = *c;
      }
      data.entries.push_back(NodeEntry{e.key, e.value, right});
    }
    auto bytes = std::make_shared<const Bytes>(encode_node(data));
    box->cid = Cid::compute(data::Codec::kDagCbor, *bytes);
    box->bytes = std::move(bytes);
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
      if (!(*node)->entries.empty()) return key_depth((*node)->entries[0].key) + down;
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
                          Entry{key, value, parts->second});
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

  // Removes `key` from the subtree `box`; null when nothing is left.
  Result<NodePtr> remove(const NodePtr& box, int layer, std::string_view key) const {
    if (!box) return make_error("usage.key-absent", "key not in the tree");
    if (layer < 0) return too_deep();
    auto loaded = load(box);
    if (!loaded.ok()) return loaded.error();
    Node node = **loaded;
    std::size_t i = lower_bound(node, key);
    if (found_at(node, i, key)) {
      auto merged = merge(slot(node, i), node.entries[i].right, layer - 1);
      if (!merged.ok()) return merged;
      node.entries.erase(node.entries.begin() + static_cast<std::ptrdiff_t>(i));
      slot(node, i) = *merged;
    } else {
      auto child = remove(slot(node, i), layer - 1, key);
      if (!child.ok()) return child;
      slot(node, i) = *child;
    }
    return box_or_null(std::move(node));
  }

  // Result<bool>: false when the visitor asked to stop.
  Result<bool> walk(const NodePtr& box, std::string_view from, std::string_view to,
                    const Mst::Visitor& visit, int nesting) const {
    if (!box) return true;
    if (nesting > kMaxNesting) return too_deep();
    auto loaded = load(box);
    if (!loaded.ok()) return loaded.error();
    auto node = box->node;  // keep alive while visiting
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
    auto node = box->node;
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
                bool is_root) const {
    auto loaded = load(box);
    if (!loaded.ok()) return loaded.error();
    auto node = box->node;
    // [repo.mst.empty-nodes] Only the empty tree is an empty leaf; a root
    // never only links down; any other node has keys or links down.
    if (node->entries.empty()) {
      if (is_root && node->left) {
        return make_error("repo.mst.empty-nodes", "the root node is empty and only links down");
      }
      if (!is_root && !node->left) {
        return make_error("repo.mst.empty-nodes", "an MST node is empty and links nowhere");
      }
    }
    for (std::size_t i = 0; i < node->entries.size(); ++i) {
      const auto& key = node->entries[i].key;
      if (auto st = validate_repo_path(key); !st.ok()) return st;
      // [repo.mst.key-depth] Each key sits in a node of its own depth.
      if (key_depth(key) != layer) {
        return make_error("repo.mst.key-depth", "key " + key + " has depth " +
                                                    std::to_string(key_depth(key)) +
                                                    " but sits at layer " + std::to_string(layer));
      }
      // [repo.mst.subtree-range] Keys of a subtree lie inside its gap.
      if ((lo && !(*lo < key)) || (hi && !(key < *hi))) {
        return make_error("repo.mst.subtree-range",
                          "key " + key + " lies outside the key range of its subtree");
      }
    }
    for (std::size_t i = 0; i <= node->entries.size(); ++i) {
      const NodePtr& child = slot(*node, i);
      if (!child) continue;
      if (layer == 0) {
        return make_error("repo.mst.key-depth", "a node at layer 0 links to a subtree");
      }
      const std::string* child_lo = i == 0 ? lo : &node->entries[i - 1].key;
      const std::string* child_hi = i == node->entries.size() ? hi : &node->entries[i].key;
      if (auto st = verify(child, layer - 1, child_lo, child_hi, false); !st.ok()) return st;
    }
    return {};
  }

 private:
  const BlockStore* store_;
};

NodePtr empty_root() { return make_box(Node{}); }

// Drops empty nodes above the first node with keys; the empty tree is one
// empty node. [repo.mst.empty-nodes]
Result<NodePtr> normalize_root(const Reader& reader, NodePtr root) {
  if (!root) return empty_root();
  for (int down = 0;; ++down) {
    if (down > kMaxNesting) return too_deep();
    auto node = reader.load(root);
    if (!node.ok()) return node.error();
    if (!(*node)->entries.empty() || !(*node)->left) return root;
    root = (*node)->left;
  }
}

}  // namespace

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
      node.entries.push_back(Entry{std::move(items[i].key), items[i].value, nullptr});
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
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    if (auto st = validate_repo_path(e.key); !st.ok()) return st.error();
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
  if (*layer < 0) return Mst(leaf(key, value), store_);
  if (depth > *layer) {
    // The key goes above the current root: split the whole tree around it
    // and lift both halves to the layer just below the key.
    auto parts = reader.split(root_, *layer, key);
    if (!parts.ok()) return parts.error();
    Node node;
    node.left = wrap(parts->first, *layer, depth - 1);
    node.entries.push_back(Entry{key, value, wrap(parts->second, *layer, depth - 1)});
    return Mst(make_box(std::move(node)), store_);
  }
  auto root = reader.insert(root_, *layer, key, depth, value);
  if (!root.ok()) return root.error();
  return Mst(*root, store_);
}

Result<Mst> Mst::remove(std::string_view key) const {
  Reader reader(store_);
  auto layer = reader.layer_of(root_);
  if (!layer.ok()) return layer.error();
  if (*layer < 0) return make_error("usage.key-absent", "key not in the tree");
  auto root = reader.remove(root_, *layer, key);
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

Status Mst::verify() const {
  Reader reader(store_);
  auto node = reader.load(root_);
  if (!node.ok()) return node.error();
  if ((*node)->entries.empty() && !(*node)->left) return {};  // the empty tree
  auto layer = reader.layer_of(root_);
  if (!layer.ok()) return layer.error();
  return reader.verify(root_, *layer, nullptr, nullptr, true);
}

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

// Merkle Search Tree (MST): the key/value structure under every repository
// commit, mapping repo paths to record CIDs.
// Spec: https://atproto.com/specs/repository#mst-structure and
// https://atproto.com/specs/repository#repository-paths
//
// How the tree is laid out (all of it follows from the keys alone, so two
// implementations holding the same records agree on the root CID):
//   - every key has a depth: the leading zero bits of SHA-256(key), counted
//     in pairs (a fanout of 4)                                [repo.mst.key-depth]
//   - the root node holds the keys of the greatest depth; each gap between
//     two of its keys (and before the first, after the last) links to a
//     subtree one layer down holding exactly the keys between them
//   - a subtree link never skips a layer, so a gap whose keys are all two or
//     more layers down is an entry-less node that only links further down;
//     such empty intermediate nodes are required. Empty nodes at the top (a
//     root that only links down) or at the bottom (a node with nothing at
//     all) are never part of a tree, except the single empty node that is
//     the empty tree.                                         [repo.mst.empty-nodes]
//   - node encoding {l, e: [{p, k, v, t}]} with each key stored as the byte
//     count it shares with the previous key of the same node plus the rest
//                                            [repo.mst.node-schema] [repo.mst.prefix-compression]
//
// Mst values are immutable: every change returns a new tree sharing the
// untouched nodes with the old one. A tree loaded from a BlockStore reads
// nodes on first use (lazily), so operations on a big stored tree touch only
// the nodes on their path; a node missing from the store is the error
// repo.mst.complete. The store must outlive the trees loaded from it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "atproto/car/car.hpp"
#include "atproto/common/result.hpp"
#include "atproto/data/cbor_view.hpp"
#include "atproto/data/cid.hpp"
#include "atproto/repo/block_store.hpp"

namespace atproto::repo {

// [repo.path.syntax] [repo.path.collection] [repo.path.record-key]
// A repo path: "<collection>/<record-key>", a normalized NSID and a valid
// record key, exactly one slash. Every MST key is a repo path.
Status validate_repo_path(std::string_view path);

// validate_repo_path for a run of keys, such as a tree's keys in order: a
// collection that passed once is not checked again while the keys after it
// share it (the same string has the same verdict), so a tree of one
// collection checks its NSID once instead of once per record.
class RepoPathValidator {
 public:
  Status check(std::string_view path);

 private:
  std::string valid_collection_;
};

// [repo.mst.key-depth] Leading zero bits of SHA-256(key), divided by two.
int key_depth(std::string_view key);

// [repo.mst.node-size] Limits on a tree's shape, against keys mined to make
// a repository's tree inefficient (huge nodes, or a tall tree whose every
// path crosses many nearly empty nodes):
// https://atproto.com/specs/repository#security-considerations
// Both are far beyond what honest (hash-random) keys produce:
//  - entries per node: among the keys of one layer, the next key stays in
//    the same node with probability 3/4, so a node reaches k entries with
//    probability (3/4)^k. A repository of ten million records has about
//    three million nodes and its largest holds about 55 entries; 512 has a
//    probability near 1e-64 per node. Mined keys of depth 0 (three keys in
//    four) would otherwise put a whole repository into one node.
//  - layers: a key has depth >= d with probability 4^-d. The deepest key of
//    a repository of a hundred million records sits near layer 13; a key
//    past layer 24 is a chance of 1e-15 per key (1e-5 over ten billion
//    records), while mining one takes some 2^50 hashes. Paths from the
//    root then cross at most 25 nodes.
// Error code "repo.mst.node-size". Readers refuse such nodes and trees
// (decode_node, Mst::verify, verify_stored, and so imports and a relay's
// checks), and changes refuse to build them, so that a tree we write is
// one others read.
inline constexpr std::size_t kMaxNodeEntries = 512;
inline constexpr int kMaxLayer = 24;
struct MstLimits {
  std::size_t max_node_entries = kMaxNodeEntries;  // at most kMaxNodeEntries
  int max_layer = kMaxLayer;                       // the root's layer, at most
};

// Which keys a change accepts. A repository's tree holds repo paths only;
// the MST itself is defined over any non-empty byte string
// [repo.mst.key-nonempty], which tools that build bare trees (such as the
// commit-proof fixtures of atproto-interop-tests) rely on.
enum class KeyRule { kRepoPath, kNonEmpty };
Status validate_key(std::string_view key, KeyRule rule);

// One key/value pair of the tree.
struct MstEntry {
  std::string key;
  data::Cid value;
  friend bool operator==(const MstEntry&, const MstEntry&) = default;
};

// A node as stored: full keys (prefix compression undone), links as CIDs.
struct NodeEntry {
  std::string key;
  data::Cid value;
  std::optional<data::Cid> right;  // "t": the subtree after this key
  friend bool operator==(const NodeEntry&, const NodeEntry&) = default;
};
struct NodeData {
  std::optional<data::Cid> left;  // "l": the subtree before the first key
  std::vector<NodeEntry> entries;
  friend bool operator==(const NodeData&, const NodeData&) = default;
};

// Canonical node bytes, with maximal prefix compression.
Bytes encode_node(const NodeData& node);
// Strict decoding of one node block: strict DRISL-CBOR, exactly the fields
// of the schema with their types [repo.mst.node-schema], MST node links that
// are dag-cbor CIDs [repo.mst.node-cid], each p the full byte count the
// key shares with the previous one [repo.mst.prefix-compression], and at
// most kMaxNodeEntries entries [repo.mst.node-size]. Key order, depths and
// ranges are the tree's business (Mst::verify).
Result<NodeData> decode_node(std::span<const std::uint8_t> bytes);
// The same into `out`, reusing its storage and `tape`'s from earlier calls
// (a reader of many nodes allocates once, not once per key).
Status decode_node_into(std::span<const std::uint8_t> bytes, NodeData& out, data::CborTape& tape);

namespace detail {
struct NodeBox;
}

// What changed between two trees (Mst::diff).
struct MstDiff {
  std::vector<MstEntry> created;
  std::vector<std::pair<MstEntry, data::Cid>> updated;  // new entry, old value
  std::vector<MstEntry> deleted;                        // with the old value
  std::vector<car::CarBlock> new_blocks;                // nodes of `to` not in `from`
  std::vector<data::Cid> removed_blocks;                // nodes of `from` not in `to`
};

class Mst {
 public:
  // The empty tree.
  Mst();

  // Builds the tree holding exactly `entries` (any order). Error codes:
  // repo.path.* for an invalid key, repo.mst.key-unique for a repeated key.
  static Result<Mst> from_entries(std::vector<MstEntry> entries);

  // A tree whose root node is `root` in `store`, read lazily.
  static Mst load(const BlockStore& store, const data::Cid& root);

  bool is_empty() const;

  // The record CID under `key`, or nullopt.
  Result<std::optional<data::Cid>> get(std::string_view key) const;

  // Changes; each returns a new tree. add fails with usage.key-exists when
  // the key is present, update and remove with usage.key-absent when it is
  // not; add and update validate the key (repo.path.*), and refuse one whose
  // depth is past kMaxLayer (repo.mst.node-size). A change that grows a node
  // past kMaxNodeEntries succeeds, but root_cid() and store_new_nodes() of
  // the result fail with repo.mst.node-size: such a tree is never written.
  Result<Mst> add(std::string_view key, const data::Cid& value,
                  KeyRule rule = KeyRule::kRepoPath) const;
  Result<Mst> update(std::string_view key, const data::Cid& value) const;
  Result<Mst> remove(std::string_view key) const&;
  // The same, consuming this tree (left valid but unspecified): the nodes it
  // shares with no other tree are edited in place instead of copied, for a
  // caller that keeps only the result (the inversion of a commit's ops).
  Result<Mst> remove(std::string_view key) &&;

  // [repo.mst.node-cid] CID of the root node (the commit's `data`).
  Result<data::Cid> root_cid() const;

  // Visits entries in key order; `visit` returns false to stop early.
  using Visitor = std::function<bool(const std::string& key, const data::Cid& value)>;
  Status walk(const Visitor& visit) const;
  // Visits the entries with from <= key < to (an empty `to`: no upper
  // bound), reading only the nodes that can hold such keys.
  Status walk_range(std::string_view from, std::string_view to, const Visitor& visit) const;
  Result<std::vector<MstEntry>> list() const;

  // Every node block, in pre-order: a node, then the subtrees of its gaps
  // from left to right. With `records`, each entry's record CID is passed to
  // `on_record` at its place in that order (the streaming order of
  // https://atproto.com/specs/repository#streamable-car-block-ordering).
  Status for_each_node(const std::function<Status(const car::CarBlock&)>& on_node,
                       const std::function<Status(const data::Cid&)>& on_record = {}) const;

  // Node blocks not yet in `store` (new since the tree was loaded or last
  // stored), written to it; returns them too (unless `collect` is false),
  // parents first.
  Result<std::vector<car::CarBlock>> store_new_nodes(BlockStore& store, bool collect = true) const;

  // Full structural check of a (loaded) tree: keys are valid repo paths in
  // strictly increasing order, each key in a node of its own depth, every
  // subtree one layer down and within its gap's key range, no empty node
  // where the spec forbids one, the shape within `limits`. Error codes:
  // repo.path.*, repo.mst.key-order, repo.mst.key-depth,
  // repo.mst.subtree-range, repo.mst.empty-nodes, repo.mst.node-size,
  // repo.mst.complete, and decode_node's codes.
  Status verify(const MstLimits& limits = {}) const;

  // The bytes of a block, or nullopt when it is not there; the span must
  // stay valid while the caller uses the tree.
  using BlockLookup = std::function<std::optional<std::span<const std::uint8_t>>(const data::Cid&)>;
  // verify() of the stored tree whose root node is `root`, streaming: each
  // node is read once from `blocks`, checked, and dropped (no tree is kept),
  // and the entries are passed to `visit` in key order as they are reached
  // (`visit` returns false to stop). The same checks and error codes as
  // verify(); entries visited before an error are not known to be valid.
  static Status verify_stored(const BlockLookup& blocks, const data::Cid& root,
                              const Visitor& visit, const MstLimits& limits = {});

  // Records and node blocks that differ between `from` and `to`.
  static Result<MstDiff> diff(const Mst& from, const Mst& to);

  // [repo.mst.proof] The nodes on the path from the root to where `key` is
  // or would be: enough to prove its presence (with its value) or absence.
  Result<std::vector<car::CarBlock>> prove(std::string_view key) const;

  // [repo.diff.inversion-blocks] The nodes needed to add or remove `key`
  // (and so to invert an operation on it): its path, and when the key is
  // present, the facing edges of the subtrees on either side of it, which
  // a removal merges.
  Result<std::vector<car::CarBlock>> covering_proof(std::string_view key) const;

 private:
  Result<Mst> remove_key(std::string_view key, bool in_place) const;
  explicit Mst(std::shared_ptr<detail::NodeBox> root, const BlockStore* store)
      : root_(std::move(root)), store_(store) {}
  std::shared_ptr<detail::NodeBox> root_;
  const BlockStore* store_ = nullptr;
};

// [repo.mst.proof] Checks a proof from Mst::prove against a root: returns the
// value under `key` (nullopt: proven absent). Fails with repo.mst.complete
// when the blocks do not reach far enough, or with decode errors.
Result<std::optional<data::Cid>> verify_proof(const data::Cid& root, std::string_view key,
                                              const std::vector<car::CarBlock>& blocks);

}  // namespace atproto::repo

// MST keys and the node codec: repo paths, key depths, and the strict
// encoding and decoding of one node block.
// Spec: https://atproto.com/specs/repository#mst-structure
#include "atproto/repo/mst.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <map>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "atproto/data/cbor.hpp"
#include "atproto/data/cbor_view.hpp"
#include "atproto/syntax/nsid.hpp"
#include "atproto/syntax/record_key.hpp"
#include "mst_tree.hpp"

namespace atproto::repo {

using data::Cid;

// ---------------------------------------------------------------- keys

namespace {

// validate_repo_path; with `known`, a collection equal to *known is taken as
// valid, and a newly validated one is stored there.
Status check_repo_path(std::string_view path, std::string* known) {
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
  if (known == nullptr || collection != *known) {
    // [repo.path.collection] A valid NSID in its normalized form.
    if (auto st = syntax::validate_nsid(collection); !st.ok()) {
      return make_error("repo.path.collection",
                        "collection is not a valid NSID: " + st.error().message);
    }
    if (syntax::normalize_nsid(collection) != collection) {
      return make_error("repo.path.collection", "collection NSID is not normalized");
    }
    if (known != nullptr) known->assign(collection);
  }
  // [repo.path.record-key] A valid record key ("." and ".." included).
  if (auto st = syntax::validate_record_key(rkey); !st.ok()) {
    return make_error("repo.path.record-key", "record key is not valid: " + st.error().message);
  }
  return {};
}

}  // namespace

Status validate_repo_path(std::string_view path) { return check_repo_path(path, nullptr); }

Status RepoPathValidator::check(std::string_view path) {
  return check_repo_path(path, &valid_collection_);
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

// A link's bytes up to the codec: tag 42, a byte string of 37 bytes, the
// 0x00 prefix of a CBOR cid-link, CIDv1. Then the codec, the SHA-256
// multihash code and digest size, and the digest: a CID's binary form is
// always these kCidBinarySize bytes (cid.hpp), so a node's links have one
// layout, which the writer and the reader below share.
constexpr std::array<std::uint8_t, 6> kLinkLead{0xd8, 42,  0x58, data::kCidBinarySize + 1,
                                                0x00, 0x01};
constexpr std::size_t kLinkSize = kLinkLead.size() + 3 + data::kSha256Size;
std::size_t link_size(const std::optional<Cid>& cid) { return cid ? kLinkSize : 1; }

// Bytes a head takes: its arguments below 24 fit in the first byte.
std::size_t head_size(std::uint64_t n) {
  if (n < 24) return 1;
  if (n < 0x100) return 2;
  if (n < 0x10000) return 3;
  if (n < 0x100000000ULL) return 5;
  return 9;
}

std::size_t shared_prefix(std::string_view a, std::string_view b) {
  std::size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
  return n;
}

// Writes a node's bytes into a buffer sized beforehand (encode makes room
// for at least all of them), so no write checks for room.
class NodeWriter {
 public:
  explicit NodeWriter(std::uint8_t* out) : p_(out) {}
  // Bytes written since `start`.
  std::size_t size(const std::uint8_t* start) const { return static_cast<std::size_t>(p_ - start); }

  void byte(std::uint8_t b) { *p_++ = b; }
  void bytes(const void* data, std::size_t size) {
    if (size == 0) return;
    std::memcpy(p_, data, size);
    p_ += size;
  }

  // A head in its shortest form: the argument in the first byte, or in the
  // 1, 2, 4 or 8 bytes after it (additional information 24 to 27).
  void head(std::uint8_t major, std::uint64_t n) {
    const auto m = static_cast<std::uint8_t>(major << 5);
    const std::size_t size = head_size(n) - 1;
    if (size == 0) return byte(static_cast<std::uint8_t>(m | n));
    byte(static_cast<std::uint8_t>(m | (24 + std::countr_zero(size))));
    for (std::size_t i = size; i-- > 0;) byte(static_cast<std::uint8_t>(n >> (8 * i)));
  }

  // A one-letter text key.
  void key(char k) {
    byte(0x61);
    byte(static_cast<std::uint8_t>(k));
  }

  void link(const std::optional<Cid>& cid) {
    if (!cid) return byte(0xf6);  // null
    bytes(kLinkLead.data(), kLinkLead.size());
    byte(static_cast<std::uint8_t>(cid->codec()));
    byte(static_cast<std::uint8_t>(data::kHashSha256));
    byte(static_cast<std::uint8_t>(data::kSha256Size));
    bytes(cid->digest().data(), data::kSha256Size);
  }

 private:
  std::uint8_t* p_;
};

// A node's links as CIDs: NodeData holds them so; a tree's Node has them
// once its subtrees' CIDs are computed (Reader::cid sees to that first).
const std::optional<Cid>& link_cid(const std::optional<Cid>& cid) { return cid; }
std::optional<Cid> link_cid(const detail::Link& link) { return link.known_cid(); }

// Written directly rather than through data::Value because nodes are the
// hottest encoding of the repository; mst_test.cpp checks it byte for byte
// against encode_cbor of the same node as a data model value.
template <class N>
Bytes encode(const N& node) {
  // Room for the bytes first, so that they are allocated once. Each key
  // counts whole, with two heads as long as that of its length (p and the
  // rest of the key are no longer): no shared prefixes to find twice, and
  // only a few bytes too many, cut off at the end.
  std::size_t size = 1 + 2 + head_size(node.entries.size()) + 2 + link_size(link_cid(node.left));
  for (const auto& entry : node.entries) {
    size += 1 + 2 + 2 * head_size(entry.key.size()) + entry.key.size() + 2 + 2 +
            link_size(link_cid(entry.right)) + 2 + kLinkSize;
  }
  Bytes out(size);
  NodeWriter w(out.data());
  // Canonical map key order is by length then bytes: "e" before "l"; within
  // an entry "k", "p", "t", "v".
  w.byte(0xa2);
  w.key('e');
  w.head(4, node.entries.size());
  std::string_view prev;
  for (const auto& entry : node.entries) {
    // [repo.mst.prefix-compression] Share as many bytes as possible with the
    // previous key of this node (none for the first).
    const std::size_t p = shared_prefix(prev, entry.key);
    w.byte(0xa4);
    w.key('k');
    w.head(2, entry.key.size() - p);
    w.bytes(entry.key.data() + p, entry.key.size() - p);
    w.key('p');
    w.head(0, p);
    w.key('t');
    w.link(link_cid(entry.right));
    w.key('v');
    w.link(entry.value);
    prev = entry.key;
  }
  w.key('l');
  w.link(link_cid(node.left));
  out.resize(w.size(out.data()));
  return out;
}

}  // namespace

Bytes encode_node(const NodeData& node) { return encode(node); }

namespace detail {
Bytes encode_node(const Node& node) { return encode(node); }
}  // namespace detail

namespace {

Error schema_error(const std::string& what) {
  return make_error("repo.mst.node-schema", "MST node: " + what);
}

// Keys of `map` are exactly `names`, which are given in canonical order;
// their values go to `values`, in the same order. The strict decoder
// enforced the canonical key order, so one pass over the map compares them
// (no lookup per name).
template <std::size_t N>
bool has_exactly(const data::MapView& map, const std::array<std::string_view, N>& names,
                 std::array<data::ValueView, N>& values) {
  if (map.size() != N) return false;
  std::size_t i = 0;
  for (auto it = map.begin(); it != map.end(); ++it, ++i) {
    const auto [key, value] = *it;
    if (key != names[i]) return false;
    values[i] = value;
  }
  return true;
}

constexpr std::array<std::string_view, 2> kNodeFields{"e", "l"};
constexpr std::array<std::string_view, 4> kEntryFields{"k", "p", "t", "v"};

Result<std::optional<Cid>> node_link(data::ValueView v, const char* field) {
  if (v.is_null()) return std::optional<Cid>{};
  if (!v.is_link()) return schema_error(std::string(field) + " is neither null nor a link");
  // [repo.mst.node-cid] Links between MST nodes are dag-cbor CIDs.
  if (v.as_link().codec() != data::Codec::kDagCbor) {
    return make_error("repo.mst.node-cid",
                      std::string("MST node: ") + field + " links to a non-dag-cbor CID");
  }
  return std::optional<Cid>{v.as_link()};
}

// The one-pass reader of a node in its canonical layout. DRISL-CBOR has
// one encoding per value and the schema fixes the fields, so a valid node
// is always the same byte sequence: map(2) "e" array(n) of map(4) "k" bytes
// "p" uint "t" null|link "v" link, then "l" null|link
// [repo.mst.node-schema]; heads in their shortest form; links as tag 42
// over 0x00 and a 36-byte CIDv1 with a SHA-256 digest [repo.mst.node-cid].
// Anything else, valid or not, is left to the general decoder (the reader
// only says "not the canonical layout"), so the errors and their codes
// stay that decoder's. The values it checks itself are those a decoded
// node would fail on: the entry count [repo.mst.node-size], full prefix
// compression [repo.mst.prefix-compression] and increasing keys
// [repo.mst.key-order]; a node breaking them goes the general way too.
// Nodes are the relay's and importer's most decoded blocks: this skips the
// tape, and writes keys and links straight into the node that keeps them.
class CanonicalNodeReader {
 public:
  explicit CanonicalNodeReader(std::span<const std::uint8_t> bytes)
      : p_(bytes.data()), end_(bytes.data() + bytes.size()) {}

  bool at_end() const { return p_ == end_; }

  bool byte(std::uint8_t b) {
    if (p_ == end_ || *p_ != b) return false;
    ++p_;
    return true;
  }

  // A one-letter text key.
  bool key(char k) { return byte(0x61) && byte(static_cast<std::uint8_t>(k)); }

  // A head of major type `major` in its shortest form.
  bool head(std::uint8_t major, std::uint64_t& n) {
    if (p_ == end_ || (*p_ >> 5) != major) return false;
    const std::uint8_t info = *p_++ & 0x1f;
    if (info < 24) {
      n = info;
      return true;
    }
    if (info > 27) return false;
    const std::size_t size = std::size_t{1} << (info - 24);  // 1, 2, 4 or 8 bytes
    if (static_cast<std::size_t>(end_ - p_) < size) return false;
    n = 0;
    for (std::size_t i = 0; i < size; ++i) n = (n << 8) | *p_++;
    // The smallest value each size is the shortest form for.
    const std::uint64_t least = size == 1 ? 24 : std::uint64_t{1} << (4 * size);
    return n >= least;
  }

  // A byte string's contents.
  bool bytes(std::span<const std::uint8_t>& out) {
    std::uint64_t size = 0;
    if (!head(2, size) || size > static_cast<std::uint64_t>(end_ - p_)) return false;
    out = {p_, static_cast<std::size_t>(size)};
    p_ += size;
    return true;
  }

  // A link (null too when `nullable`); only dag-cbor CIDs unless
  // `any_codec`.
  bool link(std::optional<Cid>& out, bool nullable, bool any_codec) {
    if (nullable && byte(0xf6)) {
      out.reset();
      return true;
    }
    if (static_cast<std::size_t>(end_ - p_) < kLinkSize ||
        !std::equal(kLinkLead.begin(), kLinkLead.end(), p_)) {
      return false;
    }
    // The CID itself: from_bytes reads the 36-byte form (and refuses any
    // codec but dag-cbor and raw, and any hash but SHA-256).
    auto cid = data::Cid::from_bytes({p_ + kLinkLead.size() - 1, data::kCidBinarySize});
    if (!cid || (!any_codec && cid->codec() != data::Codec::kDagCbor)) return false;
    out.emplace(*cid);
    p_ += kLinkSize;
    return true;
  }

 private:
  const std::uint8_t* p_;
  const std::uint8_t* end_;
};

void set_link(std::optional<Cid>& to, const std::optional<Cid>& cid) { to = cid; }
void set_link(detail::Link& to, const std::optional<Cid>& cid) {
  to = cid ? detail::Link::stored(*cid) : detail::Link();
}

// An entry of an earlier node, about to take a new key and value.
void reuse_entry(NodeEntry& entry, const Cid& value) { entry.value = value; }
void reuse_entry(detail::Entry& entry, const Cid& value) {
  entry.value = value;
  entry.depth = -1;  // the cached depth was the old key's
}

// NodeData (entries overwritten in place, so a reused one keeps its keys'
// storage) or a tree's Node. False: not a canonical valid node; `node` is
// then partly written.
template <class N>
bool read_canonical(std::span<const std::uint8_t> bytes, N& node) {
  if (bytes.size() > data::DecodeLimits{}.max_input_bytes) return false;
  CanonicalNodeReader in(bytes);
  std::uint64_t count = 0;
  if (!in.byte(0xa2) || !in.key('e') || !in.head(4, count) || count > kMaxNodeEntries) {
    return false;
  }
  // Reserved up front: `prev` below points into the previous entry.
  node.entries.reserve(static_cast<std::size_t>(count));
  std::optional<Cid> right;
  std::optional<Cid> value;
  std::span<const std::uint8_t> suffix;
  for (std::size_t n = 0; n < count; ++n) {
    std::uint64_t shared = 0;
    if (!in.byte(0xa4) || !in.key('k') || !in.bytes(suffix) || !in.key('p') ||
        !in.head(0, shared) || !in.key('t') || !in.link(right, true, false) || !in.key('v') ||
        !in.link(value, false, true)) {
      return false;
    }
    const std::string_view prev = n == 0 ? std::string_view() : node.entries[n - 1].key;
    if (shared > prev.size()) return false;  // the first key is whole (p = 0)
    if (n == node.entries.size()) {
      node.entries.push_back({{}, *value, {}});
    } else {
      reuse_entry(node.entries[n], *value);
    }
    auto& entry = node.entries[n];
    const auto p = static_cast<std::size_t>(shared);
    entry.key.reserve(p + suffix.size());
    if (p == 0) {
      entry.key.clear();
    } else {
      entry.key.assign(prev.data(), p);
    }
    entry.key.append(reinterpret_cast<const char*>(suffix.data()), suffix.size());
    // p counts all the bytes shared with the previous key, which sorts
    // before this one: the next byte of each differs, and this key's is the
    // greater (or the previous key ends there).
    if (n > 0 && (suffix.empty() ||
                  (p < prev.size() && static_cast<std::uint8_t>(prev[p]) >= suffix.front()))) {
      return false;
    }
    set_link(entry.right, right);
  }
  std::optional<Cid> left;
  if (!in.key('l') || !in.link(left, true, false) || !in.at_end()) return false;
  set_link(node.left, left);
  node.entries.erase(node.entries.begin() + static_cast<std::ptrdiff_t>(count), node.entries.end());
  return true;
}

}  // namespace

namespace detail {
bool read_canonical_node(std::span<const std::uint8_t> bytes, NodeData& node) {
  return read_canonical(bytes, node);
}
bool read_canonical_node(std::span<const std::uint8_t> bytes, Node& node) {
  return read_canonical(bytes, node);
}
}  // namespace detail

Result<NodeData> decode_node(std::span<const std::uint8_t> bytes) {
  // The tape decoder: no tree of owning values for a node read once.
  data::CborTape tape;
  NodeData node;
  if (auto st = decode_node_into(bytes, node, tape); !st.ok()) return st.error();
  return node;
}

Status decode_node_into(std::span<const std::uint8_t> bytes, NodeData& node, data::CborTape& tape) {
  if (detail::read_canonical_node(bytes, node)) return {};
  return detail::decode_node_general(bytes, node, tape);
}

namespace detail {

Status decode_node_into(std::span<const std::uint8_t> bytes, Node& node) {
  if (read_canonical_node(bytes, node)) return {};
  // Not the canonical layout: the general decoder names the rule broken
  // (or, should it accept what the reader above did not, decodes it).
  thread_local data::CborTape tape;
  thread_local NodeData decoded;
  if (auto st = decode_node_general(bytes, decoded, tape); !st.ok()) return st;
  node.left = decoded.left ? Link::stored(*decoded.left) : Link();
  node.entries.clear();
  node.entries.reserve(decoded.entries.size());
  for (auto& e : decoded.entries) {
    node.entries.push_back(
        Entry{std::move(e.key), e.value, e.right ? Link::stored(*e.right) : Link()});
  }
  return {};
}

Status decode_node_general(std::span<const std::uint8_t> bytes, NodeData& node,
                           data::CborTape& tape) {
  if (auto st = data::decode_cbor_view(bytes, tape); !st.ok()) return st.error();
  const data::ValueView value = tape.root();
  // [repo.mst.node-schema] {l, e} with entries {p, k, v, t}; nullable fields
  // present as null, nothing else.
  std::array<data::ValueView, 2> node_fields{value, value};
  if (!value.is_map() || !has_exactly(value.as_map(), kNodeFields, node_fields)) {
    return schema_error("not a map of exactly the fields e and l");
  }
  auto left = node_link(node_fields[1], "l");
  if (!left.ok()) return left.error();
  node.left = *left;
  const auto e = node_fields[0];
  if (!e.is_array()) return schema_error("e is not an array");
  const auto items = e.as_array();
  // [repo.mst.node-size] Refused before any entry is read.
  if (items.size() > kMaxNodeEntries) {
    return make_error("repo.mst.node-size", "an MST node has " + std::to_string(items.size()) +
                                                " entries, more than the " +
                                                std::to_string(kMaxNodeEntries) + " allowed");
  }
  // Entries (and their key strings) of an earlier node are overwritten in
  // place, so their capacity is reused.
  node.entries.reserve(items.size());
  std::size_t n = 0;
  for (const auto item : items) {
    std::array<data::ValueView, 4> fields{item, item, item, item};
    if (!item.is_map() || !has_exactly(item.as_map(), kEntryFields, fields)) {
      return schema_error("an entry is not a map of exactly the fields k, p, t and v");
    }
    const auto k = fields[0];
    const auto p = fields[1];
    const auto v = fields[3];
    if (!p.is_integer() || p.as_integer() < 0)
      return schema_error("p is not a non-negative integer");
    if (!k.is_bytes()) return schema_error("k is not a byte string");
    if (!v.is_link()) return schema_error("v is not a link");
    auto right = node_link(fields[2], "t");
    if (!right.ok()) return right.error();
    auto shared = static_cast<std::uint64_t>(p.as_integer());
    // [repo.mst.prefix-compression] The first key is whole; every p counts
    // exactly the bytes shared with the previous key, no fewer.
    if (n == 0 && shared != 0) {
      return make_error("repo.mst.prefix-compression", "first entry of a node has p != 0");
    }
    if (n == node.entries.size()) node.entries.push_back(NodeEntry{{}, v.as_link(), {}});
    const std::string_view prev = n == 0 ? std::string_view() : node.entries[n - 1].key;
    if (shared > prev.size()) {
      return make_error("repo.mst.prefix-compression", "p is longer than the previous key");
    }
    NodeEntry& entry = node.entries[n];
    const auto suffix = k.as_bytes();
    // The whole key at once: a string moved out by a caller (Reader::load)
    // is allocated once, not once for the prefix and again for the rest.
    entry.key.reserve(static_cast<std::size_t>(shared) + suffix.size());
    if (shared == 0) {
      entry.key.clear();
    } else {
      entry.key.assign(prev.data(), static_cast<std::size_t>(shared));
    }
    entry.key.append(suffix.begin(), suffix.end());
    if (n > 0 && shared_prefix(prev, entry.key) != shared) {
      return make_error("repo.mst.prefix-compression",
                        "p is shorter than the prefix the key shares with the previous key");
    }
    // [repo.mst.key-order] Keys strictly increase within the node.
    if (n > 0 && !(prev < entry.key)) {
      return make_error("repo.mst.key-order", "keys in a node are not in increasing order");
    }
    entry.value = v.as_link();
    entry.right = *right;
    ++n;
  }
  node.entries.erase(node.entries.begin() + static_cast<std::ptrdiff_t>(n), node.entries.end());
  return {};
}

}  // namespace detail

}  // namespace atproto::repo

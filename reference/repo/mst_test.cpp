// Tests for the MST: key rules, depths, node codec, known root CIDs,
// structural verification of hand-made bad trees, and RapidCheck properties
// (shape independent of history, ops agree with a rebuild, lazy loading,
// diffs, proofs).
// Spec: https://atproto.com/specs/repository#mst-structure
#include "atproto/repo/mst.hpp"

#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "atproto/data/cbor.hpp"
#include "atproto/data/value.hpp"
#include "atproto/repo/test_generators.hpp"
#include "mst_tree.hpp"

namespace {

using atproto::car::CarBlock;
using atproto::data::Cid;
using atproto::repo::decode_node;
using atproto::repo::encode_node;
using atproto::repo::key_depth;
using atproto::repo::MemoryBlockStore;
using atproto::repo::Mst;
using atproto::repo::MstEntry;
using atproto::repo::NodeData;
using atproto::repo::NodeEntry;
using atproto::repo::validate_repo_path;
using atproto::repo::generators::record_cid;

namespace data = atproto::data;

Cid parse_cid(const char* text) { return Cid::parse(text).value(); }

std::string root_of(const Mst& mst) { return mst.root_cid().value().to_string(); }

Mst build(const std::vector<std::string>& keys) {
  std::vector<MstEntry> entries;
  for (std::size_t i = 0; i < keys.size(); ++i) entries.push_back({keys[i], record_cid(i)});
  return Mst::from_entries(entries).value();
}

TEST_CASE("mst: key depth, the spec's examples [repo.mst.key-depth]", "[mst]") {
  CHECK(key_depth("2653ae71") == 0);
  CHECK(key_depth("blue") == 1);
  CHECK(key_depth("app.bsky.feed.post/454397e440ec") == 4);
  CHECK(key_depth("app.bsky.feed.post/9adeb165882c") == 8);
}

TEST_CASE("mst: repo paths [repo.path.syntax] [repo.path.collection] [repo.path.record-key]",
          "[mst]") {
  CHECK(validate_repo_path("app.bsky.feed.post/3jqfcqzm3fo2j").ok());
  CHECK(validate_repo_path("com.example.record/self").ok());
  CHECK(validate_repo_path("com.example.record/a:b~c_d-e.f").ok());
  auto code = [](std::string_view p) { return validate_repo_path(p).error().code; };
  CHECK(code("") == "repo.path.syntax");
  CHECK(code("app.bsky.feed.post") == "repo.path.syntax");
  CHECK(code("/app.bsky.feed.post/abc") == "repo.path.syntax");
  CHECK(code("app.bsky.feed.post/") == "repo.path.syntax");
  CHECK(code("app.bsky.feed.post/a/b") == "repo.path.syntax");
  CHECK(code("notansid/abc") == "repo.path.collection");
  CHECK(code("App.Bsky.feed.post/abc") == "repo.path.collection");
  CHECK(code("app.bsky.feed.post/..") == "repo.path.record-key");
  CHECK(code("app.bsky.feed.post/a b") == "repo.path.record-key");
  CHECK(code("app.bsky.feed.post/caf\xc3\xa9") == "repo.path.record-key");
}

// Root CIDs computed independently with @atproto/repo 0.10.14 (MST.create,
// then add), the official implementation's own unit-test trees.
TEST_CASE("mst: bare trees take any non-empty key [repo.mst.key-nonempty]", "[mst]") {
  using atproto::repo::KeyRule;
  Cid value = record_cid(1);
  // Keys of the commit-proof fixtures' shape: not repo paths, still MST keys.
  auto tree = Mst().add("A0/374913", value, KeyRule::kNonEmpty);
  REQUIRE(tree.ok());
  auto more = tree->add("B1/986427", value, KeyRule::kNonEmpty);
  REQUIRE(more.ok());
  CHECK(more->get("A0/374913")->has_value());
  CHECK(more->list()->size() == 2);
  // The same keys in a repository's tree are refused, and the empty key always.
  CHECK(Mst().add("A0/374913", value).error().code == "repo.path.collection");
  CHECK(Mst().add("", value, KeyRule::kNonEmpty).error().code == "repo.mst.key-nonempty");
  CHECK(atproto::repo::validate_key("x", KeyRule::kNonEmpty).ok());
  // Removing the keys again gives the empty tree's root.
  auto back = more->remove("B1/986427");
  REQUIRE(back.ok());
  auto empty = back->remove("A0/374913");
  REQUIRE(empty.ok());
  CHECK(empty->root_cid()->to_string() == Mst().root_cid()->to_string());
}

TEST_CASE("mst: known root CIDs [repo.mst.node-cid] [repo.mst.empty-nodes]", "[mst]") {
  Cid leaf = parse_cid("bafyreie5cvv4h45feadgeuwhbcutmh6t2ceseocckahdoe6uat64zmz454");
  Mst empty;
  CHECK(root_of(empty) == "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm");
  auto trivial = empty.add("com.example.record/3jqfcqzm3fo2j", leaf).value();
  CHECK(root_of(trivial) == "bafyreibj4lsc3aqnrvphp5xmrnfoorvru4wynt6lwidqbm2623a6tatzdu");
  auto layer2 = empty.add("com.example.record/3jqfcqzm3fx2j", leaf).value();
  CHECK(key_depth("com.example.record/3jqfcqzm3fx2j") == 2);
  CHECK(root_of(layer2) == "bafyreih7wfei65pxzhauoibu3ls7jgmkju4bspy4t2ha2qdjnzqvoy33ai");
  Mst simple;
  for (const char* k : {"com.example.record/3jqfcqzm3fp2j", "com.example.record/3jqfcqzm3fr2j",
                        "com.example.record/3jqfcqzm3fs2j", "com.example.record/3jqfcqzm3ft2j",
                        "com.example.record/3jqfcqzm4fc2j"}) {
    simple = simple.add(k, leaf).value();
  }
  CHECK(root_of(simple) == "bafyreicmahysq4n6wfuxo522m6dpiy7z7qzym3dzs756t5n7nfdgccwq7m");
}

data::Value link_or_null(const std::optional<Cid>& c) {
  return c ? data::Value(*c) : data::Value(nullptr);
}

// The node as a data model value, written from the schema: the slow,
// obvious encoding that encode_node must match byte for byte.
data::Value node_value(const NodeData& node) {
  data::Array entries;
  std::string prev;
  for (const auto& e : node.entries) {
    std::size_t p = 0;
    while (p < prev.size() && p < e.key.size() && prev[p] == e.key[p]) ++p;
    entries.push_back(
        data::Map{{"p", static_cast<std::int64_t>(p)},
                  {"k", data::Bytes(e.key.begin() + static_cast<std::ptrdiff_t>(p), e.key.end())},
                  {"v", e.value},
                  {"t", link_or_null(e.right)}});
    prev = e.key;
  }
  return data::Map{{"l", link_or_null(node.left)}, {"e", entries}};
}

TEST_CASE("mst: node encoding matches the data model encoding [repo.mst.node-schema]", "[mst]") {
  NodeData node;
  node.left = record_cid(100);
  node.entries.push_back({"com.example.record/aaa", record_cid(1), std::nullopt});
  node.entries.push_back({"com.example.record/aab", record_cid(2), record_cid(3)});
  node.entries.push_back({"com.example.zzz/b", record_cid(4), std::nullopt});
  auto bytes = encode_node(node);
  CHECK(bytes == data::encode_cbor(node_value(node)).value());
  auto back = decode_node(bytes);
  REQUIRE(back.ok());
  CHECK(*back == node);
  CHECK(encode_node(NodeData{}) == data::encode_cbor(node_value(NodeData{})).value());
}

std::string decode_code(const data::Value& v) {
  auto r = decode_node(data::encode_cbor(v).value());
  return r.ok() ? "ok" : r.error().code;
}

data::Value entry(std::int64_t p, std::string k, std::optional<Cid> t = std::nullopt) {
  return data::Map{{"p", p},
                   {"k", data::Bytes(k.begin(), k.end())},
                   {"v", record_cid(7)},
                   {"t", link_or_null(t)}};
}

TEST_CASE("mst: node decoding rejects what the schema forbids", "[mst]") {
  auto node = [](data::Array entries) {
    return data::Value(data::Map{{"l", nullptr}, {"e", std::move(entries)}});
  };
  CHECK(decode_code(node({entry(0, "a/b"), entry(2, "c")})) == "ok");
  // [repo.mst.prefix-compression]
  CHECK(decode_code(node({entry(1, "a/b")})) == "repo.mst.prefix-compression");
  CHECK(decode_code(node({entry(0, "a/b"), entry(1, "/c")})) == "repo.mst.prefix-compression");
  CHECK(decode_code(node({entry(0, "a/b"), entry(4, "c")})) == "repo.mst.prefix-compression");
  // [repo.mst.key-order]
  CHECK(decode_code(node({entry(0, "a/c"), entry(2, "b")})) == "repo.mst.key-order");
  CHECK(decode_code(node({entry(0, "a/c"), entry(3, "")})) == "repo.mst.key-order");
  // [repo.mst.node-schema]
  CHECK(decode_code(data::Map{{"e", data::Array{}}}) == "repo.mst.node-schema");
  CHECK(decode_code(data::Map{{"l", nullptr}, {"e", data::Array{}}, {"x", 1}}) ==
        "repo.mst.node-schema");
  CHECK(decode_code(data::Map{{"l", 1}, {"e", data::Array{}}}) == "repo.mst.node-schema");
  CHECK(decode_code(data::Map{{"l", nullptr}, {"e", 1}}) == "repo.mst.node-schema");
  CHECK(decode_code(
            node({data::Map{{"p", 0}, {"k", "text"}, {"v", record_cid(1)}, {"t", nullptr}}})) ==
        "repo.mst.node-schema");
  CHECK(decode_code(node(
            {data::Map{{"p", -1}, {"k", data::Bytes{1}}, {"v", record_cid(1)}, {"t", nullptr}}})) ==
        "repo.mst.node-schema");
  CHECK(decode_code(node({data::Map{{"p", 0}, {"k", data::Bytes{1}}, {"v", record_cid(1)}}})) ==
        "repo.mst.node-schema");
  // [repo.mst.node-cid] Subtree links are dag-cbor.
  Cid raw = Cid::compute(data::Codec::kRaw, std::vector<std::uint8_t>{1});
  CHECK(decode_code(data::Map{{"l", raw}, {"e", data::Array{}}}) == "repo.mst.node-cid");
  // decode_node_into reuses one NodeData and tape for node after node: what
  // an earlier, bigger node left there never leaks into a later one.
  {
    NodeData big;
    for (std::uint64_t i = 0; i < 6; ++i) {
      big.entries.push_back(
          {"com.example.record/k" + std::to_string(100 + i), record_cid(i), std::nullopt});
    }
    big.left = record_cid(40);
    NodeData small;
    small.entries.push_back({"app.bsky.feed.post/x", record_cid(7), record_cid(41)});
    NodeData reused;
    data::CborTape tape;
    REQUIRE(decode_node_into(encode_node(big), reused, tape).ok());
    CHECK(reused == big);
    REQUIRE(decode_node_into(encode_node(small), reused, tape).ok());
    CHECK(reused == small);
    REQUIRE(decode_node_into(encode_node(big), reused, tape).ok());
    CHECK(reused == big);
  }
  // Not CBOR at all: the data layer's code.
  CHECK(decode_node(std::vector<std::uint8_t>{0xff}).error().code.rfind("data.", 0) == 0);
}

// A node as the tree keeps it, back in NodeData form (its links are all
// still CIDs: nothing has gone down them).
NodeData node_data_of(const atproto::repo::detail::Node& node) {
  NodeData out;
  out.left = node.left.known_cid();
  for (const auto& e : node.entries) out.entries.push_back({e.key, e.value, e.right.known_cid()});
  return out;
}

// A valid node (inside RapidCheck): up to `max` distinct keys in order,
// links down present or not.
NodeData generated_node(std::size_t max) {
  const auto keys = *atproto::repo::generators::distinct_paths(max);
  NodeData node;
  if (*rc::gen::arbitrary<bool>()) node.left = record_cid(99);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    node.entries.push_back(
        {keys[i], record_cid(i),
         *rc::gen::arbitrary<bool>() ? std::optional<Cid>(record_cid(50 + i)) : std::nullopt});
  }
  return node;
}

TEST_CASE("mst properties: the one-pass node reader agrees with the general decoder",
          "[mst][properties]") {
  namespace detail = atproto::repo::detail;
  // Half the time a valid node (sometimes with two keys swapped), half the
  // time a node-shaped value: p and the key suffixes arbitrary (so prefix
  // compression and key order may be broken), links of either codec or
  // null, sometimes a field too many or too few. Encoded canonically, then
  // sometimes with a few bytes changed, cut off or added.
  rc::prop("same verdict, code and node for generated and mutated node bytes", [] {
    auto link = [](int kind) {
      if (kind == 0) return data::Value(nullptr);
      if (kind == 1)
        return data::Value(Cid::compute(data::Codec::kRaw, std::vector<std::uint8_t>{1}));
      return data::Value(record_cid(static_cast<std::uint64_t>(kind)));
    };
    data::Array entries;
    const auto count = *rc::gen::inRange<std::size_t>(0, 6);
    data::Value value;
    if (*rc::gen::arbitrary<bool>()) {
      NodeData valid = generated_node(8);
      if (valid.entries.size() >= 2 && *rc::gen::inRange(0, 4) == 0) {
        const auto i = *rc::gen::inRange<std::size_t>(1, valid.entries.size());
        std::swap(valid.entries[i - 1].key, valid.entries[i].key);
      }
      value = node_value(valid);
    }
    for (std::size_t i = 0; i < count; ++i) {
      const auto suffix = *rc::gen::container<std::vector<std::uint8_t>>(
          *rc::gen::inRange<std::size_t>(0, 40),
          rc::gen::element<std::uint8_t>('a', 'b', '/', 0xff));
      data::Map entry{{"p", *rc::gen::inRange<std::int64_t>(-1, 30)},
                      {"k", data::Bytes(suffix.begin(), suffix.end())},
                      {"v", link(*rc::gen::inRange(1, 5))},
                      {"t", link(*rc::gen::inRange(0, 5))}};
      if (*rc::gen::inRange(0, 20) == 0) entry.erase("t");
      entries.push_back(std::move(entry));
    }
    if (!value.is_map()) {
      value = data::Map{{"l", link(*rc::gen::inRange(0, 5))}, {"e", std::move(entries)}};
    }
    if (*rc::gen::inRange(0, 20) == 0) value.as_map().emplace("x", 1);
    auto bytes = data::encode_cbor(value).value();
    const auto mutations = *rc::gen::inRange(0, 4);
    for (int m = 0; m < mutations && !bytes.empty(); ++m) {
      const auto at = *rc::gen::inRange<std::size_t>(0, bytes.size());
      switch (*rc::gen::inRange(0, 4)) {
        case 0:
          bytes[at] = *rc::gen::arbitrary<std::uint8_t>();
          break;
        case 1:
          bytes.resize(at);
          break;
        case 2:
          bytes.insert(bytes.begin() + static_cast<std::ptrdiff_t>(at),
                       *rc::gen::arbitrary<std::uint8_t>());
          break;
        default:
          bytes[at] = static_cast<std::uint8_t>(bytes[at] + 1);
      }
    }
    NodeData general;
    data::CborTape tape;
    const auto st = detail::decode_node_general(bytes, general, tape);
    NodeData fast;
    const bool read = detail::read_canonical_node(bytes, fast);
    detail::Node node;
    const bool read_node = detail::read_canonical_node(bytes, node);
    // Every valid node is in the canonical layout: the reader takes exactly
    // what the general decoder takes, and reads the same node.
    RC_ASSERT(read == st.ok());
    RC_ASSERT(read_node == st.ok());
    if (st.ok()) {
      RC_ASSERT(fast == general);
      RC_ASSERT(node_data_of(node) == general);
      // Both encoders give back the bytes (a valid node has one encoding).
      RC_ASSERT(encode_node(general) == bytes);
      RC_ASSERT(detail::encode_node(node) == bytes);
    }
    // decode_node and the tree's decoder: the general decoder's verdict.
    auto decoded = decode_node(bytes);
    detail::Node tree_node;
    const auto tree_st = detail::decode_node_into(bytes, tree_node);
    RC_ASSERT(decoded.ok() == st.ok());
    RC_ASSERT(tree_st.ok() == st.ok());
    if (st.ok()) {
      RC_ASSERT(*decoded == general);
      RC_ASSERT(node_data_of(tree_node) == general);
    } else {
      RC_ASSERT(decoded.error().code == st.error().code);
      RC_ASSERT(decoded.error().message == st.error().message);
      RC_ASSERT(tree_st.error().code == st.error().code);
    }
  });
  rc::prop("a reused NodeData reads node after node like a fresh one", [] {
    NodeData reused;
    for (int round = 0; round < 3; ++round) {
      const NodeData node = generated_node(12);
      RC_ASSERT(detail::read_canonical_node(encode_node(node), reused));
      RC_ASSERT(reused == node);
    }
  });
  rc::prop("a reused tree Node too, key depths included", [] {
    detail::Node reused;
    for (int round = 0; round < 3; ++round) {
      const NodeData node = generated_node(12);
      RC_ASSERT(detail::read_canonical_node(encode_node(node), reused));
      RC_ASSERT(node_data_of(reused) == node);
      for (const auto& e : reused.entries) RC_ASSERT(e.key_depth() == key_depth(e.key));
    }
  });
  // Key suffixes whose length heads take one, two and four bytes.
  for (std::size_t size : std::vector<std::size_t>{23, 24, 255, 256, 65535, 65536}) {
    NodeData node;
    node.entries.push_back({std::string(size, 'k'), record_cid(1), std::nullopt});
    node.entries.push_back({std::string(size, 'k') + "z", record_cid(2), record_cid(3)});
    NodeData read;
    CHECK(detail::read_canonical_node(encode_node(node), read));
    CHECK(read == node);
  }
}

// Stores hand-made nodes and returns the CID of the last one.
struct HandTree {
  MemoryBlockStore store;
  Cid put(const NodeData& node) {
    auto bytes = encode_node(node);
    auto cid = Cid::compute(data::Codec::kDagCbor, bytes);
    (void)store.put(cid, bytes);
    return cid;
  }
  std::string verify(const Cid& root) {
    auto st = Mst::load(store, root).verify();
    std::string code = st.ok() ? "ok" : st.error().code;
    // The streaming check of the same stored tree reaches the same verdict,
    // and on a good tree visits exactly its entries in order.
    std::vector<MstEntry> visited;
    auto streamed =
        Mst::verify_stored(lookup(store), root, [&](const std::string& k, const Cid& v) {
          visited.push_back({k, v});
          return true;
        });
    CHECK((streamed.ok() ? "ok" : streamed.error().code) == code);
    if (st.ok()) CHECK(visited == Mst::load(store, root).list().value());
    return code;
  }
  static Mst::BlockLookup lookup(const MemoryBlockStore& s) {
    return [&s](const Cid& cid) -> std::optional<std::span<const std::uint8_t>> {
      const auto* bytes = s.find(cid);
      if (bytes == nullptr) return std::nullopt;
      return std::span<const std::uint8_t>(*bytes);
    };
  }
};

// Keys of known depth, found once by search.
std::string key_of_depth(int depth, int skip = 0) {
  for (int i = 0;; ++i) {
    std::string key = "com.example.record/k" + std::to_string(i);
    if (key_depth(key) == depth && skip-- == 0) return key;
  }
}

TEST_CASE("mst: verify rejects misplaced keys and empty nodes", "[mst]") {
  std::vector<std::string> d0, d1;
  for (int i = 0; i < 4; ++i) d0.push_back(key_of_depth(0, i));
  for (int i = 0; i < 2; ++i) d1.push_back(key_of_depth(1, i));
  std::sort(d0.begin(), d0.end());
  std::sort(d1.begin(), d1.end());
  HandTree t;
  // A good two-layer tree: one depth-1 key with a leaf holding the depth-0
  // keys below it on the left.
  std::vector<std::string> below;
  for (const auto& k : d0) {
    if (k < d1[0]) below.push_back(k);
  }
  SECTION("a well-formed tree verifies and matches a rebuild") {
    // By hand: d1[0] alone in the root, the depth-0 keys below it in a left
    // leaf and those above it in the leaf to its right.
    std::vector<std::string> above;
    for (const auto& k : d0) {
      if (k > d1[0]) above.push_back(k);
    }
    std::map<std::string, Cid> values;
    for (const auto& k : d0) values.emplace(k, record_cid(values.size()));
    values.emplace(d1[0], record_cid(values.size()));
    auto leaf_of = [&](const std::vector<std::string>& keys) -> std::optional<Cid> {
      if (keys.empty()) return std::nullopt;  // [repo.mst.empty-nodes] no empty leaf
      NodeData leaf;
      for (const auto& k : keys) leaf.entries.push_back({k, values.at(k), std::nullopt});
      return t.put(leaf);
    };
    NodeData root;
    root.left = leaf_of(below);
    root.entries.push_back({d1[0], values.at(d1[0]), leaf_of(above)});
    const Cid by_hand = t.put(root);
    CHECK(t.verify(by_hand) == "ok");
    // The same keys and values built from scratch give the same root.
    std::vector<MstEntry> entries;
    for (const auto& [k, v] : values) entries.push_back({k, v});
    CHECK(Mst::from_entries(entries).value().root_cid().value() == by_hand);
  }
  SECTION("[repo.mst.key-depth] a depth-0 key in the root at layer 1") {
    NodeData root;
    std::vector<std::string> keys{d0[0], d1[0]};
    std::sort(keys.begin(), keys.end());
    for (const auto& k : keys) root.entries.push_back({k, record_cid(1), std::nullopt});
    CHECK(t.verify(t.put(root)) == "repo.mst.key-depth");
  }
  SECTION("[repo.mst.subtree-range] a subtree holding a key outside its gap") {
    // Put the depth-0 key that sorts after d1[0] into the left subtree.
    std::string after;
    for (const auto& k : d0) {
      if (k > d1[0]) after = k;
    }
    REQUIRE(!after.empty());
    NodeData child;
    child.entries.push_back({after, record_cid(2), std::nullopt});
    NodeData root;
    root.left = t.put(child);
    root.entries.push_back({d1[0], record_cid(1), std::nullopt});
    CHECK(t.verify(t.put(root)) == "repo.mst.subtree-range");
  }
  SECTION("[repo.mst.empty-nodes] an empty leaf below the root") {
    NodeData root;
    root.left = t.put(NodeData{});
    root.entries.push_back({d1[0], record_cid(1), std::nullopt});
    CHECK(t.verify(t.put(root)) == "repo.mst.empty-nodes");
  }
  SECTION("[repo.mst.empty-nodes] a root that only links down") {
    NodeData child;
    child.entries.push_back({d0[0], record_cid(1), std::nullopt});
    NodeData root;
    root.left = t.put(child);
    CHECK(t.verify(t.put(root)) == "repo.mst.empty-nodes");
  }
  SECTION("[repo.mst.key-depth] a subtree that skips a layer") {
    // A depth-2 root whose left link goes straight to depth-0 keys.
    std::string top = key_of_depth(2);
    NodeData child;
    for (const auto& k : d0) {
      if (k < top) child.entries.push_back({k, record_cid(2), std::nullopt});
    }
    if (child.entries.empty()) child.entries.push_back({"com.example.a/0", record_cid(2), {}});
    NodeData root;
    root.left = t.put(child);
    root.entries.push_back({top, record_cid(1), std::nullopt});
    CHECK(t.verify(t.put(root)) == "repo.mst.key-depth");
  }
  SECTION("[repo.path.syntax] a key that is not a repo path") {
    NodeData root;
    root.entries.push_back({"2653ae71", record_cid(1), std::nullopt});
    CHECK(t.verify(t.put(root)) == "repo.path.syntax");
  }
  SECTION("[repo.mst.complete] a missing node") {
    NodeData root;
    root.left = record_cid(999);
    root.entries.push_back({d1[0], record_cid(1), std::nullopt});
    CHECK(t.verify(t.put(root)) == "repo.mst.complete");
  }
}

// The first `n` keys of depth 0 (three keys in four), sorted: what a
// repository whose keys were mined for depth 0 holds.
std::vector<std::string> depth0_keys(std::size_t n) {
  std::vector<std::string> out;
  for (int i = 0; out.size() < n; ++i) {
    std::string key = "com.example.record/k" + std::to_string(i);
    if (key_depth(key) == 0) out.push_back(key);
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST_CASE("mst: nodes hold at most 512 entries, trees reach layer 24 [repo.mst.node-size]",
          "[mst]") {
  using atproto::repo::kMaxNodeEntries;
  using atproto::repo::MstLimits;
  REQUIRE(kMaxNodeEntries == 512);
  REQUIRE(atproto::repo::kMaxLayer == 24);
  const auto keys = depth0_keys(kMaxNodeEntries + 1);
  auto leaf_of = [&](std::size_t n) {
    NodeData leaf;
    for (std::size_t i = 0; i < n; ++i) leaf.entries.push_back({keys[i], record_cid(i), {}});
    return leaf;
  };
  SECTION("reading: decode, verify and the streaming verify refuse a node of 513") {
    CHECK(decode_node(encode_node(leaf_of(kMaxNodeEntries))).ok());
    CHECK(decode_node(encode_node(leaf_of(kMaxNodeEntries + 1))).error().code ==
          "repo.mst.node-size");
    HandTree t;
    CHECK(t.verify(t.put(leaf_of(kMaxNodeEntries))) == "ok");
    CHECK(t.verify(t.put(leaf_of(kMaxNodeEntries + 1))) == "repo.mst.node-size");
    // A lazily loaded tree cannot read it either.
    auto big = t.put(leaf_of(kMaxNodeEntries + 1));
    CHECK(Mst::load(t.store, big).get(keys[0]).error().code == "repo.mst.node-size");
  }
  SECTION("writing: a tree with a node of 513 entries is never encoded") {
    std::vector<MstEntry> entries;
    for (std::size_t i = 0; i < kMaxNodeEntries; ++i) entries.push_back({keys[i], record_cid(i)});
    auto full = Mst::from_entries(entries).value();
    REQUIRE(full.root_cid().ok());
    auto grown = full.add(keys.back(), record_cid(999));
    REQUIRE(grown.ok());  // in memory only
    CHECK(grown->root_cid().error().code == "repo.mst.node-size");
    MemoryBlockStore store;
    CHECK(grown->store_new_nodes(store).error().code == "repo.mst.node-size");
    entries.push_back({keys.back(), record_cid(999)});
    CHECK(Mst::from_entries(entries).value().root_cid().error().code == "repo.mst.node-size");
  }
  SECTION("limits given to verify: entries per node and the root's layer") {
    // A depth-2 key over depth-0 keys: the root is at layer 2.
    std::vector<std::string> tall = {key_of_depth(2)};
    for (std::size_t i = 0; i < 6; ++i) tall.push_back(keys[i]);
    MemoryBlockStore store;
    auto built = build(tall);
    REQUIRE(built.store_new_nodes(store).ok());
    auto root = built.root_cid().value();
    auto loaded = Mst::load(store, root);
    auto visit = [](const std::string&, const Cid&) { return true; };
    CHECK(loaded.verify().ok());
    CHECK(Mst::verify_stored(HandTree::lookup(store), root, visit).ok());
    MstLimits low_layer;
    low_layer.max_layer = 1;
    CHECK(loaded.verify(low_layer).error().code == "repo.mst.node-size");
    CHECK(Mst::verify_stored(HandTree::lookup(store), root, visit, low_layer).error().code ==
          "repo.mst.node-size");
    MstLimits few_entries;
    few_entries.max_node_entries = 2;
    CHECK(loaded.verify(few_entries).error().code == "repo.mst.node-size");
    CHECK(Mst::verify_stored(HandTree::lookup(store), root, visit, few_entries).error().code ==
          "repo.mst.node-size");
  }
}

TEST_CASE("mst: get, walk, ranges and errors of the operations [repo.mst.key-unique]", "[mst]") {
  std::vector<std::string> keys;
  for (int i = 0; i < 300; ++i) keys.push_back("com.example.record/k" + std::to_string(1000 + i));
  Mst mst = build(keys);
  CHECK(mst.get(keys[17]).value() == record_cid(17));
  CHECK(!mst.get("com.example.record/nope").value().has_value());
  auto all = mst.list().value();
  REQUIRE(all.size() == keys.size());
  CHECK(std::is_sorted(all.begin(), all.end(),
                       [](const MstEntry& a, const MstEntry& b) { return a.key < b.key; }));
  std::vector<std::string> range;
  REQUIRE(mst.walk_range("com.example.record/k1100", "com.example.record/k1110",
                         [&](const std::string& k, const Cid&) {
                           range.push_back(k);
                           return true;
                         })
              .ok());
  CHECK(range.size() == 10);
  CHECK(range.front() == "com.example.record/k1100");
  CHECK(range.back() == "com.example.record/k1109");
  CHECK(mst.add(keys[3], record_cid(1)).error().code == "usage.key-exists");
  CHECK(mst.remove("com.example.record/nope").error().code == "usage.key-absent");
  CHECK(mst.update("com.example.record/nope", record_cid(1)).error().code == "usage.key-absent");
  CHECK(mst.add("bad key", record_cid(1)).error().code == "repo.path.syntax");
  CHECK(Mst::from_entries({{keys[0], record_cid(1)}, {keys[0], record_cid(2)}}).error().code ==
        "repo.mst.key-unique");
  CHECK(mst.verify().ok());
}

TEST_CASE("mst: a stored tree loads lazily; a missing node is reported [repo.mst.complete]",
          "[mst]") {
  std::vector<std::string> keys;
  for (int i = 0; i < 200; ++i) keys.push_back("app.bsky.feed.post/r" + std::to_string(i));
  Mst mst = build(keys);
  MemoryBlockStore store;
  auto written = mst.store_new_nodes(store).value();
  CHECK(written.size() == store.size());
  CHECK(mst.store_new_nodes(store).value().empty());  // nothing new the second time
  Mst loaded = Mst::load(store, mst.root_cid().value());
  CHECK(loaded.list().value() == mst.list().value());
  CHECK(loaded.verify().ok());
  // The streaming check reads the same entries, and stops when asked to.
  std::vector<MstEntry> visited;
  auto collect = [&](const std::string& k, const Cid& v) {
    visited.push_back({k, v});
    return visited.size() < 1000;
  };
  CHECK(Mst::verify_stored(HandTree::lookup(store), mst.root_cid().value(), collect).ok());
  CHECK(visited == mst.list().value());
  visited.clear();
  CHECK(Mst::verify_stored(HandTree::lookup(store), mst.root_cid().value(),
                           [&](const std::string& k, const Cid& v) {
                             visited.push_back({k, v});
                             return visited.size() < 7;
                           })
            .ok());
  CHECK(visited.size() == 7);
  // Remove a node that is not the root: reading everything now fails.
  (void)store.remove(written.back().cid);
  Mst broken = Mst::load(store, mst.root_cid().value());
  auto listed = broken.list();
  REQUIRE(!listed.ok());
  CHECK(listed.error().code == "repo.mst.complete");
  CHECK(Mst::verify_stored(HandTree::lookup(store), mst.root_cid().value(), collect).error().code ==
        "repo.mst.complete");
}

// ---------------------------------------------------------------- properties

std::map<std::string, Cid> to_map(const std::vector<std::string>& keys) {
  std::map<std::string, Cid> m;
  for (std::size_t i = 0; i < keys.size(); ++i) m.insert_or_assign(keys[i], record_cid(i));
  return m;
}

Mst from_map(const std::map<std::string, Cid>& m) {
  std::vector<MstEntry> e;
  for (const auto& [k, v] : m) e.push_back({k, v});
  return Mst::from_entries(e).value();
}

TEST_CASE("mst properties [repo.mst.deterministic]", "[mst][properties]") {
  rc::prop("the root does not depend on insertion order", [] {
    auto keys = *atproto::repo::generators::distinct_paths(120);
    auto order = *rc::gen::arbitrary<std::uint32_t>();
    auto m = to_map(keys);
    std::vector<std::pair<std::string, Cid>> items(m.begin(), m.end());
    std::shuffle(items.begin(), items.end(), std::mt19937(order));
    Mst mst;
    for (const auto& [k, v] : items) mst = mst.add(k, v).value();
    RC_ASSERT(mst.root_cid().value() == from_map(m).root_cid().value());
    RC_ASSERT(mst.verify().ok());
  });

  rc::prop("insert then delete gives back the previous root", [] {
    auto keys = *atproto::repo::generators::distinct_paths(100);
    RC_PRE(!keys.empty());
    auto extra = *atproto::repo::generators::repo_path();
    auto m = to_map(keys);
    RC_PRE(m.count(extra) == 0);
    Mst mst = from_map(m);
    auto before = mst.root_cid().value();
    auto after = mst.add(extra, record_cid(5000)).value();
    RC_ASSERT(after.get(extra).value() == std::optional<Cid>(record_cid(5000)));
    RC_ASSERT(after.remove(extra).value().root_cid().value() == before);
  });

  rc::prop("random changes agree with a rebuild from scratch, also on a stored tree", [] {
    auto keys = *atproto::repo::generators::distinct_paths(80);
    auto ops = *rc::gen::container<std::vector<std::pair<int, std::string>>>(
        rc::gen::pair(rc::gen::inRange(0, 3), atproto::repo::generators::repo_path()));
    auto model = to_map(keys);
    MemoryBlockStore store;
    Mst initial = from_map(model);
    (void)initial.store_new_nodes(store).value();
    Mst mst = Mst::load(store, initial.root_cid().value());
    std::uint64_t n = 10000;
    for (const auto& [kind, key] : ops) {
      bool present = model.count(key) != 0;
      if (kind == 0 && !present) {
        model.insert_or_assign(key, record_cid(++n));
        mst = mst.add(key, model.at(key)).value();
      } else if (kind == 1 && present) {
        model.insert_or_assign(key, record_cid(++n));
        mst = mst.update(key, model.at(key)).value();
      } else if (present) {
        model.erase(key);
        mst = mst.remove(key).value();
      }
      RC_ASSERT(mst.root_cid().value() == from_map(model).root_cid().value());
    }
    std::vector<MstEntry> expect;
    for (const auto& [k, v] : model) expect.push_back({k, v});
    RC_ASSERT(mst.list().value() == expect);
    RC_ASSERT(mst.verify().ok());
  });

  rc::prop("a consumed tree's remove (edited in place) agrees, and other trees keep theirs", [] {
    auto keys = *atproto::repo::generators::distinct_paths(80);
    RC_PRE(!keys.empty());
    auto model = to_map(keys);
    MemoryBlockStore store;
    Mst stored = from_map(model);
    (void)stored.store_new_nodes(store).value();
    // A tree read lazily from a store, or one built in memory: no other
    // tree shares their nodes, so the removals edit them in place.
    Mst mst =
        *rc::gen::arbitrary<bool>() ? Mst::load(store, stored.root_cid().value()) : from_map(model);
    std::shuffle(keys.begin(), keys.end(), std::mt19937(*rc::gen::arbitrary<std::uint32_t>()));
    keys.resize(*rc::gen::inRange<std::size_t>(1, keys.size() + 1));
    // Copies taken on the way share nodes with `mst`: those must not change.
    std::vector<std::pair<Mst, std::map<std::string, Cid>>> kept;
    for (const auto& key : keys) {
      if (*rc::gen::inRange(0, 3) == 0) kept.emplace_back(mst, model);
      if (*rc::gen::arbitrary<bool>()) RC_ASSERT(mst.get(key).value().has_value());
      model.erase(key);
      mst = std::move(mst).remove(key).value();
      RC_ASSERT(mst.root_cid().value() == from_map(model).root_cid().value());
    }
    RC_ASSERT(mst.verify().ok());
    for (const auto& [copy, then] : kept) {
      std::vector<MstEntry> expect;
      for (const auto& [k, v] : then) expect.push_back({k, v});
      RC_ASSERT(copy.list().value() == expect);
      RC_ASSERT(copy.root_cid().value() == from_map(then).root_cid().value());
      RC_ASSERT(copy.verify().ok());
    }
  });

  rc::prop("diff lists exactly the changed records and nodes", [] {
    auto a_keys = *atproto::repo::generators::distinct_paths(60);
    auto b_keys = *atproto::repo::generators::distinct_paths(60);
    auto a = to_map(a_keys);
    auto b = a;
    // b: some of a's keys changed or removed, plus new ones.
    std::size_t i = 0;
    for (auto it = b.begin(); it != b.end();) {
      if (i % 3 == 0) {
        it = b.erase(it);
      } else {
        if (i % 3 == 1) it->second = record_cid(7000 + i);
        ++it;
      }
      ++i;
    }
    for (std::size_t j = 0; j < b_keys.size(); ++j) b.emplace(b_keys[j], record_cid(9000 + j));
    Mst ma = from_map(a), mb = from_map(b);
    auto d = Mst::diff(ma, mb).value();
    std::map<std::string, Cid> applied = a;
    for (const auto& e : d.deleted) {
      RC_ASSERT(applied.at(e.key) == e.value);
      applied.erase(e.key);
    }
    for (const auto& [e, old] : d.updated) {
      RC_ASSERT(applied.at(e.key) == old);
      applied.insert_or_assign(e.key, e.value);
    }
    for (const auto& e : d.created) RC_ASSERT(applied.emplace(e.key, e.value).second);
    RC_ASSERT(applied == b);
    // New blocks: exactly the nodes of b that a lacks.
    std::set<Cid> a_nodes, b_nodes;
    (void)ma.for_each_node([&](const CarBlock& blk) {
      a_nodes.insert(blk.cid);
      return atproto::Status{};
    });
    (void)mb.for_each_node([&](const CarBlock& blk) {
      b_nodes.insert(blk.cid);
      return atproto::Status{};
    });
    std::set<Cid> expect_new, expect_removed, got_new,
        got_removed(d.removed_blocks.begin(), d.removed_blocks.end());
    for (const auto& c : b_nodes) {
      if (!a_nodes.count(c)) expect_new.insert(c);
    }
    for (const auto& c : a_nodes) {
      if (!b_nodes.count(c)) expect_removed.insert(c);
    }
    for (const auto& blk : d.new_blocks) got_new.insert(blk.cid);
    RC_ASSERT(got_new == expect_new);
    RC_ASSERT(got_removed == expect_removed);
    // Applying the record diff to a rebuilds b's root.
    Mst patched = ma;
    for (const auto& e : d.deleted) patched = patched.remove(e.key).value();
    for (const auto& [e, old] : d.updated) patched = patched.update(e.key, e.value).value();
    for (const auto& e : d.created) patched = patched.add(e.key, e.value).value();
    RC_ASSERT(patched.root_cid().value() == mb.root_cid().value());
  });

  rc::prop("[repo.mst.proof] proofs of presence and absence verify against the root", [] {
    auto keys = *atproto::repo::generators::distinct_paths(100);
    RC_PRE(!keys.empty());
    auto probe = *atproto::repo::generators::repo_path();
    auto m = to_map(keys);
    Mst mst = from_map(m);
    auto root = mst.root_cid().value();
    auto key = *rc::gen::element(keys[0], keys[keys.size() / 2], probe);
    auto proof = mst.prove(key).value();
    auto proven = atproto::repo::verify_proof(root, key, proof);
    RC_ASSERT(proven.ok());
    auto it = m.find(key);
    RC_ASSERT(*proven == (it == m.end() ? std::optional<Cid>{} : std::optional<Cid>{it->second}));
    // Without its last block the proof no longer reaches the answer.
    proof.pop_back();
    auto partial = atproto::repo::verify_proof(root, key, proof);
    RC_ASSERT(!partial.ok());
    RC_ASSERT(partial.error().code == "repo.mst.complete");
  });
}

}  // namespace

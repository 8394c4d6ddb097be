// Tests for commit proofs and sync 1.1 operation inversion: a diff holding
// only commit_proof's nodes is enough to invert any set of operations, and
// wrong or incomplete operations are caught.
// Spec: https://atproto.com/specs/sync#reliable-repository-synchronization
#include "atproto/repo/inversion.hpp"

#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <random>

#include "atproto/repo/test_generators.hpp"

namespace {

using atproto::data::Cid;
using atproto::repo::Action;
using atproto::repo::commit_proof;
using atproto::repo::invert_ops;
using atproto::repo::MemoryBlockStore;
using atproto::repo::Mst;
using atproto::repo::MstEntry;
using atproto::repo::RecordOp;
using atproto::repo::verify_inversion;
using atproto::repo::generators::record_cid;

struct Commit {
  Mst before, after;
  std::vector<RecordOp> ops;
  std::vector<std::string> paths;
};

// A tree of `keys`, then creates of `adds`, updates of `updates` and
// deletes of `dels`.
Commit make_commit(const std::vector<std::string>& keys, const std::vector<std::string>& adds,
                   const std::vector<std::string>& updates, const std::vector<std::string>& dels) {
  std::vector<MstEntry> entries;
  for (std::size_t i = 0; i < keys.size(); ++i) entries.push_back({keys[i], record_cid(i)});
  Commit c;
  c.before = Mst::from_entries(entries).value();
  c.after = c.before;
  std::uint64_t n = 50000;
  for (const auto& k : adds) {
    auto v = record_cid(++n);
    c.after = c.after.add(k, v).value();
    c.ops.push_back({Action::kCreate, k, v, std::nullopt});
  }
  for (const auto& k : updates) {
    auto old = c.after.get(k).value().value();
    auto v = record_cid(++n);
    c.after = c.after.update(k, v).value();
    c.ops.push_back({Action::kUpdate, k, v, old});
  }
  for (const auto& k : dels) {
    auto old = c.after.get(k).value().value();
    c.after = c.after.remove(k).value();
    c.ops.push_back({Action::kDelete, k, std::nullopt, old});
  }
  for (const auto& op : c.ops) c.paths.push_back(op.path);
  return c;
}

MemoryBlockStore proof_store(const Commit& c) {
  MemoryBlockStore store;
  auto proof = commit_proof(c.after, c.paths).value();
  for (const auto& b : proof) (void)store.put(b.cid, b.bytes);
  return store;
}

std::vector<std::string> numbered(const char* prefix, int from, int count) {
  std::vector<std::string> out;
  for (int i = from; i < from + count; ++i) out.push_back(std::string(prefix) + std::to_string(i));
  return out;
}

TEST_CASE("inversion: a commit inverts to its previous root [repo.diff.inversion]", "[inversion]") {
  auto keys = numbered("com.example.record/k", 100, 200);
  auto c = make_commit(keys, numbered("com.example.record/n", 0, 5), {keys[10], keys[150]},
                       {keys[20], keys[77], keys[199]});
  auto store = proof_store(c);
  auto before = c.before.root_cid().value();
  auto after = c.after.root_cid().value();
  CHECK(verify_inversion(store, after, c.ops, before).ok());
  // The proof is far smaller than the tree.
  std::size_t all = 0;
  (void)c.after.for_each_node([&](const atproto::car::CarBlock&) {
    ++all;
    return atproto::Status{};
  });
  CHECK(store.size() < all);

  SECTION("a missing operation breaks the chain") {
    auto ops = c.ops;
    ops.erase(ops.begin() + 6);  // an update
    auto st = verify_inversion(store, after, ops, before);
    REQUIRE(!st.ok());
    CHECK(st.error().code == "repo.diff.inversion");
    ops = c.ops;
    ops.pop_back();  // a delete: the root differs
    st = verify_inversion(store, after, ops, before);
    REQUIRE(!st.ok());
    CHECK(st.error().code == "repo.diff.inversion");
  }
  SECTION("ops that do not match the tree") {
    auto ops = c.ops;
    ops[0].cid = record_cid(1);  // create of a value the tree does not hold
    CHECK(invert_ops(store, after, ops).error().code == "repo.diff.inversion");
    ops = c.ops;
    ops.back().prev.reset();  // delete without prev
    CHECK(invert_ops(store, after, ops).error().code == "repo.diff.inversion");
    ops = c.ops;
    ops.push_back(ops[0]);  // a path twice
    CHECK(invert_ops(store, after, ops).error().code == "repo.diff.inversion");
    ops = c.ops;
    ops[0].action = Action::kDelete;  // "deleted" but present
    ops[0].prev = ops[0].cid;
    CHECK(invert_ops(store, after, ops).error().code == "repo.diff.inversion");
  }
  SECTION("[repo.diff.inversion-blocks] a diff without the needed nodes") {
    MemoryBlockStore empty;
    CHECK(invert_ops(empty, after, c.ops).error().code == "repo.diff.inversion-blocks");
  }
}

TEST_CASE("inversion properties [repo.diff.inversion] [repo.diff.inversion-blocks]",
          "[inversion][properties]") {
  rc::prop("the commit proof alone inverts any operations, in any order", [] {
    auto keys = *atproto::repo::generators::distinct_paths(150);
    auto extra = *atproto::repo::generators::distinct_paths(12);
    std::set<std::string> present(keys.begin(), keys.end());
    std::vector<std::string> adds, updates, dels;
    for (const auto& k : extra) {
      if (!present.count(k)) adds.push_back(k);
    }
    for (std::size_t i = 0; i < keys.size(); i += 1 + keys.size() / 5) {
      (i % 2 ? updates : dels).push_back(keys[i]);
    }
    auto c = make_commit(keys, adds, updates, dels);
    auto store = proof_store(c);
    auto order = *rc::gen::arbitrary<std::uint32_t>();
    auto ops = c.ops;
    std::shuffle(ops.begin(), ops.end(), std::mt19937(order));
    auto root = invert_ops(store, c.after.root_cid().value(), ops);
    RC_ASSERT(root.ok());
    RC_ASSERT(*root == c.before.root_cid().value());
  });
}

}  // namespace

// Runs the shared repository vectors (vectors/repo/*.json, written by
// tools/gen-repo-vectors.py independently of this code) against the
// reference: key depths, root CIDs, commit proofs and repository CARs.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "atproto/data/base64.hpp"
#include "atproto/repo/inversion.hpp"
#include "atproto/repo/mst.hpp"
#include "atproto/repo/repository.hpp"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using atproto::data::Cid;
using atproto::repo::Action;
using atproto::repo::MemoryBlockStore;
using atproto::repo::Mst;
using atproto::repo::MstEntry;
using atproto::repo::RecordOp;

const fs::path kVectorDir = fs::path(ATPROTO_VECTORS_DIR) / "repo";

json load(const std::string& name) {
  std::ifstream in(kVectorDir / name);
  REQUIRE(in.good());
  return json::parse(in);
}

Cid cid(const json& text) { return Cid::parse(text.get<std::string>()).value(); }

TEST_CASE("repo vectors: key depth [repo.mst.key-depth]", "[vectors]") {
  auto doc = load("key-depth.json");
  REQUIRE(doc["cases"].size() >= 30);
  for (const auto& c : doc["cases"]) {
    INFO(c["id"].get<std::string>());
    CHECK(atproto::repo::key_depth(c["input"].get<std::string>()) == c["depth"].get<int>());
  }
}

TEST_CASE("repo vectors: root CIDs [repo.mst.node-cid] [repo.mst.deterministic]", "[vectors]") {
  auto doc = load("root.json");
  for (const auto& c : doc["cases"]) {
    INFO(c["id"].get<std::string>());
    std::vector<MstEntry> entries;
    for (const auto& e : c["entries"]) entries.push_back({e["key"], cid(e["cid"])});
    auto built = Mst::from_entries(entries);
    // CHECK, not REQUIRE: one failing case must not hide the others.
    if (!c["valid"].get<bool>()) {
      CHECK(!built.ok());
      if (!built.ok()) CHECK(built.error().code == c["error"].get<std::string>());
      continue;
    }
    if (!built.ok()) {
      FAIL_CHECK("the keys were rejected: " << built.error().code);
      continue;
    }
    CHECK(built->root_cid().value() == cid(c["root"]));
    // One at a time, in reverse order: the same root.
    Mst incremental;
    for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
      incremental = incremental.add(it->key, it->value).value();
    }
    CHECK(incremental.root_cid().value() == cid(c["root"]));
  }
}

TEST_CASE("repo vectors: commit proofs [repo.diff.inversion-blocks] [repo.diff.inversion]",
          "[vectors]") {
  auto doc = load("proof.json");
  for (const auto& c : doc["cases"]) {
    INFO(c["id"].get<std::string>());
    Cid leaf = cid(c["leafValue"]);
    Mst tree;
    for (const auto& k : c["keys"]) tree = tree.add(k.get<std::string>(), leaf).value();
    CHECK(tree.root_cid().value() == cid(c["rootBeforeCommit"]));
    std::vector<RecordOp> ops;
    std::vector<std::string> paths;
    for (const auto& k : c["adds"]) {
      tree = tree.add(k.get<std::string>(), leaf).value();
      ops.push_back({Action::kCreate, k, leaf, std::nullopt});
      paths.push_back(k);
    }
    for (const auto& k : c["dels"]) {
      tree = tree.remove(k.get<std::string>()).value();
      ops.push_back({Action::kDelete, k, std::nullopt, leaf});
      paths.push_back(k);
    }
    CHECK(tree.root_cid().value() == cid(c["rootAfterCommit"]));
    auto proof = atproto::repo::commit_proof(tree, paths).value();
    std::set<std::string> got, expected;
    for (const auto& b : proof) got.insert(b.cid.to_string());
    for (const auto& b : c["blocksInProof"]) expected.insert(b.get<std::string>());
    CHECK(got == expected);
    MemoryBlockStore store;
    for (const auto& b : proof) (void)store.put(b.cid, b.bytes);
    CHECK(atproto::repo::verify_inversion(store, cid(c["rootAfterCommit"]), ops,
                                          cid(c["rootBeforeCommit"]))
              .ok());
  }
}

}  // namespace

namespace {

TEST_CASE(
    "repo vectors: verify repository CARs [repo.commit.signature] [repo.commit.did] "
    "[repo.mst.subtree-range] [repo.mst.empty-nodes] [car.block.preferred-order]",
    "[vectors]") {
  auto doc = load("verify.json");
  REQUIRE(doc["cases"].size() >= 25);
  for (const auto& c : doc["cases"]) {
    INFO(c["id"].get<std::string>());
    auto car = atproto::data::base64_decode(c["car_base64"].get<std::string>()).value();
    auto key = atproto::crypto::PublicKey::from_did_key(c["publicKey"].get<std::string>()).value();
    bool valid = c["valid"].get<bool>();
    if (c["check"] == "block-order") {
      auto st = atproto::repo::check_block_order(car);
      CHECK(st.ok() == valid);
      if (!valid && !st.ok()) CHECK(st.error().code == c["error"].get<std::string>());
      continue;
    }
    auto verified = atproto::repo::verify_repo_car(car, c["did"].get<std::string>(), key);
    // CHECK, not REQUIRE: one failing case must not hide the others.
    if (!valid) {
      CHECK(!verified.ok());
      if (!verified.ok()) CHECK(verified.error().code == c["error"].get<std::string>());
      continue;
    }
    if (!verified.ok()) {
      FAIL_CHECK("a valid repository was rejected: " << verified.error().code << ": "
                                                     << verified.error().message);
      continue;
    }
    CHECK(verified->commit.rev == c["rev"].get<std::string>());
    CHECK(verified->commit.data.to_string() == c["data"].get<std::string>());
    if (verified->records.size() != c["records"].size()) {
      FAIL_CHECK(verified->records.size() << " records, expected " << c["records"].size());
      continue;
    }
    for (std::size_t i = 0; i < verified->records.size(); ++i) {
      CHECK(verified->records[i].key == c["records"][i]["path"].get<std::string>());
      CHECK(verified->records[i].value.to_string() == c["records"][i]["cid"].get<std::string>());
    }
  }
}

}  // namespace

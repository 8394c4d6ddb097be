// mst/key-height, mst/root, mst/proof and repo/verify: the repository
// layer's answers to the adapter protocol (docs/adapter-protocol.md).
#include "atproto/crypto/keys.hpp"
#include "atproto/data/base64.hpp"
#include "atproto/repo/inversion.hpp"
#include "atproto/repo/mst.hpp"
#include "atproto/repo/repository.hpp"
#include "reference_ops.hpp"

namespace atproto::conformance {

namespace {

bool is_string_array(const json& request, const char* field) {
  if (!request.contains(field) || !request[field].is_array()) return false;
  for (const auto& item : request[field]) {
    if (!item.is_string()) return false;
  }
  return true;
}

}  // namespace

Response mst_key_height(const json& request) {
  if (!request.is_object() || !request.contains("key") || !request["key"].is_string()) {
    return bad_request("mst/key-height needs a string field \"key\"");
  }
  return answer(200, json{{"height", repo::key_depth(request["key"].get<std::string>())}});
}

Response mst_root(const json& request) {
  if (!request.is_object() || !request.contains("entries") || !request["entries"].is_array()) {
    return bad_request("mst/root needs an array field \"entries\"");
  }
  std::vector<repo::MstEntry> entries;
  for (const auto& e : request["entries"]) {
    if (!e.is_object() || !e.contains("key") || !e["key"].is_string() || !e.contains("cid") ||
        !e["cid"].is_string()) {
      return bad_request("each entry is {\"key\": string, \"cid\": string}");
    }
    auto cid = data::Cid::parse(e["cid"].get<std::string>());
    if (!cid.ok()) return bad_request("entry cid: " + cid.error().message);
    entries.push_back({e["key"].get<std::string>(), *cid});
  }
  auto tree = repo::Mst::from_entries(std::move(entries));
  if (!tree.ok()) return rejected(tree.error());
  auto root = tree->root_cid();
  if (!root.ok()) return rejected(root.error());
  return answer(200, json{{"ok", true}, {"root", root->to_string()}});
}

Response mst_proof(const json& request) {
  if (!request.is_object() || !is_string_array(request, "keys") ||
      !is_string_array(request, "adds") || !is_string_array(request, "dels") ||
      !request.contains("leafValue") || !request["leafValue"].is_string()) {
    return bad_request("mst/proof needs keys, adds, dels (string arrays) and leafValue");
  }
  auto leaf = data::Cid::parse(request["leafValue"].get<std::string>());
  if (!leaf.ok()) return bad_request("leafValue: " + leaf.error().message);
  // The operation is about the tree, not about repositories: any key the MST
  // rules accept is fine here, repo path or not [repo.mst.key-nonempty].
  constexpr auto kAnyKey = repo::KeyRule::kNonEmpty;
  repo::Mst tree;
  for (const auto& k : request["keys"]) {
    auto next = tree.add(k.get<std::string>(), *leaf, kAnyKey);
    if (!next.ok()) return bad_request("keys: " + next.error().message);
    tree = std::move(next).value();
  }
  auto before = tree.root_cid();
  if (!before.ok()) return rejected(before.error());
  std::vector<std::string> paths;
  for (const auto& k : request["adds"]) {
    auto next = tree.add(k.get<std::string>(), *leaf, kAnyKey);
    if (!next.ok()) return bad_request("adds: " + next.error().message);
    tree = std::move(next).value();
    paths.push_back(k.get<std::string>());
  }
  for (const auto& k : request["dels"]) {
    auto next = tree.remove(k.get<std::string>());
    if (!next.ok()) return bad_request("dels: " + next.error().message);
    tree = std::move(next).value();
    paths.push_back(k.get<std::string>());
  }
  auto after = tree.root_cid();
  if (!after.ok()) return rejected(after.error());
  auto proof = repo::commit_proof(tree, paths);
  if (!proof.ok()) return rejected(proof.error());
  json blocks = json::array();
  for (const auto& b : *proof) blocks.push_back(b.cid.to_string());
  return answer(200, json{{"rootBeforeCommit", before->to_string()},
                          {"rootAfterCommit", after->to_string()},
                          {"blocksInProof", std::move(blocks)}});
}

Response repo_verify(const json& request) {
  if (!request.is_object() || !request.contains("car") || !request["car"].is_string() ||
      !request.contains("did") || !request["did"].is_string() || !request.contains("publicKey") ||
      !request["publicKey"].is_string()) {
    return bad_request("repo/verify needs string fields car (base64), did and publicKey");
  }
  auto bytes = data::base64_decode(request["car"].get_ref<const std::string&>());
  if (!bytes.ok()) return bad_request("\"car\" is not base64: " + bytes.error().message);
  auto key = crypto::PublicKey::from_did_key(request["publicKey"].get<std::string>());
  if (!key.ok()) return bad_request("publicKey: " + key.error().message);
  auto verified = repo::verify_repo_car(*bytes, request["did"].get<std::string>(), *key);
  if (!verified.ok()) return rejected(verified.error());
  json records = json::array();
  for (const auto& r : verified->records) {
    records.push_back(json{{"path", r.key}, {"cid", r.value.to_string()}});
  }
  return answer(200, json{{"ok", true},
                          {"rev", verified->commit.rev},
                          {"data", verified->commit.data.to_string()},
                          {"records", std::move(records)}});
}

}  // namespace atproto::conformance

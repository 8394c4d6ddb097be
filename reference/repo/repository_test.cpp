// Tests for commits and repositories: commit codec and signatures, writes,
// export/import with full verification, streaming block order, diffs that
// invert, corruption detection, and a RapidCheck state-machine test against
// an ordered map as the model.
// Spec: https://atproto.com/specs/repository
#include "atproto/repo/repository.hpp"

#include <rapidcheck.h>
#include <rapidcheck/catch.h>
#include <rapidcheck/state.h>

#include <catch2/catch.hpp>

#include <map>
#include <memory>

#include "atproto/data/cbor.hpp"
#include "atproto/repo/sqlite_block_store.hpp"
#include "atproto/repo/test_generators.hpp"
#include "atproto/syntax/test_generators.hpp"
#include "atproto/syntax/tid.hpp"

namespace {

using atproto::Status;
using atproto::car::CarBlock;
using atproto::crypto::Curve;
using atproto::crypto::PrivateKey;
using atproto::data::Cid;
using atproto::data::Value;
using namespace atproto::repo;  // NOLINT: the layer under test

namespace data = atproto::data;

const std::string kDid = "did:plc:w4xbfzo7kqfes5zb7r6qv3rw";

PrivateKey test_key(std::uint8_t seed = 1) {
  std::vector<std::uint8_t> raw(32, seed);
  raw[0] = 0x40;
  return PrivateKey::from_bytes(Curve::kK256, raw).value();
}

// Revs from a fixed clock, one microsecond-TID apart.
Repository::RevClock fixed_clock() {
  auto n = std::make_shared<std::uint64_t>(1'700'000'000'000'000ULL);
  return [n] { return atproto::syntax::tid_from_integer((++*n) << 10).value(); };
}

Value post(int i) {
  return data::Map{{"$type", "app.bsky.feed.post"}, {"text", "post " + std::to_string(i)}};
}

WriteOp create(std::string collection, std::string rkey, Value v) {
  return WriteOp{Action::kCreate, std::move(collection), std::move(rkey), std::move(v)};
}

MemoryBlockStore blocks_of(const std::vector<CarBlock>& blocks) {
  MemoryBlockStore store;
  for (const auto& b : blocks) (void)store.put(b.cid, b.bytes);
  return store;
}

TEST_CASE(
    "commit: codec, signature and rev [repo.commit.fields] [repo.commit.signature] "
    "[repo.commit.version] [repo.commit.did] [repo.commit.rev]",
    "[commit]") {
  auto key = test_key();
  Commit c{kDid, generators::record_cid(1), "3jzfcijpj2z2a", std::nullopt, {}, kRepoVersion};
  sign_commit(c, key);
  CHECK(c.sig.size() == 64);
  CHECK(verify_commit_signature(c, key.public_key()).ok());
  CHECK(verify_commit_signature(c, test_key(2).public_key()).error().code ==
        "repo.commit.signature");
  auto bytes = encode_commit(c);
  CHECK(decode_commit(bytes).value() == c);
  // [repo.commit.cid] The CID is over the signed encoding.
  Commit other = c;
  other.sig[0] ^= 1;
  CHECK(Cid::compute(data::Codec::kDagCbor, encode_commit(other)) !=
        Cid::compute(data::Codec::kDagCbor, bytes));
  CHECK(verify_commit_signature(other, key.public_key()).error().code == "repo.commit.signature");

  auto decode_code = [](Value v) {
    auto r = decode_commit(data::encode_cbor(v).value());
    return r.ok() ? std::string("ok") : r.error().code;
  };
  Value good = commit_value(c);
  CHECK(decode_code(good) == "ok");
  Value no_prev = good;
  no_prev.as_map().erase("prev");
  CHECK(decode_code(no_prev) == "repo.commit.fields");
  Value extra = good;
  extra.as_map().emplace("extra", 1);
  CHECK(decode_code(extra) == "repo.commit.fields");
  // Six fields, one of them not a commit's: the missing one is named.
  Value renamed = no_prev;
  renamed.as_map().emplace("prew", nullptr);
  auto renamed_error = decode_commit(data::encode_cbor(renamed).value());
  REQUIRE(!renamed_error.ok());
  CHECK(renamed_error.error().message == "commit: missing field prev");
  Value wrong_type = good;
  wrong_type.as_map().at("data") = "not a link";
  CHECK(decode_code(wrong_type) == "repo.commit.fields");
  Value v2 = good;
  v2.as_map().at("version") = 2;
  CHECK(decode_code(v2) == "repo.commit.version");
  Value bad_rev = good;
  bad_rev.as_map().at("rev") = "2024-01-01";
  CHECK(decode_code(bad_rev) == "repo.commit.rev");
  Value bad_did = good;
  bad_did.as_map().at("did") = "alice";
  CHECK(decode_code(bad_did) == "repo.commit.did");

  // [repo.commit.rev-increases]
  CHECK(next_rev("", "3jzfcijpj2z2a").value() == "3jzfcijpj2z2a");
  CHECK(next_rev("3jzfcijpj2z2a", "3jzfcijpj2z2b").value() == "3jzfcijpj2z2b");
  CHECK(next_rev("3jzfcijpj2z2b", "3jzfcijpj2z2a").value() > "3jzfcijpj2z2b");
  CHECK(next_rev("3jzfcijpj2z2b", "3jzfcijpj2z2b").value() > "3jzfcijpj2z2b");
}

// The digest decode_signed_commit takes from the block must be the one of
// encoding the unsigned commit again: for generated commits (any DID, rev,
// prev, and signatures of any length, so the byte string's head is 1 to 3
// bytes) and for every one-byte change of their blocks that still decodes.
TEST_CASE(
    "commit: the signed bytes cut from the block are the unsigned encoding "
    "[repo.commit.signature]",
    "[commit]") {
  auto encoded_digest = [](const Commit& c) {
    return data::sha256(data::encode_cbor(unsigned_commit_value(c)).value());
  };
  rc::prop("decode_signed_commit's digest is the re-encoded unsigned commit's", [&] {
    namespace sg = atproto::syntax::generators;
    Commit c{*rc::gen::oneOf(sg::gen_did_plc(), sg::gen_did()),
             generators::record_cid(*rc::gen::arbitrary<std::uint64_t>()),
             *sg::gen_tid(),
             std::nullopt,
             {},
             kRepoVersion};
    if (*rc::gen::arbitrary<bool>()) {
      c.prev = generators::record_cid(*rc::gen::arbitrary<std::uint64_t>());
    }
    const auto sig_size = *rc::gen::oneOf(rc::gen::element<std::size_t>(0, 23, 24, 64, 255, 256),
                                          rc::gen::inRange<std::size_t>(0, 300));
    c.sig = *rc::gen::container<std::vector<std::uint8_t>>(sig_size,
                                                           rc::gen::arbitrary<std::uint8_t>());
    const auto block = encode_commit(c);
    auto decoded = decode_signed_commit(block);
    RC_ASSERT(decoded.ok());
    RC_ASSERT(decoded->commit == c);
    RC_ASSERT(decoded->unsigned_digest == encoded_digest(c));
    // Any one byte changed: the same verdict as decode_commit and, when
    // accepted, the same digest as encoding the decoded commit again.
    auto mutated = block;
    const auto at = *rc::gen::inRange<std::size_t>(0, mutated.size());
    mutated[at] ^= *rc::gen::inRange<std::uint8_t>(1, 255);
    auto plain = decode_commit(mutated);
    auto cut = decode_signed_commit(mutated);
    RC_ASSERT(plain.ok() == cut.ok());
    if (!cut.ok()) {
      RC_ASSERT(cut.error().code == plain.error().code);
    } else {
      RC_ASSERT(cut->commit == *plain);
      RC_ASSERT(cut->unsigned_digest == encoded_digest(*plain));
    }
  });

  // The digest form verifies exactly when the commit form does.
  auto key = test_key();
  Commit c{kDid,        generators::record_cid(7), "3jzfcijpj2z2a", generators::record_cid(6), {},
           kRepoVersion};
  sign_commit(c, key);
  auto decoded = decode_signed_commit(encode_commit(c)).value();
  CHECK(verify_commit_signature(decoded.commit, decoded.unsigned_digest, key.public_key()).ok());
  CHECK(verify_commit_signature(decoded.commit, decoded.unsigned_digest, test_key(2).public_key())
            .error()
            .code == "repo.commit.signature");
  decoded.commit.sig[5] ^= 1;
  CHECK(verify_commit_signature(decoded.commit, decoded.unsigned_digest, key.public_key())
            .error()
            .code == "repo.commit.signature");
}

TEST_CASE(
    "repository: writes, export, verified import, order and diffs [car.export.complete] "
    "[car.header.first-root-commit]",
    "[repository]") {
  auto key = test_key();
  MemoryBlockStore store;
  std::vector<WriteOp> initial;
  for (int i = 0; i < 300; ++i) {
    initial.push_back(create(i % 3 ? "app.bsky.feed.post" : "app.bsky.feed.like",
                             "r" + std::to_string(1000 + i), post(i)));
  }
  auto repo = Repository::create(store, kDid, key, initial, fixed_clock()).value();
  CHECK(repo.get_record("app.bsky.feed.post", "r1001").value() == std::optional<Value>(post(1)));
  CHECK(!repo.get_record("app.bsky.feed.post", "r1000").value().has_value());
  CHECK(repo.list_records("app.bsky.feed.like").value().size() == 100);
  CHECK(repo.list_records().value().size() == 300);
  auto first_rev = repo.commit().rev;

  // One commit with a create, an update and a delete.
  auto result =
      repo.apply_writes({create("app.bsky.feed.post", "new1", post(5000)),
                         WriteOp{Action::kUpdate, "app.bsky.feed.post", "r1001", post(5001)},
                         WriteOp{Action::kDelete, "app.bsky.feed.like", "r1003", std::nullopt}},
                        key);
  REQUIRE(result.ok());
  CHECK(repo.commit().rev > first_rev);
  CHECK(result->since == first_rev);
  CHECK(result->blocks.front().cid == result->cid);
  // [repo.diff.inversion] The commit's own blocks invert to prevData.
  auto diff_store = blocks_of(result->blocks);
  CHECK(verify_inversion(diff_store, result->commit.data, result->ops, *result->prev_data).ok());
  CHECK(repo.get_record("app.bsky.feed.post", "r1001").value() == std::optional<Value>(post(5001)));
  CHECK(!repo.get_record("app.bsky.feed.like", "r1003").value().has_value());

  // Bad writes.
  CHECK(repo.apply_writes({create("app.bsky.feed.post", "new1", post(1))}, key).error().code ==
        "usage.key-exists");
  CHECK(repo.apply_writes({WriteOp{Action::kDelete, "app.bsky.feed.post", "zz", {}}}, key)
            .error()
            .code == "usage.key-absent");
  CHECK(repo.apply_writes({create("not-an-nsid", "a", post(1))}, key).error().code ==
        "repo.path.collection");
  CHECK(repo.apply_writes({create("app.bsky.feed.post", "a", Value(1))}, key).error().code ==
        "usage.write");

  // Export, then verify as an untrusted import.
  auto car = repo.export_car().value();
  auto verified = verify_repo_car(car, kDid, key.public_key());
  REQUIRE(verified.ok());
  CHECK(verified->commit_cid == repo.commit_cid());
  CHECK(verified->records == repo.list_records().value());
  CHECK(check_block_order(car).ok());
  CHECK(verify_repo_car(car, "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa", key.public_key()).error().code ==
        "repo.commit.did");
  CHECK(verify_repo_car(car, kDid, test_key(2).public_key()).error().code ==
        "repo.commit.signature");

  // Loading from the store gives the same repository.
  auto loaded = Repository::load(store, repo.commit_cid()).value();
  CHECK(loaded.list_records().value() == repo.list_records().value());
  CHECK(loaded.export_car().value() == car);

  // [repo.diff.contents] A diff since the first commit, after one more.
  REQUIRE(repo.apply_writes({create("app.bsky.feed.like", "new2", post(7))}, key).ok());
  auto diff = atproto::car::read_car(repo.diff_car_since(first_rev).value()).value();
  CHECK(diff.roots.front() == repo.commit_cid());
  auto diff_blocks = blocks_of(diff.blocks);
  CHECK(diff_blocks.find(repo.commit_cid()) != nullptr);
  // Created and updated records are in it; the deleted one is not.
  auto created = repo.tree().get("app.bsky.feed.like/new2").value().value();
  auto updated = repo.tree().get("app.bsky.feed.post/r1001").value().value();
  CHECK(diff_blocks.find(created) != nullptr);
  CHECK(diff_blocks.find(updated) != nullptr);
  std::vector<RecordOp> ops{
      {Action::kCreate, "app.bsky.feed.post/new1",
       repo.tree().get("app.bsky.feed.post/new1").value(), std::nullopt},
      {Action::kCreate, "app.bsky.feed.like/new2", created, std::nullopt},
      {Action::kUpdate, "app.bsky.feed.post/r1001", updated, result->ops[1].prev},
      {Action::kDelete, "app.bsky.feed.like/r1003", std::nullopt, result->ops[2].prev}};
  CHECK(verify_inversion(diff_blocks, repo.commit().data, ops, *result->prev_data).ok());
}

TEST_CASE("repository: on a SQLite block store, reloaded lazily from its commit",
          "[repository][store]") {
  auto key = test_key();
  auto store = SqliteBlockStore::open(":memory:").value();
  std::vector<WriteOp> initial;
  for (int i = 0; i < 200; ++i) {
    initial.push_back(create("com.example.record", "k" + std::to_string(i), post(i)));
  }
  auto repo = Repository::create(*store, kDid, key, initial, fixed_clock()).value();
  REQUIRE(repo.apply_writes({WriteOp{Action::kDelete, "com.example.record", "k7", std::nullopt},
                             create("com.example.record", "new", post(999))},
                            key)
              .ok());
  // A fresh repository object reads only what it needs from SQLite.
  auto loaded = Repository::load(*store, repo.commit_cid()).value();
  CHECK(loaded.get_record("com.example.record", "new").value() == std::optional<Value>(post(999)));
  CHECK(!loaded.get_record("com.example.record", "k7").value().has_value());
  CHECK(loaded.list_records().value() == repo.list_records().value());
  CHECK(loaded.tree().verify().ok());
  auto car = loaded.export_car().value();
  CHECK(verify_repo_car(car, kDid, key.public_key()).ok());
  // The same records in a memory store give the same root.
  MemoryBlockStore memory;
  auto again = Repository::create(memory, kDid, key, initial, fixed_clock()).value();
  CHECK(again
            .apply_writes({WriteOp{Action::kDelete, "com.example.record", "k7", std::nullopt},
                           create("com.example.record", "new", post(999))},
                          key)
            .value()
            .commit.data == loaded.commit().data);
}

TEST_CASE("repository: an import refuses a tree of mined keys [repo.mst.node-size]",
          "[repository]") {
  auto key = test_key();
  // A signed repository whose records all have depth-0 keys: one node.
  auto car_with = [&](std::size_t records) {
    NodeData node;
    std::vector<CarBlock> record_blocks;
    for (int i = 0; node.entries.size() < records; ++i) {
      std::string path = "app.bsky.feed.post/r" + std::to_string(10000 + i);
      if (key_depth(path) != 0) continue;
      auto bytes = data::encode_cbor(post(i)).value();
      auto cid = Cid::compute(data::Codec::kDagCbor, bytes);
      node.entries.push_back({path, cid, std::nullopt});
      record_blocks.push_back({cid, bytes});
    }
    auto node_bytes = encode_node(node);
    auto node_cid = Cid::compute(data::Codec::kDagCbor, node_bytes);
    Commit commit{kDid, node_cid, "3jzfcijpj2z2a", std::nullopt, {}, kRepoVersion};
    sign_commit(commit, key);
    auto commit_bytes = encode_commit(commit);
    auto commit_cid = Cid::compute(data::Codec::kDagCbor, commit_bytes);
    atproto::car::CarFile car;
    car.roots = {commit_cid};
    car.blocks.push_back({commit_cid, commit_bytes});
    car.blocks.push_back({node_cid, node_bytes});
    for (auto& b : record_blocks) car.blocks.push_back(std::move(b));
    return atproto::car::write_car(car);
  };
  auto fits = verify_repo_car(car_with(kMaxNodeEntries), kDid, key.public_key());
  INFO((fits.ok() ? "" : fits.error().message));
  REQUIRE(fits.ok());
  CHECK(fits->records.size() == kMaxNodeEntries);
  auto mined = verify_repo_car(car_with(kMaxNodeEntries + 1), kDid, key.public_key());
  REQUIRE_FALSE(mined.ok());
  CHECK(mined.error().code == "repo.mst.node-size");
}

TEST_CASE("repository: block order check [car.block.preferred-order]", "[repository]") {
  auto key = test_key();
  MemoryBlockStore store;
  std::vector<WriteOp> initial;
  for (int i = 0; i < 40; ++i)
    initial.push_back(create("com.example.record", "k" + std::to_string(i), post(i)));
  auto repo = Repository::create(store, kDid, key, initial, fixed_clock()).value();
  auto car = atproto::car::read_car(repo.export_car().value()).value();
  REQUIRE(check_block_order(atproto::car::write_car(car)).ok());
  std::swap(car.blocks[1], car.blocks[2]);
  auto swapped = atproto::car::write_car(car);
  CHECK(verify_repo_car(swapped, kDid, key.public_key()).ok());  // any order is acceptable
  CHECK(check_block_order(swapped).error().code == "car.block.preferred-order");
  // [car.import.unlinked-blocks] An extra block nothing links to is ignored,
  // and may follow the streaming order at the end.
  std::swap(car.blocks[1], car.blocks[2]);
  std::vector<std::uint8_t> junk{0xa1, 0x61, 0x78, 0x01};
  car.blocks.push_back({Cid::compute(data::Codec::kDagCbor, junk), junk});
  auto extra = atproto::car::write_car(car);
  CHECK(verify_repo_car(extra, kDid, key.public_key()).ok());
  CHECK(check_block_order(extra).ok());
}

TEST_CASE("repository properties", "[repository][properties]") {
  rc::prop("export then verified import round-trips; any one-byte change fails", [] {
    auto keys = *generators::distinct_paths(40);
    auto key = test_key();
    MemoryBlockStore store;
    std::vector<WriteOp> writes;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      auto slash = keys[i].find('/');
      writes.push_back(
          create(keys[i].substr(0, slash), keys[i].substr(slash + 1), post(static_cast<int>(i))));
    }
    auto repo = Repository::create(store, kDid, key, writes, fixed_clock()).value();
    auto car = repo.export_car().value();
    auto verified = verify_repo_car(car, kDid, key.public_key());
    RC_ASSERT(verified.ok());
    RC_ASSERT(verified->records == repo.list_records().value());
    auto pos = *rc::gen::inRange<std::size_t>(0, car.size());
    auto flip = *rc::gen::inRange<int>(1, 256);
    auto bad = car;
    bad[pos] = static_cast<std::uint8_t>(bad[pos] ^ flip);
    RC_ASSERT(!verify_repo_car(bad, kDid, key.public_key()).ok());
  });
}

// ---------------------------------------------------------------- state machine

struct Model {
  std::map<std::string, int> records;  // path -> post number
};

struct Sut {
  MemoryBlockStore store;
  PrivateKey key = test_key();
  std::optional<Repository> repo;
  std::string last_rev;
};

// After each step: records agree with the model, the root is that of a
// tree rebuilt from scratch, and the new commit verifies, has a greater rev
// and inverts to the previous root.
void check_step(const Model& expected, Sut& sut, const CommitResult& result) {
  std::vector<MstEntry> entries;
  for (const auto& [path, n] : expected.records) {
    auto bytes = data::encode_cbor(post(n)).value();
    entries.push_back({path, Cid::compute(data::Codec::kDagCbor, bytes)});
  }
  RC_ASSERT(sut.repo->list_records().value() == entries);
  RC_ASSERT(sut.repo->commit().data == Mst::from_entries(entries).value().root_cid().value());
  RC_ASSERT(verify_commit_signature(result.commit, sut.key.public_key()).ok());
  RC_ASSERT(result.commit.rev > sut.last_rev);
  sut.last_rev = result.commit.rev;
  auto diff = blocks_of(result.blocks);
  RC_ASSERT(verify_inversion(diff, result.commit.data, result.ops, *result.prev_data).ok());
}

std::pair<std::string, std::string> split_path(const std::string& path) {
  auto slash = path.find('/');
  return {path.substr(0, slash), path.substr(slash + 1)};
}

struct CreateRecord : rc::state::Command<Model, Sut> {
  std::string path = *generators::repo_path();
  int n = *rc::gen::inRange(0, 1'000'000);
  void checkPreconditions(const Model& m) const override { RC_PRE(!m.records.count(path)); }
  void apply(Model& m) const override { m.records[path] = n; }
  void run(const Model& m, Sut& sut) const override {
    auto [c, k] = split_path(path);
    auto result = sut.repo->apply_writes({create(c, k, post(n))}, sut.key);
    RC_ASSERT(result.ok());
    Model next = m;
    apply(next);
    check_step(next, sut, *result);
  }
  void show(std::ostream& os) const override { os << "create " << path << " = " << n; }
};

// Picks an existing record; falls back to a fixed path on an empty model
// (the precondition then discards the command).
std::string existing(const Model& m) {
  if (m.records.empty()) return "com.example.record/none";
  std::vector<std::string> paths;
  for (const auto& [p, n] : m.records) paths.push_back(p);
  return *rc::gen::elementOf(paths);
}

struct UpdateRecord : rc::state::Command<Model, Sut> {
  std::string path;
  int n = *rc::gen::inRange(0, 1'000'000);
  explicit UpdateRecord(const Model& m) : path(existing(m)) {}
  void checkPreconditions(const Model& m) const override { RC_PRE(m.records.count(path) == 1u); }
  void apply(Model& m) const override { m.records[path] = n; }
  void run(const Model& m, Sut& sut) const override {
    auto [c, k] = split_path(path);
    auto result = sut.repo->apply_writes({WriteOp{Action::kUpdate, c, k, post(n)}}, sut.key);
    RC_ASSERT(result.ok());
    Model next = m;
    apply(next);
    check_step(next, sut, *result);
  }
  void show(std::ostream& os) const override { os << "update " << path << " = " << n; }
};

struct DeleteRecord : rc::state::Command<Model, Sut> {
  std::string path;
  explicit DeleteRecord(const Model& m) : path(existing(m)) {}
  void checkPreconditions(const Model& m) const override { RC_PRE(m.records.count(path) == 1u); }
  void apply(Model& m) const override { m.records.erase(path); }
  void run(const Model& m, Sut& sut) const override {
    auto [c, k] = split_path(path);
    auto result = sut.repo->apply_writes({WriteOp{Action::kDelete, c, k, std::nullopt}}, sut.key);
    RC_ASSERT(result.ok());
    Model next = m;
    apply(next);
    check_step(next, sut, *result);
  }
  void show(std::ostream& os) const override { os << "delete " << path; }
};

TEST_CASE("repository state machine: create/update/delete against an ordered map",
          "[repository][properties]") {
  rc::prop("the repository behaves like a map, with a verifiable commit chain", [] {
    Model model;
    Sut sut;
    sut.repo.emplace(Repository::create(sut.store, kDid, sut.key, {}, fixed_clock()).value());
    sut.last_rev = sut.repo->commit().rev;
    rc::state::check(model, sut,
                     rc::state::gen::execOneOfWithArgs<CreateRecord, UpdateRecord, DeleteRecord>());
    // The chain ends in an export that verifies.
    auto car = sut.repo->export_car().value();
    RC_ASSERT(verify_repo_car(car, kDid, sut.key.public_key()).ok());
  });
}

}  // namespace

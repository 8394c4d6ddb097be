#include "atproto/repo/repository.hpp"

#include <unordered_set>

#include "atproto/data/cbor.hpp"
#include "atproto/data/cbor_view.hpp"
#include "atproto/syntax/did.hpp"
#include "atproto/syntax/tid.hpp"

namespace atproto::repo {

using data::Cid;

namespace {

std::string system_rev() {
  static syntax::TidGenerator generator;
  return generator.next();
}

std::string path_of(std::string_view collection, std::string_view rkey) {
  std::string path(collection);
  path += '/';
  path += rkey;
  return path;
}

struct EncodedRecord {
  Cid cid;
  Bytes bytes;
};

Result<EncodedRecord> encode_record(const WriteOp& op) {
  if (!op.record || !op.record->is_map()) {
    return make_error("usage.write", std::string(action_name(op.action)) + " of " +
                                         path_of(op.collection, op.rkey) +
                                         " needs a record that is a map");
  }
  auto bytes = data::encode_cbor(*op.record);
  if (!bytes.ok()) return bytes.error();
  Cid cid = Cid::compute(data::Codec::kDagCbor, *bytes);
  return EncodedRecord{cid, std::move(bytes).value()};
}

// Appends blocks not seen before.
class BlockList {
 public:
  void add(car::CarBlock block) {
    if (seen_.insert(block.cid).second) blocks_.push_back(std::move(block));
  }
  void add(const std::vector<car::CarBlock>& blocks) {
    for (const auto& b : blocks) add(b);
  }
  std::vector<car::CarBlock>& blocks() { return blocks_; }

 private:
  std::unordered_set<Cid, CidHash> seen_;
  std::vector<car::CarBlock> blocks_;
};

// Signs and stores a commit of `tree`; returns it with its CID and bytes.
struct SignedCommit {
  Commit commit;
  Cid cid;
  Bytes bytes;
};

Result<SignedCommit> make_commit(BlockStore& store, const std::string& did, const Mst& tree,
                                 std::string_view previous_rev, const Repository::RevClock& clock,
                                 const crypto::PrivateKey& key) {
  auto root = tree.root_cid();
  if (!root.ok()) return root.error();
  auto rev = next_rev(previous_rev, clock ? clock() : system_rev());
  if (!rev.ok()) return rev.error();
  Commit commit{did, *root, *rev, std::nullopt, {}, kRepoVersion};
  sign_commit(commit, key);
  Bytes bytes = encode_commit(commit);
  // [repo.commit.cid] The CID of the signed commit's encoding.
  Cid cid = Cid::compute(data::Codec::kDagCbor, bytes);
  if (auto st = store.put(cid, bytes); !st.ok()) return st.error();
  return SignedCommit{std::move(commit), cid, std::move(bytes)};
}

}  // namespace

Repository::Repository(BlockStore& store, Commit commit, Cid cid, Mst tree, RevClock clock)
    : store_(&store),
      commit_(std::move(commit)),
      commit_cid_(cid),
      tree_(std::move(tree)),
      clock_(std::move(clock)),
      history_{cid} {}

Status RepositoryBuilder::add(std::string_view collection, std::string_view rkey,
                              const data::Value& record) {
  WriteOp op{Action::kCreate, std::string(collection), std::string(rkey), std::nullopt};
  if (!record.is_map()) return encode_record(op).error();
  auto bytes = data::encode_cbor(record);
  if (!bytes.ok()) return bytes.error();
  Cid cid = Cid::compute(data::Codec::kDagCbor, *bytes);
  if (auto st = store_->put(cid, *bytes); !st.ok()) return st;
  entries_.push_back(MstEntry{path_of(collection, rkey), cid});
  return {};
}

Result<Repository> RepositoryBuilder::finish(const crypto::PrivateKey& key,
                                             Repository::RevClock clock) {
  if (auto st = syntax::validate_did(did_); !st.ok()) {
    return make_error("repo.commit.did", "not a DID: " + did_);
  }
  // Built in one pass from the sorted entries rather than by adds: the
  // same tree [repo.mst.deterministic], without the intermediate versions.
  auto tree = Mst::from_entries(std::move(entries_));
  entries_.clear();
  if (!tree.ok()) return tree.error();
  if (auto nodes = tree->store_new_nodes(*store_, /*collect=*/false); !nodes.ok()) {
    return nodes.error();
  }
  auto signed_commit = make_commit(*store_, did_, *tree, "", clock, key);
  if (!signed_commit.ok()) return signed_commit.error();
  return Repository(*store_, std::move(signed_commit->commit), signed_commit->cid,
                    std::move(tree).value(), std::move(clock));
}

Result<Repository> Repository::create(BlockStore& store, const std::string& did,
                                      const crypto::PrivateKey& key,
                                      const std::vector<WriteOp>& writes, RevClock clock) {
  RepositoryBuilder builder(store, did);
  for (const auto& op : writes) {
    if (op.action != Action::kCreate) {
      return make_error("usage.write", "a new repository takes creates only");
    }
    if (!op.record) return encode_record(op).error();
    if (auto st = builder.add(op.collection, op.rkey, *op.record); !st.ok()) return st.error();
  }
  return builder.finish(key, std::move(clock));
}

Result<Repository> Repository::load(BlockStore& store, const Cid& commit_cid, RevClock clock) {
  auto bytes = store.get(commit_cid);
  if (!bytes.ok()) return bytes.error();
  if (!bytes->has_value()) {
    return make_error("repo.mst.complete", "commit block " + commit_cid.to_string() + " missing");
  }
  auto commit = decode_commit(**bytes);
  if (!commit.ok()) return commit.error();
  Mst tree = Mst::load(store, commit->data);
  return Repository(store, std::move(commit).value(), commit_cid, std::move(tree),
                    std::move(clock));
}

Result<std::optional<data::Value>> Repository::get_record(std::string_view collection,
                                                          std::string_view rkey) const {
  auto cid = tree_.get(path_of(collection, rkey));
  if (!cid.ok()) return cid.error();
  if (!cid->has_value()) return std::optional<data::Value>{};
  auto bytes = store_->get(**cid);
  if (!bytes.ok()) return bytes.error();
  if (!bytes->has_value()) {
    return make_error("car.export.complete", "record block " + (*cid)->to_string() + " missing");
  }
  auto value = data::decode_cbor(**bytes);
  if (!value.ok()) return value.error();
  return std::optional<data::Value>{std::move(value).value()};
}

Result<std::vector<MstEntry>> Repository::list_records(std::string_view collection) const {
  if (collection.empty()) return tree_.list();
  std::vector<MstEntry> out;
  // Paths of a collection sort together: "<nsid>/" up to "<nsid>0" ('0'
  // follows '/').
  std::string from = std::string(collection) + "/";
  std::string to = std::string(collection) + "0";
  auto st = tree_.walk_range(from, to, [&](const std::string& key, const Cid& value) {
    out.push_back(MstEntry{key, value});
    return true;
  });
  if (!st.ok()) return st.error();
  return out;
}

Result<CommitResult> Repository::apply_writes(const std::vector<WriteOp>& writes,
                                              const crypto::PrivateKey& key) {
  Mst tree = tree_;
  CommitResult result{commit_cid_, commit_, commit_.rev, commit_.data, {}, {}};
  std::vector<std::pair<Cid, Bytes>> records;
  std::vector<std::string> paths;
  for (const auto& op : writes) {
    std::string path = path_of(op.collection, op.rkey);
    if (auto st = validate_repo_path(path); !st.ok()) return st.error();
    auto current = tree.get(path);
    if (!current.ok()) return current.error();
    Result<Mst> next = tree;
    if (op.action == Action::kDelete) {
      if (!current->has_value()) return make_error("usage.key-absent", "no record at " + path);
      next = tree.remove(path);
      result.ops.push_back(RecordOp{op.action, path, std::nullopt, *current});
    } else {
      auto record = encode_record(op);
      if (!record.ok()) return record.error();
      if (op.action == Action::kCreate) {
        if (current->has_value())
          return make_error("usage.key-exists", "a record exists at " + path);
        next = tree.add(path, record->cid);
        result.ops.push_back(RecordOp{op.action, path, record->cid, std::nullopt});
      } else {
        if (!current->has_value()) return make_error("usage.key-absent", "no record at " + path);
        next = tree.update(path, record->cid);
        result.ops.push_back(RecordOp{op.action, path, record->cid, *current});
      }
      records.emplace_back(record->cid, std::move(record->bytes));
    }
    if (!next.ok()) return next.error();
    tree = std::move(next).value();
    paths.push_back(path);
  }
  if (auto st = store_->put_many(records); !st.ok()) return st.error();
  auto nodes = tree.store_new_nodes(*store_);
  if (!nodes.ok()) return nodes.error();
  // [repo.diff.inversion-blocks] Nodes next to the changed keys, so that
  // consumers can invert the operations.
  auto proof = commit_proof(tree, paths);
  if (!proof.ok()) return proof.error();
  auto signed_commit = make_commit(*store_, commit_.did, tree, commit_.rev, clock_, key);
  if (!signed_commit.ok()) return signed_commit.error();
  // [repo.diff.contents] Commit, new nodes, inversion nodes, new records.
  BlockList blocks;
  blocks.add(car::CarBlock{signed_commit->cid, signed_commit->bytes});
  blocks.add(*nodes);
  blocks.add(*proof);
  for (auto& [cid, bytes] : records) blocks.add(car::CarBlock{cid, std::move(bytes)});
  result.cid = signed_commit->cid;
  result.commit = signed_commit->commit;
  result.blocks = std::move(blocks.blocks());
  commit_ = std::move(signed_commit->commit);
  commit_cid_ = signed_commit->cid;
  tree_ = std::move(tree);
  history_.push_back(commit_cid_);
  return result;
}

Result<std::vector<std::uint8_t>> Repository::export_car() const {
  // Written as the walk goes, into one buffer: no CarFile of copied
  // blocks in between (a 2,000-record export is half a megabyte).
  car::CarFile header;
  header.roots.push_back(commit_cid_);
  Bytes out = car::write_car(header);
  out.reserve(64 * 1024);
  std::unordered_set<Cid, CidHash> seen;
  auto add = [&](const Cid& cid, std::span<const std::uint8_t> bytes) {
    if (seen.insert(cid).second) car::append_block(out, cid, bytes);
  };
  add(commit_cid_, encode_commit(commit_));
  // [car.block.preferred-order] Pre-order, records interleaved.
  auto st = tree_.for_each_node(
      [&](const car::CarBlock& node) {
        add(node.cid, node.bytes);
        return Status{};
      },
      [&](const Cid& record) -> Status {
        auto bytes = store_->get(record);
        if (!bytes.ok()) return bytes.error();
        // [car.export.complete] A full export carries every record.
        if (!bytes->has_value()) {
          return make_error("car.export.complete",
                            "record block " + record.to_string() + " missing");
        }
        add(record, **bytes);
        return Status{};
      });
  if (!st.ok()) return st.error();
  return out;
}

Result<std::vector<std::uint8_t>> Repository::diff_car_since(std::string_view since) const {
  std::optional<Commit> old;
  for (const auto& cid : history_) {
    auto bytes = store_->get(cid);
    if (!bytes.ok()) return bytes.error();
    if (!bytes->has_value()) continue;
    auto c = decode_commit(**bytes);
    if (c.ok() && c->rev == since) old = std::move(c).value();
  }
  if (!old) return make_error("usage.key-absent", "no commit with rev " + std::string(since));
  return diff_car_from(*old);
}

Result<std::vector<std::uint8_t>> Repository::diff_car_from(const Commit& earlier) const {
  auto d = Mst::diff(Mst::load(*store_, earlier.data), tree_);
  if (!d.ok()) return d.error();
  std::vector<std::string> paths;
  BlockList blocks;
  blocks.add(car::CarBlock{commit_cid_, encode_commit(commit_)});
  blocks.add(d->new_blocks);
  for (const auto& e : d->created) paths.push_back(e.key);
  for (const auto& [e, old_value] : d->updated) paths.push_back(e.key);
  for (const auto& e : d->deleted) paths.push_back(e.key);
  auto proof = commit_proof(tree_, paths);
  if (!proof.ok()) return proof.error();
  blocks.add(*proof);
  std::vector<Cid> wanted;
  for (const auto& e : d->created) wanted.push_back(e.value);
  for (const auto& [e, old_value] : d->updated) wanted.push_back(e.value);
  for (const auto& cid : wanted) {
    auto bytes = store_->get(cid);
    if (!bytes.ok()) return bytes.error();
    if (!bytes->has_value()) {
      return make_error("car.export.complete", "record block " + cid.to_string() + " missing");
    }
    blocks.add(car::CarBlock{cid, std::move(**bytes)});
  }
  car::CarFile car;
  car.roots.push_back(commit_cid_);
  car.blocks = std::move(blocks.blocks());
  return car::write_car(car);
}

namespace {

struct LoadedCar {
  car::CarFile car;
  MemoryBlockStore store;
  std::optional<Commit> commit;
};

Result<LoadedCar> load_car(std::span<const std::uint8_t> car_bytes) {
  auto car = car::read_car(car_bytes);
  if (!car.ok()) return car.error();
  // [car.header.first-root-commit] [car.roots.commit-included]
  if (auto st = car::check_roots_present(*car); !st.ok()) return st.error();
  LoadedCar out{std::move(car).value(), {}, std::nullopt};
  // The bytes move into the store: the blocks' CIDs stay in `car` (for the
  // block order check), their bytes are needed only once.
  for (auto& b : out.car.blocks) out.store.put_owned(b.cid, std::move(b.bytes));
  auto commit = decode_commit(*out.store.find(out.car.roots[0]));
  if (!commit.ok()) return commit.error();
  out.commit = std::move(commit).value();
  return out;
}

}  // namespace

namespace {

// The blocks of a CAR view by CID. A CAR in the preferred streaming order
// [car.block.preferred-order] holds each MST node a few blocks after the one
// read before it, and the records in key order the same way, so a reader
// that keeps a cursor finds its next block by looking a few places ahead.
// Any other order works too: a block not found there is looked up in a
// hash table (open addressing over indexes into the block list), built on
// the first such miss. The first copy of a repeated block wins
// [car.block.duplicates]; copies have the same bytes, since every block's
// hash was checked.
class BlockIndex {
 public:
  explicit BlockIndex(const std::vector<car::CarBlockView>& blocks) : blocks_(blocks) {}

  // `cursor`: where the reader's previous block was found, plus one.
  std::optional<std::span<const std::uint8_t>> find(const Cid& cid, std::size_t& cursor) {
    const std::size_t ahead = std::min(blocks_.size(), cursor + kLookAhead);
    for (std::size_t i = cursor; i < ahead; ++i) {
      if (blocks_[i].cid == cid) {
        cursor = i + 1;
        return blocks_[i].bytes;
      }
    }
    if (slots_.empty()) build();
    for (std::size_t s = CidHash{}(cid)&mask_; slots_[s] != kEmpty; s = (s + 1) & mask_) {
      if (blocks_[slots_[s]].cid == cid) {
        cursor = slots_[s] + 1;
        return blocks_[slots_[s]].bytes;
      }
    }
    return std::nullopt;
  }

 private:
  void build() {
    std::size_t capacity = 16;
    while (capacity < blocks_.size() * 2) capacity *= 2;
    slots_.assign(capacity, kEmpty);
    mask_ = capacity - 1;
    for (std::size_t i = 0; i < blocks_.size(); ++i) {
      std::size_t s = CidHash{}(blocks_[i].cid) & mask_;
      while (slots_[s] != kEmpty && blocks_[slots_[s]].cid != blocks_[i].cid) s = (s + 1) & mask_;
      if (slots_[s] == kEmpty) slots_[s] = static_cast<std::uint32_t>(i);
    }
  }

  // Blocks looked at before the table: more than the records a node holds
  // before its next subtree, in the trees seen in practice.
  static constexpr std::size_t kLookAhead = 32;
  static constexpr std::uint32_t kEmpty = 0xffffffff;  // a CAR has fewer blocks (1 GiB limit)
  const std::vector<car::CarBlockView>& blocks_;
  std::vector<std::uint32_t> slots_;
  std::size_t mask_ = 0;
};

}  // namespace

Result<VerifiedRepo> verify_repo_car(std::span<const std::uint8_t> car_bytes, std::string_view did,
                                     const crypto::PublicKey& key) {
  // [car.block.cid-matches] Every block is hashed once, here; everything
  // after reads the blocks in place, trusting the CIDs it checked.
  auto car = car::read_car_view(car_bytes);
  if (!car.ok()) return car.error();
  // [car.header.first-root-commit] [car.roots.commit-included]
  if (auto st = car::check_roots_present(*car); !st.ok()) return st.error();
  BlockIndex index(car->blocks);
  std::size_t cursor = 0;  // the commit, then the nodes in pre-order
  auto commit = decode_commit(*index.find(car->roots[0], cursor));
  if (!commit.ok()) return commit.error();
  // [repo.commit.did] The repository belongs to the expected account.
  if (commit->did != did) {
    return make_error("repo.commit.did",
                      "commit is for " + commit->did + ", expected " + std::string(did));
  }
  // [repo.commit.signature]
  if (auto st = verify_commit_signature(*commit, key); !st.ok()) return st.error();
  VerifiedRepo out{car->roots[0], std::move(commit).value(), {}};
  // Fewer records than blocks, always: one allocation instead of a doubling
  // series (pages reserved but never written cost no memory).
  out.records.reserve(car->blocks.size());
  // [car.import.unlinked-blocks] Only blocks reachable from the commit are
  // read; anything else in the file is ignored. The tree is verified in one
  // pass that collects its entries; the records are checked after it, so a
  // broken tree is reported before a missing record.
  auto st =
      Mst::verify_stored([&](const Cid& cid) { return index.find(cid, cursor); }, out.commit.data,
                         [&out](const std::string& path, const Cid& value) {
                           out.records.push_back(MstEntry{path, value});
                           return true;
                         });
  if (!st.ok()) return st.error();
  data::CborTape tape;  // one tape for every record: no allocation per record
  cursor = 0;           // the records, in key order
  for (const MstEntry& record : out.records) {
    // [car.export.complete] Every record of the tree is in the export.
    auto bytes = index.find(record.value, cursor);
    if (!bytes) {
      return make_error("car.export.complete", "record block " + record.value.to_string() +
                                                   " for " + record.key + " is missing");
    }
    if (auto decoded = data::decode_cbor_view(*bytes, tape); !decoded.ok()) {
      return decoded.error();
    }
    if (!tape.root().is_map()) {
      return make_error("data.model.record-object", "record " + record.key + " is not a map");
    }
  }
  return out;
}

Status check_block_order(std::span<const std::uint8_t> car_bytes) {
  auto loaded = load_car(car_bytes);
  if (!loaded.ok()) return loaded.error();
  // The order a streaming writer produces, each block at its first use.
  std::vector<Cid> expected{loaded->car.roots[0]};
  std::unordered_set<Cid, CidHash> seen{loaded->car.roots[0]};
  Mst tree = Mst::load(loaded->store, loaded->commit->data);
  auto st = tree.for_each_node(
      [&](const car::CarBlock& node) {
        if (seen.insert(node.cid).second) expected.push_back(node.cid);
        return Status{};
      },
      [&](const Cid& record) {
        if (seen.insert(record).second) expected.push_back(record);
        return Status{};
      });
  if (!st.ok()) return st.error();
  // The file's order, duplicates after their first appearance dropped.
  std::vector<Cid> actual;
  std::unordered_set<Cid, CidHash> in_file;
  for (const auto& b : loaded->car.blocks) {
    if (in_file.insert(b.cid).second) actual.push_back(b.cid);
  }
  for (std::size_t i = 0; i < expected.size(); ++i) {
    // [car.block.preferred-order]
    if (i >= actual.size() || actual[i] != expected[i]) {
      return make_error(
          "car.block.preferred-order",
          "block " + std::to_string(i) + " should be " + expected[i].to_string() +
              (i < actual.size() ? ", found " + actual[i].to_string() : ", but the file ends"));
    }
  }
  return {};
}

}  // namespace atproto::repo

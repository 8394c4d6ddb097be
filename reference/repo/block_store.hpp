// Block stores: where the repository keeps its content-addressed blocks
// (commits, MST nodes, records), keyed by CID.
// Spec: https://atproto.com/specs/repository#repository-data-structure
//
// Two implementations: MemoryBlockStore (tests, benches, CAR import) and
// SqliteBlockStore (sqlite_block_store.hpp, the store a PDS keeps on disk).
// Stores trust their caller: put() does not re-hash. Blocks read from
// untrusted sources go through the CAR reader first, which checks hashes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "atproto/common/result.hpp"
#include "atproto/data/cid.hpp"

namespace atproto::repo {

using Bytes = std::vector<std::uint8_t>;

// Hash for unordered containers keyed by CID: the digest is already uniform.
struct CidHash {
  std::size_t operator()(const data::Cid& cid) const noexcept {
    std::size_t h = 0;
    for (std::size_t i = 0; i < sizeof(std::size_t); ++i) h = (h << 8) | cid.digest()[i];
    return h ^ static_cast<std::size_t>(cid.codec());
  }
};

class BlockStore {
 public:
  virtual ~BlockStore() = default;
  // The block's bytes, or nullopt when the store does not hold it. Errors
  // are storage failures only (an unreadable database, say).
  virtual Result<std::optional<Bytes>> get(const data::Cid& cid) const = 0;
  virtual Result<bool> has(const data::Cid& cid) const = 0;
  // The block's bytes without a copy, from a store that holds them in
  // memory (valid until the store changes); nullopt when the store does not
  // hold the block or cannot lend it, so the caller asks get().
  virtual std::optional<std::span<const std::uint8_t>> view(const data::Cid& cid) const;
  virtual Status put(const data::Cid& cid, std::span<const std::uint8_t> bytes) = 0;
  virtual Status remove(const data::Cid& cid) = 0;
  // Several puts at once; stores with transactions make it one.
  virtual Status put_many(const std::vector<std::pair<data::Cid, Bytes>>& blocks);
};

class MemoryBlockStore final : public BlockStore {
 public:
  Result<std::optional<Bytes>> get(const data::Cid& cid) const override;
  Result<bool> has(const data::Cid& cid) const override;
  std::optional<std::span<const std::uint8_t>> view(const data::Cid& cid) const override;
  Status put(const data::Cid& cid, std::span<const std::uint8_t> bytes) override;
  Status remove(const data::Cid& cid) override;

  std::size_t size() const { return blocks_.size(); }
  // Direct read access without a copy, for hot paths that hold the store.
  const Bytes* find(const data::Cid& cid) const;
  // put() that takes the bytes instead of copying them (a store filled from
  // a CAR file read just before).
  void put_owned(const data::Cid& cid, Bytes&& bytes) {
    blocks_.try_emplace(cid, std::move(bytes));
  }

 private:
  std::unordered_map<data::Cid, Bytes, CidHash> blocks_;
};

}  // namespace atproto::repo

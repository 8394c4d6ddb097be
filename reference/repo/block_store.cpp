#include "atproto/repo/block_store.hpp"

namespace atproto::repo {

Status BlockStore::put_many(const std::vector<std::pair<data::Cid, Bytes>>& blocks) {
  for (const auto& [cid, bytes] : blocks) {
    if (auto st = put(cid, bytes); !st.ok()) return st;
  }
  return {};
}

std::optional<std::span<const std::uint8_t>> BlockStore::view(const data::Cid&) const {
  return std::nullopt;
}

Result<std::optional<Bytes>> MemoryBlockStore::get(const data::Cid& cid) const {
  auto it = blocks_.find(cid);
  if (it == blocks_.end()) return std::optional<Bytes>{};
  return std::optional<Bytes>{it->second};
}

const Bytes* MemoryBlockStore::find(const data::Cid& cid) const {
  auto it = blocks_.find(cid);
  return it == blocks_.end() ? nullptr : &it->second;
}

std::optional<std::span<const std::uint8_t>> MemoryBlockStore::view(const data::Cid& cid) const {
  const Bytes* bytes = find(cid);
  if (bytes == nullptr) return std::nullopt;
  return std::span<const std::uint8_t>(*bytes);
}

Result<bool> MemoryBlockStore::has(const data::Cid& cid) const { return blocks_.count(cid) != 0; }

Status MemoryBlockStore::put(const data::Cid& cid, std::span<const std::uint8_t> bytes) {
  blocks_.try_emplace(cid, bytes.begin(), bytes.end());
  return {};
}

Status MemoryBlockStore::remove(const data::Cid& cid) {
  blocks_.erase(cid);
  return {};
}

}  // namespace atproto::repo

// Tests for the block stores: the in-memory map and SQLite behave the same.
#include "atproto/repo/block_store.hpp"

#include <catch2/catch.hpp>

#include <memory>

#include "atproto/repo/sqlite_block_store.hpp"
#include "atproto/repo/test_generators.hpp"

namespace {

using atproto::repo::BlockStore;
using atproto::repo::Bytes;
using atproto::repo::MemoryBlockStore;
using atproto::repo::SqliteBlockStore;
using atproto::repo::generators::record_cid;

void exercise(BlockStore& store) {
  auto a = record_cid(1);
  auto b = record_cid(2);
  CHECK(!store.has(a).value());
  CHECK(!store.get(a).value().has_value());
  REQUIRE(store.put(a, Bytes{1, 2, 3}).ok());
  CHECK(store.has(a).value());
  CHECK(*store.get(a).value() == Bytes{1, 2, 3});
  // Same CID again: content-addressed, the first bytes stay.
  REQUIRE(store.put(a, Bytes{1, 2, 3}).ok());
  REQUIRE(store.put_many({{b, Bytes{}}, {record_cid(3), Bytes{9}}}).ok());
  CHECK(store.get(b).value()->empty());
  CHECK(*store.get(record_cid(3)).value() == Bytes{9});
  REQUIRE(store.remove(a).ok());
  CHECK(!store.has(a).value());
  CHECK(store.has(b).value());
}

TEST_CASE("block stores: memory", "[store]") {
  MemoryBlockStore store;
  exercise(store);
  CHECK(store.size() == 2);
}

TEST_CASE("block stores: sqlite, in memory and on disk", "[store]") {
  auto mem = SqliteBlockStore::open(":memory:");
  REQUIRE(mem.ok());
  exercise(**mem);
  std::string path = "repo_store_test.sqlite";
  std::remove(path.c_str());
  {
    auto disk = SqliteBlockStore::open(path);
    REQUIRE(disk.ok());
    REQUIRE((*disk)->put(record_cid(5), Bytes{5}).ok());
  }
  {
    auto disk = SqliteBlockStore::open(path);
    REQUIRE(disk.ok());
    CHECK(*(*disk)->get(record_cid(5)).value() == Bytes{5});
  }
  std::remove(path.c_str());
  std::remove((path + "-wal").c_str());
  std::remove((path + "-shm").c_str());
  auto bad = SqliteBlockStore::open("/nonexistent-dir/x/y.sqlite");
  REQUIRE(!bad.ok());
  CHECK(bad.error().code == "storage.io");
}

}  // namespace

// Test support, not implementation: RapidCheck generators of CAR contents.
// Blocks are raw bytes or DAG-CBOR records, each under the CID of its
// bytes; files have one to three roots, the first usually among the blocks
// (the atproto shape), and duplicates or any order as they fall. Shared by
// the CAR property tests and the conformance runner's car suite.
#pragma once

#include <rapidcheck.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "atproto/car/car.hpp"
#include "atproto/data/cbor.hpp"
#include "atproto/data/test_generators.hpp"

namespace atproto::car::generators {

namespace gen = rc::gen;

// A block named by the CID of its bytes: a DAG-CBOR record (dag-cbor codec)
// or arbitrary bytes, possibly none, under either codec (the reader checks
// hashes, not contents).
inline rc::Gen<CarBlock> block() {
  auto record = gen::map(data::generators::record(2), [](const data::Value& value) {
    std::vector<std::uint8_t> bytes = data::encode_cbor(value).value();
    return CarBlock{data::Cid::compute(data::Codec::kDagCbor, bytes), std::move(bytes)};
  });
  auto bytes = gen::map(gen::pair(gen::element(data::Codec::kDagCbor, data::Codec::kRaw),
                                  gen::resize(64, gen::arbitrary<std::vector<std::uint8_t>>())),
                        [](const std::pair<data::Codec, std::vector<std::uint8_t>>& p) {
                          return CarBlock{data::Cid::compute(p.first, p.second), p.second};
                        });
  return gen::oneOf(record, bytes);
}

// A CAR file: up to eight blocks (sometimes one repeated) and one to three
// roots, the first usually one of the blocks.
inline rc::Gen<CarFile> car_file() {
  return gen::exec([] {
    CarFile car;
    car.blocks = *gen::resize(8, gen::container<std::vector<CarBlock>>(block()));
    if (!car.blocks.empty() && *gen::inRange(0, 4) == 0) {
      car.blocks.push_back(car.blocks[*gen::inRange<std::size_t>(0, car.blocks.size())]);
    }
    car.roots = *gen::container<std::vector<data::Cid>>(*gen::inRange<std::size_t>(1, 4),
                                                        data::generators::cid());
    if (!car.blocks.empty() && *gen::inRange(0, 5) != 0) {
      car.roots[0] = car.blocks[*gen::inRange<std::size_t>(0, car.blocks.size())].cid;
    }
    return car;
  });
}

}  // namespace atproto::car::generators

// bench-data: the data-model and CAR work of issue 4, measured on inputs this
// program writes to a folder so that the TypeScript side (bench/typescript/
// data.mjs) does exactly the same work on exactly the same bytes.
//
// Usage: bench-data DIR     writes DIR/post.json, DIR/large.json and
//                           DIR/blocks.car, then measures and prints JSON lines.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "atproto/car/car.hpp"
#include "atproto/data/base64.hpp"
#include "atproto/data/cbor.hpp"
#include "atproto/data/cbor_view.hpp"
#include "atproto/data/cid.hpp"
#include "atproto/data/json.hpp"
#include "bench.hpp"

namespace {

using atproto::data::Cid;
using atproto::data::Codec;
using atproto::data::Value;
using nlohmann::json;
namespace bench = atproto::bench;

template <typename T>
T must(atproto::Result<T> r, const char* what) {
  if (!r.ok()) {
    std::cerr << "bench-data: " << what << ": " << r.error().code << ": " << r.error().message
              << "\n";
    std::exit(1);
  }
  return std::move(*r);
}

std::string link_to(const std::string& seed) {
  std::vector<std::uint8_t> bytes(seed.begin(), seed.end());
  return Cid::compute(Codec::kRaw, bytes).to_string();
}

// A post as the Bluesky app writes it: text with a mention and a link facet,
// a language, and an external embed with a thumbnail blob. Its DAG-CBOR form
// is 674 bytes, the size the TypeScript figures were taken at.
json typical_post() {
  const std::string mention = "@alice.example.com";
  const std::string url = "https://example.com/notes/mst";
  const std::string text = "Reading the repository spec with " + mention +
                           ": the MST section clicked once we drew key depths by "
                           "hand. Notes: " +
                           url;
  auto span = [&](const std::string& part) {
    auto at = text.find(part);
    return json{{"byteStart", at}, {"byteEnd", at + part.size()}};
  };
  return json{{"$type", "app.bsky.feed.post"},
              {"text", text},
              {"createdAt", "2026-11-24T08:30:00.000Z"},
              {"langs", {"en"}},
              {"facets",
               {{{"index", span(mention)},
                 {"features",
                  {{{"$type", "app.bsky.richtext.facet#mention"},
                    {"did", "did:plc:ewvi7nxzyoun6zhxrhs64oiz"}}}}},
                {{"index", span(url)},
                 {"features", {{{"$type", "app.bsky.richtext.facet#link"}, {"uri", url}}}}}}},
              {"embed",
               {{"$type", "app.bsky.embed.external"},
                {"external",
                 {{"uri", "https://example.com/notes/mst"},
                  {"title", "MST notes."},
                  {"description", "By hand."},
                  {"thumb",
                   {{"$type", "blob"},
                    {"ref", {{"$link", link_to("thumbnail")}}},
                    {"mimeType", "image/jpeg"},
                    {"size", 48213}}}}}}}};
}

// About 1 MB of DAG-CBOR: 2,000 items, each a few levels deep, mixing every
// data-model kind (strings, integers, booleans, null, bytes, links, arrays).
json large_record() {
  json items = json::array();
  for (int i = 0; i < 2000; ++i) {
    std::string payload(48, static_cast<char>('a' + i % 26));
    std::vector<std::uint8_t> raw(payload.begin(), payload.end());
    json item{
        {"$type", "dev.bench.item"},
        {"index", i},
        {"negative", -i * 7919},
        {"name", "item number " + std::to_string(i) + " of the large benchmark record"},
        {"flags", {{"visible", i % 2 == 0}, {"pinned", i % 7 == 0}, {"deleted", nullptr}}},
        {"tags", {"alpha", "beta", "gamma-" + std::to_string(i % 10)}},
        {"payload", {{"$bytes", atproto::data::base64_encode(raw)}}},
        {"link", {{"$link", link_to("item-" + std::to_string(i))}}},
        {"nested",
         {{"level1",
           {{"level2",
             {{"level3",
               {{"count", i * 3},
                {"label", "deep value " + std::to_string(i)},
                {"scores", {i, i + 1, i + 2, 1000000 + i}}}}}}}}}},
    };
    items.push_back(std::move(item));
  }
  return json{{"$type", "dev.bench.large"}, {"items", std::move(items)}};
}

// 10,000 small dag-cbor blocks in a CAR file; the first is the root.
atproto::car::CarFile ten_thousand_blocks() {
  atproto::car::CarFile car;
  for (int i = 0; i < 10000; ++i) {
    Value block =
        atproto::data::Map{{"$type", "dev.bench.block"},
                           {"index", i},
                           {"text", "block " + std::to_string(i) + " of the CAR read benchmark"},
                           {"createdAt", "2026-11-24T08:30:00.000Z"}};
    auto bytes = must(atproto::data::encode_cbor(block), "encode block");
    Cid cid = Cid::compute(Codec::kDagCbor, bytes);
    if (i == 0) car.roots.push_back(cid);
    car.blocks.push_back({cid, std::move(bytes)});
  }
  return car;
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) {
    std::cerr << "bench-data: cannot write " << path << "\n";
    std::exit(1);
  }
}

void bench_record(const std::string& name, const std::string& what, const json& record,
                  const bench::Spec& encode_spec_base) {
  Value value = must(atproto::data::record_from_json(record), "record_from_json");
  auto bytes = must(atproto::data::encode_cbor(value), "encode");
  const std::string cid = Cid::compute(Codec::kDagCbor, bytes).to_string();

  bench::Spec encode = encode_spec_base;
  encode.id = "data.encode." + name;
  encode.what = "encode " + what + " (" + std::to_string(bytes.size()) + " B)";
  encode.bytes = bytes.size();
  bench::measure(encode, cid, [&] { bench::keep(atproto::data::encode_cbor(value)); });

  bench::Spec decode = encode;
  decode.id = "data.decode." + name;
  decode.what = "decode " + what + " (" + std::to_string(bytes.size()) + " B)";
  auto decoded = must(atproto::data::decode_cbor(bytes), "decode");
  const std::string recheck = must(atproto::data::cid_of(decoded), "cid_of").to_string();
  bench::measure(decode, recheck, [&] { bench::keep(atproto::data::decode_cbor(bytes)); });

  // The same bytes through the tape decoder (cbor_view.hpp), reusing one
  // tape as a hot caller does. Its check converts the view back to a Value.
  bench::Spec view = decode;
  view.id = "data.decode." + name + "-view";
  view.what = "decode " + what + " to a view (" + std::to_string(bytes.size()) + " B)";
  atproto::data::CborTape tape;
  if (auto st = atproto::data::decode_cbor_view(bytes, tape); !st) {
    std::cerr << "bench-data: decode_cbor_view: " << st.error().code << "\n";
    std::exit(1);
  }
  const std::string view_check =
      must(atproto::data::cid_of(atproto::data::to_value(tape.root())), "cid_of").to_string();
  bench::measure(view, view_check,
                 [&] { bench::keep(atproto::data::decode_cbor_view(bytes, tape).ok()); });
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: bench-data DIR\n";
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir);

  const json post = typical_post();
  const json large = large_record();
  const auto car = ten_thousand_blocks();
  const auto car_bytes = atproto::car::write_car(car);
  write_file(dir / "post.json", post.dump());
  write_file(dir / "large.json", large.dump());
  write_file(dir / "blocks.car", std::string(car_bytes.begin(), car_bytes.end()));

  // The targets: 10x the official TypeScript implementation.
  bench::Spec base;
  base.target_ratio = 10;
  bench_record("post", "post record", post, base);
  bench_record("large", "~1 MB nested record", large, base);

  {
    Value value = must(atproto::data::record_from_json(post), "record_from_json");
    auto bytes = must(atproto::data::encode_cbor(value), "encode");
    bench::Spec spec = base;
    spec.id = "data.cid.post";
    spec.what = "CID of post bytes (" + std::to_string(bytes.size()) + " B)";
    spec.bytes = bytes.size();
    bench::measure(spec, Cid::compute(Codec::kDagCbor, bytes).to_string(),
                   [&] { bench::keep(Cid::compute(Codec::kDagCbor, bytes)); });
  }
  {
    bench::Spec spec = base;
    spec.id = "car.read.10k";
    spec.what =
        "read + verify 10,000-block CAR (" + std::to_string(car_bytes.size() / 1024) + " KiB)";
    spec.bytes = car_bytes.size();
    auto read = must(atproto::car::read_car(car_bytes), "read_car");
    const std::string check =
        std::to_string(read.blocks.size()) + " blocks, root " + read.roots.at(0).to_string();
    bench::measure(spec, check, [&] { bench::keep(atproto::car::read_car(car_bytes)); });
  }
  return 0;
}

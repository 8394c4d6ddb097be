// bench-lexicon: Lexicon validation of an app.bsky.feed.post record (text with
// mention, link and tag facets, languages, an images embed with two images),
// against the official Lexicons that tools/fetch-lexicons put in
// generated/lexicons/. The TypeScript side (bench/typescript/lexicon.mjs)
// validates the same record against the same documents with
// @atproto/lexicon.
//
// Usage: bench-lexicon DIR   writes DIR/post.json and DIR/lexicons.json (every
//                            official document, as an array), then measures.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "atproto/data/cbor.hpp"
#include "atproto/data/cbor_view.hpp"
#include "atproto/data/json.hpp"
#include "atproto/lexicon/catalog.hpp"
#include "atproto/lexicon/validate.hpp"
#include "bench.hpp"

namespace {

using nlohmann::json;
namespace bench = atproto::bench;
namespace fs = std::filesystem;

[[noreturn]] void die(const std::string& why) {
  std::cerr << "bench-lexicon: " << why << "\n";
  std::exit(1);
}

json read_json(const fs::path& path) {
  std::ifstream in(path);
  if (!in) die("cannot read " + path.string());
  return json::parse(in);
}

// A post with facets and an embed, as the Bluesky app writes one.
json post() {
  const std::string mention = "@alice.example.com";
  const std::string url = "https://example.com/notes/lexicon";
  const std::string tag = "#atproto";
  const std::string text = "Lexicon notes with " + mention + " \xF0\x9F\x91\x8B\xF0\x9F\x8F\xBD: " +
                           "graphemes, unions and blobs, all in one post. " + url + " " + tag;
  auto span = [&](const std::string& part) {
    auto at = text.find(part);
    return json{{"byteStart", at}, {"byteEnd", at + part.size()}};
  };
  auto image = [](const std::string& alt, const std::string& cid) {
    return json{{"alt", alt},
                {"aspectRatio", {{"width", 1200}, {"height", 800}}},
                {"image",
                 {{"$type", "blob"},
                  {"ref", {{"$link", cid}}},
                  {"mimeType", "image/jpeg"},
                  {"size", 284113}}}};
  };
  return json{{"$type", "app.bsky.feed.post"},
              {"text", text},
              {"createdAt", "2026-11-24T09:30:00.000Z"},
              {"langs", {"en", "pt-BR"}},
              {"facets",
               {{{"index", span(mention)},
                 {"features",
                  {{{"$type", "app.bsky.richtext.facet#mention"},
                    {"did", "did:plc:ewvi7nxzyoun6zhxrhs64oiz"}}}}},
                {{"index", span(url)},
                 {"features", {{{"$type", "app.bsky.richtext.facet#link"}, {"uri", url}}}}},
                {{"index", span(tag)},
                 {"features", {{{"$type", "app.bsky.richtext.facet#tag"}, {"tag", "atproto"}}}}}}},
              {"embed",
               {{"$type", "app.bsky.embed.images"},
                {"images",
                 {image("A hand-drawn MST with key depths",
                        "bafkreibjfgx2gprinfvicegelk5kosd6y2frmqpqzwqkg7usac74l3t2v4"),
                  image("The same tree after two inserts",
                        "bafkreiaqq3jh3xrmvaqgqcgujbqvqxjahdd66ufbt7vkgaqnkmj3sgvezy")}}}}};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) die("usage: bench-lexicon DIR");
  const fs::path dir = argv[1];
  fs::create_directories(dir);
  const fs::path lexicon_dir = fs::path(ATPROTO_SOURCE_ROOT) / "generated" / "lexicons";
  if (!fs::is_directory(lexicon_dir))
    die("no " + lexicon_dir.string() + ": run tools/fetch-lexicons");

  json documents = json::array();
  for (const auto& entry : fs::recursive_directory_iterator(lexicon_dir)) {
    if (entry.is_regular_file() && entry.path().extension() == ".json") {
      documents.push_back(read_json(entry.path()));
    }
  }
  atproto::lexicon::Catalog catalog;
  for (const auto& d : documents) {
    if (auto s = catalog.add_json(d); !s) die(s.error().code + " " + s.error().message);
  }
  const json record = post();
  std::ofstream(dir / "post.json") << record.dump();
  std::ofstream(dir / "lexicons.json") << documents.dump();

  auto value = atproto::data::from_json(record);
  if (!value) die("post does not read: " + value.error().message);
  auto verdict = atproto::lexicon::validate_record(catalog, *value);
  if (!verdict) die("post does not validate: " + verdict.error().message);
  const std::size_t bytes = record.dump().size();

  bench::Spec spec;
  spec.id = "lexicon.validate.post";
  spec.what = "validate app.bsky.feed.post (facets, images embed)";
  spec.bytes = bytes;
  spec.target_ratio = 10;
  bench::measure(spec, "valid",
                 [&] { bench::keep(atproto::lexicon::validate_record(catalog, *value).ok()); });

  bench::Spec from_json = spec;
  from_json.id = "lexicon.validate.post-json";
  from_json.what = "JSON value to data model + validate the post";
  from_json.target_ratio = 0;
  bench::measure(from_json, "valid", [&] {
    auto v = atproto::data::from_json(record);
    bench::keep(atproto::lexicon::validate_record(catalog, *v).ok());
  });

  // The post's CBOR decoded to a view (data/cbor_view.hpp) and validated in
  // place, as a relay or an import reads records; one tape is reused. C++
  // only: the official packages have no equivalent path to set beside it.
  const auto cbor = atproto::data::encode_cbor(*value);
  if (!cbor) die("post does not encode: " + cbor.error().message);
  atproto::data::CborTape tape;
  bench::Spec view = spec;
  view.id = "lexicon.validate.post-view";
  view.what = "decode the post's CBOR to a view + validate it";
  view.bytes = cbor->size();
  view.target_ratio = 0;
  bench::measure(view, "valid", [&] {
    bench::keep(atproto::data::decode_cbor_view(*cbor, tape).ok() &&
                atproto::lexicon::validate_record(catalog, tape.root()).ok());
  });

  // Invalid: one image's alt text is a number; the error is found and named.
  json bad = record;
  bad["embed"]["images"][1]["alt"] = 5;
  auto bad_value = atproto::data::from_json(bad);
  bench::Spec invalid = spec;
  invalid.id = "lexicon.validate.post-invalid";
  invalid.what = "reject the post with a bad image alt";
  invalid.target_ratio = 0;
  bench::measure(invalid, "invalid",
                 [&] { bench::keep(atproto::lexicon::validate_record(catalog, *bad_value).ok()); });
  return 0;
}

// Every official Lexicon obtained at setup (tools/fetch-lexicons writes them
// to generated/lexicons/ from a pinned registry package) passes our schema
// checks, and together they form a catalog whose references all resolve.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "atproto/lexicon/catalog.hpp"
#include "atproto/lexicon/schema.hpp"

using namespace atproto::lexicon;

namespace {

const std::filesystem::path kDir =
    std::filesystem::path(ATPROTO_SOURCE_ROOT) / "generated" / "lexicons";

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE(
    "every official Lexicon passes the schema checks [lex.schema.document] "
    "[lex.schema.ref-resolves] [lex.schema.union-variant] [lex.schema.ref-target]",
    "[lexicon][official]") {
  INFO("missing " << kDir << ": run tools/fetch-lexicons");
  REQUIRE(std::filesystem::is_directory(kDir));
  Catalog catalog;
  std::size_t com_atproto = 0;
  std::size_t app_bsky = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(kDir)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".json") continue;
    auto doc = parse_lexicon_text(read_file(entry.path()));
    INFO(entry.path().string() << ": "
                               << (doc ? "" : doc.error().code + " " + doc.error().message));
    REQUIRE(doc.ok());
    // The file's place matches its id (a.b.c -> a/b/c.json).
    std::string id = doc->id;
    std::string rel = std::filesystem::relative(entry.path(), kDir).replace_extension().string();
    for (auto& c : rel) {
      if (c == '/') c = '.';
    }
    CHECK(rel == id);
    if (id.rfind("com.atproto.", 0) == 0) ++com_atproto;
    if (id.rfind("app.bsky.", 0) == 0) ++app_bsky;
    REQUIRE(catalog.add(std::move(doc).value()).ok());
  }
  // Well over a hundred of each in any recent release.
  CHECK(com_atproto >= 80);
  CHECK(app_bsky >= 150);
  auto refs = catalog.check_references();
  INFO((refs ? std::string() : refs.error().code + " " + refs.error().message));
  CHECK(refs.ok());
  // Spot checks that the catalog links what later servers rely on.
  const TypeDef* post = catalog.def("app.bsky.feed.post#main");
  REQUIRE(post);
  CHECK(post->type == Type::kRecord);
  CHECK(post->key == "tid");
  const TypeDef* commit = catalog.def("com.atproto.sync.subscribeRepos#main");
  REQUIRE(commit);
  CHECK(commit->type == Type::kSubscription);
}

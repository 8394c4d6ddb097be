// Runs the shared CAR test vectors (vectors/car/*.json) against the
// reference. The file format is described in vectors/README.md; every
// mismatch is reported with the case id.
//
// Each case's bytes go through read_car with the default CarLimits, then
// check_roots_present: the same pairing as the conformance operation
// car/read. read_car_view must agree with it. A valid case must give exactly the listed roots and
// block CIDs (in file order) and, since valid vector files are canonical, write_car must give the
// input back. An invalid case must fail with exactly its "error".
//
// Besides the verdicts, this checks the vector set itself: enough valid and
// invalid cases, unique ids, and every rejection code of the reader (but the
// whole-file size limit, which a vector of over 1 GiB would need) exercised.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "atproto/car/car.hpp"
#include "atproto/common/testing.hpp"
#include "atproto/data/base64.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace atproto;
using Bytes = std::vector<std::uint8_t>;

const fs::path kVectorDir = fs::path(ATPROTO_VECTORS_DIR) / "car";
constexpr std::size_t kMinValid = 10;
constexpr std::size_t kMinInvalid = 40;

json read_json(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  return json::parse(in);
}

// Every vector file of the folder, in name order.
const std::vector<std::pair<std::string, json>>& vector_files() {
  static const std::vector<std::pair<std::string, json>> files = [] {
    std::vector<fs::path> paths;
    for (const auto& entry : fs::directory_iterator(kVectorDir)) {
      if (entry.path().extension() == ".json") paths.push_back(entry.path());
    }
    std::sort(paths.begin(), paths.end());
    std::vector<std::pair<std::string, json>> out;
    for (const auto& path : paths) out.emplace_back(path.filename().string(), read_json(path));
    return out;
  }();
  return files;
}

using atproto::testing::hex_bytes;

Bytes car_bytes(const json& c) {
  if (c.contains("car_hex")) return hex_bytes(c.at("car_hex").get<std::string>());
  auto bytes = data::base64_decode(c.at("car_base64").get<std::string>());
  if (!bytes) throw std::runtime_error("car_base64 is not base64: " + bytes.error().message);
  return *bytes;
}

std::string list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (const auto& item : items) out += (out.size() > 1 ? ", " : "") + item;
  return out + "]";
}

// What one case got wrong; empty when it passes.
std::vector<std::string> check_case(const json& c) {
  std::vector<std::string> problems;
  const Bytes input = car_bytes(c);
  const bool want_valid = c.at("valid").get<bool>();
  auto car = car::read_car(input);
  Status verdict = car ? car::check_roots_present(*car) : Status(car.error());
  // The reader without copies reaches the same verdict and, on a good file,
  // the same blocks, as views into the input.
  auto view = car::read_car_view(input);
  Status view_verdict = view ? car::check_roots_present(*view) : Status(view.error());
  if (view_verdict.ok() != verdict.ok() ||
      (!verdict.ok() && view_verdict.error().code != verdict.error().code)) {
    problems.push_back("read_car_view's verdict differs from read_car's");
  } else if (verdict.ok()) {
    bool same = view->roots == car->roots && view->blocks.size() == car->blocks.size();
    for (std::size_t i = 0; same && i < car->blocks.size(); ++i) {
      const auto& b = view->blocks[i];
      same = b.cid == car->blocks[i].cid &&
             std::equal(b.bytes.begin(), b.bytes.end(), car->blocks[i].bytes.begin(),
                        car->blocks[i].bytes.end()) &&
             b.bytes.data() >= input.data() &&
             b.bytes.data() + b.bytes.size() <= input.data() + input.size();
    }
    if (!same) problems.push_back("read_car_view's blocks differ from read_car's");
  }
  if (!verdict) {
    if (want_valid) {
      problems.push_back("expected valid, got error " + verdict.error().code + " (" +
                         verdict.error().message + ")");
    } else if (verdict.error().code != c.at("error").get<std::string>()) {
      problems.push_back("expected error " + c.at("error").get<std::string>() + ", got " +
                         verdict.error().code + " (" + verdict.error().message + ")");
    }
    return problems;
  }
  if (!want_valid) {
    problems.push_back("expected error " + c.at("error").get<std::string>() + ", got valid");
    return problems;
  }
  std::vector<std::string> roots;
  for (const auto& root : car->roots) roots.push_back(root.to_string());
  std::vector<std::string> blocks;
  for (const auto& block : car->blocks) blocks.push_back(block.cid.to_string());
  const auto want_roots = c.at("roots").get<std::vector<std::string>>();
  const auto want_blocks = c.at("blocks").get<std::vector<std::string>>();
  if (roots != want_roots) {
    problems.push_back("roots: expected " + list(want_roots) + ", got " + list(roots));
  }
  if (blocks != want_blocks) {
    problems.push_back("blocks: expected " + list(want_blocks) + ", got " + list(blocks));
  }
  if (car::write_car(*car) != input) problems.push_back("write_car(read) differs from the input");
  return problems;
}

}  // namespace

// [car.header.frame] [car.header.map] [car.header.version] [car.header.roots]
// [car.header.roots-nonempty] [car.header.keys] [car.block.frame] [car.block.cid]
// [car.block.cid-matches] [car.block.any-order] [car.block.duplicates]
// [car.roots.commit-included] [car.limits.block-size] [car.limits.header-size]
TEST_CASE("car vectors: read", "[vectors]") {
  REQUIRE(!vector_files().empty());
  std::size_t checked = 0;
  for (const auto& [name, doc] : vector_files()) {
    REQUIRE(doc.value("$schema", std::string()) == "../schema/car.schema.json");
    REQUIRE(doc.value("kind", std::string()) == "car");
    REQUIRE(doc.value("operation", std::string()) == "read");
    for (const auto& c : doc.at("cases")) {
      const std::string id = c.value("id", std::string("<no id>"));
      std::vector<std::string> problems;
      try {
        problems = check_case(c);
      } catch (const std::exception& e) {
        problems.push_back(std::string("exception: ") + e.what());
      }
      for (const auto& problem : problems) FAIL_CHECK(name << " case " << id << ": " << problem);
      ++checked;
    }
  }
  CHECK(checked > 0);
}

TEST_CASE("car vectors: enough cases, unique ids, every reader error exercised", "[vectors]") {
  std::set<std::string> ids;
  std::set<std::string> errors;
  std::size_t valid = 0;
  std::size_t invalid = 0;
  for (const auto& [name, doc] : vector_files()) {
    for (const auto& c : doc.at("cases")) {
      (c.at("valid").get<bool>() ? valid : invalid) += 1;
      if (c.contains("error")) errors.insert(c.at("error").get<std::string>());
      const std::string id = c.value("id", std::string("<no id>"));
      if (!ids.insert(id).second) FAIL_CHECK(name << ": duplicate case id " << id);
    }
  }
  INFO(valid << " valid, " << invalid << " invalid cases");
  CHECK(valid >= kMinValid);
  CHECK(invalid >= kMinInvalid);
  // The reader's own codes (car.hpp), but car.limits.car-size.
  for (const char* code :
       {"car.header.frame", "car.header.map", "car.header.version", "car.header.roots",
        "car.header.roots-nonempty", "car.header.keys", "car.block.frame", "car.block.cid",
        "car.block.cid-matches", "car.roots.commit-included", "car.limits.block-size",
        "car.limits.header-size"}) {
    INFO(code);
    CHECK(errors.count(code) == 1);
  }
}

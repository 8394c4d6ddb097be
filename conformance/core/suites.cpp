// The registry of suites and the helpers they share for reading vectors.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "exact_json.hpp"
#include "suites.hpp"

namespace atproto::conformance {

namespace fs = std::filesystem;

Error bad_vector(const std::string& message) { return make_error("conformance.vectors", message); }

Status for_each_vector_file(const std::string& dir, bool optional,
                            const std::function<Status(const json& doc)>& each) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    if (optional) return {};
    return bad_vector("vector folder not found: " + dir);
  }
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& path : files) {
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // Numbers beyond 64 bits keep their digits (exact_json.hpp).
    json doc = parse_json(text).value;
    if (doc.is_discarded() || !doc.is_object()) {
      return bad_vector("malformed vector file " + path.string());
    }
    if (auto status = each(doc); !status) return status;
  }
  return {};
}

std::vector<std::string> string_list(const json& array) {
  std::vector<std::string> out;
  if (!array.is_array()) return out;
  for (const auto& item : array) {
    if (item.is_string()) out.push_back(item.get<std::string>());
  }
  return out;
}

std::string stable_hash_hex(const std::string& s, std::size_t digits) {
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a, 64 bit
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return std::string(buf, std::min<std::size_t>(digits, 16));
}

Level strongest_level(const Catalog& catalog, const std::vector<std::string>& requirements) {
  Level level = Level::kMay;
  bool any = false;
  for (const auto& id : requirements) {
    if (const Requirement* r = catalog.find(id)) {
      any = true;
      level = std::min(level, r->level);
    }
  }
  return any ? level : Level::kMust;
}

}  // namespace atproto::conformance

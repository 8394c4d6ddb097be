// Runs the shared syntax test vectors (vectors/syntax/*.json) against the
// reference implementation. The file format is described in vectors/README.md;
// every mismatch is reported with the file and the case id.
//
// Besides the verdicts, this checks the vector set itself: each Lexicon string
// format has at least 40 valid and 40 invalid "validate" cases, case ids are
// unique, and every requirement id and error code a case names is in the
// requirement catalog (spec/requirements/*.json).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "atproto/common/testing.hpp"
#include "atproto/syntax/at_identifier.hpp"
#include "atproto/syntax/at_uri.hpp"
#include "atproto/syntax/cid.hpp"
#include "atproto/syntax/datetime.hpp"
#include "atproto/syntax/did.hpp"
#include "atproto/syntax/format.hpp"
#include "atproto/syntax/handle.hpp"
#include "atproto/syntax/language.hpp"
#include "atproto/syntax/nsid.hpp"
#include "atproto/syntax/record_key.hpp"
#include "atproto/syntax/tid.hpp"
#include "atproto/syntax/uri.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace atproto;
using namespace atproto::syntax;

const fs::path kVectorDir = fs::path(ATPROTO_VECTORS_DIR) / "syntax";
const fs::path kCatalogDir = fs::path(ATPROTO_VECTORS_DIR) / ".." / "spec" / "requirements";
constexpr std::size_t kMinCasesPerVerdict = 40;

// Error codes of the reference API that are not spec requirements.
const std::set<std::string> kApiCodes = {"rkey.type.unknown"};

const std::set<std::string> kOperations = {"validate",        "handle-usable", "did-supported",
                                           "record-key-type", "nsid-glob",     "at-uri-general"};

struct VectorFile {
  std::string name;  // file name, e.g. "handle.json"
  json doc;
};

json read_json(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  return json::parse(in);
}

// Every vectors/syntax/*.json file, sorted by name, read once.
const std::vector<VectorFile>& vector_files() {
  static const std::vector<VectorFile> files = [] {
    std::vector<VectorFile> out;
    for (const auto& entry : fs::directory_iterator(kVectorDir)) {
      if (entry.path().extension() == ".json") {
        out.push_back({entry.path().filename().string(), read_json(entry.path())});
      }
    }
    std::sort(out.begin(), out.end(),
              [](const VectorFile& a, const VectorFile& b) { return a.name < b.name; });
    return out;
  }();
  return files;
}

std::set<std::string> catalog_ids() {
  std::set<std::string> ids;
  for (const auto& entry : fs::directory_iterator(kCatalogDir)) {
    if (entry.path().extension() != ".json") continue;
    const json doc = read_json(entry.path());
    for (const auto& req : doc.at("requirements")) {
      ids.insert(req.at("id").get<std::string>());
    }
  }
  return ids;
}

std::string case_input(const json& c) {
  if (c.contains("input_hex")) {
    auto bytes = atproto::testing::hex_bytes(c.at("input_hex").get<std::string>());
    return std::string(bytes.begin(), bytes.end());
  }
  return c.at("input").get<std::string>();
}

std::string printable(const std::string& s) {
  std::string out;
  for (char c : s) {
    auto ch = static_cast<unsigned char>(c);
    if (ch >= 0x20 && ch < 0x7f) {
      out.push_back(static_cast<char>(ch));
    } else {
      static const char* digits = "0123456789abcdef";
      out += "\\x";
      out.push_back(digits[ch >> 4]);
      out.push_back(digits[ch & 15]);
    }
  }
  return out.size() > 120 ? out.substr(0, 100) + "...(" + std::to_string(s.size()) + " bytes)"
                          : out;
}

// The verdict of one call, whatever its result type.
struct Outcome {
  bool ok;
  Error error;
};
template <typename R>
Outcome outcome(const R& result) {
  return result.ok() ? Outcome{true, {}} : Outcome{false, result.error()};
}

// Collects what one case got wrong.
class Checker {
 public:
  explicit Checker(const json& c) : case_(c) {}

  // Compares a verdict with the case's "valid" and "error". The reference
  // must return exactly "error"; "alternate_errors" are there for other
  // implementations, which may check rules in another order.
  void verdict(const std::string& what, const Outcome& got) {
    const bool want_valid = case_.at("valid").get<bool>();
    if (want_valid && !got.ok) {
      fail(what + ": expected valid, got error " + got.error.code + " (" + got.error.message + ")");
    } else if (!want_valid && got.ok) {
      fail(what + ": expected error " + case_.at("error").get<std::string>() + ", got valid");
    } else if (!want_valid && got.error.code != case_.at("error").get<std::string>()) {
      fail(what + ": expected error " + case_.at("error").get<std::string>() + ", got " +
           got.error.code + " (" + got.error.message + ")");
    }
  }

  template <typename A, typename B>
  void equal(const std::string& what, const A& got, const B& want) {
    if (!(got == want)) {
      std::ostringstream s;
      s << what << ": expected " << want << ", got " << got;
      fail(s.str());
    }
  }

  void fail(std::string problem) { problems_.push_back(std::move(problem)); }
  const std::vector<std::string>& problems() const { return problems_; }
  const json& c() const { return case_; }
  bool has(const char* key) const { return case_.contains(key); }
  std::string str(const json& j, const char* key) const { return j.at(key).get<std::string>(); }

 private:
  const json& case_;
  std::vector<std::string> problems_;
};

// The direct validator of each format, checked to agree with the dispatcher.
Status direct_validate(const std::string& type, const std::string& input) {
  if (type == "handle") return validate_handle(input);
  if (type == "did") return validate_did(input);
  if (type == "nsid") return validate_nsid(input);
  if (type == "at-uri") return validate_at_uri(input);
  if (type == "tid") return validate_tid(input);
  if (type == "record-key") return validate_record_key(input);
  if (type == "datetime") return validate_datetime(input);
  if (type == "language") return validate_language(input);
  if (type == "cid") return validate_cid_string(input);
  if (type == "at-identifier") return validate_at_identifier(input);
  if (type == "uri") return validate_uri(input);
  throw std::runtime_error("unknown type " + type);
}

// The type-specific parse functions: same verdict, plus the parsed and
// normalized forms for valid inputs.
void check_parse(Checker& k, const std::string& type, const std::string& input) {
  const json& c = k.c();
  const bool valid = c.at("valid").get<bool>();
  if (type == "handle") {
    auto parsed = parse_handle(input);
    k.verdict("parse_handle", outcome(parsed));
    if (valid && parsed.ok() && k.has("normalized")) {
      k.equal("parse_handle", *parsed, k.str(c, "normalized"));
      k.equal("normalize_handle", normalize_handle(input), k.str(c, "normalized"));
    }
  } else if (type == "did") {
    auto parsed = parse_did(input);
    k.verdict("parse_did", outcome(parsed));
    if (valid && parsed.ok()) {
      k.equal("Did::to_string", parsed->to_string(), input);
      if (k.has("parsed")) {
        k.equal("parse_did method", parsed->method, k.str(c.at("parsed"), "method"));
        k.equal("parse_did identifier", parsed->identifier, k.str(c.at("parsed"), "identifier"));
      }
    }
  } else if (type == "nsid") {
    auto parsed = parse_nsid(input);
    k.verdict("parse_nsid", outcome(parsed));
    if (valid && parsed.ok()) {
      k.equal("Nsid::to_string", parsed->to_string(), input);
      if (k.has("parsed")) {
        k.equal("Nsid::authority_domain", parsed->authority_domain(),
                k.str(c.at("parsed"), "authority"));
        k.equal("Nsid::name", parsed->name(), k.str(c.at("parsed"), "name"));
      }
      if (k.has("normalized")) {
        k.equal("normalize_nsid", normalize_nsid(input), k.str(c, "normalized"));
      }
    }
  } else if (type == "at-uri") {
    auto parsed = parse_at_uri(input);
    k.verdict("parse_at_uri", outcome(parsed));
    if (valid && parsed.ok()) {
      k.equal("AtUri::to_string", parsed->to_string(), input);
      if (k.has("parsed")) {
        const json& p = c.at("parsed");
        k.equal("parse_at_uri authority", parsed->authority, k.str(p, "authority"));
        k.equal("parse_at_uri collection", parsed->collection.value_or("<none>"),
                p.contains("collection") ? k.str(p, "collection") : "<none>");
        k.equal("parse_at_uri record_key", parsed->record_key.value_or("<none>"),
                p.contains("record_key") ? k.str(p, "record_key") : "<none>");
      }
      if (k.has("normalized")) {
        k.equal("normalize_at_uri", normalize_at_uri(*parsed), k.str(c, "normalized"));
      }
    }
  } else if (type == "tid") {
    auto integer = tid_to_integer(input);
    auto parts = decode_tid(input);
    if (!valid || k.has("parsed")) {
      k.verdict("tid_to_integer", outcome(integer));
      k.verdict("decode_tid", outcome(parts));
    }
    if (valid && k.has("parsed")) {
      const json& parsed = c.at("parsed");
      if (parts.ok()) {
        k.equal("decode_tid timestamp_us", parts->timestamp_us,
                parsed.at("timestamp_us").get<std::uint64_t>());
        k.equal("decode_tid clock_id", parts->clock_id, parsed.at("clock_id").get<std::uint32_t>());
        auto again = encode_tid(*parts);
        k.equal("encode_tid(decode_tid)", again.ok() ? *again : "<" + again.error().code + ">",
                input);
      }
      if (integer.ok())
        k.equal("tid_to_integer", std::to_string(*integer), k.str(parsed, "integer"));
    } else if (valid) {
      // Valid syntax with bit 63 set (no parsed form): tid.hpp documents that
      // neither the integer nor the parts are read from such a TID.
      k.equal("tid_to_integer", integer.ok() ? "<ok>" : integer.error().code,
              "tid.structure.layout");
      k.equal("decode_tid", parts.ok() ? "<ok>" : parts.error().code, "tid.structure.layout");
    }
  } else if (type == "datetime") {
    auto parsed = parse_datetime(input);
    auto normalized = normalize_datetime(input);
    k.verdict("parse_datetime", outcome(parsed));
    k.verdict("normalize_datetime", outcome(normalized));
    if (valid && parsed.ok() && normalized.ok() && k.has("normalized")) {
      k.equal("normalize_datetime", *normalized, k.str(c, "normalized"));
      k.equal("format_datetime(parse_datetime)", format_datetime(*parsed), k.str(c, "normalized"));
    }
  } else if (type == "language") {
    k.verdict("parse_language", outcome(parse_language(input)));
  }
}

void check_case(Checker& k, const std::string& type, const std::string& operation) {
  const json& c = k.c();
  const std::string input = case_input(c);
  const json policy = c.value("policy", json::object());
  if (operation == "validate") {
    k.verdict("validate_string_format(\"" + type + "\")",
              outcome(validate_string_format(type, input)));
    k.verdict("direct validator", outcome(direct_validate(type, input)));
    check_parse(k, type, input);
  } else if (operation == "handle-usable") {
    HandleUsePolicy p;
    p.allow_test_tld = policy.value("allow_test_tld", false);
    k.verdict("check_handle_usable", outcome(check_handle_usable(input, p)));
  } else if (operation == "did-supported") {
    DidWebPolicy p;
    p.allow_localhost = policy.value("allow_localhost", false);
    k.verdict("check_did_supported", outcome(check_did_supported(input, p)));
  } else if (operation == "record-key-type") {
    k.verdict("validate_record_key_type(\"" + k.str(c, "key_type") + "\")",
              outcome(validate_record_key_type(input, k.str(c, "key_type"))));
  } else if (operation == "nsid-glob") {
    k.verdict("validate_nsid_glob", outcome(validate_nsid_glob(input)));
    for (const auto& m : c.value("matches", json::array())) {
      const std::string nsid = m.at("nsid").get<std::string>();
      k.equal("nsid_glob_matches(pattern, \"" + nsid + "\")", nsid_glob_matches(input, nsid),
              m.at("match").get<bool>());
    }
  } else if (operation == "at-uri-general") {
    auto parsed = parse_at_uri_general(input);
    k.verdict("parse_at_uri_general", outcome(parsed));
    if (parsed.ok() && c.contains("parsed")) {
      const json& p = c.at("parsed");
      k.equal("parse_at_uri_general authority", parsed->authority, k.str(p, "authority"));
      k.equal("parse_at_uri_general path", json(parsed->path).dump(), p.at("path").dump());
      k.equal("parse_at_uri_general query", parsed->query.value_or("<none>"),
              p.contains("query") ? k.str(p, "query") : "<none>");
      k.equal("parse_at_uri_general fragment", parsed->fragment.value_or("<none>"),
              p.contains("fragment") ? k.str(p, "fragment") : "<none>");
    }
  } else {
    throw std::runtime_error("unknown operation " + operation);
  }
}

std::string case_id(const json& c) { return c.value("id", std::string("<no id>")); }

}  // namespace

TEST_CASE("syntax vectors: files have the expected shape", "[vectors]") {
  REQUIRE(!vector_files().empty());
  std::set<std::string> types(kStringFormatNames.begin(), kStringFormatNames.end());
  for (const auto& file : vector_files()) {
    INFO(file.name);
    const json& doc = file.doc;
    CHECK(doc.value("$schema", std::string()) == "../schema/syntax.schema.json");
    CHECK(doc.value("kind", std::string()) == "syntax");
    CHECK(types.count(doc.value("type", std::string())) == 1);
    CHECK(kOperations.count(doc.value("operation", std::string())) == 1);
    REQUIRE(doc.contains("cases"));
    CHECK(!doc.at("cases").empty());
    for (const auto& c : doc.at("cases")) {
      INFO("case " << case_id(c));
      CHECK(c.contains("id"));
      CHECK(c.contains("requirements"));
      CHECK(c.contains("comment"));
      CHECK((c.contains("input") != c.contains("input_hex")));
      REQUIRE(c.contains("valid"));
      CHECK(c.contains("error") != c.at("valid").get<bool>());
    }
  }
}

TEST_CASE("syntax vectors: the reference agrees with every case", "[vectors]") {
  std::size_t checked = 0;
  for (const auto& file : vector_files()) {
    const std::string type = file.doc.at("type").get<std::string>();
    const std::string operation = file.doc.at("operation").get<std::string>();
    for (const auto& c : file.doc.at("cases")) {
      Checker k(c);
      try {
        check_case(k, type, operation);
      } catch (const std::exception& e) {
        k.fail(std::string("exception: ") + e.what());
      }
      for (const auto& problem : k.problems()) {
        std::string shown = c.contains("input") ? printable(c.value("input", std::string()))
                                                : "hex " + c.value("input_hex", std::string());
        FAIL_CHECK(file.name << " case " << case_id(c) << " (input \"" << shown
                             << "\"): " << problem);
      }
      ++checked;
    }
  }
  CHECK(checked > 0);
}

TEST_CASE("syntax vectors: every string format has 40 valid and 40 invalid cases", "[vectors]") {
  std::map<std::string, std::pair<std::size_t, std::size_t>> counts;
  for (const auto& file : vector_files()) {
    if (file.doc.at("operation") != "validate") continue;
    auto& [valid, invalid] = counts[file.doc.at("type").get<std::string>()];
    for (const auto& c : file.doc.at("cases")) {
      (c.at("valid").get<bool>() ? valid : invalid) += 1;
    }
  }
  for (std::string_view name : kStringFormatNames) {
    const auto [valid, invalid] = counts[std::string(name)];
    INFO("format " << name << ": " << valid << " valid, " << invalid << " invalid cases");
    CHECK(valid >= kMinCasesPerVerdict);
    CHECK(invalid >= kMinCasesPerVerdict);
  }
}

TEST_CASE("syntax vectors: case ids are unique", "[vectors]") {
  std::map<std::string, std::string> seen;
  for (const auto& file : vector_files()) {
    for (const auto& c : file.doc.at("cases")) {
      const std::string id = case_id(c);
      auto [it, inserted] = seen.emplace(id, file.name);
      if (!inserted)
        FAIL_CHECK("case id " << id << " in " << file.name << " also in " << it->second);
    }
  }
}

TEST_CASE("syntax vectors: requirement ids and error codes are in the catalog", "[vectors]") {
  const std::set<std::string> catalog = catalog_ids();
  REQUIRE(!catalog.empty());
  for (const auto& file : vector_files()) {
    for (const auto& c : file.doc.at("cases")) {
      const std::string id = case_id(c);
      std::vector<std::string> codes;
      for (const auto& r : c.value("requirements", json::array()))
        codes.push_back(r.get<std::string>());
      if (c.contains("error")) codes.push_back(c.at("error").get<std::string>());
      for (const auto& r : c.value("alternate_errors", json::array()))
        codes.push_back(r.get<std::string>());
      for (const auto& code : codes) {
        if (catalog.count(code) == 0 && kApiCodes.count(code) == 0) {
          FAIL_CHECK(file.name << " case " << id << ": " << code << " is not a catalog id");
        }
      }
      if (c.value("requirements", json::array()).empty() &&
          kApiCodes.count(c.value("error", std::string())) == 0) {
        FAIL_CHECK(file.name << " case " << id << ": names no requirement");
      }
    }
  }
}

// Runs the shared data-layer test vectors (vectors/data/encode.json and
// decode.json) against the reference implementation. The file format is
// described in vectors/README.md; every mismatch is reported with the case id.
//
// encode: the case's JSON goes through record_from_json (strict mode: an
// object at the top), then encode_cbor and cid_of; the bytes and the CID must
// match, or the error code must be the case's "error".
// decode: the case's bytes go through decode_cbor and validate_record; the
// to_json output must equal the case's "json" structurally, the CID of the
// input bytes must match, and re-encoding must give the input back.
//
// Both decoders run every case: decode_cbor_view (cbor_view.hpp) must give
// decode_cbor's verdict and error, and to_value of its view the same value.
//
// Besides the verdicts, this checks the vector set itself: each file has at
// least 40 valid and 40 invalid cases and no duplicate ids.
#include <catch2/catch.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "atproto/common/hex.hpp"
#include "atproto/common/testing.hpp"
#include "atproto/data/cbor.hpp"
#include "atproto/data/cbor_view.hpp"
#include "atproto/data/cid.hpp"
#include "atproto/data/json.hpp"
#include "atproto/data/validate.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace atproto;
using namespace atproto::data;

const fs::path kVectorDir = fs::path(ATPROTO_VECTORS_DIR) / "data";
constexpr std::size_t kMinCasesPerVerdict = 40;

// Cases on which the reference is known to disagree with the vector. Each
// entry says why; the test reports them as warnings, and fails as soon as a
// listed case passes, so the list never goes stale.
// Cases the reference is known to get wrong, each with the reason. Empty
// now; a listed case that starts passing fails the test so the list stays true.
const std::map<std::string, std::string> kKnownDivergences = {};

json read_json(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  return json::parse(in);
}

const json& vector_file(const std::string& name) {
  static std::map<std::string, json> files;
  auto it = files.find(name);
  if (it == files.end()) it = files.emplace(name, read_json(kVectorDir / name)).first;
  return it->second;
}

using atproto::testing::hex_bytes;

// Parses raw JSON text, refusing an object that repeats a key: parsed JSON
// cannot hold such an object, and a data model map holds each key once
// [data.cbor.map-key-unique]. Returns the code, or "" and the value.
std::string parse_json_text(const std::string& text, json& out) {
  std::vector<std::set<std::string>> keys;  // one set per open object
  bool duplicate = false;
  json::parser_callback_t cb = [&](int, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) {
      keys.emplace_back();
    } else if (event == json::parse_event_t::object_end) {
      keys.pop_back();
    } else if (event == json::parse_event_t::key) {
      if (!keys.back().insert(parsed.get<std::string>()).second) duplicate = true;
    }
    return true;
  };
  out = json::parse(text, cb);
  return duplicate ? "data.cbor.map-key-unique" : "";
}

struct Verdict {
  bool ok = false;
  std::string code;     // error code when !ok
  std::string message;  // error message when !ok
};

// Collects what one case got wrong.
class Checker {
 public:
  explicit Checker(const json& c) : case_(c) {}

  void verdict(const Verdict& got) {
    const bool want_valid = case_.at("valid").get<bool>();
    if (want_valid && !got.ok) {
      fail("expected valid, got error " + got.code + " (" + got.message + ")");
    } else if (!want_valid && got.ok) {
      fail("expected error " + case_.at("error").get<std::string>() + ", got valid");
    } else if (!want_valid && got.code != case_.at("error").get<std::string>()) {
      fail("expected error " + case_.at("error").get<std::string>() + ", got " + got.code + " (" +
           got.message + ")");
    }
  }

  void equal(const std::string& what, const std::string& got, const std::string& want) {
    if (got != want) fail(what + ": expected " + want + ", got " + got);
  }

  void fail(std::string problem) { problems_.push_back(std::move(problem)); }
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  const json& case_;
  std::vector<std::string> problems_;
};

// The tape decoder against the owning one on `bytes`.
void check_view_agrees(Checker& k, const std::vector<std::uint8_t>& bytes,
                       const Result<Value>& owning) {
  CborTape tape;
  auto viewed = decode_cbor_view(bytes, tape);
  if (viewed.ok() != owning.ok()) {
    k.fail(std::string("decode_cbor_view ") + (viewed.ok() ? "accepts" : "refuses") +
           " what decode_cbor " + (owning.ok() ? "accepts" : "refuses"));
  } else if (!owning.ok() && !(viewed.error() == owning.error())) {
    k.fail("decode_cbor_view error " + viewed.error().code + " (" + viewed.error().message +
           ") differs from decode_cbor's " + owning.error().code + " (" + owning.error().message +
           ")");
  } else if (owning.ok() && !(to_value(tape.root()) == *owning)) {
    k.fail("decode_cbor_view decodes a different value from decode_cbor");
  }
}

void check_encode(Checker& k, const json& c) {
  json input;
  if (c.contains("json_text")) {
    std::string code = parse_json_text(c.at("json_text").get<std::string>(), input);
    if (!code.empty()) {
      k.verdict({false, code, "duplicate key in JSON text (checked by this test)"});
      return;
    }
  } else {
    input = c.at("json");
  }
  auto value = record_from_json(input);
  if (!value) {
    k.verdict({false, value.error().code, value.error().message});
    return;
  }
  auto bytes = encode_cbor(*value);
  if (!bytes) {
    k.verdict({false, bytes.error().code, bytes.error().message});
    return;
  }
  check_view_agrees(k, *bytes, decode_cbor(*bytes));
  auto cid = cid_of(*value);
  k.verdict({true, "", ""});
  if (!c.at("valid").get<bool>()) return;
  k.equal("cbor_hex", atproto::hex_encode(*bytes), c.at("cbor_hex").get<std::string>());
  k.equal("cid", cid ? cid->to_string() : "<" + cid.error().code + ">",
          c.at("cid").get<std::string>());
}

void check_decode(Checker& k, const json& c) {
  const auto bytes = hex_bytes(c.at("cbor_hex").get<std::string>());
  auto value = decode_cbor(bytes);
  check_view_agrees(k, bytes, value);
  if (!value) {
    k.verdict({false, value.error().code, value.error().message});
    return;
  }
  if (auto s = validate_record(*value); !s) {
    k.verdict({false, s.error().code, s.error().message});
    return;
  }
  k.verdict({true, "", ""});
  if (!c.at("valid").get<bool>()) return;
  const json got = to_json(*value);
  if (got != c.at("json")) {
    k.fail("json: expected " + c.at("json").dump() + ", got " + got.dump());
  }
  k.equal("cid", Cid::compute(Codec::kDagCbor, bytes).to_string(), c.at("cid").get<std::string>());
  auto again = encode_cbor(*value);
  k.equal("encode_cbor(decode_cbor(input))",
          again ? atproto::hex_encode(*again) : "<" + again.error().code + ">",
          c.at("cbor_hex").get<std::string>());
}

std::string case_id(const json& c) { return c.value("id", std::string("<no id>")); }

void run_file(const std::string& name, const std::string& operation) {
  const json& doc = vector_file(name);
  REQUIRE(doc.value("$schema", std::string()) == "../schema/data.schema.json");
  REQUIRE(doc.value("kind", std::string()) == "data");
  REQUIRE(doc.value("operation", std::string()) == operation);
  std::size_t checked = 0;
  for (const auto& c : doc.at("cases")) {
    const std::string id = case_id(c);
    Checker k(c);
    try {
      if (operation == "encode") {
        check_encode(k, c);
      } else {
        check_decode(k, c);
      }
    } catch (const std::exception& e) {
      k.fail(std::string("exception: ") + e.what());
    }
    auto known = kKnownDivergences.find(id);
    if (known != kKnownDivergences.end()) {
      if (k.problems().empty()) {
        FAIL_CHECK(name << " case " << id
                        << " now passes: remove it from kKnownDivergences in vectors_test.cpp");
      } else {
        WARN(name << " case " << id << ": known divergence (" << known->second
                  << "): " << k.problems().front());
      }
    } else {
      for (const auto& problem : k.problems()) {
        FAIL_CHECK(name << " case " << id << ": " << problem);
      }
    }
    ++checked;
  }
  CHECK(checked > 0);
}

}  // namespace

TEST_CASE("data vectors: encode", "[vectors]") { run_file("encode.json", "encode"); }

TEST_CASE("data vectors: decode", "[vectors]") { run_file("decode.json", "decode"); }

TEST_CASE("data vectors: 40 valid and 40 invalid cases per file, unique ids", "[vectors]") {
  std::set<std::string> ids;
  for (const std::string name : {"encode.json", "decode.json"}) {
    std::size_t valid = 0;
    std::size_t invalid = 0;
    for (const auto& c : vector_file(name).at("cases")) {
      (c.at("valid").get<bool>() ? valid : invalid) += 1;
      const std::string id = case_id(c);
      if (!ids.insert(id).second) FAIL_CHECK(name << ": duplicate case id " << id);
    }
    INFO(name << ": " << valid << " valid, " << invalid << " invalid cases");
    CHECK(valid >= kMinCasesPerVerdict);
    CHECK(invalid >= kMinCasesPerVerdict);
  }
}

// The "interop" suite: replays a checkout of the official
// bluesky-social/atproto-interop-tests files through the adapter, and the
// audit-log fixtures of a did-method-plc checkout. The project does not ship
// those files; users point --interop-tests and --plc-interop-tests at theirs.
//
// Fixture families and the operation each goes through:
//   syntax/<type>_syntax_{valid,invalid}.txt     syntax/validate
//   crypto/signature-fixtures.json               crypto/verify
//   crypto/w3c_didkey_*.json                     crypto/parse-key
//   data-model/data-model-fixtures.json          data/encode and data/decode
//   data-model/data-model-{valid,invalid}.json   data/encode
//   mst/key_heights.json                         mst/key-height
//   firehose/commit-proof-fixtures.json          mst/proof
//   lexicon/lexicon-*.json, lexicon/catalog/     lexicon/validate-schema
//   lexicon/record-data-*.json                   lexicon/validate-record
//   (did-method-plc) interop_tests/audit_log/    plc/validate-log
// A family missing from a checkout (older ones lack some) adds no cases.
//
// Where our reference and a fixture disagree for a reason we have decided,
// conformance/interop-reviews.json says why, citing the spec; a case that
// review names is graded by it (informational or non-strict) instead of
// failing, and its report carries the review.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>

#include "atproto/data/base64.hpp"
#include "atproto/syntax/format.hpp"
#include "reference_ops.hpp"
#include "runner.hpp"
#include "suites.hpp"
#include "utf8.hpp"

namespace atproto::conformance {
namespace {

namespace fs = std::filesystem;

// The interop file prefixes, mapped to our Lexicon format names.
const std::map<std::string, std::string>& interop_types() {
  static const std::map<std::string, std::string> kTypes = {{"aturi", "at-uri"},
                                                            {"at_uri", "at-uri"},
                                                            {"atidentifier", "at-identifier"},
                                                            {"at_identifier", "at-identifier"},
                                                            {"cid", "cid"},
                                                            {"datetime", "datetime"},
                                                            {"did", "did"},
                                                            {"handle", "handle"},
                                                            {"language", "language"},
                                                            {"nsid", "nsid"},
                                                            {"recordkey", "record-key"},
                                                            {"record_key", "record-key"},
                                                            {"tid", "tid"},
                                                            {"uri", "uri"}};
  return kTypes;
}

std::string printable(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

// A case id segment from a fixture's own name: lowercase letters and digits,
// other runs of characters become one '-'.
std::string slug(const std::string& name) {
  std::string out;
  for (unsigned char ch : name) {
    if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) {
      out += static_cast<char>(ch);
    } else if (ch >= 'A' && ch <= 'Z') {
      out += static_cast<char>(ch - 'A' + 'a');
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.empty() ? "unnamed" : out;
}

// Ids for the entries of one fixture file: the slug of each entry's name,
// plus a hash of the entry when two entries share a name (so ids never
// depend on the order of entries).
std::vector<std::string> entry_ids(const json& entries, const char* name_field) {
  std::vector<std::string> ids;
  std::map<std::string, int> seen;
  for (const auto& e : entries) {
    std::string name = e.is_object() && e.contains(name_field) && e[name_field].is_string()
                           ? e[name_field].get<std::string>()
                           : "";
    ids.push_back(slug(name));
    ++seen[ids.back()];
  }
  std::size_t i = 0;
  for (const auto& e : entries) {
    if (seen[ids[i]] > 1) ids[i] += "." + stable_hash_hex(printable(e), 8);
    ++i;
  }
  return ids;
}

// Reads a JSON file; discarded on a read or parse error.
json read_json(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return json(json::value_t::discarded);
  return json::parse(in, nullptr, false);
}

std::vector<fs::path> files_in(const fs::path& dir, const std::string& prefix,
                               const std::string& extension) {
  std::vector<fs::path> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    if (e.path().extension() == extension && name.starts_with(prefix)) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// How one answer compares with the fixture.
struct Judgement {
  enum class Kind { kAgree, kDisagree, kMalformed } kind = Kind::kAgree;
  std::string message;
};
Judgement agree() { return {}; }
Judgement disagree(std::string why) { return {Judgement::Kind::kDisagree, std::move(why)}; }
Judgement malformed(std::string why) { return {Judgement::Kind::kMalformed, std::move(why)}; }

using Compare = std::function<Judgement(const json& body)>;

// A case that sends one request and judges the answer.
Case exchange_case(std::string id, std::string operation, std::string description, json request,
                   json expected, Compare compare) {
  Case c;
  c.id = std::move(id);
  c.suite = "interop";
  c.kind = CaseKind::kInterop;
  c.level = Level::kMust;
  c.operation = operation;
  c.description = std::move(description);
  c.run = [operation, request = std::move(request), expected = std::move(expected),
           compare = std::move(compare)](RunContext& ctx) {
    Verdict v;
    Response r = ctx.target.call(operation, request);
    v.operation = operation;
    v.sent = request;
    v.http_status = r.status;
    v.received = r.body.is_discarded() ? json(r.raw_body) : r.body;
    v.expected = expected;
    v.calls = 1;
    if (!r.transport_error.empty()) {
      v.state = Verdict::State::kAdapterError;
      v.message = "no answer from the adapter: " + r.transport_error;
    } else if (r.status == 501) {
      v.state = Verdict::State::kUnsupported;
      v.message = "the adapter answered 501";
    } else if (r.status != 200 || !r.body.is_object()) {
      v.state = Verdict::State::kAdapterError;
      v.message =
          "the adapter did not answer with a verdict (HTTP " + std::to_string(r.status) + ")";
      if (r.body.is_object() && r.body.contains("error") && r.body["error"].is_string()) {
        v.message += ": " + r.body["error"].get<std::string>();
      }
    } else {
      Judgement j = compare(r.body);
      if (j.kind == Judgement::Kind::kMalformed) {
        v.state = Verdict::State::kAdapterError;
        v.message = "malformed answer: " + j.message;
      } else if (j.kind == Judgement::Kind::kDisagree) {
        v.state = Verdict::State::kMismatch;
        v.message = j.message;
      }
    }
    return v;
  };
  return c;
}

// Compares a boolean member of the answer with the fixture's verdict.
Compare expect_bool(const std::string& member, bool want, std::string what) {
  return [member, want, what = std::move(what)](const json& body) {
    if (!body.contains(member) || !body[member].is_boolean()) {
      return malformed("no boolean \"" + member + "\"");
    }
    if (body[member].get<bool>() == want) return agree();
    std::string why =
        "the fixture expects " + what + (want ? " to be accepted" : " to be rejected");
    if (body.contains("error") && body["error"].is_string()) {
      why += "; the adapter said: " + body["error"].get<std::string>();
    }
    return disagree(why);
  };
}

// Fixture bytes are base64 (standard alphabet, padding optional).
std::optional<std::vector<std::uint8_t>> base64_bytes(const json& text) {
  if (!text.is_string()) return std::nullopt;
  auto bytes = data::base64_decode(text.get<std::string>());
  if (!bytes.ok()) return std::nullopt;
  return std::move(bytes).value();
}

// syntax/: one value per line ('#' comments and blank lines skipped); the
// file name gives type and verdict: <type>_syntax_valid.txt,
// <type>_syntax_invalid.txt, datetime_parse_invalid.txt.
void add_syntax_cases(const fs::path& root, std::vector<Case>& cases) {
  std::vector<fs::path> files = files_in(root / "syntax", "", ".txt");
  for (const auto& path : files) {
    std::string stem = path.stem().string();
    bool valid;
    std::string prefix;
    if (stem.size() > 13 && stem.ends_with("_syntax_valid")) {
      valid = true;
      prefix = stem.substr(0, stem.size() - 13);
    } else if (stem.size() > 15 && stem.ends_with("_syntax_invalid")) {
      valid = false;
      prefix = stem.substr(0, stem.size() - 15);
    } else if (stem == "datetime_parse_invalid") {
      // Datetimes that look right but name no real moment: the Lexicon
      // datetime format rejects them. (Other *_parse_invalid files concern
      // method-level parsing that syntax/validate does not cover.)
      valid = false;
      prefix = "datetime";
    } else {
      continue;
    }
    auto type_it = interop_types().find(prefix);
    if (type_it == interop_types().end()) continue;
    const std::string type = type_it->second;
    std::ifstream in(path);
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
      ++number;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty() || line[0] == '#') continue;
      // Stable across edits of other lines: the id hashes the value itself.
      std::string id = "interop.syntax." + stem + "." + stable_hash_hex(line, 12);
      std::string description = (valid ? "accept " : "reject ") + type + " " +
                                printable(json(line)) + " (" + path.filename().string() + ":" +
                                std::to_string(number) + ")";
      Case c = exchange_case(std::move(id), "syntax/validate", std::move(description),
                             json{{"type", type}, {"value", line}}, json{{"valid", valid}},
                             expect_bool("valid", valid, "the " + type));
      if (!is_valid_utf8(line)) {
        // The protocol carries values as JSON strings.
        c.run = [](RunContext&) {
          Verdict v;
          v.state = Verdict::State::kUnsupported;
          v.message = "the line is not valid UTF-8, so it cannot be sent as a JSON string";
          return v;
        };
      }
      cases.push_back(std::move(c));
    }
  }
}

// crypto/signature-fixtures.json: a message, a public key and a signature,
// and whether atproto's strict verification accepts the signature.
void add_signature_cases(const fs::path& root, std::vector<Case>& cases) {
  fs::path path = root / "crypto" / "signature-fixtures.json";
  json doc = read_json(path);
  if (!doc.is_array()) return;
  for (const auto& f : doc) {
    if (!f.is_object() || !f.contains("signatureBase64") || !f["signatureBase64"].is_string() ||
        !f.contains("validSignature") || !f["validSignature"].is_boolean()) {
      continue;
    }
    json request{{"publicKey", f.value("publicKeyDid", "")},
                 {"message", f.value("messageBase64", "")},
                 {"signature", f["signatureBase64"]}};
    bool valid = f["validSignature"].get<bool>();
    cases.push_back(exchange_case("interop.crypto.signature-fixtures." +
                                      stable_hash_hex(f["signatureBase64"].get<std::string>(), 12),
                                  "crypto/verify",
                                  (valid ? "accept " : "reject ") + std::string("the signature: ") +
                                      f.value("comment", "") + " (crypto/signature-fixtures.json)",
                                  request, json{{"valid", valid}},
                                  expect_bool("valid", valid, "the signature")));
  }
}

// crypto/w3c_didkey_*.json: private keys and their did:key. The protocol has
// no private-key operation, so the did:key is parsed and its curve checked
// (the file name names it: K256 or P256).
void add_didkey_cases(const fs::path& root, std::vector<Case>& cases) {
  for (const auto& path : files_in(root / "crypto", "w3c_didkey_", ".json")) {
    std::string stem = path.stem().string();
    std::string algorithm = stem.ends_with("K256")   ? "ES256K"
                            : stem.ends_with("P256") ? "ES256"
                                                     : "";
    json doc = read_json(path);
    if (!doc.is_array() || algorithm.empty()) continue;
    for (const auto& f : doc) {
      if (!f.is_object() || !f.contains("publicDidKey") || !f["publicDidKey"].is_string()) continue;
      std::string did_key = f["publicDidKey"].get<std::string>();
      std::string suffix = did_key.starts_with("did:key:") ? did_key.substr(8) : did_key;
      cases.push_back(exchange_case(
          "interop.crypto." + stem + "." + slug(suffix), "crypto/parse-key",
          "parse " + did_key + " as an " + algorithm + " key (" + path.filename().string() + ")",
          json{{"didKey", did_key}}, json{{"ok", true}, {"algorithm", algorithm}},
          [algorithm](const json& body) {
            if (!body.contains("ok") || !body["ok"].is_boolean())
              return malformed("no boolean \"ok\"");
            if (!body["ok"].get<bool>()) return disagree("the fixture's did:key was rejected");
            if (body.value("algorithm", "") != algorithm) {
              return disagree("the key is " + algorithm + ", the adapter says " +
                              printable(body.value("algorithm", json())));
            }
            return agree();
          }));
    }
  }
}

// data-model/data-model-fixtures.json: a JSON value, its DRISL-CBOR bytes and
// CID, checked both ways.
void add_data_model_fixture_cases(const fs::path& root, std::vector<Case>& cases) {
  json doc = read_json(root / "data-model" / "data-model-fixtures.json");
  if (!doc.is_array()) return;
  for (const auto& f : doc) {
    if (!f.is_object() || !f.contains("json") || !f.contains("cid") || !f["cid"].is_string()) {
      continue;
    }
    auto cbor = base64_bytes(f.value("cbor_base64", json()));
    if (!cbor) continue;
    std::string cid = f["cid"].get<std::string>();
    std::string base = "interop.data-model.fixtures." + slug(cid);
    cases.push_back(exchange_case(base + ".encode", "data/encode",
                                  "encode the JSON of " + cid + " (data-model-fixtures.json)",
                                  json{{"json", f["json"]}},
                                  json{{"ok", true}, {"cbor", padded_base64(*cbor)}, {"cid", cid}},
                                  [want = *cbor, cid](const json& body) {
                                    if (!body.contains("ok") || !body["ok"].is_boolean())
                                      return malformed("no boolean \"ok\"");
                                    if (!body["ok"].get<bool>())
                                      return disagree("the fixture's JSON was rejected");
                                    auto got = base64_bytes(body.value("cbor", json()));
                                    if (!got) return malformed("\"cbor\" is not base64");
                                    if (*got != want)
                                      return disagree("the CBOR bytes differ from the fixture's");
                                    if (body.value("cid", "") != cid)
                                      return disagree("the CID differs from the fixture's");
                                    return agree();
                                  }));
    cases.push_back(exchange_case(base + ".decode", "data/decode",
                                  "decode the CBOR of " + cid + " (data-model-fixtures.json)",
                                  json{{"cbor", padded_base64(*cbor)}},
                                  json{{"ok", true}, {"json", f["json"]}, {"cid", cid}},
                                  [want = f["json"], cid](const json& body) {
                                    if (!body.contains("ok") || !body["ok"].is_boolean())
                                      return malformed("no boolean \"ok\"");
                                    if (!body["ok"].get<bool>())
                                      return disagree("the fixture's CBOR was rejected");
                                    if (body.value("cid", "") != cid)
                                      return disagree("the CID differs from the fixture's");
                                    if (body.value("json", json()) != want)
                                      return disagree("the JSON differs from the fixture's");
                                    return agree();
                                  }));
  }
}

// data-model/data-model-{valid,invalid}.json: whether a JSON value is valid
// atproto data (a top-level object in strict mode, as data/encode takes it).
void add_data_model_validity_cases(const fs::path& root, std::vector<Case>& cases) {
  for (const char* verdict : {"valid", "invalid"}) {
    const bool valid = std::string(verdict) == "valid";
    std::string file = std::string("data-model-") + verdict + ".json";
    json doc = read_json(root / "data-model" / file);
    if (!doc.is_array()) continue;
    auto ids = entry_ids(doc, "note");
    for (std::size_t i = 0; i < doc.size(); ++i) {
      const json& f = doc[i];
      if (!f.is_object() || !f.contains("json")) continue;
      cases.push_back(exchange_case(
          "interop.data-model." + std::string(verdict) + "." + ids[i], "data/encode",
          std::string(valid ? "accept" : "reject") + " \"" + f.value("note", "") + "\" (" + file +
              ")",
          json{{"json", f["json"]}}, json{{"ok", valid}}, expect_bool("ok", valid, "the value")));
    }
  }
}

// mst/key_heights.json: a key and its MST height.
void add_key_height_cases(const fs::path& root, std::vector<Case>& cases) {
  json doc = read_json(root / "mst" / "key_heights.json");
  if (!doc.is_array()) return;
  for (const auto& f : doc) {
    if (!f.is_object() || !f.contains("key") || !f["key"].is_string() || !f.contains("height") ||
        !f["height"].is_number_integer()) {
      continue;
    }
    std::string key = f["key"].get<std::string>();
    int height = f["height"].get<int>();
    cases.push_back(
        exchange_case("interop.mst.key_heights." + stable_hash_hex(key, 12), "mst/key-height",
                      "height " + std::to_string(height) + " of key " + printable(json(key)) +
                          " (key_heights.json)",
                      json{{"key", key}}, json{{"height", height}}, [height](const json& body) {
                        if (!body.contains("height") || !body["height"].is_number_integer()) {
                          return malformed("no integer \"height\"");
                        }
                        if (body["height"].get<int>() == height) return agree();
                        return disagree("the fixture says height " + std::to_string(height) +
                                        ", the adapter " + body["height"].dump());
                      }));
  }
}

// firehose/commit-proof-fixtures.json: a tree (every key maps to leafValue),
// operations, the roots before and after, and blocks the proof must carry.
void add_commit_proof_cases(const fs::path& root, std::vector<Case>& cases) {
  json doc = read_json(root / "firehose" / "commit-proof-fixtures.json");
  if (!doc.is_array()) return;
  auto ids = entry_ids(doc, "comment");
  for (std::size_t i = 0; i < doc.size(); ++i) {
    const json& f = doc[i];
    if (!f.is_object()) continue;
    json request{{"keys", f.value("keys", json::array())},
                 {"leafValue", f.value("leafValue", "")},
                 {"adds", f.value("adds", json::array())},
                 {"dels", f.value("dels", json::array())}};
    json expected{{"rootBeforeCommit", f.value("rootBeforeCommit", "")},
                  {"rootAfterCommit", f.value("rootAfterCommit", "")},
                  {"blocksInProof", f.value("blocksInProof", json::array())}};
    cases.push_back(exchange_case(
        "interop.firehose.commit-proof." + ids[i], "mst/proof",
        "commit proof: " + f.value("comment", "") + " (commit-proof-fixtures.json)", request,
        expected, [expected](const json& body) {
          for (const char* member : {"rootBeforeCommit", "rootAfterCommit"}) {
            if (!body.contains(member) || !body[member].is_string()) {
              return malformed(std::string("no string \"") + member + "\"");
            }
            if (body[member] != expected[member]) {
              return disagree(std::string(member) + " " + body[member].get<std::string>() +
                              " differs from the fixture's");
            }
          }
          if (!body.contains("blocksInProof") || !body["blocksInProof"].is_array()) {
            return malformed("no array \"blocksInProof\"");
          }
          std::set<std::string> got;
          for (const auto& b : body["blocksInProof"]) {
            if (b.is_string()) got.insert(b.get<std::string>());
          }
          for (const auto& b : expected["blocksInProof"]) {
            if (b.is_string() && !got.count(b.get<std::string>())) {
              return disagree("the proof lacks block " + b.get<std::string>());
            }
          }
          return agree();
        }));
  }
}

// Files <dir>/<prefix>valid.json and <dir>/<prefix>invalid.json (any name
// ending so): hands each entry that has `member`, with its case id suffix
// ("<file stem>.<entry id>") and the file's verdict, to `each`.
void for_each_verdict_entry(const fs::path& dir, const std::string& prefix, const char* member,
                            const std::function<void(const json& entry, const std::string& id,
                                                     bool valid, const std::string& file)>& each) {
  for (const auto& path : files_in(dir, prefix, ".json")) {
    std::string stem = path.stem().string();
    const bool valid = stem.ends_with("-valid");
    if (!valid && !stem.ends_with("-invalid")) continue;
    json doc = read_json(path);
    if (!doc.is_array()) continue;
    auto ids = entry_ids(doc, "name");
    for (std::size_t i = 0; i < doc.size(); ++i) {
      if (!doc[i].is_object() || !doc[i].contains(member)) continue;
      each(doc[i], stem + "." + ids[i], valid, path.filename().string());
    }
  }
}

// lexicon/: schema documents (lexicon-{valid,invalid}.json and the catalog
// documents, which the record fixtures rely on and so must be valid) and
// records against the catalog (record-data-{valid,invalid}.json).
void add_lexicon_cases(const fs::path& root, std::vector<Case>& cases) {
  fs::path dir = root / "lexicon";
  for_each_verdict_entry(
      dir, "lexicon-", "lexicon",
      [&](const json& f, const std::string& id, bool valid, const std::string& file) {
        cases.push_back(exchange_case("interop.lexicon." + id, "lexicon/validate-schema",
                                      std::string(valid ? "accept" : "reject") + " the Lexicon \"" +
                                          f.value("name", "") + "\" (" + file + ")",
                                      json{{"lexicon", f["lexicon"]}}, json{{"valid", valid}},
                                      expect_bool("valid", valid, "the Lexicon document")));
      });
  json catalog = json::array();
  for (const auto& path : files_in(dir / "catalog", "", ".json")) {
    json doc = read_json(path);
    if (doc.is_discarded()) continue;
    catalog.push_back(doc);
    cases.push_back(exchange_case("interop.lexicon.catalog." + slug(path.stem().string()),
                                  "lexicon/validate-schema",
                                  "accept the catalog document " + path.filename().string() +
                                      " (the record fixtures are checked against it)",
                                  json{{"lexicon", doc}}, json{{"valid", true}},
                                  expect_bool("valid", true, "the catalog document")));
  }
  // The fixture's rkey is not sent: the protocol's record check has no record
  // key (docs/adapter-protocol.md).
  for_each_verdict_entry(
      dir, "record-data-", "data",
      [&](const json& f, const std::string& id, bool valid, const std::string& file) {
        cases.push_back(
            exchange_case("interop.lexicon." + id, "lexicon/validate-record",
                          std::string(valid ? "accept" : "reject") + " the record \"" +
                              f.value("name", "") + "\" (" + file + ", against lexicon/catalog/)",
                          json{{"lexicons", catalog}, {"record", f["data"]}},
                          json{{"valid", valid}}, expect_bool("valid", valid, "the record")));
      });
}

// did-method-plc interop_tests/audit_log/{valid,invalid}/*.json: the audit
// log of one DID as a PLC directory serves it, and whether it is valid.
// Without plc/validate-log in the adapter's capabilities the runner reports
// these cases as skipped, saying so.
void add_plc_cases(const fs::path& checkout, std::vector<Case>& cases) {
  fs::path dir = checkout / "interop_tests" / "audit_log";
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) dir = checkout / "audit_log";
  for (const char* verdict : {"valid", "invalid"}) {
    const bool valid = std::string(verdict) == "valid";
    for (const auto& path : files_in(dir / verdict, "", ".json")) {
      json log = read_json(path);
      if (!log.is_array() || log.empty() || !log[0].is_object()) continue;
      json request{{"did", log[0].value("did", "")}, {"log", log}};
      cases.push_back(exchange_case(
          "interop.plc.audit_log." + std::string(verdict) + "." + slug(path.stem().string()),
          "plc/validate-log",
          std::string(valid ? "accept" : "reject") + " the audit log " + path.filename().string() +
              " (" + std::to_string(log.size()) + " operations)",
          request, json{{"valid", valid}}, expect_bool("valid", valid, "the audit log")));
    }
  }
}

// One decided review from conformance/interop-reviews.json.
struct Review {
  std::string pattern;  // a case id, or a glob over case ids
  Level level = Level::kMay;
  // What the review explains: a verdict that differs from the fixture's
  // ("disagreement"), or the adapter refusing the fixture's request with
  // HTTP 400 ("refusal"), for instance because a document it needs is one
  // the spec does not allow.
  bool refusal = false;
  std::string summary;
};

std::string load_reviews(const std::string& file, std::vector<Review>& reviews) {
  if (file.empty()) return "";
  json doc = read_json(file);
  if (!doc.is_object() || !doc.contains("reviews") || !doc["reviews"].is_array()) {
    return "malformed interop reviews file " + file;
  }
  for (const auto& r : doc["reviews"]) {
    if (!r.is_object() || !r.contains("case") || !r["case"].is_string() || !r.contains("reason") ||
        !r["reason"].is_string() || !r.contains("spec") || !r["spec"].is_array() ||
        r["spec"].empty()) {
      return "malformed review in " + file + ": " + printable(r);
    }
    Review review;
    review.pattern = r["case"].get<std::string>();
    std::string grade = r.value("grade", "");
    if (grade == "informational") {
      review.level = Level::kMay;
    } else if (grade == "non-strict") {
      review.level = Level::kShould;
    } else {
      return "review of " + review.pattern + " has an unknown grade " +
             printable(r.value("grade", json()));
    }
    std::string on = r.value("on", "disagreement");
    if (on != "disagreement" && on != "refusal") {
      return "review of " + review.pattern + " has an unknown \"on\" " + printable(json(on));
    }
    review.refusal = on == "refusal";
    review.summary = "reviewed (" + grade + "): " + r["reason"].get<std::string>() + " See";
    for (const auto& url : r["spec"]) {
      if (!url.is_string()) return "malformed spec link in the review of " + review.pattern;
      review.summary += " " + url.get<std::string>();
    }
    reviews.push_back(std::move(review));
  }
  return "";
}

// A reviewed case: what a review explains is graded by that review's level
// and the report carries the review (the first of `matching` that explains
// the verdict). Anything else is graded as usual.
void apply_reviews(Case& c, std::vector<Review> matching) {
  c.run = [inner = std::move(c.run), matching = std::move(matching)](RunContext& ctx) {
    Verdict v = inner(ctx);
    for (const auto& review : matching) {
      bool explains = review.refusal
                          ? v.state == Verdict::State::kAdapterError && v.http_status == 400
                          : v.state == Verdict::State::kMismatch;
      if (!explains) continue;
      v.state = Verdict::State::kMismatch;
      v.level = review.level;
      v.message += "; " + review.summary;
      break;
    }
    return v;
  };
}

}  // namespace

std::vector<Case> build_interop_suite(const SuiteSources& sources, std::string& error) {
  std::vector<Case> cases;
  if (!sources.interop_tests_dir.empty()) {
    fs::path root(sources.interop_tests_dir);
    std::error_code ec;
    if (!fs::is_directory(root, ec)) {
      error = "the interop tests checkout " + sources.interop_tests_dir + " is not a folder";
      return {};
    }
    add_syntax_cases(root, cases);
    add_signature_cases(root, cases);
    add_didkey_cases(root, cases);
    add_data_model_fixture_cases(root, cases);
    add_data_model_validity_cases(root, cases);
    add_key_height_cases(root, cases);
    add_commit_proof_cases(root, cases);
    add_lexicon_cases(root, cases);
    if (cases.empty()) {
      error = "no usable fixture files in the interop tests checkout " + sources.interop_tests_dir;
      return {};
    }
  }
  if (!sources.plc_interop_tests_dir.empty()) {
    std::size_t before = cases.size();
    add_plc_cases(sources.plc_interop_tests_dir, cases);
    if (cases.size() == before) {
      error = "no audit-log fixtures (interop_tests/audit_log/{valid,invalid}/*.json) in " +
              sources.plc_interop_tests_dir;
      return {};
    }
  }
  std::vector<Review> reviews;
  if (std::string err = load_reviews(sources.interop_reviews_file, reviews); !err.empty()) {
    error = err;
    return {};
  }
  for (auto& c : cases) {
    std::vector<Review> matching;
    for (const auto& review : reviews) {
      if (glob_match(review.pattern, c.id)) matching.push_back(review);
    }
    if (!matching.empty()) apply_reviews(c, std::move(matching));
  }
  return cases;
}

}  // namespace atproto::conformance

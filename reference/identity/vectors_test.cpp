// Runs the shared did:plc and DID document vectors (vectors/plc/*.json)
// against the reference. The format is described in vectors/README.md; every
// mismatch is reported with the case id.
//
// audit-log: parse_audit_log then validate_audit_log; the verdict, the error
// code (or one of the alternates) and the DID document must match. A valid
// log ending in a tombstone ("tombstoned": true) has no document:
// validate_audit_log, which resolves the document, fails with exactly
// plc.tombstoned, and only after every rule held.
// operation: parse_plc_operation then validate_plc_operation; valid cases
// must give the same unsigned DAG-CBOR, CID and (genesis) DID.
// did-document: parse_did_document, then the signing key, PDS and handle.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "atproto/identity/did_document.hpp"
#include "atproto/identity/plc.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace atproto;
using namespace atproto::identity;

const fs::path kVectorDir = fs::path(ATPROTO_VECTORS_DIR) / "plc";

json read_file(const std::string& name) {
  std::ifstream in(kVectorDir / name);
  if (!in) throw std::runtime_error("cannot open " + (kVectorDir / name).string());
  return json::parse(in);
}

std::string to_hex(const std::vector<std::uint8_t>& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (auto b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

bool error_matches(const json& c, const std::string& code) {
  if (c.at("error") == code) return true;
  for (const auto& alt : c.value("alternate_errors", json::array())) {
    if (alt == code) return true;
  }
  return false;
}

Result<DidDocument> run_log(const json& c) {
  auto log = parse_audit_log(c.at("log"));
  if (!log) return log.error();
  return validate_audit_log(c.at("did").get<std::string>(), *log);
}

}  // namespace

TEST_CASE("vectors: did:plc audit logs", "[vectors][plc]") {
  auto doc = read_file("audit-log.json");
  int valid = 0, invalid = 0, tombstoned = 0;
  for (const auto& c : doc.at("cases")) {
    INFO("case " << c.at("id").get<std::string>());
    auto result = run_log(c);
    if (c.at("valid") && c.value("tombstoned", false)) {
      // [plc.tombstoned] Valid, deactivated: no document to compare.
      ++tombstoned;
      CHECK_FALSE(c.contains("document"));
      REQUIRE_FALSE(result.ok());
      INFO("got " << result.error().code << ": " << result.error().message);
      CHECK(result.error().code == "plc.tombstoned");
    } else if (c.at("valid")) {
      ++valid;
      INFO((result.ok() ? std::string() : result.error().code + ": " + result.error().message));
      REQUIRE(result.ok());
      CHECK(to_json(*result) == c.at("document"));
    } else {
      ++invalid;
      REQUIRE_FALSE(result.ok());
      INFO("got " << result.error().code << ": " << result.error().message);
      CHECK(error_matches(c, result.error().code));
    }
  }
  CHECK(valid >= 10);
  CHECK(tombstoned >= 1);
  CHECK(invalid >= 30);
}

TEST_CASE("vectors: did:plc operations", "[vectors][plc]") {
  auto doc = read_file("operation.json");
  for (const auto& c : doc.at("cases")) {
    INFO("case " << c.at("id").get<std::string>());
    auto op = parse_plc_operation(c.at("operation"));
    Status status = op ? validate_plc_operation(*op) : Status(op.error());
    if (!c.at("valid")) {
      REQUIRE_FALSE(status.ok());
      CHECK(status.error().code == c.at("error"));
      continue;
    }
    INFO((status.ok() ? std::string() : status.error().code + ": " + status.error().message));
    REQUIRE(status.ok());
    CHECK(to_json(*op) == c.at("operation"));
    CHECK(to_hex(unsigned_operation_bytes(*op).value()) == c.at("unsigned_cbor"));
    CHECK(plc_operation_cid(*op).value() == c.at("cid"));
    if (c.contains("did")) CHECK(did_for_genesis(*op).value() == c.at("did"));
  }
}

TEST_CASE("vectors: DID documents", "[vectors][did-document]") {
  auto doc = read_file("did-document.json");
  for (const auto& c : doc.at("cases")) {
    INFO("case " << c.at("id").get<std::string>());
    auto parsed = parse_did_document(c.at("document"));
    if (!c.at("valid")) {
      REQUIRE_FALSE(parsed.ok());
      CHECK(parsed.error().code == c.at("error"));
      continue;
    }
    REQUIRE(parsed.ok());
    auto key = atproto_signing_key(*parsed);
    json key_json = key ? json(key->did_key()) : json(nullptr);
    CHECK(key_json == c.at("signing_key"));
    auto pds = atproto_pds_endpoint(*parsed);
    CHECK((pds ? json(*pds) : json(nullptr)) == c.at("pds"));
    auto handle = claimed_handle(*parsed);
    CHECK((handle ? json(*handle) : json(nullptr)) == c.at("handle"));
  }
}

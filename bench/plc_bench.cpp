// bench-plc: validating a did:plc audit log of 100 operations (issue 11),
// next to @did-plc/lib (bench/typescript/plc.mjs) on the same logs.
//
// Usage: bench-plc DIR   writes DIR/plc.json (two logs: one signed with a
//                        K-256 rotation key, one with a P-256 key), then
//                        measures and prints JSON lines.
//
// Ids (the TypeScript side uses the same ones):
//   plc.validate-log.100.<curve>  a genesis operation and 99 updates, each
//       signed by the previous operation's rotation key; from the parsed JSON
//       (parse_audit_log + validate_audit_log: every rule, the DID, CIDs,
//       signatures, the document). The TypeScript side runs
//       validateOperationLog(did, operations), the library's own check of a
//       log without forks.
#include <filesystem>
#include <fstream>
#include <iostream>

#include "atproto/identity/plc.hpp"
#include "atproto/identity/test_generators.hpp"
#include "bench.hpp"

namespace {

using nlohmann::json;
namespace bench = atproto::bench;
namespace identity = atproto::identity;
using identity::testing::LogBuilder;

// A genesis operation and `updates` handle changes, all signed by `signer`
// (the second of two rotation keys), an hour apart.
LogBuilder hundred_operation_log(const identity::testing::TestKey& recovery,
                                 const identity::testing::TestKey& signer, int updates) {
  LogBuilder log;
  auto t = identity::testing::test_epoch();
  const std::vector<std::string> keys = {recovery.did_key, signer.did_key};
  auto prev = log.append(
      identity::testing::regular_operation(keys, signer.did_key, "user0.test", std::nullopt),
      signer.key, t);
  for (int i = 1; i <= updates; ++i) {
    prev = log.append(identity::testing::regular_operation(
                          keys, signer.did_key, "user" + std::to_string(i) + ".test", prev),
                      signer.key, t + std::chrono::hours(i));
  }
  return log;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: bench-plc DIR\n";
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  const auto recovery = identity::testing::test_key(atproto::crypto::Curve::kK256, 41);
  json inputs = json::object();
  struct Variant {
    std::string curve;
    LogBuilder log;
  };
  std::vector<Variant> variants;
  variants.push_back(
      {"k256", hundred_operation_log(
                   recovery, identity::testing::test_key(atproto::crypto::Curve::kK256, 42), 99)});
  variants.push_back(
      {"p256", hundred_operation_log(
                   recovery, identity::testing::test_key(atproto::crypto::Curve::kP256, 43), 99)});
  for (const auto& v : variants) inputs[v.curve] = {{"did", v.log.did()}, {"log", v.log.to_json()}};
  std::ofstream(dir / "plc.json") << inputs.dump();

  for (const auto& v : variants) {
    const json& log_json = inputs[v.curve]["log"];
    const std::string did = v.log.did();
    auto check_of = [&] {
      auto log = identity::parse_audit_log(log_json);
      if (!log) return "invalid: " + log.error().code;
      auto doc = identity::validate_audit_log(did, *log);
      if (!doc) return "invalid: " + doc.error().code;
      return "valid " + doc->also_known_as.at(0);
    };
    const std::string check = check_of();
    bench::measure({"plc.validate-log.100." + v.curve,
                    "validate a 100-operation audit log, " + v.curve + " signatures",
                    log_json.dump().size(), 20},
                   check, [&] {
                     auto log = identity::parse_audit_log(log_json);
                     auto doc = identity::validate_audit_log(did, *log);
                     bench::keep(doc.ok());
                   });
  }
  return 0;
}

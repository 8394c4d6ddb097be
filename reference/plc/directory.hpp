// The PLC directory's HTTP API over a PlcStore: resolve, data, log, audit
// log, last operation, submit and export, as the did:plc specification and
// its OpenAPI description (shared/atproto-spec/plc-server-openapi3.yaml)
// define them. https://web.plc.directory/spec/v0.1/did-plc
//
// Every submitted operation is checked by the identity library
// (check_plc_submission) inside the store's write transaction.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "atproto/plc/store.hpp"
#include "atproto/xrpc/http_server.hpp"

namespace atproto::plc {

// Deliberate misbehaviours for tests only (`atproto-plc --fault NAME`):
// each breaks one promise of the API, so the plc-directory suite can be
// shown to catch it.
enum class Fault {
  kAcceptBadSignature,
  kAcceptInvalid,
  kNoNullification,
  kNoSerialization,
  kTombstoneNotFound,
  kStaleReads,
  kIncludeNullified,
  kAuditWrongCid,
  kDropHandle,
  kExportIgnoresAfter,
  kExportIgnoresCount,
  kNoSequencedExport,
  kUnknownAsEmpty,
  kMalformedAs500,
  kWrongContentType,
  kRejectP256,
};

struct FaultInfo {
  Fault fault;
  std::string_view name;    // the --fault value
  std::string_view effect;  // one line for --help
};
// Every fault, in the order --help lists them.
const std::vector<FaultInfo>& fault_table();

struct DirectoryOptions {
  std::string version = "0.1.0";
  std::vector<Fault> faults;
};

class PlcDirectory {
 public:
  PlcDirectory(PlcStore& store, DirectoryOptions options);
  // Thread-safe (the store serializes what must be serialized).
  xrpc::HttpResponse handle(const xrpc::HttpRequest& request);

 private:
  bool has(Fault fault) const;
  xrpc::HttpResponse health();
  xrpc::HttpResponse resolve(const std::string& did, const std::string& what);
  xrpc::HttpResponse submit(const std::string& did, const std::string& body);
  xrpc::HttpResponse export_operations(const xrpc::HttpRequest& request);

  PlcStore& store_;
  DirectoryOptions options_;
};

}  // namespace atproto::plc

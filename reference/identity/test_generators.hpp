// Test support, not implementation: building signed did:plc audit logs.
// Shared by the identity tests, the conformance runner's plc properties and
// the bench. Keys come from fixed scalars so logs are reproducible (K-256
// signatures are deterministic; P-256 ones are not, but stay valid).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "atproto/crypto/keys.hpp"
#include "atproto/identity/plc.hpp"

namespace atproto::identity::testing {

// A private key from a small fixed scalar (seed 1..255), and its did:key.
struct TestKey {
  crypto::PrivateKey key;
  std::string did_key;
};

inline TestKey test_key(crypto::Curve curve, std::uint8_t seed) {
  std::vector<std::uint8_t> raw(32, 0);
  raw[0] = 0x11;  // far from zero, below both group orders
  raw[31] = seed;
  auto key = crypto::PrivateKey::from_bytes(curve, raw);
  auto did_key = key.value().public_key().did_key();
  return TestKey{std::move(key).value(), std::move(did_key)};
}

// A regular operation with the usual atproto fields.
inline PlcOperation regular_operation(std::vector<std::string> rotation_keys,
                                      const std::string& signing_key, const std::string& handle,
                                      std::optional<std::string> prev) {
  PlcOperation op;
  op.type = PlcOperationType::kOperation;
  op.rotation_keys = std::move(rotation_keys);
  op.verification_methods["atproto"] = signing_key;
  op.also_known_as = {"at://" + handle};
  op.services["atproto_pds"] = PlcService{"AtprotoPersonalDataServer", "https://pds.example.com"};
  op.prev = std::move(prev);
  return op;
}

inline PlcOperation tombstone_operation(std::string prev) {
  PlcOperation op;
  op.type = PlcOperationType::kTombstone;
  op.prev = std::move(prev);
  return op;
}

// An audit log under construction: append signed operations at given times.
class LogBuilder {
 public:
  using TimePoint = std::chrono::system_clock::time_point;

  // Signs `op` with `key` and appends it at `at`; the DID comes from the
  // first operation. Returns the new entry's CID.
  std::string append(PlcOperation op, const crypto::PrivateKey& key, TimePoint at) {
    (void)sign_plc_operation(op, key);
    if (entries_.empty()) did_ = did_for_genesis(op).value();
    AuditEntry entry;
    entry.did = did_;
    entry.cid = plc_operation_cid(op).value();
    entry.created_at = format_created_at(at);
    entry.operation = std::move(op);
    entries_.push_back(std::move(entry));
    return entries_.back().cid;
  }

  const std::string& did() const { return did_; }
  std::vector<AuditEntry>& entries() { return entries_; }
  const std::vector<AuditEntry>& entries() const { return entries_; }
  nlohmann::json to_json() const {
    auto out = nlohmann::json::array();
    for (const auto& e : entries_) out.push_back(identity::to_json(e));
    return out;
  }

 private:
  std::string did_;
  std::vector<AuditEntry> entries_;
};

// A fixed starting instant for test logs (2024-01-01T00:00:00Z).
inline std::chrono::system_clock::time_point test_epoch() {
  return std::chrono::system_clock::time_point(std::chrono::seconds(1704067200));
}

}  // namespace atproto::identity::testing

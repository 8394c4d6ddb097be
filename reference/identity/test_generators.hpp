// Test support, not implementation: building signed did:plc audit logs.
// Shared by the identity tests, the conformance runner's plc properties and
// the bench. Keys come from fixed scalars so logs are reproducible (K-256
// signatures are deterministic; P-256 ones are not, but stay valid).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "atproto/data/base64.hpp"

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

// A small pool of keys on both curves for random logs (built once).
inline const std::vector<TestKey>& key_pool() {
  static const std::vector<TestKey> pool = [] {
    std::vector<TestKey> keys;
    for (std::uint8_t i = 1; i <= 6; ++i) {
      keys.push_back(test_key(i % 2 ? crypto::Curve::kK256 : crypto::Curve::kP256, i));
    }
    return keys;
  }();
  return pool;
}

inline const crypto::PrivateKey& private_key_for(const std::string& did_key) {
  for (const auto& k : key_pool()) {
    if (k.did_key == did_key) return k.key;
  }
  return key_pool().front().key;
}

// A random valid audit log: a genesis operation, then updates, key
// rotations and recoveries (a higher-priority key forking away the latest
// operation within the window), sometimes ending in a tombstone. Every choice
// comes from `rng`, so a seed reproduces the log.
inline LogBuilder random_log(std::mt19937_64& rng, int max_steps = 6) {
  const auto& pool = key_pool();
  auto random_keys = [&] {
    std::vector<std::size_t> order(pool.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), rng);
    std::vector<std::string> keys;
    std::size_t n = 1 + rng() % 3;
    for (std::size_t i = 0; i < n; ++i) keys.push_back(pool[order[i]].did_key);
    return keys;
  };
  auto handle = [&] { return "user" + std::to_string(rng() % 1000) + ".test"; };
  auto pick = [&](const std::vector<std::string>& keys) -> const crypto::PrivateKey& {
    return private_key_for(keys[rng() % keys.size()]);
  };
  LogBuilder log;
  auto t = test_epoch();
  auto keys = random_keys();
  log.append(regular_operation(keys, pool[0].did_key, handle(), std::nullopt), pick(keys), t);
  auto entry_for = [&](const std::string& cid) -> const AuditEntry& {
    for (const auto& e : log.entries()) {
      if (e.cid == cid) return e;
    }
    return log.entries().front();
  };
  int steps = static_cast<int>(rng() % static_cast<std::uint64_t>(max_steps + 1));
  for (int step = 0; step < steps; ++step) {
    t += std::chrono::minutes(1 + rng() % 600);
    std::size_t head = log.entries().size() - 1;
    while (log.entries()[head].nullified) --head;
    const AuditEntry& current = log.entries()[head];
    const auto current_keys = current.operation.rotation_keys;
    auto choice = rng() % 10;
    if (choice < 3 && current.operation.prev) {
      // A recovery: fork from the head's prev with a key that outranks the
      // head's signer, if there is one.
      const AuditEntry& base = entry_for(*current.operation.prev);
      const auto base_keys = base.operation.rotation_keys;
      std::size_t signer = plc_signer_index(current.operation, base_keys).value();
      if (signer > 0) {
        std::size_t j = rng() % signer;
        auto prev_cid = base.cid;
        log.entries()[head].nullified = true;
        log.append(regular_operation(base_keys, pool[1].did_key, handle(), prev_cid),
                   private_key_for(base_keys[j]), t);
        continue;
      }
    }
    if (choice < 5) {
      auto next = random_keys();
      log.append(regular_operation(next, pool[0].did_key, handle(), current.cid),
                 pick(current_keys), t);
    } else {
      log.append(regular_operation(current_keys, pool[0].did_key, handle(), current.cid),
                 pick(current_keys), t);
    }
  }
  if (rng() % 5 == 0) {
    std::size_t head = log.entries().size() - 1;
    while (log.entries()[head].nullified) --head;
    const auto head_keys = log.entries()[head].operation.rotation_keys;
    const auto head_cid = log.entries()[head].cid;
    log.append(tombstone_operation(head_cid), pick(head_keys), t + std::chrono::minutes(5));
  }
  return log;
}

// A recovery `delay` after the operation it nullifies: the genesis has
// rotation keys [pool 0, pool 1]; pool 1 moves the account an hour later;
// pool 0 forks from the genesis `delay` after that (valid iff delay <= 72 h).
inline LogBuilder recovery_log(std::chrono::milliseconds delay) {
  const auto& pool = key_pool();
  LogBuilder log;
  auto t = test_epoch();
  auto g = log.append(regular_operation({pool[0].did_key, pool[1].did_key}, pool[2].did_key,
                                        "alice.test", std::nullopt),
                      pool[1].key, t);
  log.append(
      regular_operation({pool[0].did_key, pool[1].did_key}, pool[2].did_key, "mallory.test", g),
      pool[1].key, t + std::chrono::hours(1));
  log.append(regular_operation({pool[0].did_key}, pool[2].did_key, "alice.test", g), pool[0].key,
             t + std::chrono::hours(1) + delay);
  log.entries()[1].nullified = true;
  return log;
}

// One random damage to a valid log that the rules must catch (the kinds a
// conformance property and the unit properties share). Returns what was done.
inline std::string mutate_log(std::vector<AuditEntry>& entries, std::mt19937_64& rng) {
  std::size_t i = rng() % entries.size();
  AuditEntry& e = entries[i];
  switch (rng() % 5) {
    case 0:
      if (e.operation.type == PlcOperationType::kOperation) {
        e.operation.also_known_as = {"at://mallory.test"};
        e.cid = plc_operation_cid(e.operation).value();
        return "entry " + std::to_string(i) + ": alsoKnownAs changed after signing";
      }
      [[fallthrough]];
    case 1: {
      auto sig = data::base64url_decode(e.operation.sig).value();
      sig[rng() % sig.size()] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
      e.operation.sig = data::base64url_encode(sig);
      e.cid = plc_operation_cid(e.operation).value();
      return "entry " + std::to_string(i) + ": one signature bit flipped";
    }
    case 2:
      if (i > 0) {
        // Any other entry's CID (its own included), never the original.
        std::vector<std::string> others;
        for (const auto& x : entries) {
          if (x.cid != e.operation.prev) others.push_back(x.cid);
        }
        e.operation.prev = others[rng() % others.size()];
        e.cid = plc_operation_cid(e.operation).value();
        return "entry " + std::to_string(i) + ": prev points elsewhere";
      }
      [[fallthrough]];
    case 3:
      e.nullified = !e.nullified;
      return "entry " + std::to_string(i) + ": nullified flag toggled";
    default:
      e.operation.sig += "=";
      e.cid = plc_operation_cid(e.operation).value();
      return "entry " + std::to_string(i) + ": signature padded";
  }
}

}  // namespace atproto::identity::testing

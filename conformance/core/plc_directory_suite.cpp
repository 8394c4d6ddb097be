// The "plc-directory" service suite (see plc_directory.hpp). Each case
// cites the requirement ids it checks: plc.directory.* for the directory's
// API (spec/requirements/plc-directory.json) and plc.* for the operation
// and log rules (spec/requirements/did-plc.json).
#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "atproto/crypto/keys.hpp"
#include "atproto/data/base64.hpp"
#include "atproto/identity/did_document.hpp"
#include "atproto/identity/fetch.hpp"
#include "atproto/identity/plc.hpp"
#include "atproto/identity/test_generators.hpp"
#include "http_session.hpp"
#include "plc_directory.hpp"
#include "suites.hpp"

namespace atproto::conformance {
namespace {

using crypto::Curve;
using crypto::PrivateKey;
using identity::AuditEntry;
using identity::PlcOperation;
using identity::PlcOperationType;

// ---------------------------------------------------------------- target

class PlcDirectoryTarget final : public Target {
 public:
  PlcDirectoryTarget(std::string base_url, int timeout_ms, bool allow_private)
      : base_url_(std::move(base_url)) {
    while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
    policy_.allow_private_addresses = allow_private;
    policy_.timeout_ms = timeout_ms;
    policy_.max_response_bytes = 16u << 20;  // a full /export page
    policy_.max_redirects = 0;
  }

  std::string description() const override { return "PLC directory at " + base_url_; }

  Response capabilities() override {
    // A directory has no capabilities document; /_health (which the
    // official server and ours answer) names the version when it can.
    json caps = {{"name", "plc-directory"},
                 {"version", ""},
                 {"operations", json::array({kPlcDirectoryHttp})}};
    Response health = call(kPlcDirectoryHttp, {{"method", "GET"}, {"path", "/_health"}});
    if (!health.transport_error.empty()) return health;
    const json& body = health.body["json"];
    if (body.is_object() && body.contains("version") && body["version"].is_string()) {
      caps["version"] = body["version"];
    }
    Response out;
    out.status = 200;
    out.body = caps;
    return out;
  }

  Response call(const std::string& operation, const json& request) override {
    Response out;
    if (operation != kPlcDirectoryHttp) {
      out.status = 404;
      out.body = {{"error", "unknown operation " + operation}};
      return out;
    }
    std::string method = request.value("method", "GET");
    std::string body = request.value("body", "");
    identity::HeaderList headers;
    if (method == "POST") headers.emplace_back("content-type", "application/json");
    auto result = identity::http_request(method, base_url_ + request.value("path", "/"), body,
                                         headers, policy_);
    if (!result.ok()) {
      out.transport_error = result.error().code + ": " + result.error().message;
      return out;
    }
    out.status = result->status;
    out.raw_body = result->body;
    std::string content_type;
    for (const auto& [name, value] : result->headers) {
      if (name == "content-type") content_type = value;
    }
    json parsed = json::parse(result->body, nullptr, false);
    out.body = {{"content_type", content_type}, {"json", parsed.is_discarded() ? json() : parsed}};
    return out;
  }

  std::string reproduce_command(const std::string& operation, const json& request,
                                const std::string& body_file) const override {
    if (operation != kPlcDirectoryHttp || !request.is_object()) return "";
    std::string command = "curl -sS -X " + request.value("method", "GET") + " " +
                          shell_quote(base_url_ + request.value("path", "/"));
    if (request.contains("body") && request["body"].is_string()) {
      command += " -H 'content-type: application/json' --data-binary " +
                 (body_file.empty() ? shell_quote(request["body"].get<std::string>())
                                    : "@" + shell_quote(body_file));
    }
    return command;
  }

  std::string request_body(const json& request) const override {
    return request.is_object() && request.contains("body") && request["body"].is_string()
               ? request["body"].get<std::string>()
               : "";
  }

 private:
  std::string base_url_;
  identity::FetchPolicy policy_;
};

// ---------------------------------------------------------------- session

using Http = HttpAnswer;

// One case's exchanges with the directory and its first failure.
class Session : public HttpSession {
 public:
  explicit Session(RunContext& context)
      : HttpSession(context.target, kPlcDirectoryHttp, "the directory") {}

  Http request(const std::string& method, const std::string& path, const std::string& body = "") {
    json sent = {{"method", method}, {"path", path}};
    if (method == "POST") sent["body"] = body;
    Response r = target().call(kPlcDirectoryHttp, sent);
    return note(sent, r);
  }
  Http get(const std::string& path) { return request("GET", path); }
  Http submit(const std::string& did, const PlcOperation& op) {
    return request("POST", "/" + did, identity::to_json(op).dump());
  }

  // A 4xx; the directory's errors are not XRPC errors, so no body is asked.
  bool rejected(const Http& h, const std::string& what) {
    return check(h.client_error(),
                 what + " must be rejected with a 4xx status, got HTTP " + std::to_string(h.status),
                 "a 4xx status");
  }
};

// ---------------------------------------------------------------- identities

struct Key {
  PrivateKey key;
  std::string did_key;
};

Key new_key(Curve curve = Curve::kK256) {
  auto key = PrivateKey::generate(curve).value();
  std::string did_key = key.public_key().did_key();
  return Key{std::move(key), std::move(did_key)};
}

std::string random_handle() {
  static std::mutex mutex;
  static std::mt19937_64 rng(std::random_device{}());
  std::lock_guard lock(mutex);
  return "t" + stable_hash_hex(std::to_string(rng()), 12) + ".test";
}

PlcOperation signed_by(PlcOperation op, const Key& key) {
  (void)identity::sign_plc_operation(op, key.key);
  return op;
}

std::string cid_of(const PlcOperation& op) { return identity::plc_operation_cid(op).value(); }

std::vector<std::string> did_keys(const std::vector<const Key*>& keys) {
  std::vector<std::string> out;
  for (const auto* k : keys) out.push_back(k->did_key);
  return out;
}

// An unsigned regular operation with a fresh handle.
PlcOperation operation(const std::vector<const Key*>& rotation, const Key& signing,
                       std::optional<std::string> prev) {
  return identity::testing::regular_operation(did_keys(rotation), signing.did_key, random_handle(),
                                              std::move(prev));
}

// A DID with rotation keys [high, low] (high has priority) and a genesis
// operation signed by `low`, the day-to-day key.
struct Account {
  Key high;
  Key low;
  Key signing;
  PlcOperation genesis;
  std::string did;

  explicit Account(Curve curve = Curve::kK256)
      : high(new_key(curve)), low(new_key(curve)), signing(new_key(Curve::kK256)) {
    genesis = signed_by(operation({&high, &low}, signing, std::nullopt), low);
    did = identity::did_for_genesis(genesis).value();
  }
  // An update of the same keys with a fresh handle, signed by `by`.
  PlcOperation update(const std::string& prev, const Key& by) const {
    return signed_by(operation({&high, &low}, signing, prev), by);
  }
};

// An account whose genesis was accepted.
std::optional<Account> created(Session& s, Curve curve = Curve::kK256) {
  Account a(curve);
  if (!s.accepted(s.submit(a.did, a.genesis), "the genesis operation")) return std::nullopt;
  return a;
}

// ---------------------------------------------------------------- reads

std::optional<std::vector<AuditEntry>> audit_log(Session& s, const std::string& did) {
  Http h = s.get("/" + did + "/log/audit");
  if (!s.status(h, 200, "GET /{did}/log/audit")) return std::nullopt;
  auto log = identity::parse_audit_log(h.body);
  if (!s.check(log.ok(), "the audit log does not parse: " +
                             (log.ok() ? std::string() : log.error().message))) {
    return std::nullopt;
  }
  return std::move(log).value();
}

json ops_json(const std::vector<PlcOperation>& ops) {
  json out = json::array();
  for (const auto& op : ops) out.push_back(identity::to_json(op));
  return out;
}

// [plc.directory.audit-log] The audit log holds exactly `ops` with these
// nullified flags, each with its CID and the DID, and validates as a whole
// ([plc.log.nullified] among its rules) to the document of `current`.
bool audit_matches(Session& s, const std::string& did, const std::vector<PlcOperation>& ops,
                   const std::vector<bool>& nullified, const PlcOperation* current) {
  auto log = audit_log(s, did);
  if (!log) return false;
  if (!s.check(log->size() == ops.size(),
               "the audit log has " + std::to_string(log->size()) + " entries, want " +
                   std::to_string(ops.size()),
               ops_json(ops))) {
    return false;
  }
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const AuditEntry& e = (*log)[i];
    std::string at = "audit log entry " + std::to_string(i) + ": ";
    if (!s.check(identity::to_json(e.operation) == identity::to_json(ops[i]),
                 at + "not the operation submitted", identity::to_json(ops[i])) ||
        !s.check(e.did == did, at + "did is " + e.did) ||
        !s.check(e.cid == cid_of(ops[i]), at + "cid " + e.cid + " is not the operation's CID",
                 cid_of(ops[i])) ||
        !s.check(e.nullified == nullified[i],
                 at + (nullified[i] ? "must be nullified" : "must not be nullified")) ||
        !s.check(identity::parse_created_at(e.created_at).ok(),
                 at + "createdAt is not a datetime: " + e.created_at)) {
      return false;
    }
  }
  auto document = identity::validate_audit_log(did, *log);
  if (!current) {
    return s.check(!document.ok() && document.error().code == "plc.tombstoned",
                   "the audit log must validate to a tombstoned DID");
  }
  if (!s.check(document.ok(),
               "the audit log does not validate: " +
                   (document.ok() ? std::string()
                                  : document.error().code + ": " + document.error().message))) {
    return false;
  }
  auto want = identity::document_for_operation(did, *current);
  return s.check(want.ok() && identity::to_json(*document) == identity::to_json(*want),
                 "the audit log validates to another document than the current operation's");
}

// [plc.directory.resolve] GET /{did} is the document of `op`: same id,
// handle, #atproto key and #atproto_pds endpoint.
bool resolves_to(Session& s, const std::string& did, const PlcOperation& op) {
  Http h = s.get("/" + did);
  if (!s.status(h, 200, "GET /{did}")) return false;
  auto doc = identity::parse_did_document(h.body);
  if (!s.check(doc.ok(), "the DID document does not parse: " +
                             (doc.ok() ? std::string() : doc.error().message))) {
    return false;
  }
  auto want = identity::document_for_operation(did, op).value();
  auto key = identity::atproto_signing_key(*doc);
  auto want_key = crypto::PublicKey::from_did_key(op.verification_methods.at("atproto"));
  return s.check(doc->id == did, "the document's id is " + doc->id, did) &&
         s.check(doc->also_known_as == op.also_known_as, "alsoKnownAs is not the operation's",
                 op.also_known_as) &&
         s.check(key.ok() && want_key.ok() && *key == *want_key,
                 "the #atproto key is not the operation's",
                 op.verification_methods.at("atproto")) &&
         s.check(identity::atproto_pds_endpoint(*doc) == identity::atproto_pds_endpoint(want),
                 "the #atproto_pds endpoint is not the operation's",
                 op.services.at("atproto_pds").endpoint);
}

// [plc.directory.log] GET /{did}/log is exactly `ops`.
bool log_is(Session& s, const std::string& did, const std::vector<PlcOperation>& ops) {
  Http h = s.get("/" + did + "/log");
  return s.status(h, 200, "GET /{did}/log") &&
         s.check(h.body == ops_json(ops), "/log is not the current chain of operations",
                 ops_json(ops));
}

// [plc.directory.last] GET /{did}/log/last is `op`.
bool last_is(Session& s, const std::string& did, const PlcOperation& op) {
  Http h = s.get("/" + did + "/log/last");
  return s.status(h, 200, "GET /{did}/log/last") &&
         s.check(h.body == identity::to_json(op), "/log/last is not the current operation",
                 identity::to_json(op));
}

// ---------------------------------------------------------------- signatures

std::array<std::uint8_t, 64> signature_of(const PlcOperation& op) {
  auto bytes = data::base64url_decode(op.sig).value();
  std::array<std::uint8_t, 64> out{};
  std::copy_n(bytes.begin(), std::min<std::size_t>(bytes.size(), 64), out.begin());
  return out;
}

// A genesis operation changed by `mutate` after signing, and the DID its
// changed form derives: posting it there breaks only the rule at stake.
struct BrokenGenesis {
  PlcOperation op;
  std::string did;
};
BrokenGenesis broken_genesis(const std::function<void(PlcOperation&, const Account&)>& mutate) {
  Account a;
  BrokenGenesis out{a.genesis, ""};
  mutate(out.op, a);
  auto did = identity::did_for_genesis(out.op);
  out.did = did.ok() ? *did : a.did;
  return out;
}

// Posts a broken genesis operation: rejected with 4xx, and the DID stays
// unknown ([plc.directory.submit.validate] nothing is stored).
void expect_genesis_rejected(Session& s, const BrokenGenesis& broken, const std::string& what) {
  if (!s.rejected(s.submit(broken.did, broken.op), what)) return;
  Http after = s.get("/" + broken.did + "/log/audit");
  s.status(after, 404, "after a rejected genesis operation the DID must stay unknown");
}

// ---------------------------------------------------------------- export

std::vector<json> json_lines(const std::string& text) {
  std::vector<json> out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    std::string line = text.substr(start, end == std::string::npos ? end : end - start);
    if (!line.empty()) out.push_back(json::parse(line, nullptr, false));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

std::string encode_query(const std::string& value) {
  std::string out;
  static const char* kHex = "0123456789ABCDEF";
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// Genesis, an update by the low key and a recovery by the high key that
// nullifies it: three operations with known flags, and the instant just
// before the first.
struct Recovered {
  Account account;
  std::vector<PlcOperation> ops;
  std::vector<bool> nullified;
  std::string before;
};
std::optional<Recovered> recovered_account(Session& s) {
  auto a = created(s);
  if (!a) return std::nullopt;
  auto update = a->update(cid_of(a->genesis), a->low);
  if (!s.accepted(s.submit(a->did, update), "an update")) return std::nullopt;
  auto recovery = a->update(cid_of(a->genesis), a->high);
  if (!s.accepted(s.submit(a->did, recovery), "a recovery by the higher-priority key")) {
    return std::nullopt;
  }
  auto log = audit_log(s, a->did);
  if (!log || !s.check(!log->empty(), "empty audit log")) return std::nullopt;
  auto first = identity::parse_created_at(log->front().created_at);
  if (!s.check(first.ok(), "createdAt is not a datetime")) return std::nullopt;
  std::vector<PlcOperation> ops = {a->genesis, update, recovery};
  return Recovered{std::move(*a),
                   std::move(ops),
                   {false, true, false},
                   identity::format_created_at(*first - std::chrono::milliseconds(1))};
}

// Finds `ops` of `did`, in order, among export lines; the entries found.
std::vector<json> entries_of(const std::vector<json>& lines, const std::string& did) {
  std::vector<json> out;
  for (const auto& line : lines) {
    if (line.is_object() && line.value("did", "") == did) out.push_back(line);
  }
  return out;
}

bool export_entries_match(Session& s, const std::vector<json>& found, const Recovered& r,
                          bool with_nullified) {
  if (!s.check(found.size() == r.ops.size(),
               "/export lists " + std::to_string(found.size()) + " operations of the DID, want " +
                   std::to_string(r.ops.size()),
               ops_json(r.ops))) {
    return false;
  }
  for (std::size_t i = 0; i < found.size(); ++i) {
    const json& line = found[i];
    std::string at = "/export line for operation " + std::to_string(i) + ": ";
    if (!s.check(line.contains("operation") && line["operation"] == identity::to_json(r.ops[i]),
                 at + "not the operation submitted", identity::to_json(r.ops[i])) ||
        !s.check(line.value("cid", "") == cid_of(r.ops[i]), at + "wrong cid", cid_of(r.ops[i])) ||
        !s.check(line.contains("createdAt") && line["createdAt"].is_string(),
                 at + "no createdAt")) {
      return false;
    }
    if (with_nullified &&
        !s.check(line.contains("nullified") && line["nullified"] == r.nullified[i],
                 at + "nullified is not " + (r.nullified[i] ? "true" : "false"))) {
      return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------- cases

using Body = std::function<void(Session&)>;

void add(std::vector<Case>& cases, const Catalog& catalog, const std::string& id,
         std::vector<std::string> requirements, const std::string& description, Body body) {
  Case c = service_case(catalog, "plc-directory", id, std::move(requirements), kPlcDirectoryHttp,
                        description);
  c.run = [body = std::move(body)](RunContext& context) {
    Session s(context);
    body(s);
    return s.verdict();
  };
  cases.push_back(std::move(c));
}

void add_create_cases(std::vector<Case>& cases, const Catalog& catalog) {
  // [plc.directory.submit] [plc.directory.resolve] [plc.did.genesis]
  add(cases, catalog, "create.resolve",
      {"plc.directory.submit", "plc.directory.resolve", "plc.did.genesis"},
      "a genesis operation is accepted and the DID resolves to its document", [](Session& s) {
        if (auto a = created(s)) resolves_to(s, a->did, a->genesis);
      });
  // [plc.directory.resolve.content-type]
  add(cases, catalog, "create.content-type", {"plc.directory.resolve.content-type"},
      "the DID document is served as application/did+ld+json", [](Session& s) {
        auto a = created(s);
        if (!a) return;
        Http h = s.get("/" + a->did);
        (void)(s.status(h, 200, "GET /{did}") &&
               s.check(h.content_type.rfind("application/did+ld+json", 0) == 0,
                       "content-type is \"" + h.content_type + "\"", "application/did+ld+json"));
      });
  // [plc.directory.audit-log] [plc.cid.operation]
  add(cases, catalog, "create.audit-log", {"plc.directory.audit-log", "plc.cid.operation"},
      "the audit log of a new DID is its genesis operation with its CID", [](Session& s) {
        if (auto a = created(s)) audit_matches(s, a->did, {a->genesis}, {false}, &a->genesis);
      });
  // [plc.directory.submit] [plc.op.rotation-key-type] P-256 rotation keys.
  add(cases, catalog, "create.p256-rotation-keys",
      {"plc.directory.submit", "plc.op.rotation-key-type"},
      "a DID whose rotation keys are P-256 (signed by one of them) is accepted", [](Session& s) {
        if (auto a = created(s, Curve::kP256)) resolves_to(s, a->did, a->genesis);
      });
  // [plc.directory.not-found]
  add(cases, catalog, "not-found", {"plc.directory.not-found"},
      "a DID never registered answers 404 with a message on every read", [](Session& s) {
        Account never;
        for (const char* suffix : {"", "/data", "/log", "/log/audit", "/log/last"}) {
          Http h = s.get("/" + never.did + suffix);
          if (!s.status(h, 404, std::string("GET /{did}") + suffix) ||
              !s.check(
                  h.body.is_object() && h.body.contains("message") && h.body["message"].is_string(),
                  "the 404 body has no message")) {
            return;
          }
        }
      });
}

// A DID with an accepted update: genesis then `update` signed by the low key.
struct Updated {
  Account account;
  PlcOperation update;
};
std::optional<Updated> updated_account(Session& s) {
  auto a = created(s);
  if (!a) return std::nullopt;
  PlcOperation update = operation({&a->high, &a->low}, a->signing, cid_of(a->genesis));
  update.services["atproto_pds"].endpoint = "https://pds2.example.com";
  update = signed_by(update, a->low);
  if (!s.accepted(s.submit(a->did, update), "an update signed by a rotation key")) {
    return std::nullopt;
  }
  return Updated{std::move(*a), std::move(update)};
}

void add_update_cases(std::vector<Case>& cases, const Catalog& catalog) {
  add(cases, catalog, "update.resolve", {"plc.directory.submit", "plc.directory.resolve"},
      "after an update (new handle and PDS) the DID resolves to the new document", [](Session& s) {
        if (auto u = updated_account(s)) resolves_to(s, u->account.did, u->update);
      });
  // [plc.directory.data]
  add(cases, catalog, "update.data", {"plc.directory.data"},
      "/data is the current operation's fields and the DID", [](Session& s) {
        auto u = updated_account(s);
        if (!u) return;
        Http h = s.get("/" + u->account.did + "/data");
        if (!s.status(h, 200, "GET /{did}/data")) return;
        json want = identity::to_json(u->update);
        for (const char* field :
             {"rotationKeys", "verificationMethods", "alsoKnownAs", "services"}) {
          if (!s.check(h.body.is_object() && h.body.contains(field) && h.body[field] == want[field],
                       std::string("/data ") + field + " is not the current operation's",
                       want[field])) {
            return;
          }
        }
        s.check(h.body.value("did", "") == u->account.did, "/data did is not the DID",
                u->account.did);
      });
  add(cases, catalog, "update.log", {"plc.directory.log"},
      "/log is the genesis operation and the update, in order", [](Session& s) {
        if (auto u = updated_account(s)) log_is(s, u->account.did, {u->account.genesis, u->update});
      });
  add(cases, catalog, "update.last", {"plc.directory.last"}, "/log/last is the update",
      [](Session& s) {
        if (auto u = updated_account(s)) last_is(s, u->account.did, u->update);
      });
  add(cases, catalog, "update.audit-log", {"plc.directory.audit-log", "plc.log.prev"},
      "the audit log holds both operations, chained, and validates to the update", [](Session& s) {
        if (auto u = updated_account(s)) {
          audit_matches(s, u->account.did, {u->account.genesis, u->update}, {false, false},
                        &u->update);
        }
      });
  // [plc.sig.rotation-key] The keys in effect are those of the previous
  // operation: after a rotation the new key signs, the removed one cannot.
  add(cases, catalog, "update.rotate-keys", {"plc.directory.submit", "plc.sig.rotation-key"},
      "after rotating to new keys, a new key signs the next update and a removed key cannot",
      [](Session& s) {
        auto a = created(s);
        if (!a) return;
        Key fresh_high = new_key(), fresh_low = new_key();
        auto rotate =
            signed_by(operation({&fresh_high, &fresh_low}, a->signing, cid_of(a->genesis)), a->low);
        if (!s.accepted(s.submit(a->did, rotate), "the key rotation")) return;
        auto by_new =
            signed_by(operation({&fresh_high, &fresh_low}, a->signing, cid_of(rotate)), fresh_low);
        if (!s.accepted(s.submit(a->did, by_new), "an update signed by a new rotation key")) return;
        auto by_old =
            signed_by(operation({&fresh_high, &fresh_low}, a->signing, cid_of(by_new)), a->low);
        if (!s.rejected(s.submit(a->did, by_old), "an update signed by a removed rotation key")) {
          return;
        }
        audit_matches(s, a->did, {a->genesis, rotate, by_new}, {false, false, false}, &by_new);
      });
}

void add_recovery_cases(std::vector<Case>& cases, const Catalog& catalog) {
  // [plc.directory.recovery] [plc.recovery.priority] [plc.recovery.window]
  add(cases, catalog, "recovery.within-72h",
      {"plc.directory.recovery", "plc.recovery.priority", "plc.recovery.window",
       "plc.log.nullified"},
      "the higher-priority key overrides a recent update: it is nullified, the recovery is "
      "current",
      [](Session& s) {
        auto a = created(s);
        if (!a) return;
        auto update = a->update(cid_of(a->genesis), a->low);
        if (!s.accepted(s.submit(a->did, update), "an update by the low key")) return;
        auto recovery = a->update(cid_of(a->genesis), a->high);
        if (!s.accepted(s.submit(a->did, recovery), "a recovery by the high key")) return;
        (void)(audit_matches(s, a->did, {a->genesis, update, recovery}, {false, true, false},
                             &recovery) &&
               log_is(s, a->did, {a->genesis, recovery}) && last_is(s, a->did, recovery) &&
               resolves_to(s, a->did, recovery));
      });
  add(cases, catalog, "recovery.chain", {"plc.directory.recovery", "plc.log.nullified"},
      "a recovery from the fork point nullifies every operation after it", [](Session& s) {
        auto a = created(s);
        if (!a) return;
        auto first = a->update(cid_of(a->genesis), a->low);
        if (!s.accepted(s.submit(a->did, first), "a first update")) return;
        auto second = a->update(cid_of(first), a->low);
        if (!s.accepted(s.submit(a->did, second), "a second update")) return;
        auto recovery = a->update(cid_of(a->genesis), a->high);
        if (!s.accepted(s.submit(a->did, recovery), "a recovery from the genesis operation")) {
          return;
        }
        (void)(audit_matches(s, a->did, {a->genesis, first, second, recovery},
                             {false, true, true, false}, &recovery) &&
               log_is(s, a->did, {a->genesis, recovery}));
      });
  // [plc.recovery.priority] Only a strictly higher-priority key may fork.
  add(cases, catalog, "recovery.needs-higher-priority",
      {"plc.directory.submit.validate", "plc.recovery.priority"},
      "a fork signed by an equal or lower-priority key is rejected", [](Session& s) {
        auto a = created(s);
        if (!a) return;
        auto update = a->update(cid_of(a->genesis), a->high);
        if (!s.accepted(s.submit(a->did, update), "an update by the high key")) return;
        if (!s.rejected(s.submit(a->did, a->update(cid_of(a->genesis), a->low)),
                        "a fork signed by a lower-priority key") ||
            !s.rejected(s.submit(a->did, a->update(cid_of(a->genesis), a->high)),
                        "a fork signed by the same key")) {
          return;
        }
        audit_matches(s, a->did, {a->genesis, update}, {false, false}, &update);
      });
  // [plc.directory.tombstoned] [plc.tombstoned]
  add(cases, catalog, "tombstone.gone", {"plc.directory.tombstoned", "plc.tombstoned"},
      "after a tombstone the DID answers 410 on resolve and data; its logs stay readable",
      [](Session& s) {
        auto a = created(s);
        if (!a) return;
        auto tombstone =
            signed_by(identity::testing::tombstone_operation(cid_of(a->genesis)), a->low);
        if (!s.accepted(s.submit(a->did, tombstone), "a tombstone")) return;
        (void)(s.status(s.get("/" + a->did), 410, "GET /{did} of a tombstoned DID") &&
               s.status(s.get("/" + a->did + "/data"), 410,
                        "GET /{did}/data of a tombstoned DID") &&
               last_is(s, a->did, tombstone) &&
               audit_matches(s, a->did, {a->genesis, tombstone}, {false, false}, nullptr));
      });
  // [plc.tombstone.final]
  add(cases, catalog, "tombstone.final", {"plc.directory.submit.validate", "plc.tombstone.final"},
      "nothing extends a tombstone", [](Session& s) {
        auto a = created(s);
        if (!a) return;
        auto tombstone =
            signed_by(identity::testing::tombstone_operation(cid_of(a->genesis)), a->high);
        if (!s.accepted(s.submit(a->did, tombstone), "a tombstone")) return;
        if (!s.rejected(s.submit(a->did, a->update(cid_of(tombstone), a->high)),
                        "an operation after a tombstone")) {
          return;
        }
        audit_matches(s, a->did, {a->genesis, tombstone}, {false, false}, nullptr);
      });
  add(cases, catalog, "tombstone.recovered",
      {"plc.directory.recovery", "plc.recovery.priority", "plc.log.nullified"},
      "a tombstone by the low key is undone by the high key within 72 hours", [](Session& s) {
        auto a = created(s);
        if (!a) return;
        auto tombstone =
            signed_by(identity::testing::tombstone_operation(cid_of(a->genesis)), a->low);
        if (!s.accepted(s.submit(a->did, tombstone), "a tombstone by the low key")) return;
        auto recovery = a->update(cid_of(a->genesis), a->high);
        if (!s.accepted(s.submit(a->did, recovery), "a recovery by the high key")) return;
        (void)(resolves_to(s, a->did, recovery) &&
               audit_matches(s, a->did, {a->genesis, tombstone, recovery}, {false, true, false},
                             &recovery));
      });
}

// Genesis operations changed after signing so that they break exactly one
// rule (the DID is derived from the changed form): each must get a 4xx and
// leave the DID unknown.
struct GenesisBreak {
  const char* id;
  const char* rule;
  const char* description;
  const char* what;
  void (*mutate)(PlcOperation& op, const Account& a);
};

const std::vector<GenesisBreak>& genesis_breaks() {
  static const std::vector<GenesisBreak> kBreaks = {
      // [plc.sig.rotation-key] A signature that verifies under no key.
      {"reject.bad-signature", "plc.sig.rotation-key",
       "a genesis operation whose signature has one bit flipped is rejected",
       "a genesis operation with a corrupted signature",
       [](PlcOperation& op, const Account&) {
         auto sig = signature_of(op);
         sig[20] ^= 0x01;
         op.sig = data::base64url_encode(sig);
       }},
      // [plc.op.size]
      {"reject.oversized", "plc.op.size", "an operation over 7500 bytes of DAG-CBOR is rejected",
       "an oversized genesis operation",
       [](PlcOperation& op, const Account& a) {
         op.also_known_as.push_back("https://example.com/" + std::string(7600, 'a'));
         op = signed_by(op, a.low);
       }},
      // [plc.op.rotation-keys-count]
      {"reject.too-many-rotation-keys", "plc.op.rotation-keys-count",
       "an operation with six rotation keys is rejected",
       "a genesis operation with six rotation keys",
       [](PlcOperation& op, const Account& a) {
         for (int i = 0; i < 4; ++i) op.rotation_keys.push_back(new_key().did_key);
         op = signed_by(op, a.low);
       }},
      // [plc.op.rotation-keys-unique]
      {"reject.duplicate-rotation-keys", "plc.op.rotation-keys-unique",
       "an operation listing a rotation key twice is rejected",
       "a genesis operation with a duplicated rotation key",
       [](PlcOperation& op, const Account& a) {
         op.rotation_keys = {a.low.did_key, a.low.did_key};
         op = signed_by(op, a.low);
       }},
      // [plc.sig.low-s]
      {"reject.high-s", "plc.sig.low-s", "a signature in high-S form is rejected",
       "a genesis operation with a high-S signature",
       [](PlcOperation& op, const Account&) {
         op.sig = data::base64url_encode(crypto::high_s_twin(Curve::kK256, signature_of(op)));
       }},
      // [plc.sig.base64url]
      {"reject.padded-signature", "plc.sig.base64url",
       "a signature written with base64 '=' padding is rejected",
       "a genesis operation with a padded signature",
       [](PlcOperation& op, const Account&) { op.sig += "=="; }},
      {"reject.signature-trailing-bits", "plc.sig.base64url",
       "a signature whose unused trailing base64url bits are not zero is rejected",
       "a genesis operation with non-zero trailing signature bits",
       [](PlcOperation& op, const Account&) {
         static const std::string kAlphabet =
             "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
         // 64 bytes are 86 characters; the last one carries 2 bits and 4
         // unused bits, which must be zero.
         auto v = kAlphabet.find(op.sig.back());
         op.sig.back() = kAlphabet[v | 1];
       }},
  };
  return kBreaks;
}

void add_reject_cases(std::vector<Case>& cases, const Catalog& catalog) {
  for (const auto& b : genesis_breaks()) {
    add(cases, catalog, b.id, {"plc.directory.submit.validate", b.rule}, b.description,
        [b](Session& s) { expect_genesis_rejected(s, broken_genesis(b.mutate), b.what); });
  }
  add(cases, catalog, "reject.unlisted-key",
      {"plc.directory.submit.validate", "plc.sig.rotation-key"},
      "an update signed by a key that is not a rotation key (the signing key) is rejected",
      [](Session& s) {
        auto a = created(s);
        if (!a) return;
        if (!s.rejected(s.submit(a->did, a->update(cid_of(a->genesis), a->signing)),
                        "an update signed by the #atproto key")) {
          return;
        }
        audit_matches(s, a->did, {a->genesis}, {false}, &a->genesis);
      });
  // [plc.log.prev]
  add(cases, catalog, "reject.wrong-prev", {"plc.directory.submit.validate", "plc.log.prev"},
      "an update whose prev is the CID of an operation outside the log is rejected",
      [](Session& s) {
        auto a = created(s);
        if (!a) return;
        Account stranger;
        if (!s.rejected(s.submit(a->did, a->update(cid_of(stranger.genesis), a->high)),
                        "an update with a foreign prev")) {
          return;
        }
        audit_matches(s, a->did, {a->genesis}, {false}, &a->genesis);
      });
  // [plc.log.genesis]
  add(cases, catalog, "reject.second-genesis", {"plc.directory.submit.validate", "plc.log.genesis"},
      "submitting the genesis operation again is rejected", [](Session& s) {
        auto a = created(s);
        if (!a) return;
        if (!s.rejected(s.submit(a->did, a->genesis), "a second copy of the genesis operation")) {
          return;
        }
        audit_matches(s, a->did, {a->genesis}, {false}, &a->genesis);
      });
  add(cases, catalog, "reject.update-unknown-did",
      {"plc.directory.submit.validate", "plc.log.genesis"},
      "an update for a DID that was never created is rejected", [](Session& s) {
        Account never;
        auto update = never.update(cid_of(never.genesis), never.high);
        if (!s.rejected(s.submit(never.did, update), "an update of an unknown DID")) return;
        s.status(s.get("/" + never.did), 404, "the DID must stay unknown");
      });
  // [plc.did.genesis]
  add(cases, catalog, "reject.did-mismatch", {"plc.directory.submit.validate", "plc.did.genesis"},
      "a genesis operation posted under another DID is rejected", [](Session& s) {
        Account a, other;
        if (!s.rejected(s.submit(other.did, a.genesis), "a genesis operation under another DID")) {
          return;
        }
        (void)(s.status(s.get("/" + other.did), 404, "the other DID must stay unknown") &&
               s.status(s.get("/" + a.did), 404, "the operation's own DID must stay unknown"));
      });
  // [plc.directory.submit.malformed]
  add(cases, catalog, "reject.malformed-json", {"plc.directory.submit.malformed"},
      "a body that is not JSON is rejected with 400", [](Session& s) {
        Account a;
        std::string text = identity::to_json(a.genesis).dump();
        s.status(s.request("POST", "/" + a.did, text.substr(0, text.size() / 2)), 400,
                 "POST of truncated JSON");
      });
  add(cases, catalog, "reject.not-an-operation",
      {"plc.directory.submit.malformed", "plc.op.fields"},
      "a JSON object that is not an operation (fields missing) is rejected with 400",
      [](Session& s) {
        Account a;
        json partial = identity::to_json(a.genesis);
        partial.erase("services");
        partial.erase("rotationKeys");
        s.status(s.request("POST", "/" + a.did, partial.dump()), 400,
                 "POST of an operation without rotationKeys and services");
      });
}

void add_concurrency_case(std::vector<Case>& cases, const Catalog& catalog) {
  // [plc.directory.no-fork]
  add(cases, catalog, "concurrent.no-fork", {"plc.directory.no-fork"},
      "eight different updates of the same head sent at once: exactly one is accepted",
      [](Session& s) {
        auto a = created(s);
        if (!a) return;
        // All signed by the same key, so none may override another.
        std::vector<json> requests;
        for (int i = 0; i < 8; ++i) {
          requests.push_back(
              {{"method", "POST"},
               {"path", "/" + a->did},
               {"body", identity::to_json(a->update(cid_of(a->genesis), a->high)).dump()}});
        }
        std::vector<Response> responses(requests.size());
        std::atomic<bool> go{false};
        std::vector<std::thread> threads;
        Target& target = s.target();
        for (std::size_t i = 0; i < requests.size(); ++i) {
          threads.emplace_back([&, i] {
            while (!go) std::this_thread::yield();
            responses[i] = target.call(kPlcDirectoryHttp, requests[i]);
          });
        }
        go = true;
        for (auto& t : threads) t.join();
        int accepted = 0;
        std::optional<PlcOperation> winner;
        for (std::size_t i = 0; i < requests.size(); ++i) {
          Http h = s.note(requests[i], responses[i]);
          if (h.accepted()) {
            ++accepted;
            winner =
                identity::parse_plc_operation(json::parse(requests[i]["body"].get<std::string>()))
                    .value();
          } else if (!s.check(h.client_error(), "a losing concurrent update answered HTTP " +
                                                    std::to_string(h.status) + ", want 4xx")) {
            return;
          }
        }
        if (!s.check(accepted == 1,
                     std::to_string(accepted) + " of 8 conflicting updates were accepted", 1)) {
          return;
        }
        audit_matches(s, a->did, {a->genesis, *winner}, {false, false}, &*winner);
      });
}

void add_export_cases(std::vector<Case>& cases, const Catalog& catalog) {
  // [plc.directory.export] Paged by createdAt from just before the DID's
  // genesis, 2 lines a page: the DID's three operations in order, with the
  // nullified flag of the recovered one.
  add(cases, catalog, "export.created-at-cursor", {"plc.directory.export", "plc.log.nullified"},
      "/export paged by createdAt lists the DID's operations in order with their flags",
      [](Session& s) {
        auto r = recovered_account(s);
        if (!r) return;
        std::vector<json> lines;
        std::string cursor = r->before;
        for (int page = 0; page < 500; ++page) {
          Http h = s.get("/export?count=2&after=" + encode_query(cursor));
          if (!s.status(h, 200, "GET /export")) return;
          auto got = json_lines(h.text);
          if (got.empty()) break;
          for (const auto& line : got) {
            if (!s.check(
                    line.is_object() && line.contains("createdAt") && line["createdAt"].is_string(),
                    "an /export line is not an object with createdAt")) {
              return;
            }
            auto at = identity::parse_created_at(line["createdAt"].get<std::string>());
            auto bound = identity::parse_created_at(cursor);
            if (!s.check(at.ok() && bound.ok() && *at > *bound,
                         "/export returned a line at " + line["createdAt"].get<std::string>() +
                             ", not after the cursor " + cursor)) {
              return;
            }
            lines.push_back(line);
          }
          cursor = lines.back()["createdAt"].get<std::string>();
          if (entries_of(lines, r->account.did).size() >= r->ops.size()) break;
        }
        export_entries_match(s, entries_of(lines, r->account.did), *r, true);
      });
  // [plc.directory.export.count]
  add(cases, catalog, "export.count", {"plc.directory.export.count"},
      "/export returns no more lines than `count`", [](Session& s) {
        auto r = recovered_account(s);
        if (!r) return;
        for (int count : {1, 2}) {
          Http h =
              s.get("/export?count=" + std::to_string(count) + "&after=" + encode_query(r->before));
          if (!s.status(h, 200, "GET /export")) return;
          auto lines = json_lines(h.text);
          // Three operations exist after the cursor: exactly `count` lines.
          if (!s.check(lines.size() == static_cast<std::size_t>(count),
                       "/export?count=" + std::to_string(count) + " returned " +
                           std::to_string(lines.size()) + " lines",
                       count)) {
            return;
          }
        }
      });
  // [plc.directory.export.sequenced]
  add(cases, catalog, "export.sequenced", {"plc.directory.export.sequenced"},
      "/export with an integer `after` pages sequenced_op lines by seq", [](Session& s) {
        auto r = recovered_account(s);
        if (!r) return;
        std::vector<json> lines;
        std::int64_t cursor = 0;
        for (int page = 0; page < 100; ++page) {
          Http h = s.get("/export?count=1000&after=" + std::to_string(cursor));
          if (!s.status(h, 200, "GET /export?after=<seq>")) return;
          auto got = json_lines(h.text);
          if (got.empty()) break;
          for (const auto& line : got) {
            if (!s.check(line.is_object() && line.value("type", "") == "sequenced_op" &&
                             line.contains("seq") && line["seq"].is_number_integer(),
                         "an /export?after=<seq> line is not a sequenced_op with an integer seq",
                         "{\"type\": \"sequenced_op\", \"seq\": <integer>, ...}")) {
              return;
            }
            auto seq = line["seq"].get<std::int64_t>();
            if (!s.check(seq > cursor, "seq " + std::to_string(seq) +
                                           " is not greater than the cursor " +
                                           std::to_string(cursor))) {
              return;
            }
            cursor = seq;
            lines.push_back(line);
          }
          if (entries_of(lines, r->account.did).size() >= r->ops.size()) break;
        }
        export_entries_match(s, entries_of(lines, r->account.did), *r, false);
      });
}

}  // namespace

std::unique_ptr<Target> make_plc_directory_target(const std::string& base_url, int timeout_ms,
                                                  bool allow_private_addresses) {
  return std::make_unique<PlcDirectoryTarget>(base_url, timeout_ms, allow_private_addresses);
}

std::vector<Case> build_plc_directory_suite(const Catalog& catalog) {
  std::vector<Case> cases;
  add_create_cases(cases, catalog);
  add_update_cases(cases, catalog);
  add_recovery_cases(cases, catalog);
  add_reject_cases(cases, catalog);
  add_concurrency_case(cases, catalog);
  add_export_cases(cases, catalog);
  return cases;
}

}  // namespace atproto::conformance

// What the parts of the PDS share: the settings, the one SQLite database
// (accounts, repositories' blocks, the sequencer's events, blob metadata),
// the official lexicons, and the services each part offers the others.
//
// Locking: every use of `db` holds `db_mutex` (recursive, so a part that
// holds it may call another part). Functions named *_in_tx expect the caller
// to hold the lock inside an open sqlite::Transaction, so that one write
// (blocks, repository root, record index, blob references, firehose event)
// commits atomically or not at all.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "atproto/common/result.hpp"
#include "atproto/common/sqlite.hpp"
#include "atproto/crypto/keys.hpp"
#include "atproto/lexicon/catalog.hpp"
#include "atproto/pds/config.hpp"
#include "atproto/syntax/datetime.hpp"
#include "atproto/xrpc/http_server.hpp"
#include "atproto/xrpc/jwt.hpp"

namespace atproto::pds {

class Sequencer;
class Repos;
class Blobs;

// How a request was authenticated.
enum class AuthScope {
  kAccess,                 // a full session (password login)
  kAppPassword,            // an app password session
  kAppPasswordPrivileged,  // an app password marked privileged
};

struct Caller {
  std::string did;
  AuthScope scope = AuthScope::kAccess;
};

enum class AccountStatus { kActive, kDeactivated, kTakendown, kDeleted };
const char* account_status_name(AccountStatus status);  // "active", "deactivated", ...

struct AccountInfo {
  std::string did;
  std::string handle;
  std::string email;
  AccountStatus status = AccountStatus::kActive;
  std::string created_at;
};

// What the repository, blob and sync routes need from the account side.
// The accounts part implements it; tests of the other parts may fake it.
class AccountAccess {
 public:
  virtual ~AccountAccess() = default;
  // Checks `Authorization: Bearer <access token>`. The error's code is the
  // XRPC error name to answer with ("AuthenticationRequired",
  // "ExpiredToken", "InvalidToken", "AccountDeactivated", ...); respond with
  // auth_error_response().
  virtual Result<Caller> authenticate(const xrpc::HttpRequest& request) const = 0;
  // By DID or handle; nullopt when there is no such account (deleted
  // accounts are gone).
  virtual Result<std::optional<AccountInfo>> find(std::string_view did_or_handle) const = 0;
  virtual Result<crypto::PrivateKey> signing_key(std::string_view did) const = 0;
};

// 401 (400 for AccountDeactivated-like states, per the error) with an XRPC
// body and, for 401, `WWW-Authenticate: Bearer`.
// https://atproto.com/specs/xrpc#authentication
xrpc::HttpResponse auth_error_response(const Error& error);

struct PdsContext {
  PdsConfig config;
  sqlite::Database db;
  mutable std::recursive_mutex db_mutex;
  lexicon::Catalog catalog;  // official lexicons: params, bodies, records

  // Filled in by Pds::open (pds.hpp); owned elsewhere, never null once the
  // server runs.
  AccountAccess* accounts = nullptr;
  Repos* repos = nullptr;
  Blobs* blobs = nullptr;
  Sequencer* sequencer = nullptr;

  // [xrpc.jwt.jti-replay] The inter-service tokens this PDS accepted, until
  // they expire: each is accepted once.
  xrpc::JtiReplayCache service_auth_replay;

  explicit PdsContext(PdsConfig c, sqlite::Database d) : config(std::move(c)), db(std::move(d)) {}
};

// Now as RFC 3339 with milliseconds, UTC ("2026-12-06T09:35:02.123Z").
using syntax::now_datetime;

}  // namespace atproto::pds

// The relay's durable state behind one interface: what it knows of each
// account (the last verified commit, hosting status, the host it came from),
// of each upstream host (its cursor and status), and its own re-sequenced
// output event log. SqliteAccountStore is the embedded implementation; a
// PostgreSQL one can follow behind the same interface when one machine is
// outgrown (DESIGN.md, "Servers").
// https://atproto.com/specs/sync#firehose
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "atproto/common/result.hpp"
#include "atproto/data/cid.hpp"

namespace atproto::relay {

using Bytes = std::vector<std::uint8_t>;

// [relay.account.state] What the relay tracks per account: the chain of
// verified commits (rev, commit CID, MST root), the upstream hosting status
// and whether the chain broke and a resync from getRepo is due.
struct AccountState {
  std::string did;
  std::string host;                // hostname of the PDS whose stream it came from
  std::optional<std::string> rev;  // last verified rev
  // The last verified commit's CID and its MST root, kept as CIDs (not
  // their string form): the checklist compares the next commit's prevData
  // with `data` on every event, and the SQLite store keeps their bytes; only
  // the API's answers spell them as strings.
  std::optional<atproto::data::Cid> head;
  std::optional<atproto::data::Cid> data;  // (qualified: `data` names the member here)
  bool active = true;
  std::optional<std::string> status;  // upstream status when inactive
  bool desynchronized = false;        // [relay.resync] chain broken, resync due

  friend bool operator==(const AccountState&, const AccountState&) = default;
};

// Host status names of com.atproto.sync.defs#hostStatus.
inline constexpr const char* kHostActive = "active";
inline constexpr const char* kHostIdle = "idle";
inline constexpr const char* kHostOffline = "offline";
inline constexpr const char* kHostThrottled = "throttled";
inline constexpr const char* kHostBanned = "banned";

struct HostState {
  std::int64_t id = 0;  // order of first sight: listHosts pages by it
  std::string hostname;
  std::int64_t cursor = 0;  // [relay.host.cursor] last upstream seq processed
  std::string status = kHostActive;
  std::int64_t account_count = 0;
};

// One event of the relay's output log, already encoded with its new seq.
struct StoredEvent {
  std::int64_t seq = 0;
  std::int64_t time_ms = 0;  // when sequenced (retention)
  Bytes frame;
};

class AccountStore {
 public:
  virtual ~AccountStore() = default;

  virtual Result<std::optional<AccountState>> account(std::string_view did) = 0;
  // Accounts in DID order, after `after_did` ("" for the first page).
  virtual Result<std::vector<AccountState>> list_accounts(std::string_view after_did,
                                                          int limit) = 0;
  virtual Status put_account(const AccountState& account) = 0;

  virtual Result<std::optional<HostState>> host(std::string_view hostname) = 0;
  // Hosts in order of first sight, after the one with id `after_id`.
  virtual Result<std::vector<HostState>> list_hosts(std::int64_t after_id, int limit) = 0;
  // Adds the host when new (status active, cursor 0); returns its state.
  virtual Result<HostState> add_host(std::string_view hostname) = 0;
  virtual Status set_host_status(std::string_view hostname, std::string_view status) = 0;
  virtual Status set_host_cursor(std::string_view hostname, std::int64_t cursor) = 0;

  // One change of an append: an account's new state, an output event, or
  // both. `encode` receives the event's seq and returns its frame.
  struct Append {
    std::optional<AccountState> account;
    std::function<Bytes(std::int64_t seq)> encode;  // empty: no event
    std::int64_t time_ms = 0;                       // when sequenced (retention)
  };
  struct Appended {
    std::int64_t seq = 0;
    Bytes frame;
  };
  // [relay.output.seq] One transaction (a group commit): every change of
  // the batch in order, each event under the next sequence number, and the
  // host's cursor (when a host is given). Returns the events stored.
  virtual Result<std::vector<Appended>> append(const std::vector<Append>& batch,
                                               std::string_view hostname,
                                               std::int64_t host_cursor) = 0;
  // append() of one event.
  Result<std::int64_t> append_event(const AccountState* account, std::string_view hostname,
                                    std::int64_t host_cursor, std::int64_t time_ms,
                                    const std::function<Bytes(std::int64_t seq)>& encode) {
    std::vector<Append> batch(1);
    if (account) batch[0].account = *account;
    batch[0].encode = encode;
    batch[0].time_ms = time_ms;
    auto out = append(batch, hostname, host_cursor);
    if (!out) return out.error();
    return out.value().front().seq;
  }
  // Output events with seq > `after`, oldest first, at most `limit`.
  virtual Result<std::vector<StoredEvent>> events_after(std::int64_t after, int limit) = 0;
  // Last and first stored seq; 0 when the log is empty.
  virtual Result<std::int64_t> last_seq() = 0;
  virtual Result<std::int64_t> first_seq() = 0;
  // [relay.output.retention] Drops events sequenced before `time_ms`.
  virtual Status prune_events(std::int64_t before_time_ms) = 0;
};

// How the output event log is kept on disk (event_log.hpp).
struct EventLogOptions {
  // A segment takes no more events once it holds this many bytes ...
  std::uint64_t segment_bytes = 64ull << 20;
  // ... or once its first event is this old (retention prunes whole
  // segments, so this bounds how long an expired event outlives its window).
  std::int64_t segment_ms = 3600 * 1000;
  // fdatasync each batch before it is committed (false: tests only).
  bool sync = true;
};

// The embedded store: accounts and hosts in one SQLite database in WAL mode
// at `path`, the output event log in segment files in `events_dir` (empty:
// the folder "events" beside the database). A database of an older version,
// with its log in an `event` table, has the log moved out on opening.
Result<std::unique_ptr<AccountStore>> open_sqlite_account_store(const std::string& path,
                                                                std::string events_dir = "",
                                                                EventLogOptions events = {});

}  // namespace atproto::relay

// Moves the write-ahead log into the database file on a thread of its own.
//
// SQLite's automatic checkpoint runs inside the COMMIT that crosses its
// threshold (1,000 pages): one write in a hundred or so waited for a few
// megabytes to be copied and synced, which is the p99 of createRecord.
// Here the main connection only counts pages (its WAL hook) and a second
// connection checkpoints in two steps: first in PASSIVE mode, next to the
// writers, which copies almost everything; then, with db_mutex held so that
// no write runs, the few frames committed meanwhile. The log is then wholly
// copied, and the next write starts it over from its beginning: without
// that second step a busy log is never complete and grows without end.
// Nothing about durability changes: a COMMIT is durable once the log is
// synced (synchronous=FULL); a checkpoint only moves pages already there.
// https://www.sqlite.org/wal.html#application_initiated_checkpoints
#pragma once

#include <memory>
#include <string>

#include "atproto/common/result.hpp"
#include "atproto/pds/context.hpp"

namespace atproto::pds {

class WalCheckpointer {
 public:
  // Takes over checkpointing of context.db (the file at `path`).
  static Result<std::unique_ptr<WalCheckpointer>> start(PdsContext& context,
                                                        const std::string& path);
  ~WalCheckpointer();  // stop()
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;
  // Hands checkpointing back to the main connection and ends the thread.
  void stop();

 private:
  WalCheckpointer() = default;
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace atproto::pds

// Moves the write-ahead log into the database file on a thread of its own.
//
// SQLite's automatic checkpoint runs inside the COMMIT that crosses its
// threshold (1,000 pages): one write in a hundred or so waited for a few
// megabytes to be copied and synced, which is the p99 of createRecord.
// Here the main connection only counts frames (its WAL hook) and wakes a
// second connection every 4,000 frames, which checkpoints in PASSIVE mode,
// next to the writers: it copies almost everything, each page once however
// often the window rewrote it. That never completes a busy log (writers
// append meanwhile), so once the log holds 16,000 frames a second step
// runs with db_mutex held, so that no write runs, and copies the few frames
// committed meanwhile; the log is then wholly copied and the next write
// starts it over from its beginning. Without that step a busy log would
// grow without end; taken on every wake, as it was, its syncs held the
// writers off every few dozen commits (the p99 of createRecord), now once
// in some hundreds. An idle log is copied every few seconds and starts over
// too.
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

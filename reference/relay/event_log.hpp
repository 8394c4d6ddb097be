// The relay's output event log: append-only segment files on disk, outside
// the account database, with an index from seq to file offset. Frames are
// written in batches (one pwritev per batch) and synced before the batch's
// account state and upstream cursor are committed in SQLite, so that a
// persisted cursor never covers events the log could lose.
//
// On disk, in its folder (DIR/events of the relay), segment N is two files
// named by the seq of its first event (20 decimal digits, so names sort in
// seq order):
//   <first>.events  "ATRLOG01", then records: u32 frame length, u32 CRC-32C
//                   of the rest of the record, i64 seq, i64 time_ms, frame
//                   (little-endian integers)
//   <first>.index   one u64 per record: its offset in <first>.events
// The seqs of a segment are consecutive from <first>; a jump in seq starts
// a new segment, as does a full (segment_bytes) or old (segment_ms)
// one. Retention prunes whole segments, never the newest.
// https://atproto.com/specs/event-stream#sequence-numbers
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "atproto/common/result.hpp"
#include "atproto/relay/account_store.hpp"

namespace atproto::relay {

class EventLog {
 public:
  // Opens (creating when missing) the log in `dir`, which no other EventLog
  // (of this or another process) may have open. The newest segment is
  // read through and cut at its first incomplete or damaged record (what a
  // crash in the middle of a write leaves), its index rebuilt from it.
  static Result<std::unique_ptr<EventLog>> open(const std::string& dir,
                                                EventLogOptions options = {});
  ~EventLog();
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  struct Record {
    std::int64_t seq = 0;
    std::int64_t time_ms = 0;
    std::span<const std::uint8_t> frame;
  };
  // Writes the records (seqs increasing, all after last_seq()) and, with
  // options.sync, makes them durable. Readers do not see them until
  // commit(); rollback() takes them back. One write at a time.
  Status write(const std::vector<Record>& records);
  void commit();
  void rollback();

  // Committed events with seq > `after`, oldest first, at most `limit`;
  // after a gap (pruned or skipped seqs) the first one kept.
  Result<std::vector<StoredEvent>> read_after(std::int64_t after, int limit) const;
  // Last committed seq (also of a segment since emptied by truncate_after);
  // 0 for an empty log.
  std::int64_t last_seq() const;
  // First seq kept; 0 when no event is kept.
  std::int64_t first_seq() const;
  // [relay.output.retention] Deletes the segments whose newest event was
  // sequenced before `before_time_ms`, except the newest segment.
  Status prune(std::int64_t before_time_ms);
  // Drops the events after `seq` (opening only: what a batch wrote whose
  // transaction never committed).
  Status truncate_after(std::int64_t seq);

 private:
  struct Segment;
  EventLog(std::string dir, EventLogOptions options);
  Status load();
  Result<std::shared_ptr<Segment>> create_segment(std::int64_t first);
  Status recover(Segment& segment);

  std::string dir_;
  EventLogOptions options_;
  int lock_fd_ = -1;          // holds an exclusive flock on DIR/lock while open
  mutable std::mutex mutex_;  // guards segments_ and the counts
  std::vector<std::shared_ptr<Segment>> segments_;  // in seq order
  // What write() wrote and commit() publishes: the segment it went to and
  // the records and bytes after the committed ones there.
  std::shared_ptr<Segment> pending_segment_;
  std::int64_t pending_count_ = 0;
  std::uint64_t pending_bytes_ = 0;
  std::int64_t pending_last_time_ = 0;
};

}  // namespace atproto::relay

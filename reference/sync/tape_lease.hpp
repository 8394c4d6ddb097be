// Internal to the sync layer: CBOR tapes kept per thread for the decodes of
// the firehose's hot path (frame bodies, carried records), so that steady
// state decoding allocates nothing.
#pragma once

#include <cstddef>
#include <vector>

#include "atproto/data/cbor_view.hpp"

namespace atproto::sync::detail {

// The tape of the calling thread for one use, named by `Use` (each use has
// its own tape, so a lease never clobbers the views of another one that is
// still held). A tape that grew for an unusually large input (up to
// kMaxFrameBytes of tiny items) is let go when the lease ends, so a thread
// keeps a modest one.
template <typename Use>
class TapeLease {
 public:
  TapeLease() : tape_(thread_tape()) {}
  ~TapeLease() {
    if (tape_.entries().capacity() > kKeptTapeEntries) {
      std::vector<data::TapeEntry>().swap(tape_.entries());
    }
  }
  TapeLease(const TapeLease&) = delete;
  TapeLease& operator=(const TapeLease&) = delete;
  data::CborTape& tape() { return tape_; }

 private:
  static constexpr std::size_t kKeptTapeEntries = 1 << 16;
  static data::CborTape& thread_tape() {
    thread_local data::CborTape tape;
    return tape;
  }
  data::CborTape& tape_;
};

}  // namespace atproto::sync::detail

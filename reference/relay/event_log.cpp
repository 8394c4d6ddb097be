// The relay's output event log on segment files; see event_log.hpp.
#include "atproto/relay/event_log.hpp"
#include "atproto/common/files.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/crc.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>

namespace atproto::relay {

namespace {

constexpr const char* kIoError = "storage.io";
constexpr std::array<std::uint8_t, 8> kMagic = {'A', 'T', 'R', 'L', 'O', 'G', '0', '1'};
constexpr std::size_t kHeaderBytes = 24;  // length, CRC, seq, time
// No frame the relay writes is near this (sync::kMaxFrameBytes is far
// below); a larger length can only be a damaged record.
constexpr std::uint32_t kMaxRecordFrame = 64u << 20;

Error io_error(const std::string& what) {
  return make_error(kIoError, what + ": " + std::strerror(errno));
}

void put_u32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
void put_u64(std::uint8_t* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
std::uint32_t get_u32(const std::uint8_t* p) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
std::uint64_t get_u64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// CRC-32C (Castagnoli) of a record: its seq and time, then its frame. The
// SSE 4.2 instruction where the processor has it, boost's table otherwise:
// the same function.
using Crc32c = boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true>;

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) std::uint32_t crc32c_sse42(std::uint32_t crc,
                                                             std::span<const std::uint8_t> bytes) {
  std::uint64_t c = crc;
  const std::uint8_t* p = bytes.data();
  std::size_t n = bytes.size();
  for (; n >= 8; n -= 8, p += 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);
    c = __builtin_ia32_crc32di(c, word);
  }
  auto c32 = static_cast<std::uint32_t>(c);
  for (; n > 0; --n, ++p) c32 = __builtin_ia32_crc32qi(c32, *p);
  return c32;
}
const bool kHaveSse42 = [] {
  __builtin_cpu_init();  // may run before the constructors that would do it
  return __builtin_cpu_supports("sse4.2") != 0;
}();
#endif

std::uint32_t record_crc(std::span<const std::uint8_t> seq_and_time,
                         std::span<const std::uint8_t> frame) {
#if defined(__x86_64__)
  if (kHaveSse42) {
    return ~crc32c_sse42(crc32c_sse42(0xFFFFFFFFu, seq_and_time), frame);
  }
#endif
  Crc32c crc;
  crc.process_bytes(seq_and_time.data(), seq_and_time.size());
  crc.process_bytes(frame.data(), frame.size());
  return crc.checksum();
}

std::array<std::uint8_t, kHeaderBytes> record_header(std::int64_t seq, std::int64_t time_ms,
                                                     std::span<const std::uint8_t> frame) {
  std::array<std::uint8_t, kHeaderBytes> h{};
  put_u32(h.data(), static_cast<std::uint32_t>(frame.size()));
  put_u64(h.data() + 8, static_cast<std::uint64_t>(seq));
  put_u64(h.data() + 16, static_cast<std::uint64_t>(time_ms));
  put_u32(h.data() + 4, record_crc(std::span(h).subspan(8), frame));
  return h;
}

// pread/pwrite until done (they may transfer less than asked).
template <typename Byte, typename Transfer>
bool transfer_all(Transfer transfer, int fd, Byte* p, std::size_t size, std::uint64_t offset) {
  while (size > 0) {
    ssize_t n = transfer(fd, p, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<std::size_t>(n);
    offset += static_cast<std::uint64_t>(n);
  }
  return true;
}
bool read_exact(int fd, std::uint8_t* out, std::size_t size, std::uint64_t offset) {
  return transfer_all(::pread, fd, out, size, offset);
}
bool write_exact(int fd, const std::uint8_t* data, std::size_t size, std::uint64_t offset) {
  return transfer_all(::pwrite, fd, data, size, offset);
}
// All of `iov` at `offset`, IOV_MAX entries at a time, resuming after a
// short write.
bool writev_exact(int fd, std::vector<iovec> iov, std::uint64_t offset) {
  std::size_t at = 0;
  while (at < iov.size()) {
    int count = static_cast<int>(std::min<std::size_t>(iov.size() - at, IOV_MAX));
    ssize_t n = ::pwritev(fd, iov.data() + at, count, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    offset += static_cast<std::uint64_t>(n);
    auto left = static_cast<std::size_t>(n);
    while (at < iov.size() && left >= iov[at].iov_len) left -= iov[at++].iov_len;
    if (left > 0) {
      iov[at].iov_base = static_cast<std::uint8_t*>(iov[at].iov_base) + left;
      iov[at].iov_len -= left;
    }
  }
  return true;
}

std::string segment_name(std::int64_t first) {
  std::string digits = std::to_string(first);
  return std::string(20 - std::min<std::size_t>(digits.size(), 20), '0') + digits;
}

}  // namespace

struct EventLog::Segment {
  std::int64_t first = 0;  // seq of its first record
  std::string data_path, index_path;
  int data_fd = -1;
  int index_fd = -1;
  // Committed: records, bytes of the data file, the times of the first and
  // the newest record.
  std::int64_t count = 0;
  std::uint64_t data_size = kMagic.size();
  std::int64_t first_time_ms = 0;
  std::int64_t last_time_ms = 0;
  bool removed = false;  // pruned or truncated away: unlink when closed

  ~Segment() {
    if (data_fd >= 0) ::close(data_fd);
    if (index_fd >= 0) ::close(index_fd);
    if (removed) {
      ::unlink(data_path.c_str());
      ::unlink(index_path.c_str());
    }
  }
};

EventLog::EventLog(std::string dir, EventLogOptions options)
    : dir_(std::move(dir)), options_(options) {}

EventLog::~EventLog() {
  segments_.clear();
  pending_segment_.reset();
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

Result<std::unique_ptr<EventLog>> EventLog::open(const std::string& dir, EventLogOptions options) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return make_error(kIoError, "cannot create " + dir + ": " + ec.message());
  std::unique_ptr<EventLog> log(new EventLog(dir, options));
  // One writer per log: a second relay on the same folder is refused
  // rather than let two write the same segments.
  const std::string lock_path = dir + "/lock";
  log->lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (log->lock_fd_ < 0) return io_error("open " + lock_path);
  if (::flock(log->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return make_error(kIoError, dir + " is in use by another process");
  }
  if (auto s = log->load(); !s) return s.error();
  return log;
}

Status EventLog::load() {
  std::vector<std::int64_t> firsts;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    const auto& path = entry.path();
    if (path.extension() != ".events") continue;
    const std::string stem = path.stem().string();
    if (stem.size() != 20 || stem.find_first_not_of("0123456789") != std::string::npos) continue;
    firsts.push_back(std::stoll(stem));
  }
  if (ec) return make_error(kIoError, "cannot list " + dir_ + ": " + ec.message());
  std::sort(firsts.begin(), firsts.end());
  for (std::size_t i = 0; i < firsts.size(); ++i) {
    auto segment = std::make_shared<Segment>();
    segment->first = firsts[i];
    segment->data_path = dir_ + "/" + segment_name(firsts[i]) + ".events";
    segment->index_path = dir_ + "/" + segment_name(firsts[i]) + ".index";
    segment->data_fd = ::open(segment->data_path.c_str(), O_RDWR | O_CLOEXEC);
    segment->index_fd = ::open(segment->index_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (segment->data_fd < 0 || segment->index_fd < 0) {
      return io_error("open " + segment->data_path);
    }
    if (i + 1 == firsts.size()) {
      // The newest segment: what a crash left at its end is cut off.
      if (auto s = recover(*segment); !s) return s.error();
    } else {
      // Older segments were synced, index too, before the next one began.
      struct stat data_stat {};
      struct stat index_stat {};
      if (::fstat(segment->data_fd, &data_stat) != 0 ||
          ::fstat(segment->index_fd, &index_stat) != 0) {
        return io_error("stat " + segment->data_path);
      }
      segment->count = index_stat.st_size / 8;
      segment->data_size = static_cast<std::uint64_t>(data_stat.st_size);
      for (std::int64_t at : {std::int64_t{0}, segment->count - 1}) {
        if (segment->count == 0) break;
        std::array<std::uint8_t, 8> offset{};
        std::array<std::uint8_t, kHeaderBytes> header{};
        if (!read_exact(segment->index_fd, offset.data(), 8, static_cast<std::uint64_t>(at) * 8) ||
            !read_exact(segment->data_fd, header.data(), header.size(), get_u64(offset.data()))) {
          return make_error(kIoError, "damaged index of " + segment->data_path);
        }
        auto time = static_cast<std::int64_t>(get_u64(header.data() + 16));
        (at == 0 ? segment->first_time_ms : segment->last_time_ms) = time;
      }
    }
    segments_.push_back(std::move(segment));
  }
  return {};
}

// Reads the segment's records in order, keeps those that are whole, in
// seq order and match their CRC, cuts the data file after the last of them
// and writes the index again from them.
Status EventLog::recover(Segment& segment) {
  struct stat st {};
  if (::fstat(segment.data_fd, &st) != 0) return io_error("stat " + segment.data_path);
  const auto size = static_cast<std::uint64_t>(st.st_size);
  std::array<std::uint8_t, 8> magic{};
  bool has_magic =
      size >= kMagic.size() && read_exact(segment.data_fd, magic.data(), 8, 0) && magic == kMagic;
  if (!has_magic && size > 0 && size >= kMagic.size()) {
    return make_error(kIoError, segment.data_path + " is not an event log segment");
  }
  std::vector<std::uint8_t> index;
  std::uint64_t offset = kMagic.size();
  if (has_magic) {
    std::vector<std::uint8_t> buffer;
    while (offset + kHeaderBytes <= size) {
      std::array<std::uint8_t, kHeaderBytes> header{};
      if (!read_exact(segment.data_fd, header.data(), header.size(), offset)) break;
      const std::uint32_t length = get_u32(header.data());
      const auto seq = static_cast<std::int64_t>(get_u64(header.data() + 8));
      if (length > kMaxRecordFrame || offset + kHeaderBytes + length > size) break;
      if (seq != segment.first + segment.count) break;
      buffer.resize(length);
      if (!read_exact(segment.data_fd, buffer.data(), length, offset + kHeaderBytes)) break;
      if (record_crc(std::span(header).subspan(8), buffer) != get_u32(header.data() + 4)) break;
      const auto time = static_cast<std::int64_t>(get_u64(header.data() + 16));
      if (segment.count == 0) segment.first_time_ms = time;
      segment.last_time_ms = time;
      index.resize(index.size() + 8);
      put_u64(index.data() + index.size() - 8, offset);
      ++segment.count;
      offset += kHeaderBytes + length;
    }
  } else if (!write_exact(segment.data_fd, kMagic.data(), kMagic.size(), 0)) {
    return io_error("write " + segment.data_path);
  }
  segment.data_size = offset;
  if (::ftruncate(segment.data_fd, static_cast<off_t>(offset)) != 0 ||
      ::ftruncate(segment.index_fd, 0) != 0 ||
      !write_exact(segment.index_fd, index.data(), index.size(), 0)) {
    return io_error("repair " + segment.data_path);
  }
  return {};
}

Result<std::shared_ptr<EventLog::Segment>> EventLog::create_segment(std::int64_t first) {
  auto segment = std::make_shared<Segment>();
  segment->first = first;
  segment->data_path = dir_ + "/" + segment_name(first) + ".events";
  segment->index_path = dir_ + "/" + segment_name(first) + ".index";
  segment->data_fd =
      ::open(segment->data_path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  segment->index_fd =
      ::open(segment->index_path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (segment->data_fd < 0 || segment->index_fd < 0) {
    segment->removed = true;
    return io_error("create " + segment->data_path);
  }
  if (!write_exact(segment->data_fd, kMagic.data(), kMagic.size(), 0) ||
      (options_.sync && (::fdatasync(segment->data_fd) != 0 || !sync_directory(dir_)))) {
    segment->removed = true;
    return io_error("create " + segment->data_path);
  }
  return segment;
}

Status EventLog::write(const std::vector<Record>& records) {
  if (records.empty()) return {};
  std::shared_ptr<Segment> segment;
  {
    std::lock_guard lock(mutex_);
    if (!segments_.empty()) segment = segments_.back();
  }
  pending_segment_.reset();
  pending_count_ = 0;
  pending_bytes_ = 0;
  const Record& first = records.front();
  // An empty newest segment (its first write was rolled back) takes its
  // own first seq whatever the limits: a second segment of the same name
  // must never be made.
  bool fits =
      segment && first.seq == segment->first + segment->count &&
      (segment->count == 0 || (segment->data_size < options_.segment_bytes &&
                               first.time_ms - segment->first_time_ms < options_.segment_ms));
  if (!fits) {
    if (segment && options_.sync && ::fdatasync(segment->index_fd) != 0) {
      return io_error("sync " + segment->index_path);
    }
    auto created = create_segment(first.seq);
    if (!created) return created.error();
    segment = std::move(created).value();
    std::lock_guard lock(mutex_);
    segments_.push_back(segment);
  }
  std::vector<std::array<std::uint8_t, kHeaderBytes>> headers;
  headers.reserve(records.size());
  std::vector<iovec> iov;
  iov.reserve(records.size() * 2);
  std::vector<std::uint8_t> index(records.size() * 8);
  std::uint64_t offset = segment->data_size;
  std::int64_t expected = first.seq;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const Record& r = records[i];
    if (r.seq != expected++ || r.frame.size() > kMaxRecordFrame) {
      return make_error(kIoError, "event log: records must have consecutive seqs");
    }
    headers.push_back(record_header(r.seq, r.time_ms, r.frame));
    iov.push_back({headers.back().data(), kHeaderBytes});
    iov.push_back({const_cast<std::uint8_t*>(r.frame.data()), r.frame.size()});
    put_u64(index.data() + i * 8, offset);
    offset += kHeaderBytes + r.frame.size();
  }
  if (!writev_exact(segment->data_fd, std::move(iov), segment->data_size) ||
      !write_exact(segment->index_fd, index.data(), index.size(),
                   static_cast<std::uint64_t>(segment->count) * 8)) {
    (void)::ftruncate(segment->data_fd, static_cast<off_t>(segment->data_size));
    return io_error("write " + segment->data_path);
  }
  // The index is not synced here: opening rebuilds the newest segment's
  // index from its data, and an older segment's was synced when the next
  // one began.
  if (options_.sync && ::fdatasync(segment->data_fd) != 0) {
    (void)::ftruncate(segment->data_fd, static_cast<off_t>(segment->data_size));
    return io_error("sync " + segment->data_path);
  }
  pending_segment_ = segment;
  pending_count_ = static_cast<std::int64_t>(records.size());
  pending_bytes_ = offset - segment->data_size;
  pending_last_time_ = records.back().time_ms;
  if (segment->count == 0) segment->first_time_ms = first.time_ms;
  return {};
}

void EventLog::commit() {
  if (!pending_segment_) return;
  std::lock_guard lock(mutex_);
  pending_segment_->count += pending_count_;
  pending_segment_->data_size += pending_bytes_;
  pending_segment_->last_time_ms = pending_last_time_;
  pending_segment_.reset();
}

void EventLog::rollback() {
  if (!pending_segment_) return;
  auto& s = *pending_segment_;
  (void)::ftruncate(s.data_fd, static_cast<off_t>(s.data_size));
  (void)::ftruncate(s.index_fd, static_cast<off_t>(s.count * 8));
  pending_segment_.reset();
}

Result<std::vector<StoredEvent>> EventLog::read_after(std::int64_t after, int limit) const {
  // A snapshot of the committed segments and counts; the reads below run
  // outside the lock (a pruned segment's files stay open until dropped).
  struct View {
    std::shared_ptr<Segment> segment;
    std::int64_t count;
    std::uint64_t data_size;
  };
  std::vector<View> views;
  {
    std::lock_guard lock(mutex_);
    for (const auto& s : segments_) {
      if (s->count > 0 && s->first + s->count - 1 > after) {
        views.push_back({s, s->count, s->data_size});
      }
    }
  }
  std::vector<StoredEvent> out;
  std::int64_t next = after + 1;
  for (const auto& v : views) {
    if (static_cast<int>(out.size()) >= limit) break;
    const Segment& s = *v.segment;
    next = std::max(next, s.first);
    const std::int64_t from = next - s.first;
    const std::int64_t n =
        std::min<std::int64_t>(v.count - from, limit - static_cast<int>(out.size()));
    if (n <= 0) continue;
    // The offsets of records from .. from + n, and where the last one ends.
    const bool to_end = from + n == v.count;
    std::vector<std::uint8_t> index(static_cast<std::size_t>(n + (to_end ? 0 : 1)) * 8);
    if (!read_exact(s.index_fd, index.data(), index.size(), static_cast<std::uint64_t>(from) * 8)) {
      return make_error(kIoError, "read " + s.index_path);
    }
    const std::uint64_t begin = get_u64(index.data());
    const std::uint64_t end = to_end ? v.data_size : get_u64(index.data() + n * 8);
    if (end < begin || end > v.data_size) return make_error(kIoError, "damaged " + s.index_path);
    std::vector<std::uint8_t> data(end - begin);
    if (!read_exact(s.data_fd, data.data(), data.size(), begin)) {
      return make_error(kIoError, "read " + s.data_path);
    }
    std::size_t at = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      if (at + kHeaderBytes > data.size()) return make_error(kIoError, "damaged " + s.data_path);
      const std::uint8_t* h = data.data() + at;
      const std::uint32_t length = get_u32(h);
      const auto seq = static_cast<std::int64_t>(get_u64(h + 8));
      if (at + kHeaderBytes + length > data.size() || seq != next) {
        return make_error(kIoError, "damaged " + s.data_path);
      }
      std::span<const std::uint8_t> frame(h + kHeaderBytes, length);
      if (record_crc(std::span(h + 8, 16), frame) != get_u32(h + 4)) {
        return make_error(kIoError, "event " + std::to_string(seq) + " of " + s.data_path +
                                        " does not match its checksum");
      }
      out.push_back(
          {seq, static_cast<std::int64_t>(get_u64(h + 16)), Bytes(frame.begin(), frame.end())});
      at += kHeaderBytes + length;
      ++next;
    }
  }
  return out;
}

std::int64_t EventLog::last_seq() const {
  std::lock_guard lock(mutex_);
  if (segments_.empty()) return 0;
  const auto& s = *segments_.back();
  return s.first + s.count - 1;
}

std::int64_t EventLog::first_seq() const {
  std::lock_guard lock(mutex_);
  for (const auto& s : segments_) {
    if (s->count > 0) return s->first;
  }
  return 0;
}

Status EventLog::prune(std::int64_t before_time_ms) {
  std::lock_guard lock(mutex_);
  while (segments_.size() > 1) {
    auto& oldest = segments_.front();
    if (oldest->count > 0 && oldest->last_time_ms >= before_time_ms) break;
    oldest->removed = true;  // unlinked once no reader holds it
    segments_.erase(segments_.begin());
  }
  return {};
}

Status EventLog::truncate_after(std::int64_t seq) {
  std::lock_guard lock(mutex_);
  // Whole segments after `seq` go, except that the newest stays (empty)
  // so that last_seq() still knows the seqs it held were used.
  while (segments_.size() > 1 && segments_.back()->first > seq) {
    auto& newest = segments_.back();
    if (newest->count == 0) {
      newest->removed = true;
      segments_.pop_back();
      continue;
    }
    break;
  }
  for (auto& s : segments_) {
    if (s->first + s->count - 1 <= seq) continue;
    const std::int64_t keep = std::max<std::int64_t>(seq - s->first + 1, 0);
    std::uint64_t size = kMagic.size();
    if (keep > 0) {
      std::array<std::uint8_t, 8> offset{};
      std::array<std::uint8_t, kHeaderBytes> header{};
      if (!read_exact(s->index_fd, offset.data(), 8, static_cast<std::uint64_t>(keep - 1) * 8) ||
          !read_exact(s->data_fd, header.data(), header.size(), get_u64(offset.data()))) {
        return make_error(kIoError, "read " + s->index_path);
      }
      size = get_u64(offset.data()) + kHeaderBytes + get_u32(header.data());
      s->last_time_ms = static_cast<std::int64_t>(get_u64(header.data() + 16));
    }
    if (::ftruncate(s->data_fd, static_cast<off_t>(size)) != 0 ||
        ::ftruncate(s->index_fd, static_cast<off_t>(keep * 8)) != 0 ||
        (options_.sync && ::fdatasync(s->data_fd) != 0)) {
      return io_error("truncate " + s->data_path);
    }
    s->count = keep;
    s->data_size = size;
  }
  return {};
}

}  // namespace atproto::relay

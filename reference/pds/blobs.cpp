// Blobs on the PDS. https://atproto.com/specs/blob
#include "atproto/pds/blobs.hpp"
#include "atproto/common/files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>

namespace atproto::pds {

namespace {

constexpr std::int64_t kTemporaryMs = 60 * 60 * 1000;  // an hour

// Writes `bytes` to `path` so that the file is either absent or complete:
// a temporary file in the same folder, fsync, rename over, fsync the folder.
Status write_file_atomically(const std::string& path, std::span<const std::uint8_t> bytes) {
  static thread_local std::mt19937_64 random{std::random_device{}()};
  std::string temp = path + ".tmp" + std::to_string(random());
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return make_error(sqlite::kIoError, "cannot create " + temp);
  std::size_t done = 0;
  while (done < bytes.size()) {
    auto n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n <= 0) {
      ::close(fd);
      ::unlink(temp.c_str());
      return make_error(sqlite::kIoError, "cannot write " + temp);
    }
    done += static_cast<std::size_t>(n);
  }
  bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced || std::rename(temp.c_str(), path.c_str()) != 0) {
    ::unlink(temp.c_str());
    return make_error(sqlite::kIoError, "cannot store " + path);
  }
  auto dir = std::filesystem::path(path).parent_path().string();
  (void)sync_directory(dir);
  return {};
}

void find_blobs(const data::Value& value, std::vector<data::BlobRef>& out) {
  if (value.is_array()) {
    for (const auto& v : value.as_array()) find_blobs(v, out);
  } else if (value.is_map()) {
    const auto& map = value.as_map();
    bool legacy = !map.contains("$type") && map.contains("cid") && map.contains("mimeType");
    if (data::is_blob_node(map) || legacy) {
      if (auto blob = data::parse_blob(value); blob.ok()) {
        out.push_back(*blob);
        return;
      }
    }
    for (const auto& [key, v] : map) find_blobs(v, out);
  }
}

}  // namespace

std::vector<data::BlobRef> blob_refs(const data::Value& record) {
  std::vector<data::BlobRef> out;
  find_blobs(record, out);
  return out;
}

Blobs::Blobs(PdsContext& context) : context_(context) {}

std::string Blobs::file_path(const std::string& cid) const {
  return (std::filesystem::path(context_.config.data_dir) / "blobs" / cid).string();
}

Status Blobs::init_schema() {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(context_.config.data_dir) / "blobs",
                                      ec);
  if (ec) return make_error(sqlite::kIoError, "cannot create the blob folder: " + ec.message());
  std::lock_guard lock(context_.db_mutex);
  // A blob row per (account, CID): the same bytes uploaded by two accounts
  // share one file but are two blobs, each collected on its own.
  return context_.db.exec(
      "CREATE TABLE IF NOT EXISTS blob ("
      " did TEXT NOT NULL, cid TEXT NOT NULL, mime_type TEXT NOT NULL,"
      " size INTEGER NOT NULL, created_at INTEGER NOT NULL,"
      " temporary INTEGER NOT NULL DEFAULT 1,"
      " PRIMARY KEY (did, cid)) WITHOUT ROWID;"
      "CREATE INDEX IF NOT EXISTS blob_temporary ON blob(temporary, created_at);"
      "CREATE INDEX IF NOT EXISTS blob_cid ON blob(cid);"
      "CREATE TABLE IF NOT EXISTS record_blob ("
      " did TEXT NOT NULL, path TEXT NOT NULL, cid TEXT NOT NULL, rev TEXT NOT NULL,"
      " PRIMARY KEY (did, path, cid)) WITHOUT ROWID;"
      "CREATE INDEX IF NOT EXISTS record_blob_cid ON record_blob(did, cid);");
}

Result<data::BlobRef> Blobs::upload(const std::string& did, std::span<const std::uint8_t> bytes,
                                    std::string mime_type) {
  // [pds.service.blob-limit] Answered 400 BlobTooLarge.
  if (bytes.size() > context_.config.max_blob_bytes) {
    return make_error("BlobTooLarge", "the blob has " + std::to_string(bytes.size()) +
                                          " bytes; this server takes at most " +
                                          std::to_string(context_.config.max_blob_bytes));
  }
  if (bytes.empty()) {
    // https://atproto.com/specs/data-model#blob-type: size is positive.
    return make_error("InvalidRequest", "an empty blob");
  }
  // https://atproto.com/specs/blob#blob-metadata The CID is ours to
  // compute (raw codec, SHA-256), never the client's.
  data::Cid cid = data::Cid::compute(data::Codec::kRaw, bytes);
  std::string cid_text = cid.to_string();
  // [data.blob.mime-unknown] An upload whose type is not known (no
  // Content-Type, or the */* wildcard uploadBlob's lexicon accepts) is
  // application/octet-stream. https://atproto.com/specs/data-model#blob-type
  if (mime_type.empty() || mime_type == "*/*") mime_type = "application/octet-stream";
  collect();  // the uploads nobody used within the hour
  std::string path = file_path(cid_text);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    if (auto st = write_file_atomically(path, bytes); !st.ok()) return st.error();
  }
  std::lock_guard lock(context_.db_mutex);
  auto insert = context_.db.prepare(
      "INSERT INTO blob (did, cid, mime_type, size, created_at) VALUES (?, ?, ?, ?, ?)"
      " ON CONFLICT (did, cid) DO UPDATE SET created_at = excluded.created_at"
      " WHERE temporary = 1");
  insert.bind(1, did).bind(2, cid_text).bind(3, mime_type);
  insert.bind(4, static_cast<std::int64_t>(bytes.size())).bind(5, unix_time_ms());
  if (auto st = insert.run(); !st.ok()) return st.error();
  return data::BlobRef{cid, mime_type, static_cast<std::int64_t>(bytes.size()), false};
}

Status Blobs::set_record_blobs_in_tx(const std::string& did, const std::string& path,
                                     const std::vector<data::BlobRef>& blobs,
                                     const std::string& rev, bool require_uploaded) {
  std::lock_guard lock(context_.db_mutex);
  // What the record referenced before.
  std::vector<std::string> before;
  {
    auto q = context_.db.prepare("SELECT cid FROM record_blob WHERE did = ? AND path = ?");
    q.bind(1, did).bind(2, path);
    while (q.step() == SQLITE_ROW) before.push_back(q.text(0));
  }
  if (before.empty() && blobs.empty()) return {};
  {
    auto del = context_.db.prepare("DELETE FROM record_blob WHERE did = ? AND path = ?");
    del.bind(1, did).bind(2, path);
    if (auto st = del.run(); !st.ok()) return st;
  }
  for (const auto& blob : blobs) {
    std::string cid = blob.ref.to_string();
    if (require_uploaded && !blob.legacy) {
      // [data.blob.cid-consistent] The reference's CID found the upload
      // (whose CID this server computed from its bytes); its size must be
      // the upload's too. https://atproto.com/specs/blob#blob-metadata
      // Legacy references carry no size to compare.
      auto q = context_.db.prepare("SELECT size FROM blob WHERE did = ? AND cid = ?");
      q.bind(1, did).bind(2, cid);
      if (q.step() == SQLITE_ROW && q.integer(0) != blob.size) {
        return make_error("InvalidSize", "data.blob.cid-consistent: blob " + cid + " has " +
                                             std::to_string(q.integer(0)) +
                                             " bytes, the record says " +
                                             std::to_string(blob.size));
      }
    }
    auto mark = context_.db.prepare("UPDATE blob SET temporary = 0 WHERE did = ? AND cid = ?");
    mark.bind(1, did).bind(2, cid);
    if (auto st = mark.run(); !st.ok()) return st;
    if (context_.db.changes() == 0 && require_uploaded) {
      // A record may only reference blobs its account uploaded.
      return make_error("BlobNotFound", "could not find blob " + cid + " uploaded by " + did);
    }
    auto add = context_.db.prepare(
        "INSERT OR IGNORE INTO record_blob (did, path, cid, rev) VALUES (?, ?, ?, ?)");
    add.bind(1, did).bind(2, path).bind(3, cid).bind(4, rev);
    if (auto st = add.run(); !st.ok()) return st;
  }
  // Blobs this record referenced and no record references now.
  for (const auto& cid : before) {
    auto drop = context_.db.prepare(
        "DELETE FROM blob WHERE did = ? AND cid = ? AND NOT EXISTS"
        " (SELECT 1 FROM record_blob WHERE did = ? AND cid = ?)");
    drop.bind(1, did).bind(2, cid).bind(3, did).bind(4, cid);
    if (auto st = drop.run(); !st.ok()) return st;
    if (context_.db.changes() > 0) {
      std::lock_guard pending(pending_mutex_);
      pending_files_.push_back(cid);
    }
  }
  return {};
}

Status Blobs::delete_account_in_tx(const std::string& did) {
  std::lock_guard lock(context_.db_mutex);
  std::vector<std::string> cids;
  {
    auto q = context_.db.prepare("SELECT cid FROM blob WHERE did = ?");
    q.bind(1, did);
    while (q.step() == SQLITE_ROW) cids.push_back(q.text(0));
  }
  for (const char* sql :
       {"DELETE FROM blob WHERE did = ?", "DELETE FROM record_blob WHERE did = ?"}) {
    auto del = context_.db.prepare(sql);
    del.bind(1, did);
    if (auto st = del.run(); !st.ok()) return st;
  }
  std::lock_guard pending(pending_mutex_);
  pending_files_.insert(pending_files_.end(), cids.begin(), cids.end());
  return {};
}

void Blobs::collect() {
  std::vector<std::string> candidates;
  std::lock_guard lock(context_.db_mutex);
  {
    // Temporary blobs nobody referenced within the hour.
    auto q = context_.db.prepare("SELECT cid FROM blob WHERE temporary = 1 AND created_at < ?");
    std::int64_t cutoff = unix_time_ms() - kTemporaryMs;
    q.bind(1, cutoff);
    while (q.step() == SQLITE_ROW) candidates.push_back(q.text(0));
    auto del = context_.db.prepare("DELETE FROM blob WHERE temporary = 1 AND created_at < ?");
    del.bind(1, cutoff);
    (void)del.run();
  }
  {
    std::lock_guard pending(pending_mutex_);
    candidates.insert(candidates.end(), pending_files_.begin(), pending_files_.end());
    pending_files_.clear();
  }
  // A file goes once no blob row of any account names it (a rolled-back
  // transaction leaves its rows, and so its files, in place).
  for (const auto& cid : candidates) {
    auto q = context_.db.prepare("SELECT 1 FROM blob WHERE cid = ? LIMIT 1");
    q.bind(1, cid);
    if (q.step() == SQLITE_ROW) continue;
    std::error_code ec;
    std::filesystem::remove(file_path(cid), ec);
  }
}

Result<std::optional<StoredBlob>> Blobs::find(const std::string& did, const data::Cid& cid) const {
  std::lock_guard lock(context_.db_mutex);
  std::string cid_text = cid.to_string();
  auto q = context_.db.prepare("SELECT mime_type, size FROM blob WHERE did = ? AND cid = ?");
  q.bind(1, did).bind(2, cid_text);
  if (!q.ok()) return q.error("blob");
  if (q.step() != SQLITE_ROW) return std::optional<StoredBlob>{};
  return std::optional<StoredBlob>{StoredBlob{cid, q.text(0), q.integer(1), file_path(cid_text)}};
}

Result<std::vector<std::string>> Blobs::list(const std::string& did,
                                             const std::optional<std::string>& since, int limit,
                                             const std::optional<std::string>& cursor) const {
  std::lock_guard lock(context_.db_mutex);
  auto q = context_.db.prepare(
      "SELECT DISTINCT r.cid FROM record_blob r JOIN blob b ON b.did = r.did AND b.cid = r.cid"
      " WHERE r.did = ? AND r.rev > ? AND r.cid > ? ORDER BY r.cid LIMIT ?");
  q.bind(1, did).bind(2, since.value_or("")).bind(3, cursor.value_or("")).bind(4, limit);
  if (!q.ok()) return q.error("listBlobs");
  std::vector<std::string> out;
  while (q.step() == SQLITE_ROW) out.push_back(q.text(0));
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> Blobs::missing(
    const std::string& did, int limit, const std::optional<std::string>& cursor) const {
  std::lock_guard lock(context_.db_mutex);
  auto q = context_.db.prepare(
      "SELECT r.cid, min(r.path) FROM record_blob r WHERE r.did = ? AND r.cid > ? AND NOT EXISTS"
      " (SELECT 1 FROM blob b WHERE b.did = r.did AND b.cid = r.cid)"
      " GROUP BY r.cid ORDER BY r.cid LIMIT ?");
  q.bind(1, did).bind(2, cursor.value_or("")).bind(3, limit);
  if (!q.ok()) return q.error("listMissingBlobs");
  std::vector<std::pair<std::string, std::string>> out;
  while (q.step() == SQLITE_ROW) out.emplace_back(q.text(0), "at://" + did + "/" + q.text(1));
  return out;
}

}  // namespace atproto::pds

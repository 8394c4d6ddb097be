// Blobs on the PDS: files under <data>/blobs/, metadata and the references
// from records in the shared database. An uploaded blob stays temporary
// until a record references it; temporary blobs older than an hour and
// blobs no record references any more are collected.
// https://atproto.com/specs/blob
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "atproto/common/result.hpp"
#include "atproto/data/blob.hpp"
#include "atproto/data/cid.hpp"
#include "atproto/pds/context.hpp"

namespace atproto::pds {

struct StoredBlob {
  data::Cid cid;
  std::string mime_type;
  std::int64_t size = 0;
  std::string path;  // the file
};

class Blobs {
 public:
  explicit Blobs(PdsContext& context);
  Status init_schema();
  // In the caller's transaction: forget every blob of `did` and delete its
  // files after the commit (deleteAccount).
  Status delete_account_in_tx(const std::string& did);

  // uploadBlob: stores `bytes` (the CID computed here: raw codec, SHA-256)
  // as a temporary blob of `did`. Error codes: BlobTooLarge (over
  // config.max_blob_bytes), storage.io.
  Result<data::BlobRef> upload(const std::string& did, std::span<const std::uint8_t> bytes,
                               std::string mime_type);
  // In the caller's transaction: record `path` of `did` now references
  // exactly `blobs` (none for a deleted record), as of commit `rev`. Blobs a
  // record references become permanent; blobs no record references any more
  // are forgotten and their files deleted by collect(). With
  // `require_uploaded`, a reference to a blob this account has not uploaded
  // is refused (BlobNotFound); an import records it as missing instead.
  Status set_record_blobs_in_tx(const std::string& did, const std::string& path,
                                const std::vector<data::BlobRef>& blobs, const std::string& rev,
                                bool require_uploaded);
  // Forgets temporary blobs older than an hour and deletes the files no
  // account's blob uses any more. Outside transactions.
  void collect();

  Result<std::optional<StoredBlob>> find(const std::string& did, const data::Cid& cid) const;
  // com.atproto.sync.listBlobs: CIDs of blobs records reference, in CID
  // string order after `cursor`, added after rev `since` when given.
  Result<std::vector<std::string>> list(const std::string& did,
                                        const std::optional<std::string>& since, int limit,
                                        const std::optional<std::string>& cursor) const;
  // com.atproto.repo.listMissingBlobs: referenced but never uploaded, as
  // (blob CID, record AT-URI), in CID order after `cursor`.
  Result<std::vector<std::pair<std::string, std::string>>> missing(
      const std::string& did, int limit, const std::optional<std::string>& cursor) const;

 private:
  std::string file_path(const std::string& cid) const;
  PdsContext& context_;
  std::mutex pending_mutex_;
  std::vector<std::string> pending_files_;  // CIDs whose files may be unused
};

// Every blob reference in a record (nested anywhere), legacy ones included.
std::vector<data::BlobRef> blob_refs(const data::Value& record);

}  // namespace atproto::pds

// The accounts' repositories on the PDS: one signed commit per write, blocks
// and the record index in the shared database, each write sequenced as a
// #commit in the same transaction.
// https://atproto.com/specs/repository
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "atproto/common/result.hpp"
#include "atproto/crypto/keys.hpp"
#include "atproto/pds/context.hpp"
#include "atproto/repo/repository.hpp"
#include "atproto/xrpc/router.hpp"

namespace atproto::pds {

struct RepoRoot {
  data::Cid commit;
  std::string rev;
  data::Cid data;  // MST root
};

// One write of a request, with its compare-and-swap condition.
struct RecordWrite {
  repo::WriteOp op;
  // swapRecord: when set, the record's current CID must be the inner value
  // (an inner nullopt: the record must not exist). Mismatch: InvalidSwap.
  std::optional<std::optional<data::Cid>> swap_record;
  // putRecord: an update of a record that does not exist creates it.
  bool upsert = false;
  // deleteRecord: deleting a record that does not exist is no change.
  bool skip_if_absent = false;
};

// A record as the index holds it.
struct RecordEntry {
  std::string collection;
  std::string rkey;
  data::Cid cid;
  data::Value value;
};

// A repository as com.atproto.sync.listRepos reports it.
struct RepoListing {
  std::string did;
  data::Cid head;
  std::string rev;
};

class Repos {
 public:
  explicit Repos(PdsContext& context);
  ~Repos();
  Repos(const Repos&) = delete;
  Repos& operator=(const Repos&) = delete;
  Status init_schema();

  // The write path: `writes` as one signed commit of `did`'s repository,
  // stored (blocks, root, record index, blob references) and sequenced as a
  // #commit in one transaction, then the firehose is notified. The commit
  // (tree, records, signature) is prepared in the caller's thread, on top
  // of the account's previous commit: the writes of one account are
  // strictly ordered, those of different accounts prepare in parallel.
  // Prepared writes that arrive while another batch is being committed are
  // committed together, each in its own savepoint (a failing one takes
  // only itself back), after checking that the commit each builds on is
  // still the account's current one (if not, it is prepared again); every
  // caller returns only once its batch's COMMIT returned, so with
  // synchronous=FULL nothing is acknowledged before it is on disk. With
  // `swap_commit`, the current commit must be that CID. Error codes:
  // RepoNotFound, InvalidSwap, InvalidRequest (the repo layer's reason in
  // the message), BlobNotFound (a record references a blob this account
  // never uploaded), storage.io. When nothing is left to write (deletes of
  // absent records), no commit is made: the result has no ops.
  Result<repo::CommitResult> apply_writes(const std::string& did,
                                          const std::vector<RecordWrite>& writes,
                                          const std::optional<data::Cid>& swap_commit);

  // Reads (the record index and the stored blocks).
  Result<std::optional<RecordEntry>> get_record(const std::string& did,
                                                const std::string& collection,
                                                const std::string& rkey) const;
  // Newest first (descending record key) unless `reverse`; `cursor` is the
  // last record key of the previous page.
  Result<std::vector<RecordEntry>> list_records(const std::string& did,
                                                const std::string& collection, int limit,
                                                const std::optional<std::string>& cursor,
                                                bool reverse) const;
  Result<std::vector<std::string>> collections(const std::string& did) const;
  Result<std::vector<RepoListing>> list_repos(int limit,
                                              const std::optional<std::string>& cursor) const;
  // The whole repository as a CAR, or with `since` (a rev) what changed
  // after that revision (from the newest commit at or before it).
  Result<std::vector<std::uint8_t>> export_car(const std::string& did,
                                               const std::optional<std::string>& since) const;
  // A CAR proving the record's presence or absence: the commit, the MST
  // path to the key and the record block when present.
  Result<std::vector<std::uint8_t>> record_proof_car(const std::string& did,
                                                     const std::string& collection,
                                                     const std::string& rkey) const;
  // The blocks of `did` with these CIDs; missing ones are listed apart.
  struct Blocks {
    std::vector<car::CarBlock> found;
    std::vector<data::Cid> missing;
  };
  Result<Blocks> get_blocks(const std::string& did, const std::vector<data::Cid>& cids) const;
  // importRepo: `car` verified against the account's signing key replaces
  // the repository; sequenced as a #sync event. Error codes: those of
  // repo::verify_repo_car, RepoNotFound, InvalidRequest.
  Result<RepoRoot> import_car(const std::string& did, std::span<const std::uint8_t> car);

  // In the caller's transaction: a new empty repository for `did` signed by
  // `key`, and its #commit event. Called by createAccount.
  Result<repo::CommitResult> create_repo_in_tx(const std::string& did,
                                               const crypto::PrivateKey& key);
  // In the caller's transaction: every block, record row and the root of
  // `did` (deleteAccount).
  Status delete_repo_in_tx(const std::string& did);
  Result<std::optional<RepoRoot>> root(const std::string& did) const;

  // For tests of the group commit: writes queued for the next batch, and a
  // hook a batch's leader calls before it takes the database (the writes
  // still preparing are not held back by it).
  std::size_t writes_waiting() const;
  void set_before_batch_hook(std::function<void()> hook);

 private:
  // The write path in two steps (docs/pds.md, "The write path"): a write's
  // commit is prepared in the caller's thread under its account's lock,
  // without the database lock; a batch then stores the prepared commits.
  struct AccountWriter;
  struct PreparedCommit;
  Result<PreparedCommit> prepare_commit(AccountWriter& writer, const std::string& did,
                                        const std::vector<RecordWrite>& writes,
                                        const std::optional<data::Cid>& swap_commit);
  Status store_prepared_in_tx(const std::string& did, const PreparedCommit& prepared);
  // Group commit: a prepared write waiting for the database joins the next
  // batch, which one of the waiting writers runs as one transaction (one
  // sync).
  struct WriteJob;
  void run_in_batch(WriteJob& job);
  void commit_batch(const std::vector<WriteJob*>& batch);
  struct State;
  PdsContext& context_;
  std::unique_ptr<State> state_;
};

// com.atproto.repo.*: createRecord, putRecord, deleteRecord, applyWrites,
// getRecord, listRecords, describeRepo, importRepo, uploadBlob, listMissingBlobs.
void register_repo_routes(xrpc::Router& router, PdsContext& context);
// com.atproto.sync.*: getRepo, getLatestCommit, getRecord, getBlocks,
// listRepos, getRepoStatus, listBlobs, getBlob, subscribeRepos.
void register_sync_routes(xrpc::Router& router, PdsContext& context);

}  // namespace atproto::pds

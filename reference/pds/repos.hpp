// The accounts' repositories on the PDS: one signed commit per write, blocks
// and the record index in the shared database, each write sequenced as a
// #commit in the same transaction.
// https://atproto.com/specs/repository
#pragma once

#include <optional>
#include <string>

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

class Repos {
 public:
  explicit Repos(PdsContext& context);
  Status init_schema();

  // In the caller's transaction: a new empty repository for `did` signed by
  // `key`, and its #commit event. Called by createAccount.
  Result<repo::CommitResult> create_repo_in_tx(const std::string& did,
                                               const crypto::PrivateKey& key);
  // In the caller's transaction: every block, record row and the root of
  // `did` (deleteAccount).
  Status delete_repo_in_tx(const std::string& did);
  Result<std::optional<RepoRoot>> root(const std::string& did) const;

 private:
  PdsContext& context_;
};

// com.atproto.repo.*: createRecord, putRecord, deleteRecord, applyWrites,
// getRecord, listRecords, describeRepo, importRepo, uploadBlob, listMissingBlobs.
void register_repo_routes(xrpc::Router& router, PdsContext& context);
// com.atproto.sync.*: getRepo, getLatestCommit, getRecord, getBlocks,
// listRepos, getRepoStatus, listBlobs, getBlob, subscribeRepos.
void register_sync_routes(xrpc::Router& router, PdsContext& context);

}  // namespace atproto::pds

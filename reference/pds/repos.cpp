// The accounts' repositories on the PDS. https://atproto.com/specs/repository
//
// Tables (all keyed by DID first, so an account's data is found, served and
// deleted on its own):
//   repo_root   the current commit of each repository
//   repo_block  every block an account's repository wrote (commits, MST
//               nodes, records) with the rev of the commit that wrote it;
//               old nodes stay so that a `since` diff can load the tree it
//               starts from; record blocks no record uses any more go
//   record      the record index: (collection, rkey) -> CID, for reads and
//               listRecords paging without walking the tree
#include "atproto/pds/repos.hpp"

#include <condition_variable>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include "atproto/data/cbor.hpp"
#include "atproto/pds/blobs.hpp"
#include "atproto/pds/sequencer.hpp"
#include "atproto/pds/statement_cache.hpp"
#include "atproto/sync/checklist.hpp"
#include "atproto/syntax/tid.hpp"

namespace atproto::pds {

using data::Cid;
using Bytes = std::vector<std::uint8_t>;

namespace {

// Inserts blocks written by the commit with this rev.
Status insert_blocks(StatementCache& statements, const std::string& did,
                     const std::vector<car::CarBlock>& blocks, const std::string& rev) {
  auto& q =
      statements.get("INSERT OR IGNORE INTO repo_block (did, cid, bytes, rev) VALUES (?, ?, ?, ?)");
  if (!q.ok()) return q.error("block");
  for (const auto& block : blocks) {
    q.reset();
    q.bind(1, did).bind_blob(2, block.cid.to_bytes()).bind_blob(3, block.bytes).bind(4, rev);
    if (auto st = q.run(); !st.ok()) return st;
  }
  q.reset();
  return {};
}

// The repository blocks of one account, over the shared database. Puts are
// staged in memory until the commit's batch stores them: the repo layer
// writes a commit's blocks before it knows the commit's rev, and a write
// prepares its commit outside the database lock. Reads take db_mutex
// themselves (recursive: the read paths hold it already).
class DidBlockStore final : public repo::BlockStore {
 public:
  DidBlockStore(StatementCache& statements, std::recursive_mutex& db_mutex, std::string did)
      : statements_(&statements), db_mutex_(&db_mutex), did_(std::move(did)) {}

  Result<std::optional<Bytes>> get(const Cid& cid) const override {
    if (auto it = staged_.find(cid); it != staged_.end()) return std::optional<Bytes>(it->second);
    std::lock_guard lock(*db_mutex_);
    auto& q = statements_->get("SELECT bytes FROM repo_block WHERE did = ? AND cid = ?");
    if (!q.ok()) return q.error("block");
    q.bind(1, did_).bind_blob(2, cid.to_bytes());
    int rc = q.step();
    std::optional<Bytes> out;
    if (rc == SQLITE_ROW) out = q.blob(0);
    q.reset();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return q.error("block");
    if (out) remember(cid);
    return out;
  }
  // Asked for every node next to a write's path (Mst::store_new_nodes):
  // answered from memory for the blocks this store read or stored.
  Result<bool> has(const Cid& cid) const override {
    if (staged_.contains(cid) || known_.contains(cid)) return true;
    std::lock_guard lock(*db_mutex_);
    auto& q = statements_->get("SELECT 1 FROM repo_block WHERE did = ? AND cid = ?");
    if (!q.ok()) return q.error("block");
    q.bind(1, did_).bind_blob(2, cid.to_bytes());
    int rc = q.step();
    q.reset();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return q.error("block");
    if (rc == SQLITE_ROW) remember(cid);
    return rc == SQLITE_ROW;
  }
  Status put(const Cid& cid, std::span<const std::uint8_t> bytes) override {
    staged_.try_emplace(cid, bytes.begin(), bytes.end());
    return {};
  }
  Status remove(const Cid& cid) override {
    staged_.erase(cid);
    known_.erase(cid);
    std::lock_guard lock(*db_mutex_);
    auto& q = statements_->get("DELETE FROM repo_block WHERE did = ? AND cid = ?");
    q.bind(1, did_).bind_blob(2, cid.to_bytes());
    auto st = q.run();
    q.reset();
    return st;
  }

  // The staged blocks, handed to whoever stores them; the store forgets them.
  std::vector<car::CarBlock> take_staged() {
    std::vector<car::CarBlock> out;
    out.reserve(staged_.size());
    for (auto& [cid, bytes] : staged_) out.push_back({cid, std::move(bytes)});
    staged_.clear();
    return out;
  }
  // Writes the staged blocks with the rev of the commit they belong to, in
  // the caller's transaction (db_mutex held).
  Status flush(const std::string& rev) {
    auto blocks = take_staged();
    if (auto st = insert_blocks(*statements_, did_, blocks, rev); !st.ok()) return st;
    stored(blocks);
    return {};
  }
  void discard() { staged_.clear(); }
  // Blocks whose transaction committed.
  void stored(const std::vector<car::CarBlock>& blocks) {
    for (const auto& block : blocks) remember(block.cid);
  }
  // A block deleted behind the store's back (an old record's).
  void forget_block(const Cid& cid) { known_.erase(cid); }

 private:
  // What `known_` holds is in the database: a write's blocks are added
  // only once its batch committed, and a write that failed drops the
  // whole store (AccountWriter::reset), so it never outlives a rollback.
  void remember(const Cid& cid) const {
    if (known_.size() >= kMaxKnown) known_.clear();
    known_.insert(cid);
  }
  static constexpr std::size_t kMaxKnown = 1 << 18;

  StatementCache* statements_;
  std::recursive_mutex* db_mutex_;
  std::string did_;
  std::unordered_map<Cid, Bytes, repo::CidHash> staged_;
  mutable std::unordered_set<Cid, repo::CidHash> known_;
};

std::pair<std::string, std::string> split_path(const std::string& path) {
  auto slash = path.find('/');
  return {path.substr(0, slash), path.substr(slash + 1)};
}

std::string path_of(const std::string& collection, const std::string& rkey) {
  return collection + "/" + rkey;
}

Error invalid_request(const Error& e) {
  return make_error("InvalidRequest", e.code + ": " + e.message);
}

Bytes car_of(const Cid& root, std::vector<car::CarBlock> blocks) {
  car::CarFile file;
  file.roots.push_back(root);
  file.blocks = std::move(blocks);
  return car::write_car(file);
}

// [sync.pds.commit-events] The #commit of one commit: its diff blocks
// (the commit first, then enough to invert the ops), the ops with their
// CIDs (prev for updates and deletes), since and prevData; no blobs, not
// tooBig. https://atproto.com/specs/sync#firehose
// [pds.service.firehose.commit-valid] The ops inverted against the new tree
// give prevData: the diff blocks carry what the inversion needs.
sync::CommitEvent commit_event(const std::string& did, const repo::CommitResult& result) {
  return sync::CommitEvent{.seq = 0,
                           .repo = did,
                           .commit = result.cid,
                           .rev = result.commit.rev,
                           .since = result.since,
                           .blocks = car_of(result.cid, result.blocks),
                           .ops = result.ops,
                           .blobs = {},
                           .prev_data = result.prev_data,
                           .time = {},
                           .rebase = false,
                           .too_big = false};
}

std::string fresh_tid() {
  static syntax::TidGenerator generator;
  return generator.next();
}

// A repository as the database holds it: its commit and a lazily read tree
// over the account's blocks.
struct LoadedRepo {
  std::unique_ptr<DidBlockStore> store;
  std::optional<repo::Repository> repository;
};

// The repository whose commit repo_root names (read under db_mutex, taken
// here), its tree read lazily later (the store takes db_mutex per read).
Result<LoadedRepo> load_repo(StatementCache& statements, std::recursive_mutex& db_mutex,
                             const std::string& did) {
  std::lock_guard lock(db_mutex);
  auto& q = statements.get("SELECT commit_cid FROM repo_root WHERE did = ?");
  if (!q.ok()) return q.error("repo_root");
  q.bind(1, did);
  if (q.step() != SQLITE_ROW) {
    q.reset();
    return make_error("RepoNotFound", "could not find repo for DID: " + did);
  }
  auto commit_cid = Cid::from_bytes(q.blob(0));
  q.reset();
  if (!commit_cid.ok()) return commit_cid.error();
  LoadedRepo out;
  out.store = std::make_unique<DidBlockStore>(statements, db_mutex, did);
  auto repository = repo::Repository::load(*out.store, *commit_cid);
  if (!repository.ok()) return repository.error();
  out.repository.emplace(std::move(repository).value());
  return out;
}

constexpr std::size_t kMaxLoaded = 1024;

// The code a batch gives a write whose preparation started from a commit
// that is no longer the account's (an importRepo, a deleted and recreated
// account, a write whose batch failed): the write is prepared again. Never
// returned to a caller.
constexpr const char* kRootMoved = "pds.repo.root-moved";
constexpr int kMaxPrepareAttempts = 4;

}  // namespace

// One account's write side, kept between its writes: the repository as of
// its last committed write (tree nodes read or written stay in memory, so a
// write usually reads nothing from the database) and its signing key.
// `mutex` is held by one write of the account from its preparation until
// its batch has ended, so the writes of one account are strictly ordered
// and each builds on the commit of the one before, while writes to
// different accounts prepare in parallel.
struct Repos::AccountWriter {
  std::mutex mutex;
  LoadedRepo loaded;
  // Read on the first write: an account's key never changes, and reading
  // it (the public point is recomputed) costs tens of microseconds.
  std::optional<crypto::PrivateKey> key;
  // After any failure: the next write loads what the database holds.
  void reset() {
    loaded.repository.reset();  // before the store it reads from
    loaded.store.reset();
    key.reset();
  }
};

// A write's commit, prepared (tree updated, commit signed) in the
// request's thread without the database lock; the batch only stores it.
struct Repos::PreparedCommit {
  Cid base;  // the commit it builds on; the batch checks it is still current
  repo::CommitResult result;
  std::vector<car::CarBlock> blocks;  // records, new MST nodes, the commit
  // Per op, the blobs its record references (empty for deletes).
  std::vector<std::vector<data::BlobRef>> blob_refs;
};

struct Repos::WriteJob {
  const std::string& did;
  const PreparedCommit& prepared;
  Status result = make_error(sqlite::kIoError, "the write was not run");
  bool done = false;  // guarded by State::queue_mutex
};

struct Repos::State {
  explicit State(sqlite::Database& db) : statements(db) {}
  StatementCache statements;
  // Each commit's rev is listed in repo_commit (a database made with the
  // WITHOUT ROWID repo_block finds it through repo_block_rev instead).
  bool commit_list = true;

  // Lists a commit written to repo_block (new layout only).
  Status list_commit(const std::string& did, const std::string& rev, const Cid& cid) {
    if (!commit_list) return {};
    auto& q = statements.get("INSERT OR REPLACE INTO repo_commit (did, rev, cid) VALUES (?, ?, ?)");
    q.bind(1, did).bind(2, rev).bind_blob(3, cid.to_bytes());
    auto st = q.run();
    q.reset();
    return st;
  }

  // Writers waiting for the next batch, and whether a leader is running one.
  std::mutex queue_mutex;
  std::condition_variable batch_done;
  std::vector<WriteJob*> queue;
  bool leader_active = false;
  std::function<void()> before_batch;  // tests only

  // One statement of the cached ones run to completion (BEGIN, COMMIT,
  // SAVEPOINT, ...): prepared once instead of parsed on every write.
  Status run(const char* sql) {
    auto& q = statements.get(sql);
    auto st = q.run();
    q.reset();
    return st;
  }

  // The write side of each account that wrote recently. A writer in use is
  // held by its shared_ptr, so trimming the map never pulls one away.
  std::mutex writers_mutex;
  std::unordered_map<std::string, std::shared_ptr<AccountWriter>> writers;
  std::shared_ptr<AccountWriter> writer(const std::string& did) {
    std::lock_guard lock(writers_mutex);
    if (auto it = writers.find(did); it != writers.end()) return it->second;
    if (writers.size() >= kMaxLoaded) {
      std::erase_if(writers, [](const auto& entry) { return entry.second.use_count() == 1; });
    }
    return writers.emplace(did, std::make_shared<AccountWriter>()).first->second;
  }

  // The read side (export, proofs), with db_mutex held: repositories by DID
  // (a lazily read tree each), so repeated reads find their nodes in
  // memory. An entry is used only while repo_root still names its commit.
  std::unordered_map<std::string, LoadedRepo> loaded;
  Result<LoadedRepo*> load(const std::string& did, std::recursive_mutex& db_mutex);
  void forget(const std::string& did) { loaded.erase(did); }
};

Result<LoadedRepo*> Repos::State::load(const std::string& did, std::recursive_mutex& db_mutex) {
  std::optional<Cid> current;
  {
    auto& q = statements.get("SELECT commit_cid FROM repo_root WHERE did = ?");
    if (!q.ok()) return q.error("repo_root");
    q.bind(1, did);
    if (q.step() == SQLITE_ROW) {
      auto cid = Cid::from_bytes(q.blob(0));
      if (cid.ok()) current = *cid;
    }
    q.reset();
  }
  if (auto it = loaded.find(did); it != loaded.end()) {
    if (current && it->second.repository->commit_cid() == *current) return &it->second;
    loaded.erase(it);
  }
  auto fresh = load_repo(statements, db_mutex, did);
  if (!fresh.ok()) return fresh.error();
  if (loaded.size() >= kMaxLoaded) loaded.clear();
  return &loaded.emplace(did, std::move(fresh).value()).first->second;
}

Repos::Repos(PdsContext& context)
    : context_(context), state_(std::make_unique<State>(context.db)) {}
Repos::~Repos() = default;

Status Repos::init_schema() {
  std::lock_guard lock(context_.db_mutex);
  // repo_block is a rowid table: a commit's blocks are appended together
  // at its end, and only the small (did, cid) index entries land at random
  // places. Keyed by (did, cid) itself (WITHOUT ROWID, as databases made
  // before keep it), every block, bytes and all, went to a random leaf: 26
  // of the 36 pages a createRecord wrote, against 16 now. The commits by
  // rev, for a `since` diff, are one row each in repo_commit, where an
  // index on every block's rev (repo_block_rev, which older databases keep)
  // took some nine entries per commit. Both layouts answer the same
  // statements but that one; an older database is left as it is.
  bool legacy_blocks = false;
  {
    auto q = context_.db.prepare(
        "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'repo_block'");
    if (q.step() == SQLITE_ROW) {
      legacy_blocks = q.text(0).find("WITHOUT ROWID") != std::string::npos;
    }
  }
  state_->commit_list = !legacy_blocks;
  auto st =
      legacy_blocks
          ? context_.db.exec("CREATE INDEX IF NOT EXISTS repo_block_rev ON repo_block(did, rev);")
          : context_.db.exec(
                "CREATE TABLE IF NOT EXISTS repo_block ("
                " did TEXT NOT NULL, cid BLOB NOT NULL, bytes BLOB NOT NULL,"
                " rev TEXT NOT NULL);"
                "CREATE UNIQUE INDEX IF NOT EXISTS repo_block_cid ON repo_block(did, cid);"
                "CREATE TABLE IF NOT EXISTS repo_commit ("
                " did TEXT NOT NULL, rev TEXT NOT NULL, cid BLOB NOT NULL,"
                " PRIMARY KEY (did, rev)) WITHOUT ROWID;");
  if (!st.ok()) return st;
  return context_.db.exec(
      "CREATE TABLE IF NOT EXISTS repo_root ("
      " did TEXT PRIMARY KEY, commit_cid BLOB NOT NULL, rev TEXT NOT NULL,"
      " data_cid BLOB NOT NULL);"
      "CREATE TABLE IF NOT EXISTS record ("
      " did TEXT NOT NULL, collection TEXT NOT NULL, rkey TEXT NOT NULL,"
      " cid TEXT NOT NULL, rev TEXT NOT NULL,"
      " PRIMARY KEY (did, collection, rkey)) WITHOUT ROWID;"
      "CREATE INDEX IF NOT EXISTS record_cid ON record(did, cid);");
}

namespace {

Status set_root(StatementCache& statements, const std::string& did, const Cid& commit,
                const repo::Commit& c) {
  auto& q = statements.get(
      "INSERT INTO repo_root (did, commit_cid, rev, data_cid) VALUES (?, ?, ?, ?)"
      " ON CONFLICT (did) DO UPDATE SET commit_cid = excluded.commit_cid, rev = excluded.rev,"
      " data_cid = excluded.data_cid");
  q.bind(1, did).bind_blob(2, commit.to_bytes()).bind(3, c.rev).bind_blob(4, c.data.to_bytes());
  auto st = q.run();
  q.reset();
  return st;
}

}  // namespace

Result<repo::CommitResult> Repos::create_repo_in_tx(const std::string& did,
                                                    const crypto::PrivateKey& key) {
  std::lock_guard lock(context_.db_mutex);
  if (auto r = root(did); !r.ok() || r->has_value()) {
    if (!r.ok()) return r.error();
    return make_error("InvalidRequest", "a repository exists for " + did);
  }
  DidBlockStore store(state_->statements, context_.db_mutex, did);
  auto repository = repo::Repository::create(store, did, key);
  if (!repository.ok()) return invalid_request(repository.error());
  repo::CommitResult result{
      repository->commit_cid(), repository->commit(), std::nullopt, std::nullopt, {}, {}};
  // The event carries the commit and the (empty) root node.
  result.blocks.push_back({result.cid, repo::encode_commit(result.commit)});
  auto st = repository->tree().for_each_node([&](const car::CarBlock& node) {
    result.blocks.push_back(node);
    return Status{};
  });
  if (!st.ok()) return st.error();
  if (auto s = store.flush(result.commit.rev); !s.ok()) return s.error();
  if (auto s = state_->list_commit(did, result.commit.rev, result.cid); !s.ok()) return s.error();
  if (auto s = set_root(state_->statements, did, result.cid, result.commit); !s.ok())
    return s.error();
  sync::Event event = commit_event(did, result);
  if (auto seq = context_.sequencer->append_in_tx(std::move(event)); !seq.ok()) return seq.error();
  state_->forget(did);
  return result;
}

Status Repos::delete_repo_in_tx(const std::string& did) {
  std::lock_guard lock(context_.db_mutex);
  state_->forget(did);
  std::vector<const char*> clear{"DELETE FROM repo_block WHERE did = ?",
                                 "DELETE FROM record WHERE did = ?",
                                 "DELETE FROM repo_root WHERE did = ?"};
  if (state_->commit_list) clear.push_back("DELETE FROM repo_commit WHERE did = ?");
  for (const char* sql : clear) {
    auto& q = state_->statements.get(sql);
    q.bind(1, did);
    auto st = q.run();
    q.reset();
    if (!st.ok()) return st;
  }
  return {};
}

Result<std::optional<RepoRoot>> Repos::root(const std::string& did) const {
  std::lock_guard lock(context_.db_mutex);
  auto& q = state_->statements.get("SELECT commit_cid, rev, data_cid FROM repo_root WHERE did = ?");
  if (!q.ok()) return q.error("repo_root");
  q.bind(1, did);
  if (q.step() != SQLITE_ROW) {
    q.reset();
    return std::optional<RepoRoot>{};
  }
  auto commit = Cid::from_bytes(q.blob(0));
  auto data = Cid::from_bytes(q.blob(2));
  std::string rev = q.text(1);
  q.reset();
  if (!commit.ok()) return commit.error();
  if (!data.ok()) return data.error();
  return std::optional<RepoRoot>{RepoRoot{*commit, rev, *data}};
}

// [pds.service.record-write] [pds.service.apply-writes-atomic] One signed
// commit per call, in one transaction: a write that fails rolls back all.
// [pds.robust.durable-writes] The answer goes out after the commit.
Result<repo::CommitResult> Repos::apply_writes(const std::string& did,
                                               const std::vector<RecordWrite>& writes,
                                               const std::optional<Cid>& swap_commit) {
  auto writer = state_->writer(did);
  std::lock_guard account(writer->mutex);
  for (int attempt = 1;; ++attempt) {
    auto prepared = prepare_commit(*writer, did, writes, swap_commit);
    if (!prepared.ok()) {
      // The in-memory repository may be ahead of the database (a commit
      // made, then refused for its size): the next write reloads.
      writer->reset();
      return prepared.error();
    }
    if (prepared->result.ops.empty()) return std::move(prepared->result);
    WriteJob job{did, *prepared};
    run_in_batch(job);
    if (!job.result.ok()) {
      // Nothing of this commit is in the database: the in-memory state is
      // dropped with it, so it never runs ahead of what is stored.
      writer->reset();
      if (job.result.error().code == kRootMoved && attempt < kMaxPrepareAttempts) continue;
      if (job.result.error().code == kRootMoved)
        return make_error(sqlite::kIoError, "the repository kept changing during the write");
      return job.result.error();
    }
    // Committed: the blocks are in the database from now on.
    writer->loaded.store->stored(prepared->blocks);
    bool removed = false;
    for (const auto& op : prepared->result.ops) {
      if (op.prev) writer->loaded.store->forget_block(*op.prev);
      removed = removed || op.action != repo::Action::kCreate;
    }
    if (removed && context_.blobs) context_.blobs->collect();
    return std::move(prepared->result);
  }
}

std::size_t Repos::writes_waiting() const {
  std::lock_guard lock(state_->queue_mutex);
  return state_->queue.size();
}

void Repos::set_before_batch_hook(std::function<void()> hook) {
  std::lock_guard lock(state_->queue_mutex);
  state_->before_batch = std::move(hook);
}

void Repos::run_in_batch(WriteJob& job) {
  std::unique_lock queue_lock(state_->queue_mutex);
  state_->queue.push_back(&job);
  while (!job.done) {
    if (state_->leader_active) {
      state_->batch_done.wait(queue_lock);
      continue;
    }
    // No batch running: this writer commits everything queued so far, its
    // own write included.
    state_->leader_active = true;
    std::vector<WriteJob*> batch;
    batch.swap(state_->queue);
    auto hook = state_->before_batch;
    queue_lock.unlock();
    if (hook) hook();
    try {
      commit_batch(batch);
    } catch (...) {
      // A bug or out of memory: nothing of the batch is acknowledged, and
      // the transaction does not stay open.
      std::lock_guard lock(context_.db_mutex);
      if (sqlite3_get_autocommit(context_.db.handle()) == 0) (void)state_->run("ROLLBACK");
      for (auto* j : batch) j->result = make_error(sqlite::kIoError, "the write failed");
    }
    queue_lock.lock();
    for (auto* j : batch) j->done = true;
    state_->leader_active = false;
    state_->batch_done.notify_all();
  }
}

void Repos::commit_batch(const std::vector<WriteJob*>& batch) {
  std::unique_lock lock(context_.db_mutex);
  auto& st = *state_;
  if (auto began = st.run("BEGIN IMMEDIATE"); !began.ok()) {
    for (auto* job : batch)
      job->result = make_error(sqlite::kIoError, "cannot begin a transaction");
    return;
  }
  // With more than one write, each runs in a savepoint so that a failing
  // one (a moved root, a missing blob, ...) is undone alone.
  const bool savepoints = batch.size() > 1;
  std::vector<WriteJob*> written;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    WriteJob& job = *batch[i];
    if (savepoints) {
      if (auto s = st.run("SAVEPOINT pds_write"); !s.ok()) {
        job.result = s.error();
        continue;
      }
    }
    job.result = store_prepared_in_tx(job.did, job.prepared);
    if (job.result.ok()) {
      if (savepoints) (void)st.run("RELEASE pds_write");
      written.push_back(&job);
      continue;
    }
    if (!savepoints) continue;
    // An I/O error may have ended the whole transaction already: then the
    // writes before this one are gone too, and the rest are not tried.
    if (sqlite3_get_autocommit(context_.db.handle()) != 0 ||
        !st.run("ROLLBACK TO pds_write").ok() || !st.run("RELEASE pds_write").ok()) {
      for (auto* lost : written)
        lost->result = make_error(sqlite::kIoError, "the transaction was rolled back");
      for (std::size_t k = i + 1; k < batch.size(); ++k)
        batch[k]->result = make_error(sqlite::kIoError, "the transaction was rolled back");
      if (sqlite3_get_autocommit(context_.db.handle()) == 0) (void)st.run("ROLLBACK");
      return;
    }
  }
  if (written.empty()) {
    (void)st.run("ROLLBACK");
    return;
  }
  if (auto committed = st.run("COMMIT"); !committed.ok()) {
    if (sqlite3_get_autocommit(context_.db.handle()) == 0) (void)st.run("ROLLBACK");
    for (auto* job : written) job->result = committed.error();
    return;
  }
  lock.unlock();
  context_.sequencer->notify();
}

// In the request's thread, with the account's lock and without the
// database's: the swap conditions checked against the account's current
// commit, the new tree, the record blocks and the signed commit. Reads the
// database (under db_mutex) only for what is not in memory yet: the
// repository's root on the account's first write, tree nodes never read.
Result<Repos::PreparedCommit> Repos::prepare_commit(AccountWriter& writer, const std::string& did,
                                                    const std::vector<RecordWrite>& writes,
                                                    const std::optional<Cid>& swap_commit) {
  if (!writer.loaded.repository) {
    auto loaded = load_repo(state_->statements, context_.db_mutex, did);
    if (!loaded.ok()) return loaded.error();
    writer.loaded = std::move(loaded).value();
  }
  auto& repository = *writer.loaded.repository;
  auto& store = *writer.loaded.store;
  // Until a commit is made: the current one, with no ops.
  PreparedCommit prepared{
      repository.commit_cid(),
      {repository.commit_cid(), repository.commit(), std::nullopt, std::nullopt, {}, {}},
      {},
      {}};
  // https://atproto.com/specs/xrpc (com.atproto.repo.applyWrites):
  // swapCommit and swapRecord are compare-and-swap conditions.
  // [pds.service.swap] InvalidSwap, and nothing written. The batch stores
  // the commit only if the account is still at `base`, so a condition
  // checked here still holds when the write lands.
  if (swap_commit && *swap_commit != repository.commit_cid()) {
    return make_error("InvalidSwap", "commit was at " + repository.commit_cid().to_string());
  }
  std::vector<repo::WriteOp> ops;
  ops.reserve(writes.size());
  for (const auto& w : writes) {
    std::optional<std::optional<Cid>> current;
    if (w.swap_record || w.upsert || w.skip_if_absent) {
      std::string path = path_of(w.op.collection, w.op.rkey);
      if (auto st = repo::validate_repo_path(path); !st.ok()) return invalid_request(st.error());
      auto found = repository.tree().get(path);
      if (!found.ok()) return invalid_request(found.error());
      current = *found;
    }
    if (w.swap_record && *current != *w.swap_record) {
      return make_error("InvalidSwap",
                        "record was at " +
                            (current->has_value() ? (*current)->to_string() : std::string("null")));
    }
    if (w.skip_if_absent && !current->has_value()) continue;
    ops.push_back(w.op);
    if (w.upsert && !current->has_value()) ops.back().action = repo::Action::kCreate;
  }
  if (ops.empty() && !writes.empty()) return prepared;
  if (!writer.key) {
    auto key = context_.accounts->signing_key(did);
    if (!key.ok()) return key.error();
    writer.key.emplace(std::move(key).value());
  }
  auto result = repository.apply_writes(ops, *writer.key);
  if (!result.ok()) {
    store.discard();
    return invalid_request(result.error());
  }
  // The firehose's limits hold for what a write produces, so relays
  // accept every commit of ours: [sync.limits.commit-ops]
  // [sync.limits.record-size] [sync.limits.commit-blocks]
  // [pds.service.record-size] A 4xx (InvalidRequest), never a 5xx.
  std::size_t block_bytes = 0;
  for (const auto& block : result->blocks) {
    if (block.bytes.size() > sync::kMaxRecordBytes) {
      store.discard();
      return make_error("InvalidRequest", "a record of " + std::to_string(block.bytes.size()) +
                                              " bytes is over the limit of " +
                                              std::to_string(sync::kMaxRecordBytes));
    }
    block_bytes += block.bytes.size();
  }
  if (result->ops.size() > sync::kMaxCommitOps || block_bytes > sync::kMaxCommitBlocksBytes) {
    store.discard();
    return make_error("InvalidRequest", "the commit is too large for the firehose (" +
                                            std::to_string(result->ops.size()) + " ops, " +
                                            std::to_string(block_bytes) + " bytes)");
  }
  prepared.blocks = store.take_staged();
  prepared.blob_refs.resize(ops.size());
  if (context_.blobs) {
    for (std::size_t i = 0; i < ops.size(); ++i) {
      if (ops[i].record) prepared.blob_refs[i] = blob_refs(*ops[i].record);
    }
  }
  prepared.result = std::move(result).value();
  return prepared;
}

// In the batch's transaction: the prepared commit stored (blocks, root,
// record index, blob references) and sequenced, if the account is still at
// the commit it was prepared on; kRootMoved if not.
Status Repos::store_prepared_in_tx(const std::string& did, const PreparedCommit& prepared) {
  const auto& result = prepared.result;
  const std::string& rev = result.commit.rev;
  {
    // [pds.service.swap] Compare and swap in one statement: the root moves
    // to the new commit only if it is still the one the preparation, which
    // ran without the database lock, started from.
    auto& q = state_->statements.get(
        "UPDATE repo_root SET commit_cid = ?, rev = ?, data_cid = ?"
        " WHERE did = ? AND commit_cid = ?");
    q.bind_blob(1, result.cid.to_bytes()).bind(2, rev).bind_blob(3, result.commit.data.to_bytes());
    q.bind(4, did).bind_blob(5, prepared.base.to_bytes());
    auto st = q.run();
    q.reset();
    if (!st.ok()) return st;
    if (context_.db.changes() == 0) {
      auto& exists = state_->statements.get("SELECT 1 FROM repo_root WHERE did = ?");
      exists.bind(1, did);
      const int rc = exists.step();
      exists.reset();
      if (rc == SQLITE_DONE)
        return make_error("RepoNotFound", "could not find repo for DID: " + did);
      if (rc != SQLITE_ROW) return exists.error("repo_root");
      return make_error(kRootMoved, "the repository moved past the prepared commit's base");
    }
  }
  if (auto st = insert_blocks(state_->statements, did, prepared.blocks, rev); !st.ok()) return st;
  if (auto st = state_->list_commit(did, rev, result.cid); !st.ok()) return st;
  // The record index and the blob references.
  for (std::size_t i = 0; i < result.ops.size(); ++i) {
    const auto& op = result.ops[i];
    auto [collection, rkey] = split_path(op.path);
    if (op.action == repo::Action::kDelete) {
      auto& q = state_->statements.get(
          "DELETE FROM record WHERE did = ? AND collection = ? AND rkey = ?");
      q.bind(1, did).bind(2, collection).bind(3, rkey);
      auto st = q.run();
      q.reset();
      if (!st.ok()) return st;
    } else {
      auto& q = state_->statements.get(
          "INSERT INTO record (did, collection, rkey, cid, rev) VALUES (?, ?, ?, ?, ?)"
          " ON CONFLICT (did, collection, rkey) DO UPDATE SET cid = excluded.cid,"
          " rev = excluded.rev");
      q.bind(1, did).bind(2, collection).bind(3, rkey).bind(4, op.cid->to_string()).bind(5, rev);
      auto st = q.run();
      q.reset();
      if (!st.ok()) return st;
    }
    if (op.prev) {
      // The old record's block goes once no record of the account uses
      // it: deleted content is not served again.
      auto& q = state_->statements.get(
          "DELETE FROM repo_block WHERE did = ? AND cid = ? AND NOT EXISTS"
          " (SELECT 1 FROM record WHERE did = ? AND cid = ?)");
      std::string prev = op.prev->to_string();
      q.bind(1, did).bind_blob(2, op.prev->to_bytes()).bind(3, did).bind(4, prev);
      auto st = q.run();
      q.reset();
      if (!st.ok()) return st;
    }
    if (context_.blobs) {
      const auto& refs = prepared.blob_refs.at(i);
      // A new record with no blobs has no references to replace.
      if (!(op.action == repo::Action::kCreate && refs.empty())) {
        auto st = context_.blobs->set_record_blobs_in_tx(did, op.path, refs, rev, true);
        if (!st.ok()) return st;
      }
    }
  }
  sync::Event event = commit_event(did, result);
  if (auto seq = context_.sequencer->append_in_tx(std::move(event)); !seq.ok()) return seq.error();
  return {};
}

Result<std::optional<RecordEntry>> Repos::get_record(const std::string& did,
                                                     const std::string& collection,
                                                     const std::string& rkey) const {
  std::lock_guard lock(context_.db_mutex);
  auto& find = state_->statements.get(
      "SELECT cid FROM record WHERE did = ? AND collection = ? AND rkey = ?");
  if (!find.ok()) return find.error("record");
  find.bind(1, did).bind(2, collection).bind(3, rkey);
  if (find.step() != SQLITE_ROW) {
    find.reset();
    return std::optional<RecordEntry>{};
  }
  auto cid = Cid::parse(find.text(0));
  find.reset();
  if (!cid.ok()) return cid.error();
  DidBlockStore store(state_->statements, context_.db_mutex, did);
  auto bytes = store.get(*cid);
  if (!bytes.ok()) return bytes.error();
  if (!bytes->has_value()) return make_error(sqlite::kIoError, "record block missing");
  auto value = data::decode_cbor(**bytes);
  if (!value.ok()) return value.error();
  return std::optional<RecordEntry>{RecordEntry{collection, rkey, *cid, std::move(value).value()}};
}

Result<std::vector<RecordEntry>> Repos::list_records(const std::string& did,
                                                     const std::string& collection, int limit,
                                                     const std::optional<std::string>& cursor,
                                                     bool reverse) const {
  std::lock_guard lock(context_.db_mutex);
  ReadTransaction read(state_->statements);
  // Newest first by default: TID keys sort by time, so descending key order.
  const char* sql = reverse ? "SELECT rkey, cid FROM record WHERE did = ? AND collection = ?"
                              " AND rkey > ? ORDER BY rkey ASC LIMIT ?"
                            : "SELECT rkey, cid FROM record WHERE did = ? AND collection = ?"
                              " AND (? IS NULL OR rkey < ?) ORDER BY rkey DESC LIMIT ?";
  std::vector<std::pair<std::string, std::string>> rows;
  {
    auto& q = state_->statements.get(sql);
    if (!q.ok()) return q.error("listRecords");
    q.bind(1, did).bind(2, collection);
    if (reverse) {
      q.bind(3, cursor.value_or("")).bind(4, limit);
    } else {
      q.bind(3, cursor).bind(4, cursor).bind(5, limit);
    }
    while (q.step() == SQLITE_ROW) rows.emplace_back(q.text(0), q.text(1));
    q.reset();
  }
  std::vector<RecordEntry> out;
  DidBlockStore store(state_->statements, context_.db_mutex, did);
  for (auto& [rkey, cid_text] : rows) {
    auto cid = Cid::parse(cid_text);
    if (!cid.ok()) return cid.error();
    auto bytes = store.get(*cid);
    if (!bytes.ok()) return bytes.error();
    if (!bytes->has_value()) continue;
    auto value = data::decode_cbor(**bytes);
    if (!value.ok()) return value.error();
    out.push_back(RecordEntry{collection, std::move(rkey), *cid, std::move(value).value()});
  }
  return out;
}

Result<std::vector<std::string>> Repos::collections(const std::string& did) const {
  std::lock_guard lock(context_.db_mutex);
  auto& q = state_->statements.get(
      "SELECT DISTINCT collection FROM record WHERE did = ? ORDER BY collection");
  if (!q.ok()) return q.error("collections");
  q.bind(1, did);
  std::vector<std::string> out;
  while (q.step() == SQLITE_ROW) out.push_back(q.text(0));
  q.reset();
  return out;
}

Result<std::vector<RepoListing>> Repos::list_repos(int limit,
                                                   const std::optional<std::string>& cursor) const {
  std::lock_guard lock(context_.db_mutex);
  auto& q = state_->statements.get(
      "SELECT did, commit_cid, rev FROM repo_root WHERE did > ? ORDER BY did LIMIT ?");
  if (!q.ok()) return q.error("listRepos");
  q.bind(1, cursor.value_or("")).bind(2, limit);
  std::vector<RepoListing> out;
  while (q.step() == SQLITE_ROW) {
    auto cid = Cid::from_bytes(q.blob(1));
    if (cid.ok()) out.push_back(RepoListing{q.text(0), *cid, q.text(2)});
  }
  q.reset();
  return out;
}

Result<Bytes> Repos::export_car(const std::string& did,
                                const std::optional<std::string>& since) const {
  std::lock_guard lock(context_.db_mutex);
  ReadTransaction read(state_->statements);
  auto loaded = state_->load(did, context_.db_mutex);
  if (!loaded.ok()) return loaded.error();
  const auto& repository = *(*loaded)->repository;
  if (!since) return repository.export_car();
  // [repo.diff.contents] From the newest commit at or before `since`: its
  // tree's nodes are kept. It is listed in repo_commit; in an older
  // database its blocks carry its rev.
  auto& q = state_->statements.get(
      state_->commit_list
          ? "SELECT bytes FROM repo_block WHERE did = ? AND cid ="
            " (SELECT cid FROM repo_commit WHERE did = ? AND rev <= ? ORDER BY rev DESC LIMIT 1)"
          : "SELECT bytes FROM repo_block WHERE did = ? AND rev ="
            " (SELECT max(rev) FROM repo_block WHERE did = ? AND rev <= ?)");
  if (!q.ok()) return q.error("getRepo");
  q.bind(1, did).bind(2, did).bind(3, *since);
  std::optional<repo::Commit> earlier;
  while (q.step() == SQLITE_ROW) {
    auto commit = repo::decode_commit(q.blob(0));
    if (commit.ok() && commit->did == did && (!earlier || commit->rev > earlier->rev))
      earlier = std::move(commit).value();
  }
  q.reset();
  // No commit that old (an imported or newer repository): everything.
  if (!earlier) return repository.export_car();
  return repository.diff_car_from(*earlier);
}

Result<Bytes> Repos::record_proof_car(const std::string& did, const std::string& collection,
                                      const std::string& rkey) const {
  std::lock_guard lock(context_.db_mutex);
  ReadTransaction read(state_->statements);
  auto loaded = state_->load(did, context_.db_mutex);
  if (!loaded.ok()) return loaded.error();
  const auto& repository = *(*loaded)->repository;
  std::string path = path_of(collection, rkey);
  if (auto st = repo::validate_repo_path(path); !st.ok()) return invalid_request(st.error());
  // [repo.mst.proof] The commit, the nodes from the root to the key, and
  // the record itself when present.
  std::vector<car::CarBlock> blocks{
      {repository.commit_cid(), repo::encode_commit(repository.commit())}};
  auto proof = repository.tree().prove(path);
  if (!proof.ok()) return proof.error();
  for (auto& b : *proof) blocks.push_back(std::move(b));
  auto value = repository.tree().get(path);
  if (!value.ok()) return value.error();
  if (value->has_value()) {
    auto bytes = (*loaded)->store->get(**value);
    if (!bytes.ok()) return bytes.error();
    if (bytes->has_value()) blocks.push_back({**value, std::move(**bytes)});
  }
  return car_of(repository.commit_cid(), std::move(blocks));
}

Result<Repos::Blocks> Repos::get_blocks(const std::string& did,
                                        const std::vector<Cid>& cids) const {
  std::lock_guard lock(context_.db_mutex);
  ReadTransaction read(state_->statements);
  DidBlockStore store(state_->statements, context_.db_mutex, did);
  Blocks out;
  for (const auto& cid : cids) {
    auto bytes = store.get(cid);
    if (!bytes.ok()) return bytes.error();
    if (bytes->has_value()) {
      out.found.push_back({cid, std::move(**bytes)});
    } else {
      out.missing.push_back(cid);
    }
  }
  return out;
}

Result<RepoRoot> Repos::import_car(const std::string& did,
                                   std::span<const std::uint8_t> car_bytes) {
  auto key = context_.accounts->signing_key(did);
  if (!key.ok()) return key.error();
  auto verified = repo::verify_repo_car(car_bytes, did, key->public_key());
  if (!verified.ok()) return invalid_request(verified.error());
  auto car = car::read_car(car_bytes);
  if (!car.ok()) return invalid_request(car.error());
  repo::MemoryBlockStore blocks;
  for (auto& b : std::move(car).value().blocks) blocks.put_owned(b.cid, std::move(b.bytes));

  std::unique_lock lock(context_.db_mutex);
  auto current = root(did);
  if (!current.ok()) return current.error();
  if (!current->has_value()) return make_error("RepoNotFound", "no repository for " + did);
  // [repo.commit.rev-increases] The imported tree under a new commit of
  // ours, with a rev after both the current and the imported one, so that
  // consumers take it as the newest state.
  std::string after = std::max((*current)->rev, verified->commit.rev);
  auto rev = repo::next_rev(after, fresh_tid());
  if (!rev.ok()) return rev.error();
  repo::Commit commit{did, verified->commit.data, *rev, std::nullopt, {}, repo::kRepoVersion};
  repo::sign_commit(commit, *key);
  Bytes commit_bytes = repo::encode_commit(commit);
  Cid commit_cid = Cid::compute(data::Codec::kDagCbor, commit_bytes);

  sqlite::Transaction tx(context_.db);
  if (!tx.began()) return make_error(sqlite::kIoError, "cannot begin a transaction");
  state_->forget(did);
  std::vector<const char*> clear{"DELETE FROM repo_block WHERE did = ?",
                                 "DELETE FROM record WHERE did = ?"};
  if (context_.blobs) clear.push_back("DELETE FROM record_blob WHERE did = ?");
  if (state_->commit_list) clear.push_back("DELETE FROM repo_commit WHERE did = ?");
  for (const char* sql : clear) {
    auto q = context_.db.prepare(sql);
    q.bind(1, did);
    if (auto st = q.run(); !st.ok()) return st.error();
  }
  DidBlockStore store(state_->statements, context_.db_mutex, did);
  if (auto st = store.put(commit_cid, commit_bytes); !st.ok()) return st.error();
  // [car.import.unlinked-blocks] Only what the tree reaches is kept.
  repo::Mst tree = repo::Mst::load(blocks, commit.data);
  auto walked =
      tree.for_each_node([&](const car::CarBlock& node) { return store.put(node.cid, node.bytes); },
                         [&](const Cid& record) -> Status {
                           const Bytes* bytes = blocks.find(record);
                           if (bytes == nullptr)
                             return make_error("car.export.complete", "record block missing");
                           return store.put(record, *bytes);
                         });
  if (!walked.ok()) return invalid_request(walked.error());
  if (auto st = store.flush(*rev); !st.ok()) return st.error();
  if (auto st = state_->list_commit(did, *rev, commit_cid); !st.ok()) return st.error();
  if (auto st = set_root(state_->statements, did, commit_cid, commit); !st.ok()) return st.error();
  for (const auto& entry : verified->records) {
    auto [collection, rkey] = split_path(entry.key);
    auto& q = state_->statements.get(
        "INSERT INTO record (did, collection, rkey, cid, rev) VALUES (?, ?, ?, ?, ?)");
    q.bind(1, did).bind(2, collection).bind(3, rkey).bind(4, entry.value.to_string()).bind(5, *rev);
    auto st = q.run();
    q.reset();
    if (!st.ok()) return st.error();
    if (context_.blobs) {
      auto value = data::decode_cbor(*blocks.find(entry.value));
      if (!value.ok()) return invalid_request(value.error());
      auto refs = blob_refs(*value);
      if (refs.empty()) continue;
      // Blobs not uploaded yet are listed by listMissingBlobs.
      if (auto s = context_.blobs->set_record_blobs_in_tx(did, entry.key, refs, *rev, false);
          !s.ok())
        return s.error();
    }
  }
  // [sync.pds.sync-events] A #sync: the repository's state was replaced;
  // its blocks are the signed commit alone.
  // https://atproto.com/specs/sync#firehose
  sync::SyncEvent event;
  event.did = did;
  event.rev = *rev;
  event.blocks = car_of(commit_cid, {{commit_cid, commit_bytes}});
  if (auto seq = context_.sequencer->append_in_tx(std::move(event)); !seq.ok()) return seq.error();
  if (auto st = tx.commit(); !st.ok()) return st.error();
  lock.unlock();
  context_.sequencer->notify();
  return RepoRoot{commit_cid, *rev, commit.data};
}

}  // namespace atproto::pds

// The composition of atproto-pds: one database, the official lexicons, the
// accounts, repositories, blobs and sequencer parts, their routes on one
// router, atproto-proxy for methods served elsewhere, and the HTTP server.
#include "atproto/pds/pds.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "atproto/pds/accounts.hpp"
#include "atproto/pds/blobs.hpp"
#include "atproto/pds/checkpointer.hpp"
#include "atproto/pds/context.hpp"
#include "atproto/pds/repos.hpp"
#include "atproto/pds/sequencer.hpp"
#include "atproto/xrpc/http_server.hpp"
#include "atproto/xrpc/router.hpp"

namespace atproto::pds {

namespace fs = std::filesystem;

struct Pds::State {
  std::unique_ptr<PdsContext> context;
  // Declared after the context: stopped before the database closes.
  std::unique_ptr<WalCheckpointer> checkpointer;
  std::unique_ptr<Accounts> accounts;
  std::unique_ptr<Repos> repos;
  std::unique_ptr<Blobs> blobs;
  std::unique_ptr<Sequencer> sequencer;
  xrpc::Router router;
  std::unique_ptr<xrpc::HttpServer> server;
};

namespace {

// Every *.json under `dir` (tools/fetch-lexicons writes one per NSID).
Status load_lexicons(lexicon::Catalog& catalog, const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return make_error("pds.config", "no lexicon folder " + dir + " (run tools/fetch-lexicons)");
  }
  std::vector<fs::path> files;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->is_regular_file() && it->path().extension() == ".json") files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    auto doc = nlohmann::json::parse(text.str(), nullptr, false);
    if (doc.is_discarded()) return make_error("pds.config", "not JSON: " + file.string());
    if (auto s = catalog.add_json(doc); !s) {
      return make_error("pds.config", file.string() + ": " + s.error().message);
    }
  }
  return {};
}

// [sync.pds.repo-rev-header] A successful answer to a request made with an
// access token carries the rev of the caller's repository as this PDS holds
// it, so a client can tell which of its writes the answer reflects:
// https://atproto.com/specs/sync#repository-revisions Answers proxied to
// another service carry that service's header instead (proxy_request
// forwards it), as the official PDS does.
void add_repo_rev(const Accounts& accounts, const Repos& repos, const xrpc::HttpRequest& request,
                  xrpc::HttpResponse& response) {
  if (response.status < 200 || response.status >= 300 || response.upgrade) return;
  if (!request.header("authorization")) return;
  for (const auto& [name, value] : response.headers) {
    if (name == "atproto-repo-rev") return;
  }
  auto did = accounts.access_token_subject(request);
  if (!did) return;
  auto root = repos.root(*did);
  if (!root.ok() || !root->has_value()) return;
  response.headers.emplace_back("atproto-repo-rev", (*root)->rev);
}

}  // namespace

Pds::Pds() : state_(std::make_unique<State>()) {}

Pds::~Pds() { stop(); }

Result<std::unique_ptr<Pds>> Pds::open(PdsConfig config) {
  if (config.data_dir.empty()) return make_error("pds.config", "a data folder is required");
  if (config.plc_url.empty()) return make_error("pds.config", "a PLC directory URL is required");
  while (!config.plc_url.empty() && config.plc_url.back() == '/') config.plc_url.pop_back();
  if (config.hostname.empty()) config.hostname = "localhost";
  for (const auto& domain : config.handle_domains) {
    if (domain.size() < 2 || domain.front() != '.') {
      return make_error("pds.config", "handle domains start with '.': " + domain);
    }
  }
  std::error_code ec;
  fs::create_directories(config.data_dir, ec);
  if (ec) return make_error("pds.config", "cannot create " + config.data_dir + ": " + ec.message());
  // [pds.robust.durable-writes] WAL mode: a transaction that committed
  // survives the process being killed (synchronous NORMAL); FULL, with
  // --fsync-each-write, survives a power loss too.
  const std::string db_path = (fs::path(config.data_dir) / "pds.sqlite").string();
  // unix-excl: the server is the database's only process, so the locks of
  // every transaction (about ten fcntl calls per createRecord) stay in
  // memory; another process cannot open the file while the server runs.
  // What reaches the disk, and when, is unchanged; after a crash the next
  // process rebuilds the WAL index from the log as before.
  auto db = sqlite::Database::open(db_path,
                                   config.fsync_each_write ? sqlite::Database::Synchronous::kFull
                                                           : sqlite::Database::Synchronous::kNormal,
                                   "unix-excl");
  if (!db) return db.error();
  // Group commit runs each write of a batch in a savepoint, whose statement
  // journal SQLite keeps in a temporary file by default: opened, written
  // and unlinked per batch. In memory it costs no system call; it holds
  // only the pages a savepoint changed and is gone at COMMIT.
  if (auto st = db.value().exec("PRAGMA temp_store=MEMORY"); !st) return st.error();

  std::unique_ptr<Pds> pds(new Pds());
  State& s = *pds->state_;
  s.context = std::make_unique<PdsContext>(std::move(config), std::move(db).value());
  PdsContext& context = *s.context;
  auto checkpointer = WalCheckpointer::start(context, db_path);
  if (!checkpointer) return checkpointer.error();
  s.checkpointer = std::move(checkpointer).value();
  if (!context.config.lexicon_dir.empty()) {
    if (auto st = load_lexicons(context.catalog, context.config.lexicon_dir); !st)
      return st.error();
  }
  s.accounts = std::make_unique<Accounts>(context);
  s.repos = std::make_unique<Repos>(context);
  s.blobs = std::make_unique<Blobs>(context);
  context.accounts = s.accounts.get();
  context.repos = s.repos.get();
  context.blobs = s.blobs.get();
  if (auto st = s.accounts->init_schema(); !st) return st.error();
  if (auto st = s.repos->init_schema(); !st) return st.error();
  if (auto st = s.blobs->init_schema(); !st) return st.error();
  // The sequencer starts its fan-out thread when constructed: its tables
  // must follow at once.
  s.sequencer = std::make_unique<Sequencer>(context);
  context.sequencer = s.sequencer.get();
  if (auto st = s.sequencer->init_schema(); !st) return st.error();

  register_account_routes(s.router, context, *s.accounts);
  register_identity_routes(s.router, context, *s.accounts);
  register_repo_routes(s.router, context);
  register_sync_routes(s.router, context);
  return pds;
}

Result<std::uint16_t> Pds::start() {
  State& s = *state_;
  PdsConfig& config = s.context->config;
  xrpc::ServerOptions options;
  options.host = config.host;
  options.port = config.port;
  options.threads = config.threads;
  // The largest body any route takes; each route checks its own limit.
  options.max_body_bytes =
      std::max({config.max_request_bytes, config.max_blob_bytes, config.max_import_bytes});
  State* state = &s;
  s.server = std::make_unique<xrpc::HttpServer>(options, [state](const xrpc::HttpRequest& r) {
    // [pds.service.body-limit] The server reads bodies up to the largest
    // limit; uploadBlob and importRepo check theirs, every other body is
    // held to --max-request-bytes here, before any route parses it.
    const PdsConfig& limits = state->context->config;
    if (r.body.size() > limits.max_request_bytes && r.path != "/xrpc/com.atproto.repo.uploadBlob" &&
        r.path != "/xrpc/com.atproto.repo.importRepo") {
      return xrpc::xrpc_error(413, "PayloadTooLarge",
                              "the request body has " + std::to_string(r.body.size()) +
                                  " bytes; this server takes at most " +
                                  std::to_string(limits.max_request_bytes));
    }
    // [pds.service.unknown-method] A method no route serves answers the
    // router's 501 with an XRPC error body, unless atproto-proxy sends it on.
    auto response = state->router.handle(r);
    // [pds.proxy.unserved-only] Methods this PDS serves are answered here;
    // the others go to the service the atproto-proxy header names.
    if (response.status == 501 && r.header("atproto-proxy")) {
      if (auto proxied = proxy_request(r, *state->accounts)) {
        proxied->headers.emplace_back("access-control-allow-origin", "*");
        return *proxied;
      }
    }
    add_repo_rev(*state->accounts, *state->repos, r, response);
    return response;
  });
  auto port = s.server->start();
  if (!port) return port.error();
  // Set before the port is announced, so no client can see the default.
  if (config.public_url.empty()) config.public_url = "http://localhost:" + std::to_string(*port);
  return port;
}

PdsContext& Pds::context() { return *state_->context; }

void Pds::stop() {
  if (!state_) return;
  if (state_->sequencer) state_->sequencer->stop();
  if (state_->server) state_->server->stop();
}

}  // namespace atproto::pds

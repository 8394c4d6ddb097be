// com.atproto.sync.*: the repository as CAR files, blobs, the account
// listing, and the firehose. https://atproto.com/specs/sync
#include <charconv>
#include <fstream>
#include <sstream>

#include "atproto/pds/blobs.hpp"
#include "atproto/pds/repos.hpp"
#include "atproto/pds/route_support.hpp"
#include "atproto/pds/sequencer.hpp"

namespace atproto::pds {

namespace {

using routes::Checked;
using routes::error_response;
using Json = nlohmann::json;

// [car.media-type] Every CAR answer (getRepo, getRecord's proof, getBlocks)
// names the CAR media type. https://atproto.com/specs/repository#car-file-serialization
constexpr const char* kCarType = "application/vnd.ipld.car";

xrpc::HttpResponse car_response(const std::vector<std::uint8_t>& bytes) {
  return xrpc::HttpResponse::text(200, std::string(bytes.begin(), bytes.end()), kCarType);
}

// The account behind a `did` parameter, when its repository may be served:
// https://atproto.com/specs/sync#hosting-status Inactive accounts answer
// with the error their status names. [pds.service.deactivate]
Checked<AccountInfo> hosted(const PdsContext& context, const data::Map& params) {
  auto did = routes::string_param(params, "did").value_or("");
  auto found = context.accounts->find(did);
  if (!found.ok()) return error_response(found.error());
  if (!found->has_value() || (*found)->status == AccountStatus::kDeleted) {
    return xrpc::xrpc_error(400, "RepoNotFound", "could not find repo for DID: " + did);
  }
  const auto& info = **found;
  if (info.did != did) {
    // A handle is not a DID: these methods take DIDs only.
    return xrpc::xrpc_error(400, "RepoNotFound", "could not find repo for DID: " + did);
  }
  if (info.status == AccountStatus::kTakendown) {
    return xrpc::xrpc_error(400, "RepoTakendown", "repo has been taken down: " + did);
  }
  if (info.status == AccountStatus::kDeactivated) {
    return xrpc::xrpc_error(400, "RepoDeactivated", "repo has been deactivated: " + did);
  }
  return info;
}

// Parameters checked against the lexicon, then the hosted account.
struct Target {
  data::Map params;
  AccountInfo account;
};
Checked<Target> target(const PdsContext& context, std::string_view nsid,
                       const xrpc::HttpRequest& request) {
  auto checked = routes::params(context, nsid, request);
  if (auto* answer = std::get_if<xrpc::HttpResponse>(&checked)) return std::move(*answer);
  auto params = std::get<data::Map>(std::move(checked));
  auto account = hosted(context, params);
  if (auto* answer = std::get_if<xrpc::HttpResponse>(&account)) return std::move(*answer);
  return Target{std::move(params), std::get<AccountInfo>(std::move(account))};
}

// [sync.pds.get-repo] The whole repository as one CAR, no authentication;
// with `since`, the diff from that revision.
// [pds.service.get-repo] [pds.service.get-repo-since]
xrpc::HttpResponse get_repo(PdsContext& context, const xrpc::HttpRequest& request) {
  auto checked = target(context, "com.atproto.sync.getRepo", request);
  if (auto* answer = std::get_if<xrpc::HttpResponse>(&checked)) return std::move(*answer);
  const auto& t = std::get<Target>(checked);
  auto car = context.repos->export_car(t.account.did, routes::string_param(t.params, "since"));
  if (!car.ok()) return error_response(car.error());
  return car_response(*car);
}

// [pds.service.latest-commit] The commit getRepo exports.
xrpc::HttpResponse get_latest_commit(PdsContext& context, const xrpc::HttpRequest& request) {
  auto checked = target(context, "com.atproto.sync.getLatestCommit", request);
  if (auto* answer = std::get_if<xrpc::HttpResponse>(&checked)) return std::move(*answer);
  const auto& t = std::get<Target>(checked);
  auto root = context.repos->root(t.account.did);
  if (!root.ok()) return error_response(root.error());
  if (!root->has_value()) {
    return xrpc::xrpc_error(400, "RepoNotFound", "could not find root for DID: " + t.account.did);
  }
  return xrpc::HttpResponse::json(200,
                                  {{"cid", (*root)->commit.to_string()}, {"rev", (*root)->rev}});
}

// [pds.service.record-proof] The commit, the path of MST nodes and the record.
xrpc::HttpResponse get_record_proof(PdsContext& context, const xrpc::HttpRequest& request) {
  auto checked = target(context, "com.atproto.sync.getRecord", request);
  if (auto* answer = std::get_if<xrpc::HttpResponse>(&checked)) return std::move(*answer);
  const auto& t = std::get<Target>(checked);
  auto car = context.repos->record_proof_car(
      t.account.did, routes::string_param(t.params, "collection").value_or(""),
      routes::string_param(t.params, "rkey").value_or(""));
  if (!car.ok()) return error_response(car.error());
  return car_response(*car);
}

// [pds.service.get-blocks] The blocks asked for, or BlockNotFound naming the missing.
xrpc::HttpResponse get_blocks(PdsContext& context, const xrpc::HttpRequest& request) {
  auto checked = target(context, "com.atproto.sync.getBlocks", request);
  if (auto* answer = std::get_if<xrpc::HttpResponse>(&checked)) return std::move(*answer);
  const auto& t = std::get<Target>(checked);
  std::vector<data::Cid> cids;
  for (const auto& text : request.query_params("cids")) {
    auto cid = data::Cid::parse(text);
    if (!cid.ok()) return xrpc::xrpc_error(400, "InvalidRequest", "not a CID: " + text);
    cids.push_back(*cid);
  }
  auto blocks = context.repos->get_blocks(t.account.did, cids);
  if (!blocks.ok()) return error_response(blocks.error());
  if (!blocks->missing.empty()) {
    std::string list;
    for (const auto& cid : blocks->missing) list += (list.empty() ? "" : ", ") + cid.to_string();
    return xrpc::xrpc_error(400, "BlockNotFound", "could not find blocks: " + list);
  }
  car::CarFile file;  // blocks only: a CAR with no roots
  file.blocks = std::move(blocks->found);
  return car_response(car::write_car(file));
}

// [pds.service.list-repos] Each account's current commit, rev and status.
xrpc::HttpResponse list_repos(PdsContext& context, const xrpc::HttpRequest& request) {
  auto checked = routes::params(context, "com.atproto.sync.listRepos", request);
  if (auto* answer = std::get_if<xrpc::HttpResponse>(&checked)) return std::move(*answer);
  const auto& params = std::get<data::Map>(checked);
  auto limit =
      std::clamp<std::int64_t>(routes::integer_param(params, "limit").value_or(500), 1, 1000);
  auto repos =
      context.repos->list_repos(static_cast<int>(limit), routes::string_param(params, "cursor"));
  if (!repos.ok()) return error_response(repos.error());
  Json list = Json::array();
  for (const auto& r : *repos) {
    Json entry{{"did", r.did}, {"head", r.head.to_string()}, {"rev", r.rev}};
    auto info = context.accounts->find(r.did);
    bool active = true;
    if (info.ok() && info->has_value() && (*info)->status != AccountStatus::kActive) {
      active = false;
      entry["status"] = account_status_name((*info)->status);
    }
    entry["active"] = active;
    list.push_back(std::move(entry));
  }
  Json out{{"repos", list}};
  if (repos->size() == static_cast<std::size_t>(limit)) out["cursor"] = repos->back().did;
  return xrpc::HttpResponse::json(200, out);
}

// [pds.service.repo-status] Active with the rev, or inactive with the status.
xrpc::HttpResponse get_repo_status(PdsContext& context, const xrpc::HttpRequest& request) {
  auto checked = routes::params(context, "com.atproto.sync.getRepoStatus", request);
  if (auto* answer = std::get_if<xrpc::HttpResponse>(&checked)) return std::move(*answer);
  const auto& params = std::get<data::Map>(checked);
  auto did = routes::string_param(params, "did").value_or("");
  auto info = context.accounts->find(did);
  if (!info.ok()) return error_response(info.error());
  if (!info->has_value() || (*info)->did != did) {
    return xrpc::xrpc_error(400, "RepoNotFound", "could not find repo for DID: " + did);
  }
  Json out{{"did", did}};
  if ((*info)->status == AccountStatus::kActive) {
    out["active"] = true;
    auto root = context.repos->root(did);
    if (root.ok() && root->has_value()) out["rev"] = (*root)->rev;
  } else {
    out["active"] = false;
    out["status"] = account_status_name((*info)->status);
  }
  return xrpc::HttpResponse::json(200, out);
}

// [pds.service.blob-get] The CIDs of the blobs the account's records reference.
xrpc::HttpResponse list_blobs(PdsContext& context, const xrpc::HttpRequest& request) {
  auto checked = target(context, "com.atproto.sync.listBlobs", request);
  if (auto* answer = std::get_if<xrpc::HttpResponse>(&checked)) return std::move(*answer);
  const auto& t = std::get<Target>(checked);
  auto limit =
      std::clamp<std::int64_t>(routes::integer_param(t.params, "limit").value_or(500), 1, 1000);
  auto cids =
      context.blobs->list(t.account.did, routes::string_param(t.params, "since"),
                          static_cast<int>(limit), routes::string_param(t.params, "cursor"));
  if (!cids.ok()) return error_response(cids.error());
  Json out{{"cids", *cids}};
  if (cids->size() == static_cast<std::size_t>(limit)) out["cursor"] = cids->back();
  return xrpc::HttpResponse::json(200, out);
}

// Types a browser may show inline without running anything: images and
// video and audio (not SVG, which can script), and plain text.
bool safe_inline(std::string_view mime) {
  if (mime == "image/svg+xml") return false;
  return mime.starts_with("image/") || mime.starts_with("video/") || mime.starts_with("audio/") ||
         mime == "text/plain";
}

xrpc::HttpResponse get_blob(PdsContext& context, const xrpc::HttpRequest& request) {
  auto checked = target(context, "com.atproto.sync.getBlob", request);
  if (auto* answer = std::get_if<xrpc::HttpResponse>(&checked)) return std::move(*answer);
  const auto& t = std::get<Target>(checked);
  auto cid_text = routes::string_param(t.params, "cid").value_or("");
  auto cid = data::Cid::parse(cid_text);
  if (!cid.ok()) return xrpc::xrpc_error(400, "InvalidRequest", "not a CID: " + cid_text);
  auto blob = context.blobs->find(t.account.did, *cid);
  if (!blob.ok()) return error_response(blob.error());
  std::string bytes;
  if (blob->has_value()) {
    std::ifstream in((*blob)->path, std::ios::binary);
    std::stringstream content;
    content << in.rdbuf();
    bytes = content.str();
  }
  if (!blob->has_value() || bytes.size() != static_cast<std::size_t>((*blob)->size)) {
    return xrpc::xrpc_error(400, "BlobNotFound", "blob not found: " + cid_text);
  }
  // https://atproto.com/specs/blob#security-considerations Blobs are
  // untrusted content served from the PDS's origin: never sniffed, never
  // given scripting power, downloaded rather than shown unless harmless.
  // [pds.service.blob-get] [pds.service.blob-headers]
  auto response = xrpc::HttpResponse::text(200, std::move(bytes), (*blob)->mime_type);
  response.headers.emplace_back("x-content-type-options", "nosniff");
  response.headers.emplace_back("content-security-policy", "default-src 'none'; sandbox");
  if (!safe_inline((*blob)->mime_type)) {
    response.headers.emplace_back("content-disposition",
                                  "attachment; filename=\"" + cid_text + "\"");
  }
  return response;
}

// https://atproto.com/specs/event-stream The firehose: the cursor decides
// where the replay starts (Sequencer::subscribe); a bad cursor parameter
// is answered before the upgrade.
xrpc::HttpResponse subscribe_repos(PdsContext& context, const xrpc::HttpRequest& request) {
  std::optional<std::int64_t> cursor;
  if (auto text = request.query_param("cursor")) {
    std::int64_t n = 0;
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), n);
    if (ec != std::errc{} || end != text->data() + text->size() || n < 0) {
      return xrpc::xrpc_error(400, "InvalidRequest", "cursor is not a sequence number");
    }
    cursor = n;
  }
  xrpc::HttpResponse response;
  Sequencer* sequencer = context.sequencer;
  // The live position is fixed now, before the 101 goes out: the upgrade
  // callback runs after the client already holds the connection, and a
  // write it makes in between must not be skipped.
  std::optional<std::int64_t> live_after;
  if (!cursor) live_after = sequencer->last_seq();
  response.upgrade = [sequencer, cursor,
                      live_after](std::shared_ptr<xrpc::WebSocketConnection> connection) {
    sequencer->subscribe(std::move(connection), cursor, live_after);
  };
  return response;
}

}  // namespace

void register_sync_routes(xrpc::Router& router, PdsContext& context) {
  using Kind = xrpc::ParamSpec::Kind;
  PdsContext* c = &context;
  auto did = xrpc::ParamSpec{"did", Kind::string, true};
  (void)router.query("com.atproto.sync.getRepo", {did, {"since", Kind::string, false}},
                     [c](const auto& r) { return get_repo(*c, r); });
  (void)router.query("com.atproto.sync.getLatestCommit", {did},
                     [c](const auto& r) { return get_latest_commit(*c, r); });
  (void)router.query("com.atproto.sync.getRecord",
                     {did, {"collection", Kind::string, true}, {"rkey", Kind::string, true}},
                     [c](const auto& r) { return get_record_proof(*c, r); });
  (void)router.query("com.atproto.sync.getBlocks", {did, {"cids", Kind::string, false, true}},
                     [c](const auto& r) { return get_blocks(*c, r); });
  (void)router.query("com.atproto.sync.listRepos",
                     {{"limit", Kind::integer, false}, {"cursor", Kind::string, false}},
                     [c](const auto& r) { return list_repos(*c, r); });
  (void)router.query("com.atproto.sync.getRepoStatus", {did},
                     [c](const auto& r) { return get_repo_status(*c, r); });
  (void)router.query("com.atproto.sync.listBlobs",
                     {did,
                      {"since", Kind::string, false},
                      {"limit", Kind::integer, false},
                      {"cursor", Kind::string, false}},
                     [c](const auto& r) { return list_blobs(*c, r); });
  (void)router.query("com.atproto.sync.getBlob", {did, {"cid", Kind::string, true}},
                     [c](const auto& r) { return get_blob(*c, r); });
  (void)router.subscription("com.atproto.sync.subscribeRepos", {{"cursor", Kind::integer, false}},
                            [c](const auto& r) { return subscribe_repos(*c, r); });
}

}  // namespace atproto::pds

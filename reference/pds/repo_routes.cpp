// com.atproto.repo.*: record writes and reads, describeRepo, importRepo and
// blobs. https://atproto.com/specs/xrpc and the official lexicons.
#include <memory>

#include "atproto/data/cbor.hpp"
#include "atproto/identity/did_document.hpp"
#include "atproto/lexicon/validate.hpp"
#include "atproto/pds/blobs.hpp"
#include "atproto/pds/repos.hpp"
#include "atproto/pds/route_support.hpp"
#include "atproto/syntax/nsid.hpp"
#include "atproto/syntax/record_key.hpp"
#include "atproto/syntax/tid.hpp"

namespace atproto::pds {

namespace {

using routes::Checked;
using routes::error_response;
using Json = nlohmann::json;

constexpr std::size_t kMaxWrites = 200;  // per applyWrites, as the TypeScript PDS

std::string new_rkey() {
  static syntax::TidGenerator generator;
  return generator.next();
}

// The caller, who must own `repo` and be allowed to write.
Checked<std::string> writer(const PdsContext& context, const xrpc::HttpRequest& request,
                            const data::Value& body) {
  auto caller = context.accounts->authenticate(request);
  if (!caller.ok()) return auth_error_response(caller.error());
  const auto* repo = body.find("repo");
  if (repo == nullptr || !repo->is_string()) {
    return xrpc::xrpc_error(400, "InvalidRequest", "repo is required");
  }
  // The caller's own DID: authenticate() has just found the account and
  // refused it unless active, so looking it up again (a query under the
  // database lock, which a running group commit holds) would change nothing.
  if (repo->as_string() == caller->did) return caller->did;
  auto account = routes::find_account(context, repo->as_string());
  if (auto* answer = std::get_if<xrpc::HttpResponse>(&account)) return std::move(*answer);
  const auto& info = std::get<AccountInfo>(account);
  if (info.did != caller->did) {
    return xrpc::xrpc_error(403, "InvalidRequest", "the caller may not write to " + info.did);
  }
  if (info.status == AccountStatus::kDeactivated) {
    return xrpc::xrpc_error(400, "AccountDeactivated", "the account is deactivated");
  }
  if (info.status == AccountStatus::kTakendown) {
    return xrpc::xrpc_error(400, "AccountTakedown", "the account has been taken down");
  }
  return info.did;
}

// validate: true, false or unset (the lexicons' three-way switch).
std::optional<bool> validate_flag(const data::Value& body) {
  const auto* v = body.find("validate");
  if (v == nullptr || !v->is_bool()) return std::nullopt;
  return v->as_bool();
}

std::optional<data::Cid> cid_field(const data::Value& body, const char* name, Error* error) {
  const auto* v = body.find(name);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  auto cid = data::Cid::parse(v->as_string());
  if (!cid.ok()) {
    *error = make_error("InvalidRequest", std::string(name) + " is not a CID");
    return std::nullopt;
  }
  return *cid;
}

// One record ready to write: its key settled and checked, its $type set,
// validated as asked. Returns the validationStatus ("valid", "unknown", or
// "" when validation was skipped). [pds.service.validate]
Result<std::string> prepare_record(const PdsContext& context, const std::string& collection,
                                   const std::string& rkey, data::Value& record,
                                   std::optional<bool> validate) {
  if (auto st = syntax::validate_nsid(collection); !st.ok()) {
    return make_error("InvalidRequest", "collection is not an NSID: " + st.error().message);
  }
  // [rkey.syntax.chars] [rkey.syntax.length] [rkey.syntax.not-dot]
  if (auto st = syntax::validate_record_key(rkey); !st.ok()) {
    return make_error("InvalidRequest", "invalid record key: " + st.error().message);
  }
  if (!record.is_map()) {
    return make_error("InvalidRequest", "[data.model.record-object] the record is not an object");
  }
  // [lex.validate.record-type] [pds.service.record-type] A record carries
  // $type, and it is the collection the record is written to (the
  // createRecord lexicon: "Must contain a $type field"), whether or not it
  // is validated.
  const auto* type = record.find("$type");
  if (type == nullptr || !type->is_string() || type->as_string() != collection) {
    return make_error("InvalidRequest", "invalid $type: expected " + collection);
  }
  if (validate == false) return std::string();
  const auto* doc = context.catalog.document(collection);
  const auto* def = context.catalog.def(collection + "#main");
  bool known = doc != nullptr && def != nullptr;
  if (!known) {
    if (validate == true) {
      // [lex.validate.ref-missing] Asked to validate against a lexicon
      // this server does not have: an error, not a pass.
      return make_error("InvalidRequest", "lexicon not found: " + collection);
    }
    return std::string("unknown");
  }
  // [lex.validate.record-key] The key fits the lexicon's key type too.
  if (auto st = lexicon::validate_record(context.catalog, collection, record, rkey); !st.ok()) {
    return make_error("InvalidRequest", "invalid " + collection + " record: " + st.error().code +
                                            ": " + st.error().message);
  }
  return std::string("valid");
}

Json commit_meta(const repo::CommitResult& commit) {
  return {{"cid", commit.cid.to_string()}, {"rev", commit.commit.rev}};
}

// The answer to a write that made `commit`. [sync.pds.repo-rev-header] It
// names the new rev itself, so that the server-wide header step (pds.cpp)
// neither checks the token again nor reads the root, which would wait for
// the next group commit.
xrpc::HttpResponse written(const repo::CommitResult& commit, const Json& out) {
  auto response = xrpc::HttpResponse::json(200, out);
  response.headers.emplace_back("atproto-repo-rev", commit.commit.rev);
  return response;
}

std::string at_uri(const std::string& did, const std::string& collection, const std::string& rkey) {
  return "at://" + did + "/" + collection + "/" + rkey;
}

// The CID of the record a write produced (by path, from the commit's ops).
std::optional<data::Cid> written_cid(const repo::CommitResult& commit, const std::string& path) {
  for (const auto& op : commit.ops) {
    if (op.path == path) return op.cid;
  }
  return std::nullopt;
}

// [pds.service.record-write] [pds.service.record-cid] createRecord and
// putRecord: the AT URI, the record's CID as the commit computed it (over
// the record's DRISL-CBOR encoding) and the new commit.
xrpc::HttpResponse create_or_put(PdsContext& context, const xrpc::HttpRequest& request, bool put) {
  const char* nsid = put ? "com.atproto.repo.putRecord" : "com.atproto.repo.createRecord";
  auto body = routes::json_body(context, nsid, request);
  if (auto* answer = std::get_if<xrpc::HttpResponse>(&body)) return std::move(*answer);
  auto& input = std::get<data::Value>(body);
  auto did = writer(context, request, input);
  if (auto* answer = std::get_if<xrpc::HttpResponse>(&did)) return std::move(*answer);
  const auto& account = std::get<std::string>(did);

  const auto* collection_value = input.find("collection");
  const auto* rkey_value = input.find("rkey");
  const auto* record_value = input.find("record");
  if (collection_value == nullptr || !collection_value->is_string() || record_value == nullptr ||
      (put && (rkey_value == nullptr || !rkey_value->is_string()))) {
    return xrpc::xrpc_error(400, "InvalidRequest", "collection, record (and rkey) are required");
  }
  std::string collection = collection_value->as_string();
  std::string rkey =
      rkey_value != nullptr && rkey_value->is_string() ? rkey_value->as_string() : new_rkey();
  data::Value record = *record_value;
  auto status = prepare_record(context, collection, rkey, record, validate_flag(input));
  if (!status.ok()) return error_response(status.error());

  Error field_error;
  auto swap_commit = cid_field(input, "swapCommit", &field_error);
  RecordWrite write;
  write.op = repo::WriteOp{put ? repo::Action::kUpdate : repo::Action::kCreate, collection, rkey,
                           std::move(record)};
  write.upsert = put;
  if (put) {
    // swapRecord: a CID, or null for "must not exist yet".
    if (const auto* swap = input.find("swapRecord"); swap != nullptr) {
      if (swap->is_null()) {
        write.swap_record = std::optional<data::Cid>{};
      } else if (auto cid = cid_field(input, "swapRecord", &field_error)) {
        write.swap_record = std::optional<data::Cid>{*cid};
      }
    }
  }
  if (!field_error.code.empty()) return error_response(field_error);
  auto commit = context.repos->apply_writes(account, {std::move(write)}, swap_commit);
  if (!commit.ok()) return error_response(commit.error());
  auto cid = written_cid(*commit, collection + "/" + rkey);
  Json out{{"uri", at_uri(account, collection, rkey)},
           {"cid", cid ? cid->to_string() : std::string()},
           {"commit", commit_meta(*commit)}};
  if (!status->empty()) out["validationStatus"] = *status;
  return written(*commit, out);
}

// [pds.service.record-write]
xrpc::HttpResponse delete_record(PdsContext& context, const xrpc::HttpRequest& request) {
  auto body = routes::json_body(context, "com.atproto.repo.deleteRecord", request);
  if (auto* answer = std::get_if<xrpc::HttpResponse>(&body)) return std::move(*answer);
  auto& input = std::get<data::Value>(body);
  auto did = writer(context, request, input);
  if (auto* answer = std::get_if<xrpc::HttpResponse>(&did)) return std::move(*answer);
  const auto& account = std::get<std::string>(did);
  const auto* collection = input.find("collection");
  const auto* rkey = input.find("rkey");
  if (collection == nullptr || !collection->is_string() || rkey == nullptr || !rkey->is_string()) {
    return xrpc::xrpc_error(400, "InvalidRequest", "collection and rkey are required");
  }
  Error field_error;
  auto swap_commit = cid_field(input, "swapCommit", &field_error);
  auto swap_record = cid_field(input, "swapRecord", &field_error);
  if (!field_error.code.empty()) return error_response(field_error);
  RecordWrite write;
  write.op = repo::WriteOp{repo::Action::kDelete, collection->as_string(), rkey->as_string(), {}};
  if (swap_record) write.swap_record = std::optional<data::Cid>{*swap_record};
  write.skip_if_absent = true;
  auto commit = context.repos->apply_writes(account, {std::move(write)}, swap_commit);
  if (!commit.ok()) return error_response(commit.error());
  // Deleting a record that is not there changes nothing: no commit.
  if (commit->ops.empty()) return xrpc::HttpResponse::json(200, Json::object());
  return written(*commit, {{"commit", commit_meta(*commit)}});
}

// [pds.service.record-write] [pds.service.apply-writes-atomic] Every write
// is checked before any is applied, then all go into one commit.
xrpc::HttpResponse apply_writes(PdsContext& context, const xrpc::HttpRequest& request) {
  auto body = routes::json_body(context, "com.atproto.repo.applyWrites", request);
  if (auto* answer = std::get_if<xrpc::HttpResponse>(&body)) return std::move(*answer);
  auto& input = std::get<data::Value>(body);
  auto did = writer(context, request, input);
  if (auto* answer = std::get_if<xrpc::HttpResponse>(&did)) return std::move(*answer);
  const auto& account = std::get<std::string>(did);
  const auto* writes_value = input.find("writes");
  if (writes_value == nullptr || !writes_value->is_array()) {
    return xrpc::xrpc_error(400, "InvalidRequest", "writes is required");
  }
  if (writes_value->as_array().size() > kMaxWrites) {
    return xrpc::xrpc_error(400, "InvalidRequest",
                            "too many writes; at most " + std::to_string(kMaxWrites));
  }
  auto validate = validate_flag(input);
  std::vector<RecordWrite> writes;
  std::vector<std::string> statuses;
  for (const auto& item : writes_value->as_array()) {
    const auto* type = item.find("$type");
    const auto* collection = item.find("collection");
    const auto* rkey = item.find("rkey");
    if (type == nullptr || !type->is_string() || collection == nullptr ||
        !collection->is_string()) {
      return xrpc::xrpc_error(400, "InvalidRequest", "a write needs $type and collection");
    }
    const std::string& kind = type->as_string();
    repo::Action action = kind == "com.atproto.repo.applyWrites#create"   ? repo::Action::kCreate
                          : kind == "com.atproto.repo.applyWrites#update" ? repo::Action::kUpdate
                                                                          : repo::Action::kDelete;
    if (action == repo::Action::kDelete && kind != "com.atproto.repo.applyWrites#delete") {
      return xrpc::xrpc_error(400, "InvalidRequest", "unknown write type " + kind);
    }
    std::string key;
    if (rkey != nullptr && rkey->is_string()) {
      key = rkey->as_string();
    } else if (action == repo::Action::kCreate) {
      key = new_rkey();
    } else {
      return xrpc::xrpc_error(400, "InvalidRequest", "update and delete need an rkey");
    }
    RecordWrite write;
    write.op = repo::WriteOp{action, collection->as_string(), key, std::nullopt};
    std::string status;
    if (action != repo::Action::kDelete) {
      const auto* value = item.find("value");
      if (value == nullptr) return xrpc::xrpc_error(400, "InvalidRequest", "a write needs value");
      data::Value record = *value;
      auto checked = prepare_record(context, collection->as_string(), key, record, validate);
      if (!checked.ok()) return error_response(checked.error());
      status = *checked;
      write.op.record = std::move(record);
    } else if (auto st = syntax::validate_record_key(key); !st.ok()) {
      return xrpc::xrpc_error(400, "InvalidRequest", "invalid record key: " + st.error().message);
    }
    writes.push_back(std::move(write));
    statuses.push_back(std::move(status));
  }
  Error field_error;
  auto swap_commit = cid_field(input, "swapCommit", &field_error);
  if (!field_error.code.empty()) return error_response(field_error);
  auto commit = context.repos->apply_writes(account, writes, swap_commit);
  if (!commit.ok()) return error_response(commit.error());
  Json results = Json::array();
  for (std::size_t i = 0; i < writes.size(); ++i) {
    const auto& op = writes[i].op;
    if (op.action == repo::Action::kDelete) {
      results.push_back({{"$type", "com.atproto.repo.applyWrites#deleteResult"}});
      continue;
    }
    auto cid = written_cid(*commit, op.collection + "/" + op.rkey);
    Json r{
        {"$type", op.action == repo::Action::kCreate ? "com.atproto.repo.applyWrites#createResult"
                                                     : "com.atproto.repo.applyWrites#updateResult"},
        {"uri", at_uri(account, op.collection, op.rkey)},
        {"cid", cid ? cid->to_string() : std::string()}};
    if (!statuses[i].empty()) r["validationStatus"] = statuses[i];
    results.push_back(std::move(r));
  }
  return written(*commit, {{"commit", commit_meta(*commit)}, {"results", results}});
}

// [pds.service.record-read] The record, its AT URI and CID; RecordNotFound.
xrpc::HttpResponse get_record(PdsContext& context, const xrpc::HttpRequest& request) {
  auto checked = routes::params(context, "com.atproto.repo.getRecord", request);
  if (auto* answer = std::get_if<xrpc::HttpResponse>(&checked)) return std::move(*answer);
  const auto& params = std::get<data::Map>(checked);
  auto account = routes::find_account(context, routes::string_param(params, "repo").value_or(""));
  if (auto* answer = std::get_if<xrpc::HttpResponse>(&account)) return std::move(*answer);
  const auto& did = std::get<AccountInfo>(account).did;
  std::string collection = routes::string_param(params, "collection").value_or("");
  std::string rkey = routes::string_param(params, "rkey").value_or("");
  auto record = context.repos->get_record(did, collection, rkey);
  if (!record.ok()) return error_response(record.error());
  auto wanted = routes::string_param(params, "cid");
  std::string uri = at_uri(did, collection, rkey);
  if (!record->has_value() || (wanted && (*record)->cid.to_string() != *wanted)) {
    return xrpc::xrpc_error(400, "RecordNotFound", "could not locate record: " + uri);
  }
  return xrpc::HttpResponse::json(200, {{"uri", uri},
                                        {"cid", (*record)->cid.to_string()},
                                        {"value", data::to_json((*record)->value)}});
}

// [pds.service.list-records] Pages by rkey cursor, either direction.
xrpc::HttpResponse list_records(PdsContext& context, const xrpc::HttpRequest& request) {
  auto checked = routes::params(context, "com.atproto.repo.listRecords", request);
  if (auto* answer = std::get_if<xrpc::HttpResponse>(&checked)) return std::move(*answer);
  const auto& params = std::get<data::Map>(checked);
  auto account = routes::find_account(context, routes::string_param(params, "repo").value_or(""));
  if (auto* answer = std::get_if<xrpc::HttpResponse>(&account)) return std::move(*answer);
  const auto& did = std::get<AccountInfo>(account).did;
  std::string collection = routes::string_param(params, "collection").value_or("");
  auto limit =
      std::clamp<std::int64_t>(routes::integer_param(params, "limit").value_or(50), 1, 100);
  auto records = context.repos->list_records(did, collection, static_cast<int>(limit),
                                             routes::string_param(params, "cursor"),
                                             routes::bool_param(params, "reverse"));
  if (!records.ok()) return error_response(records.error());
  Json list = Json::array();
  for (const auto& r : *records) {
    list.push_back({{"uri", at_uri(did, collection, r.rkey)},
                    {"cid", r.cid.to_string()},
                    {"value", data::to_json(r.value)}});
  }
  Json out{{"records", list}};
  // A full page may have more after it.
  if (records->size() == static_cast<std::size_t>(limit)) out["cursor"] = records->back().rkey;
  return xrpc::HttpResponse::json(200, out);
}

// [pds.service.describe-repo] DID, handle, DID document and collections.
xrpc::HttpResponse describe_repo(PdsContext& context, const xrpc::HttpRequest& request) {
  auto checked = routes::params(context, "com.atproto.repo.describeRepo", request);
  if (auto* answer = std::get_if<xrpc::HttpResponse>(&checked)) return std::move(*answer);
  const auto& params = std::get<data::Map>(checked);
  auto account = routes::find_account(context, routes::string_param(params, "repo").value_or(""));
  if (auto* answer = std::get_if<xrpc::HttpResponse>(&account)) return std::move(*answer);
  const auto& info = std::get<AccountInfo>(account);
  auto collections = context.repos->collections(info.did);
  if (!collections.ok()) return error_response(collections.error());
  // The document this server publishes for the account: its handle, its
  // signing key and this PDS as its service.
  identity::DidDocument doc{info.did, {"at://" + info.handle}, {}, {}};
  if (auto key = context.accounts->signing_key(info.did); key.ok()) {
    doc.verification_methods.push_back(
        {info.did + "#atproto", "Multikey", info.did, key->public_key().multibase()});
  }
  std::string endpoint = context.config.public_url.empty()
                             ? "http://localhost:" + std::to_string(context.config.port)
                             : context.config.public_url;
  doc.services.push_back({"#atproto_pds", "AtprotoPersonalDataServer", endpoint});
  return xrpc::HttpResponse::json(200, {{"handle", info.handle},
                                        {"did", info.did},
                                        {"didDoc", identity::to_json(doc)},
                                        {"collections", *collections},
                                        {"handleIsCorrect", true}});
}

xrpc::HttpResponse import_repo(PdsContext& context, const xrpc::HttpRequest& request) {
  auto caller = context.accounts->authenticate(request);
  if (!caller.ok()) return auth_error_response(caller.error());
  if (request.body.size() > context.config.max_import_bytes) {
    return xrpc::xrpc_error(400, "InvalidRequest", "the CAR file is too large");
  }
  std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(request.body.data()),
                                      request.body.size());
  auto imported = context.repos->import_car(caller->did, bytes);
  if (!imported.ok()) return error_response(imported.error());
  return xrpc::HttpResponse::json(200, Json::object());
}

// [pds.service.blob-upload] The blob reference: $type blob, raw CID, mimeType, size.
xrpc::HttpResponse upload_blob(PdsContext& context, const xrpc::HttpRequest& request) {
  auto caller = context.accounts->authenticate(request);
  if (!caller.ok()) return auth_error_response(caller.error());
  std::string mime = request.header("content-type").value_or("application/octet-stream");
  if (auto semicolon = mime.find(';'); semicolon != std::string::npos) mime.resize(semicolon);
  while (!mime.empty() && mime.back() == ' ') mime.pop_back();
  std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(request.body.data()),
                                      request.body.size());
  auto blob = context.blobs->upload(caller->did, bytes, mime);
  if (!blob.ok()) return error_response(blob.error());
  auto value = data::blob_to_value(*blob);
  if (!value.ok()) return error_response(value.error());
  return xrpc::HttpResponse::json(200, {{"blob", data::to_json(*value)}});
}

xrpc::HttpResponse list_missing_blobs(PdsContext& context, const xrpc::HttpRequest& request) {
  auto caller = context.accounts->authenticate(request);
  if (!caller.ok()) return auth_error_response(caller.error());
  auto checked = routes::params(context, "com.atproto.repo.listMissingBlobs", request);
  if (auto* answer = std::get_if<xrpc::HttpResponse>(&checked)) return std::move(*answer);
  const auto& params = std::get<data::Map>(checked);
  auto limit =
      std::clamp<std::int64_t>(routes::integer_param(params, "limit").value_or(500), 1, 1000);
  auto missing = context.blobs->missing(caller->did, static_cast<int>(limit),
                                        routes::string_param(params, "cursor"));
  if (!missing.ok()) return error_response(missing.error());
  Json blobs = Json::array();
  for (const auto& [cid, uri] : *missing) blobs.push_back({{"cid", cid}, {"recordUri", uri}});
  Json out{{"blobs", blobs}};
  if (missing->size() == static_cast<std::size_t>(limit)) out["cursor"] = missing->back().first;
  return xrpc::HttpResponse::json(200, out);
}

}  // namespace

void register_repo_routes(xrpc::Router& router, PdsContext& context) {
  using Kind = xrpc::ParamSpec::Kind;
  PdsContext* c = &context;
  (void)router.procedure("com.atproto.repo.createRecord", {},
                         [c](const auto& r) { return create_or_put(*c, r, false); });
  (void)router.procedure("com.atproto.repo.putRecord", {},
                         [c](const auto& r) { return create_or_put(*c, r, true); });
  (void)router.procedure("com.atproto.repo.deleteRecord", {},
                         [c](const auto& r) { return delete_record(*c, r); });
  (void)router.procedure("com.atproto.repo.applyWrites", {},
                         [c](const auto& r) { return apply_writes(*c, r); });
  (void)router.query("com.atproto.repo.getRecord",
                     {{"repo", Kind::string, true},
                      {"collection", Kind::string, true},
                      {"rkey", Kind::string, true},
                      {"cid", Kind::string, false}},
                     [c](const auto& r) { return get_record(*c, r); });
  (void)router.query("com.atproto.repo.listRecords",
                     {{"repo", Kind::string, true},
                      {"collection", Kind::string, true},
                      {"limit", Kind::integer, false},
                      {"cursor", Kind::string, false},
                      {"reverse", Kind::boolean, false}},
                     [c](const auto& r) { return list_records(*c, r); });
  (void)router.query("com.atproto.repo.describeRepo", {{"repo", Kind::string, true}},
                     [c](const auto& r) { return describe_repo(*c, r); });
  (void)router.procedure("com.atproto.repo.importRepo", {},
                         [c](const auto& r) { return import_repo(*c, r); });
  (void)router.procedure("com.atproto.repo.uploadBlob", {},
                         [c](const auto& r) { return upload_blob(*c, r); });
  (void)router.query("com.atproto.repo.listMissingBlobs",
                     {{"limit", Kind::integer, false}, {"cursor", Kind::string, false}},
                     [c](const auto& r) { return list_missing_blobs(*c, r); });
}

}  // namespace atproto::pds

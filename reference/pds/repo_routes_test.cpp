// The com.atproto.repo and com.atproto.sync routes through the router, as
// the official client calls them: validate semantics, swaps, keys, blobs
// and their headers, the sync CARs and the status errors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>

#include <nlohmann/json.hpp>

#include "atproto/car/car.hpp"
#include "atproto/pds/repo_test_support.hpp"
#include "atproto/sync/events.hpp"
#include "atproto/syntax/tid.hpp"

using namespace atproto;
using namespace atproto::pds;
using pds::testing::RepoFixture;
using Json = nlohmann::json;

namespace {

const std::string kAlice = "did:plc:aliceaaaaaaaaaaaaaaaaaaa";
const std::string kBob = "did:plc:bobbbbbbbbbbbbbbbbbbbbbb";

Json post(const std::string& text) {
  return {
      {"$type", "app.bsky.feed.post"}, {"text", text}, {"createdAt", "2026-12-06T09:00:00.000Z"}};
}

struct Answer {
  int status;
  Json body;
  xrpc::HttpResponse raw;
};

Answer post_json(const RepoFixture& f, const std::string& nsid, const Json& body,
                 const std::string& as = kAlice) {
  auto r = f.call("POST", nsid, {}, body.dump(), as);
  auto json = Json::parse(r.body, nullptr, false);
  return {r.status, json, r};
}

Answer get(const RepoFixture& f, const std::string& nsid,
           const std::vector<std::pair<std::string, std::string>>& query) {
  auto r = f.call("GET", nsid, query);
  auto json = Json::parse(r.body, nullptr, false);
  return {r.status, json, r};
}

std::string header(const xrpc::HttpResponse& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

std::vector<std::uint8_t> bytes_of(const std::string& s) { return {s.begin(), s.end()}; }

}  // namespace

TEST_CASE("pds routes: createRecord answers uri, cid, commit and validationStatus",
          "[pds][routes]") {
  RepoFixture f(true);
  f.add_account(kAlice, "alice.test");
  auto a =
      post_json(f, "com.atproto.repo.createRecord",
                {{"repo", kAlice}, {"collection", "app.bsky.feed.post"}, {"record", post("hi")}});
  REQUIRE(a.status == 200);
  CHECK(a.body["validationStatus"] == "valid");
  std::string uri = a.body["uri"];
  CHECK(uri.rfind("at://" + kAlice + "/app.bsky.feed.post/", 0) == 0);
  std::string rkey = uri.substr(uri.rfind('/') + 1);
  CHECK(syntax::validate_tid(rkey).ok());  // generated keys are TIDs
  auto root = f.repos->root(kAlice);
  CHECK(a.body["commit"]["cid"] == (*root)->commit.to_string());
  CHECK(a.body["commit"]["rev"] == (*root)->rev);
  // The record reads back with the same CID, and by handle too.
  auto read = get(f, "com.atproto.repo.getRecord",
                  {{"repo", "alice.test"}, {"collection", "app.bsky.feed.post"}, {"rkey", rkey}});
  REQUIRE(read.status == 200);
  CHECK(read.body["cid"] == a.body["cid"]);
  CHECK(read.body["value"]["text"] == "hi");
  auto missing = get(f, "com.atproto.repo.getRecord",
                     {{"repo", kAlice}, {"collection", "app.bsky.feed.post"}, {"rkey", "3kzz"}});
  CHECK(missing.status == 400);
  CHECK(missing.body["error"] == "RecordNotFound");
}

TEST_CASE("pds routes: validate true, unset and false", "[pds][routes]") {
  // [pds.service.validate]
  RepoFixture f(true);
  f.add_account(kAlice, "alice.test");
  Json bad_post = {{"$type", "app.bsky.feed.post"}, {"text", 12}};  // no createdAt, text a number
  Json unknown = {{"$type", "com.example.thing"}, {"anything", "goes"}};
  auto create = [&](const Json& record, const std::string& collection,
                    std::optional<bool> validate) {
    Json body{{"repo", kAlice}, {"collection", collection}, {"record", record}};
    if (validate) body["validate"] = *validate;
    return post_json(f, "com.atproto.repo.createRecord", body);
  };
  // Unset: a known lexicon is enforced, an unknown one passes as "unknown".
  CHECK(create(bad_post, "app.bsky.feed.post", std::nullopt).status == 400);
  auto u = create(unknown, "com.example.thing", std::nullopt);
  CHECK(u.status == 200);
  CHECK(u.body["validationStatus"] == "unknown");
  // True: an unknown lexicon is an error.
  auto t = create(unknown, "com.example.thing", true);
  CHECK(t.status == 400);
  CHECK(t.body["error"] == "InvalidRequest");
  CHECK(create(bad_post, "app.bsky.feed.post", true).status == 400);
  // False: no lexicon check and no validationStatus, but the data model and
  // $type rules still hold.
  auto skipped = create(bad_post, "app.bsky.feed.post", false);
  CHECK(skipped.status == 200);
  CHECK_FALSE(skipped.body.contains("validationStatus"));
  CHECK(create(unknown, "app.bsky.feed.post", false).status == 400);  // $type != collection
  Json untyped = {{"text", "no type"}};
  CHECK(create(untyped, "com.example.thing", false).status == 400);  // $type missing
  Json with_float = {{"$type", "com.example.thing"}, {"n", 1.5}};
  CHECK(create(with_float, "com.example.thing", false).status == 400);
  // Record keys: the base syntax always, the lexicon's key type when known.
  Json profile = {{"$type", "app.bsky.actor.profile"}, {"displayName", "A"}};
  auto put = [&](const std::string& collection, const std::string& rkey, const Json& record) {
    return post_json(
        f, "com.atproto.repo.putRecord",
        {{"repo", kAlice}, {"collection", collection}, {"rkey", rkey}, {"record", record}});
  };
  CHECK(put("app.bsky.actor.profile", "self", profile).status == 200);
  CHECK(put("app.bsky.actor.profile", "notself", profile).status == 400);  // literal:self
  CHECK(put("com.example.thing", "..", unknown).status == 400);
  CHECK(put("com.example.thing", "a/b", unknown).status == 400);
  CHECK(put("com.example.thing", "any-key_ok:~.", unknown).status == 200);
}

TEST_CASE("pds routes: putRecord, deleteRecord and applyWrites with swaps", "[pds][routes]") {
  // [pds.service.record-write] [pds.service.swap]
  RepoFixture f(true);
  f.add_account(kAlice, "alice.test");
  auto created = post_json(f, "com.atproto.repo.putRecord",
                           {{"repo", kAlice},
                            {"collection", "app.bsky.feed.post"},
                            {"rkey", "3kaaaaaaaaa22"},
                            {"record", post("one")},
                            {"swapRecord", nullptr}});
  REQUIRE(created.status == 200);
  // swapRecord null: the record must not exist, and now it does.
  auto again = post_json(f, "com.atproto.repo.putRecord",
                         {{"repo", kAlice},
                          {"collection", "app.bsky.feed.post"},
                          {"rkey", "3kaaaaaaaaa22"},
                          {"record", post("two")},
                          {"swapRecord", nullptr}});
  CHECK(again.status == 400);
  CHECK(again.body["error"] == "InvalidSwap");
  auto updated = post_json(f, "com.atproto.repo.putRecord",
                           {{"repo", kAlice},
                            {"collection", "app.bsky.feed.post"},
                            {"rkey", "3kaaaaaaaaa22"},
                            {"record", post("two")},
                            {"swapRecord", created.body["cid"]},
                            {"swapCommit", created.body["commit"]["cid"]}});
  REQUIRE(updated.status == 200);
  CHECK(updated.body["cid"] != created.body["cid"]);
  // A stale swapCommit.
  auto stale = post_json(f, "com.atproto.repo.applyWrites",
                         {{"repo", kAlice},
                          {"swapCommit", created.body["commit"]["cid"]},
                          {"writes", Json::array({{{"$type", "com.atproto.repo.applyWrites#create"},
                                                   {"collection", "app.bsky.feed.post"},
                                                   {"value", post("x")}}})}});
  CHECK(stale.status == 400);
  CHECK(stale.body["error"] == "InvalidSwap");
  // One commit of three ops: a create, an update and a delete.
  REQUIRE(post_json(f, "com.atproto.repo.createRecord",
                    {{"repo", kAlice},
                     {"collection", "app.bsky.feed.post"},
                     {"rkey", "3kaaaaaaaaa24"},
                     {"record", post("doomed")}})
              .status == 200);
  auto before = f.repos->root(kAlice);
  auto write = [](const char* type, const char* rkey, std::optional<Json> value) {
    Json w{{"$type", std::string("com.atproto.repo.applyWrites#") + type},
           {"collection", "app.bsky.feed.post"},
           {"rkey", rkey}};
    if (value) w["value"] = *value;
    return w;
  };
  auto batch =
      post_json(f, "com.atproto.repo.applyWrites",
                {{"repo", kAlice},
                 {"swapCommit", (*before)->commit.to_string()},
                 {"writes", Json::array({write("create", "3kaaaaaaaaa23", post("three")),
                                         write("update", "3kaaaaaaaaa22", post("four")),
                                         write("delete", "3kaaaaaaaaa24", std::nullopt)})}});
  REQUIRE(batch.status == 200);
  REQUIRE(batch.body["results"].size() == 3);
  CHECK(batch.body["results"][0]["$type"] == "com.atproto.repo.applyWrites#createResult");
  CHECK(batch.body["results"][0]["validationStatus"] == "valid");
  CHECK(batch.body["results"][1]["$type"] == "com.atproto.repo.applyWrites#updateResult");
  CHECK(batch.body["results"][2]["$type"] == "com.atproto.repo.applyWrites#deleteResult");
  auto after = f.repos->root(kAlice);
  CHECK(batch.body["commit"]["cid"] == (*after)->commit.to_string());
  auto listed = get(f, "com.atproto.repo.listRecords",
                    {{"repo", kAlice}, {"collection", "app.bsky.feed.post"}});
  REQUIRE(listed.body["records"].size() == 2);
  CHECK(listed.body["records"][0]["value"]["text"] == "three");
  CHECK(listed.body["records"][1]["value"]["text"] == "four");
  // An update of a missing record fails the whole batch.
  auto failed =
      post_json(f, "com.atproto.repo.applyWrites",
                {{"repo", kAlice},
                 {"writes", Json::array({write("create", "3kaaaaaaaaa25", post("five")),
                                         write("update", "3kaaaaaaaaa26", post("six"))})}});
  CHECK(failed.status == 400);
  CHECK((*f.repos->root(kAlice))->commit == (*after)->commit);
  auto removed = post_json(
      f, "com.atproto.repo.deleteRecord",
      {{"repo", kAlice}, {"collection", "app.bsky.feed.post"}, {"rkey", "3kaaaaaaaaa22"}});
  REQUIRE(removed.status == 200);
  CHECK(removed.body.contains("commit"));
  // Deleting what is not there: no commit.
  auto nothing = post_json(
      f, "com.atproto.repo.deleteRecord",
      {{"repo", kAlice}, {"collection", "app.bsky.feed.post"}, {"rkey", "3kaaaaaaaaa22"}});
  REQUIRE(nothing.status == 200);
  CHECK_FALSE(nothing.body.contains("commit"));
}

TEST_CASE("pds routes: writes need the owner's token and an active account", "[pds][routes]") {
  RepoFixture f(true);
  f.add_account(kAlice, "alice.test");
  f.add_account(kBob, "bob.test");
  Json body{{"repo", kAlice}, {"collection", "app.bsky.feed.post"}, {"record", post("x")}};
  auto anonymous = f.call("POST", "com.atproto.repo.createRecord", {}, body.dump());
  CHECK(anonymous.status == 401);
  CHECK(header(anonymous, "www-authenticate").rfind("Bearer", 0) == 0);
  CHECK(post_json(f, "com.atproto.repo.createRecord", body, kBob).status == 403);
  f.accounts.set_status(kAlice, AccountStatus::kDeactivated);
  auto refused = post_json(f, "com.atproto.repo.createRecord", body);
  CHECK(refused.status == 400);
  CHECK(refused.body["error"] == "AccountDeactivated");
  // And its repository is not served.
  auto repo = get(f, "com.atproto.sync.getRepo", {{"did", kAlice}});
  CHECK(repo.status == 400);
  CHECK(repo.body["error"] == "RepoDeactivated");
  f.accounts.set_status(kAlice, AccountStatus::kTakendown);
  CHECK(get(f, "com.atproto.sync.getLatestCommit", {{"did", kAlice}}).body["error"] ==
        "RepoTakendown");
  auto status = get(f, "com.atproto.sync.getRepoStatus", {{"did", kAlice}});
  CHECK(status.body["active"] == false);
  CHECK(status.body["status"] == "takendown");
  CHECK(get(f, "com.atproto.sync.getRepo", {{"did", "did:plc:nobodyaaaaaaaaaaaaaaaaa"}})
            .body["error"] == "RepoNotFound");
}

TEST_CASE("pds routes: listRecords pages with limit, cursor and reverse", "[pds][routes]") {
  // [pds.service.list-records]
  RepoFixture f(true);
  f.add_account(kAlice, "alice.test");
  for (int i = 0; i < 7; ++i) {
    REQUIRE(post_json(f, "com.atproto.repo.createRecord",
                      {{"repo", kAlice},
                       {"collection", "app.bsky.feed.post"},
                       {"record", post(std::to_string(i))}})
                .status == 200);
  }
  std::vector<std::string> texts;
  std::optional<std::string> cursor;
  for (int page = 0; page < 5; ++page) {
    std::vector<std::pair<std::string, std::string>> q{
        {"repo", kAlice}, {"collection", "app.bsky.feed.post"}, {"limit", "3"}};
    if (cursor) q.emplace_back("cursor", *cursor);
    auto a = get(f, "com.atproto.repo.listRecords", q);
    REQUIRE(a.status == 200);
    for (const auto& r : a.body["records"]) texts.push_back(r["value"]["text"]);
    if (!a.body.contains("cursor")) break;
    cursor = a.body["cursor"];
  }
  // Newest first.
  CHECK(texts == std::vector<std::string>{"6", "5", "4", "3", "2", "1", "0"});
  auto reversed =
      get(f, "com.atproto.repo.listRecords",
          {{"repo", kAlice}, {"collection", "app.bsky.feed.post"}, {"reverse", "true"}});
  REQUIRE(reversed.status == 200);
  CHECK(reversed.body["records"][0]["value"]["text"] == "0");
  CHECK(get(f, "com.atproto.repo.listRecords",
            {{"repo", kAlice}, {"collection", "app.bsky.feed.post"}, {"limit", "1000"}})
            .status == 400);
  auto described = get(f, "com.atproto.repo.describeRepo", {{"repo", "alice.test"}});
  REQUIRE(described.status == 200);
  CHECK(described.body["did"] == kAlice);
  CHECK(described.body["collections"] == Json::array({"app.bsky.feed.post"}));
}

TEST_CASE("pds routes: blobs: our CID, references, missing blobs and safe headers",
          "[pds][routes][blobs]") {
  // [pds.service.blob-upload] [pds.service.blob-get] [pds.service.blob-headers]
  PdsConfig config;
  config.max_blob_bytes = 1000;
  RepoFixture f(true, config);
  f.add_account(kAlice, "alice.test");
  f.add_account(kBob, "bob.test");
  std::string png = "\x89PNG\r\n\x1a\nnot really an image";
  auto up = f.call("POST", "com.atproto.repo.uploadBlob", {}, png, kAlice, "image/png");
  REQUIRE(up.status == 200);
  auto blob = Json::parse(up.body)["blob"];
  auto expected = data::Cid::compute(data::Codec::kRaw, bytes_of(png));
  CHECK(blob["ref"]["$link"] == expected.to_string());
  CHECK(blob["mimeType"] == "image/png");
  CHECK(blob["size"] == png.size());
  CHECK(
      f.call("POST", "com.atproto.repo.uploadBlob", {}, std::string(1001, 'x'), kAlice, "image/png")
          .status == 400);
  // A record may reference only blobs its account uploaded.
  Json with_image = post("look");
  with_image["embed"] = {{"$type", "app.bsky.embed.images"},
                         {"images", Json::array({{{"alt", ""}, {"image", blob}}})}};
  auto by_bob = post_json(
      f, "com.atproto.repo.createRecord",
      {{"repo", kBob}, {"collection", "app.bsky.feed.post"}, {"record", with_image}}, kBob);
  CHECK(by_bob.status == 400);
  CHECK(by_bob.body["error"] == "BlobNotFound");
  auto by_alice =
      post_json(f, "com.atproto.repo.createRecord",
                {{"repo", kAlice}, {"collection", "app.bsky.feed.post"}, {"record", with_image}});
  REQUIRE(by_alice.status == 200);
  auto served =
      f.call("GET", "com.atproto.sync.getBlob", {{"did", kAlice}, {"cid", expected.to_string()}});
  REQUIRE(served.status == 200);
  CHECK(served.body == png);
  CHECK(header(served, "content-type") == "image/png");
  CHECK(header(served, "x-content-type-options") == "nosniff");
  CHECK(header(served, "content-security-policy") == "default-src 'none'; sandbox");
  auto listed = get(f, "com.atproto.sync.listBlobs", {{"did", kAlice}});
  CHECK(listed.body["cids"] == Json::array({expected.to_string()}));
  // HTML is downloaded, not shown.
  auto html =
      f.call("POST", "com.atproto.repo.uploadBlob", {}, "<script>1</script>", kAlice, "text/html");
  auto html_cid = Json::parse(html.body)["blob"]["ref"]["$link"].get<std::string>();
  auto html_served =
      f.call("GET", "com.atproto.sync.getBlob", {{"did", kAlice}, {"cid", html_cid}});
  REQUIRE(html_served.status == 200);
  CHECK(header(html_served, "content-disposition").rfind("attachment", 0) == 0);
  // Another account's blob is not found under this one.
  auto wrong = get(f, "com.atproto.sync.getBlob", {{"did", kBob}, {"cid", expected.to_string()}});
  CHECK(wrong.body["error"] == "BlobNotFound");
  // Deleting the only record that references it collects the blob.
  std::string uri = by_alice.body["uri"];
  auto removed = post_json(f, "com.atproto.repo.deleteRecord",
                           {{"repo", kAlice},
                            {"collection", "app.bsky.feed.post"},
                            {"rkey", uri.substr(uri.rfind('/') + 1)}});
  REQUIRE(removed.status == 200);
  auto gone = get(f, "com.atproto.sync.getBlob", {{"did", kAlice}, {"cid", expected.to_string()}});
  CHECK(gone.body["error"] == "BlobNotFound");
  CHECK_FALSE(std::filesystem::exists(f.dir + "/blobs/" + expected.to_string()));
}

TEST_CASE(
    "pds routes: an untyped upload is octet-stream; a reference must match its upload "
    "[data.blob.mime-unknown] [data.blob.cid-consistent]",
    "[pds][routes][blobs]") {
  RepoFixture f(true);
  f.add_account(kAlice, "alice.test");
  // No Content-Type at all.
  xrpc::HttpRequest request;
  request.method = "POST";
  request.path = request.target = "/xrpc/com.atproto.repo.uploadBlob";
  request.body = "bytes of no known type";
  request.headers.emplace_back("authorization", "Bearer " + kAlice);
  auto untyped = f.router.handle(request);
  REQUIRE(untyped.status == 200);
  Json blob = Json::parse(untyped.body)["blob"];
  CHECK(blob["mimeType"] == "application/octet-stream");
  auto wildcard = f.call("POST", "com.atproto.repo.uploadBlob", {}, "other bytes", kAlice, "*/*");
  REQUIRE(wildcard.status == 200);
  CHECK(Json::parse(wildcard.body)["blob"]["mimeType"] == "application/octet-stream");
  // A record referencing the upload with another size is refused; with the
  // upload's own size it is taken.
  auto create = [&](const Json& ref) {
    return post_json(f, "com.atproto.repo.createRecord",
                     {{"repo", kAlice},
                      {"collection", "com.example.file"},
                      {"record", {{"$type", "com.example.file"}, {"file", ref}}}});
  };
  Json lying = blob;
  lying["size"] = request.body.size() + 1;
  auto refused = create(lying);
  CHECK(refused.status == 400);
  CHECK(refused.body["error"] == "InvalidSize");
  CHECK(create(blob).status == 200);
}

TEST_CASE(
    "pds routes: sync CARs verify: getRepo, since, getRecord proof, getBlocks "
    "[sync.pds.get-repo] [repo.diff.contents] [repo.mst.proof]",
    "[pds][routes]") {
  RepoFixture f(true);
  f.add_account(kAlice, "alice.test");
  std::string since;
  std::string last_cid;
  for (int i = 0; i < 10; ++i) {
    auto a = post_json(f, "com.atproto.repo.createRecord",
                       {{"repo", kAlice},
                        {"collection", "app.bsky.feed.post"},
                        {"rkey", std::string("3kaaaaaaaaaa") + "234567abcd"[i]},
                        {"record", post(std::to_string(i))}});
    REQUIRE(a.status == 200);
    if (i == 4) since = a.body["commit"]["rev"];
    last_cid = a.body["cid"];
  }
  auto repo = f.call("GET", "com.atproto.sync.getRepo", {{"did", kAlice}});
  REQUIRE(repo.status == 200);
  CHECK(header(repo, "content-type") == "application/vnd.ipld.car");
  auto verified = repo::verify_repo_car(bytes_of(repo.body), kAlice, f.accounts.public_key(kAlice));
  REQUIRE(verified.ok());
  CHECK(verified->records.size() == 10);
  auto diff = f.call("GET", "com.atproto.sync.getRepo", {{"did", kAlice}, {"since", since}});
  REQUIRE(diff.status == 200);
  auto diff_car = car::read_car(bytes_of(diff.body));
  REQUIRE(diff_car.ok());
  CHECK(diff_car->roots[0] == verified->commit_cid);
  std::size_t record_blocks = 0;
  for (const auto& entry : verified->records) {
    for (const auto& b : diff_car->blocks) record_blocks += b.cid == entry.value;
  }
  CHECK(record_blocks == 5);  // the five records written after `since`
  auto latest = get(f, "com.atproto.sync.getLatestCommit", {{"did", kAlice}});
  CHECK(latest.body["cid"] == verified->commit_cid.to_string());
  auto proof =
      f.call("GET", "com.atproto.sync.getRecord",
             {{"did", kAlice}, {"collection", "app.bsky.feed.post"}, {"rkey", "3kaaaaaaaaaad"}});
  REQUIRE(proof.status == 200);
  CHECK(header(proof, "content-type") == "application/vnd.ipld.car");  // [car.media-type]
  auto proof_car = car::read_car(bytes_of(proof.body));
  REQUIRE(proof_car.ok());
  auto proven = repo::verify_proof(verified->commit.data, "app.bsky.feed.post/3kaaaaaaaaaad",
                                   proof_car->blocks);
  REQUIRE(proven.ok());
  REQUIRE(proven->has_value());
  CHECK((*proven)->to_string() == last_cid);
  auto blocks = f.call("GET", "com.atproto.sync.getBlocks", {{"did", kAlice}, {"cids", last_cid}});
  REQUIRE(blocks.status == 200);
  CHECK(header(blocks, "content-type") == "application/vnd.ipld.car");  // [car.media-type]
  auto missing =
      get(f, "com.atproto.sync.getBlocks",
          {{"did", kAlice},
           {"cids", verified->commit.data.to_string()},
           {"cids", data::Cid::compute(data::Codec::kDagCbor, bytes_of("x")).to_string()}});
  CHECK(missing.body["error"] == "BlockNotFound");
  auto listed = get(f, "com.atproto.sync.listRepos", {});
  REQUIRE(listed.status == 200);
  CHECK(listed.body["repos"][0]["did"] == kAlice);
  CHECK(listed.body["repos"][0]["head"] == verified->commit_cid.to_string());
}

TEST_CASE(
    "pds routes: importRepo replaces the repository and sequences a #sync "
    "[sync.pds.sync-events]",
    "[pds][routes]") {
  RepoFixture f(true);
  f.add_account(kAlice, "alice.test");
  for (int i = 0; i < 3; ++i) {
    REQUIRE(post_json(f, "com.atproto.repo.createRecord",
                      {{"repo", kAlice},
                       {"collection", "app.bsky.feed.post"},
                       {"record", post(std::to_string(i))}})
                .status == 200);
  }
  auto exported = f.call("GET", "com.atproto.sync.getRepo", {{"did", kAlice}});
  REQUIRE(exported.status == 200);
  // More writes, then the export is imported back: the repository returns
  // to its three records under a newer commit.
  REQUIRE(post_json(f, "com.atproto.repo.createRecord",
                    {{"repo", kAlice}, {"collection", "app.bsky.feed.post"}, {"record", post("x")}})
              .status == 200);
  auto before = f.repos->root(kAlice);
  auto imported = f.call("POST", "com.atproto.repo.importRepo", {}, exported.body, kAlice,
                         "application/vnd.ipld.car");
  REQUIRE(imported.status == 200);
  auto after = f.repos->root(kAlice);
  CHECK((*after)->rev > (*before)->rev);
  {
    // The newest event is a #sync whose CAR holds only the new commit.
    std::lock_guard lock(f.context->db_mutex);
    auto q = f.context->db.prepare("SELECT frame FROM repo_seq ORDER BY seq DESC LIMIT 1");
    REQUIRE(q.step() == SQLITE_ROW);
    auto message = sync::decode_message(q.blob(0));
    REQUIRE(message.ok());
    auto* sync_event = std::get_if<sync::SyncEvent>(&std::get<sync::Event>(*message));
    REQUIRE(sync_event != nullptr);
    CHECK(sync_event->did == kAlice);
    CHECK(sync_event->rev == (*after)->rev);
    auto car = car::read_car(sync_event->blocks);
    REQUIRE(car.ok());
    REQUIRE(car->blocks.size() == 1);
    CHECK(car->roots[0] == (*after)->commit);
    CHECK(car->blocks[0].cid == (*after)->commit);
  }
  auto car = f.call("GET", "com.atproto.sync.getRepo", {{"did", kAlice}});
  auto verified = repo::verify_repo_car(bytes_of(car.body), kAlice, f.accounts.public_key(kAlice));
  REQUIRE(verified.ok());
  CHECK(verified->records.size() == 3);
  auto listed = get(f, "com.atproto.repo.listRecords",
                    {{"repo", kAlice}, {"collection", "app.bsky.feed.post"}});
  CHECK(listed.body["records"].size() == 3);
  // Someone else's repository (signed by another key, another DID) is refused.
  f.add_account(kBob, "bob.test");
  auto foreign = f.call("POST", "com.atproto.repo.importRepo", {}, exported.body, kBob,
                        "application/vnd.ipld.car");
  CHECK(foreign.status == 400);
  // Writes continue on the imported repository.
  CHECK(post_json(f, "com.atproto.repo.createRecord",
                  {{"repo", kAlice}, {"collection", "app.bsky.feed.post"}, {"record", post("y")}})
            .status == 200);
}

// Not part of the suite (hidden tag): createRecord through the router on
// one thread, the rate and the 99th percentile latency; once as configured
// (synchronous=FULL: an fsync per commit) and once with synchronous=NORMAL,
// which shows the cost of everything but the disk.
// Run: pds_repo_tests "[.bench]"
TEST_CASE("pds routes: createRecord rate on one client", "[.bench]") {
  for (std::string sync_mode : {"FULL", "NORMAL"}) {
    RepoFixture f(true);
    f.add_account(kAlice, "alice.test");
    REQUIRE(f.context->db.exec("PRAGMA synchronous=" + sync_mode).ok());
    const int n = 3000;
    std::vector<double> ms;
    ms.reserve(n);
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      auto a = f.call("POST", "com.atproto.repo.createRecord", {},
                      Json{{"repo", kAlice},
                           {"collection", "app.bsky.feed.post"},
                           {"record", post("post number " + std::to_string(i))}}
                          .dump(),
                      kAlice);
      auto t1 = std::chrono::steady_clock::now();
      REQUIRE(a.status == 200);
      ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::sort(ms.begin(), ms.end());
    WARN("createRecord (synchronous=" << sync_mode << "): " << n / seconds << " records/s, p50 "
                                      << ms[n / 2] << " ms, p99 " << ms[n * 99 / 100] << " ms");
  }
}

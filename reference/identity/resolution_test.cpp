// Handle and DID resolution against real servers on loopback: dnsmasq (from
// the dnsmasq-base package) serving TXT records on a high port, and our
// HttpServer serving /.well-known/atproto-did, did.json and a PLC directory.
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "atproto/identity/did_resolver.hpp"
#include "atproto/identity/dns.hpp"
#include "atproto/identity/handle_resolver.hpp"
#include "atproto/identity/test_process.hpp"
#include "atproto/xrpc/http_server.hpp"

namespace asio = boost::asio;
using namespace atproto::identity;
using atproto::xrpc::HttpRequest;
using atproto::xrpc::HttpResponse;
using atproto::xrpc::HttpServer;
using nlohmann::json;

namespace {

const std::string kAlice = "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa";
const std::string kBob = "did:plc:bbbbbbbbbbbbbbbbbbbbbbbb";
const std::string kCarol = "did:plc:cccccccccccccccccccccccc";
const std::string kWeb = "did:plc:wwwwwwwwwwwwwwwwwwwwwwww";

std::string find_dnsmasq() {
  for (const char* p : {"/usr/sbin/dnsmasq", "/usr/bin/dnsmasq", "/sbin/dnsmasq"})
    if (access(p, X_OK) == 0) return p;
  return "";
}

// dnsmasq on 127.0.0.1:<port>, authoritative for .test (NXDOMAIN for names
// without records), no upstream servers: no query leaves the machine.
class Dnsmasq {
 public:
  explicit Dnsmasq(const std::vector<std::pair<std::string, std::vector<std::string>>>& txt) {
    binary_ = find_dnsmasq();
    if (binary_.empty()) return;
    auto argv_for = [&](std::uint16_t port) {
      std::vector<std::string> args = {binary_,
                                       "--keep-in-foreground",
                                       "--port=" + std::to_string(port),
                                       "--listen-address=127.0.0.1",
                                       "--bind-interfaces",
                                       "--no-resolv",
                                       "--no-hosts",
                                       "--conf-file=/dev/null",
                                       "--local=/test/",
                                       "--pid-file=",
                                       "--log-facility=/dev/null"};
      // As root, dnsmasq would switch to the user "nobody"; stay as we are.
      if (geteuid() == 0) args.push_back("--user=root");
      for (const auto& [name, strings] : txt) {
        // One --txt-record per record, its strings comma-separated (no shell:
        // no quotes, which dnsmasq would keep).
        std::string arg = "--txt-record=" + name;
        for (const auto& s : strings) arg += "," + s;
        args.push_back(arg);
      }
      return args;
    };
    // dnsmasq binds UDP and TCP on its port; if either was taken meanwhile
    // it exits, and the helper retries on another port.
    server_ = testing::start_on_free_port(
        testing::free_udp_and_tcp_port, argv_for, [](std::uint16_t port) {
          DnsOptions probe{"127.0.0.1:" + std::to_string(port), 200, 1};
          return lookup_txt("_atproto.probe.test", probe).ok();
        });
  }
  bool available() const { return !binary_.empty(); }
  bool ready() const { return server_.ready(); }
  std::string server() const { return "127.0.0.1:" + std::to_string(server_.port); }

 private:
  std::string binary_;
  testing::PortServer server_;
};

#define REQUIRE_DNSMASQ(d)                                                            \
  do {                                                                                \
    if (!(d).available())                                                             \
      FAIL(                                                                           \
          "dnsmasq is not installed: the handle tests need it (tools/setup installs " \
          "dnsmasq-base)");                                                           \
    REQUIRE((d).ready());                                                             \
  } while (0)

const std::vector<std::pair<std::string, std::vector<std::string>>> kRecords = {
    {"_atproto.probe.test", {"did=" + kCarol}},
    {"_atproto.alice.test", {"did=" + kAlice}},
    {"_atproto.dup.test", {"did=" + kAlice}},
    {"_atproto.dup.test", {"did=" + kAlice}},
    {"_atproto.multi.test", {"did=" + kAlice}},
    {"_atproto.multi.test", {"did=" + kBob}},
    {"_atproto.split.test", {"did=did:plc:", "cccccccccccccccccccccccc"}},
    {"_atproto.noise.test", {"v=spf1 -all"}},
    {"_atproto.noise.test", {"hello did=" + kBob}},
    {"_atproto.noise.test", {"did=" + kBob}},
    {"_atproto.other.test", {"something else"}},
    {"_atproto.bad.test", {"did=not-a-did"}},
    {"_atproto.unsupported.test",
     {"did=did:key:zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF"}},
    {"_atproto.both.test", {"did=" + kAlice}},
    {"_atproto.liar.test", {"did=" + kAlice}},
};

// The well-known server: answers by Host header.
struct WellKnown {
  std::mutex mu;
  std::map<std::string, int> hits;
  std::atomic<int> counter_version{0};
  HttpServer server{{}, [this](const HttpRequest& req) { return serve(req); }};

  HttpResponse serve(const HttpRequest& req) {
    std::string host = req.header("host").value_or("");
    {
      std::lock_guard lock(mu);
      ++hits[host];
    }
    if (req.path == "/.well-known/atproto-did") {
      if (host == "web.test") return HttpResponse::text(200, " \n" + kWeb + "\r\n ", "text/plain");
      if (host == "other.test") return HttpResponse::text(200, kBob, "text/plain");
      if (host == "both.test") return HttpResponse::text(200, kBob, "text/plain");
      if (host == "badweb.test") return HttpResponse::text(200, "<html>hi</html>", "text/html");
      if (host == "counter.test") {
        std::string did = counter_version == 0 ? kAlice : kBob;
        return HttpResponse::text(200, did, "text/plain");
      }
      if (host == "redirect.test") {
        HttpResponse r;
        r.status = 302;
        r.headers.emplace_back("location", "/moved/atproto-did");
        return r;
      }
    }
    if (req.path == "/moved/atproto-did" && host == "redirect.test") {
      return HttpResponse::text(200, kCarol, "text/plain");
    }
    return HttpResponse::text(404, "not found", "text/plain");
  }
  int hits_for(const std::string& host) {
    std::lock_guard lock(mu);
    return hits[host];
  }
};

// dnsmasq with kRecords and the well-known server, both on loopback.
struct Loopback {
  Dnsmasq dns{kRecords};
  WellKnown web;
  std::uint16_t web_port = 0;
  Loopback() {
    auto port = web.server.start();
    if (port.ok()) web_port = *port;
  }
};

#define REQUIRE_LOOPBACK(net) \
  REQUIRE_DNSMASQ((net).dns); \
  REQUIRE((net).web_port != 0)

HandleResolverOptions options_for(const Dnsmasq& dns, std::uint16_t web_port) {
  HandleResolverOptions o;
  o.dns.server = dns.server();
  o.dns.timeout_ms = 1000;
  o.fetch.allow_private_addresses = true;
  o.fetch.timeout_ms = 5000;
  o.well_known_origin_for_tests = "http://127.0.0.1:" + std::to_string(web_port);
  o.allow_test_tld = true;
  return o;
}

json did_doc(const std::string& did, const std::string& handle) {
  return json{{"@context", {"https://www.w3.org/ns/did/v1"}},
              {"id", did},
              {"alsoKnownAs", {"at://" + handle}},
              {"verificationMethod",
               {{{"id", did + "#atproto"},
                 {"type", "Multikey"},
                 {"controller", did},
                 {"publicKeyMultibase", "zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF"}}}},
              {"service",
               {{{"id", "#atproto_pds"},
                 {"type", "AtprotoPersonalDataServer"},
                 {"serviceEndpoint", "https://pds.example.com"}}}}};
}

}  // namespace

TEST_CASE("dns: TXT lookups against dnsmasq [handle.resolve.dns-txt]") {
  Dnsmasq dns(kRecords);
  REQUIRE_DNSMASQ(dns);
  DnsOptions o{dns.server(), 1000, 1};
  auto alice = lookup_txt("_atproto.alice.test", o);
  REQUIRE(alice.ok());
  CHECK(alice->found);
  CHECK(alice->records == std::vector<std::string>{"did=" + kAlice});
  // Several strings of one record are one value.
  auto split = lookup_txt("_atproto.split.test", o);
  REQUIRE(split.ok());
  CHECK(split->records == std::vector<std::string>{"did=" + kCarol});
  auto multi = lookup_txt("_atproto.multi.test", o);
  REQUIRE(multi.ok());
  CHECK(multi->records.size() == 2);
  auto none = lookup_txt("_atproto.nobody.test", o);
  REQUIRE(none.ok());
  CHECK_FALSE(none->found);
  CHECK(none->records.empty());
  auto bad = lookup_txt("x", DnsOptions{"not an address", 100, 1});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == "dns.config");
}

TEST_CASE("dns: a server that never answers times out, bounded") {
  asio::io_context ioc;
  asio::ip::udp::socket silent(ioc,
                               asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  DnsOptions o{"127.0.0.1:" + std::to_string(silent.local_endpoint().port()), 200, 2};
  auto t0 = std::chrono::steady_clock::now();
  auto r = lookup_txt("_atproto.alice.test", o);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == "dns.timeout");
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(3));
}

TEST_CASE(
    "handle resolution by DNS TXT [handle.resolve.dns-txt] [handle.resolve.dns-txt-conflict]") {
  Loopback net;
  REQUIRE_LOOPBACK(net);
  auto& dns = net.dns;
  auto port = net.web_port;
  auto o = options_for(dns, port);
  o.use_https = false;

  auto alice = resolve_handle_dns("alice.test", o);
  REQUIRE(alice.ok());
  CHECK(alice->value_or("") == kAlice);
  // The same DID twice is not a conflict.
  CHECK(resolve_handle_dns("dup.test", o)->value_or("") == kAlice);
  // Values without the did= prefix are ignored.
  CHECK(resolve_handle_dns("noise.test", o)->value_or("") == kBob);
  CHECK_FALSE(resolve_handle_dns("other.test", o)->has_value());
  CHECK_FALSE(resolve_handle_dns("nobody.test", o)->has_value());

  auto multi = resolve_handle("multi.test", o);
  REQUIRE_FALSE(multi.ok());
  CHECK(multi.error().code == "handle.resolve.dns-txt-conflict");
  // [handle.resolve.did-syntax] a malformed or unsupported DID fails.
  for (const char* handle : {"bad.test", "unsupported.test"}) {
    INFO(handle);
    auto r = resolve_handle(handle, o);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == "handle.resolve.did-syntax");
  }

  auto full = resolve_handle("Alice.TEST", o);  // handles compare case-insensitively
  REQUIRE(full.ok());
  CHECK(full->did == kAlice);
  CHECK(full->method == HandleMethod::dns);
  auto missing = resolve_handle("nobody.test", o);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == "handle.resolve.not-found");
}

TEST_CASE(
    "handle resolution by HTTPS well-known [handle.resolve.https-well-known] "
    "[handle.resolve.https-trim] [handle.resolve.https-redirects]") {
  Loopback net;
  REQUIRE_LOOPBACK(net);
  auto& dns = net.dns;
  auto& web = net.web;
  auto port = net.web_port;
  auto o = options_for(dns, port);

  auto w = resolve_handle("web.test", o);  // no TXT record: the well-known answers
  REQUIRE(w.ok());
  CHECK(w->did == kWeb);  // surrounding whitespace trimmed
  CHECK(w->method == HandleMethod::https);
  CHECK(web.hits_for("web.test") == 1);

  auto redirected = resolve_handle("redirect.test", o);
  REQUIRE(redirected.ok());
  CHECK(redirected->did == kCarol);
  // [handle.resolve.https-status] a 302 that is not followed is no answer.
  o.fetch.max_redirects = 0;
  auto no_redirects = resolve_handle("redirect.test", o);
  REQUIRE_FALSE(no_redirects.ok());
  CHECK(no_redirects.error().code == "handle.resolve.not-found");
  o.fetch.max_redirects = 3;

  auto bad = resolve_handle("badweb.test", o);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == "handle.resolve.did-syntax");

  // A TXT record without did= is ignored; HTTPS then answers.
  auto other = resolve_handle("other.test", o);
  REQUIRE(other.ok());
  CHECK(other->did == kBob);

  // Without the loopback permission the well-known fetch is refused.
  auto strict = o;
  strict.fetch.allow_private_addresses = false;
  strict.use_dns = false;
  auto refused = resolve_handle_https("web.test", strict);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == "fetch.address-refused");
}

TEST_CASE("handle resolution: DNS wins over a differing HTTPS answer [handle.resolve.prefer-dns]") {
  Loopback net;
  REQUIRE_LOOPBACK(net);
  auto& dns = net.dns;
  auto port = net.web_port;
  auto o = options_for(dns, port);
  auto both = resolve_handle("both.test", o);
  REQUIRE(both.ok());
  CHECK(both->did == kAlice);
  CHECK(both->method == HandleMethod::dns);
  CHECK(both->conflicting_https_answer);
  auto agree = resolve_handle("alice.test", o);  // HTTPS has nothing (404): no conflict
  REQUIRE(agree.ok());
  CHECK_FALSE(agree->conflicting_https_answer);
}

TEST_CASE("handle resolution refuses unusable handles before any lookup") {
  HandleResolverOptions o;
  o.dns.server = "127.0.0.1:9";  // never asked
  for (const char* h : {"handle.invalid", "foo.local", "bad_handle.com", "nodots", "x.onion"}) {
    INFO(h);
    auto r = resolve_handle(h, o);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code.rfind("handle.", 0) == 0);
    CHECK(r.error().code != "handle.resolve.not-found");
  }
  auto test_tld = resolve_handle("alice.test", o);  // .test only when allowed
  REQUIRE_FALSE(test_tld.ok());
  CHECK(test_tld.error().code == "handle.test-tld");
}

TEST_CASE("handle resolver cache: TTLs on an injected clock [handle.resolve.cache]") {
  Loopback net;
  REQUIRE_LOOPBACK(net);
  auto& dns = net.dns;
  auto& web = net.web;
  auto port = net.web_port;
  auto now = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  HandleResolver::CacheOptions cache;
  cache.ttl = std::chrono::seconds(600);
  cache.failure_ttl = std::chrono::seconds(30);
  HandleResolver resolver(options_for(dns, port), cache, [&now] { return now; });

  auto first = resolver.resolve("counter.test");
  REQUIRE(first.ok());
  CHECK(first->did == kAlice);
  web.counter_version = 1;  // the well-known now says Bob
  now += std::chrono::seconds(599);
  CHECK(resolver.resolve("COUNTER.test")->did == kAlice);  // cached, same normalized key
  CHECK(web.hits_for("counter.test") == 1);
  now += std::chrono::seconds(2);
  CHECK(resolver.resolve("counter.test")->did == kBob);  // expired: asked again
  CHECK(web.hits_for("counter.test") == 2);
  resolver.invalidate("counter.test");
  CHECK(resolver.resolve("counter.test")->did == kBob);
  CHECK(web.hits_for("counter.test") == 3);

  // Failures are cached for the shorter failure TTL.
  CHECK_FALSE(resolver.resolve("gone.test").ok());
  CHECK_FALSE(resolver.resolve("gone.test").ok());
  CHECK(web.hits_for("gone.test") == 1);
  now += std::chrono::seconds(31);
  CHECK_FALSE(resolver.resolve("gone.test").ok());
  CHECK(web.hits_for("gone.test") == 2);
  CHECK(resolver.cache_size() == 2);
}

TEST_CASE("did resolution: URLs [did.web.well-known] [did.web.hostname-only]") {
  DidResolverOptions o;
  CHECK(did_document_url("did:web:example.com", o).value() ==
        "https://example.com/.well-known/did.json");
  CHECK(did_document_url(kAlice, o).value() == "https://plc.directory/" + kAlice);
  o.plc_directory = "http://127.0.0.1:2582/";
  CHECK(did_document_url(kAlice, o).value() == "http://127.0.0.1:2582/" + kAlice);
  auto path = did_document_url("did:web:example.com:user:alice", o);
  REQUIRE_FALSE(path.ok());
  CHECK(path.error().code == "did.web.hostname-only");
  auto port = did_document_url("did:web:localhost%3A8080", o);
  REQUIRE_FALSE(port.ok());
  o.allow_localhost_did_web = true;
  CHECK(did_document_url("did:web:localhost%3A8080", o).value() ==
        "https://localhost:8080/.well-known/did.json");
  auto method = did_document_url("did:key:zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF", o);
  REQUIRE_FALSE(method.ok());
  CHECK(method.error().code == "did.method.blessed");
}

TEST_CASE(
    "did resolution over HTTP: did:web and a PLC directory [did.web.well-known] "
    "[did.doc.id-match]") {
  std::atomic<int> requests{0};
  HttpServer server({}, [&](const HttpRequest& req) {
    ++requests;
    std::string host = req.header("host").value_or("");
    if (req.path == "/.well-known/did.json" && host == "example.com") {
      return HttpResponse::json(200, did_doc("did:web:example.com", "example.com"));
    }
    if (req.path == "/.well-known/did.json" && host == "wrong.example.com") {
      return HttpResponse::json(200, did_doc("did:web:example.com", "example.com"));
    }
    if (req.path == "/" + kAlice) return HttpResponse::json(200, did_doc(kAlice, "alice.test"));
    if (req.path == "/" + kBob) return HttpResponse::json(200, did_doc(kAlice, "alice.test"));
    if (req.path == "/" + kCarol)
      return atproto::xrpc::xrpc_error(410, "NotAvailable", "tombstoned");
    if (req.path == "/" + kWeb) return HttpResponse::text(200, "[1,2]", "application/json");
    return atproto::xrpc::xrpc_error(404, "NotFound", "unknown DID");
  });
  auto port = server.start();
  REQUIRE(port.ok());
  DidResolverOptions o;
  o.fetch.allow_private_addresses = true;
  o.fetch.timeout_ms = 5000;
  o.plc_directory = "http://127.0.0.1:" + std::to_string(*port);
  o.did_web_origin_for_tests = o.plc_directory;

  auto web = resolve_did_json("did:web:example.com", o);
  REQUIRE(web.ok());
  CHECK((*web)["id"] == "did:web:example.com");
  auto web_doc = resolve_did("did:web:example.com", o);
  REQUIRE(web_doc.ok());
  CHECK(web_doc->id == "did:web:example.com");

  auto mismatch = resolve_did_json("did:web:wrong.example.com", o);
  REQUIRE_FALSE(mismatch.ok());
  CHECK(mismatch.error().code == "did.doc.id-match");

  auto alice = resolve_did(kAlice, o);
  REQUIRE(alice.ok());
  CHECK(claimed_handle(*alice) == "alice.test");
  auto swapped = resolve_did(kBob, o);  // the directory serves Alice's document for Bob
  REQUIRE_FALSE(swapped.ok());
  CHECK(swapped.error().code == "did.doc.id-match");
  auto gone = resolve_did(kCarol, o);
  REQUIRE_FALSE(gone.ok());
  CHECK(gone.error().code == "did.resolve.gone");
  auto not_object = resolve_did(kWeb, o);
  REQUIRE_FALSE(not_object.ok());
  CHECK(not_object.error().code == "did.resolve.json");
  auto unknown = resolve_did("did:plc:zzzzzzzzzzzzzzzzzzzzzzzz", o);
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().code == "did.resolve.not-found");

  // Bad DIDs fail before any request.
  int before = requests;
  CHECK_FALSE(resolve_did("did:web:example.com:path", o).ok());
  CHECK_FALSE(resolve_did("did:plc:short", o).ok());
  CHECK(requests == before);

  // The default policy refuses the loopback directory.
  DidResolverOptions strict = o;
  strict.fetch.allow_private_addresses = false;
  auto refused = resolve_did(kAlice, strict);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == "fetch.address-refused");
}

TEST_CASE("bidirectional handle verification [handle.resolve.bidirectional]") {
  Dnsmasq dns(kRecords);
  REQUIRE_DNSMASQ(dns);
  HttpServer plc({}, [](const HttpRequest& req) {
    if (req.path == "/" + kAlice) return HttpResponse::json(200, did_doc(kAlice, "Alice.Test"));
    if (req.path == "/" + kWeb) return HttpResponse::json(200, did_doc(kWeb, "web.test"));
    return atproto::xrpc::xrpc_error(404, "NotFound", "unknown DID");
  });
  auto plc_port = plc.start();
  REQUIRE(plc_port.ok());
  WellKnown web;
  auto web_port = web.server.start();
  REQUIRE(web_port.ok());
  HandleResolver handles(options_for(dns, *web_port));
  DidResolverOptions dids;
  dids.fetch.allow_private_addresses = true;
  dids.plc_directory = "http://127.0.0.1:" + std::to_string(*plc_port);

  auto alice = resolve_verified_handle("alice.test", handles, dids);
  REQUIRE(alice.ok());
  CHECK(alice->did == kAlice);
  CHECK(alice->handle == "alice.test");
  auto via_https = resolve_verified_handle("web.test", handles, dids);
  REQUIRE(via_https.ok());
  CHECK(via_https->did == kWeb);

  // liar.test points at Alice's DID, whose document claims alice.test only.
  auto liar = resolve_verified_handle("liar.test", handles, dids);
  REQUIRE_FALSE(liar.ok());
  CHECK(liar.error().code == "handle.resolve.bidirectional");

  DidDocument doc;
  doc.id = kAlice;
  CHECK(check_handle_claim("alice.test", doc).error().code == "handle.resolve.bidirectional");
  doc.also_known_as = {"at://ALICE.test"};
  CHECK(check_handle_claim("Alice.test", doc).ok());
  CHECK_FALSE(check_handle_claim("bob.test", doc).ok());
}

// ---------------------------------------------------------------------------
// The shared handle resolution vectors (vectors/identity/handle-resolution.json,
// format in vectors/README.md), replayed against the resolver: one dnsmasq
// with the TXT records of every case (each case has its own handle under
// .test) and one well-known server answering by Host header from the cases.

namespace {

std::string lowercase_ascii(std::string s) {
  for (auto& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

// Serves each case's `https` answers for the Host of its handle; other
// paths and hosts get 404. Counts every request, to show that refused
// handles cause none.
struct VectorWellKnown {
  std::map<std::string, json> answers;  // lowercase handle -> path -> answer
  std::mutex mu;
  int requests = 0;
  HttpServer server{{}, [this](const HttpRequest& req) { return serve(req); }};

  HttpResponse serve(const HttpRequest& req) {
    std::string host = lowercase_ascii(req.header("host").value_or(""));
    {
      std::lock_guard lock(mu);
      ++requests;
    }
    auto it = answers.find(host);
    if (it == answers.end() || !it->second.contains(req.path))
      return HttpResponse::text(404, "not found", "text/plain");
    const json& answer = it->second.at(req.path);
    std::string body;
    const std::string unit = answer.value("body", "");
    for (int i = 0; i < answer.value("body_repeat", 1); ++i) body += unit;
    auto res = HttpResponse::text(answer.at("status").get<int>(), std::move(body),
                                  answer.value("content_type", "text/plain"));
    if (answer.contains("location"))
      res.headers.emplace_back("location", answer.at("location").get<std::string>());
    return res;
  }
  int request_count() {
    std::lock_guard lock(mu);
    return requests;
  }
};

}  // namespace

TEST_CASE(
    "vectors: handle resolution with DNS and HTTPS answers [handle.resolve.dns-txt] "
    "[handle.resolve.dns-txt-conflict] [handle.resolve.https-well-known] "
    "[handle.resolve.https-status] [handle.resolve.https-trim] [handle.resolve.https-redirects] "
    "[handle.resolve.did-syntax] [handle.resolve.prefer-dns]",
    "[vectors][handle-resolution]") {
  std::ifstream in(std::string(ATPROTO_VECTORS_DIR) + "/identity/handle-resolution.json");
  REQUIRE(in);
  const json doc = json::parse(in);
  const json& cases = doc.at("cases");
  // The file covers every resolution rule; a loader that finds few cases is broken.
  REQUIRE(cases.size() >= 20);

  // dnsmasq serves the TXT records of every case that may be looked up.
  // Its --txt-record separates character-strings with commas, so a value
  // cannot contain one.
  std::vector<std::pair<std::string, std::vector<std::string>>> records;
  VectorWellKnown web;
  std::set<std::string> handles;
  for (const auto& c : cases) {
    std::string handle = lowercase_ascii(c.at("handle").get<std::string>());
    INFO(c.at("id").get<std::string>());
    REQUIRE(handles.insert(handle).second);  // the servers tell cases apart by handle
    for (const auto& record : c.at("dns")) {
      std::vector<std::string> strings;
      if (record.is_string()) {
        strings.push_back(record.get<std::string>());
      } else {
        for (const auto& s : record) strings.push_back(s.get<std::string>());
      }
      for (const auto& s : strings) REQUIRE(s.find(',') == std::string::npos);
      records.emplace_back("_atproto." + handle, std::move(strings));
    }
    if (c.at("https").is_object()) web.answers[handle] = c.at("https");
  }
  Dnsmasq dns(records);
  REQUIRE_DNSMASQ(dns);
  auto port = web.server.start();
  REQUIRE(port.ok());
  // For `"https": null`: a port nothing listens on (connection refused).
  const auto refused_port = testing::free_port<asio::ip::tcp>();

  int checked = 0;
  for (const auto& c : cases) {
    const std::string id = c.at("id").get<std::string>();
    INFO(id);
    auto o = options_for(dns, *port);
    if (c.at("https").is_null())
      o.well_known_origin_for_tests = "http://127.0.0.1:" + std::to_string(refused_port);
    const int before = web.request_count();
    auto r = resolve_handle(c.at("handle").get<std::string>(), o);
    INFO("got: " << (r.ok() ? r->did : r.error().code + " (" + r.error().message + ")"));
    if (!c.value("lookups", true)) CHECK(web.request_count() == before);
    const bool valid = c.at("valid").get<bool>();
    CHECK(r.ok() == valid);
    if (r.ok() && valid) {
      CHECK(r->did == c.at("did").get<std::string>());
      CHECK((r->method == HandleMethod::dns ? "dns" : "https") ==
            c.at("method").get<std::string>());
      CHECK(r->conflicting_https_answer == c.at("conflict").get<bool>());
    } else if (!r.ok() && !valid) {
      CHECK(r.error().code == c.at("error").get<std::string>());
    }
    ++checked;
  }
  CHECK(checked == static_cast<int>(cases.size()));
}

#include "atproto/identity/did_resolver.hpp"

#include "atproto/syntax/did.hpp"

namespace atproto::identity {

Result<std::string> did_document_url(std::string_view did, const DidResolverOptions& options) {
  syntax::DidWebPolicy web_policy;
  web_policy.allow_localhost = options.allow_localhost_did_web;
  if (auto st = syntax::check_did_supported(did, web_policy); !st.ok()) return st.error();
  auto parsed = syntax::parse_did(did);
  if (!parsed.ok()) return parsed.error();
  if (parsed->method == "plc") {
    std::string base = options.plc_directory;
    while (!base.empty() && base.back() == '/') base.pop_back();
    return base + "/" + std::string(did);
  }
  // [did.web.well-known] did:web names a host only ([did.web.hostname-only]
  // is checked by check_did_supported); its document is at
  // /.well-known/did.json. A percent-encoded colon introduces a port
  // (localhost only, as validated above).
  std::string host = parsed->identifier;
  if (auto pct = host.find("%3A"); pct != std::string::npos) host.replace(pct, 3, ":");
  if (!options.did_web_origin_for_tests.empty()) {
    return options.did_web_origin_for_tests + "/.well-known/did.json";
  }
  return "https://" + host + "/.well-known/did.json";
}

Result<nlohmann::json> resolve_did_json(std::string_view did, const DidResolverOptions& options) {
  auto url = did_document_url(did, options);
  if (!url.ok()) return url.error();
  HeaderList headers{{"Accept", "application/did+ld+json, application/json"}};
  if (!options.did_web_origin_for_tests.empty() && did.substr(0, 8) == "did:web:") {
    std::string host(did.substr(8));
    if (auto pct = host.find("%3A"); pct != std::string::npos) host.replace(pct, 3, ":");
    headers.emplace_back("Host", host);
  }
  auto res = http_request("GET", url.value(), "", headers, options.fetch);
  if (!res.ok()) return res.error();
  if (res->status == 404) {
    return make_error("did.resolve.not-found", std::string(did) + " is not known at " + *url);
  }
  if (res->status == 410) {
    return make_error("did.resolve.gone",
                      std::string(did) + " is deactivated (410 at " + *url + ")");
  }
  if (res->status < 200 || res->status > 299) {
    return make_error("did.resolve.http", *url + " answered HTTP " + std::to_string(res->status));
  }
  auto doc = nlohmann::json::parse(res->body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return make_error("did.resolve.json", *url + " did not serve a JSON object");
  }
  // [did.doc.id-match] the document must be the one of the DID asked for.
  auto id = doc.find("id");
  if (id == doc.end() || !id->is_string() || id->get<std::string>() != did) {
    return make_error("did.doc.id-match",
                      "the document at " + *url + " has id " +
                          (id != doc.end() ? id->dump() : std::string("(none)")) + ", not " +
                          std::string(did));
  }
  return doc;
}

}  // namespace atproto::identity

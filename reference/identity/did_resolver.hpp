// DID resolution: did:web from https://<host>/.well-known/did.json and
// did:plc from a PLC directory (GET <directory>/<did>), both checked
// against the DID asked for; plus bidirectional handle verification.
// https://atproto.com/specs/did#didweb-in-at-protocol
// https://atproto.com/specs/handle#handle-resolution
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "atproto/common/result.hpp"
#include "atproto/identity/did_document.hpp"
#include "atproto/identity/fetch.hpp"
#include "atproto/identity/handle_resolver.hpp"

namespace atproto::identity {

struct DidResolverOptions {
  FetchPolicy fetch;
  std::string plc_directory = "https://plc.directory";  // no trailing slash needed
  // Tests and local development only: fetch did:web documents from this
  // origin ("http://127.0.0.1:8080") with a `Host: <host>` header.
  std::string did_web_origin_for_tests;
  bool allow_localhost_did_web = false;  // did:web:localhost%3A8080, development only
};

// The URL a DID document is fetched from. Errors: the DID's syntax and
// method codes (did.syntax.*, did.method.blessed, did.web.*).
Result<std::string> did_document_url(std::string_view did, const DidResolverOptions& options);

// The raw DID document, a JSON object whose `id` is the DID asked for.
// Errors: as did_document_url, fetch.*, "did.resolve.not-found" (404),
// "did.resolve.gone" (410, a tombstoned did:plc), "did.resolve.http"
// (another non-2xx status), "did.resolve.json" (not a JSON object) and
// did.doc.id-match.
Result<nlohmann::json> resolve_did_json(std::string_view did, const DidResolverOptions& options);

// resolve_did_json, then parse_did_document.
Result<DidDocument> resolve_did(std::string_view did, const DidResolverOptions& options);

struct VerifiedHandle {
  std::string handle;  // normalized
  std::string did;
  DidDocument document;
};

// [handle.resolve.bidirectional] The document must claim the handle
// (case-insensitively). Error: "handle.resolve.bidirectional".
Status check_handle_claim(std::string_view handle, const DidDocument& document);

// Resolves the handle to a DID, the DID to its document, and checks that
// the document claims the handle back.
Result<VerifiedHandle> resolve_verified_handle(std::string_view handle, HandleResolver& handles,
                                               const DidResolverOptions& dids);

}  // namespace atproto::identity

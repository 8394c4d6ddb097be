// The parts of DID resolution that need the DID document model
// (did_document.cpp): kept in their own file so that the JSON-level
// resolution links without it.
#include "atproto/identity/did_resolver.hpp"
#include "atproto/syntax/handle.hpp"

namespace atproto::identity {

Result<DidDocument> resolve_did(std::string_view did, const DidResolverOptions& options) {
  auto json = resolve_did_json(did, options);
  if (!json.ok()) return json.error();
  return parse_did_document(json.value());
}

Status check_handle_claim(std::string_view handle, const DidDocument& document) {
  // [handle.resolve.bidirectional] a handle counts only when the DID's
  // current document claims it back; handles compare case-insensitively.
  auto claimed = claimed_handle(document);
  auto wanted = syntax::parse_handle(handle);
  if (!wanted.ok()) return wanted.error();
  if (!claimed || syntax::normalize_handle(*claimed) != wanted.value()) {
    return make_error("handle.resolve.bidirectional",
                      document.id + " does not claim the handle " + wanted.value() +
                          (claimed ? " (it claims " + *claimed + ")" : " (it claims none)"));
  }
  return {};
}

Result<VerifiedHandle> resolve_verified_handle(std::string_view handle, HandleResolver& handles,
                                               const DidResolverOptions& dids) {
  auto resolution = handles.resolve(handle);
  if (!resolution.ok()) return resolution.error();
  auto document = resolve_did(resolution->did, dids);
  if (!document.ok()) return document.error();
  if (auto st = check_handle_claim(handle, document.value()); !st.ok()) return st.error();
  return VerifiedHandle{syntax::normalize_handle(handle), resolution->did,
                        std::move(document).value()};
}

}  // namespace atproto::identity

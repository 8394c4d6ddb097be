// at-identifier: a DID or a handle.
// Spec: https://atproto.com/specs/lexicon#at-identifier
#include "atproto/syntax/at_identifier.hpp"

#include "atproto/syntax/did.hpp"
#include "atproto/syntax/handle.hpp"

namespace atproto::syntax {

Status validate_at_identifier(std::string_view input) {
  // [lex.format.at-identifier] Unambiguous: handles never contain ':', and
  // every DID starts with "did:".
  if (input.substr(0, 4) == "did:") return validate_did(input);
  return validate_handle(input);
}

}  // namespace atproto::syntax

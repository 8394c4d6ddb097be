// Fuzz target: Lexicon schema documents (JSON text) through parse_lexicon,
// then through a catalog (reference checks) and validation of a few values
// against every def the document holds.
// Spec: https://atproto.com/specs/lexicon#lexicon-files
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "atproto/data/value.hpp"
#include "atproto/lexicon/catalog.hpp"
#include "atproto/lexicon/schema.hpp"
#include "atproto/lexicon/validate.hpp"
#include "atproto/syntax/nsid.hpp"
#include "fuzz_check.hpp"

namespace data = atproto::data;
namespace lexicon = atproto::lexicon;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  std::string_view in = fuzz::begin_input(bytes, size);
  auto doc = lexicon::parse_lexicon_text(in);
  if (!doc) {
    // [lex.schema.document] Every rejection names a schema rule (or, for a
    // catalog-level problem, a catalog rule) and a JSON path.
    FUZZ_CHECK(fuzz::error_in_family(doc.error(), "lex.schema.") ||
               doc.error().code == "data.limits.depth");
    FUZZ_CHECK(doc.error().message.find(": ") != std::string::npos);
    return 0;
  }
  // [lex.schema.id] [lex.schema.defs] What parses has an NSID id and defs.
  FUZZ_CHECK(atproto::syntax::validate_nsid(doc->id).ok());
  FUZZ_CHECK(!doc->defs.empty());
  std::string id = doc->id;
  std::vector<std::string> names;
  for (const auto& [name, def] : doc->defs) {
    names.push_back(name);
    // [lex.schema.primary-main]
    FUZZ_CHECK(!lexicon::is_primary(def->type) || name == "main");
  }

  lexicon::Catalog catalog;
  FUZZ_CHECK(catalog.add(std::move(doc).value()).ok());
  auto refs = catalog.check_references();
  FUZZ_CHECK(refs.ok() || fuzz::error_in_family(refs, "lex.schema."));

  // Validating simple values against every def never crashes and errors
  // name a rule.
  const data::Value samples[] = {
      data::Value(),
      data::Value(1),
      data::Value("text"),
      data::Value(data::Map{{"$type", data::Value(id)}}),
      data::Value(data::Array{data::Value(true)}),
  };
  for (const auto& name : names) {
    for (const auto& v : samples) {
      auto s = lexicon::validate_def(catalog, id + "#" + name, v);
      FUZZ_CHECK(s.ok() || !s.error().code.empty());
    }
  }
  auto r = lexicon::validate_record(catalog, samples[3]);
  FUZZ_CHECK(r.ok() || !r.error().code.empty());
  auto p = lexicon::validate_params(catalog, id, "a=1&b=true&c=x&c=y");
  FUZZ_CHECK(p.ok() || !p.error().code.empty());
  return 0;
}

// lexicon/validate-schema, lexicon/validate-record and lexicon/validate-params:
// Lexicon documents checked on their own, and data checked against a set of
// documents. Answers carry "valid", and for an invalid input "error" (for
// people), "code" (the rule, a requirement id) and "path" (where).
#include "atproto/data/json.hpp"
#include "atproto/lexicon/catalog.hpp"
#include "atproto/lexicon/schema.hpp"
#include "atproto/lexicon/validate.hpp"
#include "reference_ops.hpp"

namespace atproto::conformance {

namespace {

Response verdict(const Status& status) {
  if (status.ok()) return answer(200, json{{"valid", true}});
  const Error& e = status.error();
  json body{{"valid", false}, {"error", e.code + ": " + e.message}, {"code", e.code}};
  // Messages start with "<path>: ".
  if (auto colon = e.message.find(": "); colon != std::string::npos) {
    body["path"] = e.message.substr(0, colon);
  }
  return answer(200, std::move(body));
}

// Loads the request's "lexicons"; a document that does not load is a bad
// request (the operation is about the data, not the documents).
bool load_lexicons(const json& request, lexicon::Catalog& catalog, std::string& why) {
  if (!request.contains("lexicons") || !request["lexicons"].is_array()) {
    why = "needs an array field \"lexicons\"";
    return false;
  }
  for (const auto& d : request["lexicons"]) {
    if (auto s = catalog.add_json(d); !s) {
      why = "a Lexicon in \"lexicons\" does not load: " + s.error().code + " " + s.error().message;
      return false;
    }
  }
  return true;
}

}  // namespace

Response lexicon_validate_schema(const json& request) {
  if (!request.is_object() || !request.contains("lexicon")) {
    return bad_request("lexicon/validate-schema needs a field \"lexicon\"");
  }
  auto doc = lexicon::parse_lexicon(request["lexicon"]);
  return verdict(doc ? Status() : Status(doc.error()));
}

Response lexicon_validate_record(const json& request) {
  if (!request.is_object() || !request.contains("record")) {
    return bad_request("lexicon/validate-record needs fields \"lexicons\" and \"record\"");
  }
  lexicon::Catalog catalog;
  std::string why;
  if (!load_lexicons(request, catalog, why)) return bad_request("lexicon/validate-record " + why);
  auto value = data::from_json(request["record"]);
  if (!value) return verdict(Status(value.error()));
  return verdict(lexicon::validate_record(catalog, *value));
}

Response lexicon_validate_params(const json& request) {
  if (!request.is_object() || !request.contains("nsid") || !request["nsid"].is_string() ||
      !request.contains("query") || !request["query"].is_string()) {
    return bad_request(
        "lexicon/validate-params needs \"lexicons\", \"nsid\" and \"query\" (strings)");
  }
  lexicon::Catalog catalog;
  std::string why;
  if (!load_lexicons(request, catalog, why)) return bad_request("lexicon/validate-params " + why);
  auto params = lexicon::validate_params(catalog, request["nsid"].get<std::string>(),
                                         request["query"].get<std::string>());
  return verdict(params ? Status() : Status(params.error()));
}

}  // namespace atproto::conformance

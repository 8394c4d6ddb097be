// lexicon/validate-schema, lexicon/validate-record and lexicon/validate-params:
// Lexicon documents checked on their own, and data checked against a set of
// documents. Answers carry "valid", and for an invalid input "error" (for
// people), "code" (the rule, a requirement id) and "path" (where).
#include <string>
#include <vector>

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

// Loads the request's "lexicons". A document that does not load is left
// out and remembered: checking data against one document must not depend on
// an unrelated document of the set loading. Only a request without a
// "lexicons" array is refused.
struct LeftOut {
  std::vector<std::string> ids;  // the "id" of each document left out
  std::string why;               // their errors, for people
};

bool load_lexicons(const json& request, lexicon::Catalog& catalog, LeftOut& left_out,
                   std::string& why) {
  if (!request.contains("lexicons") || !request["lexicons"].is_array()) {
    why = "needs an array field \"lexicons\"";
    return false;
  }
  for (const auto& d : request["lexicons"]) {
    if (auto s = catalog.add_json(d); !s) {
      std::string id = d.is_object() && d.contains("id") && d["id"].is_string()
                           ? d["id"].get<std::string>()
                           : std::string("(no id)");
      left_out.ids.push_back(id);
      left_out.why +=
          (left_out.why.empty() ? "" : "; ") + id + ": " + s.error().code + " " + s.error().message;
    }
  }
  return true;
}

// The verdict on data, unless it rests on a document that was left out: the
// data needs a Lexicon that is missing because its document did not load,
// so the request is the problem (400), not the data.
Response data_verdict(const std::string& operation, const Status& status, const LeftOut& left_out) {
  if (!status.ok() && status.error().code == "lex.validate.ref-missing") {
    for (const auto& id : left_out.ids) {
      if (status.error().message.find("\"" + id) != std::string::npos) {
        return bad_request(operation + ": " + status.error().message +
                           "; documents of \"lexicons\" that did not load: " + left_out.why);
      }
    }
  }
  return verdict(status);
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
  LeftOut left_out;
  std::string why;
  if (!load_lexicons(request, catalog, left_out, why)) {
    return bad_request("lexicon/validate-record " + why);
  }
  auto value = data::from_json(request["record"]);
  if (!value) return verdict(Status(value.error()));
  return data_verdict("lexicon/validate-record", lexicon::validate_record(catalog, *value),
                      left_out);
}

Response lexicon_validate_params(const json& request) {
  if (!request.is_object() || !request.contains("nsid") || !request["nsid"].is_string() ||
      !request.contains("query") || !request["query"].is_string()) {
    return bad_request(
        "lexicon/validate-params needs \"lexicons\", \"nsid\" and \"query\" (strings)");
  }
  lexicon::Catalog catalog;
  LeftOut left_out;
  std::string why;
  if (!load_lexicons(request, catalog, left_out, why)) {
    return bad_request("lexicon/validate-params " + why);
  }
  auto params = lexicon::validate_params(catalog, request["nsid"].get<std::string>(),
                                         request["query"].get<std::string>());
  return data_verdict("lexicon/validate-params", params ? Status() : Status(params.error()),
                      left_out);
}

}  // namespace atproto::conformance

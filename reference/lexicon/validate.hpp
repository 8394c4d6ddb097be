// Validation of data against Lexicon definitions: records, XRPC query
// parameters, input and output bodies, and subscription messages.
// Spec: https://atproto.com/specs/lexicon
//
// Data arrives as data model values (atproto::data::Value), so a record
// decoded from CBOR and one read from JSON take the same path; records can
// also be validated as views of decoded CBOR (data::ValueView), with the
// same results.
//
// Every rejection is an Error whose code names the rule (a `lex.validate.*`
// id, or the data/syntax id of the underlying rule such as
// `rkey.type.tid` or `data.blob.size`) and whose message starts with the
// path of the offending value: `$` is the validated value itself, `.name`
// a field and `[i]` an array element, e.g. `$.embed.images[0].alt: ...`.
// Query parameters use `$.<parameter name>`.
//
// Fields the schema does not mention are ignored, as the spec asks
// (https://atproto.com/specs/lexicon#authority-and-control).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "atproto/common/result.hpp"
#include "atproto/data/cbor_view.hpp"
#include "atproto/data/value.hpp"
#include "atproto/lexicon/catalog.hpp"
#include "atproto/lexicon/schema.hpp"

namespace atproto::lexicon {

// Validates a record of collection `collection` (the NSID of a record
// def). With `rkey`, the record key is also checked against the def's key
// type (rkey.type.*).
Status validate_record(const Catalog& catalog, std::string_view collection,
                       const data::Value& record,
                       std::optional<std::string_view> rkey = std::nullopt);
// The same, taking the collection from the record's own `$type`.
Status validate_record(const Catalog& catalog, const data::Value& record);

// Both, on a view of decoded CBOR (data/cbor_view.hpp): the same rules,
// codes and messages, with no owning Value built first (records read from
// a repository or a firehose frame). Blob nodes and unknown-typed fields
// are checked through a Value of that subtree.
Status validate_record(const Catalog& catalog, std::string_view collection,
                       const data::ValueView& record,
                       std::optional<std::string_view> rkey = std::nullopt);
Status validate_record(const Catalog& catalog, const data::ValueView& record);

// Validates `value` against the def named by `ref` (`nsid` or
// `nsid#name`): any object, record, or field-type def.
Status validate_def(const Catalog& catalog, std::string_view ref, const data::Value& value);

// Query parameters as decoded name/value pairs, in order; a name given more
// than once is an array parameter.
using QueryPairs = std::vector<std::pair<std::string, std::string>>;

// Splits and percent-decodes URL query text (`a=1&b=x%20y`; `+` is a
// space). Error lex.validate.params-syntax for bad escapes or text that is
// not UTF-8.
Result<QueryPairs> parse_query_string(std::string_view query);

// Validates the parameters of a query, procedure or subscription. Values
// are read as the params property types say (integer, boolean `true` /
// `false`, string, or an array of those from a repeated name), then checked
// against the property constraints. Unknown names are ignored. The result
// is the parameters as a data map with defaults filled in.
Result<data::Map> validate_params(const Catalog& catalog, std::string_view nsid,
                                  const QueryPairs& pairs);
Result<data::Map> validate_params(const Catalog& catalog, std::string_view nsid,
                                  std::string_view query_string);

// Validates the JSON body of a procedure's input or a query/procedure's
// output against its schema. A def without a body schema accepts any body.
Status validate_input(const Catalog& catalog, std::string_view nsid, const data::Value& body);
Status validate_output(const Catalog& catalog, std::string_view nsid, const data::Value& body);

// Validates one message of a subscription. `message_type` is the frame's
// type (`#commit`, or a full `nsid#name`); when empty, the message's own
// `$type` decides. At the top level of a message `$type` is not required.
Status validate_message(const Catalog& catalog, std::string_view nsid,
                        std::string_view message_type, const data::Value& message);

// Counts extended grapheme clusters (Unicode UAX #29, via utf8proc) in
// well-formed UTF-8 text.
std::size_t count_graphemes(std::string_view utf8);

// Whether a blob MIME type matches an `accept` pattern (`*/*`, `type/*`
// or an exact type).
bool mime_type_matches(std::string_view pattern, std::string_view mime_type);

}  // namespace atproto::lexicon

// Lexicon schema documents: the parsed form of a Lexicon JSON file and the
// checks that make a document well-formed.
// Spec: https://atproto.com/specs/lexicon
//
// A document is read into a tree of TypeDef nodes. One struct holds every
// type's fields (only those of its own `type` are set) so that a reader can
// follow each check next to the spec's list of fields for that type.
//
// Every rejection is an Error whose code is a `lex.schema.*` requirement id
// and whose message starts with the JSON path of the offending part of the
// document, for example `defs.main.record.properties.text.maxLength: ...`.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "atproto/common/result.hpp"
#include "atproto/syntax/format.hpp"

namespace atproto::lexicon {

// [lex.schema.type-known] The type names of the Lexicon language.
enum class Type {
  kNull,
  kBoolean,
  kInteger,
  kString,
  kBytes,
  kCidLink,
  kBlob,
  kArray,
  kObject,
  kParams,
  kPermission,
  kToken,
  kRef,
  kUnion,
  kUnknown,
  kRecord,
  kQuery,
  kProcedure,
  kSubscription,
  kPermissionSet,
};

std::optional<Type> type_from_name(std::string_view name);
std::string_view type_name(Type type);

// record, query, procedure, subscription and permission-set.
bool is_primary(Type type);

struct TypeDef;
using TypeDefPtr = std::shared_ptr<const TypeDef>;

struct Property {
  std::string name;
  TypeDefPtr schema;
};

// The `input` / `output` of a query or procedure, or the `message` of a
// subscription.
struct Body {
  std::string description;
  std::string encoding;  // empty for a subscription message
  TypeDefPtr schema;     // optional for input/output (object, ref or union)
};

struct XrpcError {
  std::string name;
  std::string description;
};

// One entry of a permission set. Only the fields of the resource types the
// Lexicon page defines (repo, rpc) are read; the rest are kept as JSON.
struct Permission {
  std::string resource;
  nlohmann::json fields;
};

struct TypeDef {
  Type type = Type::kNull;
  std::string description;

  // boolean
  std::optional<bool> bool_default;
  std::optional<bool> bool_const;

  // integer
  std::optional<std::int64_t> minimum;
  std::optional<std::int64_t> maximum;
  std::optional<std::vector<std::int64_t>> int_enum;
  std::optional<std::int64_t> int_default;
  std::optional<std::int64_t> int_const;

  // string (min/max length also for bytes and array)
  std::optional<syntax::StringFormat> format;
  std::optional<std::int64_t> min_length;
  std::optional<std::int64_t> max_length;
  std::optional<std::int64_t> min_graphemes;
  std::optional<std::int64_t> max_graphemes;
  std::vector<std::string> known_values;
  std::optional<std::vector<std::string>> string_enum;
  std::optional<std::string> string_default;
  std::optional<std::string> string_const;

  // blob
  std::optional<std::vector<std::string>> accept;
  std::optional<std::int64_t> max_size;

  // array
  TypeDefPtr items;

  // object and params
  std::vector<Property> properties;
  std::vector<std::string> required;
  std::vector<std::string> nullable;

  // ref: the target as written; union: the variants as written. Local refs
  // (`#name`) are kept as written and resolved against `lexicon_id`.
  std::string ref;
  std::vector<std::string> refs;
  bool closed = false;

  // record
  std::string key;
  TypeDefPtr record;

  // query, procedure, subscription
  TypeDefPtr parameters;
  std::optional<Body> input;
  std::optional<Body> output;
  std::optional<Body> message;
  std::vector<XrpcError> errors;

  // permission-set
  std::vector<Permission> permissions;

  // The NSID of the document this node belongs to (for local refs).
  std::string lexicon_id;

  // The property named `name`, or nullptr.
  const TypeDef* property(std::string_view name) const;
  bool is_required(std::string_view name) const;
  bool is_nullable(std::string_view name) const;
};

struct LexiconDoc {
  int lexicon = 1;
  std::string id;
  std::string description;
  std::vector<std::pair<std::string, TypeDefPtr>> defs;

  // The def named `name`, or nullptr.
  TypeDefPtr def(std::string_view name) const;
};

// Parses and checks a Lexicon document given as JSON. All structural rules
// of the document and of each def are checked here; rules that need other
// documents (refs resolving, what a ref may point at) are checked by the
// Catalog.
Result<LexiconDoc> parse_lexicon(const nlohmann::json& document);
// The same from JSON text (lex.schema.json when the text is not JSON).
Result<LexiconDoc> parse_lexicon_text(std::string_view text);

// Reference strings: `#name`, `nsid` or `nsid#name`.
// Returns the fully qualified form `nsid#name` (a bare NSID means `#main`)
// relative to `base_id`, or an error lex.schema.ref-syntax.
Result<std::string> qualify_ref(std::string_view ref, std::string_view base_id);

}  // namespace atproto::lexicon

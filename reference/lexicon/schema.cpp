// Parsing and checking Lexicon schema documents.
// Spec: https://atproto.com/specs/lexicon
#include "atproto/lexicon/schema.hpp"

#include <array>
#include <limits>
#include <set>
#include <utility>

#include "atproto/syntax/language.hpp"
#include "atproto/syntax/nsid.hpp"
#include "atproto/syntax/record_key.hpp"

namespace atproto::lexicon {

namespace {

using nlohmann::json;

constexpr std::array<std::pair<std::string_view, Type>, 20> kTypeNames = {{
    {"null", Type::kNull},
    {"boolean", Type::kBoolean},
    {"integer", Type::kInteger},
    {"string", Type::kString},
    {"bytes", Type::kBytes},
    {"cid-link", Type::kCidLink},
    {"blob", Type::kBlob},
    {"array", Type::kArray},
    {"object", Type::kObject},
    {"params", Type::kParams},
    {"permission", Type::kPermission},
    {"token", Type::kToken},
    {"ref", Type::kRef},
    {"union", Type::kUnion},
    {"unknown", Type::kUnknown},
    {"record", Type::kRecord},
    {"query", Type::kQuery},
    {"procedure", Type::kProcedure},
    {"subscription", Type::kSubscription},
    {"permission-set", Type::kPermissionSet},
}};

Error fail(const std::string& path, std::string code, const std::string& message) {
  return make_error(std::move(code), path + ": " + message);
}

std::string child(const std::string& path, std::string_view key) {
  std::string out = path;
  if (!out.empty()) out += '.';
  out += key;
  return out;
}

std::string index(const std::string& path, std::size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

// Where a type node sits decides which types it may have.
enum class Place {
  kDef,         // a named def under `defs`
  kField,       // an object property, array items, a ref/union target's use
  kParamField,  // a property of `params`
  kParamItems,  // the items of an array inside `params`
  kRecordBody,  // the `record` of a record def: must be an object
  kBodySchema,  // input/output schema: object, ref or union
  kMessage,     // subscription message schema: union
  kParameters,  // the `parameters` of an XRPC def: params
};

class Parser {
 public:
  explicit Parser(std::string lexicon_id) : id_(std::move(lexicon_id)) {}

  Result<TypeDefPtr> type_def(const json& node, const std::string& path, Place place);

 private:
  // Field readers: absent is fine (returns the status), a present field of
  // the wrong JSON kind is lex.schema.field.
  Status read_string(const json& node, const std::string& path, const char* key,
                     std::optional<std::string>& out);
  Status read_int(const json& node, const std::string& path, const char* key,
                  std::optional<std::int64_t>& out);
  Status read_bool(const json& node, const std::string& path, const char* key,
                   std::optional<bool>& out);
  Status read_strings(const json& node, const std::string& path, const char* key,
                      std::optional<std::vector<std::string>>& out);
  Status read_length_pair(const json& node, const std::string& path, const char* min_key,
                          const char* max_key, std::optional<std::int64_t>& min,
                          std::optional<std::int64_t>& max);

  Status check_place(Type type, const std::string& path, Place place);
  Status fill(TypeDef& def, const json& node, const std::string& path);
  Status fill_boolean(TypeDef& def, const json& node, const std::string& path);
  Status fill_integer(TypeDef& def, const json& node, const std::string& path);
  Status fill_string(TypeDef& def, const json& node, const std::string& path);
  Status fill_blob(TypeDef& def, const json& node, const std::string& path);
  Status fill_array(TypeDef& def, const json& node, const std::string& path);
  Status fill_ref(TypeDef& def, const json& node, const std::string& path);
  Status fill_union(TypeDef& def, const json& node, const std::string& path);
  Status fill_record(TypeDef& def, const json& node, const std::string& path);
  Status fill_xrpc(TypeDef& def, const json& node, const std::string& path);
  Status fill_object(TypeDef& def, const json& node, const std::string& path, bool params);
  Status fill_body(std::optional<Body>& out, const json& node, const std::string& path,
                   const char* key, bool message);
  Status fill_errors(TypeDef& def, const json& node, const std::string& path);
  Status fill_permissions(TypeDef& def, const json& node, const std::string& path);
  Status check_ref(const std::string& ref, const std::string& path);

  std::string id_;
  int depth_ = 0;
};

// [data.limits.depth] Schema nesting is bounded like data nesting, so a
// hostile document can not exhaust the stack.
constexpr int kMaxSchemaDepth = 64;

Status Parser::read_string(const json& node, const std::string& path, const char* key,
                           std::optional<std::string>& out) {
  auto it = node.find(key);
  if (it == node.end()) return {};
  if (!it->is_string()) {
    // [lex.schema.field] Each field of a definition has the JSON kind the
    // spec lists for it.
    return fail(child(path, key), "lex.schema.field", "must be a string");
  }
  out = it->get<std::string>();
  return {};
}

Status Parser::read_int(const json& node, const std::string& path, const char* key,
                        std::optional<std::int64_t>& out) {
  auto it = node.find(key);
  if (it == node.end()) return {};
  if (it->is_number_unsigned()) {
    auto u = it->get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return fail(child(path, key), "lex.schema.field", "integer out of range");
    }
    out = static_cast<std::int64_t>(u);
    return {};
  }
  if (!it->is_number_integer()) {
    return fail(child(path, key), "lex.schema.field", "must be an integer");
  }
  out = it->get<std::int64_t>();
  return {};
}

Status Parser::read_bool(const json& node, const std::string& path, const char* key,
                         std::optional<bool>& out) {
  auto it = node.find(key);
  if (it == node.end()) return {};
  if (!it->is_boolean()) return fail(child(path, key), "lex.schema.field", "must be a boolean");
  out = it->get<bool>();
  return {};
}

Status Parser::read_strings(const json& node, const std::string& path, const char* key,
                            std::optional<std::vector<std::string>>& out) {
  auto it = node.find(key);
  if (it == node.end()) return {};
  if (!it->is_array()) {
    return fail(child(path, key), "lex.schema.field", "must be an array of strings");
  }
  std::vector<std::string> values;
  for (std::size_t i = 0; i < it->size(); ++i) {
    const json& item = (*it)[i];
    if (!item.is_string()) {
      return fail(index(child(path, key), i), "lex.schema.field", "must be a string");
    }
    values.push_back(item.get<std::string>());
  }
  out = std::move(values);
  return {};
}

Status Parser::read_length_pair(const json& node, const std::string& path, const char* min_key,
                                const char* max_key, std::optional<std::int64_t>& min,
                                std::optional<std::int64_t>& max) {
  if (auto s = read_int(node, path, min_key, min); !s) return s;
  if (auto s = read_int(node, path, max_key, max); !s) return s;
  // [lex.schema.length-range] Length limits are non-negative and a minimum
  // is not above its maximum.
  if (min && *min < 0) return fail(child(path, min_key), "lex.schema.length-range", "negative");
  if (max && *max < 0) return fail(child(path, max_key), "lex.schema.length-range", "negative");
  if (min && max && *min > *max) {
    return fail(child(path, min_key), "lex.schema.length-range",
                std::string(min_key) + " is greater than " + max_key);
  }
  return {};
}

Status Parser::check_ref(const std::string& ref, const std::string& path) {
  auto q = qualify_ref(ref, id_);
  if (!q) return fail(path, q.error().code, q.error().message);
  return {};
}

bool is_field_type(Type t) {
  switch (t) {
    case Type::kNull:
    case Type::kBoolean:
    case Type::kInteger:
    case Type::kString:
    case Type::kBytes:
    case Type::kCidLink:
    case Type::kBlob:
    case Type::kArray:
    case Type::kObject:
    case Type::kRef:
    case Type::kUnion:
    case Type::kUnknown:
      return true;
    default:
      return false;
  }
}

Status Parser::check_place(Type type, const std::string& path, Place place) {
  const std::string name(type_name(type));
  switch (place) {
    case Place::kDef:
      // [lex.schema.def-type] params, permission, ref, union and unknown
      // can not be named definitions.
      if (type == Type::kParams || type == Type::kPermission || type == Type::kRef ||
          type == Type::kUnion || type == Type::kUnknown) {
        return fail(path, "lex.schema.def-type", name + " can not be a named definition");
      }
      return {};
    case Place::kField:
      // [lex.schema.field-type] Fields hold data types only: no tokens,
      // params, permissions or primary types.
      if (!is_field_type(type)) {
        return fail(path, "lex.schema.field-type", name + " can not be used as a field type");
      }
      return {};
    case Place::kParamField:
      // [lex.schema.params-property] params hold boolean, integer, string
      // or an array of those.
      if (type != Type::kBoolean && type != Type::kInteger && type != Type::kString &&
          type != Type::kArray) {
        return fail(path, "lex.schema.params-property", name + " is not allowed in params");
      }
      return {};
    case Place::kParamItems:
      if (type != Type::kBoolean && type != Type::kInteger && type != Type::kString) {
        return fail(path, "lex.schema.params-property",
                    "params arrays hold boolean, integer or string, not " + name);
      }
      return {};
    case Place::kRecordBody:
      // [lex.schema.record-object] The record field is an object schema.
      if (type != Type::kObject) {
        return fail(path, "lex.schema.record-object", "record must be an object, not " + name);
      }
      return {};
    case Place::kBodySchema:
      // [lex.schema.body-schema] input/output schemas are object, ref or
      // union.
      if (type != Type::kObject && type != Type::kRef && type != Type::kUnion) {
        return fail(path, "lex.schema.body-schema",
                    "schema must be an object, ref or union, not " + name);
      }
      return {};
    case Place::kMessage:
      // [lex.schema.subscription-message] A subscription message schema is a
      // union of refs.
      if (type != Type::kUnion) {
        return fail(path, "lex.schema.subscription-message",
                    "message schema must be a union, not " + name);
      }
      return {};
    case Place::kParameters:
      // [lex.schema.parameters] parameters is a params schema.
      if (type != Type::kParams) {
        return fail(path, "lex.schema.parameters", "parameters must be params, not " + name);
      }
      return {};
  }
  return {};
}

Result<TypeDefPtr> Parser::type_def(const json& node, const std::string& path, Place place) {
  if (!node.is_object()) return fail(path, "lex.schema.field", "must be an object");
  if (depth_ >= kMaxSchemaDepth) return fail(path, "data.limits.depth", "schema nested too deeply");
  struct Nest {
    int& d;
    explicit Nest(int& depth) : d(depth) { ++d; }
    ~Nest() { --d; }
  } nest(depth_);
  auto it = node.find("type");
  if (it == node.end() || !it->is_string()) {
    return fail(child(path, "type"), "lex.schema.type-known", "type is required (a string)");
  }
  auto type = type_from_name(it->get<std::string>());
  if (!type) {
    // [lex.schema.type-known]
    return fail(child(path, "type"), "lex.schema.type-known",
                "unknown type \"" + it->get<std::string>() + "\"");
  }
  if (auto s = check_place(*type, path, place); !s) return s.error();
  auto def = std::make_shared<TypeDef>();
  def->type = *type;
  def->lexicon_id = id_;
  std::optional<std::string> description;
  if (auto s = read_string(node, path, "description", description); !s) return s.error();
  def->description = description.value_or("");
  Status s = fill(*def, node, path);
  if (!s) return s.error();
  if (place == Place::kParamField && def->type == Type::kArray) {
    if (auto p = check_place(def->items->type, child(path, "items"), Place::kParamItems); !p) {
      return p.error();
    }
  }
  return TypeDefPtr(std::move(def));
}

Status check_const_default(const json& node, const std::string& path) {
  // [lex.schema.const-default] const and default are mutually exclusive.
  if (node.contains("const") && node.contains("default")) {
    return fail(path, "lex.schema.const-default", "const and default are mutually exclusive");
  }
  return {};
}

// [lex.schema.blob-accept] An accept entry is a MIME type, `type/*`, or
// `*/*`; partial globs and a lone `*` are not patterns.
bool valid_accept_pattern(std::string_view p) {
  auto slash = p.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == p.size()) return false;
  std::string_view type = p.substr(0, slash);
  std::string_view sub = p.substr(slash + 1);
  if (sub.find('/') != std::string_view::npos) return false;
  auto has_star = [](std::string_view s) { return s.find('*') != std::string_view::npos; };
  if (type == "*") return sub == "*";
  if (has_star(type)) return false;
  if (sub == "*") return true;
  return !has_star(sub);
}

// [lex.schema.record-key] The key type of a record: tid, nsid, any, or
// literal:<record key>.
bool valid_key_type(std::string_view key) {
  if (key == "tid" || key == "nsid" || key == "any") return true;
  constexpr std::string_view kLiteral = "literal:";
  if (key.substr(0, kLiteral.size()) != kLiteral) return false;
  return syntax::validate_record_key(key.substr(kLiteral.size())).ok();
}

Status Parser::fill(TypeDef& def, const json& node, const std::string& path) {
  switch (def.type) {
    case Type::kNull:
    case Type::kCidLink:
    case Type::kToken:
    case Type::kUnknown:
      return {};
    case Type::kBoolean:
      return fill_boolean(def, node, path);
    case Type::kInteger:
      return fill_integer(def, node, path);
    case Type::kString:
      return fill_string(def, node, path);
    case Type::kBytes:
      return read_length_pair(node, path, "minLength", "maxLength", def.min_length, def.max_length);
    case Type::kBlob:
      return fill_blob(def, node, path);
    case Type::kArray:
      return fill_array(def, node, path);
    case Type::kObject:
      return fill_object(def, node, path, false);
    case Type::kParams:
      return fill_object(def, node, path, true);
    case Type::kRef:
      return fill_ref(def, node, path);
    case Type::kUnion:
      return fill_union(def, node, path);
    case Type::kRecord:
      return fill_record(def, node, path);
    case Type::kQuery:
    case Type::kProcedure:
    case Type::kSubscription:
      return fill_xrpc(def, node, path);
    case Type::kPermissionSet:
      return fill_permissions(def, node, path);
    case Type::kPermission:
      // Only reachable inside a permission set, which reads it itself.
      return {};
  }
  return {};
}

// boolean: default and const.
Status Parser::fill_boolean(TypeDef& def, const json& node, const std::string& path) {
  if (auto s = read_bool(node, path, "default", def.bool_default); !s) return s;
  if (auto s = read_bool(node, path, "const", def.bool_const); !s) return s;
  return check_const_default(node, path);
}

// integer: minimum, maximum, enum, default and const.
Status Parser::fill_integer(TypeDef& def, const json& node, const std::string& path) {
  if (auto s = read_int(node, path, "minimum", def.minimum); !s) return s;
  if (auto s = read_int(node, path, "maximum", def.maximum); !s) return s;
  if (def.minimum && def.maximum && *def.minimum > *def.maximum) {
    return fail(child(path, "minimum"), "lex.schema.length-range",
                "minimum is greater than maximum");
  }
  if (auto it = node.find("enum"); it != node.end()) {
    if (!it->is_array()) return fail(child(path, "enum"), "lex.schema.field", "must be an array");
    std::vector<std::int64_t> values;
    for (std::size_t i = 0; i < it->size(); ++i) {
      const json& v = (*it)[i];
      if (!v.is_number_integer() ||
          (v.is_number_unsigned() &&
           v.get<std::uint64_t>() >
               static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))) {
        return fail(index(child(path, "enum"), i), "lex.schema.field", "must be an integer");
      }
      values.push_back(v.get<std::int64_t>());
    }
    def.int_enum = std::move(values);
  }
  if (auto s = read_int(node, path, "default", def.int_default); !s) return s;
  if (auto s = read_int(node, path, "const", def.int_const); !s) return s;
  return check_const_default(node, path);
}

// string: format, byte and grapheme length limits, knownValues, enum, default
// and const.
Status Parser::fill_string(TypeDef& def, const json& node, const std::string& path) {
  std::optional<std::string> format;
  if (auto s = read_string(node, path, "format", format); !s) return s;
  if (format) {
    def.format = syntax::string_format_from_name(*format);
    // [lex.schema.string-format] format names one of the Lexicon string
    // formats.
    if (!def.format) {
      return fail(child(path, "format"), "lex.schema.string-format",
                  "unknown string format \"" + *format + "\"");
    }
  }
  if (auto s =
          read_length_pair(node, path, "minLength", "maxLength", def.min_length, def.max_length);
      !s) {
    return s;
  }
  if (auto s = read_length_pair(node, path, "minGraphemes", "maxGraphemes", def.min_graphemes,
                                def.max_graphemes);
      !s) {
    return s;
  }
  std::optional<std::vector<std::string>> known;
  if (auto s = read_strings(node, path, "knownValues", known); !s) return s;
  def.known_values = known.value_or(std::vector<std::string>{});
  if (auto s = read_strings(node, path, "enum", def.string_enum); !s) return s;
  if (auto s = read_string(node, path, "default", def.string_default); !s) return s;
  if (auto s = read_string(node, path, "const", def.string_const); !s) return s;
  return check_const_default(node, path);
}

// blob: accepted MIME types and maxSize.
Status Parser::fill_blob(TypeDef& def, const json& node, const std::string& path) {
  if (auto s = read_strings(node, path, "accept", def.accept); !s) return s;
  if (def.accept) {
    for (std::size_t i = 0; i < def.accept->size(); ++i) {
      if (!valid_accept_pattern((*def.accept)[i])) {
        return fail(index(child(path, "accept"), i), "lex.schema.blob-accept",
                    "\"" + (*def.accept)[i] + "\" is not a MIME type or type/* pattern");
      }
    }
  }
  if (auto s = read_int(node, path, "maxSize", def.max_size); !s) return s;
  if (def.max_size && *def.max_size < 0) {
    return fail(child(path, "maxSize"), "lex.schema.length-range", "negative");
  }
  return {};
}

// array: items and length limits.
Status Parser::fill_array(TypeDef& def, const json& node, const std::string& path) {
  auto it = node.find("items");
  if (it == node.end()) {
    return fail(child(path, "items"), "lex.schema.field", "items is required");
  }
  auto items = type_def(*it, child(path, "items"), Place::kField);
  if (!items) return items.error();
  def.items = std::move(items).value();
  return read_length_pair(node, path, "minLength", "maxLength", def.min_length, def.max_length);
}

// ref: the referenced definition.
Status Parser::fill_ref(TypeDef& def, const json& node, const std::string& path) {
  std::optional<std::string> ref;
  if (auto s = read_string(node, path, "ref", ref); !s) return s;
  if (!ref) return fail(child(path, "ref"), "lex.schema.field", "ref is required");
  def.ref = *ref;
  return check_ref(def.ref, child(path, "ref"));
}

// union: refs and closed.
Status Parser::fill_union(TypeDef& def, const json& node, const std::string& path) {
  std::optional<std::vector<std::string>> refs;
  if (auto s = read_strings(node, path, "refs", refs); !s) return s;
  if (!refs) return fail(child(path, "refs"), "lex.schema.field", "refs is required");
  def.refs = std::move(*refs);
  for (std::size_t i = 0; i < def.refs.size(); ++i) {
    if (auto s = check_ref(def.refs[i], index(child(path, "refs"), i)); !s) return s;
  }
  std::optional<bool> closed;
  if (auto s = read_bool(node, path, "closed", closed); !s) return s;
  def.closed = closed.value_or(false);
  // [lex.schema.union-closed-empty] A closed union needs at least one ref.
  if (def.closed && def.refs.empty()) {
    return fail(child(path, "refs"), "lex.schema.union-closed-empty",
                "a closed union must list at least one ref");
  }
  return {};
}

// record: the record key type and the record object.
Status Parser::fill_record(TypeDef& def, const json& node, const std::string& path) {
  std::optional<std::string> key;
  if (auto s = read_string(node, path, "key", key); !s) return s;
  if (!key) return fail(child(path, "key"), "lex.schema.record-key", "key is required");
  if (!valid_key_type(*key)) {
    return fail(child(path, "key"), "lex.schema.record-key",
                "\"" + *key + "\" is not a record key type (tid, nsid, any, literal:<key>)");
  }
  def.key = *key;
  auto it = node.find("record");
  if (it == node.end()) {
    return fail(child(path, "record"), "lex.schema.record-object", "record is required");
  }
  auto record = type_def(*it, child(path, "record"), Place::kRecordBody);
  if (!record) return record.error();
  def.record = std::move(record).value();
  return {};
}

// query, procedure and subscription: parameters, input and output bodies (or
// the message of a subscription), and errors.
Status Parser::fill_xrpc(TypeDef& def, const json& node, const std::string& path) {
  if (auto it = node.find("parameters"); it != node.end()) {
    auto params = type_def(*it, child(path, "parameters"), Place::kParameters);
    if (!params) return params.error();
    def.parameters = std::move(params).value();
  }
  if (def.type == Type::kSubscription) {
    if (auto s = fill_body(def.message, node, path, "message", true); !s) return s;
    if (!def.message) {
      return fail(child(path, "message"), "lex.schema.subscription-message", "message is required");
    }
  } else {
    // [lex.schema.procedure-input] Only a procedure has an input body.
    if (def.type == Type::kQuery && node.contains("input")) {
      return fail(child(path, "input"), "lex.schema.procedure-input", "a query has no input body");
    }
    if (auto s = fill_body(def.input, node, path, "input", false); !s) return s;
    if (auto s = fill_body(def.output, node, path, "output", false); !s) return s;
  }
  return fill_errors(def, node, path);
}

Status Parser::fill_object(TypeDef& def, const json& node, const std::string& path, bool params) {
  auto it = node.find("properties");
  if (it == node.end()) {
    // params may leave properties out; an object lists them (possibly none).
    if (!params) {
      return fail(child(path, "properties"), "lex.schema.field", "properties is required");
    }
  } else {
    if (!it->is_object()) {
      return fail(child(path, "properties"), "lex.schema.field", "must be an object");
    }
    for (const auto& [name, schema] : it->items()) {
      std::string ppath = child(child(path, "properties"), name);
      auto prop = type_def(schema, ppath, params ? Place::kParamField : Place::kField);
      if (!prop) return prop.error();
      def.properties.push_back(Property{name, std::move(prop).value()});
    }
  }
  std::optional<std::vector<std::string>> required;
  if (auto s = read_strings(node, path, "required", required); !s) return s;
  def.required = required.value_or(std::vector<std::string>{});
  if (params && node.contains("nullable")) {
    // [lex.schema.params-property] params have no nullable list.
    return fail(child(path, "nullable"), "lex.schema.params-property",
                "params have no nullable field");
  }
  std::optional<std::vector<std::string>> nullable;
  if (auto s = read_strings(node, path, "nullable", nullable); !s) return s;
  def.nullable = nullable.value_or(std::vector<std::string>{});
  // [lex.schema.object-required] Names listed in required (and nullable)
  // are properties of the object.
  for (std::size_t i = 0; i < def.required.size(); ++i) {
    if (!def.property(def.required[i])) {
      return fail(index(child(path, "required"), i), "lex.schema.object-required",
                  "\"" + def.required[i] + "\" is not a property");
    }
  }
  for (std::size_t i = 0; i < def.nullable.size(); ++i) {
    if (!def.property(def.nullable[i])) {
      return fail(index(child(path, "nullable"), i), "lex.schema.object-required",
                  "\"" + def.nullable[i] + "\" is not a property");
    }
  }
  return {};
}

Status Parser::fill_body(std::optional<Body>& out, const json& node, const std::string& path,
                         const char* key, bool message) {
  auto it = node.find(key);
  if (it == node.end()) return {};
  std::string bpath = child(path, key);
  if (!it->is_object()) return fail(bpath, "lex.schema.field", "must be an object");
  Body body;
  std::optional<std::string> text;
  if (auto s = read_string(*it, bpath, "description", text); !s) return s;
  body.description = text.value_or("");
  if (!message) {
    text.reset();
    if (auto s = read_string(*it, bpath, "encoding", text); !s) return s;
    // [lex.schema.body-encoding] An input/output body names its encoding.
    if (!text || text->empty()) {
      return fail(child(bpath, "encoding"), "lex.schema.body-encoding", "encoding is required");
    }
    body.encoding = *text;
  }
  if (auto sit = it->find("schema"); sit != it->end()) {
    auto schema =
        type_def(*sit, child(bpath, "schema"), message ? Place::kMessage : Place::kBodySchema);
    if (!schema) return schema.error();
    body.schema = std::move(schema).value();
  } else if (message) {
    return fail(child(bpath, "schema"), "lex.schema.subscription-message", "schema is required");
  }
  out = std::move(body);
  return {};
}

Status Parser::fill_errors(TypeDef& def, const json& node, const std::string& path) {
  auto it = node.find("errors");
  if (it == node.end()) return {};
  if (!it->is_array()) return fail(child(path, "errors"), "lex.schema.field", "must be an array");
  for (std::size_t i = 0; i < it->size(); ++i) {
    std::string epath = index(child(path, "errors"), i);
    const json& e = (*it)[i];
    if (!e.is_object()) return fail(epath, "lex.schema.field", "must be an object");
    std::optional<std::string> name;
    std::optional<std::string> description;
    if (auto s = read_string(e, epath, "name", name); !s) return s;
    if (auto s = read_string(e, epath, "description", description); !s) return s;
    // [lex.schema.error-name] An error has a non-empty name without
    // whitespace.
    bool bad = !name || name->empty();
    if (name) {
      for (char c : *name) {
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') bad = true;
      }
    }
    if (bad) {
      return fail(child(epath, "name"), "lex.schema.error-name",
                  "error name is required and has no whitespace");
    }
    def.errors.push_back(XrpcError{*name, description.value_or("")});
  }
  return {};
}

// [lex.schema.permission] The fields of the repo and rpc permission
// resources; other resources are kept without checks (the spec asks that
// they be ignored).
Status check_permission(const json& p, const std::string& path, const std::string& resource) {
  auto nsid_list = [&](const char* key, bool required) -> Status {
    auto it = p.find(key);
    if (it == p.end()) {
      if (required) return fail(child(path, key), "lex.schema.permission", "is required");
      return {};
    }
    if (!it->is_array() || it->empty()) {
      return fail(child(path, key), "lex.schema.permission", "must be a non-empty array of NSIDs");
    }
    std::set<std::string> seen;
    for (std::size_t i = 0; i < it->size(); ++i) {
      const json& v = (*it)[i];
      if (!v.is_string() || !syntax::validate_nsid(v.get<std::string>()).ok()) {
        return fail(index(child(path, key), i), "lex.schema.permission",
                    "must be an NSID (no wildcard)");
      }
      if (!seen.insert(v.get<std::string>()).second) {
        return fail(index(child(path, key), i), "lex.schema.permission", "duplicate entry");
      }
    }
    return {};
  };
  if (resource == "repo") {
    if (auto s = nsid_list("collection", true); !s) return s;
    if (auto it = p.find("action"); it != p.end()) {
      if (!it->is_array()) {
        return fail(child(path, "action"), "lex.schema.permission", "must be an array");
      }
      std::set<std::string> seen;
      for (std::size_t i = 0; i < it->size(); ++i) {
        const json& v = (*it)[i];
        std::string a = v.is_string() ? v.get<std::string>() : "";
        if (a != "create" && a != "update" && a != "delete") {
          return fail(index(child(path, "action"), i), "lex.schema.permission",
                      "action is one of create, update, delete");
        }
        if (!seen.insert(a).second) {
          return fail(index(child(path, "action"), i), "lex.schema.permission", "duplicate entry");
        }
      }
    }
  } else if (resource == "rpc") {
    if (auto s = nsid_list("lxm", true); !s) return s;
    auto aud = p.find("aud");
    auto inherit = p.find("inheritAud");
    if (inherit != p.end() && !inherit->is_boolean()) {
      return fail(child(path, "inheritAud"), "lex.schema.permission", "must be a boolean");
    }
    bool inherits = inherit != p.end() && inherit->get<bool>();
    if (aud != p.end() && !aud->is_string()) {
      return fail(child(path, "aud"), "lex.schema.permission", "must be a string");
    }
    if (aud == p.end() && !inherits) {
      return fail(child(path, "aud"), "lex.schema.permission",
                  "aud is required unless inheritAud is true");
    }
    // In a permission set the audience is a wildcard or inherited; a fixed
    // service DID is not allowed there.
    if (aud != p.end() && aud->get<std::string>() != "*") {
      return fail(child(path, "aud"), "lex.schema.permission",
                  "aud in a permission set is \"*\" or left out with inheritAud");
    }
  }
  return {};
}

Status Parser::fill_permissions(TypeDef& def, const json& node, const std::string& path) {
  std::optional<std::string> text;
  if (auto s = read_string(node, path, "title", text); !s) return s;
  if (auto s = read_string(node, path, "detail", text); !s) return s;
  for (const char* key : {"title:lang", "detail:lang"}) {
    auto it = node.find(key);
    if (it == node.end()) continue;
    if (!it->is_object()) return fail(child(path, key), "lex.schema.field", "must be an object");
    for (const auto& [lang, value] : it->items()) {
      // [lex.schema.permission-lang] Localized titles are keyed by language
      // tags.
      if (!syntax::validate_language(lang).ok()) {
        return fail(child(child(path, key), lang), "lex.schema.permission-lang",
                    "key is not a language tag");
      }
      if (!value.is_string()) {
        return fail(child(child(path, key), lang), "lex.schema.field", "must be a string");
      }
    }
  }
  auto it = node.find("permissions");
  if (it == node.end() || !it->is_array()) {
    return fail(child(path, "permissions"), "lex.schema.permission",
                "permissions is required (an array)");
  }
  for (std::size_t i = 0; i < it->size(); ++i) {
    std::string ppath = index(child(path, "permissions"), i);
    const json& p = (*it)[i];
    if (!p.is_object()) return fail(ppath, "lex.schema.field", "must be an object");
    auto type = p.find("type");
    if (type == p.end() || !type->is_string() || type->get<std::string>() != "permission") {
      return fail(child(ppath, "type"), "lex.schema.permission",
                  "a permission set holds permission entries");
    }
    auto resource = p.find("resource");
    if (resource == p.end() || !resource->is_string() || resource->get<std::string>().empty()) {
      return fail(child(ppath, "resource"), "lex.schema.permission", "resource is required");
    }
    std::string r = resource->get<std::string>();
    if (auto s = check_permission(p, ppath, r); !s) return s;
    def.permissions.push_back(Permission{r, p});
  }
  return {};
}

// [lex.schema.def-name] A def name is ASCII letters and digits (with `-`
// and `_` inside), never containing `#`.
bool valid_def_name(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (!alpha(name.front())) return false;
  for (char c : name) {
    if (!alpha(c) && !digit(c) && c != '-' && c != '_') return false;
  }
  return true;
}

}  // namespace

std::optional<Type> type_from_name(std::string_view name) {
  for (const auto& [n, t] : kTypeNames) {
    if (n == name) return t;
  }
  return std::nullopt;
}

std::string_view type_name(Type type) {
  for (const auto& [n, t] : kTypeNames) {
    if (t == type) return n;
  }
  return "?";
}

bool is_primary(Type type) {
  return type == Type::kRecord || type == Type::kQuery || type == Type::kProcedure ||
         type == Type::kSubscription || type == Type::kPermissionSet;
}

const TypeDef* TypeDef::property(std::string_view name) const {
  for (const auto& p : properties) {
    if (p.name == name) return p.schema.get();
  }
  return nullptr;
}

bool TypeDef::is_required(std::string_view name) const {
  for (const auto& r : required) {
    if (r == name) return true;
  }
  return false;
}

bool TypeDef::is_nullable(std::string_view name) const {
  for (const auto& n : nullable) {
    if (n == name) return true;
  }
  return false;
}

TypeDefPtr LexiconDoc::def(std::string_view name) const {
  for (const auto& [n, d] : defs) {
    if (n == name) return d;
  }
  return nullptr;
}

Result<std::string> qualify_ref(std::string_view ref, std::string_view base_id) {
  // [lex.schema.ref-syntax] A reference is `#name`, `nsid` or `nsid#name`.
  auto hash = ref.find('#');
  std::string_view nsid = hash == std::string_view::npos ? ref : ref.substr(0, hash);
  std::string_view name = hash == std::string_view::npos ? "main" : ref.substr(hash + 1);
  if (!valid_def_name(name)) {
    return make_error("lex.schema.ref-syntax", "\"" + std::string(ref) + "\" is not a reference");
  }
  if (nsid.empty()) {
    if (hash == std::string_view::npos) {
      return make_error("lex.schema.ref-syntax", "empty reference");
    }
    nsid = base_id;
  } else if (!syntax::validate_nsid(nsid).ok()) {
    return make_error("lex.schema.ref-syntax",
                      "\"" + std::string(ref) + "\" does not start with a valid NSID");
  }
  std::string out(nsid);
  out += '#';
  out += name;
  return out;
}

Result<LexiconDoc> parse_lexicon(const json& document) {
  // [lex.schema.document] A Lexicon file is a JSON object.
  if (!document.is_object()) return fail("$", "lex.schema.document", "must be a JSON object");
  LexiconDoc doc;
  // [lex.schema.version] `lexicon` is the integer 1.
  auto version = document.find("lexicon");
  if (version == document.end() || !version->is_number_integer() ||
      version->get<std::int64_t>() != 1) {
    return fail("lexicon", "lex.schema.version", "lexicon must be the integer 1");
  }
  // [lex.schema.id] `id` is the NSID of the Lexicon.
  auto id = document.find("id");
  if (id == document.end() || !id->is_string()) {
    return fail("id", "lex.schema.id", "id is required (an NSID string)");
  }
  doc.id = id->get<std::string>();
  if (auto s = syntax::validate_nsid(doc.id); !s) {
    return fail("id", "lex.schema.id",
                "\"" + doc.id + "\" is not an NSID (" + s.error().code + ")");
  }
  if (auto d = document.find("description"); d != document.end()) {
    if (!d->is_string()) return fail("description", "lex.schema.field", "must be a string");
    doc.description = d->get<std::string>();
  }
  // [lex.schema.defs] `defs` is a map holding at least one definition.
  auto defs = document.find("defs");
  if (defs == document.end() || !defs->is_object()) {
    return fail("defs", "lex.schema.defs", "defs is required (an object)");
  }
  if (defs->empty()) return fail("defs", "lex.schema.defs", "a Lexicon has at least one def");
  Parser parser(doc.id);
  for (const auto& [name, node] : defs->items()) {
    std::string path = "defs." + name;
    if (!valid_def_name(name)) {
      return fail(path, "lex.schema.def-name", "\"" + name + "\" is not a definition name");
    }
    auto def = parser.type_def(node, path, Place::kDef);
    if (!def) return def.error();
    // [lex.schema.primary-main] Primary types (record, query, procedure,
    // subscription, permission-set) are only defined as `main`, so a file
    // holds at most one.
    if (is_primary(def.value()->type) && name != "main") {
      return fail(path, "lex.schema.primary-main",
                  std::string(type_name(def.value()->type)) + " must be the main definition");
    }
    doc.defs.emplace_back(name, std::move(def).value());
  }
  return doc;
}

Result<LexiconDoc> parse_lexicon_text(std::string_view text) {
  json document = json::parse(text, nullptr, false);
  if (document.is_discarded()) return fail("$", "lex.schema.document", "not valid JSON");
  return parse_lexicon(document);
}

}  // namespace atproto::lexicon

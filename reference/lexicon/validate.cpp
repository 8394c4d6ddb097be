// Validation of data model values against Lexicon definitions.
// Spec: https://atproto.com/specs/lexicon
#include "atproto/lexicon/validate.hpp"

#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>

#include "atproto/common/hex.hpp"
#include "atproto/common/utf8.hpp"
#include "atproto/data/blob.hpp"
#include "atproto/data/validate.hpp"
#include "atproto/syntax/format.hpp"
#include "atproto/syntax/record_key.hpp"

namespace atproto::lexicon {

namespace {

using data::Value;
using data::ValueView;

// A failure while descending: the path is built on the way back up, so the
// success path never allocates one.
struct Problem {
  std::string code;
  std::string path;  // relative to the current value: "", ".a", "[3].b"
  std::string message;
};
using Check = std::optional<Problem>;

Check problem(std::string code, std::string message) {
  return Problem{std::move(code), "", std::move(message)};
}

Check at_key(Check c, std::string_view key) {
  if (c) c->path.insert(0, "." + std::string(key));
  return c;
}

Check at_index(Check c, std::size_t i) {
  if (c) c->path.insert(0, "[" + std::to_string(i) + "]");
  return c;
}

Status to_status(Check c) {
  if (!c) return {};
  return make_error(std::move(c->code), "$" + c->path + ": " + c->message);
}

template <typename V>
std::string kind_text(const V& v) {
  return data::kind_name(v.kind());
}

template <typename V>
Check expected(std::string_view what, const V& v) {
  // [lex.validate.type] A value has the data model kind its schema type
  // maps to.
  return problem("lex.validate.type", "expected " + std::string(what) + ", got " + kind_text(v));
}

constexpr std::string_view kMainSuffix = "#main";
// Built once: Value::find takes a std::string.
const std::string kTypeKey = "$type";

// The fields of a small map, for lookups by name: records and objects have
// a handful of fields and their schemas name a handful more, so a scan that
// compares lengths first beats a string comparison per tree level.
template <typename V>
class Fields;

template <>
class Fields<Value> {
 public:
  explicit Fields(const Value& v) : Fields(v.as_map()) {}
  explicit Fields(const data::Map& m) : map_(m) {
    if (m.size() > kMax) return;
    for (const auto& entry : m) entries_[size_++] = &entry;
  }
  const Value* find(const std::string& name) const {
    if (map_.size() > kMax) {
      auto it = map_.find(name);
      return it == map_.end() ? nullptr : &it->second;
    }
    for (std::size_t i = 0; i < size_; ++i) {
      const std::string& key = entries_[i]->first;
      if (key.size() == name.size() && key == name) return &entries_[i]->second;
    }
    return nullptr;
  }

 private:
  static constexpr std::size_t kMax = 16;
  const data::Map& map_;
  std::array<const data::Map::value_type*, kMax> entries_{};
  std::size_t size_ = 0;
};

// A view's map is flat: its own find scans the keys in place.
template <>
class Fields<ValueView> {
 public:
  explicit Fields(const ValueView& v) : map_(v.as_map()) {}
  std::optional<ValueView> find(const std::string& name) const { return map_.find(name); }

 private:
  data::MapView map_;
};

// The data-layer checks that exist for owning Values only (blob nodes,
// unknown data) read a view through its Value: those subtrees are small
// and rare next to the fields checked in place.
Result<data::BlobRef> parse_blob_of(const Value& v) { return data::parse_blob(v); }
Result<data::BlobRef> parse_blob_of(const ValueView& v) {
  return data::parse_blob(data::to_value(v));
}
bool is_blob_node_of(const Value& v) { return data::is_blob_node(v.as_map()); }
bool is_blob_node_of(const ValueView& v) { return data::is_blob_node(data::to_value(v).as_map()); }
Status validate_data_of(const Value& v) { return data::validate_data(v); }
Status validate_data_of(const ValueView& v) { return data::validate_data(data::to_value(v)); }

// The "$type" field of a map value. An owning Value's map is ordered by
// bytes, and '$' sorts before every letter and digit, so "$type" is nearly
// always its first key: look there before searching.
const Value* type_field(const Value& v) {
  const data::Map& m = v.as_map();
  if (!m.empty() && m.begin()->first == kTypeKey) return &m.begin()->second;
  return v.find(kTypeKey);
}
std::optional<ValueView> type_field(const ValueView& v) { return v.find(kTypeKey); }

bool ends_with_main(std::string_view s) {
  return s.size() > kMainSuffix.size() && s.substr(s.size() - kMainSuffix.size()) == kMainSuffix;
}

// V is data::Value or data::ValueView: the same checks on either.
template <typename V>
class Validator {
 public:
  explicit Validator(const Catalog& catalog) : catalog_(catalog) {}

  Check value(const TypeDef& def, const V& v);
  Check object(const TypeDef& def, const V& v);
  Check record(const TypeDef& def, const V& v, std::string_view nsid);
  Check union_value(const TypeDef& def, const V& v, bool type_optional,
                    std::string_view implied_type);

 private:
  Check boolean(const TypeDef& def, const V& v);
  Check integer(const TypeDef& def, const V& v);
  Check string(const TypeDef& def, const V& v);
  Check bytes(const TypeDef& def, const V& v);
  Check blob(const TypeDef& def, const V& v);
  Check array(const TypeDef& def, const V& v);
  Check unknown(const V& v);
  Check ref(const TypeDef& def, const V& v);
  Check against_target(const TypeDef& target, const V& v);

  const Catalog& catalog_;
  int depth_ = 0;
};

// [data.limits.depth] Guards recursion through refs (a schema may refer to itself; data is
// finite, but a chain of refs without data in between could loop).
constexpr int kMaxRefDepth = 256;

template <typename V>
Check Validator<V>::value(const TypeDef& def, const V& v) {
  switch (def.type) {
    case Type::kNull:
      if (!v.is_null()) return expected("null", v);
      return std::nullopt;
    case Type::kBoolean:
      return boolean(def, v);
    case Type::kInteger:
      return integer(def, v);
    case Type::kString:
      return string(def, v);
    case Type::kBytes:
      return bytes(def, v);
    case Type::kCidLink:
      if (!v.is_link()) return expected("a cid-link", v);
      return std::nullopt;
    case Type::kBlob:
      return blob(def, v);
    case Type::kArray:
      return array(def, v);
    case Type::kObject:
    case Type::kParams:
      return object(def, v);
    case Type::kRef:
      return ref(def, v);
    case Type::kUnion:
      return union_value(def, v, false, "");
    case Type::kUnknown:
      return unknown(v);
    case Type::kRecord:
      return record(def, v, def.lexicon_id);
    default:
      // [lex.validate.def-kind] Tokens, XRPC defs and permission sets
      // describe no data value.
      return problem("lex.validate.def-kind",
                     std::string(type_name(def.type)) + " does not describe a data value");
  }
}

template <typename V>
Check Validator<V>::boolean(const TypeDef& def, const V& v) {
  if (!v.is_bool()) return expected("a boolean", v);
  // [lex.validate.const] A value equals its schema's const.
  if (def.bool_const && *def.bool_const != v.as_bool()) {
    return problem("lex.validate.const",
                   std::string("must be ") + (*def.bool_const ? "true" : "false"));
  }
  return std::nullopt;
}

template <typename V>
Check Validator<V>::integer(const TypeDef& def, const V& v) {
  if (!v.is_integer()) return expected("an integer", v);
  std::int64_t i = v.as_integer();
  if (def.int_const && *def.int_const != i) {
    return problem("lex.validate.const", "must be " + std::to_string(*def.int_const));
  }
  // [lex.validate.enum] A value is one of its schema's closed enum.
  if (def.int_enum &&
      std::find(def.int_enum->begin(), def.int_enum->end(), i) == def.int_enum->end()) {
    return problem("lex.validate.enum", std::to_string(i) + " is not one of the enum values");
  }
  // [lex.validate.integer-range] minimum and maximum are inclusive.
  if (def.minimum && i < *def.minimum) {
    return problem("lex.validate.integer-range",
                   std::to_string(i) + " is below the minimum " + std::to_string(*def.minimum));
  }
  if (def.maximum && i > *def.maximum) {
    return problem("lex.validate.integer-range",
                   std::to_string(i) + " is above the maximum " + std::to_string(*def.maximum));
  }
  return std::nullopt;
}

template <typename V>
Check Validator<V>::string(const TypeDef& def, const V& v) {
  if (!v.is_string()) return expected("a string", v);
  const std::string_view s = v.as_string();
  if (def.string_const && *def.string_const != s) {
    return problem("lex.validate.const", "must be \"" + *def.string_const + "\"");
  }
  if (def.string_enum &&
      std::find(def.string_enum->begin(), def.string_enum->end(), s) == def.string_enum->end()) {
    return problem("lex.validate.enum", "\"" + std::string(s) + "\" is not one of the enum values");
  }
  // [lex.validate.string-length] minLength/maxLength count UTF-8 bytes.
  auto size = static_cast<std::int64_t>(s.size());
  if (def.max_length && size > *def.max_length) {
    return problem("lex.validate.string-length", std::to_string(size) +
                                                     " UTF-8 bytes, more than maxLength " +
                                                     std::to_string(*def.max_length));
  }
  if (def.min_length && size < *def.min_length) {
    return problem("lex.validate.string-length", std::to_string(size) +
                                                     " UTF-8 bytes, fewer than minLength " +
                                                     std::to_string(*def.min_length));
  }
  // [lex.validate.string-graphemes] minGraphemes/maxGraphemes count
  // extended grapheme clusters. A cluster is at least one byte, so a string
  // no longer in bytes than maxGraphemes needs no counting.
  bool need_max = def.max_graphemes && size > *def.max_graphemes;
  if (need_max || def.min_graphemes) {
    auto graphemes = static_cast<std::int64_t>(count_graphemes(s));
    if (def.max_graphemes && graphemes > *def.max_graphemes) {
      return problem("lex.validate.string-graphemes", std::to_string(graphemes) +
                                                          " graphemes, more than maxGraphemes " +
                                                          std::to_string(*def.max_graphemes));
    }
    if (def.min_graphemes && graphemes < *def.min_graphemes) {
      return problem("lex.validate.string-graphemes", std::to_string(graphemes) +
                                                          " graphemes, fewer than minGraphemes " +
                                                          std::to_string(*def.min_graphemes));
    }
  }
  // [lex.validate.string-format] A string with a format is valid in that
  // format (the syntax layer's expansive rules). [data.cid.string-field] So
  // a CID held as a plain string (format cid) is checked as the blessed
  // text form; one inside an ipld:// URI (format uri) as a URI.
  if (def.format) {
    if (auto st = syntax::validate_string_format(*def.format, s); !st) {
      return problem("lex.validate.string-format",
                     "not a valid " + std::string(syntax::string_format_name(*def.format)) + " (" +
                         st.error().code + ": " + st.error().message + ")");
    }
  }
  return std::nullopt;
}

template <typename V>
Check Validator<V>::bytes(const TypeDef& def, const V& v) {
  if (!v.is_bytes()) return expected("bytes", v);
  auto size = static_cast<std::int64_t>(v.as_bytes().size());
  // [lex.validate.bytes-length] Bytes lengths count raw bytes.
  if (def.max_length && size > *def.max_length) {
    return problem("lex.validate.bytes-length",
                   std::to_string(size) + " bytes, more than " + std::to_string(*def.max_length));
  }
  if (def.min_length && size < *def.min_length) {
    return problem("lex.validate.bytes-length",
                   std::to_string(size) + " bytes, fewer than " + std::to_string(*def.min_length));
  }
  return std::nullopt;
}

template <typename V>
Check Validator<V>::blob(const TypeDef& def, const V& v) {
  if (!v.is_map()) return expected("a blob", v);
  auto parsed = parse_blob_of(v);
  if (!parsed) return problem(parsed.error().code, parsed.error().message);
  const data::BlobRef& b = parsed.value();
  // [lex.validate.blob-accept] The blob's MIME type matches one of the
  // accept patterns.
  if (def.accept) {
    bool ok = std::any_of(def.accept->begin(), def.accept->end(),
                          [&](const std::string& p) { return mime_type_matches(p, b.mime_type); });
    if (!ok) {
      return problem("lex.validate.blob-accept",
                     "MIME type \"" + b.mime_type + "\" is not accepted here");
    }
  }
  // [lex.validate.blob-size] The blob is no larger than maxSize. A legacy
  // reference carries no size, so there is nothing to compare.
  if (def.max_size && !b.legacy && b.size > *def.max_size) {
    return problem("lex.validate.blob-size", std::to_string(b.size) + " bytes, more than maxSize " +
                                                 std::to_string(*def.max_size));
  }
  return std::nullopt;
}

template <typename V>
Check Validator<V>::array(const TypeDef& def, const V& v) {
  if (!v.is_array()) return expected("an array", v);
  const auto& a = v.as_array();
  auto size = static_cast<std::int64_t>(a.size());
  // [lex.validate.array-length] Array lengths count elements.
  if (def.max_length && size > *def.max_length) {
    return problem(
        "lex.validate.array-length",
        std::to_string(size) + " elements, more than maxLength " + std::to_string(*def.max_length));
  }
  if (def.min_length && size < *def.min_length) {
    return problem("lex.validate.array-length", std::to_string(size) +
                                                    " elements, fewer than minLength " +
                                                    std::to_string(*def.min_length));
  }
  std::size_t i = 0;
  for (const auto& item : a) {
    if (auto c = value(*def.items, item)) return at_index(std::move(c), i);
    ++i;
  }
  return std::nullopt;
}

template <typename V>
Check Validator<V>::object(const TypeDef& def, const V& v) {
  if (!v.is_map()) return expected("an object", v);
  const Fields<V> fields(v);
  for (const auto& prop : def.properties) {
    const TypeDef& schema = *prop.schema;
    const auto field = fields.find(prop.name);
    if (!field) {
      // [lex.validate.required] A required field is present (a field with a
      // default counts as present: the default fills it in).
      bool has_default = schema.bool_default || schema.int_default || schema.string_default;
      if (!has_default && def.is_required(prop.name)) {
        return at_key(problem("lex.validate.required", "required field is missing"), prop.name);
      }
      continue;
    }
    if (field->is_null() && schema.type != Type::kNull) {
      // [lex.validate.nullable] null is only allowed for fields listed in
      // nullable.
      if (def.is_nullable(prop.name)) continue;
      return at_key(problem("lex.validate.nullable", "null is not allowed (field is not nullable)"),
                    prop.name);
    }
    if (auto c = value(schema, *field)) return at_key(std::move(c), prop.name);
  }
  return std::nullopt;
}

template <typename V>
Check Validator<V>::record(const TypeDef& def, const V& v, std::string_view nsid) {
  if (!v.is_map()) return expected("a record object", v);
  // [lex.validate.record-type] A record carries `$type`, the NSID of its
  // record def.
  const auto type = type_field(v);
  if (!type || !type->is_string()) {
    return at_key(problem("lex.validate.record-type", "a record must have a $type string"),
                  "$type");
  }
  if (type->as_string() != nsid) {
    if (ends_with_main(type->as_string())) {
      return at_key(problem("lex.validate.type-main-suffix",
                            "$type names a main def with #main; use the NSID alone"),
                    "$type");
    }
    return at_key(
        problem("lex.validate.record-type", "$type is \"" + std::string(type->as_string()) +
                                                "\", expected \"" + std::string(nsid) + "\""),
        "$type");
  }
  return object(*def.record, v);
}

template <typename V>
Check Validator<V>::unknown(const V& v) {
  // [lex.validate.unknown-object] unknown data is an object, and not a
  // blob; its contents are data-model valid.
  if (!v.is_map()) return problem("lex.validate.unknown-object", "expected an object");
  if (is_blob_node_of(v)) {
    return problem("lex.validate.unknown-object", "a blob is not allowed as unknown data");
  }
  if (auto s = validate_data_of(v); !s) return problem(s.error().code, s.error().message);
  return std::nullopt;
}

template <typename V>
Check Validator<V>::against_target(const TypeDef& target, const V& v) {
  if (++depth_ > kMaxRefDepth) {
    --depth_;
    return problem("data.limits.depth", "references nest too deeply");
  }
  Check c = value(target, v);
  --depth_;
  return c;
}

template <typename V>
Check Validator<V>::ref(const TypeDef& def, const V& v) {
  const TypeDef* target = catalog_.ref_target(def);
  // [lex.validate.ref-missing] Data can only be checked against loaded
  // defs.
  if (!target) {
    return problem("lex.validate.ref-missing", "schema \"" + def.ref + "\" is not loaded");
  }
  return against_target(*target, v);
}

template <typename V>
Check Validator<V>::union_value(const TypeDef& def, const V& v, bool type_optional,
                                std::string_view implied_type) {
  // [lex.validate.union-type] Union data is an object naming its variant in
  // `$type` (except at the top of a subscription message).
  if (!v.is_map()) return expected("an object (union variant)", v);
  const auto type = type_field(v);
  std::string_view t;
  if (type && type->is_string()) {
    t = type->as_string();
  } else if (type) {
    return at_key(problem("lex.validate.union-type", "$type must be a string"), "$type");
  } else if (type_optional && !implied_type.empty()) {
    t = implied_type;
  } else {
    return at_key(problem("lex.validate.union-type", "a union variant must have $type"), "$type");
  }
  // [lex.validate.type-main-suffix] A main def is named by its NSID alone.
  if (ends_with_main(t)) {
    return at_key(problem("lex.validate.type-main-suffix",
                          "$type names a main def with #main; use the NSID alone"),
                  "$type");
  }
  for (const auto& variant : catalog_.union_variants(def)) {
    if (variant.type != t) continue;
    if (!variant.def) {
      return problem("lex.validate.ref-missing", "schema \"" + variant.type + "\" is not loaded");
    }
    if (variant.def->type == Type::kRecord) {
      if (++depth_ > kMaxRefDepth) {
        --depth_;
        return problem("data.limits.depth", "references nest too deeply");
      }
      Check c = object(*variant.def->record, v);
      --depth_;
      return c;
    }
    return against_target(*variant.def, v);
  }
  // [lex.validate.union-closed] A closed union accepts only its listed
  // variants; an open one lets other types through unchecked.
  if (def.closed) {
    return at_key(problem("lex.validate.union-closed",
                          "\"" + std::string(t) + "\" is not a variant of this closed union"),
                  "$type");
  }
  return std::nullopt;
}

// The def an NSID names (its main def), or the def `nsid#name` names.
const TypeDef* main_def(const Catalog& catalog, std::string_view nsid) {
  if (nsid.find('#') != std::string_view::npos) return catalog.def(nsid);
  // Most NSIDs plus "#main" outgrow a short string: one buffer per thread
  // spares an allocation on every validated record.
  thread_local std::string q;
  q.assign(nsid);
  q += kMainSuffix;
  return catalog.def(q);
}

Error missing_lexicon(std::string_view nsid) {
  return make_error("lex.validate.ref-missing",
                    "$: no Lexicon loaded for \"" + std::string(nsid) + "\"");
}

Error wrong_kind(std::string_view nsid, Type type, std::string_view wanted) {
  return make_error("lex.validate.def-kind", "$: \"" + std::string(nsid) + "\" is a " +
                                                 std::string(type_name(type)) + ", not " +
                                                 std::string(wanted));
}

Result<std::string> percent_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      if (i + 2 >= in.size()) {
        return make_error("lex.validate.params-syntax", "$: truncated percent escape");
      }
      const int hi = hex_digit_value(in[i + 1]), lo = hex_digit_value(in[i + 2]);
      if (hi < 0 || lo < 0) {
        return make_error("lex.validate.params-syntax", "$: bad percent escape");
      }
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

// Reads one query parameter value as the scalar type of `def`.
Check scalar_param(const TypeDef& def, const std::string& text, Value& out) {
  if (def.type == Type::kBoolean) {
    if (text == "true") {
      out = Value(true);
    } else if (text == "false") {
      out = Value(false);
    } else {
      return problem("lex.validate.type", "expected true or false, got \"" + text + "\"");
    }
    return std::nullopt;
  }
  if (def.type == Type::kInteger) {
    std::int64_t i = 0;
    const char* first = text.data();
    const char* last = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(first, last, i);
    if (text.empty() || ec != std::errc() || ptr != last) {
      return problem("lex.validate.type", "expected an integer, got \"" + text + "\"");
    }
    out = Value(i);
    return std::nullopt;
  }
  out = Value(text);
  return std::nullopt;
}

Value default_of(const TypeDef& def) {
  if (def.bool_default) return Value(*def.bool_default);
  if (def.int_default) return Value(*def.int_default);
  if (def.string_default) return Value(*def.string_default);
  return Value();
}

}  // namespace

std::size_t count_graphemes(std::string_view s) {
  // Fast path: in ASCII text every character is its own cluster except
  // that CR LF is one.
  bool ascii = std::all_of(s.begin(), s.end(), [](char c) { return (c & 0x80) == 0; });
  if (ascii) {
    std::size_t count = s.size();
    for (std::size_t i = 0; i + 1 < s.size(); ++i) {
      if (s[i] == '\r' && s[i + 1] == '\n') --count;
    }
    return count;
  }
  std::size_t count = 0;
  utf8proc_int32_t previous = -1;
  utf8proc_int32_t state = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    utf8proc_int32_t cp = 0;
    auto n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(s.data() + i),
                              static_cast<utf8proc_ssize_t>(s.size() - i), &cp);
    if (n <= 0) {  // not UTF-8: count the byte on its own
      cp = 0xfffd;
      n = 1;
    }
    if (previous < 0 || utf8proc_grapheme_break_stateful(previous, cp, &state)) ++count;
    previous = cp;
    i += static_cast<std::size_t>(n);
  }
  return count;
}

bool mime_type_matches(std::string_view pattern, std::string_view mime_type) {
  if (pattern == "*/*") return true;
  if (pattern.size() >= 2 && pattern.substr(pattern.size() - 2) == "/*") {
    std::string_view prefix = pattern.substr(0, pattern.size() - 1);  // "image/"
    return mime_type.size() > prefix.size() && mime_type.substr(0, prefix.size()) == prefix;
  }
  return pattern == mime_type;
}

namespace {

template <typename V>
Status record_status(const Catalog& catalog, std::string_view collection, const V& record,
                     std::optional<std::string_view> rkey) {
  const TypeDef* def = main_def(catalog, collection);
  if (!def) return missing_lexicon(collection);
  if (def->type != Type::kRecord) return wrong_kind(collection, def->type, "a record");
  // [lex.validate.record-key] The record key fits the def's key type.
  if (rkey) {
    if (auto s = syntax::validate_record_key_type(*rkey, def->key); !s) return s;
  }
  Validator<V> v(catalog);
  return to_status(v.record(*def, record, collection));
}

template <typename V>
Status record_status(const Catalog& catalog, const V& record) {
  if (!record.is_map()) return to_status(expected("a record object", record));
  const auto type = type_field(record);
  if (!type || !type->is_string()) {
    return make_error("lex.validate.record-type", "$.$type: a record must have a $type string");
  }
  if (ends_with_main(type->as_string())) {
    return make_error("lex.validate.type-main-suffix",
                      "$.$type: names a main def with #main; use the NSID alone");
  }
  return record_status(catalog, type->as_string(), record, std::nullopt);
}

}  // namespace

Status validate_record(const Catalog& catalog, std::string_view collection,
                       const data::Value& record, std::optional<std::string_view> rkey) {
  return record_status(catalog, collection, record, rkey);
}

Status validate_record(const Catalog& catalog, const data::Value& record) {
  return record_status(catalog, record);
}

Status validate_record(const Catalog& catalog, std::string_view collection,
                       const data::ValueView& record, std::optional<std::string_view> rkey) {
  return record_status(catalog, collection, record, rkey);
}

Status validate_record(const Catalog& catalog, const data::ValueView& record) {
  return record_status(catalog, record);
}

Status validate_def(const Catalog& catalog, std::string_view ref, const data::Value& value) {
  const TypeDef* def = catalog.find(ref, "");
  if (!def) return missing_lexicon(ref);
  Validator<Value> v(catalog);
  return to_status(v.value(*def, value));
}

Result<QueryPairs> parse_query_string(std::string_view query) {
  QueryPairs pairs;
  if (!query.empty() && query.front() == '?') query.remove_prefix(1);
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (part.empty()) continue;
    auto eq = part.find('=');
    auto name = percent_decode(part.substr(0, eq));
    if (!name) return name.error();
    auto text = percent_decode(eq == std::string_view::npos ? "" : part.substr(eq + 1));
    if (!text) return text.error();
    // [lex.validate.params-syntax] Parameter names and values are UTF-8
    // text once percent-decoded.
    if (!utf8::is_valid(name.value()) || !utf8::is_valid(text.value())) {
      return make_error("lex.validate.params-syntax", "$: parameter text is not UTF-8");
    }
    pairs.emplace_back(std::move(name).value(), std::move(text).value());
  }
  return pairs;
}

Result<data::Map> validate_params(const Catalog& catalog, std::string_view nsid,
                                  const QueryPairs& pairs) {
  const TypeDef* def = main_def(catalog, nsid);
  if (!def) return missing_lexicon(nsid);
  if (def->type != Type::kQuery && def->type != Type::kProcedure &&
      def->type != Type::kSubscription) {
    return wrong_kind(nsid, def->type, "a query, procedure or subscription");
  }
  data::Map out;
  if (!def->parameters) return out;
  const TypeDef& params = *def->parameters;
  Validator<Value> v(catalog);
  for (const auto& prop : params.properties) {
    const TypeDef& schema = *prop.schema;
    std::vector<const std::string*> texts;
    for (const auto& [name, text] : pairs) {
      if (name == prop.name) texts.push_back(&text);
    }
    if (texts.empty()) {
      Value d = default_of(schema);
      if (!d.is_null()) {
        out.emplace(prop.name, std::move(d));
      } else if (params.is_required(prop.name)) {
        return to_status(at_key(problem("lex.validate.required", "required parameter is missing"),
                                prop.name))
            .error();
      }
      continue;
    }
    Value parsed;
    if (schema.type == Type::kArray) {
      data::Array items;
      for (std::size_t i = 0; i < texts.size(); ++i) {
        Value item;
        if (auto c = scalar_param(*schema.items, *texts[i], item)) {
          return to_status(at_key(at_index(std::move(c), i), prop.name)).error();
        }
        items.push_back(std::move(item));
      }
      parsed = Value(std::move(items));
    } else {
      if (texts.size() > 1) {
        return to_status(at_key(problem("lex.validate.params-syntax",
                                        "a single-valued parameter is given more than once"),
                                prop.name))
            .error();
      }
      if (auto c = scalar_param(schema, *texts[0], parsed)) {
        return to_status(at_key(std::move(c), prop.name)).error();
      }
    }
    if (auto c = v.value(schema, parsed)) return to_status(at_key(std::move(c), prop.name)).error();
    out.emplace(prop.name, std::move(parsed));
  }
  return out;
}

Result<data::Map> validate_params(const Catalog& catalog, std::string_view nsid,
                                  std::string_view query_string) {
  auto pairs = parse_query_string(query_string);
  if (!pairs) return pairs.error();
  return validate_params(catalog, nsid, pairs.value());
}

namespace {

Status validate_body(const Catalog& catalog, std::string_view nsid, const data::Value& body,
                     bool input) {
  const TypeDef* def = main_def(catalog, nsid);
  if (!def) return missing_lexicon(nsid);
  if (def->type != Type::kProcedure && (input || def->type != Type::kQuery)) {
    return wrong_kind(nsid, def->type, input ? "a procedure" : "a query or procedure");
  }
  const std::optional<Body>& b = input ? def->input : def->output;
  if (!b || !b->schema) return {};
  Validator<Value> v(catalog);
  return to_status(v.value(*b->schema, body));
}

}  // namespace

Status validate_input(const Catalog& catalog, std::string_view nsid, const data::Value& body) {
  return validate_body(catalog, nsid, body, true);
}

Status validate_output(const Catalog& catalog, std::string_view nsid, const data::Value& body) {
  return validate_body(catalog, nsid, body, false);
}

Status validate_message(const Catalog& catalog, std::string_view nsid,
                        std::string_view message_type, const data::Value& message) {
  const TypeDef* def = main_def(catalog, nsid);
  if (!def) return missing_lexicon(nsid);
  if (def->type != Type::kSubscription) return wrong_kind(nsid, def->type, "a subscription");
  std::string implied;
  if (!message_type.empty()) {
    auto q = qualify_ref(message_type, nsid);
    if (!q) return make_error("lex.validate.union-type", "$: bad message type");
    implied = q.value();
    if (ends_with_main(implied)) implied.resize(implied.size() - kMainSuffix.size());
  }
  Validator<Value> v(catalog);
  return to_status(v.union_value(*def->message->schema, message, true, implied));
}

}  // namespace atproto::lexicon

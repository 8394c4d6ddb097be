// RapidCheck generators for Lexicon tests: data that is valid against a
// def, and records that break exactly one constraint. Used by the layer's
// property tests and by the conformance runner's lexicon suite.
#pragma once

#include <rapidcheck.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "atproto/data/cid.hpp"
#include "atproto/data/value.hpp"
#include "atproto/lexicon/catalog.hpp"
#include "atproto/lexicon/schema.hpp"

namespace atproto::lexicon::generators {

inline const data::Cid& sample_cid() {
  static const data::Cid cid =
      *data::Cid::parse("bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a");
  return cid;
}

inline const data::Cid& sample_blob_cid() {
  static const data::Cid cid =
      *data::Cid::parse("bafkreibjfgx2gprinfvicegelk5kosd6y2frmqpqzwqkg7usac74l3t2v4");
  return cid;
}

// A valid sample of each string format.
inline std::string format_sample(syntax::StringFormat f, int pick) {
  static const std::vector<std::vector<std::string>> samples = {
      {"alice.example.com", "did:plc:ewvi7nxzyoun6zhxrhs64oiz"},                   // at-id
      {"at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3jzfcijpj2z2a"},  // at-uri
      {"bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a"},             // cid
      {"2024-01-01T00:00:00.000Z", "1985-04-12T23:20:50.123+01:00"},               // datetime
      {"did:plc:ewvi7nxzyoun6zhxrhs64oiz", "did:web:example.com"},                 // did
      {"alice.example.com", "a.b.c"},                                              // handle
      {"com.example.thing", "app.bsky.feed.post"},                                 // nsid
      {"3jzfcijpj2z2a"},                                                           // tid
      {"self", "3jzfcijpj2z2a"},                                                   // rkey
      {"https://example.com/a?b=c", "at://did:plc:abc"},                           // uri
      {"en", "pt-BR"},                                                             // language
  };
  const auto& list = samples.at(static_cast<std::size_t>(f));
  return list[static_cast<std::size_t>(pick) % list.size()];
}

// A MIME type accepted by the blob def.
inline std::string accepted_mime(const TypeDef& def) {
  if (!def.accept || def.accept->empty()) return "application/octet-stream";
  const std::string& p = def.accept->front();
  if (p == "*/*") return "application/octet-stream";
  if (p.size() >= 2 && p.substr(p.size() - 2) == "/*") return p.substr(0, p.size() - 1) + "x-test";
  return p;
}

inline std::int64_t clamp_size(std::optional<std::int64_t> min, std::optional<std::int64_t> max,
                               std::int64_t wanted) {
  std::int64_t lo = min.value_or(0);
  std::int64_t hi = max.value_or(lo + 4);
  return std::clamp(wanted, lo, std::max(lo, hi));
}

// A generator of values valid against `def`; `depth` bounds nesting.
inline rc::Gen<data::Value> valid_value(const Catalog& catalog, const TypeDef& def, int depth);

inline rc::Gen<data::Value> valid_object(const Catalog& catalog, const TypeDef& def, int depth,
                                         std::string type_field) {
  return rc::gen::exec([&catalog, &def, depth, type_field] {
    data::Map m;
    if (!type_field.empty()) m.emplace("$type", type_field);
    for (const auto& p : def.properties) {
      bool required = def.is_required(p.name);
      if (!required && (depth <= 0 || *rc::gen::inRange(0, 3) == 0)) continue;
      if (def.is_nullable(p.name) && *rc::gen::inRange(0, 4) == 0) {
        m.emplace(p.name, nullptr);
        continue;
      }
      m.emplace(p.name, *valid_value(catalog, *p.schema, depth - 1));
    }
    return data::Value(std::move(m));
  });
}

inline rc::Gen<data::Value> valid_value(const Catalog& catalog, const TypeDef& def, int depth) {
  switch (def.type) {
    case Type::kNull:
      return rc::gen::just(data::Value());
    case Type::kBoolean:
      if (def.bool_const) return rc::gen::just(data::Value(*def.bool_const));
      return rc::gen::map(rc::gen::arbitrary<bool>(), [](bool b) { return data::Value(b); });
    case Type::kInteger: {
      if (def.int_const) return rc::gen::just(data::Value(*def.int_const));
      if (def.int_enum && !def.int_enum->empty()) {
        return rc::gen::map(rc::gen::elementOf(*def.int_enum),
                            [](std::int64_t i) { return data::Value(i); });
      }
      std::int64_t lo = def.minimum.value_or(-1000);
      std::int64_t hi = def.maximum.value_or(std::max<std::int64_t>(lo, 0) + 1000);
      return rc::gen::map(rc::gen::inRange<std::int64_t>(
                              lo, hi == std::numeric_limits<std::int64_t>::max() ? hi : hi + 1),
                          [](std::int64_t i) { return data::Value(i); });
    }
    case Type::kString: {
      if (def.string_const) return rc::gen::just(data::Value(*def.string_const));
      if (def.string_enum && !def.string_enum->empty()) {
        return rc::gen::map(rc::gen::elementOf(*def.string_enum),
                            [](const std::string& s) { return data::Value(s); });
      }
      if (def.format) {
        auto f = *def.format;
        return rc::gen::map(rc::gen::inRange(0, 4),
                            [f](int pick) { return data::Value(format_sample(f, pick)); });
      }
      // Plain text mixing ASCII and multi-byte clusters, within every limit.
      std::int64_t max_bytes = def.max_length.value_or(64);
      std::int64_t max_g = def.max_graphemes.value_or(64);
      std::int64_t min_bytes = def.min_length.value_or(0);
      std::int64_t min_g = def.min_graphemes.value_or(0);
      return rc::gen::exec([=] {
        static const std::vector<std::string> pieces = {
            "a",       "Z",          "7",
            " ",       "\u00e9",     "\u4e2d",
            "e\u0301", "\U0001F600", "\U0001F1EB\U0001F1F7"};
        std::string s;
        std::int64_t graphemes = 0;
        auto target = *rc::gen::inRange<std::int64_t>(0, std::min<std::int64_t>(max_g, 20) + 1);
        target = std::max(target, min_g);
        while (graphemes < target) {
          std::string piece = *rc::gen::elementOf(pieces);
          if (static_cast<std::int64_t>(s.size() + piece.size()) > max_bytes) piece = "a";
          if (static_cast<std::int64_t>(s.size() + piece.size()) > max_bytes) break;
          s += piece;
          ++graphemes;
        }
        while (static_cast<std::int64_t>(s.size()) < min_bytes && graphemes < max_g) {
          s += "a";
          ++graphemes;
        }
        return data::Value(s);
      });
    }
    case Type::kBytes:
      return rc::gen::map(rc::gen::inRange<std::int64_t>(0, 8), [&def](std::int64_t n) {
        auto size = clamp_size(def.min_length, def.max_length, n);
        return data::Value(data::Bytes(static_cast<std::size_t>(size), 0xab));
      });
    case Type::kCidLink:
      return rc::gen::just(data::Value(sample_cid()));
    case Type::kBlob:
      return rc::gen::map(rc::gen::inRange<std::int64_t>(1, 1'000'000), [&def](std::int64_t n) {
        std::int64_t size = def.max_size ? std::max<std::int64_t>(1, n % (*def.max_size + 1)) : n;
        return data::Value(data::Map{{"$type", "blob"},
                                     {"ref", sample_blob_cid()},
                                     {"mimeType", accepted_mime(def)},
                                     {"size", size}});
      });
    case Type::kArray:
      return rc::gen::exec([&catalog, &def, depth] {
        auto n = clamp_size(def.min_length, def.max_length,
                            depth <= 0 ? 0 : *rc::gen::inRange<std::int64_t>(0, 4));
        data::Array a;
        for (std::int64_t i = 0; i < n; ++i)
          a.push_back(*valid_value(catalog, *def.items, depth - 1));
        return data::Value(std::move(a));
      });
    case Type::kObject:
    case Type::kParams:
      return valid_object(catalog, def, depth, "");
    case Type::kRecord:
      return valid_object(catalog, *def.record, depth, def.lexicon_id);
    case Type::kRef: {
      const TypeDef* target = catalog.ref_target(def);
      if (!target) return rc::gen::just(data::Value(data::Map{}));
      return valid_value(catalog, *target, depth);
    }
    case Type::kUnion: {
      const auto& variants = catalog.union_variants(def);
      if (variants.empty()) {
        return rc::gen::just(data::Value(data::Map{{"$type", "com.example.anything"}}));
      }
      return rc::gen::exec([&catalog, &variants, depth] {
        const UnionVariant& v = *rc::gen::elementOf(variants);
        const TypeDef& object = v.def->type == Type::kRecord ? *v.def->record : *v.def;
        return *valid_object(catalog, object, depth - 1, v.type);
      });
    }
    case Type::kUnknown:
      return rc::gen::map(rc::gen::inRange(0, 100), [](int i) {
        return data::Value(data::Map{{"n", i}, {"nested", data::Map{{"link", sample_cid()}}}});
      });
    default:
      return rc::gen::just(data::Value());
  }
}

// A record of collection `nsid` (a record def in the catalog).
inline rc::Gen<data::Value> valid_record(const Catalog& catalog, const std::string& nsid,
                                         int depth = 3) {
  const TypeDef* def = catalog.def(nsid + "#main");
  return valid_value(catalog, *def, depth);
}

// A record broken in exactly one place: where (path as the validator writes
// it) and the rule codes that may be reported for it.
struct Violation {
  data::Value record;
  std::string path;
  std::vector<std::string> codes;
  std::string what;
};

// The ways one top-level field of a record def can be broken.
inline std::vector<Violation> violations_of(const Catalog& catalog, const TypeDef& record_def,
                                            const data::Value& valid) {
  std::vector<Violation> out;
  const TypeDef& obj = *record_def.record;
  auto with = [&](const std::string& name, std::optional<data::Value> v) {
    data::Value r = valid;
    if (v) {
      r.as_map()[name] = std::move(*v);
    } else {
      r.as_map().erase(name);
    }
    return r;
  };
  auto add = [&](const std::string& name, std::optional<data::Value> v, std::string suffix,
                 std::vector<std::string> codes, std::string what) {
    out.push_back(Violation{with(name, std::move(v)), "$." + name + suffix, std::move(codes),
                            std::move(what)});
  };
  for (const auto& p : obj.properties) {
    const TypeDef* def = p.schema.get();
    if (def->type == Type::kRef) {
      const TypeDef* target = catalog.ref_target(*def);
      if (!target || target->type == Type::kObject || target->type == Type::kRecord) {
        add(p.name, data::Value(1), "", {"lex.validate.type"}, "a ref to an object gets 1");
        continue;
      }
      def = target;
    }
    bool has_default = def->bool_default || def->int_default || def->string_default;
    if (obj.is_required(p.name) && !has_default) {
      add(p.name, std::nullopt, "", {"lex.validate.required"}, "required field removed");
    }
    if (!obj.is_nullable(p.name) && def->type != Type::kNull) {
      add(p.name, data::Value(), "", {"lex.validate.nullable"}, "null in a non-nullable field");
    }
    switch (def->type) {
      case Type::kNull:
        add(p.name, data::Value(0), "", {"lex.validate.type"}, "0 for null");
        break;
      case Type::kBoolean:
        add(p.name, data::Value("true"), "", {"lex.validate.type"}, "a string for a boolean");
        if (def->bool_const) {
          add(p.name, data::Value(!*def->bool_const), "", {"lex.validate.const"}, "not the const");
        }
        break;
      case Type::kInteger:
        add(p.name, data::Value("1"), "", {"lex.validate.type"}, "a string for an integer");
        if (def->int_const) {
          add(p.name, data::Value(*def->int_const + 1), "", {"lex.validate.const"},
              "not the const");
        } else if (def->int_enum && !def->int_enum->empty()) {
          std::int64_t v = *std::max_element(def->int_enum->begin(), def->int_enum->end()) + 1;
          add(p.name, data::Value(v), "", {"lex.validate.enum", "lex.validate.integer-range"},
              "not in the enum");
        } else {
          if (def->maximum) {
            add(p.name, data::Value(*def->maximum + 1), "", {"lex.validate.integer-range"},
                "maximum + 1");
          }
          if (def->minimum) {
            add(p.name, data::Value(*def->minimum - 1), "", {"lex.validate.integer-range"},
                "minimum - 1");
          }
        }
        break;
      case Type::kString:
        add(p.name, data::Value(1), "", {"lex.validate.type"}, "an integer for a string");
        if (def->string_const) {
          add(p.name, data::Value(*def->string_const + "x"), "", {"lex.validate.const"},
              "not the const");
        } else if (def->string_enum) {
          add(p.name, data::Value("zz-not-listed"), "", {"lex.validate.enum"}, "not in the enum");
        } else if (def->format) {
          add(p.name, data::Value("not valid!"), "", {"lex.validate.string-format"},
              "not the format");
        } else {
          if (def->max_length) {
            auto n = static_cast<std::size_t>(*def->max_length + 1);
            add(p.name, data::Value(std::string(n, 'a')), "",
                {"lex.validate.string-length", "lex.validate.string-graphemes"},
                "maxLength + 1 bytes");
          }
          if (def->max_graphemes) {
            // Each flag is one grapheme of 8 bytes: past maxGraphemes, and
            // past maxLength too when that is smaller.
            std::string s;
            for (std::int64_t i = 0; i <= *def->max_graphemes; ++i) s += "\U0001F1EB\U0001F1F7";
            add(p.name, data::Value(s), "",
                {"lex.validate.string-graphemes", "lex.validate.string-length"},
                "maxGraphemes + 1 flags");
          }
          if (def->min_length && *def->min_length > 0) {
            add(p.name,
                data::Value(std::string(static_cast<std::size_t>(*def->min_length - 1), 'a')), "",
                {"lex.validate.string-length", "lex.validate.string-graphemes"},
                "minLength - 1 bytes");
          }
        }
        break;
      case Type::kBytes:
        add(p.name, data::Value("AAAA"), "", {"lex.validate.type"}, "a string for bytes");
        if (def->max_length) {
          add(p.name, data::Value(data::Bytes(static_cast<std::size_t>(*def->max_length + 1))), "",
              {"lex.validate.bytes-length"}, "maxLength + 1 bytes");
        }
        if (def->min_length && *def->min_length > 0) {
          add(p.name, data::Value(data::Bytes(static_cast<std::size_t>(*def->min_length - 1))), "",
              {"lex.validate.bytes-length"}, "minLength - 1 bytes");
        }
        break;
      case Type::kCidLink:
        add(p.name, data::Value(sample_cid().to_string()), "", {"lex.validate.type"},
            "a CID string for a cid-link");
        break;
      case Type::kBlob: {
        add(p.name, data::Value("blob"), "", {"lex.validate.type"}, "a string for a blob");
        auto blob = [&](std::string mime, std::int64_t size) {
          return data::Value(data::Map{{"$type", "blob"},
                                       {"ref", sample_blob_cid()},
                                       {"mimeType", std::move(mime)},
                                       {"size", size}});
        };
        bool any = !def->accept ||
                   std::find(def->accept->begin(), def->accept->end(), "*/*") != def->accept->end();
        if (!any) {
          add(p.name, blob("zz/not-accepted", 1), "", {"lex.validate.blob-accept"},
              "a MIME type outside accept");
        }
        if (def->max_size) {
          add(p.name, blob(accepted_mime(*def), *def->max_size + 1), "", {"lex.validate.blob-size"},
              "maxSize + 1");
        }
        break;
      }
      case Type::kArray:
        add(p.name, data::Value("x"), "", {"lex.validate.type"}, "a string for an array");
        if (def->items->type != Type::kUnknown && def->items->type != Type::kString) {
          add(p.name, data::Value(data::Array{data::Value("x")}), "[0]", {"lex.validate.type"},
              "a string as the first element");
        } else if (def->items->type == Type::kString) {
          add(p.name, data::Value(data::Array{data::Value(1)}), "[0]", {"lex.validate.type"},
              "an integer as the first element");
        }
        if (def->max_length) {
          data::Array a;
          for (std::int64_t i = 0; i <= *def->max_length; ++i) {
            a.push_back(valid_value(catalog, *def->items, 0)(rc::Random(7), 0).value());
          }
          add(p.name, data::Value(std::move(a)), "", {"lex.validate.array-length"},
              "maxLength + 1 elements");
        }
        if (def->min_length && *def->min_length > 0) {
          data::Array a;
          for (std::int64_t i = 0; i + 1 < *def->min_length; ++i) {
            a.push_back(valid_value(catalog, *def->items, 0)(rc::Random(7), 0).value());
          }
          add(p.name, data::Value(std::move(a)), "", {"lex.validate.array-length"},
              "minLength - 1 elements");
        }
        break;
      case Type::kObject:
        add(p.name, data::Value(1), "", {"lex.validate.type"}, "1 for an object");
        break;
      case Type::kUnion:
        add(p.name, data::Value("x"), "", {"lex.validate.type"}, "a string for a union");
        add(p.name, data::Value(data::Map{{"x", 1}}), ".$type", {"lex.validate.union-type"},
            "a union variant without $type");
        if (def->closed) {
          add(p.name, data::Value(data::Map{{"$type", "com.example.unlisted"}}), ".$type",
              {"lex.validate.union-closed"}, "an unlisted variant in a closed union");
        }
        break;
      case Type::kUnknown:
        add(p.name, data::Value("x"), "", {"lex.validate.unknown-object"}, "a string for unknown");
        break;
      default:
        break;
    }
  }
  return out;
}

}  // namespace atproto::lexicon::generators

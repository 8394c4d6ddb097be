// Fuzz target: records validated against a fixed catalog of example
// Lexicons (the same ones as vectors/lexicon/record.json: every field type
// and constraint). The input is JSON text read as a data model value; the
// same bytes are also tried as XRPC query-string text.
// Spec: https://atproto.com/specs/lexicon
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <nlohmann/json.hpp>

#include "atproto/data/cbor.hpp"
#include "atproto/data/cbor_view.hpp"
#include "atproto/data/json.hpp"
#include "atproto/lexicon/catalog.hpp"
#include "atproto/lexicon/validate.hpp"
#include "fuzz_check.hpp"

namespace data = atproto::data;
namespace lexicon = atproto::lexicon;

namespace {

// Our own example Lexicons (tools/gen-lexicon-vectors.py writes the same
// documents into vectors/lexicon/record.json).
constexpr std::string_view kExampleLexicons = R"lex(
[
 {
  "lexicon": 1,
  "id": "com.example.kitchen",
  "defs": {
   "main": {
    "type": "record",
    "key": "tid",
    "record": {
     "type": "object",
     "properties": {
      "text": {
       "type": "string",
       "minLength": 1,
       "maxLength": 30,
       "maxGraphemes": 10
      },
      "count": {
       "type": "integer",
       "minimum": 0,
       "maximum": 100
      },
      "level": {
       "type": "integer",
       "enum": [
        1,
        2,
        3
       ]
      },
      "version": {
       "type": "integer",
       "const": 2
      },
      "mode": {
       "type": "string",
       "enum": [
        "light",
        "dark"
       ]
      },
      "kind": {
       "type": "string",
       "knownValues": [
        "com.example.kitchen#tokenA"
       ]
      },
      "fixed": {
       "type": "string",
       "const": "fixed"
      },
      "enabled": {
       "type": "boolean"
      },
      "locked": {
       "type": "boolean",
       "const": false
      },
      "rating": {
       "type": "integer",
       "default": 3,
       "minimum": 1,
       "maximum": 5
      },
      "note": {
       "type": "string"
      },
      "nothing": {
       "type": "null"
      },
      "createdAt": {
       "type": "string",
       "format": "datetime"
      },
      "author": {
       "type": "string",
       "format": "did"
      },
      "handle": {
       "type": "string",
       "format": "handle"
      },
      "subject": {
       "type": "string",
       "format": "at-uri"
      },
      "site": {
       "type": "string",
       "format": "uri"
      },
      "lang": {
       "type": "string",
       "format": "language"
      },
      "collection": {
       "type": "string",
       "format": "nsid"
      },
      "rev": {
       "type": "string",
       "format": "tid"
      },
      "rkey": {
       "type": "string",
       "format": "record-key"
      },
      "cidString": {
       "type": "string",
       "format": "cid"
      },
      "actor": {
       "type": "string",
       "format": "at-identifier"
      },
      "digest": {
       "type": "bytes",
       "minLength": 2,
       "maxLength": 4
      },
      "link": {
       "type": "cid-link"
      },
      "tags": {
       "type": "array",
       "items": {
        "type": "string",
        "maxLength": 5
       },
       "minLength": 1,
       "maxLength": 3
      },
      "matrix": {
       "type": "array",
       "items": {
        "type": "array",
        "items": {
         "type": "integer"
        }
       }
      },
      "image": {
       "type": "blob",
       "accept": [
        "image/*"
       ],
       "maxSize": 1000
      },
      "video": {
       "type": "blob",
       "accept": [
        "video/mp4"
       ]
      },
      "file": {
       "type": "blob"
      },
      "meta": {
       "type": "unknown"
      },
      "embed": {
       "type": "ref",
       "ref": "#embed"
      },
      "alias": {
       "type": "ref",
       "ref": "#shortString"
      },
      "item": {
       "type": "union",
       "refs": [
        "#embed",
        "com.example.other#thing",
        "com.example.other"
       ]
      },
      "choice": {
       "type": "union",
       "refs": [
        "#embed"
       ],
       "closed": true
      },
      "anything": {
       "type": "union",
       "refs": []
      },
      "items": {
       "type": "array",
       "items": {
        "type": "union",
        "refs": [
         "#embed",
         "com.example.other#thing"
        ]
       }
      }
     },
     "required": [
      "text",
      "createdAt"
     ],
     "nullable": [
      "note"
     ]
    }
   },
   "embed": {
    "type": "object",
    "required": [
     "uri"
    ],
    "properties": {
     "uri": {
      "type": "string",
      "format": "uri"
     },
     "title": {
      "type": "string",
      "maxLength": 10
     }
    }
   },
   "shortString": {
    "type": "string",
    "maxLength": 3
   },
   "tokenA": {
    "type": "token",
    "description": "A known value."
   }
  }
 },
 {
  "lexicon": 1,
  "id": "com.example.other",
  "defs": {
   "main": {
    "type": "record",
    "key": "literal:self",
    "record": {
     "type": "object",
     "properties": {
      "ok": {
       "type": "boolean"
      }
     },
     "required": [
      "ok"
     ]
    }
   },
   "thing": {
    "type": "object",
    "required": [
     "n"
    ],
    "properties": {
     "n": {
      "type": "integer"
     }
    }
   }
  }
 }
]
)lex";

constexpr std::string_view kQueryLexicon = R"lex(
{
 "lexicon": 1,
 "id": "com.example.search",
 "defs": {
  "main": {
   "type": "query",
   "parameters": {
    "type": "params",
    "required": [
     "q"
    ],
    "properties": {
     "q": {
      "type": "string",
      "minLength": 1,
      "maxLength": 20
     },
     "limit": {
      "type": "integer",
      "minimum": 1,
      "maximum": 100,
      "default": 25
     },
     "sort": {
      "type": "string",
      "enum": [
       "top",
       "latest"
      ]
     },
     "reverse": {
      "type": "boolean"
     },
     "actor": {
      "type": "string",
      "format": "at-identifier"
     },
     "since": {
      "type": "string",
      "format": "datetime"
     },
     "tags": {
      "type": "array",
      "items": {
       "type": "string",
       "maxLength": 4
      },
      "maxLength": 3
     },
     "ids": {
      "type": "array",
      "items": {
       "type": "integer",
       "minimum": 0
      }
     }
    }
   },
   "output": {
    "encoding": "application/json",
    "schema": {
     "type": "object",
     "properties": {}
    }
   }
  }
 }
}
)lex";

const lexicon::Catalog& catalog() {
  static const lexicon::Catalog c = [] {
    lexicon::Catalog out;
    for (const auto& d : nlohmann::json::parse(kExampleLexicons)) {
      if (!out.add_json(d)) std::abort();
    }
    if (!out.add_json(nlohmann::json::parse(kQueryLexicon))) std::abort();
    if (!out.check_references()) std::abort();
    return out;
  }();
  return c;
}

// Every rejection names a rule of the lexicon, data or record-key pages and
// starts with the path of the offending value.
bool well_formed_error(const atproto::Status& s) {
  if (s.ok()) return true;
  bool family = fuzz::error_in_family(s, "lex.validate.") || fuzz::error_in_family(s, "data.") ||
                fuzz::error_in_family(s, "rkey.");
  return family && fuzz::starts_with(s.error().message, "$");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  std::string_view in = fuzz::begin_input(bytes, size);

  // As query-string text for com.example.search.
  auto params = lexicon::validate_params(catalog(), "com.example.search", in);
  FUZZ_CHECK(params.ok() || well_formed_error(params.error()));
  if (params.ok()) {
    // [lex.validate.required] A passing parameter set holds the required q.
    FUZZ_CHECK(params->count("q") == 1);
  }

  nlohmann::json j = nlohmann::json::parse(in.begin(), in.end(), nullptr, false);
  if (j.is_discarded()) return 0;
  auto value = data::from_json(j);
  if (!value) return 0;
  const data::Value& v = *value;

  auto verdict = lexicon::validate_record(catalog(), v);
  FUZZ_CHECK(well_formed_error(verdict));
  // Deterministic, and the same through the collection-taking entry point.
  auto again = lexicon::validate_record(catalog(), v);
  FUZZ_CHECK(again.ok() == verdict.ok());
  FUZZ_CHECK(verdict.ok() || again.error() == verdict.error());
  auto kitchen = lexicon::validate_record(catalog(), "com.example.kitchen", v);
  FUZZ_CHECK(well_formed_error(kitchen));
  const data::Value* type = v.is_map() ? v.find("$type") : nullptr;
  if (type && type->is_string() && type->as_string() == "com.example.kitchen") {
    FUZZ_CHECK(kitchen.ok() == verdict.ok());
  }
  // [lex.validate.type] CBOR and JSON take the same path: the record read
  // back from its CBOR bytes gets the same verdict.
  auto cbor = data::encode_cbor(v);
  FUZZ_CHECK(cbor.ok());
  auto decoded = data::decode_cbor(*cbor);
  FUZZ_CHECK(decoded.ok());
  auto via_cbor = lexicon::validate_record(catalog(), *decoded);
  FUZZ_CHECK(via_cbor.ok() == verdict.ok());
  // The view of those bytes (data/cbor_view.hpp) gets the same verdict and
  // error, through both entry points.
  data::CborTape tape;
  FUZZ_CHECK(data::decode_cbor_view(*cbor, tape).ok());
  auto via_view = lexicon::validate_record(catalog(), tape.root());
  FUZZ_CHECK(via_view.ok() == via_cbor.ok());
  FUZZ_CHECK(via_view.ok() || via_view.error() == via_cbor.error());
  auto kitchen_view = lexicon::validate_record(catalog(), "com.example.kitchen", tape.root());
  auto kitchen_cbor = lexicon::validate_record(catalog(), "com.example.kitchen", *decoded);
  FUZZ_CHECK(kitchen_view.ok() == kitchen_cbor.ok());
  FUZZ_CHECK(kitchen_view.ok() || kitchen_view.error() == kitchen_cbor.error());
  // Any value validated against every def of the catalog: no crash, and
  // well-formed errors.
  for (const char* ref : {"com.example.kitchen#embed", "com.example.kitchen#shortString",
                          "com.example.other#thing", "com.example.other"}) {
    FUZZ_CHECK(well_formed_error(lexicon::validate_def(catalog(), ref, v)));
  }
  return 0;
}

#!/usr/bin/python3
"""Writes vectors/lexicon/*.json, the shared test vectors for Lexicon schemas and validation.

schema.json     Lexicon documents in, valid or the rule a bad one breaks (lex.schema.*).
record.json     example Lexicons (every field type and constraint) and records against them.
graphemes.json  strings at and past maxGraphemes / maxLength: emoji ZWJ sequences, flags,
                combining marks, skin tones.
params.json     XRPC query parameters, as query-string text, against a query's params.

Every case is written here by hand from the spec's rules, independently of the C++
reference, which then checks them in reference/lexicon/vectors_test.cpp. UTF-8 byte
lengths are computed with Python; grapheme counts are stated by hand next to each
string (Unicode UAX #29 extended grapheme clusters). Case ids are stable: never rename
or reuse one, add new cases with new ids instead.

Usage: tools/gen-lexicon-vectors.py            (rewrites vectors/lexicon/)
       tools/gen-lexicon-vectors.py --check    (exit 1 if the files are stale)
"""

import copy
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vectorgen  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "vectors", "lexicon")
SPEC = "https://atproto.com/specs/lexicon"

BLOB_CID = "bafkreibjfgx2gprinfvicegelk5kosd6y2frmqpqzwqkg7usac74l3t2v4"
DATA_CID = "bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a"


class VectorFile(vectorgen.VectorFile):
    def __init__(self, name, operation, description, spec, lexicons=None):
        super().__init__("lexicon", name, operation, description, spec,
                         trailer=None if lexicons is None else {"lexicons": lexicons})

    def add(self, slug, valid, requirements, comment, error=None, path=None, **fields):
        verdict = "valid" if valid else "invalid"
        case = {"id": f"lex.{self.operation}.{verdict}.{slug}"}
        reqs = []
        for r in ([error] if error else []) + list(requirements):
            if r not in reqs:
                reqs.append(r)
        case["requirements"] = reqs
        case.update(fields)
        case["valid"] = valid
        if error:
            case["error"] = error
        if path is not None:
            case["path"] = path
        case["comment"] = comment
        self.add_case(case)


def doc(nsid, defs):
    return {"lexicon": 1, "id": nsid, "defs": defs}


def record_def(properties, required=(), nullable=(), key="tid"):
    obj = {"type": "object", "properties": properties}
    if required:
        obj["required"] = list(required)
    if nullable:
        obj["nullable"] = list(nullable)
    return {"type": "record", "key": key, "record": obj}


# --------------------------------------------------------------------------
# schema.json: documents

schema = VectorFile(
    "schema", "validate-schema",
    "Lexicon schema documents: valid ones, and ones breaking exactly one rule of the "
    "document format or of a type's fields. The error is the rule broken; path is the "
    "JSON path (dotted, [i] for array elements) of the offending part.",
    [SPEC + "#lexicon-files", SPEC + "#primary-type-definitions",
     SPEC + "#field-type-definitions", SPEC + "#string-formats"])

NSID = "com.example.schema"


def sv(slug, defs, reqs, comment, **top):
    d = doc(NSID, defs)
    d.update(top)
    schema.add(slug, True, reqs, comment, lexicon=d)


def si(slug, defs, error, path, comment, raw=None):
    d = raw if raw is not None else doc(NSID, defs)
    schema.add(slug, False, [], comment, error=error, path=path, lexicon=d)


def field_doc(field):
    """A record document whose object has one property `f`."""
    return {"main": record_def({"f": field})}


STRING = {"type": "string"}

sv("token-only", {"flag": {"type": "token", "description": "A token."}}, ["lex.schema.defs"],
   "A document holding just a token def.")
sv("every-field-type", {
    "main": record_def({
        "n": {"type": "null"},
        "b": {"type": "boolean", "default": True},
        "i": {"type": "integer", "minimum": -5, "maximum": 5, "enum": [-5, 0, 5], "default": 0},
        "s": {"type": "string", "format": "did", "minLength": 1, "maxLength": 100,
              "minGraphemes": 1, "maxGraphemes": 50, "knownValues": ["did:web:a.com"]},
        "e": {"type": "string", "enum": ["a", "b"], "const": "a"},
        "by": {"type": "bytes", "minLength": 1, "maxLength": 8},
        "c": {"type": "cid-link"},
        "bl": {"type": "blob", "accept": ["image/*", "video/mp4", "*/*"], "maxSize": 1000000},
        "a": {"type": "array", "items": {"type": "integer"}, "minLength": 0, "maxLength": 3},
        "o": {"type": "object", "properties": {}},
        "r": {"type": "ref", "ref": "#view"},
        "u": {"type": "union", "refs": ["#view", "com.example.other#thing"], "closed": True},
        "x": {"type": "unknown"},
    }, required=["b"], nullable=["s"]),
    "view": {"type": "object", "properties": {"a": STRING}},
    "alias": {"type": "string", "maxLength": 10},
}, ["lex.schema.type-known", "lex.schema.field-type"], "One record using every field type with its constraints.")
sv("query", {"main": {
    "type": "query",
    "parameters": {"type": "params", "required": ["q"], "properties": {
        "q": STRING, "limit": {"type": "integer", "default": 10},
        "all": {"type": "boolean"}, "tags": {"type": "array", "items": STRING}}},
    "output": {"encoding": "application/json", "schema": {"type": "ref", "ref": "#out"}},
    "errors": [{"name": "NotFound", "description": "No such thing."}]},
    "out": {"type": "object", "properties": {}}},
   ["lex.schema.parameters", "lex.schema.params-property", "lex.schema.body-schema"],
   "A query with params, a ref output and errors.")
sv("procedure", {"main": {
    "type": "procedure",
    "input": {"encoding": "application/json",
              "schema": {"type": "union", "refs": ["#a", "#b"]}},
    "output": {"encoding": "application/cbor"}}, "a": {"type": "object", "properties": {}},
    "b": {"type": "object", "properties": {}}},
   ["lex.schema.body-schema", "lex.schema.body-encoding"],
   "A procedure with a union input and an output without schema.")
sv("subscription", {"main": {
    "type": "subscription", "parameters": {"type": "params", "properties": {"cursor": {"type": "integer"}}},
    "message": {"schema": {"type": "union", "refs": ["#commit"]}}},
    "commit": {"type": "object", "properties": {}}},
   ["lex.schema.subscription-message"], "A subscription whose message is a union of refs.")
sv("permission-set", {"main": {
    "type": "permission-set", "title": "Post", "title:lang": {"pt-BR": "Postar"},
    "detail": "Create posts", "permissions": [
        {"type": "permission", "resource": "repo", "collection": ["com.example.post"], "action": ["create"]},
        {"type": "permission", "resource": "rpc", "lxm": ["com.example.get"], "aud": "*"},
        {"type": "permission", "resource": "rpc", "lxm": ["com.example.put"], "inheritAud": True},
        {"type": "permission", "resource": "account", "attr": "email"}]}},
   ["lex.schema.permission", "lex.schema.permission-lang"],
   "A permission set; the account resource is not checked in Lexicon context.")
sv("main-non-primary", {"main": {"type": "object", "properties": {}}}, ["lex.schema.primary-main"],
   "main may be a non-primary type.")
sv("open-empty-union", field_doc({"type": "union", "refs": []}), ["lex.schema.union-closed-empty"],
   "An empty open union is allowed (like unknown, but $type is required).")
sv("record-key-literal", {"main": record_def({}, key="literal:self")}, ["lex.schema.record-key"],
   "A literal record key type.")
sv("record-key-nsid", {"main": record_def({}, key="nsid")}, ["lex.schema.record-key"],
   "The nsid record key type.")
sv("description-and-revision", {"main": record_def({})}, ["lex.schema.document"],
   "A top-level description; unknown top-level fields such as revision are ignored.",
   description="A test document.", revision=3)
sv("equal-min-max", field_doc({"type": "string", "minLength": 3, "maxLength": 3}),
   ["lex.schema.length-range"], "minLength equal to maxLength is allowed.")

si("not-object", None, "lex.schema.document", "$", "A document that is an array.", raw=[1])
si("version-2", None, "lex.schema.version", "lexicon", "lexicon must be 1.",
   raw={"lexicon": 2, "id": NSID, "defs": {"t": {"type": "token"}}})
si("version-missing", None, "lex.schema.version", "lexicon", "lexicon is required.",
   raw={"id": NSID, "defs": {"t": {"type": "token"}}})
si("version-string", None, "lex.schema.version", "lexicon", "lexicon is an integer, not a string.",
   raw={"lexicon": "1", "id": NSID, "defs": {"t": {"type": "token"}}})
si("id-missing", None, "lex.schema.id", "id", "id is required.",
   raw={"lexicon": 1, "defs": {"t": {"type": "token"}}})
si("id-not-nsid", None, "lex.schema.id", "id", "id is not an NSID (two segments).",
   raw={"lexicon": 1, "id": "com.example", "defs": {"t": {"type": "token"}}})
si("id-fragment", None, "lex.schema.id", "id", "id is an NSID without fragment.",
   raw={"lexicon": 1, "id": "com.example.thing#main", "defs": {"t": {"type": "token"}}})
si("defs-missing", None, "lex.schema.defs", "defs", "defs is required.",
   raw={"lexicon": 1, "id": NSID})
si("defs-empty", {}, "lex.schema.defs", "defs", "A Lexicon with zero definitions is invalid.")
si("defs-array", None, "lex.schema.defs", "defs", "defs is a map, not an array.",
   raw={"lexicon": 1, "id": NSID, "defs": [{"type": "token"}]})
si("def-name-hash", {"#main": {"type": "token"}}, "lex.schema.def-name", "defs.#main",
   "Def names do not include a # prefix.")
si("type-missing", {"main": {"description": "no type"}}, "lex.schema.type-known", "defs.main.type",
   "Every def has a type.")
si("type-unknown", {"main": {"type": "float"}}, "lex.schema.type-known", "defs.main.type",
   "float is not a Lexicon type.")
si("record-not-main", {"post": record_def({})}, "lex.schema.primary-main", "defs.post",
   "A record def is only ever main.")
si("query-not-main", {"get": {"type": "query"}}, "lex.schema.primary-main", "defs.get",
   "A query def is only ever main.")
si("permission-set-not-main", {"perms": {"type": "permission-set", "permissions": []}},
   "lex.schema.primary-main", "defs.perms", "A permission set is only ever main.")
si("def-ref", {"alias": {"type": "ref", "ref": "#other"}, "other": {"type": "token"}},
   "lex.schema.def-type", "defs.alias", "A ref can not be a named def.")
si("def-union", {"u": {"type": "union", "refs": []}}, "lex.schema.def-type", "defs.u",
   "A union can not be a named def.")
si("def-unknown", {"u": {"type": "unknown"}}, "lex.schema.def-type", "defs.u",
   "unknown can not be a named def.")
si("def-params", {"p": {"type": "params", "properties": {}}}, "lex.schema.def-type", "defs.p",
   "params can not be a named def.")
si("field-token", field_doc({"type": "token"}), "lex.schema.field-type",
   "defs.main.record.properties.f", "A token can not be a field.")
si("field-record", field_doc(record_def({})), "lex.schema.field-type",
   "defs.main.record.properties.f", "A record can not be nested as a field.")
si("items-params", field_doc({"type": "array", "items": {"type": "params", "properties": {}}}),
   "lex.schema.field-type", "defs.main.record.properties.f.items", "params can not be array items.")
si("array-no-items", field_doc({"type": "array"}), "lex.schema.field",
   "defs.main.record.properties.f.items", "An array needs items.")
si("object-no-properties", field_doc({"type": "object"}), "lex.schema.field",
   "defs.main.record.properties.f.properties", "An object needs properties.")
si("max-length-string", field_doc({"type": "string", "maxLength": "10"}), "lex.schema.field",
   "defs.main.record.properties.f.maxLength", "maxLength is an integer.")
si("max-length-float", field_doc({"type": "string", "maxLength": 1.5}), "lex.schema.field",
   "defs.main.record.properties.f.maxLength", "maxLength is an integer.")
si("description-number", field_doc({"type": "string", "description": 5}), "lex.schema.field",
   "defs.main.record.properties.f.description", "description is a string.")
si("enum-mixed", field_doc({"type": "string", "enum": ["a", 1]}), "lex.schema.field",
   "defs.main.record.properties.f.enum[1]", "A string enum holds strings.")
si("integer-default-string", field_doc({"type": "integer", "default": "1"}), "lex.schema.field",
   "defs.main.record.properties.f.default", "An integer default is an integer.")
si("required-not-array", {"main": {"type": "record", "key": "tid", "record": {
    "type": "object", "properties": {}, "required": "a"}}}, "lex.schema.field",
   "defs.main.record.required", "required is an array of strings.")
si("string-const-default", field_doc({"type": "string", "const": "a", "default": "a"}),
   "lex.schema.const-default", "defs.main.record.properties.f",
   "const and default are mutually exclusive.")
si("boolean-const-default", field_doc({"type": "boolean", "const": False, "default": False}),
   "lex.schema.const-default", "defs.main.record.properties.f",
   "const and default are mutually exclusive (boolean).")
si("integer-const-default", field_doc({"type": "integer", "const": 1, "default": 1}),
   "lex.schema.const-default", "defs.main.record.properties.f",
   "const and default are mutually exclusive (integer).")
si("min-above-max", field_doc({"type": "string", "minLength": 5, "maxLength": 4}),
   "lex.schema.length-range", "defs.main.record.properties.f.minLength",
   "minLength above maxLength.")
si("graphemes-negative", field_doc({"type": "string", "maxGraphemes": -1}),
   "lex.schema.length-range", "defs.main.record.properties.f.maxGraphemes",
   "A negative maxGraphemes.")
si("array-min-above-max", field_doc({"type": "array", "items": STRING, "minLength": 2, "maxLength": 1}),
   "lex.schema.length-range", "defs.main.record.properties.f.minLength",
   "Array minLength above maxLength.")
si("integer-min-above-max", field_doc({"type": "integer", "minimum": 2, "maximum": 1}),
   "lex.schema.length-range", "defs.main.record.properties.f.minimum",
   "minimum above maximum.")
si("format-unknown", field_doc({"type": "string", "format": "email"}), "lex.schema.string-format",
   "defs.main.record.properties.f.format", "email is not a Lexicon string format.")
si("format-case", field_doc({"type": "string", "format": "DID"}), "lex.schema.string-format",
   "defs.main.record.properties.f.format", "Format names are case-sensitive.")
si("accept-star", field_doc({"type": "blob", "accept": ["*"]}), "lex.schema.blob-accept",
   "defs.main.record.properties.f.accept[0]", "A stand-alone * is not supported.")
si("accept-partial-glob", field_doc({"type": "blob", "accept": ["image/*", "text/ht*"]}),
   "lex.schema.blob-accept", "defs.main.record.properties.f.accept[1]",
   "Partial globs are not supported.")
si("accept-no-slash", field_doc({"type": "blob", "accept": ["image"]}), "lex.schema.blob-accept",
   "defs.main.record.properties.f.accept[0]", "A MIME type has a type and a subtype.")
si("required-undefined", {"main": {"type": "record", "key": "tid", "record": {
    "type": "object", "properties": {"a": STRING}, "required": ["b"]}}},
   "lex.schema.object-required", "defs.main.record.required[0]",
   "A required name that is not a property.")
si("params-object", {"main": {"type": "query", "parameters": {"type": "params", "properties": {
    "o": {"type": "object", "properties": {}}}}}}, "lex.schema.params-property",
   "defs.main.parameters.properties.o", "params do not hold objects.")
si("params-unknown", {"main": {"type": "query", "parameters": {"type": "params", "properties": {
    "u": {"type": "unknown"}}}}}, "lex.schema.params-property",
   "defs.main.parameters.properties.u", "params do not hold unknown.")
si("params-array-of-bytes", {"main": {"type": "query", "parameters": {"type": "params", "properties": {
    "a": {"type": "array", "items": {"type": "bytes"}}}}}}, "lex.schema.params-property",
   "defs.main.parameters.properties.a.items", "params arrays hold boolean, integer or string.")
si("params-nullable", {"main": {"type": "query", "parameters": {"type": "params", "properties": {
    "a": STRING}, "nullable": ["a"]}}}, "lex.schema.params-property",
   "defs.main.parameters.nullable", "params have no nullable field.")
si("parameters-object", {"main": {"type": "query", "parameters": {"type": "object", "properties": {}}}},
   "lex.schema.parameters", "defs.main.parameters", "parameters is a params schema.")
si("ref-bad", field_doc({"type": "ref", "ref": "com..example#x"}), "lex.schema.ref-syntax",
   "defs.main.record.properties.f.ref", "A ref that is not an NSID.")
si("ref-empty-fragment", field_doc({"type": "ref", "ref": "com.example.thing#"}),
   "lex.schema.ref-syntax", "defs.main.record.properties.f.ref", "A ref with an empty name.")
si("union-ref-bad", field_doc({"type": "union", "refs": ["#ok", "not a ref"]}),
   "lex.schema.ref-syntax", "defs.main.record.properties.f.refs[1]", "A union ref that is not a ref.")
si("union-closed-empty", field_doc({"type": "union", "refs": [], "closed": True}),
   "lex.schema.union-closed-empty", "defs.main.record.properties.f.refs",
   "An empty closed union is an invalid schema.")
si("record-key-unknown", {"main": record_def({}, key="uuid")}, "lex.schema.record-key",
   "defs.main.key", "uuid is not a record key type.")
si("record-key-missing", {"main": {"type": "record", "record": {"type": "object", "properties": {}}}},
   "lex.schema.record-key", "defs.main.key", "A record names its key type.")
si("record-key-literal-bad", {"main": record_def({}, key="literal:a/b")}, "lex.schema.record-key",
   "defs.main.key", "A literal key must itself be a valid record key.")
si("record-not-object", {"main": {"type": "record", "key": "tid", "record": STRING}},
   "lex.schema.record-object", "defs.main.record", "The record field is an object schema.")
si("output-no-encoding", {"main": {"type": "query", "output": {"schema": {"type": "object", "properties": {}}}}},
   "lex.schema.body-encoding", "defs.main.output.encoding", "An output names its encoding.")
si("output-encoding-empty", {"main": {"type": "query", "output": {
    "encoding": "", "schema": {"type": "object", "properties": {}}}}},
   "lex.schema.body-encoding", "defs.main.output.encoding", "An empty encoding names none.")
si("input-no-encoding", {"main": {"type": "procedure", "input": {
    "schema": {"type": "object", "properties": {}}}}},
   "lex.schema.body-encoding", "defs.main.input.encoding", "A procedure's input names its encoding too.")
si("output-string-schema", {"main": {"type": "query", "output": {"encoding": "application/json",
                                                                   "schema": STRING}}},
   "lex.schema.body-schema", "defs.main.output.schema", "Body schemas are object, ref or union.")
si("query-input", {"main": {"type": "query", "input": {"encoding": "application/json"}}},
   "lex.schema.procedure-input", "defs.main.input", "Only procedures have an input.")
si("error-name-space", {"main": {"type": "procedure", "errors": [{"name": "Not Found"}]}},
   "lex.schema.error-name", "defs.main.errors[0].name", "Error names have no whitespace.")
si("subscription-object-message", {"main": {"type": "subscription", "message": {
    "schema": {"type": "object", "properties": {}}}}}, "lex.schema.subscription-message",
   "defs.main.message.schema", "A subscription message schema is a union, not an object.")
si("subscription-no-message", {"main": {"type": "subscription"}}, "lex.schema.subscription-message",
   "defs.main.message", "A subscription has a message.")
si("permission-empty-collection", {"main": {"type": "permission-set", "permissions": [
    {"type": "permission", "resource": "repo", "collection": []}]}}, "lex.schema.permission",
   "defs.main.permissions[0].collection", "repo permissions list at least one collection.")
si("permission-wildcard-collection", {"main": {"type": "permission-set", "permissions": [
    {"type": "permission", "resource": "repo", "collection": ["*"]}]}}, "lex.schema.permission",
   "defs.main.permissions[0].collection[0]", "No wildcard collections in Lexicon context.")
si("permission-bad-action", {"main": {"type": "permission-set", "permissions": [
    {"type": "permission", "resource": "repo", "collection": ["com.example.a"], "action": ["Create"]}]}},
   "lex.schema.permission", "defs.main.permissions[0].action[0]", "Actions are case-sensitive.")
si("permission-rpc-no-aud", {"main": {"type": "permission-set", "permissions": [
    {"type": "permission", "resource": "rpc", "lxm": ["com.example.get"]}]}},
   "lex.schema.permission", "defs.main.permissions[0].aud", "aud is required unless inheritAud.")
si("permission-rpc-fixed-aud", {"main": {"type": "permission-set", "permissions": [
    {"type": "permission", "resource": "rpc", "lxm": ["com.example.get"],
     "aud": "did:web:api.example.com#svc"}]}}, "lex.schema.permission",
   "defs.main.permissions[0].aud", "No fixed service DID in a permission set.")
si("permission-no-resource", {"main": {"type": "permission-set", "permissions": [
    {"type": "permission"}]}}, "lex.schema.permission", "defs.main.permissions[0].resource",
   "A permission names its resource.")
si("permission-lang-key", {"main": {"type": "permission-set", "title:lang": {"no good": "x"},
                                    "permissions": []}}, "lex.schema.permission-lang",
   "defs.main.title:lang.no good", "title:lang keys are language tags.")

# --------------------------------------------------------------------------
# record.json: example schemas and records

EX = "com.example.kitchen"
OTHER = "com.example.other"
EX_DOC = doc(EX, {
    "main": record_def({
        "text": {"type": "string", "minLength": 1, "maxLength": 30, "maxGraphemes": 10},
        "count": {"type": "integer", "minimum": 0, "maximum": 100},
        "level": {"type": "integer", "enum": [1, 2, 3]},
        "version": {"type": "integer", "const": 2},
        "mode": {"type": "string", "enum": ["light", "dark"]},
        "kind": {"type": "string", "knownValues": ["com.example.kitchen#tokenA"]},
        "fixed": {"type": "string", "const": "fixed"},
        "enabled": {"type": "boolean"},
        "locked": {"type": "boolean", "const": False},
        "rating": {"type": "integer", "default": 3, "minimum": 1, "maximum": 5},
        "note": {"type": "string"},
        "nothing": {"type": "null"},
        "createdAt": {"type": "string", "format": "datetime"},
        "author": {"type": "string", "format": "did"},
        "handle": {"type": "string", "format": "handle"},
        "subject": {"type": "string", "format": "at-uri"},
        "site": {"type": "string", "format": "uri"},
        "lang": {"type": "string", "format": "language"},
        "collection": {"type": "string", "format": "nsid"},
        "rev": {"type": "string", "format": "tid"},
        "rkey": {"type": "string", "format": "record-key"},
        "cidString": {"type": "string", "format": "cid"},
        "actor": {"type": "string", "format": "at-identifier"},
        "digest": {"type": "bytes", "minLength": 2, "maxLength": 4},
        "link": {"type": "cid-link"},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 5}, "minLength": 1, "maxLength": 3},
        "matrix": {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}},
        "image": {"type": "blob", "accept": ["image/*"], "maxSize": 1000},
        "video": {"type": "blob", "accept": ["video/mp4"]},
        "file": {"type": "blob"},
        "meta": {"type": "unknown"},
        "embed": {"type": "ref", "ref": "#embed"},
        "alias": {"type": "ref", "ref": "#shortString"},
        "item": {"type": "union", "refs": ["#embed", "com.example.other#thing", "com.example.other"]},
        "choice": {"type": "union", "refs": ["#embed"], "closed": True},
        "anything": {"type": "union", "refs": []},
        "items": {"type": "array", "items": {"type": "union", "refs": ["#embed", "com.example.other#thing"]}},
    }, required=["text", "createdAt"], nullable=["note"]),
    "embed": {"type": "object", "required": ["uri"], "properties": {
        "uri": {"type": "string", "format": "uri"},
        "title": {"type": "string", "maxLength": 10}}},
    "shortString": {"type": "string", "maxLength": 3},
    "tokenA": {"type": "token", "description": "A known value."},
})
OTHER_DOC = doc(OTHER, {
    "main": record_def({"ok": {"type": "boolean"}}, required=["ok"], key="literal:self"),
    "thing": {"type": "object", "required": ["n"], "properties": {"n": {"type": "integer"}}},
})

record = VectorFile(
    "record", "validate-record",
    "Records validated against the example Lexicons in `lexicons` (every field type and "
    "constraint). The record's $type names its Lexicon. Each invalid record breaks exactly "
    "one rule; error is the rule and path the location of the offending value ($ is the "
    "record, .name a field, [i] an array element).",
    [SPEC + "#field-type-definitions", SPEC + "#when-to-use-type", SPEC + "#string-formats",
     SPEC + "#union", SPEC + "#unknown", "https://atproto.com/specs/data-model#blob-type"],
    lexicons=[EX_DOC, OTHER_DOC])

BASE = {"$type": EX, "text": "hello", "createdAt": "2024-01-01T00:00:00.000Z"}
DELETE = object()


def rec(**changes):
    r = copy.deepcopy(BASE)
    for k, v in changes.items():
        k = k.rstrip("_")
        if k == "type":
            k = "$type"
        if v is DELETE:
            r.pop(k, None)
        else:
            r[k] = v
    return r


def blob(mime="image/png", size=100, cid=BLOB_CID):
    return {"$type": "blob", "ref": {"$link": cid}, "mimeType": mime, "size": size}


def rv(slug, record_value, reqs, comment):
    record.add(slug, True, reqs, comment, record=record_value)


def ri(slug, record_value, error, path, comment, reqs=()):
    record.add(slug, False, reqs, comment, error=error, path=path, record=record_value)


rv("minimal", rec(), ["lex.validate.required"], "Only the required fields.")
rv("full", rec(count=100, level=3, version=2, mode="dark", kind="something-else", fixed="fixed",
               enabled=True, locked=False, rating=5, note="n", nothing=None,
               author="did:plc:ewvi7nxzyoun6zhxrhs64oiz", handle="alice.example.com",
               subject="at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/com.example.kitchen/3jzfcijpj2z2a",
               site="https://example.com/a?b=c", lang="pt-BR", collection="com.example.kitchen",
               rev="3jzfcijpj2z2a", rkey="self", cidString=DATA_CID, actor="alice.example.com",
               digest={"$bytes": "AAECAw"}, link={"$link": DATA_CID}, tags=["a", "bb", "ccc"],
               matrix=[[1, 2], [], [3]], image=blob(), video=blob("video/mp4", 5000000),
               file=blob("application/octet-stream", 1),
               meta={"$type": "com.example.anything", "nested": {"deep": [1, {"$link": DATA_CID}]}},
               embed={"uri": "https://example.com"}, alias="abc",
               item={"$type": "com.example.other#thing", "n": 1},
               choice={"$type": "com.example.kitchen#embed", "uri": "https://example.com"},
               anything={"$type": "com.example.whatever", "x": 1},
               items=[{"$type": "com.example.kitchen#embed", "uri": "https://a.example"},
                      {"$type": "com.example.other#thing", "n": 2}]),
   ["lex.validate.type", "lex.validate.string-format", "lex.validate.union-type"],
   "Every field present and valid.")
rv("unexpected-field", rec(surprise={"anything": [1, 2]}, **{"$extra": 1}), ["lex.validate.type"],
   "Fields the schema does not mention are ignored.")
rv("known-values-open", rec(kind="not-in-the-list"), ["lex.validate.enum"],
   "knownValues do not restrict the value.")
rv("nullable-null", rec(note=None), ["lex.validate.nullable"], "A nullable field may be null.")
rv("null-type", rec(nothing=None), ["lex.validate.type"], "The null type holds null.")
rv("default-absent", rec(), ["lex.validate.required"], "A field with a default may be left out.")
rv("integer-bounds", rec(count=0), ["lex.validate.integer-range"], "minimum is inclusive.")
rv("integer-max-bound", rec(count=100), ["lex.validate.integer-range"], "maximum is inclusive.")
rv("string-max-bytes", rec(text="0123456789"), ["lex.validate.string-length"],
   "10 bytes, 10 graphemes: at both limits.")
rv("bytes-bounds", rec(digest={"$bytes": "AAE"}), ["lex.validate.bytes-length"],
   "2 bytes: the minimum.")
rv("array-bounds", rec(tags=["a"]), ["lex.validate.array-length"], "1 element: the minimum.")
rv("blob-max-size", rec(image=blob("image/jpeg", 1000)), ["lex.validate.blob-size"],
   "Size equal to maxSize.")
rv("blob-legacy", rec(image={"cid": BLOB_CID, "mimeType": "image/jpeg"}), ["lex.validate.blob-accept"],
   "A legacy blob reference is read; it has no size to check.")
rv("union-record-variant", rec(item={"$type": OTHER, "ok": True}), ["lex.validate.union-type"],
   "A union variant that is a record, named by its NSID.")
rv("union-open-unlisted", rec(item={"$type": "com.example.unlisted", "x": [1]}),
   ["lex.validate.union-closed"], "An open union lets an unlisted $type through.")
rv("union-local-variant", rec(item={"$type": "com.example.kitchen#embed", "uri": "https://x.example"}),
   ["lex.validate.union-type"], "A local variant is named with the full NSID#name.")
rv("other-record", {"$type": OTHER, "ok": False}, ["lex.validate.record-type"],
   "A record of the second Lexicon.")

ri("not-object", [1], "lex.validate.type", "$", "A record is an object.")
ri("type-missing", rec(type=DELETE), "lex.validate.record-type", "$.$type",
   "A record always has $type.")
ri("type-main-suffix", rec(type=EX + "#main"), "lex.validate.type-main-suffix", "$.$type",
   "$type names a main def without #main.")
ri("type-unknown-lexicon", rec(type="com.example.missing"), "lex.validate.ref-missing", "$",
   "No Lexicon is loaded for the $type.")
ri("type-not-record", rec(type=OTHER + "#thing"), "lex.validate.def-kind", "$",
   "$type names an object def, not a record.")
ri("required-missing", rec(createdAt=DELETE), "lex.validate.required", "$.createdAt",
   "A required field is missing.")
ri("required-null", rec(text=None), "lex.validate.nullable", "$.text",
   "null in a required field that is not nullable.")
ri("optional-null", rec(count=None), "lex.validate.nullable", "$.count",
   "null in an optional field that is not nullable.")
ri("integer-string", rec(count="5"), "lex.validate.type", "$.count", "A number in a string.")
ri("integer-bool", rec(count=True), "lex.validate.type", "$.count", "A boolean for an integer.")
ri("integer-below", rec(count=-1), "lex.validate.integer-range", "$.count", "Below the minimum.")
ri("integer-above", rec(count=101), "lex.validate.integer-range", "$.count", "Above the maximum.")
ri("integer-enum", rec(level=4), "lex.validate.enum", "$.level", "Not in the integer enum.")
ri("integer-const", rec(version=3), "lex.validate.const", "$.version", "Not the integer const.")
ri("default-checked", rec(rating=6), "lex.validate.integer-range", "$.rating",
   "A field with a default is still checked when present.")
ri("string-number", rec(text=5), "lex.validate.type", "$.text", "A number for a string.")
ri("string-empty", rec(text=""), "lex.validate.string-length", "$.text", "Below minLength 1.")
ri("string-enum", rec(mode="blue"), "lex.validate.enum", "$.mode", "Not in the string enum.")
ri("string-enum-case", rec(mode="Dark"), "lex.validate.enum", "$.mode", "Enums are case-sensitive.")
ri("string-const", rec(fixed="other"), "lex.validate.const", "$.fixed", "Not the string const.")
ri("boolean-const", rec(locked=True), "lex.validate.const", "$.locked", "Not the boolean const.")
ri("boolean-string", rec(enabled="true"), "lex.validate.type", "$.enabled", "A string for a boolean.")
ri("boolean-integer", rec(enabled=1), "lex.validate.type", "$.enabled", "An integer for a boolean.")
ri("null-type-value", rec(nothing=0), "lex.validate.type", "$.nothing", "The null type holds only null.")
for slug, field, value, comment in [
        ("datetime", "createdAt", "2024-01-01", "A date without time."),
        ("datetime-lowercase-t", "createdAt", "2024-01-01t00:00:00Z", "Lowercase t."),
        ("did", "author", "did:example", "A DID without identifier."),
        ("handle", "handle", "alice", "A handle with one segment."),
        ("at-uri", "subject", "https://example.com", "Not an at:// URI."),
        ("uri", "site", "not a uri", "Not a URI."),
        ("language", "lang", "english!", "Not a language tag."),
        ("nsid", "collection", "com.example", "Two segments."),
        ("tid", "rev", "3jzfcijpj2z2A", "Uppercase in a TID."),
        ("record-key", "rkey", "..", "A record key of two dots."),
        ("cid", "cidString", "bafy", "A truncated CID."),
        ("at-identifier", "actor", "did:", "Neither handle nor DID.")]:
    ri(f"format-{slug}", rec(**{field: value}), "lex.validate.string-format", f"$.{field}", comment)
ri("bytes-string", rec(digest="AAECAw"), "lex.validate.type", "$.digest",
   "A base64 string is not bytes; bytes are {\"$bytes\": ...}.")
ri("bytes-short", rec(digest={"$bytes": "AA"}), "lex.validate.bytes-length", "$.digest",
   "1 byte, below minLength 2.")
ri("bytes-long", rec(digest={"$bytes": "AAECAwQ"}), "lex.validate.bytes-length", "$.digest",
   "5 bytes, above maxLength 4.")
ri("link-string", rec(link=DATA_CID), "lex.validate.type", "$.link",
   "A CID string is not a cid-link; links are {\"$link\": ...}.")
ri("array-not-array", rec(tags="a"), "lex.validate.type", "$.tags", "A string for an array.")
ri("array-empty", rec(tags=[]), "lex.validate.array-length", "$.tags", "Below minLength 1.")
ri("array-long", rec(tags=["a", "b", "c", "d"]), "lex.validate.array-length", "$.tags",
   "Above maxLength 3.")
ri("array-item", rec(tags=["a", "toolong"]), "lex.validate.string-length", "$.tags[1]",
   "The second element breaks its own maxLength.")
ri("array-item-kind", rec(tags=["a", 1]), "lex.validate.type", "$.tags[1]",
   "The second element is not a string.")
ri("nested-array-item", rec(matrix=[[1], [2, "x"]]), "lex.validate.type", "$.matrix[1][1]",
   "An element of a nested array.")
ri("blob-not-blob", rec(image={"mimeType": "image/png"}), "data.blob.legacy-shape", "$.image",
   "An object that is not a blob.", reqs=["lex.validate.type"])
ri("blob-accept", rec(image=blob("text/plain")), "lex.validate.blob-accept", "$.image",
   "text/plain does not match image/*.")
ri("blob-accept-exact", rec(video=blob("video/webm")), "lex.validate.blob-accept", "$.video",
   "video/webm is not video/mp4.")
ri("blob-accept-prefix", rec(image=blob("imagex/png")), "lex.validate.blob-accept", "$.image",
   "image/* matches the type image, not a longer type name.")
ri("blob-too-big", rec(image=blob("image/png", 1001)), "lex.validate.blob-size", "$.image",
   "Above maxSize 1000.")
ri("blob-string", rec(file=BLOB_CID), "lex.validate.type", "$.file", "A CID string is not a blob.")
ri("unknown-string", rec(meta="text"), "lex.validate.unknown-object", "$.meta",
   "unknown data is an object.")
ri("unknown-array", rec(meta=[{}]), "lex.validate.unknown-object", "$.meta",
   "unknown data is an object, not an array.")
ri("unknown-blob", rec(meta=blob()), "lex.validate.unknown-object", "$.meta",
   "unknown data is not a blob.")
ri("ref-object-field", rec(embed={"uri": "not a uri"}), "lex.validate.string-format", "$.embed.uri",
   "A field of a referenced object.")
ri("ref-object-required", rec(embed={"title": "t"}), "lex.validate.required", "$.embed.uri",
   "A required field of a referenced object.")
ri("ref-string", rec(alias="abcd"), "lex.validate.string-length", "$.alias",
   "A ref to a string def applies its maxLength.")
ri("union-no-type", rec(item={"n": 1}), "lex.validate.union-type", "$.item.$type",
   "Union variants carry $type.")
ri("union-not-object", rec(item="x"), "lex.validate.type", "$.item", "Union data is an object.")
ri("union-variant-invalid", rec(item={"$type": "com.example.other#thing", "n": "1"}),
   "lex.validate.type", "$.item.n", "The variant named by $type is checked.")
ri("union-record-variant-invalid", rec(item={"$type": OTHER, "ok": "yes"}), "lex.validate.type",
   "$.item.ok", "A record variant is checked against its record object.")
ri("union-main-suffix", rec(item={"$type": OTHER + "#main", "ok": True}),
   "lex.validate.type-main-suffix", "$.item.$type", "A main variant is named without #main.")
ri("union-closed", rec(choice={"$type": "com.example.other#thing", "n": 1}),
   "lex.validate.union-closed", "$.choice.$type", "A closed union refuses unlisted types.")
ri("union-empty-no-type", rec(anything={"x": 1}), "lex.validate.union-type", "$.anything.$type",
   "An empty open union still needs $type.")
ri("union-array-item", rec(items=[{"$type": "com.example.other#thing", "n": 1}, {"uri": "x"}]),
   "lex.validate.union-type", "$.items[1].$type", "A union inside an array.")
ri("other-record-type", {"$type": OTHER, "ok": "no"}, "lex.validate.type", "$.ok",
   "The second Lexicon's record is checked too.")

# --------------------------------------------------------------------------
# graphemes.json: grapheme and byte counting

GR = "com.example.graphemes"
GR_DOC = doc(GR, {"main": record_def({
    "g5": {"type": "string", "maxGraphemes": 5},
    "g3min": {"type": "string", "minGraphemes": 3},
    "b20": {"type": "string", "maxLength": 20},
    "both": {"type": "string", "maxGraphemes": 2, "maxLength": 30},
})})
graphemes = VectorFile(
    "graphemes", "validate-record",
    "Strings at and just past grapheme and UTF-8 byte limits. maxGraphemes counts extended "
    "grapheme clusters (Unicode UAX #29): an emoji ZWJ sequence, a flag (two regional "
    "indicators), a letter with combining marks and an emoji with a skin tone modifier "
    "are one cluster each. maxLength counts UTF-8 bytes. Each comment states the counts.",
    [SPEC + "#string"], lexicons=[GR_DOC])

FAMILY = "\U0001F468\u200D\U0001F469\u200D\U0001F467\u200D\U0001F466"  # 1 grapheme, 25 bytes
FLAG_FR = "\U0001F1EB\U0001F1F7"  # 1 grapheme, 8 bytes
FLAG_JP = "\U0001F1EF\U0001F1F5"
E_ACUTE = "e\u0301"  # 1 grapheme, 3 bytes
ZALGO = "a\u0300\u0301\u0302\u0303"  # 1 grapheme, 9 bytes
THUMB = "\U0001F44D\U0001F3FD"  # 1 grapheme, 8 bytes
RAINBOW_FLAG = "\U0001F3F3\uFE0F\u200D\U0001F308"  # 1 grapheme, 14 bytes
HANGUL = "\u1100\u1161\u11A8"  # 1 grapheme (L V T), 9 bytes
CRLF = "\r\n"  # 1 grapheme, 2 bytes


def gv(slug, field, text, graphemes_count, comment):
    graphemes.add(slug, True, ["lex.validate.string-graphemes"],
                  f"{comment} ({graphemes_count} graphemes, {len(text.encode())} bytes)",
                  record={"$type": GR, field: text})


def gi(slug, field, text, graphemes_count, error, comment):
    graphemes.add(slug, False, [], f"{comment} ({graphemes_count} graphemes, {len(text.encode())} bytes)",
                  error=error, path=f"$.{field}", record={"$type": GR, field: text})


G = "lex.validate.string-graphemes"
B = "lex.validate.string-length"
gv("ascii-at-max", "g5", "abcde", 5, "Five ASCII letters.")
gi("ascii-past-max", "g5", "abcdef", 6, G, "Six ASCII letters.")
gv("family-zwj-at-max", "g5", FAMILY * 5, 5, "Five family ZWJ sequences, 125 bytes.")
gi("family-zwj-past-max", "g5", FAMILY * 6, 6, G, "Six family ZWJ sequences.")
gv("flags-at-max", "g5", FLAG_FR + FLAG_JP + FLAG_FR + FLAG_JP + FLAG_FR, 5, "Five flags.")
gi("flags-past-max", "g5", (FLAG_FR + FLAG_JP) * 3, 6, G, "Six flags.")
gv("combining-at-max", "g5", E_ACUTE * 5, 5, "Five e + combining acute.")
gi("combining-past-max", "g5", E_ACUTE * 6, 6, G, "Six e + combining acute.")
gv("stacked-marks", "g5", ZALGO * 5, 5, "Five letters with four combining marks each.")
gv("skin-tone-at-max", "g5", THUMB * 5, 5, "Five thumbs up with a skin tone.")
gi("skin-tone-past-max", "g5", THUMB * 6, 6, G, "Six thumbs up with a skin tone.")
gv("rainbow-flag-at-max", "g5", RAINBOW_FLAG * 5, 5, "Five rainbow flags (VS16 + ZWJ).")
gv("hangul-jamo", "g5", HANGUL * 5, 5, "Five Hangul syllables from conjoining jamo.")
gv("crlf-one-cluster", "g5", "ab" + CRLF + "cd", 5, "CR LF is one cluster.")
gi("cr-lf-apart", "g5", "ab\r\r\ncd", 6, G, "A lone CR and a CR LF: two clusters.")
gv("mixed-at-max", "g5", "a" + FAMILY + FLAG_FR + E_ACUTE + THUMB, 5, "A letter, a family, a flag, e-acute, a thumb.")
gi("mixed-past-max", "g5", "a" + FAMILY + FLAG_FR + E_ACUTE + THUMB + "!", 6, G, "The same and one more.")
gv("min-graphemes-met", "g3min", FAMILY * 3, 3, "Three clusters of 25 bytes each meet minGraphemes 3.")
gi("min-graphemes-short", "g3min", FAMILY * 2, 2, G,
   "Two clusters (50 bytes) are fewer than minGraphemes 3 however many bytes.")
gi("min-graphemes-combining", "g3min", "e\u0301\u0301\u0301\u0301", 1, G,
   "One letter with four marks is one cluster.")
# More shapes at the minGraphemes boundary: counting bytes or code points
# instead of clusters accepts each of the short ones.
gv("min-graphemes-ascii-met", "g3min", "abc", 3, "Three ASCII letters meet minGraphemes 3.")
gi("min-graphemes-ascii-short", "g3min", "ab", 2, G, "Two ASCII letters.")
gi("min-graphemes-empty", "g3min", "", 0, G, "The empty string.")
gi("min-graphemes-flags-short", "g3min", FLAG_FR + FLAG_JP, 2, G,
   "Two flags: four regional indicator code points, two clusters.")
gi("min-graphemes-skin-tone-short", "g3min", THUMB * 2, 2, G,
   "Two thumbs up with a skin tone: four code points, two clusters.")
gi("min-graphemes-crlf-short", "g3min", "a" + CRLF, 2, G,
   "'a' then CR LF: three code points, two clusters.")
gv("min-graphemes-flags-met", "g3min", FLAG_FR + FLAG_JP + FLAG_FR, 3, "Three flags meet minGraphemes 3.")
gv("bytes-at-max", "b20", "\u00e9" * 10, 10, "Ten 2-byte letters: 20 bytes.")
gi("bytes-past-max", "b20", "\u00e9" * 10 + "a", 11, B, "21 bytes.")
gi("bytes-emoji-past-max", "b20", FAMILY, 1, B, "One cluster but 25 bytes.")
gv("bytes-4-byte-chars", "b20", "\U0001F600" * 5, 5, "Five 4-byte emoji: 20 bytes.")
gi("bytes-over-by-one-char", "b20", "\U0001F600" * 5 + "a", 6, B, "21 bytes.")
gv("both-within", "both", FLAG_FR + FLAG_JP, 2, "Two flags, 16 bytes: within both limits.")
gi("both-graphemes-past", "both", "abc", 3, G, "Within bytes, past graphemes.")
gi("both-bytes-past", "both", FAMILY + FAMILY, 2, B, "Within graphemes, past 30 bytes.")

# --------------------------------------------------------------------------
# params.json: query parameters

Q = "com.example.search"
Q_DOC = doc(Q, {"main": {
    "type": "query",
    "parameters": {"type": "params", "required": ["q"], "properties": {
        "q": {"type": "string", "minLength": 1, "maxLength": 20},
        "limit": {"type": "integer", "minimum": 1, "maximum": 100, "default": 25},
        "sort": {"type": "string", "enum": ["top", "latest"]},
        "reverse": {"type": "boolean"},
        "actor": {"type": "string", "format": "at-identifier"},
        "since": {"type": "string", "format": "datetime"},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 4}, "maxLength": 3},
        "ids": {"type": "array", "items": {"type": "integer", "minimum": 0}},
    }},
    "output": {"encoding": "application/json", "schema": {"type": "object", "properties": {}}}}})
params = VectorFile(
    "params", "validate-params",
    "XRPC query parameters given as URL query-string text (percent-encoded, + is a space) "
    "for the query in `lexicons`. Integers and booleans are read from their text; a "
    "repeated name is an array parameter; unknown names are ignored.",
    [SPEC + "#params", "https://atproto.com/specs/xrpc#lexicon-http-endpoints"],
    lexicons=[Q_DOC])


def pv(slug, query, reqs, comment):
    params.add(slug, True, reqs, comment, nsid=Q, query=query)


def pi(slug, query, error, path, comment):
    params.add(slug, False, [], comment, error=error, path=path, nsid=Q, query=query)


pv("required-only", "q=cats", ["lex.validate.required"], "Only the required parameter.")
pv("all", "q=cats&limit=100&sort=latest&reverse=false&actor=did%3Aplc%3Aewvi7nxzyoun6zhxrhs64oiz"
   "&since=2024-01-01T00%3A00%3A00Z&tags=a&tags=bb&ids=0&ids=7", ["lex.validate.type"],
   "Every parameter, arrays from repeated names.")
pv("percent-and-plus", "q=hello+world%21", ["lex.validate.params-syntax"],
   "+ and %21 decode to a space and !.")
pv("unknown-ignored", "q=a&other=1&other=2", ["lex.validate.params-syntax"],
   "Unknown parameters are ignored.")
pv("negative-zero-limit", "q=a&limit=1", ["lex.validate.integer-range"], "minimum is inclusive.")
pv("empty-pairs", "q=a&&", ["lex.validate.params-syntax"], "Empty pairs are skipped.")
pi("missing-required", "limit=5", "lex.validate.required", "$.q", "q is required.")
pi("empty-required-string", "q=", "lex.validate.string-length", "$.q",
   "An empty value is an empty string, below minLength 1.")
pi("integer-text", "q=a&limit=ten", "lex.validate.type", "$.limit", "Not an integer.")
pi("integer-float", "q=a&limit=2.5", "lex.validate.type", "$.limit", "Not an integer.")
pi("integer-plus-sign", "q=a&limit=%2B5", "lex.validate.type", "$.limit",
   "A leading + is not integer syntax.")
pi("integer-range", "q=a&limit=101", "lex.validate.integer-range", "$.limit", "Above the maximum.")
pi("integer-zero", "q=a&limit=0", "lex.validate.integer-range", "$.limit", "Below the minimum.")
pi("boolean-text", "q=a&reverse=yes", "lex.validate.type", "$.reverse", "Only true or false.")
pi("boolean-case", "q=a&reverse=True", "lex.validate.type", "$.reverse", "Lowercase only.")
pi("boolean-digit", "q=a&reverse=1", "lex.validate.type", "$.reverse", "1 is not a boolean.")
pi("enum", "q=a&sort=oldest", "lex.validate.enum", "$.sort", "Not in the enum.")
pi("format", "q=a&actor=not%20an%20actor", "lex.validate.string-format", "$.actor",
   "Not an at-identifier.")
pi("datetime-format", "q=a&since=yesterday", "lex.validate.string-format", "$.since",
   "Not a datetime.")
pi("string-too-long", "q=" + "a" * 21, "lex.validate.string-length", "$.q", "21 bytes.")
pi("repeated-scalar", "q=a&q=b", "lex.validate.params-syntax", "$.q",
   "A single-valued parameter given twice.")
pi("array-too-long", "q=a&tags=a&tags=b&tags=c&tags=d", "lex.validate.array-length", "$.tags",
   "Four values for maxLength 3.")
pi("array-item", "q=a&tags=ok&tags=toolong", "lex.validate.string-length", "$.tags[1]",
   "The second value is too long.")
pi("array-integer-item", "q=a&ids=1&ids=x", "lex.validate.type", "$.ids[1]",
   "The second value is not an integer.")
pi("bad-escape", "q=a%zz", "lex.validate.params-syntax", "$", "A bad percent escape.")
pi("not-utf8", "q=%ff", "lex.validate.params-syntax", "$", "Percent-decoded text is not UTF-8.")

FILES = [schema, record, graphemes, params]


def main():
    return vectorgen.write_or_check(FILES, OUT_DIR, "gen-lexicon-vectors.py")


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Writes vectors/data/*.json, the shared test vectors for the data layer.

encode.json: atproto JSON in, canonical DRISL-CBOR (DAG-CBOR) bytes and CID out.
decode.json: CBOR bytes in, the atproto JSON of the decoded value and CID out.

The expected bytes, JSON and CIDs are computed here, by the small canonical CBOR
encoder the generators share (tools/vectorgen.py), independently of the C++
reference, which then checks them in reference/data/vectors_test.cpp. Invalid
inputs are written out by hand, byte by byte where it matters. Case ids are
stable: never rename or reuse one, add new cases with new ids instead.

Usage: tools/gen-data-vectors.py            (rewrites vectors/data/)
       tools/gen-data-vectors.py --check    (exit 1 if the files are stale)
"""

import base64
import hashlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vectorgen  # noqa: E402
from vectorgen import (Link, b64_unpadded, base58, cbor, cid_binary,  # noqa: E402
                       cid_from_string, cid_string, varint)
from vectorgen import cbor_head as head  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "vectors", "data")
SPEC = "https://atproto.com/specs/"

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1

# --------------------------------------------------------------------------
# Requirement ids (spec/requirements/data-model.json)

INT64 = "data.model.int64"
SAFE = "data.model.safe-integer"
FLOATS = "data.model.no-floats"
UTF8 = "data.model.utf8"
TYPE = "data.model.type-field"
DOLLAR = "data.model.ignore-unknown-dollar"
NULLS = "data.model.null-distinct"
RECORD = "data.model.record-object"
TRUNC = "data.cbor.truncated"
WELL = "data.cbor.well-formed"
INDEF = "data.cbor.indefinite-length"
INT_SHORT = "data.cbor.int-shortest"
LEN_SHORT = "data.cbor.length-shortest"
KEY_STR = "data.cbor.map-key-string"
KEY_ORDER = "data.cbor.map-key-order"
KEY_UNIQUE = "data.cbor.map-key-unique"
SIMPLE = "data.cbor.simple-values"
TAG42 = "data.cbor.tag-42-only"
CIDLINK = "data.cbor.cid-link"
TRAILING = "data.cbor.trailing-bytes"
CID_VERSION = "data.cid.version"
CID_CODEC = "data.cid.codec"
CID_HASH = "data.cid.hash"
CID_BINARY = "data.cid.binary"
CID_STRING = "data.cid.string"
VARINT_MIN = "data.varint.minimal"
J_LINK = "data.json.link"
J_BYTES = "data.json.bytes"
J_B64 = "data.json.bytes-base64"
BLOB_SHAPE = "data.blob.shape"
BLOB_RAW = "data.blob.ref-raw"
BLOB_MIME = "data.blob.mime-type"
BLOB_SIZE = "data.blob.size"
BLOB_LEGACY = "data.blob.legacy-read"
DEPTH = "data.limits.depth"

# --------------------------------------------------------------------------
# An independent model of the data model and its JSON mapping (the CBOR and
# CID encoders are tools/vectorgen.py's).


def dag_cid(data):
    return cid_string(cid_binary(0x71, data))


def raw_cid(data):
    return cid_string(cid_binary(0x55, data))


def from_json(j):
    """atproto JSON (as Python values) -> model (for inputs known to be valid)."""
    if isinstance(j, bool) or j is None or isinstance(j, str):
        return j
    if isinstance(j, int):
        assert INT64_MIN <= j <= INT64_MAX
        return j
    if isinstance(j, float):
        assert j == int(j)
        return int(j)
    if isinstance(j, list):
        return [from_json(x) for x in j]
    assert isinstance(j, dict)
    if "$link" in j:
        assert len(j) == 1
        return Link(cid_from_string(j["$link"]))
    if "$bytes" in j:
        assert len(j) == 1
        text = j["$bytes"].rstrip("=")
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    return {k: from_json(v) for k, v in j.items()}


def to_json(v):
    """model -> atproto JSON, the way the reference's to_json writes it."""
    if isinstance(v, Link):
        return {"$link": cid_string(v.binary)}
    if isinstance(v, bytes):
        return {"$bytes": b64_unpadded(v)}
    if isinstance(v, list):
        return [to_json(x) for x in v]
    if isinstance(v, dict):
        return {k: to_json(x) for k, x in v.items()}
    return v


def text(s):
    """CBOR text string, as hex."""
    return cbor(s).hex()


def wrap(item_hex, key="a"):
    """{key: item} as CBOR hex, the item given as hex (possibly malformed)."""
    return "a1" + text(key) + item_hex


def nest_json(levels, leaf):
    v = leaf
    for _ in range(levels):
        v = [v]
    return v


# Example CIDs: digests of fixed strings, so anyone can recompute them.
POST_CID = dag_cid(cbor({"text": "an earlier post"}))
IMAGE_CID = raw_cid(b"example image bytes")
AVATAR_CID = raw_cid(b"example avatar bytes")
SPEC_LINK = "bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a"
SPEC_BYTES = "nFERjvLLiw9qm45JrqH9QTzyC2Lu1Xb4ne6+sBrCzI0"
SPEC_BLOB = "bafkreibjfgx2gprinfvicegelk5kosd6y2frmqpqzwqkg7usac74l3t2v4"
DIGEST = hashlib.sha256(b"atproto").digest()
LINK_BIN = cid_from_string(SPEC_LINK)


def blob(ref, mime="image/jpeg", size=12345):
    return {"$type": "blob", "ref": {"$link": ref}, "mimeType": mime, "size": size}


POST = {
    "$type": "app.bsky.feed.post",
    "text": "Hello ✨ @alice.example.com #atproto https://example.com",
    "createdAt": "2024-11-05T12:34:56.789Z",
    "langs": ["en", "ja"],
    "facets": [
        {"index": {"byteStart": 10, "byteEnd": 28},
         "features": [{"$type": "app.bsky.richtext.facet#mention",
                       "did": "did:plc:ewvi7nxzyoun6zhxrhs64oiz"}]},
        {"index": {"byteStart": 29, "byteEnd": 37},
         "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "atproto"}]},
        {"index": {"byteStart": 38, "byteEnd": 57},
         "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://example.com"}]},
    ],
    "embed": {
        "$type": "app.bsky.embed.images",
        "images": [{"alt": "a cat on a keyboard", "image": blob(IMAGE_CID),
                    "aspectRatio": {"width": 1200, "height": 800}}],
    },
}

REPLY = {
    "$type": "app.bsky.feed.post",
    "text": "reply",
    "createdAt": "2024-11-05T12:35:00Z",
    "reply": {
        "root": {"uri": "at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3l6oveex3ii2l",
                 "cid": POST_CID},
        "parent": {"uri": "at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3l6oveex3ii2l",
                   "cid": POST_CID},
    },
}

LIKE = {
    "$type": "app.bsky.feed.like",
    "subject": {"uri": "at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3l6oveex3ii2l",
                "cid": POST_CID},
    "createdAt": "2024-11-05T12:40:00.000Z",
}

PROFILE = {
    "$type": "app.bsky.actor.profile",
    "displayName": "Alice 🦋",
    "description": "line one\nline two\ttabbed",
    "avatar": blob(AVATAR_CID, "image/png", 2048),
}

LEGACY_PROFILE = {
    "$type": "app.bsky.actor.profile",
    "displayName": "Old Alice",
    "avatar": {"cid": AVATAR_CID, "mimeType": "image/jpeg"},
}

COMMIT_LIKE = {
    "did": "did:plc:ewvi7nxzyoun6zhxrhs64oiz",
    "version": 3,
    "data": {"$link": POST_CID},
    "rev": "3l6oveex3ii2l",
    "prev": None,
    "sig": {"$bytes": b64_unpadded(bytes(range(64)))},
}

INT_EDGES = [
    ("zero", 0, "The smallest head: the value sits in the initial byte."),
    ("one", 1, "A small positive integer."),
    ("23", 23, "The largest integer held in the initial byte."),
    ("24", 24, "The smallest integer that needs a one-byte argument."),
    ("255", 255, "The largest one-byte argument."),
    ("256", 256, "The smallest two-byte argument."),
    ("65535", 65535, "The largest two-byte argument."),
    ("65536", 65536, "The smallest four-byte argument."),
    ("2p32-minus-1", (1 << 32) - 1, "The largest four-byte argument."),
    ("2p32", 1 << 32, "The smallest eight-byte argument."),
    ("2p53-minus-1", (1 << 53) - 1, "The largest integer JavaScript numbers hold exactly."),
    ("2p53", 1 << 53, "Past the 53-bit advice, still a valid 64-bit integer."),
    ("int64-max", INT64_MAX, "The largest signed 64-bit integer."),
    ("minus-1", -1, "The smallest negative head: major type 1, argument 0."),
    ("minus-24", -24, "The last negative integer held in the initial byte."),
    ("minus-25", -25, "The first negative integer that needs a one-byte argument."),
    ("minus-256", -256, "The last negative one-byte argument."),
    ("minus-257", -257, "The first negative two-byte argument."),
    ("minus-65537", -65537, "The first negative four-byte argument."),
    ("minus-2p32-minus-1", -(1 << 32) - 1, "The first negative eight-byte argument."),
    ("minus-2p53-plus-1", -(1 << 53) + 1, "The most negative integer JavaScript holds exactly."),
    ("int64-min", INT64_MIN, "The smallest signed 64-bit integer."),
]


def int_reqs(v):
    reqs = [INT_SHORT]
    if v in (INT64_MAX, INT64_MIN):
        reqs.append(INT64)
    if abs(v) >= (1 << 53):
        reqs.append(SAFE)
    return reqs


# Values valid in both directions: (slug, atproto JSON, requirements, comment).
# Encode checks JSON -> bytes; decode checks the same bytes -> JSON.
COMMON_VALID = [
    ("empty-object", {}, [RECORD], "The smallest record: an empty map (0xa0)."),
] + [
    (f"int-{slug}", {"n": v}, int_reqs(v), comment) for slug, v, comment in INT_EDGES
] + [
    ("int-array-all-widths", {"ints": [0, 24, 256, 65536, 1 << 32, -1, -25, -257, -65537]},
     [INT_SHORT], "One integer of each head width, positive and negative, in one array."),
    ("string-empty", {"s": ""}, [UTF8, LEN_SHORT], "The empty text string (0x60)."),
    ("string-ascii", {"s": "hello world"}, [UTF8], "A plain ASCII string."),
    ("string-emoji", {"s": "🦋🏳️‍🌈👍🏽"}, [UTF8],
     "Four-byte UTF-8 sequences, a ZWJ sequence and a skin tone modifier, byte for byte."),
    ("string-nul-inside", {"s": "a\u0000b"}, [UTF8],
     "U+0000 is a valid character inside a string; it is kept, not a terminator."),
    ("string-cjk-and-accents", {"s": "日本語 café e\u0301"}, [UTF8],
     "Three-byte characters, a precomposed and a combining accent; no normalization applied."),
    ("string-control-chars", {"s": "tab\tnewline\nquote\"backslash\\"}, [UTF8],
     "Control and escaped characters are plain bytes in CBOR."),
    ("string-23-bytes", {"s": "x" * 23}, [LEN_SHORT], "The longest string with the length in the initial byte."),
    ("string-24-bytes", {"s": "x" * 24}, [LEN_SHORT], "The shortest string with a one-byte length."),
    ("string-256-bytes", {"s": "é" * 128}, [LEN_SHORT, UTF8],
     "128 two-byte characters: the length counts 256 bytes, not 128 characters."),
    ("string-noncharacter", {"s": "\ufffe\uffff\U0010ffff"}, [UTF8],
     "Noncharacters and the last code point are valid Unicode scalar values."),
    ("keys-by-length", {"ccc": 3, "a": 1, "bb": 2}, [KEY_ORDER],
     "Keys are written shortest first, whatever order the JSON has."),
    ("keys-length-before-bytes", {"aa": 1, "b": 2, "z": 3}, [KEY_ORDER],
     "'b' and 'z' come before 'aa' because they are shorter, though 'aa' sorts first bytewise."),
    ("keys-same-length-bytewise", {"b": 1, "a": 2, "B": 3, "_": 4}, [KEY_ORDER],
     "Keys of equal length in bytewise order: 'B' (0x42) < '_' (0x5f) < 'a' < 'b'."),
    ("keys-non-ascii", {"é": 1, "zz": 2, "z": 3, "日": 4}, [KEY_ORDER, UTF8],
     "Key length is in UTF-8 bytes: 'z' (1), then 'zz' and 'é' (2 bytes, 0x7a < 0xc3), then '日' (3)."),
    ("keys-empty-key", {"": 0, "a": 1}, [KEY_ORDER],
     "The empty string is a valid key and sorts first."),
    ("keys-24-bytes", {"k" * 24: 1, "k" * 23: 2}, [KEY_ORDER, LEN_SHORT],
     "A key with a one-byte length head sorts after a 23-byte key."),
    ("keys-dollar-unknown", {"$unknown": 1, "$type": "com.example.thing", "x": 2}, [DOLLAR, TYPE],
     "Unknown '$' fields are kept as ordinary map entries, not rejected."),
    ("null-and-falsey", {"null": None, "false": False, "zero": 0, "list": [], "map": {}, "str": ""},
     [NULLS], "null, false, 0, empty list, empty map and empty string are all distinct values."),
    ("booleans", {"t": True, "f": False}, [SIMPLE], "true is 0xf5, false is 0xf4."),
    ("bytes-empty", {"b": {"$bytes": ""}}, [J_BYTES], "Zero-length bytes (0x40)."),
    ("bytes-short", {"b": {"$bytes": "AQID"}}, [J_BYTES, J_B64], "The bytes 01 02 03."),
    ("bytes-spec-example", {"b": {"$bytes": SPEC_BYTES}}, [J_BYTES, J_B64],
     "The spec's example $bytes value, 32 bytes, with '+' from the standard alphabet."),
    ("bytes-all-values", {"b": {"$bytes": b64_unpadded(bytes(range(256)))}}, [J_BYTES, LEN_SHORT],
     "Every byte value 0-255: a byte string with a two-byte length."),
    ("link-dag-cbor", {"l": {"$link": SPEC_LINK}}, [J_LINK, CIDLINK],
     "The spec's example link: tag 42 over 0x00 and the 36-byte binary CID."),
    ("link-raw", {"l": {"$link": SPEC_BLOB}}, [J_LINK, CIDLINK],
     "A link with the raw codec (0x55), as blobs use."),
    ("links-in-array", {"ls": [{"$link": POST_CID}, {"$link": IMAGE_CID}, None]},
     [J_LINK, CIDLINK], "Links as array items, next to a null."),
    ("nested-arrays", {"a": [[], [[]], [1, [2, [3]]]]}, [], "Arrays inside arrays."),
    ("nested-maps", {"a": {"b": {"c": {"d": {}}}}, "e": [{"f": {"g": [{}]}}]}, [],
     "Maps inside maps and arrays."),
    ("mixed-array", {"a": [None, True, 1, -1, "s", {"$bytes": "AA"}, {"$link": POST_CID}, [], {}]},
     [], "One array holding every kind."),
    ("depth-128", {"a": nest_json(126, [])}, [DEPTH],
     "128 nested containers (the top map and 127 arrays), the most our decoders accept."),
    ("blob", {"image": blob(SPEC_BLOB, "image/png", 1)}, [BLOB_SHAPE],
     "A blob node with the smallest valid size."),
    ("blob-octet-stream", {"file": blob(IMAGE_CID, "application/octet-stream", 1 << 40)},
     [BLOB_SHAPE, "data.blob.mime-unknown"], "A blob of unknown content type, larger than 4 GiB."),
    ("blob-extra-field", {"image": {**blob(IMAGE_CID), "$extra": True, "width": 10}}, [BLOB_SHAPE, DOLLAR],
     "Fields beyond the four of a blob are kept and ignored."),
    ("blob-legacy", LEGACY_PROFILE, [BLOB_LEGACY],
     "A legacy blob reference (string cid, no $type) is read without error and kept as an ordinary map."),
    ("record-post", POST, [RECORD, TYPE, BLOB_SHAPE],
     "A post record with text, createdAt, langs, facets and an image embed holding a blob."),
    ("record-reply", REPLY, [RECORD, TYPE],
     "A post with reply references; the CIDs there are strings (format cid), not links."),
    ("record-like", LIKE, [RECORD, TYPE], "A like record with a strong reference."),
    ("record-profile", PROFILE, [RECORD, TYPE, BLOB_SHAPE], "A profile record with an avatar blob."),
    ("commit-like", COMMIT_LIKE, [NULLS, CIDLINK, J_BYTES],
     "A commit-shaped object: a link, a null field and 64 bytes of signature."),
]

# --------------------------------------------------------------------------
# Second looks: cases on which both independent implementations we run (the
# official TypeScript one and atcute) disagree with the verdict.
# conformance/conformance_test.py fails when such a case has no review.

BOTH = ["@atproto/lex-cbor 0.1.6 + @atproto/lex-json 0.1.9", "@atcute/cbor 2.3.6"]
REVIEWS = [
    (r"^data\.(encode|decode)\.valid\.(int-2p53|int-int64-max|int-int64-min"
     r"|float-integer-valued-2p53)$", BOTH,
     "Both stop at the JavaScript safe-integer range (2^53 - 1). The data model's integer is "
     "signed 64-bit; keeping values within 53 bits is advice to schema authors and producers, "
     "not a licence for a codec to refuse the rest of the 64-bit range.",
     "https://atproto.com/specs/data-model#data-types"),
    (r"^data\.decode\.invalid\.float-double(-integer)?$", BOTH,
     "Both decode a 64-bit CBOR float into a number. The data model has no floating-point "
     "type at all, and an integer-valued float is still a float on the wire, with a different "
     "encoding and so a different CID from the integer.",
     "https://atproto.com/specs/data-model#data-types"),
    (r"^data\.decode\.invalid\.type-(empty|integer|bytes)$", BOTH,
     "Both decode the CBOR without looking at $type. Wherever $type appears in a record it "
     "must be a non-empty string; a decoder that hands such a record on as valid lets the "
     "error travel to every consumer.",
     "https://atproto.com/specs/data-model#data-types"),
    (r"^data\.decode\.invalid\.blob-", BOTH,
     "Both decode a $type 'blob' map without checking its fields. A blob needs a raw-codec "
     "cid-link ref, a non-empty mimeType and a positive size; the legacy form is a different "
     "shape and does not excuse a malformed current one.",
     "https://atproto.com/specs/data-model#blob-type"),
    (r"^data\.(encode\.invalid\.depth-129|decode\.invalid\.depth-129-(arrays|maps))$", BOTH,
     "Both accept nesting 129 levels deep. The spec sets no number: it asks decoders of "
     "untrusted data to guard against deep nesting, and this vector pins our documented limit "
     "of 128 levels. The runner grades it at the requirement's 'should' level (non-strict), "
     "so a different limit is reported, not failed.",
     "https://atproto.com/specs/data-model#security-and-privacy-considerations"),
    (r"^data\.encode\.invalid\.(blob-size-zero|blob-in-array-bad)$", BOTH,
     "Both accept a blob whose size is 0. The blob's size is its length in bytes and the data "
     "model requires it to be positive; zero or negative sizes are the internal marker the "
     "spec suggests for legacy blobs and must never be written in the current form.",
     "https://atproto.com/specs/data-model#blob-type"),
    (r"^data\.encode\.invalid\.duplicate-key(-nested)?$", BOTH,
     "Both parse the request with JSON.parse, which keeps the last of two equal keys, and "
     "encode the result. A data model map holds each key once, so JSON text that repeats a "
     "key is not a data model value; the runner sends the text as written (json_text), and a "
     "reader of atproto JSON needs a parser that reports the repetition.",
     "https://atproto.com/specs/data-model#data-types"),
]


class VectorFile(vectorgen.VectorFile):
    def __init__(self, name, operation, description, spec):
        super().__init__("data", name, operation, description, spec, reviews=REVIEWS)


def reqs_with(error, requirements, alt=()):
    out = []
    for r in [error, *alt, *requirements]:
        if r and r not in out:
            out.append(r)
    return out


class EncodeFile(VectorFile):
    def valid(self, slug, value, requirements, comment):
        model = from_json(value)
        data = cbor(model)
        reqs = list(requirements) or [RECORD]
        self.add_case({"id": f"data.encode.valid.{slug}", "requirements": reqs, "json": value,
                   "valid": True, "cbor_hex": data.hex(), "cid": dag_cid(data), "comment": comment})

    def invalid(self, slug, value, error, comment, requirements=(), json_text=None):
        case = {"id": f"data.encode.invalid.{slug}", "requirements": reqs_with(error, requirements)}
        if json_text is not None:
            case["json_text"] = json_text
        else:
            case["json"] = value
        case.update({"valid": False, "error": error, "comment": comment})
        self.add_case(case)


class DecodeFile(VectorFile):
    def valid(self, slug, value, requirements, comment):
        model = from_json(value)
        data = cbor(model)
        reqs = list(requirements) or [RECORD]
        self.add_case({"id": f"data.decode.valid.{slug}", "requirements": reqs, "cbor_hex": data.hex(),
                   "valid": True, "json": to_json(model), "cid": dag_cid(data), "comment": comment})

    def invalid(self, slug, hex_, error, comment, requirements=(), alt=()):
        bytes.fromhex(hex_)  # well-formed hex
        case = {"id": f"data.decode.invalid.{slug}",
                "requirements": reqs_with(error, requirements, alt),
                "cbor_hex": hex_, "valid": False, "error": error}
        if alt:
            case["alternate_errors"] = list(alt)
        case["comment"] = comment
        self.add_case(case)


FILES = []

# --------------------------------------------------------------------------
# encode.json

enc = EncodeFile(
    "encode", "encode",
    "atproto JSON to DRISL-CBOR in strict mode: the input is a record (an object at the top), "
    "floats other than integer-valued numbers are refused, $type must be a non-empty string, "
    "and malformed $link, $bytes and blob objects are refused. Valid cases give the canonical "
    "CBOR bytes and the CIDv1 (dag-cbor, sha-256) of those bytes.",
    [SPEC + "data-model#data-types", SPEC + "data-model#json-representation",
     SPEC + "data-model#link-and-cid-formats", SPEC + "data-model#blob-type",
     SPEC + "blob#blob-metadata"])
FILES.append(enc)

for slug, value, reqs, comment in COMMON_VALID:
    enc.valid(slug, value, reqs, comment)

ev = enc.valid
ev("float-integer-valued", {"n": 123.0}, [FLOATS, INT_SHORT],
   "A JSON number written 123.0 holds an integer and is the integer 123.")
ev("float-integer-valued-negative", {"n": -7.0}, [FLOATS], "-7.0 is the integer -7.")
ev("float-integer-valued-zero", {"n": 0.0}, [FLOATS], "0.0 is the integer 0.")
ev("float-integer-valued-2p53", {"n": 9007199254740992.0}, [FLOATS, SAFE],
   "2^53 written as a float is an integer with an eight-byte head.")
ev("bytes-padded", {"b": {"$bytes": "AQI="}}, [J_B64],
   "'=' padding is optional in $bytes: AQI= is the bytes 01 02.")
ev("bytes-unpadded", {"b": {"$bytes": "AQI"}}, [J_B64], "The same bytes 01 02 without padding.")
ev("bytes-double-padded", {"b": {"$bytes": "AQ=="}}, [J_B64], "A single byte 01 with two '=' of padding.")
ev("key-order-in-json-ignored", {"z": 1, "y": {"b": 2, "a": 1}, "x": 0}, [KEY_ORDER, "data.json.not-canonical"],
   "JSON key order carries no meaning; the CBOR is the same for any order.")

ei = enc.invalid
# Top level must be an object.
ei("top-null", None, RECORD, "A record is an object; null at the top is refused in strict mode.")
ei("top-true", True, RECORD, "A boolean at the top is not a record.")
ei("top-integer", 42, RECORD, "An integer at the top is not a record.")
ei("top-string", "record", RECORD, "A string at the top is not a record.")
ei("top-empty-array", [], RECORD, "An array at the top is not a record.")
ei("top-array-of-object", [{}], RECORD, "An array holding a record is still not a record.")
ei("top-link", {"$link": SPEC_LINK}, RECORD,
   "A $link object at the top is a cid-link value, not a map.")
ei("top-bytes", {"$bytes": "AQID"}, RECORD, "A $bytes object at the top is a bytes value, not a map.")
# Floats.
ei("float-fraction", {"n": 1.5}, FLOATS, "A number with a fractional part is a float.")
ei("float-negative-fraction", {"n": -0.5}, FLOATS, "A negative float.")
ei("float-tiny", {"n": 1e-07}, FLOATS, "A float written with an exponent.")
ei("float-near-integer", {"n": 1.0000000000000002}, FLOATS,
   "The double right after 1.0 is not an integer.")
ei("float-half-above-2p52", {"n": 4503599627370495.5}, FLOATS,
   "A large double with a fractional part of one half.")
ei("float-in-array", {"a": [1, 2, 0.1]}, FLOATS, "A float inside an array.")
ei("float-deep", {"a": {"b": [{"c": 2.25}]}}, FLOATS, "A float nested in maps and arrays.")
ei("float-blob-size", {"image": blob(IMAGE_CID, size=1.5)}, FLOATS,
   "A fractional blob size is a float before it is a bad size.", [BLOB_SIZE])
# 64-bit range.
ei("int-2p63", {"n": 9223372036854775808}, INT64, "2^63 is one above the signed 64-bit range.")
ei("int-2p64-minus-1", {"n": 18446744073709551615}, INT64,
   "The largest unsigned 64-bit integer is outside the signed range.")
ei("int-2p64", {"n": 18446744073709551616}, INT64, "2^64 needs more than 64 bits.")
ei("int-minus-2p63-minus-1", {"n": -9223372036854775809}, INT64,
   "One below the smallest signed 64-bit integer. A parser that reads this as a double "
   "rounds it to -2^63 and wrongly accepts it.")
ei("int-huge", {"n": 123456789012345678901234567890}, INT64, "A 30-digit integer.")
ei("float-integer-valued-1e300", {"n": 1e300}, INT64,
   "An integer-valued float far outside the 64-bit range.", [FLOATS])
ei("float-integer-valued-2p63", {"n": 9.223372036854775808e18}, INT64,
   "2^63 written as a float: an integer value, but outside the signed 64-bit range.", [FLOATS])
# $type.
ei("type-empty", {"$type": ""}, TYPE, "$type is present but empty.")
ei("type-integer", {"$type": 1}, TYPE, "$type is an integer.")
ei("type-null", {"$type": None}, TYPE, "$type is null; present is present.")
ei("type-boolean", {"$type": True}, TYPE, "$type is a boolean.")
ei("type-array", {"$type": ["app.bsky.feed.post"]}, TYPE, "$type is an array holding a string.")
ei("type-object", {"$type": {}}, TYPE, "$type is an object.")
ei("type-empty-nested", {"$type": "app.bsky.feed.post", "embed": {"$type": ""}}, TYPE,
   "The rule holds for nested objects too.")
# $link.
ei("link-extra-key", {"l": {"$link": SPEC_LINK, "extra": 1}}, J_LINK,
   "A $link object has exactly one key.")
ei("link-with-type", {"l": {"$link": SPEC_LINK, "$type": "link"}}, J_LINK,
   "Not even $type may sit next to $link.")
ei("link-number", {"l": {"$link": 42}}, J_LINK, "The $link value must be a string.")
ei("link-null", {"l": {"$link": None}}, J_LINK, "The $link value must be a string, not null.")
ei("link-object", {"l": {"$link": {"/": SPEC_LINK}}}, J_LINK, "A DAG-JSON style link inside $link.")
ei("link-cidv0", {"l": {"$link": "QmY7Yh4UquoXHLPFo2XbhXkhBvFoPwmQUSa92pxnxjQuPU"}}, CID_STRING,
   "A CIDv0 string (base58 'Qm...') is not a blessed CID.", [CID_VERSION])
ei("link-uppercase", {"l": {"$link": SPEC_LINK.upper()}}, CID_STRING,
   "Uppercase base32 ('B' prefix) is not the blessed string form.")
ei("link-base58-prefix",
   {"l": {"$link": "z" + base58(LINK_BIN)}},
   CID_STRING, "A 'z' (base58btc) prefix: CID strings use base32 with 'b'.")
ei("link-empty", {"l": {"$link": ""}}, CID_STRING, "An empty CID string.")
ei("link-padded", {"l": {"$link": SPEC_LINK + "======"}}, CID_STRING,
   "Base32 padding is not part of the CID string form.")
ei("link-dag-pb", {"l": {"$link": cid_string(b"\x01\x70\x12\x20" + DIGEST)}}, CID_CODEC,
   "A CIDv1 with the dag-pb codec (0x70).")
ei("link-blake2b", {"l": {"$link": cid_string(b"\x01\x71" + varint(0xb220) + b"\x20"
                                                + hashlib.blake2b(b"x", digest_size=32).digest())}},
   CID_HASH, "A CIDv1 hashed with blake2b-256 (multihash 0xb220), 32 bytes of digest.")
ei("link-short-digest", {"l": {"$link": cid_string(b"\x01\x71\x12\x1f" + DIGEST[:31])}}, CID_HASH,
   "A sha2-256 multihash declaring a 31-byte digest.")
ei("link-truncated", {"l": {"$link": cid_string(b"\x01\x71\x12\x20" + DIGEST[:27])}}, CID_BINARY,
   "The digest stops 5 bytes short of 32.")
ei("link-trailing-byte", {"l": {"$link": cid_string(b"\x01\x71\x12\x20" + DIGEST + b"\x00")}},
   CID_BINARY, "One byte after the digest.")
ei("link-version-2", {"l": {"$link": cid_string(b"\x02\x71\x12\x20" + DIGEST)}}, CID_VERSION,
   "CID version 2 does not exist.")
# $bytes.
ei("bytes-extra-key", {"b": {"$bytes": "AQID", "x": 1}}, J_BYTES, "A $bytes object has exactly one key.")
ei("bytes-number", {"b": {"$bytes": 1}}, J_BYTES, "The $bytes value must be a string.")
ei("bytes-null", {"b": {"$bytes": None}}, J_BYTES, "The $bytes value must be a string, not null.")
ei("bytes-url-safe", {"b": {"$bytes": "-_-_"}}, J_B64,
   "The URL-safe base64 alphabet ('-', '_') is not the standard one.")
ei("bytes-bad-char", {"b": {"$bytes": "AQ*D"}}, J_B64, "'*' is not a base64 character.")
ei("bytes-space", {"b": {"$bytes": "AQ ID"}}, J_B64, "Whitespace is not base64.")
ei("bytes-one-leftover", {"b": {"$bytes": "AQIDB"}}, J_B64,
   "Five characters: the last one alone carries 6 bits, which no byte string encodes to.")
ei("bytes-bad-padding", {"b": {"$bytes": "AQ="}}, J_B64, "Padding that does not complete a group of four.")
ei("bytes-too-much-padding", {"b": {"$bytes": "AQI=="}}, J_B64, "Two '=' after three characters.")
ei("bytes-nonzero-spare-bits", {"b": {"$bytes": "AR"}}, J_B64,
   "'AR' leaves non-zero unused bits; the canonical text of the byte 01 is 'AQ'.")
# Blobs.
ei("blob-no-ref", {"image": {"$type": "blob", "mimeType": "image/png", "size": 1}}, BLOB_SHAPE,
   "A blob without ref.")
ei("blob-ref-string", {"image": {"$type": "blob", "ref": IMAGE_CID, "mimeType": "image/png", "size": 1}},
   BLOB_SHAPE, "The ref of a blob is a link, not a CID string.")
ei("blob-ref-dag-cbor", {"image": blob(POST_CID)}, BLOB_RAW, "A blob ref with the dag-cbor codec.")
ei("blob-no-mime-type", {"image": {"$type": "blob", "ref": {"$link": IMAGE_CID}, "size": 1}}, BLOB_SHAPE,
   "A blob without mimeType.")
ei("blob-mime-type-empty", {"image": blob(IMAGE_CID, mime="")}, BLOB_MIME, "An empty mimeType.")
ei("blob-mime-type-number", {"image": blob(IMAGE_CID, mime=1)}, BLOB_SHAPE, "A mimeType that is not a string.")
ei("blob-no-size", {"image": {"$type": "blob", "ref": {"$link": IMAGE_CID}, "mimeType": "image/png"}},
   BLOB_SHAPE, "A blob without size.")
ei("blob-size-zero", {"image": blob(IMAGE_CID, size=0)}, BLOB_SIZE, "A blob size of zero.")
ei("blob-size-negative", {"image": blob(IMAGE_CID, size=-1)}, BLOB_SIZE,
   "A negative size, the in-memory mark of a legacy blob, is never written out.",
   ["data.blob.legacy-no-write"])
ei("blob-size-string", {"image": blob(IMAGE_CID, size="12345")}, BLOB_SHAPE, "A size that is a string.")
ei("blob-only-type", {"image": {"$type": "blob"}}, BLOB_SHAPE, "$type blob and nothing else.")
ei("blob-in-array-bad", {"images": [blob(IMAGE_CID), blob(IMAGE_CID, size=0)]}, BLOB_SIZE,
   "Blobs are checked wherever they sit, here the second item of an array.")
# Nesting and duplicate keys.
ei("depth-129", {"a": nest_json(127, [])}, DEPTH,
   "129 nested containers: one more than our limit of 128 (the limit itself is a 'should').")
ei("duplicate-key", None, KEY_UNIQUE,
   "The same key twice in one object: a data model map holds each key once. Given as raw "
   "text, since parsed JSON cannot hold it.", json_text='{"a": 1, "a": 2}')
ei("duplicate-key-nested", None, KEY_UNIQUE,
   "A repeated key in a nested object, with the same value both times.",
   json_text='{"$type": "com.example.thing", "inner": {"text": "x", "text": "x"}}')

# --------------------------------------------------------------------------
# decode.json

dec = DecodeFile(
    "decode", "decode",
    "Strict DRISL-CBOR decoding of a record: exactly one canonical data item, a map at the top, "
    "with the data model checks ($type, blobs). Valid cases give the atproto JSON of the value "
    "($bytes unpadded) and the CIDv1 (dag-cbor, sha-256) of the input bytes.",
    [SPEC + "data-model#data-types", SPEC + "data-model#link-and-cid-formats",
     SPEC + "data-model#json-representation", SPEC + "data-model#blob-type",
     SPEC + "data-model#security-and-privacy-considerations"])
FILES.append(dec)

for slug, value, reqs, comment in COMMON_VALID:
    dec.valid(slug, value, reqs, comment)

dv = dec.valid
dv("bytes-padding-dropped", {"b": {"$bytes": "AQI="}}, [J_B64],
   "Decoded bytes come back as unpadded base64 ('AQI').")

di = dec.invalid
A = wrap  # {"a": <item>}


def tag42(content):
    return "d82a" + head(2, len(content)).hex() + content.hex()


# Not a map at the top.
di("top-integer", "01", RECORD, "A lone integer is well-formed CBOR but not a record.")
di("top-array", "80", RECORD, "An empty array at the top.")
di("top-null", "f6", RECORD, "null at the top.")
di("top-string", "60", RECORD, "An empty text string at the top.")
di("top-bytes", "40", RECORD, "An empty byte string at the top.")
di("top-link", tag42(b"\x00" + LINK_BIN), RECORD, "A cid-link at the top.")
# Shortest integers.
di("int-1-byte-23", A("1817"), INT_SHORT, "23 written with a one-byte argument (0x18 0x17).")
di("int-1-byte-0", A("1800"), INT_SHORT, "0 written with a one-byte argument.")
di("int-2-bytes-255", A("1900ff"), INT_SHORT, "255 written with a two-byte argument.")
di("int-4-bytes-65535", A("1a0000ffff"), INT_SHORT, "65535 written with a four-byte argument.")
di("int-8-bytes-2p32-minus-1", A("1b00000000ffffffff"), INT_SHORT,
   "2^32-1 written with an eight-byte argument.")
di("int-8-bytes-zero", A("1b0000000000000000"), INT_SHORT, "0 written with an eight-byte argument.")
di("negint-1-byte", A("3817"), INT_SHORT, "-24 written with a one-byte argument.")
di("negint-2-bytes", A("3900ff"), INT_SHORT, "-256 written with a two-byte argument.")
di("negint-4-bytes", A("3a0000ffff"), INT_SHORT, "-65536 written with a four-byte argument.")
di("negint-8-bytes", A("3b00000000ffffffff"), INT_SHORT, "-2^32 written with an eight-byte argument.")
# Shortest lengths and tag numbers.
di("text-length-1-byte", A("780161"), LEN_SHORT, "A one-character string with a one-byte length.")
di("text-length-2-bytes", A("790017" + "78" * 23), LEN_SHORT,
   "A 23-byte string with a two-byte length.")
di("bytes-length-1-byte", A("5800"), LEN_SHORT, "Empty bytes with a one-byte length.")
di("array-length-1-byte", A("9800"), LEN_SHORT, "An empty array with a one-byte length.")
di("map-length-1-byte", "b800", LEN_SHORT, "The empty map with a one-byte length.")
di("map-length-4-bytes", "ba00000001" + text("a") + "01", LEN_SHORT,
   "A one-entry map with a four-byte length.")
di("key-length-1-byte", "a1" + "780161" + "01", LEN_SHORT, "A map key with a one-byte length.")
di("tag-42-2-bytes", A("d9002a" + head(2, 37).hex() + "00" + LINK_BIN.hex()), LEN_SHORT,
   "Tag 42 written with a two-byte tag number.")
# Integers outside 64 bits.
di("int-2p63", A("1b8000000000000000"), INT64, "2^63 is above the signed 64-bit range.")
di("int-2p64-minus-1", A("1bffffffffffffffff"), INT64, "The largest unsigned CBOR integer.")
di("negint-minus-2p63-minus-1", A("3b8000000000000000"), INT64,
   "-2^63-1, one below the signed 64-bit range.")
di("negint-minus-2p64", A("3bffffffffffffffff"), INT64, "-2^64, the most negative CBOR integer.")
# Floats of every width.
di("float-half", A("f93c00"), FLOATS, "Half-precision 1.0.")
di("float-half-zero", A("f90000"), FLOATS, "Half-precision 0.0: integer-valued, still a float.")
di("float-single", A("fa3fc00000"), FLOATS, "Single-precision 1.5.")
di("float-double", A("fb3ff8000000000000"), FLOATS, "Double-precision 1.5.")
di("float-double-integer", A("fb4059000000000000"), FLOATS,
   "Double-precision 100.0: unlike JSON, a CBOR float is never read as an integer.")
di("float-nan", A("f97e00"), FLOATS, "Half-precision NaN.")
di("float-infinity", A("fa7f800000"), FLOATS, "Single-precision infinity.")
# Indefinite lengths.
di("indefinite-bytes", A("5f4101ff"), INDEF, "An indefinite-length byte string with one chunk.")
di("indefinite-text", A("7f6161ff"), INDEF, "An indefinite-length text string with one chunk.")
di("indefinite-array", A("9f01ff"), INDEF, "An indefinite-length array.")
di("indefinite-map", "bf" + text("a") + "01ff", INDEF, "An indefinite-length map at the top.")
di("indefinite-map-nested", A("bfff"), INDEF, "An empty indefinite-length map as a value.")
di("stray-break", A("ff"), INDEF, "A break byte where a value should be.")
# Reserved and ill-formed heads.
di("reserved-info-28", A("1c"), WELL, "Additional information 28 on an integer is reserved.")
di("reserved-info-29-text", A("7d"), WELL, "Additional information 29 on a text string is reserved.")
di("reserved-info-30-array", A("9e"), WELL, "Additional information 30 on an array is reserved.")
di("reserved-info-28-major-7", A("fc"), WELL,
   "0xfc (major 7, additional information 28) is reserved, not a simple value; CBOR calls it "
   "not well-formed.", alt=[SIMPLE])
di("indefinite-integer", A("1f"), WELL, "An integer has no indefinite form (0x1f).")
di("indefinite-tag", A("df"), WELL, "A tag has no indefinite form (0xdf).")
# Simple values.
di("undefined", A("f7"), SIMPLE, "undefined is not in the data model.")
di("simple-0", A("e0"), SIMPLE, "Simple value 0.")
di("simple-19", A("f3"), SIMPLE, "Simple value 19, just below false.")
di("simple-32", A("f820"), SIMPLE, "Simple value 32, in the one-byte form.")
di("simple-255", A("f8ff"), SIMPLE, "Simple value 255.")
# Tags.
di("tag-0-datetime", A("c0" + text("2024-11-05T12:34:56Z")), TAG42, "Tag 0 (date/time string).")
di("tag-1-epoch", A("c11a5f5e1000"), TAG42, "Tag 1 (epoch time).")
di("tag-2-bignum", A("c2420100"), TAG42, "Tag 2 (positive bignum), a way around the 64-bit limit.")
di("tag-41", A("d829" + tag42(b"\x00" + LINK_BIN)[4:]), TAG42, "Tag 41, one below the CID tag.")
di("tag-43", A("d82b" + tag42(b"\x00" + LINK_BIN)[4:]), TAG42, "Tag 43, one above the CID tag.")
di("tag-42-over-text", A("d82a" + text(SPEC_LINK)), CIDLINK, "Tag 42 over a CID string.")
di("tag-42-over-integer", A("d82a01"), CIDLINK, "Tag 42 over an integer.")
di("tag-42-no-zero-prefix", A(tag42(LINK_BIN)), CIDLINK,
   "Tag 42 over the binary CID without the leading 0x00.")
# A wrong prefix byte, not only a missing one: skipping the first byte
# unchecked would read a valid CID from each of these.
di("tag-42-prefix-01", A(tag42(b"\x01" + LINK_BIN)), CIDLINK,
   "Tag 42 over 0x01 and a valid binary CID: the prefix byte must be 0x00.")
di("tag-42-prefix-ff", A(tag42(b"\xff" + LINK_BIN)), CIDLINK,
   "Tag 42 over 0xff and a valid binary CID: the prefix byte must be 0x00.")
di("tag-42-prefix-01-in-array", A("81" + tag42(b"\x01" + LINK_BIN)), CIDLINK,
   "The same wrong 0x01 prefix on a link inside an array.")
di("tag-42-empty-bytes", A("d82a40"), CIDLINK, "Tag 42 over an empty byte string.")
di("tag-42-nested-tag", A("d82a" + tag42(b"\x00" + LINK_BIN)), CIDLINK, "Tag 42 over tag 42.")
di("tag-42-cidv0", A(tag42(b"\x00\x12\x20" + DIGEST)), CID_VERSION,
   "Tag 42 over a CIDv0 (a bare sha2-256 multihash).")
di("tag-42-dag-pb", A(tag42(b"\x00\x01\x70\x12\x20" + DIGEST)), CID_CODEC,
   "Tag 42 over a CIDv1 with the dag-pb codec.")
di("tag-42-sha512", A(tag42(b"\x00\x01\x71\x13\x40" + hashlib.sha512(b"x").digest())), CID_HASH,
   "Tag 42 over a CIDv1 hashed with sha2-512.")
di("tag-42-digest-short", A(tag42(b"\x00\x01\x71\x12\x20" + DIGEST[:31])), CID_BINARY,
   "The CID declares 32 digest bytes, the byte string holds 31.")
di("tag-42-trailing-byte", A(tag42(b"\x00\x01\x71\x12\x20" + DIGEST + b"\x00")), CID_BINARY,
   "One byte after the CID digest, inside the tag 42 byte string.")
di("tag-42-varint-not-minimal", A(tag42(b"\x00\x81\x00\x71\x12\x20" + DIGEST)), CID_BINARY,
   "The CID version written as the two-byte varint 0x81 0x00.", alt=[VARINT_MIN])
# Map keys.
di("key-true", "a1f501", KEY_STR, "true as a map key.")
di("key-null", "a1f601", KEY_STR, "null as a map key.")
di("key-integer", "a10102", KEY_STR, "An integer map key.")
di("key-bytes", "a1416101", KEY_STR, "A byte string key, even one holding 'a'.")
di("key-array", "a18001", KEY_STR, "An array as a map key.")
di("keys-unsorted-by-length", "a2" + text("bb") + "01" + text("a") + "02", KEY_ORDER,
   "'bb' before 'a': the shorter key comes first.")
di("keys-unsorted-bytewise", "a2" + text("b") + "01" + text("a") + "02", KEY_ORDER,
   "'b' before 'a': equal lengths sort bytewise.")
di("keys-sorted-bytewise-not-by-length", "a2" + text("aa") + "01" + text("b") + "02", KEY_ORDER,
   "'aa' before 'b' is plain bytewise order, not the length-first order DRISL uses.")
di("keys-unsorted-non-ascii", "a2" + text("é") + "01" + text("zz") + "02", KEY_ORDER,
   "'é' (0xc3 0xa9) before 'zz' (0x7a 0x7a): two bytes each, so bytewise decides.")
di("keys-unsorted-last", "a3" + text("a") + "01" + text("c") + "02" + text("b") + "03", KEY_ORDER,
   "Only the last key is out of place.")
di("keys-unsorted-nested", A("a2" + text("y") + "01" + text("x") + "02"), KEY_ORDER,
   "Unsorted keys in a nested map.")
di("keys-duplicate", "a2" + text("a") + "01" + text("a") + "02", KEY_UNIQUE, "The key 'a' twice.")
di("keys-duplicate-same-value", "a2" + text("a") + "01" + text("a") + "01", KEY_UNIQUE,
   "The key 'a' twice with the same value.")
di("keys-duplicate-empty", "a2" + text("") + "01" + text("") + "02", KEY_UNIQUE, "The empty key twice.")
# Trailing bytes.
di("trailing-zero", "a000", TRAILING, "A zero byte after the map.")
di("trailing-second-map", "a0a0", TRAILING, "Two maps in one block.")
di("trailing-break", "a0ff", TRAILING, "A break byte after a complete map.")
di("trailing-after-record", A("01") + "f6", TRAILING, "A null after a one-entry map.")
# Truncated input, at each kind of position.
di("truncated-empty", "", TRUNC, "No bytes at all.")
di("truncated-map-value", "a1" + text("a"), TRUNC, "Input ends where a map value should start.")
di("truncated-map-key", "a2" + text("a") + "01", TRUNC, "Input ends where the second key should start.")
di("truncated-key-body", "a1" + "6361", TRUNC, "Input ends inside a map key.")
di("truncated-int-argument", A("1901"), TRUNC, "Input ends inside a two-byte integer argument.")
di("truncated-int-8-byte-argument", A("1b00000001"), TRUNC, "Input ends inside an eight-byte argument.")
di("truncated-length-argument", "b9", TRUNC, "Input ends inside a map length argument.")
di("truncated-text-body", A("636162"), TRUNC, "A three-byte string with two bytes present.")
di("truncated-bytes-body", A("430102"), TRUNC, "A three-byte byte string with two bytes present.")
di("truncated-array-items", A("8201"), TRUNC, "An array of two with one item present.")
di("truncated-huge-array", A("9bffffffffffffffff"), TRUNC,
   "An array declaring 2^64-1 items; decoders must not allocate for it.")
di("truncated-huge-bytes", A("5affffffff"), TRUNC, "A byte string declaring 4 GiB.")
di("truncated-after-tag", A("d82a"), TRUNC, "Input ends right after the tag 42 head.")
di("truncated-cid-bytes", A(tag42(b"\x00" + LINK_BIN)[:-20]), TRUNC,
   "Input ends inside the tag 42 byte string.")
# UTF-8.
di("utf8-lone-continuation", A("6180"), UTF8, "A continuation byte with no lead byte.")
di("utf8-overlong-2-byte", A("62c0af"), UTF8, "'/' written as an overlong two-byte sequence.")
di("utf8-overlong-3-byte", A("63e080af"), UTF8, "'/' written as an overlong three-byte sequence.")
di("utf8-surrogate", A("63eda080"), UTF8, "U+D800, a UTF-16 surrogate, encoded as UTF-8.")
di("utf8-above-max", A("64f4908080"), UTF8, "U+110000, above the last code point.")
di("utf8-byte-f5", A("61f5"), UTF8, "0xf5 never appears in UTF-8.")
di("utf8-truncated-sequence", A("62e282"), UTF8, "A three-byte sequence cut after two bytes.")
di("utf8-latin1", A("636361e9"), UTF8,
   "Latin-1 'é' (0xe9) alone: a lead byte without continuation bytes.")
di("utf8-in-key", "a1" + "62c3" + "28" + "01", UTF8, "A map key with a broken two-byte sequence.")
# Nesting.
di("depth-129-arrays", A("81" * 127 + "80"), DEPTH,
   "The top map and 128 arrays: 129 levels, one more than our limit of 128 (the limit is a 'should').")
di("depth-129-maps", "a16161" * 128 + "a0", DEPTH, "129 nested maps.")
# Data model checks on decoded values.
di("type-empty", "a1" + text("$type") + "60", TYPE, "$type is an empty string.")
di("type-integer", "a1" + text("$type") + "01", TYPE, "$type is an integer.")
di("type-bytes", "a1" + text("$type") + "4161", TYPE, "$type is a byte string.")


def blob_hex(ref_binary, mime="image/png", size_hex="01"):
    entries = {"ref": b"", "size": b"", "$type": b"", "mimeType": b""}
    entries["$type"] = bytes.fromhex(text("blob"))
    entries["ref"] = bytes.fromhex(tag42(b"\x00" + ref_binary))
    entries["mimeType"] = bytes.fromhex(text(mime))
    entries["size"] = bytes.fromhex(size_hex)
    keys = sorted(entries, key=lambda k: (len(k), k))
    return "a4" + "".join(text(k) + entries[k].hex() for k in keys)


IMAGE_BIN = cid_from_string(IMAGE_CID)
POST_BIN = cid_from_string(POST_CID)
assert A(blob_hex(IMAGE_BIN, size_hex="193039"), "image") == cbor(
    from_json({"image": blob(IMAGE_CID, "image/png", 12345)})).hex()
di("blob-ref-dag-cbor", A(blob_hex(POST_BIN), "image"), BLOB_RAW, "A blob ref with the dag-cbor codec.")
di("blob-size-zero", A(blob_hex(IMAGE_BIN, size_hex="00"), "image"), BLOB_SIZE, "A blob size of zero.")
di("blob-size-negative", A(blob_hex(IMAGE_BIN, size_hex="20"), "image"), BLOB_SIZE, "A blob size of -1.")
di("blob-mime-type-empty", A(blob_hex(IMAGE_BIN, mime=""), "image"), BLOB_MIME, "An empty mimeType.")
di("blob-ref-string", A("a4" + text("ref") + text(IMAGE_CID) + text("size") + "01" + text("$type")
                        + text("blob") + text("mimeType") + text("image/png"), "image"),
   BLOB_SHAPE, "A blob whose ref is a CID string, not a link.")
di("blob-ref-prefix-01", A(blob_hex(IMAGE_BIN), "image").replace(
    tag42(b"\x00" + IMAGE_BIN), tag42(b"\x01" + IMAGE_BIN)), CIDLINK,
   "A blob whose ref link starts with 0x01 instead of the 0x00 prefix.")
di("blob-no-size", A("a3" + text("ref") + tag42(b"\x00" + IMAGE_BIN) + text("$type") + text("blob")
                     + text("mimeType") + text("image/png"), "image"),
   BLOB_SHAPE, "A blob without size.")

# --------------------------------------------------------------------------


def main():
    return vectorgen.write_or_check(FILES, OUT_DIR, "gen-data-vectors.py")


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""A seeded request fuzzer for atproto-pds (the ASan/UBSan build).

Every route the server serves gets mutations of a plausible request built
from its Lexicon (parameters and input schema): missing, mistyped, oversized,
repeated and malformed parameters; malformed JSON, wrong field types, records
their lexicon refuses, bad record keys, collections and DIDs; wrong content
types, oversized bodies, huge query strings, wrong HTTP methods; and bad
credentials (no token, tampered signature or payload, alg none, wrong typ, a
refresh token used as an access token, an expired token, another account's
token, garbage), plus raw requests with broken HTTP framing. Each answer must
be below 500 with an XRPC error body when it is not a success
[pds.robust.fuzz-every-route] [pds.service.bad-request] [xrpc.error.body]
[pds.service.auth-invalid] [pds.service.body-limit]; methods it does not
serve answer 501 MethodNotImplemented [pds.service.unknown-method].

The list of routes comes from the server itself: every query, procedure and
subscription of the Lexicons it loads is asked for, and what does not answer
501 MethodNotImplemented is served; the routes registered in
reference/pds/*.cpp must all be among them (so a route without a Lexicon is
still fuzzed), and the run fails unless each was touched, with and without
valid credentials. Afterwards the server must still be alive with no
sanitizer report, accept a valid write, and its repositories must verify.

PDS_FUZZ_SEED and PDS_FUZZ_PER_ROUTE change the seed and the number of
requests per route (default 45; three times as many on the routes that
parse records and repositories).
"""
import base64
import collections
import glob
import json
import os
import re
import shutil
import socket
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pds_test_support as s  # noqa: E402

os.environ.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=1")
os.environ.setdefault("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")

SEED = int(os.environ.get("PDS_FUZZ_SEED", "20261206"))
PER_ROUTE = int(os.environ.get("PDS_FUZZ_PER_ROUTE", "45"))
HERE = os.path.dirname(os.path.abspath(__file__))
ADMIN_PASSWORD = "fuzz-admin-password"
MAX_REQUEST = 200_000
MAX_BLOB = 100_000
MAX_IMPORT = 300_000
ACCESS_SECONDS = 4
POST = "app.bsky.feed.post"
SANITIZER = re.compile(r"ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer")


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def lexicon_methods():
    """{nsid: main def} for every query, procedure and subscription."""
    out = {}
    for path in glob.glob(os.path.join(s.LEXICONS, "**", "*.json"), recursive=True):
        try:
            with open(path) as f:
                doc = json.load(f)
        except ValueError:
            continue
        main = doc.get("defs", {}).get("main", {})
        if main.get("type") in ("query", "procedure", "subscription"):
            out[doc["id"]] = main
    return out


def source_routes():
    """The NSIDs and plain paths reference/pds registers, read from its
    sources (a cross-check of what the server says it serves)."""
    nsids, paths = set(), set()
    for path in glob.glob(os.path.join(HERE, "*.cpp")):
        if path.endswith("_test.cpp") or "test_" in os.path.basename(path):
            continue
        with open(path) as f:
            text = f.read()
        nsids.update(re.findall(r"\b(?:query|procedure|subscription)\(\s*\"([a-z][\w.]+)\"", text))
        paths.update(re.findall(r"\broute\(\s*\"([A-Z]+)\",\s*\"([^\"]+)\"", text))
    return nsids, paths


class Tokens:
    """Fresh access tokens for an account despite --access-token-seconds,
    by refreshSession (or a new session when the refresh token was lost)."""

    def __init__(self, url, name, session):
        self.url, self.name = url, name
        self.lock = threading.Lock()
        self.set(session)

    def set(self, session):
        self.access, self.refresh = session["accessJwt"], session["refreshJwt"]
        self.at = time.time()
        self.did = session["did"]

    def get(self):
        with self.lock:
            if time.time() - self.at > ACCESS_SECONDS / 2:
                r = s.call(self.url, "POST", "com.atproto.server.refreshSession",
                           token=self.refresh)
                if r.status == 200:
                    self.set(r.json())
                else:
                    try:
                        self.set(s.login(self.url, self.name))
                    except RuntimeError:
                        pass  # deactivated or deleted by the fuzzer: stale is fine
            return self.access


class Context:
    """The values plausible requests are built from."""

    def __init__(self, url, main, other, victim, misuse, expired, rkeys, cids, car):
        self.url = url
        self.car = car  # the main account's repository
        self.main, self.other, self.victim = main, other, victim
        self.misuse = misuse  # a session whose refresh token is misused
        self.expired = expired
        self.rkeys, self.cids = rkeys, cids


# Methods whose success would end the main account's usefulness; their
# authenticated variants use the victim account instead.
DESTRUCTIVE = {"com.atproto.server.deleteAccount", "com.atproto.server.deactivateAccount",
               "com.atproto.server.requestAccountDelete", "com.atproto.server.deleteSession",
               "com.atproto.identity.updateHandle", "com.atproto.server.revokeAppPassword",
               "com.atproto.identity.signPlcOperation", "com.atproto.identity.submitPlcOperation",
               "com.atproto.repo.importRepo", "com.atproto.server.updateEmail"}

DEEP_ROUTES = {"com.atproto.repo.createRecord", "com.atproto.repo.putRecord",
               "com.atproto.repo.applyWrites", "com.atproto.repo.importRepo"}

AUTH_VARIANTS = ["none", "valid", "valid", "valid", "valid", "expired", "tampered-signature",
                 "tampered-payload", "alg-none", "wrong-typ", "refresh-as-access", "garbage",
                 "other-account", "basic-wrong", "basic-admin", "empty-bearer"]

PARAM_MUTATIONS = ["none", "drop-required", "wrong-type", "huge-value", "repeat", "bad-format",
                   "bad-cursor", "unknown-param", "bad-encoding", "empty-value", "bad-limit",
                   "huge-query"]

BODY_MUTATIONS = ["none", "malformed-json", "not-object", "wrong-field-type", "drop-required",
                  "bad-record", "bad-rkey", "bad-collection", "bad-did", "wrong-content-type",
                  "no-content-type", "oversized", "deep-nesting", "invalid-utf8", "duplicate-keys",
                  "huge-numbers", "extra-fields", "empty-body", "record-data", "record-data"]

BAD_DIDS = ["did:plc:", "did:plc:AAAA", "did:web:", "did:example:x", "not-a-did", "did:plc:" +
            "a" * 3000, "did:plc:abc%00def", "did:web:localhost%3A1", "DID:PLC:XXXX", "did:key:z",
            "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"]
BAD_RKEYS = ["", ".", "..", "a/b", "a" * 600, "ñ", "a b", "self\n", "%", "#", "?x",
             "3jui7kd54zh2y"]
BAD_COLLECTIONS = ["", "nope", "a.b", "app.bsky.feed.post.", ".app.bsky.feed.post",
                   "app.bsky.feed." + "p" * 400, "app.bsky.feed.p*st", "app..bsky.post",
                   "com.example.unknown", "app.bsky.feed.post/x"]
BAD_CURSORS = ["-1", "zz", "9" * 40, "", "0x10", "1e9", "\u00e9", "::", "%ff", "3jui7kd54zh2y" * 50,
               "18446744073709551616", "-9223372036854775808"]
BAD_STRINGS = ["", " ", "\u0000", "\ud7ff" * 3, "a" * 10000, "\u202e", "😀" * 100, "null",
               "true", "0", "[]", "{}"]


class Fuzzer:
    def __init__(self, ctx, methods, rng_seed, alive):
        self.alive = alive
        self.ctx = ctx
        self.methods = methods
        self.seed = rng_seed
        self.findings = []
        self.lock = threading.Lock()
        self.sent = 0
        self.touched = collections.Counter()
        self.touched_auth = collections.defaultdict(set)
        self.categories = collections.Counter()
        self.statuses = collections.Counter()
        self.errors = collections.Counter()  # (route, XRPC error name)
        self.local = threading.local()  # the account the current request acts on

    @property
    def subject(self):
        return self.local.subject

    @subject.setter
    def subject(self, tokens):
        self.local.subject = tokens

    # ---- plausible values -------------------------------------------------

    def value_for(self, rng, name, schema):
        t = schema.get("type")
        fmt = schema.get("format")
        ctx = self.ctx
        if t == "string":
            if "enum" in schema:
                return rng.choice(schema["enum"])
            if fmt in ("did", "at-identifier") or name in ("repo", "did", "actor"):
                return self.subject.did
            if fmt == "handle" or name == "handle":
                return "fuzz0.test"
            if fmt == "nsid" or name == "collection":
                return POST
            if fmt == "record-key" or name == "rkey":
                return rng.choice(ctx.rkeys)
            if fmt == "cid" or name == "cid":
                return rng.choice(ctx.cids)
            if fmt == "at-uri":
                return f"at://{self.subject.did}/{POST}/{rng.choice(ctx.rkeys)}"
            if fmt == "datetime":
                return "2026-12-06T10:00:00.000Z"
            if fmt == "uri":
                return "https://example.com/x"
            if fmt == "tid":
                return s.tid(1_700_000_000_000_000 + rng.randrange(10**9), 1)
            if fmt == "language":
                return "en"
            if "knownValues" in schema:
                return rng.choice(schema["knownValues"])
            if name == "password":
                return "hunter2-long-password"
            if name == "email":
                return f"f{rng.randrange(10**6)}@example.com"
            return "fuzz"
        if t == "integer":
            lo = schema.get("minimum", 1)
            hi = schema.get("maximum", lo + 10)
            return rng.randint(lo, max(lo, min(hi, lo + 10)))
        if t == "boolean":
            return rng.random() < 0.5
        if t == "array":
            if name == "writes":
                return [{"$type": "com.atproto.repo.applyWrites#create", "collection": POST,
                         "value": self.post(rng)}]
            if name in ("cids",):
                return [rng.choice(ctx.cids)]
            return [self.value_for(rng, name, schema.get("items", {}))]
        if t == "unknown" and name == "record":
            return self.post(rng)
        if t == "object":
            return {k: self.value_for(rng, k, v) for k, v in schema.get("properties", {}).items()
                    if k in schema.get("required", []) or rng.random() < 0.5}
        if t == "cid-link":
            return {"$link": rng.choice(ctx.cids)}
        if t == "bytes":
            return {"$bytes": "AAAA"}
        return {}

    def post(self, rng):
        return {"$type": POST, "text": f"fuzz {rng.randrange(10**6)}",
                "createdAt": "2026-12-06T10:00:00.000Z"}

    # ---- tokens -----------------------------------------------------------

    def auth_headers(self, rng, variant, nsid):
        ctx = self.ctx
        tokens = self.subject
        if variant == "none":
            return {}
        if variant == "valid":
            return {"Authorization": "Bearer " + tokens.get()}
        if variant == "expired":
            return {"Authorization": "Bearer " + ctx.expired}
        if variant == "other-account":
            return {"Authorization": "Bearer " + ctx.other.get()}
        if variant == "refresh-as-access":
            return {"Authorization": "Bearer " + ctx.misuse}
        if variant == "garbage":
            return {"Authorization": rng.choice(["Bearer x.y.z", "Bearer " + "A" * 9000,
                                                 "Bearer ...", "Bearer a.b", "Bearer \u00ff",
                                                 "Token abc", "Bearer", "bearer " + tokens.get()])}
        if variant == "empty-bearer":
            return {"Authorization": "Bearer "}
        if variant == "basic-wrong":
            return {"Authorization": "Basic " + base64.b64encode(b"admin:wrong").decode()}
        if variant == "basic-admin":
            return {"Authorization": "Basic " + base64.b64encode(
                b"admin:" + ADMIN_PASSWORD.encode()).decode()}
        head, payload, sig = tokens.get().split(".")
        if variant == "tampered-signature":
            raw = bytearray(unb64url(sig))
            raw[rng.randrange(len(raw))] ^= 1 << rng.randrange(8)
            return {"Authorization": f"Bearer {head}.{payload}.{b64url(bytes(raw))}"}
        claims = json.loads(unb64url(payload))
        if variant == "tampered-payload":
            claims[rng.choice(["sub", "scope", "exp", "aud"])] = rng.choice(
                [ctx.other.did, "com.atproto.admin", 99999999999, "did:web:evil", None, 1])
            return {"Authorization": f"Bearer {head}.{b64url(json.dumps(claims).encode())}.{sig}"}
        if variant == "alg-none":
            h = b64url(json.dumps({"alg": rng.choice(["none", "None", "NONE"]),
                                   "typ": "at+jwt"}).encode())
            return {"Authorization": f"Bearer {h}.{payload}." + rng.choice(["", sig])}
        if variant == "wrong-typ":
            header = json.loads(unb64url(head))
            header["typ"] = rng.choice(["refresh+jwt", "JWT", "dpop+jwt", 7, None])
            head = b64url(json.dumps(header).encode())
            return {"Authorization": f"Bearer {head}.{payload}.{sig}"}
        raise ValueError(variant)

    # ---- one request ------------------------------------------------------

    def build(self, rng, nsid, main):
        kind = main["type"]
        # Routes whose success would end the main account's usefulness
        # (admin routes included) act on the victim account.
        self.subject = self.ctx.victim if (nsid in DESTRUCTIVE or ".admin." in nsid) \
            else self.ctx.main
        params_schema = main.get("parameters", {}) or {}
        props = params_schema.get("properties", {})
        required = params_schema.get("required", [])
        params = [(k, self.value_for(rng, k, v)) for k, v in props.items()
                  if k in required or rng.random() < 0.6]
        pm = rng.choice(PARAM_MUTATIONS)
        raw_query = None
        if pm == "drop-required" and params:
            params.pop(rng.randrange(len(params)))
        elif pm == "wrong-type" and params:
            i = rng.randrange(len(params))
            params[i] = (params[i][0], rng.choice(["abc", "-1", "1.5", "99999999999999999999",
                                                   "true", "[]", "null", "1e3"]))
        elif pm == "huge-value" and params:
            i = rng.randrange(len(params))
            params[i] = (params[i][0], "x" * rng.choice([3000, 20000]))
        elif pm == "repeat" and params:
            i = rng.randrange(len(params))
            params += [params[i]] * rng.randint(1, 50)
        elif pm == "bad-format" and params:
            i = rng.randrange(len(params))
            params[i] = (params[i][0], rng.choice(BAD_DIDS + BAD_RKEYS + BAD_COLLECTIONS))
        elif pm == "bad-cursor":
            params.append(("cursor", rng.choice(BAD_CURSORS)))
        elif pm == "unknown-param":
            params.append((rng.choice(["zz", "", "$type", "repo[]"]), "1"))
        elif pm == "empty-value" and params:
            i = rng.randrange(len(params))
            params[i] = (params[i][0], "")
        elif pm == "bad-limit":
            params.append(("limit", rng.choice(["0", "-5", "1000000", "abc", "9" * 30, " 5"])))
        if params:
            raw_query = urllib.parse.urlencode([(k, json.dumps(v) if not isinstance(v, str)
                                                 else v) for k, v in params])
            if pm == "bad-encoding":
                raw_query += rng.choice(["&x=%", "&x=%zz", "&%ff=%fe", "&&&", "&=", "&a=%00b",
                                         "#frag", "&a=b=c"])
        if pm == "huge-query":
            raw_query = (raw_query + "&" if raw_query else "") + "q=" + "a" * rng.choice(
                [9000, 70000])
        headers, body = {}, None
        bm = "none"
        method = "GET" if kind != "procedure" else "POST"
        if kind == "procedure":
            inp = main.get("input") or {}
            encoding = inp.get("encoding")
            schema = inp.get("schema") or {}
            bm = rng.choice(BODY_MUTATIONS)
            if encoding == "application/json":
                if schema.get("type") == "object":
                    obj = self.value_for(rng, "", dict(schema, required=schema.get("required", [])))
                else:
                    obj = {}
                if nsid == "com.atproto.repo.createRecord" or nsid == "com.atproto.repo.putRecord":
                    obj.setdefault("repo", self.subject.did)
                    obj.setdefault("collection", POST)
                    obj["record"] = self.post(rng)
                body, headers["Content-Type"] = self.mutate_body(rng, bm, obj), "application/json"
            elif encoding:
                # Binary inputs (uploadBlob */*, importRepo CAR).
                limit = MAX_IMPORT if "import" in nsid else MAX_BLOB
                size = rng.choice([0, 1, 100, limit + 1, limit * 2])
                body = bytes(rng.randrange(256) for _ in range(min(size, 256))) * (
                    max(1, size // 256)) if size else b""
                body = body[:size]
                headers["Content-Type"] = rng.choice([encoding if encoding != "*/*" else
                                                      "image/png", "application/json", "",
                                                      "text/plain; charset=utf-8"])
                bm = f"binary-{size}"
                if "import" in nsid and rng.random() < 0.7:
                    body, bm = self.mutate_car(rng)
                    headers["Content-Type"] = "application/vnd.ipld.car"
            else:
                if bm != "none":
                    body = self.mutate_body(rng, bm, {})
                    headers["Content-Type"] = "application/json"
            if bm == "wrong-content-type":
                headers["Content-Type"] = rng.choice(["text/plain", "application/x-www-form-urlen"
                                                      "coded", "application/cbor", "multipart/form-"
                                                      "data; boundary=x", "application/json; char"
                                                      "set=latin1", "*/*", "\u00e9"])
            elif bm == "no-content-type":
                headers.pop("Content-Type", None)
        if rng.random() < 0.05:
            method = rng.choice(["GET", "POST", "PUT", "DELETE", "PATCH"])
            pm = "wrong-method:" + method
        return method, raw_query, headers, body, pm, bm

    def mutate_car(self, rng):
        """A repository CAR (the main account's, from getRepo) with one
        mutation: the CAR, CBOR and MST readers of importRepo see it."""
        car = bytearray(self.ctx.car)
        how = rng.choice(["flip", "flip", "truncate", "varint", "duplicate", "splice", "header",
                          "zeros"])
        if how == "flip":
            for _ in range(rng.randint(1, 8)):
                i = rng.randrange(len(car))
                car[i] ^= 1 << rng.randrange(8)
        elif how == "truncate":
            car = car[:rng.randrange(len(car))]
        elif how == "varint":
            # A block length (LEB128) far past the end.
            i = rng.randrange(len(car))
            car[i:i + 1] = b"\xff\xff\xff\xff\xff\xff\xff\xff\x7f"
        elif how == "duplicate":
            i, j = sorted(rng.randrange(len(car)) for _ in range(2))
            car[j:j] = car[i:j]
        elif how == "splice":
            i = rng.randrange(len(car))
            car[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
        elif how == "header":
            car[1:1 + rng.randint(1, 40)] = bytes(rng.randrange(256) for _ in range(40))
        else:
            i = rng.randrange(len(car))
            car[i:i + 64] = bytes(64)
        return bytes(car), f"car-{how}"

    def mutate_body(self, rng, bm, obj):
        if bm == "malformed-json":
            return rng.choice([b"{", b"{\"repo\":", b"[1,2", b"\"abc", b"{'a': 1}", b"{\"a\":1,}",
                               b"nul", b"{\"a\":1}{", b"\x00", b"{\"a\":\"\\ud800\"}",
                               b"{\"a\":\"\\u12\"}", b"1e99999"])
        if bm == "not-object":
            return rng.choice([b"[]", b"null", b"\"x\"", b"42", b"true", b"[{}]"])
        if bm == "wrong-field-type" and obj:
            k = rng.choice(sorted(obj))
            obj[k] = rng.choice([1, -1, 1.5, None, True, [], {}, [obj.get(k)], "x" * 5000,
                                 {"$link": "bafy"}, {"$bytes": "!!"}, 2**70])
        if bm == "drop-required" and obj:
            obj.pop(rng.choice(sorted(obj)))
        if bm == "bad-record":
            bad = self.post(rng)
            op = rng.choice(["no-text", "text-type", "long", "type", "date", "no-type", "nested",
                             "blob", "float", "link"])
            if op == "no-text":
                bad.pop("text")
            elif op == "text-type":
                bad["text"] = 12
            elif op == "long":
                bad["text"] = "x" * 4000
            elif op == "type":
                bad["$type"] = rng.choice(["", "x", 5, "app.bsky.feed.like", POST + "#main"])
            elif op == "date":
                bad["createdAt"] = rng.choice(["yesterday", "2026-13-45T99:00:00Z", ""])
            elif op == "no-type":
                bad.pop("$type")
            elif op == "nested":
                bad["embed"] = {"$type": "app.bsky.embed.images", "images": [{"image": 1}]}
            elif op == "blob":
                bad["embed"] = {"$type": "app.bsky.embed.images", "images": [{"alt": "",
                                "image": {"$type": "blob", "ref": {"$link": "bafkx"},
                                          "mimeType": "image/png", "size": -1}}]}
            elif op == "float":
                bad["langs"] = [1.5]
            elif op == "link":
                bad["reply"] = {"root": {"uri": "at://x", "cid": "nope"},
                                "parent": {"uri": "", "cid": ""}}
            for key in ("record", "value"):
                obj[key] = bad
            if "writes" in obj:
                obj["writes"] = [{"$type": "com.atproto.repo.applyWrites#create",
                                  "collection": POST, "value": bad}]
        if bm == "record-data":
            # Values outside the data model, or stressing the DAG-CBOR encoder
            # and decoder (https://atproto.com/specs/data-model).
            bad = self.post(rng)
            depth = rng.choice([30, 200, 2000, 20000])
            bad[rng.choice(["x", "", "$x", "text", "\u0000", "a" * 3000])] = rng.choice([
                1.5, -0.0, 2**63, -(2**63) - 1, 2**64, 1e300,
                {"$link": rng.choice(["", "bafy", "Qm", "b" + "a" * 500, 5])},
                {"$bytes": rng.choice(["", "!!", "====", 5, "A" * 50001])},
                {"$link": "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm", "x": 1},
                {"$type": "blob", "ref": {"$link": "bafy"}, "mimeType": 5, "size": "x"},
                {"$type": rng.choice([5, "", None])},
                "__DEEP__",
                {str(i): i for i in range(rng.choice([100, 5000]))},
                "\u0000\u001f\u007f"])
            for key in ("record", "value"):
                obj[key] = bad
            if "writes" in obj:
                obj["writes"] = [{"$type": "com.atproto.repo.applyWrites#create",
                                  "collection": POST, "value": bad}]
            obj["validate"] = rng.choice([False, False, True, None, "false"])
            # Nesting deeper than Python's own encoder goes, spliced in as text.
            return json.dumps(obj).encode().replace(b'"__DEEP__"',
                                                    b"[" * depth + b"]" * depth)
        if bm == "bad-rkey":
            obj["rkey"] = rng.choice(BAD_RKEYS)
            if "writes" in obj:
                obj["writes"] = [{"$type": rng.choice(["com.atproto.repo.applyWrites#create",
                                                       "com.atproto.repo.applyWrites#delete",
                                                       "com.atproto.repo.applyWrites#update"]),
                                  "collection": POST, "rkey": rng.choice(BAD_RKEYS),
                                  "value": self.post(rng)}]
        if bm == "bad-collection":
            obj["collection"] = rng.choice(BAD_COLLECTIONS)
            if "writes" in obj:
                obj["writes"] = [{"$type": rng.choice(["com.atproto.repo.applyWrites#create",
                                                       "nope", 5]),
                                  "collection": rng.choice(BAD_COLLECTIONS), "value": {}}] * \
                    rng.choice([1, 2, 201])
        if bm == "bad-did":
            for key in ("repo", "did"):
                obj[key] = rng.choice(BAD_DIDS)
        if bm == "extra-fields":
            obj[rng.choice(["$type", "", "zz", "__proto__"])] = rng.choice([1, "x", {}, None])
        if bm == "oversized":
            obj["pad"] = "x" * (MAX_REQUEST + rng.choice([1, 50000]))
        if bm == "deep-nesting":
            depth = rng.choice([200, 5000, 100000])
            return b"{\"a\":" + b"[" * depth + b"]" * depth + b"}"
        if bm == "invalid-utf8":
            return json.dumps(obj).encode()[:-1] + b",\"x\":\"\xff\xfe\xc0\x80\"}"
        if bm == "duplicate-keys":
            text = json.dumps(obj)
            return (text[:-1] + (", " if obj else "") + "\"repo\": \"x\", \"repo\": 1}").encode()
        if bm == "huge-numbers":
            return json.dumps(dict(obj, limit=1)).encode().replace(
                b"\"limit\": 1", rng.choice([b"\"limit\": 1e400", b"\"limit\": -0",
                                             b"\"limit\": 123456789012345678901234567890",
                                             b"\"limit\": NaN"]))
        if bm == "empty-body":
            return b""
        return json.dumps(obj).encode()

    def send(self, rng, nsid, main, auth):
        method, raw_query, headers, body, pm, bm = self.build(rng, nsid, main)
        headers.update(self.auth_headers(rng, auth, nsid))
        path = "/xrpc/" + nsid
        category = f"{auth}/{pm}/{bm}"
        try:
            reply = s.call(self.ctx.url, method, path, body=body, headers=headers,
                           raw_query=raw_query, timeout=30)
        except OSError as e:
            # A request line or a body past the server's limits is answered
            # (431, 413) and the connection closed while the body is still
            # being sent, so the client may see EPIPE instead (the raw
            # framing cases below read those answers); every body over
            # MAX_BLOB here is over its route's limit. Otherwise no answer
            # is a finding.
            over = len(raw_query or "") > 4000 or len(body or b"") > MAX_BLOB
            early = over and body is not None and self.alive()
            self.record(nsid, auth, category, method, raw_query, body, None,
                        None if early else f"no answer: {e}")
            return
        self.check(nsid, auth, category, method, raw_query, body, reply)

    def check(self, nsid, auth, category, method, raw_query, body, reply, served=True,
              xrpc=True):
        problem = None
        if reply.status >= 500 and not (reply.status == 501 and not served):
            problem = f"{reply.status}"
        elif reply.status >= 400 and xrpc:
            err = reply.json()
            if not (isinstance(err, dict) and isinstance(err.get("error"), str)
                    and isinstance(err.get("message", ""), str)):
                problem = f"{reply.status} without an XRPC error body"
        self.record(nsid, auth, category, method, raw_query, body, reply, problem)

    def record(self, nsid, auth, category, method, raw_query, body, reply, problem):
        with self.lock:
            self.sent += 1
            self.touched[nsid] += 1
            self.touched_auth[nsid].add("valid" if auth == "valid" else "other")
            self.categories[category.split("/")[0]] += 1
            for part in category.split("/")[1:]:
                self.categories[part.split(":")[0]] += 1
            self.statuses[reply.status if reply else "none"] += 1
            err = reply.json() if reply is not None and reply.status >= 400 else None
            if isinstance(err, dict):
                self.errors[(nsid, str(err.get("error")))] += 1
            if problem:
                self.findings.append({
                    "route": nsid, "problem": problem, "category": category, "method": method,
                    "query": (raw_query or "")[:200],
                    "body": (body[:200] if isinstance(body, (bytes, bytearray)) else body) and
                    bytes(body[:200]).decode("utf-8", "replace"),
                    "answer": reply.body[:300].decode("utf-8", "replace") if reply else None})

    def route_jobs(self, nsid, main, count):
        rng = s.seeded(self.seed * 1_000_003 + stable_hash(nsid))
        for i in range(count):
            # Both sides of authentication for every route, then a seeded mix.
            # Half the requests carry valid credentials so that their
            # mutations get past authentication to the handler.
            auth = ("valid" if i % 2 == 0 else "none" if i % 8 == 1
                    else rng.choice(AUTH_VARIANTS))
            self.send(rng, nsid, main, auth)


def stable_hash(text):
    h = 0
    for ch in text.encode():
        h = (h * 131 + ch) & 0xFFFFFFFF
    return h


class PdsFuzzTest(unittest.TestCase):
    def setUp(self):
        s.install_packages()
        self.tmp = tempfile.mkdtemp(prefix="pds-fuzz-test-")
        self.servers = s.Servers(self.tmp, [
            "--admin-password", ADMIN_PASSWORD, "--max-request-bytes", str(MAX_REQUEST),
            "--max-blob-bytes", str(MAX_BLOB), "--max-import-bytes", str(MAX_IMPORT),
            "--access-token-seconds", str(ACCESS_SECONDS)])

    def tearDown(self):
        code = self.servers.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.stop_codes = code

    def raw(self, data, timeout=10):
        """One raw HTTP exchange (for broken framing urllib cannot send);
        the status code, or None when the server closed without one."""
        host, port = urllib.parse.urlsplit(self.servers.url).netloc.split(":")
        with socket.create_connection((host, int(port)), timeout=timeout) as sock:
            try:
                sock.sendall(data)
                sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            chunks = []
            try:
                while True:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    chunks.append(chunk)
            except OSError:
                pass
        answer = b"".join(chunks)
        m = re.match(rb"HTTP/1\.[01] (\d{3})", answer)
        return (int(m.group(1)) if m else None), answer

    def test_every_route_refuses_bad_input_with_a_4xx(self):
        started = time.time()
        url = self.servers.url
        sessions = [s.create_account(url, f"fuzz{i}") for i in range(3)]
        main = Tokens(url, "fuzz0", sessions[0])
        other = Tokens(url, "fuzz1", sessions[1])
        victim = Tokens(url, "fuzz2", sessions[2])
        misuse = s.login(url, "fuzz0")["refreshJwt"]
        expired = s.login(url, "fuzz0")["accessJwt"]
        rkeys, cids = [], []
        for i in range(5):
            r = s.call(url, "POST", "com.atproto.repo.createRecord", token=main.get(),
                       body={"repo": main.did, "collection": POST,
                             "record": {"$type": POST, "text": f"seed {i}",
                                        "createdAt": "2026-12-06T10:00:00.000Z"}})
            self.assertEqual(r.status, 200, r.body[:300])
            rkeys.append(r.json()["uri"].rsplit("/", 1)[1])
            cids.append(r.json()["cid"])
        blob = s.call(url, "POST", "com.atproto.repo.uploadBlob", body=b"\x89PNG fuzz",
                      token=main.get(), headers={"Content-Type": "image/png"})
        self.assertEqual(blob.status, 200, blob.body[:300])
        cids.append(blob.json()["blob"]["ref"]["$link"])
        car = s.call(url, "GET", "com.atproto.sync.getRepo", params={"did": main.did})
        self.assertEqual(car.status, 200, car.body[:300])
        ctx = Context(url, main, other, victim, misuse, expired, rkeys, cids, car.body)

        # What the server serves, asked of the server.
        methods = lexicon_methods()
        self.assertGreater(len(methods), 50, "no Lexicons: run tools/fetch-lexicons")
        served, unknown = {}, collections.Counter()
        fuzz = Fuzzer(ctx, methods, SEED, lambda: self.servers.pds.proc.poll() is None)
        for nsid, main_def in sorted(methods.items()):
            verb = "POST" if main_def["type"] == "procedure" else "GET"
            r = s.call(url, verb, nsid, body=b"" if verb == "POST" else None)
            fuzz.check(nsid, "none", "probe", verb, None, None, r, served=False)
            if r.status == 501 and (r.json() or {}).get("error") == "MethodNotImplemented":
                unknown[nsid.rsplit(".", 1)[0]] += 1
            else:
                served[nsid] = main_def
        src_nsids, src_paths = source_routes()
        self.assertTrue(src_nsids, "no routes found in reference/pds sources")
        self.assertEqual(sorted(src_nsids - set(served)), [],
                         "routes registered in reference/pds that the server does not serve")
        probe_seconds = time.time() - started

        # Not served: unknown and malformed method names [pds.service.unknown-method].
        rng = s.seeded(SEED)
        for i in range(120):
            name = rng.choice([f"com.example.fuzz{i}", "a", "..", "com.atproto." + "x" * 500,
                               "com.atproto.repo.createRecord/", "com.atproto.repo.%00",
                               "COM.ATPROTO.REPO.GETRECORD", "com.atproto.repo.getRecord.x",
                               "_health2", "", "com.atproto..x", "1com.x.y"])
            verb = rng.choice(["GET", "POST"])
            r = s.call(url, verb, "/xrpc/" + urllib.parse.quote(name, safe="/%."),
                       body=b"{}" if verb == "POST" else None,
                       headers={"Content-Type": "application/json"})
            fuzz.check("(unknown)", "none", "unknown-method", verb, None, None, r, served=False)

        # Every served route, in parallel (the server runs 4 worker threads).
        with ThreadPoolExecutor(max_workers=4) as pool:
            # The routes that parse records and repositories get three times
            # as many requests.
            jobs = [pool.submit(fuzz.route_jobs, nsid, served[nsid],
                                PER_ROUTE * (3 if nsid in DEEP_ROUTES else 1))
                    for nsid in sorted(served)]
            for job in jobs:
                job.result()
        for method, path in sorted(src_paths):
            for q in ["", "?x=1", "?" + "a" * 9000]:
                for host in ["fuzz0.test", "", "x" * 3000, "evil.test:99999", "\u00e9.test"]:
                    r = s.call(url, method, path + q, headers={"Host": host} if host else {})
                    # Not XRPC (the well-known handle answer is text).
                    fuzz.check(path, "none", "plain-route", method, q, None, r, xrpc=False)

        # Broken HTTP framing on a few routes: the server may close the
        # connection, but must answer no 5xx and stay up.
        framing = [
            b"POST /xrpc/com.atproto.repo.createRecord HTTP/1.1\r\nHost: x\r\nContent-Length: abc"
            b"\r\n\r\n{}",
            b"POST /xrpc/com.atproto.repo.createRecord HTTP/1.1\r\nHost: x\r\nContent-Length: -5"
            b"\r\n\r\n{}",
            b"POST /xrpc/com.atproto.repo.createRecord HTTP/1.1\r\nHost: x\r\nContent-Length: 1000"
            b"\r\nContent-Type: application/json\r\n\r\n{\"repo\"",
            b"POST /xrpc/com.atproto.repo.createRecord HTTP/1.1\r\nHost: x\r\nContent-Length: "
            b"99999999999999999999999\r\n\r\n{}",
            b"POST /xrpc/com.atproto.server.createSession HTTP/1.1\r\nHost: x\r\nTransfer-Encoding"
            b": chunked\r\nContent-Type: application/json\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
            b"POST /xrpc/com.atproto.server.createSession HTTP/1.1\r\nHost: x\r\nTransfer-Encoding"
            b": chunked\r\nContent-Type: application/json\r\n\r\nffffffffffffffff\r\n{}\r\n"
            b"0\r\n\r\n",
            b"GET /xrpc/com.atproto.sync.getRepo?did=x HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
            b"GET /xrpc/com.atproto.sync.getRepo?did=x HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 100000
            + b"\r\n\r\n",
            b"GET /xrpc/com.atproto.sync.getRepo HTTP/1.1\r\n" + b"X-A: b\r\n" * 2000 + b"\r\n",
            b"GARBAGE\r\n\r\n",
            b"GET " + b"/" * 70000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /xrpc/com.atproto.sync.listRepos HTTP/9.9\r\nHost: x\r\n\r\n",
            b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + bytes(range(64)),
            b"GET /xrpc/com.atproto.sync.subscribeRepos?cursor=-1 HTTP/1.1\r\nHost: x\r\n"
            b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
            b"GET /xrpc/com.atproto.sync.subscribeRepos?cursor=abc HTTP/1.1\r\nHost: x\r\n"
            b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
            b"GET /xrpc/com.atproto.sync.subscribeRepos?cursor=99999999 HTTP/1.1\r\nHost: x\r\n"
            b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            b"Sec-WebSocket-Key: short\r\n\r\n",
            b"GET /xrpc/com.atproto.sync.subscribeRepos HTTP/1.1\r\nHost: x\r\n"
            b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n\x81\xff" + b"\xff" * 12,
        ]
        upgrade = (b"GET /xrpc/com.atproto.sync.subscribeRepos?cursor=0 HTTP/1.1\r\nHost: x\r\n"
                   b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                   b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
        mask = b"\x01\x02\x03\x04"
        framing += [
            # After the upgrade, frames a consumer has no business sending:
            # unmasked, a 2^63-byte length, a fragmented text, a close with a
            # bad code and a long payload, a ping flood, reserved bits.
            upgrade + b"\x81\x05hello",
            upgrade + b"\x82\xff\x7f\xff\xff\xff\xff\xff\xff\xff" + mask + b"x" * 100,
            upgrade + b"\x01\x83" + mask + b"abc" + b"\x80\x83" + mask + b"def",
            upgrade + b"\x88\xfe\x01\x00" + mask + b"\x00" * 256,
            upgrade + (b"\x89\x80" + mask) * 500,
            upgrade + b"\xf3\x80" + mask,
            # Pipelined requests, the second malformed.
            b"GET /xrpc/com.atproto.server.describeServer HTTP/1.1\r\nHost: x\r\n\r\n"
            b"POST /xrpc/com.atproto.server.createSession HTTP/1.1\r\nHost: x\r\nContent-Length"
            b": 2\r\nContent-Length: 9\r\nContent-Type: application/json\r\n\r\n{}",
        ]
        if "com.atproto.sync.subscribeRepos" not in served:
            framing = [f for f in framing if b"subscribeRepos" not in f]
        raw_statuses = collections.Counter()
        for data in framing:
            status, answer = self.raw(data)
            raw_statuses[status] += 1
            if status is not None and status >= 500:
                fuzz.findings.append({"route": "(raw)", "problem": str(status),
                                      "request": data[:200].decode("latin1"),
                                      "answer": answer[:300].decode("latin1")})
            self.assertIsNone(self.servers.pds.proc.poll(), f"server died on {data[:120]!r}")
        fuzz_seconds = time.time() - started - probe_seconds

        elapsed = time.time() - started
        print(f"\n{fuzz.sent + len(framing)} requests ({len(framing)} raw), {len(served)} routes "
              f"served of {len(methods)} Lexicon methods ({sum(unknown.values())} answer 501), "
              f"{len(src_paths)} plain routes; statuses "
              f"{dict(sorted(fuzz.statuses.items(), key=str))}; "
              f"raw {dict(raw_statuses)}; probe {probe_seconds:.1f}s, fuzz {fuzz_seconds:.1f}s, "
              f"total {elapsed:.1f}s", file=sys.stderr)
        for f in fuzz.findings[:40]:
            print("finding:", json.dumps(f), file=sys.stderr)
        # Every served route touched, with valid credentials and without.
        missing = sorted(n for n in served if fuzz.touched[n] < PER_ROUTE)
        self.assertEqual(missing, [], "routes the fuzzer did not reach")
        one_sided = sorted(n for n in served if fuzz.touched_auth[n] != {"valid", "other"})
        self.assertEqual(one_sided, [], "routes not fuzzed both with and without valid tokens")
        # Still healthy: alive, no sanitizer report, a valid write works,
        # the repositories verify.
        self.assertIsNone(self.servers.pds.proc.poll(), "the server died")
        r = s.call(url, "POST", "com.atproto.repo.createRecord", token=s.login(url, "fuzz0")[
            "accessJwt"], body={"repo": main.did, "collection": POST,
                                "record": {"$type": POST, "text": "after the fuzz",
                                           "createdAt": "2026-12-06T10:00:00.000Z"}})
        self.assertEqual(r.status, 200, r.body[:300])
        after = r.json()
        # (The other accounts may have been deactivated or deleted by the
        # fuzz, as their tokens allow.)
        verified = s.verify_repos(url, self.servers.plc.url, [main.did])
        for did, v in verified.items():
            self.assertTrue(v["ok"], f"{did}: {v.get('error')}")
        self.assertIn(after["uri"].split("/", 3)[3], verified[main.did]["records"])
        self.assertEqual(verified[main.did]["records"][after["uri"].split("/", 3)[3]], after["cid"])
        log = self.servers.pds_log()
        self.assertIsNone(SANITIZER.search(log), log[-4000:])

        if os.environ.get("PDS_FUZZ_VERBOSE"):
            errors = collections.defaultdict(dict)
            for (nsid, name), n in sorted(fuzz.errors.items()):
                errors[nsid][name] = n
            print(json.dumps({"served": sorted(served), "categories": fuzz.categories,
                              "errors": errors}, indent=1), file=sys.stderr)
        self.assertEqual(fuzz.findings, [], "\n" + "\n".join(
            json.dumps(f) for f in fuzz.findings[:40]) + f"\n({len(fuzz.findings)} findings)")


class FuzzCheckTest(unittest.TestCase):
    """The answer checks themselves catch what a broken server does."""

    def test_the_checks_flag_5xx_bad_error_bodies_and_silence(self):
        fuzz = Fuzzer(None, {}, SEED, lambda: True)
        answers = [
            (s.Reply(500, b'{"error":"InternalServerError"}', {}), True),
            (s.Reply(502, b"", {}), True),
            (s.Reply(400, b"bad request", {}), True),
            (s.Reply(401, b'{"error": 5}', {}), True),
            (s.Reply(400, b'{"error":"InvalidRequest","message":7}', {}), True),
            (s.Reply(400, b'{"message":"no name"}', {}), True),
            (s.Reply(400, b'{"error":"InvalidRequest","message":"why"}', {}), False),
            (s.Reply(401, b'{"error":"AuthenticationRequired"}', {}), False),
            (s.Reply(200, b"{}", {}), False),
        ]
        for reply, flagged in answers:
            before = len(fuzz.findings)
            fuzz.check("com.example.x", "none", "self-test", "GET", None, None, reply)
            self.assertEqual(len(fuzz.findings) - before, int(flagged), reply.body)
        # 501 MethodNotImplemented only from a route the server does not serve.
        unserved = s.Reply(501, b'{"error":"MethodNotImplemented"}', {})
        before = len(fuzz.findings)
        fuzz.check("com.example.x", "none", "probe", "GET", None, None, unserved, served=False)
        self.assertEqual(len(fuzz.findings), before)
        fuzz.check("com.example.x", "none", "route", "GET", None, None, unserved)
        self.assertEqual(len(fuzz.findings), before + 1)


if __name__ == "__main__":
    unittest.main()

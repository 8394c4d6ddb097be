"""What the vector generators share: writing their files, or checking them,
the file and case bookkeeping, and the small CBOR, CID and base encoders they
compute expected values with.

Each generator (tools/gen-*-vectors.py) builds a list of file objects with
`name`, `cases` and `document()` (usually a VectorFile); write_or_check()
writes them as pretty JSON, or with --check reports files that differ from
what would be written.
"""
import base64
import hashlib
import hmac
import json
import os
import re
import sys


def write_or_check(files, out_dir, generator):
    check = "--check" in sys.argv[1:]
    stale = []
    os.makedirs(out_dir, exist_ok=True)
    for f in files:
        path = os.path.join(out_dir, f.name + ".json")
        text = json.dumps(f.document(), indent=2, ensure_ascii=False) + "\n"
        old = open(path, encoding="utf-8").read() if os.path.exists(path) else None
        if old == text:
            continue
        if check:
            stale.append(path)
        else:
            with open(path, "w", encoding="utf-8") as out:
                out.write(text)
    if stale:
        print(f"stale vector files (run tools/{generator}):", *stale, sep="\n  ")
        return 1
    for f in files:
        valid = sum(1 for x in f.cases if x["valid"])
        print(f"{f.name}.json: {valid} valid, {len(f.cases) - valid} invalid")
    return 0


# --------------------------------------------------------------------------
# Vector files. Each generator's file class derives from VectorFile and adds
# its own case builders; the document's fields are written in one order for
# every kind.


class VectorFile:
    """One vectors/<kind>/<name>.json: its header fields and its cases.

    `kind` names the schema (../schema/<kind>.schema.json); `header` holds
    fields written between "kind" and "operation" (syntax's "type") and
    `trailer` fields written after "spec" (lexicon's "lexicons").
    `reviews` are (id pattern, who disagrees, reason, spec URL) rows: a case
    whose id matches gets a "review" object before its comment.
    """

    def __init__(self, kind, name, operation, description, spec, reviews=(), header=None,
                 trailer=None):
        self.kind = kind
        self.name = name
        self.operation = operation
        self.description = description
        self.spec = spec
        self.reviews = reviews
        self.header = header or {}
        self.trailer = trailer or {}
        self.cases = []
        self.ids = set()

    def add_case(self, case):
        """Appends `case`, refusing a repeated id and attaching its review."""
        if case["id"] in self.ids:
            raise SystemExit(f"duplicate id {case['id']}")
        review = review_for(self.reviews, case["id"])
        if review:
            comment = case.pop("comment")
            case["review"] = review
            case["comment"] = comment
        self.ids.add(case["id"])
        self.cases.append(case)

    def document(self):
        doc = {"$schema": f"../schema/{self.kind}.schema.json", "kind": self.kind}
        doc.update(self.header)
        doc.update({"operation": self.operation, "description": self.description,
                    "spec": self.spec})
        doc.update(self.trailer)
        doc["cases"] = self.cases
        return doc


def review_for(reviews, case_id):
    for pattern, who, reason, spec in reviews:
        if re.search(pattern, case_id):
            return {"disagreeing": list(who), "reason": reason, "spec": spec}
    return None


# --------------------------------------------------------------------------
# Encodings the generators compute their expected values with: written for
# them from the specs, independently of the C++ reference they check.

DAG_CBOR = 0x71
RAW = 0x55
SHA256 = 0x12


def varint(n):
    """Minimal unsigned LEB128 (the multiformats varint)."""
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def b32(data):
    """RFC 4648 base32, lower case, unpadded (multibase 'b' without the 'b')."""
    return base64.b32encode(data).decode().rstrip("=").lower()


def b32_decode(text):
    body = text.upper()
    return base64.b32decode(body + "=" * (-len(body) % 8))


B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def base58(data):
    """base58btc (the Bitcoin alphabet); leading zero bytes become '1's."""
    n = int.from_bytes(data, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = B58[r] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def b64_unpadded(data):
    return base64.b64encode(data).decode().rstrip("=")


def cid_binary(codec, data):
    """Binary CIDv1 of `data`: sha-256, 32-byte digest."""
    return b"\x01" + varint(codec) + bytes([SHA256, 32]) + hashlib.sha256(data).digest()


def cid_string(binary):
    return "b" + b32(binary)


def cid_from_string(text):
    assert text[0] == "b", text
    return b32_decode(text[1:])


class Link:
    """A cid-link: holds the binary CID; str() is its base32 string."""

    def __init__(self, binary):
        self.binary = bytes(binary)

    def __str__(self):
        return cid_string(self.binary)

    def __eq__(self, other):
        return isinstance(other, Link) and self.binary == other.binary

    def __hash__(self):
        return hash(self.binary)


def cbor_head(major, arg):
    """A CBOR head in its shortest form."""
    m = major << 5
    if arg < 24:
        return bytes([m | arg])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if arg < (1 << (8 * size)):
            return bytes([m | info]) + arg.to_bytes(size, "big")
    raise ValueError(arg)


def cbor(v):
    """Canonical DRISL-CBOR (DAG-CBOR) of a model value: None, bool, int,
    str, bytes, Link, list, dict with str keys. No floats."""
    if v is None:
        return b"\xf6"
    if v is True:
        return b"\xf5"
    if v is False:
        return b"\xf4"
    if isinstance(v, int):
        return cbor_head(0, v) if v >= 0 else cbor_head(1, -1 - v)
    if isinstance(v, str):
        raw = v.encode("utf-8")
        return cbor_head(3, len(raw)) + raw
    if isinstance(v, bytes):
        return cbor_head(2, len(v)) + v
    if isinstance(v, Link):
        # tag 42 over a byte string: 0x00 (the identity multibase) then the CID
        content = b"\x00" + v.binary
        return cbor_head(6, 42) + cbor_head(2, len(content)) + content
    if isinstance(v, list):
        return cbor_head(4, len(v)) + b"".join(cbor(x) for x in v)
    if isinstance(v, dict):
        keys = sorted(v, key=lambda k: (len(k.encode("utf-8")), k.encode("utf-8")))
        return cbor_head(5, len(v)) + b"".join(cbor(k) + cbor(v[k]) for k in keys)
    raise TypeError(type(v))


# --------------------------------------------------------------------------
# The two curves of atproto, y^2 = x^3 + a x + b over GF(p), with base point G
# of order n: plain integer arithmetic, slow but short, for a few hundred keys
# and signatures. tools/gen-crypto-vectors.py cross-checks it with OpenSSL.


class Curve:
    def __init__(self, name, p, a, b, n, gx, gy, multicodec, jwt, legacy_type):
        self.name, self.p, self.a, self.b, self.n = name, p, a, b, n
        self.g = (gx, gy)
        self.multicodec = multicodec  # varint bytes
        self.jwt = jwt
        self.legacy_type = legacy_type

    def on_curve(self, pt):
        x, y = pt
        return (y * y - (x * x * x + self.a * x + self.b)) % self.p == 0

    def add(self, p1, p2):
        if p1 is None:
            return p2
        if p2 is None:
            return p1
        (x1, y1), (x2, y2) = p1, p2
        if x1 == x2 and (y1 + y2) % self.p == 0:
            return None
        if p1 == p2:
            m = (3 * x1 * x1 + self.a) * pow(2 * y1, -1, self.p)
        else:
            m = (y2 - y1) * pow(x2 - x1, -1, self.p)
        x3 = (m * m - x1 - x2) % self.p
        return (x3, (m * (x1 - x3) - y1) % self.p)

    def mul(self, k, pt):
        result = None
        while k:
            if k & 1:
                result = self.add(result, pt)
            pt = self.add(pt, pt)
            k >>= 1
        return result

    def sqrt_y(self, x):
        """A y with y^2 = x^3 + ax + b, or None (both primes are 3 mod 4)."""
        rhs = (x * x * x + self.a * x + self.b) % self.p
        y = pow(rhs, (self.p + 1) // 4, self.p)
        return y if y * y % self.p == rhs else None

    def compress(self, pt):
        return bytes([2 + (pt[1] & 1)]) + pt[0].to_bytes(32, "big")

    def uncompress(self, pt):
        return b"\x04" + pt[0].to_bytes(32, "big") + pt[1].to_bytes(32, "big")


P256 = Curve(
    "p256",
    p=0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF,
    a=-3,
    b=0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B,
    n=0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    gx=0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
    gy=0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5,
    multicodec=bytes([0x80, 0x24]),
    jwt="ES256",
    legacy_type="EcdsaSecp256r1VerificationKey2019",
)
K256 = Curve(
    "k256",
    p=2**256 - 2**32 - 977,
    a=0,
    b=7,
    n=0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141,
    gx=0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
    gy=0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8,
    multicodec=bytes([0xE7, 0x01]),
    jwt="ES256K",
    legacy_type="EcdsaSecp256k1VerificationKey2019",
)
CURVES = (P256, K256)

# --------------------------------------------------------------------------
# multikey, did:key

def multikey(curve, point):
    return "z" + base58(curve.multicodec + curve.compress(point))


def did_key(curve, point):
    return "did:key:" + multikey(curve, point)


# --------------------------------------------------------------------------
# ECDSA with RFC 6979 deterministic nonces (so the files are reproducible)


def rfc6979_nonce(curve, d, digest):
    x = d.to_bytes(32, "big")
    h = (int.from_bytes(digest, "big") % curve.n).to_bytes(32, "big")
    k, v = b"\0" * 32, b"\1" * 32
    k = hmac.new(k, v + b"\0" + x + h, hashlib.sha256).digest()
    v = hmac.new(k, v, hashlib.sha256).digest()
    k = hmac.new(k, v + b"\1" + x + h, hashlib.sha256).digest()
    v = hmac.new(k, v, hashlib.sha256).digest()
    while True:
        v = hmac.new(k, v, hashlib.sha256).digest()
        t = int.from_bytes(v, "big")
        if 1 <= t < curve.n:
            return t
        k = hmac.new(k, v + b"\0", hashlib.sha256).digest()
        v = hmac.new(k, v, hashlib.sha256).digest()


def sign_digest(curve, d, digest):
    """(r, s) with s low, over a 32-byte digest."""
    k = rfc6979_nonce(curve, d, digest)
    r = curve.mul(k, curve.g)[0] % curve.n
    s = pow(k, -1, curve.n) * (int.from_bytes(digest, "big") + r * d) % curve.n
    assert r and s
    if s > curve.n // 2:
        s = curve.n - s
    return r, s


def compact(r, s):
    """The 64-byte r || s form atproto signatures take."""
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")

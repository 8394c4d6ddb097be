#!/usr/bin/python3
"""Writes vectors/plc/*.json, the shared test vectors for did:plc.

audit-log.json: a DID and its audit log (as a PLC directory serves it at
  /{did}/log/audit) in; whether the log is valid, the DID document it
  resolves to, or the rule it breaks. One invalid case (at least) per rule of
  the did:plc spec: prev chaining, rotation keys allowed to sign, recovery
  priority and the 72-hour window (exactly 72 h included), tombstones, limits,
  signature encoding (padding, DER, high-S), the legacy create form.
operation.json: one signed operation in; the DAG-CBOR of its unsigned form,
  its CID and (for a genesis operation) the DID it creates, or the rule a
  malformed operation breaks.
did-document.json: a DID document in; the atproto signing key, PDS endpoint
  and claimed handle it gives, or the rule a malformed document breaks.

Everything is computed here, independently of the C++ reference, with the
generators' shared code (tools/vectorgen.py): a small DAG-CBOR encoder,
base32/base58, CIDs, and ECDSA on its own elliptic curve arithmetic (RFC 6979
deterministic nonces, so --check can compare outputs; low-S), every signature
cross-checked with python3-cryptography. Expected verdicts come from how
each case is built: valid logs are made by following the rules, each invalid
case breaks exactly one of them.
Case ids are stable: never rename or reuse one, add new cases instead.

Usage: tools/gen-plc-vectors.py            (rewrites vectors/plc/)
       tools/gen-plc-vectors.py --check    (exit 1 if the files are stale)
"""

import base64
import copy
import datetime
import hashlib
import os
import sys

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vectorgen  # noqa: E402
from vectorgen import (K256, P256, b32, base58, cbor, cid_binary, cid_string,  # noqa: E402
                       compact, multikey, sign_digest)

OPENSSL = {"k256": ec.SECP256K1(), "p256": ec.SECP256R1()}

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "vectors", "plc")
PLC_SPEC = "https://web.plc.directory/spec/v0.1/did-plc"
DID_SPEC = "https://atproto.com/specs/did"

# --------------------------------------------------------------------------
# Encodings

def b64url(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def cid_of(data):
    return cid_string(cid_binary(vectorgen.DAG_CBOR, data))


def unsigned(op):
    return {k: v for k, v in op.items() if k != "sig"}


def op_cid(op):
    return cid_of(cbor(op))


def did_of(genesis):
    return "did:plc:" + b32(hashlib.sha256(cbor(genesis)).digest())[:24]


# --------------------------------------------------------------------------
# Keys: the curves, RFC 6979 signing (low-S) and did:key encoding of
# tools/vectorgen.py, each signature cross-checked with python3-cryptography
# (OpenSSL).

CURVES = {"k256": (K256, "https://w3id.org/security/suites/secp256k1-2019/v1"),
          "p256": (P256, "https://w3id.org/security/suites/ecdsa-2019/v1")}


class Key:
    def __init__(self, curve, label):
        self.curve = curve
        c = CURVES[curve][0]
        self.n = c.n
        self.d = int.from_bytes(hashlib.sha256(f"plc-vectors/{curve}/{label}".encode()).digest(),
                                "big") % (c.n - 1) + 1
        self.point = c.mul(self.d, c.g)
        self.uncompressed = c.uncompress(self.point)
        self.multikey = multikey(c, self.point)
        self.did = "did:key:" + self.multikey
        self.openssl = ec.EllipticCurvePublicKey.from_encoded_point(OPENSSL[curve], self.uncompressed)

    def raw_sig(self, data):
        """(r, s) with s in low-S form, RFC 6979 nonce; verified by OpenSSL."""
        r, s = sign_digest(CURVES[self.curve][0], self.d, hashlib.sha256(data).digest())
        self.openssl.verify(encode_dss_signature(r, s), data, ec.ECDSA(hashes.SHA256()))
        return r, s

    def sign(self, op):
        r, s = self.raw_sig(cbor(unsigned(op)))
        out = dict(op)
        out["sig"] = b64url(compact(r, s))
        return out


K_RECOVERY = Key("k256", "recovery")
K_ROTATION = Key("p256", "rotation")
K_SIGNING = Key("k256", "signing")
K_ATTACKER = Key("k256", "attacker")
K_NEW = Key("p256", "new-rotation")
K_P256_SIGNING = Key("p256", "signing")
# An Ed25519 did:key (a syntactically valid did:key of another type).
ED25519_DID_KEY = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"

# --------------------------------------------------------------------------
# Operations and logs

EPOCH = datetime.datetime(2024, 3, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)


def stamp(hours=0.0, ms=0):
    t = EPOCH + datetime.timedelta(hours=hours, milliseconds=ms)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def regular(rotation, handle="alice.test", prev=None, signing=K_SIGNING.did,
            pds="https://pds.example.com", extra_methods=None):
    methods = {"atproto": signing}
    methods.update(extra_methods or {})
    return {
        "type": "plc_operation",
        "rotationKeys": [k.did if isinstance(k, Key) else k for k in rotation],
        "verificationMethods": methods,
        "alsoKnownAs": ["at://" + handle],
        "services": {"atproto_pds": {"type": "AtprotoPersonalDataServer", "endpoint": pds}},
        "prev": prev,
    }


def tombstone(prev):
    return {"type": "plc_tombstone", "prev": prev}


def legacy(handle="alice.test", service="https://pds.example.com"):
    return {"type": "create", "signingKey": K_SIGNING.did, "recoveryKey": K_RECOVERY.did,
            "handle": handle, "service": service, "prev": None}


class Log:
    """An audit log built step by step; entries as a directory serves them."""

    def __init__(self, genesis, key, at=0.0):
        signed = key.sign(genesis)
        self.did = did_of(signed)
        self.entries = []
        self.add_signed(signed, at)

    def add_signed(self, op, at, ms=0):
        self.entries.append({"did": self.did, "operation": op, "cid": op_cid(op),
                             "nullified": False, "createdAt": stamp(at, ms)})
        return self.entries[-1]["cid"]

    def add(self, op, key, at, ms=0):
        return self.add_signed(key.sign(op), at, ms)

    def cid(self, i):
        return self.entries[i]["cid"]

    def nullify(self, *indexes):
        for i in indexes:
            self.entries[i]["nullified"] = True
        return self

    def copy(self):
        return copy.deepcopy(self)


def base_log():
    return Log(regular([K_RECOVERY, K_ROTATION]), K_ROTATION)


def document(did, op):
    """The DID document a PLC directory renders for a (regular or legacy) operation."""
    if op["type"] == "create":
        op = {"verificationMethods": {"atproto": op["signingKey"]},
              "alsoKnownAs": ["at://" + op["handle"]],
              "services": {"atproto_pds": {"type": "AtprotoPersonalDataServer",
                                           "endpoint": op["service"]}}}
    context = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]
    methods = []
    for name in sorted(op["verificationMethods"]):
        key = op["verificationMethods"][name]
        multibase = key[len("did:key:"):]
        for curve, (_, suite) in CURVES.items():
            if multibase.startswith("zQ3s" if curve == "k256" else "zDna") and suite not in context:
                context.append(suite)
        methods.append({"id": f"{did}#{name}", "type": "Multikey", "controller": did,
                        "publicKeyMultibase": multibase})
    services = [{"id": "#" + name, "type": s["type"], "serviceEndpoint": s["endpoint"]}
                for name, s in sorted(op["services"].items())]
    return {"@context": context, "id": did, "alsoKnownAs": list(op["alsoKnownAs"]),
            "verificationMethod": methods, "service": services}


def current_op(log):
    live = [e for e in log.entries if not e["nullified"]]
    return live[-1]["operation"]


# --------------------------------------------------------------------------
# Signature encodings


def high_s_twin(op, key):
    r, s = key.raw_sig(cbor(unsigned(op)))
    out = dict(op)
    out["sig"] = b64url(r.to_bytes(32, "big") + (key.n - s).to_bytes(32, "big"))
    return out


def der_sig(op, key):
    r, s = key.raw_sig(cbor(unsigned(op)))

    def integer(x):
        raw = x.to_bytes(32, "big").lstrip(b"\0")
        if raw[0] & 0x80:
            raw = b"\0" + raw
        return bytes([0x02, len(raw)]) + raw

    body = integer(r) + integer(s)
    out = dict(op)
    out["sig"] = b64url(bytes([0x30, len(body)]) + body)
    return out


def padded_sig(op):
    out = dict(op)
    out["sig"] = op["sig"] + "=="
    return out


def standard_alphabet_sig(op):
    out = dict(op)
    out["sig"] = op["sig"].replace("-", "+").replace("_", "/")
    assert out["sig"] != op["sig"], "pick a signature with - or _"
    return out


def nonzero_trailing_bits_sig(op):
    # 64 bytes are 86 characters: the last one carries 4 unused bits.
    last = op["sig"][-1]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    i = alphabet.index(last)
    out = dict(op)
    out["sig"] = op["sig"][:-1] + alphabet[i | 1]
    assert out["sig"] != op["sig"]
    return out


# --------------------------------------------------------------------------
# audit-log.json


class File(vectorgen.VectorFile):
    def __init__(self, name, operation, description, spec):
        super().__init__("plc", name, operation, description, spec)


def log_valid(f, cid, reqs, log, comment):
    """A valid log resolves to the document of its operation in effect, or, when that
    operation is a tombstone, to none: the DID is deactivated (tombstoned: true)."""
    case = {"id": "plc.validate-log.valid." + cid, "requirements": reqs, "did": log.did,
            "log": log.entries, "valid": True}
    op = current_op(log)
    if op["type"] == "plc_tombstone":
        case["tombstoned"] = True
    else:
        case["document"] = document(log.did, op)
    case["comment"] = comment
    f.cases.append(case)


def log_invalid(f, cid, error, log, comment, did=None, alternate=(), reqs=None):
    case = {"id": "plc.validate-log.invalid." + cid, "requirements": reqs or [error],
            "did": did or log.did, "log": log.entries, "valid": False, "error": error}
    if alternate:
        case["alternate_errors"] = list(alternate)
    case["comment"] = comment
    f.cases.append(case)


def rebuilt(genesis_op, key, at=0.0):
    """A one-entry log whose genesis is `genesis_op` as given (already signed)."""
    log = Log.__new__(Log)
    log.did = did_of(genesis_op)
    log.entries = []
    log.add_signed(genesis_op, at)
    return log


def audit_log_file():
    f = File("audit-log", "validate-log",
             "did:plc audit logs as served by a PLC directory at /{did}/log/audit: whether the "
             "log follows every rule of the did:plc spec, and the DID document it resolves to.",
             [PLC_SPEC + "#operation-serialization-signing-and-validation",
              PLC_SPEC + "#key-rotation--account-recovery", PLC_SPEC + "#audit-logs",
              PLC_SPEC + "#presentation-as-did-document"])
    G = ["plc.did.genesis", "plc.sig.rotation-key", "plc.sig.unsigned-cbor", "plc.cid.operation",
         "plc.doc.render"]

    # ---- valid logs
    log = base_log()
    log_valid(f, "genesis-only", G, log,
              "A genesis operation signed by its second rotation key (P-256); the DID is the hash "
              "of the signed genesis operation.")
    k = Log(regular([K_RECOVERY]), K_RECOVERY)
    log_valid(f, "genesis-k256", G, k, "A genesis operation with one K-256 rotation key.")

    log = base_log()
    prev = log.add(regular([K_RECOVERY, K_ROTATION], "bob.test", log.cid(0)), K_ROTATION, 1)
    log.add(regular([K_RECOVERY, K_ROTATION], "bob.test", prev, pds="https://pds2.example.com"),
            K_RECOVERY, 2)
    log_valid(f, "updates", ["plc.log.prev", "plc.sig.rotation-key", "plc.doc.render"], log,
              "Two updates (handle, then PDS), each naming the previous operation's CID and signed "
              "by a rotation key of the previous operation.")

    log = base_log()
    prev = log.add(regular([K_NEW], "alice.test", log.cid(0)), K_ROTATION, 1)
    log.add(regular([K_NEW], "carol.test", prev), K_NEW, 2)
    log_valid(f, "key-rotation", ["plc.sig.rotation-key", "plc.log.prev"], log,
              "A key rotation replaces the rotation keys; the next operation is signed by the new "
              "key, which the rotation operation itself introduced.")

    for name, hours, ms, comment in (
            ("recovery-1h", 1, 0, "one hour after"),
            ("recovery-exactly-72h", 72, 0, "exactly 72 hours after (the window includes its end)"),
            ("recovery-72h-minus-1ms", 71, 3599999, "one millisecond less than 72 hours after")):
        log = base_log()
        log.add(regular([K_RECOVERY, K_ROTATION], "mallory.test", log.cid(0)), K_ROTATION, 1)
        log.add(regular([K_RECOVERY], "alice.test", log.cid(0)), K_RECOVERY, 1 + hours, ms)
        log.nullify(1)
        log_valid(f, name, ["plc.recovery.priority", "plc.recovery.window", "plc.log.nullified"],
                  log, "The lower-priority rotation key (index 1) moves the account; the recovery "
                  "key (index 0) forks from the genesis operation " + comment + ", nullifying it.")

    log = base_log()
    a = log.add(regular([K_RECOVERY, K_ROTATION], "m1.test", log.cid(0)), K_ROTATION, 1)
    log.add(regular([K_RECOVERY, K_ROTATION], "m2.test", a), K_ROTATION, 2)
    log.add(regular([K_RECOVERY, K_ROTATION], "alice.test", log.cid(0)), K_RECOVERY, 3)
    log.nullify(1, 2)
    log_valid(f, "recovery-nullifies-chain",
              ["plc.recovery.priority", "plc.recovery.window", "plc.log.nullified"], log,
              "A recovery nullifies every operation after its fork point (two here); the window "
              "counts from the first of them.")

    log = base_log()
    log.add(tombstone(log.cid(0)), K_ROTATION, 1)
    log.add(regular([K_RECOVERY], "alice.test", log.cid(0)), K_RECOVERY, 30)
    log.nullify(1)
    log_valid(f, "recovery-undoes-tombstone",
              ["plc.tombstone.final", "plc.recovery.window", "plc.log.nullified"], log,
              "A tombstone by the lower-priority key is undone by the recovery key within 72 "
              "hours: the usual window applies to tombstones.")

    log = Log(legacy(), K_SIGNING)
    log_valid(f, "legacy-create", G + ["plc.doc.legacy-create"], log,
              "A legacy create operation signed by its signing key (the second rotation key of "
              "the legacy form); the DID is the hash of the legacy form itself.")
    log = Log(legacy(), K_RECOVERY)
    prev = log.add(regular([K_RECOVERY, K_ROTATION], "bob.test", log.cid(0)), K_RECOVERY, 1)
    log_valid(f, "legacy-create-then-update", ["plc.doc.legacy-create", "plc.sig.rotation-key"],
              log, "A legacy create signed by its recovery key, then a regular update signed by "
              "the recovery key, which the legacy form lists as a rotation key.")
    log = Log(legacy(), K_SIGNING)
    log.add(regular([K_SIGNING], "mallory.test", log.cid(0)), K_SIGNING, 1)
    log.add(regular([K_RECOVERY], "alice.test", log.cid(0)), K_RECOVERY, 2)
    log.nullify(1)
    log_valid(f, "legacy-create-recovery", ["plc.doc.legacy-create", "plc.recovery.priority"], log,
              "In the legacy form the recovery key outranks the signing key: it may fork away an "
              "update the signing key made.")

    five = [K_RECOVERY, K_ROTATION, K_NEW, K_ATTACKER, K_P256_SIGNING]
    log = Log(regular(five), K_P256_SIGNING)
    log_valid(f, "five-rotation-keys", G + ["plc.op.rotation-keys-count"], log,
              "Five rotation keys, the most allowed; signed by the last of them.")
    log = Log(regular([K_RECOVERY], extra_methods={"other": ED25519_DID_KEY,
                                                    "p256": K_P256_SIGNING.did}), K_RECOVERY)
    log_valid(f, "other-verification-methods", G + ["plc.op.verification-method-syntax"], log,
              "Verification methods besides atproto, one of them an Ed25519 did:key (any key "
              "type is allowed there).")
    ten = {f"k{i}": K_SIGNING.did for i in range(9)}
    log = Log(regular([K_RECOVERY], extra_methods=ten), K_RECOVERY)
    log_valid(f, "ten-verification-methods", G + ["plc.op.verification-methods-max"], log,
              "Ten verification methods, the most allowed.")
    big = regular([K_RECOVERY])
    while len(cbor(K_RECOVERY.sign(big))) < 7450:
        big["alsoKnownAs"].append(f"at://alias-{len(big['alsoKnownAs'])}.example.com")
    size = len(cbor(K_RECOVERY.sign(big)))
    assert size <= 7500
    log = Log(big, K_RECOVERY)
    log_valid(f, "large-operation", G + ["plc.op.size"], log,
              f"An operation of {size} bytes of DAG-CBOR, under the 7500-byte limit.")

    # ---- deactivated
    log = base_log()
    # A tombstone ends a log that stays valid: the DID is deactivated and resolves to no
    # document (the official interop fixture audit_log/valid/log_tombstone.json agrees).
    log.add(tombstone(log.cid(0)), K_RECOVERY, 1)
    log_valid(f, "tombstoned", ["plc.tombstoned"], log,
              "A well-formed log whose last operation is a tombstone: the log is valid, the DID "
              "is deactivated and resolves to no document.")
    log = base_log()
    prev = log.add(regular([K_RECOVERY, K_ROTATION], "bob.test", log.cid(0)), K_ROTATION, 1)
    log.add(tombstone(prev), K_ROTATION, 2)
    log_valid(f, "update-then-tombstoned", ["plc.tombstoned", "plc.log.prev"], log,
              "An update, then a tombstone by the lower-priority rotation key whose prev is the "
              "update: valid, and the DID is deactivated.")

    # ---- one rule broken per case
    log_invalid(f, "did-syntax", "did.plc.syntax", base_log(),
                "The DID is not 24 base32 characters.", did="did:plc:tooshort",
                alternate=["plc.log.did"])

    log = base_log()
    other = "did:plc:" + "a" * 24
    for e in log.entries:
        e["did"] = other
    log_invalid(f, "did-not-genesis-hash", "plc.did.genesis", log,
                "The entries name a DID that is not the hash of their genesis operation.",
                did=other)

    log = base_log()
    log.add(regular([K_RECOVERY, K_ROTATION], "bob.test", log.cid(0)), K_ROTATION, 1)
    log.entries[1]["did"] = other
    log_invalid(f, "entry-other-did", "plc.log.did", log,
                "The second entry names another DID.")

    log = base_log()
    log.add(regular([K_RECOVERY, K_ROTATION], "bob.test", log.cid(0)), K_ROTATION, 1)
    log.entries[1]["cid"] = log.cid(0)
    log_invalid(f, "entry-wrong-cid", "plc.log.cid", log,
                "The second entry's cid is not the CID of its operation.")

    log = base_log()
    log.add(regular([K_RECOVERY, K_ROTATION], "bob.test", log.cid(0)), K_ROTATION, -1)
    log_invalid(f, "created-at-decreasing", "plc.log.created-at", log,
                "The second entry is dated before the first: entries are in acceptance order.")
    log = base_log()
    log.entries[0]["createdAt"] = "2024-03-01 12:00:00"
    log_invalid(f, "created-at-malformed", "plc.log.created-at", log,
                "createdAt is not an RFC 3339 timestamp.")

    log = base_log()
    log.entries[0]["nullified"] = "false"
    log_invalid(f, "entry-nullified-not-boolean", "plc.log.entry", log,
                "nullified is a string, not a boolean.")
    log = base_log()
    del log.entries[0]["createdAt"]
    log_invalid(f, "entry-missing-created-at", "plc.log.entry", log, "An entry has no createdAt.")

    log = base_log()
    start = log.cid(0)
    headless = Log.__new__(Log)
    headless.did = log.did
    headless.entries = []
    headless.add(regular([K_RECOVERY, K_ROTATION], "bob.test", start), K_ROTATION, 1)
    log_invalid(f, "no-genesis", "plc.log.genesis", headless,
                "The log starts with an update (prev is not null).")
    empty = Log.__new__(Log)
    empty.did, empty.entries = log.did, []
    log_invalid(f, "empty", "plc.log.genesis", empty, "An empty log has no genesis operation.")
    log = base_log()
    log.entries[0]["operation"] = K_ROTATION.sign(tombstone(log.cid(0)))
    log.entries[0]["cid"] = op_cid(log.entries[0]["operation"])
    log_invalid(f, "genesis-tombstone", "plc.log.genesis", log,
                "The first operation is a tombstone (whose prev points nowhere).",
                alternate=["plc.did.genesis"])

    log = base_log()
    log.add(regular([K_RECOVERY, K_ROTATION], "bob.test", op_cid(K_SIGNING.sign(regular(
        [K_SIGNING])))), K_ROTATION, 1)
    log_invalid(f, "prev-unknown", "plc.log.prev", log,
                "prev is a well-formed CID of an operation that is not in the log.")
    log = base_log()
    log.add(regular([K_RECOVERY, K_ROTATION], "bob.test"), K_ROTATION, 1)
    log_invalid(f, "second-genesis", "plc.log.prev", log,
                "A second operation with a null prev: a DID has one genesis.")
    log = base_log()
    a = log.add(regular([K_RECOVERY, K_ROTATION], "mallory.test", log.cid(0)), K_ROTATION, 1)
    log.add(regular([K_RECOVERY, K_ROTATION], "alice.test", log.cid(0)), K_RECOVERY, 2)
    log.add(regular([K_RECOVERY, K_ROTATION], "x.test", a), K_RECOVERY, 3)
    log.nullify(1)
    log_invalid(f, "prev-nullified", "plc.log.prev", log,
                "The last operation builds on an operation that a recovery nullified.")

    log = base_log()
    log.add(regular([K_RECOVERY, K_ROTATION], "bob.test", log.cid(0)), K_ATTACKER, 1)
    log_invalid(f, "signed-by-stranger", "plc.sig.rotation-key", log,
                "An update signed by a key that is not a rotation key of the previous operation "
                "(the did:plc spec's attacker example).")
    log = base_log()
    prev = log.add(regular([K_NEW], "alice.test", log.cid(0)), K_ROTATION, 1)
    log.add(regular([K_NEW], "bob.test", prev), K_ROTATION, 2)
    log_invalid(f, "signed-by-rotated-out-key", "plc.sig.rotation-key", log,
                "After a rotation, the old rotation key signs the next update: only the keys of "
                "the prev operation may sign.")
    log = Log(regular([K_RECOVERY]), K_ROTATION)
    log_invalid(f, "genesis-signed-by-stranger", "plc.sig.rotation-key", log,
                "A genesis operation signed by a key it does not list as a rotation key.")
    log = base_log()
    op = log.entries[0]["operation"]
    changed = dict(op)
    changed["alsoKnownAs"] = ["at://mallory.test"]
    log = rebuilt(changed, None)
    log_invalid(f, "genesis-field-changed-after-signing", "plc.sig.rotation-key", log,
                "alsoKnownAs of a signed genesis operation changed afterwards (the DID is "
                "derived from the changed operation, so only the signature catches it).",
                reqs=["plc.sig.rotation-key", "plc.sig.unsigned-cbor"])

    signed = K_ROTATION.sign(regular([K_RECOVERY, K_ROTATION]))
    for name, op, error, comment in (
            ("sig-padded", padded_sig(signed), "plc.sig.base64url",
             "The signature carries '=' padding."),
            ("sig-trailing-bits", nonzero_trailing_bits_sig(signed), "plc.sig.base64url",
             "The last signature character has non-zero unused bits."),
            ("sig-der", der_sig(signed, K_ROTATION), "plc.sig.compact",
             "The signature is DER-encoded instead of the 64-byte r||s form."),
            ("sig-high-s", high_s_twin(signed, K_ROTATION), "plc.sig.low-s",
             "The high-S twin of a valid signature: mathematically valid, refused.")):
        log_invalid(f, name, error, rebuilt(op, None), comment + " (genesis operation)")
    # A signature with '-' or '_' written in the standard alphabet.
    for i in range(40):
        probe = K_ROTATION.sign(regular([K_RECOVERY, K_ROTATION], f"h{i}.test"))
        if "-" in probe["sig"] or "_" in probe["sig"]:
            break
    log_invalid(f, "sig-standard-alphabet", "plc.sig.base64url",
                rebuilt(standard_alphabet_sig(probe), None),
                "The signature is written with the standard base64 alphabet ('+' and '/').")
    log = base_log()
    upd = K_ROTATION.sign(regular([K_RECOVERY, K_ROTATION], "bob.test", log.cid(0)))
    log.add_signed(high_s_twin(upd, K_ROTATION), 1)
    log_invalid(f, "update-sig-high-s", "plc.sig.low-s", log,
                "An update whose signature is the high-S twin of a valid one.")

    for name, op, error, comment, alt in (
            ("rotation-keys-none", regular([]), "plc.op.rotation-keys-count",
             "A genesis operation with no rotation keys.", ["plc.sig.rotation-key"]),
            ("rotation-keys-six", regular(five + [K_SIGNING]), "plc.op.rotation-keys-count",
             "Six rotation keys; five is the limit.", []),
            ("rotation-keys-duplicate", regular([K_RECOVERY, K_ROTATION, K_RECOVERY]),
             "plc.op.rotation-keys-unique", "A rotation key listed twice.", []),
            ("rotation-key-ed25519", regular([K_ROTATION, ED25519_DID_KEY]),
             "plc.op.rotation-key-type", "An Ed25519 did:key as a rotation key.", []),
            ("verification-method-not-did-key",
             regular([K_ROTATION], signing="zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF"),
             "plc.op.verification-method-syntax",
             "The atproto verification method lacks the did:key: prefix.", []),
            ("verification-method-bad-base58",
             regular([K_ROTATION], signing="did:key:zQ3sh0OIl"),
             "plc.op.verification-method-syntax",
             "A verification method with characters outside base58btc.", []),
            ("verification-methods-eleven",
             regular([K_ROTATION], extra_methods={f"k{i}": K_SIGNING.did for i in range(10)}),
             "plc.op.verification-methods-max", "Eleven verification methods; ten is the limit.",
             [])):
        log_invalid(f, name, error, rebuilt(K_ROTATION.sign(op), None), comment, alternate=alt)
    big = regular([K_ROTATION])
    while len(cbor(K_ROTATION.sign(big))) <= 7500:
        big["alsoKnownAs"].append(f"at://alias-{len(big['alsoKnownAs'])}.example.com")
    log_invalid(f, "operation-too-large", "plc.op.size", rebuilt(K_ROTATION.sign(big), None),
                f"{len(cbor(K_ROTATION.sign(big)))} bytes of DAG-CBOR, over the 7500-byte limit.")

    shapes = []
    g = K_ROTATION.sign(regular([K_ROTATION]))
    extra = dict(g, extra="x")
    shapes.append(("operation-extra-field", extra, "plc.op.fields",
                   "A field that no operation type has."))
    nosig = {k: v for k, v in g.items() if k != "sig"}
    shapes.append(("operation-unsigned", nosig, "plc.op.fields", "An operation without sig."))
    noprev = {k: v for k, v in g.items() if k != "prev"}
    shapes.append(("operation-prev-omitted", noprev, "plc.op.fields",
                   "prev left out instead of null."))
    bad_service = copy.deepcopy(g)
    bad_service["services"]["atproto_pds"]["extra"] = "x"
    shapes.append(("service-extra-field", bad_service, "plc.op.fields",
                   "A service object with a member besides type and endpoint."))
    aka_number = copy.deepcopy(g)
    aka_number["alsoKnownAs"] = [1]
    shapes.append(("also-known-as-number", aka_number, "plc.op.fields",
                   "An alsoKnownAs entry that is not a string."))
    shapes.append(("type-unknown", dict(g, type="plc_update"), "plc.op.type",
                   "An unknown operation type."))
    for name, op, error, comment in shapes:
        log = rebuilt(op, None)
        log_invalid(f, name, error, log, comment)

    log = base_log()
    upd = K_ROTATION.sign(regular([K_ROTATION], "bob.test", "bafy-not-a-cid"))
    log.add_signed(upd, 1)
    log_invalid(f, "prev-not-cid", "plc.op.prev-cid", log, "prev is not a CID string.")
    log = base_log()
    raw_cid = "b" + b32(bytes([0x01, 0x55, 0x12, 0x20]) + hashlib.sha256(b"x").digest())
    upd = K_ROTATION.sign(regular([K_ROTATION], "bob.test", raw_cid))
    log.add_signed(upd, 1)
    log_invalid(f, "prev-raw-codec", "plc.op.prev-cid", log,
                "prev is a CID with the raw codec, not dag-cbor.")
    log = base_log()
    log.add_signed(K_ROTATION.sign({"type": "plc_tombstone", "prev": None}), 1)
    log_invalid(f, "tombstone-prev-null", "plc.op.prev", log, "A tombstone with a null prev.")
    leg = dict(legacy(), prev=None)
    leg_bad = K_SIGNING.sign(dict(leg))
    leg_bad = dict(leg_bad)
    leg_bad["prev"] = op_cid(K_SIGNING.sign(regular([K_SIGNING])))
    leg_bad = K_SIGNING.sign(leg_bad)
    log_invalid(f, "legacy-create-with-prev", "plc.op.prev", rebuilt(leg_bad, None),
                "A legacy create whose prev is not null.")
    log = base_log()
    log.add(legacy("late.test"), K_ROTATION, 1)
    log_invalid(f, "legacy-create-not-genesis", "plc.op.legacy-genesis-only", log,
                "A legacy create after the genesis operation.", alternate=["plc.op.prev",
                                                                          "plc.log.prev"])

    base = base_log()
    base.add(regular([K_RECOVERY, K_ROTATION], "mallory.test", base.cid(0)), K_ROTATION, 1)
    log = base.copy()
    log.add(regular([K_RECOVERY, K_ROTATION], "alice.test", log.cid(0)), K_RECOVERY, 73, 1)
    log.nullify(1)
    log_invalid(f, "recovery-72h-plus-1ms", "plc.recovery.window", log,
                "The recovery comes 72 hours and one millisecond after the operation it would "
                "nullify: too late.")
    log = base.copy()
    log.add(regular([K_RECOVERY, K_ROTATION], "alice.test", log.cid(0)), K_RECOVERY, 200)
    log.nullify(1)
    log_invalid(f, "recovery-days-late", "plc.recovery.window", log,
                "The recovery comes about a week late.")
    log = base.copy()
    log.add(regular([K_RECOVERY, K_ROTATION], "alice.test", log.cid(0)), K_ROTATION, 2)
    log.nullify(1)
    log_invalid(f, "recovery-same-key", "plc.recovery.priority", log,
                "The fork is signed by the same key as the operation it would nullify: only a "
                "higher-priority key may rewrite history.")
    log = base_log()
    log.add(regular([K_RECOVERY, K_ROTATION], "x.test", log.cid(0)), K_RECOVERY, 1)
    log.add(regular([K_RECOVERY, K_ROTATION], "mallory.test", log.cid(0)), K_ROTATION, 2)
    log.nullify(1)
    log_invalid(f, "recovery-lower-key", "plc.recovery.priority", log,
                "A lower-priority key tries to fork away an operation of the recovery key.")
    log = base.copy()
    log.add(regular([K_RECOVERY, K_ROTATION], "alice.test", log.cid(0)), K_RECOVERY, 2)
    log_invalid(f, "nullified-flag-missing", "plc.log.nullified", log,
                "A valid recovery, but the operation it nullifies is not marked nullified.")
    log = base.copy()
    log.nullify(1)
    log_invalid(f, "nullified-flag-spurious", "plc.log.nullified", log,
                "An operation is marked nullified although nothing nullified it.")

    log = base_log()
    t = log.add(tombstone(log.cid(0)), K_ROTATION, 1)
    log.add(regular([K_RECOVERY, K_ROTATION], "alice.test", t), K_RECOVERY, 2)
    log_invalid(f, "after-tombstone", "plc.tombstone.final", log,
                "An operation whose prev is a tombstone: a tombstone ends the log.")
    return f


# --------------------------------------------------------------------------
# operation.json


def operation_file():
    f = File("operation", "operation",
             "Single did:plc operations: the DAG-CBOR of the unsigned operation (what is "
             "signed), the CID of the signed operation and, for genesis operations, the DID.",
             [PLC_SPEC + "#operation-serialization-signing-and-validation",
              PLC_SPEC + "#did-creation"])

    def valid(cid, reqs, op, comment):
        case = {"id": "plc.operation.valid." + cid, "requirements": reqs, "operation": op,
                "valid": True, "unsigned_cbor": cbor(unsigned(op)).hex(), "cid": op_cid(op)}
        if op.get("prev") is None and op["type"] != "plc_tombstone":
            case["did"] = did_of(op)
        case["comment"] = comment
        f.cases.append(case)

    def invalid(cid, error, op, comment):
        f.cases.append({"id": "plc.operation.invalid." + cid, "requirements": [error],
                        "operation": op, "valid": False, "error": error, "comment": comment})

    reqs = ["plc.sig.unsigned-cbor", "plc.cid.operation", "plc.did.genesis"]
    g = K_ROTATION.sign(regular([K_RECOVERY, K_ROTATION]))
    valid("genesis", reqs, g, "A regular genesis operation.")
    valid("legacy-create", reqs + ["plc.op.type"], K_SIGNING.sign(legacy()),
          "A legacy create operation: hashed and signed in its own form.")
    valid("update", ["plc.sig.unsigned-cbor", "plc.cid.operation"],
          K_ROTATION.sign(regular([K_ROTATION], "bob.test", op_cid(g))),
          "An update: prev is a CID string (a CBOR text string, not a link).")
    valid("tombstone", ["plc.sig.unsigned-cbor", "plc.cid.operation"],
          K_ROTATION.sign(tombstone(op_cid(g))), "A tombstone: type, prev and sig only.")
    valid("unicode-handle", reqs, K_ROTATION.sign(regular([K_ROTATION], "xn--caf-dma.test",
                                                          pds="https://pds.example.com:8443")),
          "Non-trivial strings are encoded byte for byte.")
    invalid("extra-field", "plc.op.fields", dict(g, extra=True), "A field no type has.")
    invalid("not-object", "plc.op.fields", [g], "An array, not an object.")
    invalid("type-missing", "plc.op.type", {k: v for k, v in g.items() if k != "type"},
            "No type.")
    invalid("rotation-keys-string", "plc.op.fields", dict(g, rotationKeys=K_ROTATION.did),
            "rotationKeys is a string, not an array.")
    invalid("services-array", "plc.op.fields", dict(g, services=[]), "services is an array.")
    invalid("prev-number", "plc.op.fields", dict(g, prev=0), "prev is a number.")
    invalid("prev-cidv0", "plc.op.prev-cid",
            dict(g, prev="QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG"), "prev is a CIDv0.")
    invalid("sig-number", "plc.op.fields", dict(g, sig=1), "sig is a number.")
    invalid("legacy-missing-handle", "plc.op.fields",
            {k: v for k, v in K_SIGNING.sign(legacy()).items() if k != "handle"},
            "A legacy create without its handle.")
    invalid("tombstone-extra", "plc.op.fields", dict(K_ROTATION.sign(tombstone(op_cid(g))),
                                                     rotationKeys=[]),
            "A tombstone carrying an operation's field.")
    return f


# --------------------------------------------------------------------------
# did-document.json


def did_document_file():
    f = File("did-document", "did-document",
             "DID documents: the atproto signing key (#atproto), PDS endpoint (#atproto_pds) and "
             "claimed handle (first valid at:// alsoKnownAs entry), or the rule a malformed "
             "document breaks.",
             [DID_SPEC + "#did-documents", DID_SPEC + "#legacy-representation"])
    did = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"

    def doc(**over):
        d = {"@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
             "id": did, "alsoKnownAs": ["at://alice.test"],
             "verificationMethod": [{"id": did + "#atproto", "type": "Multikey",
                                     "controller": did,
                                     "publicKeyMultibase": K_SIGNING.multikey}],
             "service": [{"id": "#atproto_pds", "type": "AtprotoPersonalDataServer",
                          "serviceEndpoint": "https://pds.example.com"}]}
        d.update(over)
        return d

    def valid(cid, reqs, document, key, pds, handle, comment):
        f.cases.append({"id": "did.document.valid." + cid, "requirements": reqs,
                        "document": document, "valid": True, "signing_key": key, "pds": pds,
                        "handle": handle, "comment": comment})

    def invalid(cid, document, comment):
        f.cases.append({"id": "did.document.invalid." + cid, "requirements": ["did.document.shape"],
                        "document": document, "valid": False, "error": "did.document.shape",
                        "comment": comment})

    all3 = ["did.doc.signing-key", "did.doc.pds", "did.doc.handle"]
    valid("plain", all3, doc(), K_SIGNING.did, "https://pds.example.com", "alice.test",
          "A complete document.")
    plc_doc = document(did, regular([K_RECOVERY], signing=K_P256_SIGNING.did))
    valid("as-plc-renders", all3 + ["plc.doc.render"], plc_doc, K_P256_SIGNING.did,
          "https://pds.example.com", "alice.test", "The document a PLC directory renders.")
    valid("relative-ids", ["did.doc.relative-ids"],
          doc(verificationMethod=[{"id": "#atproto", "type": "Multikey", "controller": did,
                                   "publicKeyMultibase": K_SIGNING.multikey}],
              service=[{"id": did + "#atproto_pds", "type": "AtprotoPersonalDataServer",
                        "serviceEndpoint": "https://pds.example.com"}]),
          K_SIGNING.did, "https://pds.example.com", "alice.test",
          "A relative #atproto key id and a fully qualified service id.")
    legacy_point = K_P256_SIGNING.uncompressed
    valid("legacy-key", ["did.doc.legacy-keys", "did.doc.signing-key"],
          doc(verificationMethod=[{"id": "#atproto", "type": "EcdsaSecp256r1VerificationKey2019",
                                   "controller": did, "publicKeyMultibase": "z" + base58(legacy_point)}]),
          K_P256_SIGNING.did, "https://pds.example.com", "alice.test",
          "The legacy verification method form: uncompressed point, curve named by the type.")
    valid("first-valid-key", ["did.doc.signing-key"],
          doc(verificationMethod=[
              {"id": "#atproto", "type": "Multikey", "controller": "did:plc:" + "b" * 24,
               "publicKeyMultibase": K_ROTATION.multikey},
              {"id": "#atproto", "type": "Multikey", "controller": did,
               "publicKeyMultibase": "zNotAKey"},
              {"id": "#atproto", "type": "Multikey", "controller": did,
               "publicKeyMultibase": K_SIGNING.multikey}]),
          K_SIGNING.did, "https://pds.example.com", "alice.test",
          "The first #atproto entry has another controller, the second an invalid key; the "
          "third is the first valid one.")
    valid("no-key", ["did.doc.signing-key"],
          doc(verificationMethod=[{"id": "#other", "type": "Multikey", "controller": did,
                                   "publicKeyMultibase": K_SIGNING.multikey}]),
          None, "https://pds.example.com", "alice.test", "No #atproto verification method.")
    valid("first-handle", ["did.doc.handle"],
          doc(alsoKnownAs=["https://alice.test", "at://bad_handle", "at://Carol.Example.com",
                           "at://dave.test"]),
          K_SIGNING.did, "https://pds.example.com", "carol.example.com",
          "The first syntactically valid at:// entry, lowercased; earlier non-handles are "
          "skipped, later handles ignored.")
    valid("no-handle", ["did.doc.handle"], doc(alsoKnownAs=[]), K_SIGNING.did,
          "https://pds.example.com", None, "An empty alsoKnownAs claims no handle.")
    for name, endpoint, comment in (
            ("pds-path", "https://pds.example.com/xrpc", "a path"),
            ("pds-scheme", "wss://pds.example.com", "a non-http scheme"),
            ("pds-userinfo", "https://me@pds.example.com", "userinfo")):
        valid(name, ["did.doc.pds"],
              doc(service=[{"id": "#atproto_pds", "type": "AtprotoPersonalDataServer",
                            "serviceEndpoint": endpoint}]),
              K_SIGNING.did, None, "alice.test",
              f"The PDS endpoint has {comment}: not a bare http(s) origin, so no usable PDS.")
    valid("pds-port", ["did.doc.pds"],
          doc(service=[{"id": "#atproto_pds", "type": "AtprotoPersonalDataServer",
                        "serviceEndpoint": "http://localhost:2583"}]),
          K_SIGNING.did, "http://localhost:2583", "alice.test", "http with a port.")
    valid("pds-wrong-type", ["did.doc.pds"],
          doc(service=[{"id": "#atproto_pds", "type": "Other",
                        "serviceEndpoint": "https://pds.example.com"}]),
          K_SIGNING.did, None, "alice.test", "The #atproto_pds service has another type.")
    invalid("not-object", ["did:plc:x"], "An array.")
    invalid("no-id", {k: v for k, v in doc().items() if k != "id"}, "No id.")
    invalid("id-not-did", doc(id="alice.test"), "The id is not a DID.")
    invalid("aka-not-array", doc(alsoKnownAs="at://alice.test"), "alsoKnownAs is a string.")
    invalid("vm-not-object", doc(verificationMethod=["#atproto"]),
            "A verificationMethod entry is a string.")
    invalid("vm-no-controller", doc(verificationMethod=[{"id": "#atproto", "type": "Multikey",
                                                         "publicKeyMultibase": "z"}]),
            "A verificationMethod entry without controller.")
    invalid("service-no-endpoint", doc(service=[{"id": "#atproto_pds",
                                                 "type": "AtprotoPersonalDataServer"}]),
            "A service without serviceEndpoint.")
    return f


def main():
    return vectorgen.write_or_check([audit_log_file(), operation_file(), did_document_file()],
                                    OUT_DIR, "gen-plc-vectors.py")


if __name__ == "__main__":
    sys.exit(main())

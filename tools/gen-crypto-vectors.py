#!/usr/bin/python3
"""Writes vectors/crypto/*.json, the shared test vectors for atproto cryptography.

verify.json: public key (did:key), message and signature in; whether a strict
  atproto verifier accepts the signature (SHA-256 of the message, 64-byte
  compact r||s, low-S only), and the rule broken when it does not. In the
  spirit of Wycheproof: high-S twins of valid signatures, r or s zero or at or
  above the group order, DER instead of compact, truncated and padded
  signatures, signatures by the other curve's key, mutated messages and keys.
parse-key.json: a did:key in; the curve, JWT algorithm and compressed point,
  or the rule the string breaks (multibase, multicodec, compressed form, SEC1
  tag, point on the curve).
verification-method.json: a DID document verificationMethod's type and
  publicKeyMultibase in, Multikey and the legacy forms of the did page.
did-key.json: a curve and raw private key in; its did:key out.

Everything is computed here with this script's own elliptic curve arithmetic,
RFC 6979 nonces and base58 code, independently of the C++ reference; every
signature and key is cross-checked with python3-cryptography (OpenSSL). The
nonces are deterministic (RFC 6979, HMAC-SHA-256), so the output is stable and
--check can compare it. The K-256 signatures are exactly what libsecp256k1
(and so @atproto/crypto) produces for the same key and message.
Case ids are stable: never rename or reuse one, add new cases instead.

Usage: tools/gen-crypto-vectors.py            (rewrites vectors/crypto/)
       tools/gen-crypto-vectors.py --check    (exit 1 if the files are stale)
"""

import hashlib
import os
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vectorgen  # noqa: E402
from vectorgen import (B58, CURVES, K256, P256, base58, compact, did_key, multikey,  # noqa: E402
                       sign_digest)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "vectors", "crypto")
SPEC = "https://atproto.com/specs/"

# --------------------------------------------------------------------------
# Requirement ids (spec/requirements/cryptography.json)

CURVES_OK = "crypto.curves.supported"
SHA = "crypto.sig.sha256"
SIG_LEN = "crypto.sig.length"
SIG_DER = "crypto.sig.der"
SIG_RANGE = "crypto.sig.scalar-range"
LOW_S = "crypto.sig.low-s"
VERIFY = "crypto.sig.verify"
MULTIBASE = "crypto.key.multibase"
MULTICODEC = "crypto.key.multicodec"
COMPRESSED = "crypto.key.compressed"
POINT = "crypto.key.point-encoding"
ON_CURVE = "crypto.key.on-curve"
DID_KEY = "crypto.did-key.prefix"
PRIV_LEN = "crypto.private-key.length"
PRIV_RANGE = "crypto.private-key.range"
VM_TYPE = "crypto.multikey.type"
LEGACY = "crypto.legacy.multibase"

# --------------------------------------------------------------------------
# The curves and RFC 6979 ECDSA are tools/vectorgen.py's; OpenSSL (through
# python3-cryptography) checks what they compute.

OPENSSL = {"p256": ec.SECP256R1(), "k256": ec.SECP256K1()}


# --------------------------------------------------------------------------
# Signature encodings and the OpenSSL cross-check


def der(r, s):
    def integer(v):
        b = v.to_bytes((v.bit_length() + 8) // 8, "big")  # a leading 0 when the top bit is set
        b = b.lstrip(b"\0") or b"\0"
        if b[0] & 0x80:
            b = b"\0" + b
        return b"\x02" + bytes([len(b)]) + b

    body = integer(r) + integer(s)
    return b"\x30" + bytes([len(body)]) + body


def openssl_verify(curve, point, message, r, s, prehashed_digest=None):
    """Whether OpenSSL accepts (r, s) as an ECDSA signature, without atproto's rules."""
    pub = ec.EllipticCurvePublicKey.from_encoded_point(OPENSSL[curve.name], curve.uncompress(point))
    try:
        pub.verify(encode_dss_signature(r, s), message, ec.ECDSA(hashes.SHA256()))
        return True
    except InvalidSignature:
        return False


class Key:
    def __init__(self, curve, d):
        self.curve, self.d = curve, d
        self.point = curve.mul(d, curve.g)
        # Cross-check the public point with OpenSSL.
        other = ec.derive_private_key(d, OPENSSL[curve.name]).public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        assert other == curve.uncompress(self.point)
        self.did = did_key(curve, self.point)

    def sign(self, message):
        r, s = sign_digest(self.curve, self.d, hashlib.sha256(message).digest())
        assert openssl_verify(self.curve, self.point, message, r, s)
        return r, s


def fixed_scalar(curve, label):
    return int.from_bytes(hashlib.sha256(b"atproto crypto vectors: " + label.encode()).digest(),
                          "big") % curve.n


# --------------------------------------------------------------------------
# Vector files


class VectorFile(vectorgen.VectorFile):
    def __init__(self, name, operation, description, spec):
        super().__init__("crypto", name, operation, description, spec)

    def add(self, validity, slug, requirements, comment, **fields):
        case = {"id": f"crypto.{self.operation}.{validity}.{slug}",
                "requirements": sorted(set(requirements))}
        case.update(fields)
        case["comment"] = comment
        self.add_case(case)


MESSAGES = [
    ("empty", b"", "the empty message"),
    ("hello", b"hello atproto", "a short ASCII message"),
    ("cbor", bytes.fromhex("a3636469646b6469643a706c633a616263636f7073806476657273696f6e03"),
     "a small DRISL-CBOR map, the kind of bytes atproto signs"),
    ("binary-1k", bytes(i * 7 % 256 for i in range(1000)), "1000 bytes of binary data"),
]


def verify_file(keys):
    f = VectorFile(
        "verify", "verify",
        "Strict signature verification: the message is hashed with SHA-256 and the signature is "
        "the 64-byte compact r||s with s in the lower half of the group order. Invalid cases name "
        "the first rule broken: the signature's form (length, DER, scalar range, low-S) is checked "
        "before the curve arithmetic. Cases with private_key_hex are deterministic RFC 6979 "
        "signatures (for K-256 exactly what libsecp256k1 produces).",
        [SPEC + "cryptography#ecdsa-signature-malleability", SPEC + "cryptography",
         SPEC + "cryptography#public-key-encoding"])

    def case(validity, slug, key_did, curve, message, sig, requirements, comment, error=None,
             private=None):
        fields = {"curve": curve.name, "public_key": key_did, "message_hex": message.hex(),
                  "signature_hex": sig.hex(), "valid": validity == "valid"}
        if private is not None:
            fields["private_key_hex"] = private.d.to_bytes(32, "big").hex()
        if error:
            fields["error"] = error
        f.add(validity, slug, requirements, comment, **fields)

    for curve in CURVES:
        a, b = keys[curve.name]
        c = curve.name
        # Valid signatures, two keys, several messages.
        for key, kname in ((a, "a"), (b, "b")):
            for mslug, message, mdesc in MESSAGES:
                r, s = key.sign(message)
                case("valid", f"{c}-key-{kname}-{mslug}", key.did, curve, message, compact(r, s),
                     [CURVES_OK, SHA, LOW_S, VERIFY],
                     f"{curve.name} key {kname} signs {mdesc}; deterministic RFC 6979 nonce, low-S.",
                     private=key)
        # The multikey form is accepted as the public key too.
        r, s = a.sign(b"hello atproto")
        case("valid", f"{c}-multikey-form", multikey(curve, a.point), curve, b"hello atproto",
             compact(r, s), [CURVES_OK, VERIFY],
             "The public key given as a bare multikey (publicKeyMultibase) instead of did:key.")

        # Mutations of one valid signature.
        message = b"hello atproto"
        r, s = a.sign(message)
        sig = compact(r, s)
        assert openssl_verify(curve, a.point, message, r, curve.n - s)
        case("invalid", f"{c}-high-s-twin", a.did, curve, message, compact(r, curve.n - s),
             [LOW_S], "The high-S twin (r, n-s) of a valid signature: a valid ECDSA signature "
             "that atproto rejects because s > n/2.", error=LOW_S)
        for mslug, m, _ in MESSAGES[2:]:
            r2, s2 = a.sign(m)
            case("invalid", f"{c}-high-s-twin-{mslug}", a.did, curve, m, compact(r2, curve.n - s2),
                 [LOW_S], "Another high-S twin of a valid signature.", error=LOW_S)
        case("invalid", f"{c}-der", a.did, curve, message, der(r, s), [SIG_DER],
             "The valid signature's r and s DER-encoded (ASN.1 SEQUENCE of two INTEGERs) instead "
             "of compact.", error=SIG_DER)
        case("invalid", f"{c}-der-high-s", a.did, curve, message, der(r, curve.n - s), [SIG_DER],
             "DER encoding of the high-S twin: what a non-normalizing library emits by default.",
             error=SIG_DER)
        case("invalid", f"{c}-truncated-63", a.did, curve, message, sig[:63], [SIG_LEN],
             "The valid signature with its last byte cut off.", error=SIG_LEN)
        case("invalid", f"{c}-truncated-32", a.did, curve, message, sig[:32], [SIG_LEN],
             "Only r.", error=SIG_LEN)
        case("invalid", f"{c}-padded-65", a.did, curve, message, sig + b"\0", [SIG_LEN],
             "The valid signature followed by one zero byte.", error=SIG_LEN)
        case("invalid", f"{c}-padded-front-65", a.did, curve, message, b"\0" + sig, [SIG_LEN],
             "A zero byte in front of the valid signature.", error=SIG_LEN)
        case("invalid", f"{c}-empty", a.did, curve, message, b"", [SIG_LEN],
             "An empty signature.", error=SIG_LEN)
        case("invalid", f"{c}-twice", a.did, curve, message, sig + sig, [SIG_LEN],
             "The valid signature repeated (128 bytes).", error=SIG_LEN)
        zero = (0).to_bytes(32, "big")
        case("invalid", f"{c}-r-zero", a.did, curve, message, zero + sig[32:], [SIG_RANGE],
             "r = 0 is outside [1, n-1].", error=SIG_RANGE)
        case("invalid", f"{c}-s-zero", a.did, curve, message, sig[:32] + zero, [SIG_RANGE],
             "s = 0 is outside [1, n-1].", error=SIG_RANGE)
        case("invalid", f"{c}-r-s-zero", a.did, curve, message, zero + zero, [SIG_RANGE],
             "r = s = 0: the all-zero signature some verifiers accept for some keys.",
             error=SIG_RANGE)
        n = curve.n.to_bytes(32, "big")
        case("invalid", f"{c}-r-equals-n", a.did, curve, message, n + sig[32:], [SIG_RANGE],
             "r = n, the group order.", error=SIG_RANGE)
        case("invalid", f"{c}-s-equals-n", a.did, curve, message, sig[:32] + n, [SIG_RANGE],
             "s = n, the group order (also above n/2: the range rule comes first).",
             error=SIG_RANGE)
        if r + curve.n < 2**256:
            case("invalid", f"{c}-r-plus-n", a.did, curve, message,
                 compact(r + curve.n, s), [SIG_RANGE],
                 "r + n: congruent to r modulo n, so a verifier that reduces r first accepts it.",
                 error=SIG_RANGE)
        case("invalid", f"{c}-r-all-ones", a.did, curve, message, b"\xff" * 32 + sig[32:],
             [SIG_RANGE], "r = 2^256 - 1.", error=SIG_RANGE)
        case("invalid", f"{c}-s-n-minus-1", a.did, curve, message,
             sig[:32] + (curve.n - 1).to_bytes(32, "big"), [LOW_S],
             "s = n-1 is in range but high.", error=LOW_S)
        case("invalid", f"{c}-r-n-minus-1", a.did, curve, message,
             (curve.n - 1).to_bytes(32, "big") + sig[32:], [VERIFY],
             "r = n-1 is in range; the signature simply does not verify.", error=VERIFY)
        case("invalid", f"{c}-s-half-n-plus-1", a.did, curve, message,
             sig[:32] + (curve.n // 2 + 1).to_bytes(32, "big"), [LOW_S],
             "s = floor(n/2) + 1, the smallest high s.", error=LOW_S)
        case("invalid", f"{c}-s-half-n", a.did, curve, message,
             sig[:32] + (curve.n // 2).to_bytes(32, "big"), [VERIFY],
             "s = floor(n/2), the largest low s: passes the form checks, fails verification.",
             error=VERIFY)
        # Changed message, signature bytes, key.
        case("invalid", f"{c}-message-changed", a.did, curve, b"hello atproto!", sig, [VERIFY],
             "The valid signature over a message with one byte appended.", error=VERIFY)
        case("invalid", f"{c}-message-bit-flip", a.did, curve, b"hello atprotO", sig, [VERIFY],
             "The valid signature over a message with one bit flipped.", error=VERIFY)
        flipped = bytearray(sig)
        flipped[5] ^= 0x01
        case("invalid", f"{c}-r-bit-flip", a.did, curve, message, bytes(flipped), [VERIFY],
             "One bit of r flipped.", error=VERIFY)
        flipped = bytearray(sig)
        flipped[63] ^= 0x01
        fs = int.from_bytes(flipped[32:], "big")
        assert fs <= curve.n // 2
        case("invalid", f"{c}-s-bit-flip", a.did, curve, message, bytes(flipped), [VERIFY],
             "The lowest bit of s flipped.", error=VERIFY)
        case("invalid", f"{c}-r-s-swapped", a.did, curve, message, sig[32:] + sig[:32],
             [VERIFY] if r <= curve.n // 2 else [LOW_S],
             "r and s swapped.", error=VERIFY if r <= curve.n // 2 else LOW_S)
        case("invalid", f"{c}-other-key", b.did, curve, message, sig, [VERIFY],
             "A valid signature by key a, checked against key b of the same curve.",
             error=VERIFY)
        # Hashing mistakes: the signer skipped SHA-256 or hashed twice.
        digest = hashlib.sha256(message).digest()
        rr, ss = sign_digest(curve, a.d, digest)  # signs digest, i.e. message = digest preimage
        case("invalid", f"{c}-unhashed-message", a.did, curve, digest, compact(rr, ss), [SHA],
             "The signature over SHA-256(m) presented with m = SHA-256(...) itself as the message: "
             "a verifier that does not hash the message accepts it.", error=VERIFY)
        rr, ss = sign_digest(curve, a.d, hashlib.sha256(digest).digest())
        case("invalid", f"{c}-double-hash", a.did, curve, message, compact(rr, ss), [SHA],
             "Signed over SHA-256(SHA-256(m)): the message was hashed twice.", error=VERIFY)
        # Invalid keys in a verify call.
        case("invalid", f"{c}-key-uncompressed", "did:key:z" + base58(curve.multicodec +
             curve.uncompress(a.point)), curve, message, sig, [COMPRESSED],
             "The right key, but uncompressed behind the multicodec prefix.", error=COMPRESSED)

    # Cross-curve: the same scalar signs on one curve, the other curve's key verifies.
    for signer, verifier in ((K256, P256), (P256, K256)):
        d = fixed_scalar(K256, "cross")  # below both orders
        sk, vk = Key(signer, d), Key(verifier, d)
        for attempt in range(100):
            m = b"cross-curve %d" % attempt
            r, s = sk.sign(m)
            if r < verifier.n and s <= verifier.n // 2:
                break
        case("invalid", f"{signer.name}-signature-{verifier.name}-key", vk.did, verifier, m,
             compact(r, s), [VERIFY],
             f"A valid {signer.name} signature by the same private scalar, checked against the "
             f"{verifier.name} public key: well-formed, does not verify.", error=VERIFY)
    return f


def parse_key_file(keys):
    f = VectorFile(
        "parse-key", "parse-key",
        "Parsing a did:key: 'did:key:' + 'z' + base58btc of the varint multicodec (p256-pub "
        "0x1200, secp256k1-pub 0xe7) and the 33-byte compressed point, which must be on the "
        "curve. Valid cases give the curve, its JWT algorithm, the multikey (publicKeyMultibase) "
        "and the compressed and uncompressed point.",
        [SPEC + "cryptography#public-key-encoding", SPEC + "cryptography#encoded-examples"])

    def valid(slug, curve, point, comment, did=None):
        did = did or did_key(curve, point)
        assert did == did_key(curve, point)
        f.add("valid", slug, [MULTIBASE, MULTICODEC, COMPRESSED, ON_CURVE, DID_KEY], comment,
              input=did, valid=True, curve=curve.name, jwt_alg=curve.jwt,
              public_key_multibase=multikey(curve, point),
              compressed_hex=curve.compress(point).hex(), uncompressed_hex=curve.uncompress(point).hex())

    def invalid(slug, text, error, comment, requirements=None):
        f.add("invalid", slug, requirements or [error], comment, input=text, valid=False, error=error)

    def decode_example(curve, text):
        raw = int.from_bytes(bytes(0), "big")
        n = 0
        for ch in text[len("did:key:z"):]:
            n = n * 58 + B58.index(ch)
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        assert raw.startswith(curve.multicodec)
        pt = raw[len(curve.multicodec):]
        x = int.from_bytes(pt[1:], "big")
        y = curve.sqrt_y(x)
        if (y & 1) != (pt[0] & 1):
            y = curve.p - y
        return (x, y)

    ex_p = "did:key:zDnaembgSGUhZULN2Caob4HLJPaxBh92N7rtH21TErzqf8HQo"
    ex_k = "did:key:zQ3shqwJEJyMBsBXCWyCBpUBMqxcon9oHB7mCvx4sSpMdLJwc"
    valid("spec-example-p256", P256, decode_example(P256, ex_p),
          "The P-256 example of the cryptography page.", did=ex_p)
    valid("spec-example-k256", K256, decode_example(K256, ex_k),
          "The K-256 example of the cryptography page.", did=ex_k)
    ex_k2 = "did:key:zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF"
    valid("did-spec-example-k256", K256, decode_example(K256, ex_k2),
          "The Multikey example of the did page (same key as its legacy example).", did=ex_k2)
    for curve in CURVES:
        a, b = keys[curve.name]
        valid(f"{curve.name}-key-a", curve, a.point, f"Fixed {curve.name} key a.")
        valid(f"{curve.name}-key-b", curve, b.point, f"Fixed {curve.name} key b.")
        valid(f"{curve.name}-generator", curve, curve.g,
              f"The {curve.name} base point G (private key 1).")
        neg = (curve.g[0], curve.p - curve.g[1])
        valid(f"{curve.name}-generator-negated", curve, neg,
              f"-G (private key n-1): same x as G, the other y parity (tag 0x0{2 + (neg[1] & 1)}).")

    for curve in CURVES:
        c = curve.name
        a = keys[c][0]
        comp = curve.compress(a.point)
        unc = curve.uncompress(a.point)
        enc = lambda prefix, body: "did:key:z" + base58(prefix + body)  # noqa: E731
        invalid(f"{c}-uncompressed", enc(curve.multicodec, unc), COMPRESSED,
                "The uncompressed 65-byte point behind the right multicodec.")
        invalid(f"{c}-point-32-bytes", enc(curve.multicodec, comp[1:]), COMPRESSED,
                "The x coordinate without the SEC1 tag byte (32 bytes).")
        invalid(f"{c}-point-34-bytes", enc(curve.multicodec, comp + b"\0"), COMPRESSED,
                "The compressed point followed by a zero byte.")
        invalid(f"{c}-no-point", enc(curve.multicodec, b""), COMPRESSED,
                "The multicodec and no key bytes.")
        invalid(f"{c}-tag-04-33-bytes", enc(curve.multicodec, b"\x04" + comp[1:]), POINT,
                "33 bytes with the uncompressed tag 0x04.")
        invalid(f"{c}-tag-00", enc(curve.multicodec, b"\x00" + comp[1:]), POINT,
                "33 bytes with tag 0x00.")
        invalid(f"{c}-tag-06-hybrid", enc(curve.multicodec, b"\x06" + comp[1:]), POINT,
                "The hybrid tag 0x06, which some libraries accept for 65-byte points.")
        # x with no square root: walk up from a fixed x until x^3+ax+b is a non-residue.
        x = int.from_bytes(hashlib.sha256(b"off-curve " + c.encode()).digest(), "big") % curve.p
        while curve.sqrt_y(x) is not None:
            x += 1
        invalid(f"{c}-x-not-on-curve", enc(curve.multicodec, b"\x02" + x.to_bytes(32, "big")),
                ON_CURVE, "A compressed point whose x has no y on the curve.")
        invalid(f"{c}-x-equals-p", enc(curve.multicodec, b"\x02" + curve.p.to_bytes(32, "big")),
                ON_CURVE, "x = p: not a field element.")
        invalid(f"{c}-x-all-ones", enc(curve.multicodec, b"\x03" + b"\xff" * 32), ON_CURVE,
                "x = 2^256 - 1: not a field element.")
        # The other curve's prefix on this curve's point.
        other = K256 if curve is P256 else P256
        other_x = int.from_bytes(comp[1:], "big")
        if other_x < other.p and other.sqrt_y(other_x) is None:
            invalid(f"{c}-point-under-{other.name}-prefix", enc(other.multicodec, comp), ON_CURVE,
                    f"A {c} point behind the {other.name} multicodec: its x is not on {other.name}.")
        invalid(f"{c}-multicodec-non-minimal", enc(
            {"p256": bytes([0x80, 0xA4, 0x00]), "k256": bytes([0xE7, 0x81, 0x00])}[c], comp),
            MULTICODEC, "The multicodec as a non-minimal varint (a trailing zero group).")
        invalid(f"{c}-multicodec-byte-only", enc(curve.multicodec[:1], comp), MULTICODEC,
                "The multicodec's first byte only: a truncated or wrong varint.")
        invalid(f"{c}-multicodec-reversed", enc(curve.multicodec[::-1], comp), MULTICODEC,
                "The two multicodec bytes in the wrong order.")
        invalid(f"{c}-no-multicodec", "did:key:z" + base58(comp), MULTICODEC,
                "The compressed point with no multicodec at all.")
        invalid(f"{c}-legacy-form", "did:key:z" + base58(unc), MULTICODEC,
                "The legacy DID-document encoding (uncompressed, no multicodec) as a did:key.")
    k_comp = K256.compress(keys["k256"][0].point)
    invalid("multicodec-ed25519", "did:key:z" + base58(bytes([0xED, 0x01]) + k_comp[1:]), MULTICODEC,
            "An ed25519-pub multicodec (0xed): a did:key that atproto does not support.")
    invalid("multicodec-p256-private", "did:key:z" + base58(bytes([0x86, 0x26]) + k_comp[1:]),
            MULTICODEC, "The p256-priv multicodec (0x1306): a private key is never a did:key.")
    invalid("multicodec-secp256k1-private", "did:key:z" + base58(bytes([0x81, 0x26]) + k_comp[1:]),
            MULTICODEC, "The secp256k1-priv multicodec (0x1301).")
    invalid("multicodec-p384", "did:key:z" + base58(bytes([0x81, 0x24]) + b"\x02" + b"\x11" * 48),
            MULTICODEC, "A p384-pub key (0x1201): not an atproto curve.")
    ex_multikey = ex_k[len("did:key:"):]
    invalid("no-prefix", ex_multikey, DID_KEY, "A bare multikey where a did:key is expected.")
    invalid("uppercase-prefix", "DID:KEY:" + ex_multikey, DID_KEY, "The prefix is case-sensitive.")
    invalid("did-web-prefix", "did:web:" + ex_multikey, DID_KEY, "Another DID method.")
    invalid("prefix-only", "did:key:", MULTIBASE, "did:key: and nothing after it.")
    invalid("empty", "", DID_KEY, "The empty string.")
    invalid("base32-multibase", "did:key:b" + "aaaa", MULTIBASE,
            "A multibase prefix other than z (base32).")
    invalid("base58-invalid-char", "did:key:zQ3sh0OIl", MULTIBASE,
            "Characters outside the base58 alphabet (0, O, I, l).")
    invalid("trailing-space", ex_k + " ", MULTIBASE, "A trailing space is not base58.")
    invalid("leading-space", " " + ex_k, DID_KEY, "A leading space.")
    invalid("fragment", ex_k + "#" + ex_multikey, MULTIBASE,
            "A DID URL with a fragment, as found in verificationMethod ids, is not a did:key.")
    return f


def verification_method_file(keys):
    f = VectorFile(
        "verification-method", "verification-method",
        "The public key of a DID document verificationMethod, from its type and "
        "publicKeyMultibase: Multikey takes the did:key encoding without the prefix; the legacy "
        "types EcdsaSecp256r1VerificationKey2019 and EcdsaSecp256k1VerificationKey2019 take 'z' + "
        "base58btc of the uncompressed point with no multicodec. Valid cases give the curve and "
        "the key's did:key.",
        [SPEC + "did#representation-of-public-keys", SPEC + "did#legacy-representation"])

    def valid(slug, vm_type, text, curve, point, reqs, comment):
        f.add("valid", slug, reqs, comment, type=vm_type, public_key_multibase=text, valid=True,
              curve=curve.name, did_key=did_key(curve, point))

    def invalid(slug, vm_type, text, error, comment):
        f.add("invalid", slug, [error], comment, type=vm_type, public_key_multibase=text,
              valid=False, error=error)

    legacy_k = ("zQYEBzXeuTM9UR3rfvNag6L3RNAs5pQZyYPsomTsgQhsxLdEgCrPTLgFna8yqCnxPpNT7DBk6Ym3dg"
                "PKNu86vt9GR")
    n = 0
    for ch in legacy_k[1:]:
        n = n * 58 + B58.index(ch)
    raw = n.to_bytes(65, "big")
    pt = (int.from_bytes(raw[1:33], "big"), int.from_bytes(raw[33:], "big"))
    assert K256.on_curve(pt)
    assert did_key(K256, pt) == "did:key:zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF"
    valid("did-spec-legacy-example", K256.legacy_type, legacy_k, K256, pt, [LEGACY],
          "The legacy example of the did page; the same key as its Multikey example.")
    valid("did-spec-multikey-example", "Multikey",
          "zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF", K256, pt, [VM_TYPE],
          "The Multikey example of the did page.")
    for curve in CURVES:
        c = curve.name
        a = keys[c][0]
        unc = curve.uncompress(a.point)
        valid(f"{c}-multikey", "Multikey", multikey(curve, a.point), curve, a.point, [VM_TYPE],
              f"A {c} Multikey.")
        valid(f"{c}-legacy", curve.legacy_type, "z" + base58(unc), curve, a.point, [LEGACY],
              f"A {c} key in the legacy encoding, curve from the type.")
        invalid(f"{c}-legacy-compressed", curve.legacy_type, "z" + base58(curve.compress(a.point)),
                LEGACY, "The legacy types take the uncompressed point, not the compressed one.")
        invalid(f"{c}-legacy-with-multicodec", curve.legacy_type,
                "z" + base58(curve.multicodec + unc), LEGACY,
                "The legacy encoding never has a multicodec.")
        invalid(f"{c}-legacy-multikey-value", curve.legacy_type, multikey(curve, a.point), LEGACY,
                "A multikey value under a legacy type.")
        off = bytearray(unc)
        off[64] ^= 1
        invalid(f"{c}-legacy-off-curve", curve.legacy_type, "z" + base58(bytes(off)), ON_CURVE,
                "An uncompressed point with y changed: not on the curve.")
        invalid(f"{c}-legacy-not-z", curve.legacy_type, "m" + "AAAA", MULTIBASE,
                "A multibase other than base58btc.")
        invalid(f"{c}-multikey-legacy-value", "Multikey", "z" + base58(unc), MULTICODEC,
                "A legacy value under the Multikey type: no multicodec.")
    # The legacy K-256 point under the P-256 type is off that curve (checked here).
    assert P256.sqrt_y(pt[0]) is None or not P256.on_curve(pt)
    invalid("legacy-type-curve-mismatch", P256.legacy_type, legacy_k, ON_CURVE,
            "A K-256 legacy key under the P-256 legacy type: not a P-256 point.")
    invalid("unknown-type", "JsonWebKey2020", multikey(K256, keys["k256"][0].point), VM_TYPE,
            "Another verification method type.")
    invalid("type-case", "multikey", multikey(K256, keys["k256"][0].point), VM_TYPE,
            "Type names are case-sensitive.")
    invalid("ed25519-type", "Ed25519VerificationKey2020", multikey(K256, keys["k256"][0].point),
            VM_TYPE, "An Ed25519 verification method.")
    return f


def did_key_file(keys):
    f = VectorFile(
        "did-key", "did-key",
        "Deriving the did:key of a raw 32-byte private key (big-endian scalar in [1, n-1]).",
        [SPEC + "cryptography#public-key-encoding",
         SPEC + "cryptography#usage-and-implementation-guidelines"])

    def valid(slug, curve, d, comment):
        k = Key(curve, d)
        f.add("valid", slug, [DID_KEY, COMPRESSED, MULTICODEC], comment, curve=curve.name,
              private_key_hex=d.to_bytes(32, "big").hex(), valid=True, did_key=k.did)

    def invalid(slug, curve, raw, error, comment):
        f.add("invalid", slug, [error], comment, curve=curve.name, private_key_hex=raw.hex(),
              valid=False, error=error)

    w3c = 0x9085D2BEF69286A6CBB51623C8FA258629945CD55CA705CC4E66700396894E0C
    k = Key(K256, w3c)
    assert k.did == "did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme"
    valid("k256-w3c-test-key", K256, w3c,
          "The secp256k1 test key of the W3C did:key test suite (and atproto-interop-tests).")
    valid("p256-w3c-test-key-scalar", P256, w3c, "The same 32 bytes as a P-256 private key.")
    for curve in CURVES:
        c = curve.name
        for label in ("a", "b", "c", "d", "e"):
            valid(f"{c}-fixed-{label}", curve, fixed_scalar(curve, f"did-key {label}"),
                  f"A fixed {c} key.")
        valid(f"{c}-one", curve, 1, "Private key 1: the public key is the base point.")
        valid(f"{c}-two", curve, 2, "Private key 2.")
        valid(f"{c}-n-minus-1", curve, curve.n - 1, "The largest private key, n-1.")
        valid(f"{c}-small-leading-zeros", curve, 0x1234,
              "A small key: most of the 32 bytes are leading zeros.")
        valid(f"{c}-key-a", curve, keys[c][0].d, "Key a of verify.json.")
        valid(f"{c}-key-b", curve, keys[c][1].d, "Key b of verify.json.")
        invalid(f"{c}-zero", curve, bytes(32), PRIV_RANGE, "Zero is not a private key.")
        invalid(f"{c}-n", curve, curve.n.to_bytes(32, "big"), PRIV_RANGE,
                "The group order n is out of range.")
        invalid(f"{c}-n-plus-1", curve, (curve.n + 1).to_bytes(32, "big"), PRIV_RANGE,
                "n+1 is out of range (a library that reduces mod n would accept it as 1).")
        invalid(f"{c}-all-ones", curve, b"\xff" * 32, PRIV_RANGE, "2^256 - 1 is out of range.")
        invalid(f"{c}-31-bytes", curve, b"\x01" * 31, PRIV_LEN, "31 bytes.")
        invalid(f"{c}-33-bytes", curve, b"\x00" + b"\x01" * 32, PRIV_LEN,
                "33 bytes, even with a leading zero.")
        invalid(f"{c}-empty", curve, b"", PRIV_LEN, "No bytes.")
    return f


def main():
    keys = {c.name: (Key(c, fixed_scalar(c, c.name + " a")), Key(c, fixed_scalar(c, c.name + " b")))
            for c in CURVES}
    files = [verify_file(keys), parse_key_file(keys), verification_method_file(keys),
             did_key_file(keys)]
    return vectorgen.write_or_check(files, OUT_DIR, "gen-crypto-vectors.py")


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Writes vectors/syntax/*.json, the shared test vectors for the syntax layer.

Every case is written out here by hand (or by a small loop, for long and
systematic inputs); the expected verdicts, error codes, normalized and parsed
forms are computed by this script independently of the C++ reference, which
then checks them in reference/syntax/vectors_test.cpp. Case ids are stable:
never rename or reuse one, add new cases with new ids instead.

Usage: tools/gen-syntax-vectors.py            (rewrites vectors/syntax/)
       tools/gen-syntax-vectors.py --check    (exit 1 if the files are stale)
"""

import base64
import hashlib
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vectorgen  # noqa: E402
from vectorgen import b32, base58, varint  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "vectors", "syntax")
SPEC = "https://atproto.com/specs/"


# --------------------------------------------------------------------------
# File and case builders


class VectorFile(vectorgen.VectorFile):
    def __init__(self, name, type_, operation, description, spec):
        super().__init__("syntax", name, operation, description, spec, reviews=REVIEWS,
                         header={"type": type_})

    def _base(self, verdict, slug, value, requirements):
        case = {"id": f"{self.name}.{verdict}.{slug}", "requirements": list(requirements)}
        if isinstance(value, bytes):
            case["input_hex"] = value.hex()
        else:
            case["input"] = value
        return case

    def valid(self, slug, value, requirements, comment, **extra):
        case = self._base("valid", slug, value, requirements)
        case["valid"] = True
        case.update(extra)
        case["comment"] = comment
        self.add_case(case)

    def invalid(self, slug, value, error, comment, requirements=(), alt=(), **extra):
        reqs = []
        for r in [error, *alt, *requirements]:
            if r not in reqs and not r.startswith("rkey.type.unknown"):
                reqs.append(r)
        case = self._base("invalid", slug, value, reqs)
        case["valid"] = False
        case["error"] = error
        if alt:
            case["alternate_errors"] = list(alt)
        case.update(extra)
        case["comment"] = comment
        self.add_case(case)


# --------------------------------------------------------------------------
# Second looks: cases on which both independent implementations we run
# (the official TypeScript one and atcute) disagree with the verdict.
# conformance/conformance_test.py fails when such a case has no review.

BOTH = ["@atproto/syntax 0.7.7", "@atcute/lexicons 2.1.0"]
REVIEWS = [
    (r"^at-uri\.invalid\.fragment-after-", BOTH,
     "Both accept a fragment in the Lexicon at-uri format. The restricted form the Lexicon "
     "format uses has no query and no fragment; only the general AT URI syntax allows them.",
     "https://atproto.com/specs/at-uri-scheme#restricted-at-uri-syntax"),
    (r"^datetime\.invalid\.(april-31|february-30|leap-day-)", BOTH,
     "Both accept a day that does not exist in that month. The spec asks implementations to "
     "check datetime semantics with a 'should', so the runner grades this non-strict.",
     "https://atproto.com/specs/lexicon#datetime"),
    (r"^language\.valid\.grandfathered-uppercase$", BOTH,
     "Both match grandfathered tags case-sensitively. BCP 47 tags are case-insensitive "
     "(RFC 5646 section 2.1.1), and the spec requires well-formed BCP 47.",
     "https://atproto.com/specs/lexicon#language"),
    (r"^nsid\.invalid\.authority-254$", BOTH,
     "Both accept a 254-character domain authority. The NSID rules cap the authority at 253 "
     "characters, periods included, like a hostname.",
     "https://atproto.com/specs/nsid#nsid-syntax"),
    (r"^uri\.valid\.(empty-authority|file-empty-authority|scheme-hyphen-dot|scheme-plus)", BOTH,
     "Both use a loose pattern that rejects this RFC 3986 URI ('+', '-' or '.' in the scheme, "
     "or an empty authority). The uri format follows the generic RFC 3986 syntax.",
     "https://atproto.com/specs/lexicon#uri"),
    (r"^uri\.invalid\.(" + "|".join([
        "backslash", "backtick", "backtick-host", "bad-pct", "braces", "brackets-in-path",
        "caret", "double-hash", "double-quote", "emoji", "ipv6-long-group", "ipv6-nine-groups",
        "ipv6-two-gaps", "ipvfuture-no-dot", "junk-after-ipv6", "lone-pct", "non-ascii-host",
        "non-ascii-path", "nul-in-path", "pipe", "port-letters", "port-mixed", "scheme-digit",
        "scheme-underscore", "short-pct", "two-at-signs", "two-ports", "unclosed-ipv6"]) + ")$",
     BOTH,
     "Both use a loose pattern (scheme, colon, non-space characters) that accepts this string, "
     "which the RFC 3986 URI grammar forbids. The uri format follows the generic RFC 3986 syntax.",
     "https://atproto.com/specs/lexicon#uri"),
]


FILES = []


def new_file(name, type_, operation, description, spec):
    f = VectorFile(name, type_, operation, description, spec)
    FILES.append(f)
    return f


# --------------------------------------------------------------------------
# Independent helpers for the expected normalized and parsed forms


def ascii_lower(s):
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in s)


def labels(lengths, letters="abcdefghijklmnopqrstuvwxyz"):
    """Dot-joined labels of the given lengths, label i made of letter i."""
    return ".".join(letters[i % len(letters)] * n for i, n in enumerate(lengths))


def nsid_parsed(s):
    segs = s.split(".")
    return {"authority": ".".join(reversed(segs[:-1])), "name": segs[-1]}


def nsid_normalized(s):
    segs = s.split(".")
    return ".".join([ascii_lower(x) for x in segs[:-1]] + [segs[-1]])


def did_parsed(s):
    _, method, ident = s.split(":", 2)
    return {"method": method, "identifier": ident}


def aturi_parsed(s):
    rest = s[len("at://"):]
    parts = rest.split("/")
    out = {"authority": parts[0]}
    if len(parts) > 1:
        out["collection"] = parts[1]
    if len(parts) > 2:
        out["record_key"] = parts[2]
    return out


def aturi_normalized(s):
    p = aturi_parsed(s)
    auth = p["authority"] if p["authority"].startswith("did:") else ascii_lower(p["authority"])
    out = "at://" + auth
    if "collection" in p:
        out += "/" + nsid_normalized(p["collection"])
    if "record_key" in p:
        out += "/" + p["record_key"]
    return out


TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"


def tid_encode(timestamp_us, clock_id):
    v = (timestamp_us << 10) | clock_id
    assert v < (1 << 63)
    out = ""
    for _ in range(13):
        out = TID_ALPHABET[v & 31] + out
        v >>= 5
    return out


def tid_parsed(s):
    v = 0
    for c in s:
        v = v * 32 + TID_ALPHABET.index(c)
    return {"timestamp_us": v >> 10, "clock_id": v & 1023, "integer": str(v)}


def days_from_civil(y, m, d):
    y -= 1 if m <= 2 else 0
    era = y // 400  # Python's // already floors for negative years
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def civil_from_days(z):
    z += 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return (y + (1 if m <= 2 else 0), m, d)


DATETIME_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$", re.A)


def datetime_normalized(s):
    m = DATETIME_RE.match(s)
    assert m, s
    y, mo, d, h, mi, sec = (int(m.group(i)) for i in range(1, 7))
    frac = m.group(7) or ""
    tz = m.group(8)
    offset = 0
    if tz != "Z":
        offset = (int(tz[1:3]) * 60 + int(tz[4:6])) * (1 if tz[0] == "+" else -1)
    t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset * 60
    days, rem = divmod(t, 86400)
    y2, m2, d2 = civil_from_days(days)
    assert 0 <= y2 <= 9999, s
    frac = frac.ljust(3, "0")
    return "%04d-%02d-%02dT%02d:%02d:%02d.%sZ" % (
        y2, m2, d2, rem // 3600, rem // 60 % 60, rem % 60, frac)


def cid_bytes(codec, data, hash_code=0x12):
    digest = hashlib.sha256(data).digest()
    return bytes([0x01]) + varint(codec) + varint(hash_code) + bytes([len(digest)]) + digest


def base36(data):
    n = int.from_bytes(data, "big")
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = "0123456789abcdefghijklmnopqrstuvwxyz"[r] + out
    return out


# --------------------------------------------------------------------------
# handle (Lexicon format "handle"): https://atproto.com/specs/handle

H_SYNTAX = SPEC + "handle#handle-identifier-syntax"
h = new_file("handle", "handle", "validate",
             "Handle syntax as the Lexicon handle format checks it: reserved TLDs pass, "
             "valid handles normalize to ASCII lowercase.",
             [H_SYNTAX, SPEC + "handle#identifier-examples", SPEC + "lexicon#string-formats"])


def hv(slug, value, reqs, comment):
    h.valid(slug, value, reqs, comment, normalized=ascii_lower(value))


SEG = "handle.syntax.segments"
SEGLEN = "handle.syntax.segment-length"
CHARS = "handle.syntax.segment-chars"
HYPHEN = "handle.syntax.segment-hyphen"
TLD = "handle.syntax.tld-not-digit"
HASCII = "handle.syntax.ascii"
HMAX = "handle.syntax.max-length"
RES = "handle.syntax.reserved-tld-passes"
LOWER = "handle.normalize.lowercase"

hv("spec-example-jay", "jay.bsky.social", [SEG], "Spec example of an ordinary three-label handle.")
hv("spec-example-digit-label", "8.cn", [TLD], "A label may be all digits as long as it is not the TLD.")
hv("spec-example-double-hyphen-tld", "name.t--t", [HYPHEN], "Inner double hyphens are fine; the TLD need not exist.")
hv("spec-example-uppercase", "XX.LCS.MIT.EDU", [CHARS, LOWER], "Uppercase is accepted and normalizes to lowercase.")
hv("spec-example-shortest-common", "a.co", [SEG, SEGLEN], "Two short labels.")
hv("spec-example-punycode", "xn--notarealidn.com", [CHARS], "Punycode labels are plain ASCII and pass.")
hv("spec-example-punycode-tld", "xn--fiqa61au8b7zsevnm8ak20mc4a87e.xn--fiqs8s", [CHARS, TLD],
   "Punycode in both labels, including an internationalized TLD written in ASCII.")
hv("spec-example-punycode-emoji", "xn--ls8h.test", [CHARS], "The ASCII form of an emoji label passes.")
hv("spec-example-one-letter-tld", "example.t", [SEGLEN], "A one-character TLD is syntactically fine.")
hv("spec-example-onion", "2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion", [RES],
   "Disallowed TLD, but syntax validation does not look at TLD lists.")
hv("spec-example-local", "laptop.local", [RES], "The .local TLD passes syntax validation.")
hv("spec-example-arpa", "blah.arpa", [RES], "The .arpa TLD passes syntax validation.")
hv("special-handle-invalid", "handle.invalid", [RES, "handle.invalid-value"],
   "The special handle.invalid marker is syntactically valid.")
hv("reserved-example", "user.example", [RES], "The .example TLD passes syntax validation.")
hv("reserved-alt", "foo.alt", [RES], "The .alt TLD passes syntax validation.")
hv("reserved-internal", "host.internal", [RES], "The .internal TLD passes syntax validation.")
hv("reserved-localhost", "a.localhost", [RES], "The .localhost TLD passes syntax validation.")
hv("reserved-test", "alice.test", [RES], "The .test TLD passes syntax validation.")
hv("max-length-253", labels([63, 63, 63, 61]), [HMAX, SEGLEN], "Exactly 253 characters, the longest allowed.")
hv("segment-63-first", "a" * 63 + ".com", [SEGLEN], "A first label of exactly 63 characters.")
hv("segment-63-tld", "a." + "b" * 63, [SEGLEN], "A TLD of exactly 63 characters.")
hv("length-244-practical", labels([63, 63, 63, 52]), [HMAX],
   "244 characters: the longest handle that can also be registered.")
hv("length-245-syntax-only", labels([63, 63, 63, 53]), [HMAX],
   "245 characters: too long to register but still valid syntax.")
hv("one-letter-labels", "a.b", [SEG, SEGLEN], "Two one-character labels are the shortest handle.")
hv("many-labels", "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p", [SEG], "Any number of labels beyond two.")
hv("numeric-inner-labels", "123.456.com", [TLD], "All-digit labels are fine before a letter TLD.")
hv("ipv4-shaped-letter-tld", "192.168.0.1.example", [TLD], "Looks like an address but the TLD starts with a letter.")
hv("tld-digit-after-letter", "example.c0m", [TLD], "Digits in the TLD are fine after the first character.")
hv("tld-letter-digit", "a.x1", [TLD], "Two-character TLD ending in a digit.")
hv("inner-hyphen", "my-handle.bsky.social", [HYPHEN], "A hyphen inside a label.")
hv("inner-double-hyphen", "a--b.com", [HYPHEN], "Consecutive hyphens inside a label.")
hv("tld-inner-hyphen", "a.b-c", [HYPHEN], "A hyphen inside the TLD.")
hv("label-zero", "0.com", [TLD], "A single-digit first label.")
hv("label-digit-hyphen", "0-0.com", [HYPHEN, TLD], "Label starting and ending with digits around a hyphen.")
hv("mixed-case", "Jay.Bsky.Social", [CHARS, LOWER], "Mixed case normalizes to lowercase.")
hv("uppercase-punycode", "XN--LS8H.TEST", [CHARS, LOWER], "Uppercase punycode normalizes to lowercase.")
hv("all-letters", "abcdefghijklmnopqrstuvwxyz.com", [CHARS], "Every lowercase letter.")
hv("all-upper-and-digits", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.com", [CHARS, LOWER],
   "Every uppercase letter and digit.")
hv("digits-in-labels", "a0.b1.c2", [CHARS], "Letters followed by digits in every label.")
hv("localhost-subdomain", "localhost.example.com", [SEG], "The word localhost as an ordinary label.")
hv("www-prefix", "www.example.com", [SEG], "A www label is nothing special.")
hv("hyphens-everywhere", "a-b-c.d-e-f", [HYPHEN], "Several inner hyphens, including in the TLD.")
hv("tld-z9", "q.z9", [TLD], "TLD of a letter then a digit.")
hv("test-test", "test.test", [RES], "The same word as label and TLD.")
hv("bsky-app", "bsky.app", [SEG], "A two-label handle on a real TLD.")
hv("long-tld-real", "alice.photography", [SEG], "A long real TLD.")

hi = h.invalid
hi("spec-example-at-sign", "jo@hn.test", CHARS, "'@' is not a label character.")
hi("spec-example-emoji", "💩.test", HASCII, "An emoji is not ASCII.")
hi("spec-example-double-dot", "john..test", SEG, "Two periods in a row leave an empty label.", alt=[SEGLEN])
hi("spec-example-trailing-hyphen", "xn--bcher-.tld", HYPHEN, "A label may not end with a hyphen.")
hi("spec-example-digit-tld", "john.0", TLD, "The TLD starts with a digit.")
hi("spec-example-digit-tld-2", "cn.8", TLD, "The TLD is a digit.")
hi("spec-example-non-ascii-letter", "www.masełkowski.pl.com", HASCII, "A non-ASCII letter inside a label.")
hi("spec-example-bare-tld", "org", SEG, "One label only: a bare TLD is not a handle.")
hi("spec-example-trailing-dot", "name.org.", SEG, "The trailing-dot DNS form is not allowed.", alt=[SEGLEN])
hi("leading-dot", ".name.org", SEG, "A leading period.", alt=[SEGLEN])
hi("empty", "", SEG, "The empty string has no labels.", alt=[SEGLEN])
hi("lone-dot", ".", SEG, "A lone period.", alt=[SEGLEN])
hi("two-dots", "..", SEG, "Two periods and nothing else.", alt=[SEGLEN])
hi("single-label", "localhost", SEG, "A single label, even a well-known host name, is not a handle.")
hi("inner-double-dot", "a.b..c", SEG, "An empty label in the middle.", alt=[SEGLEN])
hi("trailing-double-dot", "a.com..", SEG, "Two trailing periods.", alt=[SEGLEN])
hi("leading-hyphen", "-a.com", HYPHEN, "A label may not start with a hyphen.")
hi("trailing-hyphen", "a-.com", HYPHEN, "A label may not end with a hyphen.")
hi("tld-leading-hyphen", "a.-com", HYPHEN, "The TLD may not start with a hyphen.")
hi("tld-trailing-hyphen", "a.com-", HYPHEN, "The TLD may not end with a hyphen.")
hi("lone-hyphen-label", "a.-.com", HYPHEN, "A label made of a single hyphen.")
hi("underscore", "a_b.com", CHARS, "Underscore is not allowed (unlike in some DNS records).")
hi("underscore-tld", "a.b_c", CHARS, "Underscore in the TLD.")
hi("colon", "a:b.com", CHARS, "Colon is not a label character.")
hi("ipv6-shaped", "2001:db8::1.com", CHARS, "An IPv6-looking label: colons are not allowed.")
hi("ipv6-bare", "::1", CHARS, "A bare IPv6 address: colons, and a single label.", alt=[SEG])
hi("ipv6-bracketed", "[::1].com", CHARS, "Bracketed IPv6 literal.")
hi("ipv4", "1.2.3.4", TLD, "An IPv4 address has a digit TLD.")
hi("ipv4-loopback", "127.0.0.1", TLD, "The IPv4 loopback address.")
hi("tld-digit-first", "a.1com", TLD, "The TLD starts with a digit even though letters follow.")
hi("tld-digit-hyphen", "a.0-x", TLD, "The TLD starts with a digit.")
hi("all-digit-labels", "123.456", TLD, "Only digits, so the TLD starts with a digit.")
hi("deep-digit-tld", "a.b.c.d.e.f.1", TLD, "Many labels, digit TLD.")
hi("slash", "a.com/path", CHARS, "A path is not part of a handle.")
hi("port", "a.com:8080", CHARS, "A port is not part of a handle.")
hi("url", "at://a.com", CHARS, "A URI is not a handle.")
hi("leading-at", "@alice.bsky.social", CHARS, "The '@' display prefix is not part of the handle.")
hi("percent", "a.b%20c.com", CHARS, "Percent-encoding is not allowed.")
hi("backslash", "a\\b.com", CHARS, "Backslash is not a label character.")
hi("wildcard", "*.example.com", CHARS, "A wildcard label.")
hi("plus", "a+b.com", CHARS, "Plus is not a label character.")
hi("bang", "a!.com", CHARS, "Exclamation mark is not a label character.")
hi("did", "did:plc:ewvi7nxzyoun6zhxrhs64oiz", CHARS, "A DID is not a handle.", alt=[SEG])
hi("max-length-254", labels([63, 63, 63, 62]), HMAX, "254 characters, one past the limit, every label within 63.")
hi("max-length-300", labels([63, 63, 63, 63, 44]), HMAX, "Well past the length limit.")
hi("segment-64-first", "a" * 64 + ".com", SEGLEN, "A first label of 64 characters.")
hi("segment-64-tld", "a." + "b" * 64, SEGLEN, "A TLD of 64 characters.")
hi("segment-64-middle", "a." + "b" * 64 + ".com", SEGLEN, "A middle label of 64 characters.")
hi("space-inside", "a b.com", CHARS, "A space inside a label.", alt=[HASCII])
hi("space-leading", " a.com", CHARS, "Leading space.", alt=[HASCII])
hi("space-trailing", "a.com ", CHARS, "Trailing space.", alt=[HASCII])
hi("tab-inside", "a\tb.com", CHARS, "A tab inside a label.", alt=[HASCII])
hi("newline-trailing", "a.com\n", CHARS, "A trailing newline.", alt=[HASCII])
hi("crlf-trailing", "a.com\r\n", CHARS, "A trailing CR LF.", alt=[HASCII])
hi("nul-trailing", "a.com\u0000", CHARS, "A trailing NUL character.", alt=[HASCII])
hi("nul-inside", "a\u0000b.com", CHARS, "A NUL character inside a label.", alt=[HASCII])
hi("zero-width-space", "\u200ba.com", HASCII, "A leading zero-width space.")
hi("zero-width-joiner", "a\u200db.com", HASCII, "A zero-width joiner inside a label.")
hi("fullwidth-letter", "ａ.com", HASCII, "A fullwidth Latin letter.")
hi("fullwidth-stop", "a．b.com", HASCII, "A fullwidth full stop is not a period.")
hi("accented-letter", "café.com", HASCII, "An accented letter.")
hi("cyrillic-homoglyph", "аpple.com", HASCII, "Cyrillic 'а' that looks like Latin 'a'.")
hi("nbsp", "a.com\u00a0", HASCII, "A trailing no-break space.")
hi("invalid-utf8-trailing", b"a.co\xff", HASCII, "A byte that is never valid UTF-8.")
hi("invalid-utf8-sequence", b"\xc3(a.com", HASCII, "A broken two-byte UTF-8 sequence.")
hi("invalid-utf8-continuation", b"a.c\x80o", HASCII, "A lone continuation byte.")
hi("del-char", "a\u007fb.com", CHARS, "The DEL control character.", alt=[HASCII])


hu = new_file("handle-usable", "handle", "handle-usable",
              "Whether a syntactically valid handle may be registered or resolved: TLD "
              "restrictions, the handle.invalid marker, .test outside development and the "
              "practical length limit. An optional policy allows .test.",
              [SPEC + "handle#additional-non-syntax-restrictions", SPEC + "handle#dns-txt-method",
               SPEC + "handle#invalid-handles"])
DIS = "handle.disallowed-tld"
ALLOW_TEST = {"allow_test_tld": True}
hu.valid("ordinary", "alice.bsky.social", [DIS], "An ordinary handle on a real TLD.")
hu.valid("spec-example", "jay.bsky.social", [DIS], "Spec example handle.")
hu.valid("uppercase", "XX.LCS.MIT.EDU", [DIS, LOWER], "Case does not matter for usability.")
hu.valid("length-244", labels([63, 63, 63, 52]), ["handle.practical-length"],
         "244 characters: _atproto. plus the handle still fits in 253.")
hu.valid("test-tld-allowed", "alice.test", ["handle.test-tld"],
         "A development setup may allow .test.", policy=ALLOW_TEST)
hu.valid("local-as-label", "local.example.com", [DIS], "Only the TLD is checked, not other labels.")
hu.valid("onion-as-label", "onion.com", [DIS], "A disallowed TLD word used as an ordinary label.")
hu.valid("invalid-as-label", "invalid.social", ["handle.invalid-value", DIS],
         "The word invalid as a first label is fine.")
hu.valid("tld-similar", "foo.locals", [DIS], "A TLD that merely starts like a disallowed one.")
hu.invalid("local", "laptop.local", DIS, "Disallowed .local TLD.")
hu.invalid("onion", "2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion", DIS,
           "Disallowed .onion TLD.")
hu.invalid("arpa", "blah.arpa", DIS, "Disallowed .arpa TLD.")
hu.invalid("example", "user.example", DIS, "Disallowed .example TLD.")
hu.invalid("alt", "foo.alt", DIS, "Disallowed .alt TLD.")
hu.invalid("internal", "host.internal", DIS, "Disallowed .internal TLD.")
hu.invalid("localhost", "a.localhost", DIS, "Disallowed .localhost TLD.")
hu.invalid("invalid-tld", "foo.invalid", DIS, "Disallowed .invalid TLD on a handle other than handle.invalid.")
hu.invalid("uppercase-local", "LAPTOP.LOCAL", DIS, "TLD matching ignores case.")
hu.invalid("mixed-case-onion", "abc.OnIoN", DIS, "TLD matching ignores case.")
hu.invalid("local-test-allowed", "laptop.local", DIS, "Allowing .test does not allow other TLDs.",
           policy=ALLOW_TEST)
hu.invalid("handle-invalid", "handle.invalid", "handle.invalid-value",
           "The special marker value never names a real account.", alt=[DIS])
hu.invalid("handle-invalid-uppercase", "HANDLE.INVALID", "handle.invalid-value",
           "The marker value in uppercase.", alt=[DIS])
hu.invalid("test-tld", "alice.test", "handle.test-tld", "The .test TLD without a development policy.")
hu.invalid("test-tld-uppercase", "ALICE.TEST", "handle.test-tld", "The .test TLD in uppercase.")
hu.invalid("length-245", labels([63, 63, 63, 53]), "handle.practical-length",
           "245 characters: valid syntax, but _atproto. plus the handle exceeds 253.")
hu.invalid("length-253", labels([63, 63, 63, 61]), "handle.practical-length",
           "The longest syntactically valid handle is too long to register.")
hu.invalid("syntax-digit-tld", "john.0", TLD, "Syntax errors come through unchanged.")
hu.invalid("syntax-bare-tld", "org", SEG, "Syntax errors come through unchanged.")
hu.invalid("syntax-non-ascii", "💩.test", HASCII, "Syntax errors come through unchanged.",
           policy=ALLOW_TEST)


# --------------------------------------------------------------------------
# did (Lexicon format "did"): https://atproto.com/specs/did

d = new_file("did", "did", "validate",
             "Generic DID syntax as atproto restricts it; any method passes (the Lexicon did "
             "format is expansive). Valid cases carry the method and method-specific identifier.",
             [SPEC + "did#did-identifier-syntax", SPEC + "did#examples", SPEC + "lexicon#string-formats"])
DCH = "did.syntax.chars"
DPRE = "did.syntax.prefix"
DMETH = "did.syntax.method"
DID_ID = "did.syntax.identifier"
DMAX = "did.syntax.max-length"
DQF = "did.syntax.no-query-fragment"
EXP = "lex.format.expansive"


def dv(slug, value, reqs, comment):
    d.valid(slug, value, reqs, comment, parsed=did_parsed(value))


dv("spec-example-plc", "did:plc:ewvi7nxzyoun6zhxrhs64oiz", [DPRE, DMETH], "Spec example did:plc.")
dv("spec-example-web", "did:web:user.example.com", [DCH], "Spec example did:web.")
dv("spec-example-two-parts", "did:method:val:two", [DCH, EXP], "Colons inside the identifier.")
dv("spec-example-minimal", "did:m:v", [DMETH, DID_ID], "One-letter method and identifier.")
dv("spec-example-many-colons", "did:method::::val", [DID_ID], "Empty colon-separated parts inside the identifier.")
dv("spec-example-punctuation", "did:method:-:_:.", [DCH, DID_ID], "Identifier made of punctuation only.")
dv("spec-example-key", "did:key:zQ3shZc2QzApp2oymGvQbzP8eKheVshBHbU4ZYjeXqwSKEn6N", [DMETH, EXP],
   "did:key is not a supported method but is valid syntax.")
dv("plc-method-spec-example", "did:plc:yk4dd2qkboz2yv6tpubpc6co", [DPRE], "did:plc method spec example.")
dv("plc-short", "did:plc:asdf123", [DID_ID, EXP], "A did:plc too short for the method still has valid generic syntax.")
dv("plc-uppercase-identifier", "did:plc:EWVI7NXZYOUN6ZHXRHS64OIZ", [DCH, EXP],
   "Uppercase identifiers pass generic syntax; only the method must be lowercase.")
dv("web-port-encoded", "did:web:localhost%3A1234", [DCH], "Percent-encoded colon for a port.")
dv("web-path", "did:web:example.com:u:alice", [DCH, EXP], "A path-based did:web is generic-syntax valid.")
dv("web-subdomain", "did:web:sub.domain.example.co.uk", [DCH], "A deep hostname.")
dv("web-punycode", "did:web:xn--ls8h.test", [DCH], "Punycode hostname.")
dv("example-method", "did:example:123456789abcdefghi", [DMETH], "The W3C example method.")
dv("pkh", "did:pkh:eip155:1:0xb9c5714089478a327f09197987f16f9e5d936e8a", [DCH, EXP],
   "Another method with colon-separated parts.")
dv("long-method", "did:abcdefghijklmnopqrstuvwxyz:x", [DMETH], "Method of every lowercase letter.")
dv("one-letter", "did:a:b", [DMETH, DID_ID], "Shortest possible DID.")
dv("percent-encoded", "did:method:a%2Fb", [DCH, "did.percent-encoding"], "Well-formed percent-encoding.")
dv("percent-malformed", "did:method:%zz", [DCH, "did.percent-encoding"],
   "Malformed percent-encoding passes syntax; only registration and resolution reject it.")
dv("percent-truncated-inside", "did:method:a%2", [DID_ID, "did.percent-encoding"],
   "Percent followed by one hex digit: not checked by syntax since it does not end in '%'.")
dv("percent-uppercase-hex", "did:method:%41%42", [DCH], "Several percent-escapes.")
dv("ends-period", "did:method:val.", [DID_ID], "The identifier may end with a period.")
dv("ends-hyphen", "did:method:val-", [DID_ID], "The identifier may end with a hyphen.")
dv("ends-underscore", "did:method:val_", [DID_ID], "The identifier may end with an underscore.")
dv("underscore-only", "did:method:_", [DID_ID], "A one-character identifier of punctuation.")
dv("digits", "did:method:123", [DCH], "Digits only.")
dv("single-upper", "did:method:A", [DCH], "A single uppercase letter.")
dv("many-parts", "did:method:a:b:c:d", [DCH], "Several colon-separated parts.")
dv("digits-colons", "did:method:12:34", [DCH], "Digits separated by a colon.")
dv("mixed-case", "did:method:MiXeD", [DCH], "DIDs are case-sensitive: case is kept as written.")
dv("max-length-2048", "did:plc:" + "a" * 2040, [DMAX], "Exactly 2048 characters, the longest allowed.")
dv("long-web", "did:web:" + labels([63, 63, 63, 61]), [DMAX], "A did:web with a 253-character hostname.")
dv("plc-all-a", "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa", [DCH], "A did:plc shaped identifier.")
dv("plc-digits", "did:plc:234567234567234567234567", [DCH], "A did:plc identifier of base32 digits.")
dv("dots", "did:method:...", [DCH], "Periods only.")
dv("colon-then-letter", "did:method::a", [DID_ID], "Identifier starting with a colon.")
dv("hyphen-start", "did:method:-a", [DCH], "Identifier starting with a hyphen.")
dv("ion-like", "did:ion:EiClkZMDxPKqC9c-umQfTkR8vvZ9JPhl_xLDI9Nfk38w5w", [DCH, EXP], "A long mixed-case identifier.")
dv("web-ipv4-shape", "did:web:127.0.0.1", [DCH, EXP], "Not usable as did:web, but valid generic syntax.")
dv("web-port-8443", "did:web:example.com%3A8443", [DCH, EXP], "A port on a non-localhost did:web: fine for generic syntax.")
dv("three-parts", "did:x:y:z", [DMETH, DID_ID], "Short method, identifier with a colon.")
dv("punctuation-mix", "did:method:a.b-c_d", [DCH], "Every punctuation character but colon and percent.")

di = d.invalid
di("spec-example-uppercase-method", "did:METHOD:val", DMETH, "The method must be lowercase.")
di("spec-example-digit-method", "did:m123:val", DMETH, "The method is letters only.")
di("spec-example-uppercase-prefix", "DID:method:val", DPRE, "The did: prefix is lowercase.")
di("spec-example-empty-identifier", "did:method:", DID_ID, "Nothing after the method.")
di("spec-example-path", "did:method:val/two", DQF, "A path is not part of a DID.", alt=[DCH])
di("spec-example-query", "did:method:val?two", DQF, "A query is not part of a DID.", alt=[DCH])
di("spec-example-fragment", "did:method:val#two", DQF, "A fragment is not part of a DID.", alt=[DCH])
di("empty", "", DPRE, "The empty string.")
di("did-only", "did", DPRE, "Only the word did.")
di("prefix-only", "did:", DMETH, "Nothing after the prefix.", alt=[DID_ID])
di("no-identifier-colon", "did:plc", DMETH, "The method has no colon after it.", alt=[DID_ID])
di("empty-method", "did::val", DMETH, "Empty method name.")
di("capital-method-letter", "did:Plc:val", DMETH, "One uppercase letter in the method.")
di("hyphen-method", "did:pl-c:val", DMETH, "Hyphen in the method.")
di("underscore-method", "did:pl_c:val", DMETH, "Underscore in the method.")
di("digit-method", "did:1:abc", DMETH, "A digit as the method.")
di("plc-empty", "did:plc:", DID_ID, "did:plc with no identifier.")
di("ends-colon", "did:plc:abc:", DID_ID, "The DID may not end with a colon.")
di("ends-percent", "did:plc:abc%", DID_ID, "The DID may not end with a percent sign.")
di("percent-only", "did:plc:%", DID_ID, "Identifier of a lone percent sign.")
di("ends-colon-percent", "did:plc:abc:%", DID_ID, "Ends with a percent sign after a colon.")
di("capital-d-prefix", "Did:plc:abc", DPRE, "The prefix is case-sensitive.")
di("hyphen-prefix", "did-plc:abc", DPRE, "A hyphen instead of a colon after did.")
di("at-uri", "at://did:plc:abc", DPRE, "An AT URI is not a DID.")
di("leading-space", " did:plc:abc", DPRE, "Leading space.", alt=[DCH])
di("trailing-space", "did:plc:abc ", DCH, "Trailing space.")
di("inner-space", "did:plc:ab c", DCH, "Space inside the identifier.")
di("trailing-newline", "did:plc:abc\n", DCH, "Trailing newline.")
di("trailing-tab", "did:plc:abc\t", DCH, "Trailing tab.")
di("nul", "did:plc:abc\u0000", DCH, "Trailing NUL.")
di("accented", "did:plc:é", DCH, "A non-ASCII letter.")
di("emoji", "did:plc:abc💩", DCH, "An emoji.")
di("fullwidth", "did:plc:ａbc", DCH, "A fullwidth letter.")
di("zero-width-joiner", "did:plc:a\u200db", DCH, "A zero-width joiner.")
di("invalid-utf8", b"did:plc:\xff", DCH, "A byte that is never valid UTF-8.")
di("plus", "did:plc:a+b", DCH, "Plus is not allowed.")
di("at-sign", "did:plc:a@b", DCH, "'@' is not allowed.")
di("tilde", "did:plc:a~b", DCH, "Tilde is not in the DID character set.")
di("bang", "did:plc:a!b", DCH, "'!' is not allowed.")
di("comma", "did:plc:a,b", DCH, "Comma is not allowed.")
di("semicolon", "did:plc:a;b", DCH, "Semicolon (DID parameters) is not allowed.")
di("equals", "did:plc:a=b", DCH, "Equals sign is not allowed.")
di("web-trailing-slash", "did:web:example.com/", DQF, "A trailing slash is a path.", alt=[DCH])
di("web-query", "did:web:example.com?service=x", DQF, "A DID URL query.", alt=[DCH])
di("web-fragment", "did:web:example.com#atproto", DQF, "A DID URL fragment.", alt=[DCH])
di("non-ascii-method", "did:méthod:val", DCH, "Non-ASCII letter in the method.", alt=[DMETH])
di("max-length-2049", "did:plc:" + "a" * 2041, DMAX, "2049 characters, one past the limit.")
di("max-length-4096", "did:web:" + "a" * 4088, DMAX, "Far past the length limit.")


ds = new_file("did-supported", "did", "did-supported",
              "Whether a DID can be registered or resolved in atproto: syntax, then well-formed "
              "percent-encoding, a blessed method (plc or web) and that method's own rules. An "
              "optional policy allows did:web:localhost for development.",
              [SPEC + "did#blessed-did-methods", SPEC + "did#didweb-in-at-protocol",
               SPEC + "did#did-identifier-syntax", "https://web.plc.directory/spec/v0.1/did-plc"])
PLC = "did.plc.syntax"
BLESS = "did.method.blessed"
WHOST = "did.web.hostname-only"
WTLD = "did.web.disallowed-tld"
WPORT = "did.web.localhost-port"
PCT = "did.percent-encoding"
LOCAL_OK = {"allow_localhost": True}
ds.valid("plc-spec-example", "did:plc:ewvi7nxzyoun6zhxrhs64oiz", [PLC, BLESS], "A well-formed did:plc.")
ds.valid("plc-method-example", "did:plc:yk4dd2qkboz2yv6tpubpc6co", [PLC], "The did:plc spec example.")
ds.valid("plc-digits", "did:plc:234567234567234567234567", [PLC], "Base32 digits only.")
ds.valid("plc-letters", "did:plc:abcdefghijklmnopqrstuvwx", [PLC], "Base32 letters only.")
ds.valid("web-spec-example", "did:web:user.example.com", [WHOST, BLESS], "A hostname-only did:web.")
ds.valid("web-two-labels", "did:web:example.com", [WHOST], "A two-label hostname.")
ds.valid("web-deep", "did:web:a.b.c.example.co.uk", [WHOST], "A deep hostname.")
ds.valid("web-punycode", "did:web:xn--ls8h.example.com", [WHOST], "A punycode label.")
ds.valid("web-localhost-dev", "did:web:localhost", [WPORT], "localhost under a development policy.",
         policy=LOCAL_OK)
ds.valid("web-localhost-port-dev", "did:web:localhost%3A2582", [WPORT, PCT],
         "A localhost port with an encoded colon, under a development policy.", policy=LOCAL_OK)
ds.invalid("unsupported-method", "did:method:val", BLESS, "Valid syntax, unsupported method.")
ds.invalid("unsupported-key", "did:key:zQ3shZc2QzApp2oymGvQbzP8eKheVshBHbU4ZYjeXqwSKEn6N", BLESS,
           "did:key is not a blessed method for accounts.")
ds.invalid("unsupported-webvh-like", "did:webplc:abc", BLESS, "A method name that only starts like a blessed one.")
ds.invalid("plc-23-chars", "did:plc:7iza6de2dwap2sbkpav7c6c", PLC, "23 characters instead of 24.")
ds.invalid("plc-25-chars", "did:plc:7iza6de2dwap2sbkpav7c6c6r", PLC, "25 characters instead of 24.")
ds.invalid("plc-hyphen", "did:plc:7iza6de2dwap2sbkpav7c6-6", PLC, "Hyphen is not base32.")
ds.invalid("plc-underscore", "did:plc:7iza6de2dwap2sbkpav7_6c6", PLC, "Underscore is not base32.")
ds.invalid("plc-digit-0", "did:plc:0iza6de2dwap2sbkpav7c6c6", PLC, "0 is not in the base32 alphabet.")
ds.invalid("plc-digit-1", "did:plc:1iza6de2dwap2sbkpav7c6c6", PLC, "1 is not in the base32 alphabet.")
ds.invalid("plc-digit-8", "did:plc:8iza6de2dwap2sbkpav7c6c6", PLC, "8 is not in the base32 alphabet.")
ds.invalid("plc-digit-9", "did:plc:9iza6de2dwap2sbkpav7c6c6", PLC, "9 is not in the base32 alphabet.")
ds.invalid("plc-uppercase", "did:plc:EWVI7NXZYOUN6ZHXRHS64OIZ", "did.case.reject-invalid",
           "Uppercase did:plc is rejected, not silently lowercased.", alt=[PLC])
ds.invalid("plc-path-part", "did:plc:7iza6de2dwap2sbkpav7c6c6:foo", PLC, "Extra colon-separated part.")
ds.invalid("plc-inner-colon", "did:plc:7iza6de2dwap2sbkpav7c:6c6", PLC, "Colon inside the identifier.")
ds.invalid("plc-percent-all", "did:plc:%37%69%7A%61%36%64%65%32%64%77%61%70%32%73%62%6B%70%61%76%37%63%36%63%36",
           PLC, "A percent-encoded did:plc is not the canonical identifier.")
ds.invalid("plc-percent-first", "did:plc:%37iza6de2dwap2sbkpav7c6c6", PLC, "Percent-encoded first character.")
ds.invalid("plc-short", "did:plc:asdf123", PLC, "Far too short for did:plc.")
ds.invalid("web-path", "did:web:example.com:foo", WHOST, "Path-based did:web is not supported.")
ds.invalid("web-path-two", "did:web:example.com:foo:bar", WHOST, "Two path segments.")
ds.invalid("web-path-empty-parts", "did:web:example.com:::baz", WHOST, "Empty path segments.")
ds.invalid("web-percent-in-host", "did:web:ex%61mple.com", WHOST,
           "Percent-encoding is only for the port separator.")
ds.invalid("web-port-not-localhost", "did:web:example.com%3A80", WPORT, "Ports are only for localhost.")
ds.invalid("web-port-443", "did:web:example.com%3A443", WPORT, "Even the default HTTPS port.")
ds.invalid("web-port-dev-policy", "did:web:example.com%3A4443", WPORT,
           "The development policy does not allow ports on other hosts.", policy=LOCAL_OK)
ds.invalid("web-localhost-production", "did:web:localhost", WPORT, "localhost without a development policy.")
ds.invalid("web-localhost-port-production", "did:web:localhost%3A2582", WPORT,
           "A localhost port without a development policy.")
ds.invalid("web-localhost-empty-port", "did:web:localhost%3A", WPORT, "An encoded colon with no port.",
           policy=LOCAL_OK)
ds.invalid("web-localhost-letter-port", "did:web:localhost%3Ahttp", WPORT, "A port must be digits.",
           policy=LOCAL_OK)
ds.invalid("web-arpa", "did:web:blah.arpa", WTLD, "Handle TLD restrictions apply to did:web.")
ds.invalid("web-local", "did:web:laptop.local", WTLD, "The .local TLD is disallowed.")
ds.invalid("web-onion", "did:web:2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion", WTLD,
           "The .onion TLD is disallowed.")
ds.invalid("web-internal", "did:web:host.internal", WTLD, "The .internal TLD is disallowed.")
ds.invalid("web-single-label", "did:web:example", WHOST, "A single label is not a usable hostname.")
ds.invalid("web-ipv4", "did:web:127.0.0.1", WHOST, "An IP address is not a hostname.")
ds.invalid("web-underscore", "did:web:my_host.example.com", WHOST, "Underscore is not a hostname character.")
ds.invalid("percent-malformed", "did:method:a%zz", PCT,
           "Malformed percent-encoding fails before the method is looked at.", alt=[BLESS])
ds.invalid("percent-truncated", "did:method:a%2", PCT, "Percent followed by a single hex digit.", alt=[BLESS])
ds.invalid("syntax-uppercase-method", "did:METHOD:val", DMETH, "Syntax errors come through unchanged.")
ds.invalid("syntax-empty", "", DPRE, "Syntax errors come through unchanged.")
ds.invalid("syntax-fragment", "did:web:example.com#atproto", DQF, "Syntax errors come through unchanged.",
           alt=[DCH])


# --------------------------------------------------------------------------
# nsid (Lexicon format "nsid"): https://atproto.com/specs/nsid

n = new_file("nsid", "nsid", "validate",
             "NSID syntax. Valid cases carry the normalized form (authority lowercased, name kept) "
             "and the parsed authority in DNS order plus the name.",
             [SPEC + "nsid#nsid-syntax", SPEC + "nsid#examples"])
NASCII = "nsid.syntax.ascii"
NSEG = "nsid.syntax.segments"
NMAX = "nsid.syntax.max-length"
NAMAX = "nsid.authority.max-length"
NASEG = "nsid.authority.segment-length"
NACH = "nsid.authority.chars"
NTLD = "nsid.authority.tld-not-digit"
NANORM = "nsid.authority.normalize"
NNLEN = "nsid.name.length"
NNCH = "nsid.name.chars"
NCASE = "nsid.name.case-sensitive"


def nv(slug, value, reqs, comment):
    n.valid(slug, value, reqs, comment, normalized=nsid_normalized(value), parsed=nsid_parsed(value))


AUTH253 = labels([63, 63, 63, 61])
AUTH254 = labels([63, 63, 63, 62])
nv("spec-example-foobar", "com.example.fooBar", [NSEG, NCASE], "Spec example: camel-case name.")
nv("spec-example-four-segments", "net.users.bob.ping", [NSEG], "Three authority segments.")
nv("spec-example-hyphen-digits", "a-0.b-1.c", [NACH], "Hyphens and digits in authority segments.")
nv("spec-example-minimal", "a.b.c", [NSEG, NNLEN], "Three one-character segments.")
nv("spec-example-v2", "com.example.fooBarV2", [NNCH], "Digits inside the name.")
nv("spec-example-digit-segment", "cn.8.lex.stuff", [NTLD], "An all-digit segment after the TLD.")
nv("sync-get-record", "com.atproto.sync.getRecord", [NSEG], "A real XRPC method NSID.")
nv("feed-post", "app.bsky.feed.post", [NSEG], "A real record type NSID.")
nv("create-record", "com.atproto.repo.createRecord", [NSEG], "A real XRPC procedure NSID.")
nv("ozone", "tools.ozone.moderation.emitEvent", [NSEG], "Four authority segments.")
nv("chat", "chat.bsky.convo.getLog", [NSEG], "Another real NSID.")
nv("uppercase-authority", "COM.EXAMPLE.fooBar", [NANORM, NCASE],
   "Authority is case-insensitive and normalizes to lowercase; the name keeps its case.")
nv("mixed-case-all", "Com.Example.FooBar", [NANORM, NCASE], "Only the authority is lowercased.")
nv("uppercase-name", "com.example.FOOBAR", [NCASE], "An all-caps name is kept as written.")
nv("name-one-letter", "com.example.a", [NNLEN], "One-character name.")
nv("name-one-upper", "com.example.A", [NNLEN, NCASE], "One uppercase character name.")
nv("name-letter-digit", "com.example.a1", [NNCH], "Name with a trailing digit.")
nv("name-digits-after-letter", "com.example.foo123", [NNCH], "Digits after the first letter.")
nv("name-z9", "com.example.Z9", [NNCH], "Uppercase letter then digit.")
nv("name-63", "com.example." + "a" * 63, [NNLEN], "Name of exactly 63 characters.")
nv("authority-segment-63", "a" * 63 + ".example.foo", [NASEG], "Reversed TLD of exactly 63 characters.")
nv("authority-middle-63", "com." + "b" * 63 + ".foo", [NASEG], "Middle authority segment of 63 characters.")
nv("authority-253", AUTH253 + ".foo", [NAMAX], "Authority of exactly 253 characters.")
nv("max-length-317", AUTH253 + "." + "x" * 63, [NMAX, NAMAX, NNLEN],
   "Exactly 317 characters: longest authority and longest name.")
nv("digit-start-segment", "com.0example.foo", [NTLD], "Only the first segment may not start with a digit.")
nv("all-digit-segment", "com.123.foo", [NTLD], "An all-digit domain segment.")
nv("hyphen-segment", "com.ex-ample.foo", [NACH], "Inner hyphen in a domain segment.")
nv("double-hyphen-segment", "com.e--x.foo", [NACH], "Inner double hyphen.")
nv("tld-letter-digit", "x1.example.foo", [NTLD], "Reversed TLD with a digit after the first letter.")
nv("deep", "com.example.sub.sub2.sub3.name", [NSEG], "Many authority segments.")
nv("punycode-segment", "test.xn--ls8h.foo", [NACH], "Punycode in the authority.")
nv("two-letter-all", "zz.zz.zz", [NSEG], "Repeated two-letter segments.")
nv("reserved-tld-word", "onion.example.thing", [NSEG], "Reserved TLD words are irrelevant to NSIDs.")
nv("single-char-name", "com.example.t", [NNLEN], "Tiny name.")
nv("seven-segments", "a.b.c.d.e.f.g", [NSEG], "Seven one-character segments.")
nv("hyphens-authority", "com.a-b-c.d", [NACH], "Several hyphens in one segment.")
nv("digit-only-second", "com.9.foo", [NTLD], "A single-digit second segment.")
nv("mixed-name", "com.example.xN", [NCASE], "Lowercase then uppercase name.")
nv("io-github", "io.github.someuser.myApp", [NSEG], "A typical personal namespace.")
nv("year-name", "com.example.fooBar2024", [NNCH], "A name ending in a year.")
nv("version-name", "org.example.v1", [NNCH], "Short name with a digit.")
nv("hyphen-digit-authority", "net.a-b.c1", [NACH], "Hyphen and digits in the authority.")
nv("uppercase-one-letter-name", "io.example.Z", [NCASE], "One uppercase letter as the name.")

ni = n.invalid
ni("spec-example-emoji", "com.exa💩ple.thing", NASCII, "Emoji inside the authority.")
ni("spec-example-two-segments", "com.example", NSEG, "Only two segments.")
ni("spec-example-digit-name", "com.example.3", NNCH, "The name may not start with a digit.")
ni("empty", "", NSEG, "The empty string.")
ni("one-segment", "com", NSEG, "A single segment.")
ni("two-one-letter", "a.b", NSEG, "Two segments only.")
ni("star-only", "*", NSEG, "A glob is not an NSID.", alt=[NNCH, NACH])
ni("empty-authority-segment", "com..example.foo", NSEG, "An empty authority segment.", alt=[NASEG])
ni("leading-dot", ".com.example.foo", NSEG, "Leading period.", alt=[NASEG])
ni("trailing-dot", "com.example.foo.", NSEG, "Trailing period.", alt=[NNLEN])
ni("empty-before-name", "com.example..foo", NSEG, "Empty segment before the name.", alt=[NASEG])
ni("name-hyphen", "com.example.foo-bar", NNCH, "Hyphens are not allowed in the name.")
ni("name-underscore", "com.example.foo_bar", NNCH, "Underscore in the name.")
ni("name-digit-start", "com.example.0foo", NNCH, "Name starting with a digit.")
ni("name-bang", "com.example.fooBar!", NNCH, "Punctuation in the name.")
ni("name-star", "com.example.*", NNCH, "A glob pattern is not an NSID.")
ni("name-slash", "com.example.foo/bar", NNCH, "Slash in the name.")
ni("name-colon", "com.example.foo:bar", NNCH, "Colon in the name.")
ni("name-space", "com.example.foo bar", NNCH, "Space in the name.")
ni("name-trailing-newline", "com.example.foo\n", NNCH, "Trailing newline.")
ni("name-trailing-tab", "com.example.foo\t", NNCH, "Trailing tab.")
ni("name-nul", "com.example.foo\u0000", NNCH, "Trailing NUL.")
ni("name-hash", "com.example.foo#main", NNCH, "A Lexicon fragment is not part of the NSID.")
ni("name-accented", "com.example.föo", NASCII, "Non-ASCII letter in the name.")
ni("name-fullwidth", "com.example.ｆoo", NASCII, "Fullwidth letter in the name.")
ni("authority-zwj", "com.exa\u200dmple.foo", NASCII, "Zero-width joiner in the authority.")
ni("invalid-utf8", b"com.example.foo\xff", NASCII, "A byte that is never valid UTF-8.")
ni("tld-digit", "1com.example.foo", NTLD, "Reversed TLD starts with a digit.")
ni("tld-all-digit", "9.example.foo", NTLD, "Reversed TLD is a digit.")
ni("authority-leading-hyphen", "-com.example.foo", NACH, "Segment starting with a hyphen.")
ni("authority-trailing-hyphen", "com-.example.foo", NACH, "Segment ending with a hyphen.")
ni("middle-leading-hyphen", "com.-example.foo", NACH, "Middle segment starting with a hyphen.")
ni("middle-trailing-hyphen", "com.example-.foo", NACH, "Middle segment ending with a hyphen.")
ni("authority-underscore", "com.exa_mple.foo", NACH, "Underscore in the authority.")
ni("authority-space", "com.exa mple.foo", NACH, "Space in the authority.")
ni("authority-at", "com.ex@mple.foo", NACH, "'@' in the authority.")
ni("leading-space", " com.example.foo", NACH, "Leading space.")
ni("name-64", "com.example." + "a" * 64, NNLEN, "Name of 64 characters.")
ni("authority-segment-64", "a" * 64 + ".example.foo", NASEG, "Authority segment of 64 characters.")
ni("authority-254", AUTH254 + ".foo", NAMAX, "Authority of 254 characters, every segment within 63.")
ni("length-318-long-name", AUTH253 + "." + "x" * 64, NMAX,
   "318 characters with a 64-character name: both limits broken.", alt=[NNLEN])
ni("length-318-long-authority", AUTH254 + "." + "x" * 63, NMAX,
   "318 characters with a 254-character authority: both limits broken.", alt=[NAMAX])


ng = new_file("nsid-glob", "nsid", "nsid-glob",
              "NSID patterns: a bare '*', an NSID prefix ending in '.*', or a plain NSID. Cases may "
              "list NSIDs with whether the pattern matches them.",
              [SPEC + "nsid#nsid-syntax-variations"])
GLOB = "nsid.glob"


def matches(*pairs):
    return [{"nsid": nsid, "match": m} for nsid, m in pairs]


ng.valid("star", "*", [GLOB], "A bare star matches every NSID.",
         matches=matches(("com.example.foo", True), ("app.bsky.feed.post", True), ("a.b.c", True)))
ng.valid("authority-prefix", "com.atproto.*", [GLOB],
         "Matches everything under the authority, nested sub-authorities included.",
         matches=matches(("com.atproto.sync.getRecord", True), ("com.atproto.foo", True),
                         ("com.atprotox.foo", False), ("app.bsky.feed.post", False),
                         ("com.atproto", False)))
ng.valid("three-segment-prefix", "app.bsky.feed.*", [GLOB], "A deeper prefix.",
         matches=matches(("app.bsky.feed.post", True), ("app.bsky.feed.like", True),
                         ("app.bsky.graph.follow", False), ("app.bsky.feedx.post", False)))
ng.valid("one-segment-prefix", "com.*", [GLOB], "A prefix of only the reversed TLD.",
         matches=matches(("com.example.foo", True), ("co.example.foo", False), ("comx.example.foo", False)))
ng.valid("plain-nsid", "com.example.fooBar", [GLOB, NCASE], "A pattern without a star matches only itself.",
         matches=matches(("com.example.fooBar", True), ("com.example.foobar", False),
                         ("com.example.fooBarV2", False)))
ng.valid("short-prefix", "a.b.*", [GLOB], "Short segments.",
         matches=matches(("a.b.c", True), ("a.b.c.d", True), ("a.bc.d", False)))
ng.valid("app-bsky", "app.bsky.*", [GLOB], "All app.bsky NSIDs.",
         matches=matches(("app.bsky.actor.profile", True), ("chat.bsky.convo.getLog", False)))
ng.valid("hyphen-digit-prefix", "a-0.b-1.*", [GLOB], "Hyphens and digits in the prefix.",
         matches=matches(("a-0.b-1.c", True), ("a-0.b-2.c", False)))
gi = ng.invalid
gi("leading-star", "*.foo", GLOB, "The star must be last.")
gi("partial-segment", "com.example.foo*", GLOB, "No partial-segment matching.")
gi("middle-star", "com.*.foo", GLOB, "A star in the middle.")
gi("double-star", "com.example.**", GLOB, "Only one star.")
gi("partial-authority", "com.exa*", GLOB, "Star inside an authority segment.")
gi("dot-star", ".*", GLOB, "A period with no prefix before the star.")
gi("empty-segment", "com..*", GLOB, "Empty segment before the star.")
gi("two-stars", "**", GLOB, "Two stars.")
gi("two-globs", "com.atproto.*.*", GLOB, "A star followed by another.")
gi("star-star-dot", "*.*", GLOB, "Stars on both sides.")
gi("empty", "", GLOB, "The empty string is neither a pattern nor an NSID.")
gi("prefix-leading-hyphen", "-com.*", GLOB, "Prefix segment starting with a hyphen.")
gi("prefix-digit-tld", "1com.*", GLOB, "Prefix starting with a digit.")
gi("prefix-underscore", "com.ex_ample.*", GLOB, "Underscore in the prefix.")
gi("prefix-non-ascii", "com.éxample.*", GLOB, "Non-ASCII prefix.")
gi("plain-invalid-nsid", "com.example.3", GLOB, "Without a star the pattern must be a valid NSID.")
gi("plain-two-segments", "com.example", GLOB, "Without a star the pattern must be a valid NSID.")
gi("trailing-space", "com.example.* ", GLOB, "Trailing space after the star.")
gi("leading-space", " *", GLOB, "Leading space before a bare star.")
gi("star-slash", "com.example.*/", GLOB, "Characters after the star.")


# --------------------------------------------------------------------------
# at-uri (Lexicon format "at-uri", the restricted syntax): https://atproto.com/specs/at-uri-scheme

a = new_file("at-uri", "at-uri", "validate",
             "AT URIs in the restricted form the Lexicon at-uri format uses: at://AUTHORITY, "
             "optionally /COLLECTION and /RKEY, no query or fragment. Valid cases carry the parsed "
             "parts and the normalized form (handle and NSID authority lowercased).",
             [SPEC + "at-uri-scheme#restricted-at-uri-syntax", SPEC + "at-uri-scheme#full-at-uri-syntax",
              SPEC + "at-uri-scheme#normalization", SPEC + "at-uri-scheme#examples"])
USCH = "aturi.syntax.scheme"
UASCII = "aturi.syntax.ascii"
UMAX = "aturi.syntax.max-length"
UREQ = "aturi.authority.required"
UUSER = "aturi.authority.no-userinfo"
UID = "aturi.authority.identifier"
USLASH = "aturi.path.no-trailing-slash"
UCOLL = "aturi.path.collection"
URKEY = "aturi.path.record-key"
UQF = "aturi.restricted.no-query-fragment"
UNORM = "aturi.normalize"


def av(slug, value, reqs, comment):
    a.valid(slug, value, reqs, comment, normalized=aturi_normalized(value), parsed=aturi_parsed(value))


LONG_DID = "did:plc:" + "a" * 2040
LONG_NSID = AUTH253 + "." + "x" * 63
av("spec-example-handle", "at://foo.com/com.example.foo/123", [UID, UCOLL, URKEY], "Spec example: handle, collection, key.")
av("spec-example-did-record", "at://did:plc:vwzwgnygau7ed7b7wt5ux7y2/app.bsky.feed.post/3k5nobkf2w72g",
   [UID, UCOLL, URKEY], "Spec example: a post addressed by DID.")
av("spec-example-handle-record", "at://retr0.id/app.bsky.feed.post/3k5nobkf2w72g", [UID],
   "Spec example: the same post addressed by handle.")
av("did-only", "at://did:plc:asdf123", [UID], "Authority only; any syntactically valid DID.")
av("handle-only", "at://user.bsky.social", [UID], "Authority only, as a handle.")
av("did-collection", "at://did:plc:asdf123/com.atproto.feed.post", [UCOLL], "Authority and collection.")
av("did-collection-key", "at://did:plc:asdf123/com.atproto.feed.post/record", [URKEY], "All three parts.")
av("did-web", "at://did:web:example.com", [UID], "did:web authority.")
av("did-web-record", "at://did:web:example.com/io.nsid.someFunc/record-key", [URKEY], "Hyphen in the key.")
av("rkey-trailing-period", "at://did:web:example.com/io.nsid.someFunc/self.", [URKEY], "Key ending with a period.")
av("rkey-trailing-colon", "at://did:web:example.com/io.nsid.someFunc/lang:", [URKEY], "Key ending with a colon.")
av("rkey-colon", "at://did:web:example.com/io.nsid.someFunc/:", [URKEY], "Key of a single colon.")
av("rkey-hyphen", "at://did:web:example.com/io.nsid.someFunc/-", [URKEY], "Key of a single hyphen.")
av("rkey-underscore", "at://did:web:example.com/io.nsid.someFunc/_", [URKEY], "Key of a single underscore.")
av("rkey-tilde", "at://did:web:example.com/io.nsid.someFunc/~", [URKEY], "Key of a single tilde.")
av("rkey-three-dots", "at://did:web:example.com/io.nsid.someFunc/...", [URKEY], "Three periods are a valid key.")
av("collection-v2", "at://did:plc:asdf123/com.atproto.feed.postV2", [UCOLL], "Digit in the collection name.")
av("rkey-512", "at://did:plc:asdf123/com.atproto.feed.post/" + "o" * 512, [URKEY], "Record key of 512 characters.")
av("uppercase-handle", "at://Foo.Com/com.example.foo/Self", [UID, UNORM],
   "Handle authority normalizes to lowercase; the record key keeps its case.")
av("uppercase-collection-authority", "at://foo.com/COM.EXAMPLE.fooBar/Abc", [UNORM, UCOLL],
   "The collection's authority normalizes to lowercase; its name and the key do not.")
av("uppercase-did", "at://did:plc:ABCDEFG/com.example.foo/x", [UID, UNORM], "A DID authority keeps its case.")
av("unsupported-did-method", "at://did:foo:bar", [UID], "Unsupported DID methods are still valid syntax.")
av("did-percent", "at://did:web:localhost%3A1234/com.example.foo/self", [UID],
   "A DID with percent-encoding in the authority.")
av("handle-invalid", "at://handle.invalid", [UID], "The handle.invalid marker is valid handle syntax.")
av("shortest-handle", "at://a.co", [UID], "A short handle authority.")
av("minimal-collection", "at://a.co/a.b.c", [UCOLL], "A minimal collection NSID.")
av("profile-self", "at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.actor.profile/self", [URKEY],
   "A literal self record key.")
av("like-tid", "at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.like/3jzfcijpj2z2a", [URKEY], "A TID record key.")
av("rkey-did", "at://a.co/com.example.foo/did:plc:abc", [URKEY], "A DID used as a record key.")
av("rkey-domain", "at://a.co/com.example.foo/example.com", [URKEY], "A domain used as a record key.")
av("rkey-punctuation", "at://a.co/com.example.foo/~1.2-3_", [URKEY], "Record key punctuation.")
av("rkey-base64ish", "at://a.co/com.example.foo/dHJ1ZQ", [URKEY], "Mixed-case key.")
av("rkey-prefix-colon", "at://a.co/com.example.foo/pre:fix", [URKEY], "Colon inside the key.")
av("uppercase-handle-only", "at://XX.LCS.MIT.EDU", [UID, UNORM], "Uppercase handle normalizes to lowercase.")
av("digit-label-handle", "at://8.cn", [UID], "All-digit first label.")
av("reserved-tld-handle", "at://foo.onion/com.example.foo/x", [UID], "Reserved TLDs pass syntax checks.")
av("follow-record", "at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.graph.follow/3k5nobkf2w72g", [URKEY],
   "A follow record.")
av("test-handle-collection", "at://alice.test/app.bsky.feed.post", [UCOLL], "Handle authority and collection.")
av("did-web-self", "at://did:web:example.com/com.example.foo/self", [URKEY], "did:web authority with a literal key.")
av("longest-did", "at://" + LONG_DID, [UID], "A 2048-character DID authority.")
av("longest-handle", "at://" + labels([63, 63, 63, 61]), [UID], "A 253-character handle authority.")
av("longest-nsid", "at://a.co/" + LONG_NSID, [UCOLL], "A 317-character collection.")
av("longest-restricted", "at://" + LONG_DID + "/" + LONG_NSID + "/" + "k" * 512, [UMAX, UID, UCOLL, URKEY],
   "The longest restricted AT URI (2884 characters): every part at its own limit.")

ai = a.invalid
ai("spec-example-trailing-slash", "at://foo.com/", USLASH, "A lone slash after the authority.")
ai("spec-example-userinfo", "at://user:pass@foo.com", UUSER, "Userinfo is not supported.", alt=[UID])
ai("spec-example-invalid-nsid", "at://foo.com/example/123", UCOLL, "The collection is not an NSID.")
ai("spec-example-not-identifier", "at://computer", UID, "Neither a handle nor a DID.")
ai("spec-example-host-port", "at://example.com:3000", UID, "A host:port authority is not supported.",
   alt=[UUSER])
ai("at-handle", "at://@handle.example.com", UUSER, "A lone '@' before a handle.", alt=[UID])
ai("empty", "", USCH, "The empty string.")
ai("scheme-only", "at://", UREQ, "No authority.")
ai("empty-authority-path", "at:///com.example.foo", UREQ, "Empty authority before a path.")
ai("collection-trailing-slash", "at://foo.com/com.example.foo/", USLASH, "Trailing slash after the collection.")
ai("key-trailing-slash", "at://foo.com/com.example.foo/123/", USLASH, "Trailing slash after the record key.")
ai("double-slash-before-collection", "at://foo.com//com.example.foo", USLASH, "Doubled slash.")
ai("double-slash-before-key", "at://foo.com/com.example.foo//123", USLASH, "Doubled slash.")
ai("extra-segment", "at://foo.com/com.example.foo/123/extra", URKEY, "A third path segment.")
ai("many-segments", "at://foo.com/com.example.foo/a/b/c", URKEY, "Several extra segments.")
ai("query-after-key", "at://foo.com/com.example.foo/123?x=1", UQF, "A query part.")
ai("query-after-authority", "at://foo.com?x=1", UQF, "A query part right after the authority.")
ai("fragment-after-authority", "at://foo.com#/frag", UQF, "A JSON Path fragment.")
ai("fragment-after-collection", "at://foo.com/com.example.foo#/a", UQF, "A JSON Path fragment.")
ai("empty-fragment", "at://foo.com/com.example.foo/abc#", UQF, "An empty fragment.")
ai("empty-query", "at://foo.com/com.example.foo/abc?", UQF, "An empty query.")
ai("uppercase-scheme", "AT://foo.com", USCH, "The scheme is lowercase.")
ai("mixed-case-scheme", "At://foo.com", USCH, "The scheme is lowercase.")
ai("http-scheme", "http://foo.com", USCH, "Another scheme.")
ai("single-slash", "at:/foo.com", USCH, "Only one slash after the scheme.")
ai("no-slashes", "at:foo.com", USCH, "No slashes after the scheme.")
ai("no-scheme", "foo.com", USCH, "No scheme.")
ai("no-colon", "at//foo.com", USCH, "Missing colon.")
ai("leading-space", " at://foo.com", UASCII, "Leading space.", alt=[USCH])
ai("trailing-space", "at://foo.com ", UASCII, "Trailing space.", alt=[UID])
ai("space-in-key", "at://foo.com/com.example.foo/a b", UASCII, "Space in the record key.", alt=[URKEY])
ai("non-ascii-key", "at://foo.com/com.example.foo/é", UASCII, "Non-ASCII record key.", alt=[URKEY])
ai("non-ascii-handle", "at://fóo.com", UASCII, "Non-ASCII handle.", alt=[UID])
ai("emoji-collection", "at://foo.com/com.exa💩ple.foo", UASCII, "Emoji in the collection.", alt=[UCOLL])
ai("nul", "at://foo.com/com.example.foo/\u0000", UASCII, "NUL as the key.", alt=[URKEY])
ai("trailing-newline", "at://foo.com/com.example.foo/123\n", UASCII, "Trailing newline.", alt=[URKEY])
ai("trailing-tab", "at://foo.com/com.example.foo/123\t", UASCII, "Trailing tab.", alt=[URKEY])
ai("invalid-utf8", b"at://foo.com/com.example.foo/\xff", UASCII, "A byte that is never valid UTF-8.",
   alt=[URKEY])
ai("rkey-dot", "at://did:plc:abc/com.example.foo/.", URKEY, "'.' is not a record key.")
ai("rkey-dot-dot", "at://did:plc:abc/com.example.foo/..", URKEY, "'..' is not a record key.")
ai("rkey-percent", "at://foo.com/com.example.foo/a%20b", URKEY, "Percent-encoding is not a record key character.")
ai("rkey-513", "at://foo.com/com.example.foo/" + "o" * 513, URKEY, "Record key of 513 characters.")
ai("collection-digit-name", "at://foo.com/com.example.3/abc", UCOLL, "Collection name starts with a digit.")
ai("collection-two-segments", "at://foo.com/com.example/abc", UCOLL, "Collection of two segments.")
ai("collection-well-known", "at://foo.com/.well-known/x", UCOLL, "Not an NSID.")
ai("bad-did", "at://did:plc:/com.example.foo", UID, "A DID with an empty identifier.")
ai("uppercase-did-prefix", "at://DID:plc:abc", UID, "Not a DID (prefix case) and not a handle.", alt=[UUSER])
ai("digit-tld-handle", "at://john.0", UID, "A handle with a digit TLD.")
ai("empty-port", "at://foo.com:", UID, "Host with an empty port.", alt=[UUSER])
ai("ipv6", "at://[::1]/com.example.foo", UID, "An IPv6 literal is not an identifier.", alt=[UUSER])
ai("max-length-8193", "at://a.co/com.example.foo/" + "k" * 8167, UMAX,
   "8193 characters; in the restricted form the record key is also too long.", alt=[URKEY])


ag = new_file("at-uri-general", "at-uri", "at-uri-general",
              "The general AT URI syntax, of which the Lexicon at-uri format is a restricted "
              "subset: any number of path segments, a query and a JSON Path fragment. Valid cases "
              "carry the authority, the path segments (still percent-encoded), and the query and "
              "fragment (without '?' and '#') when present.",
              [SPEC + "at-uri-scheme#full-at-uri-syntax", SPEC + "at-uri-scheme#generic-uri-compliance",
               SPEC + "at-uri-scheme#examples"])
GQ = "aturi.general.query"
GF = "aturi.general.fragment"
GPCT = "aturi.general.percent-encoding"


def agv(slug, value, reqs, comment):
    rest = value[len("at://"):]
    parsed = {}
    if "#" in rest:
        rest, parsed["fragment"] = rest.split("#", 1)
    if "?" in rest:
        rest, parsed["query"] = rest.split("?", 1)
    parts = rest.split("/")
    parsed = {"authority": parts[0], "path": parts[1:], **parsed}
    ag.valid(slug, value, reqs, comment, parsed=parsed)


agv("spec-example-both", "at://foo.com/com.example.foo/123", [USCH], "Valid in both the general and the restricted form.")
agv("spec-example-not-nsid", "at://foo.com/example/123", [UCOLL],
    "General syntax does not require the first segment to be an NSID.")
agv("spec-example-bare-word", "at://computer", [UID], "General syntax does not require a handle or DID.")
agv("spec-example-host-port", "at://example.com:3000", [UID],
    "A colon in the authority is fine in the general syntax (DIDs need it).")
agv("many-segments", "at://did:plc:abc/a/b/c/d", [URKEY], "Any number of path segments.")
agv("query", "at://foo.com?x=1", [GQ], "A query right after the authority.")
agv("query-after-key", "at://foo.com/com.example.foo/123?a=b&c=d", [GQ], "A query after the path.")
agv("empty-query", "at://foo.com/com.example.foo?", [GQ], "An empty query.")
agv("fragment", "at://foo.com#/key", [GF], "A JSON Path fragment.")
agv("fragment-after-key", "at://foo.com/com.example.foo/123#/text", [GF], "A JSON Path fragment after the path.")
agv("query-and-fragment", "at://foo.com/com.example.foo/123?v=1#/a/b", [GQ, GF], "Both a query and a fragment.")
agv("pct-space", "at://foo.com/a%20b", [GPCT], "Percent-encoding in the path.")
agv("pct-utf8", "at://foo.com/%E2%9C%93", [GPCT], "Percent-encoded UTF-8 in the path.")
agv("did-percent-authority", "at://did:web:localhost%3A1234", [GPCT], "Percent-encoding in a DID authority.")
agv("pchar-punctuation", "at://foo.com/a:b@c", [GPCT], "Colon and '@' are path characters.")
agv("sub-delims", "at://foo.com/!$&'()*+,;=", [GPCT], "Every sub-delimiter in a path segment.")
agv("max-length-8192", "at://foo.com/" + "a" * (8192 - len("at://foo.com/")), [UMAX], "Exactly 8192 characters.")
for slug, value, error, comment in [
        ("spec-example-trailing-slash", "at://foo.com/", USLASH, "Trailing slash after the authority."),
        ("spec-example-userinfo", "at://user:pass@foo.com", UUSER, "Userinfo is not supported."),
        ("at-handle", "at://@foo.com", UUSER, "A lone '@' before a handle."),
        ("no-authority", "at://", UREQ, "Empty authority."),
        ("empty-authority-path", "at:///a/b", UREQ, "Empty authority before a path."),
        ("doubled-slash", "at://foo.com//x", USLASH, "Doubled slash."),
        ("trailing-slash-path", "at://foo.com/a/b/", USLASH, "Trailing slash after a path."),
        ("fragment-no-slash", "at://foo.com#frag", GF, "A fragment must be JSON Path, starting with '/'."),
        ("empty-fragment", "at://foo.com#", GF, "An empty fragment is not a JSON Path."),
        ("fragment-hash", "at://foo.com#/a#b", GPCT, "'#' inside the fragment."),
        ("query-bracket", "at://foo.com?a[b]", GQ, "Brackets are not query characters."),
        ("pct-bad-hex", "at://foo.com/a%zz", GPCT, "Percent not followed by two hex digits."),
        ("pct-truncated", "at://foo.com/a%2", GPCT, "Percent followed by one hex digit."),
        ("pct-bad-authority", "at://fo%zzo.com", GPCT, "Bad percent-encoding in the authority."),
        ("path-bracket", "at://foo.com/a[b]", GPCT, "Brackets are not path characters."),
        ("path-caret", "at://foo.com/a^b", GPCT, "Caret is not a path character."),
        ("space", "at://foo.com/a b", UASCII, "Space in the path."),
        ("non-ascii", "at://foo.com/é", UASCII, "Non-ASCII in the path."),
        ("http-scheme", "http://foo.com", USCH, "Another scheme."),
        ("uppercase-scheme", "AT://foo.com", USCH, "Uppercase scheme."),
        ("max-length-8193", "at://foo.com/" + "a" * (8193 - len("at://foo.com/")), UMAX, "8193 characters.")]:
    ag.invalid(slug, value, error, comment)


# --------------------------------------------------------------------------
# tid (Lexicon format "tid"): https://atproto.com/specs/tid

t = new_file("tid", "tid", "validate",
             "TID syntax. Valid cases carry the decoded parts: microseconds since the UNIX epoch, "
             "the 10-bit clock identifier and the whole 64-bit value as a decimal string.",
             [SPEC + "tid#tid-syntax", SPEC + "tid#tid-structure", SPEC + "tid#examples"])
TLEN = "tid.syntax.length"
TCS = "tid.syntax.charset"
TFC = "tid.syntax.first-char"
TENC = "tid.structure.encoding"
TLAY = "tid.structure.layout"


def tv(slug, value, reqs, comment):
    parsed = tid_parsed(value)
    assert parsed["timestamp_us"] < (1 << 53), value
    t.valid(slug, value, reqs, comment, parsed=parsed)


# 13 base32 characters hold 65 bits; the first-character rule only keeps the
# 65th bit clear. First characters c-j pass syntax but set bit 63, which the
# layout reserves: those cases carry no parsed form.
TID_BIT63_NOTE = ("Valid syntax, but bit 63 of the value is set, which the TID layout "
                  "reserves, so it has no integer, timestamp or clock id reading.")


def tv63(slug, value, reqs, comment):
    assert tid_parsed(value)["timestamp_us"] >= (1 << 53), value
    t.valid(slug, value, reqs, comment)


tv("spec-example", "3jzfcijpj2z2a", [TLEN, TCS, TLAY], "Spec example TID.")
tv("spec-example-sevens", "7777777777777", [TENC], "All sevens.")
tv("spec-example-3z", "3zzzzzzzzzzzz", [TENC], "Leading 3 then all z.")
tv("zero", "2222222222222", [TENC, TLAY], "The TID for integer zero.")
tv("record-key-example", "3jui7kd54zh2y", [TLAY], "The TID used in the record-key spec.")
tv("max-value", "bzzzzzzzzzzzz", [TFC, TLAY], "Largest TID with bit 63 clear: every other bit set.")
tv63("max-syntax", "jzzzzzzzzzzzz", [TFC, TLAY], "The largest TID syntax allows. " + TID_BIT63_NOTE)
tv63("first-char-j", "j222222222222", [TFC], "j is the last allowed first character. " + TID_BIT63_NOTE)
tv63("first-char-c", "c222222222222", [TFC], "c is the first character that sets bit 63. " + TID_BIT63_NOTE)
tv("first-char-b", "b222222222222", [TFC, TLAY], "b is the last first character that keeps bit 63 clear.")
tv("first-char-a", "a222222222222", [TFC], "a is an allowed first character.")
tv("first-char-7", "7222222222222", [TFC], "7 is an allowed first character.")
tv("all-b", "bbbbbbbbbbbbb", [TCS], "Letters only.")
tv63("all-i", "iiiiiiiiiiiii", [TCS], "Letters only, first character i. " + TID_BIT63_NOTE)
tv("tail-zz", "22222222222zz", [TLAY], "Only low bits set: a clock id with a tiny timestamp.")
tv("every-char", "234567abcdefg", [TCS], "Thirteen distinct alphabet characters.")
tv("tail-letters", "2hijklmnopqrs", [TCS], "Later alphabet letters.")
tv("tail-last-letters", "2tuvwxyzzzzzz", [TCS], "The last alphabet letters.")
for ts, clock, slug, comment in [
        (0, 1, "clock-1", "Timestamp zero, clock id 1."),
        (0, 1023, "clock-max", "Timestamp zero, the largest clock id."),
        (1, 0, "timestamp-1", "One microsecond after the epoch."),
        ((1 << 53) - 1, 0, "timestamp-max", "The largest 53-bit timestamp, clock id 0."),
        ((1 << 53) - 1, 1023, "timestamp-max-clock-max", "Every bit below the top bit set."),
        (1 << 52, 512, "timestamp-high-bit", "Timestamp with only its top bit set."),
        (1000000, 7, "one-second", "One second after the epoch."),
        (946684800000000, 0, "y2k", "2000-01-01T00:00:00Z."),
        (1672531200000000, 42, "2023", "2023-01-01T00:00:00Z with clock id 42."),
        (1704067200123456, 1, "2024-micro", "2024-01-01T00:00:00.123456Z."),
        (1704067200123000, 1, "2024-milli-padded", "A millisecond clock scaled by 1000."),
        (1718000000000000, 999, "2024-june", "A mid-2024 timestamp."),
        (1735689599999999, 3, "end-2024", "The last microsecond of 2024."),
        (2000000000000000, 100, "2033", "A timestamp in 2033."),
        (4102444800000000, 5, "2100", "2100-01-01T00:00:00Z."),
        (7258118400000000, 1023, "2200", "2200-01-01T00:00:00Z, still within 53 bits."),
        (123456789, 321, "arbitrary-small", "An arbitrary small timestamp."),
        (0x5555555555555, 0x155, "alternating-bits", "Alternating bit pattern."),
        (0xAAAAAAAAAAAAA, 0x2AA, "alternating-bits-inverse", "The inverse alternating bit pattern."),
        (1 << 40, 0, "power-of-two", "A power of two."),
        (1699999999999999, 512, "2023-november", "Late 2023 with the middle clock id."),
        (1600000000000000, 64, "2020", "A 2020 timestamp."),
        (1500000000000000, 8, "2017", "A 2017 timestamp."),
        (1400000000000000, 16, "2014", "A 2014 timestamp."),
        (1300000000000000, 32, "2011", "A 2011 timestamp.")]:
    tv("generated-" + slug, tid_encode(ts, clock), [TLAY, TENC], comment)

ti = t.invalid
ti("spec-example-digit-1", "3jzfcijpj2z21", TCS, "1 is not in the alphabet.")
ti("spec-example-zeros", "0000000000000", TCS, "0 is not in the alphabet.", alt=[TFC])
ti("spec-example-uppercase", "3JZFCIJPJ2Z2A", TCS, "TIDs are lowercase.")
ti("spec-example-too-long", "3jzfcijpj2z2aa", TLEN, "14 characters.")
ti("spec-example-too-short", "3jzfcijpj2z2", TLEN, "12 characters.")
ti("spec-example-three", "222", TLEN, "3 characters.")
ti("spec-example-legacy-dashes", "3jzf-cij-pj2z-2a", TLEN, "The legacy dashed form.", alt=[TCS])
ti("spec-example-all-z", "zzzzzzzzzzzzz", TFC, "Top bit set.")
ti("spec-example-k-first", "kjzfcijpj2z2a", TFC, "Top bit set.")
ti("empty", "", TLEN, "The empty string.")
ti("one-char", "2", TLEN, "A single character.")
ti("fourteen-twos", "22222222222222", TLEN, "Zero written with 14 characters.")
ti("twelve-twos", "222222222222", TLEN, "Zero written with 12 characters.")
for c in "klmnopqrstuvwxy":
    ti("first-char-" + c, c + "222222222222", TFC, f"First character {c} would set the top bit.")
for c in "0189":
    ti("digit-" + c, "3" + c + "22222222222", TCS, f"{c} is not in the base32-sortable alphabet.")
ti("uppercase-last", "3jzfcijpj2z2A", TCS, "One uppercase character.")
ti("uppercase-first", "J222222222222", TCS, "Uppercase first character.", alt=[TFC])
ti("dash-inside", "3jzf-cijpj2z2", TCS, "A dash in a 13-character string.")
ti("space-inside", "3jzfcij j2z2a", TCS, "A space in a 13-character string.")
ti("padding", "3jzfcijpj2z2=", TCS, "A padding character.")
ti("underscore", "3jzfcijpj2z2_", TCS, "An underscore.")
ti("trailing-newline", "3jzfcijpj2z2a\n", TLEN, "Trailing newline.", alt=[TCS])
ti("leading-space", " 3jzfcijpj2z2a", TLEN, "Leading space.", alt=[TCS, TFC])
ti("nul-inside", "3jzfcij\u0000j2z2a", TCS, "A NUL character in a 13-character string.")
ti("accented", "3jzfcijpj2z2é", TLEN, "A non-ASCII letter: 14 bytes.", alt=[TCS])
ti("fullwidth", "３jzfcijpj2z2a", TLEN, "A fullwidth digit: 15 bytes.", alt=[TCS, TFC])
ti("invalid-utf8", b"3jzfcijpj2z2\xff", TCS, "A byte that is never valid UTF-8.")


# --------------------------------------------------------------------------
# record-key (Lexicon format "record-key", i.e. type any): https://atproto.com/specs/record-key

r = new_file("record-key", "record-key", "validate",
             "Record key syntax shared by every key type (the Lexicon record-key format). Keys "
             "are case-sensitive and never normalized.",
             [SPEC + "record-key#record-key-syntax", SPEC + "record-key#examples",
              SPEC + "lexicon#string-formats"])
RCH = "rkey.syntax.chars"
RLEN = "rkey.syntax.length"
RDOT = "rkey.syntax.not-dot"
RCASE = "rkey.case-sensitive"
LRK = "lex.format.record-key"
rv = r.valid
for slug, value, reqs, comment in [
        ("spec-example-tid", "3jui7kd54zh2y", [LRK], "A TID key."),
        ("spec-example-self", "self", [LRK], "The common literal key."),
        ("spec-example-domain", "example.com", [RCH], "A domain name."),
        ("spec-example-punctuation", "~1.2-3_", [RCH], "Every punctuation character but colon."),
        ("spec-example-mixed-case", "dHJ1ZQ", [RCASE], "Mixed case is kept."),
        ("spec-example-colon", "pre:fix", [RCH], "Colon inside."),
        ("spec-example-underscore", "_", [RCH, RLEN], "A single underscore."),
        ("three-dots", "...", [RDOT], "Only '.' and '..' are excluded; three periods are fine."),
        ("four-dots", "....", [RDOT], "Four periods."),
        ("leading-dot", ".a", [RDOT], "A leading period."),
        ("trailing-dot", "a.", [RDOT], "A trailing period."),
        ("dot-dot-inside", "a..b", [RDOT], "Two periods inside."),
        ("dot-dash", ".-", [RDOT], "Period then hyphen."),
        ("hyphen", "-", [RCH], "A single hyphen."),
        ("colon", ":", [RCH], "A single colon."),
        ("tilde", "~", [RCH], "A single tilde."),
        ("double-colon", "::", [RCH], "Two colons."),
        ("double-tilde", "~~", [RCH], "Two tildes."),
        ("double-hyphen", "--", [RCH], "Two hyphens."),
        ("double-underscore", "__", [RCH], "Two underscores."),
        ("all-punctuation", ".-_:~", [RCH], "Every allowed punctuation character."),
        ("digit", "0", [RCH, RLEN], "A single digit."),
        ("upper-letter", "A", [RCASE], "A single uppercase letter."),
        ("all-upper", "UPPER", [RCASE], "All uppercase."),
        ("digits", "1234567890", [RCH], "All digits."),
        ("did-plc", "did:plc:ewvi7nxzyoun6zhxrhs64oiz", [RCH], "A did:plc works as a key."),
        ("nsid", "com.example.foo", [RCH], "An NSID works as a key."),
        ("tid", "3jzfcijpj2z2a", [LRK], "The TID spec example."),
        ("length-512", "a" * 512, [RLEN], "Exactly 512 characters."),
        ("length-512-periods", "." * 512, [RLEN, RDOT], "512 periods."),
        ("length-80", "x" * 80, [RLEN], "80 characters, the suggested practical path size."),
        ("mixed-punctuation", "a_b-c.d:e~f", [RCH], "Letters between punctuation."),
        ("trailing-colon", "lang:", [RCH], "Ends with a colon."),
        ("self-dot", "self.", [RCH], "Ends with a period."),
        ("literal-self", "literal:self", [RCH], "The key-type spelling is itself a valid key."),
        ("date", "2024-01-01", [RCH], "A date."),
        ("time", "12:30", [RCH], "A time with a colon."),
        ("underscore-dot", "_._", [RCH], "Underscores around a period."),
        ("letter-z", "Z", [RCASE], "One uppercase letter."),
        ("tilde-inside", "foo~bar", [RCH], "Tilde inside."),
        ("did-web", "did:web:example.com", [RCH], "A did:web works as a key."),
        ("mixed", "MiXeD123", [RCASE], "Mixed case and digits.")]:
    rv(slug, value, reqs, comment)

for slug, value, error, comment in [
        ("spec-example-slash", "alpha/beta", RCH, "Slash would split the path."),
        ("spec-example-dot", ".", RDOT, "A lone period."),
        ("spec-example-dot-dot", "..", RDOT, "Two periods."),
        ("spec-example-hash", "#extra", RCH, "Hash sign."),
        ("spec-example-at", "@handle", RCH, "'@' sign."),
        ("spec-example-space", "any space", RCH, "A space."),
        ("spec-example-plus", "any+space", RCH, "A plus sign."),
        ("spec-example-brackets", "number[3]", RCH, "Square brackets."),
        ("spec-example-parens", "number(3)", RCH, "Parentheses."),
        ("spec-example-quotes", "\"quote\"", RCH, "Double quotes."),
        ("spec-example-base64-padding", "dHJ1ZQ==", RCH, "Base64 padding."),
        ("empty", "", RLEN, "The empty string."),
        ("length-513", "a" * 513, RLEN, "513 characters."),
        ("length-1000", "b" * 1000, RLEN, "Far too long."),
        ("percent", "a%20b", RCH, "Percent is reserved, not allowed."),
        ("question", "a?b", RCH, "Question mark."),
        ("ampersand", "a&b", RCH, "Ampersand."),
        ("comma", "a,b", RCH, "Comma."),
        ("semicolon", "a;b", RCH, "Semicolon."),
        ("bang", "a!b", RCH, "Exclamation mark."),
        ("star", "a*b", RCH, "Star."),
        ("dollar", "a$b", RCH, "Dollar sign."),
        ("apostrophe", "a'b", RCH, "Apostrophe."),
        ("backslash", "a\\b", RCH, "Backslash."),
        ("pipe", "a|b", RCH, "Vertical bar."),
        ("caret", "a^b", RCH, "Caret."),
        ("backtick", "a`b", RCH, "Backtick."),
        ("braces", "a{b}", RCH, "Braces."),
        ("angle-brackets", "a<b>", RCH, "Angle brackets."),
        ("equals", "a=b", RCH, "Equals sign."),
        ("leading-space", " a", RCH, "Leading space."),
        ("trailing-space", "a ", RCH, "Trailing space."),
        ("tab", "a\tb", RCH, "Tab."),
        ("newline", "a\nb", RCH, "Newline."),
        ("nul", "a\u0000b", RCH, "NUL character."),
        ("accented", "é", RCH, "Non-ASCII letter."),
        ("emoji", "💩", RCH, "Emoji."),
        ("fullwidth", "ａ", RCH, "Fullwidth letter."),
        ("zero-width-joiner", "a\u200db", RCH, "Zero-width joiner."),
        ("trailing-slash", "a/", RCH, "Trailing slash."),
        ("leading-slash", "/a", RCH, "Leading slash."),
        ("dot-slash", "./", RCH, "Relative path prefix."),
        ("dot-dot-slash", "../", RCH, "Parent path prefix.")]:
    r.invalid(slug, value, error, comment)
r.invalid("invalid-utf8", b"a\xff", RCH, "A byte that is never valid UTF-8.")


rt = new_file("record-key-type", "record-key", "record-key-type",
              "Record keys checked against a Lexicon record key type (case field key_type): tid, "
              "nsid, literal:<value> or any. The base record key syntax applies first.",
              [SPEC + "record-key#record-key-type-tid", SPEC + "record-key#record-key-type-nsid",
               SPEC + "record-key#record-key-type-literalvalue", SPEC + "record-key#record-key-type-any"])
RT_TID = "rkey.type.tid"
RT_NSID = "rkey.type.nsid"
RT_LIT = "rkey.type.literal"
RT_ANY = "rkey.type.any"
for slug, key, ktype, reqs, comment in [
        ("tid", "3jzfcijpj2z2a", "tid", [RT_TID], "A TID key in a tid collection."),
        ("tid-zero", "2222222222222", "tid", [RT_TID], "The zero TID."),
        ("nsid", "com.example.fooBar", "nsid", [RT_NSID], "An NSID key in an nsid collection."),
        ("nsid-app", "app.bsky.feed.post", "nsid", [RT_NSID], "A real NSID as a key."),
        ("literal-self", "self", "literal:self", [RT_LIT], "The usual literal key."),
        ("literal-other", "preferences", "literal:preferences", [RT_LIT], "Another literal value."),
        ("literal-colon", "a:b", "literal:a:b", [RT_LIT], "A literal value containing a colon."),
        ("any-self", "self", "any", [RT_ANY], "Any base-valid key."),
        ("any-tid", "3jzfcijpj2z2a", "any", [RT_ANY], "A TID is fine for any."),
        ("any-punctuation", "~1.2-3_", "any", [RT_ANY], "Punctuation is fine for any."),
        ("any-three-dots", "...", "any", [RT_ANY], "Three periods pass the base syntax."),
        ("any-512", "a" * 512, "any", [RT_ANY, RLEN], "The longest key.")]:
    rt.valid(slug, key, reqs, comment, key_type=ktype)
for slug, key, ktype, error, comment in [
        ("tid-not-tid", "self", "tid", RT_TID, "Not a TID."),
        ("tid-uppercase", "3JZFCIJPJ2Z2A", "tid", RT_TID, "Uppercase TID."),
        ("tid-top-bit", "zzzzzzzzzzzzz", "tid", RT_TID, "TID with the top bit set."),
        ("tid-too-long", "3jzfcijpj2z2aa", "tid", RT_TID, "14 characters."),
        ("nsid-not-nsid", "self", "nsid", RT_NSID, "Not an NSID."),
        ("nsid-two-segments", "com.example", "nsid", RT_NSID, "Too few segments."),
        ("nsid-tid", "3jzfcijpj2z2a", "nsid", RT_NSID, "A TID is not an NSID."),
        ("literal-mismatch", "other", "literal:self", RT_LIT, "Only the literal value is accepted."),
        ("literal-case", "Self", "literal:self", RT_LIT, "Keys are case-sensitive."),
        ("literal-prefix", "selfie", "literal:self", RT_LIT, "A longer key sharing the prefix."),
        ("literal-tid", "3jzfcijpj2z2a", "literal:self", RT_LIT, "A TID in a literal collection."),
        ("base-dot-any", ".", "any", RDOT, "Base syntax applies to every type."),
        ("base-empty-literal", "", "literal:self", RLEN, "Base syntax applies before the literal check."),
        ("base-slash-nsid", "com/example", "nsid", RCH, "Base syntax applies before the NSID check."),
        ("base-space-tid", "3jzfcij j2z2a", "tid", RCH, "Base syntax applies before the TID check.")]:
    rt.invalid(slug, key, error, comment, key_type=ktype)
for slug, key, ktype, comment in [
        ("unknown-type", "self", "record", "Not one of the defined key types."),
        ("unknown-literal-no-colon", "self", "literal", "literal needs a ':<value>' suffix."),
        ("unknown-uppercase", "self", "ANY", "Type names are case-sensitive."),
        ("unknown-empty", "self", "", "An empty type name.")]:
    rt.invalid(slug, key, "rkey.type.unknown", comment, key_type=ktype)


# --------------------------------------------------------------------------
# datetime (Lexicon format "datetime"): https://atproto.com/specs/lexicon#datetime

dt = new_file("datetime", "datetime", "validate",
              "Datetimes in the strict intersection of RFC 3339, ISO 8601 and WHATWG HTML that "
              "the Lexicon datetime format requires. Valid cases carry the normalized form: the "
              "same instant in UTC with a Z suffix and the original fraction digits, padded with "
              "zeros to at least three.",
              [SPEC + "lexicon#datetime"])
DSYN = "lex.format.datetime.syntax"
DSEP = "lex.format.datetime.separator"
DSEC = "lex.format.datetime.seconds"
DTZ = "lex.format.datetime.timezone"
DSEM = "lex.format.datetime.semantics"
DNEG = "lex.format.datetime.not-negative"
DRANGE = "lex.format.datetime.range"
DNORM = "lex.format.datetime.normalize"


def dtv(slug, value, reqs, comment):
    # A real date passing is a must (the syntax rule), whatever else the case shows.
    reqs = list(reqs) if any(r != DSEM for r in reqs) else [DSYN, *reqs]
    dt.valid(slug, value, [*reqs, DNORM], comment, normalized=datetime_normalized(value))


dtv("spec-example-millis", "1985-04-12T23:20:50.123Z", [DSYN], "Preferred form: milliseconds and Z.")
dtv("spec-example-micros", "1985-04-12T23:20:50.123456Z", [DSEC], "Microsecond precision.")
dtv("spec-example-trailing-zero", "1985-04-12T23:20:50.120Z", [DSEC], "Trailing zero kept.")
dtv("spec-example-trailing-zeros-micro", "1985-04-12T23:20:50.120000Z", [DSEC], "Trailing zeros kept.")
dtv("spec-example-year-1", "0001-01-01T00:00:00.000Z", [DSYN], "Year 0001.")
dtv("spec-example-year-0", "0000-01-01T00:00:00.000Z", [DNEG], "Year 0000 is the earliest allowed.")
dtv("spec-example-long-fraction", "1985-04-12T23:20:50.12345678912345Z", [DSEC], "Any number of fraction digits.")
dtv("spec-example-whole-seconds", "1985-04-12T23:20:50Z", [DSEC], "No fraction; normalizes to .000.")
dtv("spec-example-one-digit-fraction", "1985-04-12T23:20:50.0Z", [DSEC], "One fraction digit; padded to three.")
dtv("spec-example-plus-zero", "1985-04-12T23:20:50.123+00:00", [DTZ], "+00:00 is allowed and means UTC.")
dtv("spec-example-negative-offset", "1985-04-12T23:20:50.123-07:00", [DTZ],
    "A negative offset moves the UTC instant into the next day.")
dtv("year-0-leap-day", "0000-02-29T00:00:00Z", [DSEM], "Year 0000 is a leap year in the proleptic calendar.")
dtv("leap-day-2000", "2000-02-29T12:00:00Z", [DSEM], "2000 is divisible by 400: a leap year.")
dtv("leap-day-2024", "2024-02-29T00:00:00Z", [DSEM], "2024 is a leap year.")
dtv("leap-day-1600", "1600-02-29T00:00:00Z", [DSEM], "1600 is divisible by 400: a leap year.")
dtv("feb-28-2100", "2100-02-28T00:00:00Z", [DSEM], "Last day of February in a non-leap century year.")
dtv("year-9999-end", "9999-12-31T23:59:59Z", [DSYN, DRANGE], "The last second of year 9999.")
dtv("year-9999-end-nanos", "9999-12-31T23:59:59.999999999Z", [DSEC], "The last nanosecond of year 9999.")
dtv("epoch", "1970-01-01T00:00:00Z", [DSYN], "The UNIX epoch.")
dtv("before-epoch", "1969-12-31T23:59:59.999Z", [DSYN], "Just before the epoch.")
dtv("offset-crosses-year", "2023-12-31T23:30:00-01:00", [DTZ], "Normalizing moves into the next year.")
dtv("offset-back-into-leap-day", "2024-03-01T00:30:00+01:00", [DTZ, DSEM],
    "Normalizing moves back onto 29 February of a leap year.")
dtv("offset-back-into-feb-28", "2023-03-01T00:30:00+01:00", [DTZ, DSEM],
    "Normalizing moves back onto 28 February of a common year.")
dtv("offset-max-positive", "2000-01-01T00:00:00+23:59", [DTZ, DSEM], "The largest positive offset.")
dtv("offset-max-negative", "1999-12-31T23:59:00-23:59", [DTZ, DSEM], "The largest negative offset.")
dtv("offset-crosses-month", "2024-01-31T23:00:00-01:00", [DTZ], "Normalizing moves into the next month.")
dtv("year-0-positive-offset-exact", "0000-01-01T00:30:00+00:30", [DNEG], "Normalizes to exactly 0000-01-01T00:00:00Z.")
dtv("year-0-max-offset", "0000-01-01T23:59:59+23:59", [DNEG], "A large offset that stays in year 0000.")
dtv("year-9999-negative-offset", "9999-12-31T18:59:59-05:00", [DTZ, DRANGE], "Normalizes to the last second of 9999.")
dtv("year-9999-positive-offset", "9999-12-31T23:59:59+05:00", [DTZ], "Positive offsets move earlier.")
dtv("fraction-1", "1985-04-12T23:20:50.1Z", [DSEC], "One digit, padded to .100.")
dtv("fraction-2", "1985-04-12T23:20:50.12Z", [DSEC], "Two digits, padded to .120.")
dtv("fraction-4", "1985-04-12T23:20:50.1234Z", [DSEC], "Four digits kept as written.")
dtv("fraction-21", "1985-04-12T23:20:50.000000000000000000001Z", [DSEC], "Twenty-one fraction digits.")
dtv("end-of-june", "2023-06-30T23:59:59Z", [DSEM], "30 June exists.")
dtv("end-of-april", "2023-04-30T00:00:00Z", [DSEM], "30 April exists.")
dtv("end-of-january", "2023-01-31T00:00:00Z", [DSEM], "31 January exists.")
dtv("offset-plus-14", "2023-12-31T23:59:59.999+14:00", [DTZ], "A real +14:00 zone.")
dtv("offset-half-hour", "2023-07-15T12:00:00+05:30", [DTZ], "A half-hour offset.")
dtv("offset-negative-half-hour", "2023-07-15T12:00:00-09:30", [DTZ], "A negative half-hour offset.")
dtv("offset-quarter-hour", "2023-07-15T12:00:00+12:45", [DTZ], "A 45-minute offset.")
dtv("midnight", "1985-04-12T00:00:00Z", [DSEM], "Midnight is hour 00.")
dtv("second-59", "1985-04-12T23:59:59Z", [DSEM], "Second 59 is the largest.")
dtv("offset-zero-fraction", "2020-02-02T02:02:02.020+00:00", [DTZ], "+00:00 normalizes to Z.")

for slug, value, error, comment, alt in [
        ("spec-example-date-only", "1985-04-12", DSYN, "No time part.", [DSEP]),
        ("spec-example-no-seconds", "1985-04-12T23:20Z", DSEC, "Seconds are required.", [DSYN]),
        ("spec-example-one-digit-second", "1985-04-12T23:20:5Z", DSEC, "Seconds need two digits.", [DSYN]),
        ("spec-example-no-timezone", "1985-04-12T23:20:50.123", DTZ, "A timezone is required.", []),
        ("spec-example-six-digit-year", "+001985-04-12T23:20:50.123Z", DSYN, "Expanded year form.", []),
        ("spec-example-time-only", "23:20:50.123Z", DSYN, "No date part.", []),
        ("spec-example-negative-year", "-1985-04-12T23:20:50.123Z", DSYN, "Signed year.", []),
        ("spec-example-one-digit-month", "1985-4-12T23:20:50.123Z", DSYN, "Month needs two digits.", []),
        ("spec-example-five-digit-year", "01985-04-12T23:20:50.123Z", DSYN, "Five-digit year.", []),
        ("spec-example-hour-offset", "1985-04-12T23:20:50.123+00", DTZ, "Offset without minutes.", []),
        ("spec-example-offset-no-colon", "1985-04-12T23:20:50.123+0000", DTZ, "Offset without a colon.", []),
        ("spec-example-lowercase-t", "1985-04-12t23:20:50.123Z", DSEP, "Lowercase t separator.", []),
        ("spec-example-lowercase-z", "1985-04-12T23:20:50.123z", DTZ, "Lowercase z suffix.", []),
        ("spec-example-negative-zero", "1985-04-12T23:20:50.123-00:00", DTZ, "Negative zero offset.", []),
        ("spec-example-space-separator", "1985-04-12 23:20:50.123Z", DSEP, "Space separator.", []),
        ("spec-example-minute-99", "1985-04-12T23:99:50.123Z", DSEM, "Minute 99.", []),
        ("spec-example-month-00", "1985-00-12T23:20:50.123Z", DSEM, "Month 00.", []),
        ("spec-example-normalizes-negative", "0000-01-01T00:00:00+01:00", DNEG,
         "In UTC this falls in year -1.", []),
        ("second-60", "1985-04-12T23:20:60Z", DSEM, "Second 60 is outside the WHATWG range 00-59.", []),
        ("second-60-leap-day", "2016-12-31T23:59:60Z", DSEM,
         "Even on a real leap-second date, second 60 is rejected.", []),
        ("second-61", "1985-04-12T23:20:61.123Z", DSEM, "Second 61.", []),
        ("hour-24", "1985-04-12T24:00:00Z", DSEM, "Hour 24.", []),
        ("hour-25", "1985-04-12T25:20:50.123Z", DSEM, "Hour 25.", []),
        ("month-13", "1985-13-12T23:20:50.123Z", DSEM, "Month 13.", []),
        ("day-00", "1985-04-00T23:20:50.123Z", DSEM, "Day 00.", []),
        ("april-31", "1985-04-31T00:00:00Z", DSEM, "April has 30 days.", []),
        ("day-32", "1985-01-32T00:00:00Z", DSEM, "Day 32.", []),
        ("leap-day-1900", "1900-02-29T00:00:00Z", DSEM, "1900 is not a leap year (century rule).", []),
        ("leap-day-2023", "2023-02-29T00:00:00Z", DSEM, "2023 is not a leap year.", []),
        ("leap-day-2100", "2100-02-29T00:00:00Z", DSEM, "2100 is not a leap year.", []),
        ("february-30", "2024-02-30T00:00:00Z", DSEM, "February never has 30 days.", []),
        ("offset-hour-24", "1985-04-12T23:20:50.123+24:00", DSEM, "Offset hour 24.", []),
        ("offset-minute-60", "1985-04-12T23:20:50.123+23:60", DSEM, "Offset minute 60.", []),
        ("offset-negative-24", "1985-04-12T23:20:50.123-24:00", DSEM, "Offset hour -24.", []),
        ("year-0-one-minute-negative", "0000-01-01T00:00:00.000+00:01", DNEG,
         "One minute before year 0000 in UTC.", []),
        ("year-0-max-offset-negative", "0000-01-01T23:58:59+23:59", DNEG,
         "The largest offset pushes this just before year 0000.", []),
        ("empty-fraction", "1985-04-12T23:20:50.Z", DSEC, "A period with no fraction digits.", []),
        ("comma-fraction", "1985-04-12T23:20:50,123Z", DTZ,
         "ISO comma decimal sign: neither a fraction nor a timezone.", [DSEC, DSYN]),
        ("hour-only", "1985-04-12T23Z", DSYN, "Only the hour.", [DSEC]),
        ("offset-one-digit-hour", "1985-04-12T23:20:50.123+1:00", DTZ, "Offset hour of one digit.", []),
        ("offset-one-digit-minute", "1985-04-12T23:20:50.123+01:0", DTZ, "Offset minute of one digit.", []),
        ("offset-with-seconds", "1985-04-12T23:20:50.123+01:00:00", DTZ, "Offset with seconds.", []),
        ("utc-word", "1985-04-12T23:20:50.123UTC", DTZ, "A zone name instead of Z.", []),
        ("z-and-offset", "1985-04-12T23:20:50.123+00:00Z", DTZ, "Offset followed by Z.", []),
        ("double-z", "1985-04-12T23:20:50.123ZZ", DTZ, "Two Z suffixes.", []),
        ("space-before-z", "1985-04-12T23:20:50.123 Z", DTZ, "A space before Z.", [DSEC]),
        ("trailing-space", "1985-04-12T23:20:50.123Z ", DTZ, "Trailing space.", [DSYN]),
        ("trailing-newline", "1985-04-12T23:20:50.123Z\n", DTZ, "Trailing newline.", [DSYN]),
        ("trailing-nul", "1985-04-12T23:20:50.123Z\u0000", DTZ, "Trailing NUL.", [DSYN]),
        ("leading-space", " 1985-04-12T23:20:50.123Z", DSYN, "Leading space.", []),
        ("empty", "", DSYN, "The empty string.", []),
        ("fullwidth-digit", "１985-04-12T23:20:50.123Z", DSYN, "A fullwidth digit in the year.", []),
        ("slashes", "1985/04/12T23:20:50Z", DSYN, "Slash date separators.", []),
        ("basic-format", "19850412T232050Z", DSYN, "ISO 8601 basic format.", []),
        ("basic-time", "1985-04-12T232050Z", DSYN, "Time without colons.", [DSEC]),
        ("two-digit-year", "85-04-12T23:20:50Z", DSYN, "Two-digit year.", []),
        ("underscore-separator", "1985-04-12_23:20:50Z", DSEP, "Underscore separator.", []),
        ("year-10000", "10000-01-01T00:00:00Z", DSYN, "Five-digit year.", []),
        ("week-date", "1985-W15-5T23:20:50Z", DSYN, "ISO week date.", []),
        ("ordinal-date", "1985-102T23:20:50Z", DSYN, "ISO ordinal date.", []),
        ("unix-timestamp", "482196050", DSYN, "A bare number.", []),
        ("after-9999-minus-5", "9999-12-31T23:00:00-05:00", DRANGE,
         "In UTC this falls in year 10000, which has no four-digit form.", []),
        ("after-9999-one-second", "9999-12-31T19:00:00-05:00", DRANGE,
         "In UTC this is the first second of year 10000.", [])]:
    dt.invalid(slug, value, error, comment, alt=alt)


# --------------------------------------------------------------------------
# language (Lexicon format "language"): https://atproto.com/specs/lexicon#language

lg = new_file("language", "language", "validate",
              "Language tags that are well-formed under the BCP 47 grammar (RFC 5646 section 2.1): "
              "langtags, private-use tags and the grandfathered tags. Registry membership is not "
              "checked, and subtags compare case-insensitively.",
              [SPEC + "lexicon#language", "https://www.rfc-editor.org/rfc/rfc5646#section-2.1",
               "https://www.rfc-editor.org/rfc/rfc5646#section-2.2.9"])
LANG = "lex.format.language"
for slug, value, comment in [
        ("spec-example-ja", "ja", "Two-letter ISO 639 code."),
        ("spec-example-ban", "ban", "Three-letter ISO 639 code."),
        ("spec-example-pt-br", "pt-BR", "Language and region."),
        ("spec-example-variant", "hy-Latn-IT-arevela", "Language, script, region and variant."),
        ("en", "en", "Plain English."),
        ("en-us", "en-US", "Language and region."),
        ("zh-hant", "zh-Hant", "Language and script."),
        ("zh-hant-tw", "zh-Hant-TW", "Language, script and region."),
        ("extlang", "zh-yue", "Language with an extended language subtag."),
        ("extlang-region", "zh-yue-HK", "Extended language then region."),
        ("extlang-script-region", "zh-cmn-Hans-CN", "Extended language, script and region."),
        ("three-extlangs", "zh-abc-def-ghi", "The grammar allows up to three extended language subtags."),
        ("sr-latn-rs", "sr-Latn-RS", "Script and region."),
        ("numeric-region", "es-419", "A three-digit UN M.49 region."),
        ("numeric-region-005", "es-005", "Another three-digit region."),
        ("digit-variant", "de-CH-1901", "A variant of a digit and three characters."),
        ("two-variants", "sl-rozaj-biske", "Two variants in a row."),
        ("region-variant", "sl-IT-nedis", "Region then a five-letter variant."),
        ("digit-variants", "de-DE-1901-1996", "Two digit-first variants."),
        ("variant-only-digits", "en-1234", "A four-digit variant."),
        ("variant-five-letters", "en-abcde", "A five-letter variant."),
        ("variant-eight", "en-abcdefgh", "An eight-character variant."),
        ("grandfathered-klingon", "i-klingon", "Irregular grandfathered tag."),
        ("grandfathered-default", "i-default", "Irregular grandfathered tag."),
        ("grandfathered-enochian", "i-enochian", "Irregular grandfathered tag."),
        ("grandfathered-oed", "en-GB-oed", "Irregular grandfathered tag that the langtag grammar would reject."),
        ("grandfathered-sgn", "sgn-BE-FR", "Irregular grandfathered tag."),
        ("grandfathered-uppercase", "I-KLINGON", "Grandfathered tags match case-insensitively."),
        ("regular-grandfathered-lojban", "art-lojban", "Regular grandfathered tag."),
        ("regular-grandfathered-gaulish", "cel-gaulish", "Regular grandfathered tag."),
        ("regular-grandfathered-no-bok", "no-bok", "Regular grandfathered tag."),
        ("regular-grandfathered-min-nan", "zh-min-nan", "Regular grandfathered tag."),
        ("private-use", "x-whatever", "A private-use tag."),
        ("private-use-one-char", "x-a", "Private-use subtag of one character."),
        ("private-use-eight", "x-12345678", "Private-use subtag of eight characters."),
        ("private-use-several", "x-abc-def", "Several private-use subtags."),
        ("private-use-uppercase", "X-ABC", "Private-use singleton in uppercase."),
        ("langtag-private-use", "en-x-private", "A langtag followed by private use."),
        ("langtag-region-private-use", "en-US-x-twain", "Region then private use."),
        ("extension-and-private", "en-a-bbb-x-a-ccc", "An extension, then private use reusing the letter a."),
        ("unicode-extension", "en-u-ca-gregory", "Unicode locale extension."),
        ("unicode-extension-region", "de-DE-u-co-phonebk", "Region then a Unicode extension."),
        ("extension-eight", "en-b-12345678", "An extension subtag of eight characters."),
        ("extension-two-char", "en-a-bb", "An extension subtag of two characters."),
        ("reserved-qaa", "qaa-Qaaa-QM-x-southern", "Private-use ranges of language, script and region."),
        ("everything", "en-Latn-US-valencia-u-ca-buddhist-x-foo", "Every langtag part at once."),
        ("extension-and-private-ext", "zh-CN-a-myext-x-private", "Extension then private use."),
        ("uppercase-language", "EN-us", "Case does not matter for well-formedness."),
        ("uppercase-ja", "JA", "Uppercase language subtag."),
        ("four-letter-language", "abcd", "A four-letter primary subtag is reserved but well-formed."),
        ("five-letter-language", "abcde", "A five-letter primary subtag is well-formed."),
        ("eight-letter-language", "abcdefgh", "An eight-letter primary subtag is well-formed."),
        ("fr-ca", "fr-CA", "French as used in Canada."),
        ("mn-cyrl-mn", "mn-Cyrl-MN", "Mongolian in Cyrillic script."),
        ("private-after-region", "az-Arab-x-AZE-derbend", "Private use after a script."),
        ("extlang-ar", "ar-aao", "Arabic with an extended language subtag."),
        ("variant-after-script", "de-Latn-DE-1996", "Script, region and a variant."),
        ("unicode-extension-single", "en-US-u-islamcal", "A Unicode extension with one subtag."),
        ("duplicate-variant", "de-DE-1901-1901",
         "A repeated variant breaks RFC 5646 validity, not well-formedness (section 2.2.9), and only "
         "well-formedness is required. The atproto-interop-tests list this as invalid."),
        ("duplicate-singleton", "en-a-foo-a-bar",
         "A repeated extension singleton is likewise well-formed but not valid (RFC 5646 section "
         "2.2.9). The atproto-interop-tests list this as invalid.")]:
    lg.valid(slug, value, [LANG], comment)

for slug, value, comment in [
        ("empty", "", "The empty string."),
        ("one-letter", "e", "A one-letter primary subtag."),
        ("one-letter-j", "j", "A one-letter primary subtag."),
        ("trailing-hyphen", "en-", "Trailing hyphen."),
        ("leading-hyphen", "-en", "Leading hyphen."),
        ("double-hyphen", "en--US", "Empty subtag."),
        ("underscore", "en_US", "Underscore separator (POSIX locale style)."),
        ("space-separator", "en US", "Space separator."),
        ("leading-space", " en", "Leading space."),
        ("trailing-space", "en ", "Trailing space."),
        ("trailing-newline", "en\n", "Trailing newline."),
        ("digits", "123", "Digits as the primary subtag."),
        ("two-digits", "12", "Two digits as the primary subtag."),
        ("digit-letters", "1en", "Primary subtag starting with a digit."),
        ("singleton-alone", "en-a", "An extension singleton with no subtag."),
        ("singleton-short-subtag", "en-a-b", "Extension subtags need at least two characters."),
        ("singleton-long-subtag", "en-a-abcdefghi", "Extension subtag of nine characters."),
        ("singleton-then-private", "en-a-x-foo", "Extension singleton followed directly by private use."),
        ("singleton-at-end", "en-US-u", "Extension singleton at the end."),
        ("x-alone", "x", "Private-use singleton with nothing after it."),
        ("x-hyphen", "x-", "Private-use singleton and a hyphen."),
        ("en-x", "en-x", "Private-use singleton at the end."),
        ("private-use-too-long", "x-123456789", "Private-use subtag of nine characters."),
        ("langtag-private-too-long", "en-x-toolongsub", "Private-use subtag of ten characters."),
        ("nine-letters", "abcdefghi", "Nine-letter primary subtag."),
        ("ten-letters", "toolongtag", "Ten-letter primary subtag."),
        ("variant-nine", "en-abcdefghi", "Nine-character subtag after the language."),
        ("region-region", "de-419-DE", "Two regions."),
        ("region-twice", "en-US-US", "The same region twice."),
        ("four-extlangs", "zh-abc-def-ghi-jkl", "A fourth three-letter subtag fits nowhere."),
        ("extlang-after-script", "en-Latn-yue", "Three-letter subtag after the script."),
        ("script-twice", "en-Latn-Latn", "Two scripts."),
        ("two-digit-region", "en-12", "Two digits is neither a region nor a variant."),
        ("digit-letter", "en-1a", "Digit and letter is neither a region nor a variant."),
        ("lone-digit", "en-0", "A single digit subtag."),
        ("fake-grandfathered", "i-notreal", "Only the listed i- tags are grandfathered."),
        ("grandfathered-extended", "en-GB-oed-x-foo", "Irregular grandfathered tags cannot be extended."),
        ("script-trailing-hyphen", "ja-Latn-", "Trailing hyphen after a script."),
        ("region-trailing-hyphen", "en-GB-", "Trailing hyphen after a region."),
        ("japanese-text", "日本語", "The name of a language, not a tag."),
        ("non-ascii-region", "fr-Ç", "Non-ASCII subtag."),
        ("fullwidth", "ｅｎ", "Fullwidth letters."),
        ("nul", "en\u0000", "Trailing NUL."),
        ("period-separator", "en.US", "Period separator."),
        ("slash-separator", "en/US", "Slash separator."),
        ("singleton-language", "a-DE", "A singleton cannot be the primary subtag."),
        ("accept-language-weight", "en;q=0.9", "An HTTP Accept-Language item, not a tag."),
        ("comma-list", "en,fr", "A list of tags, not a tag."),
        ("star", "*", "The language range wildcard is not a tag.")]:
    lg.invalid(slug, value, LANG, comment)
lg.invalid("invalid-utf8", b"en-\xff", LANG, "A byte that is never valid UTF-8.")


# --------------------------------------------------------------------------
# cid (Lexicon format "cid"): https://atproto.com/specs/data-model#link-and-cid-formats

c = new_file("cid", "cid", "validate",
             "CID strings: 'b' plus unpadded lowercase base32 of a CIDv1 with codec dag-cbor "
             "(0x71) or raw (0x55) and a 32-byte sha-256 multihash, nothing more. The digest is "
             "of arbitrary bytes: the string format cannot see the linked data.",
             [SPEC + "data-model#link-and-cid-formats", SPEC + "lexicon#string-formats",
              "https://dasl.ing/cid.html"])
CIDR = "lex.format.cid"
DAG = 0x71
RAW = 0x55


def cid_str(raw_bytes):
    return "b" + b32(raw_bytes)


c.valid("raw-empty", cid_str(cid_bytes(RAW, b"")), [CIDR], "raw codec, sha-256 of zero bytes.")
c.valid("dag-cbor-empty-map", cid_str(cid_bytes(DAG, b"\xa0")), [CIDR], "dag-cbor, sha-256 of the CBOR empty map.")
c.valid("dag-cbor-null", cid_str(cid_bytes(DAG, b"\xf6")), [CIDR], "dag-cbor, sha-256 of CBOR null.")
c.valid("dag-cbor-empty", cid_str(cid_bytes(DAG, b"")), [CIDR], "dag-cbor, sha-256 of zero bytes.")
c.valid("raw-hello", cid_str(cid_bytes(RAW, b"hello world")), [CIDR], "raw codec over a short text.")
c.valid("dag-cbor-all-zero-digest", cid_str(bytes([1, DAG, 0x12, 0x20]) + bytes(32)), [CIDR],
        "An all-zero digest is still well-formed.")
c.valid("raw-all-ff-digest", cid_str(bytes([1, RAW, 0x12, 0x20]) + b"\xff" * 32), [CIDR],
        "An all-0xff digest is still well-formed.")
for i in range(17):
    c.valid(f"dag-cbor-{i:02d}", cid_str(cid_bytes(DAG, f"atproto vector {i}".encode())), [CIDR],
            f"dag-cbor CID of the text 'atproto vector {i}'.")
    c.valid(f"raw-{i:02d}", cid_str(cid_bytes(RAW, f"atproto blob {i}".encode())), [CIDR],
            f"raw CID of the text 'atproto blob {i}'.")

GOOD = cid_bytes(DAG, b"atproto vector 0")
GOOD_STR = cid_str(GOOD)
DIGEST = GOOD[4:]


def bad(slug, value, comment):
    c.invalid(slug, value, CIDR, comment)


bad("cidv0", base58(bytes([0x12, 0x20]) + DIGEST), "CIDv0 (base58 'Qm...') is not allowed.")
bad("cidv0-hello", base58(bytes([0x12, 0x20]) + hashlib.sha256(b"hello").digest()), "Another CIDv0.")
bad("uppercase-base32-prefix", "B" + b32(GOOD).upper(), "Uppercase base32 multibase ('B').")
bad("uppercase-body", "b" + b32(GOOD).upper(), "Lowercase prefix with an uppercase body.")
bad("one-uppercase-char", GOOD_STR[:-1] + GOOD_STR[-1].upper(), "A single uppercase character.")
bad("base58btc", "z" + base58(GOOD), "base58btc multibase ('z').")
bad("base16", "f" + GOOD.hex(), "base16 multibase ('f').")
bad("base64", "m" + base64.b64encode(GOOD).decode().rstrip("="), "base64 multibase ('m').")
bad("base64url", "u" + base64.urlsafe_b64encode(GOOD).decode().rstrip("="), "base64url multibase ('u').")
bad("base36", "k" + base36(GOOD), "base36 multibase ('k').")
bad("base32hex", "v" + base64.b32hexencode(GOOD).decode().rstrip("=").lower(), "base32hex multibase ('v').")
bad("no-prefix", b32(GOOD), "The multibase prefix is missing.")
bad("codec-dag-pb", cid_str(cid_bytes(0x70, b"x")), "dag-pb codec (0x70) is not blessed.")
bad("codec-json", cid_str(cid_bytes(0x0200, b"x")), "json codec (0x0200) is not blessed.")
bad("codec-dag-json", cid_str(cid_bytes(0x0129, b"x")), "dag-json codec (0x0129) is not blessed.")
bad("codec-libp2p-key", cid_str(cid_bytes(0x72, b"x")), "libp2p-key codec (0x72) is not blessed.")
bad("codec-identity", cid_str(cid_bytes(0x00, b"x")), "Codec 0 is not blessed.")
bad("version-0-byte", cid_str(bytes([0x00]) + GOOD[1:]), "Version byte 0 inside a v1-shaped string.")
bad("version-2", cid_str(bytes([0x02]) + GOOD[1:]), "CID version 2 does not exist.")
bad("version-3", cid_str(bytes([0x03]) + GOOD[1:]), "CID version 3 does not exist.")
bad("version-non-minimal-varint", cid_str(bytes([0x81, 0x00]) + GOOD[1:]),
    "Version 1 written as a two-byte varint.")
bad("codec-non-minimal-varint", cid_str(bytes([0x01, 0xf1, 0x00]) + GOOD[2:]),
    "dag-cbor codec written as a two-byte varint.")
bad("hash-sha2-512", cid_str(bytes([1, DAG, 0x13, 0x40]) + hashlib.sha512(b"x").digest()),
    "sha2-512 multihash is not blessed.")
bad("hash-sha3-256", cid_str(bytes([1, DAG, 0x16, 0x20]) + hashlib.sha3_256(b"x").digest()),
    "sha3-256 multihash is not blessed.")
bad("hash-blake2b-256", cid_str(bytes([1, DAG]) + varint(0xb220) + bytes([0x20]) + hashlib.blake2b(b"x", digest_size=32).digest()),
    "blake2b-256 multihash is not blessed.")
bad("hash-sha1", cid_str(bytes([1, RAW, 0x11, 0x14]) + hashlib.sha1(b"x").digest()), "sha1 multihash is not blessed.")
bad("hash-identity", cid_str(bytes([1, RAW, 0x00, 0x05]) + b"hello"), "Identity multihash is not blessed.")
bad("hash-sha256-wrong-code", cid_str(bytes([1, DAG, 0x13, 0x20]) + DIGEST),
    "A sha-256 sized digest labelled with another hash code.")
bad("length-31", cid_str(bytes([1, DAG, 0x12, 0x1f]) + DIGEST[:31]), "Digest length 31.")
bad("length-33", cid_str(bytes([1, DAG, 0x12, 0x21]) + DIGEST + b"\0"), "Digest length 33.")
bad("length-0", cid_str(bytes([1, DAG, 0x12, 0x00])), "Digest length 0.")
bad("truncated-digest", cid_str(GOOD[:-1]), "Length says 32 but only 31 digest bytes follow.")
bad("truncated-half", cid_str(GOOD[:20]), "Cut in the middle of the digest.")
bad("header-only", cid_str(GOOD[:4]), "Only the header, no digest.")
bad("trailing-byte", cid_str(GOOD + b"\0"), "One byte after the digest.")
bad("trailing-bytes", cid_str(GOOD + b"extra"), "Several bytes after the digest.")
bad("two-cids", cid_str(GOOD + GOOD), "Two CIDs back to back.")
bad("padding", "b" + base64.b32encode(GOOD).decode().lower(), "base32 with '=' padding.")
bad("single-pad", GOOD_STR + "=", "A single '=' after the string.")
bad("nonzero-trailing-bits", GOOD_STR[:-1] + "abcdefghijklmnopqrstuvwxyz234567"[
        "abcdefghijklmnopqrstuvwxyz234567".index(GOOD_STR[-1]) ^ 1],
    "The last character's two spare bits are not zero: a second spelling of the same bytes, "
    "which would break string comparison of CIDs (RFC 4648 section 3.5 canonical encoding). "
    "Found by the runner's mutation property against atcute.")
bad("empty", "", "The empty string.")
bad("prefix-only", "b", "Only the multibase prefix.")
bad("short", "bafy", "Far too short.")
bad("dropped-last-char", GOOD_STR[:-1], "The last character removed.")
bad("extra-char", GOOD_STR + "a", "One character too many for the encoded length.")
bad("digit-1", GOOD_STR[:10] + "1" + GOOD_STR[11:], "1 is not in the base32 alphabet.")
bad("digit-8", GOOD_STR[:10] + "8" + GOOD_STR[11:], "8 is not in the base32 alphabet.")
bad("digit-0", GOOD_STR[:10] + "0" + GOOD_STR[11:], "0 is not in the base32 alphabet.")
bad("leading-space", " " + GOOD_STR, "Leading space.")
bad("trailing-space", GOOD_STR + " ", "Trailing space.")
bad("trailing-newline", GOOD_STR + "\n", "Trailing newline.")
bad("inner-space", GOOD_STR[:20] + " " + GOOD_STR[20:], "A space inside.")
bad("non-ascii", GOOD_STR[:-1] + "é", "A non-ASCII letter.")
bad("nul", GOOD_STR + "\u0000", "Trailing NUL.")
bad("ipfs-uri", "ipfs://" + GOOD_STR, "An ipfs:// URI is not a bare CID.")
bad("ipfs-path", "/ipfs/" + GOOD_STR, "An IPFS path is not a bare CID.")
bad("link-json", '{"$link":"' + GOOD_STR + '"}', "The JSON link object is not a CID string.")
c.invalid("invalid-utf8", GOOD_STR.encode() + b"\xff", CIDR, "A byte that is never valid UTF-8.")


# --------------------------------------------------------------------------
# at-identifier (Lexicon format "at-identifier"): https://atproto.com/specs/lexicon#at-identifier

ai_ = new_file("at-identifier", "at-identifier", "validate",
               "A handle or a DID. A string starting with 'did:' is judged as a DID and any other "
               "string as a handle, so the error is the DID or handle error.",
               [SPEC + "lexicon#at-identifier", SPEC + "handle#handle-identifier-syntax",
                SPEC + "did#did-identifier-syntax"])
AID = "lex.format.at-identifier"
for slug, value, reqs, comment in [
        ("handle", "jay.bsky.social", [SEG], "A handle."),
        ("handle-short", "a.co", [SEG], "A short handle."),
        ("handle-digit-label", "8.cn", [TLD], "All-digit first label."),
        ("handle-uppercase", "XX.LCS.MIT.EDU", [LOWER], "Uppercase handle."),
        ("handle-punycode", "xn--ls8h.test", [CHARS], "Punycode handle."),
        ("handle-invalid-marker", "handle.invalid", [RES], "The handle.invalid marker is valid syntax."),
        ("handle-onion", "2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion", [RES],
         "Reserved TLDs pass."),
        ("handle-local", "laptop.local", [RES], "Reserved TLDs pass."),
        ("handle-253", labels([63, 63, 63, 61]), [HMAX], "Longest handle."),
        ("handle-hyphen", "my-handle.bsky.social", [HYPHEN], "Inner hyphen."),
        ("handle-many-labels", "a.b.c.d.e.f", [SEG], "Many labels."),
        ("handle-did-label", "did.example.com", [SEG], "A handle whose first label is 'did' (no colon)."),
        ("handle-did-tld", "example.did", [SEG], "A handle under a 'did' TLD."),
        ("handle-didx", "didx.example.com", [SEG], "Starts with 'did' but not 'did:'."),
        ("handle-test", "alice.test", [RES], "The .test TLD."),
        ("handle-tld-digit-later", "example.c0m", [TLD], "TLD with a later digit."),
        ("handle-t--t", "name.t--t", [HYPHEN], "Inner double hyphen."),
        ("handle-one-letter-tld", "example.t", [SEGLEN], "One-letter TLD."),
        ("handle-xn-tld", "xn--fiqa61au8b7zsevnm8ak20mc4a87e.xn--fiqs8s", [CHARS], "Punycode TLD."),
        ("handle-digits-inside", "123.456.com", [TLD], "Digit labels before the TLD."),
        ("did-plc", "did:plc:ewvi7nxzyoun6zhxrhs64oiz", [DPRE], "A did:plc."),
        ("did-web", "did:web:user.example.com", [DPRE], "A did:web."),
        ("did-unsupported-method", "did:method:val:two", [EXP], "Any DID method passes."),
        ("did-minimal", "did:m:v", [DMETH], "Minimal DID."),
        ("did-key", "did:key:zQ3shZc2QzApp2oymGvQbzP8eKheVshBHbU4ZYjeXqwSKEn6N", [EXP], "did:key passes syntax."),
        ("did-colons", "did:method::::val", [DID_ID], "Empty parts inside the identifier."),
        ("did-punctuation", "did:method:-:_:.", [DCH], "Punctuation identifier."),
        ("did-percent", "did:web:localhost%3A1234", [DCH], "Percent-encoded port."),
        ("did-uppercase-identifier", "did:plc:EWVI7NXZYOUN6ZHXRHS64OIZ", [DCH], "Identifier case is free in generic syntax."),
        ("did-2048", "did:plc:" + "a" * 2040, [DMAX], "Longest DID."),
        ("did-malformed-percent", "did:method:%zz", ["did.percent-encoding"], "Percent-encoding is not checked by syntax."),
        ("did-web-path", "did:web:example.com:u:alice", [EXP], "did:web path form passes generic syntax."),
        ("did-plc-short", "did:plc:asdf123", [EXP], "Short did:plc passes generic syntax."),
        ("did-digits", "did:method:123", [DCH], "Digit identifier."),
        ("did-ends-period", "did:method:val.", [DID_ID], "Ends with a period."),
        ("did-ends-hyphen", "did:method:val-", [DID_ID], "Ends with a hyphen."),
        ("did-long-method", "did:abcdefghijklmnopqrstuvwxyz:x", [DMETH], "Long method."),
        ("did-example", "did:example:123456789abcdefghi", [DMETH], "W3C example method."),
        ("did-pkh", "did:pkh:eip155:1:0xb9c5714089478a327f09197987f16f9e5d936e8a", [DCH], "Colon-separated identifier."),
        ("did-web-punycode", "did:web:xn--ls8h.test", [DCH], "Punycode did:web."),
        ("handle-did-periods", "did.plc.ewvi7nxzyoun6zhxrhs64oiz", [SEG],
         "Periods instead of colons: no 'did:' prefix, and a valid handle.")]:
    ai_.valid(slug, value, [AID, *reqs], comment)

for slug, value, error, comment, alt in [
        ("handle-at-sign", "jo@hn.test", CHARS, "Invalid handle character.", []),
        ("handle-emoji", "💩.test", HASCII, "Non-ASCII handle.", []),
        ("handle-double-dot", "john..test", SEG, "Empty label.", [SEGLEN]),
        ("handle-trailing-hyphen", "xn--bcher-.tld", HYPHEN, "Label ends with a hyphen.", []),
        ("handle-digit-tld", "john.0", TLD, "Digit TLD.", []),
        ("handle-digit-tld-2", "cn.8", TLD, "Digit TLD.", []),
        ("handle-bare-tld", "org", SEG, "Single label.", []),
        ("handle-trailing-dot", "name.org.", SEG, "Trailing period.", [SEGLEN]),
        ("handle-ipv4", "127.0.0.1", TLD, "IPv4 address.", []),
        ("handle-254", labels([63, 63, 63, 62]), HMAX, "One past the handle length limit.", []),
        ("handle-segment-64", "a" * 64 + ".com", SEGLEN, "64-character label.", []),
        ("handle-leading-at", "@alice.bsky.social", CHARS, "Display '@' prefix.", []),
        ("handle-space", "alice .bsky.social", CHARS, "Space inside.", [HASCII]),
        ("handle-trailing-newline", "alice.bsky.social\n", CHARS, "Trailing newline.", [HASCII]),
        ("handle-fullwidth", "ａlice.com", HASCII, "Fullwidth letter.", []),
        ("handle-underscore", "a_b.com", CHARS, "Underscore.", []),
        ("empty", "", SEG, "The empty string is judged as a handle.", [SEGLEN]),
        ("uppercase-did-prefix", "DID:plc:ewvi7nxzyoun6zhxrhs64oiz", CHARS,
         "Without a lowercase 'did:' prefix the string is judged as a handle.", [SEG]),
        ("at-uri", "at://jay.bsky.social", CHARS, "An AT URI is neither.", []),
        ("handle-leading-space", " jay.bsky.social", CHARS, "Leading space: judged as a handle.", [HASCII]),
        ("did-leading-space", " did:plc:ewvi7nxzyoun6zhxrhs64oiz", CHARS,
         "Leading space before a DID: no 'did:' prefix, so judged as a handle.", [HASCII, SEG]),
        ("did-uppercase-method", "did:METHOD:val", DMETH, "DID error for a 'did:' string.", []),
        ("did-digit-method", "did:m123:val", DMETH, "DID error.", []),
        ("did-empty-identifier", "did:method:", DID_ID, "DID error.", []),
        ("did-path", "did:method:val/two", DQF, "DID error.", [DCH]),
        ("did-query", "did:method:val?two", DQF, "DID error.", [DCH]),
        ("did-fragment", "did:method:val#two", DQF, "DID error.", [DCH]),
        ("did-prefix-only", "did:", DMETH, "'did:' alone is judged as a DID.", [DID_ID]),
        ("did-no-identifier-colon", "did:plc", DMETH, "Method without a colon after it.", [DID_ID]),
        ("did-ends-colon", "did:plc:abc:", DID_ID, "Ends with a colon.", []),
        ("did-ends-percent", "did:plc:abc%", DID_ID, "Ends with a percent sign.", []),
        ("did-2049", "did:plc:" + "a" * 2041, DMAX, "One past the DID length limit.", []),
        ("did-space", "did:plc:ab c", DCH, "Space in a DID.", []),
        ("did-non-ascii", "did:plc:é", DCH, "Non-ASCII in a DID.", []),
        ("did-trailing-newline", "did:plc:abc\n", DCH, "Trailing newline in a DID.", []),
        ("did-handle-shape", "did:alice.bsky.social", DMETH,
         "Starts with 'did:', so judged as a DID even though the rest looks like a handle.", []),
        ("did-tilde", "did:plc:a~b", DCH, "Tilde in a DID.", []),
        ("did-empty-method", "did::val", DMETH, "Empty method.", []),
        ("did-plus", "did:plc:a+b", DCH, "Plus in a DID.", []),
        ("handle-leading-hyphen", "-alice.com", HYPHEN, "Label starting with a hyphen.", []),
        ("did-semicolon", "did:plc:a;b", DCH, "Semicolon in a DID.", []),
        ("handle-path", "alice.com/x", CHARS, "A path after a handle.", [])]:
    ai_.invalid(slug, value, error, comment, requirements=[AID], alt=alt)
ai_.invalid("invalid-utf8", b"jay.bsky.social\xff", HASCII, "A byte that is never valid UTF-8.",
            requirements=[AID])


# --------------------------------------------------------------------------
# uri (Lexicon format "uri"): https://atproto.com/specs/lexicon#uri

u = new_file("uri", "uri", "validate",
             "Absolute URIs under the generic RFC 3986 syntax (scheme, ':', and a non-empty rest), "
             "any scheme, at most 8192 bytes. No scheme-specific rules apply, except that an at: "
             "authority may be a DID with bare colons.",
             [SPEC + "lexicon#uri", "https://www.rfc-editor.org/rfc/rfc3986#section-3",
              SPEC + "at-uri-scheme#generic-uri-compliance"])
URI = "lex.format.uri"
URI_8192 = "https://example.com/" + "a" * (8192 - len("https://example.com/"))
for slug, value, comment in [
        ("https", "https://example.com", "A plain web URL."),
        ("https-slash", "https://example.com/", "Root path."),
        ("https-full", "https://example.com/path/to/thing?q=1&r=2#frag", "Path, query and fragment."),
        ("http-localhost-port", "http://localhost:2583/xrpc/com.atproto.server.describeServer", "Port and XRPC path."),
        ("did-plc", "did:plc:ewvi7nxzyoun6zhxrhs64oiz", "A DID is a URI with a rootless path."),
        ("did-web", "did:web:example.com", "did:web as a URI."),
        ("at-handle", "at://alice.example.com/app.bsky.feed.post/3k5nobkf2w72g", "An AT URI with a handle."),
        ("at-did", "at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3k5nobkf2w72g",
         "An AT URI with a DID authority: the bare colons are accepted for the at scheme."),
        ("wss", "wss://bsky.network/xrpc/com.atproto.sync.subscribeRepos", "A WebSocket URL."),
        ("ipfs", "ipfs://" + GOOD_STR, "An ipfs URI carrying a CID."),
        ("ipld", "ipld://" + GOOD_STR, "An ipld URI carrying a CID."),
        ("dns", "dns:example.com", "A dns URI without authority."),
        ("dns-query", "dns:example.com?type=TXT", "A dns URI with a query."),
        ("mailto", "mailto:alice@example.com", "A mailto URI."),
        ("urn-isbn", "urn:isbn:0451450523", "A URN."),
        ("urn-uuid", "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66", "A UUID URN."),
        ("tel", "tel:+1-816-555-1212", "A telephone URI."),
        ("data", "data:text/plain;base64,SGVsbG8=", "A data URI."),
        ("file-empty-authority", "file:///etc/hosts", "Empty authority then an absolute path."),
        ("ftp", "ftp://ftp.example.com/pub/file.txt", "An FTP URL."),
        ("ipv6-port", "http://[::1]:8080/", "IPv6 loopback literal with a port."),
        ("ipv6-ldap", "ldap://[2001:db8::7]/c=GB?objectClass?one", "IPv6 literal, '=' in the path, '?' in the query."),
        ("ipv6-full", "http://[2001:0db8:0000:0000:0000:ff00:0042:8329]/", "Fully written IPv6 address."),
        ("ipv6-ipv4-tail", "http://[::ffff:192.0.2.128]/", "IPv6 with an embedded IPv4 tail."),
        ("ipvfuture", "http://[v7.fe80::1]/", "An IPvFuture literal."),
        ("ipv4-port", "http://192.0.2.16:80/", "IPv4 address and port."),
        ("userinfo", "http://user:pass@example.com/", "Userinfo in the authority."),
        ("empty-port", "http://example.com:/", "An empty port is allowed by the grammar."),
        ("large-port", "http://example.com:99999/", "The grammar does not limit the port's value."),
        ("pct-encoded-unicode", "https://example.com/%E2%9C%93", "Percent-encoded UTF-8."),
        ("pct-encoded-slash", "https://example.com/a%2Fb", "Percent-encoded slash."),
        ("pct-lowercase-hex", "https://example.com/%e2%9c%93", "Lowercase hex digits in percent-encoding."),
        ("tag", "tag:example.com,2005:x", "A tag URI."),
        ("scheme-plus", "svn+ssh://svn.example.com/repo", "Plus in the scheme."),
        ("scheme-plus-2", "coap+tcp://example.com", "Another scheme with a plus."),
        ("scheme-hyphen-dot", "x-y.z:abc", "Hyphen and period in the scheme."),
        ("minimal", "a:b", "One-letter scheme and one-character path."),
        ("uppercase-scheme", "HTTPS://EXAMPLE.COM/", "Schemes and hosts are case-insensitive."),
        ("empty-query", "https://example.com?", "An empty query."),
        ("empty-fragment", "https://example.com#", "An empty fragment."),
        ("params", "https://example.com/path;params", "Semicolon in the path."),
        ("tilde", "https://example.com/~user/", "Tilde in the path."),
        ("dot-segments", "https://example.com/a/../b/./c", "Dot segments are allowed before normalization."),
        ("sub-delims", "https://example.com/!$&'()*+,;=:@", "Every sub-delimiter, colon and '@' in the path."),
        ("query-slash-question", "https://example.com/?q=a/b?c", "Slash and question mark in the query."),
        ("fragment-slash-question", "https://example.com/#frag/with?slash", "Slash and question mark in the fragment."),
        ("news", "news:comp.infosystems.www.servers.unix", "A news URI."),
        ("urn-example", "urn:example:a123,z456", "Comma in a URN."),
        ("punycode-host", "https://xn--ls8h.example/", "Punycode host."),
        ("max-length-8192", URI_8192, "Exactly 8192 bytes."),
        ("empty-authority", "https://", "An empty authority (empty reg-name) is allowed by the grammar."),
        ("at-uri-userinfo", "at://user:pass@foo.com",
         "Generic syntax only: AT URI rules such as no userinfo belong to the at-uri format."),
        ("at-uri-trailing-slash", "at://foo.com/",
         "Generic syntax only: the AT URI ban on trailing slashes belongs to the at-uri format.")]:
    u.valid(slug, value, [URI], comment)

for slug, value, comment in [
        ("empty", "", "The empty string."),
        ("no-scheme", "example.com", "No scheme: a relative reference."),
        ("relative-path", "/relative/path", "A relative reference."),
        ("network-path", "//example.com", "A network-path reference has no scheme."),
        ("query-only", "?query", "Only a query."),
        ("fragment-only", "#fragment", "Only a fragment."),
        ("scheme-digit", "1http://example.com", "A scheme must start with a letter."),
        ("scheme-space", "ht tp://example.com", "Space in the scheme."),
        ("scheme-underscore", "h_t://example.com", "Underscore in the scheme."),
        ("empty-scheme", ":foo", "Empty scheme."),
        ("nothing-after-scheme", "https:", "Nothing after the scheme."),
        ("minimal-empty", "a:", "Nothing after a one-letter scheme."),
        ("space-in-host", "https://exa mple.com", "Space in the host."),
        ("space-in-path", "https://example.com/a b", "Space in the path."),
        ("leading-space", " https://example.com", "Leading space."),
        ("trailing-space", "https://example.com ", "Trailing space."),
        ("trailing-newline", "https://example.com\n", "Trailing newline."),
        ("tab-in-path", "https://example.com/\t", "Tab in the path."),
        ("nul-in-path", "https://example.com/\u0000", "NUL in the path."),
        ("bad-pct", "https://example.com/%zz", "Percent not followed by hex digits."),
        ("short-pct", "https://example.com/%4", "Percent followed by one hex digit."),
        ("lone-pct", "https://example.com/%", "A lone percent sign."),
        ("non-ascii-path", "https://example.com/ü", "An IRI, not a URI: non-ASCII in the path."),
        ("non-ascii-host", "https://例え.jp/", "An IRI, not a URI: non-ASCII host."),
        ("emoji", "https://example.com/💩", "Emoji in the path."),
        ("double-quote", "https://example.com/\"quote\"", "Double quotes."),
        ("angle-brackets", "<https://example.com>", "Angle brackets around a URL."),
        ("braces", "https://example.com/{x}", "Braces in the path."),
        ("pipe", "https://example.com/a|b", "Vertical bar in the path."),
        ("caret", "https://example.com/a^b", "Caret in the path."),
        ("backslash", "https://example.com/a\\b", "Backslash in the path."),
        ("backtick", "https://example.com/a`b", "Backtick in the path."),
        ("brackets-in-path", "https://example.com/[a]", "Square brackets outside an IP literal."),
        ("double-hash", "https://example.com#a#b", "'#' inside a fragment."),
        ("unclosed-ipv6", "http://[::1/", "Unclosed IP literal."),
        ("junk-after-ipv6", "http://[::1]x/", "Characters after an IP literal."),
        ("two-ports", "http://example.com:80:80/", "Two ports."),
        ("two-at-signs", "http://a@b@c/", "'@' inside the host."),
        ("port-letters", "http://host:port/", "A port of letters."),
        ("port-mixed", "http://example.com:8a/", "A port with a letter."),
        ("ipv6-long-group", "http://[12345::]/", "An IPv6 group of five hex digits."),
        ("ipv6-two-gaps", "http://[::1::2]/", "Two '::' in an IPv6 address."),
        ("ipv6-nine-groups", "http://[1:2:3:4:5:6:7:8:9]/", "Nine IPv6 groups."),
        ("ipvfuture-no-dot", "http://[v7]/", "IPvFuture without its '.' part."),
        ("backtick-host", "http://exa`mple.com/", "Backtick in the host."),
        ("mailto-space", "mailto:a b@example.com", "Space in a mailto address."),
        ("max-length-8193", URI_8192 + "a", "8193 bytes, one past the limit.")]:
    u.invalid(slug, value, URI, comment)
u.invalid("invalid-utf8", b"https://example.com/\xff", URI, "A byte that is never valid UTF-8.")


# --------------------------------------------------------------------------


def main():
    return vectorgen.write_or_check(FILES, OUT_DIR, "gen-syntax-vectors.py")


if __name__ == "__main__":
    sys.exit(main())

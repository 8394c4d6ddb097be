#!/usr/bin/python3
"""Writes vectors/car/*.json, the shared test vectors for reading CAR files.

read.json: whole CARv1 files in; the verdict of a strict reader that also
requires the first root's block to be present, and for valid files the roots
and the block CIDs in file order.

Every file is put together here byte by byte, with the small varint, CBOR and
CID writer the generators share (tools/vectorgen.py), independently of the C++
reference, which then checks the vectors in reference/car/vectors_test.cpp.
Case ids are stable: never rename or reuse one, add new cases instead.

Usage: tools/gen-car-vectors.py            (rewrites vectors/car/)
       tools/gen-car-vectors.py --check    (exit 1 if the files are stale)
"""

import hashlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vectorgen  # noqa: E402
from vectorgen import Link, cbor, cid_binary, cid_string, varint  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "vectors", "car")
SPEC = "https://atproto.com/specs/"

# The reader's default limits (reference/car/car.hpp, CarLimits).
MAX_BLOCK_BYTES = 2_000_000
MAX_HEADER_BYTES = 64 * 1024

# --------------------------------------------------------------------------
# Requirement ids (spec/requirements/car.json)

H_FRAME = "car.header.frame"
H_MAP = "car.header.map"
H_VERSION = "car.header.version"
H_ROOTS = "car.header.roots"
H_NONEMPTY = "car.header.roots-nonempty"
H_KEYS = "car.header.keys"
B_FRAME = "car.block.frame"
B_CID = "car.block.cid"
B_MATCH = "car.block.cid-matches"
B_ORDER = "car.block.any-order"
B_DUP = "car.block.duplicates"
R_COMMIT = "car.roots.commit-included"
L_BLOCK = "car.limits.block-size"
L_HEADER = "car.limits.header-size"

# What every well-formed file exercises.
WELL_FORMED = [H_FRAME, H_MAP, H_VERSION, H_ROOTS, B_FRAME, B_CID, B_MATCH, R_COMMIT]

# --------------------------------------------------------------------------
# CIDs and blocks (varints, CIDs and canonical CBOR: tools/vectorgen.py).

DAG_CBOR = vectorgen.DAG_CBOR
RAW = vectorgen.RAW


def cid(codec, data):
    """Binary CIDv1 over sha-256 of `data`."""
    return cid_binary(codec, data)


def frame(body):
    """varint(len) + body: a header or block frame."""
    return varint(len(body)) + body


class Block:
    def __init__(self, codec, data):
        self.codec = codec
        self.data = data
        self.cid = cid(codec, data)

    def frame(self):
        return frame(self.cid + self.data)


def dag(value):
    return Block(DAG_CBOR, cbor(value))


def header(roots, **extra):
    """The header frame {"roots": [links], "version": 1} plus any extra keys."""
    fields = {"roots": [Link(r.cid if isinstance(r, Block) else r) for r in roots], "version": 1}
    fields.update(extra)
    return frame(cbor(fields))


def car(roots, blocks):
    return header(roots) + b"".join(b.frame() for b in blocks)


# --------------------------------------------------------------------------
# Example blocks: a commit-shaped map, an MST-node-shaped map, records and
# blobs. Their contents are only examples: the CAR reader checks framing and
# hashes, never what a block means.

DID = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
POST = dag({"$type": "app.bsky.feed.post", "text": "hello from a CAR file",
            "createdAt": "2024-11-05T12:34:56.789Z"})
LIKE = dag({"$type": "app.bsky.feed.like", "createdAt": "2024-11-05T12:40:00.000Z",
            "subject": {"uri": f"at://{DID}/app.bsky.feed.post/3l6oveex3ii2l",
                        "cid": Link(POST.cid)}})
MST_NODE = dag({"l": None, "e": [
    {"p": 0, "k": b"app.bsky.feed.like/3l6oveex3ii2m", "v": Link(LIKE.cid), "t": None},
    {"p": 19, "k": b"post/3l6oveex3ii2l", "v": Link(POST.cid), "t": None},
]})
COMMIT = dag({"did": DID, "version": 3, "data": Link(MST_NODE.cid), "rev": "3l6oveex3ii2n",
              "prev": None, "sig": bytes(range(64))})
EMPTY_MAP = dag({})
IMAGE = Block(RAW, b"\x89PNG\r\n\x1a\n example image bytes")
EMPTY_RAW = Block(RAW, b"")
# Block data of 200 bytes: the frame length needs a two-byte varint.
LONG_TEXT = dag({"text": "x" * 190})
assert len(LONG_TEXT.data) + 36 >= 128

REPO = [COMMIT, MST_NODE, POST, LIKE]
GOOD = car([COMMIT], REPO)

# --------------------------------------------------------------------------
# Reviews: cases on which both independent implementations the conformance
# runner tests (conformance/adapters/) disagree with the verdict, with why the
# verdict stands. conformance_test.py requires one for every such case.

BOTH = ["@atproto/repo 0.10.14 readCar", "@atcute/car 6.0.2"]
REVIEWS = [
    (r"^car\.read\.invalid\.(header|block)-length-non-minimal$", BOTH,
     "Both read CAR lengths with a varint decoder that accepts padded encodings. CARv1 "
     "lengths are multiformats unsigned varints, whose encoding must be minimal; accepting "
     "padding gives one file several byte forms.",
     SPEC + "repository#car-file-serialization"),
    (r"^car\.read\.invalid\.header-extra-key(-sorted-last)?$", BOTH,
     "Both check the header's version and roots and ignore other keys. The CARv1 header "
     "defines exactly these two fields; refusing the rest is our strict reading, so that a "
     "file's meaning cannot depend on fields a reader does not know.",
     SPEC + "repository#car-file-serialization"),
]


# --------------------------------------------------------------------------
# The file and its cases


class ReadFile(vectorgen.VectorFile):
    def __init__(self):
        super().__init__(
            "car", "read", "read",
            "Whole CARv1 files read strictly: minimal varint framing, a DRISL-CBOR header "
            "{roots, version: 1}, blocks named by blessed CIDs that match their bytes, and "
            "the first root's block present. Limits are the defaults: blocks up to "
            f"{MAX_BLOCK_BYTES} bytes of data, headers up to {MAX_HEADER_BYTES} bytes.",
            [SPEC + "repository#car-file-serialization", SPEC + "repository#cid-formats",
             SPEC + "repository#security-considerations", SPEC + "data-model"],
            reviews=REVIEWS)

    def valid(self, slug, roots, blocks, requirements, comment, data=None):
        """A valid file; `data` overrides the bytes written from roots and blocks."""
        data = car(roots, blocks) if data is None else data
        reqs = list(WELL_FORMED)
        for r in requirements:
            if r not in reqs:
                reqs.append(r)
        self.add_case({
            "id": f"car.read.valid.{slug}", "requirements": reqs, "car_hex": data.hex(),
            "valid": True,
            "roots": [cid_string(r.cid if isinstance(r, Block) else r) for r in roots],
            "blocks": [cid_string(b.cid) for b in blocks],
            "comment": comment})

    def invalid(self, slug, data, error, comment, requirements=(), alt=()):
        """An invalid file. `alt`: codes a reader checking the rules in another order
        may equally report (they are also listed as requirements)."""
        reqs = []
        for r in [error, *alt, *requirements]:
            if r not in reqs:
                reqs.append(r)
        case = {"id": f"car.read.invalid.{slug}", "requirements": reqs, "car_hex": data.hex(),
                "valid": False, "error": error}
        if alt:
            case["alternate_errors"] = list(alt)
        case["comment"] = comment
        self.add_case(case)


F = ReadFile()

# ---- valid files
F.valid("one-root-several-blocks", [COMMIT], REPO, [],
        "A repository-shaped export: the commit first, then an MST node and two records.")
F.valid("single-block", [EMPTY_MAP], [EMPTY_MAP], [],
        "The smallest useful file: one root, one block, the empty map (a0).")
F.valid("root-block-last", [COMMIT], [POST, LIKE, MST_NODE, COMMIT], [B_ORDER],
        "Blocks in any order: the commit comes last.")
F.valid("blocks-reverse-order", [COMMIT], list(reversed(REPO)), [B_ORDER],
        "The same blocks as one-root-several-blocks, in reverse order.")
F.valid("duplicate-block-adjacent", [COMMIT], [COMMIT, POST, POST, MST_NODE, LIKE], [B_DUP],
        "A record block written twice in a row; both copies are read, in file order.")
F.valid("duplicate-root-block", [COMMIT], [COMMIT, MST_NODE, COMMIT, POST, LIKE, COMMIT],
        [B_DUP, B_ORDER], "The commit block three times, spread through the file.")
F.valid("raw-blocks", [COMMIT], REPO + [IMAGE], [],
        "A raw-codec block (0x55, blob bytes) next to dag-cbor blocks.")
F.valid("root-is-raw-block", [IMAGE], [IMAGE], [],
        "The first root names a raw block. The CAR reader does not look inside blocks, so "
        "whether a root is a real commit is the repository layer's question.")
F.valid("empty-raw-block", [COMMIT], [COMMIT, EMPTY_RAW], [],
        "A raw block with no data at all (an empty blob): the frame is exactly the 36-byte CID.")
F.valid("empty-raw-block-root", [EMPTY_RAW], [EMPTY_RAW], [],
        "The only block is empty and is the root; its frame length is 36.")
F.valid("multiple-roots", [COMMIT, POST], REPO, [],
        "Two roots, both present. The first is the commit; later roots have no defined "
        "meaning in atproto but are allowed by CARv1.")
F.valid("multiple-roots-later-absent", [COMMIT, IMAGE], REPO, [],
        "Two roots, the second not among the blocks: only the first root (the commit) has "
        "to be present.")
F.valid("same-root-twice", [COMMIT, COMMIT], REPO, [],
        "The commit listed twice as a root.")
F.valid("two-byte-frame-length", [LONG_TEXT], [LONG_TEXT], [],
        f"A block frame of {len(LONG_TEXT.frame()) - 2} bytes, so its length varint takes two "
        "bytes.")
F.valid("unreferenced-blocks", [EMPTY_MAP], [IMAGE, EMPTY_MAP, POST], [B_ORDER],
        "Blocks that nothing links to are still read; ignoring them is the importer's job.")

# ---- header framing
F.invalid("empty-input", b"", H_FRAME, "No bytes at all: there is no header length.")
F.invalid("header-length-zero", b"\x00" + GOOD[1:], H_FRAME,
          "A header length of zero.")
F.invalid("header-length-zero-alone", b"\x00", H_FRAME, "The single byte 00.")
F.invalid("truncated-header-varint", b"\xba", H_FRAME,
          "The input ends inside the header length varint (continuation bit set).")
F.invalid("header-length-non-minimal", b"\xba\x00" + GOOD[1:], H_FRAME,
          "The header length 58 written in two bytes (ba 00): varints must be minimal.",
          alt=["data.varint.minimal"])
hlen = GOOD[0]
assert hlen < 0x80
F.invalid("truncated-inside-header", GOOD[:hlen // 2], H_FRAME,
          "The file ends halfway through the header.")
F.invalid("truncated-header-last-byte", GOOD[:hlen], H_FRAME,
          "The file ends one byte before the end of the header.")
F.invalid("header-length-past-end", bytes([hlen + 1]) + GOOD[1:hlen + 1], H_FRAME,
          "The header length claims one byte more than the file holds.")

# ---- header content
F.invalid("header-not-a-map-array", frame(cbor([Link(COMMIT.cid)])) + COMMIT.frame(), H_MAP,
          "The header is an array of roots, not a map.")
F.invalid("header-not-a-map-integer", frame(cbor(1)) + COMMIT.frame(), H_MAP,
          "The header is the integer 1.")
F.invalid("header-not-a-map-null", frame(cbor(None)) + COMMIT.frame(), H_MAP,
          "The header is null.")
F.invalid("header-not-a-map-string", frame(cbor("roots")) + COMMIT.frame(), H_MAP,
          "The header is a text string.")

ROOT_LINKS = [Link(COMMIT.cid)]
F.invalid("version-0", frame(cbor({"roots": ROOT_LINKS, "version": 0})) + COMMIT.frame(),
          H_VERSION, "Version 0.")
F.invalid("version-2", frame(cbor({"roots": ROOT_LINKS, "version": 2})) + COMMIT.frame(),
          H_VERSION, "Version 2 with CARv1 roots: only CARv1 is read.")
F.invalid("version-string", frame(cbor({"roots": ROOT_LINKS, "version": "1"})) + COMMIT.frame(),
          H_VERSION, "The version is the text \"1\", not the integer 1.")
F.invalid("version-negative", frame(cbor({"roots": ROOT_LINKS, "version": -1})) + COMMIT.frame(),
          H_VERSION, "Version -1.")
F.invalid("version-true", frame(cbor({"roots": ROOT_LINKS, "version": True})) + COMMIT.frame(),
          H_VERSION, "The version is the boolean true.")
F.invalid("version-missing", frame(cbor({"roots": ROOT_LINKS})) + COMMIT.frame(), H_VERSION,
          "A header with roots and no version.")
F.invalid("carv2-pragma", frame(cbor({"version": 2})) + COMMIT.frame(), H_VERSION,
          "The CARv2 pragma {\"version\": 2}: CARv2 files are not CARv1.")
F.invalid("header-empty-map", frame(cbor({})) + COMMIT.frame(), H_VERSION,
          "The header is the empty map: no version (and no roots).", alt=[H_ROOTS])

F.invalid("roots-missing", frame(cbor({"version": 1})) + COMMIT.frame(), H_ROOTS,
          "A header with a version and no roots.")
F.invalid("roots-null", frame(cbor({"roots": None, "version": 1})) + COMMIT.frame(), H_ROOTS,
          "roots is null.")
F.invalid("roots-not-array-link",
          frame(cbor({"roots": Link(COMMIT.cid), "version": 1})) + COMMIT.frame(), H_ROOTS,
          "roots is a single cid-link, not an array of them.")
F.invalid("roots-not-array-map", frame(cbor({"roots": {}, "version": 1})) + COMMIT.frame(),
          H_ROOTS, "roots is a map.")
F.invalid("roots-cid-string",
          frame(cbor({"roots": [cid_string(COMMIT.cid)], "version": 1})) + COMMIT.frame(),
          H_ROOTS, "The root is the CID as a text string, not a cid-link (tag 42).")
F.invalid("roots-cid-bytes",
          frame(cbor({"roots": [b"\x00" + COMMIT.cid], "version": 1})) + COMMIT.frame(),
          H_ROOTS, "The root is the tag-42 content as a plain byte string, without the tag.")
F.invalid("roots-link-then-null",
          frame(cbor({"roots": [Link(COMMIT.cid), None], "version": 1})) + COMMIT.frame(),
          H_ROOTS, "A good root followed by null.")
F.invalid("roots-nested-array",
          frame(cbor({"roots": [[Link(COMMIT.cid)]], "version": 1})) + COMMIT.frame(), H_ROOTS,
          "The root list holds an array holding the link.")
F.invalid("roots-empty", frame(cbor({"roots": [], "version": 1})) + COMMIT.frame(), H_NONEMPTY,
          "Zero roots: an atproto CAR names its commit as the first root.", [H_ROOTS])
F.invalid("header-extra-key",
          frame(cbor({"roots": ROOT_LINKS, "version": 1, "extra": 1})) + COMMIT.frame(), H_KEYS,
          "A third header key.")
F.invalid("header-extra-key-sorted-last",
          frame(cbor({"roots": ROOT_LINKS, "version": 1, "zzzzzzzz": {}})) + COMMIT.frame(),
          H_KEYS, "A third header key sorted after version.")

# Header CBOR that is not strict DRISL-CBOR: the data layer's code passes through.
ROOTS_ITEM = cbor("roots") + cbor(ROOT_LINKS)
VERSION_ITEM = cbor("version") + cbor(1)
F.invalid("header-keys-unsorted", frame(b"\xa2" + VERSION_ITEM + ROOTS_ITEM) + COMMIT.frame(),
          "data.cbor.map-key-order",
          "Header keys in the wrong order (version before roots): the header must be "
          "canonical DRISL-CBOR.", [H_MAP])
F.invalid("header-indefinite-map",
          frame(b"\xbf" + ROOTS_ITEM + VERSION_ITEM + b"\xff") + COMMIT.frame(),
          "data.cbor.indefinite-length", "The header map has an indefinite length.", [H_MAP])
F.invalid("header-version-non-minimal",
          frame(b"\xa2" + ROOTS_ITEM + cbor("version") + b"\x18\x01") + COMMIT.frame(),
          "data.cbor.int-shortest", "The version 1 written as 18 01.", [H_VERSION])
F.invalid("header-trailing-bytes",
          frame(cbor({"roots": ROOT_LINKS, "version": 1}) + b"\x00") + COMMIT.frame(),
          "data.cbor.trailing-bytes",
          "The header frame holds the header map and one more byte.", [H_FRAME])
F.invalid("header-truncated-cbor", frame(cbor({"roots": ROOT_LINKS, "version": 1})[:-1]),
          "data.cbor.truncated",
          "The header frame is one byte shorter than the map it holds; the next byte (here "
          "none) is not part of the header.", [H_FRAME])
F.invalid("header-duplicate-key",
          frame(b"\xa3" + ROOTS_ITEM + ROOTS_ITEM + VERSION_ITEM) + COMMIT.frame(),
          "data.cbor.map-key-unique", "The roots key twice.", [H_ROOTS])
F.invalid("header-root-cid-dag-pb",
          frame(cbor({"roots": [Link(b"\x01\x70\x12\x20" + COMMIT.cid[4:])], "version": 1}))
          + COMMIT.frame(),
          "data.cid.codec", "The root link uses the dag-pb codec (0x70), which is not blessed.",
          [H_ROOTS])
F.invalid("header-root-cidv0",
          frame(b"\xa2" + cbor("roots") + b"\x81\xd8\x2a\x58\x23\x00\x12\x20"
                + COMMIT.cid[4:] + VERSION_ITEM) + COMMIT.frame(),
          "data.cid.version", "The root link is a CIDv0 (bare sha-256 multihash).", [H_ROOTS])

# ---- block framing
F.invalid("truncated-block-varint", GOOD + b"\x80", B_FRAME,
          "A good file followed by one byte of an unfinished frame length varint.")
F.invalid("block-length-zero", GOOD + b"\x00", B_FRAME,
          "A good file followed by a zero-length block frame.")
F.invalid("block-length-zero-first", header([COMMIT]) + b"\x00" + COMMIT.frame(), B_FRAME,
          "A zero-length frame before the commit block.")
F.invalid("block-length-non-minimal",
          header([EMPTY_MAP]) + b"\xa5\x00" + EMPTY_MAP.cid + EMPTY_MAP.data, B_FRAME,
          "The block frame length 37 written in two bytes (a5 00).", alt=["data.varint.minimal"])
# The truncated cases keep the commit block whole, so that only the framing
# rule decides them (not the commit-included one).
first = header([COMMIT]) + COMMIT.frame()
post_frame = POST.frame()
post_varint = len(varint(len(POST.cid) + len(POST.data)))
F.invalid("truncated-inside-cid", first + post_frame[:post_varint + 10], B_FRAME,
          "The file ends 10 bytes into the second block's CID.")
F.invalid("truncated-inside-data", first + post_frame[:post_varint + 36 + 5], B_FRAME,
          "The file ends 5 bytes into the second block's data.")
F.invalid("truncated-last-byte", GOOD[:-1], B_FRAME,
          "The file ends one byte before the end of its last block.")
F.invalid("trailing-byte", GOOD + b"\x01", B_FRAME,
          "One stray byte after the last block: read as a frame of length 1 with nothing "
          "after it.")
F.invalid("frame-length-one-past-end",
          header([EMPTY_MAP]) + varint(len(EMPTY_MAP.cid) + 2) + EMPTY_MAP.cid + EMPTY_MAP.data,
          B_FRAME, "A frame length one byte longer than what follows.")

# ---- block CIDs
DIGEST = hashlib.sha256(b"\xa0").digest()
# After the root block, so that only the CID rule decides these cases.
body = header([EMPTY_MAP]) + EMPTY_MAP.frame()
F.invalid("block-cidv0", body + frame(b"\x12\x20" + DIGEST + b"\xa0"), B_CID,
          "The block is named by a CIDv0 (a bare sha-256 multihash), whose digest does match.")
F.invalid("block-cid-version-2", body + frame(b"\x02\x71\x12\x20" + DIGEST + b"\xa0"), B_CID,
          "CID version 2.")
F.invalid("block-cid-version-0-prefix", body + frame(b"\x00\x71\x12\x20" + DIGEST + b"\xa0"),
          B_CID, "A CID starting with version 0 in the CIDv1 layout.")
F.invalid("block-cid-sha512",
          body + frame(b"\x01\x71\x13\x40" + hashlib.sha512(b"\xa0").digest() + b"\xa0"), B_CID,
          "The block is hashed with sha-512 (multihash 0x13), digest correct.")
F.invalid("block-cid-sha256-short-digest", body + frame(b"\x01\x71\x12\x10" + DIGEST[:16]
                                                        + b"\xa0"), B_CID,
          "sha-256 with a 16-byte digest length.")
F.invalid("block-cid-identity-hash", body + frame(b"\x01\x71\x00\x01\xa0\xa0"), B_CID,
          "The identity multihash (0x00) over the one-byte block.")
F.invalid("block-cid-dag-pb", body + frame(b"\x01\x70\x12\x20" + DIGEST + b"\xa0"), B_CID,
          "The dag-pb codec (0x70).")
F.invalid("block-cid-dag-json", body + frame(b"\x01\xa9\x02\x12\x20" + DIGEST + b"\xa0"), B_CID,
          "The dag-json codec (0x0129).")
F.invalid("block-cid-non-minimal-codec",
          body + frame(b"\x01\xf1\x00\x12\x20" + DIGEST + b"\xa0"), B_CID,
          "The dag-cbor codec written as the two-byte varint f1 00.", alt=["data.varint.minimal"])
F.invalid("frame-shorter-than-cid", body + frame(EMPTY_MAP.cid[:20]), B_CID,
          "A 20-byte frame: the CID inside it is cut short.", [B_FRAME])
F.invalid("frame-only-cid-version", body + frame(b"\x01"), B_CID,
          "A one-byte frame holding only the CID version.", [B_FRAME])

# ---- hashes
changed = bytearray(GOOD)
changed[-1] ^= 0x01
F.invalid("hash-mismatch-data-changed", bytes(changed), B_MATCH,
          "The last byte of the last block's data changed.")
like_varint = len(varint(len(LIKE.cid) + len(LIKE.data)))
at = len(GOOD) - len(LIKE.frame()) + like_varint + 4 + 7
changed = bytearray(GOOD)
changed[at] ^= 0x80
F.invalid("hash-mismatch-digest-changed", bytes(changed), B_MATCH,
          "One bit of the last block's CID digest flipped.")
F.invalid("hash-mismatch-extra-data",
          header([EMPTY_MAP]) + frame(EMPTY_MAP.cid + b"\xa0\xa0"), B_MATCH,
          "The empty-map CID over two bytes a0 a0.")
F.invalid("hash-mismatch-raw",
          header([IMAGE]) + frame(IMAGE.cid + IMAGE.data[:-1]), B_MATCH,
          "A raw block with its last byte missing.")
F.invalid("hash-mismatch-after-good-blocks",
          header([COMMIT]) + COMMIT.frame() + MST_NODE.frame() + frame(POST.cid + LIKE.data),
          B_MATCH, "The third block carries the like's bytes under the post's CID.")
F.invalid("hash-mismatch-empty-data", header([EMPTY_MAP]) + frame(EMPTY_MAP.cid), B_MATCH,
          "The empty-map CID with no data: only the empty raw block hashes to nothing.")

# ---- the first root
F.invalid("root-block-missing", car([COMMIT], [MST_NODE, POST, LIKE]), R_COMMIT,
          "Everything but the commit named as the root.")
F.invalid("header-only", header([COMMIT]), R_COMMIT,
          "A well-formed header and no blocks at all.")
F.invalid("first-root-missing-second-present", car([IMAGE, COMMIT], REPO), R_COMMIT,
          "Two roots: the second is present, the first (the commit) is not.")
F.invalid("root-present-under-other-codec", car([Block(RAW, COMMIT.data)], [COMMIT]), R_COMMIT,
          "The root is the raw-codec CID of the commit's bytes, the block is stored under its "
          "dag-cbor CID: same digest, different CID.")

# ---- limits
F.invalid("block-length-over-limit",
          header([EMPTY_MAP]) + EMPTY_MAP.frame() + varint(36 + MAX_BLOCK_BYTES + 1)
          + EMPTY_MAP.cid, L_BLOCK,
          f"A frame length announcing {MAX_BLOCK_BYTES + 1} bytes of block data after the CID, "
          "one over the default limit; the reader refuses it from the length alone, before "
          "reading (here: without) the bytes. A reader without this limit reports the frame as "
          "truncated.", alt=[B_FRAME])
F.invalid("block-length-huge",
          header([EMPTY_MAP]) + EMPTY_MAP.frame() + varint(1 << 40) + EMPTY_MAP.frame(), L_BLOCK,
          "A frame length of 2^40 bytes.", alt=[B_FRAME])
F.invalid("header-length-over-limit", varint(MAX_HEADER_BYTES + 1) + GOOD[1:], L_HEADER,
          f"A header length of {MAX_HEADER_BYTES + 1} bytes, one over the default limit; refused "
          "before reading. A reader without this limit reports the header as truncated.",
          alt=[H_FRAME])
F.invalid("header-length-huge", varint(1 << 62) + GOOD[1:], L_HEADER,
          "A header length of 2^62 bytes.", alt=[H_FRAME])


def main():
    return vectorgen.write_or_check([F], OUT_DIR, "gen-car-vectors.py")


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Writes vectors/repo/*.json, the shared test vectors for repositories.

key-depth.json  MST keys and their depth (leading zero bits of SHA-256, halved)
root.json       sets of key/record-CID pairs and the root CID of their MST
                (the empty tree included), plus sets no MST can hold
proof.json      commit proofs: a tree, then creates and deletes; the roots
                before and after, and the MST nodes a commit diff must carry
                to invert the operations (sync 1.1)

Everything is computed here with this script's own SHA-256 depth rule, MST
builder, DRISL-CBOR writer and CID code (Python stdlib only), independently
of the C++ reference, which checks the files in reference/repo/vectors_test.cpp.
Case ids are stable: never rename or reuse one, add new cases instead.

Usage: tools/gen-repo-vectors.py            (rewrites vectors/repo/)
       tools/gen-repo-vectors.py --check    (exit 1 if the files are stale)
"""

import base64
import hashlib
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vectorgen  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "vectors", "repo")
SPEC = "https://atproto.com/specs/"

DAG_CBOR = 0x71

# --------------------------------------------------------------------------
# CIDs and canonical CBOR (only what MST nodes need), written for this script.


class Link:
    """A CID link: the binary CID."""

    def __init__(self, binary):
        self.binary = binary

    def __str__(self):
        return "b" + base64.b32encode(self.binary).decode().rstrip("=").lower()

    def __eq__(self, other):
        return isinstance(other, Link) and self.binary == other.binary

    def __hash__(self):
        return hash(self.binary)


def cid_for(data, codec=DAG_CBOR):
    return Link(bytes([1, codec, 0x12, 32]) + hashlib.sha256(data).digest())


def parse_cid(text):
    assert text[0] == "b"
    pad = "=" * (-len(text[1:]) % 8)
    return Link(base64.b32decode(text[1:].upper() + pad))


def head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * size):
            return bytes([major << 5 | info]) + n.to_bytes(size, "big")
    raise ValueError(n)


def cbor(v):
    if v is None:
        return b"\xf6"
    if isinstance(v, bool):
        return b"\xf5" if v else b"\xf4"
    if isinstance(v, int):
        return head(0, v) if v >= 0 else head(1, -1 - v)
    if isinstance(v, bytes):
        return head(2, len(v)) + v
    if isinstance(v, str):
        b = v.encode()
        return head(3, len(b)) + b
    if isinstance(v, Link):
        # tag 42 over a byte string: 0x00 then the binary CID
        return b"\xd8\x2a" + head(2, len(v.binary) + 1) + b"\x00" + v.binary
    if isinstance(v, list):
        return head(4, len(v)) + b"".join(cbor(x) for x in v)
    if isinstance(v, dict):
        keys = sorted(v, key=lambda k: (len(k.encode()), k.encode()))
        return head(5, len(v)) + b"".join(cbor(k) + cbor(v[k]) for k in keys)
    raise TypeError(v)


# --------------------------------------------------------------------------
# The MST, from https://atproto.com/specs/repository#mst-structure


def depth(key):
    """Leading zero bits of SHA-256(key), counted in pairs."""
    digest = hashlib.sha256(key.encode()).digest()
    zeros = 0
    for byte in digest:
        if byte == 0:
            zeros += 8
            continue
        zeros += 8 - byte.bit_length()
        break
    return zeros // 2


class Node:
    """An MST node: `left` subtree, then (key, value, right subtree) entries."""

    def __init__(self):
        self.left = None
        self.entries = []  # [key, value, right]

    def encode(self):
        entries = []
        prev = b""
        for key, value, right in self.entries:
            k = key.encode()
            p = 0
            while p < len(prev) and p < len(k) and prev[p] == k[p]:
                p += 1
            entries.append({"p": p, "k": k[p:], "v": value,
                            "t": right.cid() if right else None})
            prev = k
        return cbor({"l": self.left.cid() if self.left else None, "e": entries})

    def cid(self):
        return cid_for(self.encode())

    def gaps(self):
        """The subtree links, left to right (None where there is none)."""
        return [self.left] + [e[2] for e in self.entries]


def build(items, layer):
    """The subtree at `layer` for sorted (key, value) items; None if empty."""
    if not items:
        return None
    node = Node()
    run = []
    for key, value in items:
        if depth(key) == layer:
            sub = build(run, layer - 1)
            if node.entries:
                node.entries[-1][2] = sub
            else:
                node.left = sub
            node.entries.append([key, value, None])
            run = []
        else:
            run.append((key, value))
    sub = build(run, layer - 1)
    if node.entries:
        node.entries[-1][2] = sub
    else:
        node.left = sub
    return node


def tree(mapping):
    """The root node of the MST holding `mapping` (key -> Link)."""
    items = sorted(mapping.items())
    if not items:
        return Node()  # the empty tree: one node, no entries
    return build(items, max(depth(k) for k, _ in items))


def covering(root, key):
    """The nodes an operation on `key` touches: the search path from the
    root to where the key is or would go and, when the key is present, the
    right edge of the subtree before it and the left edge of the subtree
    after it (which removing the key merges)."""
    out = []
    node = root
    while node is not None:
        out.append(node)
        keys = [e[0] for e in node.entries]
        i = 0
        while i < len(keys) and keys[i] < key:
            i += 1
        if i < len(keys) and keys[i] == key:
            before = node.gaps()[i]
            while before is not None:
                out.append(before)
                before = before.gaps()[-1]
            after = node.entries[i][2]
            while after is not None:
                out.append(after)
                after = after.left
            break
        node = node.gaps()[i]
    return out


# --------------------------------------------------------------------------
# Files

VALID_COLLECTIONS = ["app.bsky.feed.post", "app.bsky.feed.like", "com.example.record"]


class VectorFile:
    def __init__(self, name, operation, description, spec):
        self.name = name
        self.operation = operation
        self.description = description
        self.spec = spec
        self.cases = []
        self.ids = set()

    def add(self, case):
        if case["id"] in self.ids:
            raise SystemExit(f"duplicate id {case['id']}")
        self.ids.add(case["id"])
        self.cases.append(case)

    def document(self):
        return {
            "$schema": "../schema/repo.schema.json",
            "kind": "repo",
            "operation": self.operation,
            "description": self.description,
            "spec": self.spec,
            "cases": self.cases,
        }


def value_cid(n):
    """A record CID standing for the n-th record: dag-cbor CID of {"n": n}."""
    return cid_for(cbor({"n": n}))


def key_depth_file():
    f = VectorFile("key-depth", "key-depth",
                   "MST key depth: the leading zero bits of SHA-256 of the key bytes, halved and "
                   "rounded down. Depth is defined for any byte string; most keys here are repo "
                   "paths.", [SPEC + "repository#mst-structure"])
    req = ["repo.mst.key-depth"]
    spec_examples = [("2653ae71", "the spec's example of depth 0"),
                     ("blue", "the spec's example of depth 1"),
                     ("app.bsky.feed.post/454397e440ec", "the spec's example of depth 4"),
                     ("app.bsky.feed.post/9adeb165882c", "the spec's example of depth 8")]
    for i, (key, comment) in enumerate(spec_examples):
        f.add({"id": f"repo.key-depth.spec-{i + 1}", "requirements": req, "input": key,
               "valid": True, "depth": depth(key), "comment": comment})
    # The first keys found for each depth among com.example.record/k<n>.
    found = {}
    n = 0
    while len(found) < 7:
        key = f"com.example.record/k{n}"
        found.setdefault(depth(key), key)
        n += 1
        if n > 2_000_000:
            break
    for d in sorted(found):
        f.add({"id": f"repo.key-depth.depth-{d}", "requirements": req, "input": found[d],
               "valid": True, "depth": d,
               "comment": f"the first com.example.record/k<n> key of depth {d}"})
    rng = random.Random(6)
    for i in range(24):
        key = f"{rng.choice(VALID_COLLECTIONS)}/{rng.getrandbits(48):012x}"
        f.add({"id": f"repo.key-depth.random-{i + 1}", "requirements": req, "input": key,
               "valid": True, "depth": depth(key), "comment": "a pseudo-random path"})
    return f


def entries_json(mapping):
    return [{"key": k, "cid": str(v)} for k, v in sorted(mapping.items())]


def root_file():
    f = VectorFile("root", "root",
                   "MST root CIDs: the tree holding exactly the given key/record-CID pairs, in "
                   "canonical node encoding. Entries are listed sorted, but the root does not "
                   "depend on any order. Invalid cases name a key that is not a repo path or a "
                   "key given twice.",
                   [SPEC + "repository#mst-structure", SPEC + "repository#repository-paths"])
    base = ["repo.mst.key-depth", "repo.mst.node-schema", "repo.mst.prefix-compression",
            "repo.mst.key-order", "repo.mst.node-cid", "repo.mst.deterministic"]

    def valid(slug, mapping, comment, extra=()):
        f.add({"id": f"repo.root.valid.{slug}", "requirements": base + list(extra),
               "entries": entries_json(mapping), "valid": True,
               "root": str(tree(mapping).cid()), "comment": comment})

    leaf = parse_cid("bafyreie5cvv4h45feadgeuwhbcutmh6t2ceseocckahdoe6uat64zmz454")
    valid("empty", {}, "the empty tree is one node with no entries", ["repo.mst.empty-nodes"])
    valid("trivial", {"com.example.record/3jqfcqzm3fo2j": leaf}, "one key of depth 0")
    valid("single-layer-2", {"com.example.record/3jqfcqzm3fx2j": leaf},
          "one key of depth 2: a single node, no empty nodes above or below it",
          ["repo.mst.empty-nodes"])
    valid("simple", {k: leaf for k in [
        "com.example.record/3jqfcqzm3fp2j", "com.example.record/3jqfcqzm3fr2j",
        "com.example.record/3jqfcqzm3fs2j", "com.example.record/3jqfcqzm3ft2j",
        "com.example.record/3jqfcqzm4fc2j"]}, "five keys, two layers")
    # Empty intermediate nodes: a depth-2 key and depth-0 keys only.
    d0 = [k for k in (f"com.example.record/k{n}" for n in range(400)) if depth(k) == 0][:6]
    d2 = [k for k in (f"com.example.record/k{n}" for n in range(400)) if depth(k) == 2][:1]
    valid("empty-intermediate", {k: value_cid(i) for i, k in enumerate(d0 + d2)},
          "depth-0 keys around one depth-2 key: the layer-1 nodes between them hold no "
          "entries and only link down, and are part of the tree", ["repo.mst.empty-nodes"])
    rng = random.Random(11)
    for size in (2, 10, 50, 200, 1000):
        mapping = {}
        while len(mapping) < size:
            mapping[f"{rng.choice(VALID_COLLECTIONS)}/{rng.getrandbits(40):010x}"] = \
                value_cid(len(mapping))
        valid(f"random-{size}", mapping, f"{size} pseudo-random paths in three collections")
    tids = {}
    t = 0x1234567890
    for i in range(100):
        t += rng.randint(1, 5000)
        key = "app.bsky.feed.post/" + tid(t << 10)
        tids[key] = value_cid(i)
    valid("tid-keys-100", tids, "100 keys with increasing TID record keys (appends)")

    def invalid(slug, entries, error, comment):
        f.add({"id": f"repo.root.invalid.{slug}", "requirements": [error], "entries": entries,
               "valid": False, "error": error, "comment": comment})

    c = str(leaf)
    invalid("no-slash", [{"key": "com.example.record", "cid": c}], "repo.path.syntax",
            "a key without a record key segment")
    invalid("three-segments", [{"key": "com.example.record/a/b", "cid": c}], "repo.path.syntax",
            "a key with two slashes")
    invalid("leading-slash", [{"key": "/com.example.record/a", "cid": c}], "repo.path.syntax",
            "a key with a leading slash")
    invalid("empty-key", [{"key": "", "cid": c}], "repo.path.syntax", "the empty key")
    invalid("not-nsid", [{"key": "record/abc", "cid": c}], "repo.path.collection",
            "the collection is not an NSID")
    invalid("dot-dot", [{"key": "com.example.record/..", "cid": c}], "repo.path.record-key",
            "'..' is not a record key")
    invalid("space", [{"key": "com.example.record/a b", "cid": c}], "repo.path.record-key",
            "a space in the record key")
    invalid("duplicate", [{"key": "com.example.record/a", "cid": c},
                          {"key": "com.example.record/a", "cid": str(value_cid(1))}],
            "repo.mst.key-unique", "the same key twice")
    return f


S32 = "234567abcdefghijklmnopqrstuvwxyz"


def tid(n):
    return "".join(S32[(n >> (60 - 5 * i)) & 31] for i in range(13))


def proof_file():
    f = VectorFile("proof", "proof",
                   "Commit proofs (sync 1.1): a tree holding `keys` (each mapped to "
                   "`leafValue`), then `adds` created and `dels` deleted. Expected: the root "
                   "before and after, and `blocksInProof`, the MST nodes of the new tree that "
                   "a commit diff carries so its operations can be inverted: for each changed "
                   "key, the path from the root to where it is or would be, plus, for a present "
                   "key, the inner edges of the subtrees on both sides of it. An implementation "
                   "may carry more; inverting with exactly these nodes must give the root "
                   "before.",
                   [SPEC + "repository#repository-diffs",
                    SPEC + "sync#reliable-repository-synchronization"])
    req = ["repo.diff.inversion-blocks", "repo.diff.inversion"]
    leaf = parse_cid("bafyreie5cvv4h45feadgeuwhbcutmh6t2ceseocckahdoe6uat64zmz454")
    rng = random.Random(23)
    pool = [f"com.example.record/k{n}" for n in range(3000)]
    by_depth = {}
    for k in pool:
        by_depth.setdefault(depth(k), []).append(k)

    def case(slug, keys, adds, dels, comment):
        before = {k: leaf for k in keys}
        after = dict(before)
        for k in adds:
            after[k] = leaf
        for k in dels:
            del after[k]
        root_after = tree(after)
        blocks = []
        for k in adds + dels:
            for node in covering(root_after, k):
                c = str(node.cid())
                if c not in blocks:
                    blocks.append(c)
        f.add({"id": f"repo.proof.{slug}", "requirements": req, "keys": sorted(keys),
               "leafValue": str(leaf), "adds": adds, "dels": dels, "valid": True,
               "rootBeforeCommit": str(tree(before).cid()),
               "rootAfterCommit": str(root_after.cid()), "blocksInProof": blocks,
               "comment": comment})

    d0, d1, d2 = by_depth[0], by_depth[1], by_depth[2]
    case("add-to-empty", [], [d0[0]], [], "the first record of an empty repository")
    case("delete-last", [d1[0]], [], [d1[0]], "deleting the only record")
    case("add-leaf", d0[:5], [d0[5]], [], "a depth-0 key into a one-node tree")
    case("add-above-root", d0[:8], [d2[0]], [],
         "a depth-2 key over a layer-0 tree: the tree splits around it, with an empty "
         "intermediate node on one side or both")
    case("delete-top", sorted(d0[:8] + [d2[0]]), [], [d2[0]],
         "deleting the only depth-2 key merges the subtrees on its two sides")
    case("add-and-delete", sorted(d0[:10] + d1[:3]), [d0[10], d1[3]], [d0[2], d1[1]],
         "two creates and two deletes in one commit")
    for i, size in enumerate((20, 60, 150, 400)):
        keys = rng.sample(pool, size)
        rest = [k for k in pool if k not in set(keys)]
        adds = rng.sample(rest, 1 + i)
        dels = rng.sample(keys, 1 + i)
        case(f"random-{size}", keys, adds, dels,
             f"{size} keys, then {len(adds)} creates and {len(dels)} deletes")
    return f


def main():
    files = [key_depth_file(), root_file(), proof_file()]
    return vectorgen.write_or_check(files, OUT_DIR, "gen-repo-vectors.py")


if __name__ == "__main__":
    sys.exit(main())

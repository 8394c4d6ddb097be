#!/usr/bin/python3
"""Writes vectors/repo/*.json, the shared test vectors for repositories.

key-depth.json  MST keys and their depth (leading zero bits of SHA-256, halved)
root.json       sets of key/record-CID pairs and the root CID of their MST
                (the empty tree included), plus sets no MST can hold
proof.json      commit proofs: a tree, then creates and deletes; the roots
                before and after, and the MST nodes a commit diff must carry
                to invert the operations (sync 1.1)
verify.json     whole signed repository CARs with the account DID and signing
                key: valid ones (with their rev, data and records) and ones
                with exactly one defect each, including defects the official
                implementation is known to accept

Everything is computed here with this script's own SHA-256 depth rule, MST
builder and CAR writer, and the generators' shared DRISL-CBOR, CID, did:key
and K-256 ECDSA code (tools/vectorgen.py; RFC 6979 deterministic nonces,
low-S, so the files are reproducible), all Python stdlib, independently of the
C++ reference, which checks the files in reference/repo/vectors_test.cpp.
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
from vectorgen import (K256, Link, cbor, cid_binary, cid_from_string, compact,  # noqa: E402
                       sign_digest, varint)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "vectors", "repo")
SPEC = "https://atproto.com/specs/"

DAG_CBOR = 0x71

# --------------------------------------------------------------------------
# CIDs (canonical CBOR and binary CIDs: tools/vectorgen.py).


def cid_for(data, codec=DAG_CBOR):
    return Link(cid_binary(codec, data))


def parse_cid(text):
    return Link(cid_from_string(text))


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


class VectorFile(vectorgen.VectorFile):
    def __init__(self, name, operation, description, spec):
        super().__init__("repo", name, operation, description, spec)

    def add(self, case):
        self.add_case(case)


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


# --------------------------------------------------------------------------
# Signed repositories and CAR files, for verify.json

DID = "did:plc:w4xbfzo7kqfes5zb7r6qv3rw"
REV = "3lbzyjqq2nk2a"


def signing_key(scalar):
    return scalar % K256.n


def did_key(key):
    """did:key of a K-256 private key's public key."""
    return vectorgen.did_key(K256, K256.mul(key, K256.g))


def sign(key, message):
    """Compact r||s over SHA-256(message), low-S, RFC 6979 nonce."""
    return compact(*sign_digest(K256, key, hashlib.sha256(message).digest()))


KEY = signing_key(0x5EED_0001_2345_6789_ABCD_EF01_2345_6789_ABCD_EF01_2345_6789_ABCD_EF01_2345_6789)
OTHER_KEY = signing_key(0x5EED_0002)


def record(collection, n):
    return cbor({"$type": collection, "text": f"record {n}", "n": n})


def car_file(roots, blocks):
    def framed(body):
        return varint(len(body)) + body
    out = framed(cbor({"roots": roots, "version": 1}))
    for cid, data in blocks:
        out += framed(cid.binary + data)
    return out


def streaming_blocks(node, records):
    """The node and everything under it in streaming order: the node, then
    its left subtree, then each entry's record followed by its subtree."""
    out = [(node.cid(), node.encode())]
    if node.left:
        out += streaming_blocks(node.left, records)
    for key, value, right in node.entries:
        if value in records:
            out.append((value, records[value]))
        if right:
            out += streaming_blocks(right, records)
    return out


class Export:
    """A repository export under construction: a tree root, record blocks,
    and the commit fields; build() signs and writes the CAR."""

    def __init__(self, root, records):
        self.root = root
        self.records = records  # Link -> bytes
        self.commit = {"did": DID, "version": 3, "data": None, "rev": REV, "prev": None}
        self.key = KEY
        self.drop = set()
        self.extra = []
        self.corrupt_sig = False
        self.reorder = None

    def build(self):
        commit = dict(self.commit)
        if commit.get("data", 0) is None:
            commit["data"] = self.root.cid()
        sig = sign(self.key, cbor(commit))
        if self.corrupt_sig:
            sig = sig[:10] + bytes([sig[10] ^ 1]) + sig[11:]
        commit["sig"] = sig
        commit_bytes = cbor(commit)
        commit_cid = cid_for(commit_bytes)
        blocks = [(commit_cid, commit_bytes)] + streaming_blocks(self.root, self.records)
        seen, unique = set(), []
        for c, d in blocks:
            if c not in seen and c not in self.drop:
                seen.add(c)
                unique.append((c, d))
        unique += self.extra
        if self.reorder:
            unique = self.reorder(unique)
        return commit_cid, car_file([commit_cid], unique)


def repo_of(paths):
    """Records for `paths` (values from their collection and index) and the tree."""
    records, mapping = {}, {}
    for i, path in enumerate(paths):
        data = record(path.split("/")[0] if "/" in path else "com.example.record", i)
        c = cid_for(data)
        records[c] = data
        mapping[path] = c
    return tree(mapping), records, mapping


def first_keys(d, count, start=0, prefix="com.example.record/k"):
    out = []
    n = start
    while len(out) < count:
        k = f"{prefix}{n}"
        if depth(k) == d:
            out.append(k)
        n += 1
    return out


def verify_file():
    f = VectorFile("verify", "verify",
                   "Whole repository CARs, verified as an untrusted import for the account "
                   "`did` with signing key `publicKey`: CAR framing and hashes, the commit's "
                   "fields, DID and signature, the complete MST structure (canonical node "
                   "encoding with full prefix compression, keys sorted, each key at its own "
                   "depth, subtrees within their key range, no empty leaf below the root, "
                   "no root that only links down), valid repo paths, and every record block "
                   "present. Each invalid case has exactly one defect and names the rule. "
                   "Cases with check 'block-order' ask only whether an otherwise valid CAR "
                   "follows the streaming block order.",
                   [SPEC + "repository#commit-objects", SPEC + "repository#mst-structure",
                    SPEC + "repository#car-file-serialization",
                    SPEC + "repository#streamable-car-block-ordering"])
    pub = did_key(KEY)
    base = ["repo.commit.fields", "repo.commit.signature", "repo.commit.did",
            "repo.mst.key-depth", "repo.mst.key-order", "repo.mst.node-schema",
            "car.export.complete"]

    def add(slug, export, valid, comment, error=None, requirements=None, check="verify",
            mapping=None):
        commit_cid, car = export.build()
        case = {"id": f"repo.verify.{'valid' if valid else 'invalid'}.{slug}",
                "requirements": requirements or ([error] if error else base),
                "car_base64": base64.b64encode(car).decode(), "did": DID, "publicKey": pub,
                "check": check, "valid": valid}
        if error:
            case["error"] = error
        if valid and check == "verify":
            case["rev"] = export.commit["rev"]
            case["data"] = str(export.root.cid())
            case["records"] = [{"path": k, "cid": str(v)} for k, v in sorted(mapping.items())]
        case["comment"] = comment
        f.add(case)

    small_paths = [f"app.bsky.feed.post/3lbz{n:09d}" for n in range(6)] + \
        [f"app.bsky.feed.like/3lbz{n:09d}" for n in range(5)]
    root, records, mapping = repo_of(small_paths)
    add("small", Export(root, records), True, "eleven records in two collections",
        mapping=mapping)
    empty_root, _, _ = repo_of([])
    add("empty", Export(empty_root, {}), True, "a repository with no records: one empty node",
        requirements=["repo.mst.empty-nodes", "repo.commit.signature"], mapping={})
    rng = random.Random(31)
    big_paths = sorted({f"{rng.choice(VALID_COLLECTIONS)}/{rng.getrandbits(50):013x}"
                        for _ in range(300)})
    big_root, big_records, big_mapping = repo_of(big_paths)
    add("records-300", Export(big_root, big_records), True,
        "300 records in three collections, several layers", mapping=big_mapping)
    d0 = first_keys(0, 6)
    d2 = first_keys(2, 1)
    mid_root, mid_records, mid_mapping = repo_of(sorted(d0 + d2))
    add("empty-intermediate-nodes", Export(mid_root, mid_records), True,
        "a depth-2 key among depth-0 keys: the layer-1 nodes between them hold no entries and "
        "only link down, which the spec requires", requirements=["repo.mst.empty-nodes"],
        mapping=mid_mapping)
    e = Export(root, records)
    junk = cbor({"unrelated": True})
    e.extra = [(cid_for(junk), junk)]
    add("unlinked-block", e, True, "an extra block nothing links to is ignored",
        requirements=["car.import.unlinked-blocks"], mapping=mapping)
    e = Export(root, records)
    e.reorder = lambda blocks: [blocks[0]] + list(reversed(blocks[1:]))
    add("any-order", e, True, "blocks after the commit in reverse order: readers accept any "
        "order", requirements=["car.block.any-order"], mapping=mapping)
    e = Export(root, records)
    e.reorder = lambda blocks: blocks + blocks[1:3]
    add("duplicate-blocks", e, True, "two blocks repeated at the end",
        requirements=["car.block.duplicates"], mapping=mapping)

    # Commit defects.
    e = Export(root, records)
    e.corrupt_sig = True
    add("bad-signature", e, False, "one bit of the signature flipped",
        error="repo.commit.signature")
    e = Export(root, records)
    e.key = OTHER_KEY
    add("wrong-key", e, False, "signed by a key other than the account's",
        error="repo.commit.signature")
    e = Export(root, records)
    e.commit["did"] = "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"
    add("wrong-did", e, False, "a correctly signed commit for another DID",
        error="repo.commit.did")
    e = Export(root, records)
    e.commit["version"] = 2
    add("version-2", e, False, "commit version 2", error="repo.commit.version")
    e = Export(root, records)
    del e.commit["prev"]
    add("prev-missing", e, False, "the prev field left out instead of null",
        error="repo.commit.fields")
    # The fields rule has more forms than a field left out.
    e = Export(root, records)
    e.commit["extra"] = "x"
    add("commit-extra-field", e, False, "a seventh, unknown field in a signed commit",
        error="repo.commit.fields")
    e = Export(root, records)
    e.commit["prev"] = "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"
    add("prev-string", e, False, "prev is a CID string, not a link or null",
        error="repo.commit.fields")
    e = Export(root, records)
    e.commit["rev"] = "2024-11-24"
    add("rev-not-tid", e, False, "a rev that is not a TID", error="repo.commit.rev")
    e = Export(root, records)
    e.reorder = lambda blocks: blocks[1:]
    add("commit-missing", e, False, "the first root's block is not in the file",
        error="car.roots.commit-included")

    # Missing blocks.
    e = Export(root, records)
    e.drop = {mapping[small_paths[3]]}
    add("missing-record", e, False, "one record block left out",
        error="car.export.complete")
    # The same defect at other positions: the first and the last record in
    # key order, in the other collection.
    e = Export(root, records)
    e.drop = {mapping[sorted(small_paths)[0]]}
    add("missing-record-first", e, False, "the record block of the first key left out",
        error="car.export.complete")
    e = Export(root, records)
    e.drop = {mapping[sorted(small_paths)[-1]]}
    add("missing-record-last", e, False, "the record block of the last key left out",
        error="car.export.complete")
    e = Export(big_root, big_records)
    e.drop = {big_root.gaps()[1].cid() if big_root.gaps()[1] else big_root.left.cid()}
    add("missing-node", e, False, "an MST node below the root left out",
        error="repo.mst.complete")
    e = Export(big_root, big_records)
    e.drop = {big_root.cid()}
    add("missing-root-node", e, False, "the MST root node (the commit's data) left out",
        error="repo.mst.complete")

    # Tree defects, each in an otherwise correct, correctly signed export.
    k1 = first_keys(1, 1)[0]
    below = [k for k in first_keys(0, 12) if k < k1][:2]
    above = [k for k in first_keys(0, 12) if k > k1][:2]
    base_records = {}
    base_map = {}
    for i, k in enumerate(below + [k1] + above):
        data = record("com.example.record", 100 + i)
        base_records[cid_for(data)] = data
        base_map[k] = cid_for(data)

    def node(entries, left=None):
        n = Node()
        n.left = left
        n.entries = [[k, base_map[k], r] for k, r in entries]
        return n

    def leaf(keys):
        return node([(k, None) for k in keys])

    good = node([(k1, leaf(above))], left=leaf(below))
    assert good.cid() == tree(base_map).cid()
    add("hand-built", Export(good, base_records), True,
        "the two-layer tree the defects below start from", mapping=base_map)

    swapped = leaf(below)
    swapped.entries.reverse()
    add("keys-out-of-order", Export(node([(k1, leaf(above))], left=swapped), base_records),
        False, "two keys of a leaf node in decreasing order", error="repo.mst.key-order")
    misplaced = node(sorted([(below[1], None), (k1, leaf(above))]), left=leaf(below[:1]))
    add("key-at-wrong-depth", Export(misplaced, base_records),
        False, "a depth-0 key stored in the depth-1 root node", error="repo.mst.key-depth")
    add("subtree-out-of-range", Export(node([(k1, leaf(below))], left=leaf(above)),
                                       base_records),
        False, "the subtree before the root key holds keys that sort after it, and the "
        "subtree after it keys that sort before it", error="repo.mst.subtree-range")
    skip = first_keys(2, 1)[0]
    skip_map = dict(base_map)
    data = record("com.example.record", 200)
    skip_records = dict(base_records)
    skip_records[cid_for(data)] = data
    skip_map[skip] = cid_for(data)
    lower = sorted(k for k in base_map if k < skip and depth(k) == 0)
    upper = sorted(k for k in base_map if k > skip and depth(k) == 0)
    n_skip = Node()
    n_skip.left = leaf(lower) if lower else None
    n_skip.entries = [[skip, skip_map[skip], leaf(upper) if upper else None]]
    add("subtree-skips-layer", Export(n_skip, skip_records), False,
        "a depth-2 root links straight to depth-0 leaves, skipping layer 1",
        error="repo.mst.key-depth")

    class Uncompressed(Node):
        def encode(self):
            entries = [{"p": 0, "k": k.encode(), "v": v, "t": r.cid() if r else None}
                       for k, v, r in self.entries]
            return cbor({"l": self.left.cid() if self.left else None, "e": entries})

    loose = Uncompressed()
    loose.entries = [[k, base_map[k], None] for k in above]
    add("prefix-not-minimal", Export(node([(k1, loose)], left=leaf(below)), base_records),
        False, "a leaf node whose second key is stored whole (p = 0) although it shares a "
        "prefix with the first", error="repo.mst.prefix-compression")
    add("empty-leaf-node", Export(node([(k1, Node())], left=leaf(below)), base_records),
        False, "an empty node (no entries, no links) below the root, in place of the "
        "keys after the root key", error="repo.mst.empty-nodes")
    top = Node()
    top.left = leaf(below)
    add("empty-root-node", Export(top, base_records), False,
        "a root node with no entries that only links down to the keys",
        error="repo.mst.empty-nodes")

    # Bad paths and records.
    for slug, path, error, comment in [
            ("path-without-collection", "k0", "repo.path.syntax",
             "a record at a path with no collection segment"),
            ("path-not-nsid", "records/k0", "repo.path.collection",
             "a record under a collection that is not an NSID")]:
        r, recs, m = repo_of([path])
        add(slug, Export(r, recs), False, comment, error=error)
    bad_data = cbor(42)
    r = tree({"com.example.record/k0": cid_for(bad_data)})
    add("record-not-map", Export(r, {cid_for(bad_data): bad_data}), False,
        "a record block that is the integer 42", error="data.model.record-object")

    # Block order.
    add("streaming-order", Export(big_root, big_records), True,
        "an export in the streaming order", requirements=["car.block.preferred-order"],
        check="block-order")
    e = Export(big_root, big_records)
    e.reorder = lambda blocks: [blocks[0], blocks[2], blocks[1]] + blocks[3:]
    add("order-swapped", e, False, "the root MST node and the block after it swapped",
        error="car.block.preferred-order", check="block-order")
    e = Export(big_root, big_records)
    e.reorder = lambda blocks: blocks[1:2] + blocks[:1] + blocks[2:]
    add("order-commit-not-first", e, False, "the commit is the second block",
        error="car.block.preferred-order", check="block-order")
    return f


def main():
    files = [key_depth_file(), root_file(), proof_file(), verify_file()]
    return vectorgen.write_or_check(files, OUT_DIR, "gen-repo-vectors.py")


if __name__ == "__main__":
    sys.exit(main())

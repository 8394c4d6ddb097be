#!/usr/bin/python3
"""Writes vectors/sync/*.json, the shared test vectors for firehose consumers.

firehose.json  sequences of subscribeRepos frames for one account, each case
               starting from the consumer's state for that account (identity,
               hosting status, last rev and tree root) and its clock, with the
               verdict a consumer following the validation checklist reaches
               for every frame: accept, drop, resync (mark the repository out
               of sync) or refresh-identity (resolve the DID again), and the
               requirement id of the rule that decided.

The verdicts are stated by construction: each event is a correct commit (or
#sync, #identity, #account) that the script then breaks in exactly one way,
so the expected rule is the one that defect breaks. Repositories, MSTs,
commits, CARs and signatures come from tools/gen-repo-vectors.py (its MST
builder, CAR writer and RFC 6979 K-256 ECDSA, and the shared DRISL-CBOR and CID
writer of tools/vectorgen.py),
loaded as a module, so the files are independent of the C++ reference, which
replays them in reference/sync/vectors_test.cpp.
Case ids are stable: never rename or reuse one, add new cases instead.

Usage: tools/gen-sync-vectors.py            (rewrites vectors/sync/)
       tools/gen-sync-vectors.py --check    (exit 1 if the files are stale)
"""

import datetime
import importlib.util
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vectorgen  # noqa: E402

_spec = importlib.util.spec_from_file_location(
    "gen_repo_vectors", os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                     "gen-repo-vectors.py"))
rv = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rv)
cbor, cid_for, tree, covering, Link = rv.cbor, rv.cid_for, rv.tree, rv.covering, rv.Link

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "vectors", "sync")
SPEC = "https://atproto.com/specs/"

HOST = "pds.example.com"
DID = rv.DID
OTHER_DID = "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"
KEY, OTHER_KEY = rv.KEY, rv.OTHER_KEY
# The consumer's clock: 2024-08-30T06:40:00Z, in UNIX microseconds.
NOW = 1_725_000_000_000_000
SKEW = 5 * 60 * 1_000_000  # the clock drift the checklist allows
SECOND = 1_000_000


def tid_at(micros):
    """The TID of a timestamp (clock id 0): the rev of a commit made then."""
    return rv.tid(micros << 10)


def iso(micros):
    t = datetime.datetime.fromtimestamp(micros // SECOND, datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + f".{micros % SECOND // 1000:03d}Z"


def frame(header, body):
    """A subscribeRepos frame: DRISL-CBOR header, then DRISL-CBOR body."""
    return cbor(header) + cbor(body)


# --------------------------------------------------------------------------
# An account's repository as its PDS evolves it, and the events it emits.


class Commit:
    """One commit and its #commit event, before encoding: every part can be
    edited to break it (the defect of a vector)."""

    def __init__(self, account, ops, blocks, commit, commit_cid, since, prev_data, seq, ts):
        self.account = account
        self.ops = ops              # [{"action", "path", "cid", "prev"?}]
        self.blocks = blocks        # [(Link, bytes)], the commit block first
        self.roots = [commit_cid]
        self.commit = commit        # the signed commit object
        self.cid = commit_cid
        self.body = {"seq": seq, "rebase": False, "tooBig": False, "repo": account.did,
                     "commit": commit_cid, "rev": commit["rev"], "since": since,
                     "ops": ops, "blobs": [], "time": iso(ts)}
        if prev_data is not None:
            self.body["prevData"] = prev_data
        self.raw_blocks = None      # bytes to send instead of the CAR

    def car(self):
        if self.raw_blocks is not None:
            return self.raw_blocks
        return rv.car_file(self.roots, self.blocks)

    def frame(self):
        body = dict(self.body)
        body["blocks"] = self.car()
        return frame({"op": 1, "t": "#commit"}, body)

    def summary(self, note=""):
        ops = ", ".join(f"{o['action']} {o['path']}" for o in self.body["ops"][:4])
        if len(self.body["ops"]) > 4:
            ops += f", ... ({len(self.body['ops'])} ops)"
        text = (f"#commit seq {self.body['seq']} of {self.body['repo']}: rev {self.body['rev']}, "
                f"since {self.body['since']}, ops [{ops}]")
        return text + (f"; {note}" if note else "")


class Account:
    """A repository: records by path, its tree, its last rev; commit()
    makes the next commit the way a PDS does and returns its event."""

    def __init__(self, did=DID, key=KEY, paths=3, start=NOW - 3600 * SECOND):
        self.did = did
        self.key = key
        self.records = {}   # path -> (Link, bytes)
        self.rev = None
        self.clock = start
        self.seq = 0
        self.serial = 0
        self.root = tree({})
        if paths:
            # The repository's history before the vector starts: not emitted.
            self.commit([("create", self.path(), None) for _ in range(paths)], emit=False)

    def path(self):
        self.serial += 1
        return f"app.bsky.feed.post/r{self.serial:04d}"

    def state(self, **changes):
        """The consumer's state for this account, in sync with the repository."""
        s = {"did": self.did, "host": HOST, "active": True, "status": None, "rev": self.rev,
             "data": str(self.root.cid()) if self.rev else None,
             "signingKey": rv.did_key(self.key), "identityFresh": False}
        s.update(changes)
        return s

    def signed_commit(self, data, rev, key=None, did=None):
        commit = {"did": did or self.did, "version": 3, "data": data, "rev": rev, "prev": None}
        commit["sig"] = rv.sign(key or self.key, cbor(commit))
        commit_bytes = cbor(commit)
        return commit, cid_for(commit_bytes), commit_bytes

    def commit(self, writes, emit=True, at=None, record_bytes=None, key=None, did=None):
        """writes: (action, path, None); creates and updates get a fresh record
        (or `record_bytes`). Returns the Commit event (the repository moves on)."""
        self.clock = at if at is not None else self.clock + SECOND
        before = {p: c for p, (c, _) in self.records.items()}
        prev_root = self.root.cid()
        ops, new_records = [], []
        for action, path, _ in writes:
            if action == "delete":
                ops.append({"action": "delete", "path": path, "cid": None,
                            "prev": self.records.pop(path)[0]})
                continue
            self.serial += 1
            data = record_bytes if record_bytes is not None else rv.record(
                path.split("/")[0], self.serial)
            c = cid_for(data)
            op = {"action": action, "path": path, "cid": c}
            if action == "update":
                op["prev"] = self.records[path][0]
            ops.append(op)
            self.records[path] = (c, data)
            new_records.append((c, data))
        self.root = tree({p: c for p, (c, _) in self.records.items()})
        since = self.rev
        self.rev = tid_at(self.clock)
        commit, commit_cid, commit_bytes = self.signed_commit(self.root.cid(), self.rev, key, did)
        # The diff: the commit, the MST nodes that inverting each op needs
        # (the root at least), the new records.
        blocks, seen = [(commit_cid, commit_bytes)], {commit_cid}
        nodes = [self.root] + [n for o in ops for n in covering(self.root, o["path"])]
        for node in nodes:
            if node.cid() not in seen:
                seen.add(node.cid())
                blocks.append((node.cid(), node.encode()))
        for c, data in new_records:
            if c not in seen:
                seen.add(c)
                blocks.append((c, data))
        if not emit:
            return None
        self.seq += 1
        first = since is None and not before
        return Commit(self, ops, blocks, commit, commit_cid, since,
                      None if first else prev_root, self.seq, self.clock)

    def sync_frame(self, rev_override=None, extra_block=None):
        """A #sync of the repository's current commit: a CAR of the commit
        block alone (plus `extra_block`)."""
        commit, commit_cid, commit_bytes = self.signed_commit(self.root.cid(), self.rev)
        blocks = [(commit_cid, commit_bytes)] + ([extra_block] if extra_block else [])
        self.seq += 1
        body = {"seq": self.seq, "did": self.did, "blocks": rv.car_file([commit_cid], blocks),
                "rev": rev_override or self.rev, "time": iso(self.clock)}
        return frame({"op": 1, "t": "#sync"}, body), body

    def identity_frame(self, handle="alice.example.com"):
        self.seq += 1
        return frame({"op": 1, "t": "#identity"},
                     {"seq": self.seq, "did": self.did, "time": iso(self.clock), "handle": handle})

    def account_frame(self, active, status=None):
        self.seq += 1
        body = {"seq": self.seq, "did": self.did, "time": iso(self.clock), "active": active}
        if status:
            body["status"] = status
        return frame({"op": 1, "t": "#account"}, body)


# --------------------------------------------------------------------------
# The file


class VectorFile(vectorgen.VectorFile):
    def __init__(self, name, operation, description, spec):
        super().__init__("sync", name, operation, description, spec)


def event(frame_bytes, summary, verdict, rule=None):
    return {"summary": summary, "frame": frame_bytes.hex(), "verdict": verdict, "rule": rule}


def firehose_file():
    f = VectorFile(
        "firehose", "firehose",
        "Firehose consumer verdicts: a consumer's state for one account (`account`), its "
        "subscription host and clock (`context`), then subscribeRepos frames (`events`, hex) "
        "in order. Replay each frame against the state and compare the verdict (accept, drop, "
        "resync, refresh-identity) and the deciding rule (null when a #commit or #sync passes "
        "every rule). Only accepted events change the state: #commit and #sync set rev and "
        "data from their commit, #account sets active and status.",
        [SPEC + "sync#message-validation-checklist", SPEC + "sync#commit-events",
         SPEC + "sync#sync-events", SPEC + "sync#reliable-repository-synchronization",
         SPEC + "sync#repository-revisions", SPEC + "event-stream#framing"])

    def add(slug, comment, state, events, extra=(), host=HOST, now=NOW):
        cid = f"sync.firehose.{slug}"
        if cid in f.ids:
            raise SystemExit(f"duplicate id {cid}")
        f.ids.add(cid)
        reqs = []
        for r in list(extra) + [e["rule"] for e in events]:
            if r and r not in reqs:
                reqs.append(r)
        f.cases.append({
            "id": cid, "requirements": reqs,
            "valid": all(e["verdict"] == "accept" for e in events),
            "comment": comment, "account": state,
            "context": {"host": host, "nowMicros": now, "now": iso(now),
                        "clockSkewMicros": SKEW},
            "events": events})

    # ---- Accepted sequences ----
    a = Account()
    st = a.state()
    c1 = a.commit([("create", a.path(), None)])
    c2 = a.commit([("update", "app.bsky.feed.post/r0001", None),
                   ("delete", "app.bsky.feed.post/r0002", None)])
    a.commit([], emit=False)  # an empty commit: new rev, same tree
    sync_bytes, _ = a.sync_frame()
    info = frame({"op": 1, "t": "#info"}, {"name": "OutdatedCursor", "message": "cursor too old"})
    add("chain", "A chain of commits, each since the last and inverting to its prevData; then "
        "a #sync of a later commit naming the same tree, an #identity and an #info.", st, [
            event(c1.frame(), c1.summary(), "accept"),
            event(c2.frame(), c2.summary(), "accept"),
            event(sync_bytes, f"#sync of rev {a.rev}: an empty commit, same tree as the last",
                  "accept"),
            event(a.identity_frame(), "#identity with a handle", "accept",
                  "sync.check.identity-event"),
            event(info, "#info OutdatedCursor (not sequenced)", "accept"),
        ], extra=["sync.check.inversion", "sync.check.since", "sync.check.prev-data",
                  "sync.check.signature", "sync.check.fields-match", "sync.event.fields",
                  "sync.check.sync-reset"])

    a = Account(paths=0)
    st = a.state()
    c1 = a.commit([("create", a.path(), None), ("create", a.path(), None)])
    c2 = a.commit([("create", a.path(), None)])
    add("first-commit", "A new repository: the consumer knows no rev; the first commit has a "
        "null since and no prevData, and its creates invert to the empty tree.", st, [
            event(c1.frame(), c1.summary("since null, no prevData"), "accept"),
            event(c2.frame(), c2.summary(), "accept"),
        ], extra=["sync.check.inversion", "sync.check.since"])

    a = Account()
    st = a.state()
    c1 = a.commit([("create", a.path(), None)])
    c1.body["seq"] = (1 << 53) + 1
    c2 = a.commit([("create", a.path(), None)])
    c2.body["seq"] = (1 << 63) - 1
    add("seq-int64", "Sequence numbers beyond 2^53 (the spec asks producers to stay below; "
        "consumers still decode any int64).", st, [
            event(c1.frame(), c1.summary("seq 2^53 + 1"), "accept"),
            event(c2.frame(), c2.summary("seq 2^63 - 1"), "accept"),
        ], extra=["data.model.int64", "sync.event.fields"])

    # ---- One rule broken per event ----
    a = Account()
    st = a.state()
    big = a.commit([("create", a.path(), None) for _ in range(201)])
    add("commit-ops-limit", "201 record operations in one commit; the limit is 200.", st, [
        event(big.frame(), big.summary("201 ops"), "drop", "sync.limits.commit-ops")])

    for slug, change, comment in (
            ("identity-no-key", {"signingKey": None},
             "The DID document has no atproto signing key."),
            ("identity-no-pds", {"host": None}, "The DID document names no PDS.")):
        a = Account()
        st = a.state(**change)
        c = a.commit([("create", a.path(), None)])
        add(slug, comment + " #commit and #sync of such an account are ignored.", st, [
            event(c.frame(), c.summary(), "drop", "sync.check.identity")])

    a = Account()
    other = Account(did=OTHER_DID)
    st = a.state()
    c = other.commit([("create", other.path(), None)])
    add("identity-other-did", "A commit of another account than the one the state is for: "
        "the consumer has no identity for it here.", st, [
            event(c.frame(), c.summary("repo is not the account's DID"), "drop",
                  "sync.check.identity")])

    a = Account()
    st = a.state()
    c = a.commit([("create", a.path(), None)])
    add("wrong-host", "The commit arrives on a subscription to another host than the account's "
        "PDS.", st, [event(c.frame(), c.summary("from elsewhere.example.com"), "drop",
                           "sync.check.host")], host="elsewhere.example.com")

    a = Account()
    st = a.state(active=False, status="deactivated")
    c = a.commit([("create", a.path(), None)])
    reactivate = a.account_frame(True)
    add("inactive", "A deactivated account: its commit is ignored until an #account event "
        "makes it active; then the same commit is accepted.", st, [
            event(c.frame(), c.summary(), "drop", "sync.check.active"),
            event(reactivate, "#account active", "accept", "sync.check.account-event"),
            event(c.frame(), c.summary("again, after reactivation"), "accept"),
        ])

    a = Account()
    st = a.state()
    takedown = a.account_frame(False, "takendown")
    c = a.commit([("create", a.path(), None)])
    add("takedown", "An #account takedown, then a commit of the taken-down account.", st, [
        event(takedown, "#account inactive, status takendown", "accept",
              "sync.check.account-event"),
        event(c.frame(), c.summary(), "drop", "sync.check.active"),
    ])

    a = Account()
    st = a.state()
    c = a.commit([("create", a.path(), None)])
    events = []
    c.raw_blocks = b"\x01\x02\x03"
    events.append(event(c.frame(), c.summary("blocks are not a CAR"), "drop",
                        "sync.check.structure"))
    c.raw_blocks = None
    blocks = c.blocks
    c.blocks = blocks[1:]
    events.append(event(c.frame(), c.summary("the commit block is missing"), "drop",
                        "sync.check.structure"))
    c.blocks = blocks
    c.roots = [blocks[-1][0]]
    events.append(event(c.frame(), c.summary("the CAR's root is a record, not the commit"),
                        "drop", "sync.check.structure"))
    c.roots = [c.cid]
    events.append(event(c.frame(), c.summary("intact"), "accept"))
    add("structure", "Blocks that do not carry a valid commit, then the intact commit.", st,
        events)

    a = Account()
    st = a.state()
    c = a.commit([("create", a.path(), None)])
    events = []
    c.body["rev"] = tid_at(a.clock + SECOND)
    events.append(event(c.frame(), c.summary("the message's rev is not the commit's"), "drop",
                        "sync.check.fields-match"))
    c.body["rev"] = c.commit["rev"]
    c.body["commit"] = cid_for(b"\xa0")
    events.append(event(c.frame(), c.summary("the message's commit CID is not the CAR root"),
                        "drop", "sync.check.fields-match"))
    c.body["commit"] = c.cid
    events.append(event(c.frame(), c.summary("intact"), "accept"))
    add("fields-match", "Message fields that disagree with the signed commit, then the intact "
        "commit.", st, events)

    a = Account()
    st = a.state()
    c = a.commit([("create", a.path(), None)], did=OTHER_DID)
    add("fields-match-did", "The signed commit names another DID than the message's repo.", st,
        [event(c.frame(), c.summary("the commit's did is " + OTHER_DID), "drop",
               "sync.check.fields-match")])

    a = Account()
    st = a.state(signingKey=rv.did_key(OTHER_KEY))
    c = a.commit([("create", a.path(), None)])
    add("signature-stale-key", "The consumer's cached key is an old one: the signature fails, "
        "so the consumer resolves the identity again and retries.", st, [
            event(c.frame(), c.summary(), "refresh-identity", "sync.check.signature")])

    a = Account()
    st = a.state(signingKey=rv.did_key(OTHER_KEY), identityFresh=True)
    c = a.commit([("create", a.path(), None)])
    add("signature-invalid", "The key was just resolved and the signature still fails: "
        "conclusive, the commit is rejected.", st, [
            event(c.frame(), c.summary(), "drop", "sync.check.signature")])

    a = Account()
    st = a.state(identityFresh=True)
    c = a.commit([("create", a.path(), None)], key=OTHER_KEY)
    add("signature-other-key", "A commit signed by a key that is not the account's.", st, [
        event(c.frame(), c.summary("signed with another key"), "drop", "sync.check.signature")])

    a = Account()
    st = a.state()
    c = a.commit([("create", a.path(), None)])
    add("rev-replay", "The same commit twice: the second is not newer than the last rev.", st, [
        event(c.frame(), c.summary(), "accept"),
        event(c.frame(), c.summary("again"), "drop", "sync.check.rev-order"),
    ])

    a = Account()
    old = a.commit([("create", a.path(), None)])
    st = a.state()
    add("rev-older", "A commit older than the one the consumer already processed.", st, [
        event(old.frame(), old.summary("rev before the state's"), "drop",
              "sync.check.rev-order")])

    a = Account()
    st = a.state()
    c = a.commit([("create", a.path(), None)], at=NOW + SKEW + 60 * SECOND)
    add("rev-future", "A rev six minutes ahead of the consumer's clock; the drift window is "
        "five minutes.", st, [
            event(c.frame(), c.summary("rev at now + 6 min"), "drop", "sync.check.rev-future")])

    a = Account()
    st = a.state()
    c = a.commit([("create", a.path(), None)], at=NOW + SKEW - SECOND)
    add("rev-within-skew", "A rev four minutes 59 seconds ahead: inside the drift window.", st, [
        event(c.frame(), c.summary("rev at now + 4:59"), "accept")],
        extra=["sync.check.rev-future"])

    a = Account()
    st = a.state()
    c = a.commit([("create", a.path(), None)], record_bytes=cbor("not a record"))
    add("record-not-map", "The created record is a CBOR text string, not a map.", st, [
        event(c.frame(), c.summary("the record is a string"), "drop", "sync.check.records")])

    a = Account()
    st = a.state()
    c = a.commit([("create", a.path(), None), ("update", "app.bsky.feed.post/r0001", None),
                  ("delete", "app.bsky.feed.post/r0002", None)])
    events = []
    ops = c.body["ops"]
    c.body["ops"] = ops[:2]
    events.append(event(c.frame(), c.summary("the delete left out of ops"), "drop",
                        "sync.check.inversion"))
    c.body["ops"] = ops
    prev_data = c.body["prevData"]
    c.body["prevData"] = cid_for(b"\xa0")
    events.append(event(c.frame(), c.summary("prevData is not the tree before"), "drop",
                        "sync.check.inversion"))
    del c.body["prevData"]
    events.append(event(c.frame(), c.summary("no prevData"), "drop", "sync.check.inversion"))
    c.body["prevData"] = prev_data
    c.body["ops"] = [dict(o) for o in ops]
    del c.body["ops"][1]["prev"]
    events.append(event(c.frame(), c.summary("the update has no prev"), "drop",
                        "sync.check.inversion"))
    c.body["ops"] = ops
    events.append(event(c.frame(), c.summary("intact"), "accept"))
    add("inversion", "Ops and prevData that do not invert to the tree before, then the intact "
        "commit.", st, events, extra=["repo.diff.inversion"])

    a = Account()
    st = a.state()
    a.commit([("create", a.path(), None)], emit=False)  # missed by the consumer
    c = a.commit([("create", a.path(), None)])
    add("since-gap", "A commit was missed: the next one's since is not the consumer's last rev. "
        "The commit is valid in itself, so the repository is marked out of sync.", st, [
            event(c.frame(), c.summary("since names a commit the consumer never saw"), "resync",
                  "sync.check.since")])

    a = Account()
    st = a.state(data=str(cid_for(b"\xa0")))
    c = a.commit([("create", a.path(), None)])
    add("prev-data-mismatch", "since matches, but prevData is not the tree the consumer "
        "recorded for that rev.", st, [
            event(c.frame(), c.summary(), "resync", "sync.check.prev-data")])

    a = Account()
    st = a.state()
    a.commit([("create", a.path(), None)], emit=False)
    sync_bytes, _ = a.sync_frame()
    add("sync-reset", "A #sync naming a tree other than the consumer's: the repository was "
        "reset, fetch it again.", st, [
            event(sync_bytes, "#sync of a commit with another tree", "resync",
                  "sync.check.sync-reset")])

    a = Account()
    st = a.state()
    a.commit([], emit=False)
    pad = b"\x00" * 10_000
    sync_big, _ = a.sync_frame(extra_block=(cid_for(pad, 0x55), pad))
    sync_bad_rev, _ = a.sync_frame(rev_override=tid_at(a.clock + SECOND))
    sync_ok, _ = a.sync_frame()
    add("sync-checks", "#sync frames: blocks over the lexicon's 10,000 bytes, a rev that is not "
        "the commit's, then the intact #sync (an empty commit over the same tree).", st, [
            event(sync_big, "#sync with a 10,000-byte block beside the commit", "drop",
                  "sync.limits.sync-blocks"),
            event(sync_bad_rev, "#sync whose rev is not its commit's", "drop",
                  "sync.check.fields-match"),
            event(sync_ok, "#sync, intact", "accept"),
        ])

    # ---- Frames that do not decode, and frames that are skipped ----
    a = Account()
    st = a.state()
    c = a.commit([("create", a.path(), None)])
    good = c.frame()
    body = dict(c.body)
    body["blocks"] = c.car()
    no_time = {k: v for k, v in body.items() if k != "time"}
    bad_op = dict(body)
    bad_op["ops"] = [dict(body["ops"][0], prev=body["ops"][0]["cid"])]
    extra_field = dict(body, futureField="ignored")
    header_keys_swapped = b"\xa2\x62op\x01\x61t\x67#commit"
    add("frames", "Frames broken below the checklist: each fails to decode (or is skipped) and "
        "leaves the state alone; then the intact commit, with an unknown field, is accepted.",
        st, [
            event(frame({"op": 1, "t": "#commit"}, no_time), "#commit without time", "drop",
                  "sync.event.fields"),
            event(frame({"op": 1, "t": "#commit"}, bad_op), "#commit whose create has a prev",
                  "drop", "sync.event.ops"),
            event(good + b"\x00", "intact #commit followed by one stray byte", "drop",
                  "sync.frame.trailing"),
            event(frame({"op": 1}, body), "header op 1 without t", "drop", "sync.frame.header"),
            event(cbor({"op": 1, "t": "#commit"}) + cbor([1]), "body is an array", "drop",
                  "sync.frame.body"),
            event(header_keys_swapped + cbor(body), "header keys not in canonical order", "drop",
                  "data.cbor.map-key-order"),
            event(frame({"op": 1, "t": "#labels"}, {"seq": 1}), "unknown message type #labels",
                  "drop", "sync.stream.unknown-types"),
            event(frame({"op": -1}, {"error": "FutureCursor"}), "error frame FutureCursor",
                  "drop", "sync.stream.error-frame"),
            event(frame({"op": 1, "t": "#commit"}, extra_field),
                  c.summary("with an extra field futureField"), "accept"),
        ], extra=["sync.frame.encoding", "sync.stream.unknown-fields"])
    return f


def main():
    return vectorgen.write_or_check([firehose_file()], OUT_DIR, "gen-sync-vectors.py")


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""atproto-relay end to end, over real sockets on loopback: our atproto-plc,
our atproto-pds and our atproto-relay crawling it.

- accounts created and records written on the PDS reach the relay: its
  getLatestCommit, listRepos and listHosts agree with the PDS
  [relay.account.state] [relay.api.list-repos] [relay.api.hosts];
- its firehose, read from cursor 0, carries the PDS's events re-sequenced
  from 1 up, and the last #commit of each account is the PDS's latest
  commit [relay.output.seq] [relay.output.cursor];
- after SIGTERM and a restart on the same folder it resumes from its stored
  cursor: a record written meanwhile arrives once, under the next seq
  [relay.host.cursor];
- --help lists every flag;
- one relay crawls our atproto-pds and the official @atproto/pds
  (conformance/peers/pds-official) at once: each PDS's events come through
  unchanged, none dropped but what the sync checklist ignores, and the
  official consumer verifies the merged stream (RelayCrawlsOurPdsAndTheOfficialPds).

Needs the build (ATPROTO_BUILD, default build/asan), the official
lexicons for the PDS (tools/fetch-lexicons), Node and npm. Standard library only: a
minimal WebSocket reader and DAG-CBOR decoder are below.
"""
import base64
import importlib.util
import json
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("ATPROTO_BUILD", os.path.join(ROOT, "build", "asan"))
PLC = os.path.join(BUILD, "reference", "plc", "atproto-plc")
PDS = os.path.join(BUILD, "reference", "pds", "atproto-pds")
RELAY = os.path.join(BUILD, "reference", "relay", "atproto-relay")
LEXICONS = os.path.join(ROOT, "generated", "lexicons")
OFFICIAL_PDS = os.path.join(ROOT, "conformance", "peers", "pds-official", "run.sh")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_on_free_port(start, argv_for):
    """(port, server) for a server that must know its port before it starts
    (the PDS names it in its public URL). The port was free a moment ago;
    if a parallel test took it meanwhile, the server fails to start and
    another port is tried."""
    for attempt in range(5):
        port = free_port()
        try:
            return port, start(argv_for(port))
        except RuntimeError:
            if attempt == 4:
                raise


# The servers' runner of the PDS client test: a binary printing "listening
# on URL" as its first line, stderr to a log file, stop() by SIGTERM.
_spec = importlib.util.spec_from_file_location(
    "pds_client_test", os.path.join(ROOT, "reference", "pds", "pds_client_test.py"))
_pds_client_test = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_pds_client_test)
Server = _pds_client_test.Process


def xrpc(base, nsid, params=None, body=None, token=None):
    url = f"{base}/xrpc/{nsid}"
    if params:
        url += "?" + urllib.parse.urlencode(params)
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="GET" if body is None else "POST")
    if body is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


# ---- a minimal WebSocket reader (RFC 6455, client side, binary frames) ----

class WebSocket:
    def __init__(self, host, port, path):
        self.sock = socket.create_connection((host, port), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise RuntimeError("closed during the handshake")
            head += chunk
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise RuntimeError(f"upgrade refused: {head!r}")

    def _exact(self, n):
        out = b""
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise EOFError
            out += chunk
        return out

    def read(self, timeout=10):
        """The next whole message's bytes; None on close or timeout."""
        self.sock.settimeout(timeout)
        message = b""
        try:
            while True:
                b0, b1 = self._exact(2)
                opcode, length = b0 & 0x0F, b1 & 0x7F
                if length == 126:
                    length = struct.unpack(">H", self._exact(2))[0]
                elif length == 127:
                    length = struct.unpack(">Q", self._exact(8))[0]
                mask = self._exact(4) if b1 & 0x80 else None
                payload = self._exact(length)
                if mask:
                    payload = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
                if opcode == 8:
                    return None
                if opcode in (9, 10):
                    continue  # ping, pong
                message += payload
                if b0 & 0x80:
                    return message
        except (socket.timeout, EOFError):
            return None

    def close(self):
        self.sock.close()


# ---- a minimal DAG-CBOR decoder: what firehose frames hold ----

def cbor_item(data, i):
    major, info = data[i] >> 5, data[i] & 0x1F
    i += 1
    if info < 24:
        value = info
    elif info in (24, 25, 26, 27):
        size = 1 << (info - 24)
        value = int.from_bytes(data[i:i + size], "big")
        i += size
    else:
        raise ValueError("indefinite lengths are not DAG-CBOR")
    if major == 0:
        return value, i
    if major == 1:
        return -1 - value, i
    if major == 2:
        return data[i:i + value], i + value
    if major == 3:
        return data[i:i + value].decode(), i + value
    if major == 4:
        out = []
        for _ in range(value):
            item, i = cbor_item(data, i)
            out.append(item)
        return out, i
    if major == 5:
        out = {}
        for _ in range(value):
            key, i = cbor_item(data, i)
            out[key], i = cbor_item(data, i)
        return out, i
    if major == 6:
        item, i = cbor_item(data, i)
        if value == 42:  # a CID: the multibase identity prefix, then the binary CID
            return "b" + base64.b32encode(item[1:]).decode().lower().rstrip("="), i
        return item, i
    return {20: False, 21: True, 22: None}[value], i


def frame(data):
    header, i = cbor_item(data, 0)
    body, _ = cbor_item(data, i)
    return header, body


def official_consumer_verifies(test, relay, plc_url, handle_pdss, events, current, out):
    """Runs the official consumer (@atproto/sync's Firehose, firehose.mjs)
    on the relay's stream from cursor 0 until it has read `events` (the
    relay's events as read here), and asserts that it raised no error, saw
    the same seqs, and verified every event. A replay from 0 carries each
    #identity with the handle it was sent with, while the consumer resolves
    the handle as it is now: such an event counts as verified when it
    verified to the account's handle in `current` (DID -> handle now).
    Returns the consumer's lines."""
    client = os.path.join(_pds_client_test.CLIENT, "firehose.mjs")
    proc = subprocess.run(
        ["node", client, relay.url, "--plc", plc_url, "--handles", ",".join(handle_pdss),
         "--cursor", "0", "--expect-min", str(len(events)), "--timeout", "90", "--out", out],
        capture_output=True, text=True, timeout=150)
    test.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
    with open(out) as f:
        lines = [json.loads(line) for line in f if line.strip()]
    errors = [line for line in lines if line.get("type") == "error"]
    test.assertEqual(errors, [], "the official consumer raised errors")
    seen = [line for line in lines if "seq" in line and line.get("type") != "error"]
    test.assertEqual([line["seq"] for line in seen][:len(events)],
                     [body["seq"] for _, body in events])
    unverified = [line for line in seen if not line.get("verified") and not (
        line["type"] == "identity" and line["did"] in current
        and line.get("verifiedHandle") == current[line["did"]])]
    test.assertEqual(unverified, [], "events the official consumer did not verify")
    return seen


class RelayEndToEnd(unittest.TestCase):
    def setUp(self):
        for binary in (PLC, PDS, RELAY):
            self.assertTrue(os.path.exists(binary), f"{binary} is not built")
        self.assertTrue(os.path.isdir(LEXICONS), "run tools/fetch-lexicons first")
        self.tmp = tempfile.mkdtemp(prefix="relay-e2e-")
        self.servers = []
        self.plc = self.start([PLC, "--port", "0", "--data", os.path.join(self.tmp, "plc")])
        port, self.pds = start_on_free_port(self.start, lambda port: [
            PDS, "--port", str(port), "--data", os.path.join(self.tmp, "pds"),
            "--plc", self.plc.url, "--public-url", f"http://localhost:{port}",
            "--allow-private-addresses", "true", "--lexicon-dir", LEXICONS])
        self.pds_host = f"localhost:{port}"

    def tearDown(self):
        for s in self.servers:
            s.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start(self, argv):
        name = os.path.basename(argv[0])
        server = Server(argv, os.path.join(self.tmp, f"{name}-{len(self.servers)}.log"))
        self.servers.append(server)
        return server

    def start_relay(self):
        relay = self.start([RELAY, "--port", "0", "--data", os.path.join(self.tmp, "relay"),
                            "--plc", self.plc.url, "--crawl", f"http://{self.pds_host}",
                            "--allow-private-addresses", "--reconnect-min-ms", "100"])
        return relay

    def account(self, name):
        status, body = xrpc(self.pds.url, "com.atproto.server.createAccount",
                            body={"handle": f"{name}.test", "email": f"{name}@example.com",
                                  "password": "hunter2-" + name})
        self.assertEqual(status, 200, body)
        return body["did"], body["accessJwt"]

    def post(self, did, token, text):
        status, body = xrpc(self.pds.url, "com.atproto.repo.createRecord", token=token,
                            body={"repo": did, "collection": "app.bsky.feed.post",
                                  "record": {"$type": "app.bsky.feed.post", "text": text,
                                             "createdAt": "2024-01-01T00:00:00.000Z"}})
        self.assertEqual(status, 200, body)

    def wait_synced(self, relay, did):
        """Until the relay's latest commit for did is the PDS's."""
        status, want = xrpc(self.pds.url, "com.atproto.sync.getLatestCommit", {"did": did})
        self.assertEqual(status, 200, want)
        deadline = time.time() + 30
        got = None
        while time.time() < deadline:
            status, got = xrpc(relay.url, "com.atproto.sync.getLatestCommit", {"did": did})
            if status == 200 and got == want:
                return want
            time.sleep(0.1)
        self.fail(f"relay never caught up on {did}: {got} != {want}")

    def read_events(self, relay, cursor, done):
        """Events from the cursor on until done(events), then whatever comes
        within half a second more (nothing should)."""
        host, port = relay.url.split("//")[1].split(":")
        ws = WebSocket(host, int(port), f"/xrpc/com.atproto.sync.subscribeRepos?cursor={cursor}")
        events = []
        try:
            deadline = time.time() + 30
            while time.time() < deadline:
                data = ws.read(timeout=0.5 if done(events) else 10)
                if data is None:
                    break
                header, body = frame(data)
                self.assertEqual(header.get("op"), 1, body)
                events.append((header["t"], body))
        finally:
            ws.close()
        return events

    def relay_and_two_posting_accounts(self):
        """A relay crawling the PDS; alice posts three times, bob once."""
        relay = self.start_relay()
        alice, alice_token = self.account("alice")
        bob, bob_token = self.account("bob")
        for i in range(3):
            self.post(alice, alice_token, f"alice {i}")
        self.post(bob, bob_token, "bob 0")
        return relay, alice, alice_token, bob, bob_token

    def test_crawls_our_pds_and_serves_its_events(self):
        relay, alice, _, bob, bob_token = self.relay_and_two_posting_accounts()
        latest = {did: self.wait_synced(relay, did) for did in (alice, bob)}

        status, repos = xrpc(relay.url, "com.atproto.sync.listRepos")
        self.assertEqual(status, 200, repos)
        heads = {r["did"]: r["head"] for r in repos["repos"]}
        for did in (alice, bob):
            self.assertEqual(heads.get(did), latest[did]["cid"])
        status, hosts = xrpc(relay.url, "com.atproto.sync.listHosts")
        self.assertEqual(status, 200, hosts)
        self.assertEqual([h["hostname"] for h in hosts["hosts"]], [self.pds_host])
        self.assertEqual(hosts["hosts"][0]["accountCount"], 2)

        def commits_of(events):
            out = {}
            for kind, body in events:
                if kind == "#commit":
                    out[body["repo"]] = (body["commit"], body["rev"])
            return out

        want = {did: (latest[did]["cid"], latest[did]["rev"]) for did in (alice, bob)}
        events = self.read_events(relay, 0, lambda ev: commits_of(ev) == want)
        seqs = [body["seq"] for _, body in events]
        self.assertTrue(events, "no events from the relay")
        self.assertEqual(seqs, list(range(1, len(seqs) + 1)))
        self.assertEqual(commits_of(events), want)

        # A restart resumes where it stopped: a post written while the relay
        # is down arrives once, under the next seq.
        self.assertEqual(relay.stop(), 0)
        self.servers.remove(relay)
        self.post(bob, bob_token, "bob 1")
        relay = self.start_relay()
        newest = self.wait_synced(relay, bob)
        more = self.read_events(relay, seqs[-1], lambda ev: any(k == "#commit" for k, _ in ev))
        commits = [b for k, b in more if k == "#commit"]
        self.assertEqual([c["seq"] for c in commits], [seqs[-1] + 1])
        self.assertEqual(commits[0]["commit"], newest["cid"])

    def test_the_official_consumer_verifies_the_relays_stream(self):
        """@atproto/sync's Firehose, pointed at our relay, verifies every
        event it re-broadcasts: commits (signature, MST proofs against the
        key in the PLC directory), the handle change and the account events."""
        _pds_client_test.install_packages()
        relay, alice, alice_token, bob, bob_token = self.relay_and_two_posting_accounts()
        status, body = xrpc(self.pds.url, "com.atproto.identity.updateHandle",
                            body={"handle": "bobby.test"}, token=bob_token)
        self.assertEqual(status, 200, body)
        self.post(bob, bob_token, "bob 1")
        self.wait_synced(relay, alice)
        latest_bob = self.wait_synced(relay, bob)
        events = self.read_events(relay, 0, lambda ev: any(
            k == "#commit" and b["repo"] == bob and b["rev"] == latest_bob["rev"] for k, b in ev))
        self.assertIn("#identity", [k for k, _ in events])
        # bob's first #identity (bob.test) verifies to his handle now.
        seen = official_consumer_verifies(
            self, relay, self.plc.url, [self.pds.url], events,
            {alice: "alice.test", bob: "bobby.test"},
            os.path.join(self.tmp, "official-consumer.jsonl"))
        handles = [line.get("verifiedHandle") for line in seen if line["type"] == "identity"]
        self.assertIn("bobby.test", handles)

    def test_help_lists_every_flag(self):
        out = subprocess.run([RELAY, "--help"], capture_output=True, text=True, check=True).stdout
        for flag in ("--port", "--data", "--crawl", "--plc", "--allow-private-addresses",
                     "--slow-consumer-ms", "--host-max-accounts"):
            self.assertIn(flag, out)



def event_key(kind, body):
    """What must come through a relay unchanged, per event type (seq and
    time are the relay's own; a commit's blocks are checked by the official
    consumer, which verifies them)."""
    did = body.get("repo") or body.get("did")
    if kind == "#commit":
        ops = tuple((op["action"], op["path"], op.get("cid")) for op in body["ops"])
        return (kind, did, body["commit"], body["rev"], body.get("since"), body.get("prevData"),
                ops)
    if kind == "#identity":
        return (kind, did, body.get("handle"))
    if kind == "#account":
        return (kind, did, body["active"], body.get("status"))
    if kind == "#sync":
        return (kind, did, body["rev"])
    return (kind, did)


class RelayCrawlsOurPdsAndTheOfficialPds(unittest.TestCase):
    maxDiff = None
    """One atproto-relay crawls two real PDSs at once: our atproto-pds and the
    official @atproto/pds (conformance/peers/pds-official, with the official
    @did-plc/server in memory, which both PDSs and the relay use as their
    PLC directory). The same scenario on each (accounts, creates, updates,
    deletes, an applyWrites batch, a handle change, deactivation and
    reactivation), then:

    - every event of each PDS's firehose comes out of the relay, unchanged
      and in the PDS's order, but the #sync events the official PDS sends
      with a rev it already announced (the sync spec's checklist ignores a
      rev not after the last processed one): the relay's stats count exactly
      those as dropped, by that rule, and nothing else
      [relay.output.seq] [relay.host.cursor];
    - getHostStatus has each host's last seq and account count, and
      listRepos, getRepoStatus and getLatestCommit agree with each PDS
      [relay.api.hosts] [relay.api.list-repos] [relay.account.state];
    - the official consumer (@atproto/sync) verifies every event of the
      merged stream (signatures and MST proofs against the keys in the
      official PLC directory, handles against the PDS that holds them).

    run.sh installs the official PDS's pinned packages (npm ci, 2 to 3
    minutes) when its node_modules is missing or older than its lockfile.
    """

    def setUp(self):
        for binary in (PDS, RELAY):
            self.assertTrue(os.path.exists(binary), f"{binary} is not built")
        self.assertTrue(os.path.isdir(LEXICONS), "run tools/fetch-lexicons first")
        _pds_client_test.install_packages()
        self.tmp = tempfile.mkdtemp(prefix="relay-official-")
        # Cleanups run also when setUp fails half-way, last registered first.
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        # "listening on http://127.0.0.1:PORT plc http://127.0.0.1:PLCPORT"; its
        # DID documents name http://localhost:PORT as the accounts' PDS.
        self.official = self.start([OFFICIAL_PDS, "--data", os.path.join(self.tmp, "official")],
                                   "pds-official", timeout=900)
        self.assertEqual(self.official.words[1:2], ["plc"], self.official.words)
        self.plc_url = self.official.words[2]
        official_port = urllib.parse.urlsplit(self.official.url).port
        port, self.ours = start_on_free_port(lambda argv: self.start(argv, "atproto-pds"),
                                             lambda port: [
            PDS, "--port", str(port), "--data", os.path.join(self.tmp, "pds"),
            "--plc", self.plc_url, "--public-url", f"http://localhost:{port}",
            "--allow-private-addresses", "true", "--lexicon-dir", LEXICONS])
        self.hosts = {self.official.url: f"localhost:{official_port}",
                      self.ours.url: f"localhost:{port}"}

    def start(self, argv, name, timeout=120):
        server = Server(argv, os.path.join(self.tmp, f"{name}.log"), timeout=timeout)
        self.addCleanup(server.stop)  # stopping twice is harmless
        return server

    def call(self, pds, nsid, token=None, body=None, params=None):
        status, out = xrpc(pds, nsid, params=params, body=body, token=token)
        self.assertEqual(status, 200, f"{nsid} at {pds}: {out}")
        return out

    def account(self, pds, name):
        out = self.call(pds, "com.atproto.server.createAccount",
                        body={"handle": f"{name}.test", "email": f"{name}@example.com",
                              "password": "hunter2-" + name})
        return out["did"], out["accessJwt"]

    def post(self, pds, did, token, text):
        return self.call(pds, "com.atproto.repo.createRecord", token, {
            "repo": did, "collection": "app.bsky.feed.post",
            "record": {"$type": "app.bsky.feed.post", "text": text,
                       "createdAt": "2024-01-01T00:00:00.000Z"}})

    def wait_for_link(self, relay, pds, prefix):
        """A subscription without a cursor starts at the live end: accounts
        are written only once the relay is seen to receive this PDS's
        events. A probe account whose events the relay never saw (it
        connected later) is followed by another."""
        for i in range(10):
            did, _ = self.account(pds, f"{prefix}probe{i}")
            deadline = time.time() + 3
            while time.time() < deadline:
                status, _ = xrpc(relay.url, "com.atproto.sync.getRepoStatus", {"did": did})
                if status == 200:
                    return
                time.sleep(0.05)
        self.fail(f"the relay never received the events of {pds}")

    def scenario(self, pds, prefix):
        """Writes on one PDS; returns {did: handle now}."""
        alice, alice_token = self.account(pds, f"{prefix}alice")
        bob, bob_token = self.account(pds, f"{prefix}bob")
        carol, carol_token = self.account(pds, f"{prefix}carol")
        posts = [self.post(pds, alice, alice_token, f"alice {i}") for i in range(3)]
        profile = {"repo": alice, "collection": "app.bsky.actor.profile", "rkey": "self",
                   "record": {"$type": "app.bsky.actor.profile", "displayName": "Alice"}}
        self.call(pds, "com.atproto.repo.putRecord", alice_token, profile)
        profile["record"]["displayName"] = "Alice A."
        self.call(pds, "com.atproto.repo.putRecord", alice_token, profile)
        self.call(pds, "com.atproto.repo.deleteRecord", alice_token, {
            "repo": alice, "collection": "app.bsky.feed.post",
            "rkey": posts[1]["uri"].rsplit("/", 1)[1]})
        post = {"$type": "app.bsky.feed.post", "createdAt": "2024-01-01T00:00:00.000Z"}
        self.call(pds, "com.atproto.repo.applyWrites", bob_token, {"repo": bob, "writes": [
            {"$type": "com.atproto.repo.applyWrites#create", "collection": "app.bsky.feed.post",
             "rkey": "3kaaaaaaaaaa2", "value": dict(post, text="bob batch 0")},
            {"$type": "com.atproto.repo.applyWrites#create", "collection": "app.bsky.feed.post",
             "rkey": "3kaaaaaaaaab2", "value": dict(post, text="bob batch 1")},
        ]})
        self.call(pds, "com.atproto.repo.applyWrites", bob_token, {"repo": bob, "writes": [
            {"$type": "com.atproto.repo.applyWrites#update", "collection": "app.bsky.feed.post",
             "rkey": "3kaaaaaaaaaa2", "value": dict(post, text="bob batch 0, edited")},
            {"$type": "com.atproto.repo.applyWrites#delete", "collection": "app.bsky.feed.post",
             "rkey": "3kaaaaaaaaab2"},
        ]})
        self.call(pds, "com.atproto.identity.updateHandle", bob_token,
                  {"handle": f"{prefix}bobby.test"})
        self.post(pds, bob, bob_token, "bob after the handle change")
        self.post(pds, carol, carol_token, "carol 0")
        self.call(pds, "com.atproto.server.deactivateAccount", carol_token, {})
        # A procedure without input: a POST with no body at all.
        request = urllib.request.Request(f"{pds}/xrpc/com.atproto.server.activateAccount",
                                         data=b"", method="POST",
                                         headers={"Authorization": f"Bearer {carol_token}"})
        with urllib.request.urlopen(request, timeout=30) as r:
            self.assertEqual(r.status, 200)
        self.post(pds, carol, carol_token, "carol after reactivation")
        return {alice: f"{prefix}alice.test", bob: f"{prefix}bobby.test",
                carol: f"{prefix}carol.test"}

    def read_until_quiet(self, url, cursor, want):
        """Events of the firehose at url from cursor until each DID in want
        has its latest commit in it, then whatever comes within half a
        second more."""
        parts = urllib.parse.urlsplit(url)
        ws = WebSocket(parts.hostname, parts.port,
                       f"/xrpc/com.atproto.sync.subscribeRepos?cursor={cursor}")
        events, heads = [], {}
        try:
            deadline = time.time() + 60
            while time.time() < deadline:
                done = all(heads.get(did) == cid for did, cid in want.items())
                data = ws.read(timeout=0.5 if done else 10)
                if data is None:
                    break
                header, body = frame(data)
                self.assertEqual(header.get("op"), 1, body)
                events.append((header["t"], body))
                if header["t"] == "#commit":
                    heads[body["repo"]] = body["commit"]
        finally:
            ws.close()
        return events

    def test_one_relay_crawls_both_and_the_official_consumer_verifies_it(self):
        relay = self.start([RELAY, "--port", "0", "--data", os.path.join(self.tmp, "relay"),
                            "--plc", self.plc_url, "--allow-private-addresses",
                            "--reconnect-min-ms", "100",
                            *[arg for host in self.hosts.values()
                              for arg in ("--crawl", f"http://{host}")]], "atproto-relay")
        prefixes = {self.official.url: "o", self.ours.url: "u"}
        handles = {}
        for pds, prefix in prefixes.items():
            self.wait_for_link(relay, pds, prefix)
            handles[pds] = self.scenario(pds, prefix)

        # The relay's state agrees with each PDS's.
        latest = {}
        for pds, accounts in handles.items():
            for did in accounts:
                want = self.call(pds, "com.atproto.sync.getLatestCommit", params={"did": did})
                deadline = time.time() + 30
                while True:
                    status, got = xrpc(relay.url, "com.atproto.sync.getLatestCommit",
                                       {"did": did})
                    if status == 200 and got == want:
                        break
                    self.assertLess(time.time(), deadline,
                                    f"relay never caught up on {did} of {pds}: {got} != {want}")
                    time.sleep(0.1)
                latest[did] = want["cid"]
                mine = self.call(relay.url, "com.atproto.sync.getRepoStatus", params={"did": did})
                theirs = self.call(pds, "com.atproto.sync.getRepoStatus", params={"did": did})
                for field in ("did", "active", "status", "rev"):
                    self.assertEqual(mine.get(field), theirs.get(field), (field, mine, theirs))

        def repos(base):
            out = self.call(base, "com.atproto.sync.listRepos", params={"limit": "1000"})
            return {r["did"]: (r["head"], r["rev"], r.get("active", True))
                    for r in out["repos"]}

        relay_repos = repos(relay.url)
        upstream = {}  # DID -> the PDS that hosts it
        for pds in handles:
            theirs = repos(pds)
            self.assertEqual({did: relay_repos.get(did) for did in theirs}, theirs, pds)
            upstream.update({did: pds for did in theirs})
        self.assertEqual(set(relay_repos), set(upstream))

        # Every event of each PDS, in its order, none dropped.
        relay_events = self.read_until_quiet(relay.url, 0, latest)
        self.assertEqual([b["seq"] for _, b in relay_events],
                         list(range(1, len(relay_events) + 1)))
        stale_revs = 0
        for pds, host in self.hosts.items():
            pds_events = self.read_until_quiet(
                pds, 0, {did: cid for did, cid in latest.items() if upstream[did] == pds})
            # The official PDS follows an account's first commit, and its
            # reactivation, with a #sync of the rev it already announced. A
            # #commit or #sync whose rev is not after the last one processed
            # is ignored (https://atproto.com/specs/sync#message-validation-checklist;
            # https://atproto.com/specs/sync#reliable-repository-synchronization:
            # a #sync matching the current state is ignored), so the relay
            # forwards everything else and counts these under the rule's code.
            last_rev, want = {}, []
            for kind, body in pds_events:
                did = body.get("repo") or body.get("did")
                if kind in ("#commit", "#sync"):
                    if did in last_rev and body["rev"] <= last_rev[did]:
                        stale_revs += 1
                        continue
                    last_rev[did] = body["rev"]
                want.append(event_key(kind, body))
            got = [event_key(k, b) for k, b in relay_events
                   if upstream.get(b.get("repo") or b.get("did")) == pds]
            self.assertTrue(got, f"no events of {pds} through the relay")
            self.assertEqual(got, want[len(want) - len(got):], f"events of {pds}")
            # Only probe accounts' first events may precede the relay's link.
            missed = {key[1] for key in want[:len(want) - len(got)]}
            self.assertFalse(missed & set(handles[pds]), f"the relay missed events of {pds}")
            status = self.call(relay.url, "com.atproto.sync.getHostStatus",
                               params={"hostname": host})
            self.assertEqual(status["status"], "active", status)
            self.assertEqual(status["seq"], pds_events[-1][1]["seq"], status)
            self.assertEqual(status["accountCount"], len(repos(pds)), status)
        kinds = {k for k, _ in relay_events}
        self.assertTrue({"#commit", "#identity", "#account"} <= kinds, kinds)

        # The official consumer verifies the merged stream; the handles of
        # both PDSs' accounts are asked of each PDS in turn.
        official_consumer_verifies(
            self, relay, self.plc_url, list(handles), relay_events,
            {did: h for accounts in handles.values() for did, h in accounts.items()},
            os.path.join(self.tmp, "official-consumer.jsonl"))

        # Nothing was dropped on the way (the relay's counters, at stop).
        self.assertEqual(relay.stop(), 0)
        with open(relay.log_path) as f:
            log = f.read()
        stats = [line for line in log.splitlines() if line.startswith("atproto-relay: stats ")]
        self.assertEqual(len(stats), 1, log[-3000:])
        self.assertIn(f" dropped={stale_revs} ", stats[0] + " ", stats[0])
        reasons = f" sync.check.rev-order={stale_revs}" if stale_revs else ""
        self.assertTrue(stats[0].endswith(f" resyncs=0{reasons}"), stats[0])


if __name__ == "__main__":
    unittest.main()

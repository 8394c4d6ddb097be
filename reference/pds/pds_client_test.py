#!/usr/bin/python3
"""atproto-pds driven by the official TypeScript client, over real sockets on
loopback.

- client-lifecycle.mjs (conformance/peers/pds-client) takes one account
  through its whole life with @atproto/api: sessions, refresh, app passwords,
  records (create, put, get, list, delete, applyWrites, swaps, a record its
  lexicon refuses), a blob and a post embedding it, handle change, service
  auth, deactivation, and deletion; it verifies getRepo and record proofs
  with @atproto/repo against the signing key in the PLC directory;
- firehose.mjs reads the firehose from cursor 0 with @atproto/sync's
  Firehose, which verifies every commit (signature and MST proof) and every
  handle; this test then checks that every event was verified, no error was
  raised, seqs strictly increase, and the firehose carried exactly the
  lifecycle's writes, its handle change and its account status changes, in
  order.

Usage: pds_client_test.py [--official] [unittest args]
Our servers (atproto-plc, atproto-pds) come from ATPROTO_BUILD (default
build/asan). --official runs the same checks against the official PDS
(conformance/peers/pds-official/run.sh: @atproto/pds with @did-plc/server in
memory), which proves the scripts. Installs the scripts' pinned packages
(npm ci in pds-client, about 20 s) when node_modules is missing or older than
the lockfile.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("ATPROTO_BUILD", os.path.join(ROOT, "build", "asan"))
PLC = os.path.join(BUILD, "reference", "plc", "atproto-plc")
PDS = os.path.join(BUILD, "reference", "pds", "atproto-pds")
CLIENT = os.path.join(ROOT, "conformance", "peers", "pds-client")
OFFICIAL_PDS = os.path.join(ROOT, "conformance", "peers", "pds-official", "run.sh")
LEXICONS = os.path.join(ROOT, "generated", "lexicons")
OFFICIAL = False


def install_packages():
    """npm ci in the client folder when node_modules is missing or stale."""
    modules = os.path.join(CLIENT, "node_modules")
    lock = os.path.join(CLIENT, "package-lock.json")
    if os.path.isdir(modules) and os.path.getmtime(modules) >= os.path.getmtime(lock):
        return
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=CLIENT,
                   check=True, stdout=subprocess.DEVNULL, timeout=900)
    os.utime(modules)


def stop_reader(proc, timeout):
    """SIGTERM a reader such as firehose.mjs (it then writes its summary),
    SIGKILL it after `timeout` seconds; returns what it wrote to stderr."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    stderr = proc.stderr.read()
    proc.stderr.close()
    return stderr


class Process:
    """A server printing "listening on URL ..." as its first line; stderr
    goes to a log file (where the PDS writes the account deletion token)."""

    def __init__(self, argv, log_path, timeout=120):
        self.log_path = log_path
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.log, text=True)
        box = []
        reader = threading.Thread(target=lambda: box.append(self.proc.stdout.readline()),
                                  daemon=True)
        reader.start()
        reader.join(timeout)
        line = box[0] if box else ""
        prefix = "listening on "
        if not line.startswith(prefix):
            self.stop()
            with open(log_path) as f:
                raise RuntimeError(f"{argv[0]} did not start: {line!r} {f.read()[-3000:]}")
        self.words = line[len(prefix):].split()
        self.url = self.words[0]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.log.close()
        return self.proc.returncode


def wait_for(url, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} never answered")


def read_lines(path):
    """The JSON lines a reader has written so far. A line counts once its
    newline is there: read while the writer is at work, the last one may be
    only partly written."""
    out = []
    if os.path.exists(path):
        with open(path) as f:
            for text in f:
                if not text.endswith("\n"):
                    break
                text = text.strip()
                if text.startswith("{"):
                    out.append(json.loads(text))
    return out


class PdsClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        install_packages()
        cls.tmp = tempfile.mkdtemp(prefix="pds-client-test-")
        cls.servers = []
        if OFFICIAL:
            # run.sh installs the official server's packages first (minutes, once).
            pds = Process([OFFICIAL_PDS, "--data", os.path.join(cls.tmp, "pds")],
                          os.path.join(cls.tmp, "pds.log"), timeout=900)
            cls.servers.append(pds)
            cls.pds_url, cls.plc_url = pds.url, pds.words[2]
        else:
            plc = Process([PLC, "--port", "0", "--data", os.path.join(cls.tmp, "plc")],
                          os.path.join(cls.tmp, "plc.log"))
            cls.servers.append(plc)
            cls.plc_url = plc.url
            argv = [PDS, "--port", "0", "--data", os.path.join(cls.tmp, "pds"), "--plc",
                    plc.url, "--allow-private-addresses", "true"]
            if os.path.isdir(LEXICONS):
                argv += ["--lexicon-dir", LEXICONS]
            pds = Process(argv, os.path.join(cls.tmp, "pds.log"))
            cls.servers.append(pds)
            cls.pds_url = pds.url
        cls.pds_log = pds.log_path
        wait_for(cls.pds_url + "/xrpc/com.atproto.server.describeServer")

    @classmethod
    def tearDownClass(cls):
        for server in reversed(cls.servers):
            server.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def node(self, script, *args, **kw):
        return ["node", os.path.join(CLIENT, script), self.pds_url, "--plc", self.plc_url, *args]

    def test_lifecycle_with_the_official_client_and_a_verified_firehose(self):
        events_path = os.path.join(self.tmp, "firehose.jsonl")
        # From cursor 0: the backlog first, then live, so nothing is missed
        # while the consumer connects.
        firehose = subprocess.Popen(self.node("firehose.mjs", "--cursor", "0", "--timeout", "240",
                                              "--out", events_path),
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            argv = self.node("client-lifecycle.mjs", "--server-log", self.pds_log)
            if OFFICIAL:
                argv.append("--refresh-grace")  # its documented 2-hour reuse window
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=240)
            lines = [json.loads(t) for t in proc.stdout.splitlines() if t.startswith("{")]
            checks = [line for line in lines if "check" in line]
            failed = [line for line in checks if not line["ok"]]
            self.assertEqual(failed, [], "\n" + "\n".join(json.dumps(f) for f in failed)
                             + proc.stderr[-2000:])
            self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
            self.assertGreaterEqual(len(checks), 35)
            summary = lines[-1]
            did, expect = summary["did"], summary["expect"]

            # Wait for the account's deletion to reach the consumer (or for
            # its first error: that fails the test below anyway).
            deadline = time.time() + 60
            while time.time() < deadline:
                events = read_lines(events_path)
                if any(e.get("type") == "error" for e in events) or any(
                        e.get("type") == "account" and e.get("did") == did
                        and e.get("status") == "deleted" for e in events):
                    break
                time.sleep(0.1)
        finally:
            stderr = stop_reader(firehose, 30)
        events = read_lines(events_path)
        self.assertTrue(events and "summary" in events[-1], f"no summary: {stderr[-2000:]}")
        errors = [e for e in events if e.get("type") == "error"]
        self.assertEqual(errors[:3], [], f"the consumer raised {len(errors)} errors")
        self.assertTrue(events[-1]["summary"]["increasing"], "seqs not strictly increasing")
        body = [e for e in events if "type" in e]
        seqs = [e["seq"] for e in body]
        self.assertEqual(seqs, sorted(set(seqs)), "seqs not strictly increasing")
        unverified = [e for e in body if not e.get("verified")]
        self.assertEqual(unverified, [], "events the official consumer did not verify")

        mine = [e for e in body if e["did"] == did]
        ops = [op for e in mine if e["type"] == "commit" for op in e["ops"]]
        self.assertEqual(ops, expect["writes"],
                         "the firehose's operations are not the lifecycle's writes")
        handles = [e.get("verifiedHandle") for e in mine if e["type"] == "identity"]
        for change in expect["identity"]:
            self.assertIn(change["handle"], handles, "handle change missing or unverified")
        statuses = [{"active": e["active"], **({"status": e["status"]} if e.get("status") else {})}
                    for e in mine if e["type"] == "account"]
        # The lifecycle's status changes, in order (a server may send more,
        # such as an #account beside an #identity).
        want = iter(statuses)
        for change in expect["account"]:
            self.assertTrue(any(s == change for s in want),
                            f"account change {change} missing or out of order in {statuses}")


def main():
    global OFFICIAL
    if "--official" in sys.argv:
        OFFICIAL = True
        sys.argv.remove("--official")
    unittest.main()


if __name__ == "__main__":
    main()

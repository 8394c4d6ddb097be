#!/usr/bin/python3
"""atproto-plc end to end, over real sockets on loopback.

- the plc-directory suite (atproto-conformance --plc-directory) passes
  against our server [plc.directory.submit] [plc.directory.no-fork];
- every case of the suite can fail: the server started with a deliberate
  --fault fails exactly the cases listed in FAULTS, no more, no fewer;
- kill -9 while operations are being submitted loses nothing that was
  acknowledged [plc.directory.durable];
- SIGTERM stops it cleanly, --help lists every flag and fault.

Needs the build (ATPROTO_BUILD, default build/asan) and Python's
`cryptography` (the same as tools/gen-plc-vectors.py, whose encoders and
keys sign the operations of the durability test).
"""
import concurrent.futures
import importlib.util
import json
import os
import random
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("ATPROTO_BUILD", os.path.join(ROOT, "build", "asan"))
PLC = os.path.join(BUILD, "reference", "plc", "atproto-plc")
CONFORMANCE = os.path.join(BUILD, "conformance", "atproto-conformance")

_spec = importlib.util.spec_from_file_location("plcvectors",
                                               os.path.join(ROOT, "tools", "gen-plc-vectors.py"))
plcvectors = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(plcvectors)

# The cases each fault must fail (ids without the "plc-directory." prefix).
# Why each fails is in the fault's --help line; a case missing from every
# set would be a case nothing shows able to fail (checked below).
FAULTS = {
    "accept-bad-signature": {
        "reject.bad-signature", "reject.unlisted-key", "reject.high-s",
        "reject.padded-signature", "reject.signature-trailing-bits", "update.rotate-keys",
    },
    "accept-invalid": {
        "reject.bad-signature", "reject.unlisted-key", "reject.high-s",
        "reject.padded-signature", "reject.signature-trailing-bits", "reject.wrong-prev",
        "reject.second-genesis", "reject.update-unknown-did", "reject.did-mismatch",
        "reject.oversized", "reject.too-many-rotation-keys", "reject.duplicate-rotation-keys",
        "update.rotate-keys", "recovery.needs-higher-priority", "tombstone.final",
        "concurrent.no-fork",
    },
    "no-nullification": {
        "recovery.within-72h", "recovery.chain", "tombstone.recovered",
        "export.created-at-cursor",
    },
    "no-serialization": {"concurrent.no-fork"},
    "tombstone-not-found": {"tombstone.gone"},
    "stale-reads": {
        "update.resolve", "update.data", "update.log", "update.last", "recovery.within-72h",
        "recovery.chain", "tombstone.gone", "tombstone.recovered",
    },
    "include-nullified": {"recovery.within-72h", "recovery.chain"},
    "audit-wrong-cid": {
        "create.audit-log", "update.audit-log", "update.rotate-keys", "recovery.within-72h",
        "recovery.chain", "recovery.needs-higher-priority", "tombstone.gone", "tombstone.final",
        "tombstone.recovered", "reject.unlisted-key", "reject.wrong-prev",
        "reject.second-genesis", "concurrent.no-fork", "export.created-at-cursor",
        "export.sequenced",
    },
    "drop-handle": {
        "create.resolve", "create.p256-rotation-keys", "update.resolve", "update.data",
        "recovery.within-72h", "tombstone.recovered",
    },
    "export-ignores-after": {"export.created-at-cursor", "export.sequenced"},
    "export-ignores-count": {"export.count"},
    "no-sequenced-export": {"export.sequenced"},
    "unknown-as-empty": {
        "not-found", "reject.bad-signature", "reject.update-unknown-did", "reject.did-mismatch",
        "reject.oversized", "reject.too-many-rotation-keys", "reject.duplicate-rotation-keys",
        "reject.high-s", "reject.padded-signature", "reject.signature-trailing-bits",
    },
    "malformed-as-500": {"reject.malformed-json", "reject.not-an-operation"},
    "wrong-content-type": {"create.content-type"},
    "reject-p256": {"create.p256-rotation-keys"},
}


OFFICIAL = os.path.join(ROOT, "conformance", "peers", "plc-official")


class Server:
    """atproto-plc (or another command printing "listening on URL") on a free
    loopback port; stop() sends SIGTERM."""

    def __init__(self, data_dir, *extra, argv=None):
        self.data_dir = data_dir
        self.proc = subprocess.Popen(argv or [PLC, "--port", "0", "--data", data_dir, *extra],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self._first_line(timeout=300)  # run.sh may install its packages first
        prefix = "listening on "
        if not line.startswith(prefix):
            self.proc.kill()
            raise RuntimeError(f"atproto-plc did not start: {line!r} {self.proc.stderr.read()}")
        self.url = line[len(prefix):].strip()
        self._wait_healthy()

    def _first_line(self, timeout):
        box = []
        reader = threading.Thread(target=lambda: box.append(self.proc.stdout.readline()),
                                  daemon=True)
        reader.start()
        reader.join(timeout)
        return box[0] if box else ""

    def _wait_healthy(self):
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/_health", timeout=5) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("atproto-plc never became healthy")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()
        return self.proc.returncode

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.proc.stdout.close()
        self.proc.stderr.close()


def run_suite(url, *extra):
    proc = subprocess.run([CONFORMANCE, "--plc-directory", url, "--allow-private", "--format",
                           "json", *extra], capture_output=True, text=True, timeout=300)
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"no JSON report (exit {proc.returncode}): {proc.stderr[-3000:]}")
    return proc, report


def failing(report):
    prefix = "plc-directory."
    return {r["id"][len(prefix):] for r in report["results"]
            if r["outcome"] in ("fail", "non-strict", "informational")}


def http(method, url, body=None, timeout=10):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


class PlcServerTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="plc-server-test-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_help_lists_every_flag_and_fault(self):
        out = subprocess.run([PLC, "--help"], capture_output=True, text=True, timeout=30).stdout
        for flag in ("--port", "--data", "--host", "--threads", "--fault", "--version"):
            self.assertIn(flag, out)
        for fault in FAULTS:
            self.assertIn(fault, out)
        bad = subprocess.run([PLC, "--port", "0"], capture_output=True, text=True, timeout=30)
        self.assertEqual(bad.returncode, 2)

    def test_the_suite_passes_against_our_server_and_sigterm_stops_it(self):
        server = Server(os.path.join(self.tmp, "data"))
        try:
            proc, report = run_suite(server.url)
            self.assertEqual(proc.returncode, 0, failing(report))
            self.assertGreaterEqual(len(report["results"]), 30)
            self.assertEqual(failing(report), set())
            self.assertEqual({r["outcome"] for r in report["results"]}, {"pass"})
            # Cases are independent: a second run against the same data passes too.
            proc, report = run_suite(server.url, "--filter", "plc-directory.create.*")
            self.assertEqual(proc.returncode, 0, failing(report))
            # Loopback is refused unless allowed.
            refused = subprocess.run([CONFORMANCE, "--plc-directory", server.url], text=True,
                                     capture_output=True, timeout=60)
            self.assertEqual(refused.returncode, 2)
            self.assertIn("--allow-private", refused.stderr)
        finally:
            self.assertEqual(server.stop(), 0)

    def test_each_fault_fails_exactly_its_cases(self):
        listing = subprocess.run(
            [CONFORMANCE, "--suite", "plc-directory", "--list"], capture_output=True, text=True,
            timeout=60)
        ids = {line.split()[0][len("plc-directory."):] for line in listing.stdout.splitlines()
               if line.startswith("plc-directory.")}
        self.assertGreaterEqual(len(ids), 30)
        shown = set().union(*FAULTS.values())
        self.assertEqual(ids - shown, set(), "cases no fault shows able to fail")
        self.assertEqual(shown - ids, set(), "FAULTS names cases that do not exist")

        def one(fault):
            server = Server(os.path.join(self.tmp, fault), "--fault", fault)
            try:
                _, report = run_suite(server.url)
                return fault, failing(report), report
            finally:
                server.stop()

        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            for fault, failed, report in pool.map(one, FAULTS):
                with self.subTest(fault=fault):
                    self.assertEqual(failed, FAULTS[fault], {
                        r["id"]: r.get("message", "") for r in report["results"]
                        if r["id"][len("plc-directory."):] in failed ^ FAULTS[fault]})

    def test_the_official_servers_divergences_are_pinned(self):
        # @did-plc/server in memory, as its bin.js runs without a database.
        server = Server(None, argv=[os.path.join(OFFICIAL, "run.sh")])
        try:
            expected = os.path.join(OFFICIAL, "expected-failures.txt")
            proc, report = run_suite(server.url, "--expect-fail", expected)
            self.assertEqual(proc.returncode, 0, failing(report))
            with open(expected) as f:
                pinned = {line.split()[0] for line in f
                          if line.strip() and not line.startswith("#")}
            self.assertEqual({r["id"] for r in report["results"]
                              if r["outcome"] == "expected-fail"}, pinned)
        finally:
            server.stop()

    def test_kill_9_loses_nothing_acknowledged(self):
        data = os.path.join(self.tmp, "data")
        server = Server(data)
        acknowledged = []  # (did, cid)
        stop = threading.Event()
        run = random.Random().getrandbits(64)

        def submit():
            i = 0
            while not stop.is_set():
                i += 1
                genesis = plcvectors.K_ROTATION.sign(plcvectors.regular(
                    [plcvectors.K_RECOVERY, plcvectors.K_ROTATION], handle=f"k{run}x{i}.test"))
                did = plcvectors.did_of(genesis)
                update = plcvectors.K_ROTATION.sign(plcvectors.regular(
                    [plcvectors.K_RECOVERY, plcvectors.K_ROTATION], handle=f"k{run}y{i}.test",
                    prev=plcvectors.op_cid(genesis)))
                for op in (genesis, update):
                    try:
                        status, _ = http("POST", f"{server.url}/{did}", op, timeout=5)
                    except OSError:
                        return
                    if status != 200:
                        return
                    acknowledged.append((did, plcvectors.op_cid(op)))

        workers = [threading.Thread(target=submit) for _ in range(3)]
        for w in workers:
            w.start()
        deadline = time.time() + 60
        while len(acknowledged) < 40 and time.time() < deadline:
            time.sleep(0.01)
        server.kill9()  # while the submitters are still sending
        stop.set()
        for w in workers:
            w.join(30)
        self.assertGreaterEqual(len(acknowledged), 40)

        restarted = Server(data)
        try:
            missing = []
            for did, cid in list(acknowledged):
                status, body = http("GET", f"{restarted.url}/{did}/log/audit")
                if status != 200 or cid not in {e["cid"] for e in json.loads(body)}:
                    missing.append((did, cid))
            self.assertEqual(missing, [], f"{len(missing)} of {len(acknowledged)} lost")
        finally:
            restarted.stop()


if __name__ == "__main__":
    unittest.main()

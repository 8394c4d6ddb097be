#!/usr/bin/python3
"""The pds suite (atproto-conformance --pds) end to end, over real sockets on
loopback, against atproto-pds (with atproto-plc as its DID directory):

- write mode passes every case against our PDS, and a run that executed
  nothing is a failure;
- read-only mode (--read-only --account) passes against an account made
  here, and writes nothing (the repository's commit is unchanged);
- every case can fail: the suite run through pds-fault-proxy with one
  --fault fails exactly the cases listed in FAULTS, no more, no fewer;
- with ATPROTO_PDS_OFFICIAL=1, the official PDS
  (conformance/peers/pds-official) fails only the cases pinned, with their
  reasons, in its expected-failures.txt.

Needs the build (ATPROTO_BUILD, default build/asan) and generated/lexicons
(tools/fetch-lexicons).
"""
import concurrent.futures
import importlib.util
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("ATPROTO_BUILD", os.path.join(ROOT, "build", "asan"))
PLC = os.path.join(BUILD, "reference", "plc", "atproto-plc")
PDS = os.path.join(BUILD, "reference", "pds", "atproto-pds")
PROXY = os.path.join(BUILD, "conformance", "pds-fault-proxy")
CONFORMANCE = os.path.join(BUILD, "conformance", "atproto-conformance")
LEXICONS = os.path.join(ROOT, "generated", "lexicons")
OFFICIAL = os.path.join(ROOT, "conformance", "peers", "pds-official")
# Our own PDS's known divergences (each with its reason).
OURS_EXPECTED = os.path.join(ROOT, "conformance", "pds-expected-failures.txt")
ADMIN_PASSWORD = "conformance-admin"

# One Server class for every service the tests start (atproto-plc's test).
_spec = importlib.util.spec_from_file_location(
    "plc_server_test", os.path.join(ROOT, "reference", "plc", "plc_server_test.py"))
plc_server_test = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(plc_server_test)

# The cases each proxy fault must fail (ids without the "pds." prefix). Why
# each fails is in the fault's --help line and the notes below.
FIREHOSE_WINDOW = {
    # Every case that reads the window of the scripted writes (but
    # firehose.cursor.inclusive, graded informational).
    "firehose.commit.each-write", "firehose.commit.signature", "firehose.commit.inversion",
    "firehose.order", "firehose.cursor.replay",
}
FAULTS = {
    "drop-www-authenticate": {"auth.required", "auth.malformed-token"},
    # Every refusal the suite expects becomes a 5xx; the cases that only
    # see successes pass (and xrpc.unknown-method: atproto-pds answers 501).
    "client-errors-as-500": {
        "session.create", "session.revoked", "session.token-types", "session.app-password",
        "auth.required", "auth.malformed-token", "auth.tampered-token", "auth.wrong-audience",
        "record.delete", "record.not-found", "record.apply-writes", "record.swap-commit",
        "record.swap-record", "record.validate", "record.keys", "record.size",
        "blob.limit", "xrpc.bad-params", "xrpc.malformed-body",
        "xrpc.oversized-body", "xrpc.wrong-method", "account.deactivate", "record.type",
    },
    "drop-blob-headers": {"blob.headers"},
    # verified_repo reads the whole export.
    "corrupt-repo-block": {
        "sync.get-repo", "sync.get-repo.block-order", "sync.latest-commit", "sync.get-blocks",
    },
    # The first answer per DID is replayed: every later comparison with the
    # repository's real head fails.
    "stale-latest-commit": {
        "record.swap-commit", "sync.latest-commit", "sync.get-repo-since",
        "firehose.order",
    },
    "well-known-wrong-did": {"identity.well-known"},
    # The first two messages of each connection are swapped: the live window
    # and the replay start out of order.
    "reorder-events": {"firehose.order", "firehose.cursor.replay"},
    "duplicate-events": FIREHOSE_WINDOW,
    "corrupt-prevdata": {"firehose.commit.inversion"},
    # Events before the cursor come back.
    "stale-cursor": {"firehose.cursor.replay"},
    "drop-identity-events": {"firehose.identity"},
    "drop-account-events": {"account.deactivate"},
    "drop-error-frames": {"firehose.future-cursor"},
    "wrong-record-cid": {
        "record.create-get", "record.put", "record.apply-writes", "record.swap-record",
    },
    "list-drops-record": {"record.list", "sync.get-repo"},
    "describe-without-did": {"server.describe", "identity.document"},
    # listed_records reads the collections from describeRepo.
    "describe-repo-no-collections": {"repo.describe", "sync.get-repo"},
    # The old handle keeps resolving to the account.
    "stale-resolve-handle": {"identity.update-handle"},
    "refresh-reuses-token": {"session.refresh"},
    "corrupt-record-proof": {"sync.record-proof"},
    "corrupt-blob": {"blob.upload-get"},
    "admin-forbidden": {"account.cleanup"},
}
# Cases no proxy fault shows failing: account.create reads the DID document
# from the PLC directory, which the proxy does not stand in front of;
# firehose.cursor.inclusive is informational (it reports a reading, it never
# fails); atproto-pds answers an unknown method with 501, which
# client-errors-as-500 leaves alone.
UNBREAKABLE_BY_PROXY = {"account.create", "firehose.cursor.inclusive", "xrpc.unknown-method"}


class Service(plc_server_test.Server):
    """A server printing "listening on URL" (the official PDS's server.mjs
    adds " plc URL"), healthy at /xrpc/_health."""

    def _wait_healthy(self):
        self.url, _, self.plc_url = self.url.partition(" plc ")
        deadline = time.time() + 60
        while time.time() < deadline:
            for path in ("/xrpc/_health", "/_health"):
                try:
                    with urllib.request.urlopen(self.url + path, timeout=5) as r:
                        if r.status == 200:
                            return
                except OSError:
                    pass
            time.sleep(0.05)
        raise RuntimeError(f"{self.url} never became healthy")


def run_suite(url, *extra, timeout=600):
    proc = subprocess.run([CONFORMANCE, "--pds", url, "--allow-private", "--format", "json",
                           *extra], capture_output=True, text=True, timeout=timeout)
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"no JSON report (exit {proc.returncode}): {proc.stderr[-3000:]}")
    return proc, report


# Reports which reading of the cursor a server takes (see pds_suite.cpp): its
# informational outcome is a finding about the server, never a fault's doing.
CURSOR_READING = "firehose.cursor.inclusive"


def failing(report):
    """Cases that did not pass: failures, and "should"/"may" cases whose
    check did not hold (non-strict, informational), but the cursor reading."""
    prefix = "pds."
    return {r["id"][len(prefix):] for r in report["results"]
            if r["outcome"] in ("fail", "non-strict", "informational")} - {CURSOR_READING}


def messages(report, ids):
    return {r["id"]: r.get("message", "") for r in report["results"]
            if r["id"][len("pds."):] in ids}


def pinned(path):
    with open(path) as f:
        return {line.split()[0] for line in f if line.strip() and not line.startswith("#")}


def xrpc(base, nsid, body=None, token=None, raw=None, content_type="application/json"):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    headers = {"content-type": content_type} if data is not None else {}
    if token:
        headers["authorization"] = "Bearer " + token
    req = urllib.request.Request(f"{base}/xrpc/{nsid}", data=data, headers=headers,
                                 method="POST" if data is not None else "GET")
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


class PdsSuiteTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="pds-suite-test-")
        cls.plc = Service(os.path.join(cls.tmp, "plc"))
        try:
            cls.pds = Service(None, argv=[
                PDS, "--port", "0", "--data", os.path.join(cls.tmp, "pds"), "--plc",
                cls.plc.url, "--allow-private-addresses", "true", "--admin-password",
                ADMIN_PASSWORD, "--lexicon-dir", LEXICONS])
        except Exception:
            cls.plc.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.pds.stop()
        cls.plc.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def suite(self, url, *extra):
        return run_suite(url, "--plc", self.plc.url, "--admin-password", ADMIN_PASSWORD,
                         "--expect-fail", OURS_EXPECTED, *extra)

    def test_help_lists_every_fault_and_the_table_covers_the_suite(self):
        out = subprocess.run([PROXY, "--help"], capture_output=True, text=True,
                             timeout=30).stdout
        listed = {line.split()[0] for line in out.splitlines()
                  if line.startswith(" " * 22) and line.split()}
        self.assertEqual(listed, set(FAULTS))
        bad = subprocess.run([PROXY, "--upstream", self.pds.url, "--fault", "no-such-fault"],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(bad.returncode, 2)
        listing = subprocess.run([CONFORMANCE, "--suite", "pds", "--list"], capture_output=True,
                                 text=True, timeout=60)
        ids = {line.split()[0][len("pds."):] for line in listing.stdout.splitlines()
               if line.startswith("pds.")}
        self.assertGreaterEqual(len(ids), 40)
        shown = set().union(*FAULTS.values())
        self.assertEqual(shown - ids, set(), "FAULTS names cases that do not exist")
        self.assertEqual(ids - shown - UNBREAKABLE_BY_PROXY, set(),
                         "cases no fault shows able to fail")

    def test_write_mode_passes_against_our_pds(self):
        proc, report = self.suite(self.pds.url)
        self.assertEqual(proc.returncode, 0, messages(report, failing(report)))
        self.assertGreaterEqual(len(report["results"]), 40)
        # Informational: firehose.cursor.inclusive reports the reading of the
        # cursor a server takes (see pds_suite.cpp); it never fails a run.
        self.assertLessEqual({r["outcome"] for r in report["results"]},
                             {"pass", "expected-fail", "informational"})
        self.assertEqual({r["id"] for r in report["results"] if r["outcome"] == "informational"},
                         {"pds.firehose.cursor.inclusive"})
        self.assertEqual({r["id"] for r in report["results"] if r["outcome"] == "expected-fail"},
                         pinned(OURS_EXPECTED))
        # Loopback is refused unless allowed; a filter that runs nothing
        # is an error, and a run of skips fails.
        refused = subprocess.run([CONFORMANCE, "--pds", self.pds.url], text=True,
                                 capture_output=True, timeout=60)
        self.assertEqual(refused.returncode, 2)
        self.assertIn("--allow-private", refused.stderr)
        nothing = subprocess.run([CONFORMANCE, "--pds", self.pds.url, "--allow-private",
                                  "--filter", "pds.no-such-case"], text=True,
                                 capture_output=True, timeout=60)
        self.assertEqual(nothing.returncode, 2)

    def test_read_only_mode_checks_an_account_without_writing(self):
        handle = f"ro{int(time.time() * 1000) % 10**9}.test"
        made = xrpc(self.pds.url, "com.atproto.server.createAccount",
                    {"handle": handle, "email": f"{handle}@example.com", "password": "pw-ro-1"})
        token, did = made["accessJwt"], made["did"]
        xrpc(self.pds.url, "com.atproto.repo.createRecord", {
            "repo": did, "collection": "app.bsky.feed.post",
            "record": {"$type": "app.bsky.feed.post", "text": "read me",
                       "createdAt": "2026-12-06T10:00:00.000Z"}}, token)
        blob = xrpc(self.pds.url, "com.atproto.repo.uploadBlob", raw=b"read-only blob\n",
                    content_type="text/plain", token=token)["blob"]
        xrpc(self.pds.url, "com.atproto.repo.createRecord", {
            "repo": did, "collection": "com.example.conformance.thing",
            "record": {"$type": "com.example.conformance.thing", "file": blob}}, token)
        before = xrpc(self.pds.url, f"com.atproto.sync.getLatestCommit?did={did}")
        proc, report = self.suite(self.pds.url, "--read-only", "--account", handle)
        self.assertEqual(proc.returncode, 0, messages(report, failing(report)))
        self.assertGreaterEqual(len(report["results"]), 15)
        self.assertEqual({r["outcome"] for r in report["results"]}, {"pass"})
        after = xrpc(self.pds.url, f"com.atproto.sync.getLatestCommit?did={did}")
        self.assertEqual(before, after, "read-only mode changed the repository")
        usage = subprocess.run([CONFORMANCE, "--pds", self.pds.url, "--read-only"], text=True,
                               capture_output=True, timeout=60)
        self.assertEqual(usage.returncode, 2)

    def test_each_fault_fails_exactly_its_cases(self):
        def one(fault):
            proxy = Service(None, argv=[PROXY, "--upstream", self.pds.url, "--fault", fault])
            try:
                _, report = self.suite(proxy.url)
                return fault, failing(report), report
            finally:
                proxy.stop()

        # The runs mostly wait on the PDS and the firehose: three at a time.
        with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
            for fault, failed, report in pool.map(one, FAULTS):
                with self.subTest(fault=fault):
                    self.assertEqual(failed, FAULTS[fault],
                                     messages(report, failed ^ FAULTS[fault]))

    @unittest.skipUnless(os.environ.get("ATPROTO_PDS_OFFICIAL") == "1",
                         "the official PDS run is opt-in (ATPROTO_PDS_OFFICIAL=1)")
    def test_the_official_pds_divergences_are_pinned(self):
        server = Service(None, argv=[os.path.join(OFFICIAL, "run.sh")])
        try:
            expected = os.path.join(OFFICIAL, "expected-failures.txt")
            proc, report = run_suite(server.url, "--plc", server.plc_url, "--expect-fail",
                                     expected)
            self.assertEqual(proc.returncode, 0, messages(report, failing(report)))
            self.assertEqual({r["id"] for r in report["results"]
                              if r["outcome"] == "expected-fail"}, pinned(expected))
        finally:
            server.stop()


if __name__ == "__main__":
    unittest.main()

#!/usr/bin/python3
"""The relay suite (atproto-conformance --relay URL --plc URL) end to end,
over real sockets on loopback, against atproto-relay with atproto-plc as the
DID directory both the relay and the runner use:

- every case passes against our relay, and again on a second run against the
  same relay (each case makes fresh accounts);
- the CLI refuses a run without --plc, and a loopback relay without
  --allow-private;
- every case can fail: atproto-relay-with-fault (the test-only build of the
  relay, reference/relay/fault.hpp) with one ATPROTO_RELAY_FAULT fails
  exactly the cases listed in FAULTS, no more, no fewer, and every case of
  the suite is in some fault's list.

Needs the build (ATPROTO_BUILD, default build/asan).
"""
import concurrent.futures
import importlib.util
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("ATPROTO_BUILD", os.path.join(ROOT, "build", "asan"))
PLC = os.path.join(BUILD, "reference", "plc", "atproto-plc")
RELAY = os.path.join(BUILD, "reference", "relay", "atproto-relay")
RELAY_WITH_FAULT = os.path.join(BUILD, "reference", "relay", "atproto-relay-with-fault")
CONFORMANCE = os.path.join(BUILD, "conformance", "atproto-conformance")

# The servers the tests start, as the pds suite's test starts them.
_spec = importlib.util.spec_from_file_location(
    "pds_suite_test", os.path.join(ROOT, "conformance", "pds_suite_test.py"))
pds_suite_test = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pds_suite_test)

# The cases each fault must fail (ids without the "relay." prefix). A
# checklist rule's id as a fault disables that rule (fault.hpp).
FAULTS = {
    # api.latest-commit drops a badly signed commit after the good one.
    "sync.check.signature": {"firehose.signature-invalid", "api.latest-commit"},
    "sync.check.fields-match": {"firehose.fields-match", "firehose.fields-match-did"},
    "sync.check.structure": {"firehose.structure"},
    # queued-during-resync sends the commit the fetch covers again.
    "sync.check.rev-order": {"firehose.rev-replay", "firehose.rev-older",
                             "firehose.queued-during-resync"},
    "sync.check.rev-future": {"firehose.rev-future"},
    "sync.check.inversion": {"firehose.inversion"},
    # queued-during-resync waits for the getRepo the broken chain asks for.
    "sync.check.since": {"firehose.since-gap", "firehose.queued-during-resync"},
    "sync.check.prev-data": {"firehose.prev-data-mismatch"},
    "sync.check.sync-reset": {"firehose.sync-reset"},
    "sync.check.identity": {"firehose.identity-no-pds", "firehose.identity-no-key"},
    "sync.check.host": {"firehose.wrong-host", "firehose.account-wrong-host"},
    "sync.check.active": {"firehose.inactive"},
    "sync.limits.commit-ops": {"firehose.commit-ops-limit"},
    "sync.check.identity-event": {"firehose.identity-event"},
    "sync.check.account-event": {"firehose.inactive", "firehose.takedown"},
    "no-identity-refresh": {"firehose.signature-stale-key"},
    # firehose.inactive: the commit sent while the account was deactivated
    # was dropped, so the chain after the reactivation needs a resync.
    "no-resync": {"firehose.since-gap", "firehose.prev-data-mismatch", "firehose.sync-reset",
                  "firehose.inactive", "firehose.queued-during-resync"},
    "drop-during-resync": {"firehose.queued-during-resync"},
    "skip-bad-frames": {"firehose.malformed-frame"},
    "unknown-types-hard": {"firehose.unknown-type"},
    "keep-after-error": {"firehose.error-frame"},
    "upstream-seq": {"output.seq", "output.replay"},
    "drop-ops": {"firehose.first-commit", "firehose.chain"},
    "ignore-cursor": {"output.replay", "output.future-cursor"},
    "latest-commit-not-found": {"api.latest-commit", "firehose.takedown"},
    "repo-status-active": {"firehose.inactive"},
    # The resync cases read the fetched rev from getRepoStatus.
    "repo-status-no-rev": {"api.repo-status", "firehose.since-gap",
                           "firehose.prev-data-mismatch", "firehose.sync-reset"},
    "list-repos-empty": {"api.list-repos"},
    "hosts-unknown": {"api.hosts"},
    "request-crawl-accepts": {"api.request-crawl"},
}
PREFIX = "relay."


def failing(report):
    """Cases that did not pass: failures, and "should"/"may" cases whose
    check did not hold (non-strict, informational)."""
    return {r["id"][len(PREFIX):] for r in report["results"]
            if r["outcome"] in ("fail", "non-strict", "informational")}


def messages(report, ids):
    return {r["id"]: r.get("message", "") for r in report["results"]
            if r["id"][len(PREFIX):] in ids}


def run_suite(url, plc_url, *extra, timeout=600):
    proc = subprocess.run([CONFORMANCE, "--relay", url, "--plc", plc_url, "--allow-private",
                           "--format", "json", *extra],
                          capture_output=True, text=True, timeout=timeout)
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"no JSON report (exit {proc.returncode}): {proc.stderr[-3000:]}")
    return proc, report


def start_relay(binary, data_dir, plc_url, fault=None):
    """atproto-relay, or its fault build with one fault (env(1) execs the
    relay, so that stopping the Service signals the relay itself)."""
    env = ["env", f"ATPROTO_RELAY_FAULT={fault}"] if fault else []
    return pds_suite_test.Service(None, argv=[*env, binary, "--port", "0", "--data", data_dir,
                                              "--plc", plc_url, "--allow-private-addresses"])


class RelaySuiteTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="relay-suite-test-")
        cls.plc = pds_suite_test.Service(os.path.join(cls.tmp, "plc"))
        try:
            cls.relay = start_relay(RELAY, os.path.join(cls.tmp, "relay"), cls.plc.url)
        except Exception:
            cls.plc.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.relay.stop()
        cls.plc.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_every_case_passes_against_our_relay_twice(self):
        for attempt in (1, 2):
            with self.subTest(run=attempt):
                proc, report = run_suite(self.relay.url, self.plc.url)
                self.assertEqual(proc.returncode, 0, messages(report, failing(report)))
                self.assertGreaterEqual(len(report["results"]), 30)
                self.assertEqual({r["outcome"] for r in report["results"]}, {"pass"})

    def test_usage_errors(self):
        no_plc = subprocess.run([CONFORMANCE, "--relay", self.relay.url, "--allow-private"],
                                capture_output=True, text=True, timeout=60)
        self.assertEqual(no_plc.returncode, 2)
        self.assertIn("--plc", no_plc.stderr)
        refused = subprocess.run([CONFORMANCE, "--relay", self.relay.url, "--plc", self.plc.url],
                                 capture_output=True, text=True, timeout=60)
        self.assertEqual(refused.returncode, 2)
        self.assertIn("--allow-private", refused.stderr)

    def test_the_fault_table_covers_the_faults_and_the_suite(self):
        unknown = subprocess.run(["env", "ATPROTO_RELAY_FAULT=no-such-fault", RELAY_WITH_FAULT,
                                  "--port", "0", "--data", os.path.join(self.tmp, "unknown")],
                                 capture_output=True, text=True, timeout=60)
        self.assertEqual(unknown.returncode, 2)
        listed = {line.split()[0] for line in unknown.stderr.splitlines()
                  if line.startswith("  ") and line.split()}
        self.assertEqual(listed, set(FAULTS))
        listing = subprocess.run([CONFORMANCE, "--suite", "relay", "--list"],
                                 capture_output=True, text=True, timeout=60)
        ids = {line.split()[0][len(PREFIX):] for line in listing.stdout.splitlines()
               if line.startswith(PREFIX)}
        self.assertGreaterEqual(len(ids), 30)
        shown = set().union(*FAULTS.values())
        self.assertEqual(shown - ids, set(), "FAULTS names cases that do not exist")
        self.assertEqual(ids - shown, set(), "cases no fault shows able to fail")
        with open(os.path.join(ROOT, "docs", "relay-suite.md")) as f:
            documented = {m[len(PREFIX):] for m in re.findall(r"`(relay\.[a-z.-]+)`", f.read())}
        self.assertEqual(documented, ids, "docs/relay-suite.md's case table is not the suite's")

    def test_each_fault_fails_exactly_its_cases(self):
        def one(fault):
            relay = start_relay(RELAY_WITH_FAULT, os.path.join(self.tmp, "fault-" + fault),
                                self.plc.url, fault)
            try:
                # A case waiting for what a fault never sends waits this long.
                _, report = run_suite(relay.url, self.plc.url, "--timeout-ms", "3000")
                return fault, failing(report), report
            finally:
                relay.stop()

        # The runs mostly wait on the relay: three at a time.
        with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
            for fault, failed, report in pool.map(one, FAULTS):
                with self.subTest(fault=fault):
                    self.assertEqual(failed, FAULTS[fault],
                                     messages(report, failed ^ FAULTS[fault]))


if __name__ == "__main__":
    unittest.main()

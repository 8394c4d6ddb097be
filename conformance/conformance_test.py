#!/usr/bin/python3
"""End-to-end tests of atproto-conformance and atproto-adapter.

They prove the runner can pass and can fail: the suite must pass against our
reference (in-process and over HTTP), report exactly the affected cases for
an adapter that is deliberately wrong in one narrow way, honour expected
failures, skip unsupported operations, replay interop-test files, and run
against the official TypeScript and the atcute implementations with their
recorded divergences.

Usage: ATPROTO_BUILD=build/asan python3 conformance/conformance_test.py
"""
import base64
import contextlib
import glob
import hashlib
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import unittest
import urllib.request
import xml.dom.minidom

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.abspath(os.environ.get("ATPROTO_BUILD", os.path.join(ROOT, "build", "asan")))
RUNNER = os.path.join(BUILD, "conformance", "atproto-conformance")
ADAPTER = os.path.join(BUILD, "conformance", "atproto-adapter")
SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed, (\d+) skipped$")
# Keep runs short and deterministic.
FAST = ["--property-cases", "30", "--fuzz-iterations", "600", "--seed", "7"]
BASE32 = "234567abcdefghijklmnopqrstuvwxyz"


def run(*args, timeout=600):
    return subprocess.run([RUNNER, *args], cwd=ROOT, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=timeout)


def json_report(*args):
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        path = f.name
    try:
        proc = run(*args, "--format", "json", "--out", path, "--format", "text")
        with open(path) as f:
            return proc, json.load(f)
    finally:
        os.unlink(path)
        # Long request bodies of reproduction commands go next to the report.
        shutil.rmtree(path + ".requests", ignore_errors=True)


def last_line(text):
    lines = [l for l in text.splitlines() if l.strip()]
    return lines[-1] if lines else ""


@contextlib.contextmanager
def started(argv, cwd=ROOT):
    """Starts an adapter that prints 'listening on http://...' and yields its URL."""
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    try:
        line = proc.stdout.readline()
        m = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
        if not m:
            raise RuntimeError(f"{argv[0]} did not start: {line!r}")
        yield m.group(1)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()


def vector_cases(type_name):
    out = []
    for path in glob.glob(os.path.join(ROOT, "vectors", "syntax", "*.json")):
        with open(path) as f:
            doc = json.load(f)
        if doc.get("type") != type_name or doc.get("operation", "validate") != "validate":
            continue
        out += [c for c in doc["cases"] if isinstance(c.get("input"), str)]
    return out


def failed_ids(report):
    return {r["id"] for r in report["results"] if r["outcome"] in ("fail", "unexpected-pass")}


class ReferenceRuns(unittest.TestCase):
    def test_in_process_reference_passes_everything(self):
        proc, report = json_report("--suite", "syntax", *FAST)
        self.assertEqual(proc.returncode, 0, proc.stdout[-3000:])
        m = SUMMARY.match(last_line(proc.stdout))
        self.assertTrue(m, last_line(proc.stdout))
        self.assertEqual(int(m.group(2)), 0)
        kinds = {r["kind"] for r in report["results"]}
        self.assertEqual(kinds, {"vector", "property", "fuzz"})
        self.assertGreaterEqual(sum(r["kind"] == "vector" for r in report["results"]), 880)

    def test_adapter_over_http_passes_everything(self):
        with started([ADAPTER, "--port", "0"]) as url:
            proc, report = json_report("--adapter", url, "--suite", "syntax", *FAST)
        self.assertEqual(proc.returncode, 0, proc.stdout[-3000:])
        self.assertEqual(failed_ids(report), set())
        # Only vectors no operation carries are skipped, each with its reason.
        skipped = [r for r in report["results"] if r["outcome"] == "skipped"]
        self.assertTrue(all(r["kind"] == "vector" and "unit tests run it" in r["message"]
                            for r in skipped), skipped[:3])

    def test_list_prints_ids_without_running(self):
        proc = run("--list", "--filter", "syntax.vector.tid.*")
        self.assertEqual(proc.returncode, 0)
        lines = proc.stdout.strip().splitlines()
        # Every tid vector, the byte-level ones (reported skipped) included.
        with open(os.path.join(ROOT, "vectors", "syntax", "tid.json")) as f:
            self.assertEqual(len(lines), len(json.load(f)["cases"]))
        self.assertTrue(all(l.startswith("syntax.vector.tid.") for l in lines))
        self.assertTrue(any("tid.syntax.first-char" in l for l in lines))


class BrokenAdapter(unittest.TestCase):
    """An adapter that flips the verdict for TIDs with the top bit set."""

    def expected_tid_failures(self):
        ids = set()
        for c in vector_cases("tid"):
            v = c["input"]
            if len(v) == 13 and all(ch in BASE32 for ch in v) and BASE32.index(v[0]) >= 16:
                ids.add("syntax.vector." + c["id"])
        return ids

    def test_reports_exactly_the_broken_cases(self):
        expected = self.expected_tid_failures()
        self.assertTrue(expected, "the vectors need TIDs with the top bit set")
        with started([ADAPTER, "--port", "0", "--fault", "tid-high-bit"]) as url:
            proc, report = json_report("--adapter", url, "--suite", "syntax",
                                       "--filter", "syntax.vector.*", *FAST)
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(failed_ids(report), expected)
        m = SUMMARY.match(last_line(proc.stdout))
        self.assertTrue(m, last_line(proc.stdout))
        self.assertEqual(int(m.group(2)), len(expected))
        # The text report says what was sent, what came back, the spec URL and a curl line.
        self.assertIn("https://atproto.com/specs/tid#", proc.stdout)
        self.assertIn("curl -sS -X POST", proc.stdout)
        # The summary by requirement comes first: one line per rule, one example.
        head = proc.stdout.split("\nFAIL ", 1)[0]
        self.assertRegex(head, r"by requirement \(%d cases" % len(expected))
        self.assertRegex(head, r"\n +%d  tid\.syntax\.first-char \(must\) https://" % len(expected))
        self.assertEqual(head.count("e.g. syntax.vector.tid."), 1)

    def test_fuzzing_and_properties_find_the_fault_and_minimize_it(self):
        with started([ADAPTER, "--port", "0", "--fault", "tid-high-bit"]) as url:
            proc, report = json_report("--adapter", url, "--suite", "syntax",
                                       "--filter", "syntax.fuzz.tid", "--filter",
                                       "syntax.property.tid.*", "--fuzz-iterations", "20000",
                                       "--property-cases", "200", "--seed", "3")
        self.assertEqual(proc.returncode, 1, proc.stdout[-2000:])
        fuzz = [r for r in report["results"] if r["id"] == "syntax.fuzz.tid"][0]
        self.assertEqual(fuzz["outcome"], "fail")
        vectors = fuzz["suggested_vector"]
        vectors = vectors if isinstance(vectors, list) else [vectors]
        for v in vectors:
            # Minimized and ready to add: a 13-character TID with the top bit set.
            self.assertEqual(len(v["input"]), 13, v)
            self.assertGreaterEqual(BASE32.index(v["input"][0]), 16, v)
            self.assertFalse(v["valid"])
            self.assertEqual(v["error"], "tid.syntax.first-char")

    def test_expected_failures_pin_known_divergences(self):
        expected = sorted(self.expected_tid_failures())
        with tempfile.TemporaryDirectory() as tmp:
            pinned = os.path.join(tmp, "expected.txt")
            with open(pinned, "w") as f:
                f.write("# known: the adapter accepts TIDs with the top bit set\n")
                for i in expected:
                    f.write(f"{i}  accepts a TID whose first character sets bit 63\n")
            with started([ADAPTER, "--port", "0", "--fault", "tid-high-bit"]) as url:
                args = ["--adapter", url, "--suite", "syntax", "--filter", "syntax.vector.*"]
                ok = run(*args, "--expect-fail", pinned)
                self.assertEqual(ok.returncode, 0, ok.stdout[-2000:])
                # A pinned case that now passes is itself a failure.
                with open(pinned, "a") as f:
                    f.write("syntax.vector.tid.valid.zero  pinned by mistake\n")
                stale = run(*args, "--expect-fail", pinned)
                self.assertEqual(stale.returncode, 1)
                self.assertIn("unexpected-pass", stale.stdout)
                # An entry without a reason is refused.
                with open(pinned, "a") as f:
                    f.write("syntax.vector.tid.valid.other\n")
                bad = run(*args, "--expect-fail", pinned)
                self.assertEqual(bad.returncode, 2)

    def test_every_report_format_is_well_formed(self):
        with started([ADAPTER, "--port", "0", "--fault", "handle-uppercase"]) as url, \
                tempfile.TemporaryDirectory() as tmp:
            paths = {f: os.path.join(tmp, "report." + f) for f in
                     ("json", "junit", "tap", "html", "text")}
            args = ["--adapter", url, "--suite", "syntax", "--filter", "syntax.vector.handle.*"]
            for f, p in paths.items():
                args += ["--format", f, "--out", p]
            proc = run(*args)
            self.assertEqual(proc.returncode, 1)
            with open(paths["json"]) as f:
                report = json.load(f)
            failures = failed_ids(report)
            self.assertTrue(failures)
            for c in vector_cases("handle"):
                has_upper = any("A" <= ch <= "Z" for ch in c["input"])
                self.assertEqual("syntax.vector." + c["id"] in failures, has_upper, c)
            dom = xml.dom.minidom.parse(paths["junit"])
            self.assertEqual(len(dom.getElementsByTagName("failure")), len(failures))
            with open(paths["tap"]) as f:
                tap = f.read()
            self.assertEqual(len(re.findall(r"^not ok ", tap, re.M)), len(failures))
            with open(paths["html"]) as f:
                page = f.read()
            self.assertIn("<html", page)
            # The rules at stake come before the per-case table, one example each.
            self.assertLess(page.index("<h2>By requirement"), page.index("<h2>Results other"))
            with open(paths["text"]) as f:
                m = SUMMARY.match(last_line(f.read()))
            self.assertEqual(int(m.group(2)), len(failures))


class DataSuite(unittest.TestCase):
    def test_data_suite_passes_over_http(self):
        with started([ADAPTER, "--port", "0"]) as url:
            proc, report = json_report("--adapter", url, "--suite", "data", *FAST)
        self.assertEqual(proc.returncode, 0, proc.stdout[-3000:])
        kinds = {r["kind"] for r in report["results"]}
        self.assertEqual(kinds, {"vector", "property", "fuzz"})
        self.assertGreaterEqual(sum(r["kind"] == "vector" for r in report["results"]), 300)

    def test_a_lenient_encoder_fails_exactly_the_float_cases(self):
        with open(os.path.join(ROOT, "vectors", "data", "encode.json")) as f:
            doc = json.load(f)
        expected = {"data.vector." + c["id"] for c in doc["cases"]
                    if "json" in c and c.get("error") == "data.model.no-floats"}
        self.assertTrue(expected)
        with started([ADAPTER, "--port", "0", "--fault", "data-accept-floats"]) as url:
            proc, report = json_report("--adapter", url, "--suite", "data",
                                       "--filter", "data.vector.*")
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(failed_ids(report), expected)


class CarSuite(unittest.TestCase):
    def test_the_reference_passes_the_car_suite(self):
        proc, report = json_report("--suite", "car", *FAST)
        self.assertEqual(proc.returncode, 0, proc.stdout[-2000:])
        kinds = {r["kind"] for r in report["results"]}
        self.assertEqual(kinds, {"vector", "property", "fuzz"})
        self.assertGreaterEqual(sum(r["kind"] == "vector" for r in report["results"]), 80)

    def test_a_reader_that_skips_the_hash_check_is_caught(self):
        with open(os.path.join(ROOT, "vectors", "car", "read.json")) as f:
            doc = json.load(f)
        hash_cases = {"car.vector." + c["id"] for c in doc["cases"]
                      if c.get("error") == "car.block.cid-matches"}
        with started([ADAPTER, "--port", "0", "--fault", "car-skip-cid-check"]) as url:
            proc, report = json_report("--adapter", url, "--suite", "car", *FAST)
        self.assertEqual(proc.returncode, 1)
        failed = failed_ids(report)
        # Vectors: only hash-mismatch files, and those whose other checks pass.
        failed_vectors = {i for i in failed if i.startswith("car.vector.")}
        self.assertTrue(failed_vectors)
        self.assertLessEqual(failed_vectors, hash_cases)
        self.assertIn("car.vector.car.read.invalid.hash-mismatch-data-changed", failed_vectors)
        # The one-byte-change property and the fuzzer find it too, and hand
        # back reproducers whose verdict is the hash rule.
        self.assertIn("car.property.read.one-byte-changed", failed)
        self.assertIn("car.fuzz.read", failed)
        by_id = {r["id"]: r for r in report["results"]}
        found = by_id["car.fuzz.read"]["suggested_vector"]
        self.assertTrue(found)
        for vector in found:
            self.assertEqual(vector["error"], "car.block.cid-matches")
        prop = by_id["car.property.read.one-byte-changed"]["suggested_vector"]
        self.assertEqual(prop["error"], "car.block.cid-matches")


class JsonHandler(http.server.BaseHTTPRequestHandler):
    """A test adapter's plumbing: JSON answers, no logging."""

    def log_message(self, *args):
        pass

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class AcceptsHighS(JsonHandler):
    """A verifier that normalizes instead of rejecting: it forwards every call
    to a real adapter (UPSTREAM) and turns a crypto/verify answer rejected for
    the low-S rule into valid, as a library that accepts (r, n-s) would."""

    UPSTREAM = ""

    def log_message(self, *args):
        pass

    def forward(self, body=None):
        import urllib.request
        req = urllib.request.Request(self.UPSTREAM + self.path, data=body,
                                     headers={"content-type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())

    def do_GET(self):
        self.reply(*self.forward())

    def do_POST(self):
        status, body = self.forward(self.rfile.read(int(self.headers.get("content-length", "0"))))
        if self.path.endswith("/crypto/verify") and body.get("code") == "crypto.sig.low-s":
            body = {"valid": True}
        self.reply(status, body)


class CryptoSuite(unittest.TestCase):
    def test_the_reference_passes_the_crypto_suite(self):
        proc, report = json_report("--suite", "crypto", *FAST)
        self.assertEqual(proc.returncode, 0, proc.stdout[-2000:])
        kinds = {r["kind"] for r in report["results"]}
        self.assertEqual(kinds, {"vector", "property", "fuzz"})
        self.assertGreaterEqual(sum(r["kind"] == "vector" for r in report["results"]), 130)

    def test_a_verifier_that_accepts_high_s_is_caught(self):
        with open(os.path.join(ROOT, "vectors", "crypto", "verify.json")) as f:
            doc = json.load(f)
        high_s = {"crypto.vector." + c["id"] for c in doc["cases"]
                  if c.get("error") == "crypto.sig.low-s"}
        self.assertGreaterEqual(len(high_s), 10)
        with started([ADAPTER, "--port", "0"]) as upstream:
            handler = type("Proxy", (AcceptsHighS,), {"UPSTREAM": upstream})
            server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            try:
                url = f"http://127.0.0.1:{server.server_address[1]}"
                proc, report = json_report("--adapter", url, "--suite", "crypto", *FAST)
            finally:
                server.shutdown()
                server.server_close()
        self.assertEqual(proc.returncode, 1)
        failed = failed_ids(report)
        # Exactly the high-S vectors, and the property that makes high-S twins.
        self.assertEqual({i for i in failed if i.startswith("crypto.vector.")}, high_s)
        self.assertIn("crypto.property.verify.generated", failed)
        by_id = {r["id"]: r for r in report["results"]}
        found = by_id["crypto.property.verify.generated"]["suggested_vector"]
        self.assertEqual(found["error"], "crypto.sig.low-s")
        self.assertFalse(found["valid"])


class AcceptsEveryRepo(http.server.BaseHTTPRequestHandler):
    """A verifier that checks nothing: repo/verify always says ok."""

    def log_message(self, *args):
        pass

    def reply(self, body):
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.reply({"name": "accepts-everything", "version": "0", "operations": ["repo/verify"]})

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", "0")))
        self.reply({"ok": True, "rev": "", "data": "", "records": []})


class RepoSuites(unittest.TestCase):
    def test_the_reference_passes_the_mst_and_repo_suites(self):
        proc, report = json_report("--suite", "mst", "--suite", "repo", *FAST)
        self.assertEqual(proc.returncode, 0, proc.stdout[-2000:])
        kinds = {(r["suite"], r["kind"]) for r in report["results"]}
        self.assertEqual(kinds, {("mst", "vector"), ("mst", "property"), ("repo", "vector"),
                                 ("repo", "property")})
        self.assertGreaterEqual(sum(r["suite"] == "mst" for r in report["results"]), 60)
        self.assertGreaterEqual(sum(r["suite"] == "repo" for r in report["results"]), 25)

    def test_a_verifier_that_checks_nothing_fails_every_defect(self):
        with open(os.path.join(ROOT, "vectors", "repo", "verify.json")) as f:
            doc = json.load(f)
        invalid = {"repo.vector." + c["id"] for c in doc["cases"]
                   if not c["valid"] and c.get("check") == "verify"}
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), AcceptsEveryRepo)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            url = f"http://127.0.0.1:{server.server_address[1]}"
            proc, report = json_report("--adapter", url, "--suite", "repo", *FAST)
        finally:
            server.shutdown()
        self.assertEqual(proc.returncode, 1)
        failed = failed_ids(report)
        self.assertLessEqual(invalid, failed)
        self.assertIn("repo.property.verify.generated", failed)


class AcceptsEveryRecord(http.server.BaseHTTPRequestHandler):
    """A Lexicon validator that checks nothing: every document and record is valid."""

    def log_message(self, *args):
        pass

    def reply(self, body):
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.reply({"name": "accepts-every-record", "version": "0",
                    "operations": ["lexicon/validate-schema", "lexicon/validate-record"]})

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", "0")))
        if self.path.endswith("/lexicon/validate-params"):
            self.send_response(404)
            self.send_header("content-length", "0")
            self.end_headers()
            return
        self.reply({"valid": True})


class LexiconSuite(unittest.TestCase):
    def test_the_reference_passes_the_lexicon_suite(self):
        proc, report = json_report("--suite", "lexicon", *FAST)
        self.assertEqual(proc.returncode, 0, proc.stdout[-2000:])
        kinds = {r["kind"] for r in report["results"]}
        self.assertEqual(kinds, {"vector", "property", "fuzz"})
        self.assertGreaterEqual(sum(r["kind"] == "vector" for r in report["results"]), 200)

    def test_the_adapter_passes_the_lexicon_suite_over_http(self):
        with started([ADAPTER, "--port", "0"]) as url:
            proc, report = json_report("--adapter", url, "--suite", "lexicon", *FAST)
        self.assertEqual(proc.returncode, 0, proc.stdout[-2000:])
        self.assertFalse([r for r in report["results"] if r["outcome"] != "pass"])

    def test_a_validator_that_accepts_everything_is_caught(self):
        invalid = set()
        for name in ("schema", "record", "graphemes"):
            with open(os.path.join(ROOT, "vectors", "lexicon", name + ".json")) as f:
                invalid |= {"lexicon.vector." + c["id"] for c in json.load(f)["cases"]
                            if not c["valid"]}
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), AcceptsEveryRecord)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            url = f"http://127.0.0.1:{server.server_address[1]}"
            proc, report = json_report("--adapter", url, "--suite", "lexicon", *FAST)
        finally:
            server.shutdown()
            server.server_close()
        self.assertEqual(proc.returncode, 1)
        failed = failed_ids(report)
        # Exactly the invalid vectors fail; valid ones pass; params are skipped.
        self.assertEqual({i for i in failed if ".vector." in i}, invalid)
        outcomes = {r["id"]: r["outcome"] for r in report["results"]}
        self.assertTrue(all(o == "skipped" for i, o in outcomes.items() if "validate-params" in i))
        # The one-violation property and the record fuzzer find it too, with
        # reproducers the reference rejects.
        self.assertIn("lexicon.property.validate-record.one-violation", failed)
        self.assertNotIn("lexicon.property.validate-record.generated", failed)
        self.assertIn("lexicon.fuzz.validate-record", failed)
        by_id = {r["id"]: r for r in report["results"]}
        prop = by_id["lexicon.property.validate-record.one-violation"]["suggested_vector"]
        self.assertFalse(prop["valid"])
        self.assertTrue(prop["error"].startswith(("lex.validate.", "data.")))


class AcceptsEveryLog(http.server.BaseHTTPRequestHandler):
    """A did:plc validator that checks nothing: every audit log is valid."""

    def log_message(self, *args):
        pass

    def reply(self, body):
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.reply({"name": "accepts-every-log", "version": "0", "operations": ["plc/validate-log"]})

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", "0")))
        self.reply({"valid": True, "document": {}})


class ClaimsTombstonedWithDocument(AcceptsEveryLog):
    """Says every log is valid, tombstoned, and still gives a document."""

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", "0")))
        self.reply({"valid": True, "tombstoned": True, "document": {}})


class PlcSuite(unittest.TestCase):
    def test_the_reference_passes_the_plc_suite(self):
        proc, report = json_report("--suite", "plc", *FAST)
        self.assertEqual(proc.returncode, 0, proc.stdout[-2000:])
        kinds = {r["kind"] for r in report["results"]}
        self.assertEqual(kinds, {"vector", "property"})
        self.assertGreaterEqual(sum(r["kind"] == "vector" for r in report["results"]), 50)

    def test_the_adapter_passes_the_plc_suite_over_http(self):
        with started([ADAPTER, "--port", "0"]) as url:
            proc, report = json_report("--adapter", url, "--suite", "plc", *FAST)
        self.assertEqual(proc.returncode, 0, proc.stdout[-2000:])
        # Every plc/validate-log case passes; the operation and DID-document
        # vectors, which no protocol operation carries, are reported skipped.
        ran = [r for r in report["results"] if r["operation"] == "plc/validate-log"]
        self.assertGreaterEqual(len(ran), 60)
        self.assertFalse([r["id"] for r in ran if r["outcome"] != "pass"])
        rest = [r for r in report["results"] if r["operation"] != "plc/validate-log"]
        self.assertTrue(rest)
        self.assertFalse([r["id"] for r in rest
                          if r["outcome"] != "skipped" or "no adapter-protocol operation" not in r["message"]])

    def test_a_validator_that_accepts_every_log_is_caught(self):
        with open(os.path.join(ROOT, "vectors", "plc", "audit-log.json")) as f:
            cases = json.load(f)["cases"]
        # Invalid logs fail on the verdict, valid ones on the (empty) document.
        every = {"plc.vector." + c["id"] for c in cases}
        proc, report = report_against(AcceptsEveryLog, "--suite", "plc", *FAST)
        self.assertEqual(proc.returncode, 1)
        failed = failed_ids(report)
        self.assertEqual({i for i in failed if ".vector." in i}, every)
        self.assertIn("plc.property.validate-log.one-damage", failed)
        by_id = {r["id"]: r for r in report["results"]}
        found = by_id["plc.property.validate-log.one-damage"]["suggested_vector"]
        self.assertFalse(found["valid"])
        self.assertTrue(found["error"].startswith("plc."))

    def test_tombstoned_answers_are_checked(self):
        # [plc.tombstoned] A valid log ending in a tombstone is answered
        # tombstoned: true with no document. An adapter claiming tombstoned
        # for live DIDs, or giving a document for a deactivated one, fails.
        with open(os.path.join(ROOT, "vectors", "plc", "audit-log.json")) as f:
            cases = json.load(f)["cases"]
        tombstoned = {"plc.vector." + c["id"] for c in cases if c.get("tombstoned")}
        self.assertGreaterEqual(len(tombstoned), 2)
        every = {"plc.vector." + c["id"] for c in cases}
        proc, report = report_against(ClaimsTombstonedWithDocument, "--suite", "plc", *FAST)
        self.assertEqual(proc.returncode, 1)
        self.assertEqual({i for i in failed_ids(report) if ".vector." in i}, every)
        by_id = {r["id"]: r for r in report["results"]}
        for i in tombstoned:
            self.assertIn("gave a DID document", by_id[i]["message"])


class NothingSupported(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        body = json.dumps({"name": "empty", "version": "0", "operations": []}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        self.send_response(404)
        self.send_header("content-length", "0")
        self.end_headers()


class Unsupported(unittest.TestCase):
    def test_unsupported_operations_are_skipped_not_failed(self):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NothingSupported)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            url = f"http://127.0.0.1:{server.server_address[1]}"
            proc, report = json_report("--adapter", url, "--suite", "syntax", *FAST)
        finally:
            server.shutdown()
            server.server_close()
        # Nothing ran: a CI must not read that as green.
        self.assertEqual(proc.returncode, 1, proc.stdout[-2000:])
        self.assertIn("no case ran", proc.stderr)
        outcomes = {r["outcome"] for r in report["results"]}
        self.assertEqual(outcomes, {"skipped"})
        m = SUMMARY.match(last_line(proc.stdout))
        self.assertEqual((int(m.group(1)), int(m.group(2))), (0, 0))
        self.assertEqual(int(m.group(3)), len(report["results"]))


class InteropFiles(unittest.TestCase):
    """Files in the atproto-interop-tests formats, written by us."""

    def write(self, tmp, name, lines):
        os.makedirs(os.path.join(tmp, "syntax"), exist_ok=True)
        with open(os.path.join(tmp, "syntax", name), "w") as f:
            f.write("# a comment line\n\n" + "\n".join(lines) + "\n")

    def test_interop_text_files_are_replayed(self):
        with tempfile.TemporaryDirectory() as tmp:
            self.write(tmp, "handle_syntax_valid.txt", ["jay.bsky.social", "a.co"])
            self.write(tmp, "handle_syntax_invalid.txt", ["john.0", "name.org."])
            self.write(tmp, "tid_syntax_invalid.txt", ["3jzfcijpj2z21", "zzzzzzzzzzzzz"])
            self.write(tmp, "datetime_parse_invalid.txt", ["1985-00-12T23:20:50.123Z"])
            self.write(tmp, "recordkey_syntax_valid.txt", ["self", "pre:fix"])
            proc, report = json_report("--suite", "interop", "--interop-tests", tmp)
            self.assertEqual(proc.returncode, 0, proc.stdout[-2000:])
            self.assertEqual(len(report["results"]), 9)
            # A wrong expectation in the files shows up as a failure of that line.
            self.write(tmp, "handle_syntax_valid.txt", ["jay.bsky.social", "cn.8"])
            proc, report = json_report("--suite", "interop", "--interop-tests", tmp)
            self.assertEqual(proc.returncode, 1)
            self.assertEqual(len(failed_ids(report)), 1)
            with started([ADAPTER, "--port", "0", "--fault", "tid-high-bit"]) as url:
                proc, report = json_report("--adapter", url, "--suite", "interop",
                                           "--interop-tests", tmp)
            failing = [r for r in report["results"] if r["outcome"] == "fail"]
            self.assertEqual(sorted(r["sent"]["value"] for r in failing), ["cn.8", "zzzzzzzzzzzzz"])


def serve(handler):
    """Runs an http.server handler class on a free loopback port; yields its URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def report_against(handler, *args):
    """json_report(*args) with --adapter the handler class, served on loopback."""
    server, url = serve(handler)
    try:
        return json_report("--adapter", url, *args)
    finally:
        server.shutdown()
        server.server_close()


# Vector folders no runner suite reads, and why; every other folder's vectors
# must each be a case (run, or reported skipped with its reason).
FOLDERS_WITHOUT_SUITE = {
    # Handle resolution needs a DNS server and a web server per case; no
    # adapter operation carries it yet. identity_net_tests replays it.
    "identity",
    # Firehose event sequences with a relay's verdict per frame; no adapter
    # operation carries a verdict yet (the relay service suite will).
    # sync_tests replays them.
    "sync",
}


def vector_count():
    n = 0
    folders = set()
    for path in glob.glob(os.path.join(ROOT, "vectors", "*", "*.json")):
        folder = os.path.basename(os.path.dirname(path))
        folders.add(folder)
        if folder in FOLDERS_WITHOUT_SUITE:
            continue
        with open(path) as f:
            n += len(json.load(f).get("cases", []))
    # A folder listed here that no longer exists is a stale exception.
    assert FOLDERS_WITHOUT_SUITE <= folders, FOLDERS_WITHOUT_SUITE - folders
    return n


class EchoAdapter(JsonHandler):
    """Lists data/encode, keeps every request body as received and answers
    "ok" with the value of "n" echoed back (Python's json keeps big ints)."""
    bodies = []
    operations = ["data/encode"]

    def do_GET(self):
        self.reply(200, {"name": "echo", "version": "0", "operations": self.operations})

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
        self.bodies.append(raw)
        value = json.loads(raw)["json"]
        echo = value.get("n") if isinstance(value, dict) else None
        self.reply(200, {"ok": True, "cbor": "oA==", "cid": "bafy", "n": echo})


class CarOnly501(EchoAdapter):
    """Lists car/read and answers 501 to everything: nothing can run."""
    operations = ["car/read"]

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.reply(501, {"error": "not here"})


class Newcomer(unittest.TestCase):
    """What a new user meets: no silent green runs, exact numbers, every
    vector accounted for, generated docs."""

    def test_integers_keep_every_digit_on_the_wire_and_in_reports(self):
        EchoAdapter.bodies = []
        server, url = serve(EchoAdapter)
        try:
            proc, report = json_report("--adapter", url, "--suite", "data", "--filter",
                                       "data.vector.data.encode.invalid.int-*", "--filter",
                                       "data.vector.data.encode.invalid.duplicate-key", *FAST)
        finally:
            server.shutdown()
            server.server_close()
        sent = "\n".join(EchoAdapter.bodies)
        for digits in ("-9223372036854775809", "18446744073709551616", "18446744073709551615",
                       "123456789012345678901234567890"):
            self.assertIn(digits, sent)
            self.assertIn(digits, proc.stdout)  # the text report's sent and got lines
        self.assertNotIn("e+18", sent)
        # json_text vectors travel as written: the repeated key reaches the adapter.
        self.assertIn('{"json":{"a": 1, "a": 2}}', EchoAdapter.bodies)
        by_id = {r["id"]: r for r in report["results"]}
        r = by_id["data.vector.data.encode.invalid.int-minus-2p63-minus-1"]
        self.assertEqual(r["outcome"], "fail")
        self.assertEqual(r["sent"]["json"]["n"], -9223372036854775809)
        self.assertEqual(r["received"]["n"], -9223372036854775809)

    def test_capabilities_choose_the_suites_and_a_run_of_skips_fails(self):
        server, url = serve(CarOnly501)
        try:
            listed = run("--adapter", url, "--list")
            proc = run("--adapter", url, *FAST)
        finally:
            server.shutdown()
            server.server_close()
        ids = [l.split()[0] for l in listed.stdout.splitlines()]
        self.assertTrue(ids)
        self.assertEqual({i.split(".")[0] for i in ids}, {"car"})
        self.assertEqual(proc.returncode, 1, proc.stdout[-2000:])
        self.assertIn("no case ran", proc.stderr)
        self.assertEqual(last_line(proc.stdout), f"0 passed, 0 failed, {len(ids)} skipped")

    def test_a_filter_that_matches_nothing_is_an_error(self):
        proc = run("--suite", "syntax", "--filter", "data.*")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("--filter 'data.*' matches no case", proc.stderr)
        self.assertIn("add --suite data", proc.stderr)

    def test_expected_failures_of_suites_not_run_say_so(self):
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
            f.write("data.vector.data.encode.invalid.int-2p64 pinned for the test\n")
            f.write("syntax.vector.no-such-case pinned for the test\n")
        try:
            proc = run("--suite", "syntax", "--filter", "syntax.vector.tid.valid.*",
                       "--expect-fail", f.name)
        finally:
            os.unlink(f.name)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("data.vector.data.encode.invalid.int-2p64: suite data was not run", proc.stderr)
        self.assertIn("syntax.vector.no-such-case matches no case", proc.stderr)

    def test_every_vector_is_a_case(self):
        proc = run("--list")  # every suite the reference answers
        self.assertEqual(proc.returncode, 0, proc.stderr)
        vectors = [l for l in proc.stdout.splitlines() if l.split()[1] == "vector"]
        self.assertEqual(len(vectors), vector_count())
        # Those no operation carries are reported skipped with their reason.
        proc, report = json_report("--suite", "crypto", "--filter", "crypto.vector.crypto.did-key.*")
        self.assertEqual(proc.returncode, 1)  # nothing ran
        self.assertTrue(report["results"])
        self.assertTrue(all(r["outcome"] == "skipped" and "no adapter-protocol operation"
                            in r["message"] for r in report["results"]))

    def test_codec_profile_leaves_out_record_rules(self):
        proc = run("--list", "--profile", "codec")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        rows = [l.split() for l in proc.stdout.splitlines()]
        self.assertEqual({r[0].split(".")[0] for r in rows}, {"data", "car"})
        record_rules = ("data.model.record-object", "data.model.type-field", "data.blob.",
                        "car.roots.commit-included")
        for r in rows:
            self.assertFalse(any(req.startswith(record_rules) for req in r[3].split(",")), r)
        self.assertIn("data.vector.data.encode.invalid.int-2p64", [r[0] for r in rows])
        self.assertNotIn("data.vector.data.encode.invalid.top-integer", [r[0] for r in rows])
        proc = run("--suite", "syntax", "--profile", "codec")
        self.assertEqual(proc.returncode, 2)

    def test_suite_lists_are_generated(self):
        table = run("--list-suites", "--markdown")
        self.assertEqual(table.returncode, 0, table.stderr)
        with open(os.path.join(ROOT, "docs", "conformance.md")) as f:
            self.assertTrue(table.stdout in f.read(),
                            "paste `atproto-conformance --list-suites --markdown` into "
                            "docs/conformance.md:\n" + table.stdout)
        usage = run("--help").stdout
        for line in table.stdout.splitlines()[2:]:
            self.assertIn(line.split("`")[1], usage)

    def test_long_reproduction_bodies_go_to_a_file(self):
        with tempfile.TemporaryDirectory() as tmp, \
                started([ADAPTER, "--port", "0", "--fault", "car-skip-cid-check"]) as url:
            out = os.path.join(tmp, "report.txt")
            proc = run("--adapter", url, "--suite", "car", "--filter",
                       "car.vector.car.read.invalid.hash-mismatch-data-changed",
                       "--format", "text", "--out", out)
            self.assertEqual(proc.returncode, 1, proc.stderr)
            with open(out) as f:
                text = f.read()
            m = re.search(r"reproduce: +curl .* --data-binary @'([^']+)' ", text)
            self.assertTrue(m, text[-2000:])
            self.assertTrue(m.group(1).startswith(out + ".requests/"))
            with open(m.group(1)) as f:
                self.assertIn('"car":', f.read())


def protocol_operations():
    """The operations of docs/adapter-protocol.md's table."""
    with open(os.path.join(ROOT, "docs", "adapter-protocol.md")) as f:
        return re.findall(r"^\| `([a-z]+/[a-z-]+)` \|", f.read(), re.M)


KEY_HEIGHT_PY = """
import hashlib, sys
sys.path.insert(0, {folder!r})
import adapter

def key_height(request):
    digest = hashlib.sha256(request["key"].encode()).digest()
    zeros = 0
    for byte in digest:
        if byte:
            zeros += 8 - byte.bit_length()
            break
        zeros += 8
    return {{"height": zeros // 2}}

adapter.OPERATIONS["mst/key-height"] = key_height
adapter.main()
"""

KEY_HEIGHT_JS = """
import {{ createHash }} from 'node:crypto';
import {{ operations, main }} from {module!r};
operations['mst/key-height'] = (request) => {{
  const digest = createHash('sha256').update(request.key, 'utf8').digest();
  let zeros = 0;
  for (const byte of digest) {{
    if (byte) {{ zeros += Math.clz32(byte) - 24; break; }}
    zeros += 8;
  }}
  return {{ height: Math.floor(zeros / 2) }};
}};
main();
"""


class Templates(unittest.TestCase):
    """The template adapters: every operation answered, none claimed; one
    plugged-in operation gives real results."""

    def check(self, plain, plugged, source):
        with open(source) as f:
            text = f.read()
        for op in protocol_operations():
            self.assertIn(op, text)
        with started(plain) as url:
            chosen = run("--adapter", url)
            forced = run("--adapter", url, "--suite", "mst", *FAST)
        self.assertEqual(chosen.returncode, 2, chosen.stderr)
        self.assertIn("no suite applies", chosen.stderr)
        self.assertEqual(forced.returncode, 1, forced.stderr)
        self.assertIn("no case ran", forced.stderr)
        with started(plugged) as url:
            proc, report = json_report("--adapter", url, *FAST)
        self.assertEqual(proc.returncode, 0, proc.stdout[-3000:])
        outcomes = {}
        for r in report["results"]:
            outcomes.setdefault(r["operation"], set()).add(r["outcome"])
        self.assertEqual(outcomes.pop("mst/key-height"), {"pass"})
        self.assertEqual(set().union(*outcomes.values()), {"skipped"})

    def test_python_template(self):
        folder = os.path.join(ROOT, "conformance", "adapters", "template-python")
        source = os.path.join(folder, "adapter.py")
        with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
            f.write(KEY_HEIGHT_PY.format(folder=folder))
        try:
            self.check([sys.executable, source, "--port", "0"],
                       [sys.executable, f.name, "--port", "0"], source)
        finally:
            os.unlink(f.name)

    @unittest.skipUnless(shutil.which("node"), "node is needed")
    def test_javascript_template(self):
        source = os.path.join(ROOT, "conformance", "adapters", "template-js", "adapter.mjs")
        with tempfile.NamedTemporaryFile("w", suffix=".mjs", delete=False) as f:
            f.write(KEY_HEIGHT_JS.format(module="file://" + source))
        try:
            self.check(["node", source, "--port", "0"], ["node", f.name, "--port", "0"], source)
        finally:
            os.unlink(f.name)


def vector_file(path):
    with open(os.path.join(ROOT, "vectors", path)) as f:
        return json.load(f)


def b64(hex_text):
    return base64.b64encode(bytes.fromhex(hex_text)).decode().rstrip("=")


def write_json(root, path, value):
    os.makedirs(os.path.dirname(os.path.join(root, path)), exist_ok=True)
    with open(os.path.join(root, path), "w") as f:
        json.dump(value, f)


def by_family(report):
    """{family: {outcome: count}} for the interop cases, family = second id segment."""
    out = {}
    for r in report["results"]:
        family = r["id"].split(".")[1]
        out.setdefault(family, {}).setdefault(r["outcome"], 0)
        out[family][r["outcome"]] += 1
    return out


class JudgesLogsByLength(AcceptsEveryRepo):
    """Lists plc/validate-log and calls a log valid when it has one entry."""

    def do_GET(self):
        self.reply({"name": "plc", "version": "0", "operations": ["plc/validate-log"]})

    def do_POST(self):
        request = json.loads(self.rfile.read(int(self.headers["content-length"])))
        self.reply({"valid": len(request["log"]) == 1 and request["did"] == request["log"][0]["did"]})


class InteropJsonFixtures(unittest.TestCase):
    """Every JSON fixture family of atproto-interop-tests (and did-method-plc's audit
    logs), in files of the official formats that we fill from our own vectors."""

    def checkout(self, tmp):
        verify = [c for c in vector_file("crypto/verify.json")["cases"] if "signature_hex" in c][:6]
        write_json(tmp, "crypto/signature-fixtures.json", [
            {"comment": c["id"], "messageBase64": b64(c["message_hex"]), "algorithm": "x",
             "publicKeyDid": c["public_key"], "signatureBase64": b64(c["signature_hex"]),
             "validSignature": c["valid"]} for c in verify])
        keys = [c for c in vector_file("crypto/parse-key.json")["cases"] if c["valid"]]
        for curve, alg in (("K256", "ES256K"), ("P256", "ES256")):
            write_json(tmp, "crypto/w3c_didkey_%s.json" % curve, [
                {"privateKeyBytesHex": "00", "publicDidKey": c["input"]}
                for c in keys if c["jwt_alg"] == alg][:2])
        encode = vector_file("data/encode.json")["cases"]
        write_json(tmp, "data-model/data-model-fixtures.json", [
            {"json": c["json"], "cbor_base64": b64(c["cbor_hex"]), "cid": c["cid"]}
            for c in encode if c["valid"] and "cbor_hex" in c][:4])
        write_json(tmp, "data-model/data-model-valid.json", [
            {"note": c["id"], "json": c["json"]} for c in encode if c["valid"] and "json" in c][:4])
        write_json(tmp, "data-model/data-model-invalid.json", [
            {"note": c["id"], "json": c["json"]} for c in encode if not c["valid"] and "json" in c][:4])
        write_json(tmp, "mst/key_heights.json", [
            {"key": c["input"], "height": c["depth"]}
            for c in vector_file("repo/key-depth.json")["cases"]][:6])
        proofs = vector_file("repo/proof.json")["cases"][:3]
        fixtures = [{k: c[k] for k in ("keys", "leafValue", "adds", "dels", "rootBeforeCommit",
                                        "rootAfterCommit", "blocksInProof")} for c in proofs]
        for f, c in zip(fixtures, proofs):
            f["comment"] = c["id"]
        # A tree over keys that are no repo paths (as in the official fixtures): adding
        # one key to the empty tree gives one leaf node, computed here by hand.
        leaf = proofs[0]["leafValue"]
        fixtures.append({"comment": "bare MST keys", "keys": [], "leafValue": leaf,
                         "adds": ["A0/374913"], "dels": [],
                         "rootBeforeCommit": proofs[0]["rootBeforeCommit"],
                         "rootAfterCommit": single_leaf_root("A0/374913", leaf),
                         "blocksInProof": []})
        write_json(tmp, "firehose/commit-proof-fixtures.json", fixtures)
        schemas = vector_file("lexicon/schema.json")["cases"]
        for verdict in ("valid", "invalid"):
            write_json(tmp, "lexicon/lexicon-%s.json" % verdict, [
                {"name": c["id"], "lexicon": c["lexicon"]}
                for c in schemas if c["valid"] == (verdict == "valid")][:3])
        records = vector_file("lexicon/record.json")
        for i, doc in enumerate(records["lexicons"]):
            write_json(tmp, "lexicon/catalog/doc%d.json" % i, doc)
        for verdict in ("valid", "invalid"):
            write_json(tmp, "lexicon/record-data-%s.json" % verdict, [
                {"name": c["id"], "rkey": "self", "data": c["record"]}
                for c in records["cases"] if c["valid"] == (verdict == "valid")][:4])

    def plc_checkout(self, tmp):
        # A valid one-entry log and an invalid two-entry one, from our own vectors.
        logs = {c["id"]: c["log"] for c in vector_file("plc/audit-log.json")["cases"]}
        write_json(tmp, "interop_tests/audit_log/valid/log_one.json",
                   logs["plc.validate-log.valid.genesis-only"])
        write_json(tmp, "interop_tests/audit_log/invalid/log_two.json",
                   logs["plc.validate-log.invalid.entry-other-did"])

    def test_every_family_is_replayed(self):
        with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory() as plc:
            self.checkout(tmp)
            self.plc_checkout(plc)
            proc, report = json_report("--suite", "interop", "--interop-tests", tmp,
                                       "--plc-interop-tests", plc)
            self.assertEqual(proc.returncode, 0, proc.stdout[-3000:])
            families = by_family(report)
            for family in ("crypto", "data-model", "mst", "firehose", "lexicon"):
                self.assertIn(family, families)
                self.assertEqual(set(families[family]), {"pass"}, (family, families[family]))
            self.assertGreaterEqual(families["firehose"]["pass"], 4)
            self.assertGreaterEqual(families["lexicon"]["pass"], 16)
            # Without plc/validate-log in the capabilities the audit logs are skipped, saying why.
            plc_results = [r for r in report["results"] if r["id"].startswith("interop.plc.")]
            self.assertEqual(sorted(r["id"] for r in plc_results),
                             ["interop.plc.audit_log.invalid.log-two",
                              "interop.plc.audit_log.valid.log-one"])
            if "plc/validate-log" not in run_capabilities():
                for r in plc_results:
                    self.assertEqual(r["outcome"], "skipped")

    def test_audit_logs_run_where_plc_validate_log_is_listed(self):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), JudgesLogsByLength)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            url = f"http://127.0.0.1:{server.server_address[1]}"
            with tempfile.TemporaryDirectory() as plc:
                self.plc_checkout(plc)
                proc, report = json_report("--adapter", url, "--plc-interop-tests", plc,
                                           "--suite", "interop")
                self.assertEqual(proc.returncode, 0, proc.stdout[-2000:])
                self.assertEqual({r["outcome"] for r in report["results"]}, {"pass"})
                self.assertEqual(len(report["results"]), 2)
                # A log the adapter misjudges fails by its file name.
                os.rename(os.path.join(plc, "interop_tests/audit_log/invalid/log_two.json"),
                          os.path.join(plc, "interop_tests/audit_log/valid/log_two.json"))
                proc, report = json_report("--adapter", url, "--plc-interop-tests", plc,
                                           "--suite", "interop")
                self.assertEqual(failed_ids(report), {"interop.plc.audit_log.valid.log-two"})
        finally:
            server.shutdown()
            server.server_close()

    def test_a_broken_catalog_document_fails_alone(self):
        with tempfile.TemporaryDirectory() as tmp:
            self.checkout(tmp)
            # A document that does not load must not decide the records of other documents.
            write_json(tmp, "lexicon/catalog/broken.json",
                       {"lexicon": 1, "id": "com.example.broken", "defs": {"main": {"type": "nope"}}})
            proc, report = json_report("--suite", "interop", "--interop-tests", tmp)
            self.assertEqual(proc.returncode, 1)
            self.assertEqual(failed_ids(report), {"interop.lexicon.catalog.broken"})
            # A record of the broken document itself cannot be judged: the answer says why.
            with open(os.path.join(tmp, "lexicon/record-data-valid.json")) as f:
                records = json.load(f)
            records[0]["data"]["$type"] = "com.example.broken"
            write_json(tmp, "lexicon/record-data-valid.json", records)
            proc, report = json_report("--suite", "interop", "--interop-tests", tmp)
            refused = [r for r in report["results"] if r["http_status"] == 400]
            self.assertEqual(len(refused), 1, failed_ids(report))
            self.assertIn("com.example.broken", json.dumps(refused[0]["received"]))

    def test_a_permission_set_with_wildcard_rpc_is_graded_by_its_review(self):
        with tempfile.TemporaryDirectory() as tmp:
            self.checkout(tmp)
            # The shape of the fixtures' permission set: rpc with lxm ["*"] and inheritAud,
            # which the permission page does not allow inside a permission set.
            write_json(tmp, "lexicon/catalog/permission-set.json", {
                "lexicon": 1, "id": "com.example.perms",
                "defs": {"main": {"type": "permission-set", "permissions": [
                    {"type": "permission", "resource": "rpc", "lxm": ["*"], "inheritAud": True}]}}})
            proc, report = json_report("--suite", "interop", "--interop-tests", tmp)
            self.assertEqual(proc.returncode, 0, proc.stdout[-2000:])
            graded = [r for r in report["results"]
                      if r["id"] == "interop.lexicon.catalog.permission-set"][0]
            self.assertEqual(graded["outcome"], "informational")
            self.assertIn("https://atproto.com/specs/permission", graded["message"])

    def test_wrong_fixtures_fail_and_reviews_grade_them(self):
        with tempfile.TemporaryDirectory() as tmp:
            self.checkout(tmp)
            with open(os.path.join(tmp, "mst/key_heights.json")) as f:
                heights = json.load(f)
            heights[0]["height"] += 1
            write_json(tmp, "mst/key_heights.json", heights)
            proc, report = json_report("--suite", "interop", "--interop-tests", tmp)
            self.assertEqual(proc.returncode, 1)
            failed = sorted(failed_ids(report))
            self.assertEqual(len(failed), 1)
            self.assertTrue(failed[0].startswith("interop.mst.key_heights."))
            reviews = os.path.join(tmp, "reviews.json")
            write_json(tmp, "reviews.json", {"reviews": [{
                "case": failed[0], "grade": "informational", "reason": "a test review.",
                "spec": ["https://atproto.com/specs/repository#mst-structure"]}]})
            proc, report = json_report("--suite", "interop", "--interop-tests", tmp,
                                       "--interop-reviews", reviews)
            self.assertEqual(proc.returncode, 0, proc.stdout[-2000:])
            graded = [r for r in report["results"] if r["id"] == failed[0]][0]
            self.assertEqual(graded["outcome"], "informational")
            self.assertIn("a test review.", graded["message"])

    def test_project_reviews_are_well_formed(self):
        with open(os.path.join(ROOT, "conformance", "interop-reviews.json")) as f:
            doc = json.load(f)
        with open(os.path.join(ROOT, "conformance", "interop-reviews.schema.json")) as f:
            schema = json.load(f)
        try:
            import jsonschema  # python3-jsonschema, as tools/check-vectors uses
        except ImportError:
            jsonschema = None
        if jsonschema:
            jsonschema.validate(doc, schema)
        reviews = doc["reviews"]
        self.assertGreater(len(reviews), 0)
        for r in reviews:
            self.assertTrue(r["case"].startswith("interop."), r)
            self.assertIn(r["grade"], ("informational", "non-strict"))
            self.assertTrue(r["spec"] and all(u.startswith("https://atproto.com/specs/") or
                                              u.startswith("https://") for u in r["spec"]), r)


def run_capabilities():
    """The operations our adapter lists in /v0/capabilities."""
    with started([ADAPTER, "--port", "0"]) as url:
        with urllib.request.urlopen(url + "/v0/capabilities", timeout=10) as answer:
            return json.load(answer)["operations"]


def single_leaf_root(key, value_cid):
    """Root CID of an MST holding one key, from the node schema (repository#mst-structure)."""
    def head(major, n):
        if n < 24:
            return bytes([major << 5 | n])
        if n < 256:
            return bytes([major << 5 | 24, n])
        return bytes([major << 5 | 25]) + n.to_bytes(2, "big")

    def text(s):
        return head(3, len(s)) + s.encode()

    def link(cid_bytes):
        payload = b"\x00" + cid_bytes
        return bytes([0xd8, 42]) + head(2, len(payload)) + payload

    def cid_bytes(cid):
        data = cid[1:].upper()
        return base64.b32decode(data + "=" * (-len(data) % 8))

    k = key.encode()
    entry = (head(5, 4) + text("k") + head(2, len(k)) + k + text("p") + head(0, 0) +
             text("t") + bytes([0xf6]) + text("v") + link(cid_bytes(value_cid)))
    node = head(5, 2) + text("e") + head(4, 1) + entry + text("l") + bytes([0xf6])
    digest = hashlib.sha256(node).digest()
    raw = bytes([0x01, 0x71, 0x12, 0x20]) + digest
    return "b" + base64.b32encode(raw).decode().lower().rstrip("=")


def third_party(name):
    run_sh = os.path.join(ROOT, "conformance", "adapters", name, "run.sh")
    expected = os.path.join(ROOT, "conformance", "adapters", name, "expected-failures.txt")
    return run_sh, expected


@unittest.skipUnless(shutil.which("node") and shutil.which("npm"), "node and npm are needed")
class ThirdPartyAdapters(unittest.TestCase):
    """The official TypeScript implementation and atcute, with their pinned divergences."""

    reports = {}

    @classmethod
    def setUpClass(cls):
        for name in ("typescript", "atcute"):
            run_sh, expected = third_party(name)
            with started([run_sh, "--port", "0"]) as url:
                cls.reports[name] = json_report("--adapter", url, "--suite", "syntax", "--suite", "data",
                                                "--suite", "car", "--suite", "crypto",
                                                "--suite", "mst", "--suite", "repo", "--suite", "lexicon",
                                                "--suite", "plc", "--expect-fail", expected, *FAST)

    def check(self, name):
        proc, report = self.reports[name]
        self.assertEqual(proc.returncode, 0, proc.stdout[-4000:])
        # The divergences are real: each pinned case did fail.
        pinned = [r for r in report["results"] if r["outcome"] == "expected-fail"]
        self.assertTrue(pinned)

    def test_official_typescript_implementation(self):
        self.check("typescript")

    def test_atcute_implementation(self):
        self.check("atcute")

    def test_vectors_both_implementations_dispute_have_a_review(self):
        """A vector on which both independent implementations disagree with us
        carries a review: who disagrees, why the verdict stands, the spec URL."""
        disputed = None
        for name in ("typescript", "atcute"):
            _, report = self.reports[name]
            # Skipped cases are operations an adapter does not offer, not disputes.
            ids = {r["id"] for r in report["results"]
                   if r["kind"] == "vector" and r["outcome"] not in ("pass", "skipped")}
            disputed = ids if disputed is None else disputed & ids
        reviewed = set()
        # Vector case ids in reports are "<suite>.vector.<case id>", and each
        # suite reads the vector folder of its own name.
        for path in glob.glob(os.path.join(ROOT, "vectors", "*", "*.json")):
            suite = os.path.basename(os.path.dirname(path))
            if suite == "schema":
                continue
            with open(path) as f:
                for c in json.load(f).get("cases", []):
                    if "review" in c:
                        reviewed.add(f"{suite}.vector." + c["id"])
        self.assertEqual(sorted(disputed - reviewed), [],
                         "add a review to these vectors (REVIEWS in tools/gen-<suite>-vectors.py)")


if __name__ == "__main__":
    unittest.main(verbosity=1)

"""What the PDS process tests share (pds_crash_test.py, pds_fuzz_test.py):
starting atproto-plc and atproto-pds on loopback, one XRPC call with
urllib, accounts, TIDs, and the Node helpers of conformance/peers/pds-client
(@atproto/repo's verifyRepo, @atproto/sync's Firehose)."""
import json
import os
import random
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

from pds_client_test import (BUILD, CLIENT, LEXICONS, PDS, PLC, Process, stop_reader,  # noqa: F401
                             install_packages, read_lines, wait_for)

TID_CHARS = "234567abcdefghijklmnopqrstuvwxyz"


def tid(micros, clock_id):
    """A TID (https://atproto.com/specs/tid): 53 bits of microseconds and a
    10-bit clock id, base32-sortable, 13 characters."""
    value = (micros << 10) | (clock_id & 0x3FF)
    return "".join(TID_CHARS[(value >> (5 * (12 - i))) & 31] for i in range(13))


class Reply:
    def __init__(self, status, body, headers):
        self.status = status
        self.body = body
        self.headers = headers

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return None


def call(base, method, nsid_or_path, params=None, body=None, token=None, headers=None,
         timeout=30, raw_query=None):
    """One HTTP request; any HTTP status is a Reply, a broken connection
    raises OSError."""
    path = nsid_or_path if nsid_or_path.startswith("/") else "/xrpc/" + nsid_or_path
    url = base + path
    if raw_query is not None:
        url += "?" + raw_query
    elif params:
        url += "?" + urllib.parse.urlencode(params, doseq=True)
    h = dict(headers or {})
    data = None
    if body is not None:
        if isinstance(body, (bytes, bytearray)):
            data = bytes(body)
        else:
            data = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
    if token:
        h.setdefault("Authorization", "Bearer " + token)
    req = urllib.request.Request(url, data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return Reply(r.status, r.read(), dict(r.headers))
    except urllib.error.HTTPError as e:
        return Reply(e.code, e.read(), dict(e.headers))


class Servers:
    """atproto-plc and atproto-pds on loopback; the PDS can be killed with
    SIGKILL and restarted on the same data folder."""

    def __init__(self, tmp, extra=()):
        self.tmp = tmp
        self.extra = list(extra)
        self.plc = Process([PLC, "--port", "0", "--data", os.path.join(tmp, "plc")],
                           os.path.join(tmp, "plc.log"))
        self.pds = None
        self.starts = 0
        self.start_pds()

    def start_pds(self):
        self.starts += 1
        argv = [PDS, "--port", "0", "--data", os.path.join(self.tmp, "pds"), "--plc",
                self.plc.url, "--allow-private-addresses", "true", *self.extra]
        if os.path.isdir(LEXICONS):
            argv += ["--lexicon-dir", LEXICONS]
        self.pds = Process(argv, os.path.join(self.tmp, f"pds.{self.starts}.log"))
        self.url = self.pds.url
        wait_for(self.url + "/xrpc/com.atproto.server.describeServer")

    def kill_pds(self):
        self.pds.proc.send_signal(signal.SIGKILL)
        self.pds.proc.wait()
        self.pds.stop()

    def pds_log(self):
        with open(self.pds.log_path, errors="replace") as f:
            return f.read()

    def stop(self):
        codes = []
        if self.pds:
            codes.append(self.pds.stop())
        codes.append(self.plc.stop())
        return codes


def create_account(url, name, password="hunter2-long-password"):
    r = call(url, "POST", "com.atproto.server.createAccount",
             body={"handle": f"{name}.test", "email": f"{name}@example.com",
                   "password": password})
    if r.status != 200:
        raise RuntimeError(f"createAccount {name}: {r.status} {r.body[:300]!r}")
    return r.json()


def login(url, name, password="hunter2-long-password"):
    r = call(url, "POST", "com.atproto.server.createSession",
             body={"identifier": f"{name}.test", "password": password})
    if r.status != 200:
        raise RuntimeError(f"createSession {name}: {r.status} {r.body[:300]!r}")
    return r.json()


def verify_repos(url, plc_url, dids, timeout=120):
    """{did: {"ok", "records", "rev", ...}} from verify-repo.mjs."""
    argv = ["node", os.path.join(CLIENT, "verify-repo.mjs"), url, "--plc", plc_url]
    for did in dids:
        argv += ["--did", did]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    out = {}
    for line in proc.stdout.splitlines():
        if line.startswith("{"):
            v = json.loads(line)
            out[v["did"]] = v
    if not out:
        raise RuntimeError(f"verify-repo.mjs printed nothing: {proc.stderr[-2000:]}")
    return out


def read_firehose(url, plc_url, out_path, done, timeout=90):
    """Runs firehose.mjs from cursor 0 until done(events) holds (or the
    timeout); returns its event lines (the summary last)."""
    if os.path.exists(out_path):
        os.remove(out_path)
    proc = subprocess.Popen(["node", os.path.join(CLIENT, "firehose.mjs"), url, "--plc", plc_url,
                             "--cursor", "0", "--timeout", str(timeout), "--out", out_path],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + timeout
        while time.time() < deadline and proc.poll() is None:
            events = [e for e in read_lines(out_path) if "type" in e]
            if any(e["type"] == "error" for e in events) or done(events):
                break
            time.sleep(0.2)
    finally:
        stderr = stop_reader(proc, 20)
    lines = read_lines(out_path)
    if not lines or "summary" not in lines[-1]:
        raise RuntimeError(f"firehose.mjs wrote no summary: {stderr[-2000:]}")
    return lines


def seeded(seed):
    return random.Random(seed)

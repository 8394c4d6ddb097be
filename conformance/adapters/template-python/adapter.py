#!/usr/bin/env python3
"""Template conformance adapter, protocol version 0 (Python standard library only).

The adapter protocol is described in docs/adapter-protocol.md of atproto-cpp.
Copy this file next to the library you want to check, then for each
operation your library can answer:

  1. fill in its function below (every place to do so says PLUG IN),
  2. remove the @unsupported line above it.

/v0/capabilities lists exactly the operations without @unsupported, so the
runner picks the suites that use them and skips the rest. Operations left as
they are answer 501.

Start: python3 adapter.py --port 0   (prints "listening on http://127.0.0.1:PORT")
"""
import base64
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# What /v0/capabilities reports: the library under test, not this adapter.
# Read the version from the installed package when you can (importlib.metadata).
LIBRARY_NAME = "my-library"
LIBRARY_VERSION = "0.0.0"


class Unsupported(Exception):
    """Raise to answer 501: the library has no answer for this input (for
    syntax/validate: this type). The runner skips the case."""


def unsupported(function):
    """Marks an operation the wrapped library does not offer."""
    function.unsupported = True
    return function


# ---------------------------------------------------------------------------
# Helpers for binary values: base64 in the standard alphabet; accept input
# with or without '=' padding, write it padded. (Inside the atproto JSON form,
# {"$bytes": ...} is written WITHOUT padding: see docs/adapter-protocol.md.)

def b64decode(text):
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def b64encode(data):
    return base64.b64encode(data).decode("ascii")


# ---------------------------------------------------------------------------
# Operations. Each takes the request object and returns the answer object.
# Rejecting an input is a normal answer ({"valid": false} or {"ok": false,
# "error": "..."}), never an exception: catch your library's "invalid input"
# errors and return the verdict. Numbers: Python's json keeps integers of any
# size exactly, so -9223372036854775809 reaches you as that int.

@unsupported
def syntax_validate(request):
    """{"type", "value"} -> {"valid": bool}; raise Unsupported for a type you lack."""
    # PLUG IN: return {"valid": mylib.is_valid(request["type"], request["value"])}
    raise Unsupported(request.get("type"))


@unsupported
def data_encode(request):
    """{"json": <atproto JSON form>} -> {"ok": true, "cbor": <base64>, "cid"} or {"ok": false, "error"}."""
    # PLUG IN: block = mylib.encode(request["json"]); return {"ok": True, "cbor": b64encode(block), "cid": str(mylib.cid(block))}
    raise Unsupported()


@unsupported
def data_decode(request):
    """{"cbor": <base64>} -> {"ok": true, "json": <atproto JSON form>, "cid"} or {"ok": false, "error"}."""
    # PLUG IN: block = b64decode(request["cbor"]); ...
    raise Unsupported()


@unsupported
def crypto_verify(request):
    """{"publicKey", "message": <base64>, "signature": <base64>} -> {"valid": bool}."""
    raise Unsupported()


@unsupported
def crypto_parse_key(request):
    """{"didKey"} -> {"ok": true, "algorithm": "ES256"|"ES256K", "publicKeyMultibase"} or {"ok": false, "error"}."""
    raise Unsupported()


@unsupported
def mst_key_height(request):
    """{"key"} -> {"height": int}."""
    raise Unsupported()


@unsupported
def mst_root(request):
    """{"entries": [{"key", "cid"}]} -> {"ok": true, "root": <cid>} or {"ok": false, "error"}."""
    raise Unsupported()


@unsupported
def mst_proof(request):
    """{"keys", "leafValue", "adds", "dels"} -> {"rootBeforeCommit", "rootAfterCommit", "blocksInProof": [<cid>]}."""
    raise Unsupported()


@unsupported
def car_read(request):
    """{"car": <base64>} -> {"ok": true, "roots": [<cid>], "blocks": [{"cid", "data": <base64>}]} or {"ok": false, "error"}."""
    raise Unsupported()


@unsupported
def repo_verify(request):
    """{"car": <base64>, "did", "publicKey"} -> {"ok": true, "rev", "data": <cid>, "records": [{"path", "cid"}]} or {"ok": false, "error"}."""
    raise Unsupported()


@unsupported
def lexicon_validate_schema(request):
    """{"lexicon": <document>} -> {"valid": bool, "error"?}."""
    raise Unsupported()


@unsupported
def lexicon_validate_record(request):
    """{"lexicons": [<documents>], "record"} -> {"valid": bool, "error"?}."""
    raise Unsupported()


@unsupported
def lexicon_validate_params(request):
    """{"lexicons": [<documents>], "nsid", "query": <URL query text>} -> {"valid": bool, "error"?}."""
    raise Unsupported()


@unsupported
def plc_validate_log(request):
    """{"did", "log": [<audit-log entries>]} -> {"valid": bool, "document"?, "tombstoned"?, "error"?}."""
    raise Unsupported()


# Every operation of protocol version 0.
OPERATIONS = {
    "syntax/validate": syntax_validate,
    "data/encode": data_encode,
    "data/decode": data_decode,
    "crypto/verify": crypto_verify,
    "crypto/parse-key": crypto_parse_key,
    "mst/key-height": mst_key_height,
    "mst/root": mst_root,
    "mst/proof": mst_proof,
    "car/read": car_read,
    "repo/verify": repo_verify,
    "lexicon/validate-schema": lexicon_validate_schema,
    "lexicon/validate-record": lexicon_validate_record,
    "lexicon/validate-params": lexicon_validate_params,
    "plc/validate-log": plc_validate_log,
}


def capabilities():
    return {
        "name": LIBRARY_NAME,
        "version": LIBRARY_VERSION,
        "operations": [op for op, fn in OPERATIONS.items() if not getattr(fn, "unsupported", False)],
    }


# ---------------------------------------------------------------------------
# HTTP plumbing; nothing to change below.

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"   # keep the connection open between requests
    disable_nagle_algorithm = True  # answer small requests without delay

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path != "/v0/capabilities":
            return self.answer(404, {"error": "not found"})
        self.answer(200, capabilities())

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        operation = self.path[len("/v0/"):] if self.path.startswith("/v0/") else None
        function = OPERATIONS.get(operation)
        if function is None:
            return self.answer(404, {"error": f"unknown operation {self.path}"})
        try:
            request = json.loads(body)
        except ValueError:
            return self.answer(400, {"error": "the request body is not JSON"})
        try:
            self.answer(200, function(request))
        except Unsupported as e:
            self.answer(501, {"error": f"not supported by {LIBRARY_NAME}: {e}"})
        except Exception as e:  # a bug in the adapter or the library: the runner reports it
            self.answer(500, {"error": f"{type(e).__name__}: {e}"})

    def log_message(self, *args):  # keep stdout for the start-up line
        pass


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    port = int(argv[argv.index("--port") + 1]) if "--port" in argv else 0
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(f"listening on http://127.0.0.1:{server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""refhttp.py - the reference HTTP server of bench/netboot.sh (stdlib only).

The static HTTP half of the "dnsmasq chain" the testbed runs
(../shared/testbed/http-server.py): GET/HEAD of the files under --root
(kernel, initrd) and POST of a booted machine's report.  Every POST is
appended to --reports as one JSON line with the arrival time in epoch
milliseconds:

    {"t_ms": 1763771185123, "client": "198.18.0.123", "path": "/report", "body": {...}}

Every request is logged to stderr with an epoch-ms timestamp.

usage: refhttp.py --bind 198.18.0.1 --port 8080 --root DIR --reports FILE
"""
import argparse
import functools
import json
import sys
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer


def now_ms():
    return int(time.time() * 1000)


class Handler(SimpleHTTPRequestHandler):
    reports = ""

    def log_message(self, fmt, *args):
        sys.stderr.write("%d %s %s\n" % (now_ms(), self.client_address[0], fmt % args))
        sys.stderr.flush()

    def do_POST(self):
        t = now_ms()
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw
        rec = {"t_ms": t, "client": self.client_address[0], "path": self.path, "body": body}
        with open(self.reports, "a") as f:
            f.write(json.dumps(rec) + "\n")
        out = b"ok\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bind", required=True)
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--root", required=True)
    ap.add_argument("--reports", required=True)
    a = ap.parse_args()
    if not (a.bind.startswith("198.18.") or a.bind.startswith("198.19.")):
        sys.exit("refusing to bind outside 198.18.0.0/15")
    Handler.reports = a.reports
    srv = ThreadingHTTPServer((a.bind, a.port), functools.partial(Handler, directory=a.root))
    sys.stderr.write("%d listening on %s:%d root=%s\n" % (now_ms(), a.bind, a.port, a.root))
    sys.stderr.flush()
    srv.serve_forever()


if __name__ == "__main__":
    main()

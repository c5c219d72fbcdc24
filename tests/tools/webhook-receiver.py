#!/usr/bin/env python3
"""webhook-receiver: the far end of a `type = webhook` sink, for the demo and the tests.

Listens on --listen HOST:PORT (default 127.0.0.1:9470) and takes POSTs of Intake's events
(docs/events.md). Each request's Intake-Signature ("t=TIMESTAMP,v1=HEX") is checked against
the HMAC-SHA256 of "TIMESTAMP.BODY" under the secret of --secret-file (trailing blanks and line
ends left out, as the worker reads it): a verified event is appended to --log as one JSON line
(the body as sent, re-encoded compactly) and answered 200; a missing or wrong signature, or a
timestamp more than --max-age seconds off, gets 401 and is not logged. Deliveries are logged
as they come: an event delivered twice (at least once) appears twice, with the same id.

For tests: while --unavailable-file exists, or for --unavailable-seconds after start, every
request gets 503 (the far end is down for maintenance); a path starting with /reject gets 400
(a request the far end will never take); --delay-ms waits before each answer (a slow far end,
so that a test can kill the worker while a delivery is in flight).
"""
import argparse
import hashlib
import hmac
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

MAX_BODY = 64 << 20


def parse_signature(header):
    """The timestamp and v1 signatures of an Intake-Signature header, or (None, [])."""
    ts, sigs = None, []
    for part in (header or "").split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            ts = value
        elif key == "v1":
            sigs.append(value)
    return ts, sigs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen", default="127.0.0.1:9470")
    ap.add_argument("--secret-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--max-age", type=int, default=300)
    ap.add_argument("--unavailable-file")
    ap.add_argument("--unavailable-seconds", type=float, default=0)
    ap.add_argument("--delay-ms", type=int, default=0)
    ap.add_argument("--pid-file")
    args = ap.parse_args()

    with open(args.secret_file, "rb") as f:
        secret = f.read().rstrip()
    if not secret:
        sys.exit("webhook-receiver: %s is empty" % args.secret_file)
    started = time.monotonic()
    host, _, port = args.listen.rpartition(":")

    class Handler(BaseHTTPRequestHandler):
        def answer(self, status, text):
            body = (json.dumps({"status": status, "text": text}) + "\n").encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            if args.delay_ms:
                time.sleep(args.delay_ms / 1000)
            try:
                length = int(self.headers.get("Content-Length", "-1"))
            except ValueError:
                length = -1
            if length < 0 or length > MAX_BODY:
                return self.answer(411, "a Content-Length up to 64 MiB is required")
            body = self.rfile.read(length)
            if (args.unavailable_file and os.path.exists(args.unavailable_file)) or \
                    time.monotonic() - started < args.unavailable_seconds:
                return self.answer(503, "down for maintenance")
            if self.path.startswith("/reject"):
                return self.answer(400, "this receiver takes no events at " + self.path)
            ts, sigs = parse_signature(self.headers.get("Intake-Signature"))
            if ts is None or not sigs:
                return self.answer(401, "no Intake-Signature t=...,v1=...")
            if abs(time.time() - int(ts)) > args.max_age:
                return self.answer(401, "timestamp too old or in the future")
            want = hmac.new(secret, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
            if not any(hmac.compare_digest(want, s) for s in sigs):
                return self.answer(401, "bad signature")
            try:
                event = json.loads(body)
            except ValueError as e:
                return self.answer(400, "not JSON: %s" % e)
            with open(args.log, "a") as f:
                f.write(json.dumps(event, separators=(",", ":"), ensure_ascii=False) + "\n")
                f.flush()
                os.fsync(f.fileno())
            return self.answer(200, "event %s taken" % event.get("id"))

        def log_message(self, fmt, *a):
            sys.stderr.write("webhook-receiver: %s\n" % (fmt % a))

    server = HTTPServer((host, int(port)), Handler)
    if args.pid_file:
        with open(args.pid_file, "w") as f:
            f.write("%d\n" % os.getpid())
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

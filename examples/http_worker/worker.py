#!/usr/bin/env python3
"""An application that runs Spool jobs over HTTP, with the Python standard library only.

Spool's config declares its kinds (README, "HTTP kinds"):

    "http_kinds": [
      {"kind": "embed_document", "url": "http://127.0.0.1:9000/jobs/embed", "secret_env": "WORKER_SECRET"},
      {"kind": "send_email", "url": "http://127.0.0.1:9000/jobs/email", "secret_env": "WORKER_SECRET"}
    ]

and `spool run` POSTs each attempt of their jobs here. This worker:
  - refuses requests whose X-Spool-Signature does not verify, or whose timestamp is more than
    five minutes off (401: a permanent failure, the job goes to the dead-letter queue);
  - embed_document {"text": "...", "fail_times": N}: answers 500 (retried) to the first N
    attempts, then reports progress to the request's progress_url (with its
    X-Spool-Attempt-Token) and answers 200 with a toy embedding; {"discard": true} answers
    {"outcome": "discard"}: the job is dead-lettered at once, whatever the status;
  - send_email {"to": "a@b"}: the first request of each job gets 429 with Retry-After: 1 (Spool
    snoozes the job, using up no attempt), the next 200; without "to" it answers 400 (permanent).

Run: WORKER_SECRET=... python3 worker.py --port 9000 [--journal FILE]
It prints "listening on PORT" once it accepts requests (--port 0 picks a free port).
"""
import argparse
import hashlib
import hmac
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_SKEW_S = 300

SECRET = os.environ.get("WORKER_SECRET", "").encode()
rate_limited = set()  # job ids already answered 429 once
lock = threading.Lock()
journal = None


def verify(headers, body):
    """True when the request was signed with our secret within the last five minutes."""
    timestamp = headers.get("X-Spool-Timestamp", "")
    signature = headers.get("X-Spool-Signature", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > MAX_SKEW_S:
        return False
    expected = "v1=" + hmac.new(SECRET, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def report_progress(job, token, fraction, note):
    """Tells Spool how far the job has come; returns the HTTP status (202: accepted)."""
    if not job.get("progress_url") or not token:
        return None  # the runtime's admin endpoint is off
    body = json.dumps({"fraction": fraction, "note": note}).encode()
    req = urllib.request.Request(job["progress_url"], data=body, method="POST",
                                 headers={"Content-Type": "application/json", "X-Spool-Attempt-Token": token})
    try:
        with urllib.request.urlopen(req, timeout=5) as answer:
            return answer.status
    except urllib.error.HTTPError as e:
        return e.code


def embed_document(job, token):
    payload = job["payload"]
    if payload.get("discard"):
        return 200, {"outcome": "discard", "error": "document was deleted"}, {}
    if job["attempt"] <= payload.get("fail_times", 0):
        return 500, {"error": "model not loaded yet"}, {}
    text = payload.get("text", "")
    job["progress_status"] = report_progress(job, token, 0.5, "embedding %d characters" % len(text))
    return 200, {"embedding": [len(text), sum(map(ord, text)) % 997]}, {}


def send_email(job, token):
    if "to" not in job["payload"]:
        return 400, {"error": "payload has no 'to'"}, {}
    with lock:
        first = job["id"] not in rate_limited
        rate_limited.add(job["id"])
    if first:
        return 429, {"error": "mail provider rate limit"}, {"Retry-After": "1"}
    return 200, {"sent_to": job["payload"]["to"]}, {}


ROUTES = {"/jobs/embed": embed_document, "/jobs/email": send_email}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: Spool pools its connections

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        route = ROUTES.get(self.path)
        if route is None:
            status, answer, extra = 404, {"error": "no such route"}, {}
        elif not verify(self.headers, body):
            status, answer, extra = 401, {"error": "bad signature"}, {}
        else:
            job = json.loads(body)
            status, answer, extra = route(job, self.headers.get("X-Spool-Attempt-Token", ""))
            record = {"id": job["id"], "kind": job["kind"], "attempt": job["attempt"], "status": status}
            if "progress_status" in job:
                record["progress_status"] = job["progress_status"]
            if status == 200:
                record["result"] = answer
            if journal:
                with lock:
                    journal.write(json.dumps(record) + "\n")
                    journal.flush()
        data = json.dumps(answer).encode()
        self.send_response(status)
        for name, value in extra.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):  # one line per request on stderr
        sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))


def main():
    global journal
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--journal", help="append one JSON line per verified request to this file")
    args = parser.parse_args()
    if not SECRET:
        sys.exit("WORKER_SECRET is not set")
    if args.journal:
        journal = open(args.journal, "a", encoding="utf-8")
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print("listening on %d" % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""A hostile HTTP origin for emberd's crawler tests (standard library only).

usage: origin.py --port-file FILE [--root DIR] [--auth USER:PASS] [--verbose]

Binds 127.0.0.1 on a free port (port 0), writes the port number to FILE
(written to FILE.tmp, then renamed) once it listens, and serves HTTP/1.1
with keep-alive until killed. Every behaviour is chosen by the request's
path and query; counters ("the first K requests") are kept per exact
request target (path + query, as sent).

CONTENT
  /f/NAME?size=N&seed=S   N bytes (default 1000) of deterministic content
                          made from the seed S (default "0"): a pseudo-random
                          stream, or with &text=1 compressible text lines.
                          Strong ETag from (seed, size, text); Last-Modified
                          fixed (Wed, 01 Jan 2025 00:00:00 GMT).
  /r/NAME                 the file DIR/NAME from --root (404 when missing).
                          ETag from its content, Last-Modified its mtime.
                          Tests change what the origin serves at the SAME
                          URL by rewriting the file (and its mtime).
  Both: If-None-Match (or, without it, If-Modified-Since) -> 304 when they
  match; one "bytes=a-b", "bytes=a-" or "bytes=-n" Range -> 206 with
  Content-Range (416 when unsatisfiable; several ranges -> 200 in full);
  If-Range (the ETag or the exact Last-Modified) honoured: a mismatch
  sends 200 in full. HEAD works like GET without the body.

OPTIONS (query parameters, /f and /r)
  type=MIME         Content-Type (default application/octet-stream; /r:
                    guessed from NAME); an empty type= sends none
  charset=C         "; charset=C" appended to the Content-Type
  disp=VALUE        Content-Disposition: VALUE, as given (after the
                    query's own percent-decoding), e.g. a hostile name
  auth=1            401 with WWW-Authenticate: Basic unless the request
                    carries --auth's USER:PASS as Basic credentials
  etag=0            no ETag and no Last-Modified (so no 304, no If-Range)
  ranges=0          ignore Range (always 200 in full)
  next_seed=T       /f: every request after the first for this target
                    serves seed T (new content, ETag and Last-Modified)
  same_etag=1       with next_seed: keep the first seed's ETag and
                    Last-Modified for the new content (an origin that lies)
  drip=MS           send the body in 4 KiB pieces, MS ms apart
  stall_after=N     send the headers and the body up to content offset N,
                    then send nothing more; the socket stays open until the
                    client goes away
  cut_after=N       Content-Length as for the full answer, but close the
                    connection at content offset N (a 200 sends N bytes;
                    a 206 starting at or after N sends none)
  cut_once=1        with cut_after/stall_after: only the first request for
                    this target is cut or stalled; later ones complete
  len=M             Content-Length: M while the real body is sent, then the
                    connection is closed
  clen_over=1       Content-Length: 10 TiB, then the real (short) body, close
  chunked=1         Transfer-Encoding: chunked, no Content-Length
  fail=K&status=C   the first K requests for this target get status C
                    (default 500) with a short body; then normal
  retry_after=S     with fail: Retry-After: S on those failures
  gzip=1            Content-Encoding: gzip (compressed on the fly) when the
                    request's Accept-Encoding names gzip; gzip=always: even
                    when it does not. The identity content is what the same
                    URL without gzip sends. Range is ignored with gzip.

REDIRECTS
  /redirect?to=URL  302 to URL (absolute or relative, sent as given);
                    &code=301|303|307|308 chooses the status
  /loop/N           302 to /loop/N+1, forever; with ?max=M&to=URL: up to
                    /loop/M, which redirects to URL (default /f/loop-end.bin),
                    so /loop/0?max=M makes M+1 redirects in all
  /hang             accept the request, never answer; wait until the
                    client goes away

ADMIN (not logged, not counted)
  /admin/log        JSON list of every request so far, in arrival order:
                    {"time": epoch seconds (float) when the request arrived,
                     "done": when its answer ended (null while in flight),
                     "last": just before the last piece of the body was
                     written (null until then): a client that starts its
                     next request once a body is whole does so after
                     "last", however late this thread gets to "done",
                     "method", "path" (with query), "headers" (lowercase
                     names -> value), "status" sent, "sent": body bytes
                     sent, "port": the client's port (same port = same
                     connection)}
  /admin/reset      clear the log and all counters
  /admin/sha256/PATH?QUERY
                    the hex SHA-256 (and size) of the identity content that
                    /PATH?QUERY serves on a normal request right now (for
                    /f: the seed in QUERY, next_seed ignored), with its
                    validators, as one line: "HEX SIZE ETAG LAST-MODIFIED"
"""

import argparse
import base64
import email.utils
import gzip
import hashlib
import json
import mimetypes
import os
import random
import select
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FIXED_MTIME = 1735689600  # 2025-01-01T00:00:00Z
TEN_TIB = 10 * 1024 ** 4
STALL_LIMIT = 3600  # seconds a stalled answer waits for the client at most

STATE_LOCK = threading.Lock()
LOG = []
COUNTS = {}
CACHE = {}
CACHE_ORDER = []
ROOT = None
AUTH = None  # "Basic ..." that auth=1 requires, from --auth
VERBOSE = False


def make_content(seed, size, text):
    """Deterministic bytes for (seed, size, text); a few kept in memory."""
    key = (seed, size, text)
    with STATE_LOCK:
        if key in CACHE:
            return CACHE[key]
    if text:
        lines = []
        n = 0
        i = 0
        rng = random.Random("text:" + seed)
        words = ["voice", "of", "april", "mirror", "archive", "banned",
                 "song", "protest", "copy", "verified", "signed", "ember"]
        while n < size:
            line = "%08d %s %s\n" % (i, seed, " ".join(
                rng.choice(words) for _ in range(8)))
            lines.append(line)
            n += len(line)
            i += 1
        data = "".join(lines).encode()[:size]
    else:
        data = random.Random("bin:" + seed).randbytes(size)
    with STATE_LOCK:
        CACHE[key] = data
        CACHE_ORDER.append(key)
        while len(CACHE_ORDER) > 6:
            CACHE.pop(CACHE_ORDER.pop(0), None)
    return data


def http_date(t):
    return email.utils.formatdate(t, usegmt=True)


def parse_http_date(s):
    try:
        d = email.utils.parsedate_to_datetime(s)
    except (TypeError, ValueError, IndexError):
        return None
    if d is None:
        return None
    return int(d.timestamp())


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "hostile-origin/1"
    sys_version = ""

    def version_string(self):
        return self.server_version
    timeout = 120  # idle keep-alive connections go away eventually

    def log_message(self, fmt, *args):
        if VERBOSE:
            sys.stderr.write("origin: %s\n" % (fmt % args))

    # -- bookkeeping -------------------------------------------------------

    def begin(self):
        """Log and count this request; returns (entry, nth for its target)."""
        entry = {
            "time": time.time(), "done": None, "last": None, "method": self.command,
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "status": None, "sent": 0, "port": self.client_address[1],
        }
        with STATE_LOCK:
            LOG.append(entry)
            COUNTS[self.path] = COUNTS.get(self.path, 0) + 1
            n = COUNTS[self.path]
        return entry, n

    def finish_entry(self, entry):
        entry["done"] = time.time()

    # -- plain answers -----------------------------------------------------

    def simple(self, entry, status, body=b"", headers=(), close=False):
        entry["status"] = status
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
            if body:
                self.send_header("Content-Type", "text/plain")
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD" and status != 304 and body:
            self.wfile.write(body)
            entry["sent"] = len(body)

    # -- dispatch ----------------------------------------------------------

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        try:
            self.route()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError,
                socket.timeout, TimeoutError, OSError):
            self.close_connection = True

    def route(self):
        u = urllib.parse.urlsplit(self.path)
        path = u.path
        q = dict(urllib.parse.parse_qsl(u.query, keep_blank_values=True))
        if path.startswith("/admin/"):
            return self.admin(path, u.query)
        entry, nth = self.begin()
        try:
            if path.startswith("/f/") or path.startswith("/r/"):
                self.content(entry, nth, path, q)
            elif path == "/redirect":
                code = int(q.get("code", "302"))
                self.simple(entry, code, b"moved\n",
                            [("Location", q.get("to", "/"))])
            elif path.startswith("/loop/"):
                try:
                    n = int(path[len("/loop/"):])
                except ValueError:
                    n = 0
                if "max" in q and n >= int(q["max"]):
                    to = q.get("to", "/f/loop-end.bin")
                elif "max" in q:
                    to = "/loop/%d?%s" % (n + 1, u.query)
                else:
                    to = "/loop/%d" % (n + 1)
                self.simple(entry, 302, b"again\n", [("Location", to)])
            elif path == "/hang":
                entry["status"] = 0
                self.close_connection = True
                self.wait_for_client_to_leave()
            else:
                self.simple(entry, 404, b"no such thing\n")
        finally:
            self.finish_entry(entry)

    def admin(self, path, query):
        if path == "/admin/log":
            with STATE_LOCK:
                body = json.dumps(LOG).encode()
        elif path == "/admin/reset":
            with STATE_LOCK:
                LOG.clear()
                COUNTS.clear()
            body = b"ok\n"
        elif path.startswith("/admin/sha256/"):
            target = path[len("/admin/sha256"):]
            q = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
            got = self.identity(target, q, 1)
            if got is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            data, etag = got[0], got[1]
            body = ("%s %d %s %s\n" % (hashlib.sha256(data).hexdigest(),
                                       len(data), etag,
                                       http_date(got[2]))).encode()
        else:
            body = None
        if body is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json"
                         if path == "/admin/log" else "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    # -- content -----------------------------------------------------------

    def identity(self, path, q, nth):
        """(data, etag, mtime, default type) for /f or /r, or None."""
        name = urllib.parse.unquote(path[3:])
        if path.startswith("/f/"):
            seed = q.get("seed", "0")
            tag_seed = seed
            mtime = FIXED_MTIME
            if "next_seed" in q and nth > 1:
                seed = q["next_seed"]
                if q.get("same_etag") != "1":
                    tag_seed = seed
                    mtime = FIXED_MTIME + 86400
            try:
                size = int(q.get("size", "1000"))
            except ValueError:
                size = 1000
            text = q.get("text", "0") == "1"
            data = make_content(seed, max(size, 0), text)
            tag = hashlib.sha256(("%s:%d:%d" % (tag_seed, size, text))
                                 .encode()).hexdigest()[:24]
            return data, '"f-%s"' % tag, mtime, "application/octet-stream"
        if path.startswith("/r/"):
            if ROOT is None or not name or "/" in name or name.startswith("."):
                return None
            p = os.path.join(ROOT, name)
            try:
                with open(p, "rb") as f:
                    data = f.read()
                mtime = int(os.stat(p).st_mtime)
            except OSError:
                return None
            tag = hashlib.sha256(data).hexdigest()[:24]
            typ = mimetypes.guess_type(name)[0] or "application/octet-stream"
            return data, '"r-%s"' % tag, mtime, typ
        return None

    def content(self, entry, nth, path, q):
        def num(key, default=None):
            try:
                return int(q[key]) if key in q else default
            except ValueError:
                return default

        if q.get("auth") == "1" and \
                (AUTH is None or self.headers.get("Authorization") != AUTH):
            return self.simple(entry, 401, b"credentials needed\n",
                               [("WWW-Authenticate", 'Basic realm="origin"')])
        fail = num("fail", 0)
        if nth <= fail:
            hdrs = []
            if "retry_after" in q:
                hdrs.append(("Retry-After", q["retry_after"]))
            status = num("status", 500)
            return self.simple(entry, status, b"planned failure\n", hdrs)

        got = self.identity(path, q, nth)
        if got is None:
            return self.simple(entry, 404, b"no such file\n")
        data, etag, mtime, deftype = got
        validators = q.get("etag", "1") != "0"
        lastmod = http_date(mtime)
        ctype = q.get("type", deftype)
        if ctype and "charset" in q:
            ctype += "; charset=" + q["charset"]
        size = len(data)

        vh = []
        if validators:
            vh = [("ETag", etag), ("Last-Modified", lastmod)]

        # Conditionals.
        if validators:
            inm = self.headers.get("If-None-Match")
            ims = self.headers.get("If-Modified-Since")
            if inm is not None:
                tags = [t.strip() for t in inm.split(",")]
                weak = [t[2:] if t.startswith("W/") else t for t in tags]
                if "*" in tags or etag in weak:
                    return self.simple(entry, 304, b"", vh)
            elif ims is not None:
                t = parse_http_date(ims)
                if t is not None and mtime <= t:
                    return self.simple(entry, 304, b"", vh)

        # gzip.
        gz = q.get("gzip", "0")
        accepts = "gzip" in self.headers.get("Accept-Encoding", "").lower()
        use_gzip = gz == "always" or (gz == "1" and accepts)

        # Range.
        start, end = 0, size  # [start, end)
        status = 200
        rng = self.headers.get("Range")
        if (rng is not None and not use_gzip and q.get("ranges", "1") != "0"
                and self.command == "GET"):
            ifr = self.headers.get("If-Range")
            honour = True
            if ifr is not None:
                ifr = ifr.strip()
                honour = validators and (ifr == etag or ifr == lastmod)
            if honour:
                r = parse_range(rng, size)
                if r == "bad":
                    return self.simple(
                        entry, 416, b"range not satisfiable\n",
                        [("Content-Range", "bytes */%d" % size)] + vh)
                if r is not None:
                    start, end = r
                    status = 206

        cut = num("cut_after")
        stall = num("stall_after")
        if q.get("cut_once") == "1" and nth > 1 + fail:
            cut = stall = None

        body = data[start:end]
        if use_gzip:
            body = gzip.compress(data, 6, mtime=0)
            start, end = 0, len(body)

        entry["status"] = status
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        if "disp" in q:
            # Non-ASCII goes out as raw UTF-8 bytes, as many servers send
            # a filename= (http.server would refuse it: latin-1 only).
            self.send_header("Content-Disposition",
                             q["disp"].encode().decode("latin-1"))
        for k, v in vh:
            self.send_header(k, v)
        if q.get("ranges", "1") != "0":
            self.send_header("Accept-Ranges", "bytes")
        if status == 206:
            self.send_header("Content-Range",
                             "bytes %d-%d/%d" % (start, end - 1, size))
        if use_gzip:
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Vary", "Accept-Encoding")
        chunked = q.get("chunked") == "1"
        close_after = False
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        elif q.get("clen_over") == "1":
            self.send_header("Content-Length", str(TEN_TIB))
            close_after = True
        elif "len" in q:
            self.send_header("Content-Length", str(num("len", len(body))))
            close_after = True
        else:
            self.send_header("Content-Length", str(len(body)))
        if close_after or cut is not None:
            # After a lie, or a planned cut, the connection cannot be reused.
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.flush()
        if self.command == "HEAD":
            return

        # Where this answer stops early, in body offsets (gzip: offsets
        # into the compressed body, which always starts at 0).
        base = 0 if use_gzip else start
        limit, stop = len(body), None
        if stall is not None and max(stall - base, 0) < limit:
            limit, stop = max(stall - base, 0), "stall"
        if cut is not None and max(cut - base, 0) <= limit and \
                max(cut - base, 0) < len(body):
            limit, stop = max(cut - base, 0), "cut"

        drip = num("drip", 0)
        piece = 4096 if drip else 65536
        off = 0
        while off < limit:
            n = min(piece, limit - off)
            chunk = body[off:off + n]
            if off + n >= len(body):
                entry["last"] = time.time()
            if chunked:
                self.wfile.write(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
            else:
                self.wfile.write(chunk)
            self.wfile.flush()
            off += n
            entry["sent"] = off
            if drip and off < len(body):
                time.sleep(drip / 1000.0)
        if stop == "cut":
            self.close_connection = True
            self.hard_close()
            return
        if stop == "stall":
            self.close_connection = True
            self.wait_for_client_to_leave()
            return
        if chunked:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        if close_after:
            self.close_connection = True

    def hard_close(self):
        try:
            self.wfile.flush()
        except OSError:
            pass
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def wait_for_client_to_leave(self):
        sock = self.connection
        deadline = time.time() + STALL_LIMIT
        while time.time() < deadline:
            try:
                r, _, _ = select.select([sock], [], [], 0.5)
                if r:
                    if not sock.recv(65536):
                        return
            except OSError:
                return


def parse_range(value, size):
    """(start, end) for one byte range; None to ignore; "bad" for 416."""
    value = value.strip()
    if not value.startswith("bytes="):
        return None
    spec = value[6:].strip()
    if "," in spec:
        return None
    a, sep, b = spec.partition("-")
    if not sep:
        return None
    a, b = a.strip(), b.strip()
    try:
        if a == "":
            n = int(b)
            if n <= 0:
                return "bad"
            return (max(size - n, 0), size)
        s = int(a)
        e = int(b) + 1 if b else size
    except ValueError:
        return None
    if s >= size or e <= s:
        return "bad"
    return (s, min(e, size))


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        # A client that vanished is no news; anything else is worth a line.
        exc = sys.exc_info()[1]
        if isinstance(exc, (OSError, socket.timeout)):
            return
        if VERBOSE:
            super().handle_error(request, client_address)


def main():
    global ROOT, AUTH, VERBOSE
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        usage="origin.py --port-file FILE [--root DIR] [--auth USER:PASS] "
              "[--verbose]")
    ap.add_argument("--port-file", required=True,
                    help="where to write the port (atomically) once listening")
    ap.add_argument("--root", help="folder served under /r/NAME")
    ap.add_argument("--auth", help="USER:PASS that auth=1 requires (Basic)")
    ap.add_argument("--verbose", action="store_true",
                    help="log every request to stderr")
    a = ap.parse_args()
    ROOT = os.path.abspath(a.root) if a.root else None
    VERBOSE = a.verbose
    if a.auth:
        AUTH = "Basic " + base64.b64encode(a.auth.encode()).decode()
    srv = Server(("127.0.0.1", 0), Handler)
    port = srv.server_address[1]
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, a.port_file)
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

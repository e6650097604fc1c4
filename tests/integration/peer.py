#!/usr/bin/env python3
"""A hostile peer mirror for emberd's follower tests (standard library only).

usage: peer.py --upstream URL [--port-file FILE] [--port N] [--host ADDR]
               [--mode MODE] [--alt-dir DIR] [--log FILE] [--verbose]

Relays a real emberd mirror (--upstream http://127.0.0.1:PORT) over HTTP/1.1
with keep-alive, and misbehaves on purpose according to the mode. Binds
--host (127.0.0.1) on --port (0: a free port); once it listens it writes
the port number to --port-file FILE (written to FILE.tmp, then renamed:
the file appearing means "ready") and prints it on stdout.

ROUTES RELAYED (anything else 404; GET, and HEAD like GET without a body)
  /catalog.json  /catalog.json.minisig  /pubkey  /sha256/HEX
  /files/NAME.meta4 (relayed as is in every mode but error)
  The request's Range, If-Range, If-None-Match and If-Modified-Since are
  passed upstream; the upstream's status, Content-Type, Content-Length,
  Content-Range, ETag, Accept-Ranges, Last-Modified and Cache-Control are
  answered. Upstream is always asked for identity bytes (no gzip); an
  unreachable upstream gives 502.

MODES (--mode, default good; changeable at runtime with /_mode?m=MODE)
  good        faithful relay
  badsig      /catalog.json.minisig with one base64 character of the
              signature line (inside the Ed25519 signature, not the
              algorithm or key id) changed: still well-formed minisign text
  otherkey    /catalog.json and /catalog.json.minisig are the files
              DIR/catalog.json and DIR/catalog.json.minisig from --alt-dir
              (read on every request; 404 when missing), and /pubkey is
              DIR/pubkey when that exists: "signed by another key", a
              rolled-back (older, genuinely signed) catalog, an expired one
              (a frozen mirror) or another history (a fork). Objects
              relayed.
  bigcatalog  /catalog.json: 200, Transfer-Encoding: chunked, no
              Content-Length, an endless body ('{"items":[' then repeated
              item-like filler) streamed as fast as the client reads, until
              it hangs up. Signature, pubkey and objects relayed.
  biglength   /catalog.json: 200 with Content-Length: 200000000, then
              filler until the client hangs up (at most the announced
              length). Signature, pubkey and objects relayed.
  altered     objects (200/206 bodies): one byte flipped (XOR 0xff) in the
              middle of the body sent (offset len/2); same length, same
              headers. Catalog relayed.
  truncated   objects (200/206): the full Content-Length / Content-Range is
              announced, then the connection is closed after half of the
              body (len/2 bytes). Catalog relayed.
  slow        objects (200/206): headers as relayed, then one body byte per
              second; the last byte is never sent, so the answer never ends
              until the client hangs up. Catalog relayed.
  badmeta4    /files/NAME.meta4 with the first piece hash of <pieces>
              changed (one hex digit): a lying piece list; objects relayed
  liar        objects (200/206 bodies): the byte at object offset LIAR_AT
              flipped (XOR 0xff) wherever a body covers it; and
              /files/NAME.meta4 with the hash of the piece holding it made
              for the flipped byte: altered bytes every piece check passes,
              which only the catalog's SHA-256 shows
  error       every route (not the /_ admin ones) answers 500
  notfound    objects answer 404; catalog, signature and pubkey relayed
  Object answers that are not 200/206 (404, 416, 304) are always relayed.

LOG
  Every request but the admin ones is logged as one line
      METHOD PATH RANGE STATUS
  (PATH as sent with its query; RANGE the Range header without spaces, or
  "-"; STATUS the status sent, 0 when none was) to --log FILE, appended and
  flushed as soon as the status line is sent (so an endless answer is
  already logged while it runs).

ADMIN (not logged)
  /_mode?m=MODE  switch to MODE (400 for an unknown one); answers "MODE\\n".
                 /_mode alone answers the current mode.
  /_log          the log lines so far (text/plain)
  /_reset        clear the log (and truncate --log FILE); the mode stays
  /_rate?r=N     object bodies at most N bytes a second per connection
                 (0: no limit, the default); answers "N\\n"
"""

import argparse
import hashlib
import os
import re
import select
import socket
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODES = ("good", "badsig", "otherkey", "bigcatalog", "biglength", "altered",
         "truncated", "slow", "error", "notfound", "badmeta4", "liar")
LIAR_AT = 300000    # in piece 1 of 256 KiB pieces
CATALOG_ROUTES = ("/catalog.json", "/catalog.json.minisig", "/pubkey")
RELAY_HEADERS = ("Content-Type", "Content-Length", "Content-Range", "ETag",
                 "Accept-Ranges", "Last-Modified", "Cache-Control")
PASS_HEADERS = ("Range", "If-Range", "If-None-Match", "If-Modified-Since")
BIG_LENGTH = 200000000
STALL_LIMIT = 3600  # seconds an endless answer lasts at most
UPSTREAM_TIMEOUT = 30
PIECE = 65536

STATE_LOCK = threading.Lock()
STATE = {"mode": "good", "rate": 0}
LOG = []
LOG_PATH = None
UPSTREAM = None
ALT_DIR = None
VERBOSE = False
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))

FILLER_ITEM = (b'{"name":"filler-0000.bin","sha256":"' + b"0" * 64 +
               b'","size":1,"type":"application/octet-stream"},')
FILLER = (FILLER_ITEM * (PIECE // len(FILLER_ITEM) + 1))[:PIECE]


def current_mode():
    with STATE_LOCK:
        return STATE["mode"]


def log_line(line):
    with STATE_LOCK:
        LOG.append(line)
        if LOG_PATH:
            with open(LOG_PATH, "a") as f:
                f.write(line + "\n")
                f.flush()


def corrupt_minisig(text):
    """The minisign text with one base64 character of the signature line
    changed, inside the signature bytes; None when it does not look right."""
    lines = text.split(b"\n")
    for i, line in enumerate(lines):
        if i == 0 or not line or line.startswith(b"untrusted comment:") \
                or line.startswith(b"trusted comment:"):
            continue
        s = line.rstrip(b"\r")
        # Bytes 0-1 algorithm, 2-9 key id, 10-73 signature: character 50
        # lies in the group of bytes 36-38, well inside the signature.
        pos = 50 if len(s) > 60 else len(s) // 2
        c = s[pos:pos + 1]
        if c in (b"=", b""):
            return None
        repl = b"B" if c == b"A" else b"A"
        lines[i] = s[:pos] + repl + s[pos + 1:] + line[len(s):]
        return b"\n".join(lines)
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "hostile-peer/1"
    sys_version = ""
    timeout = 120

    def version_string(self):
        return self.server_version

    def log_message(self, fmt, *args):
        if VERBOSE:
            sys.stderr.write("peer: %s\n" % (fmt % args))

    # -- answers -------------------------------------------------------------

    def start(self, status, headers=(), close=False):
        """Status line and headers; logs the request."""
        self.status_sent = status
        rng = self.headers.get("Range")
        rng = "".join(rng.split()) if rng else "-"
        log_line("%s %s %s %d" % (self.command, self.path, rng, status))
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.flush()

    def simple(self, status, body=b"", headers=(), ctype="text/plain"):
        h = list(headers)
        if status != 304:
            h.append(("Content-Length", str(len(body))))
            if body and ctype:
                h.append(("Content-Type", ctype))
        self.start(status, h)
        if self.command != "HEAD" and status != 304 and body:
            self.wfile.write(body)

    # -- dispatch ------------------------------------------------------------

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        self.status_sent = None
        try:
            self.route()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError,
                socket.timeout, TimeoutError, OSError):
            self.close_connection = True
            if self.status_sent is None and \
                    not urllib.parse.urlsplit(self.path).path.startswith("/_"):
                rng = self.headers.get("Range")
                rng = "".join(rng.split()) if rng else "-"
                log_line("%s %s %s 0" % (self.command, self.path, rng))

    def route(self):
        u = urllib.parse.urlsplit(self.path)
        path = u.path
        if path.startswith("/_"):
            return self.admin(path, u.query)
        mode = current_mode()
        is_obj = path.startswith("/sha256/") and len(path) > len("/sha256/") \
            and "/" not in path[len("/sha256/"):]
        is_meta4 = path.startswith("/files/") and path.endswith(".meta4")
        if path not in CATALOG_ROUTES and not is_obj and not is_meta4:
            return self.simple(404, b"no such thing\n")
        if mode == "error":
            return self.simple(500, b"planned failure\n")
        if is_meta4:
            return self.relay(path, mode if mode in ("badmeta4", "liar") else "good")
        if is_obj:
            if mode == "notfound":
                return self.simple(404, b"planned: no such object\n")
            return self.relay(path, mode if mode in (
                "altered", "truncated", "slow", "liar") else "good")
        # Catalog routes.
        if mode == "otherkey":
            name = path[1:]
            p = os.path.join(ALT_DIR or "", name)
            if ALT_DIR and os.path.isfile(p):
                with open(p, "rb") as f:
                    data = f.read()
                return self.simple(200, data, ctype="application/json"
                                   if name == "catalog.json" else "text/plain")
            if name != "pubkey":
                return self.simple(404, b"no such file in --alt-dir\n")
        if path == "/catalog.json" and mode == "bigcatalog":
            return self.endless(chunked=True)
        if path == "/catalog.json" and mode == "biglength":
            return self.endless(chunked=False)
        if path == "/catalog.json.minisig" and mode == "badsig":
            return self.relay(path, "badsig")
        return self.relay(path, "good")

    def admin(self, path, query):
        q = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
        if path == "/_mode":
            if "m" in q:
                if q["m"] not in MODES:
                    body = ("unknown mode %r; one of: %s\n" % (
                        q["m"], " ".join(MODES))).encode()
                    return self.admin_answer(400, body)
                with STATE_LOCK:
                    STATE["mode"] = q["m"]
            return self.admin_answer(200, (current_mode() + "\n").encode())
        if path == "/_log":
            with STATE_LOCK:
                body = "".join(line + "\n" for line in LOG).encode()
            return self.admin_answer(200, body)
        if path == "/_rate":
            with STATE_LOCK:
                if "r" in q:
                    STATE["rate"] = int(q["r"])
                body = ("%d\n" % STATE["rate"]).encode()
            return self.admin_answer(200, body)
        if path == "/_reset":
            with STATE_LOCK:
                LOG.clear()
                if LOG_PATH:
                    open(LOG_PATH, "w").close()
            return self.admin_answer(200, b"ok\n")
        return self.admin_answer(404, b"no such admin route\n")

    def admin_answer(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    # -- upstream ------------------------------------------------------------

    def upstream(self, path):
        """The upstream's answer (an HTTPError is one too), or None."""
        req = urllib.request.Request(UPSTREAM + path, method=self.command)
        req.add_header("Accept-Encoding", "identity")
        for h in PASS_HEADERS:
            v = self.headers.get(h)
            if v is not None:
                req.add_header(h, v)
        try:
            return OPENER.open(req, timeout=UPSTREAM_TIMEOUT)
        except urllib.error.HTTPError as e:
            return e
        except (urllib.error.URLError, OSError, ValueError) as e:
            if VERBOSE:
                sys.stderr.write("peer: upstream %s: %s\n" % (path, e))
            return None

    def relay(self, path, how):
        resp = self.upstream(path)
        if resp is None:
            return self.simple(502, b"upstream unreachable\n")
        try:
            status = resp.status if hasattr(resp, "status") else resp.code
            headers = [(h, resp.headers[h]) for h in RELAY_HEADERS
                       if resp.headers.get(h) is not None]
            clen = resp.headers.get("Content-Length")
            try:
                clen = int(clen) if clen is not None else None
            except ValueError:
                clen = None
            if self.command == "HEAD" or status == 304:
                return self.start(status, headers)
            if how == "badmeta4" and status == 200:
                data = resp.read()
                at = data.find(b"<hash>", data.find(b"<pieces"))
                if at != -1:
                    at += len(b"<hash>")
                    data = data[:at] + (b"0" if data[at:at + 1] != b"0" else b"1") + \
                        data[at + 1:]
                headers = [(k, v) for k, v in headers if k != "Content-Length"]
                return self.simple(200, data, headers, ctype=None)
            if how == "liar" and status == 200 and path.endswith(".meta4"):
                data = self.liar_meta4(path, resp.read())
                headers = [(k, v) for k, v in headers if k != "Content-Length"]
                return self.simple(200, data, headers, ctype=None)
            if how == "badsig" and status == 200:
                data = resp.read()
                bad = corrupt_minisig(data)
                if bad is not None:
                    data = bad
                headers = [(k, v) for k, v in headers if k != "Content-Length"]
                return self.simple(200, data, headers, ctype=None)
            body_mode = how if status in (200, 206) else "good"
            if clen is None:
                # Not emberd's way; buffer so a length can be announced.
                data = resp.read()
                clen = len(data)
                headers = [(k, v) for k, v in headers
                           if k != "Content-Length"]
                headers.append(("Content-Length", str(clen)))
                src = _BytesSource(data)
            else:
                src = resp
            if body_mode == "slow":
                return self.send_slow(status, headers, src, clen)
            limit = clen
            if body_mode == "truncated":
                limit = clen // 2
            self.start(status, headers, close=(body_mode == "truncated"))
            flip = clen // 2 if body_mode == "altered" and clen > 0 else None
            if body_mode == "liar":
                m = re.match(r"bytes (\d+)-", resp.headers.get("Content-Range") or "")
                at = LIAR_AT - (int(m.group(1)) if status == 206 and m else 0)
                flip = at if 0 <= at < clen else None
            with STATE_LOCK:
                rate = STATE["rate"] if path.startswith("/sha256/") else 0
            off = 0
            while off < limit:
                chunk = src.read(min(PIECE, limit - off))
                if not chunk:
                    # Upstream ended early: the client sees a short body.
                    self.close_connection = True
                    break
                if flip is not None and off <= flip < off + len(chunk):
                    b = bytearray(chunk)
                    b[flip - off] ^= 0xFF
                    chunk = bytes(b)
                self.wfile.write(chunk)
                off += len(chunk)
                if rate > 0:
                    time.sleep(len(chunk) / rate)
            self.wfile.flush()
            if body_mode == "truncated":
                self.hard_close()
        finally:
            try:
                resp.close()
            except Exception:
                pass

    def liar_meta4(self, path, data):
        """DATA (a Metalink) with the SHA-1 of the piece holding LIAR_AT
        made for the flipped byte: a list the liar's bytes match."""
        m = re.search(rb'<pieces length="(\d+)"', data)
        if not m:
            return data
        plen = int(m.group(1))
        start = LIAR_AT // plen * plen
        req = urllib.request.Request(UPSTREAM + path[:-len(".meta4")])
        req.add_header("Accept-Encoding", "identity")
        req.add_header("Range", "bytes=%d-%d" % (start, start + plen - 1))
        piece = bytearray(OPENER.open(req, timeout=UPSTREAM_TIMEOUT).read())
        if LIAR_AT - start >= len(piece):
            return data
        piece[LIAR_AT - start] ^= 0xFF
        hashes = list(re.finditer(rb"<hash>([0-9a-f]{40})</hash>", data[m.end():]))
        if LIAR_AT // plen >= len(hashes):
            return data
        at = m.end() + hashes[LIAR_AT // plen].start(1)
        return data[:at] + hashlib.sha1(piece).hexdigest().encode() + data[at + 40:]

    # -- misbehaviour --------------------------------------------------------

    def send_slow(self, status, headers, src, clen):
        self.start(status, headers, close=True)
        sent = 0
        buf = b""
        deadline = time.time() + STALL_LIMIT
        while time.time() < deadline:
            if sent < clen - 1:
                if not buf:
                    buf = src.read(min(PIECE, clen - 1 - sent))
                if buf:
                    self.wfile.write(buf[:1])
                    self.wfile.flush()
                    buf = buf[1:]
                    sent += 1
            if self.client_left(1.0):
                return

    def endless(self, chunked):
        h = [("Content-Type", "application/json")]
        if chunked:
            h.append(("Transfer-Encoding", "chunked"))
        else:
            h.append(("Content-Length", str(BIG_LENGTH)))
        self.start(200, h, close=True)
        if self.command == "HEAD":
            return
        head = b'{"items":['
        deadline = time.time() + STALL_LIMIT
        sent = 0
        first = True
        while time.time() < deadline:
            piece = head + FILLER if first else FILLER
            first = False
            if not chunked:
                piece = piece[:BIG_LENGTH - sent]
                if not piece:
                    break
                self.wfile.write(piece)
            else:
                self.wfile.write(b"%x\r\n" % len(piece) + piece + b"\r\n")
            sent += len(piece)
        self.wfile.flush()
        self.hard_close()

    def client_left(self, wait):
        """Wait up to `wait` s; True when the client closed its end."""
        try:
            r, _, _ = select.select([self.connection], [], [], wait)
            if r and not self.connection.recv(65536):
                return True
        except OSError:
            return True
        return False

    def hard_close(self):
        self.close_connection = True
        try:
            self.wfile.flush()
        except OSError:
            pass
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class _BytesSource:
    def __init__(self, data):
        self.data, self.off = data, 0

    def read(self, n):
        chunk = self.data[self.off:self.off + n]
        self.off += len(chunk)
        return chunk


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (OSError, socket.timeout)):
            return
        if VERBOSE:
            super().handle_error(request, client_address)


def main():
    global LOG_PATH, UPSTREAM, ALT_DIR, VERBOSE
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        usage="peer.py --upstream URL [--port-file FILE] [--port N] "
              "[--host ADDR] [--mode MODE] [--alt-dir DIR] [--log FILE] "
              "[--verbose]")
    ap.add_argument("--upstream", required=True,
                    help="the real mirror relayed, e.g. http://127.0.0.1:PORT")
    ap.add_argument("--host", default="127.0.0.1",
                    help="address to bind (default 127.0.0.1)")
    ap.add_argument("--port", type=int, default=0,
                    help="port to bind (default 0: a free one)")
    ap.add_argument("--port-file",
                    help="where to write the port (atomically) once listening;"
                         " required with --port 0")
    ap.add_argument("--mode", default="good", choices=MODES,
                    help="initial mode (default good)")
    ap.add_argument("--alt-dir", help="folder served in mode otherkey")
    ap.add_argument("--log", help="append one line per request to FILE")
    ap.add_argument("--verbose", action="store_true",
                    help="log every request to stderr")
    a = ap.parse_args()
    if a.port == 0 and not a.port_file:
        ap.error("--port 0 needs --port-file")
    UPSTREAM = a.upstream.rstrip("/")
    ALT_DIR = os.path.abspath(a.alt_dir) if a.alt_dir else None
    LOG_PATH = os.path.abspath(a.log) if a.log else None
    VERBOSE = a.verbose
    STATE["mode"] = a.mode
    if LOG_PATH:
        open(LOG_PATH, "a").close()
    srv = Server((a.host, a.port), Handler)
    port = srv.server_address[1]
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, a.port_file)
    print(port, flush=True)
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""A media origin for emberd's page, feed, HLS and resolver tests (stdlib only).

usage: media_origin.py --root DIR --port-file FILE --log FILE [--faults FILE]

Binds 127.0.0.1 on a free port (port 0), writes the port number to FILE
(FILE.tmp, then renamed) once it listens, and serves the folder DIR over
HTTP/1.1 with keep-alive, many clients at once, until killed.

SERVING
  GET/HEAD /PATH      the file DIR/PATH (the query is ignored); a path that
                      ends in "/" serves its index.html. Nothing outside DIR.
  Content-Type        by extension: .html text/html; charset=utf-8,
                      .xml/.rss application/rss+xml, .atom
                      application/atom+xml, .m3u8 application/vnd.apple.mpegurl,
                      .ts video/mp2t, .m4s video/iso.segment, .mp4 video/mp4,
                      .webm video/webm, .mp3 audio/mpeg, .aac audio/aac,
                      .key application/octet-stream, .txt text/plain; else
                      application/octet-stream.
  Validators          ETag "<size>-<mtime ns>" and Last-Modified (the mtime):
                      If-None-Match (or, without it, If-Modified-Since) -> 304.
  Range               one "bytes=a-b", "bytes=a-" or "bytes=-n" -> 206 with
                      Content-Range; unsatisfiable -> 416 with "bytes */SIZE";
                      several ranges -> 200 in full; If-Range (the ETag or the
                      exact Last-Modified) honoured, a mismatch sends 200.

REQUEST LOG (--log)
  One line per request, written and flushed when the status is decided
  (before the body): "METHOD TARGET STATUS RANGE", TARGET as sent (path and
  query), RANGE the Range header without spaces or "-". Tests count the
  requests for a path with grep.

FAULTS (--faults, a JSON file read at every request; absent = none)
  {"fail":  {"/path": 404},             exact path (query ignored) -> status
   "delay": {"/path-prefix": 0.5},       sleep before answering, seconds; the
                                         longest matching prefix wins
   "live":  {"/live/index.m3u8": {"src": "/live/full.m3u8", "step": 1}}}
  A live path serves the VOD playlist src cut short: the k-th request for it
  shows the first min(k * step, all) segments (each with the tags above
  it), without EXT-X-ENDLIST and with EXT-X-PLAYLIST-TYPE:EVENT until every
  segment is shown; then the playlist as it is. The count is kept per live
  path and entry: rewriting the entry (another src or step) starts it over.
  Independent of time, so of the machine's speed. Never 304.
"""
import argparse
import email.utils
import json
import os
import re
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".xml": "application/rss+xml",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".m3u8": "application/vnd.apple.mpegurl",
    ".ts": "video/mp2t",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".mp3": "audio/mpeg",
    ".aac": "audio/aac",
    ".key": "application/octet-stream",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
}

ROOT = None
LOG = None
BEGUN = None	# LOG.begun: "METHOD TARGET" per request, at its receipt
LOG_LOCK = threading.Lock()
FAULTS = None
LIVE_LOCK = threading.Lock()
LIVE_COUNT = {}


def faults():
    if not FAULTS:
        return {}
    try:
        with open(FAULTS) as f:
            d = json.load(f)
        return d if isinstance(d, dict) else {}
    except (OSError, ValueError):
        return {}


def live_cut(text, n):
    """The VOD playlist text cut after its first n segments; (text, done)."""
    lines = text.splitlines()
    head, segs, pend = [], [], []
    for ln in lines:
        s = ln.strip()
        if not s:
            continue
        if s == "#EXT-X-ENDLIST":
            continue
        if s.startswith("#EXT-X-PLAYLIST-TYPE"):
            continue
        if s.startswith("#"):
            # Tags before the first segment's own tags belong to the
            # header; from the first #EXTINF on, tags go with the next URI.
            if not segs and not pend and not s.startswith(("#EXTINF", "#EXT-X-BYTERANGE",
                                                           "#EXT-X-DISCONTINUITY", "#EXT-X-KEY",
                                                           "#EXT-X-MAP", "#EXT-X-PROGRAM-DATE-TIME")):
                head.append(s)
            else:
                pend.append(s)
        else:
            segs.append(pend + [s])
            pend = []
    done = n >= len(segs)
    out = list(head)
    out.insert(1 if out and out[0] == "#EXTM3U" else 0,
               "#EXT-X-PLAYLIST-TYPE:VOD" if done else "#EXT-X-PLAYLIST-TYPE:EVENT")
    for seg in segs[:n]:
        out.extend(seg)
    if done:
        out.append("#EXT-X-ENDLIST")
    return "\n".join(out) + "\n", done


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "media_origin/1"

    def log_message(self, fmt, *args):
        pass

    def log_line(self, status):
        rng = (self.headers.get("Range") or "-").replace(" ", "") or "-"
        with LOG_LOCK:
            LOG.write("%s %s %d %s\n" % (self.command, self.path, status, rng))
            LOG.flush()

    def log_begin(self):
        # At receipt, before any delay: a client killed mid-request has
        # its requests counted here, while their answer lines may come
        # later (tests count what a run asked for from these lines).
        with LOG_LOCK:
            BEGUN.write("%s %s\n" % (self.command, self.path))
            BEGUN.flush()

    def simple(self, status, body=b""):
        self.log_line(status)
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.serve()

    def do_GET(self):
        self.serve()

    def serve(self):
        self.log_begin()
        path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        f = faults()
        delay = 0
        best = -1
        for pre, secs in (f.get("delay") or {}).items():
            if path.startswith(pre) and len(pre) > best:
                best, delay = len(pre), float(secs)
        if delay > 0:
            time.sleep(delay)
        st = (f.get("fail") or {}).get(path)
        if st:
            return self.simple(int(st), b"fault\n")
        live = (f.get("live") or {}).get(path)
        if live:
            return self.serve_live(path, live)
        # Lexically inside ROOT (tests may link files in from a shared
        # media cache, so links are followed).
        rel = os.path.normpath("/" + path).lstrip("/")
        if rel.startswith("..") or "\0" in rel:
            return self.simple(404, b"not found\n")
        fs = os.path.join(ROOT, rel)
        if os.path.isdir(fs):
            fs = os.path.join(fs, "index.html")
        try:
            fd = open(fs, "rb")
        except OSError:
            return self.simple(404, b"not found\n")
        with fd:
            self.serve_file(fd, fs)

    def serve_live(self, path, live):
        key = (path, json.dumps(live, sort_keys=True))
        with LIVE_LOCK:
            LIVE_COUNT[key] = LIVE_COUNT.get(key, 0) + 1
            k = LIVE_COUNT[key]
        src = os.path.join(ROOT, str(live.get("src", "")).lstrip("/"))
        try:
            with open(src, encoding="utf-8") as fd:
                text = fd.read()
        except OSError:
            return self.simple(404, b"no live source\n")
        body, _ = live_cut(text, k * int(live.get("step", 1)))
        body = body.encode()
        self.log_line(200)
        self.send_response(200)
        self.send_header("Content-Type", TYPES[".m3u8"])
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def serve_file(self, fd, fs):
        st = os.fstat(fd.fileno())
        size = st.st_size
        etag = '"%x-%x"' % (size, st.st_mtime_ns)
        lm = email.utils.formatdate(st.st_mtime, usegmt=True)
        ctype = TYPES.get(os.path.splitext(fs)[1].lower(), "application/octet-stream")

        inm = self.headers.get("If-None-Match")
        ims = self.headers.get("If-Modified-Since")
        fresh = False
        if inm is not None:
            fresh = etag in [t.strip() for t in inm.split(",")] or inm.strip() == "*"
        elif ims:
            try:
                fresh = int(st.st_mtime) <= email.utils.parsedate_to_datetime(ims).timestamp()
            except (TypeError, ValueError):
                fresh = False
        if fresh:
            self.log_line(304)
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", lm)
            self.end_headers()
            return

        start, end, status = 0, size - 1, 200
        rng = self.headers.get("Range")
        ifr = self.headers.get("If-Range")
        if rng and ifr is not None and ifr.strip() not in (etag, lm):
            rng = None
        if rng:
            m = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", rng)
            if m and (m.group(1) or m.group(2)):
                a, b = m.group(1), m.group(2)
                if a == "":
                    n = int(b)
                    start, end = max(0, size - n), size - 1
                    ok = n > 0 and size > 0
                else:
                    start = int(a)
                    end = min(int(b), size - 1) if b else size - 1
                    ok = start < size and (b == "" or int(b) >= start)
                if not ok:
                    self.log_line(416)
                    self.send_response(416)
                    self.send_header("Content-Range", "bytes */%d" % size)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                status = 206
        length = end - start + 1 if size else 0
        self.log_line(status)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(length))
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", lm)
        self.send_header("Accept-Ranges", "bytes")
        if status == 206:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end, size))
        self.end_headers()
        if self.command == "HEAD":
            return
        fd.seek(start)
        left = length
        try:
            while left > 0:
                buf = fd.read(min(65536, left))
                if not buf:
                    break
                self.wfile.write(buf)
                left -= len(buf)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


def main():
    global ROOT, LOG, BEGUN, FAULTS
    ap = argparse.ArgumentParser(
        usage="media_origin.py --root DIR --port-file FILE --log FILE [--faults FILE]")
    ap.add_argument("--root", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--faults")
    a = ap.parse_args()
    ROOT = os.path.abspath(a.root)
    LOG = open(a.log, "a", encoding="utf-8")
    BEGUN = open(a.log + ".begun", "a", encoding="utf-8")
    FAULTS = a.faults
    srv = Server(("127.0.0.1", 0), Handler)
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, a.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())

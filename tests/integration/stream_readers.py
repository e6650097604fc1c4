#!/usr/bin/env python3
"""Throttled HTTPS readers of one large object, for server_streaming.sh.

Opens --readers connections to 127.0.0.1:--port at once. Reader i asks
/files/NAME (i even) or /sha256/SHA256 (i odd); every fourth asks
"Range: bytes=OFF-" from an offset of its own and wants 206 with the right
Content-Range, the others want 200; every one wants the right
Content-Length. Each socket's receive buffer is 64 KiB and each reader
takes at most --rate bytes a second, so the server has to keep all of its
responses open and feed them in small steps. Every byte read is compared
with --file at its offset.

Once every reader has read --prefix body bytes, "held N" is written to
--state. The readers go on, throttled, until --stop exists; then each
closes mid-response (a partial reader) and --report gets one line per
reader: "ok KIND BYTES" or "bad KIND BYTES WHY". Exit 0 when the report
is written, 1 when the readers were not all under way within --deadline
seconds (the reason in --state and on stderr).
"""
import argparse
import asyncio
import os
import socket
import ssl
import sys
import time

p = argparse.ArgumentParser()
p.add_argument("--port", type=int, required=True)
p.add_argument("--cafile", required=True)
p.add_argument("--file", required=True)
p.add_argument("--sha256", required=True)
p.add_argument("--name", required=True)
p.add_argument("--readers", type=int, default=200)
p.add_argument("--rate", type=int, default=64 * 1024)
p.add_argument("--prefix", type=int, default=256 * 1024)
p.add_argument("--state", required=True)
p.add_argument("--stop", required=True)
p.add_argument("--report", required=True)
p.add_argument("--deadline", type=float, default=240)
a = p.parse_args()

SIZE = os.path.getsize(a.file)
FD = os.open(a.file, os.O_RDONLY)
CHUNK = 16 * 1024


class Bad(Exception):
    pass


def write_atomic(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)


class Reader:
    def __init__(self, i):
        self.i = i
        self.path = "/files/%s" % a.name if i % 2 == 0 else "/sha256/%s" % a.sha256
        self.offset = 0
        if i % 4 == 3:
            # Offsets spread over the object, not aligned to anything.
            self.offset = (i * 1048573 + 4099) % (SIZE - a.prefix - 1)
        self.kind = ("files" if i % 2 == 0 else "sha256") + ("+range" if self.offset else "")
        self.got = 0
        self.result = None
        self.prefixed = asyncio.Event()

    async def run(self, ctx, stop):
        try:
            await self.read(ctx, stop)
            self.result = "ok %s %d" % (self.kind, self.got)
        except Bad as e:
            self.result = "bad %s %d %s" % (self.kind, self.got, e)
        except (OSError, ssl.SSLError, asyncio.IncompleteReadError, EOFError) as e:
            self.result = "bad %s %d %s: %s" % (self.kind, self.got, type(e).__name__, e)
        finally:
            self.prefixed.set()

    async def read(self, ctx, stop):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # A small fixed buffer: the kernel cannot take the response off
        # the server's hands faster than the reader does.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        s.setblocking(False)
        await asyncio.get_running_loop().sock_connect(s, ("127.0.0.1", a.port))
        r, w = await asyncio.open_connection(sock=s, ssl=ctx, server_hostname="127.0.0.1",
                                             limit=64 * 1024)
        try:
            head = "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n" % self.path
            if self.offset:
                head += "Range: bytes=%d-\r\n" % self.offset
            w.write((head + "\r\n").encode())
            await w.drain()
            raw = await r.readuntil(b"\r\n\r\n")
            lines = raw.decode("latin-1").split("\r\n")
            status = lines[0].split(" ")[1] if len(lines[0].split(" ")) > 1 else "?"
            hdr = {}
            for ln in lines[1:]:
                if ":" in ln:
                    k, v = ln.split(":", 1)
                    hdr[k.strip().lower()] = v.strip()
            want = "206" if self.offset else "200"
            if status != want:
                raise Bad("status %s, want %s" % (status, want))
            length = SIZE - self.offset
            if hdr.get("content-length") != str(length):
                raise Bad("Content-Length %s, want %d" % (hdr.get("content-length"), length))
            if self.offset:
                cr = "bytes %d-%d/%d" % (self.offset, SIZE - 1, SIZE)
                if hdr.get("content-range") != cr:
                    raise Bad("Content-Range %s, want %s" % (hdr.get("content-range"), cr))
            if "transfer-encoding" in hdr or "content-encoding" in hdr:
                raise Bad("unexpected encoding: %s" % hdr)
            t0 = time.monotonic()
            while not stop.is_set() and self.got < length:
                d = await r.read(CHUNK)
                if not d:
                    raise Bad("the response ended after %d of %d bytes" % (self.got, length))
                if os.pread(FD, len(d), self.offset + self.got) != d:
                    raise Bad("wrong bytes at offset %d" % (self.offset + self.got))
                self.got += len(d)
                if self.got >= a.prefix:
                    self.prefixed.set()
                # Throttle: never ahead of RATE bytes a second.
                ahead = self.got / a.rate - (time.monotonic() - t0)
                if ahead > 0:
                    try:
                        await asyncio.wait_for(stop.wait(), ahead)
                    except asyncio.TimeoutError:
                        pass
        finally:
            w.close()


async def main():
    ctx = ssl.create_default_context(cafile=a.cafile)
    stop = asyncio.Event()
    readers = [Reader(i) for i in range(a.readers)]
    tasks = [asyncio.create_task(x.run(ctx, stop)) for x in readers]

    async def all_prefixed():
        for x in readers:
            await x.prefixed.wait()

    try:
        await asyncio.wait_for(all_prefixed(), a.deadline)
    except asyncio.TimeoutError:
        n = sum(1 for x in readers if x.prefixed.is_set())
        msg = "only %d of %d readers got %d bytes within %g s" % (n, a.readers, a.prefix, a.deadline)
        write_atomic(a.state, "late: %s\n" % msg)
        print(msg, file=sys.stderr)
        return 1
    early = [x.result for x in readers if x.result is not None and not x.result.startswith("ok")]
    if early:
        write_atomic(a.state, "failed: %s\n" % early[0])
    else:
        write_atomic(a.state, "held %d\n" % a.readers)
    while not os.path.exists(a.stop):
        await asyncio.sleep(0.1)
    stop.set()
    await asyncio.gather(*tasks)
    write_atomic(a.report, "".join(x.result + "\n" for x in readers))
    return 0


sys.exit(asyncio.run(main()))

#!/usr/bin/env python3
"""A slow link for benchmarks: a TCP relay that delays and paces.

Usage: slowlink.py [--delay S] [--rate BITS] LISTEN_PORT:TARGET_PORT...

Listens on 127.0.0.1:LISTEN_PORT for each pair and relays every connection
to 127.0.0.1:TARGET_PORT. The target-to-client direction (the answers) goes
through a link model of its own per connection: each byte leaves after the
ones before it at RATE bits/s (2 Mbit/s by default) and arrives DELAY
seconds later (0.2 s by default), so a connection sees a 200 ms round trip
and 2 Mbit/s, like `tc netem delay 200ms rate 2mbit` on the mirror's side
with one flow per connection. The client-to-target direction (requests) is
passed on at once. No byte is lost: the relay ends each TCP connection, so a
dropped segment would be resent over loopback in microseconds and cost
nothing; losses cannot be emulated this way. At most about one second of
answer bytes waits in the relay per connection; beyond that the relay stops
reading from the target (TCP flow control takes over).

Prints "ready" on stdout once every port listens; runs until killed.
"""
import argparse
import asyncio
import sys

CHUNK = 4096            # bytes per paced write: 16 ms at 2 Mbit/s
QUEUED_MAX = 1.0        # seconds of answer bytes the relay holds per connection


async def up(reader, writer):
    """Client to target, unchanged."""
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        pass


async def down(reader, writer, delay, rate):
    """Target to client, through the link model."""
    loop = asyncio.get_running_loop()
    q = asyncio.Queue()

    async def sender():
        try:
            while True:
                due, data = await q.get()
                if data is None:
                    break
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                writer.write(data)
                await writer.drain()
            if writer.can_write_eof():
                writer.write_eof()
        except (ConnectionError, OSError):
            pass

    task = asyncio.create_task(sender())
    tx = loop.time()        # when the link is free to start the next byte
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            for i in range(0, len(data), CHUNK):
                part = data[i:i + CHUNK]
                now = loop.time()
                tx = max(tx, now) + len(part) * 8 / rate
                await q.put((tx + delay, part))
            ahead = tx - loop.time() - QUEUED_MAX
            if ahead > 0:
                await asyncio.sleep(ahead)
    except (ConnectionError, OSError):
        pass
    await q.put((0, None))
    await task


async def relay(creader, cwriter, target, delay, rate):
    try:
        treader, twriter = await asyncio.open_connection("127.0.0.1", target)
    except OSError:
        cwriter.close()
        return
    try:
        await asyncio.gather(up(creader, twriter), down(treader, cwriter, delay, rate))
    finally:
        for w in (twriter, cwriter):
            w.close()


async def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--delay", type=float, default=0.2)
    ap.add_argument("--rate", type=float, default=2e6)
    ap.add_argument("pairs", nargs="+", metavar="LISTEN_PORT:TARGET_PORT")
    a = ap.parse_args()
    servers = []
    for p in a.pairs:
        listen, target = (int(x) for x in p.split(":"))
        servers.append(await asyncio.start_server(
            lambda r, w, t=target: relay(r, w, t, a.delay, a.rate),
            "127.0.0.1", listen))
    print("ready", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)

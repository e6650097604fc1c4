#!/usr/bin/env python3
"""A slow, lossy link for benchmarks: two TUN devices and a link model.

Usage: lossylink.py --netns NAME [--net 10.77.0] [--delay S] [--rate BITS]
                    [--loss P] [--limit N] [--seed N]

Makes the network namespace NAME and a point-to-point link between it and
the namespace this runs in: a TUN device here with address NET.1, one in
NAME with NET.2. Every IPv4 packet between them goes through this process:

  - here -> NAME (servers answering a reader in NAME): dropped with
    probability P (0.01); otherwise it leaves after the packets before it
    of its own TCP connection at RATE bits/s (2e6) and arrives DELAY
    seconds (0.2) later; a connection with LIMIT packets (1000) waiting to
    leave drops the next one. That is `tc netem delay 200ms loss 1%
    rate 2mbit limit 1000` on the servers' side, with one qdisc per TCP
    connection;
  - NAME -> here (requests, acknowledgements): passed on at once.

The kernel's own TCP runs at both ends, so a lost segment costs what it
costs on a real link: a retransmission a round trip later and a smaller
congestion window. This exists because the kernel it was written for has
no sch_netem (nor fq or etf): no qdisc there can delay a packet.

Prints "ready" on stdout once both ends are up; on SIGTERM or SIGINT it
prints what it forwarded and dropped to stderr, deletes NAME and exits 0.
Needs root (namespaces, TUN devices).
"""
import argparse
import collections
import fcntl
import heapq
import os
import random
import select
import signal
import struct
import subprocess
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000


def tun(name):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    os.set_blocking(fd, False)
    return fd


def sh(*cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def flow_of(pkt):
    """The connection a packet belongs to: protocol, addresses, ports."""
    if len(pkt) < 20 or pkt[0] >> 4 != 4:
        return None
    ihl = (pkt[0] & 15) * 4
    proto = pkt[9]
    ports = pkt[ihl:ihl + 4] if proto in (6, 17) else b""
    return (proto, pkt[12:20], ports)


class Link:
    """The here -> NAME direction: loss, per-connection rate, delay."""

    def __init__(self, delay, rate, loss, limit, rng):
        self.delay, self.rate, self.loss, self.limit = delay, rate, loss, limit
        self.rng = rng
        self.flows = {}         # flow -> deque of departure times not yet past
        self.free = {}          # flow -> when its link is free for the next bit
        self.heap = []          # (arrival, seq, packet)
        self.seq = 0
        self.stats = collections.Counter()

    def push(self, pkt, now):
        key = flow_of(pkt)
        if key is None:         # not IPv4 (router solicitations): at once
            heapq.heappush(self.heap, (now, self.seq, pkt))
            self.seq += 1
            return
        if self.rng.random() < self.loss:
            self.stats["lost"] += 1
            return
        q = self.flows.setdefault(key, collections.deque())
        while q and q[0] <= now:
            q.popleft()
        if len(q) >= self.limit:
            self.stats["over limit"] += 1
            return
        depart = max(now, self.free.get(key, 0.0)) + len(pkt) * 8 / self.rate
        self.free[key] = depart
        q.append(depart)
        heapq.heappush(self.heap, (depart + self.delay, self.seq, pkt))
        self.seq += 1
        self.stats["sent"] += 1

    def forget_idle(self, now):
        for key in [k for k, t in self.free.items() if t < now - 60]:
            del self.free[key]
            self.flows.pop(key, None)


def drain(fd):
    while True:
        try:
            yield os.read(fd, 65535)
        except BlockingIOError:
            return


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--netns", required=True)
    ap.add_argument("--net", default="10.77.0")
    ap.add_argument("--delay", type=float, default=0.2)
    ap.add_argument("--rate", type=float, default=2e6)
    ap.add_argument("--loss", type=float, default=0.01)
    ap.add_argument("--limit", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=None)
    a = ap.parse_args()

    stop = []
    for s in (signal.SIGTERM, signal.SIGINT):
        signal.signal(s, lambda *_: stop.append(1))

    here, there = f"ll{os.getpid()}a", f"ll{os.getpid()}b"
    sh("ip", "netns", "add", a.netns)
    try:
        fh, ft = tun(here), tun(there)
        sh("ip", "link", "set", there, "netns", a.netns)
        sh("ip", "addr", "add", f"{a.net}.1", "peer", f"{a.net}.2", "dev", here)
        sh("ip", "link", "set", here, "up")
        inns = ("ip", "netns", "exec", a.netns)
        sh(*inns, "ip", "link", "set", "lo", "up")
        sh(*inns, "ip", "addr", "add", f"{a.net}.2", "peer", f"{a.net}.1", "dev", there)
        sh(*inns, "ip", "link", "set", there, "up")

        link = Link(a.delay, a.rate, a.loss, a.limit, random.Random(a.seed))
        up = 0
        print("ready", flush=True)
        last_gc = time.monotonic()
        while not stop:
            now = time.monotonic()
            timeout = max(0.0, link.heap[0][0] - now) if link.heap else 1.0
            try:
                ready, _, _ = select.select([fh, ft], [], [], timeout)
            except InterruptedError:
                continue
            now = time.monotonic()
            if fh in ready:
                for pkt in drain(fh):
                    link.push(pkt, now)
            if ft in ready:
                for pkt in drain(ft):
                    os.write(fh, pkt)
                    up += 1
            while link.heap and link.heap[0][0] <= now:
                _, _, pkt = heapq.heappop(link.heap)
                try:
                    os.write(ft, pkt)
                except OSError:     # the other end is going down
                    link.stats["write failed"] += 1
            if now - last_gc > 10:
                link.forget_idle(now)
                last_gc = now
        s = link.stats
        print(f"lossylink: to {a.netns}: {s['sent']} packets sent, {s['lost']} lost "
              f"({100 * s['lost'] / max(1, s['sent'] + s['lost']):.2f} %), "
              f"{s['over limit']} over the limit; from {a.netns}: {up} packets",
              file=sys.stderr)
    finally:
        subprocess.run(("ip", "netns", "del", a.netns), check=False)


if __name__ == "__main__":
    main()

"""HTTP/2 clients for tests/integration/http2.sh: well-behaved ones
(python3-h2) and attackers (raw frames from hyperframe/hpack, so that
they can send what h2 itself refuses to).

    h2_client.py PORT CERT MODE ARGS...

MODE:
  ranges PATH FILE N      N single ranges of PATH on one connection, as
                          many at once as the server allows, each
                          compared with FILE's bytes
  held PATH N OUT         N streams of PATH on one connection, 16 KiB
                          windows never reopened: once each has its
                          16 KiB, OUT says "N SIZE" and the streams are
                          held; when OUT.go appears, 2 are read to the
                          end (the first into OUT.body), the rest reset
  cut PATH OUT            one stream of PATH with a 16 KiB window: once
                          it has its 16 KiB, OUT says "SIZE"; when OUT.go
                          appears (the object cut short meanwhile), the
                          window opens; prints "reset N" or "ended N" (the
                          bytes received, in OUT.body), then "after: S",
                          the status of /healthz asked on the same
                          connection
  turns PATH              two streams of PATH at once, windows wide open,
                          first with no priority field, then on a new
                          connection with "priority: u=3" (RFC 9218: not
                          incremental); prints for each the DATA frames
                          and how often the stream sending them changed
  settings | ping | reset | continuation | streams PATH | headers
                          an attack; prints how the connection ended:
                          "goaway CODE" or "closed", with the frames seen
  idle SECS               connect, then nothing: how it ended, and when
Exit status 0 unless the client itself failed.
"""
import os
import socket
import ssl
import sys
import time

import h2.config
import h2.connection
import h2.events
import h2.settings
import hpack
from hyperframe.frame import (ContinuationFrame, Frame, GoAwayFrame, HeadersFrame,
                              PingFrame, RstStreamFrame, SettingsFrame)

PORT, CERT, MODE = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ARGS = sys.argv[4:]
AUTH = "127.0.0.1:%d" % PORT


def connect(timeout=20):
    ctx = ssl.create_default_context(cafile=CERT)
    ctx.check_hostname = False
    ctx.set_alpn_protocols(["h2"])
    raw = socket.create_connection(("127.0.0.1", PORT), timeout=timeout)
    s = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
    assert s.selected_alpn_protocol() == "h2", s.selected_alpn_protocol()
    return s


def req_headers(path, extra=()):
    return [(":method", "GET"), (":scheme", "https"), (":authority", AUTH),
            (":path", path)] + list(extra)


def h2conn(window=None):
    c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    c.initiate_connection()
    if window is not None:
        c.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: window})
    return c


def mode_ranges():
    path, file, n = ARGS[0], ARGS[1], int(ARGS[2])
    data = open(file, "rb").read()
    size = len(data)
    s = connect()
    c = h2conn()
    want, got, status = {}, {}, {}
    # Start as many as the server allows at once, the rest as they end.
    todo = list(range(n))
    limit = 100

    def start():
        while todo and len(want) - done[0] < limit:
            i = todo.pop(0)
            a = (i * 7919 * 131) % size
            b = min(size - 1, a + 100 + (i % 50) * 97)
            sid = c.get_next_available_stream_id()
            c.send_headers(sid, req_headers(path, [("range", "bytes=%d-%d" % (a, b))]),
                           end_stream=True)
            want[sid] = (a, b)
            got[sid] = bytearray()

    done = [0]
    start()
    s.sendall(c.data_to_send())
    while done[0] < n:
        d = s.recv(65536)
        if not d:
            sys.exit("closed with %d of %d done" % (done[0], n))
        for ev in c.receive_data(d):
            if isinstance(ev, h2.events.RemoteSettingsChanged):
                ch = ev.changed_settings.get(h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS)
                if ch is not None:
                    limit = ch.new_value
            elif isinstance(ev, h2.events.ResponseReceived):
                status[ev.stream_id] = dict((k.decode(), v.decode()) for k, v in ev.headers)
            elif isinstance(ev, h2.events.DataReceived):
                got[ev.stream_id] += ev.data
                c.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
            elif isinstance(ev, h2.events.StreamEnded):
                a, b = want[ev.stream_id]
                h = status[ev.stream_id]
                assert h[":status"] == "206", h
                assert h["content-range"] == "bytes %d-%d/%d" % (a, b, size), h
                assert bytes(got[ev.stream_id]) == data[a:b + 1], "stream %d: wrong bytes" % ev.stream_id
                done[0] += 1
            elif isinstance(ev, (h2.events.StreamReset, h2.events.ConnectionTerminated)):
                sys.exit("unexpected %r" % ev)
        start()
        s.sendall(c.data_to_send())
    print("ranges ok %d on one connection, limit %d" % (n, limit))


def ready_then_wait(out, text):
    """Say TEXT in OUT (whole, by a rename), then wait until the shell
    makes OUT.go (60 s at most)."""
    open(out + ".tmp", "w").write(text)
    os.rename(out + ".tmp", out)
    t0 = time.time()
    while not os.path.exists(out + ".go"):
        if time.time() - t0 > 60:
            sys.exit("not told to go on")
        time.sleep(0.05)


def mode_cut():
    path, out = ARGS[0], ARGS[1]
    s = connect(timeout=30)
    c = h2conn(window=16384)
    sid = c.get_next_available_stream_id()
    c.send_headers(sid, req_headers(path), end_stream=True)
    s.sendall(c.data_to_send())
    size, body, how = None, bytearray(), None

    def pump(until):
        while not until():
            d = s.recv(65536)
            if not d:
                sys.exit("closed")
            for ev in c.receive_data(d):
                yield ev
            s.sendall(c.data_to_send())
    for ev in pump(lambda: size is not None and len(body) >= 16384):
        if isinstance(ev, h2.events.ResponseReceived):
            size = int(dict((k.decode(), v.decode()) for k, v in ev.headers)["content-length"])
        elif isinstance(ev, h2.events.DataReceived):
            body.extend(ev.data)
        elif isinstance(ev, (h2.events.StreamReset, h2.events.ConnectionTerminated)):
            sys.exit("unexpected %r" % ev)
    ready_then_wait(out, "%d\n" % size)
    c.increment_flow_control_window(size, stream_id=sid)
    c.increment_flow_control_window(size)
    s.sendall(c.data_to_send())
    for ev in pump(lambda: how is not None):
        if isinstance(ev, h2.events.DataReceived) and ev.stream_id == sid:
            body.extend(ev.data)
            c.acknowledge_received_data(len(ev.data), sid)
        elif isinstance(ev, h2.events.StreamEnded) and ev.stream_id == sid:
            how = "ended"
        elif isinstance(ev, h2.events.StreamReset) and ev.stream_id == sid:
            how = "reset"
        elif isinstance(ev, h2.events.ConnectionTerminated):
            sys.exit("unexpected %r" % ev)
    open(out + ".body", "wb").write(body)
    print("%s %d" % (how, len(body)))
    # The connection goes on: another request on it.
    sid2 = c.get_next_available_stream_id()
    c.send_headers(sid2, req_headers("/healthz"), end_stream=True)
    s.sendall(c.data_to_send())
    status = None
    for ev in pump(lambda: status is not None):
        if isinstance(ev, h2.events.ResponseReceived) and ev.stream_id == sid2:
            status = dict((k.decode(), v.decode()) for k, v in ev.headers)[":status"]
        elif isinstance(ev, h2.events.ConnectionTerminated):
            sys.exit("unexpected %r" % ev)
    print("after: %s" % status)


def mode_turns():
    path = ARGS[0]
    said = []
    for name, extra in (("no field", ()), ("u=3", (("priority", "u=3"),))):
        s = connect()
        c = h2conn(window=2**31 - 1)
        c.increment_flow_control_window(2**31 - 1 - 65535)
        sids = []
        for _ in range(2):
            sid = c.get_next_available_stream_id()
            c.send_headers(sid, req_headers(path, extra), end_stream=True)
            sids.append(sid)
        s.sendall(c.data_to_send())
        order, ended = [], set()
        while len(ended) < 2:
            d = s.recv(65536)
            if not d:
                sys.exit("closed")
            for ev in c.receive_data(d):
                if isinstance(ev, h2.events.DataReceived) and ev.data:
                    order.append(ev.stream_id)
                elif isinstance(ev, h2.events.StreamEnded):
                    ended.add(ev.stream_id)
                elif isinstance(ev, (h2.events.StreamReset, h2.events.ConnectionTerminated)):
                    sys.exit("unexpected %r" % ev)
            s.sendall(c.data_to_send())
        s.close()
        changes = sum(1 for a, b in zip(order, order[1:]) if a != b)
        said.append("%s: %d frames, %d changes" % (name, len(order), changes))
    print("; ".join(said))


def mode_held():
    path, n, out = ARGS[0], int(ARGS[1]), ARGS[2]
    s = connect(timeout=60)
    c = h2conn(window=16384)
    # The connection's window lets each stream have its 16 KiB.
    c.increment_flow_control_window(n * 16384)
    sids = []
    for _ in range(n):
        sid = c.get_next_available_stream_id()
        c.send_headers(sid, req_headers(path), end_stream=True)
        sids.append(sid)
    s.sendall(c.data_to_send())
    heads, got, ended = {}, {}, set()
    # Take the heads and the first window of each; acknowledge nothing.
    while len(heads) < n or sum(len(v) for v in got.values()) < n * 16384:
        d = s.recv(65536)
        if not d:
            sys.exit("closed while held")
        for ev in c.receive_data(d):
            if isinstance(ev, h2.events.ResponseReceived):
                heads[ev.stream_id] = dict((k.decode(), v.decode()) for k, v in ev.headers)
            elif isinstance(ev, h2.events.DataReceived):
                got.setdefault(ev.stream_id, bytearray()).extend(ev.data)
            elif isinstance(ev, (h2.events.StreamReset, h2.events.ConnectionTerminated)):
                sys.exit("unexpected %r" % ev)
        s.sendall(c.data_to_send())
    size = int(heads[sids[0]]["content-length"])
    # Held: the shell samples the daemon meanwhile.
    ready_then_wait(out, "%d %d\n" % (len(heads), size))
    keep = sids[:2]
    for sid in sids[2:]:
        c.reset_stream(sid)
    for sid in keep:
        c.increment_flow_control_window(size, stream_id=sid)
    c.increment_flow_control_window(2 * size)
    s.sendall(c.data_to_send())
    while not all(sid in ended for sid in keep):
        d = s.recv(262144)
        if not d:
            sys.exit("closed before the end")
        for ev in c.receive_data(d):
            if isinstance(ev, h2.events.DataReceived):
                if ev.stream_id in keep:
                    got[ev.stream_id].extend(ev.data)
            elif isinstance(ev, h2.events.StreamEnded):
                ended.add(ev.stream_id)
            elif isinstance(ev, h2.events.ConnectionTerminated):
                sys.exit("unexpected %r" % ev)
        s.sendall(c.data_to_send())
    for sid in keep:
        assert len(got[sid]) == size, (sid, len(got[sid]), size)
    open(out + ".tmp", "wb").write(got[keep[0]])
    os.rename(out + ".tmp", out + ".body")
    print("held %d streams; 2 read whole (%d bytes)" % (n, size))


# ---- attacks: raw frames ----

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def frames_in(buf):
    """Split complete frames off BUF: ([frames], rest)."""
    out = []
    while len(buf) >= 9:
        f, length = Frame.parse_frame_header(memoryview(buf[:9]))
        if len(buf) < 9 + length:
            break
        f.parse_body(memoryview(buf[9:9 + length]))
        out.append(f)
        buf = buf[9 + length:]
    return out, buf


class Raw:
    def __init__(self):
        self.s = connect()
        self.s.sendall(PREFACE + SettingsFrame(0).serialize())
        self.buf = b""
        self.seen = {}
        self.end = None
        self.enc = hpack.Encoder()
        self.dec = hpack.Decoder()
        self.statuses = []

    def send(self, data):
        """Send, reading meanwhile; False once the server has ended."""
        self.s.setblocking(False)
        try:
            view = memoryview(data)
            while view and self.end is None:
                try:
                    k = self.s.send(view[:65536])
                    view = view[k:]
                except (ssl.SSLWantWriteError, BlockingIOError):
                    self.poll(0.05)
                except OSError:	# reset, broken pipe, TLS closed
                    self.end = self.end or "closed"
                self.poll(0)
        finally:
            self.s.setblocking(True)
        return self.end is None

    def poll(self, timeout):
        self.s.settimeout(timeout if timeout > 0 else 0.0001)
        try:
            d = self.s.recv(65536)
        except (socket.timeout, ssl.SSLWantReadError, BlockingIOError):
            return
        except (ConnectionResetError, ssl.SSLError, OSError):
            self.end = self.end or "closed"
            return
        finally:
            self.s.settimeout(None)
        if not d:
            self.end = self.end or "closed"
            return
        fs, self.buf = frames_in(self.buf + d)
        for f in fs:
            name = type(f).__name__
            self.seen[name] = self.seen.get(name, 0) + 1
            if isinstance(f, SettingsFrame) and "ACK" not in f.flags:
                try:
                    self.s.sendall(SettingsFrame(0, flags=["ACK"]).serialize())
                except OSError:
                    self.end = self.end or "closed"
            if isinstance(f, HeadersFrame):
                for k, v in self.dec.decode(f.data):
                    if k == ":status":
                        self.statuses.append(v)
            if isinstance(f, GoAwayFrame) and self.end is None:
                self.end = "goaway %d" % f.error_code

    def wait_end(self, secs=15):
        t0 = time.time()
        while self.end is None and time.time() - t0 < secs:
            self.poll(0.2)
        return self.end

    def headers(self, sid, path, end_stream=True, extra=()):
        block = self.enc.encode(req_headers(path, extra))
        flags = ["END_HEADERS"] + (["END_STREAM"] if end_stream else [])
        f = HeadersFrame(sid, block, flags=flags)
        return f.serialize()


def report(r, what):
    end = r.wait_end() or "open"
    print("%s: %s (%s%s)" % (what, end, " ".join("%s=%d" % kv for kv in sorted(r.seen.items())),
          "; status " + ",".join(r.statuses) if r.statuses else ""))


def mode_settings():
    r = Raw()
    r.send(SettingsFrame(0, settings={0x4: 65535}).serialize() * 5000)
    report(r, "settings flood")


def mode_ping():
    r = Raw()
    r.send(b"".join(PingFrame(0, opaque_data=i.to_bytes(8, "big")).serialize()
                    for i in range(5000)))
    report(r, "ping flood")


def mode_reset():
    r = Raw()
    sid = 1
    for _ in range(50):
        chunk = b""
        for _ in range(100):
            chunk += r.headers(sid, "/healthz") + RstStreamFrame(sid, error_code=8).serialize()
            sid += 2
        if not r.send(chunk):
            break
    print("reset streams sent: %d" % (sid // 2))
    report(r, "rapid reset")


def mode_continuation():
    r = Raw()
    first = r.enc.encode(req_headers("/healthz"))
    # Small fields, none over any size limit: only the count of frames
    # is wrong. A block that never ends (no END_HEADERS, ever).
    field = r.enc.encode([("x-flood", "a" * 50)])
    frame = ContinuationFrame(1, field * 100).serialize()
    r.send(HeadersFrame(1, first, flags=["END_STREAM"]).serialize())
    for _ in range(200):
        if not r.send(frame * 10):
            break
    report(r, "continuation flood")


def mode_streams():
    # 300 streams at once, each held open by a window of 0.
    r = Raw()
    r.send(SettingsFrame(0, settings={0x4: 0}).serialize())
    # Once the server's SETTINGS are acknowledged, its limit binds.
    t0 = time.time()
    while r.seen.get("SettingsFrame", 0) < 3 and time.time() - t0 < 10:
        r.poll(0.1)
    path = ARGS[0]
    data = b"".join(r.headers(1 + 2 * i, path) for i in range(300))
    r.send(data)
    report(r, "too many streams")


def mode_headers():
    r = Raw()
    extra = [("x-big-%d" % i, "v" * 1000) for i in range(10)]
    r.send(r.headers(1, "/healthz", extra=extra))
    report(r, "oversized header list")


def mode_idle():
    # Connected, SETTINGS exchanged, and then nothing: like an idle
    # HTTP/1.1 connection, it must end (GOAWAY then close) on its own.
    r = Raw()
    t0 = time.time()
    end = r.wait_end(secs=int(ARGS[0]))
    print("idle: %s after %.0f s" % (end or "open", time.time() - t0))


{"ranges": mode_ranges, "held": mode_held, "cut": mode_cut, "turns": mode_turns,
 "settings": mode_settings,
 "ping": mode_ping, "reset": mode_reset, "continuation": mode_continuation,
 "streams": mode_streams, "headers": mode_headers, "idle": mode_idle}[MODE]()

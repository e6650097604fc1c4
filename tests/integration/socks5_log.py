#!/usr/bin/env python3
"""A SOCKS5 proxy (RFC 1928, username/password RFC 1929) that logs, for
each CONNECT, the username the client gave ("-" for none) and where to:
what emberd fetch's stream isolation is seen by (microsocks logs no
usernames). Any username and password is accepted.

usage: socks5_log.py PORT_FILE LOG_FILE
Listens on 127.0.0.1, a free port, written to PORT_FILE (via a rename)."""
import os
import socket
import struct
import sys
import threading

port_file, log_file = sys.argv[1], sys.argv[2]
log = open(log_file, "a", buffering=1)
lock = threading.Lock()


def recv_exact(c, n):
    b = b""
    while len(b) < n:
        d = c.recv(n - len(b))
        if not d:
            raise OSError("short")
        b += d
    return b


def pipe(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    try:
        b.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def serve(c):
    try:
        ver, n = recv_exact(c, 2)
        methods = recv_exact(c, n)
        user = "-"
        if 2 in methods:
            c.sendall(b"\x05\x02")
            _, ulen = recv_exact(c, 2)
            user = recv_exact(c, ulen).decode("utf-8", "replace")
            (plen,) = recv_exact(c, 1)
            recv_exact(c, plen)
            c.sendall(b"\x01\x00")
        else:
            c.sendall(b"\x05\x00")
        _, cmd, _, atyp = recv_exact(c, 4)
        if atyp == 1:
            host = socket.inet_ntoa(recv_exact(c, 4))
        elif atyp == 3:
            (hl,) = recv_exact(c, 1)
            host = recv_exact(c, hl).decode()
        else:
            c.close()
            return
        (port,) = struct.unpack("!H", recv_exact(c, 2))
        with lock:
            log.write("%s %s:%d\n" % (user, host, port))
        u = socket.create_connection((host, port))
        c.sendall(b"\x05\x00\x00\x01" + socket.inet_aton("127.0.0.1") + struct.pack("!H", 0))
        t = threading.Thread(target=pipe, args=(u, c), daemon=True)
        t.start()
        pipe(c, u)
        t.join()
        u.close()
    except OSError:
        pass
    finally:
        c.close()


srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(64)
with open(port_file + ".tmp", "w") as f:
    f.write("%d\n" % srv.getsockname()[1])
os.rename(port_file + ".tmp", port_file)
while True:
    conn, _ = srv.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()

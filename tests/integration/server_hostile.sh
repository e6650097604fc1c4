# emberd run against hostile clients: path tricks never reach outside the
# catalog, malformed requests get 400, other methods 405 with Allow, a
# request body is refused (and never read as a second request); clients
# that vanish mid-download, garbage TLS handshakes, readers that stop
# reading, and 1,000 idle or half-sent connections do not keep a normal
# reader from /healthz for more than a second.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
setup_publisher
ulimit -n 4096 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge 2200 ] ||
	fail "cannot raise the open-files limit to hold 1,000 connections (got $(ulimit -n))"

printf 'hello reader\n' >"$T/hello.txt"
head -c 20000000 /dev/urandom >"$T/big.mp4"
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/hello.txt" "$T/big.mp4"
big=$(sha256_of "$T/big.mp4")
hello=$(sha256_of "$T/hello.txt")

# Files outside the catalog that no response may ever contain: one next to
# the store (beside the config and the secret key), one inside the store.
MARKER="outside-marker-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf '%s\n' "$MARKER" >"$T/secret.txt"
printf '%s\n' "$MARKER" >"$T/x"
start_server
printf '%s\n' "$MARKER" >"$STORE/secret.txt"

# Every answer must come within a second to a normal reader.
healthy() {	# healthy WHEN
	local out
	out=$(curl -sS --max-time 1 --cacert "$STORE/tls/cert.pem" "$HTTPS_URL/healthz" 2>&1) ||
		server_fail "$1: no /healthz over HTTPS within 1 s ($out)"
	[ "$out" = ok ] || server_fail "$1: /healthz over HTTPS answered '$out'"
	out=$(curl -sS --max-time 1 "$HTTP_URL/healthz" 2>&1) ||
		server_fail "$1: no /healthz over HTTP within 1 s ($out)"
	[ "$out" = ok ] || server_fail "$1: /healthz over HTTP answered '$out'"
	server_alive
}

# raw.py: send exact bytes, over plain TCP or TLS, and check the answers.
cat >"$T/raw.py" <<'PY'
import re, socket, ssl, sys, time
CA, HTTPS_PORT, HTTP_PORT, MARKER = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4].encode()
FORBIDDEN = [MARKER, b"root:x:0:", b"PRIVATE KEY", b"untrusted comment:", b'"sequence":']
failures = []

def complete(buf, head):
    """A whole first response is in BUF."""
    h, sep, body = buf.partition(b"\r\n\r\n")
    if not sep:
        return False
    m = re.match(rb"HTTP/1\.[01] (\d{3})", h)
    if not m:
        return False
    if head or m.group(1) in (b"204", b"304") or m.group(1).startswith(b"1"):
        return True
    cl = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", h)
    if cl:
        return len(body) >= int(cl.group(1))
    if re.search(rb"(?im)^transfer-encoding:.*chunked", h):
        return body.endswith(b"0\r\n\r\n")
    return False

def exchange(data, tls, linger=0.0, head=False, wait=3.0):
    """Send DATA, read the answer: until the close, or once a whole
    response is in, LINGER seconds more (to see a second one)."""
    try:
        s = socket.create_connection(("127.0.0.1", HTTPS_PORT if tls else HTTP_PORT), timeout=wait)
        if tls:
            ctx = ssl.create_default_context(cafile=CA)
            s = ctx.wrap_socket(s, server_hostname="127.0.0.1")
    except (OSError, ssl.SSLError) as e:
        return ("(no connection: %s)" % e).encode()
    buf = b""
    deadline = None
    try:
        s.sendall(data)
        while True:
            if deadline is None and complete(buf, head):
                deadline = time.time() + linger
            if deadline is not None:
                left = deadline - time.time()
                if left <= 0:
                    break
                s.settimeout(left)
            d = s.recv(65536)
            if not d:
                break
            buf += d
    except (socket.timeout, ConnectionResetError, BrokenPipeError, ssl.SSLError):
        pass
    s.close()
    return buf

def exchange_records(parts, with_finished, wait=5.0):
    """PARTS over TLS, each in a record of its own, all in one TCP write
    (WITH_FINISHED: in the handshake's last write too): the records the
    server has read ahead must be answered without more bytes arriving."""
    try:
        s = socket.create_connection(("127.0.0.1", HTTPS_PORT), timeout=wait)
    except OSError as e:
        return ("(no connection: %s)" % e).encode()
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    o = ssl.create_default_context(cafile=CA).wrap_bio(inc, out, server_hostname="127.0.0.1")
    buf = b""

    def more():
        d = s.recv(65536)
        if not d:
            raise ConnectionError("closed")
        inc.write(d)
    try:
        while True:
            try:
                o.do_handshake()
                break
            except ssl.SSLWantReadError:
                if out.pending:
                    s.sendall(out.read())
                more()
        if not with_finished:
            s.sendall(out.read())
        for p in parts:
            o.write(p)
        s.sendall(out.read())
        while True:
            try:
                d = o.read(65536)
                if not d:
                    break
                buf += d
            except ssl.SSLWantReadError:
                more()
    except (OSError, ssl.SSLError, ConnectionError):
        pass
    s.close()
    return buf

def statuses(buf):
    return [int(x) for x in re.findall(rb"(?m)^HTTP/1\.[01] (\d{3}) ", buf)]

def headers_of(buf):
    head = buf.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")[1:]
    return {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in head if ":" in l)}

def check(name, data, want, tls_too=True, closed_ok=False, forbid=FORBIDDEN, more=None,
          linger=0.0, head=False):
    for tls in ((False, True) if tls_too else (False,)):
        where = "%s over %s" % (name, "TLS" if tls else "HTTP")
        buf = exchange(data, tls, linger, head)
        st = statuses(buf)
        if not st and closed_ok:
            continue
        if not st or st[0] not in want:
            failures.append("%s: status %s, want one of %s: %r" % (where, st[:1] or "none", sorted(want), buf[:200]))
            continue
        for f in forbid:
            if f in buf:
                failures.append("%s: response contains %r" % (where, f))
        if more:
            err = more(buf, st)
            if err:
                failures.append("%s: %s" % (where, err))

def get(path, extra=""):
    return ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%sConnection: close\r\n\r\n" % (path, extra)).encode("latin-1")

mode = sys.argv[5]
if mode == "control":
    # The harness itself works: a normal request is served.
    # (Each request says "Connection: close": the answer, then the close.)
    for tls in (False, True):
        buf = exchange(get("/files/hello.txt"), tls)
        if statuses(buf) != [200] or not buf.endswith(b"\r\n\r\nhello reader\n"):
            failures.append("GET /files/hello.txt with Connection: close over %s: %r"
                            % ("TLS" if tls else "HTTP", buf[:300] or "empty reply"))

elif mode == "paths":
    paths = sys.stdin.read().split("\n")
    for p in paths:
        if p:
            check("GET " + p, get(p), {400, 404})

elif mode == "malformed":
    cases = [
        ("garbage line", b"GARBAGE\r\n\r\n"),
        ("method only", b"GET\r\n\r\n"),
        ("bad version", b"GET /healthz XTTP/1.1\r\nHost: x\r\n\r\n"),
        ("header without colon", b"GET /healthz HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n"),
        ("bad escape %zz", b"GET /files/%zz HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("truncated escape", b"GET /files/hello.txt% HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("truncated escape 2", b"GET /files/%4 HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("%u escape", b"GET /files/%u002e%u002e HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("target without slash", b"GET healthz HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("bad Content-Length", b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n"),
        ("negative Content-Length", b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n"),
        ("NUL in target", b"GET /heal\x00thz HTTP/1.1\r\nHost: x\r\n\r\n"),
    ]
    for name, data in cases:
        check(name, data, {400})
    # Not malformed in form but absurd in size: refused, or the connection
    # closed; never served.
    check("100 KB target", b"GET /files/" + b"a" * 100000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
          {400, 404, 414, 431}, closed_ok=True)
    check("1 MB of headers", b"GET /healthz HTTP/1.1\r\nHost: x\r\n" +
          b"".join(b"X-Pad-%d: %s\r\n" % (i, b"p" * 1000) for i in range(1000)) + b"\r\n",
          {400, 413, 431}, closed_ok=True)
    # A TLS ClientHello on the plain port: no answer that serves anything.
    check("TLS on the plain port", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 500,
          {400}, tls_too=False, closed_ok=True)

elif mode == "methods":
    def allow_ok(buf, st):
        a = headers_of(buf).get("allow")
        if a is None:
            return "no Allow header"
        got = {t.strip().upper() for t in a.split(",") if t.strip()}
        if got != {"GET", "HEAD"}:
            return "Allow: %s (want GET and HEAD only)" % a
    for path in ("/", "/healthz", "/catalog.json", "/files/hello.txt", "/sha256/" + sys.argv[6], "/pubkey", "/metrics"):
        for m in ("POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE"):
            data = ("%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" % (m, path)).encode()
            check("%s %s" % (m, path), data, {405}, more=allow_ok)
    check("CONNECT", b"CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n", {400, 405})
    for m in ("FOO", "get", "PROPFIND"):
        check(m + " /healthz", ("%s /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % m).encode(),
              {400, 405, 501})

elif mode == "bodies":
    smuggled = b"GET /catalog.json HTTP/1.1\r\nHost: x\r\n\r\n"
    def one_answer(buf, st):
        if len(st) != 1:
            return "%d answers: the body was read as a request" % len(st)
    def req(method, hdrs, body):
        return ("%s /healthz HTTP/1.1\r\nHost: x\r\n%s\r\n" % (method, hdrs)).encode() + body
    check("GET with a body", req("GET", "Content-Length: %d\r\n" % len(smuggled), smuggled),
          {400, 413}, more=one_answer, linger=1.0)
    check("HEAD with a body", req("HEAD", "Content-Length: %d\r\n" % len(smuggled), smuggled),
          {400, 413}, more=one_answer, linger=1.0, head=True)
    # Another method with a body: 405 with Allow, never 400, and the
    # connection closes (the body unread) even though it asked to stay.
    def allow_close(buf, st):
        hd = headers_of(buf)
        got = {t.strip().upper() for t in hd.get("allow", "").split(",") if t.strip()}
        if got != {"GET", "HEAD"}:
            return "Allow: %r (want GET, HEAD)" % hd.get("allow")
        if hd.get("connection", "").lower() != "close":
            return "no Connection: close"
        return one_answer(buf, st)
    for m in ("POST", "PUT", "PATCH", "DELETE"):
        check("%s with a body" % m, req(m, "Content-Length: %d\r\n" % len(smuggled), smuggled),
              {405}, more=allow_close, linger=1.0)
    check("POST chunked", req("POST", "Transfer-Encoding: chunked\r\n",
          b"%x\r\n%s\r\n0\r\n\r\n" % (len(smuggled), smuggled)),
          {405}, more=allow_close, linger=1.0)
    chunk = b"%x\r\n%s\r\n0\r\n\r\n" % (len(smuggled), smuggled)
    check("GET chunked", req("GET", "Transfer-Encoding: chunked\r\n", chunk),
          {400, 411, 413, 501}, more=one_answer, linger=1.0)
    check("GET with Content-Length and Transfer-Encoding",
          req("GET", "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n", chunk),
          {400, 411, 413, 501}, more=one_answer, linger=1.0)
    check("GET with two Content-Lengths",
          req("GET", "Content-Length: %d\r\nContent-Length: 0\r\n" % len(smuggled), smuggled),
          {400, 413}, more=one_answer, linger=1.0)
    # Content-Length: 0 is no body: served.
    buf = exchange(req("GET", "Content-Length: 0\r\nConnection: close\r\n", b""), False)
    if statuses(buf) != [200] or not buf.endswith(b"ok") and not buf.endswith(b"ok\n"):
        failures.append("GET with Content-Length: 0: %r" % buf[:200])

elif mode == "framing":
    hello = sys.argv[6]
    # Pipelining: three requests in one write, answered in order.
    for tls in (False, True):
        where = "TLS" if tls else "HTTP"
        data = (b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                b"HEAD /files/hello.txt HTTP/1.1\r\nHost: x\r\n\r\n"
                b"GET /files/hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        buf = exchange(data, tls, wait=5.0)
        st = statuses(buf)
        if st != [200, 200, 200] or not buf.endswith(b"\r\n\r\nhello reader\n") \
                or buf.count(b"hello reader") != 1 or b"ok\n" not in buf:
            failures.append("pipelined over %s: %s %r" % (where, st, buf[-200:]))
    # The same in three TLS records that arrive together: were they read
    # in one go (OpenSSL's read-ahead, whose records libevent 2.1 does
    # not look for), the second and third would wait for bytes that do
    # not come; tried with read-ahead, this failed without a fix.
    for fin in (False, True):
        buf = exchange_records([b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
                                b"HEAD /files/hello.txt HTTP/1.1\r\nHost: x\r\n\r\n",
                                b"GET /files/hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"],
                               fin)
        st = statuses(buf)
        if st != [200, 200, 200] or not buf.endswith(b"\r\n\r\nhello reader\n"):
            failures.append("three TLS records in one write%s: %s %r"
                            % (" with the handshake's end" if fin else "", st, buf[-200:]))
    # A half-close after the request: the answer still comes, whole.
    s = socket.create_connection(("127.0.0.1", HTTP_PORT), timeout=5)
    s.sendall(b"GET /files/hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
    s.shutdown(socket.SHUT_WR)
    buf = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            buf += d
    except OSError as e:
        failures.append("half-close: %s" % e)
    s.close()
    if statuses(buf) != [200] or not buf.endswith(b"hello reader\n"):
        failures.append("half-close: %r" % buf[:300])
    # 304 has no Content-Length (it would have to equal the 200's) and no body.
    for tls in (False, True):
        buf = exchange(get("/files/hello.txt", 'If-None-Match: "%s"\r\n' % hello), tls, linger=0.5)
        h = headers_of(buf)
        if statuses(buf) != [304] or "content-length" in h or not buf.endswith(b"\r\n\r\n"):
            failures.append("304 over %s: %r" % ("TLS" if tls else "HTTP", buf[:300]))
    # A head over the limit: 431, then the close.
    check("9 KB header field", b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"p" * 9000 + b"\r\n\r\n",
          {431})
    # A body announced on a HEAD request cannot be taken for a request:
    # one answer only, even with the body arriving late.
    s = socket.create_connection(("127.0.0.1", HTTP_PORT), timeout=5)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n\r\n")
    time.sleep(0.2)
    try:
        s.sendall(b"GET /catalog.json HTTP/1.1\r\nHost: x\r\n\r\n")
    except OSError:
        pass
    buf = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            buf += d
    except OSError:
        pass
    s.close()
    if statuses(buf) != [400]:
        failures.append("late body: %s %r" % (statuses(buf), buf[:200]))

for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
PY
raw() { python3 "$T/raw.py" "$STORE/tls/cert.pem" "$HTTPS_PORT" "$HTTP_PORT" "$MARKER" "$@"; }

raw control || server_fail "a plain request through the test harness failed"

# --- paths: 400 or 404, never a byte from outside the catalog.
# (Sent exactly as written, as curl --path-as-is would.)
raw paths <<'PATHS' || server_fail "path tricks"
/files/..%2f..%2fetc%2fpasswd
/files/%2e%2e
/files/%2e%2e%2fsecret.txt
/files/%2E%2E%2Fsecret.txt
/files/..%2fsecret.txt
/files/..%2f..%2fsecret.txt
/files/../secret.txt
/files/../../secret.txt
/files/../../../../../../../../etc/passwd
/files/..%5csecret.txt
/files/..\secret.txt
/files/..\..\x
/files/..\\..\\x
/files/%252e%252e%252fsecret.txt
/files/%252e%252e%252f%252e%252e%252fetc%252fpasswd
/files/%25252e%25252e%25252fsecret.txt
/files/%c0%ae%c0%ae
/files/%c0%ae%c0%ae%c0%afsecret.txt
/files/%c0%ae%c0%ae%c0%af%c0%ae%c0%ae%c0%afetc%c0%afpasswd
/files/%e0%80%ae%e0%80%ae%e0%80%afsecret.txt
/files/%f0%80%80%ae%f0%80%80%ae%f0%80%80%afsecret.txt
/files/%c0%2e%c0%2e%c0%2fsecret.txt
/files/%ff%fe
/files/a%00b
/files/secret.txt%00.txt
/files/hello.txt%00
/files/hello.txt%00/../secret.txt
/files/%00
/files/.%2e/secret.txt
/files/%2e./secret.txt
/files/..;/secret.txt
/files/.secret.txt
/files/secret.txt
/files/x
/files/%2fetc%2fpasswd
/files//etc/passwd
/files/%2f%2fetc%2fpasswd
/files/..%2fpublisher.key
/files/..%2f..%2fpublisher.key
/files/..%2ftls%2fkey.pem
/files/..%2fstore%2ftls%2fkey.pem
/files/..%2fcurrent%2fcatalog.json
/files/..%2f..%2fstore%2fcurrent%2fcatalog.json
/sha256/../../catalog.json
/sha256/..%2f..%2fcatalog.json
/sha256/..%2fsecret.txt
/sha256/../secret.txt
/sha256/..%2fcurrent%2fcatalog.json
/../../../../etc/passwd
/..%2f..%2f..%2fetc%2fpasswd
/%2e%2e/%2e%2e/%2e%2e/etc/passwd
/%2e%2e%2f%2e%2e%2fsecret.txt
/secret.txt
/store/secret.txt
/publisher.key
/tls/key.pem
/current/catalog.json
/catalogs/1/catalog.json
/objects/0000000000000000000000000000000000000000000000000000000000000000
/emberd.conf
/./secret.txt
/files/./../secret.txt
PATHS
# The same through curl --path-as-is, as a reader's tool would send them.
for p in '/files/..%2f..%2fetc%2fpasswd' '/files/%2e%2e' '/sha256/../../catalog.json' \
	'/files/%c0%ae%c0%ae' '/files/a%00b' '/files/../../secret.txt' '/files/..%2fsecret.txt'; do
	for base in "$HTTPS_URL" "$HTTP_URL"; do
		code=$(curl -s --path-as-is --max-time 5 --cacert "$STORE/tls/cert.pem" \
			-o "$T/resp" -w '%{http_code}' "$base$p" || true)
		[ "$code" = 400 ] || [ "$code" = 404 ] || fail "curl --path-as-is $base$p: $code (want 400 or 404)"
		! grep -qF -e "$MARKER" -e 'root:x:0:' -e 'PRIVATE KEY' "$T/resp" 2>/dev/null ||
			fail "$base$p: response has content from outside the catalog"
	done
done
healthy "after path tricks"
pass "path tricks: 400 or 404, nothing from outside the catalog"

raw malformed || server_fail "malformed requests"
healthy "after malformed requests"
pass "malformed requests: 400"

raw methods "$hello" || server_fail "other methods"
healthy "after other methods"
pass "POST, PUT, DELETE, OPTIONS, PATCH, TRACE: 405 with Allow: GET, HEAD; unknown methods refused"

raw bodies || server_fail "request bodies"
healthy "after request bodies"
pass "request bodies refused (GET/HEAD 400; POST, PUT, PATCH, DELETE, chunked POST 405 with Allow and Connection: close), never read as a request"

raw framing "$hello" || server_fail "request framing"
healthy "after framing checks"
pass "pipelining in order (also as three TLS records in one write), half-close answered, 304 without Content-Length, 431 for a huge head, late body refused"

# --- holders: background Python clients that signal readiness in a file
# and stay until killed (or 120 s).
# hold NAME PYTHON: run PYTHON with ready() available; waits (bounded)
# for it to be ready. Sets HOLD_PID.
hold() {
	local name=$1 code=$2 i
	rm -f "$T/$name.ready"
	python3 - "$T/$name.ready" "$HTTPS_PORT" "$HTTP_PORT" "$big" >"$T/$name.log" 2>&1 <<PY &
import os, socket, ssl, sys, time
READY, HTTPS_PORT, HTTP_PORT, BIG = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
def ready(msg="ready"):
    with open(READY + ".tmp", "w") as f:
        f.write(msg + "\n")
    os.rename(READY + ".tmp", READY)
    time.sleep(120)
$code
PY
	HOLD_PID=$!
	bg "$HOLD_PID"
	for i in $(seq 1 1200); do
		[ -e "$T/$name.ready" ] && return 0
		kill -0 "$HOLD_PID" 2>/dev/null || { cat "$T/$name.log"; fail "$name: helper died"; }
		sleep 0.05
	done
	cat "$T/$name.log"
	fail "$name: helper not ready within 60 s"
}
unhold() { kill "$HOLD_PID" 2>/dev/null || true; wait "$HOLD_PID" 2>/dev/null || true; }

# Clients that close mid-download (plain and TLS, some with a reset).
hold vanish '
import struct
for i in range(60):
    s = socket.create_connection(("127.0.0.1", HTTP_PORT if i % 2 else HTTPS_PORT))
    if i % 2 == 0:
        ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
        s = ctx.wrap_socket(s)
    s.sendall(("GET /sha256/%s HTTP/1.1\r\nHost: x\r\n\r\n" % BIG).encode())
    got = 0
    while got < 200000:
        d = s.recv(65536)
        assert d, "closed early"
        got += len(d)
    if i % 3 == 0:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
ready()
'
unhold
healthy "after 60 clients closed mid-download"
curl_https -o "$T/big.dl" "$HTTPS_URL/files/big.mp4" || server_fail "download after aborted ones"
[ "$(sha256_of "$T/big.dl")" = "$big" ] || fail "download after aborted ones: wrong bytes"
pass "clients closing mid-download do not disturb others"

# Readers that ask for 20 MB and never read.
hold stalled '
socks = []
for i in range(40):
    s = socket.create_connection(("127.0.0.1", HTTP_PORT if i % 2 else HTTPS_PORT))
    if i % 2 == 0:
        ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
        s = ctx.wrap_socket(s)
    s.sendall(("GET /files/big.mp4 HTTP/1.1\r\nHost: x\r\n\r\n").encode())
    socks.append(s)
time.sleep(0.5)
ready()
'
healthy "while 40 readers stall"
unhold
healthy "after 40 stalled readers left"
pass "readers that stop reading do not block the server"

# Garbage where a TLS handshake should be: random bytes, a record header
# promising more than comes, a cut ClientHello, plain HTTP; all held open.
hold garbage '
socks = []
def conn():
    s = socket.create_connection(("127.0.0.1", HTTPS_PORT)); socks.append(s); return s
for i in range(20):
    conn().sendall(os.urandom(4096))
for i in range(20):
    conn().sendall(b"\x16\x03\x01\x40\x00" + os.urandom(100))
for i in range(20):
    conn().sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
for i in range(20):
    conn().sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(40))
for i in range(20):
    conn()  # connect, say nothing
# And full garbage handshakes that end.
for i in range(50):
    s = socket.create_connection(("127.0.0.1", HTTPS_PORT))
    s.sendall(os.urandom(1000 + i * 37))
    s.close()
time.sleep(0.3)
ready()
'
healthy "while garbage TLS handshakes are held open"
unhold
healthy "after garbage TLS handshakes"
pass "garbage TLS handshakes"

# 1,000 idle connections to the TLS port, then 1,000 half-sent requests to
# the plain port.
hold idle '
socks = []
for i in range(1000):
    socks.append(socket.create_connection(("127.0.0.1", HTTPS_PORT), timeout=10))
time.sleep(0.3)
ready("%d" % len(socks))
'
healthy "while 1,000 idle TCP connections are held on the TLS port"
unhold
hold slowloris '
socks = []
for i in range(1000):
    s = socket.create_connection(("127.0.0.1", HTTP_PORT), timeout=10)
    s.sendall(b"GET /files/hello.txt HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    socks.append(s)
time.sleep(0.3)
ready("%d" % len(socks))
'
healthy "while 1,000 half-sent requests are held on the plain port"
unhold
healthy "after the 1,000 connections closed"
pass "1,000 idle connections, 1,000 half-sent requests: /healthz within 1 s"

# Still whole and well after all that.
curl_http -o "$T/big.dl" "$HTTP_URL/sha256/$big" || server_fail "download at the end"
[ "$(sha256_of "$T/big.dl")" = "$big" ] || fail "download at the end: wrong bytes"
! grep -qF "$MARKER" "$SERVER_LOG" || fail "the marker appears in the log"
stop_server
pass "the server survives and stops cleanly"

# emberd run under load, with workers = auto (one event loop per CPU,
# SO_REUSEPORT): wrk with 1,000 keep-alive HTTPS connections for
# 15 s without an error, and no descriptors or memory kept after it; a
# crowd of 2,000 connections over the cap is queued (accepting pauses) and
# served as the first ones close, without a crash; 1,000 slowloris clients
# (a byte a second) do not keep a normal reader from /healthz for more than
# a second, and are closed at the 10 s header timeout.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
setup_publisher
command -v wrk >/dev/null || fail "wrk is not installed"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge 8192 ] ||
	fail "cannot raise the open-files limit for 2,200 client connections (got $(ulimit -n))"

# wrk counts a request not answered within --timeout as an error (its
# default, 2 s, is what a shared two-core machine misses under
# AddressSanitizer while 1,000 handshakes queue). The timeout is sized for
# the build and stays shorter than the shortest run, so a request the
# server never answers still fails the test. 15 s is well past the first
# second in which all 1,000 handshakes queue: every connection then makes
# requests for the rest of the run, as long as needed to show that none
# fails and nothing is kept after.
SANITIZED=${EMBERD_SANITIZED:-0}
if [ "$SANITIZED" = 1 ]; then WRK_SECS=15 WRK_TIMEOUT=8; else WRK_SECS=15 WRK_TIMEOUT=5; fi
HEADER_TIMEOUT=10

head -c 4096 /dev/urandom >"$T/obj.bin"
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/obj.bin"
OBJ_SHA=$(sha256_of "$T/obj.bin")
# One event loop per CPU for each scheme: what is measured is what
# `workers = auto` serves.
HTTPS_EXTRA="workers = auto"
HTTP_EXTRA="workers = auto"
start_server

fd_count() { ls "/proc/$SERVER_PID/fd" 2>/dev/null | wc -l; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$SERVER_PID/status"; }

# metric NAME [BASE]: the value of gauge or counter NAME, asked over plain
# HTTP (or BASE); empty when there is no answer within 2 s.
metric() {
	curl -s --max-time 2 --cacert "$STORE/tls/cert.pem" "${2:-$HTTP_URL}/metrics" 2>/dev/null |
		awk -v n="$1" '$1 == n { print $2 }' || true
}

# wait_conns MAX [BASE] [SECONDS]: poll (bounded) until emberd_connections,
# which counts the metrics request itself, is at most MAX.
wait_conns() {
	local max=$1 base=${2:-$HTTP_URL} secs=${3:-15} i v=
	for i in $(seq 1 $((secs * 10))); do
		v=$(metric emberd_connections "$base")
		[ -n "$v" ] && [ "$v" -le "$max" ] && return 0
		server_alive
		sleep 0.1
	done
	server_fail "emberd_connections still '$v' after $secs s (want <= $max)"
}

# wait_fds MAX [SECONDS]: poll (bounded) until the daemon has at most MAX
# descriptors open; sets FDS.
wait_fds() {
	local max=$1 secs=${2:-10} i
	for i in $(seq 1 $((secs * 10))); do
		FDS=$(fd_count)
		[ "$FDS" -le "$max" ] && return 0
		sleep 0.1
	done
	ls -l "/proc/$SERVER_PID/fd" | tail -n 20
	server_fail "the daemon has $FDS descriptors open after $secs s (want <= $max)"
}

# healthz_fast BASE WHEN: /healthz answered "ok" within 1 s; prints the time.
healthz_fast() {
	local out body
	out=$(curl -sS --max-time 1 --cacert "$STORE/tls/cert.pem" -o "$T/healthz.body" \
		-w '%{http_code} %{time_total}' "$1/healthz" 2>&1) ||
		server_fail "$2: no /healthz from $1 within 1 s ($out)"
	body=$(cat "$T/healthz.body")
	[ "${out%% *}" = 200 ] && [ "$body" = ok ] ||
		server_fail "$2: /healthz from $1 answered $out '$body'"
	HEALTHZ_TIME=${out##* }
	awk -v t="$HEALTHZ_TIME" 'BEGIN { exit !(t < 1.0) }' ||
		server_fail "$2: /healthz from $1 took $HEALTHZ_TIME s"
}

# --- 1. wrk: 1,000 keep-alive HTTPS connections.
[ "$(curl_https "$HTTPS_URL/files/obj.bin" | sha256sum | cut -d' ' -f1)" = "$OBJ_SHA" ] ||
	server_fail "GET /files/obj.bin over HTTPS: wrong bytes"
wait_conns 1
FD_BASE=$(fd_count)
RSS_BASE=$(rss_kib)

# run_wrk SECONDS NAME: wrk against the object over HTTPS, while the
# emberd_connections gauge is sampled over plain HTTP (the other half of
# the connection cap); sets WRK_REQS and PEAK_CONNS.
run_wrk() {
	local secs=$1 name=$2 v wpid
	wrk -t2 -c1000 -d"${secs}s" --timeout "${WRK_TIMEOUT}s" --latency "$HTTPS_URL/files/obj.bin" \
		>"$T/$name.out" 2>&1 &
	wpid=$!
	bg "$wpid"
	PEAK_CONNS=0
	while kill -0 "$wpid" 2>/dev/null; do
		v=$(metric emberd_connections)
		if [ -n "$v" ] && [ "$v" -gt "$PEAK_CONNS" ]; then PEAK_CONNS=$v; fi
		sleep 0.5
	done
	wait "$wpid" || { cat "$T/$name.out"; server_fail "$name: wrk exited with an error"; }
	server_alive
	if grep -qE 'Socket errors|Non-2xx' "$T/$name.out"; then
		cat "$T/$name.out"
		server_fail "$name: wrk saw errors"
	fi
	WRK_REQS=$(awk '/requests in/ { print $1 }' "$T/$name.out")
	[ -n "$WRK_REQS" ] && [ "$WRK_REQS" -gt 0 ] ||
		{ cat "$T/$name.out"; server_fail "$name: no request count from wrk"; }
	# The connections were really held at once (the gauge counts the
	# metrics request too).
	[ "$PEAK_CONNS" -ge 1000 ] ||
		{ cat "$T/$name.out"; server_fail "$name: at most $PEAK_CONNS connections open at once (want 1,000)"; }
}

run_wrk "$WRK_SECS" wrk1
rps=$(awk '/^Requests\/sec/ { print $2 }' "$T/wrk1.out")
lat=$(awk '$1 == "Latency" && NF >= 4 { print $2 " mean, " $4 " max"; exit }' "$T/wrk1.out")
healthz_fast "$HTTPS_URL" "after wrk"
pass "wrk: 1,000 keep-alive HTTPS connections for $WRK_SECS s: $WRK_REQS requests ($rps/s, latency $lat), no socket errors, no non-2xx; $PEAK_CONNS connections open at the peak"

# --- 2. Nothing kept: the descriptors go back to the baseline, and more
# runs add no memory. What is allocated and not freed
# (emberd_heap_in_use_bytes, glibc's count) decides: after the warm-up
# run it moves by tens of KiB a run (the TLS session cache, capped);
# each run may add 1 MiB at most: a leak of 1 KiB a connection or 8
# bytes a request would exceed that. The resident size (glibc keeps what the 1,000 connections
# freed, fragmented more or less depending on how the run went on a busy
# machine) only has a loose bound against gross growth.
wait_conns 1
wait_fds $((FD_BASE + 2))
FD_AFTER1=$FDS
RSS1=$(rss_kib)
HEAP1=$(metric emberd_heap_in_use_bytes)
run_wrk 10 wrk2
REQS2=$WRK_REQS
wait_conns 1
wait_fds $((FD_BASE + 2))
FD_AFTER2=$FDS
RSS2=$(rss_kib)
HEAP2=$(metric emberd_heap_in_use_bytes)
run_wrk 10 wrk3
REQS3=$WRK_REQS
wait_conns 1
wait_fds $((FD_BASE + 2))
FD_AFTER3=$FDS
RSS3=$(rss_kib)
HEAP3=$(metric emberd_heap_in_use_bytes)
[ -n "$HEAP1" ] && [ -n "$HEAP2" ] && [ -n "$HEAP3" ] || server_fail "no emberd_heap_in_use_bytes in /metrics"
echo "descriptors: $FD_BASE before, $FD_AFTER1 / $FD_AFTER2 / $FD_AFTER3 after runs 1 / 2 / 3;" \
	"VmRSS: $RSS_BASE KiB before, $RSS1 / $RSS2 / $RSS3 KiB after runs 1 / 2 / 3" \
	"($REQS2 and $REQS3 requests in runs 2 and 3); heap in use $HEAP1 / $HEAP2 / $HEAP3 bytes"
# Under AddressSanitizer the resident size is mostly its quarantine of
# freed memory (up to 256 MiB, filling run after run), not the server's:
# there LeakSanitizer, at the server's exit, is what finds a leak.
if [ "$SANITIZED" = 0 ]; then
	[ $((HEAP2 - HEAP1)) -le $((1 << 20)) ] && [ $((HEAP3 - HEAP2)) -le $((1 << 20)) ] ||
		server_fail "heap in use grew $HEAP1 -> $HEAP2 -> $HEAP3 bytes over two more wrk runs (more than 1 MiB a run)"
	[ $((RSS3 - RSS1)) -le $((32 * 1024)) ] ||
		server_fail "VmRSS grew from $RSS1 KiB to $RSS3 KiB over the second and third wrk runs (more than 32 MiB)"
	pass "after wrk: descriptors back to baseline ($FD_BASE -> $FD_AFTER1, $FD_AFTER2, $FD_AFTER3); heap in use $HEAP1 -> $HEAP2 -> $HEAP3 bytes, VmRSS $RSS1 -> $RSS2 -> $RSS3 KiB over two more runs"
else
	pass "after wrk: descriptors back to baseline ($FD_BASE -> $FD_AFTER1, $FD_AFTER2, $FD_AFTER3); VmRSS not bounded under ASan ($RSS1 -> $RSS2 -> $RSS3 KiB, its quarantine); leaks: LeakSanitizer at exit"
fi

# --- 4. Slowloris: 1,000 plain connections, each sending its request
# head a byte a second (never complete). The helper prints "ready N" once
# all are connected, then, when every one has been closed by the server
# (or after 25 s), one line per connection: seconds from connect to close.
cat >"$T/slowloris.py" <<'PY'
import os, selectors, socket, sys, time
port, n, ready_file, out_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
HEAD = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"s" * 200
sel = selectors.DefaultSelector()
conns = {}	# sock -> [connected at, bytes sent, closed at]
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setblocking(False)
    conns[s] = [time.monotonic(), 0, None]
    sel.register(s, selectors.EVENT_READ)
with open(ready_file + ".tmp", "w") as f:
    f.write("ready %d\n" % len(conns))
os.rename(ready_file + ".tmp", ready_file)
open_n = n
deadline = time.monotonic() + 25
def closed(s, now):
    global open_n
    if conns[s][2] is None:
        conns[s][2] = now
        open_n -= 1
        sel.unregister(s)
        s.close()
next_tick = time.monotonic()
while open_n > 0 and time.monotonic() < deadline:
    now = time.monotonic()
    if now >= next_tick:
        # one more byte on each connection still open
        for s, st in list(conns.items()):
            if st[2] is None and now - st[0] >= st[1]:
                try:
                    s.send(HEAD[st[1]:st[1] + 1])
                    st[1] += 1
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError:
                    closed(s, now)
        next_tick = now + 0.1
    for key, _ in sel.select(timeout=max(0.0, next_tick - time.monotonic())):
        s = key.fileobj
        try:
            d = s.recv(4096)
        except (BlockingIOError, InterruptedError):
            continue
        except OSError:
            d = b""
        if not d:
            closed(s, time.monotonic())
with open(out_file, "w") as f:
    for s, (t0, sent, t1) in conns.items():
        f.write("%s %d\n" % ("open" if t1 is None else "%.3f" % (t1 - t0), sent))
PY
python3 "$T/slowloris.py" "$HTTP_PORT" 1000 "$T/slow.ready" "$T/slow.out" >"$T/slow.log" 2>&1 &
SLOW_PID=$!
bg "$SLOW_PID"
wait_for_file_line "$T/slow.ready" '^ready 1000$' 30 ||
	{ cat "$T/slow.log"; server_fail "slowloris: the 1,000 connections were not made within 30 s"; }
times=
for i in 1 2 3 4 5; do
	healthz_fast "$HTTP_URL" "while 1,000 slowloris connections are open (request $i over HTTP)"
	times="$times $HEALTHZ_TIME"
	healthz_fast "$HTTPS_URL" "while 1,000 slowloris connections are open (request $i over HTTPS)"
	times="$times $HEALTHZ_TIME"
done
held=$(metric emberd_connections)
[ -n "$held" ] && [ "$held" -ge 1000 ] ||
	server_fail "slowloris: the server holds '$held' connections while the 1,000 dribble (want >= 1,000)"
pass "slowloris: 1,000 connections held ($held), /healthz over HTTP and HTTPS 5 times each within 1 s:$times"
for i in $(seq 1 300); do
	kill -0 "$SLOW_PID" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$SLOW_PID" 2>/dev/null && server_fail "slowloris: the helper still runs after 30 s"
wait "$SLOW_PID" || { cat "$T/slow.log"; server_fail "slowloris: the helper failed"; }
server_alive
[ "$(wc -l <"$T/slow.out")" = 1000 ] || { cat "$T/slow.log"; fail "slowloris: no report of 1,000 connections"; }
left=$(grep -c '^open' "$T/slow.out" || true)
[ "$left" = 0 ] || server_fail "slowloris: $left of 1,000 connections still open 25 s after connecting"
read -r tmin tmax smin smax < <(awk '
	NR == 1 { mn = mx = $1; smn = smx = $2 }
	{ if ($1 < mn) mn = $1; if ($1 > mx) mx = $1; if ($2 < smn) smn = $2; if ($2 > smx) smx = $2 }
	END { print mn, mx, smn, smx }' "$T/slow.out")
awk -v a="$tmin" -v b="$tmax" -v h=$HEADER_TIMEOUT 'BEGIN { exit !(a >= h - 0.5 && b <= h + 2.5) }' ||
	server_fail "slowloris: closed between $tmin and $tmax s after connecting (want ${HEADER_TIMEOUT}-$((HEADER_TIMEOUT + 2)) s)"
wait_conns 1
pass "slowloris: all 1,000 closed by the server $tmin-$tmax s after connecting (header timeout ${HEADER_TIMEOUT} s), after $smin-$smax bytes each"
healthz_fast "$HTTP_URL" "after slowloris"
stop_server

# --- 3. Over the cap: max_connections = 400, so 200 for plain HTTP (and
# 200 for HTTPS); 2,200 plain connections at once. The helper connects all
# (non-blocking), says "connected N" once the connects settle, waits for
# $T/crowd.go, then sends GET /healthz (Connection: close) on each and
# reads the answers until every connection has ended or 30 s have passed;
# it prints one word per connection: served, eof (closed without an
# answer), reset, refused (the connect failed) or hanging.
start_server "max_connections = 400"
cat >"$T/crowd.py" <<'PY'
import errno, os, selectors, socket, sys, time
port, n, ready_file, go_file, out_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
REQ = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
sel = selectors.DefaultSelector()
st = {}	# sock -> [state, buffer]; state: connecting, connected, sent, or a final word
for i in range(n):
    s = socket.socket()
    s.setblocking(False)
    e = s.connect_ex(("127.0.0.1", port))
    if e not in (0, errno.EINPROGRESS):
        st[s] = ["refused", b""]
        s.close()
        continue
    st[s] = ["connecting", b""]
    sel.register(s, selectors.EVENT_WRITE)
go = False
def final(s, word):
    st[s][0] = word
    sel.unregister(s)
    s.close()
def step(timeout):
    for key, ev in sel.select(timeout):
        s = key.fileobj
        state = st[s][0]
        if state == "connecting":
            e = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if e:
                final(s, "refused")
                continue
            st[s][0] = "connected"
            if go:
                send(s)
            else:
                sel.modify(s, selectors.EVENT_READ)
        elif state in ("connected", "sent"):
            try:
                d = s.recv(4096)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                final(s, "served" if st[s][1].startswith(b"HTTP/1.1 200") else "reset")
                continue
            if d:
                st[s][1] += d
            else:
                ok = st[s][1].startswith(b"HTTP/1.1 200") and st[s][1].endswith(b"ok\n")
                final(s, "served" if ok else "eof")
def send(s):
    try:
        s.send(REQ)
        st[s][0] = "sent"
        sel.modify(s, selectors.EVENT_READ)
    except OSError:
        final(s, "reset")
def count(w):
    return sum(1 for v in st.values() if v[0] == w)
# Until the connects settle: no change for 0.5 s, at most 5 s.
end = time.monotonic() + 5
last, since = -1, time.monotonic()
while time.monotonic() < end:
    step(0.05)
    c = count("connected")
    if c != last:
        last, since = c, time.monotonic()
    elif time.monotonic() - since >= 0.5:
        break
with open(ready_file + ".tmp", "w") as f:
    f.write("connected %d connecting %d refused %d\n" % (count("connected"), count("connecting"), count("refused")))
os.rename(ready_file + ".tmp", ready_file)
end = time.monotonic() + 20
while not os.path.exists(go_file) and time.monotonic() < end:
    step(0.05)
go = True
t0 = time.monotonic()
for s, v in list(st.items()):
    if v[0] == "connected":
        send(s)
end = time.monotonic() + 30
while sel.get_map() and time.monotonic() < end:
    step(0.1)
with open(out_file, "w") as f:
    for s, v in st.items():
        f.write("%s\n" % ("hanging" if v[0] in ("connecting", "connected", "sent") else v[0]))
    f.write("# %.1f s\n" % (time.monotonic() - t0))
PY
python3 "$T/crowd.py" "$HTTP_PORT" 2200 "$T/crowd.ready" "$T/crowd.go" "$T/crowd.out" >"$T/crowd.log" 2>&1 &
CROWD_PID=$!
bg "$CROWD_PID"
wait_for_file_line "$T/crowd.ready" '^connected' 30 ||
	{ cat "$T/crowd.log"; server_fail "crowd: the connects did not settle within 30 s"; }
server_alive
FDS=$(fd_count)
held=$(metric emberd_connections "$HTTPS_URL")
echo "crowd: $(cat "$T/crowd.ready"); the server holds $held connections, $FDS descriptors"
[ -n "$held" ] && [ "$held" -ge 200 ] && [ "$held" -le 203 ] ||
	server_fail "crowd: emberd_connections is '$held' with 2,200 plain connections at a plain cap of 200 (want 200 and the metrics request)"
[ "$FDS" -le $((200 + 64)) ] ||
	server_fail "crowd: $FDS descriptors open at a plain cap of 200 (want <= 264)"
grep -q 'connections: pausing accept until one closes' "$SERVER_LOG" ||
	server_fail "crowd: no 'pausing accept' in the log"
healthz_fast "$HTTPS_URL" "while 2,200 plain connections crowd the plain listener"
touch "$T/crowd.go"
FD_MAX=$FDS
CONN_MAX=$held
for i in $(seq 1 500); do
	kill -0 "$CROWD_PID" 2>/dev/null || break
	v=$(fd_count)
	if [ "$v" -gt "$FD_MAX" ]; then FD_MAX=$v; fi
	v=$(metric emberd_connections "$HTTPS_URL")
	if [ -n "$v" ] && [ "$v" -gt "$CONN_MAX" ]; then CONN_MAX=$v; fi
	sleep 0.1
done
kill -0 "$CROWD_PID" 2>/dev/null && server_fail "crowd: the helper still runs after 50 s"
wait "$CROWD_PID" || { cat "$T/crowd.log"; server_fail "crowd: the helper failed"; }
server_alive
outcome=$(grep -v '^#' "$T/crowd.out" | sort | uniq -c | awk '{ printf "%s%s %s", s, $1, $2; s = ", " }')
echo "crowd: $outcome ($(tail -n 1 "$T/crowd.out" | sed 's/^# //'))"
echo "crowd: at most $FD_MAX descriptors and $CONN_MAX connections while answering"
[ "$(grep -vc '^#' "$T/crowd.out")" = 2200 ] || fail "crowd: no report of 2,200 connections"
served=$(grep -c '^served$' "$T/crowd.out" || true)
hanging=$(grep -c '^hanging$' "$T/crowd.out" || true)
[ "$served" -gt 200 ] ||
	server_fail "crowd: only $served answered: the queued connections were not served as the first ones closed"
[ "$hanging" = 0 ] || server_fail "crowd: $hanging connections neither answered nor closed after 30 s"
[ "$FD_MAX" -le $((200 + 64)) ] || server_fail "crowd: $FD_MAX descriptors open at a plain cap of 200 (want <= 264)"
[ "$CONN_MAX" -le 203 ] || server_fail "crowd: $CONN_MAX connections open at a plain cap of 200"
wait_conns 1 "$HTTP_URL"
healthz_fast "$HTTPS_URL" "after the crowd"
healthz_fast "$HTTP_URL" "after the crowd"
pass "over the cap: 2,200 plain connections at a cap of 200 per scheme: $outcome; at most $CONN_MAX connections and $FD_MAX descriptors; HTTPS /healthz within 1 s meanwhile; both answer after"
stop_server
pass "the server survives and stops cleanly"

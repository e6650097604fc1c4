# emberd run and signals, and its log: SIGHUP reloads the config (a broken
# one is refused with an error and the old one keeps serving); SIGTERM
# stops accepting, finishes in-flight downloads and exits 0; SIGINT too;
# readers' addresses stay out of the log unless log_addresses = yes; one
# line per event, whatever a client sends.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
setup_publisher

printf 'hello reader\n' >"$T/hello.txt"
head -c 20000000 /dev/urandom >"$T/big.mp4"
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/hello.txt" "$T/big.mp4"
big=$(sha256_of "$T/big.mp4")

# Requests come from 127.0.0.2 (any 127/8 address is loopback on Linux),
# an address that appears nowhere else, so the log can be searched for it.
READER=127.0.0.2
rc=0
curl -s --max-time 5 --interface "$READER" -o /dev/null http://127.0.0.1:1/ 2>/dev/null || rc=$?
[ "$rc" != 45 ] || fail "cannot send from $READER (curl --interface)"
reader_requests() {	# a bit of everything, over both listeners
	local base
	for base in "$HTTPS_URL" "$HTTP_URL"; do
		curl -s --max-time 5 --interface "$READER" --cacert "$STORE/tls/cert.pem" -H "Range: bytes=0-99" \
			-o /dev/null -o /dev/null -o /dev/null -o /dev/null \
			"$base/healthz" "$base/files/hello.txt" "$base/nope" "$base/sha256/$big" || true
		curl -s --max-time 5 --interface "$READER" --cacert "$STORE/tls/cert.pem" -o /dev/null \
			-X POST "$base/healthz" || true
		curl -s --max-time 5 --interface "$READER" --cacert "$STORE/tls/cert.pem" -o /dev/null \
			--path-as-is "$base/files/%zz" || true
	done
}
log_lines() { wc -l <"$SERVER_LOG"; }
new_log() {	# new_log FROM: the log after line FROM
	tail -n +"$(($1 + 1))" "$SERVER_LOG"
}
healthy() {
	[ "$(curl -sS --max-time 2 --cacert "$STORE/tls/cert.pem" "$HTTPS_URL/healthz")" = ok ] ||
		server_fail "$1: /healthz over HTTPS"
	[ "$(curl -sS --max-time 2 "$HTTP_URL/healthz")" = ok ] || server_fail "$1: /healthz over HTTP"
}

# --- addresses stay out of the log by default
start_server
reader_requests
healthy "after reader requests"
! grep -qF "$READER" "$SERVER_LOG" || { show_log; fail "the reader's address is in the log (log_addresses = no)"; }
[ -s "$SERVER_LOG" ] || fail "nothing was logged"
# Requests from 127.0.0.1 (the health checks) are not logged with it
# either; only the listen addresses may name it.
if grep -F 127.0.0.1 "$SERVER_LOG" | grep -vE "127\.0\.0\.1:($HTTPS_PORT|$HTTP_PORT)([^0-9]|$)" >"$T/leak"; then
	cat "$T/leak"
	fail "127.0.0.1 in the log other than as a listen address (log_addresses = no)"
fi
pass "readers' addresses are not logged by default"

# --- one line per event: request targets with line breaks and control
# characters cannot forge log lines.
python3 - "$HTTP_PORT" <<'PY'
import socket, sys
port = int(sys.argv[1])
for target in (b"/files/x%0d%0aINJECTED-LINE-1", b"/files/x%0aINJECTED-LINE-2%1b[31m",
               b"/x%0AINJECTED-LINE-3", b"/files/x\x1b[2J\x08INJECTED-CTRL"):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nUser-Agent: a\x1bb\r\nConnection: close\r\n\r\n")
    try:
        while s.recv(65536):
            pass
    except OSError:
        pass
    s.close()
PY
healthy "after control characters"
! grep -qE '^INJECTED' "$SERVER_LOG" || { show_log; fail "a request forged a log line"; }
! LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$SERVER_LOG" || { show_log; fail "raw control characters in the log"; }
pass "request targets cannot forge log lines or write control characters"

# --- SIGHUP with a broken config: refused with an error naming the line;
# the old config keeps serving.
cp "$CONF" "$T/good.conf"
hup_refused() {	# hup_refused LINE PATTERN: $CONF is broken at LINE
	local from line=$1 pat=$2
	from=$(log_lines)
	kill -HUP "$SERVER_PID"
	for i in $(seq 1 100); do	# only what was logged after this SIGHUP
		new_log "$from" >"$T/hup.log"
		grep -qF "$CONF:$line:" "$T/hup.log" && break
		sleep 0.05
	done
	grep -qF "$CONF:$line:" "$T/hup.log" ||
		server_fail "no error naming $CONF:$line after SIGHUP with a broken config"
	assert_grep "$CONF:$line:.*$pat" "$T/hup.log"
	grep -qiE 'refus|reject|keep|kept|ignor|previous|old config|unchanged|not reload' "$T/hup.log" ||
		{ cat "$T/hup.log"; fail "the log does not say the reload was refused"; }
	server_alive
	healthy "after a refused reload"
	curl_https -o "$T/cat.json" "$HTTPS_URL/catalog.json"
	cmp -s "$T/cat.json" "$STORE/current/catalog.json" || fail "catalog not served after a refused reload"
}
{ cat "$T/good.conf"; echo "frobnicate = 1"; } >"$CONF"
hup_refused "$(wc -l <"$CONF")" frobnicate
pass "SIGHUP with an unknown key: refused, old config serves"

{ cat "$T/good.conf"; echo "log_addresses = perhaps"; } >"$CONF"
hup_refused "$(wc -l <"$CONF")" log_addresses
reader_requests
! grep -qF "$READER" "$SERVER_LOG" || fail "a refused config (log_addresses = perhaps) took effect"
pass "SIGHUP with a bad value: refused, old log_addresses = no still applies"

sed 's/^\[https\]$/[https]\ncert = missing-cert.pem\nkey = missing-key.pem/' "$T/good.conf" >"$CONF"
hup_refused "$(grep -n '^cert = missing-cert.pem' "$CONF" | cut -d: -f1)" "missing-cert.pem"
pass "SIGHUP with a missing certificate: refused, old config serves"

sed 's/^\[mirror\]$/[mirror/' "$T/good.conf" >"$CONF"
hup_refused "$(grep -n '^\[mirror$' "$CONF" | cut -d: -f1)" ""
pass "SIGHUP with a syntax error: refused, old config serves"

# --- SIGHUP with a good, changed config: applied without a restart.
pid=$SERVER_PID
MIRROR_NAME="Renamed archive" server_config "log_addresses = yes"
kill -HUP "$SERVER_PID"
seen=no
for i in $(seq 1 50); do
	healthy "during reload"
	curl -s --max-time 2 --interface "$READER" -o /dev/null "$HTTP_URL/healthz" || true
	if grep -qF "$READER" "$SERVER_LOG"; then seen=yes; break; fi
	sleep 0.05
done
[ "$seen" = yes ] || server_fail "log_addresses = yes not applied within 5 s of SIGHUP"
[ "$SERVER_PID" = "$pid" ] && kill -0 "$pid" || fail "the server restarted"
printf 'after the reload\n' >"$T/after.txt"
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/after.txt"
for i in $(seq 1 100); do
	curl_https -o "$T/cat.json" "$HTTPS_URL/catalog.json"
	cmp -s "$T/cat.json" "$STORE/current/catalog.json" && break
	sleep 0.05
done
cmp -s "$T/cat.json" "$STORE/current/catalog.json" || fail "the new catalog is not served 5 s after add"
python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["name"] == "Renamed archive"' "$T/cat.json" ||
	fail "the served catalog does not have the new name"
[ "$(curl_http "$HTTP_URL/files/after.txt")" = "after the reload" ] || fail "after.txt not served"
# A plain SIGHUP keeps everything serving.
kill -HUP "$SERVER_PID"
healthy "after a plain SIGHUP"
curl_https -o "$T/cat.json" "$HTTPS_URL/catalog.json"
cmp -s "$T/cat.json" "$STORE/current/catalog.json" || fail "catalog after a plain SIGHUP"
pass "SIGHUP with a good config: applied (log_addresses, name), same process"

# --- log_addresses = yes from the start
stop_server
: >"$SERVER_LOG"
start_server "log_addresses = yes"
reader_requests
wait_for_file_line "$SERVER_LOG" "$READER" 5 || server_fail "log_addresses = yes: the reader's address is not logged"
pass "log_addresses = yes logs readers' addresses"
stop_server
server_config
mv "$SERVER_LOG" "$T/server-1.log"

# --- SIGTERM during slow downloads: they complete; new connections are
# refused; exit 0. Each download takes 8 s (20 MB at 2.5 MB/s): within
# the server's 10 s grace after SIGTERM, and long enough that one whose
# curl started seconds after the other's on a busy machine is still in
# flight when the signal comes.
start_server
curl -sS --max-time 60 --limit-rate 2500K --cacert "$STORE/tls/cert.pem" -o "$T/dl-tls" \
	"$HTTPS_URL/files/big.mp4" 2>"$T/dl-tls.err" &
DL1=$!
bg "$DL1"
curl -sS --max-time 60 --limit-rate 2500K -o "$T/dl-http" "$HTTP_URL/sha256/$big" 2>"$T/dl-http.err" &
DL2=$!
bg "$DL2"
for i in $(seq 1 200); do
	[ "$(stat -c %s "$T/dl-tls" 2>/dev/null || echo 0)" -ge 1000000 ] &&
		[ "$(stat -c %s "$T/dl-http" 2>/dev/null || echo 0)" -ge 1000000 ] && break
	sleep 0.05
done
[ "$(stat -c %s "$T/dl-tls" 2>/dev/null || echo 0)" -ge 1000000 ] || server_fail "the TLS download did not start"
[ "$(stat -c %s "$T/dl-http" 2>/dev/null || echo 0)" -ge 1000000 ] || server_fail "the HTTP download did not start"
t0=$(date +%s)
kill -TERM "$SERVER_PID"
# Stop accepting: within 2 s no new request is served, while the two
# downloads (several seconds left) go on.
refused=no
for i in $(seq 1 40); do
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 0.3 "$HTTP_URL/healthz" 2>/dev/null || true)
	if [ "$code" != 200 ]; then refused=yes; break; fi
	sleep 0.05
done
[ "$refused" = yes ] || server_fail "still accepting new requests 2 s after SIGTERM"
kill -0 "$DL1" 2>/dev/null && kill -0 "$DL2" 2>/dev/null ||
	fail "a download ended right at SIGTERM (the test needs them slower)"
rc=0; wait "$DL1" || rc=$?
[ "$rc" = 0 ] || { cat "$T/dl-tls.err"; server_fail "the TLS download failed after SIGTERM (curl exit $rc)"; }
rc=0; wait "$DL2" || rc=$?
[ "$rc" = 0 ] || { cat "$T/dl-http.err"; server_fail "the HTTP download failed after SIGTERM (curl exit $rc)"; }
[ "$(sha256_of "$T/dl-tls")" = "$big" ] || fail "the TLS download is not whole"
[ "$(sha256_of "$T/dl-http")" = "$big" ] || fail "the HTTP download is not whole"
for i in $(seq 1 600); do
	kill -0 "$SERVER_PID" 2>/dev/null || break
	sleep 0.05
done
kill -0 "$SERVER_PID" 2>/dev/null && server_fail "server still running 30 s after SIGTERM"
rc=0; wait "$SERVER_PID" || rc=$?
SERVER_PID=
[ "$rc" = 0 ] || server_fail "exit status $rc after SIGTERM (want 0)"
pass "SIGTERM: stops accepting, finishes two 20 MB downloads (whole), exits 0 in $(( $(date +%s) - t0 )) s"

# --- SIGINT with an idle keep-alive connection open: exit 0 promptly (an
# idle connection is not an in-flight response).
start_server
python3 - "$HTTP_PORT" >"$T/idle.ready" <<'PY' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
buf = b""
while not buf.endswith(b"ok") and not buf.endswith(b"ok\n"):
    buf += s.recv(4096)
print("ready", flush=True)
time.sleep(60)
PY
IDLE=$!
bg "$IDLE"
wait_for_file_line "$T/idle.ready" ready 5 || fail "idle client not ready"
stop_server INT 5
kill "$IDLE" 2>/dev/null || true
pass "SIGINT with an idle keep-alive connection: exit 0 within 5 s"

# --- SIGTERM when idle: exit 0 promptly.
start_server
stop_server TERM 5
pass "SIGTERM when idle: exit 0 within 5 s"

# Readers leave no trace: with the default settings, a reader at 127.0.0.2
# (the whole of 127/8 is loopback) with a distinctive User-Agent makes every
# kind of request over HTTPS and HTTP — the index, catalog, key, downloads
# whole, gzip, ranged, by hash, HEAD, 304, Metalink and torrent, 404, 405,
# 416, malformed (400), an oversized head (431), garbage TLS, plain HTTP on
# the TLS port, /metrics — and then neither the address nor the User-Agent
# appears in emberd's stderr or stdout, or in any file of the store (nor in
# the /metrics text). /metrics answers 127.0.0.2: it is a loopback client.
#
# The checks can fail: the same greps run on a log made with
# `log_addresses = yes` (the address is there), on a request whose target
# carries the marker (the log has targets), and on the store after the
# marker is added as a raw object (grep sees inside objects).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
setup_publisher

READER=127.0.0.2
UA="Reader-Secret-UA/1.0 (privacy-$$)"
UA_RE='Reader-Secret-UA'	# what must never be written anywhere
ADDR_RE='127\.0\.0\.2([^0-9]|$)'

mkdir "$T/in"
printf 'Voice of April, verse %d\n' $(seq 1 3000) >"$T/in/song.txt"
head -c 200000 /dev/urandom >"$T/in/clip.mp4"
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/in/song.txt" "$T/in/clip.mp4"
CLIP_SHA=$(sha256_of "$T/in/clip.mp4")
start_server
[ -z "$(grep -E "$ADDR_RE" "$SERVER_LOG")" ] || server_fail "the log names $READER before any request"

# r SCHEME PATH [curl args]: a request as the reader; prints the status.
r() {
	local base=$HTTPS_URL
	[ "$1" = http ] && base=$HTTP_URL
	curl -s -o "$T/body" -w '%{http_code}' --max-time 10 --cacert "$STORE/tls/cert.pem" \
		--interface "$READER" -A "$UA" "${@:3}" "$base$2" || true
}
# want CODE SCHEME PATH [curl args]
want() {
	local code=$1 got
	shift
	got=$(r "$@")
	[ "$got" = "$code" ] || server_fail "$* as $READER: status $got, want $code"
}
# raw SCHEME DATA: send DATA (printf escapes) from the reader's address,
# print the status code of the answer ("none" if there is none).
raw() {
	python3 - "$1" "$2" "$READER" "$HTTPS_PORT" "$HTTP_PORT" "$STORE/tls/cert.pem" <<'PY'
import socket, ssl, sys
scheme, data, src, tport, hport, ca = sys.argv[1:7]
port = int(tport if scheme in ("https", "garbage-tls") else hport)
data = data.encode().decode("unicode_escape").encode("latin-1")
s = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(src, 0))
if scheme == "https":
    ctx = ssl.create_default_context(cafile=ca)
    s = ctx.wrap_socket(s, server_hostname="127.0.0.1")
s.sendall(data)
got = b""
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        got += b
except (socket.timeout, ssl.SSLError, ConnectionResetError):
    pass
line = got.split(b"\r\n", 1)[0].split()
print(line[1].decode() if len(line) > 1 and line[0].startswith(b"HTTP/") else "none")
PY
}

reader_session() {
	local s
	for s in https http; do
		want 200 "$s" /
		want 200 "$s" /catalog.json
		want 200 "$s" /catalog.json.minisig
		want 200 "$s" /pubkey
		want 200 "$s" /healthz
		want 200 "$s" /files/clip.mp4
		cmp -s "$T/body" "$T/in/clip.mp4" || server_fail "$s clip.mp4: wrong bytes"
		want 200 "$s" /files/song.txt -H 'Accept-Encoding: gzip'
		want 200 "$s" "/sha256/$CLIP_SHA"
		want 206 "$s" /files/clip.mp4 -H 'Range: bytes=1000-1999'
		[ "$(wc -c <"$T/body")" = 1000 ] || server_fail "$s range: not 1000 bytes"
		want 304 "$s" /files/clip.mp4 -H "If-None-Match: \"$CLIP_SHA\""
		want 416 "$s" /files/clip.mp4 -H 'Range: bytes=900000-'
		want 200 "$s" /files/clip.mp4 -I
		want 200 "$s" /files/clip.mp4.meta4
		want 200 "$s" /files/clip.mp4.torrent
		want 404 "$s" /files/no-such-thing.mp4
		want 404 "$s" /wp-login.php
		want 405 "$s" /files/clip.mp4 -X DELETE
		want 200 "$s" /metrics
		! grep -qE "$ADDR_RE|$UA_RE" "$T/body" || server_fail "/metrics names the reader"
		[ "$(raw "$s" "GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: $UA\r\nbroken header line\r\n\r\n")" = 400 ] ||
			server_fail "$s: a header without a colon is not 400"
		[ "$(raw "$s" "GET /\x01 HTTP/1.1\r\nHost: x\r\nUser-Agent: $UA\r\n\r\n")" = 400 ] ||
			server_fail "$s: a control character in the target is not 400"
		[ "$(raw "$s" "GET / HTTP/1.1\r\nUser-Agent: $UA\r\nX-Big: $(head -c 9000 /dev/zero | tr '\0' a)\r\n\r\n")" = 431 ] ||
			server_fail "$s: an oversized head is not 431"
	done
	raw garbage-tls "\x16\x03\x01\x00\x05hello $UA\r\n\r\n" >/dev/null
	raw garbage-tls "GET / HTTP/1.1\r\nUser-Agent: $UA\r\n\r\n" >/dev/null
	server_alive
}

# scan: to $T/found, every line of the logs, and every file of the store,
# that names the reader's address or User-Agent (nothing: clean).
scan() {
	{
		LC_ALL=C grep -HnaE -- "$ADDR_RE|$UA_RE" "$SERVER_LOG" "$T/server.out" || true
		LC_ALL=C grep -rlaE -- "$ADDR_RE|$UA_RE" "$STORE" || true
	} >"$T/found"
}

reader_session
# The log has the requests (so it was written while we looked), by target.
assert_grep '^[0-9TZ:-]* *emberd: GET /files/clip.mp4 206 1000$' "$SERVER_LOG"
assert_grep '^[0-9TZ:-]* *emberd: GET /wp-login.php 404 ' "$SERVER_LOG"
assert_grep '^[0-9TZ:-]* *emberd: DELETE /files/clip.mp4 405 ' "$SERVER_LOG"
stop_server
scan
[ ! -s "$T/found" ] || { cat "$T/found"; fail "the reader's address or User-Agent was written (above)"; }
pass "default settings: $(grep -c '^[0-9TZ:-]* *emberd: ' "$SERVER_LOG") log lines and the whole store name neither $READER nor the User-Agent"

# --- the checks can fail.
# 1. log_addresses = yes: the address is in the log.
mv "$SERVER_LOG" "$T/server-private.log"
start_server "log_addresses = yes"
want 200 https /healthz
want 404 http /files/no-such-thing.mp4
stop_server
scan
grep -qE "server.log:.*$ADDR_RE" "$T/found" || { show_log; fail "log_addresses = yes: $READER is not in the log"; }
pass "with log_addresses = yes the same scan finds $READER in the log"
# 2. a marker in the target is in the log (the log has what requests carry).
mv "$SERVER_LOG" "$T/server-addresses.log"
start_server
want 404 http "/files/Reader-Secret-UA-in-the-path"
stop_server
scan
grep -qE "server.log:.*$UA_RE" "$T/found" || { show_log; fail "the scan missed a marker in the log"; }
# 3. a raw object with the marker is found in the store.
{ head -c 70000 /dev/urandom; printf '%s\n' "$UA"; } >"$T/in/marker.bin"
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/in/marker.bin"
scan
grep -qxF "$STORE/objects/$(sha256_of "$T/in/marker.bin")" "$T/found" ||
	{ cat "$T/found"; fail "the scan missed a marker in an object"; }
pass "the scan finds a marker in the log and in a stored object"

# [https] acme = yes against pebble: emberd gets a certificate that chains
# to pebble's root through a real http-01 check on its plain listener,
# stores it 0600, renews a short-lived one while a download runs (the
# download completes, new connections get the new serial), and with the
# CA down or wrong logs why and keeps serving what it has. It serves with
# 3 event loops a scheme (workers = 3): the challenges answered on any of
# them come from the client on the main loop, the renewed certificate
# reaches each.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
. "$(dirname "$0")/pebble_lib.sh"
setup_publisher
DOMAIN=mirror.test
HOSTS=(--resolve "$DOMAIN:$HTTPS_PORT:127.0.0.1")

serial() {
	openssl s_client -connect "127.0.0.1:$HTTPS_PORT" -servername "$DOMAIN" \
		</dev/null 2>/dev/null | openssl x509 -noout -serial -issuer
}

# wait_serial_change OLD SECONDS: poll until the served certificate differs.
wait_serial_change() {
	local i now
	for i in $(seq 1 $(($2 * 4))); do
		now=$(serial || true)
		[ -n "$now" ] && [ "$now" != "$1" ] && { echo "$now"; return 0; }
		sleep 0.25
	done
	return 1
}

head -c 8388608 /dev/urandom >"$T/big.bin"
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/big.bin"

# --- a first certificate, valid 9 s: renewed when a third is left
start_pebble 9
HTTPS_EXTRA=$(printf 'acme = yes\ndomain = %s\nacme_directory = %s\nworkers = 3' "$DOMAIN" "$PEBBLE_DIR")
HTTP_EXTRA="workers = 3"
start_server "[crawl]" "ca_file = $PEBBLE_CA"
self=$(openssl x509 -in "$STORE/tls/cert.pem" -noout -serial -issuer)
first=$(wait_serial_change "$self" 20) || server_fail "no ACME certificate served within 20 s"
echo "$first" | grep -q 'Pebble Intermediate' || server_fail "served: $first"
curl -sS --max-time 10 --cacert "$PEBBLE_ROOT" "${HOSTS[@]}" \
	"https://$DOMAIN:$HTTPS_PORT/healthz" >"$T/out" 2>&1 ||
	{ cat "$T/out"; server_fail "curl --cacert pebble's root failed"; }
[ "$(cat "$T/out")" = ok ] || server_fail "healthz said $(cat "$T/out")"
assert_grep 'GET /\.well-known/acme-challenge/[A-Za-z0-9_-]+ 200' "$SERVER_LOG"
for f in account.key cert.pem key.pem; do
	[ "$(stat -c %a "$STORE/acme/$f")" = 600 ] || fail "$f is $(stat -c %a "$STORE/acme/$f")"
done
pass "pebble's http-01 check passed; curl --cacert pebble's root succeeds ($first); files 0600"
curl_http "$HTTP_URL/" >"$T/index.html"
assert_grep 'big\.bin' "$T/index.html"
! grep -q 'pinnedpubkey' "$T/index.html" || server_fail "the index page still pins the self-signed key"
pass "the index page's commands no longer pin the self-signed key"

# --- renewal while a download runs: the reader takes 64 KiB over the
# first certificate's connection, stops until the renewal is served to
# new connections, then reads the rest
python3 - "$HTTPS_PORT" "$DOMAIN" "$PEBBLE_ROOT" "$T" >"$T/dl.out" 2>&1 <<'PY' &
import hashlib, os, socket, ssl, sys, time
port, domain, root, t = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(cafile=root)
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname=domain)
s.sendall(b"GET /files/big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
data = bytearray()
while len(data) < 65536:
    data += s.recv(65536)
open(t + "/dl.started", "w").close()
for _ in range(600):
    if os.path.exists(t + "/dl.go"):
        break
    time.sleep(0.05)
while True:
    b = s.recv(1 << 20)
    if not b:
        break
    data += b
head, _, body = data.partition(b"\r\n\r\n")
print(head.split(b"\r\n")[0].decode(), len(body), hashlib.sha256(body).hexdigest())
PY
dl=$!
bg "$dl"
for i in $(seq 1 200); do [ -e "$T/dl.started" ] && break; sleep 0.05; done
[ -e "$T/dl.started" ] || { cat "$T/dl.out"; fail "the download did not start"; }
second=$(wait_serial_change "$first" 30) || server_fail "no renewal within 30 s"
kill -0 "$dl" || fail "the download ended before the renewal"
touch "$T/dl.go"
wait "$dl" || { cat "$T/dl.out"; fail "the download failed"; }
want="HTTP/1.1 200 OK $(stat -c %s "$T/big.bin") $(sha256_of "$T/big.bin")"
[ "$(cat "$T/dl.out")" = "$want" ] || fail "download: '$(cat "$T/dl.out")', want '$want'"
echo "$second" | grep -q 'Pebble Intermediate' || server_fail "renewed: $second"
assert_grep 'ACME: serving certificate' "$SERVER_LOG"
pass "renewed while an 8 MiB download ran over the old certificate; it completed whole; new connections get $second"

# --- pebble down: the next renewal fails with a reason, the certificate
# served stays
stop_pebble
last=$(serial)
wait_for_file_line "$SERVER_LOG" "ACME: no certificate from $PEBBLE_DIR: .+the current certificate keeps serving, next attempt in 60 s" 30 ||
	server_fail "no failure logged with pebble down"
server_alive
now=$(serial)
[ "$now" = "$last" ] || server_fail "served $now after the failure, want $last"
pass "pebble down: '$(grep -o 'ACME: no certificate from.*' "$SERVER_LOG" | head -n 1)'; the old certificate keeps serving"
stop_server

# --- a wrong directory URL at start: a reason logged, the self-signed
# certificate serves (the stored one has expired by now, or is gone)
rm -rf "$STORE/acme"
bad_port=$(free_port)
HTTPS_EXTRA=$(printf 'acme = yes\ndomain = %s\nacme_directory = https://127.0.0.1:%s/dir' "$DOMAIN" "$bad_port")
start_server "[crawl]" "ca_file = $PEBBLE_CA"
wait_for_file_line "$SERVER_LOG" "ACME: no certificate from https://127.0.0.1:$bad_port/dir: https://127.0.0.1:$bad_port/dir: .*(Connection refused|Couldn't connect)" 15 ||
	server_fail "no failure logged for a wrong directory"
[ "$(serial)" = "$(openssl x509 -in "$STORE/tls/cert.pem" -noout -serial -issuer)" ] ||
	server_fail "not the self-signed certificate: $(serial)"
[ "$(curl_https "$HTTPS_URL/healthz")" = ok ] || server_fail "healthz over the self-signed certificate"
pass "wrong directory: reason logged, the self-signed certificate serves"
stop_server

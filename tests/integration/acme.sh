# [https] acme = yes against pebble: emberd gets a certificate that chains
# to pebble's root through a real http-01 check on its plain listener,
# stores it 0600, renews a short-lived one while a download runs (the
# download completes, new connections get the new serial), and with the
# CA down or wrong logs why and keeps serving what it has.
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

# --- a first certificate, valid 20 s: renewed when a third is left
start_pebble 20
HTTPS_EXTRA=$(printf 'acme = yes\ndomain = %s\nacme_directory = %s' "$DOMAIN" "$PEBBLE_DIR")
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

cp "$SERVER_LOG" /tmp/x/acme-server.log; stop_server

# [https] acme_webroot for certbot --webroot, and SIGHUP reloading
# [https] cert/key: certbot gets a certificate from pebble through
# emberd's plain listener, emberd serves it after a SIGHUP without a
# restart, and a broken certificate on a later SIGHUP leaves it serving.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
. "$(dirname "$0")/pebble_lib.sh"
setup_publisher
command -v certbot >/dev/null || fail "certbot is not installed"
DOMAIN=mirror.test
WEBROOT="$T/webroot"
mkdir -p "$WEBROOT/.well-known/acme-challenge"

HTTPS_EXTRA="acme_webroot = $WEBROOT"
start_server
start_pebble

# --- the route itself: a file is served as is, nothing else is
printf 'tok-en_1.abc\n' >"$WEBROOT/.well-known/acme-challenge/tok-en_1"
out=$(curl_http -D "$T/h" "$HTTP_URL/.well-known/acme-challenge/tok-en_1")
[ "$out" = tok-en_1.abc ] || server_fail "challenge file served as '$out'"
assert_grep '^Content-Type: text/plain' "$T/h"
ln -s /etc/passwd "$WEBROOT/.well-known/acme-challenge/link"
echo secret >"$WEBROOT/outside"
for p in link missing ..%2Foutside ../../outside 'tok-en_1?x' '' tok.en; do
	code=$(curl -s -o "$T/body" -w '%{http_code}' --path-as-is \
		"$HTTP_URL/.well-known/acme-challenge/$p")
	[ "$code" = 404 ] || server_fail "challenge '$p' answered $code, want 404"
	! grep -q 'root:\|secret' "$T/body" || server_fail "challenge '$p' leaked a file"
done
pass "webroot challenges served as text/plain; links, bad tokens, missing files are 404"

# --- certbot --webroot against pebble, through emberd's plain listener
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$PEBBLE_ROOT" \
	--resolve "$DOMAIN:$HTTPS_PORT:127.0.0.1" "https://$DOMAIN:$HTTPS_PORT/healthz" || true)
[ "$code" = 000 ] || server_fail "the self-signed certificate passed as pebble's ($code)"
REQUESTS_CA_BUNDLE="$PEBBLE_CA" certbot certonly --webroot -w "$WEBROOT" \
	--server "$PEBBLE_DIR" -d "$DOMAIN" --config-dir "$T/le" --work-dir "$T/le-work" \
	--logs-dir "$T/le-logs" --agree-tos --register-unsafely-without-email \
	--non-interactive --no-random-sleep-on-renew >"$T/certbot.out" 2>&1 ||
	{ cat "$T/certbot.out"; tail -n 30 "$T/le-logs/letsencrypt.log"; server_fail "certbot failed"; }
LIVE="$T/le/live/$DOMAIN"
[ -f "$LIVE/fullchain.pem" ] || fail "certbot left no $LIVE/fullchain.pem"
assert_grep 'GET /\.well-known/acme-challenge/[A-Za-z0-9_-]+ 200' "$SERVER_LOG"
pass "certbot --webroot got a certificate; pebble's http-01 check was answered by emberd"

# --- SIGHUP: the new cert/key serve new connections, no restart
HTTPS_EXTRA=$(printf 'acme_webroot = %s\ncert = %s\nkey = %s' "$WEBROOT" \
	"$LIVE/fullchain.pem" "$LIVE/privkey.pem")
server_config
kill -HUP "$SERVER_PID"
wait_for_file_line "$SERVER_LOG" "SIGHUP: serving certificate .*fullchain.pem" 10 ||
	server_fail "no reload logged after SIGHUP"
curl -sS --max-time 10 --cacert "$PEBBLE_ROOT" --resolve "$DOMAIN:$HTTPS_PORT:127.0.0.1" \
	"https://$DOMAIN:$HTTPS_PORT/healthz" >"$T/out" 2>&1 ||
	{ cat "$T/out"; server_fail "curl --cacert pebble's root failed after SIGHUP"; }
[ "$(cat "$T/out")" = ok ] || server_fail "healthz said '$(cat "$T/out")'"
pass "SIGHUP: curl --cacert pebble's root succeeds against certbot's certificate"

serial() {
	openssl s_client -connect "127.0.0.1:$HTTPS_PORT" -servername "$DOMAIN" \
		</dev/null 2>/dev/null | openssl x509 -noout -serial
}
before=$(serial)
[ -n "$before" ] || server_fail "no certificate from s_client"

# --- a broken certificate on SIGHUP: logged, the old one keeps serving
printf -- '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n' \
	>"$T/broken.pem"
HTTPS_EXTRA=$(printf 'acme_webroot = %s\ncert = %s\nkey = %s' "$WEBROOT" \
	"$T/broken.pem" "$LIVE/privkey.pem")
server_config
kill -HUP "$SERVER_PID"
wait_for_file_line "$SERVER_LOG" "SIGHUP: certificate not reloaded, the old one keeps serving: cannot load certificate '$T/broken.pem'" 10 ||
	server_fail "no error logged for the broken certificate"
server_alive
after=$(serial)
[ "$after" = "$before" ] || server_fail "serial changed from $before to $after"
curl -sS --max-time 10 --cacert "$PEBBLE_ROOT" --resolve "$DOMAIN:$HTTPS_PORT:127.0.0.1" \
	"https://$DOMAIN:$HTTPS_PORT/healthz" >/dev/null ||
	server_fail "the old certificate stopped serving"
pass "SIGHUP with a broken certificate: error logged, the old one ($after) keeps serving"

stop_server

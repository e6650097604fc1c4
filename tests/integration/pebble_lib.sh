# pebble (Let's Encrypt's test CA) for the ACME tests; sourced after lib.sh
# and server_lib.sh.
#
#   start_pebble [VALIDITY]   pebble-challtestsrv as the DNS server that
#                             resolves every name to 127.0.0.1, and pebble
#                             checking http-01 on $HTTP_PORT (emberd's plain
#                             listener); certificates valid VALIDITY seconds
#                             (pebble's default: five years). Sets
#                             $PEBBLE_DIR (the directory URL), $PEBBLE_CA
#                             (the CA of pebble's own HTTPS listener, for
#                             [crawl] ca_file and certbot) and $PEBBLE_ROOT
#                             (the root the certificates it issues chain to).
#   pebble_certs              only the CA and a certificate for 127.0.0.1
#                             ($T/pebble/cert.pem, key.pem) signed by it
#   stop_pebble               stop pebble (the DNS server stays)
#   serve_https PORT LOG [ARG...] <<PY
#                             the Python on stdin defines a request handler
#                             class H; it serves on https://127.0.0.1:PORT
#                             with that certificate (sys.argv: PORT, cert,
#                             key, ARG...) until the test ends; waits until
#                             it listens

PEBBLE_PID=
pebble_port=$(free_port)
pebble_mgmt=$(free_port)
pebble_dns=$(free_port)
pebble_dns_mgmt=$(free_port)
PEBBLE_DIR="https://127.0.0.1:$pebble_port/dir"
PEBBLE_CA="$T/pebble-ca.pem"
PEBBLE_ROOT="$T/pebble-root.pem"

# pebble_certs: the CA $PEBBLE_CA and a certificate for 127.0.0.1 signed
# by it ($T/pebble/cert.pem, key.pem), for pebble's HTTPS listener or
# another test CA's.
pebble_certs() {
	mkdir -p "$T/pebble"
	[ ! -f "$PEBBLE_CA" ] || return 0
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$T/pebble/ca.key" -out "$PEBBLE_CA" -days 2 \
		-subj /CN=pebble-test-ca 2>/dev/null
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$T/pebble/key.pem" -out "$T/pebble/req.pem" \
		-subj /CN=127.0.0.1 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$T/pebble/ext"
	openssl x509 -req -in "$T/pebble/req.pem" -CA "$PEBBLE_CA" \
		-CAkey "$T/pebble/ca.key" -CAcreateserial -days 2 \
		-extfile "$T/pebble/ext" -out "$T/pebble/cert.pem" 2>/dev/null
}

start_pebble() {
	local validity=${1:-} i
	if [ ! -f "$PEBBLE_CA" ]; then
		pebble_certs
		pebble-challtestsrv -defaultIPv4 127.0.0.1 -defaultIPv6 "" \
			-dns01 "127.0.0.1:$pebble_dns" -management "127.0.0.1:$pebble_dns_mgmt" \
			-http01 "" -https01 "" -tlsalpn01 "" >"$T/challtestsrv.log" 2>&1 &
		bg $!
	fi
	cat >"$T/pebble/config.json" <<JSON
{"pebble": {
  "listenAddress": "127.0.0.1:$pebble_port",
  "managementListenAddress": "127.0.0.1:$pebble_mgmt",
  "certificate": "$T/pebble/cert.pem",
  "privateKey": "$T/pebble/key.pem",
  "httpPort": $HTTP_PORT,
  "tlsPort": 1,
  "ocspResponderURL": ""${validity:+,
  \"certificateValidityPeriod\": $validity}
}}
JSON
	PEBBLE_VA_NOSLEEP=1 pebble -config "$T/pebble/config.json" \
		-dnsserver "127.0.0.1:$pebble_dns" >>"$T/pebble.log" 2>&1 &
	PEBBLE_PID=$!
	bg "$PEBBLE_PID"
	for i in $(seq 1 200); do
		curl -sf --max-time 1 --cacert "$PEBBLE_CA" "$PEBBLE_DIR" >/dev/null 2>&1 &&
			curl -sf --max-time 1 --cacert "$PEBBLE_CA" \
			"https://127.0.0.1:$pebble_mgmt/roots/0" >"$PEBBLE_ROOT" 2>/dev/null &&
			return 0
		kill -0 "$PEBBLE_PID" 2>/dev/null || { cat "$T/pebble.log"; fail "pebble exited"; }
		sleep 0.05
	done
	cat "$T/pebble.log"
	fail "pebble did not answer on $PEBBLE_DIR within 10 s"
}

serve_https() {
	local port=$1 log=$2 code
	shift 2
	pebble_certs
	code="$(cat)
import http.server, ssl, sys
srv = http.server.ThreadingHTTPServer(('127.0.0.1', int(sys.argv[1])), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[2], sys.argv[3])
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print('ready', flush=True)
srv.serve_forever()"
	python3 -c "$code" "$port" "$T/pebble/cert.pem" "$T/pebble/key.pem" "$@" >"$log" 2>&1 &
	bg $!
	wait_for_file_line "$log" ready 10 || { cat "$log"; fail "the HTTPS server on $port did not start"; }
}

stop_pebble() {
	kill "$PEBBLE_PID" 2>/dev/null || true
	wait "$PEBBLE_PID" 2>/dev/null || true
	PEBBLE_PID=
}

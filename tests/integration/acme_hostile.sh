# The ACME client against a CA that misbehaves: garbage JSON, bodies past
# the caps (declared and streamed), a redirect to file://, plain-http
# URLs in the directory, a problem document. Each time emberd logs a clear
# reason and keeps serving its self-signed certificate. A stored
# certificate serves from the start and is renewed on schedule. And the
# config errors of acme = yes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
. "$(dirname "$0")/pebble_lib.sh"
setup_publisher
pebble_certs
CA_PORT=$(free_port)
CA="https://127.0.0.1:$CA_PORT"

serve_https "$CA_PORT" "$T/ca.log" <<'PY'
import base64, http.server, json, sys
base = "https://127.0.0.1:%s" % sys.argv[1]

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    def log_message(self, *a):
        pass
    def send(self, code, body, ctype="application/json", extra=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        for k, v in extra:
            self.send_header(k, v)
        if body is not None:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body is not None and self.command != "HEAD":
            self.wfile.write(body)
    def answer(self):
        case = self.path.split("/")[1]
        if case == "garbage":
            return self.send(200, b'{"newNonce": "https://x/", oops')
        if case == "huge":
            return self.send(200, b"[" + b"1," * 1048576 + b"1]")
        if case == "stream":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            for _ in range(64):
                self.wfile.write(b" " * 65536)
            return
        if case == "redirect":
            return self.send(302, b"", extra=[("Location", "file:///etc/passwd")])
        if case == "plain":
            return self.send(200, json.dumps({"newNonce": "http://127.0.0.1/n",
                "newAccount": base + "/plain/a", "newOrder": base + "/plain/o"}).encode())
        if case == "problem":
            if self.path.endswith("/dir"):
                return self.send(200, json.dumps({"newNonce": base + "/problem/nonce",
                    "newAccount": base + "/problem/acct", "newOrder": base + "/problem/order"}).encode())
            if self.path.endswith("/nonce"):
                return self.send(200, b"", extra=[("Replay-Nonce", "abc")])
            return self.send(403, json.dumps({"type": "urn:ietf:params:acme:error:unauthorized",
                "detail": "account creation is closed\x07 today"}).encode(),
                ctype="application/problem+json", extra=[("Replay-Nonce", "def")])
        if case == "badnonce":
            if self.path.endswith("/dir"):
                return self.send(200, json.dumps({"newNonce": base + "/badnonce/nonce",
                    "newAccount": base + "/badnonce/acct", "newOrder": base + "/badnonce/order"}).encode())
            if self.path.endswith("/nonce"):
                return self.send(200, b"", extra=[("Replay-Nonce", "first")])
            n = int(self.headers.get("Content-Length", "0"))
            jws = json.loads(self.rfile.read(n))
            prot = jws["protected"] + "=" * (-len(jws["protected"]) % 4)
            nonce = json.loads(base64.urlsafe_b64decode(prot))["nonce"]
            if nonce == "first":
                return self.send(400, json.dumps({"type": "urn:ietf:params:acme:error:badNonce",
                    "detail": "stale"}).encode(), extra=[("Replay-Nonce", "second")])
            return self.send(403, json.dumps({"type": "urn:ietf:params:acme:error:unauthorized",
                "detail": "signed with nonce " + nonce}).encode())
        self.send(404, b"")
    do_GET = do_HEAD = do_POST = answer

PY

# try CASE PATTERN: emberd with acme_directory CA/CASE/dir logs PATTERN,
# keeps answering, and serves the self-signed certificate.
try() {
	local case=$1 pat=$2 served
	HTTPS_EXTRA=$(printf 'acme = yes\ndomain = mirror.test\nacme_directory = %s/%s/dir' "$CA" "$case")
	: >"$SERVER_LOG"
	start_server "[crawl]" "ca_file = $PEBBLE_CA"
	wait_for_file_line "$SERVER_LOG" "ACME: no certificate from $CA/$case/dir: $pat; the current certificate keeps serving, next attempt in 60 s" 15 ||
		server_fail "$case: no clear reason logged (want: $pat)"
	[ "$(curl_https "$HTTPS_URL/healthz")" = ok ] || server_fail "$case: healthz"
	served=$(openssl s_client -connect "127.0.0.1:$HTTPS_PORT" </dev/null 2>/dev/null |
		openssl x509 -noout -fingerprint)
	[ "$served" = "$(openssl x509 -in "$STORE/tls/cert.pem" -noout -fingerprint)" ] ||
		server_fail "$case: not the self-signed certificate"
	[ ! -e "$STORE/acme/cert.pem" ] || server_fail "$case: a certificate was stored"
	stop_server
	pass "$case: $(grep -o "ACME: no certificate from.*" "$SERVER_LOG" | cut -d';' -f1)"
}

try garbage "directory $CA/garbage/dir: not JSON \(.*\)"
try huge "$CA/huge/dir: answer larger than 65536 bytes"
try stream "$CA/stream/dir: answer larger than 65536 bytes"
try redirect "$CA/redirect/dir: HTTP 302 redirect to file:///etc/passwd refused \(ACME needs no redirects\)"
try plain "directory $CA/plain/dir: directory without https newNonce, newAccount and newOrder URLs"
try badnonce "$CA/badnonce/acct: HTTP 403: urn:ietf:params:acme:error:unauthorized: signed with nonce second"
try problem "$CA/problem/acct: HTTP 403: urn:ietf:params:acme:error:unauthorized: account creation is closed\? today"

# --- a stored certificate valid now serves from the start: one in its
# last third is renewed at once (here the CA answers garbage: logged, it
# keeps serving), one with two thirds left waits for its time
stored() {	# stored FROM_DAYS TO_DAYS: a self-signed pair in STORE/acme, valid
	# from FROM_DAYS to TO_DAYS from now (python3-cryptography, certbot's)
	mkdir -p "$STORE/acme"
	python3 - "$1" "$2" "$STORE/acme" <<'PY' || fail "cannot make the stored certificate"
import datetime, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
a, b, d = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
key = ec.generate_private_key(ec.SECP256R1())
now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mirror.test")])
cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now + datetime.timedelta(days=a))
        .not_valid_after(now + datetime.timedelta(days=b))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("mirror.test")]), False)
        .sign(key, hashes.SHA256()))
open(d + "/key.pem", "wb").write(key.private_bytes(serialization.Encoding.PEM,
    serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
open(d + "/cert.pem", "wb").write(cert.public_bytes(serialization.Encoding.PEM))
PY
	chmod 600 "$STORE/acme/key.pem" "$STORE/acme/cert.pem"
}
served_is_stored() {
	[ "$(openssl s_client -connect "127.0.0.1:$HTTPS_PORT" </dev/null 2>/dev/null |
		openssl x509 -noout -fingerprint)" = \
		"$(openssl x509 -in "$STORE/acme/cert.pem" -noout -fingerprint)" ]
}
rm -rf "$STORE/acme"
stored -2 1
HTTPS_EXTRA=$(printf 'acme = yes\ndomain = mirror.test\nacme_directory = %s/garbage/dir' "$CA")
: >"$SERVER_LOG"
start_server "[crawl]" "ca_file = $PEBBLE_CA"
served_is_stored || server_fail "the stored certificate is not served at start"
wait_for_file_line "$SERVER_LOG" "ACME: certificate valid until .*; renewal in 0 s" 5 ||
	server_fail "a certificate in its last third was not renewed at once"
wait_for_file_line "$SERVER_LOG" "ACME: no certificate from $CA/garbage/dir: .*not JSON" 15 ||
	server_fail "no failure logged"
served_is_stored || server_fail "the stored certificate stopped serving after the failure"
stop_server
pass "a stored certificate in its last third serves from the start, is renewed at once, and keeps serving when that fails"

stored -1 89
: >"$SERVER_LOG"
start_server "[crawl]" "ca_file = $PEBBLE_CA"
served_is_stored || server_fail "the stored certificate is not served at start"
wait_for_file_line "$SERVER_LOG" "ACME: certificate valid until .*; renewal in [0-9]+ s" 5 ||
	server_fail "no renewal scheduled"
secs=$(grep -oE 'renewal in [0-9]+ s' "$SERVER_LOG" | grep -oE '[0-9]+')
# 90 days from a day ago: renewal on day 60, 59 days from now.
[ "$secs" -ge $((59 * 86400 - 120)) ] && [ "$secs" -le $((59 * 86400 + 120)) ] ||
	server_fail "renewal in $secs s, want 59 days"
! grep -q 'ACME: asking' "$SERVER_LOG" || server_fail "asked the CA before its time"
stop_server
pass "a stored certificate with two thirds left serves, renewal scheduled in $secs s (59 days)"

# --- config errors name the line and say why
check_bad() {	# check_bad PATTERN <<config
	cat >"$CONF"
	expect_exit 2 "$EMBERD" ls -c "$CONF"
	[ "$(wc -l <"$T/err")" = 1 ] || { cat "$T/err"; fail "not one line"; }
	assert_grep "$1" "$T/err"
}
check_bad "$CONF:3: acme = yes needs a plain \[http\] listen" <<C
[https]
listen = 127.0.0.1:1
acme = yes
domain = mirror.test
C
check_bad "$CONF:3: acme = yes and cert/key in \[https\]: the ACME certificate is the one served" <<C
[https]
listen = 127.0.0.1:1
acme = yes
domain = mirror.test
cert = $T/pebble/cert.pem
key = $T/pebble/key.pem
[http]
listen = 127.0.0.1:2
C
check_bad "$CONF:2: acme = yes needs at least one domain" <<C
[https]
acme = yes
C
check_bad "$CONF:2: bad URL 'http://ca.example/dir' for 'acme_directory' in \[https\]: use https://" <<C
[https]
acme_directory = http://ca.example/dir
C
check_bad "$CONF:2: bad domain '\*.example.org' for 'domain'" <<C
[https]
domain = *.example.org
C
check_bad "$CONF:2: bad e-mail address 'me at example.org'" <<C
[https]
acme_email = me at example.org
C
check_bad "$CONF:2: cannot use acme_webroot '$T/nowhere': No such file or directory" <<C
[https]
acme_webroot = $T/nowhere
C
pass "acme config errors name the line and say why"

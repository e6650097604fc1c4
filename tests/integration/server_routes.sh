# emberd run: every route, TLS (self-signed certificate made once and
# reused, configured certificate, versions and ciphers), the index page,
# /metrics, the signed catalog as served, a catalog published while
# running, keep-alive.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
setup_publisher
command -v minisign >/dev/null || fail "minisign is not installed"

# --- content: text (stored gzip), media (raw), audio, HTML, odd names
mkdir "$T/in"
printf 'Voice of April, verse %d\n' $(seq 1 3000) >"$T/in/song.txt"
head -c 307200 /dev/urandom >"$T/in/clip.mp4"
head -c 50000 /dev/urandom >"$T/in/april-song.wav"
printf '<html><body><script>alert("mirrored")</script>banned</body></html>\n' >"$T/in/page.html"
head -c 100000 /dev/urandom >"$T/in/v1080.bin"
printf 'xss probe\n' >"$T/in/xss.bin"
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/in/song.txt" "$T/in/clip.mp4" \
	"$T/in/april-song.wav" "$T/in/page.html"
expect_exit 0 "$EMBERD" add -c "$CONF" --name "Voice of April (1080p).mp4" "$T/in/v1080.bin"
# The issue's '<script>alert(1)</script>".txt' cannot be an item name ('/'
# is refused by add), so: the same attack without the slash, plus & and '.
XSS='<script>alert(1)<script>"&'"'"'.txt'
expect_exit 0 "$EMBERD" add -c "$CONF" --name "$XSS" "$T/in/xss.bin"
expect_exit 0 "$EMBERD" ls -c "$CONF"
assert_grep "^song.txt .* gzip$" "$T/out"
assert_grep "^clip.mp4 .* raw$" "$T/out"

# --- first start: two TLS listeners (plus [::1] when there is IPv6), one
# plain, and a plain one on a non-loopback address when there is one.
HTTPS_PORT2=$(free_port)
HTTPS_EXTRA="listen = 127.0.0.1:$HTTPS_PORT2"
V6=no
if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
	V6=yes
	HTTPS_PORT6=$(free_port)
	HTTPS_EXTRA="$HTTPS_EXTRA
listen = [::1]:$HTTPS_PORT6"
fi
EXT_ADDR=$(ip -4 -o addr show scope global 2>/dev/null | awk '{sub(/\/.*/, "", $4); print $4}' | head -n 1 || true)
if [ -n "$EXT_ADDR" ]; then
	EXT_PORT=$(free_port)
	HTTP_EXTRA="listen = 0.0.0.0:$EXT_PORT"
fi
[ ! -e "$STORE/tls" ] || fail "STORE/tls exists before the first start"
start_server

# --- the self-signed certificate
[ -s "$STORE/tls/cert.pem" ] || server_fail "no STORE/tls/cert.pem after the first start"
[ -s "$STORE/tls/key.pem" ] || server_fail "no STORE/tls/key.pem after the first start"
mode=$(stat -c %a "$STORE/tls/key.pem")
[ $((8#$mode & 8#077)) = 0 ] || fail "STORE/tls/key.pem is mode $mode: readable by others"
openssl x509 -in "$STORE/tls/cert.pem" -noout -text >"$T/cert.txt" || fail "cert.pem is not a certificate"
assert_grep 'ASN1 OID: prime256v1|NIST CURVE: P-256' "$T/cert.txt"
assert_grep 'IP Address:127\.0\.0\.1([, ]|$)' "$T/cert.txt"
[ "$V6" = no ] || assert_grep 'IP Address:0:0:0:0:0:0:0:1([, ]|$)' "$T/cert.txt"
openssl pkey -in "$STORE/tls/key.pem" -pubout >"$T/key-pub.pem" 2>/dev/null || fail "key.pem is not a key"
openssl x509 -in "$STORE/tls/cert.pem" -pubkey -noout >"$T/cert-pub.pem"
cmp -s "$T/key-pub.pem" "$T/cert-pub.pem" || fail "key.pem does not belong to cert.pem"
cp "$STORE/tls/cert.pem" "$T/cert-first.pem"
cp "$STORE/tls/key.pem" "$T/key-first.pem"
pass "self-signed EC P-256 certificate made in the store, SAN has the listen addresses"

# The certificate presented is that one, and curl verifies it (chain and
# the IP in the SAN) on every TLS listener.
served_fp() {	# served_fp HOST PORT: SHA-256 fingerprint of the served cert
	openssl s_client -connect "$1:$2" </dev/null 2>/dev/null |
		openssl x509 -noout -fingerprint -sha256 2>/dev/null | cut -d= -f2
}
file_fp() { openssl x509 -in "$1" -noout -fingerprint -sha256 | cut -d= -f2; }
[ "$(served_fp 127.0.0.1 "$HTTPS_PORT")" = "$(file_fp "$STORE/tls/cert.pem")" ] ||
	fail "the TLS listener does not present STORE/tls/cert.pem"
for url in "$HTTPS_URL" "https://127.0.0.1:$HTTPS_PORT2"; do
	[ "$(curl_https "$url/healthz")" = ok ] || server_fail "GET $url/healthz over verified TLS"
done
if [ "$V6" = yes ]; then
	[ "$(curl_https "https://[::1]:$HTTPS_PORT6/healthz")" = ok ] ||
		server_fail "GET https://[::1]:$HTTPS_PORT6/healthz over verified TLS"
fi
[ "$(curl_http "$HTTP_URL/healthz")" = ok ] || server_fail "GET /healthz over plain HTTP"
# Each port speaks only its own protocol.
[ "$(status_of "http://127.0.0.1:$HTTPS_PORT/healthz")" != 200 ] || fail "the TLS port answered plain HTTP"
[ "$(status_of "https://127.0.0.1:$HTTP_PORT/healthz" -k)" != 200 ] || fail "the plain port answered TLS"
pass "every listener answers; TLS verified with the generated certificate"

# --- TLS versions and ciphers.
# tls_try PORT S_CLIENT-OPTIONS...: 0 when a handshake completes; sets
# TLS_PROTO and TLS_CIPHER. The client runs at @SECLEVEL=0 so that it
# really offers old versions and weak suites (Debian's default would
# refuse them itself, and the test would prove nothing).
tls_try() {
	local port=$1 out
	shift
	TLS_PROTO= TLS_CIPHER=
	out=$(timeout 10 openssl s_client -brief -connect "127.0.0.1:$port" "$@" </dev/null 2>&1) ||
		{ printf '%s\n' "$out" >"$T/tls.out"; return 1; }
	printf '%s\n' "$out" >"$T/tls.out"
	TLS_PROTO=$(printf '%s\n' "$out" | sed -n 's/^Protocol version: //p')
	TLS_CIPHER=$(printf '%s\n' "$out" | sed -n 's/^Ciphersuite: //p')
	grep -q '^CONNECTION ESTABLISHED' "$T/tls.out" && [ -n "$TLS_PROTO" ] && [ -n "$TLS_CIPHER" ]
}
LOW='ALL:@SECLEVEL=0'
FS_AEAD='^(ECDHE|DHE)-(ECDSA|RSA)-(AES(128|256)-GCM-SHA(256|384)|ARIA(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305|AES(128|256)-CCM(8)?)$'

# A permissive OpenSSL server with the same certificate proves the client
# can do what we then expect emberd to refuse.
CTL_PID=
start_control() {	# start_control CERT KEY
	CTL_PORT=$(free_port)
	openssl s_server -accept "127.0.0.1:$CTL_PORT" -cert "$1" -key "$2" \
		-cipher "$LOW" -www >/dev/null 2>&1 &
	CTL_PID=$!
	bg "$CTL_PID"
	local i
	for i in $(seq 1 100); do
		tls_try "$CTL_PORT" -tls1_2 && return 0
		sleep 0.05
	done
	fail "control openssl s_server did not start"
}
stop_control() { kill "$CTL_PID" 2>/dev/null || true; wait "$CTL_PID" 2>/dev/null || true; }

# check_tls CERT KEY WEAK-SUITES...: versions, the weak suites refused, and
# every TLS 1.2 suite emberd accepts is forward-secret AEAD.
check_tls() {
	local cert=$1 key=$2 c accepted=0
	shift 2
	start_control "$cert" "$key"
	for v in tls1 tls1_1; do
		tls_try "$CTL_PORT" "-$v" -cipher "$LOW" || fail "control: the client cannot speak -$v"
		! tls_try "$HTTPS_PORT" "-$v" -cipher "$LOW" || fail "emberd accepted $TLS_PROTO ($TLS_CIPHER)"
	done
	tls_try "$HTTPS_PORT" -tls1_2 || { cat "$T/tls.out"; server_fail "TLS 1.2 handshake failed"; }
	[ "$TLS_PROTO" = TLSv1.2 ] || fail "asked for TLS 1.2, got $TLS_PROTO"
	[[ "$TLS_CIPHER" =~ $FS_AEAD ]] || fail "TLS 1.2 default suite $TLS_CIPHER is not forward-secret AEAD"
	tls_try "$HTTPS_PORT" -tls1_3 || { cat "$T/tls.out"; server_fail "TLS 1.3 handshake failed"; }
	[ "$TLS_PROTO" = TLSv1.3 ] || fail "asked for TLS 1.3, got $TLS_PROTO"
	for c in "$@"; do
		tls_try "$CTL_PORT" -tls1_2 -cipher "$c:@SECLEVEL=0" || fail "control: the client cannot use $c"
		! tls_try "$HTTPS_PORT" -tls1_2 -cipher "$c:@SECLEVEL=0" || fail "emberd accepted weak suite $TLS_CIPHER"
	done
	# Every other TLS 1.2 suite this openssl knows, offered in one
	# handshake (a server picks any suite both sides have, so one that
	# accepted any of them would answer): refused by emberd, taken by the
	# control. One handshake, not one per suite (137 of them).
	weak=$(openssl ciphers "$LOW" | tr ':' '\n' | grep -v '^TLS_' | grep -vE "$FS_AEAD" | paste -sd: -)
	[ -n "$weak" ] || fail "openssl ciphers listed no suite that is not forward-secret AEAD"
	tls_try "$CTL_PORT" -tls1_2 -cipher "$weak:@SECLEVEL=0" || fail "control: the client cannot offer the other suites"
	! tls_try "$HTTPS_PORT" -tls1_2 -cipher "$weak:@SECLEVEL=0" ||
		fail "emberd accepted $TLS_CIPHER, not forward-secret AEAD"
	for c in $(openssl ciphers "$LOW" | tr ':' '\n' | grep -E "$FS_AEAD"); do
		tls_try "$HTTPS_PORT" -tls1_2 -cipher "$c:@SECLEVEL=0" && accepted=$((accepted + 1))
	done
	[ "$accepted" -gt 0 ] || fail "no TLS 1.2 suite accepted"
	stop_control
}
check_tls "$STORE/tls/cert.pem" "$STORE/tls/key.pem" \
	ECDHE-ECDSA-AES128-SHA ECDHE-ECDSA-AES256-SHA ECDHE-ECDSA-AES128-SHA256 ECDHE-ECDSA-AES256-SHA384
# The brief's probe; an EC certificate cannot do RSA key exchange anyway.
! tls_try "$HTTPS_PORT" -tls1_2 -cipher "AES128-SHA:@SECLEVEL=0" || fail "emberd accepted AES128-SHA"
pass "TLS 1.0/1.1 refused, 1.2 and 1.3 work, only forward-secret AEAD suites (EC certificate)"

# --- routes
ITEMS_JSON="$STORE/current/catalog.json"
mkdir "$T/dl"
get() {	# get URL OUTFILE [curl args]: GET, headers to OUTFILE.h; prints status
	local url=$1 out=$2
	shift 2
	curl -sS --max-time 30 --cacert "$STORE/tls/cert.pem" -D "$out.h" -o "$out" \
		-w '%{http_code}' "$@" "$url" || echo " curl-failed"
}
for base in "$HTTPS_URL" "$HTTP_URL"; do
	[ "$(get "$base/healthz" "$T/dl/h")" = 200 ] || fail "$base/healthz status"
	[ "$(cat "$T/dl/h")" = ok ] || fail "$base/healthz body is not ok: $(head -c 100 "$T/dl/h")"
	[ "$(get "$base/healthz" "$T/dl/hh" -I)" = 200 ] || fail "HEAD $base/healthz"

	[ "$(get "$base/catalog.json" "$T/dl/catalog.json")" = 200 ] || fail "$base/catalog.json status"
	cmp -s "$T/dl/catalog.json" "$STORE/current/catalog.json" || fail "$base/catalog.json differs from the store's"
	[[ "$(header Content-Type "$T/dl/catalog.json.h")" =~ ^application/json ]] ||
		fail "catalog.json Content-Type: $(header Content-Type "$T/dl/catalog.json.h")"
	[ "$(get "$base/catalog.json.minisig" "$T/dl/catalog.json.minisig")" = 200 ] || fail "$base/catalog.json.minisig status"
	cmp -s "$T/dl/catalog.json.minisig" "$STORE/current/catalog.json.minisig" ||
		fail "$base/catalog.json.minisig differs from the store's"
	[ "$(get "$base/pubkey" "$T/dl/pubkey")" = 200 ] || fail "$base/pubkey status"
	[ "$(wc -l <"$T/dl/pubkey")" = 2 ] || fail "/pubkey is not two lines"
	assert_grep '^untrusted comment: ' "$T/dl/pubkey"
	[ "$(sed -n 2p "$T/dl/pubkey")" = "$PUBKEY" ] || fail "/pubkey is not the publisher's key"
	expect_exit 0 minisign -Vm "$T/dl/catalog.json" -p "$T/dl/pubkey"
	expect_exit 0 minisign -Vm "$T/dl/catalog.json" -P "$(sed -n 2p "$T/dl/pubkey")"
	assert_grep "sequence:$(catalog_seq)" "$T/out"

	# Every item by name (percent-encoded) and by hash.
	python3 - "$ITEMS_JSON" >"$T/items.tsv" <<'PY'
import json, sys, urllib.parse
for i in json.load(open(sys.argv[1]))["items"]:
    print("%s\t%s\t%d" % (urllib.parse.quote(i["name"], safe=""), i["sha256"], i["size"]))
PY
	while IFS=$'\t' read -r qname sha size; do
		[ "$(get "$base/files/$qname" "$T/dl/f")" = 200 ] || fail "GET $base/files/$qname"
		[ "$(sha256_of "$T/dl/f")" = "$sha" ] || fail "$base/files/$qname: wrong bytes"
		[ "$(get "$base/sha256/$sha" "$T/dl/f")" = 200 ] || fail "GET $base/sha256/$sha"
		[ "$(sha256_of "$T/dl/f")" = "$sha" ] || fail "$base/sha256/$sha: wrong bytes"
	done <"$T/items.tsv"
	[ "$(wc -l <"$T/items.tsv")" = 6 ] || fail "expected 6 items"

	# Unknown paths.
	for p in /nope /files/nope.txt /files/ /files "/sha256/$(printf '0%.0s' $(seq 1 64))" \
		/sha256/abc /catalog.json/x /healthz/x /index.html; do
		[ "$(get "$base$p" "$T/dl/x")" = 404 ] || fail "GET $base$p: want 404, got $(get "$base$p" "$T/dl/x")"
	done
done
pass "/healthz, /catalog.json, .minisig (minisign verifies with /pubkey), /pubkey, /files, /sha256, 404s"

# A mirrored HTML page is served as HTML, sandboxed.
[ "$(get "$HTTPS_URL/files/page.html" "$T/dl/page")" = 200 ] || fail "GET page.html"
[ "$(header Content-Type "$T/dl/page.h")" = "text/html; charset=utf-8" ] || fail "page.html Content-Type"
[ "$(header Content-Security-Policy "$T/dl/page.h")" = sandbox ] || fail "page.html without CSP sandbox"
[ "$(header X-Content-Type-Options "$T/dl/page.h")" = nosniff ] || fail "page.html without nosniff"
pass "mirrored HTML carries Content-Security-Policy: sandbox"

# --- the index page
[ "$(get "$HTTPS_URL/" "$T/dl/index.html")" = 200 ] || fail "GET /"
[[ "$(header Content-Type "$T/dl/index.html.h")" =~ ^text/html ]] || fail "/ is not text/html"
python3 - "$T/dl/index.html" "$ITEMS_JSON" "$PUBKEY" "$XSS" >"$T/links" <<'PY' || fail "index page"
import html.parser, json, re, sys, urllib.parse
page = open(sys.argv[1], encoding="utf-8").read()
cat = json.load(open(sys.argv[2]))
pubkey, xss = sys.argv[3], sys.argv[4]

class P(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.text, self.links = [], [], []
    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        for k, v in attrs:
            assert not k.startswith("on"), "event handler attribute %s=%r" % (k, v)
            if k in ("href", "src") and v:
                assert not v.strip().lower().startswith("javascript:"), v
                self.links.append((tag, k, v))
    handle_startendtag = handle_starttag
    def handle_data(self, d):
        self.text.append(d)

p = P()
p.feed(page)
text = " ".join(p.text)
names = [t for t, _ in p.tags]
assert "script" not in names, "the index has a <script> element"
assert not re.search(r"<\s*script", page, re.I), "the index has '<script' in it"
for tag, k, v in p.links:
    if tag in ("img", "script", "link", "iframe", "video", "audio", "source", "embed", "object"):
        assert not re.match(r"(https?:)?//", v.strip(), re.I), "external resource %s %s=%s" % (tag, k, v)
# The hostile name: only escaped in the source, intact as text.
assert xss not in page, "the raw name is in the page"
assert "&lt;script&gt;alert(1)&lt;script&gt;" in page, "the escaped name is not in the page"
assert re.search(r'&lt;script&gt;(&quot;|&#34;|&#x22;)&amp;(&#39;|&#x27;|&apos;|\')\.txt', page), \
    "quote and ampersand of the name are not escaped"
assert xss in text, "the name does not read back as text"
assert pubkey in text, "the publisher key is not on the page"
for i in cat["items"]:
    assert i["name"] in text, "name %r missing" % i["name"]
    assert i["sha256"] in page, "sha256 of %r missing" % i["name"]
    assert i["type"].split(";")[0] in text, "type %r missing" % i["type"]
# Sizes: bytes, or a human form (clip.mp4 is exactly 300 KiB).
assert re.search(r"\b307[ ,.]?200\b|\b300(\.0+)?\s*(KiB|K)\b|\b307(\.2)?\s*kB\b", text), "size of clip.mp4 missing"

def players(kind):
    n = 0
    for t, a in p.tags:
        if t == kind and "controls" in a:
            n += 1
    return n
want_video = sum(1 for i in cat["items"] if i["type"].startswith("video/"))
want_audio = sum(1 for i in cat["items"] if i["type"].startswith("audio/"))
assert players("video") >= want_video, "%d <video controls>, want %d" % (players("video"), want_video)
assert players("audio") >= want_audio, "%d <audio controls>, want %d" % (players("audio"), want_audio)
# Links to the files, resolved against "/", printed for the shell to fetch.
seen = set()
for tag, k, v in p.links:
    u = urllib.parse.urljoin("https://mirror.invalid/", v)
    path = urllib.parse.urlsplit(u).path
    if urllib.parse.urlsplit(u).netloc == "mirror.invalid" and path.startswith("/files/") \
            and not path.endswith((".meta4", ".torrent")) and path not in seen:
        seen.add(path)
        print(path)
PY
[ -s "$T/links" ] || fail "the index links to no /files/"
: >"$T/linked-shas"
while read -r path; do
	[ "$(get "$HTTPS_URL$path" "$T/dl/l")" = 200 ] || fail "the index links to $path, which does not answer 200"
	sha256_of "$T/dl/l" >>"$T/linked-shas"
done <"$T/links"
for sha in $(cut -f2 "$T/items.tsv"); do
	grep -qx "$sha" "$T/linked-shas" || fail "no working link on the index for object $sha"
done
pass "index: names (escaped), types, sizes, hashes, working links, players, key, no script"

# --- /metrics: Prometheus text, loopback only.
check_metrics() {	# check_metrics FILE MIN_REQUESTS MIN_BYTES N_OBJECTS
	python3 - "$@" <<'PY'
import re, sys
f, min_req, min_bytes, n_obj = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
types, samples = {}, []
name_re = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
for ln in open(f, encoding="utf-8").read().splitlines():
    if not ln.strip():
        continue
    if ln.startswith("#"):
        m = re.match(r"# TYPE (%s) (counter|gauge|histogram|summary|untyped)$" % name_re, ln)
        if m:
            types[m.group(1)] = m.group(2)
        else:
            assert re.match(r"# HELP %s( .*)?$|#( |$)" % name_re, ln), "bad comment line: %r" % ln
        continue
    m = re.match(r'(%s)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\.)*",?)*\})? (\S+)( -?\d+)?$' % name_re, ln)
    assert m, "bad sample line: %r" % ln
    v = float(m.group(5))
    samples.append((m.group(1), v))
assert types, "no # TYPE line"
def family(s):
    if s in types:
        return s
    for suf in ("_total", "_bucket", "_sum", "_count", "_created"):
        if s.endswith(suf) and s[: -len(suf)] in types:
            return s[: -len(suf)]
    return None
for s, _ in samples:
    assert family(s), "sample %s has no # TYPE" % s
def sums(pred):
    out = {}
    for s, v in samples:
        fam = family(s)
        if pred(fam):
            out[fam] = out.get(fam, 0) + v
    return out
req = sums(lambda f: "request" in f and types[f] == "counter")
assert req and max(req.values()) >= min_req, "requests counter %r < %d" % (req, min_req)
byt = sums(lambda f: "byte" in f and types[f] == "counter")
assert byt and max(byt.values()) >= min_bytes, "bytes counter %r < %d" % (byt, min_bytes)
# "objects": the objects or catalog items served (here they are as many).
objs = sums(lambda f: "object" in f or "item" in f)
assert n_obj in objs.values(), "no objects/items metric equal to %d: %r" % (n_obj, objs)
assert any("crawl" in t for t in types), "no crawl metric"
# The work queue: one gauge line per job type, 0 or more jobs.
assert types.get("emberd_workq_pending") == "gauge", "no emberd_workq_pending gauge"
wq = [ln for ln in open(f, encoding="utf-8").read().splitlines()
      if ln.startswith("emberd_workq_pending{")]
for t in ("ingest", "publish", "scrub", "unlink"):
    n = sum(1 for ln in wq if re.match(r'emberd_workq_pending\{type="%s"\} \d+$' % t, ln))
    assert n == 1, "%d emberd_workq_pending lines for type %s: %r" % (n, t, wq)
assert len(wq) == 4, "emberd_workq_pending lines other than the 4 types: %r" % wq
print(int(max(req.values())))
PY
}
n_obj=$(ls "$STORE/objects" | wc -l)
total=0
for i in 1 2 3 4 5; do
	[ "$(get "$HTTPS_URL/files/clip.mp4" "$T/dl/m")" = 200 ] || fail "GET clip.mp4"
	[ "$(get "$HTTP_URL/files/song.txt" "$T/dl/m")" = 200 ] || fail "GET song.txt"
done
total=$(( 5 * (307200 + $(stat -c %s "$T/in/song.txt")) ))
[ "$(get "$HTTP_URL/metrics" "$T/dl/metrics")" = 200 ] || fail "GET /metrics over HTTP from loopback"
[[ "$(header Content-Type "$T/dl/metrics.h")" =~ ^text/plain ]] || fail "/metrics is not text/plain"
r1=$(check_metrics "$T/dl/metrics" 10 "$total" "$n_obj") || fail "bad /metrics"
for i in $(seq 1 7); do curl_https -o /dev/null "$HTTPS_URL/healthz"; done
[ "$(get "$HTTPS_URL/metrics" "$T/dl/metrics")" = 200 ] || fail "GET /metrics over HTTPS from loopback"
r2=$(check_metrics "$T/dl/metrics" 17 "$total" "$n_obj") || fail "bad /metrics"
[ "$r2" -ge $((r1 + 7)) ] || fail "requests counter went from $r1 to $r2 after 8 requests"
if [ -n "$EXT_ADDR" ]; then
	[ "$(status_of "http://$EXT_ADDR:$EXT_PORT/healthz")" = 200 ] || fail "no answer on $EXT_ADDR:$EXT_PORT"
	code=$(get "http://$EXT_ADDR:$EXT_PORT/metrics" "$T/dl/xm")
	[ "$code" = 403 ] || [ "$code" = 404 ] || fail "/metrics from $EXT_ADDR answered $code (want 403 or 404)"
	! grep -q '# TYPE' "$T/dl/xm" || fail "/metrics served to a non-loopback client"
	pass "/metrics: Prometheus text, counters grow, work queue by type, refused to $EXT_ADDR"
else
	echo "note: no non-loopback IPv4 address here; /metrics refusal not exercised"
	pass "/metrics: Prometheus text, counters grow, work queue by type"
fi

# --- keep-alive: one connection for two URLs, HTTPS and plain.
for base in "$HTTPS_URL" "$HTTP_URL"; do
	n=$(curl_https -o /dev/null -o /dev/null -w '%{num_connects}\n' \
		"$base/healthz" "$base/files/clip.mp4" | tr -d ' ' | paste -sd,)
	[ "$n" = "1,0" ] || fail "$base: connections per request $n, want 1,0 (keep-alive)"
	curl_https -v -o /dev/null -o /dev/null "$base/files/song.txt" "$base/catalog.json" 2>"$T/v"
	assert_grep 'Re-using existing connection' "$T/v"
done
pass "keep-alive"

# --- the certificate is reused across restarts
stop_server
cmp -s "$STORE/tls/cert.pem" "$T/cert-first.pem" || fail "cert.pem changed after a stop"
start_server
cmp -s "$STORE/tls/cert.pem" "$T/cert-first.pem" || fail "cert.pem replaced on restart"
cmp -s "$STORE/tls/key.pem" "$T/key-first.pem" || fail "key.pem replaced on restart"
[ "$(served_fp 127.0.0.1 "$HTTPS_PORT")" = "$(file_fp "$T/cert-first.pem")" ] ||
	fail "after a restart the served certificate is not the first one"
[ "$(curl_https "$HTTPS_URL/healthz")" = ok ] || server_fail "healthz after restart"
pass "certificate reused across restarts"

# --- a catalog published while running is served on the same connection,
# without a restart.
pid_before=$SERVER_PID
printf 'fresh news %d\n' $(seq 1 200) >"$T/in/news.txt"
python3 - "$HTTPS_PORT" "$STORE/tls/cert.pem" "$EMBERD" "$CONF" "$T/in/news.txt" <<'PY' || server_fail "add while running"
import http.client, json, ssl, subprocess, sys, time
port, ca, emberd, conf, path = sys.argv[1:]
ctx = ssl.create_default_context(cafile=ca)
c = http.client.HTTPSConnection("127.0.0.1", int(port), context=ctx, timeout=10)
def get(p):
    c.request("GET", p)
    r = c.getresponse()
    return r.status, r.read()
s, b = get("/catalog.json")
assert s == 200
seq0 = json.loads(b)["sequence"]
sock0 = c.sock
s, b = get("/files/news.txt")
assert s == 404, "news.txt before add: %d" % s
subprocess.run([emberd, "add", "-c", conf, path], check=True, capture_output=True)
deadline = time.time() + 5
while True:
    s, b = get("/catalog.json")
    assert c.sock is sock0, "the connection was dropped by the reload"
    assert s == 200
    if json.loads(b)["sequence"] == seq0 + 1:
        break
    assert time.time() < deadline, "new catalog not served within 5 s of the add"
    time.sleep(0.05)
s, b = get("/files/news.txt")
assert s == 200 and b == open(path, "rb").read(), "news.txt after add: %d" % s
assert c.sock is sock0, "the connection was dropped"
PY
[ "$SERVER_PID" = "$pid_before" ] && kill -0 "$SERVER_PID" || fail "the server restarted"
[ "$(get "$HTTP_URL/catalog.json" "$T/dl/c2")" = 200 ] || fail "catalog after add"
cmp -s "$T/dl/c2" "$STORE/current/catalog.json" || fail "served catalog is not the new one"
cp "$STORE/current/catalog.json.minisig" "$T/dl/c2.minisig"
expect_exit 0 minisign -Vm "$T/dl/c2" -x "$T/dl/c2.minisig" -P "$PUBKEY"
pass "add while running: new catalog served on the open connection, no restart"

# --- a configured certificate (RSA): used as given, weak suites refused.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/rsa-key.pem" -out "$T/rsa-cert.pem" \
	-days 2 -subj /CN=127.0.0.1 -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null ||
	fail "cannot make an RSA certificate"
chmod 600 "$T/rsa-key.pem"
stop_server
HTTPS_EXTRA="cert = rsa-cert.pem
key = rsa-key.pem"
HTTP_EXTRA=
start_server
[ "$(served_fp 127.0.0.1 "$HTTPS_PORT")" = "$(file_fp "$T/rsa-cert.pem")" ] ||
	fail "the configured certificate is not the one served"
[ "$(curl -sS --max-time 10 --cacert "$T/rsa-cert.pem" "$HTTPS_URL/healthz")" = ok ] ||
	server_fail "healthz with the configured certificate"
check_tls "$T/rsa-cert.pem" "$T/rsa-key.pem" \
	AES128-SHA AES256-SHA AES128-GCM-SHA256 AES256-GCM-SHA384 ECDHE-RSA-AES128-SHA ECDHE-RSA-AES128-SHA256
cmp -s "$STORE/tls/cert.pem" "$T/cert-first.pem" || fail "the self-signed certificate was touched"
stop_server
pass "configured RSA certificate: served, TLS >= 1.2, forward-secret AEAD only (AES128-SHA, AES128-GCM-SHA256 refused)"

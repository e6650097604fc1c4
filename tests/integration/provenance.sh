# Provenance of a crawled file: the catalog item names a document (an
# object like any other) that records the request emberd sent and the
# response heads of every hop (the first request and its redirect), the
# peer's address and the time, without the URL's user, password or query,
# nor the Authorization they made; the mirror serves it at /sha256/HEX; a
# follower fetches the same bytes and refuses altered ones. Over HTTPS
# from an origin a private CA signed ([crawl] ca_file), the TLS version,
# cipher and the chain the server showed, whose SHA-256 is that of the
# DER certificates `openssl s_client -showcerts` prints; the same chain is
# recorded from an untrusted origin with [source] tls_verify = no.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
. "$(dirname "$0")/pebble_lib.sh"
. "$(dirname "$0")/follow_lib.sh"
. "$(dirname "$0")/crawl_lib.sh"
setup_publisher

USER_S=alice-p4k
PASS_S=pw-prov-s3cret
TOKEN=tok-prov-7731
# An HLS stream of two AES-128 segments (IV: the media sequence number).
mkdir "$T/o"
KEYHEX=00112233445566778899aabbccddeeff
printf '%s' "$KEYHEX" | xxd -r -p >"$T/o/k.key"
for i in 0 1; do
	head -c $((3000 + i * 1000)) /dev/urandom >"$T/plain$i"
	openssl enc -aes-128-cbc -K "$KEYHEX" -iv "$(printf '%032x' "$i")" -in "$T/plain$i" \
		-out "$T/o/s$i.aac" || fail "openssl enc failed"
done
printf '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-KEY:METHOD=AES-128,URI="k.key"\n#EXTINF:2.0,\ns0.aac\n#EXTINF:2.0,\ns1.aac\n#EXT-X-ENDLIST\n' >"$T/o/live.m3u8"
printf '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=64000,CODECS="mp4a.40.2"\nlive.m3u8\n' >"$T/o/master.m3u8"
start_origin --root "$T/o" --auth "$USER_S:$PASS_S"
port=${ORIGIN##*:}
final="/f/prov.bin?size=5000&seed=prov&auth=1&token=$TOKEN"
to=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$final")
url="http://$USER_S:$PASS_S@127.0.0.1:$port/redirect?to=$to&token=$TOKEN"
B64=$(printf '%s:%s' "$USER_S" "$PASS_S" | base64)

# --- the crawl stores the document and names it in the item ----------------
server_config "[source prov]" "url = $url" "name = prov.bin"
expect_exit 0 "$EMBERD" crawl -c "$CONF"
assert_summary prov "fetched prov\.bin \(5000 bytes"
read -r DOC DOCSIZE < <(python3 -c 'import json, sys
c = json.load(open(sys.argv[1]))
p = [i for i in c["items"] if i["name"] == "prov.bin"][0]["provenance"]
assert p["host"] == "127.0.0.1" and p["ip"] == "127.0.0.1", p
assert "tls" not in p and "cert_sha256" not in p, p
assert p["date"].endswith("Z"), p
print(p["sha256"], p["size"])' "$STORE/current/catalog.json") ||
	fail "the catalog item has no provenance summary as expected"
[ -n "$DOC" ] || fail "no provenance id"
pass "the item names its provenance document ($DOC, $DOCSIZE bytes): host, ip, date, no TLS over http"

# --- the document, as the mirror serves it ---------------------------------
start_server
curl_http -o "$T/doc.json" -D "$T/doc.head" "$HTTP_URL/sha256/$DOC" || server_fail "GET /sha256/$DOC failed"
assert_grep '^[Cc]ontent-[Tt]ype: application/json' "$T/doc.head"
[ "$(sha256sum <"$T/doc.json" | cut -d' ' -f1)" = "$DOC" ] || fail "the document does not hash to its id"
python3 - "$T/doc.json" "$STORE/current/catalog.json" "$port" <<'EOF' || fail "the document is not what was sent and received"
import base64, json, sys
doc = json.load(open(sys.argv[1]))
cat = json.load(open(sys.argv[2]))
port = int(sys.argv[3])
item = [i for i in cat["items"] if i["name"] == "prov.bin"][0]
assert doc["version"] == 1
assert doc["item"] == {"name": "prov.bin", "sha256": item["sha256"], "size": 5000}, doc["item"]
[cap] = doc["captures"]
assert cap["role"] == "media", cap["role"]
assert cap["payload"] == {"sha256": item["sha256"], "size": 5000}, cap["payload"]
h0, h1 = cap["hops"]
assert h0["uri"] == "http://127.0.0.1:%d/redirect" % port, h0["uri"]
assert h1["uri"] == "http://127.0.0.1:%d/f/prov.bin" % port, h1["uri"]
for h in (h0, h1):
    assert h["ip"] == "127.0.0.1" and h["port"] == port, h
    assert "tls" not in h
req0 = base64.b64decode(h0["request"]).decode()
req1 = base64.b64decode(h1["request"]).decode()
res0 = base64.b64decode(h0["response"]).decode()
res1 = base64.b64decode(h1["response"]).decode()
assert req0.startswith("GET /redirect HTTP/1.1\r\n"), req0
assert "\r\nAuthorization: [redacted]\r\n" in req0, req0
assert req1.startswith("GET /f/prov.bin HTTP/1.1\r\n"), req1
assert "\r\nAuthorization: [redacted]\r\n" in req1, req1
assert req1.endswith("\r\n\r\n")
assert res0.startswith("HTTP/1.1 302 "), res0
assert "\r\nLocation: /f/prov.bin\r\n" in res0, res0
assert res1.startswith("HTTP/1.1 200 "), res1
assert "\r\nContent-Length: 5000\r\n" in res1, res1
assert res1.endswith("\r\n\r\n")
print("heads:", repr(req1.splitlines()[0]), repr(res1.splitlines()[0]))
EOF
for s in "$USER_S" "$PASS_S" "$TOKEN" "$B64"; do
	! grep -qF -- "$s" "$T/doc.json" || fail "the document holds the secret '$s'"
done
python3 -c 'import base64, json, sys
d = open(sys.argv[1]).read()
doc = json.loads(d)
raw = "".join(base64.b64decode(h[k]).decode("latin-1") for c in doc["captures"]
    for h in c["hops"] for k in ("request", "response"))
for s in sys.argv[2:]:
    assert s not in raw and s not in d, s' "$T/doc.json" "$USER_S" "$PASS_S" "$TOKEN" "$B64" ||
	fail "a decoded head holds a secret"
pass "the document: both hops' request and response heads, ip and port, payload; no user, password, token or credentials"

# --- the index page says where and when, and links the record --------------
curl_http -o "$T/index.html" "$HTTP_URL/" || server_fail "GET / failed"
assert_grep '<p class="mute prov">Fetched from <code dir="ltr">127\.0\.0\.1</code> at <bdi>[0-9-]*T[0-9:]*Z</bdi> &middot; <a href="sha256/'"$DOC"'">provenance record</a></p>' "$T/index.html"
pass "the index page: fetched from 127.0.0.1 at TIME, and the record's link"

# --- gc keeps it, verify expects it ----------------------------------------
expect_exit 0 "$EMBERD" gc -c "$CONF" --now
curl_http -o "$T/doc2.json" "$HTTP_URL/sha256/$DOC" || server_fail "the document is gone after gc"
cmp -s "$T/doc.json" "$T/doc2.json" || fail "the document changed after gc"
expect_exit 0 "$EMBERD" verify -c "$CONF"
pass "gc keeps the document; verify passes"

# --- a follower fetches the same bytes, and refuses altered ones ------------
peer_start alt "$HTTP_URL" --mode altered
follower_config f1 "[follow]" "pubkey = $PUBKEY" "peer = ${PEER_URL[alt]}/"
follower_crawl f1 1
assert_grep "sha256 mismatch: got [0-9a-f]*, the catalog says $DOC" "$T/err"
pass "a follower refuses a provenance document altered by its peer"
follower_config f1 "[follow]" "pubkey = $PUBKEY" "peer = $HTTP_URL/"
follower_crawl f1 0
follower_start f1
curl_http -o "$T/f1doc.json" "$(furl f1)/sha256/$DOC" || fail "the follower does not serve the document"
follower_stop f1
cmp -s "$T/doc.json" "$T/f1doc.json" || fail "the follower serves other bytes"
pass "a follower syncs the document and serves the same bytes"

# --- a static export carries it, an import takes it -------------------------
expect_exit 0 "$EMBERD" export -c "$CONF" "$T/exp"
cmp -s "$T/doc.json" "$T/exp/sha256/$DOC" || fail "the export lacks the provenance document"
follower_config f2 "[follow]" "pubkey = $PUBKEY" "peer = $HTTP_URL/"
expect_exit 0 "$EMBERD" import -c "$(fconf f2)" "$T/exp"
expect_exit 0 "$EMBERD" verify -c "$(fconf f2)"
[ -n "$(find "$(fstore f2)/objects" -maxdepth 1 -name "$DOC*" | head -n 1)" ] ||
	fail "the import did not take the provenance document"
pass "a static export has the document at sha256/HEX; an import takes it, verify passes"

# --- HLS: the playlist and key inline, each segment and where it went -------
stop_server
server_config "[source radio]" "url = $ORIGIN/r/live.m3u8" "kind = hls" \
	"[source tv]" "url = $ORIGIN/r/master.m3u8" "kind = hls"
expect_exit 0 "$EMBERD" crawl -c "$CONF"
assert_summary radio "fetched radio\.aac \(7..."
python3 - "$STORE/current/catalog.json" "$T/o" <<'EOF2' >"$T/hls.doc" || fail "the HLS item has no provenance"
import json, sys
c = json.load(open(sys.argv[1]))
print([i for i in c["items"] if i["name"] == "radio.aac"][0]["provenance"]["sha256"])
EOF2
start_server
curl_http -o "$T/hdoc.json" "$HTTP_URL/sha256/$(cat "$T/hls.doc")" || server_fail "GET the HLS document failed"
python3 - "$T/hdoc.json" "$T/o" "$T/plain0" <<'EOF2' || fail "the HLS document is not what was fetched"
import base64, json, os, sys
doc = json.load(open(sys.argv[1]))
caps = doc["captures"]
roles = [c["role"] for c in caps]
assert roles == ["playlist", "key", "segment", "segment"], roles
body = lambda c: base64.b64decode(c["body"])
assert body(caps[0]) == open(os.path.join(sys.argv[2], "live.m3u8"), "rb").read()
assert body(caps[1]) == open(os.path.join(sys.argv[2], "k.key"), "rb").read()
assert caps[2]["offset"] == 0 and "body" not in caps[2], caps[2]
# The second segment's bytes begin where the first's decrypted ones end.
first = os.path.getsize(sys.argv[3])
assert caps[3]["offset"] == first, (caps[3]["offset"], first)
for c in caps:
    [h] = c["hops"]
    assert base64.b64decode(h["response"]).startswith(b"HTTP/1.1 200 "), h
assert base64.b64decode(caps[3]["hops"][0]["request"]).startswith(b"GET /r/s1.aac HTTP/1.1\r\n")
print("hls:", roles, [c.get("offset") for c in caps])
EOF2
pass "HLS: playlist and key with their bytes, each segment with its request, response and offset"
# A variant found on a master playlist: the master's capture opens its record.
python3 - "$STORE/current/catalog.json" "$STORE/objects" "$T/o" <<'EOF2' || fail "the variant's record does not start with its master playlist"
import base64, gzip, json, os, struct, sys, zlib
c = json.load(open(sys.argv[1]))
master = open(os.path.join(sys.argv[3], "master.m3u8"), "rb").read()
def doc(hexd):
    raw = open(os.path.join(sys.argv[2], hexd), "rb").read()
    n = struct.unpack("<Q", raw[-16:-8])[0]
    meta = json.loads(raw[-16 - n:-16])
    body = raw[:-16 - n]
    return json.loads(zlib.decompress(body, 31) if meta.get("encoding") == "gzip" or meta.get("gzip") else body)
found = []
for i in c["items"]:
    if "provenance" not in i:
        continue
    caps = doc(i["provenance"]["sha256"])["captures"]
    if caps[0]["role"] == "playlist" and base64.b64decode(caps[0].get("body", "")) == master:
        found.append((i["name"], [x["role"] for x in caps]))
assert len(found) == 1, found
name, roles = found[0]
assert roles == ["playlist", "playlist", "key", "segment", "segment"], roles
print("ok: the variant %s found on a master playlist: its record holds %s" % (name, roles))
EOF2

# --- HTTPS, a private CA: the session and the chain shown -------------------
PORT=$(free_port)
mkdir "$T/www"
head -c 30000 /dev/urandom >"$T/www/tls.bin"
serve_https "$PORT" "$T/https.log" "$T/www" <<'PY'
import functools, http.server, sys
H = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[4])
PY
stop_server
server_config "[crawl]" "ca_file = $PEBBLE_CA" "[source tls]" "url = https://127.0.0.1:$PORT/tls.bin"
expect_exit 0 "$EMBERD" crawl -c "$CONF"
assert_summary tls "fetched tls\.bin \(30000 bytes"
openssl s_client -connect "127.0.0.1:$PORT" -showcerts </dev/null >"$T/s_client.txt" 2>/dev/null ||
	fail "openssl s_client failed"
chain=$(python3 -c 'import hashlib, re, ssl, sys
pems = re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", open(sys.argv[1]).read(), re.S)
assert pems, "no certificate"
print(hashlib.sha256(b"".join(ssl.PEM_cert_to_DER_cert(p) for p in pems)).hexdigest())' "$T/s_client.txt") ||
	fail "no chain in the s_client output"
read -r TDOC TLSV < <(python3 -c 'import json, sys
c = json.load(open(sys.argv[1]))
p = [i for i in c["items"] if i["name"] == "tls.bin"][0]["provenance"]
assert p["cert_sha256"] == sys.argv[2], (p, sys.argv[2])
assert p["tls"].startswith("TLSv1."), p
print(p["sha256"], p["tls"])' "$STORE/current/catalog.json" "$chain") ||
	fail "the summary has not the chain s_client saw ($chain)"
start_server
curl_http -o "$T/tdoc.json" "$HTTP_URL/sha256/$TDOC" || server_fail "GET /sha256/$TDOC failed"
python3 - "$T/tdoc.json" "$chain" "$PORT" "$T/s_client.txt" <<'EOF2' || fail "the HTTPS document is not right"
import base64, hashlib, json, re, ssl, sys
doc = json.load(open(sys.argv[1]))
[h] = doc["captures"][0]["hops"]
t = h["tls"]
assert h["uri"] == "https://127.0.0.1:%s/tls.bin" % sys.argv[3], h["uri"]
assert t["chain_sha256"] == sys.argv[2], t
pems = re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", open(sys.argv[4]).read(), re.S)
assert [base64.b64decode(c) for c in t["chain"]] == [ssl.PEM_cert_to_DER_cert(p) for p in pems]
assert t["version"].startswith("TLSv1.") and len(t["cipher"]) > 3, t
print("tls:", t["version"], t["cipher"], len(t["chain"]), "certificate(s)")
EOF2
curl_http -o "$T/index2.html" "$HTTP_URL/" || server_fail "GET / failed"
assert_grep "<bdi>$TLSV</bdi>, certificate SHA-256 <code dir=\"ltr\">${chain:0:16}&hellip;</code>" "$T/index2.html"
pass "https with [crawl] ca_file: $TLSV, the chain s_client shows ($chain), on the index page"

# --- HTTPS, an untrusted certificate taken with [source] tls_verify = no -----
stop_server
server_config "[source insecure]" "url = https://127.0.0.1:$PORT/tls.bin" "name = insecure.bin" \
	"tls_verify = no"
expect_exit 0 "$EMBERD" crawl -c "$CONF"
assert_summary insecure "fetched insecure\.bin \(30000 bytes"
python3 -c 'import json, sys
c = json.load(open(sys.argv[1]))
p = [i for i in c["items"] if i["name"] == "insecure.bin"][0]["provenance"]
assert p["cert_sha256"] == sys.argv[2], (p, sys.argv[2])' "$STORE/current/catalog.json" "$chain" ||
	fail "tls_verify = no: the chain shown is not recorded"
server_config "[source insecure]" "url = https://127.0.0.1:$PORT/tls.bin" "name = insecure.bin"
expect_exit 1 "$EMBERD" crawl -c "$CONF"
grep -qi 'certificate' "$T/err" || { cat "$T/err"; fail "no certificate error without tls_verify = no"; }
pass "[source] tls_verify = no takes the untrusted certificate and records its chain; without it, refused"

# --- rm --purge takes the document with the item -----------------------------
[ -n "$(find "$STORE/objects" -maxdepth 1 -name "$DOC*" | head -n 1)" ] || fail "no document before rm"
expect_exit 0 "$EMBERD" rm -c "$CONF" --purge prov.bin
[ -z "$(find "$STORE/objects" -maxdepth 1 -name "$DOC*" | head -n 1)" ] ||
	fail "rm --purge left the provenance document"
expect_exit 0 "$EMBERD" verify -c "$CONF"
pass "rm --purge removes the item's provenance document too; verify passes"

# --- source_urls = none: no record at all ------------------------------------
before=$(find "$STORE/objects" -maxdepth 1 -type f | wc -l)
server_config "source_urls = none" "[source hidden]" "url = $ORIGIN/f/hidden.bin?size=2000&seed=h"
expect_exit 0 "$EMBERD" crawl -c "$CONF"
assert_summary hidden "fetched hidden\.bin \(2000 bytes"
python3 -c 'import json, sys
c = json.load(open(sys.argv[1]))
i = [i for i in c["items"] if i["name"] == "hidden.bin"][0]
assert "provenance" not in i and "source" not in i, i
# Those made before under "origin" go too: they name their origins.
assert not [i for i in c["items"] if "provenance" in i], c["items"]' "$STORE/current/catalog.json" ||
	fail "source_urls = none: an item has a source or a provenance"
[ "$(find "$STORE/objects" -maxdepth 1 -type f | wc -l)" = $((before + 1)) ] ||
	fail "source_urls = none: more than the content was stored"
pass "source_urls = none: no provenance document, no summary, only the content stored; earlier items lose theirs"

# Downloads for readers: GET /files/NAME.meta4 (Metalink 4, RFC 5854) and
# GET /files/NAME.torrent (BitTorrent v1, BEP 19 web seeds), checked with
# python3 (xml.etree, a small bencode decoder, hashlib) and transmission-show,
# then used by real clients against local mirrors: aria2c with the metalink
# (two mirrors at once, one of them a relay that alters the bytes), aria2c
# and transmission-cli with the torrent's web seeds only (no peers, no DHT).
#
# The publisher's [mirror] url is a peer.py relay in front of its own plain
# listener (A, mode switched at runtime: good or altered) and its [mirror]
# mirror is the plain listener itself, so every metalink and torrent names
# two mirrors: A first, the publisher second. A follower without [mirror]
# url checks the URL built from the Host header and the listener's scheme.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
. "$(dirname "$0")/follow_lib.sh"
for tool in python3 aria2c transmission-show transmission-cli; do
	command -v "$tool" >/dev/null || fail "$tool is not installed"
done
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

# ------------------------------------------------------------------ helpers
# One python file with the checks: meta4, torrent, index (see usage below).
cat >"$T/dl.py" <<'PY'
import hashlib, html.parser, math, sys, xml.etree.ElementTree as ET

NS = "{urn:ietf:params:xml:ns:metalink}"

def die(msg):
    sys.exit("dl.py: " + msg)

def want_urls(sha, bases):
    return [b.rstrip("/") + "/sha256/" + sha for b in bases]

# meta4 FILE NAME SIZE SHA BASE...: the document is a Metalink 4 for one
# file, NAME, SIZE, its sha-256, one <url> per BASE in order.
def meta4(path, name, size, sha, *bases):
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        die("%s is not well-formed XML: %s" % (path, e))
    if root.tag != NS + "metalink":
        die("root element is %s, want metalink in RFC 5854's namespace" % root.tag)
    files = root.findall(NS + "file")
    if len(files) != 1:
        die("%d <file> elements, want 1" % len(files))
    f = files[0]
    if f.get("name") != name:
        die("file name=%r, want %r" % (f.get("name"), name))
    sizes = [e.text.strip() for e in f.findall(NS + "size")]
    if sizes != [size]:
        die("<size> %r, want %s" % (sizes, size))
    hashes = [(h.get("type"), (h.text or "").strip()) for h in f.findall(NS + "hash")]
    if [h for h in hashes if h[0] == "sha-256"] != [("sha-256", sha)]:
        die("<hash type=sha-256> %r, want %s" % (hashes, sha))
    urls = f.findall(NS + "url")
    got = [(u.text or "").strip() for u in urls]
    if got != want_urls(sha, bases):
        die("<url>s %r, want %r" % (got, want_urls(sha, bases)))
    prio = [int(u.get("priority", "0")) for u in urls]
    if not all(1 <= p <= 999999 for p in prio) or prio != sorted(prio):
        die("priorities %r: want 1..999999, in document order" % prio)

def bdecode(data):
    """The value and, for the top dict, the raw bytes of its 'info'."""
    raw = {}
    def dec(i, depth):
        c = data[i:i + 1]
        if c == b"i":
            j = data.index(b"e", i)
            return int(data[i + 1:j]), j + 1
        if c == b"l":
            i, out = i + 1, []
            while data[i:i + 1] != b"e":
                v, i = dec(i, depth + 1)
                out.append(v)
            return out, i + 1
        if c == b"d":
            i, out, last = i + 1, {}, None
            while data[i:i + 1] != b"e":
                k, i = dec(i, depth + 1)
                if not isinstance(k, bytes) or (last is not None and k <= last):
                    die("dictionary keys not sorted byte strings at %d" % i)
                last, start = k, i
                out[k], i = dec(i, depth + 1)
                if depth == 0 and k == b"info":
                    raw["info"] = data[start:i]
            return out, i + 1
        if c.isdigit():
            j = data.index(b":", i)
            n = int(data[i:j])
            if j + 1 + n > len(data):
                die("string runs past the end")
            return data[j + 1:j + 1 + n], j + 1 + n
        die("bad bencode at offset %d: %r" % (i, data[i:i + 10]))
    v, end = dec(0, 0)
    if end != len(data):
        die("%d bytes after the top value" % (len(data) - end))
    return v, raw

# torrent FILE NAME CONTENT BASE...: a v1 single-file torrent of CONTENT
# named NAME; its pieces are SHA-1 of each piece of CONTENT; url-list names
# one URL per BASE, in order. Prints "INFOHASH PIECE_LENGTH PIECES".
def torrent(path, name, content, *bases):
    t, raw = bdecode(open(path, "rb").read())
    if not isinstance(t, dict) or b"info" not in t:
        die("no info dict")
    info = t[b"info"]
    if set(info) != {b"length", b"name", b"piece length", b"pieces"}:
        die("info keys %r, want length, name, piece length, pieces" % sorted(info))
    body = open(content, "rb").read()
    sha = hashlib.sha256(body).hexdigest()
    if info[b"name"] != name.encode():
        die("name %r, want %r" % (info[b"name"], name))
    if info[b"length"] != len(body):
        die("length %d, want %d" % (info[b"length"], len(body)))
    pl = info[b"piece length"]
    if pl < 16384 or pl & (pl - 1):
        die("piece length %d is not a power of two >= 16 KiB" % pl)
    n = math.ceil(len(body) / pl)
    pieces = info[b"pieces"]
    if len(pieces) != 20 * n:
        die("%d bytes of pieces, want 20 * ceil(%d / %d) = %d" % (len(pieces), len(body), pl, 20 * n))
    for k in range(n):
        if pieces[20 * k:20 * k + 20] != hashlib.sha1(body[k * pl:(k + 1) * pl]).digest():
            die("piece %d is not the SHA-1 of bytes %d.. of the file" % (k, k * pl))
    ul = t.get(b"url-list")
    if isinstance(ul, bytes):
        ul = [ul]
    got = [u.decode() for u in (ul or [])]
    if got != want_urls(sha, bases):
        die("url-list %r, want %r" % (got, want_urls(sha, bases)))
    if b"announce" in t or b"announce-list" in t:
        die("a tracker is announced: %r" % t.get(b"announce"))
    print(hashlib.sha1(raw["info"]).hexdigest(), pl, n)

# index FILE: the links and texts of the "Other mirrors" section (from the
# element with id="mirrors" to the next heading), one "HREF<TAB>TEXT" line
# per <li>.
def index(path):
    class P(html.parser.HTMLParser):
        def __init__(self):
            super().__init__()
            self.on, self.li, self.out = False, None, []
        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if a.get("id") == "mirrors":
                self.on = True
                return
            if self.on and tag in ("h1", "h2", "h3", "section") and a.get("id") != "mirrors":
                self.on = False
            if self.on and tag == "li":
                self.li = ["", ""]
            if self.on and self.li is not None and tag == "a" and not self.li[0]:
                self.li[0] = a.get("href", "")
        def handle_endtag(self, tag):
            if self.on and tag == "li" and self.li is not None:
                self.out.append(self.li)
                self.li = None
        def handle_data(self, d):
            if self.on and self.li is not None:
                self.li[1] += d
    p = P()
    p.feed(open(path, encoding="utf-8").read())
    for href, text in p.out:
        print("%s\t%s" % (href, " ".join(text.split())))

{"meta4": meta4, "torrent": torrent, "index": index}[sys.argv[1]](*sys.argv[2:])
PY
dl() { python3 "$T/dl.py" "$@"; }
# wait_exists FILE SECONDS: bounded poll.
wait_exists() {
	local i
	for i in $(seq 1 $(($2 * 20))); do
		[ -e "$1" ] && return 0
		sleep 0.05
	done
	return 1
}
urlq() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }

# get URL OUT [curl args]: GET (headers in OUT.h), print the status.
get() {
	local url=$1 out=$2
	shift 2
	curl -sS --max-time 30 -D "$out.h" -o "$out" -w '%{http_code}' "$@" "$url" || echo " curl-failed"
}

# obj_gets FILE SHA: how many GETs of /sha256/SHA a log FILE holds (the
# server's or a peer's).
obj_gets() { grep -cE "GET /sha256/$2( |$)" "$1" || true; }

# direct_gets MARK: GETs of the big object the publisher answered since
# its log had MARK lines, minus those relayed by A (peer log reset at MARK).
direct_gets() {
	local s a
	s=$(tail -n +"$(($1 + 1))" "$SERVER_LOG" | grep -cE "GET /sha256/$BIG_SHA " || true)
	a=$(obj_gets "$T/a.log" "$BIG_SHA")
	echo $((s - a))
}

# wait_direct MARK: bounded wait until the publisher answered at least one
# GET of the object that did not come through A (its log line is written
# when the response ends).
wait_direct() {
	local i
	for i in $(seq 1 100); do
		[ "$(direct_gets "$1")" -ge 1 ] && return 0
		sleep 0.05
	done
	return 1
}

# ------------------------------------------------------------------ set-up
setup_publisher
mkdir "$T/in"
BIG_SIZE=6500000	# > 5 MB, not a multiple of the piece length
head -c "$BIG_SIZE" /dev/urandom >"$T/in/big.bin"
BIG_SHA=$(sha256_of "$T/in/big.bin")
printf 'Voice of April, line %d\n' $(seq 1 400) >"$T/in/notes.txt"
NOTES_SHA=$(sha256_of "$T/in/notes.txt")
ODD='Голос & <April> "live".txt'	# XML specials and UTF-8 in a name
printf 'odd name\n' >"$T/in/odd.txt"
ODD_SHA=$(sha256_of "$T/in/odd.txt")
printf '<?xml version="1.0"?><not-a-generated-metalink/>\n' >"$T/in/list.meta4"
head -c 3000 /dev/urandom >"$T/in/seed.torrent"

# A: the relay that is this mirror's [mirror] url.
peer_start a "$HTTP_URL"
A=${PEER_URL[a]}
# The other mirror is written without its trailing slash on purpose.
MLINES=("url = $A/" "mirror = $HTTP_URL")
server_config "${MLINES[@]}"
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/in/big.bin" "$T/in/notes.txt" \
	"$T/in/list.meta4" "$T/in/seed.torrent"
expect_exit 0 "$EMBERD" add -c "$CONF" --name "$ODD" "$T/in/odd.txt"
start_server "${MLINES[@]}"
python3 - "$STORE/current/catalog.json" "$A/" "$HTTP_URL/" <<'PY' || fail "catalog.json mirrors"
import json, sys
got = json.load(open(sys.argv[1])).get("mirrors")
assert got == sys.argv[2:], "mirrors %r, want %r" % (got, sys.argv[2:])
PY
pass "catalog.json lists the mirrors: [mirror] url first, then [mirror] mirror (with its /)"

# ------------------------------------------------------------------ metalink
mkdir "$T/dl"
for base in "$HTTPS_URL" "$HTTP_URL"; do
	for item in "big.bin $BIG_SIZE $BIG_SHA" "notes.txt $(stat -c %s "$T/in/notes.txt") $NOTES_SHA"; do
		read -r name size sha <<<"$item"
		st=$(get "$base/files/$name.meta4" "$T/dl/m" --cacert "$STORE/tls/cert.pem")
		[ "$st" = 200 ] || fail "GET $base/files/$name.meta4: status $st"
		[ "$(header Content-Type "$T/dl/m.h")" = application/metalink4+xml ] ||
			fail "$name.meta4 Content-Type: $(header Content-Type "$T/dl/m.h")"
		dl meta4 "$T/dl/m" "$name" "$size" "$sha" "$A" "$HTTP_URL" || fail "$base/files/$name.meta4"
	done
done
st=$(get "$HTTP_URL/files/$(urlq "$ODD").meta4" "$T/dl/m")
[ "$st" = 200 ] || fail "GET the odd name's .meta4: status $st"
dl meta4 "$T/dl/m" "$ODD" 9 "$ODD_SHA" "$A" "$HTTP_URL" || fail "the odd name's .meta4"
pass "GET /files/NAME.meta4 (https, http): well-formed Metalink 4, name (escaped), size, sha-256, url first then mirror"

# HEAD: the GET's headers, no body.
for ext in meta4 torrent; do
	[ "$(get "$HTTP_URL/files/big.bin.$ext" "$T/dl/g")" = 200 ] || fail "GET big.bin.$ext"
	st=$(curl -sS --max-time 30 -I -D "$T/dl/h.h" -o "$T/dl/h" -w '%{http_code}' "$HTTP_URL/files/big.bin.$ext")
	[ "$st" = 200 ] || fail "HEAD big.bin.$ext: status $st"
	[ "$(header Content-Type "$T/dl/h.h")" = "$(header Content-Type "$T/dl/g.h")" ] ||
		fail "HEAD big.bin.$ext Content-Type differs from GET's"
	[ "$(header Content-Length "$T/dl/h.h")" = "$(stat -c %s "$T/dl/g")" ] ||
		fail "HEAD big.bin.$ext Content-Length $(header Content-Length "$T/dl/h.h"), GET body $(stat -c %s "$T/dl/g")"
	# Raw: nothing may follow the header block (the connection is closed).
	python3 - "$HTTP_PORT" "/files/big.bin.$ext" <<'PY' || fail "HEAD big.bin.$ext sent a body"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"HEAD %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % sys.argv[2].encode())
data = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
head, sep, rest = data.partition(b"\r\n\r\n")
assert head.startswith(b"HTTP/1.1 200") and sep and rest == b"", data[:300]
PY
done
pass "HEAD /files/NAME.meta4 and .torrent: 200, GET's type and length, no body"

# Unknown names, and items whose own names end in .meta4 / .torrent.
for p in nope.meta4 nope.torrent .meta4 .torrent big.bin.meta4.meta4 big.bin.torrent.torrent \
	big.meta4 notes.txt.meta4x; do
	st=$(get "$HTTP_URL/files/$p" "$T/dl/x")
	[ "$st" = 404 ] || fail "GET /files/$p: status $st, want 404"
done
[ "$(get "$HTTP_URL/files/list.meta4" "$T/dl/l")" = 200 ] || fail "GET /files/list.meta4"
cmp -s "$T/dl/l" "$T/in/list.meta4" || fail "/files/list.meta4 is not the item list.meta4 itself"
[ "$(get "$HTTP_URL/files/seed.torrent" "$T/dl/l")" = 200 ] || fail "GET /files/seed.torrent"
cmp -s "$T/dl/l" "$T/in/seed.torrent" || fail "/files/seed.torrent is not the item seed.torrent itself"
[ "$(get "$HTTP_URL/files/list.meta4.meta4" "$T/dl/l")" = 200 ] || fail "GET /files/list.meta4.meta4"
dl meta4 "$T/dl/l" list.meta4 "$(stat -c %s "$T/in/list.meta4")" "$(sha256_of "$T/in/list.meta4")" \
	"$A" "$HTTP_URL" || fail "/files/list.meta4.meta4"
[ "$(get "$HTTP_URL/files/seed.torrent.torrent" "$T/dl/l")" = 200 ] || fail "GET /files/seed.torrent.torrent"
dl torrent "$T/dl/l" seed.torrent "$T/in/seed.torrent" "$A" "$HTTP_URL" >/dev/null ||
	fail "/files/seed.torrent.torrent"
pass "unknown NAME.meta4/.torrent 404; items named *.meta4/*.torrent served as themselves (and get their own)"

# ------------------------------------------------------------------ index
[ "$(get "$HTTP_URL/" "$T/dl/index.html")" = 200 ] || fail "GET /"
dl index "$T/dl/index.html" >"$T/mirrors.tsv" || fail "index page"
grep -q "^$HTTP_URL/	" "$T/mirrors.tsv" ||
	{ cat "$T/mirrors.tsv"; fail "the index's Other mirrors does not list $HTTP_URL/"; }
# This mirror's own url is no "other" mirror: absent, or marked as this one.
if grep -q "^$A/	" "$T/mirrors.tsv"; then
	grep -q "^$A/	.*this mirror" "$T/mirrors.tsv" ||
		{ cat "$T/mirrors.tsv"; fail "the index lists its own url $A/ as another mirror"; }
fi
grep -q 'Other mirrors' "$T/dl/index.html" || fail "no 'Other mirrors' heading on the index"
pass "index page: Other mirrors lists [mirror] mirror, not this mirror's url as another"

# ------------------------------------------------------------------ torrent
for base in "$HTTPS_URL" "$HTTP_URL"; do
	st=$(get "$base/files/big.bin.torrent" "$T/dl/big.torrent" --cacert "$STORE/tls/cert.pem")
	[ "$st" = 200 ] || fail "GET $base/files/big.bin.torrent: status $st"
	[ "$(header Content-Type "$T/dl/big.torrent.h")" = application/x-bittorrent ] ||
		fail "big.bin.torrent Content-Type: $(header Content-Type "$T/dl/big.torrent.h")"
	read -r INFOHASH PL NP < <(dl torrent "$T/dl/big.torrent" big.bin "$T/in/big.bin" "$A" "$HTTP_URL") ||
		fail "$base/files/big.bin.torrent"
	[ -n "$NP" ] || fail "$base/files/big.bin.torrent"
done
cp "$T/dl/big.torrent" "$T/big.torrent"
[ "$NP" = $(((BIG_SIZE + PL - 1) / PL)) ] || fail "piece count $NP"
expect_exit 0 transmission-show "$T/big.torrent"
assert_grep "^ *Name: big\.bin$" "$T/out"
assert_grep "^ *Hash: $INFOHASH$" "$T/out"
assert_grep "^ *Piece Count: $NP$" "$T/out"
assert_grep "^ *Total Size: 6\.50 MB$" "$T/out"
for u in "$A/sha256/$BIG_SHA" "$HTTP_URL/sha256/$BIG_SHA"; do
	assert_grep "^ *$u$" "$T/out"
done
sed -n '/^WEBSEEDS/,/^FILES/p' "$T/out" | grep -q "$HTTP_URL/sha256/$BIG_SHA" || fail "webseeds section"
st=$(get "$HTTP_URL/files/$(urlq "$ODD").torrent" "$T/dl/odd.torrent")
[ "$st" = 200 ] || fail "GET the odd name's .torrent: status $st"
dl torrent "$T/dl/odd.torrent" "$ODD" "$T/in/odd.txt" "$A" "$HTTP_URL" >/dev/null || fail "the odd name's .torrent"
expect_exit 0 transmission-show "$T/dl/odd.torrent"
assert_grep "^ *Name: $ODD$" "$T/out"
pass "GET /files/NAME.torrent: v1 info {length,name,piece length,pieces}, $NP pieces of $PL = SHA-1 of the file, url-list = metalink's; transmission-show agrees (hash $INFOHASH)"

# ------------------------------------------------------------------ follower
# Without [mirror] url the first URL is built from the Host header and the
# listener's scheme; the catalog's mirrors follow. Its torrent has the same
# info hash (same content, same pieces).
FS_PORT=$(free_port)
follower_config f "[follow]" "pubkey = $PUBKEY" "peer = $HTTP_URL" "interval = 1h" \
	"[https]" "listen = 127.0.0.1:$FS_PORT"
follower_crawl f 0
follower_start f
F=$(furl f)
FS="https://127.0.0.1:$FS_PORT"
[ "$(get "$F/files/big.bin.meta4" "$T/dl/fm")" = 200 ] || fail "follower: GET big.bin.meta4"
dl meta4 "$T/dl/fm" big.bin "$BIG_SIZE" "$BIG_SHA" "$F" "$A" "$HTTP_URL" || fail "follower's big.bin.meta4 (plain)"
[ "$(get "$F/files/big.bin.meta4" "$T/dl/fm" -H 'Host: mirror.example:8080')" = 200 ] ||
	fail "follower: GET big.bin.meta4 with Host: mirror.example:8080"
dl meta4 "$T/dl/fm" big.bin "$BIG_SIZE" "$BIG_SHA" http://mirror.example:8080 "$A" "$HTTP_URL" ||
	fail "follower's big.bin.meta4 with Host: mirror.example:8080"
st=$(get "$FS/files/big.bin.meta4" "$T/dl/fm" --cacert "$(fstore f)/tls/cert.pem")
[ "$st" = 200 ] || fail "follower: GET $FS/files/big.bin.meta4: $st"
dl meta4 "$T/dl/fm" big.bin "$BIG_SIZE" "$BIG_SHA" "$FS" "$A" "$HTTP_URL" || fail "follower's big.bin.meta4 (https)"
# A hostile Host header never breaks the document.
st=$(get "$F/files/big.bin.meta4" "$T/dl/fm" -H 'Host: a"<b>&c')
if [ "$st" = 200 ]; then
	python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' "$T/dl/fm" ||
		fail "a Host header with XML specials made the metalink ill-formed"
	grep -q '<b>' "$T/dl/fm" && fail "a Host header was copied into the metalink unescaped"
	grep -q "<url[^>]*>$HTTP_URL/sha256/$BIG_SHA</url>" "$T/dl/fm" ||
		fail "with a hostile Host header the catalog's mirrors are missing"
else
	[ "$st" = 400 ] || fail "a Host header with XML specials: status $st (want 200 well-formed or 400)"
fi
[ "$(get "$F/files/big.bin.torrent" "$T/dl/ft")" = 200 ] || fail "follower: GET big.bin.torrent"
read -r fhash _ _ < <(dl torrent "$T/dl/ft" big.bin "$T/in/big.bin" "$F" "$A" "$HTTP_URL") ||
	fail "follower's big.bin.torrent"
[ "$fhash" = "$INFOHASH" ] || fail "follower's info hash $fhash differs from the publisher's $INFOHASH"
[ "$(get "$F/" "$T/dl/findex.html")" = 200 ] || fail "follower: GET /"
dl index "$T/dl/findex.html" >"$T/fmirrors.tsv"
grep -q "^$A/	" "$T/fmirrors.tsv" && grep -q "^$HTTP_URL/	" "$T/fmirrors.tsv" ||
	{ cat "$T/fmirrors.tsv"; fail "the follower's index does not list both catalog mirrors"; }
follower_stop f	# its log and requests stay out of what follows
pass "no [mirror] url: first URL from Host and scheme (http, https, Host: mirror.example:8080), hostile Host harmless; same info hash"

# ------------------------------------------------------------------ aria2c, metalink
ARIA=(aria2c --no-conf --console-log-level=warn --summary-interval=0 --file-allocation=none
	--auto-file-renaming=false --allow-overwrite=true --max-tries=3 --retry-wait=0
	--connect-timeout=10 --timeout=30)
[ "$(get "$HTTP_URL/files/big.bin.meta4" "$T/big.meta4")" = 200 ] || fail "GET big.bin.meta4"

# aria2c_meta4 DIR: aria2c with the served metalink, 4 connections over both
# mirrors; output in $T/aria.out, exit status in ARIA_RC.
aria2c_meta4() {
	mkdir -p "$1"
	ARIA_RC=0
	timeout 120 "${ARIA[@]}" -d "$1" --split=4 --min-split-size=1M -x4 \
		-M "$T/big.meta4" >"$T/aria.out" 2>&1 || ARIA_RC=$?
}

peer_mode a good
peer_reset a
mark=$(wc -l <"$SERVER_LOG")
aria2c_meta4 "$T/ar1"
[ "$ARIA_RC" = 0 ] || { cat "$T/aria.out"; fail "aria2c -M big.bin.meta4: exit $ARIA_RC"; }
[ "$(sha256_of "$T/ar1/big.bin")" = "$BIG_SHA" ] || fail "aria2c (metalink): wrong bytes"
na=$(grep -cE "^GET /sha256/$BIG_SHA bytes=[0-9]+-[0-9]* 206$" "$T/a.log" || true)
[ "$na" -ge 1 ] || { cat "$T/a.log"; fail "aria2c (metalink) asked mirror A for no range"; }
wait_direct "$mark" || fail "aria2c (metalink) sent nothing to the publisher directly"
pass "aria2c -M: two mirrors at once ($na ranges from A, $(direct_gets "$mark") direct), right bytes"

# Mirror A alters the bytes it relays. A metalink carrying only the whole
# file's sha-256 lets aria2c find out only at the end; with <pieces> it can
# reject the bad chunks and take them from the other mirror.
peer_mode a altered
peer_reset a
aria2c_meta4 "$T/ar2"
na=$(grep -cE "^GET /sha256/$BIG_SHA [^ ]+ 20[06]$" "$T/a.log" || true)
[ "$na" -ge 1 ] || { cat "$T/a.log"; fail "aria2c (metalink) took nothing from the altering mirror A"; }
if grep -q '<pieces' "$T/big.meta4"; then
	[ "$ARIA_RC" = 0 ] || { cat "$T/aria.out"; fail "aria2c -M with an altering mirror: exit $ARIA_RC"; }
	[ "$(sha256_of "$T/ar2/big.bin")" = "$BIG_SHA" ] || fail "aria2c (metalink, altering mirror): wrong bytes"
	pass "aria2c -M, mirror A altering bytes: bad chunks rejected by <pieces>, right bytes"
else
	# Honest: the corruption is caught by the sha-256, never accepted.
	[ "$ARIA_RC" != 0 ] || {
		[ "$(sha256_of "$T/ar2/big.bin")" = "$BIG_SHA" ] ||
			fail "aria2c -M accepted altered bytes (exit 0, wrong sha256)"
		fail "aria2c -M succeeded although A altered what it sent ($na answers)"
	}
	assert_grep 'Checksum error detected' "$T/aria.out"
	echo "note: the metalink has no <pieces>: aria2c detects mirror A's altered bytes (exit $ARIA_RC, checksum error) but cannot recover"
	pass "aria2c -M, mirror A altering bytes: the sha-256 check fails the download (exit $ARIA_RC), nothing accepted"
fi

# ------------------------------------------------------------------ aria2c, torrent (web seeds only)
# aria2c_torrent DIR: web seeds of $T/big.torrent only, no DHT/LPD/PEX, no
# seeding; log in DIR.log.
aria2c_torrent() {
	mkdir -p "$1"
	ARIA_RC=0
	timeout 120 "${ARIA[@]}" -d "$1" -l "$1.log" --log-level=info \
		--enable-dht=false --enable-dht6=false --bt-enable-lpd=false --enable-peer-exchange=false \
		--seed-time=0 --check-integrity=true --split=4 --min-split-size=1M -x4 \
		--listen-port="$(free_port)" "$T/big.torrent" >"$T/aria.out" 2>&1 || ARIA_RC=$?
}

peer_mode a good
peer_reset a
mark=$(wc -l <"$SERVER_LOG")
aria2c_torrent "$T/bt1"
[ "$ARIA_RC" = 0 ] || { cat "$T/aria.out"; fail "aria2c big.torrent: exit $ARIA_RC"; }
[ "$(sha256_of "$T/bt1/big.bin")" = "$BIG_SHA" ] || fail "aria2c (torrent): wrong bytes"
na=$(obj_gets "$T/a.log" "$BIG_SHA")
[ "$na" -ge 1 ] || fail "aria2c (torrent) used web seed A not at all"
wait_direct "$mark" || fail "aria2c (torrent) used the publisher's web seed not at all"
grep -q 'Chunk checksum validation failed' "$T/bt1.log" && fail "aria2c (torrent) saw bad pieces from good seeds"
pass "aria2c, torrent web seeds only: both seeds used ($na from A, $(direct_gets "$mark") direct), right bytes"

peer_mode a altered
peer_reset a
aria2c_torrent "$T/bt2"
[ "$ARIA_RC" = 0 ] || { cat "$T/aria.out"; fail "aria2c big.torrent with seed A altering: exit $ARIA_RC"; }
[ "$(sha256_of "$T/bt2/big.bin")" = "$BIG_SHA" ] || fail "aria2c (torrent, seed A altering): wrong bytes"
nbad=$(grep -c 'Chunk checksum validation failed' "$T/bt2.log" || true)
[ "$nbad" -ge 1 ] || { cat "$T/a.log"; fail "aria2c rejected no piece although seed A altered its answers"; }
pass "aria2c, torrent with web seed A altering bytes: $nbad bad pieces rejected, right bytes"

# ------------------------------------------------------------------ transmission-cli (web seeds only)
# tr_start NAME: transmission-cli on $T/big.torrent, config and download dir
# in $T/NAME, a finish script that touches $T/NAME/done; sets TR_PID.
tr_start() {
	local d="$T/$1"
	mkdir -p "$d/cfg" "$d/dl"
	cat >"$d/cfg/settings.json" <<JSON
{"dht-enabled": false, "lpd-enabled": false, "pex-enabled": false, "utp-enabled": false,
 "port-forwarding-enabled": false, "rpc-enabled": false, "peer-port": $(free_port),
 "message-level": 2}
JSON
	printf '#!/bin/sh\n: >"%s/done"\n' "$d" >"$d/finish.sh"
	chmod +x "$d/finish.sh"
	transmission-cli -g "$d/cfg" -w "$d/dl" -f "$d/finish.sh" "$T/big.torrent" \
		</dev/null >"$d/out" 2>&1 &
	TR_PID=$!
	bg "$TR_PID"
}
tr_stop() {
	kill "$TR_PID" 2>/dev/null || true
	wait "$TR_PID" 2>/dev/null || true
}

peer_mode a good
peer_reset a
mark=$(wc -l <"$SERVER_LOG")
tr_start tr1
wait_exists "$T/tr1/done" 60 ||
	{ tr_stop; tail -c 2000 "$T/tr1/out"; fail "transmission-cli did not finish from the web seeds within 60 s"; }
tr_stop
[ "$(sha256_of "$T/tr1/dl/big.bin")" = "$BIG_SHA" ] || fail "transmission-cli: wrong bytes"
na=$(obj_gets "$T/a.log" "$BIG_SHA")
[ "$na" -ge 1 ] || fail "transmission-cli used web seed A not at all"
wait_direct "$mark" || fail "transmission-cli used the publisher's web seed not at all"
pass "transmission-cli, web seeds only: finished, both seeds used ($na from A, $(direct_gets "$mark") direct), right bytes"

# With seed A altering, transmission-cli 3.00 rejects each bad piece but
# keeps asking A (it does not finish in a bounded time): the honest part is
# that no altered piece is ever accepted.
peer_mode a altered
peer_reset a
tr_start tr2
wait_for_file_line "$T/tr2/out" 'failed its checksum test' 60 ||
	{ tr_stop; tail -c 2000 "$T/tr2/out"; fail "transmission-cli reported no bad piece from the altering seed A"; }
tr_stop
if [ -e "$T/tr2/done" ]; then
	[ "$(sha256_of "$T/tr2/dl/big.bin")" = "$BIG_SHA" ] || fail "transmission-cli finished with altered bytes"
	pass "transmission-cli, web seed A altering bytes: bad pieces rejected, finished with the right bytes"
else
	[ ! -e "$T/tr2/dl/big.bin" ] || fail "transmission-cli left a complete-looking big.bin without finishing"
	pass "transmission-cli, web seed A altering bytes: bad pieces rejected ($(grep -c 'failed its checksum test' "$T/tr2/out") seen), never completed with them"
fi

stop_server
pass "the publisher stops cleanly"

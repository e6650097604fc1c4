# emberd run: the index page as a real browser (Debian's headless chromium)
# sees it. It renders (screenshot), its DOM has a <video>/<audio> player
# per media item pointing at files/<name>, a hostile item name stays text,
# the publisher key and the minisign instructions are there, loading the
# page asks for no media (preload="none"), and the media answer Range;
# and the page came over HTTP/2.
#   EMBERD=build/emberd bash tests/integration/index_chromium.sh
# A copy of the screenshot goes to ${EMBERD_ARTIFACTS:-$T}/index.png.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
command -v chromium >/dev/null ||
	fail "chromium is not installed (apt-get install chromium)"
setup_publisher

# Chromium leaves helper processes (zygote, renderer, GPU) behind when it
# is killed: at exit, kill by id whatever still runs with one of our
# profiles, then server_lib's clean-up.
chrome_leftovers() {
	local p
	for p in $(pgrep -f -- "--user-data-dir=$T/chrome-profile" 2>/dev/null || true); do
		kill -9 "$p" 2>/dev/null || true
	done
}
trap 'chrome_leftovers; server_cleanup' EXIT

# chrome ARGS... URL: one headless chromium run with a fresh profile,
# bounded to 60 s (timeout signals chromium's whole process group); its
# stderr goes to $T/chromium.err.
chrome() {
	local udd rc=0
	udd=$(mktemp -d "$T/chrome-profile.XXXXXX")
	timeout -k 5 60 chromium --headless --no-sandbox --disable-gpu \
		--disable-quic --no-first-run --disable-background-networking \
		--disable-component-update --disable-sync \
		--user-data-dir="$udd" --ignore-certificate-errors \
		--window-size=1200,1600 "$@" 2>>"$T/chromium.err" || rc=$?
	chrome_leftovers
	[ "$rc" = 0 ] || { tail -n 20 "$T/chromium.err"; echo "chromium exited with status $rc: $*"; }
	return "$rc"
}

# log_since N: the server log from line N+1 on, into $T/log.part.
log_lines() { wc -l <"$SERVER_LOG"; }
log_since() { tail -n +"$(($1 + 1))" "$SERVER_LOG" >"$T/log.part"; }

# --- content: a WAV tone, a video, and an item with a hostile name
mkdir "$T/in"
python3 - "$T/in/tone.wav" <<'PY'
import math, struct, sys, wave
rate = 8000
with wave.open(sys.argv[1], "wb") as w:
    w.setnchannels(1)
    w.setsampwidth(2)
    w.setframerate(rate)
    w.writeframes(b"".join(struct.pack("<h", int(12000 * math.sin(2 * math.pi * 440 * i / rate)))
                           for i in range(rate)))
PY
VIDEO_KIND="random bytes (not decodable)"
if command -v ffmpeg >/dev/null &&
	ffmpeg -nostdin -loglevel error -f lavfi -i testsrc=duration=2:size=320x240:rate=10 \
		-pix_fmt yuv420p -movflags +faststart "$T/in/clip.mp4" 2>/dev/null &&
	[ -s "$T/in/clip.mp4" ]; then
	VIDEO_KIND="ffmpeg test pattern"
else
	head -c 300000 /dev/urandom >"$T/in/clip.mp4"
fi
CLIP_SIZE=$(stat -c %s "$T/in/clip.mp4")
printf 'hostile name probe\n' >"$T/in/xss.bin"
expect_exit 0 "$EMBERD" add -c "$CONF" --type audio/wav "$T/in/tone.wav"
expect_exit 0 "$EMBERD" add -c "$CONF" --type video/mp4 "$T/in/clip.mp4"
# '<script>alert(1)</script>".txt' itself cannot be an item name: add
# refuses '/' in names. The same attack without the slash still opens a
# <script> element if the page does not escape it.
expect_exit 2 "$EMBERD" add -c "$CONF" --name '<script>alert(1)</script>".txt' "$T/in/xss.bin"
assert_grep "contains '/'" "$T/err"
XSS='<script>alert(1)<script>".txt'
expect_exit 0 "$EMBERD" add -c "$CONF" --name "$XSS" "$T/in/xss.bin"
pass "media ($VIDEO_KIND, $CLIP_SIZE bytes video; WAV tone) and a hostile name added"

start_server
URL="$HTTPS_URL/"

# --- a. screenshot
n0=$(log_lines)
chrome --hide-scrollbars --screenshot="$T/index.png" "$URL" >/dev/null ||
	server_fail "chromium --screenshot failed"
[ -f "$T/index.png" ] || fail "chromium wrote no screenshot"
png_size=$(stat -c %s "$T/index.png")
[ "$png_size" -gt 10240 ] || fail "screenshot is only $png_size bytes (want > 10 KB)"
[ "$(head -c 8 "$T/index.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
	fail "index.png does not start with the PNG signature"
ART=${EMBERD_ARTIFACTS:-$T}
mkdir -p "$ART"
[ "$ART/index.png" -ef "$T/index.png" ] || cp "$T/index.png" "$ART/index.png"
log_since "$n0"
assert_grep '^[0-9TZ:-]* *emberd: GET / 200 ' "$T/log.part"
pass "screenshot: PNG of $png_size bytes (copy in $ART/index.png)"

# --- b. the DOM as chromium built it
# Its net log says which protocol the page came over: HTTP/2 (ALPN h2).
chrome --log-net-log="$T/net.json" --dump-dom "$URL" >"$T/dom.html" ||
	server_fail "chromium --dump-dom failed"
[ -s "$T/dom.html" ] || fail "chromium dumped an empty DOM"
grep -q '"negotiated_protocol":"h2"' "$T/net.json" ||
	fail "chromium did not load the page over HTTP/2: $(grep -o '"negotiated_protocol":"[^"]*"' "$T/net.json" | sort -u)"
pass "chromium loaded the page over HTTP/2 (ALPN h2, from its net log)"
grep -qE '<video[^>]* src="([^"]*/)?files/clip\.mp4"' "$T/dom.html" ||
	{ grep -iE '<video|<audio' "$T/dom.html"; fail "no <video> whose src ends in files/clip.mp4"; }
grep -qE '<audio[^>]* src="([^"]*/)?files/tone\.wav"' "$T/dom.html" ||
	{ grep -iE '<video|<audio' "$T/dom.html"; fail "no <audio> whose src ends in files/tone.wav"; }
grep -qF '&lt;script&gt;alert(1)&lt;script&gt;' "$T/dom.html" ||
	fail "the hostile name is not in the DOM as escaped text"
if grep -qiF '<script' "$T/dom.html"; then
	grep -inF '<script' "$T/dom.html"
	fail "the DOM has a <script> element (the page itself has none: the hostile name made it)"
fi
grep -qF "$PUBKEY" "$T/dom.html" || fail "the publisher key $PUBKEY is not in the DOM"
grep -qF minisign "$T/dom.html" || fail "the word minisign is not in the DOM"
# Parsed, not grepped: the hostile item's link text is exactly its name,
# its href decodes to files/<name>, and no element of the page is a script.
python3 - "$T/dom.html" "$XSS" <<'PY' || fail "DOM structure check failed"
import sys
from html.parser import HTMLParser
from urllib.parse import unquote
dom, name = open(sys.argv[1], encoding="utf-8").read(), sys.argv[2]
class P(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.h3_links, self.in_h3_a = [], [], None
        self.h3 = False
    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        a = dict(attrs)
        if tag == "h3":
            self.h3 = True
        elif tag == "a" and self.h3:
            self.in_h3_a = [a.get("href", ""), ""]
    def handle_endtag(self, tag):
        if tag == "a" and self.in_h3_a is not None:
            self.h3_links.append(tuple(self.in_h3_a))
            self.in_h3_a = None
        elif tag == "h3":
            self.h3 = False
    def handle_data(self, d):
        if self.in_h3_a is not None:
            self.in_h3_a[1] += d
p = P()
p.feed(dom)
assert "script" not in p.tags, "a script element in the DOM"
hits = [l for l in p.h3_links if l[1] == name]
assert len(hits) == 1, ("hostile item's link text not found exactly once", p.h3_links)
href = hits[0][0]
assert href.startswith("files/") and unquote(href[len("files/"):]) == name, href
assert "<" not in href and '"' not in href, href
PY
VIDEO_SRC=$(python3 - "$T/dom.html" <<'PY'
import sys
from html.parser import HTMLParser
class P(HTMLParser):
    src = None
    def handle_starttag(self, tag, attrs):
        if tag == "video" and self.src is None:
            self.src = dict(attrs).get("src")
p = P()
p.feed(open(sys.argv[1], encoding="utf-8").read())
print(p.src or "")
PY
)
pass "DOM: <video src=$VIDEO_SRC>, <audio> for the WAV, hostile name escaped and inert, key and minisign shown"

# --- c. a page view asks for no media (preload="none": slow links); the
# players still point at the files, which answer Range (d.). With
# preload="metadata" this same load made chromium ask for both files.
n0=$(log_lines)
chrome --virtual-time-budget=5000 --dump-dom "$URL" >"$T/dom2.html" ||
	server_fail "chromium --dump-dom --virtual-time-budget failed"
grep -qE '<video[^>]* preload="none"' "$T/dom2.html" || fail "the <video> does not say preload=\"none\""
log_since "$n0"
# The page view itself was logged before it was answered: the log counts.
assert_grep '^[0-9TZ:-]* *emberd: GET / 200 ' "$T/log.part"
if grep -qE '^[0-9TZ:-]* *emberd: GET /files/' "$T/log.part"; then
	grep -E 'emberd: GET /files/' "$T/log.part"
	fail "loading the page made media requests (want none before play)"
fi
pass "chromium loaded the page (GET / logged) and asked for no media"

# --- d. the video's src, resolved against /, by curl with a Range
case $VIDEO_SRC in
http://* | https://*) VIDEO_URL=$VIDEO_SRC ;;
/*) VIDEO_URL=$HTTPS_URL$VIDEO_SRC ;;
*) VIDEO_URL=$URL$VIDEO_SRC ;;
esac
code=$(curl_https -o "$T/part" -D "$T/hdr" -w '%{http_code}' -H 'Range: bytes=0-99' "$VIDEO_URL") ||
	server_fail "curl $VIDEO_URL failed"
[ "$code" = 206 ] || { cat "$T/hdr"; fail "Range bytes=0-99 on $VIDEO_URL: status $code (want 206)"; }
cr=$(header Content-Range "$T/hdr")
[ "$cr" = "bytes 0-99/$CLIP_SIZE" ] || { cat "$T/hdr"; fail "Content-Range '$cr' (want 'bytes 0-99/$CLIP_SIZE')"; }
[ "$(stat -c %s "$T/part")" = 100 ] || fail "206 body is $(stat -c %s "$T/part") bytes (want 100)"
head -c 100 "$T/in/clip.mp4" | cmp -s - "$T/part" || fail "206 body is not the first 100 bytes of clip.mp4"
pass "curl $VIDEO_URL with Range: bytes=0-99: 206, $cr, the right 100 bytes"

server_alive
stop_server
pass "index page in chromium"

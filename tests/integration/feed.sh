# emberd run: /feed.xml as feed readers and podcast apps read it. Debian's
# python3-feedparser parses it (no "bozo" error) and every field is
# checked: channel title, link and description, one entry per catalog
# item, newest first, title, guid = the object id, pubDate, the enclosure
# on this mirror with its length and type; the podcast namespace's
# alternateEnclosure with a source on every mirror and the integrity value
# (ElementTree, since feedparser keeps only some podcast:* tags). Each
# enclosure downloads with curl to the bytes it names; gzip and HEAD give
# the same document; without [mirror] url the enclosures point at the
# address the client used.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
setup_publisher
python3 -c 'import feedparser' 2>/dev/null ||
	fail "python3-feedparser is not installed (apt-get install python3-feedparser)"

mkdir "$T/in"
head -c 30000 /dev/urandom >"$T/in/clip.mp4"
head -c 20000 /dev/urandom >"$T/in/song.mp3"
printf 'Statement of the April committee.\n' >"$T/in/statement.txt"
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/in/clip.mp4" "$T/in/statement.txt"
expect_exit 0 "$EMBERD" add -c "$CONF" --name '四月之声 <live> & "more".mp4' "$T/in/clip.mp4"
# The newest item must come first: add the last one in a later second
# than the others (the catalog's times have whole seconds).
t0=$(date +%s)
for _ in $(seq 1 300); do [ "$(date +%s)" != "$t0" ] && break; sleep 0.01; done
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/in/song.mp3"

MIRROR_B="https://mirror-b.example/archive/"
set -- "url = https://127.0.0.1:$HTTPS_PORT/" "mirror = $MIRROR_B" \
	"description = Songs & statements of April"
# The catalog names the other mirror once it is re-signed with it.
server_config "$@"
expect_exit 0 "$EMBERD" publish -c "$CONF"
grep -q "$MIRROR_B" "$STORE/current/catalog.json" || fail "publish did not add $MIRROR_B to the catalog"
start_server "$@"

curl_https -sS -D "$T/feed.h" -o "$T/feed.xml" "$HTTPS_URL/feed.xml" || server_fail "GET /feed.xml failed"
assert_grep '^HTTP/1.1 200' "$T/feed.h"
assert_grep '^Content-Type: application/rss\+xml; charset=utf-8' "$T/feed.h"
curl_https -sS --compressed -D "$T/feedgz.h" -o "$T/feed.gz.xml" "$HTTPS_URL/feed.xml" || server_fail "gzip GET failed"
assert_grep '^Content-Encoding: gzip' "$T/feedgz.h"
cmp -s "$T/feed.xml" "$T/feed.gz.xml" || fail "the gzip feed differs from the identity one"
curl_https -sS -I -o "$T/head.h" "$HTTPS_URL/feed.xml" || server_fail "HEAD failed"
assert_grep "^Content-Length: $(stat -c %s "$T/feed.xml")" "$T/head.h"
echo "ok: /feed.xml: application/rss+xml, gzip gives the same bytes, HEAD its length"

# check_feed FEED BASE: every field, against the catalog and the files.
check_feed() {
	python3 - "$1" "$2" "$MIRROR_B" "$STORE/current/catalog.json" "$T/in" <<'PY' || fail "feed check FAILED"
import base64, calendar, feedparser, feedparser.datetimes, json, sys, urllib.parse
import xml.etree.ElementTree as ET
path, base, mirror_b, catalog, indir = sys.argv[1:6]
cat = json.load(open(catalog))
f = feedparser.parse(open(path, "rb").read())
def die(msg):
    print("feed:", msg, file=sys.stderr); sys.exit(1)
if f.bozo:
    die("feedparser: %r" % f.bozo_exception)
if f.version != "rss20":
    die("version %r" % f.version)
if f.feed.title != cat["name"] or f.feed.get("description") != cat.get("description", cat["name"]):
    die("channel title/description %r %r" % (f.feed.title, f.feed.get("description")))
if base.startswith("https://") and f.feed.get("link") != base:
    die("channel link %r" % f.feed.get("link"))
items = {i["sha256"] + i["name"]: i for i in cat["items"]}
if len(f.entries) != len(cat["items"]):
    die("%d entries for %d items" % (len(f.entries), len(cat["items"])))
ns = {"podcast": "https://podcastindex.org/namespace/1.0"}
root = ET.parse(path).getroot()
xitems = root.findall("./channel/item")
prev = None
for e, x in zip(f.entries, xitems):
    enc = e.enclosures
    if len(enc) != 1:
        die("entry %r: %d enclosures" % (e.title, len(enc)))
    href = enc[0]["href"]
    if not href.startswith(base + "files/"):
        die("enclosure %r not on %s" % (href, base))
    name = urllib.parse.unquote(href[len(base + "files/"):])
    it = [i for i in cat["items"] if i["name"] == name]
    if len(it) != 1:
        die("enclosure %r names no item" % href)
    it = it[0]
    if e.id != it["sha256"] or e.guidislink:
        die("guid %r for %s" % (e.id, name))
    if e.title != it.get("title", name):
        die("title %r for %s" % (e.title, name))
    if int(enc[0]["length"]) != it["size"] or enc[0]["type"] != it.get("type", "application/octet-stream"):
        die("enclosure length/type %r for %s" % (enc[0], name))
    when = calendar.timegm(e.published_parsed)
    want = calendar.timegm(feedparser.datetimes._parse_date(it.get("published", it["fetched"])))
    if when != want:
        die("pubDate of %s: %s, want %s" % (name, e.published, it["fetched"]))
    if prev is not None and when > prev:
        die("not newest first at %s" % name)
    prev = when
    alt = x.find("podcast:alternateEnclosure", ns)
    if alt is None or alt.get("type") != enc[0]["type"] or int(alt.get("length")) != it["size"]:
        die("alternateEnclosure of %s" % name)
    srcs = [s.get("uri") for s in alt.findall("podcast:source", ns)]
    want_srcs = [href] + [m + "files/" + urllib.parse.quote(name, safe="")
                          for m in cat.get("mirrors", []) if m != base]
    if mirror_b + "files/" + urllib.parse.quote(name, safe="") not in srcs:
        die("no source on %s for %s" % (mirror_b, name))
    if srcs != want_srcs:
        die("sources of %s: %r, want %r" % (name, srcs, want_srcs))
    integ = alt.find("podcast:integrity", ns)
    digest = base64.b64encode(bytes.fromhex(it["sha256"])).decode()
    if integ is None or integ.get("type") != "sri" or integ.get("value") != "sha256-" + digest:
        die("integrity of %s" % name)
    print(href, it["sha256"])
if xitems[0].find("guid").text != max(cat["items"], key=lambda i: i["fetched"])["sha256"]:
    die("the newest item (song.mp3) is not first")
PY
}
check_feed "$T/feed.xml" "https://127.0.0.1:$HTTPS_PORT/" >"$T/encl.txt"
n=$(wc -l <"$T/encl.txt")
[ "$n" = 4 ] || fail "want 4 checked entries, got $n"
while read -r href sha; do
	curl_https -sS -o "$T/got" "$href" || server_fail "enclosure $href does not download"
	[ "$(sha256_of "$T/got")" = "$sha" ] || fail "enclosure $href: not the bytes of $sha"
done <"$T/encl.txt"
echo "ok: feedparser reads it without error: 4 entries newest first, titles, guids, pubDates, enclosures (length, type) on this mirror, a source on each mirror, sha256 integrity; each enclosure downloads to its bytes"

# Without [mirror] url: the address the client used.
stop_server
start_server "mirror = $MIRROR_B"
curl_http -sS -o "$T/feed2.xml" "$HTTP_URL/feed.xml" || server_fail "GET /feed.xml over http failed"
check_feed "$T/feed2.xml" "http://127.0.0.1:$HTTP_PORT/" >/dev/null
echo "ok: without [mirror] url the enclosures are on the address the client asked (http://127.0.0.1:$HTTP_PORT/)"
stop_server

# emberd run: /feed.xml as feed readers and podcast apps read it. Debian's
# python3-feedparser parses it (no "bozo" error) and every field is
# checked: channel title, link, description and lastBuildDate, one entry
# per catalog item (a page too), newest first, title, guid = the object
# id, pubDate, the enclosure on this mirror with its length and type;
# the podcast namespace's alternateEnclosure with a source on this mirror
# and then on each of the catalog's mirrors, and the integrity value
# (ElementTree, since feedparser keeps only some podcast:* tags). Each
# enclosure downloads with curl to the bytes it names; gzip and HEAD give
# the same document; without [mirror] url the enclosures are relative to
# the feed and download from where it was read.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
setup_publisher
python3 -c 'import feedparser' 2>/dev/null ||
	fail "python3-feedparser is not installed (apt-get install python3-feedparser)"

mkdir "$T/in"
head -c 30000 /dev/urandom >"$T/in/clip.mp4"
head -c 20000 /dev/urandom >"$T/in/song.mp3"
printf 'Statement of the April committee.\n' >"$T/in/四月声明.txt"
printf '<!doctype html><title>April</title><p>page</p>\n' >"$T/in/page.html"
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/in/clip.mp4" "$T/in/四月声明.txt" "$T/in/page.html"
expect_exit 0 "$EMBERD" add -c "$CONF" --name 'Songs <live> & "more".mp4' "$T/in/clip.mp4"
# The newest item must come first: add the last one in a later second
# than the others (the catalog's times have whole seconds).
t0=$(date +%s)
for _ in $(seq 1 300); do [ "$(date +%s)" != "$t0" ] && break; sleep 0.01; done
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/in/song.mp3"

MIRROR_B="https://mirror-b.example/archive/"
MIRROR_C="http://[::1]:1/c/"
set -- "url = https://127.0.0.1:$HTTPS_PORT/" "mirror = $MIRROR_B" "mirror = $MIRROR_C" \
	"description = Songs & statements of April"
# The catalog names the other mirrors once it is re-signed with them.
server_config "$@"
expect_exit 0 "$EMBERD" publish -c "$CONF"
for m in "$MIRROR_B" "$MIRROR_C"; do
	grep -qF "\"$m\"" "$STORE/current/catalog.json" || fail "publish did not add $m to the catalog"
done
start_server "$@"

curl_https -sS -D "$T/feed.h" -o "$T/feed.xml" "$HTTPS_URL/feed.xml" || server_fail "GET /feed.xml failed"
# HTTPS is HTTP/2 for curl: field names come lowercase (header() and
# has_header ignore case).
feed_hdr() {	# feed_hdr FILE NAME VALUE
	[ "$(header "$2" "$1")" = "$3" ] || { cat "$1"; server_fail "$2 is not '$3' in $1"; }
}
assert_grep '^HTTP/(1.1|2) 200' "$T/feed.h"
feed_hdr "$T/feed.h" Content-Type "application/rss+xml; charset=utf-8"
curl_https -sS --compressed -D "$T/feedgz.h" -o "$T/feed.gz.xml" "$HTTPS_URL/feed.xml" || server_fail "gzip GET failed"
feed_hdr "$T/feedgz.h" Content-Encoding gzip
feed_hdr "$T/feedgz.h" Vary Accept-Encoding
cmp -s "$T/feed.xml" "$T/feed.gz.xml" || fail "the gzip feed differs from the identity one"
curl_https -sS -I -o "$T/head.h" "$HTTPS_URL/feed.xml" || server_fail "HEAD failed"
feed_hdr "$T/head.h" Content-Length "$(stat -c %s "$T/feed.xml")"
feed_hdr "$T/head.h" Content-Type "application/rss+xml; charset=utf-8"
echo "ok: /feed.xml: application/rss+xml, gzip (Vary: Accept-Encoding) gives the same bytes, HEAD its type and length"

# check_feed FEED BASE FEED_URL: every field, against the catalog; prints
# each enclosure (resolved against FEED_URL) and the sha256 it names.
check_feed() {
	python3 - "$1" "$2" "$3" "$STORE/current/catalog.json" "$MIRROR_B" "$MIRROR_C" <<'PY' ||
import base64, calendar, datetime, email.utils, feedparser, json, sys, urllib.parse
import xml.etree.ElementTree as ET
path, base, feed_url, catalog, *mirrors = sys.argv[1:]
cat = json.load(open(catalog))
def die(msg):
    print("feed:", msg, file=sys.stderr); sys.exit(1)
def t(rfc3339):
    return int(datetime.datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp())
f = feedparser.parse(open(path, "rb").read())
if f.bozo:
    die("feedparser: %r" % f.bozo_exception)
if f.version != "rss20" or "podcast" not in f.namespaces:
    die("version %r, namespaces %r" % (f.version, f.namespaces))
if f.feed.title != cat["name"] or f.feed.get("description") != cat.get("description", cat["name"]):
    die("channel title/description %r %r" % (f.feed.title, f.feed.get("description")))
root = ET.parse(path).getroot()
link = root.find("./channel/link")
if (link.text if link is not None else "") != base:
    die("channel link %r, want %r" % (link is not None and link.text, base))
if calendar.timegm(f.feed.updated_parsed) != t(cat["generated"]):
    die("lastBuildDate %r for %s" % (f.feed.updated, cat["generated"]))
if len(f.entries) != len(cat["items"]):
    die("%d entries for %d items" % (len(f.entries), len(cat["items"])))
# This mirror first, then the catalog's others (publish lists this one
# there too: it is not repeated).
others = [m for m in cat.get("mirrors", []) if m != base]
if [m for m in others if m in mirrors] != mirrors:
    die("catalog mirrors %r" % cat.get("mirrors"))
ns = {"podcast": "https://podcastindex.org/namespace/1.0"}
xitems = root.findall("./channel/item")
prev = None
seen = set()
for e, x in zip(f.entries, xitems):
    enc = e.enclosures
    if len(enc) != 1:
        die("entry %r: %d enclosures" % (e.title, len(enc)))
    href = enc[0]["href"]
    if not href.startswith(base + "files/"):
        die("enclosure %r not on %r" % (href, base + "files/"))
    qname = href[len(base + "files/"):]
    name = urllib.parse.unquote(qname)
    if qname != urllib.parse.quote(name, safe=""):
        die("enclosure %r: name not percent-encoded" % href)
    it = [i for i in cat["items"] if i["name"] == name]
    if len(it) != 1 or name in seen:
        die("enclosure %r names no item, or one twice" % href)
    seen.add(name)
    it = it[0]
    if e.id != it["sha256"] or e.guidislink or x.find("guid").get("isPermaLink") != "false":
        die("guid %r for %s" % (e.id, name))
    if e.title != it.get("title", name):
        die("title %r for %s" % (e.title, name))
    if e.get("description") != it.get("description"):
        die("description %r for %s" % (e.get("description"), name))
    if int(enc[0]["length"]) != it["size"] or enc[0]["type"] != it.get("type", "application/octet-stream"):
        die("enclosure length/type %r for %s" % (enc[0], name))
    when = calendar.timegm(e.published_parsed)
    if when != t(it.get("published", it["fetched"])) or not e.published.endswith(" +0000"):
        die("pubDate of %s: %s, want %s" % (name, e.published, it["fetched"]))
    if email.utils.parsedate_to_datetime(e.published).timestamp() != when:
        die("pubDate of %s is not RFC 822: %s" % (name, e.published))
    if prev is not None and when > prev:
        die("not newest first at %s" % name)
    prev = when
    alt = x.find("podcast:alternateEnclosure", ns)
    if alt is None or alt.get("type") != enc[0]["type"] or int(alt.get("length")) != it["size"]:
        die("alternateEnclosure of %s" % name)
    srcs = [s.get("uri") for s in alt.findall("podcast:source", ns)]
    want = [href] + [m + "files/" + qname for m in others]
    if srcs != want:
        die("sources of %s: %r, want %r" % (name, srcs, want))
    integ = alt.find("podcast:integrity", ns)
    digest = base64.b64encode(bytes.fromhex(it["sha256"])).decode()
    if integ is None or integ.get("type") != "sri" or integ.get("value") != "sha256-" + digest:
        die("integrity of %s: %r" % (name, integ is not None and integ.attrib))
    print(urllib.parse.urljoin(feed_url, href), digest, it["sha256"])
newest = max(cat["items"], key=lambda i: t(i["fetched"]))
if xitems[0].find("guid").text != newest["sha256"]:
    die("the newest item (%s) is not first" % newest["name"])
PY
		fail "feed check FAILED"
}

# check_enclosures LIST: each enclosure downloads, and its bytes are what
# its guid and its integrity value name.
check_enclosures() {
	local href sri sha
	while read -r href sri sha; do
		curl_any -sS -o "$T/got" "$href" || server_fail "enclosure $href does not download"
		[ "$(sha256_of "$T/got")" = "$sha" ] || fail "enclosure $href: not the bytes of $sha"
		[ "$(openssl dgst -sha256 -binary "$T/got" | base64)" = "$sri" ] ||
			fail "enclosure $href: not the integrity value $sri"
	done <"$1"
}
curl_any() { case "$*" in *https://*) curl_https "$@" ;; *) curl_http "$@" ;; esac; }

check_feed "$T/feed.xml" "https://127.0.0.1:$HTTPS_PORT/" "$HTTPS_URL/feed.xml" >"$T/encl.txt"
n=$(wc -l <"$T/encl.txt")
[ "$n" = 5 ] || fail "want 5 checked entries, got $n"
grep -q '/files/%E5%9B%9B%E6%9C%88%E5%A3%B0%E6%98%8E.txt ' "$T/encl.txt" || fail "no entry for 四月声明.txt"
grep -q '/files/Songs%20%3Clive%3E%20%26%20%22more%22.mp4 ' "$T/encl.txt" || fail "no entry for the --name item"
check_enclosures "$T/encl.txt"
echo "ok: feedparser reads it without error: 5 entries (a page among them) newest first, titles, guids, RFC 822 pubDates, enclosures (percent-encoded name, length, type) on [mirror] url, sources on it then on both mirrors, sha256 integrity; each enclosure downloads to its bytes"

# Without [mirror] url: enclosures relative to the feed (no Host of a
# client's in the feed), which resolve against where it was read.
stop_server
start_server "mirror = $MIRROR_B" "mirror = $MIRROR_C"
curl_http -sS -H 'Host: evil.example' -o "$T/feed2.xml" "$HTTP_URL/feed.xml" ||
	server_fail "GET /feed.xml over http failed"
if grep -q 'evil\.example\|<link>' "$T/feed2.xml"; then
	fail "the feed names the Host a client sent, or links a base"
fi
check_feed "$T/feed2.xml" "" "$HTTP_URL/feed.xml" >"$T/encl2.txt"
[ "$(wc -l <"$T/encl2.txt")" = 5 ] || fail "want 5 checked entries without [mirror] url"
check_enclosures "$T/encl2.txt"
echo "ok: without [mirror] url the enclosures are relative (files/NAME) and download from where the feed was read"

# A new catalog (an add while running) is a new feed, its item first.
t0=$(date +%s)
for _ in $(seq 1 300); do [ "$(date +%s)" != "$t0" ] && break; sleep 0.01; done
printf 'later\n' >"$T/in/later.txt"
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/in/later.txt"
curl_http -sS -o "$T/feed3.xml" "$HTTP_URL/feed.xml" || server_fail "GET /feed.xml after add failed"
check_feed "$T/feed3.xml" "" "$HTTP_URL/feed.xml" >"$T/encl3.txt"
[ "$(wc -l <"$T/encl3.txt")" = 6 ] || fail "want 6 entries after the add"
head -n 1 "$T/encl3.txt" | grep -q '/files/later\.txt ' || fail "the added item is not first"
echo "ok: an add while running is in the next /feed.xml, first"
stop_server

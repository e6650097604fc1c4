# `emberd export DIR`: a static mirror that nginx serves and every kind
# of reader uses: curl + minisign, `emberd fetch`, aria2c with the
# Metalink, a follower whose peer is the nginx URL; the index opened from
# file:// in Chromium plays its video; a refresh keeps the files of the
# previous catalog for one more refresh; export refuses a folder that is
# not an export, another publisher's export, a read-only folder and a
# full disk with a clear error, leaving the previous export whole.
#   EMBERD=build/emberd bash tests/integration/export.sh
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
. "$(dirname "$0")/follow_lib.sh"
. "$(dirname "$0")/nginx_lib.sh"
needs_root "mounts a read-only and a full tmpfs"
for tool in minisign aria2c ffmpeg chromium; do
	command -v "$tool" >/dev/null || fail "$tool is not installed"
done

chrome_play() {
	python3 "$(dirname "$0")/chrome_play.py" "$@" >"$T/chrome.out" 2>&1 ||
		{ cat "$T/chrome.out"; fail "$1 does not play in chromium"; }
}

setup_publisher
KEYID=$(sed -n 's/^untrusted comment: minisign public key //p' "$T/pub")
mkdir "$T/in" "$T/x"
ffmpeg -nostdin -loglevel error -f lavfi -i testsrc=duration=3:size=320x240:rate=10 \
	-pix_fmt yuv420p -movflags +faststart "$T/in/clip.mp4" || fail "ffmpeg cannot make a clip"
# Over 8 MiB: emberd fetch takes it in ranges, which a static host must
# answer though its ETag is not the SHA-256.
head -c 12000000 /dev/urandom >"$T/in/data.bin"
printf '自由\n' >"$T/in/声明.txt"
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/in/clip.mp4" "$T/in/data.bin" "$T/in/声明.txt"

# nginx first: the export names its URL (--url) in Metalinks and torrents.
X=$T/x/www
mkdir -p "$X"
nginx_start "$X"
expect_exit 0 "$EMBERD" export -c "$CONF" --url "$NGINX_URL/" "$X"
for f in index.html index.zh-Hans.html catalog.json catalog.json.minisig pubkey feed.xml \
	files/clip.mp4 files/data.bin.meta4 files/data.bin.torrent "files/声明.txt"; do
	[ -f "$X/$f" ] || fail "the export has no $f"
done
cmp "$X/catalog.json" "$STORE/current/catalog.json" || fail "the exported catalog is not the signed one"
pass "export wrote the contract's files (index pages per language, catalog, signature, pubkey, feed, files, metalinks, torrents)"

# --- a reader with curl + minisign
mkdir "$T/r"
curl -fsS -o "$T/r/catalog.json" "$NGINX_URL/catalog.json" &&
	curl -fsS -o "$T/r/catalog.json.minisig" "$NGINX_URL/catalog.json.minisig" &&
	curl -fsS -o "$T/r/pubkey" "$NGINX_URL/pubkey" || fail "nginx does not serve the catalog"
minisign -Vm "$T/r/catalog.json" -P "$PUBKEY" >"$T/out" 2>&1 || { cat "$T/out"; fail "minisign refuses the served catalog"; }
minisign -Vm "$T/r/catalog.json" -p "$T/r/pubkey" >/dev/null 2>&1 || fail "the exported pubkey does not verify the catalog"
while read -r hex size name; do
	curl -fsS -o "$T/r/f" "$NGINX_URL/files/$(python3 -c 'import sys,urllib.parse;print(urllib.parse.quote(sys.argv[1]))' "$name")" ||
		fail "nginx does not serve files/$name"
	[ "$(sha256_of "$T/r/f")" = "$hex" ] || fail "files/$name does not hash to its catalog entry"
	curl -fsS -o "$T/r/h" "$NGINX_URL/sha256/$hex" || fail "nginx does not serve sha256/$hex"
	cmp -s "$T/r/f" "$T/r/h" || fail "sha256/$hex differs from files/$name"
done < <(items_of "$T/r/catalog.json")
pass "curl + minisign: the signature verifies and every file hashes to its entry"

# --- emberd fetch, aria2c with the Metalink
(cd "$T/r" && expect_exit 0 timeout 60 "$EMBERD" fetch --pubkey "$PUBKEY" -m "$NGINX_URL" data.bin -o fetched.bin)
cmp "$T/r/fetched.bin" "$T/in/data.bin" || fail "emberd fetch from nginx got other bytes"
grep -q 'ignored the Range\|one mirror at a time' "$T/err" &&
	{ cat "$T/err"; fail "emberd fetch did not get ranges from nginx"; }
pass "emberd fetch gets a verified copy from the export, in ranges"
(cd "$T/r" && timeout 60 aria2c -q --allow-overwrite=true -d "$T/r/aria" \
	"$NGINX_URL/files/data.bin.meta4") >"$T/out" 2>&1 || { cat "$T/out"; fail "aria2c fails on the export's Metalink"; }
cmp "$T/r/aria/data.bin" "$T/in/data.bin" || fail "aria2c got other bytes"
pass "aria2c downloads through the export's Metalink (its sha-256 checked)"

# --- a follower whose peer is the nginx URL
F=fol
follower_config $F "[follow]" "pubkey = $PUBKEY" "peer = $NGINX_URL/" "interval = 1h"
follower_crawl $F 0
cmp "$(fstore $F)/current/catalog.json" "$X/catalog.json" || fail "the follower did not install the export's catalog"
expect_exit 0 "$EMBERD" verify -c "$(fconf $F)"
pass "a follower syncs from the export served by nginx"

# --- the feed, relative to the export's URL
/usr/bin/python3 - "$X/feed.xml" "$NGINX_URL/" <<'PY' || fail "feed.xml of the export is wrong"
import sys, feedparser
d = feedparser.parse(open(sys.argv[1], "rb").read())
assert not d.bozo, d.bozo_exception
urls = sorted(e.enclosures[0].href for e in d.entries)
assert len(urls) == 3, urls
assert all(u.startswith(sys.argv[2] + "files/") for u in urls), urls
PY
pass "feed.xml in the export: an item per file, enclosures on the export's URL"

# --- the index from file:// in Chromium, with its links between pages
for f in $(grep -o 'href="index[^"]*"' "$X/index.html" | cut -d'"' -f2); do
	[ -f "$X/$f" ] || fail "index.html links to $f, which the export does not have"
done
grep -q 'href="index.zh-Hans.html"' "$X/index.html" || fail "no link to the Chinese page"
grep -q '<html lang="zh-Hans"' "$X/index.zh-Hans.html" || fail "index.zh-Hans.html is not in Chinese"
grep -q '<form' "$X/index.html" && fail "a static page has a search form that no server answers"
pass "the pages link each other as files that exist, without a search form"
if browser_build "index.html from file:// playing in chromium"; then
	chrome_play "file://$X/index.html" 40
	pass "index.html opened from file:// plays its video in Chromium"
fi

# --- a refresh: a new item, one taken out; its files stay one refresh
head -c 100000 /dev/urandom >"$T/in/new.bin"
printf 'an item whose name is another item plus .meta4\n' >"$T/in/new.bin.meta4"
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/in/new.bin" "$T/in/new.bin.meta4"
expect_exit 0 "$EMBERD" rm -c "$CONF" data.bin
old_hex=$(sha256_of "$T/in/data.bin")
ino=$(stat -c %i "$X/files/clip.mp4")
expect_exit 0 "$EMBERD" export -c "$CONF" --url "$NGINX_URL/" "$X"
grep -q '"new.bin"' "$X/catalog.json" || fail "the refresh did not export the new catalog"
[ -f "$X/files/new.bin" ] && [ -f "$X/sha256/$(sha256_of "$T/in/new.bin")" ] || fail "the new item is missing"
[ -f "$X/files/data.bin" ] && [ -f "$X/sha256/$old_hex" ] ||
	fail "a file of the previous catalog went at the first refresh (a reader holding it gets 404)"
[ "$(stat -c %i "$X/files/clip.mp4")" = "$ino" ] || fail "an unchanged file was written again"
cmp -s "$X/files/new.bin.meta4" "$T/in/new.bin.meta4" || fail "the Metalink of new.bin overwrote the item new.bin.meta4"
# The same catalog again: the grace holds; the next catalog ends it.
expect_exit 0 "$EMBERD" export -c "$CONF" --url "$NGINX_URL/" "$X"
[ -f "$X/files/data.bin" ] || fail "a refresh of the same catalog cut the previous one's grace"
printf 'more\n' >"$T/in/more.txt"
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/in/more.txt"
expect_exit 0 "$EMBERD" export -c "$CONF" --url "$NGINX_URL/" "$X"
[ ! -e "$X/files/data.bin" ] && [ ! -e "$X/sha256/$old_hex" ] && [ ! -e "$X/files/data.bin.meta4" ] ||
	fail "files no catalog names stayed after two refreshes"
[ -z "$(find "$X" -name '.tmp-*')" ] || fail "temp files left in the export"
pass "refresh in place: unchanged files untouched, removed ones kept until the next catalog is exported, then gone"

# --- refusals
mkdir "$T/x/mine"; echo "my notes" >"$T/x/mine/notes.txt"
expect_exit 1 "$EMBERD" export -c "$CONF" "$T/x/mine"
assert_grep "not empty.*not an emberd export" "$T/err"
[ "$(ls "$T/x/mine")" = notes.txt ] || fail "export wrote into a folder that is not an export"
mkdir -p "$T/other"
(cd "$T/other" && printf '[mirror]\nname = Other\nstore = store\nkey = k.key\nallow_root = yes\n' >e.conf &&
	"$EMBERD" keygen -c e.conf >/dev/null 2>&1 && "$EMBERD" add -c e.conf "$T/in/new.bin" 2>/dev/null) ||
	fail "cannot make a second publisher"
expect_exit 1 "$EMBERD" export -c "$T/other/e.conf" "$X"
assert_grep "export of another publisher" "$T/err"
cmp -s "$X/catalog.json" "$STORE/current/catalog.json" || fail "another publisher's export changed this one"
pass "refused: a folder that is not an export, another publisher's export (nothing written)"

mkdir "$T/x/ro"
mount -t tmpfs -o ro,size=1m tmpfs "$T/x/ro" || fail "cannot mount a read-only tmpfs"
expect_exit 1 "$EMBERD" export -c "$CONF" "$T/x/ro"
umount "$T/x/ro"
assert_grep "Read-only file system" "$T/err"
pass "a read-only folder: $(tail -n 1 "$T/err")"

mkdir "$T/x/full"
mount -t tmpfs -o size=600k tmpfs "$T/x/full" || fail "cannot mount a small tmpfs"
trap 'umount "$T/x/full" 2>/dev/null || true; nginx_cleanup' EXIT
expect_exit 0 "$EMBERD" rm -c "$CONF" clip.mp4
expect_exit 0 "$EMBERD" export -c "$CONF" "$T/x/full/www"
cp "$T/x/full/www/catalog.json" "$T/small.json"
head -c 800000 /dev/urandom >"$T/in/big.bin"
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/in/big.bin"
expect_exit 1 "$EMBERD" export -c "$CONF" "$T/x/full/www"
assert_grep "No space left on device" "$T/err"
cmp -s "$T/x/full/www/catalog.json" "$T/small.json" || fail "a failed export changed the catalog"
while read -r hex size name; do
	[ -f "$T/x/full/www/sha256/$hex" ] && [ -f "$T/x/full/www/files/$name" ] ||
		fail "after a failed export the catalog names a missing file: $name"
done < <(items_of "$T/small.json")
[ -z "$(find "$T/x/full" -name '.tmp-*')" ] || fail "a failed export left temp files"
pass "a full disk: $(tail -n 1 "$T/err" | cut -c1-120); the previous export is whole"

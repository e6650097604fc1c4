# Over Tor, on a private Tor network made on this machine (tor_lib.sh):
# `emberd run` serves as an onion service (its plain listener behind it)
# and says so with Onion-Location on its HTML pages; `emberd fetch
# --proxy socks5h://` gets a verified copy from the .onion address; a
# follower whose peer is the .onion syncs through [crawl] proxy; and the
# crawler fetches a file from an origin that is itself an onion service.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
. "$(dirname "$0")/tor_lib.sh"
setup_publisher

mkdir -p "$T/in" "$T/origin"
head -c 300000 /dev/urandom >"$T/in/clip.mp4"
printf '<!doctype html><title>statement</title><p>April\n' >"$T/in/statement.html"
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/in/clip.mp4" "$T/in/statement.html"
head -c 200000 /dev/urandom >"$T/origin/song.mp3"

# The onion origin: a plain web server on loopback, behind onion service 2.
ORIGIN_PORT=$(free_port)
(cd "$T/origin" && exec python3 -m http.server "$ORIGIN_PORT" --bind 127.0.0.1) \
	>"$T/origin.log" 2>&1 &
bg $!

tor_network_start "$HTTP_PORT" "$ORIGIN_PORT"
SOCKS="socks5h://127.0.0.1:$TOR_SOCKS"
start_server "onion = http://$ONION1/"

# Onion-Location: on the index and on mirrored HTML, not on other files.
curl_https -sS -I -o "$T/index.h" "$HTTPS_URL/" || server_fail "HEAD / failed"
[ "$(header Onion-Location "$T/index.h")" = "http://$ONION1/" ] || { cat "$T/index.h"; fail "index: Onion-Location"; }
curl_https -sS -I -o "$T/html.h" "$HTTPS_URL/files/statement.html" || server_fail "HEAD html failed"
[ "$(header Onion-Location "$T/html.h")" = "http://$ONION1/files/statement.html" ] || { cat "$T/html.h"; fail "html: Onion-Location"; }
curl_https -sS -I -o "$T/mp4.h" "$HTTPS_URL/files/clip.mp4" || server_fail "HEAD mp4 failed"
! grep -qi '^Onion-Location' "$T/mp4.h" || fail "Onion-Location on a video"
pass "Onion-Location: http://$ONION1/ on the index and on mirrored HTML (with its path), not on media"

tor_wait_onion "http://$ONION1/healthz"
curl -sS --max-time 60 --socks5-hostname "127.0.0.1:$TOR_SOCKS" -o "$T/cat.json" \
	"http://$ONION1/catalog.json" || fail "catalog.json over the onion service"
cmp -s "$T/cat.json" "$STORE/current/catalog.json" || fail "the onion service serves another catalog"
pass "the mirror answers as an onion service on the private Tor network (catalog.json byte for byte)"

# A reader: emberd fetch through the Tor client's SOCKS port.
expect_exit 0 "$EMBERD" fetch --pubkey "$PUBKEY" -m "http://$ONION1/" clip.mp4 \
	-o "$T/got.mp4" --proxy "$SOCKS"
cmp -s "$T/got.mp4" "$T/in/clip.mp4" || fail "emberd fetch over Tor: not the bytes of clip.mp4"
pass "emberd fetch --proxy $SOCKS -m http://<onion>/ clip.mp4: a verified copy"

# A follower whose only peer is the onion address.
mkdir -p "$T/f"
cat >"$T/f/emberd.conf" <<C
[mirror]
name = Follower over Tor
store = store
allow_root = yes
[crawl]
proxy = $SOCKS
[follow]
pubkey = $PUBKEY
peer = http://$ONION1/
C
expect_exit 0 "$EMBERD" crawl -c "$T/f/emberd.conf"
cmp -s "$T/f/store/current/catalog.json" "$STORE/current/catalog.json" ||
	fail "the follower's catalog is not the publisher's"
expect_exit 0 "$EMBERD" ls -c "$T/f/emberd.conf" --json
python3 - "$T/out" "$(sha256_of "$T/in/clip.mp4")" <<'PY' || fail "the follower lacks clip.mp4"
import json, sys
items = {i["name"]: i["sha256"] for i in json.load(open(sys.argv[1]))["items"]}
sys.exit(0 if items.get("clip.mp4") == sys.argv[2] else 1)
PY
expect_exit 0 "$EMBERD" verify -c "$T/f/emberd.conf"
pass "a follower with peer = http://<onion>/ and [crawl] proxy = socks5h:// synced the signed catalog and its objects; verify passes"

# The crawler, from an origin that is an onion service.
tor_wait_onion "http://$ONION2/song.mp3"
mkdir -p "$T/p2"
cat >"$T/p2/emberd.conf" <<C
[mirror]
name = Crawls over Tor
store = store
key = $T/publisher.key
allow_root = yes
[crawl]
proxy = $SOCKS
[source song]
url = http://$ONION2/song.mp3
C
expect_exit 0 "$EMBERD" crawl -c "$T/p2/emberd.conf"
expect_exit 0 "$EMBERD" ls -c "$T/p2/emberd.conf" --json
python3 - "$T/out" "$(sha256_of "$T/origin/song.mp3")" <<'PY' || fail "song.mp3 not crawled from the onion origin"
import json, sys
items = {i["name"]: i["sha256"] for i in json.load(open(sys.argv[1]))["items"]}
sys.exit(0 if items.get("song.mp3") == sys.argv[2] else 1)
PY
pass "the crawler fetched song.mp3 from http://<onion>/ through [crawl] proxy, the origin's bytes"
stop_server

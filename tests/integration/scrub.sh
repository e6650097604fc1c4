# An object corrupted on disk is never served with a 200/206 claiming its
# hash. A file written to since it was stored (its mtime moved) is caught
# when it is opened: 404, "changed on disk since it was stored",
# quarantined, metric by="open". A corruption that kept the mtime is caught
# by the background scrub ([mirror] scrub_interval = 2s): quarantined,
# metric by="scrub". Either way the crawler (publisher with [source]s) or
# the follower fetches the object again at once ([crawl]/[follow] interval
# is 1h here) and serves it again, right; `emberd verify` passes on both
# stores at the end. An item from `emberd add` cannot be fetched again.
#
# The checks of the open run on a daemon whose scrub waits 24 h, those of
# the scrub on one restarted with 2 s: with both at once, a scrub pass
# between the change and the request (which a busy machine makes likely)
# found the object first, and the open was not what was tested.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
. "$(dirname "$0")/crawl_lib.sh"
. "$(dirname "$0")/follow_lib.sh"

# count FILE PATTERN: lines matching the extended regex.
count() { grep -cE -- "$2" "$1" 2>/dev/null || true; }

# wait_count FILE PATTERN N SECONDS: poll until N lines match.
wait_count() {
	local i
	for i in $(seq 1 $(($4 * 20))); do
		[ "$(count "$1" "$2")" -ge "$3" ] && return 0
		sleep 0.05
	done
	return 1
}

# flip FILE OFFSET: change one byte in place (dd conv=notrunc: the mtime
# moves, as with any write).
flip() {
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	[ -n "$b" ] || fail "flip: $1 has no byte at $2"
	printf "\\$(printf '%03o' $((255 - b)))" |
		dd of="$1" bs=1 seek="$2" conv=notrunc status=none || fail "flip: cannot write $1"
}

# metric URL NAME{LABELS}: the value of one /metrics sample.
metric() {
	curl -sS --max-time 10 "$1/metrics" | awk -v k="$2" '$1 == k { print $2 }'
}

# served_right URL NAME SHA: /files/NAME and /sha256/SHA give SHA's bytes
# (200), and a range of them (206) is the same slice as the original's.
served_right() {
	local url=$1 name=$2 sha=$3 code
	code=$(curl -sS --max-time 30 -o "$T/got.bin" -w '%{http_code}' "$url/files/$name")
	[ "$code" = 200 ] || fail "$url/files/$name answered $code"
	[ "$(sha256_of "$T/got.bin")" = "$sha" ] || fail "$url/files/$name has the wrong content"
	code=$(curl -sS --max-time 30 -o "$T/got2.bin" -w '%{http_code}' "$url/sha256/$sha")
	[ "$code" = 200 ] || fail "$url/sha256/$sha answered $code"
	[ "$(sha256_of "$T/got2.bin")" = "$sha" ] || fail "$url/sha256/$sha has the wrong content"
	code=$(curl -sS --max-time 30 -o "$T/got3.bin" -w '%{http_code}' -r 1000-1999 "$url/files/$name")
	[ "$code" = 206 ] || fail "$url/files/$name with Range answered $code"
	cmp -s "$T/got3.bin" <(tail -c +1001 "$T/got.bin" | head -c 1000) ||
		fail "$url/files/$name: the range has the wrong bytes"
}

# status_get URL [CURL ARGS]: GET, print the status, keep the body in
# $T/body (a 200/206 body would be the corrupt bytes).
status_get() {
	local url=$1
	shift
	curl -s --max-time 10 -o "$T/body" -w '%{http_code}' "$@" "$url" || true
}

# wait_back STORE HEX...: until every object is in STORE/objects again
# (fetched again after its quarantine), bounded (20 s).
wait_back() {
	local st=$1 i h ok
	shift
	for i in $(seq 1 400); do
		ok=1
		for h in "$@"; do
			[ -e "$st/objects/$h" ] || ok=0
		done
		[ $ok = 1 ] && return 0
		sleep 0.05
	done
	return 1
}

# full_gets TARGET: requests for TARGET since the last origin_reset that
# got the whole content (200, no If-None-Match, every byte sent).
full_gets() {
	origin_q "len([e for e in L if e['path'] == sys.argv[3] and e['status'] == 200 and 'if-none-match' not in e['headers'] and e['done'] is not None])" "$1"
}

scrub_re='^[0-9TZ:-]* *emberd: scrub: [0-9]+ objects re-hashed, [0-9]+ bad$'

start_origin
media="/f/media.mp4?size=2000000&seed=media&type=video%2Fmp4"
text="/f/article.txt?size=300000&seed=text&text=1&type=text%2Fplain"
song="/f/song.mp3?size=400000&seed=song&type=audio%2Fmpeg"
quiet="/f/quiet.bin?size=500000&seed=quiet"
for t in media text song quiet; do
	eval "origin_info \"\$$t\""
	eval "${t}_sha=\$INFO_SHA"
done

setup_publisher
printf 'A local statement, added by hand.\n%.0s' $(seq 1 200) >"$T/local.txt"
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/local.txt"
local_sha=$(sha256_of "$T/local.txt")
# publisher SCRUB_INTERVAL: (re)start the publisher, wait for its first
# crawl pass.
publisher() {
	local n
	[ -z "$SERVER_PID" ] || stop_server
	n=$(count "$SERVER_LOG" '^[0-9TZ:-]* *emberd: crawl: pass done')
	start_server "scrub_interval = $1" "[crawl]" "interval = 1h" \
		"[source media]" "url = $ORIGIN$media" \
		"[source text]" "url = $ORIGIN$text" \
		"[source song]" "url = $ORIGIN$song" \
		"[source quiet]" "url = $ORIGIN$quiet"
	wait_count "$SERVER_LOG" '^[0-9TZ:-]* *emberd: crawl: pass done' $((n + 1)) 30 ||
		server_fail "no crawl pass within 30 s of the start"
}
publisher 24h
assert_grep '^[0-9TZ:-]* *emberd: crawl: pass done: 4 fetched, 0 unchanged, 0 failed' "$SERVER_LOG"
for t in media:media.mp4 text:article.txt song:song.mp3 quiet:quiet.bin; do
	eval "sha=\$${t%%:*}_sha"
	served_right "$HTTP_URL" "${t#*:}" "$sha"
done
[ "$(catalog_field article.txt size)" = 300000 ] || fail "article.txt not in the catalog"
"$EMBERD" ls -c "$CONF" --json >"$T/ls.json" || fail "emberd ls failed"
python3 -c 'import json, sys
c = json.load(open(sys.argv[1]))
sys.exit(0 if [i["stored"] for i in c["items"] if i["name"] == "article.txt"] == ["gzip"] else 1)' "$T/ls.json" ||
	fail "article.txt is not stored deflated (the test wants one gzip object)"
pass "publisher: 4 sources crawled and 1 added item, all served right"

# ---- (a) written to in place: caught at open ---------------------------
for h in "$media_sha" "$text_sha" "$song_sha"; do
	flip "$STORE/objects/$h" 1000
	cp "$STORE/objects/$h" "$T/$h.bad"
done
origin_reset

code=$(status_get "$HTTP_URL/files/media.mp4" -r 1000-1999)
[ "$code" = 404 ] || server_fail "a ranged GET of the changed media.mp4 answered $code"
assert_grep "^[0-9TZ:-]* *emberd: error: object $media_sha: changed on disk since it was stored \(mtime [0-9.]+, stored at [0-9]+\); quarantined, not served; it will be fetched again$" "$SERVER_LOG"
cmp -s "$STORE/quarantine/$media_sha" "$T/$media_sha.bad" || fail "media.mp4's bad copy is not in quarantine/"
[ "$(metric "$HTTP_URL" 'emberd_objects_quarantined_total{by="open"}')" = 1 ] ||
	fail "metrics: quarantined by open is not 1: $(curl -s "$HTTP_URL/metrics" | grep quarantined)"

code=$(status_get "$HTTPS_URL/sha256/$text_sha" --cacert "$STORE/tls/cert.pem" -H 'Accept-Encoding: gzip')
[ "$code" = 404 ] || server_fail "GET /sha256/ of the changed gzip object (gzip accepted) answered $code"
code=$(status_get "$HTTP_URL/files/song.mp3")
[ "$code" = 404 ] || server_fail "GET /files/song.mp3 (changed) answered $code"
for h in "$text_sha" "$song_sha"; do
	assert_grep "^[0-9TZ:-]* *emberd: error: object $h: changed on disk since it was stored .*; quarantined, not served; it will be fetched again$" "$SERVER_LOG"
	cmp -s "$STORE/quarantine/$h" "$T/$h.bad" || fail "object $h: its bad copy is not in quarantine/"
done
[ "$(metric "$HTTP_URL" 'emberd_objects_quarantined_total{by="open"}')" = 3 ] || fail "metrics: quarantined by open is not 3"
[ "$(metric "$HTTP_URL" 'emberd_objects_quarantined_total{by="scrub"}')" = 0 ] || fail "metrics: quarantined by scrub is not 0"
pass "changed in place: 404 for a range, /sha256/ with gzip, /files/; logged, in quarantine/, by=\"open\" 3"

wait_back "$STORE" "$media_sha" "$text_sha" "$song_sha" ||
	server_fail "the 3 quarantined objects were not fetched again within 20 s (crawl interval 1h)"
for t in "$media" "$text" "$song"; do
	[ "$(full_gets "$t")" -ge 1 ] || { origin_show; fail "the origin did not send $t again in full"; }
done
served_right "$HTTP_URL" media.mp4 "$media_sha"
served_right "$HTTP_URL" article.txt "$text_sha"
served_right "$HTTP_URL" song.mp3 "$song_sha"
code=$(curl -sS --max-time 10 -o "$T/gz" -w '%{http_code}' -H 'Accept-Encoding: gzip' "$HTTP_URL/sha256/$text_sha")
[ "$code" = 200 ] || fail "gzip GET after the refetch answered $code"
[ "$(gzip -dc "$T/gz" | sha256sum | cut -d' ' -f1)" = "$text_sha" ] || fail "the gzip bytes do not inflate to the object"
server_alive
pass "fetched again at once (not at the next interval): served right, ranges and gzip too"

# An added item has nowhere to come back from.
flip "$STORE/objects/$local_sha" 10
code=$(status_get "$HTTP_URL/files/local.txt")
[ "$code" = 404 ] || server_fail "GET /files/local.txt (changed) answered $code"
assert_grep "^[0-9TZ:-]* *emberd: error: object $local_sha: changed on disk since it was stored .*; quarantined, not served; add the file again to serve it$" "$SERVER_LOG"
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/local.txt"
for i in $(seq 1 100); do
	[ "$(status_of "$HTTP_URL/files/local.txt")" = 200 ] && break
	sleep 0.05
done
served_right "$HTTP_URL" local.txt "$local_sha"
pass "an added item: 404, 'add the file again to serve it'; served again after add"

# ---- (b) corrupt, mtime kept: caught by the scrub ----------------------
# A scrub of the good objects finds nothing; then one changed behind the
# daemon's back, its mtime kept, is found by the scrub alone.
publisher 2s
n=$(count "$SERVER_LOG" "$scrub_re")
wait_count "$SERVER_LOG" "$scrub_re" $((n + 1)) 10 || server_fail "no scrub within 10 s"
# Every object of the store: the items' and their provenance documents.
nobj=$(find "$STORE/objects" -maxdepth 1 -type f | wc -l)
assert_grep "^[0-9TZ:-]* *emberd: scrub: $nobj objects re-hashed, 0 bad\$" "$SERVER_LOG"
origin_reset
flip_keep_mtime "$STORE/objects/$quiet_sha" 4321
cp "$STORE/objects/$quiet_sha" "$T/quiet.bad"
wait_for_file_line "$SERVER_LOG" "^[0-9TZ:-]* *emberd: error: scrub: object $quiet_sha: .*; quarantined$" 10 ||
	server_fail "the scrub did not quarantine the corrupt quiet.bin within 10 s"
cmp -s "$STORE/quarantine/$quiet_sha" "$T/quiet.bad" || fail "quiet.bin's bad copy is not in quarantine/"
[ "$(metric "$HTTP_URL" 'emberd_objects_quarantined_total{by="scrub"}')" = 1 ] || fail "metrics: quarantined by scrub is not 1"
[ "$(metric "$HTTP_URL" 'emberd_objects_quarantined_total{by="open"}')" = 0 ] || fail "metrics: quarantined by open moved (since the restart)"
wait_back "$STORE" "$quiet_sha" || server_fail "quiet.bin not fetched again within 20 s of the scrub"
[ "$(full_gets "$quiet")" -ge 1 ] || { origin_show; fail "the origin did not send $quiet again in full"; }
served_right "$HTTP_URL" quiet.bin "$quiet_sha"
pass "corrupt with the mtime kept: '$(grep -m1 -oE "scrub: object .{8}" "$SERVER_LOG")…: $(grep -m1 -E "scrub: object $quiet_sha" "$SERVER_LOG" | sed 's/.*: \([^:]*\); quarantined$/\1/')'; quarantined, by=\"scrub\" 1, fetched again"

# ---- (c) a follower: caught at open and by its own scrub, synced again ----
F=fol
follower_config $F "scrub_interval = 24h" "[follow]" "pubkey = $PUBKEY" "peer = $HTTP_URL/" "interval = 1h"
FST=$(fstore $F)
FLOG="$T/$F/run.log"
FU=$(furl $F)
follower_start $F
wait_passes $F 1
same_catalog "$FST/current"
check_served "$FU" "$FST/current/catalog.json"
flip "$FST/objects/$media_sha" 123456
cp "$FST/objects/$media_sha" "$T/f-media.bad"
mark=$(wc -l <"$SERVER_LOG")
code=$(status_get "$FU/files/media.mp4" -r 0-99)
[ "$code" = 404 ] || fail "follower: a ranged GET of the changed media.mp4 answered $code"
code=$(status_get "$FU/sha256/$media_sha")
[ "$code" = 404 ] || [ "$code" = 200 ] || fail "follower: /sha256/ after the quarantine answered $code"
[ "$code" = 404 ] || [ "$(sha256_of "$T/body")" = "$media_sha" ] || fail "follower: served wrong bytes for $media_sha"
assert_grep "^[0-9TZ:-]* *emberd: error: object $media_sha: changed on disk since it was stored .*; quarantined, not served; it will be fetched again$" "$FLOG"
cmp -s "$FST/quarantine/$media_sha" "$T/f-media.bad" || fail "follower: the bad copy is not in quarantine/"
[ "$(metric "$FU" 'emberd_objects_quarantined_total{by="open"}')" = 1 ] || fail "follower metrics: quarantined by open is not 1"
wait_back "$FST" "$media_sha" || { tail -n 20 "$FLOG"; fail "follower: media.mp4 not synced again within 20 s (interval 1h)"; }
[ "$(count "$FLOG" "^[0-9TZ:-]* *emberd: sync $media_sha: fetched media.mp4 \(2000000 bytes, sha256 $media_sha\)$")" = 2 ] ||
	{ tail -n 20 "$FLOG"; fail "follower: no second 'fetched' line for media.mp4"; }
tail -n +$((mark + 1)) "$SERVER_LOG" | grep -q "^[0-9TZ:-]* *emberd: GET /sha256/$media_sha 200 2000000$" ||
	server_fail "the publisher was not asked for $media_sha again"
served_right "$FU" media.mp4 "$media_sha"
pass "follower, changed in place: 404, quarantined, by=\"open\" 1, synced again from the peer at once"

follower_stop $F
follower_config $F "scrub_interval = 2s" "[follow]" "pubkey = $PUBKEY" "peer = $HTTP_URL/" "interval = 1h"
follower_start $F
wait_passes $F 1
n=$(count "$FLOG" "$scrub_re")
wait_count "$FLOG" "$scrub_re" $((n + 1)) 10 || fail "follower: no scrub within 10 s"
assert_grep '^[0-9TZ:-]* *emberd: scrub: [0-9]+ objects re-hashed, 0 bad$' "$FLOG"
flip_keep_mtime "$FST/objects/$song_sha" 77
cp "$FST/objects/$song_sha" "$T/f-song.bad"
wait_for_file_line "$FLOG" "^[0-9TZ:-]* *emberd: error: scrub: object $song_sha: .*; quarantined$" 10 ||
	{ tail -n 20 "$FLOG"; fail "follower: the scrub did not quarantine song.mp3 within 10 s"; }
cmp -s "$FST/quarantine/$song_sha" "$T/f-song.bad" || fail "follower: song.mp3's bad copy is not in quarantine/"
[ "$(metric "$FU" 'emberd_objects_quarantined_total{by="scrub"}')" = 1 ] || fail "follower metrics: quarantined by scrub is not 1"
wait_back "$FST" "$song_sha" || { tail -n 20 "$FLOG"; fail "follower: song.mp3 not synced again within 20 s"; }
assert_grep "^[0-9TZ:-]* *emberd: sync $song_sha: fetched song.mp3 " "$FLOG"
served_right "$FU" song.mp3 "$song_sha"
follower_stop $F
check_objects $F
server_alive
expect_exit 0 "$EMBERD" verify -c "$CONF"
pass "follower, mtime kept: its scrub quarantines, by=\"scrub\" 1, synced again; verify passes on both stores"

stop_server
expect_exit 0 "$EMBERD" verify -c "$CONF"

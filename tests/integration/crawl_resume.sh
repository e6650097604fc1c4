# Resuming downloads: a body cut midway is continued with Range + If-Range
# in the same pass (or started over when the origin ignores ranges, has no
# validators, or has changed); a crawl killed with SIGKILL continues from
# its crawl/ID.part on the next run. Every result is hashed in full.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/crawl_lib.sh"
setup_publisher
mkdir "$T/www"
start_origin --root "$T/www"

CRAWL_LINES=("timeout = 40s" "max_size = 100M")

# crawl_setup ID TARGET: config with one source; the origin log reset.
crawl_setup() {
	crawl_config "[crawl]" "${CRAWL_LINES[@]}" "[source $1]" "url = $ORIGIN$2"
	origin_reset
}

# assert_result ID NAME SHA SIZE: fetched, in the catalog, verifiable.
assert_result() {
	assert_summary "$1" "fetched $2 \($4 bytes, sha256 $3\)$"
	[ "$(catalog_field "$2" sha256)" = "$3" ] || fail "$1: catalog lacks $2 with sha256 $3"
	[ "$(catalog_field "$2" size)" = "$4" ] || fail "$1: catalog size of $2 is not $4"
	[ -e "$STORE/objects/$3" ] || fail "$1: no object $3"
	[ ! -e "$STORE/crawl/$1.part" ] || fail "$1: crawl/$1.part left after success"
	assert_no_partial
}

# req N TARGET FIELD: FIELD of the Nth request (from 1) for TARGET:
# status, sent, range, if-range.
req() {
	origin_q "(lambda r: r[int(sys.argv[4]) - 1] if len(r) >= int(sys.argv[4]) else None)([e[sys.argv[5]] if sys.argv[5] in ('status', 'sent') else e['headers'].get(sys.argv[5]) for e in L if e['path'] == sys.argv[3]])" "$2" "$1" "$3"
}

# --- 20 MB cut after 8 MB once: the retry continues with a Range -------
t="/f/big.bin?size=20000000&seed=r1&cut_after=8000000&cut_once=1"
origin_info "$t"
crawl_setup big "$t"
expect_exit 0 "$EMBERD" crawl -c "$CONF"
assert_result big big.bin "$INFO_SHA" 20000000
[ "$(origin_count "$t")" = 2 ] || { origin_show; fail "cut once: want 2 requests"; }
range=$(req 2 "$t" range)
ifr=$(req 2 "$t" if-range)
[ "$(req 2 "$t" status)" = 206 ] || { origin_show; fail "cut once: the retry did not get a 206"; }
n=${range#bytes=}
n=${n%-}
[[ "$range" =~ ^bytes=[0-9]+-$ ]] && [ "$n" -gt 0 ] && [ "$n" -le 8000000 ] ||
	{ origin_show; fail "cut once: retry Range '$range', want bytes=N- with 0 < N <= 8000000"; }
[ "$ifr" = "$INFO_ETAG" ] || [ "$ifr" = "$INFO_LM" ] ||
	{ origin_show; fail "cut once: If-Range '$ifr', want $INFO_ETAG or $INFO_LM"; }
[ "$(req 2 "$t" sent)" = $((20000000 - n)) ] || fail "cut once: the 206 did not carry the rest"
pass "20 MB cut at 8 MB: resumed with Range: $range and If-Range in the same pass"

# --- the same, but the origin ignores Range: start over ------------------
t="/f/norange.bin?size=20000000&seed=r2&cut_after=8000000&cut_once=1&ranges=0"
origin_info "$t"
crawl_setup norange "$t"
expect_exit 0 "$EMBERD" crawl -c "$CONF"
assert_result norange norange.bin "$INFO_SHA" 20000000
[ "$(origin_count "$t")" = 2 ] || { origin_show; fail "ranges=0: want 2 requests"; }
[ "$(req 2 "$t" status)" = 200 ] || fail "ranges=0: the retry was not a 200"
pass "an origin that ignores Range: the retry starts over, result right"

# --- no validators at all: no Range is even asked ------------------------
t="/f/noetag.bin?size=3000000&seed=r3&cut_after=1000000&cut_once=1&etag=0"
origin_info "$t"
crawl_setup noetag "$t"
expect_exit 0 "$EMBERD" crawl -c "$CONF"
assert_result noetag noetag.bin "$INFO_SHA" 3000000
[ "$(origin_count "$t")" = 2 ] || { origin_show; fail "etag=0: want 2 requests"; }
[ "$(req 2 "$t" range)" = None ] || { origin_show; fail "etag=0: a Range without a validator"; }
pass "without ETag or Last-Modified the retry starts over"

# --- the content changes between attempts: If-Range mismatch -> 200 -----
t="/f/moving.bin?size=20000000&seed=v1&next_seed=v2&cut_after=8000000&cut_once=1"
origin_info "$t"
old_etag=$INFO_ETAG
old_lm=$INFO_LM
want=$(origin_sha256 "/f/moving.bin?size=20000000&seed=v2")
crawl_setup moving "$t"
expect_exit 0 "$EMBERD" crawl -c "$CONF"
assert_result moving moving.bin "$want" 20000000
[ "$(origin_count "$t")" = 2 ] || { origin_show; fail "changed: want 2 requests"; }
ifr=$(req 2 "$t" if-range)
[ "$ifr" = "$old_etag" ] || [ "$ifr" = "$old_lm" ] || { origin_show; fail "changed: If-Range '$ifr'"; }
[ "$(req 2 "$t" status)" = 200 ] || { origin_show; fail "changed: the retry did not get the whole new content"; }
pass "content changed between attempts: If-Range mismatch, 200, the new content is kept whole"

# --- a resumed download is hashed whole and checked against its pin ------
t="/f/pinned.bin?size=6000000&seed=p1&cut_after=2500000&cut_once=1"
origin_info "$t"
crawl_config "[crawl]" "${CRAWL_LINES[@]}" "[source pinned]" "url = $ORIGIN$t" "sha256 = $INFO_SHA"
origin_reset
expect_exit 0 "$EMBERD" crawl -c "$CONF"
assert_result pinned pinned.bin "$INFO_SHA" 6000000
[ "$(req 2 "$t" status)" = 206 ] || { origin_show; fail "pinned: the retry did not resume"; }
pass "a resumed download matching its pin is kept"

# An origin that changes the content but keeps its ETag: the 206 glues new
# bytes to the old prefix. The pin catches it; nothing is stored.
t="/f/liar.bin?size=6000000&seed=l1&next_seed=l2&same_etag=1&cut_after=2500000&cut_once=1"
origin_info "$t"
objs=$(n_objects)
seq=$(catalog_seq)
crawl_config "[crawl]" "${CRAWL_LINES[@]}" "[source liar]" "url = $ORIGIN$t" "sha256 = $INFO_SHA"
origin_reset
expect_exit 1 "$EMBERD" crawl -c "$CONF"
assert_summary liar "failed: .*sha256 mismatch: got [0-9a-f]{64}, pinned $INFO_SHA"
[ "$(req 2 "$t" status)" = 206 ] || { origin_show; fail "liar: the retry did not resume"; }
[ "$(origin_count "$t")" = 2 ] || { origin_show; fail "liar: a pin mismatch was retried"; }
[ "$(n_objects)" = "$objs" ] || fail "liar: an object was written"
[ "$(catalog_seq)" = "$seq" ] || fail "liar: the catalog changed"
[ ! -e "$STORE/crawl/liar.part" ] || fail "liar: the rejected bytes stay in crawl/liar.part"
catalog_has liar.bin && fail "liar: in the catalog"
assert_no_partial
pass "new bytes glued to an old prefix under the same ETag: the pin rejects the whole"

# --- SIGKILL in the middle, then the next run resumes ----------------------
# kill_when_part ID MIN: wait (bounded) until crawl/ID.part has MIN bytes,
# then SIGKILL the background crawl; sets PART (its size after the kill).
kill_when_part() {
	local part="$STORE/crawl/$1.part" i sz=0
	for i in $(seq 1 400); do
		sz=$(stat -c %s "$part" 2>/dev/null || echo 0)
		[ "$sz" -ge "$2" ] && break
		kill -0 "$CRAWL_PID" 2>/dev/null ||
			{ cat "$T/err"; fail "$1: the crawl ended before crawl/$1.part reached $2 bytes"; }
		sleep 0.05
	done
	[ "$sz" -ge "$2" ] || fail "$1: crawl/$1.part stayed at $sz bytes for 20 s"
	crawl_kill
	PART=$(stat -c %s "$part" 2>/dev/null || echo 0)
	LINKS=$(stat -c %h "$part" 2>/dev/null || echo 0)
	[ -e "$STORE/crawl/$1.json" ] || fail "$1: no crawl/$1.json state after the kill"
}

# assert_resumed WHAT TARGET: the first request for TARGET after the kill
# asked for bytes=N- with 1 MB <= N <= PART, with If-Range, and got a 206;
# sets RANGE.
assert_resumed() {
	local n
	RANGE=$(req 1 "$2" range)
	n=${RANGE#bytes=}
	n=${n%-}
	[[ "$RANGE" =~ ^bytes=[0-9]+-$ ]] && [ "$n" -ge 1000000 ] && [ "$n" -le "$PART" ] ||
		{ origin_show; fail "$1 after SIGKILL at $PART bytes: first Range '$RANGE', want bytes=N- with 1 MB <= N <= $PART"; }
	[ "$(req 1 "$2" status)" = 206 ] || { origin_show; fail "$1 after SIGKILL: the resume did not get a 206"; }
	ifr=$(req 1 "$2" if-range)
	[ "$ifr" = "$INFO_ETAG" ] || [ "$ifr" = "$INFO_LM" ] || { origin_show; fail "$1 after SIGKILL: If-Range '$ifr'"; }
}

# About 3.5 MB/s: 4 KiB pieces 1 ms apart.
t="/f/slow.bin?size=12000000&seed=r4&drip=1"
origin_info "$t"
crawl_setup slow "$t"
crawl_bg
kill_when_part slow 2000000
catalog_has slow.bin && fail "killed: a partial item is in the catalog"
origin_reset
expect_exit 0 "$EMBERD" crawl -c "$CONF"
assert_result slow slow.bin "$INFO_SHA" 12000000
assert_resumed "raw content" "$t"
expect_exit 0 "$EMBERD" verify -c "$CONF"
pass "SIGKILL at $PART bytes; the next run resumed with Range: $RANGE and verified"
# The record holds both transfers: the killed one for the kept bytes,
# the resumed one for the rest.
prov_doc slow.bin | python3 -c '
import json, sys
caps = json.load(sys.stdin)["captures"]
rs = [c["payload"].get("range") for c in caps if "payload" in c]
part = int(sys.argv[1])
assert rs == [[0, part - 1], [part, 11999999]], rs
assert all(c["hops"] for c in caps), caps' "$PART" ||
	fail "the provenance of slow.bin does not hold the transfer cut by SIGKILL and the resumed one"
pass "provenance after a SIGKILL: the killed transfer for bytes 0-$((PART - 1)) and the resumed one for the rest"
# Random bytes are stored raw: the kept prefix is the store's own temp file
# (a second name for it), so the bytes were written once, not twice.
[ "$LINKS" = 2 ] || fail "raw content: crawl/slow.part had $LINKS link(s), want 2 (the store's temp file)"
pass "raw content: crawl/slow.part was the store's temp file (2 links), written once"

# Text is stored deflated: the crawler keeps the raw prefix itself.
t="/f/slowtext.txt?size=12000000&seed=r5&text=1&drip=1"
origin_info "$t"
crawl_setup slowtext "$t"
crawl_bg
kill_when_part slowtext 2000000
[ "$LINKS" = 1 ] || fail "deflated content: crawl/slowtext.part had $LINKS links, want 1 (the raw bytes)"
head -c "$PART" "$STORE/crawl/slowtext.part" | cmp -s - <(curl -s -r 0-$((PART - 1)) "$ORIGIN$t&drip=0") ||
	fail "deflated content: crawl/slowtext.part is not the first $PART bytes of the content"
origin_reset
expect_exit 0 "$EMBERD" crawl -c "$CONF"
assert_result slowtext slowtext.txt "$INFO_SHA" 12000000
assert_resumed "deflated content" "$t"
sha=$(catalog_field slowtext.txt sha256)
"$EMBERD" ls -c "$CONF" --json | python3 -c 'import json, sys
sys.exit(0 if any(i["sha256"] == sys.argv[1] and i["stored"] == "gzip" for i in json.load(sys.stdin)["items"]) else 1)' "$sha" ||
	fail "slowtext.txt was not stored deflated"
pass "deflated content: SIGKILL at $PART bytes of raw prefix; resumed with Range: $RANGE, stored gzip"

# --- SIGKILL, then the file changes at the origin before the next run -----
head -c 12000000 /dev/urandom >"$T/www/film.mp4"
touch -d @1700000000 "$T/www/film.mp4"
t="/r/film.mp4?drip=1"
crawl_setup film "$t"
crawl_bg
kill_when_part film 2000000
head -c 9000000 /dev/urandom >"$T/www/film.mp4"
touch -d @1700100000 "$T/www/film.mp4"
new=$(sha256_of "$T/www/film.mp4")
origin_reset
expect_exit 0 "$EMBERD" crawl -c "$CONF"
assert_result film film.mp4 "$new" 9000000
[ -n "$(req 1 "$t" if-range | grep -v '^None$')" ] || { origin_show; fail "changed after SIGKILL: no If-Range sent"; }
[ "$(req 1 "$t" status)" = 200 ] || { origin_show; fail "changed after SIGKILL: the origin did not send the whole new file"; }
[ "$(catalog_field film.mp4 type)" = video/mp4 ] || fail "film.mp4 type"
pass "SIGKILL, then the origin changed: If-Range mismatch, started over, new content right"

expect_exit 0 "$EMBERD" verify -c "$CONF"
pass "the store verifies"

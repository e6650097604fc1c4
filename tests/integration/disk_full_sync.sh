# A full disk under crawl and sync: with the store on a small tmpfs, a
# crawling publisher (`emberd run` with [source]s) and a follower fail
# the item that does not fit with one clear line (No space left on
# device), leave no temp file and no kept .part behind (the space is free
# again), keep serving what they had, and get the item on their next pass
# once the file system is grown (`mount -o remount,size=64m`). `emberd
# crawl` (one pass) on a full disk exits 1 with the same line, and `emberd
# add` of a file that does not fit fails cleanly on the same file system.
# Runs as root (tmpfs mounts).
. "$(dirname "$0")/lib.sh"
needs_root "it mounts tmpfs file systems"
. "$(dirname "$0")/server_lib.sh"
. "$(dirname "$0")/crawl_lib.sh"
. "$(dirname "$0")/follow_lib.sh"

# The tmpfs mounts come off once every process is gone: server_cleanup
# (the end of the EXIT chain) calls cleanup after killing what runs.
MOUNTS=()
cleanup() {
	local m
	for m in "${MOUNTS[@]}"; do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
	done
	chmod -R u+w "$T" 2>/dev/null || true
	rm -rf "$T"
}

# small_fs DIR SIZE: a tmpfs of SIZE on DIR (created).
small_fs() {
	mkdir -p "$1"
	mount -t tmpfs -o "size=$2" tmpfs "$1" || fail "cannot mount a tmpfs on $1 (run as root)"
	MOUNTS+=("$1")
}

used_of() { df --output=used -B1 "$1" | tail -n 1 | tr -d ' '; }

# count LOG PATTERN: lines of LOG matching the extended regex.
count() { grep -cE -- "$2" "$1" 2>/dev/null || true; }

# wait_count LOG PATTERN N SECONDS: poll until N lines match. The bounds
# below only stop a hang: a pass that fails on a full disk backs off
# between tries, and under AddressSanitizer on a busy machine it takes
# several times as long as alone.
wait_count() {
	local i
	for i in $(seq 1 $(($4 * 20))); do
		[ "$(count "$1" "$2")" -ge "$3" ] && return 0
		sleep 0.05
	done
	return 1
}

# quiet_used DIR LOG START DONE: the bytes used on DIR, measured while no
# pass runs (as many START lines as DONE lines in LOG, before and after
# the measurement); the passes come every 1-2 s, so a few tries suffice.
quiet_used() {
	local dir=$1 log=$2 start=$3 done=$4 i a b c d u
	for i in $(seq 1 600); do
		a=$(count "$log" "$start")
		b=$(count "$log" "$done")
		u=$(used_of "$dir")
		c=$(count "$log" "$start")
		d=$(count "$log" "$done")
		if [ "$a" = "$b" ] && [ "$a" = "$c" ] && [ "$b" = "$d" ]; then
			echo "$u"
			return 0
		fi
		sleep 0.05
	done
	fail "no quiet moment between passes in $log"
}

# quiet_leftovers DIR LOG START DONE: no_leftovers, looked at while no
# pass runs (the next pass, a second later, makes its own temp files).
quiet_leftovers() {
	local dir=$1 log=$2 start=$3 done=$4 i a b c d left
	for i in $(seq 1 600); do
		a=$(count "$log" "$start")
		b=$(count "$log" "$done")
		left=$(find "$dir" \( -name '.tmp-*' -o -name '*.part' -o -name '*.part.new' \) | head -n 5)
		c=$(count "$log" "$start")
		d=$(count "$log" "$done")
		if [ "$a" = "$b" ] && [ "$a" = "$c" ] && [ "$b" = "$d" ]; then
			[ -z "$left" ] || { ls -la "$dir/objects" "$dir/crawl" 2>/dev/null; fail "left behind: $left"; }
			return 0
		fi
		sleep 0.05
	done
	fail "no quiet moment between passes in $log"
}

# no_leftovers STORE: no temp file, no kept .part, no .part.new.
no_leftovers() {
	local left
	left=$(find "$1" \( -name '.tmp-*' -o -name '*.part' -o -name '*.part.new' \) | head -n 5)
	[ -z "$left" ] || { ls -la "$1/objects" "$1/crawl" 2>/dev/null; fail "left behind: $left"; }
}

nospace='No space left on device'

start_origin
small="/f/small.txt?size=30000&seed=small&text=1"
big="/f/big.mp4?size=20000000&seed=big&type=video%2Fmp4"
origin_info "$small"
small_sha=$INFO_SHA
origin_info "$big"
big_sha=$INFO_SHA

# ---- (c) `emberd crawl` and `emberd add` on a full 8 MiB tmpfs -----------
# The big source comes first and one transfer runs at a time, so the small
# one is fetched after the big one failed: only released space lets it in.
mkdir -p "$T/x"
small_fs "$T/x/store" 8m
XCONF="$T/x/emberd.conf"
cat >"$XCONF" <<CONF
[mirror]
store = store
key   = publisher.key
allow_root = yes
min_free = 0       ; an 8 MiB disk: what a full one does is the point here
[crawl]
concurrency = 1
[source big]
url = $ORIGIN$big
[source small]
url = $ORIGIN$small
CONF
"$EMBERD" keygen -c "$XCONF" >/dev/null 2>&1 || fail "keygen failed"
used0=$(used_of "$T/x/store")
expect_exit 1 "$EMBERD" crawl -c "$XCONF"
cp "$T/err" "$T/x/crawl.err"
assert_grep "^[0-9TZ:-]* *emberd: crawl big: failed: .*$nospace" "$T/err"
assert_grep "^[0-9TZ:-]* *emberd: crawl small: fetched small.txt \(30000 bytes, sha256 $small_sha\)$" "$T/err"
assert_grep "^[0-9TZ:-]* *emberd: crawl: 2 sources: 1 fetched, 0 unchanged, 1 failed$" "$T/err"
[ "$(count "$T/err" "$nospace")" = 1 ] || fail "want one line naming the full disk, got: $(cat "$T/err")"
no_leftovers "$T/x/store"
used=$(used_of "$T/x/store")
[ "$used" -lt $((used0 + 1000000)) ] || fail "emberd crawl: $used bytes used on the tmpfs after the failure (was $used0)"
expect_exit 0 "$EMBERD" verify -c "$XCONF"
STORE="$T/x/store" catalog_has small.txt || fail "small.txt not in the catalog"
STORE="$T/x/store" catalog_has big.mp4 && fail "big.mp4 in the catalog"
pass "emberd crawl on a full tmpfs: exit 1, '$(grep "$nospace" "$T/x/crawl.err" | head -c 160)', nothing left ($used bytes used)"

head -c 12000000 /dev/urandom >"$T/too-big.bin"
cp "$T/x/store/current/catalog.json" "$T/x/before.json"
expect_exit 1 "$EMBERD" add -c "$XCONF" "$T/too-big.bin"
assert_grep "too-big.bin.*$nospace|$nospace.*too-big.bin" "$T/err"
[ "$(grep -c . "$T/err")" = 1 ] || fail "add: want one error line, got: $(cat "$T/err")"
no_leftovers "$T/x/store"
cmp -s "$T/x/before.json" "$T/x/store/current/catalog.json" || fail "add changed the catalog"
[ "$(used_of "$T/x/store")" -lt $((used0 + 1000000)) ] || fail "add: space not released"
pass "emberd add on the same tmpfs: exit 1, one line, nothing left, catalog kept"

# ---- (a) a crawling publisher in `emberd run`, store on an 8 MiB tmpfs ----
C=crawler
FPORT[$C]=$(free_port)
small_fs "$T/$C/store" 8m
CCONF=$(fconf $C)
CST=$(fstore $C)
cat >"$CCONF" <<CONF
[http]
listen = 127.0.0.1:${FPORT[$C]}
[mirror]
name  = Crawler on a small disk
store = store
key   = publisher.key
allow_root = yes
min_free = 0
[crawl]
interval = 2s
concurrency = 1
[source big]
url = $ORIGIN$big
[source small]
url = $ORIGIN$small
CONF
"$EMBERD" keygen -c "$CCONF" >/dev/null 2>&1 || fail "keygen failed"
used0=$(used_of "$CST")
CLOG="$T/$C/run.log"
CU=$(furl $C)
follower_start $C
pstart='^[0-9TZ:-]* *emberd: crawl: [0-9]+ sources$'
pdone='^[0-9TZ:-]* *emberd: crawl: pass done: '
wait_count "$CLOG" "$pdone" 1 90 || { tail -n 30 "$CLOG"; fail "no crawl pass done within 90 s"; }
assert_grep "^[0-9TZ:-]* *emberd: crawl big: failed: .*$nospace" "$CLOG"
assert_grep "^[0-9TZ:-]* *emberd: crawl small: fetched small.txt \(30000 bytes, sha256 $small_sha\)$" "$CLOG"
assert_grep "${pdone}1 fetched, 0 unchanged, 1 failed; next in 2 s$" "$CLOG"
used=$(quiet_used "$CST" "$CLOG" "$pstart" "$pdone")
[ "$used" -lt $((used0 + 1000000)) ] || { ls -la "$CST/objects" "$CST/crawl"; fail "$used bytes used on the tmpfs between passes (was $used0)"; }
quiet_leftovers "$CST" "$CLOG" "$pstart" "$pdone"
curl_http -o "$T/c-small.txt" "$CU/files/small.txt" || fail "crawler: /files/small.txt not served"
[ "$(sha256_of "$T/c-small.txt")" = "$small_sha" ] || fail "crawler: small.txt has the wrong content"
code=$(status_of "$CU/files/big.mp4")
[ "$code" = 404 ] || fail "crawler: /files/big.mp4 answered $code while it could not be stored"
pass "emberd run on a full tmpfs: big fails ('$(grep -m1 "$nospace" "$CLOG" | head -c 150)'), small served, nothing left ($used bytes used)"

# The next pass fails the same way, and the server goes on serving.
wait_count "$CLOG" "$pdone" 2 90 || { tail -n 30 "$CLOG"; fail "no second pass within 90 s"; }
follower_alive $C
[ "$(count "$CLOG" "^[0-9TZ:-]* *emberd: crawl big: failed: .*$nospace")" -ge 2 ] || { tail -n 30 "$CLOG"; fail "the second pass did not fail the same way"; }
assert_grep "^[0-9TZ:-]* *emberd: crawl small: unchanged small.txt$" "$CLOG"
[ "$(curl_http "$CU/healthz")" = ok ] || fail "crawler: /healthz"
curl_http -o "$T/c-small.txt" "$CU/files/small.txt" || fail "crawler: /files/small.txt not served"
[ "$(sha256_of "$T/c-small.txt")" = "$small_sha" ] || fail "crawler: small.txt has the wrong content"
used=$(quiet_used "$CST" "$CLOG" "$pstart" "$pdone")
[ "$used" -lt $((used0 + 1000000)) ] || fail "$used bytes used after the second pass (was $used0)"
quiet_leftovers "$CST" "$CLOG" "$pstart" "$pdone"
pass "the next pass fails the same way; still serving, still nothing left"

# Space returns: the next pass stores the big item, and it is served.
mount -o remount,size=64m "$CST" || fail "cannot grow the tmpfs"
wait_for_file_line "$CLOG" "^[0-9TZ:-]* *emberd: crawl big: fetched big.mp4 \(20000000 bytes, sha256 $big_sha\)$" 90 ||
	{ tail -n 30 "$CLOG"; fail "big.mp4 not fetched within 90 s of the remount"; }
for i in $(seq 1 100); do
	curl -sS --max-time 2 -o "$T/c-cat.json" "$CU/catalog.json" 2>/dev/null &&
		grep -q '"big.mp4"' "$T/c-cat.json" && break
	sleep 0.05
done
grep -q '"big.mp4"' "$T/c-cat.json" || fail "crawler: big.mp4 not in the served catalog"
curl_http -o "$T/c-big.mp4" "$CU/files/big.mp4" || fail "crawler: /files/big.mp4 not served"
[ "$(sha256_of "$T/c-big.mp4")" = "$big_sha" ] || fail "crawler: /files/big.mp4 has the wrong content"
[ "$(curl_http "$CU/sha256/$big_sha" | sha256sum | cut -d' ' -f1)" = "$big_sha" ] ||
	fail "crawler: /sha256/$big_sha has the wrong content"
follower_stop $C
no_leftovers "$CST"
expect_exit 0 "$EMBERD" verify -c "$CCONF"
pass "after the remount the next pass stores big.mp4; served, hashes right, the store verifies"

# ---- (b) a follower of P, store on an 8 MiB tmpfs -------------------------
mkdir -p "$T/in"
printf 'Banned article.\n%.0s' $(seq 1 2000) >"$T/in/article.txt"
head -c 300000 /dev/urandom >"$T/in/song.mp3"
publisher_setup "$T/in/article.txt" "$T/in/song.mp3"
seq1=$PUB_SEQ
cp "$STORE/current/catalog.json" "$T/cat1.json"
F=fol
follower_config $F "min_free = 0" "[follow]" "pubkey = $PUBKEY" "peer = $HTTP_URL/" "interval = 1s"
FST=$(fstore $F)
FLOG="$T/$F/run.log"
FU=$(furl $F)
small_fs "$FST" 8m
used0=$(used_of "$FST")
follower_start $F
wait_passes $F 1
assert_grep "^[0-9TZ:-]* *emberd: sync: installed catalog sequence $seq1 from $HTTP_URL/ \(2 items\)$" "$FLOG"
check_served "$FU" "$T/cat1.json"
used1=$(used_of "$FST")
pass "follower on an 8 MiB tmpfs: first sync installs sequence $seq1 ($used1 bytes used)"

head -c 20000000 /dev/urandom >"$T/in/voice.mp4"
big2_sha=$(sha256_of "$T/in/voice.mp4")
publisher_add "$T/in/voice.mp4"
seq2=$PUB_SEQ
fdone='^[0-9TZ:-]* *emberd: sync: pass done: '
fstart='^[0-9TZ:-]* *emberd: sync: asking [0-9]+ peers? for the catalog$'
wait_for_file_line "$FLOG" "^[0-9TZ:-]* *emberd: error: sync: catalog sequence $seq2 not installed: 1 objects missing; still serving sequence $seq1$" 90 ||
	{ tail -n 30 "$FLOG"; fail "follower: no failed sync of sequence $seq2 within 90 s"; }
# The pass that failed ends (it may have ended before n was counted, on a
# busy machine; its own summary line says it did).
wait_count "$FLOG" "${fdone}0 objects fetched, 1 failed; next in 1 s$" 1 90 ||
	{ tail -n 30 "$FLOG"; fail "follower: the failed pass did not end"; }
assert_grep "^[0-9TZ:-]* *emberd: sync $big2_sha: failed: .*$nospace" "$FLOG"
assert_grep "${fdone}0 objects fetched, 1 failed; next in 1 s$" "$FLOG"
used=$(quiet_used "$FST" "$FLOG" "$fstart" "$fdone")
[ "$used" -lt $((used1 + 1000000)) ] || { ls -la "$FST/objects" "$FST/crawl"; fail "follower: $used bytes used between passes (was $used1)"; }
quiet_leftovers "$FST" "$FLOG" "$fstart" "$fdone"
curl_http -o "$T/f-cat.json" "$FU/catalog.json" || fail "follower: no /catalog.json"
cmp -s "$T/f-cat.json" "$T/cat1.json" || fail "follower: does not serve its previous catalog (sequence $seq1)"
check_served "$FU" "$T/cat1.json"
code=$(status_of "$FU/sha256/$big2_sha")
[ "$code" = 404 ] || fail "follower: /sha256/$big2_sha answered $code"
pass "follower on a full tmpfs: 'sync ${big2_sha:0:8}…: failed: …: $(grep -m1 -o "store '[^']*': write: $nospace" "$FLOG")', sequence $seq1 still served, nothing left ($used bytes used)"

# A second failing pass: still serving.
n=$(count "$FLOG" "$fdone")
wait_count "$FLOG" "$fdone" $((n + 1)) 90 || {
	tail -n 40 "$FLOG"
	follower_alive $F
	fail "follower: no further pass within 90 s"
}
follower_alive $F
[ "$(count "$FLOG" "^[0-9TZ:-]* *emberd: sync $big2_sha: failed: .*$nospace")" -ge 2 ] || { tail -n 30 "$FLOG"; fail "follower: the next pass did not fail the same way"; }
curl_http -o "$T/f-cat.json" "$FU/catalog.json" || fail "follower: no /catalog.json"
cmp -s "$T/f-cat.json" "$T/cat1.json" || fail "follower: does not serve its previous catalog"
quiet_leftovers "$FST" "$FLOG" "$fstart" "$fdone"
pass "the next sync fails the same way; sequence $seq1 still served"

mount -o remount,size=64m "$FST" || fail "cannot grow the tmpfs"
wait_for_file_line "$FLOG" "^[0-9TZ:-]* *emberd: sync: installed catalog sequence $seq2 from $HTTP_URL/ \(3 items\)$" 90 ||
	{ tail -n 30 "$FLOG"; fail "follower: sequence $seq2 not installed within 90 s of the remount"; }
assert_grep "^[0-9TZ:-]* *emberd: sync $big2_sha: fetched voice.mp4 \(20000000 bytes, sha256 $big2_sha\)$" "$FLOG"
for i in $(seq 1 100); do
	curl -sS --max-time 2 -o "$T/f-cat.json" "$FU/catalog.json" 2>/dev/null &&
		cmp -s "$T/f-cat.json" "$STORE/current/catalog.json" && break
	sleep 0.05
done
same_catalog "$FST/current"
cmp -s "$T/f-cat.json" "$STORE/current/catalog.json" || fail "follower: does not serve sequence $seq2"
check_served "$FU" "$STORE/current/catalog.json"
follower_stop $F
check_objects $F
pass "after the remount the follower installs sequence $seq2; every item served and verified"
server_alive

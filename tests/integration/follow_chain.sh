# A chain of mirrors under `emberd run`: publisher -> A (follows the
# publisher) -> B (follows A only), both with [follow] interval = 2s.
# B converges to the publisher's signed catalog bytes and objects; an item
# the publisher adds while serving reaches A, then B, on their next passes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
. "$(dirname "$0")/follow_lib.sh"
command -v minisign >/dev/null || fail "minisign is not installed"

mkdir "$T/in"
head -c 3500000 /dev/urandom >"$T/in/voice-of-april.mp4"
printf 'The banned article, in full.\n%.0s' $(seq 1 3000) >"$T/in/article.txt"
publisher_setup "$T/in/voice-of-april.mp4" "$T/in/article.txt"

follower_config A "[follow]" "pubkey = $PUBKEY" "peer = $HTTP_URL/" "interval = 2s"
follower_config B "[follow]" "pubkey = $PUBKEY" "peer = $(furl A)/" "interval = 2s"
# B starts first: its first passes find nothing at A and must not harm it.
follower_start B
follower_start A

# wait_same NAME SECONDS: poll NAME's served /catalog.json (and .minisig)
# until it is the publisher's current one, bounded.
wait_same() {
	local name=$1 secs=$2 i url
	url=$(furl "$name")
	for i in $(seq 1 $((secs * 10))); do
		if curl -sS --max-time 2 -o "$T/$name-cat.json" "$url/catalog.json" 2>/dev/null &&
			cmp -s "$T/$name-cat.json" "$STORE/current/catalog.json"; then
			curl_http -o "$T/$name-cat.json.minisig" "$url/catalog.json.minisig" ||
				fail "$name: no /catalog.json.minisig"
			cmp -s "$T/$name-cat.json.minisig" "$STORE/current/catalog.json.minisig" ||
				fail "$name serves the publisher's catalog with another signature file"
			return 0
		fi
		follower_alive "$name"
		server_alive
		sleep 0.1
	done
	tail -n 30 "$T/$name/run.log"
	fail "$name does not serve the publisher's catalog (sequence $PUB_SEQ) within $secs s"
}

t0=$(date +%s%N)
wait_same A 30
wait_same B 30
t=$(( ($(date +%s%N) - t0) / 1000000 ))
expect_exit 0 minisign -Vm "$T/B-cat.json" -P "$PUBKEY"
check_served "$(furl B)" "$STORE/current/catalog.json"
curl_http -o "$T/B-pubkey" "$(furl B)/pubkey" || fail "B: no /pubkey"
curl_http -o "$T/P-pubkey" "$HTTP_URL/pubkey" || fail "publisher: no /pubkey"
cmp -s "$T/B-pubkey" "$T/P-pubkey" || fail "B's /pubkey is not the publisher's"
assert_grep "sync: installed catalog sequence $PUB_SEQ from $(furl A)/ " "$T/B/run.log"
pass "B (following A) converges to the publisher's catalog and objects in $t ms; minisign verifies"

# The publisher adds an item while it serves; A and B pick it up.
head -c 400000 /dev/urandom >"$T/in/flyer.png"
new=$(sha256_of "$T/in/flyer.png")
publisher_add "$T/in/flyer.png"
t0=$(date +%s%N)
wait_same A 30
wait_same B 30
t=$(( ($(date +%s%N) - t0) / 1000000 ))
check_served "$(furl B)" "$STORE/current/catalog.json"
assert_grep "sync $new: fetched flyer.png \(400000 bytes, sha256 $new\)" "$T/A/run.log"
assert_grep "sync $new: fetched flyer.png \(400000 bytes, sha256 $new\)" "$T/B/run.log"
assert_grep "sync: installed catalog sequence $PUB_SEQ from $(furl A)/ " "$T/B/run.log"
pass "an item added at the publisher reaches A and then B (sequence $PUB_SEQ, $t ms)"

# Passes go on every 2 s (counted from the end of the last one), and an
# up-to-date pass changes nothing.
mark=$(wc -l <"$T/B/run.log")
FPASS[B]=$(grep -c 'sync: pass done' "$T/B/run.log")
t0=$(date +%s%N)
wait_passes B 2 20
t=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$t" -ge 1800 ] || fail "B made two passes in $t ms with interval = 2s"
tail -n +$((mark + 1)) "$T/B/run.log" >"$T/B-late.log"
assert_grep "sync: up to date at catalog sequence $PUB_SEQ$" "$T/B-late.log"
assert_grep "sync: pass done: 0 objects fetched, 0 failed" "$T/B-late.log"
! grep -q "sync: installed" "$T/B-late.log" || fail "B installed a catalog again on an up-to-date pass"
curl_http -o "$T/B-cat2.json" "$(furl B)/catalog.json"
cmp -s "$T/B-cat2.json" "$STORE/current/catalog.json" || fail "B's catalog changed on an up-to-date pass"
pass "B passes every interval ($t ms for two); up to date, nothing fetched, same catalog"

# A reader at the end of the chain: emberd fetch from B, with only the
# publisher's key, gets bytes that verify.
mkdir "$T/reader"
(cd "$T/reader" && "$EMBERD" fetch --pubkey "$PUBKEY" -m "$(furl B)/" flyer.png) \
	2>"$T/err" || { cat "$T/err"; fail "emberd fetch from B failed"; }
[ "$(sha256_of "$T/reader/flyer.png")" = "$new" ] || fail "emberd fetch from B: wrong bytes"
[ ! -s "$T/err" ] || { cat "$T/err"; fail "emberd fetch printed something off a terminal"; }
[ ! -e "$T/reader/flyer.png.part" ] || fail "emberd fetch left flyer.png.part"
pass "a reader's emberd fetch against B, with the publisher's key: verified bytes"

follower_stop B
follower_stop A
stop_server

# B started with no catalog: what it logs must not advise `emberd add`,
# which a follower refuses.
! grep -n 'emberd add' "$T/B/run.log" || fail "the follower's log advises emberd add"
pass "a follower without a catalog yet does not advise emberd add"

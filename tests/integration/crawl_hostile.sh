# emberd crawl against a hostile origin, one source per pass: slow drips
# complete; stalls time out; truncated bodies and lying Content-Lengths are
# retried and fail cleanly; 5xx is retried (Retry-After honoured), 4xx is
# not; redirect loops and redirects to file:// or ftp:// are refused; bodies
# over max_size are refused with or without a Content-Length. Nothing
# partial is ever visible and a failure leaves the catalog as it was.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/crawl_lib.sh"
setup_publisher
start_origin

# Small limits keep the failures quick: a stalled transfer gives up after 3 s.
CRAWL_LINES=("timeout = 3s" "max_size = 1M")

# crawl_one ID TARGET EXIT: one pass over a single source, origin log reset
# first; the catalog and object count before are kept for assert_untouched.
crawl_one() {
	local id=$1 target=$2 want=$3 t0
	crawl_config "[crawl]" "${CRAWL_LINES[@]}" "[source $id]" "url = $ORIGIN$target"
	if [ -e "$STORE/current/catalog.json" ]; then
		cp "$STORE/current/catalog.json" "$T/catalog.before"
	else
		: >"$T/catalog.before"
	fi
	OBJS_BEFORE=$(n_objects)
	origin_reset
	t0=$(date +%s%N)
	expect_exit "$want" "$EMBERD" crawl -c "$CONF"
	CRAWL_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
}

# assert_untouched WHAT: no catalog change, no object, nothing partial.
assert_untouched() {
	if [ -s "$T/catalog.before" ]; then
		cmp -s "$T/catalog.before" "$STORE/current/catalog.json" ||
			fail "$1: the catalog changed"
	else
		[ ! -e "$STORE/current/catalog.json" ] || fail "$1: a catalog appeared"
	fi
	[ "$(n_objects)" = "$OBJS_BEFORE" ] || fail "$1: an object was written"
	assert_no_partial
}

# assert_fetched ID NAME TARGET: summary, catalog item and object are right.
assert_fetched() {
	local id=$1 name=$2 target=$3 sha size
	origin_info "$target"
	sha=$INFO_SHA size=$INFO_SIZE
	assert_summary "$id" "fetched $name \($size bytes, sha256 $sha\)$"
	assert_total 1 1 0 0
	[ "$(catalog_field "$name" sha256)" = "$sha" ] || fail "$id: catalog lacks $name with sha256 $sha"
	[ -e "$STORE/objects/$sha" ] || fail "$id: no object $sha"
	assert_no_partial
}

# assert_requests TARGET N WHAT: the origin saw exactly N requests for TARGET.
assert_requests() {
	local n
	n=$(origin_count "$1")
	[ "$n" = "$2" ] || { origin_show; fail "$3: $n requests to the origin, want $2"; }
}

# --- slow but steady -----------------------------------------------------
t="/f/drip.bin?size=98304&seed=drip&drip=80"
crawl_one drip "$t" 0
assert_fetched drip drip.bin "$t"
[ "$CRAWL_MS" -ge 1500 ] || fail "drip: the origin did not drip (${CRAWL_MS} ms)"
pass "a slow drip (~2 s, 4 KiB pieces) completes"

# --- stalled: headers and 20 kB, then silence; or no answer at all ------
# Both sources in one pass (they run side by side) to keep the test short.
t="/f/stall.bin?size=100000&seed=stall&stall_after=20000"
crawl_config "[crawl]" "${CRAWL_LINES[@]}" "[source stall]" "url = $ORIGIN$t" \
	"[source hang]" "url = $ORIGIN/hang"
cp "$STORE/current/catalog.json" "$T/catalog.before"
OBJS_BEFORE=$(n_objects)
origin_reset
t0=$(date +%s)
expect_exit 1 "$EMBERD" crawl -c "$CONF"
secs=$(( $(date +%s) - t0 ))
assert_summary stall "failed: .*transfer failed after 3 attempts: .*([Tt]ime|slow)"
assert_summary hang "failed: .*transfer failed after 3 attempts: .*([Tt]ime|slow)"
assert_total 2 0 0 2
assert_requests "$t" 3 "stall"
assert_requests /hang 3 "hang"
for p in "$t" /hang; do
	n=$(origin_q "len([e for e in L if e['path'] == sys.argv[3] and e['done'] and 2.0 <= e['done'] - e['time'] <= 15])" "$p")
	[ "$n" = 3 ] || { origin_show; fail "$p: each attempt should end after about the 3 s timeout"; }
done
assert_untouched stall
pass "a stalled body, and an origin that never answers, fail after 3 attempts with a timeout (${secs} s)"

# --- truncated bodies ------------------------------------------------------
t="/f/cut1.bin?size=300000&seed=cut1&cut_after=100000&cut_once=1"
crawl_one cut1 "$t" 0
assert_fetched cut1 cut1.bin "$t"
assert_requests "$t" 2 "cut once"
pass "a body cut once is retried and completes"

t="/f/cut.bin?size=300000&seed=cut&cut_after=100000"
crawl_one cut "$t" 1
assert_summary cut "failed: .*transfer failed after 3 attempts: "
assert_requests "$t" 3 "always cut"
assert_untouched cut
pass "a body cut every time fails after 3 attempts"

# --- Content-Length longer than the body (no validators, so no resume) ---
t="/f/len.bin?size=50000&seed=len&len=80000&etag=0"
crawl_one len "$t" 1
assert_summary len "failed: .*transfer failed after 3 attempts: "
assert_requests "$t" 3 "wrong Content-Length"
assert_untouched len
pass "a Content-Length longer than the body fails after 3 attempts"

# --- 5xx -----------------------------------------------------------------
t="/f/e500.bin?size=20000&seed=e500&fail=2&status=500"
crawl_one e500 "$t" 0
assert_fetched e500 e500.bin "$t"
got=$(origin_q "[e['status'] for e in L if e['path'] == sys.argv[3]]" "$t")
[ "$got" = "[500, 500, 200]" ] || { origin_show; fail "500 then 200: statuses $got"; }
pass "500, 500, then 200: fetched on the third attempt"

t="/f/always500.bin?size=20000&fail=1000&status=500"
crawl_one always500 "$t" 1
assert_summary always500 "failed: .*HTTP 500 after 3 attempts"
assert_requests "$t" 3 "always 500"
assert_untouched always500
pass "500 every time: failed after 3 attempts, no more"

t="/f/e503.bin?size=20000&seed=e503&fail=1&status=503&retry_after=1"
crawl_one e503 "$t" 0
assert_fetched e503 e503.bin "$t"
assert_requests "$t" 2 "503 with Retry-After"
gap=$(origin_q "(lambda t: '%.3f' % (t[1] - t[0]))(sorted(e['time'] for e in L if e['path'] == sys.argv[3]))" "$t")
python3 -c 'import sys; sys.exit(0 if 1.0 <= float(sys.argv[1]) <= 20 else 1)' "$gap" ||
	fail "503 with Retry-After: 1: the retry came after $gap s"
pass "503 with Retry-After: 1: retried after $gap s, then fetched"

# --- 4xx: not retried ------------------------------------------------------
for code in 404 403 410; do
	t="/f/c$code.bin?fail=1000&status=$code"
	crawl_one "c$code" "$t" 1
	assert_summary "c$code" "failed: .*HTTP $code"
	assert_requests "$t" 1 "HTTP $code"
	assert_untouched "HTTP $code"
done
pass "404, 403, 410: failed at once, one request each"

# --- redirects -------------------------------------------------------------
t="/redirect?to=%2Ff%2Ftarget%2Ebin%3Fsize%3D3000%26seed%3Dtarget"
crawl_one redir "$t" 0
want=$(origin_sha256 "/f/target.bin?size=3000&seed=target")
assert_summary redir "fetched target.bin \(3000 bytes, sha256 $want\)$"
# The configured URL, without its query (source_urls = origin).
[ "$(catalog_field target.bin source)" = "$ORIGIN/redirect" ] || fail "redirect: source is not the configured URL"
pass "a redirect is followed; the name comes from the final URL"

t="/loop/0?max=4&to=%2Ff%2Fhop5%2Ebin%3Fsize%3D3000%26seed%3Dhop5"
crawl_one hop5 "$t" 0
assert_fetched hop5 hop5.bin "/f/hop5.bin?size=3000&seed=hop5"
pass "5 redirects are followed"

t="/loop/0?max=5&to=%2Ff%2Fhop6%2Ebin%3Fsize%3D3000%26seed%3Dhop6"
crawl_one hop6 "$t" 1
assert_summary hop6 "failed: .*too many redirects"
[ "$(origin_count "/f/hop6.bin?size=3000&seed=hop6")" = 0 ] || fail "the 7th hop was fetched"
assert_untouched hop6
pass "6 redirects are too many"

crawl_one loop /loop/0 1
assert_summary loop "failed: .*too many redirects"
n=$(origin_q "len([e for e in L if e['path'].startswith('/loop/')])")
[ "$n" -ge 6 ] && [ "$n" -le 21 ] || { origin_show; fail "redirect loop: $n requests"; }
assert_untouched loop
pass "a redirect loop: too many redirects ($n requests)"

passwd_sha=$(sha256_of /etc/passwd)
for to in "file:///etc/passwd" "ftp://127.0.0.1/x" "gopher://127.0.0.1/x" "FILE:///etc/passwd"; do
	t="/redirect?to=$to"
	crawl_one proto "$t" 1
	assert_summary proto "failed: .*protocol not allowed"
	assert_untouched "redirect to $to"
	[ ! -e "$STORE/objects/$passwd_sha" ] || fail "/etc/passwd is in the store"
	! grep -rqs 'root:x:0:' "$STORE" || fail "/etc/passwd content in the store"
	catalog_has passwd && fail "/etc/passwd is in the catalog"
done
pass "redirects to file://, ftp://, gopher:// are refused: protocol not allowed"

# A final URL whose last segment decodes to a path or a dot-name never
# becomes such a name, nor a file outside the store.
i=0
for seg in "%2E%2E%2F%2E%2E%2Fescaped.bin" ".hidden" "a%2Fb" "%00nul" "%2E%2E"; do
	i=$((i + 1))
	t="/redirect?to=%2Ff%2F$(printf '%s' "$seg" | sed 's/%/%25/g')%3Fsize%3D100%26seed%3Dtrick$i"
	crawl_config "[crawl]" "${CRAWL_LINES[@]}" "[source trick$i]" "url = $ORIGIN$t"
	"$EMBERD" crawl -c "$CONF" >"$T/out" 2>"$T/err" || true
	assert_summary "trick$i" "(fetched|failed)"
	python3 - "$STORE/current/catalog.json" <<'PY' || fail "redirect to /f/$seg: bad item name in the catalog"
import json, sys
for i in json.load(open(sys.argv[1]))["items"]:
    n = i["name"]
    assert "/" not in n and "\\" not in n and not n.startswith(".") and "\0" not in n and n, n
PY
	[ ! -e "$T/escaped.bin" ] && [ ! -e "$STORE/escaped.bin" ] || fail "a file escaped the store"
	assert_no_partial
done
expect_exit 0 "$EMBERD" ls -c "$CONF"
pass "path tricks in the final URL never make a bad name"

# --- max_size (1M) ---------------------------------------------------------
for t in "/f/big.bin?size=2000000&seed=big" "/f/huge.bin?size=1000&clen_over=1"; do
	crawl_one big "$t" 1
	assert_summary big "failed: .*larger than max_size"
	assert_requests "$t" 1 "over max_size ($t)"
	[ ! -s "$STORE/crawl/big.part" ] || fail "over max_size ($t): bytes kept in crawl/big.part"
	assert_untouched "over max_size ($t)"
done
pass "a Content-Length above max_size (2 MB, 10 TiB): refused, one request, nothing written"

t="/f/chunky.bin?size=3000000&seed=chunky&chunked=1"
crawl_one chunky "$t" 1
assert_summary chunky "failed: .*larger than max_size"
assert_requests "$t" 1 "chunked over max_size"
[ ! -s "$STORE/crawl/chunky.part" ] || fail "chunked over max_size: bytes kept in crawl/chunky.part"
assert_untouched "chunked over max_size"
pass "a chunked body growing past max_size: refused, one request, nothing written"

# A gzip body small on the wire that decodes past max_size (a bomb).
t="/f/bomb.txt?size=8000000&seed=bomb&text=1&gzip=always"
crawl_one bomb "$t" 1
assert_summary bomb "failed: .*larger than max_size"
assert_requests "$t" 1 "gzip bomb"
[ ! -s "$STORE/crawl/bomb.part" ] || fail "gzip bomb: bytes kept in crawl/bomb.part"
assert_untouched "gzip bomb"
pass "a gzip body decoding past max_size is refused"

t="/f/chunk-ok.bin?size=500000&seed=chunkok&chunked=1"
crawl_one chunkok "$t" 0
assert_fetched chunkok chunk-ok.bin "$t"
pass "a chunked body under max_size is fetched"

expect_exit 0 "$EMBERD" verify -c "$CONF"
pass "the store verifies after all of it"

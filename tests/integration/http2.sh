# emberd run over HTTP/2 (ALPN h2 on the HTTPS listener), one daemon for
# all of it:
#   - every route of the contract over h2 (curl --http2, one process for
#     the lot): status, the policy headers, Content-Disposition, Vary,
#     Onion-Location, no connection-specific fields; HEAD, 404, 405, 400;
#     and the same through nghttp (ranges, 304, gzip);
#   - HTTP/1.1 still chosen by a client that offers only http/1.1, or no
#     ALPN at all, and on the plain listener;
#   - 300 ranges of one object on one connection (100 at a time, the
#     server's limit), each compared with the original's bytes;
#   - 100 streams of an 8 MiB object held by a reader whose windows stay
#     shut: the daemon buffers nothing of their bodies (resident memory,
#     plain build), one descriptor a stream, all back after; two then
#     read to the end;
#   - two streams at once take turns, unless a priority field says
#     otherwise (RFC 9218); a stream sending alone reads its file several
#     frames at a time (read system calls counted);
#   - a small object asked for the first time (so not held in memory:
#     read from its file as its frames go), cut short under a reader
#     holding its stream: the stream is reset after the right bytes, and
#     the connection serves on;
#   - floods: SETTINGS, PING, rapid reset, CONTINUATION, too many
#     streams, a header list too large: each ends with GOAWAY (or the
#     close), and /healthz answers after each;
#   - an idle h2 connection is ended like an idle HTTP/1.1 one, and
#     SIGTERM lets a download in flight over h2 finish.
# The full table of ranges, conditionals and gzip runs over h2 and
# HTTP/1.1 in server_http_semantics.sh.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
setup_publisher

head -c 1000003 /dev/urandom >"$T/media.mp4"
head -c 200000 /dev/urandom >"$T/clip.mp4"
head -c 200000 /dev/urandom >"$T/cut.mp4"
head -c $((8 * 1024 * 1024)) /dev/urandom >"$T/big.bin"
seq 1 60000 >"$T/text.txt"
printf '<html><body>mirrored page</body></html>\n' >"$T/page.html"
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/media.mp4" "$T/big.bin" "$T/text.txt" "$T/page.html" \
	"$T/clip.mp4" "$T/cut.mp4"
start_server 'onion = http://exampleonionaddressxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.onion/'
CERT="$STORE/tls/cert.pem"
H2C=(python3 "$TESTS_DIR/integration/h2_client.py" "$HTTPS_PORT" "$CERT")
media=$(sha256_of "$T/media.mp4")
text=$(sha256_of "$T/text.txt")

# An idle connection from the start: it must be ended within the
# header timeout (10 s) and a little, while the rest runs.
"${H2C[@]}" idle 40 >"$T/idle.out" 2>&1 &
IDLE_PID=$!
bg "$IDLE_PID"

# --- every route over h2, in one curl
# seg NAME URL [ARGS...]: one --next segment, headers to $T/r/NAME.h.
mkdir "$T/r"
: >"$T/routes.args"
seg() {
	local name=$1 url=$2
	shift 2
	[ ! -s "$T/routes.args" ] || printf '%s\0' --next >>"$T/routes.args"
	printf '%s\0' --http2 --cacert "$CERT" -sS -D "$T/r/$name.h" -o "$T/r/$name" \
		-w "$name %{http_version} %{http_code}\n" "$@" "$url" >>"$T/routes.args"
}
seg index "$HTTPS_URL/" -H "Accept-Language: ru"
seg catalog "$HTTPS_URL/catalog.json"
seg sig "$HTTPS_URL/catalog.json.minisig"
seg pubkey "$HTTPS_URL/pubkey"
seg healthz "$HTTPS_URL/healthz"
seg metrics "$HTTPS_URL/metrics"
seg feed "$HTTPS_URL/feed.xml" -H "Accept-Encoding: gzip"
seg media "$HTTPS_URL/files/media.mp4"
seg media_head "$HTTPS_URL/files/media.mp4" -I
seg by_hash "$HTTPS_URL/sha256/$media"
seg meta4 "$HTTPS_URL/files/media.mp4.meta4"
seg torrent "$HTTPS_URL/files/media.mp4.torrent"
seg page "$HTTPS_URL/files/page.html"
seg text_gz "$HTTPS_URL/files/text.txt" -H "Accept-Encoding: gzip"
seg range "$HTTPS_URL/files/media.mp4" -r 100-199
seg unsat "$HTTPS_URL/files/media.mp4" -r 2000000-
seg inm "$HTTPS_URL/files/text.txt" -H "If-None-Match: \"$text\""
seg ifrange "$HTTPS_URL/files/media.mp4" -r 5-9 -H "If-Range: \"$media\""
seg ifrange_old "$HTTPS_URL/files/media.mp4" -r 5-9 -H "If-Range: \"0000\""
seg missing "$HTTPS_URL/files/nope.bin"
seg bad "$HTTPS_URL/files/%zz"
seg post "$HTTPS_URL/files/media.mp4" -X POST --data-binary "upload"
seg get_body "$HTTPS_URL/files/media.mp4" -X GET --data-binary "upload"
xargs -0 curl --no-progress-meter --parallel --parallel-max 8 <"$T/routes.args" >"$T/routes.out" ||
	{ cat "$T/routes.out"; server_fail "curl --http2 over the routes failed"; }
want_status() {	# want_status NAME CODE
	grep -qx "$1 2 $2" "$T/routes.out" ||
		{ cat "$T/routes.out"; server_fail "$1: want HTTP/2 $2, got: $(grep "^$1 " "$T/routes.out")"; }
}
want_hdr() {	# want_hdr NAME FIELD VALUE
	[ "$(header "$2" "$T/r/$1.h")" = "$3" ] ||
		{ cat "$T/r/$1.h"; server_fail "$1: $2 is '$(header "$2" "$T/r/$1.h")', want '$3'"; }
}
for n in index catalog sig pubkey healthz metrics feed media media_head by_hash meta4 \
	torrent page text_gz range ifrange ifrange_old; do
	want_status "$n" "$([ "$n" = range ] || [ "$n" = ifrange ] && echo 206 || echo 200)"
done
want_status unsat 416
want_status inm 304
want_status missing 404
want_status bad 400
want_status post 405
want_status get_body 400
for f in "$T"/r/*.h; do
	n=$(basename "$f" .h)
	head -n 1 "$f" | grep -q '^HTTP/2 ' || server_fail "$n: not HTTP/2: $(head -n 1 "$f")"
	has_header X-Content-Type-Options "$f" || server_fail "$n: no nosniff"
	has_header Content-Security-Policy "$f" || server_fail "$n: no Content-Security-Policy"
	for bad in Connection Keep-Alive Transfer-Encoding; do
		! has_header "$bad" "$f" || server_fail "$n: $bad on an HTTP/2 response"
	done
	has_header Date "$f" || server_fail "$n: no Date"
done
want_hdr media Content-Security-Policy sandbox
want_hdr media Content-Length 1000003
want_hdr media ETag "\"$media\""
want_hdr media Content-Disposition "inline; filename=\"media.mp4\"; filename*=UTF-8''media.mp4"
want_hdr media Repr-Digest "sha-256=:$(openssl dgst -sha256 -binary "$T/media.mp4" | base64):"
[ "$(sha256_of "$T/r/media")" = "$media" ] || server_fail "media: wrong bytes over h2"
[ "$(sha256_of "$T/r/by_hash")" = "$media" ] || server_fail "by hash: wrong bytes over h2"
want_hdr by_hash Cache-Control "public, max-age=31536000, immutable"
want_hdr media_head Content-Length 1000003
# curl -I writes the head to -o too: nothing else may be there.
cmp -s "$T/r/media_head" "$T/r/media_head.h" || server_fail "HEAD over h2 sent a body"
want_hdr range Content-Range "bytes 100-199/1000003"
cmp -s "$T/r/range" <(tail -c +101 "$T/media.mp4" | head -c 100) || server_fail "range: wrong bytes"
want_hdr unsat Content-Range "bytes */1000003"
want_hdr ifrange Content-Range "bytes 5-9/1000003"
want_hdr ifrange_old Content-Length 1000003
want_hdr text_gz Content-Encoding gzip
want_hdr text_gz Vary Accept-Encoding
[ "$(gzip -dc <"$T/r/text_gz" | sha256sum | cut -d' ' -f1)" = "$text" ] ||
	server_fail "gzip over h2 does not gunzip to the object"
[ ! -s "$T/r/inm" ] || server_fail "304 with a body"
want_hdr post Allow "GET, HEAD"
want_hdr index Content-Language ru
want_hdr index Vary "Accept-Encoding, Accept-Language"
case $(header Content-Security-Policy "$T/r/index.h") in
"default-src 'none'"*) ;;
*) server_fail "index: CSP '$(header Content-Security-Policy "$T/r/index.h")'" ;;
esac
want_hdr page Onion-Location "http://exampleonionaddressxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.onion/files/page.html"
want_hdr page Content-Security-Policy sandbox
grep -q '^emberd_' "$T/r/metrics" || server_fail "metrics over h2: no emberd_ counters"
[ "$(cat "$T/r/healthz")" = ok ] || server_fail "healthz over h2: $(cat "$T/r/healthz")"
cmp -s "$T/r/catalog" "$STORE/current/catalog.json" || server_fail "catalog.json over h2 differs"
pass "$(wc -l <"$T/routes.out") requests over HTTP/2 in one curl: routes, HEAD, ranges, 304, 416, If-Range, gzip, 400, 404, 405; policy headers on each, no connection fields"

# The same through nghttp (another HTTP/2 implementation).
nghttp -v -H "range: bytes=10-19" "$HTTPS_URL/sha256/$media" >"$T/ng.range" 2>&1 ||
	{ tail "$T/ng.range"; server_fail "nghttp range failed"; }
grep -q ':status: 206' "$T/ng.range" && grep -q 'content-range: bytes 10-19/1000003' "$T/ng.range" ||
	{ tail -n 30 "$T/ng.range"; server_fail "nghttp: no 206 with Content-Range"; }
nghttp -v -H "if-none-match: \"$text\"" "$HTTPS_URL/files/text.txt" >"$T/ng.inm" 2>&1 &&
	grep -q ':status: 304' "$T/ng.inm" || server_fail "nghttp: If-None-Match not 304"
nghttp -v -H "accept-encoding: gzip" "$HTTPS_URL/files/text.txt" >"$T/ng.gz" 2>&1 &&
	grep -q 'content-encoding: gzip' "$T/ng.gz" || server_fail "nghttp: no gzip"
nghttp -n -s -m 20 "$HTTPS_URL/files/media.mp4" >"$T/ng.multi" 2>&1 ||
	{ tail "$T/ng.multi"; server_fail "nghttp: 20 streams failed"; }
[ "$(grep -c ' 200 .*/files/media.mp4' "$T/ng.multi")" = 20 ] ||
	{ cat "$T/ng.multi"; server_fail "nghttp: not 20 answers of 200"; }
pass "nghttp: 206 + Content-Range, 304, gzip, 20 streams on one connection"

# --- HTTP/1.1 where it is asked for
v=$(curl_https --http1.1 -o /dev/null -w '%{http_version}' "$HTTPS_URL/files/media.mp4")
[ "$v" = 1.1 ] || server_fail "ALPN http/1.1 only: got HTTP $v"
v=$(curl_https --no-alpn -o /dev/null -w '%{http_version}' "$HTTPS_URL/healthz")
[ "$v" = 1.1 ] || server_fail "no ALPN: got HTTP $v"
v=$(curl_http --http2 -o /dev/null -w '%{http_version}' "$HTTP_URL/healthz")
[ "$v" = 1.1 ] || server_fail "plain HTTP: got HTTP $v (no h2c offered)"
alpn=$(openssl s_client -connect "127.0.0.1:$HTTPS_PORT" -alpn h2,http/1.1 </dev/null 2>/dev/null |
	grep -a '^ALPN protocol')
[ "$alpn" = "ALPN protocol: h2" ] || server_fail "ALPN h2,http/1.1: '$alpn'"
pass "HTTP/1.1 when offered alone, without ALPN, and on plain HTTP; h2 preferred"

# --- many streams on one connection, byte-checked
"${H2C[@]}" ranges "/files/media.mp4" "$T/media.mp4" 300 >"$T/ranges.out" 2>&1 ||
	{ cat "$T/ranges.out"; server_fail "300 ranges on one connection"; }
pass "$(cat "$T/ranges.out")"

# --- 100 streams held with shut windows: nothing of their bodies buffered
rss_kb() { awk '$1 == "VmRSS:" {print $2}' "/proc/$SERVER_PID/status"; }
fd_count() { ls "/proc/$SERVER_PID/fd" | wc -l; }
FD_BASE=$(fd_count)
RSS_BASE=$(rss_kb)
"${H2C[@]}" held /files/big.bin 100 "$T/held" >"$T/held.out" 2>&1 &
HELD_PID=$!
bg "$HELD_PID"
for i in $(seq 1 600); do [ -e "$T/held" ] || [ ! -d "/proc/$HELD_PID" ] && break; sleep 0.05; done
[ -e "$T/held" ] || { cat "$T/held.out"; server_fail "100 streams were not all answered"; }
read -r n_held size <"$T/held"
[ "$n_held" = 100 ] && [ "$size" = $((8 * 1024 * 1024)) ] || server_fail "held: $n_held streams of $size bytes"
RSS_HELD=$(rss_kb)
FD_HELD=$(fd_count)
touch "$T/held.go"
wait "$HELD_PID" || { cat "$T/held.out"; server_fail "the held streams did not end well"; }
cmp -s "$T/held.body" "$T/big.bin" || server_fail "held stream read to the end: wrong bytes"
# One descriptor per stream (the object), the connection's, no more.
[ "$FD_HELD" -le $((FD_BASE + 101)) ] || server_fail "$FD_HELD descriptors for 100 streams (base $FD_BASE)"
grown=$((RSS_HELD - RSS_BASE))
if [ "${EMBERD_SANITIZED:-0}" = 0 ]; then
	# 100 x 8 MiB sent to nobody: a body buffered would be 800 MB; a
	# frame's worth each 1.6 MB.
	[ "$grown" -lt $((8 * 1024)) ] || server_fail "resident memory grew by $grown KiB with 100 held streams"
fi
for i in $(seq 1 100); do [ "$(fd_count)" -le "$FD_BASE" ] && break; sleep 0.05; done
[ "$(fd_count)" -le "$FD_BASE" ] || server_fail "$(fd_count) descriptors after the streams ended (base $FD_BASE)"
pass "100 streams of 8 MiB held with shut windows: RSS +$grown KiB, $((FD_HELD - FD_BASE)) descriptors, back to base after; 2 read whole"

# --- streams share the connection: two at once with no priority field
# take turns frame by frame; with "priority: u=3" (RFC 9218: not
# incremental) the first goes whole before the second.
"${H2C[@]}" turns /files/clip.mp4 >"$T/turns.out" 2>&1 ||
	{ cat "$T/turns.out"; server_fail "two streams of clip.mp4 at once failed"; }
# no field: N frames, C changes; u=3: N frames, C changes
IFS=' ;,:' read -r _ _ n1 _ c1 _ _ n2 _ c2 _ <"$T/turns.out"
[ "$c1" -ge $((n1 / 2)) ] ||
	{ cat "$T/turns.out"; server_fail "two streams with no priority field: $c1 changes in $n1 frames, not taking turns"; }
[ "$c2" -eq 1 ] ||
	{ cat "$T/turns.out"; server_fail "two streams with priority u=3: $c2 changes in $n2 frames, want one after the other"; }
pass "two streams of clip.mp4 at once: no priority field, turns ($c1 changes in $n1 frames); priority u=3, one after the other ($c2 change)"

# --- a stream sending alone reads its file several frames at a time:
# read system calls of the whole process (/proc/PID/io syscr: the
# file's reads and the socket's) while one stream of big.bin goes out,
# against its DATA frames (16 KiB at most each, 512 at least). One read
# a frame, as before, is more than 512.
syscr() { awk '$1 == "syscr:" { print $2 }' "/proc/$SERVER_PID/io"; }
r0=$(syscr)
curl_https --http2 -o "$T/big.got" "$HTTPS_URL/files/big.bin" || server_fail "big.bin over h2 failed"
r1=$(syscr)
cmp -s "$T/big.got" "$T/big.bin" || server_fail "big.bin over h2, one stream: wrong bytes"
reads=$((r1 - r0))
frames=$(( $(stat -c %s "$T/big.bin") / 16384 ))
[ "$reads" -le $((frames * 3 / 4)) ] ||
	server_fail "one h2 stream of big.bin: $reads read calls for at least $frames DATA frames (a read a frame?)"
pass "one h2 stream of big.bin alone: $reads read calls in all for at least $frames DATA frames, the bytes right"

# --- a small object is read from its file as its frames go (asked for
# here only: the server holds an object in memory from its second
# request, see server_cache.sh): cut short under a reader that has taken its first 16 KiB, the stream is reset
# (never other bytes, never a hang) and the connection serves on.
"${H2C[@]}" cut /files/cut.mp4 "$T/cut" >"$T/cut.out" 2>&1 &
CUT_PID=$!
bg "$CUT_PID"
for i in $(seq 1 400); do [ -e "$T/cut" ] || [ ! -d "/proc/$CUT_PID" ] && break; sleep 0.05; done
[ -e "$T/cut" ] || { cat "$T/cut.out"; server_fail "cut.mp4: the first 16 KiB did not come"; }
truncate -s 50000 "$STORE/objects/$(sha256_of "$T/cut.mp4")"
touch "$T/cut.go"
wait "$CUT_PID" || { cat "$T/cut.out"; server_fail "the cut stream's reader failed"; }
read -r how got <"$T/cut.out"
[ "$how" = reset ] || { cat "$T/cut.out"; server_fail "cut.mp4 cut short: stream $how after $got bytes, not reset"; }
[ "$got" -le 50000 ] || server_fail "cut.mp4 cut short: $got bytes, more than the file kept"
cmp -s "$T/cut.body" <(head -c "$got" "$T/cut.mp4") || server_fail "cut.mp4 cut short: the bytes before the cut differ"
grep -qx "after: 200" "$T/cut.out" || { cat "$T/cut.out"; server_fail "the connection of the cut stream did not serve on"; }
server_alive || server_fail "the server died on an object cut short under an h2 stream"
pass "a small object (cut.mp4) cut short under its h2 stream: reset after $got right bytes, /healthz 200 on the same connection"

# --- floods and limits: each ends the connection; the daemon serves on
for a in settings ping reset continuation "streams /files/big.bin" headers; do
	# shellcheck disable=SC2086
	out=$("${H2C[@]}" $a 2>&1) || server_fail "$a: the client failed: $out"
	case $out in
	*": goaway "*|*": closed "*) ;;
	*) server_fail "$a: not ended: $out" ;;
	esac
	# As HTTP/1.1 answers a head too large: 431, then the end.
	[ "$a" != headers ] || [[ $out == *"; status 431)" ]] || server_fail "header list too large: $out"
	server_alive
	[ "$(curl_https --http2 "$HTTPS_URL/healthz")" = ok ] || server_fail "/healthz after the $a attack"
	echo "  ${out##*$'\n'}"
done
pass "SETTINGS, PING, rapid reset, CONTINUATION floods, too many streams, oversized header list: each ended, /healthz fine after"

# --- the idle connection, then SIGTERM with a download in flight
wait "$IDLE_PID" || { cat "$T/idle.out"; server_fail "the idle client failed"; }
grep -Eq '^idle: (goaway 0|closed) after ([0-9]|[1-3][0-9]) s' "$T/idle.out" ||
	server_fail "idle h2 connection: $(cat "$T/idle.out")"
pass "$(cat "$T/idle.out")"
curl_https --http2 --limit-rate 4M -o "$T/dl" -w '%{http_version} %{http_code} %{size_download}\n' \
	"$HTTPS_URL/files/big.bin" >"$T/dl.out" 2>&1 &
DL_PID=$!
bg "$DL_PID"
for i in $(seq 1 200); do [ "$(stat -c %s "$T/dl" 2>/dev/null || echo 0)" -gt 0 ] && break; sleep 0.05; done
stop_server TERM 20
wait "$DL_PID" || { cat "$T/dl.out"; fail "the download over h2 was cut by SIGTERM"; }
cmp -s "$T/dl" "$T/big.bin" || fail "download over h2 across SIGTERM: wrong bytes"
pass "SIGTERM: GOAWAY, the h2 download in flight finished ($(cat "$T/dl.out")), then exit 0"

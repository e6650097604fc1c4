# emberd run holds small objects in memory (daemon/server_cache.c): an
# object stored in at most 256 KiB, sent as stored, is read whole at its
# second request, checked against its hash, and served from memory
# after that, re-checked against its file every 5 s.
#   - checked: a corruption that kept the file's mtime (which only a hash
#     finds) is caught at the request that reads the object into memory:
#     404, logged, quarantined (by="open"); never served.
#   - held: a gzip page and a raw object are served right from memory
#     over HTTP/1.1 and HTTP/2 (whole, ranges, HEAD, 304); with the file
#     moved out of the store they are still served, the bytes checked
#     before, and stop being served (404) at the next check of the file,
#     bounded (20 s); with the file back, 200 again. Identity bytes of
#     the gzip page are inflated from its file, as without the cache.
#   - bounded: 64 objects of 192 KiB (12 MiB), each asked for three
#     times, many streams at once on one HTTP/2 connection: every body
#     right, and the daemon's resident memory grows by less than 8 MiB
#     (the cache keeps 4 MiB a loop; plain build).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
setup_publisher

head -c 5000 /dev/urandom >"$T/small.bin"
head -c 6000 /dev/urandom >"$T/plain.bin"
for i in $(seq 1 3000); do
	printf '<p>Paragraph %d of a page kept from erasure, said again and again.</p>\n' "$i"
done >"$T/page.html"
mkdir "$T/many"
for i in $(seq -w 1 64); do
	head -c $((192 * 1024)) /dev/urandom >"$T/many/m$i.bin"
done
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/small.bin" "$T/plain.bin" "$T/page.html" "$T"/many/*.bin
start_server
CERT="$STORE/tls/cert.pem"
small_sha=$(sha256_of "$T/small.bin")
plain_sha=$(sha256_of "$T/plain.bin")
page_sha=$(sha256_of "$T/page.html")
[ "$(head -c 2 "$STORE/objects/$page_sha" | od -An -tx1 | tr -d ' ')" = 1f8b ] ||
	fail "page.html is not stored deflated (the test wants a gzip object)"

# get URL [CURL ARGS]: GET over HTTPS, the status printed, the body in $T/body.
get() {
	curl -sS --max-time 20 --cacert "$CERT" -o "$T/body" -w '%{http_code}' "${@:2}" "$1" || true
}

metric() {
	curl -sS --max-time 10 "$HTTP_URL/metrics" | awk -v k="$1" '$1 == k { print $2 }'
}

# ---- checked: read whole at the second request, the hash compared ----
code=$(get "$HTTPS_URL/files/small.bin")
[ "$code" = 200 ] && cmp -s "$T/body" "$T/small.bin" || server_fail "small.bin, first request: $code or wrong bytes"
flip_keep_mtime "$STORE/objects/$small_sha" 1234
code=$(get "$HTTPS_URL/files/small.bin")
[ "$code" = 404 ] || server_fail "small.bin corrupt (mtime kept), second request: answered $code, not 404"
wait_for_file_line "$SERVER_LOG" "emberd: error: object $small_sha: stored bytes do not match their hash .*; quarantined, not served; add the file again to serve it$" 10 ||
	server_fail "the corrupt small.bin was not logged as quarantined"
[ -e "$STORE/quarantine/$small_sha" ] || fail "small.bin's bad copy is not in quarantine/"
[ "$(metric 'emberd_objects_quarantined_total{by="open"}')" = 1 ] ||
	fail "metrics: quarantined by open is not 1"
code=$(get "$HTTPS_URL/files/small.bin")
[ "$code" = 404 ] || server_fail "small.bin after its quarantine: $code"
pass "a corruption with the mtime kept is caught reading the object into memory at its second request: 404, quarantined, by=\"open\" 1"

# ---- held: served from memory, right, over both protocols -------------
for proto in --http1.1 --http2; do
	for round in 1 2 3; do
		code=$(get "$HTTPS_URL/files/page.html" "$proto" -H 'Accept-Encoding: gzip')
		[ "$code" = 200 ] && gzip -dc <"$T/body" | cmp -s - "$T/page.html" ||
			server_fail "page.html gzip $proto round $round: $code or wrong bytes"
		code=$(get "$HTTPS_URL/sha256/$plain_sha" "$proto")
		[ "$code" = 200 ] && cmp -s "$T/body" "$T/plain.bin" ||
			server_fail "plain.bin $proto round $round: $code or wrong bytes"
		code=$(get "$HTTPS_URL/files/plain.bin" "$proto" -r 1000-2999)
		[ "$code" = 206 ] && cmp -s "$T/body" <(tail -c +1001 "$T/plain.bin" | head -c 2000) ||
			server_fail "plain.bin range $proto round $round: $code or wrong bytes"
		code=$(get "$HTTPS_URL/files/page.html" "$proto")
		[ "$code" = 200 ] && cmp -s "$T/body" "$T/page.html" ||
			server_fail "page.html identity $proto round $round: $code or wrong bytes"
	done
	code=$(get "$HTTPS_URL/files/plain.bin" "$proto" -I)
	[ "$code" = 200 ] || server_fail "HEAD plain.bin $proto: $code"
	code=$(get "$HTTPS_URL/files/plain.bin" "$proto" -H "If-None-Match: \"$plain_sha\"")
	[ "$code" = 304 ] || server_fail "plain.bin If-None-Match $proto: $code"
done
pass "held: page.html (gzip and identity), plain.bin (whole, range, HEAD, 304) right over HTTP/1.1 and HTTP/2, 3 rounds each"

# The files moved out of the store: served from memory, the bytes checked
# when they were read; then, at the next check of the file, 404. An
# entry is served 5 s from its last check: should that end just as the
# file is moved (a busy machine), the file goes back, one request checks
# it again, and it is moved once more.
mkdir "$T/aside"
# held_away NAME SHA [CURL ARGS]: move the object away and get it at once
# (200, the right body, unzipped when gzip); sets T0 to the move's time.
held_away() {
	local name=$1 sha=$2 try code
	for try in 1 2 3; do
		T0=$(date +%s%N)
		mv "$STORE/objects/$sha" "$T/aside/"
		code=$(get "$HTTPS_URL/files/$name" "${@:3}")
		if [ "$code" = 200 ]; then
			if [ "$name" = page.html ]; then
				gzip -dc <"$T/body" | cmp -s - "$T/page.html" || server_fail "$name held: wrong bytes"
			else
				cmp -s "$T/body" "$T/$name" || server_fail "$name held: wrong bytes"
			fi
			return 0
		fi
		[ "$code" = 404 ] || server_fail "$name with its file moved away: $code"
		mv "$T/aside/$sha" "$STORE/objects/"
		code=$(get "$HTTPS_URL/files/$name" "${@:3}")
		[ "$code" = 200 ] || server_fail "$name with its file back: $code"
	done
	server_fail "$name with its file moved away: 404 at once, three times (not held in memory)"
}
# Both polled together (bounded, 20 s) until each answers 404; every
# answer before is 200. The ms from each one's move.
held_away plain.bin "$plain_sha"
t_plain=$T0
held_away page.html "$page_sha" --http2 -H 'Accept-Encoding: gzip'
t_page=$T0
plain_gone=
page_gone=
for i in $(seq 1 400); do
	if [ -z "$plain_gone" ]; then
		code=$(get "$HTTPS_URL/files/plain.bin")
		[ "$code" = 200 ] || [ "$code" = 404 ] || server_fail "plain.bin while held, its file away: $code"
		[ "$code" = 404 ] || cmp -s "$T/body" "$T/plain.bin" || server_fail "plain.bin while held: wrong bytes"
		[ "$code" = 404 ] && plain_gone=$(( ($(date +%s%N) - t_plain) / 1000000 ))
	fi
	if [ -z "$page_gone" ]; then
		code=$(get "$HTTPS_URL/files/page.html" --http2 -H 'Accept-Encoding: gzip')
		[ "$code" = 200 ] || [ "$code" = 404 ] || server_fail "page.html while held, its file away: $code"
		[ "$code" = 404 ] && page_gone=$(( ($(date +%s%N) - t_page) / 1000000 ))
	fi
	[ -n "$plain_gone" ] && [ -n "$page_gone" ] && break
	sleep 0.05
done
[ -n "$plain_gone" ] || server_fail "plain.bin still served 20 s after its file was moved away"
[ -n "$page_gone" ] || server_fail "page.html still served 20 s after its file was moved away"
mv "$T/aside/$page_sha" "$T/aside/$plain_sha" "$STORE/objects/"
code=$(get "$HTTPS_URL/files/plain.bin")
[ "$code" = 200 ] && cmp -s "$T/body" "$T/plain.bin" || server_fail "plain.bin with its file back: $code"
code=$(get "$HTTPS_URL/files/page.html" --http2 -H 'Accept-Encoding: gzip')
[ "$code" = 200 ] || server_fail "page.html with its file back: $code"
pass "files moved out of the store: served from memory at once, 404 after $plain_gone ms (plain.bin) and $page_gone ms (page.html over h2), 200 with the files back"

# ---- bounded: 12 MiB of objects through a 4 MiB cache ------------------
rss_kib() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$SERVER_PID/status"; }
args=()
for f in "$T"/many/*.bin; do
	args+=("$HTTPS_URL/files/$(basename "$f")" -o "$T/got-$(basename "$f")")
done
curl -sS --max-time 60 --cacert "$CERT" --http2 -o /dev/null "$HTTPS_URL/healthz" ||
	server_fail "healthz over h2"
rss0=$(rss_kib)
for round in 1 2 3; do
	rm -f "$T"/got-*
	curl -sS --no-progress-meter --max-time 120 --cacert "$CERT" --http2 --parallel --parallel-max 32 -f "${args[@]}" ||
		server_fail "round $round: the 64 objects over one h2 connection failed"
	for f in "$T"/many/*.bin; do
		cmp -s "$f" "$T/got-$(basename "$f")" || server_fail "round $round: $(basename "$f") has wrong bytes"
	done
done
rss1=$(rss_kib)
grow=$(( rss1 - rss0 ))
if [ "${EMBERD_SANITIZED:-0}" = 0 ]; then
	[ "$grow" -lt $((8 * 1024)) ] ||
		server_fail "resident memory grew by $grow KiB over 3 rounds of 64 objects of 192 KiB (bound 8 MiB)"
	pass "12 MiB of small objects, 3 rounds of 64 streams on one h2 connection: every body right, VmRSS +$grow KiB (bound 8 MiB)"
else
	pass "12 MiB of small objects, 3 rounds of 64 streams on one h2 connection: every body right (memory bound checked in the plain build)"
fi
server_alive || server_fail "the server died"
stop_server

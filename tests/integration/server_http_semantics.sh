# emberd run: HTTP semantics of object responses, for a raw (media) and a
# gzip-stored (text) object, by name and by hash, over HTTPS and plain
# HTTP: headers, HEAD, single ranges (also inside deflated objects),
# unsatisfiable and multiple ranges, If-None-Match, If-Range, gzip
# transfer of the stored bytes, Repr-Digest. The same table runs over
# HTTP/2 (HTTPS, ALPN h2: what curl chooses there) and HTTP/1.1 (plain
# HTTP), each request checked for the protocol it went over; keep-alive
# is checked over h2, and HTTP/1.1 on both listeners.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
setup_publisher

# --- content
head -c 1000003 /dev/urandom >"$T/media.mp4"
python3 - "$T/text.txt" <<'PY'
import random, sys
r = random.Random(7)
words = "voice of april banned song protest archive mirror river square night".split()
with open(sys.argv[1], "w") as f:
    for i in range(90000):
        f.write("%06d %s\n" % (i, " ".join(r.choice(words) for _ in range(5))))
PY
: >"$T/empty.txt"
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/media.mp4" "$T/text.txt" "$T/empty.txt"
expect_exit 0 "$EMBERD" ls -c "$CONF"
assert_grep "^text.txt .* gzip$" "$T/out"
assert_grep "^media.mp4 .* raw$" "$T/out"
start_server

b64sha() { openssl dgst -sha256 -binary "$1" | base64; }

# req OUT CURL-ARGS... URL: the response to OUT (body), OUT.h (headers);
# sets CODE. With PROTO set (2, 1.1), the request must have gone over it.
PROTO=
req() {
	local out=$1 v
	shift
	rm -f "$out" "$out.h"
	v=$(curl -sS --max-time 30 --cacert "$STORE/tls/cert.pem" -D "$out.h" -o "$out" \
		-w '%{http_code} %{http_version}' "$@") || v="curl-failed($v)"
	CODE=${v% *}
	: >>"$out"
	[ -z "$PROTO" ] || [ "${v#* }" = "$PROTO" ] || fail "$* went over HTTP/${v#* }, want $PROTO"
}
R="$T/resp"
what=	# the request being checked, for messages

want_code() { [ "$CODE" = "$1" ] || { cat "$R.h" 2>/dev/null; fail "$what: status $CODE, want $1"; }; }
want_hdr() {	# want_hdr NAME VALUE: present once, with VALUE
	hdr_scan "$1" "$R.h"
	[ "$HDR_N" = 1 ] || { cat "$R.h"; fail "$what: $1 appears $HDR_N times, want once"; }
	[ "$HDR_V" = "$2" ] || { cat "$R.h"; fail "$what: $1: '$HDR_V', want '$2'"; }
}
no_hdr() { ! has_header "$1" "$R.h" || { cat "$R.h"; fail "$what: unexpected $1 header"; }; }
want_len() {	# want_len N: Content-Length header and bytes received
	want_hdr Content-Length "$1"
	[ "$(stat -c %s "$R")" = "$1" ] || fail "$what: received $(stat -c %s "$R") bytes, want $1"
}
# slice_is ORIG FIRST LAST: the body is ORIG[FIRST..LAST] (cmp, not a
# python3 per range: this test checks some 150 of them).
slice_is() {
	cmp -s <(tail -c +$(($2 + 1)) "$1" | head -c $(($3 - $2 + 1))) "$R" ||
		fail "$what: body is not bytes $2-$3 of $(basename "$1")"
}

# The stored bytes of an object: the file minus its metadata trailer.
stored_bytes() {	# stored_bytes SHA OUT
	python3 - "$STORE/objects/$1" "$2" <<'PY'
import json, sys
b = open(sys.argv[1], "rb").read()
n = int.from_bytes(b[-16:-8], "little")
meta = json.loads(b[-16 - n:-16])
open(sys.argv[2], "wb").write(b[:meta["stored_size"]])
PY
}

# check_object URL ORIG TYPE IMMUTABLE STORED
check_object() {
	local url=$1 orig=$2 type=$3 immutable=$4 stored=$5
	local size sha digest etag a b
	size=$(stat -c %s "$orig")
	sha=$(sha256_of "$orig")
	digest="sha-256=:$(b64sha "$orig"):"
	etag="\"$sha\""

	# The headers every object response carries (identity representation).
	common() {
		want_hdr Content-Type "$type"
		want_hdr ETag "$etag"
		want_hdr Accept-Ranges bytes
		want_hdr X-Content-Type-Options nosniff
		want_hdr Content-Security-Policy sandbox
		if [ "$immutable" = yes ]; then
			want_hdr Cache-Control "public, max-age=31536000, immutable"
		fi
	}
	identity() {	# a whole identity 200
		want_code 200
		common
		want_hdr Repr-Digest "$digest"
		no_hdr Content-Encoding
		no_hdr Content-Range
		want_len "$size"
		[ "$(sha256_of "$R")" = "$sha" ] || fail "$what: wrong bytes"
	}
	partial() {	# partial FIRST LAST
		want_code 206
		common
		want_hdr Content-Range "bytes $1-$2/$size"
		want_hdr Repr-Digest "$digest"
		no_hdr Content-Encoding
		want_len $(($2 - $1 + 1))
		slice_is "$orig" "$1" "$2"
	}
	unsatisfiable() {
		want_code 416
		want_hdr Content-Range "bytes */$size"
		no_hdr Content-Encoding
	}

	what="GET $url"; req "$R" "$url"; identity
	what="HEAD $url"; req "$R" -I "$url"
	want_code 200
	common
	want_hdr Repr-Digest "$digest"
	want_hdr Content-Length "$size"
	no_hdr Content-Encoding

	# Single ranges: a-b, a-, -n; clipped last; suffix longer than the object.
	for r in "0-0" "100-199" "$((size / 3))-$((size * 2 / 3))" "$((size - 10))-" \
		"-500" "-$((size + 100))" "10-$((size + 1000))" "$((size - 1))-$((size - 1))"; do
		what="GET $url Range: bytes=$r"
		req "$R" -H "Range: bytes=$r" "$url"
		case $r in
		-*) a=$((size - ${r#-})); [ "$a" -ge 0 ] || a=0; b=$((size - 1)) ;;
		*-) a=${r%-}; b=$((size - 1)) ;;
		*) a=${r%-*}; b=${r#*-}; [ "$b" -lt "$size" ] || b=$((size - 1)) ;;
		esac
		partial "$a" "$b"
	done
	# Unsatisfiable.
	for r in "$size-" "$((size + 5))-$((size + 10))" "-0"; do
		what="GET $url Range: bytes=$r"
		req "$R" -H "Range: bytes=$r" "$url"
		unsatisfiable
	done
	# Several ranges, an unknown unit, a malformed range: the whole object.
	for r in "bytes=0-1,5-6" "bytes=0-1, 10-20, -5" "chars=0-1" "bytes=5-1" "bytes=abc" "bytes=--5"; do
		what="GET $url Range: $r"
		req "$R" -H "Range: $r" "$url"
		identity
	done

	# If-Range: the strong ETag honours the range; anything else: whole.
	what="GET $url If-Range: $etag"
	req "$R" -H "Range: bytes=5-9" -H "If-Range: $etag" "$url"
	partial 5 9
	for ir in '"0000000000000000000000000000000000000000000000000000000000000000"' \
		"W/$etag" "Mon, 01 Jan 1990 00:00:00 GMT"; do
		what="GET $url If-Range: $ir"
		req "$R" -H "Range: bytes=5-9" -H "If-Range: $ir" "$url"
		identity
	done

	# If-None-Match: the ETag (also weak, "*", in a list) gives 304.
	for inm in "$etag" "W/$etag" "*" "\"abc\", $etag"; do
		what="GET $url If-None-Match: $inm"
		req "$R" -H "If-None-Match: $inm" "$url"
		want_code 304
		want_hdr ETag "$etag"
		[ ! -s "$R" ] || fail "$what: 304 with a body"
	done
	what="HEAD $url If-None-Match: $etag"
	req "$R" -I -H "If-None-Match: $etag" "$url"
	want_code 304
	what="GET $url If-None-Match: other"
	req "$R" -H 'If-None-Match: "abc"' "$url"
	identity
	what="GET $url If-None-Match: $etag, Range"
	req "$R" -H "If-None-Match: $etag" -H "Range: bytes=0-0" "$url"
	want_code 304

	# Accept-Encoding.
	if [ "$stored" = gzip ]; then
		local sgz="$T/stored.gz" gsize gdigest
		stored_bytes "$sha" "$sgz"
		gsize=$(stat -c %s "$sgz")
		gdigest="sha-256=:$(b64sha "$sgz"):"
		[ "$gsize" -lt $((size * 9 / 10)) ] || fail "stored gzip is not smaller"
		for ae in "gzip" "gzip, deflate, br" "deflate, gzip, br, zstd" "br;q=1.0, gzip;q=0.5" "GZIP"; do
			what="GET $url Accept-Encoding: $ae"
			req "$R" -H "Accept-Encoding: $ae" "$url"
			want_code 200
			want_hdr Content-Encoding gzip
			[[ ",$(header Vary "$R.h" | tr -d ' ' | tr 'A-Z' 'a-z')," == *,accept-encoding,* ]] ||
				fail "$what: Vary: '$(header Vary "$R.h")' lacks Accept-Encoding"
			want_hdr Content-Type "$type"
			[[ "$(header ETag "$R.h")" =~ ^\"$sha[^\"]*\"$ ]] || fail "$what: ETag $(header ETag "$R.h")"
			want_hdr Accept-Ranges bytes
			want_hdr X-Content-Type-Options nosniff
			want_hdr Content-Security-Policy sandbox
			[ "$immutable" = no ] || want_hdr Cache-Control "public, max-age=31536000, immutable"
			want_hdr Repr-Digest "$gdigest"
			want_len "$gsize"
			cmp -s "$R" "$sgz" || fail "$what: body is not the stored gzip bytes"
			[ "$(gzip -dc <"$R" | sha256sum | cut -d' ' -f1)" = "$sha" ] || fail "$what: does not gunzip to the object"
		done
		what="HEAD $url Accept-Encoding: gzip"
		req "$R" -I -H "Accept-Encoding: gzip" "$url"
		want_code 200
		want_hdr Content-Encoding gzip
		want_hdr Content-Length "$gsize"
		want_hdr Repr-Digest "$gdigest"
		what="GET $url Accept-Encoding: gzip + If-None-Match"
		req "$R" -H "Accept-Encoding: gzip" -H "If-None-Match: $(header ETag "$R.h")" "$url"
		want_code 304
	fi
	# No gzip: by name refused, q=0, other codings only (deflate is zlib
	# format, not the stored gzip member), and media always identity.
	local aes=("identity" "gzip;q=0" "br" "deflate" "gzip;q=0, identity" "*;q=0, identity")
	[ "$stored" = gzip ] || aes+=("gzip" "gzip, deflate, br")
	for ae in "${aes[@]}"; do
		what="GET $url Accept-Encoding: $ae"
		req "$R" -H "Accept-Encoding: $ae" "$url"
		identity
	done
	# A range with gzip accepted: the identity bytes, from inside the
	# deflated stream when the object is stored gzip.
	a=$((size / 2 + 12345)); b=$((a + 70000))
	what="GET $url Accept-Encoding: gzip, Range: bytes=$a-$b"
	req "$R" -H "Accept-Encoding: gzip" -H "Range: bytes=$a-$b" "$url"
	partial "$a" "$b"
	what="GET $url Accept-Encoding: gzip, Range: bytes=-77"
	req "$R" -H "Accept-Encoding: gzip" -H "Range: bytes=-77" "$url"
	partial $((size - 77)) $((size - 1))
}

media=$(sha256_of "$T/media.mp4")
text=$(sha256_of "$T/text.txt")
for base in "$HTTPS_URL" "$HTTP_URL"; do
	case $base in https:*) PROTO=2 ;; *) PROTO=1.1 ;; esac
	check_object "$base/files/media.mp4" "$T/media.mp4" video/mp4 no raw
	check_object "$base/sha256/$media" "$T/media.mp4" video/mp4 yes raw
	pass "raw object: $base (by name and by hash)"
	check_object "$base/files/text.txt" "$T/text.txt" "text/plain; charset=utf-8" no gzip
	check_object "$base/sha256/$text" "$T/text.txt" "text/plain; charset=utf-8" yes gzip
	pass "gzip-stored object: $base (by name and by hash)"
done
PROTO=

# The empty object: 200 with no bytes; no range can be satisfied.
empty=$(sha256_of "$T/empty.txt")
for url in "$HTTPS_URL/files/empty.txt" "$HTTP_URL/sha256/$empty"; do
	what="GET $url"
	req "$R" "$url"
	want_code 200
	want_len 0
	want_hdr ETag "\"$empty\""
	want_hdr Repr-Digest "sha-256=:$(b64sha "$T/empty.txt"):"
	what="GET $url Range: bytes=0-0"
	req "$R" -H "Range: bytes=0-0" "$url"
	want_code 416
	want_hdr Content-Range "bytes */0"
done
pass "empty object"

# "Connection: close" and HTTP/1.0: the whole answer, then the close.
text=$(sha256_of "$T/text.txt")
for base in "$HTTPS_URL" "$HTTP_URL"; do
	for pair in "/files/media.mp4 media.mp4" "/files/text.txt text.txt" "/sha256/$text text.txt"; do
		set -- $pair
		for how in "-H Connection:close" "-0"; do
			what="GET $base$1 ($how)"
			req "$R" $how "$base$1"
			want_code 200
			[ "$(sha256_of "$R")" = "$(sha256_of "$T/$2")" ] || fail "$what: wrong bytes"
		done
	done
done
pass "Connection: close and HTTP/1.0 get whole answers"

# HEAD sends no body: a second request on the same connection must be
# answered cleanly right after the HEAD's headers.
python3 - "$HTTP_PORT" "$media" <<'PY' || fail "HEAD sent a body"
import socket, sys
port, sha = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port), timeout=5)
s.sendall(("HEAD /sha256/%s HTTP/1.1\r\nHost: x\r\n\r\n"
           "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" % sha).encode())
buf = b""
while b"\r\n\r\nok" not in buf:
    d = s.recv(65536)
    if not d:
        break
    buf += d
head, _, rest = buf.partition(b"\r\n\r\n")
assert head.startswith(b"HTTP/1.1 200"), head
assert b"content-length: 1000003" in head.lower(), head
assert rest.startswith(b"HTTP/1.1 200"), rest[:200]
PY
pass "HEAD: headers only"

# Keep-alive across object responses of every kind (200, 206, 304, 416).
ka() {	# ka URL [HEADER]: one --next segment
	printf '%s\0' --cacert "$STORE/tls/cert.pem" -o /dev/null -w '%{num_connects}/%{http_version}\n' "$how"
	[ -z "${2:-}" ] || printf '%s\0' -H "$2"
	printf '%s\0' "$1"
}
for spec in "$HTTPS_URL --http2" "$HTTPS_URL --http1.1" "$HTTP_URL --http1.1"; do
	base=${spec% *} how=${spec#* }
	v=$([ "$how" = --http2 ] && echo 2 || echo 1.1)
	{
		ka "$base/files/media.mp4"; printf '%s\0' --next
		ka "$base/files/text.txt" "Range: bytes=1-2"; printf '%s\0' --next
		ka "$base/sha256/$text" "If-None-Match: \"$text\""; printf '%s\0' --next
		ka "$base/sha256/$media" "Range: bytes=99999999-"; printf '%s\0' --next
		ka "$base/files/text.txt" "Accept-Encoding: gzip"
	} >"$T/ka.args"
	n=$(xargs -0 curl -sS --max-time 30 <"$T/ka.args" | paste -sd,)
	[ "$n" = "1/$v,0/$v,0/$v,0/$v,0/$v" ] ||
		fail "$base $how: connections/protocol per request: $n, want 1/$v,0/$v,... (keep-alive)"
done
pass "keep-alive across 200, 206, 304, 416, gzip (HTTP/2 and HTTP/1.1 over TLS, HTTP/1.1 plain)"
stop_server

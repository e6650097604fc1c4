# What readers' tools save, and the README's stock-tools commands.
#
#   - Object responses (GET and HEAD, /files/NAME and /sha256/HEX, 200 and
#     206) carry Content-Disposition: inline; filename="F";
#     filename*=UTF-8''E. `wget --content-disposition` saves 新奴隶.mp3
#     under its real name, by name and by hash (the name of the catalog
#     item with that hash); Python's RFC 2231 reader (as a browser
#     reads filename*) gets the name back; `curl -OJ` (reads filename=
#     only) saves the percent-encoded ASCII fallback, which keeps the
#     extension and decodes back to the name. 304 and 416 carry none.
#   - README.md's block under "With stock tools" is taken from the file
#     and run as written (only the mirror and the key filled in) against
#     this mirror: curl, minisign and sha256sum -c pass. Pointed at a
#     path that is not there, it fails at the curl (-f), not later.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
for t in wget minisign curl; do
	command -v "$t" >/dev/null || fail "$t is not installed"
done
README="${SOURCE_ROOT:-$(dirname "$0")/../..}/README.md"
[ -f "$README" ] || fail "no $README"

setup_publisher
mkdir "$T/in"
NAME='新奴隶.mp3'
ENC='%E6%96%B0%E5%A5%B4%E9%9A%B6.mp3'
head -c 70000 /dev/urandom >"$T/in/$NAME"
printf 'The statement, as published.\n' >"$T/in/statement.txt"
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/in/$NAME" "$T/in/statement.txt"
song=$(sha256_of "$T/in/$NAME")
start_server

# --- 1. the header on every object answer, and none on 304/416.
want="inline; filename=\"$ENC\"; filename*=UTF-8''$ENC"
for url in "$HTTP_URL/files/$ENC" "$HTTP_URL/sha256/$song" "$HTTPS_URL/files/$ENC"; do
	for args in "" "-I" "-r 0-9"; do
		# shellcheck disable=SC2086
		curl_https $args -o /dev/null -D "$T/h" "$url" || server_fail "curl $args $url"
		[ "$(header Content-Disposition "$T/h")" = "$want" ] ||
			{ cat "$T/h"; server_fail "$url ($args): Content-Disposition is not '$want'"; }
	done
	curl_https -o /dev/null -D "$T/h" -H "If-None-Match: \"$song\"" "$url"
	assert_grep '^HTTP/(1.1|2) 304' "$T/h"
	! has_header Content-Disposition "$T/h" || server_fail "304 with Content-Disposition"
	curl_https -o /dev/null -D "$T/h" -r 99999999- "$url"
	assert_grep '^HTTP/(1.1|2) 416' "$T/h"
	! has_header Content-Disposition "$T/h" || server_fail "416 with Content-Disposition"
done
curl_http -o /dev/null -D "$T/h" "$HTTP_URL/files/statement.txt"
[ "$(header Content-Disposition "$T/h")" = "inline; filename=\"statement.txt\"; filename*=UTF-8''statement.txt" ] ||
	{ cat "$T/h"; server_fail "statement.txt: wrong Content-Disposition"; }
# Read as RFC 6266 4.3 tells a browser to: filename* (RFC 8187) wins.
got=$(python3 -c 'import sys, urllib.parse
params = dict(p.strip().split("=", 1) for p in sys.argv[1].split(";")[1:])
charset, lang, value = params["filename*"].split("\x27", 2)
assert charset.upper() == "UTF-8", charset
print(urllib.parse.unquote(value, encoding="utf-8", errors="strict"))' "$want")
[ "$got" = "$NAME" ] || fail "RFC 2231/8187 reading of '$want' gave '$got', want $NAME"
pass "Content-Disposition on GET, HEAD and 206 by name and hash, none on 304 and 416; filename* decodes to $NAME"

# --- 2. what the tools save.
mkdir "$T/wget" "$T/curl"
(cd "$T/wget" && wget -q --content-disposition "$HTTP_URL/sha256/$song") ||
	server_fail "wget by hash failed"
[ -f "$T/wget/$NAME" ] || { ls -la "$T/wget"; fail "wget --content-disposition did not save $NAME by hash"; }
[ "$(sha256_of "$T/wget/$NAME")" = "$song" ] || fail "wget saved other bytes"
rm -f "$T/wget/$NAME"
(cd "$T/wget" && wget -q --content-disposition "$HTTP_URL/files/$ENC") || server_fail "wget by name failed"
[ -f "$T/wget/$NAME" ] || { ls -la "$T/wget"; fail "wget --content-disposition did not save $NAME by name"; }
(cd "$T/curl" && curl -sS -f -OJ "$HTTP_URL/sha256/$song") || server_fail "curl -OJ failed"
[ -f "$T/curl/$ENC" ] || { ls -la "$T/curl"; fail "curl -OJ did not save the fallback $ENC"; }
[ "$(sha256_of "$T/curl/$ENC")" = "$song" ] || fail "curl -OJ saved other bytes"
dec=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.unquote(sys.argv[1]))' "$ENC")
[ "$dec" = "$NAME" ] || fail "the fallback $ENC does not decode to $NAME"
pass "wget --content-disposition saves $NAME (by name and by hash); curl -OJ saves $ENC, which decodes to it"

# --- 3. README's stock-tools block, as written.
awk '/^### With stock tools/ { f = 1 } f && /^```sh/ { b = 1; next } b && /^```/ { exit } b' \
	"$README" >"$T/readme.sh"
grep -q '^M=' "$T/readme.sh" && grep -q '^K=' "$T/readme.sh" && grep -q 'minisign' "$T/readme.sh" ||
	{ cat "$T/readme.sh"; fail "no stock-tools block with M=, K= and minisign in $README"; }
run_readme() {	# run_readme MIRROR: the block in a fresh folder, output in $T/readme.out
	rm -rf "$T/reader"; mkdir "$T/reader"
	sed -e "s|^M=[^ ]*|M=$1|" -e "s|^K=[^ ]*|K=$PUBKEY|" "$T/readme.sh" >"$T/reader/run.sh"
	(cd "$T/reader" && CURL_CA_BUNDLE="$STORE/tls/cert.pem" bash -e run.sh) >"$T/readme.out" 2>&1
}
run_readme "$HTTPS_URL" || { cat "$T/reader/run.sh" "$T/readme.out"; fail "README's stock-tools commands failed against $HTTPS_URL"; }
assert_grep 'Signature and comment signature verified' "$T/readme.out"
assert_grep '^statement.txt: OK$' "$T/readme.out"
# A mirror without the files: the curl fails (-f), nothing else runs.
if run_readme "$HTTPS_URL/gone"; then
	cat "$T/readme.out"; fail "README's commands passed against a mirror that has nothing"
fi
grep -q 'minisign\|Signature' "$T/readme.out" && { cat "$T/readme.out"; fail "minisign ran after curl got a 404"; }
assert_grep 'curl: \(22\)' "$T/readme.out"
pass "README's stock-tools commands pass as written; against a missing path curl fails first (-f)"

stop_server

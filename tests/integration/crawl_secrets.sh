# Secrets in a source URL (a user and password, a signed query, a
# fragment) are used to download and never leave the crawler: the catalog
# publishes what [mirror] source_urls allows (origin: scheme://host/path,
# the default; full: and the query; none: no "source"), and no log line,
# index page, catalog.json or /metrics holds any of them. A catalog signed
# under "full" is cleaned and re-signed by the next crawl pass once the
# config says "origin", and minisign verifies it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
. "$(dirname "$0")/crawl_lib.sh"
setup_publisher
command -v minisign >/dev/null || fail "minisign is not installed"

USER_S=alice-u7f3k
PASS_S=pw-9xq2-s3cret
TOKEN=tok-4471-secret
SIG=sig-abc-8812
FRAG=frag-5521
start_origin --auth "$USER_S:$PASS_S"
port=${ORIGIN##*:}
target="/f/leak.bin?size=6000&seed=leak&auth=1&token=$TOKEN&X-Amz-Signature=$SIG"
gone="/f/gone.bin?fail=1000&status=404&token=$TOKEN&X-Amz-Signature=$SIG"
secret_url() { printf 'http://%s:%s@127.0.0.1:%s%s#%s' "$USER_S" "$PASS_S" "$port" "$1" "$FRAG"; }
# The first URL fails, so the log names it ("trying the next url").
sources=("[source leak]" "url = $(secret_url "$gone")" "url = $(secret_url "$target")")

# assert_clean WHAT FILE SECRET...: none of the SECRETs is in FILE.
assert_clean() {
	local what=$1 file=$2 s
	shift 2
	[ -s "$file" ] || fail "$what: $file is empty"
	for s in "$@"; do
		if grep -qF -- "$s" "$file"; then
			grep -nF -- "$s" "$file" | head -n 5
			fail "$what holds the secret '$s'"
		fi
	done
}
ALL=("$USER_S" "$PASS_S" "$TOKEN" "$SIG" "$FRAG")

# item_source CATALOG: the source of leak.bin, or "(absent)".
item_source() {
	python3 -c 'import json, sys
c = json.load(open(sys.argv[1]))
i = [i for i in c["items"] if i["name"] == "leak.bin"][0]
print(i.get("source", "(absent)"))' "$1"
}

# --- origin (the default): crawl ------------------------------------------
server_config "${sources[@]}"
expect_exit 0 "$EMBERD" crawl -c "$CONF"
cp "$T/err" "$T/crawl.err"
assert_summary leak "fetched leak\.bin \(6000 bytes"
n=$(origin_q "len([e for e in L if e['path'] == sys.argv[3] and e['status'] == 200 and e['headers'].get('authorization', '').startswith('Basic ')])" "$target")
[ "$n" = 1 ] || { origin_show; fail "the crawler did not download with the credentials and the query ($n)"; }
[ "$(item_source "$STORE/current/catalog.json")" = "http://127.0.0.1:$port/f/leak.bin" ] ||
	fail "source is '$(item_source "$STORE/current/catalog.json")', want http://127.0.0.1:$port/f/leak.bin"
# The log names the failed URL, in its shown form.
assert_grep "^emberd: warning: crawl leak: http://127\.0\.0\.1:$port/f/gone\.bin\?…: HTTP 404.*; trying the next url$" "$T/crawl.err"
assert_clean "the crawl's stderr" "$T/crawl.err" "${ALL[@]}"
assert_clean "catalog.json" "$STORE/current/catalog.json" "${ALL[@]}"
pass "downloaded with user, password and query; catalog and log hold scheme://host/path only"

# --- what emberd run serves and logs ---------------------------------------
start_server "${sources[@]}"
wait_for_file_line "$SERVER_LOG" "crawl: pass done: " 10 || server_fail "no crawl pass at start"
curl_http -o "$T/index.html" "$HTTP_URL/" || server_fail "GET / failed"
curl_http -o "$T/served.json" "$HTTP_URL/catalog.json" || server_fail "GET /catalog.json failed"
curl_http -o "$T/metrics" "$HTTP_URL/metrics" || server_fail "GET /metrics failed"
stop_server
grep -qF "http://127.0.0.1:$port/f/leak.bin" "$T/index.html" || fail "the index page does not show the source"
for f in index.html served.json metrics server.log; do
	assert_clean "$f" "$T/$f" "${ALL[@]}"
done
pass "index page, catalog.json, /metrics and the run log hold no secret"

# --- full: the query, never userinfo or fragment ----------------------------
# A store of its own: an item's source is written when it is fetched.
mode_config() {
	{
		echo "[mirror]"
		echo "name = Test archive"
		echo "store = full-store"
		echo "key = publisher.key"
		echo "allow_root = yes"
		echo "source_urls = $1"
		printf '%s\n' "${sources[@]}"
	} >"$T/full.conf"
}
FCAT="$T/full-store/current/catalog.json"
mode_config full
expect_exit 0 "$EMBERD" crawl -c "$T/full.conf"
got=$(item_source "$FCAT")
[ "$got" = "http://127.0.0.1:$port$target" ] || fail "full: source is '$got'"
assert_clean "catalog.json (full)" "$FCAT" "$USER_S" "$PASS_S" "$FRAG"
assert_clean "the crawl's stderr (full)" "$T/err" "${ALL[@]}"
pass "source_urls = full keeps the query, not the user, password or fragment; logs never"

# --- full -> origin: the next crawl pass cleans and re-signs ----------------
seq_full=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sequence"])' "$FCAT")
mode_config origin
expect_exit 0 "$EMBERD" crawl -c "$T/full.conf"
assert_summary leak "unchanged leak\.bin$"
seq=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sequence"])' "$FCAT")
[ "$seq" = $((seq_full + 1)) ] || fail "switching to origin: sequence $seq, want $((seq_full + 1))"
[ "$(item_source "$FCAT")" = "http://127.0.0.1:$port/f/leak.bin" ] || fail "origin: source is '$(item_source "$FCAT")'"
assert_clean "catalog.json (cleaned)" "$FCAT" "${ALL[@]}"
expect_exit 0 minisign -Vm "$FCAT" -x "$T/full-store/current/catalog.json.minisig" -P "$PUBKEY"
pass "a catalog signed with full is cleaned by the next crawl pass (sequence $seq), minisign verifies"

# --- none: no source at all --------------------------------------------------
mode_config none
expect_exit 0 "$EMBERD" crawl -c "$T/full.conf"
[ "$(item_source "$FCAT")" = "(absent)" ] || fail "none: source is '$(item_source "$FCAT")'"
grep -qF '"source"' "$FCAT" && fail "none: a \"source\" key is left"
expect_exit 0 minisign -Vm "$FCAT" -x "$T/full-store/current/catalog.json.minisig" -P "$PUBKEY"
expect_exit 0 "$EMBERD" ls -c "$T/full.conf"
assert_grep "^leak\.bin " "$T/out"
pass "source_urls = none leaves \"source\" out; re-signed, verifies, ls reads it"

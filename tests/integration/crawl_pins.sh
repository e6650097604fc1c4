# A [source] sha256 pin: the right content is fetched; any other content
# is rejected with both hashes named, exit 1, nothing written, no temp
# file, and no retry; the last good copy stays in the catalog and is
# still what `emberd run` serves.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
. "$(dirname "$0")/crawl_lib.sh"
setup_publisher

mkdir "$T/www"
head -c 500000 /dev/urandom >"$T/www/voice.mp4"
touch -d @1700000000 "$T/www/voice.mp4"
good=$(sha256_of "$T/www/voice.mp4")
cp "$T/www/voice.mp4" "$T/good.mp4"
start_origin --root "$T/www"

pinned=(
	"[crawl]" "timeout = 20s"
	"[source voice]" "url = $ORIGIN/r/voice.mp4" "sha256 = $good"
)

# --- the right content under its pin -------------------------------------
crawl_config "${pinned[@]}"
expect_exit 0 "$EMBERD" crawl -c "$CONF"
assert_summary voice "fetched voice.mp4 \(500000 bytes, sha256 $good\)$"
assert_total 1 1 0 0
[ "$(catalog_field voice.mp4 sha256)" = "$good" ] || fail "pinned item not in the catalog"
assert_no_partial
pass "content matching its pin is fetched"

# --- the origin now serves something else at the same URL ----------------
head -c 400000 /dev/urandom >"$T/www/voice.mp4"
touch -d @1700100000 "$T/www/voice.mp4"
evil=$(sha256_of "$T/www/voice.mp4")
seq=$(catalog_seq)
objs=$(n_objects)
cp "$STORE/current/catalog.json" "$T/catalog.before"
origin_reset
expect_exit 1 "$EMBERD" crawl -c "$CONF"
assert_summary voice "failed: .*sha256 mismatch: got $evil, pinned $good"
assert_total 1 0 0 1
[ "$(origin_count /r/voice.mp4)" = 1 ] || { origin_show; fail "a pin mismatch was retried"; }
[ "$(n_objects)" = "$objs" ] || fail "a rejected copy left an object"
[ ! -e "$STORE/objects/$evil" ] || fail "the rejected content is in the store"
[ ! -e "$STORE/crawl/voice.part" ] || fail "the rejected bytes stay in crawl/voice.part"
assert_no_partial
[ "$(catalog_seq)" = "$seq" ] || fail "a rejected copy changed the catalog sequence"
cmp -s "$T/catalog.before" "$STORE/current/catalog.json" || fail "a rejected copy changed the catalog"
[ "$(catalog_field voice.mp4 sha256)" = "$good" ] || fail "the good copy left the catalog"
pass "a changed origin is rejected: both hashes named, exit 1, one request, nothing written"

# A second pass does the same (the rejection left no state that would
# turn it into "unchanged" or a resume of the bad bytes).
origin_reset
expect_exit 1 "$EMBERD" crawl -c "$CONF"
assert_summary voice "failed: .*sha256 mismatch: got $evil, pinned $good"
[ "$(origin_count /r/voice.mp4)" = 1 ] || { origin_show; fail "a pin mismatch was retried"; }
n=$(origin_q "len([e for e in L if 'range' in e['headers']])")
[ "$n" = 0 ] || { origin_show; fail "a Range request resumed rejected bytes"; }
assert_no_partial
pass "the next pass rejects it again, from the start"

# The server still hands out the good copy.
start_server
curl_http -o "$T/served.mp4" "$HTTP_URL/files/voice.mp4" || server_fail "no /files/voice.mp4"
cmp -s "$T/served.mp4" "$T/good.mp4" || server_fail "served copy is not the good one"
curl_http -o "$T/served2.mp4" "$HTTP_URL/sha256/$good" || server_fail "no /sha256/$good"
cmp -s "$T/served2.mp4" "$T/good.mp4" || server_fail "served object is not the good one"
[ "$(status_of "$HTTP_URL/sha256/$evil")" = 404 ] || server_fail "the rejected content is served"
stop_server
pass "emberd run still serves the last good copy"

# --- a wrong pin with no earlier copy ----------------------------------
wrong=$(printf '%064d' 0 | tr 0 a)
crawl_config "[crawl]" "timeout = 20s" \
	"[source other]" "url = $ORIGIN/f/other.bin?size=100000&seed=other" "sha256 = $wrong"
got=$(origin_sha256 "/f/other.bin?size=100000&seed=other")
objs=$(n_objects)
origin_reset
expect_exit 1 "$EMBERD" crawl -c "$CONF"
assert_summary other "failed: .*sha256 mismatch: got $got, pinned $wrong"
[ "$(origin_count "/f/other.bin?size=100000&seed=other")" = 1 ] || { origin_show; fail "a pin mismatch was retried"; }
catalog_has other.bin && fail "a rejected first copy is in the catalog"
[ "$(n_objects)" = "$objs" ] || fail "a rejected first copy left an object"
[ ! -e "$STORE/crawl/other.part" ] || fail "the rejected bytes stay in crawl/other.part"
assert_no_partial
pass "a wrong pin on a new source: failed, nothing in the catalog or the store"

# A pin also catches an origin whose Content-Length lies short: the bytes
# it did send are not the pinned content.
want=$(origin_sha256 "/f/short.bin?size=100000&seed=short")
crawl_config "[crawl]" "timeout = 20s" \
	"[source short]" "url = $ORIGIN/f/short.bin?size=100000&seed=short&len=60000" "sha256 = $want"
expect_exit 1 "$EMBERD" crawl -c "$CONF"
assert_summary short "failed: "
catalog_has short.bin && fail "a short copy is in the catalog"
assert_no_partial
pass "a short Content-Length lie does not pass the pin"

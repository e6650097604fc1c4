# emberd crawl against a well-behaved origin: names and types given or
# derived from the URL and Content-Type, fallback urls, summary lines and
# exit codes, the catalog's items and signature; a second pass sends
# If-None-Match / If-Modified-Since and changes nothing; a changed file at
# the same URL is fetched again; User-Agent; gzip bodies stored decoded;
# with every url failing the reason is the last one's; [crawl] concurrency
# and per_host bound the transfers in flight.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/crawl_lib.sh"
setup_publisher
command -v minisign >/dev/null || fail "minisign is not installed"

# The origin serves /r/NAME from $T/www: the test changes what one URL
# serves by rewriting the file (and its mtime).
mkdir "$T/www"
printf 'first edition of the banned article\n%.0s' $(seq 1 300) >"$T/www/article.txt"
touch -d @1700000000 "$T/www/article.txt"
start_origin --root "$T/www"

UA="emberd-test/1.0 (crawl_basic $$)"
named="/f/clip.bin?size=300000&seed=named"
derived="/f/clip%2D1.mp4?size=200000&seed=derived&type=video%2Fmp4%3B%20codecs%3Davc1"
notype="/f/song.mp3?size=5000&seed=song&type="
index="/f/?size=2000&seed=idx&text=1&type=text%2Fhtml"
gone="/f/gone.bin?fail=1000&status=404"
fallback="/f/fallback.bin?size=7000&seed=fb"
gz="/f/notes.txt?size=200000&seed=gz&text=1&gzip=1&type=text%2Fplain%3B%20charset%3Dutf-8"
plain="/f/plain.bin?size=3000&seed=plain&etag=0"
article="/r/article.txt"

sources=(
	"[crawl]" "user_agent = $UA" "timeout = 20s"
	"[source named]" "url = $ORIGIN$named" "name = voice-of-april.mp4" "type = video/webm"
	"[source derived]" "url = $ORIGIN$derived"
	"[source notype]" "url = $ORIGIN$notype"
	"[source index]" "url = $ORIGIN$index"
	"[source fallback]" "url = $ORIGIN$gone" "url = $ORIGIN$fallback"
	"[source gz]" "url = $ORIGIN$gz"
	"[source plain]" "url = $ORIGIN$plain"
	"[source article]" "url = $ORIGIN$article"
)
crawl_config "${sources[@]}"

# The catalog's source of TARGET: [mirror] source_urls = origin (the
# default) publishes the URL without its query.
published() {
	printf '%s' "$ORIGIN${1%%\?*}"
}

# Expected: ID NAME TYPE SHA256 SIZE SOURCE, one per line, tab-separated
# (a type keeps its charset: "text/plain; charset=utf-8").
expect="$T/expect"
row() {
	local IFS=$'\t'
	echo "$*"
}
{
	row named voice-of-april.mp4 "video/webm" "$(origin_sha256 "$named")" "300000" "$(published "$named")"
	row derived clip-1.mp4 "video/mp4" "$(origin_sha256 "$derived")" "200000" "$(published "$derived")"
	row notype song.mp3 "audio/mpeg" "$(origin_sha256 "$notype")" "5000" "$(published "$notype")"
	row index index.html "text/html" "$(origin_sha256 "$index")" "2000" "$(published "$index")"
	row fallback fallback.bin "application/octet-stream" "$(origin_sha256 "$fallback")" "7000" "$(published "$fallback")"
	row gz notes.txt "text/plain; charset=utf-8" "$(origin_sha256 "$gz")" "200000" "$(published "$gz")"
	row plain plain.bin "application/octet-stream" "$(origin_sha256 "$plain")" "3000" "$(published "$plain")"
	row article article.txt "text/plain" "$(sha256_of "$T/www/article.txt")" "$(stat -c %s "$T/www/article.txt")" "$(published "$article")"
} >"$expect"

check_catalog() {
	python3 - "$STORE/current/catalog.json" "$expect" <<'PY' || fail "catalog items differ from what the origin served"
import json, re, sys
cat = json.load(open(sys.argv[1]))
items = {i["name"]: i for i in cat["items"]}
bad = 0
for line in open(sys.argv[2]):
    sid, name, typ, sha, size, src = line.rstrip("\n").split("\t")
    i = items.get(name)
    if i is None:
        print("missing item %s (source %s)" % (name, sid)); bad = 1; continue
    want = {"sha256": sha, "size": int(size), "type": typ, "source": src}
    for k, v in want.items():
        if i.get(k) != v:
            print("%s: %s is %r, want %r" % (name, k, i.get(k), v)); bad = 1
    if not re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", i.get("fetched", "")):
        print("%s: fetched %r" % (name, i.get("fetched"))); bad = 1
sys.exit(bad)
PY
}

# --- pass 1: everything fetched -------------------------------------
expect_exit 0 "$EMBERD" crawl -c "$CONF"
while IFS=$'\t' read -r sid name typ sha size src; do
	assert_summary "$sid" "fetched $name \($size bytes, sha256 $sha\)$"
done <"$expect"
assert_total 8 8 0 0
check_catalog
assert_no_partial
for sha in $(cut -f4 "$expect"); do
	[ -e "$STORE/objects/$sha" ] || fail "no object $sha in the store"
done
pass "first pass fetches all; names, types, sources and hashes right"

[ "$(origin_count "$gone")" = 1 ] || { origin_show; fail "the 404 url was asked more than once"; }
[ "$(origin_count "$fallback")" = 1 ] || { origin_show; fail "the fallback url was not asked exactly once"; }
pass "a 404 url falls back to the next url, without retrying the 404"

# The state of a source: STORE/crawl/ID.json with url, etag, last_modified
# and the sha256 of the last good copy.
origin_info "$named"
python3 - "$STORE/crawl/named.json" "$ORIGIN$named" "$INFO_ETAG" "$INFO_SHA" <<'PY' || fail "crawl/named.json does not hold the source's state"
import json, sys
s = json.load(open(sys.argv[1]))
assert s.get("url") == sys.argv[2], s
assert s.get("etag") == sys.argv[3], s
assert s.get("sha256") == sys.argv[4], s
assert s.get("last_modified"), s
PY
[ ! -e "$STORE/crawl/named.part" ] || fail "crawl/named.part left after success"
pass "crawl/ID.json holds url, etag, last_modified and sha256"

cp "$STORE/current/catalog.json" "$STORE/current/catalog.json.minisig" "$T/"
expect_exit 0 minisign -Vm "$T/catalog.json" -P "$PUBKEY"
seq1=$(catalog_seq)
[ "$seq1" -ge 1 ] || fail "catalog sequence $seq1 after the first pass"
pass "the new catalog verifies with minisign (sequence $seq1)"

n=$(origin_q "len([e for e in L if e['headers'].get('user-agent') != sys.argv[3]])" "$UA")
[ "$n" = 0 ] || { origin_q "[e['headers'].get('user-agent') for e in L]"; fail "$n requests without User-Agent '$UA'"; }
pass "User-Agent is [crawl] user_agent"

n=$(origin_q "len([e for e in L if e['path'] == sys.argv[3] and 'gzip' in e['headers'].get('accept-encoding', '') and e['status'] == 200 and e['sent'] > 0])" "$gz")
[ "$n" = 1 ] || { origin_show; fail "the gzip source was not fetched once with Accept-Encoding: gzip"; }
[ "$(catalog_field notes.txt size)" = 200000 ] || fail "gzip body not stored decoded"
pass "a gzip Content-Encoding is stored decoded (sha256 of the identity content)"

# --- pass 2: nothing changed -----------------------------------------
ls -l --time-style=full-iso "$STORE/objects" >"$T/objects.before"
cp "$STORE/current/catalog.json" "$T/catalog.before"
origin_reset
expect_exit 0 "$EMBERD" crawl -c "$CONF"
while IFS=$'\t' read -r sid name typ sha size src; do
	assert_summary "$sid" "unchanged $name$"
done <"$expect"
assert_total 8 0 8 0
[ "$(catalog_seq)" = "$seq1" ] || fail "an unchanged pass bumped the sequence to $(catalog_seq)"
cmp -s "$T/catalog.before" "$STORE/current/catalog.json" || fail "an unchanged pass rewrote the catalog"
ls -l --time-style=full-iso "$STORE/objects" >"$T/objects.after"
cmp -s "$T/objects.before" "$T/objects.after" || fail "an unchanged pass wrote objects"
assert_no_partial
pass "second pass: every source unchanged, same catalog, no object written"

# Conditional requests: each target with validators got its ETag in
# If-None-Match and its Last-Modified in If-Modified-Since, and a 304.
for target in "$named" "$derived" "$notype" "$index" "$fallback" "$gz" "$article"; do
	etag=$(curl -sS -o /dev/null -D - --max-time 10 "$ORIGIN$target" -H 'X-Probe: 1' |
		tr -d '\r' | sed -n 's/^ETag: //Ip')
	n=$(origin_q "len([e for e in L if e['path'] == sys.argv[3] and e['headers'].get('if-none-match') == sys.argv[4] and e['headers'].get('if-modified-since') and e['status'] == 304])" "$target" "$etag")
	[ "$n" = 1 ] || { origin_show; fail "$target: no single request with If-None-Match $etag and If-Modified-Since answered 304"; }
done
n=$(origin_q "len([e for e in L if e['path'] == sys.argv[3] and ('if-none-match' in e['headers'] or 'if-modified-since' in e['headers'])])" "$plain")
[ "$n" = 0 ] || fail "conditional headers sent for a source whose origin gave no validators"
pass "If-None-Match and If-Modified-Since sent; 304 is unchanged"

# --- pass 3: the article changes at the same URL ---------------------
printf 'second edition, with corrections\n%.0s' $(seq 1 400) >"$T/www/article.txt"
touch -d @1700100000 "$T/www/article.txt"
new=$(sha256_of "$T/www/article.txt")
old=$(catalog_field article.txt sha256)
objs=$(n_objects)
origin_reset
expect_exit 0 "$EMBERD" crawl -c "$CONF"
assert_summary article "fetched article.txt \($(stat -c %s "$T/www/article.txt") bytes, sha256 $new\)$"
assert_summary named "unchanged voice-of-april.mp4$"
assert_total 8 1 7 0
[ "$(catalog_field article.txt sha256)" = "$new" ] || fail "catalog still lists the old article"
[ "$(catalog_seq)" = $((seq1 + 1)) ] || fail "sequence $(catalog_seq) after one change, want $((seq1 + 1))"
# The new content, and the provenance document of its capture.
[ "$(n_objects)" = $((objs + 2)) ] || fail "want exactly two new objects (content, provenance)"
[ -e "$STORE/objects/$new" ] || fail "no object for the new article"
[ -e "$STORE/objects/$old" ] || fail "the old article's object vanished before gc"
cp "$STORE/current/catalog.json" "$STORE/current/catalog.json.minisig" "$T/"
expect_exit 0 minisign -Vm "$T/catalog.json" -P "$PUBKEY"
assert_grep "sequence:$((seq1 + 1))" "$T/out"
expect_exit 0 "$EMBERD" verify -c "$CONF"
pass "changed content at the same URL is fetched again; sequence bumped by one"

# --- pass 4: the catalog could not be written ------------------------
# The article changes again, and a file where the next catalog's folder
# goes makes the publish fail after the object and the state file are
# written, as a kill between the two would. The next pass fetches it
# again and publishes it: a state file whose copy no catalog lists is not
# the ground for a 304 (it was, and the article stayed out until it
# changed again).
printf 'third edition\n%.0s' $(seq 1 300) >"$T/www/article.txt"
touch -d @1700200000 "$T/www/article.txt"
third=$(sha256_of "$T/www/article.txt")
seq=$(catalog_seq)
: >"$STORE/catalogs/$((seq + 1))"
origin_reset
expect_exit 1 "$EMBERD" crawl -c "$CONF"
assert_summary article "failed: .*catalogs/$((seq + 1)): .*"
[ "$(catalog_field article.txt sha256)" = "$new" ] || fail "a failed publish changed the catalog"
rm "$STORE/catalogs/$((seq + 1))"
origin_reset
expect_exit 0 "$EMBERD" crawl -c "$CONF"
assert_summary article "fetched article.txt \($(stat -c %s "$T/www/article.txt") bytes, sha256 $third\)$"
[ "$(catalog_field article.txt sha256)" = "$third" ] ||
	fail "after the failed publish, the catalog still lists the second edition"
pass "a publish that failed after the state file was written: the next pass fetches and publishes the article"

# --- exit codes ---------------------------------------------------------
crawl_config "${sources[@]}" "[source missing]" "url = $ORIGIN/f/missing.bin?fail=1000&status=404"
seq=$(catalog_seq)
expect_exit 1 "$EMBERD" crawl -c "$CONF"
assert_summary missing "failed: .*HTTP 404"
assert_total 9 0 8 1
[ "$(catalog_seq)" = "$seq" ] || fail "a failed source changed the catalog"
pass "one failed source: exit 1, summary names it"

expect_exit 2 "$EMBERD" crawl -c "$T/no-such.conf"
crawl_config "[source broken]" "name = x"
expect_exit 2 "$EMBERD" crawl -c "$CONF"
assert_grep "broken" "$T/err"
[ "$(catalog_seq)" = "$seq" ] || fail "a bad config changed the catalog"
pass "bad config: exit 2"

# --- several urls all failing: the reason is the last url's --------------
crawl_config "[crawl]" "timeout = 20s" \
	"[source both1]" "url = $ORIGIN/f/b1.bin?fail=1000&status=500" "url = $ORIGIN/f/b2.bin?fail=1000&status=404" \
	"[source both2]" "url = $ORIGIN/f/b3.bin?fail=1000&status=404" "url = $ORIGIN/f/b4.bin?fail=1000&status=500"
origin_reset
expect_exit 1 "$EMBERD" crawl -c "$CONF"
assert_summary both1 "failed: .*HTTP 404"
assert_summary both2 "failed: .*HTTP 500 after 3 attempts"
assert_total 2 0 0 2
[ "$(origin_count "/f/b1.bin?fail=1000&status=500")" = 3 ] || { origin_show; fail "first url (500) not tried 3 times"; }
[ "$(origin_count "/f/b2.bin?fail=1000&status=404")" = 1 ] || { origin_show; fail "second url (404) not tried once"; }
[ "$(origin_count "/f/b3.bin?fail=1000&status=404")" = 1 ] || { origin_show; fail "first url (404) not tried once"; }
pass "every url fails: the reason is the last url's"

# --- concurrency and per_host --------------------------------------------
# Six sources of about 1 s each (4 KiB pieces, 100 ms apart), three on
# 127.0.0.1 and three on localhost: at most 2 at once per host, 3 in all.
lines=("[crawl]" "timeout = 20s" "concurrency = 3" "per_host = 2")
lport=${ORIGIN##*:}
for i in 1 2 3; do
	lines+=("[source ip$i]" "url = $ORIGIN/f/ip$i.bin?size=40960&seed=ip$i&drip=100")
	lines+=("[source lh$i]" "url = http://localhost:$lport/f/lh$i.bin?size=40960&seed=lh$i&drip=100")
done
crawl_config "${lines[@]}"
origin_reset
expect_exit 0 "$EMBERD" crawl -c "$CONF"
assert_total 6 6 0 0
python3 - "$ORIGIN/admin/log" <<'PY' || { origin_show; fail "concurrency or per_host not respected"; }
import json, sys, urllib.request
L = [e for e in json.load(urllib.request.urlopen(sys.argv[1])) if e["status"] == 200]
def peak(es):
    # An answer ends when its last piece goes out ("last"): the origin's
    # thread may record "done" later, on a busy machine after the
    # crawler has started the next transfer.
    ev = sorted([(e["time"], 1) for e in es] + [(e["last"] or e["done"], -1) for e in es])
    n = best = 0
    for _, d in ev:
        n += d
        best = max(best, n)
    return best
hosts = {}
for e in L:
    hosts.setdefault(e["headers"]["host"].split(":")[0], []).append(e)
assert sorted(hosts) == ["127.0.0.1", "localhost"], hosts.keys()
for h, es in hosts.items():
    assert len(es) == 3, (h, len(es))
    assert peak(es) <= 2, (h, peak(es))
allp = peak(L)
assert 2 <= allp <= 3, allp
print("peak %d in all, per host %s" % (allp, {h: peak(es) for h, es in hosts.items()}))
PY
pass "concurrency 3, per_host 2: respected"

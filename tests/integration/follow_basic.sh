# A follower (`[follow]`) replicates a publisher: `emberd crawl` installs
# the publisher's catalog.json and .minisig byte for byte, with every
# object verified; a second pass is "up to date" and fetches nothing; a
# replaced and a new item are picked up on the next pass and the object
# that left the catalog is removed; gc and verify agree with it; a peer
# over HTTPS with a self-signed certificate is refused unless tls_verify =
# no, and the previous catalog stays served meanwhile; `emberd add` on a
# follower is an error (exit 2), and [source] sections are ignored.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
. "$(dirname "$0")/follow_lib.sh"
command -v minisign >/dev/null || fail "minisign is not installed"

mkdir "$T/in"
head -c 3500000 /dev/urandom >"$T/in/voice-of-april.mp4"
printf 'Banned article, first edition.\n%.0s' $(seq 1 3000) >"$T/in/article.txt"
head -c 70000 /dev/urandom >"$T/in/song.mp3"
publisher_setup "$T/in/voice-of-april.mp4" "$T/in/article.txt" "$T/in/song.mp3"
seq1=$PUB_SEQ

F=fol
follow_lines=("[follow]" "pubkey = $PUBKEY" "peer = $HTTP_URL/" "interval = 1h")
follower_config $F "${follow_lines[@]}"
FST=$(fstore $F)

# --- first pass: everything fetched, the publisher's files installed -----
follower_crawl $F 0
fassert "^[0-9TZ:-]* *emberd: sync: peer $HTTP_URL/: catalog sequence $seq1, signature verified \(key $KEYID\)$"
while read -r sha size name; do
	fassert "^[0-9TZ:-]* *emberd: sync $sha: fetched $name \($size bytes, sha256 $sha\)$"
done < <(items_of "$STORE/current/catalog.json")
fassert "^[0-9TZ:-]* *emberd: sync: installed catalog sequence $seq1 from $HTTP_URL/ \(3 items\)$"
[ "$(tail -n 1 "$T/err")" = "emberd: sync: 3 objects fetched, 0 failed" ] ||
	fail "last line '$(tail -n 1 "$T/err")', want the 3 fetched / 0 failed total"
same_catalog "$FST/current"
check_objects $F
pass "first pass: catalog.json and .minisig installed byte for byte, 3 objects verified"

# --- a second pass is up to date and fetches no object ------------------
mark=$(wc -l <"$SERVER_LOG")
follower_crawl $F 0
fassert "^[0-9TZ:-]* *emberd: sync: up to date at catalog sequence $seq1$"
[ "$(tail -n 1 "$T/err")" = "emberd: sync: 0 objects fetched, 0 failed" ] ||
	fail "second pass: last line '$(tail -n 1 "$T/err")'"
tail -n +$((mark + 1)) "$SERVER_LOG" >"$T/pass2.log"
n=$(grep -c 'GET /sha256/' "$T/pass2.log" || true)
[ "$n" = 0 ] || { cat "$T/pass2.log"; fail "an up-to-date pass asked the publisher for $n objects"; }
n=$(grep -c 'GET /catalog.json 200' "$T/pass2.log" || true)
[ "$n" = 1 ] || { cat "$T/pass2.log"; fail "the second pass asked for catalog.json $n times, want 1"; }
same_catalog "$FST/current"
pass "second pass: up to date, one catalog request, no object request"

# --- the follower serves what it holds, like any mirror -----------------
follower_start $F
wait_passes $F 1
FU=$(furl $F)
curl_http -o "$T/f-catalog.json" "$FU/catalog.json" || fail "follower: no /catalog.json"
curl_http -o "$T/f-catalog.json.minisig" "$FU/catalog.json.minisig" || fail "follower: no .minisig"
expect_exit 0 minisign -Vm "$T/f-catalog.json" -P "$PUBKEY"
cmp -s "$T/f-catalog.json" "$STORE/current/catalog.json" || fail "follower serves another catalog.json"
curl_http -o "$T/f-pubkey" "$FU/pubkey" || fail "follower: no /pubkey"
curl_http -o "$T/p-pubkey" "$HTTP_URL/pubkey" || fail "publisher: no /pubkey"
cmp -s "$T/f-pubkey" "$T/p-pubkey" || fail "the follower's /pubkey is not the publisher's"
check_served "$FU" "$T/f-catalog.json"
follower_stop $F
pass "the follower serves the catalog (minisign -Vm verifies), /pubkey and every object (sha256sum)"

# --- the publisher replaces one item and adds one -----------------------
old_article=$(sha256_of "$T/in/article.txt")
printf 'Banned article, second edition, with the names.\n%.0s' $(seq 1 3000) >"$T/in/article-2.txt"
head -c 50000 /dev/urandom >"$T/in/leaflet.pdf"
publisher_add --name article.txt "$T/in/article-2.txt"
publisher_add "$T/in/leaflet.pdf"
seq2=$PUB_SEQ
[ "$seq2" -gt "$seq1" ] || fail "the publisher's sequence did not grow"
[ -e "$FST/objects/$old_article" ] || fail "the old article is not in the follower's store before the pass"
mark=$(wc -l <"$SERVER_LOG")
follower_crawl $F 0
fassert "^[0-9TZ:-]* *emberd: sync: installed catalog sequence $seq2 from $HTTP_URL/ \(4 items\)$"
fassert "^[0-9TZ:-]* *emberd: sync $(sha256_of "$T/in/article-2.txt"): fetched article.txt "
fassert "^[0-9TZ:-]* *emberd: sync $(sha256_of "$T/in/leaflet.pdf"): fetched leaflet.pdf \(50000 bytes, "
[ "$(tail -n 1 "$T/err")" = "emberd: sync: 2 objects fetched, 0 failed" ] ||
	fail "update pass: last line '$(tail -n 1 "$T/err")'"
n=$(tail -n +$((mark + 1)) "$SERVER_LOG" | grep -c 'GET /sha256/' || true)
[ "$n" = 2 ] || fail "the update pass asked the publisher for $n objects, want the 2 new ones"
# Without [follow] purge the replaced object goes one sync later.
[ -e "$FST/objects/$old_article" ] || fail "the replaced article's object went at once without [follow] purge"
follower_crawl $F 0
fassert "^[0-9TZ:-]* *emberd: sync: removed 1 objects that left the catalog$"
[ ! -e "$FST/objects/$old_article" ] || fail "the replaced article's object is still in the follower's store"
[ "$(find "$FST/objects" -maxdepth 1 -type f | wc -l)" = 4 ] || fail "want 4 objects in the follower's store"
same_catalog "$FST/current"
check_objects $F
pass "a replaced and a new item: sequence $seq2 installed, 2 fetched, the object that left removed"

expect_exit 0 "$EMBERD" gc -c "$(fconf $F)"
expect_exit 0 "$EMBERD" gc -c "$(fconf $F)" --now
check_objects $F
same_catalog "$FST/current"
pass "emberd gc on the follower keeps every listed object; emberd verify passes"

# --- a peer over HTTPS with a self-signed certificate ---------------------
# The publisher moves on; the follower is pointed at its https listener.
head -c 20000 /dev/urandom >"$T/in/flyer.png"
publisher_add "$T/in/flyer.png"
seq3=$PUB_SEQ
mkdir "$T/held"
cp "$FST/current/catalog.json" "$FST/current/catalog.json.minisig" "$T/held/"
follower_config $F "[follow]" "pubkey = $PUBKEY" "peer = $HTTPS_URL/" "interval = 1h"
follower_crawl $F 1
fassert "^[0-9TZ:-]* *emberd: (warning: )?sync: peer $HTTPS_URL/: catalog\.json(\.minisig)?: .*certificate"
fassert "^[0-9TZ:-]* *emberd: (error: )?sync: no peer gave a valid catalog; still serving sequence $seq2$"
cmp -s "$T/held/catalog.json" "$FST/current/catalog.json" || fail "a failed pass changed the installed catalog"
[ ! -e "$FST/objects/$(sha256_of "$T/in/flyer.png")" ] || fail "an object came through an unverified TLS peer"
pass "https peer with a self-signed certificate, tls_verify default: exit 1, certificate error logged"

follower_start $F
wait_passes $F 1
assert_grep "sync: peer $HTTPS_URL/: catalog\.json(\.minisig)?: .*certificate" "$T/$F/run.log"
curl_http -o "$T/f-catalog.json" "$(furl $F)/catalog.json" || fail "follower: no /catalog.json"
cmp -s "$T/f-catalog.json" "$T/held/catalog.json" || fail "the follower does not serve its previous catalog"
follower_stop $F
pass "emberd run: the certificate error is logged; the previous catalog stays served"

follower_config $F "[follow]" "pubkey = $PUBKEY" "peer = $HTTPS_URL/" "interval = 1h" "tls_verify = no"
follower_crawl $F 0
fassert "^[0-9TZ:-]* *emberd: sync: peer $HTTPS_URL/: catalog sequence $seq3, signature verified \(key $KEYID\)$"
fassert "^[0-9TZ:-]* *emberd: sync: installed catalog sequence $seq3 from $HTTPS_URL/ \(5 items\)$"
same_catalog "$FST/current"
check_objects $F
pass "tls_verify = no: syncs from the self-signed peer (sequence $seq3)"

# --- emberd add on a follower; config errors --------------------------
cp "$FST/current/catalog.json" "$T/held/catalog.json"
follower_config $F "${follow_lines[@]}"
n=$(find "$FST/objects" -maxdepth 1 -type f | wc -l)
head -c 1000 /dev/urandom >"$T/in/own.bin"
expect_exit 2 "$EMBERD" add -c "$(fconf $F)" "$T/in/own.bin"
assert_grep "$(fconf $F).*follow" "$T/err"
cmp -s "$T/held/catalog.json" "$FST/current/catalog.json" || fail "emberd add changed the follower's catalog"
[ "$(find "$FST/objects" -maxdepth 1 -type f | wc -l)" = "$n" ] || fail "emberd add stored an object on a follower"
pass "emberd add on a follower: exit 2 with a message; nothing stored"


# The contract's sample config has every section; a follower given
# [source]s says it ignores them, and signs nothing of its own.
follower_config $F "[follow]" "pubkey = $PUBKEY" "peer = $HTTP_URL/" \
	"[source extra]" "url = $HTTP_URL/files/song.mp3"
expect_exit 0 "$EMBERD" crawl -c "$(fconf $F)"
assert_grep "warning: $(fconf $F): \[follow\] is set: the \[source\] sections are not crawled" "$T/err"
assert_grep "sync: up to date" "$T/err"
grep -q "crawl extra" "$T/err" && fail "the [source] was crawled on a follower"
cmp -s "$T/held/catalog.json" "$FST/current/catalog.json" || fail "[source] changed the follower's catalog"
pass "[follow] with [source]: a warning that the sources are not crawled; the publisher's catalog stays"

stop_server

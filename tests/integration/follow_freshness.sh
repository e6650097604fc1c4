# Freshness and history of the catalog. Every catalog a publisher signs
# carries "expires" (generated + [mirror] expires) and "previous" (the
# SHA-256 of the catalog.json it replaced; none for the first), and
# minisign verifies each. `emberd run` re-signs before expiry with the
# same items. A mirror frozen by a censor, serving a validly signed but
# expired catalog, is refused by followers and `emberd fetch` with the
# peer, the sequence and the expiry time named; the follower keeps what
# it had and takes a fresh catalog from another peer; a follower holding
# an expired catalog says so each pass. Two histories signed by the same
# key (a copy of the publisher's store published from) are logged as a
# fork with both sequences and hashes; a jump of several sequences as a
# gap.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
. "$(dirname "$0")/follow_lib.sh"
command -v minisign >/dev/null || fail "minisign is not installed"

mkdir "$T/in" "$T/frozen" "$T/forked"
printf 'Voice of April, the statement\n%.0s' $(seq 1 500) >"$T/in/statement.txt"
head -c 200000 /dev/urandom >"$T/in/song.ogg"

# cat_q FILE PYEXPR: PYEXPR with c = the catalog FILE.
cat_q() {
	python3 -c 'import calendar, json, sys, time
def t(s): return calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ"))
c = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$1" "$2"
}
verifies() {	# verifies DIR: minisign checks DIR/catalog.json
	expect_exit 0 minisign -Vm "$1/catalog.json" -P "$PUBKEY"
}

# --- (a) expires and previous on every catalog signed -----------------------
setup_publisher
KEYID=$(sed -n 's/^untrusted comment: minisign public key //p' "$T/pub")
echo "expires = 1m" >>"$CONF"
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/in/statement.txt"
mkdir "$T/c1" "$T/c2"
cp "$STORE/current/catalog.json" "$STORE/current/catalog.json.minisig" "$T/c1/"
[ "$(cat_q "$T/c1/catalog.json" '"previous" in c')" = False ] ||
	fail "the first catalog has a previous"
[ "$(cat_q "$T/c1/catalog.json" 't(c["expires"]) - t(c["generated"])')" = 60 ] ||
	fail "expires = 1m: the first catalog expires $(cat_q "$T/c1/catalog.json" 'c["expires"]'), generated $(cat_q "$T/c1/catalog.json" 'c["generated"]')"
verifies "$T/c1"
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/in/song.ogg"
cp "$STORE/current/catalog.json" "$STORE/current/catalog.json.minisig" "$T/c2/"
[ "$(cat_q "$T/c2/catalog.json" 'c["sequence"]')" = 2 ] || fail "the second add is not sequence 2"
[ "$(cat_q "$T/c2/catalog.json" 'c["previous"]')" = "$(sha256_of "$T/c1/catalog.json")" ] ||
	fail "previous of sequence 2 is not the sha256sum of sequence 1's catalog.json"
[ "$(cat_q "$T/c2/catalog.json" 't(c["expires"]) - t(c["generated"])')" = 60 ] ||
	fail "expires = 1m: sequence 2 is not valid for 60 s"
verifies "$T/c2"
pass "(a) every catalog carries expires (generated + 1m) and previous (sha256sum of the one before; none for the first); minisign verifies"

# --- (b) emberd run re-signs before expiry ----------------------------------
# Sequence 2 is valid for 60 s. The server runs with expires = 168 s: a
# catalog is re-signed once less than a third of that (56 s) is left, so
# 4 s after sequence 2 was signed, by the server's timer, with no add and
# no pass (the publisher has no [source]). A run at 1m itself re-signs 40 s
# after each catalog: too slow for this test; the rule is the same.
start_server "expires = 168"
gen2=$(cat_q "$T/c2/catalog.json" 't(c["generated"])')
exp2=$(cat_q "$T/c2/catalog.json" 't(c["expires"])')
deadline=$((SECONDS + 30))
while [ "$SECONDS" -lt "$deadline" ]; do
	curl_http -o "$T/served.json" "$HTTP_URL/catalog.json" 2>/dev/null &&
		[ "$(json_seq "$T/served.json" 2>/dev/null)" = 3 ] && break
	server_alive
	sleep 0.1
done
[ "$(json_seq "$T/served.json")" = 3 ] || server_fail "no renewal served within 30 s (sequence $(json_seq "$T/served.json"))"
mkdir "$T/c3"
curl_http -o "$T/c3/catalog.json" "$HTTP_URL/catalog.json" || fail "no catalog.json"
curl_http -o "$T/c3/catalog.json.minisig" "$HTTP_URL/catalog.json.minisig" || fail "no .minisig"
verifies "$T/c3"
[ "$(items_of "$T/c3/catalog.json")" = "$(items_of "$T/c2/catalog.json")" ] ||
	fail "the renewal changed the items"
[ "$(cat_q "$T/c3/catalog.json" 'c["previous"]')" = "$(sha256_of "$T/c2/catalog.json")" ] ||
	fail "the renewal's previous is not the sha256sum of sequence 2"
gen3=$(cat_q "$T/c3/catalog.json" 't(c["generated"])')
[ "$gen3" -ge $((gen2 + 4)) ] || fail "re-signed at $gen3, before it was due ($((gen2 + 4)))"
[ "$gen3" -lt "$exp2" ] || fail "re-signed at $gen3, after sequence 2 expired ($exp2)"
[ "$(cat_q "$T/c3/catalog.json" 't(c["expires"]) - t(c["generated"])')" = 168 ] ||
	fail "the renewal is not valid for the configured 168 s"
assert_grep "^([0-9TZ:-]+ )?emberd: renew: catalog sequence 2 was to expire at $(cat_q "$T/c2/catalog.json" 'c["expires"]'): re-signed as sequence 3 with the same 2 items, valid until $(cat_q "$T/c3/catalog.json" 'c["expires"]')$" "$SERVER_LOG"
cmp -s "$T/c3/catalog.json" "$STORE/current/catalog.json" || fail "the served catalog is not the stored one"
pass "(b) emberd run re-signed on its own $((gen3 - gen2)) s after sequence 2, before its expiry: sequence 3, same items, chained, minisign verifies, served"

# --- (c) a frozen mirror: validly signed, expired ---------------------------
# The publisher's catalog with a higher sequence and an expiry an hour
# ago, signed with the publisher's key by minisign itself (emberd's key is
# PKCS#8; minisign takes the same Ed25519 key in its own format).
python3 - "$T/publisher.key" "$T/pub" "$T/minisign.key" <<'PY'
import base64, hashlib, sys
pem, pub, out = sys.argv[1:4]
der = base64.b64decode("".join(l for l in open(pem).read().splitlines()
                               if not l.startswith("-----")))
assert len(der) == 48 and der[-34:-32] == b"\x04\x20", "not PKCS#8 Ed25519"
p = base64.b64decode(open(pub).read().splitlines()[-1])
assert p[:2] == b"Ed" and len(p) == 42, "not a minisign public key"
keynum, sk = p[2:10], der[-32:] + p[10:42]
chk = hashlib.blake2b(b"Ed" + keynum + sk, digest_size=32).digest()
# Ed, no KDF (unencrypted), BLAKE2b checksum, empty salt and limits.
blob = b"Ed\0\0B2" + b"\0" * 48 + keynum + sk + chk
open(out, "w").write("untrusted comment: emberd key for minisign\n" +
                     base64.b64encode(blob).decode() + "\n")
PY
python3 - "$STORE/current/catalog.json" "$T/frozen/catalog.json" <<'PY'
import json, sys, time
c = json.load(open(sys.argv[1]))
now = int(time.time())
c["generated"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 7200))
c["expires"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 3600))
c["sequence"] = 50
open(sys.argv[2], "w").write(json.dumps(c, separators=(",", ":"), ensure_ascii=False) + "\n")
PY
minisign -S -s "$T/minisign.key" -m "$T/frozen/catalog.json" \
	-t "$(printf 'timestamp:%s\tsequence:50\tfile:catalog.json\tprehashed' "$(date +%s)")" \
	>/dev/null || fail "minisign could not sign with the publisher's key"
verifies "$T/frozen"
frozen_exp=$(cat_q "$T/frozen/catalog.json" 'c["expires"]')

peer_start frozen "$HTTP_URL" --mode otherkey --alt-dir "$T/frozen"
peer_start good "$HTTP_URL" --mode good
FROZEN=${PEER_URL[frozen]}
GOOD=${PEER_URL[good]}
flines() {	# flines PEER...
	local p
	printf '%s\n' "[crawl]" "timeout = 5s" "per_host = 8" "[follow]" "pubkey = $PUBKEY" "interval = 1h"
	for p in "$@"; do echo "peer = $p/"; done
}
refused="sync: peer $FROZEN/: expired: catalog sequence 50 expired at $frozen_exp; refused"

follower_config F "$(flines "$FROZEN" "$GOOD")"
follower_crawl F 0
fassert "^emberd: (warning: )?$refused"
fassert "^emberd: sync: installed catalog sequence 3 from $GOOD/ "
same_catalog "$(fstore F)/current"
check_objects F
pass "(c) a frozen peer's expired catalog (sequence 50) is refused with the peer, sequence and expiry named; sequence 3 from the good peer"

follower_config F "$(flines "$FROZEN")"
follower_crawl F 1
fassert "^emberd: (warning: )?$refused"
fassert "^emberd: (error: )?sync: no peer gave a current catalog: the newest, sequence 50 from $FROZEN/, expired at $frozen_exp; refusing stale data; still serving sequence 3$"
same_catalog "$(fstore F)/current"
follower_start F
wait_passes F 1 30
assert_grep "sync: no peer gave a current catalog: the newest, sequence 50 from $FROZEN/" "$T/F/run.log"
curl_http -o "$T/F-served.json" "$(furl F)/catalog.json" || fail "F serves no catalog"
cmp -s "$T/F-served.json" "$T/c3/catalog.json" || fail "F does not serve sequence 3 any more"
follower_stop F
pass "(c) the frozen peer alone: the pass fails (exit 1) naming it; sequence 3 stays installed and served"

mkdir "$T/reader"
(cd "$T/reader" && expect_exit 1 timeout 60 "$EMBERD" fetch --pubkey "$PUBKEY" -m "$FROZEN/" song.ogg)
assert_grep "^emberd: (warning: )?fetch: mirror $FROZEN/: expired: catalog sequence 50 expired at $frozen_exp; refused" "$T/err"
assert_grep "^emberd: (error: )?fetch: no mirror gave a current catalog signed by key $KEYID: the newest, sequence 50 from $FROZEN/, expired at $frozen_exp; refusing stale data$" "$T/err"
[ ! -e "$T/reader/song.ogg" ] || fail "fetch wrote song.ogg from an expired catalog"
(cd "$T/reader" && expect_exit 0 timeout 60 "$EMBERD" fetch --pubkey "$PUBKEY" -m "$FROZEN/" -m "$GOOD/" song.ogg)
[ "$(sha256_of "$T/reader/song.ogg")" = "$(sha256_of "$T/in/song.ogg")" ] || fail "fetch: wrong bytes"
pass "(c) emberd fetch: exit 1 with the expiry named when only the frozen mirror answers; with a good one too, the file"

# A follower whose own catalog expired (the publisher stopped renewing)
# and no peer has a newer one: said every pass.
mkdir -p "$(fstore G)/catalogs/50"
cp "$T/frozen/catalog.json" "$T/frozen/catalog.json.minisig" "$(fstore G)/catalogs/50/"
ln -s catalogs/50 "$(fstore G)/current"
follower_config G "$(flines "$GOOD")"
follower_crawl G 1
fassert "^emberd: (warning: )?sync: this mirror's catalog sequence 50 expired at $frozen_exp and no peer has a newer one"
follower_crawl G 1
fassert "^emberd: (warning: )?sync: this mirror's catalog sequence 50 expired at $frozen_exp and no peer has a newer one"
pass "(c) a follower holding an expired catalog logs it on every pass"

# --- (d) a fork: two histories signed by one key ----------------------------
# A copy of the publisher's store, published from with the same key:
# sequence 4 exists twice, with the same previous (sequence 3).
mkdir "$T/fork"
cp -a "$STORE" "$T/fork/store"
cat >"$T/fork/emberd.conf" <<CONF
[mirror]
name  = Test archive
store = store
key   = $T/publisher.key
allow_root = yes
CONF
forked() {	# forked: the fork's current catalog served by the forked peer
	cp "$T/fork/store/current/catalog.json" "$T/fork/store/current/catalog.json.minisig" "$T/forked/"
}
expect_exit 0 "$EMBERD" add -c "$T/fork/emberd.conf" --name copy-a.txt "$T/in/statement.txt"
forked
publisher_add --name copy-b.txt "$T/in/statement.txt"
[ "$PUB_SEQ" = 4 ] && [ "$(json_seq "$T/forked/catalog.json")" = 4 ] || fail "both histories should be at sequence 4"
[ "$(cat_q "$T/forked/catalog.json" 'c["previous"]')" = "$(cat_q "$STORE/current/catalog.json" 'c["previous"]')" ] ||
	fail "the two sequence 4 should have the same previous"
peer_start fork "$HTTP_URL" --mode otherkey --alt-dir "$T/forked"
FORK=${PEER_URL[fork]}
sha_pub=$(sha256_of "$STORE/current/catalog.json")
sha_fork=$(sha256_of "$T/forked/catalog.json")

# K holds the publisher's sequence 4; the forked peer serves another one.
follower_config K "$(flines "$GOOD")"
follower_crawl K 0
same_catalog "$(fstore K)/current"
follower_config K "$(flines "$FORK")"
follower_crawl K 0
fassert "^emberd: (warning: )?sync: fork: peer $FORK/ serves catalog sequence 4 with sha256 $sha_fork; this mirror holds sequence 4 with sha256 $sha_pub$"
same_catalog "$(fstore K)/current"
pass "(d) same sequence, other bytes: fork logged with both hashes; the held catalog stays"

# The fork moves on to sequence 5, chained to its own 4, not to K's.
expect_exit 0 "$EMBERD" add -c "$T/fork/emberd.conf" --name copy-c.txt "$T/in/statement.txt"
forked
sha_fork5=$(sha256_of "$T/forked/catalog.json")
follower_crawl K 0
fassert "^emberd: (warning: )?sync: fork: peer $FORK/ serves catalog sequence 5 \(sha256 $sha_fork5\) that follows sha256 $sha_fork, not this mirror's sequence 4 with sha256 $sha_pub$"
fassert "^emberd: sync: installed catalog sequence 5 from $FORK/ "
cmp -s "$T/forked/catalog.json" "$(fstore K)/current/catalog.json" || fail "K did not install the fork's sequence 5"
check_objects K
pass "(d) next sequence not chained to the held one: fork logged with both sequences and hashes; installed (validly signed, newer)"

# F still holds sequence 3: a jump to 5 cannot be checked in one step.
follower_config F "$(flines "$FORK")"
follower_crawl F 0
fassert "^emberd: sync: gap: catalog sequence 5 from $FORK/ follows this mirror's sequence 3; the chain between them cannot be checked$"
if grep -q 'fork' "$T/err"; then cat "$T/err"; fail "a gap was logged as a fork"; fi
pass "(d) a jump of two sequences is logged as a gap, not a fork"

stop_server

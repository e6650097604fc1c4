# Takedown: `emberd rm --purge` at a publisher that serves, with two
# followers syncing from it every second, one with [follow] purge = yes.
# The item leaves the publisher's catalog at once (re-signed, minisign
# verifies) and both followers' served catalogs within a sync interval;
# /files/NAME and /sha256/HEX answer 404 everywhere from then on; its
# bytes are gone from the publisher's store (object, crawler state, kept
# partial bytes, the older catalog that listed it) and from the purging
# follower's at once, from the other one at its next sync; `verify`
# passes on all three. An item a configured [source] still produces is
# refused, and `emberd crawl` names items whose source left the config.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
. "$(dirname "$0")/crawl_lib.sh"
. "$(dirname "$0")/follow_lib.sh"
command -v minisign >/dev/null || fail "minisign is not installed"

mkdir "$T/in"
head -c 300000 /dev/urandom >"$T/in/danger.bin"	# incompressible: stored raw
head -c 200000 /dev/urandom >"$T/in/keep.bin"
DANGER_SHA=$(sha256_of "$T/in/danger.bin")
KEEP_SHA=$(sha256_of "$T/in/keep.bin")
publisher_setup "$T/in/danger.bin" "$T/in/keep.bin"

for f in fa fb; do
	purge=no
	[ $f = fa ] && purge=yes
	follower_config $f "[follow]" "pubkey = $PUBKEY" "peer = $HTTP_URL/" "interval = 1s" \
		"purge = $purge"
	follower_start $f
	wait_passes $f 1
	check_served "$(furl $f)" "$STORE/current/catalog.json"
done

# has_bytes DIR: some file under DIR holds a 4 KiB run of danger.bin.
head -c 4096 "$T/in/danger.bin" | tail -c 1024 >"$T/needle"
has_bytes() {
	python3 - "$1" "$T/needle" <<'PY'
import os, sys
needle = open(sys.argv[2], "rb").read()
for root, dirs, files in os.walk(sys.argv[1]):
    for f in files:
        p = os.path.join(root, f)
        try:
            if needle in open(p, "rb").read():
                print(p)
                sys.exit(0)
        except OSError:
            pass
sys.exit(1)
PY
}
has_bytes "$STORE" >/dev/null || fail "the test cannot find the bytes it added in the publisher's store"
has_bytes "$(fstore fa)" >/dev/null || fail "follower fa never stored the item"

# The crawler's leftovers for a source that produced the same content,
# now gone from the config: its state and kept partial bytes.
mkdir -p "$STORE/crawl"
printf '{"url":"http://127.0.0.1:9/danger.bin","sha256":"%s"}\n' "$DANGER_SHA" >"$STORE/crawl/old-source.json"
head -c 4096 "$T/in/danger.bin" >"$STORE/crawl/old-source.part"

# crawl names the orphan and says how to take it down (the pass itself
# has a source that fails: nothing listens on port 9).
cat >>"$CONF" <<CONF
[crawl]
timeout = 5s
[source other]
url = http://127.0.0.1:9/nothing.bin
CONF
expect_exit 1 "$EMBERD" crawl -c "$CONF"
assert_grep "catalog item 'danger.bin' came from \[source old-source\], which is no longer in .*emberd rm -c .* 'danger.bin'" "$T/err"
pass "crawl warns of an item whose [source] left the config, with the rm command"

# A source that would publish it again is refused, nothing changed.
seq0=$(catalog_seq)
cat >>"$CONF" <<CONF
[source danger]
url = http://127.0.0.1:9/danger.bin
name = danger.bin
CONF
expect_exit 2 "$EMBERD" rm -c "$CONF" --purge danger.bin
assert_grep "\[source danger\] still produces 'danger.bin'" "$T/err"
[ "$(catalog_seq)" = "$seq0" ] || fail "a refused rm changed the catalog"
python3 - "$CONF" <<'PY'
import sys
p = sys.argv[1]
t = open(p).read()
open(p, "w").write(t[:t.index("[crawl]")])
PY
pass "rm of an item a configured [source] still produces: refused, exit 2, nothing changed"

old_seq=$seq0
expect_exit 0 "$EMBERD" rm -c "$CONF" --purge danger.bin
assert_grep "purged 1 objects .* and the state of 1 sources" "$T/err"
new_seq=$(catalog_seq)
[ "$new_seq" -gt "$old_seq" ] || fail "rm did not sign a new catalog ($old_seq -> $new_seq)"
minisign -Vm "$STORE/current/catalog.json" -P "$PUBKEY" >/dev/null || fail "minisign rejects the catalog rm signed"
python3 -c 'import json,sys
c = json.load(open(sys.argv[1]))
names = [i["name"] for i in c["items"]]
assert names == ["keep.bin"], names' "$STORE/current/catalog.json" || fail "the new catalog does not hold keep.bin alone"
[ ! -e "$STORE/objects/$DANGER_SHA" ] || fail "rm --purge left the object"
[ ! -e "$STORE/crawl/old-source.json" ] && [ ! -e "$STORE/crawl/old-source.part" ] ||
	fail "rm --purge left the crawler's state or partial bytes"
[ "$(ls "$STORE/catalogs" | wc -l)" = 1 ] || fail "rm --purge left older catalogs: $(ls "$STORE/catalogs")"
if p=$(has_bytes "$STORE"); then fail "the publisher's store still holds the item's bytes: $p"; fi
expect_exit 0 "$EMBERD" verify -c "$CONF"
pass "rm --purge: sequence $old_seq -> $new_seq, minisign verifies, object, state, partial bytes and older catalog gone, verify clean"

# not_served BASE: the item is gone from BASE's catalog and its routes.
not_served() {
	local code
	curl -sS --fail --max-time 5 -o "$T/c.json" "$1/catalog.json" || return 1
	grep -q "$DANGER_SHA" "$T/c.json" && return 1
	for path in "/files/danger.bin" "/sha256/$DANGER_SHA"; do
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$1$path")
		[ "$code" = 404 ] || return 1
	done
	return 0
}
not_served "$HTTP_URL" || fail "the publisher still serves the item"
for f in fa fb; do
	ok=0
	for i in $(seq 1 200); do
		if not_served "$(furl $f)"; then ok=1; break; fi
		follower_alive $f
		sleep 0.05
	done
	[ $ok = 1 ] || fail "follower $f still serves the item 10 s (ten sync intervals) after rm"
	check_served "$(furl $f)" "$STORE/current/catalog.json"
done
pass "both followers stopped serving it within their sync interval (catalog, /files, /sha256 404); keep.bin still served"

# fa purges at once; fb keeps the bytes until its next sync, then drops them.
if p=$(has_bytes "$(fstore fa)"); then fail "follower fa (purge = yes) still holds the bytes: $p"; fi
wait_passes fb 2 30
ok=0
for i in $(seq 1 200); do
	if ! has_bytes "$(fstore fb)" >/dev/null; then ok=1; break; fi
	follower_alive fb
	sleep 0.05
done
[ $ok = 1 ] || fail "follower fb (purge = no) still holds the bytes after further syncs"
for f in fa fb; do
	follower_stop $f
	check_objects $f
done
pass "bytes gone from follower fa at once and from fb at a later sync; both verify clean"
stop_server

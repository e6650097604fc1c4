# The publisher's commands refuse bad input with one clear line and exit
# 2, and change nothing (the catalog's bytes stay, `verify` passes after
# each): rm of an unknown name, of the last item, on a follower; publish
# without a key or without a catalog. Keys are checked before any
# download or import: crawl, run and add without the key say to run
# `emberd keygen -c FILE` (and the origin sees no request); a key that
# others can read, or that did not sign the store's catalog, is refused.
# A second `emberd run` on one store exits 2 naming the first's pid; a
# store whose parent folder is missing is an error, not created. And
# what works: `publish` re-signs with the config's new name, and SIGHUP
# crawls a newly added [source] at once, not an interval later.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
. "$(dirname "$0")/crawl_lib.sh"
command -v minisign >/dev/null || fail "minisign is not installed"

setup_publisher
mkdir "$T/in"
printf 'first\n' >"$T/in/a.txt"
printf 'second\n' >"$T/in/b.txt"
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/in/a.txt"
cp "$STORE/current/catalog.json" "$T/cat0.json"

# unchanged WHAT: the catalog is byte for byte the one before, and verify
# passes (which needs the key, to know the publisher's public half).
unchanged() {
	cmp -s "$STORE/current/catalog.json" "$T/cat0.json" || fail "$1 changed the catalog"
	[ -e "$T/publisher.key" ] || return 0
	"$EMBERD" verify -c "$CONF" >"$T/vout" 2>"$T/verr" || { cat "$T/verr"; fail "verify fails after $1"; }
}
# one_line: stderr is one line.
one_line() { [ "$(wc -l <"$T/err")" = 1 ] || { cat "$T/err"; fail "$1: not one line on stderr"; }; }

expect_exit 2 "$EMBERD" rm -c "$CONF" nosuch.txt
assert_grep "no item named 'nosuch.txt' in the catalog" "$T/err"; one_line "rm nosuch"; unchanged "rm of an unknown name"
expect_exit 2 "$EMBERD" rm -c "$CONF" a.txt
assert_grep "last item" "$T/err"; one_line "rm last"; unchanged "rm of the last item"
expect_exit 2 "$EMBERD" rm -c "$CONF"
unchanged "rm without a name"
pass "rm: unknown name, last item, no name: exit 2, one line, catalog unchanged, verify passes"

mv "$T/publisher.key" "$T/publisher.key.away"
expect_exit 2 "$EMBERD" publish -c "$CONF"
assert_grep "emberd keygen -c $CONF" "$T/err"; one_line "publish without a key"; unchanged "publish without a key"
expect_exit 2 "$EMBERD" rm -c "$CONF" a.txt
assert_grep "emberd keygen -c $CONF" "$T/err"; unchanged "rm without a key"
expect_exit 2 "$EMBERD" add -c "$CONF" "$T/in/b.txt"
assert_grep "emberd keygen -c $CONF" "$T/err"; unchanged "add without a key"

# crawl and run: before any download.
start_origin
cat >>"$CONF" <<CONF
[source song]
url = $ORIGIN/f/song.bin?size=5000&seed=s
CONF
expect_exit 2 "$EMBERD" crawl -c "$CONF"
assert_grep "emberd keygen -c $CONF" "$T/err"; one_line "crawl without a key"
[ "$(origin_q 'len(L)')" = 0 ] || fail "crawl without a key downloaded first"
HTTP_PORT=$(free_port) HTTPS_PORT=$(free_port)
HTTP_URL="http://127.0.0.1:$HTTP_PORT"
cp "$CONF" "$T/conf.crawl"
server_config "[source song]" "url = $ORIGIN/f/song.bin?size=5000&seed=s"
expect_exit 2 "$EMBERD" run -c "$CONF"
assert_grep "emberd keygen -c $CONF" "$T/err"
[ "$(origin_q 'len(L)')" = 0 ] || fail "run without a key downloaded first"
unchanged "crawl and run without a key"
pass "publish, rm, add, crawl, run without the key: exit 2 naming 'emberd keygen -c FILE', no download, nothing changed"

mv "$T/publisher.key.away" "$T/publisher.key"
unchanged "publish, rm, add, crawl and run without a key"
chmod 0644 "$T/publisher.key"
expect_exit 2 "$EMBERD" publish -c "$CONF"
assert_grep "publisher.key' is readable by others" "$T/err"
chmod 0600 "$T/publisher.key"
unchanged "publish with a key others can read"
# Another key, the same name: it did not sign this catalog.
mkdir "$T/other"
printf '[mirror]\nkey = other.key\nstore = store\nallow_root = yes\n' >"$T/other/emberd.conf"
"$EMBERD" keygen -c "$T/other/emberd.conf" >/dev/null 2>&1 || fail "keygen of a second key failed"
cp "$T/publisher.key" "$T/publisher.key.mine"
cp "$T/other/other.key" "$T/publisher.key"
expect_exit 2 "$EMBERD" crawl -c "$CONF"
assert_grep "did not sign this store's catalog" "$T/err"
[ "$(origin_q 'len(L)')" = 0 ] || fail "crawl with the wrong key downloaded first"
cp "$T/publisher.key.mine" "$T/publisher.key"
unchanged "crawl with another key"
pass "a key others can read, or one that did not sign the catalog: exit 2, nothing downloaded or changed"

# publish re-signs with the config's new name; items unchanged.
sed -i 's/^name  = .*/name  = Renamed archive\ndescription = Songs the committee banned/' "$CONF"
seq0=$(catalog_seq)
expect_exit 0 "$EMBERD" publish -c "$CONF"
[ "$(catalog_seq)" = $((seq0 + 1)) ] || fail "publish did not sign sequence $((seq0 + 1))"
minisign -Vm "$STORE/current/catalog.json" -P "$PUBKEY" >/dev/null || fail "minisign rejects what publish signed"
python3 -c 'import json,sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert b["name"] == "Renamed archive", b["name"]
assert b["description"] == "Songs the committee banned", b.get("description")
assert a["items"] == b["items"]' "$T/cat0.json" "$STORE/current/catalog.json" || fail "publish changed items or kept the old name"
expect_exit 0 "$EMBERD" publish -c "$CONF"
[ "$(catalog_seq)" = $((seq0 + 2)) ] || fail "a second publish did not sign again"
cp "$STORE/current/catalog.json" "$T/cat0.json"
pass "publish: re-signed with the new name and description (sequence $seq0 -> $((seq0 + 2))), items unchanged, minisign verifies"

# A follower signs nothing.
mkdir "$T/f"
printf '[mirror]\nstore = store\nallow_root = yes\n[follow]\npubkey = %s\npeer = http://127.0.0.1:9/\n' "$PUBKEY" >"$T/f/emberd.conf"
expect_exit 2 "$EMBERD" rm -c "$T/f/emberd.conf" a.txt
assert_grep "only the publisher signs" "$T/err"; one_line "rm on a follower"
expect_exit 2 "$EMBERD" publish -c "$T/f/emberd.conf"
assert_grep "only the publisher signs" "$T/err"
pass "rm and publish on a follower: refused, exit 2"

# A missing parent folder is an error; nothing is made.
printf '[mirror]\nstore = %s/no/such/store\nkey = %s/publisher.key\nallow_root = yes\n' "$T" "$T" >"$T/bad.conf"
expect_exit 2 "$EMBERD" add -c "$T/bad.conf" "$T/in/b.txt"
assert_grep "parent folder '$T/no/such' does not exist" "$T/err"
[ ! -e "$T/no" ] || fail "a store under a missing parent was created"
pass "store whose parent folder is missing: exit 2, nothing created"

# One run a store: the second names the first's pid. Then SIGHUP with a
# new [source]: crawled at once although the interval is an hour.
server_config "[crawl]" "interval = 1h" "[source song]" "url = $ORIGIN/f/song.bin?size=5000&seed=s"
"$EMBERD" run -c "$CONF" </dev/null >>"$T/server.out" 2>>"$SERVER_LOG" &
SERVER_PID=$!
wait_healthy
cp "$CONF" "$T/conf.second"
sed -i "s/127.0.0.1:$HTTP_PORT/127.0.0.1:$(free_port)/; s/127.0.0.1:$HTTPS_PORT/127.0.0.1:$(free_port)/" "$T/conf.second"
expect_exit 2 "$EMBERD" run -c "$T/conf.second"
assert_grep "in use by another emberd run \(pid $SERVER_PID," "$T/err"
pass "a second emberd run on the store: exit 2 naming pid $SERVER_PID"

for i in $(seq 1 200); do
	[ "$(origin_count '/f/song.bin?size=5000&seed=s')" -ge 1 ] && grep -q 'pass done' "$SERVER_LOG" && break
	server_alive; sleep 0.05
done
grep -q 'pass done' "$SERVER_LOG" || server_fail "no first crawl pass within 10 s"
printf '[source verse]\nurl = %s/f/verse.bin?size=3000&seed=v\n' "$ORIGIN" >>"$CONF"
kill -HUP "$SERVER_PID"
for i in $(seq 1 300); do
	[ "$(origin_count '/f/verse.bin?size=3000&seed=v')" -ge 1 ] && break
	server_alive; sleep 0.05
done
[ "$(origin_count '/f/verse.bin?size=3000&seed=v')" -ge 1 ] ||
	server_fail "a [source] added with SIGHUP was not crawled within 15 s (interval 1h)"
pass "SIGHUP with a new [source]: crawled at once, not an hour later"
stop_server
expect_exit 0 "$EMBERD" verify -c "$CONF"

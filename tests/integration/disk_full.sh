# A full disk (here a file-size limit) makes add fail with a clear error,
# leaves no temp file and keeps the previous catalog.
. "$(dirname "$0")/lib.sh"
needs_root "it mounts a 4 MiB tmpfs"
setup_publisher

printf 'first\n' >"$T/first.txt"
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/first.txt"
cp "$STORE/current/catalog.json" "$T/before.json"
head -c 20000000 /dev/urandom >"$T/big.bin"
n_before=$(ls -A "$STORE/objects" | wc -l)

# ulimit -f counts 1024-byte blocks: 8 MiB, well below the 20 MB input.
expect_exit 1 bash -c 'ulimit -f 8192; exec "$0" add -c "$1" "$2"' "$EMBERD" "$CONF" "$T/big.bin"
assert_grep "big.bin" "$T/err"
assert_grep "File too large|No space left" "$T/err"
[ "$(grep -c . "$T/err")" = 1 ] || fail "expected one error line"
assert_no_partial
[ "$(ls -A "$STORE/objects" | wc -l)" = "$n_before" ] || fail "something was left in objects/"
cmp -s "$T/before.json" "$STORE/current/catalog.json" || fail "catalog changed"
expect_exit 0 "$EMBERD" verify -c "$CONF"
pass "file-size limit: clear error, nothing left"

# Once space returns, the same add works.
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/big.bin"
expect_exit 0 "$EMBERD" verify -c "$CONF"
pass "add succeeds once space returns"

# A real full file system: a 4 MiB tmpfs.
mkdir -p "$T/small"
mount -t tmpfs -o size=4m tmpfs "$T/small" || fail "cannot mount a tmpfs (run as root)"
{
	trap 'umount "$T/small" 2>/dev/null; cleanup' EXIT
	cat >"$T/small.conf" <<CONF
[mirror]
store = $T/small/store
key = $T/publisher.key
allow_root = yes
CONF
	expect_exit 0 "$EMBERD" add -c "$T/small.conf" "$T/first.txt"
	cp "$T/small/store/current/catalog.json" "$T/before-small.json"
	expect_exit 1 "$EMBERD" add -c "$T/small.conf" "$T/big.bin"
	assert_grep "No space left on device" "$T/err"
	[ -z "$(find "$T/small/store" -name '.tmp-*')" ] || fail "temp file left on full tmpfs"
	cmp -s "$T/before-small.json" "$T/small/store/current/catalog.json" || fail "catalog changed"
	[ "$(df --output=used -B1 "$T/small" | tail -n 1)" -lt 1000000 ] || fail "space not released"
	expect_exit 0 "$EMBERD" verify -c "$T/small.conf"
	pass "full tmpfs: clear error, space released, catalog kept"
}

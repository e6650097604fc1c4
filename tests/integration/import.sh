# `emberd import DIR` on a follower: an export (as on a USB stick) is a
# peer like any other: installed when its signature, sequence and every
# object check out; refused and named, with nothing changed, when a file
# is tampered with, the key is another publisher's, the catalog is older
# than the one held, or the folder holds a symbolic link (to /etc/passwd).
#   EMBERD=build/emberd bash tests/integration/import.sh
. "$(dirname "$0")/lib.sh"
command -v minisign >/dev/null || fail "minisign is not installed"

setup_publisher
mkdir "$T/in" "$T/x"
head -c 300000 /dev/urandom >"$T/in/a.bin"
printf 'a statement\n' >"$T/in/b.txt"
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/in/a.bin" "$T/in/b.txt"
expect_exit 0 "$EMBERD" export -c "$CONF" "$T/x/one"
head -c 200000 /dev/urandom >"$T/in/c.bin"
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/in/c.bin"
expect_exit 0 "$EMBERD" export -c "$CONF" "$T/x/two"
SEQ2=$(catalog_seq)

# The follower: [follow] with the publisher's key; its peer is never asked.
F=$T/fol
mkdir "$F"
cat >"$F/emberd.conf" <<CONF
[mirror]
name = Follower
store = store
allow_root = yes

[follow]
pubkey = $PUBKEY
peer = http://127.0.0.1:9/
CONF
state() {	# what "nothing changed" compares: the catalog served and the objects
	{ readlink "$F/store/current" || echo none; ls "$F/store/objects" 2>/dev/null || true; } | sort
}
import_refused() {	# import_refused DIR PATTERN WHAT
	local before
	before=$(state)
	expect_exit 1 "$EMBERD" import -c "$F/emberd.conf" "$1"
	assert_grep "$2" "$T/err"
	[ "$(state)" = "$before" ] || fail "a refused import ($3) changed the follower's store"
	pass "refused, nothing changed: $3: $(grep -m1 'import:' "$T/err" | cut -c1-160)"
}

# --- a tampered file (same size, one byte changed)
cp -r "$T/x/two" "$T/x/tampered"
A=$(sha256_of "$T/in/a.bin")
printf 'X' | dd of="$T/x/tampered/sha256/$A" bs=1 seek=1000 conv=notrunc status=none
import_refused "$T/x/tampered" "sha256/$A: its content hashes to .*refused" "a tampered file"

# --- a symbolic link to /etc/passwd
cp -r "$T/x/two" "$T/x/link"
ln -s /etc/passwd "$T/x/link/files/passwd"
import_refused "$T/x/link" "files/passwd is a symbolic link" "a symlink to /etc/passwd"
cp -r "$T/x/two" "$T/x/link2"
C=$(sha256_of "$T/in/c.bin")
rm "$T/x/link2/sha256/$C"; ln -s /etc/passwd "$T/x/link2/sha256/$C"
import_refused "$T/x/link2" "sha256/$C is a symbolic link" "an object that is a symlink"

# --- another publisher's export
mkdir "$T/other"
printf '[mirror]\nname = Other\nstore = store\nkey = k.key\nallow_root = yes\n' >"$T/other/e.conf"
"$EMBERD" keygen -c "$T/other/e.conf" >/dev/null 2>&1 || fail "keygen"
expect_exit 0 "$EMBERD" add -c "$T/other/e.conf" "$T/in/a.bin"
expect_exit 0 "$EMBERD" export -c "$T/other/e.conf" "$T/x/foreign"
import_refused "$T/x/foreign" "bad signature" "another publisher's key"

# --- the real one, then an older one
expect_exit 0 "$EMBERD" import -c "$F/emberd.conf" "$T/x/two"
assert_grep "installed catalog sequence $SEQ2" "$T/err"
cmp "$F/store/current/catalog.json" "$T/x/two/catalog.json" || fail "import did not install the export's catalog as signed"
cmp "$F/store/current/catalog.json.minisig" "$T/x/two/catalog.json.minisig" || fail "the signature was not installed as is"
minisign -Vm "$F/store/current/catalog.json" -x "$F/store/current/catalog.json.minisig" -P "$PUBKEY" >/dev/null ||
	fail "the installed catalog does not verify"
expect_exit 0 "$EMBERD" verify -c "$F/emberd.conf"
[ "$(ls "$F/store/objects" | wc -l)" = 3 ] || fail "the follower does not hold the 3 objects"
pass "import installs the export: catalog and signature byte for byte, every object verified"

import_refused "$T/x/one" "rolled back: catalog sequence 1 is older" "an older catalog (rollback)"
expect_exit 0 "$EMBERD" import -c "$F/emberd.conf" "$T/x/two"
assert_grep "up to date at catalog sequence $SEQ2" "$T/err"
pass "importing the same export again: up to date"

# --- import is a follower's
expect_exit 2 "$EMBERD" import -c "$CONF" "$T/x/two"
assert_grep "needs a \[follow\] section" "$T/err"
expect_exit 1 "$EMBERD" import -c "$F/emberd.conf" "$T/x/missing"
assert_grep "x/missing" "$T/err"
pass "refused: import on a publisher, a missing folder"

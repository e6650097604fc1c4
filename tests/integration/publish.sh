# One catalog transaction for every path that publishes: `add` and the
# crawler both apply the config's current [mirror] name and mirror list,
# and a crawl pass re-signs the catalog when only those changed (no item
# did); a pass with nothing changed signs nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/crawl_lib.sh"
setup_publisher
command -v minisign >/dev/null || fail "minisign is not installed"

mkdir "$T/www"
printf 'the statement, as first published\n' >"$T/www/statement.txt"
start_origin --root "$T/www"

cat_q() {
	python3 -c 'import json, sys
c = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$STORE/current/catalog.json" "$1"
}
verified() {
	cp "$STORE/current/catalog.json" "$STORE/current/catalog.json.minisig" "$T/"
	expect_exit 0 minisign -Vm "$T/catalog.json" -P "$PUBKEY"
}

src=("[source statement]" "url = $ORIGIN/r/statement.txt")
crawl_config "${src[@]}"
expect_exit 0 "$EMBERD" crawl -c "$CONF"
[ "$(catalog_seq)" = 1 ] || fail "first crawl: sequence $(catalog_seq), want 1"
[ "$(cat_q 'c["name"]')" = "Test archive" ] || fail "first crawl: wrong name"
pass "first crawl publishes sequence 1"

# Only the settings change: the origin answers 304, no item changes.
crawl_config "mirror = https://mirror-b.example/" "url = https://self.example/" "${src[@]}"
sed -i 's/^name  = Test archive$/name  = April archive/' "$CONF"
expect_exit 0 "$EMBERD" crawl -c "$CONF"
assert_summary statement 'unchanged'
[ "$(catalog_seq)" = 2 ] || fail "renamed: sequence $(catalog_seq), want 2 (nothing re-signed the catalog)"
[ "$(cat_q 'c["name"]')" = "April archive" ] || fail "renamed: name $(cat_q 'c["name"]')"
[ "$(cat_q '" ".join(c["mirrors"])')" = "https://self.example/ https://mirror-b.example/" ] ||
	fail "renamed: mirrors $(cat_q 'c["mirrors"]')"
verified
pass "a new [mirror] name, url and mirror line alone: the next crawl re-signs (sequence 2), minisign verifies"

expect_exit 0 "$EMBERD" crawl -c "$CONF"
[ "$(catalog_seq)" = 2 ] || fail "nothing changed, yet sequence $(catalog_seq)"
pass "a pass with nothing changed signs nothing (sequence stays 2)"

# The mirror list alone changes.
sed -i 's|^mirror = https://mirror-b.example/$|mirror = https://mirror-c.example/|' "$CONF"
expect_exit 0 "$EMBERD" crawl -c "$CONF"
[ "$(catalog_seq)" = 3 ] || fail "new mirror list: sequence $(catalog_seq), want 3"
[ "$(cat_q '" ".join(c["mirrors"])')" = "https://self.example/ https://mirror-c.example/" ] ||
	fail "new mirror list: mirrors $(cat_q 'c["mirrors"]')"
[ "$(cat_q 'len(c["items"])')" = 1 ] || fail "new mirror list: the item was dropped"
verified
pass "a changed mirror line alone: the next crawl re-signs (sequence 3), the item stays"

# add goes through the same transaction: a name change rides along.
sed -i 's/^name  = April archive$/name  = May archive/' "$CONF"
printf 'a second file\n' >"$T/second.txt"
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/second.txt"
[ "$(catalog_seq)" = 4 ] || fail "add: sequence $(catalog_seq), want 4"
[ "$(cat_q 'c["name"]')" = "May archive" ] || fail "add: name $(cat_q 'c["name"]')"
[ "$(cat_q 'len(c["items"])')" = 2 ] || fail "add: want 2 items"
verified
pass "add applies the same settings (name 'May archive', sequence 4)"

# Only the last two catalogs are kept, whichever path published.
n=$(find "$STORE/catalogs" -mindepth 1 -maxdepth 1 | wc -l)
[ "$n" -le 2 ] || fail "$n catalogs kept, want at most 2"
pass "catalogs pruned to the last two after each publish"

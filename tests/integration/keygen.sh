# keygen makes a 0600 key once; a key others can read is refused.
. "$(dirname "$0")/lib.sh"
write_config

expect_exit 0 "$EMBERD" keygen -c "$CONF"
assert_grep '^untrusted comment: minisign public key [0-9A-F]+$' "$T/out"
assert_grep '^RW[A-Za-z0-9+/]{54}$' "$T/out"
cp "$T/out" "$T/first"
[ "$(stat -c %a "$T/publisher.key")" = 600 ] || fail "key mode is not 0600"
expect_exit 0 "$EMBERD" keygen -c "$CONF"
cmp -s "$T/out" "$T/first" || fail "second keygen changed the key"
pass "keygen creates once, mode 0600"

printf 'x' >"$T/x.txt"
chmod 0644 "$T/publisher.key"
expect_exit 2 "$EMBERD" add -c "$CONF" "$T/x.txt"
assert_grep "publisher.key" "$T/err"
assert_grep "readable by others" "$T/err"
[ ! -e "$STORE/current" ] || fail "a catalog was published with an exposed key"
chmod 0600 "$T/publisher.key"
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/x.txt"
pass "an exposed key is refused"

rm "$T/publisher.key"
expect_exit 2 "$EMBERD" add -c "$CONF" "$T/x.txt"
assert_grep "emberd keygen" "$T/err"
pass "a missing key says how to make one"

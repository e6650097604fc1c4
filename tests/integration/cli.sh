# The command line: help to stdout with exit 0, errors to stderr as one
# line with a non-zero exit.
. "$(dirname "$0")/lib.sh"

expect_exit 0 "$EMBERD" --help
assert_grep '^usage: emberd' "$T/out"
[ ! -s "$T/err" ] || fail "--help wrote to stderr"
expect_exit 0 "$EMBERD" --version
assert_grep '^emberd [0-9]+\.[0-9]+' "$T/out"
for c in add ls verify gc keygen rm publish run crawl; do
	expect_exit 0 "$EMBERD" "$c" --help
	assert_grep "^usage: emberd $c" "$T/out"
done
pass "help and version"

expect_exit 2 "$EMBERD"
expect_exit 2 "$EMBERD" frobnicate
assert_grep "unknown command 'frobnicate'" "$T/err"
expect_exit 2 "$EMBERD" ls
assert_grep 'pass -c FILE' "$T/err"
expect_exit 2 "$EMBERD" ls -c "$T/nope.conf"
assert_grep "$T/nope.conf" "$T/err"
[ "$(wc -l <"$T/err")" = 1 ] || fail "error is not one line"
expect_exit 2 "$EMBERD" add --bogus
pass "usage errors"

setup_publisher
expect_exit 0 "$EMBERD" ls -c "$CONF"
assert_grep 'no catalog yet' "$T/out"
expect_exit 0 "$EMBERD" ls -c "$CONF" --json
python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["items"] == []' "$T/out"
expect_exit 2 "$EMBERD" add -c "$CONF" "$T/does-not-exist"
assert_grep "$T/does-not-exist" "$T/err"
pass "empty store and missing input"

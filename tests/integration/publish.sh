# One catalog transaction for every path that publishes: `add` and the
# crawler both apply the config's current [mirror] name and mirror list,
# and a crawl pass re-signs the catalog when only those changed (no item
# did); a pass with nothing changed signs nothing. In `emberd run`, a
# SIGHUP that changed them re-signs at once (after the pass, if one
# runs), and one that changed nothing signs nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
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

# --- emberd run: SIGHUP re-signs changed settings at once ------------------
# A new store, so the first pass publishes sequence 1. [crawl] interval is
# an hour: no pass but the first can explain a later catalog.
mv "$STORE" "$T/store-crawl"
origin_reset
run_src=("[crawl]" "interval = 1h" "${src[@]}")
MIRROR_NAME="May archive"
start_server "url = https://self.example/" "${run_src[@]}"

# served_q PYEXPR: the catalog served over HTTP, fetched with its
# signature to $T/served.json(.minisig), PYEXPR evaluated with c = it.
served_q() {
	curl_http -o "$T/served.json" "$HTTP_URL/catalog.json" &&
		curl_http -o "$T/served.json.minisig" "$HTTP_URL/catalog.json.minisig" &&
		python3 -c 'import json, sys
c = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$T/served.json" "$1"
}
served_verified() {
	expect_exit 0 minisign -Vm "$T/served.json" -P "$PUBKEY"
}
# wait_log PATTERN SECONDS [FROM]: poll, bounded, for an ERE in the log
# lines after line FROM (0: all).
wait_log() {
	local deadline=$((SECONDS + $2))
	while [ "$SECONDS" -le "$deadline" ]; do
		# Through a file: grep -q ending a pipe early fails it (pipefail).
		tail -n +$((${3:-0} + 1)) "$SERVER_LOG" >"$T/log-tail"
		grep -qE -- "$1" "$T/log-tail" && return 0
		server_alive
		sleep 0.05
	done
	return 1
}
log_lines() { wc -l <"$SERVER_LOG"; }

wait_log 'crawl: pass done' 30 || server_fail "the first pass did not end within 30 s"
[ "$(catalog_seq)" = 1 ] || server_fail "first pass: sequence $(catalog_seq), want 1"
[ "$(served_q 'c["name"]')" = "May archive" ] || server_fail "first pass: served name $(served_q 'c["name"]')"
asked=$(origin_count /r/statement.txt)
pass "emberd run: the first pass publishes sequence 1 (interval 1h)"

MIRROR_NAME="June archive" server_config "url = https://self.example/" \
	"mirror = https://mirror-d.example/" "${run_src[@]}"
from=$(log_lines)
kill -HUP "$SERVER_PID"
want="https://self.example/ https://mirror-d.example/"
deadline=$((SECONDS + 30))	# by the clock: a poll costs two curls and a python
while [ "$SECONDS" -lt "$deadline" ]; do
	[ "$(served_q 'c["name"], " ".join(c["mirrors"]), c["sequence"]' 2>/dev/null)" = \
		"('June archive', '$want', 2)" ] && break
	server_alive
	sleep 0.1
done
got=$(served_q 'c["name"], " ".join(c["mirrors"]), c["sequence"]' || true)
[ "$got" = "('June archive', '$want', 2)" ] ||
	server_fail "30 s after SIGHUP the served catalog is $got, want June archive, $want, sequence 2"
served_verified
[ "$(served_q 'len(c["items"])')" = 1 ] || server_fail "SIGHUP: the item was dropped"
[ "$(catalog_seq)" = 2 ] || server_fail "SIGHUP: stored sequence $(catalog_seq), want 2"
wait_log '^[0-9TZ:-]* *emberd: reload: published catalog sequence 2' 10 "$from" ||
	server_fail "no 'reload: published catalog sequence 2' line"
[ "$(origin_count /r/statement.txt)" = "$asked" ] ||
	server_fail "the origin was asked again: a pass, not the SIGHUP, published"
pass "SIGHUP with a new [mirror] name and mirror line: re-signed at once without a pass (sequence 2), minisign verifies"

from=$(log_lines)
kill -HUP "$SERVER_PID"
wait_log '^[0-9TZ:-]* *emberd: reload: catalog sequence 2 unchanged' 10 "$from" ||
	server_fail "no 'reload: catalog sequence 2 unchanged' line within 10 s of a plain SIGHUP"
[ "$(catalog_seq)" = 2 ] || server_fail "a SIGHUP with nothing changed moved the sequence to $(catalog_seq)"
[ "$(served_q 'c["sequence"]')" = 2 ] || server_fail "served sequence $(served_q 'c["sequence"]') after a plain SIGHUP"
pass "SIGHUP with nothing changed signs nothing (sequence stays 2)"
stop_server

# --- SIGHUP during a pass: the pass signs the settings it started with;
# the new ones are signed when it ends, not an interval later.
slow="/f/slow.bin?size=200000&seed=slow&drip=100"	# 49 pieces: about 5 s
run_src=("[crawl]" "interval = 1h" "${src[@]}" "[source slow]" "url = $ORIGIN$slow")
origin_reset
MIRROR_NAME="June archive" start_server "url = https://self.example/" \
	"mirror = https://mirror-d.example/" "${run_src[@]}"
fetching() {
	[ "$(origin_q "len([e for e in L if e['path'] == sys.argv[3] and e['done'] is None and e['sent'] > 0])" "$slow")" -ge 1 ]
}
deadline=$((SECONDS + 10))
while [ "$SECONDS" -lt "$deadline" ]; do
	fetching && break
	server_alive
	sleep 0.05
done
fetching || { origin_show; server_fail "the slow source is not being fetched"; }
MIRROR_NAME="July archive" server_config "url = https://self.example/" \
	"mirror = https://mirror-d.example/" "${run_src[@]}"
from=$(log_lines)
kill -HUP "$SERVER_PID"
wait_log 'SIGHUP: config .* reloaded' 10 "$from" || server_fail "SIGHUP not handled within 10 s"
fetching || { origin_show; fail "the slow transfer ended before the SIGHUP was handled: make it slower"; }
wait_log 'crawl: pass done' 30 "$from" || server_fail "the pass did not end within 30 s"
wait_log '^[0-9TZ:-]* *emberd: reload: published catalog sequence' 10 "$from" ||
	server_fail "the new name was not published after the pass"
[ "$(served_q 'c["name"]')" = "July archive" ] || server_fail "after the pass: served name $(served_q 'c["name"]')"
[ "$(served_q '" ".join(sorted(i["name"] for i in c["items"]))')" = "slow.bin statement.txt" ] ||
	server_fail "after the pass: items $(served_q '[i["name"] for i in c["items"]]')"
served_verified
first=$(awk -v from="$from" 'NR > from && /crawl: pass done|reload: published/ { print; exit }' "$SERVER_LOG")
case $first in
*"crawl: pass done"*) ;;
*) server_fail "the reload published before the pass ended: $first" ;;
esac
pass "SIGHUP during a pass: the new name is signed when the pass ends (sequence $(catalog_seq)), minisign verifies"
stop_server

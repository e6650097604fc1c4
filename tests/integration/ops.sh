# An operator's day: what `emberd run` tells the person who runs it.
#
#   - Log lines of `emberd run` start with an RFC 3339 UTC time when
#     stderr is a file; none when JOURNAL_STREAM names stderr (as under
#     systemd's journal); a JOURNAL_STREAM naming another stream (stderr
#     redirected) still gets times. One-shot commands print no time.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
setup_publisher
printf 'The statement, as published.\n' >"$T/statement.txt"
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/statement.txt"
assert_grep '^emberd: published catalog sequence 1' "$T/err"
TS='^20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z emberd: '

# --- 1. log times.
start_server
curl_http -o /dev/null "$HTTP_URL/files/statement.txt"
wait_for_file_line "$SERVER_LOG" "${TS}GET /files/statement.txt 200 29$" ||
	server_fail "no timed access log line"
stop_server
! grep -vE "$TS" "$SERVER_LOG" | grep -q . ||
	{ grep -vE "$TS" "$SERVER_LOG"; fail "log lines without an RFC 3339 time (above)"; }
# The time is now (UTC), to the minute.
first=$(head -n 1 "$SERVER_LOG" | cut -d' ' -f1)
t=$(date -u -d "$first" +%s) || fail "'$first' is not a time date(1) reads"
[ $(( $(date +%s) - t )) -lt 120 ] && [ $(( t - $(date +%s) )) -lt 5 ] ||
	fail "log time $first is not now ($(date -u +%FT%TZ))"
# Under the journal: stderr is the stream JOURNAL_STREAM names.
journal_run() {	# journal_run LOG JOURNAL_STREAM-VALUE
	: >"$1"
	SERVER_LOG=$1
	JOURNAL_STREAM=$2 start_server
	stop_server
}
touch "$T/journal.log"
journal_run "$T/journal.log" "$(stat -c '%d:%i' "$T/journal.log")"
assert_grep '^emberd: stopped$' "$T/journal.log"
! grep -qE "$TS" "$T/journal.log" || { cat "$T/journal.log"; fail "times under the journal"; }
# Another stream named (stderr redirected away from the journal): times.
touch "$T/other"
journal_run "$T/redirected.log" "$(stat -c '%d:%i' "$T/other")"
assert_grep "${TS}stopped$" "$T/redirected.log"
SERVER_LOG="$T/server.log"
pass "run: RFC 3339 UTC times on every line to a file, none when stderr is the journal, times when JOURNAL_STREAM names another stream; add prints none"

# --- 2. [mirror] min_free: `emberd crawl` pauses, names why, fetches nothing.
. "$(dirname "$0")/crawl_lib.sh"
start_origin
free_now() { python3 -c 'import os, sys; v = os.statvfs(sys.argv[1]); print(v.f_bavail * v.f_frsize)' "$STORE"; }
above=$(( $(free_now) + (2 << 30) ))	# just above what this file system has
crawl_config "min_free = $above" "[crawl]" "interval = 1h" \
	"[source voice]" "url = $ORIGIN/f/voice.bin?size=300000&seed=ops" "name = voice.bin"
objects0=$(n_objects)
expect_exit 2 "$EMBERD" crawl -c "$CONF"
assert_grep "^emberd: error: paused: the store $STORE has [0-9.]+ [KMGTP]iB free \([0-9]+ bytes\), below \[mirror\] min_free [0-9.]+ [KMGTP]iB \($above bytes\); nothing is fetched until there is room$" "$T/err"
[ "$(wc -l <"$T/err")" = 1 ] || { cat "$T/err"; fail "more than the one line saying why"; }
[ "$(origin_count "/f/voice.bin?size=300000&seed=ops")" = 0 ] || fail "the origin was asked while paused"
[ "$(n_objects)" = "$objects0" ] || fail "objects stored while paused"
crawl_config "min_free = 1M" "[crawl]" "interval = 1h" \
	"[source voice]" "url = $ORIGIN/f/voice.bin?size=300000&seed=ops" "name = voice.bin"
expect_exit 0 "$EMBERD" crawl -c "$CONF"
assert_summary voice 'fetched voice.bin \(300000 bytes, '
pass "min_free above the free space: emberd crawl exits 2 naming free space and threshold, nothing fetched; lowered: fetched"

# --- 3. the same in emberd run: paused and logged once, serving; SIGHUP
# with a lower min_free resumes at once. /metrics then shows the source's
# last success, and agrees with `emberd ls --json`.
origin_reset
voice="/f/voice.bin?size=300000&seed=ops2"
start_server "min_free = $above" "[crawl]" "interval = 1h" \
	"[source voice]" "url = $ORIGIN$voice" "name = voice.bin"
wait_for_file_line "$SERVER_LOG" "${TS}warning: crawl: paused: the store .* below \[mirror\] min_free .*\($above bytes\)" ||
	server_fail "emberd run did not say the crawl is paused"
[ "$(curl_http "$HTTP_URL/files/statement.txt")" = 'The statement, as published.' ] ||
	server_fail "not serving while paused"
curl_http "$HTTP_URL/metrics" >"$T/m0" || server_fail "/metrics"
assert_grep "^emberd_store_min_free_bytes $above$" "$T/m0"
! grep -q 'emberd_crawl_last_success' "$T/m0" || server_fail "a last success before any"
[ "$(origin_count "$voice")" = 0 ] || server_fail "emberd run asked the origin while paused"
server_config "min_free = 0" "[crawl]" "interval = 1h" \
	"[source voice]" "url = $ORIGIN$voice" "name = voice.bin"
kill -HUP "$SERVER_PID"
wait_for_file_line "$SERVER_LOG" "${TS}crawl voice: fetched voice.bin" 10 ||
	server_fail "no crawl after SIGHUP lowered min_free"
assert_grep "${TS}crawl: enough free space again: resumed$" "$SERVER_LOG"
[ "$(grep -c 'crawl: paused' "$SERVER_LOG")" = 1 ] || server_fail "the pause was logged more than once"
wait_for_file_line "$SERVER_LOG" "${TS}crawl: pass done" 10 || server_fail "the pass did not end"
pass "emberd run: the pause logged once naming both sizes, still serving; SIGHUP with min_free = 0 resumes at once"

# /metrics against the catalog, the store and the file system.
curl_http "$HTTP_URL/metrics" >"$T/m1" || server_fail "/metrics"
"$EMBERD" ls -c "$CONF" --json >"$T/ls.json" 2>/dev/null || fail "ls --json"
read -r items bytes generated <<<"$(python3 -c 'import json, sys, calendar, time
c = json.load(open(sys.argv[1]))
t = calendar.timegm(time.strptime(c["generated"], "%Y-%m-%dT%H:%M:%SZ"))
print(len(c["items"]), sum(i["size"] for i in c["items"]), t)' "$T/ls.json")"
metric() { sed -n "s/^$1 //p" "$2"; }
[ "$items" = 2 ] || fail "ls --json lists $items items, want 2"
[ "$(metric emberd_catalog_items "$T/m1")" = "$items" ] ||
	server_fail "/metrics emberd_catalog_items $(metric emberd_catalog_items "$T/m1"), ls --json $items"
[ "$(metric emberd_catalog_bytes "$T/m1")" = "$bytes" ] ||
	server_fail "/metrics emberd_catalog_bytes $(metric emberd_catalog_bytes "$T/m1"), ls --json $bytes"
[ "$(metric emberd_catalog_generated_timestamp_seconds "$T/m1")" = "$generated" ] ||
	server_fail "emberd_catalog_generated_timestamp_seconds is not the catalog's generated ($generated)"
age=$(metric emberd_catalog_age_seconds "$T/m1")
[ -n "$age" ] && [ "$age" -ge 0 ] && [ "$age" -lt 60 ] || server_fail "emberd_catalog_age_seconds '$age'"
exp=$(python3 -c 'import calendar, json, sys, time
c = json.load(open(sys.argv[1]))
print(calendar.timegm(time.strptime(c["expires"], "%Y-%m-%dT%H:%M:%SZ")))' "$T/ls.json")
[ "$(metric emberd_catalog_expires_timestamp_seconds "$T/m1")" = "$exp" ] ||
	server_fail "emberd_catalog_expires_timestamp_seconds is not the catalog's expires ($exp)"
ok=$(metric 'emberd_crawl_last_success_timestamp_seconds{source="voice"}' "$T/m1")
[ -n "$ok" ] && [ $(( $(date +%s) - ok )) -lt 60 ] && [ "$ok" -le "$(date +%s)" ] ||
	server_fail "emberd_crawl_last_success_timestamp_seconds{source=\"voice\"} '$ok' is not just now"
# Store bytes: the object files' sizes (m0 was read before the fetch: the
# new catalog makes the next scrape read the folder again).
want=$(python3 -c 'import os, sys; d = sys.argv[1]; print(sum(os.stat(os.path.join(d, f)).st_size for f in os.listdir(d) if not f.startswith(".")))' "$STORE/objects")
got=$(metric emberd_store_bytes "$T/m1")
[ "$got" = "$want" ] || server_fail "emberd_store_bytes $got, the object files sum to $want"
[ "$(metric emberd_store_objects "$T/m1")" = "$(n_objects)" ] || server_fail "emberd_store_objects"
free=$(metric emberd_store_free_bytes "$T/m1")
now=$(free_now)
[ -n "$free" ] && [ $(( free > now ? free - now : now - free )) -lt $(( 1 << 30 )) ] ||
	server_fail "emberd_store_free_bytes '$free', statvfs says $now"
pass "/metrics: items and bytes as ls --json, generated, age and expires, the source's last success, store bytes and objects, free space"

# --- 4. a follower's last successful sync.
FPORT=$(free_port)
mkdir "$T/f"
cat >"$T/f/emberd.conf" <<CONF
[http]
listen = 127.0.0.1:$FPORT
[mirror]
store = store
allow_root = yes
[follow]
pubkey = $PUBKEY
peer = $HTTP_URL/
CONF
"$EMBERD" run -c "$T/f/emberd.conf" </dev/null >/dev/null 2>"$T/f/run.log" &
FPID=$!
bg "$FPID"
for i in $(seq 1 100); do
	curl -s --max-time 1 "http://127.0.0.1:$FPORT/metrics" >"$T/fm" 2>/dev/null &&
		grep -q '^emberd_sync_last_success_timestamp_seconds ' "$T/fm" && break
	sleep 0.1
done
ok=$(metric emberd_sync_last_success_timestamp_seconds "$T/fm")
[ -n "$ok" ] && [ $(( $(date +%s) - ok )) -lt 60 ] ||
	{ cat "$T/f/run.log"; fail "follower: no emberd_sync_last_success_timestamp_seconds just now"; }
[ "$(metric emberd_catalog_items "$T/fm")" = "$items" ] || fail "follower: not the publisher's items"
! grep -q 'emberd_crawl_last_success' "$T/fm" || fail "follower: crawl successes"
kill "$FPID"; wait "$FPID" || fail "the follower did not stop cleanly"
pass "follower: /metrics has the last successful sync, just now"
stop_server

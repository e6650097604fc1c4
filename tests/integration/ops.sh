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

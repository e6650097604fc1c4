# emberd run, as root dropping to a user: what a reader sees when an
# object cannot be opened, decided in one place, and the response policy
# every answer carries.
#
#   - ENOENT: an item the catalog lists whose object file is gone: 404,
#     by name and by hash, and the next object still serves.
#   - EACCES: an object the mirror's user may not read (mode 000): 403,
#     logged once naming the object, not quarantined.
#   - EMFILE: the running daemon's descriptor limit lowered (prlimit) so
#     that a reader's connection takes the last free descriptor: the
#     object answers 503 with Retry-After; with the limit back, 200.
#   - An object cut short while it is being sent (plain HTTP sends it
#     with sendfile): the connection ends short, the reader sees an
#     incomplete transfer, never a hang or other bytes; a slow reader of
#     another gets every byte (sendfile resumed each time the socket
#     drained).
#   - Policy: X-Content-Type-Options: nosniff and Content-Security-Policy
#     on every route's answers, errors of the framing layer included:
#     sandbox everywhere, the index's own policy on the index.
#
# Needs root (a user to drop to, so that a mode bars the daemon): exit 77
# otherwise. The user is made for the test and removed after it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
if [ "$(id -u)" != 0 ]; then
	echo "skip: needs root (drops to a test user)"
	exit 77
fi
for t in prlimit setpriv; do
	command -v "$t" >/dev/null || fail "$t (util-linux) is not installed"
done

RUSER=emberd-errs
MADE_USER=no
errors_cleanup() {
	server_cleanup
	if [ "$MADE_USER" = yes ]; then
		userdel "$RUSER" 2>/dev/null || true
	fi
}
trap errors_cleanup EXIT
if ! id -u "$RUSER" >/dev/null 2>&1; then
	useradd --system --no-create-home --shell /usr/sbin/nologin "$RUSER" ||
		fail "cannot create user $RUSER"
	MADE_USER=yes
fi
[ "$(id -u "$RUSER")" != 0 ] || fail "$RUSER has uid 0"

# $T is 0700 root: the user needs its own folder inside.
chmod 0755 "$T"
mkdir "$T/srv" "$T/in"
chown "$RUSER:" "$T/srv"
CONF="$T/srv/emberd.conf"
STORE="$T/srv/store"
printf 'gone: listed, but its object was removed\n' >"$T/in/gone.txt"
printf 'barred: its object is mode 000\n' >"$T/in/barred.txt"
head -c 5000 /dev/urandom >"$T/in/plenty.bin"
head -c 32000000 /dev/urandom >"$T/in/cut.bin"
head -c 3000000 /dev/urandom >"$T/in/slow.bin"
printf '<html><body><script>alert("mirrored")</script></body></html>\n' >"$T/in/page.html"
chmod 0755 "$T/in"
chmod 0644 "$T/in"/*

server_config "user = $RUSER"
expect_exit 0 "$EMBERD" keygen -c "$CONF"
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/in/gone.txt" "$T/in/barred.txt" \
	"$T/in/plenty.bin" "$T/in/page.html" "$T/in/cut.bin" "$T/in/slow.bin"
CUT=$(sha256_of "$T/in/cut.bin")
GONE=$(sha256_of "$T/in/gone.txt")
BARRED=$(sha256_of "$T/in/barred.txt")
PLENTY=$(sha256_of "$T/in/plenty.bin")
start_server "user = $RUSER"
[ "$(awk '$1 == "Uid:" { print $3 }' "/proc/$SERVER_PID/status")" = "$(id -u "$RUSER")" ] ||
	server_fail "the server does not run as $RUSER"

# fetch URL NAME [curl args]: status to stdout; head in $T/NAME.h.
fetch() {
	local url=$1 name=$2
	shift 2
	curl -s --max-time 10 --cacert "$STORE/tls/cert.pem" -D "$T/$name.h" \
		-o "$T/$name.body" -w '%{http_code}' "$@" "$url" 2>/dev/null || true
}

# policy NAME WANT_CSP: the head $T/NAME.h carries nosniff and that CSP.
policy() {
	[ "$(header X-Content-Type-Options "$T/$1.h")" = nosniff ] ||
		{ cat "$T/$1.h"; fail "$1: no X-Content-Type-Options: nosniff"; }
	[ "$(header Content-Security-Policy "$T/$1.h")" = "$2" ] ||
		{ cat "$T/$1.h"; fail "$1: Content-Security-Policy is not '$2'"; }
	[ "$(grep -ci '^Content-Security-Policy:' "$T/$1.h")" = 1 ] ||
		{ cat "$T/$1.h"; fail "$1: more than one Content-Security-Policy"; }
}
# --- sendfile: a slow reader gets every byte; a file cut short ends it
curl -sS --max-time 60 --limit-rate 1M -o "$T/slow.body" "$HTTP_URL/files/slow.bin" ||
	server_fail "a slow reader of slow.bin over plain HTTP failed"
cmp -s "$T/slow.body" "$T/in/slow.bin" || server_fail "a slow reader got other bytes of slow.bin"
# Cut well past what the socket buffers can hold before the cut (a few
# MB on loopback), so the cut is met while sending.
curl -s --max-time 60 --limit-rate 8M -o "$T/cut.body" "$HTTP_URL/files/cut.bin" &
cpid=$!
for _ in $(seq 1 200); do
	[ "$(stat -c %s "$T/cut.body" 2>/dev/null || echo 0)" -ge 1000000 ] && break
	sleep 0.05
done
[ "$(stat -c %s "$T/cut.body" 2>/dev/null || echo 0)" -ge 1000000 ] ||
	server_fail "cut.bin: the first 1 MB did not arrive in 10 s"
truncate -s 20000000 "$STORE/objects/$CUT"
rc=0
wait "$cpid" || rc=$?
got=$(stat -c %s "$T/cut.body")
[ "$rc" = 18 ] || server_fail "cut.bin cut short under its download: curl exit $rc, not 18 (partial transfer), $got bytes"
[ "$got" -le 20000000 ] || server_fail "cut.bin: $got bytes arrived, more than the file kept"
cmp -s "$T/cut.body" <(head -c "$got" "$T/in/cut.bin") || server_fail "cut.bin: the bytes before the cut differ"
server_alive || server_fail "the server died on an object cut short"
[ "$(fetch "$HTTP_URL/healthz" hz)" = 200 ] || server_fail "/healthz after the cut: not 200"
pass "sendfile: a slow reader got all 3 MB; an object cut under its download ended it at $got bytes (curl exit 18), server up"

# --- ENOENT: 404
rm -f "$STORE/objects/$GONE"
for path in /files/gone.txt "/sha256/$GONE"; do
	[ "$(fetch "$HTTP_URL$path" gone)" = 404 ] || server_fail "$path without its object: not 404"
	assert_grep 'not available on this mirror' "$T/gone.body"
done
[ "$(fetch "$HTTP_URL/files/plenty.bin" plenty)" = 200 ] || server_fail "plenty.bin: not 200"
cmp -s "$T/plenty.body" "$T/in/plenty.bin" || fail "plenty.bin: other bytes"
pass "ENOENT: an object listed but missing answers 404, by name and by hash"

# --- EACCES: 403
chmod 000 "$STORE/objects/$BARRED"
[ "$(fetch "$HTTP_URL/files/barred.txt" barred)" = 403 ] || server_fail "mode 000 object: not 403"
[ "$(fetch "$HTTPS_URL/sha256/$BARRED" barred -I)" = 403 ] || server_fail "HEAD of a mode 000 object: not 403"
wait_for_file_line "$SERVER_LOG" "object $BARRED: Permission denied; check the store's owner" ||
	server_fail "no log line naming the unreadable object"
[ -e "$STORE/objects/$BARRED" ] || fail "an unreadable object was set aside"
policy barred sandbox
chmod 0444 "$STORE/objects/$BARRED"
[ "$(fetch "$HTTP_URL/files/barred.txt" barred)" = 200 ] || server_fail "readable again: not 200"
pass "EACCES: an object the mirror's user may not read answers 403, logged, kept"

# --- EMFILE: 503 with Retry-After
# The limit that leaves exactly one descriptor free below it: the
# reader's connection takes that one, and opening the object fails. A
# connection closing meanwhile frees another, so the attempt is repeated
# (bounded) until it lands. Only the soft limit moves, as the daemon's
# own user: root here may lack CAP_SYS_RESOURCE (containers).
read -r SOFT HARD < <(awk '/^Max open files/ { print $4, $5 }' "/proc/$SERVER_PID/limits")
as_user() { setpriv --reuid="$RUSER" --regid="$RUSER" --clear-groups "$@"; }
one_free_limit() {
	python3 - "$SERVER_PID" <<'PY'
import os, sys
used = {int(f) for f in os.listdir("/proc/%s/fd" % sys.argv[1])}
free = [n for n in range(0, max(used) + 3) if n not in used]
print(free[1])
PY
}
got=
for i in $(seq 1 20); do
	lim=$(one_free_limit)
	as_user prlimit --pid "$SERVER_PID" --nofile="$lim:$HARD" || fail "prlimit failed"
	got=$(fetch "$HTTP_URL/files/plenty.bin" busy --max-time 3)
	as_user prlimit --pid "$SERVER_PID" --nofile="$SOFT:$HARD" ||
		fail "prlimit (restore) failed"
	[ "$got" = 503 ] && break
	sleep 0.2	# a retry's pace, not a synchronisation
done
[ "$got" = 503 ] || server_fail "out of descriptors: $got, not 503 (20 tries)"
ra=$(header Retry-After "$T/busy.h")
[[ "$ra" =~ ^[1-9][0-9]*$ ]] || fail "503 without a Retry-After in seconds: '$ra'"
assert_grep 'Too many open files; answering 503' "$SERVER_LOG"
policy busy sandbox
[ "$(fetch "$HTTP_URL/files/plenty.bin" plenty)" = 200 ] || server_fail "limit restored: not 200"
cmp -s "$T/plenty.body" "$T/in/plenty.bin" || fail "plenty.bin after the 503: other bytes"
[ -e "$STORE/objects/$PLENTY" ] || fail "an object was set aside for a lack of descriptors"
pass "EMFILE: out of descriptors answers 503 with Retry-After: $ra; then 200 again"

# --- policy headers on every route's answers
n=0
for base in "$HTTPS_URL" "$HTTP_URL"; do
	for want in 200:/healthz 200:/metrics 200:/pubkey 200:/catalog.json \
		200:/catalog.json.minisig 200:/files/page.html 200:/files/plenty.bin \
		"200:/sha256/$PLENTY" 200:/files/plenty.bin.meta4 200:/files/plenty.bin.torrent \
		200:/feed.xml 404:/files/gone.txt 404:/no/such/route 404:/files/nothing.txt 400:/files/%G1; do
		code=${want%%:*}
		path=${want#*:}
		[ "$(fetch "$base$path" r)" = "$code" ] || server_fail "$base$path: not $code"
		policy r sandbox
		n=$((n + 1))
	done
	# 304, 206, 416, HEAD
	[ "$(fetch "$base/sha256/$PLENTY" r -H "If-None-Match: \"$PLENTY\"")" = 304 ] ||
		server_fail "$base: If-None-Match: not 304"
	policy r sandbox
	[ "$(fetch "$base/files/plenty.bin" r -r 0-9)" = 206 ] || server_fail "$base: range: not 206"
	policy r sandbox
	[ "$(fetch "$base/files/plenty.bin" r -r 9000-)" = 416 ] || server_fail "$base: range: not 416"
	policy r sandbox
	[ "$(fetch "$base/files/plenty.bin" r -I)" = 200 ] || server_fail "$base: HEAD: not 200"
	policy r sandbox
	# 405, and the framing layer's own 431
	[ "$(fetch "$base/files/plenty.bin" r -X POST)" = 405 ] || server_fail "$base: POST: not 405"
	policy r sandbox
	[ "$(fetch "$base/healthz" r -H "X-Big: $(head -c 9000 /dev/zero | tr '\0' a)")" = 431 ] ||
		server_fail "$base: a huge head: not 431"
	policy r sandbox
	# The index is ours: its own policy, no sandbox.
	[ "$(fetch "$base/" r)" = 200 ] || server_fail "$base/: not 200"
	policy r "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; media-src 'self'"
	n=$((n + 7))
done
pass "nosniff and one Content-Security-Policy on all $n answers (sandbox; the index its own)"

stop_server

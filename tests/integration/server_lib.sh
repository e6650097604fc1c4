# Helpers for the tests of `emberd run`; sourced after lib.sh.
#
#   free_port                  (lib.sh) a free TCP port on 127.0.0.1
#   server_config [LINE...]    write $CONF: listeners on 127.0.0.1:$HTTPS_PORT
#                              (TLS) and 127.0.0.1:$HTTP_PORT (plain), then
#                              [mirror]; each LINE is appended after
#                              [mirror]'s keys (a bare key lands in
#                              [mirror]; a "[section]" line starts another).
#                              $HTTPS_EXTRA / $HTTP_EXTRA: more lines for
#                              [https] / [http] (e.g. a second listen);
#                              $MIRROR_NAME: [mirror] name (Test archive).
#   start_server [LINE...]     server_config, then start `emberd run` in the
#                              background (stderr to $SERVER_LOG) and wait,
#                              bounded, until /healthz answers on plain HTTP
#   stop_server [SIG] [BOUND]  send SIGTERM (or SIG), wait at most BOUND
#                              seconds (10), fail unless the exit status is 0
#   curl_https ARGS...         curl against the generated certificate
#   curl_http ARGS...          curl, plain
#   bg PID                     remember a background helper to kill at exit
#   wait_for_file_line FILE PATTERN [SECONDS]   poll, bounded
#   flip_keep_mtime FILE OFFSET  one byte of a store file changed, its
#                              mtime kept (a corruption only a hash finds)
#
# $HTTPS_URL and $HTTP_URL are the base URLs (no trailing slash).

HTTPS_PORT=$(free_port)
HTTP_PORT=$(free_port)
while [ "$HTTP_PORT" = "$HTTPS_PORT" ]; do HTTP_PORT=$(free_port); done
export HTTPS_PORT HTTP_PORT
HTTPS_URL="https://127.0.0.1:$HTTPS_PORT"
HTTP_URL="http://127.0.0.1:$HTTP_PORT"
SERVER_LOG="$T/server.log"
SERVER_PID=
HTTPS_EXTRA=${HTTPS_EXTRA:-}
HTTP_EXTRA=${HTTP_EXTRA:-}
MIRROR_NAME=${MIRROR_NAME:-Test archive}
BG_PIDS=()

# Kill what is still running (helpers, then the server), then lib.sh's
# cleanup. Only the ids this script started.
server_cleanup() {
	local p
	for p in "${BG_PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null || true
	done
	if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
		kill -9 "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
	fi
	cleanup
}
trap server_cleanup EXIT

bg() { BG_PIDS+=("$1"); }

show_log() {
	echo "--- server log ($SERVER_LOG)"
	tail -n 60 "$SERVER_LOG" 2>/dev/null || true
}

server_fail() { show_log; fail "$@"; }

server_config() {
	local l
	{
		echo "[https]"
		echo "listen = 127.0.0.1:$HTTPS_PORT"
		[ -z "$HTTPS_EXTRA" ] || printf '%s\n' "$HTTPS_EXTRA"
		echo
		echo "[http]"
		echo "listen = 127.0.0.1:$HTTP_PORT"
		[ -z "$HTTP_EXTRA" ] || printf '%s\n' "$HTTP_EXTRA"
		echo
		echo "[mirror]"
		echo "name  = $MIRROR_NAME"
		echo "store = store"
		echo "key   = publisher.key"
		echo "allow_root = yes"
		for l in "$@"; do printf '%s\n' "$l"; done
	} >"$CONF"
}

# Wait (bounded, ~10 s) until /healthz answers on plain HTTP. Fails at
# once, with the log, when the server exits instead.
wait_healthy() {
	local i code
	for i in $(seq 1 200); do
		if ! kill -0 "$SERVER_PID" 2>/dev/null; then
			local rc=0
			wait "$SERVER_PID" 2>/dev/null || rc=$?
			SERVER_PID=
			# A port free when drawn, taken since by a test beside this one.
			if [ "${1:-}" = retry ] && [ "$rc" = 2 ] &&
				tail -n 1 "$SERVER_LOG" | grep -q 'Address already in use'; then
				return 2
			fi
			server_fail "emberd run exited with status $rc before answering /healthz"
		fi
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 0.2 \
			"$HTTP_URL/healthz" 2>/dev/null || true)
		[ "$code" = 200 ] && return 0
		sleep 0.05
	done
	server_fail "emberd run did not answer /healthz on $HTTP_URL within 10 s"
}

start_server() {
	local try rc
	for try in 1 2 3; do
		server_config "$@"
		: >>"$SERVER_LOG"
		"$EMBERD" run -c "$CONF" </dev/null >>"$T/server.out" 2>>"$SERVER_LOG" &
		SERVER_PID=$!
		rc=0
		wait_healthy $([ "$try" -lt 3 ] && echo retry) || rc=$?
		[ "$rc" = 2 ] || return 0
		# Tests run in parallel and draw ports at random: draw again.
		HTTPS_PORT=$(free_port)
		HTTP_PORT=$(free_port)
		while [ "$HTTP_PORT" = "$HTTPS_PORT" ]; do HTTP_PORT=$(free_port); done
		HTTPS_URL="https://127.0.0.1:$HTTPS_PORT"
		HTTP_URL="http://127.0.0.1:$HTTP_PORT"
		export HTTPS_PORT HTTP_PORT
	done
}

# stop_server [SIGNAL] [BOUND]: the server must exit 0 within BOUND s.
# Sets STOP_SECONDS to how long it took (whole seconds, rounded up).
stop_server() {
	local sig=${1:-TERM} bound=${2:-10} i rc=0 t0
	[ -n "$SERVER_PID" ] || fail "stop_server: no server running"
	t0=$(date +%s%N)
	kill "-$sig" "$SERVER_PID" 2>/dev/null || server_fail "server already gone before SIG$sig"
	for i in $(seq 1 $((bound * 20))); do
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$SERVER_PID" 2>/dev/null; then
		kill -9 "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
		SERVER_PID=
		server_fail "server still running $bound s after SIG$sig"
	fi
	wait "$SERVER_PID" 2>/dev/null || rc=$?
	SERVER_PID=
	STOP_SECONDS=$(( ($(date +%s%N) - t0 + 999999999) / 1000000000 ))
	[ "$rc" = 0 ] || server_fail "server exited with status $rc after SIG$sig (want 0)"
}

server_alive() {
	kill -0 "$SERVER_PID" 2>/dev/null || server_fail "the server died"
}

curl_https() { curl -sS --max-time 30 --cacert "$STORE/tls/cert.pem" "$@"; }
curl_http() { curl -sS --max-time 30 "$@"; }

# status URL [curl args...]: print the HTTP status only ("000": no answer).
status_of() {
	local url=$1
	shift
	curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
		--cacert "$STORE/tls/cert.pem" "$@" "$url" 2>/dev/null || true
}

# wait_for_file_line FILE PATTERN [SECONDS]: poll until grep -E matches.
wait_for_file_line() {
	local f=$1 pat=$2 secs=${3:-5} i
	for i in $(seq 1 $((secs * 20))); do
		grep -qE -- "$pat" "$f" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# Header checks run in the thousands; each is done in bash without a
# process of its own (awk, grep, tr), which on a busy two-core machine
# costs tens of milliseconds a fork.
#
# hdr_scan NAME FILE: in a curl -D dump, HDR_N is how many NAME lines
# (any case) there are, HDR_V the value (trimmed, without the CR) of the
# last one in the last response, "" when that response has none.
hdr_scan() {
	local want=${1,,} line k v ws=$' \t'
	HDR_N=0 HDR_V=
	while IFS= read -r line || [ -n "$line" ]; do
		line=${line%$'\r'}
		case $line in
		HTTP/*) HDR_V= ; continue ;;
		*:*) ;;
		*) continue ;;
		esac
		k=${line%%:*}
		[ "${k,,}" = "$want" ] || continue
		v=${line#*:}
		v=${v#"${v%%[!$ws]*}"}
		v=${v%"${v##*[!$ws]}"}
		HDR_N=$((HDR_N + 1))
		HDR_V=$v
	done <"$2"
}

# header NAME FILE: the value of the (last) header NAME in a curl -D dump,
# without the CR; empty when absent.
header() {
	hdr_scan "$1" "$2"
	[ -z "$HDR_V" ] || printf '%s\n' "$HDR_V"
}

# has_header NAME FILE: 0 when the header is present at all.
has_header() {
	hdr_scan "$1" "$2"
	[ "$HDR_N" -gt 0 ]
}

# flip_keep_mtime FILE OFFSET: the byte at OFFSET inverted, and the exact mtime
# kept. The daemon must never see the file between the two: with a scrub
# every 2 s it once saw the moved mtime before it was set back (a busy
# machine widened the window) and quarantined the object as changed, which
# is not what this checks. So the corrupt copy is made beside the store,
# given the mode, owner and times of the original, and renamed over it.
flip_keep_mtime() {
	local mt
	python3 - "$1" "$2" "$T/flip.tmp" >"$T/flip.mtime" <<'PY' || fail "flip: cannot change $1"
import os, sys
path, off, tmp = sys.argv[1], int(sys.argv[2]), sys.argv[3]
st = os.stat(path)
b = bytearray(open(path, "rb").read())
if off >= len(b):
    sys.exit("no byte at %d" % off)
b[off] = 255 - b[off]
with open(tmp, "wb") as f:
    f.write(b)
os.chmod(tmp, st.st_mode & 0o7777)
os.chown(tmp, st.st_uid, st.st_gid)
os.utime(tmp, ns=(st.st_atime_ns, st.st_mtime_ns))
os.rename(tmp, path)
print("%d.%09d" % divmod(st.st_mtime_ns, 10**9))
PY
	mt=$(cat "$T/flip.mtime")
	[ "$(stat -c %.9Y "$1")" = "$mt" ] || fail "mtime of $1 not kept ($(stat -c %.9Y "$1"), want $mt)"
}

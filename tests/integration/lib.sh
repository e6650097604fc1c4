# Shared set-up for integration tests: a private folder, a config, and
# small assertion helpers. Every test drives the real binary ($EMBERD).
set -euo pipefail

: "${EMBERD:?EMBERD must point at the built emberd}"
T=$(mktemp -d "${TMPDIR:-/tmp}/emberd-it.XXXXXX")
cleanup() { chmod -R u+w "$T" 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT
CONF="$T/emberd.conf"
STORE="$T/store"

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

# free_port: print a TCP port on 127.0.0.1 that nothing listens on, for a
# server the test starts next. Tests run in parallel, and between this
# probe and the server's bind another test may take the port: it is drawn
# at random and outside the kernel's ephemeral range, from which every
# outgoing connection (wrk's thousand, curl's) and every bind to port 0
# takes its port, so that only a near-impossible draw of the same port by
# two tests within that moment collides.
free_port() {
	python3 - <<'PY'
import random, socket
try:
    lo, hi = map(int, open("/proc/sys/net/ipv4/ip_local_port_range").read().split())
except (OSError, ValueError):
    lo, hi = 32768, 60999
ports = [p for p in range(10000, 65536) if not lo <= p <= hi]
if len(ports) < 1000:
    ports = list(range(1024, 65536))
for p in random.sample(ports, 200):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        s.close()
    print(p)
    break
else:
    raise SystemExit("no free port")
PY
}

# needs_root WHY: a test of suite 'root' (tmpfs mounts, a test user) that
# is not root stops here with 77, which meson reports as skipped and
# scripts/test counts as not passed: its claims were not checked.
needs_root() {
	[ "$(id -u)" = 0 ] && return 0
	echo "not run: needs root ($*)"
	exit 77
}

# browser_build WHAT: 0 when a check that drives Chromium runs in this
# build; in the sanitized build it does not (it tests the browser's
# rendering and playback of the same bytes, at a large cost in CPU
# there; the plain build runs it): say so and return 1.
browser_build() {
	[ "${EMBERD_SANITIZED:-0}" = 1 ] || return 0
	echo "note: $*: checked in the plain build"
	return 1
}

# sanitized_half WHAT: 0 when a check of a test flagged `twice` (see
# tests/meson.build) runs in this run of it. scripts/test runs such a test
# in both builds and sets EMBERD_PLAIN_HALF=1 for the plain one: there it
# makes only the checks that need the plain build (a browser, a bound on
# memory or time) and the steps they stand on, and leaves WHAT, the same
# bytes checked the same way, to its run under the sanitizers: say so and
# return 1. Run any other way (by name, --quick), every check runs.
sanitized_half() {
	[ "${EMBERD_PLAIN_HALF:-0}" = 1 ] && [ "${EMBERD_SANITIZED:-0}" = 0 ] || return 0
	echo "note: $*: checked in this test's run under the sanitizers"
	return 1
}

# expect_exit CODE CMD...: run CMD, capture stdout/stderr in $T/out, $T/err.
expect_exit() {
	local want=$1 got=0
	shift
	"$@" >"$T/out" 2>"$T/err" || got=$?
	if [ "$got" != "$want" ]; then
		echo "--- stdout"; cat "$T/out"; echo "--- stderr"; cat "$T/err"
		fail "expected exit $want, got $got: $*"
	fi
}

assert_grep() {	# assert_grep PATTERN FILE
	grep -qE -- "$1" "$2" || { echo "--- $2"; cat "$2"; fail "'$1' not in $2"; }
}

write_config() {
	cat >"$CONF" <<CONF
[mirror]
name  = Test archive
store = store            ; relative: resolves against this file's folder
key   = publisher.key
allow_root = yes
CONF
}

# Make the config and key; sets PUBKEY to the RW... line.
setup_publisher() {
	write_config
	"$EMBERD" keygen -c "$CONF" >"$T/pub" 2>/dev/null || fail "keygen failed"
	PUBKEY=$(tail -n 1 "$T/pub")
}

catalog_seq() {
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sequence"])' \
		"$STORE/current/catalog.json"
}

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# No temp file may ever be visible, and every object must carry its
# metadata trailer (magic at the very end).
assert_no_partial() {
	local left f
	left=$(find "$STORE" -name '.tmp-*' | head -n 5)
	[ -z "$left" ] || fail "temp files visible: $left"
	for f in "$STORE"/objects/*; do
		[ -e "$f" ] || continue
		[ "$(tail -c 8 "$f")" = EMBERDM1 ] || fail "object without its metadata: $f"
	done
}

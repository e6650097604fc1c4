# Helpers for the crawler tests; sourced after lib.sh (and after
# server_lib.sh when a test uses both: this file chains onto the EXIT trap
# that is set when it is sourced, so it must come last).
#
#   start_origin [--root DIR]   start origin.py (see its --help) on a free
#                               port; sets ORIGIN (http://127.0.0.1:PORT),
#                               ORIGIN_PID; stopped at exit
#   origin_reset                clear the origin's request log and counters
#   origin_log                  fetch the request log to $T/origin-log.json
#   origin_q PYEXPR [ARG...]    fetch the log, print PYEXPR evaluated with
#                               L = the log (a list of dicts, see --help);
#                               ARGs are sys.argv[3:]
#   origin_count TARGET         requests whose path+query is exactly TARGET
#   origin_sha256 TARGET        hex SHA-256 of the identity content TARGET
#                               serves (not logged, not counted)
#   origin_info TARGET          the same, and more: sets INFO_SHA, INFO_SIZE,
#                               INFO_ETAG, INFO_LM (Last-Modified)
#   crawl_config [LINE...]      write $CONF: [mirror] (store, key) then LINEs
#   crawl_bg                    start `emberd crawl` in the background;
#                               sets CRAWL_PID (killed at exit if running)
#   crawl_kill                  SIGKILL it now, and reap it
#   catalog_field NAME FIELD    FIELD of the catalog item NAME ("" if absent)
#   catalog_has NAME            0 when the catalog lists NAME
#   n_objects                   how many objects the store holds
#   assert_summary ID REGEX     the crawl's stderr ($T/err) has exactly one
#                               line for ID, and it matches
#                               "emberd: crawl ID: REGEX"
#   assert_total N F U X        the total line is exactly as given

ORIGIN=
ORIGIN_PID=
CRAWL_PIDS=()

eval "set -- $(trap -p EXIT)"
CRAWL_PREV_EXIT=${3:-}
set --

crawl_cleanup() {
	local p
	for p in "${CRAWL_PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	if [ -n "$ORIGIN_PID" ]; then
		kill "$ORIGIN_PID" 2>/dev/null || true
		wait "$ORIGIN_PID" 2>/dev/null || true
	fi
	eval "$CRAWL_PREV_EXIT"
}
trap crawl_cleanup EXIT

start_origin() {
	local pf="$T/origin.port" i
	rm -f "$pf"
	python3 "$(dirname "${BASH_SOURCE[0]}")/origin.py" --port-file "$pf" "$@" \
		</dev/null >>"$T/origin.out" 2>>"$T/origin.err" &
	ORIGIN_PID=$!
	for i in $(seq 1 200); do
		[ -s "$pf" ] && break
		kill -0 "$ORIGIN_PID" 2>/dev/null ||
			{ cat "$T/origin.err" >&2; fail "origin.py exited at start"; }
		sleep 0.05
	done
	[ -s "$pf" ] || fail "origin.py did not write its port within 10 s"
	ORIGIN="http://127.0.0.1:$(cat "$pf")"
}

origin_reset() {
	curl -sS --max-time 10 -o /dev/null "$ORIGIN/admin/reset" || fail "origin: reset failed"
}

origin_log() {
	curl -sS --max-time 10 -o "$T/origin-log.json" "$ORIGIN/admin/log" ||
		fail "origin: cannot read its log"
}

origin_q() {
	origin_log
	python3 -c 'import json, sys
L = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$T/origin-log.json" "$@"
}

origin_count() {
	origin_q "len([e for e in L if e['path'] == sys.argv[3]])" "$1"
}

# Show the origin's log for one target (on failures).
origin_show() {
	origin_q "'\n'.join('%.2f %s %s %s range=%s if-range=%s inm=%s ims=%s' % (e['time'], e['method'], e['path'], e['status'], e['headers'].get('range'), e['headers'].get('if-range'), e['headers'].get('if-none-match'), e['headers'].get('if-modified-since')) for e in L)" >&2
}

origin_sha256() {
	local out
	out=$(curl -sS --max-time 30 "$ORIGIN/admin/sha256$1") || fail "origin: no sha256 for $1"
	[ -n "$out" ] || fail "origin: no sha256 for $1"
	echo "${out%% *}"
}

origin_info() {
	local out
	out=$(curl -sS --max-time 30 "$ORIGIN/admin/sha256$1") || fail "origin: no info for $1"
	read -r INFO_SHA INFO_SIZE INFO_ETAG INFO_LM <<<"$out"
	[ -n "$INFO_SHA" ] || fail "origin: no info for $1"
}

crawl_config() {
	local l
	{
		echo "[mirror]"
		echo "name  = Test archive"
		echo "store = store"
		echo "key   = publisher.key"
		echo "allow_root = yes"
		for l in "$@"; do printf '%s\n' "$l"; done
	} >"$CONF"
}

crawl_bg() {
	"$EMBERD" crawl -c "$CONF" </dev/null >"$T/out" 2>"$T/err" &
	CRAWL_PID=$!
	CRAWL_PIDS+=("$CRAWL_PID")
}

# SIGKILL the background crawl and reap it (so exit never signals its id,
# which may be reused by then).
crawl_kill() {
	local p keep=()
	kill -9 "$CRAWL_PID" 2>/dev/null || true
	wait "$CRAWL_PID" 2>/dev/null || true
	for p in "${CRAWL_PIDS[@]}"; do
		[ "$p" = "$CRAWL_PID" ] || keep+=("$p")
	done
	CRAWL_PIDS=("${keep[@]}")
}

catalog_field() {
	python3 -c 'import json, sys
c = json.load(open(sys.argv[1]))
for i in c["items"]:
    if i["name"] == sys.argv[2]:
        print(i[sys.argv[3]])
        break' "$STORE/current/catalog.json" "$1" "$2"
}

# prov_doc NAME: the provenance document of catalog item NAME, read from
# its object in the store (stored raw or as one gzip member, then the
# metadata trailer), as JSON on stdout.
prov_doc() {
	python3 - "$STORE/current/catalog.json" "$STORE/objects" "$1" <<'PY'
import json, os, struct, sys, zlib
c = json.load(open(sys.argv[1]))
[item] = [i for i in c["items"] if i["name"] == sys.argv[3]]
raw = open(os.path.join(sys.argv[2], item["provenance"]["sha256"]), "rb").read()
n = struct.unpack("<Q", raw[-16:-8])[0]
meta, body = json.loads(raw[-16 - n:-16]), raw[:-16 - n]
print(zlib.decompress(body, 31).decode() if meta.get("gzip") or meta.get("encoding") == "gzip" else body.decode())
PY
}

catalog_has() {
	[ -e "$STORE/current/catalog.json" ] || return 1
	python3 -c 'import json, sys
c = json.load(open(sys.argv[1]))
sys.exit(0 if any(i["name"] == sys.argv[2] for i in c["items"]) else 1)' \
		"$STORE/current/catalog.json" "$1"
}

n_objects() {
	if [ -d "$STORE/objects" ]; then
		find "$STORE/objects" -maxdepth 1 -type f | wc -l
	else
		echo 0
	fi
}

assert_summary() {
	local id=$1 re=$2 n
	n=$(grep -cE -- "^emberd: crawl $id: (fetched|unchanged|failed)" "$T/err" || true)
	[ "$n" = 1 ] || { echo "--- stderr"; cat "$T/err"; fail "want one summary line for $id, got $n"; }
	assert_grep "^emberd: crawl $id: $re" "$T/err"
}

assert_total() {
	assert_grep "^emberd: crawl: $1 sources: $2 fetched, $3 unchanged, $4 failed$" "$T/err"
}

# Helpers for the follower tests; sourced after lib.sh and server_lib.sh
# (it chains onto the EXIT trap set when it is sourced, so it comes last).
# The publisher is server_lib's server: $CONF, $STORE, $HTTP_URL,
# $HTTPS_URL, $SERVER_LOG. Each follower NAME lives in $T/NAME.
#
#   publisher_setup FILE...    setup_publisher, `emberd add` FILEs (one
#                              catalog), start the publisher's `emberd run`;
#                              sets PUBKEY and KEYID (the key id, hex)
#   publisher_add ARGS...      `emberd add -c $CONF ARGS`, then wait
#                              (bounded) until the publisher serves the new
#                              sequence; sets PUB_SEQ
#   follower_config NAME [LINE...]
#                              write $T/NAME/emberd.conf: [http] on a free
#                              port (kept across rewrites), [mirror] with
#                              store, then LINEs ([follow] etc.)
#   fconf NAME / fstore NAME / furl NAME   its config, store, base URL
#   follower_crawl NAME RC     `emberd crawl` on it; stderr in $T/err, also
#                              appended to $T/NAME/crawl.log; fails unless RC
#   follower_start NAME        `emberd run` in the background, stderr to
#                              $T/NAME/run.log; wait (bounded) for /healthz
#   follower_stop NAME         SIGTERM, exit 0 within 10 s or fail
#   wait_passes NAME N [SECS]  wait until run.log has N "sync: pass done"
#                              lines more than when it was started
#   peer_start NAME UPSTREAM [ARGS...]
#                              start peer.py (see its --help), log in
#                              $T/NAME.log; sets PEER_URL[NAME] (no slash)
#   peer_mode NAME MODE        switch its mode; peer_reset NAME: clear log
#   peer_log NAME              its request log lines
#   same_catalog DIR           fail unless DIR/catalog.json and .minisig are
#                              the publisher's bytes
#   items_of FILE              "SHA256 SIZE NAME" per item of a catalog
#   check_served URL CATFILE   every item of CATFILE, fetched from
#                              URL/sha256/HEX and URL/files/NAME, hashes to
#                              its sha256 and has its size
#   objects_of FILE            the object ids a catalog names (contents,
#                              provenance documents), one a line
#   check_objects NAME         the follower's store holds every object
#                              its catalog lists and none that neither it
#                              nor the one before it lists, `emberd verify`
#                              re-hashes them all (exit 0), nothing partial

declare -A FPID=() FPORT=() FPASS=() PEER_URL=() PEER_PID=()

eval "set -- $(trap -p EXIT)"
FOLLOW_PREV_EXIT=${3:-}
set --

follow_cleanup() {
	local n p
	for n in "${!FPID[@]}"; do
		p=${FPID[$n]}
		[ -n "$p" ] || continue
		kill -9 "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	for n in "${!PEER_PID[@]}"; do
		p=${PEER_PID[$n]}
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	eval "$FOLLOW_PREV_EXIT"
}
trap follow_cleanup EXIT

fconf() { echo "$T/$1/emberd.conf"; }
fstore() { echo "$T/$1/store"; }
furl() { echo "http://127.0.0.1:${FPORT[$1]}"; }

json_seq() {
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sequence"])' "$1"
}

publisher_setup() {
	setup_publisher
	KEYID=$(sed -n 's/^untrusted comment: minisign public key //p' "$T/pub")
	[ -n "$KEYID" ] || fail "keygen printed no key id"
	expect_exit 0 "$EMBERD" add -c "$CONF" "$@"
	start_server
	PUB_SEQ=$(catalog_seq)
}

publisher_add() {
	local i want
	expect_exit 0 "$EMBERD" add -c "$CONF" "$@"
	want=$(catalog_seq)
	for i in $(seq 1 200); do
		curl -sS --max-time 2 -o "$T/pubserved.json" "$HTTP_URL/catalog.json" 2>/dev/null &&
			[ "$(json_seq "$T/pubserved.json" 2>/dev/null)" = "$want" ] && break
		server_alive
		sleep 0.05
	done
	[ "$(json_seq "$T/pubserved.json")" = "$want" ] ||
		server_fail "the publisher does not serve sequence $want within 10 s of emberd add"
	PUB_SEQ=$want
}

follower_config() {
	local name=$1 l
	shift
	mkdir -p "$T/$name"
	[ -n "${FPORT[$name]:-}" ] || FPORT[$name]=$(free_port)
	{
		echo "[http]"
		echo "listen = 127.0.0.1:${FPORT[$name]}"
		echo
		echo "[mirror]"
		echo "name  = Follower $name"
		echo "store = store"
		echo "allow_root = yes"
		for l in "$@"; do printf '%s\n' "$l"; done
	} >"$T/$name/emberd.conf"
}

follower_crawl() {
	expect_exit "$2" "$EMBERD" crawl -c "$(fconf "$1")"
	cat "$T/err" >>"$T/$1/crawl.log"
}

# fassert NAME PATTERN: the last crawl's stderr ($T/err) matches.
fassert() { assert_grep "$1" "$T/err"; }

follower_start() {
	local name=$1 i code p
	: >>"$T/$name/run.log"
	FPASS[$name]=$(grep -c 'sync: pass done' "$T/$name/run.log" || true)
	"$EMBERD" run -c "$(fconf "$name")" </dev/null >>"$T/$name/run.out" 2>>"$T/$name/run.log" &
	p=$!
	FPID[$name]=$p
	for i in $(seq 1 200); do
		if ! kill -0 "$p" 2>/dev/null; then
			local rc=0
			wait "$p" 2>/dev/null || rc=$?
			FPID[$name]=
			tail -n 40 "$T/$name/run.log"
			fail "follower $name: emberd run exited with status $rc at start"
		fi
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 0.2 \
			"$(furl "$name")/healthz" 2>/dev/null || true)
		[ "$code" = 200 ] && return 0
		sleep 0.05
	done
	tail -n 40 "$T/$name/run.log"
	fail "follower $name did not answer /healthz within 10 s"
}

follower_alive() {
	kill -0 "${FPID[$1]}" 2>/dev/null ||
		{ tail -n 40 "$T/$1/run.log"; fail "follower $1 died"; }
}

follower_stop() {
	local name=$1 p=${FPID[$1]} i rc=0
	[ -n "$p" ] || fail "follower $name is not running"
	kill -TERM "$p" 2>/dev/null || fail "follower $name gone before SIGTERM"
	for i in $(seq 1 200); do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$p" 2>/dev/null; then
		kill -9 "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
		FPID[$name]=
		tail -n 40 "$T/$name/run.log"
		fail "follower $name still running 10 s after SIGTERM"
	fi
	wait "$p" 2>/dev/null || rc=$?
	FPID[$name]=
	[ "$rc" = 0 ] || { tail -n 40 "$T/$name/run.log"; fail "follower $name exited $rc after SIGTERM"; }
}

wait_passes() {
	local name=$1 want=$2 secs=${3:-30} i
	for i in $(seq 1 $((secs * 20))); do
		[ "$(grep -c 'sync: pass done' "$T/$name/run.log")" -ge $((FPASS[$name] + want)) ] && return 0
		follower_alive "$name"
		sleep 0.05
	done
	tail -n 40 "$T/$name/run.log"
	fail "follower $name: fewer than $want sync passes done within $secs s"
}

peer_start() {
	local name=$1 up=$2 pf="$T/$1.port" i p
	shift 2
	rm -f "$pf"
	python3 "$(dirname "${BASH_SOURCE[0]}")/peer.py" --upstream "$up" --port-file "$pf" \
		--log "$T/$name.log" "$@" </dev/null >/dev/null 2>>"$T/$name.err" &
	p=$!
	PEER_PID[$name]=$p
	for i in $(seq 1 200); do
		[ -s "$pf" ] && break
		kill -0 "$p" 2>/dev/null || { cat "$T/$name.err" >&2; fail "peer.py $name exited at start"; }
		sleep 0.05
	done
	[ -s "$pf" ] || fail "peer.py $name did not write its port within 10 s"
	PEER_URL[$name]="http://127.0.0.1:$(cat "$pf")"
}

peer_mode() {
	local got
	got=$(curl -sS --max-time 10 "${PEER_URL[$1]}/_mode?m=$2") || fail "peer $1: cannot set mode $2"
	[ "$got" = "$2" ] || fail "peer $1: mode is '$got', want $2"
}

peer_reset() {
	curl -sS --max-time 10 -o /dev/null "${PEER_URL[$1]}/_reset" || fail "peer $1: reset failed"
}

peer_log() { cat "$T/$1.log"; }

same_catalog() {
	cmp -s "$1/catalog.json" "$STORE/current/catalog.json" ||
		fail "$1/catalog.json differs from the publisher's"
	cmp -s "$1/catalog.json.minisig" "$STORE/current/catalog.json.minisig" ||
		fail "$1/catalog.json.minisig differs from the publisher's"
}

items_of() {
	python3 -c 'import json, sys
for i in json.load(open(sys.argv[1]))["items"]:
    print(i["sha256"], i["size"], i["name"])' "$1"
}

# objects_of FILE: the object ids a catalog names, one a line: each
# item's content and its provenance document.
objects_of() {
	python3 -c 'import json, sys
for i in json.load(open(sys.argv[1]))["items"]:
    print(i["sha256"])
    if "provenance" in i:
        print(i["provenance"]["sha256"])' "$1"
}

check_served() {
	local url=$1 cat=$2 sha size name got
	while read -r sha size name; do
		got=$(curl -sS --fail --max-time 30 "$url/sha256/$sha" | sha256sum | cut -d' ' -f1)
		[ "$got" = "$sha" ] || fail "$url/sha256/$sha hashes to $got"
		curl -sS --fail --max-time 30 -o "$T/served.bin" "$url/files/$name" ||
			fail "$url/files/$name not served"
		[ "$(sha256_of "$T/served.bin")" = "$sha" ] || fail "$url/files/$name has the wrong content"
		[ "$(stat -c %s "$T/served.bin")" = "$size" ] || fail "$url/files/$name has the wrong size"
	done < <(items_of "$cat")
}

check_objects() {
	local name=$1 st want have may c
	st=$(fstore "$1")
	want=$(objects_of "$st/current/catalog.json" | sort -u)
	# Without [follow] purge, what the catalog before it listed may stay
	# until the next sync.
	may=$want
	for c in "$st"/catalogs/*/catalog.json; do
		may=$(printf '%s\n%s\n' "$may" "$(objects_of "$c")" | sort -u | sed '/^$/d')
	done
	have=$(find "$st/objects" -maxdepth 1 -type f -printf '%f\n' | sort)
	[ -z "$(comm -23 <(echo "$want") <(echo "$have"))" ] &&
	[ -z "$(comm -13 <(echo "$may") <(echo "$have"))" ] || {
		echo "--- listed"; echo "$want"; echo "--- in $st/objects"; echo "$have"
		fail "follower $name: objects differ from what its catalogs list"
	}
	STORE=$st assert_no_partial
	expect_exit 0 "$EMBERD" verify -c "$(fconf "$name")"
}

#!/usr/bin/env bash
# Sync benchmark: a follower (`emberd crawl` with [follow]) against
# `wget -i` + `sha256sum -c`, from the same local emberd publisher, in the
# same run. (`emberd fetch` against curl and aria2c: scripts/bench/fetch.sh.)
#
# A publisher (`emberd run`, plain HTTP on 127.0.0.1, access_log = no) holds
# 200 random files of 1 MiB and one random file of 512 MiB (712 MiB, stored
# raw). ROUNDS times, alternating:
#   - emberd: `emberd crawl -c FCONF` on a fresh store ([follow] the
#     publisher's key; [crawl] concurrency 8, per_host 8: one peer, so
#     per_host 8 lets the 8 transfers run at once): fetches the catalog
#     and its signature, verifies them, fetches every object by hash
#     (/sha256/HEX) checking size and SHA-256, fsyncs, installs the catalog;
#   - peer: `wget -q -i urls.txt -P DIR` (one process, sequential, one
#     keep-alive connection; urls.txt lists the publisher's /files/NAME of
#     the 201 items: the same objects), then `cd DIR && sha256sum -c --quiet
#     SUMS` (SUMS: the sha256sum of the source files, made before the runs,
#     untimed, as a reader would take the hashes from the catalog); no fsync.
# The medians are shown with the ratio peer/emberd (above 1: emberd is
# faster) and emberd's peak RSS (/usr/bin/time -f %M, max over the runs).
# The peer's time without its verification (wget alone) is shown too, and
# so is the `sync` that flushes what wget wrote (untimed: emberd's time
# includes its fsyncs, the peer's does not).
# Target (from the issue): ratio >= 2.0, with verification included on
# emberd's side (the peer's time includes sha256sum -c).
# Correctness first: after every follower run `emberd ls --json` must list
# every file by name with its sha256sum digest, stored; every peer output
# must pass sha256sum -c.
# It is a benchmark, not a test: it exits 0 whether targets are met or not,
# 1 if emberd fails or a correctness check fails, 2 if a tool is missing.
#
# Usage: scripts/bench/sync.sh
#   BUILD   env: meson build dir holding emberd (default: <repo>/build)
#   ROUNDS  env: rounds per side (default 5)
#   SCALE   env: data scale (default 1): round(200 x SCALE) files of 1 MiB
#           and a 512 MiB x SCALE file (e.g. SCALE=0.1 for a try)
#   QUICK=1 env: a smoke run: SCALE 0.1, 2 rounds
# The work dir is a mktemp -d under ${TMPDIR:-/var/tmp} (at SCALE 1 about
# 8 GiB with the default ROUNDS: each round's output is set aside until
# the end), removed at exit; the publisher is stopped at exit. Caches are
# not dropped: the publisher's store is read once (cat >/dev/null) before
# each timed run, so both clients are served from a warm page cache and the
# figures measure the clients, not the disk; `sync` runs (untimed) before
# each timed run so earlier writeback does not land in the next one.
set -euo pipefail

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }
case "${1:-}" in -h|--help) usage; exit 0 ;; esac
if [[ $# -gt 0 ]]; then usage >&2; exit 2; fi

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$repo/build}
emberd=$BUILD/emberd
if [[ ${QUICK:-0} == 1 ]]; then
    ROUNDS=${ROUNDS:-2} SCALE=${SCALE:-0.1}
fi
ROUNDS=${ROUNDS:-5}
SCALE=${SCALE:-1}

die1() { echo "sync-bench: $*" >&2; exit 1; }
die2() { echo "sync-bench: $*" >&2; exit 2; }

[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die2 "ROUNDS must be a positive integer, not '$ROUNDS'"
if ! [[ $SCALE =~ ^([0-9]+\.?[0-9]*|\.[0-9]+)$ ]] ||
    ! awk -v s="$SCALE" 'BEGIN { exit !(s > 0 && s <= 4) }'; then
    die2 "SCALE must be a number in (0, 4], not '$SCALE'"
fi
if [[ ! -x $emberd ]]; then
    die2 "$emberd not found; build it first: cd $repo && meson setup build && ninja -C build"
fi
missing=()
command -v wget >/dev/null || missing+=(wget)
command -v curl >/dev/null || missing+=(curl)
[[ -x /usr/bin/time ]] || missing+=(time)
command -v python3 >/dev/null || missing+=(python3)
command -v openssl >/dev/null || missing+=(openssl)
command -v sha256sum >/dev/null || missing+=(coreutils)
if [[ ${#missing[@]} -gt 0 ]]; then
    die2 "missing tools; install them with: sudo apt-get install ${missing[*]}"
fi
if [[ $("$emberd" crawl --help 2>&1 || true) == *"not available in this version"* ]]; then
    die2 "$emberd has no 'crawl' ('crawl' is not available in this version)"
fi
# Only the command lines name mirrors: no proxy from the environment.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY \
    no_proxy NO_PROXY socks_proxy SOCKS_PROXY

MIB=$((1024 * 1024))
NSMALL=$(awk -v s="$SCALE" 'BEGIN { n = int(200 * s + 0.5); print (n < 1 ? 1 : n) }')
NFILES=$((NSMALL + 1))
BIG=$(awk -v s="$SCALE" -v m="$MIB" 'BEGIN { n = int(512 * s + 0.5); print (n < 1 ? 1 : n) * m }')
SET=$((NSMALL * MIB + BIG))

parent=${TMPDIR:-/var/tmp}
mkdir -p "$parent"
work=$(mktemp -d "$parent/sync-bench.XXXXXX")
pub_a_pid=''
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    local p
    for p in $pub_a_pid; do kill "$p" 2>/dev/null || true; done
    for p in $pub_a_pid; do wait "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
trap 'exit 141' PIPE

# inputs + the publisher's store + 2 sides x ROUNDS
need_kb=$(( (2 * SET + 2 * ROUNDS * SET) / 1024 + 256 * 1024 ))
avail_kb=$(df -Pk "$work" | awk 'NR == 2 { print $4 }')
if (( avail_kb < need_kb )); then
    die2 "need about $((need_kb / 1024)) MiB free in $work, have $((avail_kb / 1024)) MiB"
fi

note() { echo "== $*" >&2; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }
now() { echo "$EPOCHREALTIME"; }
since() { calc %.3f "$(now) - $1"; }
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# ---------------------------------------------------------------- ports
read -r port_a < <(python3 -c '
import socket
s = [socket.socket() for _ in range(1)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')

# ---------------------------------------------------------------- inputs
note "work dir $work"
src=$work/src
mkdir -p "$src/set"
note "generating $NSMALL random files of 1 MiB and one of $((BIG / MIB)) MiB"
# AES-128-CTR over zeros: incompressible and ~1 GB/s, unlike /dev/urandom.
head -c "$SET" /dev/zero |
    openssl enc -aes-128-ctr -nosalt -K 0123456789abcdef0123456789abcdef \
        -iv 00000000000000000000000000000000 |
    python3 -c '
import sys
n, big, d = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
M = 1 << 20
inp = sys.stdin.buffer
def copy(path, size):
    with open(path, "wb") as f:
        while size > 0:
            b = inp.read(min(size, 4 * M))
            if not b:
                sys.exit("short input")
            f.write(b)
            size -= len(b)
for i in range(n):
    copy("%s/f%03d.bin" % (d, i), M)
copy("%s/big.bin" % d, big)
' "$NSMALL" "$BIG" "$src/set"
set_files=("$src"/set/*.bin)
[[ ${#set_files[@]} -eq $NFILES ]] || die1 "made ${#set_files[@]} files, want $NFILES"
got=$(cat "${set_files[@]}" | wc -c)
[[ $got -eq $SET ]] || die1 "the files hold $got bytes, want $SET"

note "sha256sum of the inputs"
(cd "$src/set" && sha256sum -- *.bin) >"$work/want-set"

# ---------------------------------------------------------------- publishers
edir=$work/emberd
mkdir "$edir"
pub_conf() {    # pub_conf STORE PORT
    printf '[mirror]\nname = bench\nstore = %s\nkey = publisher.key\nallow_root = yes\naccess_log = no\n' "$1"
    printf '[http]\nlisten = 127.0.0.1:%s\n' "$2"
}
pub_conf pub-a "$port_a" >"$edir/pub-a.conf"
"$emberd" keygen -c "$edir/pub-a.conf" >"$edir/keygen.log" 2>&1 ||
    { cat "$edir/keygen.log" >&2; die1 "emberd keygen failed"; }
pubkey=$(tail -n 1 "$edir/keygen.log")
[[ $pubkey == RW* ]] || { cat "$edir/keygen.log" >&2; die1 "emberd keygen printed no RW... public key"; }
note "publisher: emberd add of $NFILES files"
"$emberd" add -c "$edir/pub-a.conf" "${set_files[@]}" >"$edir/add-a.log" 2>&1 ||
    { tail -n 20 "$edir/add-a.log" >&2; die1 "emberd add failed (publisher A)"; }

start_pub() {   # start_pub CONF PORT LOG: sets started_pid
    local up=0
    "$emberd" run -c "$1" </dev/null >"$3" 2>&1 &
    started_pid=$!
    for _ in $(seq 100); do
        if curl -sSf -o /dev/null "http://127.0.0.1:$2/healthz" 2>/dev/null; then up=1; break; fi
        kill -0 "$started_pid" 2>/dev/null || { tail -n 20 "$3" >&2; die1 "emberd run exited ($1)"; }
        sleep 0.1
    done
    (( up )) || { tail -n 20 "$3" >&2; die1 "emberd run did not answer /healthz on 127.0.0.1:$2 within 10 s"; }
}
note "publisher: emberd run, http :$port_a"
start_pub "$edir/pub-a.conf" "$port_a" "$edir/run-a.log"; pub_a_pid=$started_pid
base_a=http://127.0.0.1:$port_a

# The publisher's catalog must list exactly the inputs, as the peer's URLs assume.
curl -sSf "$base_a/catalog.json" >"$work/catalog-a.json" || die1 "GET $base_a/catalog.json failed"
python3 - "$work/catalog-a.json" "$work/want-set" <<'PY' || die1 "publisher A's catalog does not list the inputs"
import json, sys
items = json.load(open(sys.argv[1]))["items"]
want = {l.split()[1].lstrip("*"): l.split()[0] for l in open(sys.argv[2])}
sys.exit(0 if {i["name"]: i["sha256"] for i in items} == want else 1)
PY
for f in "${set_files[@]}"; do echo "$base_a/files/${f##*/}"; done >"$work/urls-set"
# The peer reads the objects through the same server code as the follower
# (/files/NAME and /sha256/HEX are the same object response).
curl -sSf -o /dev/null "$base_a/files/${set_files[0]##*/}" || die1 "GET $base_a/files/... failed"

# ---------------------------------------------------------------- follower config
cat >"$edir/follow.conf" <<EOF
[mirror]
name = bench follower
store = store-follow
key = follower.key
allow_root = yes
[crawl]
concurrency = 8
per_host = 8
[follow]
pubkey = $pubkey
peer = $base_a/
EOF

# check_items CONF WANT: `emberd ls --json` lists exactly the files of WANT
# (sha256sum output) by name, each with that sha256.
check_items() {
    "$emberd" ls -c "$1" --json >"$edir/ls.json" 2>"$edir/ls.err" ||
        { cat "$edir/ls.err" >&2; die1 "emberd ls failed (follower)"; }
    python3 - "$edir/ls.json" "$2" <<'PY' || die1 "correctness check FAILED (follower's catalog)"
import json, sys
items = json.load(open(sys.argv[1]))["items"]
want = {l.split()[1].lstrip("*"): l.split()[0] for l in open(sys.argv[2])}
got = {i["name"]: i["sha256"] for i in items}
bad = [n for n in want if got.get(n) != want[n]] + [n for n in got if n not in want]
missing = [i["name"] for i in items if i.get("stored") not in ("raw", "gzip")]
for n in bad[:5]:
    print("sync-bench: %s: follower has %s, want %s" % (n, got.get(n), want.get(n)), file=sys.stderr)
for n in missing[:5]:
    print("sync-bench: %s: not stored by the follower" % n, file=sys.stderr)
sys.exit(1 if bad or missing or len(items) != len(want) else 0)
PY
}

# ---------------------------------------------------------------- timed runs
declare -A times rss
# Outputs of finished rounds are moved aside, not deleted, until the end:
# a large delete right before a round makes ext4's inode allocator skip the
# freed inodes, and the next run (either side) measures that, not itself.
mkdir -p "$work/spent"
set_aside() { [[ -e $1 ]] && mv "$1" "$work/spent/$(basename "$1").$RANDOM$RANDOM"; return 0; }
warm() { find "$edir/pub-a" -type f -exec cat {} + >/dev/null; }
ready() { warm; sync; }

ember_sync() {
    local log=$edir/crawl.log t0 s m
    set_aside "$edir/store-follow"
    ready
    t0=$(now)
    if ! /usr/bin/time -f '%M' -o "$edir/time-sync" "$emberd" crawl -c "$edir/follow.conf" >"$log" 2>&1; then
        s=$(since "$t0")
        grep -v ': fetched ' "$log" | tail -n 20 >&2 || true
        die1 "emberd crawl (follower) failed after $s s (log above)"
    fi
    s=$(since "$t0")
    m=$(tail -n 1 "$edir/time-sync")
    grep -qE "^emberd: sync: $NFILES objects fetched, 0 failed" "$log" ||
        { tail -n 5 "$log" >&2; die1 "emberd crawl (follower): no summary '$NFILES objects fetched, 0 failed'"; }
    check_items "$edir/follow.conf" "$work/want-set"
    follow_stored=$(python3 -c 'import json, sys, collections
print(dict(collections.Counter(i.get("stored") for i in json.load(open(sys.argv[1]))["items"])))' "$edir/ls.json")
    set_aside "$edir/store-follow"
    times[sync.emberd]+="$s "
    rss[sync]+="$m "
    note "sync: emberd crawl (follower) $s s, peak RSS $m KiB"
}
peer_sync() {
    local d=$work/wget t0 t1 t2 t3
    set_aside "$d"; mkdir "$d"
    cp "$work/want-set" "$d/.sums"
    ready
    t0=$(now)
    wget -q -i "$work/urls-set" -P "$d" 2>"$work/wget.err" ||
        { tail -n 5 "$work/wget.err" >&2; die1 "wget failed"; }
    t1=$(now)
    (cd "$d" && sha256sum -c --quiet .sums) >"$work/sha.out" 2>&1 ||
        { head -n 5 "$work/sha.out" >&2; die1 "correctness check FAILED (wget's files: sha256sum -c)"; }
    t2=$(now)
    sync
    t3=$(now)
    [[ $(find "$d" -name '*.bin' | wc -l) -eq $NFILES ]] || die1 "wget wrote other files than the $NFILES wanted"
    set_aside "$d"
    times[sync.peer]+="$(calc %.3f "$t2 - $t0") "
    times[sync.wget]+="$(calc %.3f "$t1 - $t0") "
    times[sync.sha]+="$(calc %.3f "$t2 - $t1") "
    times[sync.flush]+="$(calc %.3f "$t3 - $t2") "
    note "sync: wget $(calc %.2f "$t1 - $t0") s + sha256sum -c $(calc %.2f "$t2 - $t1") s (then sync $(calc %.2f "$t3 - $t2") s, untimed)"
}
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
follow_stored=''
for r in $(seq "$ROUNDS"); do
    note "round $r/$ROUNDS: follower sync of $NFILES objects"
    ember_sync
    peer_sync
done

# ---------------------------------------------------------------- report
med() { local -a v; read -ra v <<<"${times[$1]}"; median "${v[@]}"; }
maxof() { local -a v; read -ra v <<<"$*"; printf '%s\n' "${v[@]}" | sort -n | tail -n 1; }
fix0() { awk -v s="$1" 'BEGIN { print (s < 0.001 ? 0.001 : s) }'; }
mbs() { calc %.1f "$1 / $2 / 1e6"; }
s_e=$(fix0 "$(med sync.emberd)"); s_p=$(med sync.peer); s_w=$(med sync.wget)
s_ratio=$(calc %.2f "$s_p / $s_e")
rss_mib() { calc %.1f "$(maxof "$1") / 1024"; }

echo
echo "emberd sync benchmark: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs" \
    "($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || echo unknown CPU)), SCALE $SCALE"
echo "emberd: $emberd ($("$emberd" --version 2>/dev/null | head -n 1 || echo '?'))"
echo "publisher: emberd run, plain HTTP on 127.0.0.1, access_log = no; $NSMALL random files of 1 MiB and one of $((BIG / MIB)) MiB ($((SET / MIB)) MiB, stored raw)"
echo "emberd: emberd crawl -c FCONF ([follow] the publisher; [crawl] concurrency 8, per_host 8), a fresh store each round; verifies signature, size and SHA-256 of each object, fsyncs"
echo "peer:   wget -q -i urls.txt -P DIR (/files/NAME of the $NFILES items; 1 process, sequential, 1 keep-alive connection), then sha256sum -c --quiet SUMS in DIR; no fsync"
echo "$ROUNDS round(s) per side, alternating emberd / peer; medians shown; page cache not dropped (the publisher's store read once before each run), sync before each run (untimed)"
echo "load average before the runs: $load_before (other work on the machine skews every figure)"
echo
printf '%-30s %9s %8s %8s | %8s %8s %8s | %7s %9s  %s\n' \
    input "emberd s" "MB/s" "RSS MiB" "peer s" "MB/s" "wget" ratio "(wget)" target
printf '%-30s %9.2f %8.1f %8.1f | %8.2f %8.1f %8.2f | %6.2fx %8.2fx  %s\n' \
    "sync: $NFILES objects, $((SET / MIB)) MiB" "$s_e" "$(mbs "$SET" "$s_e")" "$(rss_mib "${rss[sync]}")" \
    "$s_p" "$(mbs "$SET" "$s_p")" "$s_w" "$s_ratio" "$(calc %.2f "$s_w / $s_e")" ">= 2.0"
echo
echo "peer s = wget + sha256sum -c; wget = wget alone; ratio = peer s / emberd s ((wget): without the peer's sha256sum)"
echo "peer parts (medians): wget $s_w s, sha256sum -c $(med sync.sha) s; then an untimed sync flushed its writes in $(med sync.flush) s"
echo "rounds: emberd ${times[sync.emberd]}| peer ${times[sync.peer]}"
echo "follower stored: $follow_stored"
echo "peak RSS: emberd crawl (follower) $(rss_mib "${rss[sync]}") MiB (max over the rounds)"
echo "correctness: the follower's catalog lists all $NFILES items with sha256sum's digests, all stored; wget's files passed sha256sum -c, in every round"

unmet=()
awk -v v="$s_ratio" 'BEGIN { exit !(v >= 2) }' || unmet+=("sync only ${s_ratio}x the peer < 2.0")
if [[ ${#unmet[@]} -eq 0 ]]; then
    echo "targets: all met"
else
    (IFS=';'; echo "targets: NOT met:${unmet[*]/#/ }")
fi
exit 0

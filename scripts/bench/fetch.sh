#!/usr/bin/env bash
# Fetch benchmark: `emberd fetch` against `curl` and `aria2c`, from 1 and
# from 3 local mirrors, and over a slow link, in the same run.
#
# One publisher store holds a 512 MiB random object (big.bin) and a 12 MiB
# one (slow.bin: 50 s at 2 Mbit/s); three `emberd run` (plain HTTP on
# 127.0.0.1, access_log = no) serve it on three ports: the three mirrors
# A, B, C. `emberd run` locks
# its store, so B and C serve copies of A's store made of hard links (its
# objects and catalogs are read-only: the same bytes, one page cache);
# scrub_interval is 1 year so none re-hashes them meanwhile.
# Rows, ROUNDS times each, the tools alternating within a round:
#   - 1 mirror: `emberd fetch --pubkey KEY -m A -o FILE big.bin` (signature
#     and SHA-256 checked, fsync, atomic rename) against `curl -sS -o FILE
#     A/files/big.bin` (no verification) and `aria2c -x4
#     --checksum=sha-256=HEX A/files/big.bin` (4 connections, hashes the file
#     once it is down);
#   - 3 mirrors: `emberd fetch -m A -m B -m C` against `aria2c -x4
#     --checksum=...` with the three URLs, and curl from A alone;
#   - slow link (ROWS slow): the reader in a network namespace whose only
#     way to the mirrors is scripts/bench/lossylink.py (answers: 200 ms
#     delay, 1 % loss, 2 Mbit/s per TCP connection, see below): `emberd
#     fetch` of slow.bin with the 3 mirrors against one `curl` from one.
# With a build whose `emberd fetch` has --connections (parallel ranges), it
# is given --connections CONNS (default 4, as aria2c's -x4) on the local
# rows and --connections SLOW_CONNS (default 3) on the slow row; without
# it, emberd fetch runs as it is and the report says so.
# The medians are shown, with the ratios tool/emberd (above 1: emberd is
# faster). Targets (from the issue): emberd fetch >= 1.0x curl alone and
# >= 1.5x aria2c, with 1 and with 3 mirrors; slow link: >= 2.5x one curl.
# Every output of every tool is hashed (untimed) and must match.
#
# The slow link: this kernel has no sch_netem, fq or etf (`tc qdisc add ...
# netem` fails: "Specified qdisc kind is unknown"), so no qdisc can delay
# packets; lossylink.py forwards every packet between two TUN devices (one
# in the reader's namespace) through the same model in user space, and the
# kernel's TCP runs at both ends: a lost segment is retransmitted a round
# trip later, as on a real link. With the slow row on, the mirrors listen on
# the link's address here (local rows reach it as any local address) and
# the bench needs root; the report names the mirrors' TCP congestion
# control, which decides how much a loss costs one connection.
#
# Page cache: not dropped (it could be, as root). The store is read once
# before each timed run, so every client is served from memory and the
# figures measure the clients, not the disk; the outputs go to the same
# file system for all; `sync` runs (untimed) before each timed run, and
# the outputs are deleted (one file each) after their check.
# It is a benchmark, not a test: it exits 0 whether targets are met or not,
# 1 if emberd fails or a correctness check fails, 2 if a tool is missing.
#
# Usage: scripts/bench/fetch.sh
#   BUILD       env: meson build dir holding emberd (default: <repo>/build)
#   ROUNDS      env: rounds per row and tool (default 5)
#   ROWS        env: local,slow (default both)
#   QUICK=1     env: a smoke run: 64 MiB and 1 MiB objects, 2 rounds (a
#               1 MiB object may be too small for emberd fetch to split)
#   CONNS, SLOW_CONNS  env: --connections for emberd fetch (default 4, 3)
#   BIG_MIB, SLOW_MIB  env: object sizes (default 512, 12)
#   LOSS        env: the slow link's loss, a fraction (default 0.01)
# The work dir is a mktemp -d under ${TMPDIR:-/var/tmp} (about 3 x BIG),
# removed at exit; the daemons and the link (its namespace) at exit.
set -euo pipefail

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }
case "${1:-}" in -h|--help) usage; exit 0 ;; esac
if [[ $# -gt 0 ]]; then usage >&2; exit 2; fi

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$repo/build}
emberd=$BUILD/emberd
QUICK=${QUICK:-0}
if [[ $QUICK == 1 ]]; then
    ROUNDS=${ROUNDS:-2} BIG_MIB=${BIG_MIB:-64} SLOW_MIB=${SLOW_MIB:-1}
fi
ROUNDS=${ROUNDS:-5}
ROWS=${ROWS:-local,slow}
CONNS=${CONNS:-4}
SLOW_CONNS=${SLOW_CONNS:-3}
BIG_MIB=${BIG_MIB:-512}
SLOW_MIB=${SLOW_MIB:-12}
LOSS=${LOSS:-0.01}

die1() { echo "fetch-bench: $*" >&2; exit 1; }
die2() { echo "fetch-bench: $*" >&2; exit 2; }

for v in ROUNDS CONNS SLOW_CONNS BIG_MIB SLOW_MIB; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die2 "$v must be a positive integer, not '${!v}'"
done
if [[ ! -x $emberd ]]; then
    die2 "$emberd not found; build it first: cd $repo && meson setup build && ninja -C build"
fi
missing=()
command -v curl >/dev/null || missing+=(curl)
command -v aria2c >/dev/null || missing+=(aria2)
command -v python3 >/dev/null || missing+=(python3)
command -v openssl >/dev/null || missing+=(openssl)
command -v sha256sum >/dev/null || missing+=(coreutils)
row_on() { [[ ,$ROWS, == *,$1,* ]]; }
if row_on slow; then
    command -v ip >/dev/null || missing+=(iproute2)
    [[ $(id -u) == 0 ]] || die2 "the slow row needs root (a network namespace and TUN devices); run as root or with ROWS=local"
fi
[[ $LOSS =~ ^0?\.[0-9]+$|^0$ ]] || die2 "LOSS must be a fraction below 1, not '$LOSS'"
if [[ ${#missing[@]} -gt 0 ]]; then
    die2 "missing tools; install them with: sudo apt-get install ${missing[*]}"
fi
if [[ $("$emberd" fetch --help 2>&1 || true) == *"not available in this version"* ]]; then
    die2 "$emberd has no 'fetch'"
fi
has_conns=0
"$emberd" fetch --help 2>&1 | grep -q -- --connections && has_conns=1
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY \
    no_proxy NO_PROXY socks_proxy SOCKS_PROXY

MIB=$((1024 * 1024))
BIG=$((BIG_MIB * MIB))
SLOW=$((SLOW_MIB * MIB))

parent=${TMPDIR:-/var/tmp}
mkdir -p "$parent"
work=$(mktemp -d "$parent/fetch-bench.XXXXXX")
pids=()
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
trap 'exit 141' PIPE

need_kb=$(( (3 * BIG + 3 * SLOW) / 1024 + 256 * 1024 ))
avail_kb=$(df -Pk "$work" | awk 'NR == 2 { print $4 }')
(( avail_kb >= need_kb )) || die2 "need about $((need_kb / 1024)) MiB free in $work, have $((avail_kb / 1024)) MiB"

note() { echo "== $*" >&2; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }
now() { echo "$EPOCHREALTIME"; }
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
free_ports() {  # free_ports N: N free TCP ports on 127.0.0.1
    python3 -c '
import socket, sys
s = [socket.socket() for _ in range(int(sys.argv[1]))]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])' "$1"
}

# ---------------------------------------------------------------- inputs
note "work dir $work"
src=$work/src
mkdir "$src"
note "generating a $BIG_MIB MiB and a $SLOW_MIB MiB random file"
# AES-128-CTR over zeros: incompressible and ~1 GB/s, unlike /dev/urandom.
head -c "$((BIG + SLOW))" /dev/zero |
    openssl enc -aes-128-ctr -nosalt -K 0123456789abcdef0123456789abcdef \
        -iv 00000000000000000000000000000000 |
    { head -c "$BIG" >"$src/big.bin"; head -c "$SLOW" >"$src/slow.bin"; }
[[ $(stat -c %s "$src/big.bin") -eq $BIG && $(stat -c %s "$src/slow.bin") -eq $SLOW ]] ||
    die1 "short input files"
big_sum=$(sha256sum <"$src/big.bin" | awk '{ print $1 }')
slow_sum=$(sha256sum <"$src/slow.bin" | awk '{ print $1 }')

# ---------------------------------------------------------------- mirrors
# With the slow row, the link comes first: the mirrors listen on its address.
host=127.0.0.1
emulation='(not run)'
reader=()           # the command prefix that runs a reader on the slow link
if row_on slow; then
    netns=emberd-fetch-bench-$$
    net=10.$((RANDOM % 200 + 20)).$((RANDOM % 250))
    python3 "$repo/scripts/bench/lossylink.py" --netns "$netns" --net "$net" \
        --delay 0.2 --rate 2e6 --loss "$LOSS" >"$work/link.out" 2>"$work/link.err" &
    link_pid=$!
    pids+=("$link_pid")
    for _ in $(seq 100); do grep -q ready "$work/link.out" && break; sleep 0.1; done
    grep -q ready "$work/link.out" || { cat "$work/link.err" >&2; die1 "lossylink.py did not start"; }
    host=$net.1
    cc=$(sysctl -n net.ipv4.tcp_congestion_control 2>/dev/null || echo unknown)
    emulation="scripts/bench/lossylink.py (TUN devices, the reader in namespace $netns): answers 200 ms late, $(calc %.2g "$LOSS * 100") % lost, 2 Mbit/s per TCP connection; the mirrors' TCP congestion control: $cc"
    note "slow link: $net.1 (mirrors) <-> $net.2 ($netns)"
fi

edir=$work/emberd
mkdir "$edir"
read -r port_a port_b port_c < <(free_ports 3)
ports=("$port_a" "$port_b" "$port_c")
mirror_conf() {     # mirror_conf PORT
    printf '[mirror]\nname = bench\nstore = store\nkey = publisher.key\nallow_root = yes\naccess_log = no\nscrub_interval = 365d\n'
    printf '[http]\nlisten = %s:%s\n' "$host" "$1"
}
mkdir "$edir/m0"
mirror_conf "$port_a" >"$edir/m0/emberd.conf"
"$emberd" keygen -c "$edir/m0/emberd.conf" >"$edir/keygen.log" 2>&1 ||
    { cat "$edir/keygen.log" >&2; die1 "emberd keygen failed"; }
pubkey=$(tail -n 1 "$edir/keygen.log")
[[ $pubkey == RW* ]] || { cat "$edir/keygen.log" >&2; die1 "emberd keygen printed no RW... public key"; }
"$emberd" add -c "$edir/m0/emberd.conf" "$src/big.bin" "$src/slow.bin" >"$edir/add.log" 2>&1 ||
    { tail -n 20 "$edir/add.log" >&2; die1 "emberd add failed"; }
# `emberd run` locks its store: B and C get copies of A's, hard links of
# its read-only objects and catalogs (the same publisher, the same bytes,
# one page cache).
for i in 1 2; do
    cp -al "$edir/m0" "$edir/m$i"
    rm "$edir/m$i/emberd.conf"     # a link to A's, like the rest
    mirror_conf "${ports[$i]}" >"$edir/m$i/emberd.conf"
done
for i in 0 1 2; do
    "$emberd" run -c "$edir/m$i/emberd.conf" </dev/null >"$edir/run$i.log" 2>&1 &
    pids+=($!)
done
for i in 0 1 2; do
    up=0
    for _ in $(seq 100); do
        if curl -sSf -o /dev/null "http://$host:${ports[$i]}/healthz" 2>/dev/null; then up=1; break; fi
        kill -0 "${pids[$i]}" 2>/dev/null || { tail -n 20 "$edir/run$i.log" >&2; die1 "emberd run $i exited"; }
        sleep 0.1
    done
    (( up )) || { tail -n 20 "$edir/run$i.log" >&2; die1 "emberd run $i did not answer /healthz"; }
done
A=http://$host:$port_a B=http://$host:$port_b C=http://$host:$port_c
for u in "$A" "$B" "$C"; do
    [[ $(curl -sSf "$u/files/slow.bin" | sha256sum | awk '{ print $1 }') == "$slow_sum" ]] ||
        die1 "$u/files/slow.bin does not hash right"
done
note "mirrors A :$port_a, B :$port_b, C :$port_c (3 x emberd run on one store)"

# ---------------------------------------------------------------- runs
declare -A times
out=$work/out
mkdir "$out"
warm() { find "$edir/m0/store" -type f -exec cat {} + >/dev/null; }
ready() { rm -rf "$out"; mkdir "$out"; warm; sync; }
check() {   # check FILE WANT WHAT
    local got
    got=$(sha256sum <"$1" | awk '{ print $1 }') || got=missing
    [[ $got == "$2" ]] || die1 "correctness check FAILED ($3: $1 hashes to $got, want $2)"
}
timed() {   # timed KEY WHAT CMD...: run CMD, wall time appended to times[KEY]
    local key=$1 what=$2 t0 s
    shift 2
    t0=$(now)
    if ! "$@" </dev/null >"$work/$key.log" 2>&1; then
        tail -n 20 "$work/$key.log" >&2
        die1 "$what failed"
    fi
    s=$(calc %.3f "$(now) - $t0")
    times[$key]+="$s "
    note "$key: $what $s s"
}
run_emberd() {  # run_emberd KEY NAME SUM CONNS URL...
    local key=$1 name=$2 sum=$3 conns=$4 m=()
    shift 4
    for u in "$@"; do m+=(-m "$u/"); done
    local flags=()
    (( has_conns )) && flags=(--connections "$conns")
    ready
    timed "$key" "emberd fetch${flags[*]:+ ${flags[*]}} ($# mirror(s))" \
        "${reader[@]}" "$emberd" fetch --pubkey "$pubkey" "${m[@]}" "${flags[@]}" -o "$out/$name" "$name"
    check "$out/$name" "$sum" "emberd fetch"
}
run_curl() {    # run_curl KEY NAME SUM URL
    ready
    timed "$1" "curl -o" "${reader[@]}" curl -sS -f -o "$out/$2" "$4/files/$2"
    check "$out/$2" "$3" curl
}
run_aria() {    # run_aria KEY NAME SUM URL...
    local key=$1 name=$2 sum=$3 urls=()
    shift 3
    for u in "$@"; do urls+=("$u/files/$name"); done
    ready
    timed "$key" "aria2c -x4 --checksum ($# mirror(s))" \
        aria2c -x4 --checksum="sha-256=$sum" -q --allow-overwrite=true \
        --auto-file-renaming=false --console-log-level=warn --summary-interval=0 \
        -d "$out" -o "$name" "${urls[@]}"
    check "$out/$name" "$sum" aria2c
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
if row_on local; then
    for r in $(seq "$ROUNDS"); do
        note "round $r/$ROUNDS: $BIG_MIB MiB from 1 and from 3 mirrors"
        run_emberd e1 big.bin "$big_sum" "$CONNS" "$A"
        run_curl c1 big.bin "$big_sum" "$A"
        run_aria a1 big.bin "$big_sum" "$A"
        run_emberd e3 big.bin "$big_sum" "$CONNS" "$A" "$B" "$C"
        run_aria a3 big.bin "$big_sum" "$A" "$B" "$C"
    done
fi

if row_on slow; then
    reader=(ip netns exec "$netns")
    for r in $(seq "$ROUNDS"); do
        note "round $r/$ROUNDS: $SLOW_MIB MiB over the slow link"
        run_emberd es slow.bin "$slow_sum" "$SLOW_CONNS" "$A" "$B" "$C"
        run_curl cs slow.bin "$slow_sum" "$A"
    done
    kill "$link_pid"
    wait "$link_pid" || true
    emulation+="; $(sed -n 's/^lossylink: //p' "$work/link.err")"
fi

# ---------------------------------------------------------------- report
med() { local -a v; read -ra v <<<"${times[$1]}"; median "${v[@]}"; }
mbs() { awk -v b="$1" -v s="$2" 'BEGIN { v = b / s / 1e6; printf (v < 10 ? "%.2f" : "%.1f"), v }'; }
unmet=()
echo
echo "emberd fetch benchmark: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs" \
    "($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || echo unknown CPU))"
echo "emberd: $emberd ($("$emberd" --version 2>/dev/null | head -n 1 || echo '?'))"
if (( has_conns )); then
    echo "emberd fetch --connections: yes (local rows --connections $CONNS, slow row --connections $SLOW_CONNS)"
else
    echo "emberd fetch --connections: n/a (not supported by this build): one mirror at a time, the others only on failure"
fi
echo "mirrors: 3 x emberd run on hard-linked copies of one store, plain HTTP on $host, access_log = no"
echo "curl: curl -sS -f -o FILE A/files/NAME (no verification); aria2c: -x4 --checksum=sha-256=HEX with 1 or 3 URLs (verifies after the download)"
echo "emberd: emberd fetch --pubkey KEY -m URL... -o FILE NAME (signature + SHA-256 checked while receiving, fsync, rename)"
echo "$ROUNDS round(s) per row and tool, alternating; medians; page cache not dropped (store read once before each run), sync before each run (untimed)"
echo "load average before the runs: $load_before (other work on the machine skews every figure)"
echo
printf '%-34s %10s %9s %12s  %s\n' row "median s" "MB/s" "tool/emberd" target
ratio_row() {   # ratio_row LABEL KEY EMBERD_KEY BYTES MIN
    local t e r
    t=$(med "$2"); e=$(med "$3")
    r=$(calc %.2f "$t / $e")
    printf '%-34s %10.2f %9s %11sx  %s\n' "$1" "$t" "$(mbs "$4" "$t")" "$r" ">= $5"
    awk -v v="$r" -v m="$5" 'BEGIN { exit !(v >= m) }' || unmet+=("$1: ${r}x < $5")
}
base_row() {    # base_row LABEL KEY BYTES
    local t
    t=$(med "$2")
    printf '%-34s %10.2f %9s %12s\n' "$1" "$t" "$(mbs "$3" "$t")" ""
}
if row_on local; then
    base_row "emberd fetch, 1 mirror" e1 "$BIG"
    ratio_row "curl, 1 mirror" c1 e1 "$BIG" 1.0
    ratio_row "aria2c -x4, 1 mirror" a1 e1 "$BIG" 1.5
    base_row "emberd fetch, 3 mirrors" e3 "$BIG"
    ratio_row "curl, 1 of the 3 mirrors" c1 e3 "$BIG" 1.0
    ratio_row "aria2c -x4, 3 mirrors" a3 e3 "$BIG" 1.5
fi
if row_on slow; then
    base_row "slow: emberd fetch, 3 mirrors" es "$SLOW"
    ratio_row "slow: curl, 1 mirror" cs es "$SLOW" 2.5
fi
echo
echo "sizes: $BIG_MIB MiB local, $SLOW_MIB MiB slow; MB/s = 10^6 bytes/s"
echo "slow link: $emulation"
for k in e1 c1 a1 e3 a3 es cs; do
    [[ -n ${times[$k]:-} ]] && echo "rounds $k: ${times[$k]}"
done
echo "correctness: every output of every tool hashed to the object's SHA-256, in every round"
if [[ ${#unmet[@]} -eq 0 ]]; then
    echo "targets: all met"
else
    (IFS=';'; echo "targets: NOT met:${unmet[*]/#/ }")
fi
exit 0

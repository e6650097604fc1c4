#!/usr/bin/env bash
# Crawl benchmark: `emberd crawl` against a wget pipeline, on the same files
# from the same local nginx, in the same run.
#
# nginx (1 worker, plain HTTP on 127.0.0.1, sendfile on, access_log off, no
# gzip: both clients get identity bodies) serves 2,000 x 16 KiB text files
# (made like scripts/bench/ingest-local.sh makes its text folder) and one
# 512 MiB random file. Each is fetched, ROUNDS times, alternating:
#   - emberd: `emberd crawl -c CONF`, a fresh store each round, one [source]
#     per file, [crawl] concurrency 8, per_host 8 (all files are on one host:
#     per_host 8 lets the 8 transfers run at once);
#   - the pipeline: `wget -q -i urls.txt -P DIR` (one process, sequential,
#     keep-alive), then `sha256sum DIR/*`, then `gzip -6 -k DIR/*` (one gzip
#     process; every FILE.gz is written to disk next to FILE, as emberd
#     writes its deflated object to its store);
# and the median wall time of each is shown with the ratio pipeline/emberd
# and emberd's peak RSS (/usr/bin/time -f %M, the max over all crawls).
# Then `/healthz` under a crawl: `emberd run` (https + http listeners, one
# [source]: a 1 GiB random file on the same nginx, [crawl] interval 24h)
# crawls at start; a Python client starts a GET http://127.0.0.1:PORT/healthz
# (a new connection each, in its own thread, so a slow answer does not hold
# back the next probe) every 20 ms from the first answer until the crawl's
# summary line is logged; count, errors, p50/p99/max latency are shown, with
# the same probes for 2 s after the crawl as the idle baseline.
# Targets (from the issues):
#   - >= 2x faster than the wget pipeline on the small files;
#   - >= 10x faster on the large file (the pipeline spends most of its time
#     deflating incompressible bytes);
#   - emberd crawl's peak RSS <= 32 MiB;
#   - /healthz p99 <= 100 ms during the 1 GiB crawl, and no failed probe.
# Correctness first: after every emberd crawl, `emberd ls --json` must list
# each file by name with the sha256 that sha256sum gives the source file;
# after every pipeline run, its sha256sum output must match too.
# It is a benchmark, not a test: it exits 0 whether targets are met or not,
# 1 if emberd or nginx fails or a correctness check fails,
# 2 if a tool it needs is missing.
#
# Usage: scripts/bench/crawl.sh
#   BUILD   env: meson build dir holding emberd (default: <repo>/build)
#   ROUNDS  env: rounds per input and side (default 3)
# The work dir is a mktemp -d under /var/tmp (needs about 8 GiB: each round's
# output is kept until the end), removed at
# exit; nginx and emberd run are stopped at exit. Caches are not dropped:
# every input is read once (cat >/dev/null) before each timed run, so nginx
# serves both sides from a warm page cache; `sync` runs (untimed) before each.
set -euo pipefail

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }
case "${1:-}" in -h|--help) usage; exit 0 ;; esac
if [[ $# -gt 0 ]]; then usage >&2; exit 2; fi

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$repo/build}
emberd=$BUILD/emberd
ROUNDS=${ROUNDS:-3}

die1() { echo "crawl-bench: $*" >&2; exit 1; }
die2() { echo "crawl-bench: $*" >&2; exit 2; }

[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die2 "ROUNDS must be a positive integer, not '$ROUNDS'"
if [[ ! -x $emberd ]]; then
    die2 "$emberd not found; build it first: cd $repo && meson setup build && ninja -C build"
fi
missing=()
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx-light)
command -v wget >/dev/null || missing+=(wget)
[[ -x /usr/bin/time ]] || missing+=(time)
command -v curl >/dev/null || missing+=(curl)
command -v python3 >/dev/null || missing+=(python3)
command -v openssl >/dev/null || missing+=(openssl)
command -v gzip >/dev/null || missing+=(gzip)
command -v sha256sum >/dev/null || missing+=(coreutils)
if [[ ${#missing[@]} -gt 0 ]]; then
    die2 "missing tools; install them with: sudo apt-get install ${missing[*]}"
fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
licenses=/usr/share/common-licenses
compgen -G "$licenses/*" >/dev/null || die2 "$licenses is empty (text corpus source; Debian package base-files)"
if [[ $("$emberd" crawl -c /dev/null 2>&1 || true) == *"not available in this version"* ]]; then
    die2 "$emberd has no crawler ('crawl' is not available in this version)"
fi
# Only the configs name proxies: none from the environment, for either side.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY \
    no_proxy NO_PROXY socks_proxy SOCKS_PROXY

NFILES=2000
FSIZE=16384                          # 16 KiB each
TEXT=$((NFILES * FSIZE))
BIG=$((512 * 1024 * 1024))           # 512 MiB random file
HUGE=$((1024 * 1024 * 1024))         # 1 GiB random file (/healthz run)

work=$(mktemp -d /var/tmp/crawl-bench.XXXXXX)
nginx_pid='' emberd_pid='' probe_pid=''
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    local p
    for p in $probe_pid $emberd_pid $nginx_pid; do kill "$p" 2>/dev/null || true; done
    for p in $probe_pid $emberd_pid $nginx_pid; do wait "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
trap 'exit 141' PIPE

avail_kb=$(df -Pk "$work" | awk 'NR == 2 { print $4 }')
if (( avail_kb < 4 * 1024 * 1024 )); then
    die2 "need about 4 GiB free in $work, have $((avail_kb / 1024)) MiB"
fi

note() { echo "== $*" >&2; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }
now() { echo "$EPOCHREALTIME"; }
since() { calc %.3f "$(now) - $1"; }
warm() { cat "$@" >/dev/null; }
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# ---------------------------------------------------------------- ports
read -r port_nginx port_tls port_http < <(python3 -c '
import socket
s = [socket.socket() for _ in range(3)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')

# ---------------------------------------------------------------- inputs
note "work dir $work"
www=$work/www
mkdir -p "$www/text"
note "generating 512 MiB and 1 GiB of random data"
# AES-128-CTR over zeros: incompressible and ~1 GB/s, unlike /dev/urandom.
rand() {    # rand BYTES KEY FILE
    head -c "$1" /dev/zero |
        openssl enc -aes-128-ctr -nosalt -K "$2" -iv 00000000000000000000000000000000 >"$3"
    [[ $(stat -c %s "$3") -eq $1 ]] || die1 "short random file $3"
}
rand "$BIG" 0123456789abcdef0123456789abcdef "$www/random.bin"
rand "$HUGE" fedcba9876543210fedcba9876543210 "$www/random1g.bin"

note "generating $NFILES x 16 KiB of text"
# As scripts/bench/ingest-local.sh: an order-1 Markov chain over the words
# of the license texts (seeded, so every run gets the same bytes), ~2.5:1
# with gzip -6 per 16 KiB file.
cat "$licenses"/* | LC_ALL=C awk -v seed=20261128 -v total="$TEXT" '
{ for (i = 1; i <= NF; i++) { w = $i; gsub(/[^A-Za-z0-9,.;:()-]/, "", w)
    if (w != "") { tok[n] = w; at[w, cnt[w]++] = n; n++ } } }
END {
    srand(seed); out = 0; line = ""; p = int(rand() * n)
    while (out < total) {
        if (rand() < 0.12) p = int(rand() * n)        # jump to a new context
        else { w = tok[p]; p = at[w, int(rand() * cnt[w])] + 1; if (p >= n) p = 0 }
        w = tok[p]
        if (length(line) + length(w) + 1 > 72) {
            print line; out += length(line) + 1; line = w
            if (rand() < 0.08) { print ""; out++ }
        } else line = (line == "" ? w : line " " w)
    }
}' >"$work/corpus.txt"
truncate -s "$TEXT" "$work/corpus.txt"
split -b "$FSIZE" -a 4 -d --additional-suffix=.txt "$work/corpus.txt" "$www/text/f"
rm "$work/corpus.txt"
text_files=("$www"/text/*.txt)
[[ ${#text_files[@]} -eq $NFILES ]] || die1 "made ${#text_files[@]} text files, want $NFILES"

note "sha256sum of the inputs"
# name -> sha256 of each input, the reference for every check below
(cd "$www/text" && sha256sum -- *.txt) >"$work/want-text"
(cd "$www" && sha256sum random.bin) >"$work/want-big"
(cd "$www" && sha256sum random1g.bin) >"$work/want-huge"
huge_sum=$(awk '{ print $1 }' "$work/want-huge")

base=http://127.0.0.1:$port_nginx
for f in "${text_files[@]}"; do echo "$base/text/${f##*/}"; done >"$work/urls-text"
echo "$base/random.bin" >"$work/urls-big"

# ---------------------------------------------------------------- nginx
note "nginx: 1 worker, http :$port_nginx"
ndir=$work/nginx
mkdir -p "$ndir/logs" "$ndir/tmp"
user_line=''
# The work dir is private (mktemp: mode 0700): run the worker as our user.
[[ $EUID -eq 0 ]] && user_line="user $(id -un) $(id -gn);"
cat >"$ndir/nginx.conf" <<EOF
$user_line
worker_processes 1;
daemon off;
pid $ndir/nginx.pid;
error_log $ndir/logs/error.log warn;
events { worker_connections 1024; }
http {
    types {
        application/octet-stream bin;
        text/plain txt;
    }
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    gzip off;
    keepalive_requests 100000;
    keepalive_timeout 60s;
    client_body_temp_path $ndir/tmp/body;
    proxy_temp_path $ndir/tmp/proxy;
    fastcgi_temp_path $ndir/tmp/fastcgi;
    uwsgi_temp_path $ndir/tmp/uwsgi;
    scgi_temp_path $ndir/tmp/scgi;
    server {
        listen 127.0.0.1:$port_nginx;
        root $www;
    }
}
EOF
"$nginx_bin" -p "$ndir/" -c "$ndir/nginx.conf" -e "$ndir/logs/error.log" >"$ndir/logs/stdout.log" 2>&1 &
nginx_pid=$!
up=0
for _ in $(seq 100); do
    if curl -sSf -o /dev/null "$base/text/f0000.txt" 2>"$ndir/logs/curl.err"; then up=1; break; fi
    kill -0 "$nginx_pid" 2>/dev/null || { cat "$ndir/logs/error.log" "$ndir/logs/stdout.log" >&2 || true; die1 "nginx exited"; }
    sleep 0.1
done
(( up )) || { cat "$ndir/logs/error.log" "$ndir/logs/curl.err" >&2 || true; die1 "nginx did not answer"; }

# ---------------------------------------------------------------- emberd configs
edir=$work/emberd
mkdir "$edir"
mirror_conf() {
    printf '[mirror]\nname = bench\nstore = %s\nkey = publisher.key\nallow_root = yes\n' "$1"
}
{
    mirror_conf store-text
    printf '[crawl]\nconcurrency = 8\nper_host = 8\n'
    for f in "${text_files[@]}"; do
        n=${f##*/}
        printf '[source t-%s]\nurl = %s/text/%s\n' "${n%.txt}" "$base" "$n"
    done
} >"$edir/text.conf"
{
    mirror_conf store-big
    printf '[crawl]\nconcurrency = 8\nper_host = 8\n'
    printf '[source big]\nurl = %s/random.bin\n' "$base"
} >"$edir/big.conf"
"$emberd" keygen -c "$edir/text.conf" >"$edir/keygen.log" 2>&1 ||
    { cat "$edir/keygen.log" >&2; die1 "emberd keygen failed"; }

# check_items CONF WANT WHAT: `emberd ls --json` lists exactly the files of
# WANT (sha256sum output, names as in the catalog), each with that sha256.
check_items() {
    "$emberd" ls -c "$1" --json >"$edir/ls.json" 2>"$edir/ls.err" ||
        { cat "$edir/ls.err" >&2; die1 "emberd ls failed ($3)"; }
    python3 - "$edir/ls.json" "$2" "$3" <<'PY' || die1 "correctness check FAILED ($3)"
import json, sys
items = json.load(open(sys.argv[1]))["items"]
want = {}
for line in open(sys.argv[2]):
    h, name = line.split(None, 1)
    want[name.strip().lstrip("*")] = h
got = {i["name"]: i["sha256"] for i in items}
bad = [n for n in want if got.get(n) != want[n]]
extra = [n for n in got if n not in want]
if bad or extra or len(items) != len(want):
    for n in bad[:5]:
        print("crawl-bench: %s: %s: catalog sha256 %s, sha256sum %s"
              % (sys.argv[3], n, got.get(n, "(missing)"), want[n]), file=sys.stderr)
    for n in extra[:5]:
        print("crawl-bench: %s: unexpected item %s" % (sys.argv[3], n), file=sys.stderr)
    print("crawl-bench: %s: %d items, want %d" % (sys.argv[3], len(items), len(want)),
          file=sys.stderr)
    sys.exit(1)
PY
}
# check_sums SUMS WANT WHAT: the pipeline's sha256sum output matches
check_sums() {
    diff <(sed 's|  .*/|  |' "$1" | sort -k2) <(sort -k2 "$2") >"$work/sums.diff" ||
        { head -n 10 "$work/sums.diff" >&2; die1 "correctness check FAILED ($3: pipeline sha256sum differs)"; }
}

# ---------------------------------------------------------------- timed runs
declare -A times rss
# Outputs of finished rounds are moved aside, not deleted, until the end:
# deleting thousands of files just before the next round makes ext4 skip
# the freed inodes while it allocates new ones, and the next run (either
# side) then measures the file system recovering rather than itself.
mkdir -p "$work/spent"
set_aside() { [[ -e $1 ]] && mv "$1" "$work/spent/$(basename "$1").$RANDOM$RANDOM"; return 0; }
ember_crawl() {     # ember_crawl KEY CONF STORE WANT INPUTS... (STORE: in $edir)
    local key=$1 conf=$2 store=$3 want=$4 t0 s m log
    shift 4
    log=$edir/crawl-$key.log
    set_aside "${edir:?}/$store"
    warm "$@"; sync
    t0=$(now)
    if ! /usr/bin/time -f '%M' -o "$edir/time-$key" "$emberd" crawl -c "$conf" >"$log" 2>&1; then
        s=$(since "$t0")
        grep -v ': fetched ' "$log" | tail -n 20 >&2 || true
        die1 "emberd crawl failed ($key, after $s s; log above)"
    fi
    s=$(since "$t0")
    m=$(tail -n 1 "$edir/time-$key")
    grep -qE '^emberd: crawl: [0-9]+ sources: [0-9]+ fetched, 0 unchanged, 0 failed' "$log" ||
        { tail -n 5 "$log" >&2; die1 "emberd crawl: no clean summary line ($key)"; }
    check_items "$conf" "$want" "emberd $key"
    if [[ $key == big ]]; then
        big_stored=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["items"][0].get("stored", "?"))' "$edir/ls.json")
    else
        text_store_kb=$(du -sk "$edir/$store" | awk '{ print $1 }')
        text_publish=$(grep -c '^emberd: crawl: published catalog' "$log" || true)
    fi
    set_aside "${edir:?}/$store"
    times[$key.emberd]+="$s "
    rss[$key]+="$m "
    note "$key: emberd crawl $s s, peak RSS $m KiB"
}
pipeline() {        # pipeline KEY URLS WANT INPUTS...
    local key=$1 urls=$2 want=$3 d=$work/wget-$1 t0 t1 t2 t3 n
    shift 3
    set_aside "$d"; mkdir "$d"
    warm "$@"; sync
    t0=$(now)
    wget -q -i "$urls" -P "$d" 2>"$work/wget.err" ||
        { tail -n 5 "$work/wget.err" >&2; die1 "wget failed ($key)"; }
    t1=$(now)
    sha256sum "$d"/* >"$work/sums-$key"
    t2=$(now)
    gzip -6 -k "$d"/*
    t3=$(now)
    n=$(find "$d" -name '*.gz' | wc -l)
    [[ $n -eq $(wc -l <"$want") ]] || die1 "pipeline $key: $n .gz files, want $(wc -l <"$want")"
    check_sums "$work/sums-$key" "$want" "$key"
    if [[ $key == text ]]; then gz_bytes=$(cat "$d"/*.gz | wc -c); fi
    set_aside "$d"
    times[$key.pipe]+="$(calc %.3f "$t3 - $t0") "
    times[$key.wget]+="$(calc %.3f "$t1 - $t0") "
    times[$key.sha]+="$(calc %.3f "$t2 - $t1") "
    times[$key.gzip]+="$(calc %.3f "$t3 - $t2") "
    note "$key: wget $(calc %.2f "$t1 - $t0") s + sha256sum $(calc %.2f "$t2 - $t1") s + gzip -6 $(calc %.2f "$t3 - $t2") s"
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
big_stored='' text_store_kb=0 gz_bytes=0 text_publish=0
for r in $(seq "$ROUNDS"); do
    note "round $r/$ROUNDS: $NFILES x 16 KiB text"
    ember_crawl text "$edir/text.conf" store-text "$work/want-text" "${text_files[@]}"
    pipeline text "$work/urls-text" "$work/want-text" "${text_files[@]}"
    note "round $r/$ROUNDS: 512 MiB random"
    ember_crawl big "$edir/big.conf" store-big "$work/want-big" "$www/random.bin"
    pipeline big "$work/urls-big" "$work/want-big" "$www/random.bin"
done

# ---------------------------------------------------------------- /healthz under a crawl
note "emberd run: /healthz every ~20 ms while it crawls 1 GiB"
hdir=$work/healthz
mkdir "$hdir"
cp "$edir/publisher.key" "$hdir/"
cat >"$hdir/emberd.conf" <<EOF
[mirror]
name = bench
store = store
key = publisher.key
allow_root = yes
access_log = no
[https]
listen = 127.0.0.1:$port_tls
[http]
listen = 127.0.0.1:$port_http
[crawl]
interval = 24h
concurrency = 8
per_host = 8
[source huge]
url = $base/random1g.bin
EOF
cat >"$hdir/probe.py" <<'PY'
# probe.py PORT PID STOPFILE OUT: once GET /healthz first answers 200, start
# a probe every 20 ms (each on a new connection, in its own thread, so a slow
# answer does not delay the next probe: no coordinated omission) until
# STOPFILE exists; then wait for the probes in flight (5 s timeout each).
# Also samples the peak VmRSS of PID. Writes one line:
# "count errors p50_ms p99_ms max_ms window_s rss_kb first_error".
import http.client, math, os, sys, threading, time
port, pid, stop, out = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
TICK = 0.020
lat, errs = [], []

def probe():
    t0 = time.perf_counter()
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        c.request("GET", "/healthz")
        r = c.getresponse()
        r.read()
        c.close()
        ok, why = r.status == 200, "HTTP %d" % r.status
    except (OSError, http.client.HTTPException) as e:
        ok, why = False, type(e).__name__
    return ok, why, time.perf_counter() - t0

def ticked():
    ok, why, dt = probe()
    (lat if ok else errs).append(dt if ok else why)    # list.append is atomic

def vmrss():
    try:
        for line in open("/proc/%s/status" % pid):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0

rss, start = 0, time.monotonic()
while not probe()[0]:                  # not up yet: connection refused
    rss = max(rss, vmrss())
    if time.monotonic() - start > 20 or os.path.exists(stop):
        open(out, "w").write("0 0 nan nan nan 0 %d never-answered\n" % rss)
        sys.exit(1)
    time.sleep(TICK)
threads, t_up = [], time.monotonic()
tick = t_up
while not os.path.exists(stop):
    t = threading.Thread(target=ticked, daemon=True)
    t.start()
    threads.append(t)
    rss = max(rss, vmrss())
    tick += TICK
    time.sleep(max(0.0, tick - time.monotonic()))
window = time.monotonic() - t_up
for t in threads:
    t.join(6)
errs += ["no answer"] * sum(t.is_alive() for t in threads)
lat.sort()
def pct(p):
    return lat[max(0, math.ceil(p * len(lat)) - 1)] * 1000 if lat else float("nan")
with open(out, "w") as f:
    f.write("%d %d %.1f %.1f %.1f %.2f %d %s\n" % (len(lat), len(errs), pct(0.5),
            pct(0.99), lat[-1] * 1000 if lat else float("nan"), window, rss,
            errs[0].replace(" ", "_") if errs else "-"))
PY
warm "$www/random1g.bin"; sync
rm -f "$hdir/stop"
t0=$(now)
"$emberd" run -c "$hdir/emberd.conf" </dev/null >"$hdir/run.out" 2>"$hdir/run.log" &
emberd_pid=$!
python3 "$hdir/probe.py" "$port_http" "$emberd_pid" "$hdir/stop" "$hdir/probe.out" &
probe_pid=$!
crawl_s='' crawled=0
for _ in $(seq 6000); do       # 600 s at most
    kill -0 "$emberd_pid" 2>/dev/null || { tail -n 20 "$hdir/run.log" >&2; die1 "emberd run exited during the crawl"; }
    if grep -qE '^emberd: crawl: [0-9]+ sources: ' "$hdir/run.log" ||
        grep -qE '^emberd: crawl huge: (fetched|failed)' "$hdir/run.log"; then
        crawl_s=$(since "$t0"); crawled=1; break
    fi
    sleep 0.1
done
touch "$hdir/stop"
wait "$probe_pid" || true
probe_pid=''
[[ $(cat "$hdir/probe.out" 2>/dev/null) != *never-answered* ]] ||
    { tail -n 20 "$hdir/run.log" >&2; die1 "/healthz never answered on 127.0.0.1:$port_http"; }
(( crawled )) || { tail -n 20 "$hdir/run.log" >&2; die1 "emberd run: no crawl summary within 600 s"; }
grep -qE '^emberd: crawl huge: fetched ' "$hdir/run.log" ||
    { grep -E 'crawl' "$hdir/run.log" | tail -n 10 >&2; die1 "emberd run did not fetch the 1 GiB source"; }
[[ -s $hdir/probe.out ]] || die1 "the /healthz probe wrote no result"
read -r h_n h_err h_p50 h_p99 h_max h_win h_rss h_first <"$hdir/probe.out"
(( h_n > 0 )) || die1 "/healthz never answered on 127.0.0.1:$port_http"
curl -sSf "http://127.0.0.1:$port_http/catalog.json" >"$hdir/catalog.json" ||
    die1 "GET /catalog.json failed after the crawl"
python3 -c 'import json, sys
items = json.load(open(sys.argv[1]))["items"]
sys.exit(0 if [i["sha256"] for i in items if i["name"] == "random1g.bin"] == [sys.argv[2]] else 1)' \
    "$hdir/catalog.json" "$huge_sum" ||
    die1 "correctness check FAILED: /catalog.json does not list random1g.bin with sha256 $huge_sum"
# The same probes for 2 s once the crawl is over: the idle baseline.
rm -f "$hdir/stop"
python3 "$hdir/probe.py" "$port_http" "$emberd_pid" "$hdir/stop" "$hdir/idle.out" &
probe_pid=$!
sleep 2
touch "$hdir/stop"
wait "$probe_pid" || true
probe_pid=''
read -r i_n i_err i_p50 i_p99 i_max _ <"$hdir/idle.out" || die1 "the idle /healthz probe wrote no result"
kill -TERM "$emberd_pid"
run_rc=0
wait "$emberd_pid" || run_rc=$?
emberd_pid=''
note "healthz: $h_n probes, p99 $h_p99 ms; crawl $crawl_s s"

# ---------------------------------------------------------------- report
med() { local -a v; read -ra v <<<"${times[$1]}"; median "${v[@]}"; }
maxof() { local -a v; read -ra v <<<"$*"; printf '%s\n' "${v[@]}" | sort -n | tail -n 1; }
fix0() { awk -v s="$1" 'BEGIN { print (s < 0.001 ? 0.001 : s) }'; }
t_e=$(fix0 "$(med text.emberd)"); t_p=$(med text.pipe)
b_e=$(fix0 "$(med big.emberd)"); b_p=$(med big.pipe)
t_ratio=$(calc %.2f "$t_p / $t_e"); b_ratio=$(calc %.2f "$b_p / $b_e")
rss_max=$(maxof "${rss[text]} ${rss[big]}")
rss_mib() { calc %.1f "$(maxof "$1") / 1024"; }

echo
echo "emberd crawl benchmark: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs" \
    "($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || echo unknown CPU))"
echo "emberd: $emberd ($("$emberd" --version 2>/dev/null | head -n 1 || echo '?'))"
echo "origin: nginx $("$nginx_bin" -v 2>&1 | sed 's/^nginx version: nginx\///'), 1 worker, plain HTTP on 127.0.0.1, sendfile on, access_log off, gzip off"
echo "emberd crawl: one [source] per file, [crawl] concurrency 8, per_host 8, a fresh store each round"
echo "pipeline: wget -q -i urls.txt -P DIR (1 process, sequential, keep-alive); sha256sum DIR/*; gzip -6 -k DIR/* (.gz on disk)"
echo "$ROUNDS round(s) per input and side, alternating emberd / pipeline; medians shown; inputs warm in the page cache"
echo "load average before the runs: $load_before (other work on the machine skews every figure)"
echo
printf '%-20s %9s %8s %8s | %10s %7s %7s %7s %8s | %7s  %s\n' \
    input "emberd s" "MB/s" "RSS MiB" "pipeline s" "wget" "sha256" "gzip" "MB/s" ratio target
printf '%-20s %9.2f %8.1f %8.1f | %10.2f %7.2f %7.2f %7.2f %8.1f | %6.2fx  %s\n' \
    "$NFILES x 16 KiB text" "$t_e" "$(calc %.1f "$TEXT / $t_e / 1e6")" "$(rss_mib "${rss[text]}")" \
    "$t_p" "$(med text.wget)" "$(med text.sha)" "$(med text.gzip)" "$(calc %.1f "$TEXT / $t_p / 1e6")" \
    "$t_ratio" ">= 2x"
printf '%-20s %9.2f %8.1f %8.1f | %10.2f %7.2f %7.2f %7.2f %8.1f | %6.2fx  %s\n' \
    "512 MiB random" "$b_e" "$(calc %.1f "$BIG / $b_e / 1e6")" "$(rss_mib "${rss[big]}")" \
    "$b_p" "$(med big.wget)" "$(med big.sha)" "$(med big.gzip)" "$(calc %.1f "$BIG / $b_p / 1e6")" \
    "$b_ratio" ">= 10x"
echo
echo "rounds text: emberd ${times[text.emberd]}| pipeline ${times[text.pipe]}"
echo "rounds 512 MiB: emberd ${times[big.emberd]}| pipeline ${times[big.pipe]}"
echo "text: gzip -6 ratio $(calc %.2f "$TEXT / $gz_bytes"):1; emberd store $(calc %.1f "$text_store_kb / 1024") MiB on disk for $(calc %.1f "$TEXT / 1048576") MiB of text"
echo "text: emberd logged $text_publish catalog publications during the last text crawl (\"crawl: published catalog\" lines)"
echo "512 MiB random stored by emberd as: ${big_stored:-?} (compression should be skipped: raw)"
echo "peak RSS emberd crawl: $(calc %.1f "$rss_max / 1024") MiB, max over all crawls (target <= 32 MiB)"
[[ $h_first == - ]] && h_first=''
echo "/healthz during a 1 GiB crawl (emberd run, http): $h_n answers to probes started every 20 ms over $h_win s, $h_err failed${h_first:+ (first: $h_first)};" \
    "p50 $h_p50 ms, p99 $h_p99 ms, max $h_max ms (target p99 <= 100 ms)"
echo "  idle, after the crawl (same probes, 2 s): $i_n answers, $i_err failed; p50 $i_p50 ms, p99 $i_p99 ms, max $i_max ms"
echo "  crawl of 1 GiB done $crawl_s s after start; emberd run peak VmRSS $(calc %.1f "$h_rss / 1024") MiB (sampled with the probes); exit $run_rc after SIGTERM"
echo "sha256: emberd ls --json matches sha256sum for all $NFILES text files and the 512 MiB file in every round;" \
    "/catalog.json lists the 1 GiB file with its sha256"

unmet=()
awk -v v="$t_ratio" 'BEGIN { exit !(v >= 2) }' || unmet+=("text only ${t_ratio}x the pipeline < 2x")
awk -v v="$b_ratio" 'BEGIN { exit !(v >= 10) }' || unmet+=("512 MiB only ${b_ratio}x the pipeline < 10x")
(( rss_max <= 32 * 1024 )) || unmet+=("peak RSS $(calc %.1f "$rss_max / 1024") MiB > 32 MiB")
awk -v v="$h_p99" 'BEGIN { exit !(v <= 100) }' || unmet+=("/healthz p99 $h_p99 ms > 100 ms")
(( h_err == 0 )) || unmet+=("$h_err /healthz probes failed")
if [[ ${#unmet[@]} -eq 0 ]]; then
    echo "targets: all met"
else
    (IFS=';'; echo "targets: NOT met:${unmet[*]/#/ }")
fi
exit 0

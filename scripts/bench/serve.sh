#!/usr/bin/env bash
# Serving benchmark: emberd against nginx over HTTPS, on the same files.
#
# Starts emberd (`emberd run`, one thread) and nginx (one worker per emberd
# thread, so 1; the same self-signed certificate, which emberd makes at
# STORE/tls/; sendfile on, gzip_static on, access_log off) and drives them in
# turn with wrk (-t1, keep-alive connections), 5 rounds of 5 s per server and
# load, alternating nginx, emberd, nginx, emberd, ... and prints the median of
# each server:
#   - 4 KiB random object, 64 connections: requests/s;
#   - 64 MiB random object, 8 connections: MB/s (10^6 bytes/s, from wrk's
#     Transfer/sec, whose KB/MB/GB are 1024-based);
#   - ~200 KiB HTML page with Accept-Encoding: gzip, 64 connections: requests/s
#     (nginx serves page.html.gz made by gzip -9; emberd its stored deflate);
# the ratio emberd/nginx of each, and each server's peak RSS (VmRSS sampled
# every 0.2 s from /proc during the runs; for nginx master + worker).
# Target (from the issue): every ratio >= 1.0.
# Before timing, curl checks that both servers return the right bytes (sha256
# of both objects; the page gzip-encoded and gunzipping to the original).
# With two CPUs or more the server under test is pinned to CPU 0 and wrk to
# CPU 1 (taskset); the idle server sleeps.
# It is a benchmark, not a test: it exits 0 whether targets are met or not,
# 1 if a server fails to start or a correctness check fails,
# 2 if a tool it needs is missing.
#
# Usage: scripts/bench/serve.sh
#   BUILD  env: meson build dir holding emberd (default: <repo>/build)
# The work dir is a mktemp -d under /var/tmp (about 200 MiB), removed at exit,
# and both servers are stopped at exit.
set -euo pipefail

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }
case "${1:-}" in -h|--help) usage; exit 0 ;; esac
if [[ $# -gt 0 ]]; then usage >&2; exit 2; fi

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$repo/build}
emberd=$BUILD/emberd

die1() { echo "serve: $*" >&2; exit 1; }
die2() { echo "serve: $*" >&2; exit 2; }

if [[ ! -x $emberd ]]; then
    die2 "$emberd not found; build it first: cd $repo && meson setup build && ninja -C build"
fi
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx-light)
command -v curl >/dev/null || missing+=(curl)
command -v python3 >/dev/null || missing+=(python3)
command -v pgrep >/dev/null || missing+=(procps)
command -v gzip >/dev/null || missing+=(gzip)
command -v sha256sum >/dev/null || missing+=(coreutils)
if [[ ${#missing[@]} -gt 0 ]]; then
    die2 "missing tools; install them with: sudo apt-get install ${missing[*]}"
fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
licenses=/usr/share/common-licenses
compgen -G "$licenses/*" >/dev/null || die2 "$licenses is empty (HTML text source; Debian package base-files)"

ROUNDS=5
DURATION=5s
# With two CPUs or more, the server under test runs on CPU 0 and wrk on
# CPU 1 (taskset), so that neither steals the other's core and the rounds
# vary less; with one CPU they share it.
pin_server=() pin_wrk=()
if [[ $(nproc) -ge 2 ]] && command -v taskset >/dev/null; then
    pin_server=(taskset -c 0) pin_wrk=(taskset -c 1)
fi

work=$(mktemp -d /var/tmp/serve-bench.XXXXXX)
emberd_pid='' nginx_pid='' sampler_pid=''
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    local p
    for p in $sampler_pid $nginx_pid $emberd_pid; do kill "$p" 2>/dev/null || true; done
    for p in $sampler_pid $nginx_pid $emberd_pid; do wait "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
trap 'exit 141' PIPE

note() { echo "== $*" >&2; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }
sha() { sha256sum | awk '{ print $1 }'; }

# ---------------------------------------------------------------- ports
read -r port_tls port_http port_nginx < <(python3 -c '
import socket
s = [socket.socket() for _ in range(3)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')

# ---------------------------------------------------------------- files
note "work dir $work"
src=$work/src
mkdir "$src"
head -c 4096 /dev/urandom >"$src/f4k.bin"
head -c $((64 * 1024 * 1024)) /dev/urandom >"$src/f64m.bin"
# ~200 KiB of HTML: the distinct license texts, one <p> per paragraph.
mapfile -t license_files < <(find "$licenses" -maxdepth 1 -type f | sort)
LC_ALL=C awk -v target=$((200 * 1024)) '
function out(s) { print s; n += length(s) + 1 }
function esc(s) { gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s); return s }
BEGIN {
    RS = ""
    out("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">")
    out("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
    out("<title>Free software licenses</title>")
    out("<style>body{max-width:46em;margin:2em auto;padding:0 1em;font:16px/1.5 serif}h2{margin-top:2em}</style>")
    out("</head>\n<body>\n<h1>Free software licenses</h1>")
}
n >= target { exit }
FILENAME != cur {
    if (cur != "") out("</section>")
    cur = FILENAME; name = FILENAME; sub(/.*\//, "", name)
    out("<section id=\"" tolower(name) "\">\n<h2>" esc(name) "</h2>")
}
{ out("<p>" esc($0) "</p>") }
END { out("</section>\n</body>\n</html>") }' "${license_files[@]}" >"$src/page.html"

sum_4k=$(sha <"$src/f4k.bin")
sum_64m=$(sha <"$src/f64m.bin")
sum_page=$(sha <"$src/page.html")
page_size=$(stat -c %s "$src/page.html")

# ---------------------------------------------------------------- emberd
note "emberd: keygen, add, run (https :$port_tls, http :$port_http)"
edir=$work/emberd
mkdir "$edir"
cat >"$edir/emberd.conf" <<EOF
[mirror]
name = bench
store = store
key = publisher.key
allow_root = yes
access_log = no          ; like nginx's access_log off
[https]
listen = 127.0.0.1:$port_tls
[http]
listen = 127.0.0.1:$port_http
EOF
"$emberd" keygen -c "$edir/emberd.conf" >"$edir/keygen.log" 2>&1 ||
    { cat "$edir/keygen.log" >&2; die1 "emberd keygen failed"; }
"$emberd" add -c "$edir/emberd.conf" "$src/f4k.bin" "$src/f64m.bin" "$src/page.html" >"$edir/add.log" 2>&1 ||
    { cat "$edir/add.log" >&2; die1 "emberd add failed"; }
"${pin_server[@]}" "$emberd" run -c "$edir/emberd.conf" >"$edir/run.log" 2>&1 &
emberd_pid=$!
up=0
for _ in $(seq 100); do
    if curl -sSf -o /dev/null "http://127.0.0.1:$port_http/healthz" 2>"$edir/curl.err"; then up=1; break; fi
    kill -0 "$emberd_pid" 2>/dev/null || { cat "$edir/run.log" >&2; die1 "emberd run exited"; }
    sleep 0.1
done
(( up )) || { cat "$edir/run.log" "$edir/curl.err" >&2; die1 "emberd run did not answer /healthz"; }
cert=$edir/store/tls/cert.pem
certkey=$edir/store/tls/key.pem
[[ -r $cert && -r $certkey ]] || die1 "emberd made no $cert / $certkey"

threads_of() { awk '/^Threads:/ { print $2 }' "/proc/$1/status"; }
emberd_threads=$(threads_of "$emberd_pid")

# ---------------------------------------------------------------- nginx
workers=$emberd_threads
note "nginx: $workers worker(s), https :$port_nginx"
ndir=$work/nginx
mkdir -p "$ndir/html" "$ndir/logs" "$ndir/tmp"
cp "$src/f4k.bin" "$src/f64m.bin" "$src/page.html" "$ndir/html/"
gzip -9 -k "$ndir/html/page.html"
user_line=''
# The work dir is private (mktemp: mode 0700): run the worker as our user, like emberd.
[[ $EUID -eq 0 ]] && user_line="user $(id -un) $(id -gn);"
cat >"$ndir/nginx.conf" <<EOF
$user_line
worker_processes $workers;
daemon off;
pid $ndir/nginx.pid;
error_log $ndir/logs/error.log warn;
events { worker_connections 1024; }
http {
    types {
        application/octet-stream bin;
        text/html html;
    }
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    gzip_static on;
    keepalive_requests 100000;
    client_body_temp_path $ndir/tmp/body;
    proxy_temp_path $ndir/tmp/proxy;
    fastcgi_temp_path $ndir/tmp/fastcgi;
    uwsgi_temp_path $ndir/tmp/uwsgi;
    scgi_temp_path $ndir/tmp/scgi;
    server {
        listen 127.0.0.1:$port_nginx ssl;
        ssl_certificate $cert;
        ssl_certificate_key $certkey;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_cache shared:SSL:1m;
        root $ndir/html;
    }
}
EOF
"${pin_server[@]}" "$nginx_bin" -p "$ndir/" -c "$ndir/nginx.conf" -e "$ndir/logs/error.log" >"$ndir/logs/stdout.log" 2>&1 &
nginx_pid=$!
nginx_worker='' up=0
for _ in $(seq 100); do
    nginx_worker=$(pgrep -P "$nginx_pid" | tr '\n' ' ' || true)
    if [[ -n $nginx_worker ]] &&
        curl -skSf -o /dev/null "https://127.0.0.1:$port_nginx/f4k.bin" 2>"$ndir/logs/curl.err"; then
        up=1; break
    fi
    kill -0 "$nginx_pid" 2>/dev/null || { cat "$ndir/logs/error.log" "$ndir/logs/stdout.log" >&2 || true; die1 "nginx exited"; }
    sleep 0.1
done
(( up )) || { cat "$ndir/logs/error.log" "$ndir/logs/curl.err" >&2 || true; die1 "nginx did not answer"; }

# ---------------------------------------------------------------- correctness
E=https://127.0.0.1:$port_tls/files
N=https://127.0.0.1:$port_nginx
note "checking bodies with curl"
fail=()
check_sum() {   # check_sum WHAT URL WANT
    local got
    got=$(curl -skf "$2" | sha) || true
    [[ $got == "$3" ]] || fail+=("$1: sha256 $got, want $3")
}
check_sum "nginx f4k.bin" "$N/f4k.bin" "$sum_4k"
check_sum "emberd f4k.bin" "$E/f4k.bin" "$sum_4k"
check_sum "nginx f64m.bin" "$N/f64m.bin" "$sum_64m"
check_sum "emberd f64m.bin" "$E/f64m.bin" "$sum_64m"
declare -A gz_bytes
check_gzip() {  # check_gzip NAME URL
    local h=$work/$1.hdr b=$work/$1.body got
    if ! curl -skf -H 'Accept-Encoding: gzip' -D "$h" -o "$b" "$2"; then
        fail+=("$1 page.html: request failed"); return
    fi
    grep -qi '^content-encoding: *gzip' "$h" || fail+=("$1 page.html: no Content-Encoding: gzip")
    got=$(gzip -dc <"$b" 2>/dev/null | sha) || true
    [[ $got == "$sum_page" ]] || fail+=("$1 page.html: gunzipped sha256 $got, want $sum_page")
    gz_bytes[$1]=$(stat -c %s "$b")
}
check_gzip nginx "$N/page.html"
check_gzip emberd "$E/page.html"
if [[ ${#fail[@]} -gt 0 ]]; then
    printf 'serve: correctness check FAILED: %s\n' "${fail[@]}" >&2
    exit 1
fi

# ---------------------------------------------------------------- RSS sampler
# Every 0.2 s: VmRSS of emberd, of nginx's master and of its worker(s); the max
# of each (and of nginx's master + workers) and emberd's max thread count are
# written to $work/peak when they grow (read after the sampler is stopped).
status_of() {   # status_of PID: sets RSS (kB) and THR, 0 if the process is gone
    local k v rest
    RSS=0 THR=0
    { while read -r k v rest; do
        case $k in VmRSS:) RSS=$v ;; Threads:) THR=$v ;; esac
      done <"/proc/$1/status"; } 2>/dev/null || true
}
sampler() {
    local e=0 et=0 m=0 w=0 t=0 sum p rw changed
    while :; do
        changed=0
        status_of "$emberd_pid"
        (( RSS > e )) && { e=$RSS; changed=1; }
        (( THR > et )) && { et=$THR; changed=1; }
        status_of "$nginx_pid"
        sum=$RSS
        (( RSS > m )) && { m=$RSS; changed=1; }
        rw=0
        for p in $nginx_worker; do status_of "$p"; rw=$((rw + RSS)); done
        sum=$((sum + rw))
        (( rw > w )) && { w=$rw; changed=1; }
        (( sum > t )) && { t=$sum; changed=1; }
        (( changed )) && echo "$e $et $m $w $t" >"$work/peak"
        sleep 0.2
    done
}
sampler &
sampler_pid=$!

# ---------------------------------------------------------------- runs
to_mbs() {  # wrk's Transfer/sec ("1.02GB", "512.00KB", "900.00B") -> MB/s (10^6)
    awk -v s="$1" 'BEGIN {
        if (!match(s, /^[0-9.]+/)) { print "nan"; exit }
        v = substr(s, 1, RLENGTH); u = substr(s, RLENGTH + 1)
        m = 1
        if (u == "KB") m = 1024; else if (u == "MB") m = 1024^2
        else if (u == "GB") m = 1024^3; else if (u == "TB") m = 1024^4
        else if (u != "B") { print "nan"; exit }
        printf "%.1f\n", v * m / 1e6 }'
}
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
warnings=()

declare -A vals
run_load() {    # run_load KEY CONNS METRIC(rps|mbs) PATH [wrk args...]
    local key=$1 conns=$2 metric=$3 path=$4 r srv url out v errs unit=req/s
    shift 4
    [[ $metric == rps ]] || unit=MB/s
    for r in $(seq "$ROUNDS"); do
        for srv in nginx emberd; do
            if [[ $srv == nginx ]]; then url=$N/$path; else url=$E/$path; fi
            out=$work/wrk.$key.$srv.$r
            "${pin_wrk[@]}" wrk -t1 -c"$conns" -d"$DURATION" --timeout 30s "$@" "$url" >"$out" 2>&1 ||
                { cat "$out" >&2; die1 "wrk failed against $srv ($url)"; }
            if [[ $metric == rps ]]; then
                v=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
            else
                v=$(to_mbs "$(awk '/^Transfer\/sec:/ { print $2 }' "$out")")
            fi
            [[ -n $v && $v != nan ]] || { cat "$out" >&2; die1 "cannot parse wrk output ($srv, $key)"; }
            errs=$(awk '/^ *Non-2xx/ { print "non-2xx " $NF }
                /Socket errors:/ { gsub(/,/, ""); if ($4 + $6 + $8 + $10 > 0) print "socket errors " $3 " " $4 " " $5 " " $6 " " $7 " " $8 " " $9 " " $10 }' "$out" |
                tr '\n' ' ')
            [[ -z $errs ]] || warnings+=("$srv $key round $r: $errs")
            vals[$key.$srv]+="$v "
            note "$key round $r: $srv $v $unit"
        done
    done
}
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
note "wrk: $ROUNDS rounds x $DURATION per server and load, alternating nginx / emberd"
run_load 4k 64 rps f4k.bin
run_load 64m 8 mbs f64m.bin
run_load html 64 rps page.html -H 'Accept-Encoding: gzip'

kill "$sampler_pid" 2>/dev/null || true
wait "$sampler_pid" 2>/dev/null || true
sampler_pid=''
read -r pk_e pk_et pk_m pk_w pk_t <"$work/peak"

# ---------------------------------------------------------------- report
cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
echo
echo "emberd serving benchmark: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs (${cpu_model:-unknown CPU})"
echo "emberd: $emberd ($("$emberd" --version 2>/dev/null | head -n 1 || echo '?')), $emberd_threads thread(s) at start, at most $pk_et during the runs"
echo "nginx: $("$nginx_bin" -v 2>&1 | sed 's/^nginx version: //'), worker_processes $workers (= emberd's threads), sendfile on, gzip_static on, access_log off"
echo "both: HTTPS (TLSv1.2/1.3) on 127.0.0.1 with the same self-signed certificate (emberd's STORE/tls/cert.pem)"
echo "wrk -t1, keep-alive, ${ROUNDS} rounds x ${DURATION} per server, alternating; the median is shown"
echo "load average before the runs: $load_before (other work on the machine skews every figure)"
if [[ ${#pin_server[@]} -gt 0 ]]; then
    echo "CPU: the server under test is pinned to CPU 0 and wrk to CPU 1 (taskset); the idle server sleeps"
else
    echo "CPU: wrk and the server under test share $(nproc) CPU(s); the idle server sleeps"
fi
echo "page.html: $page_size bytes of HTML; gzip body nginx ${gz_bytes[nginx]} bytes (gzip -9), emberd ${gz_bytes[emberd]} bytes (its store)"
echo "checks: f4k.bin and f64m.bin sha256 match from both; page.html gzip-encoded from both, gunzips to the original"
echo
printf '%-36s %12s %12s %14s  %s\n' load nginx emberd "emberd/nginx" target
unmet=()
row() {     # row KEY LABEL
    local n e ratio
    # shellcheck disable=SC2086 # the rounds, split on spaces
    n=$(median ${vals[$1.nginx]})
    # shellcheck disable=SC2086
    e=$(median ${vals[$1.emberd]})
    ratio=$(calc %.2f "$e / $n")
    printf '%-36s %12.1f %12.1f %14s  %s\n' "$2" "$n" "$e" "$ratio" ">= 1.0"
    awk -v v="$ratio" 'BEGIN { exit !(v >= 1.0) }' || unmet+=("$2: ratio $ratio")
}
row 4k "4 KiB object, 64 conns (req/s)"
row 64m "64 MiB object, 8 conns (MB/s)"
row html "200 KiB HTML gzip, 64 conns (req/s)"
echo
for key in 4k 64m html; do
    echo "rounds $key: nginx ${vals[$key.nginx]}| emberd ${vals[$key.emberd]}"
done
echo
echo "peak RSS nginx: $(calc %.1f "$pk_t / 1024") MiB (master $(calc %.1f "$pk_m / 1024") MiB + worker $(calc %.1f "$pk_w / 1024") MiB, peaks)"
echo "peak RSS emberd: $(calc %.1f "$pk_e / 1024") MiB"
echo "(VmRSS sampled every 0.2 s from /proc during the runs; MB/s = 10^6 bytes/s)"
for w in "${warnings[@]}"; do echo "warning: $w"; done
if [[ ${#unmet[@]} -eq 0 ]]; then
    echo "targets: all met"
else
    (IFS=';'; echo "targets: NOT met:${unmet[*]/#/ }")
fi
exit 0

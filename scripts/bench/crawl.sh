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
# The HLS row (ROWS hls): ffmpeg makes, once per run, a 10-minute 720p25 VOD
# stream of 150 x 4 s MPEG-TS segments from lavfi (testsrc2 + sine; H.264
# -preset ultrafast -b:v 2M -g 100, so every segment starts on a key frame;
# AAC 128k), served by the same nginx as hls/index.m3u8 with the HLS types.
# HLS_GEN=loop (default) encodes 20 s once and repeats it 30 times with
# `ffmpeg -stream_loop 29 -c copy -f hls` (timestamps run on; a few seconds
# on 2 cores); HLS_GEN=encode encodes all 10 minutes (~100 s on 2 busy
# cores). Then ROUNDS times, alternating:
#   - emberd: `emberd crawl -c CONF` with one [source hls] (kind auto) on the
#     playlist, a fresh store each round: the item hls.ts, and hls.mp4 when
#     emberd is built with the remux feature;
#   - ffmpeg: `ffmpeg -nostdin -loglevel error -i URL -c copy out.mp4`;
#   - yt-dlp: `yt-dlp --ignore-config --no-progress --no-part -o out.ts URL`
#     (Debian's; the report says which HLS downloader it used and whether
#     it remuxed to MP4 with ffmpeg);
# the median wall time of each, and the ratio of the faster of ffmpeg and
# yt-dlp to emberd. emberd's log lines are stamped as they come, to split
# its time into the segment capture and the remux after it. Then /healthz
# under an HLS capture: the probes as above, with `emberd run` capturing the
# HLS source (until its pass is done, remux included).
# Targets (from the issues):
#   - >= 2x faster than the wget pipeline on the small files;
#   - >= 10x faster on the large file (the pipeline spends most of its time
#     deflating incompressible bytes);
#   - emberd crawl's peak RSS <= 32 MiB;
#   - /healthz p99 <= 100 ms during the 1 GiB crawl, and no failed probe;
#   - HLS: >= 2x faster than the faster of ffmpeg and yt-dlp; peak RSS
#     <= 32 MiB; /healthz p99 <= 100 ms while it captures, no failed probe.
# Correctness first: after every emberd crawl, `emberd ls --json` must list
# each file by name with the sha256 that sha256sum gives the source file;
# after every pipeline run, its sha256sum output must match too. For HLS:
# hls.ts's sha256 is that of the segments concatenated in playlist order,
# and hls.mp4 (if any) is derived_from it; ffprobe must find 2 streams and
# the playlist's duration (+-1 s) in ffmpeg's and yt-dlp's output every
# round, and in /files/hls.ts and /files/hls.mp4 as emberd run serves them.
# It is a benchmark, not a test: it exits 0 whether targets are met or not,
# 1 if emberd or nginx fails or a correctness check fails,
# 2 if a tool it needs is missing.
#
# Usage: scripts/bench/crawl.sh
#   BUILD   env: meson build dir holding emberd (default: <repo>/build)
#   ROUNDS  env: rounds per input and side (default 3)
#   ROWS    env: which parts run, comma-separated, of text (2,000 x 16 KiB),
#           big (512 MiB), huge (/healthz under the 1 GiB crawl) and hls
#           (the HLS row and its /healthz run); default text,big,huge,hls
#   HLS_GEN env: loop (default) or encode, how the HLS stream is made
#   WORKERS env: [https]/[http] workers of the /healthz runs (default 1;
#           auto: one event loop per CPU)
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
ROWS=${ROWS:-text,big,huge,hls}
HLS_GEN=${HLS_GEN:-loop}
WORKERS=${WORKERS:-1}

die1() { echo "crawl-bench: $*" >&2; exit 1; }
die2() { echo "crawl-bench: $*" >&2; exit 2; }

[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die2 "ROUNDS must be a positive integer, not '$ROUNDS'"
declare -A row=()
IFS=, read -ra rows_asked <<<"$ROWS"
for r in "${rows_asked[@]}"; do
    case $r in
    text|big|huge|hls) row[$r]=1 ;;
    *) die2 "ROWS: no row '$r' (rows: text, big, huge, hls)" ;;
    esac
done
[[ ${#row[@]} -gt 0 ]] || die2 "ROWS names no row (rows: text, big, huge, hls)"
has() { [[ -n ${row[$1]:-} ]]; }
case $HLS_GEN in loop|encode) ;; *) die2 "HLS_GEN must be loop or encode, not '$HLS_GEN'" ;; esac
if [[ ! -x $emberd ]]; then
    die2 "$emberd not found; build it first: cd $repo && meson setup build && ninja -C build"
fi
missing=()
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx-light)
[[ -x /usr/bin/time ]] || missing+=(time)
command -v curl >/dev/null || missing+=(curl)
command -v python3 >/dev/null || missing+=(python3)
command -v sha256sum >/dev/null || missing+=(coreutils)
if has text || has big; then
    command -v wget >/dev/null || missing+=(wget)
    command -v gzip >/dev/null || missing+=(gzip)
fi
if has big || has huge; then
    command -v openssl >/dev/null || missing+=(openssl)
fi
if has hls; then
    { command -v ffmpeg && command -v ffprobe; } >/dev/null || missing+=(ffmpeg)
    command -v yt-dlp >/dev/null || missing+=(yt-dlp)
fi
if [[ ${#missing[@]} -gt 0 ]]; then
    die2 "missing tools; install them with: sudo apt-get install ${missing[*]}"
fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
licenses=/usr/share/common-licenses
if has text; then
    compgen -G "$licenses/*" >/dev/null || die2 "$licenses is empty (text corpus source; Debian package base-files)"
fi
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
HLS_SECONDS=600                      # the HLS stream: 10 minutes,
HLS_PIECE=20                         # HLS_GEN=loop: this much encoded, repeated
HLS_SEGS=$((HLS_SECONDS / 4))        # 4 s segments
# run-mode log lines start with an RFC 3339 time when stderr is a file
LP='^([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z )?emberd: '

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

need_gib=2
if has text || has big || has huge; then need_gib=4; fi
avail_kb=$(df -Pk "$work" | awk 'NR == 2 { print $4 }')
if (( avail_kb < need_gib * 1024 * 1024 )); then
    die2 "need about $need_gib GiB free in $work, have $((avail_kb / 1024)) MiB"
fi

note() { echo "== $*" >&2; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }
now() { echo "$EPOCHREALTIME"; }
since() { calc %.3f "$(now) - $1"; }
warm() { cat "$@" >/dev/null; }
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# ---------------------------------------------------------------- ports
# nginx, then https and http of each `emberd run` (/healthz runs: huge, hls)
read -r port_nginx port_tls port_http port_tls2 port_http2 < <(python3 -c '
import socket
s = [socket.socket() for _ in range(5)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')

# ---------------------------------------------------------------- inputs
note "work dir $work"
www=$work/www
mkdir -p "$www"
echo ok >"$www/ping.txt"
# AES-128-CTR over zeros: incompressible and ~1 GB/s, unlike /dev/urandom.
rand() {    # rand BYTES KEY FILE
    head -c "$1" /dev/zero |
        openssl enc -aes-128-ctr -nosalt -K "$2" -iv 00000000000000000000000000000000 >"$3"
    [[ $(stat -c %s "$3") -eq $1 ]] || die1 "short random file $3"
}
if has big; then
    note "generating 512 MiB of random data"
    rand "$BIG" 0123456789abcdef0123456789abcdef "$www/random.bin"
    (cd "$www" && sha256sum random.bin) >"$work/want-big"
fi
if has huge; then
    note "generating 1 GiB of random data"
    rand "$HUGE" fedcba9876543210fedcba9876543210 "$www/random1g.bin"
    (cd "$www" && sha256sum random1g.bin) >"$work/want-huge"
    huge_sum=$(awk '{ print $1 }' "$work/want-huge")
fi

if has text; then
    note "generating $NFILES x 16 KiB of text"
    mkdir -p "$www/text"
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
    # name -> sha256 of each input, the reference for every check below
    (cd "$www/text" && sha256sum -- *.txt) >"$work/want-text"
fi

if has hls; then
    # 720p25 test pattern and a tone; a key frame every 100 frames and no
    # scene-cut ones, so the HLS muxer cuts exactly every 4 s.
    hls_src=(-f lavfi -i "testsrc2=size=1280x720:rate=25"
        -f lavfi -i "sine=frequency=440:sample_rate=48000")
    hls_enc=(-c:v libx264 -preset ultrafast -b:v 2M -g 100 -keyint_min 100
        -sc_threshold 0 -pix_fmt yuv420p -threads 2 -c:a aac -b:a 128k -ac 2)
    hls_out=(-f hls -hls_time 4 -hls_playlist_type vod
        -hls_segment_filename "$www/hls/seg%03d.ts" "$www/hls/index.m3u8")
    mkdir -p "$www/hls"
    t0=$(now)
    if [[ $HLS_GEN == encode ]]; then
        note "encoding the HLS stream: $HLS_SECONDS s of 720p25"
        hls_how="$HLS_SECONDS s encoded"
        ffmpeg -nostdin -loglevel error "${hls_src[@]}" -t "$HLS_SECONDS" "${hls_enc[@]}" \
            "${hls_out[@]}" 2>"$work/hls-gen.err" ||
            { tail -n 5 "$work/hls-gen.err" >&2; die1 "ffmpeg could not make the HLS stream"; }
    else
        # A stream copy of the piece, looped: the demuxer shifts each pass's
        # timestamps by the piece's length, so they run on.
        note "encoding $HLS_PIECE s of 720p25, looped to $HLS_SECONDS s of HLS"
        hls_how="$HLS_PIECE s encoded, then -stream_loop $((HLS_SECONDS / HLS_PIECE - 1)) -c copy"
        if ! ffmpeg -nostdin -loglevel error "${hls_src[@]}" -t "$HLS_PIECE" "${hls_enc[@]}" \
            -f mpegts "$work/hls-piece.ts" 2>"$work/hls-gen.err" ||
            ! ffmpeg -nostdin -loglevel error -stream_loop $((HLS_SECONDS / HLS_PIECE - 1)) \
                -i "$work/hls-piece.ts" -c copy "${hls_out[@]}" 2>>"$work/hls-gen.err"; then
            tail -n 5 "$work/hls-gen.err" >&2
            die1 "ffmpeg could not make the HLS stream"
        fi
        rm "$work/hls-piece.ts"
    fi
    hls_gen_s=$(since "$t0")
    mapfile -t hls_names < <(grep -v '^#' "$www/hls/index.m3u8" | grep -v '^$')
    hls_segs=("${hls_names[@]/#/$www/hls/}")
    (( ${#hls_segs[@]} == HLS_SEGS )) || die1 "the HLS stream has ${#hls_segs[@]} segments, want $HLS_SEGS"
    hls_dur=$(awk -F'[:,]' '/^#EXTINF:/ { s += $2 } END { printf "%.3f", s }' "$www/hls/index.m3u8")
    hls_bytes=$(cat "${hls_segs[@]}" | wc -c)
    # The TS capture is exactly the segments concatenated in playlist order.
    hls_sum=$(cat "${hls_segs[@]}" | sha256sum | awk '{ print $1 }')
    note "HLS stream made in $hls_gen_s s: ${#hls_segs[@]} segments, $hls_dur s, $hls_bytes bytes"
fi

base=http://127.0.0.1:$port_nginx
hls_url=$base/hls/index.m3u8
if has text; then
    for f in "${text_files[@]}"; do echo "$base/text/${f##*/}"; done >"$work/urls-text"
fi
if has big; then echo "$base/random.bin" >"$work/urls-big"; fi

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
        application/vnd.apple.mpegurl m3u8;
        video/mp2t ts;
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
    if curl -sSf -o /dev/null "$base/ping.txt" 2>"$ndir/logs/curl.err"; then up=1; break; fi
    kill -0 "$nginx_pid" 2>/dev/null || { cat "$ndir/logs/error.log" "$ndir/logs/stdout.log" >&2 || true; die1 "nginx exited"; }
    sleep 0.1
done
(( up )) || { cat "$ndir/logs/error.log" "$ndir/logs/curl.err" >&2 || true; die1 "nginx did not answer"; }
if has hls; then
    ctype=$(curl -sSf -o /dev/null -w '%{content_type}' "$hls_url") || die1 "nginx does not serve $hls_url"
    [[ $ctype == application/vnd.apple.mpegurl ]] || die1 "nginx serves the playlist as '$ctype'"
fi

# ---------------------------------------------------------------- emberd configs
edir=$work/emberd
mkdir "$edir"
mirror_conf() {
    printf '[mirror]\nname = bench\nstore = %s\nkey = publisher.key\nallow_root = yes\n' "$1"
}
if has text; then
    {
        mirror_conf store-text
        printf '[crawl]\nconcurrency = 8\nper_host = 8\n'
        for f in "${text_files[@]}"; do
            n=${f##*/}
            printf '[source t-%s]\nurl = %s/text/%s\n' "${n%.txt}" "$base" "$n"
        done
    } >"$edir/text.conf"
fi
if has big; then
    {
        mirror_conf store-big
        printf '[crawl]\nconcurrency = 8\nper_host = 8\n'
        printf '[source big]\nurl = %s/random.bin\n' "$base"
    } >"$edir/big.conf"
fi
if has hls; then
    {
        mirror_conf store-hls
        printf '[crawl]\nconcurrency = 8\nper_host = 8\n'
        printf '[source hls]\nurl = %s\n' "$hls_url"
    } >"$edir/hls.conf"
fi
mirror_conf store-key >"$edir/key.conf"
"$emberd" keygen -c "$edir/key.conf" >"$edir/keygen.log" 2>&1 ||
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
# check_hls JSON WHAT: the catalog JSON (ls --json or /catalog.json) holds
# hls.ts with the sha256 of the segments concatenated, maybe hls.mp4
# derived from it, nothing else. Prints "TS_SIZE MP4_SIZE|- TS_STORED".
check_hls() {
    python3 - "$1" "$hls_sum" "$2" <<'PY' || die1 "correctness check FAILED ($2)"
import json, sys
items = json.load(open(sys.argv[1]))["items"]
want, what = sys.argv[2], sys.argv[3]
by = {i["name"]: i for i in items}
ts, mp4, errs = by.get("hls.ts"), by.get("hls.mp4"), []
if ts is None:
    errs.append("no item hls.ts (items: %s)" % " ".join(sorted(by)[:5]))
elif ts["sha256"] != want:
    errs.append("hls.ts sha256 %s, the segments concatenated %s" % (ts["sha256"], want))
if mp4 is not None and mp4.get("derived_from") != want:
    errs.append("hls.mp4 derived_from %s, want %s" % (mp4.get("derived_from"), want))
extra = sorted(set(by) - {"hls.ts", "hls.mp4"})
if extra:
    errs.append("unexpected items: " + " ".join(extra[:5]))
for e in errs:
    print("crawl-bench: %s: %s" % (what, e), file=sys.stderr)
if errs:
    sys.exit(1)
print(ts.get("size", "?"), mp4.get("size", "?") if mp4 else "-", ts.get("stored", "?"))
PY
}
# check_sums SUMS WANT WHAT: the pipeline's sha256sum output matches
check_sums() {
    diff <(sed 's|  .*/|  |' "$1" | sort -k2) <(sort -k2 "$2") >"$work/sums.diff" ||
        { head -n 10 "$work/sums.diff" >&2; die1 "correctness check FAILED ($3: pipeline sha256sum differs)"; }
}
# check_media FILE|URL WHAT: ffprobe finds video and audio and the
# playlist's duration (+-1 s); sets media_format to ffprobe's format name.
check_media() {
    local out
    out=$(ffprobe -v error -show_entries format=duration,nb_streams,format_name \
        -of default=nw=1 "$1" 2>&1) || die1 "correctness check FAILED ($2: ffprobe: $(head -n 1 <<<"$out"))"
    awk -F= -v want="$hls_dur" -v what="$2" '
        { v[$1] = $2 }
        END {
            d = v["duration"] - want; if (d < 0) d = -d
            if (v["nb_streams"] != 2 || v["duration"] == "" || d > 1) {
                printf "crawl-bench: %s: ffprobe: %s streams, %s s; want 2, %s s\n",
                    what, v["nb_streams"], v["duration"], want > "/dev/stderr"
                exit 1
            }
        }' <<<"$out" || die1 "correctness check FAILED ($2)"
    media_format=$(sed -n 's/^format_name=//p' <<<"$out")
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
# Each of emberd's log lines with the time it arrived: where its time goes.
stamp() { local l; while IFS= read -r l; do printf '%s %s\n' "$EPOCHREALTIME" "$l"; done; }
ember_hls() {
    local log=$edir/crawl-hls.log t0 t1 s m cap post rem
    set_aside "${edir:?}/store-hls"
    warm "${hls_segs[@]}"; sync
    t0=$(now)
    if ! /usr/bin/time -f '%M' -o "$edir/time-hls" "$emberd" crawl -c "$edir/hls.conf" 2>&1 |
        stamp >"$log"; then
        s=$(since "$t0")
        tail -n 20 "$log" >&2 || true
        die1 "emberd crawl failed (hls, after $s s; log above)"
    fi
    t1=$(now)
    s=$(calc %.3f "$t1 - $t0")
    m=$(tail -n 1 "$edir/time-hls")
    grep -qE '^[0-9.]+ emberd: crawl: [0-9]+ sources: [0-9]+ fetched, 0 unchanged, 0 failed' "$log" ||
        { tail -n 5 "$log" >&2; die1 "emberd crawl: no clean summary line (hls)"; }
    # capture: start to "captured"; post: from there to the summary line
    # (remux, publish); rem: from "remuxing into" to the summary line.
    read -r cap post rem < <(awk -v t0="$t0" '
        / emberd: crawl hls: captured / && !c { c = $1 }
        / emberd: crawl hls: remuxing into / && !r { r = $1 }
        { last = $1 }
        END { printf "%.3f %.3f %.3f\n", c ? c - t0 : -1, c ? last - c : -1, r ? last - r : 0 }' "$log")
    "$emberd" ls -c "$edir/hls.conf" --json >"$edir/ls.json" 2>"$edir/ls.err" ||
        { cat "$edir/ls.err" >&2; die1 "emberd ls failed (hls)"; }
    read -r hls_ts_size hls_mp4_size hls_stored < <(check_hls "$edir/ls.json" "emberd hls")
    set_aside "${edir:?}/store-hls"
    times[hls.emberd]+="$s "
    times[hls.cap]+="$cap "
    times[hls.post]+="$post "
    times[hls.rem]+="$rem "
    rss[hls]+="$m "
    note "hls: emberd crawl $s s (segments captured at $cap s, then $post s; remux $rem s), peak RSS $m KiB"
}
ffmpeg_hls() {
    local d=$work/ffmpeg-hls t0 s
    set_aside "$d"; mkdir "$d"
    warm "${hls_segs[@]}"; sync
    t0=$(now)
    ffmpeg -nostdin -loglevel error -i "$hls_url" -c copy "$d/out.mp4" 2>"$d/err" ||
        { tail -n 5 "$d/err" >&2; die1 "ffmpeg failed (hls)"; }
    s=$(since "$t0")
    check_media "$d/out.mp4" "ffmpeg's out.mp4"
    ffmpeg_format=$media_format
    set_aside "$d"
    times[hls.ffmpeg]+="$s "
    note "hls: ffmpeg -c copy $s s"
}
ytdlp_hls() {
    local d=$work/ytdlp-hls t0 s
    set_aside "$d"; mkdir "$d"
    warm "${hls_segs[@]}"; sync
    t0=$(now)
    (cd "$d" && yt-dlp --ignore-config --no-progress --no-part -o out.ts "$hls_url") \
        >"$d/log" 2>&1 || { tail -n 5 "$d/log" >&2; die1 "yt-dlp failed (hls)"; }
    s=$(since "$t0")
    check_media "$d/out.ts" "yt-dlp's out.ts"
    ytdlp_format=$media_format
    # Without --verbose, yt-dlp names its native HLS downloader and its
    # ffmpeg post-processors, not its ffmpeg downloader.
    if grep -q '^\[hlsnative\]' "$d/log"; then
        ytdlp_how="its native HLS downloader ([hlsnative], one fragment at a time)"
    else
        ytdlp_how="ffmpeg as its downloader (no [hlsnative] line)"
    fi
    if grep -q '^\[FixupM3u8\]' "$d/log"; then
        ytdlp_how+=", then ffmpeg -c copy into MP4 ([FixupM3u8])"
    fi
    set_aside "$d"
    times[hls.ytdlp]+="$s "
    note "hls: yt-dlp $s s"
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
big_stored='' text_store_kb=0 gz_bytes=0 text_publish=0
for r in $(seq "$ROUNDS"); do
    if has text; then
        note "round $r/$ROUNDS: $NFILES x 16 KiB text"
        ember_crawl text "$edir/text.conf" store-text "$work/want-text" "${text_files[@]}"
        pipeline text "$work/urls-text" "$work/want-text" "${text_files[@]}"
    fi
    if has big; then
        note "round $r/$ROUNDS: 512 MiB random"
        ember_crawl big "$edir/big.conf" store-big "$work/want-big" "$www/random.bin"
        pipeline big "$work/urls-big" "$work/want-big" "$www/random.bin"
    fi
    if has hls; then
        note "round $r/$ROUNDS: HLS, 10 min 720p"
        ember_hls
        ffmpeg_hls
        ytdlp_hls
    fi
done

# ---------------------------------------------------------------- /healthz under a crawl
cat >"$work/probe.py" <<'PY'
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

declare -A H
# healthz_run KEY ID URL TLS HTTP DONE_RE INPUTS...: `emberd run` with one
# [source ID] on URL crawls at start while probe.py asks /healthz every
# 20 ms, until a log line matches DONE_RE; then healthz_check_KEY DIR PORT
# checks what it captured while it still serves, probe.py takes the idle
# baseline for 2 s, and SIGTERM stops it. Results in H[KEY.*].
healthz_run() {
    local key=$1 id=$2 url=$3 tls=$4 http=$5 done_re=$6 d=$work/healthz-$1 t0 crawled=0 rc=0
    local n err p50 p99 max win rssk first
    shift 6
    mkdir "$d"
    cp "$edir/publisher.key" "$d/"
    cat >"$d/emberd.conf" <<EOF
[mirror]
name = bench
store = store
key = publisher.key
allow_root = yes
access_log = no
[https]
listen = 127.0.0.1:$tls
workers = $WORKERS
[http]
listen = 127.0.0.1:$http
workers = $WORKERS
[crawl]
interval = 24h
concurrency = 8
per_host = 8
[source $id]
url = $url
EOF
    warm "$@"; sync
    rm -f "$d/stop"
    t0=$(now)
    "$emberd" run -c "$d/emberd.conf" </dev/null >"$d/run.out" 2>"$d/run.log" &
    emberd_pid=$!
    python3 "$work/probe.py" "$http" "$emberd_pid" "$d/stop" "$d/probe.out" &
    probe_pid=$!
    for _ in $(seq 6000); do       # 600 s at most
        kill -0 "$emberd_pid" 2>/dev/null || { tail -n 20 "$d/run.log" >&2; die1 "emberd run exited during the crawl ($key)"; }
        if grep -qE "$done_re" "$d/run.log"; then
            H[$key.crawl_s]=$(since "$t0"); crawled=1; break
        fi
        sleep 0.1
    done
    touch "$d/stop"
    wait "$probe_pid" || true
    probe_pid=''
    [[ $(cat "$d/probe.out" 2>/dev/null) != *never-answered* ]] ||
        { tail -n 20 "$d/run.log" >&2; die1 "/healthz never answered on 127.0.0.1:$http"; }
    (( crawled )) || { tail -n 20 "$d/run.log" >&2; die1 "emberd run: no crawl summary within 600 s ($key)"; }
    grep -qE "${LP}crawl $id: fetched " "$d/run.log" ||
        { grep -E 'crawl' "$d/run.log" | tail -n 10 >&2; die1 "emberd run did not fetch source $id"; }
    [[ -s $d/probe.out ]] || die1 "the /healthz probe wrote no result ($key)"
    read -r n err p50 p99 max win rssk first <"$d/probe.out"
    (( n > 0 )) || die1 "/healthz never answered on 127.0.0.1:$http"
    [[ $first == - ]] && first=''
    H[$key.n]=$n H[$key.err]=$err H[$key.p50]=$p50 H[$key.p99]=$p99 H[$key.max]=$max
    H[$key.win]=$win H[$key.rss]=$rssk H[$key.first]=$first
    "healthz_check_$key" "$d" "$http"
    # The same probes for 2 s once the crawl is over: the idle baseline.
    rm -f "$d/stop"
    python3 "$work/probe.py" "$http" "$emberd_pid" "$d/stop" "$d/idle.out" &
    probe_pid=$!
    sleep 2
    touch "$d/stop"
    wait "$probe_pid" || true
    probe_pid=''
    read -r n err p50 p99 max _ <"$d/idle.out" || die1 "the idle /healthz probe wrote no result ($key)"
    H[$key.i_n]=$n H[$key.i_err]=$err H[$key.i_p50]=$p50 H[$key.i_p99]=$p99 H[$key.i_max]=$max
    kill -TERM "$emberd_pid"
    wait "$emberd_pid" || rc=$?
    emberd_pid=''
    H[$key.rc]=$rc
    note "healthz ($key): ${H[$key.n]} probes, p99 ${H[$key.p99]} ms; crawl ${H[$key.crawl_s]} s"
}
# shellcheck disable=SC2317 # called by healthz_run
healthz_check_huge() {      # DIR PORT
    curl -sSf "http://127.0.0.1:$2/catalog.json" >"$1/catalog.json" ||
        die1 "GET /catalog.json failed after the crawl"
    python3 -c 'import json, sys
items = json.load(open(sys.argv[1]))["items"]
sys.exit(0 if [i["sha256"] for i in items if i["name"] == "random1g.bin"] == [sys.argv[2]] else 1)' \
        "$1/catalog.json" "$huge_sum" ||
        die1 "correctness check FAILED: /catalog.json does not list random1g.bin with sha256 $huge_sum"
}
# shellcheck disable=SC2317 # called by healthz_run
healthz_check_hls() {       # DIR PORT
    local ts mp4 _s
    curl -sSf "http://127.0.0.1:$2/catalog.json" >"$1/catalog.json" ||
        die1 "GET /catalog.json failed after the HLS capture"
    read -r ts mp4 _s < <(check_hls "$1/catalog.json" "emberd run, /catalog.json")
    [[ -n $ts ]] || die1 "correctness check FAILED (emberd run, /catalog.json)"
    check_media "http://127.0.0.1:$2/files/hls.ts" "emberd run, /files/hls.ts"
    H[hls.ts_format]=$media_format H[hls.mp4_format]=-
    if [[ $mp4 != - ]]; then
        check_media "http://127.0.0.1:$2/files/hls.mp4" "emberd run, /files/hls.mp4"
        H[hls.mp4_format]=$media_format
    fi
}

if has huge; then
    note "emberd run: /healthz every ~20 ms while it crawls 1 GiB"
    healthz_run huge huge "$base/random1g.bin" "$port_tls" "$port_http" \
        "${LP}crawl: [0-9]+ sources: |${LP}crawl huge: (fetched|failed)" "$www/random1g.bin"
fi
if has hls; then
    # Until the pass is done: the remux at its end is part of the capture.
    note "emberd run: /healthz every ~20 ms while it captures the HLS stream"
    healthz_run hls hls "$hls_url" "$port_tls2" "$port_http2" \
        "${LP}crawl: pass done: |${LP}crawl hls: failed" "${hls_segs[@]}"
fi

# ---------------------------------------------------------------- report
med() { local -a v; read -ra v <<<"${times[$1]}"; median "${v[@]}"; }
maxof() { local -a v; read -ra v <<<"$*"; printf '%s\n' "${v[@]}" | sort -n | tail -n 1; }
fix0() { awk -v s="$1" 'BEGIN { print (s < 0.001 ? 0.001 : s) }'; }
rss_mib() { calc %.1f "$(maxof "$1") / 1024"; }
rss_all=''
for k in text big; do rss_all+="${rss[$k]:-} "; done
rss_max=$(maxof "$rss_all")        # empty unless text or big ran; HLS: its own
healthz_lines() {   # KEY WHAT DONE
    local k=$1
    echo "/healthz during $2 (emberd run, http): ${H[$k.n]} answers to probes started every 20 ms over ${H[$k.win]} s, ${H[$k.err]} failed${H[$k.first]:+ (first: ${H[$k.first]})};" \
        "p50 ${H[$k.p50]} ms, p99 ${H[$k.p99]} ms, max ${H[$k.max]} ms (target p99 <= 100 ms)"
    echo "  idle, after the crawl (same probes, 2 s): ${H[$k.i_n]} answers, ${H[$k.i_err]} failed; p50 ${H[$k.i_p50]} ms, p99 ${H[$k.i_p99]} ms, max ${H[$k.i_max]} ms"
    echo "  $3 done ${H[$k.crawl_s]} s after start; emberd run peak VmRSS $(calc %.1f "${H[$k.rss]} / 1024") MiB (sampled with the probes); exit ${H[$k.rc]} after SIGTERM"
}

echo
echo "emberd crawl benchmark: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs" \
    "($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || echo unknown CPU)); ROWS=$ROWS"
echo "emberd: $emberd ($("$emberd" --version 2>/dev/null | head -n 1 || echo '?'))"
echo "origin: nginx $("$nginx_bin" -v 2>&1 | sed 's/^nginx version: nginx\///'), 1 worker, plain HTTP on 127.0.0.1, sendfile on, access_log off, gzip off"
if has text || has big; then
    echo "emberd crawl: one [source] per file, [crawl] concurrency 8, per_host 8, a fresh store each round"
    echo "pipeline: wget -q -i urls.txt -P DIR (1 process, sequential, keep-alive); sha256sum DIR/*; gzip -6 -k DIR/* (.gz on disk)"
fi
echo "$ROUNDS round(s) per input and side, alternating; medians shown; inputs warm in the page cache"
echo "load average before the runs: $load_before (other work on the machine skews every figure)"
unmet=()
if has text || has big; then
    echo
    printf '%-20s %9s %8s %8s | %10s %7s %7s %7s %8s | %7s  %s\n' \
        input "emberd s" "MB/s" "RSS MiB" "pipeline s" "wget" "sha256" "gzip" "MB/s" ratio target
fi
if has text; then
    t_e=$(fix0 "$(med text.emberd)"); t_p=$(med text.pipe)
    t_ratio=$(calc %.2f "$t_p / $t_e")
    printf '%-20s %9.2f %8.1f %8.1f | %10.2f %7.2f %7.2f %7.2f %8.1f | %6.2fx  %s\n' \
        "$NFILES x 16 KiB text" "$t_e" "$(calc %.1f "$TEXT / $t_e / 1e6")" "$(rss_mib "${rss[text]}")" \
        "$t_p" "$(med text.wget)" "$(med text.sha)" "$(med text.gzip)" "$(calc %.1f "$TEXT / $t_p / 1e6")" \
        "$t_ratio" ">= 2x"
    awk -v v="$t_ratio" 'BEGIN { exit !(v >= 2) }' || unmet+=("text only ${t_ratio}x the pipeline < 2x")
fi
if has big; then
    b_e=$(fix0 "$(med big.emberd)"); b_p=$(med big.pipe)
    b_ratio=$(calc %.2f "$b_p / $b_e")
    printf '%-20s %9.2f %8.1f %8.1f | %10.2f %7.2f %7.2f %7.2f %8.1f | %6.2fx  %s\n' \
        "512 MiB random" "$b_e" "$(calc %.1f "$BIG / $b_e / 1e6")" "$(rss_mib "${rss[big]}")" \
        "$b_p" "$(med big.wget)" "$(med big.sha)" "$(med big.gzip)" "$(calc %.1f "$BIG / $b_p / 1e6")" \
        "$b_ratio" ">= 10x"
    awk -v v="$b_ratio" 'BEGIN { exit !(v >= 10) }' || unmet+=("512 MiB only ${b_ratio}x the pipeline < 10x")
fi
if has text || has big; then
    echo
    if has text; then
        echo "rounds text: emberd ${times[text.emberd]}| pipeline ${times[text.pipe]}"
    fi
    if has big; then
        echo "rounds 512 MiB: emberd ${times[big.emberd]}| pipeline ${times[big.pipe]}"
    fi
    if has text; then
        echo "text: gzip -6 ratio $(calc %.2f "$TEXT / $gz_bytes"):1; emberd store $(calc %.1f "$text_store_kb / 1024") MiB on disk for $(calc %.1f "$TEXT / 1048576") MiB of text"
        echo "text: emberd logged $text_publish catalog publications during the last text crawl (\"crawl: published catalog\" lines)"
    fi
    if has big; then
        echo "512 MiB random stored by emberd as: ${big_stored:-?} (compression should be skipped: raw)"
    fi
fi
if has hls; then
    h_e=$(fix0 "$(med hls.emberd)"); h_f=$(med hls.ffmpeg); h_y=$(med hls.ytdlp)
    if awk -v f="$h_f" -v y="$h_y" 'BEGIN { exit !(f <= y) }'; then
        h_o=$h_f h_who=ffmpeg
    else
        h_o=$h_y h_who=yt-dlp
    fi
    h_ratio=$(calc %.2f "$h_o / $h_e")
    if [[ $hls_mp4_size == - ]]; then
        hls_items="hls.ts only (built without the remux feature)"
    else
        hls_items="hls.ts ($hls_ts_size bytes, stored $hls_stored) and hls.mp4 ($hls_mp4_size bytes, remuxed, derived_from hls.ts)"
    fi
    echo
    echo "HLS: $((HLS_SECONDS / 60)) min 720p25 VOD, ${#hls_segs[@]} x 4 s MPEG-TS segments, $hls_bytes bytes, $hls_dur s (H.264 ultrafast 2 Mb/s, key frame every 4 s; AAC 128 kb/s)"
    echo "  made once with ffmpeg in $hls_gen_s s ($hls_how, -threads 2); served by the same nginx"
    echo "  emberd crawl: one [source hls], kind auto, [crawl] concurrency 8, per_host 8, a fresh store each round; gives $hls_items"
    echo "  ffmpeg: ffmpeg -nostdin -loglevel error -i URL -c copy out.mp4 (out: $ffmpeg_format)"
    echo "  yt-dlp $(yt-dlp --version 2>/dev/null || echo '?'): yt-dlp --ignore-config --no-progress --no-part -o out.ts URL; used $ytdlp_how (out: $ytdlp_format)"
    echo
    printf '%-20s %9s %8s %8s | %9s %9s %8s | %7s  %s\n' \
        input "emberd s" "MB/s" "RSS MiB" "ffmpeg s" "yt-dlp s" "MB/s" ratio target
    printf '%-20s %9.2f %8.1f %8.1f | %9.2f %9.2f %8.1f | %6.2fx  %s\n' \
        "HLS 10 min 720p" "$h_e" "$(calc %.1f "$hls_bytes / $h_e / 1e6")" "$(rss_mib "${rss[hls]}")" \
        "$h_f" "$h_y" "$(calc %.1f "$hls_bytes / $h_o / 1e6")" "$h_ratio" ">= 2x the faster ($h_who)"
    echo
    echo "rounds HLS: emberd ${times[hls.emberd]}| ffmpeg ${times[hls.ffmpeg]}| yt-dlp ${times[hls.ytdlp]}"
    echo "HLS emberd, from its log lines' arrival (medians): segments captured $(med hls.cap) s after start;" \
        "then $(med hls.post) s to the end, of which the remux (\"remuxing into\" to the end) $(med hls.rem) s"
    awk -v v="$h_ratio" 'BEGIN { exit !(v >= 2) }' ||
        unmet+=("HLS only ${h_ratio}x the faster of ffmpeg and yt-dlp ($h_who) < 2x")
    (( $(maxof "${rss[hls]}") <= 32 * 1024 )) || unmet+=("HLS peak RSS $(rss_mib "${rss[hls]}") MiB > 32 MiB")
fi
echo
if [[ -n $rss_max ]]; then
    echo "peak RSS emberd crawl: $(calc %.1f "$rss_max / 1024") MiB, max over the text and 512 MiB crawls (target <= 32 MiB)"
    (( rss_max <= 32 * 1024 )) || unmet+=("peak RSS $(calc %.1f "$rss_max / 1024") MiB > 32 MiB")
fi
if has huge; then
    healthz_lines huge "a 1 GiB crawl" "crawl of 1 GiB"
    awk -v v="${H[huge.p99]}" 'BEGIN { exit !(v <= 100) }' || unmet+=("/healthz p99 ${H[huge.p99]} ms > 100 ms")
    [[ ${H[huge.err]} -eq 0 ]] || unmet+=("${H[huge.err]} /healthz probes failed")
fi
if has hls; then
    healthz_lines hls "an HLS capture" "HLS capture (pass done, remux included)"
    awk -v v="${H[hls.p99]}" 'BEGIN { exit !(v <= 100) }' ||
        unmet+=("/healthz p99 ${H[hls.p99]} ms > 100 ms during the HLS capture")
    [[ ${H[hls.err]} -eq 0 ]] || unmet+=("${H[hls.err]} /healthz probes failed during the HLS capture")
fi
if has text && has big; then
    echo "sha256: emberd ls --json matches sha256sum for all $NFILES text files and the 512 MiB file in every round"
elif has text; then
    echo "sha256: emberd ls --json matches sha256sum for all $NFILES text files in every round"
elif has big; then
    echo "sha256: emberd ls --json matches sha256sum for the 512 MiB file in every round"
fi
has huge && echo "sha256: /catalog.json lists the 1 GiB file with its sha256"
if has hls; then
    echo "HLS: in every round hls.ts's sha256 = sha256 of the segments concatenated in playlist order$([[ $hls_mp4_size != - ]] && echo ", hls.mp4 derived_from it");" \
        "ffprobe: 2 streams, ${hls_dur} s +- 1 in ffmpeg's and yt-dlp's output and in emberd run's /files/hls.ts (${H[hls.ts_format]})$([[ ${H[hls.mp4_format]} != - ]] && echo " and /files/hls.mp4 (${H[hls.mp4_format]})")"
fi

if [[ ${#unmet[@]} -eq 0 ]]; then
    echo "targets: all met"
else
    (IFS=';'; echo "targets: NOT met:${unmet[*]/#/ }")
fi
exit 0

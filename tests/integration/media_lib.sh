# Real media for the page, feed, HLS and resolver tests, made with ffmpeg at
# test time, and the media origin that serves them. Sourced after lib.sh
# (and after server_lib.sh / crawl_lib.sh when a test uses them: this file
# chains onto the EXIT trap that is set when it is sourced, so it comes
# last).
#
#   media_make                 make the media set in $MEDIA (once: it is
#                              reused when complete) and set the CLIP_* /
#                              HLS_* facts below
#   media_www DIR              a served folder: DIR/media is the set, linked
#                              (hard links where possible, else copied), so
#                              a test may add its own pages beside it
#   start_media_origin DIR     media_origin.py serving DIR on a free port;
#                              sets MORIGIN (http://127.0.0.1:PORT),
#                              MORIGIN_PID, MLOG (its request log) and
#                              MFAULTS (its faults file); stopped at exit
#   media_faults JSON          replace the origin's faults (atomically)
#   mlog_count REGEX           request log lines whose TARGET matches REGEX
#                              (grep -E on the second field, anchored)
#   mlog_lines REGEX           those lines
#   probe_duration FILE        the container's duration in seconds (ffprobe)
#   probe_streams FILE         its streams, one "TYPE CODEC [WxH]" line each
#   probe_size FILE            the first video stream's WxH
#   dur_close A B              0 when |A - B| <= 0.1
#
# $MEDIA is ${EMBERD_MEDIA_CACHE:-$T/media}: with EMBERD_MEDIA_CACHE set
# (tests/meson.build sets it in the build folder), several tests and runs
# share one set; it is made under a lock, into a temp folder renamed into
# place, so a reader never sees half of it, and made again when this file
# has changed since (its sha256 is the set's stamp). Tests link the files
# into their own folder and never change them in place.
#
# The set (paths relative to $MEDIA):
#   clip.mp4     H.264 + AAC, 160x120, 10 fps, 12 s, a key frame a second,
#                moov first
#   clip.webm    VP9 + Opus, the same picture
#   trailer.mp4  H.264 + AAC, 6 s, another picture
#   song.mp3 interview.mp3 episode1.mp3 episode2.mp3 episode3.mp3
#                MP3s of 3 s, each a different tone (different bytes)
#   hls/ts/      index.m3u8: MPEG-TS VOD of clip.mp4, 1 s segments seg0.ts...
#                also sample-aes.m3u8: the same with a hand-written
#                EXT-X-KEY METHOD=SAMPLE-AES
#   hls/fmp4/    index.m3u8: fMP4 VOD (init.mp4 + seg0.m4s...), 2 s segments
#   hls/single/  index.m3u8: one all.ts addressed by EXT-X-BYTERANGE
#   hls/aes/     index.m3u8: AES-128 (ffmpeg's), key aes.key, IV=0x0...0 given
#   hls/aesseq/  index.m3u8: AES-128 without IV (the sequence number, from 5),
#                hls/ts's segments encrypted by openssl
#   hls/disc/    index.m3u8: clip.mp4's first 6 s, EXT-X-DISCONTINUITY, then
#                trailer.mp4 (timestamps continue, so the joined capture
#                has one time line)
#   hls/master/  master.m3u8: three variants v0 (320x240), v1 (160x120),
#                v2 (96x72), each vN/index.m3u8 with TS segments
#   hls/audio/   master.m3u8: one video-only variant (video/index.m3u8) whose
#                audio is the rendition EXT-X-MEDIA TYPE=AUDIO audio/index.m3u8
#   hls/*.ts.ref the captures as the behaviour defines them, made here for
#                reference: the segments concatenated (and decrypted)
#
# Facts set by media_make: CLIP_DUR (of clip.mp4), DISC_DUR (of hls/disc's
# content), MASTER_BW (the three BANDWIDTH values, "v0 v1 v2" order),
# the master's sizes are 320x240, 160x120, 96x72 in that order.

MEDIA=${EMBERD_MEDIA_CACHE:-$T/media}
MORIGIN=
MORIGIN_PID=
MLOG="$T/media-origin.log"
MFAULTS="$T/media-faults.json"

eval "set -- $(trap -p EXIT)"
MEDIA_PREV_EXIT=${3:-}
set --

media_cleanup() {
	if [ -n "$MORIGIN_PID" ]; then
		kill "$MORIGIN_PID" 2>/dev/null || true
		wait "$MORIGIN_PID" 2>/dev/null || true
	fi
	eval "$MEDIA_PREV_EXIT"
}
trap media_cleanup EXIT

command -v ffmpeg >/dev/null || fail "ffmpeg is not installed (apt-get install ffmpeg)"
command -v ffprobe >/dev/null || fail "ffprobe is not installed (apt-get install ffmpeg)"

# ff ARGS...: one ffmpeg run; a failure ends media_build's subshell (errexit
# does not hold there: it runs on the left of a ||).
ff() {
	ffmpeg -nostdin -hide_banner -loglevel error -y "$@" ||
		{ echo "media: ffmpeg $* failed" >&2; exit 1; }
}

probe_duration() {
	ffprobe -v error -show_entries format=duration -of csv=p=0 "$1"
}

probe_streams() {
	ffprobe -v error -show_entries stream=codec_type,codec_name,width,height \
		-of csv=p=0 "$1" | awk -F, '{ if ($3 != "") print $2, $1, $3 "x" $4; else print $2, $1 }'
}

probe_size() {
	ffprobe -v error -select_streams v:0 -show_entries stream=width,height \
		-of csv=p=0:s=x "$1"
}

dur_close() {
	python3 -c 'import sys; sys.exit(0 if abs(float(sys.argv[1]) - float(sys.argv[2])) <= 0.1 else 1)' "$1" "$2"
}

# The segments a media playlist names, in order, as local paths.
playlist_uris() {
	grep -v '^#' "$1" | grep -v '^[[:space:]]*$'
}

# media_build DIR: make the whole set in DIR (a fresh folder). ffmpeg's
# start costs a quarter of a second here, so one run encodes every source
# and a second cuts every HLS playlist by stream copy.
media_build() {
	local d=$1 i
	mkdir -p "$d/hls/ts" "$d/hls/fmp4" "$d/hls/single" "$d/hls/aes" "$d/hls/disc" \
		"$d/hls/master" "$d/hls/audio/video" "$d/hls/audio/audio"
	# A key frame every second (-g 10 at 10 fps), so HLS can cut 1 s
	# segments by stream copy; audio a plain tone per file.
	local x264="-c:v libx264 -preset ultrafast -g 10 -pix_fmt yuv420p"
	local mp3s=() lavfi=() n
	i=0
	for n in song interview episode1 episode2 episode3; do
		lavfi+=(-f lavfi -i "sine=frequency=$((350 + 50 * i)):duration=3")
		mp3s+=(-map "$((4 + i)):a" -c:a libmp3lame -b:a 32k "$d/$n.mp3")
		i=$((i + 1))
	done
	# shellcheck disable=SC2086
	ff -f lavfi -i testsrc=duration=12:size=160x120:rate=10 \
		-f lavfi -i sine=frequency=440:duration=12:sample_rate=44100 \
		-f lavfi -i smptebars=duration=6:size=160x120:rate=10 \
		-f lavfi -i sine=frequency=660:duration=6:sample_rate=44100 \
		"${lavfi[@]}" \
		-map 0:v -map 1:a $x264 -c:a aac -b:a 48k -ac 1 -movflags +faststart "$d/clip.mp4" \
		-map 0:v -map 1:a -c:v libvpx-vp9 -deadline realtime -cpu-used 8 -b:v 100k -g 10 \
			-c:a libopus -b:a 32k "$d/clip.webm" \
		-map 2:v -map 3:a $x264 -c:a aac -b:a 48k -ac 1 -movflags +faststart "$d/trailer.mp4" \
		"${mp3s[@]}" \
		-map 0:v -map 1:a -map 0:v -map 1:a -map 0:v -map 1:a $x264 -c:a aac -ac 1 \
			-filter:v:0 scale=320:240 -b:v:0 300k -filter:v:1 scale=160:120 -b:v:1 120k \
			-filter:v:2 scale=96:72 -b:v:2 40k -b:a 32k \
			-var_stream_map "v:0,a:0 v:1,a:1 v:2,a:2" -master_pl_name master.m3u8 \
			-f hls -hls_time 2 -hls_playlist_type vod \
			-hls_segment_filename "$d/hls/master/v%v/seg%d.ts" "$d/hls/master/v%v/index.m3u8"

	head -c 16 /dev/urandom >"$d/hls/aes/aes.key"
	printf 'aes.key\n%s\n' "$d/hls/aes/aes.key" >"$T/keyinfo.$$"
	local hls=(-f hls -hls_playlist_type vod)
	ff -i "$d/clip.mp4" -i "$d/trailer.mp4" \
		-map 0 -c copy "${hls[@]}" -hls_time 1 \
			-hls_segment_filename "$d/hls/ts/seg%d.ts" "$d/hls/ts/index.m3u8" \
		-map 0 -c copy "${hls[@]}" -hls_time 2 -hls_segment_type fmp4 \
			-hls_fmp4_init_filename init.mp4 \
			-hls_segment_filename "$d/hls/fmp4/seg%d.m4s" "$d/hls/fmp4/index.m3u8" \
		-map 0 -c copy "${hls[@]}" -hls_time 2 -hls_flags single_file \
			-hls_segment_filename "$d/hls/single/all.ts" "$d/hls/single/index.m3u8" \
		-map 0 -c copy "${hls[@]}" -hls_time 2 -hls_key_info_file "$T/keyinfo.$$" \
			-hls_segment_filename "$d/hls/aes/seg%d.ts" "$d/hls/aes/index.m3u8" \
		-map 0 -c copy -t 6 "${hls[@]}" -hls_time 2 \
			-hls_segment_filename "$d/hls/disc/a%d.ts" "$d/hls/disc/a.m3u8" \
		-map 1 -c copy -output_ts_offset 6 "${hls[@]}" -hls_time 2 \
			-hls_segment_filename "$d/hls/disc/b%d.ts" "$d/hls/disc/b.m3u8" \
		-map 0:v -c copy "${hls[@]}" -hls_time 2 \
			-hls_segment_filename "$d/hls/audio/video/seg%d.ts" "$d/hls/audio/video/index.m3u8" \
		-map 0:a -c copy "${hls[@]}" -hls_time 2 \
			-hls_segment_filename "$d/hls/audio/audio/seg%d.ts" "$d/hls/audio/audio/index.m3u8"
	rm -f "$T/keyinfo.$$"

	# SAMPLE-AES: the TS playlist with the DRM tag written in by hand.
	awk '/^#EXTINF/ && !done { print "#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"sa.key\",KEYFORMAT=\"identity\""; done = 1 } { print }' \
		"$d/hls/ts/index.m3u8" >"$d/hls/ts/sample-aes.m3u8"
	head -c 16 /dev/urandom >"$d/hls/ts/sa.key"

	# A discontinuity: two VOD playlists joined by hand; the second's
	# timestamps start where the first's end.
	{
		grep -v -e '^#EXT-X-ENDLIST' "$d/hls/disc/a.m3u8"
		echo "#EXT-X-DISCONTINUITY"
		sed -n '/^#EXTINF/,$p' "$d/hls/disc/b.m3u8"
	} >"$d/hls/disc/index.m3u8"
	rm "$d/hls/disc/a.m3u8" "$d/hls/disc/b.m3u8"

	# A variant whose audio is a separate rendition.
	cat >"$d/hls/audio/master.m3u8" <<'M3U'
#EXTM3U
#EXT-X-VERSION:3
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="main",LANGUAGE="en",DEFAULT=YES,AUTOSELECT=YES,URI="audio/index.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=200000,RESOLUTION=160x120,CODECS="avc1.42c00c,mp4a.40.2",AUDIO="aud"
video/index.m3u8
M3U

	# AES-128 without an IV attribute (ffmpeg always writes one): the
	# IV is the media sequence number, which starts at 5 here.
	mkdir "$d/hls/aesseq"
	head -c 16 /dev/urandom >"$d/hls/aesseq/aes.key"
	python3 - "$d/hls/ts" "$d/hls/aesseq" <<'PY' || { echo "media: aesseq failed" >&2; exit 1; }
import os, subprocess, sys
ts, out = sys.argv[1], sys.argv[2]
key = open(os.path.join(out, "aes.key"), "rb").read().hex()
# The segments of the plain TS playlist (1 s each), encrypted.
lines = open(os.path.join(ts, "index.m3u8")).read().splitlines()
pl, seq = [], 5
for ln in lines:
    if ln.startswith("#EXT-X-MEDIA-SEQUENCE"):
        pl.append("#EXT-X-MEDIA-SEQUENCE:%d" % seq)
    elif ln.startswith("#EXTINF") and not any(l.startswith("#EXT-X-KEY") for l in pl):
        pl += ['#EXT-X-KEY:METHOD=AES-128,URI="aes.key"', ln]
    elif ln and not ln.startswith("#"):
        n = len([l for l in pl if l and not l.startswith("#")])
        data = open(os.path.join(ts, ln), "rb").read()
        enc = subprocess.run(["openssl", "aes-128-cbc", "-K", key, "-iv", "%032x" % (seq + n)],
                             input=data, stdout=subprocess.PIPE, check=True).stdout
        open(os.path.join(out, ln), "wb").write(enc)
        pl.append(ln)
    else:
        pl.append(ln)
open(os.path.join(out, "index.m3u8"), "w").write("\n".join(pl) + "\n")
PY

	# Reference captures: what ID.ts / ID.mp4 must hold.
	media_concat "$d/hls" \
		ts/index.m3u8 ts.ts.ref aes/index.m3u8 aes.ts.ref aesseq/index.m3u8 aesseq.ts.ref \
		disc/index.m3u8 disc.ts.ref single/index.m3u8 single.ts.ref fmp4/index.m3u8 fmp4.mp4.ref \
		master/v0/index.m3u8 master-v0.ts.ref master/v1/index.m3u8 master-v1.ts.ref \
		master/v2/index.m3u8 master-v2.ts.ref \
		audio/video/index.m3u8 audio-video.ts.ref audio/audio/index.m3u8 audio-audio.ts.ref
}

# media_concat DIR PLAYLIST OUT...: for each pair (paths under DIR), the
# playlist's media (its EXT-X-MAP first), decrypted with its AES-128 key,
# concatenated into OUT. One python3 run for them all.
media_concat() {
	python3 - "$@" <<'PY' || { echo "media: cannot join segments" >&2; exit 1; }
import os, re, subprocess, sys
top, pairs = sys.argv[1], sys.argv[2:]
for pl, out in zip(pairs[0::2], pairs[1::2]):
    pl, out = os.path.join(top, pl), os.path.join(top, out)
    base = os.path.dirname(pl)
    seq, key, iv, br, next_off = 0, None, None, None, {}
    with open(out, "wb") as o:
        for ln in open(pl).read().splitlines():
            if ln.startswith("#EXT-X-MEDIA-SEQUENCE:"):
                seq = int(ln.split(":")[1])
            elif ln.startswith("#EXT-X-MAP:"):
                o.write(open(os.path.join(base, re.search(r'URI="([^"]+)"', ln).group(1)), "rb").read())
            elif ln.startswith("#EXT-X-KEY:"):
                key = None
                if "METHOD=NONE" not in ln:
                    key = open(os.path.join(base, re.search(r'URI="([^"]+)"', ln).group(1)), "rb").read()
                    m = re.search(r"IV=0[xX]([0-9a-fA-F]+)", ln)
                    iv = m.group(1) if m else None
            elif ln.startswith("#EXT-X-BYTERANGE:"):
                n, _, off = ln.split(":")[1].partition("@")
                br = (int(n), int(off) if off else None)
            elif ln and not ln.startswith("#"):
                data = open(os.path.join(base, ln), "rb").read()
                if br:
                    n, off = br
                    off = next_off.get(ln, 0) if off is None else off
                    data = data[off:off + n]
                    next_off[ln] = off + n
                    br = None
                if key:
                    data = subprocess.run(["openssl", "aes-128-cbc", "-d", "-K", key.hex(),
                                           "-iv", iv or "%032x" % seq],
                                          input=data, stdout=subprocess.PIPE, check=True).stdout
                o.write(data)
                seq += 1
PY
}

media_facts() {
	CLIP_DUR=$(probe_duration "$MEDIA/clip.mp4")
	DISC_DUR=$(probe_duration "$MEDIA/hls/disc.ts.ref")
	MASTER_BW=$(grep -o 'BANDWIDTH=[0-9]*' "$MEDIA/hls/master/master.m3u8" | cut -d= -f2 | tr '\n' ' ')
	MASTER_BW=${MASTER_BW% }
}

media_make() {
	local t0 tmp stamp
	t0=$(date +%s%N)
	stamp=$(sha256sum <"${BASH_SOURCE[0]}" | cut -d' ' -f1)
	mkdir -p "$(dirname "$MEDIA")"
	(
		flock 9
		[ "$(cat "$MEDIA/.complete" 2>/dev/null)" = "$stamp" ] && exit 0
		tmp=$(mktemp -d "$MEDIA.tmp.XXXXXX")
		media_build "$tmp" || { rm -rf "$tmp"; exit 1; }
		echo "$stamp" >"$tmp/.complete"
		rm -rf "$MEDIA"
		mv "$tmp" "$MEDIA"
	) 9>"$MEDIA.lock" || fail "making the media set with ffmpeg failed"
	media_facts
	MEDIA_SECONDS=$(( ($(date +%s%N) - t0) / 1000000 ))
	echo "media: set ready in $MEDIA ($MEDIA_SECONDS ms)"
}

media_www() {
	mkdir -p "$1"
	cp -al "$MEDIA" "$1/media" 2>/dev/null || cp -a "$MEDIA" "$1/media"
}

start_media_origin() {
	local pf="$T/media-origin.port" i
	rm -f "$pf"
	: >>"$MLOG"
	[ -e "$MFAULTS" ] || echo '{}' >"$MFAULTS"
	python3 "$(dirname "${BASH_SOURCE[0]}")/media_origin.py" --root "$1" \
		--port-file "$pf" --log "$MLOG" --faults "$MFAULTS" \
		</dev/null >>"$T/media-origin.out" 2>>"$T/media-origin.err" &
	MORIGIN_PID=$!
	for i in $(seq 1 200); do
		[ -s "$pf" ] && break
		kill -0 "$MORIGIN_PID" 2>/dev/null ||
			{ cat "$T/media-origin.err" >&2; fail "media_origin.py exited at start"; }
		sleep 0.05
	done
	[ -s "$pf" ] || fail "media_origin.py did not write its port within 10 s"
	MORIGIN="http://127.0.0.1:$(cat "$pf")"
}

media_faults() {
	printf '%s\n' "$1" >"$MFAULTS.tmp"
	mv "$MFAULTS.tmp" "$MFAULTS"
}

mlog_lines() {
	MLOG_RE="^($1)\$" awk '$2 ~ ENVIRON["MLOG_RE"]' "$MLOG"
}

mlog_count() {
	mlog_lines "$1" | wc -l
}

# mlog_begun REGEX: the targets of requests received, from $MLOG.begun
# (logged at receipt, so a request whose answer was still being delayed
# counts too).
mlog_begun() {
	MLOG_RE="^($1)\$" awk '$2 ~ ENVIRON["MLOG_RE"] { print $2 }' "$MLOG.begun"
}

# assert_items EXPECT: `emberd ls --json` lists exactly the items EXPECT
# names (no more, no fewer), each as described. EXPECT has one line per
# item, tab-separated: NAME PAGE TITLE DERIVED_FROM FILE [DESCRIPTION
# [PUBLISHED]], where a field is "*" (not checked), "-" (the key must be
# absent), "@ITEM" (derived_from: the sha256 of catalog item ITEM), a
# value separated by "|" (one of those values; "-" among them: or absent),
# or the value itself. FILE: a local file whose sha256 and size the item
# must have. Lines starting with # are skipped. The listing is kept in
# $T/ls.json.
assert_items() {
	"$EMBERD" ls -c "$CONF" --json >"$T/ls.json" 2>"$T/ls.err" ||
		{ cat "$T/ls.err"; fail "emberd ls --json failed"; }
	python3 - "$T/ls.json" "$1" <<'PY' || fail "the catalog's items are not the expected set (above)"
import hashlib, json, os, sys
items = {i["name"]: i for i in json.load(open(sys.argv[1]))["items"]}
want, bad = {}, []
for ln in open(sys.argv[2], encoding="utf-8"):
    ln = ln.rstrip("\n")
    if not ln or ln.startswith("#"):
        continue
    f = ln.split("\t")
    want[f[0]] = f[1:]
extra = sorted(set(items) - set(want))
missing = sorted(set(want) - set(items))
if extra:
    bad.append("items not expected: %s" % extra)
if missing:
    bad.append("items missing: %s" % missing)
def check(name, key, spec, val):
    if spec == "*":
        return
    if spec.startswith("@"):
        ref = items.get(spec[1:], {}).get("sha256")
        if val != ref or ref is None:
            bad.append("%s: %s is %r, want the sha256 of %s (%r)" % (name, key, val, spec[1:], ref))
        return
    ok = spec.split("|")
    if (val is None and "-" in ok) or (val is not None and str(val) in ok):
        return
    bad.append("%s: %s is %r, want %s" % (name, key, val, " or ".join("absent" if o == "-" else repr(o) for o in ok)))
for name, f in want.items():
    i = items.get(name)
    if i is None:
        continue
    f += ["*"] * (6 - len(f))
    page, title, der, path, desc, pub = f[:6]
    check(name, "page", page, i.get("page"))
    check(name, "title", title, i.get("title"))
    check(name, "derived_from", der, i.get("derived_from"))
    check(name, "description", desc, i.get("description"))
    check(name, "published", pub, i.get("published"))
    if path != "*":
        data = open(path, "rb").read()
        if i.get("sha256") != hashlib.sha256(data).hexdigest() or i.get("size") != len(data):
            bad.append("%s: sha256/size %s/%s, want those of %s (%s/%d)" % (
                name, i.get("sha256"), i.get("size"), path, hashlib.sha256(data).hexdigest(), len(data)))
for b in bad:
    print(b)
if bad:
    print("--- the catalog's items:")
    for n, i in sorted(items.items()):
        print("  %s" % json.dumps({k: i.get(k) for k in ("name", "page", "title", "derived_from", "size", "type")}, ensure_ascii=False))
sys.exit(1 if bad else 0)
PY
}

# assert_mirror_copies NAME=FILE...: each /files/NAME from the running
# mirror (server_lib.sh) is byte-identical to FILE (curl, sha256sum).
assert_mirror_copies() {
	local a name file got want
	for a in "$@"; do
		name=${a%%=*}
		file=${a#*=}
		curl_https -o "$T/copy" "$HTTPS_URL/files/$name" || server_fail "GET /files/$name failed"
		got=$(sha256sum <"$T/copy" | cut -d' ' -f1)
		want=$(sha256sum <"$file" | cut -d' ' -f1)
		[ "$got" = "$want" ] || fail "/files/$name: sha256 $got, want $want (of $file)"
	done
}

# chrome_play URL [SECONDS]: chrome_play.py must see the page's video play.
chrome_play() {
	command -v chromium >/dev/null || fail "chromium is not installed (apt-get install chromium)"
	python3 "$(dirname "${BASH_SOURCE[0]}")/chrome_play.py" "$@" >"$T/chrome.out" 2>&1 ||
		{ cat "$T/chrome.out"; fail "$1 does not play in chromium"; }
	cat "$T/chrome.out"
}

# HLS sources, all in one crawl: MPEG-TS, fMP4, one file with byte ranges,
# AES-128 (IV given; IV from the sequence number), a discontinuity, a
# master with variant = best / smallest / a BANDWIDTH / all, a separate
# audio rendition, a live playlist that grows each time it is read, a
# source whose segment 404s and a SAMPLE-AES one (both fail, exit 1, the
# others are captured). Each capture is byte-identical to the segments
# joined (and decrypted) here, and ffprobe of the copy the mirror serves
# reports the source's duration (within 0.1 s) and streams; with the remux
# feature ID.mp4 is derived from ID.ts, moov first, and plays in chromium.
# Then a capture killed with SIGKILL resumes: the next crawl asks for no
# segment the first one finished.
#   EMBERD_REMUX=1|0: the build has (or lacks) the remux feature; set by
#   tests/meson.build.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
. "$(dirname "$0")/crawl_lib.sh"
. "$(dirname "$0")/media_lib.sh"
REMUX=${EMBERD_REMUX:-0}
setup_publisher
media_make
W="$T/www"
media_www "$W"
start_media_origin "$W"
M="$W/media"
U="$MORIGIN/media/hls"
R="$MEDIA/hls"	# the reference captures

# Copies of the TS stream for the sources that have faults of their own,
# so that their requests are told apart in the log.
for k in live broken drm slow; do
	mkdir "$M/hls/$k"
	ln "$M"/hls/ts/seg*.ts "$M/hls/$k/"
done
cp "$M/hls/ts/index.m3u8" "$M/hls/live/full.m3u8"
cp "$M/hls/ts/index.m3u8" "$M/hls/broken/index.m3u8"
cp "$M/hls/ts/index.m3u8" "$M/hls/slow/index.m3u8"
cp "$M/hls/ts/sample-aes.m3u8" "$M/hls/drm/index.m3u8"
cp "$M/hls/ts/sa.key" "$M/hls/drm/"
media_faults '{"fail": {"/media/hls/broken/seg3.ts": 404},
 "live": {"/media/hls/live/index.m3u8": {"src": "/media/hls/live/full.m3u8", "step": 3}}}'
read -r BW0 BW1 BW2 <<<"$MASTER_BW"
[ -n "$BW2" ] && [ "$BW0" -gt "$BW1" ] && [ "$BW1" -gt "$BW2" ] ||
	fail "master.m3u8's bandwidths '$MASTER_BW' are not three, falling"

crawl_config "[crawl]" "timeout = 60s" \
	"[source ts]" "url = $U/ts/index.m3u8" \
	"[source fmp4]" "url = $U/fmp4/index.m3u8" \
	"[source single]" "url = $U/single/index.m3u8" \
	"[source aes]" "url = $U/aes/index.m3u8" \
	"[source aesseq]" "url = $U/aesseq/index.m3u8" \
	"[source disc]" "url = $U/disc/index.m3u8" \
	"[source best]" "url = $U/master/master.m3u8" \
	"[source small]" "url = $U/master/master.m3u8" "variant = smallest" \
	"[source bw]" "url = $U/master/master.m3u8" "variant = $BW1" \
	"[source all]" "url = $U/master/master.m3u8" "variant = all" \
	"[source aud]" "url = $U/audio/master.m3u8" \
	"[source live]" "url = $U/live/index.m3u8" "kind = hls" \
	"[source named]" "url = $U/fmp4/index.m3u8" "name = voice.mp4" \
	"[source broken]" "url = $U/broken/index.m3u8" \
	"[source drm]" "url = $U/drm/index.m3u8"

t0=$(date +%s%N)
expect_exit 1 "$EMBERD" crawl -c "$CONF"
echo "crawl: $(( ($(date +%s%N) - t0) / 1000000 )) ms"

# --- the failures ---------------------------------------------------------------
assert_grep "crawl:? broken: (failed: )?segment [0-9]+ of $U/broken/seg3\.ts: HTTP 404" "$T/err"
assert_grep 'crawl:? drm: (failed: )?HLS encryption SAMPLE-AES is not supported \(DRM\)' "$T/err"
[ "$(mlog_count '/media/hls/drm/seg[0-9]+\.ts')" = 0 ] || fail "segments of the SAMPLE-AES stream were requested"
pass "a segment 404: exit 1, its source named with the segment and status; SAMPLE-AES: the DRM error, no segment asked"

# --- the items --------------------------------------------------------------------
S=$'\t'
{
	# NAME PAGE TITLE DERIVED_FROM FILE
	for k in ts single aes aesseq disc; do
		echo "$k.ts${S}-${S}*${S}-${S}$R/$k.ts.ref"
	done
	echo "fmp4.mp4${S}-${S}*${S}-${S}$R/fmp4.mp4.ref"
	echo "voice.mp4${S}-${S}*${S}-${S}$R/fmp4.mp4.ref"
	echo "best.ts${S}-${S}*${S}-${S}$R/master-v0.ts.ref"
	echo "small.ts${S}-${S}*${S}-${S}$R/master-v2.ts.ref"
	echo "bw.ts${S}-${S}*${S}-${S}$R/master-v1.ts.ref"
	echo "all-$BW0.ts${S}-${S}*${S}-${S}$R/master-v0.ts.ref"
	echo "all-$BW1.ts${S}-${S}*${S}-${S}$R/master-v1.ts.ref"
	echo "all-$BW2.ts${S}-${S}*${S}-${S}$R/master-v2.ts.ref"
	echo "aud-video.ts${S}-${S}*${S}-${S}$R/audio-video.ts.ref"
	echo "aud-audio.ts${S}-${S}*${S}-${S}$R/audio-audio.ts.ref"
	echo "live.ts${S}-${S}*${S}-${S}$R/ts.ts.ref"
	if [ "$REMUX" = 1 ]; then
		for k in ts single aes aesseq disc best small bw live "all-$BW0" "all-$BW1" "all-$BW2"; do
			echo "$k.mp4${S}-${S}*${S}@$k.ts${S}*"
		done
		echo "aud.mp4${S}-${S}*${S}@aud-video.ts${S}*"
	fi
} >"$T/expect"
assert_items "$T/expect"
pass "captures (remux: $REMUX): each the segments joined and decrypted, byte for byte; variants best/smallest/BANDWIDTH/all; audio rendition apart; the failed sources have none"

n=$(mlog_count '/media/hls/live/index\.m3u8')
[ "$n" -ge 4 ] || fail "the live playlist was read $n times (it shows 3 more of 12 segments each read)"
pass "live: the playlist re-read $n times until EXT-X-ENDLIST, every segment captured"

# --- what the mirror serves: ffprobe --------------------------------------------------
start_server
# probe_copy NAME DURATION STREAMS: ffprobe of /files/NAME from the mirror.
probe_copy() {
	local d s
	curl_https -o "$T/copy" "$HTTPS_URL/files/$1" || server_fail "GET /files/$1"
	d=$(probe_duration "$T/copy")
	dur_close "$d" "$2" || fail "$1: ffprobe says $d s, want $2 s (within 0.1 s)"
	s=$(probe_streams "$T/copy" | grep -v '^ *$' | sort -u | tr '\n' ';')
	[ "$s" = "$3" ] || fail "$1: streams '$s', want '$3'"
}
AV="audio aac;video h264 160x120;"
if sanitized_half "ffprobe of every copy from the mirror"; then
	for k in ts.ts single.ts aes.ts aesseq.ts live.ts fmp4.mp4 voice.mp4 bw.ts "all-$BW1.ts"; do
		probe_copy "$k" "$CLIP_DUR" "$AV"
	done
	probe_copy disc.ts "$DISC_DUR" "$AV"
	probe_copy best.ts "$CLIP_DUR" "audio aac;video h264 320x240;"
	probe_copy "all-$BW0.ts" "$CLIP_DUR" "audio aac;video h264 320x240;"
	probe_copy small.ts "$CLIP_DUR" "audio aac;video h264 96x72;"
	probe_copy "all-$BW2.ts" "$CLIP_DUR" "audio aac;video h264 96x72;"
	probe_copy aud-video.ts "$CLIP_DUR" "video h264 160x120;"
	probe_copy aud-audio.ts "$CLIP_DUR" "audio aac;"
	if [ "$REMUX" = 1 ]; then
		for k in ts single aes aesseq live bw; do
			probe_copy "$k.mp4" "$CLIP_DUR" "$AV"
		done
		probe_copy disc.mp4 "$DISC_DUR" "$AV"
		probe_copy best.mp4 "$CLIP_DUR" "audio aac;video h264 320x240;"
		probe_copy aud.mp4 "$CLIP_DUR" "$AV"
		curl_https -o "$T/ts.mp4" "$HTTPS_URL/files/ts.mp4" || server_fail "GET /files/ts.mp4"
		python3 - "$T/ts.mp4" <<'PY' || fail "ts.mp4: moov does not come before mdat"
import struct, sys
f = open(sys.argv[1], "rb")
seen = []
while True:
    h = f.read(8)
    if len(h) < 8:
        break
    size, kind = struct.unpack(">I4s", h)
    if size == 1:
        size = struct.unpack(">Q", f.read(8))[0] - 8
    seen.append(kind.decode("latin-1"))
    if size < 8:
        break
    f.seek(size - 8, 1)
print("top-level boxes:", seen)
sys.exit(0 if "moov" in seen and "mdat" in seen and seen.index("moov") < seen.index("mdat") else 1)
PY
	fi
	pass "ffprobe of every copy from the mirror: the source's duration (±0.1 s), streams and sizes"
fi

if ! browser_build "the capture playing in chromium"; then
	:
elif [ "$REMUX" = 1 ]; then
	chrome_play "$HTTPS_URL/files/ts.mp4" 30
	pass "the remuxed ts.mp4 plays in chromium"
else
	chrome_play "$HTTPS_URL/files/fmp4.mp4" 30
	pass "the fMP4 capture plays in chromium (no remux feature)"
fi
stop_server

# --- SIGKILL mid-capture, then resume ----------------------------------------------------
sanitized_half "SIGKILL mid-capture, then resume" || exit 0
# Each segment of hls/slow waits 0.5 s before its answer (and its log
# line); the crawl is killed once 4 segments were answered.
crawl_config "[crawl]" "timeout = 60s" "[source slow]" "url = $U/slow/index.m3u8"
media_faults '{"delay": {"/media/hls/slow/seg": 0.5}}'
: >"$MLOG"
crawl_bg
for i in $(seq 1 400); do
	[ "$(mlog_count '/media/hls/slow/seg[0-9]+\.ts')" -ge 4 ] && break
	kill -0 "$CRAWL_PID" 2>/dev/null || { cat "$T/err"; fail "the crawl ended before 4 segments were asked"; }
	sleep 0.05
done
crawl_kill
mlog_lines '/media/hls/slow/seg[0-9]+\.ts' | awk '{ print $2 }' >"$T/run1"
[ "$(wc -l <"$T/run1")" -ge 4 ] || fail "4 segments were not asked within 20 s"
catalog_has slow.ts && fail "a killed capture is in the catalog"
# Answers still delayed when the crawl died log their line late: run 2
# is counted from the lines logged at receipt, in a log started anew.
: >"$MLOG"
: >"$MLOG.begun"
media_faults '{}'
expect_exit 0 "$EMBERD" crawl -c "$CONF"
mlog_begun '/media/hls/slow/seg[0-9]+\.ts' >"$T/run2"
# Finished in run 1: every segment answered before the kill but the last
# (which may have been in flight).
head -n -1 "$T/run1" >"$T/done1"
again=$(grep -cxF -f "$T/done1" "$T/run2" || true)
[ "$again" = 0 ] || {
	echo "run 1 (before the kill):"; cat "$T/run1"; echo "run 2:"; cat "$T/run2"
	fail "$again segment(s) finished before the kill were requested again"
}
n2=$(wc -l <"$T/run2")
[ "$n2" -le $((12 - $(wc -l <"$T/done1"))) ] || fail "run 2 asked $n2 segments, more than were left"
[ "$(catalog_field slow.ts sha256)" = "$(sha256_of "$R/ts.ts.ref")" ] ||
	fail "the resumed slow.ts is not the segments joined"
if [ "$REMUX" = 1 ]; then
	[ "$(catalog_field slow.mp4 derived_from)" = "$(sha256_of "$R/ts.ts.ref")" ] ||
		fail "the resumed capture has no slow.mp4 derived from slow.ts"
fi
# The record holds every segment, those fetched before the kill too.
prov_doc slow.ts | python3 -c '
import json, sys
caps = json.load(sys.stdin)["captures"]
offs = sorted({c["offset"] for c in caps if c["role"] == "segment"})
assert len(offs) == 12 and offs[0] == 0, offs' ||
	fail "the provenance of the resumed slow.ts lacks the segments fetched before the kill"
assert_no_partial
start_server
probe_copy slow.ts "$CLIP_DUR" "$AV"
stop_server
pass "SIGKILL after $(wc -l <"$T/run1") segments: the next crawl asked only the $n2 left, the capture byte-identical, $(probe_duration "$T/copy") s"

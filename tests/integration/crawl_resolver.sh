# resolver = yt-dlp: Debian's real yt-dlp finds the <video> of a page on
# the media origin (its generic extractor) and emberd downloads it itself,
# byte-identical; fake yt-dlp programs first in PATH answer with separate
# video and audio formats (ID-video.EXT, ID-audio.EXT), with an m3u8 URL
# (an HLS capture, the config's title winning over yt-dlp's), hang past
# [crawl] timeout, print 100 MB, print broken JSON, or yt-dlp is missing:
# each failure names its source, the plain file source of the same pass is
# still captured, and emberd crawl exits 1.
#   EMBERD_REMUX=1|0: the build has (or lacks) the remux feature.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/crawl_lib.sh"
. "$(dirname "$0")/media_lib.sh"
REMUX=${EMBERD_REMUX:-0}
REAL_YTDLP=$(command -v yt-dlp) || fail "yt-dlp is not installed (apt-get install yt-dlp)"
setup_publisher
media_make
W="$T/www"
media_www "$W"
start_media_origin "$W"
M="$W/media"
U="$MORIGIN/media"
R="$MEDIA/hls"

cat >"$W/watch.html" <<'HTML'
<!DOCTYPE html><html><head><title>Watch the clip</title></head>
<body><h1>The clip</h1><video controls src="media/clip.mp4"></video></body></html>
HTML

# The fake answers by the URL it is asked about (its last argument); any
# other URL goes to the real yt-dlp.
mkdir "$T/bin" "$T/nobin"
cat >"$T/bin/yt-dlp" <<SH
#!/bin/bash
url=\${!#}
case \$url in
*/hang) echo \$\$ >"$T/hang.pid"; exec sleep 600 ;;
*/big) printf '{"title": "'; head -c 100000000 /dev/zero | tr '\\0' a; printf '"}\\n' ;;
*/broken) printf '{"id": "broken", "title": "half an answer", "url": \\n' ;;
*/split) cat <<JSON
{"id": "split", "title": "Split formats", "description": "Video and audio apart.",
 "webpage_url": "\$url", "ext": "mp4", "format_id": "v+a",
 "requested_formats": [
  {"format_id": "v", "url": "$U/clip.mp4", "ext": "mp4", "protocol": "http",
   "vcodec": "avc1.42c00c", "acodec": "none", "http_headers": {"Accept": "*/*"}},
  {"format_id": "a", "url": "$U/song.mp3", "ext": "mp3", "protocol": "http",
   "vcodec": "none", "acodec": "mp3", "http_headers": {"Accept": "*/*"}}]}
JSON
	;;
*/hlsfake) cat <<JSON
{"id": "hlsfake", "title": "yt-dlp's title", "description": "From yt-dlp.",
 "webpage_url": "\$url", "ext": "mp4", "format_id": "hls-1",
 "url": "$U/hls/ts/index.m3u8", "protocol": "m3u8_native",
 "vcodec": "avc1.42c00c", "acodec": "mp4a.40.2", "http_headers": {"Accept": "*/*"}}
JSON
	;;
*) exec "$REAL_YTDLP" "\$@" ;;
esac
SH
chmod +x "$T/bin/yt-dlp"
# The harness itself: the fake answers, the real one finds the clip.
"$T/bin/yt-dlp" --dump-single-json "$MORIGIN/split" | python3 -c 'import json, sys; json.load(sys.stdin)' ||
	fail "the fake yt-dlp's split answer is not JSON"
[ "$("$T/bin/yt-dlp" --dump-single-json "$MORIGIN/big" | head -c 10)" = '{"title": ' ] || fail "the fake big answer"

# --- pass A: the real yt-dlp, split formats, an m3u8, 100 MB, broken JSON ----------
crawl_config "[crawl]" "timeout = 60s" \
	"[source real]" "url = $MORIGIN/watch.html" "resolver = yt-dlp" \
	"[source split]" "url = $MORIGIN/split" "resolver = yt-dlp" \
	"[source hlsfake]" "url = $MORIGIN/hlsfake" "resolver = yt-dlp" "title = The config's title" \
	"[source big]" "url = $MORIGIN/big" "resolver = yt-dlp" \
	"[source broken]" "url = $MORIGIN/broken" "resolver = yt-dlp" \
	"[source plain]" "url = $U/episode1.mp3"
t0=$(date +%s%N)
expect_exit 1 env PATH="$T/bin:$PATH" "$EMBERD" crawl -c "$CONF"
echo "pass A: $(( ($(date +%s%N) - t0) / 1000000 )) ms"
assert_grep 'crawl:? big: (failed: )?yt-dlp printed more than 16 MiB' "$T/err"
assert_grep "crawl:? broken: (failed: )?yt-dlp's answer is not JSON: " "$T/err"
S=$'\t'
{
	# NAME PAGE TITLE DERIVED_FROM FILE [DESCRIPTION]
	echo "real.mp4${S}-${S}*${S}-${S}$M/clip.mp4"
	echo "split-video.mp4${S}-${S}Split formats${S}-${S}$M/clip.mp4${S}Video and audio apart."
	echo "split-audio.mp3${S}-${S}Split formats${S}-${S}$M/song.mp3${S}Video and audio apart."
	echo "hlsfake.ts${S}-${S}The config's title${S}-${S}$R/ts.ts.ref${S}From yt-dlp."
	[ "$REMUX" != 1 ] || echo "hlsfake.mp4${S}-${S}*${S}@hlsfake.ts${S}*"
	echo "episode1.mp3${S}-${S}-${S}-${S}$M/episode1.mp3"
} >"$T/expect"
assert_items "$T/expect"
title=$(catalog_field real.mp4 title)
[ -n "$title" ] && [ "$title" != None ] || fail "real.mp4 has no title from yt-dlp"
[ "$(mlog_count '/media/clip\.mp4')" -ge 2 ] || fail "clip.mp4 was not downloaded by emberd (real and split)"
pass "real yt-dlp: real.mp4 byte-identical (title '$title'); split formats; an m3u8 captured as HLS; 100 MB and broken JSON fail by name; the plain source captured; exit 1"

# --- pass B: a yt-dlp that never answers ----------------------------------------------
crawl_config "[crawl]" "timeout = 5s" \
	"[source hang]" "url = $MORIGIN/hang" "resolver = yt-dlp" \
	"[source plain2]" "url = $U/episode2.mp3"
t0=$(date +%s)
expect_exit 1 env PATH="$T/bin:$PATH" timeout -k 5 60 "$EMBERD" crawl -c "$CONF"
secs=$(( $(date +%s) - t0 ))
assert_grep 'crawl:? hang: (failed: )?yt-dlp gave no answer within 5 s' "$T/err"
[ "$secs" -le 30 ] || fail "the hanging yt-dlp held the crawl $secs s ([crawl] timeout = 5s)"
[ -s "$T/hang.pid" ] || fail "the fake yt-dlp was not started"
if kill -0 "$(cat "$T/hang.pid")" 2>/dev/null; then
	kill -9 "$(cat "$T/hang.pid")" 2>/dev/null || true
	fail "the hanging yt-dlp still runs after the crawl"
fi
[ "$(catalog_field episode2.mp3 sha256)" = "$(sha256_of "$M/episode2.mp3")" ] || fail "pass B: the plain source was not captured"
pass "a hanging yt-dlp: named timeout after ${secs} s, the process gone, the plain source captured, exit 1"

# --- pass C: no yt-dlp at all --------------------------------------------------------------
crawl_config "[crawl]" "timeout = 30s" \
	"[source nobin]" "url = $MORIGIN/watch.html" "resolver = yt-dlp" \
	"[source plain3]" "url = $U/episode3.mp3"
expect_exit 1 env PATH="$T/nobin" "$EMBERD" crawl -c "$CONF"
assert_grep 'crawl:? nobin: (failed: )?yt-dlp is not installed' "$T/err"
[ "$(catalog_field episode3.mp3 sha256)" = "$(sha256_of "$M/episode3.mp3")" ] || fail "pass C: the plain source was not captured"
pass "yt-dlp missing from PATH: the source says so, the plain source captured, exit 1"

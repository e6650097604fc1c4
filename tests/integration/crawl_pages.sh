# Page sources: emberd crawl takes a page's media (a <video>'s mp4
# <source> over its webm one, <audio src>, <a href> to an .mp3, og:video,
# all behind a relative <base href>) and the feed it links to, as items
# with "page"; the rewritten copy story.mirror.html (derived_from the page)
# plays its video from the mirror in a real browser. Hostile markup:
# unclosed tags, javascript:/file:/data: URLs (never requested), a page of
# 10,000 links with max_items = 10 (exactly the first 10 requested, the
# warning given), a 50 MB page whose two media sit at its two ends. A page
# source with kind = file is one item and nothing more. A page whose
# <video> plays an HLS playlist gets the capture (index.ts, and with the
# remux feature index.mp4), and its mirror copy points at the capture.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
. "$(dirname "$0")/crawl_lib.sh"
. "$(dirname "$0")/media_lib.sh"
command -v chromium >/dev/null || fail "chromium is not installed (apt-get install chromium)"
setup_publisher
media_make
W="$T/www"
media_www "$W"
start_media_origin "$W"
M="$W/media"

# --- the pages -------------------------------------------------------------
# story.html: relative URLs resolve against <base href="media/">, so
# clip.mp4 is /media/clip.mp4. extra/clip.mp4 (another file of the same
# name) comes later in the page: clip-2.mp4.
mkdir "$M/extra"
ln "$MEDIA/trailer.mp4" "$M/extra/clip.mp4" 2>/dev/null || cp "$MEDIA/trailer.mp4" "$M/extra/clip.mp4"
cat >"$W/story.html" <<HTML
<!DOCTYPE html>
<html lang="zh-Hans"><head>
<meta charset="utf-8">
<base href="media/">
<title>Fallback title</title>
<meta property="og:title" content="四月之声 · Voice of April">
<meta property="og:description" content="The banned clip, its song and an interview.">
<meta property="og:video" content="$MORIGIN/media/trailer.mp4">
<link rel="alternate" type="application/rss+xml" title="The April podcast" href="feed.xml">
</head>
<body><div class="story"><p>Unclosed paragraph <b>bold <i>italic
<video controls width="160">
  <source src="clip.webm" type="video/webm">
  <source src="clip.mp4" type="video/mp4">
</video>
<p>The song: <audio src="song.mp3" controls></audio>
<p>Listen to the <a href="interview.mp3">interview</a>, or <a href="song.mp3">download the song</a>.
<table><tr><td>an unclosed cell <a href="notes.txt">notes (not media)</a>
<a href="javascript:fetch('/media/leak-js.mp3')">javascript</a>
<a href="  JavaScript:alert(1)//leak-js2.mp3">javascript, spaced and mixed case</a>
<video src="javascript:alert(2)//leak-js3.mp4"></video>
<audio src="file:///etc/passwd.mp3"></audio>
<a href="file:///media/leak-file.mp3">file</a>
<a href="data:audio/mpeg;base64,SUQzBAAAAAAA">data</a>
<p>Also <a href="extra/clip.mp4">the other clip</a>
<div><span><em>never closed
</body></html>
HTML
cat >"$M/feed.xml" <<XML
<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel>
<title>The April podcast</title>
<link>$MORIGIN/story.html</link>
<description>Episodes.</description>
<item><title>Episode one</title><description>The first episode.</description>
<pubDate>Sat, 04 Apr 2026 10:00:00 GMT</pubDate>
<enclosure url="$MORIGIN/media/episode1.mp3" length="$(stat -c %s "$M/episode1.mp3")" type="audio/mpeg"/>
<guid>ep1</guid></item>
</channel></rss>
XML

# many.html: 10,000 links to mp3s; only the first 10 exist (each its own
# bytes). max_items = 10: exactly those are requested.
mkdir "$W/m"
for i in $(seq 0 9); do
	{ printf 'ID3 song %d ' "$i"; head -c 2000 /dev/urandom; } >"$W/m/$i.mp3"
done
{
	echo '<!DOCTYPE html><html><head><title>Ten thousand songs</title></head><body><ul>'
	seq 0 9999 | sed 's|.*|<li><a href="m/&.mp3">song &</a>|'
	echo '</ul></body></html>'
} >"$W/many.html"

# big.html: 50 MB of HTML; one medium in its first kilobyte, one in its
# last.
mkdir "$W/big"
head -c 3000 /dev/urandom >"$W/big/start.mp3"
head -c 5000 /dev/urandom >"$W/big/end.mp4"
python3 - "$W/big.html" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write('<!DOCTYPE html><html><head><title>Big page</title></head><body>\n')
    f.write('<audio src="big/start.mp3"></audio>\n')
    line = '<p>Filler paragraph with <a href="page-%d.html">a link</a> and <b>some</b> text.</p>\n'
    n = 0
    while f.tell() < 50 * 1000 * 1000:
        f.write(line % n)
        n += 1
    f.write('<video src="big/end.mp4"></video>\n</body></html>\n')
PY
big_size=$(stat -c %s "$W/big.html")
[ "$big_size" -ge 50000000 ] || fail "big.html is only $big_size bytes"

# stream.html: a <video> of an HLS playlist.
cat >"$W/stream.html" <<HTML
<!DOCTYPE html><html><head><title>Live stream</title></head>
<body><video src="media/hls/ts/index.m3u8" type="application/vnd.apple.mpegurl"></video></body></html>
HTML
REMUX=${EMBERD_REMUX:-0}

crawl_config "[crawl]" "timeout = 60s" \
	"[source stream]" "url = $MORIGIN/stream.html" \
	"[source story]" "url = $MORIGIN/story.html" "lang = zh-Hans" \
	"[source many]" "url = $MORIGIN/many.html" "max_items = 10" "title = Many links" \
	"[source big]" "url = $MORIGIN/big.html" \
	"[source plain]" "url = $MORIGIN/story.html" "kind = file" "name = story-file.html"

t0=$(date +%s%N)
expect_exit 0 "$EMBERD" crawl -c "$CONF"
echo "crawl: $(( ($(date +%s%N) - t0) / 1000000 )) ms"

# --- the items ---------------------------------------------------------------
# NAME PAGE TITLE DERIVED_FROM FILE [DESCRIPTION]. The mirror copy's own
# page and title, and the linked feed's page, are not part of the
# behaviour: not checked beyond their names.
S=$'\t'
cat >"$T/expect" <<EXP
story.html${S}-${S}四月之声 · Voice of April${S}-${S}$W/story.html${S}The banned clip, its song and an interview.
story.mirror.html${S}*${S}*${S}@story.html${S}*
clip.mp4${S}story.html${S}*${S}-${S}$M/clip.mp4
clip-2.mp4${S}story.html${S}*${S}-${S}$M/extra/clip.mp4
song.mp3${S}story.html${S}*${S}-${S}$M/song.mp3
interview.mp3${S}story.html${S}*${S}-${S}$M/interview.mp3
trailer.mp4${S}story.html${S}*${S}-${S}$M/trailer.mp4
feed.xml${S}-|story.html${S}The April podcast${S}-${S}$M/feed.xml
episode1.mp3${S}feed.xml${S}Episode one${S}-${S}$M/episode1.mp3${S}The first episode.${S}2026-04-04T10:00:00Z
many.html${S}-${S}Many links${S}-${S}$W/many.html
many.mirror.html${S}*${S}*${S}@many.html${S}*
big.html${S}-${S}Big page${S}-${S}$W/big.html
big.mirror.html${S}*${S}*${S}@big.html${S}*
start.mp3${S}big.html${S}*${S}-${S}$W/big/start.mp3
end.mp4${S}big.html${S}*${S}-${S}$W/big/end.mp4
story-file.html${S}-${S}*${S}-${S}$W/story.html
stream.html${S}-${S}Live stream${S}-${S}$W/stream.html
stream.mirror.html${S}*${S}*${S}@stream.html${S}*
index.ts${S}stream.html${S}*${S}-${S}$M/hls/ts.ts.ref
EXP
if [ "$REMUX" = 1 ]; then
	printf 'index.mp4\t*\t*\t@index.ts\t*\n' >>"$T/expect"
	capture=index.mp4
else
	capture=index.ts
fi
for i in $(seq 0 9); do
	printf '%s\t%s\t*\t-\t%s\n' "$i.mp3" many.html "$W/m/$i.mp3" >>"$T/expect"
done
assert_items "$T/expect"
[ "$(catalog_field story.html lang)" = zh-Hans ] || fail "story.html has no lang = zh-Hans from the config"
pass "items: the page, its mirror copy, its 5 media (mp4 over webm, clip-2.mp4), its feed and the feed's enclosure; 10 of 10,000 links; both ends of a 50 MB page; kind = file is one item; a page's HLS playlist captured"

# --- what was requested --------------------------------------------------------
n=$(grep -ciE 'leak|passwd|javascript|alert|data:' "$MLOG" || true)
[ "$n" = 0 ] || { grep -iE 'leak|passwd|javascript|alert|data:' "$MLOG"; fail "$n requests for javascript:/file:/data: targets"; }
[ "$(mlog_count '/m/[0-9]+\.mp3')" = 10 ] || { mlog_lines '/m/.*'; fail "want exactly 10 requests under /m/"; }
for i in $(seq 0 9); do
	[ "$(mlog_count "/m/$i\.mp3")" = 1 ] || { mlog_lines '/m/.*'; fail "/m/$i.mp3 not requested exactly once"; }
done
[ "$(mlog_count '/media/clip\.webm')" = 0 ] || fail "the webm <source> was requested though the mp4 one was taken"
[ "$(mlog_count '/media/notes\.txt')" = 0 ] || fail "a link to a .txt (not media) was requested"
[ "$(mlog_count '/(media/)?page-[0-9]+\.html')" = 0 ] || fail "the 50 MB page's plain links were requested"
for p in '/media/clip\.mp4' '/media/song\.mp3' '/media/interview\.mp3' '/media/trailer\.mp4' \
	'/media/extra/clip\.mp4' '/media/feed\.xml' '/media/episode1\.mp3' '/big/start\.mp3' '/big/end\.mp4'; do
	[ "$(mlog_count "$p")" = 1 ] || { cat "$MLOG"; fail "$p: want exactly one request"; }
done
pass "no javascript:/file:/data: target requested; exactly max_items = 10 of 10,000 links; each medium once; nothing else"

assert_grep 'crawl:? many: page links to 10000 media, took the first 10 \(max_items\)' "$T/err"
n=$(grep -c 'took the first' "$T/err" || true)
[ "$n" = 1 ] || { cat "$T/err"; fail "want one max_items warning, got $n"; }
pass "the max_items warning names the source, the count and the limit"

# --- the rewritten page ---------------------------------------------------------
"$EMBERD" ls -c "$CONF" --json >"$T/ls.json"
mirror_sha=$(python3 -c 'import json, sys
print([i["sha256"] for i in json.load(open(sys.argv[1]))["items"] if i["name"] == "story.mirror.html"][0])' "$T/ls.json")
# The object, decoded (objects are stored gzip when that pays).
start_server
curl_https -o "$T/story.mirror.html" "$HTTPS_URL/files/story.mirror.html" || server_fail "GET /files/story.mirror.html"
[ "$(sha256_of "$T/story.mirror.html")" = "$mirror_sha" ] || fail "/files/story.mirror.html is not its catalog sha256"
python3 - "$T/story.mirror.html" "$MORIGIN" <<'PY' || fail "story.mirror.html does not point its media at the mirror"
import sys
from html.parser import HTMLParser
page, origin = open(sys.argv[1], encoding="utf-8").read(), sys.argv[2]
class P(HTMLParser):
    def __init__(self):
        super().__init__()
        self.base, self.srcs, self.hrefs, self.og = [], {}, [], None
        self.in_media = None
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "base":
            self.base.append(a.get("href"))
        elif tag in ("video", "audio"):
            self.in_media = tag
            if a.get("src"):
                self.srcs.setdefault(tag, []).append(a["src"])
        elif tag == "source":
            self.srcs.setdefault("source", []).append((a.get("type"), a.get("src")))
        elif tag == "a":
            self.hrefs.append(a.get("href"))
        elif tag == "meta" and a.get("property") == "og:video":
            self.og = a.get("content")
p = P()
p.feed(page)
bad = []
if p.base != ["./"]:
    bad.append("base href %r, want ['./']" % p.base)
if ("video/mp4", "clip.mp4") not in p.srcs.get("source", []):
    bad.append("no <source type=video/mp4 src=clip.mp4>: %r" % p.srcs.get("source"))
if "song.mp3" not in p.srcs.get("audio", []):
    bad.append("no <audio src=song.mp3>: %r" % p.srcs.get("audio"))
for h in ("interview.mp3", "song.mp3", "clip-2.mp4"):
    if h not in p.hrefs:
        bad.append("no <a href=%s>: %r" % (h, p.hrefs))
if p.og != "trailer.mp4":
    bad.append("og:video %r, want trailer.mp4" % p.og)
for u in ("/media/clip.mp4", "/media/song.mp3", "/media/interview.mp3", "/media/trailer.mp4", "/media/extra/clip.mp4"):
    if origin + u in page:
        bad.append("the origin's URL %s is still in the page" % (origin + u))
if bad:
    print("\n".join(bad))
sys.exit(1 if bad else 0)
PY
pass "story.mirror.html: <base href=\"./\">, every captured medium's URL replaced by its item name"
curl_https -o "$T/stream.mirror.html" "$HTTPS_URL/files/stream.mirror.html" ||
	server_fail "GET /files/stream.mirror.html"
grep -qF "<video src=\"$capture\"" "$T/stream.mirror.html" ||
	{ cat "$T/stream.mirror.html"; fail "stream.mirror.html does not play $capture"; }
pass "stream.mirror.html plays the capture $capture of its playlist"

assert_mirror_copies clip.mp4="$M/clip.mp4" clip-2.mp4="$M/extra/clip.mp4" song.mp3="$M/song.mp3" \
	interview.mp3="$M/interview.mp3" trailer.mp4="$M/trailer.mp4" episode1.mp3="$M/episode1.mp3" \
	end.mp4="$W/big/end.mp4" 0.mp3="$W/m/0.mp3" 9.mp3="$W/m/9.mp3" story.html="$W/story.html"
pass "the mirror serves every medium byte-identical to the origin's"

if browser_build "story.mirror.html playing in chromium"; then
	chrome_play "$HTTPS_URL/files/story.mirror.html" 30
	pass "story.mirror.html plays its video from the mirror in chromium"
fi
server_alive
stop_server

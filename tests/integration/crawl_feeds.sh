# Feed sources: an RSS 2.0 feed (enclosures, one media:content, one entry
# without media), an Atom feed (rel=enclosure), and a podcast feed (the
# itunes namespace, served as application/octet-stream so only its body
# says it is a feed) with max_items = 2 of 3. The feed document is an item
# titled by its channel; each entry with media is an item with the entry's
# title, description and published time (RFC 3339 UTC), "page" the feed;
# the podcast keeps its two newest entries and warns. After one new RSS
# entry a crawl makes exactly the feed's request (200) and the new
# enclosure's, the other feeds answering 304; a crawl without change
# requests nothing but the three feeds (304) and changes nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/crawl_lib.sh"
. "$(dirname "$0")/media_lib.sh"
setup_publisher
media_make
W="$T/www"
media_www "$W"
start_media_origin "$W"
M="$W/media"
U="$MORIGIN/media"
mkdir "$W/feeds"

len() { stat -c %s "$M/$1"; }

rss_item() {	# rss_item TITLE DESCRIPTION PUBDATE FILE TYPE
	cat <<XML
<item><title>$1</title><description>$2</description><pubDate>$3</pubDate>
<enclosure url="$U/$4" length="$(len "$4")" type="$5"/><guid isPermaLink="false">$4</guid></item>
XML
}

# write_rss [EXTRA_ITEM_XML]: the RSS feed, newest entry first.
write_rss() {
	{
		cat <<XML
<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/">
<channel><title>April news (RSS)</title><link>$MORIGIN/</link>
<description>News of the banned clip.</description>
XML
		printf '%s\n' "${1:-}"
		cat <<XML
<item><title>The clip, in webm</title><description>Media RSS, not an enclosure.</description>
<pubDate>Mon, 06 Apr 2026 00:00:00 GMT</pubDate>
<media:content url="$U/clip.webm" type="video/webm" fileSize="$(len clip.webm)"/></item>
<item><title>A note without media</title><description>Text only.</description>
<pubDate>Sun, 05 Apr 2026 12:00:00 GMT</pubDate></item>
XML
		rss_item "Episode two" "The second episode &amp; more." "Sun, 05 Apr 2026 09:30:00 GMT" episode2.mp3 audio/mpeg
		rss_item "Episode one" "The first episode." "Sat, 04 Apr 2026 10:00:00 +0200" episode1.mp3 audio/mpeg
		echo "</channel></rss>"
	} >"$W/feeds/rss.xml.tmp"
	mv "$W/feeds/rss.xml.tmp" "$W/feeds/rss.xml"
}
write_rss
touch -d @1775000000 "$W/feeds/rss.xml"

cat >"$W/feeds/news.atom" <<XML
<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
<title>April news (Atom)</title><id>urn:april:atom</id><updated>2026-03-02T00:00:00Z</updated>
<entry><title>The interview</title><id>urn:april:1</id>
<published>2026-03-01T12:00:00+01:00</published><updated>2026-03-01T12:00:00+01:00</updated>
<summary>An interview with the singer.</summary>
<link rel="alternate" href="$MORIGIN/interview.html"/>
<link rel="enclosure" href="$U/interview.mp3" type="audio/mpeg" length="$(len interview.mp3)"/></entry>
<entry><title>Text only</title><id>urn:april:2</id><updated>2026-03-02T00:00:00Z</updated>
<summary>No media here.</summary><link rel="alternate" href="$MORIGIN/text.html"/></entry>
</feed>
XML

# The podcast: entries oldest first in the document; the two newest
# (episode3.mp3, clip.mp4) are taken.
cat >"$W/feeds/podcast" <<XML
<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd">
<channel><title>The April podcast</title><link>$MORIGIN/</link>
<description>Weekly.</description><itunes:author>April</itunes:author>
<item><title>Trailer</title><itunes:title>Trailer</itunes:title>
<description>The oldest.</description><itunes:summary>The oldest.</itunes:summary>
<pubDate>Wed, 01 Apr 2026 08:00:00 GMT</pubDate><itunes:duration>6</itunes:duration>
<enclosure url="$U/trailer.mp4" length="$(len trailer.mp4)" type="video/mp4"/></item>
<item><title>Episode three</title><itunes:title>Episode three</itunes:title>
<description>The newest.</description><itunes:summary>The newest.</itunes:summary>
<pubDate>Fri, 03 Apr 2026 08:00:00 GMT</pubDate><itunes:duration>3</itunes:duration>
<enclosure url="$U/episode3.mp3" length="$(len episode3.mp3)" type="audio/mpeg"/></item>
<item><title>The clip</title><itunes:title>The clip</itunes:title>
<description>In between.</description><itunes:summary>In between.</itunes:summary>
<pubDate>Thu, 02 Apr 2026 08:00:00 GMT</pubDate><itunes:duration>12</itunes:duration>
<enclosure url="$U/clip.mp4" length="$(len clip.mp4)" type="video/mp4"/></item>
</channel></rss>
XML

crawl_config "[crawl]" "timeout = 30s" \
	"[source rss]" "url = $MORIGIN/feeds/rss.xml" \
	"[source atom]" "url = $MORIGIN/feeds/news.atom" \
	"[source podcast]" "url = $MORIGIN/feeds/podcast" "max_items = 2"

# --- pass 1 --------------------------------------------------------------------
expect_exit 0 "$EMBERD" crawl -c "$CONF"
S=$'\t'
cat >"$T/expect" <<EXP
rss.xml${S}-${S}April news (RSS)${S}-${S}$W/feeds/rss.xml
clip.webm${S}rss.xml${S}The clip, in webm${S}-${S}$M/clip.webm${S}Media RSS, not an enclosure.${S}2026-04-06T00:00:00Z
episode2.mp3${S}rss.xml${S}Episode two${S}-${S}$M/episode2.mp3${S}The second episode & more.${S}2026-04-05T09:30:00Z
episode1.mp3${S}rss.xml${S}Episode one${S}-${S}$M/episode1.mp3${S}The first episode.${S}2026-04-04T08:00:00Z
news.atom${S}-${S}April news (Atom)${S}-${S}$W/feeds/news.atom
interview.mp3${S}news.atom${S}The interview${S}-${S}$M/interview.mp3${S}An interview with the singer.${S}2026-03-01T11:00:00Z
podcast${S}-${S}The April podcast${S}-${S}$W/feeds/podcast
episode3.mp3${S}podcast${S}Episode three${S}-${S}$M/episode3.mp3${S}The newest.${S}2026-04-03T08:00:00Z
clip.mp4${S}podcast${S}The clip${S}-${S}$M/clip.mp4${S}In between.${S}2026-04-02T08:00:00Z
EXP
assert_items "$T/expect"
pass "RSS (enclosures, media:content), Atom (rel=enclosure), podcast by its body: items with title, description, published (UTC), page"

[ "$(mlog_count '/media/trailer\.mp4')" = 0 ] || fail "the podcast's oldest entry was requested beyond max_items = 2"
assert_grep 'crawl:? podcast: .*3.*2 \(max_items\)' "$T/err"
pass "podcast: the two newest of three entries, the third left with a max_items warning"

for p in '/feeds/rss\.xml' '/feeds/news\.atom' '/feeds/podcast' '/media/clip\.webm' '/media/episode2\.mp3' \
	'/media/episode1\.mp3' '/media/interview\.mp3' '/media/episode3\.mp3' '/media/clip\.mp4'; do
	[ "$(mlog_count "$p")" = 1 ] || { cat "$MLOG"; fail "pass 1: $p not requested exactly once"; }
done
[ "$(wc -l <"$MLOG")" = 9 ] || { cat "$MLOG"; fail "pass 1: requests beyond the 3 feeds and 6 media"; }
pass "pass 1: each feed and each medium requested once, nothing else"

# --- pass 2: one new RSS entry ----------------------------------------------------
seq1=$(catalog_seq)
write_rss "$(rss_item "Episode three of the news" "A new song." "Tue, 07 Apr 2026 07:00:00 GMT" song.mp3 audio/mpeg)"
touch -d @1775100000 "$W/feeds/rss.xml"
: >"$MLOG"
expect_exit 0 "$EMBERD" crawl -c "$CONF"
sort "$MLOG" >"$T/log2"
cat >"$T/want2" <<EOF
GET /feeds/news.atom 304 -
GET /feeds/podcast 304 -
GET /feeds/rss.xml 200 -
GET /media/song.mp3 200 -
EOF
diff -u "$T/want2" "$T/log2" >&2 || fail "pass 2: want exactly the RSS feed (200), the new enclosure, and 304 for the other feeds"
printf 'song.mp3\trss.xml\tEpisode three of the news\t-\t%s\tA new song.\t2026-04-07T07:00:00Z\n' "$M/song.mp3" >>"$T/expect"
assert_items "$T/expect"
[ "$(catalog_seq)" -gt "$seq1" ] || fail "pass 2: the catalog was not published anew"
pass "pass 2: one new entry: the feed (200) and its enclosure, the only requests; other feeds 304"

# --- pass 3: nothing changed ------------------------------------------------------
cp "$STORE/current/catalog.json" "$T/catalog.before"
: >"$MLOG"
expect_exit 0 "$EMBERD" crawl -c "$CONF"
sort "$MLOG" >"$T/log3"
cat >"$T/want3" <<EOF
GET /feeds/news.atom 304 -
GET /feeds/podcast 304 -
GET /feeds/rss.xml 304 -
EOF
diff -u "$T/want3" "$T/log3" >&2 || fail "pass 3: want only the three feeds, each 304"
cmp -s "$T/catalog.before" "$STORE/current/catalog.json" || fail "pass 3: the catalog changed"
assert_no_partial
pass "pass 3: unchanged feeds answer 304, nothing else requested, the catalog untouched"

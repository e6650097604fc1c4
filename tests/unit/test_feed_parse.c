/*
 * Feeds as the crawler reads them: RSS 2.0 enclosures, Atom enclosure
 * links, Media RSS groups, podcasts' itunes tags, the newest max_items
 * kept whatever the document order, any split of the input, dates in
 * the forms feeds use, entities neither expanded nor loaded, and the
 * sniffing of a body's first element.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "feed_parse.h"
#include "names.h"
#include "check.h"

#define BASE	"https://origin.example/shows/feed.xml?x=1"

/* DOC through a parser in CHUNK-byte pieces (0: one piece). */
static int
parse(const char *doc, size_t len, size_t max, size_t chunk, struct feed_info *out,
    char *err, size_t errlen)
{
	struct feed_parser *p = feed_parser_new(BASE, max);
	size_t off, n;
	int rc;

	if (p == NULL)
		return -2;
	if (chunk == 0)
		chunk = len;
	for (off = 0; off < len; off += n) {
		n = len - off < chunk ? len - off : chunk;
		if (feed_parser_feed(p, doc + off, n) != 0) {
			feed_parser_free(p);
			return -2;
		}
	}
	rc = feed_parser_finish(p, out, err, errlen);
	feed_parser_free(p);
	return rc;
}

static int
parse_str(const char *doc, size_t max, struct feed_info *out)
{
	char err[256];

	return parse(doc, strlen(doc), max, 0, out, err, sizeof(err));
}

static int
str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static int
info_eq(const struct feed_info *a, const struct feed_info *b)
{
	size_t i;

	if (!str_eq(a->title, b->title) || !str_eq(a->description, b->description) ||
	    a->n_entries != b->n_entries || a->skipped != b->skipped)
		return 0;
	for (i = 0; i < a->n_entries; i++) {
		const struct feed_entry *x = &a->entries[i], *y = &b->entries[i];

		if (!str_eq(x->url, y->url) || !str_eq(x->type, y->type) ||
		    x->length != y->length || !str_eq(x->title, y->title) ||
		    !str_eq(x->description, y->description) ||
		    !str_eq(x->published, y->published) || x->time != y->time ||
		    !str_eq(x->id, y->id))
			return 0;
	}
	return 1;
}

static const char rss[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<rss version=\"2.0\">\n<channel>\n"
	"  <title>  April\n  archive </title>\n"
	"  <description>Songs &amp; videos</description>\n"
	"  <image><title>not the channel title</title><url>https://x/logo.png</url></image>\n"
	"  <item>\n"
	"    <title>Older song</title>\n"
	"    <description>  first\n\n   song  </description>\n"
	"    <pubDate>Mon, 02 Nov 2026 10:00:00 GMT</pubDate>\n"
	"    <guid isPermaLink=\"false\">song-1</guid>\n"
	"    <enclosure url=\"../media/song%201.mp3?a=1&amp;b=2#t=10\" type=\"Audio/MPEG\" length=\"123456\"/>\n"
	"  </item>\n"
	"  <item>\n"
	"    <title>Just a post</title>\n"
	"    <link>https://origin.example/post</link>\n"
	"    <pubDate>Sat, 28 Nov 2026 12:00:00 GMT</pubDate>\n"
	"  </item>\n"
	"  <item>\n"
	"    <title><![CDATA[Voice of <April>]]></title>\n"
	"    <pubDate>Sat, 28 Nov 2026 13:00:00 +0100</pubDate>\n"
	"    <enclosure url=\"https://cdn.example/voice.mp4\" type=\"video/mp4\" length=\"x\"/>\n"
	"    <source url=\"https://elsewhere/\"><title>not the item title</title></source>\n"
	"  </item>\n"
	"</channel>\n</rss>\n";

static void
test_rss(void)
{
	struct feed_info f;
	const struct feed_entry *e;

	CHECK(parse_str(rss, 50, &f) == 0);
	CHECK(str_eq(f.title, "April archive"));
	CHECK(str_eq(f.description, "Songs & videos"));
	CHECK(f.n_entries == 2 && f.skipped == 0);
	if (f.n_entries == 2) {
		e = &f.entries[0];
		CHECK(str_eq(e->url, "https://cdn.example/voice.mp4"));
		CHECK(str_eq(e->type, "video/mp4"));
		CHECK(e->length == 0);
		CHECK(str_eq(e->title, "Voice of <April>"));
		CHECK(e->description == NULL && e->id == NULL);
		CHECK(str_eq(e->published, "2026-11-28T12:00:00Z"));
		CHECK(e->time == 1795867200);
		e = &f.entries[1];
		CHECK(str_eq(e->url, "https://origin.example/media/song%201.mp3?a=1&b=2"));
		CHECK(str_eq(e->type, "audio/mpeg"));
		CHECK(e->length == 123456);
		CHECK(str_eq(e->title, "Older song"));
		CHECK(str_eq(e->description, "first song"));
		CHECK(str_eq(e->published, "2026-11-02T10:00:00Z"));
		CHECK(str_eq(e->id, "song-1"));
	}
	feed_info_free(&f);
	CHECK(f.entries == NULL && f.title == NULL && f.n_entries == 0);
}

static const char atom[] =
	"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	"<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:base=\"https://ignored.example/\">\n"
	"  <title type=\"text\">Atom &lt;archive&gt;</title>\n"
	"  <subtitle>Kept &#x2014; mirrored</subtitle>\n"
	"  <updated>2026-11-28T12:00:00Z</updated>\n"
	"  <entry>\n"
	"    <title>Updated only</title>\n"
	"    <id>urn:uuid:1</id>\n"
	"    <updated>2026-11-01T00:00:00.123-05:00</updated>\n"
	"    <link rel=\"alternate\" href=\"/page1\"/>\n"
	"    <link rel=\"enclosure\" href=\"/clips/one.webm\" type=\"video/webm\" length=\"99\"/>\n"
	"    <summary>One</summary>\n"
	"  </entry>\n"
	"  <entry>\n"
	"    <title>No enclosure</title>\n"
	"    <link href=\"/page2\"/>\n"
	"    <published>2026-11-20T00:00:00Z</published>\n"
	"  </entry>\n"
	"  <entry>\n"
	"    <title type=\"xhtml\"><div xmlns=\"http://www.w3.org/1999/xhtml\">Two <b>bold</b></div></title>\n"
	"    <published>2026-11-02T08:30:00+02:00</published>\n"
	"    <updated>2026-12-30T00:00:00Z</updated>\n"
	"    <link rel=\"enclosure\" href=\"http://other.example/two.mp3\" length=\"7\"/>\n"
	"    <link rel=\"enclosure\" href=\"http://other.example/second.mp3\"/>\n"
	"    <content type=\"html\">&lt;p&gt;Two&lt;/p&gt;</content>\n"
	"  </entry>\n"
	"</feed>\n";

static void
test_atom(void)
{
	struct feed_info f;
	const struct feed_entry *e;

	CHECK(parse_str(atom, 50, &f) == 0);
	CHECK(str_eq(f.title, "Atom <archive>"));
	CHECK(str_eq(f.description, "Kept \xe2\x80\x94 mirrored"));
	CHECK(f.n_entries == 2);
	if (f.n_entries == 2) {
		/* published wins over a later updated */
		e = &f.entries[0];
		CHECK(str_eq(e->url, "http://other.example/two.mp3"));
		CHECK(e->type == NULL && e->length == 7);
		CHECK(str_eq(e->title, "Two bold"));
		CHECK(str_eq(e->description, "<p>Two</p>"));
		CHECK(str_eq(e->published, "2026-11-02T06:30:00Z"));
		e = &f.entries[1];
		CHECK(str_eq(e->url, "https://origin.example/clips/one.webm"));
		CHECK(str_eq(e->type, "video/webm") && e->length == 99);
		CHECK(str_eq(e->description, "One"));
		CHECK(str_eq(e->published, "2026-11-01T05:00:00Z"));
		CHECK(str_eq(e->id, "urn:uuid:1"));
	}
	feed_info_free(&f);
}

static const char mrss[] =
	"<rss version=\"2.0\" xmlns:media=\"http://search.yahoo.com/mrss/\">\n<channel>\n"
	"<title>Media</title>\n"
	"<item><title>Group</title><pubDate>Tue, 03 Nov 2026 00:00:00 GMT</pubDate>\n"
	"  <media:group>\n"
	"    <media:content url=\"https://v.example/small.mp4\" type=\"video/mp4\" medium=\"video\" fileSize=\"1000\"/>\n"
	"    <media:content url=\"https://v.example/large.mp4\" type=\"video/mp4\" medium=\"video\" fileSize=\"9000\"/>\n"
	"    <media:content url=\"https://v.example/mid.mp4\" type=\"video/mp4\" medium=\"video\" fileSize=\"5000\"/>\n"
	"    <media:title>Group (media title)</media:title>\n"
	"  </media:group>\n"
	"</item>\n"
	"<item><pubDate>Mon, 02 Nov 2026 00:00:00 GMT</pubDate>\n"
	"  <media:content url=\"https://v.example/lo.mp4\" bitrate=\"300\"/>\n"
	"  <media:content url=\"https://v.example/hi.mp4\" bitrate=\"3000\"/>\n"
	"  <media:content url=\"https://v.example/mid.mp4\" bitrate=\"1000\"/>\n"
	"  <media:title>Bitrate</media:title>\n"
	"</item>\n"
	"<item><title>First</title><pubDate>Sun, 01 Nov 2026 00:00:00 GMT</pubDate>\n"
	"  <media:content url=\"https://v.example/a.jpg\" medium=\"image\"/>\n"
	"  <media:content url=\"https://v.example/b.jpg\" medium=\"image\"/>\n"
	"</item>\n"
	"<item><title>Enclosure wins</title><pubDate>Sat, 31 Oct 2026 00:00:00 GMT</pubDate>\n"
	"  <media:content url=\"https://v.example/huge.mp4\" fileSize=\"99999999\"/>\n"
	"  <enclosure url=\"https://v.example/enc.mp3\" type=\"audio/mpeg\" length=\"5\"/>\n"
	"</item>\n"
	"<item><title>Undeclared prefix</title>\n"
	"  <mediax:content url=\"https://v.example/other-ns.mp4\"/>\n"
	"</item>\n"
	"</channel></rss>\n";

static void
test_media_rss(void)
{
	struct feed_info f;

	CHECK(parse_str(mrss, 50, &f) == 0);
	CHECK(f.n_entries == 4);
	if (f.n_entries == 4) {
		CHECK(str_eq(f.entries[0].url, "https://v.example/large.mp4"));
		CHECK(f.entries[0].length == 9000);
		CHECK(str_eq(f.entries[0].title, "Group"));
		CHECK(str_eq(f.entries[1].url, "https://v.example/hi.mp4"));
		CHECK(str_eq(f.entries[1].title, "Bitrate"));
		CHECK(f.entries[1].length == 0);
		CHECK(str_eq(f.entries[2].url, "https://v.example/a.jpg"));
		CHECK(str_eq(f.entries[3].url, "https://v.example/enc.mp3"));
		CHECK(str_eq(f.entries[3].type, "audio/mpeg"));
	}
	feed_info_free(&f);

	/* Without xmlns:media, the usual prefix still says Media RSS. */
	CHECK(parse_str("<rss><channel><item><media:content url=\"http://h/x.mp4\"/>"
	    "</item></channel></rss>", 5, &f) == 0);
	CHECK(f.n_entries == 1 && str_eq(f.entries[0].url, "http://h/x.mp4"));
	feed_info_free(&f);
}

static const char podcast[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<rss version=\"2.0\" xmlns:itunes=\"http://www.itunes.com/dtds/podcast-1.0.dtd\"\n"
	"     xmlns:content=\"http://purl.org/rss/1.0/modules/content/\">\n"
	"<channel>\n"
	"  <title>The Podcast</title>\n"
	"  <itunes:summary>Talk about &lt;things&gt;</itunes:summary>\n"
	"  <itunes:author>Someone</itunes:author>\n"
	"  <item>\n"
	"    <itunes:title>Episode 2</itunes:title>\n"
	"    <itunes:summary>The summary</itunes:summary>\n"
	"    <description><![CDATA[<p>The <b>real</b> description</p>]]></description>\n"
	"    <content:encoded><![CDATA[<p>long</p>]]></content:encoded>\n"
	"    <enclosure url=\"https://pod.example/ep2.m4a\" type=\"audio/x-m4a\" length=\"2000\"/>\n"
	"    <pubDate>Wed, 04 Nov 2026 06:00:00 EST</pubDate>\n"
	"    <itunes:duration>12:00</itunes:duration>\n"
	"  </item>\n"
	"  <item>\n"
	"    <title>Episode 1</title>\n"
	"    <itunes:title>Ep. 1 (itunes)</itunes:title>\n"
	"    <description></description>\n"
	"    <itunes:summary>Only the itunes summary</itunes:summary>\n"
	"    <enclosure url=\"https://pod.example/ep1.mp3\" type=\"audio/mpeg\" length=\"1000\"/>\n"
	"    <pubDate>Tue, 03 Nov 26 06:00 PST</pubDate>\n"
	"  </item>\n"
	"</channel>\n</rss>\n";

static void
test_podcast(void)
{
	struct feed_info f;

	CHECK(parse_str(podcast, 50, &f) == 0);
	CHECK(str_eq(f.title, "The Podcast"));
	CHECK(str_eq(f.description, "Talk about <things>"));
	CHECK(f.n_entries == 2);
	if (f.n_entries == 2) {
		CHECK(str_eq(f.entries[0].title, "Episode 2"));
		CHECK(str_eq(f.entries[0].description, "<p>The <b>real</b> description</p>"));
		CHECK(str_eq(f.entries[0].published, "2026-11-04T11:00:00Z"));
		CHECK(str_eq(f.entries[0].type, "audio/x-m4a"));
		CHECK(str_eq(f.entries[1].title, "Episode 1"));
		CHECK(str_eq(f.entries[1].description, "Only the itunes summary"));
		CHECK(str_eq(f.entries[1].published, "2026-11-03T14:00:00Z"));
	}
	feed_info_free(&f);
}

/* Five items, oldest first, one undated in the middle. */
static const char oldest_first[] =
	"<rss><channel>"
	"<item><pubDate>Sun, 01 Nov 2026 00:00:00 GMT</pubDate><enclosure url=\"http://h/1.mp3\"/></item>"
	"<item><pubDate>Mon, 02 Nov 2026 00:00:00 GMT</pubDate><enclosure url=\"http://h/2.mp3\"/></item>"
	"<item><enclosure url=\"http://h/undated.mp3\"/></item>"
	"<item><pubDate>Tue, 03 Nov 2026 00:00:00 GMT</pubDate><enclosure url=\"http://h/3.mp3\"/></item>"
	"<item><pubDate>Wed, 04 Nov 2026 00:00:00 GMT</pubDate><enclosure url=\"http://h/4.mp3\"/></item>"
	"<item><enclosure url=\"http://h/undated2.mp3\"/></item>"
	"</channel></rss>";

static void
test_max_items(void)
{
	struct feed_info f;
	size_t i;

	CHECK(parse_str(oldest_first, 2, &f) == 0);
	CHECK(f.n_entries == 2 && f.skipped == 4);
	if (f.n_entries == 2) {
		CHECK(str_eq(f.entries[0].url, "http://h/4.mp3"));
		CHECK(str_eq(f.entries[1].url, "http://h/3.mp3"));
	}
	feed_info_free(&f);

	/* All of them: dated newest first, then the undated in document order. */
	CHECK(parse_str(oldest_first, 50, &f) == 0);
	CHECK(f.n_entries == 6 && f.skipped == 0);
	if (f.n_entries == 6) {
		CHECK(str_eq(f.entries[0].url, "http://h/4.mp3"));
		CHECK(str_eq(f.entries[3].url, "http://h/1.mp3"));
		CHECK(str_eq(f.entries[4].url, "http://h/undated.mp3"));
		CHECK(str_eq(f.entries[5].url, "http://h/undated2.mp3"));
		CHECK(f.entries[4].time == INT64_MIN && f.entries[4].published == NULL);
	}
	feed_info_free(&f);

	/* Five kept: the last undated goes. */
	CHECK(parse_str(oldest_first, 5, &f) == 0);
	CHECK(f.n_entries == 5 && f.skipped == 1);
	if (f.n_entries == 5)
		CHECK(str_eq(f.entries[4].url, "http://h/undated.mp3"));
	feed_info_free(&f);

	CHECK(parse_str(oldest_first, 0, &f) == 0);
	CHECK(f.n_entries == 0 && f.skipped == 6 && f.entries == NULL);
	feed_info_free(&f);

	/* Many entries, few kept: the heap keeps the newest, sorted. */
	{
		char *doc = malloc(1 << 20), *w = doc;

		w += sprintf(w, "<rss><channel>");
		for (i = 0; i < 1000; i++)
			w += sprintf(w, "<item><pubDate>2026-01-01T00:%02zu:%02zuZ</pubDate>"
			    "<enclosure url=\"http://h/%zu.mp3\"/></item>",
			    (i * 7919 % 1000) / 60, (i * 7919 % 1000) % 60, i * 7919 % 1000);
		w += sprintf(w, "</channel></rss>");
		CHECK(parse_str(doc, 10, &f) == 0);
		CHECK(f.n_entries == 10 && f.skipped == 990);
		for (i = 0; i < f.n_entries; i++) {
			char want[64];

			snprintf(want, sizeof(want), "http://h/%zu.mp3", 999 - i);
			CHECK(str_eq(f.entries[i].url, want));
		}
		feed_info_free(&f);
		free(doc);
	}
}

static void
test_chunks(void)
{
	const char *docs[] = { rss, atom, mrss, podcast, oldest_first };
	struct feed_info whole, bytes, sevens;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		size_t len = strlen(docs[i]);

		CHECK(parse(docs[i], len, 3, 0, &whole, err, sizeof(err)) == 0);
		CHECK(parse(docs[i], len, 3, 1, &bytes, err, sizeof(err)) == 0);
		CHECK(parse(docs[i], len, 3, 7, &sevens, err, sizeof(err)) == 0);
		CHECK(whole.n_entries > 0);
		CHECK(info_eq(&whole, &bytes));
		CHECK(info_eq(&whole, &sevens));
		feed_info_free(&whole);
		feed_info_free(&bytes);
		feed_info_free(&sevens);
	}
}

static int
date_is(const char *s, int64_t want)
{
	int64_t t = 0;

	if (feed_parse_date(s, &t) != 0 || t != want) {
		fprintf(stderr, "feed_parse_date(%s) = %lld, want %lld\n", s,
		    (long long)t, (long long)want);
		return 0;
	}
	return 1;
}

static void
test_dates(void)
{
	int64_t t;

	/* 2026-11-28T12:00:00Z */
	CHECK(date_is("Sat, 28 Nov 2026 12:00:00 GMT", 1795867200));
	CHECK(date_is("Sat, 28 Nov 2026 12:00:00 +0000", 1795867200));
	CHECK(date_is("Sat, 28 Nov 2026 13:30:00 +0130", 1795867200));
	CHECK(date_is("Sat, 28 Nov 2026 07:00:00 EST", 1795867200));
	CHECK(date_is("Sat, 28 Nov 2026 08:00:00 EDT", 1795867200));
	CHECK(date_is("Sat, 28 Nov 2026 04:00:00 PST", 1795867200));
	CHECK(date_is("Sat, 28 Nov 2026 12:00:00 UT", 1795867200));
	CHECK(date_is("Sat, 28 Nov 2026 12:00:00 Z", 1795867200));
	CHECK(date_is("Sat, 28 Nov 2026 12:00:00 CET", 1795867200));	/* unknown: UTC */
	CHECK(date_is("28 Nov 2026 12:00 GMT", 1795867200));
	CHECK(date_is("Saturday 28 November 2026 12:00:00 GMT", 1795867200));
	CHECK(date_is("sat, 28 nov 26 12:00:00 gmt", 1795867200));
	CHECK(date_is("Sat, 28 Nov 2026 12:00:00", 1795867200));
	CHECK(date_is("Sat, 28 Nov 2026 11:00:00 -0100 (Atlantic)", 1795867200));
	CHECK(date_is("  Sat, 28 Nov 2026 12:00:00 GMT\n", 1795867200));
	CHECK(date_is("Thu, 01 Jan 70 00:00:00 GMT", 0));
	CHECK(date_is("Wed, 31 Dec 49 23:59:59 GMT", 2524607999));
	CHECK(date_is("2026-11-28T12:00:00Z", 1795867200));
	CHECK(date_is("2026-11-28t12:00:00z", 1795867200));
	CHECK(date_is("2026-11-28T12:00:00.999Z", 1795867200));
	CHECK(date_is("2026-11-28T14:00:00+02:00", 1795867200));
	CHECK(date_is("2026-11-28T07:00:00-0500", 1795867200));
	CHECK(date_is("2026-11-28 12:00:00Z", 1795867200));
	CHECK(date_is("2026-11-28T12:00Z", 1795867200));
	CHECK(date_is("2026-11-28T12:00:00", 1795867200));
	CHECK(date_is("2026-11-28", 1795824000));
	CHECK(date_is("2024-02-29T00:00:00Z", 1709164800));
	CHECK(date_is("2026-11-28T00:30:00+01:00", 1795822200));

	CHECK(feed_parse_date("", &t) == -1);
	CHECK(feed_parse_date("yesterday", &t) == -1);
	CHECK(feed_parse_date("2023-02-29T00:00:00Z", &t) == -1);
	CHECK(feed_parse_date("2026-13-01T00:00:00Z", &t) == -1);
	CHECK(feed_parse_date("2026-11-28T24:00:00Z", &t) == -1);
	CHECK(feed_parse_date("2026-11-28T12:00:00+25:00", &t) == -1);
	CHECK(feed_parse_date("2026-11-28T12:00:00Z junk", &t) == -1);
	CHECK(feed_parse_date("2026-11-28T12:00:00.Z", &t) == -1);
	CHECK(feed_parse_date("Sat, 31 Nov 2026 12:00:00 GMT", &t) == -1);
	CHECK(feed_parse_date("Sat, 28 Foo 2026 12:00:00 GMT", &t) == -1);
	CHECK(feed_parse_date("Sat, 28 Nov 12026 12:00:00 GMT", &t) == -1);
	CHECK(feed_parse_date("Sat, 28 Nov 2026 12:60:00 GMT", &t) == -1);
	CHECK(feed_parse_date("Sat, 28 Nov 2026 12:00:00 GMT junk", &t) == -1);
	CHECK(feed_parse_date("Sat, 28 Nov 2026", &t) == -1);
	CHECK(feed_parse_date("0999-12-31T00:00:00Z", &t) == -1);
	CHECK(feed_parse_date("9999-12-31T23:59:59-01:00", &t) == -1);
	CHECK(feed_parse_date(NULL, &t) == -1);
}

/* No fields hold S. */
static int
nowhere(const struct feed_info *f, const char *s)
{
	size_t i;

	if ((f->title != NULL && strstr(f->title, s) != NULL) ||
	    (f->description != NULL && strstr(f->description, s) != NULL))
		return 0;
	for (i = 0; i < f->n_entries; i++) {
		const struct feed_entry *e = &f->entries[i];
		const char *fields[] = { e->url, e->type, e->title, e->description, e->id };
		size_t k;

		for (k = 0; k < sizeof(fields) / sizeof(fields[0]); k++)
			if (fields[k] != NULL && strstr(fields[k], s) != NULL)
				return 0;
	}
	return 1;
}

static void
test_entities(void)
{
	static const char laughs[] =
		"<?xml version=\"1.0\"?>\n"
		"<!DOCTYPE rss [\n"
		" <!ENTITY lol \"lol\">\n"
		" <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
		" <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
		" <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
		" <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
		" <!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
		" <!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
		" <!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
		" <!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
		" <!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
		"]>\n"
		"<rss><channel><title>A &lol9; B</title>\n"
		"<item><title>&lol9;&lol9;</title><description>x &lol9; y</description>"
		"<enclosure url=\"http://h/&lol9;.mp3\"/></item>\n"
		"<item><title>ok</title><enclosure url=\"http://h/ok.mp3\"/></item>\n"
		"</channel></rss>\n";
	static const char external[] =
		"<?xml version=\"1.0\"?>\n"
		"<!DOCTYPE rss [\n"
		" <!ENTITY x SYSTEM \"file:///etc/passwd\">\n"
		" <!ENTITY % p SYSTEM \"file:///etc/passwd\">\n"
		" %p;\n"
		"]>\n"
		"<rss><channel><title>T&x;</title><description>&x;</description>\n"
		"<item><title>&x;</title><guid>&x;</guid><description>&x;</description>"
		"<enclosure url=\"http://h/a.mp3?&x;\" type=\"&x;\"/></item>\n"
		"</channel></rss>\n";
	static const char external_dtd[] =
		"<?xml version=\"1.0\"?>\n"
		"<!DOCTYPE rss SYSTEM \"file:///etc/passwd\">\n"
		"<rss><channel><title>T</title>"
		"<item><title>x</title><enclosure url=\"http://h/a.mp3\"/></item>"
		"</channel></rss>\n";
	struct feed_info f;

	CHECK(parse_str(laughs, 50, &f) == 0);
	CHECK(nowhere(&f, "lol"));
	CHECK(str_eq(f.title, "A B"));
	CHECK(f.n_entries >= 1);
	feed_info_free(&f);

	CHECK(access("/etc/passwd", R_OK) == 0);
	CHECK(parse_str(external, 50, &f) == 0);
	CHECK(nowhere(&f, "root"));
	CHECK(str_eq(f.title, "T"));
	CHECK(f.description == NULL);
	CHECK(f.n_entries == 1);
	if (f.n_entries == 1) {
		CHECK(f.entries[0].title == NULL && f.entries[0].id == NULL);
		CHECK(str_eq(f.entries[0].url, "http://h/a.mp3"));
	}
	feed_info_free(&f);

	CHECK(parse_str(external_dtd, 50, &f) == 0);
	CHECK(nowhere(&f, "root"));
	CHECK(f.n_entries == 1);
	feed_info_free(&f);

	/* A DTD declaring HTML's entities and some attributes is read ... */
	{
		char *doc = malloc(256 * 1024), *w = doc, err[256];
		size_t i;

		w += sprintf(w, "<!DOCTYPE rss [<!ELEMENT rss ANY>"
		    "<!ATTLIST enclosure kind (a|b|c) \"a\" url CDATA \"http://h/default.mp3\">"
		    "<!NOTATION n SYSTEM \"x\"><!ENTITY u SYSTEM \"file:///etc/passwd\" NDATA n>");
		for (i = 0; i < 250; i++)
			w += sprintf(w, "<!ENTITY e%zu \"&#%zu;\">", i, 160 + i);
		w += sprintf(w, "]><rss><channel><title>a&e0;b</title><item><enclosure/></item>"
		    "</channel></rss>");
		CHECK(parse(doc, strlen(doc), 5, 0, &f, err, sizeof(err)) == 0);
		CHECK(str_eq(f.title, "ab"));
		CHECK(f.n_entries == 1 && str_eq(f.entries[0].url, "http://h/default.mp3"));
		feed_info_free(&f);

		/* ... one declaring thousands is not. */
		w = doc;
		w += sprintf(w, "<!DOCTYPE rss [");
		for (i = 0; i < 2000; i++)
			w += sprintf(w, "<!ENTITY e%zu \"%zu\">", i, i);
		w += sprintf(w, "]><rss><channel><title>t</title></channel></rss>");
		CHECK(parse(doc, strlen(doc), 5, 0, &f, err, sizeof(err)) == -1);
		CHECK(strstr(err, "DTD") != NULL);
		free(doc);
	}
}

static void
test_not_feeds(void)
{
	static const char *bad[] = {
		"",
		"   \n",
		"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
		"just some text, no markup at all",
		("<!DOCTYPE html><html><head><title>x</title></head><body>"
		    "<rss>no</rss></body></html>"),
		"<?xml version=\"1.0\"?><playlist><item><enclosure url=\"http://h/a\"/></item></playlist>",
		"<rss:rss xmlns:rss=\"urn:other\"><channel/></rss:rss>",
		"<?xml version=\"1.0\"?><!-- only a comment -->",
	};
	struct feed_info f;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t len = i == 2 ? 16 : strlen(bad[i]);

		err[0] = '\0';
		CHECK(parse(bad[i], len, 50, 0, &f, err, sizeof(err)) == -1);
		CHECK(strncmp(err, "not an RSS or Atom feed", 23) == 0);
		CHECK(f.entries == NULL && f.title == NULL && f.n_entries == 0);
	}
	CHECK(parse(bad[4], strlen(bad[4]), 50, 0, &f, err, sizeof(err)) == -1);
	CHECK(strcmp(err, "not an RSS or Atom feed: the first element is <html>") == 0);

	/* Broken, but a feed: what came before the break stands. */
	CHECK(parse_str("<rss><channel><title>T</title><item><enclosure url=\"http://h/1\"/>"
	    "</item><item><enclosure url=\"http://h/2\"/></item><item><enclosure url=\"http://h/3\"", 50,
	    &f) == 0);
	CHECK(str_eq(f.title, "T") && f.n_entries == 2);
	feed_info_free(&f);
	CHECK(parse_str("<rss><channel><item><title>a</b></title><enclosure url=\"http://h/1\"/>"
	    "</item></channel></rss>", 50, &f) == 0);
	feed_info_free(&f);
}

static void
test_fields(void)
{
	struct feed_info f;
	char *doc = malloc(64 * 1024), *w;
	size_t i;

	/* Caps cut on a UTF-8 boundary: 'a' then 300 two-byte characters
	 * (601 bytes) in a title; 5000 bytes of description. */
	w = doc;
	w += sprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss><channel><item><title>a");
	for (i = 0; i < 300; i++)
		w += sprintf(w, "\xc3\xa9");
	w += sprintf(w, "</title><description>");
	for (i = 0; i < 1000; i++)
		w += sprintf(w, "word ");
	w += sprintf(w, "</description><guid>");
	for (i = 0; i < 1100; i++)
		*w++ = 'g';
	w += sprintf(w, "</guid><enclosure url=\"http://h/a.mp3\"/></item>");
	/* Not http(s), or nothing: no entry. */
	w += sprintf(w, "<item><enclosure url=\"ftp://h/a.mp3\"/></item>");
	w += sprintf(w, "<item><enclosure url=\"javascript:alert(1)\"/></item>");
	w += sprintf(w, "<item><enclosure url=\"  \"/></item>");
	w += sprintf(w, "<item><enclosure type=\"audio/mpeg\"/></item>");
	w += sprintf(w, "<item><enclosure url=\"http://h/%s\"/></item>", "");
	w += sprintf(w, "<item><enclosure url=\" //cdn.example/x y.mp3 \" type=\"bogus\" "
	    "length=\"18446744073709551615\"/></item>");
	w += sprintf(w, "<item><enclosure url=\"http://h/big\" length=\"18446744073709551616\"/></item>");
	w += sprintf(w, "</channel></rss>");
	CHECK(parse_str(doc, 50, &f) == 0);
	CHECK(f.n_entries == 4);
	if (f.n_entries == 4) {
		const struct feed_entry *e = &f.entries[0];

		CHECK(e->title != NULL && strlen(e->title) == 511);
		CHECK(e->title != NULL && name_utf8_valid(e->title, strlen(e->title)));
		CHECK(e->description != NULL && strlen(e->description) <= 4096 &&
		    strlen(e->description) >= 4090);
		CHECK(e->description != NULL &&
		    e->description[strlen(e->description) - 1] != ' ');
		CHECK(e->id == NULL);
		CHECK(str_eq(f.entries[1].url, "http://h/"));
		CHECK(str_eq(f.entries[2].url, "https://cdn.example/x%20y.mp3"));
		CHECK(f.entries[2].type == NULL);
		CHECK(f.entries[2].length == UINT64_MAX);
		CHECK(f.entries[3].length == 0);
	}
	feed_info_free(&f);

	/* A feed in Latin-1 comes out as UTF-8. */
	CHECK(parse_str("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss><channel>"
	    "<title>Caf\xe9</title></channel></rss>", 50, &f) == 0);
	CHECK(str_eq(f.title, "Caf\xc3\xa9"));
	feed_info_free(&f);

	/* RSS 1.0: items beside the channel. */
	CHECK(parse_str("<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" "
	    "xmlns=\"http://purl.org/rss/1.0/\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" "
	    "xmlns:enc=\"http://purl.oclc.org/net/rss_2.0/enc#\">"
	    "<channel rdf:about=\"x\"><title>RDF</title><description>d</description></channel>"
	    "<item rdf:about=\"i\"><title>one</title><dc:date>2026-11-28</dc:date>"
	    "<media:content xmlns:media=\"http://search.yahoo.com/mrss/\" url=\"/r.mp3\"/></item>"
	    "</rdf:RDF>", 50, &f) == 0);
	CHECK(str_eq(f.title, "RDF") && str_eq(f.description, "d"));
	CHECK(f.n_entries == 1);
	if (f.n_entries == 1) {
		CHECK(str_eq(f.entries[0].url, "https://origin.example/r.mp3"));
		CHECK(str_eq(f.entries[0].published, "2026-11-28T00:00:00Z"));
	}
	feed_info_free(&f);
	free(doc);

	/* A parser without a base takes absolute URLs only. */
	{
		struct feed_parser *p = feed_parser_new(NULL, 5);
		const char *d = "<rss><channel><item><enclosure url=\"/rel.mp3\"/></item>"
		    "<item><enclosure url=\"http://h/abs.mp3\"/></item></channel></rss>";
		char err[128];

		CHECK(p != NULL);
		CHECK(feed_parser_feed(p, d, strlen(d)) == 0);
		CHECK(feed_parser_finish(p, &f, err, sizeof(err)) == 0);
		CHECK(f.n_entries == 1 && str_eq(f.entries[0].url, "http://h/abs.mp3"));
		feed_info_free(&f);
		CHECK(feed_parser_finish(p, &f, err, sizeof(err)) == -1);
		feed_parser_free(p);
	}
}

/* Broken documents of every kind leave stderr alone. */
static void
test_quiet(void)
{
	static const char *docs[] = {
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss><channel><title>a\xe9\xff</title>"
		    "<item><title>\xc3(</title><enclosure url=\"http://h/\xff.mp3\"/></item></channel></rss>",
		"<?xml version=\"1.0\" encoding=\"no-such-charset\"?><rss><channel><title>x</title></channel></rss>",
		"<?xml version=\"1.0\" encoding=\"Shift_JIS\"?><rss><channel><title>\x81\xff\xa0</title></channel></rss>",
		"<?xml version=\"1.0\" encoding=\"UTF-16\"?><rss><channel><title>x</title></channel></rss>",
		"<rss><channel><title>&nbsp;&amp;&#0;&#xd800;&#99999999;</title><item x=\"1\" x=\"2\">"
		    "<enclosure url=\"http://h/a\" url=\"http://h/b\"/></item></channel></rss><extra/>",
		"<rss><channel><item></channel></rss>",
		"<rss xmlns:a=\"\"><a:b/><![CDATA[x</rss>",
	};
	struct feed_info f;
	char err[256], path[] = "/tmp/test_feed_parse.XXXXXX";
	int fd, saved;
	size_t i;
	off_t size;

	if ((fd = mkstemp(path)) < 0) {
		CHECK(0);
		return;
	}
	unlink(path);
	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		if (parse(docs[i], strlen(docs[i]), 50, 0, &f, err, sizeof(err)) == 0) {
			size_t k;

			if (f.title != NULL)
				CHECK(name_utf8_valid(f.title, strlen(f.title)));
			for (k = 0; k < f.n_entries; k++)
				CHECK(strncmp(f.entries[k].url, "http://h/", 9) == 0);
			feed_info_free(&f);
		}
		feed_info_free(&f);
		parse(docs[i], strlen(docs[i]), 50, 1, &f, err, sizeof(err));
		feed_info_free(&f);
	}
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	size = lseek(fd, 0, SEEK_END);
	CHECK(size == 0);
	close(fd);
}

static void
test_sniff(void)
{
	static const struct {
		const char *s;
		int want;
	} cases[] = {
		{ "<rss version=\"2.0\">", 1 },
		{ "<?xml version=\"1.0\"?>\n<rss>", 1 },
		{ "\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<feed xmlns=\"http://www.w3.org/2005/Atom\">", 1 },
		{ "  <!-- generator --><?xml-stylesheet href=\"s.xsl\"?>\n<rdf:RDF\n xmlns:rdf=\"x\">", 1 },
		{ "<?xml version=\"1.0\"?><!DOCTYPE rss PUBLIC \"-//x//\" \"http://x/rss.dtd\"><rss/>", 1 },
		{ "<!DOCTYPE rss [<!ENTITY a \"]>\"> <!ELEMENT x ANY>]><rss>", 1 },
		{ "<feed>", 1 },
		{ "<rss", 0 },		/* cannot tell yet */
		{ "<rssx>", 0 },
		{ "<feeds>", 0 },
		{ "<rdf:rdf>", 0 },
		{ "<!DOCTYPE html><html>", 0 },
		{ "<html><rss>", 0 },
		{ "<?xml version=\"1.0\"?><playlist>", 0 },
		{ "#EXTM3U\n", 0 },
		{ "", 0 },
		{ "<?xml version=\"1.0\"", 0 },
		{ "<!-- <rss> -->", 0 },
		{ "x<rss>", 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int got = feed_sniff(cases[i].s, strlen(cases[i].s));

		if (got != cases[i].want)
			fprintf(stderr, "feed_sniff(%s) = %d\n", cases[i].s, got);
		CHECK(got == cases[i].want);
	}
	/* Only LEN bytes are looked at. */
	CHECK(feed_sniff("<rss>", 3) == 0);
	CHECK(feed_sniff("<rss>", 5) == 1);
}

int
main(void)
{
	test_rss();
	test_atom();
	test_media_rss();
	test_podcast();
	test_max_items();
	test_chunks();
	test_dates();
	test_entities();
	test_not_feeds();
	test_fields();
	test_quiet();
	test_sniff();
	CHECK_DONE();
}

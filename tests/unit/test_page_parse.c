/*
 * The HTML page parser: which media and feeds a page gives (one per
 * <video>/<audio>, the best <source>, <a href> to media, og:video with
 * its secure_url, rss/atom links), resolved against <base href> and the
 * page URL, http(s) only, each once; titles and descriptions (og: over
 * markup, collapsed, valid UTF-8 even from a GBK page); the same result
 * however the page is cut into chunks; hostile markup (unclosed and
 * nested tags, NULs, valueless attributes, deep nesting, a tag without
 * end); 10,000 links against a cap of 50; and a 50 MB page in a few
 * megabytes. Also page_sniff and page_is_media.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "page_parse.h"
#include "check.h"

#define PAGE_URL "https://site.example/dir/story.html?id=7#top"

/* Parses BUF fed in chunks of CHUNK bytes (0: all at once). */
static int
parse(const char *buf, size_t len, size_t chunk, size_t max_media, size_t max_feeds,
    struct page_info *info)
{
	struct page_parser *p;
	char err[128];
	size_t off, n;
	int r;

	if ((p = page_parser_new(PAGE_URL, max_media, max_feeds)) == NULL)
		return -1;
	if (chunk == 0)
		chunk = len > 0 ? len : 1;
	for (off = 0; off < len; off += n) {
		n = len - off < chunk ? len - off : chunk;
		if (page_parser_feed(p, buf + off, n) == -1) {
			page_parser_free(p);
			return -1;
		}
	}
	r = page_parser_finish(p, info, err, sizeof(err));
	if (r == -1)
		fprintf(stderr, "finish: %s\n", err);
	page_parser_free(p);
	return r;
}

static int
parse_str(const char *html, struct page_info *info)
{
	return parse(html, strlen(html), 0, 50, 10, info);
}

/* The index of the link with URL, or -1. */
static long
find(const struct page_info *info, const char *url)
{
	size_t i;

	for (i = 0; i < info->n_links; i++)
		if (strcmp(info->links[i].url, url) == 0)
			return (long)i;
	return -1;
}

static int
streq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Two results are the same, link by link. */
static int
same(const struct page_info *a, const struct page_info *b)
{
	size_t i;

	if (!streq(a->title, b->title) || !streq(a->description, b->description) ||
	    !streq(a->base_raw, b->base_raw) || a->n_links != b->n_links ||
	    a->n_media != b->n_media || a->n_feeds != b->n_feeds || a->skipped != b->skipped)
		return 0;
	for (i = 0; i < a->n_links; i++)
		if (a->links[i].kind != b->links[i].kind ||
		    !streq(a->links[i].url, b->links[i].url) ||
		    !streq(a->links[i].raw, b->links[i].raw) ||
		    !streq(a->links[i].type, b->links[i].type))
			return 0;
	return 1;
}

static void
dump(const struct page_info *info)
{
	size_t i;

	fprintf(stderr, "title=%s description=%s base=%s media=%zu feeds=%zu skipped=%zu\n",
	    info->title ? info->title : "(null)",
	    info->description ? info->description : "(null)",
	    info->base_raw ? info->base_raw : "(null)",
	    info->n_media, info->n_feeds, info->skipped);
	for (i = 0; i < info->n_links; i++)
		fprintf(stderr, "  %d %s raw=%s type=%s\n", (int)info->links[i].kind,
		    info->links[i].url, info->links[i].raw,
		    info->links[i].type ? info->links[i].type : "(null)");
}

static int
utf8_ok(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, n, k;

	while (u[i] != '\0') {
		if (u[i] < 0x80)
			n = 0;
		else if (u[i] >= 0xc2 && u[i] <= 0xdf)
			n = 1;
		else if (u[i] >= 0xe0 && u[i] <= 0xef)
			n = 2;
		else if (u[i] >= 0xf0 && u[i] <= 0xf4)
			n = 3;
		else
			return 0;
		for (k = 1; k <= n; k++)
			if ((u[i + k] & 0xc0) != 0x80)
				return 0;
		i += n + 1;
	}
	return 1;
}

static const char main_page[] =
	"<!DOCTYPE html>\n"
	"<html lang=en><head>\n"
	"<meta charset=utf-8>\n"
	"<title>  The   markup\n title </title>\n"
	"<meta property=\"og:title\" content=\" Story &amp; more \">\n"
	"<meta property=\"og:video\" content=\"http://cdn.example/og.mp4\">\n"
	"<meta property=\"og:video:secure_url\" content=\"https://cdn.example/og.mp4\">\n"
	"<meta property=\"og:video:type\" content=\"video/mp4\">\n"
	"<meta name=\"description\" content=\"What\n\tit is\">\n"
	"<base href=\"media/\">\n"
	"<link rel=\"Alternate\" type=\"application/rss+xml\" title=RSS href=\"/feed.xml\">\n"
	"<link rel=\"stylesheet alternate\" type=\"application/atom+xml\" href=\"atom.xml\">\n"
	"<link rel=\"alternate\" type=\"text/html\" href=\"/en/\">\n"
	"<link rel=\"alternate\" type=\"application/rss+xml\" href=\"/feed.xml#dup\">\n"
	"</head><body>\n"
	"<h1>Story<p>unclosed <b>bold <i>italic\n"
	"<video controls poster=p.jpg>\n"
	"  <source src=\"clip.webm\" type=\"video/webm\">\n"
	"  <source src=\"clip.mp4\" type='video/mp4; codecs=\"avc1.42E01E\"'>\n"
	"  <source src=\"clip.ogv\" type=\"video/ogg\">\n"
	"</video>\n"
	"<audio src=\"song.ogg\" controls></audio>\n"
	"<a href=\"/files/talk.MP3?dl=1#t=10\">talk</a>\n"
	"<a href=\"/files/talk.MP3?dl=1\">again, deduplicated</a>\n"
	"<a href=\"javascript:play('x.mp4')\">js</a>\n"
	"<a href=\"file:///etc/clip.mp4\">file</a>\n"
	"<a href=\"mailto:a@example.org?subject=x.mp3\">mail</a>\n"
	"<a href=\"data:audio/mpeg;base64,AAAA\" type=audio/mpeg>data</a>\n"
	"<a href=\"ftp://example.org/x.mp3\">ftp</a>\n"
	"<a href=\"\" type=video/mp4>empty</a>\n"
	"<a href=\"https://other.example/page.html\">a page</a>\n"
	"<a href=\"/stream\" type=\"application/x-mpegURL\">live</a>\n"
	"<img src=\"pic.jpg\"><iframe src=\"embed.mp4\"></iframe><script src=\"x.mp4\"></script>\n"
	"<video><source src=\"a.mp3\" type=\"audio/mpeg\"><video src=\"inner.mp4\"><source src=\"inner.webm\"></video></video>\n"
	"<div><span><table><tr><td>never closed\n";

static void
test_main_page(void)
{
	struct page_info info;
	const char *want[] = {
		"https://cdn.example/og.mp4",
		"https://site.example/dir/media/clip.mp4",
		"https://site.example/dir/media/song.ogg",
		"https://site.example/files/talk.MP3?dl=1",
		"https://site.example/stream",
		"https://site.example/dir/media/a.mp3",
		"https://site.example/dir/media/inner.mp4",
		"https://site.example/feed.xml",
		"https://site.example/dir/media/atom.xml",
	};
	size_t i;
	long k;

	CHECK(parse_str(main_page, &info) == 0);
	CHECK(info.n_links == sizeof(want) / sizeof(want[0]));
	CHECK(info.n_media == 7 && info.n_feeds == 2 && info.skipped == 0);
	CHECK(info.n_links == info.n_media + info.n_feeds);
	for (i = 0; i < info.n_links && i < sizeof(want) / sizeof(want[0]); i++)
		CHECK(streq(info.links[i].url, want[i]));
	for (i = 0; i < info.n_links; i++)
		CHECK(info.links[i].kind == (i < info.n_media ? PAGE_MEDIA : PAGE_FEED));
	CHECK(streq(info.title, "Story & more"));
	CHECK(streq(info.description, "What it is"));
	CHECK(streq(info.base_raw, "media/"));
	/* og:video: the secure URL over the plain one, typed. */
	CHECK(find(&info, "http://cdn.example/og.mp4") == -1);
	CHECK((k = find(&info, "https://cdn.example/og.mp4")) == 0 &&
	    streq(info.links[k].type, "video/mp4") &&
	    streq(info.links[k].raw, "https://cdn.example/og.mp4"));
	/* One <source> per element: mp4 over the webm before it. */
	CHECK(find(&info, "https://site.example/dir/media/clip.webm") == -1);
	CHECK(find(&info, "https://site.example/dir/media/clip.ogv") == -1);
	CHECK((k = find(&info, "https://site.example/dir/media/clip.mp4")) >= 0 &&
	    streq(info.links[k].raw, "clip.mp4") && streq(info.links[k].type, "video/mp4"));
	CHECK((k = find(&info, "https://site.example/files/talk.MP3?dl=1")) >= 0 &&
	    streq(info.links[k].raw, "/files/talk.MP3?dl=1#t=10") && info.links[k].type == NULL);
	CHECK((k = find(&info, "https://site.example/stream")) >= 0 &&
	    streq(info.links[k].type, "application/x-mpegurl"));
	CHECK(find(&info, "https://site.example/dir/media/inner.webm") == -1);
	CHECK((k = find(&info, "https://site.example/feed.xml")) >= 0 &&
	    streq(info.links[k].raw, "/feed.xml") &&
	    streq(info.links[k].type, "application/rss+xml"));
	for (i = 0; i < info.n_links; i++) {
		CHECK(strncmp(info.links[i].url, "http://", 7) == 0 ||
		    strncmp(info.links[i].url, "https://", 8) == 0);
		CHECK(strchr(info.links[i].url, '#') == NULL);
	}
	if (check_failures)
		dump(&info);
	page_info_free(&info);
	page_info_free(&info);	/* emptied: a second free is harmless */
}

/* Any chunking gives what one chunk gives, also across libxml2's
 * pieces (a page larger than PAGE_FEED_STEP, cut inside a quoted
 * attribute value, a comment and a text run). */
static void
test_chunks(void)
{
	static const size_t sizes[] = { 1, 2, 3, 7, 100, 4096, 65535, 65537 };
	struct page_info one, other;
	char *big;
	size_t len, i, off;

	CHECK(parse_str(main_page, &one) == 0);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		CHECK(parse(main_page, strlen(main_page), sizes[i], 50, 10, &other) == 0);
		CHECK(same(&one, &other));
		page_info_free(&other);
	}
	page_info_free(&one);

	/* Padding puts piece boundaries inside the tags that follow. */
	len = 3 * PAGE_FEED_STEP;
	if ((big = malloc(len + 1)) == NULL)
		return;
	off = (size_t)snprintf(big, len, "<html><head><title>Big</title></head><body><p>");
	for (i = 0; i < 8; i++) {
		while (off < (i + 1) * PAGE_FEED_STEP / 3 - 20)
			big[off++] = 'x';
		off += (size_t)snprintf(big + off, len - off,
		    "<a class=\"c\" href=\"/long/path/number/%zu/clip.mp4\" title=\"t\">x</a>", i);
	}
	while (off < 2 * PAGE_FEED_STEP - 10)
		big[off++] = ' ';
	off += (size_t)snprintf(big + off, len - off,
	    "<!-- a comment --><video src=\"/last.mp4\"></video><a href='/end.mp3'>end</a>");
	CHECK(parse(big, off, 0, 50, 10, &one) == 0);
	CHECK(one.n_media == 10);
	CHECK(find(&one, "https://site.example/long/path/number/7/clip.mp4") >= 0);
	CHECK(find(&one, "https://site.example/last.mp4") >= 0);
	CHECK(find(&one, "https://site.example/end.mp3") == 9);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		CHECK(parse(big, off, sizes[i], 50, 10, &other) == 0);
		CHECK(same(&one, &other));
		page_info_free(&other);
	}
	if (check_failures)
		dump(&one);
	page_info_free(&one);
	free(big);
}

/* 10,000 media links, 50 taken: the rest are counted, not kept. */
static void
test_cap(void)
{
	struct page_info info;
	char *buf;
	size_t len = 0, cap = 10000 * 64 + 256, i;
	clock_t t0;

	if ((buf = malloc(cap)) == NULL)
		return;
	len += (size_t)snprintf(buf, cap, "<html><body>\n");
	for (i = 0; i < 10000; i++)
		len += (size_t)snprintf(buf + len, cap - len,
		    "<p><a href=\"/m/%zu.mp3\">%zu</a>\n", i, i);
	/* A duplicate of a kept one is no skipped medium. */
	len += (size_t)snprintf(buf + len, cap - len, "<a href=\"/m/0.mp3\">0</a>");
	t0 = clock();
	CHECK(parse(buf, len, 0, 50, 10, &info) == 0);
	printf("10,000 links: %.0f ms CPU\n", (double)(clock() - t0) * 1000 / CLOCKS_PER_SEC);
	CHECK(info.n_media == 50 && info.n_links == 50);
	CHECK(info.skipped == 9950);
	CHECK(streq(info.links[0].url, "https://site.example/m/0.mp3"));
	CHECK(streq(info.links[49].url, "https://site.example/m/49.mp3"));
	page_info_free(&info);
	/* A cap of 0: nothing taken, all counted, the duplicate too (what
	 * is skipped is not remembered: that would cost the memory the cap
	 * saves). */
	CHECK(parse(buf, len, 0, 0, 0, &info) == 0);
	CHECK(info.n_links == 0 && info.links == NULL && info.skipped == 10001);
	page_info_free(&info);
	free(buf);
}

/* A <video> whose <source>s give nothing leaves no gap; the order is
 * the elements' order, not the order their URLs are decided. */
static void
test_order(void)
{
	struct page_info info;
	const char *html;

	CHECK(parse_str("<video><source src=\"javascript:x\"></video>"
	    "<video><a href=\"fallback.mp3\">f</a><source src=\"v.mp4\"></video>"
	    "<meta property=og:audio content=\"https://cdn.example/a.mp3\">"
	    "<video><source src=\"v.mp4\" type=video/mp4></video>"
	    "<meta property=og:video content=\"https://www.example/embed/1\">"
	    "<meta property=og:video:type content=\"text/html\">"
	    "<a href=\"x.wav\">", &info) == 0);
	CHECK(info.n_media == 4);
	if (info.n_media == 4) {
		CHECK(streq(info.links[0].url, "https://site.example/dir/v.mp4"));
		CHECK(streq(info.links[1].url, "https://site.example/dir/fallback.mp3"));
		CHECK(streq(info.links[2].url, "https://cdn.example/a.mp3"));
		CHECK(streq(info.links[3].url, "https://site.example/dir/x.wav"));
	} else
		dump(&info);
	page_info_free(&info);
	/* Reserved places count against the cap like taken ones. */
	html = "<video><source src=a.mp4></video><video src=b.mp4></video><a href=c.mp3>";
	CHECK(parse(html, strlen(html), 0, 1, 0, &info) == 0);
	CHECK(info.n_media == 1 && info.skipped == 2 &&
	    streq(info.links[0].url, "https://site.example/dir/a.mp4"));
	page_info_free(&info);
}

/* <title>中文标题</title> in GBK, declared by <meta charset>, also with
 * the title past the first piece and a character cut by a piece end. */
static void
test_gbk(void)
{
	static const char title_gbk[] = "\xd6\xd0\xce\xc4\xb1\xea\xcc\xe2";
	static const char title_utf8[] = "\xe4\xb8\xad\xe6\x96\x87\xe6\xa0\x87\xe9\xa2\x98";
	struct page_info info;
	char *buf;
	size_t off, cap = 2 * PAGE_FEED_STEP, pad;
	int shift;

	CHECK(parse_str("<html><head><meta charset=\"gbk\"><title>\xd6\xd0\xce\xc4"
	    "\xb1\xea\xcc\xe2</title></head><body><a href=\"\xd6\xd0.mp3\">x</a>", &info) == 0);
	CHECK(streq(info.title, title_utf8));
	CHECK(info.n_media == 1 &&
	    streq(info.links[0].url, "https://site.example/dir/%e4%b8%ad.mp3"));
	page_info_free(&info);

	if ((buf = malloc(cap)) == NULL)
		return;
	for (shift = 0; shift < 3; shift++) {
		off = (size_t)snprintf(buf, cap,
		    "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=GBK\"><!-- ");
		pad = PAGE_FEED_STEP - 12 - (size_t)shift;
		while (off < pad)
			buf[off++] = '-';
		off += (size_t)snprintf(buf + off, cap - off, " --><title>%s</title>", title_gbk);
		CHECK(parse(buf, off, 0, 50, 10, &info) == 0);
		CHECK(streq(info.title, title_utf8));
		if (!streq(info.title, title_utf8))
			fprintf(stderr, "shift %d: title %s\n", shift,
			    info.title != NULL ? info.title : "(null)");
		page_info_free(&info);
	}
	free(buf);
}

static void
test_titles(void)
{
	struct page_info info;
	char *buf;
	size_t off, cap = 8192, i;

	/* <title> when there is no og:title; the first one. */
	CHECK(parse_str("<title>\tOne\r\n two </title><title>Two</title>"
	    "<meta property=og:description content=\"og desc\">"
	    "<meta name=description content=\"plain desc\">", &info) == 0);
	CHECK(streq(info.title, "One two"));
	CHECK(streq(info.description, "og desc"));
	page_info_free(&info);
	/* An empty og:title falls back to <title>; an unclosed one ends. */
	CHECK(parse_str("<meta property=og:title content=\"  \"><title>Open "
	    "<meta name=description><body>text", &info) == 0);
	CHECK(streq(info.title, "Open"));
	CHECK(info.description == NULL);
	page_info_free(&info);
	/* Nothing at all. */
	CHECK(parse_str("", &info) == 0);
	CHECK(info.title == NULL && info.description == NULL && info.base_raw == NULL &&
	    info.links == NULL && info.n_links == 0);
	page_info_free(&info);
	/* Long: cut at 512 bytes on a character, still UTF-8. */
	if ((buf = malloc(cap)) == NULL)
		return;
	for (i = 0; i < 3; i++) {
		off = (size_t)snprintf(buf, cap, "<title>%.*s", (int)i, "abc");
		while (off < cap - 100)
			off += (size_t)snprintf(buf + off, cap - off, "\xe2\x82\xac ");
		off += (size_t)snprintf(buf + off, cap - off, "</title>");
		CHECK(parse(buf, off, 0, 50, 10, &info) == 0);
		CHECK(info.title != NULL && strlen(info.title) <= PAGE_TITLE_MAX &&
		    strlen(info.title) > PAGE_TITLE_MAX - 8 && utf8_ok(info.title) &&
		    info.title[strlen(info.title) - 1] != ' ');
		page_info_free(&info);
	}
	free(buf);
	/* Bytes that are no UTF-8 in a page that says it is: whatever
	 * libxml2 makes of them, the title is valid UTF-8 or none. */
	CHECK(parse_str("<meta charset=utf-8><title>caf\xe9 \xff\xfe\xc0\xaf</title>", &info) == 0);
	CHECK(info.title == NULL || utf8_ok(info.title));
	page_info_free(&info);
	/* Controls never reach a title (libxml2 drops some, the rest are
	 * whitespace). */
	CHECK(parse_str("<title>a\x01" "b\x7f" "c\x1b</title>", &info) == 0);
	CHECK(info.title != NULL && strspn(info.title, "abc ") == strlen(info.title) &&
	    strchr(info.title, 'c') != NULL);
	page_info_free(&info);
}

static void
test_hostile(void)
{
	static const char nuls[] = "<html>\0<title>T\0itle</title><a href=\"a.mp3\0\">"
	    "\0<video src=\"\0\"><source src=b.mp4></video><a\0 href=c.mp3>";
	struct page_info info;
	char *buf;
	size_t off, cap = 4u << 20, i;
	clock_t t0;

	/* NUL bytes anywhere. */
	CHECK(parse(nuls, sizeof(nuls) - 1, 0, 50, 10, &info) == 0);
	for (i = 0; i < info.n_links; i++)
		CHECK(utf8_ok(info.links[i].url));
	CHECK(info.title == NULL || utf8_ok(info.title));
	page_info_free(&info);
	/* Valueless attributes; a <base> that is no http URL is kept raw
	 * but not used; <source> outside media. */
	CHECK(parse_str("<base href=\"javascript:void(0)\"><video src><source src type>"
	    "<source src=\"q.mp4\"></video><a href>z</a><a href=\"z.mp3\" type>"
	    "<picture><source src=\"p.mp4\"></picture><link rel href type>", &info) == 0);
	CHECK(streq(info.base_raw, "javascript:void(0)"));
	CHECK(info.n_media == 2 && find(&info, "https://site.example/dir/q.mp4") == 0 &&
	    find(&info, "https://site.example/dir/z.mp3") == 1);
	page_info_free(&info);
	/* A URL over 8 KiB is dropped, not cut. */
	if ((buf = malloc(cap)) == NULL)
		return;
	off = (size_t)snprintf(buf, cap, "<a href=\"/");
	while (off < PAGE_URL_MAX + 100)
		buf[off++] = 'x';
	off += (size_t)snprintf(buf + off, cap - off, ".mp4\">x</a><a href=ok.mp4>");
	CHECK(parse(buf, off, 0, 50, 10, &info) == 0);
	CHECK(info.n_media == 1 && find(&info, "https://site.example/dir/ok.mp4") == 0);
	page_info_free(&info);
	/* Deep nesting and unclosed tags: stopped, fast, no crash. */
	t0 = clock();
	off = 0;
	while (off < cap - 64)
		off += (size_t)snprintf(buf + off, cap - off, "<div><span><video><audio>");
	CHECK(parse(buf, off, 4096, 50, 10, &info) == 0);
	CHECK(info.n_links == 0);
	page_info_free(&info);
	/* A tag that never ends. */
	off = (size_t)snprintf(buf, cap, "<a href=ok.mp3><a title=\"");
	memset(buf + off, 'y', cap - off);
	CHECK(parse(buf, cap, 16384, 50, 10, &info) == 0);
	CHECK(info.n_media == 1);
	page_info_free(&info);
	/* Many distinct tag names. */
	off = 0;
	for (i = 0; off < cap - 64; i++)
		off += (size_t)snprintf(buf + off, cap - off, "<x%zu a%zu=1>", i, i);
	CHECK(parse(buf, off, 0, 50, 10, &info) == 0);
	page_info_free(&info);
	printf("hostile pages: %.0f ms CPU\n", (double)(clock() - t0) * 1000 / CLOCKS_PER_SEC);
	free(buf);
}

static long
maxrss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* 50 MB of ordinary markup, fed as a crawler would: the parser's
 * memory stays that of a small page. */
static void
test_large(void)
{
	static char chunk[16384];
	struct page_parser *p;
	struct page_info info;
	char row[256], err[128];
	size_t fed = 0, n = 0, i = 0;
	long before = maxrss_kb(), growth;
	clock_t t0 = clock();
	int len;

	if ((p = page_parser_new(PAGE_URL, 50, 10)) == NULL) {
		CHECK(p != NULL);
		return;
	}
	CHECK(page_parser_feed(p, "<!doctype html><html><head><title>Large</title></head><body>", 61) == 0);
	while (fed < 50u * 1000 * 1000) {
		len = snprintf(row, sizeof(row), "<div class=\"row\"><p>Paragraph %zu with "
		    "<a href=\"/page/%zu.html\">a page</a> and <a href=\"/m/%zu.mp3\">audio"
		    "</a> &amp; <b>more</b>.</p></div>\n", i, i, i);
		i++;
		if (n + (size_t)len > sizeof(chunk)) {
			CHECK(page_parser_feed(p, chunk, n) == 0);
			fed += n;
			n = 0;
		}
		memcpy(chunk + n, row, (size_t)len);
		n += (size_t)len;
	}
	CHECK(page_parser_feed(p, chunk, n) == 0);
	CHECK(page_parser_finish(p, &info, err, sizeof(err)) == 0);
	page_parser_free(p);
	growth = maxrss_kb() - before;
	printf("50 MB page: %.1f s CPU, peak RSS %ld kB (growth %ld kB), %zu media, %zu skipped\n",
	    (double)(clock() - t0) / CLOCKS_PER_SEC, maxrss_kb(), growth, info.n_media,
	    info.skipped);
	CHECK(streq(info.title, "Large"));
	CHECK(info.n_media == 50 && info.skipped == i - 50);
#if !defined(__SANITIZE_ADDRESS__)
	/* Sanitizers keep freed memory in quarantine: only measured bare. */
	CHECK(growth < 30 * 1024);
#endif
	page_info_free(&info);
}

static void
test_sniff(void)
{
	CHECK(page_sniff("<!DOCTYPE html>", 15) == 1);
	CHECK(page_sniff("<!doctype HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\">", 49) == 1);
	CHECK(page_sniff("\xef\xbb\xbf \r\n\t<html lang=en>", 21) == 1);
	CHECK(page_sniff("<HEAD><title>", 13) == 1);
	CHECK(page_sniff("<body>", 6) == 1);
	CHECK(page_sniff("<html>", 6) == 1);
	CHECK(page_sniff("<!-- generated --> <!-- twice -->\n<html>", 40) == 1);
	CHECK(page_sniff("<!-- unterminated <html>", 24) == 0);
	CHECK(page_sniff("<header>", 8) == 0);
	CHECK(page_sniff("<htmlx>", 7) == 0);
	CHECK(page_sniff("<html", 5) == 0);
	CHECK(page_sniff("<?xml version=\"1.0\"?><rss>", 26) == 0);
	CHECK(page_sniff("<rss version=\"2.0\">", 19) == 0);
	CHECK(page_sniff("#EXTM3U\n", 8) == 0);
	CHECK(page_sniff("", 0) == 0);
	CHECK(page_sniff("   ", 3) == 0);
	CHECK(page_sniff("\xef\xbb\xbf", 3) == 0);
	/* LEN is the end: nothing past it is read. */
	CHECK(page_sniff("<html>", 3) == 0);
}

static void
test_is_media(void)
{
	CHECK(page_is_media("https://a.example/v/clip.mp4", NULL) == 1);
	CHECK(page_is_media("https://a.example/v/CLIP.WebM?x=1#y", NULL) == 1);
	CHECK(page_is_media("/a/b.m3u8", NULL) == 1);
	CHECK(page_is_media("song.opus", NULL) == 1);
	CHECK(page_is_media("https://a.example/x.flac ", NULL) == 1);
	CHECK(page_is_media("https://a.example/get?file=x.mp4", NULL) == 0);
	CHECK(page_is_media("https://a.example/x.mp4/", NULL) == 0);
	CHECK(page_is_media("https://clip.mp4", NULL) == 0);
	CHECK(page_is_media("https://clip.mp4?x.mp3", NULL) == 0);
	CHECK(page_is_media("//cdn.mp3", NULL) == 0);
	CHECK(page_is_media("https://a.example/.mp4x", NULL) == 0);
	CHECK(page_is_media(".mp4", NULL) == 0);
	CHECK(page_is_media("https://a.example/page.html", NULL) == 0);
	CHECK(page_is_media("https://a.example/page", "video/mp4") == 1);
	CHECK(page_is_media("https://a.example/page", " Audio/MPEG ; q=1") == 1);
	CHECK(page_is_media("https://a.example/live", "application/vnd.apple.mpegurl") == 1);
	CHECK(page_is_media(NULL, "application/x-mpegURL") == 1);
	CHECK(page_is_media("https://a.example/page", "text/html") == 0);
	CHECK(page_is_media("https://a.example/page", "video") == 0);
	CHECK(page_is_media("https://a.example/page", "") == 0);
	CHECK(page_is_media(NULL, NULL) == 0);
}

int
main(void)
{
	/* First, while the peak RSS is still the program's own. */
	test_large();
	test_sniff();
	test_is_media();
	test_main_page();
	test_chunks();
	test_order();
	test_cap();
	test_gbk();
	test_titles();
	test_hostile();
	CHECK_DONE();
}

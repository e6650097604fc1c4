#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "index_page.h"
#include "check.h"

#define PUBKEY	"RWQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QTaLn73Y7GFO3"
#define SHA_A	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SHA_B	"2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"
#define EVIL	"<script>alert(\"x\")</script>'.mp4"

static const int all_langs[] = { 0, 1, 2, 3, 4 };

/* One page in language LANG (index_langs[]), searched for Q (or NULL);
 * *PAGES gets the page count. */
static char *
render_page(json_t *cat, const char *pubkey, const char *self_url,
    const char *pin, int lang, size_t page, const char *q, size_t *pages)
{
	struct index_page_info info = { cat, pubkey, self_url, pin, lang,
	    all_langs, 5, page, q, 0 };
	size_t len = 0;
	char *s;

	s = index_page_render(&info, &len, pages);
	if (s == NULL) {
		fprintf(stderr, "render failed\n");
		exit(1);
	}
	if (strlen(s) != len) {
		fprintf(stderr, "length mismatch\n");
		exit(1);
	}
	return s;
}

/* Every page in English, one after the other: what the older checks
 * below look at as one document (each item is on exactly one page). */
static char *
render(json_t *cat, const char *pubkey, const char *self_url)
{
	size_t pages = 1, p, len = 0, n;
	char *all = NULL, *s, *t;

	for (p = 1; p <= pages; p++) {
		s = render_page(cat, pubkey, self_url, NULL, 0, p, NULL, &pages);
		n = strlen(s);
		if ((t = realloc(all, len + n + 1)) == NULL) {
			fprintf(stderr, "out of memory\n");
			exit(1);
		}
		all = t;
		memcpy(all + len, s, n + 1);
		len += n;
		free(s);
	}
	return all;
}

static json_t *
catalog(json_t *mirrors, json_t *items)
{
	return json_pack("{s:i, s:s, s:s, s:s, s:I, s:o, s:o}",
	    "version", 1, "publisher", "0123456789ABCDEF",
	    "name", "April <archive> & more",
	    "generated", "2026-11-28T12:00:00Z",
	    "sequence", (json_int_t)42, "mirrors", mirrors, "items", items);
}

static json_t *
item(const char *name, const char *type, json_int_t size, const char *sha)
{
	return json_pack("{s:s, s:s, s:I, s:s, s:s, s:s}",
	    "name", name, "sha256", sha, "size", size, "type", type,
	    "source", "https://origin.example/<script>?a=1&b=2",
	    "fetched", "2026-11-28T11:59:00Z");
}

/* The next NEEDLE in the NUL-terminated HAY, like strstr. memmem with
 * the length known: a sanitizer's strstr measures the whole rest of the
 * page at every call, which makes scans of a big page quadratic. */
static const char *
find(const char *hay, const char *end, const char *needle)
{
	return memmem(hay, (size_t)(end - hay), needle, strlen(needle));
}

static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0, l = strlen(needle), left = strlen(hay);
	const char *p;

	while ((p = memmem(hay, left, needle, l)) != NULL) {
		n++;
		left -= (size_t)(p - hay) + l;
		hay = p + l;
	}
	return n;
}

static int
contains_ci(const char *hay, const char *needle)
{
	size_t l = strlen(needle);

	for (; *hay != '\0'; hay++)
		if (strncasecmp(hay, needle, l) == 0)
			return 1;
	return 0;
}

/*
 * Every href= and src= value must be relative to the mirror, an in-page
 * anchor, or one of the ALLOWED absolute URLs (as they appear escaped).
 * Returns the number of offending attributes.
 */
static int
check_urls(const char *page, const char **allowed)
{
	static const char *attrs[] = { "href=\"", "src=\"" };
	const char *p, *end;
	int bad = 0;
	size_t a, i, len;

	for (a = 0; a < 2; a++) {
		for (p = page; (p = strstr(p, attrs[a])) != NULL; p = end) {
			p += strlen(attrs[a]);
			if ((end = strchr(p, '"')) == NULL)
				return bad + 1;
			len = end - p;
			if (len >= 2 && strncmp(p, "//", 2) == 0)
				bad++;
			else if (len >= 1 && p[0] == '/')
				bad++;	/* must work behind a prefix */
			else if (memchr(p, ':', len) != NULL) {
				int ok = 0;

				for (i = 0; allowed[i] != NULL; i++)
					if (strlen(allowed[i]) == len &&
					    strncmp(allowed[i], p, len) == 0)
						ok = 1;
				if (!ok) {
					fprintf(stderr, "bad url: %.*s\n",
					    (int)len, p);
					bad++;
				}
			}
		}
	}
	return bad;
}

/* CPU time of this process: what the rendering costs, whatever else the
 * machine is doing at the same time. */
static double
cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* A distinct, valid object id per number. */
static const char *
sha_n(unsigned n)
{
	static char buf[8][65];
	static int next;
	char *b = buf[next++ % 8];

	snprintf(b, 65, "%064x", n);
	return b;
}

/* N items; GROUPED: every tenth is a page the next nine were found on,
 * and every item after a page is derived from it. */
static json_t *
big_catalog(int n, int grouped)
{
	json_t *items = json_array(), *it;
	char name[64], page[64] = "";
	int i;

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "item %05d.%s", i,
		    i % 3 == 0 ? "mp4" : i % 3 == 1 ? "ogg" : "txt");
		it = item(name, i % 3 == 0 ? "video/mp4" : i % 3 == 1 ?
		    "audio/ogg" : "text/plain", (json_int_t)i * 4099,
		    grouped ? sha_n((unsigned)i) : SHA_A);
		if (grouped && i % 10 == 0)
			memcpy(page, name, sizeof(page));
		else if (grouped) {
			json_object_set_new(it, "page", json_string(page));
			json_object_set_new(it, "title", json_string(name));
			if (i % 10 == 1)
				json_object_set_new(it, "derived_from",
				    json_string(sha_n((unsigned)i - 1)));
		}
		json_array_append_new(items, it);
	}
	return catalog(json_pack("[s]", "https://a.example/"), items);
}

/* The least CPU time of 15 renderings of CAT (the least is the one least
 * disturbed by caches and interrupts; a thousand items take a fraction
 * of a millisecond, where a busy machine's noise is as large). */
static double
render_ms(json_t *cat)
{
	double best = 0, t0, t;
	int i;

	for (i = 0; i < 15; i++) {
		t0 = cpu_ms();
		/* The last page: its layout walks the whole catalog. */
		free(render_page(cat, PUBKEY, NULL, NULL, 0, (size_t)-1, NULL,
		    NULL));
		t = cpu_ms() - t0;
		if (i == 0 || t < best)
			best = t;
	}
	return best;
}

static void
test_buf(void)
{
	struct index_buf b = { NULL, 0, 0 };

	CHECK(index_buf_html(&b, "a&b<c>\"d'e") == 0);
	CHECK(strcmp(b.data, "a&amp;b&lt;c&gt;&quot;d&#39;e") == 0);
	b.len = 0;
	CHECK(index_buf_url(&b, "a b/\xc3\xbc~._-Z9%") == 0);
	CHECK(strcmp(b.data, "a%20b%2F%C3%BC~._-Z9%25") == 0);
	b.len = 0;
	CHECK(index_buf_html(&b, "") == 0);
	CHECK(b.len == 0 && b.data[0] == '\0');
	free(b.data);
}

static void
test_page(void)
{
	const char *allowed[] = {
		"https://a.example/",
		"https://b.example/&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;",
		"https://self.example/mirror/",
		NULL
	};
	json_t *cat;
	char *s;
	const char *p1, *p2, *p3, *p4;

	cat = catalog(json_pack("[s, s, s]", "https://a.example/",
	    "https://b.example/\"><script>alert(1)</script>",
	    "javascript:alert(1)//"),
	    json_pack("[o, o, o, o, o]",
	    item(EVIL, "video/mp4", 1572864, SHA_A),
	    item("song one.ogg", "audio/ogg", 1024, SHA_B),
	    item("photo.png", "image/png", 1023, SHA_A),
	    item("notes.txt", "text/plain", 0, SHA_B),
	    item("b.bin", "application/x-\"><script>", 2147483648LL,
	    "not-a-hash\"<>")));
	CHECK(cat != NULL);
	s = render(cat, PUBKEY, "https://self.example/mirror/");

	/* Self-contained HTML5, no script, no external resources. */
	CHECK(strncmp(s, "<!DOCTYPE html>", 15) == 0);
	CHECK(strstr(s, "<meta charset=\"utf-8\">") != NULL);
	CHECK(strstr(s, "<meta name=\"viewport\"") != NULL);
	CHECK(!contains_ci(s, "<script"));
	CHECK(!contains_ci(s, "javascript:alert(1)//\""));
	CHECK(!contains_ci(s, "<link"));
	CHECK(!contains_ci(s, "@import"));
	CHECK(!contains_ci(s, "url("));
	CHECK(!contains_ci(s, "<iframe"));
	CHECK(check_urls(s, allowed) == 0);

	/* The hostile name appears only escaped and percent-encoded. */
	CHECK(strstr(s, "\"x\"") == NULL);
	CHECK(strstr(s, "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"
	    "&#39;.mp4</a>") != NULL);
	CHECK(strstr(s, "href=\"files/%3Cscript%3Ealert%28%22x%22%29%3C%2F"
	    "script%3E%27.mp4\"") != NULL);
	CHECK(strstr(s, "src=\"files/%3Cscript%3Ealert%28%22x%22%29%3C%2F"
	    "script%3E%27.mp4\"") != NULL);
	CHECK(strstr(s, "href=\"files/%3Cscript%3Ealert%28%22x%22%29%3C%2F"
	    "script%3E%27.mp4.meta4\"") != NULL);
	CHECK(strstr(s, "href=\"files/%3Cscript%3Ealert%28%22x%22%29%3C%2F"
	    "script%3E%27.mp4.torrent\"") != NULL);
	CHECK(strstr(s, "application/x-&quot;&gt;&lt;script&gt;") != NULL);
	CHECK(strstr(s, "April &lt;archive&gt; &amp; more</h1>") != NULL);
	CHECK(strstr(s, "https://origin.example/&lt;script&gt;?a=1&amp;b=2")
	    != NULL);
	CHECK(strstr(s, "not-a-hash&quot;&lt;&gt;") != NULL);
	CHECK(strstr(s, "href=\"sha256/not-a-hash") == NULL);

	/* Players for media only, on relative URLs. */
	CHECK(count(s, "<video controls preload=\"none\" src=\"files/")
	    == 1);
	CHECK(count(s, "<audio controls preload=\"none\" src=\"files/"
	    "song%20one.ogg\"") == 1);
	CHECK(count(s, "<img loading=\"lazy\"") == 1);
	CHECK(count(s, "src=\"files/photo.png\"") == 1);
	CHECK(count(s, "<video") == 1);
	CHECK(count(s, "<audio") == 1);
	CHECK(count(s, "<img") == 1);
	CHECK(strstr(s, "src=\"files/notes.txt\"") == NULL);
	CHECK(strstr(s, "href=\"files/notes.txt\"") != NULL);
	CHECK(strstr(s, "href=\"files/notes.txt.meta4\"") != NULL);
	CHECK(strstr(s, "href=\"files/notes.txt.torrent\"") != NULL);
	CHECK(strstr(s, "href=\"sha256/" SHA_B "\"") != NULL);
	CHECK(strstr(s, "<code dir=\"ltr\">" SHA_A "</code>") != NULL);

	/* Items in catalog order. */
	p1 = strstr(s, "files/%3Cscript");
	p2 = strstr(s, "files/song%20one.ogg");
	p3 = strstr(s, "files/photo.png");
	p4 = strstr(s, "files/notes.txt");
	CHECK(p1 != NULL && p2 != NULL && p3 != NULL && p4 != NULL);
	CHECK(p1 < p2 && p2 < p3 && p3 < p4);
	CHECK(strstr(s, "5 items") != NULL);
	CHECK(strstr(s, "#42") != NULL);
	CHECK(strstr(s, "2026-11-28T12:00:00Z") != NULL);

	/* Human sizes. */
	CHECK(strstr(s, "<bdi>0 B</bdi></p>") != NULL);
	CHECK(strstr(s, "<bdi>1023 B</bdi></p>") != NULL);
	CHECK(strstr(s, "<bdi>1.0 KiB</bdi> (1024 bytes)") != NULL);
	CHECK(strstr(s, "<bdi>1.5 MiB</bdi> (1572864 bytes)") != NULL);
	CHECK(strstr(s, "<bdi>2.0 GiB</bdi> (2147483648 bytes)") != NULL);

	/* Mirrors, escaped; the non-web one is not a link. */
	CHECK(strstr(s, "Other mirrors") != NULL);
	CHECK(strstr(s, "<a href=\"https://a.example/\">https://a.example/"
	    "</a>") != NULL);
	CHECK(strstr(s, "href=\"https://b.example/&quot;&gt;&lt;script&gt;")
	    != NULL);
	CHECK(strstr(s, "<code>javascript:alert(1)//</code>") != NULL);
	CHECK(strstr(s, "href=\"https://self.example/mirror/\"") != NULL);

	/* Verification: key, files, commands, worked example. */
	CHECK(strstr(s, "Verify what you download") != NULL);
	CHECK(strstr(s, "<code>" PUBKEY "</code>") != NULL);
	CHECK(strstr(s, "href=\"pubkey\"") != NULL);
	CHECK(strstr(s, "href=\"catalog.json\"") != NULL);
	CHECK(strstr(s, "href=\"catalog.json.minisig\"") != NULL);
	CHECK(strstr(s, "minisign -Vm catalog.json -P " PUBKEY) != NULL);
	CHECK(strstr(s, "<code class=\"cmd\">curl -fL -O "
	    "https://self.example/mirror/catalog.json "
	    "-O https://self.example/mirror/catalog.json.minisig</code>")
	    != NULL);
	CHECK(strstr(s, "<code class=\"cmd\">wget "
	    "https://self.example/mirror/catalog.json "
	    "https://self.example/mirror/catalog.json.minisig</code>")
	    != NULL);
	CHECK(strstr(s, "<code class=\"cmd\">aria2c -Z "
	    "https://self.example/mirror/catalog.json "
	    "https://self.example/mirror/catalog.json.minisig</code>")
	    != NULL);
	/* A CA's certificate (no pin): plain commands. */
	CHECK(strstr(s, "--pinnedpubkey") == NULL);
	CHECK(strstr(s, "--no-check-certificate") == NULL);
	CHECK(strstr(s, "--check-certificate=false") == NULL);
	CHECK(strstr(s, "sha256sum &#39;&lt;script&gt;alert(&quot;x&quot;)"
	    "&lt;/script&gt;&#39;\\&#39;&#39;.mp4&#39;") != NULL);
	CHECK(strstr(s, SHA_A "  &lt;script&gt;") != NULL);
	CHECK(strstr(s, "must match") != NULL);
	free(s);
	json_decref(cat);
}

static void
test_empty(void)
{
	json_t *cat;
	char *s;
	const char *allowed[] = { NULL };

	cat = catalog(json_array(), json_array());
	s = render(cat, PUBKEY, NULL);
	CHECK(strstr(s, "No items yet") != NULL);
	CHECK(strstr(s, "0 items") != NULL);
	CHECK(strstr(s, "class=\"item\"") == NULL);
	CHECK(strstr(s, "Other mirrors") == NULL);
	CHECK(strstr(s, "curl -fL -O https://THIS-MIRROR/catalog.json") != NULL);
	CHECK(strstr(s, "minisign -Vm catalog.json -P " PUBKEY) != NULL);
	CHECK(strstr(s, "</html>") != NULL);
	CHECK(!contains_ci(s, "<script"));
	CHECK(check_urls(s, allowed) == 0);
	free(s);
	json_decref(cat);

	/* A catalog missing every field still renders a page. */
	cat = json_object();
	s = render(cat, NULL, NULL);
	CHECK(strstr(s, "No items yet") != NULL);
	free(s);
	json_decref(cat);

	/* The worked example stays a safe shell command. */
	cat = catalog(json_array(), json_pack("[o, o]",
	    item("-rf notes.txt", "text/plain", 5, SHA_A),
	    item("plain.txt", "text/plain", 5, SHA_B)));
	s = render(cat, PUBKEY, NULL);
	CHECK(strstr(s, "sha256sum ./&#39;-rf notes.txt&#39;</code>") != NULL);
	CHECK(strstr(s, "curl -fL -o ./&#39;-rf notes.txt&#39; "
	    "https://THIS-MIRROR/files/-rf%20notes.txt</code>") != NULL);
	free(s);
	json_decref(cat);
	cat = catalog(json_array(), json_pack("[o]",
	    item("plain.txt", "text/plain", 5, SHA_B)));
	s = render(cat, PUBKEY, NULL);
	CHECK(strstr(s, "sha256sum plain.txt</code>") != NULL);
	CHECK(strstr(s, SHA_B "  plain.txt</code>") != NULL);
	free(s);
	json_decref(cat);

	/* Just self_url: the mirror list shows it. */
	cat = catalog(json_array(), json_array());
	s = render(cat, PUBKEY, "https://self.example/");
	CHECK(strstr(s, "Other mirrors") != NULL);
	CHECK(strstr(s, "href=\"https://self.example/\"") != NULL);
	free(s);
	json_decref(cat);
}

/* An item with the optional fields of pages and feeds; NULL leaves a
 * field out. */
static json_t *
item_ex(const char *name, const char *type, const char *sha,
    const char *title, const char *page, const char *derived_from,
    const char *published, const char *lang)
{
	json_t *it = item(name, type, 2048, sha);

	if (title != NULL)
		json_object_set_new(it, "title", json_string(title));
	if (page != NULL)
		json_object_set_new(it, "page", json_string(page));
	if (derived_from != NULL)
		json_object_set_new(it, "derived_from",
		    json_string(derived_from));
	if (published != NULL)
		json_object_set_new(it, "published", json_string(published));
	if (lang != NULL)
		json_object_set_new(it, "lang", json_string(lang));
	return it;
}

/* Each item of CAT has exactly one block (id="item-N") and one name
 * link, found in one pass over the page: the check must stay linear for
 * the big catalogs below. Returns the number of faults. */
static int
each_once(const char *s, json_t *cat)
{
	json_t *items = json_object_get(cat, "items"), *it, *links;
	size_t i, n = json_array_size(items), *seen;
	struct index_buf enc = { NULL, 0, 0 };
	const char *p, *q, *last = s + strlen(s);
	char *end, key[1024];
	int bad = 0;

	seen = calloc(n + 1, sizeof(*seen));
	links = json_object();
	for (p = s; (p = find(p, last, " id=\"item-")) != NULL; p++) {
		i = strtoul(p + 10, &end, 10);
		if (i < 1 || i > n || *end != '"')
			bad++;
		else
			seen[i - 1]++;
	}
	/* Name links: <a href="files/ENC">TEXT</a>, but not the Metalink
	 * and torrent links. */
	for (p = s; (p = find(p, last, "<a href=\"files/")) != NULL; p = q) {
		p += 15;
		q = strchr(p, '"');
		if (strncmp(q, "\">", 2) != 0 ||
		    strncmp(q + 2, "Metalink", 8) == 0 ||
		    strncmp(q + 2, "Torrent", 7) == 0)
			continue;
		snprintf(key, sizeof(key), "%.*s", (int)(q - p), p);
		json_object_set_new(links, key, json_integer(
		    json_integer_value(json_object_get(links, key)) + 1));
	}
	json_array_foreach(items, i, it) {
		enc.len = 0;
		index_buf_url(&enc, json_string_value(json_object_get(it,
		    "name")));
		if (seen[i] != 1 || json_integer_value(json_object_get(links,
		    enc.data)) != 1) {
			if (bad < 5)
				fprintf(stderr, "not once: item %zu %s\n",
				    i + 1, enc.data);
			bad++;
		}
	}
	if (count(s, "<section class=\"item") != n)
		bad++;
	/* Every <section> opened is closed. */
	if (count(s, "<section") != count(s, "</section>"))
		bad++;
	free(enc.data);
	free(seen);
	json_decref(links);
	return bad;
}

#define EVIL_TITLE	"<script>alert(1)</script> & \"x\" 'y'"
#define EVIL_TITLE_H	"&lt;script&gt;alert(1)&lt;/script&gt; &amp; " \
			"&quot;x&quot; &#39;y&#39;"
#define SHA_STORY	"1111111111111111111111111111111111111111111111111111111111111111"
#define SHA_TS		"2222222222222222222222222222222222222222222222222222222222222222"

static void
test_groups(void)
{
	const char *allowed[] = { NULL };
	const char *story, *mirror, *clip2, *clip, *lonely, *ep1, *ep2, *feed;
	const char *ts, *mp4, *end;
	json_t *cat, *st, *fd;
	char *s;

	st = item_ex("story.html", "text/html; charset=utf-8", SHA_STORY,
	    EVIL_TITLE, NULL, NULL, NULL, "zh-Hans");
	json_object_set_new(st, "description",
	    json_string("Police <b>raid</b>\nsecond line"));
	fd = item_ex("feed.xml", "application/rss+xml", SHA_A, "Podcast",
	    NULL, NULL, NULL, NULL);
	json_object_set_new(fd, "description", json_string("Weekly"));
	cat = catalog(json_array(), json_pack(
	    "[o, o, o, o, o, o, o, o, o, o, o, o, o]",
	    item_ex("clip-2.mp4", "video/mp4", sha_n(1), NULL, "story.html",
	    NULL, NULL, NULL),
	    item_ex("clip.mp4", "video/mp4", sha_n(2), "Clip one",
	    "story.html", NULL, NULL, NULL),
	    item_ex("ep1.mp3", "audio/mpeg", sha_n(3), "Episode 1",
	    "feed.xml", NULL, "2026-11-01T08:00:00Z", NULL),
	    item_ex("ep2.mp3", "audio/mpeg", sha_n(4), "Episode 2",
	    "feed.xml", NULL, "2026-11-20T08:00:00Z", "zh-Hant"),
	    fd,
	    item_ex("lonely.mp4", "video/mp4", sha_n(5), NULL, "gone.html",
	    NULL, NULL, NULL),
	    item_ex("loop-a.txt", "text/plain", sha_n(6), NULL, "loop-b.txt",
	    NULL, NULL, NULL),
	    item_ex("loop-b.txt", "text/plain", sha_n(7), NULL, "loop-a.txt",
	    NULL, NULL, NULL),
	    item_ex("self.txt", "text/plain", sha_n(8), NULL, "self.txt",
	    sha_n(8), NULL, NULL),
	    st,
	    item_ex("story.mirror.html", "text/html", sha_n(9), NULL, NULL,
	    SHA_STORY, NULL, NULL),
	    item_ex("vid.mp4", "video/mp4", sha_n(10), NULL, NULL, SHA_TS,
	    NULL, NULL),
	    item_ex("vid.ts", "video/mp2t", SHA_TS, NULL, NULL, NULL, NULL,
	    NULL)));
	CHECK(cat != NULL);
	s = render(cat, PUBKEY, NULL);

	/* Every item once, whatever its links say; nothing active. */
	CHECK(each_once(s, cat) == 0);
	CHECK(strstr(s, "13 items") != NULL);
	CHECK(!contains_ci(s, "<script"));
	CHECK(!contains_ci(s, "<b>"));
	CHECK(check_urls(s, allowed) == 0);

	/* The story's group: its (hostile, escaped) title and description
	 * head the page itself, its rewritten copy, then its media. */
	story = strstr(s, "<section class=\"group\" lang=\"zh-Hans\">\n"
	    "<h3 dir=\"auto\">" EVIL_TITLE_H "</h3>\n"
	    "<p class=\"desc\" dir=\"auto\">Police &lt;b&gt;raid&lt;/b&gt;\n"
	    "second line</p>\n<p class=\"mute\">2 files found on this page"
	    "</p>\n");
	CHECK(story != NULL);
	/* The title is the group's: the page's own block shows its name. */
	CHECK(count(s, EVIL_TITLE_H) == 1);
	CHECK(strstr(s, "id=\"item-10\" lang=\"zh-Hans\">\n<h4 dir=\"auto\">"
	    "<a href=\"files/story.html\">story.html</a></h4>") != NULL);
	mirror = strstr(s, "<section class=\"item derived\" id=\"item-11\">\n"
	    "<h4 dir=\"auto\"><a href=\"files/story.mirror.html\">"
	    "story.mirror.html</a></h4>\n<p class=\"note\">The page, playing "
	    "its media from this mirror: a copy of <a href=\"#item-10\" "
	    "dir=\"auto\">"
	    "story.html</a></p>");
	clip2 = strstr(s, "<h4 dir=\"auto\"><a href=\"files/clip-2.mp4\">");
	clip = strstr(s, "<h4 dir=\"auto\">Clip one</h4>\n<p class=\"file\" "
	    "dir=\"auto\"><a href=\"files/clip.mp4\">clip.mp4</a></p>");
	CHECK(mirror != NULL && clip2 != NULL && clip != NULL);
	CHECK(story < mirror && mirror < clip2 && clip2 < clip);
	end = strstr(clip, "</section>\n</section>\n");
	CHECK(end != NULL);

	/* The feed: newest entry first, dates, languages. */
	feed = strstr(s, "<section class=\"group\">\n<h3 dir=\"auto\">Podcast"
	    "</h3>\n<p class=\"desc\" dir=\"auto\">Weekly</p>\n"
	    "<p class=\"mute\">2 files from this feed</p>\n");
	ep2 = strstr(s, "<section class=\"item\" id=\"item-4\" "
	    "lang=\"zh-Hant\">\n<h4 dir=\"auto\">Episode 2</h4>\n"
	    "<p class=\"file\" dir=\"auto\"><a href=\"files/ep2.mp3\">");
	ep1 = strstr(s, "<h4 dir=\"auto\">Episode 1</h4>");
	CHECK(feed != NULL && ep2 != NULL && ep1 != NULL);
	CHECK(feed < ep2 && ep2 < ep1);
	CHECK(strstr(s, "published <time datetime=\"2026-11-20T08:00:00Z\">"
	    "2026-11-20</time>") != NULL);
	CHECK(count(s, "<audio controls") == 2);

	/* A page that is not in the catalog, a cycle and a link to itself:
	 * listed at the top level, normally. */
	lonely = strstr(s, "<section class=\"item\" id=\"item-6\">\n"
	    "<h3 dir=\"auto\"><a href=\"files/lonely.mp4\">");
	CHECK(lonely != NULL && lonely < story);
	CHECK(strstr(s, "<section class=\"item\" id=\"item-9\">\n"
	    "<h3 dir=\"auto\"><a href=\"files/self.txt\">") != NULL);
	CHECK(strstr(s, "files found on this page") != NULL);

	/* The remux right after its capture. */
	ts = strstr(s, "<h3 dir=\"auto\"><a href=\"files/vid.ts\">");
	mp4 = strstr(s, "<section class=\"item derived\" id=\"item-12\">\n"
	    "<h3 dir=\"auto\"><a href=\"files/vid.mp4\">vid.mp4</a></h3>\n"
	    "<p class=\"note\">MP4 that plays in every browser, made from "
	    "<a href=\"#item-13\" dir=\"auto\">vid.ts</a></p>");
	CHECK(ts != NULL && mp4 != NULL && ts < mp4);
	/* ... and the last block, after the story's group. */
	CHECK(mp4 > story && strstr(strstr(mp4, "</section>"), "id=\"item-")
	    == NULL);
	free(s);
	json_decref(cat);
}

/* Hostile optional fields: escaped, bounded, or left out. */
static void
test_hostile_fields(void)
{
	const char *allowed[] = { NULL };
	char big[5000], *s;
	json_t *cat, *it;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	/* A cut must not split a character: 3-byte characters around the
	 * title limit. */
	memcpy(big + 298, "\xe5\x9b\x9b", 3);
	it = item_ex("a.mp4", "video/mp4", SHA_A, big,
	    "a.mp4\"><script>", "\"><script>", "<b>2026</b>",
	    "en\" onload=\"x");
	json_object_set_new(it, "description", json_string(big));
	cat = catalog(json_array(), json_pack("[o, o]", it,
	    item_ex("b.mp4", "video/mp4", SHA_B, EVIL_TITLE, NULL, NULL,
	    "2026-11-28T00: href=\"x", "zh-Hans-")));
	s = render(cat, PUBKEY, NULL);
	CHECK(each_once(s, cat) == 0);
	CHECK(!contains_ci(s, "<script"));
	CHECK(!contains_ci(s, "<b>"));
	CHECK(!contains_ci(s, "onload"));
	CHECK(check_urls(s, allowed) == 0);
	/* The page's own, and the four links to other languages. */
	CHECK(count(s, " lang=\"") == 5);
	CHECK(strstr(s, "published &lt;b&gt;2026&lt;/b&gt;</p>") != NULL);
	/* A date followed by what no time has: the date alone, even in
	 * the attribute. */
	CHECK(strstr(s, "published <time datetime=\"2026-11-28\">2026-11-28"
	    "</time>") != NULL);
	CHECK(strstr(s, "T00: href") == NULL);
	CHECK(strstr(s, "<h3 dir=\"auto\">" EVIL_TITLE_H "</h3>") != NULL);
	/* Title and description cut at their limits, at a character. */
	CHECK(strstr(s, "xx\xe2\x80\xa6</h3>") != NULL);
	CHECK(strstr(s, "xx\xe5\x9b\x9b\xe2\x80\xa6") == NULL);
	CHECK(count(s, "\xe2\x80\xa6") == 2);
	CHECK(strlen(s) < 16384);
	free(s);
	json_decref(cat);
}

/* Long chains: pages found on pages, 2,000 deep, and derived items made
 * from derived items. Every item is listed once, no more groups are
 * nested than the limit, and nothing recurses on the stack. */
static void
test_chains(void)
{
	json_t *items = json_array(), *cat;
	char name[64], prev[64];
	unsigned i;
	char *s;

	for (i = 0; i < 2000; i++) {
		snprintf(name, sizeof(name), "p%05u.html", i);
		json_array_append_new(items, item_ex(name, "text/html",
		    sha_n(i), NULL, i > 0 ? prev : NULL, NULL, NULL, NULL));
		memcpy(prev, name, sizeof(prev));
	}
	for (i = 0; i < 2000; i++) {
		snprintf(name, sizeof(name), "d%05u.mp4", i);
		json_array_append_new(items, item_ex(name, "video/mp4",
		    sha_n(100000 + i), NULL, NULL,
		    i > 0 ? sha_n(100000 + i - 1) : NULL, NULL, NULL));
	}
	cat = catalog(json_array(), items);
	s = render(cat, PUBKEY, NULL);
	CHECK(each_once(s, cat) == 0);
	CHECK(count(s, "<section class=\"group\"") == 3);
	CHECK(strstr(s, "<h7") == NULL);
	CHECK(count(s, "class=\"item derived\"") == 1999);
	free(s);
	json_decref(cat);
}

/* A big catalog renders in time linear in its items: 10,000 items cost
 * at most 50 times what 1,000 cost (linear: 10, with the sorts' log and
 * the caches about 20; a pass over the items per item: 100). A ratio of CPU times holds on a slow, busy or sanitized
 * build alike, where a bound in milliseconds would not. */
static void
test_big(void)
{
	json_t *cat, *small;
	double t_big, t_small;
	char *s;
	int grouped;

	for (grouped = 0; grouped < 2; grouped++) {
		cat = big_catalog(10000, grouped);
		small = big_catalog(1000, grouped);
		t_big = render_ms(cat);
		t_small = render_ms(small);
		s = render(cat, PUBKEY, NULL);
		printf("10000 items%s: %zu bytes in %.1f ms of CPU; 1000 items "
		    "in %.2f ms (x%.1f)\n", grouped ? " in groups" : "",
		    strlen(s), t_big, t_small,
		    t_small > 0 ? t_big / t_small : 0);
		CHECK(t_big <= 50 * t_small);
		CHECK(count(s, "class=\"item") == 10000);
		CHECK(strstr(s, "src=\"files/item%2009999.mp4\"") != NULL);
		CHECK(strstr(s, "src=\"files/item%2009998.txt\"") == NULL);
		CHECK(count(s, "<video") == 3334 && count(s, "<audio") == 3333);
		if (grouped) {
			CHECK(each_once(s, cat) == 0);
			CHECK(count(s, "<section class=\"group\">") == 1000);
			CHECK(count(s, "class=\"item derived\"") == 1000);
		}
		free(s);
		json_decref(cat);
		json_decref(small);
	}
}


/* Every language: its lang and dir, its own words, the same commands,
 * links to the others each named in itself, and no English left over. */
static void
test_languages(void)
{
	static const struct {
		const char *html, *files, *verify;
	} want[] = {
		{ "<html lang=\"en\" dir=\"ltr\">", "Files", "Verify what" },
		{ "<html lang=\"zh-Hans\" dir=\"ltr\">", "文件", "验证" },
		{ "<html lang=\"zh-Hant\" dir=\"ltr\">", "檔案", "驗證" },
		{ "<html lang=\"ru\" dir=\"ltr\">", "Файлы", "Проверьте" },
		{ "<html lang=\"fa\" dir=\"rtl\">", "فایل‌ها", "بررسی" },
	};
	/* English words of the page that a translation must not keep. */
	static const char *english[] = { "Download<", "Torrent<", "By hash",
	    "Originally from", "files from this feed", "How to verify",
	    "Other mirrors", "Verify what", "must print", "Page ",
	    "Next page", "this mirror", "Search", "catalog #", "updated " };
	json_t *cat, *items = json_array();
	char *s, name[64];
	size_t i, j, pages;

	for (i = 0; i < 120; i++) {
		snprintf(name, sizeof(name), "clip %03zu.mp4", i);
		json_array_append_new(items, item(name, "video/mp4", 2048,
		    SHA_A));
	}
	cat = catalog(json_pack("[s]", "https://other.example/"), items);
	for (i = 0; i < 5; i++) {
		s = render_page(cat, PUBKEY, "https://self.example:8443/",
		    "PIN+/=", (int)i, 2, NULL, &pages);
		CHECK(pages == 3);
		CHECK(strncmp(s, "<!DOCTYPE html>\n", 16) == 0 &&
		    strstr(s, want[i].html) == s + 16);
		CHECK(strstr(s, want[i].files) != NULL);
		CHECK(strstr(s, want[i].verify) != NULL);
		CHECK(strstr(s, "<code class=\"cmd\">curl -fL --pinnedpubkey "
		    "sha256//PIN+/= -k -O https://self.example:8443/"
		    "catalog.json -O https://self.example:8443/"
		    "catalog.json.minisig</code>") != NULL);
		CHECK(strstr(s, "<code class=\"cmd\">wget "
		    "--no-check-certificate -O &#39;clip 000.mp4&#39; "
		    "https://self.example:8443/files/clip%20000.mp4</code>")
		    != NULL);
		CHECK(strstr(s, "<code class=\"cmd\">aria2c "
		    "--check-certificate=false -Z") != NULL);
		CHECK(count(s, "<code class=\"cmd\">") == 6);
		CHECK(strstr(s, "minisign -Vm catalog.json -P " PUBKEY) != NULL);
		CHECK(strstr(s, "sha256sum &#39;clip 000.mp4&#39;") != NULL);
		/* The pager keeps the language; the language links keep the
		 * page. */
		CHECK(strstr(s, "?lang=") != NULL);
		snprintf(name, sizeof(name), "href=\"?lang=%s&amp;page=3\"",
		    index_langs[i]->tag);
		CHECK(strstr(s, name) != NULL);
		snprintf(name, sizeof(name), "href=\"?lang=%s\"",
		    index_langs[i]->tag);
		CHECK(strstr(s, name) != NULL);
		for (j = 0; j < 5; j++) {
			snprintf(name, sizeof(name), "?lang=%s&amp;page=2\" "
			    "hreflang=", index_langs[j]->tag);
			CHECK((strstr(s, name) != NULL) == (i != j));
			CHECK(strstr(s, index_langs[j]->name) != NULL);
		}
		for (j = 0; i > 0 && j < sizeof(english) / sizeof(english[0]);
		    j++)
			if (strstr(s, english[j]) != NULL) {
				fprintf(stderr, "%s: English \"%s\" left\n",
				    index_langs[i]->tag, english[j]);
				CHECK(0);
			}
		CHECK(count(s, "<video controls preload=\"none\"") == 50);
		CHECK(strstr(s, "preload=\"metadata\"") == NULL);
		CHECK(strstr(s, "clip 050.mp4") != NULL &&
		    strstr(s, ">clip 049.mp4<") == NULL &&
		    strstr(s, ">clip 100.mp4<") == NULL);
		free(s);
	}
	/* Russian numbers have a decimal comma; sizes in its units. */
	s = render_page(cat, PUBKEY, NULL, NULL, 3, 1, NULL, NULL);
	CHECK(strstr(s, "<bdi>2,0 КиБ</bdi> (байт: 2048)") != NULL);
	CHECK(strstr(s, "--pinnedpubkey") == NULL);
	free(s);
	json_decref(cat);
}

/* Pages: 50 items each, groups kept whole, out-of-range pages the
 * nearest; search by name or title, case-insensitive in UTF-8. */
static void
test_paging_search(void)
{
	json_t *items = json_array(), *cat, *it;
	char name[64], *s;
	size_t i, pages;

	/* 45 loose files, then a page with 10 media: the group does not
	 * fit in what is left of page 1 and starts page 2. */
	for (i = 0; i < 45; i++) {
		snprintf(name, sizeof(name), "f%02zu.txt", i);
		json_array_append_new(items, item(name, "text/plain", 1, SHA_A));
	}
	json_array_append_new(items, item_ex("story.html", "text/html", SHA_B,
	    "Новости ДНЯ", NULL, NULL, NULL, NULL));
	for (i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "m%02zu.mp3", i);
		it = item_ex(name, "audio/mpeg", SHA_A, i == 3 ?
		    "Ünïcode Title" : NULL, "story.html", NULL, NULL, NULL);
		json_array_append_new(items, it);
	}
	cat = catalog(json_array(), items);
	s = render_page(cat, PUBKEY, NULL, NULL, 0, 1, NULL, &pages);
	CHECK(pages == 2);
	CHECK(count(s, "<section class=\"item") == 45);
	CHECK(strstr(s, "class=\"group\"") == NULL);
	CHECK(strstr(s, "Page 1 of 2") != NULL);
	CHECK(strstr(s, "rel=\"next\" href=\"?lang=en&amp;page=2\"") != NULL);
	CHECK(strstr(s, "rel=\"prev\"") == NULL);
	free(s);
	s = render_page(cat, PUBKEY, NULL, NULL, 0, 2, NULL, NULL);
	CHECK(count(s, "<section class=\"item") == 11);
	CHECK(count(s, "<section class=\"group\"") == 1);
	CHECK(strstr(s, "rel=\"prev\" href=\"?lang=en\"") != NULL);
	CHECK(strstr(s, "rel=\"next\"") == NULL);
	free(s);
	/* Past the end: the last page; 0: the first. */
	s = render_page(cat, PUBKEY, NULL, NULL, 0, 999999, NULL, NULL);
	CHECK(strstr(s, "Page 2 of 2") != NULL);
	free(s);
	s = render_page(cat, PUBKEY, NULL, NULL, 0, 0, NULL, NULL);
	CHECK(strstr(s, "Page 1 of 2") != NULL);
	free(s);

	/* Search: Cyrillic title in another case, Latin-1 too. */
	s = render_page(cat, PUBKEY, NULL, NULL, 1, 1, "новости дня", &pages);
	CHECK(pages == 1);
	CHECK(count(s, "<section class=\"item") == 1);
	CHECK(strstr(s, "files/story.html") != NULL);
	CHECK(strstr(s, "value=\"новости дня\"") != NULL);
	CHECK(strstr(s, "<input type=\"hidden\" name=\"lang\" "
	    "value=\"zh-Hans\">") != NULL);
	free(s);
	s = render_page(cat, PUBKEY, NULL, NULL, 0, 1, "ÜNÏCODE", NULL);
	CHECK(count(s, "<section class=\"item") == 1);
	CHECK(strstr(s, "files/m03.mp3") != NULL);
	free(s);
	s = render_page(cat, PUBKEY, NULL, NULL, 0, 1, "F1", NULL);
	CHECK(count(s, "<section class=\"item") == 10);	/* f10..f19 */
	free(s);
	/* Hostile search text: escaped in the box, no match, no crash. */
	s = render_page(cat, PUBKEY, NULL, NULL, 0, 1,
	    "\"><script>alert(1)</script>\x01", NULL);
	CHECK(!contains_ci(s, "<script"));
	CHECK(strstr(s, "value=\"&quot;&gt;&lt;script&gt;alert(1)&lt;/script"
	    "&gt;\xef\xbf\xbd\"") != NULL);
	CHECK(strstr(s, "No file matches") != NULL);
	/* The language links keep the search, URL-encoded. */
	CHECK(strstr(s, "&amp;q=%22%3E%3Cscript%3Ealert%281%29%3C%2Fscript"
	    "%3E%01\" hreflang=\"fa\"") != NULL);
	free(s);
	json_decref(cat);
}

/* The provenance line, from the catalog's summary, escaped, in every
 * language; nothing for an item without provenance. */
static void
test_provenance(void)
{
	json_t *a = item("a.mp4", "video/mp4", 10, SHA_A), *b = item("b.mp4", "video/mp4", 10,
	    SHA_A), *c = item("c.mp4", "video/mp4", 10, SHA_A), *cat;
	char *s;
	size_t pages;

	json_object_set_new(a, "provenance", json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:s}",
	    "sha256", SHA_B, "size", 900, "host", "origin.example", "ip", "192.0.2.1",
	    "date", "2026-12-04T15:00:00.123456Z", "tls", "TLSv1.3<b>", "cert_sha256", SHA_A));
	json_object_set_new(b, "provenance", json_pack("{s:s, s:i, s:s, s:s, s:s}",
	    "sha256", SHA_B, "size", 900, "host", "h.example", "ip", "via proxy",
	    "date", "2026-12-04T15:00:00Z"));
	cat = catalog(json_array(), json_pack("[o, o, o]", a, b, c));
	s = render(cat, PUBKEY, NULL);
	CHECK(strstr(s, "<p class=\"mute prov\">Fetched from <code dir=\"ltr\">origin.example"
	    "</code> (<code dir=\"ltr\">192.0.2.1</code>) at <bdi>2026-12-04T15:00:00Z</bdi>, "
	    "<bdi>TLSv1.3&lt;b&gt;</bdi>, certificate SHA-256 <code dir=\"ltr\">e3b0c44298fc1c14"
	    "&hellip;</code> &middot; <a href=\"sha256/" SHA_B "\">provenance record</a></p>")
	    != NULL);
	CHECK(strstr(s, "Fetched from <code dir=\"ltr\">h.example</code> (via a proxy) at "
	    "<bdi>2026-12-04T15:00:00Z</bdi> &middot; <a href=\"sha256/" SHA_B "\">") != NULL);
	CHECK(count(s, "class=\"mute prov\"") == 2);
	free(s);
	for (int l = 1; l < 5; l++) {
		s = render_page(cat, PUBKEY, NULL, NULL, l, 1, NULL, &pages);
		CHECK(count(s, "class=\"mute prov\"") == 2);
		CHECK(strstr(s, "Fetched from") == NULL && strstr(s, "provenance record") == NULL &&
		    strstr(s, "via a proxy") == NULL && strstr(s, "certificate") == NULL);
		CHECK(strstr(s, "origin.example") != NULL);
		free(s);
	}
	json_decref(cat);
}

int
main(void)
{
	test_provenance();
	test_buf();
	test_page();
	test_empty();
	test_groups();
	test_hostile_fields();
	test_chains();
	test_languages();
	test_paging_search();
	/* The ratio of CPU times is a property of the code, the same in
	 * every build; under the sanitizers the 20,000-item renders cost
	 * a quarter of a minute, and smaller catalogs run the same code. */
#ifndef __SANITIZE_ADDRESS__
	test_big();
#else
	(void)test_big;
#endif
	CHECK_DONE();
}

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

static char *
render(json_t *cat, const char *pubkey, const char *self_url)
{
	struct index_page_info info = { cat, pubkey, self_url };
	size_t len = 0;
	char *s;

	s = index_page_render(&info, &len);
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

static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0, l = strlen(needle);

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += l;
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

static json_t *
big_catalog(int n)
{
	json_t *items = json_array();
	char name[64];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "item %05d.%s", i,
		    i % 3 == 0 ? "mp4" : i % 3 == 1 ? "ogg" : "txt");
		json_array_append_new(items, item(name,
		    i % 3 == 0 ? "video/mp4" : i % 3 == 1 ? "audio/ogg" :
		    "text/plain", (json_int_t)i * 4099, SHA_A));
	}
	return catalog(json_pack("[s]", "https://a.example/"), items);
}

/* The least CPU time of 5 renderings of CAT (the least is the one least
 * disturbed by caches and interrupts). */
static double
render_ms(json_t *cat)
{
	double best = 0, t0, t;
	int i;

	for (i = 0; i < 5; i++) {
		t0 = cpu_ms();
		free(render(cat, PUBKEY, NULL));
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
	CHECK(count(s, "<video controls preload=\"metadata\" src=\"files/")
	    == 1);
	CHECK(count(s, "<audio controls preload=\"metadata\" src=\"files/"
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
	CHECK(strstr(s, "<code>" SHA_A "</code>") != NULL);

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
	CHECK(strstr(s, " 0 B</p>") != NULL);
	CHECK(strstr(s, " 1023 B</p>") != NULL);
	CHECK(strstr(s, " 1.0 KiB (1024 bytes)") != NULL);
	CHECK(strstr(s, " 1.5 MiB (1572864 bytes)") != NULL);
	CHECK(strstr(s, " 2.0 GiB (2147483648 bytes)") != NULL);

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
	CHECK(strstr(s, "curl -O https://self.example/mirror/catalog.json "
	    "-O https://self.example/mirror/catalog.json.minisig") != NULL);
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
	CHECK(strstr(s, "curl -O https://THIS-MIRROR/catalog.json") != NULL);
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
	CHECK(strstr(s, "sha256sum ./&#39;-rf notes.txt&#39;</pre>") != NULL);
	free(s);
	json_decref(cat);
	cat = catalog(json_array(), json_pack("[o]",
	    item("plain.txt", "text/plain", 5, SHA_B)));
	s = render(cat, PUBKEY, NULL);
	CHECK(strstr(s, "sha256sum plain.txt</pre>") != NULL);
	CHECK(strstr(s, SHA_B "  plain.txt</pre>") != NULL);
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

/* A big catalog renders in time linear in its items: 10,000 items cost
 * at most 30 times what 1,000 cost (linear: 10; a pass over the items per
 * item: 100). A ratio of CPU times holds on a slow, busy or sanitized
 * build alike, where a bound in milliseconds would not. */
static void
test_big(void)
{
	json_t *cat, *small;
	double t_big, t_small;
	char *s;

	cat = big_catalog(10000);
	small = big_catalog(1000);
	t_big = render_ms(cat);
	t_small = render_ms(small);
	s = render(cat, PUBKEY, NULL);
	printf("10000 items: %zu bytes in %.1f ms of CPU; 1000 items in %.2f ms (x%.1f)\n",
	    strlen(s), t_big, t_small, t_small > 0 ? t_big / t_small : 0);
	CHECK(t_big <= 30 * t_small);
	CHECK(count(s, "class=\"item\"") == 10000);
	CHECK(strstr(s, "src=\"files/item%2009999.mp4\"") != NULL);
	CHECK(strstr(s, "src=\"files/item%2009998.txt\"") == NULL);
	CHECK(count(s, "<video") == 3334 && count(s, "<audio") == 3333);
	free(s);
	json_decref(cat);
	json_decref(small);
}

int
main(void)
{
	test_buf();
	test_page();
	test_empty();
	test_big();
	CHECK_DONE();
}

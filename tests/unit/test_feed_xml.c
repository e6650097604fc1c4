/* The feed writer: order, URLs on this mirror and the others, the
 * integrity value, RFC 822 dates, escaping, characters XML cannot carry. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "feed_xml.h"
#include "check.h"

/* sha256 of "hi\n" and of "" */
#define SHA_HI	"98ea6e4f216f2fb4b69fff9b3a44842c38686ca685f3f55dc48c5d3fb1107be4"
#define SHA_E	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static json_t *
catalog(void)
{
	json_error_t e;
	json_t *cat = json_loads(
	    "{\"version\":1,\"publisher\":\"0011223344556677\",\"name\":\"April <archive> & co\","
	    "\"generated\":\"2026-11-28T12:00:00Z\",\"sequence\":3,"
	    "\"mirrors\":[\"https://m.example/\",\"https://b.example/x/\",\"no-slash\"],"
	    "\"items\":["
	    "{\"name\":\"old.txt\",\"sha256\":\"" SHA_E "\",\"size\":0,"
	    "\"fetched\":\"2026-01-02T03:04:05Z\"},"
	    "{\"name\":\"四月 <1>&.mp4\",\"sha256\":\"" SHA_HI "\",\"size\":3,"
	    "\"type\":\"video/mp4\",\"fetched\":\"2026-11-01T00:00:00Z\","
	    "\"published\":\"2026-11-27T23:59:59Z\",\"title\":\"Voice\\u0001 of \\\"April\\\"\","
	    "\"description\":\"<b>bold</b>\\ufffe\"}]}", 0, &e);

	if (cat == NULL)
		fprintf(stderr, "catalog: %s\n", e.text);
	return cat;
}

static void
test_feed(void)
{
	json_t *cat = catalog();
	size_t len;
	char *s, *a, *b;

	CHECK(cat != NULL);
	s = feed_xml_render(cat, "https://m.example/", &len);
	CHECK(s != NULL && strlen(s) == len);
	CHECK(strstr(s, "xmlns:podcast=\"https://podcastindex.org/namespace/1.0\"") != NULL);
	CHECK(strstr(s, "<title>April &lt;archive&gt; &amp; co</title>") != NULL);
	CHECK(strstr(s, "<link>https://m.example/</link>") != NULL);
	CHECK(strstr(s, "<lastBuildDate>Sat, 28 Nov 2026 12:00:00 +0000</lastBuildDate>") != NULL);
	/* Newest first: the published time counts, not the fetch. */
	a = strstr(s, "<guid isPermaLink=\"false\">" SHA_HI "</guid>");
	b = strstr(s, "<guid isPermaLink=\"false\">" SHA_E "</guid>");
	CHECK(a != NULL && b != NULL && a < b);
	CHECK(strstr(s, "<pubDate>Fri, 27 Nov 2026 23:59:59 +0000</pubDate>") != NULL);
	CHECK(strstr(s, "<pubDate>Fri, 02 Jan 2026 03:04:05 +0000</pubDate>") != NULL);
	/* The title without the control character; the name percent-encoded. */
	CHECK(strstr(s, "<title>Voice of &quot;April&quot;</title>") != NULL ||
	    strstr(s, "<title>Voice of \"April\"</title>") != NULL);
	CHECK(strstr(s, "<description>&lt;b&gt;bold&lt;/b&gt;</description>") != NULL);
	CHECK(strstr(s, "<enclosure url=\"https://m.example/files/%E5%9B%9B%E6%9C%88%20%3C1%3E%26.mp4\""
	    " length=\"3\" type=\"video/mp4\"/>") != NULL);
	/* This mirror once, the other with a slash, the one without none. */
	CHECK(strstr(s, "<podcast:source uri=\"https://b.example/x/files/old.txt\"/>") != NULL);
	CHECK(strstr(s, "no-slash") == NULL);
	a = strstr(s, "<podcast:source uri=\"https://m.example/files/old.txt\"/>");
	CHECK(a != NULL && strstr(a + 1, "<podcast:source uri=\"https://m.example/files/old.txt\"/>") == NULL);
	CHECK(strstr(s, "value=\"sha256-mOpuTyFvL7S2n/+bOkSELDhobKaF8/VdxIxdP7EQe+Q=\"") != NULL);
	CHECK(strstr(s, "value=\"sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\"") != NULL);
	CHECK(strstr(s, "type=\"application/octet-stream\"") != NULL);
	CHECK(strchr(s, '\001') == NULL && strstr(s, "&#1;") == NULL && strstr(s, "\xef\xbf\xbe") == NULL);
	free(s);

	/* No base: relative enclosures, no <link>. */
	s = feed_xml_render(cat, NULL, &len);
	CHECK(s != NULL);
	CHECK(strstr(s, "<enclosure url=\"files/old.txt\"") != NULL);
	CHECK(strstr(s, "<podcast:source uri=\"https://m.example/files/old.txt\"/>") != NULL);
	CHECK(strstr(s, "<link>") == NULL);
	free(s);
	json_decref(cat);
}

static void
test_empty(void)
{
	json_t *cat = json_loads("{\"name\":\"E\",\"items\":[]}", 0, NULL);
	size_t len;
	char *s = feed_xml_render(cat, NULL, &len);

	CHECK(s != NULL && strstr(s, "<item>") == NULL && strstr(s, "</channel>") != NULL);
	free(s);
	json_decref(cat);
}

int
main(void)
{
	test_feed();
	test_empty();
	CHECK_DONE();
}

/* The feed writer: order, URLs on this mirror and the others, the
 * integrity value, RFC 822 dates, escaping, characters XML cannot carry;
 * every feed made here is read back by libxml2. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "feed_xml.h"
#include "check.h"

/* sha256 of "hi\n" and of "" */
#define SHA_HI	"98ea6e4f216f2fb4b69fff9b3a44842c38686ca685f3f55dc48c5d3fb1107be4"
#define SHA_E	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* S parsed by libxml2 (no network, no entities): the <item>s' guids, in
 * order, joined by ' ', into OUT. -1 when S is not well-formed RSS. */
static int
parse(const char *s, size_t len, char *out, size_t outlen)
{
	xmlDocPtr doc = xmlReadMemory(s, (int)len, "feed.xml", "UTF-8",
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	xmlNodePtr root, ch, it, f;
	size_t n = 0;

	out[0] = '\0';
	if (doc == NULL)
		return -1;
	root = xmlDocGetRootElement(doc);
	if (root == NULL || xmlStrcmp(root->name, BAD_CAST "rss") != 0) {
		xmlFreeDoc(doc);
		return -1;
	}
	for (ch = root->children; ch != NULL; ch = ch->next) {
		if (ch->type != XML_ELEMENT_NODE || xmlStrcmp(ch->name, BAD_CAST "channel") != 0)
			continue;
		for (it = ch->children; it != NULL; it = it->next) {
			if (it->type != XML_ELEMENT_NODE || xmlStrcmp(it->name, BAD_CAST "item") != 0)
				continue;
			for (f = it->children; f != NULL; f = f->next) {
				xmlChar *t;
				if (f->type != XML_ELEMENT_NODE || xmlStrcmp(f->name, BAD_CAST "guid") != 0)
					continue;
				t = xmlNodeGetContent(f);
				n += (size_t)snprintf(out + n, n < outlen ? outlen - n : 0, "%s%s",
				    n > 0 ? " " : "", t != NULL ? (char *)t : "");
				xmlFree(t);
			}
		}
	}
	xmlFreeDoc(doc);
	return n < outlen ? 0 : -1;
}

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

	char guids[512];

	CHECK(cat != NULL);
	s = feed_xml_render(cat, "https://m.example/", &len);
	CHECK(s != NULL && strlen(s) == len);
	CHECK(parse(s, len, guids, sizeof(guids)) == 0);
	CHECK(strcmp(guids, SHA_HI " " SHA_E) == 0);
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

	/* No base: relative enclosures (this mirror's source too, first),
	 * no <link>. */
	s = feed_xml_render(cat, NULL, &len);
	CHECK(s != NULL && parse(s, len, guids, sizeof(guids)) == 0);
	CHECK(strstr(s, "<enclosure url=\"files/old.txt\"") != NULL);
	a = strstr(s, "<podcast:source uri=\"files/old.txt\"/>");
	b = strstr(s, "<podcast:source uri=\"https://m.example/files/old.txt\"/>");
	CHECK(a != NULL && b != NULL && a < b);
	CHECK(strstr(s, "<podcast:source uri=\"https://m.example/files/old.txt\"/>") != NULL);
	CHECK(strstr(s, "<link>") == NULL);
	free(s);
	json_decref(cat);
}

/* Names, titles and descriptions as a hostile origin or publisher would
 * write them: markup, '&', quotes, every C0 control character. The feed
 * stays well-formed, carries them as text and loses none of the items;
 * a text/html item (a page) is an item like the others. */
static void
test_hostile(void)
{
	json_t *cat = json_pack("{s:s, s:s, s:s, s:[s], s:[]}",
	    "name", "<script>alert(1)</script>&amp;\x01",
	    "description", "]]> <!-- x --> <?pi?> & \"'",
	    "generated", "2026-11-28T12:00:00Z",
	    "mirrors", "https://m.example/\"><x a='/",
	    "items");
	char ctl[40], guids[512], *s;
	size_t i, len;

	for (i = 0; i < 31; i++)
		ctl[i] = (char)(i + 1);
	ctl[31] = '\0';
	json_array_append_new(json_object_get(cat, "items"), json_pack(
	    "{s:s, s:s, s:i, s:s, s:s, s:s, s:s}",
	    "name", "<script>x</script>&\"'.html", "sha256", SHA_HI, "size", 3,
	    "type", "text/html", "fetched", "2026-11-01T00:00:00Z",
	    "title", ctl, "description", "</description><item>"));
	json_array_append_new(json_object_get(cat, "items"), json_pack(
	    "{s:s, s:s, s:i, s:s, s:s}",
	    "name", "a&b <c>.mp4", "sha256", SHA_E, "size", 0,
	    "type", "video/mp4\"><x", "published", "2026-11-02T00:00:00Z"));
	CHECK(cat != NULL && json_array_size(json_object_get(cat, "items")) == 2);
	s = feed_xml_render(cat, "https://self.example/<&>/", &len);
	CHECK(s != NULL && strlen(s) == len);
	CHECK(parse(s, len, guids, sizeof(guids)) == 0);
	CHECK(strcmp(guids, SHA_E " " SHA_HI) == 0);
	CHECK(strstr(s, "<script") == NULL && strstr(s, "<item><") == NULL &&
	    strstr(s, "<x") == NULL && strstr(s, "<!--") == NULL);
	CHECK(strstr(s, "<title>&lt;script&gt;alert(1)&lt;/script&gt;&amp;amp;</title>") != NULL);
	/* Of the controls only tab, LF and CR are left. */
	CHECK(strstr(s, "<title>\t\n\r</title>") != NULL ||
	    strstr(s, "<title>\t\n&#13;</title>") != NULL);
	CHECK(strstr(s, "url=\"https://self.example/&lt;&amp;&gt;/files/"
	    "%3Cscript%3Ex%3C%2Fscript%3E%26%22%27.html\"") != NULL);
	CHECK(strstr(s, "<podcast:source uri=\"https://m.example/&quot;&gt;&lt;x a='/files/a%26b%20%3Cc%3E.mp4\"/>") != NULL);
	CHECK(strstr(s, "type=\"text/html\"") != NULL);
	CHECK(strstr(s, "type=\"video/mp4&quot;&gt;&lt;x\"") != NULL);
	free(s);
	json_decref(cat);
}

static void
test_empty(void)
{
	json_t *cat = json_loads("{\"name\":\"E\",\"items\":[]}", 0, NULL);
	char guids[64], *s;
	size_t len;

	s = feed_xml_render(cat, NULL, &len);
	CHECK(s != NULL && strstr(s, "<item>") == NULL && strstr(s, "</channel>") != NULL);
	CHECK(s != NULL && parse(s, len, guids, sizeof(guids)) == 0 && guids[0] == '\0');
	free(s);
	json_decref(cat);
}

int
main(void)
{
	test_feed();
	test_hostile();
	test_empty();
	CHECK_DONE();
}

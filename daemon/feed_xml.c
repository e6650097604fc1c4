/*
 * The feed (feed_xml.h), written with libxml2's xmlTextWriter, which does
 * the escaping. What it cannot do is make a character XML 1.0 forbids
 * legal (it would write "&#1;", which every parser refuses): titles and
 * descriptions come from origins' pages and feeds, so such characters
 * are dropped before they reach the writer.
 */
#include "feed_xml.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlwriter.h>
#include <openssl/evp.h>

#include "catalog.h"
#include "hexutil.h"
#include "index_page.h"

#define PODCAST_NS	"https://podcastindex.org/namespace/1.0"

/*
 * Limits, and why:
 * - FEED_MIRRORS_MAX: podcast:source elements an item gets; the catalog's
 *   mirror list is the publisher's, but each source is repeated in every
 *   item, so a long list multiplies the feed's size.
 */
#define FEED_MIRRORS_MAX	32

struct feed_entry {
	json_t *item;
	const char *when;	/* published, else fetched: RFC 3339, UTC */
};

/* Newest first; equal times by name, so the order is stable. */
static int
feed_entry_cmp(const void *a, const void *b)
{
	const struct feed_entry *x = a, *y = b;
	int c = strcmp(y->when, x->when);

	if (c != 0)
		return c;
	return strcmp(json_string_value(json_object_get(x->item, "name")),
	    json_string_value(json_object_get(y->item, "name")));
}

/* Length of the UTF-8 sequence at P (already valid: jansson checked it). */
static size_t
feed_utf8_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c >= 0xf0)
		return 4;
	if (c >= 0xe0)
		return 3;
	return 2;
}

/* S without the characters XML 1.0 forbids (C0 controls but tab, LF
 * and CR; U+FFFE and U+FFFF). malloc'd; NULL when out of memory. */
static char *
feed_clean(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char *out, *o;

	if ((out = malloc(strlen(s) + 1)) == NULL)
		return NULL;
	o = out;
	while (*p != '\0') {
		size_t n = feed_utf8_len(*p), k;
		if (n == 1 && *p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') {
			p++;
			continue;
		}
		if (n == 3 && p[0] == 0xef && p[1] == 0xbf && (p[2] == 0xbe || p[2] == 0xbf)) {
			p += 3;
			continue;
		}
		for (k = 0; k < n && p[k] != '\0'; k++)
			*o++ = (char)p[k];
		p += k;
	}
	*o = '\0';
	return out;
}

static int
feed_element(xmlTextWriterPtr w, const char *name, const char *text)
{
	char *clean;
	int rc;

	if (text == NULL)
		return 0;
	if ((clean = feed_clean(text)) == NULL)
		return -1;
	rc = xmlTextWriterWriteElement(w, BAD_CAST name, BAD_CAST clean);
	free(clean);
	return rc < 0 ? -1 : 0;
}

static int
feed_attr(xmlTextWriterPtr w, const char *name, const char *value)
{
	char *clean;
	int rc;

	if ((clean = feed_clean(value)) == NULL)
		return -1;
	rc = xmlTextWriterWriteAttribute(w, BAD_CAST name, BAD_CAST clean);
	free(clean);
	return rc < 0 ? -1 : 0;
}

/* RFC 3339 (as the catalog writes it) to RFC 822 (as RSS 2.0 wants it):
 * "Sat, 28 Nov 2026 12:00:00 +0000". The catalog's own parser and
 * writer do the calendar; 1970-01-01 was a Thursday. 0, or -1 when S is
 * not a time. */
static int
feed_date(const char *s, char out[40])
{
	static const char *const days[] = { "Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
	    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	char iso[32];
	int64_t t, day;
	int y, mo, d, h, mi, sec;

	if (s == NULL || catalog_time_parse(s, &t) == -1)
		return -1;
	catalog_time(t, iso);
	if (sscanf(iso, "%d-%d-%dT%d:%d:%dZ", &y, &mo, &d, &h, &mi, &sec) != 6 ||
	    mo < 1 || mo > 12)
		return -1;
	day = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
	snprintf(out, 40, "%s, %02d %s %04d %02d:%02d:%02d +0000",
	    days[((day % 7) + 7) % 7], d, months[mo - 1], y, h, mi, sec);
	return 0;
}

/* BASE + "files/" + NAME percent-encoded; BASE NULL: relative. */
static char *
feed_file_url(const char *base, const char *name)
{
	struct index_buf b = { NULL, 0, 0 };
	size_t n = base != NULL ? strlen(base) : 0;
	char *out;

	if (index_buf_url(&b, name) == -1) {
		free(b.data);
		return NULL;
	}
	if ((out = malloc(n + 6 + b.len + 1)) != NULL) {
		memcpy(out, base != NULL ? base : "", n);
		memcpy(out + n, "files/", 6);
		memcpy(out + n + 6, b.data, b.len);
		out[n + 6 + b.len] = '\0';
	}
	free(b.data);
	return out;
}

/* "sha256-" + base64 of the digest: Subresource Integrity's form, which
 * podcast:integrity type="sri" takes. -1 when HEX is not a digest. */
static int
feed_sri(const char *hex, char out[64])
{
	uint8_t raw[32];

	if (hex == NULL || strlen(hex) != 64 || hex_decode(hex, 64, raw) == -1)
		return -1;
	memcpy(out, "sha256-", 7);
	EVP_EncodeBlock((unsigned char *)out + 7, raw, sizeof(raw));
	return 0;
}

static int
feed_item(xmlTextWriterPtr w, const struct feed_entry *e, const char *self_url,
    const char *const *mirrors, size_t n_mirrors)
{
	json_t *it = e->item;
	const char *name = json_string_value(json_object_get(it, "name"));
	const char *sha = json_string_value(json_object_get(it, "sha256"));
	const char *type = json_string_value(json_object_get(it, "type"));
	const char *title = json_string_value(json_object_get(it, "title"));
	char date[40], sri[64], length[24], *url = NULL;
	size_t i;
	int rc = -1;

	if (type == NULL)
		type = "application/octet-stream";
	snprintf(length, sizeof(length), "%lld",
	    (long long)json_integer_value(json_object_get(it, "size")));
	if (feed_sri(sha, sri) == -1)
		return 0;	/* catalog_parse lets no such item through */
	if (xmlTextWriterStartElement(w, BAD_CAST "item") < 0 ||
	    feed_element(w, "title", title != NULL ? title : name) == -1 ||
	    feed_element(w, "description",
	    json_string_value(json_object_get(it, "description"))) == -1)
		goto out;
	if (xmlTextWriterStartElement(w, BAD_CAST "guid") < 0 ||
	    xmlTextWriterWriteAttribute(w, BAD_CAST "isPermaLink", BAD_CAST "false") < 0 ||
	    xmlTextWriterWriteString(w, BAD_CAST sha) < 0 ||
	    xmlTextWriterEndElement(w) < 0)
		goto out;
	if (feed_date(e->when, date) == 0 && feed_element(w, "pubDate", date) == -1)
		goto out;
	if ((url = feed_file_url(self_url, name)) == NULL ||
	    xmlTextWriterStartElement(w, BAD_CAST "enclosure") < 0 ||
	    feed_attr(w, "url", url) == -1 || feed_attr(w, "length", length) == -1 ||
	    feed_attr(w, "type", type) == -1 || xmlTextWriterEndElement(w) < 0)
		goto out;
	if (xmlTextWriterStartElement(w, BAD_CAST "podcast:alternateEnclosure") < 0 ||
	    feed_attr(w, "type", type) == -1 || feed_attr(w, "length", length) == -1 ||
	    feed_attr(w, "default", "true") == -1)
		goto out;
	for (i = 0; i <= n_mirrors; i++) {
		char *u = i == 0 ? url : feed_file_url(mirrors[i - 1], name);
		int bad = u == NULL ||
		    xmlTextWriterStartElement(w, BAD_CAST "podcast:source") < 0 ||
		    feed_attr(w, "uri", u) == -1 || xmlTextWriterEndElement(w) < 0;
		if (i > 0)
			free(u);
		if (bad)
			goto out;
	}
	if (xmlTextWriterStartElement(w, BAD_CAST "podcast:integrity") < 0 ||
	    feed_attr(w, "type", "sri") == -1 || feed_attr(w, "value", sri) == -1 ||
	    xmlTextWriterEndElement(w) < 0 ||	/* integrity */
	    xmlTextWriterEndElement(w) < 0 ||	/* alternateEnclosure */
	    xmlTextWriterEndElement(w) < 0)	/* item */
		goto out;
	rc = 0;
out:
	free(url);
	return rc;
}

/* The catalog's other mirrors, each ending in '/', without SELF_URL. */
static size_t
feed_mirrors(json_t *catalog, const char *self_url, const char **out)
{
	json_t *v;
	size_t i, n = 0;

	json_array_foreach(json_object_get(catalog, "mirrors"), i, v) {
		const char *u = json_string_value(v);
		size_t len = u != NULL ? strlen(u) : 0;
		if (len == 0 || u[len - 1] != '/' || n == FEED_MIRRORS_MAX ||
		    (self_url != NULL && strcmp(u, self_url) == 0))
			continue;
		out[n++] = u;
	}
	return n;
}

char *
feed_xml_render(json_t *catalog, const char *self_url, size_t *len)
{
	json_t *items = json_object_get(catalog, "items"), *v;
	const char *name = json_string_value(json_object_get(catalog, "name"));
	const char *desc = json_string_value(json_object_get(catalog, "description"));
	const char *mirrors[FEED_MIRRORS_MAX];
	struct feed_entry *e = NULL;
	xmlBufferPtr buf = NULL;
	xmlTextWriterPtr w = NULL;
	char date[40], *out = NULL;
	size_t i, n = 0, n_mirrors;

	if (self_url != NULL && (self_url[0] == '\0' || self_url[strlen(self_url) - 1] != '/'))
		self_url = NULL;
	n_mirrors = feed_mirrors(catalog, self_url, mirrors);
	if (json_array_size(items) > 0 &&
	    (e = calloc(json_array_size(items), sizeof(*e))) == NULL)
		return NULL;
	json_array_foreach(items, i, v) {
		const char *when = json_string_value(json_object_get(v, "published"));
		if (json_string_value(json_object_get(v, "name")) == NULL)
			continue;
		if (when == NULL)
			when = json_string_value(json_object_get(v, "fetched"));
		e[n].item = v;
		e[n].when = when != NULL ? when : "";
		n++;
	}
	if (n > 1)
		qsort(e, n, sizeof(*e), feed_entry_cmp);
	if ((buf = xmlBufferCreate()) == NULL || (w = xmlNewTextWriterMemory(buf, 0)) == NULL)
		goto out;
	if (xmlTextWriterSetIndent(w, 1) < 0 ||
	    xmlTextWriterStartDocument(w, "1.0", "UTF-8", NULL) < 0 ||
	    xmlTextWriterStartElement(w, BAD_CAST "rss") < 0 ||
	    xmlTextWriterWriteAttribute(w, BAD_CAST "version", BAD_CAST "2.0") < 0 ||
	    xmlTextWriterWriteAttribute(w, BAD_CAST "xmlns:podcast", BAD_CAST PODCAST_NS) < 0 ||
	    xmlTextWriterStartElement(w, BAD_CAST "channel") < 0 ||
	    feed_element(w, "title", name != NULL ? name : "emberd") == -1 ||
	    feed_element(w, "link", self_url) == -1 ||
	    feed_element(w, "description", desc != NULL ? desc : name) == -1 ||
	    feed_element(w, "generator", "emberd " EMBERD_VERSION) == -1)
		goto out;
	if (feed_date(json_string_value(json_object_get(catalog, "generated")), date) == 0 &&
	    feed_element(w, "lastBuildDate", date) == -1)
		goto out;
	for (i = 0; i < n; i++)
		if (feed_item(w, &e[i], self_url, mirrors, n_mirrors) == -1)
			goto out;
	if (xmlTextWriterEndDocument(w) < 0)
		goto out;
	xmlFreeTextWriter(w);	/* flushes into BUF */
	w = NULL;
	if ((out = malloc((size_t)xmlBufferLength(buf) + 1)) != NULL) {
		*len = (size_t)xmlBufferLength(buf);
		memcpy(out, xmlBufferContent(buf), *len);
		out[*len] = '\0';
	}
out:
	if (w != NULL)
		xmlFreeTextWriter(w);
	if (buf != NULL)
		xmlBufferFree(buf);
	free(e);
	return out;
}

/*
 * The feed parser (see feed_parse.h): libxml2's push parser with SAX2
 * callbacks of our own, the entries with a medium kept in a bounded
 * heap, feed dates to UTC, and the sniffing of a body's first element.
 */
#include "feed_parse.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/valid.h>
#include <libxml/xmlerror.h>

#include "catalog.h"
#include "feed_date.h"
#include "names.h"

/*
 * Limits, and why:
 * - FEED_ITEMS_MAX: the most entries a parser keeps, [source] max_items'
 *   own range. A kept entry costs at most about 14 KiB (the caps below),
 *   so 10000 of them at most 140 MiB; a usual 50, under a megabyte.
 * - FEED_TITLE_MAX, FEED_DESC_MAX: bytes of a title or description (cut
 *   on a UTF-8 boundary): enough for an index page, and a description
 *   longer than that is an article, not a caption.
 * - FEED_ID_MAX, FEED_DATE_MAX: a longer guid is no identifier worth
 *   keeping (it is dropped, not cut); a longer date text is no date.
 * - FEED_URL_MAX, FEED_TYPE_MAX: a longer media URL or type drops that
 *   candidate: cut, it would name something else.
 * - FEED_SLICE: bytes handed to xmlParseChunk at a time. libxml2 copies
 *   a chunk into its input buffer whole before parsing it; slicing keeps
 *   that copy small whatever the caller's buffer.
 * - FEED_DTD_DECLS, FEED_DTD_BYTES: declarations in an internal DTD
 *   subset, and the bytes of their names and values. Nothing here uses
 *   them, but libxml2 keeps entity declarations (for SAX compatibility)
 *   and attribute defaults whatever the callbacks do: past either limit
 *   the document is not read (feeds declare a few HTML entities at most).
 * - libxml2's own limits, kept by not setting XML_PARSE_HUGE: at most
 *   10 MB of look-ahead or of one text, name or attribute value, 10 MB
 *   of interned names, nesting 256 deep. A document past them ends the
 *   parse (what was read stands), so libxml2 holds tens of megabytes at
 *   worst, not the document.
 * Per parser, the text slots and media candidates below: about 45 KiB.
 */
#define FEED_ITEMS_MAX		10000
#define FEED_TITLE_MAX		512
#define FEED_DESC_MAX		4096
#define FEED_ID_MAX		1024
#define FEED_DATE_MAX		64
#define FEED_URL_MAX		8192
#define FEED_TYPE_MAX		255
#define FEED_SLICE		(64 * 1024)
#define FEED_DTD_DECLS		1024
#define FEED_DTD_BYTES		(1024 * 1024)

/*
 * Namespaces, matched by URI; an undeclared prefix (a common mistake:
 * <media:content> without xmlns:media) by its usual name. Atom, RSS 1.0
 * and RSS 0.90 elements count as plain ones: the document's kind and
 * where an element is say what it means.
 */
enum feed_ns {
	NS_PLAIN,
	NS_MEDIA,
	NS_ITUNES,
	NS_DC,
	NS_RDF,
	NS_OTHER,
};

static const struct {
	const char	*uri;
	enum feed_ns	 ns;
} feed_ns_uris[] = {
	{ "http://www.w3.org/2005/Atom",			NS_PLAIN },
	{ "http://purl.org/atom/ns#",				NS_PLAIN },
	{ "http://purl.org/rss/1.0/",				NS_PLAIN },
	{ "http://my.netscape.com/rdf/simple/0.9/",		NS_PLAIN },
	{ "http://search.yahoo.com/mrss/",			NS_MEDIA },
	{ "http://search.yahoo.com/mrss",			NS_MEDIA },
	{ "http://www.itunes.com/dtds/podcast-1.0.dtd",		NS_ITUNES },
	{ "http://purl.org/dc/elements/1.1/",			NS_DC },
	{ "http://www.w3.org/1999/02/22-rdf-syntax-ns#",	NS_RDF },
};

static const struct {
	const char	*prefix;
	enum feed_ns	 ns;
} feed_ns_prefixes[] = {
	{ "atom",	NS_PLAIN },
	{ "media",	NS_MEDIA },
	{ "itunes",	NS_ITUNES },
	{ "dc",		NS_DC },
	{ "rdf",	NS_RDF },
};

enum feed_kind {
	KIND_NONE,		/* no element yet */
	KIND_NOT_FEED,		/* the first element is something else */
	KIND_RSS,		/* <rss>: items in <channel> */
	KIND_RDF,		/* <rdf:RDF>: items beside <channel> */
	KIND_ATOM,		/* <feed>: entries in it */
};

/*
 * Text slots: each source of a field has its own, so that a fallback
 * (itunes:summary for description) is used only when the preferred one
 * is absent or empty, whatever their order in the document. Entry slots
 * are emptied at each entry's start.
 */
enum feed_slot {
	SLOT_TITLE,		/* <title> */
	SLOT_ITUNES_TITLE,
	SLOT_MEDIA_TITLE,
	SLOT_DESC,		/* <description>, Atom <summary> */
	SLOT_ITUNES_SUMMARY,
	SLOT_MEDIA_DESC,
	SLOT_CONTENT,		/* Atom <content> */
	SLOT_DATE,		/* <pubDate>, Atom <published> */
	SLOT_DC_DATE,
	SLOT_UPDATED,		/* Atom <updated> */
	SLOT_ID,		/* <guid>, Atom <id> */
	SLOT_ENTRY_END,		/* the slots above are an entry's */
	SLOT_CH_TITLE = SLOT_ENTRY_END,
	SLOT_CH_DESC,		/* <description>, Atom <subtitle> */
	SLOT_CH_ITUNES_SUMMARY,
	SLOT_COUNT,
};

static const size_t feed_slot_caps[SLOT_COUNT] = {
	[SLOT_TITLE] = FEED_TITLE_MAX,
	[SLOT_ITUNES_TITLE] = FEED_TITLE_MAX,
	[SLOT_MEDIA_TITLE] = FEED_TITLE_MAX,
	[SLOT_DESC] = FEED_DESC_MAX,
	[SLOT_ITUNES_SUMMARY] = FEED_DESC_MAX,
	[SLOT_MEDIA_DESC] = FEED_DESC_MAX,
	[SLOT_CONTENT] = FEED_DESC_MAX,
	[SLOT_DATE] = FEED_DATE_MAX,
	[SLOT_DC_DATE] = FEED_DATE_MAX,
	[SLOT_UPDATED] = FEED_DATE_MAX,
	[SLOT_ID] = FEED_ID_MAX,
	[SLOT_CH_TITLE] = FEED_TITLE_MAX,
	[SLOT_CH_DESC] = FEED_DESC_MAX,
	[SLOT_CH_ITUNES_SUMMARY] = FEED_DESC_MAX,
};

/* Whitespace-collapsed text being gathered, at most CAP bytes. */
struct feed_text {
	char		*buf;	/* CAP + 1 bytes, in feed_parser's arena */
	size_t		 cap, len;
	int		 pending;	/* a space is due before the next character */
	int		 full;		/* text was cut */
	int		 done;		/* holds a finished, non-empty text */
	int		 cuttable;	/* prose: a cut text stays, else it goes */
};

/* A medium an entry names: its attributes as given, not yet resolved. */
struct feed_medium {
	int		 set;
	char		 url[FEED_URL_MAX + 1];
	char		 type[FEED_TYPE_MAX + 1];
	uint64_t	 length, bitrate;
};

struct feed_kept {
	struct feed_entry e;
	uint64_t	 seq;		/* document order */
};

struct feed_parser {
	xmlParserCtxtPtr ctxt;
	char		*base;		/* the feed's URL, or NULL */
	size_t		 max_items;
	enum feed_kind	 kind;
	char		 root[40];	/* a foreign first element, for the error */
	int		 oom, stopped, finished;
	size_t		 dtd_decls, dtd_bytes;
	int		 dtd_over;

	unsigned	 depth;		/* of the element being read; root 1 */
	unsigned	 channel_depth;	/* of <channel> (Atom: <feed>), or 0 */
	unsigned	 entry_depth;	/* of the open <item>/<entry>, or 0 */
	int		 cap_slot;	/* the slot gathering text, or -1 */
	unsigned	 cap_depth;	/* of its element */
	int		 cap_ignore;	/* the slot is already filled */

	struct feed_text text[SLOT_COUNT];
	char		*arena;
	struct feed_medium enclosure, media;

	/* The kept entries: a heap whose root is the one that sorts last,
	 * the first to go when a newer entry comes. */
	struct feed_kept *kept;
	size_t		 n_kept, kept_alloc, skipped;
	uint64_t	 seq;
};

static int
feed_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* ---- sniffing ---- */

/* Where NEEDLE first ends in BUF[I..LEN), or 0 when it is not there. */
static size_t
feed_sniff_past(const char *buf, size_t len, size_t i, const char *needle)
{
	size_t n = strlen(needle);

	for (; i + n <= len; i++)
		if (memcmp(buf + i, needle, n) == 0)
			return i + n;
	return 0;
}

/* Past a doctype's '>', over its quoted strings and [internal subset];
 * 0 when it does not end in BUF. */
static size_t
feed_sniff_doctype(const char *buf, size_t len, size_t i)
{
	char quote = 0;
	int subset = 0;

	for (; i < len; i++) {
		char c = buf[i];

		if (quote != 0) {
			if (c == quote)
				quote = 0;
		} else if (c == '"' || c == '\'')
			quote = c;
		else if (c == '[')
			subset++;
		else if (c == ']' && subset > 0)
			subset--;
		else if (c == '>' && subset == 0)
			return i + 1;
	}
	return 0;
}

/* 1 when BUF[I..LEN) starts with element name NAME and a character
 * that ends a name. */
static int
feed_sniff_name(const char *buf, size_t len, size_t i, const char *name)
{
	size_t n = strlen(name);
	char c;

	if (len - i <= n || memcmp(buf + i, name, n) != 0)
		return 0;
	c = buf[i + n];
	return feed_is_space(c) || c == '>' || c == '/';
}

int
feed_sniff(const char *buf, size_t len)
{
	size_t i = 0;

	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	for (;;) {
		while (i < len && feed_is_space(buf[i]))
			i++;
		if (i >= len || buf[i] != '<')
			return 0;
		if (len - i >= 2 && buf[i + 1] == '?')
			i = feed_sniff_past(buf, len, i + 2, "?>");
		else if (len - i >= 4 && memcmp(buf + i, "<!--", 4) == 0)
			i = feed_sniff_past(buf, len, i + 4, "-->");
		else if (len - i >= 9 && strncasecmp(buf + i, "<!DOCTYPE", 9) == 0)
			i = feed_sniff_doctype(buf, len, i + 9);
		else
			return feed_sniff_name(buf, len, i + 1, "rss") ||
			    feed_sniff_name(buf, len, i + 1, "feed") ||
			    feed_sniff_name(buf, len, i + 1, "rdf:RDF");
		if (i == 0)
			return 0;
	}
}

/* ---- text ---- */

/*
 * Appends LEN bytes of character data to T, runs of whitespace (and of
 * control characters, which XML 1.0 forbids anyway) becoming one space,
 * none at the start or end. Bytes past the cap are dropped.
 */
static void
feed_text_add(struct feed_text *t, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len && !t->full; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c == 0x7f) {
			if (t->len > 0)
				t->pending = 1;
			continue;
		}
		if (t->pending) {
			if (t->len == t->cap) {
				t->full = 1;
				break;
			}
			t->buf[t->len++] = ' ';
			t->pending = 0;
		}
		if (t->len == t->cap) {
			t->full = 1;
			break;
		}
		t->buf[t->len++] = (char)c;
	}
}

/*
 * The end of a text element: a cut title or description loses a
 * character the cut split and a space left at its end, a cut id or date
 * is dropped (cut, it would be another); invalid UTF-8 (libxml2 hands
 * out UTF-8, but a cut may split a character) empties it. DONE when
 * anything is left.
 */
static void
feed_text_end(struct feed_text *t)
{
	size_t i, need;
	unsigned char c;

	if (t->full && !t->cuttable)
		t->len = 0;
	if (t->full && t->len > 0) {
		/* The last lead byte, and whether its sequence is whole. */
		for (i = t->len; i > 0 && t->len - i < 4; i--) {
			c = (unsigned char)t->buf[i - 1];
			if ((c & 0xc0) == 0x80)
				continue;
			need = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
			if (t->len - (i - 1) < need)
				t->len = i - 1;
			break;
		}
		while (t->len > 0 && t->buf[t->len - 1] == ' ')
			t->len--;
	}
	t->buf[t->len] = '\0';
	if (!name_utf8_valid(t->buf, t->len))
		t->len = 0;
	t->buf[t->len] = '\0';
	t->done = t->len > 0;
	t->pending = 0;
}

static void
feed_text_reset(struct feed_text *t)
{
	t->len = 0;
	t->pending = t->full = t->done = 0;
	t->buf[0] = '\0';
}

/* ---- media ---- */

/*
 * Attribute NAME (in no namespace) of a SAX2 start tag into OUT, trimmed.
 * libxml2, not substituting entities, hands a value's "&amp;" and "&#38;"
 * on as "&#38;" (for a tree builder to decode): that becomes '&' here.
 * 1 found, 0 absent, -1 longer than OUTLEN - 1.
 */
static int
feed_attr(const xmlChar **attrs, int n, const char *name, char *out, size_t outlen)
{
	const char *v, *end;
	size_t len = 0;
	int i;

	for (i = 0; i < n; i++) {
		if (attrs[i * 5 + 2] != NULL ||
		    strcmp((const char *)attrs[i * 5], name) != 0)
			continue;
		v = (const char *)attrs[i * 5 + 3];
		end = (const char *)attrs[i * 5 + 4];
		while (v < end && feed_is_space(*v))
			v++;
		while (end > v && feed_is_space(end[-1]))
			end--;
		while (v < end) {
			if (len + 1 >= outlen)
				return -1;
			if (end - v >= 5 && memcmp(v, "&#38;", 5) == 0) {
				out[len++] = '&';
				v += 5;
			} else
				out[len++] = *v++;
		}
		out[len] = '\0';
		return 1;
	}
	return 0;
}

/* A decimal number of an attribute; 0 when absent or not one. */
static uint64_t
feed_attr_number(const xmlChar **attrs, int n, const char *name)
{
	char buf[32], *c;
	uint64_t v = 0;

	if (feed_attr(attrs, n, name, buf, sizeof(buf)) != 1 || buf[0] == '\0')
		return 0;
	for (c = buf; *c != '\0'; c++) {
		uint64_t digit = (uint64_t)(*c - '0');

		if (*c < '0' || *c > '9' || v > (UINT64_MAX - digit) / 10)
			return 0;
		v = v * 10 + digit;
	}
	return v;
}

/*
 * A medium's attributes read into M (URL from URL_ATTR). FALSE when it
 * has no usable URL; M is then left as it was.
 */
static int
feed_medium_read(struct feed_medium *m, const xmlChar **attrs, int n,
    const char *url_attr, const char *size_attr)
{
	struct feed_medium c;

	if (feed_attr(attrs, n, url_attr, c.url, sizeof(c.url)) != 1 ||
	    c.url[0] == '\0')
		return 0;
	if (feed_attr(attrs, n, "type", c.type, sizeof(c.type)) != 1)
		c.type[0] = '\0';
	c.length = feed_attr_number(attrs, n, size_attr);
	c.bitrate = feed_attr_number(attrs, n, "bitrate");
	c.set = 1;
	*m = c;
	return 1;
}

/*
 * A <media:content>: the entry's candidate unless the one it has is at
 * least as large (fileSize, then bitrate); with neither, the first.
 */
static void
feed_media_content(struct feed_parser *p, const xmlChar **attrs, int n)
{
	struct feed_medium *m = &p->media;
	uint64_t size = feed_attr_number(attrs, n, "fileSize");
	uint64_t rate = feed_attr_number(attrs, n, "bitrate");

	if (m->set && (size < m->length ||
	    (size == m->length && rate <= m->bitrate)))
		return;
	feed_medium_read(m, attrs, n, "url", "fileSize");
}

/*
 * A medium's URL made absolute against the feed's (RFC 3986 through
 * libcurl's URL API), without its fragment; spaces, which feeds leave
 * unencoded often enough, become %20. A heap string, or NULL when it is
 * not http or https, does not parse, or memory ran out (*OOM set).
 */
static char *
feed_url_resolve(const struct feed_parser *p, const char *rel, int *oom)
{
	CURLU *u;
	char *scheme = NULL, *url = NULL, *ret = NULL;

	if ((u = curl_url()) == NULL) {
		*oom = 1;
		return NULL;
	}
	if (p->base != NULL && curl_url_set(u, CURLUPART_URL, p->base, 0) != CURLUE_OK)
		goto done;
	if (curl_url_set(u, CURLUPART_URL, rel,
	    CURLU_ALLOW_SPACE | CURLU_URLENCODE) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) ||
	    curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK)
		goto done;
	if ((ret = strdup(url)) == NULL)
		*oom = 1;
done:
	curl_free(scheme);
	curl_free(url);
	curl_url_cleanup(u);
	return ret;
}

/* A type as the feed gives it (trimmed), lowercased, when it is
 * printable ASCII with a '/'; else NULL, also when out of memory (*OOM). */
static char *
feed_type_copy(const char *s, int *oom)
{
	char *t;
	size_t i;

	if (strchr(s, '/') == NULL)
		return NULL;
	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			return NULL;
	if ((t = strdup(s)) == NULL) {
		*oom = 1;
		return NULL;
	}
	for (i = 0; t[i] != '\0'; i++)
		if (t[i] >= 'A' && t[i] <= 'Z')
			t[i] = (char)(t[i] - 'A' + 'a');
	return t;
}

/* ---- the kept entries ---- */

/* Whether A comes before B: newer first, undated last, then document
 * order. A total order: no two entries share a SEQ. */
static int
feed_before(const struct feed_kept *a, const struct feed_kept *b)
{
	if (a->e.time != b->e.time)
		return a->e.time > b->e.time;
	return a->seq < b->seq;
}

static void
feed_entry_clear(struct feed_entry *e)
{
	free(e->url);
	free(e->type);
	free(e->title);
	free(e->description);
	free(e->published);
	free(e->id);
	memset(e, 0, sizeof(*e));
}

static void
feed_kept_swap(struct feed_kept *a, struct feed_kept *b)
{
	struct feed_kept t = *a;

	*a = *b;
	*b = t;
}

/* Restores the heap below I (its root sorting last). O(log n). */
static void
feed_heap_down(struct feed_kept *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, last = i;

		if (l < n && feed_before(&h[last], &h[l]))
			last = l;
		if (r < n && feed_before(&h[last], &h[r]))
			last = r;
		if (last == i)
			return;
		feed_kept_swap(&h[i], &h[last]);
		i = last;
	}
}

static void
feed_heap_up(struct feed_kept *h, size_t i)
{
	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (!feed_before(&h[parent], &h[i]))
			return;
		feed_kept_swap(&h[i], &h[parent]);
		i = parent;
	}
}

/* The first finished text of the N SLOTS, in their order of preference,
 * as a heap copy; NULL when none (or out of memory: *OOM). */
static char *
feed_text_pick(struct feed_parser *p, const enum feed_slot *slots, size_t n, int *oom)
{
	char *s;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!p->text[slots[i]].done)
			continue;
		if ((s = strdup(p->text[slots[i]].buf)) == NULL)
			*oom = 1;
		return s;
	}
	return NULL;
}

/*
 * An entry has ended: with a medium it is kept, in place of the one
 * sorting last when max_items are kept already and it sorts before
 * that one; skipped otherwise. O(log max_items) and the entry's copies.
 */
static void
feed_entry_end(struct feed_parser *p)
{
	static const enum feed_slot titles[] = {
		SLOT_TITLE, SLOT_ITUNES_TITLE, SLOT_MEDIA_TITLE
	};
	static const enum feed_slot descs[] = {
		SLOT_DESC, SLOT_ITUNES_SUMMARY, SLOT_MEDIA_DESC, SLOT_CONTENT
	};
	static const enum feed_slot dates[] = {
		SLOT_DATE, SLOT_DC_DATE, SLOT_UPDATED
	};
	static const enum feed_slot ids[] = { SLOT_ID };
	const struct feed_medium *m;
	struct feed_kept k, *grown;
	char published[32];
	size_t i, alloc;
	int oom = 0;

	m = p->enclosure.set ? &p->enclosure : p->media.set ? &p->media : NULL;
	if (m == NULL)
		return;
	memset(&k, 0, sizeof(k));
	k.seq = p->seq++;
	k.e.time = INT64_MIN;
	for (i = 0; i < sizeof(dates) / sizeof(dates[0]); i++)
		if (p->text[dates[i]].done &&
		    feed_parse_date(p->text[dates[i]].buf, &k.e.time) == 0)
			break;
	if ((k.e.url = feed_url_resolve(p, m->url, &oom)) == NULL)
		goto fail;
	if (p->n_kept == p->max_items) {
		/* Full (or max_items 0): the new one or the last must go. */
		p->skipped++;
		if (p->n_kept == 0 || !feed_before(&k, &p->kept[0]))
			goto fail;
	}
	k.e.length = m->length;
	k.e.type = feed_type_copy(m->type, &oom);
	k.e.title = feed_text_pick(p, titles, sizeof(titles) / sizeof(titles[0]), &oom);
	k.e.description = feed_text_pick(p, descs, sizeof(descs) / sizeof(descs[0]), &oom);
	k.e.id = feed_text_pick(p, ids, 1, &oom);
	if (k.e.time != INT64_MIN) {
		catalog_time(k.e.time, published);
		if ((k.e.published = strdup(published)) == NULL)
			oom = 1;
	}
	if (oom)
		goto fail;
	if (p->n_kept == p->max_items) {
		feed_entry_clear(&p->kept[0].e);
		p->kept[0] = k;
		feed_heap_down(p->kept, p->n_kept, 0);
		return;
	}
	if (p->n_kept == p->kept_alloc) {
		alloc = p->kept_alloc == 0 ? 16 : p->kept_alloc * 2;
		if (alloc > p->max_items)
			alloc = p->max_items;
		if ((grown = reallocarray(p->kept, alloc, sizeof(*grown))) == NULL) {
			oom = 1;
			goto fail;
		}
		p->kept = grown;
		p->kept_alloc = alloc;
	}
	p->kept[p->n_kept] = k;
	feed_heap_up(p->kept, p->n_kept++);
	return;
fail:
	feed_entry_clear(&k.e);
	if (oom) {
		p->oom = 1;
		xmlStopParser(p->ctxt);
	}
}

/* ---- SAX2 callbacks ---- */

static enum feed_ns
feed_ns_of(const xmlChar *prefix, const xmlChar *uri)
{
	size_t i;

	if (uri != NULL) {
		for (i = 0; i < sizeof(feed_ns_uris) / sizeof(feed_ns_uris[0]); i++)
			if (strcasecmp((const char *)uri, feed_ns_uris[i].uri) == 0)
				return feed_ns_uris[i].ns;
		return NS_OTHER;
	}
	if (prefix == NULL)
		return NS_PLAIN;
	for (i = 0; i < sizeof(feed_ns_prefixes) / sizeof(feed_ns_prefixes[0]); i++)
		if (strcmp((const char *)prefix, feed_ns_prefixes[i].prefix) == 0)
			return feed_ns_prefixes[i].ns;
	return NS_OTHER;
}

/* The element just opened gathers its text (and its descendants') into
 * SLOT, unless the slot is filled already. */
static void
feed_capture(struct feed_parser *p, enum feed_slot slot)
{
	p->cap_slot = (int)slot;
	p->cap_depth = p->depth;
	p->cap_ignore = p->text[slot].done;
	if (!p->cap_ignore)
		feed_text_reset(&p->text[slot]);
}

/* The first element decides what the document is. */
static void
feed_root(struct feed_parser *p, const char *name, enum feed_ns ns)
{
	size_t i;

	if (ns == NS_PLAIN && strcmp(name, "rss") == 0)
		p->kind = KIND_RSS;
	else if (ns == NS_RDF && strcmp(name, "RDF") == 0)
		p->kind = KIND_RDF;
	else if (ns == NS_PLAIN && strcmp(name, "feed") == 0) {
		p->kind = KIND_ATOM;
		p->channel_depth = 1;
	} else {
		p->kind = KIND_NOT_FEED;
		/* For the error line: printable ASCII only, cut. */
		for (i = 0; name[i] != '\0' && i < sizeof(p->root) - 1; i++)
			p->root[i] = name[i] > 0x20 && name[i] < 0x7f ? name[i] : '?';
		p->root[i] = '\0';
		p->stopped = 1;
		xmlStopParser(p->ctxt);
	}
}

/* A child of <channel> (Atom: of <feed>) outside any entry. */
static void
feed_channel_child(struct feed_parser *p, const char *name, enum feed_ns ns)
{
	if (ns == NS_PLAIN && strcmp(name, "title") == 0)
		feed_capture(p, SLOT_CH_TITLE);
	else if (ns == NS_PLAIN && (strcmp(name, "description") == 0 ||
	    (p->kind == KIND_ATOM && strcmp(name, "subtitle") == 0)))
		feed_capture(p, SLOT_CH_DESC);
	else if (ns == NS_ITUNES && strcmp(name, "summary") == 0)
		feed_capture(p, SLOT_CH_ITUNES_SUMMARY);
}

/* A child of <item>/<entry>. */
static void
feed_entry_child(struct feed_parser *p, const char *name, enum feed_ns ns,
    const xmlChar **attrs, int n)
{
	char rel[32];

	if (ns == NS_PLAIN) {
		if (strcmp(name, "title") == 0)
			feed_capture(p, SLOT_TITLE);
		else if (strcmp(name, "description") == 0 || strcmp(name, "summary") == 0)
			feed_capture(p, SLOT_DESC);
		else if (strcmp(name, "content") == 0)
			feed_capture(p, SLOT_CONTENT);
		else if (strcmp(name, "pubDate") == 0 || strcmp(name, "published") == 0)
			feed_capture(p, SLOT_DATE);
		else if (strcmp(name, "updated") == 0)
			feed_capture(p, SLOT_UPDATED);
		else if (strcmp(name, "guid") == 0 || strcmp(name, "id") == 0)
			feed_capture(p, SLOT_ID);
		else if (strcmp(name, "enclosure") == 0 && !p->enclosure.set)
			feed_medium_read(&p->enclosure, attrs, n, "url", "length");
		else if (strcmp(name, "link") == 0 && !p->enclosure.set &&
		    feed_attr(attrs, n, "rel", rel, sizeof(rel)) == 1 &&
		    strcasecmp(rel, "enclosure") == 0)
			feed_medium_read(&p->enclosure, attrs, n, "href", "length");
	} else if (ns == NS_ITUNES) {
		if (strcmp(name, "title") == 0)
			feed_capture(p, SLOT_ITUNES_TITLE);
		else if (strcmp(name, "summary") == 0)
			feed_capture(p, SLOT_ITUNES_SUMMARY);
	} else if (ns == NS_DC && strcmp(name, "date") == 0)
		feed_capture(p, SLOT_DC_DATE);
}

static void
feed_sax_start(void *ctx, const xmlChar *localname, const xmlChar *prefix,
    const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
    int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
	struct feed_parser *p = ctx;
	const char *name = (const char *)localname;
	enum feed_ns ns;
	int i;

	p->depth++;
	if (p->cap_slot >= 0 || p->stopped)
		return;		/* markup inside a text element is its text's */
	ns = feed_ns_of(prefix, uri);
	if (p->depth == 1) {
		feed_root(p, name, ns);
		return;
	}
	if (p->entry_depth == 0) {
		if (ns == NS_PLAIN && (strcmp(name, "item") == 0 ||
		    strcmp(name, "entry") == 0)) {
			p->entry_depth = p->depth;
			for (i = 0; i < SLOT_ENTRY_END; i++)
				feed_text_reset(&p->text[i]);
			p->enclosure.set = p->media.set = 0;
		} else if (p->kind != KIND_ATOM && p->depth == 2 &&
		    ns == NS_PLAIN && strcmp(name, "channel") == 0)
			p->channel_depth = 2;
		else if (p->channel_depth != 0 && p->depth == p->channel_depth + 1)
			feed_channel_child(p, name, ns);
		return;
	}
	if (p->depth == p->entry_depth + 1)
		feed_entry_child(p, name, ns, attributes, nb_attributes);
	/* Media RSS anywhere in the entry: in <media:group> too. */
	if (ns == NS_MEDIA) {
		if (strcmp(name, "content") == 0)
			feed_media_content(p, attributes, nb_attributes);
		else if (strcmp(name, "title") == 0)
			feed_capture(p, SLOT_MEDIA_TITLE);
		else if (strcmp(name, "description") == 0)
			feed_capture(p, SLOT_MEDIA_DESC);
	}
}

static void
feed_sax_end(void *ctx, const xmlChar *localname, const xmlChar *prefix,
    const xmlChar *uri)
{
	struct feed_parser *p = ctx;

	if (p->depth == 0)
		return;
	if (p->cap_slot >= 0 && p->depth == p->cap_depth) {
		if (!p->cap_ignore)
			feed_text_end(&p->text[p->cap_slot]);
		p->cap_slot = -1;
	}
	if (p->cap_slot < 0 && !p->stopped) {
		if (p->entry_depth != 0 && p->depth == p->entry_depth) {
			feed_entry_end(p);
			p->entry_depth = 0;
		} else if (p->kind != KIND_ATOM && p->depth == p->channel_depth)
			p->channel_depth = 0;
	}
	p->depth--;
}

/* Character data and CDATA sections alike. */
static void
feed_sax_text(void *ctx, const xmlChar *s, int len)
{
	struct feed_parser *p = ctx;

	if (p->cap_slot >= 0 && !p->cap_ignore && len > 0)
		feed_text_add(&p->text[p->cap_slot], (const char *)s, (size_t)len);
}

/*
 * A declaration of the internal DTD subset: counted, and the parse
 * ended when there are too many (see FEED_DTD_DECLS).
 */
static void
feed_dtd_count(struct feed_parser *p, const xmlChar *a, const xmlChar *b,
    const xmlChar *c)
{
	p->dtd_decls++;
	p->dtd_bytes += (a != NULL ? strlen((const char *)a) : 0) +
	    (b != NULL ? strlen((const char *)b) : 0) +
	    (c != NULL ? strlen((const char *)c) : 0);
	if ((p->dtd_decls > FEED_DTD_DECLS || p->dtd_bytes > FEED_DTD_BYTES) &&
	    !p->dtd_over) {
		p->dtd_over = 1;
		p->stopped = 1;
		xmlStopParser(p->ctxt);
	}
}

static void
feed_sax_entity_decl(void *ctx, const xmlChar *name, int type,
    const xmlChar *public_id, const xmlChar *system_id, xmlChar *content)
{
	feed_dtd_count(ctx, name, system_id, content);
}

static void
feed_sax_unparsed_decl(void *ctx, const xmlChar *name, const xmlChar *public_id,
    const xmlChar *system_id, const xmlChar *notation)
{
	feed_dtd_count(ctx, name, system_id, notation);
}

static void
feed_sax_notation_decl(void *ctx, const xmlChar *name, const xmlChar *public_id,
    const xmlChar *system_id)
{
	feed_dtd_count(ctx, name, public_id, system_id);
}

/* The enumeration TREE is the callback's to free. */
static void
feed_sax_attribute_decl(void *ctx, const xmlChar *elem, const xmlChar *name,
    int type, int def, const xmlChar *value, xmlEnumerationPtr tree)
{
	if (tree != NULL)
		xmlFreeEnumeration(tree);
	feed_dtd_count(ctx, elem, name, value);
}

static void
feed_sax_element_decl(void *ctx, const xmlChar *name, int type,
    xmlElementContentPtr content)
{
	feed_dtd_count(ctx, name, NULL, NULL);
}

/* Errors are recovered from or end the parse; none is printed. */
static void
feed_sax_error(void *ctx, xmlErrorPtr e)
{
	struct feed_parser *p = ctx;

	if (e != NULL && e->code == XML_ERR_NO_MEMORY)
		p->oom = 1;
}

/* ---- the parser ---- */

/*
 * Some of libxml2's errors (an encoding's conversion failing) bypass
 * the parser context for its per-thread handlers, which print to
 * stderr. Those are silenced around each call into the parser and
 * restored after, so that other users of libxml2 keep theirs.
 */
struct feed_quiet {
	xmlGenericErrorFunc	 generic;
	void			*generic_ctx;
	xmlStructuredErrorFunc	 structured;
	void			*structured_ctx;
};

static void
feed_quiet_generic(void *ctx, const char *fmt, ...)
{
}

static void
feed_quiet_structured(void *ctx, xmlErrorPtr e)
{
}

static void
feed_quiet_begin(struct feed_quiet *q)
{
	q->generic = xmlGenericError;
	q->generic_ctx = xmlGenericErrorContext;
	q->structured = xmlStructuredError;
	q->structured_ctx = xmlStructuredErrorContext;
	xmlSetGenericErrorFunc(NULL, feed_quiet_generic);
	xmlSetStructuredErrorFunc(NULL, feed_quiet_structured);
}

static void
feed_quiet_end(const struct feed_quiet *q)
{
	xmlSetGenericErrorFunc(q->generic_ctx, q->generic);
	xmlSetStructuredErrorFunc(q->structured_ctx, q->structured);
}

struct feed_parser *
feed_parser_new(const char *feed_url, size_t max_items)
{
	struct feed_parser *p;
	xmlSAXHandler sax;
	size_t i, arena = 0, off = 0;

	xmlInitParser();
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->max_items = max_items > FEED_ITEMS_MAX ? FEED_ITEMS_MAX : max_items;
	p->cap_slot = -1;
	for (i = 0; i < SLOT_COUNT; i++)
		arena += feed_slot_caps[i] + 1;
	if ((p->arena = malloc(arena)) == NULL ||
	    (feed_url != NULL && (p->base = strdup(feed_url)) == NULL))
		goto fail;
	for (i = 0; i < SLOT_COUNT; i++) {
		p->text[i].buf = p->arena + off;
		p->text[i].cap = feed_slot_caps[i];
		p->text[i].cuttable = i < SLOT_DATE || i >= SLOT_CH_TITLE;
		off += feed_slot_caps[i] + 1;
		feed_text_reset(&p->text[i]);
	}

	/*
	 * SAX2 with elements, text and errors, and the DTD's declarations
	 * only counted: no getEntity or getParameterEntity is there to
	 * ask (and the user data is not the context, so libxml2 does not
	 * look in its own store), so a reference to any entity but XML's
	 * five is dropped, never expanded (billion laughs) nor loaded
	 * (file:///etc/passwd), and no tree is built. XML_PARSE_NOENT and XML_PARSE_DTDLOAD stay unset;
	 * XML_PARSE_NONET besides. A known cost of leaving entities alone:
	 * after a well-formedness error (an undeclared &nbsp;), libxml2
	 * stops inlining "&amp;" and "&lt;" in text (character references
	 * still work), so such a title may lose those characters.
	 */
	memset(&sax, 0, sizeof(sax));
	sax.initialized = XML_SAX2_MAGIC;
	sax.startElementNs = feed_sax_start;
	sax.endElementNs = feed_sax_end;
	sax.characters = feed_sax_text;
	sax.cdataBlock = feed_sax_text;
	sax.ignorableWhitespace = feed_sax_text;
	sax.serror = feed_sax_error;
	sax.entityDecl = feed_sax_entity_decl;
	sax.unparsedEntityDecl = feed_sax_unparsed_decl;
	sax.notationDecl = feed_sax_notation_decl;
	sax.attributeDecl = feed_sax_attribute_decl;
	sax.elementDecl = feed_sax_element_decl;
	if ((p->ctxt = xmlCreatePushParserCtxt(&sax, p, NULL, 0, NULL)) == NULL)
		goto fail;
	xmlCtxtUseOptions(p->ctxt, XML_PARSE_NONET | XML_PARSE_RECOVER |
	    XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	return p;
fail:
	feed_parser_free(p);
	return NULL;
}

int
feed_parser_feed(struct feed_parser *p, const char *buf, size_t len)
{
	struct feed_quiet q;
	size_t n;

	feed_quiet_begin(&q);
	while (len > 0 && !p->stopped && !p->oom) {
		n = len < FEED_SLICE ? len : FEED_SLICE;
		xmlParseChunk(p->ctxt, buf, (int)n, 0);
		if (p->ctxt->errNo == XML_ERR_NO_MEMORY)
			p->oom = 1;
		/* libxml2 gave up (an error it cannot recover from, a limit
		 * passed): the rest would be read for nothing. */
		if (p->ctxt->instate == XML_PARSER_EOF)
			p->stopped = 1;
		buf += n;
		len -= n;
	}
	feed_quiet_end(&q);
	return p->oom ? -1 : 0;
}

int
feed_parser_finish(struct feed_parser *p, struct feed_info *out, char *err, size_t errlen)
{
	static const enum feed_slot ch_descs[] = {
		SLOT_CH_DESC, SLOT_CH_ITUNES_SUMMARY
	};
	static const enum feed_slot ch_titles[] = { SLOT_CH_TITLE };
	struct feed_quiet q;
	size_t i;
	int oom = 0;

	memset(out, 0, sizeof(*out));
	if (p->finished) {
		snprintf(err, errlen, "feed parser already finished");
		return -1;
	}
	p->finished = 1;
	if (!p->stopped && !p->oom) {
		feed_quiet_begin(&q);
		xmlParseChunk(p->ctxt, NULL, 0, 1);
		feed_quiet_end(&q);
		if (p->ctxt->errNo == XML_ERR_NO_MEMORY)
			p->oom = 1;
	}
	p->stopped = 1;
	if (p->oom) {
		snprintf(err, errlen, "out of memory reading the feed");
		return -1;
	}
	if (p->dtd_over) {
		snprintf(err, errlen, "feed not read: its DTD has more than %d "
		    "declarations or %d bytes of them", FEED_DTD_DECLS, FEED_DTD_BYTES);
		return -1;
	}
	if (p->kind == KIND_NONE) {
		snprintf(err, errlen, "not an RSS or Atom feed: no XML element");
		return -1;
	}
	if (p->kind == KIND_NOT_FEED) {
		snprintf(err, errlen, "not an RSS or Atom feed: the first element is <%s>",
		    p->root);
		return -1;
	}
	out->title = feed_text_pick(p, ch_titles, 1, &oom);
	out->description = feed_text_pick(p, ch_descs, 2, &oom);
	if (p->n_kept > 0 &&
	    (out->entries = calloc(p->n_kept, sizeof(*out->entries))) == NULL)
		oom = 1;
	if (oom) {
		feed_info_free(out);
		snprintf(err, errlen, "out of memory reading the feed");
		return -1;
	}
	/* Heap order to newest first: pop the last-sorting one into the
	 * end. O(n log n), in place. */
	for (i = p->n_kept; i > 0; i--) {
		out->entries[i - 1] = p->kept[0].e;
		p->kept[0] = p->kept[i - 1];
		feed_heap_down(p->kept, i - 1, 0);
	}
	out->n_entries = p->n_kept;
	out->skipped = p->skipped;
	p->n_kept = 0;
	return 0;
}

void
feed_parser_free(struct feed_parser *p)
{
	size_t i;

	if (p == NULL)
		return;
	if (p->ctxt != NULL) {
		/* libxml2 made a document to keep entity declarations in
		 * ("for expat compatibility in SAX mode"); it is ours. */
		if (p->ctxt->myDoc != NULL)
			xmlFreeDoc(p->ctxt->myDoc);
		xmlFreeParserCtxt(p->ctxt);
	}
	for (i = 0; i < p->n_kept; i++)
		feed_entry_clear(&p->kept[i].e);
	free(p->kept);
	free(p->arena);
	free(p->base);
	free(p);
}

void
feed_info_free(struct feed_info *f)
{
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->n_entries; i++)
		feed_entry_clear(&f->entries[i]);
	free(f->entries);
	free(f->title);
	free(f->description);
	memset(f, 0, sizeof(*f));
}

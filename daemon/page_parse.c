/*
 * The HTML page parser (page_parse.h): libxml2's HTML push parser calls
 * back for every start tag, end tag and text run, and the callbacks here
 * note the title, the description, <base href>, the media and the feeds.
 * No tree is built, so what a parse holds is libxml2's input buffer, the
 * open-element stack and the links kept, never the page. Also the two
 * pure helpers the crawler asks before and after a parse: page_sniff
 * (does a body look like HTML) and page_is_media (does a URL or a type
 * name a medium).
 */
#include "page_parse.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <libxml/HTMLparser.h>
#include <libxml/dict.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlversion.h>

/*
 * Text gathered with whitespace collapsed as it arrives (leading
 * whitespace dropped, runs made one space, a trailing run only noted),
 * so a title of 50 MB costs CAP bytes. C0 controls and DEL count as
 * whitespace: a title is shown in HTML and JSON, never a control.
 */
struct page_text {
	char	*buf;		/* cap + 4 bytes */
	size_t	 len, cap;
	int	 space;		/* whitespace after the last kept byte */
	int	 full;		/* more came than the buffer holds */
};

/* The one medium a <video>/<audio> element gives. */
struct page_el {
	int	 open;		/* inside the element */
	int	 taken;		/* its own src was used: its <source>s are not */
	long	 slot;		/* the place kept for it in the media list, or -1 */
	int	 rank;		/* of the candidate: 0 best .. 2, 3 none yet */
	char	*url, *raw, *type;	/* the best <source> so far */
};

/* og:video or og:audio: the plain and the secure URL, decided at the end. */
struct page_og {
	int	 seen;
	long	 slot;
	char	*plain, *secure, *type;
};

struct page_set_entry {
	const char	*url;		/* the link's own string */
	int		 kind;
};

/* Resolved URLs kept so far, for deduplication in O(1) whatever the cap. */
struct page_set {
	struct page_set_entry	*tab;
	size_t			 cap, n;
};

struct page_parser {
	htmlParserCtxtPtr	 ctxt;
	CURLU			*page;	/* the page URL, or NULL */
	CURLU			*base;	/* <base href> resolved, or NULL */
	char			*base_raw;
	int			 base_seen;
	size_t			 max_media, max_feeds;
	struct page_link	*media, *feeds;
	size_t			 n_media, a_media, n_feeds, a_feeds;
	size_t			 skipped;
	struct page_set		 set;
	struct page_text	 title, og_title, desc, og_desc;
	int			 in_title, title_done;
	struct page_el		 el;
	struct page_og		 og[2];	/* video, audio */
	size_t			 depth;	/* deepest element stack in this piece */
	uint64_t		 work;	/* see PAGE_WORK_MAX */
	char			*stage;	/* PAGE_FEED_STEP bytes for libxml2 */
	size_t			 staged;
	int			 stopped, oom, finished;
};

static const char *const page_media_ext[] = {
	".mp4", ".m4v", ".mov", ".webm", ".mkv", ".ogv", ".mp3", ".m4a",
	".aac", ".ogg", ".oga", ".opus", ".flac", ".wav", ".m3u8",
};

static pthread_once_t page_once = PTHREAD_ONCE_INIT;

static int
page_is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/*
 * The lowercase type/subtype of a MIME type value (parameters and
 * surrounding whitespace dropped) into BUF: 0, or -1 when it is none.
 */
static int
page_type_essence(const char *type, char *buf, size_t len)
{
	size_t i = 0, slash = 0;
	const unsigned char *s = (const unsigned char *)type;

	while (page_is_space(*s))
		s++;
	for (; *s != '\0' && *s != ';' && !page_is_space(*s); s++) {
		if (*s <= 0x20 || *s >= 0x7f || i + 1 >= len)
			return -1;
		if (*s == '/' && slash++ > 0)
			return -1;
		buf[i++] = (*s >= 'A' && *s <= 'Z') ? (char)(*s + 32) : (char)*s;
	}
	buf[i] = '\0';
	if (slash != 1 || buf[0] == '/' || buf[i - 1] == '/')
		return -1;
	return 0;
}

int
page_is_media(const char *url, const char *type)
{
	char t[PAGE_TYPE_MAX + 1];
	const char *s, *end;
	size_t i, n, e;

	if (type != NULL && page_type_essence(type, t, sizeof(t)) == 0 &&
	    (strncmp(t, "video/", 6) == 0 || strncmp(t, "audio/", 6) == 0 ||
	    strcmp(t, "application/vnd.apple.mpegurl") == 0 ||
	    strcmp(t, "application/x-mpegurl") == 0))
		return 1;
	if (url == NULL)
		return 0;
	/* Past "scheme://authority" or "//authority": a host named
	 * "clip.mp4" is no file. */
	s = url;
	n = strcspn(s, ":/?#");
	if (s[n] == ':' && s[n + 1] == '/' && s[n + 2] == '/')
		s += n + 3 + strcspn(s + n + 3, "/?#");
	else if (s[0] == '/' && s[1] == '/')
		s += 2 + strcspn(s + 2, "/?#");
	end = s + strcspn(s, "?#");
	/* As an attribute gives it: surrounding whitespace is no part. */
	while (end > s && page_is_space((unsigned char)end[-1]))
		end--;
	n = (size_t)(end - s);
	for (i = 0; i < sizeof(page_media_ext) / sizeof(page_media_ext[0]); i++) {
		e = strlen(page_media_ext[i]);
		if (n > e && strncasecmp(end - e, page_media_ext[i], e) == 0)
			return 1;
	}
	return 0;
}

int
page_sniff(const char *buf, size_t len)
{
	static const char *const starts[] = {
		"<!doctype html", "<html", "<head", "<body",
	};
	const char *end;
	size_t i = 0, k, n;
	unsigned char c;

	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	for (;;) {
		while (i < len && page_is_space((unsigned char)buf[i]))
			i++;
		if (len - i < 4 || memcmp(buf + i, "<!--", 4) != 0)
			break;
		if ((end = memmem(buf + i + 4, len - i - 4, "-->", 3)) == NULL)
			return 0;
		i = (size_t)(end - buf) + 3;
	}
	for (k = 0; k < sizeof(starts) / sizeof(starts[0]); k++) {
		n = strlen(starts[k]);
		if (len - i <= n || strncasecmp(buf + i, starts[k], n) != 0)
			continue;
		/* The name must end there: "<header" or "<htmlx" is not it. */
		c = (unsigned char)buf[i + n];
		if (page_is_space(c) || c == '>' || (k > 0 && c == '/'))
			return 1;
	}
	return 0;
}

/* 1 when S[0..N) is valid UTF-8: no overlong forms, surrogates or
 * code points past U+10FFFF, no cut sequence. */
static int
page_utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0, need, k;
	unsigned char lo, hi;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		lo = 0x80;
		hi = 0xbf;
		if (s[i] >= 0xc2 && s[i] <= 0xdf)
			need = 1;
		else if (s[i] >= 0xe0 && s[i] <= 0xef) {
			need = 2;
			if (s[i] == 0xe0)
				lo = 0xa0;
			else if (s[i] == 0xed)
				hi = 0x9f;
		} else if (s[i] >= 0xf0 && s[i] <= 0xf4) {
			need = 3;
			if (s[i] == 0xf0)
				lo = 0x90;
			else if (s[i] == 0xf4)
				hi = 0x8f;
		} else
			return 0;
		if (n - i <= need || s[i + 1] < lo || s[i + 1] > hi)
			return 0;
		for (k = 2; k <= need; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
		i += need + 1;
	}
	return 1;
}

static int
page_text_init(struct page_text *t, size_t cap)
{
	memset(t, 0, sizeof(*t));
	t->cap = cap;
	return (t->buf = malloc(cap + 4)) == NULL ? -1 : 0;
}

static void
page_text_add(struct page_text *t, const char *s, size_t n)
{
	size_t i;
	unsigned char c;

	for (i = 0; i < n && !t->full; i++) {
		c = (unsigned char)s[i];
		if (c <= 0x20 || c == 0x7f) {
			t->space = t->len > 0;
			continue;
		}
		if (t->len + (t->space ? 2 : 1) > t->cap + 3) {
			t->full = 1;
			break;
		}
		if (t->space)
			t->buf[t->len++] = ' ';
		t->space = 0;
		t->buf[t->len++] = (char)c;
	}
}

/*
 * The text as page_info gives it: at most CAP bytes, cut before a
 * character, trimmed, valid UTF-8; NULL when empty or not UTF-8 (a page
 * whose charset libxml2 could not convert). *OOM set when out of memory.
 */
static char *
page_text_result(const struct page_text *t, int *oom)
{
	size_t n = t->len, back = 0;
	char *r;

	if (n > t->cap) {
		n = t->cap;
		while (n > 0 && back < 3 && ((unsigned char)t->buf[n] & 0xc0) == 0x80) {
			n--;
			back++;
		}
		if (((unsigned char)t->buf[n] & 0xc0) == 0x80)
			return NULL;
		while (n > 0 && t->buf[n - 1] == ' ')
			n--;
	}
	if (n == 0 || !page_utf8_valid((const unsigned char *)t->buf, n))
		return NULL;
	if ((r = strndup(t->buf, n)) == NULL)
		*oom = 1;
	return r;
}

static uint64_t
page_set_hash(const char *s, int kind)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ (uint64_t)kind;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

static int
page_set_has(const struct page_set *set, const char *url, int kind)
{
	size_t i;

	if (set->cap == 0)
		return 0;
	for (i = page_set_hash(url, kind) & (set->cap - 1); set->tab[i].url != NULL;
	    i = (i + 1) & (set->cap - 1))
		if (set->tab[i].kind == kind && strcmp(set->tab[i].url, url) == 0)
			return 1;
	return 0;
}

/* Adds URL (not copied: the link owns it) unless there: 0, -1 out of memory. */
static int
page_set_add(struct page_set *set, const char *url, int kind)
{
	struct page_set_entry *tab;
	size_t i, j, cap;

	if (set->n + 1 > set->cap / 2) {
		cap = set->cap == 0 ? 64 : set->cap * 2;
		if ((tab = calloc(cap, sizeof(*tab))) == NULL)
			return -1;
		for (j = 0; j < set->cap; j++) {
			if (set->tab[j].url == NULL)
				continue;
			for (i = page_set_hash(set->tab[j].url, set->tab[j].kind) & (cap - 1);
			    tab[i].url != NULL; i = (i + 1) & (cap - 1))
				;
			tab[i] = set->tab[j];
		}
		free(set->tab);
		set->tab = tab;
		set->cap = cap;
	}
	for (i = page_set_hash(url, kind) & (set->cap - 1); set->tab[i].url != NULL;
	    i = (i + 1) & (set->cap - 1))
		if (set->tab[i].kind == kind && strcmp(set->tab[i].url, url) == 0)
			return 0;
	set->tab[i].url = url;
	set->tab[i].kind = kind;
	set->n++;
	return 0;
}

/* Out of memory inside a callback: the parse stops, feed and finish fail. */
static void
page_oom(struct page_parser *p)
{
	p->oom = 1;
	if (p->ctxt != NULL)
		xmlStopParser(p->ctxt);
}

/*
 * The http(s) URL RAW leads to from this page, without fragment, into
 * *OUT (malloc): 1; 0 when it leads nowhere kept (another scheme, empty,
 * unparsable, too long); -1 out of memory. Like a browser, surrounding
 * whitespace and tabs and newlines inside are ignored, spaces and
 * non-ASCII bytes percent-encoded.
 */
static int
page_resolve(struct page_parser *p, const char *raw, char **out)
{
	char buf[PAGE_URL_MAX + 1], *s = NULL, *scheme = NULL;
	size_t n = strlen(raw), i, j = 0;
	CURLUcode rc;
	CURLU *u;
	int r = 0;

	*out = NULL;
	if (n > PAGE_URL_MAX)
		return 0;
	while (n > 0 && page_is_space((unsigned char)raw[n - 1]))
		n--;
	for (i = 0; i < n && page_is_space((unsigned char)raw[i]); i++)
		;
	for (; i < n; i++)
		if (raw[i] != '\t' && raw[i] != '\n' && raw[i] != '\r')
			buf[j++] = raw[i];
	buf[j] = '\0';
	/* Empty or a fragment: this page itself. */
	if (j == 0 || buf[0] == '#')
		return 0;
	if (p->base != NULL)
		u = curl_url_dup(p->base);
	else if (p->page != NULL)
		u = curl_url_dup(p->page);
	else
		u = curl_url();
	if (u == NULL)
		return -1;
	rc = curl_url_set(u, CURLUPART_URL, buf, CURLU_URLENCODE);
	if (rc == CURLUE_OUT_OF_MEMORY)
		r = -1;
	if (rc != CURLUE_OK)
		goto done;
	if ((rc = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0)) != CURLUE_OK) {
		r = rc == CURLUE_OUT_OF_MEMORY ? -1 : 0;
		goto done;
	}
	if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)
		goto done;
	if ((rc = curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0)) != CURLUE_OK ||
	    (rc = curl_url_get(u, CURLUPART_URL, &s, 0)) != CURLUE_OK) {
		r = rc == CURLUE_OUT_OF_MEMORY ? -1 : 0;
		goto done;
	}
	if (strlen(s) > PAGE_URL_MAX)
		goto done;
	r = (*out = strdup(s)) == NULL ? -1 : 1;
done:
	curl_free(scheme);
	curl_free(s);
	curl_url_cleanup(u);
	return r;
}

/* Room for one more medium in the list, which never outgrows max_media. */
static int
page_media_grow(struct page_parser *p)
{
	struct page_link *m;
	size_t a;

	if (p->n_media < p->a_media)
		return 0;
	a = p->a_media == 0 ? 16 : p->a_media * 2;
	if (a > p->max_media)
		a = p->max_media;
	if ((m = reallocarray(p->media, a, sizeof(*m))) == NULL)
		return -1;
	p->media = m;
	p->a_media = a;
	return 0;
}

/*
 * A place in the media list for a medium whose URL is decided later (a
 * <video> whose <source>s are still to come, og:video whose secure_url
 * may follow), so that the list keeps document order: its index, or -1
 * when the list is full (or out of memory: p->oom).
 */
static long
page_media_reserve(struct page_parser *p)
{
	if (p->n_media >= p->max_media)
		return -1;
	if (page_media_grow(p) == -1) {
		page_oom(p);
		return -1;
	}
	memset(&p->media[p->n_media], 0, sizeof(p->media[0]));
	p->media[p->n_media].kind = PAGE_MEDIA;
	return (long)p->n_media++;
}

/* Gives back a reserved place that stayed empty; later places move up. */
static void
page_media_remove(struct page_parser *p, long slot)
{
	size_t i = (size_t)slot, k;

	memmove(&p->media[i], &p->media[i + 1], (p->n_media - i - 1) * sizeof(p->media[0]));
	p->n_media--;
	if (p->el.slot > slot)
		p->el.slot--;
	for (k = 0; k < 2; k++)
		if (p->og[k].slot > slot)
			p->og[k].slot--;
}

/*
 * A medium found: into the reserved SLOT, or appended (SLOT -1), unless
 * its URL is already there (an empty SLOT is given back) or the list is
 * full (counted in skipped). Takes URL, RAW and TYPE in every case.
 */
static void
page_media_put(struct page_parser *p, long slot, char *url, char *raw, char *type)
{
	struct page_link *l;

	if (page_set_has(&p->set, url, PAGE_MEDIA)) {
		if (slot >= 0)
			page_media_remove(p, slot);
		goto drop;
	}
	if (slot < 0) {
		if (p->n_media >= p->max_media) {
			p->skipped++;
			goto drop;
		}
		if (page_media_grow(p) == -1)
			goto oom;
		slot = (long)p->n_media;
	}
	if (raw == NULL || page_set_add(&p->set, url, PAGE_MEDIA) == -1)
		goto oom;
	if ((size_t)slot == p->n_media)
		p->n_media++;
	l = &p->media[slot];
	l->kind = PAGE_MEDIA;
	l->url = url;
	l->raw = raw;
	l->type = type;
	return;
oom:
	page_oom(p);
drop:
	free(url);
	free(raw);
	free(type);
}

/* The lowercase essence of TYPE as a heap string; NULL for none (or out
 * of memory: p->oom). */
static char *
page_type_dup(struct page_parser *p, const char *type)
{
	char t[PAGE_TYPE_MAX + 1], *r;

	if (type == NULL || page_type_essence(type, t, sizeof(t)) == -1)
		return NULL;
	if ((r = strdup(t)) == NULL)
		page_oom(p);
	return r;
}

static char *
page_strdup(struct page_parser *p, const char *s)
{
	char *r;

	if ((r = strdup(s)) == NULL)
		page_oom(p);
	return r;
}

/* The value of attribute NAME, or NULL when absent or without value. */
static const char *
page_attr(const xmlChar **atts, const char *name)
{
	size_t i;

	if (atts == NULL)
		return NULL;
	for (i = 0; atts[i] != NULL; i += 2)
		if (strcasecmp((const char *)atts[i], name) == 0)
			return (const char *)atts[i + 1];
	return NULL;
}

static void
page_el_clear(struct page_el *el)
{
	free(el->url);
	free(el->raw);
	free(el->type);
	memset(el, 0, sizeof(*el));
	el->slot = -1;
	el->rank = 3;
}

/* The end of a <video>/<audio>: its best <source> takes its place. */
static void
page_el_close(struct page_parser *p)
{
	struct page_el *el = &p->el;

	if (!el->open)
		return;
	if (!el->taken && el->url != NULL) {
		page_media_put(p, el->slot, el->url, el->raw, el->type);
		el->url = el->raw = el->type = NULL;
	} else if (el->slot >= 0)
		page_media_remove(p, el->slot);
	page_el_clear(el);
}

/*
 * A <video>/<audio>: its own src is the medium; without one a place is
 * kept for the best of its <source>s. One open inside another (invalid,
 * but parsed) ends the outer one first.
 */
static void
page_el_open(struct page_parser *p, const xmlChar **atts)
{
	const char *src = page_attr(atts, "src");
	char *url;
	int r;

	page_el_close(p);
	p->el.open = 1;
	if (src != NULL) {
		if ((r = page_resolve(p, src, &url)) == -1) {
			page_oom(p);
			return;
		}
		if (r == 1) {
			p->el.taken = 1;
			page_media_put(p, -1, url, page_strdup(p, src), NULL);
			return;
		}
	}
	p->el.slot = page_media_reserve(p);
}

/*
 * How well a <source> type plays: 0 everywhere (MP4, MP3), 1 in most
 * browsers (WebM, Ogg), 2 unknown.
 */
static int
page_source_rank(const char *type)
{
	static const char *const best[] = { "video/mp4", "audio/mp4", "audio/mpeg" };
	static const char *const good[] = { "video/webm", "audio/webm", "audio/ogg", "video/ogg" };
	size_t i;

	if (type == NULL)
		return 2;
	for (i = 0; i < sizeof(best) / sizeof(best[0]); i++)
		if (strcmp(type, best[i]) == 0)
			return 0;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (strcmp(type, good[i]) == 0)
			return 1;
	return 2;
}

static void
page_source(struct page_parser *p, const xmlChar **atts)
{
	struct page_el *el = &p->el;
	const char *src = page_attr(atts, "src"), *tattr = page_attr(atts, "type");
	char t[PAGE_TYPE_MAX + 1], *url, *raw, *type = NULL;
	int typed, rank, r;

	if (src == NULL || el->rank == 0)
		return;
	typed = tattr != NULL && page_type_essence(tattr, t, sizeof(t)) == 0;
	rank = page_source_rank(typed ? t : NULL);
	if (rank >= el->rank)
		return;
	if ((r = page_resolve(p, src, &url)) != 1) {
		if (r == -1)
			page_oom(p);
		return;
	}
	raw = strdup(src);
	if (raw == NULL || (typed && (type = strdup(t)) == NULL)) {
		free(url);
		free(raw);
		page_oom(p);
		return;
	}
	free(el->url);
	free(el->raw);
	free(el->type);
	el->url = url;
	el->raw = raw;
	el->type = type;
	el->rank = rank;
}

/* <a href> to a medium, by its URL's extension or its type attribute. */
static void
page_anchor(struct page_parser *p, const xmlChar **atts)
{
	const char *href = page_attr(atts, "href");
	const char *type = page_attr(atts, "type");
	char *url;
	int r;

	/* Most links are not media: the raw value says so without a parse. */
	if (href == NULL || !page_is_media(href, type))
		return;
	if ((r = page_resolve(p, href, &url)) != 1) {
		if (r == -1)
			page_oom(p);
		return;
	}
	if (!page_is_media(url, type)) {
		free(url);
		return;
	}
	page_media_put(p, -1, url, page_strdup(p, href), page_type_dup(p, type));
}

/* <link rel=alternate type=application/rss+xml|atom+xml href>. */
static void
page_feed(struct page_parser *p, const xmlChar **atts)
{
	const char *rel = page_attr(atts, "rel"), *href = page_attr(atts, "href");
	const char *type = page_attr(atts, "type");
	char t[PAGE_TYPE_MAX + 1], *url, *raw, *tdup;
	struct page_link *f;
	size_t n;
	int alternate = 0, r;

	if (rel == NULL || href == NULL || type == NULL || p->n_feeds >= p->max_feeds)
		return;
	if (page_type_essence(type, t, sizeof(t)) == -1 ||
	    (strcmp(t, "application/rss+xml") != 0 && strcmp(t, "application/atom+xml") != 0))
		return;
	while (*rel != '\0' && !alternate) {
		while (page_is_space((unsigned char)*rel))
			rel++;
		for (n = 0; rel[n] != '\0' && !page_is_space((unsigned char)rel[n]); n++)
			;
		alternate = n == 9 && strncasecmp(rel, "alternate", 9) == 0;
		rel += n;
	}
	if (!alternate)
		return;
	if ((r = page_resolve(p, href, &url)) != 1) {
		if (r == -1)
			page_oom(p);
		return;
	}
	if (page_set_has(&p->set, url, PAGE_FEED)) {
		free(url);
		return;
	}
	if (p->n_feeds == p->a_feeds) {
		n = p->a_feeds == 0 ? 4 : p->a_feeds * 2;
		if (n > p->max_feeds)
			n = p->max_feeds;
		if ((f = reallocarray(p->feeds, n, sizeof(*f))) == NULL)
			goto oom;
		p->feeds = f;
		p->a_feeds = n;
	}
	raw = strdup(href);
	tdup = strdup(t);
	if (raw == NULL || tdup == NULL || page_set_add(&p->set, url, PAGE_FEED) == -1) {
		free(raw);
		free(tdup);
		goto oom;
	}
	f = &p->feeds[p->n_feeds++];
	f->kind = PAGE_FEED;
	f->url = url;
	f->raw = raw;
	f->type = tdup;
	return;
oom:
	free(url);
	page_oom(p);
}

/* Keeps the first VALUE of an og:video/og:audio property. */
static void
page_og_keep(struct page_parser *p, char **field, const char *value)
{
	if (*field == NULL && strlen(value) <= PAGE_URL_MAX)
		*field = page_strdup(p, value);
}

/* <meta property|name=... content=...>: titles, descriptions, og media. */
static void
page_meta(struct page_parser *p, const xmlChar **atts)
{
	const char *prop = page_attr(atts, "property"), *content = page_attr(atts, "content");
	const char *kinds[2] = { "og:video", "og:audio" }, *rest;
	struct page_og *og;
	size_t k;

	if (prop == NULL)
		prop = page_attr(atts, "name");
	if (prop == NULL || content == NULL)
		return;
	if (strcasecmp(prop, "og:title") == 0) {
		if (p->og_title.len == 0)
			page_text_add(&p->og_title, content, strlen(content));
	} else if (strcasecmp(prop, "og:description") == 0) {
		if (p->og_desc.len == 0)
			page_text_add(&p->og_desc, content, strlen(content));
	} else if (strcasecmp(prop, "description") == 0) {
		if (p->desc.len == 0)
			page_text_add(&p->desc, content, strlen(content));
	}
	for (k = 0; k < 2; k++) {
		if (strncasecmp(prop, kinds[k], 8) != 0)
			continue;
		og = &p->og[k];
		rest = prop + 8;
		if (strcasecmp(rest, ":type") == 0) {
			if (og->type == NULL)
				og->type = page_type_dup(p, content);
			return;
		}
		if (strcasecmp(rest, "") == 0 || strcasecmp(rest, ":url") == 0)
			page_og_keep(p, &og->plain, content);
		else if (strcasecmp(rest, ":secure_url") == 0)
			page_og_keep(p, &og->secure, content);
		else
			return;
		if (!og->seen) {
			og->seen = 1;
			og->slot = page_media_reserve(p);
		}
		return;
	}
}

/*
 * og:video and og:audio at the end of the page, when every property is
 * known: the secure URL if it resolves, else the plain one. One typed as
 * something else than a medium (og:video:type text/html: an embedded
 * player page) is no medium.
 */
static void
page_og_close(struct page_parser *p, struct page_og *og)
{
	char *url = NULL;
	const char *raw = NULL;
	int r = 0;

	if (!og->seen)
		return;
	if (og->secure != NULL && (r = page_resolve(p, og->secure, &url)) == 1)
		raw = og->secure;
	else if (r != -1 && og->plain != NULL && (r = page_resolve(p, og->plain, &url)) == 1)
		raw = og->plain;
	if (r == -1)
		page_oom(p);
	if (raw != NULL && og->type != NULL && !page_is_media(NULL, og->type) &&
	    !page_is_media(url, NULL)) {
		free(url);
		raw = NULL;
	}
	if (raw != NULL) {
		page_media_put(p, og->slot, url, page_strdup(p, raw), og->type);
		og->type = NULL;
	} else if (og->slot >= 0)
		page_media_remove(p, og->slot);
	og->slot = -1;
	og->seen = 0;
}

/* The first <base href>: later links resolve against it. */
static void
page_base(struct page_parser *p, const char *href)
{
	char *url;
	int r;

	p->base_seen = 1;
	if (strlen(href) > PAGE_URL_MAX)
		return;
	if ((p->base_raw = page_strdup(p, href)) == NULL)
		return;
	if ((r = page_resolve(p, href, &url)) != 1) {
		if (r == -1)
			page_oom(p);
		return;
	}
	if ((p->base = curl_url()) == NULL ||
	    curl_url_set(p->base, CURLUPART_URL, url, 0) != CURLUE_OK) {
		curl_url_cleanup(p->base);
		p->base = NULL;
		page_oom(p);
	}
	free(url);
}

static void
page_sax_start(void *ctx, const xmlChar *xname, const xmlChar **atts)
{
	struct page_parser *p = ctx;
	const char *name = (const char *)xname, *v;

	if (p->oom || p->stopped)
		return;
	if (p->ctxt != NULL && p->ctxt->nameNr > 0 && (size_t)p->ctxt->nameNr > p->depth)
		p->depth = (size_t)p->ctxt->nameNr;
	if (strcmp(name, "title") == 0) {
		if (!p->title_done)
			p->in_title = 1;
	} else if (strcmp(name, "base") == 0) {
		if (!p->base_seen && (v = page_attr(atts, "href")) != NULL)
			page_base(p, v);
	} else if (strcmp(name, "meta") == 0)
		page_meta(p, atts);
	else if (strcmp(name, "link") == 0)
		page_feed(p, atts);
	else if (strcmp(name, "video") == 0 || strcmp(name, "audio") == 0)
		page_el_open(p, atts);
	else if (strcmp(name, "source") == 0) {
		if (p->el.open && !p->el.taken)
			page_source(p, atts);
	} else if (strcmp(name, "a") == 0)
		page_anchor(p, atts);
}

static void
page_sax_end(void *ctx, const xmlChar *xname)
{
	struct page_parser *p = ctx;
	const char *name = (const char *)xname;

	if (p->oom || p->stopped)
		return;
	if (strcmp(name, "title") == 0) {
		if (p->in_title)
			p->title_done = 1;
		p->in_title = 0;
	} else if (strcmp(name, "video") == 0 || strcmp(name, "audio") == 0)
		page_el_close(p);
}

static void
page_sax_text(void *ctx, const xmlChar *ch, int len)
{
	struct page_parser *p = ctx;

	if (p->in_title && !p->title_done && len > 0)
		page_text_add(&p->title, (const char *)ch, (size_t)len);
}

/* Script and style bodies: nothing of them is wanted. */
static void
page_sax_cdata(void *ctx, const xmlChar *ch, int len)
{
}

/* Markup errors are the normal case on the web: none is reported. */
#if LIBXML_VERSION >= 21200
static void
page_sax_error(void *ctx, const xmlError *error)
#else
static void
page_sax_error(void *ctx, xmlErrorPtr error)
#endif
{
}

static void
page_init_once(void)
{
	xmlInitParser();
}

struct page_parser *
page_parser_new(const char *page_url, size_t max_media, size_t max_feeds)
{
	struct page_parser *p;
	htmlSAXHandler sax;
	size_t k;

	(void)pthread_once(&page_once, page_init_once);
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->max_media = max_media;
	p->max_feeds = max_feeds;
	p->el.slot = -1;
	p->el.rank = 3;
	for (k = 0; k < 2; k++)
		p->og[k].slot = -1;
	if ((p->stage = malloc(PAGE_FEED_STEP)) == NULL ||
	    page_text_init(&p->title, PAGE_TITLE_MAX) == -1 ||
	    page_text_init(&p->og_title, PAGE_TITLE_MAX) == -1 ||
	    page_text_init(&p->desc, PAGE_DESCRIPTION_MAX) == -1 ||
	    page_text_init(&p->og_desc, PAGE_DESCRIPTION_MAX) == -1)
		goto fail;
	if (page_url != NULL) {
		if ((p->page = curl_url()) == NULL)
			goto fail;
		if (curl_url_set(p->page, CURLUPART_URL, page_url, CURLU_URLENCODE) != CURLUE_OK) {
			curl_url_cleanup(p->page);
			p->page = NULL;
		}
	}
	memset(&sax, 0, sizeof(sax));
	sax.startElement = page_sax_start;
	sax.endElement = page_sax_end;
	sax.characters = page_sax_text;
	sax.ignorableWhitespace = page_sax_text;
	sax.cdataBlock = page_sax_cdata;
	/* SAX2's magic only so that libxml2 takes serror: HTML parsing
	 * calls startElement either way. */
	sax.initialized = XML_SAX2_MAGIC;
	sax.serror = page_sax_error;
	if ((p->ctxt = htmlCreatePushParserCtxt(&sax, p, NULL, 0, NULL,
	    XML_CHAR_ENCODING_NONE)) == NULL)
		goto fail;
	htmlCtxtUseOptions(p->ctxt, HTML_PARSE_RECOVER | HTML_PARSE_NONET |
	    HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING);
	return p;
fail:
	page_parser_free(p);
	return NULL;
}

/*
 * After each piece: a page that holds libxml2 to more memory or work
 * than any real page does is read no further (see the limits).
 */
static void
page_parser_guard(struct page_parser *p)
{
	htmlParserCtxtPtr c = p->ctxt;
	size_t pending = 0;

	if (c->errNo == XML_ERR_NO_MEMORY) {
		page_oom(p);
		return;
	}
	if (c->input != NULL && c->input->cur != NULL && c->input->end != NULL &&
	    c->input->end > c->input->cur)
		pending = (size_t)(c->input->end - c->input->cur);
	if (pending > PAGE_PENDING_MAX || c->nameNr > PAGE_DEPTH_MAX ||
	    p->work > PAGE_WORK_MAX ||
	    (c->dict != NULL && xmlDictSize(c->dict) > PAGE_NAMES_MAX)) {
		xmlStopParser(c);
		p->stopped = 1;
	}
}

/*
 * One piece to libxml2. Up to 2.10, its lookup for the end of a start
 * tag forgets which quote it was in when a piece ends inside an
 * attribute value, and then never finds the '>': the rest of the page
 * would pile up unparsed. Restarting the lookup at the tag's '<' with
 * each piece avoids it, at the cost of rescanning an unfinished token
 * once per piece (bounded by PAGE_PENDING_MAX / PAGE_FEED_STEP scans).
 */
static void
page_parser_piece(struct page_parser *p, const char *buf, size_t len, int terminate)
{
	const char *s = buf, *end = buf != NULL ? buf + len : NULL;
	uint64_t tags = 0;

#if LIBXML_VERSION < 21100
	p->ctxt->checkIndex = 0;
#endif
	p->depth = p->ctxt->nameNr > 0 ? (size_t)p->ctxt->nameNr : 0;
	htmlParseChunk(p->ctxt, buf, (int)len, terminate);
	/* What libxml2 may have spent on its element stack (see
	 * PAGE_WORK_MAX): tags in the piece times the deepest stack. */
	while (s != NULL && s < end && (s = memchr(s, '<', (size_t)(end - s))) != NULL) {
		tags++;
		s++;
	}
	p->work += tags * (p->depth + 1);
	page_parser_guard(p);
}

int
page_parser_feed(struct page_parser *p, const char *buf, size_t len)
{
	size_t n;

	while (len > 0 && !p->stopped && !p->oom && !p->finished) {
		n = PAGE_FEED_STEP - p->staged;
		if (n > len)
			n = len;
		memcpy(p->stage + p->staged, buf, n);
		p->staged += n;
		buf += n;
		len -= n;
		if (p->staged == PAGE_FEED_STEP) {
			page_parser_piece(p, p->stage, p->staged, 0);
			p->staged = 0;
		}
	}
	return p->oom ? -1 : 0;
}

static void
page_links_free(struct page_link *l, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(l[i].url);
		free(l[i].raw);
		free(l[i].type);
	}
	free(l);
}

int
page_parser_finish(struct page_parser *p, struct page_info *out, char *err, size_t errlen)
{
	size_t i, n = 0, k;
	int oom = 0;

	memset(out, 0, sizeof(*out));
	if (p->finished) {
		snprintf(err, errlen, "page parser: finished twice");
		return -1;
	}
	p->finished = 1;
	if (!p->stopped && !p->oom && p->staged > 0)
		page_parser_piece(p, p->stage, p->staged, 0);
	if (!p->stopped && !p->oom)
		page_parser_piece(p, NULL, 0, 1);
	page_el_close(p);
	for (k = 0; k < 2; k++)
		page_og_close(p, &p->og[k]);
	if (p->oom)
		goto oom;
	if (p->n_media + p->n_feeds > 0 &&
	    (out->links = calloc(p->n_media + p->n_feeds, sizeof(*out->links))) == NULL)
		goto oom;
	/* Ownership moves to OUT; the set's pointers die with the parser. */
	for (i = 0; i < p->n_media; i++)
		if (p->media[i].url != NULL) {
			out->links[n++] = p->media[i];
			out->n_media++;
		}
	for (i = 0; i < p->n_feeds; i++)
		out->links[n++] = p->feeds[i];
	out->n_links = n;
	out->n_feeds = p->n_feeds;
	out->skipped = p->skipped;
	free(p->media);
	free(p->feeds);
	p->media = p->feeds = NULL;
	p->n_media = p->n_feeds = 0;
	out->base_raw = p->base_raw;
	p->base_raw = NULL;
	if ((out->title = page_text_result(&p->og_title, &oom)) == NULL && !oom)
		out->title = page_text_result(&p->title, &oom);
	if ((out->description = page_text_result(&p->og_desc, &oom)) == NULL && !oom)
		out->description = page_text_result(&p->desc, &oom);
	if (oom) {
		page_info_free(out);
		goto oom;
	}
	return 0;
oom:
	snprintf(err, errlen, "page parser: out of memory");
	return -1;
}

void
page_parser_free(struct page_parser *p)
{
	size_t k;

	if (p == NULL)
		return;
	if (p->ctxt != NULL) {
		if (p->ctxt->myDoc != NULL)
			xmlFreeDoc(p->ctxt->myDoc);
		htmlFreeParserCtxt(p->ctxt);
	}
	curl_url_cleanup(p->page);
	curl_url_cleanup(p->base);
	free(p->base_raw);
	page_links_free(p->media, p->n_media);
	page_links_free(p->feeds, p->n_feeds);
	free(p->set.tab);
	free(p->stage);
	free(p->title.buf);
	free(p->og_title.buf);
	free(p->desc.buf);
	free(p->og_desc.buf);
	page_el_clear(&p->el);
	for (k = 0; k < 2; k++) {
		free(p->og[k].plain);
		free(p->og[k].secure);
		free(p->og[k].type);
	}
	free(p);
}

void
page_info_free(struct page_info *info)
{
	if (info == NULL)
		return;
	page_links_free(info->links, info->n_links);
	free(info->title);
	free(info->description);
	free(info->base_raw);
	memset(info, 0, sizeof(*info));
}

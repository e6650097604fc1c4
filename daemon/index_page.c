/*
 * The HTML index page of index_page.h, with its escaping.
 *
 * Everything printed here comes from a catalog that may have been written
 * by someone hostile (a compromised publisher, or a bug upstream), so every
 * string goes through index_buf_html, and through index_buf_url first when
 * it ends up in a link. The page is built once per catalog change and then
 * served from memory (per language and page; a search is made per
 * request), so plain appends into one growing buffer are enough.
 */

#include "index_page.h"
#include "index_layout.h"
#include "index_out.h"
#include "index_strings.h"
#include "provenance.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/*
 * Limits, and why:
 * - INDEX_TITLE_MAX, INDEX_DESC_MAX: bytes of an item's title and of a
 *   description shown (cut at a character boundary, with an ellipsis).
 *   They come from pages and feeds that may be hostile or merely verbose;
 *   a megabyte of title would bury the files it should introduce, and the
 *   whole text stays in catalog.json.
 * - INDEX_LANG_MAX: a BCP 47 tag is at most 35 bytes in practice (RFC
 *   5646, 4.4.1); anything longer or not shaped like a tag is left out
 *   rather than passed to the browser.
 * - INDEX_GROUP_DEPTH: groups shown inside groups (a page linking a feed
 *   whose entries are listed under it) are indented at most this deep; a
 *   deeper chain is still listed, flat in the innermost group, so that a
 *   hostile catalog cannot push its items off the right of the screen.
 * - INDEX_BUF_MIN: the first allocation of the page buffer.
 */
#define INDEX_TITLE_MAX		300
#define INDEX_DESC_MAX		2000
#define INDEX_LANG_MAX		35
#define INDEX_GROUP_DEPTH	3
#define INDEX_BUF_MIN		65536

/* Make room for N more bytes plus the terminating NUL. Doubling keeps the
 * total cost linear however many items the catalog has. */
static int
index_buf_reserve(struct index_buf *b, size_t n)
{
	size_t need, ncap;
	char *p;

	if (n > SIZE_MAX - 1 - b->len)
		return -1;
	need = b->len + n + 1;
	if (need <= b->cap)
		return 0;
	ncap = b->cap < INDEX_BUF_MIN ? INDEX_BUF_MIN : b->cap;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2) {
			ncap = need;
			break;
		}
		ncap *= 2;
	}
	if ((p = realloc(b->data, ncap)) == NULL)
		return -1;
	b->data = p;
	b->cap = ncap;
	return 0;
}

int
index_buf_add(struct index_buf *b, const char *s, size_t n)
{
	if (index_buf_reserve(b, n) == -1)
		return -1;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
index_buf_html(struct index_buf *b, const char *s)
{
	size_t n, run;
	const char *ent;
	char *o;

	if (s == NULL)
		return 0;
	n = strlen(s);
	/* Worst case every byte becomes "&quot;"; reserving once keeps the
	 * loop free of checks. */
	if (n > (SIZE_MAX - 1) / 6 || index_buf_reserve(b, n * 6) == -1)
		return -1;
	o = b->data + b->len;
	for (;;) {
		/* Copy harmless runs in one go: most names have no entity. */
		run = strcspn(s, "&<>\"'\x01\x02\x03\x04\x05\x06\x07\x08\x0b"
		    "\x0c\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19"
		    "\x1a\x1b\x1c\x1d\x1e\x1f\x7f");
		memcpy(o, s, run);
		o += run;
		s += run;
		if (*s == '\0')
			break;
		switch (*s) {
		case '&':
			ent = "&amp;";
			break;
		case '<':
			ent = "&lt;";
			break;
		case '>':
			ent = "&gt;";
			break;
		case '"':
			ent = "&quot;";
			break;
		case '\'':
			ent = "&#39;";
			break;
		default:
			/* Control characters are HTML parse errors and
			 * can hide text; show them as U+FFFD instead. */
			ent = "\xef\xbf\xbd";
			break;
		}
		n = strlen(ent);
		memcpy(o, ent, n);
		o += n;
		s++;
	}
	b->len = (size_t)(o - b->data);
	b->data[b->len] = '\0';
	return 0;
}

int
index_buf_url(struct index_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;
	size_t n;
	char *o;

	if (s == NULL)
		return 0;
	n = strlen(s);
	if (n > (SIZE_MAX - 1) / 3 || index_buf_reserve(b, n * 3) == -1)
		return -1;
	o = b->data + b->len;
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		/* Only RFC 3986 unreserved bytes pass: '/' too is encoded so
		 * a name stays one path segment, and the result is safe in
		 * any attribute without further escaping. */
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
		    *p == '_' || *p == '~')
			*o++ = (char)*p;
		else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 0xf];
		}
	}
	b->len = (size_t)(o - b->data);
	b->data[b->len] = '\0';
	return 0;
}


void
out_s(struct index_out *o, const char *s)
{
	if (!o->failed && index_buf_add(&o->b, s, strlen(s)) == -1)
		o->failed = 1;
}

void
out_h(struct index_out *o, const char *s)
{
	if (!o->failed && index_buf_html(&o->b, s) == -1)
		o->failed = 1;
}

void
out_f(struct index_out *o, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	int n;

	if (o->failed)
		return;
	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	/* Only short numeric fields are formatted this way. */
	if (n < 0 || (size_t)n >= sizeof(tmp) ||
	    index_buf_add(&o->b, tmp, (size_t)n) == -1)
		o->failed = 1;
}

/* A paragraph of our own words (HTML). */
void
out_para(struct index_out *o, const char *html)
{
	out_s(o, "<p>");
	out_s(o, html);
	out_s(o, "</p>\n");
}

/* S escaped, cut to at most MAX bytes (MAX <= INDEX_DESC_MAX) at a
 * UTF-8 character boundary, with an ellipsis when cut. */
void
out_h_max(struct index_out *o, const char *s, size_t max)
{
	char cut[INDEX_DESC_MAX + 1];

	if (strlen(s) <= max) {
		out_h(o, s);
		return;
	}
	if (max > INDEX_DESC_MAX)
		max = INDEX_DESC_MAX;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	memcpy(cut, s, max);
	cut[max] = '\0';
	out_h(o, cut);
	out_s(o, "\xe2\x80\xa6");
}

/* A catalog string, or "" when the field is missing or not a string. */
const char *
index_str(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s != NULL ? s : "";
}

/* Only web URLs become links: a "javascript:" mirror stays inert text. */
static int
index_is_web_url(const char *s)
{
	return strncasecmp(s, "https://", 8) == 0 ||
	    strncasecmp(s, "http://", 7) == 0;
}

static int
index_is_sha256(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[64] == '\0';
}

/* Shaped like a BCP 47 language tag: letters first, then letters, digits
 * and single hyphens ("zh-Hans", "en-GB", "sr-Latn-RS"). */
static int
index_is_lang(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > INDEX_LANG_MAX || !((s[0] >= 'a' && s[0] <= 'z') ||
	    (s[0] >= 'A' && s[0] <= 'Z')) || s[n - 1] == '-')
		return 0;
	for (i = 1; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    (s[i] == '-' && s[i - 1] != '-')))
			return 0;
	return 1;
}

/* ' lang="TAG"' for an item's or a group's block, when it has a usable
 * one; without it the block inherits the page's language. */
static void
index_lang_attr(struct index_out *o, json_t *item)
{
	const char *lang = index_str(item, "lang");

	if (!index_is_lang(lang))
		return;
	out_s(o, " lang=\"");
	out_h(o, lang);
	out_s(o, "\"");
}

static int
index_is_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* A "published" time shown as its date (2026-11-28), the full time in
 * the datetime attribute when it is made of what an RFC 3339 time is
 * made of (else the date alone: a feed's stray text has no place in an
 * attribute, even escaped); anything not starting like RFC 3339 is shown
 * as the text it is. */
static void
index_published(struct index_out *o, const char *s)
{
	char date[11];
	size_t len = strlen(s);

	if (len < 10 || !index_is_digits(s, 4) || s[4] != '-' ||
	    !index_is_digits(s + 5, 2) || s[7] != '-' ||
	    !index_is_digits(s + 8, 2)) {
		out_h_max(o, s, 64);
		return;
	}
	memcpy(date, s, 10);
	date[10] = '\0';
	out_s(o, "<time datetime=\"");
	if (len <= 35 && strspn(s + 10, "0123456789TtZz:+-.") == len - 10)
		out_h_max(o, s, 64);
	else
		out_s(o, date);
	out_s(o, "\">");
	out_s(o, date);
	out_s(o, "</time>");
}

static int
index_type_is(const char *type, const char *want)
{
	size_t n = strlen(want);

	return strncasecmp(type, want, n) == 0 &&
	    (type[n] == '\0' || type[n] == ';' || type[n] == ' ');
}

/* "0 B", "1023 B", "1.0 KiB" ... "2.0 GiB"; integer arithmetic so that
 * huge sizes neither overflow nor round into "1024.0 KiB". */
static void
index_human_size(struct index_out *o, const struct index_strings *t,
    uint64_t size)
{
	uint64_t unit = 1024, tenths;
	size_t u = 1;

	if (size < 1024) {
		out_f(o, "%llu ", (unsigned long long)size);
		out_s(o, t->unit[0]);
		return;
	}
	for (;;) {
		tenths = size / unit * 10 +
		    ((size % unit) * 10 + unit / 2) / unit;
		if (tenths < 10240 || u == 3)
			break;
		unit *= 1024;
		u++;
	}
	out_f(o, "%llu", (unsigned long long)(tenths / 10));
	out_s(o, t->decimal);
	out_f(o, "%llu ", (unsigned long long)(tenths % 10));
	out_s(o, t->unit[u]);
}

/* PRE N POST of a count, in the page's language. */
static void
index_count(struct index_out *o, const struct index_count *c, size_t n)
{
	out_s(o, n == 1 ? c->one_pre : c->many_pre);
	out_f(o, "%zu", n);
	out_s(o, n == 1 ? c->one_post : c->many_post);
}


/* Logical (start/end) properties, so that the layout mirrors itself in
 * a right-to-left language; commands, keys and hashes stay left to
 * right whatever the page's direction. */
static const char index_style[] =
    "<style>\n"
    ":root{color-scheme:light dark;--fg:#1d1d1f;--bg:#fbfbf8;--mute:#5f6368;"
    "--line:#dcdcd6;--card:#fff;--link:#0b57d0}\n"
    "@media (prefers-color-scheme:dark){:root{--fg:#e8e6e3;--bg:#161616;"
    "--mute:#a0a0a0;--line:#333;--card:#1f1f1f;--link:#8ab4f8}}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0;background:var(--bg);color:var(--fg);"
    "font:16px/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,"
    "\"Noto Sans\",\"Noto Sans CJK SC\",\"Noto Sans CJK TC\",sans-serif}\n"
    "main{max-width:60rem;margin:0 auto;padding:1rem}\n"
    "a{color:var(--link)}\n"
    "h1{margin:.5rem 0 .25rem;font-size:1.8rem;overflow-wrap:anywhere}\n"
    "h2{margin:2rem 0 .75rem;font-size:1.3rem;"
    "border-bottom:1px solid var(--line);padding-bottom:.25rem}\n"
    "h3,h4,h5,h6{margin:0 0 .25rem;font-size:1.1rem;"
    "overflow-wrap:anywhere}\n"
    ".mute{color:var(--mute)}\n"
    "nav{display:flex;flex-wrap:wrap;gap:.25rem 1rem;margin:.5rem 0}\n"
    "form{display:flex;flex-wrap:wrap;gap:.5rem;margin:1rem 0}\n"
    "input{flex:1 1 12rem;min-width:0;font:inherit;padding:.25rem .5rem}\n"
    "button{font:inherit}\n"
    ".item{background:var(--card);border:1px solid var(--line);"
    "border-radius:6px;padding:.75rem 1rem;margin:0 0 1rem}\n"
    ".item p{margin:.25rem 0}\n"
    ".group{border-inline-start:3px solid var(--line);"
    "padding-inline-start:1rem;margin:0 0 1.5rem}\n"
    ".group>h3,.group>h4,.group>h5{font-size:1.25rem}\n"
    ".derived{margin-inline-start:1.5rem;"
    "border-inline-start:3px solid var(--link)}\n"
    ".desc{white-space:pre-line;overflow-wrap:anywhere}\n"
    ".file{overflow-wrap:anywhere}\n"
    ".links{display:flex;flex-wrap:wrap;gap:.25rem 1rem}\n"
    "code,pre{font:14px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,"
    "monospace}\n"
    "code{overflow-wrap:anywhere}\n"
    "pre{direction:ltr;text-align:left;background:var(--card);"
    "border:1px solid var(--line);border-radius:6px;padding:.75rem;"
    "overflow-x:auto;white-space:pre-wrap;overflow-wrap:anywhere}\n"
    "video,audio,img{display:block;max-width:100%;margin:.5rem 0}\n"
    "video{width:100%;max-height:70vh;background:#000}\n"
    "audio{width:100%}\n"
    "ul{padding-inline-start:1.25rem}\n"
    "li{overflow-wrap:anywhere}\n"
    "</style>\n";

/* One item's place on the page, from index_layout. */
struct index_entry {
	json_t *item;
	size_t idx;		/* in the catalog's items, for id="item-N" */
	int level;		/* its heading: 3 at the top, deeper in groups */
	int head;		/* heads a group: its title is the group's */
	json_t *orig;		/* derived: the item it was made from */
	size_t orig_idx;
};

/* What a derived item is for, in the reader's words, then a link to the
 * original's block (on this page or another: the id is the same). */
static void
index_derived_note(struct index_out *o, const struct index_strings *t,
    const struct index_entry *e)
{
	const char *type = index_str(e->item, "type");

	out_s(o, "<p class=\"note\">");
	if (index_type_is(type, "text/html") ||
	    index_type_is(type, "application/xhtml+xml"))
		out_s(o, t->derived_page);
	else if (index_type_is(type, "video/mp4") ||
	    index_type_is(type, "audio/mp4"))
		out_s(o, t->derived_mp4);
	else
		out_s(o, t->derived_other);
	out_f(o, "<a href=\"#item-%zu\" dir=\"auto\">", e->orig_idx + 1);
	out_h(o, index_str(e->orig, "name"));
	out_s(o, "</a></p>\n");
}

/* An item's type, size and publication date, on one line. */
static void
index_item_facts(struct index_out *o, const struct index_strings *t, json_t *item)
{
	const char *type = index_str(item, "type");
	const char *published = index_str(item, "published");
	json_t *jsize = json_object_get(item, "size");

	out_s(o, "<p class=\"mute\">");
	if (type[0] != '\0') {
		out_s(o, "<bdi>");
		out_h(o, type);
		out_s(o, "</bdi>");
	} else
		out_s(o, t->unknown_type);
	out_s(o, " &middot; ");
	if (json_is_integer(jsize) && json_integer_value(jsize) >= 0) {
		uint64_t size = (uint64_t)json_integer_value(jsize);

		/* Isolated: "11 B" must not read "B 11" in a right-to-left
		 * line. */
		out_s(o, "<bdi>");
		index_human_size(o, t, size);
		out_s(o, "</bdi>");
		if (size >= 1024) {
			out_s(o, t->bytes_pre);
			out_f(o, "%llu", (unsigned long long)size);
			out_s(o, t->bytes_post);
		}
	} else
		out_s(o, t->size_unknown);
	if (published[0] != '\0') {
		out_s(o, t->published);
		index_published(o, published);
	}
	out_s(o, "</p>\n");
}

/* An item's player (by type) and its links: the file, its Metalink and
 * torrent, and the object by hash. ENC: the name, URL-encoded. */
static void
index_item_media(struct index_out *o, const struct index_strings *t, const char *enc,
    const char *type, const char *sha)
{
	/* Players point at the same relative URL as the link; the server
	 * answers Range requests, so seeking works without downloading.
	 * preload="none": a page of fifty videos must not cost fifty
	 * requests on a slow or metered link before anything is played. */
	if (strncasecmp(type, "video/", 6) == 0) {
		out_s(o, "<video controls preload=\"none\" src=\"files/");
		out_s(o, enc);
		out_s(o, "\"></video>\n");
	} else if (strncasecmp(type, "audio/", 6) == 0) {
		out_s(o, "<audio controls preload=\"none\" src=\"files/");
		out_s(o, enc);
		out_s(o, "\"></audio>\n");
	} else if (strncasecmp(type, "image/", 6) == 0) {
		out_s(o, "<img loading=\"lazy\" alt=\"\" src=\"files/");
		out_s(o, enc);
		out_s(o, "\">\n");
	}

	out_s(o, "<p class=\"links\"><a href=\"files/");
	out_s(o, enc);
	out_s(o, "\" download>");
	out_s(o, t->download);
	out_s(o, "</a><a href=\"files/");
	out_s(o, enc);
	out_s(o, ".meta4\">");
	out_s(o, t->metalink);
	out_s(o, "</a><a href=\"files/");
	out_s(o, enc);
	out_s(o, ".torrent\">");
	out_s(o, t->torrent);
	out_s(o, "</a>");
	if (index_is_sha256(sha)) {
		out_s(o, "<a href=\"sha256/");
		out_s(o, sha);
		out_s(o, "\">");
		out_s(o, t->by_hash);
		out_s(o, "</a>");
	}
	out_s(o, "</p>\n");
}

/*
 * How the item was fetched, from the catalog's summary of its provenance
 * (no document is read to make the page): host, address, time, TLS
 * version, the start of the certificate chain's SHA-256, and the link to
 * the whole record. Every value is the publisher's: escaped.
 */
static void
index_item_provenance(struct index_out *o, const struct index_strings *t, json_t *item)
{
	json_t *p = json_object_get(item, "provenance");
	const char *doc = index_str(p, "sha256"), *host = index_str(p, "host");
	const char *ip = index_str(p, "ip"), *date = index_str(p, "date");
	const char *tls = index_str(p, "tls"), *cert = index_str(p, "cert_sha256");

	if (doc[0] == '\0')
		return;
	out_s(o, "<p class=\"mute prov\">");
	if (host[0] != '\0') {
		out_s(o, t->prov_from);
		out_s(o, "<code dir=\"ltr\">");
		out_h(o, host);
		out_s(o, "</code>");
		if (ip[0] != '\0' && strcmp(ip, host) != 0) {
			out_s(o, " (");
			if (strcmp(ip, PROV_VIA_PROXY) == 0)
				out_s(o, t->prov_via_proxy);
			else {
				out_s(o, "<code dir=\"ltr\">");
				out_h(o, ip);
				out_s(o, "</code>");
			}
			out_s(o, ")");
		}
	}
	if (date[0] != '\0') {
		/* To the second: the record has the microseconds. */
		char d[32];
		if (strlen(date) > 20 && date[19] == '.')
			snprintf(d, sizeof(d), "%.19sZ", date);
		else
			snprintf(d, sizeof(d), "%s", date);
		out_s(o, t->prov_at);
		out_s(o, "<bdi>");
		out_h(o, d);
		out_s(o, "</bdi>");
	}
	if (tls[0] != '\0') {
		out_s(o, ", <bdi>");
		out_h(o, tls);
		out_s(o, "</bdi>");
	}
	if (cert[0] != '\0') {
		out_s(o, t->prov_cert);
		char c16[17];
		snprintf(c16, sizeof(c16), "%s", cert);
		out_s(o, "<code dir=\"ltr\">");
		out_h(o, c16);
		out_s(o, "&hellip;</code>");
	}
	out_s(o, " &middot; <a href=\"sha256/");
	out_h(o, doc);
	out_s(o, "\">");
	out_s(o, t->prov_record);
	out_s(o, "</a></p>\n");
}

static void
index_item(struct index_out *o, const struct index_strings *t,
    struct index_buf *scratch, const struct index_entry *e)
{
	json_t *item = e->item;
	const char *name = index_str(item, "name");
	const char *type = index_str(item, "type");
	const char *sha = index_str(item, "sha256");
	const char *source = index_str(item, "source");
	const char *fetched = index_str(item, "fetched");
	const char *title = e->head ? "" : index_str(item, "title");
	const char *desc = e->head ? "" : index_str(item, "description");
	const char *enc;

	out_f(o, "<section class=\"item%s\" id=\"item-%zu\"",
	    e->orig != NULL ? " derived" : "", e->idx + 1);
	index_lang_attr(o, item);
	out_s(o, ">\n");
	/* Encode the name once; it goes into up to five links. */
	scratch->len = 0;
	if (!o->failed && index_buf_url(scratch, name) == -1)
		o->failed = 1;
	if (o->failed)
		return;
	enc = scratch->data;

	/* The title, when there is one, heads the block; the file name
	 * stays the link, right below it. */
	out_f(o, "<h%d dir=\"auto\">", e->level);
	if (title[0] != '\0') {
		out_h_max(o, title, INDEX_TITLE_MAX);
		out_f(o, "</h%d>\n<p class=\"file\" dir=\"auto\">", e->level);
	}
	out_s(o, "<a href=\"files/");
	out_s(o, enc);
	out_s(o, "\">");
	out_h(o, name);
	out_s(o, "</a>");
	if (title[0] != '\0')
		out_s(o, "</p>\n");
	else
		out_f(o, "</h%d>\n", e->level);
	if (e->orig != NULL)
		index_derived_note(o, t, e);
	if (desc[0] != '\0') {
		out_s(o, "<p class=\"desc\" dir=\"auto\">");
		out_h_max(o, desc, INDEX_DESC_MAX);
		out_s(o, "</p>\n");
	}
	index_item_facts(o, t, item);
	out_s(o, "<p>SHA-256: <code dir=\"ltr\">");
	out_h(o, sha);
	out_s(o, "</code></p>\n");

	index_item_media(o, t, enc, type, sha);

	if (source[0] != '\0' || fetched[0] != '\0') {
		/* The origin is shown as text, not linked: following it could
		 * leave the reader's traces where they are least wanted. */
		out_s(o, "<p class=\"mute\">");
		if (source[0] != '\0') {
			out_s(o, t->from);
			out_s(o, "<code dir=\"ltr\">");
			out_h(o, source);
			out_s(o, "</code>");
		}
		if (fetched[0] != '\0') {
			out_s(o, source[0] != '\0' ? t->from_saved : t->saved);
			out_s(o, "<bdi>");
			out_h(o, fetched);
			out_s(o, "</bdi>");
		}
		out_s(o, "</p>\n");
	}
	index_item_provenance(o, t, item);
	out_s(o, "</section>\n");
}

static int
index_is_feed(const char *type)
{
	return index_type_is(type, "application/rss+xml") ||
	    index_type_is(type, "application/atom+xml") ||
	    index_type_is(type, "application/rdf+xml") ||
	    index_type_is(type, "application/xml") ||
	    index_type_is(type, "text/xml");
}

/* Open the group of a page or feed ITEM that MEDIA items were found on:
 * its title (else its name) and description head them. */
static void
index_group_open(struct index_out *o, const struct index_strings *t,
    json_t *item, size_t media, int level)
{
	const char *title = index_str(item, "title");
	const char *desc = index_str(item, "description");

	out_s(o, "<section class=\"group\"");
	index_lang_attr(o, item);
	out_f(o, ">\n<h%d dir=\"auto\">", level);
	out_h_max(o, title[0] != '\0' ? title : index_str(item, "name"),
	    INDEX_TITLE_MAX);
	out_f(o, "</h%d>\n", level);
	if (desc[0] != '\0') {
		out_s(o, "<p class=\"desc\" dir=\"auto\">");
		out_h_max(o, desc, INDEX_DESC_MAX);
		out_s(o, "</p>\n");
	}
	out_s(o, "<p class=\"mute\">");
	index_count(o, index_is_feed(index_str(item, "type")) ?
	    &t->feed_files : &t->page_files, media);
	out_s(o, "</p>\n");
}

/* The walk over index_layout's forest, with the groups it has opened. */
struct index_walk {
	struct index_out *o;
	const struct index_strings *t;
	struct index_buf scratch;
	json_t *items;
	struct index_layout l;
	unsigned char *opened;	/* per item: it opened a group */
	int groups;		/* groups open now */
};

static void
index_walk_enter(struct index_walk *w, size_t i)
{
	const struct index_node *node = &w->l.node[i];
	struct index_entry e = { json_array_get(w->items, i), i, 0, 0,
	    NULL, 0 };

	if (node->media > 0 && w->groups < INDEX_GROUP_DEPTH) {
		index_group_open(w->o, w->t, e.item, node->media,
		    3 + w->groups);
		w->opened[i] = 1;
		w->groups++;
		e.head = 1;
	}
	e.level = 3 + w->groups;
	if (node->role == INDEX_DERIVED) {
		e.orig = json_array_get(w->items, node->parent);
		e.orig_idx = node->parent;
	}
	index_item(w->o, w->t, &w->scratch, &e);
}

/* Close what I and the ancestors it finishes opened; the next item of
 * ROOT's tree, or INDEX_NONE when the tree is done. */
static size_t
index_walk_leave(struct index_walk *w, size_t i, size_t root)
{
	for (;;) {
		if (w->opened[i]) {
			out_s(w->o, "</section>\n");
			w->groups--;
		}
		if (i == root)
			return INDEX_NONE;
		if (w->l.node[i].next != INDEX_NONE)
			return w->l.node[i].next;
		i = w->l.node[i].parent;
	}
}

/* How many items the tree at ROOT holds: a pre-order walk without
 * recursion (a chain of derived items may be long). */
static size_t
index_tree_size(const struct index_layout *l, size_t root)
{
	size_t i = root, n = 0;

	while (i != INDEX_NONE) {
		n++;
		if (l->node[i].first != INDEX_NONE) {
			i = l->node[i].first;
			continue;
		}
		while (i != root && l->node[i].next == INDEX_NONE)
			i = l->node[i].parent;
		i = i == root ? INDEX_NONE : l->node[i].next;
	}
	return n;
}

/*
 * Simple case folding for the search: ASCII, Latin-1, Greek and
 * Cyrillic capitals to small letters. Each of these keeps its UTF-8
 * length, so the folded text is the same size and a byte search in it
 * (memmem, linear) finds exactly the character matches. Invalid UTF-8
 * is left as it is.
 */
static void
index_fold(char *s, size_t n)
{
	unsigned char *p = (unsigned char *)s;
	unsigned int cp;
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] >= 'A' && p[i] <= 'Z') {
			p[i] += 'a' - 'A';
			continue;
		}
		if (i + 1 >= n || (p[i] & 0xe0) != 0xc0 ||
		    (p[i + 1] & 0xc0) != 0x80)
			continue;
		cp = (unsigned int)(p[i] & 0x1f) << 6 | (p[i + 1] & 0x3f);
		if ((cp >= 0xc0 && cp <= 0xde && cp != 0xd7) ||
		    (cp >= 0x391 && cp <= 0x3a9 && cp != 0x3a2) ||
		    (cp >= 0x410 && cp <= 0x42f))
			cp += 0x20;
		else if (cp >= 0x400 && cp <= 0x40f)
			cp += 0x50;
		p[i] = (unsigned char)(0xc0 | cp >> 6);
		p[i + 1] = (unsigned char)(0x80 | (cp & 0x3f));
		i++;
	}
}

/* Whether the folded Q (QLEN > 0 bytes) is in S, folded into SCRATCH. */
static int
index_contains(struct index_out *o, struct index_buf *scratch,
    const char *s, const char *q, size_t qlen)
{
	size_t n = strlen(s);

	scratch->len = 0;
	if (index_buf_add(scratch, s, n) == -1) {
		o->failed = 1;
		return 0;
	}
	index_fold(scratch->data, n);
	return memmem(scratch->data, n, q, qlen) != NULL;
}

/*
 * The items of the page asked for, and the number of pages. Without a
 * search, whole trees of the layout (a page or feed with its media and
 * derived copies) are put on a page while it has room, and a tree is
 * moved to the next page rather than split, unless it alone is larger
 * than a page. With a search, the matching items, each on its own, in
 * the catalog's order.
 */
static size_t
index_items(struct index_out *o, const struct index_page_info *info,
    json_t *items)
{
	const struct index_strings *t = index_langs[info->lang];
	struct index_walk w = { o, t, { NULL, 0, 0 }, items, { NULL, 0 },
	    NULL, 0 };
	struct index_buf fq = { NULL, 0, 0 };
	size_t r, i, fill, pages = 1, want, size, qlen = 0, matches = 0;
	int pass;

	if (index_layout_build(&w.l, items) == -1 ||
	    (w.opened = calloc(w.l.n + 1, 1)) == NULL) {
		o->failed = 1;
		goto done;
	}
	if (info->query != NULL && info->query[0] != '\0') {
		qlen = strlen(info->query);
		if (index_buf_add(&fq, info->query, qlen) == -1) {
			o->failed = 1;
			goto done;
		}
		index_fold(fq.data, qlen);
	}
	want = info->page < 1 ? 1 : info->page;
	/* Pass 0 counts the pages, pass 1 writes the one asked for (the
	 * last when asked for one past it). */
	for (pass = 0; pass < 2 && !o->failed; pass++) {
		fill = 0;
		pages = 1;
		matches = 0;
		for (r = 0; r < w.l.n && !o->failed; r++) {
			json_t *item = json_array_get(items, r);

			if (!w.l.node[r].listed)
				continue;
			if (qlen > 0) {
				struct index_entry e = { item, r, 3, 0, NULL,
				    0 };

				if (!index_contains(o, &w.scratch,
				    index_str(item, "name"), fq.data, qlen) &&
				    !index_contains(o, &w.scratch,
				    index_str(item, "title"), fq.data, qlen))
					continue;
				if (fill == INDEX_PAGE_ITEMS) {
					pages++;
					fill = 0;
				}
				fill++;
				matches++;
				if (pass == 0 || pages != want)
					continue;
				if (w.l.node[r].role == INDEX_DERIVED) {
					e.orig = json_array_get(items,
					    w.l.node[r].parent);
					e.orig_idx = w.l.node[r].parent;
				}
				index_item(o, t, &w.scratch, &e);
				continue;
			}
			if (w.l.node[r].parent != INDEX_NONE)
				continue;
			size = index_tree_size(&w.l, r);
			if (fill > 0 && fill + size > INDEX_PAGE_ITEMS) {
				pages++;
				fill = 0;
			}
			fill += size;
			if (pass == 0 || pages != want)
				continue;
			i = r;
			while (i != INDEX_NONE) {
				index_walk_enter(&w, i);
				if (w.l.node[i].first != INDEX_NONE)
					i = w.l.node[i].first;
				else
					i = index_walk_leave(&w, i, r);
			}
		}
		if (want > pages)
			want = pages;
	}
	if (qlen > 0 && matches == 0)
		out_para(o, t->no_match);
done:
	free(fq.data);
	free(w.opened);
	free(w.scratch.data);
	index_layout_free(&w.l);
	return pages;
}

static void
index_mirror_link(struct index_out *o, const struct index_strings *t,
    const char *url, int self)
{
	out_s(o, "<li dir=\"ltr\">");
	if (index_is_web_url(url)) {
		out_s(o, "<a href=\"");
		out_h(o, url);
		out_s(o, "\">");
		out_h(o, url);
		out_s(o, "</a>");
	} else {
		out_s(o, "<code>");
		out_h(o, url);
		out_s(o, "</code>");
	}
	if (self) {
		out_f(o, " <span class=\"mute\" dir=\"%s\">",
		    t->rtl ? "rtl" : "ltr");
		out_s(o, t->this_mirror);
		out_s(o, "</span>");
	}
	out_s(o, "</li>\n");
}

static void
index_mirrors(struct index_out *o, const struct index_strings *t,
    json_t *mirrors, const char *self_url)
{
	size_t i, n = json_array_size(mirrors);
	int self_listed = 0;
	const char *m;

	if (self_url != NULL && self_url[0] == '\0')
		self_url = NULL;
	for (i = 0; i < n; i++)
		if ((m = json_string_value(json_array_get(mirrors, i))) &&
		    self_url != NULL && strcmp(m, self_url) == 0)
			self_listed = 1;
	if (n == 0 && self_url == NULL)
		return;

	out_s(o, "<h2 id=\"mirrors\">");
	out_s(o, t->mirrors_h);
	out_s(o, "</h2>\n");
	out_para(o, t->mirrors_p);
	out_s(o, "<ul>\n");
	if (self_url != NULL && !self_listed)
		index_mirror_link(o, t, self_url, 1);
	for (i = 0; i < n; i++) {
		if ((m = json_string_value(json_array_get(mirrors, i))) == NULL)
			continue;
		index_mirror_link(o, t, m, self_url != NULL &&
		    strcmp(m, self_url) == 0);
	}
	out_s(o, "</ul>\n");
}


char *
index_page_render(const struct index_page_info *info, size_t *len,
    size_t *npages)
{
	struct index_out o = { { NULL, 0, 0 }, 0 };
	struct index_out body = { { NULL, 0, 0 }, 0 };
	const struct index_strings *t;
	json_t *cat = info->catalog;
	json_t *items = json_object_get(cat, "items");
	json_t *mirrors = json_object_get(cat, "mirrors");
	json_t *seq = json_object_get(cat, "sequence");
	const char *name = index_str(cat, "name");
	const char *generated = index_str(cat, "generated");
	const char *desc = index_str(cat, "description");
	size_t n, pages = 1, page;

	if (info->lang < 0 || (size_t)info->lang >= index_n_langs)
		return NULL;
	t = index_langs[info->lang];
	if (!json_is_array(items))
		items = NULL;
	if (!json_is_array(mirrors))
		mirrors = NULL;
	n = json_array_size(items);
	if (name[0] == '\0')
		name = t->archive;

	/* The items first, into their own buffer: the pager above them
	 * needs the page count their layout gives. */
	if (n > 0)
		pages = index_items(&body, info, items);
	page = info->page < 1 ? 1 : info->page > pages ? pages : info->page;

	out_s(&o, "<!DOCTYPE html>\n<html lang=\"");
	out_s(&o, t->tag);
	out_s(&o, t->rtl ? "\" dir=\"rtl\">\n" : "\" dir=\"ltr\">\n");
	out_s(&o, "<head>\n<meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1\">\n"
	    "<meta name=\"referrer\" content=\"no-referrer\">\n<title>");
	out_h(&o, name);
	out_s(&o, "</title>\n");
	out_s(&o, index_style);
	out_s(&o, "</head>\n<body>\n<main>\n");
	index_languages(&o, info, page);
	out_s(&o, "<h1 dir=\"auto\">");
	out_h(&o, name);
	out_s(&o, "</h1>\n");
	if (desc[0] != '\0') {
		out_s(&o, "<p class=\"desc\" dir=\"auto\">");
		out_h_max(&o, desc, INDEX_DESC_MAX);
		out_s(&o, "</p>\n");
	}
	out_s(&o, "<p class=\"mute\">");
	index_count(&o, &t->items, n);
	if (json_is_integer(seq)) {
		out_s(&o, t->catalog_no);
		out_f(&o, "%lld", (long long)json_integer_value(seq));
		out_s(&o, t->catalog_post);
	}
	if (generated[0] != '\0') {
		out_s(&o, t->updated);
		out_s(&o, "<bdi>");
		out_h(&o, generated);
		out_s(&o, "</bdi>");
	}
	out_s(&o, "</p>\n<nav><a href=\"#verify\">");
	out_s(&o, t->nav_verify);
	out_s(&o, "</a>");
	if (json_array_size(mirrors) > 0 ||
	    (info->self_url != NULL && info->self_url[0] != '\0')) {
		out_s(&o, "<a href=\"#mirrors\">");
		out_s(&o, t->nav_mirrors);
		out_s(&o, "</a>");
	}
	out_s(&o, "<a href=\"catalog.json\">catalog.json</a></nav>\n");

	out_s(&o, "<h2 id=\"items\">");
	out_s(&o, t->files_h);
	out_s(&o, "</h2>\n");
	if (n == 0)
		out_para(&o, t->no_items);
	else {
		index_search(&o, info);
		index_pager(&o, info, page, pages);
		if (body.failed)
			o.failed = 1;
		else if (body.b.len > 0 && !o.failed &&
		    index_buf_add(&o.b, body.b.data, body.b.len) == -1)
			o.failed = 1;
		index_pager(&o, info, page, pages);
	}
	free(body.b.data);

	index_mirrors(&o, t, mirrors, info->self_url);
	index_verify(&o, info, items);
	out_s(&o, "</main>\n</body>\n</html>\n");

	if (o.failed) {
		free(o.b.data);
		return NULL;
	}
	if (len != NULL)
		*len = o.b.len;
	if (npages != NULL)
		*npages = pages;
	return o.b.data;
}

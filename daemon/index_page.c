/*
 * The HTML index page of index_page.h, with its escaping.
 *
 * Everything printed here comes from a catalog that may have been written
 * by someone hostile (a compromised publisher, or a bug upstream), so every
 * string goes through index_buf_html, and through index_buf_url first when
 * it ends up in a link. The page is built once per catalog change and then
 * served from memory, so plain appends into one growing buffer are enough.
 */

#include "index_page.h"
#include "index_layout.h"

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

static int
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

/*
 * The renderer keeps a sticky error so the page layout below reads as a
 * sequence of writes rather than a ladder of checks; after the first
 * failure every write is a no-op and render returns NULL.
 */
struct index_out {
	struct index_buf b;
	int failed;
};

static void
out_s(struct index_out *o, const char *s)
{
	if (!o->failed && index_buf_add(&o->b, s, strlen(s)) == -1)
		o->failed = 1;
}

static void
out_h(struct index_out *o, const char *s)
{
	if (!o->failed && index_buf_html(&o->b, s) == -1)
		o->failed = 1;
}

static void out_f(struct index_out *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
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

/* S escaped, cut to at most MAX bytes (MAX <= INDEX_DESC_MAX) at a
 * UTF-8 character boundary, with an ellipsis when cut. */
static void
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
static const char *
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
 * the datetime attribute; anything not starting like RFC 3339 is shown
 * as the text it is. */
static void
index_published(struct index_out *o, const char *s)
{
	char date[11];

	if (strlen(s) < 10 || !index_is_digits(s, 4) || s[4] != '-' ||
	    !index_is_digits(s + 5, 2) || s[7] != '-' ||
	    !index_is_digits(s + 8, 2)) {
		out_h_max(o, s, 64);
		return;
	}
	memcpy(date, s, 10);
	date[10] = '\0';
	out_s(o, "<time datetime=\"");
	out_h_max(o, s, 64);
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
index_human_size(struct index_out *o, uint64_t size)
{
	static const char *units[] = { "KiB", "MiB", "GiB" };
	uint64_t unit = 1024, tenths;
	size_t u = 0;

	if (size < 1024) {
		out_f(o, "%llu B", (unsigned long long)size);
		return;
	}
	for (;;) {
		tenths = size / unit * 10 +
		    ((size % unit) * 10 + unit / 2) / unit;
		if (tenths < 10240 || u == 2)
			break;
		unit *= 1024;
		u++;
	}
	out_f(o, "%llu.%llu %s", (unsigned long long)(tenths / 10),
	    (unsigned long long)(tenths % 10), units[u]);
}

/* Quote a name for the shell when it needs it, so the worked example can
 * be pasted even when the name holds spaces or quotes. */
static void
index_shell_quoted(struct index_out *o, const char *s)
{
	const char *q;

	/* A leading '-' would be read as an option. */
	if (s[0] == '-')
		out_s(o, "./");
	if (s[0] != '\0' && s[strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789._-+,@%:=")] == '\0') {
		out_s(o, s);
		return;
	}
	out_s(o, "&#39;");
	while ((q = strchr(s, '\'')) != NULL) {
		struct index_buf tmp = { NULL, 0, 0 };

		if (index_buf_add(&tmp, s, (size_t)(q - s)) == -1) {
			o->failed = 1;
			return;
		}
		out_h(o, tmp.data);
		free(tmp.data);
		out_s(o, "&#39;\\&#39;&#39;");
		s = q + 1;
	}
	out_h(o, s);
	out_s(o, "&#39;");
}

static const char index_style[] =
    "<style>\n"
    ":root{color-scheme:light dark;--fg:#1d1d1f;--bg:#fbfbf8;--mute:#5f6368;"
    "--line:#dcdcd6;--card:#fff;--link:#0b57d0}\n"
    "@media (prefers-color-scheme:dark){:root{--fg:#e8e6e3;--bg:#161616;"
    "--mute:#a0a0a0;--line:#333;--card:#1f1f1f;--link:#8ab4f8}}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0;background:var(--bg);color:var(--fg);"
    "font:16px/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif}\n"
    "main{max-width:60rem;margin:0 auto;padding:1rem}\n"
    "a{color:var(--link)}\n"
    "h1{margin:.5rem 0 .25rem;font-size:1.8rem;overflow-wrap:anywhere}\n"
    "h2{margin:2rem 0 .75rem;font-size:1.3rem;"
    "border-bottom:1px solid var(--line);padding-bottom:.25rem}\n"
    "h3,h4,h5,h6{margin:0 0 .25rem;font-size:1.1rem;"
    "overflow-wrap:anywhere}\n"
    ".mute{color:var(--mute)}\n"
    "nav a{margin-right:1rem}\n"
    ".item{background:var(--card);border:1px solid var(--line);"
    "border-radius:6px;padding:.75rem 1rem;margin:0 0 1rem}\n"
    ".item p{margin:.25rem 0}\n"
    ".group{border-left:3px solid var(--line);padding:0 0 0 1rem;"
    "margin:0 0 1.5rem}\n"
    ".group>h3,.group>h4,.group>h5{font-size:1.25rem}\n"
    ".derived{margin-left:1.5rem;border-left:3px solid var(--link)}\n"
    ".desc{white-space:pre-line;overflow-wrap:anywhere}\n"
    ".file{overflow-wrap:anywhere}\n"
    ".links a{margin-right:1rem}\n"
    "code,pre{font:14px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,"
    "monospace}\n"
    "code{overflow-wrap:anywhere}\n"
    "pre{background:var(--card);border:1px solid var(--line);"
    "border-radius:6px;padding:.75rem;overflow-x:auto;white-space:pre-wrap;"
    "overflow-wrap:anywhere}\n"
    "video,audio,img{display:block;max-width:100%;margin:.5rem 0}\n"
    "video{width:100%;max-height:70vh;background:#000}\n"
    "audio{width:100%}\n"
    "ul{padding-left:1.25rem}\n"
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
 * original's block. */
static void
index_derived_note(struct index_out *o, const struct index_entry *e)
{
	const char *type = index_str(e->item, "type");

	out_s(o, "<p class=\"note\">");
	if (index_type_is(type, "text/html") ||
	    index_type_is(type, "application/xhtml+xml"))
		out_s(o, "The page, playing its media from this mirror: "
		    "a copy of ");
	else if (index_type_is(type, "video/mp4") ||
	    index_type_is(type, "audio/mp4"))
		out_s(o, "MP4 that plays in every browser, made from ");
	else
		out_s(o, "Made from ");
	out_f(o, "<a href=\"#item-%zu\">", e->orig_idx + 1);
	out_h(o, index_str(e->orig, "name"));
	out_s(o, "</a></p>\n");
}

static void
index_item(struct index_out *o, struct index_buf *scratch,
    const struct index_entry *e)
{
	json_t *item = e->item;
	const char *name = index_str(item, "name");
	const char *type = index_str(item, "type");
	const char *sha = index_str(item, "sha256");
	const char *source = index_str(item, "source");
	const char *fetched = index_str(item, "fetched");
	const char *title = e->head ? "" : index_str(item, "title");
	const char *desc = e->head ? "" : index_str(item, "description");
	const char *published = index_str(item, "published");
	json_t *jsize = json_object_get(item, "size");
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
		index_derived_note(o, e);
	if (desc[0] != '\0') {
		out_s(o, "<p class=\"desc\" dir=\"auto\">");
		out_h_max(o, desc, INDEX_DESC_MAX);
		out_s(o, "</p>\n");
	}
	out_s(o, "<p class=\"mute\">");
	out_h(o, type[0] != '\0' ? type : "unknown type");
	out_s(o, " &middot; ");
	if (json_is_integer(jsize) && json_integer_value(jsize) >= 0) {
		uint64_t size = (uint64_t)json_integer_value(jsize);

		index_human_size(o, size);
		if (size >= 1024)
			out_f(o, " (%llu bytes)", (unsigned long long)size);
	} else
		out_s(o, "size unknown");
	if (published[0] != '\0') {
		out_s(o, " &middot; published ");
		index_published(o, published);
	}
	out_s(o, "</p>\n<p>SHA-256: <code>");
	out_h(o, sha);
	out_s(o, "</code></p>\n");

	/* Players point at the same relative URL as the link; the server
	 * answers Range requests, so seeking works without downloading. */
	if (strncasecmp(type, "video/", 6) == 0) {
		out_s(o, "<video controls preload=\"metadata\" src=\"files/");
		out_s(o, enc);
		out_s(o, "\"></video>\n");
	} else if (strncasecmp(type, "audio/", 6) == 0) {
		out_s(o, "<audio controls preload=\"metadata\" src=\"files/");
		out_s(o, enc);
		out_s(o, "\"></audio>\n");
	} else if (strncasecmp(type, "image/", 6) == 0) {
		out_s(o, "<img loading=\"lazy\" alt=\"\" src=\"files/");
		out_s(o, enc);
		out_s(o, "\">\n");
	}

	out_s(o, "<p class=\"links\"><a href=\"files/");
	out_s(o, enc);
	out_s(o, "\" download>Download</a><a href=\"files/");
	out_s(o, enc);
	out_s(o, ".meta4\">Metalink (.meta4)</a><a href=\"files/");
	out_s(o, enc);
	out_s(o, ".torrent\">Torrent</a>");
	if (index_is_sha256(sha)) {
		out_s(o, "<a href=\"sha256/");
		out_s(o, sha);
		out_s(o, "\">By hash</a>");
	}
	out_s(o, "</p>\n");

	if (source[0] != '\0' || fetched[0] != '\0') {
		/* The origin is shown as text, not linked: following it could
		 * leave the reader's traces where they are least wanted. */
		out_s(o, "<p class=\"mute\">");
		if (source[0] != '\0') {
			out_s(o, "Originally from <code>");
			out_h(o, source);
			out_s(o, "</code>");
		}
		if (fetched[0] != '\0') {
			out_s(o, source[0] != '\0' ? ", saved " : "Saved ");
			out_h(o, fetched);
		}
		out_s(o, "</p>\n");
	}
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
index_group_open(struct index_out *o, json_t *item, size_t media, int level)
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
	out_f(o, "<p class=\"mute\">%zu %s</p>\n", media,
	    index_is_feed(index_str(item, "type")) ?
	    (media == 1 ? "file from this feed" : "files from this feed") :
	    (media == 1 ? "file found on this page" :
	    "files found on this page"));
}

/* The walk over index_layout's forest, with the groups it has opened. */
struct index_walk {
	struct index_out *o;
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
		index_group_open(w->o, e.item, node->media, 3 + w->groups);
		w->opened[i] = 1;
		w->groups++;
		e.head = 1;
	}
	e.level = 3 + w->groups;
	if (node->role == INDEX_DERIVED) {
		e.orig = json_array_get(w->items, node->parent);
		e.orig_idx = node->parent;
	}
	index_item(w->o, &w->scratch, &e);
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

/* Every item once, in index_layout's order: a pre-order walk of each
 * tree, without recursion (a chain of derived items may be long), so
 * O(n) beyond the layout's sorts. */
static void
index_items(struct index_out *o, json_t *items)
{
	struct index_walk w = { o, { NULL, 0, 0 }, items, { NULL, 0 }, NULL,
	    0 };
	size_t r, i;

	if (index_layout_build(&w.l, items) == -1 ||
	    (w.opened = calloc(w.l.n + 1, 1)) == NULL) {
		o->failed = 1;
		goto done;
	}
	for (r = 0; r < w.l.n; r++) {
		if (!w.l.node[r].listed || w.l.node[r].parent != INDEX_NONE)
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
done:
	free(w.opened);
	free(w.scratch.data);
	index_layout_free(&w.l);
}

static void
index_mirror_link(struct index_out *o, const char *url, int self)
{
	out_s(o, "<li>");
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
	if (self)
		out_s(o, " <span class=\"mute\">(this mirror)</span>");
	out_s(o, "</li>\n");
}

static void
index_mirrors(struct index_out *o, json_t *mirrors, const char *self_url)
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

	out_s(o, "<h2 id=\"mirrors\">Other mirrors</h2>\n"
	    "<p>The same files, under the same signature, are also served "
	    "from these addresses. If this one becomes unreachable, try "
	    "another; everything can be checked the same way wherever it "
	    "comes from.</p>\n<ul>\n");
	if (self_url != NULL && !self_listed)
		index_mirror_link(o, self_url, 1);
	for (i = 0; i < n; i++) {
		if ((m = json_string_value(json_array_get(mirrors, i))) == NULL)
			continue;
		index_mirror_link(o, m, self_url != NULL &&
		    strcmp(m, self_url) == 0);
	}
	out_s(o, "</ul>\n");
}

static void
index_verify(struct index_out *o, const struct index_page_info *info,
    json_t *items)
{
	const char *pubkey = info->pubkey != NULL ? info->pubkey : "";
	const char *base = "https://THIS-MIRROR/";
	json_t *first = json_array_get(items, 0);

	if (info->self_url != NULL && info->self_url[0] != '\0')
		base = info->self_url;

	out_s(o, "<h2 id=\"verify\">Verify what you download</h2>\n"
	    "<p>Anyone can run a mirror, so do not trust this page by itself. "
	    "The list of files, <a href=\"catalog.json\">catalog.json</a>, is "
	    "signed by the publisher (<a href=\"catalog.json.minisig\">"
	    "catalog.json.minisig</a>), and it records the SHA-256 of every "
	    "file. If the signature is valid and a file's SHA-256 matches the "
	    "one in the signed catalog, you have exactly what the publisher "
	    "published, no matter which mirror it came from.</p>\n"
	    "<p>The publisher's public key (also as <a href=\"pubkey\">"
	    "pubkey</a>):</p>\n<pre><code>");
	out_h(o, pubkey[0] != '\0' ? pubkey : "(not known to this mirror)");
	out_s(o, "</code></pre>\n"
	    "<p>A hostile mirror could show a key of its own here. If you "
	    "can, compare it with the key you got from the publisher or "
	    "from another mirror; it must be identical.</p>\n"
	    "<p>1. Download the catalog and its signature:</p>\n<pre>curl -O ");
	out_h(o, base);
	out_s(o, "catalog.json -O ");
	out_h(o, base);
	out_s(o, "catalog.json.minisig</pre>\n"
	    "<p>2. Check the signature with "
	    "<a href=\"#minisign\">minisign</a>:</p>\n"
	    "<pre>minisign -Vm catalog.json -P ");
	out_h(o, pubkey[0] != '\0' ? pubkey : "PUBLIC-KEY");
	out_s(o, "</pre>\n"
	    "<p>It must say <code>Signature and comment signature "
	    "verified</code>. Anything else means the catalog was changed "
	    "after it was signed: do not use it.</p>\n"
	    "<p>3. Compute the SHA-256 of each file you downloaded and find "
	    "the same value next to its name in catalog.json.");
	if (json_is_object(first)) {
		const char *name = index_str(first, "name");

		out_s(o, " For example:</p>\n<pre>sha256sum ");
		index_shell_quoted(o, name);
		out_s(o, "</pre>\n<p>must print</p>\n<pre>");
		out_h(o, index_str(first, "sha256"));
		out_s(o, "  ");
		out_h(o, name);
		out_s(o, "</pre>\n");
	} else
		out_s(o, "</p>\n<pre>sha256sum FILE</pre>\n");
	out_s(o, "<p>The SHA-256 listed in the signed catalog must match "
	    "exactly; if it does not, delete the file and fetch it from "
	    "another mirror. On macOS use <code>shasum -a 256 FILE</code>; "
	    "on Windows <code>certutil -hashfile FILE SHA256</code>.</p>\n"
	    "<p id=\"minisign\" class=\"mute\">minisign is a small, "
	    "widely packaged signature tool: <code>apt install "
	    "minisign</code>, <code>brew install minisign</code>, or "
	    "<code>scoop install minisign</code>.</p>\n");
}

char *
index_page_render(const struct index_page_info *info, size_t *len)
{
	struct index_out o = { { NULL, 0, 0 }, 0 };
	json_t *cat = info->catalog;
	json_t *items = json_object_get(cat, "items");
	json_t *mirrors = json_object_get(cat, "mirrors");
	json_t *seq = json_object_get(cat, "sequence");
	const char *name = index_str(cat, "name");
	const char *generated = index_str(cat, "generated");
	const char *desc = index_str(cat, "description");
	size_t n;

	if (!json_is_array(items))
		items = NULL;
	if (!json_is_array(mirrors))
		mirrors = NULL;
	n = json_array_size(items);
	if (name[0] == '\0')
		name = "Archive";

	/* A guess at the final size: fewer reallocations for big catalogs. */
	if (n > 0 && n < SIZE_MAX / 2048 &&
	    index_buf_reserve(&o.b, 8192 + n * 1024) == -1)
		return NULL;

	out_s(&o, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1\">\n"
	    "<meta name=\"referrer\" content=\"no-referrer\">\n<title>");
	out_h(&o, name);
	out_s(&o, "</title>\n");
	out_s(&o, index_style);
	out_s(&o, "</head>\n<body>\n<main>\n<h1 dir=\"auto\">");
	out_h(&o, name);
	out_s(&o, "</h1>\n");
	if (desc[0] != '\0') {
		out_s(&o, "<p class=\"desc\" dir=\"auto\">");
		out_h_max(&o, desc, INDEX_DESC_MAX);
		out_s(&o, "</p>\n");
	}
	out_s(&o, "<p class=\"mute\">");
	out_f(&o, "%zu %s", n, n == 1 ? "item" : "items");
	if (json_is_integer(seq))
		out_f(&o, " &middot; catalog #%lld",
		    (long long)json_integer_value(seq));
	if (generated[0] != '\0') {
		out_s(&o, " &middot; updated ");
		out_h(&o, generated);
	}
	out_s(&o, "</p>\n<nav><a href=\"#verify\">How to verify</a>");
	if (json_array_size(mirrors) > 0 ||
	    (info->self_url != NULL && info->self_url[0] != '\0'))
		out_s(&o, "<a href=\"#mirrors\">Other mirrors</a>");
	out_s(&o, "<a href=\"catalog.json\">catalog.json</a></nav>\n");

	out_s(&o, "<h2 id=\"items\">Files</h2>\n");
	if (n == 0)
		out_s(&o, "<p>No items yet.</p>\n");
	else
		index_items(&o, items);

	index_mirrors(&o, mirrors, info->self_url);
	index_verify(&o, info, items);
	out_s(&o, "</main>\n</body>\n</html>\n");

	if (o.failed) {
		free(o.b.data);
		return NULL;
	}
	if (len != NULL)
		*len = o.b.len;
	return o.b.data;
}

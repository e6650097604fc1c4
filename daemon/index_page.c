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

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define INDEX_BUF_MIN	65536

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
    "h3{margin:0 0 .25rem;font-size:1.1rem;overflow-wrap:anywhere}\n"
    ".mute{color:var(--mute)}\n"
    "nav a{margin-right:1rem}\n"
    ".item{background:var(--card);border:1px solid var(--line);"
    "border-radius:6px;padding:.75rem 1rem;margin:0 0 1rem}\n"
    ".item p{margin:.25rem 0}\n"
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

static void
index_item(struct index_out *o, struct index_buf *scratch, json_t *item,
    size_t idx)
{
	const char *name = index_str(item, "name");
	const char *type = index_str(item, "type");
	const char *sha = index_str(item, "sha256");
	const char *source = index_str(item, "source");
	const char *fetched = index_str(item, "fetched");
	json_t *jsize = json_object_get(item, "size");
	const char *enc;

	out_f(o, "<section class=\"item\" id=\"item-%zu\">\n", idx + 1);
	/* Encode the name once; it goes into up to five links. */
	scratch->len = 0;
	if (!o->failed && index_buf_url(scratch, name) == -1)
		o->failed = 1;
	if (o->failed)
		return;
	enc = scratch->data;

	out_s(o, "<h3 dir=\"auto\"><a href=\"files/");
	out_s(o, enc);
	out_s(o, "\">");
	out_h(o, name);
	out_s(o, "</a></h3>\n<p class=\"mute\">");
	out_h(o, type[0] != '\0' ? type : "unknown type");
	out_s(o, " &middot; ");
	if (json_is_integer(jsize) && json_integer_value(jsize) >= 0) {
		uint64_t size = (uint64_t)json_integer_value(jsize);

		index_human_size(o, size);
		if (size >= 1024)
			out_f(o, " (%llu bytes)", (unsigned long long)size);
	} else
		out_s(o, "size unknown");
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
	struct index_buf scratch = { NULL, 0, 0 };
	json_t *cat = info->catalog;
	json_t *items = json_object_get(cat, "items");
	json_t *mirrors = json_object_get(cat, "mirrors");
	json_t *seq = json_object_get(cat, "sequence");
	const char *name = index_str(cat, "name");
	const char *generated = index_str(cat, "generated");
	size_t i, n;

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
	out_s(&o, "</h1>\n<p class=\"mute\">");
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
	for (i = 0; i < n; i++) {
		json_t *item = json_array_get(items, i);

		if (json_is_object(item))
			index_item(&o, &scratch, item, i);
	}

	free(scratch.data);

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

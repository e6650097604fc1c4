/*
 * The response-head reader of crawl_headers.h: no I/O; every field is
 * bounded by its buffer, and a malformed value reads as absent. The one
 * allocation is libcurl's percent-decoder for a Content-Disposition's
 * filename*. A fuzz target (tests/fuzz/fuzz_crawl_headers.c) drives it.
 *
 * Grammar: RFC 9110 section 5.6 (tokens, quoted-strings, parameters),
 * RFC 6266 section 4 (Content-Disposition), RFC 8187 section 3.2
 * (ext-value). Names are case-insensitive throughout.
 */
#include "crawl_headers.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "names.h"

/* The longest parameter value read: a 255-byte name percent-encoded
 * (three bytes a byte) and its charset fit. */
#define CRAWL_PARAM_MAX	1024
#define CRAWL_CHARSET_MAX	40

/* Leading blanks and trailing line end and blanks off V. */
static void
crawl_headers_trim(const char **v, size_t *n)
{
	while (*n > 0 && (**v == ' ' || **v == '\t')) {
		(*v)++;
		(*n)--;
	}
	while (*n > 0 && ((*v)[*n - 1] == '\r' || (*v)[*n - 1] == '\n' ||
	    (*v)[*n - 1] == ' ' || (*v)[*n - 1] == '\t'))
		(*n)--;
}

static void
crawl_headers_copy(char *dst, size_t dstlen, const char *v, size_t n)
{
	crawl_headers_trim(&v, &n);
	if (n >= dstlen)
		n = dstlen - 1;
	memcpy(dst, v, n);
	dst[n] = '\0';
	/* A NUL inside a field would cut it here: harmless, and visible. */
}

/* RFC 9110 5.6.2 tchar, ASCII only whatever the locale. */
static int
crawl_headers_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* S is one whole token. */
static int
crawl_headers_is_token(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!crawl_headers_tchar((unsigned char)*s))
			return 0;
	return 1;
}

static int
crawl_headers_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static void
crawl_headers_ows(const char **p, const char *end)
{
	while (*p < end && (**p == ' ' || **p == '\t'))
		(*p)++;
}

static size_t
crawl_headers_token(const char **p, const char *end)
{
	const char *s = *p;

	while (*p < end && crawl_headers_tchar((unsigned char)**p))
		(*p)++;
	return (size_t)(*p - s);
}

/*
 * One parameter's value at *P (a token or a quoted-string, unescaped)
 * into OUT: 0, or -1 when malformed, holding a NUL, or too long.
 */
static int
crawl_headers_value(const char **p, const char *end, char *out, size_t outlen)
{
	const char *s = *p;
	size_t n = 0;
	char c;

	if (*p == end)
		return -1;
	if (**p != '"') {
		n = crawl_headers_token(p, end);
		if (n == 0 || n >= outlen)
			return -1;
		memcpy(out, s, n);
		out[n] = '\0';
		return 0;
	}
	for ((*p)++; *p < end && **p != '"'; (*p)++) {
		c = **p;
		if (c == '\\' && ++(*p) < end)
			c = **p;	/* quoted-pair */
		if (*p == end || c == '\0' || n + 1 >= outlen)
			return -1;
		out[n++] = c;
	}
	if (*p == end)
		return -1;	/* no closing quote */
	(*p)++;
	out[n] = '\0';
	return 0;
}

/*
 * An RFC 8187 ext-value, charset'language'value-chars, decoded to UTF-8
 * into OUT: 0, or -1 (another charset, a bad character, an undecodable
 * or oversized result).
 */
static int
crawl_headers_ext_value(const char *v, char *out, size_t outlen)
{
	const char *q1, *q2, *s;
	char *dec;
	size_t i, n = 0;
	int declen = 0, utf8, rc = -1;

	if ((q1 = strchr(v, '\'')) == NULL || (q2 = strchr(q1 + 1, '\'')) == NULL)
		return -1;
	utf8 = q1 - v == 5 && strncasecmp(v, "UTF-8", 5) == 0;
	if (!utf8 && !(q1 - v == 10 && strncasecmp(v, "ISO-8859-1", 10) == 0))
		return -1;
	/* value-chars: attr-char or a %HH; nothing else. */
	for (s = q2 + 1; *s != '\0'; s++) {
		if (*s == '%') {
			if (!crawl_headers_hex(s[1]) || !crawl_headers_hex(s[2]))
				return -1;
			s += 2;
		} else if (!crawl_headers_tchar((unsigned char)*s) || *s == '*' ||
		    *s == '\'')
			return -1;
	}
	if ((dec = curl_easy_unescape(NULL, q2 + 1, 0, &declen)) == NULL)
		return -1;
	if (declen <= 0 || memchr(dec, '\0', (size_t)declen) != NULL)
		goto out;
	if (utf8) {
		if (!name_utf8_valid(dec, (size_t)declen) || (size_t)declen >= outlen)
			goto out;
		memcpy(out, dec, (size_t)declen);
		n = (size_t)declen;
	} else {
		/* ISO-8859-1 is U+0000..U+00FF, one or two bytes in UTF-8. */
		for (i = 0; i < (size_t)declen; i++) {
			unsigned char c = (unsigned char)dec[i];
			if (n + (c < 0x80 ? 1 : 2) >= outlen)
				goto out;
			if (c < 0x80)
				out[n++] = (char)c;
			else {
				out[n++] = (char)(0xc0 | (c >> 6));
				out[n++] = (char)(0x80 | (c & 0x3f));
			}
		}
	}
	out[n] = '\0';
	rc = 0;
out:
	curl_free(dec);
	return rc;
}

int
crawl_headers_disposition(const char *v, size_t len, char *out, size_t outlen)
{
	const char *p = v, *end = v + len, *name;
	char val[CRAWL_PARAM_MAX], plain[CRAWL_PARAM_MAX];
	int star = 0, have_plain = 0;
	size_t nlen;

	if (outlen == 0)
		return -1;
	out[0] = '\0';
	crawl_headers_ows(&p, end);
	if (crawl_headers_token(&p, end) == 0)
		return -1;	/* no disposition type */
	/* Parameters up to the first malformed one; one ends only at ';' or
	 * the end, so that a raw byte never shortens a name. */
	for (;;) {
		crawl_headers_ows(&p, end);
		if (p == end || *p != ';')
			break;
		p++;
		crawl_headers_ows(&p, end);
		name = p;
		if ((nlen = crawl_headers_token(&p, end)) == 0)
			break;
		crawl_headers_ows(&p, end);
		if (p == end || *p != '=')
			break;
		p++;
		crawl_headers_ows(&p, end);
		if (crawl_headers_value(&p, end, val, sizeof(val)) == -1)
			break;
		crawl_headers_ows(&p, end);
		if (p != end && *p != ';')
			break;
		if (nlen == 9 && strncasecmp(name, "filename*", 9) == 0 && !star)
			star = crawl_headers_ext_value(val, out, outlen) == 0;
		else if (nlen == 8 && strncasecmp(name, "filename", 8) == 0 &&
		    !have_plain) {
			memcpy(plain, val, strlen(val) + 1);
			have_plain = 1;
		}
	}
	if (star)
		return 0;	/* RFC 6266 4.3: filename* wins */
	if (!have_plain || plain[0] == '\0' || strlen(plain) >= outlen)
		return -1;
	memcpy(out, plain, strlen(plain) + 1);
	return 0;
}

int
crawl_headers_type(const char *ct, char *out, size_t outlen)
{
	const char *p = ct, *end = ct + strlen(ct), *type, *name;
	char val[CRAWL_PARAM_MAX], charset[CRAWL_CHARSET_MAX + 1] = "";
	size_t tlen, slen, nlen, i;

	crawl_headers_ows(&p, end);
	type = p;
	tlen = crawl_headers_token(&p, end);
	if (tlen == 0 || p == end || *p != '/')
		return -1;
	p++;
	if ((slen = crawl_headers_token(&p, end)) == 0)
		return -1;
	/* Parameters: the charset kept (the bytes mean nothing without it
	 * for text), the rest dropped; a malformed one ends the list. */
	for (;;) {
		crawl_headers_ows(&p, end);
		if (p == end || *p != ';')
			break;
		p++;
		crawl_headers_ows(&p, end);
		name = p;
		if ((nlen = crawl_headers_token(&p, end)) == 0 || p == end || *p != '=')
			break;
		p++;
		if (crawl_headers_value(&p, end, val, sizeof(val)) == -1)
			break;
		if (nlen == 7 && strncasecmp(name, "charset", 7) == 0 &&
		    charset[0] == '\0' && strlen(val) <= CRAWL_CHARSET_MAX &&
		    crawl_headers_is_token(val)) {
			for (i = 0; val[i] != '\0'; i++)
				charset[i] = (char)((val[i] >= 'A' && val[i] <= 'Z') ?
				    val[i] - 'A' + 'a' : val[i]);
			charset[i] = '\0';
		}
	}
	if (tlen + 1 + slen + (charset[0] ? 10 + strlen(charset) : 0) >= outlen)
		return -1;
	for (i = 0; i < tlen + 1 + slen; i++)
		out[i] = (char)((type[i] >= 'A' && type[i] <= 'Z') ?
		    type[i] - 'A' + 'a' : type[i]);
	out[i] = '\0';
	if (charset[0] != '\0') {
		memcpy(out + i, "; charset=", 10);
		memcpy(out + i + 10, charset, strlen(charset) + 1);
	}
	return 0;
}

void
crawl_headers_reset(struct crawl_headers *h)
{
	memset(h, 0, sizeof(*h));
	h->content_length = -1;
	h->retry_after = -1;
}

void
crawl_headers_line(struct crawl_headers *h, const char *buf, size_t len)
{
	const char *colon, *v;
	size_t klen, vlen;
	char tmp[64], *end;

	if (len >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
		/* A new response (a redirect, or the final one). */
		crawl_headers_reset(h);
		return;
	}
	if ((colon = memchr(buf, ':', len)) == NULL)
		return;
	klen = (size_t)(colon - buf);
	vlen = len - klen - 1;
	v = colon + 1;
#define IS(k) (klen == strlen(k) && strncasecmp(buf, k, klen) == 0)
	if (IS("ETag"))
		crawl_headers_copy(h->etag, sizeof(h->etag), v, vlen);
	else if (IS("Last-Modified"))
		crawl_headers_copy(h->last_modified, sizeof(h->last_modified), v, vlen);
	else if (IS("Content-Type"))
		crawl_headers_copy(h->content_type, sizeof(h->content_type), v, vlen);
	else if (IS("Content-Range"))
		crawl_headers_copy(h->content_range, sizeof(h->content_range), v, vlen);
	else if (IS("Content-Disposition")) {
		crawl_headers_trim(&v, &vlen);
		if (crawl_headers_disposition(v, vlen, h->filename, sizeof(h->filename)) == -1)
			h->filename[0] = '\0';
	} else if (IS("Content-Encoding")) {
		crawl_headers_copy(tmp, sizeof(tmp), v, vlen);
		h->encoded = tmp[0] != '\0' && strcasecmp(tmp, "identity") != 0;
	} else if (IS("Content-Length")) {
		crawl_headers_copy(tmp, sizeof(tmp), v, vlen);
		errno = 0;
		long long cl = strtoll(tmp, &end, 10);
		h->content_length = (tmp[0] >= '0' && tmp[0] <= '9' && errno == 0 &&
		    *end == '\0' && cl >= 0) ? cl : -1;
	} else if (IS("Vary")) {
		char vary[256];
		crawl_headers_copy(vary, sizeof(vary), v, vlen);
		h->vary_encoding |= strcasestr(vary, "accept-encoding") != NULL;
	} else if (IS("Retry-After")) {
		/* Seconds only; an HTTP date is treated as absent. */
		crawl_headers_copy(tmp, sizeof(tmp), v, vlen);
		errno = 0;
		long ra = strtol(tmp, &end, 10);
		if (tmp[0] >= '0' && tmp[0] <= '9' && errno == 0 && *end == '\0' && ra >= 0)
			h->retry_after = ra;
	}
#undef IS
}

/*
 * The few fields of an origin's response head that the crawler acts on,
 * read from untrusted bytes one header line at a time.
 */
#ifndef EMBERD_CRAWL_HEADERS_H
#define EMBERD_CRAWL_HEADERS_H

#include <stddef.h>

/*
 * What the crawler reads from an origin's response head (untrusted):
 * fed one header line at a time, as libcurl delivers them; a status line
 * starts a new response (after a redirect).
 */
struct crawl_headers {
	char etag[256], last_modified[64], content_type[128], content_range[96];
	/* Content-Disposition's file name as the origin sent it, decoded
	 * (crawl_headers_disposition), not yet a safe item name; "" none. */
	char filename[256];
	int encoded;		/* a Content-Encoding other than identity */
	int vary_encoding;	/* Vary names Accept-Encoding */
	long long content_length;	/* -1 unknown or malformed */
	long retry_after;	/* seconds; -1 absent or not a number */
};

void crawl_headers_reset(struct crawl_headers *h);
void crawl_headers_line(struct crawl_headers *h, const char *line, size_t len);

/*
 * The file name of a Content-Disposition value V (LEN bytes, no line
 * end), RFC 6266 section 4: a filename* parameter (RFC 8187 ext-value,
 * UTF-8 or ISO-8859-1, percent-decoded, converted to UTF-8) is preferred
 * over filename (a token or quoted-string, taken as is). Into OUT (OUTLEN
 * bytes, NUL-terminated, no NUL inside): 0, or -1 when V names none, is
 * malformed there, or the name does not fit. The name may still hold
 * '/', "..", controls: names.c's name_from_suggested makes an item name
 * of it.
 */
int crawl_headers_disposition(const char *v, size_t len, char *out, size_t outlen);

/*
 * The item type of a Content-Type value CT: "type/subtype" in lowercase,
 * and "; charset=VALUE" (lowercase) when CT has a charset; every other
 * parameter dropped. Into OUT: 0, or -1 when CT is not a media type.
 */
int crawl_headers_type(const char *ct, char *out, size_t outlen);

#endif

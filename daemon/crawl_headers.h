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
	int encoded;		/* a Content-Encoding other than identity */
	int vary_encoding;	/* Vary names Accept-Encoding */
	long long content_length;	/* -1 unknown or malformed */
	long retry_after;	/* seconds; -1 absent or not a number */
};

void crawl_headers_reset(struct crawl_headers *h);
void crawl_headers_line(struct crawl_headers *h, const char *line, size_t len);

#endif

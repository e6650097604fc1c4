/*
 * The response-head reader of crawl_headers.h: no I/O, no allocation;
 * every field is bounded by its buffer, and a malformed number reads as
 * absent. A fuzz target (tests/fuzz/fuzz_crawl_headers.c) drives it.
 */
#include "crawl_headers.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void
crawl_headers_copy(char *dst, size_t dstlen, const char *v, size_t n)
{
	while (n > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		n--;
	}
	while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' ' ||
	    v[n - 1] == '\t'))
		n--;
	if (n >= dstlen)
		n = dstlen - 1;
	memcpy(dst, v, n);
	dst[n] = '\0';
	/* A NUL inside a field would cut it here: harmless, and visible. */
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
	else if (IS("Content-Encoding")) {
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

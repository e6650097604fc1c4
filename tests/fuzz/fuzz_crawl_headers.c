/*
 * An origin's response head goes through the crawler's header reader a
 * line at a time. The input is split at '\n' into lines (each given with
 * its line end, as libcurl does); after every line the fields must be
 * NUL-terminated strings within their arrays and the numbers in range.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crawl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const struct crawl_headers *h)
{
	if (memchr(h->etag, '\0', sizeof(h->etag)) == NULL ||
	    memchr(h->last_modified, '\0', sizeof(h->last_modified)) == NULL ||
	    memchr(h->content_type, '\0', sizeof(h->content_type)) == NULL ||
	    memchr(h->content_range, '\0', sizeof(h->content_range)) == NULL)
		__builtin_trap();
	if (h->content_length < -1 || h->retry_after < -1 ||
	    (h->encoded != 0 && h->encoded != 1))
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct crawl_headers h;
	size_t start = 0;

	crawl_headers_reset(&h);
	while (start < size) {
		const uint8_t *nl = memchr(data + start, '\n', size - start);
		size_t end = nl != NULL ? (size_t)(nl - data) + 1 : size;
		/* A heap copy of exactly the line: reads past it are caught. */
		char *line = malloc(end - start);
		if (line == NULL)
			return 0;
		memcpy(line, data + start, end - start);
		crawl_headers_line(&h, line, end - start);
		free(line);
		check(&h);
		start = end;
	}
	return 0;
}

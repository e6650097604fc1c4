/*
 * An origin's response head goes through the crawler's header reader a
 * line at a time. The input is split at '\n' into lines (each given with
 * its line end, as libcurl does); after every line the fields must be
 * NUL-terminated strings within their arrays and the numbers in range.
 * The Content-Disposition and Content-Type parsers also get the whole
 * input as one value: a file name comes back NUL-terminated within its
 * buffer, valid UTF-8 for filename*, and what name_from_suggested makes
 * of it is a good item name without a path; a type is lowercase
 * type/subtype with at most a charset.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crawl.h"
#include "names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const struct crawl_headers *h)
{
	if (memchr(h->etag, '\0', sizeof(h->etag)) == NULL ||
	    memchr(h->last_modified, '\0', sizeof(h->last_modified)) == NULL ||
	    memchr(h->content_type, '\0', sizeof(h->content_type)) == NULL ||
	    memchr(h->content_range, '\0', sizeof(h->content_range)) == NULL ||
	    memchr(h->filename, '\0', sizeof(h->filename)) == NULL)
		__builtin_trap();
	if (h->content_length < -1 || h->retry_after < -1 ||
	    (h->encoded != 0 && h->encoded != 1))
		__builtin_trap();
}

/* The whole input as one Content-Disposition and one Content-Type. */
static void
check_values(const uint8_t *data, size_t size)
{
	char name[256], type[200], *copy, *item;
	size_t i;

	memset(name, 'x', sizeof(name));
	if (crawl_headers_disposition((const char *)data, size, name, sizeof(name)) == 0) {
		if (memchr(name, '\0', sizeof(name)) == NULL || name[0] == '\0')
			__builtin_trap();
		if ((item = name_from_suggested(name)) != NULL) {
			if (name_check(item, strlen(item)) != NULL ||
			    strchr(item, '/') != NULL || strchr(item, '\\') != NULL)
				__builtin_trap();
			free(item);
		}
	}
	/* A heap copy of exactly the value and its NUL. */
	if ((copy = malloc(size + 1)) == NULL)
		return;
	memcpy(copy, data, size);
	copy[size] = '\0';
	memset(type, 'x', sizeof(type));
	if (crawl_headers_type(copy, type, sizeof(type)) == 0) {
		if (memchr(type, '\0', sizeof(type)) == NULL || strchr(type, '/') == NULL)
			__builtin_trap();
		for (i = 0; type[i] != '\0'; i++)
			if ((type[i] >= 'A' && type[i] <= 'Z') || type[i] == '\r' ||
			    type[i] == '\n' || (type[i] == ' ' && type[i - 1] != ';'))
				__builtin_trap();
	}
	free(copy);
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
	check_values(data, size);
	return 0;
}

/*
 * Request targets and headers come straight from readers. The input is
 * an 8-byte object size (little-endian) followed by NUL-separated
 * strings; every string goes through every parser, the first one also
 * serving as the entity-tag, and the invariants the server relies on
 * are checked. The whole input, as it is, is also a request head for
 * http_head_end() and http_head_parse().
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_request.h"
#include "names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_route(const char *s, size_t arglen)
{
	char arg[300];
	enum http_route r;
	size_t len;

	memset(arg, 'Z', sizeof(arg));
	r = http_route(s, arg, arglen);
	if (arglen == 0)
		return;
	/* Whatever the route, ARG is a string within ARGLEN. */
	len = strnlen(arg, arglen);
	if (len == arglen)
		__builtin_trap();
	switch (r) {
	case ROUTE_FILE:
	case ROUTE_META4:
	case ROUTE_TORRENT:
		/* A routed name can never leave the catalog's namespace. */
		if (name_check(arg, len) != NULL || memchr(arg, '/', len))
			__builtin_trap();
		break;
	case ROUTE_SHA256:
		if (!name_is_sha256_hex(arg, len))
			__builtin_trap();
		break;
	default:
		if (len != 0)
			__builtin_trap();
		break;
	}
	if (s[0] != '/' && r != ROUTE_BAD)
		__builtin_trap();
}

static void
fuzz_range(const char *s, uint64_t objsize)
{
	struct http_range rg;
	enum http_range_result r;

	r = http_range_parse(s, objsize, &rg);
	if (r == RANGE_SINGLE && (rg.first > rg.last || rg.last >= objsize))
		__builtin_trap();
	if (r != RANGE_NONE && strncasecmp(s, "bytes=", 6) != 0)
		__builtin_trap();
}

/* P lies in BUF[0..LEN) and is a string that ends there. */
static int
in_buf(const char *p, const char *buf, size_t len)
{
	return p >= buf && p < buf + len &&
	    memchr(p, '\0', (size_t)(buf + len - p)) != NULL;
}

/* A captured header: absent or in the buffer; one sent twice is "",
 * which points to a constant. */
static int
header_ok(const char *p, const char *buf, size_t len)
{
	return p == NULL || in_buf(p, buf, len) || p[0] == '\0';
}

/*
 * On a heap copy of exactly SIZE bytes, so that any read past the end is
 * caught: the end is within the input and the first empty line, and a
 * parsed head holds only strings in the buffer.
 */
static void
fuzz_head(const uint8_t *data, size_t size)
{
	struct http_head h;
	char *buf;
	size_t n;
	const char *t;

	if ((buf = malloc(size > 0 ? size : 1)) == NULL)
		return;
	if (size > 0)
		memcpy(buf, data, size);
	n = http_head_end(buf, size);
	if (n > size)
		__builtin_trap();
	if (n > 0) {
		/* Ends with its empty line, and no shorter prefix does. */
		if (n < 2 || buf[n - 1] != '\n' ||
		    http_head_end(buf, n) != n || http_head_end(buf, n - 1) != 0)
			__builtin_trap();
		if (http_head_parse(buf, n, &h) == 0) {
			if (!in_buf(h.method_text, buf, n) ||
			    h.method_text[0] == '\0' ||
			    !in_buf(h.target, buf, n) || h.target[0] == '\0')
				__builtin_trap();
			for (t = h.target; *t != '\0'; t++)
				if ((unsigned char)*t <= 0x20 ||
				    (unsigned char)*t == 0x7f)
					__builtin_trap();
			if ((h.method == HTTP_GET) !=
			    (strcmp(h.method_text, "GET") == 0) ||
			    (h.method == HTTP_HEAD) !=
			    (strcmp(h.method_text, "HEAD") == 0))
				__builtin_trap();
			if ((h.minor != 0 && h.minor != 1) ||
			    (h.keep_alive != 0 && h.keep_alive != 1) ||
			    (h.has_body != 0 && h.has_body != 1))
				__builtin_trap();
			if (!header_ok(h.range, buf, n) ||
			    !header_ok(h.if_none_match, buf, n) ||
			    !header_ok(h.if_range, buf, n) ||
			    !header_ok(h.accept_encoding, buf, n))
				__builtin_trap();
			/* What the server then does with them. */
			http_route(h.target, NULL, 0);
			http_range_parse(h.range, 1000, NULL);
			http_if_none_match(h.if_none_match, "\"abc\"");
			http_if_range(h.if_range, "\"abc\"");
			http_accepts_gzip(h.accept_encoding);
		}
	}
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t objsize = 0;
	const char *etag = "\"abc\"";
	char *buf, *p, *end;
	size_t i;

	fuzz_head(data, size);
	if (size < 8)
		return 0;
	for (i = 0; i < 8; i++)
		objsize |= (uint64_t)data[i] << (8 * i);
	if ((buf = malloc(size - 8 + 1)) == NULL)
		return 0;
	memcpy(buf, data + 8, size - 8);
	buf[size - 8] = '\0';
	end = buf + (size - 8);
	if (size > 8)
		etag = buf;

	for (p = buf; p <= end; p += strlen(p) + 1) {
		fuzz_route(p, 300);
		fuzz_route(p, objsize % 300);
		fuzz_range(p, objsize);
		/* Small sizes are where the edge cases are. */
		fuzz_range(p, objsize & 0xff);
		http_if_none_match(p, etag);
		/* A strong If-Range match is also a weak If-None-Match one. */
		if (http_if_range(p, etag) && !http_if_none_match(p, etag))
			__builtin_trap();
		http_accepts_gzip(p);
	}
	free(buf);
	return 0;
}

/*
 * Request targets and headers come straight from readers. The input is
 * an 8-byte object size (little-endian) followed by NUL-separated
 * strings; every string goes through every parser, the first one also
 * serving as the entity-tag, and the invariants the server relies on
 * are checked.
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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t objsize = 0;
	const char *etag = "\"abc\"";
	char *buf, *p, *end;
	size_t i;

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

/*
 * What a WARC response record makes of the response heads one request
 * received (an origin's bytes, kept in a provenance document): the last
 * head as is, a slice of the input, or rewritten when curl changed the
 * body after it. A rewritten head ends in "\r\n\r\n" with exactly one
 * Content-Length (the payload's) and no Content-Encoding or
 * Transfer-Encoding line, and rewriting it again changes nothing more.
 * The first input byte says whether a payload follows.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "export.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t
count_lines(const unsigned char *h, size_t n, const char *name)
{
	size_t i, c = 0, nl = strlen(name);
	const unsigned char *e = memchr(h, '\n', n);

	/* Header lines only: the status line is kept as received. */
	for (i = e == NULL ? n : (size_t)(e - h) + 1; i < n; i++)
		if ((i == 0 || h[i - 1] == '\n') && n - i >= nl &&
		    strncasecmp((const char *)h + i, name, nl) == 0)
			c++;
	return c;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned char *head, *h2;
	unsigned char *out = NULL, *out2 = NULL;
	size_t outlen, hlen, out2len, h2len;
	const char *note, *note2;
	int have;
	uint64_t plen = 12345;
	char cl[64];

	if (size < 1)
		return 0;
	have = data[0] & 1;
	data++;
	size--;
	if (export_warc_head(data, size, have, plen, &out, &outlen, &head, &hlen, &note) == -1)
		return 0;
	if (note == NULL) {
		if (out != NULL || head < data || hlen > size || head + hlen > data + size)
			__builtin_trap();
		return 0;
	}
	if (out == NULL || head != out || hlen != outlen || hlen < 4 ||
	    memcmp(head + hlen - 4, "\r\n\r\n", 4) != 0)
		__builtin_trap();
	if (count_lines(head, hlen, "Content-Encoding:") != 0 ||
	    count_lines(head, hlen, "Transfer-Encoding:") != 0 ||
	    count_lines(head, hlen, "Content-Length:") != 1)
		__builtin_trap();
	snprintf(cl, sizeof(cl), "Content-Length: %" PRIu64 "\r\n", have ? plen : 0);
	if (memmem(head, hlen, cl, strlen(cl)) == NULL)
		__builtin_trap();
	/* Once rewritten, it is what a record needs: as is the next time. */
	if (export_warc_head(head, hlen, have, plen, &out2, &out2len, &h2, &h2len, &note2) == 0 &&
	    (note2 != NULL || h2 != head || h2len != hlen))
		__builtin_trap();
	free(out2);
	free(out);
	return 0;
}

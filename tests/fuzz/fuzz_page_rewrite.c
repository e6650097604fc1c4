/* The page rewriter reads pages from origins: whatever the bytes and
 * however they are cut, the output is the same, and a page without any
 * pattern comes out as it went in. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "page_rewrite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct sink {
	unsigned char *p;
	size_t len, cap;
};

static int
sink_out(void *arg, const void *p, size_t n)
{
	struct sink *s = arg;

	if (s->len + n > s->cap) {
		size_t cap = (s->len + n) * 2;
		unsigned char *q = realloc(s->p, cap);
		if (q == NULL)
			return -1;
		s->p = q;
		s->cap = cap;
	}
	memcpy(s->p + s->len, p, n);
	s->len += n;
	return 0;
}

static int
run(const uint8_t *d, size_t n, size_t cut, int patterns, struct sink *s)
{
	struct page_rewrite *rw = page_rewrite_new(sink_out, s);
	int rc = -1;

	if (rw == NULL)
		return -1;
	if (patterns && (page_rewrite_add(rw, "a.mp4", "b.mp4") == -1 ||
	    page_rewrite_add(rw, "x&y", "z") == -1 ||
	    page_rewrite_add(rw, "media/", "./") == -1))
		goto out;
	if (page_rewrite_feed(rw, d, cut) == -1 ||
	    page_rewrite_feed(rw, d + cut, n - cut) == -1 ||
	    page_rewrite_finish(rw) == -1)
		goto out;
	rc = 0;
out:
	page_rewrite_free(rw);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sink a = { 0 }, b = { 0 }, c = { 0 };
	size_t cut;

	if (size == 0)
		return 0;
	cut = data[0] % size;
	if (run(data, size, 0, 1, &a) == 0 && run(data, size, cut, 1, &b) == 0 &&
	    (a.len != b.len || (a.len > 0 && memcmp(a.p, b.p, a.len) != 0)))
		__builtin_trap();	/* the cut changed the output */
	if (run(data, size, cut, 0, &c) == 0 &&
	    (c.len != size || memcmp(c.p, data, size) != 0))
		__builtin_trap();	/* no pattern, yet the bytes changed */
	free(a.p);
	free(b.p);
	free(c.p);
	return 0;
}

/*
 * The page rewriter (page_rewrite.h): a streaming replace of quoted or
 * bare attribute values, for a page that plays its media from the
 * mirror.
 */
#include "page_rewrite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The longest pattern: a quoted URL longer than this is not replaced. */
#define PATTERN_MAX		(16u << 10)

/*
 * Replaces, in a stream of bytes, every attribute value that names a
 * captured medium with the medium's item name (relative, percent-
 * encoded), and the <base href> with "./". Patterns are the raw value
 * preceded by a quote or '=' (so "a.mp4" does not match inside
 * "aa.mp4"), bucketed by their first two bytes: a page of 50 MB with
 * hundreds of thousands of quotes costs a bucket look-up per quote.
 */
struct rewrite_pat {
	char *from, *to;
	size_t from_len, to_len;
	struct rewrite_pat *next;
};

struct page_rewrite {
	struct rewrite_pat *bucket[256];
	size_t longest;
	unsigned char *carry;	/* bytes not yet decided: a pattern may start there */
	size_t carry_len;
	page_rewrite_out_fn out;
	void *out_arg;
	int failed;
};

static int
rewrite_add1(struct page_rewrite *rw, char open, const char *raw, const char *to, char close)
{
	struct rewrite_pat *p = calloc(1, sizeof(*p));
	size_t rl = strlen(raw);

	if (p == NULL || rl == 0 || rl + 2 > PATTERN_MAX) {
		free(p);
		return p == NULL ? -1 : 0;
	}
	if (asprintf(&p->from, "%c%s%c", open, raw, close) == -1 ||
	    asprintf(&p->to, "%c%s%c", open, to, close) == -1) {
		free(p->from);
		free(p);
		return -1;
	}
	p->from_len = strlen(p->from);
	p->to_len = strlen(p->to);
	p->next = rw->bucket[(unsigned char)p->from[1]];
	rw->bucket[(unsigned char)p->from[1]] = p;
	if (p->from_len > rw->longest)
		rw->longest = p->from_len;
	return 0;
}

/* RAW as an attribute value in any of its written forms: quoted either
 * way, or bare; with '&' as it is or as "&amp;". */
int
page_rewrite_add(struct page_rewrite *rw, const char *raw, const char *to)
{
	char *amp = NULL;
	const char *forms[2] = { raw, NULL };
	size_t i, k;

	if (strchr(raw, '&') != NULL) {
		size_t n = 0;
		for (i = 0; raw[i] != '\0'; i++)
			n += raw[i] == '&' ? 5 : 1;
		if ((amp = malloc(n + 1)) == NULL)
			return -1;
		for (i = 0, k = 0; raw[i] != '\0'; i++) {
			if (raw[i] == '&') {
				memcpy(amp + k, "&amp;", 5);
				k += 5;
			} else
				amp[k++] = raw[i];
		}
		amp[k] = '\0';
		forms[1] = amp;
	}
	for (i = 0; i < 2; i++) {
		if (forms[i] == NULL)
			continue;
		if (rewrite_add1(rw, '"', forms[i], to, '"') == -1 ||
		    rewrite_add1(rw, '\'', forms[i], to, '\'') == -1 ||
		    rewrite_add1(rw, '=', forms[i], to, '>') == -1 ||
		    rewrite_add1(rw, '=', forms[i], to, ' ') == -1) {
			free(amp);
			return -1;
		}
	}
	free(amp);
	return 0;
}

struct page_rewrite *
page_rewrite_new(page_rewrite_out_fn out, void *arg)
{
	struct page_rewrite *rw = calloc(1, sizeof(*rw));

	if (rw != NULL) {
		rw->out = out;
		rw->out_arg = arg;
	}
	return rw;
}

void
page_rewrite_free(struct page_rewrite *rw)
{
	size_t b;
	struct rewrite_pat *p, *n;

	if (rw == NULL)
		return;
	for (b = 0; b < 256; b++)
		for (p = rw->bucket[b]; p != NULL; p = n) {
			n = p->next;
			free(p->from);
			free(p->to);
			free(p);
		}
	free(rw->carry);
	free(rw);
}

static int
rewrite_emit(struct page_rewrite *rw, const void *p, size_t n)
{
	if (n > 0 && !rw->failed && rw->out(rw->out_arg, p, n) == -1)
		rw->failed = 1;
	return rw->failed ? -1 : 0;
}

/*
 * Scan BUF (carry + new bytes): emit what cannot start a match any
 * more; keep from the first delimiter too close to the end to decide
 * (unless FINAL) as the next carry.
 */
static int
rewrite_scan(struct page_rewrite *rw, const unsigned char *buf, size_t len, int final)
{
	size_t i = 0, from = 0;

	while (i < len) {
		const unsigned char *q = buf + i;
		struct rewrite_pat *p;
		if (*q != '"' && *q != '\'' && *q != '=') {
			i++;
			continue;
		}
		if (!final && len - i < rw->longest)
			break;	/* may be a match cut by the chunk's end */
		for (p = i + 1 < len ? rw->bucket[q[1]] : NULL; p != NULL; p = p->next)
			if (p->from_len <= len - i && p->from[0] == (char)*q &&
			    memcmp(q, p->from, p->from_len) == 0)
				break;
		if (p == NULL) {
			i++;
			continue;
		}
		if (rewrite_emit(rw, buf + from, i - from) == -1 ||
		    rewrite_emit(rw, p->to, p->to_len - 1) == -1)
			return -1;
		/* The closing delimiter stays: it may open the next match. */
		i += p->from_len - 1;
		from = i;
	}
	if (rewrite_emit(rw, buf + from, i - from) == -1)
		return -1;
	memmove(rw->carry, buf + i, len - i);
	rw->carry_len = len - i;
	return 0;
}

int
page_rewrite_feed(void *arg, const unsigned char *p, size_t n)
{
	struct page_rewrite *rw = arg;
	unsigned char *buf;
	size_t len;

	if (rw->failed)
		return -1;
	if (rw->carry == NULL && (rw->carry = malloc(rw->longest + 1)) == NULL)
		return rw->failed = 1, -1;
	/* carry + new bytes, in one scan buffer */
	len = rw->carry_len + n;
	if ((buf = malloc(len > 0 ? len : 1)) == NULL)
		return rw->failed = 1, -1;
	memcpy(buf, rw->carry, rw->carry_len);
	memcpy(buf + rw->carry_len, p, n);
	rw->carry_len = 0;
	if (rewrite_scan(rw, buf, len, 0) == -1) {
		free(buf);
		return -1;
	}
	free(buf);
	return 0;
}

int
page_rewrite_finish(struct page_rewrite *rw)
{
	if (rw->failed)
		return -1;
	if (rw->carry == NULL)
		return 0;
	return rewrite_scan(rw, rw->carry, rw->carry_len, 1);
}


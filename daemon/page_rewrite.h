/*
 * The page rewriter: a copy of a page whose media play from the mirror.
 * Every attribute value that names a captured medium (as the page wrote
 * it: quoted either way or bare, with '&' as is or as "&amp;") is
 * replaced by the medium's item name, and a <base href> by "./". The
 * page streams through (page_rewrite_feed is a store_read_fn): memory is
 * the patterns and one pattern's length of carry, whatever the page's
 * size. Input is untrusted; the output is the input with only the
 * patterns replaced, however the input is cut into pieces (fuzzed).
 */
#ifndef EMBERD_PAGE_REWRITE_H
#define EMBERD_PAGE_REWRITE_H

#include <stddef.h>

struct page_rewrite;

/* Where the rewritten bytes go: 0, or -1 to stop. */
typedef int (*page_rewrite_out_fn)(void *arg, const void *p, size_t n);

struct page_rewrite *page_rewrite_new(page_rewrite_out_fn out, void *arg);

/* Replace the attribute value RAW (as the HTML parser gave it) by TO
 * (already escaped for a URL). Before the first feed. -1 out of memory;
 * an empty or over-long RAW (16 KiB) is ignored. */
int page_rewrite_add(struct page_rewrite *rw, const char *raw, const char *to);

/* N more bytes of the page. 0, or -1 (out of memory, OUT refused). */
int page_rewrite_feed(void *rw, const unsigned char *p, size_t n);

/* The end of the page: what was held back goes out. 0 or -1. */
int page_rewrite_finish(struct page_rewrite *rw);

void page_rewrite_free(struct page_rewrite *rw);

#endif

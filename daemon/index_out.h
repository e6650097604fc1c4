/*
 * The index page's writer, shared by index_page.c (the page) and
 * index_verify.c (how to fetch and verify): a growing buffer with a
 * sticky error. Private to those files.
 */
#ifndef EMBERD_INDEX_OUT_H
#define EMBERD_INDEX_OUT_H

#include <stddef.h>

#include <jansson.h>

#include "index_page.h"

/*
 * The renderer keeps a sticky error so the page layout below reads as a
 * sequence of writes rather than a ladder of checks; after the first
 * failure every write is a no-op and render returns NULL.
 */
struct index_out {
	struct index_buf b;
	int failed;
};

int index_buf_add(struct index_buf *b, const char *s, size_t n);
/* S as is (our own markup). */
void out_s(struct index_out *o, const char *s);
/* S escaped for HTML. */
void out_h(struct index_out *o, const char *s);
/* A short formatted field (numbers). */
void out_f(struct index_out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A paragraph of our own words (HTML). */
void out_para(struct index_out *o, const char *html);
/* S escaped, cut to MAX bytes at a character boundary. */
void out_h_max(struct index_out *o, const char *s, size_t max);

/* A catalog string, or "" when the field is missing or not a string. */
const char *index_str(json_t *obj, const char *key);

/* "How to get and verify a copy": the key, and the curl, wget and aria2c
 * commands that work as pasted (index_verify.c). */
void index_verify(struct index_out *o, const struct index_page_info *info,
    json_t *items);

/* index_nav.c: the language links, the search form, the pager (PAGE of
 * PAGES) of the page INFO describes. */
void index_languages(struct index_out *o, const struct index_page_info *info,
    size_t page);
void index_search(struct index_out *o, const struct index_page_info *info);
void index_pager(struct index_out *o, const struct index_page_info *info,
    size_t page, size_t pages);

#endif

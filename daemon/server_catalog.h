/*
 * The catalog as `emberd run` serves it: catalog.json and its signature
 * byte for byte, parsed, indexed by object id, and the index page and
 * the feed rendered (and gzipped) once per catalog rather than per
 * request.
 */
#ifndef EMBERD_SERVER_CATALOG_H
#define EMBERD_SERVER_CATALOG_H

#include <pthread.h>
#include <stddef.h>

#include <jansson.h>

#include "index_page.h"

/* A page of the index in one language, and its gzip. */
struct server_page {
	char *html, *gz;
	size_t len, gz_len;
};

struct server_catalog {
	char target[64];	/* what `current` pointed at when loaded */
	json_t *cat;		/* NULL: no catalog yet */
	json_t *by_hash;	/* sha256 -> the first item with it */
	char *json, *sig;
	size_t json_len, sig_len;
	/* The index: what it shows besides the catalog, and its pages per
	 * language (index_n_langs x n_pages), each made on first use and
	 * kept with the catalog: memory bounded by languages x pages. */
	struct index_page_info page_info;
	char *self_url;			/* page_info's own copies: a */
	int langs[INDEX_LANGS_MAX];	/* reloaded config frees its own, */
	char pin[64];			/* a new certificate changes it */
	struct server_page *pages;
	size_t n_pages;
	char *feed, *feed_gz;	/* /feed.xml */
	size_t feed_len, feed_gz_len;
};

/*
 * Load the catalog ROOT/current points at into *OUT, unless it is
 * CUR_TARGET (what the catalog served now was loaded from; "" forces
 * it). Reads the files through the resolved folder so that the catalog
 * and its signature always belong together. INFO says what the index
 * page shows besides the catalog (its pubkey must outlive OUT, the
 * rest is copied; catalog, lang, page and query are ignored); its
 * self_url goes in the feed too. The first page in INFO's first language
 * is made here. 1 when *OUT holds a new catalog for the caller to swap
 * in; 0 when `current` has not moved, or on any error (logged): the old
 * catalog keeps serving.
 */
int server_catalog_load(const char *cur_target, const char *root,
    const struct index_page_info *info, struct server_catalog *out);

/*
 * Page PAGE (1-based; past the last is the last) of the index in LANG
 * (index_langs[]), filtered by QUERY (NULL or "": none). Without a query
 * it is C's cached page, made if need be under MU (readers on several
 * threads share C); with one it is made for this request into *TMP,
 * which the caller frees with server_page_free. NULL when out of memory.
 */
const struct server_page *server_catalog_index(struct server_catalog *c,
    int lang, size_t page, const char *query, struct server_page *tmp,
    pthread_mutex_t *mu);
void server_page_free(struct server_page *p);

void server_catalog_free(struct server_catalog *c);

#endif

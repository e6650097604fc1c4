/*
 * The catalog as `emberd run` serves it: catalog.json and its signature
 * byte for byte, parsed, indexed by object id, and the index page and
 * the feed rendered (and gzipped) once per catalog rather than per
 * request.
 */
#ifndef EMBERD_SERVER_CATALOG_H
#define EMBERD_SERVER_CATALOG_H

#include <stddef.h>

#include <jansson.h>

struct server_catalog {
	char target[64];	/* what `current` pointed at when loaded */
	json_t *cat;		/* NULL: no catalog yet */
	json_t *by_hash;	/* sha256 -> the first item with it */
	char *json, *sig, *index, *index_gz;
	size_t json_len, sig_len, index_len, index_gz_len;
	char *feed, *feed_gz;	/* /feed.xml */
	size_t feed_len, feed_gz_len;
};

/*
 * Load the catalog ROOT/current points at, unless it is the one CUR
 * holds (a TARGET of "" forces it). Reads the files through the resolved
 * folder so that the catalog and its signature always belong together.
 * PUBKEY and SELF_URL go on the index page, SELF_URL in the feed. On any error (logged) CUR
 * keeps what it had: the old catalog keeps serving.
 */
void server_catalog_load(struct server_catalog *cur, const char *root,
    const char *pubkey, const char *self_url);

void server_catalog_free(struct server_catalog *c);

#endif

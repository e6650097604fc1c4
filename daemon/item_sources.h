/*
 * Which [source] produced which catalog item, read from the crawler's
 * state (STORE/crawl/ID.json keeps the SHA-256 of each source's last good
 * copy): what `rm` must refuse (a source that would publish the item
 * again), what `crawl` warns of (items whose source left the config),
 * and what `rm --purge` removes besides the object (that state and its
 * kept partial bytes).
 */
#ifndef EMBERD_ITEM_SOURCES_H
#define EMBERD_ITEM_SOURCES_H

#include <jansson.h>

#include "config.h"
#include "store.h"

/* The configured source whose next crawl would publish the item NAME
 * (content SHA256) again: its `name` is NAME, or its last good copy is
 * that content. NULL when none. */
const struct config_source *item_sources_producer(const struct config *cfg,
    const struct store *st, const char *name, const char *sha256);

/* Log a warning for each item of CAT that a source no longer in the
 * config produced, saying how to take it down; the count. */
size_t item_sources_warn_orphans(const struct config *cfg, const struct store *st,
    json_t *cat);

/* Remove the crawler state (ID.json, ID.part) of every source whose last
 * good copy is one of HEXES (a JSON array of ids). The count removed. */
size_t item_sources_forget(const struct store *st, json_t *hexes);

#endif

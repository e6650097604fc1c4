/*
 * Small objects held in memory by a serving loop: their stored bytes,
 * checked against their SHA-256 when read, so that a request for an
 * object asked for often costs no open, read or close, and what is
 * served from memory is known to be right.
 *
 * One cache a loop, used on that loop only: no locks. What a response
 * still sends from an entry stays valid after the cache lets it go (a
 * reference each), so entries may be dropped at any time.
 */
#ifndef EMBERD_SERVER_CACHE_H
#define EMBERD_SERVER_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct server_cache;

struct cached_object {
	struct object_meta m;	/* without pieces */
	const uint8_t *data;	/* the stored bytes, m.stored_size of them */
};

/* An empty cache; NULL when out of memory. */
struct server_cache *server_cache_new(void);
/* Lets go of every entry; the ones still referenced live on until released. */
void server_cache_free(struct server_cache *sc);

/*
 * Object HEX, when held and checked against its file in the last
 * CACHE_VALID seconds: a reference, given back with
 * server_cache_release. NULL otherwise: open the object as usual and
 * offer it.
 */
const struct cached_object *server_cache_get(struct server_cache *sc, const char *hex);

/*
 * Object HEX has been opened as FD, its metadata M checked: held from
 * now on (and returned, a reference) when it is small and has been asked
 * for before; or, when already held and FD is still the file it was read
 * from, held CACHE_VALID seconds more. NULL when not held. When the
 * file's bytes do not match M's hash, NULL with ERR set (ERR is "" in
 * every other case): the object is bad.
 */
const struct cached_object *server_cache_offer(struct server_cache *sc, const char *hex,
    int fd, const struct object_meta *m, char *err, size_t errlen);

void server_cache_release(const struct cached_object *co);

#endif

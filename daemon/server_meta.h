/*
 * Parsed object metadata, by object id, for the server: an object's
 * metadata is read and checked once, not on every request for it.
 */
#ifndef EMBERD_SERVER_META_H
#define EMBERD_SERVER_META_H

#include <stddef.h>

#include "store.h"

struct server_meta;

/* An empty cache (about 200 KiB); NULL when out of memory. */
struct server_meta *server_meta_new(void);
void server_meta_free(struct server_meta *mc);

/*
 * The metadata (without pieces) of object HEX, open as FD: from MC (may
 * be NULL) while the file is the one it was read from, else read and
 * checked. -1 with ERR when it does not hold: it names another object,
 * or the file was written to since it was stored. Such an object is bad.
 */
int server_meta_get(struct server_meta *mc, int fd, const char *hex,
    struct object_meta *m, char *err, size_t errlen);

#endif

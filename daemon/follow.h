/*
 * Follower mode ([follow]): replicate a publisher's signed catalog from
 * peers that are not trusted.
 *
 * One pass: fetch catalog.json and its .minisig from every peer at once;
 * verify each signature with [follow] pubkey before parsing a byte of the
 * catalog; refuse a catalog older than the one held (rollback) or signed
 * by another key; take the newest. Then fetch the missing objects by
 * hash through the crawler (peers in turn, resumed across them, each
 * object's SHA-256 checked before it is visible), and only when all of
 * them are in the store, install the publisher's catalog and signature
 * byte for byte and remove the objects that left it. Until then the
 * previous good state is what is served.
 */
#ifndef EMBERD_FOLLOW_H
#define EMBERD_FOLLOW_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "config.h"
#include "crawl.h"
#include "minisign.h"
#include "store.h"

struct follower;

struct follower *follower_new(struct event_base *base, struct store *st,
    struct crawler *cr);

/* Start a pass (what it needs of CFG is copied). DONE gets the totals:
 * fetched objects, and failed > 0 when the pass did not end with the
 * newest valid catalog installed and complete. */
int follower_pass(struct follower *f, const struct config *cfg, crawl_done_fn done,
    void *arg, char *err, size_t errlen);

int follower_busy(const struct follower *f);

/*
 * Install B (a peer's catalog that peers_choose took: verified, not
 * older, every object in ST) as the publisher signed it, then remove the
 * objects that neither it nor (without PURGE) the catalog it replaces
 * lists. Also `emberd import`'s last step. 0, or -1 logged.
 */
struct peer;
int follow_install(struct store *st, const struct peer *b, int purge);

/* Abort a pass (objects fetched so far stay) and free. */
void follower_free(struct follower *f);

#endif

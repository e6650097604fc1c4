#ifndef EMBERD_CRAWL_H
#define EMBERD_CRAWL_H

#include <stddef.h>

#include <event2/event.h>

#include "config.h"
#include "crawl_headers.h"
#include "store.h"

/*
 * The crawler: fetches every [source] of the config with libcurl's
 * multi_socket interface on the caller's libevent loop (so a server on
 * the same loop keeps answering), streams the bytes through the ingest
 * sink, checks pins, and publishes the catalog as items complete.
 *
 * Per source it keeps, in STORE/crawl/: ID.json (validators and the
 * last good copy's digest, for conditional requests) and, while a
 * transfer is unfinished, ID.part (the bytes so far, for a Range resume).
 */

struct crawler;

struct crawl_totals {
	unsigned fetched, unchanged, failed;
};

typedef void (*crawl_done_fn)(void *arg, const struct crawl_totals *t);

struct crawler *crawler_new(struct event_base *base, struct store *st,
    char *err, size_t errlen);

/*
 * Start one pass over CFG's sources (what it needs is copied: CFG may be
 * reloaded meanwhile). DONE is called once every source has an outcome
 * and the catalog is published. -1 with ERR when a pass cannot start
 * (one is running, here or in another process on this store).
 */
int crawler_pass(struct crawler *cr, const struct config *cfg, crawl_done_fn done,
    void *arg, char *err, size_t errlen);

/*
 * A follower's sync: fetch the objects OBJS (missing from the store) from
 * PEERS (base URLs ending in '/'), as PEER/sha256/ID, trying the peers in
 * turn and resuming a cut transfer at the next one with Range; each
 * object must be SIZE bytes hashing to ID. Objects are committed to the
 * store; the catalog is left alone (the follower installs the
 * publisher's). [crawl]'s concurrency, per_host, proxy, timeout and
 * user_agent apply. DONE as for crawler_pass.
 */
struct crawl_object {
	const char *sha256, *name, *type;
	uint64_t size;
};

int crawler_sync(struct crawler *cr, const struct config *cfg,
    char *const *peers, size_t n_peers, const struct crawl_object *objs, size_t n,
    crawl_done_fn done, void *arg, char *err, size_t errlen);

/*
 * GET URL into memory, at most MAX bytes, on the crawler's loop (a pass
 * may run or not). FN gets the body (NUL-terminated) when the answer is
 * 200, else body NULL and ERR saying why ("HTTP 404", "larger than MAX
 * bytes", a transfer error). TLS_VERIFY 0 accepts any certificate. The
 * config gives proxy, timeout and user agent.
 */
typedef void (*crawl_get_fn)(void *arg, const char *body, size_t len, const char *err);

int crawler_get(struct crawler *cr, const struct config *cfg, const char *url,
    size_t max, int tls_verify, crawl_get_fn fn, void *arg);

int crawler_busy(const struct crawler *cr);

/* Abort what is running (kept bytes stay for a resume) and free. */
void crawler_free(struct crawler *cr);

#endif

#ifndef EMBERD_CRAWL_H
#define EMBERD_CRAWL_H

#include <stddef.h>

#include <event2/event.h>

#include "config.h"
#include "crawl_headers.h"
#include "publish.h"
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

/*
 * How a pass fetches: [crawl]'s limits, and [follow] tls_verify for a
 * follower's peers. The strings are the caller's; a pass copies what it
 * keeps, so the config behind them may be reloaded meanwhile.
 */
struct crawl_options {
	unsigned concurrency;		/* transfers at once, at least 1 */
	unsigned per_host;		/* ...to one host */
	uint64_t max_size;		/* bytes per object */
	long timeout;			/* seconds without progress */
	const char *proxy;		/* NULL: none */
	const char *user_agent;		/* NULL: libcurl's */
	int tls_verify;			/* 0: accept a peer's self-signed certificate */
	const char *ca_file;		/* NULL: the system's trust store only */
};

/* The options CFG asks for (pointing into CFG). */
void crawl_options_init(struct crawl_options *o, const struct config *cfg);

struct crawler *crawler_new(struct event_base *base, struct store *st,
    char *err, size_t errlen);

/*
 * Start one pass over the N sources SRC with OPT (both copied: the config
 * may be reloaded meanwhile), publishing into the catalog with SETTINGS,
 * which the pass takes over (*SETTINGS is left empty, also on failure).
 * DONE is called once every source has an outcome and the catalog is
 * published. -1 with ERR when a pass cannot start (one is running, here
 * or in another process on this store).
 */
int crawler_pass(struct crawler *cr, const struct crawl_options *opt,
    const struct config_source *src, size_t n, struct publish_settings *settings,
    crawl_done_fn done, void *arg, char *err, size_t errlen);

/*
 * A follower's sync: fetch the objects OBJS (missing from the store) from
 * PEERS (base URLs ending in '/'), as PEER/sha256/ID, trying the peers in
 * turn (peers_turn_next) and resuming a cut transfer at the next one
 * with Range; each object must be SIZE bytes hashing to ID. Objects are
 * committed to the store; the catalog is left alone (the follower
 * installs the publisher's). DONE as for crawler_pass.
 */
struct crawl_object {
	const char *sha256, *name, *type;
	uint64_t size;
};

/* The peers of the next sync, as the follower chose them (kept by the
 * caller until the sync ends): large objects then come in ranges from
 * those with the newest catalog at once (crawl_ranges.c). */
struct peers;
void crawler_sync_peers(struct crawler *cr, const struct peers *ps);

int crawler_sync(struct crawler *cr, const struct crawl_options *opt,
    char *const *peers, size_t n_peers, const struct crawl_object *objs, size_t n,
    crawl_done_fn done, void *arg, char *err, size_t errlen);

/*
 * GET URL into memory, at most MAX bytes, on the crawler's loop (a pass
 * may run or not). FN gets the body (NUL-terminated) when the answer is
 * 200, else body NULL and ERR saying why ("HTTP 404", "larger than MAX
 * bytes", a transfer error). OPT gives proxy, timeout, user agent and
 * whether to verify the certificate.
 */
typedef void (*crawl_get_fn)(void *arg, const char *body, size_t len, const char *err);

int crawler_get(struct crawler *cr, const struct crawl_options *opt, const char *url,
    size_t max, crawl_get_fn fn, void *arg);

int crawler_busy(const struct crawler *cr);

/*
 * FN hears of each [source] of a crawl pass (not a follower's sync) as it
 * ends fetched or unchanged, with the source's id: the times /metrics
 * shows as each source's last success. FN NULL: nobody.
 */
typedef void (*crawl_source_fn)(void *arg, const char *id);
void crawler_on_source_ok(struct crawler *cr, crawl_source_fn fn, void *arg);

/* Abort what is running (kept bytes stay for a resume) and free. */
void crawler_free(struct crawler *cr);

#endif

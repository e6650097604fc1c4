/*
 * The counters `emberd run` keeps for GET /metrics, what is read at the
 * moment of a scrape (the catalog's times and size, the store's bytes
 * and free space, the last successes), and their text in Prometheus'
 * exposition format. Each event loop counts its requests in its own
 * struct metrics (metrics_count, metrics_add: relaxed atomics, as the
 * main loop reads them with metrics_get to sum them for a scrape); the
 * main loop's also holds the crawl's results and the store's sizes.
 */
#ifndef EMBERD_METRICS_H
#define EMBERD_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "schedule.h"
#include "workq.h"

struct metrics {
	uint64_t responses[6];	/* by status class: 1xx..5xx */
	uint64_t requests;
	uint64_t bytes;
	uint64_t streams_done, streams_aborted;
	uint64_t crawl_fetched, crawl_unchanged, crawl_failed;
	uint64_t quarantined;	/* found bad when opened */
	/* The sum of the object files, cached: a scrape reads the folder at
	 * most once per METRICS_STORE_EVERY, or when the catalog moved (what
	 * changes the store publishes a catalog, but gc). */
	uint64_t store_bytes, store_objects;
	int64_t store_read_at;	/* monotonic s; 0: never */
	long long store_seq;	/* the catalog sequence at that read */
};

/* What is read at the moment of the request rather than counted. */
struct metrics_now {
	unsigned connections, downloads;
	size_t items;
	long long sequence;
	uint64_t scrub_checked, scrub_bad;
	unsigned workq_pending[WORKQ_TYPES];	/* jobs queued or running */
	int64_t now;				/* Unix s, the scrape's */
	uint64_t catalog_bytes;			/* the items' sizes, summed */
	int64_t generated, expires;		/* Unix s; -1: no catalog / no expires */
	uint64_t store_bytes, store_objects;
	int64_t free_bytes;			/* -1: statvfs failed */
	uint64_t min_free;			/* [mirror] min_free; 0: off */
	const struct schedule_success *ok;	/* last successes by [source] */
	size_t n_ok;
	int follower;				/* sync_ok is meaningful */
	int64_t sync_ok;			/* 0: none yet */
	unsigned workers;			/* event loops serving; 0: none listed */
	const unsigned *worker_ids;		/* their numbers (0: the main loop) */
	const uint64_t *worker_requests;	/* by loop: requests read */
	const unsigned *worker_connections;	/* by loop: open now */
};

/* One response with status CODE and BYTES of body. */
void metrics_count(struct metrics *m, int code, uint64_t bytes);

/* A counter of one loop: added to by its loop, read by any. */
static inline void
metrics_add(uint64_t *counter, uint64_t n)
{
	/* One writer: a load and a store, no locked instruction. */
	__atomic_store_n(counter, __atomic_load_n(counter, __ATOMIC_RELAXED) + n,
	    __ATOMIC_RELAXED);
}

static inline uint64_t
metrics_get(const uint64_t *counter)
{
	return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

/*
 * Fill the parts of NOW read at a scrape: the catalog CAT's items, bytes
 * and times (NULL: none), the store at ROOT (the object files' sizes,
 * cached in M: read again after METRICS_STORE_EVERY seconds or a new
 * catalog; free space),
 * MIN_FREE, and the last successes SC knows (NULL: none).
 */
#define METRICS_STORE_EVERY	10
void metrics_read(struct metrics *m, struct metrics_now *now, json_t *cat,
    const char *root, uint64_t min_free, const struct schedule *sc);

/*
 * An RFC 3339 time ("2026-12-04T03:25:00Z", "...T03:25:00.5+08:00")
 * as Unix seconds (a fraction dropped); -1 when malformed.
 */
int64_t metrics_parse_time(const char *s);

/* The exposition text, malloc'd, its length in *LEN; NULL out of memory. */
char *metrics_text(const struct metrics *m, const struct metrics_now *now, size_t *len);

#endif

/*
 * The counters `emberd run` keeps for GET /metrics, and their text in
 * Prometheus' exposition format. Counted on the loop only.
 */
#ifndef EMBERD_METRICS_H
#define EMBERD_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "workq.h"

struct metrics {
	uint64_t responses[6];	/* by status class: 1xx..5xx */
	uint64_t requests;
	uint64_t bytes;
	uint64_t streams_done, streams_aborted;
	uint64_t crawl_fetched, crawl_unchanged, crawl_failed;
	uint64_t quarantined;	/* found bad when opened */
};

/* What is read at the moment of the request rather than counted. */
struct metrics_now {
	unsigned connections, downloads;
	size_t items;
	long long sequence;
	uint64_t scrub_checked, scrub_bad;
	unsigned workq_pending[WORKQ_TYPES];	/* jobs queued or running */
};

/* One response with status CODE and BYTES of body. */
void metrics_count(struct metrics *m, int code, uint64_t bytes);

/* The exposition text, malloc'd, its length in *LEN; NULL out of memory. */
char *metrics_text(const struct metrics *m, const struct metrics_now *now, size_t *len);

#endif

/*
 * GET /metrics (see metrics.h): the counters and their one text format.
 */
#include "metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
metrics_count(struct metrics *m, int code, uint64_t bytes)
{
	int cls = code / 100;

	if (cls >= 1 && cls <= 5)
		m->responses[cls]++;
	m->bytes += bytes;
}

/* The work queue's lines, one per job type, into BUF; their length, or
 * -1 if BUF is too small. */
static int
metrics_workq(const struct metrics_now *now, char *buf, size_t size)
{
	size_t off = 0;
	unsigned t;
	int n;

	n = snprintf(buf, size,
	    "# HELP emberd_workq_pending Work queue jobs queued or running, by type.\n"
	    "# TYPE emberd_workq_pending gauge\n");
	if (n < 0 || (size_t)n >= size)
		return -1;
	off = (size_t)n;
	for (t = 0; t < WORKQ_TYPES; t++) {
		n = snprintf(buf + off, size - off, "emberd_workq_pending{type=\"%s\"} %u\n",
		    workq_type_name((enum workq_type)t), now->workq_pending[t]);
		if (n < 0 || (size_t)n >= size - off)
			return -1;
		off += (size_t)n;
	}
	return (int)off;
}

char *
metrics_text(const struct metrics *m, const struct metrics_now *now, size_t *len)
{
	char *text = NULL, *grown, wq[512];
	int n, nwq;

	n = asprintf(&text,
	    "# HELP emberd_requests_total HTTP requests answered, by status class.\n"
	    "# TYPE emberd_requests_total counter\n"
	    "emberd_requests_total{code=\"1xx\"} %llu\n"
	    "emberd_requests_total{code=\"2xx\"} %llu\n"
	    "emberd_requests_total{code=\"3xx\"} %llu\n"
	    "emberd_requests_total{code=\"4xx\"} %llu\n"
	    "emberd_requests_total{code=\"5xx\"} %llu\n"
	    "# HELP emberd_sent_bytes_total Response body bytes sent or queued.\n"
	    "# TYPE emberd_sent_bytes_total counter\n"
	    "emberd_sent_bytes_total %llu\n"
	    "# HELP emberd_connections Open client connections.\n"
	    "# TYPE emberd_connections gauge\n"
	    "emberd_connections %u\n"
	    "# HELP emberd_downloads_active Objects being streamed now.\n"
	    "# TYPE emberd_downloads_active gauge\n"
	    "emberd_downloads_active %u\n"
	    "# HELP emberd_downloads_total Object downloads, by outcome.\n"
	    "# TYPE emberd_downloads_total counter\n"
	    "emberd_downloads_total{result=\"complete\"} %llu\n"
	    "emberd_downloads_total{result=\"aborted\"} %llu\n"
	    "# HELP emberd_catalog_items Items in the served catalog.\n"
	    "# TYPE emberd_catalog_items gauge\n"
	    "emberd_catalog_items %zu\n"
	    "# HELP emberd_catalog_sequence Sequence of the served catalog.\n"
	    "# TYPE emberd_catalog_sequence gauge\n"
	    "emberd_catalog_sequence %lld\n"
	    "# HELP emberd_crawl_results_total Crawl results, by outcome.\n"
	    "# TYPE emberd_crawl_results_total counter\n"
	    "emberd_crawl_results_total{result=\"fetched\"} %llu\n"
	    "emberd_crawl_results_total{result=\"unchanged\"} %llu\n"
	    "emberd_crawl_results_total{result=\"failed\"} %llu\n"
	    "# HELP emberd_objects_quarantined_total Objects found bad and set aside.\n"
	    "# TYPE emberd_objects_quarantined_total counter\n"
	    "emberd_objects_quarantined_total{by=\"open\"} %llu\n"
	    "emberd_objects_quarantined_total{by=\"scrub\"} %llu\n"
	    "# HELP emberd_scrub_checked_total Objects re-hashed by the background scrub.\n"
	    "# TYPE emberd_scrub_checked_total counter\n"
	    "emberd_scrub_checked_total %llu\n",
	    (unsigned long long)m->responses[1], (unsigned long long)m->responses[2],
	    (unsigned long long)m->responses[3], (unsigned long long)m->responses[4],
	    (unsigned long long)m->responses[5], (unsigned long long)m->bytes,
	    now->connections, now->downloads, (unsigned long long)m->streams_done,
	    (unsigned long long)m->streams_aborted, now->items, now->sequence,
	    (unsigned long long)m->crawl_fetched, (unsigned long long)m->crawl_unchanged,
	    (unsigned long long)m->crawl_failed, (unsigned long long)m->quarantined,
	    (unsigned long long)now->scrub_bad, (unsigned long long)now->scrub_checked);
	if (n == -1)
		return NULL;
	if ((nwq = metrics_workq(now, wq, sizeof(wq))) == -1 ||
	    (grown = realloc(text, (size_t)n + (size_t)nwq + 1)) == NULL) {
		free(text);
		return NULL;
	}
	memcpy(grown + n, wq, (size_t)nwq + 1);
	*len = (size_t)n + (size_t)nwq;
	return grown;
}

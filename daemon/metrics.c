/*
 * GET /metrics (see metrics.h): the counters, what a scrape reads (the
 * catalog, the store, the last successes) and their one text format.
 */
#include "metrics.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

void
metrics_count(struct metrics *m, int code, uint64_t bytes)
{
	int cls = code / 100;

	if (cls >= 1 && cls <= 5)
		metrics_add(&m->responses[cls], 1);
	metrics_add(&m->bytes, bytes);
}

/* ---- what a scrape reads ---- */

int64_t
metrics_parse_time(const char *s)
{
	struct tm tm;
	int y, mo, d, h, mi, sec, n = 0, oh, om;
	int64_t t;

	if (s == NULL || sscanf(s, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi,
	    &sec, &n) != 6 || n != 19 || mo < 1 || mo > 12 || d < 1 || d > 31 ||
	    h > 23 || mi > 59 || sec > 60)
		return -1;
	s += n;
	if (*s == '.') {	/* a fraction: whole seconds are enough here */
		for (s++; *s >= '0' && *s <= '9'; s++)
			;
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = (int64_t)timegm(&tm);
	if ((*s == 'Z' || *s == 'z') && s[1] == '\0')
		return t;
	if ((*s == '+' || *s == '-') && sscanf(s + 1, "%2d:%2d%n", &oh, &om, &n) == 2 &&
	    n == 5 && s[6] == '\0' && oh <= 23 && om <= 59)
		return *s == '+' ? t - (oh * 3600 + om * 60) : t + (oh * 3600 + om * 60);
	return -1;
}

/*
 * The object files of ROOT/objects: their sizes summed, and how many.
 * O(objects): a readdir and an fstatat each, on the loop, which is why
 * the caller caches it. Temp files (".tmp-*") do not count. -1 when the
 * folder cannot be read.
 */
static int
metrics_store_sum(const char *root, uint64_t *bytes, uint64_t *count)
{
	char path[4096];
	struct dirent *de;
	struct stat st;
	DIR *dir;

	snprintf(path, sizeof(path), "%s/objects", root);
	if ((dir = opendir(path)) == NULL)
		return -1;
	*bytes = *count = 0;
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.' ||
		    fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    !S_ISREG(st.st_mode))
			continue;
		*bytes += (uint64_t)st.st_size;
		(*count)++;
	}
	closedir(dir);
	return 0;
}

void
metrics_read(struct metrics *m, struct metrics_now *now, json_t *cat, const char *root,
    uint64_t min_free, const struct schedule *sc)
{
	struct timespec mono;
	struct statvfs vfs;
	json_t *item;
	size_t i;

	now->now = (int64_t)time(NULL);
	now->items = json_array_size(json_object_get(cat, "items"));
	now->sequence = json_integer_value(json_object_get(cat, "sequence"));
	now->catalog_bytes = 0;
	json_array_foreach(json_object_get(cat, "items"), i, item)
		now->catalog_bytes += (uint64_t)json_integer_value(json_object_get(item, "size"));
	now->generated = metrics_parse_time(json_string_value(json_object_get(cat, "generated")));
	now->expires = metrics_parse_time(json_string_value(json_object_get(cat, "expires")));

	clock_gettime(CLOCK_MONOTONIC, &mono);
	if (m->store_read_at == 0 || mono.tv_sec - m->store_read_at >= METRICS_STORE_EVERY ||
	    m->store_seq != now->sequence) {
		if (metrics_store_sum(root, &m->store_bytes, &m->store_objects) == 0) {
			m->store_read_at = mono.tv_sec > 0 ? mono.tv_sec : 1;
			m->store_seq = now->sequence;
		}
	}
	now->store_bytes = m->store_bytes;
	now->store_objects = m->store_objects;
	now->free_bytes = statvfs(root, &vfs) == 0 ?
	    (int64_t)((uint64_t)vfs.f_bavail * vfs.f_frsize) : -1;
	now->min_free = min_free;
	schedule_successes(sc, &now->ok, &now->n_ok, &now->sync_ok);
}

/* ---- the text ---- */

/* A label value as the exposition format quotes it: \, " and newline
 * escaped. Source ids are config section names, checked, but cheap to
 * be sure of. */
static void
metrics_label(FILE *f, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', f);
		if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

/* One metric with its HELP and TYPE lines and a single sample. */
static void
metrics_gauge(FILE *f, const char *name, const char *help, long long v)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n%s %lld\n", name, help, name, name, v);
}

/* The catalog's times and size, the store, the last successes. */
static void
metrics_state(FILE *f, const struct metrics_now *now)
{
	size_t i;

	metrics_gauge(f, "emberd_catalog_bytes",
	    "Sum of the sizes of the served catalog's items (as emberd ls --json lists them).",
	    (long long)now->catalog_bytes);
	if (now->generated >= 0) {
		metrics_gauge(f, "emberd_catalog_generated_timestamp_seconds",
		    "When the served catalog was signed (its generated field), Unix time.",
		    (long long)now->generated);
		metrics_gauge(f, "emberd_catalog_age_seconds",
		    "Seconds since the served catalog was signed.",
		    (long long)(now->now - now->generated));
	}
	if (now->expires >= 0)
		metrics_gauge(f, "emberd_catalog_expires_timestamp_seconds",
		    "When the served catalog expires (its expires field), Unix time.",
		    (long long)now->expires);
	metrics_gauge(f, "emberd_store_bytes",
	    "Sizes of the object files in the store, summed (read again after 10 s or a new catalog).",
	    (long long)now->store_bytes);
	metrics_gauge(f, "emberd_store_objects", "Object files in the store.",
	    (long long)now->store_objects);
	if (now->free_bytes >= 0)
		metrics_gauge(f, "emberd_store_free_bytes",
		    "Bytes free for emberd on the store's file system (statvfs f_bavail).",
		    (long long)now->free_bytes);
	metrics_gauge(f, "emberd_store_min_free_bytes",
	    "[mirror] min_free: crawls and syncs pause below this free space (0: off).",
	    (long long)now->min_free);
	if (now->n_ok > 0)
		fprintf(f, "# HELP emberd_crawl_last_success_timestamp_seconds When each source last "
		    "ended a crawl fetched or unchanged, Unix time (since emberd run started).\n"
		    "# TYPE emberd_crawl_last_success_timestamp_seconds gauge\n");
	for (i = 0; i < now->n_ok; i++) {
		fputs("emberd_crawl_last_success_timestamp_seconds{source=\"", f);
		metrics_label(f, now->ok[i].id);
		fprintf(f, "\"} %lld\n", (long long)now->ok[i].at);
	}
	if (now->follower && now->sync_ok > 0)
		metrics_gauge(f, "emberd_sync_last_success_timestamp_seconds",
		    "When a sync last installed or confirmed the publisher's whole catalog, "
		    "Unix time (since emberd run started).", (long long)now->sync_ok);
}

char *
metrics_text(const struct metrics *m, const struct metrics_now *now, size_t *len)
{
	char *text = NULL;
	FILE *f;
	unsigned t;

	/* A stream into memory: the text grows with the sources. */
	if ((f = open_memstream(&text, len)) == NULL)
		return NULL;
	fprintf(f,
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
#ifdef __GLIBC__
	{
		/* What is allocated now, apart from what the allocator keeps
		 * for reuse: a leak shows here, fragmentation does not. */
		struct mallinfo2 mi = mallinfo2();
		metrics_gauge(f, "emberd_heap_in_use_bytes", "Heap bytes allocated "
		    "and not freed (glibc mallinfo2: arenas and mmapped blocks).",
		    (long long)(mi.uordblks + mi.hblkhd));
	}
#endif
	fprintf(f, "# HELP emberd_workq_pending Work queue jobs queued or running, by type.\n"
	    "# TYPE emberd_workq_pending gauge\n");
	for (t = 0; t < WORKQ_TYPES; t++)
		fprintf(f, "emberd_workq_pending{type=\"%s\"} %u\n",
		    workq_type_name((enum workq_type)t), now->workq_pending[t]);
	if (now->workers > 0) {
		metrics_gauge(f, "emberd_workers",
		    "Event loops serving connections ([https]/[http] workers).",
		    (long long)now->workers);
		fprintf(f, "# HELP emberd_worker_requests_total Requests read, by event loop "
		    "(0: the main loop, serving alone; workers from 1).\n"
		    "# TYPE emberd_worker_requests_total counter\n");
		for (t = 0; t < now->workers; t++)
			fprintf(f, "emberd_worker_requests_total{worker=\"%u\"} %llu\n",
			    now->worker_ids[t], (unsigned long long)now->worker_requests[t]);
		fprintf(f, "# HELP emberd_worker_connections Open client connections, by "
		    "event loop.\n"
		    "# TYPE emberd_worker_connections gauge\n");
		for (t = 0; t < now->workers; t++)
			fprintf(f, "emberd_worker_connections{worker=\"%u\"} %u\n",
			    now->worker_ids[t], now->worker_connections[t]);
	}
	metrics_state(f, now);
	if (ferror(f)) {
		fclose(f);
		free(text);
		return NULL;
	}
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

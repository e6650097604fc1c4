/*
 * /metrics text: RFC 3339 times as catalogs carry them, the lines a
 * scrape adds (catalog times and bytes, store, last successes) and
 * label escaping.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "check.h"

static void
test_parse_time(void)
{
	CHECK(metrics_parse_time("1970-01-01T00:00:00Z") == 0);
	CHECK(metrics_parse_time("2026-12-04T03:25:00Z") == 1796354700);
	CHECK(metrics_parse_time("2026-12-04t03:25:00z") == 1796354700);
	CHECK(metrics_parse_time("2026-12-04T03:25:00.75Z") == 1796354700);
	CHECK(metrics_parse_time("2026-12-04T11:25:00+08:00") == 1796354700);
	CHECK(metrics_parse_time("2026-12-03T22:55:00-04:30") == 1796354700);
	CHECK(metrics_parse_time("2024-02-29T00:00:00Z") == 1709164800);
	CHECK(metrics_parse_time(NULL) == -1);
	CHECK(metrics_parse_time("") == -1);
	CHECK(metrics_parse_time("2026-12-04T03:25:00") == -1);	/* no offset */
	CHECK(metrics_parse_time("2026-12-04T03:25:00Zjunk") == -1);
	CHECK(metrics_parse_time("2026-13-04T03:25:00Z") == -1);
	CHECK(metrics_parse_time("2026-12-04T24:00:00Z") == -1);
	CHECK(metrics_parse_time("2026-12-04T03:25:00+0800") == -1);
	CHECK(metrics_parse_time("26-12-04T03:25:00Z") == -1);
}

static int
has_line(const char *text, const char *line)
{
	const char *p = text;
	size_t n = strlen(line);

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
		p += n;
	}
	fprintf(stderr, "no line '%s'\n", line);
	return 0;
}

static void
test_text(void)
{
	struct metrics m;
	struct schedule_success ok[2] = { { "voice", 1796354000 }, { "a\"b\\c", 1796354100 } };
	struct metrics_now now;
	uint64_t reqs[2] = { 7, 35 };
	unsigned conns[2] = { 1, 0 }, ids[2] = { 1, 2 };
	char *text;
	size_t len;

	memset(&m, 0, sizeof(m));
	memset(&now, 0, sizeof(now));
	now.now = 1796354700;
	now.items = 2;
	now.catalog_bytes = 123456;
	now.generated = 1796354600;
	now.expires = 1798946600;
	now.store_bytes = 99999;
	now.store_objects = 2;
	now.free_bytes = 5000000000LL;
	now.min_free = 1073741824;
	now.ok = ok;
	now.n_ok = 2;
	now.follower = 1;
	now.sync_ok = 1796354650;
	now.workers = 2;
	now.worker_ids = ids;
	now.worker_requests = reqs;
	now.worker_connections = conns;
	if ((text = metrics_text(&m, &now, &len)) == NULL) {
		CHECK(!"metrics_text failed");
		return;
	}
	CHECK(strlen(text) == len);
	CHECK(has_line(text, "emberd_catalog_items 2"));
	CHECK(has_line(text, "emberd_catalog_bytes 123456"));
	CHECK(has_line(text, "emberd_catalog_generated_timestamp_seconds 1796354600"));
	CHECK(has_line(text, "emberd_catalog_age_seconds 100"));
	CHECK(has_line(text, "emberd_catalog_expires_timestamp_seconds 1798946600"));
	CHECK(has_line(text, "emberd_store_bytes 99999"));
	CHECK(has_line(text, "emberd_store_objects 2"));
	CHECK(has_line(text, "emberd_store_free_bytes 5000000000"));
	CHECK(has_line(text, "emberd_store_min_free_bytes 1073741824"));
	CHECK(has_line(text, "emberd_crawl_last_success_timestamp_seconds{source=\"voice\"} 1796354000"));
	CHECK(has_line(text,
	    "emberd_crawl_last_success_timestamp_seconds{source=\"a\\\"b\\\\c\"} 1796354100"));
	CHECK(has_line(text, "emberd_sync_last_success_timestamp_seconds 1796354650"));
	CHECK(has_line(text, "# TYPE emberd_catalog_age_seconds gauge"));
	CHECK(has_line(text, "emberd_workers 2"));
	CHECK(has_line(text, "emberd_worker_requests_total{worker=\"1\"} 7"));
	CHECK(has_line(text, "emberd_worker_requests_total{worker=\"2\"} 35"));
	CHECK(has_line(text, "# TYPE emberd_worker_requests_total counter"));
	CHECK(has_line(text, "emberd_worker_connections{worker=\"1\"} 1"));
	CHECK(has_line(text, "emberd_worker_connections{worker=\"2\"} 0"));
	free(text);

	/* No catalog, no expires, statvfs failed, no successes: those lines
	 * are left out rather than given a made-up value. */
	now.generated = now.expires = now.free_bytes = -1;
	now.n_ok = 0;
	now.follower = 0;
	now.workers = 0;
	if ((text = metrics_text(&m, &now, &len)) == NULL) {
		CHECK(!"metrics_text failed");
		return;
	}
	CHECK(strstr(text, "emberd_catalog_generated") == NULL);
	CHECK(strstr(text, "emberd_catalog_age") == NULL);
	CHECK(strstr(text, "emberd_catalog_expires") == NULL);
	CHECK(strstr(text, "emberd_store_free_bytes") == NULL);
	CHECK(strstr(text, "last_success") == NULL);
	CHECK(strstr(text, "emberd_worker") == NULL);
	CHECK(has_line(text, "emberd_store_bytes 99999"));
	free(text);
}

int
main(void)
{
	test_parse_time();
	test_text();
	CHECK_DONE();
}

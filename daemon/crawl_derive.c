/*
 * Remuxes of HLS captures (crawl_job.h): asked for as captures finish (or
 * are found unchanged), run when every transfer of the pass is over,
 * since a video and its separate audio may finish in any order; each a
 * work-queue job that runs emberd-remux (remux_run.h) and ingests the
 * MP4 it wrote, which joins the catalog with "derived_from".
 */
#include "crawl_job.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "log.h"
#include "remux_run.h"
#include "workq.h"

struct crawl_derive {
	char *source_id;	/* for log lines */
	char *name;		/* the item to make */
	char *keys[2];		/* state keys of the inputs */
	char sha[2][65];
	size_t n;
	char *lang, *title, *source_url;
	/* the work */
	struct crawler *cr;
	struct ingest *out;
	char err[ERRLEN];
	struct crawl_derive *next;
};

void
crawler_derive_add(struct crawler *cr, const char *source_id, const char *name,
    const char *const *keys, size_t n, const char *lang, const char *title)
{
	struct crawl_derive *d, *o;
	size_t i;

	if (!remux_run_available() || n == 0 || n > 2)
		return;
	for (o = cr->derives; o != NULL; o = o->next)
		if (strcmp(o->name, name) == 0)
			return;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return;
	d->source_id = strdup(source_id);
	d->name = strdup(name);
	d->lang = xstrdup(lang);
	d->title = xstrdup(title);
	for (i = 0; i < n; i++)
		d->keys[i] = strdup(keys[i]);
	d->n = n;
	d->cr = cr;
	d->next = cr->derives;
	cr->derives = d;
}

static void
derive_free(struct crawl_derive *d)
{
	size_t i;

	free(d->source_id);
	free(d->name);
	for (i = 0; i < 2; i++)
		free(d->keys[i]);
	free(d->lang);
	free(d->title);
	free(d->source_url);
	ingest_free(d->out);
	free(d);
}

void
crawler_derive_free(struct crawler *cr)
{
	struct crawl_derive *d, *n;

	for (d = cr->derives; d != NULL; d = n) {
		n = d->next;
		derive_free(d);
	}
	cr->derives = NULL;
}

/* On a worker: the inputs remuxed into a temp file, which is ingested. */
static void
derive_work(void *arg)
{
	struct crawl_derive *d = arg;
	struct remux_input in[2];
	struct object_meta m;
	char *tmp = NULL, err[ERRLEN];
	int fds[2] = { -1, -1 }, ofd = -1;
	size_t i;

	memset(&m, 0, sizeof(m));
	for (i = 0; i < d->n; i++) {
		char *path = store_object_path(d->cr->st, d->sha[i]);
		fds[i] = path != NULL ? open(path, O_RDONLY | O_CLOEXEC) : -1;
		free(path);
		if (fds[i] == -1 || store_meta_read_fd(fds[i], &m, err, sizeof(err)) == -1 ||
		    lseek(fds[i], 0, SEEK_SET) == -1) {
			snprintf(d->err, sizeof(d->err), "cannot open the capture %s", d->sha[i]);
			store_meta_free(&m);
			goto out;
		}
		in[i] = (struct remux_input){ .fd = fds[i], .len = m.stored_size, .gzip = m.gzip };
		store_meta_free(&m);
	}
	if (asprintf(&tmp, "%s/remux-XXXXXX", d->cr->dir) == -1 ||
	    (ofd = mkstemp(tmp)) == -1) {
		snprintf(d->err, sizeof(d->err), "cannot make a temp file: %s", strerror(errno));
		goto out;
	}
	close(ofd);
	ofd = -1;
	if (remux_run(in, d->n, tmp, d->err, sizeof(d->err)) == -1)
		goto out;
	if ((ofd = open(tmp, O_RDONLY | O_CLOEXEC)) == -1 ||
	    (d->out = ingest_new(d->cr->st, 0, err, sizeof(err))) == NULL) {
		snprintf(d->err, sizeof(d->err), "cannot read the remuxed file");
		goto out;
	}
	/* Compressed media: the deflate trial would only cost. */
	ingest_store_raw(d->out);
	for (;;) {
		size_t want = 0;
		void *buf = ingest_reserve(d->out, &want);
		ssize_t n;
		if (buf == NULL) {
			snprintf(d->err, sizeof(d->err), "%s", ingest_error(d->out));
			goto out;
		}
		n = read(ofd, buf, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ingest_produce(d->out, 0);
			if (n < 0)
				snprintf(d->err, sizeof(d->err), "read: %s", strerror(errno));
			break;
		}
		if (ingest_produce(d->out, (size_t)n) == -1) {
			snprintf(d->err, sizeof(d->err), "%s", ingest_error(d->out));
			goto out;
		}
	}
	if (d->err[0] == '\0' && ingest_finish(d->out) == -1)
		snprintf(d->err, sizeof(d->err), "%s", ingest_error(d->out));
out:
	for (i = 0; i < 2; i++)
		if (fds[i] != -1)
			close(fds[i]);
	if (ofd != -1)
		close(ofd);
	if (tmp != NULL) {
		unlink(tmp);
		free(tmp);
	}
	if (d->err[0] != '\0') {
		ingest_free(d->out);
		d->out = NULL;
	}
}

static void
derive_done(void *arg)
{
	struct crawl_derive *d = arg;
	struct crawler *cr = d->cr;

	cr->deriving--;
	if (cr->draining || !cr->running) {
		derive_free(d);
		return;
	}
	if (d->out == NULL) {
		cr->totals.failed++;
		log_info("%s %s: failed: %s: %s", cr->tag, d->source_id, d->name, d->err);
	} else {
		struct crawl_commit c = {
			.in = d->out, .job = NULL, .name = strdup(d->name),
			.type = strdup("video/mp4"), .source = xstrdup(d->source_url),
			.title = xstrdup(d->title), .lang = xstrdup(d->lang),
			.derived_from = strdup(d->sha[0]), .was_missing = 1,
		};
		d->out = NULL;
		/* A commit needs a job for its log lines: the first of the pass
		 * of that source will do; none found, the pass's first. */
		struct crawl_job *j;
		for (j = cr->jobs; j != NULL; j = j->next)
			if (j->src.source != NULL && strcmp(j->src.source, d->source_id) == 0)
				break;
		c.job = j != NULL ? j : cr->jobs;
		if (c.job == NULL || crawler_commit_add(cr, &c) == -1)
			log_warn("%s %s: cannot keep %s", cr->tag, d->source_id, d->name);
	}
	derive_free(d);
	crawler_check_end(cr);
}

int
crawler_derive_run(struct crawler *cr)
{
	struct crawl_derive *d, *next, *keep = NULL;
	json_t *cat = NULL;
	char err[ERRLEN];
	int started = 0;
	size_t i;

	if (cr->derives == NULL)
		return 0;
	(void)catalog_load_current(cr->st, &cat, err, sizeof(err));
	for (d = cr->derives; d != NULL; d = next) {
		struct crawl_state s;
		json_t *have;
		int ready = 1;
		next = d->next;
		for (i = 0; i < d->n && ready; i++) {
			memset(&s, 0, sizeof(s));
			crawl_state_load(cr->dir, d->keys[i], &s);
			if (s.sha256 == NULL || !store_has_object(cr->st, s.sha256))
				ready = 0;
			else
				snprintf(d->sha[i], sizeof(d->sha[i]), "%s", s.sha256);
			if (i == 0 && s.url != NULL && d->source_url == NULL)
				d->source_url = strdup(s.url);
			crawl_state_free(&s);
		}
		have = cat != NULL ? catalog_find_item(cat, d->name) : NULL;
		if (!ready || (have != NULL && json_string_value(json_object_get(have,
		    "derived_from")) != NULL && strcmp(json_string_value(json_object_get(have,
		    "derived_from")), d->sha[0]) == 0 && store_has_object(cr->st,
		    json_string_value(json_object_get(have, "sha256"))))) {
			derive_free(d);	/* nothing to make, or made already */
			continue;
		}
		d->next = keep;
		keep = d;
	}
	json_decref(cat);
	cr->derives = NULL;
	for (d = keep; d != NULL; d = next) {
		next = d->next;
		d->next = NULL;
		cr->deriving++;
		started = 1;
		log_info("%s %s: remuxing into %s", cr->tag, d->source_id, d->name);
		if (workq_submit(WORKQ_INGEST, derive_work, derive_done, d) == -1) {
			derive_work(d);
			derive_done(d);
		}
	}
	return started;
}

/*
 * The crawler's pass (see crawl.h): the queue of jobs, what each
 * transfer's outcome means (retry, next URL or peer, unchanged, failed,
 * complete), complete objects batched into publish jobs of the work
 * queue, and the end of the pass. One transfer is crawl_transfer.c's.
 */
#include "crawl.h"
#include "crawl_job.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "catalog.h"
#include "crawl_state.h"
#include "curl_loop.h"
#include "http_client.h"
#include "fsutil.h"
#include "ingest.h"
#include "log.h"
#include "minisign.h"
#include "names.h"
#include "peers.h"
#include "publish.h"
#include "urls.h"
#include "workq.h"

static void crawler_flush(struct crawler *cr);

/* ---- small helpers ---- */

int64_t
crawl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *
xstrdup(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

void
src_free(struct crawl_src *s)
{
	size_t i;

	free(s->id);
	free(s->key);
	free(s->source);
	for (i = 0; i < s->n_urls; i++)
		free(s->urls[i]);
	free(s->urls);
	free(s->pin);
	free(s->name);
	free(s->type);
	free(s->proxy);
	free(s->title);
	free(s->description);
	free(s->lang);
	free(s->page);
	free(s->published);
	free(s->stem);
	for (i = 0; i < s->n_headers; i++)
		free(s->headers[i]);
	free(s->headers);
	memset(s, 0, sizeof(*s));
}

static int
src_copy(struct crawl_src *d, const struct config_source *s)
{
	size_t i;

	memset(d, 0, sizeof(*d));
	if ((d->urls = calloc(s->n_urls, sizeof(*d->urls))) == NULL)
		return -1;
	d->n_urls = s->n_urls;
	for (i = 0; i < s->n_urls; i++)
		if ((d->urls[i] = strdup(s->urls[i])) == NULL)
			return -1;
	d->id = xstrdup(s->id);
	d->key = xstrdup(s->id);
	d->source = xstrdup(s->id);
	d->pin = xstrdup(s->sha256);
	d->name = xstrdup(s->name);
	d->type = xstrdup(s->type);
	d->proxy = xstrdup(s->proxy);
	d->kind = s->kind;
	d->resolver = s->resolver;
	d->variant = s->variant;
	d->bandwidth = s->bandwidth;
	d->max_items = s->max_items > 0 ? s->max_items : CONFIG_MAX_ITEMS_DEFAULT;
	d->title = xstrdup(s->title);
	d->description = xstrdup(s->description);
	d->lang = xstrdup(s->lang);
	d->insecure = !s->tls_verify;
	d->remux = 1;
	return d->id == NULL || d->key == NULL || d->source == NULL ? -1 : 0;
}

/* Write the job's state; a failure costs a full download next time. */
void
job_save_state(struct crawl_job *j)
{
	if (crawl_state_save(j->cr->dir, j->src.key, &j->state) == -1)
		log_warn("%s %s: cannot save its state: %s", j->cr->tag, j->src.id,
		    strerror(errno));
}

/* Forget the kept prefix; SAVE: write the state now. */
void
job_drop_part_save(struct crawl_job *j, int save)
{
	char *path = crawl_state_path(j->cr->dir, j->src.key, ".part");
	char *bounds = crawl_state_path(j->cr->dir, j->src.key, ".hls");

	if (bounds != NULL)
		unlink(bounds);
	free(bounds);
	if ((bounds = crawl_state_path(j->cr->dir, j->src.key, ".prov")) != NULL)
		unlink(bounds);
	free(bounds);
	if ((bounds = crawl_state_path(j->cr->dir, j->src.key, ".hlsprov")) != NULL)
		unlink(bounds);
	free(bounds);
	if (j->part_fd != -1) {
		close(j->part_fd);
		j->part_fd = -1;
	}
	j->part_ok = 0;
	if (path != NULL)
		crawl_state_unlink(j->cr->dir, path);
	free(path);
	if (j->state.part_url != NULL || j->state.part_validator != NULL) {
		crawl_state_set(&j->state.part_url, NULL);
		crawl_state_set(&j->state.part_validator, NULL);
		if (save)
			job_save_state(j);
	}
}

void
job_drop_part(struct crawl_job *j)
{
	job_drop_part_save(j, 1);
}

long
backoff_ms(unsigned attempt)
{
	long ms = BACKOFF_BASE_MS << (attempt > 6 ? 6 : attempt - 1);
	/* Jitter: 0.5 to 1.5 times, so that many sources failing together
	 * (an origin restarting) do not come back in step. */
	ms = ms / 2 + (long)((double)ms * ((double)random() / RAND_MAX));
	return ms > BACKOFF_MAX_S * 1000L ? BACKOFF_MAX_S * 1000L : ms;
}
/* ---- outcomes ---- */

static void
job_release(struct crawl_job *j)
{
	free(j->head);
	j->head = NULL;
	j->head_len = 0;
	if (j->easy != NULL) {
		curl_easy_cleanup(j->easy);
		j->easy = NULL;
	}
	curl_slist_free_all(j->hdrs);
	j->hdrs = NULL;
	prov_free(j->prov);
	j->prov = NULL;
	json_decref(j->prov_caps);
	j->prov_caps = NULL;
	if (j->timer != NULL) {
		event_free(j->timer);
		j->timer = NULL;
	}
	if (j->part_fd != -1) {
		close(j->part_fd);
		j->part_fd = -1;
	}
}

void
job_failed(struct crawl_job *j, const char *reason, int keep_part)
{
	struct crawler *cr = j->cr;

	ingest_free(j->in);
	j->in = NULL;
	if (!keep_part)
		job_drop_part(j);
	job_release(j);
	j->phase = J_DONE;
	cr->totals.failed++;
	/* The summary line of this source (an error, but the same shape as
	 * "fetched" and "unchanged" lines, for readers and scripts). */
	log_info("%s %s: failed: %s", j->cr->tag, j->src.id, reason);
	cr->active--;
	crawler_check_end(cr);
}

/*
 * Whether the catalog holds NAME with SHA256, as the pass found it (read
 * once a pass). A state file is written when its object is committed and
 * the catalog a moment later, in a batch: killed in between, the state
 * says the copy is had while no catalog lists it. Such a source is
 * fetched as if new, not found unchanged, or it would stay out of the
 * catalog until its origin changed.
 */
int
crawler_published_is(struct crawler *cr, const char *name, const char *sha256)
{
	json_t *it;
	const char *h;
	char err[ERRLEN];

	if (name == NULL || sha256 == NULL)
		return 0;
	if (!cr->published_read) {
		cr->published_read = 1;
		if (catalog_load_current(cr->st, &cr->published, err, sizeof(err)) == -1) {
			log_warn("%s: the current catalog: %s; every source fetched as new",
			    cr->tag, err);
			cr->published = NULL;
		}
	}
	it = cr->published != NULL ? catalog_find_item(cr->published, name) : NULL;
	h = json_string_value(json_object_get(it, "sha256"));
	return h != NULL && strcmp(h, sha256) == 0;
}

/* A source of a crawl pass ended well (fetched or unchanged). */
void
crawler_source_ok(struct crawler *cr, const char *id)
{
	if (!cr->follow && cr->source_ok != NULL && id != NULL)
		cr->source_ok(cr->source_ok_arg, id);
}

/* The kind a state file recorded ("page", ...), SOURCE_FILE when none. */
static enum source_kind
job_state_kind(const struct crawl_job *j)
{
	enum source_kind k;

	if (j->state.kind == NULL || config_parse_kind(j->state.kind, &k) == -1)
		return SOURCE_FILE;
	return k;
}

void
job_unchanged(struct crawl_job *j, const char *name)
{
	struct crawler *cr = j->cr;
	enum source_kind doc = job_state_kind(j);

	ingest_free(j->in);
	j->in = NULL;
	job_drop_part(j);
	job_release(j);
	j->phase = J_DONE;
	cr->totals.unchanged++;
	log_info("%s %s: unchanged %s", j->cr->tag, j->src.id, name);
	crawler_source_ok(cr, j->src.source);
	/* An unchanged page or feed is read again: what it links to may
	 * have failed last time, or be new to this source's settings. */
	if (!j->src.follow && !j->src.child && (doc == SOURCE_PAGE || doc == SOURCE_FEED) &&
	    j->state.sha256 != NULL && store_has_object(cr->st, j->state.sha256))
		crawl_media_parse(cr, j, j->state.sha256, 0, name, doc);
	cr->active--;
	crawler_check_end(cr);
}

/*
 * A follower's transfer ended without the object: go on at the next peer
 * that may still help, from where this one stopped when the bytes can be
 * resumed (every peer serves the same content, and the hash checks the
 * whole). Around the ring, a backoff. 0: no peer left, the job fails.
 */
static int
follow_next_peer(struct crawl_job *j, const char *why, int retry, long wait_ms)
{
	size_t n = j->src.n_urls, u;
	enum peers_step step;
	char show[URL_SHOW_MAX], next[URL_SHOW_MAX];

	j->turn.at = j->url_i;
	j->turn.n = n;
	if ((step = peers_turn_next(&j->turn, retry, ATTEMPTS)) == PEERS_NONE)
		return 0;
	u = j->turn.at;
	if (n > 1)
		log_warn("%s %s: %s: %s; trying %s", j->cr->tag, j->src.id,
		    url_show(j->src.urls[j->url_i], show, sizeof(show)), why,
		    url_show(j->src.urls[u], next, sizeof(next)));
	else
		log_warn("%s %s: %s: %s", j->cr->tag, j->src.id,
		    url_show(j->src.urls[j->url_i], show, sizeof(show)), why);
	if (j->part_fd != -1) {
		close(j->part_fd);
		j->part_fd = -1;
	}
	if (j->in != NULL && j->part_ok && j->state.part_validator != NULL && j->ingested > 0)
		j->offset = j->ingested;
	else
		j->offset = 0;
	j->attempt = 0;
	j->url_i = u;
	if (step == PEERS_NEXT) {
		job_transfer(j);
		return 1;
	}
	if (wait_ms == 0)
		wait_ms = backoff_ms((unsigned)(j->turn.tries / n));
	log_info("%s %s: retry in %.1f s: %s", j->cr->tag, j->src.id,
	    (double)wait_ms / 1000, why);
	j->phase = J_BACKOFF;
	struct timeval tv = { wait_ms / 1000, (wait_ms % 1000) * 1000 };
	evtimer_add(j->timer, &tv);
	return 1;
}

/*
 * The item's name: configured, else the origin's Content-Disposition
 * (RFC 6266, made safe by name_from_suggested), else the last segment of
 * the final URL. A 304 carries no Content-Disposition: the name the last
 * good copy had (the state's) stands.
 */
static char *
job_item_name(struct crawl_job *j)
{
	char *eff = NULL, *name = NULL;
	const char *seg;
	size_t len;

	if (j->src.name != NULL)
		return strdup(j->src.name);
	if (j->h.filename[0] != '\0' && (name = name_from_suggested(j->h.filename)) != NULL)
		return name;
	if (j->outcome == O_NOT_MODIFIED && j->state.name != NULL)
		return strdup(j->state.name);
	if (j->easy != NULL)
		curl_easy_getinfo(j->easy, CURLINFO_EFFECTIVE_URL, &eff);
	if (eff == NULL)
		eff = j->src.urls[j->url_i];
	{
		/* Path only: after the scheme and host, before ? or #. */
		const char *p = strstr(eff, "://");
		p = p != NULL ? strchr(p + 3, '/') : NULL;
		if (p == NULL)
			p = "/";
		len = strcspn(p, "?#");
		seg = p + len;
		while (seg > p && seg[-1] != '/')
			seg--;
		len = (size_t)(p + len - seg);
	}
	if (len > 0) {
		int outlen = 0;
		char *dec = curl_easy_unescape(j->easy, seg, (int)len, &outlen);
		if (dec != NULL && outlen > 0 && name_check(dec, (size_t)outlen) == NULL &&
		    memchr(dec, '\0', (size_t)outlen) == NULL)
			name = strdup(dec);
		curl_free(dec);
	}
	if (name == NULL && len == 0)
		name = strdup("index.html");	/* a URL ending in '/' */
	if (name == NULL && name_check(j->src.key, strlen(j->src.key)) == NULL)
		name = strdup(j->src.key);
	return name;
}

/* Configured, else the Content-Type (lowercase, with its charset: text
 * means nothing without it), else a guess from the name. */
static char *
job_item_type(struct crawl_job *j, const char *name)
{
	char t[sizeof(j->h.content_type) + 16];

	if (j->src.type != NULL)
		return strdup(j->src.type);
	if (crawl_headers_type(j->h.content_type, t, sizeof(t)) == 0)
		return strdup(t);
	return strdup(mime_from_name(name));
}

/* Content is complete: check it, and queue it for the catalog. */
void
job_complete(struct crawl_job *j)
{
	struct crawler *cr = j->cr;
	const struct object_meta *m;
	char *name, *type, reason[ERRLEN], show[URL_SHOW_MAX];

	if (j->docbuf != NULL && j->hls == NULL) {
		/* A playlist: what readers get is the capture it leads to. */
		struct crawl_doc_buf *d = j->docbuf;
		j->docbuf = NULL;
		crawl_hls_playlist(j, d->p, d->len);
		free(d->p);
		free(d);
		return;
	}
	if (j->mem != NULL) {
		/* Back in crawler_pool_done, with mem freed. */
		crawler_pool_push(cr, j);
		return;
	}
	if (!j->finished && ingest_finish(j->in) == -1) {
		snprintf(reason, sizeof(reason), "%s", ingest_error(j->in));
		job_failed(j, reason, 0);
		return;
	}
	m = ingest_meta(j->in);
	if (j->src.pin != NULL && strcmp(j->src.pin, m->sha256) != 0) {
		if (j->src.follow) {
			/* Altered bytes: another peer may have the right ones.
			 * Whole from this peer, it is no use for this object;
			 * glued to another's prefix, nobody can tell whose they
			 * were: all again from the start. */
			int whole = j->offset == 0;
			snprintf(reason, sizeof(reason), "sha256 mismatch: got %s, the catalog says %s",
			    m->sha256, j->src.pin);
			ingest_free(j->in);
			j->in = NULL;
			job_drop_part(j);
			j->offset = 0;
			j->ingested = 0;
			if (follow_next_peer(j, reason, !whole, 0))
				return;
			{
				char last[ERRLEN];
				snprintf(last, sizeof(last), "%.250s", reason);
				snprintf(reason, sizeof(reason), "no peer gave the right bytes; last: "
				    "%.200s: %.250s", url_show(j->src.urls[j->url_i], show,
				    sizeof(show)), last);
			}
			job_failed(j, reason, 0);
			return;
		}
		snprintf(reason, sizeof(reason), "sha256 mismatch: got %s, pinned %s (%s)",
		    m->sha256, j->src.pin, url_show(j->src.urls[j->url_i], show, sizeof(show)));
		job_failed(j, reason, 0);
		return;
	}
	if ((name = job_item_name(j)) == NULL) {
		job_failed(j, "no valid item name in the URL: set `name =` for this source", 0);
		return;
	}
	type = job_item_type(j, name);
	j->doc = j->src.follow ? SOURCE_FILE : crawl_media_kind(j);
	crawl_state_set(&j->state.kind, j->doc != SOURCE_FILE ? config_kind_name(j->doc) : NULL);
	/* The same bytes as the last good copy (an origin without
	 * validators): nothing to publish. */
	int same = j->state.sha256 != NULL && strcmp(j->state.sha256, m->sha256) == 0 &&
	    j->state.url != NULL && strcmp(j->state.url, j->src.urls[j->url_i]) == 0 &&
	    store_has_object(cr->st, m->sha256) &&
	    crawler_published_is(cr, j->state.name, m->sha256);
	/* The validators describe this copy now. */
	crawl_state_set(&j->state.url, j->src.urls[j->url_i]);
	crawl_state_set(&j->state.etag, j->h.etag[0] == '"' || strncmp(j->h.etag, "W/", 2) == 0 ?
	    j->h.etag : NULL);
	crawl_state_set(&j->state.last_modified, j->h.last_modified);
	crawl_state_set(&j->state.sha256, m->sha256);
	crawl_state_set(&j->state.name, name);
	job_drop_part_save(j, 0);
	if (j->src.follow) {
		/* Content-addressed: no validators worth keeping. */
		char *path = crawl_state_path(j->cr->dir, j->src.key, ".json");
		if (path != NULL)
			unlink(path);
		free(path);
	} else
		job_save_state(j);
	if (same) {
		free(type);
		job_recapture(j, name, m);
		job_unchanged(j, name);
		free(name);
		return;
	}
	{
		struct ingest *pin;
		json_t *psum;
		job_provenance(j, name, m, &pin, &psum);
		struct crawl_commit c = {
			.prov_in = pin, .provenance = psum,
			.in = j->in, .job = j, .name = name, .type = type,
			.source = strdup(j->src.urls[j->url_i]),
			.title = xstrdup(j->src.title), .description = xstrdup(j->src.description),
			.lang = xstrdup(j->src.lang), .page = xstrdup(j->src.page),
			.published = xstrdup(j->src.published),
			.doc = j->doc,
			.was_missing = !store_has_object(cr->st, m->sha256),
		};
		if (crawler_commit_add(cr, &c) == -1) {
			job_failed(j, "out of memory", 0);
			return;
		}
	}
	j->in = NULL;
	job_release(j);
	j->phase = J_COMMIT;
	cr->active--;
	crawler_check_end(cr);
}

static void
crawl_commit_free(struct crawl_commit *c)
{
	ingest_free(c->in);
	ingest_free(c->prov_in);
	json_decref(c->provenance);
	free(c->name);
	free(c->type);
	free(c->source);
	free(c->title);
	free(c->description);
	free(c->lang);
	free(c->page);
	free(c->published);
	free(c->derived_from);
	memset(c, 0, sizeof(*c));
}

/*
 * Queue C (taken over, also on failure) for the next catalog batch: at
 * once when the last publish is PUBLISH_DELAY_MS old, else when that
 * interval is over or COMMIT_MAX are waiting. 0, or -1 out of memory.
 */
int
crawler_commit_add(struct crawler *cr, struct crawl_commit *c)
{
	if (cr->n_commits == cr->cap_commits) {
		/* Not expected: starts stop at COMMIT_MAX and the rest is
		 * bounded; but never lose a finished object. */
		size_t cap = cr->cap_commits * 2 + 16;
		struct crawl_commit *v = realloc(cr->commits, cap * sizeof(*v));
		if (v == NULL) {
			c->in = NULL;	/* the caller's to free */
			crawl_commit_free(c);
			return -1;
		}
		cr->commits = v;
		cr->cap_commits = cap;
	}
	if (c->in != NULL) {
		const struct object_meta *m = ingest_meta(c->in);
		snprintf(c->sha256, sizeof(c->sha256), "%s", m->sha256);
		c->size = m->size;
	}
	cr->commits[cr->n_commits++] = *c;
	if (!evtimer_pending(cr->flush_timer, NULL)) {
		int64_t since = crawl_now_ms() - cr->last_publish_ms;
		if (cr->n_commits >= COMMIT_MAX || since >= PUBLISH_DELAY_MS)
			crawler_flush(cr);
		else {
			long wait = PUBLISH_DELAY_MS - (long)since;
			struct timeval tv = { wait / 1000, (wait % 1000) * 1000 };
			evtimer_add(cr->flush_timer, &tv);
		}
	} else if (cr->n_commits >= COMMIT_MAX)
		crawler_flush(cr);
	return 0;
}

/* A transfer that may succeed again: after a backoff, from where it
 * stopped when the kept bytes allow. */
static void
job_backoff(struct crawl_job *j)
{
	long wait_ms = j->wait_ms;
	struct timeval tv;

	/* The bytes so far stay for a Range request: the ingest holds them
	 * already and goes on after them. */
	if (j->part_fd != -1) {
		close(j->part_fd);
		j->part_fd = -1;
	}
	if (j->part_ok && j->state.part_validator != NULL && j->ingested > 0)
		j->offset = j->ingested;
	else
		j->offset = 0;
	if (wait_ms == 0)
		wait_ms = backoff_ms(j->attempt);
	log_info("%s %s: retry %u in %.1f s: %s", j->cr->tag, j->src.id, j->attempt + 1,
	    (double)wait_ms / 1000, j->why);
	j->phase = J_BACKOFF;
	tv.tv_sec = wait_ms / 1000;
	tv.tv_usec = (wait_ms % 1000) * 1000;
	evtimer_add(j->timer, &tv);
}

/* Attempts at this URL are over: the next URL, or the job fails. */
static void
job_give_up_url(struct crawl_job *j)
{
	int transient = j->outcome == O_TRANSIENT;
	char why[ERRLEN], show[URL_SHOW_MAX];

	if (transient && strncmp(j->why, "HTTP ", 5) == 0)
		snprintf(j->reason, sizeof(j->reason), "%.64s after %u attempts", j->why,
		    j->attempt);
	else if (transient)
		snprintf(j->reason, sizeof(j->reason), "transfer failed after %u attempts: %.400s",
		    j->attempt, j->why);
	else
		snprintf(j->reason, sizeof(j->reason), "%s", j->why);
	if (j->url_i + 1 < j->src.n_urls) {
		log_warn("%s %s: %s: %s; trying the next url", j->cr->tag, j->src.id,
		    url_show(j->src.urls[j->url_i], show, sizeof(show)), j->reason);
		job_drop_part(j);
		j->url_i++;
		j->attempt = 0;
		j->offset = 0;
		ingest_free(j->in);
		j->in = NULL;
		job_transfer(j);
		return;
	}
	snprintf(why, sizeof(why), "%s", j->reason);
	/* A network failure keeps its bytes for the next pass. */
	job_failed(j, why, transient && j->part_ok && j->state.part_validator != NULL);
}

/* A follower's object did not come: the next peer, or the job fails. */
static void
job_give_up_peer(struct crawl_job *j)
{
	int transient = j->outcome == O_TRANSIENT;
	char why[ERRLEN], show[URL_SHOW_MAX];

	if (follow_next_peer(j, j->why, transient, j->wait_ms))
		return;
	snprintf(j->reason, sizeof(j->reason), "%s%.200s: %.250s",
	    j->src.n_urls > 1 ? "no peer could give it; last: " : "",
	    url_show(j->src.urls[j->url_i], show, sizeof(show)), j->why);
	snprintf(why, sizeof(why), "%s", j->reason);
	job_failed(j, why, transient && j->part_ok && j->state.part_validator != NULL);
}

/* After a transfer ended: its outcome decides the next phase. */
void
job_finish(struct crawl_job *j)
{
	char *name;

	switch (j->outcome) {
	case O_NOT_MODIFIED:
		name = job_item_name(j);
		job_unchanged(j, name != NULL ? name : j->src.id);
		free(name);
		return;
	case O_CONTENT:
		job_complete(j);
		return;
	case O_RANGE_REFUSED:
		/* The origin lied about the length, or the content shrank:
		 * the kept bytes are no good; start over. */
		log_info("%s %s: the origin refused the resume (416); starting over",
		    j->cr->tag, j->src.id);
		job_drop_part(j);
		j->offset = 0;
		j->ingested = 0;
		ingest_free(j->in);
		j->in = NULL;
		if (j->attempt < ATTEMPTS) {
			job_transfer(j);
			return;
		}
		j->outcome = O_PERMANENT;
		break;
	case O_TRANSIENT:
	case O_PERMANENT:
		break;
	}
	if (j->src.follow)
		job_give_up_peer(j);
	else if (j->outcome == O_TRANSIENT && j->attempt < ATTEMPTS)
		job_backoff(j);
	else
		job_give_up_url(j);
}

/* ---- the catalog ---- */

/* The publisher's work: commit the batch out and, for a publisher, put
 * it in the catalog through the one transaction. Touches only the pub
 * fields and the store. */
static void
crawler_publish_batch(struct crawler *cr)
{
	struct ingest *v[2 * COMMIT_MAX];
	struct ingest **vv = cr->pub_n <= COMMIT_MAX ? v : malloc(2 * cr->pub_n * sizeof(*vv));
	struct publish_item pi[COMMIT_MAX];
	struct publish_item *pp = cr->pub_n <= COMMIT_MAX ? pi : calloc(cr->pub_n, sizeof(*pp));
	struct publish_result res;
	size_t i, n = cr->pub_n, nin = 0;

	cr->pub_ok = 0;
	cr->pub_changed = 0;
	cr->pub_err[0] = '\0';
	if (vv == NULL || pp == NULL) {
		snprintf(cr->pub_err, sizeof(cr->pub_err), "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (cr->pub[i].in != NULL)
			vv[nin++] = cr->pub[i].in;
		if (cr->pub[i].prov_in != NULL)
			vv[nin++] = cr->pub[i].prov_in;
	}
	if (cr->follow) {
		/* Objects only: the publisher's catalog comes at the end. */
		if (store_lock(cr->st, cr->pub_err, sizeof(cr->pub_err)) == -1)
			goto out;
		if (ingest_commit(cr->st, vv, nin, cr->pub_err, sizeof(cr->pub_err)) == 0) {
			cr->pub_ok = 1;
			for (i = 0; i < n; i++)
				cr->pub[i].changed = 1;
		}
		store_unlock(cr->st);
		goto out;
	}
	for (i = 0; i < n; i++) {
		const struct crawl_commit *c = &cr->pub[i];
		pp[i] = (struct publish_item){ .name = c->name, .type = c->type,
		    .source = c->source, .sha256 = c->sha256, .size = c->size,
		    .title = c->title, .description = c->description, .lang = c->lang,
		    .page = c->page, .derived_from = c->derived_from,
		    .published = c->published, .provenance = c->provenance };
	}
	if (publish_apply(cr->st, &cr->settings, vv, nin, pp, n, &res, cr->pub_err,
	    sizeof(cr->pub_err)) == -1)
		goto out;
	for (i = 0; i < n; i++)
		cr->pub[i].changed = pp[i].changed;
	cr->pub_ok = 1;
	cr->pub_changed = res.changed;
	cr->pub_seq = res.sequence;
	cr->pub_items = res.items;
out:
	if (vv != v)
		free(vv);
	if (pp != pi)
		free(pp);
}

/* Back on the loop: the batch's summary lines, and its objects freed. */
static void
crawler_published(struct crawler *cr)
{
	size_t i;

	for (i = 0; i < cr->pub_n; i++) {
		struct crawl_commit *c = &cr->pub[i];
		if (c->in == NULL) {
			/* Fields only (a page's title): no summary line. */
			if (!cr->pub_ok)
				log_warn("%s %s: cannot update %s: %s", c->job->cr->tag,
				    c->job->src.id, c->name, cr->pub_err);
		} else if (!cr->pub_ok) {
			cr->totals.failed++;
			log_info("%s %s: failed: %s", c->job->cr->tag, c->job->src.id, cr->pub_err);
		} else if (!c->changed && !c->was_missing) {
			/* Fetched again (the origin gave no validators), same bytes. */
			cr->totals.unchanged++;
			log_info("%s %s: unchanged %s", c->job->cr->tag, c->job->src.id, c->name);
			crawler_source_ok(cr, c->job->src.source);
		} else {
			cr->totals.fetched++;
			log_info("%s %s: fetched %s (%llu bytes, sha256 %s)", c->job->cr->tag, c->job->src.id,
			    c->name, (unsigned long long)c->size, c->sha256);
			crawler_source_ok(cr, c->job->src.source);
		}
		if (c->in != NULL && c->job->phase == J_COMMIT)
			c->job->phase = J_DONE;
		if (cr->pub_ok && c->in != NULL && (c->doc == SOURCE_PAGE || c->doc == SOURCE_FEED))
			crawl_media_parse(cr, c->job, c->sha256, c->size, c->name, c->doc);
		crawl_commit_free(c);
	}
	if (cr->pub_ok && cr->pub_changed)
		log_info("crawl: published catalog sequence %lld with %zu items",
		    cr->pub_seq, cr->pub_items);
	else if (!cr->pub_ok && cr->pub_n == 0)
		log_error("crawl: cannot publish the catalog: %s", cr->pub_err);
	cr->pub_n = 0;
	cr->pub_busy = 0;
}

static void crawler_pub_done(void *arg);

/* On a worker. */
static void
crawler_pub_work(void *arg)
{
	crawler_publish_batch(arg);
}

/* Hand what is complete to a publish job; if a batch is out, when it is
 * back. If the queue refuses the job, publish here. */
static void
crawler_flush(struct crawler *cr)
{
	struct crawl_commit *c;
	size_t cap;

	evtimer_del(cr->flush_timer);
	if (cr->n_commits == 0 && !cr->settings_due)
		return;
	if (cr->pub_busy) {
		cr->flush_wanted = 1;
		return;
	}
	cr->flush_wanted = 0;
	c = cr->pub;
	cap = cr->cap_pub;
	cr->pub = cr->commits;
	cr->cap_pub = cr->cap_commits;
	cr->pub_n = cr->n_commits;
	cr->commits = c;
	cr->cap_commits = cap;
	cr->n_commits = 0;
	cr->pub_busy = 1;
	cr->settings_due = 0;
	cr->last_publish_ms = crawl_now_ms();
	if (workq_submit(WORKQ_PUBLISH, crawler_pub_work, crawler_pub_done, cr) == -1) {
		crawler_publish_batch(cr);
		crawler_published(cr);
	}
}

/* A batch is back: the next one may go, and the pass may end. */
static void
crawler_pub_done(void *arg)
{
	struct crawler *cr = arg;

	crawler_published(cr);
	if (cr->draining)
		return;
	if (cr->n_commits > 0) {
		int64_t since = crawl_now_ms() - cr->last_publish_ms;
		if (cr->flush_wanted || cr->n_commits >= COMMIT_MAX || since >= PUBLISH_DELAY_MS)
			crawler_flush(cr);
		else if (!evtimer_pending(cr->flush_timer, NULL)) {
			long wait = PUBLISH_DELAY_MS - (long)since;
			struct timeval tv = { wait / 1000, (wait % 1000) * 1000 };
			evtimer_add(cr->flush_timer, &tv);
		}
	}
	crawler_check_end(cr);
}

static void
crawler_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct crawler *cr = arg;

	crawler_flush(cr);
	crawler_check_end(cr);
}

/* ---- the pass ---- */

static void
crawler_pass_free(struct crawler *cr)
{
	struct crawl_job *j, *next;
	size_t i;

	/* Jobs out in the queue come back first, to end only: a page's
	 * parse or a remux that ended normally here would add commits and
	 * start a publish job on memory freed below. Ingest jobs first: none
	 * of them starts another while draining. */
	cr->draining = 1;
	for (j = cr->jobs; j != NULL; j = j->next)
		crawl_ranges_cancel(j);
	if (cr->pooled > 0 || cr->parsing > 0 || cr->deriving > 0)
		workq_drain(WORKQ_INGEST);
	if (cr->pub_busy)
		workq_drain(WORKQ_PUBLISH);
	cr->draining = 0;
	crawler_derive_free(cr);
	for (i = 0; i < cr->n_commits; i++)
		crawl_commit_free(&cr->commits[i]);
	cr->n_commits = 0;
	free(cr->commits);
	free(cr->pub);
	cr->commits = cr->pub = NULL;
	cr->cap_commits = cr->cap_pub = 0;
	cr->flush_wanted = 0;
	for (j = cr->jobs; j != NULL; j = next) {
		next = j->next;
		if (j->easy != NULL)
			curl_loop_remove(cr->loop, j->easy);
		free(j->mem);
		ingest_free(j->in);
		crawl_media_free(j);
		crawl_hls_free(j);
		job_release(j);
		src_free(&j->src);
		crawl_state_free(&j->state);
		free(j);
	}
	cr->jobs = cr->queue = cr->tail = NULL;
	cr->peers = NULL;
	cr->ranging = 0;
	json_decref(cr->found);
	cr->found = NULL;
	json_decref(cr->published);
	cr->published = NULL;
	cr->published_read = 0;
	free(cr->user_agent);
	free(cr->proxy);
	free(cr->ca_file);
	cr->user_agent = cr->proxy = cr->ca_file = NULL;
	publish_settings_free(&cr->settings);
	cr->settings_due = 0;
	if (cr->lock_fd != -1) {
		close(cr->lock_fd);	/* releases the flock */
		cr->lock_fd = -1;
	}
	cr->running = 0;
}

/* Start queued sources while there is room; end the pass when all are done. */
void
crawler_check_end(struct crawler *cr)
{
	if (!cr->running || cr->finishing)
		return;
	cr->finishing = 1;	/* job_start may end jobs at once: no recursion */
	/* Not beyond a batch of complete objects: they hold descriptors. */
	while (cr->queue != NULL && cr->active < cr->concurrency &&
	    cr->pooled < POOL_QUEUE * (workq_threads() > 0 ? workq_threads() : 1) &&
	    cr->n_commits < COMMIT_MAX) {
		struct crawl_job *j = cr->queue;
		cr->queue = j->next;
		job_start(j);
	}
	cr->finishing = 0;
	if (cr->queue != NULL || cr->active > 0 || cr->pooled > 0 || crawler_media_busy(cr))
		return;
	/* Every transfer is over: captures that wait for a remux (which
	 * may need two of them, video and audio) get it now. */
	if (cr->pub_busy || cr->n_commits > 0) {
		crawler_flush(cr);
		return;
	}
	if (crawler_derive_run(cr))
		return;
	if (cr->n_commits > 0 || cr->pub_busy || cr->settings_due) {
		crawler_flush(cr);
		if (cr->n_commits > 0 || cr->pub_busy)
			return;		/* crawler_pub_cb comes back here */
	}
	{
		struct crawl_totals t = cr->totals;
		crawl_done_fn done = cr->done;
		void *arg = cr->done_arg;
		crawler_pass_free(cr);
		if (done != NULL)
			done(arg, &t);
	}
}

/* What a crawl and a sync share: the lock, the settings, the batches.
 * The jobs are added after. */
static int
crawler_start(struct crawler *cr, const struct crawl_options *opt, int follow,
    crawl_done_fn done, void *arg, char *err, size_t errlen)
{
	char *lock;

	if (cr->running) {
		snprintf(err, errlen, "a crawl pass is already running");
		return -1;
	}
	if (fsutil_mkdir_p(cr->dir, 0700) == -1) {
		snprintf(err, errlen, "%s: %s", cr->dir, strerror(errno));
		return -1;
	}
	/* One crawler per store: `emberd crawl` and `emberd run` share the
	 * kept bytes and state files. */
	if (asprintf(&lock, "%s/lock", cr->dir) == -1)
		return -1;
	cr->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(lock);
	if (cr->lock_fd == -1 || flock(cr->lock_fd, LOCK_EX | LOCK_NB) == -1) {
		snprintf(err, errlen, "another crawl is running on store %s", cr->st->root);
		if (cr->lock_fd != -1)
			close(cr->lock_fd);
		cr->lock_fd = -1;
		return -1;
	}
	crawl_state_sweep(cr->dir);
	memset(&cr->totals, 0, sizeof(cr->totals));
	cr->running = 1;
	cr->follow = follow;
	cr->tls_verify = opt->tls_verify;
	cr->tag = follow ? "sync" : "crawl";
	cr->done = done;
	cr->done_arg = arg;
	cr->concurrency = opt->concurrency > 0 ? opt->concurrency : 1;
	cr->max_size = opt->max_size;
	cr->timeout = opt->timeout > 0 ? opt->timeout : 1;
	cr->user_agent = xstrdup(opt->user_agent);
	cr->proxy = xstrdup(opt->proxy);
	cr->ca_file = xstrdup(opt->ca_file);
	/* A changed name or mirror list is published by this pass even when
	 * no item changes. */
	cr->settings_due = !follow;
	/* Room for a batch and for what is running when it fills: starts
	 * stop at COMMIT_MAX (transfers, and the pool's queue, may go on). */
	cr->cap_commits = cr->cap_pub = COMMIT_MAX + 2 * (size_t)cr->concurrency +
	    POOL_QUEUE * WORKQ_THREADS_MAX;
	cr->commits = calloc(cr->cap_commits, sizeof(*cr->commits));
	cr->pub = calloc(cr->cap_pub, sizeof(*cr->pub));
	if (cr->commits == NULL || cr->pub == NULL ||
	    (opt->user_agent != NULL && cr->user_agent == NULL) ||
	    (opt->proxy != NULL && cr->proxy == NULL) ||
	    (opt->ca_file != NULL && cr->ca_file == NULL)) {
		crawler_pass_free(cr);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	curl_loop_limits(cr->loop, (long)cr->concurrency, (long)opt->per_host);
	return 0;
}

int
crawler_pass(struct crawler *cr, const struct crawl_options *opt,
    const struct config_source *src, size_t n, struct publish_settings *settings,
    crawl_done_fn done, void *arg, char *err, size_t errlen)
{
	struct crawl_job **tail;
	size_t i;

	if (crawler_start(cr, opt, 0, done, arg, err, errlen) == -1) {
		publish_settings_free(settings);
		return -1;
	}
	cr->settings = *settings;
	memset(settings, 0, sizeof(*settings));
	tail = &cr->jobs;
	for (i = 0; i < n; i++) {
		struct crawl_job *j = calloc(1, sizeof(*j));
		if (j == NULL || src_copy(&j->src, &src[i]) == -1) {
			if (j != NULL) {
				src_free(&j->src);
				free(j);
			}
			crawler_pass_free(cr);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		j->cr = cr;
		j->part_fd = -1;
		*tail = j;
		tail = &j->next;
		cr->tail = j;
	}
	cr->queue = cr->jobs;
	log_info("crawl: %zu sources", n);
	crawler_check_end(cr);
	return 0;
}

void
crawler_sync_peers(struct crawler *cr, const struct peers *ps)
{
	cr->peers = ps;
}

int
crawler_sync(struct crawler *cr, const struct crawl_options *opt,
    char *const *peers, size_t n_peers, const struct crawl_object *objs, size_t n,
    crawl_done_fn done, void *arg, char *err, size_t errlen)
{
	struct crawl_job **tail;
	size_t i, k;

	if (crawler_start(cr, opt, 1, done, arg, err, errlen) == -1)
		return -1;
	tail = &cr->jobs;
	for (i = 0; i < n; i++) {
		struct crawl_job *j = calloc(1, sizeof(*j));
		int bad = j == NULL;
		if (!bad) {
			*tail = j;
			tail = &j->next;
			j->cr = cr;
			j->part_fd = -1;
			j->src.follow = 1;
			j->src.size = objs[i].size;
			j->src.id = strdup(objs[i].sha256);
			j->src.key = strdup(objs[i].sha256);
			j->src.kind = SOURCE_FILE;
			j->src.pin = strdup(objs[i].sha256);
			j->src.name = xstrdup(objs[i].name);
			j->src.type = xstrdup(objs[i].type);
			j->src.urls = calloc(n_peers, sizeof(char *));
			bad = j->src.id == NULL || j->src.key == NULL || j->src.pin == NULL ||
			    j->src.urls == NULL;
			cr->tail = j;
		}
		for (k = 0; !bad && k < n_peers; k++) {
			if (asprintf(&j->src.urls[k], "%ssha256/%s", peers[k], objs[i].sha256) == -1) {
				j->src.urls[k] = NULL;
				bad = 1;
			} else
				j->src.n_urls++;
		}
		if (bad) {
			crawler_pass_free(cr);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	cr->queue = cr->jobs;
	log_info("sync: %zu objects to fetch from %zu peer%s", n, n_peers,
	    n_peers == 1 ? "" : "s");
	crawler_check_end(cr);
	return 0;
}

int
crawler_busy(const struct crawler *cr)
{
	return cr->running;
}

struct crawler *
crawler_new(struct event_base *base, struct store *st, char *err, size_t errlen)
{
	struct crawler *cr = calloc(1, sizeof(*cr));

	if (cr == NULL)
		return NULL;
	cr->base = base;
	cr->st = st;
	cr->lock_fd = -1;
	crawl_media_init();
	if ((cr->dir = fsutil_join(st->root, STATE_DIR)) == NULL ||
	    (cr->loop = curl_loop_new(base)) == NULL ||
	    (cr->flush_timer = evtimer_new(base, crawler_flush_cb, cr)) == NULL ||
	    (cr->turn_ev = evtimer_new(base, crawler_turn_cb, cr)) == NULL) {
		snprintf(err, errlen, "cannot set up the crawler: out of memory");
		crawler_free(cr);
		return NULL;
	}
	return cr;
}

void
crawler_on_source_ok(struct crawler *cr, crawl_source_fn fn, void *arg)
{
	cr->source_ok = fn;
	cr->source_ok_arg = arg;
}

void
crawler_free(struct crawler *cr)
{
	if (cr == NULL)
		return;
	cr->done = NULL;
	if (cr->running)
		crawler_pass_free(cr);
	curl_loop_free(cr->loop);
	if (cr->flush_timer != NULL)
		event_free(cr->flush_timer);
	if (cr->turn_ev != NULL)
		event_free(cr->turn_ev);
	free(cr->dir);
	free(cr);
}

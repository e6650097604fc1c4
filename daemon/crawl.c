#include "crawl.h"

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
#include "workq.h"

/*
 * Limits, and why:
 * - ATTEMPTS: tries per URL in a pass for errors that may pass (timeouts,
 *   resets, truncated bodies, 5xx); 4xx, pin mismatches, size and protocol
 *   violations are not retried.
 * - BACKOFF_BASE_MS, BACKOFF_MAX_S: exponential backoff with jitter
 *   (base * 2^(n-1) * 0.5..1.5), and the cap also applied to Retry-After.
 * - REHASH_STEP: a kept prefix is re-hashed this much per loop turn, so
 *   resuming a large transfer never stalls the server sharing the loop.
 * - COMMIT_MAX, PUBLISH_DELAY_MS: a finished object is committed and the
 *   catalog published at once, unless a publish happened less than
 *   PUBLISH_DELAY_MS ago: then the items finishing meanwhile wait for the
 *   rest of that interval (or until COMMIT_MAX are waiting) and go out
 *   together. Publishing a signed catalog per item of a flood of small
 *   ones would cost a sync and a signature each and grow with the square
 *   of the item count.
 * - RECV_BUFFER: libcurl's receive buffer; larger means fewer callbacks.
 * - SMALL_MAX, POOL_QUEUE: a body of known length up to SMALL_MAX is held
 *   in memory and hashed and deflated as an ingest job of the work queue
 *   (one thread per CPU): many small texts are CPU-bound on deflate, and
 *   off the loop they neither slow the readers nor use one core only. A
 *   job in the queue no longer counts as a transfer, so the next
 *   transfers run while it deflates; up to POOL_QUEUE jobs per thread may
 *   wait, so that the queue never runs dry. Memory: at most
 *   (concurrency + POOL_QUEUE x WORKQ_THREADS_MAX) x SMALL_MAX.
 * - RESUME_MIN: smaller content is not kept for a resume (a retry
 *   fetches it again; keeping it would cost a file and a state write).
 * - TURN_BUDGET: bytes all transfers together may push through the
 *   ingest sink in one turn of the event loop. libcurl reads a fast
 *   socket up to a hundred times in one call; without a budget a fast
 *   origin would hold the loop (and the readers it serves) for tens of
 *   milliseconds. Over budget, a transfer pauses until the next turn.
 */
#define ATTEMPTS		3
#define BACKOFF_BASE_MS		1000
#define BACKOFF_MAX_S		60
#define REDIRECTS_MAX		5
#define REHASH_STEP		(4u << 20)
#define COMMIT_MAX		256
#define PUBLISH_DELAY_MS	1000
#define RECV_BUFFER		(256L * 1024)
#define RESUME_MIN		(1u << 20)
#define TURN_BUDGET		(2u << 20)
#define SMALL_MAX		(256u * 1024)
#define POOL_QUEUE		4
#define CONNECT_TIMEOUT_MAX	60
#define FOLLOW_MIN_RATE		4096	/* bytes/s, from a peer */
#define STATE_DIR		"crawl"
#define ERRLEN			512

struct crawl_src {
	char *id;
	char **urls;
	size_t n_urls;
	char *pin, *name, *type, *proxy;
	/* A follower's object: content-addressed, the same bytes at every
	 * URL (peer), SIZE bytes exactly; a transfer cut at one peer goes on
	 * at the next with Range. */
	int follow;
	uint64_t size;
};

/*
 * A job's life: QUEUED, then REHASH (a kept prefix is hashed a step per
 * loop turn) or straight to ACTIVE (a transfer on the curl loop). A
 * transfer ends with an outcome, which decides the next phase: INGEST (a
 * small body hashed off the loop, back to job_complete), COMMIT (complete,
 * waiting for its batch), BACKOFF (a timer, then ACTIVE again, maybe at
 * the next URL or peer), or DONE.
 */
enum job_phase { J_QUEUED, J_REHASH, J_ACTIVE, J_INGEST, J_BACKOFF, J_COMMIT, J_DONE };

/* How a transfer ended, decided once (job_outcome) and acted on once
 * (job_finish). */
enum job_outcome {
	O_CONTENT,		/* 200/206 and the whole body */
	O_NOT_MODIFIED,		/* 304 to a conditional request */
	O_RANGE_REFUSED,	/* 416 to a resume: the kept bytes are no good */
	O_TRANSIENT,		/* may pass: timeouts, resets, 5xx, a cut body */
	O_PERMANENT,		/* 3xx/4xx, a refused body, a size or protocol violation */
};

struct crawl_job {
	struct curl_loop_xfer xfer;	/* first: the transfer's own pointer */
	struct crawler *cr;
	struct crawl_src src;
	struct crawl_state state;
	enum job_phase phase;
	enum job_outcome outcome;	/* of the last transfer */
	char why[ERRLEN];	/* ...and what to say about it */
	long wait_ms;		/* ...and the origin's Retry-After, if any */
	size_t url_i;
	unsigned attempt;
	CURL *easy;
	struct curl_slist *hdrs;
	struct ingest *in;
	struct event *timer;	/* backoff and re-hash steps */
	int part_fd;		/* open while the bytes are being kept */
	int part_ok;		/* the INGESTED bytes can be resumed after */
	uint64_t ingested;	/* bytes fed to IN (a kept prefix included) */
	uint64_t offset;	/* Range start asked for: INGESTED, or 0 */
	uint64_t received;	/* body bytes of the current response */
	int body_started;
	int paused;		/* over the turn's budget: CURL_WRITEFUNC_PAUSE */
	unsigned char *mem;	/* a small body, held for the pool */
	size_t mem_len, mem_cap;
	int finished;		/* ingest_finish done (by an ingest job) */
	char pool_err[ERRLEN];
	long status;
	struct crawl_headers h;	/* of the last response */
	char reason[ERRLEN];	/* why the write callback stopped the transfer */
	int fatal;		/* that reason is not worth a retry */
	struct peers_turn turn;	/* follow: its way round the peers */
	struct crawl_job *next;
};

/* A finished object waiting for its batch commit. */
struct crawl_commit {
	struct ingest *in;
	struct crawl_job *job;
	char *name, *type, *source;
	int changed;		/* the catalog item is new or different */
	int was_missing;	/* the store lacked the object (quarantined) */
};

struct crawler {
	struct event_base *base;
	struct store *st;
	struct curl_loop *loop;
	struct event *flush_timer;
	int lock_fd;
	char *dir;		/* STORE/crawl */
	/* the pass */
	int running;
	int follow;		/* a follower's sync: objects only, no catalog */
	int tls_verify;		/* follow: verify peers' certificates */
	const char *tag;	/* "crawl" or "sync", in log lines */
	struct crawl_job *jobs;	/* all of this pass */
	struct crawl_job *queue;	/* next to start */
	unsigned active, concurrency;
	uint64_t max_size;
	long timeout;
	char *user_agent, *proxy;
	struct publish_settings settings;	/* a publisher's catalog */
	int settings_due;	/* no batch went out yet: the settings alone may have changed */
	struct crawl_commit *commits;	/* complete, not yet handed over */
	size_t n_commits, cap_commits;
	int flush_wanted;	/* a publish was due while one was out */
	/* One batch at a time goes out as a publish job of the work queue,
	 * while the loop goes on (a sync and a catalog rewrite take tens of
	 * milliseconds: readers and transfers would wait). The pub fields
	 * belong to that job while pub_busy. */
	int pub_busy;
	struct crawl_commit *pub;	/* the batch out */
	size_t pub_n, cap_pub;
	int pub_ok, pub_changed;
	char pub_err[ERRLEN];
	long long pub_seq;
	size_t pub_items;
	struct crawl_totals totals;
	crawl_done_fn done;
	void *done_arg;
	int finishing;		/* inside the end of the pass */
	int64_t last_publish_ms;	/* monotonic */
	size_t turn_bytes;	/* through the sink in this loop turn */
	unsigned pooled;	/* ingest jobs out in the work queue */
	int draining;		/* the pass is being freed: jobs coming back only end */
	struct event *turn_ev;	/* the next turn: reset, unpause */
};

static void job_start(struct crawl_job *j);
static void job_transfer(struct crawl_job *j);
static void job_finish(struct crawl_job *j);
static void crawler_check_end(struct crawler *cr);
static void crawler_flush(struct crawler *cr);
static void job_failed(struct crawl_job *j, const char *reason, int keep_part);
static void job_complete(struct crawl_job *j);
static int job_body_start(struct crawl_job *j);

/* ---- small helpers ---- */

static int64_t
crawl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *
xstrdup(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

static void
src_free(struct crawl_src *s)
{
	size_t i;

	free(s->id);
	for (i = 0; i < s->n_urls; i++)
		free(s->urls[i]);
	free(s->urls);
	free(s->pin);
	free(s->name);
	free(s->type);
	free(s->proxy);
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
	d->pin = xstrdup(s->sha256);
	d->name = xstrdup(s->name);
	d->type = xstrdup(s->type);
	d->proxy = xstrdup(s->proxy);
	return d->id == NULL ? -1 : 0;
}

/* Write the job's state; a failure costs a full download next time. */
static void
job_save_state(struct crawl_job *j)
{
	if (crawl_state_save(j->cr->dir, j->src.id, &j->state) == -1)
		log_warn("%s %s: cannot save its state: %s", j->cr->tag, j->src.id,
		    strerror(errno));
}

/* Forget the kept prefix; SAVE: write the state now. */
static void
job_drop_part_save(struct crawl_job *j, int save)
{
	char *path = crawl_state_path(j->cr->dir, j->src.id, ".part");

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

static void
job_drop_part(struct crawl_job *j)
{
	job_drop_part_save(j, 1);
}

static long
backoff_ms(unsigned attempt)
{
	long ms = BACKOFF_BASE_MS << (attempt > 6 ? 6 : attempt - 1);
	/* Jitter: 0.5 to 1.5 times, so that many sources failing together
	 * (an origin restarting) do not come back in step. */
	ms = ms / 2 + (long)((double)ms * ((double)random() / RAND_MAX));
	return ms > BACKOFF_MAX_S * 1000L ? BACKOFF_MAX_S * 1000L : ms;
}

/* ---- curl on the event loop (socket and timer callbacks) ---- */

/* Options every request of the crawler shares: the web only, no proxy
 * but the configured one, no stall longer than TIMEOUT, and for a
 * follower's peers a minimum rate. */
static int
crawl_easy_common(CURL *e, const char *proxy, const char *user_agent, long timeout,
    int tls_verify, long min_rate)
{
	struct http_client_opts o = {
		.proxy = proxy,
		.proxy_env = 0,
		.user_agent = user_agent,
		.max_redirs = REDIRECTS_MAX,
		.connect_timeout = timeout < CONNECT_TIMEOUT_MAX ? timeout :
		    (long)CONNECT_TIMEOUT_MAX,
		.low_speed = min_rate,
		.low_speed_time = timeout,
		.tls_verify = tls_verify,
	};

	return http_client_setup(e, &o);
}

/* What the transfer's end means: the outcome, why, and any wait the
 * origin asked for. A response's status says more than the network's
 * error, except that a cut body is never content. */
static void
job_outcome(struct crawl_job *j, CURLcode res)
{
	const char *neterr = NULL;

	j->wait_ms = 0;
	j->why[0] = '\0';
	if (res != CURLE_OK && res != CURLE_WRITE_ERROR && j->reason[0] == '\0') {
		switch (res) {
		case CURLE_TOO_MANY_REDIRECTS:
			snprintf(j->reason, sizeof(j->reason), "too many redirects");
			j->fatal = 1;
			break;
		case CURLE_UNSUPPORTED_PROTOCOL:
			snprintf(j->reason, sizeof(j->reason), "protocol not allowed (%s)",
			    curl_easy_strerror(res));
			j->fatal = 1;
			break;
		case CURLE_FILESIZE_EXCEEDED:
			snprintf(j->reason, sizeof(j->reason), "larger than max_size");
			j->fatal = 1;
			break;
		default:
			neterr = curl_easy_strerror(res);
			break;
		}
	}
	/* An empty body never ran the write callback: check it now. */
	if (j->reason[0] == '\0' && neterr == NULL && (j->status == 200 || j->status == 206) &&
	    !j->body_started)
		(void)job_body_start(j);
	if (j->reason[0] == '\0' && neterr == NULL && j->status == 304) {
		j->outcome = O_NOT_MODIFIED;
	} else if (j->reason[0] == '\0' && neterr == NULL &&
	    (j->status == 200 || j->status == 206)) {
		j->outcome = O_CONTENT;
	} else if (j->reason[0] == '\0' && j->status == 416 && j->offset > 0) {
		snprintf(j->why, sizeof(j->why), "HTTP %ld", j->status);
		j->outcome = O_RANGE_REFUSED;
	} else if (j->reason[0] != '\0') {
		snprintf(j->why, sizeof(j->why), "%s", j->reason);
		j->outcome = j->fatal ? O_PERMANENT : O_TRANSIENT;
	} else if (j->status >= 500) {
		snprintf(j->why, sizeof(j->why), "HTTP %ld", j->status);
		j->outcome = O_TRANSIENT;
		if (j->h.retry_after >= 0)
			j->wait_ms = (j->h.retry_after > BACKOFF_MAX_S ? BACKOFF_MAX_S :
			    j->h.retry_after) * 1000L;
	} else if (j->status >= 300 && neterr == NULL) {
		snprintf(j->why, sizeof(j->why), "HTTP %ld", j->status);
		j->outcome = O_PERMANENT;
	} else {
		snprintf(j->why, sizeof(j->why), "%s", neterr != NULL ? neterr : "no response");
		j->outcome = O_TRANSIENT;
	}
}

/* The transfer ended (curl_loop): what happened, then what next. */
static void
job_transfer_done(struct curl_loop_xfer *x, CURL *e, CURLcode res)
{
	struct crawl_job *j = (struct crawl_job *)x;

	j->attempt++;
	j->status = 0;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &j->status);
	job_outcome(j, res);
	job_finish(j);
}

void
crawl_options_init(struct crawl_options *o, const struct config *cfg)
{
	o->concurrency = cfg->crawl_concurrency > 0 ? cfg->crawl_concurrency : 1;
	o->per_host = cfg->crawl_per_host;
	o->max_size = cfg->crawl_max_size;
	o->timeout = (long)cfg->crawl_timeout > 0 ? (long)cfg->crawl_timeout : 1;
	o->proxy = cfg->crawl_proxy;
	o->user_agent = cfg->crawl_user_agent;
	o->tls_verify = cfg->follow_tls_verify;
}

int
crawler_get(struct crawler *cr, const struct crawl_options *opt, const char *url,
    size_t max, crawl_get_fn fn, void *arg)
{
	CURL *e = curl_easy_init();
	long timeout = opt->timeout > 0 ? opt->timeout : 1;

	if (e == NULL)
		return -1;
	if (crawl_easy_common(e, opt->proxy, opt->user_agent, timeout, opt->tls_verify,
	    1) == -1) {
		curl_easy_cleanup(e);
		return -1;
	}
	curl_easy_setopt(e, CURLOPT_URL, url);
	/* A whole catalog must come in within the timeout, however slowly
	 * a hostile peer drips it. */
	curl_easy_setopt(e, CURLOPT_TIMEOUT, timeout);
	return curl_loop_get(cr->loop, e, max, fn, arg);
}

/* ---- one transfer ---- */

/* The fields of the last response (after redirects) that matter. */
static size_t
crawl_header_cb(char *buf, size_t size, size_t n, void *arg)
{
	struct crawl_job *j = arg;

	crawl_headers_line(&j->h, buf, size * n);
	return size * n;
}

/* A strong validator that If-Range can carry: a strong ETag, else
 * Last-Modified. NULL: this response cannot be resumed. */
static const char *
job_validator(const struct crawl_job *j)
{
	if (j->h.encoded)
		return NULL;
	if (j->h.etag[0] == '"')
		return j->h.etag;
	if (j->h.etag[0] == '\0' && j->h.last_modified[0] != '\0')
		return j->h.last_modified;
	return NULL;
}

static int
job_new_ingest(struct crawl_job *j, uint64_t hint)
{
	char err[ERRLEN];

	ingest_free(j->in);
	if ((j->in = ingest_new(j->cr->st, hint, err, sizeof(err))) == NULL) {
		snprintf(j->reason, sizeof(j->reason), "%s", err);
		j->fatal = 1;
		return -1;
	}
	j->received = 0;
	j->ingested = 0;
	return 0;
}

/* The first body bytes: is this the content, and can it be kept? */
static int
job_body_start(struct crawl_job *j)
{
	struct crawler *cr = j->cr;
	long status = 0;
	uint64_t total;

	curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &status);
	j->status = status;
	if (status != 200 && status != 206)
		return -1;	/* an error page: not ingested; job_finish says why */
	if (j->in == NULL && j->offset == 0 && j->h.content_length >= 0 &&
	    (uint64_t)j->h.content_length <= SMALL_MAX && workq_threads() > 0) {
		/* Small: held whole, for the pool. */
		size_t cap = j->h.content_length > 0 ? (size_t)j->h.content_length : 1;
		free(j->mem);
		if ((j->mem = malloc(cap)) == NULL) {
			snprintf(j->reason, sizeof(j->reason), "out of memory");
			return -1;
		}
		j->mem_cap = cap;
		j->mem_len = 0;
		j->ingested = 0;
	} else if (j->in == NULL && j->mem == NULL) {
		if (job_new_ingest(j, j->h.content_length > 0 ?
		    (uint64_t)j->h.content_length : 0) == -1)
			return -1;
		/* A peer that stored the object deflated says Vary:
		 * Accept-Encoding; without it, it found deflate did not pay for
		 * these very bytes: skip the trial (a quarter of the CPU of
		 * syncing media). */
		if (j->src.follow && !j->h.vary_encoding)
			ingest_store_raw(j->in);
	}
	if (status == 206) {
		char want[48];
		snprintf(want, sizeof(want), "bytes %llu-", (unsigned long long)j->offset);
		if (j->offset == 0 || strncasecmp(j->h.content_range, want, strlen(want)) != 0) {
			snprintf(j->reason, sizeof(j->reason),
			    "origin answered a range it was not asked for (%s)", j->h.content_range);
			return -1;
		}
	} else if (j->offset > 0) {
		/* The origin sent all of it (no ranges, or it changed): start over. */
		uint64_t hint = j->h.content_length > 0 ? (uint64_t)j->h.content_length : 0;
		log_info("%s %s: the origin sent the whole content again; starting over",
		    j->cr->tag, j->src.id);
		j->offset = 0;
		if (job_new_ingest(j, hint) == -1)
			return -1;
		if (j->part_fd != -1) {
			close(j->part_fd);
			j->part_fd = -1;
		}
		j->part_ok = 0;
	}
	total = j->offset + (j->h.content_length > 0 ? (uint64_t)j->h.content_length : 0);
	if (j->src.follow && j->h.content_length >= 0 && total != j->src.size) {
		snprintf(j->reason, sizeof(j->reason),
		    "the peer announced %llu bytes, the catalog says %llu",
		    (unsigned long long)total, (unsigned long long)j->src.size);
		j->fatal = 1;
		return -1;
	}
	if (total > cr->max_size) {
		snprintf(j->reason, sizeof(j->reason),
		    "larger than max_size (%llu bytes announced, max_size %llu)",
		    (unsigned long long)total, (unsigned long long)cr->max_size);
		j->fatal = 1;
		return -1;
	}
	/* Keep the bytes for a resume only when If-Range can check them,
	 * and only when there are enough of them to be worth it. */
	const char *val = job_validator(j);
	if (j->h.content_length >= 0 && j->offset + (uint64_t)j->h.content_length < RESUME_MIN)
		val = NULL;
	if (val == NULL) {
		if (j->part_fd != -1 || j->state.part_url != NULL)
			job_drop_part(j);
	} else {
		char *path = crawl_state_path(j->cr->dir, j->src.id, ".part");
		/* Stored raw, the ingest's own file is the kept prefix (one
		 * write); deflated, or until that is known, the crawler keeps
		 * the bytes itself. */
		if (j->in != NULL && path != NULL && ingest_keep(j->in, path)) {
			if (j->part_fd != -1) {
				close(j->part_fd);
				j->part_fd = -1;
			}
			j->part_ok = 1;
		} else if (j->part_fd == -1) {
			/* Resuming: after the kept bytes; else a new file. */
			if (path != NULL)
				j->part_fd = open(path, j->offset > 0 && j->part_ok ?
				    O_WRONLY | O_APPEND | O_CLOEXEC :
				    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
			j->part_ok = j->part_fd != -1;
		}
		free(path);
		if (j->part_ok) {
			crawl_state_set(&j->state.part_url, j->src.urls[j->url_i]);
			crawl_state_set(&j->state.part_validator, val);
			job_save_state(j);
		}
	}
	j->body_started = 1;
	return 0;
}

/* A new loop turn: a new budget, and paused transfers go on. */
static void
crawler_turn_cb(evutil_socket_t fd, short what, void *arg)
{
	struct crawler *cr = arg;
	struct crawl_job *j;

	cr->turn_bytes = 0;
	for (j = cr->jobs; j != NULL; j = j->next) {
		if (j->paused && j->easy != NULL && j->phase == J_ACTIVE) {
			j->paused = 0;
			/* May deliver the held bytes right here. */
			curl_easy_pause(j->easy, CURLPAUSE_CONT);
		}
	}
}

static void
crawler_turn_used(struct crawler *cr, size_t n)
{
	static const struct timeval now = { 0, 0 };

	cr->turn_bytes += n;
	if (!evtimer_pending(cr->turn_ev, NULL))
		evtimer_add(cr->turn_ev, &now);
}

static size_t
crawl_write_cb(char *buf, size_t size, size_t n, void *arg)
{
	struct crawl_job *j = arg;
	size_t len = size * n;

	if (j->cr->turn_bytes >= TURN_BUDGET) {
		j->paused = 1;
		crawler_turn_used(j->cr, 0);
		return CURL_WRITEFUNC_PAUSE;
	}
	if (!j->body_started && job_body_start(j) == -1)
		return 0;
	if (j->src.follow && j->ingested + len > j->src.size) {
		snprintf(j->reason, sizeof(j->reason),
		    "more bytes than the catalog's size (%llu)", (unsigned long long)j->src.size);
		j->fatal = 1;
		return 0;
	}
	if (j->ingested + len > j->cr->max_size) {
		snprintf(j->reason, sizeof(j->reason), "larger than max_size (%llu bytes)",
		    (unsigned long long)j->cr->max_size);
		j->fatal = 1;
		return 0;
	}
	if (j->mem != NULL && j->mem_len + len > SMALL_MAX) {
		/* More than announced (a decoded body): stream it after all. */
		if (job_new_ingest(j, 0) == -1)
			return 0;
		if (ingest_write(j->in, j->mem, j->mem_len) == -1) {
			snprintf(j->reason, sizeof(j->reason), "%s", ingest_error(j->in));
			j->fatal = 1;
			return 0;
		}
		j->ingested = j->mem_len;
		free(j->mem);
		j->mem = NULL;
	}
	if (j->mem != NULL) {
		if (j->mem_len + len > j->mem_cap) {
			size_t cap = j->mem_len + len > 2 * j->mem_cap ? j->mem_len + len : 2 * j->mem_cap;
			unsigned char *m = realloc(j->mem, cap > SMALL_MAX ? SMALL_MAX : cap);
			if (m == NULL) {
				snprintf(j->reason, sizeof(j->reason), "out of memory");
				j->fatal = 1;
				return 0;
			}
			j->mem = m;
			j->mem_cap = cap > SMALL_MAX ? SMALL_MAX : cap;
		}
		memcpy(j->mem + j->mem_len, buf, len);
		j->mem_len += len;
	} else if (ingest_write(j->in, buf, len) == -1) {
		snprintf(j->reason, sizeof(j->reason), "%s", ingest_error(j->in));
		j->fatal = 1;
		return 0;
	}
	j->received += len;
	j->ingested += len;
	crawler_turn_used(j->cr, len);
	if (j->part_fd != -1 && j->in != NULL && ingest_kept(j->in)) {
		/* The ingest took the name over: its file holds these bytes. */
		close(j->part_fd);
		j->part_fd = -1;
	} else if (j->part_fd != -1 && fsutil_write_all(j->part_fd, buf, len) == -1) {
		/* The download goes on; only the resume is lost. */
		close(j->part_fd);
		j->part_fd = -1;
		j->part_ok = 0;
	}
	return len;
}

static CURL *
job_easy(struct crawl_job *j)
{
	struct crawler *cr = j->cr;
	CURL *e = curl_easy_init();
	const char *proxy = j->src.proxy != NULL ? j->src.proxy : cr->proxy;
	char hdr[512];

	if (e == NULL)
		return NULL;
	curl_slist_free_all(j->hdrs);
	j->hdrs = NULL;
	curl_easy_setopt(e, CURLOPT_URL, j->src.urls[j->url_i]);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, crawl_write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, j);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, crawl_header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, j);
	/* A peer that drips bytes holds the object (and the pass) while
	 * others could serve it: slower than FOLLOW_MIN_RATE for `timeout`,
	 * and the next peer gets its turn, resuming where this one stopped. */
	if (crawl_easy_common(e, proxy, cr->user_agent, cr->timeout,
	    !j->src.follow || cr->tls_verify, j->src.follow ? FOLLOW_MIN_RATE : 1) == -1) {
		curl_easy_cleanup(e);
		return NULL;
	}
	/* gzip is taken and decoded: the item is the file itself. A peer's
	 * objects are taken as identity bytes, so a Range counts them. */
	if (!j->src.follow)
		curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "gzip");
	curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)(j->src.follow ? j->src.size : cr->max_size));
	curl_easy_setopt(e, CURLOPT_BUFFERSIZE, RECV_BUFFER);
	if (j->offset > 0) {
		char range[48];
		snprintf(range, sizeof(range), "%llu-", (unsigned long long)j->offset);
		curl_easy_setopt(e, CURLOPT_RANGE, range);
		snprintf(hdr, sizeof(hdr), "If-Range: %s", j->state.part_validator);
		j->hdrs = curl_slist_append(j->hdrs, hdr);
	} else if (!j->src.follow && j->state.sha256 != NULL && j->state.url != NULL &&
	    strcmp(j->state.url, j->src.urls[j->url_i]) == 0 &&
	    store_has_object(cr->st, j->state.sha256)) {
		/* Conditional only while we still hold what the validators
		 * describe. */
		if (j->state.etag != NULL) {
			snprintf(hdr, sizeof(hdr), "If-None-Match: %s", j->state.etag);
			j->hdrs = curl_slist_append(j->hdrs, hdr);
		}
		if (j->state.last_modified != NULL) {
			snprintf(hdr, sizeof(hdr), "If-Modified-Since: %s", j->state.last_modified);
			j->hdrs = curl_slist_append(j->hdrs, hdr);
		}
	}
	if (j->hdrs != NULL)
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, j->hdrs);
	return e;
}

static void
job_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	job_transfer(arg);
}

/* Start (or retry) the transfer from the current URL. */
static void
job_transfer(struct crawl_job *j)
{
	struct crawler *cr = j->cr;

	j->reason[0] = '\0';
	j->fatal = 0;
	j->body_started = 0;
	j->paused = 0;
	j->status = 0;
	crawl_headers_reset(&j->h);
	j->received = 0;
	if (j->offset > 0 && (!j->part_ok || j->offset != j->ingested))
		j->offset = 0;
	if (j->offset == 0) {
		/* Made at the first body bytes, when the size is known: a
		 * small object then costs a small buffer. */
		ingest_free(j->in);
		j->in = NULL;
		j->ingested = 0;
	}
	if (j->easy != NULL)
		curl_easy_cleanup(j->easy);
	if ((j->easy = job_easy(j)) == NULL) {
		snprintf(j->reason, sizeof(j->reason), "out of memory");
		j->fatal = 1;
		job_outcome(j, CURLE_OK);
		job_finish(j);
		return;
	}
	j->phase = J_ACTIVE;
	if (j->attempt > 0)
		log_info("%s %s: attempt %u of %s%s", j->cr->tag, j->src.id, j->attempt + 1,
		    j->src.urls[j->url_i], j->offset > 0 ? " (resuming)" : "");
	j->xfer.done = job_transfer_done;
	if (curl_loop_add(cr->loop, j->easy, &j->xfer) == -1) {
		snprintf(j->reason, sizeof(j->reason), "out of memory");
		j->fatal = 1;
		job_outcome(j, CURLE_OK);
		job_finish(j);
	}
}

/* Re-hash the kept prefix a step per loop turn, then resume. */
static void
job_rehash_cb(evutil_socket_t fd, short what, void *arg)
{
	struct crawl_job *j = arg;
	static char buf[256 * 1024];
	uint64_t done = 0;
	int rfd;
	char *path = crawl_state_path(j->cr->dir, j->src.id, ".part");

	rfd = path != NULL ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	free(path);
	while (rfd != -1 && done < REHASH_STEP && j->ingested < j->offset) {
		uint64_t want = j->offset - j->ingested;
		ssize_t n = pread(rfd, buf, want < sizeof(buf) ? (size_t)want : sizeof(buf),
		    (off_t)j->ingested);
		if (n <= 0 || ingest_write(j->in, buf, (size_t)n) == -1)
			break;
		j->ingested += (uint64_t)n;
		done += (uint64_t)n;
	}
	if (rfd != -1)
		close(rfd);
	if (j->ingested < j->offset && done > 0) {
		struct timeval now = { 0, 0 };
		evtimer_add(j->timer, &now);
		return;
	}
	if (j->ingested < j->offset) {
		/* The kept bytes are unreadable: start over. */
		job_drop_part(j);
		j->offset = 0;
	} else {
		/* Hashed: the rest comes after them. */
		j->part_ok = 1;
	}
	event_free(j->timer);
	j->timer = evtimer_new(j->cr->base, job_retry_cb, j);
	job_transfer(j);
}

static void
job_start(struct crawl_job *j)
{
	struct crawler *cr = j->cr;
	char *path;
	struct stat sb;

	cr->active++;
	crawl_state_load(cr->dir, j->src.id, &j->state);
	j->url_i = 0;
	j->attempt = 0;
	j->offset = 0;
	j->part_fd = -1;
	/* A prefix kept from a broken transfer of the first URL? */
	path = crawl_state_path(j->cr->dir, j->src.id, ".part");
	if (path != NULL && stat(path, &sb) == 0 && sb.st_size > 0 &&
	    j->state.part_url != NULL && j->state.part_validator != NULL &&
	    (j->src.follow || strcmp(j->state.part_url, j->src.urls[0]) == 0)) {
		char err[ERRLEN];
		if ((j->in = ingest_new(cr->st, 0, err, sizeof(err))) != NULL) {
			j->offset = (uint64_t)sb.st_size;
			j->ingested = 0;
			j->phase = J_REHASH;
			free(path);
			j->timer = evtimer_new(cr->base, job_rehash_cb, j);
			struct timeval now = { 0, 0 };
			evtimer_add(j->timer, &now);
			log_info("%s %s: %llu bytes kept from an earlier attempt; checking them",
			    j->cr->tag, j->src.id, (unsigned long long)j->offset);
			return;
		}
	} else if (path != NULL && stat(path, &sb) == 0) {
		unlink(path);
	}
	free(path);
	j->timer = evtimer_new(cr->base, job_retry_cb, j);
	job_transfer(j);
}

/* ---- ingest jobs: small bodies hashed and deflated off the loop ---- */

/* On a worker: only the job's own fields, the loop does not touch it now. */
static void
crawler_pool_work(void *arg)
{
	struct crawl_job *j = arg;
	char err[ERRLEN];
	struct ingest *in;

	j->pool_err[0] = '\0';
	in = ingest_new(j->cr->st, j->mem_len, err, sizeof(err));
	if (in == NULL)
		snprintf(j->pool_err, sizeof(j->pool_err), "%s", err);
	else if ((j->mem_len > 0 && ingest_write(in, j->mem, j->mem_len) == -1) ||
	    ingest_finish(in) == -1)
		snprintf(j->pool_err, sizeof(j->pool_err), "%s", ingest_error(in));
	j->in = in;
}

/* Back on the loop: the job goes on as a transfer that just completed. */
static void
crawler_pool_done(void *arg)
{
	struct crawl_job *j = arg;
	struct crawler *cr = j->cr;
	char reason[ERRLEN];

	cr->pooled--;
	if (cr->draining)
		return;		/* crawler_pass_free frees it */
	cr->active++;		/* what follows ends it as a job */
	free(j->mem);
	j->mem = NULL;
	j->mem_len = j->mem_cap = 0;
	if (j->pool_err[0] != '\0') {
		snprintf(reason, sizeof(reason), "%s", j->pool_err);
		job_failed(j, reason, 0);
	} else {
		j->finished = 1;
		job_complete(j);
	}
}

/* Hand a held body to the queue; the next transfer may start meanwhile.
 * If the queue refuses it, ingest it here. */
static void
crawler_pool_push(struct crawler *cr, struct crawl_job *j)
{
	j->phase = J_INGEST;	/* neither active nor done: off the loop */
	cr->active--;
	cr->pooled++;
	if (workq_submit(WORKQ_INGEST, crawler_pool_work, crawler_pool_done, j) == -1) {
		crawler_pool_work(j);
		crawler_pool_done(j);
		return;
	}
	crawler_check_end(cr);
}

/* ---- outcomes ---- */

static void
job_release(struct crawl_job *j)
{
	if (j->easy != NULL) {
		curl_easy_cleanup(j->easy);
		j->easy = NULL;
	}
	curl_slist_free_all(j->hdrs);
	j->hdrs = NULL;
	if (j->timer != NULL) {
		event_free(j->timer);
		j->timer = NULL;
	}
	if (j->part_fd != -1) {
		close(j->part_fd);
		j->part_fd = -1;
	}
}

static void
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

static void
job_unchanged(struct crawl_job *j, const char *name)
{
	struct crawler *cr = j->cr;

	ingest_free(j->in);
	j->in = NULL;
	job_drop_part(j);
	job_release(j);
	j->phase = J_DONE;
	cr->totals.unchanged++;
	log_info("%s %s: unchanged %s", j->cr->tag, j->src.id, name);
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

	j->turn.at = j->url_i;
	j->turn.n = n;
	if ((step = peers_turn_next(&j->turn, retry, ATTEMPTS)) == PEERS_NONE)
		return 0;
	u = j->turn.at;
	if (n > 1)
		log_warn("%s %s: %s: %s; trying %s", j->cr->tag, j->src.id,
		    j->src.urls[j->url_i], why, j->src.urls[u]);
	else
		log_warn("%s %s: %s: %s", j->cr->tag, j->src.id, j->src.urls[j->url_i], why);
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

/* The item's name: configured, else the last segment of the final URL. */
static char *
job_item_name(struct crawl_job *j)
{
	char *eff = NULL, *name = NULL;
	const char *seg;
	size_t len;

	if (j->src.name != NULL)
		return strdup(j->src.name);
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
	if (name == NULL && name_check(j->src.id, strlen(j->src.id)) == NULL)
		name = strdup(j->src.id);
	return name;
}

static char *
job_item_type(struct crawl_job *j, const char *name)
{
	char t[128];
	size_t n;

	if (j->src.type != NULL)
		return strdup(j->src.type);
	snprintf(t, sizeof(t), "%s", j->h.content_type);
	n = strcspn(t, ";");
	while (n > 0 && (t[n - 1] == ' ' || t[n - 1] == '\t'))
		n--;
	t[n] = '\0';
	/* type/subtype, printable, no spaces: else guess from the name. */
	if (n > 0 && strchr(t, '/') != NULL && strspn(t,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$&-^_.+/") == n)
		return strdup(t);
	return strdup(mime_from_name(name));
}

/* Content is complete: check it, and queue it for the catalog. */
static void
job_complete(struct crawl_job *j)
{
	struct crawler *cr = j->cr;
	const struct object_meta *m;
	char *name, *type, reason[ERRLEN];

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
				    "%.200s: %.250s", j->src.urls[j->url_i], last);
			}
			job_failed(j, reason, 0);
			return;
		}
		snprintf(reason, sizeof(reason), "sha256 mismatch: got %s, pinned %s (%s)",
		    m->sha256, j->src.pin, j->src.urls[j->url_i]);
		job_failed(j, reason, 0);
		return;
	}
	if ((name = job_item_name(j)) == NULL) {
		job_failed(j, "no valid item name in the URL: set `name =` for this source", 0);
		return;
	}
	type = job_item_type(j, name);
	/* The same bytes as the last good copy (an origin without
	 * validators): nothing to publish. */
	int same = j->state.sha256 != NULL && strcmp(j->state.sha256, m->sha256) == 0 &&
	    j->state.url != NULL && strcmp(j->state.url, j->src.urls[j->url_i]) == 0 &&
	    store_has_object(cr->st, m->sha256);
	/* The validators describe this copy now. */
	crawl_state_set(&j->state.url, j->src.urls[j->url_i]);
	crawl_state_set(&j->state.etag, j->h.etag[0] == '"' || strncmp(j->h.etag, "W/", 2) == 0 ?
	    j->h.etag : NULL);
	crawl_state_set(&j->state.last_modified, j->h.last_modified);
	crawl_state_set(&j->state.sha256, m->sha256);
	job_drop_part_save(j, 0);
	if (j->src.follow) {
		/* Content-addressed: no validators worth keeping. */
		char *path = crawl_state_path(j->cr->dir, j->src.id, ".json");
		if (path != NULL)
			unlink(path);
		free(path);
	} else
		job_save_state(j);
	if (same) {
		free(type);
		job_unchanged(j, name);
		free(name);
		return;
	}
	if (cr->n_commits == cr->cap_commits) {
		/* Not expected: starts stop at COMMIT_MAX and the rest is
		 * bounded; but never lose a finished object. */
		size_t cap = cr->cap_commits * 2 + 16;
		struct crawl_commit *c = realloc(cr->commits, cap * sizeof(*c));
		if (c == NULL) {
			free(type);
			free(name);
			job_failed(j, "out of memory", 0);
			return;
		}
		cr->commits = c;
		cr->cap_commits = cap;
	}
	cr->commits[cr->n_commits].in = j->in;
	cr->commits[cr->n_commits].job = j;
	cr->commits[cr->n_commits].name = name;
	cr->commits[cr->n_commits].type = type;
	cr->commits[cr->n_commits].source = strdup(j->src.urls[j->url_i]);
	cr->commits[cr->n_commits].was_missing = !store_has_object(cr->st, m->sha256);
	cr->n_commits++;
	j->in = NULL;
	job_release(j);
	j->phase = J_COMMIT;
	cr->active--;
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
	crawler_check_end(cr);
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
	char why[ERRLEN];

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
		    j->src.urls[j->url_i], j->reason);
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
	char why[ERRLEN];

	if (follow_next_peer(j, j->why, transient, j->wait_ms))
		return;
	snprintf(j->reason, sizeof(j->reason), "%s%.200s: %.250s",
	    j->src.n_urls > 1 ? "no peer could give it; last: " : "",
	    j->src.urls[j->url_i], j->why);
	snprintf(why, sizeof(why), "%s", j->reason);
	job_failed(j, why, transient && j->part_ok && j->state.part_validator != NULL);
}

/* After a transfer ended: its outcome decides the next phase. */
static void
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
	struct ingest *v[COMMIT_MAX];
	struct ingest **vv = cr->pub_n <= COMMIT_MAX ? v : malloc(cr->pub_n * sizeof(*vv));
	struct publish_item pi[COMMIT_MAX];
	struct publish_item *pp = cr->pub_n <= COMMIT_MAX ? pi : calloc(cr->pub_n, sizeof(*pp));
	struct publish_result res;
	size_t i, n = cr->pub_n;

	cr->pub_ok = 0;
	cr->pub_changed = 0;
	cr->pub_err[0] = '\0';
	if (vv == NULL || pp == NULL) {
		snprintf(cr->pub_err, sizeof(cr->pub_err), "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++)
		vv[i] = cr->pub[i].in;
	if (cr->follow) {
		/* Objects only: the publisher's catalog comes at the end. */
		if (store_lock(cr->st, cr->pub_err, sizeof(cr->pub_err)) == -1)
			goto out;
		if (ingest_commit(cr->st, vv, n, cr->pub_err, sizeof(cr->pub_err)) == 0) {
			cr->pub_ok = 1;
			for (i = 0; i < n; i++)
				cr->pub[i].changed = 1;
		}
		store_unlock(cr->st);
		goto out;
	}
	for (i = 0; i < n; i++) {
		const struct object_meta *m = ingest_meta(vv[i]);
		pp[i] = (struct publish_item){ .name = cr->pub[i].name, .type = cr->pub[i].type,
		    .source = cr->pub[i].source, .sha256 = m->sha256, .size = m->size };
	}
	if (publish_apply(cr->st, &cr->settings, vv, n, pp, n, &res, cr->pub_err,
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
		const struct object_meta *m = ingest_meta(c->in);
		if (!cr->pub_ok) {
			cr->totals.failed++;
			log_info("%s %s: failed: %s", c->job->cr->tag, c->job->src.id, cr->pub_err);
		} else if (!c->changed && !c->was_missing) {
			/* Fetched again (the origin gave no validators), same bytes. */
			cr->totals.unchanged++;
			log_info("%s %s: unchanged %s", c->job->cr->tag, c->job->src.id, c->name);
		} else {
			cr->totals.fetched++;
			log_info("%s %s: fetched %s (%llu bytes, sha256 %s)", c->job->cr->tag, c->job->src.id,
			    c->name, (unsigned long long)m->size, m->sha256);
		}
		c->job->phase = J_DONE;
		ingest_free(c->in);
		free(c->name);
		free(c->type);
		free(c->source);
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

	/* Jobs out in the queue come back first, to end only. */
	cr->draining = 1;
	if (cr->pooled > 0)
		workq_drain(WORKQ_INGEST);
	if (cr->pub_busy)
		workq_drain(WORKQ_PUBLISH);
	cr->draining = 0;
	for (i = 0; i < cr->n_commits; i++) {
		ingest_free(cr->commits[i].in);
		free(cr->commits[i].name);
		free(cr->commits[i].type);
		free(cr->commits[i].source);
	}
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
		job_release(j);
		src_free(&j->src);
		crawl_state_free(&j->state);
		free(j);
	}
	cr->jobs = cr->queue = NULL;
	free(cr->user_agent);
	free(cr->proxy);
	cr->user_agent = cr->proxy = NULL;
	publish_settings_free(&cr->settings);
	cr->settings_due = 0;
	if (cr->lock_fd != -1) {
		close(cr->lock_fd);	/* releases the flock */
		cr->lock_fd = -1;
	}
	cr->running = 0;
}

/* Start queued sources while there is room; end the pass when all are done. */
static void
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
	if (cr->queue != NULL || cr->active > 0 || cr->pooled > 0)
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
	    (opt->proxy != NULL && cr->proxy == NULL)) {
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
	}
	cr->queue = cr->jobs;
	log_info("crawl: %zu sources", n);
	crawler_check_end(cr);
	return 0;
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
			j->src.pin = strdup(objs[i].sha256);
			j->src.name = xstrdup(objs[i].name);
			j->src.type = xstrdup(objs[i].type);
			j->src.urls = calloc(n_peers, sizeof(char *));
			bad = j->src.id == NULL || j->src.pin == NULL || j->src.urls == NULL;
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

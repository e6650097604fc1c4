/*
 * One crawl job's transfer (see crawl_job.h): the request with its
 * conditions and Range, the response's headers and body into the ingest
 * sink within each loop turn's budget, a kept prefix re-hashed before a
 * resume, and small bodies handed to the work queue as ingest jobs.
 */
#include "crawl_job.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "http_client.h"
#include "log.h"
#include "urls.h"
#include "workq.h"

/* ---- curl on the event loop (socket and timer callbacks) ---- */

/* Options every request of the crawler shares: the web only, no proxy
 * but the configured one, no stall longer than TIMEOUT, and for a
 * follower's peers a minimum rate. */
int
crawl_easy_common(CURL *e, const char *proxy, const char *user_agent, long timeout,
    int tls_verify, long min_rate, const char *ca_file)
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
		.ca_file = ca_file,
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

	char *eff = NULL;

	j->attempt++;
	j->status = 0;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &j->status);
	if (curl_easy_getinfo(e, CURLINFO_EFFECTIVE_URL, &eff) == CURLE_OK && eff != NULL) {
		free(j->eff_url);
		j->eff_url = strdup(eff);
	}
	job_outcome(j, res);
	job_prov_keep(j);
	job_finish(j);
}

/* What E asks and gets is recorded for the item's provenance; a
 * publisher that publishes no source URLs publishes none. 0, or -1 when
 * curl refuses the options. */
int
job_prov_attach(struct crawl_job *j, CURL *e, const char *proxy)
{
	if (j->src.follow || j->cr->settings.source_urls == SOURCE_URLS_NONE)
		return 0;
	if (j->prov == NULL && (j->prov = prov_new(PROV_MEDIA)) == NULL)
		return 0;	/* provenance is a record, not a reason to fail */
	return prov_attach(j->prov, e, proxy != NULL && proxy[0] != '\0');
}

/*
 * Keep what the recorder saw of the transfer that just ended, with the
 * part of the content it carried (completed with the object's id when
 * the job completes). A transfer that brought all of the content anew
 * makes the earlier ones' bytes irrelevant: they stay, as attempts,
 * without a payload.
 */
void
job_prov_keep(struct crawl_job *j)
{
	json_t *cap, *old;
	size_t i;

	if (j->prov == NULL || prov_hops(j->prov) == 0)
		return;
	if (j->prov_caps == NULL && (j->prov_caps = json_array()) == NULL)
		return;
	if (json_array_size(j->prov_caps) >= PROV_JOB_CAPTURES)
		return;
	/* A playlist, held whole, is never the item's bytes: kept inline. */
	if (j->docbuf != NULL)
		(void)prov_body(j->prov, j->docbuf->p != NULL ? j->docbuf->p : "",
		    j->docbuf->len);
	if ((cap = prov_capture_json(j->prov, j->cr->settings.source_urls)) == NULL)
		return;
	if (j->docbuf != NULL) {
		json_object_set_new(cap, "role", json_string("playlist"));
		json_array_append_new(j->prov_caps, cap);
		return;
	}
	if (j->body_started && j->offset == 0)
		json_array_foreach(j->prov_caps, i, old)
			json_object_del(old, "payload");
	if (j->body_started && j->received > 0)
		json_object_set_new(cap, "payload", json_pack("{s:[I, I]}", "range",
		    (json_int_t)j->offset, (json_int_t)(j->offset + j->received - 1)));
	json_array_append_new(j->prov_caps, cap);
	if (j->part_ok && j->state.part_url != NULL)
		job_prov_save(j, 0);
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
	o->ca_file = cfg->crawl_ca_file;
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
	    1, opt->ca_file) == -1) {
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
int
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
		char *path = crawl_state_path(j->cr->dir, j->src.key, ".part");
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
			job_prov_save(j, 1);
		}
	}
	j->body_started = 1;
	return 0;
}

/* A new loop turn: a new budget, and paused transfers go on. */
void
crawler_turn_cb(evutil_socket_t fd, short what, void *arg)
{
	struct crawler *cr = arg;
	struct crawl_job *j;

	cr->turn_bytes = 0;
	for (j = cr->jobs; j != NULL; j = j->next) {
		if (j->paused && j->easy != NULL && j->phase == J_ACTIVE) {
			j->paused = 0;
			/* May deliver the held bytes right here. When the write
			 * fails there (a full disk: j->reason says so), libcurl
			 * returns the error and leaves the transfer unpaused but
			 * unscheduled: it sat until some other timer, a minute
			 * on a full tmpfs. Paused and resumed once more, it is
			 * scheduled, and ends at its next write or its end. */
			if (curl_easy_pause(j->easy, CURLPAUSE_CONT) != CURLE_OK) {
				curl_easy_pause(j->easy, CURLPAUSE_RECV);
				curl_easy_pause(j->easy, CURLPAUSE_CONT);
			}
		}
	}
}

void
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
	if (j->received == 0 && j->offset == 0 && !j->src.follow) {
		size_t k = len < HEAD_MAX ? len : HEAD_MAX;
		if (j->head == NULL)
			j->head = malloc(HEAD_MAX);
		j->head_len = j->head != NULL ? k : 0;
		if (j->head != NULL)
			memcpy(j->head, buf, k);
	}
	if (j->docbuf != NULL || (j->received == 0 && j->offset == 0 && !j->src.follow &&
	    j->src.kind == SOURCE_AUTO && crawl_media_kind(j) == SOURCE_HLS)) {
		/* A playlist: held whole, never an item. */
		if (crawl_media_doc_write(j, buf, len) == -1)
			return 0;
		j->received += len;
		return len;
	}
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
	    j->src.follow ? cr->tls_verify : !j->src.insecure,
	    j->src.follow ? FOLLOW_MIN_RATE : 1,
	    cr->ca_file) == -1) {
		curl_easy_cleanup(e);
		return NULL;
	}
	if (job_prov_attach(j, e, proxy) == -1) {
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
	    store_has_object(cr->st, j->state.sha256) &&
	    crawler_published_is(cr, j->state.name, j->state.sha256)) {
		/* Conditional only while we still hold and list what the
		 * validators describe. */
		if (j->state.etag != NULL) {
			snprintf(hdr, sizeof(hdr), "If-None-Match: %s", j->state.etag);
			j->hdrs = curl_slist_append(j->hdrs, hdr);
		}
		if (j->state.last_modified != NULL) {
			snprintf(hdr, sizeof(hdr), "If-Modified-Since: %s", j->state.last_modified);
			j->hdrs = curl_slist_append(j->hdrs, hdr);
		}
	}
	for (size_t i = 0; i < j->src.n_headers; i++)
		j->hdrs = curl_slist_append(j->hdrs, j->src.headers[i]);
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
void
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
	if (j->attempt > 0) {
		char show[URL_SHOW_MAX];
		log_info("%s %s: attempt %u of %s%s", j->cr->tag, j->src.id, j->attempt + 1,
		    url_show(j->src.urls[j->url_i], show, sizeof(show)),
		    j->offset > 0 ? " (resuming)" : "");
	}
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
	char *path = crawl_state_path(j->cr->dir, j->src.key, ".part");

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

void
job_start(struct crawl_job *j)
{
	struct crawler *cr = j->cr;
	char *path;
	struct stat sb;

	cr->active++;
	crawl_state_load(cr->dir, j->src.key, &j->state);
	j->url_i = 0;
	j->attempt = 0;
	j->offset = 0;
	j->part_fd = -1;
	if (!j->src.follow && j->src.resolver) {
		crawl_media_resolve(j);
		return;
	}
	if (!j->src.follow && (j->src.kind == SOURCE_HLS || (j->src.kind == SOURCE_AUTO &&
	    j->state.kind != NULL && strcmp(j->state.kind, "hls") == 0))) {
		crawl_hls_start(j);
		return;
	}
	if (j->src.child && j->state.sha256 != NULL && j->state.url != NULL &&
	    strcmp(j->state.url, j->src.urls[0]) == 0 && store_has_object(cr->st, j->state.sha256) &&
	    crawler_published_is(cr, j->state.name, j->state.sha256)) {
		/* Found again: media at a URL do not change; not asked for again. */
		job_unchanged(j, j->state.name != NULL ? j->state.name : j->src.name);
		return;
	}
	/* A prefix kept from a broken transfer of the first URL? */
	path = crawl_state_path(j->cr->dir, j->src.key, ".part");
	if (path != NULL && stat(path, &sb) == 0 && sb.st_size > 0 &&
	    j->state.part_url != NULL && j->state.part_validator != NULL &&
	    (j->src.follow || strcmp(j->state.part_url, j->src.urls[0]) == 0)) {
		char err[ERRLEN];
		if ((j->in = ingest_new(cr->st, 0, err, sizeof(err))) != NULL) {
			j->offset = (uint64_t)sb.st_size;
			j->ingested = 0;
			job_prov_load(j, j->offset);
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
	if (crawl_ranges_try(j))
		return;
	job_go(j);
}

void
job_go(struct crawl_job *j)
{
	if (j->timer != NULL)
		event_free(j->timer);
	j->timer = evtimer_new(j->cr->base, job_retry_cb, j);
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
void
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

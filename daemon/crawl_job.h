/*
 * The crawler's insides, shared by crawl.c (the pass: queue, outcomes,
 * batches for the catalog) and crawl_transfer.c (one job's transfer on
 * the curl loop: the request, the body into the ingest sink, resume,
 * small bodies as ingest jobs). Not for other files: they use crawl.h.
 */
#ifndef EMBERD_CRAWL_JOB_H
#define EMBERD_CRAWL_JOB_H

#include <stdint.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <jansson.h>

#include "crawl.h"
#include "crawl_headers.h"
#include "crawl_state.h"
#include "curl_loop.h"
#include "ingest.h"
#include "peers.h"
#include "provenance.h"
#include "publish.h"
#include "config.h"

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
#define HEAD_MAX		512	/* body bytes kept to tell a page, feed or playlist */
#define PROV_JOB_CAPTURES	32	/* transfers of one job recorded (retries, resumes) */
#define PROV_HLS_CAPTURES	8192	/* ...of an HLS capture: playlists, keys, segments */
#define ERRLEN			512
struct crawl_src {
	char *id;		/* in log lines: the [source] id, "ID: NAME" for what it found */
	char *key;		/* the state files' name: the id, or ID~HASH for what it found */
	char *source;		/* the [source] id, for /metrics; NULL for a follower's object */
	char **urls;
	size_t n_urls;
	char *pin, *name, *type, *proxy;
	enum source_kind kind;	/* SOURCE_FILE for media found on a page or feed */
	int resolver;		/* yt-dlp gives the media URLs */
	enum source_variant variant;
	uint64_t bandwidth;
	unsigned max_items;
	unsigned depth;		/* 0 a [source], 1 found on it, 2 on a feed a page linked */
	int child;		/* a medium found on a page, feed or by a resolver: once held,
				 * never requested again (media at a URL do not change) */
	/* The catalog item's optional fields: from the config, else found. */
	char *title, *description, *lang, *page, *published;
	char **headers;		/* extra request headers (a resolver's) */
	size_t n_headers;
	int insecure;		/* [source] tls_verify = no: any certificate, and
				 * what it found inherits it */
	int remux;		/* an HLS capture of MPEG-TS: derive STEM.mp4 */
	char *stem;		/* an HLS capture's name without .ts/.mp4 (NULL: from
				 * name, else the key) */
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
	/* What the response turned out to be (SOURCE_FILE unless the source
	 * may be a page, feed or playlist), from the first bytes, kept in
	 * HEAD, and the Content-Type. */
	enum source_kind doc;
	unsigned char *head;	/* HEAD_MAX bytes, while a transfer runs: thousands of
				 * jobs of a pass need none */
	size_t head_len;
	char *eff_url;		/* the URL after redirects: links resolve against it */
	struct crawl_doc_buf *docbuf;	/* a playlist, held whole (capped) */
	struct crawl_hls *hls;	/* an HLS capture in progress */
	struct resolver_job *resolving;
	/* Provenance: the recorder of the current transfer, and what each
	 * transfer of this job recorded (a resumed download has several),
	 * made into the item's document when it completes. */
	struct prov_capture *prov;
	json_t *prov_caps;
	struct crawl_ranges *ranges;	/* a follower's object in ranges, out on a worker */
	struct crawl_job *next;
};

/* A body held in memory: a playlist (at most HLS_PLAYLIST_MAX). */
struct crawl_doc_buf {
	char *p;
	size_t len, cap, max;
};

/* A finished object waiting for its batch commit. */
struct crawl_commit {
	struct ingest *in;	/* NULL: the item's object is in the store (SHA256, SIZE):
				 * only its fields change (a page's title, once parsed) */
	struct crawl_job *job;
	char *name, *type, *source;
	char *title, *description, *lang, *page, *published, *derived_from;
	char sha256[65];
	uint64_t size;
	enum source_kind doc;	/* a page or feed: parsed once published */
	int changed;		/* the catalog item is new or different */
	int was_missing;	/* the store lacked the object (quarantined) */
	struct ingest *prov_in;	/* the provenance document, committed with IN */
	json_t *provenance;	/* the catalog item's "provenance" */
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
	char *ca_file;		/* [crawl] ca_file: extra CAs, or NULL */
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
	crawl_source_fn source_ok;	/* a source fetched or unchanged */
	void *source_ok_arg;
	int finishing;		/* inside the end of the pass */
	int64_t last_publish_ms;	/* monotonic */
	size_t turn_bytes;	/* through the sink in this loop turn */
	unsigned pooled;	/* ingest jobs out in the work queue */
	int draining;		/* the pass is being freed: jobs coming back only end */
	struct event *turn_ev;	/* the next turn: reset, unpause */
	struct crawl_job *tail;	/* the last of JOBS: found media join the pass */
	const struct peers *peers;	/* a sync's peers (the follower's), or NULL */
	int ranging;		/* an object in ranges out on a worker: one at a time,
				 * so that the ingest jobs of small ones keep a worker */
	json_t *found;		/* keys of what pages and feeds gave this pass */
	json_t *published;	/* the catalog as the pass found it (crawler_published_is) */
	int published_read;
	unsigned parsing;	/* pages and feeds being read off the loop */
	struct crawl_derive *derives;	/* remuxes waiting for the end of the transfers */
	unsigned deriving;	/* ...out in the work queue */
};

/* crawl.c */
int crawler_published_is(struct crawler *cr, const char *name, const char *sha256);
void job_finish(struct crawl_job *j);
void job_unchanged(struct crawl_job *j, const char *name);
int crawler_commit_add(struct crawler *cr, struct crawl_commit *c);
void crawler_source_ok(struct crawler *cr, const char *id);
void src_free(struct crawl_src *s);
void job_complete(struct crawl_job *j);
void job_failed(struct crawl_job *j, const char *reason, int keep_part);
void job_save_state(struct crawl_job *j);
void job_drop_part(struct crawl_job *j);
void job_drop_part_save(struct crawl_job *j, int save);
void crawler_check_end(struct crawler *cr);
long backoff_ms(unsigned attempt);
int64_t crawl_now_ms(void);
char *xstrdup(const char *s);

/* crawl_transfer.c */
int job_prov_attach(struct crawl_job *j, CURL *e, const char *proxy);
void job_prov_keep(struct crawl_job *j);
/* crawl_prov.c */
void job_provenance(struct crawl_job *j, const char *name, const struct object_meta *m,
    struct ingest **in, json_t **sum);
void job_recapture(struct crawl_job *j, const char *name, const struct object_meta *m);
void job_prov_save(struct crawl_job *j, int in_flight);
void job_prov_load(struct crawl_job *j, uint64_t kept);
void job_start(struct crawl_job *j);
void job_transfer(struct crawl_job *j);
/* The first transfer of a job (its retry timer made). */
void job_go(struct crawl_job *j);
/* crawl_ranges.c: 1 the job went to a worker to fetch in ranges, 0 not. */
int crawl_ranges_try(struct crawl_job *j);
void crawl_ranges_cancel(struct crawl_job *j);
int job_body_start(struct crawl_job *j);
void crawler_pool_push(struct crawler *cr, struct crawl_job *j);
void crawler_turn_cb(evutil_socket_t fd, short what, void *arg);
void crawler_turn_used(struct crawler *cr, size_t n);
int crawl_easy_common(CURL *e, const char *proxy, const char *user_agent, long timeout,
    int tls_verify, long min_rate, const char *ca_file);

/* crawl_media.c: pages, feeds, resolvers; what they find joins the pass */
void crawl_media_init(void);
enum source_kind crawl_media_kind(const struct crawl_job *j);
int crawl_media_doc_write(struct crawl_job *j, const char *buf, size_t len);
void crawl_media_parse(struct crawler *cr, struct crawl_job *j, const char *sha256,
    uint64_t size, const char *name, enum source_kind kind);
struct crawl_job *crawler_add_found(struct crawler *cr, const struct crawl_job *parent,
    const char *url, const char *name);
void crawl_media_resolve(struct crawl_job *j);
void crawl_media_free(struct crawl_job *j);
int crawler_media_busy(const struct crawler *cr);
void crawler_derive_add(struct crawler *cr, const char *source_id, const char *name,
    const char *const *inputs, size_t n, const char *lang, const char *title);
int crawler_derive_run(struct crawler *cr);
void crawler_derive_free(struct crawler *cr);

/* crawl_hls.c: an HLS capture, segment after segment into one ingest */
void crawl_hls_start(struct crawl_job *j);
void crawl_hls_playlist(struct crawl_job *j, const char *buf, size_t len);
void crawl_hls_free(struct crawl_job *j);

#endif

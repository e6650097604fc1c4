/*
 * `emberd run` (see server.h): the routes and what each answers, and
 * objects streamed from the store. Beside it: its set-up, signals and
 * shutdown (server_run.c), the
 * served catalog (server_catalog.c), the metadata cache (server_meta.c),
 * the schedule of passes (schedule.c), the scrub (scrub.c), the
 * counters' text (metrics.c) and HTTP framing (http_conn.c).
 */
#include "server.h"
#include "server_state.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <jansson.h>
#include <openssl/ssl.h>
#include <zlib.h>

#include "acme.h"
#include "catalog.h"
#include "config.h"
#include "downloads.h"
#include "http_conn.h"
#include "http_request.h"
#include "keys.h"
#include "lang_negotiate.h"
#include "log.h"
#include "metrics.h"
#include "names.h"
#include "privileges.h"
#include "schedule.h"
#include "scrub.h"
#include "server_cache.h"
#include "server_catalog.h"
#include "server_headers.h"
#include "server_meta.h"
#include "store.h"
#include "tls.h"
#include "workq.h"

/*
 * Limits, and why:
 * - CHUNK_LEN: a streamed object is read 32 KiB at a time, and the next
 *   piece only when the previous one has left for the socket (backpressure:
 *   memory per download is bounded, whatever the object's size).
 * - SMALL_REPLY: a response this small is read and sent in one go.
 * - RETRY_AFTER: out of descriptors, a reader is told to come back after
 *   this many seconds: by then connections have closed (an idle one
 *   lasts HEADER_TIMEOUT at most, server_run.c), and a second is what
 *   accepting pauses for in the same case.
 */
#define CHUNK_LEN	(32u * 1024)
#define SENDFILE_CHUNK	(512u * 1024)
#define TLS_RECORD	16384u	/* the most plaintext a TLS record holds */
#define SMALL_REPLY	(256u * 1024)
#define RETRY_AFTER	"2"

#define ALLOWED_METHODS "GET, HEAD"
/* Mirrors named in one Metalink or torrent: enough for any real list. */
#define DOC_MIRRORS_MAX	64


/* One object being sent: the file, where we are, and for objects stored
 * deflated but sent as identity, the inflater and how much to skip. */
struct server_stream {
	struct server_loop *loop;	/* the one sending it */
	int fd;
	uint64_t off;		/* next byte of the stored file to read */
	uint64_t stored_end;	/* end of the stored bytes to read */
	uint64_t skip;		/* identity bytes to drop (range on gzip) */
	uint64_t left;		/* bytes still to send */
	int inflating;
	z_stream zs;
	unsigned char *in;
	/* Plain HTTP/1.1, raw: the kernel sends from the page cache
	 * (sendfile) instead of a read and a write of every byte. */
	struct evbuffer_file_segment *seg;
	uint64_t seg_base;	/* file offset the segment starts at */
};

/* ---- catalog ---- */

void
server_catalog_dirty(struct server *s, int force)
{
	if (force)
		__atomic_store_n(&s->cat_force, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&s->cat_gen, 1, __ATOMIC_RELEASE);
}

/*
 * The catalog `current` points at, re-read first if it may have moved:
 * called before every request that depends on it, so that an `add` (or
 * a sync) is served at once, without a signal. With inotify, only when
 * `current` may have moved; without, a readlink every time. Whichever
 * loop asks first loads it, outside the lock (the others keep serving
 * the old one, but a request that knows of the move waits for the new
 * one rather than answer from the old), and swaps it in under the lock.
 */
void
server_current(struct server *s)
{
	struct server_catalog fresh, old;
	struct index_page_info info;
	char target[sizeof(s->cat.target)], pin[sizeof(s->pin)], *self_url = NULL;
	int langs[INDEX_LANGS_MAX], nomem;
	unsigned gen;

	gen = __atomic_load_n(&s->cat_gen, __ATOMIC_ACQUIRE);
	if (s->watch_fd != -1 && gen == __atomic_load_n(&s->cat_loaded, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&s->load_mu);
	gen = __atomic_load_n(&s->cat_gen, __ATOMIC_ACQUIRE);
	if (s->watch_fd != -1 && gen == s->cat_loaded) {
		pthread_mutex_unlock(&s->load_mu);	/* another loop just did */
		return;
	}
	/* What the page shows besides the catalog: copied, as SIGHUP and
	 * a new certificate replace it. */
	memset(&info, 0, sizeof(info));
	pthread_rwlock_rdlock(&s->lock);
	info.pubkey = s->pubkey_b64;
	snprintf(pin, sizeof(pin), "%s", s->pin);
	info.pin = pin[0] != '\0' ? pin : NULL;
	info.n_langs = s->cfg.n_languages < INDEX_LANGS_MAX ? s->cfg.n_languages :
	    INDEX_LANGS_MAX;
	memcpy(langs, s->cfg.languages, info.n_langs * sizeof(langs[0]));
	info.langs = langs;
	nomem = s->cfg.url != NULL && (self_url = strdup(s->cfg.url)) == NULL;
	pthread_rwlock_unlock(&s->lock);
	if (nomem)
		log_error("out of memory");
	info.self_url = self_url;
	snprintf(target, sizeof(target), "%s",
	    __atomic_exchange_n(&s->cat_force, 0, __ATOMIC_RELAXED) ? "" : s->cat.target);
	if (!nomem && server_catalog_load(target, s->st.root, &info, &fresh) == 1) {
		pthread_rwlock_wrlock(&s->lock);
		old = s->cat;
		s->cat = fresh;
		pthread_rwlock_unlock(&s->lock);
		/* No request holds it: each held the lock while using it. */
		server_catalog_free(&old);
	}
	__atomic_store_n(&s->cat_loaded, gen, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&s->load_mu);
	free(self_url);
}

void
server_watch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *s = arg;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	/*
	 * Any event on the store folder may be the swap of `current`; the
	 * next request re-reads the link, which is cheap. Every loop watches
	 * the descriptor, and marks before it reads: a loop that finds it
	 * read already by another still knows before its next request.
	 */
	server_catalog_dirty(s, 0);
	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

/* ---- responses ---- */

static void
server_log_request(struct server *s, struct http_conn *c, const struct http_head *h,
    int code, uint64_t bytes)
{
	char uri[256];
	size_t i;

	metrics_count(&server_loop_self()->m, code, bytes);
	if (!s->cfg.access_log)
		return;
	/* The target is the reader's text: keep it printable and short. */
	snprintf(uri, sizeof(uri), "%s", h->target);
	for (i = 0; uri[i] != '\0'; i++)
		if ((unsigned char)uri[i] < 0x20 || (unsigned char)uri[i] >= 0x7f)
			uri[i] = '?';
	if (s->cfg.log_addresses)
		log_info("%s %.16s %s %d %llu", http_conn_peer(c), h->method_text, uri, code,
		    (unsigned long long)bytes);
	else
		log_info("%.16s %s %d %llu", h->method_text, uri, code, (unsigned long long)bytes);
}

/* The rest of a small response begun with http_conn_begin(CODE): its
 * type, and the body, which is in memory. */
static void
server_reply(struct server *s, struct http_conn *c, const struct http_head *h, int code,
    const char *type, const void *body, size_t len)
{
	if (type != NULL)
		http_conn_header(c, "Content-Type", type);
	server_log_request(s, c, h, code, h->method == HTTP_HEAD ? 0 : len);
	http_conn_reply(c, body, len);
}

/* The rest of a 200 begun for a document made from the catalog (the
 * index, the feed): kept in memory as it is and gzipped, the gzip for
 * clients that take it. */
static void
server_reply_made(struct server *s, struct http_conn *c, const struct http_head *h,
    const char *vary, const char *type, const char *plain, size_t plain_len,
    const char *gz, size_t gz_len)
{
	int use_gz = http_accepts_gzip(h->accept_encoding);

	http_conn_header(c, "Vary", vary);
	http_conn_header(c, "Cache-Control", "no-cache");
	if (use_gz)
		http_conn_header(c, "Content-Encoding", "gzip");
	server_reply(s, c, h, 200, type, use_gz ? gz : plain, use_gz ? gz_len : plain_len);
}

/* Onion-Location: [mirror] onion and the path asked for, so that Tor
 * Browser offers the onion service's copy of this HTML page. The target
 * passed the request parser: no blanks or controls to carry over. */
static void
server_onion_location(struct server *s, struct http_conn *c, const struct http_head *h)
{
	const char *path = h->target;
	char *v;

	if (s->cfg.onion == NULL)
		return;
	while (*path == '/')
		path++;
	if (asprintf(&v, "%s%.*s", s->cfg.onion, (int)strcspn(path, "?#"), path) == -1)
		return;
	http_conn_header(c, "Onion-Location", v);
	free(v);
}

/* The body of an error begun with http_conn_begin(CODE). */
static void
server_error_body(struct server *s, struct http_conn *c, const struct http_head *h,
    int code, const char *msg)
{
	char body[128];
	int n = snprintf(body, sizeof(body), "%s\n", msg);

	server_reply(s, c, h, code, "text/plain; charset=utf-8", body, (size_t)n);
}

static void
server_error(struct server *s, struct http_conn *c, const struct http_head *h, int code,
    const char *msg)
{
	http_conn_begin(c, code);
	server_error_body(s, c, h, code, msg);
}

/* ---- objects ---- */

static void
server_stream_free(struct server_stream *st)
{
	if (st->fd != -1)
		close(st->fd);
	if (st->seg != NULL)
		evbuffer_file_segment_free(st->seg);
	if (st->inflating)
		inflateEnd(&st->zs);
	free(st->in);
	__atomic_store_n(&st->loop->streams, st->loop->streams - 1, __ATOMIC_RELAXED);
	free(st);
}

/* Add the next bytes to send, at most WANT, to BUF: raw from the file,
 * or inflated (dropping the first SKIP bytes for a range). 0 ok, -1 on
 * error. */
static int
server_stream_read(struct server_stream *st, struct evbuffer *buf, size_t want)
{
	size_t added = 0;

	if (st->seg != NULL && want < SENDFILE_CHUNK)
		want = SENDFILE_CHUNK;	/* no memory behind it: fewer, larger sends */
	if (want > st->left)
		want = (size_t)st->left;
	if (st->seg != NULL) {
		if (evbuffer_add_file_segment(buf, st->seg, (ev_off_t)(st->off - st->seg_base),
		    (ev_off_t)want) == -1)
			return -1;
		st->off += want;
		st->left -= want;
		return 0;
	}
	if (!st->inflating) {
		/*
		 * One piece, ending the output at a multiple of 16 KiB: the
		 * TLS bufferevent makes a record of each piece of every 16 KiB
		 * it writes, so a piece boundary elsewhere made a short record
		 * and a tiny one (and two write() calls) every 32 KiB: 40 %
		 * more writes for a large download over HTTPS.
		 */
		struct evbuffer_iovec v;
		size_t tail = (evbuffer_get_length(buf) + want) % TLS_RECORD;
		if (tail < want && want - tail >= TLS_RECORD / 2)
			want -= tail;
		if (evbuffer_reserve_space(buf, (ev_ssize_t)want, &v, 1) < 1)
			return -1;
		ssize_t n = pread(st->fd, v.iov_base, want, (off_t)st->off);
		if (n <= 0)
			return -1;
		v.iov_len = (size_t)n;
		evbuffer_commit_space(buf, &v, 1);
		st->off += (uint64_t)n;
		st->left -= (uint64_t)n;
		return 0;
	}
	while (added < want) {
		unsigned char out[16384];
		if (st->zs.avail_in == 0 && st->off < st->stored_end) {
			size_t rl = CHUNK_LEN;
			if (st->stored_end - st->off < rl)
				rl = (size_t)(st->stored_end - st->off);
			ssize_t n = pread(st->fd, st->in, rl, (off_t)st->off);
			if (n <= 0)
				return -1;
			st->off += (uint64_t)n;
			st->zs.next_in = st->in;
			st->zs.avail_in = (uInt)n;
		}
		/* Never inflate past what this chunk needs (plus what a range
		 * skips): output beyond it would have nowhere to go. With no
		 * input left, inflate may still hold output. */
		uint64_t need = (uint64_t)(want - added) + st->skip;
		size_t cap = need < sizeof(out) ? (size_t)need : sizeof(out);
		st->zs.next_out = out;
		st->zs.avail_out = (uInt)cap;
		int zr = inflate(&st->zs, Z_NO_FLUSH);
		if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR)
			return -1;
		size_t got = cap - st->zs.avail_out;
		if (got == 0 && (zr != Z_OK || st->zs.avail_in == 0) &&
		    st->off >= st->stored_end)
			return -1;	/* shorter than its metadata says */
		unsigned char *p = out;
		if (st->skip > 0) {
			size_t drop = st->skip < got ? (size_t)st->skip : got;
			st->skip -= drop;
			p += drop;
			got -= drop;
		}
		if (evbuffer_add(buf, p, got) == -1)
			return -1;
		added += got;
	}
	st->left -= want;
	return 0;
}

static int
server_stream_fill(void *arg, struct evbuffer *out, size_t want)
{
	struct server_stream *st = arg;

	if (st->left > 0 && server_stream_read(st, out, want) == -1) {
		/* The object changed under us or the disk failed: the
		 * Content-Length already went out, so the only honest thing
		 * left is to cut the connection. */
		log_error("object read failed mid-response; closing the connection");
		return -1;
	}
	return st->left == 0 ? 1 : 0;
}

static void
server_stream_done(void *arg, int complete)
{
	struct server_stream *st = arg;

	metrics_add(complete ? &st->loop->m.streams_done : &st->loop->m.streams_aborted, 1);
	server_stream_free(st);
}

/* On the main loop, which owns the schedule: fetch what was set aside. */
static void
server_refetch(void *arg)
{
	struct server *s = arg;

	schedule_refetch(s->sched);
}

/* An object that is not what its id says any more: never served, set
 * aside, fetched again where it came from. */
static void
server_object_bad(struct server *s, const char *hex, const char *why)
{
	json_t *item = s->cat.by_hash != NULL ? json_object_get(s->cat.by_hash, hex) : NULL;
	const char *src = json_string_value(json_object_get(item, "source"));
	/* A follower has it from its peers; a publisher what it crawls (no source: none). */
	int again = s->cfg.follow || (s->cfg.n_sources > 0 && item && (!src || *src != '\0'));

	if (store_quarantine(&s->st, hex) == 0) {
		metrics_add(&server_loop_self()->m.quarantined, 1);
		log_error("object %s: %s; quarantined, not served; %s", hex, why, again ?
		    "it will be fetched again" : "add the file again to serve it");
		/* Not waited for: the main loop may be waiting for this
		 * request's lock. */
		server_loop_post_main(s, server_refetch, s);
	} else
		log_error("object %s: %s; not serving it", hex, why);
}

/*
 * Open object HEX and read its metadata. The one place where a failed
 * open becomes what the reader sees (http_errno_status): the fd, or -1
 * once the error is answered. An object whose metadata does not hold is
 * set aside and answered 404, like one that is not here.
 */
static int
server_object_open(struct server *s, struct http_conn *c, const struct http_head *h,
    const char *hex, struct object_meta *m)
{
	char *path, err[256];
	int fd, code;

	if ((path = store_object_path(&s->st, hex)) == NULL) {
		server_error(s, c, h, 500, "out of memory");
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd != -1) {
		if (server_meta_get(server_loop_self()->meta, fd, hex, m, err, sizeof(err)) == 0)
			return fd;
		close(fd);
		server_object_bad(s, hex, err);
		errno = ENOENT;
	}
	switch ((code = http_errno_status(errno))) {
	case 404:
		/* Listed but not here (quarantined, not synced yet). */
		server_error(s, c, h, 404, "object not available on this mirror");
		break;
	case 403:
		log_error("object %s: %s; check the store's owner and modes", hex,
		    strerror(errno));
		server_error(s, c, h, 403, "object not readable on this mirror");
		break;
	case 503:
		log_warn("object %s: %s; answering 503", hex, strerror(errno));
		http_conn_begin(c, 503);
		http_conn_header(c, "Retry-After", RETRY_AFTER);
		server_error_body(s, c, h, 503, "busy: try again shortly");
		break;
	default:
		log_error("object %s: %s", hex, strerror(errno));
		server_error(s, c, h, code, "object unreadable");
		break;
	}
	return -1;
}

/* Raw bytes on a plain HTTP/1.1 connection: by sendfile when libevent
 * can; without a segment, read and written as on TLS. A file cut short
 * under it ends the connection at the short send, as a short read does. */
static void
server_stream_sendfile(struct server_stream *st, struct http_conn *c, uint64_t first,
    uint64_t len)
{
	if (http_conn_is_tls(c))
		return;
	/* The segment owns the descriptor from here: bytes it queued may
	 * still wait in the output when the stream is freed. */
	st->seg = evbuffer_file_segment_new(st->fd, (ev_off_t)first, (ev_off_t)len,
	    EVBUF_FS_CLOSE_ON_FREE);
	if (st->seg == NULL)
		return;
	st->fd = -1;
	st->seg_base = first;
}

static void
server_cached_release(void *co)
{
	server_cache_release(co);
}

/*
 * Object HEX for a request: held in memory by this loop (*CO, *FD -1),
 * or opened (*FD, *CO NULL). -1 once the error is answered.
 */
static int
server_object_get(struct server *s, struct http_conn *c, const struct http_head *h,
    const char *hex, struct object_meta *m, int *fd, const struct cached_object **co)
{
	*fd = -1;
	if ((*co = server_cache_get(server_loop_self()->cache, hex)) != NULL) {
		*m = (*co)->m;
		return 0;
	}
	return (*fd = server_object_open(s, c, h, hex, m)) == -1 ? -1 : 0;
}

/*
 * The object opened as *FD is about to be sent as stored: offered to
 * the loop's cache, which may take it (*CO; *FD closed) and then checks
 * its bytes against their hash. Bytes that do not match make it bad:
 * -1, answered as an object that is not here.
 */
static int
server_object_offer(struct server *s, struct http_conn *c, const struct http_head *h,
    const char *hex, const struct object_meta *m, int *fd, const struct cached_object **co)
{
	char err[256];

	if ((*co = server_cache_offer(server_loop_self()->cache, hex, *fd, m, err,
	    sizeof(err))) == NULL && err[0] == '\0')
		return 0;
	close(*fd);
	*fd = -1;
	if (*co != NULL)
		return 0;
	server_object_bad(s, hex, err);
	server_error(s, c, h, 404, "object not available on this mirror");
	return -1;
}

static void
server_object_let_go(int fd, const struct cached_object *co)
{
	if (fd != -1)
		close(fd);
	if (co != NULL)
		server_cache_release(co);
}

/* Send LEN bytes of FD from FIRST (of the identity bytes when INFLATE):
 * a small raw body in one read, anything else streamed. Owns FD. With
 * CO (and no INFLATE), the bytes are those held in memory. */
static void
server_object_send(struct server *s, struct http_conn *c, const char *hex, int fd,
    const struct cached_object *co, const struct object_meta *m, uint64_t first,
    uint64_t len, int inflate)
{
	struct server_stream *st;

	if (co != NULL) {
		http_conn_reply_mem(c, co->data + first, (size_t)len, server_cached_release,
		    (void *)co);
		return;
	}
	/* Small and raw (or gzip as stored): one read, one reply, no
	 * streaming machinery; memory is bounded by SMALL_REPLY. */
	if (len <= SMALL_REPLY && !inflate) {
		int r = http_conn_reply_file(c, fd, first, (size_t)len);
		if (r == -1)
			log_error("out of memory");
		else if (r == -2)
			log_error("object %s: short read; closing the connection", hex);
		return;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL)
		goto oom;
	st->loop = server_loop_self();
	st->fd = fd;
	st->left = len;
	st->stored_end = m->stored_size;
	if (inflate) {
		if ((st->in = malloc(CHUNK_LEN)) == NULL ||
		    inflateInit2(&st->zs, 15 + 16) != Z_OK) {
			free(st->in);
			free(st);
			goto oom;
		}
		st->inflating = 1;
		st->skip = first;
	} else {
		st->off = first;
		server_stream_sendfile(st, c, first, len);
	}
	__atomic_store_n(&st->loop->streams, st->loop->streams + 1, __ATOMIC_RELAXED);
	/* Raw over HTTP/2: from the file into the output, frame by frame. */
	if (!inflate && http_conn_stream_file(c, st->fd, first, len, server_stream_done, st) == 0)
		return;
	http_conn_stream(c, len, server_stream_fill, server_stream_done, st);
	return;
oom:
	close(fd);
	log_error("out of memory");
	http_conn_abort(c);
}

/*
 * Answer with the object of catalog ITEM (its sha256, type and name):
 * conditional and range requests, gzip as stored when the reader takes
 * it, identity otherwise (inflated on the fly for objects stored
 * deflated). The object is streamed: memory does not depend on its size.
 */
static void
server_object(struct server *s, struct http_conn *c, const struct http_head *h,
    json_t *item, int immutable)
{
	const char *hex = json_string_value(json_object_get(item, "sha256"));
	const char *name = json_string_value(json_object_get(item, "name"));
	struct object_meta m;
	struct http_range r;
	enum http_range_result rr = RANGE_NONE;
	const struct cached_object *co;
	char etag[80], hdr[128];
	int fd, gzip_out, inflate, code = 200, head = h->method == HTTP_HEAD;
	uint64_t first = 0, len;

	if (server_object_get(s, c, h, hex, &m, &fd, &co) == -1)
		return;
	snprintf(etag, sizeof(etag), "\"%s\"", hex);
	if (http_if_none_match(h->if_none_match, etag)) {
		server_object_let_go(fd, co);
		http_conn_begin(c, 304);
		server_headers_object(c, etag, immutable, m.gzip);
		server_log_request(s, c, h, 304, 0);
		http_conn_reply_empty(c);
		return;
	}
	if (http_if_range(h->if_range, etag))
		rr = http_range_parse(h->range, m.size, &r);
	if (rr == RANGE_UNSATISFIABLE) {
		server_object_let_go(fd, co);
		http_conn_begin(c, 416);
		server_headers_object(c, etag, immutable, m.gzip);
		snprintf(hdr, sizeof(hdr), "bytes */%llu", (unsigned long long)m.size);
		http_conn_header(c, "Content-Range", hdr);
		server_error_body(s, c, h, 416, "range not satisfiable");
		return;
	}
	gzip_out = m.gzip && rr == RANGE_NONE && http_accepts_gzip(h->accept_encoding);
	inflate = m.gzip && !gzip_out;
	if (co != NULL && inflate && !head) {
		/* Identity bytes are inflated from the file as they go. */
		server_cache_release(co);
		co = NULL;
		if ((fd = server_object_open(s, c, h, hex, &m)) == -1)
			return;
	} else if (co == NULL && !inflate && !head &&
	    server_object_offer(s, c, h, hex, &m, &fd, &co) == -1)
		return;
	if (rr == RANGE_SINGLE)
		code = 206;

	http_conn_begin(c, code);
	server_headers_object(c, etag, immutable, m.gzip);
	if (gzip_out)
		http_conn_header(c, "Content-Encoding", "gzip");
	server_headers_content(c, json_string_value(json_object_get(item, "type")),
	    name != NULL ? name : hex, gzip_out ? m.stored_sha256 : m.sha256);
	if (json_string_value(json_object_get(item, "type")) != NULL &&
	    strncasecmp(json_string_value(json_object_get(item, "type")), "text/html", 9) == 0)
		server_onion_location(s, c, h);
	len = gzip_out ? m.stored_size : m.size;
	if (rr == RANGE_SINGLE) {
		first = r.first;
		len = r.last - r.first + 1;
		snprintf(hdr, sizeof(hdr), "bytes %llu-%llu/%llu",
		    (unsigned long long)r.first, (unsigned long long)r.last,
		    (unsigned long long)m.size);
		http_conn_header(c, "Content-Range", hdr);
	}

	server_log_request(s, c, h, code, head ? 0 : len);
	if (head || len == 0) {
		server_object_let_go(fd, co);
		http_conn_reply(c, NULL, (size_t)len);
		return;
	}
	server_object_send(s, c, hex, fd, co, &m, first, len, inflate);
}

/* ---- other routes ---- */

/*
 * What the main loop makes for a request on any loop: it owns what
 * /metrics reads (the schedule, the scrub, the store's sizes) and the
 * ACME client's pending challenges.
 */
struct server_made {
	struct server *s;
	const char *token;	/* the ACME token asked for */
	char *ka;		/* its key authorization, or NULL */
	char *text;		/* /metrics: the text, or NULL */
	size_t len;
};

/* On the main loop: the counters of every loop summed, and what a
 * scrape reads. */
static void
server_metrics_make(void *arg)
{
	struct server_made *mk = arg;
	struct server *s = mk->s;
	struct metrics sum;
	struct metrics_now now = {
		.connections = server_connections(s),
		.downloads = server_streams(s),
		.follower = s->cfg.follow,
	};
	uint64_t *reqs = calloc(s->n_loops, sizeof(*reqs));
	unsigned *conns = calloc(s->n_loops, sizeof(*conns));
	unsigned *ids = calloc(s->n_loops, sizeof(*ids));
	unsigned i, t, n = 0;

	if (reqs == NULL || conns == NULL || ids == NULL)
		goto out;
	sum = s->m;
	for (i = 0; i < s->n_loops; i++) {
		const struct metrics *lm = &s->loops[i].m;
		for (t = 0; t < 6; t++)
			sum.responses[t] += metrics_get(&lm->responses[t]);
		sum.bytes += metrics_get(&lm->bytes);
		sum.streams_done += metrics_get(&lm->streams_done);
		sum.streams_aborted += metrics_get(&lm->streams_aborted);
		sum.quarantined += metrics_get(&lm->quarantined);
		sum.requests += metrics_get(&lm->requests);
		if (s->loops[i].https == NULL && s->loops[i].http == NULL)
			continue;	/* the main loop beside workers */
		ids[n] = s->loops[i].id;
		reqs[n] = metrics_get(&lm->requests);
		conns[n++] = (s->loops[i].https ? http_server_connections(s->loops[i].https) : 0) +
		    (s->loops[i].http ? http_server_connections(s->loops[i].http) : 0);
	}
	now.workers = n;
	now.worker_ids = ids;
	now.worker_requests = reqs;
	now.worker_connections = conns;
	pthread_rwlock_rdlock(&s->lock);
	metrics_read(&s->m, &now, s->cat.cat, s->st.root, s->cfg.min_free, s->sched);
	pthread_rwlock_unlock(&s->lock);
	scrub_counts(s->scrub, &now.scrub_checked, &now.scrub_bad);
	for (t = 0; t < WORKQ_TYPES; t++)
		now.workq_pending[t] = workq_pending((enum workq_type)t);
	mk->text = metrics_text(&sum, &now, &mk->len);
out:
	free(reqs);
	free(conns);
	free(ids);
}

static void
server_metrics(struct server *s, struct http_conn *c, const struct http_head *h,
    const struct server_made *mk)
{
	if (mk->text == NULL) {
		server_error(s, c, h, 503, "metrics not available now");
		return;
	}
	http_conn_begin(c, 200);
	http_conn_header(c, "Cache-Control", "no-store");
	server_reply(s, c, h, 200, "text/plain; version=0.0.4; charset=utf-8", mk->text,
	    mk->len);
}

/* The catalog and its signature: byte for byte, revalidated each time
 * (a new one may be published any moment). */
static void
server_catalog_file(struct server *s, struct http_conn *c, const struct http_head *h,
    const char *type, const char *body, size_t len)
{
	http_conn_begin(c, 200);
	http_conn_header(c, "Cache-Control", "no-cache");
	server_reply(s, c, h, 200, type, body, len);
}

/* A Host header fit to build a URL from: a name or address and a port. */
static int
server_host_ok(const char *host)
{
	size_t n = host != NULL ? strlen(host) : 0;

	return n > 0 && n < 256 && strspn(host,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") == n &&
	    host[0] != '.' && host[0] != '-';
}

/*
 * /files/NAME.meta4 and /files/NAME.torrent, made per request from the
 * object's metadata (its size, SHA-256 and the SHA-1 pieces kept at
 * ingest: nothing is re-read) and the mirrors: this one ([mirror] url, or
 * the address the client used when that is not set), then the catalog's.
 */
static void
server_download_doc(struct server *s, struct http_conn *c, const struct http_head *h,
    json_t *item, int metalink)
{
	const char *hex = json_string_value(json_object_get(item, "sha256"));
	const char *bases[DOC_MIRRORS_MAX + 1];
	json_t *mirrors = json_object_get(s->cat.cat, "mirrors"), *v;
	struct object_meta m;
	struct dl_item it;
	char err[256], *self = NULL, *doc = NULL;
	size_t i, n = 0, len = 0;

	memset(&m, 0, sizeof(m));
	if (s->cfg.url != NULL)
		bases[n++] = s->cfg.url;
	else if (server_host_ok(h->host) &&
	    asprintf(&self, "%s://%s/", http_conn_is_tls(c) ? "https" : "http", h->host) != -1)
		bases[n++] = self;
	else
		self = NULL;
	json_array_foreach(mirrors, i, v)
		n = dl_bases_add(bases, n, DOC_MIRRORS_MAX, json_string_value(v));
	if (store_meta_read(&s->st, hex, &m, err, sizeof(err)) == -1) {
		log_error("%s: %s", hex, err);
		server_error(s, c, h, 500, "object metadata unreadable");
		goto out;
	}
	memset(&it, 0, sizeof(it));
	it.name = json_string_value(json_object_get(item, "name"));
	it.type = json_string_value(json_object_get(item, "type"));
	it.sha256 = hex;
	it.size = m.size;
	it.piece_length = m.piece_length;
	it.pieces = m.pieces;
	it.n_pieces = m.n_pieces;
	/* BitTorrent has no empty files (clients refuse a torrent of 0
	 * bytes): such an item gets a Metalink only. */
	doc = !metalink && m.size == 0 ? NULL : metalink ? dl_metalink(&it, bases, n,
	    json_string_value(json_object_get(s->cat.cat, "generated")), &len) :
	    dl_torrent(&it, bases, n, &len);
	if (doc == NULL) {
		/* No URL at all (no [mirror] url, no Host), or a name the
		 * format cannot carry. */
		server_error(s, c, h, 404, metalink ? "no metalink for this item" :
		    "no torrent for this item");
		goto out;
	}
	http_conn_begin(c, 200);
	/* The mirror list changes with the catalog. */
	http_conn_header(c, "Cache-Control", "no-cache");
	server_reply(s, c, h, 200, metalink ? "application/metalink4+xml" :
	    "application/x-bittorrent", doc, len);
out:
	free(doc);
	free(self);
	store_meta_free(&m);
}

/*
 * "/": the index in the language asked for (?lang=, a configured one)
 * or negotiated (Accept-Language), page ?page=, filtered by ?q=. A page
 * past the last is the last and page 0 the first; a page that is not a
 * number, a search longer than INDEX_QUERY_MAX bytes or a broken
 * %-escape is a 400: there is no nearest valid answer to guess.
 */
static void
server_index(struct server *s, struct http_conn *c, const struct http_head *h)
{
	const char *query = strchr(h->target, '?');
	char lang[64], q[INDEX_QUERY_MAX + 1], pg[32];
	const struct server_page *p;
	struct server_page tmp;
	size_t page = 1, i;
	int l = -1, want, has_q;

	if (query != NULL)
		query++;
	if (lang_query_get(query, "lang", lang, sizeof(lang)) == 1 &&
	    (want = lang_lookup(lang, strlen(lang))) != -1)
		for (i = 0; i < s->cfg.n_languages; i++)
			if (s->cfg.languages[i] == want)
				l = want;
	if (l == -1)
		l = lang_negotiate(h->accept_language, s->cfg.languages,
		    s->cfg.n_languages);
	if ((has_q = lang_query_get(query, "q", q, sizeof(q))) == -1) {
		server_error(s, c, h, 400, "bad search: too long or malformed");
		return;
	}
	switch (lang_query_get(query, "page", pg, sizeof(pg))) {
	case 1:
		if (pg[0] == '\0' || pg[strspn(pg, "0123456789")] != '\0') {
			server_error(s, c, h, 400, "bad page: use ?page=1, 2, ...");
			return;
		}
		/* Saturates: any huge number is the last page. */
		for (i = 0, page = 0; pg[i] != '\0'; i++)
			page = page > SIZE_MAX / 20 ? SIZE_MAX / 2 :
			    page * 10 + (size_t)(pg[i] - '0');
		break;
	case -1:
		server_error(s, c, h, 400, "bad page: use ?page=1, 2, ...");
		return;
	}
	if ((p = server_catalog_index(&s->cat, l, page, has_q == 1 ? q : NULL,
	    &tmp, &s->pages_mu)) == NULL) {
		server_error(s, c, h, 503, "out of memory");
		return;
	}
	/* Our own page: not sandboxed, but nothing runs and nothing loads
	 * from elsewhere. */
	http_conn_begin_csp(c, 200, "default-src 'none'; style-src 'unsafe-inline'; "
	    "img-src 'self'; media-src 'self'");
	server_onion_location(s, c, h);
	http_conn_header(c, "Content-Language", index_langs[l]->tag);
	server_reply_made(s, c, h, "Accept-Encoding, Accept-Language",
	    "text/html; charset=utf-8", p->html, p->len, p->gz, p->gz_len);
	server_page_free(&tmp);
}

#define ACME_PREFIX	"/.well-known/acme-challenge/"
#define ACME_FILE_MAX	4096

/*
 * http-01: the key authorization for TOKEN, from the built-in client's
 * pending challenges or from [https] acme_webroot (certbot --webroot
 * writes it there). The token is checked before it makes a path, and
 * O_NOFOLLOW keeps a link planted in the webroot from reading elsewhere.
 */
/* On the main loop: the built-in client's answer to TOKEN, copied. */
static void
server_acme_find(void *arg)
{
	struct server_made *mk = arg;
	const char *ka = acme_challenge(mk->s->acme, mk->token);

	mk->ka = ka != NULL ? strdup(ka) : NULL;
}

static void
server_acme_challenge(struct server *s, struct http_conn *c, const struct http_head *h,
    const char *token, const char *ka)
{
	char *path = NULL, *body = NULL;
	size_t len = 0;
	ssize_t n = 0;
	int fd = -1;

	if (!acme_token_ok(token))
		goto none;
	if (ka != NULL) {
		http_conn_begin(c, 200);
		http_conn_header(c, "Cache-Control", "no-store");
		server_reply(s, c, h, 200, "text/plain", ka, strlen(ka));
		return;
	}
	if (s->cfg.acme_webroot == NULL ||
	    asprintf(&path, "%s" ACME_PREFIX "%s", s->cfg.acme_webroot, token) == -1 ||
	    (fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) == -1 ||
	    (body = malloc(ACME_FILE_MAX)) == NULL)
		goto none;
	while (len < ACME_FILE_MAX && (n = read(fd, body + len, ACME_FILE_MAX - len)) > 0)
		len += (size_t)n;
	if (n == -1 || len == ACME_FILE_MAX)
		goto none;
	http_conn_begin(c, 200);
	http_conn_header(c, "Cache-Control", "no-store");
	server_reply(s, c, h, 200, "text/plain", body, len);
	goto out;
none:
	server_error(s, c, h, 404, "not found");
out:
	if (fd != -1)
		close(fd);
	free(path);
	free(body);
}

/* The answer, under the lock held for reading: the config and catalog
 * stay as they are until it is done. MK: what the main loop made. */
static void
server_answer(struct server *s, struct http_conn *c, const struct http_head *h,
    const struct server_made *mk)
{
	const char *target = h->target;
	char name[NAME_MAX_BYTES + 1];
	enum http_route route;
	json_t *item;

	if (h->method == HTTP_OTHER) {
		http_conn_begin(c, 405);
		http_conn_header(c, "Allow", ALLOWED_METHODS);
		server_error_body(s, c, h, 405, "only GET and HEAD");
		return;
	}
	if (strncmp(target, ACME_PREFIX, sizeof(ACME_PREFIX) - 1) == 0) {
		server_acme_challenge(s, c, h, target + sizeof(ACME_PREFIX) - 1, mk->ka);
		return;
	}

	switch ((route = http_route(target, name, sizeof(name)))) {
	case ROUTE_BAD:
		server_error(s, c, h, 400, "bad request");
		return;
	case ROUTE_HEALTHZ:
		http_conn_begin(c, 200);
		http_conn_header(c, "Cache-Control", "no-store");
		server_reply(s, c, h, 200, "text/plain; charset=utf-8", "ok\n", 3);
		return;
	case ROUTE_METRICS:
		if (!http_conn_is_loopback(c)) {
			server_error(s, c, h, 403, "metrics are for this machine only");
			return;
		}
		server_metrics(s, c, h, mk);
		return;
	case ROUTE_PUBKEY:
		http_conn_begin(c, 200);
		server_reply(s, c, h, 200, "text/plain; charset=utf-8", s->pubkey_file,
		    strlen(s->pubkey_file));
		return;
	default:
		break;
	}
	if (s->cat.cat == NULL) {
		server_error(s, c, h, 404, "no catalog published yet");
		return;
	}
	switch (route) {
	case ROUTE_INDEX:
		server_index(s, c, h);
		return;
	case ROUTE_FEED:
		/* Enclosures on [mirror] url, else relative to the feed: never
		 * the Host a client sent, which would make a feed per Host. */
		http_conn_begin(c, 200);
		server_reply_made(s, c, h, "Accept-Encoding", "application/rss+xml; charset=utf-8",
		    s->cat.feed, s->cat.feed_len, s->cat.feed_gz, s->cat.feed_gz_len);
		return;
	case ROUTE_CATALOG:
		server_catalog_file(s, c, h, "application/json", s->cat.json, s->cat.json_len);
		return;
	case ROUTE_CATALOG_SIG:
		server_catalog_file(s, c, h, "text/plain; charset=utf-8", s->cat.sig,
		    s->cat.sig_len);
		return;
	case ROUTE_FILE:
		if ((item = catalog_find_item(s->cat.cat, name)) == NULL)
			break;
		server_object(s, c, h, item, 0);
		return;
	case ROUTE_META4:
	case ROUTE_TORRENT: {
		/* An item whose own name ends that way is that item: it is what
		 * the catalog lists under the URL. */
		char full[NAME_MAX_BYTES + 16];
		snprintf(full, sizeof(full), "%s%s", name,
		    route == ROUTE_META4 ? ".meta4" : ".torrent");
		if ((item = catalog_find_item(s->cat.cat, full)) != NULL) {
			server_object(s, c, h, item, 0);
			return;
		}
		if ((item = catalog_find_item(s->cat.cat, name)) == NULL)
			break;
		server_download_doc(s, c, h, item, route == ROUTE_META4);
		return;
	}
	case ROUTE_SHA256:
		if ((item = json_object_get(s->cat.by_hash, name)) == NULL)
			break;
		server_object(s, c, h, item, 1);
		return;
	default:
		break;
	}
	server_error(s, c, h, 404, "not found");
}

void
server_request(struct http_conn *c, const struct http_head *h, void *arg)
{
	struct server *s = arg;
	struct server_made mk = { .s = s };
	char name[NAME_MAX_BYTES + 1];

	metrics_add(&server_loop_self()->m.requests, 1);
	if (h->method != HTTP_OTHER) {
		server_current(s);
		/* What the main loop makes is asked for before the lock is
		 * taken: the main loop may be waiting to take it. */
		if (strncmp(h->target, ACME_PREFIX, sizeof(ACME_PREFIX) - 1) == 0) {
			mk.token = h->target + sizeof(ACME_PREFIX) - 1;
			if (s->acme != NULL && acme_token_ok(mk.token))
				server_loop_call_main(s, server_acme_find, &mk);
		} else if (http_route(h->target, name, sizeof(name)) == ROUTE_METRICS &&
		    http_conn_is_loopback(c))
			server_loop_call_main(s, server_metrics_make, &mk);
	}
	pthread_rwlock_rdlock(&s->lock);
	server_answer(s, c, h, &mk);
	pthread_rwlock_unlock(&s->lock);
	free(mk.ka);
	free(mk.text);
}

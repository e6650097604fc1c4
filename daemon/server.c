#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <zlib.h>

#include "catalog.h"
#include "config.h"
#include "fsutil.h"
#include "hexutil.h"
#include "http_request.h"
#include "index_page.h"
#include "log.h"
#include "minisign.h"
#include "names.h"
#include "store.h"
#include "tls.h"

/*
 * Limits, and why:
 * - CHUNK_LEN: a streamed object is read 32 KiB at a time, and the next
 *   piece only when the previous one has left for the socket (backpressure:
 *   memory per download is bounded, whatever the object's size).
 * - SMALL_REPLY: a response this small is read and sent in one go.
 * - HEADERS_MAX: request line and headers together; no body is accepted.
 * - IO_TIMEOUT: an idle keep-alive connection, or a client that stops
 *   reading, is closed after this.
 * - SHUTDOWN_GRACE: SIGTERM waits this long for in-flight downloads.
 */
#define CHUNK_LEN	(32u * 1024)
#define SMALL_REPLY	(256u * 1024)
#define HEADERS_MAX	8192
#define IO_TIMEOUT	30
#define SHUTDOWN_GRACE	10
/*
 * - HEADER_TIMEOUT: a client has this long to send a whole request after
 *   connecting or after its previous response ended; a slowloris that
 *   dribbles headers a byte at a time is cut off here, and so is an idle
 *   keep-alive connection.
 * - CONN_MAX: connections at once; at the cap, accepting pauses until one
 *   closes (new ones wait in the kernel's backlog), so a flood cannot
 *   exhaust descriptors. Lowered to fit RLIMIT_NOFILE.
 */
#define HEADER_TIMEOUT	10
#define CONN_MAX	4096
#define FD_RESERVE	64

#define ALLOWED_METHODS "GET, HEAD"

struct server_catalog {
	char target[64];	/* what `current` pointed at when loaded */
	json_t *cat;
	json_t *by_hash;	/* sha256 -> the first item with it */
	char *json, *sig, *index, *index_gz;
	size_t json_len, sig_len, index_len, index_gz_len;
};

/*
 * Parsed object metadata, by object id. Objects never change once
 * stored, so an entry stays good while the file is the same one (device,
 * inode, size, mtime: checked against the fstat every request makes
 * anyway); it saves two preads and a JSON parse per request.
 */
#define META_CACHE 1024

struct server_meta_entry {
	char hex[STORE_HEX_LEN + 1];
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	struct object_meta m;	/* without pieces */
};

struct server_metrics {
	uint64_t responses[6];	/* by status class: 1xx..5xx */
	uint64_t requests;
	uint64_t bytes;
	uint64_t streams_done, streams_aborted;
};

/* One accepted connection, whatever evhttp does with it. */
struct server_conn {
	struct server *srv;
	struct bufferevent *bev;	/* what evhttp holds */
	struct event *deadline;		/* also the liveness check of plain ones */
	struct event *init;		/* learns fd once evhttp has set it */
	evutil_socket_t fd;
	ino_t ino;			/* the socket's inode: fd reuse shows */
	int tls;			/* closed exactly, via its SSL */
	int busy;			/* a request is being answered */
	SSL *ssl;			/* TLS: holds us in its ex_data */
	struct server_conn *next;	/* hash chain */
};

#define CONN_BUCKETS 4096

struct server {
	struct event_base *base;
	char *config_path;
	struct config cfg;
	struct store st;
	SSL_CTX *ssl;
	struct evhttp *https, *http;
	struct event *ev_term, *ev_int, *ev_hup, *ev_grace;
	char *pubkey_b64, *pubkey_file;
	struct server_catalog cat;
	int stopping;
	unsigned streams;
	struct server_metrics m;
	struct server_conn *conns[CONN_BUCKETS];
	struct server_meta_entry *meta_cache;
	int watch_fd;			/* inotify on the store: -1 if none */
	struct event *ev_watch;
	int cat_dirty;			/* `current` may have moved */
	unsigned n_conns, conn_max;
	int paused;
};

/* One object being sent: the file, where we are, and for objects stored
 * deflated but sent as identity, the inflater and how much to skip. */
struct server_stream {
	struct server *srv;
	struct evhttp_request *req;
	struct evhttp_connection *conn;
	int fd;
	uint64_t off;		/* next byte of the stored file to read */
	uint64_t stored_end;	/* end of the stored bytes to read */
	uint64_t skip;		/* identity bytes to drop (range on gzip) */
	uint64_t left;		/* bytes still to send */
	int inflating;
	z_stream zs;
	unsigned char *in;
};

static void server_stream_next(struct evhttp_connection *conn, void *arg);
static void server_accepting(struct evhttp_bound_socket *b, void *arg);
static void server_conn_request(struct server *s, struct evhttp_request *req);
static int server_meta_get(struct server *s, int fd, const char *hex,
    struct object_meta *m, char *err, size_t errlen);

/* ---- catalog ---- */

static void
server_catalog_free(struct server_catalog *c)
{
	json_decref(c->cat);
	json_decref(c->by_hash);
	free(c->json);
	free(c->sig);
	free(c->index);
	free(c->index_gz);
	memset(c, 0, sizeof(*c));
}

static char *
server_gzip(const char *data, size_t len, size_t *outlen)
{
	z_stream zs;
	char *out;
	size_t cap;

	memset(&zs, 0, sizeof(zs));
	if (deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return NULL;
	cap = deflateBound(&zs, len) + 32;
	if ((out = malloc(cap)) == NULL) {
		deflateEnd(&zs);
		return NULL;
	}
	zs.next_in = (unsigned char *)data;
	zs.avail_in = (uInt)len;
	zs.next_out = (unsigned char *)out;
	zs.avail_out = (uInt)cap;
	if (deflate(&zs, Z_FINISH) != Z_STREAM_END) {
		free(out);
		deflateEnd(&zs);
		return NULL;
	}
	*outlen = zs.total_out;
	deflateEnd(&zs);
	return out;
}

/*
 * Load the catalog `current` points at, unless it is the one we have.
 * Called before every request that depends on it: one readlink, so that
 * an `add` (or a sync) is served at once, without a signal. Reads the
 * files through the resolved folder so that the catalog and its signature
 * always belong together. On any error the old catalog keeps serving.
 */
static void
server_catalog_refresh(struct server *s)
{
	struct server_catalog c;
	char *cur, link[64], *jp = NULL, *sp = NULL, err[512];
	ssize_t n;
	json_t *v;
	size_t i;

	/* With inotify, only when `current` moved; without, every time. */
	if (s->watch_fd != -1 && !s->cat_dirty)
		return;
	s->cat_dirty = 0;
	if ((cur = fsutil_join(s->st.root, "current")) == NULL)
		return;
	n = readlink(cur, link, sizeof(link) - 1);
	free(cur);
	if (n <= 0)
		return;
	link[n] = '\0';
	if (strcmp(link, s->cat.target) == 0)
		return;
	memset(&c, 0, sizeof(c));
	snprintf(c.target, sizeof(c.target), "%s", link);
	if (asprintf(&jp, "%s/%s/catalog.json", s->st.root, link) == -1)
		jp = NULL;
	if (asprintf(&sp, "%s/%s/catalog.json.minisig", s->st.root, link) == -1)
		sp = NULL;
	if (jp == NULL || sp == NULL ||
	    fsutil_read_file(jp, CATALOG_MAX_BYTES, &c.json, &c.json_len) == -1 ||
	    fsutil_read_file(sp, 65536, &c.sig, &c.sig_len) == -1) {
		log_error("cannot load catalog %s: %s", link, strerror(errno));
		goto fail;
	}
	if ((c.cat = catalog_parse(c.json, c.json_len, err, sizeof(err))) == NULL) {
		log_error("cannot load catalog %s: %s", link, err);
		goto fail;
	}
	if ((c.by_hash = json_object()) == NULL)
		goto fail;
	json_array_foreach(json_object_get(c.cat, "items"), i, v) {
		const char *hex = json_string_value(json_object_get(v, "sha256"));
		if (json_object_get(c.by_hash, hex) == NULL)
			json_object_set(c.by_hash, hex, v);
	}
	{
		struct index_page_info info = {
			.catalog = c.cat,
			.pubkey = s->pubkey_b64,
			.self_url = s->cfg.url,
		};
		if ((c.index = index_page_render(&info, &c.index_len)) == NULL ||
		    (c.index_gz = server_gzip(c.index, c.index_len, &c.index_gz_len)) == NULL)
			goto fail;
	}
	server_catalog_free(&s->cat);
	s->cat = c;
	log_info("serving catalog sequence %lld (%zu items)",
	    (long long)json_integer_value(json_object_get(c.cat, "sequence")),
	    json_array_size(json_object_get(c.cat, "items")));
	free(jp);
	free(sp);
	return;
fail:
	server_catalog_free(&c);
	free(jp);
	free(sp);
}

static void
server_watch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *s = arg;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	/* Any event on the store folder may be the swap of `current`;
	 * the next request re-reads the link, which is cheap. */
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		s->cat_dirty = 1;
}

/* ---- responses ---- */

static void
server_count(struct server *s, int code, uint64_t bytes)
{
	int cls = code / 100;

	if (cls >= 1 && cls <= 5)
		s->m.responses[cls]++;
	s->m.bytes += bytes;
}

static void
server_log_request(struct server *s, struct evhttp_request *req, int code, uint64_t bytes)
{
	static const char *methods[] = { "GET", "POST", "HEAD", "PUT", "DELETE",
	    "OPTIONS", "TRACE", "CONNECT", "PATCH" };
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	const char *m = "?";
	char uri[256];
	size_t i;

	if (!s->cfg.access_log)
		return;
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if ((unsigned)cmd == (1u << i))
			m = methods[i];
	/* The target is the reader's text: keep it printable and short. */
	snprintf(uri, sizeof(uri), "%s", evhttp_request_get_uri(req));
	for (i = 0; uri[i] != '\0'; i++)
		if ((unsigned char)uri[i] < 0x20 || (unsigned char)uri[i] == 0x7f)
			uri[i] = '?';
	if (s->cfg.log_addresses) {
		char *addr = NULL;
		ev_uint16_t port = 0;
		evhttp_connection_get_peer(evhttp_request_get_connection(req), &addr, &port);
		log_info("%s %s %s %d %llu", addr ? addr : "-", m, uri, code,
		    (unsigned long long)bytes);
	} else
		log_info("%s %s %d %llu", m, uri, code, (unsigned long long)bytes);
}

static void
server_header(struct evhttp_request *req, const char *k, const char *v)
{
	evhttp_add_header(evhttp_request_get_output_headers(req), k, v);
}

/* A small response whose body is in memory. */
static void
server_reply(struct server *s, struct evhttp_request *req, int code,
    const char *type, const void *body, size_t len)
{
	struct evbuffer *out = evhttp_request_get_output_buffer(req);
	char clen[32];

	if (type != NULL)
		server_header(req, "Content-Type", type);
	snprintf(clen, sizeof(clen), "%zu", len);
	server_header(req, "Content-Length", clen);
	if (len > 0 && evhttp_request_get_command(req) != EVHTTP_REQ_HEAD)
		evbuffer_add(out, body, len);
	server_count(s, code, len);
	server_log_request(s, req, code, len);
	evhttp_send_reply(req, code, NULL, NULL);
}

static void
server_error(struct server *s, struct evhttp_request *req, int code, const char *msg)
{
	char body[128];
	int n = snprintf(body, sizeof(body), "%s\n", msg);

	server_header(req, "X-Content-Type-Options", "nosniff");
	server_reply(s, req, code, "text/plain; charset=utf-8", body, (size_t)n);
}

/* ---- objects ---- */

static void
server_stream_free(struct server_stream *st)
{
	if (st->conn != NULL)
		evhttp_connection_set_closecb(st->conn, NULL, NULL);
	if (st->fd != -1)
		close(st->fd);
	if (st->inflating)
		inflateEnd(&st->zs);
	free(st->in);
	st->srv->streams--;
	if (st->srv->stopping && st->srv->streams == 0)
		event_base_loopexit(st->srv->base, NULL);
	free(st);
}

/* The reader went away mid-download: evhttp frees the request. */
static void
server_stream_closed(struct evhttp_connection *conn, void *arg)
{
	struct server_stream *st = arg;
	struct evhttp_request *req = st->req;
	/* On a reset or EOF evhttp detaches a request still being sent and
	 * leaves it to us: evhttp_send_reply_end frees a detached one. When
	 * evhttp itself tears the connection down (exit), it frees it. */
	int detached = evhttp_request_get_connection(req) == NULL;

	st->srv->m.streams_aborted++;
	st->conn = NULL;
	server_stream_free(st);
	if (detached)
		evhttp_send_reply_end(req);
}

/* Fill BUF with the next bytes to send: raw from the file, or inflated
 * (dropping the first SKIP bytes for a range). 0 ok, -1 on error. */
static int
server_stream_read(struct server_stream *st, struct evbuffer *buf)
{
	size_t want = st->left < CHUNK_LEN ? (size_t)st->left : CHUNK_LEN;

	if (!st->inflating) {
		struct evbuffer_iovec v;
		if (evbuffer_reserve_space(buf, want, &v, 1) < 1)
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
	while (evbuffer_get_length(buf) < want) {
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
		/* With no input left, inflate may still hold output. */
		/* Never inflate past what this chunk needs (plus what a range
		 * skips): output beyond it would have nowhere to go. */
		uint64_t need = (uint64_t)(want - evbuffer_get_length(buf)) + st->skip;
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
		evbuffer_add(buf, p, got);
	}
	st->left -= want;
	return 0;
}

static void
server_stream_next(struct evhttp_connection *conn, void *arg)
{
	struct server_stream *st = arg;
	struct evbuffer *buf;

	if (st->left == 0) {
		struct evhttp_request *req = st->req;
		st->srv->m.streams_done++;
		server_stream_free(st);
		evhttp_send_reply_end(req);
		return;
	}
	if ((buf = evbuffer_new()) == NULL || server_stream_read(st, buf) == -1) {
		/* The object changed under us or the disk failed: the
		 * Content-Length already went out, so the only honest thing
		 * left is to cut the connection. */
		log_error("object read failed mid-response; closing the connection");
		evbuffer_free(buf);
		struct evhttp_connection *c = st->conn;
		st->srv->m.streams_aborted++;
		server_stream_free(st);
		if (c != NULL)
			evhttp_connection_free(c);
		return;
	}
	evhttp_send_reply_chunk_with_cb(st->req, buf, server_stream_next, st);
	evbuffer_free(buf);
}

static void
server_b64_digest(const char *hex, char out[64])
{
	uint8_t raw[32];

	hex_decode(hex, 64, raw);
	EVP_EncodeBlock((unsigned char *)out, raw, 32);
}

/*
 * Answer for object HEX with catalog TYPE: conditional and range
 * requests, gzip as stored when the reader takes it, identity otherwise
 * (inflated on the fly for objects stored deflated). The object is
 * streamed: memory does not depend on its size.
 */
static void
server_object(struct server *s, struct evhttp_request *req, const char *hex,
    const char *type, int immutable)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	struct object_meta m;
	struct server_stream *st = NULL;
	struct http_range r;
	enum http_range_result rr = RANGE_NONE;
	char *path, err[256], etag[80], digest[64], hdr[128], clen[32];
	int fd, gzip_out = 0, code = 200, head;
	uint64_t first = 0, len;

	if ((path = store_object_path(&s->st, hex)) == NULL) {
		server_error(s, req, 500, "out of memory");
		return;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd == -1) {
		/* Listed but not here (quarantined, not synced yet). */
		server_error(s, req, 404, "object not available on this mirror");
		return;
	}
	if (server_meta_get(s, fd, hex, &m, err, sizeof(err)) == -1) {
		log_error("object %s: %s; not serving it", hex, err);
		close(fd);
		server_error(s, req, 404, "object not available on this mirror");
		return;
	}

	snprintf(etag, sizeof(etag), "\"%s\"", hex);
	server_header(req, "ETag", etag);
	server_header(req, "Accept-Ranges", "bytes");
	server_header(req, "X-Content-Type-Options", "nosniff");
	server_header(req, "Content-Security-Policy", "sandbox");
	server_header(req, "Cache-Control", immutable ?
	    "public, max-age=31536000, immutable" : "no-cache");
	if (m.gzip)
		server_header(req, "Vary", "Accept-Encoding");

	if (http_if_none_match(evhttp_find_header(in, "If-None-Match"), etag)) {
		close(fd);
		server_count(s, 304, 0);
		server_log_request(s, req, 304, 0);
		evhttp_send_reply(req, 304, "Not Modified", NULL);
		return;
	}
	if (http_if_range(evhttp_find_header(in, "If-Range"), etag))
		rr = http_range_parse(evhttp_find_header(in, "Range"), m.size, &r);
	if (rr == RANGE_UNSATISFIABLE) {
		close(fd);
		snprintf(hdr, sizeof(hdr), "bytes */%llu", (unsigned long long)m.size);
		server_header(req, "Content-Range", hdr);
		server_error(s, req, 416, "range not satisfiable");
		return;
	}
	gzip_out = m.gzip && rr == RANGE_NONE &&
	    http_accepts_gzip(evhttp_find_header(in, "Accept-Encoding"));

	server_header(req, "Content-Type", type);
	if (gzip_out) {
		server_header(req, "Content-Encoding", "gzip");
		server_b64_digest(m.stored_sha256, digest);
		len = m.stored_size;
	} else {
		server_b64_digest(m.sha256, digest);
		len = m.size;
	}
	snprintf(hdr, sizeof(hdr), "sha-256=:%s:", digest);
	server_header(req, "Repr-Digest", hdr);
	if (rr == RANGE_SINGLE) {
		code = 206;
		first = r.first;
		len = r.last - r.first + 1;
		snprintf(hdr, sizeof(hdr), "bytes %llu-%llu/%llu",
		    (unsigned long long)r.first, (unsigned long long)r.last,
		    (unsigned long long)m.size);
		server_header(req, "Content-Range", hdr);
	}
	snprintf(clen, sizeof(clen), "%llu", (unsigned long long)len);
	server_header(req, "Content-Length", clen);

	head = evhttp_request_get_command(req) == EVHTTP_REQ_HEAD;
	server_count(s, code, head ? 0 : len);
	server_log_request(s, req, code, head ? 0 : len);
	if (head || len == 0) {
		close(fd);
		evhttp_send_reply(req, code, NULL, NULL);
		return;
	}

	/* Small and raw (or gzip as stored): one read, one reply, no
	 * streaming machinery; memory is bounded by SMALL_REPLY. */
	if (len <= SMALL_REPLY && !(m.gzip && !gzip_out)) {
		struct evbuffer *out = evhttp_request_get_output_buffer(req);
		struct evbuffer_iovec v;
		if (evbuffer_reserve_space(out, (size_t)len, &v, 1) < 1)
			goto oom;
		ssize_t n = pread(fd, v.iov_base, (size_t)len, (off_t)first);
		close(fd);
		if (n != (ssize_t)len) {
			log_error("object %s: short read; closing the connection", hex);
			evhttp_connection_free(evhttp_request_get_connection(req));
			return;
		}
		v.iov_len = (size_t)len;
		evbuffer_commit_space(out, &v, 1);
		evhttp_send_reply(req, code, NULL, NULL);
		return;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL)
		goto oom;
	st->srv = s;
	st->req = req;
	st->fd = fd;
	st->left = len;
	st->stored_end = m.stored_size;
	if (m.gzip && !gzip_out) {
		if ((st->in = malloc(CHUNK_LEN)) == NULL ||
		    inflateInit2(&st->zs, 15 + 16) != Z_OK) {
			free(st->in);
			free(st);
			goto oom;
		}
		st->inflating = 1;
		st->skip = first;
	} else
		st->off = first;
	s->streams++;
	st->conn = evhttp_request_get_connection(req);
	evhttp_connection_set_closecb(st->conn, server_stream_closed, st);
	evhttp_send_reply_start(req, code, NULL);
	server_stream_next(st->conn, st);
	return;
oom:
	close(fd);
	log_error("out of memory");
	evhttp_send_error(req, 500, NULL);
}

static int
server_meta_get(struct server *s, int fd, const char *hex, struct object_meta *m,
    char *err, size_t errlen)
{
	struct server_meta_entry *e = NULL;
	struct stat sb;
	size_t slot;

	if (fstat(fd, &sb) == -1) {
		snprintf(err, errlen, "fstat: %s", strerror(errno));
		return -1;
	}
	if (s->meta_cache != NULL) {
		uint8_t h[4];
		hex_decode(hex, 8, h);
		slot = ((size_t)h[0] << 8 | h[1]) % META_CACHE;
		e = &s->meta_cache[slot];
		if (strcmp(e->hex, hex) == 0 && e->dev == sb.st_dev && e->ino == sb.st_ino &&
		    e->size == sb.st_size && e->mtime.tv_sec == sb.st_mtim.tv_sec &&
		    e->mtime.tv_nsec == sb.st_mtim.tv_nsec) {
			*m = e->m;
			return 0;
		}
	}
	if (store_meta_read_fd(fd, m, err, errlen) == -1)
		return -1;
	if (strcmp(m->sha256, hex) != 0) {
		snprintf(err, errlen, "metadata names another object");
		store_meta_free(m);
		return -1;
	}
	store_meta_free(m);	/* pieces are not needed here */
	if (e != NULL) {
		memcpy(e->hex, hex, sizeof(e->hex));
		e->dev = sb.st_dev;
		e->ino = sb.st_ino;
		e->size = sb.st_size;
		e->mtime = sb.st_mtim;
		e->m = *m;
	}
	return 0;
}

/* ---- other routes ---- */

static int
server_is_loopback(struct evhttp_request *req)
{
	char *addr = NULL;
	ev_uint16_t port = 0;
	struct in_addr a4;
	struct in6_addr a6;

	evhttp_connection_get_peer(evhttp_request_get_connection(req), &addr, &port);
	if (addr == NULL)
		return 0;
	if (inet_pton(AF_INET, addr, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, addr, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6) ||
		    (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
	return 0;
}

static void
server_metrics(struct server *s, struct evhttp_request *req)
{
	char *text = NULL;
	size_t items = json_array_size(json_object_get(s->cat.cat, "items"));
	int n;

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
	    "emberd_crawl_results_total{result=\"fetched\"} 0\n"
	    "emberd_crawl_results_total{result=\"unchanged\"} 0\n"
	    "emberd_crawl_results_total{result=\"failed\"} 0\n",
	    (unsigned long long)s->m.responses[1], (unsigned long long)s->m.responses[2],
	    (unsigned long long)s->m.responses[3], (unsigned long long)s->m.responses[4],
	    (unsigned long long)s->m.responses[5], (unsigned long long)s->m.bytes,
	    s->n_conns, s->streams, (unsigned long long)s->m.streams_done,
	    (unsigned long long)s->m.streams_aborted, items,
	    (long long)json_integer_value(json_object_get(s->cat.cat, "sequence")));
	if (n == -1) {
		server_error(s, req, 500, "out of memory");
		return;
	}
	server_reply(s, req, 200, "text/plain; version=0.0.4; charset=utf-8", text, (size_t)n);
	free(text);
}

static void
server_request(struct evhttp_request *req, void *arg)
{
	struct server *s = arg;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	const char *target = evhttp_request_get_uri(req), *cl;
	char name[NAME_MAX_BYTES + 1];
	json_t *item;

	s->m.requests++;
	server_conn_request(s, req);
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		server_header(req, "Allow", ALLOWED_METHODS);
		server_error(s, req, 405, "only GET and HEAD");
		return;
	}
	/* Nothing is uploaded to a mirror. */
	if (evbuffer_get_length(evhttp_request_get_input_buffer(req)) > 0 ||
	    ((cl = evhttp_find_header(in, "Content-Length")) != NULL && strcmp(cl, "0") != 0) ||
	    evhttp_find_header(in, "Transfer-Encoding") != NULL) {
		/* evhttp does not read a body it does not expect (HEAD):
		 * close, or its bytes would be parsed as the next request. */
		server_header(req, "Connection", "close");
		server_error(s, req, 400, "a request body is not accepted");
		return;
	}
	server_catalog_refresh(s);

	switch (http_route(target, name, sizeof(name))) {
	case ROUTE_BAD:
		server_error(s, req, 400, "bad request");
		return;
	case ROUTE_HEALTHZ:
		server_header(req, "Cache-Control", "no-store");
		server_reply(s, req, 200, "text/plain; charset=utf-8", "ok\n", 3);
		return;
	case ROUTE_METRICS:
		if (!server_is_loopback(req)) {
			server_error(s, req, 403, "metrics are for this machine only");
			return;
		}
		server_metrics(s, req);
		return;
	case ROUTE_PUBKEY:
		server_header(req, "X-Content-Type-Options", "nosniff");
		server_reply(s, req, 200, "text/plain; charset=utf-8", s->pubkey_file,
		    strlen(s->pubkey_file));
		return;
	default:
		break;
	}
	if (s->cat.cat == NULL) {
		server_error(s, req, 404, "no catalog published yet");
		return;
	}
	switch (http_route(target, name, sizeof(name))) {
	case ROUTE_INDEX:
		server_header(req, "Vary", "Accept-Encoding");
		server_header(req, "X-Content-Type-Options", "nosniff");
		server_header(req, "Content-Security-Policy",
		    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; media-src 'self'");
		server_header(req, "Cache-Control", "no-cache");
		if (http_accepts_gzip(evhttp_find_header(in, "Accept-Encoding"))) {
			server_header(req, "Content-Encoding", "gzip");
			server_reply(s, req, 200, "text/html; charset=utf-8", s->cat.index_gz,
			    s->cat.index_gz_len);
		} else
			server_reply(s, req, 200, "text/html; charset=utf-8", s->cat.index,
			    s->cat.index_len);
		return;
	case ROUTE_CATALOG:
		server_header(req, "Cache-Control", "no-cache");
		server_header(req, "X-Content-Type-Options", "nosniff");
		server_reply(s, req, 200, "application/json", s->cat.json, s->cat.json_len);
		return;
	case ROUTE_CATALOG_SIG:
		server_header(req, "Cache-Control", "no-cache");
		server_header(req, "X-Content-Type-Options", "nosniff");
		server_reply(s, req, 200, "text/plain; charset=utf-8", s->cat.sig, s->cat.sig_len);
		return;
	case ROUTE_FILE:
		if ((item = catalog_find_item(s->cat.cat, name)) == NULL)
			break;
		server_object(s, req, json_string_value(json_object_get(item, "sha256")),
		    json_string_value(json_object_get(item, "type")), 0);
		return;
	case ROUTE_META4:
	case ROUTE_TORRENT: {
		/* Until Metalink and torrents are served, such a URL can only be
		 * an item whose own name ends that way. */
		char full[NAME_MAX_BYTES + 16];
		snprintf(full, sizeof(full), "%s%s", name,
		    http_route(target, name, sizeof(name)) == ROUTE_META4 ? ".meta4" : ".torrent");
		if ((item = catalog_find_item(s->cat.cat, full)) == NULL)
			break;
		server_object(s, req, json_string_value(json_object_get(item, "sha256")),
		    json_string_value(json_object_get(item, "type")), 0);
		return;
	}
	case ROUTE_SHA256:
		if ((item = json_object_get(s->cat.by_hash, name)) == NULL)
			break;
		server_object(s, req, name,
		    json_string_value(json_object_get(item, "type")), 1);
		return;
	default:
		break;
	}
	server_error(s, req, 404, "not found");
}

/* ---- connections ---- */

static int server_ssl_idx = -1;

static size_t
server_conn_bucket(const struct bufferevent *bev)
{
	uintptr_t p = (uintptr_t)bev;

	return (size_t)((p >> 4) ^ (p >> 16)) % CONN_BUCKETS;
}

static struct server_conn *
server_conn_find(struct server *s, const struct bufferevent *bev)
{
	struct server_conn *c;

	for (c = s->conns[server_conn_bucket(bev)]; c != NULL; c = c->next)
		if (c->bev == bev)
			return c;
	return NULL;
}

static void
server_listeners(struct server *s, int enable)
{
	s->paused = !enable;
	if (s->https != NULL)
		evhttp_foreach_bound_socket(s->https, server_accepting, enable ? s : NULL);
	if (s->http != NULL)
		evhttp_foreach_bound_socket(s->http, server_accepting, enable ? s : NULL);
}

static void
server_conn_free(struct server_conn *c)
{
	struct server *s = c->srv;
	struct server_conn **pp;

	for (pp = &s->conns[server_conn_bucket(c->bev)]; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	event_free(c->deadline);
	event_free(c->init);
	free(c);
	s->n_conns--;
	if (s->paused && !s->stopping && s->n_conns < s->conn_max)
		server_listeners(s, 1);
}

/* Is C's socket still the one we saw at accept? A plain connection is
 * never reported closed to us, so this is how its record goes away. */
static int
server_conn_alive(struct server_conn *c)
{
	struct stat sb;

	if (c->fd == -1)
		return 1;
	return fstat(c->fd, &sb) == 0 && sb.st_ino == c->ino;
}

static void
server_conn_arm(struct server_conn *c)
{
	struct timeval tv = { HEADER_TIMEOUT, 0 };

	evtimer_add(c->deadline, &tv);
}

/*
 * The deadline: a connection that has not sent a whole request within
 * HEADER_TIMEOUT of connecting or of its last response (a slowloris, or
 * an idle keep-alive) is shut down, so that evhttp sees the end of the
 * stream and frees it. Busy connections are checked again later.
 */
static void
server_conn_expired(evutil_socket_t unused, short what, void *arg)
{
	struct server_conn *c = arg;

	if (!c->tls && !server_conn_alive(c)) {
		server_conn_free(c);
		return;
	}
	if (!c->busy && c->fd != -1)
		shutdown(c->fd, SHUT_RDWR);
	server_conn_arm(c);
}

static void
server_conn_learn_fd(evutil_socket_t unused, short what, void *arg)
{
	struct server_conn *c = arg;
	struct stat sb;

	c->fd = bufferevent_getfd(c->bev);
	if (c->fd != -1 && fstat(c->fd, &sb) == 0)
		c->ino = sb.st_ino;
}

/* Called when a TLS connection's SSL is freed with its bufferevent. */
static void
server_ssl_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
    void *argp)
{
	if (ptr != NULL)
		server_conn_free(ptr);
}

/* A connection's record: allocated before its bufferevent, attached once
 * the bufferevent exists. */
static struct server_conn *
server_conn_alloc(struct server *s, int tls)
{
	struct server_conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->srv = s;
	c->tls = tls;
	c->fd = -1;
	if ((c->deadline = evtimer_new(s->base, server_conn_expired, c)) == NULL ||
	    (c->init = evtimer_new(s->base, server_conn_learn_fd, c)) == NULL) {
		if (c->deadline)
			event_free(c->deadline);
		free(c);
		return NULL;
	}
	return c;
}

static void
server_conn_attach(struct server_conn *c, struct bufferevent *bev)
{
	struct server *s = c->srv;
	size_t b = server_conn_bucket(bev);
	struct timeval now = { 0, 0 };

	c->bev = bev;
	c->next = s->conns[b];
	s->conns[b] = c;
	server_conn_arm(c);
	/* evhttp sets the socket right after this callback returns. */
	evtimer_add(c->init, &now);
	if (++s->n_conns >= s->conn_max && !s->paused) {
		log_warn("%u connections: pausing accept until one closes", s->n_conns);
		server_listeners(s, 0);
	}
}

static void
server_conn_response_done(struct evhttp_request *req, void *arg)
{
	struct server *s = arg;
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct server_conn *c;

	if (evcon != NULL &&
	    (c = server_conn_find(s, evhttp_connection_get_bufferevent(evcon))) != NULL) {
		c->busy = 0;
		server_conn_arm(c);
	}
}

/* A request is complete (gencb): stop its deadline; the next one starts
 * when the response has been sent. */
static void
server_conn_request(struct server *s, struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct server_conn *c;

	if (evcon == NULL)
		return;
	if ((c = server_conn_find(s, evhttp_connection_get_bufferevent(evcon))) != NULL) {
		c->busy = 1;
	}
	evhttp_request_set_on_complete_cb(req, server_conn_response_done, s);
}

/*
 * bufferevent_openssl makes one TLS record (and one write) per buffer
 * chain, and evhttp puts a response's headers and body in separate
 * chains. Joining a small output into one chain before it is written
 * halves records and system calls for small responses.
 */
static void
server_tls_coalesce(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	size_t len;

	if (info->n_added == 0)
		return;
	len = evbuffer_get_length(buf);
	if (len > 1 && len <= 16384 && evbuffer_get_contiguous_space(buf) < len)
		evbuffer_pullup(buf, -1);
}

/*
 * A TLS connection: bufferevent_openssl on the socket. (An OpenSSL
 * filter over a socket bufferevent would send a response's header and
 * body records in one writev, but evhttp shuts the socket down as soon as
 * the filter has taken a response it closes after, before the socket has
 * sent it.) The SSL's ex_data tells us when evhttp frees the connection.
 */
static struct bufferevent *
server_tls_bev(struct event_base *base, void *arg)
{
	struct server *s = arg;
	struct bufferevent *tls;
	struct server_conn *c;
	SSL *ssl;

	if ((c = server_conn_alloc(s, 1)) == NULL)
		return NULL;
	if ((ssl = SSL_new(s->ssl)) == NULL)
		goto fail;
	tls = bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (tls == NULL) {
		SSL_free(ssl);
		goto fail;
	}
	SSL_set_ex_data(ssl, server_ssl_idx, c);
	c->ssl = ssl;
	evbuffer_add_cb(bufferevent_get_output(tls), server_tls_coalesce, NULL);
	server_conn_attach(c, tls);
	return tls;
fail:
	event_free(c->deadline);
	event_free(c->init);
	free(c);
	return NULL;
}

/* Plain HTTP: a socket bufferevent; its record goes when the deadline
 * finds the socket gone. */
static struct bufferevent *
server_plain_bev(struct event_base *base, void *arg)
{
	struct server *s = arg;
	struct bufferevent *sock;
	struct server_conn *c;

	if ((c = server_conn_alloc(s, 0)) == NULL)
		return NULL;
	if ((sock = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		event_free(c->deadline);
		event_free(c->init);
		free(c);
		return NULL;
	}
	server_conn_attach(c, sock);
	return sock;
}

static struct evhttp *
server_evhttp(struct server *s, int tls)
{
	struct evhttp *h = evhttp_new(s->base);

	if (h == NULL)
		return NULL;
	evhttp_set_bevcb(h, tls ? server_tls_bev : server_plain_bev, s);
	evhttp_set_gencb(h, server_request, s);
	/* Let every method reach us, so that the unwanted ones get 405 with
	 * Allow rather than evhttp's bare 501. */
	evhttp_set_allowed_methods(h, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
	    EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT |
	    EVHTTP_REQ_PATCH);
	evhttp_set_max_headers_size(h, HEADERS_MAX);
	evhttp_set_max_body_size(h, 0);
	evhttp_set_timeout(h, IO_TIMEOUT);
	evhttp_set_default_content_type(h, "text/plain; charset=utf-8");
	return h;
}

static int
server_listen(struct server *s, struct evhttp *h, const struct config_listen *l,
    size_t n, const char *scheme)
{
	size_t i;
	int one = 1;

	for (i = 0; i < n; i++) {
		struct evhttp_bound_socket *b =
		    evhttp_bind_socket_with_handle(h, l[i].host, (ev_uint16_t)l[i].port);
		if (b == NULL) {
			log_error("%s: cannot listen on %s: %s", s->config_path, l[i].text,
			    strerror(errno));
			return -1;
		}
		/* Accepted sockets inherit it: no Nagle delay on small replies. */
		setsockopt(evhttp_bound_socket_get_fd(b), IPPROTO_TCP, TCP_NODELAY,
		    &one, sizeof(one));
		log_info("listening on %s://%s/", scheme, l[i].text);
	}
	return 0;
}

/* ---- signals ---- */

static void
server_grace_over(evutil_socket_t fd, short what, void *arg)
{
	struct server *s = arg;

	if (s->streams > 0)
		log_warn("stopping with %u downloads unfinished", s->streams);
	event_base_loopexit(s->base, NULL);
}

/* ARG non-NULL: accept again; NULL: stop accepting. */
static void
server_accepting(struct evhttp_bound_socket *b, void *arg)
{
	struct evconnlistener *l = evhttp_bound_socket_get_listener(b);

	if (l != NULL && arg != NULL)
		evconnlistener_enable(l);
	else if (l != NULL)
		evconnlistener_disable(l);
}

static void
server_on_term(evutil_socket_t sig, short what, void *arg)
{
	struct server *s = arg;

	if (s->stopping)
		return;
	s->stopping = 1;
	log_info("signal %d: no new connections; finishing %u downloads", (int)sig,
	    s->streams);
	server_listeners(s, 0);
	/* Exit when the last download ends (server_stream_free) or when the
	 * grace period is over, whichever comes first. */
	if (s->streams == 0) {
		event_base_loopexit(s->base, NULL);
		return;
	}
	s->ev_grace = evtimer_new(s->base, server_grace_over, s);
	{
		struct timeval grace = { SHUTDOWN_GRACE, 0 };
		evtimer_add(s->ev_grace, &grace);
	}
}

static void
server_on_hup(evutil_socket_t sig, short what, void *arg)
{
	struct server *s = arg;
	struct config fresh;
	char err[1024];

	if (config_load(s->config_path, &fresh, err, sizeof(err)) == -1) {
		log_error("SIGHUP: new config refused, keeping the old one: %s", err);
		config_free(&fresh);
		return;
	}
	/* Listeners and keys stay as they were: changing them needs a
	 * restart, which the log says if they differ. */
	if (strcmp(fresh.store, s->cfg.store) != 0)
		log_warn("SIGHUP: [mirror] store changed; restart to use it");
	config_free(&s->cfg);
	s->cfg = fresh;
	s->cat.target[0] = '\0';	/* re-read the catalog and index */
	s->cat_dirty = 1;
	server_catalog_refresh(s);
	log_info("SIGHUP: config %s reloaded", s->config_path);
}

/* ---- run ---- */

static int
server_keys(struct server *s)
{
	struct minisign_key key;
	struct minisign_pubkey pk;
	char err[1024];

	if (s->cfg.follow_pubkey != NULL) {
		if (minisign_pubkey_parse(s->cfg.follow_pubkey, strlen(s->cfg.follow_pubkey),
		    &pk) == -1) {
			log_error("%s: [follow] pubkey is malformed", s->config_path);
			return -1;
		}
		if ((s->pubkey_b64 = strdup(s->cfg.follow_pubkey)) == NULL)
			return -1;
		char id[17];
		minisign_keyid_hex(pk.id, id);
		if (asprintf(&s->pubkey_file, "untrusted comment: minisign public key %s\n%s\n",
		    id, s->pubkey_b64) == -1)
			return -1;
		return 0;
	}
	memset(&key, 0, sizeof(key));
	if (minisign_key_load(s->cfg.key, &key, err, sizeof(err)) == -1) {
		log_error("%s (create it with `emberd keygen -c %s`)", err, s->config_path);
		return -1;
	}
	s->pubkey_b64 = minisign_pubkey_base64(&key);
	s->pubkey_file = minisign_pubkey_file(&key);
	minisign_key_free(&key);
	return s->pubkey_b64 && s->pubkey_file ? 0 : -1;
}

int
server_run(const char *config_path)
{
	struct server s;
	struct event_config *ecfg;
	char err[1024], *cert = NULL, *key = NULL;
	int rc = 2;

	memset(&s, 0, sizeof(s));
	s.watch_fd = -1;
	if ((s.config_path = strdup(config_path)) == NULL)
		return 2;
	if (config_load(config_path, &s.cfg, err, sizeof(err)) == -1) {
		log_error("%s", err);
		config_free(&s.cfg);
		free(s.config_path);
		return 2;
	}
	if (s.cfg.n_https_listen == 0 && s.cfg.n_http_listen == 0) {
		log_error("%s: nothing to serve on: add [https] listen or [http] listen",
		    config_path);
		goto out;
	}
	if (store_open(&s.st, s.cfg.store, 1, err, sizeof(err)) == -1) {
		log_error("%s", err);
		goto out;
	}
	if (server_keys(&s) == -1)
		goto out_store;

	if (s.cfg.n_https_listen > 0) {
		if (s.cfg.https_cert != NULL) {
			cert = strdup(s.cfg.https_cert);
			key = strdup(s.cfg.https_key);
		} else if (tls_selfsigned_ensure(s.cfg.store, s.cfg.https_listen,
		    s.cfg.n_https_listen, &cert, &key, err, sizeof(err)) == -1) {
			log_error("%s", err);
			goto out_store;
		}
		if (cert == NULL || key == NULL ||
		    (s.ssl = tls_server_ctx(cert, key, err, sizeof(err))) == NULL) {
			log_error("%s", err);
			goto out_store;
		}
	}

	{
		/* Idle readers cost a descriptor each: take what we may. */
		struct rlimit rl;
		s.conn_max = CONN_MAX;
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
			if (rl.rlim_cur < rl.rlim_max) {
				rl.rlim_cur = rl.rlim_max;
				setrlimit(RLIMIT_NOFILE, &rl);
				getrlimit(RLIMIT_NOFILE, &rl);
			}
			if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < CONN_MAX + FD_RESERVE)
				s.conn_max = rl.rlim_cur > 2 * FD_RESERVE ?
				    (unsigned)(rl.rlim_cur - FD_RESERVE) : FD_RESERVE;
		}
	}
	if (server_ssl_idx == -1)
		server_ssl_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, server_ssl_free);

	/* The epoll changelist folds the add/remove pairs evhttp makes on
	 * every request into one epoll_ctl, or none. */
	if ((ecfg = event_config_new()) == NULL)
		goto out_store;
	event_config_set_flag(ecfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	s.base = event_base_new_with_config(ecfg);
	event_config_free(ecfg);
	if (s.base == NULL) {
		log_error("cannot create the event loop");
		goto out_store;
	}
	if ((s.cfg.n_https_listen > 0 && (s.https = server_evhttp(&s, 1)) == NULL) ||
	    (s.cfg.n_http_listen > 0 && (s.http = server_evhttp(&s, 0)) == NULL)) {
		log_error("out of memory");
		goto out_base;
	}
	if ((s.https && server_listen(&s, s.https, s.cfg.https_listen,
	    s.cfg.n_https_listen, "https") == -1) ||
	    (s.http && server_listen(&s, s.http, s.cfg.http_listen,
	    s.cfg.n_http_listen, "http") == -1))
		goto out_base;

	s.ev_term = evsignal_new(s.base, SIGTERM, server_on_term, &s);
	s.ev_int = evsignal_new(s.base, SIGINT, server_on_term, &s);
	s.ev_hup = evsignal_new(s.base, SIGHUP, server_on_hup, &s);
	if (s.ev_term == NULL || s.ev_int == NULL || s.ev_hup == NULL ||
	    event_add(s.ev_term, NULL) || event_add(s.ev_int, NULL) ||
	    event_add(s.ev_hup, NULL)) {
		log_error("cannot install signal handlers");
		goto out_base;
	}
	s.watch_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (s.watch_fd != -1 &&
	    (inotify_add_watch(s.watch_fd, s.st.root, IN_MOVED_TO | IN_CREATE | IN_DELETE) == -1 ||
	    (s.ev_watch = event_new(s.base, s.watch_fd, EV_READ | EV_PERSIST,
	    server_watch_cb, &s)) == NULL || event_add(s.ev_watch, NULL) == -1)) {
		close(s.watch_fd);
		s.watch_fd = -1;
	}
	s.cat_dirty = 1;
	server_catalog_refresh(&s);
	if (s.cat.cat == NULL)
		log_info("no catalog yet: add files with `emberd add -c %s PATH`", config_path);

	/*
	 * Responses allocate and free buffers of tens of KiB all the time;
	 * with glibc's defaults each free at the top of the heap gives the
	 * memory back (brk) and the next response faults it in again. Keep
	 * it: memory then stays at its peak, which the streaming limits
	 * bound anyway.
	 */
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	mallopt(M_MMAP_THRESHOLD, 1 << 20);

	/* Log lines are buffered and written once per loop turn: one write
	 * for many requests, and never a line left behind. */
	setvbuf(stderr, NULL, _IOFBF, 1 << 16);
	s.meta_cache = calloc(META_CACHE, sizeof(*s.meta_cache));
	while (event_base_loop(s.base, EVLOOP_ONCE) == 0 && !event_base_got_exit(s.base))
		fflush(stderr);
	fflush(stderr);
	setvbuf(stderr, NULL, _IONBF, 0);
	log_info("stopped");
	rc = 0;
out_base:
	if (s.ev_grace)
		event_free(s.ev_grace);
	if (s.ev_watch)
		event_free(s.ev_watch);
	if (s.watch_fd != -1)
		close(s.watch_fd);
	if (s.ev_term)
		event_free(s.ev_term);
	if (s.ev_int)
		event_free(s.ev_int);
	if (s.ev_hup)
		event_free(s.ev_hup);
	s.stopping = 1;
	if (s.https)
		evhttp_free(s.https);
	if (s.http)
		evhttp_free(s.http);
	/* Plain connections' records wait for their deadline to notice the
	 * socket is gone, and libevent may free TLS ones only with the base:
	 * at exit, drop what is left, unhooked from any SSL first. */
	for (size_t b = 0; b < CONN_BUCKETS; b++) {
		while (s.conns[b] != NULL) {
			if (s.conns[b]->ssl != NULL)
				SSL_set_ex_data(s.conns[b]->ssl, server_ssl_idx, NULL);
			server_conn_free(s.conns[b]);
		}
	}
	event_base_free(s.base);
out_store:
	store_close(&s.st);
out:
	server_catalog_free(&s.cat);
	free(s.meta_cache);
	SSL_CTX_free(s.ssl);
	free(cert);
	free(key);
	free(s.pubkey_b64);
	free(s.pubkey_file);
	config_free(&s.cfg);
	free(s.config_path);
	return rc;
}

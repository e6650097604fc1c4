/*
 * HTTP/2 framing by libnghttp2 (see http2.h): a session per connection,
 * a stream per request, each request handed to the same handler as an
 * HTTP/1.1 one, with the same struct http_head, and answered through
 * the same http_conn_* calls; only the framing differs.
 *
 * What the reader sends is given to nghttp2_session_mem_recv; what
 * nghttp2 has to send is taken with nghttp2_session_mem_send and added
 * to the connection's output, while that holds less than OUT_MARK (then
 * the reader has to read first, as with HTTP/1.1). A body is read from
 * its stream's buffer (or its FILL) only when nghttp2 asks for it, that
 * is, when the flow-control windows of the stream and the connection
 * allow: a reader that reads slowly or shrinks its windows costs a
 * bounded buffer per stream, never the object.
 * A body from a file (http2_stream_reply_file) is read at each DATA
 * frame's turn straight into the output, after the frame's head.
 *
 * Limits, and why:
 * - MAX_STREAMS (SETTINGS_MAX_CONCURRENT_STREAMS): 100, the least RFC
 *   9113 6.5.2 recommends; a browser loading a page asks for a few
 *   tens at once. nghttp2 refuses the streams over it (RST_STREAM),
 *   and ends a connection that goes on opening them once it has
 *   acknowledged the limit (GOAWAY PROTOCOL_ERROR).
 * - headers_max (SETTINGS_MAX_HEADER_LIST_SIZE): the same bytes as an
 *   HTTP/1.1 request head may have, counted as RFC 9113 counts them
 *   (name, value and 32 a field). Over it the request is answered 431,
 *   and the connection ends (GOAWAY), as an HTTP/1.1 one does.
 * - MAX_CONTINUATIONS: CONTINUATION frames after a HEADERS frame; more
 *   is a flood (the CONTINUATION flood of 2024, VU#421644: a header
 *   block that never ends), and the connection ends with GOAWAY. With frames of at most
 *   16 KiB (we do not raise SETTINGS_MAX_FRAME_SIZE) a header block is
 *   some 144 KiB of input at most.
 * - RESET_BURST, RESET_RATE: streams the reader cancels (RST_STREAM),
 *   1,000 at once and 33 a second after; past that, GOAWAY: the rapid
 *   reset attack (CVE-2023-44487), where each cancelled stream costs
 *   the server a request's work and the client nothing.
 * - CONTROL_BURST, CONTROL_RATE: SETTINGS, PING and PRIORITY frames are
 *   work for us and answer nothing; 200 at once and 20 a second after,
 *   past that, GOAWAY ENHANCE_YOUR_CALM (the SETTINGS and PING floods,
 *   CVE-2019-9515, -9512). MAX_OUTBOUND_ACK: acknowledgements queued
 *   unsent (a reader that floods and does not read) end it too.
 * - OUT_MARK: frames are made while the connection's output holds less;
 *   input is not read while it holds more.
 * - REGION: frames are written into room reserved at the end of the
 *   output this long, three TLS records (libevent allocates it as 64 KiB).
 *   The TLS bufferevent makes a record of each piece of the output,
 *   16 KiB at most: frames added one by one made two small records of a
 *   response's HEADERS and last DATA frame, a write() each. A DATA frame
 *   is cut to end where a region does (FRAME_MIN at least), so records
 *   are full.
 * - HELD_MAX: bytes of bodies held in memory by a connection's streams
 *   (a reply the handler makes in memory: the index, the catalog), or
 *   left to send from an open file (an object of up to 256 KiB); a new
 *   request waits while more is held, as pipelined HTTP/1.1 requests
 *   wait.
 * - BODY_IN_MAX: a request body is dropped as it comes, this much; then
 *   the stream is reset (nothing here takes uploads).
 * - AHEAD_MAX: a file's DATA frames are read by one preadv, as many as
 *   the region has room for, each payload after the room its head will
 *   take. A frame that comes as foreseen (same stream, offset and place,
 *   no longer) is not read again; anything else (another stream's frame,
 *   the region committed) drops the rest. Only for a stream whose frame
 *   was the last sent: streams in turn would throw the rest away.
 * - CHUNK: a streamed body is read this much at a time (a frame's
 *   worth), when nghttp2 asks for it.
 * - HEAD_MAX, NV_MAX: a response head, as on HTTP/1.1, and its fields.
 */
#include "http2.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/uio.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>

#include "log.h"

#define MAX_STREAMS		100
#define MAX_CONTINUATIONS	8
#define MAX_OUTBOUND_ACK	1000
#define RESET_BURST		1000
#define RESET_RATE		33
#define CONTROL_BURST		200
#define CONTROL_RATE		20
#define OUT_MARK		(64u * 1024)
#define RECORD			(16u * 1024)	/* a TLS record's bytes */
#define REGION			(3 * RECORD)
#define FRAME_HEAD		9		/* RFC 9113 4.1 */
#define FRAME_MIN		1024
#define AHEAD_MAX		(REGION / RECORD)	/* frames a region holds */

#define HELD_MAX		(1024u * 1024)
#define CHUNK			(16u * 1024)
#define HEAD_MAX		3072
#define BODY_IN_MAX		(64u * 1024)
#define NV_MAX			48

/* The request fields the server acts on (struct http_head). */
enum h2_field {
	F_METHOD,
	F_PATH,
	F_AUTHORITY,
	F_HOST,
	F_RANGE,
	F_IF_NONE_MATCH,
	F_IF_RANGE,
	F_ACCEPT_ENCODING,
	F_ACCEPT_LANGUAGE,
	F_N,
};

static const char *const h2_field_names[F_N] = {
	":method", ":path", ":authority", "host", "range", "if-none-match",
	"if-range", "accept-encoding", "accept-language",
};

/* RFC 9218's default urgency, incremental: see h2_on_begin_headers. */
static const nghttp2_extpri h2_turns = { NGHTTP2_EXTPRI_DEFAULT_URGENCY, 1 };

#define FIELD_ABSENT	-1
#define FIELD_TWICE	-2

struct http2_stream {
	struct http2_session *h;
	int32_t id;
	struct http_conn *handle;	/* what the handler answers through */
	struct http2_stream *prev, *next;	/* the session's streams */
	struct http2_stream *qnext;	/* waiting for HELD_MAX to allow it */
	int queued;
	int dispatched;		/* given to the handler */
	int answered;		/* a response was submitted (or the stream reset) */
	int head_only;		/* HEAD: no body */
	int has_body;		/* the request has one (not END_STREAM) */
	int too_large;		/* header list over headers_max */
	size_t body_in;		/* request body bytes dropped */
	int body_cut;		/* and the reader told to stop */
	/* the request's fields, NUL-terminated, at their offsets in req */
	char *req;
	size_t req_len, req_cap, list_size;
	int field[F_N];
	/* the response head being made: "name\0value\0" pairs */
	int status;
	char *rh;
	size_t rh_len;
	int rh_n, rh_overflow;
	/* the body */
	struct evbuffer *body;
	struct evbuffer_iovec iov;
	size_t iov_len;
	http_fill_fn fill;
	http_done_fn done;
	void *arg;
	/* or from a file, read into the output at each frame's turn */
	int file;
	int fd;
	int fd_own;		/* closed with the stream (else DONE's) */
	int counted;		/* fleft is in h->held */
	uint64_t foff, fleft;
	/* or from memory that stays valid until released */
	const uint8_t *mem;
	void (*mem_release)(void *);
	void *mem_arg;
};

struct h2_bucket {
	double tokens;
	time_t at;
};

struct http2_session {
	nghttp2_session *ng;
	struct http_conn *conn;
	struct evbuffer *out;
	struct http2_params p;
	struct http2_stream *streams;
	struct http2_stream *q_head, *q_tail;	/* waiting to be handled */
	size_t held;		/* body bytes held by the streams */
	unsigned n_active;	/* handled and not yet closed */
	time_t idle_since;	/* when n_active last fell to 0 */
	time_t progress;	/* when a response last moved */
	struct h2_bucket control;
	int eof;
	int sending;		/* in http2_session_send: no re-entry */
	/* room reserved at the end of out, filled with frames during a
	 * send and committed at its end (or when full) */
	struct evbuffer_iovec win;
	size_t win_used;
	/* a file stream's next frames read already (AHEAD_MAX): the I-th
	 * of N, LEN[I] bytes from OFF[I], its payload at POS[I] in win */
	struct http2_stream *ahead_st;
	struct http2_stream *last_data;	/* whose DATA frame went last */
	unsigned ahead_i, ahead_n;
	uint64_t ahead_off[AHEAD_MAX];
	size_t ahead_pos[AHEAD_MAX], ahead_len[AHEAD_MAX];
};

static int h2_send_data(nghttp2_session *ng, nghttp2_frame *frame,
    const uint8_t *framehd, size_t length, nghttp2_data_source *src, void *user);
static ssize_t h2_data_length(nghttp2_session *ng, uint8_t type, int32_t id,
    int32_t session_window, int32_t stream_window, uint32_t max_frame, void *user);

static time_t
h2_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec;
}

/* A token bucket: 1 while within BURST at once and RATE a second. */
static int
h2_bucket_take(struct h2_bucket *b, double burst, double rate)
{
	time_t now = h2_now();

	b->tokens += (double)(now - b->at) * rate;
	if (b->tokens > burst)
		b->tokens = burst;
	b->at = now;
	if (b->tokens < 1)
		return 0;
	b->tokens -= 1;
	return 1;
}

static void
h2_reset(struct http2_stream *st, uint32_t code)
{
	st->answered = 1;
	nghttp2_submit_rst_stream(st->h->ng, NGHTTP2_FLAG_NONE, st->id, code);
}

static void
h2_queue_remove(struct http2_session *h, struct http2_stream *st)
{
	struct http2_stream **pp, *prev = NULL;

	if (!st->queued)
		return;
	for (pp = &h->q_head; *pp != NULL; prev = *pp, pp = &(*pp)->qnext)
		if (*pp == st) {
			*pp = st->qnext;
			if (h->q_tail == st)
				h->q_tail = prev;
			break;
		}
	st->queued = 0;
	st->qnext = NULL;
}

static void
h2_stream_free(struct http2_stream *st)
{
	struct http2_session *h = st->h;

	if (st->done != NULL) {
		http_done_fn done = st->done;
		st->done = NULL;
		st->fill = NULL;
		done(st->arg, 0);
	}
	h2_queue_remove(h, st);
	if (st->prev != NULL)
		st->prev->next = st->next;
	else
		h->streams = st->next;
	if (st->next != NULL)
		st->next->prev = st->prev;
	if (st->body != NULL) {
		h->held -= evbuffer_get_length(st->body);
		evbuffer_free(st->body);
	}
	if (st->file && st->counted)
		h->held -= st->fleft;
	if (st->file && st->fd_own)
		close(st->fd);
	if (st->mem_release != NULL)
		st->mem_release(st->mem_arg);
	if (h->ahead_st == st)
		h->ahead_st = NULL;
	if (h->last_data == st)
		h->last_data = NULL;
	if (st->dispatched && --h->n_active == 0)
		h->idle_since = h2_now();
	if (st->handle != NULL)
		http_conn_stream_handle_free(st->handle);
	free(st->req);
	free(st->rh);
	free(st);
}

/* ---- requests ---- */

static const char *
h2_field(const struct http2_stream *st, enum h2_field f)
{
	if (st->field[f] == FIELD_ABSENT)
		return NULL;
	if (st->field[f] == FIELD_TWICE)
		return "";
	return st->req + st->field[f];
}

/* Answer a request ourselves, with the policy every answer carries. */
static void
h2_refuse(struct http2_stream *st, int code, const char *msg)
{
	http_conn_begin(st->handle, code);
	http_conn_header(st->handle, "Content-Type", "text/plain; charset=utf-8");
	http_conn_reply(st->handle, msg, strlen(msg));
}

/* Hand a request to the handler: its fields as an HTTP/1.1 head. */
static void
h2_dispatch(struct http2_stream *st)
{
	struct http2_session *h = st->h;
	struct http_head hd;
	const char *m;

	memset(&hd, 0, sizeof(hd));
	if ((st->handle = http_conn_stream_handle(h->conn, st)) == NULL) {
		h2_reset(st, NGHTTP2_INTERNAL_ERROR);
		return;
	}
	st->dispatched = 1;
	if (h->n_active++ == 0)
		h->progress = h2_now();
	m = h2_field(st, F_METHOD);
	hd.method_text = m != NULL ? m : "";
	hd.method = strcmp(hd.method_text, "GET") == 0 ? HTTP_GET :
	    strcmp(hd.method_text, "HEAD") == 0 ? HTTP_HEAD : HTTP_OTHER;
	/* CONNECT has no :path (and is not allowed: 405). */
	hd.target = h2_field(st, F_PATH) != NULL ? h2_field(st, F_PATH) : "";
	hd.minor = 1;
	hd.keep_alive = 1;
	hd.has_body = st->has_body;
	hd.range = h2_field(st, F_RANGE);
	hd.if_none_match = h2_field(st, F_IF_NONE_MATCH);
	hd.if_range = h2_field(st, F_IF_RANGE);
	hd.accept_encoding = h2_field(st, F_ACCEPT_ENCODING);
	hd.accept_language = h2_field(st, F_ACCEPT_LANGUAGE);
	hd.host = h2_field(st, F_AUTHORITY) != NULL ? h2_field(st, F_AUTHORITY) :
	    h2_field(st, F_HOST);
	st->head_only = hd.method == HTTP_HEAD;
	if (st->too_large) {
		/* As HTTP/1.1 answers a head too large: 431, then the end. */
		st->head_only = 0;
		h2_refuse(st, 431, "request head too large\n");
		nghttp2_submit_goaway(h->ng, NGHTTP2_FLAG_NONE, st->id,
		    NGHTTP2_NO_ERROR, NULL, 0);
	} else if (hd.has_body && hd.method != HTTP_OTHER) {
		/* As on HTTP/1.1: nothing here takes uploads; a method we do
		 * not allow is told so by the handler (405). */
		h2_refuse(st, 400, "request bodies are not accepted\n");
	} else {
		h->p.handler(st->handle, &hd, h->p.arg);
		if (!st->answered) {
			log_error("a request was left unanswered; resetting its stream");
			h2_reset(st, NGHTTP2_INTERNAL_ERROR);
		}
	}
	/* The handler has answered: the request's text is spent. */
	free(st->req);
	st->req = NULL;
}

/* Handle the requests that waited, while the held bodies allow. */
static void
h2_dispatch_queued(struct http2_session *h)
{
	struct http2_stream *st;

	while ((st = h->q_head) != NULL && h->held < HELD_MAX) {
		h2_queue_remove(h, st);
		h2_dispatch(st);
	}
}

static int
h2_on_begin_headers(nghttp2_session *ng, const nghttp2_frame *frame, void *user)
{
	struct http2_session *h = user;
	struct http2_stream *st;
	int i;

	if (frame->hd.type != NGHTTP2_HEADERS ||
	    frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	st->h = h;
	st->id = frame->hd.stream_id;
	for (i = 0; i < F_N; i++)
		st->field[i] = FIELD_ABSENT;
	st->next = h->streams;
	if (h->streams != NULL)
		h->streams->prev = st;
	h->streams = st;
	nghttp2_session_set_stream_user_data(ng, st->id, st);
	/* Streams share the connection turn about, frame by frame, unless
	 * the reader says otherwise (RFC 9218: a priority field, or
	 * PRIORITY_UPDATE, which nghttp2 applies after this). Should it
	 * fail (out of memory), the stream is only sent in its turn. */
	(void)nghttp2_session_change_extpri_stream_priority(ng, st->id, &h2_turns, 0);
	return 0;
}

static int
h2_on_header(nghttp2_session *ng, const nghttp2_frame *frame, const uint8_t *name,
    size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags, void *user)
{
	struct http2_session *h = user;
	struct http2_stream *st;
	int f;

	if (frame->hd.type != NGHTTP2_HEADERS ||
	    frame->headers.cat != NGHTTP2_HCAT_REQUEST ||
	    (st = nghttp2_session_get_stream_user_data(ng, frame->hd.stream_id)) == NULL)
		return 0;
	/* What RFC 9113 6.5.2 counts: the rest is decoded, and dropped. */
	st->list_size += namelen + valuelen + 32;
	if (st->list_size > h->p.headers_max)
		st->too_large = 1;
	if (st->too_large)
		return 0;
	for (f = 0; f < F_N; f++)
		if (strlen(h2_field_names[f]) == namelen &&
		    memcmp(h2_field_names[f], name, namelen) == 0)
			break;
	if (f == F_N)
		return 0;
	if (st->field[f] != FIELD_ABSENT) {
		/* Sent twice: as on HTTP/1.1, "" (ignored where that is safe). */
		st->field[f] = FIELD_TWICE;
		return 0;
	}
	if (st->req_len + valuelen + 1 > st->req_cap) {
		/* Bounded by headers_max, which list_size has checked. */
		size_t cap = st->req_cap * 2 + valuelen + 64;
		char *p = realloc(st->req, cap);
		if (p == NULL)
			return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
		st->req = p;
		st->req_cap = cap;
	}
	memcpy(st->req + st->req_len, value, valuelen);
	st->req[st->req_len + valuelen] = '\0';
	st->field[f] = (int)st->req_len;
	st->req_len += valuelen + 1;
	return 0;
}

static int
h2_on_frame_recv(nghttp2_session *ng, const nghttp2_frame *frame, void *user)
{
	struct http2_session *h = user;
	struct http2_stream *st;

	switch (frame->hd.type) {
	case NGHTTP2_HEADERS:
		if (frame->headers.cat != NGHTTP2_HCAT_REQUEST ||
		    (st = nghttp2_session_get_stream_user_data(ng, frame->hd.stream_id)) == NULL)
			return 0;
		st->has_body = !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM);
		if (h->held < HELD_MAX && h->q_head == NULL)
			h2_dispatch(st);
		else {
			st->queued = 1;
			if (h->q_tail != NULL)
				h->q_tail->qnext = st;
			else
				h->q_head = st;
			h->q_tail = st;
		}
		return 0;
	case NGHTTP2_SETTINGS:
	case NGHTTP2_PING:
		if (frame->hd.flags & NGHTTP2_FLAG_ACK)
			return 0;
		/* FALLTHROUGH */
	case NGHTTP2_PRIORITY:
		if (!h2_bucket_take(&h->control, CONTROL_BURST, CONTROL_RATE)) {
			log_warn("HTTP/2: a flood of control frames; ending the connection");
			nghttp2_session_terminate_session(ng, NGHTTP2_ENHANCE_YOUR_CALM);
		}
		return 0;
	default:
		return 0;
	}
}

/*
 * A request body is read and dropped (the answer, 400 or 405, does not
 * wait for it), as far as BODY_IN_MAX; past that the reader is told to
 * stop sending it (RST_STREAM NO_ERROR, RFC 9113 8.1). Not at once:
 * clients (curl) take a reset before their upload ends for a failure.
 */
static int
h2_on_data_chunk_recv(nghttp2_session *ng, uint8_t flags, int32_t id,
    const uint8_t *data, size_t len, void *user)
{
	struct http2_stream *st = nghttp2_session_get_stream_user_data(ng, id);

	if (st != NULL && (st->body_in += len) > BODY_IN_MAX && !st->body_cut) {
		st->body_cut = 1;
		nghttp2_submit_rst_stream(ng, NGHTTP2_FLAG_NONE, id, NGHTTP2_NO_ERROR);
	}
	return 0;
}

static int
h2_on_stream_close(nghttp2_session *ng, int32_t id, uint32_t code, void *user)
{
	struct http2_stream *st = nghttp2_session_get_stream_user_data(ng, id);

	if (st != NULL) {
		nghttp2_session_set_stream_user_data(ng, id, NULL);
		h2_stream_free(st);
	}
	return 0;
}

/* ---- responses ---- */

/* A body's next bytes, when the windows allow LENGTH of them. */
static ssize_t
h2_body_read(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t length,
    uint32_t *flags, nghttp2_data_source *src, void *user)
{
	struct http2_stream *st = src->ptr;
	struct http2_session *h = st->h;
	size_t n;

	if (st->file) {
		/* The bytes go in h2_send_data, straight from the file. */
		n = length < st->fleft ? length : (size_t)st->fleft;
		*flags |= NGHTTP2_DATA_FLAG_NO_COPY;
		if (n == st->fleft)
			*flags |= NGHTTP2_DATA_FLAG_EOF;
		return (ssize_t)n;
	}
	while (evbuffer_get_length(st->body) == 0 && st->fill != NULL) {
		int r = st->fill(st->arg, st->body, CHUNK);
		h->held += evbuffer_get_length(st->body);
		if (r == 0)
			continue;
		http_done_fn done = st->done;
		st->done = NULL;
		st->fill = NULL;
		done(st->arg, r == 1);
		if (r == -1)
			/* The length has gone out: cut the stream. */
			return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	}
	n = (size_t)evbuffer_remove(st->body, buf, length);
	h->held -= n;
	h->progress = h2_now();
	if (evbuffer_get_length(st->body) == 0 && st->fill == NULL)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

void
http2_stream_begin(struct http2_stream *st, int code)
{
	st->status = code;
	st->rh_len = 0;
	st->rh_n = 0;
	st->rh_overflow = 0;
	if (st->rh == NULL && (st->rh = malloc(HEAD_MAX)) == NULL)
		st->rh_overflow = 1;
}

void
http2_stream_header(struct http2_stream *st, const char *name, const char *value)
{
	size_t nl = strlen(name), vl = strlen(value), i;

	/* Connection-specific fields have no place in HTTP/2 (RFC 9113
	 * 8.2.2); ours never set them, but the framing is decided here. */
	if (strcasecmp(name, "connection") == 0 || strcasecmp(name, "keep-alive") == 0 ||
	    strcasecmp(name, "transfer-encoding") == 0 || strcasecmp(name, "upgrade") == 0 ||
	    strcasecmp(name, "proxy-connection") == 0)
		return;
	if (st->rh == NULL || st->rh_len + nl + vl + 2 > HEAD_MAX || st->rh_n >= NV_MAX) {
		st->rh_overflow = 1;
		return;
	}
	/* Field names are lowercase in HTTP/2 (RFC 9113 8.2.1). */
	for (i = 0; i < nl; i++)
		st->rh[st->rh_len + i] = (char)((name[i] >= 'A' && name[i] <= 'Z') ?
		    name[i] - 'A' + 'a' : name[i]);
	st->rh[st->rh_len + nl] = '\0';
	memcpy(st->rh + st->rh_len + nl + 1, value, vl + 1);
	st->rh_len += nl + vl + 2;
	st->rh_n++;
}

static nghttp2_nv
h2_nv(const char *name, const char *value)
{
	nghttp2_nv nv;

	nv.name = (uint8_t *)(uintptr_t)name;
	nv.value = (uint8_t *)(uintptr_t)value;
	nv.namelen = strlen(name);
	nv.valuelen = strlen(value);
	nv.flags = NGHTTP2_NV_FLAG_NONE;
	return nv;
}

/* Submit the head made, with Content-Length LEN unless LEN is -1, and
 * the body from st->body when BODY. */
static void
h2_submit(struct http2_stream *st, int64_t len, int body)
{
	nghttp2_nv nva[NV_MAX + 3];
	nghttp2_data_provider prd;
	char status[16], clen[32];
	size_t n = 0, off = 0;
	int i, rv;

	st->answered = 1;
	if (st->rh_overflow) {
		log_error("response head over %d bytes; resetting the stream", HEAD_MAX);
		h2_reset(st, NGHTTP2_INTERNAL_ERROR);
		return;
	}
	snprintf(status, sizeof(status), "%d", st->status);
	nva[n++] = h2_nv(":status", status);
	for (i = 0; i < st->rh_n; i++) {
		const char *name = st->rh + off;
		const char *value = name + strlen(name) + 1;
		nva[n++] = h2_nv(name, value);
		off = (size_t)(value - st->rh) + strlen(value) + 1;
	}
	if (len >= 0) {
		snprintf(clen, sizeof(clen), "%lld", (long long)len);
		nva[n++] = h2_nv("content-length", clen);
	}
	prd.source.ptr = st;
	prd.read_callback = h2_body_read;
	/* nghttp2 copies the fields: the head's buffer is done with. */
	rv = nghttp2_submit_response(st->h->ng, st->id, nva, n, body ? &prd : NULL);
	free(st->rh);
	st->rh = NULL;
	if (rv != 0)
		h2_reset(st, NGHTTP2_INTERNAL_ERROR);
	st->h->progress = h2_now();
}

static int
h2_body_new(struct http2_stream *st)
{
	if (st->body == NULL && (st->body = evbuffer_new()) == NULL) {
		log_error("out of memory");
		h2_reset(st, NGHTTP2_INTERNAL_ERROR);
		return -1;
	}
	return 0;
}

void
http2_stream_reply(struct http2_stream *st, const void *body, size_t len)
{
	if (body == NULL || len == 0 || st->head_only) {
		h2_submit(st, (int64_t)len, 0);
		return;
	}
	if (h2_body_new(st) == -1)
		return;
	if (evbuffer_add(st->body, body, len) == -1) {
		h2_reset(st, NGHTTP2_INTERNAL_ERROR);
		return;
	}
	st->h->held += len;
	h2_submit(st, (int64_t)len, 1);
}

void
http2_stream_reply_empty(struct http2_stream *st)
{
	h2_submit(st, -1, 0);
}

void *
http2_stream_reply_reserve(struct http2_stream *st, size_t len)
{
	if (h2_body_new(st) == -1)
		return NULL;
	st->iov_len = len;
	/* Room for LEN bytes even for HEAD (the caller writes them). */
	if (evbuffer_reserve_space(st->body, (ev_ssize_t)(len > 0 ? len : 1),
	    &st->iov, 1) < 1) {
		st->iov.iov_base = NULL;
		return NULL;
	}
	return st->iov.iov_base;
}

void
http2_stream_reply_commit(struct http2_stream *st)
{
	int body = !st->head_only && st->iov_len > 0;

	st->iov.iov_len = body ? st->iov_len : 0;
	evbuffer_commit_space(st->body, &st->iov, 1);
	st->h->held += st->iov.iov_len;
	h2_submit(st, (int64_t)st->iov_len, body);
}

void
http2_stream_reply_file(struct http2_stream *st, int fd, uint64_t off, uint64_t len)
{
	if (st->head_only || len == 0) {
		close(fd);
		h2_submit(st, (int64_t)len, 0);
		return;
	}
	st->file = 1;
	st->fd = fd;
	st->fd_own = 1;
	st->foff = off;
	st->fleft = len;
	/* Counted as if held: the file's open descriptor is the cost a
	 * connection's waiting requests are bounded by here. */
	st->counted = 1;
	st->h->held += len;
	h2_submit(st, (int64_t)len, 1);
}

void
http2_stream_reply_mem(struct http2_stream *st, const void *body, size_t len,
    void (*release)(void *), void *arg)
{
	if (st->head_only || len == 0) {
		release(arg);
		h2_submit(st, (int64_t)len, 0);
		return;
	}
	/* Sent as a file's bytes are (no copy into a stream buffer), and
	 * counted as held as they are. */
	st->file = 1;
	st->fd = -1;
	st->mem = body;
	st->mem_release = release;
	st->mem_arg = arg;
	st->fleft = len;
	st->counted = 1;
	st->h->held += len;
	h2_submit(st, (int64_t)len, 1);
}

void
http2_stream_file(struct http2_stream *st, int fd, uint64_t off, uint64_t len,
    http_done_fn done, void *arg)
{
	if (st->head_only || len == 0) {
		h2_submit(st, (int64_t)len, 0);
		done(arg, 1);
		return;
	}
	/* A large body holds nothing in memory: not counted in held, as
	 * a streamed one holds a frame at most. */
	st->file = 1;
	st->fd = fd;
	st->foff = off;
	st->fleft = len;
	st->done = done;
	st->arg = arg;
	h2_submit(st, (int64_t)len, 1);
}

void
http2_stream_stream(struct http2_stream *st, uint64_t len, http_fill_fn fill,
    http_done_fn done, void *arg)
{
	if (st->head_only || len == 0) {
		h2_submit(st, (int64_t)len, 0);
		done(arg, 1);
		return;
	}
	if (h2_body_new(st) == -1) {
		done(arg, 0);
		return;
	}
	st->fill = fill;
	st->done = done;
	st->arg = arg;
	h2_submit(st, (int64_t)len, 1);
}

void
http2_stream_abort(struct http2_stream *st)
{
	free(st->rh);
	st->rh = NULL;
	h2_reset(st, NGHTTP2_INTERNAL_ERROR);
}

/* ---- the session ---- */

struct http2_session *
http2_session_new(struct http_conn *conn, struct evbuffer *out,
    const struct http2_params *p)
{
	nghttp2_session_callbacks *cbs = NULL;
	nghttp2_option *opt = NULL;
	struct http2_session *h;
	nghttp2_settings_entry iv[] = {
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, MAX_STREAMS },
		{ NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, (uint32_t)p->headers_max },
		{ NGHTTP2_SETTINGS_ENABLE_PUSH, 0 },
		/* Nothing is prioritised here: no RFC 7540 priority tree. */
		{ NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES, 1 },
	};

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->conn = conn;
	h->out = out;
	h->p = *p;
	h->idle_since = h->progress = h->control.at = h2_now();
	h->control.tokens = CONTROL_BURST;
	if (nghttp2_session_callbacks_new(&cbs) != 0 || nghttp2_option_new(&opt) != 0)
		goto fail;
	nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, h2_on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cbs, h2_on_header);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, h2_on_frame_recv);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, h2_on_data_chunk_recv);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, h2_on_stream_close);
	nghttp2_session_callbacks_set_send_data_callback(cbs, h2_send_data);
	nghttp2_session_callbacks_set_data_source_read_length_callback(cbs, h2_data_length);
	nghttp2_option_set_no_closed_streams(opt, 1);
	nghttp2_option_set_max_outbound_ack(opt, MAX_OUTBOUND_ACK);
	nghttp2_option_set_max_settings(opt, NGHTTP2_DEFAULT_MAX_SETTINGS);
	nghttp2_option_set_stream_reset_rate_limit(opt, RESET_BURST, RESET_RATE);
	nghttp2_option_set_max_continuations(opt, MAX_CONTINUATIONS);
	if (nghttp2_session_server_new2(&h->ng, cbs, h, opt) != 0)
		goto fail;
	nghttp2_session_callbacks_del(cbs);
	nghttp2_option_del(opt);
	if (nghttp2_submit_settings(h->ng, NGHTTP2_FLAG_NONE, iv,
	    sizeof(iv) / sizeof(iv[0])) != 0) {
		http2_session_free(h);
		return NULL;
	}
	return h;
fail:
	nghttp2_session_callbacks_del(cbs);
	nghttp2_option_del(opt);
	free(h);
	return NULL;
}

void
http2_session_free(struct http2_session *h)
{
	if (h == NULL)
		return;
	/* nghttp2_session_del does not report the streams it drops. */
	while (h->streams != NULL)
		h2_stream_free(h->streams);
	nghttp2_session_del(h->ng);
	free(h);
}

/* Bytes in the output, the region's included. */
static size_t
h2_pending(const struct http2_session *h)
{
	return evbuffer_get_length(h->out) + h->win_used;
}

/* What the region holds, into the output; no region after. */
static int
h2_commit(struct http2_session *h)
{
	struct evbuffer_iovec v = h->win;

	v.iov_len = h->win_used;
	h->ahead_st = NULL;	/* what was read past win_used goes with it */
	h->win.iov_base = NULL;
	h->win.iov_len = 0;
	h->win_used = 0;
	if (v.iov_base == NULL || v.iov_len == 0)
		return 0;
	return evbuffer_commit_space(h->out, &v, 1);
}

/* Room for LEN bytes in the region, a new region if it has less. */
static uint8_t *
h2_room(struct http2_session *h, size_t len)
{
	size_t want = len > REGION ? len : REGION;

	if (h->win.iov_base != NULL && h->win_used + len <= h->win.iov_len)
		return (uint8_t *)h->win.iov_base + h->win_used;
	if (h2_commit(h) == -1 ||
	    evbuffer_reserve_space(h->out, (ev_ssize_t)want, &h->win, 1) < 1) {
		h->win.iov_base = NULL;
		h->win.iov_len = 0;
		return NULL;
	}
	/* A chain's free space may be longer: records count from where a
	 * region begins, so regions are whole records. */
	if (h->win.iov_len > want)
		h->win.iov_len = want;
	return h->win.iov_base;
}

/* N bytes of frames nghttp2 made, into the region(s). */
static int
h2_put(struct http2_session *h, const uint8_t *data, size_t n)
{
	h->ahead_st = NULL;	/* they land where frames read ahead were to go */
	while (n > 0) {
		uint8_t *p = h2_room(h, 1);
		size_t k;

		if (p == NULL)
			return -1;
		k = h->win.iov_len - h->win_used;
		if (k > n)
			k = n;
		memcpy(p, data, k);
		h->win_used += k;
		data += k;
		n -= k;
	}
	return 0;
}

/* N cut to end where ROOM does, unless that leaves less than FRAME_MIN. */
static size_t
h2_cut(size_t n, size_t room)
{
	if (room >= FRAME_HEAD + FRAME_MIN && n > room - FRAME_HEAD)
		n = room - FRAME_HEAD;
	return n;
}

/* LENGTH bytes of ST's file into P, a DATA frame's payload, and the
 * next frames' as h2_data_length will cut them (AHEAD_MAX); none when
 * read with a frame before. LENGTH, fewer (a short read) or -1. */
static ssize_t
h2_file_read(struct http2_session *h, struct http2_stream *st, uint8_t *p, size_t length)
{
	struct iovec iov[AHEAD_MAX];
	uint8_t *base = h->win.iov_base;
	size_t at = (size_t)(p - base) + FRAME_HEAD + length;	/* the next head */
	size_t pending = h2_pending(h) + FRAME_HEAD + length, got;
	uint64_t left = st->fleft - length;
	unsigned i, k;
	ssize_t n;

	i = h->ahead_i;
	if (h->ahead_st == st && i < h->ahead_n && h->ahead_off[i] == st->foff &&
	    base + h->ahead_pos[i] == p + FRAME_HEAD && length <= h->ahead_len[i]) {
		if (length == h->ahead_len[i])
			h->ahead_i++;
		else
			h->ahead_st = NULL;	/* the next ones are not where foreseen */
		return (ssize_t)length;
	}
	h->ahead_st = NULL;
	iov[0].iov_base = p + FRAME_HEAD;
	iov[0].iov_len = length;
	/* Streams taking turns (RFC 9218 incremental) would waste what is
	 * read for the next frames: only for a stream sending alone. */
	for (k = 1; k < AHEAD_MAX && left > 0 && pending < OUT_MARK && h->last_data == st; k++) {
		size_t room = h->win.iov_len - at;
		size_t len = h2_cut(h2_cut(RECORD, room), OUT_MARK - pending);

		if (len > left)
			len = (size_t)left;
		if (room < FRAME_HEAD + len)
			break;
		iov[k].iov_base = base + at + FRAME_HEAD;
		iov[k].iov_len = len;
		h->ahead_pos[k - 1] = at + FRAME_HEAD;
		h->ahead_off[k - 1] = st->foff + (st->fleft - left);
		at += FRAME_HEAD + len;
		pending += FRAME_HEAD + len;
		left -= len;
	}
	if ((n = preadv(st->fd, iov, (int)k, (off_t)st->foff)) < (ssize_t)length)
		return n;
	/* What came of the frames ahead: whole, or the start of one. */
	got = (size_t)n - length;
	h->ahead_i = 0;
	h->ahead_n = 0;
	for (i = 1; i < k && got > 0; i++) {
		size_t l = iov[i].iov_len < got ? iov[i].iov_len : got;

		h->ahead_len[h->ahead_n++] = l;
		got -= l;
	}
	if (h->ahead_n > 0)
		h->ahead_st = st;
	return (ssize_t)length;
}

/* A DATA frame of a body from a file (or memory): its head, then LENGTH
 * bytes read into the output itself (through a stream buffer and
 * nghttp2's frame, two copies more: 3-4 % of the CPU a request). */
static int
h2_send_data(nghttp2_session *ng, nghttp2_frame *frame, const uint8_t *framehd,
    size_t length, nghttp2_data_source *src, void *user)
{
	struct http2_stream *st = src->ptr;
	struct http2_session *h = user;
	uint8_t *p;
	ssize_t n;

	(void)ng;
	if (frame->data.padlen > 0)	/* we never ask for padding */
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	/* Held back at the mark, as the frames nghttp2 copies are. */
	if (h2_pending(h) >= OUT_MARK)
		return NGHTTP2_ERR_WOULDBLOCK;
	if ((p = h2_room(h, FRAME_HEAD + length)) == NULL)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	memcpy(p, framehd, FRAME_HEAD);
	if (st->mem != NULL) {
		memcpy(p + FRAME_HEAD, st->mem + st->foff, length);
		n = (ssize_t)length;
	} else
		n = h2_file_read(h, st, p, length);
	if (n != (ssize_t)length) {
		/* The file changed or failed under us and the length has gone
		 * out: cut the stream (the frame stays out of the region). */
		log_error("object read failed mid-response; resetting the stream");
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	}
	h->win_used += FRAME_HEAD + length;
	h->last_data = st;
	st->foff += length;
	st->fleft -= length;
	if (st->counted)
		h->held -= length;
	h->progress = h2_now();
	if (st->fleft == 0 && st->done != NULL) {
		http_done_fn done = st->done;
		st->done = NULL;
		done(st->arg, 1);
	}
	return 0;
}

/* A DATA frame a record long at most, and ending where the region, or
 * the output at OUT_MARK, does when it would go past (see REGION). */
static ssize_t
h2_data_length(nghttp2_session *ng, uint8_t type, int32_t id, int32_t session_window,
    int32_t stream_window, uint32_t max_frame, void *user)
{
	struct http2_session *h = user;
	size_t n = max_frame < RECORD ? max_frame : RECORD;
	size_t room = h->win.iov_base != NULL ? h->win.iov_len - h->win_used : 0;
	size_t pending = h2_pending(h);

	(void)ng;
	(void)type;
	(void)id;
	n = h2_cut(n, room);
	/* And where a send ends, at the mark. */
	n = h2_cut(n, pending < OUT_MARK ? OUT_MARK - pending : 0);
	if ((int64_t)n > session_window)
		n = session_window > 0 ? (size_t)session_window : 0;
	if ((int64_t)n > stream_window)
		n = stream_window > 0 ? (size_t)stream_window : 0;
	return n > 0 ? (ssize_t)n : 1;
}

int
http2_session_send(struct http2_session *h)
{
	int rc = 0;

	if (h->sending)
		return 0;
	h->sending = 1;
	for (;;) {
		const uint8_t *data;
		ssize_t n = 0;

		if (nghttp2_session_want_read(h->ng))
			h2_dispatch_queued(h);
		/* Frames go into the region (h2_send_data reads a body from
		 * a file into it itself); nothing else adds to the output
		 * before it is committed. */
		while (h2_pending(h) < OUT_MARK &&
		    (n = nghttp2_session_mem_send(h->ng, &data)) > 0) {
			if (h2_put(h, data, (size_t)n) == -1) {
				n = -1;
				break;
			}
		}
		if (h2_commit(h) == -1)
			n = -1;
		if (n < 0) {
			rc = -1;
			break;
		}
		/* Sent bodies make room for the requests that wait. */
		if (h->q_head == NULL || h->held >= HELD_MAX ||
		    evbuffer_get_length(h->out) >= OUT_MARK ||
		    !nghttp2_session_want_read(h->ng))
			break;
	}
	h->sending = 0;
	return rc;
}

int
http2_session_recv(struct http2_session *h, struct evbuffer *in)
{
	size_t len;

	while ((len = evbuffer_get_length(in)) > 0) {
		ssize_t n;
		unsigned char *p;

		if (!nghttp2_session_want_read(h->ng)) {
			evbuffer_drain(in, len);
			break;
		}
		/* The reader is not reading: what it sends waits. */
		if (evbuffer_get_length(h->out) >= OUT_MARK)
			break;
		len = evbuffer_get_contiguous_space(in);
		if ((p = evbuffer_pullup(in, (ev_ssize_t)len)) == NULL)
			return -1;
		if ((n = nghttp2_session_mem_recv(h->ng, p, len)) < 0) {
			/* A protocol error nghttp2 has queued a GOAWAY for, if
			 * it could: send what can be, then the end. */
			if (n != NGHTTP2_ERR_BAD_CLIENT_MAGIC)
				log_warn("HTTP/2: %s; ending the connection",
				    nghttp2_strerror((int)n));
			http2_session_send(h);
			return -1;
		}
		evbuffer_drain(in, (size_t)n);
		if (http2_session_send(h) == -1)
			return -1;
	}
	return http2_session_send(h);
}

int
http2_session_finished(const struct http2_session *h)
{
	if (!nghttp2_session_want_read(h->ng) && !nghttp2_session_want_write(h->ng))
		return 1;
	/* Half-closed by the reader: done when no answer is left. */
	return h->eof && h->n_active == 0 && h->q_head == NULL &&
	    !nghttp2_session_want_write(h->ng);
}

void
http2_session_eof(struct http2_session *h)
{
	h->eof = 1;
}

void
http2_session_drain(struct http2_session *h)
{
	nghttp2_submit_goaway(h->ng, NGHTTP2_FLAG_NONE,
	    nghttp2_session_get_last_proc_stream_id(h->ng), NGHTTP2_NO_ERROR, NULL, 0);
}

int
http2_session_tick(struct http2_session *h, time_t now, int *next)
{
	time_t t;

	if (h->n_active == 0 && h->q_head == NULL) {
		/* Idle: no request in flight (a stream whose head is still
		 * coming does not count: a slowloris ends here too). */
		if ((t = now - h->idle_since) >= h->p.header_timeout) {
			nghttp2_session_terminate_session(h->ng, NGHTTP2_NO_ERROR);
			*next = h->p.header_timeout;
			return 0;
		}
		*next = (int)(h->p.header_timeout - t);
		return 0;
	}
	/* Answering, but the reader takes nothing (windows shut): as a
	 * reader that stops reading HTTP/1.1. */
	if ((t = now - h->progress) >= h->p.io_timeout)
		return -1;
	*next = (int)(h->p.io_timeout - t);
	return 0;
}

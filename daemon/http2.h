#ifndef EMBERD_HTTP2_H
#define EMBERD_HTTP2_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <event2/buffer.h>

#include "http_conn.h"

/*
 * HTTP/2 (RFC 9113) on a connection that chose "h2" by ALPN, framed by
 * libnghttp2. Each request is a stream, and each stream is handed to the
 * handler as a struct http_conn of its own, so that the handler answers
 * it with the same http_conn_* calls as an HTTP/1.1 request (http_conn.c
 * forwards them here). Bytes in: http2_session_recv; bytes out: appended
 * to the evbuffer the session was made with, never more than
 * H2 output mark at a time (http2_session_send when it has drained).
 *
 * Nothing here does I/O, so that the fuzz target drives the very code
 * the daemon runs with bytes of its own.
 */

struct http2_session;
struct http2_stream;

struct http2_params {
	size_t headers_max;	/* a request's header list (RFC 9113 6.5.2) */
	int header_timeout;	/* s without a request in flight: closed */
	int io_timeout;		/* s a response may make no progress */
	http_handler handler;
	void *arg;
};

/*
 * A session for CONN (NULL in the fuzz target: streams then have no
 * reader address), writing to OUT. Queues the server's SETTINGS.
 */
struct http2_session *http2_session_new(struct http_conn *conn, struct evbuffer *out,
    const struct http2_params *p);
/* Every stream's DONE is called (incomplete) and its handle freed. */
void http2_session_free(struct http2_session *h);
/* Feed what the reader sent, as much of IN as can be taken now (it is
 * drained of it), then send. -1: the session is over (a protocol error,
 * or out of memory): close. */
int http2_session_recv(struct http2_session *h, struct evbuffer *in);
/* Send what is queued, while OUT holds less than the mark. -1 as above. */
int http2_session_send(struct http2_session *h);
/* 1 when the session has nothing more to say or hear: close once OUT is
 * sent (after a GOAWAY, when the last stream has ended). */
int http2_session_finished(const struct http2_session *h);
/* The reader half-closed: finish the streams in flight, then end. */
void http2_session_eof(struct http2_session *h);
/* A graceful end: GOAWAY, the streams begun are answered to the end. */
void http2_session_drain(struct http2_session *h);
/* Deadlines, at NOW: 0 to go on (check again in *NEXT s), -1 to close
 * (idle for header_timeout, or no progress for io_timeout). */
int http2_session_tick(struct http2_session *h, time_t now, int *next);

/* The per-stream side of http_conn.h (see there), called by http_conn.c
 * for a handle that is a stream. */
void http2_stream_begin(struct http2_stream *s, int code);
void http2_stream_header(struct http2_stream *s, const char *name, const char *value);
void http2_stream_reply(struct http2_stream *s, const void *body, size_t len);
void http2_stream_reply_empty(struct http2_stream *s);
void *http2_stream_reply_reserve(struct http2_stream *s, size_t len);
void http2_stream_reply_commit(struct http2_stream *s);
void http2_stream_reply_file(struct http2_stream *s, int fd, uint64_t off, uint64_t len);
void http2_stream_reply_mem(struct http2_stream *s, const void *body, size_t len,
    void (*release)(void *), void *arg);
void http2_stream_file(struct http2_stream *s, int fd, uint64_t off, uint64_t len,
    http_done_fn done, void *arg);
void http2_stream_stream(struct http2_stream *s, uint64_t len, http_fill_fn fill,
    http_done_fn done, void *arg);
void http2_stream_abort(struct http2_stream *s);

/* In http_conn.c: the handle a stream of CONN (NULL: none) is answered
 * through, and its end. */
struct http_conn *http_conn_stream_handle(struct http_conn *conn, struct http2_stream *s);
void http_conn_stream_handle_free(struct http_conn *c);

#endif

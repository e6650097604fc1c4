#ifndef EMBERD_HTTP_CONN_H
#define EMBERD_HTTP_CONN_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <event2/buffer.h>
#include <openssl/ssl.h>

#include "http_request.h"

/*
 * HTTP/1.1 connections on bufferevents (bufferevent_openssl for TLS, a
 * socket bufferevent for plain HTTP): accepting, reading request heads,
 * keep-alive and pipelining, deadlines, limits and a lingering close.
 * What to answer is the handler's business; how to frame it is ours.
 * A TLS reader that chose HTTP/2 by ALPN has its connection handed to
 * http2.c after the handshake; each of its requests reaches the handler
 * with a struct http_conn of its own (a stream), answered with the same
 * calls, which are framed by libnghttp2 instead.
 *
 * A handler answers every request exactly once, with http_conn_reply()
 * or http_conn_stream(), after http_conn_begin() and any number of
 * http_conn_header() calls; it may answer later than it is called, and
 * no further request of the connection is read until it has.
 */

struct http_conn;
struct http_server;

typedef void (*http_handler)(struct http_conn *c, const struct http_head *h,
    void *arg);

/*
 * Streamed bodies: FILL adds the next bytes (at most WANT) to OUT when
 * the connection's output has drained; it returns 0 for more to come, 1
 * when the body is complete, -1 on an error (the connection is then cut:
 * the length has gone out already). DONE is called once, when the body
 * is complete (COMPLETE 1) or the connection ended before it (0).
 */
typedef int (*http_fill_fn)(void *arg, struct evbuffer *out, size_t want);
typedef void (*http_done_fn)(void *arg, int complete);

struct http_server_limits {
	size_t headers_max;	/* request line and fields together */
	int header_timeout;	/* s to send a whole request */
	int io_timeout;		/* s a reader may stall a response */
	unsigned conn_max;	/* connections at once: accepting pauses */
	int reuseport;		/* listen with SO_REUSEPORT: one socket a loop */
};

struct http_server *http_server_new(struct event_base *base, SSL_CTX *tls,
    const struct http_server_limits *lim, http_handler handler, void *arg);
/* Listen on HOST:PORT; -1 with errno on failure. */
int http_server_listen(struct http_server *srv, const char *host, int port);
/* Stop accepting; answer what is in flight, with Connection: close, and
 * close idle connections. */
void http_server_drain(struct http_server *srv);
/* Safe to read from another thread (a relaxed load; one turn old at worst). */
unsigned http_server_connections(const struct http_server *srv);
/* Close every connection and listener and free SRV. */
void http_server_free(struct http_server *srv);
/* New TLS connections use TLS from now on (a certificate reloaded or
 * renewed); connections open now keep the context they began with, as
 * each SSL holds a reference to it. The caller owns TLS. */
void http_server_set_tls(struct http_server *srv, SSL_CTX *tls);
/* Called with ARG whenever the number of connections falls to zero. */
void http_server_on_idle(struct http_server *srv, void (*cb)(void *), void *arg);

/* The reader's address, as text (for logs that ask for it). */
const char *http_conn_peer(const struct http_conn *c);
int http_conn_is_loopback(const struct http_conn *c);
/* 1 on a TLS listener. */
int http_conn_is_tls(const struct http_conn *c);

/*
 * Start a response: status line, Date, and the policy every answer
 * carries: X-Content-Type-Options: nosniff and Content-Security-Policy:
 * sandbox, or CSP instead of sandbox (a page of our own that must show
 * its media, and only that).
 */
void http_conn_begin(struct http_conn *c, int code);
void http_conn_begin_csp(struct http_conn *c, int code, const char *csp);
/* One field; NAME and VALUE must not hold CR or LF (ours never do). */
void http_conn_header(struct http_conn *c, const char *name, const char *value);
/*
 * End the head with Content-Length LEN and send BODY (LEN bytes) with it,
 * in one piece; a HEAD request gets the head only. BODY NULL with LEN > 0:
 * a HEAD answer for a body of LEN bytes.
 */
void http_conn_reply(struct http_conn *c, const void *body, size_t len);
/* End a head that has no Content-Length and no body: a 304. */
void http_conn_reply_empty(struct http_conn *c);
/* Like http_conn_reply, but the caller fills the body in place: returns
 * where LEN bytes go, or NULL (out of memory: the connection is cut).
 * Commit with http_conn_reply_commit, or cut with http_conn_abort. */
void *http_conn_reply_reserve(struct http_conn *c, size_t len);
void http_conn_reply_commit(struct http_conn *c);
/* Like http_conn_reply, the body LEN bytes of FD from OFF; owns FD.
 * Over HTTP/2 the bytes are read as their frames go out, else at once.
 * 0 sent, -1 out of memory, -2 a short read; on error the connection
 * is cut. */
int http_conn_reply_file(struct http_conn *c, int fd, uint64_t off, size_t len);
/* Like http_conn_reply, but BODY stays valid until RELEASE(ARG), which
 * comes once, when the body is no longer needed (at once on HTTP/1.1,
 * where it is copied; when the stream ends over HTTP/2, where it is
 * sent from there). */
void http_conn_reply_mem(struct http_conn *c, const void *body, size_t len,
    void (*release)(void *), void *arg);
/* End the head with Content-Length LEN and stream the body with FILL. */
void http_conn_stream(struct http_conn *c, uint64_t len, http_fill_fn fill,
    http_done_fn done, void *arg);
/* Over HTTP/2, stream LEN bytes of FD from OFF, each frame read from the
 * file into the output at its turn (FD stays the caller's; DONE says when
 * it is no longer read). -1 on HTTP/1.1: use http_conn_stream. */
int http_conn_stream_file(struct http_conn *c, int fd, uint64_t off, uint64_t len,
    http_done_fn done, void *arg);
/* Give up on the response begun: the connection is closed. */
void http_conn_abort(struct http_conn *c);

#endif

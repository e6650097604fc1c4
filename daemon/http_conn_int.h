/*
 * What http_conn.c (connections) and http_response.c (responses) share:
 * the limits, a connection's state and the server's and connection's
 * structs, and the functions each calls in the other. Not for the rest
 * of the daemon, which uses http_conn.h.
 */
#ifndef EMBERD_HTTP_CONN_INT_H
#define EMBERD_HTTP_CONN_INT_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/bufferevent.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "http_conn.h"

/*
 * Limits, and why:
 * - HEAD_MAX: a response head; most are well under a kilobyte, and the
 *   longest, an object with a 255-byte type and a 255-byte non-ASCII
 *   name (its Content-Disposition has the name percent-encoded twice),
 *   about 2.4 KB.
 * - PIPELINE_MAX: pipelined requests are answered while less than this
 *   is waiting to be sent; then the rest waits for the reader to read.
 * - STREAM_LOW/CHUNK: a streamed body is refilled a chunk at a time when
 *   less than STREAM_LOW is waiting: memory per download is bounded,
 *   whatever the object's size.
 * - LINGER: after a response that ends the connection, we stop sending
 *   and read (and drop) what the reader still sends for this long, so
 *   that closing with unread bytes cannot reset the connection before the
 *   reader has our answer (RFC 9112 9.6).
 * - ACCEPT_PAUSE: out of descriptors (or memory), accepting stops this
 *   long: the connection stays in the backlog, and accepting again at
 *   once would only fail again, in a busy loop (OpenBSD httpd does the
 *   same).
 */
#define HEAD_MAX	3072
#define PIPELINE_MAX	(64u * 1024)
#define STREAM_CHUNK	(32u * 1024)
#define STREAM_LOW	(64u * 1024)
#define LINGER		2
#define LISTEN_BACKLOG	1024
#define ACCEPT_PAUSE	1
/* HTTP/2: the write callback runs when this little is left to send, so
 * that the next frames are made before the output runs dry. */
#define H2_OUT_LOW	(16u * 1024)

enum conn_state {
	C_WAIT,		/* for (the rest of) a request head */
	C_HANDLING,	/* the handler is answering */
	C_STREAM,	/* a body is being streamed */
	C_CLOSING,	/* the last response is being sent */
	C_LINGER,	/* sent; reading what is left before the close */
	C_H2,		/* HTTP/2: the session has it (http2.c) */
};

struct http_listener {
	struct http_server *srv;
	struct evconnlistener *l;
	int tls;
	struct http_listener *next;
};

struct http_server {
	struct event_base *base;
	SSL_CTX *tls;
	struct http_server_limits lim;
	http_handler handler;
	void *arg;
	struct http_listener *listeners;
	struct http_conn *conns;
	unsigned n_conns;	/* written by the loop, read by any (atomics) */
	int paused, draining;
	struct event *ev_resume;	/* accepting again after ACCEPT_PAUSE */
	void (*idle_cb)(void *);
	void *idle_arg;
	time_t date_at;
	char date[64];
	const struct timeval *header_tv;	/* common timeouts: O(1) */
};

struct http_conn {
	struct http_server *srv;
	/* A stream's handle (http2.c): its calls go to S, its reader is
	 * PARENT's (NULL in the fuzz target). Nothing below is used. */
	struct http2_stream *h2s;
	struct http_conn *parent;
	struct http2_session *h2;	/* the connection speaks HTTP/2 */
	int alpn_done;			/* ALPN looked at (TLS) */
	struct bufferevent *bev;
	SSL *ssl;
	evutil_socket_t fd;
	struct http_conn *prev, *next;
	enum conn_state state;
	struct event *timer;
	time_t wait_since;	/* when it began waiting for a request */
	int depth;		/* inside our callbacks: freeing waits */
	int dead;		/* to be freed when depth falls to 0 */
	int processing;		/* reading requests: no re-entry */
	int keep_alive;		/* after the response begun */
	int head_only;		/* the request is HEAD */
	int eof;		/* the reader will send no more */
	int corked;		/* TCP_CORK is on */
	uint64_t sent;		/* bytes that left the output (plain HTTP) */
	uint64_t sendfile_stall;	/* SENT at the last sendfile EAGAIN */
	struct sockaddr_storage peer;
	socklen_t peer_len;
	char peer_text[INET6_ADDRSTRLEN + 8];
	/* the response head being built (in head, at the end) */
	size_t head_len;
	int head_overflow;
	/* reply_reserve */
	struct evbuffer_iovec iov;
	size_t iov_body;
	/* a streamed body */
	http_fill_fn fill;
	http_done_fn done;
	void *stream_arg;
	char head[];	/* HEAD_MAX bytes; none in a stream's handle */
};

/*
 * A response of several TLS records (or a plain one of several
 * segments) is written a record at a time; on its own each write would
 * go out as a packet, and on loopback or a fast link each one wakes the
 * reader. Corked, the kernel sends full segments only, and the rest when
 * the response has been written (the write callback, output empty).
 * Streamed bodies are not corked (http_conn_stream says why).
 */
#define CORK_OVER	16384

/* http_conn.c */
time_t http_now(void);
void http_conn_close(struct http_conn *c);
void http_conn_linger(struct http_conn *c);
void http_conn_pump(struct http_conn *c);
void http_conn_process(struct http_conn *c);
void http_conn_cork(struct http_conn *c, int on);
/* http_response.c */
void http_head_add(struct http_conn *c, const char *s, size_t n);
void http_conn_response_end(struct http_conn *c);
/* An error answer that ends the connection (a request we will not read). */
void http_conn_refuse(struct http_conn *c, int code, const char *msg);

#endif

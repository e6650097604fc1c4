/*
 * HTTP/1.1 connections (see http_conn.h): accept, read heads,
 * keep-alive and pipelining, deadlines and limits, writing (corking,
 * streaming, sendfile); the responses' heads and bodies are framed in
 * http_response.c. A TLS
 * connection whose reader chose "h2" by ALPN is handed to http2.c
 * after the handshake; its requests are answered through handles of
 * their own (a struct http_conn per stream, whose calls go to http2.c).
 */
#include "http_conn_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_struct.h>
#include <event2/bufferevent_ssl.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "http2.h"
#include "log.h"

/*
 * Why a layer of our own rather than evhttp: evhttp copies every header
 * of every request and response to the heap, prints response heads with
 * vfprintf, and switches a connection's read and write events on and off
 * around each request. With TLS on one core that kept the mirror at
 * three quarters of nginx's rate on small objects. Here a request head is
 * parsed in place in the input buffer, only the fields the mirror acts on
 * are looked at, a response head and a small body go out as one piece
 * (one TLS record, one write), and a connection's events stay as they
 * are between requests.
 *
 * The limits, the connection's state and its structs are in
 * http_conn_int.h, shared with http_response.c (the responses).
 */


time_t
http_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec;
}

/* ---- lifetime ---- */

static void
http_listeners_enable(struct http_server *srv, int on)
{
	struct http_listener *l;

	for (l = srv->listeners; l != NULL; l = l->next)
		if (on)
			evconnlistener_enable(l->l);
		else
			evconnlistener_disable(l->l);
}

/*
 * The bufferevents are made without BEV_OPT_CLOSE_ON_FREE: with it,
 * libevent closes the socket (and frees the SSL) in a finalizer that can
 * run after the listener, resumed by this very close, has accepted
 * again; under a crowd at the connection cap that held a hundred
 * descriptors beyond it. bufferevent_free has taken the socket out of
 * epoll when it returns, and the finalizer touches neither the SSL nor
 * the socket without that option.
 */
static void
http_conn_release(struct bufferevent *bev, SSL *ssl, evutil_socket_t fd)
{
	bufferevent_free(bev);
	if (ssl != NULL)
		SSL_free(ssl);
	close(fd);
}

static void
http_conn_free(struct http_conn *c)
{
	struct http_server *srv = c->srv;

	if (c->done != NULL) {
		http_done_fn done = c->done;
		c->done = NULL;
		c->fill = NULL;
		done(c->stream_arg, 0);
	}
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	http2_session_free(c->h2);
	event_free(c->timer);
	http_conn_release(c->bev, c->ssl, c->fd);
	free(c);
	__atomic_sub_fetch(&srv->n_conns, 1, __ATOMIC_RELAXED);
	if (srv->paused && !srv->draining && srv->n_conns < srv->lim.conn_max) {
		srv->paused = 0;
		http_listeners_enable(srv, 1);
	}
	if (srv->n_conns == 0 && srv->idle_cb != NULL)
		srv->idle_cb(srv->idle_arg);
}

/* Close now, or as soon as our callbacks have unwound. */
void
http_conn_close(struct http_conn *c)
{
	if (c->depth > 0)
		c->dead = 1;
	else
		http_conn_free(c);
}

static void
http_conn_enter(struct http_conn *c)
{
	c->depth++;
}

/* 1 when C has been freed: the caller must not touch it again. */
static int
http_conn_leave(struct http_conn *c)
{
	if (--c->depth == 0 && c->dead) {
		http_conn_free(c);
		return 1;
	}
	return 0;
}

static void
http_timer_arm(struct http_conn *c, int secs)
{
	struct timeval tv = { secs, 0 };

	if (secs == c->srv->lim.header_timeout && c->srv->header_tv != NULL)
		evtimer_add(c->timer, c->srv->header_tv);
	else
		evtimer_add(c->timer, &tv);
}

/*
 * The response has gone to the socket and the connection ends: stop
 * sending (TLS close_notify, then FIN), and read until the reader
 * closes too, or LINGER seconds.
 */
void
http_conn_linger(struct http_conn *c)
{
	c->state = C_LINGER;
	http_conn_cork(c, 0);
	if (c->ssl != NULL)
		SSL_shutdown(c->ssl);
	if (c->fd != -1)
		shutdown(c->fd, SHUT_WR);
	if (c->eof)
		http_conn_close(c);	/* the reader has closed already */
	else
		http_timer_arm(c, LINGER);
}

/*
 * Send what was just queued now, in this turn of the loop. Libevent's
 * socket and OpenSSL bufferevents only register for writability when
 * output is added and write once the next epoll_wait says so: two
 * epoll_ctl calls and a loop turn per response. Running the write
 * event's callback directly writes at once; when all of it went out, the
 * event is removed again before the loop applies any change, so nothing
 * reaches the kernel but the write. (The event is a documented member
 * of struct bufferevent, bufferevent_struct.h.)
 */
static void
http_conn_kick(struct http_conn *c)
{
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) > 0)
		event_active(&c->bev->ev_write, EV_WRITE, 1);
}

void
http_conn_cork(struct http_conn *c, int on)
{
	int v = on;

	if (c->corked == on || c->fd == -1)
		return;
	c->corked = on;
	setsockopt(c->fd, IPPROTO_TCP, TCP_CORK, &v, sizeof(v));
}

/* ---- HTTP/2 ---- */

/*
 * After the session has had its say (RC -1: it is broken): the close
 * once it has nothing more to send or hear, else send what it queued.
 */
static void
http_conn_h2_after(struct http_conn *c, int rc)
{
	if (c->state != C_H2)
		return;
	if (rc == -1 || http2_session_finished(c->h2)) {
		c->state = C_CLOSING;
		if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
			http_conn_linger(c);
			return;
		}
	}
	http_conn_kick(c);
}

/* The handshake is done: HTTP/2 when the reader chose it by ALPN. */
static void
http_conn_alpn(struct http_conn *c)
{
	struct http_server *srv = c->srv;
	struct http2_params p = {
		.headers_max = srv->lim.headers_max,
		.header_timeout = srv->lim.header_timeout,
		.io_timeout = srv->lim.io_timeout,
		.handler = srv->handler,
		.arg = srv->arg,
	};
	const unsigned char *proto = NULL;
	unsigned int len = 0;

	c->alpn_done = 1;
	SSL_get0_alpn_selected(c->ssl, &proto, &len);
	if (len != 2 || memcmp(proto, "h2", 2) != 0 || c->state != C_WAIT)
		return;
	if ((c->h2 = http2_session_new(c, bufferevent_get_output(c->bev), &p)) == NULL) {
		log_error("out of memory");
		http_conn_close(c);
		return;
	}
	c->state = C_H2;
	/* Frames are small: several to a TLS record, as one write. */
	bufferevent_setwatermark(c->bev, EV_WRITE, H2_OUT_LOW, 0);
	/* Its handshake ended after SIGTERM: GOAWAY at once. */
	if (srv->draining)
		http2_session_drain(c->h2);
	http_conn_h2_after(c, http2_session_send(c->h2));
}

struct http_conn *
http_conn_stream_handle(struct http_conn *conn, struct http2_stream *s)
{
	struct http_conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->srv = conn != NULL ? conn->srv : NULL;
	c->parent = conn;
	c->h2s = s;
	c->fd = -1;
	return c;
}

void
http_conn_stream_handle_free(struct http_conn *c)
{
	free(c);
}

/* ---- callbacks ---- */

static void
http_timer_cb(evutil_socket_t unused, short what, void *arg)
{
	struct http_conn *c = arg;
	time_t now, timeout = c->srv->lim.header_timeout;

	switch (c->state) {
	case C_LINGER:
		http_conn_close(c);
		return;
	case C_H2: {
		int next = (int)timeout;
		http_conn_enter(c);
		if (http2_session_tick(c->h2, http_now(), &next) == -1)
			http_conn_close(c);	/* a reader that takes nothing */
		else {
			http_conn_h2_after(c, http2_session_send(c->h2));
			if (!c->dead)
				http_timer_arm(c, next > 0 ? next : 1);
		}
		http_conn_leave(c);
		return;
	}
	case C_WAIT:
		/*
		 * The deadline is for the reader's request, not for our
		 * answers: while they are still being sent, the write timeout
		 * watches the reader, and the wait starts again after.
		 */
		now = http_now();
		if (evbuffer_get_length(bufferevent_get_output(c->bev)) > 0)
			c->wait_since = now;
		else if (now - c->wait_since >= timeout) {
			/* A slowloris, a stuck handshake or an idle keep-alive. */
			http_conn_close(c);
			return;
		}
		http_timer_arm(c, (int)(timeout - (now - c->wait_since)));
		return;
	default:
		http_timer_arm(c, (int)timeout);
		return;
	}
}

/* Fill the output of a streamed body up to the mark. */
void
http_conn_pump(struct http_conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	while (c->state == C_STREAM && evbuffer_get_length(out) < STREAM_LOW) {
		int r = c->fill(c->stream_arg, out, STREAM_CHUNK);
		if (r == 0)
			continue;
		http_done_fn done = c->done;
		c->done = NULL;
		c->fill = NULL;
		done(c->stream_arg, r == 1);
		if (r == -1) {
			http_conn_close(c);
			return;
		}
		bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
		http_conn_response_end(c);
	}
}

static void
http_read_cb(struct bufferevent *bev, void *arg)
{
	struct http_conn *c = arg;

	http_conn_enter(c);
	if (c->ssl != NULL && !c->alpn_done)
		http_conn_alpn(c);
	if (c->state == C_LINGER || c->state == C_CLOSING) {
		/* What comes after the last HTTP/1.1 answer waits unread;
		 * an HTTP/2 session that has ended hears no more. */
		if (c->state == C_LINGER || c->h2 != NULL) {
			struct evbuffer *in = bufferevent_get_input(bev);
			evbuffer_drain(in, evbuffer_get_length(in));
		}
	} else if (c->state == C_H2) {
		http_conn_h2_after(c, http2_session_recv(c->h2, bufferevent_get_input(bev)));
	} else if (c->state == C_WAIT) {
		http_conn_process(c);
		if (!c->dead)
			http_conn_kick(c);
	}
	http_conn_leave(c);
}

static void
http_write_cb(struct bufferevent *bev, void *arg)
{
	struct http_conn *c = arg;
	struct evbuffer *out = bufferevent_get_output(bev);

	http_conn_enter(c);
	if (c->corked && evbuffer_get_length(out) == 0)
		http_conn_cork(c, 0);
	switch (c->state) {
	case C_H2:
		/* Frames wait for room in the output, and input for the
		 * frames to go: both go on now. */
		if (http2_session_send(c->h2) == -1)
			http_conn_h2_after(c, -1);
		else
			http_conn_h2_after(c, http2_session_recv(c->h2,
			    bufferevent_get_input(bev)));
		break;
	case C_STREAM:
		http_conn_pump(c);
		/* Libevent calls this once the output has gone out: what the
		 * pump added goes now, not after another epoll_wait. */
		if (!c->dead)
			http_conn_kick(c);
		break;
	case C_CLOSING:
		if (evbuffer_get_length(out) == 0)
			http_conn_linger(c);
		break;
	case C_WAIT:
		/* Pipelined requests waited for the output to drain. */
		if (c->srv->draining && evbuffer_get_length(out) == 0)
			http_conn_close(c);
		else {
			http_conn_process(c);
			if (!c->dead)
				http_conn_kick(c);
		}
		break;
	default:
		break;
	}
	http_conn_leave(c);
}

/*
 * libevent (2.1) sends a file segment with sendfile, and reports a full
 * socket buffer there (EAGAIN) as EOF|WRITING, with writing disabled:
 * on a plain connection with bytes left to send (a body's last ones may
 * wait there after the response has ended), writing is enabled again and
 * resumes when the socket drains. Another EOF with no byte sent since
 * (counted as they leave the output: its length alone repeats, as equal
 * partial sends leave equal remainders) is
 * a file cut short under the segment (sendfile returns 0 on a writable
 * socket): that ends the connection, as a short read does. writev never
 * reports EOF, so nothing else takes this path.
 */
static void
http_out_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct http_conn *c = arg;

	(void)buf;
	c->sent += info->n_deleted;
}

static int
http_conn_sendfile_again(struct http_conn *c, short what, struct evbuffer *out)
{
	size_t left = evbuffer_get_length(out);

	if (c->ssl != NULL || c->h2 != NULL ||
	    (what & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) ||
	    (what & (BEV_EVENT_EOF | BEV_EVENT_WRITING)) != (BEV_EVENT_EOF | BEV_EVENT_WRITING) ||
	    left == 0 || c->sent == c->sendfile_stall)
		return 0;
	c->sendfile_stall = c->sent;
	bufferevent_enable(c->bev, EV_WRITE);
	return 1;
}

static void
http_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct http_conn *c = arg;
	struct evbuffer *out = bufferevent_get_output(bev);

	/*
	 * An end met while writing (the OpenSSL bufferevent reports a write
	 * into a socket the reader has closed, EPIPE, as EOF|WRITING) is no
	 * half-close: nothing more can be sent. Taken for one, an HTTP/2
	 * connection with streams left asked to write again at once, and the
	 * loop spun on that write without returning to epoll.
	 */
	if (http_conn_sendfile_again(c, what, out))
		return;
	if ((what & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) ||
	    ((what & BEV_EVENT_EOF) &&
	    (c->state == C_LINGER || (what & BEV_EVENT_WRITING)))) {
		http_conn_close(c);
		return;
	}
	if (what & BEV_EVENT_CONNECTED) {
		http_conn_enter(c);
		if (c->ssl != NULL && !c->alpn_done)
			http_conn_alpn(c);
		http_conn_leave(c);
		return;
	}
	if (!(what & BEV_EVENT_EOF))
		return;
	/*
	 * The reader has stopped sending (a half-close): what it asked for
	 * is still sent, then the connection ends. Requests it sent that
	 * have not been read yet are dropped.
	 */
	http_conn_enter(c);
	c->eof = 1;
	c->keep_alive = 0;
	if (c->state == C_H2) {
		http2_session_eof(c->h2);
		http_conn_h2_after(c, 0);
	} else if (c->state == C_WAIT) {
		if (evbuffer_get_length(out) == 0)
			http_conn_close(c);
		else
			c->state = C_CLOSING;
	}
	http_conn_leave(c);
}

/* ---- requests ---- */

void
http_conn_process(struct http_conn *c)
{
	struct http_server *srv = c->srv;
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct evbuffer *out = bufferevent_get_output(c->bev);
	struct http_head h;

	if (c->processing)
		return;
	c->processing = 1;
	while (c->state == C_WAIT && !c->dead) {
		size_t len = evbuffer_get_length(in), n, end;
		char *p;

		if (len == 0 || evbuffer_get_length(out) >= PIPELINE_MAX)
			break;
		n = len < srv->lim.headers_max ? len : srv->lim.headers_max;
		if ((p = (char *)evbuffer_pullup(in, (ev_ssize_t)n)) == NULL) {
			http_conn_close(c);
			break;
		}
		if ((end = http_head_end(p, n)) == 0) {
			if (len >= srv->lim.headers_max)
				http_conn_refuse(c, 431, "request head too large\n");
			break;
		}
		if (http_head_parse(p, end, &h) == -1) {
			http_conn_refuse(c, 400, "malformed request\n");
			break;
		}
		/*
		 * Nothing here takes uploads, and a body left unread would be
		 * taken for the next request: a request with one is answered,
		 * then the connection closes unread. A method we do not allow
		 * is told so (the handler's 405 with Allow, RFC 9110 15.5.6);
		 * a body on GET or HEAD has no meaning (RFC 9110 9.3.1): 400.
		 */
		if (h.has_body && h.method != HTTP_OTHER) {
			http_conn_refuse(c, 400, "request bodies are not accepted\n");
			break;
		}
		c->state = C_HANDLING;
		c->keep_alive = h.keep_alive && !srv->draining && !h.has_body;
		c->head_only = h.method == HTTP_HEAD;
		srv->handler(c, &h, srv->arg);
		if (c->state == C_HANDLING) {
			log_error("a request was left unanswered; closing the connection");
			http_conn_close(c);
			break;
		}
		/* Parsed in place: the head's bytes are spent only now. */
		if (!c->dead)
			evbuffer_drain(in, c->state == C_LINGER ?
			    evbuffer_get_length(in) : end);
	}
	c->processing = 0;
}

/* ---- accepting ---- */

static void
http_accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct http_listener *hl = arg;
	struct http_server *srv = hl->srv;
	struct http_conn *c;
	int one = 1;

	if ((c = calloc(1, sizeof(*c) + HEAD_MAX)) == NULL) {
		close(fd);
		return;
	}
	c->srv = srv;
	c->fd = fd;
	c->sendfile_stall = UINT64_MAX;
	if (salen > 0 && (size_t)salen <= sizeof(c->peer)) {
		memcpy(&c->peer, sa, (size_t)salen);
		c->peer_len = (socklen_t)salen;
	}
	/* Responses are written whole: Nagle would only delay them. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (hl->tls) {
		if ((c->ssl = SSL_new(srv->tls)) == NULL)
			goto fail;
		c->bev = bufferevent_openssl_socket_new(srv->base, fd, c->ssl,
		    BUFFEREVENT_SSL_ACCEPTING, 0);
		if (c->bev == NULL) {
			SSL_free(c->ssl);
			goto fail;
		}
	} else if ((c->bev = bufferevent_socket_new(srv->base, fd, 0)) == NULL) {
		goto fail;
	} else if (evbuffer_add_cb(bufferevent_get_output(c->bev), http_out_cb, c) == NULL) {
		bufferevent_free(c->bev);
		goto fail;
	}
	if ((c->timer = evtimer_new(srv->base, http_timer_cb, c)) == NULL) {
		http_conn_release(c->bev, c->ssl, fd);
		free(c);
		return;
	}
	{
		struct timeval io = { srv->lim.io_timeout, 0 };
		bufferevent_set_timeouts(c->bev, NULL, &io);
	}
	/* Reading stops when this much is waiting: pipelined requests
	 * cannot pile up while a response is being sent. */
	bufferevent_setwatermark(c->bev, EV_READ, 0, 2 * srv->lim.headers_max);
	bufferevent_setcb(c->bev, http_read_cb, http_write_cb, http_event_cb, c);
	c->state = C_WAIT;
	c->wait_since = http_now();
	http_timer_arm(c, srv->lim.header_timeout);
	c->next = srv->conns;
	if (srv->conns != NULL)
		srv->conns->prev = c;
	srv->conns = c;
	if (__atomic_add_fetch(&srv->n_conns, 1, __ATOMIC_RELAXED) >= srv->lim.conn_max &&
	    !srv->paused) {
		log_warn("%u connections: pausing accept until one closes", srv->n_conns);
		srv->paused = 1;
		http_listeners_enable(srv, 0);
	}
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	return;
fail:
	close(fd);
	free(c);
}

static void
http_accept_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_server *srv = arg;

	if (!srv->paused && !srv->draining)
		http_listeners_enable(srv, 1);
}

static void
http_accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct http_listener *hl = arg;
	struct http_server *srv = hl->srv;
	struct timeval tv = { ACCEPT_PAUSE, 0 };
	int err = EVUTIL_SOCKET_ERROR();

	/* Out of descriptors or memory: the connections we have keep
	 * going, and accepting resumes shortly. */
	log_warn("accept: %s", evutil_socket_error_to_string(err));
	if (err != EMFILE && err != ENFILE && err != ENOBUFS && err != ENOMEM)
		return;
	if (srv->ev_resume == NULL &&
	    (srv->ev_resume = evtimer_new(srv->base, http_accept_resume_cb, srv)) == NULL)
		return;
	http_listeners_enable(srv, 0);
	evtimer_add(srv->ev_resume, &tv);
}

/* ---- the server ---- */

struct http_server *
http_server_new(struct event_base *base, SSL_CTX *tls,
    const struct http_server_limits *lim, http_handler handler, void *arg)
{
	struct http_server *srv = calloc(1, sizeof(*srv));
	struct timeval tv;

	if (srv == NULL)
		return NULL;
	srv->base = base;
	srv->tls = tls;
	srv->lim = *lim;
	srv->handler = handler;
	srv->arg = arg;
	tv.tv_sec = lim->header_timeout;
	tv.tv_usec = 0;
	srv->header_tv = event_base_init_common_timeout(base, &tv);
	return srv;
}

void
http_server_set_tls(struct http_server *srv, SSL_CTX *tls)
{
	srv->tls = tls;
}

int
http_server_listen(struct http_server *srv, const char *host, int port)
{
	struct evutil_addrinfo hints, *ai = NULL;
	struct http_listener *hl;
	char portstr[16];
	int err;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = EVUTIL_AI_PASSIVE | EVUTIL_AI_ADDRCONFIG;
	snprintf(portstr, sizeof(portstr), "%d", port);
	if ((err = evutil_getaddrinfo(host, portstr, &hints, &ai)) != 0) {
		errno = EADDRNOTAVAIL;
		return -1;
	}
	if ((hl = calloc(1, sizeof(*hl))) == NULL) {
		evutil_freeaddrinfo(ai);
		return -1;
	}
	hl->srv = srv;
	hl->tls = srv->tls != NULL;
	hl->l = evconnlistener_new_bind(srv->base, http_accept_cb, hl,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_REUSEABLE |
	    (srv->lim.reuseport ? LEV_OPT_REUSEABLE_PORT : 0),
	    LISTEN_BACKLOG, ai->ai_addr, (int)ai->ai_addrlen);
	evutil_freeaddrinfo(ai);
	if (hl->l == NULL) {
		int e = errno;
		free(hl);
		errno = e;
		return -1;
	}
	evconnlistener_set_error_cb(hl->l, http_accept_error_cb);
	if (srv->paused || srv->draining)
		evconnlistener_disable(hl->l);
	hl->next = srv->listeners;
	srv->listeners = hl;
	return 0;
}

void
http_server_on_idle(struct http_server *srv, void (*cb)(void *), void *arg)
{
	srv->idle_cb = cb;
	srv->idle_arg = arg;
}

unsigned
http_server_connections(const struct http_server *srv)
{
	return __atomic_load_n(&srv->n_conns, __ATOMIC_RELAXED);
}

void
http_server_drain(struct http_server *srv)
{
	struct http_conn *c, *next;

	srv->draining = 1;
	http_listeners_enable(srv, 0);
	for (c = srv->conns; c != NULL; c = next) {
		next = c->next;
		if (c->state == C_H2) {
			/* GOAWAY: the streams begun are answered, then the end. */
			http_conn_enter(c);
			http2_session_drain(c->h2);
			http_conn_h2_after(c, http2_session_send(c->h2));
			http_conn_leave(c);
			continue;
		}
		if (c->state != C_WAIT)
			continue;	/* answering: Connection: close follows */
		if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
			http_conn_close(c);
		else
			c->state = C_CLOSING;	/* answers queued: send, then close */
	}
}

void
http_server_free(struct http_server *srv)
{
	struct http_listener *l, *ln;

	if (srv == NULL)
		return;
	srv->idle_cb = NULL;
	while (srv->conns != NULL)
		http_conn_free(srv->conns);
	for (l = srv->listeners; l != NULL; l = ln) {
		ln = l->next;
		evconnlistener_free(l->l);
		free(l);
	}
	if (srv->ev_resume != NULL)
		event_free(srv->ev_resume);
	free(srv);
}

/* ---- the reader ---- */

const char *
http_conn_peer(const struct http_conn *c)
{
	struct http_conn *m = (struct http_conn *)c;
	const void *a = NULL;

	if (c->h2s != NULL)
		return c->parent != NULL ? http_conn_peer(c->parent) : "-";

	if (m->peer_text[0] != '\0')
		return m->peer_text;
	if (c->peer.ss_family == AF_INET)
		a = &((const struct sockaddr_in *)&c->peer)->sin_addr;
	else if (c->peer.ss_family == AF_INET6)
		a = &((const struct sockaddr_in6 *)&c->peer)->sin6_addr;
	if (a == NULL || inet_ntop(c->peer.ss_family, a, m->peer_text,
	    sizeof(m->peer_text)) == NULL)
		snprintf(m->peer_text, sizeof(m->peer_text), "-");
	return m->peer_text;
}

int
http_conn_is_tls(const struct http_conn *c)
{
	if (c->h2s != NULL)
		return 1;	/* HTTP/2 is offered on TLS only */
	return c->ssl != NULL;
}

int
http_conn_is_loopback(const struct http_conn *c)
{
	if (c->h2s != NULL)
		return c->parent != NULL && http_conn_is_loopback(c->parent);
	if (c->peer.ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)&c->peer;
		return (ntohl(s->sin_addr.s_addr) >> 24) == 127;
	}
	if (c->peer.ss_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)&c->peer)->sin6_addr;
		return IN6_IS_ADDR_LOOPBACK(a) ||
		    (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return 0;
}

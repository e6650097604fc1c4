/*
 * HTTP/1.1 responses (see http_conn.h): the status line and the policy
 * every answer carries, header fields, Content-Length, a small body in
 * the same piece as its head, a streamed one handed to http_conn.c's
 * pump, and what a finished response leaves the connection to do
 * (keep-alive, pipelining, close, linger). A stream's handle passes each
 * call to http2.c.
 */
#include "http_conn_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http2.h"
#include "log.h"

/* ---- responses ---- */

static const char *
http_reason(int code)
{
	switch (code) {
	case 200: return "OK";
	case 206: return "Partial Content";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 416: return "Range Not Satisfiable";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Unknown";
	}
}

void
http_head_add(struct http_conn *c, const char *s, size_t n)
{
	if (c->head_len + n > HEAD_MAX) {
		c->head_overflow = 1;
		return;
	}
	memcpy(c->head + c->head_len, s, n);
	c->head_len += n;
}

void
http_conn_begin_csp(struct http_conn *c, int code, const char *csp)
{
	struct http_server *srv = c->srv;
	time_t now = time(NULL);
	char line[64];
	int n;

	if (srv == NULL) {
		/* A stream with no connection: the fuzz target. */
		http2_stream_begin(c->h2s, code);
		http_conn_header(c, "Date", "Thu, 01 Jan 1970 00:00:00 GMT");
		goto policy;
	}
	if (now != srv->date_at) {
		struct tm tm;
		srv->date_at = now;
		gmtime_r(&now, &tm);
		strftime(srv->date, sizeof(srv->date),
		    "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
	}
	if (c->h2s != NULL) {
		/* The value only: "Date: " and the CRLF are HTTP/1.1's. */
		char date[sizeof(srv->date)];
		size_t dl = strlen(srv->date);
		snprintf(date, sizeof(date), "%.*s", dl > 8 ? (int)(dl - 8) : 0, srv->date + 6);
		http2_stream_begin(c->h2s, code);
		http_conn_header(c, "Date", date);
		goto policy;
	}
	c->head_len = 0;
	c->head_overflow = 0;
	n = snprintf(line, sizeof(line), "HTTP/1.1 %d %s\r\n", code, http_reason(code));
	http_head_add(c, line, (size_t)n);
	http_head_add(c, srv->date, strlen(srv->date));
policy:
	/*
	 * The response policy, here so that no answer can go without it,
	 * whichever route or error made it: a mirror serves bytes from
	 * anywhere (mirrored HTML among them), so a browser must neither
	 * guess a type nor run a script on the mirror's origin.
	 */
	http_conn_header(c, "X-Content-Type-Options", "nosniff");
	http_conn_header(c, "Content-Security-Policy", csp != NULL ? csp : "sandbox");
}

void
http_conn_begin(struct http_conn *c, int code)
{
	http_conn_begin_csp(c, code, NULL);
}

void
http_conn_header(struct http_conn *c, const char *name, const char *value)
{
	if (c->h2s != NULL) {
		http2_stream_header(c->h2s, name, value);
		return;
	}
	http_head_add(c, name, strlen(name));
	http_head_add(c, ": ", 2);
	http_head_add(c, value, strlen(value));
	http_head_add(c, "\r\n", 2);
}

/* Content-Length, Connection, and the empty line. -1: the head did not fit. */
static int
http_head_finish(struct http_conn *c, uint64_t len)
{
	char num[32];
	int n;

	if (c->srv->draining)
		c->keep_alive = 0;
	n = snprintf(num, sizeof(num), "%llu", (unsigned long long)len);
	http_head_add(c, "Content-Length: ", 16);
	http_head_add(c, num, (size_t)n);
	http_head_add(c, "\r\n", 2);
	if (!c->keep_alive)
		http_head_add(c, "Connection: close\r\n", 19);
	http_head_add(c, "\r\n", 2);
	if (c->head_overflow) {
		log_error("response head over %d bytes; closing the connection", HEAD_MAX);
		return -1;
	}
	return 0;
}

/* The response is all queued: the next request, or the close. */
void
http_conn_response_end(struct http_conn *c)
{
	if (c->keep_alive) {
		c->state = C_WAIT;
		c->wait_since = http_now();
		/* Pipelined requests already here: http_conn_process (our
		 * caller, or the next write callback) reads them. */
		if (!c->processing &&
		    evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
			http_conn_process(c);
		return;
	}
	c->state = C_CLOSING;
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		http_conn_linger(c);
}

void *
http_conn_reply_reserve(struct http_conn *c, size_t len)
{
	struct evbuffer *out;

	if (c->h2s != NULL)
		return http2_stream_reply_reserve(c->h2s, len);
	out = bufferevent_get_output(c->bev);
	if (http_head_finish(c, len) == -1 ||
	    evbuffer_reserve_space(out, c->head_len + len, &c->iov, 1) < 1) {
		c->iov.iov_base = NULL;
		return NULL;
	}
	memcpy(c->iov.iov_base, c->head, c->head_len);
	if (!c->head_only && len > CORK_OVER)
		http_conn_cork(c, 1);
	/* A HEAD answer has no body: what is written there is not sent. */
	c->iov_body = c->head_only ? 0 : len;
	return (char *)c->iov.iov_base + c->head_len;
}

void
http_conn_reply_commit(struct http_conn *c)
{
	struct evbuffer *out;

	if (c->h2s != NULL) {
		http2_stream_reply_commit(c->h2s);
		return;
	}
	out = bufferevent_get_output(c->bev);
	c->iov.iov_len = c->head_len + c->iov_body;
	evbuffer_commit_space(out, &c->iov, 1);
	http_conn_response_end(c);
}

void
http_conn_reply(struct http_conn *c, const void *body, size_t len)
{
	char *p;

	if (c->h2s != NULL) {
		http2_stream_reply(c->h2s, body, len);
		return;
	}
	if (body == NULL) {
		/* The head of a HEAD answer (or of an empty body). */
		if (http_head_finish(c, len) == -1 ||
		    bufferevent_write(c->bev, c->head, c->head_len) == -1) {
			http_conn_abort(c);
			return;
		}
		http_conn_response_end(c);
		return;
	}
	if ((p = http_conn_reply_reserve(c, len)) == NULL) {
		http_conn_abort(c);
		return;
	}
	if (!c->head_only)
		memcpy(p, body, len);
	http_conn_reply_commit(c);
}

int
http_conn_reply_file(struct http_conn *c, int fd, uint64_t off, size_t len)
{
	char *p;
	ssize_t n;

	if (c->h2s != NULL) {
		http2_stream_reply_file(c->h2s, fd, off, len);
		return 0;
	}
	if ((p = http_conn_reply_reserve(c, len)) == NULL) {
		close(fd);
		http_conn_abort(c);
		return -1;
	}
	n = pread(fd, p, len, (off_t)off);
	close(fd);
	if (n != (ssize_t)len) {
		http_conn_abort(c);
		return -2;
	}
	http_conn_reply_commit(c);
	return 0;
}

void
http_conn_reply_mem(struct http_conn *c, const void *body, size_t len,
    void (*release)(void *), void *arg)
{
	if (c->h2s != NULL) {
		http2_stream_reply_mem(c->h2s, body, len, release, arg);
		return;
	}
	/* Copied in after the head: one piece of output, full records. */
	http_conn_reply(c, body, len);
	release(arg);
}

void
http_conn_reply_empty(struct http_conn *c)
{
	if (c->h2s != NULL) {
		http2_stream_reply_empty(c->h2s);
		return;
	}
	if (c->srv->draining)
		c->keep_alive = 0;
	if (!c->keep_alive)
		http_head_add(c, "Connection: close\r\n", 19);
	http_head_add(c, "\r\n", 2);
	if (c->head_overflow || bufferevent_write(c->bev, c->head, c->head_len) == -1) {
		http_conn_abort(c);
		return;
	}
	http_conn_response_end(c);
}

int
http_conn_stream_file(struct http_conn *c, int fd, uint64_t off, uint64_t len,
    http_done_fn done, void *arg)
{
	if (c->h2s == NULL)
		return -1;
	http2_stream_file(c->h2s, fd, off, len, done, arg);
	return 0;
}

void
http_conn_stream(struct http_conn *c, uint64_t len, http_fill_fn fill,
    http_done_fn done, void *arg)
{
	if (c->h2s != NULL) {
		http2_stream_stream(c->h2s, len, fill, done, arg);
		return;
	}
	if (http_head_finish(c, len) == -1 ||
	    bufferevent_write(c->bev, c->head, c->head_len) == -1) {
		done(arg, 0);
		http_conn_abort(c);
		return;
	}
	/* Not corked (and uncorked if a reply before it was): a stream's
	 * writes follow each other closely, so corking saved no packets,
	 * and over HTTPS on 8 connections a corked 64 MiB download cost
	 * the server 76-108 CPU ticks a GB against 69-86 without, in
	 * alternating rounds. */
	http_conn_cork(c, 0);
	c->fill = fill;
	c->done = done;
	c->stream_arg = arg;
	c->state = C_STREAM;
	bufferevent_setwatermark(c->bev, EV_WRITE, STREAM_LOW / 2, 0);
	http_conn_pump(c);
}

void
http_conn_abort(struct http_conn *c)
{
	if (c->h2s != NULL) {
		http2_stream_abort(c->h2s);
		return;
	}
	c->state = C_CLOSING;
	http_conn_close(c);
}

/* A response of our own (malformed request, head too large), then the close. */
void
http_conn_refuse(struct http_conn *c, int code, const char *msg)
{
	c->keep_alive = 0;
	c->head_only = 0;
	c->state = C_HANDLING;
	http_conn_begin(c, code);
	http_conn_header(c, "Content-Type", "text/plain; charset=utf-8");
	http_conn_reply(c, msg, strlen(msg));
}

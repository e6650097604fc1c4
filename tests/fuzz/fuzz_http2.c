/*
 * HTTP/2 frames come straight from readers. The input is what a client
 * sends after its connection preface (which the target sends first);
 * it goes into a server session (http2.c, the daemon's own) whose
 * requests are answered through the real http_conn_* calls by a
 * handler that takes every path a response can take: a body in one
 * piece (small, or large enough that requests wait for room), in
 * place, streamed by FILL (to its end, or failing midway), read from a
 * file as its frames go (small or streamed, whole or found short),
 * 304 without a body, an abort, a head too large, no answer at all.
 * The first input byte chooses how the rest is cut into reads. After
 * the input, the client reads everything the server has to say, then
 * the server drains (GOAWAY) and is freed: every stream's DONE must
 * have been called exactly once (ASan sees a double free or a leak).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "http2.h"
#include "http_conn.h"
#include "http_request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
static const char big[64 * 1024];

#define FILE_LEN	200000

/* The object files read from: FILE_LEN bytes in memory, made once. */
static int
fuzz_file(void)
{
	static int fd = -2;

	if (fd == -2) {
		fd = memfd_create("fuzz_http2", 0);
		if (fd == -1 || ftruncate(fd, FILE_LEN) == -1)
			__builtin_trap();
	}
	return fd;
}

struct fuzz_body {
	uint64_t left;
	int fail_at;	/* FILL fails when this many calls are left, or -1 */
	int calls;
};

static int
fuzz_fill(void *arg, struct evbuffer *out, size_t want)
{
	struct fuzz_body *b = arg;
	char chunk[4096];
	size_t n = want < sizeof(chunk) ? want : sizeof(chunk);

	if (b->fail_at == b->calls++)
		return -1;
	if (n > b->left)
		n = (size_t)b->left;
	memset(chunk, 'x', n);
	if (evbuffer_add(out, chunk, n) == -1)
		return -1;
	b->left -= n;
	return b->left == 0 ? 1 : 0;
}

static void
fuzz_done(void *arg, int complete)
{
	free(arg);	/* a second call is a double free */
}

/* Every string of the head is one, however the frames spelled it. */
static void
fuzz_check_head(const struct http_head *h)
{
	const char *s[] = { h->method_text, h->target, h->range, h->if_none_match,
	    h->if_range, h->accept_encoding, h->accept_language, h->host };
	size_t i, n = 0;

	if (h->method_text == NULL || h->target == NULL)
		__builtin_trap();
	for (i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		if (s[i] != NULL)
			n += strlen(s[i]);
	if (n > 8192 || (h->method == HTTP_GET) != (strcmp(h->method_text, "GET") == 0))
		__builtin_trap();
}

static void
fuzz_handler(struct http_conn *c, const struct http_head *h, void *arg)
{
	struct fuzz_body *b;
	char *p;
	size_t n;
	int i;

	fuzz_check_head(h);
	/* What the routes look at, as server.c would. */
	http_range_parse(h->range, 100000, &(struct http_range){ 0, 0 });
	http_accepts_gzip(h->accept_encoding);
	switch (h->target[0] == '/' ? h->target[1] : '\0') {
	case 's':	/* streamed, to its end or failing midway */
	case 'f':
		if ((b = calloc(1, sizeof(*b))) == NULL) {
			http_conn_abort(c);
			return;
		}
		b->left = 1 + (uint64_t)strlen(h->target) * 9000;
		b->fail_at = h->target[1] == 'f' ? 2 : -1;
		http_conn_begin(c, 200);
		http_conn_header(c, "Content-Type", "application/octet-stream");
		http_conn_stream(c, b->left, fuzz_fill, fuzz_done, b);
		return;
	case 'r':	/* a small body from a file, past its end when long */
		if ((i = dup(fuzz_file())) == -1) {
			http_conn_abort(c);
			return;
		}
		http_conn_begin(c, 200);
		http_conn_reply_file(c, i, 1000, FILE_LEN - 11000 + strlen(h->target) * 1000);
		return;
	case 'l':	/* a large body streamed from a file, past its end when long */
		if ((b = calloc(1, sizeof(*b))) == NULL) {
			http_conn_abort(c);
			return;
		}
		http_conn_begin(c, 200);
		if (http_conn_stream_file(c, fuzz_file(), 7,
		    strlen(h->target) > 4 ? FILE_LEN : FILE_LEN - 107, fuzz_done, b) == -1)
			__builtin_trap();	/* only h2 here */
		return;
	case 'm':	/* a small body from memory, released once when sent or cut */
		n = sizeof(big) < strlen(h->target) * 3000 ? sizeof(big) : strlen(h->target) * 3000;
		if ((p = malloc(n)) == NULL) {
			http_conn_abort(c);
			return;
		}
		memcpy(p, big, n);
		http_conn_begin(c, 200);
		http_conn_reply_mem(c, p, n, free, p);	/* a second free is a double free */
		return;
	case 'v':	/* in place */
		http_conn_begin(c, 206);
		http_conn_header(c, "Content-Range", "bytes 0-99/100");
		if ((p = http_conn_reply_reserve(c, 100)) == NULL) {
			http_conn_abort(c);
			return;
		}
		memset(p, 'v', 100);
		http_conn_reply_commit(c);
		return;
	case 'e':	/* 304 */
		http_conn_begin(c, 304);
		http_conn_header(c, "ETag", "\"abc\"");
		http_conn_reply_empty(c);
		return;
	case 'a':
		http_conn_begin(c, 200);
		http_conn_abort(c);
		return;
	case 'o':	/* a head too large */
		http_conn_begin(c, 200);
		for (i = 0; i < 100; i++)
			http_conn_header(c, "X-Filler", "0123456789012345678901234567890123456789");
		http_conn_reply(c, "x", 1);
		return;
	case 'n':	/* no answer */
		return;
	case 'h':
		http_conn_begin(c, 200);
		http_conn_reply(c, NULL, 12345);
		return;
	case 'b':	/* a small reply at its largest: a few fill HELD_MAX */
		http_conn_begin(c, 200);
		http_conn_reply(c, big, sizeof(big));
		return;
	default:
		http_conn_begin_csp(c, 404, "default-src 'none'");
		http_conn_header(c, "Content-Type", "text/plain; charset=utf-8");
		http_conn_header(c, "Connection", "close");	/* dropped on h2 */
		http_conn_reply(c, "not found\n", 10);
		return;
	}
}

/* The client reads all there is, a few times over. */
static void
fuzz_read_all(struct http2_session *h, struct evbuffer *out)
{
	int i;

	for (i = 0; i < 64 && evbuffer_get_length(out) > 0; i++) {
		evbuffer_drain(out, evbuffer_get_length(out));
		if (http2_session_send(h) == -1)
			break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http2_params p = {
		.headers_max = 8192,
		.header_timeout = 10,
		.io_timeout = 30,
		.handler = fuzz_handler,
		.arg = NULL,
	};
	struct evbuffer *in = evbuffer_new(), *out = evbuffer_new();
	struct http2_session *h = NULL;
	size_t step, off = 1;
	int next;

	if (in == NULL || out == NULL || size < 1)
		goto done;
	step = 1 + (size_t)data[0] * 37;
	if ((h = http2_session_new(NULL, out, &p)) == NULL)
		goto done;
	evbuffer_add(in, preface, sizeof(preface) - 1);
	while (off < size) {
		size_t n = size - off < step ? size - off : step;
		evbuffer_add(in, data + off, n);
		off += n;
		if (http2_session_recv(h, in) == -1)
			goto end;
		fuzz_read_all(h, out);
		if (http2_session_finished(h))
			goto end;
	}
	/* What waited for the output to drain. */
	for (next = 0; next < 8 && evbuffer_get_length(in) > 0; next++) {
		if (http2_session_recv(h, in) == -1)
			goto end;
		fuzz_read_all(h, out);
	}
	http2_session_tick(h, 0, &next);
	http2_session_drain(h);
	fuzz_read_all(h, out);
	http2_session_eof(h);
	(void)http2_session_finished(h);
end:
	http2_session_free(h);
done:
	evbuffer_free(in);
	evbuffer_free(out);
	return 0;
}

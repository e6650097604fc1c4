/*
 * The curl option set and the capped memory body that emberd's HTTP
 * clients share (http_client.h): `emberd fetch` on its own, the crawler
 * and the follower on the event loop.
 */
#include "http_client.h"

#include <stdlib.h>
#include <string.h>

#define BUF_FIRST	16384

int
http_client_setup(CURL *e, const struct http_client_opts *o)
{
	CURLcode rc = CURLE_OK;

#define SET(opt, v) do { if (rc == CURLE_OK) rc = curl_easy_setopt(e, opt, v); } while (0)
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_FOLLOWLOCATION, 1L);
	SET(CURLOPT_MAXREDIRS, o->max_redirs);
	/* Nothing but the web: a redirect to file:// or anything else fails. */
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	if (o->user_agent != NULL)
		SET(CURLOPT_USERAGENT, o->user_agent);
	SET(CURLOPT_CONNECTTIMEOUT, o->connect_timeout);
	/* A transfer may be slow (Tor); it may not stall. */
	SET(CURLOPT_LOW_SPEED_LIMIT, o->low_speed > 0 ? o->low_speed : 1L);
	SET(CURLOPT_LOW_SPEED_TIME, o->low_speed_time);
	if (o->total_timeout > 0)
		SET(CURLOPT_TIMEOUT, o->total_timeout);
	/* "" is curl's "no proxy at all", the environment's included. */
	if (o->proxy != NULL && o->proxy[0] != '\0')
		SET(CURLOPT_PROXY, o->proxy);
	else if (!o->proxy_env)
		SET(CURLOPT_PROXY, "");
	if (!o->tls_verify) {
		/* Whatever comes is checked against the publisher's signature
		 * or a hash anyway; the choice is the caller's. */
		SET(CURLOPT_SSL_VERIFYPEER, 0L);
		SET(CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (o->ca_file != NULL)
		SET(CURLOPT_CAINFO, o->ca_file);
#undef SET
	return rc == CURLE_OK ? 0 : -1;
}

void
http_client_buf_init(struct http_client_buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

int
http_client_buf_append(struct http_client_buf *b, const void *p, size_t len)
{
	char *d;

	if (len > b->max - b->len) {
		b->too_big = 1;
		return -1;
	}
	/* Doubling: a large catalog comes in many small pieces. */
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : BUF_FIRST;
		while (cap < b->len + len + 1)
			cap *= 2;
		if (cap > b->max + 1)
			cap = b->max + 1;
		if ((d = realloc(b->data, cap)) == NULL)
			return -1;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

size_t
http_client_buf_write_cb(char *buf, size_t size, size_t n, void *arg)
{
	struct http_client_buf *b = arg;
	long status = 0;

	if (b->easy != NULL) {
		curl_easy_getinfo(b->easy, CURLINFO_RESPONSE_CODE, &status);
		if (status != 200)
			return 0;	/* an error page: the status says it all */
	}
	return http_client_buf_append(b, buf, size * n) == -1 ? 0 : size * n;
}

void
http_client_buf_attach(CURL *e, struct http_client_buf *b)
{
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, http_client_buf_write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)b->max);
}

void
http_client_buf_free(struct http_client_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

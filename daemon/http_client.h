/*
 * What every outgoing HTTP request of emberd shares, whichever loop runs
 * it: the curl option set (the web only, bounded redirects and stalls,
 * the chosen proxy, TLS checks) and a capped in-memory body for small
 * documents such as a catalog and its signature.
 */
#ifndef EMBERD_HTTP_CLIENT_H
#define EMBERD_HTTP_CLIENT_H

#include <stddef.h>

#include <curl/curl.h>

struct http_client_opts {
	const char *proxy;	/* NULL or "": see proxy_env */
	int proxy_env;		/* no proxy given: 1 curl's environment variables
				 * apply (a reader's client), 0 none (a daemon) */
	const char *user_agent;
	long max_redirs;
	long connect_timeout;	/* seconds */
	long low_speed;		/* bytes/s; slower than this ... */
	long low_speed_time;	/* ... for this many seconds fails */
	long total_timeout;	/* seconds for the whole transfer; 0 none */
	int tls_verify;		/* 0 accepts any certificate */
	const char *ca_file;	/* NULL: the system's trust store */
};

/* Apply O to E. 0, or -1 when curl refuses an option (too old a libcurl,
 * or out of memory). */
int http_client_setup(CURL *e, const struct http_client_opts *o);

/*
 * A body kept in memory, at most MAX bytes: it grows with what arrives
 * (doubling, never past MAX + 1) and stays NUL-terminated. data is NULL
 * until a byte arrives.
 */
struct http_client_buf {
	char *data;
	size_t len, cap, max;
	int too_big;		/* more than MAX bytes came */
	CURL *easy;		/* when set, the body of an answer other
				 * than 200 is refused, not kept */
};

void http_client_buf_init(struct http_client_buf *b, size_t max);

/* Append LEN bytes. -1 when they would pass MAX (too_big set) or memory
 * runs out. */
int http_client_buf_append(struct http_client_buf *b, const void *p, size_t len);

/* libcurl's CURLOPT_WRITEFUNCTION for a buffer given as CURLOPT_WRITEDATA. */
size_t http_client_buf_write_cb(char *buf, size_t size, size_t n, void *arg);

/* Make B the body of E: the write callback, and MAX as curl's own limit
 * (a declared Content-Length over it fails before a byte is read). */
void http_client_buf_attach(CURL *e, struct http_client_buf *b);

void http_client_buf_free(struct http_client_buf *b);

#endif

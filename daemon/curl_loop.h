/*
 * libcurl's multi_socket interface on a libevent base (the wiring of
 * curl's hiperfifo example): one multi handle, one libevent event per
 * curl socket, one timer. Transfers are owned by their callers, who are
 * told when one ends; small documents can be fetched into memory.
 */
#ifndef EMBERD_CURL_LOOP_H
#define EMBERD_CURL_LOOP_H

#include <stddef.h>

#include <curl/curl.h>
#include <event2/event.h>

struct curl_loop;

/*
 * A transfer on the loop. Embed it in the caller's own struct; DONE is
 * called once the transfer has ended and is off the multi handle (the
 * easy handle is the caller's to reuse or clean up).
 */
struct curl_loop_xfer {
	void (*done)(struct curl_loop_xfer *x, CURL *e, CURLcode res);
};

struct curl_loop *curl_loop_new(struct event_base *base);

/* Cancel the in-memory fetches (their callbacks are not called) and
 * free. Transfers added with curl_loop_add must be removed first. */
void curl_loop_free(struct curl_loop *l);

/* At most TOTAL connections, PER_HOST to one host (0: no limit). */
void curl_loop_limits(struct curl_loop *l, long total, long per_host);

int curl_loop_add(struct curl_loop *l, CURL *e, struct curl_loop_xfer *x);
void curl_loop_remove(struct curl_loop *l, CURL *e);

/*
 * GET into memory through E (URL and the caller's options set; the write
 * callback, error buffer and size cap are set here): at most MAX bytes,
 * within the transfer's options. FN gets the body (NUL-terminated) when
 * the answer is 200, else NULL and a reason ("HTTP 404", "larger than
 * MAX bytes", a transfer error). E is cleaned up here, also on -1.
 */
typedef void (*curl_loop_get_fn)(void *arg, const char *body, size_t len, const char *err);

int curl_loop_get(struct curl_loop *l, CURL *e, size_t max, curl_loop_get_fn fn,
    void *arg);

#endif

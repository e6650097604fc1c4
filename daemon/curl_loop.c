/*
 * libcurl on the event loop (curl_loop.h): socket and timer callbacks,
 * the dispatch of finished transfers to their owners, and in-memory
 * fetches of small documents (a follower's catalogs).
 *
 * libcurl may report a socket removal late, or for a socket it never
 * announced: the per-socket pointer may be NULL, and nothing is keyed on
 * the descriptor number alone.
 */
#include "curl_loop.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_client.h"

struct curl_loop_sock {
	struct event *ev;
};

/* A small document fetched into memory. */
struct curl_loop_getter {
	struct curl_loop_xfer xfer;	/* first: the transfer's own pointer */
	struct curl_loop *l;
	CURL *easy;
	struct http_client_buf body;
	curl_loop_get_fn fn;
	void *arg;
	char errbuf[CURL_ERROR_SIZE];
	struct curl_loop_getter *next;
};

struct curl_loop {
	struct event_base *base;
	CURLM *multi;
	struct event *timer;
	struct curl_loop_getter *gets;
};

/* Hand every finished transfer to its owner. */
static void
curl_loop_check(struct curl_loop *l)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(l->multi, &left)) != NULL) {
		struct curl_loop_xfer *x = NULL;
		CURL *e = msg->easy_handle;
		CURLcode res = msg->data.result;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_multi_remove_handle(l->multi, e);
		curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&x);
		if (x != NULL)
			x->done(x, e, res);
	}
}

static void
curl_loop_event_cb(evutil_socket_t fd, short kind, void *arg)
{
	struct curl_loop *l = arg;
	int action = ((kind & EV_READ) ? CURL_CSELECT_IN : 0) |
	    ((kind & EV_WRITE) ? CURL_CSELECT_OUT : 0);
	int running;

	curl_multi_socket_action(l->multi, fd, action, &running);
	curl_loop_check(l);
}

static void
curl_loop_timer_cb(evutil_socket_t fd, short kind, void *arg)
{
	struct curl_loop *l = arg;
	int running;

	curl_multi_socket_action(l->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	curl_loop_check(l);
}

/* CURLMOPT_TIMERFUNCTION: one timer for the whole multi handle. */
static int
curl_loop_curl_timer(CURLM *multi, long ms, void *arg)
{
	struct curl_loop *l = arg;
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	if (ms < 0)
		evtimer_del(l->timer);
	else
		evtimer_add(l->timer, &tv);
	return 0;
}

/* CURLMOPT_SOCKETFUNCTION: keep one libevent event per curl socket. */
static int
curl_loop_curl_socket(CURL *e, curl_socket_t s, int what, void *arg, void *sockp)
{
	struct curl_loop *l = arg;
	struct curl_loop_sock *cs = sockp;
	short kind;

	if (what == CURL_POLL_REMOVE) {
		if (cs != NULL) {
			event_free(cs->ev);
			free(cs);
			curl_multi_assign(l->multi, s, NULL);
		}
		return 0;
	}
	if (cs == NULL) {
		if ((cs = calloc(1, sizeof(*cs))) == NULL)
			return -1;
		curl_multi_assign(l->multi, s, cs);
	} else if (cs->ev != NULL) {
		event_free(cs->ev);
	}
	kind = EV_PERSIST | ((what & CURL_POLL_IN) ? EV_READ : 0) |
	    ((what & CURL_POLL_OUT) ? EV_WRITE : 0);
	if ((cs->ev = event_new(l->base, s, kind, curl_loop_event_cb, l)) == NULL)
		return -1;
	event_add(cs->ev, NULL);
	return 0;
}

struct curl_loop *
curl_loop_new(struct event_base *base)
{
	struct curl_loop *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	l->base = base;
	if ((l->multi = curl_multi_init()) == NULL ||
	    (l->timer = evtimer_new(base, curl_loop_timer_cb, l)) == NULL) {
		curl_loop_free(l);
		return NULL;
	}
	curl_multi_setopt(l->multi, CURLMOPT_SOCKETFUNCTION, curl_loop_curl_socket);
	curl_multi_setopt(l->multi, CURLMOPT_SOCKETDATA, l);
	curl_multi_setopt(l->multi, CURLMOPT_TIMERFUNCTION, curl_loop_curl_timer);
	curl_multi_setopt(l->multi, CURLMOPT_TIMERDATA, l);
	return l;
}

static void
curl_loop_getter_free(struct curl_loop_getter *g)
{
	if (g->easy != NULL) {
		curl_multi_remove_handle(g->l->multi, g->easy);
		curl_easy_cleanup(g->easy);
	}
	http_client_buf_free(&g->body);
	free(g);
}

void
curl_loop_free(struct curl_loop *l)
{
	if (l == NULL)
		return;
	while (l->gets != NULL) {
		struct curl_loop_getter *g = l->gets;
		l->gets = g->next;
		curl_loop_getter_free(g);
	}
	if (l->multi != NULL)
		curl_multi_cleanup(l->multi);
	if (l->timer != NULL)
		event_free(l->timer);
	free(l);
}

void
curl_loop_limits(struct curl_loop *l, long total, long per_host)
{
	curl_multi_setopt(l->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, total);
	curl_multi_setopt(l->multi, CURLMOPT_MAX_HOST_CONNECTIONS, per_host);
}

int
curl_loop_add(struct curl_loop *l, CURL *e, struct curl_loop_xfer *x)
{
	curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)x);
	return curl_multi_add_handle(l->multi, e) == CURLM_OK ? 0 : -1;
}

void
curl_loop_remove(struct curl_loop *l, CURL *e)
{
	curl_multi_remove_handle(l->multi, e);
}

/* A fetch into memory ended: answer it. */
static void
curl_loop_get_done(struct curl_loop_xfer *x, CURL *e, CURLcode res)
{
	struct curl_loop_getter *g = (struct curl_loop_getter *)x, **gp;
	char why[CURL_ERROR_SIZE + 64];
	long status = 0;

	for (gp = &g->l->gets; *gp != NULL && *gp != g; gp = &(*gp)->next)
		;
	if (*gp != NULL)
		*gp = g->next;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	why[0] = '\0';
	if (g->body.too_big || res == CURLE_FILESIZE_EXCEEDED)
		snprintf(why, sizeof(why), "larger than %zu bytes", g->body.max);
	else if (res != CURLE_OK && res != CURLE_WRITE_ERROR)
		snprintf(why, sizeof(why), "%s", g->errbuf[0] ? g->errbuf :
		    curl_easy_strerror(res));
	else if (status != 200)
		snprintf(why, sizeof(why), "HTTP %ld", status);
	else if (g->body.data == NULL && (g->body.data = calloc(1, 1)) == NULL)
		snprintf(why, sizeof(why), "out of memory");
	if (why[0] != '\0')
		g->fn(g->arg, NULL, 0, why);
	else
		g->fn(g->arg, g->body.data, g->body.len, NULL);
	curl_easy_cleanup(g->easy);
	g->easy = NULL;
	curl_loop_getter_free(g);
}

int
curl_loop_get(struct curl_loop *l, CURL *e, size_t max, curl_loop_get_fn fn, void *arg)
{
	struct curl_loop_getter *g = calloc(1, sizeof(*g));

	if (g == NULL) {
		curl_easy_cleanup(e);
		return -1;
	}
	g->xfer.done = curl_loop_get_done;
	g->l = l;
	g->easy = e;
	g->fn = fn;
	g->arg = arg;
	http_client_buf_init(&g->body, max);
	/* An error page's body is refused: the status says it all. */
	g->body.easy = e;
	http_client_buf_attach(e, &g->body);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, g->errbuf);
	if (curl_loop_add(l, e, &g->xfer) == -1) {
		g->easy = NULL;
		curl_easy_cleanup(e);
		free(g);
		return -1;
	}
	g->next = l->gets;
	l->gets = g;
	return 0;
}

/*
 * What `emberd run` holds while it serves (server.c answers requests with
 * it, server_run.c sets it up and tears it down), and the few functions
 * the two halves share. Private to them.
 */
#ifndef EMBERD_SERVER_STATE_H
#define EMBERD_SERVER_STATE_H

#include <event2/event.h>
#include <openssl/ssl.h>

#include "config.h"
#include "http_conn.h"
#include "http_request.h"
#include "index_page.h"
#include "metrics.h"
#include "server_catalog.h"
#include "store.h"

struct acme;
struct schedule;
struct scrub;
struct server_meta;

struct server {
	struct event_base *base;
	char *config_path;
	struct config cfg;
	struct store st;
	SSL_CTX *ssl;
	struct http_server *https, *http;
	struct event *ev_term, *ev_int, *ev_hup, *ev_grace;
	struct acme *acme;		/* [https] acme = yes: the client */
	struct schedule *sched;		/* crawl or sync passes; NULL once stopping */
	struct scrub *scrub;		/* what it sets aside is fetched again */
	char *pubkey_b64, *pubkey_file;
	/* the index page: its settings, and the certificate's key pin when
	 * the certificate is self-signed */
	struct index_page_info page_info;
	char pin[64];
	struct server_catalog cat;
	int stopping;
	unsigned streams;
	struct metrics m;
	struct server_meta *meta;	/* NULL: no cache */
	int watch_fd;			/* inotify on the store: -1 if none */
	struct event *ev_watch;
	int cat_dirty;			/* `current` may have moved */
	int store_open;
	unsigned conn_max;
};

/* Re-read the catalog `current` points at if it may have moved. */
void server_current(struct server *s);
/* inotify on the store said something moved. */
void server_watch_cb(evutil_socket_t fd, short what, void *arg);
/* Client connections open now, on both listeners. */
unsigned server_connections(const struct server *s);
/* The request handler both listeners are made with. */
void server_request(struct http_conn *c, const struct http_head *h, void *arg);

#endif

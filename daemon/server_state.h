/*
 * What `emberd run` holds while it serves (server.c answers requests with
 * it, server_run.c sets it up and tears it down), and the few functions
 * the two halves share. Private to them.
 */
#ifndef EMBERD_SERVER_STATE_H
#define EMBERD_SERVER_STATE_H

#include <pthread.h>

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

/*
 * One event loop and what belongs to it alone: loop 0 is the main
 * thread's (it also runs the crawler, the follower, ACME, the work
 * queue's completions and the signals), the others are worker threads
 * ([https]/[http] workers) that only serve. Each has its own listeners
 * on the same ports (SO_REUSEPORT: the kernel spreads the connections),
 * its own connections, counters and metadata cache, so a request never
 * touches another loop's state. What loops share is struct server's,
 * under its lock.
 */
struct server_msg;

struct server_loop {
	struct server *s;
	unsigned id;			/* 0: the main loop */
	struct event_base *base;
	struct http_server *https, *http;	/* NULL: not this loop's scheme */
	SSL_CTX *ssl;			/* the context its new TLS connections get (a reference) */
	struct metrics m;		/* its requests, responses, bytes, downloads */
	unsigned streams;		/* downloads now (relaxed atomics: /metrics reads them) */
	struct server_meta *meta;	/* NULL: no cache */
	struct server_cache *cache;	/* small objects in memory; NULL: none */
	int stopping;
	struct event *ev_grace, *ev_watch;
	/* The mailbox: what other threads ask of this loop, run on it. */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct server_msg *head, *tail;
	int closed;			/* the loop has stopped: nothing more runs */
	int mail_fd;			/* eventfd: mail waits */
	struct event *ev_mail;
	pthread_t thread;
	int started;
};

struct server {
	struct event_base *base;	/* the main loop's: loops[0].base */
	char *config_path;
	struct config cfg;
	struct store st;
	SSL_CTX *ssl;			/* the main loop's reference */
	struct server_loop *loops;	/* n_loops, [0] the main loop */
	unsigned n_loops;		/* 1, or n_serving + 1: the main loop serves none */
	unsigned n_serving;		/* loops with listeners */
	struct event *ev_term, *ev_int, *ev_hup;
	struct acme *acme;		/* [https] acme = yes: the client */
	struct schedule *sched;		/* crawl or sync passes; NULL once stopping */
	struct scrub *scrub;		/* what it sets aside is fetched again */
	char *pubkey_b64, *pubkey_file;
	/*
	 * What every loop reads and the main loop (cfg, pin) or a catalog
	 * load (cat) replaces: written under LOCK held for writing, read
	 * under it held for reading (but by the main loop, for cfg). A
	 * request holds it for reading while it is answered, so what it
	 * looks at stays as it is until it is done; a new catalog is read
	 * outside it, and only swapped in under it.
	 */
	pthread_rwlock_t lock;
	/* the certificate's key pin when it is self-signed, for the index
	 * page */
	char pin[64];
	struct server_catalog cat;
	pthread_mutex_t load_mu;	/* one catalog load at a time */
	pthread_mutex_t pages_mu;	/* the index pages made on first use */
	unsigned cat_gen;		/* bumped when `current` may have moved (atomic) */
	unsigned cat_loaded;		/* the cat_gen the last look was for (under load_mu) */
	int cat_force;			/* the next look reloads even an unmoved catalog (atomic) */
	int stopping;
	struct metrics m;		/* the main loop's: crawl results, the store's size */
	int watch_fd;			/* inotify on the store: -1 if none */
	int store_open;
	int locks_made;
	unsigned conn_max;
};

/* Re-read the catalog `current` points at if it may have moved (any
 * thread; not while holding LOCK). */
void server_current(struct server *s);
/* `current` may have moved; FORCE: reload it even if it has not (the
 * page's settings changed). */
void server_catalog_dirty(struct server *s, int force);
/* inotify on the store said something moved (on every loop). */
void server_watch_cb(evutil_socket_t fd, short what, void *arg);
/* The request handler every listener is made with (ARG: the server). */
void server_request(struct http_conn *c, const struct http_head *h, void *arg);

/* ---- the loops (server_loop.c) ---- */

/* The loop of the calling thread. */
struct server_loop *server_loop_self(void);
/*
 * Make S's loops (loop 0 on S->base, made already): with one loop to
 * serve on, the main loop; with more, as many threads beside it. Their
 * bases, their HTTPS and HTTP servers (on the first WORKERS_S, and
 * WORKERS_H, of the serving loops) with limits LIM_S and LIM_H, bound
 * to the config's listeners. Logs its failure.
 */
int server_loops_setup(struct server *s, unsigned workers_s, unsigned workers_h,
    const struct http_server_limits *lim_s, const struct http_server_limits *lim_h);
/* Start the worker threads (after the privilege drop). */
int server_loops_start(struct server *s);
/* SIGTERM: every loop stops accepting, finishes what is in flight and
 * ends (at the latest after GRACE seconds). */
void server_loops_drain(struct server *s, int grace);
/* New TLS connections on every loop use CTX from now on (the caller
 * keeps its reference). */
void server_loops_set_tls(struct server *s, SSL_CTX *ctx);
/* After the main loop ended: wait for the workers to end. */
void server_loops_join(struct server *s);
void server_loops_free(struct server *s);
/* Client connections open now, on every loop. */
unsigned server_connections(const struct server *s);
/* Downloads being sent now, on every loop. */
unsigned server_streams(const struct server *s);
/*
 * Run FN(ARG) on the main loop: at once on the main thread, else there,
 * waiting for it. -1 (FN not run) when the main loop has stopped. The
 * caller holds no lock the main loop may wait for (LOCK, load_mu).
 */
int server_loop_call_main(struct server *s, void (*fn)(void *), void *arg);
/* Run FN(ARG) on the main loop: at once on the main thread, else soon,
 * not waited for (dropped if the main loop has stopped). */
void server_loop_post_main(struct server *s, void (*fn)(void *), void *arg);

#endif

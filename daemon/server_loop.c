/*
 * `emberd run`'s event loops (server_state.h): [https]/[http] workers
 * as threads, each with its own libevent base, listeners on the same
 * ports (SO_REUSEPORT) and connections; the mailbox through which the
 * main loop reaches them (drain, a new certificate) and they reach the
 * main loop (/metrics, ACME, refetches); starting, draining and joining
 * them.
 *
 * Threads rather than processes: the catalog, its rendered pages and the
 * metadata a reload replaces are read by every loop from one copy, a
 * reload or a new catalog is one swap under a lock rather than one per
 * process, the counters are summed in memory, and SIGHUP, SIGTERM, ACME
 * and the privilege drop stay one process's business. A libevent base is
 * used by one thread only (no evthread locking): what crosses threads
 * goes through the mailboxes below.
 */
#include "server.h"
#include "server_state.h"

#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "http_conn.h"
#include "log.h"
#include "server_cache.h"
#include "server_meta.h"

/* A message for a loop: FN(LOOP, ARG) runs on it; DROP(ARG) instead when
 * the loop has stopped. A caller that waits keeps it on its stack. */
struct server_msg {
	void (*fn)(struct server_loop *, void *);
	void (*drop)(void *);
	void *arg;
	int wait;		/* a caller waits: not freed here */
	int done;		/* 1 ran, -1 dropped (under the loop's mu) */
	struct server_msg *next;
};

static __thread struct server_loop *loop_self;

struct server_loop *
server_loop_self(void)
{
	return loop_self;
}

/* ---- the mailbox ---- */

static void
server_msg_finish(struct server_loop *l, struct server_msg *m, int done)
{
	if (m->wait) {
		pthread_mutex_lock(&l->mu);
		m->done = done;
		pthread_cond_broadcast(&l->cv);
		pthread_mutex_unlock(&l->mu);
	} else
		free(m);
}

static void
server_mail_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server_loop *l = arg;
	struct server_msg *m;
	uint64_t n;

	if (read(fd, &n, sizeof(n)) == -1 && errno != EAGAIN)
		log_warn("loop %u: mailbox: %s", l->id, strerror(errno));
	for (;;) {
		pthread_mutex_lock(&l->mu);
		if ((m = l->head) != NULL && (l->head = m->next) == NULL)
			l->tail = NULL;
		pthread_mutex_unlock(&l->mu);
		if (m == NULL)
			return;
		m->fn(l, m->arg);
		server_msg_finish(l, m, 1);
	}
}

/* Queue M for L; -1 when L has stopped (M not queued). */
static int
server_loop_post(struct server_loop *l, struct server_msg *m)
{
	uint64_t one = 1;

	m->next = NULL;
	pthread_mutex_lock(&l->mu);
	if (l->closed) {
		pthread_mutex_unlock(&l->mu);
		return -1;
	}
	if (l->tail != NULL)
		l->tail->next = m;
	else
		l->head = m;
	l->tail = m;
	pthread_mutex_unlock(&l->mu);
	/* Cannot fail but on a counter at its maximum, which a reader
	 * that wakes and reads it never lets happen. */
	if (write(l->mail_fd, &one, sizeof(one)) == -1)
		log_warn("loop %u: mailbox: %s", l->id, strerror(errno));
	return 0;
}

/* FN(LOOP, ARG) on L, not waited for; DROP(ARG) if L has stopped. */
static void
server_loop_send(struct server_loop *l, void (*fn)(struct server_loop *, void *),
    void (*drop)(void *), void *arg)
{
	struct server_msg *m = calloc(1, sizeof(*m));

	if (m != NULL) {
		m->fn = fn;
		m->drop = drop;
		m->arg = arg;
		if (server_loop_post(l, m) == 0)
			return;
		free(m);
	}
	if (drop != NULL)
		drop(arg);
}

/* L has stopped: nothing more runs on it; waiting callers are told. */
static void
server_loop_close(struct server_loop *l)
{
	struct server_msg *m, *next;

	pthread_mutex_lock(&l->mu);
	l->closed = 1;
	m = l->head;
	l->head = l->tail = NULL;
	pthread_mutex_unlock(&l->mu);
	for (; m != NULL; m = next) {
		next = m->next;
		if (m->drop != NULL)
			m->drop(m->arg);
		server_msg_finish(l, m, -1);
	}
}

struct server_call {
	void (*fn)(void *);
	void *arg;
};

static void
server_call_run(struct server_loop *l, void *arg)
{
	struct server_call *c = arg;

	c->fn(c->arg);
}

static void
server_call_run_free(struct server_loop *l, void *arg)
{
	server_call_run(l, arg);
	free(arg);
}

int
server_loop_call_main(struct server *s, void (*fn)(void *), void *arg)
{
	struct server_loop *main_loop = &s->loops[0];
	struct server_call call = { fn, arg };
	struct server_msg m;
	int done;

	if (loop_self == main_loop) {
		fn(arg);
		return 0;
	}
	memset(&m, 0, sizeof(m));
	m.fn = server_call_run;
	m.arg = &call;
	m.wait = 1;
	if (server_loop_post(main_loop, &m) == -1)
		return -1;
	pthread_mutex_lock(&main_loop->mu);
	while (m.done == 0)
		pthread_cond_wait(&main_loop->cv, &main_loop->mu);
	done = m.done;
	pthread_mutex_unlock(&main_loop->mu);
	return done == 1 ? 0 : -1;
}

void
server_loop_post_main(struct server *s, void (*fn)(void *), void *arg)
{
	struct server_call *call;

	if (loop_self == &s->loops[0]) {
		fn(arg);
		return;
	}
	if ((call = malloc(sizeof(*call))) == NULL)
		return;
	call->fn = fn;
	call->arg = arg;
	server_loop_send(&s->loops[0], server_call_run_free, free, call);
}

/* ---- set-up ---- */

static void
server_loop_grace_over(evutil_socket_t fd, short what, void *arg)
{
	struct server_loop *l = arg;
	unsigned n = __atomic_load_n(&l->streams, __ATOMIC_RELAXED);

	if (n > 0)
		log_warn("stopping with %u downloads unfinished", n);
	event_base_loopexit(l->base, NULL);
}

static unsigned
server_loop_connections(const struct server_loop *l)
{
	return (l->https ? http_server_connections(l->https) : 0) +
	    (l->http ? http_server_connections(l->http) : 0);
}

/* A connection closed while stopping: the loop ends with the last one. */
static void
server_loop_on_idle(void *arg)
{
	struct server_loop *l = arg;

	if (l->stopping && server_loop_connections(l) == 0)
		event_base_loopexit(l->base, NULL);
}

/*
 * Before the workers' listeners join the port with SO_REUSEPORT, see
 * that nothing else holds it: another daemon of the same user listening
 * with SO_REUSEPORT would otherwise share it without a word. A plain
 * bind (SO_REUSEADDR, like the listeners: a TIME_WAIT left by the last
 * run is no conflict) fails on any listener there. -1 with errno.
 */
static int
server_port_free(const char *host, unsigned port)
{
	struct addrinfo hints, *ai = NULL;
	char portstr[16];
	int fd, one = 1, rc = -1, e;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_ADDRCONFIG;
	snprintf(portstr, sizeof(portstr), "%u", port);
	if (getaddrinfo(host, portstr, &hints, &ai) != 0) {
		errno = EADDRNOTAVAIL;
		return -1;
	}
	if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) != -1) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		rc = bind(fd, ai->ai_addr, ai->ai_addrlen);
		e = errno;
		close(fd);
		errno = e;
	}
	freeaddrinfo(ai);
	return rc;
}

/* Every address of LS free, before any is bound (a [::] after a 0.0.0.0
 * of ours on the same port would not look free). */
static int
server_ports_free(struct server *s, const struct config_listen *ls, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (server_port_free(ls[i].host, ls[i].port) == -1) {
			log_error("%s: cannot listen on %s: %s", s->config_path, ls[i].text,
			    strerror(errno));
			return -1;
		}
	return 0;
}

static int
server_loop_listen(struct server *s, struct server_loop *l, struct http_server *h,
    const struct config_listen *ls, size_t n, const char *scheme)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (http_server_listen(h, ls[i].host, (int)ls[i].port) == -1) {
			log_error("%s: cannot listen on %s: %s", s->config_path, ls[i].text,
			    strerror(errno));
			return -1;
		}
		if (l->id <= 1)
			log_info("listening on %s://%s/", scheme, ls[i].text);
	}
	return 0;
}

static int
server_loop_init(struct server *s, struct server_loop *l, unsigned id)
{
	struct event_config *ecfg;

	l->s = s;
	l->id = id;
	l->mail_fd = -1;
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->cv, NULL);
	if (id == 0)
		l->base = s->base;
	else {
		/* As the main loop's: the changelist folds a response's write
		 * event add and remove into nothing. */
		if ((ecfg = event_config_new()) != NULL)
			event_config_set_flag(ecfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
		l->base = ecfg != NULL ? event_base_new_with_config(ecfg) : NULL;
		event_config_free(ecfg);
		if (l->base == NULL)
			return -1;
	}
	if ((l->mail_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1 ||
	    (l->ev_mail = event_new(l->base, l->mail_fd, EV_READ | EV_PERSIST,
	    server_mail_cb, l)) == NULL || event_add(l->ev_mail, NULL) == -1)
		return -1;
	if ((l->meta = server_meta_new()) == NULL || (l->cache = server_cache_new()) == NULL)
		return -1;
	return 0;
}

int
server_loops_setup(struct server *s, unsigned workers_s, unsigned workers_h,
    const struct http_server_limits *lim_s, const struct http_server_limits *lim_h)
{
	struct server_loop *l;
	unsigned i, j, n, first;

	if ((lim_s->reuseport && server_ports_free(s, s->cfg.https_listen,
	    s->cfg.n_https_listen) == -1) ||
	    (lim_h->reuseport && server_ports_free(s, s->cfg.http_listen,
	    s->cfg.n_http_listen) == -1))
		return -1;
	/*
	 * One loop: the main one serves, as it always did. More: as many
	 * threads, and the main loop serves none, so a request never waits
	 * behind the crawler's work there (a streamed body's hashing and
	 * deflate, a pass's bookkeeping).
	 */
	s->n_serving = workers_s > workers_h ? workers_s : workers_h;
	n = s->n_serving > 1 ? s->n_serving + 1 : 1;
	first = n > 1 ? 1 : 0;
	if ((s->loops = calloc(n, sizeof(*s->loops))) == NULL) {
		log_error("out of memory");
		return -1;
	}
	s->n_loops = n;
	for (i = 0; i < n; i++) {
		l = &s->loops[i];
		if (server_loop_init(s, l, i) == -1) {
			log_error("cannot create event loop %u: %s", i, strerror(errno));
			return -1;
		}
		if (i < first)
			continue;
		j = i - first;	/* the scheme's loops are the first ones */
		if (j < workers_s && s->ssl != NULL) {
			SSL_CTX_up_ref(s->ssl);
			l->ssl = s->ssl;
			if ((l->https = http_server_new(l->base, l->ssl, lim_s, server_request,
			    s)) == NULL) {
				log_error("out of memory");
				return -1;
			}
			http_server_on_idle(l->https, server_loop_on_idle, l);
		}
		if (j < workers_h && s->cfg.n_http_listen > 0) {
			if ((l->http = http_server_new(l->base, NULL, lim_h, server_request,
			    s)) == NULL) {
				log_error("out of memory");
				return -1;
			}
			http_server_on_idle(l->http, server_loop_on_idle, l);
		}
		if ((l->https && server_loop_listen(s, l, l->https, s->cfg.https_listen,
		    s->cfg.n_https_listen, "https") == -1) ||
		    (l->http && server_loop_listen(s, l, l->http, s->cfg.http_listen,
		    s->cfg.n_http_listen, "http") == -1))
			return -1;
	}
	loop_self = &s->loops[0];
	return 0;
}

/* ---- the worker threads ---- */

static void *
server_loop_main(void *arg)
{
	struct server_loop *l = arg;

	loop_self = l;
	/* Log lines are flushed once per turn, as on the main loop. */
	while (event_base_loop(l->base, EVLOOP_ONCE) == 0 && !event_base_got_exit(l->base))
		fflush(stderr);
	fflush(stderr);
	server_loop_close(l);
	return NULL;
}

int
server_loops_start(struct server *s)
{
	sigset_t all, old;
	unsigned i;
	int e;

	if (s->n_loops > 1)
		log_info("serving on %u event loops (threads), beside the main loop",
		    s->n_serving);
	/* Signals are the main loop's: the workers block them. */
	sigemptyset(&all);
	sigaddset(&all, SIGTERM);
	sigaddset(&all, SIGINT);
	sigaddset(&all, SIGHUP);
	sigaddset(&all, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (i = 1; i < s->n_loops; i++) {
		if ((e = pthread_create(&s->loops[i].thread, NULL, server_loop_main,
		    &s->loops[i])) != 0) {
			pthread_sigmask(SIG_SETMASK, &old, NULL);
			log_error("cannot start event loop %u: %s", i, strerror(e));
			return -1;
		}
		s->loops[i].started = 1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return 0;
}

/* On loop L: stop accepting, finish what is in flight, end. */
static void
server_loop_drain(struct server_loop *l, void *arg)
{
	struct timeval grace = { (time_t)(intptr_t)arg, 0 };

	if (l->stopping)
		return;
	l->stopping = 1;
	if (l->https)
		http_server_drain(l->https);
	if (l->http)
		http_server_drain(l->http);
	if (server_loop_connections(l) == 0) {
		event_base_loopexit(l->base, NULL);
		return;
	}
	/* Idle connections closed now; busy ones after their answer. The
	 * loop ends with the last one (server_loop_on_idle) or when the
	 * grace period is over. */
	if ((l->ev_grace = evtimer_new(l->base, server_loop_grace_over, l)) != NULL)
		evtimer_add(l->ev_grace, &grace);
}

void
server_loops_drain(struct server *s, int grace)
{
	unsigned i;

	for (i = s->n_loops; i-- > 0; ) {
		if (i == 0)
			server_loop_drain(&s->loops[0], (void *)(intptr_t)grace);
		else
			server_loop_send(&s->loops[i], server_loop_drain, NULL,
			    (void *)(intptr_t)grace);
	}
}

static void
server_loop_take_tls(struct server_loop *l, void *arg)
{
	SSL_CTX *old = l->ssl;

	l->ssl = arg;
	http_server_set_tls(l->https, l->ssl);
	SSL_CTX_free(old);
}

static void
server_ctx_free(void *arg)
{
	SSL_CTX_free(arg);
}

void
server_loops_set_tls(struct server *s, SSL_CTX *ctx)
{
	unsigned i;

	for (i = 0; i < s->n_loops; i++) {
		if (s->loops[i].https == NULL)
			continue;
		SSL_CTX_up_ref(ctx);
		if (i == 0)
			server_loop_take_tls(&s->loops[0], ctx);
		else
			server_loop_send(&s->loops[i], server_loop_take_tls, server_ctx_free, ctx);
	}
}

void
server_loops_join(struct server *s)
{
	unsigned i;

	if (s->loops == NULL)
		return;
	/* A worker waiting for the main loop gets its answer: none. */
	server_loop_close(&s->loops[0]);
	for (i = 1; i < s->n_loops; i++) {
		if (!s->loops[i].started)
			continue;
		/* Those still serving end as on SIGTERM (an error on the
		 * main loop ended it). */
		server_loop_send(&s->loops[i], server_loop_drain, NULL,
		    (void *)(intptr_t)0);
		pthread_join(s->loops[i].thread, NULL);
		s->loops[i].started = 0;
	}
}

void
server_loops_free(struct server *s)
{
	struct server_loop *l;
	unsigned i;

	if (s->loops == NULL)
		return;
	server_loops_join(s);
	for (i = s->n_loops; i-- > 0; ) {
		l = &s->loops[i];
		if (l->s == NULL)
			continue;	/* the set-up did not get to it */
		server_loop_close(l);
		l->stopping = 1;
		http_server_free(l->https);
		http_server_free(l->http);
		if (l->ev_grace)
			event_free(l->ev_grace);
		if (l->ev_watch)
			event_free(l->ev_watch);
		if (l->ev_mail)
			event_free(l->ev_mail);
		if (l->mail_fd != -1)
			close(l->mail_fd);
		SSL_CTX_free(l->ssl);
		server_meta_free(l->meta);
		server_cache_free(l->cache);
		if (i > 0 && l->base != NULL)
			event_base_free(l->base);
		pthread_cond_destroy(&l->cv);
		pthread_mutex_destroy(&l->mu);
	}
	free(s->loops);
	s->loops = NULL;
	s->n_loops = 0;
}

unsigned
server_connections(const struct server *s)
{
	unsigned i, n = 0;

	for (i = 0; i < s->n_loops; i++)
		n += server_loop_connections(&s->loops[i]);
	return n;
}

unsigned
server_streams(const struct server *s)
{
	unsigned i, n = 0;

	for (i = 0; i < s->n_loops; i++)
		n += __atomic_load_n(&s->loops[i].streams, __ATOMIC_RELAXED);
	return n;
}

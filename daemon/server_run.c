/*
 * `emberd run`'s life (server.h): set-up as a short list of named steps,
 * the listeners, the signals (SIGTERM and SIGINT drain and stop, SIGHUP
 * reloads), the passes' and scrub's reports, and the teardown. The
 * requests themselves are server.c's.
 */
#include "server.h"
#include "server_state.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>
#include <openssl/ssl.h>

#include "acme.h"
#include "catalog.h"
#include "config.h"
#include "http_conn.h"
#include "keys.h"
#include "log.h"
#include "metrics.h"
#include "privileges.h"
#include "schedule.h"
#include "scrub.h"
#include "server_catalog.h"
#include "server_meta.h"
#include "store.h"
#include "tls.h"
#include "workq.h"

/*
 * Limits, and why:
 * - HEADERS_MAX: request line and headers together; no body is accepted.
 * - IO_TIMEOUT: an idle keep-alive connection, or a client that stops
 *   reading, is closed after this.
 * - SHUTDOWN_GRACE: SIGTERM waits this long for in-flight downloads.
 * - HEADER_TIMEOUT: a client has this long to send a whole request after
 *   connecting or after its previous response ended; a slowloris that
 *   dribbles headers a byte at a time is cut off here, and so is an idle
 *   keep-alive connection.
 * - [mirror] max_connections: at the cap, accepting pauses until one
 *   closes (new ones wait in the kernel's backlog), so a flood cannot
 *   exhaust descriptors. Lowered to fit RLIMIT_NOFILE, FD_RESERVE kept
 *   for the store, the logs and the crawler.
 */
#define HEADERS_MAX	8192
#define IO_TIMEOUT	30
#define SHUTDOWN_GRACE	10
#define HEADER_TIMEOUT	10
#define FD_RESERVE	64

static void server_tls_reload(struct server *, const char *);

/* ---- listening ---- */

static int
server_listen(struct server *s, struct http_server *h, const struct config_listen *l,
    size_t n, const char *scheme)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (http_server_listen(h, l[i].host, (int)l[i].port) == -1) {
			log_error("%s: cannot listen on %s: %s", s->config_path, l[i].text,
			    strerror(errno));
			return -1;
		}
		log_info("listening on %s://%s/", scheme, l[i].text);
	}
	return 0;
}

/* ---- passes and scrub ---- */

static void
server_pass_done(void *arg, const struct schedule_totals *t)
{
	struct server *s = arg;

	s->m.crawl_fetched += t->fetched;
	s->m.crawl_unchanged += t->unchanged;
	s->m.crawl_failed += t->failed;
	/* A new catalog is served at once (inotify); without inotify, the
	 * next request re-reads the link anyway. */
	s->cat_dirty = 1;
}

/* The scrub set objects aside: fetch them again. */
static void
server_scrub_bad(void *arg)
{
	struct server *s = arg;

	schedule_refetch(s->sched);
}

/* ---- signals ---- */

static void
server_grace_over(evutil_socket_t fd, short what, void *arg)
{
	struct server *s = arg;

	if (s->streams > 0)
		log_warn("stopping with %u downloads unfinished", s->streams);
	event_base_loopexit(s->base, NULL);
}

/* A connection closed while stopping: exit with the last one. */
static void
server_on_idle(void *arg)
{
	struct server *s = arg;

	if (s->stopping && server_connections(s) == 0)
		event_base_loopexit(s->base, NULL);
}

static void
server_on_term(evutil_socket_t sig, short what, void *arg)
{
	struct server *s = arg;

	if (s->stopping)
		return;
	s->stopping = 1;
	log_info("signal %d: no new connections; finishing %u downloads", (int)sig,
	    s->streams);
	if (schedule_busy(s->sched))
		log_info("stopping the crawl; what was received is kept for a resume");
	schedule_free(s->sched);
	s->sched = NULL;
	/* Idle connections close now; busy ones after their answer. The
	 * loop exits when the last one has closed (server_on_idle) or the
	 * grace period is over, whichever comes first. */
	if (s->https)
		http_server_drain(s->https);
	if (s->http)
		http_server_drain(s->http);
	if (server_connections(s) == 0) {
		event_base_loopexit(s->base, NULL);
		return;
	}
	s->ev_grace = evtimer_new(s->base, server_grace_over, s);
	{
		struct timeval grace = { SHUTDOWN_GRACE, 0 };
		evtimer_add(s->ev_grace, &grace);
	}
}

static void
server_on_hup(evutil_socket_t sig, short what, void *arg)
{
	struct server *s = arg;
	struct config fresh;
	char err[1024];

	if (config_load(s->config_path, &fresh, err, sizeof(err)) == -1) {
		log_error("SIGHUP: new config refused, keeping the old one: %s", err);
		config_free(&fresh);
		return;
	}
	/* Listeners and keys stay as they were: changing them needs a
	 * restart, which the log says if they differ. */
	if (strcmp(fresh.store, s->cfg.store) != 0)
		log_warn("SIGHUP: [mirror] store changed; restart to use it");
	config_free(&s->cfg);
	s->cfg = fresh;
	s->cat.target[0] = '\0';	/* re-read the catalog and index */
	s->cat_dirty = 1;
	server_current(s);
	log_info("SIGHUP: config %s reloaded", s->config_path);
	server_tls_reload(s, "SIGHUP");
	schedule_reload(s->sched);
}

/* ---- run: set-up steps, in order; each logs its own failure ---- */

static int
server_setup_config(struct server *s, const char *config_path)
{
	char err[1024];

	if ((s->config_path = strdup(config_path)) == NULL) {
		log_error("out of memory");
		return -1;
	}
	if (config_load(config_path, &s->cfg, err, sizeof(err)) == -1) {
		log_error("%s", err);
		return -1;
	}
	if (s->cfg.n_https_listen == 0 && s->cfg.n_http_listen == 0) {
		log_error("%s: nothing to serve on: add [https] listen or [http] listen",
		    config_path);
		return -1;
	}
	return 0;
}

/* The store, its keys and a self-signed certificate belong to the user
 * the mirror runs as: made and read as that user. */
static int
server_setup_store(struct server *s)
{
	char err[1024];

	if (priv_init(&s->cfg, err, sizeof(err)) == -1 ||
	    priv_enter(err, sizeof(err)) == -1) {
		log_error("%s", err);
		return -1;
	}
	if (store_open(&s->st, s->cfg.store, 1, err, sizeof(err)) == -1) {
		log_error("%s", err);
		return -1;
	}
	s->store_open = 1;
	if (store_run_lock(&s->st, err, sizeof(err)) == -1 ||
	    (!s->cfg.follow && keys_check_signer(&s->cfg, &s->st, err, sizeof(err)) == -1) ||
	    keys_public_text(&s->cfg, &s->pubkey_b64, &s->pubkey_file, err,
	    sizeof(err)) == -1) {
		log_error("%s", err);
		return -1;
	}
	return 0;
}

/*
 * The certificate's files: configured, ACME's in the store once it has
 * one that is valid now, or self-signed in the store. Paths malloc'd.
 */
static int
server_tls_paths(struct server *s, char **cert, char **key, int *selfsigned,
    char *err, size_t errlen)
{
	*cert = *key = NULL;
	*selfsigned = 0;
	snprintf(err, errlen, "out of memory");
	if (s->cfg.https_cert != NULL) {
		*cert = strdup(s->cfg.https_cert);
		*key = strdup(s->cfg.https_key);
		return *cert != NULL && *key != NULL ? 0 : -1;
	}
	if (s->cfg.acme && acme_stored_cert(s->cfg.store, cert, key) == 0)
		return 0;
	*selfsigned = 1;
	return tls_selfsigned_ensure(s->cfg.store, s->cfg.https_listen,
	    s->cfg.n_https_listen, cert, key, err, errlen);
}

/* Only a certificate no authority vouches for is pinned on the index
 * page: one from a CA works with plain commands. */
static void
server_tls_pin(struct server *s, int selfsigned)
{
	if (!selfsigned || tls_ctx_pin(s->ssl, s->pin, sizeof(s->pin)) == -1)
		s->pin[0] = '\0';
}

/* The certificate: configured, or from the store. Ends as root again: a
 * configured key may be readable by root only. */
static int
server_setup_tls(struct server *s)
{
	char err[1024], *cert = NULL, *key = NULL;
	int selfsigned = 0, rc = -1;

	if (s->cfg.n_https_listen > 0 && server_tls_paths(s, &cert, &key,
	    &selfsigned, err, sizeof(err)) == -1)
		goto fail;
	if (priv_leave(err, sizeof(err)) == -1)
		goto fail;
	if (s->cfg.n_https_listen > 0 &&
	    (s->ssl = tls_server_ctx(cert, key, err, sizeof(err))) == NULL)
		goto fail;
	if (s->ssl != NULL)
		server_tls_pin(s, selfsigned);
	rc = 0;
	goto out;
fail:
	log_error("%s", err);
out:
	free(cert);
	free(key);
	return rc;
}

/*
 * SIGHUP or a renewed ACME certificate: a new context for new
 * connections. Those in flight keep the old one (each SSL holds a
 * reference), so nothing is dropped; a certificate that does not load
 * leaves the old one serving.
 */
static void
server_tls_reload(struct server *s, const char *why)
{
	char err[1024], *cert = NULL, *key = NULL;
	SSL_CTX *ctx;
	int selfsigned;

	if (s->https == NULL)
		return;
	if (server_tls_paths(s, &cert, &key, &selfsigned, err, sizeof(err)) == -1 ||
	    (ctx = tls_server_ctx(cert, key, err, sizeof(err))) == NULL) {
		log_error("%s: certificate not reloaded, the old one keeps serving: %s",
		    why, err);
		goto out;
	}
	http_server_set_tls(s->https, ctx);
	SSL_CTX_free(s->ssl);
	s->ssl = ctx;
	server_tls_pin(s, selfsigned);
	/* The index page's commands pin the self-signed key, or stop
	 * pinning once a CA's certificate serves: render them again. */
	s->cat.target[0] = '\0';
	s->cat_dirty = 1;
	log_info("%s: serving certificate %s", why, cert);
out:
	free(cert);
	free(key);
}

/* The ACME client stored a new certificate. */
static void
server_acme_installed(void *arg)
{
	server_tls_reload(arg, "ACME");
}

/* Idle readers cost a descriptor each: take what we may, and hold the
 * connection cap below it. */
static void
server_setup_limits(struct server *s)
{
	struct rlimit rl;

	s->conn_max = s->cfg.max_connections;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		if (rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
			getrlimit(RLIMIT_NOFILE, &rl);
		}
		if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < s->conn_max + FD_RESERVE)
			s->conn_max = rl.rlim_cur > 2 * FD_RESERVE ?
			    (unsigned)(rl.rlim_cur - FD_RESERVE) : FD_RESERVE;
	}
}

/* The event loop, the HTTPS and HTTP servers on it, and their ports. */
static int
server_setup_loop(struct server *s)
{
	struct http_server_limits lim = {
		.headers_max = HEADERS_MAX,
		.header_timeout = HEADER_TIMEOUT,
		.io_timeout = IO_TIMEOUT,
	};
	struct event_config *ecfg;

	server_setup_limits(s);
	/* Each scheme its half: a flood of one cannot starve the other. */
	lim.conn_max = s->cfg.n_https_listen > 0 && s->cfg.n_http_listen > 0 ?
	    s->conn_max / 2 : s->conn_max;
	/* The epoll changelist folds the write event's add and remove around
	 * a response written at once into nothing. */
	if ((ecfg = event_config_new()) != NULL)
		event_config_set_flag(ecfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	s->base = ecfg != NULL ? event_base_new_with_config(ecfg) : NULL;
	event_config_free(ecfg);
	if (s->base == NULL) {
		log_error("cannot create the event loop");
		return -1;
	}
	if ((s->cfg.n_https_listen > 0 &&
	    (s->https = http_server_new(s->base, s->ssl, &lim, server_request, s)) == NULL) ||
	    (s->cfg.n_http_listen > 0 &&
	    (s->http = http_server_new(s->base, NULL, &lim, server_request, s)) == NULL)) {
		log_error("out of memory");
		return -1;
	}
	if (s->https)
		http_server_on_idle(s->https, server_on_idle, s);
	if (s->http)
		http_server_on_idle(s->http, server_on_idle, s);
	if ((s->https && server_listen(s, s->https, s->cfg.https_listen,
	    s->cfg.n_https_listen, "https") == -1) ||
	    (s->http && server_listen(s, s->http, s->cfg.http_listen,
	    s->cfg.n_http_listen, "http") == -1))
		return -1;
	return 0;
}

/* Ports bound, keys read: nothing more needs root. */
static int
server_setup_drop(struct server *s)
{
	char err[1024];

	if (priv_drop(err, sizeof(err)) == -1) {
		log_error("%s", err);
		return -1;
	}
	if (s->cfg.user != NULL && getuid() != 0)
		log_info("running as user %s (uid %lu)", s->cfg.user, (unsigned long)getuid());
	return 0;
}

/* Signals as events on the loop; and inotify on the store, so that a
 * new catalog is served at once (without it, every request re-reads the
 * `current` link). */
static int
server_setup_events(struct server *s)
{
	s->ev_term = evsignal_new(s->base, SIGTERM, server_on_term, s);
	s->ev_int = evsignal_new(s->base, SIGINT, server_on_term, s);
	s->ev_hup = evsignal_new(s->base, SIGHUP, server_on_hup, s);
	if (s->ev_term == NULL || s->ev_int == NULL || s->ev_hup == NULL ||
	    event_add(s->ev_term, NULL) || event_add(s->ev_int, NULL) ||
	    event_add(s->ev_hup, NULL)) {
		log_error("cannot install signal handlers");
		return -1;
	}
	s->watch_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (s->watch_fd != -1 &&
	    (inotify_add_watch(s->watch_fd, s->st.root, IN_MOVED_TO | IN_CREATE | IN_DELETE) == -1 ||
	    (s->ev_watch = event_new(s->base, s->watch_fd, EV_READ | EV_PERSIST,
	    server_watch_cb, s)) == NULL || event_add(s->ev_watch, NULL) == -1)) {
		close(s->watch_fd);
		s->watch_fd = -1;
	}
	s->cat_dirty = 1;
	server_current(s);
	return 0;
}

/* Crawl or sync passes on schedule, and the background scrub. */
static int
server_setup_passes(struct server *s)
{
	enum schedule_mode mode = schedule_mode(&s->cfg, s->config_path);
	char err[512];

	/* After the drop: the workers run as the user, like the loop. */
	if (workq_start(s->base, 0, err, sizeof(err)) == -1) {
		log_error("cannot start the work queue: %s", err);
		return -1;
	}
	if ((s->sched = schedule_new(s->base, &s->st, &s->cfg, err, sizeof(err))) == NULL) {
		log_error("cannot set up the crawler: %s", err);
		return -1;
	}
	if (s->cfg.acme && (s->acme = acme_start(s->base, &s->cfg,
	    server_acme_installed, s)) == NULL)
		return -1;
	s->scrub = scrub_start(s->base, &s->st, s->cfg.scrub_interval, server_scrub_bad, s);
	schedule_start(s->sched, server_pass_done, s);
	if (s->cat.cat == NULL && mode == SCHEDULE_FOLLOW)
		log_info("no catalog yet: the first sync from the peers brings it");
	else if (s->cat.cat == NULL)
		log_info("no catalog yet: add files with `emberd add -c %s PATH`",
		    s->config_path);
	return 0;
}

/* The loop, until a signal ends it. */
static int
server_serve(struct server *s)
{
	/*
	 * Responses allocate and free buffers of tens of KiB all the time;
	 * with glibc's defaults each free at the top of the heap gives the
	 * memory back (brk) and the next response faults it in again. Keep
	 * it: memory then stays at its peak, which the streaming limits
	 * bound anyway.
	 */
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	mallopt(M_MMAP_THRESHOLD, 1 << 20);

	/* Log lines are buffered and written once per loop turn: one write
	 * for many requests, and never a line left behind. */
	setvbuf(stderr, NULL, _IOFBF, 1 << 16);
	s->meta = server_meta_new();
	while (event_base_loop(s->base, EVLOOP_ONCE) == 0 && !event_base_got_exit(s->base))
		fflush(stderr);
	fflush(stderr);
	setvbuf(stderr, NULL, _IONBF, 0);
	log_info("stopped");
	return 0;
}

/* Free whatever the set-up got to, in any state. */
static void
server_free(struct server *s)
{
	char err[256];

	scrub_stop(s->scrub);
	acme_free(s->acme);
	schedule_free(s->sched);
	/* Each owner took back its own jobs; what is left (unlinks) ends here. */
	workq_stop();
	if (s->ev_grace)
		event_free(s->ev_grace);
	if (s->ev_watch)
		event_free(s->ev_watch);
	if (s->watch_fd != -1)
		close(s->watch_fd);
	if (s->ev_term)
		event_free(s->ev_term);
	if (s->ev_int)
		event_free(s->ev_int);
	if (s->ev_hup)
		event_free(s->ev_hup);
	s->stopping = 1;
	http_server_free(s->https);
	http_server_free(s->http);
	if (s->base)
		event_base_free(s->base);
	if (s->store_open)
		store_close(&s->st);
	/* Failed while acting as the user: end as what we started as (a
	 * no-op after the drop). */
	priv_leave(err, sizeof(err));
	server_catalog_free(&s->cat);
	server_meta_free(s->meta);
	SSL_CTX_free(s->ssl);
	free(s->pubkey_b64);
	free(s->pubkey_file);
	config_free(&s->cfg);
	free(s->config_path);
}

int
server_run(const char *config_path)
{
	struct server s;
	int rc = 2;

	memset(&s, 0, sizeof(s));
	s.watch_fd = -1;
	log_use_times();
	if (server_setup_config(&s, config_path) == 0 &&
	    server_setup_store(&s) == 0 &&
	    server_setup_tls(&s) == 0 &&
	    server_setup_loop(&s) == 0 &&
	    server_setup_drop(&s) == 0 &&
	    server_setup_events(&s) == 0 &&
	    server_setup_passes(&s) == 0)
		rc = server_serve(&s);
	server_free(&s);
	return rc;
}

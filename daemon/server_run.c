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
#include <pthread.h>
#include <sched.h>
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
 *   for the store, the logs and the crawler. With workers, each scheme's
 *   half is split evenly between its loops.
 */
#define HEADERS_MAX	8192
#define IO_TIMEOUT	30
#define SHUTDOWN_GRACE	10
#define HEADER_TIMEOUT	10
#define FD_RESERVE	64

static void server_tls_reload(struct server *, const char *);

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
	server_catalog_dirty(s, 0);
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
server_on_term(evutil_socket_t sig, short what, void *arg)
{
	struct server *s = arg;

	if (s->stopping)
		return;
	s->stopping = 1;
	log_info("signal %d: no new connections; finishing %u downloads", (int)sig,
	    server_streams(s));
	if (schedule_busy(s->sched))
		log_info("stopping the crawl; what was received is kept for a resume");
	schedule_free(s->sched);
	s->sched = NULL;
	/* Idle connections close now; busy ones after their answer. Each
	 * loop ends when its last one has closed or the grace period is
	 * over, whichever comes first; the main loop then waits for the
	 * others. */
	server_loops_drain(s, SHUTDOWN_GRACE);
}

static void
server_on_hup(evutil_socket_t sig, short what, void *arg)
{
	struct server *s = arg;
	struct config fresh, old;
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
	/* Requests on other loops read it: swapped under the lock, freed
	 * once none holds it. */
	pthread_rwlock_wrlock(&s->lock);
	old = s->cfg;
	s->cfg = fresh;
	pthread_rwlock_unlock(&s->lock);
	config_free(&old);
	server_catalog_dirty(s, 1);	/* re-read the catalog and index */
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
	char pin[sizeof(s->pin)];

	if (!selfsigned || tls_ctx_pin(s->ssl, pin, sizeof(pin)) == -1)
		pin[0] = '\0';
	pthread_rwlock_wrlock(&s->lock);
	memcpy(s->pin, pin, sizeof(pin));
	pthread_rwlock_unlock(&s->lock);
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

	if (s->ssl == NULL)
		return;
	if (server_tls_paths(s, &cert, &key, &selfsigned, err, sizeof(err)) == -1 ||
	    (ctx = tls_server_ctx(cert, key, err, sizeof(err))) == NULL) {
		log_error("%s: certificate not reloaded, the old one keeps serving: %s",
		    why, err);
		goto out;
	}
	server_loops_set_tls(s, ctx);
	SSL_CTX_free(s->ssl);
	s->ssl = ctx;
	server_tls_pin(s, selfsigned);
	/* The index page's commands pin the self-signed key, or stop
	 * pinning once a CA's certificate serves: render them again. */
	server_catalog_dirty(s, 1);
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

/* [https]/[http] workers = auto: the CPUs this process may run on. */
static unsigned
server_cpus(void)
{
	cpu_set_t set;
	long n;

	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return (unsigned)CPU_COUNT(&set);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

/* The loops a scheme with N_LISTEN listeners is served on. */
static unsigned
server_workers(unsigned configured, size_t n_listen)
{
	unsigned n = configured == 0 ? server_cpus() : configured;

	if (n_listen == 0)
		return 0;
	return n < CONFIG_WORKERS_MAX ? n : CONFIG_WORKERS_MAX;
}

/* The event loops, the HTTPS and HTTP servers on them, and their ports. */
static int
server_setup_loop(struct server *s)
{
	struct http_server_limits lim = {
		.headers_max = HEADERS_MAX,
		.header_timeout = HEADER_TIMEOUT,
		.io_timeout = IO_TIMEOUT,
	}, lim_s, lim_h;
	unsigned ws = server_workers(s->cfg.https_workers, s->cfg.n_https_listen);
	unsigned wh = server_workers(s->cfg.http_workers, s->cfg.n_http_listen);
	unsigned share;
	struct event_config *ecfg;

	server_setup_limits(s);
	/* Each scheme its half: a flood of one cannot starve the other;
	 * and each loop its part of that. */
	share = ws > 0 && wh > 0 ? s->conn_max / 2 : s->conn_max;
	lim_s = lim_h = lim;
	lim_s.conn_max = ws > 0 && share / ws > 0 ? share / ws : 1;
	lim_h.conn_max = wh > 0 && share / wh > 0 ? share / wh : 1;
	lim_s.reuseport = ws > 1;
	lim_h.reuseport = wh > 1;
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
	return server_loops_setup(s, ws, wh, &lim_s, &lim_h);
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
	unsigned i, k;

	s->ev_term = evsignal_new(s->base, SIGTERM, server_on_term, s);
	s->ev_int = evsignal_new(s->base, SIGINT, server_on_term, s);
	s->ev_hup = evsignal_new(s->base, SIGHUP, server_on_hup, s);
	if (s->ev_term == NULL || s->ev_int == NULL || s->ev_hup == NULL ||
	    event_add(s->ev_term, NULL) || event_add(s->ev_int, NULL) ||
	    event_add(s->ev_hup, NULL)) {
		log_error("cannot install signal handlers");
		return -1;
	}
	/* Every loop watches it: each knows of a move before its next
	 * request, whichever reads the event. */
	s->watch_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (s->watch_fd != -1 &&
	    inotify_add_watch(s->watch_fd, s->st.root, IN_MOVED_TO | IN_CREATE | IN_DELETE) == -1) {
		close(s->watch_fd);
		s->watch_fd = -1;
	}
	for (i = 0; s->watch_fd != -1 && i < s->n_loops; i++) {
		struct server_loop *l = &s->loops[i];
		if ((l->ev_watch = event_new(l->base, s->watch_fd, EV_READ | EV_PERSIST,
		    server_watch_cb, s)) != NULL && event_add(l->ev_watch, NULL) == 0)
			continue;
		/* On every loop or none: a readlink per request instead. */
		for (k = 0; k <= i; k++) {
			if (s->loops[k].ev_watch != NULL)
				event_free(s->loops[k].ev_watch);
			s->loops[k].ev_watch = NULL;
		}
		close(s->watch_fd);
		s->watch_fd = -1;
	}
	server_catalog_dirty(s, 0);
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
	if (server_loops_start(s) == 0)
		while (event_base_loop(s->base, EVLOOP_ONCE) == 0 &&
		    !event_base_got_exit(s->base))
			fflush(stderr);
	/* The workers end with their last connection (SIGTERM) or now (an
	 * error here): their log lines go out before the buffer goes. */
	server_loops_join(s);
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
	s->stopping = 1;
	server_loops_free(s);
	if (s->watch_fd != -1)
		close(s->watch_fd);
	if (s->ev_term)
		event_free(s->ev_term);
	if (s->ev_int)
		event_free(s->ev_int);
	if (s->ev_hup)
		event_free(s->ev_hup);
	if (s->base)
		event_base_free(s->base);
	if (s->store_open)
		store_close(&s->st);
	/* Failed while acting as the user: end as what we started as (a
	 * no-op after the drop). */
	priv_leave(err, sizeof(err));
	server_catalog_free(&s->cat);
	SSL_CTX_free(s->ssl);
	free(s->pubkey_b64);
	free(s->pubkey_file);
	config_free(&s->cfg);
	free(s->config_path);
	if (s->locks_made) {
		pthread_mutex_destroy(&s->pages_mu);
		pthread_mutex_destroy(&s->load_mu);
		pthread_rwlock_destroy(&s->lock);
	}
}

/*
 * The lock requests hold for reading prefers writers: a new catalog or
 * config is swapped in between two requests, not after a busy loop's
 * next thousand.
 */
static int
server_setup_locks(struct server *s)
{
	pthread_rwlockattr_t ra;

	if (pthread_rwlockattr_init(&ra) != 0) {
		log_error("out of memory");
		return -1;
	}
	pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	if (pthread_rwlock_init(&s->lock, &ra) != 0) {
		pthread_rwlockattr_destroy(&ra);
		log_error("out of memory");
		return -1;
	}
	pthread_rwlockattr_destroy(&ra);
	pthread_mutex_init(&s->load_mu, NULL);
	pthread_mutex_init(&s->pages_mu, NULL);
	s->locks_made = 1;
	return 0;
}

int
server_run(const char *config_path)
{
	struct server s;
	int rc = 2;

	memset(&s, 0, sizeof(s));
	s.watch_fd = -1;
	if (server_setup_locks(&s) == -1)
		return 2;
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

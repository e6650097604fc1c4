/*
 * The background scrub (see scrub.h): its thread, its wake-ups, and the
 * eventfd that brings "objects were set aside" back to the loop.
 */
#include "scrub.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

struct scrub {
	struct store *st;
	uint64_t every;			/* seconds between rounds */
	pthread_t th;
	int started;
	int quit;			/* under mu */
	pthread_mutex_t mu;
	pthread_cond_t cv;		/* on CLOCK_MONOTONIC: a clock step
					 * neither skips nor repeats a round */
	int efd;			/* the thread tells the loop: bad ones */
	struct event *ev;
	scrub_bad_fn bad_fn;
	void *arg;
	uint64_t checked, bad;		/* atomics: read by the loop */
};

static int
scrub_one(const char *hex, void *arg)
{
	struct scrub *sc = arg;
	char err[256];
	int quit, r;

	pthread_mutex_lock(&sc->mu);
	quit = sc->quit;
	pthread_mutex_unlock(&sc->mu);
	if (quit)
		return -1;
	r = store_check_object(sc->st, hex, err, sizeof(err));
	__atomic_add_fetch(&sc->checked, 1, __ATOMIC_RELAXED);
	if (r == 1) {
		if (store_quarantine(sc->st, hex) == 0) {
			__atomic_add_fetch(&sc->bad, 1, __ATOMIC_RELAXED);
			log_error("scrub: object %s: %s; quarantined", hex, err);
		} else
			log_error("scrub: object %s: %s; cannot quarantine it: %s", hex, err,
			    strerror(errno));
	} else if (r == -1 && store_has_object(sc->st, hex))
		log_warn("scrub: object %s: %s", hex, err);
	return 0;
}

/* One round over every object; logs its totals. */
static void
scrub_round(struct scrub *sc)
{
	uint64_t one = 1, n0, bad0, bad;
	char err[256];

	err[0] = '\0';
	bad0 = __atomic_load_n(&sc->bad, __ATOMIC_RELAXED);
	n0 = __atomic_load_n(&sc->checked, __ATOMIC_RELAXED);
	if (store_foreach_object(sc->st, scrub_one, sc, err, sizeof(err)) == -1 &&
	    err[0] != '\0')
		log_warn("scrub: %s", err);
	bad = __atomic_load_n(&sc->bad, __ATOMIC_RELAXED) - bad0;
	log_info("scrub: %llu objects re-hashed, %llu bad",
	    (unsigned long long)(__atomic_load_n(&sc->checked, __ATOMIC_RELAXED) - n0),
	    (unsigned long long)bad);
	/* The loop has the bad ones fetched again. */
	if (bad > 0 && write(sc->efd, &one, sizeof(one)) == -1) {
		/* The counter cannot overflow; nothing to do. */
	}
}

static void *
scrub_main(void *arg)
{
	struct scrub *sc = arg;

	pthread_mutex_lock(&sc->mu);
	for (;;) {
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += (time_t)sc->every;
		while (!sc->quit &&
		    pthread_cond_timedwait(&sc->cv, &sc->mu, &until) != ETIMEDOUT)
			;
		if (sc->quit)
			break;
		pthread_mutex_unlock(&sc->mu);
		scrub_round(sc);
		pthread_mutex_lock(&sc->mu);
	}
	pthread_mutex_unlock(&sc->mu);
	return NULL;
}

static void
scrub_event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct scrub *sc = arg;
	uint64_t n;

	if (read(fd, &n, sizeof(n)) == -1) {
		/* EAGAIN: nothing new. */
	}
	sc->bad_fn(sc->arg);
}

struct scrub *
scrub_start(struct event_base *base, struct store *st, uint64_t every,
    scrub_bad_fn bad, void *arg)
{
	struct scrub *sc;
	pthread_condattr_t ca;

	if ((sc = calloc(1, sizeof(*sc))) == NULL) {
		log_warn("cannot start the background scrub: %s", strerror(errno));
		return NULL;
	}
	sc->st = st;
	sc->every = every > 0 ? every : 1;
	sc->bad_fn = bad;
	sc->arg = arg;
	pthread_mutex_init(&sc->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&sc->cv, &ca);
	pthread_condattr_destroy(&ca);
	sc->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (sc->efd == -1 ||
	    (sc->ev = event_new(base, sc->efd, EV_READ | EV_PERSIST, scrub_event_cb,
	    sc)) == NULL || event_add(sc->ev, NULL) == -1 ||
	    pthread_create(&sc->th, NULL, scrub_main, sc) != 0) {
		log_warn("cannot start the background scrub: %s", strerror(errno));
		scrub_stop(sc);
		return NULL;
	}
	sc->started = 1;
	return sc;
}

void
scrub_counts(const struct scrub *sc, uint64_t *checked, uint64_t *bad)
{
	*checked = sc != NULL ? __atomic_load_n(&sc->checked, __ATOMIC_RELAXED) : 0;
	*bad = sc != NULL ? __atomic_load_n(&sc->bad, __ATOMIC_RELAXED) : 0;
}

void
scrub_stop(struct scrub *sc)
{
	if (sc == NULL)
		return;
	if (sc->started) {
		pthread_mutex_lock(&sc->mu);
		sc->quit = 1;
		pthread_cond_broadcast(&sc->cv);
		pthread_mutex_unlock(&sc->mu);
		pthread_join(sc->th, NULL);
	}
	if (sc->ev != NULL)
		event_free(sc->ev);
	if (sc->efd != -1)
		close(sc->efd);
	pthread_cond_destroy(&sc->cv);
	pthread_mutex_destroy(&sc->mu);
	free(sc);
}

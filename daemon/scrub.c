/*
 * The background scrub (see scrub.h): the loop's timer, the round that
 * runs as a work queue job, and its done function that reports back on
 * the loop and arms the timer for the next round.
 *
 * Who touches what: the loop owns the timer and calls BAD; the job
 * (one at a time: the timer is armed again only by the done function,
 * and the scrub type is capped at one) writes round_* and err, which
 * the done function reads after the queue's mutex has ordered them;
 * checked and bad are atomics, read by /metrics during a round; quit
 * is an atomic the loop sets and the job reads between objects.
 */
#include "scrub.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "workq.h"

struct scrub {
	struct store *st;
	uint64_t every;			/* seconds between rounds */
	struct event *timer;		/* the next round; libevent's clock is
					 * monotonic: a clock step neither
					 * skips nor repeats a round */
	scrub_bad_fn bad_fn;
	void *arg;
	int quit;			/* atomic: scrub_stop was called */
	uint64_t checked, bad;		/* atomics: totals, read by /metrics */
	/* The running round's own, for its done function. */
	uint64_t round_checked, round_bad;
	int cut;			/* ended early by scrub_stop */
	int walk_failed;		/* objects/ could not be read: err */
	char err[256];
};

static int
scrub_one(const char *hex, void *arg)
{
	struct scrub *sc = arg;
	char err[256];
	int r;

	if (__atomic_load_n(&sc->quit, __ATOMIC_ACQUIRE)) {
		sc->cut = 1;
		return -1;
	}
	r = store_check_object(sc->st, hex, err, sizeof(err));
	__atomic_add_fetch(&sc->checked, 1, __ATOMIC_RELAXED);
	sc->round_checked++;
	if (r == 1) {
		if (store_quarantine(sc->st, hex) == 0) {
			__atomic_add_fetch(&sc->bad, 1, __ATOMIC_RELAXED);
			sc->round_bad++;
			log_error("scrub: object %s: %s; quarantined", hex, err);
		} else
			log_error("scrub: object %s: %s; cannot quarantine it: %s", hex, err,
			    strerror(errno));
	} else if (r == -1 && store_has_object(sc->st, hex))
		log_warn("scrub: object %s: %s", hex, err);
	return 0;
}

/* The job, on a worker thread: one round over every object, or up to
 * the object where scrub_stop caught it. */
static void
scrub_round(void *arg)
{
	struct scrub *sc = arg;

	sc->round_checked = 0;
	sc->round_bad = 0;
	sc->cut = 0;
	sc->err[0] = '\0';
	/* -1 with ERR empty: scrub_one stopped the walk (cut). */
	sc->walk_failed = store_foreach_object(sc->st, scrub_one, sc, sc->err,
	    sizeof(sc->err)) == -1 && sc->err[0] != '\0';
}

/* The round's done function, on the loop (or in scrub_stop's drain):
 * report, have the bad ones fetched again, and wait for the next. */
static void
scrub_round_done(void *arg)
{
	struct scrub *sc = arg;
	struct timeval tv = { .tv_sec = (time_t)sc->every };

	if (sc->walk_failed)
		log_warn("scrub: %s", sc->err);
	log_info("scrub: %llu objects re-hashed, %llu bad%s",
	    (unsigned long long)sc->round_checked, (unsigned long long)sc->round_bad,
	    sc->cut ? "; stopped early, shutting down" : "");
	/* Stopping (scrub_stop's drain runs this): nothing is fetched
	 * again and no round follows; the next start's crawl or sync
	 * brings back what this one set aside. */
	if (__atomic_load_n(&sc->quit, __ATOMIC_ACQUIRE))
		return;
	if (sc->round_bad > 0)
		sc->bad_fn(sc->arg);
	/* From the end of this round: a round longer than the interval
	 * delays the next rather than running into it. */
	if (evtimer_add(sc->timer, &tv) == -1)
		log_error("scrub: cannot arm the timer; no more rounds until restarted");
}

/* The interval is over: one round, on the work queue. */
static void
scrub_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct scrub *sc = arg;
	struct timeval tv = { .tv_sec = (time_t)sc->every };

	if (workq_submit(WORKQ_SCRUB, scrub_round, scrub_round_done, sc) == 0)
		return;
	/* Out of memory (the queue is started before us and stopped
	 * after): never on the loop, where a round would hold it for
	 * minutes; try again in an interval. */
	log_warn("scrub: cannot queue a round: %s; next try in %llu s", strerror(errno),
	    (unsigned long long)sc->every);
	if (evtimer_add(sc->timer, &tv) == -1)
		log_error("scrub: cannot arm the timer; no more rounds until restarted");
}

struct scrub *
scrub_start(struct event_base *base, struct store *st, uint64_t every,
    scrub_bad_fn bad, void *arg)
{
	struct scrub *sc;
	struct timeval tv;

	if ((sc = calloc(1, sizeof(*sc))) == NULL) {
		log_warn("cannot start the background scrub: %s", strerror(errno));
		return NULL;
	}
	sc->st = st;
	sc->every = every > 0 ? every : 1;
	sc->bad_fn = bad;
	sc->arg = arg;
	tv.tv_sec = (time_t)sc->every;
	tv.tv_usec = 0;
	if ((sc->timer = evtimer_new(base, scrub_timer_cb, sc)) == NULL ||
	    evtimer_add(sc->timer, &tv) == -1) {
		log_warn("cannot start the background scrub: cannot set its timer");
		scrub_stop(sc);
		return NULL;
	}
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
	/* No round starts from here; one running ends at its next object,
	 * and the drain runs its done function here, which sees quit and
	 * arms nothing. */
	if (sc->timer != NULL)
		evtimer_del(sc->timer);
	__atomic_store_n(&sc->quit, 1, __ATOMIC_RELEASE);
	workq_drain(WORKQ_SCRUB);
	if (sc->timer != NULL)
		event_free(sc->timer);
	free(sc);
}

/*
 * The schedule of crawl and sync passes (see schedule.h): the pass timer,
 * the crawl-or-follow choice, "fetch again soon" and reloads. The server
 * and `emberd crawl` reach the crawler and follower only through here.
 */
#include "schedule.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crawl.h"
#include "follow.h"
#include "log.h"

struct schedule {
	struct event_base *base;
	const struct config *cfg;	/* the caller's, reloaded in place */
	struct crawler *crawler;
	struct follower *follower;	/* syncs through the crawler */
	struct event *ev_pass;		/* the next pass (periodic only) */
	int periodic;
	int refetch_wanted;		/* an object was set aside during a pass */
	int stopping;
	schedule_done_fn done;
	void *arg;
};

enum schedule_mode
schedule_mode(const struct config *cfg, const char *name)
{
	if (cfg->follow) {
		if (name != NULL && cfg->n_sources > 0)
			log_warn("%s: [follow] is set: the [source] sections are not crawled (a "
			    "follower serves the publisher's catalog, not its own)", name);
		return SCHEDULE_FOLLOW;
	}
	return cfg->n_sources > 0 ? SCHEDULE_CRAWL : SCHEDULE_NONE;
}

static uint64_t
schedule_interval(const struct schedule *sc)
{
	return sc->cfg->follow ? sc->cfg->follow_interval : sc->cfg->crawl_interval;
}

static void
schedule_arm(struct schedule *sc, uint64_t seconds)
{
	struct timeval tv = { (time_t)seconds, 0 };

	if (!sc->stopping && sc->ev_pass != NULL) {
		evtimer_del(sc->ev_pass);
		evtimer_add(sc->ev_pass, &tv);
	}
}

static void
schedule_pass_done(void *arg, const struct crawl_totals *ct)
{
	struct schedule *sc = arg;
	struct schedule_totals t = { ct->fetched, ct->unchanged, ct->failed };
	uint64_t every = schedule_interval(sc);

	if (sc->periodic && !sc->stopping) {
		if (sc->cfg->follow)
			log_info("sync: pass done: %u objects fetched, %u failed; next in %llu s",
			    t.fetched, t.failed, (unsigned long long)every);
		else
			log_info("crawl: pass done: %u fetched, %u unchanged, %u failed; "
			    "next in %llu s", t.fetched, t.unchanged, t.failed,
			    (unsigned long long)every);
		/* Objects set aside meanwhile: fetch them now. */
		schedule_arm(sc, sc->refetch_wanted ? 0 : every);
		sc->refetch_wanted = 0;
	}
	if (sc->done != NULL)
		sc->done(sc->arg, &t);
}

/* Start a pass with the config as it is now. -1 with ERR if it cannot. */
static int
schedule_pass(struct schedule *sc, char *err, size_t errlen)
{
	struct crawl_options opt;
	struct publish_settings ps;

	switch (schedule_mode(sc->cfg, NULL)) {
	case SCHEDULE_FOLLOW:
		return follower_pass(sc->follower, sc->cfg, schedule_pass_done, sc, err,
		    errlen);
	case SCHEDULE_CRAWL:
		crawl_options_init(&opt, sc->cfg);
		if (publish_settings_init(&ps, sc->cfg) == -1) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		return crawler_pass(sc->crawler, &opt, sc->cfg->sources, sc->cfg->n_sources,
		    &ps, schedule_pass_done, sc, err, errlen);
	default:
		snprintf(err, errlen, "%s: no [source] sections: nothing to crawl",
		    sc->cfg->path);
		return -1;
	}
}

static void
schedule_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct schedule *sc = arg;
	char err[512];

	if (sc->stopping || schedule_busy(sc) ||
	    schedule_mode(sc->cfg, NULL) == SCHEDULE_NONE)
		return;
	if (schedule_pass(sc, err, sizeof(err)) == -1) {
		log_warn("%s: %s; next try in %llu s", sc->cfg->follow ? "sync" : "crawl",
		    err, (unsigned long long)schedule_interval(sc));
		schedule_arm(sc, schedule_interval(sc));
	}
}

struct schedule *
schedule_new(struct event_base *base, struct store *st, const struct config *cfg,
    char *err, size_t errlen)
{
	struct schedule *sc;

	snprintf(err, errlen, "out of memory");
	if ((sc = calloc(1, sizeof(*sc))) == NULL)
		return NULL;
	sc->base = base;
	sc->cfg = cfg;
	/* The crawler lives from the start: a reload may add sources. A
	 * follower fetches through it. */
	if ((sc->crawler = crawler_new(base, st, err, errlen)) == NULL ||
	    (sc->follower = follower_new(base, st, sc->crawler)) == NULL) {
		schedule_free(sc);
		return NULL;
	}
	return sc;
}

void
schedule_start(struct schedule *sc, schedule_done_fn done, void *arg)
{
	sc->periodic = 1;
	sc->done = done;
	sc->arg = arg;
	if (sc->ev_pass == NULL &&
	    (sc->ev_pass = evtimer_new(sc->base, schedule_timer_cb, sc)) == NULL) {
		log_error("cannot schedule crawl passes: out of memory");
		return;
	}
	if (schedule_mode(sc->cfg, NULL) != SCHEDULE_NONE)
		schedule_arm(sc, 0);
}

int
schedule_once(struct schedule *sc, schedule_done_fn done, void *arg, char *err,
    size_t errlen)
{
	sc->done = done;
	sc->arg = arg;
	return schedule_pass(sc, err, errlen);
}

void
schedule_refetch(struct schedule *sc)
{
	if (sc == NULL || sc->stopping || sc->ev_pass == NULL ||
	    schedule_mode(sc->cfg, NULL) == SCHEDULE_NONE)
		return;
	if (schedule_busy(sc)) {
		sc->refetch_wanted = 1;
		return;
	}
	schedule_arm(sc, 0);
}

void
schedule_reload(struct schedule *sc)
{
	if (sc == NULL || sc->ev_pass == NULL ||
	    schedule_mode(sc->cfg, NULL) == SCHEDULE_NONE || schedule_busy(sc) ||
	    evtimer_pending(sc->ev_pass, NULL))
		return;
	schedule_arm(sc, 0);
}

int
schedule_busy(const struct schedule *sc)
{
	return sc != NULL && (crawler_busy(sc->crawler) || follower_busy(sc->follower));
}

void
schedule_free(struct schedule *sc)
{
	if (sc == NULL)
		return;
	/* An aborted pass may still report: it must not schedule another. */
	sc->stopping = 1;
	/* The crawler first: it holds the follower's requests. */
	crawler_free(sc->crawler);
	follower_free(sc->follower);
	if (sc->ev_pass != NULL)
		event_free(sc->ev_pass);
	free(sc);
}

/*
 * The schedule of crawl and sync passes (see schedule.h): the pass timer,
 * the crawl-or-follow choice, "fetch again soon" and reloads, the
 * catalog re-signed when a reload changed a publisher's [mirror] name,
 * url or mirror list, and the renewal timer that re-signs it before it
 * expires. The server and `emberd crawl` reach the crawler and follower
 * only through here.
 */
#include "schedule.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "catalog.h"
#include "crawl.h"
#include "follow.h"
#include "log.h"
#include "publish.h"
#include "workq.h"

/*
 * The renewal timer looks again at least this often (seconds), though
 * the catalog is due days later: another process (`emberd add`) may
 * have signed meanwhile, and a suspended machine's monotonic timers
 * stand still while the wall clock, which expiry is measured in, runs
 * on. A look costs a catalog parse on a worker; nothing is logged or
 * signed unless the catalog is due.
 */
#define RENEW_LOOK_MAX		3600
/* A renewal that failed (no key, a full disk) is tried again after
 * this, doubling up to RENEW_LOOK_MAX. */
#define RENEW_RETRY		60
/*
 * PAUSE_RECHECK: while a pass waits for free space ([mirror] min_free),
 *   the space is looked at again this often (a statvfs: nothing), so
 *   that freeing space resumes crawling within a minute, not an interval
 *   later; the log says so once per pass that would have run.
 */
#define PAUSE_RECHECK	60

struct schedule {
	struct event_base *base;
	struct store *st;
	const struct config *cfg;	/* the caller's, reloaded in place */
	struct crawler *crawler;
	struct follower *follower;	/* syncs through the crawler */
	struct event *ev_pass;		/* the next pass (periodic only) */
	int periodic;
	int refetch_wanted;		/* an object was set aside during a pass */
	int stopping;
	/* Re-signing the reloaded settings (schedule_settings): */
	struct settings_job *job;	/* the one out, or NULL */
	int settings_due;		/* reloaded during a pass: after it */
	int settings_again;		/* reloaded while a job was out: after it */
	int pass_wanted;		/* a pass was due while a job was out */
	int key_warned;			/* said once that there is no key */
	char *sources_key;		/* the [source]s of the last pass (ids, URLs) */
	/* Re-signing before expiry (schedule_renew), on the same queue: */
	struct event *ev_renew;		/* the next look at the expiry */
	int renew_due;			/* it came during a pass: after it */
	uint64_t renew_backoff;		/* seconds, after failures */
	int64_t renew_told;		/* the renewal time last logged */
	int paused;			/* the last pass waited for free space */
	int64_t paused_said;		/* when the log last said so (Unix s) */
	/* Last successes, for /metrics: */
	struct schedule_success *ok;	/* by [source] id, in no order */
	size_t n_ok;
	int64_t sync_ok;		/* the last complete sync; 0: none */
	schedule_done_fn done;
	void *arg;
};

/*
 * One re-signing of the settings: its own copy of them (the config may
 * be reloaded again while it waits), run on the publish queue, so it
 * never overlaps a crawl's batches, and reported on the loop.
 */
struct settings_job {
	struct schedule *sc;		/* NULL once the schedule is freed */
	struct store *st;
	struct publish_settings settings;
	char *config_path;		/* for the keygen hint */
	int renewal;			/* the renewal timer's, not a reload's */
	int rc, no_catalog, no_key;
	struct publish_result res;
	char err[512];
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

static void schedule_settings(struct schedule *sc);
static void schedule_renew(struct schedule *sc);
static void schedule_renew_cb(evutil_socket_t fd, short what, void *arg);

/* The crawler: source ID ended fetched or unchanged, now. A source
 * seen for the first time costs one entry (the config's sources bound
 * them; reload_prune drops those a reload removed). */
static void
schedule_source_ok(void *arg, const char *id)
{
	struct schedule *sc = arg;
	struct schedule_success *grown;
	size_t i;

	for (i = 0; i < sc->n_ok; i++)
		if (strcmp(sc->ok[i].id, id) == 0)
			break;
	if (i == sc->n_ok) {
		if ((grown = realloc(sc->ok, (sc->n_ok + 1) * sizeof(*grown))) == NULL)
			return;		/* only a metric is missing */
		sc->ok = grown;
		if ((sc->ok[i].id = strdup(id)) == NULL)
			return;
		sc->n_ok++;
	}
	sc->ok[i].at = (int64_t)time(NULL);
}

/* Forget the successes of sources the config no longer has. */
static void
schedule_prune_successes(struct schedule *sc)
{
	size_t i = 0, k;

	while (i < sc->n_ok) {
		for (k = 0; k < sc->cfg->n_sources; k++)
			if (strcmp(sc->cfg->sources[k].id, sc->ok[i].id) == 0)
				break;
		if (k < sc->cfg->n_sources) {
			i++;
			continue;
		}
		free(sc->ok[i].id);
		sc->ok[i] = sc->ok[--sc->n_ok];
	}
}

void
schedule_successes(const struct schedule *sc, const struct schedule_success **out,
    size_t *n, int64_t *sync_at)
{
	*out = sc != NULL ? sc->ok : NULL;
	*n = sc != NULL ? sc->n_ok : 0;
	*sync_at = sc != NULL ? sc->sync_ok : 0;
}

static void
schedule_pass_done(void *arg, const struct crawl_totals *ct)
{
	struct schedule *sc = arg;
	struct schedule_totals t = { ct->fetched, ct->unchanged, ct->failed };
	uint64_t every = schedule_interval(sc);

	if (sc->cfg->follow && t.failed == 0)
		sc->sync_ok = (int64_t)time(NULL);

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
	/* The pass signed the settings it copied when it started; a reload
	 * since then brought others. */
	if (sc->settings_due && !sc->stopping) {
		sc->settings_due = 0;
		schedule_settings(sc);
	}
	if (sc->renew_due && !sc->stopping) {
		sc->renew_due = 0;
		schedule_renew(sc);
	}
	if (sc->done != NULL)
		sc->done(sc->arg, &t);
}

/* The config's [source] ids and URLs as one string: a reload that
 * changes it brings sources the last pass did not crawl. */
static char *
schedule_sources_key(const struct config *cfg)
{
	char *key = NULL;
	size_t len = 0, i, k;
	FILE *f = open_memstream(&key, &len);

	if (f == NULL)
		return NULL;
	for (i = 0; i < cfg->n_sources; i++) {
		fprintf(f, "%s\n", cfg->sources[i].id);
		for (k = 0; k < cfg->sources[i].n_urls; k++)
			fprintf(f, " %s\n", cfg->sources[i].urls[k]);
	}
	if (fclose(f) != 0) {
		free(key);
		return NULL;
	}
	return key;
}

/* N bytes for a person: "812.3 MiB". */
static void
schedule_size(char *out, size_t len, uint64_t n)
{
	static const char *const unit[] = { "bytes", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)n;
	unsigned u = 0;

	while (v >= 1024 && u + 1 < sizeof(unit) / sizeof(unit[0])) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(out, len, "%llu bytes", (unsigned long long)n);
	else
		snprintf(out, len, "%.1f %s", v, unit[u]);
}

/*
 * Room for a pass: the free space of the store's file system against
 * [mirror] min_free. Below it a pass would only fill the disk, and a
 * full disk fails every write, the server's own included; the mirror
 * keeps serving what it has. 0 when there is room, the check is off, or
 * statvfs fails (the writes then say why); -1 with ERR naming both.
 */
static int
schedule_room(struct schedule *sc, char *err, size_t errlen)
{
	struct statvfs vfs;
	uint64_t avail;
	char have[32], want[32];

	if (sc->cfg->min_free == 0 || statvfs(sc->st->root, &vfs) == -1)
		return 0;
	avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	if (avail >= sc->cfg->min_free)
		return 0;
	schedule_size(have, sizeof(have), avail);
	schedule_size(want, sizeof(want), sc->cfg->min_free);
	snprintf(err, errlen, "paused: the store %s has %s free (%llu bytes), below [mirror] "
	    "min_free %s (%llu bytes); nothing is fetched until there is room", sc->st->root,
	    have, (unsigned long long)avail, want, (unsigned long long)sc->cfg->min_free);
	return -1;
}

/* Start a pass with the config as it is now. -1 with ERR if it cannot;
 * -2 with ERR when it waits for free space (schedule_room). */
static int
schedule_pass(struct schedule *sc, char *err, size_t errlen)
{
	struct crawl_options opt;
	struct publish_settings ps;

	if (schedule_mode(sc->cfg, NULL) != SCHEDULE_NONE &&
	    schedule_room(sc, err, errlen) == -1)
		return -2;
	switch (schedule_mode(sc->cfg, NULL)) {
	case SCHEDULE_FOLLOW:
		return follower_pass(sc->follower, sc->cfg, schedule_pass_done, sc, err,
		    errlen);
	case SCHEDULE_CRAWL:
		free(sc->sources_key);
		sc->sources_key = schedule_sources_key(sc->cfg);
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

/*
 * A pass waits for free space: said when the wait begins and once per
 * interval after (once for each pass that did not run), looked at again
 * every PAUSE_RECHECK seconds in between.
 */
static void
schedule_paused(struct schedule *sc, const char *why)
{
	int64_t now = (int64_t)time(NULL);
	uint64_t every = schedule_interval(sc);

	if (!sc->paused || now - sc->paused_said >= (int64_t)every) {
		log_warn("%s: %s", sc->cfg->follow ? "sync" : "crawl", why);
		sc->paused_said = now;
	}
	sc->paused = 1;
	schedule_arm(sc, every < PAUSE_RECHECK ? every : PAUSE_RECHECK);
}

static void
schedule_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct schedule *sc = arg;
	char err[512];

	if (sc->stopping || schedule_busy(sc) ||
	    schedule_mode(sc->cfg, NULL) == SCHEDULE_NONE)
		return;
	/* Not while the settings are being signed: a pass's batches would
	 * take the store lock beside it. The job's end starts the pass. */
	if (sc->job != NULL) {
		sc->pass_wanted = 1;
		return;
	}
	switch (schedule_pass(sc, err, sizeof(err))) {
	case -1:
		log_warn("%s: %s; next try in %llu s", sc->cfg->follow ? "sync" : "crawl",
		    err, (unsigned long long)schedule_interval(sc));
		schedule_arm(sc, schedule_interval(sc));
		break;
	case -2:
		schedule_paused(sc, err);
		break;
	default:
		if (sc->paused)
			log_info("%s: enough free space again: resumed", sc->cfg->follow ?
			    "sync" : "crawl");
		sc->paused = 0;
		break;
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
	sc->st = st;
	sc->cfg = cfg;
	/* The crawler lives from the start: a reload may add sources. A
	 * follower fetches through it. */
	if ((sc->crawler = crawler_new(base, st, err, errlen)) == NULL ||
	    (sc->follower = follower_new(base, st, sc->crawler)) == NULL) {
		schedule_free(sc);
		return NULL;
	}
	crawler_on_source_ok(sc->crawler, schedule_source_ok, sc);
	return sc;
}

void
schedule_start(struct schedule *sc, schedule_done_fn done, void *arg)
{
	sc->periodic = 1;
	sc->done = done;
	sc->arg = arg;
	/* A publisher renews its catalog before expiry, whether or not it
	 * crawls: the first look now tells when. */
	if (sc->ev_renew == NULL &&
	    (sc->ev_renew = evtimer_new(sc->base, schedule_renew_cb, sc)) == NULL)
		log_error("cannot schedule the catalog's renewal: out of memory");
	else if (schedule_mode(sc->cfg, NULL) != SCHEDULE_FOLLOW)
		schedule_renew(sc);
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
	return schedule_pass(sc, err, errlen) < 0 ? -1 : 0;
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

/* ---- the settings, re-signed after a reload or before expiry ---- */

/* On a worker: nothing to re-sign before the first catalog (the first
 * add or pass signs the settings with it); the renewal timer's job signs
 * only a catalog that is due, a reload's applies the settings (and
 * renews a due one too); both through the one transaction, with no
 * objects and no items. */
static void
schedule_settings_work(void *arg)
{
	struct settings_job *j = arg;
	json_t *cat;
	int64_t exp;

	j->rc = -1;
	if (catalog_load_current(j->st, &cat, j->err, sizeof(j->err)) == -1)
		return;
	if (cat == NULL) {
		j->no_catalog = 1;
		j->rc = 0;
		return;
	}
	if (!catalog_expires(cat, &exp))
		exp = 0;
	j->res.sequence = (long long)json_integer_value(json_object_get(cat, "sequence"));
	j->res.items = json_array_size(json_object_get(cat, "items"));
	j->res.expires = exp;
	json_decref(cat);
	if (j->renewal && !publish_due(exp, j->settings.expires, (int64_t)time(NULL))) {
		j->rc = 0;
		return;
	}
	j->rc = publish_apply(j->st, &j->settings, NULL, 0, NULL, 0, &j->res, j->err,
	    sizeof(j->err));
	if (j->rc == -1 && access(j->settings.key_path, F_OK) == -1 && errno == ENOENT)
		j->no_key = 1;
}

static void
schedule_settings_free(struct settings_job *j)
{
	publish_settings_free(&j->settings);
	free(j->config_path);
	free(j);
}

/* What a reload's job did, in the log. */
static void
schedule_settings_say(struct settings_job *j, struct schedule *sc)
{
	if (j->rc == -1 && j->no_key) {
		/* Every reload would say it again: once, with the fix. */
		if (sc == NULL || !sc->key_warned)
			log_warn("reload: the catalog is not re-signed with the new [mirror] "
			    "settings: %s (create it with `emberd keygen -c %s`)", j->err,
			    j->config_path);
		else
			log_info("reload: still no key: the catalog is not re-signed");
		if (sc != NULL)
			sc->key_warned = 1;
	} else if (j->rc == -1) {
		log_warn("reload: the catalog is not re-signed with the new [mirror] "
		    "settings: %s", j->err);
	} else if (j->no_catalog) {
		log_info("reload: no catalog yet: the first one is signed with these "
		    "settings");
	} else if (j->res.changed) {
		log_info("reload: published catalog sequence %lld with %zu items",
		    j->res.sequence, j->res.items);
	} else {
		log_info("reload: catalog sequence %lld unchanged: nothing to sign",
		    j->res.sequence);
	}
}

/* What the renewal timer's job did, in the log: only what signed or
 * failed (the hourly looks at a catalog not yet due say nothing). */
static void
schedule_renew_say(struct settings_job *j)
{
	char was[32], until[32], why[700];

	catalog_time(j->res.was_expires, was);
	catalog_time(j->res.expires, until);
	if (j->rc == -1) {
		if (j->no_key)
			snprintf(why, sizeof(why), "%s (create it with `emberd keygen -c %s`)",
			    j->err, j->config_path);
		else
			snprintf(why, sizeof(why), "%s", j->err);
		if (j->res.expires != 0)
			log_warn("renew: catalog sequence %lld expires at %s and cannot be "
			    "re-signed: %s", j->res.sequence, until, why);
		else
			log_warn("renew: the catalog cannot be re-signed: %s", why);
	} else if (j->res.changed && j->res.was_expires == 0)
		log_info("renew: catalog sequence %lld had no expiry: re-signed as sequence "
		    "%lld, valid until %s", j->res.replaced, j->res.sequence, until);
	else if (j->res.changed)
		log_info("renew: catalog sequence %lld was to expire at %s: re-signed as "
		    "sequence %lld with the same %zu items, valid until %s", j->res.replaced,
		    was, j->res.sequence, j->res.items, until);
}

/*
 * After a job: the next look at the expiry, when the catalog it left
 * becomes due (a second late, so that the look finds it due), at most
 * RENEW_LOOK_MAX or a third of the validity away (a catalog another
 * process signs, the first one say, is seen before it is due); sooner
 * after a failure.
 */
static void
schedule_renew_arm(struct schedule *sc, const struct settings_job *j)
{
	int64_t now = (int64_t)time(NULL), at, wait, most;
	char when[32], until[32];
	struct timeval tv;

	if (sc->ev_renew == NULL || schedule_mode(sc->cfg, NULL) == SCHEDULE_FOLLOW)
		return;
	if (j->rc == -1) {
		sc->renew_backoff = sc->renew_backoff == 0 ? RENEW_RETRY :
		    sc->renew_backoff * 2;
		if (sc->renew_backoff > RENEW_LOOK_MAX)
			sc->renew_backoff = RENEW_LOOK_MAX;
		wait = (int64_t)sc->renew_backoff;
	} else if (j->no_catalog) {
		sc->renew_backoff = 0;
		wait = RENEW_LOOK_MAX;
	} else {
		sc->renew_backoff = 0;
		at = publish_due_at(j->res.expires, j->settings.expires);
		wait = at - now + 1;
		if (at != sc->renew_told) {
			catalog_time(j->res.expires, until);
			catalog_time(at, when);
			log_info("renew: catalog sequence %lld is valid until %s; re-signed from "
			    "%s", j->res.sequence, until, when);
			sc->renew_told = at;
		}
	}
	most = (int64_t)(j->settings.expires / 3);
	if (most > RENEW_LOOK_MAX)
		most = RENEW_LOOK_MAX;
	if (wait > most)
		wait = most;
	if (wait < 1)
		wait = 1;
	tv.tv_sec = (time_t)wait;
	tv.tv_usec = 0;
	evtimer_add(sc->ev_renew, &tv);
}

/* Back on the loop: say what happened, then what waited for the job. */
static void
schedule_settings_done(void *arg)
{
	struct settings_job *j = arg;
	struct schedule *sc = j->sc;

	if (j->renewal)
		schedule_renew_say(j);
	else
		schedule_settings_say(j, sc);
	if (sc != NULL) {
		/* A renewal that found nothing due proves no key. */
		if (j->rc == 0 && (!j->renewal || j->res.changed))
			sc->key_warned = 0;
		sc->job = NULL;
		if (!sc->stopping)
			schedule_renew_arm(sc, j);
	}
	schedule_settings_free(j);
	if (sc == NULL || sc->stopping)
		return;
	if (sc->settings_again) {
		sc->settings_again = 0;
		schedule_settings(sc);
	}
	if (sc->job == NULL && sc->pass_wanted) {
		sc->pass_wanted = 0;
		schedule_arm(sc, 0);
	}
}

/* A job on the publish queue, after any job out (one at a time, with the
 * config as it is now). Not during a pass (the caller waits for its end). */
static void
schedule_job(struct schedule *sc, int renewal)
{
	struct settings_job *j;

	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (j->config_path = strdup(sc->cfg->path)) == NULL ||
	    publish_settings_init(&j->settings, sc->cfg) == -1) {
		log_warn("%s: out of memory: the catalog is not re-signed", renewal ? "renew" :
		    "reload");
		if (j != NULL)
			schedule_settings_free(j);
		return;
	}
	j->sc = sc;
	j->st = sc->st;
	j->renewal = renewal;
	sc->job = j;
	if (workq_submit(WORKQ_PUBLISH, schedule_settings_work, schedule_settings_done,
	    j) == -1) {
		/* No queue (or it is stopping): here, the loop waits. */
		schedule_settings_work(j);
		schedule_settings_done(j);
	}
}

static int
schedule_sources_changed(const struct schedule *sc)
{
	char *now = schedule_sources_key(sc->cfg);
	int changed = now != NULL && sc->sources_key != NULL &&
	    strcmp(now, sc->sources_key) != 0;

	free(now);
	return changed;
}

/*
 * A publisher's catalog with the [mirror] name, url and mirror list of
 * the config as it is now, signed at once when they changed.
 */
static void
schedule_settings(struct schedule *sc)
{
	if (schedule_mode(sc->cfg, NULL) == SCHEDULE_FOLLOW)
		return;		/* the publisher's catalog, not ours */
	if (sc->job != NULL) {
		sc->settings_again = 1;
		return;
	}
	schedule_job(sc, 0);
}

/* A publisher's catalog re-signed if its expiry is near. A job out
 * looks at the expiry anyway when it ends (schedule_renew_arm). */
static void
schedule_renew(struct schedule *sc)
{
	if (sc->stopping || schedule_mode(sc->cfg, NULL) == SCHEDULE_FOLLOW ||
	    sc->job != NULL)
		return;
	if (schedule_busy(sc)) {
		sc->renew_due = 1;	/* a pass's batches hold the store */
		return;
	}
	schedule_job(sc, 1);
}

static void
schedule_renew_cb(evutil_socket_t fd, short what, void *arg)
{
	schedule_renew(arg);
}

void
schedule_reload(struct schedule *sc)
{
	if (sc == NULL || sc->stopping)
		return;
	schedule_prune_successes(sc);
	/* A publisher signs changed settings now, not at the next pass
	 * hours away; a running pass copied the old ones: after it. */
	if (schedule_mode(sc->cfg, NULL) != SCHEDULE_FOLLOW) {
		if (schedule_busy(sc))
			sc->settings_due = 1;
		else
			schedule_settings(sc);
	}
	if (sc->ev_pass == NULL || schedule_mode(sc->cfg, NULL) == SCHEDULE_NONE)
		return;
	/* New or changed [source]s are crawled now, not an interval later. */
	if (schedule_mode(sc->cfg, NULL) == SCHEDULE_CRAWL &&
	    schedule_sources_changed(sc)) {
		log_info("reload: the [source] sections changed: crawling now");
		if (schedule_busy(sc))
			sc->refetch_wanted = 1;
		else
			schedule_arm(sc, 0);
		return;
	}
	/* Waiting for free space: a reload may have lowered min_free, so
	 * look again now rather than at the next recheck. */
	if (schedule_busy(sc) || (evtimer_pending(sc->ev_pass, NULL) && !sc->paused))
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
	/* A settings job out runs to its end on the queue (workq_stop
	 * waits for it, before the store is closed) and then only reports. */
	if (sc->job != NULL)
		sc->job->sc = NULL;
	/* The crawler first: it holds the follower's requests. */
	crawler_free(sc->crawler);
	follower_free(sc->follower);
	if (sc->ev_pass != NULL)
		event_free(sc->ev_pass);
	free(sc->sources_key);
	if (sc->ev_renew != NULL)
		event_free(sc->ev_renew);
	while (sc->n_ok > 0)
		free(sc->ok[--sc->n_ok].id);
	free(sc->ok);
	free(sc);
}

/*
 * The schedule of crawl and sync passes, for `emberd run` (a pass every
 * interval, another soon after an object is set aside, one at once when
 * a reload brings sources) and `emberd crawl` (one pass). It alone knows
 * whether the config asks for crawling [source]s or following a
 * publisher, and owns the crawler and follower that do it.
 */
#ifndef EMBERD_SCHEDULE_H
#define EMBERD_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "config.h"
#include "store.h"

enum schedule_mode {
	SCHEDULE_NONE,		/* no [source], no [follow]: nothing to fetch */
	SCHEDULE_CRAWL,		/* a publisher crawling its [source]s */
	SCHEDULE_FOLLOW,	/* a follower syncing from its peers */
};

/* What one pass did; failed > 0 when some item (or the sync) failed. */
struct schedule_totals {
	unsigned fetched, unchanged, failed;
};

typedef void (*schedule_done_fn)(void *arg, const struct schedule_totals *t);

struct schedule;

/*
 * What CFG asks for. With NAME (the config file as the user named it),
 * warns once that [source]s are ignored when [follow] is set too.
 */
enum schedule_mode schedule_mode(const struct config *cfg, const char *name);

/*
 * A schedule on BASE for the store ST, reading *CFG whenever a pass
 * starts: the caller may replace the config in place (SIGHUP) and call
 * schedule_reload(). NULL with ERR when the crawler cannot be set up.
 */
struct schedule *schedule_new(struct event_base *base, struct store *st,
    const struct config *cfg, char *err, size_t errlen);

/*
 * `run`: a pass now, then one every [crawl] or [follow] interval after
 * the previous one ended. DONE (may be NULL) hears of each pass after
 * the next one is scheduled.
 */
void schedule_start(struct schedule *sc, schedule_done_fn done, void *arg);

/* `crawl`: one pass now; DONE once it ended. -1 with ERR when it cannot
 * start (nothing to do, a pass runs on this store already, or the store
 * has less free space than [mirror] min_free). */
int schedule_once(struct schedule *sc, schedule_done_fn done, void *arg, char *err,
    size_t errlen);

/* An object was set aside: fetch it again soon, by a pass now or right
 * after the one running. SC may be NULL (stopping). */
void schedule_refetch(struct schedule *sc);

/*
 * The config was reloaded: sources where there were none are fetched
 * now, not after an interval; and a publisher (no [follow]) signs its
 * catalog at once when the [mirror] name, url or mirror list changed,
 * on the publish queue (logged "reload: published catalog sequence N"),
 * or after the pass that runs, which copied the old ones. Nothing is
 * signed when nothing changed or before the first catalog; a failure
 * (no key, say) is a warning, and the server serves on.
 */
void schedule_reload(struct schedule *sc);

int schedule_busy(const struct schedule *sc);

/* When a [source] last ended a crawl pass fetched or unchanged (Unix s). */
struct schedule_success {
	char *id;
	int64_t at;
};

/*
 * The last successes since the schedule began, for /metrics: one per
 * [source] of the config that has had one (*N of them, in *OUT), and
 * in *SYNC_AT the end of the last sync that installed or confirmed the
 * publisher's whole catalog (0: none yet). SC may be NULL (stopping).
 */
void schedule_successes(const struct schedule *sc, const struct schedule_success **out,
    size_t *n, int64_t *sync_at);

/* Abort a running pass (what was received is kept for a resume) and
 * free. SC may be NULL. */
void schedule_free(struct schedule *sc);

#endif

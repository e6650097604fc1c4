/*
 * The background scrub of `emberd run`: a thread re-hashes every object
 * each [mirror] scrub_interval and sets aside (quarantines) those that
 * are not what their id says, so that no reader is ever sent them and
 * the loop can have them fetched again.
 */
#ifndef EMBERD_SCRUB_H
#define EMBERD_SCRUB_H

#include <stdint.h>

#include <event2/event.h>

#include "store.h"

struct scrub;

/* Called on the loop after a round that set objects aside. */
typedef void (*scrub_bad_fn)(void *arg);

/*
 * Start scrubbing ST every EVERY seconds (the first round after one
 * interval); BAD is called on BASE's loop. ST must outlive the scrub.
 * NULL (logged) when the thread cannot start: the mirror serves without.
 */
struct scrub *scrub_start(struct event_base *base, struct store *st, uint64_t every,
    scrub_bad_fn bad, void *arg);

/* Objects re-hashed and set aside so far (read from any thread). SC may
 * be NULL: zeros. */
void scrub_counts(const struct scrub *sc, uint64_t *checked, uint64_t *bad);

/* Stop the thread (a round stops at the next object) and free. SC may
 * be NULL. */
void scrub_stop(struct scrub *sc);

#endif

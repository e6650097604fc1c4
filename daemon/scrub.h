/*
 * The background scrub of `emberd run`: each [mirror] scrub_interval a
 * job on the work queue (workq.h, type scrub) re-hashes every object
 * and sets aside (quarantines) those that are not what their id says,
 * so that no reader is ever sent them and the loop can have them
 * fetched again.
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
 * Scrub ST every EVERY seconds (the first round one interval from now,
 * the next one interval after a round ends: rounds never overlap). A
 * timer on BASE's loop submits each round to the work queue, which must
 * be started with BASE and stopped after scrub_stop; BAD is called on
 * that loop. ST must outlive the scrub. NULL (logged) when the timer
 * cannot be set: the mirror serves without.
 */
struct scrub *scrub_start(struct event_base *base, struct store *st, uint64_t every,
    scrub_bad_fn bad, void *arg);

/* Objects re-hashed and set aside so far (read from any thread). SC may
 * be NULL: zeros. */
void scrub_counts(const struct scrub *sc, uint64_t *checked, uint64_t *bad);

/* On the loop: end a running round at its next object, wait for it,
 * and free. SC may be NULL. */
void scrub_stop(struct scrub *sc);

#endif

#ifndef EMBERD_WORKQ_H
#define EMBERD_WORKQ_H

/*
 * The work queue: every job emberd runs off the event loop, on a fixed
 * set of threads owned by this module (one per online CPU, 2 to 4,
 * plus one: see workq_start).
 * A job is a work function run on a worker thread and an optional done
 * function run afterwards on the loop thread, told through one eventfd.
 * Jobs have a type; within a type they start in the order submitted,
 * and each type has a cap on how many run at once:
 *
 *   ingest   hash and deflate a body or file    one per CPU (all but one thread)
 *   publish  commit, sign and swap a catalog    1 (batches stay in order)
 *   scrub    re-hash every object of the store  1 (a pass takes minutes;
 *                                                  it must never hold every thread)
 *   unlink   remove a large file set aside      1 (the disk does one at a time anyway)
 *
 * A capped job waits in its type's queue while other types run. Every
 * queued job costs one small malloc'd node until it has run: the
 * submitter bounds how many it has out (the crawler by its transfer
 * slots, `add` by its commit batch); nothing here refuses a job for
 * being one too many.
 *
 * Process-wide, as one loop owns the process: workq_start once, after
 * any fork, before the first job; workq_stop before the event base is
 * freed and before exit, so no job is lost. Worker threads block every
 * signal: signals stay with the loop.
 */

#include <event2/event.h>
#include <stddef.h>

enum workq_type {
	WORKQ_INGEST,
	WORKQ_PUBLISH,
	WORKQ_SCRUB,
	WORKQ_UNLINK,
	WORKQ_TYPES,			/* how many types; not a type */
	WORKQ_ALL = WORKQ_TYPES,	/* workq_drain, workq_pending: every type */
};

/* More threads than this buys nothing: jobs are bounded by the disk and
 * by the loop feeding them. */
#define WORKQ_THREADS_MAX 16

/*
 * Start THREADS workers (0: one per online CPU, at least 2, at most 4
 * as the old pools were, for ingest jobs, and one more, so that a
 * publish, scrub or unlink job waiting on the disk never holds back a
 * CPU's worth of hashing; otherwise 1 to WORKQ_THREADS_MAX, each of
 * which may take ingest jobs). BASE is the loop that runs done functions;
 * NULL for command-line use, where workq_drain runs them in the caller.
 * 0, or -1 with ERR set (already started, no eventfd, a thread refused).
 */
int workq_start(struct event_base *base, unsigned threads, char *err, size_t errlen);

/*
 * Run every job to its end, and every done function (those may submit
 * more jobs: they run too), then join the threads. On the loop thread;
 * safe if never started. Afterwards workq_submit fails until the next
 * workq_start.
 */
void workq_stop(void);

/*
 * Queue WORK(ARG) on a worker thread; DONE(ARG), if not NULL, runs after
 * it on the loop thread (or in workq_drain). ARG belongs to the job until
 * DONE runs (or WORK returns, if DONE is NULL). From any thread, work
 * functions included. -1 if not started, stopping, or out of memory: the
 * caller may then run WORK and DONE itself.
 */
int workq_submit(enum workq_type type, void (*work)(void *arg), void (*done)(void *arg),
    void *arg);

/*
 * Block until every job of TYPE (or WORKQ_ALL) submitted so far has run,
 * then run the done functions of TYPE that are waiting, in the caller.
 * Done functions of other types stay for the loop: a crawler draining
 * its ingest jobs is not re-entered by its publisher's. On the loop
 * thread (any thread without a base); never from a work function.
 */
void workq_drain(enum workq_type type);

/* Jobs of TYPE (or WORKQ_ALL) queued or running: for /metrics. */
unsigned workq_pending(enum workq_type type);

/* Threads taking jobs; 0 if not started or stopping. For a caller that
 * sizes its backlog by it, or keeps work on the loop without a queue. */
unsigned workq_threads(void);

/* "ingest", "publish", "scrub", "unlink"; "all" for WORKQ_ALL. */
const char *workq_type_name(enum workq_type type);

#endif

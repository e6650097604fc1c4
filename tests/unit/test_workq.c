/*
 * The work queue: jobs of a type start in the order submitted, capped
 * types never overlap, uncapped ones use every thread, done functions
 * run on the loop thread (or in workq_drain), draining one type leaves
 * the others' completions to the loop, pending counts fall to zero, and
 * workq_stop loses no job, even one submitted by a done function.
 * Waits are bounded (WAIT_MS) so a broken queue fails, never hangs.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "workq.h"
#include "check.h"

#define WAIT_MS 5000
#define NPUB 40
#define NINGEST 30

static pthread_t main_thread;
static char err[256];

/* Counters the jobs share; reset before each part. */
static atomic_int running_all, max_all;
static atomic_int running_type[WORKQ_TYPES], max_type[WORKQ_TYPES];
static atomic_int works, dones, dones_off_loop;
static atomic_int started_order[NPUB], start_pos;
static int done_order[NPUB], done_pos;	/* the caller's thread only */
static atomic_int gate_open, gated_started;
static atomic_int arrived;	/* rendezvous jobs that got a thread; never falls */

struct job {
	enum workq_type type;
	int idx;
	unsigned sleep_us;
	int gated;		/* wait for gate_open */
	int rendezvous;		/* wait until this many of its type run */
	int chain;		/* its done function submits one more job */
};

static void
nap_us(unsigned us)
{
	struct timespec ts = { us / 1000000, (long)(us % 1000000) * 1000 };
	nanosleep(&ts, NULL);
}

/* Wait until *V >= WANT or WAIT_MS pass; whether it got there. */
static int
wait_for(atomic_int *v, int want)
{
	int ms;

	for (ms = 0; ms < WAIT_MS; ms++) {
		if (atomic_load(v) >= want)
			return 1;
		nap_us(1000);
	}
	return atomic_load(v) >= want;
}

static void
raise_max(atomic_int *max, int now)
{
	int seen = atomic_load(max);
	while (now > seen && !atomic_compare_exchange_weak(max, &seen, now))
		;
}

static void
reset(void)
{
	int t;

	atomic_store(&running_all, 0);
	atomic_store(&max_all, 0);
	for (t = 0; t < WORKQ_TYPES; t++) {
		atomic_store(&running_type[t], 0);
		atomic_store(&max_type[t], 0);
	}
	atomic_store(&works, 0);
	atomic_store(&dones, 0);
	atomic_store(&dones_off_loop, 0);
	atomic_store(&start_pos, 0);
	atomic_store(&gate_open, 0);
	atomic_store(&gated_started, 0);
	atomic_store(&arrived, 0);
	done_pos = 0;
}

static void
job_work(void *arg)
{
	struct job *j = arg;
	int t = (int)j->type;

	raise_max(&max_all, atomic_fetch_add(&running_all, 1) + 1);
	raise_max(&max_type[t], atomic_fetch_add(&running_type[t], 1) + 1);
	if (j->type == WORKQ_PUBLISH)
		atomic_store(&started_order[atomic_fetch_add(&start_pos, 1)], j->idx);
	if (j->gated) {
		atomic_fetch_add(&gated_started, 1);
		wait_for(&gate_open, 1);
	}
	if (j->rendezvous) {
		atomic_fetch_add(&arrived, 1);
		wait_for(&arrived, j->rendezvous);
	}
	nap_us(j->sleep_us);
	atomic_fetch_sub(&running_type[t], 1);
	atomic_fetch_sub(&running_all, 1);
	atomic_fetch_add(&works, 1);
}

static struct job chained = { WORKQ_PUBLISH, -1, 100, 0, 0, 0 };

static void
job_done(void *arg)
{
	struct job *j = arg;

	if (!pthread_equal(pthread_self(), main_thread))
		atomic_fetch_add(&dones_off_loop, 1);
	if (j->type == WORKQ_PUBLISH && j->idx >= 0 && done_pos < NPUB)
		done_order[done_pos++] = j->idx;
	atomic_fetch_add(&dones, 1);
	if (j->chain)
		CHECK(workq_submit(chained.type, job_work, job_done, &chained) == 0);
}

static void
check_not_started(void)
{
	CHECK(workq_pending(WORKQ_ALL) == 0);
	CHECK(workq_threads() == 0);
	CHECK(workq_submit(WORKQ_INGEST, job_work, NULL, &chained) == -1);
	workq_drain(WORKQ_ALL);
	workq_stop();
	CHECK(strcmp(workq_type_name(WORKQ_INGEST), "ingest") == 0);
	CHECK(strcmp(workq_type_name(WORKQ_PUBLISH), "publish") == 0);
	CHECK(strcmp(workq_type_name(WORKQ_SCRUB), "scrub") == 0);
	CHECK(strcmp(workq_type_name(WORKQ_UNLINK), "unlink") == 0);
	CHECK(strcmp(workq_type_name(WORKQ_ALL), "all") == 0);
}

/* Without a base: order within a type, caps, and every thread used. */
static void
check_order_and_caps(void)
{
	static struct job pub[NPUB], scrub[4], ingest[NINGEST], meet[3];
	int i, in_order = 1;

	reset();
	CHECK(workq_start(NULL, 3, err, sizeof(err)) == 0);
	CHECK(workq_start(NULL, 3, err, sizeof(err)) == -1);	/* once only */
	CHECK(workq_threads() == 3);
	CHECK(workq_submit(WORKQ_ALL, job_work, NULL, &chained) == -1);
	for (i = 0; i < NPUB; i++) {
		pub[i] = (struct job){ WORKQ_PUBLISH, i, 200, 0, 0, 0 };
		CHECK(workq_submit(WORKQ_PUBLISH, job_work, job_done, &pub[i]) == 0);
		if (i < 4) {
			scrub[i] = (struct job){ WORKQ_SCRUB, i, 5000, 0, 0, 0 };
			CHECK(workq_submit(WORKQ_SCRUB, job_work, job_done, &scrub[i]) == 0);
		}
		if (i < NINGEST) {
			ingest[i] = (struct job){ WORKQ_INGEST, i, 1000, 0, 0, 0 };
			CHECK(workq_submit(WORKQ_INGEST, job_work, job_done, &ingest[i]) == 0);
		}
	}
	workq_drain(WORKQ_ALL);
	CHECK(atomic_load(&works) == NPUB + 4 + NINGEST);
	CHECK(atomic_load(&dones) == NPUB + 4 + NINGEST);
	CHECK(atomic_load(&dones_off_loop) == 0);
	for (i = 0; i < NPUB; i++)
		in_order &= atomic_load(&started_order[i]) == i && done_order[i] == i;
	CHECK(in_order);
	CHECK(done_pos == NPUB);
	CHECK(atomic_load(&max_type[WORKQ_PUBLISH]) == 1);
	CHECK(atomic_load(&max_type[WORKQ_SCRUB]) == 1);
	CHECK(atomic_load(&max_all) <= 3);
	CHECK(workq_pending(WORKQ_ALL) == 0);

	/* Ingest is uncapped: three jobs that each wait for the other two
	 * finish only if all three threads run them at once. */
	for (i = 0; i < 3; i++) {
		meet[i] = (struct job){ WORKQ_INGEST, i, 0, 0, 3, 0 };
		CHECK(workq_submit(WORKQ_INGEST, job_work, NULL, &meet[i]) == 0);
	}
	workq_drain(WORKQ_INGEST);
	CHECK(atomic_load(&max_type[WORKQ_INGEST]) == 3);
	workq_stop();
}

/* A scrub held open: its queue waits behind it, pending counts say so,
 * and other types still run and drain. */
static void
check_pending_and_scrub(void)
{
	static struct job scrub[3], ingest[8];
	int i;

	reset();
	CHECK(workq_start(NULL, 2, err, sizeof(err)) == 0);
	for (i = 0; i < 3; i++) {
		scrub[i] = (struct job){ WORKQ_SCRUB, i, 0, 1, 0, 0 };
		CHECK(workq_submit(WORKQ_SCRUB, job_work, job_done, &scrub[i]) == 0);
	}
	CHECK(wait_for(&gated_started, 1));
	CHECK(workq_pending(WORKQ_SCRUB) == 3);
	CHECK(workq_pending(WORKQ_INGEST) == 0);
	CHECK(workq_pending(WORKQ_ALL) == 3);
	for (i = 0; i < 8; i++) {
		ingest[i] = (struct job){ WORKQ_INGEST, i, 500, 0, 0, 0 };
		CHECK(workq_submit(WORKQ_INGEST, job_work, job_done, &ingest[i]) == 0);
	}
	workq_drain(WORKQ_INGEST);
	CHECK(atomic_load(&works) == 8);
	CHECK(atomic_load(&dones) == 8);	/* the scrubs' are not theirs */
	CHECK(atomic_load(&gated_started) == 1);	/* the cap held */
	CHECK(workq_pending(WORKQ_INGEST) == 0);
	CHECK(workq_pending(WORKQ_SCRUB) == 3);
	atomic_store(&gate_open, 1);
	workq_drain(WORKQ_SCRUB);
	CHECK(atomic_load(&works) == 11);
	CHECK(atomic_load(&dones) == 11);
	CHECK(atomic_load(&max_type[WORKQ_SCRUB]) == 1);
	CHECK(workq_pending(WORKQ_ALL) == 0);
	workq_stop();
}

/* Stop with jobs still queued: every one runs, its done function too,
 * and the job a done function submits on the way. */
static void
check_stop_loses_nothing(void)
{
	static struct job unl[20];
	int i;

	reset();
	CHECK(workq_start(NULL, 2, err, sizeof(err)) == 0);
	for (i = 0; i < 20; i++) {
		unl[i] = (struct job){ WORKQ_UNLINK, i, 1000, 0, 0, i == 19 };
		CHECK(workq_submit(WORKQ_UNLINK, job_work, job_done, &unl[i]) == 0);
	}
	CHECK(workq_pending(WORKQ_UNLINK) > 0);
	workq_stop();
	CHECK(atomic_load(&works) == 21);
	CHECK(atomic_load(&dones) == 21);
	CHECK(atomic_load(&max_type[WORKQ_UNLINK]) == 1);
	CHECK(workq_pending(WORKQ_ALL) == 0);
	CHECK(workq_submit(WORKQ_INGEST, job_work, NULL, &chained) == -1);
	CHECK(workq_threads() == 0);
	workq_stop();		/* twice is harmless */
}

/* Ends the loop once TARGET done functions have run. */
static int loop_target;

static void
loop_done(void *arg)
{
	struct event_base *base = arg;

	if (!pthread_equal(pthread_self(), main_thread))
		atomic_fetch_add(&dones_off_loop, 1);
	if (atomic_fetch_add(&dones, 1) + 1 >= loop_target)
		event_base_loopbreak(base);
}

static void
loop_work(void *arg)
{
	(void)arg;
	atomic_fetch_add(&works, 1);
}

/* Run BASE until loop_target completions or WAIT_MS. */
static void
run_loop(struct event_base *base)
{
	struct timeval tv = { WAIT_MS / 1000, 0 };

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

/* With a base: done functions come back through the loop, on its
 * thread; draining one type leaves another's to the loop. */
static void
check_loop(void)
{
	struct event_base *base = event_base_new();
	static struct job scrub = { WORKQ_SCRUB, 0, 0, 0, 0, 0 };
	int i;

	CHECK(base != NULL);
	if (base == NULL)
		return;
	reset();
	CHECK(workq_start(base, 0, err, sizeof(err)) == 0);
	CHECK(workq_threads() >= 2 && workq_threads() <= 4);
	loop_target = 10;
	for (i = 0; i < 10; i++)
		CHECK(workq_submit(WORKQ_INGEST, loop_work, loop_done, base) == 0);
	run_loop(base);
	CHECK(atomic_load(&works) == 10);
	CHECK(atomic_load(&dones) == 10);
	CHECK(atomic_load(&dones_off_loop) == 0);

	/* A publish ends first, then a scrub is drained: the publish's
	 * done function is left to the loop. */
	loop_target = 1000;
	CHECK(workq_submit(WORKQ_PUBLISH, loop_work, loop_done, base) == 0);
	CHECK(wait_for(&works, 11));
	CHECK(workq_submit(WORKQ_SCRUB, job_work, job_done, &scrub) == 0);
	workq_drain(WORKQ_SCRUB);
	CHECK(atomic_load(&works) == 12);
	CHECK(atomic_load(&dones) == 11);	/* the scrub's only */
	loop_target = 12;
	run_loop(base);
	CHECK(atomic_load(&dones) == 12);
	CHECK(atomic_load(&dones_off_loop) == 0);
	workq_stop();
	event_base_free(base);
}

int
main(void)
{
	main_thread = pthread_self();
	check_not_started();
	check_order_and_caps();
	check_pending_and_scrub();
	check_stop_loses_nothing();
	check_loop();
	CHECK_DONE();
}

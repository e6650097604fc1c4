/*
 * The work queue (workq.h): its threads, its per-type FIFOs and caps,
 * the completion list and the one eventfd that brings it to the loop.
 *
 * One mutex guards everything. It is held only to link and unlink
 * nodes and count, never while a job or a done function runs, so its
 * cost is a few uncontended lock round trips per job against jobs that
 * take milliseconds (a 16 KiB body deflated) to minutes (a scrub pass).
 */
#include "workq.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"

/* Threads chosen for the caller: one per CPU for ingest jobs, at least
 * 2 and at most 4 (where the old ingest pools stopped gaining: the loop
 * feeding them is the limit), and one more, so that a publish, scrub or
 * unlink job waiting on the disk never holds a CPU's worth of hashing
 * and deflate back. */
#define WORKQ_AUTO_MIN 2
#define WORKQ_AUTO_MAX 4

struct workq_job {
	struct workq_job *next;
	enum workq_type type;
	unsigned long long seq;		/* submission order, for workq_drain */
	void (*work)(void *);
	void (*done)(void *);
	void *arg;
};

/* How many jobs of a type may run at once; 0: as many as threads. */
static const unsigned workq_caps[WORKQ_TYPES] = {
	[WORKQ_INGEST] = 0,
	[WORKQ_PUBLISH] = 1,
	[WORKQ_SCRUB] = 1,
	[WORKQ_UNLINK] = 1,
};

static const char *const workq_names[WORKQ_TYPES] = {
	[WORKQ_INGEST] = "ingest",
	[WORKQ_PUBLISH] = "publish",
	[WORKQ_SCRUB] = "scrub",
	[WORKQ_UNLINK] = "unlink",
};

static struct {
	pthread_mutex_t mu;
	pthread_cond_t work_cv;		/* a job was queued, or quit */
	pthread_cond_t idle_cv;		/* a job ended (for drainers) */
	struct workq_job *head[WORKQ_TYPES], *tail[WORKQ_TYPES];
	unsigned queued[WORKQ_TYPES], running[WORKQ_TYPES];
	struct workq_job *cur[WORKQ_THREADS_MAX];	/* running, by thread */
	struct workq_job *done_head, *done_tail;	/* ended, DONE not yet run */
	unsigned long long seq;		/* jobs ever submitted */
	unsigned next_type;		/* where the round robin looks first */
	unsigned drainers;		/* threads in workq_drain */
	unsigned nthreads;
	unsigned ingest_cap;		/* ingest jobs at once */
	int started, quit;
	pthread_t th[WORKQ_THREADS_MAX];
	struct event_base *base;
	struct event *ev;
	int efd;
} wq = {
	.mu = PTHREAD_MUTEX_INITIALIZER,
	.work_cv = PTHREAD_COND_INITIALIZER,
	.idle_cv = PTHREAD_COND_INITIALIZER,
	.efd = -1,
};

const char *
workq_type_name(enum workq_type type)
{
	if (type == WORKQ_ALL)
		return "all";
	return (unsigned)type < WORKQ_TYPES ? workq_names[type] : "?";
}

static int
workq_matches(enum workq_type want, enum workq_type type)
{
	return want == WORKQ_ALL || want == type;
}

/*
 * The next job a thread may run, taken off its queue; NULL if every
 * queue is empty or at its cap. Types are visited round robin from the
 * one after the last taken, so a burst of ingest jobs delays a publish
 * by one ingest job at most. Under wq.mu; O(WORKQ_TYPES).
 */
static struct workq_job *
workq_take(void)
{
	unsigned i;

	for (i = 0; i < WORKQ_TYPES; i++) {
		unsigned t = (wq.next_type + i) % WORKQ_TYPES;
		unsigned cap = t == WORKQ_INGEST ? wq.ingest_cap :
		    workq_caps[t] ? workq_caps[t] : wq.nthreads;
		struct workq_job *j = wq.head[t];
		if (j == NULL || wq.running[t] >= cap)
			continue;
		if ((wq.head[t] = j->next) == NULL)
			wq.tail[t] = NULL;
		j->next = NULL;
		wq.queued[t]--;
		wq.running[t]++;
		wq.next_type = (t + 1) % WORKQ_TYPES;
		return j;
	}
	return NULL;
}

/*
 * Tell the loop that completions wait: add one to the eventfd's
 * counter. EAGAIN means the counter is at its maximum, so the fd is
 * readable already and the loop wakes anyway: nothing is lost. Nothing
 * else can fail on an eventfd we opened and still hold (EINTR cannot
 * happen: it never blocks, and the workers block every signal); if it
 * did, the completions would wait for the next wake-up or workq_stop,
 * so it is logged, not ignored. Under wq.mu.
 */
static void
workq_wake(void)
{
	uint64_t one = 1;

	if (write(wq.efd, &one, sizeof(one)) == -1 && errno != EAGAIN)
		log_error("work queue: cannot wake the loop: %s", strerror(errno));
}

/*
 * A job ended: its done function goes on the completion list, and the
 * loop is told if the list was empty (the loop reads the eventfd before
 * it takes the list, so a non-empty list always has a wake-up on its
 * way: one write per burst, not per job). Under wq.mu, which the
 * write holds for a microsecond or so.
 */
static void
workq_ended(unsigned self, struct workq_job *j)
{
	enum workq_type t = j->type;

	wq.cur[self] = NULL;
	wq.running[t]--;
	/* A job of a capped type may now start; this thread may take
	 * another type's on its way back, so wake an idle one too. */
	if (wq.head[t] != NULL)
		pthread_cond_signal(&wq.work_cv);
	if (j->done == NULL)
		free(j);
	else {
		int was_empty = wq.done_head == NULL;
		if (wq.done_tail != NULL)
			wq.done_tail->next = j;
		else
			wq.done_head = j;
		wq.done_tail = j;
		if (was_empty && wq.efd != -1)
			workq_wake();
	}
	if (wq.drainers > 0)
		pthread_cond_broadcast(&wq.idle_cv);
}

static void *
workq_main(void *arg)
{
	unsigned self = (unsigned)(uintptr_t)arg;
	struct workq_job *j;

	pthread_mutex_lock(&wq.mu);
	for (;;) {
		if ((j = workq_take()) == NULL) {
			/* workq_stop sets quit only once every queue is
			 * empty and submitting is refused. */
			if (wq.quit)
				break;
			pthread_cond_wait(&wq.work_cv, &wq.mu);
			continue;
		}
		wq.cur[self] = j;
		pthread_mutex_unlock(&wq.mu);
		j->work(j->arg);
		pthread_mutex_lock(&wq.mu);
		workq_ended(self, j);
	}
	pthread_mutex_unlock(&wq.mu);
	return NULL;
}

/*
 * Take the waiting completions of TYPE off the list, in the order their
 * jobs ended, leaving the others linked in theirs. Under wq.mu;
 * O(completions waiting).
 */
static struct workq_job *
workq_take_done(enum workq_type type)
{
	struct workq_job *mine = NULL, **mtail = &mine, **pp = &wq.done_head, *j;

	wq.done_tail = NULL;
	while ((j = *pp) != NULL) {
		if (workq_matches(type, j->type)) {
			*pp = j->next;
			j->next = NULL;
			*mtail = j;
			mtail = &j->next;
		} else {
			wq.done_tail = j;
			pp = &j->next;
		}
	}
	return mine;
}

/* Run a list of completions, outside wq.mu: a done function may submit. */
static void
workq_run_done(struct workq_job *j)
{
	struct workq_job *next;

	for (; j != NULL; j = next) {
		next = j->next;
		j->done(j->arg);
		free(j);
	}
}

/* The loop's side of the eventfd. */
static void
workq_event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct workq_job *list;
	uint64_t n;

	/* Reset the counter: one read for however many wake-ups. EAGAIN
	 * (the counter already read) is harmless: the list alone says
	 * what is left, and it is taken whatever the read says. */
	if (read(fd, &n, sizeof(n)) == -1 && errno != EAGAIN)
		log_error("work queue: cannot read its eventfd: %s", strerror(errno));
	pthread_mutex_lock(&wq.mu);
	list = workq_take_done(WORKQ_ALL);
	pthread_mutex_unlock(&wq.mu);
	workq_run_done(list);
}

/* Whether a job of TYPE numbered below SEQ is queued or running. Under
 * wq.mu; O(WORKQ_TYPES + threads), since each queue is in seq order. */
static int
workq_busy_before(enum workq_type type, unsigned long long seq)
{
	unsigned t, k;

	for (t = 0; t < WORKQ_TYPES; t++) {
		if (workq_matches(type, (enum workq_type)t) && wq.head[t] != NULL &&
		    wq.head[t]->seq < seq)
			return 1;
	}
	for (k = 0; k < wq.nthreads; k++) {
		if (wq.cur[k] != NULL && workq_matches(type, wq.cur[k]->type) &&
		    wq.cur[k]->seq < seq)
			return 1;
	}
	return 0;
}

void
workq_drain(enum workq_type type)
{
	struct workq_job *list;

	pthread_mutex_lock(&wq.mu);
	if (!wq.started) {
		pthread_mutex_unlock(&wq.mu);
		return;
	}
	/* Jobs submitted while we wait (by work functions) are not waited
	 * for: a job that resubmits itself cannot hold us forever. */
	unsigned long long upto = wq.seq;
	wq.drainers++;
	while (workq_busy_before(type, upto))
		pthread_cond_wait(&wq.idle_cv, &wq.mu);
	wq.drainers--;
	list = workq_take_done(type);
	pthread_mutex_unlock(&wq.mu);
	workq_run_done(list);
}

int
workq_submit(enum workq_type type, void (*work)(void *arg), void (*done)(void *arg),
    void *arg)
{
	struct workq_job *j;

	if ((unsigned)type >= WORKQ_TYPES || work == NULL) {
		errno = EINVAL;
		return -1;
	}
	if ((j = malloc(sizeof(*j))) == NULL)
		return -1;
	j->next = NULL;
	j->type = type;
	j->work = work;
	j->done = done;
	j->arg = arg;
	pthread_mutex_lock(&wq.mu);
	if (!wq.started || wq.quit) {
		pthread_mutex_unlock(&wq.mu);
		free(j);
		errno = ESRCH;
		return -1;
	}
	j->seq = wq.seq++;
	if (wq.tail[type] != NULL)
		wq.tail[type]->next = j;
	else
		wq.head[type] = j;
	wq.tail[type] = j;
	wq.queued[type]++;
	/* One thread is enough: if the job is over its cap, the thread
	 * ending the job ahead of it takes it on its way back. */
	pthread_cond_signal(&wq.work_cv);
	pthread_mutex_unlock(&wq.mu);
	return 0;
}

unsigned
workq_pending(enum workq_type type)
{
	unsigned t, n = 0;

	pthread_mutex_lock(&wq.mu);
	for (t = 0; t < WORKQ_TYPES; t++) {
		if (workq_matches(type, (enum workq_type)t))
			n += wq.queued[t] + wq.running[t];
	}
	pthread_mutex_unlock(&wq.mu);
	return n;
}

unsigned
workq_threads(void)
{
	unsigned n;

	pthread_mutex_lock(&wq.mu);
	n = wq.started && !wq.quit ? wq.nthreads : 0;
	pthread_mutex_unlock(&wq.mu);
	return n;
}

/* The thread count asked for, or the automatic one; *INGEST: how many
 * of them may run ingest jobs at once. */
static unsigned
workq_threads_want(unsigned threads, unsigned *ingest)
{
	long cpus;

	if (threads > 0) {
		*ingest = threads > WORKQ_THREADS_MAX ? WORKQ_THREADS_MAX : threads;
		return *ingest;
	}
	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	*ingest = cpus < WORKQ_AUTO_MIN ? WORKQ_AUTO_MIN :
	    cpus > WORKQ_AUTO_MAX ? WORKQ_AUTO_MAX : (unsigned)cpus;
	return *ingest + 1;
}

/* Tell the threads to end once idle and join them; they find the queues
 * empty (workq_stop) or never saw a job (a failed start). */
static void
workq_join(void)
{
	unsigned k, n;

	pthread_mutex_lock(&wq.mu);
	wq.quit = 1;
	pthread_cond_broadcast(&wq.work_cv);
	n = wq.nthreads;
	pthread_mutex_unlock(&wq.mu);
	for (k = 0; k < n; k++)
		pthread_join(wq.th[k], NULL);
	pthread_mutex_lock(&wq.mu);
	wq.nthreads = 0;
	wq.started = 0;
	wq.quit = 0;
	pthread_mutex_unlock(&wq.mu);
	if (wq.ev != NULL)
		event_free(wq.ev);
	wq.ev = NULL;
	if (wq.efd != -1)
		close(wq.efd);
	wq.efd = -1;
	wq.base = NULL;
}

/* The eventfd and its event on BASE: the loop's one door for completions. */
static int
workq_start_event(struct event_base *base, char *err, size_t errlen)
{
	if ((wq.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		snprintf(err, errlen, "work queue: eventfd: %s", strerror(errno));
		return -1;
	}
	if ((wq.ev = event_new(base, wq.efd, EV_READ | EV_PERSIST, workq_event_cb,
	    NULL)) == NULL || event_add(wq.ev, NULL) == -1) {
		snprintf(err, errlen, "work queue: cannot watch its eventfd");
		return -1;
	}
	wq.base = base;
	return 0;
}

int
workq_start(struct event_base *base, unsigned threads, char *err, size_t errlen)
{
	sigset_t all, old;
	unsigned ingest, n = workq_threads_want(threads, &ingest);
	int rc = 0;

	pthread_mutex_lock(&wq.mu);
	if (wq.started) {
		pthread_mutex_unlock(&wq.mu);
		snprintf(err, errlen, "work queue: already started");
		return -1;
	}
	/* Claimed: a second start fails from here on; a job submitted
	 * meanwhile waits in its queue for the threads. */
	wq.started = 1;
	pthread_mutex_unlock(&wq.mu);
	if (base != NULL && workq_start_event(base, err, errlen) == -1) {
		workq_join();
		return -1;
	}
	/* Threads inherit the mask: block every signal in them, so
	 * SIGTERM, SIGHUP and the rest reach the loop and no job's system
	 * call ends early with EINTR. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_mutex_lock(&wq.mu);
	wq.ingest_cap = ingest;
	for (wq.nthreads = 0; wq.nthreads < n; wq.nthreads++) {
		rc = pthread_create(&wq.th[wq.nthreads], NULL, workq_main,
		    (void *)(uintptr_t)wq.nthreads);
		if (rc != 0)
			break;
	}
	pthread_mutex_unlock(&wq.mu);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		snprintf(err, errlen, "work queue: cannot start thread %u of %u: %s",
		    wq.nthreads + 1, n, strerror(rc));
		workq_join();
		return -1;
	}
	return 0;
}

void
workq_stop(void)
{
	pthread_mutex_lock(&wq.mu);
	if (!wq.started) {
		pthread_mutex_unlock(&wq.mu);
		return;
	}
	/* Done functions may submit more: drain until a pass leaves
	 * nothing, then refuse new jobs in the same critical section. */
	while (wq.done_head != NULL || workq_busy_before(WORKQ_ALL, wq.seq)) {
		pthread_mutex_unlock(&wq.mu);
		workq_drain(WORKQ_ALL);
		pthread_mutex_lock(&wq.mu);
	}
	wq.quit = 1;
	pthread_mutex_unlock(&wq.mu);
	workq_join();
}

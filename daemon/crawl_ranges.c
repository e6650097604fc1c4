/*
 * A follower's large object from several peers at once: the ranges of
 * `emberd fetch --connections` (fetch_ranges.c: pieces checked against
 * the peers' Metalinks, a peer sending altered bytes dropped, the
 * SHA-256 the last word), run on a worker of the work queue into
 * STORE/crawl/ID.ranges, then fed to the ingest sink from that file on
 * the same worker. The sink wants its bytes in order and the ranges
 * land out of order; a file on disk keeps memory flat whatever the size
 * (the ingest reads it back from the page cache). A pass ends only
 * after its workers: a stop (SIGTERM, a reload) cancels the download
 * within a poll, keeping ID.ranges.part and its .state for the next pass.
 *
 * Taken for an object of 8 MiB or more with two peers or more that have
 * the newest catalog; when ranges give no verified copy, the object
 * goes the usual way, one peer at a time (crawl_transfer.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "crawl_job.h"
#include "fetch.h"
#include "log.h"
#include "workq.h"

#define CR_READ		(1u << 20)

struct crawl_ranges {
	struct crawl_job *j;
	struct fetch_args a;
	struct fetch f;
	char *out;
	volatile int cancel;
	struct ingest *in;
	char err[ERRLEN];
	int ok;
};

/* The verified file into the ingest sink. */
static int
cr_ingest(struct crawl_ranges *c)
{
	struct crawler *cr = c->j->cr;
	unsigned char *buf = malloc(CR_READ);
	uint64_t done = 0;
	ssize_t n;
	int fd = open(c->out, O_RDONLY | O_CLOEXEC);

	if (buf == NULL || fd == -1 ||
	    (c->in = ingest_new(cr->st, c->f.size, c->err, sizeof(c->err))) == NULL) {
		if (c->err[0] == '\0')
			snprintf(c->err, sizeof(c->err), "%s: %s", c->out, strerror(errno));
		goto fail;
	}
	while (done < c->f.size && (n = read(fd, buf, CR_READ)) > 0) {
		if (ingest_write(c->in, buf, (size_t)n) == -1) {
			snprintf(c->err, sizeof(c->err), "%s", ingest_error(c->in));
			goto fail;
		}
		done += (uint64_t)n;
	}
	if (done != c->f.size || ingest_finish(c->in) == -1) {
		snprintf(c->err, sizeof(c->err), "%s", done != c->f.size ? "short read" :
		    ingest_error(c->in));
		goto fail;
	}
	free(buf);
	close(fd);
	return 0;
fail:
	free(buf);
	if (fd != -1)
		close(fd);
	ingest_free(c->in);
	c->in = NULL;
	return -1;
}

/* On a worker: the whole download, then the ingest. */
static void
cr_work(void *arg)
{
	struct crawl_ranges *c = arg;
	struct fetch *f = &c->f;
	struct stat sb;
	int rc;

	f->fd = open(f->part, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (f->fd == -1 || fstat(f->fd, &sb) == -1 || (f->sha = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(f->sha, EVP_sha256(), NULL) != 1) {
		snprintf(c->err, sizeof(c->err), "%s: %s", f->part, strerror(errno));
		goto out;
	}
	f->have = (uint64_t)sb.st_size;
	rc = fetch_ranges(f);
	close(f->fd);
	f->fd = -1;
	if (rc == 0) {
		c->ok = cr_ingest(c) == 0;
		unlink(c->out);
	} else if (!c->cancel) {
		/* The usual way, one peer at a time, takes over from the start;
		 * only a stopped pass keeps its pieces for the next. */
		unlink(f->part);
		unlink(f->state);
	}
	if (!c->ok && c->err[0] == '\0')
		snprintf(c->err, sizeof(c->err), "no verified copy from ranges");
out:
	if (f->fd != -1)
		close(f->fd);
	EVP_MD_CTX_free(f->sha);
	f->sha = NULL;
}

static void
cr_free(struct crawl_ranges *c)
{
	free(c->out);
	free(c->f.part);
	free(c->f.state);
	free(c);
}

/* Back on the loop. */
static void
cr_done(void *arg)
{
	struct crawl_ranges *c = arg;
	struct crawl_job *j = c->j;
	struct crawler *cr = j->cr;

	cr->pooled--;
	cr->ranging = 0;
	j->ranges = NULL;
	if (cr->draining) {
		ingest_free(c->in);
		cr_free(c);
		return;		/* crawler_pass_free frees the job */
	}
	cr->active++;
	if (c->ok) {
		j->in = c->in;
		j->finished = 1;
		cr_free(c);
		job_complete(j);
		return;
	}
	log_warn("%s %s: %s; one peer at a time", cr->tag, j->src.id, c->err);
	cr_free(c);
	job_go(j);
}

int
crawl_ranges_try(struct crawl_job *j)
{
	struct crawler *cr = j->cr;
	const struct peers *ps = cr->peers;
	struct crawl_ranges *c;
	size_t i, newest = 0;

	if (!j->src.follow || ps == NULL || ps->best == NULL || cr->ranging ||
	    j->src.size < FETCH_RANGES_MIN)
		return 0;
	for (i = 0; i < ps->n; i++)
		newest += ps->p[i].json != NULL && ps->p[i].seq == ps->best->seq;
	if (newest < 2 || (c = calloc(1, sizeof(*c))) == NULL)
		return 0;
	c->j = j;
	c->a.connections = FETCH_CONNECTIONS;
	c->a.proxy = cr->proxy;
	c->a.insecure = !cr->tls_verify;
	c->a.ca_file = cr->ca_file;
	c->a.user_agent = cr->user_agent;
	c->a.no_proxy_env = 1;
	c->a.tag = cr->tag;
	c->f.a = &c->a;
	c->f.fd = -1;
	c->f.ps = *ps;		/* read only, owned by the follower */
	c->f.hex = j->src.pin;
	c->f.name = j->src.name != NULL ? j->src.name : j->src.pin;
	c->f.size = j->src.size;
	c->f.cancel = &c->cancel;
	if ((c->out = crawl_state_path(cr->dir, j->src.key, ".ranges")) == NULL ||
	    asprintf(&c->f.part, "%s.part", c->out) == -1 ||
	    asprintf(&c->f.state, "%s.part.state", c->out) == -1) {
		c->f.part = c->f.state = NULL;
		cr_free(c);
		return 0;
	}
	c->f.out = c->out;
	j->ranges = c;
	cr->ranging = 1;
	j->phase = J_INGEST;
	cr->active--;
	cr->pooled++;
	if (workq_submit(WORKQ_INGEST, cr_work, cr_done, c) == -1) {
		cr->pooled--;
		cr->active++;
		cr->ranging = 0;
		j->ranges = NULL;
		cr_free(c);
		return 0;
	}
	log_info("%s %s: %llu bytes in ranges from %zu peers at once", cr->tag, j->src.id,
	    (unsigned long long)j->src.size, newest);
	return 1;
}

void
crawl_ranges_cancel(struct crawl_job *j)
{
	if (j->ranges != NULL)
		j->ranges->cancel = 1;
}

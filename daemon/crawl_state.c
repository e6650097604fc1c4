/*
 * The crawler's per-source files (crawl_state.h): ID.json read and
 * written as a cache, and the removal of kept bytes without stalling
 * the event loop.
 */
#include "crawl_state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "fsutil.h"
#include "names.h"
#include "workq.h"

/*
 * Limits, and why:
 * - STATE_MAX: an ID.json is a few hundred bytes; anything larger is not
 *   ours and reads as empty.
 * - UNLINK_ASIDE: unlinking a file of a GiB with its pages cached takes
 *   the kernel a tenth of a second or more; from this size on a file is
 *   renamed aside (instant) and unlinked by a work queue job.
 */
#define STATE_MAX	65536
#define UNLINK_ASIDE	(16 << 20)

char *
crawl_state_path(const char *dir, const char *id, const char *ext)
{
	char *p;

	if (asprintf(&p, "%s/%s%s", dir, id, ext) == -1)
		return NULL;
	return p;
}

void
crawl_state_free(struct crawl_state *s)
{
	free(s->url);
	free(s->etag);
	free(s->last_modified);
	free(s->sha256);
	free(s->name);
	free(s->part_url);
	free(s->part_validator);
	free(s->kind);
	free(s->hls);
	memset(s, 0, sizeof(*s));
}

void
crawl_state_set(char **dst, const char *v)
{
	free(*dst);
	*dst = v != NULL && *v != '\0' ? strdup(v) : NULL;
}

static char *
crawl_state_string(json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v != NULL && *v != '\0' ? strdup(v) : NULL;
}

/* A missing or unreadable state is an empty one: the worst outcome is
 * a full download. */
void
crawl_state_load(const char *dir, const char *id, struct crawl_state *s)
{
	char *path = crawl_state_path(dir, id, ".json"), *buf = NULL;
	size_t len;
	json_t *o;

	crawl_state_free(s);
	if (path == NULL || fsutil_read_file(path, STATE_MAX, &buf, &len) == -1) {
		free(path);
		return;
	}
	free(path);
	if ((o = json_loadb(buf, len, 0, NULL)) != NULL && json_is_object(o)) {
		s->url = crawl_state_string(o, "url");
		s->etag = crawl_state_string(o, "etag");
		s->last_modified = crawl_state_string(o, "last_modified");
		s->sha256 = crawl_state_string(o, "sha256");
		s->name = crawl_state_string(o, "name");
		s->part_url = crawl_state_string(o, "part_url");
		s->part_validator = crawl_state_string(o, "part_validator");
		s->kind = crawl_state_string(o, "kind");
		s->hls = crawl_state_string(o, "hls");
		if (s->sha256 != NULL && !name_is_sha256_hex(s->sha256, strlen(s->sha256))) {
			free(s->sha256);
			s->sha256 = NULL;
		}
		if (s->name != NULL && name_check(s->name, strlen(s->name)) != NULL) {
			free(s->name);
			s->name = NULL;
		}
	}
	json_decref(o);
	free(buf);
}

int
crawl_state_save(const char *dir, const char *id, const struct crawl_state *s)
{
	json_t *o = json_object();
	char *text = NULL, *name = NULL;
	int fd = -1, rc = -1;

	if (o == NULL)
		goto out;
#define PUT(k, v) if ((v) != NULL) json_object_set_new(o, k, json_string(v))
	PUT("url", s->url);
	PUT("etag", s->etag);
	PUT("last_modified", s->last_modified);
	PUT("sha256", s->sha256);
	PUT("name", s->name);
	PUT("part_url", s->part_url);
	PUT("part_validator", s->part_validator);
	PUT("kind", s->kind);
	PUT("hls", s->hls);
#undef PUT
	/*
	 * Rewritten in place, not synced: the state is a cache. Torn or lost
	 * by a crash it reads as empty, and the cost is one full download.
	 * (A temp file and a rename per save would allocate and free an
	 * inode per item, and syncing would cost two fsyncs per item.)
	 */
	if ((text = json_dumps(o, JSON_SORT_KEYS)) == NULL ||
	    (name = crawl_state_path(dir, id, ".json")) == NULL) {
		errno = ENOMEM;
		goto out;
	}
	fd = open(name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd != -1 && fsutil_write_all(fd, text, strlen(text)) == 0)
		rc = 0;
out:
	if (fd != -1) {
		int saved = errno;
		close(fd);
		errno = saved;
	}
	json_decref(o);
	free(text);
	free(name);
	return rc;
}

/* A WORKQ_UNLINK job: remove PATH, set aside, and free it. */
static void
crawl_state_unlink_job(void *path)
{
	unlink(path);
	free(path);
}

/*
 * Unlink PATH (ours to free) on the work queue, one at a time (its
 * unlink type is capped at one: the disk does one at a time anyway),
 * however many are set aside at once. Inline if the queue is not
 * running (a caller without one: nothing to keep responsive) or out of
 * memory.
 */
static void
crawl_state_unlink_later(char *path)
{
	if (workq_submit(WORKQ_UNLINK, crawl_state_unlink_job, NULL, path) == -1)
		crawl_state_unlink_job(path);
}

/*
 * A large file is renamed out of the way (instant) and unlinked by a
 * work queue job (workq_stop runs those to the end); if the process is
 * killed first, the next pass removes the leftover (crawl_state_sweep).
 */
void
crawl_state_unlink(const char *dir, const char *path)
{
	struct stat sb;
	char *trash;

	if (stat(path, &sb) == -1)
		return;
	if (sb.st_size < UNLINK_ASIDE ||
	    asprintf(&trash, "%s/.trash-%ld-%lx", dir, (long)getpid(),
	    (unsigned long)random()) == -1) {
		unlink(path);
		return;
	}
	if (rename(path, trash) == -1) {
		free(trash);
		unlink(path);
		return;
	}
	crawl_state_unlink_later(trash);
}

void
crawl_state_sweep(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char *p;
		size_t len = strlen(e->d_name);
		/* ID.part.new: a kept prefix being renamed into place when
		 * the process ended. */
		int renaming = len > 9 && strcmp(e->d_name + len - 9, ".part.new") == 0;
		int trash = strncmp(e->d_name, ".trash-", 7) == 0;
		if (!trash && strncmp(e->d_name, ".tmp-", 5) != 0 && !renaming)
			continue;
		if (asprintf(&p, "%s/%s", dir, e->d_name) == -1)
			continue;
		if (trash || renaming) {
			/* Possibly large, as when it was set aside. */
			crawl_state_unlink_later(p);
		} else {
			unlink(p);
			free(p);
		}
	}
	closedir(d);
}

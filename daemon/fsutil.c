/*
 * The file-system moves durable writes are made of (fsutil.h): folder
 * fsync, mkdir -p, full writes, temp-file-then-rename, bounded reads. No
 * logging: callers know what the file was for and say so.
 */

#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
fsutil_fsync_dir(const char *dir)
{
	int fd, rc;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int
fsutil_mkdir_p(const char *path, mode_t mode)
{
	char *p, *s;
	int rc = 0;

	if ((p = strdup(path)) == NULL)
		return -1;
	for (s = p + 1; ; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, mode) == -1 && errno != EEXIST) {
			rc = -1;
			break;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	free(p);
	return rc;
}

int
fsutil_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

char *
fsutil_join(const char *dir, const char *name)
{
	char *s;

	if (asprintf(&s, "%s/%s", dir, name) == -1)
		return NULL;
	return s;
}

int
fsutil_write_atomic(const char *dir, const char *name, const void *data,
    size_t len, mode_t mode)
{
	char *tmp = NULL, *dst = NULL;
	int fd = -1, saved;

	if (asprintf(&tmp, "%s/.tmp-%s.XXXXXX", dir, name) == -1) {
		tmp = NULL;
		goto fail;
	}
	if ((dst = fsutil_join(dir, name)) == NULL)
		goto fail;
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1)
		goto fail;
	if (fchmod(fd, mode) == -1 ||
	    fsutil_write_all(fd, data, len) == -1 ||
	    fsync(fd) == -1)
		goto fail_unlink;
	if (close(fd) == -1) {
		fd = -1;
		goto fail_unlink;
	}
	fd = -1;
	if (rename(tmp, dst) == -1)
		goto fail_unlink;
	free(tmp);
	free(dst);
	return fsutil_fsync_dir(dir);

fail_unlink:
	saved = errno;
	unlink(tmp);
	errno = saved;
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	free(tmp);
	free(dst);
	errno = saved;
	return -1;
}

int
fsutil_read_file(const char *path, size_t max, char **bufp, size_t *lenp)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0, cap;
	int fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		goto fail;
	if ((size_t)st.st_size > max) {
		errno = EFBIG;
		goto fail;
	}
	cap = (size_t)st.st_size + 1;
	if ((buf = malloc(cap)) == NULL)
		goto fail;
	for (;;) {
		if (len + 1 >= cap) {
			char *nb;
			if (cap > max + 1) {
				errno = EFBIG;
				goto fail;
			}
			if ((nb = realloc(buf, cap * 2)) == NULL)
				goto fail;
			buf = nb;
			cap *= 2;
		}
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			errno = EFBIG;
			goto fail;
		}
	}
	close(fd);
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	return 0;
fail:
	saved = errno;
	free(buf);
	close(fd);
	errno = saved;
	return -1;
}

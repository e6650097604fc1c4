/*
 * The few file-system moves every durable write in emberd is made of:
 * write to a temp file in the target folder, fsync, rename, fsync the
 * folder. All return 0 or -1 with errno set.
 */

#ifndef EMBERD_FSUTIL_H
#define EMBERD_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

int fsutil_fsync_dir(const char *dir);
int fsutil_mkdir_p(const char *path, mode_t mode);

/* Write DATA to DIR/NAME atomically and durably, mode MODE. */
int fsutil_write_atomic(const char *dir, const char *name, const void *data,
    size_t len, mode_t mode);

/* Write all of BUF to FD, retrying short writes and EINTR. */
int fsutil_write_all(int fd, const void *buf, size_t len);

/* Read a whole (small) file; at most MAX bytes or -1 with EFBIG. The
 * buffer is NUL-terminated (not counted in *lenp). */
int fsutil_read_file(const char *path, size_t max, char **bufp, size_t *lenp);

/* Join DIR and NAME into a malloc'd path. */
char *fsutil_join(const char *dir, const char *name);

#endif

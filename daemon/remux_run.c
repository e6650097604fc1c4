/*
 * Runs emberd-remux (remux_run.h): found once, spawned per remux with the
 * inputs at descriptors 3 and 4, its stderr read for the error line.
 */
#include "remux_run.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef EMBERD_LIBEXECDIR
#define EMBERD_LIBEXECDIR "/usr/local/libexec"
#endif

#define REMUX_PROGRAM	"emberd-remux"
#define REMUX_INPUTS	2

extern char **environ;

static pthread_once_t remux_run_once = PTHREAD_ONCE_INIT;
static char remux_run_path[PATH_MAX];

static void
remux_run_find(void)
{
	char self[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL &&
		    (size_t)(slash + 1 - self) + sizeof(REMUX_PROGRAM) <= sizeof(remux_run_path)) {
			memcpy(remux_run_path, self, (size_t)(slash + 1 - self));
			memcpy(remux_run_path + (slash + 1 - self), REMUX_PROGRAM,
			    sizeof(REMUX_PROGRAM));
			if (access(remux_run_path, X_OK) == 0)
				return;
		}
	}
	snprintf(remux_run_path, sizeof(remux_run_path), "%s/%s", EMBERD_LIBEXECDIR,
	    REMUX_PROGRAM);
	if (access(remux_run_path, X_OK) != 0)
		remux_run_path[0] = '\0';
}

int
remux_run_available(void)
{
	pthread_once(&remux_run_once, remux_run_find);
	return remux_run_path[0] != '\0';
}

int
remux_run(const struct remux_input *in, size_t n, const char *out_path,
    char *err, size_t errlen)
{
	posix_spawn_file_actions_t fa;
	char arg[REMUX_INPUTS][64], *argv[REMUX_INPUTS + 3], buf[1024];
	int errp[2] = { -1, -1 }, status = 0, rc = -1;
	size_t i, got = 0;
	pid_t pid;
	ssize_t k;

	if (!remux_run_available()) {
		snprintf(err, errlen, "remux: %s is not installed (built without the remux "
		    "feature)", REMUX_PROGRAM);
		return -1;
	}
	if (n == 0 || n > REMUX_INPUTS) {
		snprintf(err, errlen, "remux: %zu inputs", n);
		return -1;
	}
	if (pipe2(errp, O_CLOEXEC) == -1 || posix_spawn_file_actions_init(&fa) != 0) {
		snprintf(err, errlen, "remux: %s", strerror(errno));
		goto out;
	}
	argv[0] = (char *)REMUX_PROGRAM;
	argv[1] = (char *)out_path;
	for (i = 0; i < n; i++) {
		/* dup2 clears close-on-exec on the copy. */
		posix_spawn_file_actions_adddup2(&fa, in[i].fd, 3 + (int)i);
		snprintf(arg[i], sizeof(arg[i]), "%d:%llu:%d", 3 + (int)i,
		    (unsigned long long)in[i].len, in[i].gzip ? 1 : 0);
		argv[2 + i] = arg[i];
	}
	argv[2 + n] = NULL;
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
	rc = posix_spawn(&pid, remux_run_path, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(errp[1]);
	errp[1] = -1;
	if (rc != 0) {
		snprintf(err, errlen, "remux: cannot run %s: %s", remux_run_path, strerror(rc));
		rc = -1;
		goto out;
	}
	/* Its last line, at most BUF bytes of it. */
	while ((k = read(errp[0], buf + got, sizeof(buf) - 1 - got)) != 0) {
		if (k == -1 && errno == EINTR)
			continue;
		if (k == -1)
			break;
		got += (size_t)k;
		if (got == sizeof(buf) - 1) {
			memmove(buf, buf + got / 2, got - got / 2);
			got -= got / 2;
		}
	}
	buf[got] = '\0';
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		rc = 0;
		goto out;
	}
	while (got > 0 && (buf[got - 1] == '\n' || buf[got - 1] == '\r'))
		buf[--got] = '\0';
	{
		char *line = strrchr(buf, '\n');
		line = line != NULL ? line + 1 : buf;
		if (*line != '\0')
			snprintf(err, errlen, "%s", line);
		else if (WIFSIGNALED(status))
			snprintf(err, errlen, "remux: %s killed by signal %d", REMUX_PROGRAM,
			    WTERMSIG(status));
		else
			snprintf(err, errlen, "remux: %s exited with status %d", REMUX_PROGRAM,
			    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	}
	rc = -1;
out:
	if (errp[0] != -1)
		close(errp[0]);
	if (errp[1] != -1)
		close(errp[1]);
	return rc;
}

/*
 * The daemon's log lines on stderr, the verbosity that filters them, and
 * the time each line of `emberd run` starts with unless the journal
 * records it already.
 */

#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

static int log_level = 1;
static int log_times;	/* set before any thread starts, then only read */

void
log_set_level(int level)
{
	log_level = level;
}

/*
 * systemd connects a service's stderr to the journal and says so in
 * JOURNAL_STREAM ("DEV:INODE" of that stream, decimal): the journal
 * stamps every line itself. The same stream is ours only while stderr
 * is still that file (sd_journal_stream_fd(3)); redirected elsewhere, it
 * is not.
 */
static int
log_stderr_is_journal(void)
{
	const char *v = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char end;

	if (v == NULL || sscanf(v, "%llu:%llu%c", &dev, &ino, &end) != 2 ||
	    fstat(2, &st) == -1)
		return 0;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void
log_use_times(void)
{
	log_times = !log_stderr_is_journal();
}

static void __attribute__((format(printf, 2, 0)))
log_vline(const char *prefix, const char *fmt, va_list ap)
{
	/*
	 * One fprintf per line: stdio locks the stream for each call, so
	 * the serving threads of `emberd run` ([https] workers) never
	 * interleave within a line, whether stderr is unbuffered or (in
	 * run) a buffer that each loop flushes once per turn.
	 */
	char line[2048], stamp[32] = "";
	int n;

	if (log_times) {
		/* RFC 3339, UTC: sorts as text, and means the same anywhere. */
		time_t now = time(NULL);
		struct tm tm;
		if (gmtime_r(&now, &tm) != NULL)
			strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ ", &tm);
	}
	n = snprintf(line, sizeof(line), "%semberd: %s", stamp, prefix);
	if (n < 0)
		return;
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	fprintf(stderr, "%s\n", line);
}

void
log_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vline("error: ", fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vline("warning: ", fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;
	if (log_level < 1)
		return;
	va_start(ap, fmt);
	log_vline("", fmt, ap);
	va_end(ap);
}

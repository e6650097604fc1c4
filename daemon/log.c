/*
 * The daemon's log lines on stderr and the verbosity that filters them.
 */

#include "log.h"

#include <stdarg.h>
#include <stdio.h>

static int log_level = 1;

void
log_set_level(int level)
{
	log_level = level;
}

static void __attribute__((format(printf, 2, 0)))
log_vline(const char *prefix, const char *fmt, va_list ap)
{
	/* One write per line so concurrent writers never interleave mid-line. */
	char line[2048];
	int n = snprintf(line, sizeof(line), "emberd: %s", prefix);
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

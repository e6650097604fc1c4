/*
 * One line per event on stderr. Messages name the file, key or URL at
 * fault; readers' addresses never reach these functions unless the config
 * allows it (the caller decides).
 */

#ifndef EMBERD_LOG_H
#define EMBERD_LOG_H

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* 0 quiet (errors only), 1 normal, 2 verbose. */
void log_set_level(int level);

/*
 * Start every line with its time (RFC 3339, UTC: "2026-12-04T03:25:00Z
 * emberd: ...") unless stderr is the systemd journal (JOURNAL_STREAM
 * names it), which records the time itself. For `emberd run`, whose
 * lines end up in a log file; called before any other thread starts.
 */
void log_use_times(void);

#endif

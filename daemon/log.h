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

#endif

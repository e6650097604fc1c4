#ifndef EMBERD_SERVER_H
#define EMBERD_SERVER_H

/*
 * `emberd run`: the HTTP(S) mirror on one libevent loop. Serves the
 * current catalog of the store, its signature, the publisher key, the
 * objects (ranges, conditional requests, gzip as stored) and an HTML
 * index; picks up a new catalog as soon as `current` changes; SIGHUP
 * reloads the config, SIGTERM/SIGINT finish in-flight responses and exit.
 *
 * Returns the process exit status.
 */
int server_run(const char *config_path);

#endif

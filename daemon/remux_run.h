/*
 * The remux of HLS captures as the daemon runs it: the helper program
 * emberd-remux (remux_main.c, built with the `remux` feature), started
 * for each remux with the store objects as inherited descriptors. The
 * daemon itself never loads libavformat.
 */
#ifndef EMBERD_REMUX_RUN_H
#define EMBERD_REMUX_RUN_H

#include <stddef.h>

#include "remux.h"

/* 1 when emberd-remux is there: beside the running emberd (a build
 * tree), else in EMBERD_LIBEXECDIR. Looked up once. */
int remux_run_available(void);

/*
 * Remux the N inputs (remux.h) into OUT_PATH with emberd-remux, and wait
 * for it. Blocking: a work-queue job. 0, or -1 with ERR (its last line
 * on stderr, or how it ended).
 */
int remux_run(const struct remux_input *in, size_t n, const char *out_path,
    char *err, size_t errlen);

#endif

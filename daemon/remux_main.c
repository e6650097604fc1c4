/*
 * emberd-remux: the remux of HLS captures (remux.c) as a program of its
 * own, run by emberd's work queue (remux_run.c) so that libavformat's
 * libraries are loaded only while a capture is remuxed, never in the
 * daemon. Not for people: emberd gives it its arguments.
 *
 *   emberd-remux OUT_PATH FD:LEN:GZIP [FD:LEN:GZIP]
 *
 * Each input is an inherited descriptor of a store object, its stored
 * length and whether it is a gzip member. Exit 0 with OUT_PATH written
 * (MP4, moov first), else 1 with one line on stderr.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remux.h"

#define INPUTS_MAX 2

static int
remux_main_input(const char *arg, struct remux_input *in)
{
	char *end;
	unsigned long long fd, len, gzip;

	errno = 0;
	fd = strtoull(arg, &end, 10);
	if (errno != 0 || *end != ':' || fd > 1024)
		return -1;
	len = strtoull(end + 1, &end, 10);
	if (errno != 0 || *end != ':')
		return -1;
	gzip = strtoull(end + 1, &end, 10);
	if (errno != 0 || *end != '\0' || gzip > 1)
		return -1;
	in->fd = (int)fd;
	in->len = len;
	in->gzip = (int)gzip;
	return 0;
}

int
main(int argc, char **argv)
{
	struct remux_input in[INPUTS_MAX];
	struct remux_info info;
	char err[512];
	int i, n = argc - 2;

	if (argc < 3 || n > INPUTS_MAX) {
		fprintf(stderr, "usage: emberd-remux OUT_PATH FD:LEN:GZIP [FD:LEN:GZIP]\n");
		return 2;
	}
	for (i = 0; i < n; i++)
		if (remux_main_input(argv[i + 2], &in[i]) == -1) {
			fprintf(stderr, "emberd-remux: bad input '%s'\n", argv[i + 2]);
			return 2;
		}
	if (remux_to_mp4(in, (size_t)n, argv[1], &info, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	printf("%.3f %u %u\n", info.duration, info.n_video, info.n_audio);
	return 0;
}

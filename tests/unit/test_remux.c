/*
 * HLS captures to MP4: media made here with ffmpeg (an H.264/AAC
 * MPEG-TS, its gzip, a discontinuity, separate renditions, a fragmented
 * MP4 capture), remuxed, and checked with ffprobe and by reading the
 * MP4's top-level boxes: duration, streams, moov before the media,
 * timestamps that only go forward. Without the remux feature: the
 * stub's error.
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "remux.h"
#include "check.h"

#ifdef EMBERD_REMUX

/* The media: 12 s of 25 fps H.264 with B-frames, 44.1 kHz AAC. */
#define FFMPEG	"ffmpeg -nostdin -v error -y"
#define VIDEO	"-f lavfi -i testsrc=size=160x120:rate=25:duration=12"
#define AUDIO	"-f lavfi -i sine=frequency=440:sample_rate=44100:duration=12"
#define H264	"-c:v libx264 -preset veryfast -g 50 -pix_fmt yuv420p"
#define AAC	"-c:a aac -b:a 64k"
#define TRAILER	4096

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Run a shell command; 0 when it exits 0. */
static int
sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	if (rc != 0)
		fprintf(stderr, "command failed (%d): %s\n", rc, cmd);
	return rc == 0 ? 0 : -1;
}

/* The first line of a command's output into OUT; -1 if none. */
static int
sh_line(const char *cmd, char *out, size_t outlen)
{
	FILE *f = popen(cmd, "r");
	int ok;

	if (f == NULL)
		return -1;
	ok = fgets(out, (int)outlen, f) != NULL;
	pclose(f);
	return ok ? 0 : -1;
}

static off_t
file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : -1;
}

/*
 * Remux PATHS (gzip members where GZIP[i]) into OUT. LEN[i], when not 0,
 * is the stored length; else the file's size.
 */
static int
remux_files(const char *const *paths, const int *gzip, const uint64_t *len,
    size_t n, const char *out, struct remux_info *info, char *err, size_t errlen)
{
	struct remux_input in[8];
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		in[i].fd = open(paths[i], O_RDONLY);
		in[i].len = len != NULL && len[i] != 0 ? len[i] :
		    (uint64_t)file_size(paths[i]);
		in[i].gzip = gzip != NULL && gzip[i];
	}
	rc = remux_to_mp4(in, n, out, info, err, errlen);
	for (i = 0; i < n; i++)
		close(in[i].fd);
	if (rc == -1)
		fprintf(stderr, "%s\n", err);
	return rc;
}

static double
probe_duration(const char *path)
{
	char cmd[512], line[128];

	snprintf(cmd, sizeof(cmd), "ffprobe -v error -show_entries "
	    "format=duration -of csv=p=0 '%s'", path);
	if (sh_line(cmd, line, sizeof(line)) == -1)
		return -1;
	return atof(line);
}

/* Streams ffprobe finds, by type. */
static void
probe_streams(const char *path, int *video, int *audio)
{
	char cmd[512], line[128];
	FILE *f;

	*video = *audio = 0;
	snprintf(cmd, sizeof(cmd), "ffprobe -v error -show_entries "
	    "stream=codec_type -of csv=p=0 '%s'", path);
	if ((f = popen(cmd, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "video", 5) == 0)
			(*video)++;
		else if (strncmp(line, "audio", 5) == 0)
			(*audio)++;
	}
	pclose(f);
}

/*
 * Every stream's DTS strictly increasing, and no step longer than a
 * second (a discontinuity left in would be a 1000 s step).
 */
static int
probe_monotonic(const char *path)
{
	char cmd[512], line[128];
	double last[8];
	int seen[8] = { 0 }, ok = 1;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "ffprobe -v error -show_entries "
	    "packet=stream_index,dts_time -of csv=p=0 '%s'", path);
	if ((f = popen(cmd, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		int idx;
		double t;

		if (sscanf(line, "%d,%lf", &idx, &t) != 2 || idx < 0 || idx >= 8) {
			ok = 0;
			continue;
		}
		if (seen[idx] && (t <= last[idx] || t - last[idx] > 1.0)) {
			if (ok)
				fprintf(stderr, "%s: stream %d: dts %f after %f\n",
				    path, idx, t, last[idx]);
			ok = 0;
		}
		seen[idx] = 1;
		last[idx] = t;
	}
	pclose(f);
	return ok && seen[0];
}

/* Decodes from end to end without an error. */
static int
plays(const char *path)
{
	return sh("ffmpeg -nostdin -v error -xerror -i '%s' -f null - 2>plays.err"
	    " && ! test -s plays.err", path) == 0;
}

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The first two top-level boxes are ftyp and moov (moov before mdat). */
static int
moov_first(const char *path)
{
	unsigned char h[16];
	char types[2][5] = { "", "" };
	uint64_t off = 0, size;
	int fd = open(path, O_RDONLY), i, ok = 1;

	if (fd == -1)
		return 0;
	for (i = 0; i < 2 && ok; i++) {
		if (pread(fd, h, 16, (off_t)off) != 16) {
			ok = 0;
			break;
		}
		memcpy(types[i], h + 4, 4);
		size = be32(h);
		if (size == 1)
			size = (uint64_t)be32(h + 8) << 32 | be32(h + 12);
		if (size < 8)
			ok = 0;
		off += size;
	}
	close(fd);
	if (!ok || strcmp(types[0], "ftyp") != 0 || strcmp(types[1], "moov") != 0) {
		fprintf(stderr, "%s: boxes %s, %s\n", path, types[0], types[1]);
		return 0;
	}
	return 1;
}

/* Checks every good output has to pass. */
static void
check_mp4(const char *path, const struct remux_info *info, double want,
    double slack, int video, int audio)
{
	struct stat st;
	double d = probe_duration(path);
	int v, a;

	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644);
	CHECK(moov_first(path));
	probe_streams(path, &v, &a);
	CHECK(v == video);
	CHECK(a == audio);
	CHECK(info->n_video == (unsigned)video);
	CHECK(info->n_audio == (unsigned)audio);
	if (d < want - slack || d > want + slack)
		fprintf(stderr, "%s: ffprobe duration %f, want %f\n", path, d, want);
	CHECK(d >= want - slack && d <= want + slack);
	if (info->duration < want - slack || info->duration > want + slack)
		fprintf(stderr, "%s: info duration %f, want %f\n", path,
		    info->duration, want);
	CHECK(info->duration >= want - slack && info->duration <= want + slack);
	CHECK(probe_monotonic(path));
}

/* Copy SRC to DST and append a store-like trailer that must not be read. */
static void
with_trailer(const char *src, const char *dst)
{
	CHECK(sh("cp '%s' '%s' && head -c %d /dev/urandom >> '%s'", src, dst,
	    TRAILER, dst) == 0);
}

/* No temp file of a failed or finished remux is left in the folder. */
static int
no_temp_left(void)
{
	DIR *d = opendir(".");
	struct dirent *e;
	int ok = 1;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (strstr(e->d_name, ".remux-") != NULL) {
			fprintf(stderr, "left behind: %s\n", e->d_name);
			ok = 0;
		}
	closedir(d);
	return ok;
}

static void
make_media(void)
{
	CHECK(sh(FFMPEG " " VIDEO " " AUDIO " " H264 " " AAC " -f mpegts av.ts") == 0);
	CHECK(sh(FFMPEG " " VIDEO " " AUDIO " " H264 " " AAC
	    " -output_ts_offset 1000 -f mpegts later.ts") == 0);
	CHECK(sh(FFMPEG " " VIDEO " " H264 " -f mpegts v.ts") == 0);
	CHECK(sh(FFMPEG " " AUDIO " " AAC " -f adts a.aac") == 0);
	CHECK(sh(FFMPEG " " VIDEO " " AUDIO " " H264 " " AAC " -f hls -hls_time 2"
	    " -hls_playlist_type vod -hls_segment_type fmp4"
	    " -hls_fmp4_init_filename init.mp4 -hls_segment_filename 'seg%%d.m4s'"
	    " fm.m3u8") == 0);
	CHECK(sh("cat init.mp4 $(grep -v '^#' fm.m3u8) > fm.mp4") == 0);
	CHECK(sh("cat av.ts later.ts > disc.ts && cat av.ts av.ts > back.ts") == 0);
	CHECK(sh("gzip -c av.ts > av.ts.gz") == 0);
}

/* (1) One TS capture, stored raw with a trailer; an old output replaced. */
static void
test_ts(void)
{
	const char *p[] = { "stored.ts" };
	uint64_t len[] = { (uint64_t)file_size("av.ts") };
	struct remux_info info;
	char err[512];

	with_trailer("av.ts", "stored.ts");
	CHECK(sh("echo old > ts.mp4 && chmod 600 ts.mp4") == 0);
	CHECK(remux_files(p, NULL, len, 1, "ts.mp4", &info, err, sizeof(err)) == 0);
	check_mp4("ts.mp4", &info, 12.0, 0.1, 1, 1);
	CHECK(plays("ts.mp4"));
}

/* (2) The same TS as a gzip member: inflated as read, not seekable. */
static void
test_gzip(void)
{
	const char *p[] = { "stored.ts.gz" };
	int gz[] = { 1 };
	uint64_t len[] = { (uint64_t)file_size("av.ts.gz") };
	struct remux_info info;
	char err[512];

	with_trailer("av.ts.gz", "stored.ts.gz");
	CHECK(remux_files(p, gz, len, 1, "gz.mp4", &info, err, sizeof(err)) == 0);
	check_mp4("gz.mp4", &info, 12.0, 0.1, 1, 1);
}

/*
 * (3) Discontinuities: a second capture 1000 s later, and the same
 * capture twice (time goes back), each concatenated.
 */
static void
test_discontinuity(void)
{
	const char *fwd[] = { "disc.ts" }, *back[] = { "back.ts" };
	struct remux_info info;
	char err[512];

	CHECK(remux_files(fwd, NULL, NULL, 1, "disc.mp4", &info, err, sizeof(err)) == 0);
	check_mp4("disc.mp4", &info, 24.0, 0.2, 1, 1);
	CHECK(plays("disc.mp4"));
	CHECK(remux_files(back, NULL, NULL, 1, "back.mp4", &info, err, sizeof(err)) == 0);
	check_mp4("back.mp4", &info, 24.0, 0.2, 1, 1);
	CHECK(plays("back.mp4"));
}

/* (4) A video-only TS and a separate ADTS audio rendition: one MP4. */
static void
test_renditions(void)
{
	const char *p[] = { "v.ts", "a.aac" };
	struct remux_info info;
	char err[512];

	CHECK(remux_files(p, NULL, NULL, 2, "va.mp4", &info, err, sizeof(err)) == 0);
	check_mp4("va.mp4", &info, 12.0, 0.1, 1, 1);
	CHECK(plays("va.mp4"));
}

/* (5) A fragmented MP4 capture: init section and fragments concatenated. */
static void
test_fmp4(void)
{
	const char *p[] = { "fm.mp4" };
	struct remux_info info;
	char err[512];

	CHECK(remux_files(p, NULL, NULL, 1, "fm-out.mp4", &info, err, sizeof(err)) == 0);
	check_mp4("fm-out.mp4", &info, 12.0, 0.1, 1, 1);
}

/* (6) What is refused, with a message and nothing left behind. */
static void
test_refused(void)
{
	const char *junk[] = { "junk.bin" }, *gz[] = { "av.ts.gz" },
	    *ts[] = { "av.ts" };
	int gzip[] = { 1 };
	uint64_t half[] = { (uint64_t)file_size("av.ts.gz") / 2 };
	uint64_t beyond[] = { (uint64_t)file_size("av.ts") + 100000 };
	struct remux_info info;
	unsigned char buf[65536];
	uint32_t x = 12345;
	char err[512];
	size_t i;
	FILE *f;

	for (i = 0; i < sizeof(buf); i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (unsigned char)(x >> 16);
	}
	CHECK((f = fopen("junk.bin", "w")) != NULL);
	if (f != NULL) {
		CHECK(fwrite(buf, 1, sizeof(buf), f) == sizeof(buf));
		fclose(f);
	}
	err[0] = '\0';
	CHECK(remux_to_mp4(NULL, 0, "none.mp4", &info, err, sizeof(err)) == -1);
	CHECK(strncmp(err, "remux: none.mp4: ", 17) == 0);

	err[0] = '\0';
	CHECK(remux_files(junk, NULL, NULL, 1, "junk.mp4", &info, err, sizeof(err)) == -1);
	CHECK(strncmp(err, "remux: input 1: ", 16) == 0);
	CHECK(file_size("junk.mp4") == -1);

	err[0] = '\0';
	CHECK(remux_files(gz, gzip, half, 1, "half.mp4", &info, err, sizeof(err)) == -1);
	CHECK(strstr(err, "remux: input 1: ") == err);
	CHECK(strstr(err, "gzip member is cut short") != NULL);
	CHECK(file_size("half.mp4") == -1);

	err[0] = '\0';
	CHECK(remux_files(ts, NULL, beyond, 1, "beyond.mp4", &info, err, sizeof(err)) == -1);
	CHECK(strstr(err, "the file ends before") != NULL);
	CHECK(file_size("beyond.mp4") == -1);

	/* The good input second: the error names the bad one. */
	{
		const char *two[] = { "av.ts", "junk.bin" };

		err[0] = '\0';
		CHECK(remux_files(two, NULL, NULL, 2, "two.mp4", &info, err,
		    sizeof(err)) == -1);
		CHECK(strncmp(err, "remux: input 2: ", 16) == 0);
	}
	CHECK(no_temp_left());
}

int
main(void)
{
	char dir[] = "/tmp/emberd-remux-XXXXXX";

	if (system("command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null") != 0) {
		/* A failure, not a skip: a suite that did not run this proved nothing. */
		fprintf(stderr, "ffmpeg and ffprobe are needed on PATH (apt-get install ffmpeg)\n");
		return 1;
	}
	CHECK(remux_available() == 1);
	if (mkdtemp(dir) == NULL || chdir(dir) == -1) {
		perror(dir);
		return 1;
	}
	make_media();
	if (check_failures == 0) {
		test_ts();
		test_gzip();
		test_discontinuity();
		test_renditions();
		test_fmp4();
		test_refused();
	}
	if (chdir("/") == 0 && check_failures == 0)
		sh("rm -rf '%s'", dir);
	else
		fprintf(stderr, "media kept in %s\n", dir);
	CHECK_DONE();
}

#else /* !EMBERD_REMUX */

int
main(void)
{
	struct remux_input in = { -1, 0, 0 };
	struct remux_info info;
	char err[256] = "";

	CHECK(remux_available() == 0);
	CHECK(remux_to_mp4(&in, 1, "x.mp4", &info, err, sizeof(err)) == -1);
	CHECK(strstr(err, "built without the remux feature") != NULL);
	CHECK(access("x.mp4", F_OK) == -1);
	CHECK_DONE();
}

#endif

/*
 * The remux of remux.h: stored HLS captures read through custom
 * AVIOContexts (pread, or zlib inflate for a gzip object), demuxed by
 * libavformat, their timestamps rebased and made continuous, and muxed
 * by stream copy into an MP4 with its moov atom first. Without the meson
 * feature `remux` only a stub is compiled.
 *
 * Limits, and why:
 * - INPUTS_MAX: a video capture and its audio rendition make two; a few
 *   more leave room (one demuxer, with its buffers, per input).
 * - TRACKS_MAX: audio and video streams of all inputs together. A
 *   capture has two or three; a hostile program map may list hundreds,
 *   each an MP4 track with its own sample table.
 * - STREAMS_MAX: streams libavformat may create per input (its
 *   max_streams), so that a crafted program map cannot make thousands.
 * - PROBE_SIZE, FORMAT_PROBE_SIZE, ANALYZE_US: how much libavformat
 *   reads to find the format and the streams' parameters before the
 *   first packet; the packets it reads meanwhile are queued, so this
 *   bounds that queue's memory. 5 MB and 10 s find AAC and H.264
 *   parameters in any HLS segment (their defaults are 5 MB and 5 s).
 * - IO_BUF, ZBUF: the AVIOContext's buffer and the compressed bytes read
 *   at once for inflate.
 * - JUMP_US: a timestamp more than this ahead of where a stream's next
 *   packet belongs is a discontinuity, not a gap (ffmpeg's own
 *   dts_delta_threshold). A gap below it (a segment the origin lost) is
 *   kept as a gap.
 * - PACKETS_MAX: the mp4 muxer keeps an index entry per packet (about
 *   50 bytes) until it writes the moov atom at the end; 4 Mi packets
 *   are 15 hours of 30 fps video with 48 kHz AAC, about 200 MiB.
 * - LOGLINE: libavformat's last error line, quoted in our message.
 *
 * Untrusted bytes: the capture comes from an origin. Only the demuxers
 * of FORMATS may open it, and no protocol may be opened from it (a
 * playlist or a reference movie must not make libavformat read files or
 * URLs on the publisher's machine).
 */

#include "remux.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#ifdef EMBERD_REMUX

#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libavutil/mathematics.h>
#include <zlib.h>

#define INPUTS_MAX		8
#define TRACKS_MAX		16
#define STREAMS_MAX		"64"
#define PROBE_SIZE		"5000000"
#define FORMAT_PROBE_SIZE	"1048576"
#define ANALYZE_US		"10000000"
#define IO_BUF			(64 * 1024)
#define ZBUF			(64 * 1024)
#define JUMP_US			(10 * (int64_t)AV_TIME_BASE)
#define PACKETS_MAX		(1L << 22)
#define LOGLINE			256
#define IOERR			160
#define FORMATS			"mpegts,mov,aac,mp3,ac3,eac3,matroska,flv"

/* One input: its bytes in the store, and its demuxer. */
struct remux_src {
	int		 fd;
	uint64_t	 len;
	uint64_t	 pos;		/* next byte: of the content, or of the gzip member */
	int		 gzip;
	z_stream	 zs;
	int		 zinit, zend;
	unsigned char	*zbuf;
	char		 ioerr[IOERR];	/* why a read failed, beyond libavformat's code */
	AVIOContext	*pb;
	AVFormatContext	*ic;
	int		*map;		/* input stream -> track, or -1 */
	int		 has_base;
	int64_t		 base_us;	/* the input's start, at 0 in the MP4 */
	int64_t		 clock_us;	/* DTS of its last packet in the MP4 */
	int		 done;
	int		 has_disc;	/* the latest discontinuity of its streams: */
	int64_t		 disc_raw_us;	/* where its new timeline began, */
	int64_t		 disc_out_us;	/* and where it was put */
};

/* One stream copied: input stream IST of source SRC into OST. */
struct remux_track {
	unsigned	 src;
	AVStream	*ist, *ost;
	int		 started;
	int64_t		 offset;	/* added to input DTS and PTS, IST's time base */
	int64_t		 last;		/* DTS of the last packet, IST's time base */
	int64_t		 dur;		/* the last packet's duration, IST's time base */
	int		 has_out;
	int64_t		 last_out;	/* its DTS in OST's time base */
	int64_t		 first_us, end_us;
};

static _Thread_local char remux_logline[LOGLINE];
static pthread_once_t remux_log_once = PTHREAD_ONCE_INIT;

static void remux_log(void *, int, const char *, va_list)
    __attribute__((format(printf, 3, 0)));

int
remux_available(void)
{
	return 1;
}

/*
 * libavformat's log callback, for the whole process: its lines never
 * reach stderr; the last error line of this thread is kept to be quoted
 * in the error remux_to_mp4 returns (each work-queue thread has its own).
 */
static void
remux_log(void *avcl, int level, const char *fmt, va_list ap)
{
	size_t n;

	if (level > AV_LOG_ERROR)
		return;
	vsnprintf(remux_logline, sizeof(remux_logline), fmt, ap);
	n = strlen(remux_logline);
	while (n > 0 && (remux_logline[n - 1] == '\n' || remux_logline[n - 1] == ' '))
		remux_logline[--n] = '\0';
}

static void
remux_log_init(void)
{
	av_log_set_callback(remux_log);
}

/* "WHAT: libavformat's reason (its last error line)" for error code RC. */
static void
remux_fail(char *err, size_t errlen, const char *name, const char *what, int rc)
{
	char reason[AV_ERROR_MAX_STRING_SIZE] = "";

	if (rc < 0)
		av_strerror(rc, reason, sizeof(reason));
	if (remux_logline[0] != '\0' && strcmp(remux_logline, reason) != 0)
		snprintf(err, errlen, "remux: %s: %s: %s (%s)", name, what,
		    reason[0] != '\0' ? reason : "failed", remux_logline);
	else
		snprintf(err, errlen, "remux: %s: %s: %s", name, what,
		    reason[0] != '\0' ? reason : "failed");
}

/* pread all of LEN at OFF but for EINTR; short only at the file's end. */
static ssize_t
remux_pread(struct remux_src *s, void *buf, size_t len, uint64_t off)
{
	ssize_t r;

	do
		r = pread(s->fd, buf, len, (off_t)off);
	while (r == -1 && errno == EINTR);
	if (r == -1) {
		snprintf(s->ioerr, sizeof(s->ioerr), "read: %s", strerror(errno));
		return -1;
	}
	if (r == 0) {
		snprintf(s->ioerr, sizeof(s->ioerr),
		    "the file ends before its %llu stored bytes",
		    (unsigned long long)s->len);
		return -1;
	}
	return r;
}

/* AVIOContext read of the inflated gzip member: one ZBUF read at most. */
static int
remux_read_gzip(struct remux_src *s, uint8_t *buf, int size)
{
	ssize_t r;
	int rc;

	if (s->zend)
		return AVERROR_EOF;
	s->zs.next_out = buf;
	s->zs.avail_out = (uInt)size;
	while (s->zs.avail_out == (uInt)size) {
		if (s->zs.avail_in == 0) {
			size_t want = ZBUF;

			if (s->pos >= s->len) {
				snprintf(s->ioerr, sizeof(s->ioerr),
				    "the gzip member is cut short");
				return AVERROR_INVALIDDATA;
			}
			if (s->len - s->pos < want)
				want = (size_t)(s->len - s->pos);
			if ((r = remux_pread(s, s->zbuf, want, s->pos)) == -1)
				return AVERROR(EIO);
			s->pos += (uint64_t)r;
			s->zs.next_in = s->zbuf;
			s->zs.avail_in = (uInt)r;
		}
		rc = inflate(&s->zs, Z_NO_FLUSH);
		if (rc == Z_STREAM_END) {
			s->zend = 1;
			break;
		}
		if (rc != Z_OK && rc != Z_BUF_ERROR) {
			snprintf(s->ioerr, sizeof(s->ioerr), "gzip: %s",
			    s->zs.msg != NULL ? s->zs.msg : "corrupt data");
			return AVERROR_INVALIDDATA;
		}
	}
	if (s->zs.avail_out == (uInt)size)
		return AVERROR_EOF;
	return size - (int)s->zs.avail_out;
}

/* AVIOContext read: the stored bytes, never beyond LEN. */
static int
remux_read(void *opaque, uint8_t *buf, int size)
{
	struct remux_src *s = opaque;
	size_t want = (size_t)size;
	ssize_t r;

	if (s->gzip)
		return remux_read_gzip(s, buf, size);
	if (s->pos >= s->len)
		return AVERROR_EOF;
	if (s->len - s->pos < want)
		want = (size_t)(s->len - s->pos);
	if ((r = remux_pread(s, buf, want, s->pos)) == -1)
		return AVERROR(EIO);
	s->pos += (uint64_t)r;
	return (int)r;
}

/* AVIOContext seek over the raw content (a gzip input has none). */
static int64_t
remux_seek(void *opaque, int64_t off, int whence)
{
	struct remux_src *s = opaque;
	int64_t to;

	if (whence & AVSEEK_SIZE)
		return (int64_t)s->len;
	switch (whence & ~AVSEEK_FORCE) {
	case SEEK_SET:
		to = off;
		break;
	case SEEK_CUR:
		to = (int64_t)s->pos + off;
		break;
	case SEEK_END:
		to = (int64_t)s->len + off;
		break;
	default:
		return AVERROR(EINVAL);
	}
	if (to < 0 || (uint64_t)to > s->len)
		return AVERROR(EINVAL);
	s->pos = (uint64_t)to;
	return to;
}

/* Free what remux_src_open made; safe on a half-opened or zeroed one. */
static void
remux_src_close(struct remux_src *s)
{
	if (s->ic != NULL)
		avformat_close_input(&s->ic);
	if (s->pb != NULL) {
		av_freep(&s->pb->buffer);
		avio_context_free(&s->pb);
	}
	if (s->zinit)
		inflateEnd(&s->zs);
	free(s->zbuf);
	free(s->map);
	s->zbuf = NULL;
	s->map = NULL;
	s->zinit = 0;
}

/*
 * Open input IN as source S named NAME: the AVIOContext, the demuxer
 * (only FORMATS, no protocols), the streams' parameters. -1 with ERR.
 */
static int
remux_src_open(struct remux_src *s, const struct remux_input *in,
    const char *name, char *err, size_t errlen)
{
	AVDictionary *opts = NULL;
	unsigned char *iobuf;
	int rc;

	s->fd = in->fd;
	s->len = in->len;
	s->gzip = in->gzip != 0;
	if (s->gzip) {
		if ((s->zbuf = malloc(ZBUF)) == NULL) {
			snprintf(err, errlen, "remux: %s: out of memory", name);
			return -1;
		}
		if (inflateInit2(&s->zs, 15 + 16) != Z_OK) {
			snprintf(err, errlen, "remux: %s: inflateInit2 failed", name);
			return -1;
		}
		s->zinit = 1;
	}
	if ((iobuf = av_malloc(IO_BUF)) == NULL ||
	    (s->pb = avio_alloc_context(iobuf, IO_BUF, 0, s, remux_read, NULL,
	    s->gzip ? NULL : remux_seek)) == NULL) {
		av_free(iobuf);
		snprintf(err, errlen, "remux: %s: out of memory", name);
		return -1;
	}
	if ((s->ic = avformat_alloc_context()) == NULL) {
		snprintf(err, errlen, "remux: %s: out of memory", name);
		return -1;
	}
	s->ic->pb = s->pb;
	s->ic->flags |= AVFMT_FLAG_CUSTOM_IO;
	av_dict_set(&opts, "format_whitelist", FORMATS, 0);
	av_dict_set(&opts, "protocol_whitelist", "none", 0);
	av_dict_set(&opts, "probesize", PROBE_SIZE, 0);
	av_dict_set(&opts, "formatprobesize", FORMAT_PROBE_SIZE, 0);
	av_dict_set(&opts, "analyzeduration", ANALYZE_US, 0);
	av_dict_set(&opts, "max_streams", STREAMS_MAX, 0);
	/* On failure avformat_open_input frees the context (ic is NULL). */
	remux_logline[0] = '\0';
	rc = avformat_open_input(&s->ic, "", NULL, &opts);
	av_dict_free(&opts);
	if (rc < 0) {
		if (s->ioerr[0] != '\0')
			snprintf(err, errlen, "remux: %s: %s", name, s->ioerr);
		else
			remux_fail(err, errlen, name,
			    "not a media file of a format it takes", rc);
		return -1;
	}
	remux_logline[0] = '\0';
	if ((rc = avformat_find_stream_info(s->ic, NULL)) < 0) {
		if (s->ioerr[0] != '\0')
			snprintf(err, errlen, "remux: %s: %s", name, s->ioerr);
		else
			remux_fail(err, errlen, name, "no stream parameters", rc);
		return -1;
	}
	return 0;
}

/* Whether input stream ST is audio or video with parameters to copy. */
static int
remux_wanted(const AVStream *st)
{
	const AVCodecParameters *par = st->codecpar;

	if (st->disposition & AV_DISPOSITION_ATTACHED_PIC ||
	    par->codec_id == AV_CODEC_ID_NONE)
		return 0;
	if (par->codec_type == AVMEDIA_TYPE_VIDEO)
		return par->width > 0 && par->height > 0;
	if (par->codec_type == AVMEDIA_TYPE_AUDIO)
		return par->sample_rate > 0;
	return 0;
}

/*
 * The tracks of source S (number NO): an output stream for each wanted
 * input stream, in S->map. -1 with ERR when it has none or a codec MP4
 * cannot carry.
 */
static int
remux_src_tracks(struct remux_src *s, unsigned no, const char *name,
    AVFormatContext *oc, struct remux_track *tracks, size_t *ntracks,
    char *err, size_t errlen)
{
	unsigned i, found = 0;

	if ((s->map = calloc(s->ic->nb_streams, sizeof(*s->map))) == NULL) {
		snprintf(err, errlen, "remux: %s: out of memory", name);
		return -1;
	}
	for (i = 0; i < s->ic->nb_streams; i++) {
		AVStream *ist = s->ic->streams[i], *ost;
		struct remux_track *t;

		s->map[i] = -1;
		if (!remux_wanted(ist))
			continue;
		if (avformat_query_codec(oc->oformat, ist->codecpar->codec_id,
		    FF_COMPLIANCE_NORMAL) != 1) {
			snprintf(err, errlen, "remux: %s: stream %u: %s cannot go "
			    "into MP4", name, i, avcodec_get_name(ist->codecpar->codec_id));
			return -1;
		}
		if (*ntracks == TRACKS_MAX) {
			snprintf(err, errlen, "remux: %s: more than %d audio and "
			    "video streams", name, TRACKS_MAX);
			return -1;
		}
		if ((ost = avformat_new_stream(oc, NULL)) == NULL ||
		    avcodec_parameters_copy(ost->codecpar, ist->codecpar) < 0) {
			snprintf(err, errlen, "remux: %s: out of memory", name);
			return -1;
		}
		/* hvc1, not hev1: Safari plays only the former. */
		ost->codecpar->codec_tag = ist->codecpar->codec_id == AV_CODEC_ID_HEVC ?
		    MKTAG('h', 'v', 'c', '1') : 0;
		ost->time_base = ist->time_base;
		av_dict_copy(&ost->metadata, ist->metadata, 0);
		t = &tracks[*ntracks];
		memset(t, 0, sizeof(*t));
		t->src = no;
		t->ist = ist;
		t->ost = ost;
		t->dur = 1;
		t->first_us = INT64_MAX;
		t->end_us = INT64_MIN;
		s->map[i] = (int)(*ntracks)++;
		found++;
	}
	if (found == 0) {
		snprintf(err, errlen, "remux: %s: no audio or video stream", name);
		return -1;
	}
	return 0;
}

/*
 * The input's start, put at 0: the earliest start of its tracks, else
 * (no start known) the first packet's timestamp.
 */
static void
remux_src_base(struct remux_src *s, const struct remux_track *tracks,
    size_t ntracks, const struct remux_track *t, int64_t ts)
{
	size_t i;

	s->base_us = INT64_MAX;
	for (i = 0; i < ntracks; i++) {
		const AVStream *st = tracks[i].ist;

		if (tracks[i].src == t->src && st->start_time != AV_NOPTS_VALUE) {
			int64_t us = av_rescale_q(st->start_time, st->time_base,
			    AV_TIME_BASE_Q);
			if (us < s->base_us)
				s->base_us = us;
		}
	}
	if (s->base_us == INT64_MAX)
		s->base_us = av_rescale_q(ts, t->ist->time_base, AV_TIME_BASE_Q);
	s->has_base = 1;
}

/*
 * Rebase PKT's timestamps (input time base) and make them continuous
 * with track T's last packet. PTS keeps its distance from DTS (B-frame
 * reordering).
 */
static void
remux_fix_ts(struct remux_src *s, struct remux_track *t,
    const struct remux_track *tracks, size_t ntracks, AVPacket *pkt)
{
	AVRational tb = t->ist->time_base;
	int64_t jump = av_rescale_q(JUMP_US, AV_TIME_BASE_Q, tb);
	int64_t dts = pkt->dts != AV_NOPTS_VALUE ? pkt->dts : pkt->pts;
	int64_t cts = 0, out, want;

	if (pkt->dts != AV_NOPTS_VALUE && pkt->pts != AV_NOPTS_VALUE)
		cts = pkt->pts - pkt->dts;
	want = t->last + t->dur;
	if (dts == AV_NOPTS_VALUE) {
		/* No timestamp at all: right after the previous packet. */
		out = t->started ? want : 0;
	} else if (!t->started) {
		if (!s->has_base)
			remux_src_base(s, tracks, ntracks, t, dts);
		out = dts - av_rescale_q(s->base_us, AV_TIME_BASE_Q, tb);
		/* A stream starting far from the others starts at 0. */
		if (out < -jump || out > jump)
			out = 0;
		t->offset = out - dts;
	} else if ((out = dts + t->offset) <= t->last || out > want + jump) {
		int64_t raw_us = av_rescale_q(dts, tb, AV_TIME_BASE_Q);
		int64_t gap;

		/*
		 * A discontinuity. The first stream of the input to meet it
		 * goes on right after its last packet; the others that jump to
		 * the same new timeline take the same mapping, so they stay in
		 * sync, unless that would go back or leave a gap.
		 */
		out = want;
		if (s->has_disc && (gap = raw_us - s->disc_raw_us) < JUMP_US &&
		    gap > -JUMP_US) {
			int64_t same = dts + av_rescale_q(s->disc_out_us -
			    s->disc_raw_us, AV_TIME_BASE_Q, tb);
			if (same > t->last && same <= want + jump)
				out = same;
		} else {
			s->has_disc = 1;
			s->disc_raw_us = raw_us;
			s->disc_out_us = av_rescale_q(out, tb, AV_TIME_BASE_Q);
		}
		t->offset = out - dts;
	}
	if (pkt->duration > 0)
		t->dur = pkt->duration;
	else if (t->started && out > t->last)
		t->dur = out - t->last;
	pkt->dts = out;
	pkt->pts = out + cts;
	t->last = out;
	t->started = 1;
	s->clock_us = av_rescale_q(out, tb, AV_TIME_BASE_Q);
	{
		int64_t pts_us = av_rescale_q(pkt->pts, tb, AV_TIME_BASE_Q);
		int64_t end_us = av_rescale_q(pkt->pts + t->dur, tb, AV_TIME_BASE_Q);

		if (pts_us < t->first_us)
			t->first_us = pts_us;
		if (end_us > t->end_us)
			t->end_us = end_us;
	}
}

/* The source to read from next: the one behind, or -1 when all are done. */
static int
remux_next_src(const struct remux_src *srcs, size_t n)
{
	size_t i;
	int best = -1;

	for (i = 0; i < n; i++) {
		if (srcs[i].done)
			continue;
		if (best == -1 || srcs[i].clock_us < srcs[best].clock_us)
			best = (int)i;
	}
	return best;
}

/*
 * Demux every source in step and write its packets into OC (header
 * written). -1 with ERR.
 */
static int
remux_copy(struct remux_src *srcs, size_t n, struct remux_track *tracks,
    size_t ntracks, AVFormatContext *oc, const char *out_path, char *err,
    size_t errlen)
{
	AVPacket *pkt;
	long npackets = 0;
	char name[32];
	int i, rc;

	if ((pkt = av_packet_alloc()) == NULL) {
		snprintf(err, errlen, "remux: %s: out of memory", out_path);
		return -1;
	}
	while ((i = remux_next_src(srcs, n)) != -1) {
		struct remux_src *s = &srcs[i];
		struct remux_track *t;

		snprintf(name, sizeof(name), "input %d", i + 1);
		remux_logline[0] = '\0';
		rc = av_read_frame(s->ic, pkt);
		if (s->ioerr[0] != '\0') {
			snprintf(err, errlen, "remux: %s: %s", name, s->ioerr);
			goto fail;
		}
		if (rc == AVERROR_EOF) {
			s->done = 1;
			continue;
		}
		if (rc < 0) {
			remux_fail(err, errlen, name, "read", rc);
			goto fail;
		}
		if (pkt->stream_index < 0 ||
		    (unsigned)pkt->stream_index >= s->ic->nb_streams ||
		    s->map[pkt->stream_index] < 0 || pkt->size == 0) {
			av_packet_unref(pkt);
			continue;
		}
		if (++npackets > PACKETS_MAX) {
			snprintf(err, errlen, "remux: %s: more than %ld packets",
			    out_path, PACKETS_MAX);
			goto fail;
		}
		t = &tracks[s->map[pkt->stream_index]];
		remux_fix_ts(s, t, tracks, ntracks, pkt);
		av_packet_rescale_ts(pkt, t->ist->time_base, t->ost->time_base);
		/* Rounding into a coarser time base must not make DTS repeat. */
		if (t->has_out && pkt->dts <= t->last_out) {
			int64_t d = t->last_out + 1 - pkt->dts;

			pkt->dts += d;
			pkt->pts += d;
		}
		if (pkt->pts < pkt->dts)
			pkt->pts = pkt->dts;
		t->has_out = 1;
		t->last_out = pkt->dts;
		pkt->stream_index = t->ost->index;
		pkt->pos = -1;
		/* Takes the packet's reference, whatever it returns. */
		remux_logline[0] = '\0';
		if ((rc = av_interleaved_write_frame(oc, pkt)) < 0) {
			remux_fail(err, errlen, out_path, "write", rc);
			goto fail;
		}
	}
	av_packet_free(&pkt);
	return 0;
fail:
	av_packet_free(&pkt);
	return -1;
}

int
remux_to_mp4(const struct remux_input *in, size_t n, const char *out_path,
    struct remux_info *info, char *err, size_t errlen)
{
	struct remux_src srcs[INPUTS_MAX];
	struct remux_track tracks[TRACKS_MAX];
	AVFormatContext *oc = NULL;
	AVDictionary *opts = NULL;
	char tmp[PATH_MAX], url[PATH_MAX + 8], name[32];
	size_t i, ntracks = 0;
	int64_t first = INT64_MAX, end = INT64_MIN;
	int fd, rc, made = 0, opened = 0, ret = -1;

	pthread_once(&remux_log_once, remux_log_init);
	remux_logline[0] = '\0';
	memset(info, 0, sizeof(*info));
	memset(srcs, 0, sizeof(srcs));
	if (n == 0 || n > INPUTS_MAX) {
		snprintf(err, errlen, "remux: %s: %zu inputs (1 to %d)", out_path,
		    n, INPUTS_MAX);
		return -1;
	}
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.remux-XXXXXX", out_path) >=
	    sizeof(tmp)) {
		snprintf(err, errlen, "remux: %s: path too long", out_path);
		return -1;
	}
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "input %zu", i + 1);
		if (remux_src_open(&srcs[i], &in[i], name, err, errlen) == -1)
			goto out;
	}

	/*
	 * The temp file beside OUT_PATH, opened again by name through
	 * libavformat's file protocol ("file:" so that no colon in the path
	 * reads as another protocol): +faststart reopens it by that name to
	 * move the moov atom before the media data.
	 */
	if ((fd = mkstemp(tmp)) == -1) {
		snprintf(err, errlen, "remux: %s: %s", out_path, strerror(errno));
		goto out;
	}
	close(fd);
	made = 1;
	snprintf(url, sizeof(url), "file:%s", tmp);
	if ((rc = avformat_alloc_output_context2(&oc, NULL, "mp4", url)) < 0) {
		remux_fail(err, errlen, out_path, "mp4 muxer", rc);
		goto out;
	}
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "input %zu", i + 1);
		if (remux_src_tracks(&srcs[i], (unsigned)i, name, oc, tracks,
		    &ntracks, err, errlen) == -1)
			goto out;
	}
	if ((rc = avio_open(&oc->pb, url, AVIO_FLAG_WRITE)) < 0) {
		remux_fail(err, errlen, out_path, "open", rc);
		goto out;
	}
	opened = 1;
	av_dict_set(&opts, "movflags", "+faststart", 0);
	remux_logline[0] = '\0';
	rc = avformat_write_header(oc, &opts);
	av_dict_free(&opts);
	if (rc < 0) {
		remux_fail(err, errlen, out_path, "MP4 header", rc);
		goto out;
	}
	if (remux_copy(srcs, n, tracks, ntracks, oc, out_path, err, errlen) == -1)
		goto out;
	remux_logline[0] = '\0';
	if ((rc = av_write_trailer(oc)) < 0) {
		remux_fail(err, errlen, out_path, "MP4 index", rc);
		goto out;
	}
	opened = 0;
	if ((rc = avio_closep(&oc->pb)) < 0) {
		remux_fail(err, errlen, out_path, "write", rc);
		goto out;
	}
	if (chmod(tmp, 0644) == -1 || rename(tmp, out_path) == -1) {
		snprintf(err, errlen, "remux: %s: %s", out_path, strerror(errno));
		goto out;
	}
	made = 0;

	for (i = 0; i < ntracks; i++) {
		if (tracks[i].ist->codecpar->codec_type == AVMEDIA_TYPE_VIDEO)
			info->n_video++;
		else
			info->n_audio++;
		if (!tracks[i].started)
			continue;
		if (tracks[i].first_us < first)
			first = tracks[i].first_us;
		if (tracks[i].end_us > end)
			end = tracks[i].end_us;
	}
	if (first != INT64_MAX)
		info->duration = (double)(end - first) / AV_TIME_BASE;
	ret = 0;
out:
	if (oc != NULL) {
		if (opened)
			avio_closep(&oc->pb);
		avformat_free_context(oc);
	}
	if (made)
		unlink(tmp);
	for (i = 0; i < n && i < INPUTS_MAX; i++)
		remux_src_close(&srcs[i]);
	return ret;
}

#else /* !EMBERD_REMUX */

int
remux_available(void)
{
	return 0;
}

int
remux_to_mp4(const struct remux_input *in, size_t n, const char *out_path,
    struct remux_info *info, char *err, size_t errlen)
{
	snprintf(err, errlen, "remux: %s: built without the remux feature",
	    out_path);
	return -1;
}

#endif /* EMBERD_REMUX */

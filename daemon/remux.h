/*
 * HLS captures to MP4: a stream copy with libavformat (never a
 * re-encode) of a stored MPEG-TS or fragmented MP4 capture, and of a
 * separate audio rendition beside it, into one MP4 whose moov atom comes
 * first, so that every browser plays it while it downloads. Optional:
 * built only with the meson feature `remux` (libavformat, libavcodec,
 * libavutil); without it the functions fail and remux_available() says 0.
 */

#ifndef EMBERD_REMUX_H
#define EMBERD_REMUX_H

#include <stddef.h>
#include <stdint.h>

/*
 * One input as the store holds it: LEN bytes from offset 0 of FD (an
 * object file: what follows LEN, the metadata trailer, is never read),
 * either the content itself or, with GZIP set, one gzip member of it
 * that is inflated as it is read (then the input cannot seek). FD is
 * read with pread only: its file offset is left alone, and it stays the
 * caller's to close.
 */
struct remux_input { int fd; uint64_t len; int gzip; };

/*
 * What remux_to_mp4 wrote: the duration in seconds (from the earliest
 * packet to the end of the latest) and how many video and audio streams
 * the MP4 holds.
 */
struct remux_info { double duration; unsigned n_video, n_audio; };

/* 1 when built with libavformat. */
int remux_available(void);

/*
 * Copy every audio and video stream of the N inputs (MPEG-TS, or
 * fragmented MP4 / ADTS AAC / MP3 / AC-3 / Matroska / FLV, whatever of
 * those libavformat probes) into one MP4 at OUT_PATH, moov first
 * (`movflags=+faststart`). Typical use: one TS capture -> MP4; or a video
 * capture + a separate audio rendition -> one MP4 with both.
 *
 * Timestamps: rebased so every input starts at 0 (its streams keep their
 * offsets to each other, so lip sync survives); a discontinuity
 * (timestamps jumping back or more than 10 s forward, as after an HLS
 * EXT-X-DISCONTINUITY or an MPEG-TS PTS wrap) is made continuous by an
 * offset per stream, shared by the streams of one input that jump to the
 * same new timeline, so the mp4 muxer never sees non-monotonic DTS.
 * Inputs are read in step (always the one whose clock is behind), so the
 * MP4 comes out interleaved. Subtitle, data and cover-art streams are
 * dropped; an audio or video codec that MP4 cannot carry fails the call.
 *
 * OUT_PATH is written as a temp file beside it, made 0644 and renamed
 * over OUT_PATH only when complete (not fsynced: the caller ingests it);
 * on failure nothing is left. Blocking (it reads and writes all the media):
 * run it off the event loop (a work-queue job). Reentrant: each call has
 * its own contexts. Memory: libavformat's probe and interleaving queues
 * and I/O buffers (a few MiB) plus the MP4 sample table, about 50 bytes
 * a packet (roughly 25 MiB for two hours of 30 fps video with AAC); not
 * the input's size. At most 8 inputs and 4 Mi packets (the limits atop
 * remux.c).
 *
 * 0 with INFO filled, or -1 with ERR ("remux: NAME: what", NAME being
 * "input N" counted from 1, or OUT_PATH).
 */
int remux_to_mp4(const struct remux_input *in, size_t n, const char *out_path,
    struct remux_info *info, char *err, size_t errlen);

#endif

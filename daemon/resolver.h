/*
 * A source's media URLs from yt-dlp: `yt-dlp --dump-single-json` run as
 * a child process on the caller's event loop (never linked, maybe not
 * installed), and a reader of its JSON answer. emberd downloads what the
 * answer names with its own transfers; yt-dlp only resolves.
 *
 * Limits, and why:
 * - RESOLVER_OUTPUT_MAX: what yt-dlp may print on stdout before it is
 *   killed. A real answer is 10 KiB (a plain page) to a few MiB (a
 *   long video with every format, fragment and caption listed); the
 *   whole answer is held in memory to be parsed, so this is also the
 *   buffer's bound.
 * - RESOLVER_STDERR_KEEP: the tail of stderr kept for the error message
 *   (its last non-empty line); the rest is read and dropped, so a chatty
 *   child costs no memory.
 * - RESOLVER_JSON_COST_MAX: what jansson's tree of an answer may cost,
 *   in units of about 48 bytes, counted before it is built. The tree
 *   costs 20 to 100 times the text (16 MiB of "[0,0,0,..." would cost
 *   a gigabyte); a real answer costs some tens of thousands of units (a
 *   DASH video's fragment lists are the bulk). Measured on the worst
 *   shapes, the cap holds a parse to about 48 MiB, plus the strings'
 *   own bytes (at most the answer's), and only while it runs.
 * - RESOLVER_MEDIA_MAX: requested formats in one answer (yt-dlp merges
 *   at most a video and an audio or two; more is nonsense).
 * - RESOLVER_HEADERS_MAX, RESOLVER_HEADER_MAX: headers per medium and
 *   bytes per "Name: value" line, as an origin's would be refused.
 * - RESOLVER_URL_MAX: a media URL's bytes (signed CDN URLs run to 2 or
 *   3 KiB); RESOLVER_TITLE_MAX and RESOLVER_DESCRIPTION_MAX: longer texts
 *   are cut at a character boundary; RESOLVER_WORD_MAX: ext, protocol,
 *   format_id and codecs (a few bytes in practice).
 * - RESOLVER_REAP_MS: how long a killed child may take to be reaped
 *   before it is left as a zombie (a process stuck in the kernel).
 */
#ifndef EMBERD_RESOLVER_H
#define EMBERD_RESOLVER_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#define RESOLVER_OUTPUT_MAX		(16u << 20)
#define RESOLVER_STDERR_KEEP		2048
#define RESOLVER_JSON_COST_MAX		(1u << 20)
#define RESOLVER_MEDIA_MAX		8
#define RESOLVER_HEADERS_MAX		32
#define RESOLVER_HEADER_MAX		8192
#define RESOLVER_URL_MAX		16384
#define RESOLVER_TITLE_MAX		1024
#define RESOLVER_DESCRIPTION_MAX	4096
#define RESOLVER_WORD_MAX		128
#define RESOLVER_REAP_MS		5000

/*
 * One medium to download. URL is http or https, without control
 * characters. EXT (letters, digits, '_'; safe in a file name),
 * PROTOCOL ("https", "m3u8_native", "m3u8", "http_dash_segments", ...),
 * FORMAT_ID, VCODEC and ACODEC ("none" for an audio-only or video-only
 * format) are NULL when yt-dlp gave none. HEADERS are what the request
 * must carry ("Name: value", no CR or LF, the name a non-empty token).
 */
struct resolver_media {
	char *url, *ext, *protocol, *format_id, *vcodec, *acodec;	/* ext.. may be NULL */
	char **headers; size_t n_headers;	/* "Name: value" */
	uint64_t size;		/* yt-dlp's claim, 0 unknown: not trusted */
};

/*
 * What a URL resolved to: the texts (valid UTF-8, NULL when absent) and
 * one medium, or more (yt-dlp's requested formats, usually the video
 * and then the audio, to be downloaded separately; at most
 * RESOLVER_MEDIA_MAX).
 */
struct resolver_result {
	char *title, *description, *id, *webpage_url;	/* or NULL */
	struct resolver_media *media; size_t n_media;	/* at least 1 */
};

struct resolver_opts {
	const char *program;	/* NULL: "yt-dlp" on PATH */
	const char *proxy, *user_agent;	/* or NULL */
	long timeout_s;		/* > 0 */
	size_t max_output;	/* 0: RESOLVER_OUTPUT_MAX (16 MiB) */
};

/*
 * How a job ends: exactly one of RES and ERR is non-NULL. ERR is one
 * line ("yt-dlp gave no answer within 30 s", "yt-dlp exited with status
 * 1: ERROR: Unsupported URL: ...") valid during the call. RES is valid
 * during the call and what it points to is the callee's: free it with
 * resolver_result_free(res), or keep it by copying the struct (*mine =
 * *res) and free that copy later. The job is already freed when FN
 * runs: forget its pointer, never cancel it.
 */
typedef void (*resolver_done_fn)(void *arg, struct resolver_result *res, const char *err);
	/* exactly one of RES (owned by the callee: free with resolver_result_free) and ERR is non-NULL */

struct resolver_job;

/*
 * Run yt-dlp on URL on BASE (opts: see struct resolver_opts; URL comes
 * after "--", so it is never read as an option):
 *
 *   yt-dlp --dump-single-json --no-playlist --no-warnings --no-progress
 *     --ignore-config --no-cache-dir --socket-timeout 30
 *     -f "b[ext=mp4]/b/bv*+ba" [--proxy P] [--user-agent UA] -- URL
 *
 * The child gets /dev/null as stdin, two pipes as stdout and stderr,
 * the caller's environment (PATH, HOME), default signal dispositions,
 * no other descriptor, and a process group of its own: a timeout, an
 * output over the limit or resolver_cancel kill the group (yt-dlp and
 * anything it started), and so does its normal end (nothing it started
 * outlives it). Its output is read as it comes through two events on
 * BASE; the loop is never blocked. Once the child is reaped (polled
 * with WNOHANG on a timer: no SIGCHLD handler is installed, the
 * daemon's signal handling is its own) the answer is parsed: as an
 * ingest job of the work queue when it runs (workq_start, whose loop
 * must be BASE), else on the loop. Then FN is called once, from the
 * loop, never from within resolver_start or a workq_drain.
 *
 * Memory: the answer (at most max_output bytes), 2 KiB of stderr and
 * the parse (see RESOLVER_JSON_COST_MAX). NULL with ERR set when the child
 * could not be started ("yt-dlp is not installed (apt-get install
 * yt-dlp)", no pipe, out of memory); FN is then never called.
 */
struct resolver_job *resolver_start(struct event_base *base, const struct resolver_opts *o, const char *url,
    resolver_done_fn fn, void *arg, char *err, size_t errlen);

/*
 * Kill the child's process group (if it still runs), reap it, free J;
 * FN is not called. Only for a job whose FN has not run: once FN runs,
 * the module has freed J already, so a caller clears its pointer in FN
 * and cancels only what it still holds. Safe from another job's FN.
 * A job whose answer is being parsed by the work queue is only marked:
 * the parse's end frees it (workq_stop runs that end at the latest).
 * Cost: the reap waits for the killed child, normally well under a
 * millisecond; a child that the kernel holds longer than
 * RESOLVER_REAP_MS is left as a zombie, with a warning.
 */
void resolver_cancel(struct resolver_job *j);

/*
 * Read yt-dlp's answer: JSON (LEN bytes, no NUL needed) with an object
 * at the top. Takes title, description, id, webpage_url and the media:
 * one per element of `requested_formats` when that is a non-empty
 * array, else the top level's own `url` and format fields. 0 with OUT
 * filled (free with resolver_result_free), or -1 with ERR set and OUT
 * zeroed: "yt-dlp's answer is not JSON: <jansson's reason>", "yt-dlp's
 * answer has no media URL", "yt-dlp gave a non-http URL", a field of
 * the wrong type or over a limit. No I/O. Cost: one pass to weigh the
 * text, then jansson's parse (see RESOLVER_JSON_COST_MAX): some 40 ms a
 * MiB, on the caller's thread.
 */
int resolver_parse(const char *json, size_t len, struct resolver_result *out, char *err, size_t errlen);

/* Free everything R holds and zero it; R itself is the caller's (on
 * the stack, or FN's argument). NULL or a zeroed R are fine. */
void resolver_result_free(struct resolver_result *r);

#endif

/*
 * An HLS capture (RFC 8216), one crawl job's life after its URL turned
 * out to be a playlist: a master playlist gives jobs for the variants
 * [source] variant picks (and their separate audio); a media playlist
 * is captured segment after segment, on the crawler's curl loop, into
 * one ingest: fMP4's init section first, AES-128 segments decrypted,
 * byte ranges honoured, a live playlist re-read every target duration
 * until it ends or [crawl] timeout. Readers get one playable file, never
 * the playlist.
 *
 * Resume: the capture's bytes also go to KEY.part as they come (plain
 * writes: the ingest holds up to a slot of a MiB before its own file
 * sees them, and a capture of small segments would otherwise keep
 * nothing), and after each segment a line "SEQ BYTES" is appended to
 * KEY.hls. A capture cut by a crash goes on after the last segment whose
 * bytes all reached KEY.part; no finished segment is fetched again. The
 * copy costs one more write of the capture's bytes (to the page cache).
 */
#include "crawl_job.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "fsutil.h"
#include "hexutil.h"
#include "hls_playlist.h"
#include "log.h"
#include "urls.h"

/*
 * Limits, and why:
 * - KEY_MAX: an AES-128 key is 16 bytes; an answer longer than this is
 *   not a key.
 * - MAP_MAX: an init section holds the track headers; a few KiB.
 * - SEG_BUF: decrypted bytes per write callback (libcurl hands at most
 *   RECV_BUFFER at once; CBC may give back one block more).
 * - RELOAD_MIN_MS: a live playlist is not re-read more often than this,
 *   whatever its target duration says.
 */
#define KEY_MAX		1024
#define MAP_MAX		(16u << 20)
#define SEG_BUF		(RECV_BUFFER + 64)
#define RELOAD_MIN_MS	500

enum hls_what { HX_PLAYLIST, HX_KEY, HX_MAP, HX_SEGMENT };

struct crawl_hls {
	char *url;			/* the media playlist */
	struct hls_playlist pl;
	int have_pl;
	int capturing;			/* the ingest is set up */
	size_t seg;			/* index in pl.segments of the next one */
	uint64_t next_seq;		/* the first media sequence number not captured */
	uint64_t bytes;			/* captured, at the last segment's end */
	int64_t started_ms;
	enum hls_what what;
	struct crawl_doc_buf mem;	/* a playlist, key or init section */
	EVP_CIPHER_CTX *aes;
	char *key_uri;
	unsigned char key[16];
	int decrypting;			/* this segment goes through AES */
	char *map_uri;			/* the init section written last */
	uint64_t map_off;
	int fmp4;
	unsigned attempt;
	uint64_t recv;			/* body bytes of this segment taken so far */
	uint64_t skip;			/* ...to drop of a 200 to a retried range */
	int range;			/* this request asked for a range */
	int fresh;			/* no body byte of this answer yet */
	char digest[65];		/* of the media playlist's bytes */
	int bounds_fd;			/* KEY.hls */
	/* resume */
	int rehash_fd;
	uint64_t rehash_to, rehashed;
	unsigned char *buf;		/* SEG_BUF: decrypted bytes */
	uint64_t prov_start;		/* bytes of the capture when this request began */
};

static void hls_next(struct crawl_job *j);
static int hls_capture_begin(struct crawl_job *j);
static void hls_prov_load(struct crawl_job *j, uint64_t bytes);
static void hls_transfer(struct crawl_job *j, enum hls_what what, const char *url,
    int has_range, uint64_t off, uint64_t len);

void
crawl_hls_free(struct crawl_job *j)
{
	struct crawl_hls *h = j->hls;

	if (h == NULL)
		return;
	j->hls = NULL;
	free(h->url);
	if (h->have_pl)
		hls_playlist_free(&h->pl);
	free(h->mem.p);
	EVP_CIPHER_CTX_free(h->aes);
	free(h->key_uri);
	free(h->map_uri);
	if (h->bounds_fd != -1)
		close(h->bounds_fd);
	if (h->rehash_fd != -1)
		close(h->rehash_fd);
	free(h->buf);
	free(h);
}

static struct crawl_hls *
hls_new(struct crawl_job *j, const char *url)
{
	struct crawl_hls *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return NULL;
	h->bounds_fd = -1;
	h->rehash_fd = -1;
	if ((h->url = strdup(url)) == NULL || (h->buf = malloc(SEG_BUF)) == NULL ||
	    (h->aes = EVP_CIPHER_CTX_new()) == NULL) {
		j->hls = h;
		crawl_hls_free(j);
		return NULL;
	}
	h->started_ms = crawl_now_ms();
	j->hls = h;
	/* A playlist found by "auto" is known as one from now on. */
	j->src.kind = SOURCE_HLS;
	return h;
}

static void
hls_fail(struct crawl_job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The capture ends without an item; what was captured stays for a
 * resume. */
static void
hls_fail(struct crawl_job *j, const char *fmt, ...)
{
	char why[ERRLEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (j->hls != NULL && j->hls->bounds_fd != -1) {
		close(j->hls->bounds_fd);
		j->hls->bounds_fd = -1;
	}
	if (j->easy != NULL) {
		curl_easy_cleanup(j->easy);
		j->easy = NULL;
	}
	job_failed(j, why, 1);
}

/* STEM: [source] stem, else the name without its extension, else the key. */
static char *
hls_stem(const struct crawl_job *j)
{
	const char *n = j->src.name;
	const char *dot;

	if (j->src.stem != NULL)
		return strdup(j->src.stem);
	if (n != NULL && (dot = strrchr(n, '.')) != NULL && dot != n)
		return strndup(n, (size_t)(dot - n));
	if (n != NULL)
		return strdup(n);
	return strdup(j->src.key);
}

/* ---- a master playlist: jobs for the variants ---- */

static struct crawl_job *
hls_found(struct crawl_job *j, const char *url, const char *stem, int remux)
{
	struct crawl_job *f = crawler_add_found(j->cr, j, url, NULL);

	if (f == NULL)
		return NULL;
	f->src.kind = SOURCE_HLS;
	f->src.child = 0;
	f->src.remux = remux;
	free(f->src.page);
	f->src.page = NULL;
	f->src.stem = strdup(stem);
	f->src.title = xstrdup(j->src.title);
	f->src.description = xstrdup(j->src.description);
	free(f->src.id);
	if (asprintf(&f->src.id, "%s: %s", f->src.source, stem) == -1)
		f->src.id = strdup(f->src.source);
	for (size_t k = 0; k < j->src.n_headers; k++) {
		char **v = reallocarray(f->src.headers, f->src.n_headers + 1, sizeof(char *));
		if (v == NULL)
			break;
		f->src.headers = v;
		if ((v[f->src.n_headers] = strdup(j->src.headers[k])) != NULL)
			f->src.n_headers++;
	}
	/* The master playlist is where the variant was found: its capture
	 * opens the variant's record (each variant's, so each record holds
	 * the whole path from the source's URL). */
	if (j->prov_caps != NULL && json_array_size(j->prov_caps) > 0 &&
	    (f->prov_caps = json_deep_copy(j->prov_caps)) == NULL)
		log_warn("%s %s: the master playlist's capture is not in the variant's "
		    "record: out of memory", j->cr->tag, f->src.id);
	return f;
}

static void
hls_master(struct crawl_job *j, struct hls_playlist *pl)
{
	struct crawler *cr = j->cr;
	struct hls_choice c = { HLS_BEST, 0 };
	size_t *idx = calloc(pl->n_variants + 1, sizeof(size_t)), n, i;
	char *stem = hls_stem(j);

	switch (j->src.variant) {
	case VARIANT_BEST: c.kind = HLS_BEST; break;
	case VARIANT_SMALLEST: c.kind = HLS_SMALLEST; break;
	case VARIANT_ALL: c.kind = HLS_ALL; break;
	case VARIANT_BANDWIDTH: c.kind = HLS_BANDWIDTH; c.bandwidth = j->src.bandwidth; break;
	}
	if (idx == NULL || stem == NULL) {
		free(idx);
		free(stem);
		hls_fail(j, "out of memory");
		return;
	}
	n = hls_choose(pl, &c, idx);
	if (n == 0) {
		free(idx);
		free(stem);
		hls_fail(j, "master playlist without variants");
		return;
	}
	for (i = 0; i < n; i++) {
		const struct hls_variant *v = &pl->variants[idx[i]];
		const struct hls_rendition *a = hls_audio_for(pl, v);
		char *vs = NULL, *as = NULL;
		struct crawl_job *fv, *fa;

		if (n > 1) {
			if (asprintf(&vs, "%s-%llu", stem, (unsigned long long)v->bandwidth) == -1)
				vs = NULL;
		} else
			vs = strdup(stem);
		if (vs == NULL)
			continue;
		if (a == NULL || a->uri == NULL) {
			hls_found(j, v->uri, vs, 1);
			free(vs);
			continue;
		}
		/* Video and audio apart: two captures, and with the remux
		 * feature one MP4 of both. */
		{
			char *video = NULL;
			if (asprintf(&video, "%s-video", vs) == -1 ||
			    asprintf(&as, "%s-audio", vs) == -1) {
				free(video);
				free(vs);
				continue;
			}
			fv = hls_found(j, v->uri, video, 0);
			fa = hls_found(j, a->uri, as, 0);
			if (fv != NULL && fa != NULL) {
				const char *keys[2] = { fv->src.key, fa->src.key };
				char *merged = NULL;
				if (asprintf(&merged, "%s.mp4", vs) != -1)
					crawler_derive_add(cr, j->src.source, merged, keys, 2,
					    j->src.lang, j->src.title);
				free(merged);
			}
			free(video);
			free(as);
			free(vs);
		}
	}
	log_info("%s %s: master playlist: %zu variant%s, taking %zu", cr->tag, j->src.id,
	    pl->n_variants, pl->n_variants == 1 ? "" : "s", n);
	free(idx);
	free(stem);
	hls_playlist_free(pl);
	if (j->easy != NULL) {
		curl_easy_cleanup(j->easy);
		j->easy = NULL;
	}
	j->phase = J_DONE;
	crawler_source_ok(cr, j->src.source);
	cr->active--;
	crawler_check_end(cr);
}

/* ---- a media playlist: the capture ---- */

static char *
hls_bounds_path(const struct crawl_job *j)
{
	return crawl_state_path(j->cr->dir, j->src.key, ".hls");
}

/*
 * A capture cut earlier: the last "SEQ BYTES" of KEY.hls whose bytes
 * are all in KEY.part. 1 with *SEQ, *BYTES; 0 none.
 */
static int
hls_resume_point(const struct crawl_job *j, uint64_t *seq, uint64_t *bytes)
{
	char *bp = hls_bounds_path(j), *pp = crawl_state_path(j->cr->dir, j->src.key, ".part");
	char *buf = NULL;
	size_t len;
	struct stat sb;
	int found = 0;

	if (bp != NULL && pp != NULL && stat(pp, &sb) == 0 &&
	    fsutil_read_file(bp, 16u << 20, &buf, &len) == 0) {
		char *line = buf, *nl;
		while (line < buf + len && (nl = memchr(line, '\n', (size_t)(buf + len - line)))) {
			unsigned long long s, b;
			*nl = '\0';
			if (sscanf(line, "%llu %llu", &s, &b) == 2 && b <= (unsigned long long)sb.st_size) {
				*seq = s;
				*bytes = b;
				found = 1;
			}
			line = nl + 1;
		}
	}
	free(buf);
	free(bp);
	free(pp);
	return found;
}

static void
hls_rehash_cb(evutil_socket_t fd, short what, void *arg)
{
	struct crawl_job *j = arg;
	struct crawl_hls *h = j->hls;
	uint64_t done = 0;

	while (h->rehashed < h->rehash_to && done < REHASH_STEP) {
		uint64_t want = h->rehash_to - h->rehashed;
		ssize_t n = pread(h->rehash_fd, h->buf, want < SEG_BUF ? (size_t)want : SEG_BUF,
		    (off_t)h->rehashed);
		if (n <= 0 || ingest_write(j->in, h->buf, (size_t)n) == -1)
			break;
		h->rehashed += (uint64_t)n;
		done += (uint64_t)n;
	}
	if (h->rehashed < h->rehash_to && done > 0) {
		struct timeval now = { 0, 0 };
		evtimer_add(j->timer, &now);
		return;
	}
	close(h->rehash_fd);
	h->rehash_fd = -1;
	event_free(j->timer);
	j->timer = NULL;
	if (h->rehashed < h->rehash_to) {
		/* Unreadable: from the start. */
		log_info("%s %s: the kept capture is unreadable; starting over", j->cr->tag,
		    j->src.id);
		ingest_free(j->in);
		j->in = NULL;
		h->capturing = 0;
		job_drop_part_save(j, 1);
		h->next_seq = 0;
		h->bytes = 0;
		h->seg = 0;
		if (hls_capture_begin(j) == -1)
			return;
	} else {
		char *path = crawl_state_path(j->cr->dir, j->src.key, ".part");
		/* What came after the last whole segment goes; the rest
		 * follows it. */
		if (path != NULL && truncate(path, (off_t)h->bytes) == 0)
			j->part_fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
		free(path);
		j->ingested = h->bytes;
		log_info("%s %s: resuming the capture after %llu bytes", j->cr->tag, j->src.id,
		    (unsigned long long)h->bytes);
	}
	hls_next(j);
}

/* The ingest for a new capture, or the kept one checked again. */
static int
hls_capture_begin(struct crawl_job *j)
{
	struct crawler *cr = j->cr;
	struct crawl_hls *h = j->hls;
	char err[ERRLEN], *path, *bp;
	uint64_t seq = 0, bytes = 0;
	int resume;

	resume = j->state.part_url != NULL && strcmp(j->state.part_url, h->url) == 0 &&
	    j->state.part_validator != NULL && strcmp(j->state.part_validator, "hls") == 0 &&
	    hls_resume_point(j, &seq, &bytes) && bytes > 0;
	if ((j->in = ingest_new(cr->st, 0, err, sizeof(err))) == NULL) {
		hls_fail(j, "%s", err);
		return -1;
	}
	ingest_store_raw(j->in);
	h->capturing = 1;
	path = crawl_state_path(cr->dir, j->src.key, ".part");
	bp = hls_bounds_path(j);
	if (path == NULL || bp == NULL) {
		free(path);
		free(bp);
		hls_fail(j, "out of memory");
		return -1;
	}
	if (resume) {
		h->rehash_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (h->rehash_fd == -1)
			resume = 0;
	}
	if (!resume) {
		unlink(bp);
		j->part_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		crawl_state_set(&j->state.part_url, h->url);
		crawl_state_set(&j->state.part_validator, "hls");
		crawl_state_set(&j->state.kind, "hls");
		job_save_state(j);
	}
	if (resume || j->part_fd != -1)
		h->bounds_fd = open(bp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	free(path);
	free(bp);
	if (!resume) {
		char *pv = crawl_state_path(cr->dir, j->src.key, ".hlsprov");
		if (pv != NULL)
			unlink(pv);
		free(pv);
		return 0;
	}
	hls_prov_load(j, bytes);
	h->next_seq = seq + 1;
	h->bytes = bytes;
	h->rehash_to = bytes;
	h->rehashed = 0;
	j->phase = J_REHASH;
	if (j->timer != NULL)
		event_free(j->timer);
	j->timer = evtimer_new(cr->base, hls_rehash_cb, j);
	log_info("%s %s: %llu bytes (to segment %llu) kept from an earlier capture; checking them",
	    cr->tag, j->src.id, (unsigned long long)bytes, (unsigned long long)seq);
	{
		struct timeval now = { 0, 0 };
		evtimer_add(j->timer, &now);
	}
	return 1;
}

/* The capture is complete: the item goes the way of any file. */
static void
hls_finish(struct crawl_job *j)
{
	struct crawl_hls *h = j->hls;
	char *stem = hls_stem(j), *name = NULL;
	const char *ext = h->fmp4 ? "mp4" : "ts";

	if (h->have_pl && h->pl.n_segments > 0 && !h->fmp4) {
		const char *u = h->pl.segments[0].uri, *q = u + strcspn(u, "?#"), *d = q;
		while (d > u && d[-1] != '.' && d[-1] != '/')
			d--;
		if (d > u && d[-1] == '.' && (size_t)(q - d) == 3 && strncmp(d, "aac", 3) == 0)
			ext = "aac";
	}
	if (stem == NULL || asprintf(&name, "%s.%s", stem, ext) == -1) {
		free(stem);
		hls_fail(j, "out of memory");
		return;
	}
	if (h->bounds_fd != -1) {
		close(h->bounds_fd);
		h->bounds_fd = -1;
	}
	free(j->src.name);
	j->src.name = name;
	free(j->src.type);
	j->src.type = strdup(h->fmp4 ? "video/mp4" : strcmp(ext, "aac") == 0 ? "audio/aac" :
	    "video/mp2t");
	crawl_state_set(&j->state.hls, h->digest);
	crawl_headers_reset(&j->h);
	if (!h->fmp4 && j->src.remux && strcmp(ext, "ts") == 0) {
		char *mp4 = NULL;
		const char *keys[1] = { j->src.key };
		if (asprintf(&mp4, "%s.mp4", stem) != -1)
			crawler_derive_add(j->cr, j->src.source, mp4, keys, 1, j->src.lang,
			    j->src.title);
		free(mp4);
	}
	free(stem);
	log_info("%s %s: captured %zu segments, %.1f s, %llu bytes", j->cr->tag, j->src.id,
	    h->have_pl ? h->pl.n_segments : 0, h->have_pl ? h->pl.total_duration : 0.0,
	    (unsigned long long)h->bytes);
	if (j->easy != NULL) {
		curl_easy_cleanup(j->easy);
		j->easy = NULL;
	}
	j->url_i = 0;
	j->finished = 0;
	j->phase = J_ACTIVE;
	job_complete(j);
}

/* A media playlist arrived: first, or re-read while live. */
static void
hls_media(struct crawl_job *j, struct hls_playlist *pl, const char *buf, size_t len)
{
	struct crawl_hls *h = j->hls;
	unsigned char md[32];
	size_t i;

	for (i = 0; i < pl->n_keys; i++)
		if (pl->keys[i].method == HLS_KEY_UNSUPPORTED) {
			hls_fail(j, "HLS encryption %s is not supported (DRM)",
			    pl->keys[i].method_name != NULL ? pl->keys[i].method_name : "?");
			hls_playlist_free(pl);
			return;
		}
	EVP_Digest(buf, len, md, NULL, EVP_sha256(), NULL);
	hex_encode(md, 32, h->digest);
	if (h->have_pl)
		hls_playlist_free(&h->pl);
	h->pl = *pl;
	h->have_pl = 1;
	h->fmp4 = h->fmp4 || pl->fmp4;
	/* The next segment of the new list: the first not captured. */
	for (h->seg = 0; h->seg < h->pl.n_segments &&
	    h->pl.segments[h->seg].seq < h->next_seq; h->seg++)
		;
	if (!h->capturing) {
		/* The same finished playlist as the last capture: unchanged. */
		if (h->pl.endlist && j->state.hls != NULL && strcmp(j->state.hls, h->digest) == 0 &&
		    j->state.sha256 != NULL && store_has_object(j->cr->st, j->state.sha256)) {
			char *stem = hls_stem(j), *mp4 = NULL;
			const char *keys[1] = { j->src.key };
			if (!h->fmp4 && j->src.remux && stem != NULL &&
			    asprintf(&mp4, "%s.mp4", stem) != -1)
				crawler_derive_add(j->cr, j->src.source, mp4, keys, 1, j->src.lang,
				    j->src.title);
			free(mp4);
			free(stem);
			if (j->easy != NULL) {
				curl_easy_cleanup(j->easy);
				j->easy = NULL;
			}
			job_unchanged(j, j->state.name != NULL ? j->state.name : j->src.key);
			return;
		}
		switch (hls_capture_begin(j)) {
		case -1:
			return;
		case 1:
			return;		/* hls_rehash_cb goes on */
		}
	}
	hls_next(j);
}

void
crawl_hls_playlist(struct crawl_job *j, const char *buf, size_t len)
{
	struct crawl_hls *h = j->hls;
	struct hls_playlist pl;
	char err[ERRLEN];

	if (h == NULL && (h = hls_new(j, j->eff_url != NULL ? j->eff_url :
	    j->src.urls[j->url_i])) == NULL) {
		hls_fail(j, "out of memory");
		return;
	}
	memset(&pl, 0, sizeof(pl));
	if (hls_parse(buf, len, h->url, &pl, err, sizeof(err)) == -1) {
		hls_playlist_free(&pl);
		hls_fail(j, "playlist %s", err);
		return;
	}
	if (pl.master) {
		if (h->capturing) {
			hls_playlist_free(&pl);
			hls_fail(j, "the media playlist became a master playlist");
			return;
		}
		hls_master(j, &pl);
		return;
	}
	hls_media(j, &pl, buf, len);
}

void
crawl_hls_start(struct crawl_job *j)
{
	struct crawl_hls *h = hls_new(j, j->src.urls[j->url_i]);

	if (h == NULL) {
		hls_fail(j, "out of memory");
		return;
	}
	j->phase = J_ACTIVE;
	hls_transfer(j, HX_PLAYLIST, h->url, 0, 0, 0);
}

static void
hls_reload_cb(evutil_socket_t fd, short what, void *arg)
{
	struct crawl_job *j = arg;

	hls_transfer(j, HX_PLAYLIST, j->hls->url, 0, 0, 0);
}

static void
hls_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	hls_next(arg);
}

/* What comes next: a key, an init section, a segment, a re-read of a
 * live playlist, or the end. */
static void
hls_next(struct crawl_job *j)
{
	struct crawler *cr = j->cr;
	struct crawl_hls *h = j->hls;
	const struct hls_segment *s;

	j->phase = J_ACTIVE;
	/* Segments a resumed capture holds already are not asked for. */
	while (h->seg < h->pl.n_segments && h->pl.segments[h->seg].seq < h->next_seq)
		h->seg++;
	if (h->seg >= h->pl.n_segments) {
		int64_t ran = crawl_now_ms() - h->started_ms;
		long wait;
		struct timeval tv;
		if (h->pl.endlist) {
			hls_finish(j);
			return;
		}
		if (ran >= (int64_t)cr->timeout * 1000) {
			log_info("%s %s: live stream still going after %ld s ([crawl] timeout): "
			    "keeping what was captured", cr->tag, j->src.id, cr->timeout);
			if (h->bytes == 0) {
				hls_fail(j, "live stream gave no segment within %ld s", cr->timeout);
				return;
			}
			hls_finish(j);
			return;
		}
		wait = (long)(h->pl.target_duration * 1000);
		if (wait < RELOAD_MIN_MS)
			wait = RELOAD_MIN_MS;
		if (j->timer != NULL)
			event_free(j->timer);
		j->timer = evtimer_new(cr->base, hls_reload_cb, j);
		tv.tv_sec = wait / 1000;
		tv.tv_usec = (wait % 1000) * 1000;
		j->phase = J_BACKOFF;
		if (j->timer == NULL || evtimer_add(j->timer, &tv) == -1)
			hls_fail(j, "out of memory");
		return;
	}
	s = &h->pl.segments[h->seg];
	if (s->key >= 0) {
		const struct hls_key *k = &h->pl.keys[s->key];
		if (k->method == HLS_KEY_AES128 && (h->key_uri == NULL ||
		    strcmp(h->key_uri, k->uri) != 0)) {
			hls_transfer(j, HX_KEY, k->uri, 0, 0, 0);
			return;
		}
	}
	if (s->map >= 0) {
		const struct hls_map *m = &h->pl.maps[s->map];
		if (h->map_uri == NULL || strcmp(h->map_uri, m->uri) != 0 ||
		    h->map_off != (m->has_range ? m->offset : 0)) {
			hls_transfer(j, HX_MAP, m->uri, m->has_range, m->offset, m->length);
			return;
		}
	}
	h->decrypting = s->key >= 0 && h->pl.keys[s->key].method == HLS_KEY_AES128;
	if (h->recv == 0 && h->decrypting) {
		unsigned char iv[16];
		hls_segment_iv(&h->pl.keys[s->key], s, iv);
		if (EVP_DecryptInit_ex(h->aes, EVP_aes_128_cbc(), NULL, h->key, iv) != 1) {
			hls_fail(j, "AES-128 setup failed");
			return;
		}
	}
	hls_transfer(j, HX_SEGMENT, s->uri, s->has_range, s->offset, s->length);
}

/* ---- transfers ---- */

static size_t
hls_header_cb(char *buf, size_t size, size_t n, void *arg)
{
	struct crawl_job *j = arg;

	crawl_headers_line(&j->h, buf, size * n);
	return size * n;
}

/* Capture bytes: into the ingest, and into KEY.part for a resume. */
static int
hls_out(struct crawl_job *j, const void *p, size_t n)
{
	if (n == 0)
		return 0;
	if (ingest_write(j->in, p, n) == -1) {
		snprintf(j->reason, sizeof(j->reason), "%s", ingest_error(j->in));
		j->fatal = 1;
		return -1;
	}
	j->ingested += n;
	if (j->part_fd != -1 && fsutil_write_all(j->part_fd, p, n) == -1) {
		/* The capture goes on; only its resume is lost. */
		char *bp = hls_bounds_path(j);
		close(j->part_fd);
		j->part_fd = -1;
		if (j->hls->bounds_fd != -1) {
			close(j->hls->bounds_fd);
			j->hls->bounds_fd = -1;
		}
		if (bp != NULL)
			unlink(bp);
		free(bp);
	}
	return 0;
}

/* Bytes of a segment: decrypted when keyed, into the capture. */
static int
hls_take(struct crawl_job *j, const unsigned char *p, size_t n)
{
	struct crawl_hls *h = j->hls;
	int outl = 0;

	if (!h->decrypting)
		return hls_out(j, p, n);
	while (n > 0) {
		size_t k = n > RECV_BUFFER ? RECV_BUFFER : n;
		if (EVP_DecryptUpdate(h->aes, h->buf, &outl, p, (int)k) != 1) {
			snprintf(j->reason, sizeof(j->reason), "AES-128 decryption failed");
			j->fatal = 1;
			return -1;
		}
		if (hls_out(j, h->buf, (size_t)outl) == -1)
			return -1;
		p += k;
		n -= k;
	}
	return 0;
}

static size_t
hls_write_cb(char *buf, size_t size, size_t n, void *arg)
{
	struct crawl_job *j = arg;
	struct crawl_hls *h = j->hls;
	size_t len = size * n, take = len;
	long status = 0;

	curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200 && status != 206)
		return len;	/* an error page: hls_done says why */
	if (h->what != HX_SEGMENT) {
		struct crawl_doc_buf *d = &h->mem;
		if (d->len + len > d->max) {
			snprintf(j->reason, sizeof(j->reason), "%s larger than %zu bytes",
			    h->what == HX_KEY ? "key" : h->what == HX_MAP ? "init section" :
			    "playlist", d->max);
			j->fatal = 1;
			return 0;
		}
		if (d->len + len + 1 > d->cap) {
			size_t cap = (d->len + len + 1) * 2;
			char *p = realloc(d->p, cap);
			if (p == NULL) {
				snprintf(j->reason, sizeof(j->reason), "out of memory");
				j->fatal = 1;
				return 0;
			}
			d->p = p;
			d->cap = cap;
		}
		memcpy(d->p + d->len, buf, len);
		d->len += len;
		d->p[d->len] = '\0';
		return len;
	}
	if (j->cr->turn_bytes >= TURN_BUDGET) {
		j->paused = 1;
		crawler_turn_used(j->cr, 0);
		return CURL_WRITEFUNC_PAUSE;
	}
	if (h->fresh) {
		h->fresh = 0;
		if (status == 200 && h->pl.segments[h->seg].has_range) {
			snprintf(j->reason, sizeof(j->reason), "the origin ignored the byte range");
			j->fatal = 1;
			return 0;
		}
		if (status == 200 && h->recv > 0)
			h->skip = h->recv;	/* the whole segment again */
	}
	if (h->skip > 0) {
		/* A whole answer to a range: what was taken already goes. */
		size_t k = h->skip < len ? (size_t)h->skip : len;
		h->skip -= k;
		buf += k;
		take -= k;
	}
	if (j->ingested + take > j->cr->max_size) {
		snprintf(j->reason, sizeof(j->reason), "capture larger than max_size (%llu bytes)",
		    (unsigned long long)j->cr->max_size);
		j->fatal = 1;
		return 0;
	}
	if (take > 0 && hls_take(j, (const unsigned char *)buf, take) == -1)
		return 0;
	h->recv += take;
	crawler_turn_used(j->cr, take);
	return len;
}

static void hls_done(struct curl_loop_xfer *x, CURL *e, CURLcode res);

static void
hls_transfer(struct crawl_job *j, enum hls_what what, const char *url, int has_range,
    uint64_t off, uint64_t len)
{
	struct crawler *cr = j->cr;
	struct crawl_hls *h = j->hls;
	const char *proxy = j->src.proxy != NULL ? j->src.proxy : cr->proxy;
	char range[64];
	CURL *e;

	if (j->easy != NULL) {
		curl_easy_cleanup(j->easy);
		j->easy = NULL;
	}
	curl_slist_free_all(j->hdrs);
	j->hdrs = NULL;
	j->reason[0] = '\0';
	j->fatal = 0;
	j->paused = 0;
	crawl_headers_reset(&j->h);
	h->what = what;
	h->range = 0;
	h->skip = 0;
	h->fresh = 1;
	if (what != HX_SEGMENT) {
		h->mem.len = 0;
		h->mem.max = what == HX_KEY ? KEY_MAX : what == HX_MAP ? MAP_MAX : HLS_PLAYLIST_MAX;
	}
	if ((e = curl_easy_init()) == NULL ||
	    crawl_easy_common(e, proxy, cr->user_agent, cr->timeout, !j->src.insecure, 1,
	    cr->ca_file) == -1) {
		if (e != NULL)
			curl_easy_cleanup(e);
		hls_fail(j, "out of memory");
		return;
	}
	j->easy = e;
	if (job_prov_attach(j, e, proxy) == -1) {
		hls_fail(j, "out of memory");
		return;
	}
	h->prov_start = j->ingested;
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, hls_write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, j);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, hls_header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, j);
	curl_easy_setopt(e, CURLOPT_BUFFERSIZE, RECV_BUFFER);
	if (has_range || (what == HX_SEGMENT && h->recv > 0)) {
		uint64_t from = (has_range ? off : 0) + (what == HX_SEGMENT ? h->recv : 0);
		if (has_range)
			snprintf(range, sizeof(range), "%llu-%llu", (unsigned long long)from,
			    (unsigned long long)(off + len - 1));
		else
			snprintf(range, sizeof(range), "%llu-", (unsigned long long)from);
		curl_easy_setopt(e, CURLOPT_RANGE, range);
		h->range = 1;
	}
	for (size_t i = 0; i < j->src.n_headers; i++)
		j->hdrs = curl_slist_append(j->hdrs, j->src.headers[i]);
	if (j->hdrs != NULL)
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, j->hdrs);
	j->xfer.done = hls_done;
	j->phase = J_ACTIVE;
	if (curl_loop_add(cr->loop, e, &j->xfer) == -1)
		hls_fail(j, "out of memory");
}

/* A segment is whole: the CBC padding goes, the boundary is noted. */
static int
hls_segment_end(struct crawl_job *j)
{
	struct crawl_hls *h = j->hls;
	const struct hls_segment *s = &h->pl.segments[h->seg];
	char line[64];
	int outl = 0;

	if (h->decrypting) {
		if (EVP_DecryptFinal_ex(h->aes, h->buf, &outl) != 1) {
			snprintf(j->why, sizeof(j->why), "segment %llu: AES-128 padding is wrong "
			    "(a wrong key?)", (unsigned long long)s->seq);
			return -1;
		}
		if (hls_out(j, h->buf, (size_t)outl) == -1) {
			snprintf(j->why, sizeof(j->why), "%s", j->reason);
			return -1;
		}
	}
	h->bytes = j->ingested;
	h->next_seq = s->seq + 1;
	h->seg++;
	h->recv = 0;
	h->attempt = 0;
	if (h->bounds_fd != -1) {
		int n = snprintf(line, sizeof(line), "%llu %llu\n", (unsigned long long)s->seq,
		    (unsigned long long)h->bytes);
		if (fsutil_write_all(h->bounds_fd, line, (size_t)n) == -1) {
			close(h->bounds_fd);
			h->bounds_fd = -1;	/* only the resume is lost */
		}
	}
	return 0;
}

/*
 * Keep what the recorder saw of this request for the capture's
 * provenance: a playlist or key with its bytes inline, a segment or init
 * section with the place in the capture where its bytes begin (of the
 * decrypted bytes, for AES-128). Failed attempts stay too.
 */
static void
hls_prov_keep(struct crawl_job *j)
{
	static const char *const roles[] = { [HX_PLAYLIST] = "playlist", [HX_KEY] = "key",
	    [HX_MAP] = "segment", [HX_SEGMENT] = "segment" };
	struct crawl_hls *h = j->hls;
	json_t *cap;

	if (j->prov == NULL || prov_hops(j->prov) == 0)
		return;
	if (j->prov_caps == NULL && (j->prov_caps = json_array()) == NULL)
		return;
	if (json_array_size(j->prov_caps) >= PROV_HLS_CAPTURES)
		return;
	if (h->what == HX_PLAYLIST || h->what == HX_KEY)
		(void)prov_body(j->prov, h->mem.p != NULL ? h->mem.p : "", h->mem.len);
	else
		prov_offset(j->prov, h->prov_start);
	if ((cap = prov_capture_json(j->prov, j->cr->settings.source_urls)) == NULL)
		return;
	json_object_set_new(cap, "role", json_string(roles[h->what]));
	json_array_append_new(j->prov_caps, cap);
	/* While the capture can be resumed, each capture is appended to
	 * KEY.hlsprov too (one line, no rewrite: a capture of thousands of
	 * segments costs its own size), for a resume by a later process. */
	if (h->bounds_fd != -1) {
		char *path = crawl_state_path(j->cr->dir, j->src.key, ".hlsprov");
		char *line = json_dumps(cap, JSON_COMPACT);
		int fd = path != NULL && line != NULL ?
		    open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600) : -1;
		if (fd != -1) {
			if ((fsutil_write_all(fd, line, strlen(line)) == -1 ||
			    fsutil_write_all(fd, "\n", 1) == -1) &&
			    errno != ENOSPC && errno != EDQUOT)
				log_warn("%s %s: the record of the kept capture not saved: %s",
				    j->cr->tag, j->src.id, strerror(errno));
			close(fd);
		}
		free(line);
		free(path);
	}
}

/*
 * Resuming a capture cut after BYTES: the records of KEY.hlsprov that
 * the kept bytes account for (playlists and keys, and the segments
 * that begin before BYTES: a segment is in the bounds file only once
 * whole), if they read back as a document. Else nothing: a record that
 * says less is better than one that says something wrong.
 */
static void
hls_prov_load(struct crawl_job *j, uint64_t bytes)
{
	char *path = crawl_state_path(j->cr->dir, j->src.key, ".hlsprov"), *buf = NULL;
	char *line, *nl, why[256];
	json_t *caps = json_array(), *cap;
	size_t len;

	if (path == NULL || caps == NULL || fsutil_read_file(path, PROV_DOC_MAX, &buf, &len) == -1)
		goto out;
	for (line = buf; line < buf + len && (nl = memchr(line, '\n',
	    (size_t)(buf + len - line))) != NULL; line = nl + 1) {
		json_t *o;
		if ((cap = json_loadb(line, (size_t)(nl - line), 0, NULL)) == NULL)
			continue;	/* a line cut by the end of a process */
		o = json_object_get(cap, "offset");
		if (o != NULL && (!json_is_integer(o) || json_integer_value(o) < 0 ||
		    (uint64_t)json_integer_value(o) >= bytes)) {
			json_decref(cap);
			continue;
		}
		json_array_append_new(caps, cap);
	}
	if (json_array_size(caps) == 0)
		goto out;
	if (prov_caps_check(caps, bytes, why, sizeof(why)) == -1) {
		log_warn("%s %s: the record of the kept capture is not kept: %s", j->cr->tag,
		    j->src.id, why);
		goto out;
	}
	json_decref(j->prov_caps);
	j->prov_caps = caps;
	caps = NULL;
out:
	json_decref(caps);
	free(buf);
	free(path);
}

static void
hls_done(struct curl_loop_xfer *x, CURL *e, CURLcode res)
{
	struct crawl_job *j = (struct crawl_job *)x;
	struct crawl_hls *h = j->hls;
	struct crawler *cr = j->cr;
	long status = 0;
	int ok, retry;
	char show[URL_SHOW_MAX];
	char *eff = NULL;

	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(e, CURLINFO_EFFECTIVE_URL, &eff);
	hls_prov_keep(j);
	ok = res == CURLE_OK && j->reason[0] == '\0' &&
	    (status == 200 || (status == 206 && h->range));
	j->why[0] = '\0';
	if (!ok && j->why[0] == '\0') {
		if (j->reason[0] != '\0')
			snprintf(j->why, sizeof(j->why), "%s", j->reason);
		else if (res != CURLE_OK && res != CURLE_WRITE_ERROR)
			snprintf(j->why, sizeof(j->why), "%s", curl_easy_strerror(res));
		else
			snprintf(j->why, sizeof(j->why), "HTTP %ld", status);
	}
	if (ok) {
		switch (h->what) {
		case HX_PLAYLIST: {
			struct crawl_doc_buf d = h->mem;
			if (eff != NULL && !h->capturing) {
				free(h->url);
				h->url = strdup(eff);
			}
			h->mem.p = NULL;
			h->mem.len = h->mem.cap = 0;
			h->attempt = 0;
			crawl_hls_playlist(j, d.p != NULL ? d.p : "", d.len);
			free(d.p);
			return;
		}
		case HX_KEY:
			if (h->mem.len != 16) {
				hls_fail(j, "the AES-128 key at %s is %zu bytes, not 16",
				    url_show(h->pl.segments[h->seg].key >= 0 ?
				    h->pl.keys[h->pl.segments[h->seg].key].uri : "", show,
				    sizeof(show)), h->mem.len);
				return;
			}
			memcpy(h->key, h->mem.p, 16);
			free(h->key_uri);
			h->key_uri = strdup(h->pl.keys[h->pl.segments[h->seg].key].uri);
			h->attempt = 0;
			hls_next(j);
			return;
		case HX_MAP: {
			const struct hls_map *m = &h->pl.maps[h->pl.segments[h->seg].map];
			if (hls_out(j, h->mem.p, h->mem.len) == -1) {
				hls_fail(j, "%s", j->reason);
				return;
			}
			free(h->map_uri);
			h->map_uri = strdup(m->uri);
			h->map_off = m->has_range ? m->offset : 0;
			h->attempt = 0;
			hls_next(j);
			return;
		}
		case HX_SEGMENT:
			if (hls_segment_end(j) == 0) {
				hls_next(j);
				return;
			}
			hls_fail(j, "%s", j->why);
			return;
		}
	}
	/* Failed: again, with a backoff, ATTEMPTS times; a segment goes on
	 * from the bytes it gave (a Range), keys and playlists anew. */
	h->attempt++;
	retry = !j->fatal && h->attempt < ATTEMPTS;
	if (h->what == HX_SEGMENT) {
		const struct hls_segment *s = &h->pl.segments[h->seg];
		if (!retry) {
			hls_fail(j, "segment %llu of %s: %s%s", (unsigned long long)s->seq,
			    url_show(s->uri, show, sizeof(show)), j->why,
			    h->attempt > 1 ? " (after retries)" : "");
			return;
		}
	} else if (!retry) {
		hls_fail(j, "%s %s: %s", h->what == HX_PLAYLIST ? "playlist" :
		    h->what == HX_KEY ? "key" : "init section",
		    url_show(h->what == HX_PLAYLIST ? h->url : eff != NULL ? eff : "", show,
		    sizeof(show)), j->why);
		return;
	}
	{
		long wait = backoff_ms(h->attempt);
		struct timeval tv = { wait / 1000, (wait % 1000) * 1000 };
		log_info("%s %s: retry %u in %.1f s: %s", cr->tag, j->src.id, h->attempt + 1,
		    (double)wait / 1000, j->why);
		if (j->timer != NULL)
			event_free(j->timer);
		j->timer = evtimer_new(cr->base, h->what == HX_PLAYLIST ? hls_reload_cb :
		    hls_retry_cb, j);
		j->phase = J_BACKOFF;
		if (j->timer == NULL || evtimer_add(j->timer, &tv) == -1)
			hls_fail(j, "out of memory");
	}
}

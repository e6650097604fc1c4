/*
 * A large object from several mirrors at once (fetch.h), for `emberd
 * fetch --connections` and a follower's sync (crawl_ranges.c): the object is
 * cut into ranges of whole pieces (the Metalink's piece length), and N
 * connections, spread over the mirrors that have the newest catalog,
 * each take the next missing range when their last one is done, so a
 * slow mirror ends up with less; when none is missing, an idle
 * connection takes the back half of the longest range still running.
 * Every range is written where it belongs in OUT.part (pwrite), and each
 * finished piece goes to the hashing thread (fetch_hash.c).
 *
 * Trust: the Metalinks' piece hashes are not signed, so they only say
 * where a mirror lied. The list most mirrors agree on is used first; a
 * piece that does not match it drops the mirror that sent it (said on
 * stderr) and is fetched again from another. The catalog's signed
 * SHA-256 decides: when every piece matched a list but the file does not
 * hash right, that list was a lie, the mirrors that served it are
 * dropped for good, and the pieces are checked again against the next
 * list; when no list is left (or there was none), one mirror at a time
 * from the start (fetch.c), as without ranges. Nothing is renamed into
 * place before the SHA-256 holds.
 *
 * Resume: OUT.part.state records the pieces checked so far (rewritten
 * at most once a second, atomically); a later run hands them to the
 * hashing thread as if just written, which checks them against the list
 * again on the way (they must be read for the SHA-256 anyway). Without
 * it, the first bytes of OUT.part (its size, as one mirror at a time
 * leaves it) are taken the same way.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/rand.h>

#include "fetch.h"
#include "fsutil.h"
#include "hexutil.h"
#include "http_client.h"
#include "log.h"
#include "meta4_parse.h"
#include "pieces.h"
#include "urls.h"

#define FR_PLEN		(1u << 20)	/* pieces when no mirror has a Metalink */
#define FR_CHUNK_MAX	(16u << 20)	/* the longest range asked for at once */
#define FR_FAILS	3		/* broken transfers before a mirror is dropped */
#define FR_STATE_EVERY	1.0		/* seconds between OUT.part.state writes */
#define FR_NONE		((size_t)-1)
#define FR_WBUF		(256u << 10)	/* bytes gathered per write call */

enum { P_MISSING, P_FLIGHT, P_WRITTEN, P_GOOD };

struct fr_mirror {
	const struct peer *p;
	char show[URL_SHOW_MAX];
	int dead;		/* not asked again in this round */
	int liar;		/* its piece list proved false: never again */
	int bad_piece;		/* dropped in this round for a piece */
	int norange;		/* answered a range with the whole object */
	unsigned fails;
	size_t list;		/* its piece list, FR_NONE: none */
	unsigned busy;
	uint64_t ranges;
};

struct fr;

struct fr_conn {
	struct fr *r;
	CURL *e;
	size_t slot;
	int busy;
	size_t m;
	uint64_t start, off, end;	/* bytes */
	size_t piece, endp;		/* the next piece to post; past the last */
	int started, cut;
	char why[FETCH_ERRLEN];
	char errbuf[CURL_ERROR_SIZE];
	char content_range[96];
	unsigned char *wbuf;		/* FR_WBUF bytes not yet written, ending at off */
	size_t wlen;
};

/* What is on disk already, in some piece length: a bitmap or a prefix. */
struct fr_have {
	uint32_t plen;
	size_t n;
	unsigned char *bits;
	uint64_t prefix;
};

struct fr_list {
	struct meta4_pieces p;
	unsigned votes;
};

struct fr {
	struct fetch *f;
	CURLM *multi;
	struct fr_mirror *m;
	size_t nm;
	struct fr_conn *c;
	size_t nc;
	struct fr_list *lists;
	size_t nlists;
	/* this round */
	uint32_t plen;
	size_t n, chunk, good;
	size_t landed;		/* pieces written (checked or not) */
	size_t bad;		/* pieces that failed their check, ever */
	unsigned char *st;
	size_t *src;
	uint64_t posted;
	struct fetch_hash *h;
	double last_save;
	int write_err;		/* errno of a failed pwrite: the disk, not a mirror */
	char socks_pass[33];
	int socks_own;		/* per-connection SOCKS credentials */
};

/* A line of the log, with the caller's tag ("fetch", or "sync" for a
 * follower). */
static void __attribute__((format(printf, 3, 4)))
fr_log(const struct fetch *f, int warn, const char *fmt, ...)
{
	const char *tag = f->a->tag != NULL ? f->a->tag : "fetch";
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (warn)
		log_warn("%s: %s", tag, msg);
	else
		log_error("%s: %s", tag, msg);
}

int
fetch_ranges_wanted(const struct fetch *f)
{
	return f->size >= FETCH_RANGES_MIN &&
	    (f->a->connections > 1 || access(f->state, F_OK) == 0);
}

static uint64_t
fr_pend(const struct fr *r, size_t i)
{
	uint64_t e = (uint64_t)(i + 1) * r->plen;

	return e < r->f->size ? e : r->f->size;
}

/* ---- the Metalinks ---- */

struct fr_doc {
	CURL *e;
	struct http_client_buf buf;
	int ok;
};

static void
fr_list_take(struct fr *r, size_t mi, struct meta4_pieces *p)
{
	size_t k;

	for (k = 0; k < r->nlists; k++) {
		struct meta4_pieces *q = &r->lists[k].p;
		if (q->length == p->length && q->n == p->n &&
		    memcmp(q->sha1, p->sha1, p->n * PIECES_SHA1_LEN) == 0) {
			r->lists[k].votes++;
			r->m[mi].list = k;
			meta4_pieces_free(p);
			return;
		}
	}
	r->lists[r->nlists].p = *p;
	r->lists[r->nlists].votes = 1;
	r->m[mi].list = r->nlists++;
	memset(p, 0, sizeof(*p));
}

/* Most votes first; ties in the mirrors' order (the order found). */
static void
fr_lists_sort(struct fr *r)
{
	struct fr_list *sorted = calloc(r->nlists ? r->nlists : 1, sizeof(*sorted));
	size_t *to = calloc(r->nlists ? r->nlists : 1, sizeof(*to));
	size_t i, k, at = 0;
	unsigned v;

	if (sorted == NULL || to == NULL) {
		free(sorted);
		free(to);
		return;		/* left as found: still a valid order */
	}
	for (v = (unsigned)r->nm; v > 0; v--)
		for (i = 0; i < r->nlists; i++)
			if (r->lists[i].votes == v) {
				to[i] = at;
				sorted[at++] = r->lists[i];
			}
	memcpy(r->lists, sorted, r->nlists * sizeof(*sorted));
	for (k = 0; k < r->nm; k++)
		if (r->m[k].list != FR_NONE)
			r->m[k].list = to[r->m[k].list];
	free(sorted);
	free(to);
}

/* Every mirror's NAME.meta4 at once; their piece lists, grouped. */
static void
fr_metalinks(struct fr *r)
{
	struct fetch *f = r->f;
	struct fr_doc *d = calloc(r->nm, sizeof(*d));
	CURLM *multi = curl_multi_init();
	char *esc = NULL, *url = NULL, err[256];
	size_t i, max = 1048576 + 64 * (size_t)pieces_count(f->size, META4_PIECE_MIN);
	int running = 0, left;
	CURLMsg *msg;

	r->lists = calloc(r->nm ? r->nm : 1, sizeof(*r->lists));
	if (d == NULL || multi == NULL || r->lists == NULL ||
	    (esc = curl_easy_escape(NULL, f->name, 0)) == NULL)
		goto out;
	if (max > META4_MAX_BYTES)
		max = META4_MAX_BYTES;
	for (i = 0; i < r->nm; i++) {
		http_client_buf_init(&d[i].buf, max);
		if ((d[i].e = curl_easy_init()) == NULL ||
		    asprintf(&url, "%sfiles/%s.meta4", r->m[i].p->base, esc) == -1 ||
		    fetch_setup(f, d[i].e) == -1)
			goto out;
		curl_easy_setopt(d[i].e, CURLOPT_URL, url);
		free(url);
		url = NULL;
		http_client_buf_attach(d[i].e, &d[i].buf);
		curl_easy_setopt(d[i].e, CURLOPT_FAILONERROR, 1L);
		curl_easy_setopt(d[i].e, CURLOPT_TIMEOUT, 120L);
		curl_easy_setopt(d[i].e, CURLOPT_PRIVATE, (void *)&d[i]);
		curl_multi_add_handle(multi, d[i].e);
	}
	do {
		if (curl_multi_perform(multi, &running) != CURLM_OK ||
		    (f->cancel != NULL && *f->cancel))
			break;
		if (running > 0)
			curl_multi_poll(multi, NULL, 0, 1000, NULL);
	} while (running > 0);
	while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		for (i = 0; i < r->nm && d[i].e != msg->easy_handle; i++)
			;
		if (i < r->nm)
			d[i].ok = msg->data.result == CURLE_OK;
	}
	/* In the mirrors' order, so that a tie goes to the first. */
	for (i = 0; i < r->nm; i++) {
		struct meta4_pieces p;
		/* No Metalink (an older mirror, a plain copy): quietly none. */
		if (!d[i].ok || d[i].buf.data == NULL)
			continue;
		if (meta4_parse_pieces(d[i].buf.data, d[i].buf.len, f->hex, f->size, &p, err,
		    sizeof(err)) == -1) {
			fr_log(f, 1, "%s: its Metalink for %s: %s; not used", r->m[i].show,
			    f->name, err);
			continue;
		}
		fr_list_take(r, i, &p);
	}
	fr_lists_sort(r);
out:
	for (i = 0; d != NULL && i < r->nm; i++) {
		if (d[i].e != NULL) {
			curl_multi_remove_handle(multi, d[i].e);
			curl_easy_cleanup(d[i].e);
		}
		http_client_buf_free(&d[i].buf);
	}
	free(d);
	free(url);
	curl_free(esc);
	if (multi != NULL)
		curl_multi_cleanup(multi);
}

/* ---- OUT.part.state ---- */

/* The pieces an earlier run checked, or its prefix. */
static void
fr_state_load(struct fr *r, struct fr_have *hv)
{
	struct fetch *f = r->f;
	char *buf = NULL, hex[65];
	unsigned long long size;
	unsigned plen;
	size_t len, n, i;
	int off = 0;

	memset(hv, 0, sizeof(*hv));
	if (fsutil_read_file(f->state, 64u << 20, &buf, &len) == -1) {
		/* One mirror at a time leaves a prefix. */
		hv->prefix = f->have <= f->size ? f->have : 0;
		return;
	}
	if (sscanf(buf, "emberd-part 1 %64s %llu %u\n%n", hex, &size, &plen, &off) != 3 ||
	    off == 0 || strcmp(hex, f->hex) != 0 || size != f->size || plen < 1024 ||
	    (plen & (plen - 1)) != 0 ||
	    (n = (size_t)pieces_count(size, plen)) > len - (size_t)off ||
	    (hv->bits = calloc(n, 1)) == NULL) {
		free(buf);
		return;
	}
	hv->plen = plen;
	hv->n = n;
	for (i = 0; i < n; i++)
		hv->bits[i] = buf[off + i] == '1';
	free(buf);
}

static int
fr_have_covers(const struct fr_have *hv, uint64_t off, uint64_t end)
{
	size_t i;

	if (end <= hv->prefix)
		return 1;
	if (hv->bits == NULL || end == off)
		return 0;
	for (i = (size_t)(off / hv->plen); i <= (size_t)((end - 1) / hv->plen); i++)
		if (i >= hv->n || !hv->bits[i])
			return 0;
	return 1;
}

static void
fr_state_save(struct fr *r, int force)
{
	struct fetch *f = r->f;
	double t = fetch_now();
	char *tmp = NULL;
	FILE *fp;
	size_t i;

	if (!force && t - r->last_save < FR_STATE_EVERY)
		return;
	r->last_save = t;
	if (asprintf(&tmp, "%s.tmp", f->state) == -1)
		return;
	if ((fp = fopen(tmp, "w")) == NULL) {
		free(tmp);
		return;
	}
	fprintf(fp, "emberd-part 1 %s %llu %u\n", f->hex, (unsigned long long)f->size,
	    r->plen);
	for (i = 0; i < r->n; i++)
		fputc(r->st[i] == P_GOOD ? '1' : '0', fp);
	fputc('\n', fp);
	/* No fsync: after a crash a piece the state calls good is checked
	 * again anyway, and the SHA-256 is the last word. */
	if (fclose(fp) == 0)
		rename(tmp, f->state);
	else
		unlink(tmp);
	free(tmp);
}

/* ---- connections ---- */

static size_t
fr_header_cb(char *buf, size_t size, size_t n, void *arg)
{
	struct fr_conn *c = arg;
	size_t len = size * n;

	if (len > 5 && strncmp(buf, "HTTP/", 5) == 0)
		c->content_range[0] = '\0';
	else if (len > 14 && strncasecmp(buf, "Content-Range:", 14) == 0)
		snprintf(c->content_range, sizeof(c->content_range), "%.*s",
		    (int)(len - 14), buf + 14);
	return len;
}

/* The answer is the range asked for: "bytes START-E/SIZE". */
static int
fr_range_ok(struct fr_conn *c)
{
	unsigned long long s, e, t;
	const char *cr = c->content_range;
	long status = 0;

	curl_easy_getinfo(c->e, CURLINFO_RESPONSE_CODE, &status);
	if (status == 200 && c->start == 0)
		return 0;	/* the whole object: what is past END is cut */
	if (status == 200) {
		snprintf(c->why, sizeof(c->why), "ignored the Range (200)");
		c->r->m[c->m].norange = 1;
		return -1;
	}
	while (*cr == ' ')
		cr++;
	if (sscanf(cr, "bytes %llu-%llu/%llu", &s, &e, &t) != 3 || s != c->start ||
	    e < s || t != c->r->f->size) {
		snprintf(c->why, sizeof(c->why), "answered a range it was not asked for (%.60s)",
		    cr);
		return -1;
	}
	return 0;
}

static void
fr_post(struct fr *r, size_t i, size_t m)
{
	r->st[i] = P_WRITTEN;
	r->landed++;
	r->src[i] = m;
	r->posted += fr_pend(r, i) - (uint64_t)i * r->plen;
	fetch_hash_push(r->h, i);
}

/* The buffered bytes into OUT.part, and the pieces they complete to the
 * hashing thread. -1 the disk failed. */
static int
fr_flush(struct fr *r, struct fr_conn *c)
{
	uint64_t at = c->off - c->wlen;
	size_t done = 0;
	ssize_t w;

	while (done < c->wlen) {
		w = pwrite(r->f->fd, c->wbuf + done, c->wlen - done, (off_t)(at + done));
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			r->write_err = w == 0 ? EIO : errno;
			return -1;
		}
		done += (size_t)w;
	}
	c->wlen = 0;
	while (c->piece < c->endp && fr_pend(r, c->piece) <= c->off)
		fr_post(r, c->piece++, c->m);
	return 0;
}

/*
 * libcurl hands the body over 16 KiB at a time: gathered into FR_WBUF
 * (never across a piece's end), so that a write call moves a piece or a
 * large part of one, not 16 KiB.
 */
static size_t
fr_write_cb(char *buf, size_t size, size_t n, void *arg)
{
	struct fr_conn *c = arg;
	struct fr *r = c->r;
	size_t len = size * n, take, done = 0, k;
	uint64_t stop;

	if (!c->started) {
		c->started = 1;
		if (fr_range_ok(c) == -1)
			return 0;
	}
	if (c->off >= c->end) {
		c->cut = 1;	/* the rest went to another connection */
		return 0;
	}
	take = len < c->end - c->off ? len : (size_t)(c->end - c->off);
	while (done < take) {
		stop = fr_pend(r, c->piece);
		k = take - done;
		if (k > FR_WBUF - c->wlen)
			k = FR_WBUF - c->wlen;
		if (k > stop - c->off)
			k = (size_t)(stop - c->off);
		memcpy(c->wbuf + c->wlen, buf + done, k);
		c->wlen += k;
		c->off += k;
		done += k;
		if ((c->wlen == FR_WBUF || c->off == stop) && fr_flush(r, c) == -1)
			return 0;
	}
	if (take < len) {
		c->cut = 1;
		return 0;
	}
	return len;
}

/* The pieces of C's range not written yet are missing again. */
static void
fr_release(struct fr *r, struct fr_conn *c)
{
	size_t i;

	for (i = c->piece; i < c->endp; i++)
		if (r->st[i] == P_FLIGHT)
			r->st[i] = P_MISSING;
	c->piece = c->endp;
	c->wlen = 0;
}

static void
fr_stop(struct fr *r, struct fr_conn *c)
{
	if (!c->busy)
		return;
	curl_multi_remove_handle(r->multi, c->e);
	fr_release(r, c);
	r->m[c->m].busy--;
	c->busy = 0;
}

/* Mirror M is not asked again in this round; its running ranges are
 * given back. */
static void
fr_drop(struct fr *r, size_t m, const char *why)
{
	size_t k;

	if (r->m[m].dead)
		return;
	r->m[m].dead = 1;
	fr_log(r->f, 1, "%s: %s; mirror dropped, its ranges fetched elsewhere", r->m[m].show,
	    why);
	for (k = 0; k < r->nc; k++)
		if (r->c[k].busy && r->c[k].m == m)
			fr_stop(r, &r->c[k]);
}

static int
fr_conn_init(struct fr *r, struct fr_conn *c, size_t slot)
{
	char user[64];

	/* No If-Range: a static host's ETag is not the SHA-256 (nginx
	 * would answer every range with the whole file), and the bytes are
	 * checked anyway: the total in Content-Range, the pieces, the
	 * SHA-256. */
	c->r = r;
	c->slot = slot;
	if ((c->wbuf = malloc(FR_WBUF)) == NULL || (c->e = curl_easy_init()) == NULL ||
	    fetch_setup(r->f, c->e) == -1)
		return -1;
	curl_easy_setopt(c->e, CURLOPT_WRITEFUNCTION, fr_write_cb);
	curl_easy_setopt(c->e, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->e, CURLOPT_HEADERFUNCTION, fr_header_cb);
	curl_easy_setopt(c->e, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(c->e, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(c->e, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(c->e, CURLOPT_BUFFERSIZE, 512L * 1024);
	curl_easy_setopt(c->e, CURLOPT_PRIVATE, (void *)c);
	if (r->socks_own) {
		/* Tor's IsolateSOCKSAuth: other credentials, another circuit. */
		snprintf(user, sizeof(user), "emberd-%ld-%zu", (long)getpid(), slot);
		curl_easy_setopt(c->e, CURLOPT_PROXYUSERNAME, user);
		curl_easy_setopt(c->e, CURLOPT_PROXYPASSWORD, r->socks_pass);
	}
	return 0;
}

/* The live mirror with the fewest connections, newest catalog first. */
static size_t
fr_pick_mirror(struct fr *r)
{
	uint64_t best_seq = r->f->ps.best->seq;
	size_t k, pick = FR_NONE;
	int pass;

	for (pass = 0; pass < 2 && pick == FR_NONE; pass++)
		for (k = 0; k < r->nm; k++) {
			struct fr_mirror *m = &r->m[k];
			if (m->dead || (pass == 0 && m->p->seq != best_seq))
				continue;
			if (pick == FR_NONE || m->busy < r->m[pick].busy)
				pick = k;
		}
	return pick;
}

/* The next missing range: up to chunk missing pieces in a row. */
static int
fr_next_range(struct fr *r, size_t *p0, size_t *p1)
{
	size_t i, j;

	for (i = 0; i < r->n && r->st[i] != P_MISSING; i++)
		;
	if (i == r->n)
		return -1;
	for (j = i; j < r->n && j - i < r->chunk && r->st[j] == P_MISSING; j++)
		;
	*p0 = i;
	*p1 = j;
	return 0;
}

/* Nothing missing: the back half of the longest running range. */
static int
fr_steal(struct fr *r, size_t *p0, size_t *p1)
{
	size_t k, best = FR_NONE, most = 1, cur, left;

	for (k = 0; k < r->nc; k++) {
		struct fr_conn *c = &r->c[k];
		if (!c->busy || c->cut)
			continue;
		cur = (size_t)(c->off / r->plen) + 1;	/* past the piece being written */
		left = c->endp > cur ? c->endp - cur : 0;
		if (left > most) {
			most = left;
			best = k;
		}
	}
	if (best == FR_NONE)
		return -1;
	struct fr_conn *v = &r->c[best];
	cur = (size_t)(v->off / r->plen) + 1;
	*p0 = cur + (v->endp - cur) / 2;
	*p1 = v->endp;
	v->endp = *p0;
	v->end = fr_pend(r, *p0 - 1);
	return 0;
}

static int
fr_start(struct fr *r, struct fr_conn *c, size_t m, size_t p0, size_t p1)
{
	char range[64], *url;
	size_t i;

	if (asprintf(&url, "%ssha256/%s", r->m[m].p->base, r->f->hex) == -1)
		return -1;
	c->m = m;
	c->start = c->off = (uint64_t)p0 * r->plen;
	c->end = fr_pend(r, p1 - 1);
	c->piece = p0;
	c->endp = p1;
	c->started = c->cut = 0;
	c->wlen = 0;
	c->why[0] = c->errbuf[0] = c->content_range[0] = '\0';
	for (i = p0; i < p1; i++)
		r->st[i] = P_FLIGHT;
	snprintf(range, sizeof(range), "%llu-%llu", (unsigned long long)c->start,
	    (unsigned long long)c->end - 1);
	curl_easy_setopt(c->e, CURLOPT_URL, url);
	curl_easy_setopt(c->e, CURLOPT_RANGE, range);
	free(url);
	if (curl_multi_add_handle(r->multi, c->e) != CURLM_OK) {
		fr_release(r, c);
		return -1;
	}
	c->busy = 1;
	r->m[m].busy++;
	return 0;
}

/* Every idle connection takes work, while there is some. */
static int
fr_assign(struct fr *r)
{
	size_t k, m, p0, p1;

	for (k = 0; k < r->nc; k++) {
		struct fr_conn *c = &r->c[k];
		if (c->busy)
			continue;
		if ((m = fr_pick_mirror(r)) == FR_NONE)
			return 0;
		if (fr_next_range(r, &p0, &p1) == -1 && fr_steal(r, &p0, &p1) == -1)
			return 0;
		if (fr_start(r, c, m, p0, p1) == -1)
			return -1;
	}
	return 0;
}

/* A transfer ended. */
static void
fr_done(struct fr *r, struct fr_conn *c, CURLcode res)
{
	struct fr_mirror *m = &r->m[c->m];
	char why[FETCH_ERRLEN + 64];
	long status = 0;
	size_t mi = c->m;

	curl_easy_getinfo(c->e, CURLINFO_RESPONSE_CODE, &status);
	curl_multi_remove_handle(r->multi, c->e);
	c->busy = 0;
	m->busy--;
	if (c->why[0] == '\0' && (c->cut || (res == CURLE_OK && c->off == c->end))) {
		m->fails = 0;
		m->ranges++;
		c->piece = c->endp;
		return;
	}
	fr_release(r, c);
	if (m->dead)
		return;
	if (c->why[0] != '\0') {
		fr_drop(r, mi, c->why);
		return;
	}
	if (status == 404 || status == 410 || status == 403 || status == 416) {
		snprintf(why, sizeof(why), "HTTP %ld", status);
		fr_drop(r, mi, why);
		return;
	}
	if (res == CURLE_OK)
		snprintf(why, sizeof(why), "range %llu-%llu ended after %llu bytes",
		    (unsigned long long)c->start, (unsigned long long)c->end - 1,
		    (unsigned long long)(c->off - c->start));
	else
		snprintf(why, sizeof(why), "%s", c->errbuf[0] ? c->errbuf :
		    curl_easy_strerror(res));
	if (++m->fails >= FR_FAILS) {
		char w2[sizeof(why) + 32];
		snprintf(w2, sizeof(w2), "%s (%u times in a row)", why, m->fails);
		fr_drop(r, mi, w2);
	} else
		fr_log(r->f, 1, "%s: %s; the range is fetched again", m->show, why);
}

static void
fr_progress(struct fr *r)
{
	uint64_t have = r->posted;
	size_t k;

	if (!r->f->progress)
		return;
	for (k = 0; k < r->nc; k++)
		if (r->c[k].busy && r->c[k].piece < r->c[k].endp)
			have += r->c[k].off - (uint64_t)r->c[k].piece * r->plen;
	r->f->have = have;
	fetch_draw(r->f, 0);
}

static int
fr_any_missing(const struct fr *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (r->st[i] == P_MISSING)
			return 1;
	return 0;
}

/* One round: 1 every piece written (and none failed its check so far),
 * 0 no mirror left to fetch the missing ones, -1 failed (logged, f->rc
 * set). */
static int
fr_run(struct fr *r)
{
	struct fetch *f = r->f;
	char why[128];
	size_t i, k;
	int good, running, busy, rc, ended;
	CURLMsg *msg;

	for (;;) {
		if (f->cancel != NULL && *f->cancel) {
			fr_log(f, 0, "%s: stopped", f->name);
			f->rc = 1;
			return -1;
		}
		while ((rc = fetch_hash_result(r->h, &i, &good)) == 1) {
			if (r->st[i] != P_WRITTEN)
				continue;
			if (good) {
				r->st[i] = P_GOOD;
				r->good++;
				continue;
			}
			r->st[i] = P_MISSING;
			r->landed--;
			r->bad++;
			r->posted -= fr_pend(r, i) - (uint64_t)i * r->plen;
			if (r->src[i] != FR_NONE && !r->m[r->src[i]].dead) {
				snprintf(why, sizeof(why), "piece %zu (bytes %llu-%llu) does not match "
				    "its SHA-1", i, (unsigned long long)i * r->plen,
				    (unsigned long long)fr_pend(r, i) - 1);
				r->m[r->src[i]].bad_piece = 1;
				fr_drop(r, r->src[i], why);
			}
		}
		if (rc == -1) {
			fr_log(f, 0, "reading back %s: %s", f->part, strerror(errno));
			f->rc = 2;
			return -1;
		}
		/* Written is enough: the SHA-256 decides, the checks still
		 * running only say where a mirror lied (fr_rounds). */
		if (r->landed == r->n)
			return 1;
		if (fr_assign(r) == -1) {
			fr_log(f, 0, "out of memory");
			f->rc = 2;
			return -1;
		}
		for (busy = 0, k = 0; k < r->nc; k++)
			busy += r->c[k].busy;
		if (busy == 0 && fr_any_missing(r))
			return 0;
		curl_multi_perform(r->multi, &running);
		ended = 0;
		while ((msg = curl_multi_info_read(r->multi, &running)) != NULL) {
			struct fr_conn *c = NULL;
			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&c);
			if (c != NULL && c->busy) {
				fr_done(r, c, msg->data.result);
				ended = 1;
			}
		}
		if (r->write_err) {
			fr_log(f, 0, "writing %s: %s", f->part, strerror(r->write_err));
			f->rc = 2;
			return -1;
		}
		fr_state_save(r, 0);
		fr_progress(r);
		/* A connection whose range ended takes its next one now, not
		 * when another's bytes (or the timeout) end the wait. */
		if (!ended)
			curl_multi_poll(r->multi, NULL, 0, 200, NULL);
	}
}

/* ---- rounds ---- */

static int
fr_round_setup(struct fr *r, const struct fr_list *L, const struct fr_have *hv)
{
	struct fetch *f = r->f;
	size_t i, k;

	r->plen = L != NULL ? L->p.length : hv->bits != NULL ? hv->plen : FR_PLEN;
	r->n = (size_t)pieces_count(f->size, r->plen);
	/* Two ranges a connection: each range leaves its connection idle
	 * for a round trip (the request out, the first byte back), which on
	 * a 200 ms link made eight a connection cost a 12 MiB fetch from
	 * three mirrors about 10 %; fr_steal evens out mirrors of
	 * different speeds at the end. */
	r->chunk = (size_t)(f->size / ((uint64_t)r->nc * 2) / r->plen);
	if (r->chunk < 1)
		r->chunk = 1;
	if (r->chunk > FR_CHUNK_MAX / r->plen)
		r->chunk = FR_CHUNK_MAX / r->plen ? FR_CHUNK_MAX / r->plen : 1;
	free(r->st);
	free(r->src);
	r->st = calloc(r->n, 1);
	r->src = calloc(r->n, sizeof(*r->src));
	if (r->st == NULL || r->src == NULL)
		return -1;
	r->good = 0;
	r->landed = 0;
	r->posted = 0;
	for (k = 0; k < r->nm; k++) {
		r->m[k].dead = r->m[k].liar;
		r->m[k].fails = 0;
		r->m[k].bad_piece = 0;
	}
	if ((r->h = fetch_hash_start(f->fd, f->size, r->plen, r->n, L != NULL ? L->p.sha1 :
	    NULL, r->multi)) == NULL)
		return -1;
	for (i = 0; i < r->n; i++) {
		r->src[i] = FR_NONE;
		if (fr_have_covers(hv, (uint64_t)i * r->plen, fr_pend(r, i))) {
			r->st[i] = P_WRITTEN;
			r->landed++;
			r->posted += fr_pend(r, i) - (uint64_t)i * r->plen;
			fetch_hash_push(r->h, i);
		}
	}
	return 0;
}

/* What this round found good, as the next round's starting point. */
static int
fr_have_round(struct fr *r, struct fr_have *hv)
{
	size_t i;

	free(hv->bits);
	memset(hv, 0, sizeof(*hv));
	if ((hv->bits = calloc(r->n, 1)) == NULL)
		return -1;
	hv->plen = r->plen;
	hv->n = r->n;
	for (i = 0; i < r->n; i++)
		hv->bits[i] = r->st[i] == P_GOOD;
	return 0;
}

static uint64_t
fr_good_bytes(const struct fr *r)
{
	uint64_t b = 0;
	size_t i;

	for (i = 0; i < r->n; i++)
		if (r->st[i] == P_GOOD)
			b += fr_pend(r, i) - (uint64_t)i * r->plen;
	return b;
}

static int
fr_init(struct fr *r, struct fetch *f)
{
	const char *px = f->a->proxy;
	unsigned char rnd[16];
	size_t k, i;

	memset(r, 0, sizeof(*r));
	r->f = f;
	r->m = calloc(f->ps.n, sizeof(*r->m));
	r->nc = (size_t)f->a->connections;
	r->c = calloc(r->nc, sizeof(*r->c));
	if (r->m == NULL || r->c == NULL || (r->multi = curl_multi_init()) == NULL)
		return -1;
	/* A connection each: N transfers over one HTTP/2 connection would
	 * share one path (and one Tor circuit). */
	curl_multi_setopt(r->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_NOTHING);
	for (k = 0; k < f->ps.n; k++) {
		const struct peer *p = NULL;
		for (i = 0; i < f->ps.n; i++)
			if (f->ps.p[i].base == f->ps.order[k])
				p = &f->ps.p[i];
		if (p == NULL || p->json == NULL)
			continue;
		r->m[r->nm].p = p;
		r->m[r->nm].list = FR_NONE;
		url_show(p->base, r->m[r->nm].show, sizeof(r->m[r->nm].show));
		r->nm++;
	}
	/* socks5:// or socks5h:// without credentials of the reader's own. */
	if (px != NULL && strncasecmp(px, "socks5", 6) == 0 && strchr(px, '@') == NULL) {
		if (RAND_bytes(rnd, sizeof(rnd)) != 1)
			return -1;
		hex_encode(rnd, sizeof(rnd), r->socks_pass);
		r->socks_own = 1;
	}
	for (k = 0; k < r->nc; k++)
		if (fr_conn_init(r, &r->c[k], k) == -1)
			return -1;
	return 0;
}

static void
fr_free(struct fr *r)
{
	size_t k;

	fetch_hash_stop(r->h);
	r->h = NULL;
	for (k = 0; r->c != NULL && k < r->nc; k++) {
		if (r->c[k].busy)
			curl_multi_remove_handle(r->multi, r->c[k].e);
		if (r->c[k].e != NULL)
			curl_easy_cleanup(r->c[k].e);
		free(r->c[k].wbuf);
	}
	for (k = 0; r->lists != NULL && k < r->nlists; k++)
		meta4_pieces_free(&r->lists[k].p);
	free(r->lists);
	free(r->c);
	free(r->m);
	free(r->st);
	free(r->src);
	if (r->multi != NULL)
		curl_multi_cleanup(r->multi);
}

/* The verified file into place. */
static int
fr_finish(struct fr *r)
{
	struct fetch *f = r->f;

	f->have = f->size;
	if (fetch_install(f) == -1)
		return -1;
	unlink(f->state);
	return 0;
}

/* fr_run, then every connection stopped. */
static int
fr_round_run(struct fr *r)
{
	int rv = fr_run(r);
	size_t k;

	for (k = 0; k < r->nc; k++)
		fr_stop(r, &r->c[k]);
	return rv;
}

static int
fr_hash_is(const struct fetch *f, const unsigned char md[32])
{
	char got[65];

	hex_encode(md, 32, got);
	return strcmp(got, f->hex) == 0;
}

static int
fr_rounds(struct fr *r)
{
	struct fetch *f = r->f;
	struct fr_have hv;
	unsigned char md[32];
	char got[65];
	size_t li, k;
	int rv, hr, bad_pieces, norange;

	/* Longer than the item (not this item's, or a torn write): what is
	 * past the end would survive every piece check. */
	if (f->have > f->size && ftruncate(f->fd, (off_t)f->size) == -1) {
		fr_log(f, 0, "%s: %s", f->part, strerror(errno));
		f->rc = 2;
		return -1;
	}
	fr_state_load(r, &hv);
	for (li = 0; li == 0 || li < r->nlists; li++) {
		const struct fr_list *L = li < r->nlists ? &r->lists[li] : NULL;
		if (fr_round_setup(r, L, &hv) == -1) {
			fr_log(f, 0, "out of memory");
			free(hv.bits);
			f->rc = 2;
			return -1;
		}
		rv = fr_round_run(r);
		for (;;) {
			size_t bad;

			/* Until the hash is whole: a piece that failed its check
			 * is fetched again first (the hash made again if the
			 * piece was in it). */
			hr = -1;
			while (rv == 1 && (hr = fetch_hash_final(r->h, md)) == 1)
				rv = fr_round_run(r);
			if (rv != 1 || hr != 0 || L == NULL || fr_hash_is(f, md))
				break;
			/* Wrong: the checks, which the download did not wait
			 * for, say whether a mirror lied (its pieces fetched
			 * again, then hashed again) or the list did. */
			bad = r->bad;
			fetch_hash_checked(r->h);
			rv = fr_round_run(r);
			if (r->bad == bad)
				break;
		}
		if (rv == -1) {
			fr_state_save(r, 1);
			free(hv.bits);
			return -1;
		}
		if (rv == 1 && hr == 0) {
			hex_encode(md, 32, got);
			fetch_hash_stop(r->h);
			r->h = NULL;
			if (strcmp(got, f->hex) == 0) {
				free(hv.bits);
				return fr_finish(r) == 0 ? 0 : -1;
			}
			/* Every piece matched this list, the file is wrong: the
			 * list is a lie, and whoever served it. */
			fr_log(f, 1, "%s: every piece matched the Metalink's pieces, yet the "
			    "file's sha256 is %s, not the catalog's%s", f->name, got,
			    L != NULL ? "; the mirrors that served that Metalink are dropped" : "");
			for (k = 0; L != NULL && k < r->nm; k++)
				if (r->m[k].list == li) {
					r->m[k].liar = 1;
					fr_log(f, 1, "%s: its Metalink lied; dropped", r->m[k].show);
				}
			if (fr_have_round(r, &hv) == -1)
				break;
			continue;
		}
		fetch_hash_stop(r->h);
		r->h = NULL;
		if (rv == 1)
			break;
		/* No mirror left. If some were dropped for a piece, the list
		 * may be the liar: the next one gets them back. */
		for (bad_pieces = 0, k = 0; k < r->nm; k++)
			bad_pieces |= r->m[k].bad_piece;
		fr_state_save(r, 1);
		if (bad_pieces && li + 1 < r->nlists) {
			fr_log(f, 1, "%s: every mirror was dropped; checking against another "
			    "Metalink's pieces", f->name);
			if (fr_have_round(r, &hv) == -1)
				break;
			continue;
		}
		/* A mirror that cannot send ranges may still send the whole. */
		for (norange = 0, k = 0; k < r->nm; k++)
			norange |= r->m[k].norange;
		if (norange) {
			free(hv.bits);
			return 1;
		}
		f->kept = fr_good_bytes(r);
		free(hv.bits);
		if (f->progress)
			fputc('\n', stderr);
		if (f->kept > 0)
			fr_log(f, 0, "no mirror had a good copy of %s (sha256 %s); %llu bytes of "
			    "checked pieces kept in %s for a later run", f->name, f->hex,
			    (unsigned long long)f->kept, f->part);
		else {
			unlink(f->state);
			fr_log(f, 0, "no mirror had a good copy of %s (sha256 %s)", f->name,
			    f->hex);
		}
		f->have = f->kept;
		f->rc = 1;
		return -1;
	}
	free(hv.bits);
	return 1;
}

int
fetch_ranges(struct fetch *f)
{
	struct fr r;
	int rv;

	if (fr_init(&r, f) == -1) {
		fr_free(&r);
		fr_log(f, 0, "out of memory");
		f->rc = 2;
		return -1;
	}
	/* One mirror: piece hashes could only say that it lied, which the
	 * SHA-256 says too; no Metalink, no SHA-1 pass. */
	if (r.nm > 1)
		fr_metalinks(&r);
	rv = fr_rounds(&r);
	fr_free(&r);
	if (rv != 1)
		return rv;
	/* No verified copy by ranges: one mirror at a time, from the start. */
	fr_log(f, 1, "%s: no verified copy from ranges; one mirror at a time from the start",
	    f->name);
	unlink(f->state);
	if (fetch_reset(f) == -1) {
		fr_log(f, 0, "%s: %s", f->part, strerror(errno));
		f->rc = 2;
		return -1;
	}
	f->have0 = 0;
	return 1;
}

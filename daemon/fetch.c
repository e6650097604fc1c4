/*
 * `emberd fetch`: the reader's client. Any mirror may be hostile, so
 * nothing it says is taken on trust: the catalog counts only when its
 * signature verifies with the publisher's key (given by the reader), the
 * newest such catalog names the item's size and SHA-256, and the bytes,
 * from whichever mirrors answer, are written to OUT.part, hashed as they
 * arrive and renamed to OUT only when the hash is the catalog's.
 *
 * A one-shot command, so plain libcurl (a multi handle for the catalogs,
 * all mirrors at once; an easy handle per transfer); no event loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "catalog.h"
#include "commands.h"
#include "peers.h"
#include "fsutil.h"
#include "hexutil.h"
#include "log.h"
#include "minisign.h"
#include "names.h"

#define SIG_MAX		4096
#define ROUNDS		3	/* times around all mirrors */
#define ERRLEN		512
#define REHASH_BUF	(1u << 20)

static const char fetch_usage[] =
    "usage: emberd fetch --pubkey KEY -m URL [-m URL]... NAME|SHA256 [-o FILE]\n"
    "                    [--proxy URL] [--insecure]\n"
    "Download an item from any of the mirrors and verify it: the newest\n"
    "catalog whose signature verifies with KEY gives the item's size and\n"
    "SHA-256; the bytes, resumed and taken from the next mirror when one\n"
    "fails, must hash to it. They go to FILE.part and are renamed to FILE\n"
    "(default: the item's name) only once verified; a later run resumes a\n"
    "FILE.part. A progress bar is shown on a terminal.\n"
    "  --pubkey KEY     the publisher's minisign public key (RW...), or a .pub file\n"
    "  -m, --mirror URL a mirror's base URL; repeat for more\n"
    "  -o, --output FILE  where to write (default: the item's name, here)\n"
    "  --proxy URL      e.g. socks5h://127.0.0.1:9050 (Tor); default: none but\n"
    "                   curl's usual environment variables\n"
    "  --insecure       accept any TLS certificate (the signature and the hash\n"
    "                   are still checked)\n"
    "Exit 0 verified and written, 1 no mirror had a good copy, 2 bad usage.\n";

struct fetch_mirror {
	char *base;		/* ends in '/' */
	char *cat, *sig;
	size_t cat_len, sig_len;
	int too_big;
	CURL *e[2];
	char errbuf[2][CURL_ERROR_SIZE];
	char why[ERRLEN];
	json_t *json;
	uint64_t seq;
};

struct fetch_mem {
	struct fetch_mirror *m;
	int is_sig;
	size_t cap;
};

struct fetch {
	const char *proxy;
	int insecure;
	struct fetch_mirror *mirrors;
	size_t n;
	/* the transfer */
	int fd;
	EVP_MD_CTX *sha;
	uint64_t have, size;
	int progress;		/* stderr is a terminal */
	const char *label;
	double t0, last_draw;
	uint64_t have0;		/* bytes at the start of this run */
	int too_much;
	long status;
	int started;		/* body bytes of this response seen */
	uint64_t start;		/* the Range asked for */
	CURL *easy;
	char why[ERRLEN];	/* why the write callback refused */
	char content_range[96];
	char etag[200];
};

static int
cmd_usage(FILE *f, const char *text, int status)
{
	fputs(text, f);
	return status;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
fetch_common(const struct fetch *f, CURL *e)
{
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_USERAGENT, "emberd-fetch/" EMBERD_VERSION);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 30L);
	/* Slow is fine (Tor); stalled for a minute is not. */
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, 60L);
	if (f->proxy != NULL)
		curl_easy_setopt(e, CURLOPT_PROXY, f->proxy);
	if (f->insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
}

/* ---- the catalogs ---- */

static size_t
mem_write_cb(char *buf, size_t size, size_t n, void *arg)
{
	struct fetch_mem *fm = arg;
	struct fetch_mirror *m = fm->m;
	char **dst = fm->is_sig ? &m->sig : &m->cat;
	size_t *dlen = fm->is_sig ? &m->sig_len : &m->cat_len;
	size_t max = fm->is_sig ? SIG_MAX : CATALOG_MAX_BYTES, len = size * n;
	char *b;

	if (len > max - *dlen) {
		m->too_big |= 1 << fm->is_sig;
		return 0;
	}
	/* Doubling: a large catalog arrives in many small pieces. */
	if (*dlen + len + 1 > fm->cap) {
		size_t cap = fm->cap ? fm->cap : 16384;
		while (cap < *dlen + len + 1)
			cap *= 2;
		if (cap > max + 1)
			cap = max + 1;
		if ((b = realloc(*dst, cap)) == NULL)
			return 0;
		*dst = b;
		fm->cap = cap;
	}
	b = *dst;
	memcpy(b + *dlen, buf, len);
	*dlen += len;
	b[*dlen] = '\0';
	*dst = b;
	return len;
}

/* Every mirror's catalog and signature, all at once. */
static void
fetch_catalogs(struct fetch *f, const struct minisign_pubkey *pk)
{
	static const char *const what[2] = { "catalog.json", "catalog.json.minisig" };
	CURLM *multi = curl_multi_init();
	struct fetch_mem *mems = calloc(2 * f->n, sizeof(*mems));
	size_t i;
	int running = 0;

	if (multi == NULL || mems == NULL) {
		for (i = 0; i < f->n; i++)
			snprintf(f->mirrors[i].why, ERRLEN, "out of memory");
		goto out;
	}
	for (i = 0; i < 2 * f->n; i++) {
		struct fetch_mirror *m = &f->mirrors[i / 2];
		int s = (int)(i % 2);
		char *url;
		CURL *e;
		if ((e = curl_easy_init()) == NULL || asprintf(&url, "%s%s", m->base, what[s]) == -1) {
			if (e != NULL)
				curl_easy_cleanup(e);
			snprintf(m->why, ERRLEN, "out of memory");
			continue;
		}
		mems[i].m = m;
		mems[i].is_sig = s;
		fetch_common(f, e);
		curl_easy_setopt(e, CURLOPT_URL, url);
		curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, mem_write_cb);
		curl_easy_setopt(e, CURLOPT_WRITEDATA, &mems[i]);
		curl_easy_setopt(e, CURLOPT_ERRORBUFFER, m->errbuf[s]);
		curl_easy_setopt(e, CURLOPT_FAILONERROR, 1L);
		curl_easy_setopt(e, CURLOPT_TIMEOUT, 300L);
		curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
		    (curl_off_t)(s ? SIG_MAX : CATALOG_MAX_BYTES));
		free(url);
		m->e[s] = e;
		curl_multi_add_handle(multi, e);
	}
	do {
		if (curl_multi_perform(multi, &running) != CURLM_OK)
			break;
		if (running > 0)
			curl_multi_poll(multi, NULL, 0, 1000, NULL);
	} while (running > 0);
	{
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			for (i = 0; i < 2 * f->n; i++) {
				struct fetch_mirror *m = &f->mirrors[i / 2];
				int s = (int)(i % 2);
				if (m->e[s] != msg->easy_handle || msg->data.result == CURLE_OK ||
				    m->why[0] != '\0')
					continue;
				if ((m->too_big & (1 << s)) || msg->data.result == CURLE_FILESIZE_EXCEEDED)
					snprintf(m->why, ERRLEN, "%s: larger than %u bytes", what[s],
					    s ? SIG_MAX : CATALOG_MAX_BYTES);
				else
					snprintf(m->why, ERRLEN, "%s: %s", what[s], m->errbuf[s][0] ?
					    m->errbuf[s] : curl_easy_strerror(msg->data.result));
			}
		}
	}
	for (i = 0; i < f->n; i++) {
		struct fetch_mirror *m = &f->mirrors[i];
		for (int s = 0; s < 2; s++) {
			if (m->e[s] != NULL) {
				curl_multi_remove_handle(multi, m->e[s]);
				curl_easy_cleanup(m->e[s]);
				m->e[s] = NULL;
			}
		}
		if (m->why[0] == '\0' && (m->cat == NULL || m->sig == NULL))
			snprintf(m->why, ERRLEN, "empty catalog or signature");
		if (m->why[0] == '\0')
			m->json = peers_check_catalog(pk, m->cat, m->cat_len, m->sig, m->sig_len,
			    &m->seq, m->why, ERRLEN);
	}
out:
	free(mems);
	if (multi != NULL)
		curl_multi_cleanup(multi);
}

/* ---- the transfer ---- */

static void
fetch_draw(struct fetch *f, int last)
{
	double t = now_s(), el = t - f->t0;
	double rate = el > 0.2 || (last && el > 0) ? (double)(f->have - f->have0) / el : 0;
	int pct = f->size > 0 ? (int)(f->have * 100 / f->size) : 100;
	char bar[31], eta[32];
	int k, fill = pct * 30 / 100;

	/* At once (the reader sees it started), then 4 times a second. */
	if (!f->progress || (!last && f->last_draw > 0 && t - f->last_draw < 0.25))
		return;
	f->last_draw = t;
	for (k = 0; k < 30; k++)
		bar[k] = k < fill ? '=' : k == fill ? '>' : ' ';
	bar[30] = '\0';
	if (rate > 0 && f->have < f->size) {
		long s = (long)((double)(f->size - f->have) / rate);
		snprintf(eta, sizeof(eta), "ETA %ld:%02ld", s / 60, s % 60);
	} else
		snprintf(eta, sizeof(eta), "%s", last ? "      " : "ETA --:--");
	fprintf(stderr, "\r%-24.24s %3d%% [%s] %8.1f MiB %7.1f MiB/s %s ", f->label, pct, bar,
	    (double)f->have / 1048576.0, rate / 1048576.0, eta);
	if (last)
		fputc('\n', stderr);
	fflush(stderr);
}

static size_t
fetch_header_cb(char *buf, size_t size, size_t n, void *arg)
{
	struct fetch *f = arg;
	size_t len = size * n;

	if (len > 5 && strncmp(buf, "HTTP/", 5) == 0) {
		f->content_range[0] = '\0';
		f->etag[0] = '\0';
	} else if (len > 14 && strncasecmp(buf, "Content-Range:", 14) == 0) {
		snprintf(f->content_range, sizeof(f->content_range), "%.*s",
		    (int)(len - 14), buf + 14);
	}
	return len;
}

/* Start over: an empty file and a fresh hash. */
static int
fetch_reset(struct fetch *f)
{
	f->have = 0;
	return ftruncate(f->fd, 0) == -1 || lseek(f->fd, 0, SEEK_SET) == -1 ||
	    EVP_DigestInit_ex(f->sha, EVP_sha256(), NULL) != 1 ? -1 : 0;
}

static size_t
fetch_write_cb(char *buf, size_t size, size_t n, void *arg)
{
	struct fetch *f = arg;
	size_t len = size * n;

	if (!f->started) {
		long status = 0;
		f->started = 1;
		curl_easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &status);
		if (status == 200 && f->have > 0 && fetch_reset(f) == -1) {
			/* The whole body follows (Range ignored, or If-Range
			 * did not match): take it from the start. */
			snprintf(f->why, sizeof(f->why), "cannot truncate the output: %s",
			    strerror(errno));
			return 0;
		}
		if (status == 206) {
			char want[48];
			const char *cr = f->content_range;
			snprintf(want, sizeof(want), "bytes %llu-", (unsigned long long)f->start);
			while (*cr == ' ')
				cr++;
			if (strncasecmp(cr, want, strlen(want)) != 0) {
				snprintf(f->why, sizeof(f->why),
				    "answered a range it was not asked for (%.60s)", cr);
				return 0;
			}
		}
	}
	if (len > f->size - f->have) {
		f->too_much = 1;
		return 0;
	}
	if (fsutil_write_all(f->fd, buf, len) == -1)
		return 0;
	EVP_DigestUpdate(f->sha, buf, len);
	f->have += len;
	fetch_draw(f, 0);
	return len;
}

/*
 * One transfer from MIRROR, from f->have on. 1 complete (not yet
 * verified), 0 failed in a way worth another try (WHY), -1 this mirror
 * cannot help with this item.
 */
static int
fetch_from(struct fetch *f, const char *base, const char *hex, char *why, size_t whylen)
{
	CURL *e = curl_easy_init();
	struct curl_slist *hdrs = NULL;
	char *url = NULL, errbuf[CURL_ERROR_SIZE] = "", range[48], hdr[96];
	uint64_t start = f->have;
	CURLcode res;
	int rc = 0;

	if (e == NULL || asprintf(&url, "%ssha256/%s", base, hex) == -1) {
		snprintf(why, whylen, "out of memory");
		if (e != NULL)
			curl_easy_cleanup(e);
		return -1;
	}
	fetch_common(f, e);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, fetch_write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, fetch_header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, f);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(e, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 512L * 1024);
	if (start > 0) {
		/* The object is immutable; If-Range guards against a mirror
		 * that serves something else under the name. */
		snprintf(range, sizeof(range), "%llu-", (unsigned long long)start);
		curl_easy_setopt(e, CURLOPT_RANGE, range);
		snprintf(hdr, sizeof(hdr), "If-Range: \"%s\"", hex);
		hdrs = curl_slist_append(hdrs, hdr);
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
	}
	f->too_much = 0;
	f->started = 0;
	f->start = start;
	f->easy = e;
	f->why[0] = '\0';
	f->content_range[0] = '\0';
	res = curl_easy_perform(e);
	f->easy = NULL;
	f->status = 0;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &f->status);
	if (f->why[0] != '\0') {
		snprintf(why, whylen, "%s: %s", url, f->why);
		rc = 0;
	} else if (res == CURLE_OK) {
		if (f->have == f->size)
			rc = 1;
		else {
			snprintf(why, whylen, "%s: %llu of %llu bytes", url,
			    (unsigned long long)f->have, (unsigned long long)f->size);
			rc = 0;
		}
	} else if (f->too_much) {
		snprintf(why, whylen, "%s: more bytes than the catalog's size (%llu)", url,
		    (unsigned long long)f->size);
		rc = start > 0 ? 0 : -1;
	} else if (f->status == 404 || f->status == 410 || f->status == 403) {
		snprintf(why, whylen, "%s: HTTP %ld", url, f->status);
		rc = -1;
	} else {
		snprintf(why, whylen, "%s: %s", url, errbuf[0] ? errbuf : curl_easy_strerror(res));
		rc = 0;
	}
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(e);
	free(url);
	return rc;
}

/* The rename must survive a crash as well as the bytes. */
static void
fsync_parent(const char *path)
{
	char *copy = strdup(path), *slash;

	if (copy == NULL)
		return;
	slash = strrchr(copy, '/');
	if (slash == NULL)
		fsutil_fsync_dir(".");
	else {
		*slash = '\0';
		fsutil_fsync_dir(slash == copy ? "/" : copy);
	}
	free(copy);
}

/* Re-hash what an earlier run kept in OUT.part. */
static int
fetch_rehash(struct fetch *f)
{
	char *buf = malloc(REHASH_BUF);
	uint64_t done = 0;
	ssize_t r;

	if (buf == NULL)
		return -1;
	while (done < f->have && (r = pread(f->fd, buf, REHASH_BUF, (off_t)done)) > 0) {
		EVP_DigestUpdate(f->sha, buf, (size_t)r);
		done += (uint64_t)r;
	}
	free(buf);
	if (done != f->have)
		return -1;
	return lseek(f->fd, (off_t)f->have, SEEK_SET) == -1 ? -1 : 0;
}

int
cmd_fetch(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pubkey", required_argument, NULL, 'k' },
		{ "mirror", required_argument, NULL, 'm' },
		{ "output", required_argument, NULL, 'o' },
		{ "proxy", required_argument, NULL, 'x' },
		{ "insecure", no_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct fetch f;
	struct minisign_pubkey pk;
	const char *pubkey = NULL, *out = NULL, *want;
	char *part = NULL, *keytext = NULL, why[ERRLEN], last[ERRLEN] = "", keyid[17];
	char **bases = NULL, **order = NULL;
	size_t n_bases = 0, i, k, j;
	struct fetch_mirror *best = NULL;
	json_t *item = NULL, *v;
	const char *hex, *name;
	unsigned char md[EVP_MAX_MD_SIZE];
	char got[65];
	int ch, rc = 2, dead_mask_ok;
	uint64_t dead = 0;
	struct stat sb;

	memset(&f, 0, sizeof(f));
	f.fd = -1;
	optind = 1;
	/* Options may follow NAME (as the usage line shows them). */
	while ((ch = getopt_long(argc, argv, "m:o:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'k': pubkey = optarg; break;
		case 'm': {
			char **nb = realloc(bases, (n_bases + 1) * sizeof(*bases));
			size_t len = strlen(optarg);
			if (nb == NULL)
				goto oom;
			bases = nb;
			if (strncmp(optarg, "http://", 7) != 0 && strncmp(optarg, "https://", 8) != 0) {
				log_error("-m %s: a mirror is an http:// or https:// URL", optarg);
				goto out;
			}
			if (asprintf(&bases[n_bases], "%s%s", optarg,
			    len > 0 && optarg[len - 1] == '/' ? "" : "/") == -1)
				goto oom;
			n_bases++;
			break;
		}
		case 'o': out = optarg; break;
		case 'x': f.proxy = optarg; break;
		case 'K': f.insecure = 1; break;
		case 'h':
			rc = cmd_usage(stdout, fetch_usage, 0);
			goto out;
		default:
			rc = cmd_usage(stderr, fetch_usage, 2);
			goto out;
		}
	}
	if (optind + 1 != argc || pubkey == NULL || n_bases == 0) {
		if (pubkey == NULL)
			log_error("fetch: --pubkey KEY is required: the publisher's key is what "
			    "makes a copy from any mirror trustworthy");
		else if (n_bases == 0)
			log_error("fetch: give at least one mirror with -m URL");
		rc = cmd_usage(stderr, fetch_usage, 2);
		goto out;
	}
	want = argv[optind];
	/* The key: the RW... string, or a .pub file holding it. */
	if (minisign_pubkey_parse(pubkey, strlen(pubkey), &pk) == -1) {
		size_t len;
		if (fsutil_read_file(pubkey, 16384, &keytext, &len) == -1 ||
		    minisign_pubkey_parse(keytext, len, &pk) == -1) {
			log_error("--pubkey %s: not a minisign public key, nor a readable .pub file",
			    pubkey);
			goto out;
		}
	}
	minisign_keyid_hex(pk.id, keyid);
	if ((f.mirrors = calloc(n_bases, sizeof(*f.mirrors))) == NULL)
		goto oom;
	f.n = n_bases;
	for (i = 0; i < n_bases; i++)
		f.mirrors[i].base = bases[i];

	fetch_catalogs(&f, &pk);
	for (i = 0; i < f.n; i++) {
		struct fetch_mirror *m = &f.mirrors[i];
		if (m->json == NULL)
			log_warn("fetch: mirror %s: %s", m->base, m->why);
		else if (best == NULL || m->seq > best->seq)
			best = m;
	}
	rc = 1;
	if (best == NULL) {
		log_error("fetch: no mirror gave a catalog signed by key %s", keyid);
		goto out;
	}
	/* The item: by SHA-256, else by name. */
	json_array_foreach(json_object_get(best->json, "items"), i, v) {
		const char *h = json_string_value(json_object_get(v, "sha256"));
		const char *nm = json_string_value(json_object_get(v, "name"));
		if ((h != NULL && strcmp(h, want) == 0) || (nm != NULL && strcmp(nm, want) == 0)) {
			item = v;
			break;
		}
	}
	if (item == NULL) {
		log_error("fetch: '%s' is not in catalog sequence %llu (signed by %s, from %s)",
		    want, (unsigned long long)best->seq, keyid, best->base);
		goto out;
	}
	hex = json_string_value(json_object_get(item, "sha256"));
	name = json_string_value(json_object_get(item, "name"));
	f.size = (uint64_t)json_integer_value(json_object_get(item, "size"));
	if (out == NULL)
		out = name;	/* validated by catalog_parse: no '/', no dot-names */
	f.label = name;
	if (asprintf(&part, "%s.part", out) == -1) {
		part = NULL;
		goto oom;
	}
	/* Mirrors with the newest catalog first: they have its objects. */
	if ((order = calloc(f.n, sizeof(*order))) == NULL)
		goto oom;
	for (i = 0, k = 0; i < f.n; i++)
		if (f.mirrors[i].json != NULL && f.mirrors[i].seq == best->seq)
			order[k++] = f.mirrors[i].base;
	for (i = 0; i < f.n; i++)
		if (f.mirrors[i].json == NULL || f.mirrors[i].seq != best->seq)
			order[k++] = f.mirrors[i].base;

	if ((f.fd = open(part, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) == -1 ||
	    fstat(f.fd, &sb) == -1) {
		log_error("fetch: %s: %s", part, strerror(errno));
		rc = 2;
		goto out;
	}
	if ((f.sha = EVP_MD_CTX_new()) == NULL || EVP_DigestInit_ex(f.sha, EVP_sha256(), NULL) != 1)
		goto oom;
	f.have = (uint64_t)sb.st_size;
	if (f.have > f.size || fetch_rehash(&f) == -1) {
		if (fetch_reset(&f) == -1) {
			log_error("fetch: %s: %s", part, strerror(errno));
			rc = 2;
			goto out;
		}
	}
	f.progress = isatty(2);
	f.t0 = now_s();
	f.have0 = f.have;
	dead_mask_ok = f.n <= 64;
	for (j = 0; j < ROUNDS * f.n; j++) {
		size_t mi = j % f.n;
		int r;
		if (dead_mask_ok && (dead & ((uint64_t)1 << mi)))
			continue;
		if (f.have < f.size || f.size == 0) {
			r = f.size == 0 ? 1 : fetch_from(&f, order[mi], hex, why, sizeof(why));
			if (r == 0 && f.status == 200 && f.have != f.size) {
				/* Answered whole when a Range was asked for (or cut):
				 * the next try resumes or starts over as it can. */
			}
		} else
			r = 1;
		if (r == 1) {
			unsigned int mdlen = 0;
			EVP_MD_CTX *c = EVP_MD_CTX_new();
			if (c == NULL || EVP_MD_CTX_copy_ex(c, f.sha) != 1 ||
			    EVP_DigestFinal_ex(c, md, &mdlen) != 1) {
				EVP_MD_CTX_free(c);
				goto oom;
			}
			EVP_MD_CTX_free(c);
			hex_encode(md, 32, got);
			if (strcmp(got, hex) == 0) {
				fetch_draw(&f, 1);
				if (fsync(f.fd) == -1 || rename(part, out) == -1) {
					log_error("fetch: %s: %s", out, strerror(errno));
					rc = 2;
					goto out;
				}
				fsync_parent(out);
				/* Off a terminal, quiet: the exit status says it. */
				if (f.progress)
					fprintf(stderr, "emberd: %s: %llu bytes, sha256 %s, verified "
					    "(catalog sequence %llu, key %s)\n", out,
					    (unsigned long long)f.size, hex,
					    (unsigned long long)best->seq, keyid);
				rc = 0;
				goto out;
			}
			/* Altered bytes somewhere: everything again, elsewhere. */
			snprintf(last, sizeof(last), "%s: sha256 mismatch (got %s)", order[mi], got);
			if (f.progress)
				fputc('\n', stderr);
			log_warn("fetch: %s; starting over from the next mirror", last);
			if (f.have0 == 0 && dead_mask_ok)
				dead |= (uint64_t)1 << mi;
			f.have0 = 0;
			if (fetch_reset(&f) == -1) {
				log_error("fetch: %s: %s", part, strerror(errno));
				rc = 2;
				goto out;
			}
			continue;
		}
		if (f.progress)
			fputc('\n', stderr);
		snprintf(last, sizeof(last), "%s", why);
		log_warn("fetch: %s%s", why, f.have > 0 ? "; resuming from the next mirror" :
		    "; trying the next mirror");
		if (r == -1 && dead_mask_ok)
			dead |= (uint64_t)1 << mi;
	}
	if (f.have > 0)
		log_error("fetch: no mirror had a good copy of %s (sha256 %s); last: %s; "
		    "%llu bytes kept in %s for a later run", name, hex,
		    last[0] ? last : "no mirror left", (unsigned long long)f.have, part);
	else
		log_error("fetch: no mirror had a good copy of %s (sha256 %s); last: %s", name,
		    hex, last[0] ? last : "no mirror left");
	goto out;
oom:
	log_error("fetch: out of memory");
	rc = 2;
out:
	if (f.fd != -1)
		close(f.fd);
	if (rc == 1 && part != NULL && f.have == 0)
		unlink(part);
	EVP_MD_CTX_free(f.sha);
	for (i = 0; i < f.n; i++) {
		free(f.mirrors[i].cat);
		free(f.mirrors[i].sig);
		json_decref(f.mirrors[i].json);
	}
	free(f.mirrors);
	for (i = 0; i < n_bases; i++)
		free(bases[i]);
	free(bases);
	free(order);
	free(part);
	free(keytext);
	return rc;
}

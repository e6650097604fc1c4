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
#include "fetch.h"
#include "fsutil.h"
#include "hexutil.h"
#include "http_client.h"
#include "log.h"
#include "minisign.h"
#include "names.h"
#include "peers.h"
#include "urls.h"

#define ROUNDS		3	/* times around all mirrors */
#define ERRLEN		FETCH_ERRLEN
#define REHASH_BUF	(1u << 20)

static const char fetch_usage[] =
    "usage: emberd fetch --pubkey KEY -m URL [-m URL]... NAME|SHA256 [-o FILE]\n"
    "                    [--proxy URL] [--insecure] [--connections N]\n"
    "Download an item from any of the mirrors and verify it: the newest\n"
    "catalog whose signature verifies with KEY gives the item's size and\n"
    "SHA-256; the bytes, resumed and taken from the next mirror when one\n"
    "fails, must hash to it. They go to FILE.part and are renamed to FILE\n"
    "(default: the item's name) only once verified; a later run resumes a\n"
    "FILE.part. A large item comes in ranges from several mirrors at once,\n"
    "each piece checked against the mirrors' Metalink piece hashes: a mirror\n"
    "sending altered bytes is dropped and its ranges fetched elsewhere.\n"
    "A progress bar is shown on a terminal.\n"
    "  --pubkey KEY     the publisher's minisign public key (RW...), or a .pub file\n"
    "  -m, --mirror URL a mirror's base URL; repeat for more\n"
    "  -o, --output FILE  where to write (default: the item's name, here)\n"
    "  --proxy URL      e.g. socks5h://127.0.0.1:9050 (Tor); default: none but\n"
    "                   curl's usual environment variables\n"
    "  --insecure       accept any TLS certificate (the signature and the hash\n"
    "                   are still checked)\n"
    "  --connections N  connections at once for a large item, spread over the\n"
    "                   mirrors (1 to 64, default 4; 1: one mirror at a time)\n"
    "Exit 0 verified and written, 1 no mirror had a good copy, 2 bad usage.\n";

/* One catalog or signature request of the catalog round. */
struct fetch_doc {
	CURL *e;
	struct http_client_buf buf;
	char errbuf[CURL_ERROR_SIZE];
};

double
fetch_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Slow is fine (Tor); stalled for a minute is not. With no --proxy,
 * curl's usual environment variables apply: this is the reader's own
 * client, run in the reader's environment. */
int
fetch_setup(const struct fetch *f, CURL *e)
{
	struct http_client_opts o = {
		.proxy = f->a->proxy,
		.proxy_env = !f->a->no_proxy_env,
		.user_agent = f->a->user_agent != NULL ? f->a->user_agent :
		    "emberd-fetch/" EMBERD_VERSION,
		.ca_file = f->a->ca_file,
		.max_redirs = 5,
		.connect_timeout = 30,
		.low_speed = 1,
		.low_speed_time = 60,
		.tls_verify = !f->a->insecure,
	};

	return http_client_setup(e, &o);
}

/* ---- the catalogs ---- */

static int
fetch_doc_start(struct fetch *f, CURLM *multi, struct fetch_doc *d, size_t i)
{
	const struct peer *p = &f->ps.p[i / 2];
	enum peers_doc doc = i % 2 ? PEERS_SIGNATURE : PEERS_CATALOG;
	char *url;

	http_client_buf_init(&d->buf, peers_doc_max(doc));
	if ((d->e = curl_easy_init()) == NULL)
		return -1;
	if (asprintf(&url, "%s%s", p->base, peers_doc_name(doc)) == -1)
		return -1;
	if (fetch_setup(f, d->e) == -1 || curl_easy_setopt(d->e, CURLOPT_URL, url) != CURLE_OK) {
		free(url);
		return -1;
	}
	free(url);
	http_client_buf_attach(d->e, &d->buf);
	curl_easy_setopt(d->e, CURLOPT_ERRORBUFFER, d->errbuf);
	curl_easy_setopt(d->e, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(d->e, CURLOPT_TIMEOUT, 300L);
	return curl_multi_add_handle(multi, d->e) == CURLM_OK ? 0 : -1;
}

/* What each finished request brought, to its peer. */
static void
fetch_docs_done(struct fetch *f, CURLM *multi, struct fetch_doc *docs)
{
	char why[CURL_ERROR_SIZE + 64];
	CURLMsg *msg;
	size_t i;
	int left;

	while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		for (i = 0; i < 2 * f->ps.n && docs[i].e != msg->easy_handle; i++)
			;
		if (i == 2 * f->ps.n)
			continue;
		struct fetch_doc *d = &docs[i];
		enum peers_doc doc = i % 2 ? PEERS_SIGNATURE : PEERS_CATALOG;
		CURLcode res = msg->data.result;
		if (res == CURLE_OK) {
			peers_got(&f->ps, i / 2, doc, d->buf.data, d->buf.len, NULL);
			continue;
		}
		if (d->buf.too_big || res == CURLE_FILESIZE_EXCEEDED)
			snprintf(why, sizeof(why), "larger than %zu bytes", d->buf.max);
		else
			snprintf(why, sizeof(why), "%s", d->errbuf[0] ? d->errbuf :
			    curl_easy_strerror(res));
		peers_got(&f->ps, i / 2, doc, NULL, 0, why);
	}
}

/* Every mirror's catalog and signature, all at once. */
static void
fetch_catalogs(struct fetch *f)
{
	CURLM *multi = curl_multi_init();
	struct fetch_doc *docs = calloc(2 * f->ps.n, sizeof(*docs));
	size_t i;
	int running = 0;

	for (i = 0; i < 2 * f->ps.n; i++) {
		struct peer *p = &f->ps.p[i / 2];
		if (multi == NULL || docs == NULL || fetch_doc_start(f, multi, &docs[i], i) == -1)
			snprintf(p->why, sizeof(p->why), "out of memory");
	}
	do {
		if (multi == NULL || curl_multi_perform(multi, &running) != CURLM_OK)
			break;
		if (running > 0)
			curl_multi_poll(multi, NULL, 0, 1000, NULL);
	} while (running > 0);
	if (multi != NULL && docs != NULL)
		fetch_docs_done(f, multi, docs);
	for (i = 0; docs != NULL && i < 2 * f->ps.n; i++) {
		if (docs[i].e != NULL) {
			curl_multi_remove_handle(multi, docs[i].e);
			curl_easy_cleanup(docs[i].e);
		}
		http_client_buf_free(&docs[i].buf);
	}
	free(docs);
	if (multi != NULL)
		curl_multi_cleanup(multi);
}

/* ---- the transfer ---- */

void
fetch_draw(struct fetch *f, int last)
{
	double t = fetch_now(), el = t - f->t0;
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
int
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
	char show[URL_SHOW_MAX];
	uint64_t start = f->have;
	CURLcode res;
	int rc = 0;

	if (e == NULL || asprintf(&url, "%ssha256/%s", base, hex) == -1) {
		snprintf(why, whylen, "out of memory");
		if (e != NULL)
			curl_easy_cleanup(e);
		return -1;
	}
	if (fetch_setup(f, e) == -1) {
		snprintf(why, whylen, "out of memory");
		curl_easy_cleanup(e);
		free(url);
		return -1;
	}
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
	/* Messages name the mirror without its userinfo or query. */
	url_show(url, show, sizeof(show));
	if (f->why[0] != '\0') {
		snprintf(why, whylen, "%.300s: %s", show, f->why);
		rc = 0;
	} else if (res == CURLE_OK) {
		if (f->have == f->size)
			rc = 1;
		else {
			snprintf(why, whylen, "%.300s: %llu of %llu bytes", show,
			    (unsigned long long)f->have, (unsigned long long)f->size);
			rc = 0;
		}
	} else if (f->too_much) {
		snprintf(why, whylen, "%.300s: more bytes than the catalog's size (%llu)", show,
		    (unsigned long long)f->size);
		rc = start > 0 ? 0 : -1;
	} else if (f->status == 404 || f->status == 410 || f->status == 403) {
		snprintf(why, whylen, "%.300s: HTTP %ld", show, f->status);
		rc = -1;
	} else {
		snprintf(why, whylen, "%.300s: %s", show, errbuf[0] ? errbuf : curl_easy_strerror(res));
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

/* ---- the command ---- */

/* The key: the RW... string, or a .pub file holding it. */
static int
fetch_key(struct fetch_args *a)
{
	size_t len;

	if (minisign_pubkey_parse(a->pubkey, strlen(a->pubkey), &a->pk) == -1 &&
	    (fsutil_read_file(a->pubkey, 16384, &a->keytext, &len) == -1 ||
	    minisign_pubkey_parse(a->keytext, len, &a->pk) == -1)) {
		log_error("--pubkey %s: not a minisign public key, nor a readable .pub file",
		    a->pubkey);
		return -1;
	}
	minisign_keyid_hex(a->pk.id, a->keyid);
	return 0;
}

/* The command line into A. -1 with *STATUS the exit status when the
 * command ends here (--help, bad usage). */
static int
fetch_parse(int argc, char **argv, struct fetch_args *a, int *status)
{
	static const struct option opts[] = {
		{ "pubkey", required_argument, NULL, 'k' },
		{ "mirror", required_argument, NULL, 'm' },
		{ "output", required_argument, NULL, 'o' },
		{ "proxy", required_argument, NULL, 'x' },
		{ "insecure", no_argument, NULL, 'K' },
		{ "connections", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char **nm, *end;
	long n;
	int ch;

	*status = 2;
	a->connections = FETCH_CONNECTIONS;
	optind = 1;
	/* Options may follow NAME (as the usage line shows them). */
	while ((ch = getopt_long(argc, argv, "m:o:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'k': a->pubkey = optarg; break;
		case 'm':
			if (strncmp(optarg, "http://", 7) != 0 && strncmp(optarg, "https://", 8) != 0) {
				log_error("-m %s: a mirror is an http:// or https:// URL", optarg);
				return -1;
			}
			if ((nm = realloc(a->mirrors, (a->n_mirrors + 1) * sizeof(*nm))) == NULL) {
				log_error("fetch: out of memory");
				return -1;
			}
			a->mirrors = nm;
			a->mirrors[a->n_mirrors++] = optarg;
			break;
		case 'o': a->out = optarg; break;
		case 'x': a->proxy = optarg; break;
		case 'K': a->insecure = 1; break;
		case 'C':
			n = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || n < 1 || n > FETCH_CONNECTIONS_MAX) {
				log_error("--connections %s: a number from 1 to %d", optarg,
				    FETCH_CONNECTIONS_MAX);
				return -1;
			}
			a->connections = (int)n;
			break;
		case 'h':
			*status = cmd_usage(stdout, fetch_usage, 0);
			return -1;
		default:
			*status = cmd_usage(stderr, fetch_usage, 2);
			return -1;
		}
	}
	if (optind + 1 != argc || a->pubkey == NULL || a->n_mirrors == 0) {
		if (a->pubkey == NULL)
			log_error("fetch: --pubkey KEY is required: the publisher's key is what "
			    "makes a copy from any mirror trustworthy");
		else if (a->n_mirrors == 0)
			log_error("fetch: give at least one mirror with -m URL");
		*status = cmd_usage(stderr, fetch_usage, 2);
		return -1;
	}
	a->want = argv[optind];
	return fetch_key(a);
}

/* The newest catalog from the mirrors, and the item in it: by SHA-256,
 * else by name. */
static int
fetch_choose(struct fetch *f)
{
	const struct fetch_args *a = f->a;
	const struct peer *best;
	json_t *item = NULL, *v;
	char show[URL_SHOW_MAX];
	size_t i;

	f->rc = 2;
	if (peers_init(&f->ps, a->mirrors, a->n_mirrors) == -1) {
		log_error("fetch: out of memory");
		return -1;
	}
	fetch_catalogs(f);
	f->rc = 1;
	if (peers_choose(&f->ps, &a->pk, 0, (int64_t)time(NULL)) == -1) {
		for (i = 0; i < f->ps.n; i++)
			log_warn("fetch: mirror %s: %s", url_show(f->ps.p[i].base, show,
			    sizeof(show)), f->ps.p[i].why);
		if (f->ps.stale != NULL) {
			char when[32];
			catalog_time(f->ps.stale->expires, when);
			log_error("fetch: no mirror gave a current catalog signed by key %s: the "
			    "newest, sequence %llu from %s, expired at %s; refusing stale data",
			    a->keyid, (unsigned long long)f->ps.stale->seq,
			    url_show(f->ps.stale->base, show, sizeof(show)), when);
		} else
			log_error("fetch: no mirror gave a catalog signed by key %s", a->keyid);
		return -1;
	}
	for (i = 0; i < f->ps.n; i++)
		if (f->ps.p[i].json == NULL)
			log_warn("fetch: mirror %s: %s", url_show(f->ps.p[i].base, show,
			    sizeof(show)), f->ps.p[i].why);
	best = f->ps.best;
	json_array_foreach(json_object_get(best->json, "items"), i, v) {
		const char *h = json_string_value(json_object_get(v, "sha256"));
		const char *nm = json_string_value(json_object_get(v, "name"));
		if ((h != NULL && strcmp(h, a->want) == 0) ||
		    (nm != NULL && strcmp(nm, a->want) == 0)) {
			item = v;
			break;
		}
	}
	if (item == NULL) {
		log_error("fetch: '%s' is not in catalog sequence %llu (signed by %s, from %s)",
		    a->want, (unsigned long long)best->seq, a->keyid,
		    url_show(best->base, show, sizeof(show)));
		return -1;
	}
	f->hex = json_string_value(json_object_get(item, "sha256"));
	f->name = json_string_value(json_object_get(item, "name"));
	f->size = (uint64_t)json_integer_value(json_object_get(item, "size"));
	/* The name is validated by catalog_parse: no '/', no dot-names. */
	f->out = a->out != NULL ? a->out : f->name;
	f->label = f->name;
	if (asprintf(&f->part, "%s.part", f->out) == -1 ||
	    asprintf(&f->state, "%s.part.state", f->out) == -1) {
		f->rc = 2;
		log_error("fetch: out of memory");
		return -1;
	}
	return 0;
}

/* OUT.part, opened, with what an earlier run kept hashed again (or
 * dropped when it cannot be this item's beginning). */
static int
fetch_open(struct fetch *f)
{
	struct stat sb;

	f->rc = 2;
	if ((f->fd = open(f->part, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) == -1 ||
	    fstat(f->fd, &sb) == -1) {
		log_error("fetch: %s: %s", f->part, strerror(errno));
		return -1;
	}
	if ((f->sha = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(f->sha, EVP_sha256(), NULL) != 1) {
		log_error("fetch: out of memory");
		return -1;
	}
	f->have = (uint64_t)sb.st_size;
	f->progress = isatty(2);
	f->t0 = fetch_now();
	/* Ranges read back what they keep as they check it: no pass here. */
	if (fetch_ranges_wanted(f))
		return 0;
	if ((f->have > f->size || fetch_rehash(f) == -1) && fetch_reset(f) == -1) {
		log_error("fetch: %s: %s", f->part, strerror(errno));
		return -1;
	}
	f->have0 = f->have;
	return 0;
}

/* All bytes are in: 1 they hash to the catalog's (OUT written), 0 they
 * do not (GOT says what they hash to), -1 failed (logged, f->rc set). */
static int
fetch_finish(struct fetch *f, char got[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	f->rc = 2;
	if (c == NULL || EVP_MD_CTX_copy_ex(c, f->sha) != 1 ||
	    EVP_DigestFinal_ex(c, md, &mdlen) != 1) {
		EVP_MD_CTX_free(c);
		log_error("fetch: out of memory");
		return -1;
	}
	EVP_MD_CTX_free(c);
	hex_encode(md, 32, got);
	if (strcmp(got, f->hex) != 0)
		return 0;
	return fetch_install(f) == 0 ? 1 : -1;
}

int
fetch_install(struct fetch *f)
{
	f->rc = 2;
	fetch_draw(f, 1);
	if (fsync(f->fd) == -1 || rename(f->part, f->out) == -1) {
		log_error("fetch: %s: %s", f->out, strerror(errno));
		return -1;
	}
	fsync_parent(f->out);
	/* Off a terminal, quiet: the exit status says it. */
	if (f->progress)
		fprintf(stderr, "emberd: %s: %llu bytes, sha256 %s, verified "
		    "(catalog sequence %llu, key %s)\n", f->out, (unsigned long long)f->size,
		    f->hex, (unsigned long long)f->ps.best->seq, f->a->keyid);
	return 0;
}

/* The bytes, from the mirrors in turn, resumed across them, until they
 * hash to the catalog's SHA-256. */
static int
fetch_download(struct fetch *f)
{
	char why[ERRLEN], last[ERRLEN] = "", got[65], show[URL_SHOW_MAX];
	size_t at;
	int r;

	if (fetch_open(f) == -1)
		return -1;
	if (fetch_ranges_wanted(f) && (r = fetch_ranges(f)) != 1)
		return r;
	while (peers_next(&f->ps, ROUNDS, &at) == 0) {
		const char *base = f->ps.order[at];
		r = f->size == 0 || f->have >= f->size ? 1 :
		    fetch_from(f, base, f->hex, why, sizeof(why));
		if (r == 1) {
			if ((r = fetch_finish(f, got)) != 0)
				return r == 1 ? 0 : -1;
			/* Altered bytes somewhere: everything again, elsewhere. */
			snprintf(last, sizeof(last), "%s: sha256 mismatch (got %s)",
			    url_show(base, show, sizeof(show)), got);
			if (f->progress)
				fputc('\n', stderr);
			log_warn("fetch: %s; starting over from the next mirror", last);
			if (f->have0 == 0)
				peers_dead(&f->ps, at);
			f->have0 = 0;
			if (fetch_reset(f) == -1) {
				log_error("fetch: %s: %s", f->part, strerror(errno));
				f->rc = 2;
				return -1;
			}
			continue;
		}
		if (f->progress)
			fputc('\n', stderr);
		snprintf(last, sizeof(last), "%s", why);
		log_warn("fetch: %s%s", why, f->have > 0 ? "; resuming from the next mirror" :
		    "; trying the next mirror");
		if (r == -1)
			peers_dead(&f->ps, at);
	}
	if (f->have > 0)
		log_error("fetch: no mirror had a good copy of %s (sha256 %s); last: %s; "
		    "%llu bytes kept in %s for a later run", f->name, f->hex,
		    last[0] ? last : "no mirror left", (unsigned long long)f->have, f->part);
	else
		log_error("fetch: no mirror had a good copy of %s (sha256 %s); last: %s",
		    f->name, f->hex, last[0] ? last : "no mirror left");
	f->rc = 1;
	return -1;
}

int
cmd_fetch(int argc, char **argv)
{
	struct fetch_args a;
	struct fetch f;
	int rc;

	memset(&a, 0, sizeof(a));
	memset(&f, 0, sizeof(f));
	f.a = &a;
	f.fd = -1;
	if (fetch_parse(argc, argv, &a, &rc) == 0)
		rc = fetch_choose(&f) == 0 && fetch_download(&f) == 0 ? 0 : f.rc;
	if (f.fd != -1)
		close(f.fd);
	/* Nothing kept: no empty OUT.part left behind. */
	if (rc == 1 && f.part != NULL && f.have == 0)
		unlink(f.part);
	EVP_MD_CTX_free(f.sha);
	peers_free(&f.ps);
	free(f.part);
	free(f.state);
	free(a.mirrors);
	free(a.keytext);
	return rc;
}

/*
 * The ACME client (acme.h). It runs on the server's event loop, not the
 * work queue: every request goes through curl_loop (libcurl's multi
 * interface on libevent), so the loop never waits on the CA, and the
 * pending challenges the plain listener answers from live on the same
 * thread without a lock. Signing and making a P-256 key are well under a
 * millisecond; the few small files are written once per certificate.
 *
 * One attempt is a chain of requests, one at a time: directory, nonce,
 * account, order, each authorization (and its http-01 challenge, then
 * polls), finalize, polls of the order, the certificate. Any failure ends
 * the attempt with a logged reason and a retry after a backoff; the
 * certificate being served is untouched until a new one is stored whole.
 */
#include "acme.h"

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "acme_jws.h"
#include "acme_parse.h"
#include "curl_loop.h"
#include "fsutil.h"
#include "http_client.h"
#include "log.h"

/*
 * Limits, and why:
 * - JSON_MAX, CHAIN_MAX: a directory, order or authorization is a few
 *   hundred bytes and a chain a few KiB; anything past these is refused.
 * - BACKOFF_FIRST..BACKOFF_MAX: a failed attempt is retried after 1 min,
 *   doubling to 6 h, so a CA that is down is not hammered and a fixed one
 *   is noticed soon. Let's Encrypt allows 5 failed validations an hour.
 * - POLL_FIRST, POLL_MAX, POLLS: an authorization or order is polled
 *   every second or as Retry-After says (at most 10 s), 60 times at most.
 * - NONCE_TRIES: a badNonce answer is retried with the nonce it carries.
 * - TIMEOUT: a request that takes longer has failed.
 */
#define JSON_MAX	(64 * 1024)
#define CHAIN_MAX	(1024 * 1024)
#define BACKOFF_FIRST	60
#define BACKOFF_MAX	(6 * 60 * 60)
#define POLL_FIRST	1
#define POLL_MAX	10
#define POLLS		60
#define NONCE_TRIES	5
#define CONNECT_TIMEOUT	10
#define TIMEOUT		60
#define HEADER_MAX	2048

int
acme_token_ok(const char *token)
{
	size_t i;

	for (i = 0; token[i] != '\0'; i++)
		if (!((token[i] >= 'A' && token[i] <= 'Z') ||
		    (token[i] >= 'a' && token[i] <= 'z') ||
		    (token[i] >= '0' && token[i] <= '9') ||
		    token[i] == '-' || token[i] == '_') || i >= 128)
			return 0;
	return i > 0;
}

/* When a third of CERT's lifetime is left, and when it ends. */
int
acme_cert_renew_at(const char *cert, time_t *renew_at, time_t *not_after)
{
	FILE *f;
	X509 *x = NULL;
	struct tm tb, ta;
	time_t b, e;
	int rc = -1;

	if ((f = fopen(cert, "re")) == NULL)
		return -1;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	ERR_clear_error();
	if (x == NULL ||
	    ASN1_TIME_to_tm(X509_get0_notBefore(x), &tb) != 1 ||
	    ASN1_TIME_to_tm(X509_get0_notAfter(x), &ta) != 1 ||
	    (b = timegm(&tb)) == (time_t)-1 || (e = timegm(&ta)) == (time_t)-1 ||
	    e <= b)
		goto out;
	if (renew_at != NULL)
		*renew_at = e - (e - b) / 3;
	if (not_after != NULL)
		*not_after = e;
	rc = 0;
out:
	X509_free(x);
	return rc;
}

/* Whether KEY is CERT's: a crash between their two writes leaves a pair
 * that is not, which must not stop the server from starting. */
static int
acme_pair_ok(const char *cert, const char *key)
{
	FILE *f;
	X509 *x = NULL;
	EVP_PKEY *k = NULL;
	int rc = -1;

	if ((f = fopen(cert, "re")) != NULL) {
		x = PEM_read_X509(f, NULL, NULL, NULL);
		fclose(f);
	}
	if ((f = fopen(key, "re")) != NULL) {
		k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
	}
	if (x != NULL && k != NULL && X509_check_private_key(x, k) == 1)
		rc = 0;
	ERR_clear_error();
	X509_free(x);
	EVP_PKEY_free(k);
	return rc;
}

int
acme_stored_cert(const char *store, char **cert, char **key)
{
	char *dir, *c = NULL, *k = NULL;
	time_t end, now = time(NULL);
	struct stat st;

	*cert = *key = NULL;
	if ((dir = fsutil_join(store, ACME_DIR)) == NULL)
		return -1;
	c = fsutil_join(dir, ACME_CERT);
	k = fsutil_join(dir, ACME_KEY);
	free(dir);
	if (c == NULL || k == NULL || stat(k, &st) == -1 ||
	    acme_cert_renew_at(c, NULL, &end) == -1 || end <= now ||
	    acme_pair_ok(c, k) == -1) {
		free(c);
		free(k);
		return -1;
	}
	*cert = c;
	*key = k;
	return 0;
}


struct acme_chall {
	char *token, *ka;
};

struct acme;
typedef void (*acme_step_fn)(struct acme *a, long code, const char *body, size_t len);

struct acme {
	struct curl_loop_xfer xfer;	/* first: the transfer's own pointer */
	struct event_base *base;
	const struct config *cfg;
	void (*installed)(void *);
	void *arg;
	struct curl_loop *loop;
	struct event *timer;
	void (*on_timer)(struct acme *);
	unsigned backoff;		/* s before the next attempt after a failure */

	/* one attempt */
	int busy;
	char *dir;			/* STORE/acme */
	char *dir_url;			/* the directory asked */
	EVP_PKEY *account, *certkey;
	struct acme_directory d;
	char *kid, *order_url, *cert_url;
	struct acme_order order;
	size_t authz_i;
	unsigned polls;
	struct acme_chall *ch;
	size_t n_ch;

	/* the request in flight */
	CURL *easy;
	struct curl_slist *hdrs;
	struct http_client_buf body;
	char *url, *payload, *post;
	int nonce_tries;
	acme_step_fn step;
	char nonce[HEADER_MAX], location[HEADER_MAX], retry_after[64];
	char errbuf[CURL_ERROR_SIZE];
};

static void acme_attempt(struct acme *);
static void acme_fail(struct acme *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

const char *
acme_challenge(const struct acme *a, const char *token)
{
	size_t i;

	for (i = 0; a != NULL && i < a->n_ch; i++)
		if (strcmp(a->ch[i].token, token) == 0)
			return a->ch[i].ka;
	return NULL;
}

static void
acme_challenges_clear(struct acme *a)
{
	size_t i;

	for (i = 0; i < a->n_ch; i++) {
		free(a->ch[i].token);
		free(a->ch[i].ka);
	}
	free(a->ch);
	a->ch = NULL;
	a->n_ch = 0;
}

static int
acme_challenge_add(struct acme *a, const char *token)
{
	struct acme_chall *c;
	char *t, *ka;

	if (acme_challenge(a, token) != NULL)
		return 0;
	if ((c = reallocarray(a->ch, a->n_ch + 1, sizeof(*c))) == NULL)
		return -1;
	a->ch = c;
	if ((t = strdup(token)) == NULL ||
	    (ka = acme_key_authorization(a->account, token)) == NULL) {
		free(t);
		return -1;
	}
	a->ch[a->n_ch].token = t;
	a->ch[a->n_ch++].ka = ka;
	return 0;
}

/* ---- timers ---- */

static void
acme_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct acme *a = arg;

	a->on_timer(a);
}

static void
acme_after(struct acme *a, time_t secs, void (*fn)(struct acme *))
{
	struct timeval tv = { secs > 0 ? secs : 0, 0 };

	a->on_timer = fn;
	evtimer_add(a->timer, &tv);
}

/* ---- the end of an attempt ---- */

static void
acme_request_free(struct acme *a)
{
	if (a->easy != NULL) {
		curl_loop_remove(a->loop, a->easy);
		curl_easy_cleanup(a->easy);
		a->easy = NULL;
	}
	curl_slist_free_all(a->hdrs);
	a->hdrs = NULL;
	http_client_buf_free(&a->body);
	free(a->url);
	free(a->payload);
	free(a->post);
	a->url = a->payload = a->post = NULL;
}

static void
acme_attempt_free(struct acme *a)
{
	acme_request_free(a);
	acme_challenges_clear(a);
	acme_directory_free(&a->d);
	acme_order_free(&a->order);
	EVP_PKEY_free(a->account);
	EVP_PKEY_free(a->certkey);
	a->account = a->certkey = NULL;
	free(a->kid);
	free(a->order_url);
	free(a->cert_url);
	free(a->dir);
	free(a->dir_url);
	a->kid = a->order_url = a->cert_url = a->dir = a->dir_url = NULL;
	a->busy = 0;
}

static void
acme_fail(struct acme *a, const char *fmt, ...)
{
	char why[1024];
	va_list ap;
	size_t i;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	/* A redirect's target or curl's message may carry the CA's bytes. */
	for (i = 0; why[i] != '\0'; i++)
		if ((unsigned char)why[i] < 0x20 || why[i] == 0x7f)
			why[i] = '?';
	log_error("ACME: no certificate from %s: %s; the current certificate "
	    "keeps serving, next attempt in %u s", a->dir_url ? a->dir_url : "the CA", why,
	    a->backoff);
	acme_attempt_free(a);
	acme_after(a, a->backoff, acme_attempt);
	a->backoff = a->backoff >= BACKOFF_MAX / 2 ? BACKOFF_MAX : a->backoff * 2;
}

/* Renew when a third of the lifetime is left. */
static void
acme_schedule_renewal(struct acme *a, const char *cert)
{
	time_t at, end, now = time(NULL);
	struct tm tm;
	char when[32];

	if (acme_cert_renew_at(cert, &at, &end) == -1) {
		acme_after(a, 0, acme_attempt);
		return;
	}
	if (gmtime_r(&end, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(when, sizeof(when), "%lld", (long long)end);
	log_info("ACME: certificate valid until %s; renewal in %lld s", when,
	    (long long)(at > now ? at - now : 0));
	acme_after(a, at - now, acme_attempt);
}

/* ---- requests ---- */

static size_t
acme_header_cb(char *buf, size_t size, size_t n, void *arg)
{
	struct acme *a = arg;
	size_t len = size * n, k;
	char *dst = NULL;
	size_t dstlen = 0;
	const char *v;

	if (len > 13 && strncasecmp(buf, "Replay-Nonce:", 13) == 0) {
		dst = a->nonce, dstlen = sizeof(a->nonce), k = 13;
	} else if (len > 9 && strncasecmp(buf, "Location:", 9) == 0) {
		dst = a->location, dstlen = sizeof(a->location), k = 9;
	} else if (len > 12 && strncasecmp(buf, "Retry-After:", 12) == 0) {
		dst = a->retry_after, dstlen = sizeof(a->retry_after), k = 12;
	} else
		return len;
	v = buf + k;
	while (v < buf + len && (*v == ' ' || *v == '\t'))
		v++;
	k = (size_t)(buf + len - v);
	while (k > 0 && (v[k - 1] == '\r' || v[k - 1] == '\n' || v[k - 1] == ' '))
		k--;
	if (k >= dstlen)
		k = 0;	/* too long to be real: as if absent */
	memcpy(dst, v, k);
	dst[k] = '\0';
	return len;
}

static void acme_send_now(struct acme *a);

/* A request ended: badNonce is retried, the rest goes to the step. */
static void
acme_done(struct curl_loop_xfer *x, CURL *e, CURLcode res)
{
	struct acme *a = (struct acme *)x;
	char problem[600];
	long code = 0;
	char *loc = NULL;

	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
	if (res != CURLE_OK) {
		if (a->body.too_big || res == CURLE_FILESIZE_EXCEEDED)
			acme_fail(a, "%s: answer larger than %zu bytes", a->url,
			    a->body.max);
		else
			acme_fail(a, "%s: %s", a->url, a->errbuf[0] ? a->errbuf :
			    curl_easy_strerror(res));
		return;
	}
	if (code >= 300 && code < 400) {
		curl_easy_getinfo(e, CURLINFO_REDIRECT_URL, &loc);
		acme_fail(a, "%s: HTTP %ld redirect to %.200s refused (ACME "
		    "needs no redirects)", a->url, code, loc ? loc : "(nowhere)");
		return;
	}
	if (code >= 400) {
		acme_parse_problem(a->body.data ? a->body.data : "", a->body.len,
		    problem, sizeof(problem));
		if (strstr(problem, "urn:ietf:params:acme:error:badNonce") == problem &&
		    a->payload != NULL && a->nonce[0] != '\0' &&
		    ++a->nonce_tries < NONCE_TRIES) {
			curl_easy_cleanup(a->easy);
			a->easy = NULL;
			http_client_buf_free(&a->body);
			acme_send_now(a);
			return;
		}
		acme_fail(a, "%s: HTTP %ld: %s", a->url, code, problem);
		return;
	}
	a->step(a, code, a->body.data ? a->body.data : "", a->body.len);
}

static void
acme_send_now(struct acme *a)
{
	struct http_client_opts o = {
		.proxy = NULL,
		.proxy_env = 0,
		.user_agent = a->cfg->crawl_user_agent,
		.max_redirs = 0,
		.connect_timeout = CONNECT_TIMEOUT,
		.low_speed = 1,
		.low_speed_time = TIMEOUT,
		.total_timeout = TIMEOUT,
		.tls_verify = 1,
		.ca_file = a->cfg->crawl_ca_file,
	};
	CURL *e;

	free(a->post);
	a->post = NULL;
	if (a->payload != NULL && (a->post = acme_jws(a->account, a->kid,
	    a->nonce, a->url, a->payload)) == NULL) {
		acme_fail(a, "cannot sign the request to %s", a->url);
		return;
	}
	a->nonce[0] = a->location[0] = a->retry_after[0] = a->errbuf[0] = '\0';
	http_client_buf_init(&a->body, a->body.max);
	if ((e = a->easy = curl_easy_init()) == NULL ||
	    http_client_setup(e, &o) == -1 ||
	    /* The CA's answers are read, never followed: a redirect is an
	     * error, and nothing but https is spoken (no file://). */
	    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https") != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_URL, a->url) != CURLE_OK) {
		acme_fail(a, "cannot set up a request to %s", a->url);
		return;
	}
	http_client_buf_attach(e, &a->body);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, a->errbuf);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, acme_header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, a);
	if (a->payload != NULL) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, a->post);
		if (a->hdrs == NULL)
			a->hdrs = curl_slist_append(NULL,
			    "Content-Type: application/jose+json");
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, a->hdrs);
	} else if (a->body.max == 0)
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	a->xfer.done = acme_done;
	if (curl_loop_add(a->loop, e, &a->xfer) == -1)
		acme_fail(a, "cannot start a request to %s", a->url);
}

/* GET (PAYLOAD NULL), HEAD (also MAX 0), or a signed POST of PAYLOAD ("":
 * POST-as-GET) to URL; the answer goes to STEP. */
static void
acme_send(struct acme *a, const char *url, const char *payload, size_t max,
    acme_step_fn step)
{
	char *u = strdup(url), *p = payload ? strdup(payload) : NULL;

	acme_request_free(a);
	a->url = u;
	a->payload = p;
	if (u == NULL || (payload != NULL && p == NULL)) {
		acme_fail(a, "out of memory");
		return;
	}
	a->step = step;
	a->nonce_tries = 0;
	a->body.max = max;
	acme_send_now(a);
}

/* ---- the steps, in order ---- */

static void acme_step_nonce(struct acme *, long, const char *, size_t);
static void acme_step_account(struct acme *, long, const char *, size_t);
static void acme_step_order(struct acme *, long, const char *, size_t);
static void acme_next_authz(struct acme *);
static void acme_step_authz(struct acme *, long, const char *, size_t);
static void acme_step_challenge(struct acme *, long, const char *, size_t);
static void acme_step_finalized(struct acme *, long, const char *, size_t);
static void acme_step_cert(struct acme *, long, const char *, size_t);

static void
acme_step_directory(struct acme *a, long code, const char *body, size_t len)
{
	char err[256];

	if (acme_parse_directory(body, len, &a->d, err, sizeof(err)) == -1) {
		acme_fail(a, "directory %s: %s", a->url, err);
		return;
	}
	acme_send(a, a->d.new_nonce, NULL, 0, acme_step_nonce);
}

static void
acme_step_nonce(struct acme *a, long code, const char *body, size_t len)
{
	char *contact = NULL, *payload;
	int n;

	if (a->nonce[0] == '\0') {
		acme_fail(a, "%s: no Replay-Nonce", a->url);
		return;
	}
	if (a->cfg->acme_email != NULL && asprintf(&contact,
	    ",\"contact\":[\"mailto:%s\"]", a->cfg->acme_email) == -1)
		contact = NULL;
	n = asprintf(&payload, "{\"termsOfServiceAgreed\":true%s}",
	    contact ? contact : "");
	free(contact);
	if (n == -1) {
		acme_fail(a, "out of memory");
		return;
	}
	acme_send(a, a->d.new_account, payload, JSON_MAX, acme_step_account);
	free(payload);
}

static void
acme_step_account(struct acme *a, long code, const char *body, size_t len)
{
	char *ids = NULL, *p, *payload;
	size_t i;

	if (a->location[0] == '\0' || strncmp(a->location, "https://", 8) != 0) {
		acme_fail(a, "%s: account without an https Location", a->url);
		return;
	}
	if ((a->kid = strdup(a->location)) == NULL)
		goto nomem;
	for (i = 0; i < a->cfg->n_acme_domains; i++) {
		/* Domains passed config_check_domain: nothing to escape. */
		if (asprintf(&p, "%s%s{\"type\":\"dns\",\"value\":\"%s\"}",
		    ids ? ids : "", ids ? "," : "", a->cfg->acme_domains[i]) == -1)
			goto nomem;
		free(ids);
		ids = p;
	}
	if (asprintf(&payload, "{\"identifiers\":[%s]}", ids) == -1)
		goto nomem;
	free(ids);
	acme_send(a, a->d.new_order, payload, JSON_MAX, acme_step_order);
	free(payload);
	return;
nomem:
	free(ids);
	acme_fail(a, "out of memory");
}

static void
acme_step_order(struct acme *a, long code, const char *body, size_t len)
{
	char err[256];

	if (a->location[0] == '\0' || strncmp(a->location, "https://", 8) != 0) {
		acme_fail(a, "%s: order without an https Location", a->url);
		return;
	}
	if ((a->order_url = strdup(a->location)) == NULL) {
		acme_fail(a, "out of memory");
		return;
	}
	if (acme_parse_order(body, len, &a->order, err, sizeof(err)) == -1) {
		acme_fail(a, "order %s: %s", a->order_url, err);
		return;
	}
	a->authz_i = 0;
	a->polls = 0;
	acme_next_authz(a);
}

/* Retry-After in seconds (a date is taken as "soon"), within bounds. */
static time_t
acme_poll_delay(struct acme *a)
{
	char *end;
	long v;

	if (a->retry_after[0] != '\0' && isdigit((unsigned char)a->retry_after[0])) {
		v = strtol(a->retry_after, &end, 10);
		if (*end == '\0')
			return v < POLL_FIRST ? POLL_FIRST : v > POLL_MAX ? POLL_MAX : v;
	}
	return POLL_FIRST;
}

static void
acme_poll_authz(struct acme *a)
{
	acme_send(a, a->order.authz[a->authz_i], "", JSON_MAX, acme_step_authz);
}

static void
acme_finalize(struct acme *a)
{
	char *csr, *payload;

	if ((a->certkey = acme_key_new()) == NULL ||
	    (csr = acme_csr(a->certkey, a->cfg->acme_domains,
	    a->cfg->n_acme_domains)) == NULL) {
		acme_fail(a, "cannot make the certificate key or its CSR");
		return;
	}
	if (asprintf(&payload, "{\"csr\":\"%s\"}", csr) == -1) {
		free(csr);
		acme_fail(a, "out of memory");
		return;
	}
	free(csr);
	a->polls = 0;
	acme_send(a, a->order.finalize, payload, JSON_MAX, acme_step_finalized);
	free(payload);
}

static void acme_step_ready(struct acme *, long, const char *, size_t);

static void
acme_poll_ready(struct acme *a)
{
	acme_send(a, a->order_url, "", JSON_MAX, acme_step_ready);
}

/* The order once its authorizations are valid: finalized only when the
 * CA says it is "ready" (RFC 8555 7.4; a CA may lag behind its
 * authorizations). */
static void
acme_step_ready(struct acme *a, long code, const char *body, size_t len)
{
	char err[256];

	acme_order_free(&a->order);
	if (acme_parse_order(body, len, &a->order, err, sizeof(err)) == -1) {
		acme_fail(a, "order %s: %s", a->order_url, err);
		return;
	}
	if (strcmp(a->order.status, "ready") == 0) {
		acme_finalize(a);
		return;
	}
	if (strcmp(a->order.status, "valid") == 0 && a->order.certificate != NULL) {
		acme_send(a, a->order.certificate, "", CHAIN_MAX, acme_step_cert);
		return;
	}
	if (strcmp(a->order.status, "pending") != 0) {
		acme_fail(a, "order %s is %s: %s", a->order_url, a->order.status,
		    a->order.error ? a->order.error : "the CA gave no reason");
		return;
	}
	if (++a->polls > POLLS) {
		acme_fail(a, "order %s still pending after %d polls", a->order_url, POLLS);
		return;
	}
	acme_after(a, acme_poll_delay(a), acme_poll_ready);
}

/* The next authorization, or on to the order when all are done. */
static void
acme_next_authz(struct acme *a)
{
	if (a->authz_i < a->order.n_authz) {
		acme_poll_authz(a);
		return;
	}
	a->polls = 0;
	acme_poll_ready(a);
}

static void
acme_step_authz(struct acme *a, long code, const char *body, size_t len)
{
	struct acme_authz z;
	char err[256];

	if (acme_parse_authz(body, len, &z, err, sizeof(err)) == -1) {
		acme_fail(a, "authorization %s: %s", a->url, err);
		acme_authz_free(&z);
		return;
	}
	if (strcmp(z.status, "valid") == 0) {
		a->authz_i++;
		a->polls = 0;
		acme_authz_free(&z);
		acme_next_authz(a);
		return;
	}
	if (strcmp(z.status, "pending") != 0) {
		acme_fail(a, "authorization for %s is %s: %s", z.domain, z.status,
		    z.error ? z.error : "the CA gave no reason");
		acme_authz_free(&z);
		return;
	}
	if (z.chall_url == NULL) {
		acme_fail(a, "authorization for %s: no http-01 challenge", z.domain);
		acme_authz_free(&z);
		return;
	}
	if (strcmp(z.chall_status, "pending") == 0 && a->polls == 0) {
		/* Published before the CA is told to look. */
		if (acme_challenge_add(a, z.token) == -1) {
			acme_authz_free(&z);
			acme_fail(a, "out of memory");
			return;
		}
		acme_send(a, z.chall_url, "{}", JSON_MAX, acme_step_challenge);
		acme_authz_free(&z);
		return;
	}
	acme_authz_free(&z);
	if (++a->polls > POLLS) {
		acme_fail(a, "authorization %s still pending after %d polls", a->url,
		    POLLS);
		return;
	}
	acme_after(a, acme_poll_delay(a), acme_poll_authz);
}

static void
acme_step_challenge(struct acme *a, long code, const char *body, size_t len)
{
	a->polls = 1;
	acme_after(a, acme_poll_delay(a), acme_poll_authz);
}

static void
acme_poll_order(struct acme *a)
{
	acme_send(a, a->order_url, "", JSON_MAX, acme_step_finalized);
}

/* The order after finalize, or a poll of it. */
static void
acme_step_finalized(struct acme *a, long code, const char *body, size_t len)
{
	char err[256];

	acme_order_free(&a->order);
	if (acme_parse_order(body, len, &a->order, err, sizeof(err)) == -1) {
		acme_fail(a, "order %s: %s", a->order_url, err);
		return;
	}
	if (strcmp(a->order.status, "valid") == 0 && a->order.certificate != NULL) {
		acme_send(a, a->order.certificate, "", CHAIN_MAX, acme_step_cert);
		return;
	}
	if (strcmp(a->order.status, "processing") != 0 &&
	    strcmp(a->order.status, "ready") != 0 &&
	    strcmp(a->order.status, "valid") != 0) {
		acme_fail(a, "order %s is %s: %s", a->order_url, a->order.status,
		    a->order.error ? a->order.error : "the CA gave no reason");
		return;
	}
	if (++a->polls > POLLS) {
		acme_fail(a, "order %s still %s after %d polls", a->order_url,
		    a->order.status, POLLS);
		return;
	}
	acme_after(a, acme_poll_delay(a), acme_poll_order);
}

/*
 * The chain: checked to be PEM certificates whose first matches the new
 * key and is valid now, then stored, key first (a crash between the two
 * leaves a pair acme_stored_cert refuses, not a wrong one served).
 */
static void
acme_step_cert(struct acme *a, long code, const char *body, size_t len)
{
	BIO *b;
	X509 *x = NULL, *more;
	char *pem = NULL, *cert;
	size_t klen = 0;
	int n = 0;

	if ((b = BIO_new_mem_buf(body, (int)len)) != NULL &&
	    (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
		for (n = 1; (more = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL; n++)
			X509_free(more);
	BIO_free(b);
	ERR_clear_error();
	if (x == NULL || X509_check_private_key(x, a->certkey) != 1 ||
	    X509_cmp_current_time(X509_get0_notAfter(x)) <= 0) {
		ERR_clear_error();
		X509_free(x);
		acme_fail(a, "%s: not a PEM certificate chain for the key asked for",
		    a->url);
		return;
	}
	X509_free(x);
	if ((pem = acme_key_pem(a->certkey, &klen)) == NULL ||
	    fsutil_write_atomic(a->dir, ACME_KEY, pem, klen, 0600) == -1 ||
	    fsutil_write_atomic(a->dir, ACME_CERT, body, len, 0600) == -1) {
		acme_fail(a, "cannot store the certificate in %s: %s", a->dir,
		    strerror(errno));
		if (pem != NULL)
			OPENSSL_clear_free(pem, klen);
		return;
	}
	OPENSSL_clear_free(pem, klen);
	log_info("ACME: new certificate for %s (%d in the chain) stored in %s",
	    a->cfg->acme_domains[0], n, a->dir);
	a->backoff = BACKOFF_FIRST;
	cert = fsutil_join(a->dir, ACME_CERT);
	acme_attempt_free(a);
	a->installed(a->arg);
	if (cert != NULL)
		acme_schedule_renewal(a, cert);
	else
		acme_after(a, BACKOFF_MAX, acme_attempt);
	free(cert);
}

/* ---- attempts ---- */

static void
acme_attempt(struct acme *a)
{
	char err[512];

	if (a->busy)
		return;
	/* A SIGHUP's config may have turned it off: that needs a restart. */
	if (!a->cfg->acme || a->cfg->n_acme_domains == 0) {
		log_warn("ACME: acme = no since a SIGHUP; restart to stop the client");
		return;
	}
	a->busy = 1;
	if ((a->dir_url = strdup(a->cfg->acme_directory)) == NULL ||
	    (a->dir = fsutil_join(a->cfg->store, ACME_DIR)) == NULL) {
		acme_fail(a, "out of memory");
		return;
	}
	if (fsutil_mkdir_p(a->dir, 0700) == -1) {
		acme_fail(a, "cannot create '%s': %s", a->dir, strerror(errno));
		return;
	}
	if ((a->account = acme_key_load(a->dir, ACME_ACCOUNT, err,
	    sizeof(err))) == NULL) {
		acme_fail(a, "%s", err);
		return;
	}
	log_info("ACME: asking %s for a certificate for %s%s",
	    a->cfg->acme_directory, a->cfg->acme_domains[0],
	    a->cfg->n_acme_domains > 1 ? " and more" : "");
	acme_send(a, a->dir_url, NULL, JSON_MAX, acme_step_directory);
}

struct acme *
acme_start(struct event_base *base, const struct config *cfg,
    void (*installed)(void *), void *arg)
{
	struct acme *a;
	char *cert, *key;

	if ((a = calloc(1, sizeof(*a))) == NULL ||
	    (a->loop = curl_loop_new(base)) == NULL ||
	    (a->timer = evtimer_new(base, acme_timer_cb, a)) == NULL) {
		log_error("ACME: cannot start: out of memory");
		acme_free(a);
		return NULL;
	}
	a->base = base;
	a->cfg = cfg;
	a->installed = installed;
	a->arg = arg;
	a->backoff = BACKOFF_FIRST;
	if (acme_stored_cert(cfg->store, &cert, &key) == 0) {
		acme_schedule_renewal(a, cert);
		free(cert);
		free(key);
	} else
		acme_after(a, 0, acme_attempt);
	return a;
}

void
acme_free(struct acme *a)
{
	if (a == NULL)
		return;
	acme_attempt_free(a);
	if (a->timer != NULL)
		event_free(a->timer);
	curl_loop_free(a->loop);
	free(a);
}

/*
 * The ACME client (acme.h). It runs on the server's event loop: every
 * request goes through curl_loop (libcurl's multi interface on libevent),
 * so the loop never waits on the CA; the signing and the key making are
 * a few milliseconds of CPU and stay on the loop too.
 */
#include "acme.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "fsutil.h"
#include "log.h"

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
	    acme_cert_renew_at(c, NULL, &end) == -1 || end <= now) {
		free(c);
		free(k);
		return -1;
	}
	*cert = c;
	*key = k;
	return 0;
}

/* ---- temporary: the client comes below ---- */
struct acme { int dummy; };
struct acme *acme_start(struct event_base *base, const struct config *cfg,
    void (*installed)(void *), void *arg) { return NULL; }
void acme_free(struct acme *a) {}
const char *acme_challenge(const struct acme *a, const char *token) { return NULL; }

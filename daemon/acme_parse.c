/*
 * Reading the ACME CA's JSON (acme_parse.h). The CA is trusted for its
 * certificate, not for well-formed bytes: a body is checked for every
 * member used, and what goes into logs is made printable and short.
 */
#include "acme_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "acme.h"

#define URL_MAX		2048
#define TEXT_MAX	256

/* Printable ASCII of S, at most OUTLEN - 1 bytes. */
static void
acme_show(char *out, size_t outlen, const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < outlen; i++)
		out[i] = (unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f ?
		    '?' : s[i];
	out[i] = '\0';
}

static json_t *
acme_load(const char *body, size_t len, char *err, size_t errlen)
{
	json_error_t je;
	json_t *j;

	if ((j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je)) == NULL) {
		/* jansson quotes the bytes it choked on: they go to a log. */
		char text[96];

		acme_show(text, sizeof(text), je.text);
		snprintf(err, errlen, "not JSON (%s)", text);
		return NULL;
	}
	if (!json_is_object(j)) {
		snprintf(err, errlen, "not a JSON object");
		json_decref(j);
		return NULL;
	}
	return j;
}

/* A copy of O's member NAME: a string without controls, at most MAX. */
static int
acme_str(json_t *o, const char *name, size_t max, char **out)
{
	const char *s;
	size_t i, n;
	json_t *v = json_object_get(o, name);

	*out = NULL;
	if (!json_is_string(v))
		return -1;
	s = json_string_value(v);
	n = json_string_length(v);
	if (n == 0 || n > max || strlen(s) != n)
		return -1;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return -1;
	return (*out = strdup(s)) != NULL ? 0 : -1;
}

static int
acme_url(json_t *o, const char *name, char **out)
{
	if (acme_str(o, name, URL_MAX, out) == -1)
		return -1;
	if (strncmp(*out, "https://", 8) != 0 || strchr(*out, ' ') != NULL) {
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

static char *
acme_problem_of(json_t *p)
{
	const char *type, *detail;
	char buf[512], *s;

	if (!json_is_object(p))
		return NULL;
	type = json_string_value(json_object_get(p, "type"));
	detail = json_string_value(json_object_get(p, "detail"));
	if (type == NULL && detail == NULL)
		return NULL;
	snprintf(buf, sizeof(buf), "%.200s: %.280s", type ? type : "(no type)",
	    detail ? detail : "(no detail)");
	if ((s = malloc(sizeof(buf))) != NULL)
		acme_show(s, sizeof(buf), buf);
	return s;
}

int
acme_parse_problem(const char *body, size_t len, char *out, size_t outlen)
{
	json_t *j;
	char err[128], *p;

	if ((j = acme_load(body, len, err, sizeof(err))) == NULL ||
	    (p = acme_problem_of(j)) == NULL) {
		snprintf(out, outlen, "no problem document (%s)",
		    j == NULL ? err : "no type or detail");
		json_decref(j);
		return -1;
	}
	acme_show(out, outlen, p);
	free(p);
	json_decref(j);
	return 0;
}

int
acme_parse_directory(const char *body, size_t len, struct acme_directory *d,
    char *err, size_t errlen)
{
	json_t *j;
	int rc = -1;

	memset(d, 0, sizeof(*d));
	if ((j = acme_load(body, len, err, errlen)) == NULL)
		return -1;
	if (acme_url(j, "newNonce", &d->new_nonce) == -1 ||
	    acme_url(j, "newAccount", &d->new_account) == -1 ||
	    acme_url(j, "newOrder", &d->new_order) == -1)
		snprintf(err, errlen, "directory without https newNonce, "
		    "newAccount and newOrder URLs");
	else
		rc = 0;
	json_decref(j);
	return rc;
}

void
acme_directory_free(struct acme_directory *d)
{
	free(d->new_nonce);
	free(d->new_account);
	free(d->new_order);
	memset(d, 0, sizeof(*d));
}

int
acme_parse_order(const char *body, size_t len, struct acme_order *o,
    char *err, size_t errlen)
{
	json_t *j, *a, *v;
	size_t i;
	int rc = -1;

	memset(o, 0, sizeof(*o));
	if ((j = acme_load(body, len, err, errlen)) == NULL)
		return -1;
	a = json_object_get(j, "authorizations");
	if (acme_str(j, "status", TEXT_MAX, &o->status) == -1 ||
	    acme_url(j, "finalize", &o->finalize) == -1 || !json_is_array(a) ||
	    json_array_size(a) == 0 || json_array_size(a) > ACME_AUTHZ_MAX) {
		snprintf(err, errlen, "order without status, finalize URL or "
		    "authorizations (1 to %d)", ACME_AUTHZ_MAX);
		goto out;
	}
	if ((o->authz = calloc(json_array_size(a), sizeof(*o->authz))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	json_array_foreach(a, i, v) {
		json_t *w = json_pack("{s:O}", "u", v);

		if (w == NULL || acme_url(w, "u", &o->authz[i]) == -1) {
			json_decref(w);
			snprintf(err, errlen, "order's authorization %zu is not an "
			    "https URL", i);
			goto out;
		}
		json_decref(w);
		o->n_authz = i + 1;
	}
	if (json_object_get(j, "certificate") != NULL &&
	    acme_url(j, "certificate", &o->certificate) == -1) {
		snprintf(err, errlen, "order's certificate is not an https URL");
		goto out;
	}
	o->error = acme_problem_of(json_object_get(j, "error"));
	rc = 0;
out:
	json_decref(j);
	return rc;
}

void
acme_order_free(struct acme_order *o)
{
	size_t i;

	for (i = 0; i < o->n_authz; i++)
		free(o->authz[i]);
	free(o->authz);
	free(o->status);
	free(o->finalize);
	free(o->certificate);
	free(o->error);
	memset(o, 0, sizeof(*o));
}

int
acme_parse_authz(const char *body, size_t len, struct acme_authz *z,
    char *err, size_t errlen)
{
	json_t *j, *ch, *c;
	size_t i;
	int rc = -1;

	memset(z, 0, sizeof(*z));
	if ((j = acme_load(body, len, err, errlen)) == NULL)
		return -1;
	ch = json_object_get(j, "challenges");
	if (acme_str(j, "status", TEXT_MAX, &z->status) == -1 ||
	    acme_str(json_object_get(j, "identifier"), "value", 253, &z->domain) == -1 ||
	    !json_is_array(ch)) {
		snprintf(err, errlen, "authorization without status, identifier "
		    "or challenges");
		goto out;
	}
	json_array_foreach(ch, i, c) {
		const char *type = json_string_value(json_object_get(c, "type"));

		if (type == NULL || strcmp(type, "http-01") != 0)
			continue;
		if (acme_url(c, "url", &z->chall_url) == -1 ||
		    acme_str(c, "status", TEXT_MAX, &z->chall_status) == -1 ||
		    acme_str(c, "token", 128, &z->token) == -1 ||
		    !acme_token_ok(z->token)) {
			snprintf(err, errlen, "http-01 challenge without https url, "
			    "status or a base64url token");
			goto out;
		}
		z->error = acme_problem_of(json_object_get(c, "error"));
		rc = 0;
		goto out;
	}
	/* A valid authorization (reused) may list only the one that passed. */
	if (strcmp(z->status, "valid") == 0)
		rc = 0;
	else
		snprintf(err, errlen, "no http-01 challenge offered for %s", z->domain);
out:
	json_decref(j);
	return rc;
}

void
acme_authz_free(struct acme_authz *z)
{
	free(z->status);
	free(z->domain);
	free(z->chall_url);
	free(z->chall_status);
	free(z->token);
	free(z->error);
	memset(z, 0, sizeof(*z));
}

/*
 * The ACME CA's answers (RFC 8555 7.1), read from untrusted bytes: every
 * function takes a body and its length, fills a struct of malloc'd
 * strings (freed with its *_free, also after -1), and on -1 says what
 * was wrong in ERR. URLs must be https:// and printable; the rest is
 * ignored.
 */
#ifndef EMBERD_ACME_PARSE_H
#define EMBERD_ACME_PARSE_H

#include <stddef.h>

#define ACME_AUTHZ_MAX	100	/* a CA's limit on names per order */

struct acme_directory {
	char *new_nonce, *new_account, *new_order;
};

struct acme_order {
	char *status;		/* pending, ready, processing, valid, invalid */
	char **authz;
	size_t n_authz;
	char *finalize;
	char *certificate;	/* once valid */
	char *error;		/* "TYPE: DETAIL" of an invalid order, or NULL */
};

struct acme_authz {
	char *status;		/* pending, valid, invalid, ... */
	char *domain;
	char *chall_url;	/* the http-01 challenge */
	char *chall_status;
	char *token;
	char *error;		/* the challenge's "TYPE: DETAIL", or NULL */
};

int acme_parse_directory(const char *body, size_t len, struct acme_directory *d,
    char *err, size_t errlen);
void acme_directory_free(struct acme_directory *d);

int acme_parse_order(const char *body, size_t len, struct acme_order *o,
    char *err, size_t errlen);
void acme_order_free(struct acme_order *o);

int acme_parse_authz(const char *body, size_t len, struct acme_authz *a,
    char *err, size_t errlen);
void acme_authz_free(struct acme_authz *a);

/* A problem document (RFC 7807) as "TYPE: DETAIL" into OUT, printable
 * and cut to fit; -1 when BODY is not one (OUT then says so). */
int acme_parse_problem(const char *body, size_t len, char *out, size_t outlen);

#endif

/*
 * The ACME (RFC 8555) client of `[https] acme = yes`: an account, an
 * order for every [https] domain, http-01 answered on the plain
 * listener, the certificate stored in STORE/acme/ and renewed when a
 * third of its lifetime is left. acme_parse.c reads what the CA answers;
 * acme_jws.c signs what goes to it.
 */
#ifndef EMBERD_ACME_H
#define EMBERD_ACME_H

#include <stddef.h>
#include <time.h>

#include <event2/event.h>

#include "config.h"

#define ACME_DIR	"acme"
#define ACME_CERT	"cert.pem"
#define ACME_KEY	"key.pem"
#define ACME_ACCOUNT	"account.key"

struct acme;

/*
 * Start on BASE: at once when the store holds no valid certificate,
 * else when a third of its lifetime is left. INSTALLED(ARG) is called
 * after a new certificate was stored. CFG must outlive the client: it is
 * the server's own, which a SIGHUP refills in place, and it is read anew
 * at the start of each attempt. NULL with a logged reason on failure.
 */
struct acme *acme_start(struct event_base *base, const struct config *cfg,
    void (*installed)(void *), void *arg);
void acme_free(struct acme *a);

/* The key authorization published for TOKEN, or NULL. */
const char *acme_challenge(const struct acme *a, const char *token);

/* Whether TOKEN may name a challenge: base64url, 1 to 128 bytes. */
int acme_token_ok(const char *token);

/*
 * STORE/acme/cert.pem and key.pem when both exist and the certificate is
 * valid now: 0 with the malloc'd paths, else -1. *RENEW_AT (may be NULL)
 * is when a third of its lifetime is left.
 */
int acme_stored_cert(const char *store, char **cert, char **key);
int acme_cert_renew_at(const char *cert, time_t *renew_at, time_t *not_after);

#endif

/*
 * What the ACME client signs and sends (RFC 8555 6.2, RFC 7515, 7638):
 * base64url, the account key's JWK and thumbprint, a JWS in the flattened
 * JSON serialization with ES256 (the raw r||s signature, not DER), and
 * the CSR. Keys are ECDSA P-256. Strings returned are malloc'd; NULL on
 * failure (out of memory, or OpenSSL refused).
 */
#ifndef EMBERD_ACME_JWS_H
#define EMBERD_ACME_JWS_H

#include <stddef.h>

#include <openssl/evp.h>

char *acme_b64url(const unsigned char *p, size_t len);

/* DIR/NAME's PEM key; made (0600, atomically) when there is none. */
EVP_PKEY *acme_key_load(const char *dir, const char *name, char *err, size_t errlen);
EVP_PKEY *acme_key_new(void);
/* The key's PEM, in a buffer the caller frees with OPENSSL_clear_free. */
char *acme_key_pem(EVP_PKEY *k, size_t *len);

/* {"crv":"P-256","kty":"EC","x":"...","y":"..."}: the members in the
 * order RFC 7638's thumbprint hashes them. */
char *acme_jwk(EVP_PKEY *k);
/* "TOKEN.THUMBPRINT": what http-01 answers. */
char *acme_key_authorization(EVP_PKEY *k, const char *token);

/* The request body for URL: PAYLOAD ("" for POST-as-GET) signed with K,
 * the protected header naming KID, or carrying the JWK when KID is NULL. */
char *acme_jws(EVP_PKEY *k, const char *kid, const char *nonce, const char *url,
    const char *payload);

/* A CSR for DOMAINS (the first as CN, all in subjectAltName), signed
 * with K, as base64url DER. */
char *acme_csr(EVP_PKEY *k, char *const *domains, size_t n);

#endif

/*
 * TLS for the mirror: TLS 1.2 and 1.3 only, forward-secret AEAD cipher
 * suites only (ECDHE with AES-GCM or ChaCha20-Poly1305 for 1.2; the 1.3
 * suites are all AEAD and forward-secret), no compression, no
 * renegotiation, server cipher preference, session tickets on.
 */

#ifndef EMBERD_TLS_H
#define EMBERD_TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

#include "config.h"

/* A server context with CERT (PEM chain) and KEY (PEM). NULL with err
 * set (naming the file) when they cannot be loaded or do not match. */
SSL_CTX *tls_server_ctx(const char *cert, const char *key, char *err, size_t errlen);

/*
 * The self-signed certificate used when the config names none:
 * STORE/tls/cert.pem and STORE/tls/key.pem (0600), an EC P-256 key and a
 * certificate valid ten years whose subjectAltName holds every listen
 * host (DNS names or IP addresses; "0.0.0.0" and "::" add "localhost",
 * 127.0.0.1 and ::1) plus localhost. Made on first start, reused after
 * (never replaced while it exists). Paths are malloc'd into *cert, *key.
 */
int tls_selfsigned_ensure(const char *store, const struct config_listen *listen,
    size_t n_listen, char **cert, char **key, char *err, size_t errlen);

/* The base64 SHA-256 of CTX's certificate's public key (its DER
 * SubjectPublicKeyInfo), as curl's --pinnedpubkey sha256// takes it,
 * into OUT (at least 45 bytes). 0, or -1 when CTX has no certificate. */
int tls_ctx_pin(SSL_CTX *ctx, char *out, size_t outlen);

#endif

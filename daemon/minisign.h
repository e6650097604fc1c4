/*
 * Minisign-compatible Ed25519 signatures with OpenSSL 3.
 *
 * The secret key file is a PKCS#8 PEM Ed25519 private key (mode 0600). The
 * minisign key id is not random here but derived from the public key (the
 * first 8 bytes of SHA-256 of the 32 raw public key bytes), so the file
 * needs nothing but the key. Signatures use minisign's prehashed form
 * ("ED": Ed25519 over BLAKE2b-512 of the message) and carry a trusted
 * comment signed together with the signature, so that `minisign -Vm FILE
 * -P KEY` verifies them.
 */

#ifndef EMBERD_MINISIGN_H
#define EMBERD_MINISIGN_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define MINISIGN_KEYID_LEN 8
#define MINISIGN_PK_LEN 32
#define MINISIGN_SIG_LEN 64
#define MINISIGN_TRUSTED_MAX 1024

struct minisign_key {
	EVP_PKEY *pkey;
	uint8_t id[MINISIGN_KEYID_LEN];
	uint8_t pk[MINISIGN_PK_LEN];
};

struct minisign_pubkey {
	uint8_t id[MINISIGN_KEYID_LEN];
	uint8_t pk[MINISIGN_PK_LEN];
};

/* Create a new key at PATH (O_EXCL, mode 0600). 1 created, 0 already
 * there (left untouched), -1 error (err says why, naming the path). */
int minisign_keygen(const char *path, char *err, size_t errlen);

/* Load the secret key. Refuses a file readable or writable by group or
 * others, or not owned by the running user. */
int minisign_key_load(const char *path, struct minisign_key *key, char *err, size_t errlen);
void minisign_key_free(struct minisign_key *key);

/* Key id as minisign prints it: 16 uppercase hex digits. */
void minisign_keyid_hex(const uint8_t id[MINISIGN_KEYID_LEN], char out[17]);

/* "RWQ..." (base64 of "Ed" | id | pk), as passed to `minisign -P`. malloc'd. */
char *minisign_pubkey_base64(const struct minisign_key *key);
/* The .pub file: "untrusted comment: minisign public key ID\nRWQ...\n". malloc'd. */
char *minisign_pubkey_file(const struct minisign_key *key);

/* Parse a public key: either the bare base64 line or a whole .pub file
 * (untrusted comment line first). 0 ok, -1 malformed. Untrusted input. */
int minisign_pubkey_parse(const char *text, size_t len, struct minisign_pubkey *out);

/* Sign MSG. TRUSTED is the trusted comment (no newline, < MINISIGN_TRUSTED_MAX).
 * Returns the whole .minisig text, malloc'd, or NULL with err set. */
char *minisign_sign(const struct minisign_key *key, const void *msg, size_t len,
    const char *trusted, char *err, size_t errlen);

/* Verify a .minisig text (untrusted) over MSG with PK: both the signature
 * and the global signature over the trusted comment. On success returns 0
 * and copies the trusted comment (without "trusted comment: ") to
 * trusted_out. -1 otherwise, err says why. Accepts only the prehashed
 * "ED" algorithm. */
int minisign_verify(const struct minisign_pubkey *pk, const void *msg, size_t len,
    const char *sig, size_t siglen, char *trusted_out, size_t trusted_len,
    char *err, size_t errlen);

#endif

/*
 * libFuzzer target for the two parsers that read peers' bytes: the public
 * key parser and the .minisig verifier. The verifier runs with a fixed key
 * derived from a fixed seed over a fixed message, so a corpus signature made
 * with that key reaches the Ed25519 checks and mutations of it explore
 * every rejection path.
 */

#include "minisign.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The message the corpus signatures cover. */
static const char fuzz_msg[] = "emberd fuzz catalog\n";

static const uint8_t fuzz_seed[32] = {
	0x65, 0x6d, 0x62, 0x65, 0x72, 0x64, 0x2d, 0x66,
	0x75, 0x7a, 0x7a, 0x2d, 0x6d, 0x69, 0x6e, 0x69,
	0x73, 0x69, 0x67, 0x6e, 0x2d, 0x73, 0x65, 0x65,
	0x64, 0x2d, 0x30, 0x30, 0x30, 0x30, 0x30, 0x31,
};

static struct minisign_pubkey fuzz_pk;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	EVP_PKEY *pkey;
	uint8_t h[EVP_MAX_MD_SIZE];
	unsigned int hlen = 0;
	size_t pklen = sizeof(fuzz_pk.pk);

	(void)argc;
	(void)argv;
	pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, fuzz_seed,
	    sizeof(fuzz_seed));
	if (pkey == NULL ||
	    EVP_PKEY_get_raw_public_key(pkey, fuzz_pk.pk, &pklen) != 1 ||
	    pklen != sizeof(fuzz_pk.pk))
		abort();
	/* Same derivation as minisign.c: first 8 bytes of SHA-256(pk). */
	if (EVP_Digest(fuzz_pk.pk, sizeof(fuzz_pk.pk), h, &hlen, EVP_sha256(),
	    NULL) != 1)
		abort();
	memcpy(fuzz_pk.id, h, sizeof(fuzz_pk.id));
	EVP_PKEY_free(pkey);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct minisign_pubkey pk;
	char tc[MINISIGN_TRUSTED_MAX], err[256];
	char *copy;

	/* An exact-size copy so ASan sees any read past the input. */
	if ((copy = malloc(size ? size : 1)) == NULL)
		return 0;
	if (size > 0)
		memcpy(copy, data, size);

	minisign_pubkey_parse(copy, size, &pk);
	if (minisign_verify(&fuzz_pk, fuzz_msg, sizeof(fuzz_msg) - 1, copy,
	    size, tc, sizeof(tc), err, sizeof(err)) == 0 &&
	    memchr(tc, '\0', sizeof(tc)) == NULL)
		abort();
	/* A small trusted comment buffer must fail cleanly, never overflow. */
	minisign_verify(&fuzz_pk, fuzz_msg, sizeof(fuzz_msg) - 1, copy, size,
	    tc, 8, err, sizeof(err));
	free(copy);
	return 0;
}

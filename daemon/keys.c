/*
 * The public key of the catalog this mirror serves (see keys.h): one
 * answer for `run` and `verify`, so they cannot disagree.
 */
#include "keys.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include "catalog.h"

/* Load [mirror] key, saying how to make it when it is missing. */
static int
keys_load_secret(const struct config *cfg, struct minisign_key *key, char *err,
    size_t errlen)
{
	memset(key, 0, sizeof(*key));
	if (minisign_key_load(cfg->key, key, err, errlen) == -1) {
		/* The one mistake a new publisher makes: say how to fix it. */
		if (access(cfg->key, F_OK) == -1 && errno == ENOENT) {
			size_t n = strlen(err);
			snprintf(err + n, errlen - n, " (create it with `emberd keygen -c %s`)",
			    cfg->path);
		}
		return -1;
	}
	return 0;
}

int
keys_check_signer(const struct config *cfg, const struct store *st, char *err,
    size_t errlen)
{
	struct minisign_key key;
	json_t *cat = NULL;
	const char *publisher;
	char id[17];
	int rc = -1;

	if (keys_load_secret(cfg, &key, err, errlen) == -1)
		return -1;
	minisign_keyid_hex(key.id, id);
	if (catalog_load_current(st, &cat, err, errlen) == -1)
		goto out;
	publisher = cat != NULL ? json_string_value(json_object_get(cat, "publisher")) : NULL;
	if (publisher != NULL && strcasecmp(publisher, id) != 0) {
		snprintf(err, errlen, "%s: key %s (id %s) did not sign this store's catalog "
		    "(publisher %s): followers would refuse what it signs; configure the "
		    "publisher's own key in [mirror] key", cfg->path, cfg->key, id, publisher);
		goto out;
	}
	rc = 0;
out:
	json_decref(cat);
	minisign_key_free(&key);
	return rc;
}

int
keys_public(const struct config *cfg, struct minisign_pubkey *pk, char *err,
    size_t errlen)
{
	struct minisign_key key;

	if (cfg->follow_pubkey != NULL) {
		if (minisign_pubkey_parse(cfg->follow_pubkey, strlen(cfg->follow_pubkey),
		    pk) == -1) {
			snprintf(err, errlen, "%s: [follow] pubkey is malformed", cfg->path);
			return -1;
		}
		return 0;
	}
	if (keys_load_secret(cfg, &key, err, errlen) == -1)
		return -1;
	memcpy(pk->id, key.id, sizeof(pk->id));
	memcpy(pk->pk, key.pk, sizeof(pk->pk));
	minisign_key_free(&key);
	return 0;
}

int
keys_public_text(const struct config *cfg, char **b64, char **file, char *err,
    size_t errlen)
{
	/* minisign's encoders read only the id and public half. */
	struct minisign_key key = { .pkey = NULL };
	struct minisign_pubkey pk;

	*b64 = *file = NULL;
	if (keys_public(cfg, &pk, err, errlen) == -1)
		return -1;
	memcpy(key.id, pk.id, sizeof(key.id));
	memcpy(key.pk, pk.pk, sizeof(key.pk));
	if ((*b64 = minisign_pubkey_base64(&key)) == NULL ||
	    (*file = minisign_pubkey_file(&key)) == NULL) {
		free(*b64);
		*b64 = NULL;
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

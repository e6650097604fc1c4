/*
 * Catalog parsing is strict (peers are untrusted), items stay sorted and
 * unique, and publishing bumps the sequence by exactly one, signs, and
 * swaps current atomically.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "fsutil.h"
#include "minisign.h"
#include "check.h"

static char err[1024];

static int
parses(const char *s)
{
	json_t *c = catalog_parse(s, strlen(s), err, sizeof(err));
	int ok = c != NULL;
	json_decref(c);
	return ok;
}

#define SHA "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define HEAD "{\"version\":1,\"publisher\":\"0123456789ABCDEF\",\"name\":\"n\"," \
	"\"generated\":\"2026-11-28T12:00:00Z\",\"sequence\":42,\"mirrors\":[\"https://m.example/\"],"
#define ITEM(name) "{\"name\":\"" name "\",\"sha256\":\"" SHA "\",\"size\":0," \
	"\"type\":\"text/plain\",\"source\":\"\",\"fetched\":\"2026-11-28T11:59:00Z\"}"

int
main(void)
{
	char dir[] = "/tmp/emberd-test-catalog-XXXXXX", *keypath, *buf, *sigbuf;
	char trusted[MINISIGN_TRUSTED_MAX];
	struct store st;
	struct minisign_key key;
	struct minisign_pubkey pk;
	json_t *cat, *cur;
	size_t len, slen;

	CHECK(parses(HEAD "\"items\":[" ITEM("a") "," ITEM("b") "]}"));
	CHECK(!parses(HEAD "\"items\":[" ITEM("a") "," ITEM("a") "]}"));
	CHECK(!parses(HEAD "\"items\":[" ITEM("../etc/passwd") "]}"));
	CHECK(!parses(HEAD "\"items\":[" ITEM(".hidden") "]}"));
	CHECK(!parses(HEAD "\"items\":{}}"));
	CHECK(!parses("{\"version\":2}"));
	CHECK(!parses("[]"));
	CHECK(!parses("{"));
	CHECK(!parses(""));
	CHECK(!parses("{\"version\":1,\"version\":1}"));

	CHECK(mkdtemp(dir) != NULL);
	CHECK(store_open(&st, dir, 1, err, sizeof(err)) == 0);
	keypath = fsutil_join(dir, "publisher.key");
	CHECK(minisign_keygen(keypath, err, sizeof(err)) == 1);
	memset(&key, 0, sizeof(key));
	CHECK(minisign_key_load(keypath, &key, err, sizeof(err)) == 0);
	memcpy(pk.id, key.id, 8);
	memcpy(pk.pk, key.pk, 32);

	CHECK(catalog_load_current(&st, &cur, err, sizeof(err)) == 0 && cur == NULL);
	cat = catalog_new("April archive", "0000000000000000");
	CHECK(catalog_put_item(cat, "b.txt", SHA, 0, "text/plain", "", "t") == 1);
	CHECK(catalog_put_item(cat, "a.txt", SHA, 0, "text/plain", "", "t") == 1);
	CHECK(catalog_put_item(cat, "a.txt", SHA, 0, "text/plain", "", "t") == 0);
	CHECK(json_array_size(json_object_get(cat, "items")) == 2);
	CHECK(strcmp(json_string_value(json_object_get(json_array_get(
	    json_object_get(cat, "items"), 0), "name")), "a.txt") == 0);
	CHECK(catalog_publish(&st, cat, &key, err, sizeof(err)) == 0);
	CHECK(catalog_publish(&st, cat, &key, err, sizeof(err)) == 0);
	CHECK(catalog_publish(&st, cat, &key, err, sizeof(err)) == 0);
	CHECK(catalog_load_current(&st, &cur, err, sizeof(err)) == 0 && cur != NULL);
	CHECK(json_integer_value(json_object_get(cur, "sequence")) == 3);
	json_decref(cur);

	/* What current/ holds is signed by the key, byte for byte. */
	char *jp = catalog_current_path(&st, "catalog.json");
	char *sp = catalog_current_path(&st, "catalog.json.minisig");
	CHECK(fsutil_read_file(jp, 1 << 20, &buf, &len) == 0);
	CHECK(fsutil_read_file(sp, 1 << 20, &sigbuf, &slen) == 0);
	CHECK(minisign_verify(&pk, buf, len, sigbuf, slen, trusted, sizeof(trusted),
	    err, sizeof(err)) == 0);
	CHECK(strstr(trusted, "sequence:3") != NULL);
	/* Only the last two catalogs are kept. */
	{
		char p1[600];
		snprintf(p1, sizeof(p1), "%s/1", st.catalogs);
		CHECK(access(p1, F_OK) == -1);
		snprintf(p1, sizeof(p1), "%s/2", st.catalogs);
		CHECK(access(p1, F_OK) == 0);
	}
	free(buf);
	free(sigbuf);
	free(jp);
	free(sp);
	json_decref(cat);
	minisign_key_free(&key);
	store_close(&st);
	free(keypath);
	{
		char cmd[600];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		CHECK(system(cmd) == 0);
	}
	CHECK_DONE();
}

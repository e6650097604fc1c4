/*
 * Catalog parsing is strict (peers are untrusted), its times and
 * digests included; items stay sorted and unique, and publishing bumps
 * the sequence by exactly one, chains each catalog to the one it
 * replaces, sets its expiry, signs, and swaps current atomically.
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
#define TAIL "\"items\":[]}"
#define PREV "\"previous\":\"" SHA "\","
#define ITEM(name) "{\"name\":\"" name "\",\"sha256\":\"" SHA "\",\"size\":0," \
	"\"type\":\"text/plain\",\"source\":\"\",\"fetched\":\"2026-11-28T11:59:00Z\"}"

static int
time_is(const char *s, long long want)
{
	int64_t t;

	return catalog_time_parse(s, &t) == 0 && t == want;
}

static int
time_bad(const char *s)
{
	int64_t t;

	return catalog_time_parse(s, &t) == -1;
}

/* The optional fields: absent, or exactly what emberd writes. */
static void
check_chain_fields(void)
{
	char out[32];

	CHECK(parses(HEAD TAIL));
	{
		/* An expiry at the epoch is one, not "none". */
		json_t *c = catalog_parse(HEAD "\"expires\":\"1970-01-01T00:00:00Z\"," TAIL,
		    strlen(HEAD "\"expires\":\"1970-01-01T00:00:00Z\"," TAIL), err,
		    sizeof(err));
		int64_t t = -1;
		CHECK(c != NULL && catalog_expires(c, &t) == 1 && t == 0);
		json_decref(c);
		c = catalog_parse(HEAD TAIL, strlen(HEAD TAIL), err, sizeof(err));
		CHECK(c != NULL && catalog_expires(c, &t) == 0);
		json_decref(c);
	}
	CHECK(parses(HEAD "\"expires\":\"2026-12-28T12:00:00Z\"," PREV TAIL));
	CHECK(!parses(HEAD "\"expires\":\"2026-12-28T12:00:00+00:00\"," TAIL));
	CHECK(!parses(HEAD "\"expires\":\"2026-12-28 12:00:00Z\"," TAIL));
	CHECK(!parses(HEAD "\"expires\":\"2026-13-28T12:00:00Z\"," TAIL));
	CHECK(!parses(HEAD "\"expires\":1798459200," TAIL));
	CHECK(!parses(HEAD "\"expires\":null," TAIL));
	CHECK(!parses(HEAD "\"expires\":\"\"," TAIL));
	CHECK(!parses(HEAD "\"expires\":\"2026-12-28T12:00:00Z\","
	    "\"expires\":\"2099-12-28T12:00:00Z\"," TAIL));
	CHECK(!parses(HEAD "\"previous\":\"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855\"," TAIL));
	CHECK(!parses(HEAD "\"previous\":\"e3b0\"," TAIL));
	CHECK(!parses(HEAD "\"previous\":\"" SHA "0\"," TAIL));
	CHECK(!parses(HEAD "\"previous\":[]," TAIL));
	CHECK(!parses(HEAD "\"previous\":\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8zz\"," TAIL));

	CHECK(time_is("1970-01-01T00:00:00Z", 0));
	CHECK(time_is("2026-11-28T12:00:00Z", 1795867200LL));
	CHECK(time_is("2000-02-29T23:59:59Z", 951868799LL));
	CHECK(time_is("9999-12-31T23:59:59Z", 253402300799LL));
	CHECK(time_bad("1969-12-31T23:59:59Z"));
	CHECK(time_bad("2100-02-29T00:00:00Z"));
	CHECK(time_bad("2026-02-29T00:00:00Z"));
	CHECK(time_bad("2026-04-31T00:00:00Z"));
	CHECK(time_bad("2026-11-28T24:00:00Z"));
	CHECK(time_bad("2026-11-28T12:60:00Z"));
	CHECK(time_bad("2026-11-28T12:00:60Z"));
	CHECK(time_bad("2026-11-28T12:00:00z"));
	CHECK(time_bad("2026-11-28T12:00:00.5Z"));
	CHECK(time_bad("2026-11-28T12:00:0Z "));
	CHECK(time_bad("+026-11-28T12:00:00Z"));
	CHECK(time_bad("2026-1a-28T12:00:00Z"));
	CHECK(time_bad(""));
	/* What catalog_time writes reads back as the same instant. */
	catalog_time(1795867200LL + 86399, out);
	CHECK(time_is(out, 1795867200LL + 86399));
}

/* catalogs/SEQ/catalog.json of ST, read whole; its digest in HEX. */
static char *
read_seq(const struct store *st, int seq, size_t *len, char hex[65])
{
	char p[600], *buf;

	snprintf(p, sizeof(p), "%s/%d/catalog.json", st->catalogs, seq);
	CHECK(fsutil_read_file(p, 1 << 20, &buf, len) == 0);
	catalog_digest(buf, *len, hex);
	return buf;
}

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
	check_chain_fields();

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
	CHECK(catalog_publish(&st, cat, &key, 3600, err, sizeof(err)) == 0);
	{
		/* The first has no predecessor; it is valid for an hour. */
		char hex[65];
		size_t l;
		int64_t gen, exp;
		char *b = read_seq(&st, 1, &l, hex);
		json_t *c1 = catalog_parse(b, l, err, sizeof(err));
		CHECK(c1 != NULL && json_object_get(c1, "previous") == NULL);
		CHECK(catalog_time_parse(json_string_value(json_object_get(c1, "generated")),
		    &gen) == 0 && catalog_expires(c1, &exp) && exp == gen + 3600);
		CHECK(strstr(b, "\"generated\":") < strstr(b, "\"expires\":"));
		CHECK(strstr(b, "\"expires\":") < strstr(b, "\"sequence\":"));
		CHECK(strstr(b, "\"sequence\":") < strstr(b, "\"items\":"));
		json_decref(c1);
		free(b);
	}
	CHECK(catalog_publish(&st, cat, &key, 3600, err, sizeof(err)) == 0);
	CHECK(catalog_publish(&st, cat, &key, 120, err, sizeof(err)) == 0);
	CHECK(catalog_load_current(&st, &cur, err, sizeof(err)) == 0 && cur != NULL);
	CHECK(json_integer_value(json_object_get(cur, "sequence")) == 3);
	{
		/* Each names the digest of the exact bytes it replaced. */
		char hex2[65];
		size_t l;
		int64_t gen, exp;
		char *b = read_seq(&st, 2, &l, hex2);
		CHECK(strcmp(json_string_value(json_object_get(cur, "previous")), hex2) == 0);
		CHECK(strstr(b, "\"sequence\":2,\"previous\":\"") != NULL);
		CHECK(catalog_time_parse(json_string_value(json_object_get(cur, "generated")),
		    &gen) == 0 && catalog_expires(cur, &exp) && exp == gen + 120);
		free(b);
	}
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

/*
 * peers.c: of the catalogs untrusted peers hand over, only those signed
 * by the publisher's key, not older than what is held and not expired
 * count; the newest wins; the peers are ordered newest first, failed last, and
 * taken in turn without the dead ones.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "fsutil.h"
#include "minisign.h"
#include "peers.h"
#include "check.h"

#define SHA "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static char err[1024];
/* The next catalogs' "expires" field with its comma, or "" for none. */
static const char *expires_field = "";

/* 2026-11-28T12:00:00Z: "now" for the expiry checks. */
#define NOW	1795867200LL

static char *
catalog_text(unsigned long long seq)
{
	char *s;

	if (asprintf(&s, "{\"version\":1,\"publisher\":\"0123456789ABCDEF\",\"name\":\"n\","
	    "\"generated\":\"2026-11-28T12:00:00Z\",%s\"sequence\":%llu,\"mirrors\":[],"
	    "\"items\":[{\"name\":\"a.txt\",\"sha256\":\"" SHA "\",\"size\":0,"
	    "\"type\":\"text/plain\",\"source\":\"\",\"fetched\":\"2026-11-28T11:59:00Z\"}]}\n",
	    expires_field, seq) == -1)
		return NULL;
	return s;
}

/* Hand peer I a catalog of sequence SEQ signed by KEY, the trusted
 * comment naming SIGNED_SEQ; TAMPER alters the catalog after signing. */
static void
give(struct peers *ps, size_t i, const struct minisign_key *key, unsigned long long seq,
    unsigned long long signed_seq, int tamper)
{
	char trusted[128], *cat = catalog_text(seq), *sig;

	snprintf(trusted, sizeof(trusted),
	    "timestamp:1764331200\tsequence:%llu\tfile:catalog.json\tprehashed", signed_seq);
	CHECK(cat != NULL);
	sig = minisign_sign(key, cat, strlen(cat), trusted, err, sizeof(err));
	CHECK(sig != NULL);
	if (tamper)
		cat[strlen(cat) - 3] = ' ';
	CHECK(peers_got(ps, i, PEERS_CATALOG, cat, strlen(cat), NULL) == 0);
	CHECK(peers_got(ps, i, PEERS_SIGNATURE, sig, strlen(sig), NULL) == 0);
	free(cat);
	free(sig);
}

static int
starts(const char *s, const char *prefix)
{
	if (strncmp(s, prefix, strlen(prefix)) == 0)
		return 1;
	fprintf(stderr, "'%s' does not start with '%s'\n", s, prefix);
	return 0;
}

static void
load_key(const char *dir, const char *name, struct minisign_key *key)
{
	char *path = fsutil_join(dir, name);

	memset(key, 0, sizeof(*key));
	CHECK(minisign_keygen(path, err, sizeof(err)) == 1);
	CHECK(minisign_key_load(path, key, err, sizeof(err)) == 0);
	unlink(path);
	free(path);
}

int
main(void)
{
	char dir[] = "/tmp/emberd-test-peers-XXXXXX";
	char *urls[] = { "http://a.example", "http://b.example/", "http://c.example",
	    "http://d.example", "http://e.example", "http://f.example", "http://g.example",
	    "http://h.example", "http://i.example" };
	size_t n = sizeof(urls) / sizeof(urls[0]), at, i;
	struct minisign_key key, other;
	struct minisign_pubkey pk;
	struct peers ps;
	uint64_t seq = 0;
	json_t *j;

	CHECK(mkdtemp(dir) != NULL);
	load_key(dir, "publisher.key", &key);
	load_key(dir, "other.key", &other);
	rmdir(dir);
	memcpy(pk.id, key.id, sizeof(pk.id));
	memcpy(pk.pk, key.pk, sizeof(pk.pk));

	CHECK(peers_init(&ps, urls, n) == 0);
	CHECK(strcmp(ps.p[0].base, "http://a.example/") == 0);
	CHECK(strcmp(ps.p[1].base, "http://b.example/") == 0);
	CHECK(strcmp(peers_doc_name(PEERS_CATALOG), "catalog.json") == 0);
	CHECK(strcmp(peers_doc_name(PEERS_SIGNATURE), "catalog.json.minisig") == 0);
	CHECK(peers_doc_max(PEERS_SIGNATURE) == PEERS_SIG_MAX);

	give(&ps, 0, &key, 5, 5, 0);		/* valid, older */
	give(&ps, 1, &key, 7, 7, 0);		/* valid, newest */
	give(&ps, 2, &other, 9, 9, 0);		/* another key */
	CHECK(peers_got(&ps, 3, PEERS_CATALOG, NULL, 0, "HTTP 404") == 0);
	CHECK(peers_got(&ps, 3, PEERS_SIGNATURE, NULL, 0, "HTTP 500") == 0);
	give(&ps, 4, &key, 7, 7, 0);		/* valid, newest too */
	give(&ps, 5, &key, 3, 3, 0);		/* below what is held */
	give(&ps, 6, &key, 8, 9, 0);		/* signed sequence is another */
	give(&ps, 7, &key, 9, 9, 1);		/* altered after signing */
	CHECK(peers_got(&ps, 8, PEERS_CATALOG, "{}", 2, NULL) == 0);	/* no signature */

	CHECK(peers_choose(&ps, &pk, 4, NOW) == 0);
	CHECK(ps.best == &ps.p[1]);
	CHECK(ps.best->seq == 7 && ps.best->json != NULL);
	CHECK(ps.p[0].json != NULL && ps.p[0].seq == 5);
	CHECK(starts(ps.p[2].why, "bad signature: "));
	CHECK(ps.p[2].json == NULL);
	CHECK(strcmp(ps.p[3].why, "catalog.json: HTTP 404") == 0);
	CHECK(starts(ps.p[5].why, "rolled back: catalog sequence 3 is older than the one "
	    "this mirror holds (4); refused"));
	CHECK(ps.p[5].json == NULL);
	CHECK(starts(ps.p[6].why, "the catalog's sequence 8 is not the signed one"));
	CHECK(starts(ps.p[7].why, "bad signature: "));
	CHECK(strcmp(ps.p[8].why, "empty catalog or signature") == 0);

	/* Newest first (the given order among equals), older valid, failed. */
	{
		const char *want[] = { "http://b.example/", "http://e.example/",
		    "http://a.example/", "http://c.example/", "http://d.example/",
		    "http://f.example/", "http://g.example/", "http://h.example/",
		    "http://i.example/" };
		for (i = 0; i < n; i++)
			CHECK(strcmp(ps.order[i], want[i]) == 0);
	}

	/* Rotation: in order, round after round; the dead are skipped. */
	for (i = 0; i < n; i++)
		CHECK(peers_next(&ps, 2, &at) == 0 && at == i);
	peers_dead(&ps, 1);
	CHECK(peers_next(&ps, 2, &at) == 0 && at == 0);
	CHECK(peers_next(&ps, 2, &at) == 0 && at == 2);
	for (i = 3; i < n; i++)
		CHECK(peers_next(&ps, 2, &at) == 0 && at == i);
	CHECK(peers_next(&ps, 2, &at) == -1);
	peers_free(&ps);

	/* All dead: nothing to try. */
	CHECK(peers_init(&ps, urls, 2) == 0);
	give(&ps, 0, &key, 1, 1, 0);
	give(&ps, 1, &key, 1, 1, 0);
	CHECK(peers_choose(&ps, &pk, 0, NOW) == 0);
	peers_dead(&ps, 0);
	peers_dead(&ps, 1);
	CHECK(peers_next(&ps, 3, &at) == -1);
	peers_free(&ps);

	/* One object's turn: on to the next peer, a wait when the round
	 * wraps, a peer that cannot help skipped, ATTEMPTS per peer in all. */
	{
		struct peers_turn t = { .at = 0, .n = 3 };
		CHECK(peers_turn_next(&t, 1, 2) == PEERS_NEXT && t.at == 1);
		CHECK(peers_turn_next(&t, 0, 2) == PEERS_NEXT && t.at == 2);
		CHECK(peers_turn_next(&t, 1, 2) == PEERS_ROUND && t.at == 0);
		CHECK(peers_turn_next(&t, 1, 2) == PEERS_NEXT && t.at == 2);
		CHECK(peers_turn_next(&t, 1, 2) == PEERS_ROUND && t.at == 0);
		CHECK(peers_turn_next(&t, 1, 2) == PEERS_NONE);
		struct peers_turn one = { .at = 0, .n = 1 };
		CHECK(peers_turn_next(&one, 1, 3) == PEERS_ROUND && one.at == 0);
		CHECK(peers_turn_next(&one, 0, 3) == PEERS_NONE);
	}

	/* Nothing valid: no best, every peer says why. */
	CHECK(peers_init(&ps, urls, 2) == 0);
	give(&ps, 0, &other, 5, 5, 0);
	give(&ps, 1, &key, 5, 5, 0);
	CHECK(peers_choose(&ps, &pk, 6, NOW) == -1);
	CHECK(ps.best == NULL && ps.stale == NULL);
	CHECK(starts(ps.p[0].why, "bad signature: "));
	CHECK(starts(ps.p[1].why, "rolled back: "));
	peers_free(&ps);

	/* Expired catalogs (validly signed, stale) are refused with the
	 * sequence and the time; one without "expires" never expires. */
	CHECK(peers_init(&ps, urls, 5) == 0);
	expires_field = "\"expires\":\"2026-11-28T11:59:59Z\",";
	give(&ps, 0, &key, 10, 10, 0);
	expires_field = "\"expires\":\"2026-11-28T12:00:01Z\",";
	give(&ps, 1, &key, 8, 8, 0);
	expires_field = "";
	give(&ps, 2, &key, 9, 9, 0);
	expires_field = "\"expires\":\"2026-11-28T12:00:00Z\",";	/* ends now */
	give(&ps, 3, &key, 11, 11, 0);
	expires_field = "\"expires\":\"2026-11-28T11:00:00Z\",";	/* also rolled back */
	give(&ps, 4, &key, 2, 2, 0);
	CHECK(peers_choose(&ps, &pk, 3, NOW) == 0);
	CHECK(ps.best == &ps.p[2] && ps.best->expires == INT64_MAX);
	CHECK(ps.p[1].json != NULL && ps.p[1].expires == NOW + 1 && !ps.p[1].expired);
	CHECK(ps.p[0].json == NULL && ps.p[0].expired);
	CHECK(strcmp(ps.p[0].why, "expired: catalog sequence 10 expired at "
	    "2026-11-28T11:59:59Z; refused (a frozen mirror's catalog is stale)") == 0);
	CHECK(ps.p[3].json == NULL && ps.p[3].expired);
	CHECK(starts(ps.p[4].why, "rolled back: ") && !ps.p[4].expired);
	CHECK(ps.stale == &ps.p[3]);
	{
		/* The digest of the very bytes handed over, for the chain. */
		char hex[65];
		catalog_digest(ps.p[2].cat, ps.p[2].cat_len, hex);
		CHECK(strcmp(ps.p[2].sha256, hex) == 0);
	}
	/* Expired and failed peers last. */
	CHECK(strcmp(ps.order[0], "http://c.example/") == 0);
	CHECK(strcmp(ps.order[1], "http://b.example/") == 0);
	peers_free(&ps);

	/* Only stale catalogs: nothing to take; the newest stale is named. */
	CHECK(peers_init(&ps, urls, 2) == 0);
	expires_field = "\"expires\":\"2026-11-01T00:00:00Z\",";
	give(&ps, 0, &key, 20, 20, 0);
	give(&ps, 1, &key, 21, 21, 0);
	expires_field = "";
	CHECK(peers_choose(&ps, &pk, 0, NOW) == -1);
	CHECK(ps.best == NULL && ps.stale == &ps.p[1]);
	CHECK(ps.stale->seq == 21 && ps.stale->expires == 1793491200LL);
	peers_free(&ps);

	/* The check alone, as the fuzzer and both callers use it. */
	{
		char *cat = catalog_text(12), *sig;
		cat = cat != NULL ? cat : strdup("");
		sig = minisign_sign(&key, cat, strlen(cat),
		    "timestamp:1\tsequence:12\tfile:catalog.json\tprehashed", err, sizeof(err));
		CHECK(sig != NULL);
		j = peers_check_catalog(&pk, cat, strlen(cat), sig, sig ? strlen(sig) : 0, &seq,
		    err, sizeof(err));
		CHECK(j != NULL && seq == 12);
		json_decref(j);
		CHECK(peers_check_catalog(&pk, cat, strlen(cat), "garbage", 7, &seq, err,
		    sizeof(err)) == NULL && starts(err, "bad signature: "));
		free(cat);
		free(sig);
	}

	minisign_key_free(&key);
	minisign_key_free(&other);
	CHECK_DONE();
}

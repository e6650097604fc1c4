/*
 * Unit test of what the ACME client signs and stores: base64url against
 * RFC 4648's vectors, the JWK and key authorization, an ES256 JWS whose
 * r||s signature OpenSSL verifies over the protected header and payload
 * as sent, a CSR whose subjectAltName holds every domain, tokens, and
 * a stored pair that is refused when its key is not the certificate's.
 * Prints one line per failed check; exits 1 if any failed.
 */
#include "acme.h"
#include "acme_jws.h"

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "fsutil.h"

static int checks, failures;

#define CHECK(cond) test_check((cond), #cond, __LINE__)

static void
test_check(int ok, const char *what, int line)
{
	checks++;
	if (!ok) {
		failures++;
		printf("FAIL test_acme.c:%d: %s\n", line, what);
	}
}

/* base64url without padding, decoded; NULL on a bad character. */
static unsigned char *
unb64url(const char *s, size_t *len)
{
	size_t n = strlen(s), i, o = 0;
	unsigned char *out = malloc(n + 1);
	unsigned v = 0;
	int bits = 0;

	for (i = 0; out != NULL && i < n; i++) {
		const char *t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
		const char *p = strchr(t, s[i]);
		if (p == NULL || s[i] == '\0') {
			free(out);
			return NULL;
		}
		v = (v << 6) | (unsigned)(p - t);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(v >> bits);
			v &= (1u << bits) - 1;
		}
	}
	*len = o;
	return out;
}

static void
test_b64url(void)
{
	static const struct { const char *in, *out; } v[] = {
		{ "", "" }, { "f", "Zg" }, { "fo", "Zm8" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg" }, { "fooba", "Zm9vYmE" }, { "foobar", "Zm9vYmFy" },
		{ "\xfb\xff\xbf", "-_-_" },
	};
	size_t i;
	char *s;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		s = acme_b64url((const unsigned char *)v[i].in, strlen(v[i].in));
		CHECK(s != NULL && strcmp(s, v[i].out) == 0);
		free(s);
	}
}

static void
test_tokens(void)
{
	char long_token[200];

	CHECK(acme_token_ok("bHG3s5M2g6NM3LlnIAdAzsw03AMus4s4HrOEgkXJBhQ"));
	CHECK(acme_token_ok("a-b_C9"));
	CHECK(!acme_token_ok(""));
	CHECK(!acme_token_ok("a.b"));
	CHECK(!acme_token_ok("../x"));
	CHECK(!acme_token_ok("a%2fb"));
	CHECK(!acme_token_ok("a?b"));
	CHECK(!acme_token_ok("a b"));
	memset(long_token, 'a', 128);
	long_token[128] = '\0';
	CHECK(acme_token_ok(long_token));
	long_token[128] = 'a';
	long_token[129] = '\0';
	CHECK(!acme_token_ok(long_token));
}

/* Verify a JWS as a CA would: ES256 over "protected.payload". */
static int
jws_verifies(EVP_PKEY *k, const char *jws, json_t **prot_out, char **payload_out)
{
	json_t *j = json_loads(jws, 0, NULL), *prot = NULL;
	const char *p64, *pl64, *s64;
	unsigned char *raw = NULL, *der = NULL, *pb = NULL, *plb = NULL;
	size_t rawlen, plen, pllen;
	ECDSA_SIG *sig = NULL;
	EVP_MD_CTX *md = NULL;
	char *input = NULL;
	int derlen, ok = 0;

	if (j == NULL)
		return 0;
	p64 = json_string_value(json_object_get(j, "protected"));
	pl64 = json_string_value(json_object_get(j, "payload"));
	s64 = json_string_value(json_object_get(j, "signature"));
	if (p64 == NULL || pl64 == NULL || s64 == NULL ||
	    (raw = unb64url(s64, &rawlen)) == NULL || rawlen != 64 ||
	    (pb = unb64url(p64, &plen)) == NULL ||
	    (plb = unb64url(pl64, &pllen)) == NULL)
		goto out;
	if ((sig = ECDSA_SIG_new()) == NULL ||
	    ECDSA_SIG_set0(sig, BN_bin2bn(raw, 32, NULL),
	    BN_bin2bn(raw + 32, 32, NULL)) != 1 ||
	    (derlen = i2d_ECDSA_SIG(sig, &der)) <= 0)
		goto out;
	if (asprintf(&input, "%s.%s", p64, pl64) == -1)
		goto out;
	md = EVP_MD_CTX_new();
	ok = md != NULL && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, k) == 1 &&
	    EVP_DigestVerify(md, der, (size_t)derlen, (unsigned char *)input,
	    strlen(input)) == 1;
	if (ok) {
		prot = json_loadb((char *)pb, plen, 0, NULL);
		*prot_out = prot;
		*payload_out = strndup((char *)plb, pllen);
	}
out:
	EVP_MD_CTX_free(md);
	free(input);
	OPENSSL_free(der);
	ECDSA_SIG_free(sig);
	free(raw);
	free(pb);
	free(plb);
	json_decref(j);
	return ok;
}

#define JWK_START	"{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\""

static void
test_jws(void)
{
	EVP_PKEY *k = acme_key_new();
	json_t *prot = NULL, *jwk;
	char *jws, *payload = NULL, *jwks, *ka;
	int i;

	CHECK(k != NULL);
	if (k == NULL)
		return;
	/* ECDSA signatures have a random part: several, so that a short r
	 * or s (padding) is met too. */
	for (i = 0; i < 64; i++) {
		jws = acme_jws(k, NULL, "nonce-1", "https://ca.example/acct",
		    "{\"termsOfServiceAgreed\":true}");
		CHECK(jws != NULL && jws_verifies(k, jws, &prot, &payload));
		if (i == 0 && prot != NULL) {
			CHECK(strcmp(json_string_value(json_object_get(prot, "alg")), "ES256") == 0);
			CHECK(strcmp(json_string_value(json_object_get(prot, "nonce")), "nonce-1") == 0);
			CHECK(strcmp(json_string_value(json_object_get(prot, "url")),
			    "https://ca.example/acct") == 0);
			jwk = json_object_get(prot, "jwk");
			CHECK(json_object_get(prot, "kid") == NULL);
			CHECK(json_is_object(jwk) && strcmp(json_string_value(
			    json_object_get(jwk, "crv")), "P-256") == 0);
			CHECK(payload != NULL && strcmp(payload, "{\"termsOfServiceAgreed\":true}") == 0);
		}
		json_decref(prot);
		prot = NULL;
		free(payload);
		payload = NULL;
		free(jws);
	}
	/* With a kid, and POST-as-GET's empty payload. */
	jws = acme_jws(k, "https://ca.example/acct/1", "n2", "https://ca.example/o/1", "");
	CHECK(jws != NULL && jws_verifies(k, jws, &prot, &payload));
	CHECK(prot != NULL && json_object_get(prot, "jwk") == NULL);
	CHECK(prot != NULL && strcmp(json_string_value(json_object_get(prot, "kid")),
	    "https://ca.example/acct/1") == 0);
	CHECK(payload != NULL && payload[0] == '\0');
	CHECK(jws != NULL && strstr(jws, "\"payload\":\"\"") != NULL);
	json_decref(prot);
	free(payload);
	free(jws);

	/* The thumbprint hashes the JWK's members in lexical order, no blanks. */
	jwks = acme_jwk(k);
	CHECK(jwks != NULL && strncmp(jwks, JWK_START, strlen(JWK_START)) == 0);
	ka = acme_key_authorization(k, "tok");
	if (jwks != NULL && ka != NULL) {
		unsigned char md[32];
		char *tp, *want;

		EVP_Digest(jwks, strlen(jwks), md, NULL, EVP_sha256(), NULL);
		tp = acme_b64url(md, 32);
		CHECK(asprintf(&want, "tok.%s", tp) != -1 && strcmp(ka, want) == 0);
		free(tp);
		free(want);
	}
	free(jwks);
	free(ka);
	EVP_PKEY_free(k);
}

static void
test_csr(void)
{
	char *domains[] = { "mirror.example", "www.mirror.example" };
	EVP_PKEY *k = acme_key_new();
	char *csr = acme_csr(k, domains, 2);
	unsigned char *der;
	const unsigned char *p;
	size_t len;
	X509_REQ *req = NULL;
	STACK_OF(X509_EXTENSION) *exts = NULL;
	GENERAL_NAMES *gens = NULL;
	int i;

	CHECK(csr != NULL);
	if (csr == NULL || (der = unb64url(csr, &len)) == NULL) {
		CHECK(0);
		goto out;
	}
	p = der;
	req = d2i_X509_REQ(NULL, &p, (long)len);
	free(der);
	CHECK(req != NULL && X509_REQ_verify(req, k) == 1);
	if (req == NULL)
		goto out;
	exts = X509_REQ_get_extensions(req);
	for (i = 0; exts != NULL && i < sk_X509_EXTENSION_num(exts); i++) {
		X509_EXTENSION *e = sk_X509_EXTENSION_value(exts, i);
		if (OBJ_obj2nid(X509_EXTENSION_get_object(e)) == NID_subject_alt_name)
			gens = X509V3_EXT_d2i(e);
	}
	CHECK(gens != NULL && sk_GENERAL_NAME_num(gens) == 2);
	for (i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens) && i < 2; i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		CHECK(g->type == GEN_DNS && strcmp((const char *)
		    ASN1_STRING_get0_data(g->d.dNSName), domains[i]) == 0);
	}
out:
	GENERAL_NAMES_free(gens);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_free(req);
	free(csr);
	EVP_PKEY_free(k);
}

/* A certificate for K valid from NOW + FROM for SECS, written to PATH. */
static void
write_cert(EVP_PKEY *k, const char *path, long from, long secs)
{
	X509 *x = X509_new();
	FILE *f;

	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	    (const unsigned char *)"t", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_gmtime_adj(X509_getm_notBefore(x), from);
	X509_gmtime_adj(X509_getm_notAfter(x), from + secs);
	X509_set_pubkey(x, k);
	X509_sign(x, k, EVP_sha256());
	f = fopen(path, "w");
	PEM_write_X509(f, x);
	fclose(f);
	X509_free(x);
}

static void
write_key(EVP_PKEY *k, const char *dir)
{
	size_t len;
	char *pem = acme_key_pem(k, &len);

	CHECK(pem != NULL && fsutil_write_atomic(dir, ACME_KEY, pem, len, 0600) == 0);
	OPENSSL_clear_free(pem, len);
}

static void
test_stored(void)
{
	char store[] = "/tmp/emberd-test-acme.XXXXXX", dir[256], cpath[300];
	char *cert = NULL, *key = NULL, err[256];
	EVP_PKEY *k = acme_key_new(), *other = acme_key_new(), *acct;
	time_t renew, end, now = time(NULL);

	if (mkdtemp(store) == NULL) {
		CHECK(0);
		return;
	}
	snprintf(dir, sizeof(dir), "%s/" ACME_DIR, store);
	snprintf(cpath, sizeof(cpath), "%s/" ACME_CERT, dir);
	CHECK(fsutil_mkdir_p(dir, 0700) == 0);
	CHECK(acme_stored_cert(store, &cert, &key) == -1);	/* none yet */

	/* 90 days from an hour ago: renewal on day 60. */
	write_cert(k, cpath, -3600, 90L * 86400);
	CHECK(acme_stored_cert(store, &cert, &key) == -1);	/* no key */
	write_key(other, dir);
	CHECK(acme_stored_cert(store, &cert, &key) == -1);	/* not its key */
	write_key(k, dir);
	CHECK(acme_stored_cert(store, &cert, &key) == 0);
	CHECK(cert != NULL && strcmp(cert, cpath) == 0);
	free(cert);
	free(key);
	CHECK(acme_cert_renew_at(cpath, &renew, &end) == 0);
	CHECK(end - (now - 3600) >= 90L * 86400 - 2 && end - (now - 3600) <= 90L * 86400 + 2);
	CHECK(renew == end - 30L * 86400);

	write_cert(k, cpath, -7200, 3600);			/* expired */
	CHECK(acme_stored_cert(store, &cert, &key) == -1);

	/* The account key: made 0600 once, then the same one read back. */
	acct = acme_key_load(dir, ACME_ACCOUNT, err, sizeof(err));
	CHECK(acct != NULL);
	{
		struct stat st;
		char apath[300];
		EVP_PKEY *again;

		snprintf(apath, sizeof(apath), "%s/" ACME_ACCOUNT, dir);
		CHECK(stat(apath, &st) == 0 && (st.st_mode & 0777) == 0600);
		again = acme_key_load(dir, ACME_ACCOUNT, err, sizeof(err));
		CHECK(again != NULL && EVP_PKEY_eq(acct, again) == 1);
		EVP_PKEY_free(again);
		unlink(apath);
	}
	EVP_PKEY_free(acct);
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
	unlink(cpath);
	snprintf(cpath, sizeof(cpath), "%s/" ACME_KEY, dir);
	unlink(cpath);
	rmdir(dir);
	rmdir(store);
}

int
main(void)
{
	test_b64url();
	test_tokens();
	test_jws();
	test_csr();
	test_stored();
	printf("test_acme: %d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}

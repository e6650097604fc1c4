/*
 * JWS, JWK, keys and CSR for the ACME client (acme_jws.h), with OpenSSL 3's
 * EVP interface only.
 */
#include "acme_jws.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "fsutil.h"

#define P256_BYTES	32

char *
acme_b64url(const unsigned char *p, size_t len)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char *out, *o;
	size_t i;

	if ((out = malloc(len / 3 * 4 + 5)) == NULL)
		return NULL;
	o = out;
	for (i = 0; i + 2 < len; i += 3) {
		*o++ = tab[p[i] >> 2];
		*o++ = tab[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
		*o++ = tab[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)];
		*o++ = tab[p[i + 2] & 63];
	}
	if (len - i == 1) {
		*o++ = tab[p[i] >> 2];
		*o++ = tab[(p[i] & 3) << 4];
	} else if (len - i == 2) {
		*o++ = tab[p[i] >> 2];
		*o++ = tab[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
		*o++ = tab[(p[i + 1] & 15) << 2];
	}
	*o = '\0';
	return out;
}

static char *
acme_b64url_str(const char *s)
{
	return acme_b64url((const unsigned char *)s, strlen(s));
}

EVP_PKEY *
acme_key_new(void)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

char *
acme_key_pem(EVP_PKEY *k, size_t *len)
{
	BIO *b;
	char *data, *out = NULL;
	long n;

	if ((b = BIO_new(BIO_s_secmem())) == NULL)
		return NULL;
	if (PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) == 1 &&
	    (n = BIO_get_mem_data(b, &data)) > 0 &&
	    (out = OPENSSL_malloc((size_t)n + 1)) != NULL) {
		memcpy(out, data, (size_t)n);
		out[n] = '\0';
		*len = (size_t)n;
	}
	BIO_free(b);
	return out;
}

EVP_PKEY *
acme_key_load(const char *dir, const char *name, char *err, size_t errlen)
{
	EVP_PKEY *k = NULL;
	char *path, *pem;
	size_t len;
	FILE *f;

	if ((path = fsutil_join(dir, name)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if ((f = fopen(path, "re")) != NULL) {
		k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
		ERR_clear_error();
		if (k == NULL || !EVP_PKEY_is_a(k, "EC"))
			snprintf(err, errlen, "'%s' is not an EC private key "
			    "in PEM: move it away for a new account", path);
		goto out;
	}
	if (errno != ENOENT) {
		snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
		goto out;
	}
	if ((k = acme_key_new()) == NULL || (pem = acme_key_pem(k, &len)) == NULL) {
		snprintf(err, errlen, "cannot make a key for '%s'", path);
		goto out;
	}
	if (fsutil_write_atomic(dir, name, pem, len, 0600) == -1) {
		snprintf(err, errlen, "cannot write '%s': %s", path, strerror(errno));
		EVP_PKEY_free(k);
		k = NULL;
	}
	OPENSSL_clear_free(pem, len);
out:
	free(path);
	return k;
}

/* The public point's x and y, each 32 bytes, base64url. */
static int
acme_xy(EVP_PKEY *k, char **x, char **y)
{
	unsigned char pub[1 + 2 * P256_BYTES];
	size_t len = 0;

	*x = *y = NULL;
	if (EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, pub,
	    sizeof(pub), &len) != 1 || len != sizeof(pub) || pub[0] != 4)
		return -1;
	*x = acme_b64url(pub + 1, P256_BYTES);
	*y = acme_b64url(pub + 1 + P256_BYTES, P256_BYTES);
	if (*x == NULL || *y == NULL) {
		free(*x);
		free(*y);
		return -1;
	}
	return 0;
}

char *
acme_jwk(EVP_PKEY *k)
{
	char *x, *y, *s;

	if (acme_xy(k, &x, &y) == -1)
		return NULL;
	if (asprintf(&s, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\","
	    "\"y\":\"%s\"}", x, y) == -1)
		s = NULL;
	free(x);
	free(y);
	return s;
}

char *
acme_key_authorization(EVP_PKEY *k, const char *token)
{
	unsigned char md[32];
	char *jwk, *tp, *s = NULL;

	if ((jwk = acme_jwk(k)) == NULL)
		return NULL;
	if (EVP_Digest(jwk, strlen(jwk), md, NULL, EVP_sha256(), NULL) == 1 &&
	    (tp = acme_b64url(md, sizeof(md))) != NULL) {
		if (asprintf(&s, "%s.%s", token, tp) == -1)
			s = NULL;
		free(tp);
	}
	free(jwk);
	return s;
}

/* ES256 over DATA: the DER signature OpenSSL makes, as JWS's r||s. */
static char *
acme_es256(EVP_PKEY *k, const char *data)
{
	EVP_MD_CTX *md;
	unsigned char der[80], raw[2 * P256_BYTES];
	const unsigned char *p = der;
	size_t len = sizeof(der);
	ECDSA_SIG *sig = NULL;
	const BIGNUM *r, *s;
	char *out = NULL;

	if ((md = EVP_MD_CTX_new()) == NULL)
		return NULL;
	if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k) != 1 ||
	    EVP_DigestSign(md, der, &len, (const unsigned char *)data,
	    strlen(data)) != 1 ||
	    (sig = d2i_ECDSA_SIG(NULL, &p, (long)len)) == NULL)
		goto out;
	ECDSA_SIG_get0(sig, &r, &s);
	if (BN_bn2binpad(r, raw, P256_BYTES) != P256_BYTES ||
	    BN_bn2binpad(s, raw + P256_BYTES, P256_BYTES) != P256_BYTES)
		goto out;
	out = acme_b64url(raw, sizeof(raw));
out:
	ECDSA_SIG_free(sig);
	EVP_MD_CTX_free(md);
	ERR_clear_error();
	return out;
}

char *
acme_jws(EVP_PKEY *k, const char *kid, const char *nonce, const char *url,
    const char *payload)
{
	json_t *prot = NULL, *jwk = NULL;
	char *jwks = NULL, *ps = NULL, *p64 = NULL, *pl64 = NULL, *input = NULL;
	char *sig = NULL, *out = NULL;

	if ((prot = json_pack("{s:s, s:s, s:s}", "alg", "ES256", "nonce", nonce,
	    "url", url)) == NULL)
		goto out;
	if (kid != NULL) {
		if (json_object_set_new(prot, "kid", json_string(kid)) == -1)
			goto out;
	} else if ((jwks = acme_jwk(k)) == NULL ||
	    (jwk = json_loads(jwks, 0, NULL)) == NULL ||
	    json_object_set(prot, "jwk", jwk) == -1)
		goto out;
	if ((ps = json_dumps(prot, JSON_COMPACT)) == NULL ||
	    (p64 = acme_b64url_str(ps)) == NULL ||
	    (pl64 = acme_b64url_str(payload)) == NULL ||
	    asprintf(&input, "%s.%s", p64, pl64) == -1 ||
	    (sig = acme_es256(k, input)) == NULL)
		goto out;
	if (asprintf(&out, "{\"protected\":\"%s\",\"payload\":\"%s\","
	    "\"signature\":\"%s\"}", p64, pl64, sig) == -1)
		out = NULL;
out:
	json_decref(prot);
	json_decref(jwk);
	free(jwks);
	free(ps);
	free(p64);
	free(pl64);
	free(input);
	free(sig);
	return out;
}

char *
acme_csr(EVP_PKEY *k, char *const *domains, size_t n)
{
	X509_REQ *req = NULL;
	X509_NAME *name;
	GENERAL_NAMES *gens = NULL;
	GENERAL_NAME *gn;
	ASN1_IA5STRING *ia5;
	STACK_OF(X509_EXTENSION) *exts = NULL;
	X509_EXTENSION *ext = NULL;
	unsigned char *der = NULL;
	char *out = NULL;
	size_t i;
	int len;

	if (n == 0 || (req = X509_REQ_new()) == NULL ||
	    X509_REQ_set_version(req, 0) != 1 ||
	    (name = X509_REQ_get_subject_name(req)) == NULL ||
	    (strlen(domains[0]) <= 64 && X509_NAME_add_entry_by_txt(name, "CN",
	    MBSTRING_ASC, (const unsigned char *)domains[0], -1, -1, 0) != 1) ||
	    X509_REQ_set_pubkey(req, k) != 1 ||
	    (gens = sk_GENERAL_NAME_new_null()) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		if ((gn = GENERAL_NAME_new()) == NULL)
			goto out;
		if ((ia5 = ASN1_IA5STRING_new()) == NULL ||
		    ASN1_STRING_set(ia5, domains[i], -1) != 1) {
			ASN1_IA5STRING_free(ia5);
			GENERAL_NAME_free(gn);
			goto out;
		}
		GENERAL_NAME_set0_value(gn, GEN_DNS, ia5);
		if (sk_GENERAL_NAME_push(gens, gn) == 0) {
			GENERAL_NAME_free(gn);
			goto out;
		}
	}
	if ((ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, gens)) == NULL ||
	    (exts = sk_X509_EXTENSION_new_null()) == NULL ||
	    sk_X509_EXTENSION_push(exts, ext) == 0)
		goto out;
	ext = NULL;
	if (X509_REQ_add_extensions(req, exts) != 1 ||
	    X509_REQ_sign(req, k, EVP_sha256()) <= 0 ||
	    (len = i2d_X509_REQ(req, &der)) <= 0)
		goto out;
	out = acme_b64url(der, (size_t)len);
out:
	OPENSSL_free(der);
	X509_EXTENSION_free(ext);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	GENERAL_NAMES_free(gens);
	X509_REQ_free(req);
	ERR_clear_error();
	return out;
}

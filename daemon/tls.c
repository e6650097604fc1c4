/*
 * TLS server contexts and the self-signed certificate of a fresh mirror.
 *
 * The policy lives here and nowhere else: TLS 1.2 and 1.3 only, ECDHE
 * with an AEAD for 1.2, no compression (CRIME), no renegotiation (a
 * client-driven CPU sink and a history of bugs). A mirror serves public,
 * signed files to whoever asks, so the point of TLS is privacy of what is
 * fetched and not breaking old clients needlessly; every 1.2 client of the
 * last decade speaks ECDHE-GCM.
 *
 * The self-signed certificate exists so that "[https] listen = ..." works
 * with nothing else configured. Followers check catalog signatures, not
 * the certificate, so an unverifiable certificate costs them nothing.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* timegm; meson sets it, ad hoc builds may not */
#endif

#include "tls.h"

#include <sys/stat.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "fsutil.h"

#define TLS_CIPHERS_12 \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define TLS_CIPHERS_13 \
	"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:" \
	"TLS_CHACHA20_POLY1305_SHA256"
#define TLS_GROUPS "X25519:P-256:P-384"

/*
 * The internal cache only serves clients that resume by session ID (those
 * given tickets carry their own state); a few hundred bytes each, so cap it
 * well below OpenSSL's 20,480 to keep memory flat under load.
 */
#define TLS_SESS_CACHE_SIZE 4096

#define TLS_DIR "tls"
#define TLS_CERT_NAME "cert.pem"
#define TLS_KEY_NAME "key.pem"
#define TLS_DEFAULT_CN "emberd"
#define TLS_VALID_YEARS 10
/* RFC 5280 ub-common-name; a longer CN makes X509_NAME refuse it. */
#define TLS_CN_MAX 64
#define TLS_DNS_MAX 253

static void tls_err(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
tls_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * OpenSSL's reason for the oldest queued error, which is the root cause
 * (e.g. "No such file or directory" under the "system lib" wrappers), then
 * an empty queue so the next caller does not inherit stale errors.
 * Returns a static string.
 */
static const char *
tls_reason(void)
{
	unsigned long e;
	const char *s = NULL;

	e = ERR_get_error();
	if (e != 0 && ERR_SYSTEM_ERROR(e))
		s = strerror(ERR_GET_REASON(e));
	else if (e != 0)
		s = ERR_reason_error_string(e);
	ERR_clear_error();
	if (s == NULL)
		s = e == 0 ? "unknown error" : "unrecognised OpenSSL error";
	return s;
}

/*
 * A daemon has no terminal to ask on: an encrypted key must fail to load,
 * not block start-up waiting for a passphrase on stdin.
 */
static int
tls_no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/*
 * ALPN: HTTP/2 for clients that offer it, HTTP/1.1 for the others; in
 * our order, not theirs. A client that offers neither (or no ALPN at
 * all, as old ones) gets no answer, and speaks HTTP/1.1.
 */
static int
tls_alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	static const unsigned char ours[] = "\x02h2\x08http/1.1";
	unsigned char *sel = NULL;

	(void)ssl;
	(void)arg;
	if (SSL_select_next_proto(&sel, outlen, ours, sizeof(ours) - 1, in,
	    inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK;
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

SSL_CTX *
tls_server_ctx(const char *cert, const char *key, char *err, size_t errlen)
{
	static const unsigned char sid_ctx[] = "emberd";
	SSL_CTX *ctx;
	uint64_t opts;

	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		tls_err(err, errlen, "cannot create TLS context: %s",
		    tls_reason());
		return NULL;
	}

	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, TLS_CIPHERS_12) != 1 ||
	    SSL_CTX_set_ciphersuites(ctx, TLS_CIPHERS_13) != 1 ||
	    SSL_CTX_set1_groups_list(ctx, TLS_GROUPS) != 1 ||
	    SSL_CTX_set_session_id_context(ctx, sid_ctx,
	    sizeof(sid_ctx) - 1) != 1) {
		tls_err(err, errlen, "cannot set TLS policy: %s",
		    tls_reason());
		goto fail;
	}

	/*
	 * Server preference so a client listing weak-but-allowed suites first
	 * still gets our order; PRIORITIZE_CHACHA keeps ChaCha20 for clients
	 * that put it first (phones without AES instructions), where it is
	 * the faster and constant-time choice.
	 */
	opts = SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_PRIORITIZE_CHACHA;
#ifdef SSL_OP_NO_CLIENT_RENEGOTIATION
	opts |= SSL_OP_NO_CLIENT_RENEGOTIATION;
#endif
	SSL_CTX_set_options(ctx, opts);

	/*
	 * RELEASE_BUFFERS frees the ~34 KiB of read/write buffers while a
	 * connection is idle: with 1,000 idle keep-alive clients that is
	 * ~34 MiB. PARTIAL_WRITE and ACCEPT_MOVING_WRITE_BUFFER are what
	 * bufferevent_openssl expects (it sets them too; harmless twice).
	 */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS |
	    SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);

	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	SSL_CTX_sess_set_cache_size(ctx, TLS_SESS_CACHE_SIZE);

	SSL_CTX_set_default_passwd_cb(ctx, tls_no_passphrase);
	SSL_CTX_set_alpn_select_cb(ctx, tls_alpn_select, NULL);

	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		tls_err(err, errlen, "cannot load certificate '%s': %s", cert,
		    tls_reason());
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		tls_err(err, errlen, "cannot load key '%s' (for certificate "
		    "'%s'): %s", key, cert, tls_reason());
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		tls_err(err, errlen, "key '%s' does not match certificate "
		    "'%s': %s", key, cert, tls_reason());
		goto fail;
	}
	return ctx;

fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/* 4 or 16 address bytes into buf when S is an IPv4 or IPv6 literal, else 0. */
static int
tls_ip_parse(const char *s, unsigned char buf[16])
{
	if (inet_pton(AF_INET, s, buf) == 1)
		return 4;
	if (inet_pton(AF_INET6, s, buf) == 1)
		return 16;
	return 0;
}

static int
tls_ip_is_any(const unsigned char *ip, int len)
{
	int i;

	for (i = 0; i < len; i++)
		if (ip[i] != 0)
			return 0;
	return 1;
}

/*
 * Whether S can go into a dNSName as is: letters, digits, '-' and '.',
 * no empty labels. A listen host is the operator's own text, but a
 * certificate that some client rejects for one odd entry is worse than a
 * certificate without that entry.
 */
static int
tls_dns_ok(const char *s)
{
	size_t i, len = strlen(s), label = 0;

	if (len == 0 || len > TLS_DNS_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!isalnum(c) && c != '-')
			return 0;
		if (++label > 63)
			return 0;
	}
	return 1;
}

/* Append one name to GENS unless an equal one is already there. */
static int
tls_san_add(GENERAL_NAMES *gens, int type, const void *data, int len)
{
	GENERAL_NAME *gn = NULL;
	ASN1_STRING *str = NULL;
	int i;

	if ((gn = GENERAL_NAME_new()) == NULL)
		goto fail;
	str = type == GEN_DNS ? ASN1_IA5STRING_new() : ASN1_OCTET_STRING_new();
	if (str == NULL || ASN1_STRING_set(str, data, len) != 1)
		goto fail;
	GENERAL_NAME_set0_value(gn, type, str);
	str = NULL;
	for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		if (GENERAL_NAME_cmp(sk_GENERAL_NAME_value(gens, i), gn) == 0) {
			GENERAL_NAME_free(gn);
			return 0;
		}
	}
	if (sk_GENERAL_NAME_push(gens, gn) == 0)
		goto fail;
	return 0;

fail:
	ASN1_STRING_free(str);
	GENERAL_NAME_free(gn);
	return -1;
}

static int
tls_san_add_host(GENERAL_NAMES *gens, const char *host)
{
	unsigned char ip[16];
	char dns[TLS_DNS_MAX + 1];
	size_t i;
	int iplen;

	if ((iplen = tls_ip_parse(host, ip)) != 0) {
		/* The wildcard is not an address anyone connects to. */
		if (tls_ip_is_any(ip, iplen))
			return 0;
		return tls_san_add(gens, GEN_IPADD, ip, iplen);
	}
	if (!tls_dns_ok(host))
		return 0;
	/* DNS is case-insensitive; one spelling avoids duplicate entries. */
	for (i = 0; host[i] != '\0'; i++)
		dns[i] = (char)tolower((unsigned char)host[i]);
	dns[i] = '\0';
	return tls_san_add(gens, GEN_DNS, dns, (int)i);
}

/*
 * Add a fixed-value extension. The values are constants, never user
 * text, so the config-string parser is safe to use for them; names from
 * the config go through tls_san_add instead, where a ',' cannot smuggle
 * in an extra entry.
 */
static int
tls_ext_add(X509 *x, X509V3_CTX *v3, int nid, const char *value)
{
	X509_EXTENSION *ext;
	int rc;

	if ((ext = X509V3_EXT_conf_nid(NULL, v3, nid, value)) == NULL)
		return -1;
	rc = X509_add_ext(x, ext, -1) == 1 ? 0 : -1;
	X509_EXTENSION_free(ext);
	return rc;
}

static int
tls_cert_times(X509 *x)
{
	struct tm tm;
	time_t now, later;

	now = time(NULL);
	if (gmtime_r(&now, &tm) == NULL)
		return -1;
	/* Calendar years, not 3650 days; timegm folds Feb 29 into Mar 1. */
	tm.tm_year += TLS_VALID_YEARS;
	if ((later = timegm(&tm)) == (time_t)-1)
		return -1;
	/* An hour of slack for clients whose clocks run a little slow. */
	if (ASN1_TIME_set(X509_getm_notBefore(x), now - 3600) == NULL ||
	    ASN1_TIME_set(X509_getm_notAfter(x), later) == NULL)
		return -1;
	return 0;
}

/* A new self-signed certificate for PKEY naming every listen host. */
static X509 *
tls_cert_make(EVP_PKEY *pkey, const struct config_listen *listen,
    size_t n_listen)
{
	X509 *x = NULL;
	X509_NAME *name;
	X509V3_CTX v3;
	GENERAL_NAMES *gens = NULL;
	BIGNUM *bn = NULL;
	const char *cn = TLS_DEFAULT_CN;
	unsigned char ip[16];
	static const unsigned char lo4[4] = { 127, 0, 0, 1 };
	static const unsigned char lo6[16] = { [15] = 1 };
	size_t i;

	for (i = 0; i < n_listen; i++) {
		const char *h = listen[i].host;
		if (h != NULL && tls_ip_parse(h, ip) == 0 && tls_dns_ok(h) &&
		    strlen(h) <= TLS_CN_MAX) {
			cn = h;
			break;
		}
	}

	if ((x = X509_new()) == NULL ||
	    X509_set_version(x, X509_VERSION_3) != 1)
		goto fail;

	/*
	 * 128 random bits: unique without keeping state, and unpredictable,
	 * as CAs must (CA/B BR 7.1). TOP_ONE fixes the length at 16 bytes
	 * (17 in DER), inside RFC 5280's 20-octet limit, and never zero.
	 */
	if ((bn = BN_new()) == NULL ||
	    BN_rand(bn, 128, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) != 1 ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL)
		goto fail;

	if ((name = X509_get_subject_name(x)) == NULL ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0) != 1 ||
	    X509_set_issuer_name(x, name) != 1)
		goto fail;
	if (tls_cert_times(x) == -1 || X509_set_pubkey(x, pkey) != 1)
		goto fail;

	if ((gens = sk_GENERAL_NAME_new_null()) == NULL ||
	    tls_san_add(gens, GEN_DNS, "localhost", 9) == -1 ||
	    tls_san_add(gens, GEN_IPADD, lo4, sizeof(lo4)) == -1 ||
	    tls_san_add(gens, GEN_IPADD, lo6, sizeof(lo6)) == -1)
		goto fail;
	for (i = 0; i < n_listen; i++)
		if (listen[i].host != NULL &&
		    tls_san_add_host(gens, listen[i].host) == -1)
			goto fail;
	if (X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0,
	    X509V3_ADD_DEFAULT) != 1)
		goto fail;

	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	if (tls_ext_add(x, &v3, NID_basic_constraints, "critical,CA:FALSE") ||
	    tls_ext_add(x, &v3, NID_key_usage,
	    "critical,digitalSignature") ||
	    tls_ext_add(x, &v3, NID_ext_key_usage, "serverAuth") ||
	    tls_ext_add(x, &v3, NID_subject_key_identifier, "hash"))
		goto fail;

	if (X509_sign(x, pkey, EVP_sha256()) == 0)
		goto fail;

	GENERAL_NAMES_free(gens);
	BN_free(bn);
	return x;

fail:
	GENERAL_NAMES_free(gens);
	BN_free(bn);
	X509_free(x);
	return NULL;
}

static int
tls_exists(const char *path, int *exists)
{
	struct stat st;

	if (stat(path, &st) == 0) {
		*exists = 1;
		return 0;
	}
	*exists = 0;
	return errno == ENOENT ? 0 : -1;
}

int
tls_selfsigned_ensure(const char *store, const struct config_listen *listen,
    size_t n_listen, char **cert, char **key, char *err, size_t errlen)
{
	EVP_PKEY *pkey = NULL;
	X509 *x = NULL;
	BIO *kbio = NULL, *cbio = NULL;
	char *dir = NULL, *cpath = NULL, *kpath = NULL, *data;
	long len;
	int have_cert, have_key, rc = -1;

	*cert = *key = NULL;
	ERR_clear_error();

	if ((dir = fsutil_join(store, TLS_DIR)) == NULL ||
	    (cpath = fsutil_join(dir, TLS_CERT_NAME)) == NULL ||
	    (kpath = fsutil_join(dir, TLS_KEY_NAME)) == NULL) {
		tls_err(err, errlen, "out of memory");
		goto done;
	}
	/* 0700: the key is in here, and so are its temp files mid-write. */
	if (fsutil_mkdir_p(dir, 0700) == -1) {
		tls_err(err, errlen, "cannot create '%s': %s", dir,
		    strerror(errno));
		goto done;
	}
	if (tls_exists(cpath, &have_cert) == -1) {
		tls_err(err, errlen, "cannot use '%s': %s", cpath,
		    strerror(errno));
		goto done;
	}
	if (tls_exists(kpath, &have_key) == -1) {
		tls_err(err, errlen, "cannot use '%s': %s", kpath,
		    strerror(errno));
		goto done;
	}
	/*
	 * Never replace a pair that exists: clients may have pinned it or
	 * added it to a trust store. A lone key is a crash between the two
	 * writes below (or a lone cert, a deleted key): nothing can use
	 * half a pair, so make both again.
	 */
	if (have_cert && have_key)
		goto found;

	if ((pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL) {
		tls_err(err, errlen, "cannot create key '%s': %s", kpath,
		    tls_reason());
		goto done;
	}
	if ((x = tls_cert_make(pkey, listen, n_listen)) == NULL) {
		tls_err(err, errlen, "cannot create certificate '%s': %s",
		    cpath, tls_reason());
		goto done;
	}

	/* Secure-heap BIO: the key's PEM is wiped when the BIO is freed. */
	if ((kbio = BIO_new(BIO_s_secmem())) == NULL ||
	    PEM_write_bio_PrivateKey(kbio, pkey, NULL, NULL, 0, NULL,
	    NULL) != 1 ||
	    (len = BIO_get_mem_data(kbio, &data)) <= 0) {
		tls_err(err, errlen, "cannot encode key '%s': %s", kpath,
		    tls_reason());
		goto done;
	}
	/* Key first: a cert on disk then always has its key beside it. */
	if (fsutil_write_atomic(dir, TLS_KEY_NAME, data, (size_t)len,
	    0600) == -1) {
		tls_err(err, errlen, "cannot write '%s': %s", kpath,
		    strerror(errno));
		goto done;
	}
	if ((cbio = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_X509(cbio, x) != 1 ||
	    (len = BIO_get_mem_data(cbio, &data)) <= 0) {
		tls_err(err, errlen, "cannot encode certificate '%s': %s",
		    cpath, tls_reason());
		goto done;
	}
	if (fsutil_write_atomic(dir, TLS_CERT_NAME, data, (size_t)len,
	    0644) == -1) {
		tls_err(err, errlen, "cannot write '%s': %s", cpath,
		    strerror(errno));
		goto done;
	}

found:
	*cert = cpath;
	*key = kpath;
	cpath = kpath = NULL;
	rc = 0;

done:
	BIO_free(cbio);
	BIO_free(kbio);
	X509_free(x);
	EVP_PKEY_free(pkey);
	free(kpath);
	free(cpath);
	free(dir);
	return rc;
}

int
tls_ctx_pin(SSL_CTX *ctx, char *out, size_t outlen)
{
	unsigned char md[32], *der = NULL;
	X509 *x;
	int n;

	if (outlen < 45 || (x = SSL_CTX_get0_certificate(ctx)) == NULL ||
	    (n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der)) <= 0)
		return -1;
	EVP_Digest(der, (size_t)n, md, NULL, EVP_sha256(), NULL);
	OPENSSL_free(der);
	EVP_EncodeBlock((unsigned char *)out, md, sizeof(md));
	return 0;
}

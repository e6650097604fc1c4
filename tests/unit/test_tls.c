/*
 * tls.c: the self-signed certificate (files, modes, contents, reuse), the
 * server context's load errors, and the protocol policy checked with real
 * handshakes between two SSL objects joined by a BIO pair (no network).
 */

#include "tls.h"

#include <sys/stat.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "check.h"
#include "fsutil.h"

static const struct config_listen listens[] = {
	{ "127.0.0.1", 8443, "127.0.0.1:8443" },
	{ "::", 8443, "[::]:8443" },
	{ "mirror.example", 443, "mirror.example:443" },
};
#define N_LISTENS (sizeof(listens) / sizeof(listens[0]))

static char *
slurp(const char *path, size_t *len)
{
	char *buf;

	if (fsutil_read_file(path, 1 << 20, &buf, len) == -1)
		return NULL;
	return buf;
}

static mode_t
file_mode(const char *path)
{
	struct stat st;

	if (stat(path, &st) == -1)
		return (mode_t)-1;
	return st.st_mode & 07777;
}

static int
san_has_dns(GENERAL_NAMES *gens, const char *name)
{
	int i;

	for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		GENERAL_NAME *gn = sk_GENERAL_NAME_value(gens, i);
		if (gn->type == GEN_DNS &&
		    (size_t)ASN1_STRING_length(gn->d.dNSName) == strlen(name) &&
		    memcmp(ASN1_STRING_get0_data(gn->d.dNSName), name,
		    strlen(name)) == 0)
			return 1;
	}
	return 0;
}

static int
san_has_ip(GENERAL_NAMES *gens, const char *addr)
{
	unsigned char ip[16];
	int i, len;

	if (inet_pton(AF_INET, addr, ip) == 1)
		len = 4;
	else if (inet_pton(AF_INET6, addr, ip) == 1)
		len = 16;
	else
		return 0;
	for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		GENERAL_NAME *gn = sk_GENERAL_NAME_value(gens, i);
		if (gn->type == GEN_IPADD &&
		    ASN1_STRING_length(gn->d.iPAddress) == len &&
		    memcmp(ASN1_STRING_get0_data(gn->d.iPAddress), ip,
		    (size_t)len) == 0)
			return 1;
	}
	return 0;
}

static int
san_count_ip(GENERAL_NAMES *gens)
{
	int i, n = 0;

	for (i = 0; i < sk_GENERAL_NAME_num(gens); i++)
		if (sk_GENERAL_NAME_value(gens, i)->type == GEN_IPADD)
			n++;
	return n;
}

static void
check_cert(const char *cpath)
{
	FILE *fp;
	X509 *x = NULL;
	EVP_PKEY *pk;
	GENERAL_NAMES *gens;
	BASIC_CONSTRAINTS *bc;
	ASN1_BIT_STRING *ku;
	EXTENDED_KEY_USAGE *eku;
	char group[64];
	char cn[256];
	int crit;

	CHECK((fp = fopen(cpath, "r")) != NULL);
	if (fp == NULL)
		return;
	x = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	CHECK(x != NULL);
	if (x == NULL)
		return;

	CHECK(X509_get_version(x) == X509_VERSION_3);
	pk = X509_get0_pubkey(x);
	CHECK(pk != NULL && EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC);
	CHECK(pk != NULL && EVP_PKEY_get_group_name(pk, group, sizeof(group),
	    NULL) == 1 && strcmp(group, "prime256v1") == 0);
	CHECK(X509_get_signature_nid(x) == NID_ecdsa_with_SHA256);
	CHECK(X509_verify(x, pk) == 1);

	/* CN: the first listen host that is a DNS name. */
	CHECK(X509_NAME_get_text_by_NID(X509_get_subject_name(x),
	    NID_commonName, cn, sizeof(cn)) > 0 &&
	    strcmp(cn, "mirror.example") == 0);
	CHECK(X509_NAME_cmp(X509_get_subject_name(x),
	    X509_get_issuer_name(x)) == 0);

	/* A positive serial of about 128 bits. */
	{
		BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x),
		    NULL);
		CHECK(bn != NULL && !BN_is_negative(bn) &&
		    BN_num_bits(bn) > 64 && BN_num_bits(bn) <= 128);
		BN_free(bn);
	}

	/* Valid now, for about ten years. */
	{
		int days = 0, secs = 0;
		CHECK(X509_cmp_current_time(X509_get0_notBefore(x)) < 0);
		CHECK(X509_cmp_current_time(X509_get0_notAfter(x)) > 0);
		CHECK(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x),
		    X509_get0_notAfter(x)) == 1);
		CHECK(days >= 3650 && days <= 3654);
	}

	gens = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
	CHECK(gens != NULL);
	if (gens != NULL) {
		CHECK(san_has_dns(gens, "localhost"));
		CHECK(san_has_dns(gens, "mirror.example"));
		CHECK(san_has_ip(gens, "127.0.0.1"));
		CHECK(san_has_ip(gens, "::1"));
		/* "::" is a wildcard, no address; 127.0.0.1 not twice. */
		CHECK(!san_has_ip(gens, "::"));
		CHECK(san_count_ip(gens) == 2);
		GENERAL_NAMES_free(gens);
	}

	bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL);
	CHECK(bc != NULL && crit == 1 && bc->ca == 0);
	BASIC_CONSTRAINTS_free(bc);
	ku = X509_get_ext_d2i(x, NID_key_usage, &crit, NULL);
	CHECK(ku != NULL && crit == 1 && ASN1_BIT_STRING_get_bit(ku, 0) &&
	    !ASN1_BIT_STRING_get_bit(ku, 5));
	ASN1_BIT_STRING_free(ku);
	eku = X509_get_ext_d2i(x, NID_ext_key_usage, &crit, NULL);
	CHECK(eku != NULL && sk_ASN1_OBJECT_num(eku) == 1 &&
	    OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, 0)) == NID_server_auth);
	EXTENDED_KEY_USAGE_free(eku);
	CHECK(X509_get0_subject_key_id(x) != NULL);
	CHECK(X509_check_purpose(x, X509_PURPOSE_SSL_SERVER, 0) == 1);
	CHECK(X509_check_host(x, "mirror.example", 0, 0, NULL) == 1);
	CHECK(X509_check_ip_asc(x, "::1", 0) == 1);

	X509_free(x);
}

/*
 * Drive both ends of a handshake over a BIO pair, alternating until both
 * finish or one fails. 0 when both finished, -1 otherwise; the SSL
 * objects are handed back for inspection either way.
 */
static int
handshake(SSL_CTX *sctx, SSL_CTX *cctx, SSL_SESSION *sess, SSL **cp,
    SSL **sp)
{
	SSL *c = NULL, *s = NULL;
	BIO *cb = NULL, *sb = NULL;
	int i, rc, cdone = 0, sdone = 0;

	*cp = *sp = NULL;
	if ((c = SSL_new(cctx)) == NULL || (s = SSL_new(sctx)) == NULL ||
	    BIO_new_bio_pair(&cb, 0, &sb, 0) != 1) {
		SSL_free(c);
		SSL_free(s);
		return -1;
	}
	SSL_set_bio(c, cb, cb);
	SSL_set_bio(s, sb, sb);
	SSL_set_connect_state(c);
	SSL_set_accept_state(s);
	if (sess != NULL)
		SSL_set_session(c, sess);
	*cp = c;
	*sp = s;

	for (i = 0; i < 64 && !(cdone && sdone); i++) {
		if (!cdone) {
			rc = SSL_do_handshake(c);
			if (rc == 1)
				cdone = 1;
			else if (SSL_get_error(c, rc) != SSL_ERROR_WANT_READ &&
			    SSL_get_error(c, rc) != SSL_ERROR_WANT_WRITE)
				return -1;
		}
		if (!sdone) {
			rc = SSL_do_handshake(s);
			if (rc == 1)
				sdone = 1;
			else if (SSL_get_error(s, rc) != SSL_ERROR_WANT_READ &&
			    SSL_get_error(s, rc) != SSL_ERROR_WANT_WRITE)
				return -1;
		}
	}
	return cdone && sdone ? 0 : -1;
}

static void
handshake_free(SSL *c, SSL *s)
{
	/* Close cleanly: SSL_free without a close_notify marks the
	 * session unresumable. */
	if (c != NULL && SSL_is_init_finished(c))
		(void)SSL_shutdown(c);
	SSL_free(c);
	SSL_free(s);
	ERR_clear_error();
}

/* Let the client read what the server sent after the handshake (TLS 1.3
 * tickets arrive then). */
static void
client_pump(SSL *c)
{
	char buf[64];
	int rc;

	rc = SSL_read(c, buf, sizeof(buf));
	CHECK(rc <= 0 && SSL_get_error(c, rc) == SSL_ERROR_WANT_READ);
}

static void
check_handshakes(SSL_CTX *sctx, const char *cpath)
{
	SSL_CTX *cctx;
	SSL *c, *s;
	SSL_SESSION *sess;
	const SSL_CIPHER *ciph;

	/* (a) TLS 1.1 at most: refused. SECLEVEL=0 so the client really
	 * offers 1.1 instead of refusing on its own. */
	cctx = SSL_CTX_new(TLS_client_method());
	CHECK(cctx != NULL);
	SSL_CTX_set_security_level(cctx, 0);
	CHECK(SSL_CTX_set_cipher_list(cctx, "DEFAULT:@SECLEVEL=0") == 1);
	CHECK(SSL_CTX_set_min_proto_version(cctx, TLS1_VERSION) == 1);
	CHECK(SSL_CTX_set_max_proto_version(cctx, TLS1_1_VERSION) == 1);
	CHECK(handshake(sctx, cctx, NULL, &c, &s) == -1);
	CHECK(s != NULL && !SSL_is_init_finished(s));
	handshake_free(c, s);
	SSL_CTX_free(cctx);

	/* (b) TLS 1.2 with only a static-RSA, CBC suite: no shared cipher. */
	cctx = SSL_CTX_new(TLS_client_method());
	CHECK(cctx != NULL);
	CHECK(SSL_CTX_set_max_proto_version(cctx, TLS1_2_VERSION) == 1);
	CHECK(SSL_CTX_set_cipher_list(cctx, "AES128-SHA256") == 1);
	CHECK(handshake(sctx, cctx, NULL, &c, &s) == -1);
	CHECK(s != NULL && !SSL_is_init_finished(s));
	handshake_free(c, s);
	/* Same with a non-AEAD ECDHE suite. */
	CHECK(SSL_CTX_set_cipher_list(cctx, "ECDHE-ECDSA-AES128-SHA256") == 1);
	CHECK(handshake(sctx, cctx, NULL, &c, &s) == -1);
	handshake_free(c, s);
	SSL_CTX_free(cctx);

	/* (c) A default client gets TLS 1.3, and the certificate verifies
	 * for localhost when the client trusts the file itself. */
	cctx = SSL_CTX_new(TLS_client_method());
	CHECK(cctx != NULL);
	CHECK(SSL_CTX_load_verify_locations(cctx, cpath, NULL) == 1);
	SSL_CTX_set_verify(cctx, SSL_VERIFY_PEER, NULL);
	CHECK(handshake(sctx, cctx, NULL, &c, &s) == 0);
	if (c != NULL && s != NULL) {
		CHECK(SSL_version(c) == TLS1_3_VERSION);
		CHECK(SSL_version(s) == TLS1_3_VERSION);
		CHECK(SSL_get_verify_result(c) == X509_V_OK);
		CHECK(SSL_get_current_compression(s) == NULL);
		client_pump(c);
	}
	/* Session tickets are on: a second connection resumes. */
	sess = c != NULL ? SSL_get1_session(c) : NULL;
	CHECK(sess != NULL && SSL_SESSION_is_resumable(sess));
	handshake_free(c, s);
	CHECK(handshake(sctx, cctx, sess, &c, &s) == 0);
	CHECK(c != NULL && SSL_session_reused(c));
	handshake_free(c, s);
	SSL_SESSION_free(sess);
	SSL_CTX_free(cctx);

	/* (d) A TLS 1.2 client with default ciphers: ECDHE and an AEAD. */
	cctx = SSL_CTX_new(TLS_client_method());
	CHECK(cctx != NULL);
	CHECK(SSL_CTX_set_max_proto_version(cctx, TLS1_2_VERSION) == 1);
	CHECK(handshake(sctx, cctx, NULL, &c, &s) == 0);
	if (c != NULL && s != NULL) {
		CHECK(SSL_version(s) == TLS1_2_VERSION);
		ciph = SSL_get_current_cipher(s);
		CHECK(ciph != NULL);
		CHECK(ciph != NULL &&
		    SSL_CIPHER_get_kx_nid(ciph) == NID_kx_ecdhe);
		CHECK(ciph != NULL && SSL_CIPHER_is_aead(ciph));
		CHECK(ciph != NULL && SSL_CIPHER_get_auth_nid(ciph) ==
		    NID_auth_ecdsa);
		CHECK(SSL_get_current_compression(s) == NULL);
		CHECK((SSL_get_mode(s) & SSL_MODE_RELEASE_BUFFERS) != 0);

		/* Renegotiation is refused: the server answers the
		 * client's new ClientHello with a no_renegotiation alert. */
		{
			char buf[8];
			int i, rc = 0, e = 0;

			ERR_clear_error();
			CHECK(SSL_renegotiate(c) == 1);
			for (i = 0; i < 8; i++) {
				rc = SSL_do_handshake(c);
				if (rc <= 0 && (e = SSL_get_error(c, rc)) ==
				    SSL_ERROR_SSL)
					break;
				(void)SSL_read(s, buf, sizeof(buf));
			}
			CHECK(rc <= 0 && e == SSL_ERROR_SSL);
			CHECK(ERR_GET_REASON(ERR_peek_error()) ==
			    SSL_R_NO_RENEGOTIATION);
		}
	}
	handshake_free(c, s);
	SSL_CTX_free(cctx);
}

static void
rm_rf_tls(const char *store)
{
	char path[4096];
	DIR *d;
	struct dirent *de;

	snprintf(path, sizeof(path), "%s/tls", store);
	if ((d = opendir(path)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			char f[8192];
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(f, sizeof(f), "%s/%s", path, de->d_name);
			unlink(f);
		}
		closedir(d);
	}
	rmdir(path);
	rmdir(store);
}

int
main(void)
{
	char store[] = "/tmp/emberd-test-tls.XXXXXX";
	char store2[] = "/tmp/emberd-test-tls2.XXXXXX";
	char err[512], tlsdir[4096];
	char *cert = NULL, *key = NULL, *cert2 = NULL, *key2 = NULL;
	char *cbuf = NULL, *kbuf = NULL, *cbuf2 = NULL, *kbuf2 = NULL;
	size_t clen = 0, klen = 0, clen2 = 0, klen2 = 0;
	SSL_CTX *sctx;

	CHECK(mkdtemp(store) != NULL);
	CHECK(mkdtemp(store2) != NULL);

	/* First call makes the pair. */
	err[0] = '\0';
	CHECK(tls_selfsigned_ensure(store, listens, N_LISTENS, &cert, &key,
	    err, sizeof(err)) == 0);
	if (err[0] != '\0')
		fprintf(stderr, "ensure: %s\n", err);
	CHECK(cert != NULL && key != NULL);
	if (cert == NULL || key == NULL)
		CHECK_DONE();
	snprintf(tlsdir, sizeof(tlsdir), "%s/tls", store);
	CHECK(strncmp(cert, tlsdir, strlen(tlsdir)) == 0 &&
	    strcmp(strrchr(cert, '/'), "/cert.pem") == 0);
	CHECK(strcmp(strrchr(key, '/'), "/key.pem") == 0);
	CHECK(file_mode(tlsdir) == 0700);
	CHECK(file_mode(key) == 0600);
	CHECK(file_mode(cert) == 0644);
	CHECK((cbuf = slurp(cert, &clen)) != NULL);
	CHECK((kbuf = slurp(key, &klen)) != NULL);
	CHECK(kbuf != NULL && strstr(kbuf, "-----BEGIN PRIVATE KEY-----") ==
	    kbuf);
	CHECK(cbuf != NULL && strstr(cbuf, "-----BEGIN CERTIFICATE-----") ==
	    cbuf);
	check_cert(cert);

	/* Second call: the same files, untouched. */
	CHECK(tls_selfsigned_ensure(store, listens, N_LISTENS, &cert2, &key2,
	    err, sizeof(err)) == 0);
	CHECK(cert2 != NULL && strcmp(cert2, cert) == 0);
	CHECK(key2 != NULL && strcmp(key2, key) == 0);
	CHECK((cbuf2 = slurp(cert, &clen2)) != NULL);
	CHECK((kbuf2 = slurp(key, &klen2)) != NULL);
	CHECK(cbuf && cbuf2 && clen == clen2 && memcmp(cbuf, cbuf2, clen) == 0);
	CHECK(kbuf && kbuf2 && klen == klen2 && memcmp(kbuf, kbuf2, klen) == 0);
	free(cert2);
	free(key2);
	free(cbuf2);
	free(kbuf2);

	/* The server context loads them and enforces the policy. */
	err[0] = '\0';
	sctx = tls_server_ctx(cert, key, err, sizeof(err));
	CHECK(sctx != NULL);
	if (sctx == NULL)
		fprintf(stderr, "tls_server_ctx: %s\n", err);
	else {
		CHECK((SSL_CTX_get_options(sctx) & SSL_OP_NO_COMPRESSION) != 0);
		CHECK((SSL_CTX_get_options(sctx) &
		    SSL_OP_NO_RENEGOTIATION) != 0);
		CHECK(SSL_CTX_get_min_proto_version(sctx) == TLS1_2_VERSION);
		check_handshakes(sctx, cert);
		SSL_CTX_free(sctx);
	}
	CHECK(ERR_peek_error() == 0);

	/* A missing file is named. */
	err[0] = '\0';
	CHECK(tls_server_ctx("/nonexistent/emberd/cert.pem", key, err,
	    sizeof(err)) == NULL);
	CHECK(strstr(err, "/nonexistent/emberd/cert.pem") != NULL);
	CHECK(strstr(err, "No such file") != NULL);
	CHECK(ERR_peek_error() == 0);
	err[0] = '\0';
	CHECK(tls_server_ctx(cert, "/nonexistent/emberd/key.pem", err,
	    sizeof(err)) == NULL);
	CHECK(strstr(err, "/nonexistent/emberd/key.pem") != NULL);

	/* A key from another store does not match this certificate. */
	CHECK(tls_selfsigned_ensure(store2, listens, N_LISTENS, &cert2, &key2,
	    err, sizeof(err)) == 0);
	if (cert2 != NULL && key2 != NULL) {
		err[0] = '\0';
		CHECK(tls_server_ctx(cert, key2, err, sizeof(err)) == NULL);
		CHECK(strstr(err, key2) != NULL);
		CHECK(strstr(err, "mismatch") != NULL);
		CHECK(ERR_peek_error() == 0);
		/* The certificate as the key: not a key at all. */
		err[0] = '\0';
		CHECK(tls_server_ctx(cert, cert2, err, sizeof(err)) == NULL);
		CHECK(strstr(err, cert2) != NULL);
	}

	/* A crash between the two writes leaves only the key: both are made
	 * again, and the new pair matches. */
	CHECK(unlink(cert2) == 0);
	free(cert2);
	free(key2);
	cert2 = key2 = NULL;
	CHECK(tls_selfsigned_ensure(store2, listens, N_LISTENS, &cert2, &key2,
	    err, sizeof(err)) == 0);
	CHECK((kbuf2 = slurp(key2, &klen2)) != NULL);
	CHECK(kbuf && kbuf2 && (klen != klen2 ||
	    memcmp(kbuf, kbuf2, klen) != 0));
	sctx = tls_server_ctx(cert2, key2, err, sizeof(err));
	CHECK(sctx != NULL);
	SSL_CTX_free(sctx);
	free(kbuf2);

	/* No listen hosts at all: CN falls back, localhost still present. */
	rm_rf_tls(store2);
	free(cert2);
	free(key2);
	strcpy(store2, "/tmp/emberd-test-tls2.XXXXXX");
	CHECK(mkdtemp(store2) != NULL);
	CHECK(tls_selfsigned_ensure(store2, NULL, 0, &cert2, &key2, err,
	    sizeof(err)) == 0);
	{
		FILE *fp = cert2 ? fopen(cert2, "r") : NULL;
		X509 *x = fp ? PEM_read_X509(fp, NULL, NULL, NULL) : NULL;
		char cn[64];

		CHECK(x != NULL);
		CHECK(x && X509_NAME_get_text_by_NID(X509_get_subject_name(x),
		    NID_commonName, cn, sizeof(cn)) > 0 &&
		    strcmp(cn, "emberd") == 0);
		CHECK(x && X509_check_host(x, "localhost", 0, 0, NULL) == 1);
		X509_free(x);
		if (fp)
			fclose(fp);
	}
	free(cert2);
	free(key2);

	/* An unusable store is an error naming the path. */
	err[0] = '\0';
	CHECK(tls_selfsigned_ensure("/proc/emberd-no-such", listens, N_LISTENS,
	    &cert2, &key2, err, sizeof(err)) == -1);
	CHECK(cert2 == NULL && key2 == NULL);
	CHECK(strstr(err, "/proc/emberd-no-such") != NULL);

	free(cert);
	free(key);
	free(cbuf);
	free(kbuf);
	rm_rf_tls(store);
	rm_rf_tls(store2);
	CHECK_DONE();
}

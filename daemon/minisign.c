/*
 * Minisign-compatible keys and signatures on top of OpenSSL 3.
 *
 * Minisign is Ed25519 plus a few framing bytes: "Ed"/"ED" for the
 * algorithm, an 8-byte key id, base64 lines and comment lines. OpenSSL has
 * both Ed25519 and BLAKE2b-512, so there is no need for libsodium. The
 * verifier reads untrusted text from peers: every length is checked against
 * an exact expectation before anything is copied.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* renameat2; meson sets it, ad hoc builds may not */
#endif

#include "minisign.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#define MINISIGN_HASH_LEN 64		/* BLAKE2b-512 */
#define MINISIGN_ALG_LEN 2
#define MINISIGN_PUB_RAW_LEN (MINISIGN_ALG_LEN + MINISIGN_KEYID_LEN + MINISIGN_PK_LEN)
#define MINISIGN_SIG_RAW_LEN (MINISIGN_ALG_LEN + MINISIGN_KEYID_LEN + MINISIGN_SIG_LEN)
#define MINISIGN_B64_LEN(n) (4 * (((n) + 2) / 3))
/* Largest raw blob we ever decode, and its encoding plus NUL. */
#define MINISIGN_B64_RAW_MAX 96
#define MINISIGN_B64_ENC_MAX (MINISIGN_B64_LEN(MINISIGN_B64_RAW_MAX) + 1)

/*
 * A .minisig is four short lines; minisign caps comments at 1 KiB and
 * trusted ones are capped lower here. Anything much bigger is not a
 * signature, and refusing it early bounds the work a peer can cause.
 */
#define MINISIGN_SIGTEXT_MAX 8192
#define MINISIGN_PUBTEXT_MAX 4096
/* A PKCS#8 PEM Ed25519 key is ~120 bytes; leave room for odd encoders. */
#define MINISIGN_KEYFILE_MAX 65536

#define MINISIGN_UNTRUSTED_PREFIX "untrusted comment: "
#define MINISIGN_TRUSTED_PREFIX "trusted comment: "
#define MINISIGN_SIG_COMMENT "signature from emberd secret key"

struct minisign_line {
	const char *s;
	size_t len;
};

static void minisign_err(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
minisign_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	/* Nothing from OpenSSL's queue is reported; don't let it pile up. */
	ERR_clear_error();
	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int
minisign_has_prefix(const struct minisign_line *l, const char *prefix)
{
	size_t n = strlen(prefix);

	return l->len >= n && memcmp(l->s, prefix, n) == 0;
}

/*
 * Take the next line from [*p, end). A line ends in "\n" or "\r\n"; only
 * the last one may lack it (files edited by hand often do). The terminator
 * is not part of the line.
 */
static int
minisign_next_line(const char **p, const char *end, int last,
    struct minisign_line *l)
{
	const char *nl;

	if (*p >= end)
		return -1;
	nl = memchr(*p, '\n', (size_t)(end - *p));
	if (nl == NULL) {
		if (!last)
			return -1;
		l->s = *p;
		l->len = (size_t)(end - *p);
		*p = end;
		return 0;
	}
	l->s = *p;
	l->len = (size_t)(nl - *p);
	if (l->len > 0 && l->s[l->len - 1] == '\r')
		l->len--;
	*p = nl + 1;
	return 0;
}

/*
 * Decode exactly OUTLEN bytes from base64. EVP_DecodeBlock skips leading
 * blanks, ignores how much padding there was and accepts stray bits in the
 * last character, so the result is re-encoded and must match the input
 * byte for byte: only the one canonical spelling of a key or signature is
 * accepted.
 */
static int
minisign_b64_decode(const char *s, size_t slen, uint8_t *out, size_t outlen)
{
	unsigned char raw[MINISIGN_B64_RAW_MAX + 3];
	unsigned char enc[MINISIGN_B64_ENC_MAX];
	int n, rc = -1;

	if (outlen == 0 || outlen > MINISIGN_B64_RAW_MAX ||
	    slen != MINISIGN_B64_LEN(outlen))
		return -1;
	n = EVP_DecodeBlock(raw, (const unsigned char *)s, (int)slen);
	if (n < 0 || (size_t)n < outlen)
		goto done;
	n = EVP_EncodeBlock(enc, raw, (int)outlen);
	if (n < 0 || (size_t)n != slen || memcmp(enc, s, slen) != 0)
		goto done;
	memcpy(out, raw, outlen);
	rc = 0;
done:
	ERR_clear_error();
	return rc;
}

/* Base64 of LEN bytes into a fresh string. */
static char *
minisign_b64_encode(const uint8_t *in, size_t len)
{
	char *out;

	if ((out = malloc(MINISIGN_B64_LEN(len) + 1)) == NULL)
		return NULL;
	EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	return out;
}

static int
minisign_blake2b(const void *msg, size_t len, uint8_t h[MINISIGN_HASH_LEN])
{
	unsigned int hlen = 0;

	if (msg == NULL)
		msg = "";
	if (EVP_Digest(msg, len, h, &hlen, EVP_blake2b512(), NULL) != 1 ||
	    hlen != MINISIGN_HASH_LEN)
		return -1;
	return 0;
}

/* The key id is derived, not random, so a key file holds only the key. */
static int
minisign_keyid(const uint8_t pk[MINISIGN_PK_LEN], uint8_t id[MINISIGN_KEYID_LEN])
{
	uint8_t h[EVP_MAX_MD_SIZE];
	unsigned int hlen = 0;

	if (EVP_Digest(pk, MINISIGN_PK_LEN, h, &hlen, EVP_sha256(), NULL) != 1 ||
	    hlen < MINISIGN_KEYID_LEN)
		return -1;
	memcpy(id, h, MINISIGN_KEYID_LEN);
	return 0;
}

static int
minisign_ed25519_sign(EVP_PKEY *pkey, const uint8_t *m, size_t mlen,
    uint8_t sig[MINISIGN_SIG_LEN])
{
	EVP_MD_CTX *ctx;
	size_t siglen = MINISIGN_SIG_LEN;
	int rc = -1;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	/* Ed25519 is one-shot: no digest, the whole message at once. */
	if (EVP_DigestSignInit(ctx, NULL, NULL, NULL, pkey) == 1 &&
	    EVP_DigestSign(ctx, sig, &siglen, m, mlen) == 1 &&
	    siglen == MINISIGN_SIG_LEN)
		rc = 0;
	EVP_MD_CTX_free(ctx);
	return rc;
}

/* 0 valid, -1 not (or could not check). */
static int
minisign_ed25519_verify(EVP_PKEY *pkey, const uint8_t *m, size_t mlen,
    const uint8_t sig[MINISIGN_SIG_LEN])
{
	EVP_MD_CTX *ctx;
	int rc = -1;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	if (EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) == 1 &&
	    EVP_DigestVerify(ctx, sig, MINISIGN_SIG_LEN, m, mlen) == 1)
		rc = 0;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}

static int
minisign_write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Make a finished link survive a crash: fsync the directory holding it. */
static int
minisign_fsync_dir(const char *path)
{
	char *dir, *slash;
	const char *d;
	int fd, rc = -1;

	if ((dir = strdup(path)) == NULL)
		return -1;
	if ((slash = strrchr(dir, '/')) == NULL)
		d = ".";
	else {
		if (slash == dir)
			slash++;	/* "/key": the directory is "/" */
		*slash = '\0';
		d = dir;
	}
	if ((fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		if (fsync(fd) == 0)
			rc = 0;
		close(fd);
	}
	free(dir);
	return rc;
}

/*
 * Publish TMP as PATH without ever replacing an existing PATH: link()
 * fails with EEXIST if someone got there first. Filesystems without hard
 * links get renameat2(RENAME_NOREPLACE) instead. 1 published, 0 PATH
 * already existed, -1 error. TMP is gone afterwards either way.
 */
static int
minisign_publish(const char *tmp, const char *path)
{
	int rc, saved;

	if (link(tmp, path) == 0)
		rc = 1;
	else if (errno == EEXIST)
		rc = 0;
	else if (errno == EPERM || errno == EOPNOTSUPP || errno == ENOSYS ||
	    errno == EMLINK) {
		if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path,
		    RENAME_NOREPLACE) == 0)
			return 1;
		rc = errno == EEXIST ? 0 : -1;
	} else
		rc = -1;
	saved = errno;
	unlink(tmp);
	errno = saved;
	return rc;
}

int
minisign_keygen(const char *path, char *err, size_t errlen)
{
	struct stat st;
	EVP_PKEY *pkey = NULL;
	BIO *bio = NULL;
	char *tmp = NULL, *pem = NULL;
	uint8_t rnd[8];
	size_t tmplen;
	long pemlen;
	int fd = -1, i, rc = -1, saved;

	if (lstat(path, &st) == 0)
		return 0;
	if (errno != ENOENT) {
		minisign_err(err, errlen, "cannot create key '%s': %s", path,
		    strerror(errno));
		return -1;
	}

	if ((pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL) {
		minisign_err(err, errlen, "cannot create key '%s': Ed25519 "
		    "key generation failed", path);
		goto done;
	}
	/* Secure heap BIO: the PEM is wiped when the BIO is freed. */
	if ((bio = BIO_new(BIO_s_secmem())) == NULL ||
	    PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) != 1 ||
	    (pemlen = BIO_get_mem_data(bio, &pem)) <= 0) {
		minisign_err(err, errlen, "cannot create key '%s': cannot "
		    "encode key", path);
		goto done;
	}

	/*
	 * Write under a random name in the same directory and link it into
	 * place once complete, so a crash leaves either no key or a whole
	 * one, never a truncated key that later refuses to load.
	 */
	tmplen = strlen(path) + sizeof(".tmp-") + 2 * sizeof(rnd);
	if ((tmp = malloc(tmplen)) == NULL) {
		minisign_err(err, errlen, "cannot create key '%s': out of "
		    "memory", path);
		goto done;
	}
	for (i = 0; i < 8 && fd == -1; i++) {
		if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
			minisign_err(err, errlen, "cannot create key '%s': "
			    "no randomness", path);
			goto done;
		}
		snprintf(tmp, tmplen, "%s.tmp-%02x%02x%02x%02x%02x%02x%02x%02x",
		    path, rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5],
		    rnd[6], rnd[7]);
		fd = open(tmp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC |
		    O_NOFOLLOW, 0600);
		if (fd == -1 && errno != EEXIST) {
			minisign_err(err, errlen, "cannot create key '%s': %s",
			    path, strerror(errno));
			goto done;
		}
	}
	if (fd == -1) {
		minisign_err(err, errlen, "cannot create key '%s': no free "
		    "temporary name", path);
		goto done;
	}
	if (minisign_write_all(fd, pem, (size_t)pemlen) == -1 ||
	    fsync(fd) == -1) {
		saved = errno;
		close(fd);
		fd = -1;
		unlink(tmp);
		minisign_err(err, errlen, "cannot write key '%s': %s", path,
		    strerror(saved));
		goto done;
	}
	if (close(fd) == -1) {
		saved = errno;
		fd = -1;
		unlink(tmp);
		minisign_err(err, errlen, "cannot write key '%s': %s", path,
		    strerror(saved));
		goto done;
	}
	fd = -1;

	if ((rc = minisign_publish(tmp, path)) == -1) {
		minisign_err(err, errlen, "cannot create key '%s': %s", path,
		    strerror(errno));
		goto done;
	}
	if (rc == 1 && minisign_fsync_dir(path) == -1) {
		/* The key is in place; only its durability is in doubt. */
		minisign_err(err, errlen, "key '%s' created but its directory "
		    "could not be synced: %s", path, strerror(errno));
		rc = -1;
	}
done:
	if (fd != -1) {
		close(fd);
		unlink(tmp);
	}
	free(tmp);
	BIO_free(bio);
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return rc;
}

/* Never prompt on a terminal for a passphrase: emberd keys have none. */
static int
minisign_nopass(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

static int
minisign_read_fd(int fd, char *buf, size_t cap, size_t *len)
{
	ssize_t n;

	*len = 0;
	for (;;) {
		if (*len == cap) {
			errno = EFBIG;	/* grew past the size fstat saw */
			return -1;
		}
		n = read(fd, buf + *len, cap - *len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			return 0;
		*len += (size_t)n;
	}
}

int
minisign_key_load(const char *path, struct minisign_key *key, char *err,
    size_t errlen)
{
	struct stat st;
	EVP_PKEY *pkey = NULL;
	BIO *bio = NULL;
	char *buf = NULL;
	const char *what;
	size_t len = 0, cap = 0, pklen = MINISIGN_PK_LEN;
	int fd, rc = -1;

	memset(key, 0, sizeof(*key));
	/*
	 * fstat the descriptor we read, so the checks apply to that file.
	 * O_NONBLOCK: a FIFO planted at PATH must not hang start-up before
	 * the regular-file check refuses it.
	 */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) ==
	    -1) {
		minisign_err(err, errlen, "cannot open key '%s': %s", path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		minisign_err(err, errlen, "cannot stat key '%s': %s", path,
		    strerror(errno));
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		minisign_err(err, errlen, "key '%s' is not a regular file",
		    path);
		goto done;
	}
	if (st.st_uid != geteuid()) {
		minisign_err(err, errlen, "key '%s' is owned by uid %lu, not "
		    "by the running user (uid %lu)", path,
		    (unsigned long)st.st_uid, (unsigned long)geteuid());
		goto done;
	}
	if (st.st_mode & 077) {
		if (st.st_mode & 044)
			what = "readable";
		else if (st.st_mode & 022)
			what = "writable";
		else
			what = "accessible";
		minisign_err(err, errlen, "key '%s' is %s by others (mode "
		    "%04o): chmod 600 it", path, what,
		    (unsigned int)(st.st_mode & 07777));
		goto done;
	}
	if (st.st_size <= 0 || st.st_size > MINISIGN_KEYFILE_MAX) {
		minisign_err(err, errlen, "key '%s' is not a key (size %lld)",
		    path, (long long)st.st_size);
		goto done;
	}
	cap = (size_t)st.st_size + 1;
	if ((buf = OPENSSL_secure_malloc(cap)) == NULL) {
		minisign_err(err, errlen, "cannot load key '%s': out of memory",
		    path);
		goto done;
	}
	if (minisign_read_fd(fd, buf, cap, &len) == -1) {
		minisign_err(err, errlen, "cannot read key '%s': %s", path,
		    strerror(errno));
		goto done;
	}
	if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL ||
	    (pkey = PEM_read_bio_PrivateKey(bio, NULL, minisign_nopass,
	    NULL)) == NULL) {
		minisign_err(err, errlen, "key '%s' is not an unencrypted PEM "
		    "private key", path);
		goto done;
	}
	if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_ED25519) {
		minisign_err(err, errlen, "key '%s' is not an Ed25519 key",
		    path);
		goto done;
	}
	if (EVP_PKEY_get_raw_public_key(pkey, key->pk, &pklen) != 1 ||
	    pklen != MINISIGN_PK_LEN || minisign_keyid(key->pk, key->id) == -1) {
		minisign_err(err, errlen, "key '%s': cannot derive the public "
		    "key", path);
		goto done;
	}
	key->pkey = pkey;
	pkey = NULL;
	rc = 0;
done:
	if (rc == -1)
		memset(key, 0, sizeof(*key));
	BIO_free(bio);
	if (buf != NULL)
		OPENSSL_secure_clear_free(buf, cap);
	EVP_PKEY_free(pkey);
	close(fd);
	ERR_clear_error();
	return rc;
}

void
minisign_key_free(struct minisign_key *key)
{
	if (key == NULL)
		return;
	EVP_PKEY_free(key->pkey);
	memset(key, 0, sizeof(*key));
}

void
minisign_keyid_hex(const uint8_t id[MINISIGN_KEYID_LEN], char out[17])
{
	uint64_t v = 0;
	int i;

	/* minisign reads the id bytes as a little-endian integer. */
	for (i = MINISIGN_KEYID_LEN - 1; i >= 0; i--)
		v = (v << 8) | id[i];
	snprintf(out, 17, "%016" PRIX64, v);
}

char *
minisign_pubkey_base64(const struct minisign_key *key)
{
	uint8_t raw[MINISIGN_PUB_RAW_LEN];

	raw[0] = 'E';
	raw[1] = 'd';
	memcpy(raw + MINISIGN_ALG_LEN, key->id, MINISIGN_KEYID_LEN);
	memcpy(raw + MINISIGN_ALG_LEN + MINISIGN_KEYID_LEN, key->pk,
	    MINISIGN_PK_LEN);
	return minisign_b64_encode(raw, sizeof(raw));
}

char *
minisign_pubkey_file(const struct minisign_key *key)
{
	char hex[17], *b64, *out;
	size_t len;

	if ((b64 = minisign_pubkey_base64(key)) == NULL)
		return NULL;
	minisign_keyid_hex(key->id, hex);
	len = sizeof(MINISIGN_UNTRUSTED_PREFIX "minisign public key \n\n") +
	    strlen(hex) + strlen(b64);
	if ((out = malloc(len)) != NULL)
		snprintf(out, len, MINISIGN_UNTRUSTED_PREFIX
		    "minisign public key %s\n%s\n", hex, b64);
	free(b64);
	return out;
}

int
minisign_pubkey_parse(const char *text, size_t len, struct minisign_pubkey *out)
{
	struct minisign_line l;
	const char *p = text, *end;
	uint8_t raw[MINISIGN_PUB_RAW_LEN];

	if (text == NULL || len == 0 || len > MINISIGN_PUBTEXT_MAX)
		return -1;
	end = text + len;
	if (minisign_next_line(&p, end, 1, &l) == -1)
		return -1;
	/* A whole .pub file: skip its comment, the key is the next line. */
	if (minisign_has_prefix(&l, MINISIGN_UNTRUSTED_PREFIX) &&
	    minisign_next_line(&p, end, 1, &l) == -1)
		return -1;
	if (p != end)
		return -1;
	if (minisign_b64_decode(l.s, l.len, raw, sizeof(raw)) == -1)
		return -1;
	if (raw[0] != 'E' || raw[1] != 'd')
		return -1;
	memcpy(out->id, raw + MINISIGN_ALG_LEN, MINISIGN_KEYID_LEN);
	memcpy(out->pk, raw + MINISIGN_ALG_LEN + MINISIGN_KEYID_LEN,
	    MINISIGN_PK_LEN);
	return 0;
}

/* A trusted comment is one line of text, as minisign would display it. */
static int
minisign_trusted_ok(const char *s, size_t len)
{
	return len < MINISIGN_TRUSTED_MAX && memchr(s, '\n', len) == NULL &&
	    memchr(s, '\r', len) == NULL && memchr(s, '\0', len) == NULL;
}

char *
minisign_sign(const struct minisign_key *key, const void *msg, size_t len,
    const char *trusted, char *err, size_t errlen)
{
	uint8_t h[MINISIGN_HASH_LEN];
	uint8_t sigraw[MINISIGN_SIG_RAW_LEN];
	uint8_t gbuf[MINISIGN_SIG_LEN + MINISIGN_TRUSTED_MAX];
	uint8_t gsig[MINISIGN_SIG_LEN];
	uint8_t *sig = sigraw + MINISIGN_ALG_LEN + MINISIGN_KEYID_LEN;
	char *b64sig = NULL, *b64g = NULL, *out = NULL;
	size_t tlen, outlen;

	if (key == NULL || key->pkey == NULL) {
		minisign_err(err, errlen, "cannot sign: no key loaded");
		return NULL;
	}
	if (trusted == NULL)
		trusted = "";
	tlen = strlen(trusted);
	if (!minisign_trusted_ok(trusted, tlen)) {
		minisign_err(err, errlen, "cannot sign: trusted comment must "
		    "be one line shorter than %d bytes", MINISIGN_TRUSTED_MAX);
		return NULL;
	}

	sigraw[0] = 'E';
	sigraw[1] = 'D';
	memcpy(sigraw + MINISIGN_ALG_LEN, key->id, MINISIGN_KEYID_LEN);
	if (minisign_blake2b(msg, len, h) == -1 ||
	    minisign_ed25519_sign(key->pkey, h, sizeof(h), sig) == -1) {
		minisign_err(err, errlen, "cannot sign: Ed25519 signing "
		    "failed");
		return NULL;
	}
	/* The global signature binds the trusted comment to this signature. */
	memcpy(gbuf, sig, MINISIGN_SIG_LEN);
	memcpy(gbuf + MINISIGN_SIG_LEN, trusted, tlen);
	if (minisign_ed25519_sign(key->pkey, gbuf, MINISIGN_SIG_LEN + tlen,
	    gsig) == -1) {
		minisign_err(err, errlen, "cannot sign: Ed25519 signing of "
		    "the trusted comment failed");
		return NULL;
	}

	if ((b64sig = minisign_b64_encode(sigraw, sizeof(sigraw))) == NULL ||
	    (b64g = minisign_b64_encode(gsig, sizeof(gsig))) == NULL)
		goto oom;
	outlen = sizeof(MINISIGN_UNTRUSTED_PREFIX MINISIGN_SIG_COMMENT "\n\n"
	    MINISIGN_TRUSTED_PREFIX "\n\n") + strlen(b64sig) + tlen +
	    strlen(b64g);
	if ((out = malloc(outlen)) == NULL)
		goto oom;
	snprintf(out, outlen, "%s%s\n%s\n%s%s\n%s\n",
	    MINISIGN_UNTRUSTED_PREFIX, MINISIGN_SIG_COMMENT, b64sig,
	    MINISIGN_TRUSTED_PREFIX, trusted, b64g);
	free(b64sig);
	free(b64g);
	return out;
oom:
	free(b64sig);
	free(b64g);
	minisign_err(err, errlen, "cannot sign: out of memory");
	return NULL;
}

/* A .minisig parsed and checked for form; its trusted comment points
 * into the caller's text. */
struct minisign_sig {
	uint8_t raw[MINISIGN_SIG_RAW_LEN];	/* "ED", key id, signature */
	uint8_t gsig[MINISIGN_SIG_LEN];		/* over signature + comment */
	const char *tc;
	size_t tclen;
};

/*
 * Split SIG into its four lines and decode them, refusing anything but
 * the exact minisign form of a prehashed signature by PK's key id. No
 * cryptography yet: every refusal here is about the text.
 */
static int
minisign_sig_parse(const struct minisign_pubkey *pk, const char *sig,
    size_t siglen, struct minisign_sig *out, char *err, size_t errlen)
{
	struct minisign_line l[4];
	const char *p = sig, *end = sig + siglen;
	char gotid[17], wantid[17];
	size_t i;

	for (i = 0; i < 4; i++) {
		if (minisign_next_line(&p, end, i == 3, &l[i]) == -1) {
			minisign_err(err, errlen, "signature is truncated "
			    "(%zu of 4 lines)", i);
			return -1;
		}
	}
	if (p != end) {
		minisign_err(err, errlen, "signature has data after its "
		    "fourth line");
		return -1;
	}
	if (!minisign_has_prefix(&l[0], MINISIGN_UNTRUSTED_PREFIX)) {
		minisign_err(err, errlen, "signature does not start with "
		    "'" MINISIGN_UNTRUSTED_PREFIX "'");
		return -1;
	}
	if (minisign_b64_decode(l[1].s, l[1].len, out->raw,
	    sizeof(out->raw)) == -1) {
		minisign_err(err, errlen, "signature line is not valid base64 "
		    "of a minisign signature");
		return -1;
	}
	if (out->raw[0] == 'E' && out->raw[1] == 'd') {
		minisign_err(err, errlen, "legacy (non-prehashed) minisign "
		    "signature: only prehashed (ED) signatures are accepted, "
		    "sign without -l");
		return -1;
	}
	if (out->raw[0] != 'E' || out->raw[1] != 'D') {
		minisign_err(err, errlen, "unsupported signature algorithm");
		return -1;
	}
	if (memcmp(out->raw + MINISIGN_ALG_LEN, pk->id,
	    MINISIGN_KEYID_LEN) != 0) {
		minisign_keyid_hex(out->raw + MINISIGN_ALG_LEN, gotid);
		minisign_keyid_hex(pk->id, wantid);
		minisign_err(err, errlen, "signed by another key (KEYID %s, "
		    "expected %s)", gotid, wantid);
		return -1;
	}
	if (!minisign_has_prefix(&l[2], MINISIGN_TRUSTED_PREFIX)) {
		minisign_err(err, errlen, "signature has no trusted comment "
		    "line");
		return -1;
	}
	out->tc = l[2].s + strlen(MINISIGN_TRUSTED_PREFIX);
	out->tclen = l[2].len - strlen(MINISIGN_TRUSTED_PREFIX);
	if (!minisign_trusted_ok(out->tc, out->tclen)) {
		minisign_err(err, errlen, "trusted comment is too long or "
		    "holds control characters");
		return -1;
	}
	if (minisign_b64_decode(l[3].s, l[3].len, out->gsig,
	    sizeof(out->gsig)) == -1) {
		minisign_err(err, errlen, "trusted comment signature is not "
		    "valid base64 of a signature");
		return -1;
	}
	return 0;
}

/* The two Ed25519 checks: the signature over MSG's BLAKE2b-512, then the
 * global signature binding the trusted comment to it. */
static int
minisign_sig_check(const struct minisign_pubkey *pk, const void *msg,
    size_t len, const struct minisign_sig *sig, char *err, size_t errlen)
{
	const uint8_t *s = sig->raw + MINISIGN_ALG_LEN + MINISIGN_KEYID_LEN;
	uint8_t gbuf[MINISIGN_SIG_LEN + MINISIGN_TRUSTED_MAX];
	uint8_t h[MINISIGN_HASH_LEN];
	EVP_PKEY *pkey;
	int rc = -1;

	if ((pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pk->pk,
	    MINISIGN_PK_LEN)) == NULL) {
		minisign_err(err, errlen, "public key is not a valid Ed25519 "
		    "key");
		goto done;
	}
	if (minisign_blake2b(msg, len, h) == -1) {
		minisign_err(err, errlen, "cannot hash the signed file");
		goto done;
	}
	if (minisign_ed25519_verify(pkey, h, sizeof(h), s) == -1) {
		minisign_err(err, errlen, "signature verification failed: the "
		    "file does not match its signature");
		goto done;
	}
	memcpy(gbuf, s, MINISIGN_SIG_LEN);
	memcpy(gbuf + MINISIGN_SIG_LEN, sig->tc, sig->tclen);
	if (minisign_ed25519_verify(pkey, gbuf, MINISIGN_SIG_LEN + sig->tclen,
	    sig->gsig) == -1) {
		minisign_err(err, errlen, "trusted comment signature "
		    "verification failed: the trusted comment was altered");
		goto done;
	}
	rc = 0;
done:
	EVP_PKEY_free(pkey);
	return rc;
}

int
minisign_verify(const struct minisign_pubkey *pk, const void *msg, size_t len,
    const char *sig, size_t siglen, char *trusted_out, size_t trusted_len,
    char *err, size_t errlen)
{
	struct minisign_sig ms;
	int rc = -1;

	if (trusted_out != NULL && trusted_len > 0)
		trusted_out[0] = '\0';
	if (pk == NULL) {
		minisign_err(err, errlen, "no public key to verify with");
		return -1;
	}
	if (sig == NULL || siglen == 0) {
		minisign_err(err, errlen, "signature is empty");
		return -1;
	}
	if (siglen > MINISIGN_SIGTEXT_MAX) {
		minisign_err(err, errlen, "signature is too large (%zu bytes)",
		    siglen);
		return -1;
	}
	if (minisign_sig_parse(pk, sig, siglen, &ms, err, errlen) == -1)
		return -1;
	if (minisign_sig_check(pk, msg, len, &ms, err, errlen) == -1)
		goto done;
	if (trusted_out != NULL && trusted_len > 0) {
		if (ms.tclen >= trusted_len) {
			minisign_err(err, errlen, "trusted comment too long "
			    "(%zu bytes)", ms.tclen);
			goto done;
		}
		memcpy(trusted_out, ms.tc, ms.tclen);
		trusted_out[ms.tclen] = '\0';
	}
	rc = 0;
done:
	ERR_clear_error();
	return rc;
}

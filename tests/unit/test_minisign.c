/*
 * minisign.c against itself and against the real minisign program: our
 * signatures must verify with `minisign -V`, and minisign's own keys and
 * prehashed signatures must verify with minisign_verify.
 */

#include "minisign.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>

#define TC "timestamp:1764331200\tsequence:42\tfile:catalog.json\tprehashed"
#define MSG "{\"version\":1,\"sequence\":42,\"items\":[]}\n"

static int failures;
static char dir[4096];

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		failures++;						\
		printf("FAIL %s:%d: ", __FILE__, __LINE__);		\
		printf(__VA_ARGS__);					\
		printf("\n");						\
	}								\
} while (0)

static const char *path_in(const char *, ...)
    __attribute__((format(printf, 1, 2)));
static int run(const char *, ...) __attribute__((format(printf, 1, 2)));

/* A path inside the test directory; four rotating buffers suffice. */
static const char *
path_in(const char *fmt, ...)
{
	static char bufs[4][4200];
	static int n;
	char name[64];
	char *b = bufs[n++ % 4];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	snprintf(b, sizeof(bufs[0]), "%s/%s", dir, name);
	return b;
}

/* Shell command; the exit status, or -1 if it did not exit normally. */
static int
run(const char *fmt, ...)
{
	char cmd[16384];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static int
write_file(const char *path, const void *data, size_t len)
{
	FILE *fp;
	int rc = 0;

	if ((fp = fopen(path, "wb")) == NULL)
		return -1;
	if (len > 0 && fwrite(data, 1, len, fp) != len)
		rc = -1;
	if (fclose(fp) != 0)
		rc = -1;
	return rc;
}

/* Whole file, NUL-terminated, malloc'd; NULL if unreadable. */
static char *
read_file(const char *path, size_t *lenp)
{
	FILE *fp;
	char *buf = NULL, *nbuf;
	size_t len = 0, cap = 0, n;

	if ((fp = fopen(path, "rb")) == NULL)
		return NULL;
	for (;;) {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			if ((nbuf = realloc(buf, cap)) == NULL) {
				free(buf);
				fclose(fp);
				return NULL;
			}
			buf = nbuf;
		}
		n = fread(buf + len, 1, cap - len - 1, fp);
		len += n;
		if (n == 0)
			break;
	}
	fclose(fp);
	buf[len] = '\0';
	if (lenp != NULL)
		*lenp = len;
	return buf;
}

static int
count_entries(const char *path)
{
	DIR *d;
	struct dirent *de;
	int n = 0;

	if ((d = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static int
verify(const struct minisign_pubkey *pk, const char *msg, size_t msglen,
    const char *sig, size_t siglen, char *tc, size_t tclen, char *err,
    size_t errlen)
{
	err[0] = '\0';
	return minisign_verify(pk, msg, msglen, sig, siglen, tc, tclen, err,
	    errlen);
}

static void
test_keygen(const char *keypath)
{
	struct stat st;
	char err[512], *a, *b;
	size_t alen = 0, blen = 0;
	int rc;

	err[0] = '\0';
	rc = minisign_keygen(keypath, err, sizeof(err));
	CHECK(rc == 1, "keygen returned %d: %s", rc, err);
	CHECK(stat(keypath, &st) == 0 && (st.st_mode & 07777) == 0600,
	    "key mode is %04o, want 0600", (unsigned)(st.st_mode & 07777));
	a = read_file(keypath, &alen);
	CHECK(a != NULL && strstr(a, "-----BEGIN PRIVATE KEY-----") != NULL,
	    "key is not a PKCS#8 PEM");

	rc = minisign_keygen(keypath, err, sizeof(err));
	CHECK(rc == 0, "second keygen returned %d, want 0", rc);
	b = read_file(keypath, &blen);
	CHECK(a != NULL && b != NULL && alen == blen && memcmp(a, b, alen) == 0,
	    "second keygen changed the key file");
	CHECK(count_entries(dir) == 1, "keygen left %d entries in the "
	    "directory, want 1", count_entries(dir));
	free(a);
	free(b);

	rc = minisign_keygen("/nonexistent-emberd-dir/k.key", err, sizeof(err));
	CHECK(rc == -1 && strstr(err, "/nonexistent-emberd-dir/k.key") != NULL,
	    "keygen in a missing directory: rc %d, err '%s'", rc, err);
}

static void
test_pubkey(const struct minisign_key *key)
{
	struct minisign_pubkey pk;
	char *b64, *file, hex[17], buf[256], want[64];
	size_t n;

	b64 = minisign_pubkey_base64(key);
	file = minisign_pubkey_file(key);
	CHECK(b64 != NULL && strlen(b64) == 56 && strncmp(b64, "RW", 2) == 0,
	    "pubkey base64 '%s'", b64 ? b64 : "(null)");
	minisign_keyid_hex(key->id, hex);
	snprintf(want, sizeof(want), "untrusted comment: minisign public key "
	    "%s\n", hex);
	CHECK(file != NULL && strncmp(file, want, strlen(want)) == 0,
	    "pub file starts '%.60s'", file ? file : "(null)");
	if (b64 == NULL || file == NULL)
		goto done;

	memset(&pk, 0, sizeof(pk));
	CHECK(minisign_pubkey_parse(file, strlen(file), &pk) == 0 &&
	    memcmp(pk.id, key->id, sizeof(pk.id)) == 0 &&
	    memcmp(pk.pk, key->pk, sizeof(pk.pk)) == 0,
	    "our pub file does not parse back");
	memset(&pk, 0, sizeof(pk));
	CHECK(minisign_pubkey_parse(b64, strlen(b64), &pk) == 0 &&
	    memcmp(pk.pk, key->pk, sizeof(pk.pk)) == 0,
	    "bare base64 does not parse");
	snprintf(buf, sizeof(buf), "%s\n", b64);
	CHECK(minisign_pubkey_parse(buf, strlen(buf), &pk) == 0,
	    "base64 with newline does not parse");
	snprintf(buf, sizeof(buf), "%s\r\n", b64);
	CHECK(minisign_pubkey_parse(buf, strlen(buf), &pk) == 0,
	    "base64 with CRLF does not parse");

	/* Malformed keys. */
	CHECK(minisign_pubkey_parse("", 0, &pk) == -1, "empty key accepted");
	CHECK(minisign_pubkey_parse(b64, strlen(b64) - 4, &pk) == -1,
	    "short key accepted");
	snprintf(buf, sizeof(buf), "%s\n\n", b64);
	CHECK(minisign_pubkey_parse(buf, strlen(buf), &pk) == -1,
	    "key with two newlines accepted");
	snprintf(buf, sizeof(buf), " %s", b64);
	CHECK(minisign_pubkey_parse(buf, strlen(buf), &pk) == -1,
	    "key with leading space accepted");
	snprintf(buf, sizeof(buf), "%s", b64);
	buf[20] = ' ';
	CHECK(minisign_pubkey_parse(buf, strlen(buf), &pk) == -1,
	    "key with embedded space accepted");
	snprintf(buf, sizeof(buf), "%s", b64);
	buf[1] = 'X';	/* "Ed" prefix gone */
	CHECK(minisign_pubkey_parse(buf, strlen(buf), &pk) == -1,
	    "key without Ed prefix accepted");
	n = strlen(file);
	CHECK(minisign_pubkey_parse(file, n - 1, &pk) == 0,
	    "pub file without final newline rejected");
	CHECK(minisign_pubkey_parse(file, n - 2, &pk) == -1,
	    "truncated pub file accepted");
	CHECK(minisign_pubkey_parse("untrusted comment: x\n", 21, &pk) == -1,
	    "comment-only pub file accepted");
	snprintf(buf, sizeof(buf), "untrusted comment: x\n%s\nextra\n", b64);
	CHECK(minisign_pubkey_parse(buf, strlen(buf), &pk) == -1,
	    "pub file with trailing line accepted");
done:
	free(b64);
	free(file);
}

/*
 * Change one character of the first line starting with PREFIX. "trusted
 * comment: " also matches inside "untrusted comment: ", so callers anchor
 * it with the preceding newline.
 */
static void
alter_line(char *text, const char *prefix, size_t off)
{
	char *p = strstr(text, prefix);

	if (p != NULL)
		p[strlen(prefix) + off] ^= 1;
}

static void
test_sign_verify(const struct minisign_key *key, const struct minisign_key *other,
    const char *b64)
{
	struct minisign_pubkey pk;
	char err[512], tc[MINISIGN_TRUSTED_MAX], *sig, *osig, *bad, *out;
	char msg[] = MSG, big[MINISIGN_TRUSTED_MAX + 1];
	size_t siglen, i, n;
	int rc;

	CHECK(minisign_pubkey_parse(b64, strlen(b64), &pk) == 0,
	    "cannot parse our key");
	err[0] = '\0';
	sig = minisign_sign(key, msg, strlen(msg), TC, err, sizeof(err));
	CHECK(sig != NULL, "sign failed: %s", err);
	if (sig == NULL)
		return;
	siglen = strlen(sig);
	/* base64 of "ED" starts "RU". */
	CHECK(strncmp(sig, "untrusted comment: signature from emberd secret "
	    "key\nRU", 54) == 0, "sig starts '%.60s'", sig);

	/* The real minisign verifies it, by -P and by our .pub file. */
	CHECK(write_file(path_in("catalog.json"), msg, strlen(msg)) == 0 &&
	    write_file(path_in("catalog.json.minisig"), sig, siglen) == 0,
	    "cannot write files");
	out = minisign_pubkey_file(key);
	CHECK(out != NULL && write_file(path_in("publisher.pub"), out,
	    strlen(out)) == 0, "cannot write pub file");
	free(out);
	rc = run("minisign -Vm '%s' -x '%s' -P '%s' </dev/null >'%s' 2>&1",
	    path_in("catalog.json"), path_in("catalog.json.minisig"), b64,
	    path_in("minisign.out"));
	out = read_file(path_in("minisign.out"), NULL);
	CHECK(rc == 0, "minisign -V rejected our signature (exit %d): %s", rc,
	    out ? out : "");
	CHECK(out != NULL && strstr(out, TC) != NULL,
	    "minisign -V output lacks the trusted comment: %s", out ? out : "");
	free(out);
	rc = run("minisign -Vm '%s' -x '%s' -p '%s' </dev/null >/dev/null 2>&1",
	    path_in("catalog.json"), path_in("catalog.json.minisig"),
	    path_in("publisher.pub"));
	CHECK(rc == 0, "minisign -V -p rejected our .pub file (exit %d)", rc);

	/* ... and rejects it once the file changes. */
	msg[0] ^= 1;
	CHECK(write_file(path_in("catalog.json"), msg, strlen(msg)) == 0,
	    "cannot write file");
	rc = run("minisign -Vm '%s' -x '%s' -P '%s' </dev/null >/dev/null 2>&1",
	    path_in("catalog.json"), path_in("catalog.json.minisig"), b64);
	CHECK(rc != 0, "minisign -V accepted a flipped file");
	msg[0] ^= 1;

	/* Our verifier: the good signature. */
	rc = verify(&pk, msg, strlen(msg), sig, siglen, tc, sizeof(tc), err,
	    sizeof(err));
	CHECK(rc == 0, "verify rejected a good signature: %s", err);
	CHECK(rc != 0 || strcmp(tc, TC) == 0, "trusted comment '%s'", tc);
	rc = verify(&pk, msg, strlen(msg), sig, siglen - 1, tc, sizeof(tc),
	    err, sizeof(err));
	CHECK(rc == 0, "verify rejected a signature without final newline: "
	    "%s", err);

	/* Flipped message byte. */
	msg[5] ^= 0x20;
	rc = verify(&pk, msg, strlen(msg), sig, siglen, tc, sizeof(tc), err,
	    sizeof(err));
	CHECK(rc == -1 && strstr(err, "does not match") != NULL,
	    "flipped message: rc %d err '%s'", rc, err);
	msg[5] ^= 0x20;
	rc = verify(&pk, msg, strlen(msg) - 1, sig, siglen, tc, sizeof(tc),
	    err, sizeof(err));
	CHECK(rc == -1, "shortened message accepted");

	/* Flipped trusted comment. */
	bad = strdup(sig);
	alter_line(bad, "\ntrusted comment: ", 30);
	rc = verify(&pk, msg, strlen(msg), bad, siglen, tc, sizeof(tc), err,
	    sizeof(err));
	CHECK(rc == -1 && strstr(err, "trusted comment") != NULL,
	    "flipped trusted comment: rc %d err '%s'", rc, err);
	free(bad);

	/* The untrusted comment is free to change. */
	bad = strdup(sig);
	alter_line(bad, "untrusted comment: ", 3);	/* first line */
	rc = verify(&pk, msg, strlen(msg), bad, siglen, tc, sizeof(tc), err,
	    sizeof(err));
	CHECK(rc == 0, "changed untrusted comment rejected: %s", err);
	free(bad);

	/* Flipped bit in the signature and in the global signature. */
	bad = strdup(sig);
	bad[strchr(bad, '\n') - bad + 40] ^= 1;
	rc = verify(&pk, msg, strlen(msg), bad, siglen, tc, sizeof(tc), err,
	    sizeof(err));
	CHECK(rc == -1, "flipped signature accepted");
	free(bad);
	bad = strdup(sig);
	bad[siglen - 10] ^= 1;
	rc = verify(&pk, msg, strlen(msg), bad, siglen, tc, sizeof(tc), err,
	    sizeof(err));
	CHECK(rc == -1, "flipped global signature accepted");
	free(bad);

	/*
	 * Non-canonical base64: set an unused low bit of the character before
	 * the padding. Canonical ones have value 4k, so the next character in
	 * the alphabet is 4k+1 and decodes to the same bytes.
	 */
	bad = strdup(sig);
	n = (size_t)(strstr(bad, "=\ntrusted") - bad) - 1;
	bad[n]++;
	rc = verify(&pk, msg, strlen(msg), bad, siglen, tc, sizeof(tc), err,
	    sizeof(err));
	CHECK(rc == -1 && strstr(err, "base64") != NULL,
	    "non-canonical base64: rc %d err '%s'", rc, err);
	free(bad);

	/* CRLF line endings are fine; trailing data is not. */
	n = siglen * 2 + 16;
	bad = calloc(1, n);
	for (i = 0, n = 0; i < siglen; i++) {
		if (sig[i] == '\n')
			bad[n++] = '\r';
		bad[n++] = sig[i];
	}
	rc = verify(&pk, msg, strlen(msg), bad, n, tc, sizeof(tc), err,
	    sizeof(err));
	CHECK(rc == 0 && strcmp(tc, TC) == 0, "CRLF signature rejected: %s",
	    err);
	memcpy(bad, sig, siglen);
	memcpy(bad + siglen, "x\n", 2);
	rc = verify(&pk, msg, strlen(msg), bad, siglen + 2, tc, sizeof(tc),
	    err, sizeof(err));
	CHECK(rc == -1, "signature with trailing data accepted");
	free(bad);

	/* Another key's signature. */
	osig = minisign_sign(other, msg, strlen(msg), TC, err, sizeof(err));
	CHECK(osig != NULL, "sign with other key: %s", err);
	if (osig != NULL) {
		rc = verify(&pk, msg, strlen(msg), osig, strlen(osig), tc,
		    sizeof(tc), err, sizeof(err));
		CHECK(rc == -1 && strstr(err, "signed by another key (KEYID ")
		    != NULL, "other key: rc %d err '%s'", rc, err);
		free(osig);
	}

	/* Every truncation, each in its own exact-size buffer for ASan. */
	for (i = 0; i + 1 < siglen; i++) {
		bad = malloc(i ? i : 1);
		memcpy(bad, sig, i);
		rc = verify(&pk, msg, strlen(msg), bad, i, tc, sizeof(tc), err,
		    sizeof(err));
		CHECK(rc == -1 && err[0] != '\0', "signature truncated to %zu "
		    "bytes accepted", i);
		free(bad);
	}

	/* Garbage. */
	rc = verify(&pk, msg, strlen(msg), "hello", 5, tc, sizeof(tc), err,
	    sizeof(err));
	CHECK(rc == -1, "garbage accepted");
	rc = verify(&pk, msg, strlen(msg), "a\nb\nc\nd\n", 8, tc, sizeof(tc),
	    err, sizeof(err));
	CHECK(rc == -1, "four garbage lines accepted");
	bad = malloc(1 << 20);
	for (i = 0; i < (1 << 20); i++)
		bad[i] = (char)(i * 7919 % 251);
	rc = verify(&pk, msg, strlen(msg), bad, 1 << 20, tc, sizeof(tc), err,
	    sizeof(err));
	CHECK(rc == -1 && strstr(err, "too large") != NULL,
	    "huge garbage: rc %d err '%s'", rc, err);
	free(bad);

	/* A trusted comment buffer too small fails rather than truncates. */
	rc = verify(&pk, msg, strlen(msg), sig, siglen, tc, 10, err,
	    sizeof(err));
	CHECK(rc == -1, "trusted comment silently truncated");

	/* Trusted comments must be one short line. */
	CHECK(minisign_sign(key, msg, strlen(msg), "a\nb", err,
	    sizeof(err)) == NULL, "newline in trusted comment accepted");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK(minisign_sign(key, msg, strlen(msg), big, err,
	    sizeof(err)) == NULL, "oversized trusted comment accepted");
	big[MINISIGN_TRUSTED_MAX - 1] = '\0';
	out = minisign_sign(key, msg, strlen(msg), big, err, sizeof(err));
	CHECK(out != NULL, "maximal trusted comment rejected: %s", err);
	if (out != NULL) {
		rc = verify(&pk, msg, strlen(msg), out, strlen(out), tc,
		    sizeof(tc), err, sizeof(err));
		CHECK(rc == 0 && strcmp(tc, big) == 0,
		    "maximal trusted comment: %s", err);
	}
	free(out);

	/* An empty message signs and verifies. */
	out = minisign_sign(key, NULL, 0, "", err, sizeof(err));
	CHECK(out != NULL, "empty message: %s", err);
	if (out != NULL) {
		rc = verify(&pk, "", 0, out, strlen(out), tc, sizeof(tc), err,
		    sizeof(err));
		CHECK(rc == 0 && tc[0] == '\0', "empty message: %s", err);
	}
	free(out);
	free(sig);
}

/* Keys and signatures made by the real minisign. */
static void
test_real_minisign(void)
{
	struct minisign_pubkey pk;
	char err[512], tc[MINISIGN_TRUSTED_MAX], hex[17], want[64], *pub, *sig;
	char *nl;
	const char *h;
	const char *msg = MSG;
	size_t publen, siglen;
	int rc;

	rc = run("minisign -G -W -p '%s' -s '%s' </dev/null >/dev/null 2>&1",
	    path_in("real.pub"), path_in("real.sec"));
	CHECK(rc == 0, "minisign -G failed (exit %d)", rc);
	pub = read_file(path_in("real.pub"), &publen);
	CHECK(pub != NULL, "no real.pub");
	if (pub == NULL)
		return;
	rc = minisign_pubkey_parse(pub, publen, &pk);
	CHECK(rc == 0, "minisign's .pub file rejected: %s", pub);
	/*
	 * minisign prints the id with "%" PRIX64, without leading zeros; ours
	 * is always 16 digits. Same number, same byte order.
	 */
	minisign_keyid_hex(pk.id, hex);
	for (h = hex; h[0] == '0' && h[1] != '\0'; h++)
		;
	snprintf(want, sizeof(want), "minisign public key %s\n", h);
	CHECK(strstr(pub, want) != NULL, "key id %s not in minisign's .pub "
	    "comment: %s", hex, pub);
	/* The bare key line alone, as given to -P. */
	nl = strchr(pub, '\n');
	CHECK(nl != NULL && minisign_pubkey_parse(nl + 1,
	    publen - (size_t)(nl + 1 - pub), &pk) == 0,
	    "minisign's bare key line rejected");

	CHECK(write_file(path_in("real.txt"), msg, strlen(msg)) == 0,
	    "cannot write file");
	rc = run("minisign -S -s '%s' -m '%s' -x '%s' -t '%s' "
	    "</dev/null >/dev/null 2>&1", path_in("real.sec"),
	    path_in("real.txt"), path_in("real.minisig"), TC);
	CHECK(rc == 0, "minisign -S failed (exit %d)", rc);
	sig = read_file(path_in("real.minisig"), &siglen);
	CHECK(sig != NULL, "no real.minisig");
	if (sig != NULL) {
		rc = verify(&pk, msg, strlen(msg), sig, siglen, tc, sizeof(tc),
		    err, sizeof(err));
		CHECK(rc == 0, "minisign's signature rejected: %s", err);
		CHECK(rc != 0 || strcmp(tc, TC) == 0,
		    "minisign's trusted comment '%s'", tc);
		rc = verify(&pk, msg, strlen(msg) - 1, sig, siglen, tc,
		    sizeof(tc), err, sizeof(err));
		CHECK(rc == -1, "minisign's signature over another file "
		    "accepted");
	}
	free(sig);

	/* minisign -l makes legacy "Ed" signatures; those are refused. */
	rc = run("minisign -S -l -s '%s' -m '%s' -x '%s' </dev/null "
	    ">/dev/null 2>&1", path_in("real.sec"), path_in("real.txt"),
	    path_in("legacy.minisig"));
	CHECK(rc == 0, "minisign -S -l failed (exit %d)", rc);
	sig = read_file(path_in("legacy.minisig"), &siglen);
	if (sig != NULL) {
		rc = verify(&pk, msg, strlen(msg), sig, siglen, tc, sizeof(tc),
		    err, sizeof(err));
		CHECK(rc == -1 && strstr(err, "legacy") != NULL,
		    "legacy signature: rc %d err '%s'", rc, err);
	}
	free(sig);
	free(pub);
}

static void
test_load_refusals(const char *keypath)
{
	struct minisign_key key;
	EVP_PKEY *ec;
	FILE *fp;
	char err[512];
	const char *ecpath = path_in("ec.key");
	int rc;

	CHECK(chmod(keypath, 0644) == 0, "chmod: %s", strerror(errno));
	err[0] = '\0';
	rc = minisign_key_load(keypath, &key, err, sizeof(err));
	CHECK(rc == -1 && strstr(err, keypath) != NULL &&
	    strstr(err, "0644") != NULL && strstr(err, "chmod 600") != NULL,
	    "0644 key: rc %d err '%s'", rc, err);
	CHECK(strchr(err, '\n') == NULL, "error has a newline");
	if (rc == 0)
		minisign_key_free(&key);
	CHECK(chmod(keypath, 0620) == 0, "chmod: %s", strerror(errno));
	rc = minisign_key_load(keypath, &key, err, sizeof(err));
	CHECK(rc == -1, "0620 key loaded");
	if (rc == 0)
		minisign_key_free(&key);
	CHECK(chmod(keypath, 0600) == 0, "chmod: %s", strerror(errno));
	rc = minisign_key_load(keypath, &key, err, sizeof(err));
	CHECK(rc == 0, "0600 key refused: %s", err);
	if (rc == 0)
		minisign_key_free(&key);

	/* Only root can hand a file to someone else to test the owner check. */
	if (geteuid() == 0) {
		CHECK(chown(keypath, 65534, (gid_t)-1) == 0, "chown: %s",
		    strerror(errno));
		rc = minisign_key_load(keypath, &key, err, sizeof(err));
		CHECK(rc == -1 && strstr(err, "owned by uid 65534") != NULL,
		    "key of another user: rc %d err '%s'", rc, err);
		if (rc == 0)
			minisign_key_free(&key);
		CHECK(chown(keypath, 0, (gid_t)-1) == 0, "chown: %s",
		    strerror(errno));
	}

	rc = minisign_key_load(path_in("missing.key"), &key, err, sizeof(err));
	CHECK(rc == -1 && strstr(err, "missing.key") != NULL,
	    "missing key: rc %d err '%s'", rc, err);

	/* A P-256 key in the right format is still the wrong key. */
	ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	CHECK(ec != NULL, "cannot make an EC key");
	if (ec != NULL && (fp = fopen(ecpath, "w")) != NULL) {
		PEM_write_PrivateKey(fp, ec, NULL, NULL, 0, NULL, NULL);
		fclose(fp);
		chmod(ecpath, 0600);
		rc = minisign_key_load(ecpath, &key, err, sizeof(err));
		CHECK(rc == -1 && strstr(err, "Ed25519") != NULL,
		    "EC key: rc %d err '%s'", rc, err);
		if (rc == 0)
			minisign_key_free(&key);
	}
	EVP_PKEY_free(ec);

	/* Not a key at all. */
	write_file(path_in("junk.key"), "hello\n", 6);
	chmod(path_in("junk.key"), 0600);
	rc = minisign_key_load(path_in("junk.key"), &key, err, sizeof(err));
	CHECK(rc == -1 && strstr(err, "junk.key") != NULL,
	    "junk key: rc %d err '%s'", rc, err);
}

int
main(void)
{
	struct minisign_key key, other;
	const char *tmpdir;
	char err[512], keypath[4200], *b64 = NULL;
	int have_key = 0, have_other = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((tmpdir = getenv("TMPDIR")) == NULL || *tmpdir == '\0')
		tmpdir = "/tmp";
	snprintf(dir, sizeof(dir), "%s/emberd-test-minisign.XXXXXX", tmpdir);
	if (mkdtemp(dir) == NULL) {
		printf("FAIL: mkdtemp %s: %s\n", dir, strerror(errno));
		return 1;
	}
	if (run("minisign -v >/dev/null 2>&1 </dev/null") != 0)
		CHECK(0, "the minisign program is not installed");

	snprintf(keypath, sizeof(keypath), "%s/publisher.key", dir);
	test_keygen(keypath);

	err[0] = '\0';
	have_key = minisign_key_load(keypath, &key, err, sizeof(err)) == 0;
	CHECK(have_key, "cannot load the new key: %s", err);
	have_other = minisign_keygen(path_in("other.key"), err,
	    sizeof(err)) == 1 && minisign_key_load(path_in("other.key"),
	    &other, err, sizeof(err)) == 0;
	CHECK(have_other, "cannot make a second key: %s", err);

	if (have_key && have_other) {
		test_pubkey(&key);
		CHECK(memcmp(key.id, other.id, sizeof(key.id)) != 0,
		    "two keys with the same id");
		if ((b64 = minisign_pubkey_base64(&key)) != NULL)
			test_sign_verify(&key, &other, b64);
		free(b64);
	}
	if (have_key)
		minisign_key_free(&key);
	if (have_other)
		minisign_key_free(&other);

	test_real_minisign();
	test_load_refusals(keypath);

	if (failures == 0)
		run("rm -rf '%s'", dir);
	else
		printf("%d check(s) failed; files left in %s\n", failures, dir);
	return failures ? 1 : 0;
}

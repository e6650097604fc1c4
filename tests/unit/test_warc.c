/*
 * The WARC writer: records read back through zlib (every member in turn)
 * with their header and block; digests are SHA-256 hex of the block and
 * the payload; ids are v4 UUIDs. Folder mode starts a new file before a
 * record that would pass the cap (each with its own warcinfo), gives a
 * record larger than the cap a file of its own, and renames every
 * .partial only at the close; abort leaves nothing.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "check.h"
#include "hexutil.h"
#include "warc.h"

static char *
slurp_gz(const char *path, size_t *len)
{
	gzFile g = gzopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0;
	int n;

	*len = 0;
	if (g == NULL)
		return NULL;
	for (;;) {
		if (*len + 65536 + 1 > cap) {
			cap = (*len + 65536 + 1) * 2;
			buf = realloc(buf, cap);
		}
		if ((n = gzread(g, buf + *len, 65536)) <= 0)
			break;
		*len += (size_t)n;
	}
	gzclose(g);
	buf[*len] = '\0';
	return buf;
}

static unsigned
count(const char *hay, size_t len, const char *needle)
{
	unsigned c = 0;
	const char *p = hay, *e = hay + len;

	while ((p = memmem(p, (size_t)(e - p), needle, strlen(needle))) != NULL) {
		c++;
		p++;
	}
	return c;
}

static uint64_t
fsize(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
}

static int
exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

static void
test_file(const char *dir)
{
	char path[512], part[600], err[256], want[160], hex[65];
	unsigned char d[32];
	const char *head = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
	struct warc_payload pl = { .buf = (const unsigned char *)"hello", .len = 5 };
	struct warc_rec r;
	struct warc *w;
	char *all;
	size_t len;
	EVP_MD_CTX *c;

	snprintf(path, sizeof(path), "%s/one.warc.gz", dir);
	snprintf(part, sizeof(part), "%s.partial", path);
	w = warc_open(path, NULL, "software: test\r\n", err, sizeof(err));
	CHECK(w != NULL);
	if (w == NULL)
		return;
	CHECK(exists(part) && !exists(path));
	memset(&r, 0, sizeof(r));
	r.type = "response";
	r.uri = "http://example.org/";
	r.date = "2026-12-04T15:00:00.123456Z";
	r.content_type = "application/http;msgtype=response";
	r.head = (const unsigned char *)head;
	r.head_len = strlen(head);
	r.payload = &pl;
	r.payload_digest = 1;
	CHECK(warc_write(w, &r, err, sizeof(err)) == 0);
	CHECK(strncmp(r.id, "<urn:uuid:", 10) == 0 && strlen(r.id) == 47 && r.id[24] == '4');
	CHECK(warc_records(w) == 2);
	CHECK(warc_close(w, err, sizeof(err)) == 0);
	CHECK(exists(path) && !exists(part));
	all = slurp_gz(path, &len);
	CHECK(all != NULL);
	if (all == NULL)
		return;
	CHECK(count(all, len, "WARC/1.1\r\n") == 2);
	CHECK(strncmp(all, "WARC/1.1\r\nWARC-Type: warcinfo\r\n", 31) == 0);
	CHECK(strstr(all, "WARC-Filename: one.warc.gz\r\n") != NULL);
	CHECK(strstr(all, "WARC-Date: 2026-12-04T15:00:00.123456Z\r\n") != NULL);
	snprintf(want, sizeof(want), "Content-Length: %zu\r\n\r\n", strlen(head) + 5);
	CHECK(strstr(all, want) != NULL);
	/* Payload digest: of "hello"; block digest: of head + "hello". */
	EVP_Digest("hello", 5, d, NULL, EVP_sha256(), NULL);
	hex_encode(d, 32, hex);
	CHECK(strcmp(r.payload_sha256, hex) == 0);
	snprintf(want, sizeof(want), "WARC-Payload-Digest: sha256:%s\r\n", hex);
	CHECK(strstr(all, want) != NULL);
	c = EVP_MD_CTX_new();
	EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	EVP_DigestUpdate(c, head, strlen(head));
	EVP_DigestUpdate(c, "hello", 5);
	EVP_DigestFinal_ex(c, d, NULL);
	EVP_MD_CTX_free(c);
	hex_encode(d, 32, hex);
	snprintf(want, sizeof(want), "WARC-Block-Digest: sha256:%s\r\n", hex);
	CHECK(strstr(all, want) != NULL);
	CHECK(len > 9 && memcmp(all + len - 9, "hello\r\n\r\n", 9) == 0);
	free(all);
}

static void
test_folder(const char *dir)
{
	char path[512], f[600], err[256];
	static unsigned char big[20000], small[3000];
	struct warc_payload pb = { .buf = big, .len = sizeof(big) };
	struct warc_payload ps = { .buf = small, .len = sizeof(small) };
	struct warc_rec r;
	struct warc *w;
	unsigned i, n;
	size_t len;
	char *all;

	srand(7);
	for (i = 0; i < sizeof(big); i++)
		big[i] = (unsigned char)(rand() >> 7);	/* incompressible */
	memcpy(small, big, sizeof(small));
	snprintf(path, sizeof(path), "%s/folder/", dir);
	w = warc_open(path, NULL, "software: test\r\n", err, sizeof(err));
	CHECK(w != NULL);
	if (w == NULL)
		return;
	warc_set_cap(w, 10000);
	/* Three small records (two fit a file), one larger than the cap. */
	for (i = 0; i < 4; i++) {
		memset(&r, 0, sizeof(r));
		r.type = "resource";
		r.uri = "urn:x";
		r.content_type = "application/octet-stream";
		r.payload = i == 2 ? &pb : &ps;
		r.payload_digest = 1;
		CHECK(warc_write(w, &r, err, sizeof(err)) == 0);
	}
	n = warc_files(w);
	CHECK(n >= 3);
	snprintf(f, sizeof(f), "%s/folder/emberd-00000.warc.gz.partial", dir);
	CHECK(exists(f));
	CHECK(warc_close(w, err, sizeof(err)) == 0);
	CHECK(!exists(f));
	for (i = 0; i < n; i++) {
		snprintf(f, sizeof(f), "%s/folder/emberd-%05u.warc.gz", dir, i);
		CHECK(exists(f));
		all = slurp_gz(f, &len);
		CHECK(all != NULL && strncmp(all, "WARC/1.1\r\nWARC-Type: warcinfo\r\n", 31) == 0);
		/* Only the file holding the big record may pass the cap. */
		if (all != NULL && count(all, len, "Content-Length: 20000\r\n") == 0)
			CHECK(fsize(f) <= 10000);
		free(all);
	}
	snprintf(f, sizeof(f), "%s/folder/emberd-%05u.warc.gz", dir, n);
	CHECK(!exists(f));

	/* Abort: nothing stays. */
	snprintf(path, sizeof(path), "%s/gone.warc.gz", dir);
	w = warc_open(path, NULL, "software: test\r\n", err, sizeof(err));
	CHECK(w != NULL);
	warc_abort(w);
	snprintf(f, sizeof(f), "%s.partial", path);
	CHECK(!exists(path) && !exists(f));
}

int
main(void)
{
	char dir[] = "/tmp/emberd-warc.XXXXXX", cmd[600];

	if (mkdtemp(dir) == NULL)
		return 1;
	test_file(dir);
	test_folder(dir);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	CHECK_DONE();
}

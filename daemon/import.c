/*
 * `emberd import DIR`: one sync from a static export (export.c) that
 * came on a USB stick or any other way, on a follower. DIR is a peer
 * like any other and is trusted no more: the signature is checked with
 * [follow] pubkey before a byte of the catalog is parsed, a catalog
 * older than the one held is refused, and every object is hashed on its
 * way into the store. A symbolic link anywhere in DIR refuses the whole
 * folder (an export has none; one pointing at /etc/passwd is an attack).
 * On any refusal nothing changes: objects taken in by this import are
 * removed again and the catalog served stays the one it was.
 */
#include "commands.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "catalog.h"
#include "follow.h"
#include "ingest.h"
#include "log.h"
#include "minisign.h"
#include "peers.h"

#define ERRLEN		1024
#define IMPORT_BUF	(256 * 1024)

static const char import_usage[] =
    "usage: emberd import -c FILE DIR\n"
    "\n"
    "One sync from a static export in DIR (made by `emberd export`, say on a\n"
    "USB stick) on a follower: the catalog must be signed by [follow] pubkey\n"
    "and not older than the one held, every object must hash to its name;\n"
    "then the catalog is installed as signed. Anything refused (a symbolic\n"
    "link in DIR, a bad signature, an older catalog, a tampered file) is\n"
    "named and nothing changes. Exit 0 installed or up to date, 1 refused,\n"
    "2 usage, config or store error.\n"
    "  -c, --config FILE  the config file (with a [follow] section)\n";

/* A message that may be cut (a long path), said as far as it fits. */
static void import_err(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
import_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Any symbolic link in DIR, DIR/files or DIR/sha256: named in ERR. */
static int
import_scan(const char *dir, char *err, size_t errlen)
{
	static const char *const subs[] = { "", "files", "sha256" };
	char path[PATH_MAX], file[PATH_MAX + 256];
	struct dirent *de;
	struct stat sb;
	size_t i;
	DIR *d;

	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		snprintf(path, sizeof(path), "%s%s%s", dir, subs[i][0] ? "/" : "", subs[i]);
		if ((d = opendir(path)) == NULL) {
			if (i > 0 && errno == ENOENT)
				continue;
			import_err(err, errlen, "%s: %s", path, strerror(errno));
			return -1;
		}
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(file, sizeof(file), "%s/%s", path, de->d_name);
			if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISLNK(sb.st_mode)) {
				closedir(d);
				import_err(err, errlen, "%s is a symbolic link: an export has "
				    "none; refused, nothing changed", file);
				return -1;
			}
		}
		closedir(d);
	}
	return 0;
}

/* DIR/NAME, a regular file (not a link) of at most MAX bytes. */
static int
import_read(const char *dir, const char *name, size_t max, char **buf, size_t *len,
    char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct stat sb;
	ssize_t n;
	size_t got = 0;
	int fd;

	*buf = NULL;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		import_err(err, errlen, "%s: %s", path, errno == ELOOP ?
		    "a symbolic link; refused" : strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) || (size_t)sb.st_size > max) {
		import_err(err, errlen, "%s: %s", path, !S_ISREG(sb.st_mode) ?
		    "not a regular file" : "too large");
		close(fd);
		return -1;
	}
	if ((*buf = malloc((size_t)sb.st_size + 1)) == NULL) {
		close(fd);
		import_err(err, errlen, "out of memory");
		return -1;
	}
	while (got < (size_t)sb.st_size &&
	    (n = read(fd, *buf + got, (size_t)sb.st_size - got)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			import_err(err, errlen, "%s: %s", path, strerror(errno));
			close(fd);
			free(*buf);
			*buf = NULL;
			return -1;
		}
		got += (size_t)n;
	}
	close(fd);
	(*buf)[got] = '\0';
	*len = got;
	return 0;
}

/* DIR/sha256/HEX into the store: SIZE bytes hashing to HEX, or refused. */
static int
import_object(struct store *st, const char *dir, const char *hex, uint64_t size,
    char *err, size_t errlen)
{
	char path[PATH_MAX], *buf = NULL;
	struct ingest *in = NULL;
	const struct object_meta *m;
	struct stat sb;
	ssize_t n;
	int fd, rc = -1;

	snprintf(path, sizeof(path), "%s/sha256/%s", dir, hex);
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		import_err(err, errlen, "%s: %s", path, errno == ELOOP ?
		    "a symbolic link; refused" : strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		import_err(err, errlen, "%s: not a regular file; refused", path);
		goto out;
	}
	if ((uint64_t)sb.st_size != size) {
		import_err(err, errlen, "%s: %llu bytes where the signed catalog says %llu: "
		    "refused (a damaged or altered copy)", path,
		    (unsigned long long)sb.st_size, (unsigned long long)size);
		goto out;
	}
	if ((in = ingest_new(st, size, err, errlen)) == NULL)
		goto out;
	if ((buf = malloc(IMPORT_BUF)) == NULL) {
		import_err(err, errlen, "out of memory");
		goto out;
	}
	while ((n = read(fd, buf, IMPORT_BUF)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			import_err(err, errlen, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (ingest_write(in, buf, (size_t)n) == -1) {
			import_err(err, errlen, "%s: %s", path, ingest_error(in));
			goto out;
		}
	}
	if (ingest_finish(in) == -1) {
		import_err(err, errlen, "%s: %s", path, ingest_error(in));
		goto out;
	}
	m = ingest_meta(in);
	if (strcmp(m->sha256, hex) != 0 || m->size != size) {
		import_err(err, errlen, "%s: its content hashes to %s, not to the SHA-256 the "
		    "signed catalog names: refused (a damaged or altered copy)", path,
		    m->sha256);
		goto out;
	}
	if (store_lock(st, err, errlen) == -1)
		goto out;
	rc = ingest_commit(st, &in, 1, err, errlen);
	store_unlock(st);
out:
	free(buf);
	ingest_free(in);
	close(fd);
	return rc;
}

/* Take back the objects this import added (refused: nothing changes). */
static void
import_undo(struct store *st, json_t *added)
{
	char err[ERRLEN];
	const char *hex;
	json_t *v;

	if (json_object_size(added) == 0 || store_lock(st, err, sizeof(err)) == -1)
		return;
	json_object_foreach(added, hex, v)
		store_remove_object(st, hex);
	store_unlock(st);
}

static int
import_run(struct cmd_ctx *c, const char *dir)
{
	struct minisign_pubkey pk;
	struct peers ps;
	char *cat = NULL, *sig = NULL, err[ERRLEN], *base = NULL;
	size_t cat_len, sig_len, i;
	json_t *added = NULL, *v;
	int rc = 1;

	memset(&ps, 0, sizeof(ps));
	if (c->cfg.follow_pubkey == NULL || minisign_pubkey_parse(c->cfg.follow_pubkey,
	    strlen(c->cfg.follow_pubkey), &pk) == -1) {
		log_error("%s: [follow] pubkey is malformed", c->cfg.path);
		return 2;
	}
	if (import_scan(dir, err, sizeof(err)) == -1 ||
	    import_read(dir, "catalog.json", CATALOG_MAX_BYTES, &cat, &cat_len, err,
	    sizeof(err)) == -1 ||
	    import_read(dir, "catalog.json.minisig", PEERS_SIG_MAX, &sig, &sig_len, err,
	    sizeof(err)) == -1) {
		log_error("import: %s", err);
		goto out;
	}
	if (asprintf(&base, "%s/", dir) == -1 || peers_init(&ps, &base, 1) == -1 ||
	    peers_got(&ps, 0, PEERS_CATALOG, cat, cat_len, NULL) == -1 ||
	    peers_got(&ps, 0, PEERS_SIGNATURE, sig, sig_len, NULL) == -1 ||
	    (added = json_object()) == NULL) {
		log_error("import: out of memory");
		goto out;
	}
	if (peers_choose(&ps, &pk, store_current_seq(&c->st), time(NULL)) == -1) {
		log_error("import: %s: %s; nothing changed", dir, ps.p[0].why);
		goto out;
	}
	json_array_foreach(json_object_get(ps.best->json, "items"), i, v) {
		const char *hex = json_string_value(json_object_get(v, "sha256"));
		uint64_t size = (uint64_t)json_integer_value(json_object_get(v, "size"));
		if (store_has_object(&c->st, hex))
			continue;
		if (import_object(&c->st, dir, hex, size, err, sizeof(err)) == -1) {
			log_error("import: %s; nothing changed", err);
			import_undo(&c->st, added);
			goto out;
		}
		json_object_set_new(added, hex, json_true());
	}
	/* Provenance documents: objects the signed catalog names too. */
	json_array_foreach(json_object_get(ps.best->json, "items"), i, v) {
		const char *hex;
		uint64_t size;
		if (catalog_item_provenance(v, &hex, &size) == -1 ||
		    store_has_object(&c->st, hex) || json_object_get(added, hex) != NULL)
			continue;
		if (import_object(&c->st, dir, hex, size, err, sizeof(err)) == -1) {
			log_error("import: %s; nothing changed", err);
			import_undo(&c->st, added);
			goto out;
		}
		json_object_set_new(added, hex, json_true());
	}
	if (follow_install(&c->st, ps.best, c->cfg.follow_purge) == -1) {
		import_undo(&c->st, added);
		goto out;
	}
	log_info("import: catalog sequence %llu from %s: %zu objects copied in",
	    (unsigned long long)ps.best->seq, dir, json_object_size(added));
	rc = 0;
out:
	json_decref(added);
	peers_free(&ps);
	free(base);
	free(cat);
	free(sig);
	return rc;
}

int
cmd_import(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cfgpath = NULL;
	struct cmd_ctx c;
	int ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': cfgpath = optarg; break;
		case 'h': return cmd_usage(stdout, import_usage, 0);
		default: return cmd_usage(stderr, import_usage, 2);
		}
	}
	if (optind + 1 != argc)
		return cmd_usage(stderr, import_usage, 2);
	if ((rc = cmd_ctx_open(&c, cfgpath, 1)) != 0) {
		cmd_ctx_free(&c);
		return rc;
	}
	if (!c.cfg.follow) {
		log_error("%s: import installs a publisher's export on a follower: the "
		    "config needs a [follow] section with the publisher's pubkey", cfgpath);
		cmd_ctx_free(&c);
		return 2;
	}
	rc = import_run(&c, argv[optind]);
	cmd_ctx_free(&c);
	return rc;
}

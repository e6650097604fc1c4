/*
 * `emberd export DIR`: the mirror as plain files (docs/protocol.md,
 * "Static export"), for hosts that only serve files (an S3 bucket, a
 * CDN, a web host, a USB stick).
 *
 * A host may serve DIR while it is refreshed, so the order of writes is
 * the point (the two stages of Debian's ftpsync): the objects of the new
 * catalog first, then what names them (Metalinks, torrents, feed), then
 * the signature and the catalog, then the index pages with index.html
 * last. Each file is written to a temp name, synced and renamed, so a
 * reader sees an old file or a new one, never half of one. Files the new
 * catalog no longer names are removed only at the next refresh: a
 * reader who took the previous catalog a moment ago still finds every
 * file it names.
 *
 * DIR/.emberd-export marks a folder as an export (so that a mistyped
 * DIR full of someone's files is refused, not filled or pruned) and
 * remembers what was written: file -> object id, for this catalog and
 * the previous one.
 */

#include "export.h"

#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "commands.h"
#include "downloads.h"
#include "feed_xml.h"
#include "fsutil.h"
#include "index_page.h"
#include "keys.h"
#include "log.h"
#include "names.h"

#define EXPORT_MARK	".emberd-export"
#define EXPORT_MARK_MAX	(64u << 20)
#define EXPORT_MODE	0644
#define EXPORT_DIR_MODE	0755
#define EXPORT_BUF	(256 * 1024)
#define EXPORT_MIRRORS	64

struct export {
	const char *dir;
	struct store *st;
	const struct config *cfg;
	const char *url;		/* where DIR will be served, or NULL */
	json_t *cat;
	char *cat_raw, *sig;
	size_t cat_len, sig_len;
	json_t *files;			/* path -> object id, this export */
	json_t *old;			/* the mark as read, or NULL */
	unsigned objects, copied, linked;
	int no_links;			/* the file system has no hard links */
	char *err;
	size_t errlen;
};

static int
export_fail(struct export *x, const char *what, int e)
{
	snprintf(x->err, x->errlen, "%s/%s: %s", x->dir, what, strerror(e));
	return -1;
}

/* A temp file in DIR/SUB (SUB "" for DIR), open for writing. */
static int
export_temp(struct export *x, const char *sub, char *path, size_t len)
{
	int fd;

	snprintf(path, len, "%s/%s%s.tmp-XXXXXX", x->dir, sub, sub[0] != '\0' ? "/" : "");
	if ((fd = mkstemp(path)) == -1)
		return -1;
	if (fchmod(fd, EXPORT_MODE) == -1) {
		unlink(path);
		close(fd);
		return -1;
	}
	return fd;
}

/* TMP (synced) becomes DIR/REL, then the folder is synced. */
static int
export_rename(struct export *x, const char *tmp, const char *rel)
{
	char path[PATH_MAX], *slash;
	int e;

	snprintf(path, sizeof(path), "%s/%s", x->dir, rel);
	if (rename(tmp, path) == -1) {
		e = errno;
		unlink(tmp);
		return export_fail(x, rel, e);
	}
	if ((slash = strrchr(path, '/')) != NULL)
		*slash = '\0';
	if (fsutil_fsync_dir(path) == -1)
		return export_fail(x, rel, errno);
	return 0;
}

/* REL holds exactly DATA already? (then it is left alone, so that a
 * sync tool does not upload it again). */
static int
export_same(struct export *x, const char *rel, const char *data, size_t len)
{
	char path[PATH_MAX], *buf;
	size_t n;
	int same;

	snprintf(path, sizeof(path), "%s/%s", x->dir, rel);
	if (fsutil_read_file(path, len, &buf, &n) == -1)
		return 0;
	same = n == len && memcmp(buf, data, len) == 0;
	free(buf);
	return same;
}

/* DATA to a synced temp file for DIR/REL (SUB: the folder part of REL,
 * or ""), its path in TMP; TMP "" when REL holds DATA already. */
static int
export_stage(struct export *x, const char *sub, const char *rel, const char *data,
    size_t len, char *tmp, size_t tmplen)
{
	int fd, e;

	tmp[0] = '\0';
	if (export_same(x, rel, data, len))
		return 0;
	if ((fd = export_temp(x, sub, tmp, tmplen)) == -1)
		return export_fail(x, rel, errno);
	if (fsutil_write_all(fd, data, len) == -1 || fsync(fd) == -1) {
		e = errno;
		close(fd);
		unlink(tmp);
		return export_fail(x, rel, e);
	}
	if (close(fd) == -1) {
		e = errno;
		unlink(tmp);
		return export_fail(x, rel, e);
	}
	return 0;
}

/* DATA as DIR/REL. */
static int
export_put(struct export *x, const char *sub, const char *rel, const char *data,
    size_t len)
{
	char tmp[PATH_MAX];

	if (export_stage(x, sub, rel, data, len, tmp, sizeof(tmp)) == -1)
		return -1;
	return tmp[0] == '\0' ? 0 : export_rename(x, tmp, rel);
}

/*
 * The signature, then the catalog: both written and synced first, then
 * renamed one right after the other, so that a reader who takes the
 * pair in between (and finds it does not verify) has a window of two
 * renames, not of a write and a sync.
 */
static int
export_catalog(struct export *x)
{
	char st[PATH_MAX], ct[PATH_MAX], path[PATH_MAX];
	int e;

	if (export_stage(x, "", "catalog.json.minisig", x->sig, x->sig_len, st,
	    sizeof(st)) == -1)
		return -1;
	if (export_stage(x, "", "catalog.json", x->cat_raw, x->cat_len, ct,
	    sizeof(ct)) == -1) {
		if (st[0] != '\0')
			unlink(st);
		return -1;
	}
	/* The folder is synced once, after both. */
	snprintf(path, sizeof(path), "%s/catalog.json.minisig", x->dir);
	if (st[0] != '\0' && rename(st, path) == -1) {
		e = errno;
		unlink(st);
		if (ct[0] != '\0')
			unlink(ct);
		return export_fail(x, "catalog.json.minisig", e);
	}
	if (ct[0] != '\0')
		return export_rename(x, ct, "catalog.json");
	if (fsutil_fsync_dir(x->dir) == -1)
		return export_fail(x, "catalog.json.minisig", errno);
	return 0;
}

/* ---- objects ---- */

struct export_sink {
	int fd;
	int err;
};

static int
export_sink_write(void *arg, const unsigned char *p, size_t n)
{
	struct export_sink *k = arg;

	if (fsutil_write_all(k->fd, p, n) == -1) {
		k->err = errno;
		return -1;
	}
	return 0;
}

/* REL is a regular file of SIZE bytes (not a link: a file someone put
 * there is replaced, not trusted). */
static int
export_has(struct export *x, const char *rel, uint64_t size)
{
	char path[PATH_MAX];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/%s", x->dir, rel);
	return lstat(path, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    (uint64_t)sb.st_size == size;
}

/* sha256/HEX: the identity bytes, streamed from the store and checked on
 * the way (a bad object is not exported). Kept when it is there already:
 * its name is its content. */
static int
export_object(struct export *x, const char *hex, uint64_t size)
{
	struct export_sink k;
	char tmp[PATH_MAX], rel[80], why[256];
	int rc;

	snprintf(rel, sizeof(rel), "sha256/%s", hex);
	if (json_object_get(x->files, rel) != NULL)
		return 0;
	if (json_object_set_new(x->files, rel, json_string(hex)) == -1) {
		snprintf(x->err, x->errlen, "out of memory");
		return -1;
	}
	x->objects++;
	if (export_has(x, rel, size))
		return 0;
	if ((k.fd = export_temp(x, "sha256", tmp, sizeof(tmp))) == -1)
		return export_fail(x, rel, errno);
	k.err = 0;
	rc = store_read_object(x->st, hex, export_sink_write, &k, why, sizeof(why));
	if (rc == 0 && fsync(k.fd) == -1)
		k.err = errno;
	close(k.fd);
	if (rc != 0 || k.err != 0) {
		unlink(tmp);
		if (k.err != 0)
			return export_fail(x, rel, k.err);
		snprintf(x->err, x->errlen, "object %s: %s (run `emberd verify`)", hex, why);
		return -1;
	}
	x->copied++;
	return export_rename(x, tmp, rel);
}

/* Copy FROM (a finished sha256/HEX) to the open FD. */
static int
export_copy(const char *from, int fd)
{
	char *buf;
	ssize_t n;
	int in, rc = 0;

	if ((in = open(from, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return -1;
	if ((buf = malloc(EXPORT_BUF)) == NULL) {
		close(in);
		return -1;
	}
	while ((n = read(in, buf, EXPORT_BUF)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			rc = -1;
			break;
		}
		if (fsutil_write_all(fd, buf, (size_t)n) == -1) {
			rc = -1;
			break;
		}
	}
	free(buf);
	close(in);
	return rc;
}

/* files/NAME: the same bytes as sha256/HEX; a hard link where the file
 * system has them (no second copy on a USB stick), else a copy. */
static int
export_named(struct export *x, const char *name, const char *hex, uint64_t size)
{
	char rel[PATH_MAX], tmp[PATH_MAX], obj[PATH_MAX];
	const char *was;
	int fd, e;

	snprintf(rel, sizeof(rel), "files/%s", name);
	if (json_object_get(x->files, rel) != NULL)
		return 0;	/* a name twice in a catalog: the first wins */
	if (json_object_set_new(x->files, rel, json_string(hex)) == -1) {
		snprintf(x->err, x->errlen, "out of memory");
		return -1;
	}
	was = json_string_value(json_object_get(json_object_get(x->old, "files"), rel));
	if (was != NULL && strcmp(was, hex) == 0 && export_has(x, rel, size))
		return 0;
	snprintf(obj, sizeof(obj), "%s/sha256/%s", x->dir, hex);
	snprintf(tmp, sizeof(tmp), "%s/files/.tmp-%s", x->dir, hex);
	if (!x->no_links) {
		unlink(tmp);
		if (link(obj, tmp) == 0) {
			x->linked++;
			return export_rename(x, tmp, rel);
		}
		if (errno != EPERM && errno != EXDEV && errno != EMLINK &&
		    errno != ENOTSUP && errno != ENOSYS)
			return export_fail(x, rel, errno);
		x->no_links = 1;
	}
	if ((fd = export_temp(x, "files", tmp, sizeof(tmp))) == -1)
		return export_fail(x, rel, errno);
	if (export_copy(obj, fd) == -1 || fsync(fd) == -1) {
		e = errno;
		close(fd);
		unlink(tmp);
		return export_fail(x, rel, e);
	}
	close(fd);
	x->copied++;
	return export_rename(x, tmp, rel);
}

/* ---- what names the objects ---- */

static size_t
export_bases(struct export *x, const char **bases)
{
	size_t i, n = 0;
	json_t *v;

	n = dl_bases_add(bases, n, EXPORT_MIRRORS, x->url);
	n = dl_bases_add(bases, n, EXPORT_MIRRORS, x->cfg->url);
	json_array_foreach(json_object_get(x->cat, "mirrors"), i, v)
		n = dl_bases_add(bases, n, EXPORT_MIRRORS, json_string_value(v));
	return n;
}

/* files/NAME.meta4 and files/NAME.torrent (their URLs: --url, [mirror]
 * url, the catalog's mirrors; none: no such files, said once). */
static int
export_docs(struct export *x, json_t *item, const char **bases, size_t nb)
{
	const char *hex = json_string_value(json_object_get(item, "sha256"));
	const char *name = json_string_value(json_object_get(item, "name"));
	struct object_meta m;
	struct dl_item it;
	char rel[PATH_MAX], why[256], *doc;
	size_t len;
	int rc = 0, t;

	if (nb == 0)
		return 0;
	memset(&m, 0, sizeof(m));
	if (store_meta_read(x->st, hex, &m, why, sizeof(why)) == -1) {
		snprintf(x->err, x->errlen, "object %s: %s", hex, why);
		return -1;
	}
	memset(&it, 0, sizeof(it));
	it.name = name;
	it.type = json_string_value(json_object_get(item, "type"));
	it.sha256 = hex;
	it.size = m.size;
	it.piece_length = m.piece_length;
	it.pieces = m.pieces;
	it.n_pieces = m.n_pieces;
	for (t = 0; t < 2 && rc == 0; t++) {
		/* BitTorrent has no empty files. */
		if (t == 1 && m.size == 0)
			break;
		doc = t == 0 ? dl_metalink(&it, bases, nb,
		    json_string_value(json_object_get(x->cat, "generated")), &len) :
		    dl_torrent(&it, bases, nb, &len);
		snprintf(rel, sizeof(rel), "files/%s%s", name, t == 0 ? ".meta4" : ".torrent");
		/* An item of that name wins, as on the server. */
		if (json_object_get(x->files, rel) != NULL) {
			free(doc);
			continue;
		}
		if (doc == NULL)
			log_warn("export: %s: the name cannot go in a %s; left out", name,
			    t == 0 ? "Metalink" : "torrent");
		else if ((rc = export_put(x, "files", rel, doc, len)) == 0 &&
		    json_object_set_new(x->files, rel, json_string("")) == -1)
			rc = -1;
		free(doc);
	}
	store_meta_free(&m);
	return rc;
}

/* ---- index pages ---- */

static int
export_index(struct export *x, const char *pubkey)
{
	struct index_page_info info;
	int langs[INDEX_LANGS_MAX], first;
	size_t nl, l, p, pages, len;
	char name[64], *html;

	memset(&info, 0, sizeof(info));
	nl = x->cfg->n_languages;
	if (nl == 0) {
		for (l = 0; l < index_n_langs && l < INDEX_LANGS_MAX; l++)
			langs[l] = (int)l;
		nl = l;
	} else
		memcpy(langs, x->cfg->languages, nl * sizeof(langs[0]));
	first = langs[0];
	info.catalog = x->cat;
	info.pubkey = pubkey;
	info.self_url = x->url;
	info.pin = NULL;	/* the host's certificate is the host's */
	info.langs = langs;
	info.n_langs = nl;
	info.static_pages = 1;
	/* index.html, the way in, last of all. */
	for (l = nl; l-- > 0; ) {
		info.lang = langs[l];
		for (p = 1, pages = 1; p <= pages; p++) {
			info.page = p;
			if ((html = index_page_render(&info, &len, &pages)) == NULL) {
				snprintf(x->err, x->errlen, "out of memory");
				return -1;
			}
			index_static_name(name, sizeof(name), first, langs[l], p);
			if ((langs[l] != first || p != 1) &&
			    export_put(x, "", name, html, len) == -1) {
				free(html);
				return -1;
			}
			free(html);
			if (json_object_set_new(x->files, name, json_string("")) == -1)
				return -1;
		}
	}
	info.lang = first;
	info.page = 1;
	if ((html = index_page_render(&info, &len, NULL)) == NULL) {
		snprintf(x->err, x->errlen, "out of memory");
		return -1;
	}
	if (export_put(x, "", "index.html", html, len) == -1) {
		free(html);
		return -1;
	}
	free(html);
	return 0;
}

/* ---- the mark, and what is no longer named ---- */

/* The mark: an export of this publisher, or an empty folder. */
static int
export_check_dir(struct export *x)
{
	char path[PATH_MAX], *buf, why[256];
	const char *pub, *was;
	struct dirent *de;
	json_error_t je;
	size_t len;
	DIR *d;

	if (fsutil_mkdir_p(x->dir, EXPORT_DIR_MODE) == -1) {
		snprintf(x->err, x->errlen, "%s: cannot make the folder: %s", x->dir,
		    strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/" EXPORT_MARK, x->dir);
	if (fsutil_read_file(path, EXPORT_MARK_MAX, &buf, &len) == 0) {
		x->old = json_loadb(buf, len, 0, &je);
		free(buf);
		if (!json_is_object(x->old)) {
			snprintf(x->err, x->errlen, "%s: not readable (%s): remove the "
			    "folder's contents to export into it again", path, je.text);
			return -1;
		}
		pub = json_string_value(json_object_get(x->cat, "publisher"));
		was = json_string_value(json_object_get(x->old, "publisher"));
		if (pub != NULL && was != NULL && strcmp(pub, was) != 0) {
			snprintf(x->err, x->errlen, "%s is an export of another publisher "
			    "(key %s, not %s): refused", x->dir, was, pub);
			return -1;
		}
		return 0;
	}
	if (errno != ENOENT) {
		snprintf(x->err, x->errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if ((d = opendir(x->dir)) == NULL) {
		snprintf(x->err, x->errlen, "%s: %s", x->dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(why, sizeof(why), "%s", de->d_name);
		closedir(d);
		snprintf(x->err, x->errlen, "%s is not empty (it holds %s) and is not an "
		    "emberd export (no %s): refused, nothing written", x->dir, why,
		    EXPORT_MARK);
		return -1;
	}
	closedir(d);
	/* Marked before anything else is written: a refresh after a crash
	 * half-way is still a refresh. */
	return export_put(x, "", EXPORT_MARK, "{}\n", 3);
}

/* Remove from DIR/SUB what neither this export nor the previous one
 * names, and temp files a crash left. */
static void
export_prune_dir(struct export *x, const char *sub, json_t *prev, unsigned *removed)
{
	char path[PATH_MAX], rel[PATH_MAX];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "%s%s%s", x->dir, sub[0] != '\0' ? "/" : "", sub);
	if ((d = opendir(path)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		const char *n = de->d_name;
		if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
			continue;
		snprintf(rel, sizeof(rel), "%s%s%s", sub, sub[0] != '\0' ? "/" : "", n);
		if (sub[0] == '\0' && strncmp(n, ".tmp-", 5) != 0 &&
		    (strncmp(n, "index.", 6) != 0 || strcmp(n, "index.html") == 0))
			continue;	/* at the top: only index pages and temp files */
		if (strncmp(n, ".tmp-", 5) != 0 &&
		    (json_object_get(x->files, rel) != NULL ||
		    json_object_get(prev, rel) != NULL))
			continue;
		if (unlinkat(dirfd(d), n, 0) == 0)
			(*removed)++;
	}
	closedir(d);
	fsutil_fsync_dir(path);
}

static int
export_finish(struct export *x)
{
	json_t *mark, *prev;
	json_int_t seq = json_integer_value(json_object_get(x->cat, "sequence"));
	unsigned removed = 0;
	char *text;
	int rc;

	/* The previous catalog's files stay for one refresh; a refresh of
	 * the same catalog keeps the same grace. */
	if (json_integer_value(json_object_get(x->old, "sequence")) == seq)
		prev = json_object_get(x->old, "previous");
	else
		prev = json_object_get(x->old, "files");
	if (!json_is_object(prev))
		prev = NULL;
	export_prune_dir(x, "files", prev, &removed);
	export_prune_dir(x, "sha256", prev, &removed);
	export_prune_dir(x, "", prev, &removed);
	if ((mark = json_pack("{s:i, s:s?, s:I, s:O, s:O?}", "version", 1,
	    "publisher", json_string_value(json_object_get(x->cat, "publisher")),
	    "sequence", seq, "files", x->files, "previous", prev)) == NULL ||
	    (text = json_dumps(mark, JSON_SORT_KEYS | JSON_INDENT(1))) == NULL) {
		json_decref(mark);
		snprintf(x->err, x->errlen, "out of memory");
		return -1;
	}
	rc = export_put(x, "", EXPORT_MARK, text, strlen(text));
	free(text);
	json_decref(mark);
	if (removed > 0)
		log_info("export: removed %u files that two catalogs no longer name", removed);
	return rc;
}

/* ---- the whole ---- */

static int
export_load(struct export *x)
{
	char *jp, *sp, why[256];
	int rc = -1;

	jp = catalog_current_path(x->st, "catalog.json");
	sp = catalog_current_path(x->st, "catalog.json.minisig");
	if (jp == NULL || sp == NULL) {
		snprintf(x->err, x->errlen, "%s: no catalog yet: publish one first "
		    "(`emberd add`, `emberd crawl`)", x->st->root);
		goto out;
	}
	if (fsutil_read_file(jp, CATALOG_MAX_BYTES, &x->cat_raw, &x->cat_len) == -1 ||
	    fsutil_read_file(sp, 65536, &x->sig, &x->sig_len) == -1) {
		snprintf(x->err, x->errlen, "%s: %s", jp, strerror(errno));
		goto out;
	}
	if ((x->cat = catalog_parse(x->cat_raw, x->cat_len, why, sizeof(why))) == NULL) {
		snprintf(x->err, x->errlen, "%s: %s", jp, why);
		goto out;
	}
	rc = 0;
out:
	free(jp);
	free(sp);
	return rc;
}

int
export_run(const struct config *cfg, struct store *st, const char *dir,
    const char *url, char *err, size_t errlen)
{
	struct export x;
	const char *bases[EXPORT_MIRRORS];
	char *b64 = NULL, *pubfile = NULL, *feed = NULL, sub[PATH_MAX];
	size_t i, nb, len;
	json_t *v, *items;
	int rc = -1, lockfd = -1;

	memset(&x, 0, sizeof(x));
	x.dir = dir;
	x.st = st;
	x.cfg = cfg;
	x.url = url;
	x.err = err;
	x.errlen = errlen;
	if ((x.files = json_object()) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (export_load(&x) == -1 ||
	    keys_public_text(cfg, &b64, &pubfile, err, errlen) == -1 ||
	    export_check_dir(&x) == -1)
		goto out;
	/* Two exports into one folder would prune each other's files. */
	if ((lockfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    flock(lockfd, LOCK_EX | LOCK_NB) == -1) {
		snprintf(err, errlen, "%s: %s", dir, errno == EWOULDBLOCK ?
		    "another export into this folder is running" : strerror(errno));
		goto out;
	}
	for (i = 0; i < 2; i++) {
		snprintf(sub, sizeof(sub), "%s/%s", dir, i == 0 ? "files" : "sha256");
		if (mkdir(sub, EXPORT_DIR_MODE) == -1 && errno != EEXIST) {
			export_fail(&x, i == 0 ? "files" : "sha256", errno);
			goto out;
		}
	}
	items = json_object_get(x.cat, "items");
	/* 1. The objects, under both their names. */
	json_array_foreach(items, i, v) {
		const char *hex = json_string_value(json_object_get(v, "sha256"));
		const char *name = json_string_value(json_object_get(v, "name"));
		uint64_t size = (uint64_t)json_integer_value(json_object_get(v, "size"));
		const char *phex;
		uint64_t psize;
		if (export_object(&x, hex, size) == -1 ||
		    export_named(&x, name, hex, size) == -1)
			goto out;
		/* Its provenance document: by hash only, as a peer serves it. */
		if (catalog_item_provenance(v, &phex, &psize) == 0 &&
		    export_object(&x, phex, psize) == -1)
			goto out;
	}
	/* 2. What names them. */
	if ((nb = export_bases(&x, bases)) == 0)
		log_warn("export: no URL for the Metalinks and torrents (no --url, "
		    "[mirror] url or mirror): none written");
	json_array_foreach(items, i, v)
		if (export_docs(&x, v, bases, nb) == -1)
			goto out;
	if ((feed = feed_xml_render(x.cat, url, &len)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (export_put(&x, "", "feed.xml", feed, len) == -1 ||
	    export_put(&x, "", "pubkey", pubfile, strlen(pubfile)) == -1)
		goto out;
	/* 3. The catalog, its signature first. */
	if (export_catalog(&x) == -1)
		goto out;
	/* 4. The pages, index.html last; 5. what two catalogs no longer name. */
	if (export_index(&x, b64) == -1 || export_finish(&x) == -1)
		goto out;
	log_info("export: catalog sequence %lld, %zu items (%u objects: %u written, "
	    "%u linked) in %s",
	    (long long)json_integer_value(json_object_get(x.cat, "sequence")),
	    json_array_size(items), x.objects, x.copied, x.linked, dir);
	rc = 0;
out:
	if (lockfd != -1)
		close(lockfd);
	free(feed);
	free(b64);
	free(pubfile);
	json_decref(x.files);
	json_decref(x.old);
	json_decref(x.cat);
	free(x.cat_raw);
	free(x.sig);
	return rc;
}

/* ---- the command ---- */

static const char export_usage[] =
    "usage: emberd export -c FILE [--url URL] [--warc OUT] [DIR]\n"
    "\n"
    "Write this mirror's current catalog as a static mirror into DIR: index\n"
    "pages, catalog.json and its signature, pubkey, feed.xml, files/NAME,\n"
    "sha256/HEX and each item's .meta4 and .torrent. Any static host (nginx,\n"
    "an S3 bucket, a CDN, a USB stick) then serves a mirror that readers,\n"
    "`emberd fetch` and followers use. DIR must be empty or an earlier\n"
    "export: it is refreshed in place, safely while it is being served.\n"
    "  -c, --config FILE  the config file\n"
    "  -u, --url URL      where DIR will be served: the first URL in the\n"
    "                     Metalinks and torrents, the base of the page's\n"
    "                     commands and the feed's enclosures\n"
    "  -w, --warc OUT     also (or, without DIR, only) write the catalog's\n"
    "                     items with their provenance as WARC 1.1: OUT.warc.gz,\n"
    "                     or OUT/ a folder of emberd-NNNNN.warc.gz of <= 1 GB\n";

int
cmd_export(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "url", required_argument, NULL, 'u' },
		{ "warc", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cfgpath = NULL, *url = NULL, *warc = NULL;
	char err[1024], *u = NULL;
	struct cmd_ctx c;
	size_t n;
	int ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "+c:u:w:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': cfgpath = optarg; break;
		case 'u': url = optarg; break;
		case 'w': warc = optarg; break;
		case 'h': return cmd_usage(stdout, export_usage, 0);
		default: return cmd_usage(stderr, export_usage, 2);
		}
	}
	if (optind + (warc == NULL) > argc || optind + 1 < argc)
		return cmd_usage(stderr, export_usage, 2);
	if (url != NULL) {
		n = strlen(url);
		if ((strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0) ||
		    strpbrk(url, " \t\r\n\"<>") != NULL) {
			log_error("--url %s: not an http(s) URL", url);
			return 2;
		}
		if (asprintf(&u, "%s%s", url, n > 0 && url[n - 1] == '/' ? "" : "/") == -1)
			return 2;
	}
	if ((rc = cmd_ctx_open(&c, cfgpath, 0)) != 0) {
		cmd_ctx_free(&c);
		free(u);
		return rc;
	}
	rc = 0;
	if (optind < argc &&
	    export_run(&c.cfg, &c.st, argv[optind], u, err, sizeof(err)) != 0)
		rc = 1;
	/* The static export's URL, if any, names the WARC's added files. */
	if (rc == 0 && warc != NULL &&
	    export_warc(&c.st, warc, u != NULL ? u : c.cfg.url, err, sizeof(err)) != 0)
		rc = 1;
	if (rc != 0)
		log_error("export: %s", err);
	cmd_ctx_free(&c);
	free(u);
	return rc;
}

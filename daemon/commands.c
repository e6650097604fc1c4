/*
 * The subcommands of commands.h but `fetch`: add, ls, verify, gc and
 * keygen whole; run and crawl up to their options, their work being
 * server.c's and schedule.c's. Each loads the config, opens the store as
 * the mirror user and turns what went wrong into the exit status.
 */
#include "commands.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "catalog.h"
#include "config.h"
#include "privileges.h"
#include "publish.h"
#include "fsutil.h"
#include "ingest.h"
#include "item_sources.h"
#include "keys.h"
#include "log.h"
#include "minisign.h"
#include "names.h"
#include "schedule.h"
#include "server.h"
#include "store.h"
#include "workq.h"

#define ERRLEN 1024
/* Objects are made durable and visible in batches, so memory stays
 * constant however many files one `add` imports. */
#define COMMIT_BATCH 64
/* Objects younger than this are never collected: an `add` or crawl may
 * have committed them and not yet published the catalog naming them. */
#define GC_GRACE_SECONDS 3600

void
cmd_ctx_free(struct cmd_ctx *c)
{
	if (c->have_store)
		store_close(&c->st);
	if (c->have_cfg)
		config_free(&c->cfg);
}

int
cmd_ctx_open(struct cmd_ctx *c, const char *cfgpath, int create)
{
	char err[ERRLEN];

	memset(c, 0, sizeof(*c));
	if (cfgpath == NULL) {
		log_error("no config file: pass -c FILE");
		return 2;
	}
	if (config_load(cfgpath, &c->cfg, err, sizeof(err)) == -1) {
		config_free(&c->cfg);
		log_error("%s", err);
		return 2;
	}
	c->have_cfg = 1;
	/* Only `run` needs root for a while (ports); the others drop now,
	 * so the store's files are the mirror user's. */
	if (priv_init(&c->cfg, err, sizeof(err)) == -1 || priv_drop(err, sizeof(err)) == -1) {
		log_error("%s", err);
		return 2;
	}
	if (store_open(&c->st, c->cfg.store, create, err, sizeof(err)) == -1) {
		log_error("%s", err);
		return 2;
	}
	c->have_store = 1;
	return 0;
}

int
cmd_usage(FILE *f, const char *text, int status)
{
	fputs(text, f);
	return status;
}

/* ---- add ---- */

static const char add_usage[] =
    "usage: emberd add -c FILE [--name NAME] [--type MIME] PATH...\n"
    "\n"
    "Import local files into the store and publish a new signed catalog.\n"
    "  -c, --config FILE  the config file\n"
    "  -n, --name NAME    the item's name (one PATH only); default: the file name\n"
    "  -t, --type MIME    the item's type; default: from the name's extension\n"
    "An existing item of the same name is replaced; its old object stays\n"
    "until `emberd gc`. Identical content is stored once.\n";

static int
add_ingest_file(struct store *st, const char *path, struct ingest **out)
{
	char err[ERRLEN];
	struct stat sb;
	struct ingest *in;
	int fd;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_error("%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		log_error("%s: not a regular file", path);
		close(fd);
		return -1;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	if ((in = ingest_new(st, (uint64_t)sb.st_size, err, sizeof(err))) == NULL) {
		log_error("%s: %s", path, err);
		close(fd);
		return -1;
	}
	for (;;) {
		size_t room;
		void *buf = ingest_reserve(in, &room);
		if (buf == NULL) {
			log_error("%s: %s", path, ingest_error(in));
			goto fail;
		}
		/* Read straight into the sink's buffer: no copy of our own. */
		ssize_t n = read(fd, buf, room);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			log_error("%s: read: %s", path, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		if (ingest_produce(in, (size_t)n) == -1) {
			log_error("%s: %s", path, ingest_error(in));
			goto fail;
		}
	}
	if (ingest_finish(in) == -1) {
		log_error("%s: %s", path, ingest_error(in));
		goto fail;
	}
	close(fd);
	*out = in;
	return 0;
fail:
	close(fd);
	ingest_free(in);
	return -1;
}

static int
add_commit(struct store *st, struct ingest **v, size_t n)
{
	char err[ERRLEN];
	int rc;

	if (store_lock(st, err, sizeof(err)) == -1) {
		log_error("%s", err);
		return -1;
	}
	rc = ingest_commit(st, v, n, err, sizeof(err));
	store_unlock(st);
	if (rc == -1)
		log_error("%s", err);
	return rc;
}

/*
 * Ingest a batch of files as one WORKQ_INGEST job each, on the work
 * queue's threads (one per core, 2 to 4): deflating many small texts is
 * CPU-bound and each file is independent. The first failure skips the
 * files not yet begun. Every slot of OUT is set, NULL where that file
 * failed or was skipped. Memory: a queue node and an add_job per file,
 * N <= COMMIT_BATCH, so one batch at a time whatever the file count.
 */
struct add_batch {
	struct store *st;
	int failed;		/* atomic: set by the first job to fail */
};

struct add_job {
	struct add_batch *batch;
	const char *path;
	struct ingest **out;
};

static void
add_ingest_job(void *arg)
{
	struct add_job *j = arg;

	if (__atomic_load_n(&j->batch->failed, __ATOMIC_RELAXED))
		return;
	if (add_ingest_file(j->batch->st, j->path, j->out) == -1)
		__atomic_store_n(&j->batch->failed, 1, __ATOMIC_RELAXED);
}

static int
add_ingest_batch(struct store *st, char **paths, size_t n, struct ingest **out)
{
	struct add_batch batch = { .st = st };
	struct add_job jobs[COMMIT_BATCH];
	size_t k;

	for (k = 0; k < n; k++) {
		out[k] = NULL;
		jobs[k] = (struct add_job){ &batch, paths[k], &out[k] };
		/* No queue (it could not start) or no memory: this thread
		 * does the file, as slowly as one core does. */
		if (workq_submit(WORKQ_INGEST, add_ingest_job, NULL, &jobs[k]) == -1)
			add_ingest_job(&jobs[k]);
	}
	/* The queue's lock orders the jobs' writes to OUT before this. */
	workq_drain(WORKQ_INGEST);
	return __atomic_load_n(&batch.failed, __ATOMIC_RELAXED) ? -1 : 0;
}

/* Items to publish: names, types and digests only (constant per item). */
struct add_item {
	char *name;
	char *type;
	char sha256[STORE_HEX_LEN + 1];
	uint64_t size;
	int gzip;
	uint64_t stored;
};

static int
add_publish(struct cmd_ctx *c, struct add_item *items, size_t n)
{
	struct publish_settings ps;
	struct publish_item *pi = NULL;
	struct publish_result res;
	char err[ERRLEN];
	size_t i;
	int rc = -1;

	if (publish_settings_init(&ps, &c->cfg) == -1 ||
	    (n > 0 && (pi = calloc(n, sizeof(*pi))) == NULL)) {
		log_error("out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		pi[i].name = items[i].name;
		pi[i].type = items[i].type;
		pi[i].sha256 = items[i].sha256;
		pi[i].size = items[i].size;
	}
	if (publish_apply(&c->st, &ps, NULL, 0, pi, n, &res, err, sizeof(err)) == -1) {
		log_error("%s", err);
		goto out;
	}
	if (res.changed)
		log_info("published catalog sequence %lld with %zu items", res.sequence,
		    res.items);
	else
		log_info("catalog unchanged");
	rc = 0;
out:
	free(pi);
	publish_settings_free(&ps);
	return rc;
}

/* What the command line asked for. */
struct add_args {
	const char *cfgpath;
	const char *name;	/* --name, or NULL: each file's own */
	const char *type;	/* --type, or NULL: from the name */
	char **paths;
	size_t npaths;
};

/*
 * Options and operands into A. -1 when the command ends here, with the
 * exit status in *STATUS: --help is not a failure, a bad option is.
 */
static int
add_parse_args(int argc, char **argv, struct add_args *a, int *status)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "name", required_argument, NULL, 'n' },
		{ "type", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	memset(a, 0, sizeof(*a));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "+c:n:t:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': a->cfgpath = optarg; break;
		case 'n': a->name = optarg; break;
		case 't': a->type = optarg; break;
		case 'h':
			*status = cmd_usage(stdout, add_usage, 0);
			return -1;
		default:
			*status = cmd_usage(stderr, add_usage, 2);
			return -1;
		}
	}
	argc -= optind;
	argv += optind;
	*status = 2;
	if (argc == 0) {
		*status = cmd_usage(stderr, add_usage, 2);
		return -1;
	}
	if (a->name != NULL && argc > 1) {
		log_error("--name names one item, but %d paths were given", argc);
		return -1;
	}
	if (a->type != NULL && (strlen(a->type) > 255 || strchr(a->type, '/') == NULL ||
	    strpbrk(a->type, "\r\n") != NULL)) {
		log_error("--type '%s' is not a MIME type", a->type);
		return -1;
	}
	a->paths = argv;
	a->npaths = (size_t)argc;
	return 0;
}

/*
 * Paths and names are checked before the config or any byte is read: a
 * typo costs nothing. 0, or -1 after naming the first bad one.
 */
static int
add_check_paths(const struct add_args *a)
{
	struct stat sb;
	const char *name, *why;
	char *copy;
	size_t i;

	for (i = 0; i < a->npaths; i++) {
		if (stat(a->paths[i], &sb) == -1) {
			log_error("%s: %s", a->paths[i], strerror(errno));
			return -1;
		}
		if (!S_ISREG(sb.st_mode)) {
			log_error("%s: not a regular file", a->paths[i]);
			return -1;
		}
		copy = strdup(a->paths[i]);
		name = a->name ? a->name : basename(copy);
		why = name_check(name, strlen(name));
		if (why != NULL) {
			log_error("%s: name '%s' %s (use --name)", a->paths[i], name, why);
			free(copy);
			return -1;
		}
		free(copy);
	}
	return 0;
}

/*
 * Load the config, open the store, and make sure the catalog can be
 * signed. 0, or the exit status; C is the caller's to free either way.
 */
static int
add_prepare(struct cmd_ctx *c, const struct add_args *a)
{
	char err[ERRLEN];
	int rc;

	if ((rc = cmd_ctx_open(c, a->cfgpath, 1)) != 0)
		return rc;
	if (c->cfg.follow) {
		/* A follower serves the publisher's catalog as signed; an item
		 * of its own would need its own key and catalog. */
		log_error("%s: this mirror follows a publisher ([follow]): its catalog comes "
		    "from the peers; add files on the publisher's mirror", a->cfgpath);
		return 2;
	}
	/* Fail before importing gigabytes if the catalog cannot be signed. */
	if (keys_check_signer(&c->cfg, &c->st, err, sizeof(err)) == -1) {
		log_error("%s", err);
		return 2;
	}
	return 0;
}

/* What the catalog and the report need of PATH, once it is ingested. */
static void
add_item_set(struct add_item *it, const struct add_args *a, const char *path,
    const struct object_meta *m)
{
	char *copy = strdup(path);
	const char *name = a->name ? a->name : basename(copy);

	it->name = strdup(name);
	it->type = strdup(a->type ? a->type : mime_from_name(name));
	memcpy(it->sha256, m->sha256, sizeof(it->sha256));
	it->size = m->size;
	it->gzip = m->gzip;
	it->stored = m->stored_size;
	free(copy);
}

/*
 * Ingest and commit the files COMMIT_BATCH at a time, appending to ITEMS
 * (*NITEMS of them filled). The first failure ends the import: later
 * batches are never read, and nothing is published.
 */
static int
add_ingest_all(struct cmd_ctx *c, const struct add_args *a,
    struct add_item *items, size_t *nitems)
{
	struct ingest *batch[COMMIT_BATCH];
	char err[ERRLEN];
	size_t i, k, n;
	int failed = 0;

	if (workq_start(NULL, 0, err, sizeof(err)) == -1)
		log_warn("%s; importing on one thread", err);
	for (i = 0; i < a->npaths && !failed; i += COMMIT_BATCH) {
		n = a->npaths - i < COMMIT_BATCH ? a->npaths - i : COMMIT_BATCH;
		if (add_ingest_batch(&c->st, a->paths + i, n, batch) == -1)
			failed = 1;
		for (k = 0; k < n && !failed; k++)
			add_item_set(&items[(*nitems)++], a, a->paths[i + k],
			    ingest_meta(batch[k]));
		if (!failed && add_commit(&c->st, batch, n) == -1)
			failed = 1;
		for (k = 0; k < n; k++)
			ingest_free(batch[k]);
	}
	workq_stop();
	return failed ? -1 : 0;
}

/* One line per item, before the catalog that names them is published. */
static void
add_report(const struct add_item *items, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		log_info("added %s: sha256 %s, %llu bytes, stored %s (%llu bytes)",
		    items[i].name, items[i].sha256,
		    (unsigned long long)items[i].size,
		    items[i].gzip ? "gzip" : "raw",
		    (unsigned long long)items[i].stored);
}

int
cmd_add(int argc, char **argv)
{
	struct add_args a;
	struct cmd_ctx c;
	struct add_item *items;
	size_t nitems = 0, i;
	int rc, failed;

	if (add_parse_args(argc, argv, &a, &rc) == -1)
		return rc;
	if (add_check_paths(&a) == -1)
		return 2;
	if ((rc = add_prepare(&c, &a)) != 0) {
		cmd_ctx_free(&c);
		return rc;
	}
	if ((items = calloc(a.npaths, sizeof(*items))) == NULL) {
		log_error("out of memory");
		cmd_ctx_free(&c);
		return 2;
	}
	failed = add_ingest_all(&c, &a, items, &nitems) == -1;
	if (!failed) {
		add_report(items, nitems);
		if (add_publish(&c, items, nitems) == -1)
			failed = 1;
	}
	for (i = 0; i < nitems; i++) {
		free(items[i].name);
		free(items[i].type);
	}
	free(items);
	cmd_ctx_free(&c);
	return failed ? 1 : 0;
}

/* ---- ls ---- */

static const char ls_usage[] =
    "usage: emberd ls -c FILE [--json]\n"
    "\n"
    "List the current catalog: name, size, type, SHA-256, and how the\n"
    "object is stored (gzip, raw, or missing).\n"
    "  -c, --config FILE  the config file\n"
    "  -j, --json         the catalog as JSON, each item with \"stored\"\n";

static const char *
ls_stored(const struct store *st, const char *hex)
{
	struct object_meta m;
	char err[ERRLEN];
	const char *s;

	if (!store_has_object(st, hex) ||
	    store_meta_read(st, hex, &m, err, sizeof(err)) == -1)
		return "missing";
	s = m.gzip ? "gzip" : "raw";
	store_meta_free(&m);
	return s;
}

static void
ls_human(uint64_t n, char *out, size_t len)
{
	static const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(out, len, "%llu B", (unsigned long long)n);
	else
		snprintf(out, len, "%.1f %s", v, units[u]);
}

/*
 * S, then blanks up to WIDTH terminal columns: printf's "%-32s" counts
 * bytes, so a Chinese name (three bytes, two columns a character) would
 * push every column after it out of line.
 */
static void
ls_cell(const char *s, size_t width)
{
	size_t w = name_display_width(s);

	fputs(s, stdout);
	for (; w < width; w++)
		putchar(' ');
}

/* The columns KEY's values take at most, and at least MIN. */
static size_t
ls_width(json_t *items, const char *key, size_t min)
{
	size_t i, w, max = min;
	json_t *v;

	json_array_foreach(items, i, v) {
		if ((w = name_display_width(json_string_value(json_object_get(v, key)))) > max)
			max = w;
	}
	return max;
}

int
cmd_ls(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cmd_ctx c;
	const char *cfgpath = NULL;
	char err[ERRLEN];
	json_t *cat = NULL, *items, *v;
	size_t i;
	int ch, rc, as_json = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "+c:jh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': cfgpath = optarg; break;
		case 'j': as_json = 1; break;
		case 'h': return cmd_usage(stdout, ls_usage, 0);
		default: return cmd_usage(stderr, ls_usage, 2);
		}
	}
	if (optind != argc)
		return cmd_usage(stderr, ls_usage, 2);
	if ((rc = cmd_ctx_open(&c, cfgpath, 1)) != 0) {
		cmd_ctx_free(&c);
		return rc;
	}
	if (catalog_load_current(&c.st, &cat, err, sizeof(err)) == -1) {
		log_error("%s", err);
		cmd_ctx_free(&c);
		return 2;
	}
	if (cat == NULL) {
		if (as_json)
			printf("{\"items\":[]}\n");
		else
			printf("(no catalog yet: add files with `emberd add -c %s PATH`)\n", cfgpath);
		cmd_ctx_free(&c);
		return 0;
	}
	items = json_object_get(cat, "items");
	if (as_json) {
		json_array_foreach(items, i, v) {
			json_object_set_new(v, "stored", json_string(ls_stored(&c.st,
			    json_string_value(json_object_get(v, "sha256")))));
		}
		json_dumpf(cat, stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		size_t wname = ls_width(items, "name", 32), wtype = ls_width(items, "type", 24);
		ls_cell("NAME", wname);
		printf(" %10s  ", "SIZE");
		ls_cell("TYPE", wtype);
		printf(" %-64s %s\n", "SHA256", "STORED");
		json_array_foreach(items, i, v) {
			char human[32];
			const char *hex = json_string_value(json_object_get(v, "sha256"));
			ls_human((uint64_t)json_integer_value(json_object_get(v, "size")),
			    human, sizeof(human));
			ls_cell(json_string_value(json_object_get(v, "name")), wname);
			printf(" %10s  ", human);
			ls_cell(json_string_value(json_object_get(v, "type")), wtype);
			printf(" %s %s\n", hex, ls_stored(&c.st, hex));
		}
		printf("%zu items, catalog sequence %lld, publisher %s\n",
		    json_array_size(items),
		    (long long)json_integer_value(json_object_get(cat, "sequence")),
		    json_string_value(json_object_get(cat, "publisher")));
	}
	json_decref(cat);
	cmd_ctx_free(&c);
	return 0;
}

/* ---- verify ---- */

static const char verify_usage[] =
    "usage: emberd verify -c FILE\n"
    "\n"
    "Re-hash every object in the store. Objects whose bytes do not match\n"
    "their SHA-256 move to STORE/quarantine/ and are no longer served.\n"
    "Checks that every catalog item has its object and that the catalog's\n"
    "signature verifies. Exit 0 all good, 1 a problem was found (named on\n"
    "stderr).\n"
    "  -c, --config FILE  the config file\n";

struct verify_state {
	struct store *st;
	size_t checked, bad;
	uint64_t bytes;
};

static int
verify_one(const char *hex, void *arg)
{
	struct verify_state *vs = arg;
	char err[ERRLEN];
	int r = store_check_object(vs->st, hex, err, sizeof(err));

	vs->checked++;
	if (r == 0)
		return 0;
	vs->bad++;
	if (r == 1 && store_quarantine(vs->st, hex) == 0)
		log_error("object %s is bad: %s; moved to quarantine/", hex, err);
	else
		log_error("object %s is bad: %s", hex, err);
	return 0;
}

static int
verify_catalog(struct cmd_ctx *c, size_t *missing)
{
	struct minisign_pubkey pk;
	char err[ERRLEN], trusted[MINISIGN_TRUSTED_MAX], *jp = NULL, *sp = NULL;
	char *json = NULL, *sig = NULL;
	size_t jlen, slen, i;
	json_t *cat = NULL, *v;
	int rc = -1;

	*missing = 0;
	if ((jp = catalog_current_path(&c->st, "catalog.json")) == NULL ||
	    (sp = catalog_current_path(&c->st, "catalog.json.minisig")) == NULL)
		goto out;
	if (fsutil_read_file(jp, CATALOG_MAX_BYTES, &json, &jlen) == -1) {
		if (errno == ENOENT) {
			log_info("no catalog yet");
			rc = 0;
		} else
			log_error("%s: %s", jp, strerror(errno));
		goto out;
	}
	if (fsutil_read_file(sp, 65536, &sig, &slen) == -1) {
		log_error("%s: %s", sp, strerror(errno));
		goto out;
	}
	if (keys_public(&c->cfg, &pk, err, sizeof(err)) == -1) {
		/* Not a bad signature: one that could not be checked. */
		log_error("%s", err);
		rc = -2;
		goto out;
	}
	if (minisign_verify(&pk, json, jlen, sig, slen, trusted, sizeof(trusted),
	    err, sizeof(err)) == -1) {
		log_error("%s: signature does not verify: %s", jp, err);
		goto out;
	}
	if ((cat = catalog_parse(json, jlen, err, sizeof(err))) == NULL) {
		log_error("%s: %s", jp, err);
		goto out;
	}
	json_array_foreach(json_object_get(cat, "items"), i, v) {
		const char *hex = json_string_value(json_object_get(v, "sha256"));
		uint64_t psize;
		if (!store_has_object(&c->st, hex)) {
			log_error("item '%s': object %s is missing",
			    json_string_value(json_object_get(v, "name")), hex);
			(*missing)++;
		}
		if (catalog_item_provenance(v, &hex, &psize) == 0 &&
		    !store_has_object(&c->st, hex)) {
			log_error("item '%s': provenance object %s is missing",
			    json_string_value(json_object_get(v, "name")), hex);
			(*missing)++;
		}
	}
	rc = 0;
out:
	json_decref(cat);
	free(json);
	free(sig);
	free(jp);
	free(sp);
	return rc;
}

int
cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cmd_ctx c;
	struct verify_state vs;
	const char *cfgpath = NULL;
	char err[ERRLEN];
	size_t missing = 0;
	int ch, rc, bad = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': cfgpath = optarg; break;
		case 'h': return cmd_usage(stdout, verify_usage, 0);
		default: return cmd_usage(stderr, verify_usage, 2);
		}
	}
	if (optind != argc)
		return cmd_usage(stderr, verify_usage, 2);
	if ((rc = cmd_ctx_open(&c, cfgpath, 1)) != 0) {
		cmd_ctx_free(&c);
		return rc;
	}
	if (store_lock(&c.st, err, sizeof(err)) == -1) {
		log_error("%s", err);
		cmd_ctx_free(&c);
		return 2;
	}
	memset(&vs, 0, sizeof(vs));
	vs.st = &c.st;
	if (store_foreach_object(&c.st, verify_one, &vs, err, sizeof(err)) == -1) {
		log_error("%s", err);
		bad = 1;
	}
	int vc = verify_catalog(&c, &missing);
	if (vc == -1)
		bad = 1;
	store_unlock(&c.st);
	printf("%zu objects checked, %zu bad, %zu catalog items missing, catalog signature %s\n",
	    vs.checked, vs.bad, missing, bad ? "BAD" : vc == -2 ? "not checked" : "ok");
	cmd_ctx_free(&c);
	return (bad || vs.bad || missing) ? 1 : vc == -2 ? 2 : 0;
}

/* ---- gc ---- */

static const char gc_usage[] =
    "usage: emberd gc -c FILE [--now]\n"
    "\n"
    "Remove objects that no item of the current catalog references (objects\n"
    "younger than an hour are kept: a running import may be about to name\n"
    "them) and catalogs older than the last two.\n"
    "  -c, --config FILE  the config file\n"
    "      --now          remove unreferenced objects whatever their age (no\n"
    "                     add or crawl may be running on this store)\n";

struct gc_state {
	struct store *st;
	json_t *keep;
	size_t removed, kept;
	uint64_t bytes;
	time_t now, grace;
};

static int
gc_one(const char *hex, void *arg)
{
	struct gc_state *gs = arg;
	char *path;
	struct stat sb;

	if (json_object_get(gs->keep, hex) != NULL) {
		gs->kept++;
		return 0;
	}
	if ((path = store_object_path(gs->st, hex)) == NULL)
		return -1;
	if (lstat(path, &sb) == 0 && gs->grace > 0 && sb.st_mtime + gs->grace > gs->now) {
		free(path);
		gs->kept++;
		return 0;
	}
	free(path);
	if (store_remove_object(gs->st, hex) == -1) {
		log_error("cannot remove object %s: %s", hex, strerror(errno));
		return 0;
	}
	gs->removed++;
	gs->bytes += (uint64_t)sb.st_size;
	return 0;
}

int
cmd_gc(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "now", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cmd_ctx c;
	struct gc_state gs;
	int now = 0;
	const char *cfgpath = NULL;
	char err[ERRLEN];
	json_t *cat = NULL;
	int ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': cfgpath = optarg; break;
		case 'n': now = 1; break;
		case 'h': return cmd_usage(stdout, gc_usage, 0);
		default: return cmd_usage(stderr, gc_usage, 2);
		}
	}
	if (optind != argc)
		return cmd_usage(stderr, gc_usage, 2);
	if ((rc = cmd_ctx_open(&c, cfgpath, 1)) != 0) {
		cmd_ctx_free(&c);
		return rc;
	}
	memset(&gs, 0, sizeof(gs));
	rc = 2;
	if (store_lock(&c.st, err, sizeof(err)) == -1 ||
	    catalog_load_current(&c.st, &cat, err, sizeof(err)) == -1) {
		log_error("%s", err);
		goto out;
	}
	gs.st = &c.st;
	gs.grace = now ? 0 : GC_GRACE_SECONDS;
	gs.now = time(NULL);
	if ((gs.keep = json_object()) == NULL)
		goto out;
	if (cat != NULL) {
		if (catalog_objects(cat, gs.keep) == -1)
			goto out;
	}
	if (store_foreach_object(&c.st, gc_one, &gs, err, sizeof(err)) == -1) {
		log_error("%s", err);
		goto out;
	}
	fsutil_fsync_dir(c.st.objects);
	catalog_prune(&c.st, 2);
	printf("removed %zu objects (%llu bytes), kept %zu\n", gs.removed,
	    (unsigned long long)gs.bytes, gs.kept);
	rc = 0;
out:
	store_unlock(&c.st);
	json_decref(gs.keep);
	json_decref(cat);
	cmd_ctx_free(&c);
	return rc;
}

/* ---- keygen ---- */

static const char keygen_usage[] =
    "usage: emberd keygen -c FILE\n"
    "\n"
    "Create the publisher's secret key ([mirror] key, mode 0600) unless it\n"
    "exists, and print the public key in minisign's format. Readers verify\n"
    "catalogs with it: minisign -Vm catalog.json -P <the RW... line>.\n"
    "  -c, --config FILE  the config file\n";

int
cmd_keygen(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct config cfg;
	struct minisign_key key;
	const char *cfgpath = NULL;
	char err[ERRLEN], *pub;
	int ch, made;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': cfgpath = optarg; break;
		case 'h': return cmd_usage(stdout, keygen_usage, 0);
		default: return cmd_usage(stderr, keygen_usage, 2);
		}
	}
	if (optind != argc)
		return cmd_usage(stderr, keygen_usage, 2);
	if (cfgpath == NULL) {
		log_error("no config file: pass -c FILE");
		return 2;
	}
	if (config_load(cfgpath, &cfg, err, sizeof(err)) == -1) {
		log_error("%s", err);
		config_free(&cfg);
		return 2;
	}
	/* The key must belong to the user that will sign with it. */
	if (priv_init(&cfg, err, sizeof(err)) == -1 || priv_drop(err, sizeof(err)) == -1) {
		log_error("%s", err);
		config_free(&cfg);
		return 2;
	}
	if ((made = minisign_keygen(cfg.key, err, sizeof(err))) == -1) {
		log_error("%s", err);
		config_free(&cfg);
		return 2;
	}
	memset(&key, 0, sizeof(key));
	if (minisign_key_load(cfg.key, &key, err, sizeof(err)) == -1) {
		log_error("%s", err);
		config_free(&cfg);
		return 2;
	}
	log_info("%s secret key %s", made ? "created" : "using existing", cfg.key);
	if ((pub = minisign_pubkey_file(&key)) != NULL)
		fputs(pub, stdout);
	free(pub);
	minisign_key_free(&key);
	config_free(&cfg);
	return 0;
}

/* ---- run ---- */

static const char run_usage[] =
    "usage: emberd run -c FILE\n"
    "\n"
    "Serve the mirror in the foreground on every [https] listen (and [http]\n"
    "listen) address. The catalog is re-read as soon as it changes (after\n"
    "`emberd add`). SIGHUP reloads the config; SIGTERM or SIGINT stop\n"
    "accepting, let downloads in flight finish (up to 10 s) and exit 0.\n"
    "  -c, --config FILE  the config file\n";

int
cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cfgpath = NULL;
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': cfgpath = optarg; break;
		case 'h': return cmd_usage(stdout, run_usage, 0);
		default: return cmd_usage(stderr, run_usage, 2);
		}
	}
	if (optind != argc)
		return cmd_usage(stderr, run_usage, 2);
	if (cfgpath == NULL) {
		log_error("no config file: pass -c FILE");
		return 2;
	}
	return server_run(cfgpath);
}

/* ---- crawl ---- */

static const char crawl_usage[] =
    "usage: emberd crawl -c FILE\n"
    "Fetch every [source] of the config once: new or changed content is\n"
    "hashed, checked against its pin, stored and published in the catalog;\n"
    "content the origin reports unchanged (304) is not fetched again. One\n"
    "line per source on stderr, then a total. Exit 0 when every source was\n"
    "fetched or unchanged, 1 when some failed, 2 on a config or store error.\n"
    "With [follow]: one sync from the peers instead: the newest catalog\n"
    "signed by [follow] pubkey, its missing objects (hash-checked), then the\n"
    "catalog installed as signed. Exit 1 unless that catalog is complete.\n"
    "  -c, --config FILE  the config file\n";

struct crawl_cmd {
	struct event_base *base;
	struct schedule_totals t;
	int finished;
};

static void
crawl_cmd_done(void *arg, const struct schedule_totals *t)
{
	struct crawl_cmd *cc = arg;

	cc->t = *t;
	cc->finished = 1;
	event_base_loopexit(cc->base, NULL);
}

static void
crawl_cmd_signal(evutil_socket_t sig, short what, void *arg)
{
	struct crawl_cmd *cc = arg;

	log_warn("signal %d: stopping the crawl; what was received is kept for a resume",
	    (int)sig);
	event_base_loopexit(cc->base, NULL);
}

/* Items whose [source] left the config stay published: say so, and how
 * to take them down. */
static void
crawl_cmd_orphans(struct cmd_ctx *c)
{
	json_t *cat = NULL;
	char err[ERRLEN];

	if (catalog_load_current(&c->st, &cat, err, sizeof(err)) == 0 && cat != NULL)
		item_sources_warn_orphans(&c->cfg, &c->st, cat);
	json_decref(cat);
}

int
cmd_crawl(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cfgpath = NULL;
	struct cmd_ctx c;
	struct crawl_cmd cc;
	struct schedule *sc = NULL;
	struct event *sigs[2] = { NULL, NULL };
	enum schedule_mode mode;
	char err[ERRLEN];
	int ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': cfgpath = optarg; break;
		case 'h': return cmd_usage(stdout, crawl_usage, 0);
		default: return cmd_usage(stderr, crawl_usage, 2);
		}
	}
	if (optind != argc)
		return cmd_usage(stderr, crawl_usage, 2);
	if ((rc = cmd_ctx_open(&c, cfgpath, 1)) != 0) {
		cmd_ctx_free(&c);
		return rc;
	}
	rc = 2;
	memset(&cc, 0, sizeof(cc));
	if ((mode = schedule_mode(&c.cfg, cfgpath)) == SCHEDULE_NONE) {
		log_error("%s: no [source] sections: nothing to crawl", cfgpath);
		goto out;
	}
	/* Before any download: a pass that cannot sign is hours wasted. */
	if (mode == SCHEDULE_CRAWL &&
	    keys_check_signer(&c.cfg, &c.st, err, sizeof(err)) == -1) {
		log_error("%s", err);
		goto out;
	}
	if (mode == SCHEDULE_CRAWL)
		crawl_cmd_orphans(&c);
	if ((cc.base = event_base_new()) == NULL ||
	    workq_start(cc.base, 0, err, sizeof(err)) == -1 ||
	    (sc = schedule_new(cc.base, &c.st, &c.cfg, err, sizeof(err))) == NULL) {
		log_error("cannot set up the crawl");
		goto out;
	}
	sigs[0] = evsignal_new(cc.base, SIGINT, crawl_cmd_signal, &cc);
	sigs[1] = evsignal_new(cc.base, SIGTERM, crawl_cmd_signal, &cc);
	if (sigs[0] != NULL)
		event_add(sigs[0], NULL);
	if (sigs[1] != NULL)
		event_add(sigs[1], NULL);
	if (schedule_once(sc, crawl_cmd_done, &cc, err, sizeof(err)) == -1) {
		log_error("%s", err);
		goto out;
	}
	event_base_dispatch(cc.base);
	if (!cc.finished) {
		rc = 1;
		goto out;
	}
	if (mode == SCHEDULE_FOLLOW)
		log_info("sync: %u objects fetched, %u failed", cc.t.fetched, cc.t.failed);
	else
		log_info("crawl: %zu sources: %u fetched, %u unchanged, %u failed",
		    c.cfg.n_sources, cc.t.fetched, cc.t.unchanged, cc.t.failed);
	rc = cc.t.failed > 0 ? 1 : 0;
out:
	schedule_free(sc);
	workq_stop();
	for (int i = 0; i < 2; i++)
		if (sigs[i] != NULL)
			event_free(sigs[i]);
	if (cc.base != NULL)
		event_base_free(cc.base);
	cmd_ctx_free(&c);
	return rc;
}

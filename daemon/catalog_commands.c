/*
 * The commands that re-sign the catalog without new content: `rm`
 * (takedown, with --purge the bytes too) and `publish` (the config's
 * current name, description, mirrors and expiry, signed now). Both go
 * through publish.c's one transaction; both are the publisher's alone.
 */
#include "commands.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "catalog.h"
#include "item_sources.h"
#include "keys.h"
#include "log.h"
#include "publish.h"

#define ERRLEN 1024

/*
 * Open what both commands need and refuse what only a publisher may do:
 * a follower serves its publisher's signature and has none of its own.
 * 0, or the exit status (C is the caller's to free either way).
 */
static int
catalog_cmd_open(struct cmd_ctx *c, const char *cfgpath, const char *what)
{
	char err[ERRLEN];
	int rc;

	if ((rc = cmd_ctx_open(c, cfgpath, 1)) != 0)
		return rc;
	if (c->cfg.follow) {
		log_error("%s: this mirror follows a publisher ([follow]): only the publisher "
		    "signs its catalog; %s on the publisher's mirror, and this one follows "
		    "at its next sync", cfgpath, what);
		return 2;
	}
	if (keys_check_signer(&c->cfg, &c->st, err, sizeof(err)) == -1) {
		log_error("%s", err);
		return 2;
	}
	return 0;
}

/* ---- rm ---- */

static const char rm_usage[] =
    "usage: emberd rm -c FILE [--purge] NAME...\n"
    "\n"
    "Take items out of the catalog and sign it at once; followers drop them\n"
    "at their next sync. Their objects stay until `emberd gc`, unless:\n"
    "  -c, --config FILE  the config file\n"
    "  -p, --purge        delete their objects now, with the crawler's state and\n"
    "                     partial bytes for them and every older catalog that\n"
    "                     lists them (a takedown)\n"
    "An item a [source] of the config still produces is refused: take the\n"
    "section out first, or the next crawl publishes it again.\n";

/* Refuse NAMES a configured source would publish again. 0 or 2. */
static int
rm_check_sources(struct cmd_ctx *c, char **names, size_t n)
{
	json_t *cat = NULL, *item;
	char err[ERRLEN];
	const struct config_source *src;
	size_t i;
	int rc = 0;

	if (catalog_load_current(&c->st, &cat, err, sizeof(err)) == -1) {
		log_error("%s", err);
		return 2;
	}
	for (i = 0; i < n && cat != NULL && rc == 0; i++) {
		if ((item = catalog_find_item(cat, names[i])) == NULL)
			continue;	/* the transaction names it */
		src = item_sources_producer(&c->cfg, &c->st, names[i],
		    json_string_value(json_object_get(item, "sha256")));
		/* A remux or a rewritten page is made again from its original. */
		if (src == NULL && json_string_value(json_object_get(item, "derived_from")) != NULL)
			src = item_sources_producer(&c->cfg, &c->st, names[i],
			    json_string_value(json_object_get(item, "derived_from")));
		if (src != NULL) {
			log_error("%s:%d: [source %s] still produces '%s': take that section out "
			    "of the config first (and SIGHUP a running emberd), or its next crawl "
			    "publishes the item again", c->cfg.path, src->line, src->id, names[i]);
			rc = 2;
		}
	}
	json_decref(cat);
	return rc;
}

int
cmd_rm(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "purge", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct publish_edit e = { 0 };
	struct publish_settings ps;
	struct publish_result res = { 0 };
	struct cmd_ctx c;
	const char *cfgpath = NULL;
	char err[ERRLEN];
	size_t forgotten;
	int ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "+c:ph", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': cfgpath = optarg; break;
		case 'p': e.purge = 1; break;
		case 'h': return cmd_usage(stdout, rm_usage, 0);
		default: return cmd_usage(stderr, rm_usage, 2);
		}
	}
	if (optind == argc)
		return cmd_usage(stderr, rm_usage, 2);
	e.remove = argv + optind;
	e.n_remove = (size_t)(argc - optind);
	if ((rc = catalog_cmd_open(&c, cfgpath, "take items down")) != 0 ||
	    (rc = rm_check_sources(&c, argv + optind, e.n_remove)) != 0) {
		cmd_ctx_free(&c);
		return rc;
	}
	if (publish_settings_init(&ps, &c.cfg) == -1) {
		log_error("out of memory");
		cmd_ctx_free(&c);
		return 2;
	}
	rc = 0;
	if (publish_edit_apply(&c.st, &ps, &e, &res, err, sizeof(err)) == -1) {
		log_error("%s", err);
		rc = res.refused ? 2 : 1;
	} else {
		log_info("published catalog sequence %lld with %zu items (%zu taken out)",
		    res.sequence, res.items, e.n_remove);
		if (e.purge) {
			forgotten = item_sources_forget(&c.st, res.purged);
			log_info("purged %zu objects (%llu bytes) and the state of %zu sources",
			    json_array_size(res.purged), (unsigned long long)res.purged_bytes,
			    forgotten);
		}
	}
	publish_result_free(&res);
	publish_settings_free(&ps);
	cmd_ctx_free(&c);
	return rc;
}

/* ---- publish ---- */

static const char publish_usage[] =
    "usage: emberd publish -c FILE\n"
    "\n"
    "Sign the catalog again, now, with the config's current [mirror] name,\n"
    "description, mirror list and expiry; the items stay as they are. A\n"
    "running emberd does the same on SIGHUP when these changed.\n"
    "  -c, --config FILE  the config file\n";

int
cmd_publish(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct publish_edit e = { .force = 1 };
	struct publish_settings ps;
	struct publish_result res = { 0 };
	struct cmd_ctx c;
	const char *cfgpath = NULL;
	char err[ERRLEN];
	json_t *cat = NULL;
	int ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': cfgpath = optarg; break;
		case 'h': return cmd_usage(stdout, publish_usage, 0);
		default: return cmd_usage(stderr, publish_usage, 2);
		}
	}
	if (optind != argc)
		return cmd_usage(stderr, publish_usage, 2);
	if ((rc = catalog_cmd_open(&c, cfgpath, "publish")) != 0) {
		cmd_ctx_free(&c);
		return rc;
	}
	rc = 2;
	if (catalog_load_current(&c.st, &cat, err, sizeof(err)) == -1) {
		log_error("%s", err);
		goto out;
	}
	if (cat == NULL) {
		log_error("%s: no catalog yet: `emberd add` or `emberd crawl` publishes the "
		    "first one", cfgpath);
		goto out;
	}
	if (publish_settings_init(&ps, &c.cfg) == -1) {
		log_error("out of memory");
		goto out;
	}
	if (publish_edit_apply(&c.st, &ps, &e, &res, err, sizeof(err)) == -1) {
		log_error("%s", err);
		rc = res.refused ? 2 : 1;
	} else {
		log_info("published catalog sequence %lld with %zu items", res.sequence,
		    res.items);
		rc = 0;
	}
	publish_result_free(&res);
	publish_settings_free(&ps);
out:
	json_decref(cat);
	cmd_ctx_free(&c);
	return rc;
}

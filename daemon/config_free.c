/*
 * What a loaded struct config owns (config.h), and its freeing: every
 * string and array config.c allocated, so that a reload (SIGHUP) and
 * every command can drop a config whole.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

static void
config_free_listen(struct config_listen *l, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(l[i].host);
		free(l[i].text);
	}
	free(l);
}

static void
config_free_strings(char **a, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(a[i]);
	free(a);
}

void
config_free(struct config *cfg)
{
	struct config_source *src;
	size_t i;

	if (cfg == NULL)
		return;
	free(cfg->path);
	free(cfg->dir);
	free(cfg->name);
	free(cfg->description);
	free(cfg->store);
	free(cfg->key);
	free(cfg->url);
	free(cfg->onion);
	free(cfg->user);
	config_free_listen(cfg->https_listen, cfg->n_https_listen);
	free(cfg->https_cert);
	free(cfg->https_key);
	config_free_strings(cfg->acme_domains, cfg->n_acme_domains);
	free(cfg->acme_directory);
	free(cfg->acme_email);
	free(cfg->acme_webroot);
	free(cfg->crawl_ca_file);
	config_free_listen(cfg->http_listen, cfg->n_http_listen);
	free(cfg->crawl_proxy);
	free(cfg->crawl_user_agent);
	for (i = 0; i < cfg->n_sources; i++) {
		src = &cfg->sources[i];
		free(src->id);
		config_free_strings(src->urls, src->n_urls);
		free(src->sha256);
		free(src->name);
		free(src->type);
		free(src->proxy);
		free(src->title);
		free(src->description);
		free(src->lang);
	}
	free(cfg->sources);
	free(cfg->follow_pubkey);
	config_free_strings(cfg->follow_peers, cfg->n_follow_peers);
	config_free_strings(cfg->mirrors, cfg->n_mirrors);
	memset(cfg, 0, sizeof(*cfg));
}

/*
 * The index page's "how to get and verify a copy" (index_out.h): the
 * publisher key, and curl, wget and aria2c commands for the catalog, its
 * signature and each file that work when pasted into a shell: every word
 * quoted for the shell, then escaped for HTML; with a self-signed
 * certificate, curl pinned to its key.
 */
#include "index_out.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "index_strings.h"

/* Quote a word for the shell when it needs it, so that a command can be
 * pasted even when a name holds spaces or quotes. */
static void
index_shell_quoted(struct index_out *o, const char *s)
{
	const char *q;

	/* A leading '-' would be read as an option. */
	if (s[0] == '-')
		out_s(o, "./");
	if (s[0] != '\0' && s[strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789._-+,@%:=/")] == '\0') {
		out_h(o, s);
		return;
	}
	out_s(o, "&#39;");
	while ((q = strchr(s, '\'')) != NULL) {
		struct index_buf tmp = { NULL, 0, 0 };

		if (index_buf_add(&tmp, s, (size_t)(q - s)) == -1) {
			o->failed = 1;
			return;
		}
		out_h(o, tmp.data);
		free(tmp.data);
		out_s(o, "&#39;\\&#39;&#39;");
		s = q + 1;
	}
	out_h(o, s);
	out_s(o, "&#39;");
}

/* BASE followed by PATH (already URL-safe), one shell word. */
static void
index_url_word(struct index_out *o, const char *base, const char *path)
{
	struct index_buf u = { NULL, 0, 0 };

	if (index_buf_add(&u, base, strlen(base)) == -1 ||
	    index_buf_add(&u, path, strlen(path)) == -1) {
		free(u.data);
		o->failed = 1;
		return;
	}
	index_shell_quoted(o, u.data);
	free(u.data);
}

/*
 * The flags a tool needs to reach this mirror: with a self-signed
 * certificate curl pins its key (and needs -k to get as far as
 * comparing it), wget and aria2c can only be told not to check; the
 * signature decides in every case.
 */
enum index_tool { TOOL_CURL, TOOL_WGET, TOOL_ARIA2C };

static void
index_cmd_open(struct index_out *o, const struct index_page_info *info,
    const char *base, enum index_tool tool)
{
	int pin = info->pin != NULL && strncasecmp(base, "https://", 8) == 0;

	out_s(o, "<pre><code class=\"cmd\">");
	switch (tool) {
	case TOOL_CURL:
		out_s(o, "curl -fL ");
		if (pin) {
			out_s(o, "--pinnedpubkey sha256//");
			out_h(o, info->pin);
			out_s(o, " -k ");
		}
		break;
	case TOOL_WGET:
		out_s(o, "wget ");
		if (pin)
			out_s(o, "--no-check-certificate ");
		break;
	case TOOL_ARIA2C:
		out_s(o, "aria2c ");
		if (pin)
			out_s(o, "--check-certificate=false ");
		break;
	}
}

void
index_verify(struct index_out *o, const struct index_page_info *info,
    json_t *items)
{
	const struct index_strings *t = index_langs[info->lang];
	const char *pubkey = info->pubkey != NULL ? info->pubkey : "";
	const char *base = "https://THIS-MIRROR/";
	json_t *first = json_array_get(items, 0);
	struct index_buf enc = { NULL, 0, 0 };
	enum index_tool tool;

	if (info->self_url != NULL && info->self_url[0] != '\0')
		base = info->self_url;

	out_s(o, "<h2 id=\"verify\">");
	out_s(o, t->verify_h);
	out_s(o, "</h2>\n");
	out_para(o, t->verify_intro);
	out_para(o, t->key_intro);
	out_s(o, "<pre><code>");
	if (pubkey[0] != '\0')
		out_h(o, pubkey);
	else
		out_s(o, t->key_unknown);
	out_s(o, "</code></pre>\n");
	out_para(o, t->key_warn);
	out_para(o, t->step_catalog);
	for (tool = TOOL_CURL; tool <= TOOL_ARIA2C; tool++) {
		if (tool == TOOL_WGET)
			out_para(o, t->step_catalog_alt);
		index_cmd_open(o, info, base, tool);
		if (tool == TOOL_CURL)
			out_s(o, "-O ");
		else if (tool == TOOL_ARIA2C)
			out_s(o, "-Z ");	/* two files, not two sources */
		index_url_word(o, base, "catalog.json");
		out_s(o, tool == TOOL_CURL ? " -O " : " ");
		index_url_word(o, base, "catalog.json.minisig");
		out_s(o, "</code></pre>\n");
	}
	if (info->pin != NULL && strncasecmp(base, "https://", 8) == 0)
		out_para(o, t->pin_note);
	out_para(o, t->step_check);
	out_s(o, "<pre><code>minisign -Vm catalog.json -P ");
	out_h(o, pubkey[0] != '\0' ? pubkey : "PUBLIC-KEY");
	out_s(o, "</code></pre>\n");
	out_para(o, t->step_check_ok);

	if (json_is_object(first)) {
		const char *name = index_str(first, "name");

		if (index_buf_add(&enc, "files/", 6) == -1 ||
		    index_buf_url(&enc, name) == -1) {
			o->failed = 1;
			free(enc.data);
			return;
		}
		out_para(o, t->step_file);
		for (tool = TOOL_CURL; tool <= TOOL_ARIA2C; tool++) {
			index_cmd_open(o, info, base, tool);
			out_s(o, tool == TOOL_WGET ? "-O " : "-o ");
			index_shell_quoted(o, name);
			out_s(o, " ");
			index_url_word(o, base, enc.data);
			out_s(o, "</code></pre>\n");
		}
		free(enc.data);
	}
	out_s(o, "<p>");
	out_s(o, t->step_hash);
	if (json_is_object(first)) {
		const char *name = index_str(first, "name");

		out_s(o, t->for_example);
		out_s(o, "</p>\n<pre><code>sha256sum ");
		index_shell_quoted(o, name);
		out_s(o, "</code></pre>\n<p>");
		out_s(o, t->must_print);
		out_s(o, "</p>\n<pre><code>");
		out_h(o, index_str(first, "sha256"));
		out_s(o, "  ");
		out_h(o, name);
		out_s(o, "</code></pre>\n");
	} else
		out_s(o, "</p>\n<pre><code>sha256sum FILE</code></pre>\n");
	out_para(o, t->hash_after);
	out_s(o, "<p id=\"minisign\" class=\"mute\">");
	out_s(o, t->minisign_note);
	out_s(o, "</p>\n");
}

/* The feed of hostile catalogs: titles, descriptions, names, dates and
 * mirrors as pages and feeds of origins or a careless publisher left
 * them. Whatever the catalog says, the feed must be well-formed XML that
 * libxml2 reads back (no network, no entities), with one <item> for each
 * item that has a name and an object id. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "feed_xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
fuzz_is_hex64(const char *s)
{
	size_t i;

	if (s == NULL || strlen(s) != 64)
		return 0;
	for (i = 0; i < 64; i++)
		if (strchr("0123456789abcdefABCDEF", s[i]) == NULL)
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *cat, *v;
	xmlDocPtr doc;
	xmlNodePtr n;
	size_t i, len, want = 0, got = 0;
	char *s;

	if (size > 65536)
		return 0;
	if ((cat = json_loadb((const char *)data, size, 0, NULL)) == NULL)
		return 0;
	json_array_foreach(json_object_get(cat, "items"), i, v)
		if (json_string_value(json_object_get(v, "name")) != NULL &&
		    fuzz_is_hex64(json_string_value(json_object_get(v, "sha256"))))
			want++;
	if ((s = feed_xml_render(cat, json_string_value(json_object_get(cat, "self")),
	    &len)) == NULL)
		__builtin_trap();	/* only when out of memory */
	if (strlen(s) != len)
		__builtin_trap();
	doc = xmlReadMemory(s, (int)len, "feed.xml", NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (doc == NULL || xmlDocGetRootElement(doc) == NULL)
		__builtin_trap();
	for (n = xmlDocGetRootElement(doc)->children; n != NULL; n = n->next)
		if (n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, BAD_CAST "channel") == 0) {
			xmlNodePtr c;
			for (c = n->children; c != NULL; c = c->next)
				if (c->type == XML_ELEMENT_NODE && xmlStrcmp(c->name, BAD_CAST "item") == 0)
					got++;
		}
	if (got != want)
		__builtin_trap();
	xmlFreeDoc(doc);
	free(s);
	json_decref(cat);
	return 0;
}

/*
 * A playlist from an origin through hls_parse, against two base URLs (a
 * directory one, which takes the plain-name shortcut, and one with a
 * query and dot segments). A parsed playlist must hold what the crawler
 * relies on: http(s) URIs within HLS_URI_MAX, segments numbered from the
 * media sequence, indexes of keys and maps in range and every kept key
 * and map used, byte ranges that do not wrap, the limits, no segments in
 * a master; and hls_sniff must agree that it is a playlist. The variant
 * choices must return indexes in range.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hls_playlist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_uri(const char *uri)
{
	size_t n;

	if (uri == NULL)
		__builtin_trap();
	n = strlen(uri);
	if (n > HLS_URI_MAX || (strncmp(uri, "http://", 7) != 0 &&
	    strncmp(uri, "https://", 8) != 0) || strchr(uri, '#') != NULL)
		__builtin_trap();
}

static void
check(const struct hls_playlist *p)
{
	size_t i, idx[HLS_VARIANTS_MAX], n;
	struct hls_choice c;
	unsigned char iv[16];
	char *used_keys, *used_maps;

	if (p->n_segments > HLS_SEGMENTS_MAX || p->n_variants > HLS_VARIANTS_MAX ||
	    p->n_renditions > HLS_RENDITIONS_MAX ||
	    p->n_keys > p->n_segments || p->n_maps > p->n_segments)
		__builtin_trap();
	if (p->master && p->n_segments > 0)
		__builtin_trap();
	if (!p->master && (p->n_variants > 0 || !(p->target_duration > 0)))
		__builtin_trap();
	if (p->fmp4 != (p->fmp4 != 0) || (p->n_maps > 0 && !p->fmp4))
		__builtin_trap();
	if (!isfinite(p->total_duration) || p->total_duration < 0)
		__builtin_trap();
	used_keys = calloc(p->n_keys + 1, 1);
	used_maps = calloc(p->n_maps + 1, 1);
	if (used_keys == NULL || used_maps == NULL)
		goto done;
	for (i = 0; i < p->n_segments; i++) {
		const struct hls_segment *s = &p->segments[i];

		check_uri(s->uri);
		if (s->seq != p->media_sequence + i || !(s->duration >= 0))
			__builtin_trap();
		if (s->key < -1 || s->key >= (int)p->n_keys ||
		    s->map < -1 || s->map >= (int)p->n_maps)
			__builtin_trap();
		if (s->has_range && (s->length == 0 ||
		    s->offset > UINT64_MAX - s->length))
			__builtin_trap();
		if (!s->has_range && (s->offset != 0 || s->length != 0))
			__builtin_trap();
		if (s->key >= 0)
			used_keys[s->key] = 1;
		if (s->map >= 0)
			used_maps[s->map] = 1;
		hls_segment_iv(s->key >= 0 ? &p->keys[s->key] : NULL, s, iv);
	}
	for (i = 0; i < p->n_keys; i++) {
		const struct hls_key *k = &p->keys[i];

		if (!used_keys[i] || k->method == HLS_KEY_NONE ||
		    k->method_name == NULL || k->uri == NULL)
			__builtin_trap();
		if (k->method == HLS_KEY_AES128 && (k->keyformat == NULL ||
		    strcmp(k->keyformat, "identity") == 0))
			check_uri(k->uri);
	}
	for (i = 0; i < p->n_maps; i++) {
		check_uri(p->maps[i].uri);
		if (!used_maps[i] || (p->maps[i].has_range &&
		    p->maps[i].length == 0))
			__builtin_trap();
	}
	for (i = 0; i < p->n_variants; i++) {
		const struct hls_rendition *r;

		check_uri(p->variants[i].uri);
		r = hls_audio_for(p, &p->variants[i]);
		if (r != NULL && (r < p->renditions ||
		    r >= p->renditions + p->n_renditions || r->uri == NULL))
			__builtin_trap();
	}
	for (i = 0; i < p->n_renditions; i++) {
		if (p->renditions[i].type == NULL ||
		    p->renditions[i].group_id == NULL)
			__builtin_trap();
		if (p->renditions[i].uri != NULL)
			check_uri(p->renditions[i].uri);
	}
	for (c.kind = HLS_BEST; c.kind <= HLS_BANDWIDTH; c.kind++) {
		c.bandwidth = p->n_variants > 0 ? p->variants[0].bandwidth / 2 : 0;
		n = hls_choose(p, &c, idx);
		if (n > p->n_variants || (p->n_variants > 0 && n == 0))
			__builtin_trap();
		for (i = 0; i < n; i++)
			if (idx[i] >= p->n_variants)
				__builtin_trap();
	}
done:
	free(used_keys);
	free(used_maps);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const bases[] = {
		"https://origin.example/live/index.m3u8",
		"http://origin.example:8080/a/./b/../list.m3u8?token=1",
	};
	struct hls_playlist p;
	char err[128];
	size_t i;

	for (i = 0; i < 2; i++) {
		memset(err, 'x', sizeof(err));
		if (hls_parse((const char *)data, size, bases[i], &p, err,
		    sizeof(err)) == 0) {
			if (!hls_sniff((const char *)data, size))
				__builtin_trap();
			check(&p);
			hls_playlist_free(&p);
		} else if (memchr(err, '\0', sizeof(err)) == NULL ||
		    strncmp(err, "line ", 5) != 0 || p.segments != NULL ||
		    p.n_segments != 0)
			__builtin_trap();
	}
	return 0;
}

/*
 * Which variants of a master playlist a capture takes ([source]
 * variant), the audio a variant needs, and a segment's AES-128 IV: the
 * choices made on a parsed playlist (hls_playlist.h), apart from its
 * parser.
 */
#include "hls_playlist.h"

#include <string.h>

/* A decimal BANDWIDTH, digits only, no overflow. 0 or -1. */
static int
hls_variants_uint(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		uint64_t digit = (uint64_t)(*s - '0');
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - digit) / 10)
			return -1;
		v = v * 10 + digit;
	}
	*out = v;
	return 0;
}

int
hls_choice_parse(const char *s, struct hls_choice *out)
{
	memset(out, 0, sizeof(*out));
	if (strcmp(s, "best") == 0)
		out->kind = HLS_BEST;
	else if (strcmp(s, "smallest") == 0)
		out->kind = HLS_SMALLEST;
	else if (strcmp(s, "all") == 0)
		out->kind = HLS_ALL;
	else if (hls_variants_uint(s, &out->bandwidth) == 0)
		out->kind = HLS_BANDWIDTH;
	else
		return -1;
	return 0;
}

size_t
hls_choose(const struct hls_playlist *p, const struct hls_choice *c,
    size_t *idx)
{
	size_t i, hi = 0, lo = 0, below = 0;
	int have_below = 0;

	if (p->n_variants == 0)
		return 0;
	if (c->kind == HLS_ALL) {
		for (i = 0; i < p->n_variants; i++)
			idx[i] = i;
		return p->n_variants;
	}
	for (i = 0; i < p->n_variants; i++) {
		uint64_t bw = p->variants[i].bandwidth;

		if (bw > p->variants[hi].bandwidth)
			hi = i;
		if (bw < p->variants[lo].bandwidth)
			lo = i;
		if (c->kind == HLS_BANDWIDTH && bw == c->bandwidth) {
			idx[0] = i;
			return 1;
		}
		if (bw <= c->bandwidth && (!have_below ||
		    bw > p->variants[below].bandwidth)) {
			below = i;
			have_below = 1;
		}
	}
	if (c->kind == HLS_BEST)
		idx[0] = hi;
	else if (c->kind == HLS_SMALLEST)
		idx[0] = lo;
	else
		idx[0] = have_below ? below : lo;
	return 1;
}

const struct hls_rendition *
hls_audio_for(const struct hls_playlist *p, const struct hls_variant *v)
{
	const struct hls_rendition *first = NULL, *r;
	size_t i;

	if (v->audio == NULL)
		return NULL;
	for (i = 0; i < p->n_renditions; i++) {
		r = &p->renditions[i];
		if (strcmp(r->type, "AUDIO") != 0 ||
		    strcmp(r->group_id, v->audio) != 0 || r->uri == NULL)
			continue;
		if (r->is_default)
			return r;
		if (first == NULL)
			first = r;
	}
	return first;
}

void
hls_segment_iv(const struct hls_key *k, const struct hls_segment *s,
    unsigned char iv[16])
{
	int i;

	if (k != NULL && k->has_iv) {
		memcpy(iv, k->iv, 16);
		return;
	}
	memset(iv, 0, 16);
	for (i = 0; i < 8; i++)
		iv[15 - i] = (unsigned char)(s->seq >> (8 * i));
}

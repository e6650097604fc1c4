/*
 * HLS playlists (RFC 8216), master and media, parsed in memory without
 * any I/O: the crawler fetches a playlist (at most HLS_PLAYLIST_MAX
 * bytes), hands it here with the URL it came from, and gets back every
 * URI made absolute (http/https only), the segments with their byte
 * ranges, keys and initialization sections, or the variants and
 * renditions of a master playlist. Also here, as pure functions: which
 * variants the [source] variant key picks, the audio rendition a
 * variant needs, and a segment's AES-128 IV.
 */
#ifndef EMBERD_HLS_PLAYLIST_H
#define EMBERD_HLS_PLAYLIST_H

#include <stddef.h>
#include <stdint.h>

/*
 * Limits, and why:
 * - HLS_PLAYLIST_MAX: the largest playlist the crawler reads (it caps the
 *   body; hls_parse refuses more). A day of 2 s segments with long signed
 *   URIs is about 8 MB, but no real VOD or live window comes near 4 MiB,
 *   and the parsed form costs a few times the text.
 * - HLS_SEGMENTS_MAX: 200,000 segments is 55 hours of 1 s segments, more
 *   than any capture emberd keeps; with URIs of a few hundred bytes the
 *   parsed playlist stays in tens of MB. Keys and initialization sections
 *   are only kept when a segment uses them, so there are never more of
 *   them than segments.
 * - HLS_VARIANTS_MAX, HLS_RENDITIONS_MAX: 64 each; real masters have a
 *   dozen at most, and hls_choose is linear in them.
 * - HLS_URI_MAX: 8 KiB, as written and once resolved: the longest URL an
 *   origin's server is commonly configured to accept, room for any
 *   signed CDN URL.
 * - HLS_ATTRS_MAX: 16 KiB for a tag's attribute list: two URIs and the
 *   short attributes beside them.
 * Memory: the arrays and strings of one playlist, at most about
 * n_segments x (sizeof(struct hls_segment) + URI length) plus the same for
 * keys and maps; nothing is kept per line that is not a segment, key,
 * map, variant or rendition.
 */
#define HLS_PLAYLIST_MAX	(4u << 20)
#define HLS_SEGMENTS_MAX	200000
#define HLS_VARIANTS_MAX	64
#define HLS_RENDITIONS_MAX	64
#define HLS_URI_MAX		8192
#define HLS_ATTRS_MAX		16384

enum hls_key_method { HLS_KEY_NONE, HLS_KEY_AES128, HLS_KEY_UNSUPPORTED };

/* An EXT-X-KEY used by at least one segment (METHOD=NONE is never kept). */
struct hls_key {
	enum hls_key_method method;
	char *method_name;	/* as written, e.g. "SAMPLE-AES", for the error message */
	char *uri;		/* absolute, or NULL for NONE; for a method or
				 * KEYFORMAT emberd cannot use, as written when
				 * it is no http(s) URL (skd://, data:) */
	int has_iv;
	unsigned char iv[16];
	char *keyformat;	/* KEYFORMAT or NULL ("identity" is the only one supported) */
};

/* An EXT-X-MAP (initialization section, fMP4); no BYTERANGE offset = 0. */
struct hls_map { char *uri; int has_range; uint64_t offset, length; };

struct hls_segment {
	char *uri;		/* absolute */
	double duration;	/* EXTINF */
	int has_range;		/* EXT-X-BYTERANGE: LENGTH[@OFFSET]; no OFFSET = right after the previous range of the same URI */
	uint64_t offset, length;
	uint64_t seq;		/* media sequence number */
	int discontinuity;	/* EXT-X-DISCONTINUITY before it */
	int key;		/* index in keys, -1 none (or METHOD=NONE) */
	int map;		/* index in maps, -1 none */
};

/* An EXT-X-STREAM-INF and its URI line. */
struct hls_variant { char *uri; uint64_t bandwidth; char *resolution, *codecs, *audio; /* AUDIO group id or NULL */ };

/* An EXT-X-MEDIA. */
struct hls_rendition { char *type; /* "AUDIO", "SUBTITLES", ... */ char *group_id, *name, *language, *uri; /* uri NULL: muxed into the variant */ int is_default; };

/*
 * A parsed playlist; every string and array is owned by it and freed by
 * hls_playlist_free. A master playlist has variants (and maybe
 * renditions) and no segments; a media playlist the reverse.
 */
struct hls_playlist {
	int master;		/* has EXT-X-STREAM-INF */
	struct hls_variant *variants; size_t n_variants;
	struct hls_rendition *renditions; size_t n_renditions;
	struct hls_segment *segments; size_t n_segments;
	struct hls_key *keys; size_t n_keys;
	struct hls_map *maps; size_t n_maps;
	double target_duration;	/* EXT-X-TARGETDURATION, seconds (> 0 in a media playlist) */
	uint64_t media_sequence;	/* EXT-X-MEDIA-SEQUENCE, the first segment's seq */
	int endlist;		/* EXT-X-ENDLIST, or EXT-X-PLAYLIST-TYPE:VOD (which
				 * may not change, RFC 8216 4.3.3.5): no more
				 * segments will come, no need to re-read it */
	int fmp4;		/* any EXT-X-MAP */
	double total_duration;	/* sum of EXTINF */
};

/* 1 when the body starts (after a BOM / whitespace) with #EXTM3U. */
int hls_sniff(const char *buf, size_t len);

/*
 * Parse LEN bytes of BUF (need not be NUL-terminated), fetched from URL
 * (absolute http/https, the base of relative URIs), into OUT. Tolerates
 * CRLF, a UTF-8 BOM, blank lines, comments and unknown tags; strict about
 * what the capture depends on: #EXTM3U first, each EXTINF and
 * EXT-X-STREAM-INF followed by its URI, byte ranges, IVs, the media
 * sequence before the first segment, EXT-X-TARGETDURATION in a media
 * playlist, no segments in a master, the limits above. Returns 0, or -1
 * with one line in ERR ("line N: ...") and OUT zeroed. Costs one pass
 * over the lines and one libcurl URL parse per URI that is not a plain
 * relative name ("seg42.ts": copied after the playlist's directory);
 * 200,000 plain segments take about 0.2 s, with URLs to parse about 1 s,
 * so a large playlist is better parsed off the event loop. The caller
 * frees OUT with hls_playlist_free.
 */
int hls_parse(const char *buf, size_t len, const char *url, struct hls_playlist *out, char *err, size_t errlen);

/* Free everything P owns and zero it; P may be zeroed or half-built. */
void hls_playlist_free(struct hls_playlist *p);

/* The [source] variant key: "best" | "smallest" | "all" | a BANDWIDTH number. */
enum hls_choice_kind { HLS_BEST, HLS_SMALLEST, HLS_ALL, HLS_BANDWIDTH };
struct hls_choice { enum hls_choice_kind kind; uint64_t bandwidth; };
int hls_choice_parse(const char *s, struct hls_choice *out);	/* -1 bad value */

/* Indexes of the variants of master P that C picks, into IDX (room for P->n_variants): best = highest BANDWIDTH
 * (ties: first), smallest = lowest, all = every one in order, a BANDWIDTH value = the variant with exactly that
 * bandwidth, else the highest not above it, else the lowest. Returns the count (0 when P has no variants). */
size_t hls_choose(const struct hls_playlist *p, const struct hls_choice *c, size_t *idx);

/* The audio rendition a variant needs (its AUDIO group: the DEFAULT=YES member with a URI, else the first with a
 * URI), or NULL when the audio is muxed into the variant. */
const struct hls_rendition *hls_audio_for(const struct hls_playlist *p, const struct hls_variant *v);

/* The IV of segment S under key K: K's IV when given, else the media sequence number as a 16-byte big-endian integer (RFC 8216 5.2). */
void hls_segment_iv(const struct hls_key *k, const struct hls_segment *s, unsigned char iv[16]);

#endif

/*
 * HLS playlists as ffmpeg writes them (run here into a temp folder:
 * MPEG-TS, fMP4, single-file byte ranges, AES-128, a master with a
 * separate audio rendition), every URI checked against the files ffmpeg
 * wrote and encrypted segments decrypted with the parsed key and IV; then
 * hand-written edge cases and hostile input, the variant choice and the
 * audio rendition.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "hls_playlist.h"
#include "check.h"

#define BASE	"https://origin.example/live/"
#define URL	BASE "index.m3u8"

static char dir[] = "/tmp/emberd-hls.XXXXXX";

static char *
slurp(const char *name, size_t *len)
{
	char path[512];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf != NULL) {
		buf[n] = '\0';
		*len = (size_t)n;
	}
	return buf;
}

/* The local file behind an absolute URI under BASE, or -1 when none. */
static long long
file_size(const char *uri)
{
	char path[512];
	struct stat st;

	if (strncmp(uri, BASE, strlen(BASE)) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/%s", dir, uri + strlen(BASE));
	if (strchr(path, '?') != NULL)
		*strchr(path, '?') = '\0';
	return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

static int
parse_file(const char *name, struct hls_playlist *p)
{
	char url[256], err[256];
	size_t len;
	char *buf = slurp(name, &len);
	int rc;

	if (buf == NULL) {
		fprintf(stderr, "ffmpeg wrote no %s\n", name);
		memset(p, 0, sizeof(*p));
		return -1;
	}
	snprintf(url, sizeof(url), BASE "%s", name);
	if ((rc = hls_parse(buf, len, url, p, err, sizeof(err))) == -1)
		fprintf(stderr, "%s: %s\n", name, err);
	free(buf);
	return rc;
}

static int
parse(const char *s, struct hls_playlist *p)
{
	char err[256];

	if (hls_parse(s, strlen(s), URL, p, err, sizeof(err)) == 0)
		return 0;
	fprintf(stderr, "unexpected error: %s\n", err);
	return -1;
}

/* S fails to parse, with an error containing WANT, and leaves P zeroed. */
static int
fails(const char *s, size_t len, const char *want)
{
	struct hls_playlist p, zero;
	char err[256];
	int ok;

	memset(&zero, 0, sizeof(zero));
	memset(&p, 0xa5, sizeof(p));
	if (hls_parse(s, len, URL, &p, err, sizeof(err)) == 0) {
		fprintf(stderr, "parsed, want error \"%s\": %.60s\n", want, s);
		hls_playlist_free(&p);
		return 0;
	}
	ok = strstr(err, want) != NULL && memcmp(&p, &zero, sizeof(p)) == 0;
	if (!ok)
		fprintf(stderr, "error \"%s\", want \"%s\"\n", err, want);
	return ok;
}

#define FAILS(s, want)	fails((s), strlen(s), (want))

static int
ffmpeg(const char *args)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd), "cd %s && ffmpeg -nostdin -hide_banner "
	    "-loglevel error -y -f lavfi -i testsrc=duration=6:size=160x120:rate=10 "
	    "-f lavfi -i sine=duration=6 %s", dir, args);
	if (system(cmd) != 0) {
		fprintf(stderr, "failed: %s\n", cmd);
		return -1;
	}
	return 0;
}

#define HLS_ARGS "-c:v libx264 -g 10 -c:a aac -f hls -hls_time 2 " \
	"-hls_playlist_type vod "

static void
check_vod(const struct hls_playlist *p, size_t n)
{
	size_t i;

	CHECK(!p->master && p->n_variants == 0);
	CHECK(p->n_segments == n);
	CHECK(p->endlist == 1);
	CHECK(p->target_duration == 2);
	CHECK(p->total_duration > 5.9 && p->total_duration < 6.1);
	for (i = 0; i < p->n_segments; i++) {
		CHECK(p->segments[i].seq == p->media_sequence + i);
		CHECK(file_size(p->segments[i].uri) > 0);
		CHECK(!p->segments[i].discontinuity);
	}
}

static void
test_ffmpeg_ts(void)
{
	struct hls_playlist p;

	CHECK(ffmpeg(HLS_ARGS "-hls_segment_filename 'ts%d.ts' ts.m3u8") == 0);
	CHECK(parse_file("ts.m3u8", &p) == 0);
	check_vod(&p, 3);
	CHECK(p.fmp4 == 0 && p.n_maps == 0 && p.n_keys == 0);
	CHECK(p.n_segments == 3 && strcmp(p.segments[0].uri, BASE "ts0.ts") == 0);
	CHECK(p.n_segments == 3 && strcmp(p.segments[2].uri, BASE "ts2.ts") == 0);
	CHECK(p.n_segments == 3 && p.segments[1].key == -1 &&
	    p.segments[1].map == -1 && !p.segments[1].has_range);
	hls_playlist_free(&p);
}

static void
test_ffmpeg_fmp4(void)
{
	struct hls_playlist p;
	size_t i;

	CHECK(ffmpeg(HLS_ARGS "-hls_segment_type fmp4 -hls_segment_filename "
	    "'f%d.m4s' -hls_fmp4_init_filename finit.mp4 f.m3u8") == 0);
	CHECK(parse_file("f.m3u8", &p) == 0);
	check_vod(&p, 3);
	CHECK(p.fmp4 == 1 && p.n_maps == 1);
	CHECK(p.n_maps == 1 && strcmp(p.maps[0].uri, BASE "finit.mp4") == 0 &&
	    !p.maps[0].has_range && file_size(p.maps[0].uri) > 0);
	for (i = 0; i < p.n_segments; i++)
		CHECK(p.segments[i].map == 0);
	hls_playlist_free(&p);

	/* fMP4 in one file: the init section and the fragments are ranges. */
	CHECK(ffmpeg(HLS_ARGS "-hls_segment_type fmp4 -hls_flags single_file "
	    "fs.m3u8") == 0);
	CHECK(parse_file("fs.m3u8", &p) == 0);
	check_vod(&p, 3);
	CHECK(p.n_maps == 1 && p.maps[0].has_range && p.maps[0].offset == 0 &&
	    p.maps[0].length > 0);
	if (p.n_maps == 1 && p.n_segments == 3) {
		CHECK(p.segments[0].offset == p.maps[0].length);
		CHECK((long long)(p.segments[2].offset + p.segments[2].length) ==
		    file_size(p.segments[2].uri));
	}
	hls_playlist_free(&p);
}

static void
test_ffmpeg_single_file(void)
{
	struct hls_playlist p;
	uint64_t end = 0;
	size_t i;

	CHECK(ffmpeg(HLS_ARGS "-hls_flags single_file single.m3u8") == 0);
	CHECK(parse_file("single.m3u8", &p) == 0);
	check_vod(&p, 3);
	/* The ranges tile the file, in order, without gaps. */
	for (i = 0; i < p.n_segments; i++) {
		CHECK(strcmp(p.segments[i].uri, BASE "single.ts") == 0);
		CHECK(p.segments[i].has_range && p.segments[i].offset == end);
		end = p.segments[i].offset + p.segments[i].length;
	}
	CHECK((long long)end == file_size(BASE "single.ts"));
	hls_playlist_free(&p);
}

/* Decrypt file NAME (AES-128-CBC, PKCS#7) and check it is MPEG-TS. */
static int
decrypts(const char *name, const unsigned char key[16],
    const unsigned char iv[16], unsigned char first[16])
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	unsigned char *in, *out;
	size_t len, i;
	int n1 = 0, n2 = 0, ok = 0;

	if ((in = (unsigned char *)slurp(name, &len)) == NULL || ctx == NULL)
		goto done;
	if ((out = malloc(len + 16)) == NULL)
		goto done;
	if (EVP_DecryptInit_ex(ctx, EVP_aes_128_cbc(), NULL, key, iv) == 1 &&
	    EVP_DecryptUpdate(ctx, out, &n1, in, (int)len) == 1 &&
	    EVP_DecryptFinal_ex(ctx, out + n1, &n2) == 1) {
		len = (size_t)(n1 + n2);
		ok = len > 0 && len % 188 == 0;
		for (i = 0; ok && i < len; i += 188)
			ok = out[i] == 0x47;
		if (first != NULL)
			memcpy(first, out, 16);
	}
	free(out);
done:
	free(in);
	EVP_CIPHER_CTX_free(ctx);
	return ok;
}

static void
test_ffmpeg_aes(void)
{
	static const unsigned char want_iv[16] = { 0x01, 0x23, 0x45, 0x67,
	    0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd,
	    0xef };
	unsigned char key[16], iv[16], a[16], b[16];
	struct hls_playlist p, q;
	char path[512], *text, *at;
	size_t i, len;
	FILE *f;

	for (i = 0; i < 16; i++)
		key[i] = (unsigned char)(i * 17 + 3);
	snprintf(path, sizeof(path), "%s/k.key", dir);
	CHECK((f = fopen(path, "wb")) != NULL);
	if (f == NULL)
		return;
	fwrite(key, 1, 16, f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/ki.txt", dir);
	CHECK((f = fopen(path, "w")) != NULL);
	if (f == NULL)
		return;
	fprintf(f, "https://keys.example/k.key\nk.key\n"
	    "0123456789abcdef0123456789abcdef\n");
	fclose(f);
	CHECK(ffmpeg(HLS_ARGS "-hls_key_info_file ki.txt -hls_segment_filename "
	    "'e%d.ts' enc.m3u8") == 0);
	CHECK(parse_file("enc.m3u8", &p) == 0);
	check_vod(&p, 3);
	CHECK(p.n_keys == 1);
	if (p.n_keys == 1) {
		CHECK(p.keys[0].method == HLS_KEY_AES128);
		CHECK(strcmp(p.keys[0].method_name, "AES-128") == 0);
		CHECK(strcmp(p.keys[0].uri, "https://keys.example/k.key") == 0);
		CHECK(p.keys[0].keyformat == NULL);
		CHECK(p.keys[0].has_iv && memcmp(p.keys[0].iv, want_iv, 16) == 0);
		for (i = 0; i < p.n_segments; i++) {
			CHECK(p.segments[i].key == 0);
			hls_segment_iv(&p.keys[0], &p.segments[i], iv);
			CHECK(memcmp(iv, want_iv, 16) == 0);
			CHECK(decrypts(p.segments[i].uri + strlen(BASE), key, iv,
			    NULL));
		}
	}
	hls_playlist_free(&p);

	/* No IV in the key info: ffmpeg writes the first media sequence
	 * number as the IV; without the IV attribute, the parser's IV from
	 * the sequence number (RFC 8216 5.2) decrypts the same. A relative
	 * key URI with a query resolves against the playlist. */
	snprintf(path, sizeof(path), "%s/ki2.txt", dir);
	CHECK((f = fopen(path, "w")) != NULL);
	if (f == NULL)
		return;
	fprintf(f, "k.key?v=1\nk.key\n");
	fclose(f);
	CHECK(ffmpeg(HLS_ARGS "-hls_key_info_file ki2.txt -start_number 5 "
	    "-hls_segment_filename 'n%d.ts' enc2.m3u8") == 0);
	CHECK(parse_file("enc2.m3u8", &p) == 0);
	CHECK(p.media_sequence == 5 && p.n_keys == 1 && p.n_segments == 3);
	if (p.n_keys != 1 || p.n_segments != 3) {
		hls_playlist_free(&p);
		return;
	}
	CHECK(strcmp(p.keys[0].uri, BASE "k.key?v=1") == 0);
	hls_segment_iv(&p.keys[0], &p.segments[0], iv);
	CHECK(decrypts("n5.ts", key, iv, a));
	CHECK((text = slurp("enc2.m3u8", &len)) != NULL);
	if (text != NULL && (at = strstr(text, ",IV=0x")) != NULL) {
		memmove(at, at + 6 + 32, strlen(at + 6 + 32) + 1);
		CHECK(hls_parse(text, strlen(text), URL, &q, path, sizeof(path)) == 0);
		CHECK(q.n_keys == 1 && !q.keys[0].has_iv && q.n_segments == 3);
		if (q.n_keys == 1 && q.n_segments == 3) {
			hls_segment_iv(&q.keys[0], &q.segments[0], iv);
			CHECK(decrypts("n5.ts", key, iv, b));
			CHECK(memcmp(a, b, 16) == 0);
		}
		hls_playlist_free(&q);
	} else
		CHECK(!"ffmpeg wrote no IV");
	free(text);
	hls_playlist_free(&p);
}

static void
test_ffmpeg_master(void)
{
	struct hls_playlist p, v;
	struct hls_choice c;
	const struct hls_rendition *r;
	size_t idx[HLS_VARIANTS_MAX], i, j;
	char name[128];

	CHECK(ffmpeg("-map 0:v -map 0:v -map 1:a -c:v libx264 -g 10 -c:a aac "
	    "-b:v:0 300k -b:v:1 100k -s:v:1 80x60 -f hls -hls_time 2 "
	    "-hls_playlist_type vod -master_pl_name master.m3u8 "
	    "-var_stream_map 'v:0,agroup:aud v:1,agroup:aud a:0,agroup:aud' "
	    "'v%v/index.m3u8'") == 0);
	CHECK(parse_file("master.m3u8", &p) == 0);
	CHECK(p.master && p.n_segments == 0 && p.n_variants == 3);
	CHECK(p.n_renditions == 1);
	if (p.n_variants != 3 || p.n_renditions != 1) {
		hls_playlist_free(&p);
		return;
	}
	CHECK(p.variants[0].bandwidth > p.variants[1].bandwidth &&
	    p.variants[1].bandwidth > p.variants[2].bandwidth);
	CHECK(strcmp(p.variants[0].resolution, "160x120") == 0);
	CHECK(strcmp(p.variants[1].resolution, "80x60") == 0);
	CHECK(p.variants[2].resolution == NULL);
	CHECK(strchr(p.variants[0].codecs, ',') != NULL);	/* "avc1...,mp4a..." */
	CHECK(strcmp(p.variants[0].audio, "group_aud") == 0);
	CHECK(strcmp(p.renditions[0].type, "AUDIO") == 0 &&
	    strcmp(p.renditions[0].group_id, "group_aud") == 0 &&
	    p.renditions[0].is_default);
	CHECK(strcmp(p.renditions[0].uri, BASE "v2/index.m3u8") == 0);
	r = hls_audio_for(&p, &p.variants[0]);
	CHECK(r == &p.renditions[0]);

	CHECK(hls_choice_parse("best", &c) == 0);
	CHECK(hls_choose(&p, &c, idx) == 1 && idx[0] == 0);
	CHECK(hls_choice_parse("smallest", &c) == 0);
	CHECK(hls_choose(&p, &c, idx) == 1 && idx[0] == 2);
	c.kind = HLS_BANDWIDTH;
	c.bandwidth = p.variants[1].bandwidth + 1;
	CHECK(hls_choose(&p, &c, idx) == 1 && idx[0] == 1);
	CHECK(hls_choice_parse("all", &c) == 0);
	CHECK(hls_choose(&p, &c, idx) == 3 && idx[0] == 0 && idx[1] == 1 &&
	    idx[2] == 2);

	/* Every variant's playlist, read from the URL the master gives. */
	for (i = 0; i < p.n_variants; i++) {
		snprintf(name, sizeof(name), "v%zu/index.m3u8", i);
		CHECK(strcmp(p.variants[i].uri + strlen(BASE), name) == 0);
		CHECK(parse_file(name, &v) == 0);
		CHECK(v.n_segments >= 3);
		for (j = 0; j < v.n_segments; j++) {
			snprintf(name, sizeof(name), BASE "v%zu/index%zu.ts", i, j);
			CHECK(strcmp(v.segments[j].uri, name) == 0);
			CHECK(file_size(v.segments[j].uri) > 0);
		}
		hls_playlist_free(&v);
	}
	hls_playlist_free(&p);
}

static void
test_tolerant(void)
{
	struct hls_playlist p;
	const char *crlf = "\xef\xbb\xbf#EXTM3U\r\n\r\n"
	    "# a comment\r\n"
	    "#EXT-X-VERSION:3\r\n"
	    "#EXT-X-TARGETDURATION:10\r\n"
	    "#EXT-X-FUTURE-TAG:FOO=\"bar\"\r\n"
	    "#EXT-X-PROGRAM-DATE-TIME:2024-01-01T00:00:00Z\r\n"
	    "#EXT-X-DISCONTINUITY-SEQUENCE:3\r\n"
	    "#EXT-X-INDEPENDENT-SEGMENTS\r\n"
	    "#EXT-X-START:TIME-OFFSET=0\r\n"
	    "   \r\n"
	    "#EXTINF:9.5,title, with comma\r\n"
	    "  a/b.ts  \r\n"
	    "#EXT-X-DISCONTINUITY\r\n"
	    "#EXTINF:10\r\n"
	    "/root.ts?x=1#frag\r\n"
	    "#EXTINF:0.25,\r\n"
	    "//cdn.example/c.ts\r\n"
	    "#EXTINF:1,\n"
	    "http://other.example/d.ts\n"
	    "#EXT-X-ENDLIST\r\n";

	CHECK(hls_sniff(crlf, strlen(crlf)) == 1);
	CHECK(parse(crlf, &p) == 0);
	CHECK(p.n_segments == 4 && p.endlist && p.target_duration == 10);
	if (p.n_segments == 4) {
		CHECK(strcmp(p.segments[0].uri, BASE "a/b.ts") == 0);
		CHECK(p.segments[0].duration == 9.5 && !p.segments[0].discontinuity);
		CHECK(strcmp(p.segments[1].uri, "https://origin.example/root.ts?x=1") == 0);
		CHECK(p.segments[1].discontinuity && p.segments[1].duration == 10);
		CHECK(strcmp(p.segments[2].uri, "https://cdn.example/c.ts") == 0);
		CHECK(!p.segments[2].discontinuity);
		CHECK(strcmp(p.segments[3].uri, "http://other.example/d.ts") == 0);
		CHECK(p.total_duration == 20.75);
	}
	hls_playlist_free(&p);

	CHECK(hls_sniff("\n  #EXTM3U\n", 11) == 1);
	CHECK(hls_sniff("#EXTM3U", 7) == 1);
	CHECK(hls_sniff("#EXTM3U tvg-shift=0\n", 20) == 1);
	CHECK(hls_sniff("#EXTM3", 6) == 0);
	CHECK(hls_sniff("#EXTM3UX\n", 9) == 0);
	CHECK(hls_sniff("<html>#EXTM3U", 13) == 0);
	CHECK(hls_sniff("", 0) == 0);
}

/* Plain relative names skip libcurl; they must come out as it would
 * resolve them, whatever the base. */
static void
test_plain_names(void)
{
	static const char *const bases[] = { URL, "https://o.example",
	    "http://o.example:8080/a/./b/../c/i.m3u8?tok=1&x=2",
	    "https://user:pw@o.example/d%20ir/list.m3u8#frag",
	    "HTTPS://O.EXAMPLE/A/" };
	static const char *const refs[] = { "seg.ts", "a/b/c.ts", "a..b.ts",
	    "...", "a/.../b", ".x", "x.", "~u/_-.ts", "a//b", "dir/", "./s.ts",
	    "a/../s.ts", "s.ts?q", "%41.ts" };
	struct hls_playlist p;
	char text[256], err[256];
	size_t i, j;

	for (i = 0; i < sizeof(bases) / sizeof(bases[0]); i++)
		for (j = 0; j < sizeof(refs) / sizeof(refs[0]); j++) {
			CURLU *h = curl_url();
			char *want = NULL;

			curl_url_set(h, CURLUPART_URL, bases[i], 0);
			curl_url_set(h, CURLUPART_URL, refs[j], 0);
			curl_url_set(h, CURLUPART_FRAGMENT, NULL, 0);
			curl_url_get(h, CURLUPART_URL, &want, 0);
			snprintf(text, sizeof(text), "#EXTM3U\n"
			    "#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n%s\n", refs[j]);
			CHECK(hls_parse(text, strlen(text), bases[i], &p, err,
			    sizeof(err)) == 0);
			CHECK(want != NULL && p.n_segments == 1 &&
			    strcmp(p.segments[0].uri, want) == 0);
			if (p.n_segments == 1 && want != NULL &&
			    strcmp(p.segments[0].uri, want) != 0)
				fprintf(stderr, "%s + %s = %s, want %s\n", bases[i],
				    refs[j], p.segments[0].uri, want);
			hls_playlist_free(&p);
			curl_free(want);
			curl_url_cleanup(h);
		}
}

static void
test_live_and_iv(void)
{
	static const unsigned char seq_iv[16] = { 0, 0, 0, 0, 0, 0, 0, 0,
	    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08 };
	struct hls_playlist p;
	unsigned char iv[16];

	/* A live window: no ENDLIST, a sequence number, a key without IV,
	 * then a key with one, then none. */
	CHECK(parse("#EXTM3U\n#EXT-X-TARGETDURATION:4\n"
	    "#EXT-X-MEDIA-SEQUENCE:72623859790382856\n"
	    "#EXT-X-KEY:METHOD=AES-128,URI=\"/k/1\"\n"
	    "#EXTINF:4,\ns1.ts\n"
	    "#EXTINF:4,\ns2.ts\n"
	    "#EXT-X-KEY:METHOD=AES-128,URI=\"k2\",IV=0X00ff\n"
	    "#EXTINF:4,\ns3.ts\n"
	    "#EXT-X-KEY:METHOD=NONE\n"
	    "#EXTINF:4,\ns4.ts\n", &p) == 0);
	CHECK(!p.endlist && p.target_duration == 4 && p.n_segments == 4);
	CHECK(p.media_sequence == 0x0102030405060708ull);
	CHECK(p.n_keys == 2);
	if (p.n_segments == 4 && p.n_keys == 2) {
		CHECK(p.segments[0].key == 0 && p.segments[1].key == 0);
		CHECK(p.segments[2].key == 1 && p.segments[3].key == -1);
		CHECK(strcmp(p.keys[0].uri, "https://origin.example/k/1") == 0);
		CHECK(!p.keys[0].has_iv && p.keys[1].has_iv);
		hls_segment_iv(&p.keys[0], &p.segments[0], iv);
		CHECK(memcmp(iv, seq_iv, 16) == 0);
		hls_segment_iv(&p.keys[0], &p.segments[1], iv);
		CHECK(iv[15] == 0x09 && iv[14] == 0x07 && iv[7] == 0);
		hls_segment_iv(&p.keys[1], &p.segments[2], iv);
		CHECK(iv[15] == 0xff && iv[14] == 0 && iv[0] == 0);
		CHECK(p.segments[3].seq == 0x0102030405060708ull + 3);
	}
	hls_playlist_free(&p);

	/* PLAYLIST-TYPE:VOD cannot change, so it needs no re-read; EVENT
	 * still may grow. An empty live playlist is valid. */
	CHECK(parse("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-PLAYLIST-TYPE:VOD\n"
	    "#EXTINF:2,\na.ts\n", &p) == 0);
	CHECK(p.endlist == 1);
	hls_playlist_free(&p);
	CHECK(parse("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-PLAYLIST-TYPE:EVENT\n"
	    "#EXTINF:2,\na.ts\n", &p) == 0);
	CHECK(p.endlist == 0);
	hls_playlist_free(&p);
	CHECK(parse("#EXTM3U\n#EXT-X-TARGETDURATION:6\n", &p) == 0);
	CHECK(p.n_segments == 0 && !p.endlist && !p.master);
	hls_playlist_free(&p);
}

static void
test_keys(void)
{
	struct hls_playlist p;

	/* FairPlay: refused later by name, so its skd:// URI is no error. */
	CHECK(parse("#EXTM3U\n#EXT-X-TARGETDURATION:6\n"
	    "#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"skd://key-id\","
	    "KEYFORMAT=\"com.apple.streamingkeydelivery\",KEYFORMATVERSIONS=\"1\"\n"
	    "#EXTINF:6,\na.ts\n", &p) == 0);
	CHECK(p.n_keys == 1 && p.n_segments == 1);
	if (p.n_keys == 1) {
		CHECK(p.keys[0].method == HLS_KEY_UNSUPPORTED);
		CHECK(strcmp(p.keys[0].method_name, "SAMPLE-AES") == 0);
		CHECK(strcmp(p.keys[0].uri, "skd://key-id") == 0);
		CHECK(strcmp(p.keys[0].keyformat,
		    "com.apple.streamingkeydelivery") == 0);
		CHECK(p.segments[0].key == 0);
	}
	hls_playlist_free(&p);

	/* The same segments in two formats: the identity key wins, in
	 * either order. */
	CHECK(parse("#EXTM3U\n#EXT-X-TARGETDURATION:6\n"
	    "#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"skd://x\",KEYFORMAT=\"com.apple.streamingkeydelivery\"\n"
	    "#EXT-X-KEY:METHOD=AES-128,URI=\"https://k.example/1\",KEYFORMAT=\"identity\"\n"
	    "#EXTINF:6,\na.ts\n"
	    "#EXT-X-KEY:METHOD=AES-128,URI=\"https://k.example/2\"\n"
	    "#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"data:text/plain;base64,AAAA\",KEYFORMAT=\"urn:uuid:edef8ba9\"\n"
	    "#EXTINF:6,\nb.ts\n", &p) == 0);
	CHECK(p.n_keys == 2 && p.n_segments == 2);
	if (p.n_keys == 2 && p.n_segments == 2) {
		CHECK(strcmp(p.keys[p.segments[0].key].uri, "https://k.example/1") == 0);
		CHECK(strcmp(p.keys[p.segments[1].key].uri, "https://k.example/2") == 0);
		CHECK(p.keys[1].method == HLS_KEY_AES128);
	}
	hls_playlist_free(&p);

	/* Other methods keep their name for the error message. */
	CHECK(parse("#EXTM3U\n#EXT-X-TARGETDURATION:6\n"
	    "#EXT-X-KEY:METHOD=SAMPLE-AES-CTR,URI=\"k\"\n#EXTINF:6,\na.ts\n", &p) == 0);
	CHECK(p.n_keys == 1 && p.keys[0].method == HLS_KEY_UNSUPPORTED &&
	    strcmp(p.keys[0].method_name, "SAMPLE-AES-CTR") == 0 &&
	    strcmp(p.keys[0].uri, BASE "k") == 0);
	hls_playlist_free(&p);

	/* A key no segment uses is not kept. */
	CHECK(parse("#EXTM3U\n#EXT-X-TARGETDURATION:6\n"
	    "#EXT-X-KEY:METHOD=AES-128,URI=\"k\"\n"
	    "#EXT-X-KEY:METHOD=AES-128,URI=\"k2\"\n", &p) == 0);
	CHECK(p.n_keys == 0);
	hls_playlist_free(&p);

	CHECK(FAILS("#EXTM3U\n#EXT-X-TARGETDURATION:6\n"
	    "#EXT-X-KEY:METHOD=AES-128,URI=\"k\",IV=0x123456789012345678901234567890123\n",
	    "line 3: bad IV"));
	CHECK(FAILS("#EXTM3U\n#EXT-X-TARGETDURATION:6\n"
	    "#EXT-X-KEY:METHOD=AES-128,URI=\"k\",IV=0xgg\n", "line 3: bad IV"));
	CHECK(FAILS("#EXTM3U\n#EXT-X-TARGETDURATION:6\n"
	    "#EXT-X-KEY:METHOD=AES-128,URI=\"k\",IV=0x\n", "line 3: bad IV"));
	CHECK(FAILS("#EXTM3U\n#EXT-X-TARGETDURATION:6\n"
	    "#EXT-X-KEY:METHOD=AES-128,URI=\"k\",IV=123\n", "line 3: bad IV"));
	CHECK(FAILS("#EXTM3U\n#EXT-X-TARGETDURATION:6\n"
	    "#EXT-X-KEY:METHOD=AES-128\n", "line 3: EXT-X-KEY without URI"));
	CHECK(FAILS("#EXTM3U\n#EXT-X-TARGETDURATION:6\n"
	    "#EXT-X-KEY:URI=\"k\"\n", "line 3: EXT-X-KEY without METHOD"));
	CHECK(FAILS("#EXTM3U\n#EXT-X-TARGETDURATION:6\n"
	    "#EXT-X-KEY:METHOD=AES-128,URI=\"ftp://k.example/k\"\n",
	    "line 3: URI scheme ftp"));
}

static void
test_ranges(void)
{
	struct hls_playlist p;

	CHECK(parse("#EXTM3U\n#EXT-X-TARGETDURATION:6\n"
	    "#EXT-X-MAP:URI=\"main.mp4\",BYTERANGE=\"720@0\"\n"
	    "#EXTINF:6,\n#EXT-X-BYTERANGE:1000@720\nmain.mp4\n"
	    "#EXT-X-BYTERANGE:500\n#EXTINF:6,\nmain.mp4\n"
	    "#EXTINF:6,\n#EXT-X-BYTERANGE:300\nmain.mp4\n"
	    "#EXT-X-MAP:URI=\"other.mp4\",BYTERANGE=\"99\"\n"
	    "#EXTINF:6,\nother.mp4\n", &p) == 0);
	CHECK(p.fmp4 && p.n_maps == 2 && p.n_segments == 4);
	if (p.n_maps == 2 && p.n_segments == 4) {
		CHECK(p.maps[0].has_range && p.maps[0].offset == 0 && p.maps[0].length == 720);
		CHECK(p.maps[1].has_range && p.maps[1].offset == 0 && p.maps[1].length == 99);
		CHECK(p.segments[0].offset == 720 && p.segments[0].length == 1000);
		CHECK(p.segments[1].offset == 1720 && p.segments[1].length == 500);
		CHECK(p.segments[2].offset == 2220 && p.segments[2].length == 300);
		CHECK(!p.segments[3].has_range && p.segments[3].map == 1);
		CHECK(p.segments[0].map == 0 && p.segments[2].map == 0);
	}
	hls_playlist_free(&p);

	CHECK(FAILS("#EXTM3U\n#EXT-X-TARGETDURATION:6\n"
	    "#EXTINF:6,\n#EXT-X-BYTERANGE:1000@0\na.ts\n"
	    "#EXTINF:6,\n#EXT-X-BYTERANGE:1000\nb.ts\n",
	    "line 7: EXT-X-BYTERANGE without offset"));
	CHECK(FAILS("#EXTM3U\n#EXT-X-TARGETDURATION:6\n"
	    "#EXTINF:6,\na.ts\n#EXTINF:6,\n#EXT-X-BYTERANGE:1000\na.ts\n",
	    "line 6: EXT-X-BYTERANGE without offset"));
	CHECK(FAILS("#EXTM3U\n#EXT-X-TARGETDURATION:6\n"
	    "#EXT-X-BYTERANGE:10\n#EXTINF:6,\na.ts\n",
	    "line 3: EXT-X-BYTERANGE without offset"));
	CHECK(FAILS("#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-BYTERANGE:0@5\n",
	    "line 3: bad EXT-X-BYTERANGE"));
	CHECK(FAILS("#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-BYTERANGE:-1\n",
	    "line 3: bad EXT-X-BYTERANGE"));
	CHECK(FAILS("#EXTM3U\n#EXT-X-TARGETDURATION:6\n"
	    "#EXT-X-BYTERANGE:2@18446744073709551615\n", "line 3: bad EXT-X-BYTERANGE"));
	CHECK(FAILS("#EXTM3U\n#EXT-X-TARGETDURATION:6\n"
	    "#EXT-X-BYTERANGE:99999999999999999999999\n", "line 3: bad EXT-X-BYTERANGE"));
	CHECK(FAILS("#EXTM3U\n#EXT-X-TARGETDURATION:6\n"
	    "#EXT-X-MAP:URI=\"i.mp4\",BYTERANGE=\"x@1\"\n", "line 3: bad BYTERANGE"));
	CHECK(FAILS("#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-MAP:BYTERANGE=\"1@1\"\n",
	    "line 3: EXT-X-MAP without URI"));
}

static void
test_master(void)
{
	struct hls_playlist p;
	struct hls_choice c;
	size_t idx[HLS_VARIANTS_MAX];
	const struct hls_rendition *r;

	CHECK(parse("#EXTM3U\n"
	    "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",NAME=\"English\",LANGUAGE=\"en\",URI=\"en.m3u8\"\n"
	    "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",NAME=\"Deutsch\",LANGUAGE=\"de\",DEFAULT=YES,URI=\"de.m3u8\"\n"
	    "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"m\",NAME=\"muxed\",DEFAULT=YES\n"
	    "#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID=\"cc\",NAME=\"cc1\",INSTREAM-ID=\"CC1\"\n"
	    "#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"a\",NAME=\"subs\",URI=\"subs.m3u8\"\n"
	    "#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=1,URI=\"iframes.m3u8\"\n"
	    "#EXT-X-STREAM-INF:BANDWIDTH=2000,CODECS=\"avc1.4d401f,mp4a.40.2\",AUDIO=\"a\"\n"
	    "hi.m3u8\n"
	    "#EXT-X-STREAM-INF:AVERAGE-BANDWIDTH=900,BANDWIDTH=1000,AUDIO=\"m\",RESOLUTION=640x360\n"
	    "\n# between\nmid.m3u8\n"
	    "#EXT-X-STREAM-INF: BANDWIDTH=500 , AUDIO=\"none\"\n"
	    "lo.m3u8\n"
	    "#EXT-X-STREAM-INF:BANDWIDTH=2000\n"
	    "hi2.m3u8\n"
	    "#EXT-X-STREAM-INF:BANDWIDTH=500\n"
	    "lo2.m3u8\n", &p) == 0);
	CHECK(p.master && p.n_variants == 5 && p.n_renditions == 5);
	if (p.n_variants != 5 || p.n_renditions != 5) {
		hls_playlist_free(&p);
		return;
	}
	CHECK(strcmp(p.variants[0].codecs, "avc1.4d401f,mp4a.40.2") == 0);
	CHECK(strcmp(p.variants[0].uri, BASE "hi.m3u8") == 0);
	CHECK(strcmp(p.variants[1].resolution, "640x360") == 0);
	CHECK(p.variants[3].audio == NULL && p.variants[3].codecs == NULL);
	CHECK(p.renditions[3].uri == NULL && p.renditions[2].uri == NULL);
	CHECK(strcmp(p.renditions[1].language, "de") == 0);
	r = hls_audio_for(&p, &p.variants[0]);
	CHECK(r == &p.renditions[1]);			/* DEFAULT=YES with a URI */
	CHECK(hls_audio_for(&p, &p.variants[1]) == NULL);	/* muxed */
	CHECK(hls_audio_for(&p, &p.variants[2]) == NULL);	/* no such group */
	CHECK(hls_audio_for(&p, &p.variants[3]) == NULL);	/* no AUDIO */
	free(p.renditions[1].uri);
	p.renditions[1].uri = NULL;
	CHECK(hls_audio_for(&p, &p.variants[0]) == &p.renditions[0]);

	CHECK(hls_choice_parse("best", &c) == 0);
	CHECK(hls_choose(&p, &c, idx) == 1 && idx[0] == 0);	/* ties: first */
	CHECK(hls_choice_parse("smallest", &c) == 0);
	CHECK(hls_choose(&p, &c, idx) == 1 && idx[0] == 2);
	CHECK(hls_choice_parse("1000", &c) == 0 && c.kind == HLS_BANDWIDTH);
	CHECK(hls_choose(&p, &c, idx) == 1 && idx[0] == 1);	/* exact */
	CHECK(hls_choice_parse("1999", &c) == 0);
	CHECK(hls_choose(&p, &c, idx) == 1 && idx[0] == 1);	/* highest not above */
	CHECK(hls_choice_parse("999999", &c) == 0);
	CHECK(hls_choose(&p, &c, idx) == 1 && idx[0] == 0);
	CHECK(hls_choice_parse("10", &c) == 0);
	CHECK(hls_choose(&p, &c, idx) == 1 && idx[0] == 2);	/* else the lowest */
	CHECK(hls_choice_parse("all", &c) == 0 && c.kind == HLS_ALL);
	CHECK(hls_choose(&p, &c, idx) == 5 && idx[4] == 4);
	hls_playlist_free(&p);

	CHECK(parse("#EXTM3U\n#EXT-X-TARGETDURATION:1\n", &p) == 0);
	CHECK(hls_choose(&p, &c, idx) == 0);
	hls_playlist_free(&p);

	CHECK(hls_choice_parse("", &c) == -1);
	CHECK(hls_choice_parse("Best", &c) == -1);
	CHECK(hls_choice_parse("-5", &c) == -1);
	CHECK(hls_choice_parse("12 ", &c) == -1);
	CHECK(hls_choice_parse("18446744073709551616", &c) == -1);
	CHECK(hls_choice_parse("18446744073709551615", &c) == 0 &&
	    c.bandwidth == UINT64_MAX);

	CHECK(FAILS("#EXTM3U\n#EXT-X-STREAM-INF:RESOLUTION=1x1\na.m3u8\n",
	    "line 2: EXT-X-STREAM-INF without BANDWIDTH"));
	CHECK(FAILS("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1.5\na.m3u8\n",
	    "line 2: bad BANDWIDTH"));
	CHECK(FAILS("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n",
	    "line 2: EXT-X-STREAM-INF without a URI"));
	CHECK(FAILS("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n"
	    "#EXT-X-STREAM-INF:BANDWIDTH=2\nb.m3u8\n",
	    "line 2: EXT-X-STREAM-INF without a URI"));
	CHECK(FAILS("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\na.m3u8\n"
	    "#EXTINF:2,\nseg.ts\n", "line 4: segment in a master playlist"));
	CHECK(FAILS("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nseg.ts\n"
	    "#EXT-X-STREAM-INF:BANDWIDTH=1\na.m3u8\n",
	    "line 5: EXT-X-STREAM-INF in a playlist that has segments"));
	CHECK(FAILS("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nftp://x.example/a.m3u8\n",
	    "line 3: URI scheme ftp"));
	CHECK(FAILS("#EXTM3U\n#EXT-X-MEDIA:GROUP-ID=\"a\",NAME=\"x\"\n",
	    "line 2: EXT-X-MEDIA without TYPE"));
}

static void
test_limits(void)
{
	size_t cap = 64u << 20, n, i;
	char *buf = malloc(cap);
	struct hls_playlist p;
	char err[256];

	if (buf == NULL)
		return;

	/* HLS_SEGMENTS_MAX segments parse, one more does not. */
	n = (size_t)snprintf(buf, cap, "#EXTM3U\n#EXT-X-TARGETDURATION:1\n");
	for (i = 0; i < HLS_SEGMENTS_MAX; i++) {
		memcpy(buf + n, "#EXTINF:1,\ns\n", 13);
		n += 13;
	}
	CHECK(n <= HLS_PLAYLIST_MAX);
	CHECK(hls_parse(buf, n, URL, &p, err, sizeof(err)) == 0);
	CHECK(p.n_segments == HLS_SEGMENTS_MAX &&
	    p.segments[HLS_SEGMENTS_MAX - 1].seq == HLS_SEGMENTS_MAX - 1);
	CHECK(p.total_duration == HLS_SEGMENTS_MAX);
	hls_playlist_free(&p);
	memcpy(buf + n, "#EXTINF:1,\ns\n", 13);
	CHECK(fails(buf, n + 13, "line 400004: more than 200000 segments"));

	/* 64 variants and renditions, not 65. */
	n = (size_t)snprintf(buf, cap, "#EXTM3U\n");
	for (i = 0; i < HLS_VARIANTS_MAX; i++)
		n += (size_t)snprintf(buf + n, cap - n,
		    "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",NAME=\"%zu\",URI=\"a%zu\"\n"
		    "#EXT-X-STREAM-INF:BANDWIDTH=%zu\nv%zu.m3u8\n", i, i, i, i);
	CHECK(hls_parse(buf, n, URL, &p, err, sizeof(err)) == 0);
	CHECK(p.n_variants == HLS_VARIANTS_MAX && p.n_renditions == HLS_RENDITIONS_MAX);
	hls_playlist_free(&p);
	snprintf(buf + n, cap - n, "#EXT-X-STREAM-INF:BANDWIDTH=1\nx.m3u8\n");
	CHECK(FAILS(buf, "line 194: more than 64 variants"));
	snprintf(buf + n, cap - n, "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",NAME=\"x\"\n");
	CHECK(FAILS(buf, "line 194: more than 64 renditions"));

	/* URIs up to 8 KiB, attribute lists up to 16 KiB. */
	n = (size_t)snprintf(buf, cap, "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n");
	memset(buf + n, 'u', HLS_URI_MAX + 1);
	buf[n + HLS_URI_MAX + 1] = '\0';
	CHECK(FAILS(buf, "line 4: URI longer than 8192 bytes"));
	buf[n + HLS_URI_MAX - 40] = '\0';	/* resolved it is longer */
	CHECK(parse(buf, &p) == 0 && p.n_segments == 1);
	hls_playlist_free(&p);
	buf[n + HLS_URI_MAX - 40] = 'u';
	buf[n + HLS_URI_MAX - 10] = '\0';
	CHECK(FAILS(buf, "line 4: URI longer than 8192 bytes once resolved"));
	n = (size_t)snprintf(buf, cap, "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,X=\"");
	memset(buf + n, 'x', HLS_ATTRS_MAX);
	snprintf(buf + n + HLS_ATTRS_MAX, cap - n - HLS_ATTRS_MAX, "\"\na\n");
	CHECK(FAILS(buf, "line 2: EXT-X-STREAM-INF attribute list longer than 16384"));

	/* The caller caps the body; the parser refuses more too. */
	memset(buf, '\n', HLS_PLAYLIST_MAX + 1);
	memcpy(buf, "#EXTM3U\n", 8);
	CHECK(fails(buf, HLS_PLAYLIST_MAX + 1, "larger than"));
	free(buf);
}

static void
test_hostile(void)
{
	struct hls_playlist p;
	char err[8];

	CHECK(FAILS("", "line 1: no #EXTM3U"));
	CHECK(FAILS("\n\n#EXTINF:1,\na.ts\n", "line 3: no #EXTM3U"));
	CHECK(FAILS("<html><body>", "line 1: no #EXTM3U"));
	CHECK(FAILS("#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n",
	    "line 3: EXTINF without a URI"));
	CHECK(FAILS("#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n#EXTINF:1,\na.ts\n",
	    "line 3: EXTINF without a URI"));
	CHECK(FAILS("#EXTM3U\n#EXT-X-TARGETDURATION:1\na.ts\n",
	    "line 3: URI without EXTINF"));
	CHECK(FAILS("#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:-1,\na.ts\n",
	    "line 3: bad EXTINF"));
	CHECK(FAILS("#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:nan,\na.ts\n",
	    "line 3: bad EXTINF"));
	CHECK(FAILS("#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1e308,\na.ts\n",
	    "line 3: bad EXTINF"));
	CHECK(FAILS("#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:9999999999999999,\na.ts\n",
	    "line 3: bad EXTINF"));
	CHECK(FAILS("#EXTM3U\n#EXTINF:1,\na.ts\n",
	    "line 3: media playlist without EXT-X-TARGETDURATION"));
	CHECK(FAILS("#EXTM3U\n#EXT-X-TARGETDURATION:0\n", "line 2: bad EXT-X-TARGETDURATION"));
	CHECK(FAILS("#EXTM3U\n#EXT-X-TARGETDURATION\n", "line 2: bad EXT-X-TARGETDURATION"));
	CHECK(FAILS("#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\na.ts\n"
	    "#EXT-X-MEDIA-SEQUENCE:4\n", "line 5: EXT-X-MEDIA-SEQUENCE after"));
	CHECK(FAILS("#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:18446744073709551616\n",
	    "line 2: bad EXT-X-MEDIA-SEQUENCE"));
	CHECK(FAILS("#EXTM3U\n#EXT-X-TARGETDURATION:1\n"
	    "#EXT-X-MEDIA-SEQUENCE:18446744073709551615\n"
	    "#EXTINF:1,\na.ts\n#EXTINF:1,\nb.ts\n", "line 7: media sequence number overflows"));
	{
		static const char nul[] = "#EXTM3U\n#EXT-X-TARGETDURATION:1\n"
		    "#EXTINF:1,\na\0.ts\n";

		CHECK(fails(nul, sizeof(nul) - 1, "line 4: NUL byte"));
	}
	CHECK(FAILS("#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nfile:///etc/passwd\n",
	    "line 4: URI scheme file: is not http or https"));
	CHECK(FAILS("#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\ndata:video/mp2t;base64,R0\n",
	    "line 4: URI scheme data:"));
	CHECK(FAILS("#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nhttp://[::1\n",
	    "line 4: bad URI"));

	/* Attribute lists (RFC 8216 4.2). */
	CHECK(FAILS("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,CODECS=\"a,b\na.m3u8\n",
	    "line 2: malformed EXT-X-STREAM-INF attribute list"));
	CHECK(FAILS("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,BANDWIDTH=2\na.m3u8\n",
	    "line 2: EXT-X-STREAM-INF has BANDWIDTH twice"));
	CHECK(FAILS("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH\na.m3u8\n",
	    "line 2: malformed"));
	CHECK(FAILS("#EXTM3U\n#EXT-X-STREAM-INF:=1\na.m3u8\n", "line 2: malformed"));
	CHECK(FAILS("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=,X=1\na.m3u8\n",
	    "line 2: malformed"));
	CHECK(FAILS("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\"2\"\na.m3u8\n",
	    "line 2: malformed"));
	CHECK(FAILS("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,CODECS=\"a\"b\na.m3u8\n",
	    "line 2: malformed"));
	CHECK(FAILS("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,,X=2\na.m3u8\n",
	    "line 2: malformed"));
	CHECK(FAILS("#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-KEY:METHOD=AES-128,URI=\"\"\n",
	    "line 3: empty URI"));
	/* Unknown duplicates are ignored, a trailing comma tolerated, and
	 * a quoted value holds commas and '='. */
	CHECK(parse("#EXTM3U\n#EXT-X-STREAM-INF:X=1,X=2,BANDWIDTH=7,"
	    "CODECS=\"a=1,b\",\na.m3u8\n", &p) == 0);
	CHECK(p.n_variants == 1 && p.variants[0].bandwidth == 7 &&
	    strcmp(p.variants[0].codecs, "a=1,b") == 0);
	hls_playlist_free(&p);

	/* A short error buffer is still a NUL-terminated line. */
	CHECK(hls_parse("x", 1, URL, &p, err, sizeof(err)) == -1 &&
	    strlen(err) < sizeof(err));
	CHECK(hls_parse("#EXTM3U\n", 8, "ftp://x.example/a.m3u8", &p, err,
	    sizeof(err)) == -1);
	CHECK(hls_parse("#EXTM3U\n", 8, "not a url", &p, err, sizeof(err)) == -1);
	CHECK(hls_parse("#EXTM3U\n", 8, NULL, &p, NULL, 0) == -1);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	if (system("command -v ffmpeg >/dev/null") != 0) {
		fprintf(stderr, "ffmpeg is not installed\n");
		CHECK(!"ffmpeg");
	} else {
		test_ffmpeg_ts();
		test_ffmpeg_fmp4();
		test_ffmpeg_single_file();
		test_ffmpeg_aes();
		test_ffmpeg_master();
	}
	test_tolerant();
	test_plain_names();
	test_live_and_iv();
	test_keys();
	test_ranges();
	test_master();
	test_limits();
	test_hostile();
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
	}
	CHECK_DONE();
}

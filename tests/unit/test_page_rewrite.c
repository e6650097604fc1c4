/*
 * The page rewriter: a medium's URL, quoted either way or bare, with
 * '&' written as "&amp;", is replaced by its item name; the same URL
 * inside a longer value is not; <base href> becomes "./"; the output is
 * the same however the page is cut into pieces.
 */
#include <stdlib.h>
#include <string.h>

#include "page_rewrite.h"
#include "check.h"

struct buf {
	char p[8192];
	size_t len;
};

static int
out(void *arg, const void *p, size_t n)
{
	struct buf *b = arg;

	if (b->len + n >= sizeof(b->p))
		return -1;
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

/* IN rewritten, fed in pieces of STEP bytes (0: at once), into B. */
static int
rewrite(const char *in, size_t step, struct buf *b)
{
	struct page_rewrite *rw = page_rewrite_new(out, b);
	size_t len = strlen(in), at = 0;
	int rc = 0;

	memset(b, 0, sizeof(*b));
	if (rw == NULL ||
	    page_rewrite_add(rw, "media/clip.mp4", "clip.mp4") == -1 ||
	    page_rewrite_add(rw, "song.mp3?a=1&b=2", "song.mp3") == -1 ||
	    page_rewrite_add(rw, "/media/", "./") == -1 ||
	    page_rewrite_add(rw, "", "never") == -1) {
		page_rewrite_free(rw);
		return -1;
	}
	while (rc == 0 && at < len) {
		size_t n = step == 0 || len - at < step ? len - at : step;
		rc = page_rewrite_feed(rw, (const unsigned char *)in + at, n);
		at += n;
	}
	if (rc == 0)
		rc = page_rewrite_finish(rw);
	page_rewrite_free(rw);
	return rc;
}

int
main(void)
{
	static const char *in =
	    "<html><head><base href=\"/media/\"></head><body>\n"
	    "<video src=\"media/clip.mp4\"></video>\n"
	    "<source src='media/clip.mp4' type=video/mp4>\n"
	    "<video src=media/clip.mp4></video><a href=media/clip.mp4 id=x>bare</a>\n"
	    "<a href=\"song.mp3?a=1&amp;b=2\">entity</a> <a href=\"song.mp3?a=1&b=2\">raw</a>\n"
	    "<a href=\"xmedia/clip.mp4\">longer</a> <a href=\"media/clip.mp4.bak\">longer</a>\n"
	    "<p>media/clip.mp4 in text stays</p>\"media/clip.mp4";
	static const char *want =
	    "<html><head><base href=\"./\"></head><body>\n"
	    "<video src=\"clip.mp4\"></video>\n"
	    "<source src='clip.mp4' type=video/mp4>\n"
	    "<video src=clip.mp4></video><a href=clip.mp4 id=x>bare</a>\n"
	    "<a href=\"song.mp3\">entity</a> <a href=\"song.mp3\">raw</a>\n"
	    "<a href=\"xmedia/clip.mp4\">longer</a> <a href=\"media/clip.mp4.bak\">longer</a>\n"
	    "<p>media/clip.mp4 in text stays</p>\"media/clip.mp4";
	struct buf whole, cut;
	size_t step;

	CHECK(rewrite(in, 0, &whole) == 0);
	if (strcmp(whole.p, want) != 0)
		fprintf(stderr, "got:\n%s\nwant:\n%s\n", whole.p, want);
	CHECK(strcmp(whole.p, want) == 0);
	for (step = 1; step < 40; step++) {
		CHECK(rewrite(in, step, &cut) == 0);
		CHECK(cut.len == whole.len && memcmp(cut.p, whole.p, cut.len) == 0);
	}
	/* Nothing to replace: the bytes as they were. */
	CHECK(rewrite("<p>no media here</p>", 3, &cut) == 0);
	CHECK(strcmp(cut.p, "<p>no media here</p>") == 0);
	CHECK(rewrite("", 0, &cut) == 0 && cut.len == 0);
	CHECK_DONE();
}

/*
 * The origin's response head as the crawler reads it: Content-Disposition
 * file names (RFC 6266, filename* per RFC 8187 before filename), made
 * into item names that cannot escape anything; Content-Type reduced to
 * type/subtype and its charset; a name's width on a terminal.
 */
#include <stdlib.h>
#include <string.h>

#include "crawl_headers.h"
#include "names.h"
#include "check.h"

#define XINNU "\xe6\x96\xb0\xe5\xa5\xb4\xe9\x9a\xb6"	/* 新奴隶 */

/* DISP's file name is WANT (NULL: none). */
static int
disp(const char *v, const char *want)
{
	char out[256];
	int r = crawl_headers_disposition(v, strlen(v), out, sizeof(out));

	if (want == NULL ? r != -1 : r != 0 || strcmp(out, want) != 0) {
		fprintf(stderr, "disposition [%s]: %d '%s', want '%s'\n", v, r,
		    r == 0 ? out : "", want != NULL ? want : "(none)");
		return 0;
	}
	return 1;
}

static int
type(const char *v, const char *want)
{
	char out[128];
	int r = crawl_headers_type(v, out, sizeof(out));

	if (want == NULL ? r != -1 : r != 0 || strcmp(out, want) != 0) {
		fprintf(stderr, "type [%s]: %d '%s', want '%s'\n", v, r,
		    r == 0 ? out : "", want != NULL ? want : "(none)");
		return 0;
	}
	return 1;
}

static int
suggested(const char *s, const char *want)
{
	char *got = name_from_suggested(s);
	int ok = want == NULL ? got == NULL : got != NULL && strcmp(got, want) == 0;

	if (!ok)
		fprintf(stderr, "name_from_suggested [%s]: '%s', want '%s'\n", s,
		    got != NULL ? got : "(none)", want != NULL ? want : "(none)");
	free(got);
	return ok;
}

static void
test_disposition(void)
{
	/* filename* wins over filename, in either order. */
	CHECK(disp("attachment; filename=\"x.mp3\"; filename*=UTF-8''%E6%96%B0%E5%A5%B4%E9%9A%B6.mp3",
	    XINNU ".mp3"));
	CHECK(disp("attachment; filename*=utf-8''%E6%96%B0%E5%A5%B4%E9%9A%B6.mp3; filename=x.mp3",
	    XINNU ".mp3"));
	CHECK(disp("attachment; filename*=UTF-8'zh'a%20b.txt", "a b.txt"));
	CHECK(disp("inline; filename=\"song.mp3\"", "song.mp3"));
	CHECK(disp("attachment;filename=song.mp3", "song.mp3"));
	CHECK(disp("ATTACHMENT ; FILENAME = \"a\\\"b\\\\c\" ; size=3", "a\"b\\c"));
	/* ISO-8859-1 becomes UTF-8. */
	CHECK(disp("attachment; filename*=iso-8859-1'en'%A3%20rates.txt", "\xc2\xa3 rates.txt"));
	/* A filename* that cannot be used leaves filename. */
	CHECK(disp("attachment; filename*=KOI8-R''%E1; filename=k.txt", "k.txt"));
	CHECK(disp("attachment; filename*=UTF-8''%ZZ.txt; filename=k.txt", "k.txt"));
	CHECK(disp("attachment; filename*=UTF-8''a%00b; filename=k.txt", "k.txt"));
	CHECK(disp("attachment; filename*=UTF-8''%C0%AE%C0%AE; filename=k.txt", "k.txt"));
	CHECK(disp("attachment; filename*=UTF-8''a b; filename=k.txt", NULL));
	CHECK(disp("attachment; filename*=UTF-8''", NULL));
	/* Raw UTF-8 in a quoted filename is taken (servers send it); in a
	 * token it would cut the name, so the parameter is dropped. */
	CHECK(disp("attachment; filename=\"" XINNU ".mp3\"", XINNU ".mp3"));
	CHECK(disp("attachment; filename=a" XINNU ".mp3", NULL));
	/* Malformed or empty: no name. */
	CHECK(disp("", NULL));
	CHECK(disp("attachment", NULL));
	CHECK(disp("; filename=a.txt", NULL));
	CHECK(disp("attachment; filename=\"a.txt", NULL));
	CHECK(disp("attachment; filename=\"\"", NULL));
	CHECK(disp("attachment; filename", NULL));
	CHECK(disp("attachment; filename=", NULL));
	CHECK(disp("attachment; filename= ", NULL));
	CHECK(type("text/plain; charset=", "text/plain"));
	/* The first filename counts. */
	CHECK(disp("attachment; filename=a.txt; filename=b.txt", "a.txt"));
	{
		char big[2000], out[256];
		memcpy(big, "attachment; filename=", 21);
		memset(big + 21, 'a', 300);
		big[321] = '\0';
		CHECK(crawl_headers_disposition(big, strlen(big), out, sizeof(out)) == -1);
	}
	/* What the parser hands on is still hostile: made safe here. */
	CHECK(disp("attachment; filename=\"../../etc/passwd\"", "../../etc/passwd"));
	CHECK(suggested("../../etc/passwd", "passwd"));
	CHECK(suggested("..\\..\\boot.ini", "boot.ini"));
	CHECK(suggested("/", NULL));
	CHECK(suggested("..", NULL));
	CHECK(suggested("a/..", NULL));
	CHECK(suggested(".hidden", NULL));
	CHECK(suggested("", NULL));
	CHECK(suggested("a\x1b[31mb", NULL));
	CHECK(suggested("\xc2\x85x", NULL));
	CHECK(suggested("\xff.txt", NULL));
	CHECK(suggested(XINNU ".mp3", XINNU ".mp3"));
}

static void
test_line(void)
{
	struct crawl_headers h;
	static const char l1[] = "Content-Disposition: attachment; "
	    "filename*=UTF-8''%E6%96%B0.mp3\r\n";
	static const char l2[] = "content-disposition:inline\r\n";

	crawl_headers_reset(&h);
	crawl_headers_line(&h, l1, sizeof(l1) - 1);
	CHECK(strcmp(h.filename, "\xe6\x96\xb0.mp3") == 0);
	crawl_headers_line(&h, "HTTP/1.1 200 OK\r\n", 17);
	CHECK(h.filename[0] == '\0');
	crawl_headers_line(&h, l1, sizeof(l1) - 1);
	crawl_headers_line(&h, l2, sizeof(l2) - 1);
	CHECK(h.filename[0] == '\0');
}

static void
test_type(void)
{
	CHECK(type("text/plain; charset=UTF-8", "text/plain; charset=utf-8"));
	CHECK(type("Text/HTML;Charset=\"ISO-8859-1\"", "text/html; charset=iso-8859-1"));
	CHECK(type("audio/mpeg; foo=bar; charset=utf-8; x=\"y;z\"", "audio/mpeg; charset=utf-8"));
	CHECK(type("video/mp4; codecs=avc1", "video/mp4"));
	CHECK(type("  application/octet-stream  ", "application/octet-stream"));
	CHECK(type("text/plain; charset=", "text/plain"));
	CHECK(type("text/plain; charset=\"a b\"", "text/plain"));
	CHECK(type("text/plain; charset=utf-8; charset=latin1", "text/plain; charset=utf-8"));
	CHECK(type("", NULL));
	CHECK(type("text", NULL));
	CHECK(type("text/", NULL));
	CHECK(type("/plain", NULL));
	CHECK(type("t\xc3\xa9xt/plain", NULL));
}

static void
test_width(void)
{
	CHECK(name_display_width("") == 0);
	CHECK(name_display_width("abc.mp3") == 7);
	CHECK(name_display_width(XINNU ".mp3") == 10);
	CHECK(name_display_width("caf\xc3\xa9") == 4);
	CHECK(name_display_width("cafe\xcc\x81") == 4);	/* a combining accent */
	CHECK(name_display_width("\xef\xbc\xa1") == 2);		/* fullwidth A */
}

int
main(void)
{
	test_disposition();
	test_line();
	test_type();
	test_width();
	CHECK_DONE();
}

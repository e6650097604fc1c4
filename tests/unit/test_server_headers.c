/*
 * Content-Disposition values (server_headers_disposition): RFC 8187
 * percent-encoding of the UTF-8 name, the ASCII fallback that keeps the
 * extension and decodes back to the name, and refusal when the buffer
 * is too small.
 */
#include <stdio.h>
#include <string.h>

#include "names.h"
#include "server_headers.h"
#include "check.h"

static int
disp_is(const char *name, const char *want)
{
	char out[1200];

	if (server_headers_disposition(out, sizeof(out), name) != 0) {
		fprintf(stderr, "%s: refused\n", name);
		return 0;
	}
	if (strcmp(out, want) != 0) {
		fprintf(stderr, "%s:\n  got  %s\n  want %s\n", name, out, want);
		return 0;
	}
	return 1;
}

static void
test_names(void)
{
	CHECK(disp_is("statement.txt",
	    "inline; filename=\"statement.txt\"; filename*=UTF-8''statement.txt"));
	/* Chinese: every byte encoded, in both; the extension stays. */
	CHECK(disp_is("新奴隶.mp3",
	    "inline; filename=\"%E6%96%B0%E5%A5%B4%E9%9A%B6.mp3\"; "
	    "filename*=UTF-8''%E6%96%B0%E5%A5%B4%E9%9A%B6.mp3"));
	/* Mixed: the ASCII parts stay as they are in the fallback. */
	CHECK(disp_is("四月之声 (live).mp4",
	    "inline; filename=\"%E5%9B%9B%E6%9C%88%E4%B9%8B%E5%A3%B0 (live).mp4\"; "
	    "filename*=UTF-8''%E5%9B%9B%E6%9C%88%E4%B9%8B%E5%A3%B0%20%28live%29.mp4"));
	/* Quotes, backslashes (not an item name, but never trusted) and '%'
	 * cannot end the quoted fallback or be mistaken for an escape. */
	CHECK(disp_is("a\"b\\c%41;d.txt",
	    "inline; filename=\"a%22b%5Cc%2541;d.txt\"; "
	    "filename*=UTF-8''a%22b%5Cc%2541%3Bd.txt"));
	/* attr-chars pass as they are; everything else is encoded. */
	CHECK(disp_is("!#$&+-.^_`|~AZaz09",
	    "inline; filename=\"!#$&+-.^_`|~AZaz09\"; "
	    "filename*=UTF-8''!#$&+-.^_`|~AZaz09"));
	CHECK(disp_is("a b'c*d=e,f.txt",
	    "inline; filename=\"a b'c*d=e,f.txt\"; "
	    "filename*=UTF-8''a%20b%27c%2Ad%3De%2Cf.txt"));
	/* A 4-byte character (outside the BMP). */
	CHECK(disp_is("\xf0\x9f\x94\xa5.webm",
	    "inline; filename=\"%F0%9F%94%A5.webm\"; filename*=UTF-8''%F0%9F%94%A5.webm"));
}

static void
test_limits(void)
{
	char name[NAME_MAX_BYTES + 1], out[1600], small[48];

	/* The longest item name, every byte encoded in both: 1,568 bytes
	 * and the NUL fit; a byte less is refused. */
	memset(name, '%', NAME_MAX_BYTES);
	name[NAME_MAX_BYTES] = '\0';
	CHECK(server_headers_disposition(out, 1569, name) == 0);
	CHECK(strlen(out) == 1568);
	CHECK(server_headers_disposition(out, 1568, name) == -1);
	/* Too small: refused, never cut off. */
	CHECK(server_headers_disposition(small, sizeof(small), "statement.txt") == -1);
	CHECK(server_headers_disposition(small, 10, "a") == -1);
	CHECK(server_headers_disposition(small, 40, "a") == -1);	/* 40 and the NUL */
	CHECK(server_headers_disposition(small, 41, "a") == 0);
	CHECK(strcmp(small, "inline; filename=\"a\"; filename*=UTF-8''a") == 0);
}

int
main(void)
{
	test_names();
	test_limits();
	CHECK_DONE();
}

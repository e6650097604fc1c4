#include <string.h>

#include "names.h"
#include "check.h"

static int
ok(const char *s)
{
	return name_check(s, strlen(s)) == NULL;
}

int
main(void)
{
	char longname[300];

	CHECK(ok("voice-of-april.mp4"));
	CHECK(ok("Голос апреля.mp4"));
	CHECK(ok("a b (1) <script>\".txt"));
	CHECK(!ok(""));
	CHECK(!ok(".hidden"));
	CHECK(!ok(".."));
	CHECK(!ok("a/b"));
	CHECK(!ok("a\\b"));
	CHECK(!ok("tab\there"));
	CHECK(!ok("del\x7f"));
	CHECK(!ok("c1\xc2\x85"));
	CHECK(!ok("bad\xff"));
	CHECK(!ok("overlong\xc0\xae"));
	CHECK(!ok("overlong3\xe0\x80\xae"));
	CHECK(!ok("surrogate\xed\xa0\x80"));
	CHECK(!ok("toobig\xf4\x90\x80\x80"));
	CHECK(!ok("trunc\xe2\x82"));
	CHECK(name_check("nul\0x", 5) != NULL);
	memset(longname, 'a', sizeof(longname));
	CHECK(name_check(longname, 255) == NULL);
	CHECK(name_check(longname, 256) != NULL);

	CHECK(name_is_sha256_hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 64));
	CHECK(!name_is_sha256_hex("E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", 64));
	CHECK(!name_is_sha256_hex("e3b0", 4));

	CHECK(strcmp(mime_from_name("a.mp4"), "video/mp4") == 0);
	CHECK(strcmp(mime_from_name("A.OGG"), "audio/ogg") == 0);
	CHECK(strncmp(mime_from_name("x.txt"), "text/plain", 10) == 0);
	CHECK(strcmp(mime_from_name("noext"), "application/octet-stream") == 0);
	CHECK(strcmp(mime_from_name("dot."), "application/octet-stream") == 0);
	CHECK_DONE();
}

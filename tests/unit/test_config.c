/*
 * Unit test of the config parser: a full config with every section of
 * emberd.conf(5), relative paths, one config per kind of error (each message
 * must name the file and the line), and the value parsers on their own.
 * Prints one line per failed check; exits 1 if any failed.
 */

#include "config.h"
#include "config_values.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef EMBERD_VERSION
#define EMBERD_VERSION "dev"
#endif

static int	 checks, failures;
static char	 tmpdir[1024];

#define CHECK(cond) test_check((cond), #cond, __LINE__)
#define CHECK_STR(a, b) test_check_str((a), (b), #a, __LINE__)

static void
test_check(int ok, const char *what, int line)
{
	checks++;
	if (!ok) {
		failures++;
		printf("FAIL test_config.c:%d: %s\n", line, what);
	}
}

static void
test_check_str(const char *got, const char *want, const char *what, int line)
{
	checks++;
	if (got == NULL || strcmp(got, want) != 0) {
		failures++;
		printf("FAIL test_config.c:%d: %s is '%s', want '%s'\n", line,
		    what, got ? got : "(null)", want);
	}
}

static void
test_write(const char *name, const char *text)
{
	char	 path[PATH_MAX];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	if ((f = fopen(path, "w")) == NULL || fputs(text, f) == EOF ||
	    fclose(f) != 0) {
		printf("FAIL cannot write %s: %s\n", path, strerror(errno));
		exit(1);
	}
}

static char *
test_path(const char *name)
{
	static char	 path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return path;
}

static const char full_config[] =
    "; emberd test config\n"
    "[mirror]\n"
    "name  = April archive\n"
    "store = /var/lib/emberd\n"
    "key   = publisher.key          ; secret key: this mirror publishes\n"
    "url   = https://mirror.example ; this mirror's public base URL\n"
    "user  = emberd                 ; drop to this user\n"
    "allow_root = yes               ; tests, containers\n"
    "log_addresses  = on            ; readers' addresses\n"
    "scrub_interval = 2d            ; background re-hash\n"
    "\n"
    "[https]\n"
    "listen = 0.0.0.0:8443          ; may repeat\n"
    "listen = [::]:8443\n"
    "cert   = tls/cert.pem          ; relative to the config\n"
    "key    = tls/key.pem\n"
    "\n"
    "[http]                         ; plain listener\n"
    "listen = 127.0.0.1:8080        ; onion service\n"
    "\n"
    "[crawl]\n"
    "interval    = 5h\n"
    "concurrency = 16\n"
    "per_host    = 3\n"
    "proxy       = socks5h://127.0.0.1:9050\n"
    "max_size    = 512M\n"
    "timeout     = 90\n"
    "user_agent  = emberd/test (+https://example.org/)\n"
    "\n"
    "[source voice-of-april]\n"
    "url    = https://origin.example/voice-of-april.mp4   ; may repeat\n"
    "url    = http://fallback.example/voa.mp4?x=1;y=2\n"
    "sha256 = 9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08\n"
    "name   = voice-of-april.mp4    ; optional\n"
    "type   = video/mp4             ; optional\n"
    "proxy  = http://proxy.example:3128\n"
    "\n"
    "  [source song.2]\n"
    "  url = https://origin.example/song.ogg\n"
    "  name = song.ogg              ; each source has its own keys\n"
    "\n"
    "[follow]                       ; follower mode\n"
    "pubkey   = RWQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QTaLn73Y7GFO3\n"
    "peer     = https://mirror-a.example/                 ; may repeat\n"
    "peer     = http://mirror-b.example:8080/\n"
    "interval = 1h\n"
    "tls_verify = no                ; self-signed peers\n";

static void
test_full(void)
{
	struct config	 cfg;
	char		 err[512], want[PATH_MAX + 64];
	int		 r;

	test_write("tls/cert.pem", "cert\n");
	test_write("tls/key.pem", "key\n");
	test_write("full.conf", full_config);

	r = config_load(test_path("full.conf"), &cfg, err, sizeof(err));
	CHECK(r == 0);
	if (r != 0) {
		printf("FAIL full config: %s\n", err);
		return;
	}
	CHECK_STR(cfg.path, test_path("full.conf"));
	CHECK_STR(cfg.dir, tmpdir);

	CHECK_STR(cfg.name, "April archive");
	CHECK_STR(cfg.store, "/var/lib/emberd");
	snprintf(want, sizeof(want), "%s/publisher.key", tmpdir);
	CHECK_STR(cfg.key, want);
	CHECK_STR(cfg.url, "https://mirror.example/");
	CHECK_STR(cfg.user, "emberd");
	CHECK(cfg.allow_root == 1);
	CHECK(cfg.log_addresses == 1);
	CHECK(cfg.scrub_interval == 2 * 86400);
	CHECK(cfg.n_https_listen == 2);
	if (cfg.n_https_listen == 2) {
		CHECK_STR(cfg.https_listen[0].host, "0.0.0.0");
		CHECK(cfg.https_listen[0].port == 8443);
		CHECK_STR(cfg.https_listen[0].text, "0.0.0.0:8443");
		CHECK_STR(cfg.https_listen[1].host, "::");
		CHECK(cfg.https_listen[1].port == 8443);
		CHECK_STR(cfg.https_listen[1].text, "[::]:8443");
	}
	snprintf(want, sizeof(want), "%s/tls/cert.pem", tmpdir);
	CHECK_STR(cfg.https_cert, want);
	snprintf(want, sizeof(want), "%s/tls/key.pem", tmpdir);
	CHECK_STR(cfg.https_key, want);

	CHECK(cfg.n_http_listen == 1);
	if (cfg.n_http_listen == 1) {
		CHECK_STR(cfg.http_listen[0].host, "127.0.0.1");
		CHECK(cfg.http_listen[0].port == 8080);
	}

	CHECK(cfg.crawl_interval == 5 * 3600);
	CHECK(cfg.crawl_concurrency == 16);
	CHECK(cfg.crawl_per_host == 3);
	CHECK_STR(cfg.crawl_proxy, "socks5h://127.0.0.1:9050");
	CHECK(cfg.crawl_max_size == (uint64_t)512 << 20);
	CHECK(cfg.crawl_timeout == 90);
	CHECK_STR(cfg.crawl_user_agent, "emberd/test (+https://example.org/)");

	CHECK(cfg.n_sources == 2);
	if (cfg.n_sources == 2) {
		CHECK_STR(cfg.sources[0].id, "voice-of-april");
		CHECK(cfg.sources[0].line == 30);
		CHECK(cfg.sources[0].n_urls == 2);
		if (cfg.sources[0].n_urls == 2) {
			CHECK_STR(cfg.sources[0].urls[0],
			    "https://origin.example/voice-of-april.mp4");
			/* ';' after a non-blank is part of the value */
			CHECK_STR(cfg.sources[0].urls[1],
			    "http://fallback.example/voa.mp4?x=1;y=2");
		}
		CHECK_STR(cfg.sources[0].sha256, "9f86d081884c7d659a2feaa0c55"
		    "ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
		CHECK_STR(cfg.sources[0].name, "voice-of-april.mp4");
		CHECK_STR(cfg.sources[0].type, "video/mp4");
		CHECK_STR(cfg.sources[0].proxy, "http://proxy.example:3128");

		CHECK_STR(cfg.sources[1].id, "song.2");
		CHECK(cfg.sources[1].line == 38);
		CHECK(cfg.sources[1].n_urls == 1);
		CHECK(cfg.sources[1].sha256 == NULL);
		CHECK_STR(cfg.sources[1].name, "song.ogg");
		CHECK(cfg.sources[1].type == NULL);
		CHECK(cfg.sources[1].proxy == NULL);
	}

	CHECK(cfg.follow == 1);
	CHECK_STR(cfg.follow_pubkey,
	    "RWQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QTaLn73Y7GFO3");
	CHECK(cfg.n_follow_peers == 2);
	if (cfg.n_follow_peers == 2) {
		CHECK_STR(cfg.follow_peers[0], "https://mirror-a.example/");
		CHECK_STR(cfg.follow_peers[1], "http://mirror-b.example:8080/");
	}
	CHECK(cfg.follow_interval == 3600);
	CHECK(cfg.follow_tls_verify == 0);

	config_free(&cfg);
	CHECK(cfg.path == NULL && cfg.sources == NULL);
	config_free(&cfg);	/* twice is harmless */
}

/* Ids in any script, and source_urls' values. */
static void
test_names_and_urls(void)
{
	static const struct {
		const char *mode;
		enum source_urls want;
	} modes[] = {
		{ "", SOURCE_URLS_ORIGIN },
		{ "source_urls = origin\n", SOURCE_URLS_ORIGIN },
		{ "source_urls = full\n", SOURCE_URLS_FULL },
		{ "source_urls = none\n", SOURCE_URLS_NONE },
	};
	struct config	 cfg;
	char		 err[512], text[256];
	size_t		 i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		snprintf(text, sizeof(text), "[mirror]\n%s", modes[i].mode);
		CHECK(config_load_string(text, "t.conf", tmpdir, &cfg, err,
		    sizeof(err)) == 0);
		CHECK(cfg.source_urls == modes[i].want);
		config_free(&cfg);
	}
	CHECK(config_load_string("[mirror]\nlanguages = zh-Hans, ZH-HANT ,en\n",
	    "t.conf", tmpdir, &cfg, err, sizeof(err)) == 0);
	CHECK(cfg.n_languages == 3 &&
	    strcmp(index_langs[cfg.languages[0]]->tag, "zh-Hans") == 0 &&
	    strcmp(index_langs[cfg.languages[1]]->tag, "zh-Hant") == 0 &&
	    strcmp(index_langs[cfg.languages[2]]->tag, "en") == 0);
	config_free(&cfg);
	/* Han, Latin with an accent, Devanagari with its combining marks. */
	CHECK(config_load_string("[source \xe5\x9b\x9b\xe6\x9c\x88\xe4\xb9"
	    "\x8b\xe5\xa3\xb0]\nurl = http://o/a%20b.mp3\n"
	    "[source caf\xc3\xa9_2.x-y]\nurl = http://o/\n"
	    "[source \xe0\xa4\x95\xe0\xa5\x8d\xe0\xa4\xb7]\nurl = http://o/\n",
	    "t.conf", tmpdir, &cfg, err, sizeof(err)) == 0);
	CHECK(cfg.n_sources == 3);
	/* The index page's languages: all five by default, English first. */
	CHECK(cfg.n_languages == 5 && cfg.languages[0] == 0 &&
	    cfg.languages[4] == 4);
	if (cfg.n_sources == 3) {
		CHECK_STR(cfg.sources[0].id, "\xe5\x9b\x9b\xe6\x9c\x88\xe4\xb9"
		    "\x8b\xe5\xa3\xb0");
		CHECK_STR(cfg.sources[1].id, "caf\xc3\xa9_2.x-y");
	}
	config_free(&cfg);
}

static void
test_defaults(void)
{
	struct config	 cfg;
	char		 err[512], want[PATH_MAX + 64];

	/* An empty config is valid: every key has a default. */
	CHECK(config_load_string("", "empty.conf", tmpdir, &cfg, err,
	    sizeof(err)) == 0);
	CHECK_STR(cfg.path, "empty.conf");
	CHECK_STR(cfg.dir, tmpdir);
	CHECK_STR(cfg.name, "emberd mirror");
	snprintf(want, sizeof(want), "%s/store", tmpdir);
	CHECK_STR(cfg.store, want);
	snprintf(want, sizeof(want), "%s/publisher.key", tmpdir);
	CHECK_STR(cfg.key, want);
	CHECK(cfg.url == NULL && cfg.user == NULL);
	CHECK(cfg.allow_root == 0 && cfg.log_addresses == 0);
	CHECK(cfg.scrub_interval == 86400);
	CHECK(cfg.expires == 30 * 86400);
	CHECK(cfg.min_free == (uint64_t)1 << 30);
	CHECK(cfg.n_https_listen == 0 && cfg.https_cert == NULL &&
	    cfg.https_key == NULL && cfg.n_http_listen == 0);
	CHECK(cfg.crawl_interval == 6 * 3600);
	CHECK(cfg.crawl_concurrency == 8);
	CHECK(cfg.crawl_per_host == 2);
	CHECK(cfg.crawl_proxy == NULL);
	CHECK(cfg.crawl_max_size == (uint64_t)4 << 30);
	CHECK(cfg.crawl_timeout == 1800);
	CHECK_STR(cfg.crawl_user_agent, "emberd/" EMBERD_VERSION);
	CHECK(cfg.n_sources == 0);
	CHECK(cfg.follow == 0 && cfg.follow_pubkey == NULL &&
	    cfg.n_follow_peers == 0);
	CHECK(cfg.follow_interval == 3600);
	CHECK(cfg.follow_tls_verify == 1);
	CHECK(cfg.https_workers == 1 && cfg.http_workers == 1);
	config_free(&cfg);

	/* workers: auto (0: counted at run) or a number, per scheme. */
	CHECK(config_load_string("[https]\nworkers = auto\n[http]\nworkers = 3\n",
	    "x.conf", tmpdir, &cfg, err, sizeof(err)) == 0);
	CHECK(cfg.https_workers == 0 && cfg.http_workers == 3);
	config_free(&cfg);

	/* Trailing '/' of the folder dropped; URL with '/' kept as is. */
	snprintf(want, sizeof(want), "%s/", tmpdir);
	CHECK(config_load_string("[mirror]\nurl = http://m.example/a/\n",
	    "x.conf", want, &cfg, err, sizeof(err)) == 0);
	CHECK_STR(cfg.dir, tmpdir);
	CHECK_STR(cfg.url, "http://m.example/a/");
	config_free(&cfg);

	/* min_free = 0 turns the check off (where max_size = 0 is refused). */
	CHECK(config_load_string("[mirror]\nmin_free = 0\n", "x.conf", tmpdir, &cfg, err,
	    sizeof(err)) == 0);
	CHECK(cfg.min_free == 0);
	config_free(&cfg);
	CHECK(config_load_string("[mirror]\nmin_free = 512M\n", "x.conf", tmpdir, &cfg, err,
	    sizeof(err)) == 0);
	CHECK(cfg.min_free == (uint64_t)512 << 20);
	config_free(&cfg);

	/* onion: a v3 address, '/' added; nothing else. */
	CHECK(config_load_string("[mirror]\nonion = http://"
	    "fvdchz4wzsdxtbnjmjhqwqwodfht37wjgd53f4brdbiwxsprbmhqd5yd.onion\n",
	    "x.conf", tmpdir, &cfg, err, sizeof(err)) == 0);
	CHECK_STR(cfg.onion, "http://fvdchz4wzsdxtbnjmjhqwqwodfht37wjgd53f4brdbiwxsprbmhqd5yd.onion/");
	config_free(&cfg);
	{
		static const char *const bad[] = {
			"http://example.com/",
			"http://abc.onion/",	/* v2 length */
			"http://FVDCHZ4WZSDXTBNJMJHQWQWODFHT37WJGD53F4BRDBIWXSPRBMHQD5YD.onion/",
			"http://u:p@fvdchz4wzsdxtbnjmjhqwqwodfht37wjgd53f4brdbiwxsprbmhqd5yd.onion/",
			"http://fvdchz4wzsdxtbnjmjhqwqwodfht37wjgd53f4brdbiwxsprbmhqd5yd.onion/?q",
			"ftp://fvdchz4wzsdxtbnjmjhqwqwodfht37wjgd53f4brdbiwxsprbmhqd5yd.onion/",
			"http://fvdchz4wzsdxtbnjmjhqwqwodfht37wjgd53f4brdbiwxsprbmhqd5y1.onion/",
		};
		size_t i;
		char text[256];
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			snprintf(text, sizeof(text), "[mirror]\nonion = %s\n", bad[i]);
			CHECK(config_load_string(text, "x.conf", tmpdir, &cfg, err,
			    sizeof(err)) == -1);
			CHECK(strstr(err, "x.conf:2: bad onion URL") != NULL);
		}
	}
}

static void
test_paths(void)
{
	struct config	 cfg;
	char		 err[512], want[PATH_MAX + 64], cwd[PATH_MAX];

	CHECK(config_load_string("[mirror]\nstore = data/store\n"
	    "key = ../keys/pub.key\n", "rel.conf", "/etc/emberd", &cfg, err,
	    sizeof(err)) == 0);
	CHECK_STR(cfg.store, "/etc/emberd/data/store");
	CHECK_STR(cfg.key, "/etc/emberd/../keys/pub.key");
	config_free(&cfg);

	CHECK(config_load_string("[mirror]\nstore = s\n", "root.conf", "/",
	    &cfg, err, sizeof(err)) == 0);
	CHECK_STR(cfg.store, "/s");
	CHECK_STR(cfg.key, "/publisher.key");
	config_free(&cfg);

	/* A relative folder is made absolute against the cwd. */
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		cwd[0] = '\0';
	CHECK(config_load_string("", "rel.conf", "sub/dir", &cfg, err,
	    sizeof(err)) == 0);
	snprintf(want, sizeof(want), "%s/sub/dir", cwd);
	CHECK_STR(cfg.dir, want);
	config_free(&cfg);

	/* config_load: folder of the real file, even through a symlink. */
	if (mkdir(test_path("etc"), 0700) == -1 && errno != EEXIST)
		printf("FAIL mkdir: %s\n", strerror(errno));
	test_write("etc/emberd.conf", "[mirror]\nstore = st\n");
	snprintf(want, sizeof(want), "%s/etc/emberd.conf", tmpdir);
	if (symlink(want, test_path("link.conf")) == -1)
		printf("FAIL symlink: %s\n", strerror(errno));
	CHECK(config_load(test_path("link.conf"), &cfg, err,
	    sizeof(err)) == 0);
	CHECK_STR(cfg.path, want);
	snprintf(want, sizeof(want), "%s/etc", tmpdir);
	CHECK_STR(cfg.dir, want);
	snprintf(want, sizeof(want), "%s/etc/st", tmpdir);
	CHECK_STR(cfg.store, want);
	config_free(&cfg);
}

/* Odd but valid layouts: BOM, CRLF, indentation, long lines. */
static void
test_layout(void)
{
	struct config	 cfg;
	char		 err[512], url[400], text[1024];
	size_t		 n;

	CHECK(config_load_string("\xef\xbb\xbf[mirror]\r\nname = a b\r\n"
	    "\t user = x ;c\r\n# comment\n;comment\n  ; comment\n"
	    "[crawl]\ninterval=1h\n  timeout: 5m\n", "t.conf", tmpdir, &cfg,
	    err, sizeof(err)) == 0);
	CHECK_STR(cfg.name, "a b");
	CHECK_STR(cfg.user, "x");
	CHECK(cfg.crawl_interval == 3600);
	CHECK(cfg.crawl_timeout == 300);
	config_free(&cfg);

	/* Longer than inih's 200-byte line buffer: still one key. */
	n = (size_t)snprintf(url, sizeof(url), "https://origin.example/");
	for (; n < 300; n++)
		url[n] = (char)('a' + n % 26);
	memcpy(url + n, "=b", 3);
	snprintf(text, sizeof(text), "[source long]\nurl = %s   ; c=d\n"
	    "   url   :   %s\nname = n\n", url, url);
	CHECK(config_load_string(text, "t.conf", tmpdir, &cfg, err,
	    sizeof(err)) == 0);
	CHECK(cfg.n_sources == 1);
	if (cfg.n_sources == 1) {
		CHECK(cfg.sources[0].n_urls == 2);
		if (cfg.sources[0].n_urls == 2) {
			CHECK_STR(cfg.sources[0].urls[0], url);
			CHECK_STR(cfg.sources[0].urls[1], url);
		}
		CHECK_STR(cfg.sources[0].name, "n");
	}
	config_free(&cfg);

	/* The line count goes on after a long line. */
	snprintf(text, sizeof(text), "[source long]\nurl = %s\nfoo = 1\n",
	    url);
	CHECK(config_load_string(text, "t.conf", tmpdir, &cfg, err,
	    sizeof(err)) == -1);
	CHECK_STR(err, "t.conf:3: unknown key 'foo' in [source long]");
	config_free(&cfg);
}

/* TEXT must fail with an error that starts with WANT. */
static void
test_error_at(int line, const char *text, const char *want)
{
	struct config	 cfg;
	char		 err[512];
	int		 r;

	memset(err, 'x', sizeof(err));
	r = config_load_string(text, "bad.conf", tmpdir, &cfg, err,
	    sizeof(err));
	checks++;
	if (r != -1 || strncmp(err, want, strlen(want)) != 0) {
		failures++;
		printf("FAIL test_config.c:%d: got %d '%s', want '%s'\n", line,
		    r, r == -1 ? err : "", want);
	}
	/* Zeroed after a failure, so safe to free again. */
	CHECK(cfg.path == NULL && cfg.name == NULL && cfg.sources == NULL);
	config_free(&cfg);
}

#define ERR(text, want) test_error_at(__LINE__, (text), (want))

static void
test_errors(void)
{
	char	 cert[PATH_MAX + 64], text[PATH_MAX * 2];

	ERR("[mirror]\nname = x\nlanguages = en, de, fa\n",
	    "bad.conf:3: bad language 'de' for 'languages' in [mirror]: use a "
	    "comma-separated list of en, zh-Hans, zh-Hant, ru, fa, each once");
	ERR("[mirror]\nlanguages = en, en\n",
	    "bad.conf:2: bad language 'en' for 'languages' in [mirror]");
	ERR("[mirror]\nlanguages = zh-CN\n",
	    "bad.conf:2: bad language 'zh-CN' for 'languages'");
	ERR("[https]\nworkers = 0\n", "bad.conf:2: bad number of workers '0' for "
	    "'workers' in [https]: use auto or 1 to 256");
	ERR("[http]\nworkers = 257\n", "bad.conf:2: bad number of workers '257'");
	ERR("[http]\nworkers = Auto\n", "bad.conf:2: bad number of workers 'Auto'");
	ERR("[mirror]\nname = x\n[mirorr]\n",
	    "bad.conf:3: unknown section [mirorr]");
	ERR("[mirror]\n\n[nope]\n[crawl]\n",
	    "bad.conf:3: unknown section [nope]");
	ERR("[mirror]\nname = x\nfoo = 1 ; c\n",
	    "bad.conf:3: unknown key 'foo' in [mirror]");
	ERR("[source a]\nurl = http://x/\nbogus = 1\n",
	    "bad.conf:3: unknown key 'bogus' in [source a]");
	ERR("name = x\n", "bad.conf:1: key 'name' outside of any section");
	ERR("[mirror]\nname = x\nstore = y\nname = z\n",
	    "bad.conf:4: duplicate key 'name' in [mirror] (first at line 2)");
	ERR("[crawl]\nproxy = http://p/\n[mirror]\n[source a]\nurl=http://a/\n"
	    "sha256 = 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15"
	    "b0f00a08\nsha256 = 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b82"
	    "2cd15d6c15b0f00a08\n",
	    "bad.conf:7: duplicate key 'sha256' in [source a]");
	ERR("[mirror]\n[crawl]\n[mirror]\n",
	    "bad.conf:3: duplicate section [mirror] (first at line 1)");
	ERR("[source a]\nurl=http://a/\n[source a]\nurl=http://a/\n",
	    "bad.conf:3: duplicate section [source a] (first at line 1)");
	ERR("[source]\nurl=http://a/\n", "bad.conf:1: [source] needs a name");
	ERR("[source a/b]\n", "bad.conf:1: bad source name 'a/b'");
	ERR("[source .a]\n", "bad.conf:1: bad source name '.a': use letters");
	ERR("[source a\xff]\n", "bad.conf:1: bad source name 'a\xff': it is "
	    "not valid UTF-8");
	ERR("[source a\x01" "b]\n", "bad.conf:1: bad source name 'a?b': it has a "
	    "control character");
	/* U+200B ZERO WIDTH SPACE: invisible, so not in an id. */
	ERR("[source a\xe2\x80\x8b" "b]\n", "bad.conf:1: bad source name");
	ERR("[source \xe5\x9b\x9b\xe6\x9c\x88\xe4\xb9\x8b\xe5\xa3\xb0"
	    "\xe5\x9b\x9b\xe6\x9c\x88\xe4\xb9\x8b\xe5\xa3\xb0"
	    "\xe5\x9b\x9b\xe6\x9c\x88\xe4\xb9\x8b\xe5\xa3\xb0"
	    "\xe5\x9b\x9b\xe6\x9c\x88\xe4\xb9\x8b\xe5\xa3\xb0"
	    "\xe5\x9b\x9b\xe6\x9c\x88\xe4\xb9\x8b\xe5\xa3\xb0"
	    "\xe5\x9b\x9b\xe6\x9c\x88]\n",
	    "bad.conf:1: bad source name");
	ERR("[mirror\n", "bad.conf:1: bad section header");
	ERR("[mirror] x\n", "bad.conf:1: bad section header");
	ERR("[mirror]\njust words\n",
	    "bad.conf:2: expected 'key = value' or '[section]'");
	ERR("[mirror]\nname =\n", "bad.conf:2: empty value for 'name'");
	ERR("[mirror]\nname = ; only a comment\n",
	    "bad.conf:2: empty value for 'name'");
	ERR("[mirror]\nname = a\rb\n",
	    "bad.conf:2: control character in the value of 'name'");

	ERR("[crawl]\n\nmax_size = 4X\n",
	    "bad.conf:3: bad size '4X' for 'max_size' in [crawl]");
	ERR("[crawl]\nmax_size = 99999999999T\n",
	    "bad.conf:2: bad size '99999999999T'");
	ERR("[crawl]\nmax_size = 0\n", "bad.conf:2: bad size '0'");
	ERR("[crawl]\ntimeout = 0\n",
	    "bad.conf:2: bad duration '0' for 'timeout' in [crawl]");
	ERR("[crawl]\ninterval = -5m\n", "bad.conf:2: bad duration '-5m'");
	ERR("[mirror]\nmin_free = -1G\n", "bad.conf:2: bad size '-1G' for 'min_free'");
	ERR("[mirror]\nmin_free = lots\n", "bad.conf:2: bad size 'lots'");
	ERR("[mirror]\nscrub_interval = 6 h\n",
	    "bad.conf:2: bad duration '6 h'");
	ERR("[follow]\ninterval = 1y\n", "bad.conf:2: bad duration '1y'");
	/* A catalog valid for less than a minute would expire in transit;
	 * a minute or 90 s are taken (tests watch renewals with them). */
	{
		struct config c;
		CHECK(config_load_string("[mirror]\nexpires = 90s\n", "ok.conf", tmpdir, &c,
		    NULL, 0) == 0 && c.expires == 90);
		config_free(&c);
		CHECK(config_load_string("[mirror]\nexpires = 1m\n", "ok.conf", tmpdir, &c,
		    NULL, 0) == 0 && c.expires == 60);
		config_free(&c);
	}
	ERR("[mirror]\nexpires = 0\n",
	    "bad.conf:2: bad validity '0' for 'expires' in [mirror]: use 1m or more");
	ERR("[mirror]\n\nexpires = 59s\n", "bad.conf:3: bad validity '59s'");
	ERR("[mirror]\nexpires = 30 d\n", "bad.conf:2: bad validity '30 d'");
	ERR("[crawl]\nconcurrency = 0\n",
	    "bad.conf:2: bad number '0' for 'concurrency'");
	ERR("[crawl]\nper_host = 1025\n",
	    "bad.conf:2: bad number '1025' for 'per_host'");

	ERR("[https]\nlisten = [::]8443\n",
	    "bad.conf:2: bad listen address '[::]8443' for 'listen' in "
	    "[https]");
	ERR("[http]\nlisten = :0\n", "bad.conf:2: bad listen address ':0'");
	ERR("[http]\nlisten = 127.0.0.1:0\n",
	    "bad.conf:2: bad listen address '127.0.0.1:0'");
	ERR("[http]\nlisten = 127.0.0.1:8080\nlisten = host:70000\n",
	    "bad.conf:3: bad listen address 'host:70000'");
	ERR("[http]\nlisten = localhost\n",
	    "bad.conf:2: bad listen address 'localhost'");
	ERR("[http]\nlisten = ::1:80\n", "bad.conf:2: bad listen address");

	ERR("[mirror]\nallow_root = maybe\n",
	    "bad.conf:2: bad value 'maybe' for 'allow_root' in [mirror]");
	ERR("[source a]\nurl = http://a/\nsha256 = abc\n",
	    "bad.conf:3: bad sha256 'abc' for 'sha256' in [source a]");
	ERR("[source a]\nurl = http://a/\nsha256 = 9f86d081884c7d659a2feaa0"
	    "c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a0g\n",
	    "bad.conf:3: bad sha256");
	ERR("[source a]\nurl = ftp://a/\n", "bad.conf:2: bad URL 'ftp://a/'");
	ERR("[source a]\nurl = http://o/a b.mp3\n",
	    "bad.conf:2: url contains a space; write it as %20");
	ERR("[mirror]\nsource_urls = maybe\n", "bad.conf:2: bad value 'maybe' "
	    "for 'source_urls' in [mirror]: use origin, full or none");
	ERR("[source a]\nurl = https://\n", "bad.conf:2: bad URL");
	ERR("[mirror]\nurl = mirror.example\n", "bad.conf:2: bad URL");
	ERR("[crawl]\nproxy = socks6://h:1\n",
	    "bad.conf:2: bad proxy URL 'socks6://h:1'");
	ERR("[source a]\nurl = http://a/\nname = ../x\n",
	    "bad.conf:3: bad name '../x'");
	ERR("[source a]\nurl = http://a/\ntype = video\n",
	    "bad.conf:3: bad type 'video'");
	ERR("[mirror]\nuser = bad user\n", "bad.conf:2: bad user name");
	ERR("[source a]\nurl = http://a/\nkind = video\n", "bad.conf:3: bad kind 'video' "
	    "for 'kind' in [source a]: use auto, file, page, feed or hls");
	ERR("[source a]\nurl = http://a/\nresolver = youtube-dl\n",
	    "bad.conf:3: bad resolver 'youtube-dl' for 'resolver' in [source a]: use yt-dlp");
	ERR("[source a]\nurl = http://a/\nvariant = biggest\n", "bad.conf:3: bad variant "
	    "'biggest' for 'variant' in [source a]: use best, smallest, all or a BANDWIDTH");
	ERR("[source a]\nurl = http://a/\nmax_items = 0\n", "bad.conf:3: bad number '0'");
	ERR("[source a]\nurl = http://a/\ntls_verify = maybe\n", "bad.conf:3:");
	ERR("[source a]\nurl = http://a/\nmax_items = 10001\n", "bad.conf:3: bad number");
	ERR("[source a]\nurl = http://a/\nlang = zh_Hans\n",
	    "bad.conf:3: bad language tag 'zh_Hans'");
	ERR("[source a]\nurl = http://a/\nkind = hls\nsha256 = 9f86d081884c7d659a2feaa0"
	    "c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n", "bad.conf:4: sha256 in [source a]: "
	    "a pin names one file");

	/* Files that must exist: the message gives the absolute path. */
	snprintf(cert, sizeof(cert), "%s/missing.pem", tmpdir);
	snprintf(text, sizeof(text), "bad.conf:3: cannot read cert '%s': %s",
	    cert, strerror(ENOENT));
	ERR("[https]\nlisten = 0.0.0.0:8443\ncert = missing.pem\n"
	    "key = tls/key.pem\n", text);
	snprintf(text, sizeof(text), "bad.conf:3: cannot read key '%s/.': %s",
	    tmpdir, strerror(EISDIR));
	ERR("[https]\ncert = tls/cert.pem\nkey = .\n", text);
	ERR("[https]\nlisten = 0.0.0.0:8443\ncert = tls/cert.pem\n[http]\n",
	    "bad.conf:3: cert without key in [https]");
	ERR("[https]\nkey = tls/key.pem\n",
	    "bad.conf:2: key without cert in [https]");

	/* Section checks name the header line. */
	ERR("[mirror]\n[source empty]\n; no url\nname = x\n[crawl]\n",
	    "bad.conf:2: [source empty] has no url");
	ERR("[source last]\n", "bad.conf:1: [source last] has no url");
	ERR("[mirror]\n[follow]  ; c\npeer = https://m.example/\n",
	    "bad.conf:2: [follow] needs a pubkey");
	ERR("[follow]\n", "bad.conf:1: [follow] needs a pubkey");
	ERR("[follow]\npubkey = RWQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QT"
	    "aLn73Y7GFO3\n", "bad.conf:1: [follow] needs at least one peer");
	ERR("[follow]\npubkey = RWQf6LRC\n", "bad.conf:2: bad public key");
	ERR("[follow]\npubkey = AAQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QT"
	    "aLn73Y7GFO3\n", "bad.conf:2: bad public key");

	/* The first error wins, even when a later line is also bad. */
	ERR("[mirror]\nfoo = 1\n[nope]\n",
	    "bad.conf:2: unknown key 'foo' in [mirror]");
	/* Control characters in messages are made harmless. */
	ERR("[mirror]\nf\033[31mo = 1\n",
	    "bad.conf:2: unknown key 'f?[31mo' in [mirror]");
}

static void
test_load_errors(void)
{
	struct config	 cfg;
	char		 err[512], want[PATH_MAX + 128];

	CHECK(config_load(test_path("nope.conf"), &cfg, err,
	    sizeof(err)) == -1);
	snprintf(want, sizeof(want), "%s: cannot read: %s",
	    test_path("nope.conf"), strerror(ENOENT));
	CHECK_STR(err, want);
	config_free(&cfg);

	CHECK(config_load(tmpdir, &cfg, err, sizeof(err)) == -1);
	snprintf(want, sizeof(want), "%s: cannot read: %s", tmpdir,
	    strerror(EISDIR));
	CHECK_STR(err, want);
	config_free(&cfg);

	/* Messages from a file name the path as given. */
	test_write("bad.conf", "[mirror]\n\n  [crawl]\ntimeout = soon\n");
	CHECK(config_load(test_path("bad.conf"), &cfg, err,
	    sizeof(err)) == -1);
	snprintf(want, sizeof(want), "%s:4: bad duration 'soon' for "
	    "'timeout' in [crawl]", test_path("bad.conf"));
	CHECK(strncmp(err, want, strlen(want)) == 0);
	if (strncmp(err, want, strlen(want)) != 0)
		printf("FAIL got '%s'\n", err);
	config_free(&cfg);

	/* A small err buffer is cut, never overrun. */
	memset(want, 'z', 20);
	CHECK(config_load(test_path("bad.conf"), &cfg, want, 8) == -1);
	CHECK(strlen(want) == 7 && want[8] == 'z');
	CHECK(config_load(test_path("bad.conf"), &cfg, NULL, 0) == -1);
	config_free(&cfg);
}

static void
test_parsers(void)
{
	struct config_listen	 l;
	uint64_t		 u;
	int			 b;

	CHECK(config_parse_size("123", &u) == 0 && u == 123);
	CHECK(config_parse_size("0", &u) == 0 && u == 0);
	CHECK(config_parse_size("100k", &u) == 0 && u == 102400);
	CHECK(config_parse_size("100K", &u) == 0 && u == 102400);
	CHECK(config_parse_size("512M", &u) == 0 && u == (uint64_t)512 << 20);
	CHECK(config_parse_size("4G", &u) == 0 && u == (uint64_t)4 << 30);
	CHECK(config_parse_size("4GB", &u) == 0 && u == (uint64_t)4 << 30);
	CHECK(config_parse_size("4GiB", &u) == 0 && u == (uint64_t)4 << 30);
	CHECK(config_parse_size("2T", &u) == 0 && u == (uint64_t)2 << 40);
	CHECK(config_parse_size("10B", &u) == 0 && u == 10);
	CHECK(config_parse_size("8388607T", &u) == 0 &&
	    u == (uint64_t)8388607 << 40);
	u = 7;
	CHECK(config_parse_size("8388608T", &u) == -1 && u == 7);
	CHECK(config_parse_size("99999999999T", &u) == -1);
	CHECK(config_parse_size("99999999999999999999", &u) == -1);
	CHECK(config_parse_size("18446744073709551615", &u) == -1);
	CHECK(config_parse_size("9223372036854775807", &u) == 0 &&
	    u == INT64_MAX);
	CHECK(config_parse_size("", &u) == -1);
	CHECK(config_parse_size("G", &u) == -1);
	CHECK(config_parse_size("-1", &u) == -1);
	CHECK(config_parse_size("+1", &u) == -1);
	CHECK(config_parse_size(" 1", &u) == -1);
	CHECK(config_parse_size("1 ", &u) == -1);
	CHECK(config_parse_size("1.5G", &u) == -1);
	CHECK(config_parse_size("1X", &u) == -1);
	CHECK(config_parse_size("1Gi", &u) == -1);
	CHECK(config_parse_size("1iB", &u) == -1);
	CHECK(config_parse_size("1GBB", &u) == -1);
	CHECK(config_parse_size("0x10", &u) == -1);

	CHECK(config_parse_duration("90", &u) == 0 && u == 90);
	CHECK(config_parse_duration("30s", &u) == 0 && u == 30);
	CHECK(config_parse_duration("30m", &u) == 0 && u == 1800);
	CHECK(config_parse_duration("6h", &u) == 0 && u == 21600);
	CHECK(config_parse_duration("2d", &u) == 0 && u == 172800);
	CHECK(config_parse_duration("2147483647", &u) == 0 &&
	    u == 2147483647);
	u = 7;
	CHECK(config_parse_duration("0", &u) == -1 && u == 7);
	CHECK(config_parse_duration("0s", &u) == -1);
	CHECK(config_parse_duration("-1", &u) == -1);
	CHECK(config_parse_duration("", &u) == -1);
	CHECK(config_parse_duration("h", &u) == -1);
	CHECK(config_parse_duration("1x", &u) == -1);
	CHECK(config_parse_duration("1hh", &u) == -1);
	CHECK(config_parse_duration("1 h", &u) == -1);
	CHECK(config_parse_duration("1H", &u) == -1);
	CHECK(config_parse_duration("2147483648", &u) == -1);
	CHECK(config_parse_duration("99999999999d", &u) == -1);
	CHECK(config_parse_duration("99999999999999999999999", &u) == -1);

	CHECK(config_parse_bool("yes", &b) == 0 && b == 1);
	CHECK(config_parse_bool("True", &b) == 0 && b == 1);
	CHECK(config_parse_bool("on", &b) == 0 && b == 1);
	CHECK(config_parse_bool("1", &b) == 0 && b == 1);
	CHECK(config_parse_bool("no", &b) == 0 && b == 0);
	CHECK(config_parse_bool("FALSE", &b) == 0 && b == 0);
	CHECK(config_parse_bool("off", &b) == 0 && b == 0);
	CHECK(config_parse_bool("0", &b) == 0 && b == 0);
	b = 7;
	CHECK(config_parse_bool("", &b) == -1 && b == 7);
	CHECK(config_parse_bool("2", &b) == -1);
	CHECK(config_parse_bool("yess", &b) == -1);
	CHECK(config_parse_bool("y", &b) == -1);

	CHECK(config_parse_listen("0.0.0.0:8443", &l) == 0);
	CHECK_STR(l.host, "0.0.0.0");
	CHECK(l.port == 8443);
	CHECK_STR(l.text, "0.0.0.0:8443");
	free(l.host);
	free(l.text);
	CHECK(config_parse_listen("[::1]:1", &l) == 0);
	CHECK_STR(l.host, "::1");
	CHECK(l.port == 1);
	CHECK_STR(l.text, "[::1]:1");
	free(l.host);
	free(l.text);
	CHECK(config_parse_listen("localhost:65535", &l) == 0);
	CHECK_STR(l.host, "localhost");
	CHECK(l.port == 65535);
	free(l.host);
	free(l.text);
	CHECK(config_parse_listen("[2001:db8::7]:80", &l) == 0);
	CHECK_STR(l.host, "2001:db8::7");
	free(l.host);
	free(l.text);

	CHECK(config_parse_listen("[::]8443", &l) == -1 && l.host == NULL);
	CHECK(config_parse_listen(":0", &l) == -1);
	CHECK(config_parse_listen(":8080", &l) == -1);
	CHECK(config_parse_listen("host:70000", &l) == -1);
	CHECK(config_parse_listen("host:0", &l) == -1);
	CHECK(config_parse_listen("host:65536", &l) == -1);
	CHECK(config_parse_listen("host:000080", &l) == -1);
	CHECK(config_parse_listen("host:", &l) == -1);
	CHECK(config_parse_listen("host", &l) == -1);
	CHECK(config_parse_listen("host:80x", &l) == -1);
	CHECK(config_parse_listen("host:-80", &l) == -1);
	CHECK(config_parse_listen("host:+80", &l) == -1);
	CHECK(config_parse_listen("host:99999999999999999999", &l) == -1);
	CHECK(config_parse_listen("::1:80", &l) == -1);
	CHECK(config_parse_listen("[::1]", &l) == -1);
	CHECK(config_parse_listen("[::1]:", &l) == -1);
	CHECK(config_parse_listen("[::1:80", &l) == -1);
	CHECK(config_parse_listen("[]:80", &l) == -1);
	CHECK(config_parse_listen("[nothex]:80", &l) == -1);
	CHECK(config_parse_listen("[::1]]:80", &l) == -1);
	CHECK(config_parse_listen("ho st:80", &l) == -1);
	CHECK(config_parse_listen("", &l) == -1);
	CHECK(config_parse_listen("[", &l) == -1);
}

/* The keys of media capture, and their defaults. */
static void
test_media_keys(void)
{
	struct config cfg;
	char err[256];
	int rc;

	rc = config_load_string("[source a]\nurl = http://a/\n[source b]\nurl = http://b/\n"
	    "kind = hls\nvariant = 1280000\nmax_items = 7\ntitle = \xe5\x9b\x9b\xe6\x9c\x88\n"
	    "description = d\nlang = zh-Hans\ntls_verify = no\n[source c]\nurl = http://c/\n"
	    "resolver = yt-dlp\n"
	    "variant = all\nkind = page\n",
	    "media.conf", tmpdir, &cfg, err, sizeof(err));
	CHECK(rc == 0);
	if (rc == 0) {
		CHECK(cfg.sources[0].kind == SOURCE_AUTO);
		CHECK(cfg.sources[0].variant == VARIANT_BEST);
		CHECK(cfg.sources[0].max_items == CONFIG_MAX_ITEMS_DEFAULT);
		CHECK(!cfg.sources[0].resolver && cfg.sources[0].title == NULL);
		CHECK(cfg.sources[1].kind == SOURCE_HLS);
		CHECK(cfg.sources[1].variant == VARIANT_BANDWIDTH &&
		    cfg.sources[1].bandwidth == 1280000);
		CHECK(cfg.sources[1].max_items == 7);
		CHECK(cfg.sources[0].tls_verify && !cfg.sources[1].tls_verify &&
		    cfg.sources[2].tls_verify);
		CHECK(strcmp(cfg.sources[1].title, "\xe5\x9b\x9b\xe6\x9c\x88") == 0);
		CHECK(strcmp(cfg.sources[1].lang, "zh-Hans") == 0);
		CHECK(cfg.sources[2].resolver && cfg.sources[2].variant == VARIANT_ALL &&
		    cfg.sources[2].kind == SOURCE_PAGE);
	}
	config_free(&cfg);
	CHECK(config_parse_lang("en") == 0 && config_parse_lang("zh-Hant-TW") == 0);
	CHECK(config_parse_lang("1en") == -1 && config_parse_lang("en--x") == -1 &&
	    config_parse_lang("abcdefghi") == -1 && config_parse_lang("en-") == -1);
	CHECK(strcmp(config_kind_name(SOURCE_FEED), "feed") == 0);
}

static void
test_acme_keys(void)
{
	struct config cfg;
	char err[512], want[PATH_MAX + 16];
	int rc;

	CHECK(config_load_string("", "a.conf", tmpdir, &cfg, err, sizeof(err)) == 0);
	CHECK(cfg.acme == 0 && cfg.n_acme_domains == 0 && cfg.acme_email == NULL &&
	    cfg.acme_webroot == NULL && cfg.crawl_ca_file == NULL);
	CHECK_STR(cfg.acme_directory, "https://acme-v02.api.letsencrypt.org/directory");
	config_free(&cfg);

	rc = config_load_string("[https]\nlisten = 127.0.0.1:8443\nacme = yes\n"
	    "domain = Mirror.Example\ndomain = www.mirror.example\n"
	    "acme_directory = https://ca.test/dir\nacme_email = ops+acme@mirror.example\n"
	    "acme_webroot = tls\n[http]\nlisten = 127.0.0.1:8080\n"
	    "[crawl]\nca_file = tls/cert.pem\n", "a.conf", tmpdir, &cfg, err, sizeof(err));
	CHECK(rc == 0);
	if (rc == 0) {
		CHECK(cfg.acme == 1 && cfg.n_acme_domains == 2);
		if (cfg.n_acme_domains == 2) {
			CHECK_STR(cfg.acme_domains[0], "mirror.example");
			CHECK_STR(cfg.acme_domains[1], "www.mirror.example");
		}
		CHECK_STR(cfg.acme_directory, "https://ca.test/dir");
		CHECK_STR(cfg.acme_email, "ops+acme@mirror.example");
		snprintf(want, sizeof(want), "%s/tls", tmpdir);
		CHECK_STR(cfg.acme_webroot, want);
		snprintf(want, sizeof(want), "%s/tls/cert.pem", tmpdir);
		CHECK_STR(cfg.crawl_ca_file, want);
	} else
		printf("  %s\n", err);
	config_free(&cfg);

	CHECK(config_check_domain("a.b") == 0 && config_check_domain("xn--p1ai.example") == 0);
	CHECK(config_check_domain("localhost") == -1 && config_check_domain("*.a.b") == -1 &&
	    config_check_domain("a..b") == -1 && config_check_domain("-a.b") == -1 &&
	    config_check_domain("a-.b") == -1 && config_check_domain("a.b.") == -1 &&
	    config_check_domain("a_b.c") == -1 && config_check_domain("1.2.3.4") == -1 &&
	    config_check_domain("1a.example") == 0 && config_check_domain("a.b2") == 0);
	CHECK(config_check_email("a@b.c") == 0 && config_check_email("a b@c.d") == -1 &&
	    config_check_email("a@b") == -1 && config_check_email("@b.c") == -1 &&
	    config_check_email("a@b@c.d") == -1 && config_check_email("a\"@b.c") == -1);
}

int
main(void)
{
	struct config	 cfg;
	char		*d;

	snprintf(tmpdir, sizeof(tmpdir), "%s/emberd-test-config.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if ((d = mkdtemp(tmpdir)) == NULL) {
		printf("FAIL mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	/* The config's folder is compared with realpath() results. */
	if ((d = realpath(tmpdir, NULL)) == NULL) {
		printf("FAIL realpath: %s\n", strerror(errno));
		return 1;
	}
	snprintf(tmpdir, sizeof(tmpdir), "%s", d);
	free(d);
	if (mkdir(test_path("tls"), 0700) == -1)
		printf("FAIL mkdir: %s\n", strerror(errno));

	memset(&cfg, 0, sizeof(cfg));
	config_free(&cfg);	/* a zeroed struct */
	config_free(NULL);

	test_full();
	test_media_keys();
	test_acme_keys();
	test_defaults();
	test_paths();
	test_layout();
	test_errors();
	test_names_and_urls();
	test_load_errors();
	test_parsers();

	unlink(test_path("tls/cert.pem"));
	unlink(test_path("tls/key.pem"));
	rmdir(test_path("tls"));
	unlink(test_path("etc/emberd.conf"));
	rmdir(test_path("etc"));
	unlink(test_path("link.conf"));
	unlink(test_path("full.conf"));
	unlink(test_path("bad.conf"));
	rmdir(tmpdir);

	printf("test_config: %d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}

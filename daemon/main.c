/*
 * emberd: a censorship-resistant content mirror. This file only picks the
 * subcommand; each lives in commands.c.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "commands.h"
#include "log.h"

static const char usage[] =
    "usage: emberd COMMAND [OPTIONS]\n"
    "\n"
    "emberd keeps verified copies of media that someone is trying to erase\n"
    "and hands them out over HTTPS.\n"
    "\n"
    "commands:\n"
    "  add    -c FILE [--name NAME] [--type MIME] PATH...   import local files\n"
    "  ls     -c FILE [--json]       list the catalog\n"
    "  verify -c FILE                re-hash every object; quarantine bad ones\n"
    "  gc     -c FILE [--now]        remove objects no catalog item references\n"
    "  rm     -c FILE [--purge] NAME...  take items out of the catalog (takedown)\n"
    "  publish -c FILE               sign the catalog again with the config's settings\n"
    "  export -c FILE [--url URL] DIR   write a static, signed mirror to DIR\n"
    "  import -c FILE DIR            one sync from an export (a follower)\n"
    "  keygen -c FILE                create the publisher key; print the public key\n"
    "  run    -c FILE                serve the mirror over HTTPS/HTTP (foreground)\n"
    "  crawl  -c FILE                one crawl, or one sync from peers ([follow]), then exit\n"
    "  fetch  --pubkey KEY -m URL... NAME|SHA256 [-o FILE] [--proxy URL] [--insecure]\n"
    "                                download from any mirror and verify it\n"
    "\n"
    "  emberd --version | --help | COMMAND --help\n";

int
main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
		{ "add", cmd_add },
		{ "ls", cmd_ls },
		{ "verify", cmd_verify },
		{ "gc", cmd_gc },
		{ "keygen", cmd_keygen },
		{ "run", cmd_run },
		{ "crawl", cmd_crawl },
		{ "fetch", cmd_fetch },
		{ "rm", cmd_rm },
		{ "publish", cmd_publish },
		{ "export", cmd_export },
		{ "import", cmd_import },
	};
	size_t i;

	/* A file-size limit must surface as EFBIG from write(), with a clear
	 * message and the temp file removed, not kill the process. */
	signal(SIGXFSZ, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	/* Temp names and backoff jitter use random(): two processes must not
	 * walk the same sequence. */
	{
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		srandom((unsigned)ts.tv_nsec ^ (unsigned)ts.tv_sec ^ ((unsigned)getpid() << 16));
	}
	/* Once, before any thread: libcurl's global state (OpenSSL, ...). */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		log_error("cannot initialise libcurl");
		return 2;
	}
	atexit(curl_global_cleanup);

	if (argc < 2) {
		fputs(usage, stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(usage, stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("emberd %s\n", EMBERD_VERSION);
		return 0;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].fn(argc - 1, argv + 1);
	}
	log_error("unknown command '%s' (see emberd --help)", argv[1]);
	return 2;
}

/*
 * yt-dlp as a resolver: resolver_parse on real and broken answers, then
 * resolver_start on an event loop with fake programs written into a
 * temp folder (an answer with one URL, one with a video and an audio
 * format and headers, one that hangs with a child of its own, one that
 * prints 100 MB, broken JSON, an exit 1 with a message, a missing
 * program, a cancel), a timer on the same loop that must keep firing
 * meanwhile; the parse on the work queue, and cancels at every moment
 * of a job's life (ASan sees what they leave behind); and last the real yt-dlp (when installed) on a page served
 * by python3's http.server with a <video> made by ffmpeg.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "resolver.h"
#include "workq.h"
#include "check.h"

static char dir[256];

struct outcome {
	int called;
	struct resolver_result res;
	int have_res;
	char err[512];
};

static void
done_cb(void *arg, struct resolver_result *res, const char *err)
{
	struct outcome *o = arg;

	o->called++;
	CHECK((res == NULL) != (err == NULL));
	if (res != NULL) {
		o->res = *res;	/* keep what it holds: ours now */
		o->have_res = 1;
	}
	if (err != NULL)
		snprintf(o->err, sizeof(o->err), "%s", err);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
write_file(const char *name, const char *text, int exec)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f == NULL)
		return;
	fputs(text, f);
	fclose(f);
	if (exec)
		chmod(path, 0755);
}

static char *
path_of(const char *name)
{
	static char path[4][512];
	static int k;

	k = (k + 1) % 4;
	snprintf(path[k], sizeof(path[k]), "%s/%s", dir, name);
	return path[k];
}

/* A shell script NAME that prints ANSWER on stdout (a quoted here-doc:
 * no expansion) and records its arguments in NAME.args. */
static void
fake_answer(const char *name, const char *answer)
{
	char text[8192];

	snprintf(text, sizeof(text),
	    "#!/bin/sh\nprintf '%%s\\n' \"$@\" > '%s/%s.args'\ncat <<'EOF'\n%s\nEOF\n",
	    dir, name, answer);
	write_file(name, text, 1);
}

/* ------------------------------------------------------------------ */

static const char *single =
    "{\"id\": \"abc123\", \"title\": \"A story (1)\", \"description\": null,"
    " \"webpage_url\": \"https://example.org/story.html\", \"_type\": \"video\","
    " \"formats\": [{\"url\": \"https://cdn.example.org/low.mp4\", \"ext\": \"mp4\"}],"
    " \"url\": \"https://cdn.example.org/clip.mp4?sig=1\", \"ext\": \"mp4\","
    " \"protocol\": \"https\", \"format_id\": \"22\", \"vcodec\": null,"
    " \"acodec\": \"mp4a.40.2\", \"filesize_approx\": 123456.7,"
    " \"http_headers\": {\"User-Agent\": \"Mozilla/5.0 (X11)\","
    " \"Accept\": \"*/*\", \"Referer\": \"https://example.org/story.html\"}}";

static const char *split =
    "{\"id\": \"xyz\", \"title\": \"Caf\\u00e9 video\", \"description\": \"two formats\","
    " \"webpage_url\": \"https://video.example/watch?v=xyz\", \"format_id\": \"137+140\","
    " \"ext\": \"mp4\", \"requested_formats\": ["
    "  {\"url\": \"https://r1.example/videoplayback?itag=137\", \"ext\": \"mp4\","
    "   \"protocol\": \"https\", \"format_id\": \"137\", \"vcodec\": \"avc1.640028\","
    "   \"acodec\": \"none\", \"filesize\": 5000000,"
    "   \"http_headers\": {\"User-Agent\": \"UA/1\", \"Cookie\": \"a=b\"}},"
    "  {\"url\": \"https://r1.example/videoplayback?itag=140\", \"ext\": \"m4a\","
    "   \"protocol\": \"m3u8_native\", \"format_id\": \"140\", \"vcodec\": \"none\","
    "   \"acodec\": \"mp4a.40.2\", \"filesize\": null,"
    "   \"http_headers\": {\"User-Agent\": \"UA/1\"}}]}";

static void
expect_parse_error(const char *json, const char *want)
{
	struct resolver_result r;
	char err[512] = "";
	int rc = resolver_parse(json, strlen(json), &r, err, sizeof(err));

	CHECK(rc == -1);
	CHECK(r.n_media == 0 && r.media == NULL && r.title == NULL);
	if (strstr(err, want) == NULL) {
		fprintf(stderr, "parse of %.60s: got \"%s\", wanted \"%s\"\n", json, err, want);
		CHECK(0);
	}
}

static void
test_parse(void)
{
	struct resolver_result r;
	char err[512], big[16384], *p;
	size_t i;

	CHECK(resolver_parse(single, strlen(single), &r, err, sizeof(err)) == 0);
	CHECK(r.n_media == 1);
	CHECK(strcmp(r.id, "abc123") == 0 && strcmp(r.title, "A story (1)") == 0);
	CHECK(r.description == NULL);
	CHECK(strcmp(r.webpage_url, "https://example.org/story.html") == 0);
	CHECK(strcmp(r.media[0].url, "https://cdn.example.org/clip.mp4?sig=1") == 0);
	CHECK(strcmp(r.media[0].ext, "mp4") == 0 && strcmp(r.media[0].protocol, "https") == 0);
	CHECK(strcmp(r.media[0].format_id, "22") == 0 && r.media[0].vcodec == NULL);
	CHECK(strcmp(r.media[0].acodec, "mp4a.40.2") == 0);
	CHECK(r.media[0].size == 123456);
	CHECK(r.media[0].n_headers == 3);
	CHECK(strcmp(r.media[0].headers[0], "User-Agent: Mozilla/5.0 (X11)") == 0);
	CHECK(strcmp(r.media[0].headers[2], "Referer: https://example.org/story.html") == 0);
	resolver_result_free(&r);
	CHECK(r.media == NULL && r.n_media == 0);
	resolver_result_free(&r);	/* a zeroed one is fine */

	CHECK(resolver_parse(split, strlen(split), &r, err, sizeof(err)) == 0);
	CHECK(r.n_media == 2);
	CHECK(strcmp(r.title, "Caf\xc3\xa9 video") == 0);
	CHECK(strcmp(r.media[0].url, "https://r1.example/videoplayback?itag=137") == 0);
	CHECK(strcmp(r.media[0].acodec, "none") == 0 && r.media[0].size == 5000000);
	CHECK(r.media[0].n_headers == 2 && strcmp(r.media[0].headers[1], "Cookie: a=b") == 0);
	CHECK(strcmp(r.media[1].ext, "m4a") == 0 && strcmp(r.media[1].protocol, "m3u8_native") == 0);
	CHECK(r.media[1].size == 0 && r.media[1].n_headers == 1);
	resolver_result_free(&r);

	/* An empty requested_formats: the top level's url. */
	{
		const char *j = "{\"url\": \"http://a.example/x.mp3\", \"requested_formats\": []}";
		CHECK(resolver_parse(j, strlen(j), &r, err, sizeof(err)) == 0);
		CHECK(r.n_media == 1 && strcmp(r.media[0].url, "http://a.example/x.mp3") == 0);
		CHECK(r.title == NULL && r.media[0].ext == NULL && r.media[0].n_headers == 0);
		resolver_result_free(&r);
	}

	/* The description is cut to 4096 bytes, not inside a character:
	 * 4095 'a' and then a 2-byte 'é' that would end at 4097. */
	p = big;
	p += sprintf(p, "{\"url\": \"https://a.example/v\", \"description\": \"");
	for (i = 0; i < 4095; i++)
		*p++ = 'a';
	p += sprintf(p, "\\u00e9tail\", \"title\": \"");
	for (i = 0; i < 2000; i++)
		p += sprintf(p, "\\u20ac");	/* 3 bytes each */
	sprintf(p, "\"}");
	CHECK(resolver_parse(big, strlen(big), &r, err, sizeof(err)) == 0);
	CHECK(r.description != NULL && strlen(r.description) == 4095);
	CHECK(r.title != NULL && strlen(r.title) == 1023);	/* 341 whole euro signs */
	resolver_result_free(&r);

	expect_parse_error("", "printed no answer");
	expect_parse_error("null", "not a JSON object");
	expect_parse_error("[1, 2]", "not a JSON object");
	expect_parse_error("{\"title\": \"x\", \"url\": ", "is not JSON: ");
	expect_parse_error("{\"title\": \"x\"} trailing", "is not JSON: ");
	expect_parse_error("{\"title\": \"x\"}", "has no media URL");
	expect_parse_error("{\"url\": \"\"}", "has no media URL");
	expect_parse_error("{\"requested_formats\": [{\"ext\": \"mp4\"}]}", "has no media URL");
	expect_parse_error("{\"url\": \"file:///etc/passwd\"}", "gave a non-http URL");
	expect_parse_error("{\"url\": \"rtmp://a/b\"}", "gave a non-http URL");
	expect_parse_error("{\"url\": \"https://a/b\\nc\"}", "control character");
	expect_parse_error("{\"url\": 42}", "\"url\" is not a string");
	expect_parse_error("{\"url\": \"https://a/b\", \"title\": 7}", "\"title\" is not a string");
	expect_parse_error("{\"url\": \"https://a/b\", \"ext\": \"../mp4\"}", "not a file extension");
	expect_parse_error("{\"url\": \"https://a/b\", \"http_headers\": []}", "not an object");
	expect_parse_error("{\"url\": \"https://a/b\", \"http_headers\": {\"X\": \"a\\r\\nEvil: 1\"}}",
	    "control character");
	expect_parse_error("{\"url\": \"https://a/b\", \"http_headers\": {\"X\\r\\nY\": \"a\"}}",
	    "not a token");
	expect_parse_error("{\"url\": \"https://a/b\", \"http_headers\": {\"A:B\": \"a\"}}",
	    "not a token");
	expect_parse_error("{\"url\": \"https://a/b\", \"http_headers\": {\"X\": 1}}", "not a string");
	expect_parse_error("{\"url\": \"https://a/b\", \"filesize\": \"12\"}", "not a number");
	expect_parse_error("{\"url\": \"https://a/b\", \"requested_formats\": {}}", "not an array");
	expect_parse_error("{\"requested_formats\": [\"https://a/b\"]}", "not an object");
	expect_parse_error("{\"url\": \"https://a/b\\u0000c\"}", "is not JSON");
	expect_parse_error("{\"_type\": \"playlist\", \"entries\": []}", "is a playlist");

	/* 33 headers; a header line over 8 KiB. */
	p = big;
	p += sprintf(p, "{\"url\": \"https://a/b\", \"http_headers\": {");
	for (i = 0; i < 33; i++)
		p += sprintf(p, "%s\"H%zu\": \"v\"", i ? ", " : "", i);
	sprintf(p, "}}");
	expect_parse_error(big, "more than 32 http_headers");
	p = big;
	p += sprintf(p, "{\"url\": \"https://a/b\", \"http_headers\": {\"X\": \"");
	for (i = 0; i < 8200; i++)
		*p++ = 'v';
	sprintf(p, "\"}}");
	expect_parse_error(big, "longer than 8192 bytes");

	/* Many values: refused before jansson builds them. */
	{
		size_t n = RESOLVER_JSON_COST_MAX + 10, k = 0;
		char *many = malloc(2 * n + 64);

		CHECK(many != NULL);
		k += sprintf(many, "{\"url\": \"https://a/b\", \"x\": [");
		for (i = 0; i < n; i++) {
			many[k++] = '0';
			many[k++] = ',';
		}
		k--;
		k += sprintf(many + k, "]}");
		CHECK(resolver_parse(many, k, &r, err, sizeof(err)) == -1);
		CHECK(strcmp(err, "yt-dlp's answer holds too many JSON values (more than 48 MiB to parse)") == 0);
		free(many);
	}
}

/* ------------------------------------------------------------------ */

struct ticker {
	struct event *ev;
	int ticks;
};

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ticker *t = arg;

	t->ticks++;
}

/* Run one job to its end on a fresh loop; a 100 ms ticker beside it.
 * The job's start must succeed. Seconds taken. */
static double
run_job(const struct resolver_opts *o, const char *url, struct outcome *out, int *ticks)
{
	struct event_base *base = event_base_new();
	struct ticker t = { NULL, 0 };
	struct timeval tv = { 0, 100000 };
	struct resolver_job *j;
	char err[512] = "";
	double t0 = now_s();

	memset(out, 0, sizeof(*out));
	t.ev = event_new(base, -1, EV_PERSIST, tick_cb, &t);
	event_add(t.ev, &tv);
	j = resolver_start(base, o, url, done_cb, out, err, sizeof(err));
	CHECK(j != NULL);
	if (j == NULL)
		fprintf(stderr, "resolver_start: %s\n", err);
	while (j != NULL && out->called == 0)
		event_base_loop(base, EVLOOP_ONCE);
	CHECK(out->called == 1);
	event_free(t.ev);
	event_base_free(base);
	if (ticks != NULL)
		*ticks = t.ticks;
	return now_s() - t0;
}

/* Whether PID is gone: no such process, or a zombie left to init. */
static int
gone(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	int i;

	for (i = 0; i < 200; i++) {	/* up to 2 s for the kill to land */
		if (kill(pid, 0) == -1 && errno == ESRCH)
			return 1;
		snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
		if ((f = fopen(path, "r")) != NULL) {
			size_t n = fread(buf, 1, sizeof(buf) - 1, f);

			fclose(f);
			buf[n] = '\0';
			if ((p = strrchr(buf, ')')) != NULL && p[1] == ' ' && p[2] == 'Z')
				return 1;
		}
		usleep(10000);
	}
	return 0;
}

/* The two pids a hanging fake wrote: itself and its sleep. */
static int
read_pids(const char *name, pid_t pids[2])
{
	FILE *f;
	long a = 0, b = 0;
	int i, n = 0;

	for (i = 0; i < 300 && n != 2; i++) {
		if ((f = fopen(path_of(name), "r")) != NULL) {
			n = fscanf(f, "%ld %ld", &a, &b);
			fclose(f);
		}
		if (n != 2)
			usleep(10000);
	}
	pids[0] = (pid_t)a;
	pids[1] = (pid_t)b;
	return n == 2 && a > 0 && b > 0;
}

static int
has_line(const char *file, const char *line)
{
	char buf[1024];
	FILE *f = fopen(path_of(file), "r");
	int found = 0;

	if (f == NULL)
		return 0;
	while (fgets(buf, sizeof(buf), f) != NULL) {
		buf[strcspn(buf, "\n")] = '\0';
		if (strcmp(buf, line) == 0)
			found = 1;
	}
	fclose(f);
	return found;
}

static void
cancel_cb(evutil_socket_t fd, short what, void *arg)
{
	struct resolver_job **j = arg;

	resolver_cancel(*j);
	*j = NULL;
}

static void
test_children(void)
{
	struct resolver_opts o;
	struct outcome out, outs[3];
	struct event_base *base;
	struct resolver_job *j, *js[3];
	char err[512], text[1024];
	pid_t pids[2];
	double took;
	int ticks, i;

	/* One URL; the arguments as promised. */
	fake_answer("single", single);
	memset(&o, 0, sizeof(o));
	o.program = path_of("single");
	o.timeout_s = 30;
	o.proxy = "socks5h://127.0.0.1:9050";
	o.user_agent = "emberd-test/1";
	run_job(&o, "https://example.org/story.html", &out, NULL);
	CHECK(out.have_res && out.res.n_media == 1);
	if (out.have_res)
		CHECK(strcmp(out.res.media[0].url, "https://cdn.example.org/clip.mp4?sig=1") == 0);
	resolver_result_free(&out.res);
	CHECK(has_line("single.args", "--dump-single-json"));
	CHECK(has_line("single.args", "--no-playlist"));
	CHECK(has_line("single.args", "--ignore-config"));
	CHECK(has_line("single.args", "b[ext=mp4]/b/bv*+ba"));
	CHECK(has_line("single.args", "socks5h://127.0.0.1:9050"));
	CHECK(has_line("single.args", "emberd-test/1"));
	CHECK(has_line("single.args", "--"));
	CHECK(has_line("single.args", "https://example.org/story.html"));

	/* Video and audio, with headers. */
	fake_answer("split", split);
	o.program = path_of("split");
	o.proxy = o.user_agent = NULL;
	run_job(&o, "-o/evil", &out, NULL);	/* after "--": a URL, not an option */
	CHECK(out.have_res && out.res.n_media == 2);
	if (out.have_res && out.res.n_media == 2) {
		CHECK(strcmp(out.res.media[1].url, "https://r1.example/videoplayback?itag=140") == 0);
		CHECK(strcmp(out.res.media[0].headers[0], "User-Agent: UA/1") == 0);
	}
	resolver_result_free(&out.res);
	CHECK(!has_line("split.args", "--proxy") && has_line("split.args", "-o/evil"));

	/* Hangs, with a child of its own: killed at the deadline, the loop
	 * free all along. */
	snprintf(text, sizeof(text), "#!/bin/sh\necho $$ > '%s/hang.pids'\nsleep 600 &\n"
	    "echo $! >> '%s/hang.pids'\necho 'working...' >&2\nwait\n", dir, dir);
	write_file("hang", text, 1);
	o.program = path_of("hang");
	o.timeout_s = 2;
	took = run_job(&o, "https://example.org/", &out, &ticks);
	CHECK(strcmp(out.err, "yt-dlp gave no answer within 2 s") == 0);
	CHECK(took >= 1.9 && took < 5);
	CHECK(ticks >= 10);
	CHECK(read_pids("hang.pids", pids));
	CHECK(gone(pids[0]));
	CHECK(gone(pids[1]));

	/* 100 MB on stdout. */
	write_file("big", "#!/bin/sh\nexec head -c 100000000 /dev/zero\n", 1);
	o.program = path_of("big");
	o.timeout_s = 60;
	took = run_job(&o, "https://example.org/", &out, NULL);
	CHECK(strcmp(out.err, "yt-dlp printed more than 16 MiB") == 0);
	CHECK(took < 30);
	o.max_output = 1000;
	run_job(&o, "https://example.org/", &out, NULL);
	CHECK(strcmp(out.err, "yt-dlp printed more than 1000 bytes") == 0);
	o.max_output = 0;

	/* Broken JSON. */
	write_file("broken", "#!/bin/sh\nprintf '{\"title\": \"x\", \"url\": '\n", 1);
	o.program = path_of("broken");
	run_job(&o, "https://example.org/", &out, NULL);
	CHECK(strncmp(out.err, "yt-dlp's answer is not JSON: ", 29) == 0);

	/* Exit 1 with a message: its last non-empty line. */
	write_file("fail", "#!/bin/sh\necho noise >&2\n"
	    "printf 'ERROR: Unsupported URL: http://example.org/\\n\\n  \\n' >&2\n"
	    "echo null\nexit 1\n", 1);
	o.program = path_of("fail");
	run_job(&o, "http://example.org/", &out, NULL);
	CHECK(strcmp(out.err, "yt-dlp exited with status 1: ERROR: Unsupported URL: "
	    "http://example.org/") == 0);

	/* Killed by a signal, after 5 KiB of stderr: the last line kept. */
	write_file("sig", "#!/bin/sh\nhead -c 5000 /dev/zero | tr '\\0' x >&2\n"
	    "printf '\\nERROR: the end\\n' >&2\nkill -TERM $$\n", 1);
	o.program = path_of("sig");
	run_job(&o, "http://example.org/", &out, NULL);
	CHECK(strcmp(out.err, "yt-dlp was killed by signal 15: ERROR: the end") == 0);

	/* A last line of 5000 bytes: shown in part. */
	write_file("long", "#!/bin/sh\nhead -c 5000 /dev/zero | tr '\\0' x >&2\nexit 2\n", 1);
	o.program = path_of("long");
	run_job(&o, "http://example.org/", &out, NULL);
	CHECK(strncmp(out.err, "yt-dlp exited with status 2: xxx", 32) == 0);
	CHECK(strlen(out.err) < 400);

	/* Not there. */
	base = event_base_new();
	o.program = path_of("nope");
	err[0] = '\0';
	j = resolver_start(base, &o, "https://example.org/", done_cb, &out, err, sizeof(err));
	CHECK(j == NULL);
	CHECK(strcmp(err, "yt-dlp is not installed (apt-get install yt-dlp)") == 0);
	o.program = "emberd-no-such-program";	/* on PATH */
	j = resolver_start(base, &o, "https://example.org/", done_cb, &out, err, sizeof(err));
	CHECK(j == NULL);
	CHECK(strcmp(err, "yt-dlp is not installed (apt-get install yt-dlp)") == 0);

	/* Three at once on one loop. */
	memset(outs, 0, sizeof(outs));
	o.program = path_of("single");
	js[0] = resolver_start(base, &o, "https://a.example/", done_cb, &outs[0], err, sizeof(err));
	o.program = path_of("split");
	js[1] = resolver_start(base, &o, "https://b.example/", done_cb, &outs[1], err, sizeof(err));
	o.program = path_of("fail");
	js[2] = resolver_start(base, &o, "https://c.example/", done_cb, &outs[2], err, sizeof(err));
	CHECK(js[0] != NULL && js[1] != NULL && js[2] != NULL);
	for (i = 0; i < 1000 && (outs[0].called + outs[1].called + outs[2].called) < 3; i++)
		event_base_loop(base, EVLOOP_ONCE);
	CHECK(outs[0].called == 1 && outs[0].have_res && outs[0].res.n_media == 1);
	CHECK(outs[1].called == 1 && outs[1].have_res && outs[1].res.n_media == 2);
	CHECK(outs[2].called == 1 && strstr(outs[2].err, "status 1") != NULL);
	for (i = 0; i < 3; i++)
		resolver_result_free(&outs[i].res);

	/* Cancelled while it hangs: no callback, nothing left running. */
	{
		struct timeval tv = { 0, 500000 };
		struct event *ev;

		unlink(path_of("hang.pids"));
		memset(&out, 0, sizeof(out));
		o.program = path_of("hang");
		o.timeout_s = 30;
		j = resolver_start(base, &o, "https://example.org/", done_cb, &out, err, sizeof(err));
		CHECK(j != NULL);
		CHECK(read_pids("hang.pids", pids));
		ev = evtimer_new(base, cancel_cb, &j);
		evtimer_add(ev, &tv);
		while (j != NULL)
			event_base_loop(base, EVLOOP_ONCE);
		CHECK(out.called == 0);
		CHECK(gone(pids[0]));
		CHECK(gone(pids[1]));
		event_free(ev);
	}
	event_base_free(base);
}

/* ------------------------------------------------------------------ */

static int
on_path(const char *prog)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", prog);
	return system(cmd) == 0;
}

/*
 * The real yt-dlp, offline: python3's http.server serves story.html
 * with a <video src="clip.mp4">; the generic extractor must give the
 * clip's URL, with our User-Agent among its headers.
 */
static void
test_real(void)
{
	struct resolver_opts o;
	struct outcome out;
	char cmd[1024], url[256], want[256], portbuf[32];
	int fds[2], status;
	pid_t srv;
	ssize_t n;
	size_t k;
	int found_ua = 0;

	/* Not a skip: a suite that did not run this proved nothing. */
	if (!on_path("yt-dlp") || !on_path("ffmpeg") || !on_path("python3")) {
		fprintf(stderr, "yt-dlp, ffmpeg and python3 are needed on PATH "
		    "(apt-get install yt-dlp ffmpeg python3)\n");
		check_failures++;
		return;
	}
	snprintf(cmd, sizeof(cmd), "ffmpeg -loglevel error -y -f lavfi "
	    "-i testsrc=duration=1:size=64x64:rate=10 -pix_fmt yuv420p '%s/clip.mp4' "
	    "</dev/null", dir);
	CHECK(system(cmd) == 0);
	write_file("story.html", "<!doctype html><html><head><title>A story</title></head>"
	    "<body><p>Look:</p><video controls src=\"clip.mp4\"></video></body></html>\n", 0);
	write_file("serve.py", "import http.server, os, sys\n"
	    "os.chdir(sys.argv[1])\n"
	    "s = http.server.ThreadingHTTPServer(('127.0.0.1', 0), "
	    "http.server.SimpleHTTPRequestHandler)\n"
	    "print(s.server_address[1], flush=True)\n"
	    "s.serve_forever()\n", 0);
	CHECK(pipe(fds) == 0);
	if ((srv = fork()) == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		if (freopen("/dev/null", "w", stderr) == NULL)
			_exit(127);
		execlp("python3", "python3", path_of("serve.py"), dir, (char *)NULL);
		_exit(127);
	}
	/* Its stdout stays open until it is killed: a closed pipe would
	 * break the print of the port's line. */
	close(fds[1]);
	k = 0;
	while (k < sizeof(portbuf) - 1 && memchr(portbuf, '\n', k) == NULL &&
	    (n = read(fds[0], portbuf + k, sizeof(portbuf) - 1 - k)) > 0)
		k += (size_t)n;
	portbuf[k] = '\0';
	CHECK(strchr(portbuf, '\n') != NULL);
	if (strchr(portbuf, '\n') == NULL) {
		kill(srv, SIGKILL);
		waitpid(srv, &status, 0);
		close(fds[0]);
		return;
	}
	portbuf[strcspn(portbuf, "\n")] = '\0';
	snprintf(url, sizeof(url), "http://127.0.0.1:%s/story.html", portbuf);
	snprintf(want, sizeof(want), "http://127.0.0.1:%s/clip.mp4", portbuf);

	memset(&o, 0, sizeof(o));
	o.timeout_s = 120;
	o.user_agent = "emberd-test/1";
	run_job(&o, url, &out, NULL);
	if (!out.have_res)
		fprintf(stderr, "real yt-dlp on %s: %s\n", url, out.err);
	CHECK(out.have_res);
	if (out.have_res) {
		CHECK(out.res.n_media == 1);
		CHECK(strcmp(out.res.media[0].url, want) == 0);
		CHECK(out.res.media[0].ext != NULL && strcmp(out.res.media[0].ext, "mp4") == 0);
		CHECK(out.res.title != NULL && strstr(out.res.title, "A story") != NULL);
		for (k = 0; k < out.res.media[0].n_headers; k++)
			if (strcmp(out.res.media[0].headers[k], "User-Agent: emberd-test/1") == 0)
				found_ua = 1;
		CHECK(found_ua);
		printf("real yt-dlp: %s -> %s (%s)\n", url, out.res.media[0].url,
		    out.res.title != NULL ? out.res.title : "no title");
	}
	resolver_result_free(&out.res);
	kill(srv, SIGKILL);
	waitpid(srv, &status, 0);
	close(fds[0]);
}

static void
stop_cb(evutil_socket_t fd, short what, void *arg)
{
	int *stop = arg;

	*stop = 1;
}

/*
 * With the work queue running on the loop: the answer parsed off it,
 * FN still called from the loop; then a 1 MB answer cancelled after 0,
 * 20, ... 300 ms (while yt-dlp prints, while the answer is parsed,
 * after): no callback, nothing leaked.
 */
static void
test_workq(void)
{
	struct event_base *base = event_base_new();
	struct resolver_opts o;
	struct resolver_job *j;
	struct outcome out;
	char err[512], text[1024];
	FILE *f;
	int ms, stop, i;

	CHECK(workq_start(base, 2, err, sizeof(err)) == 0);
	memset(&o, 0, sizeof(o));
	o.timeout_s = 30;
	o.program = path_of("split");
	memset(&out, 0, sizeof(out));
	j = resolver_start(base, &o, "https://b.example/", done_cb, &out, err, sizeof(err));
	CHECK(j != NULL);
	for (i = 0; i < 1000 && out.called == 0; i++)
		event_base_loop(base, EVLOOP_ONCE);
	CHECK(out.called == 1 && out.have_res && out.res.n_media == 2);
	resolver_result_free(&out.res);

	/* 1 MB: 4000 formats of 250 bytes beside the answer's own url. */
	f = fopen(path_of("large.json"), "w");
	CHECK(f != NULL);
	if (f != NULL) {
		fputs("{\"url\": \"https://a.example/v.mp4\", \"ext\": \"mp4\", \"formats\": [", f);
		for (i = 0; i < 4000; i++)
			fprintf(f, "%s{\"format_id\": \"%d\", \"url\": \"https://a.example/%0200d\"}",
			    i ? ", " : "", i, i);
		fputs("]}\n", f);
		fclose(f);
	}
	snprintf(text, sizeof(text), "#!/bin/sh\nexec cat '%s'\n", path_of("large.json"));
	write_file("large", text, 1);
	o.program = path_of("large");
	for (ms = 0; ms <= 300; ms += 20) {
		struct timeval tv = { 0, ms * 1000 };
		struct event *ev = evtimer_new(base, stop_cb, &stop);

		memset(&out, 0, sizeof(out));
		stop = 0;
		j = resolver_start(base, &o, "https://a.example/", done_cb, &out, err, sizeof(err));
		CHECK(j != NULL);
		evtimer_add(ev, &tv);
		while (!stop && out.called == 0)
			event_base_loop(base, EVLOOP_ONCE);
		if (out.called == 0)
			resolver_cancel(j);
		else
			CHECK(out.have_res && out.res.n_media == 1);
		resolver_result_free(&out.res);
		event_free(ev);
	}
	/* A cancelled parse is freed by its done function, at the latest here. */
	workq_stop();
	event_base_free(base);
}

int
main(void)
{
	char cmd[300];

	snprintf(dir, sizeof(dir), "%s/emberd-resolver.XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_parse();
	test_children();
	test_workq();
	test_real();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	CHECK_DONE();
}

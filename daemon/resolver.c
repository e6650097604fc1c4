/*
 * yt-dlp as a resolver (resolver.h): the child process and its life on
 * the event loop (spawn, two pipes read as they come, a deadline, the
 * kill of its process group, the reap without a SIGCHLD handler), and
 * the reader of its JSON answer.
 *
 * A job ends in one place, resolver_poll_cb: the child is reaped (or
 * given up on after a kill), the answer parsed, then the job is freed
 * and FN called. Every other path (both pipes at EOF, a kill for the
 * deadline or the output limit, the end of a parse) only arms the poll
 * timer, so no callback ever runs on a job that was freed under it, and
 * FN always runs from the loop itself (never from inside someone's
 * workq_drain).
 *
 * The parse takes some 40 ms a MiB of answer: when the work queue runs,
 * it is an ingest job off the loop, as a body's hashing is.
 */
#include "resolver.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "log.h"
#include "names.h"
#include "workq.h"

extern char **environ;

/*
 * READ_TURN: bytes read from one pipe per event, so that a child
 * printing as fast as it can shares the loop with everything else.
 * OUT_CHUNK: the answer buffer's first size and least growth.
 * POLL_MS_MAX: the longest wait between two looks for the child's exit;
 * the first look is at once, then 1 ms, doubling (a child that closed
 * its pipes is nearly always gone within a millisecond).
 * WHY_MAX: an error line; LINE_MAX_SHOWN: what it quotes of stderr's
 * last line (yt-dlp's "ERROR: ..." says what matters first).
 */
#define READ_TURN	(256u * 1024)
#define OUT_CHUNK	(64u * 1024)
#define POLL_MS_MAX	100
#define WHY_MAX		512
#define LINE_MAX_SHOWN	300

struct resolver_job {
	struct event_base *base;
	resolver_done_fn fn;
	void *arg;
	pid_t pid;		/* the child, and its process group; -1 once reaped */
	int status;		/* waitpid's, once reaped */
	int out_fd, err_fd;	/* -1 at EOF or once closed */
	struct event *out_ev, *err_ev;
	struct event *deadline;	/* timeout_s after the start */
	struct event *poll;	/* looks for the child's exit */
	unsigned poll_ms;	/* the poll's next interval */
	char *out;		/* stdout: the answer */
	size_t out_len, out_cap, out_max;
	char tail[RESOLVER_STDERR_KEEP];	/* stderr's last bytes */
	size_t tail_len;
	long timeout_s;
	enum { R_RUNNING, R_PARSING, R_PARSED } state;	/* the answer's parse */
	int cancelled;		/* while R_PARSING: the parse's done frees J */
	int parse_rc;		/* resolver_parse's, once R_PARSED */
	struct resolver_result res;	/* ...and its result */
	int killed;		/* by us: WHY says why */
	int64_t kill_ms;	/* monotonic, when */
	char why[WHY_MAX];
};

static void
resolver_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
resolver_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int64_t
resolver_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------ */
/* The answer */

/* A string member KEY of O, or NULL when absent or null; -1 (ERR set)
 * when it is another type. */
static int
resolver_json_string(json_t *o, const char *key, const char **s, size_t *len,
    char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);

	*s = NULL;
	*len = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		resolver_err(err, errlen, "yt-dlp's answer: \"%s\" is not a string", key);
		return -1;
	}
	/* jansson refuses \u0000 (no JSON_ALLOW_NUL): no NUL inside. */
	*s = json_string_value(v);
	*len = json_string_length(v);
	return 0;
}

/* A text (title, description, id): cut to MAX bytes at a character
 * boundary (jansson's strings are valid UTF-8). */
static int
resolver_text(json_t *o, const char *key, size_t max, char **out, char *err, size_t errlen)
{
	const char *s;
	size_t n;

	*out = NULL;
	if (resolver_json_string(o, key, &s, &n, err, errlen) == -1)
		return -1;
	if (s == NULL)
		return 0;
	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	if ((*out = strndup(s, n)) == NULL) {
		resolver_err(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

static int
resolver_has_control(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 1;
	return 0;
}

/* A short field (ext, protocol, format_id, codecs): at most
 * RESOLVER_WORD_MAX bytes, no control characters; EXT also only
 * letters, digits and '_', as it ends up in an item name. */
static int
resolver_word(json_t *o, const char *key, int is_ext, char **out, char *err, size_t errlen)
{
	const char *s;
	size_t n, i;

	*out = NULL;
	if (resolver_json_string(o, key, &s, &n, err, errlen) == -1)
		return -1;
	if (s == NULL)
		return 0;
	if (n > RESOLVER_WORD_MAX || resolver_has_control(s, n)) {
		resolver_err(err, errlen, "yt-dlp's answer: \"%s\" is not a short word", key);
		return -1;
	}
	for (i = 0; is_ext && i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_')) {
			resolver_err(err, errlen, "yt-dlp's answer: \"ext\" is not a file extension");
			return -1;
		}
	if ((*out = strndup(s, n)) == NULL) {
		resolver_err(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* RFC 9110 5.6.2: a token's characters. */
static int
resolver_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* http_headers: an object of strings, each made a "Name: value" line. */
static int
resolver_headers(json_t *o, struct resolver_media *m, char *err, size_t errlen)
{
	json_t *h = json_object_get(o, "http_headers"), *v;
	const char *name, *val;
	size_t i, nlen, vlen;

	if (h == NULL || json_is_null(h))
		return 0;
	if (!json_is_object(h)) {
		resolver_err(err, errlen, "yt-dlp's answer: \"http_headers\" is not an object");
		return -1;
	}
	if (json_object_size(h) > RESOLVER_HEADERS_MAX) {
		resolver_err(err, errlen, "yt-dlp's answer: more than %d http_headers",
		    RESOLVER_HEADERS_MAX);
		return -1;
	}
	if (json_object_size(h) == 0)
		return 0;
	if ((m->headers = calloc(json_object_size(h), sizeof(*m->headers))) == NULL) {
		resolver_err(err, errlen, "out of memory");
		return -1;
	}
	json_object_foreach(h, name, v) {
		if (!json_is_string(v)) {
			resolver_err(err, errlen, "yt-dlp's answer: http_headers: a value is not a string");
			return -1;
		}
		nlen = strlen(name);	/* keys with \u0000 were refused */
		val = json_string_value(v);
		vlen = json_string_length(v);
		for (i = 0; i < nlen; i++)
			if (!resolver_tchar((unsigned char)name[i]))
				break;
		if (nlen == 0 || i < nlen) {
			resolver_err(err, errlen, "yt-dlp's answer: http_headers: a name is not a token");
			return -1;
		}
		/* A tab may stand in a value (RFC 9110 5.5); no other control. */
		for (i = 0; i < vlen; i++)
			if (((unsigned char)val[i] < 0x20 && val[i] != '\t') || val[i] == 0x7f)
				break;
		if (i < vlen) {
			resolver_err(err, errlen, "yt-dlp's answer: http_headers: %s has a control "
			    "character (CR, LF, ...)", name);
			return -1;
		}
		if (nlen + 2 + vlen > RESOLVER_HEADER_MAX) {
			resolver_err(err, errlen, "yt-dlp's answer: http_headers: %s is longer than "
			    "%d bytes", name, RESOLVER_HEADER_MAX);
			return -1;
		}
		if ((m->headers[m->n_headers] = malloc(nlen + 2 + vlen + 1)) == NULL) {
			resolver_err(err, errlen, "out of memory");
			return -1;
		}
		memcpy(m->headers[m->n_headers], name, nlen);
		memcpy(m->headers[m->n_headers] + nlen, ": ", 2);
		memcpy(m->headers[m->n_headers] + nlen + 2, val, vlen + 1);
		m->n_headers++;
	}
	return 0;
}

/* filesize, else filesize_approx (yt-dlp gives floats for estimates);
 * 0 when neither is a positive number. */
static int
resolver_size(json_t *o, uint64_t *size, char *err, size_t errlen)
{
	static const char *const keys[] = { "filesize", "filesize_approx" };
	json_t *v;
	size_t i;
	double d;

	*size = 0;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		v = json_object_get(o, keys[i]);
		if (v == NULL || json_is_null(v))
			continue;
		if (!json_is_number(v)) {
			resolver_err(err, errlen, "yt-dlp's answer: \"%s\" is not a number", keys[i]);
			return -1;
		}
		d = json_number_value(v);
		if (d >= 1 && d < 1.8e19) {	/* NaN and negatives fail too */
			*size = (uint64_t)d;
			if (json_is_integer(v))
				*size = (uint64_t)json_integer_value(v);
			return 0;
		}
	}
	return 0;
}

static int
resolver_http_url(const char *s, size_t n)
{
	return (n > 7 && strncasecmp(s, "http://", 7) == 0) ||
	    (n > 8 && strncasecmp(s, "https://", 8) == 0);
}

/* One medium from O: a requested format, or the top level itself. */
static int
resolver_medium(json_t *o, struct resolver_media *m, char *err, size_t errlen)
{
	const char *s;
	size_t n;

	if (!json_is_object(o)) {
		resolver_err(err, errlen, "yt-dlp's answer: a requested format is not an object");
		return -1;
	}
	if (resolver_json_string(o, "url", &s, &n, err, errlen) == -1)
		return -1;
	if (s == NULL || n == 0) {
		resolver_err(err, errlen, "yt-dlp's answer has no media URL");
		return -1;
	}
	if (!resolver_http_url(s, n)) {
		resolver_err(err, errlen, "yt-dlp gave a non-http URL");
		return -1;
	}
	if (n > RESOLVER_URL_MAX) {
		resolver_err(err, errlen, "yt-dlp gave a URL longer than %d bytes", RESOLVER_URL_MAX);
		return -1;
	}
	if (resolver_has_control(s, n)) {
		resolver_err(err, errlen, "yt-dlp gave a URL with a control character");
		return -1;
	}
	if ((m->url = strndup(s, n)) == NULL) {
		resolver_err(err, errlen, "out of memory");
		return -1;
	}
	if (resolver_word(o, "ext", 1, &m->ext, err, errlen) == -1 ||
	    resolver_word(o, "protocol", 0, &m->protocol, err, errlen) == -1 ||
	    resolver_word(o, "format_id", 0, &m->format_id, err, errlen) == -1 ||
	    resolver_word(o, "vcodec", 0, &m->vcodec, err, errlen) == -1 ||
	    resolver_word(o, "acodec", 0, &m->acodec, err, errlen) == -1 ||
	    resolver_headers(o, m, err, errlen) == -1 ||
	    resolver_size(o, &m->size, err, errlen) == -1)
		return -1;
	return 0;
}

/*
 * What jansson's tree of a JSON text would cost, in units of about 48
 * bytes, without parsing it. Every value but the first follows a '[',
 * '{', ',' or ':' outside a string: one unit each (a number, true, a
 * key's slot); a string is one more (its own allocation), an array two
 * more (its table), an object seven more (its hash table: an empty one
 * costs some 350 bytes). Measured with jansson 2.14 on the worst
 * shapes ("[0,0,...", "["","",...", "[{},{},...", "[{"k":0},..."). An
 * upper bound: empty containers count one value too many. O(LEN), no
 * memory.
 */
static size_t
resolver_json_cost(const char *s, size_t len)
{
	size_t i, n = 1;
	int in_str = 0;

	for (i = 0; i < len; i++) {
		if (in_str) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				in_str = 0;
			continue;
		}
		switch (s[i]) {
		case '"':
			in_str = 1;
			n += 1;
			break;
		case '[':
			n += 3;
			break;
		case '{':
			n += 8;
			break;
		case ',': case ':':
			n++;
			break;
		}
	}
	return n;
}

int
resolver_parse(const char *json, size_t len, struct resolver_result *out, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root = NULL, *rf, *v;
	const char *type, *page;
	size_t i, tlen, plen, n;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < len && json[i] != '\0' && strchr(" \t\r\n", json[i]) != NULL; i++)
		;
	if (i == len) {
		resolver_err(err, errlen, "yt-dlp printed no answer");
		return -1;
	}
	if (resolver_json_cost(json, len) > RESOLVER_JSON_COST_MAX) {
		resolver_err(err, errlen, "yt-dlp's answer holds too many JSON values "
		    "(more than %u MiB to parse)", RESOLVER_JSON_COST_MAX * 48 >> 20);
		return -1;
	}
	if ((root = json_loadb(json, len, JSON_DECODE_ANY, &jerr)) == NULL) {
		resolver_err(err, errlen, "yt-dlp's answer is not JSON: %s", jerr.text);
		return -1;
	}
	if (!json_is_object(root)) {
		resolver_err(err, errlen, "yt-dlp's answer is not a JSON object");
		goto fail;
	}
	if (resolver_json_string(root, "_type", &type, &tlen, err, errlen) == -1)
		goto fail;
	if (type != NULL && (strcmp(type, "playlist") == 0 || strcmp(type, "multi_video") == 0)) {
		resolver_err(err, errlen, "yt-dlp's answer is a playlist, not one video");
		goto fail;
	}
	if (resolver_text(root, "title", RESOLVER_TITLE_MAX, &out->title, err, errlen) == -1 ||
	    resolver_text(root, "description", RESOLVER_DESCRIPTION_MAX, &out->description,
	    err, errlen) == -1 ||
	    resolver_text(root, "id", RESOLVER_TITLE_MAX, &out->id, err, errlen) == -1)
		goto fail;
	/* The page's own URL is only shown: an odd one is left out. */
	if (resolver_json_string(root, "webpage_url", &page, &plen, err, errlen) == -1)
		goto fail;
	if (page != NULL && plen <= RESOLVER_URL_MAX && !resolver_has_control(page, plen) &&
	    (out->webpage_url = strndup(page, plen)) == NULL) {
		resolver_err(err, errlen, "out of memory");
		goto fail;
	}

	rf = json_object_get(root, "requested_formats");
	if (rf != NULL && !json_is_null(rf) && !json_is_array(rf)) {
		resolver_err(err, errlen, "yt-dlp's answer: \"requested_formats\" is not an array");
		goto fail;
	}
	n = json_is_array(rf) ? json_array_size(rf) : 0;
	if (n > RESOLVER_MEDIA_MAX) {
		resolver_err(err, errlen, "yt-dlp's answer requests more than %d formats",
		    RESOLVER_MEDIA_MAX);
		goto fail;
	}
	if ((out->media = calloc(n > 0 ? n : 1, sizeof(*out->media))) == NULL) {
		resolver_err(err, errlen, "out of memory");
		goto fail;
	}
	if (n == 0) {
		out->n_media = 1;
		if (resolver_medium(root, &out->media[0], err, errlen) == -1)
			goto fail;
	} else {
		json_array_foreach(rf, i, v) {
			out->n_media++;
			if (resolver_medium(v, &out->media[i], err, errlen) == -1)
				goto fail;
		}
	}
	json_decref(root);
	return 0;
fail:
	json_decref(root);
	resolver_result_free(out);
	return -1;
}

void
resolver_result_free(struct resolver_result *r)
{
	size_t i, k;

	if (r == NULL)
		return;
	for (i = 0; i < r->n_media; i++) {
		struct resolver_media *m = &r->media[i];

		free(m->url);
		free(m->ext);
		free(m->protocol);
		free(m->format_id);
		free(m->vcodec);
		free(m->acodec);
		for (k = 0; k < m->n_headers; k++)
			free(m->headers[k]);
		free(m->headers);
	}
	free(r->media);
	free(r->title);
	free(r->description);
	free(r->id);
	free(r->webpage_url);
	memset(r, 0, sizeof(*r));
}

/* ------------------------------------------------------------------ */
/* The child */

static void
resolver_close_pipe(int *fd, struct event **ev)
{
	if (*ev != NULL) {
		event_free(*ev);
		*ev = NULL;
	}
	if (*fd != -1) {
		close(*fd);
		*fd = -1;
	}
}

/* Look for the child's exit: at once on the next loop turn, then after
 * the poll's growing interval. */
static void
resolver_poll_soon(struct resolver_job *j, int now)
{
	struct timeval tv = { 0, 0 };

	if (!now) {
		tv.tv_sec = j->poll_ms / 1000;
		tv.tv_usec = (j->poll_ms % 1000) * 1000;
		j->poll_ms = j->poll_ms * 2 > POLL_MS_MAX ? POLL_MS_MAX : j->poll_ms * 2;
	}
	evtimer_add(j->poll, &tv);
}

/* Kill the child's group for WHY; the poll reaps it and ends the job. */
static void
resolver_kill(struct resolver_job *j, const char *why)
{
	if (j->killed)
		return;
	j->killed = 1;
	snprintf(j->why, sizeof(j->why), "%s", why);
	kill(-j->pid, SIGKILL);
	j->kill_ms = resolver_now_ms();
	resolver_close_pipe(&j->out_fd, &j->out_ev);
	resolver_close_pipe(&j->err_fd, &j->err_ev);
	evtimer_del(j->deadline);
	j->poll_ms = 1;
	resolver_poll_soon(j, 1);
}

static void
resolver_read_out(struct resolver_job *j)
{
	size_t turn = 0, cap;
	ssize_t r;
	char *p;

	while (turn < READ_TURN) {
		if (j->out_len == j->out_cap) {
			/* One byte past the limit, to see it crossed. */
			cap = j->out_cap < OUT_CHUNK ? OUT_CHUNK : j->out_cap * 2;
			if (cap > j->out_max + 1)
				cap = j->out_max + 1;
			if ((p = realloc(j->out, cap)) == NULL) {
				resolver_kill(j, "out of memory for yt-dlp's answer");
				return;
			}
			j->out = p;
			j->out_cap = cap;
		}
		r = read(j->out_fd, j->out + j->out_len, j->out_cap - j->out_len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (r == -1) {
			char why[WHY_MAX];

			snprintf(why, sizeof(why), "reading yt-dlp's output: %s", strerror(errno));
			resolver_kill(j, why);
			return;
		}
		if (r == 0) {
			resolver_close_pipe(&j->out_fd, &j->out_ev);
			return;
		}
		j->out_len += (size_t)r;
		turn += (size_t)r;
		if (j->out_len > j->out_max) {
			char why[WHY_MAX];

			if (j->out_max % (1u << 20) == 0)
				snprintf(why, sizeof(why), "yt-dlp printed more than %zu MiB",
				    j->out_max >> 20);
			else
				snprintf(why, sizeof(why), "yt-dlp printed more than %zu bytes",
				    j->out_max);
			resolver_kill(j, why);
			return;
		}
	}
}

static void
resolver_read_err(struct resolver_job *j)
{
	char buf[4096];
	size_t turn = 0, n, drop;
	ssize_t r;

	while (turn < READ_TURN) {
		r = read(j->err_fd, buf, sizeof(buf));
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (r <= 0) {	/* EOF, or an error: stderr is only for the message */
			resolver_close_pipe(&j->err_fd, &j->err_ev);
			return;
		}
		n = (size_t)r;
		turn += n;
		if (n >= sizeof(j->tail)) {
			memcpy(j->tail, buf + n - sizeof(j->tail), sizeof(j->tail));
			j->tail_len = sizeof(j->tail);
			continue;
		}
		if (j->tail_len + n > sizeof(j->tail)) {
			drop = j->tail_len + n - sizeof(j->tail);
			memmove(j->tail, j->tail + drop, j->tail_len - drop);
			j->tail_len -= drop;
		}
		memcpy(j->tail + j->tail_len, buf, n);
		j->tail_len += n;
	}
}

static void
resolver_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct resolver_job *j = arg;

	if (fd == j->out_fd)
		resolver_read_out(j);
	else if (fd == j->err_fd)
		resolver_read_err(j);
	if (!j->killed && j->out_fd == -1 && j->err_fd == -1) {
		j->poll_ms = 1;
		resolver_poll_soon(j, 1);
	}
}

static void
resolver_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct resolver_job *j = arg;
	char why[WHY_MAX];

	snprintf(why, sizeof(why), "yt-dlp gave no answer within %ld s", j->timeout_s);
	resolver_kill(j, why);
}

/*
 * stderr's last non-empty line into BUF: at most LINE_MAX_SHOWN bytes,
 * control characters and bytes of broken UTF-8 (the kept tail may begin
 * inside a character) shown as '?'. Empty when there is none.
 */
static void
resolver_last_line(const struct resolver_job *j, char *buf, size_t size)
{
	size_t end = j->tail_len, start, n, i;

	buf[0] = '\0';
	while (end > 0 && j->tail[end - 1] != '\0' && strchr(" \t\r\n", j->tail[end - 1]) != NULL)
		end--;
	if (end == 0)
		return;
	for (start = end; start > 0 && j->tail[start - 1] != '\n'; start--)
		;
	n = end - start;
	if (n > LINE_MAX_SHOWN)
		n = LINE_MAX_SHOWN;
	if (n >= size)
		n = size - 1;
	memcpy(buf, j->tail + start, n);
	buf[n] = '\0';
	for (i = 0; i < n; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = '?';
	if (!name_utf8_valid(buf, n))
		for (i = 0; i < n; i++)
			if ((unsigned char)buf[i] >= 0x80)
				buf[i] = '?';
}

/*
 * Whether the child is reaped: it has exited (waitid WNOWAIT leaves it a
 * zombie, so its process group cannot be someone else's yet), what it
 * started is killed with its group, and then it is reaped.
 */
static int
resolver_reap(struct resolver_job *j)
{
	siginfo_t si;
	int r;

	memset(&si, 0, sizeof(si));
	do
		r = waitid(P_PID, (id_t)j->pid, &si, WEXITED | WNOHANG | WNOWAIT);
	while (r == -1 && errno == EINTR);
	if (r == -1) {
		/* ECHILD: someone else reaped it (a waitpid(-1) elsewhere). */
		if (!j->killed)
			snprintf(j->why, sizeof(j->why), "yt-dlp's exit status was lost: %s",
			    strerror(errno));
		j->killed = 1;
		j->pid = -1;
		return 1;
	}
	if (si.si_pid == 0)
		return 0;
	kill(-j->pid, SIGKILL);
	while (waitpid(j->pid, &j->status, 0) == -1 && errno == EINTR)
		;
	j->pid = -1;
	return 1;
}

/* Free J's resources; the child must be reaped or given up on. */
static void
resolver_free(struct resolver_job *j)
{
	resolver_close_pipe(&j->out_fd, &j->out_ev);
	resolver_close_pipe(&j->err_fd, &j->err_ev);
	if (j->deadline != NULL)
		event_free(j->deadline);
	if (j->poll != NULL)
		event_free(j->poll);
	free(j->out);
	free(j);
}

/* The parse, on a worker thread: J is the job's until the done. */
static void
resolver_parse_work(void *arg)
{
	struct resolver_job *j = arg;

	j->parse_rc = resolver_parse(j->out, j->out_len, &j->res, j->why, sizeof(j->why));
}

static void
resolver_parse_done(void *arg)
{
	struct resolver_job *j = arg;

	if (j->cancelled) {
		resolver_result_free(&j->res);
		resolver_free(j);
		return;
	}
	j->state = R_PARSED;
	resolver_poll_soon(j, 1);
}

/* Hand the outcome to FN: the job is freed first (FN may start others,
 * or cancel others). */
static void
resolver_deliver(struct resolver_job *j)
{
	resolver_done_fn fn = j->fn;
	void *fn_arg = j->arg;
	struct resolver_result res = j->res;
	char why[WHY_MAX];
	int ok = j->parse_rc == 0;

	snprintf(why, sizeof(why), "%s", j->why);
	resolver_free(j);
	if (ok)
		fn(fn_arg, &res, NULL);
	else
		fn(fn_arg, NULL, why);
}

static void
resolver_poll_cb(evutil_socket_t fd, short what, void *arg)
{
	struct resolver_job *j = arg;
	char line[LINE_MAX_SHOWN + 1];

	if (j->state == R_PARSED) {
		resolver_deliver(j);
		return;
	}
	if (!resolver_reap(j)) {
		if (j->killed && resolver_now_ms() - j->kill_ms > RESOLVER_REAP_MS) {
			log_warn("resolver: yt-dlp (pid %ld) did not end %d ms after SIGKILL; "
			    "left unreaped", (long)j->pid, RESOLVER_REAP_MS);
			j->pid = -1;
		} else {
			resolver_poll_soon(j, 0);
			return;
		}
	}
	evtimer_del(j->deadline);
	resolver_last_line(j, line, sizeof(line));
	j->parse_rc = -1;
	if (j->killed)
		;	/* WHY says why */
	else if (WIFEXITED(j->status) && WEXITSTATUS(j->status) != 0)
		snprintf(j->why, sizeof(j->why), "yt-dlp exited with status %d%s%s",
		    WEXITSTATUS(j->status), line[0] != '\0' ? ": " : "", line);
	else if (WIFSIGNALED(j->status))
		snprintf(j->why, sizeof(j->why), "yt-dlp was killed by signal %d%s%s",
		    WTERMSIG(j->status), line[0] != '\0' ? ": " : "", line);
	else {
		if (j->out == NULL && (j->out = strdup("")) == NULL) {
			snprintf(j->why, sizeof(j->why), "out of memory");
			resolver_deliver(j);
			return;
		}
		j->state = R_PARSING;
		if (workq_threads() > 0 &&
		    workq_submit(WORKQ_INGEST, resolver_parse_work, resolver_parse_done, j) == 0)
			return;
		resolver_parse_work(j);
	}
	j->state = R_PARSED;
	resolver_deliver(j);
}

/* Keep a pipe end off 0, 1 and 2, so that the child's dup2 onto those
 * never overwrites another of its ends (a daemon may run with them
 * closed). */
static int
resolver_fd_high(int *fd)
{
	int nfd;

	if (*fd > 2)
		return 0;
	if ((nfd = fcntl(*fd, F_DUPFD_CLOEXEC, 3)) == -1)
		return -1;
	close(*fd);
	*fd = nfd;
	return 0;
}

static int
resolver_pipe(int p[2])
{
	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	if (resolver_fd_high(&p[0]) == -1 || resolver_fd_high(&p[1]) == -1 ||
	    fcntl(p[0], F_SETFL, O_NONBLOCK) == -1) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	return 0;
}

/*
 * posix_spawnp: a vfork-like start that reports exec's errno (so a
 * missing program is known at once), with the process group, signal
 * state and descriptors set in the child before exec.
 */
static int
resolver_spawn(struct resolver_job *j, const struct resolver_opts *o, const char *url,
    int out_w, int err_w, char *err, size_t errlen)
{
	static const int sigs[] = { SIGPIPE, SIGXFSZ, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD };
	const char *argv[32];
	const char *prog = o->program != NULL ? o->program : "yt-dlp";
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dfl;
	size_t n = 0, i;
	pid_t pid;
	int r;

	argv[n++] = prog;
	argv[n++] = "--dump-single-json";
	argv[n++] = "--no-playlist";
	argv[n++] = "--no-warnings";
	argv[n++] = "--no-progress";
	argv[n++] = "--ignore-config";
	argv[n++] = "--no-cache-dir";
	argv[n++] = "--socket-timeout";
	argv[n++] = "30";
	argv[n++] = "-f";
	argv[n++] = "b[ext=mp4]/b/bv*+ba";
	if (o->proxy != NULL && o->proxy[0] != '\0') {
		argv[n++] = "--proxy";
		argv[n++] = o->proxy;
	}
	if (o->user_agent != NULL && o->user_agent[0] != '\0') {
		argv[n++] = "--user-agent";
		argv[n++] = o->user_agent;
	}
	argv[n++] = "--";
	argv[n++] = url;
	argv[n] = NULL;

	sigemptyset(&none);
	sigemptyset(&dfl);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&dfl, sigs[i]);
	if ((r = posix_spawn_file_actions_init(&fa)) != 0) {
		resolver_err(err, errlen, "yt-dlp could not be run: %s", strerror(r));
		return -1;
	}
	if ((r = posix_spawnattr_init(&at)) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		resolver_err(err, errlen, "yt-dlp could not be run: %s", strerror(r));
		return -1;
	}
	if ((r = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)) != 0 ||
	    (r = posix_spawn_file_actions_adddup2(&fa, out_w, 1)) != 0 ||
	    (r = posix_spawn_file_actions_adddup2(&fa, err_w, 2)) != 0 ||
	    (r = posix_spawn_file_actions_addclosefrom_np(&fa, 3)) != 0 ||
	    (r = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF)) != 0 ||
	    (r = posix_spawnattr_setpgroup(&at, 0)) != 0 ||
	    (r = posix_spawnattr_setsigmask(&at, &none)) != 0 ||
	    (r = posix_spawnattr_setsigdefault(&at, &dfl)) != 0 ||
	    (r = posix_spawnp(&pid, prog, &fa, &at, (char *const *)argv, environ)) != 0) {
		if (r == ENOENT)
			resolver_err(err, errlen, "yt-dlp is not installed (apt-get install yt-dlp)");
		else
			resolver_err(err, errlen, "yt-dlp could not be run: %s", strerror(r));
		posix_spawn_file_actions_destroy(&fa);
		posix_spawnattr_destroy(&at);
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	j->pid = pid;
	return 0;
}

struct resolver_job *
resolver_start(struct event_base *base, const struct resolver_opts *o, const char *url,
    resolver_done_fn fn, void *arg, char *err, size_t errlen)
{
	struct resolver_job *j;
	struct timeval tv;
	int out[2] = { -1, -1 }, errp[2] = { -1, -1 };

	if (o->timeout_s <= 0 || url == NULL || fn == NULL) {
		resolver_err(err, errlen, "resolver: a timeout, a URL and a callback are needed");
		return NULL;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		resolver_err(err, errlen, "out of memory");
		return NULL;
	}
	j->base = base;
	j->fn = fn;
	j->arg = arg;
	j->pid = -1;
	j->out_fd = j->err_fd = -1;
	j->timeout_s = o->timeout_s;
	j->out_max = o->max_output != 0 ? o->max_output : RESOLVER_OUTPUT_MAX;
	if ((j->deadline = evtimer_new(base, resolver_deadline_cb, j)) == NULL ||
	    (j->poll = evtimer_new(base, resolver_poll_cb, j)) == NULL) {
		resolver_err(err, errlen, "out of memory");
		goto fail;
	}
	if (resolver_pipe(out) == -1 || resolver_pipe(errp) == -1) {
		resolver_err(err, errlen, "yt-dlp could not be run: pipe: %s", strerror(errno));
		goto fail;
	}
	j->out_fd = out[0];
	j->err_fd = errp[0];
	out[0] = errp[0] = -1;
	if ((j->out_ev = event_new(base, j->out_fd, EV_READ | EV_PERSIST, resolver_read_cb, j)) == NULL ||
	    (j->err_ev = event_new(base, j->err_fd, EV_READ | EV_PERSIST, resolver_read_cb, j)) == NULL) {
		resolver_err(err, errlen, "out of memory");
		goto fail;
	}
	if (resolver_spawn(j, o, url, out[1], errp[1], err, errlen) == -1)
		goto fail;
	close(out[1]);
	close(errp[1]);
	event_add(j->out_ev, NULL);
	event_add(j->err_ev, NULL);
	tv.tv_sec = o->timeout_s;
	tv.tv_usec = 0;
	evtimer_add(j->deadline, &tv);
	return j;
fail:
	if (out[0] != -1)
		close(out[0]);
	if (out[1] != -1)
		close(out[1]);
	if (errp[0] != -1)
		close(errp[0]);
	if (errp[1] != -1)
		close(errp[1]);
	resolver_free(j);
	return NULL;
}

void
resolver_cancel(struct resolver_job *j)
{
	struct timespec ms = { 0, 1000000 };
	int64_t until;

	if (j == NULL)
		return;
	if (j->state == R_PARSING) {
		/* The work queue holds J: its done frees it. */
		j->cancelled = 1;
		return;
	}
	if (j->pid > 0) {
		/* Not reaped yet, so the group is still the child's own. */
		kill(-j->pid, SIGKILL);
		until = resolver_now_ms() + RESOLVER_REAP_MS;
		for (;;) {
			pid_t r = waitpid(j->pid, &j->status, WNOHANG);

			if (r == j->pid || (r == -1 && errno != EINTR))
				break;
			if (resolver_now_ms() > until) {
				log_warn("resolver: yt-dlp (pid %ld) did not end %d ms after SIGKILL; "
				    "left unreaped", (long)j->pid, RESOLVER_REAP_MS);
				break;
			}
			if (r == 0)
				nanosleep(&ms, NULL);
		}
	}
	resolver_result_free(&j->res);
	resolver_free(j);
}

/*
 * http_client.c: the memory body keeps what arrives, NUL-terminated, up
 * to its cap and not a byte past it; the option set applies on this
 * libcurl.
 */
#include <stdlib.h>
#include <string.h>

#include "http_client.h"
#include "check.h"

int
main(void)
{
	struct http_client_buf b;
	struct http_client_opts o = {
		.proxy = NULL, .proxy_env = 0, .user_agent = "emberd-test",
		.max_redirs = 5, .connect_timeout = 30, .low_speed = 1,
		.low_speed_time = 60, .total_timeout = 300, .tls_verify = 0,
		.ca_file = "/nonexistent/ca.pem",
	};
	char piece[1000];
	size_t i;
	CURL *e;

	http_client_buf_init(&b, 100000);
	CHECK(b.data == NULL && b.len == 0);
	memset(piece, 'x', sizeof(piece));
	/* Many small pieces: all kept, in order, terminated. */
	for (i = 0; i < 100; i++)
		CHECK(http_client_buf_write_cb(piece, 1, sizeof(piece), &b) == sizeof(piece));
	CHECK(b.len == 100000 && b.data != NULL && b.data[b.len] == '\0');
	CHECK(b.cap == 100001);		/* doubling stops at the cap */
	CHECK(!b.too_big);
	/* One byte more is refused, and said so; what was kept stays. */
	CHECK(http_client_buf_write_cb(piece, 1, 1, &b) == 0);
	CHECK(b.too_big && b.len == 100000);
	http_client_buf_free(&b);
	CHECK(b.data == NULL && b.len == 0);

	http_client_buf_init(&b, 10);
	CHECK(http_client_buf_append(&b, "0123456789", 10) == 0);
	CHECK(strcmp(b.data, "0123456789") == 0);
	CHECK(http_client_buf_append(&b, "a", 1) == -1 && b.too_big);
	http_client_buf_free(&b);

	CHECK(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK);
	CHECK((e = curl_easy_init()) != NULL);
	CHECK(http_client_setup(e, &o) == 0);
	o.proxy = "socks5h://127.0.0.1:9050";
	o.proxy_env = 1;
	o.ca_file = NULL;
	o.tls_verify = 1;
	CHECK(http_client_setup(e, &o) == 0);
	http_client_buf_init(&b, 4096);
	http_client_buf_attach(e, &b);
	curl_easy_cleanup(e);
	http_client_buf_free(&b);
	curl_global_cleanup();
	CHECK_DONE();
}

/*
 * What an ACME CA answers is untrusted JSON: the first byte picks the
 * parser (directory, order, authorization, problem document), the rest
 * is the body. On success every URL is https:// without spaces or
 * control characters, a token is base64url, an order has 1 to
 * ACME_AUTHZ_MAX authorizations; a problem line is printable ASCII that
 * fits its buffer. Either way the *_free functions leave nothing behind
 * (ASan's leak check).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "acme.h"
#include "acme_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_printable(const char *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
			__builtin_trap();
}

static void
check_url(const char *s, int may_be_null)
{
	if (s == NULL) {
		if (!may_be_null)
			__builtin_trap();
		return;
	}
	if (strncmp(s, "https://", 8) != 0 || strchr(s, ' ') != NULL)
		__builtin_trap();
	check_printable(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data + 1;
	char err[256], problem[128];
	struct acme_directory d;
	struct acme_order o;
	struct acme_authz z;
	size_t i, len = size - 1;

	if (size == 0)
		return 0;
	switch (data[0] % 4) {
	case 0:
		if (acme_parse_directory(body, len, &d, err, sizeof(err)) == 0) {
			check_url(d.new_nonce, 0);
			check_url(d.new_account, 0);
			check_url(d.new_order, 0);
		}
		acme_directory_free(&d);
		break;
	case 1:
		if (acme_parse_order(body, len, &o, err, sizeof(err)) == 0) {
			if (o.n_authz == 0 || o.n_authz > ACME_AUTHZ_MAX)
				__builtin_trap();
			for (i = 0; i < o.n_authz; i++)
				check_url(o.authz[i], 0);
			check_url(o.finalize, 0);
			check_url(o.certificate, 1);
			check_printable(o.status);
			check_printable(o.error);
		}
		acme_order_free(&o);
		break;
	case 2:
		if (acme_parse_authz(body, len, &z, err, sizeof(err)) == 0) {
			check_printable(z.status);
			check_printable(z.domain);
			check_url(z.chall_url, 1);
			if (z.token != NULL && !acme_token_ok(z.token))
				__builtin_trap();
			check_printable(z.error);
		}
		acme_authz_free(&z);
		break;
	default:
		acme_parse_problem(body, len, problem, sizeof(problem));
		if (strlen(problem) >= sizeof(problem))
			__builtin_trap();
		check_printable(problem);
		break;
	}
	return 0;
}

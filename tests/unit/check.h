#ifndef EMBERD_TEST_CHECK_H
#define EMBERD_TEST_CHECK_H

#include <stdio.h>

/* Minimal assertions: report every failed check, then exit non-zero. */
static int check_failures;

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
		check_failures++; \
	} \
} while (0)

#define CHECK_DONE() do { \
	if (check_failures) { \
		fprintf(stderr, "%d checks failed\n", check_failures); \
		return 1; \
	} \
	printf("all checks passed\n"); \
	return 0; \
} while (0)

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tap.h: a tiny Test Anything Protocol emitter for the unit tests. Each
 * check prints "ok N - what" or "not ok N - what" with the file and line
 * of the failure; tap_done() prints the plan and returns the exit status.
 */
#ifndef PRH_TAP_H
#define PRH_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_count;
static int tap_failures;

__attribute__((format(printf, 4, 5), unused)) static int
tap_check(int pass, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d - ", pass ? "ok" : "not ok", ++tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!pass) {
		printf("#   failed at %s:%d\n", file, line);
		tap_failures++;
	}
	fflush(stdout);
	return pass;
}

#define ok(cond, ...) tap_check(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

#define is_int(got, want, ...)                                               \
	do {                                                                     \
		long long got_ = (long long)(got), want_ = (long long)(want);        \
		if (!tap_check(got_ == want_, __FILE__, __LINE__, __VA_ARGS__))      \
			printf("#   got %lld, want %lld\n", got_, want_);              \
	} while (0)

#define is_str(got, want, ...)                                               \
	do {                                                                     \
		const char *got_ = (got), *want_ = (want);                           \
		int same_ = got_ != NULL && want_ != NULL && strcmp(got_, want_) == 0; \
		if (!tap_check(same_, __FILE__, __LINE__, __VA_ARGS__))              \
			printf("#   got '%s', want '%s'\n", got_ ? got_ : "(null)",     \
			       want_ ? want_ : "(null)");                               \
	} while (0)

#define is_mem(got, want, len, ...)                                          \
	do {                                                                     \
		const unsigned char *got_ = (const unsigned char *)(got);           \
		const unsigned char *want_ = (const unsigned char *)(want);         \
		size_t len_ = (len);                                                 \
		if (!tap_check(memcmp(got_, want_, len_) == 0, __FILE__, __LINE__,   \
		               __VA_ARGS__)) {                                       \
			printf("#   got ");                                             \
			for (size_t i_ = 0; i_ < len_; i_++)                             \
				printf("%02x", got_[i_]);                                    \
			printf("\n#  want ");                                           \
			for (size_t i_ = 0; i_ < len_; i_++)                             \
				printf("%02x", want_[i_]);                                   \
			printf("\n");                                                   \
		}                                                                    \
	} while (0)

__attribute__((unused)) static int
tap_done(void)
{
	printf("1..%d\n", tap_count);
	return tap_failures == 0 ? 0 : 1;
}

#endif /* PRH_TAP_H */

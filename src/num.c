/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * num.c: strict decimal parsing. strtoul accepts leading spaces, a sign and
 * trailing garbage, which is wrong for LISTEN_PID or a uid, hence this.
 */
#include <stdbool.h>
#include <stddef.h>

#include "num.h"

bool
num_parse_decimal(const char *s, unsigned long long max, unsigned long long *out)
{
	unsigned long long value = 0;

	if (s == NULL || *s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		unsigned digit;

		if (*s < '0' || *s > '9')
			return false;
		digit = (unsigned)(*s - '0');
		if (digit > max || value > (max - digit) / 10)
			return false;
		value = value * 10 + digit;
	}
	*out = value;
	return true;
}

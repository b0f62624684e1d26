/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for num.c: strict decimal parsing. */
#include <stdint.h>

#include "num.h"
#include "tap.h"

int
main(void)
{
	unsigned long long v = 77;

	ok(num_parse_decimal("0", 10, &v) && v == 0, "0 parses");
	ok(num_parse_decimal("65534", UINT32_MAX, &v) && v == 65534, "65534 parses");
	ok(num_parse_decimal("4294967295", UINT32_MAX, &v) && v == UINT32_MAX,
	   "the maximum itself parses");
	v = 77;
	ok(!num_parse_decimal("4294967296", UINT32_MAX, &v) && v == 77,
	   "one above the maximum is refused and leaves the output alone");
	ok(!num_parse_decimal("18446744073709551616", UINT64_MAX, &v),
	   "64-bit overflow is refused");
	ok(num_parse_decimal("18446744073709551615", UINT64_MAX, &v) && v == UINT64_MAX,
	   "UINT64_MAX parses");
	ok(!num_parse_decimal("", 10, &v), "empty string refused");
	ok(!num_parse_decimal(NULL, 10, &v), "NULL refused");
	ok(!num_parse_decimal(" 1", 10, &v), "leading space refused");
	ok(!num_parse_decimal("1 ", 10, &v), "trailing space refused");
	ok(!num_parse_decimal("+1", 10, &v), "sign refused");
	ok(!num_parse_decimal("-1", 10, &v), "negative refused");
	ok(!num_parse_decimal("0x10", 100, &v), "hex refused");
	ok(!num_parse_decimal("12a", 1000, &v), "trailing garbage refused");
	ok(!num_parse_decimal("7", 5, &v), "digit above a small maximum refused");
	ok(num_parse_decimal("5", 5, &v) && v == 5, "small maximum itself parses");
	ok(num_parse_decimal("007", 10, &v) && v == 7, "leading zeros parse");
	return tap_done();
}

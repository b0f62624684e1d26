/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * num.h: strict parsing of numbers from the command line and environment.
 */
#ifndef PRH_NUM_H
#define PRH_NUM_H

#include <stdbool.h>

/*
 * Parse s as an unsigned decimal number no larger than max: digits only, no
 * sign, no spaces, no empty string, no overflow. Returns true and stores the
 * value in *out on success; leaves *out untouched otherwise.
 */
bool num_parse_decimal(const char *s, unsigned long long max,
                       unsigned long long *out);

#endif /* PRH_NUM_H */

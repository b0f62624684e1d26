/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for fdlimit.c: how large a descriptor table to reserve, and
 * that reserving it really grows this process's table. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>

#include "fdlimit.h"
#include "tap.h"

/* FDSize from /proc/self/status: the table's size; 0 if unreadable. */
static unsigned long
fd_table_size(void)
{
	char line[256];
	unsigned long size = 0;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "FDSize:", 7) == 0)
			size = strtoul(line + 7, NULL, 10);
	fclose(f);
	return size;
}

int
main(void)
{
	struct rlimit rl;
	unsigned long long limit = 0;
	unsigned long before, after, want;

	is_int((int)fdlimit_table_target(1024, 20000), 2 * 1024 + FDLIMIT_FIXED,
	       "default: two per connection and the fixed ones");
	is_int((int)fdlimit_table_target(1, 0), 2 + FDLIMIT_FIXED,
	       "no limit known: the connections decide");
	is_int((int)fdlimit_table_target(1024, 1024), 1024,
	       "never beyond the open file limit");
	is_int((int)fdlimit_table_target(4000000000u, 0), FDLIMIT_TABLE_MAX,
	       "a huge --max-connections is capped (no overflow)");
	is_int((int)fdlimit_table_target(100000, 1000000), FDLIMIT_TABLE_MAX,
	       "a huge limit is capped");

	/* Against the real kernel: the table grows to the target and stays. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		limit = rl.rlim_cur;
	want = fdlimit_table_target(2000, limit);
	before = fd_table_size();
	ok(before > 0 && before < want, "the table starts smaller (%lu) than %lu",
	   before, want);
	is_int(fdlimit_reserve_table(2000), want, "reserve returns the size it reserved");
	after = fd_table_size();
	ok(after >= want, "FDSize is %lu, at least %lu", after, want);
	ok(fcntl((int)want - 1, F_GETFD) < 0, "the descriptor that grew it was closed");
	return tap_done();
}

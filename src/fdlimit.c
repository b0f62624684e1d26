/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fdlimit.c: owns the process's file descriptor budget: the open file
 * limit, raised so that the connections allowed can all be served, and the
 * kernel's descriptor table, sized before the worker threads exist.
 *
 * Why the table: every request brings a device fd over SCM_RIGHTS. When a
 * storm of requests pushes the number of open descriptors past the
 * table's size (64, then powers of two), the kernel allocates a larger
 * table and, in a process with several threads, waits for an RCU grace
 * period before the new descriptor is installed. Measured here: the loop
 * stood 13 ms inside one recvmsg() while 256 clients waited, in a storm
 * that should take 20 ms. Growing the table once at start-up, while the
 * process is single-threaded, costs no wait and a few kilobytes of kernel
 * memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "fdlimit.h"
#include "log.h"

unsigned long
fdlimit_table_target(unsigned max_connections, unsigned long long open_file_limit)
{
	unsigned long long want = 2ull * max_connections + FDLIMIT_FIXED;

	if (open_file_limit != 0 && want > open_file_limit)
		want = open_file_limit;
	if (want > FDLIMIT_TABLE_MAX)
		want = FDLIMIT_TABLE_MAX;
	return (unsigned long)want;
}

void
fdlimit_raise(unsigned max_connections)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= rl.rlim_max)
		goto check;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		log_debug("cannot raise the open file limit: %s", strerror(errno));
check:
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < (rlim_t)max_connections * 2 + 16)
		log_info("open file limit %llu may be reached before %u connections",
		         (unsigned long long)rl.rlim_cur, max_connections);
}

unsigned long
fdlimit_reserve_table(unsigned max_connections)
{
	struct rlimit rl;
	unsigned long long limit = 0;
	unsigned long target;
	int fd;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		limit = rl.rlim_cur;
	target = fdlimit_table_target(max_connections, limit);
	if (target == 0)
		return 0;
	/* A descriptor at the highest number makes the kernel size the
	 * table for it; closing it leaves the table as it is. */
	fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, (int)(target - 1));
	if (fd < 0) {
		log_debug("cannot reserve a descriptor table of %lu: %s", target,
		          strerror(errno));
		return 0;
	}
	close(fd);
	return target;
}

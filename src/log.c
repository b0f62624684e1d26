/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * log.c: owns where messages go (stderr or syslog) and which are shown.
 * A message is formatted into one buffer and written with a single write(2)
 * so that lines from worker threads never interleave. Nothing here exits.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

#define LOG_PREFIX    "qemu-pr-helper: "
#define LOG_LINE_MAX  1024

static atomic_int log_level = LOG_VERBOSITY_DEFAULT;
static atomic_bool log_syslog;

void
log_init(int verbosity)
{
	atomic_store(&log_level, verbosity);
}

int
log_verbosity(void)
{
	return atomic_load(&log_level);
}

void
log_use_syslog(void)
{
	/* LOG_NDELAY connects now, while /dev/log is still reachable. */
	openlog("qemu-pr-helper", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	atomic_store(&log_syslog, true);
}

static void
log_emit(int priority, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	size_t prefix_len = sizeof(LOG_PREFIX) - 1;
	int saved_errno = errno;
	int n;

	if (atomic_load(&log_syslog)) {
		vsnprintf(line, sizeof(line), fmt, ap);
		syslog(priority, "%s", line);
		errno = saved_errno;
		return;
	}

	memcpy(line, LOG_PREFIX, prefix_len);
	n = vsnprintf(line + prefix_len, sizeof(line) - prefix_len - 1, fmt, ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof(line) - prefix_len - 2)
		n = (int)(sizeof(line) - prefix_len - 2);
	line[prefix_len + (size_t)n] = '\n';
	/* A failed write to stderr has nowhere to be reported. */
	if (write(STDERR_FILENO, line, prefix_len + (size_t)n + 1) < 0) {
		/* ignored */
	}
	errno = saved_errno;
}

#define LOG_AT(threshold, priority)                      \
	do {                                                 \
		va_list ap;                                      \
		if (atomic_load(&log_level) < (threshold))      \
			return;                                      \
		va_start(ap, fmt);                               \
		log_emit((priority), fmt, ap);                   \
		va_end(ap);                                      \
	} while (0)

void
log_error(const char *fmt, ...)
{
	LOG_AT(LOG_VERBOSITY_QUIET, LOG_ERR);
}

void
log_warn(const char *fmt, ...)
{
	LOG_AT(LOG_VERBOSITY_DEFAULT, LOG_WARNING);
}

void
log_info(const char *fmt, ...)
{
	LOG_AT(LOG_VERBOSITY_VERBOSE, LOG_INFO);
}

void
log_debug(const char *fmt, ...)
{
	LOG_AT(LOG_VERBOSITY_DEBUG, LOG_DEBUG);
}

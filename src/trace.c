/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * trace.c: owns the event table, the parsing of -T arguments (QEMU's option
 * syntax: comma-separated key=value pairs, ",," for a literal comma, and an
 * implied "enable" key for a first item without '=') and the trace output.
 * The enable flags are only written during start-up, before any thread
 * exists, so readers need no lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "trace.h"

#define TRACE_LINE_MAX 512

static const struct {
	const char *name;
	const char *what;
} trace_events[TRACE_EVENT_COUNT] = {
	[TRACE_CONN_ACCEPT] = { "prh_conn_accept",
		"a client connected (fd, peer pid/uid/gid)" },
	[TRACE_CONN_CLOSE] = { "prh_conn_close",
		"a connection was closed (fd, reason)" },
	[TRACE_REQUEST_DECODED] = { "prh_request_decoded",
		"a request was read (fd, opcode, service action, length, device fd)" },
	[TRACE_REQUEST_RUNNING] = { "prh_request_running",
		"a worker began the command (fd, commands in flight, peak so far)" },
	[TRACE_REQUEST_EXECUTED] = { "prh_request_executed",
		"the command ran (fd, status, sense key/asc/ascq, transfer, duration)" },
	[TRACE_REPLY_SENT] = { "prh_reply_sent",
		"the reply was written (fd, status, payload size)" },
	[TRACE_WORKERS_GROW] = { "prh_workers_grow",
		"the pool grows for waiting requests (new threads, threads, queued)" },
	[TRACE_WORKERS_STARTED] = { "prh_workers_started",
		"the threads of one growth were created (count, time taken)" },
	[TRACE_MPATH_PATHS] = { "prh_mpath_paths",
		"a device-mapper device looked up (map, multipath or not, paths, usable)" },
	[TRACE_MPATH_EVENT] = { "prh_mpath_event",
		"a multipath step, retry, repair or fence (map, event, path, key, status)" },
};

bool trace_enabled[TRACE_EVENT_COUNT];

static char *trace_file_path;   /* from file=, opened by trace_open() */
static int trace_fd = -1;       /* -1: stderr */

const char *
trace_event_name(enum trace_event ev)
{
	return trace_events[ev].name;
}

bool
trace_event_enabled(enum trace_event ev)
{
	return trace_enabled[ev];
}

void
trace_reset(void)
{
	for (int i = 0; i < TRACE_EVENT_COUNT; i++)
		trace_enabled[i] = false;
	free(trace_file_path);
	trace_file_path = NULL;
	if (trace_fd >= 0)
		close(trace_fd);
	trace_fd = -1;
}

static void
trace_list(FILE *out)
{
	fprintf(out, "Trace events (enable with -T PATTERN, e.g. -T 'prh_*'):\n");
	for (int i = 0; i < TRACE_EVENT_COUNT; i++)
		fprintf(out, "%-22s %s\n", trace_events[i].name, trace_events[i].what);
}

static bool
is_help(const char *s)
{
	return strcmp(s, "help") == 0 || strcmp(s, "?") == 0;
}

/*
 * Shell-style matching with '*' (any run of characters) and '?' (any one
 * character), the two wildcards QEMU's -T patterns have. (libc's fnmatch
 * would also accept [classes], and it brings locale tables into a static
 * binary.)
 */
static bool
glob_match(const char *pattern, const char *s)
{
	const char *star = NULL, *resume = NULL;

	while (*s != '\0') {
		if (*pattern == '*') {
			star = pattern++;
			resume = s;
		} else if (*pattern == '?' || *pattern == *s) {
			pattern++;
			s++;
		} else if (star != NULL) {
			/* Let the last '*' swallow one more character. */
			pattern = star + 1;
			s = ++resume;
		} else {
			return false;
		}
	}
	while (*pattern == '*')
		pattern++;
	return *pattern == '\0';
}

/* Enable (or with a leading '-', disable) the events matching pattern. */
static void
trace_apply_pattern(const char *pattern, FILE *err)
{
	bool enable = true;
	bool matched = false;

	if (pattern[0] == '-') {
		enable = false;
		pattern++;
	}
	for (int i = 0; i < TRACE_EVENT_COUNT; i++) {
		if (glob_match(pattern, trace_events[i].name)) {
			trace_enabled[i] = enable;
			matched = true;
		}
	}
	/* As QEMU does, only a plain name that matches nothing is worth a
	 * warning; a wildcard matching nothing is normal. */
	if (!matched && strpbrk(pattern, "*?") == NULL)
		fprintf(err, "qemu-pr-helper: warning: trace event '%s' does not exist\n",
		        pattern);
}

static enum trace_opt_result
trace_enable(const char *pattern, FILE *out, FILE *err)
{
	if (is_help(pattern)) {
		trace_list(out);
		return TRACE_OPT_HELP;
	}
	if (*pattern != '\0')
		trace_apply_pattern(pattern, err);
	return TRACE_OPT_OK;
}

/* events=FILE: one pattern per line; blank lines and '#' comments skipped. */
static enum trace_opt_result
trace_load_events(const char *path, FILE *out, FILE *err)
{
	char line[256];
	FILE *f = fopen(path, "re");

	if (f == NULL) {
		fprintf(err, "qemu-pr-helper: cannot open trace events file '%s': %s\n",
		        path, strerror(errno));
		return TRACE_OPT_ERROR;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t len = strcspn(line, "\r\n");
		enum trace_opt_result r;

		line[len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		r = trace_enable(line, out, err);
		if (r != TRACE_OPT_OK) {
			fclose(f);
			return r;
		}
	}
	fclose(f);
	return TRACE_OPT_OK;
}

/*
 * Split the next item off *cursor into buf (",," unescaped to ','). Returns
 * false at the end of the string or when the item does not fit.
 */
static bool
next_item(const char **cursor, char *buf, size_t size, bool *overflow)
{
	const char *s = *cursor;
	size_t n = 0;

	*overflow = false;
	if (s == NULL)
		return false;
	for (;;) {
		if (*s == ',' && s[1] == ',') {
			s += 2;
			if (n + 1 >= size) {
				*overflow = true;
				return false;
			}
			buf[n++] = ',';
			continue;
		}
		if (*s == ',' || *s == '\0')
			break;
		if (n + 1 >= size) {
			*overflow = true;
			return false;
		}
		buf[n++] = *s++;
	}
	buf[n] = '\0';
	*cursor = (*s == ',') ? s + 1 : NULL;
	return true;
}

enum trace_opt_result
trace_parse_option(const char *arg, FILE *out, FILE *err)
{
	char item[4096];
	const char *cursor = arg;
	bool first = true;
	bool overflow;

	while (next_item(&cursor, item, sizeof(item), &overflow)) {
		char *eq = strchr(item, '=');
		const char *key, *value;
		enum trace_opt_result r = TRACE_OPT_OK;

		if (eq == NULL && first) {
			key = "enable";
			value = item;
		} else if (eq == NULL) {
			fprintf(err, "qemu-pr-helper: invalid trace parameter '%s'\n", item);
			return TRACE_OPT_ERROR;
		} else {
			*eq = '\0';
			key = item;
			value = eq + 1;
		}
		first = false;

		if (strcmp(key, "enable") == 0) {
			r = trace_enable(value, out, err);
		} else if (strcmp(key, "events") == 0) {
			r = trace_load_events(value, out, err);
		} else if (strcmp(key, "file") == 0) {
			char *copy = strdup(value);

			if (copy == NULL) {
				fprintf(err, "qemu-pr-helper: out of memory\n");
				return TRACE_OPT_ERROR;
			}
			free(trace_file_path);
			trace_file_path = copy;
		} else {
			fprintf(err, "qemu-pr-helper: invalid trace parameter '%s'\n", key);
			return TRACE_OPT_ERROR;
		}
		if (r != TRACE_OPT_OK)
			return r;
	}
	if (overflow) {
		fprintf(err, "qemu-pr-helper: trace option too long\n");
		return TRACE_OPT_ERROR;
	}
	return TRACE_OPT_OK;
}

int
trace_open(void)
{
	int fd;

	if (trace_file_path == NULL)
		return 0;
	fd = open(trace_file_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND |
	          O_CLOEXEC | O_NOCTTY, 0644);
	if (fd < 0) {
		log_error("cannot open trace file '%s': %s", trace_file_path,
		          strerror(errno));
		return -1;
	}
	if (trace_fd >= 0)
		close(trace_fd);
	trace_fd = fd;
	return 0;
}

void
trace_emit(enum trace_event ev, const char *fmt, ...)
{
	char line[TRACE_LINE_MAX];
	struct timespec now;
	va_list ap;
	int saved_errno = errno;
	int n, m;

	clock_gettime(CLOCK_REALTIME, &now);
	n = snprintf(line, sizeof(line), "%ld@%lld.%06ld:%s ",
	             (long)syscall(SYS_gettid), (long long)now.tv_sec,
	             now.tv_nsec / 1000, trace_events[ev].name);
	if (n < 0 || (size_t)n >= sizeof(line) - 1)
		n = 0;
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	if ((size_t)m > sizeof(line) - (size_t)n - 2)
		m = (int)(sizeof(line) - (size_t)n - 2);
	n += m;
	line[n++] = '\n';
	/* One write per event keeps lines from different threads whole. */
	if (write(trace_fd >= 0 ? trace_fd : STDERR_FILENO, line, (size_t)n) < 0) {
		/* nowhere to report a failed trace write */
	}
	errno = saved_errno;
}

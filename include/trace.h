/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * trace.h: the helper's trace events and QEMU's -T option syntax,
 * [[enable=]PATTERN][,events=FILE][,file=FILE]. A pattern may use the
 * wildcards '*' and '?', and a leading '-' disables what it matches;
 * -T help lists the events. Enabled events are written one line each, as
 * "TID@SECONDS.MICROSECONDS:EVENT key=value ...", to FILE or stderr.
 */
#ifndef PRH_TRACE_H
#define PRH_TRACE_H

#include <stdbool.h>
#include <stdio.h>

#include "log.h"

enum trace_event {
	TRACE_CONN_ACCEPT,       /* a client connected */
	TRACE_CONN_CLOSE,        /* a connection was closed, and why */
	TRACE_REQUEST_DECODED,   /* a complete request was read */
	TRACE_REQUEST_RUNNING,   /* a worker began it: commands in flight, peak */
	TRACE_REQUEST_EXECUTED,  /* the command ran: status, sense, duration */
	TRACE_REPLY_SENT,        /* the whole reply was written */
	TRACE_WORKERS_GROW,      /* the pool decided to grow: by how many */
	TRACE_WORKERS_STARTED,   /* the threads of one growth are running */
	TRACE_MPATH_PATHS,       /* a block device's paths, as the opener found them */
	TRACE_MPATH_EVENT,       /* a multipath fan-out step, retry or repair */
	TRACE_EVENT_COUNT
};

enum trace_opt_result {
	TRACE_OPT_OK,       /* applied */
	TRACE_OPT_HELP,     /* the event list was printed; exit 0 */
	TRACE_OPT_ERROR     /* a message was printed to err; exit 1 */
};

/* Apply one -T argument. Patterns take effect at once; file= is opened by
 * trace_open(). Diagnostics go to err, the help list to out. */
enum trace_opt_result trace_parse_option(const char *arg, FILE *out, FILE *err);

/* Open the output chosen with file= (stderr otherwise). Returns 0, or -1
 * after logging why. Call before dropping privileges. */
int trace_open(void);

/* Forget every -T option and close the output (for tests). */
void trace_reset(void);

const char *trace_event_name(enum trace_event ev);
bool trace_event_enabled(enum trace_event ev);

/* Write one event line; use TRACE(), which skips disabled events cheaply. */
void trace_emit(enum trace_event ev, const char *fmt, ...) PRH_PRINTF(2, 3);

extern bool trace_enabled[TRACE_EVENT_COUNT];

#define TRACE(ev, ...)                           \
	do {                                         \
		if (trace_enabled[(ev)])                 \
			trace_emit((ev), __VA_ARGS__);       \
	} while (0)

#endif /* PRH_TRACE_H */

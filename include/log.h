/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * log.h: every diagnostic the helper prints goes through here. In the
 * foreground a message is one line on stderr prefixed "qemu-pr-helper: ";
 * once daemonized it is a syslog record (LOG_DAEMON). The verbosity follows
 * QEMU's helper: 0 with -q, otherwise 1 + the number of -v, at most 3.
 * Safe to call from any thread.
 */
#ifndef PRH_LOG_H
#define PRH_LOG_H

#define LOG_VERBOSITY_QUIET    0  /* -q: start-up errors only */
#define LOG_VERBOSITY_DEFAULT  1  /* warnings and per-connection errors */
#define LOG_VERBOSITY_VERBOSE  2  /* -v: connection events, violations */
#define LOG_VERBOSITY_DEBUG    3  /* -vv: everything */

#define PRH_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))

/* Set the verbosity; messages go to stderr until log_use_syslog(). */
void log_init(int verbosity);
int log_verbosity(void);

/* Route every later message to syslog (after daemonizing). */
void log_use_syslog(void);

/* Start-up and fatal errors: printed at every verbosity, even -q. */
void log_error(const char *fmt, ...) PRH_PRINTF(1, 2);
/* Per-connection errors and warnings (verbosity >= 1). */
void log_warn(const char *fmt, ...) PRH_PRINTF(1, 2);
/* Informational events (verbosity >= 2, i.e. -v). */
void log_info(const char *fmt, ...) PRH_PRINTF(1, 2);
/* Debugging detail (verbosity >= 3, i.e. -vv). */
void log_debug(const char *fmt, ...) PRH_PRINTF(1, 2);

#endif /* PRH_LOG_H */

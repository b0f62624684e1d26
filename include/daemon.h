/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * daemon.h: -d, with readiness. Unlike daemon(3), the command that started
 * the helper returns only once the helper is ready, and fails if it is not.
 */
#ifndef PRH_DAEMON_H
#define PRH_DAEMON_H

/*
 * Fork. The parent waits until the child calls daemon_ready() and then
 * exits 0; if the child exits first, the parent exits with the child's
 * status (1 if that was 0) and the child's error messages, which it wrote to
 * the inherited stderr, are already there. Only the child returns, as a new
 * session leader. Returns 0 in the child, -1 after logging a fork failure.
 */
int daemon_start(void);

/* In the child: point stdin/out/err at /dev/null, send later log messages
 * to syslog, change to "/" and tell the parent to exit 0. */
void daemon_ready(void);

#endif /* PRH_DAEMON_H */

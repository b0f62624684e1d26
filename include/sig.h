/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sig.h: stop signals (SIGTERM, SIGINT, SIGHUP) delivered to the poll()
 * loop through a self-pipe; SIGPIPE ignored.
 */
#ifndef PRH_SIG_H
#define PRH_SIG_H

/* Install the handlers. Returns the pipe's read end (non-blocking,
 * close-on-exec) for poll(), or -1 after logging an error. */
int sig_setup(void);

/* Drain the pipe. Returns the last stop signal received, or 0. */
int sig_drain(void);

/* Block the stop signals in the calling thread (worker threads call it so
 * that a signal never interrupts a SCSI command in progress). */
void sig_block_in_thread(void);

#endif /* PRH_SIG_H */

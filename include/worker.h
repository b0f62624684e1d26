/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * worker.h: the threads that run SCSI commands off the poll() loop, so that
 * a device that takes seconds to answer delays nobody else.
 */
#ifndef PRH_WORKER_H
#define PRH_WORKER_H

#include "conn.h"

/* Bounds of the pool. Threads are added when a request finds none idle:
 * each hung device holds one thread, and the rest keep serving. */
#define WORKERS_MIN 1
#define WORKERS_MAX 64
/* An extra thread idle this long exits. */
#define WORKERS_IDLE_EXIT_S 60

struct workers;

/*
 * Start the pool with WORKERS_MIN threads. Completed connections are
 * signalled by writing to wake_fd (an eventfd). Threads must only be
 * created after the privilege drop: capabilities are per thread, and each
 * new thread inherits the caller's. Returns NULL after logging an error.
 */
struct workers *workers_start(int wake_fd);

/* Queue a connection in CONN_EXECUTING. The worker runs the command,
 * closes the device fd, writes as much of the reply as the socket takes
 * (sparing the loop a wake-up on the common path) and hands it back. */
void workers_submit(struct workers *w, struct conn *c);

/* Take every connection handed back since the last call (loop thread).
 * Their state is CONN_RECV_CDB (reply written), CONN_SEND_REPLY (rest of
 * the reply pending) or CONN_CLOSING. */
struct conn *workers_collect(struct workers *w);

/* Number of threads now (for logs and tests). */
unsigned workers_count(struct workers *w);

/* Stop and join every thread. Only call when no request is queued or
 * running. */
void workers_stop(struct workers *w);

#endif /* PRH_WORKER_H */

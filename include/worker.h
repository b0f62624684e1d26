/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * worker.h: the threads that run SCSI commands off the poll() loop, so that
 * a device that takes seconds to answer delays nobody else.
 */
#ifndef PRH_WORKER_H
#define PRH_WORKER_H

#include "conn.h"

/* Bounds of the pool. WORKERS_MIN threads always run; a thread busy with
 * one request for WORKERS_STUCK_MS counts as stuck on a slow device, and
 * while requests wait with fewer than WORKERS_MIN threads not stuck,
 * another starts: each hung device holds a thread, the rest keep serving. */
#define WORKERS_MIN 2
#define WORKERS_MAX 64
#define WORKERS_STUCK_MS 20
/* After a reply, at most WORKERS_LINGER_MAX threads watch their client
 * this long for its next request, when nothing else waits. */
#define WORKERS_LINGER_MS 1
#define WORKERS_LINGER_MAX 1
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

/* Queue connections in CONN_EXECUTING, linked through their next field
 * from head to tail (count of them), with one lock round trip. A worker
 * runs each command, closes the device fd, writes as much of the reply as
 * the socket takes (sparing the loop a wake-up on the common path) and
 * hands the connection back. */
void workers_submit(struct workers *w, struct conn *head, struct conn *tail,
                    unsigned count);

/* Start a thread if requests wait behind stuck ones (loop thread, every
 * pass). Returns -1 when nothing waits, or the number of milliseconds
 * after which the loop should call again. */
int workers_maintain(struct workers *w);

/* The loop is stopping: threads read no new request from now on. */
void workers_quiesce(struct workers *w);

/* Take every connection handed back since the last call (loop thread).
 * Their state is CONN_RECV_CDB or CONN_RECV_PARAMS (waiting for input:
 * the reply was written, maybe part of a next request read),
 * CONN_SEND_REPLY (rest of the reply pending) or CONN_CLOSING. */
struct conn *workers_collect(struct workers *w);

/* Number of threads now (for logs and tests). */
unsigned workers_count(struct workers *w);

/* Stop and join every thread. Only call when no request is queued or
 * running. */
void workers_stop(struct workers *w);

#endif /* PRH_WORKER_H */

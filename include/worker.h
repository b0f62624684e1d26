/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * worker.h: the threads that run SCSI commands off the poll() loop, so that
 * a device that takes seconds to answer delays nobody else, and commands
 * to slow devices run in parallel rather than one after another.
 */
#ifndef PRH_WORKER_H
#define PRH_WORKER_H

#include <stdbool.h>

#include "conn.h"

/* Bounds of the pool. WORKERS_MIN threads always run (fewer only if the
 * cap is lower). A thread inside one device call for WORKERS_BLOCKED_US is
 * taken to be waiting on its device; when requests wait and either fewer
 * than WORKERS_MIN threads are free or doing quick work, or, in a pool
 * grown past WORKERS_MIN, some thread is blocked and the oldest waiting
 * request has waited WORKERS_BLOCKED_US (threads in the first part of a
 * slow command look quick, yet the queue does not move), a thread starts for
 * every waiting request at once, up to the cap (--max-threads, default
 * WORKERS_DEFAULT_MAX). At the cap, requests wait in the FIFO queue for
 * the next free thread. */
#define WORKERS_MIN 2
#define WORKERS_DEFAULT_MAX 512u
#define WORKERS_MAX_LIMIT 65536u
#define WORKERS_BLOCKED_US 500
/* ...unless the helper used this much of a CPU (percent) over the last
 * WORKERS_CPU_WINDOW_US while requests waited: then its threads are
 * waiting for the CPU, not for devices, and more of them would only make
 * that worse. */
#define WORKERS_CPU_BOUND_PCT 50
#define WORKERS_CPU_WINDOW_US 500
/* ...or if its threads were switched out involuntarily more than this
 * many times in that window: other programs keep the CPUs busy, and a
 * thread preempted in the middle of a fast command looks blocked. */
#define WORKERS_PREEMPTED_MAX 0
/* After a reply, at most WORKERS_LINGER_MAX threads (or, in a pool grown
 * past WORKERS_MIN, the threads beyond it) watch their client this long
 * for its next request, when nothing else waits (workers_may_linger). */
#define WORKERS_LINGER_MS 1
#define WORKERS_LINGER_MAX 1
/* A thread beyond WORKERS_MIN idle this long exits, and the loop joins it
 * (which is when its stack is returned to the system). */
#define WORKERS_IDLE_EXIT_MS 1000

struct workers;

/* What the pool looks like when deciding whether to grow. */
struct workers_state {
	unsigned threads;    /* running, including starting ones */
	unsigned idle;       /* waiting for work */
	unsigned starting;   /* created, not yet looking for work */
	unsigned queued;     /* requests waiting for a thread */
	unsigned blocked;    /* inside one device call for WORKERS_BLOCKED_US */
	unsigned oldest_wait_us; /* how long the first queued request waited */
	unsigned max;        /* the cap */
	int cpu_pct;         /* CPU use over the last window while requests
	                        waited; -1 before a whole window has passed */
	int preempted;       /* involuntary context switches in that window */
};

/* The sizing rule, kept free of I/O and clocks so that it can be tested:
 * how many threads to start now. */
unsigned workers_plan_spawn(const struct workers_state *st);

/* What a thread that has just replied knows when it decides whether to
 * watch its client for the next request instead of handing it back. */
struct linger_state {
	bool at_request_start;  /* the connection waits for a new request */
	bool quiescing;         /* the helper is stopping */
	unsigned queued;        /* requests waiting for a thread */
	unsigned threads;       /* threads in the pool */
	unsigned lingering;     /* threads watching a client now */
	bool alone;             /* the request came from the loop on its own, and
	                           the loop has handed over nothing since */
};

/*
 * The lingering rule, free of I/O so that it can be tested. Lingering
 * saves a lone client two wake-ups per request (the loop's, and the
 * thread's). With many busy clients it costs: the thread sleeps on one
 * client and serves it ahead of the queue, one wake-up per request, while
 * the loop would have served it in a batch with the others. So a pool at
 * its minimum lingers only for a client that is alone; a pool grown for
 * slow devices (its threads sleep in device calls anyway) lets every
 * thread beyond the minimum linger.
 */
bool workers_may_linger(const struct linger_state *st);

/*
 * Start the pool with WORKERS_MIN threads (or max_threads, if lower).
 * Completed connections are signalled by writing to wake_fd (an eventfd).
 * Threads must only be created after the privilege drop: capabilities are
 * per thread, and each new thread inherits the caller's. Returns NULL
 * after logging an error.
 */
struct workers *workers_start(int wake_fd, unsigned max_threads);

/* Queue connections in CONN_EXECUTING, linked through their next field
 * from head to tail (count of them), with one lock round trip. A worker
 * runs each command, closes the device fd, writes as much of the reply as
 * the socket takes (sparing the loop a wake-up on the common path) and
 * hands the connection back. */
void workers_submit(struct workers *w, struct conn *head, struct conn *tail,
                    unsigned count);

/* Loop thread, every pass: join threads that left after idling, and
 * start threads if requests wait behind blocked ones. Returns -1 when
 * nothing waits (or the pool is at its cap), or the number of
 * microseconds after which the loop should call again. */
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

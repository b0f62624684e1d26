/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * worker.c: owns the worker threads and the two queues between them and
 * the poll() loop: requests in (FIFO, under a mutex, handed over in
 * batches), finished connections out (a lock-free stack).
 *
 * A thread runs one request at a time, start to finish: device checks and
 * SG_IO (sgio.c), closing the device fd, encoding the reply (proto.c) and
 * writing it (conn.c). Writing here rather than in the loop keeps the
 * common path to three wake-ups: client to loop, loop to worker, worker to
 * client; the loop is woken for a finished connection only when the stack
 * was empty, so under load one wake-up collects many.
 *
 * Lingering: a thread that has just answered a client, when no other work
 * waits, keeps watching that connection for WORKERS_LINGER_MS before
 * handing it back. A client that sends its next request at once (the
 * usual pattern of a guest issuing several commands) is then served with
 * two wake-ups, client to worker and worker to client, as by a server
 * with no threads at all. At most WORKERS_LINGER_MAX threads linger, so
 * the others stay free for the queue.
 *
 * Sizing: WORKERS_MIN threads always run. A thread busy with one request
 * for WORKERS_STUCK_MS is taken to be stuck on a slow device; whenever
 * requests are waiting and fewer than WORKERS_MIN threads are not stuck,
 * another thread starts (up to WORKERS_MAX). So a hung LUN holds threads,
 * never the other clients' requests, and a fast load does not inflate the
 * pool. Threads beyond the minimum exit after WORKERS_IDLE_EXIT_S idle.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "log.h"
#include "proto.h"
#include "sgio.h"
#include "trace.h"
#include "worker.h"

/* One thread's bookkeeping. Threads are joined by whoever reuses the slot
 * or by workers_stop(), so no thread is ever left unjoined. */
struct worker_slot {
	struct workers *pool;
	pthread_t thread;
	bool used;                      /* a thread was started in this slot */
	bool exited;                    /* it returned and waits to be joined */
	_Atomic uint64_t busy_since_ns; /* start of its request, 0 when idle */
};

struct workers {
	pthread_mutex_t lock;
	pthread_cond_t work_ready;      /* queue not empty, or stopping */
	struct conn *queue_head, *queue_tail;
	unsigned n_queued;
	atomic_uint queued_hint;        /* n_queued, readable without the lock */
	_Atomic(struct conn *) done;    /* handed back, any order (lock-free) */
	unsigned n_threads;
	unsigned n_idle;                /* waiting for work */
	unsigned n_starting;            /* created, not yet looking for work */
	bool stopping;
	atomic_bool quiescing;          /* the loop is stopping: read nothing new */
	atomic_uint n_lingering;
	bool spawn_failed_logged;
	int wake_fd;
	struct worker_slot slots[WORKERS_MAX];
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Run one request and write its reply; runs without the lock. */
static void
serve(struct conn *c)
{
	struct proto_reply reply;
	struct sgio_outcome outcome;
	uint64_t elapsed_us;

	sgio_execute(c->dev_fd, c->cdb, c->len, c->data, &reply, &outcome);
	/* QEMU's protocol: every request brings its own fd, closed after. */
	close(c->dev_fd);
	c->dev_fd = -1;
	elapsed_us = (now_ns() - c->started_ns) / 1000u;

	TRACE(TRACE_REQUEST_EXECUTED,
	      "fd=%d opcode=0x%02x sa=0x%02x status=0x%02x sense=%x/%02x/%02x "
	      "errno=%d host=0x%02x driver=0x%02x transferred=%u size=%u "
	      "duration_us=%llu",
	      c->fd, c->cdb[0], c->cdb[1] & 0x1f, reply.status, reply.sense[2] & 0x0f,
	      reply.sense[12], reply.sense[13], outcome.os_err, outcome.host_status,
	      outcome.driver_status, outcome.transferred, reply.size,
	      (unsigned long long)elapsed_us);
	log_debug("client fd %d (pid %ld): %s service action 0x%02x: status 0x%02x",
	          c->fd, (long)c->peer_pid,
	          c->cdb[0] == PRH_OP_PR_IN ? "PR IN" : "PR OUT", c->cdb[1] & 0x1f,
	          reply.status);

	proto_encode_reply(&reply, c->reply);
	c->reply_len = PRH_REPLY_HDR_SIZE + reply.size;
	c->done = 0;
	c->state = CONN_SEND_REPLY;
	conn_send_reply(c);
}

static void
wake_loop(int fd)
{
	uint64_t one = 1;

	/* Only fails if the counter would overflow: the loop is awake then. */
	if (write(fd, &one, sizeof(one)) < 0) {
		/* nothing to do */
	}
}

/* Push onto the done stack; wake the loop only if the stack was empty (a
 * non-empty stack means a wake-up is already on its way). */
static void
hand_back(struct workers *w, struct conn *c)
{
	struct conn *head = atomic_load_explicit(&w->done, memory_order_relaxed);

	do {
		c->next = head;
	} while (!atomic_compare_exchange_weak_explicit(&w->done, &head, c,
	                                                memory_order_release,
	                                                memory_order_relaxed));
	if (head == NULL)
		wake_loop(w->wake_fd);
}

static void *worker_main(void *arg);

/* Start one more thread. Called with the lock held. */
static void
spawn(struct workers *w)
{
	struct worker_slot *slot = NULL;
	sigset_t all, old;
	int err;

	for (unsigned i = 0; i < WORKERS_MAX; i++) {
		if (!w->slots[i].used || w->slots[i].exited) {
			slot = &w->slots[i];
			break;
		}
	}
	if (slot == NULL)
		return;
	/* A thread that left after idling has returned: joining is quick. */
	if (slot->used && slot->exited)
		pthread_join(slot->thread, NULL);
	slot->pool = w;
	slot->used = false;
	slot->exited = false;
	atomic_store(&slot->busy_since_ns, 0);
	/* Start with every signal blocked: stop signals belong to the loop's
	 * self-pipe, and one arriving mid-SG_IO could interrupt the command. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&slot->thread, NULL, worker_main, slot);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err != 0) {
		if (!w->spawn_failed_logged)
			log_warn("cannot start a worker thread: %s", strerror(err));
		w->spawn_failed_logged = true;
		return;
	}
	slot->used = true;
	w->n_threads++;
	w->n_starting++;
}

/* Threads busy on one request for WORKERS_STUCK_MS. Lock held. */
static unsigned
count_stuck(struct workers *w, uint64_t now)
{
	uint64_t limit = (uint64_t)WORKERS_STUCK_MS * 1000000u;
	unsigned n = 0;

	for (unsigned i = 0; i < WORKERS_MAX; i++) {
		uint64_t since;

		if (!w->slots[i].used || w->slots[i].exited)
			continue;
		since = atomic_load(&w->slots[i].busy_since_ns);
		if (since != 0 && now - since >= limit)
			n++;
	}
	return n;
}

/* Keep WORKERS_MIN threads that are not stuck while work waits. Lock held. */
static void
grow_if_stuck(struct workers *w)
{
	unsigned stuck;

	if (w->n_queued == 0 || w->n_idle + w->n_starting >= w->n_queued)
		return;
	stuck = count_stuck(w, now_ns());
	while (w->n_threads - stuck < WORKERS_MIN && w->n_threads < WORKERS_MAX) {
		unsigned before = w->n_threads;

		spawn(w);
		if (w->n_threads == before)
			break;
	}
}

/* Request buffers for requests a lingering thread reads; the loop returns
 * them to its pool (or to malloc) like its own. */
static uint8_t *
linger_buffer(void *ctx)
{
	(void)ctx;
	return malloc(PRH_MAX_DATA);
}

/*
 * After a reply: if nothing else waits, watch this connection a moment
 * for its next request. Returns true when a request is complete and
 * ready to serve; otherwise the connection goes back to the loop in the
 * state it is in.
 */
static bool
linger(struct workers *w, struct conn *c)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	unsigned n;
	int r;

	if (c->state != CONN_RECV_CDB ||
	    atomic_load_explicit(&w->queued_hint, memory_order_relaxed) != 0 ||
	    atomic_load(&w->quiescing))
		return false;
	n = atomic_load(&w->n_lingering);
	do {
		if (n >= WORKERS_LINGER_MAX)
			return false;
	} while (!atomic_compare_exchange_weak(&w->n_lingering, &n, n + 1));
	r = poll(&pfd, 1, WORKERS_LINGER_MS);
	atomic_fetch_sub(&w->n_lingering, 1);
	if (r <= 0 || atomic_load(&w->quiescing))
		return false;
	if (conn_advance(c, linger_buffer, NULL) != CONN_NEXT_EXECUTE)
		return false;
	c->started_ns = now_ns();
	return true;
}

static void
deadline_in(struct timespec *ts, unsigned seconds)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += seconds;
}

static void *
worker_main(void *arg)
{
	struct worker_slot *slot = arg;
	struct workers *w = slot->pool;

	pthread_mutex_lock(&w->lock);
	w->n_starting--;
	for (;;) {
		struct conn *c;

		while (w->queue_head == NULL && !w->stopping) {
			struct timespec deadline;
			int err;

			w->n_idle++;
			if (w->n_threads > WORKERS_MIN) {
				deadline_in(&deadline, WORKERS_IDLE_EXIT_S);
				err = pthread_cond_timedwait(&w->work_ready, &w->lock, &deadline);
			} else {
				err = pthread_cond_wait(&w->work_ready, &w->lock);
			}
			w->n_idle--;
			if (err == ETIMEDOUT && w->queue_head == NULL &&
			    w->n_threads > WORKERS_MIN)
				goto out;
		}
		if (w->queue_head == NULL)
			break;      /* stopping, nothing left */
		c = w->queue_head;
		w->queue_head = c->next;
		if (w->queue_head == NULL)
			w->queue_tail = NULL;
		w->n_queued--;
		atomic_store_explicit(&w->queued_hint, w->n_queued, memory_order_relaxed);
		atomic_store(&slot->busy_since_ns, now_ns());
		pthread_mutex_unlock(&w->lock);

		serve(c);
		while (linger(w, c)) {
			atomic_store(&slot->busy_since_ns, now_ns());
			serve(c);
		}
		atomic_store(&slot->busy_since_ns, 0);
		hand_back(w, c);

		pthread_mutex_lock(&w->lock);
	}
out:
	w->n_threads--;
	slot->exited = true;
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

struct workers *
workers_start(int wake_fd)
{
	struct workers *w = calloc(1, sizeof(*w));
	pthread_condattr_t attr;

	if (w == NULL) {
		log_error("cannot allocate the worker pool");
		return NULL;
	}
	w->wake_fd = wake_fd;
	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&w->work_ready, &attr);
	pthread_condattr_destroy(&attr);

	pthread_mutex_lock(&w->lock);
	for (unsigned i = 0; i < WORKERS_MIN; i++)
		spawn(w);
	pthread_mutex_unlock(&w->lock);
	if (w->n_threads < WORKERS_MIN) {
		log_error("cannot start worker threads");
		workers_stop(w);
		return NULL;
	}
	return w;
}

void
workers_submit(struct workers *w, struct conn *head, struct conn *tail,
               unsigned count)
{
	uint64_t now = now_ns();

	for (struct conn *c = head; c != NULL; c = c->next)
		c->started_ns = now;
	tail->next = NULL;
	pthread_mutex_lock(&w->lock);
	if (w->queue_tail != NULL)
		w->queue_tail->next = head;
	else
		w->queue_head = head;
	w->queue_tail = tail;
	w->n_queued += count;
	atomic_store_explicit(&w->queued_hint, w->n_queued, memory_order_relaxed);
	grow_if_stuck(w);
	if (count > 1)
		pthread_cond_broadcast(&w->work_ready);
	else
		pthread_cond_signal(&w->work_ready);
	pthread_mutex_unlock(&w->lock);
}

int
workers_maintain(struct workers *w)
{
	/* The common case, nothing waiting, costs one atomic load. */
	if (atomic_load_explicit(&w->queued_hint, memory_order_relaxed) == 0)
		return -1;
	pthread_mutex_lock(&w->lock);
	grow_if_stuck(w);
	pthread_mutex_unlock(&w->lock);
	return WORKERS_STUCK_MS;
}

void
workers_quiesce(struct workers *w)
{
	atomic_store(&w->quiescing, true);
}

struct conn *
workers_collect(struct workers *w)
{
	/* Acquire pairs with the release in hand_back: each connection's
	 * state, as its worker left it, is visible here. */
	return atomic_exchange_explicit(&w->done, NULL, memory_order_acquire);
}

unsigned
workers_count(struct workers *w)
{
	unsigned n;

	pthread_mutex_lock(&w->lock);
	n = w->n_threads;
	pthread_mutex_unlock(&w->lock);
	return n;
}

void
workers_stop(struct workers *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_cond_broadcast(&w->work_ready);
	pthread_mutex_unlock(&w->lock);
	/* Only the loop thread spawns, and it is here: the slots are stable. */
	for (unsigned i = 0; i < WORKERS_MAX; i++) {
		if (w->slots[i].used)
			pthread_join(w->slots[i].thread, NULL);
	}
	pthread_cond_destroy(&w->work_ready);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

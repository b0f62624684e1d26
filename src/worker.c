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
 * with no threads at all. At most WORKERS_LINGER_MAX threads linger, or,
 * when the pool has grown for slow devices, as many as it has beyond
 * WORKERS_MIN, so that the minimum stays free for the queue.
 *
 * Sizing: the CPU work of a request takes microseconds; what takes time is
 * the device, and a thread waiting in SG_IO waits for nothing else. So the
 * pool is sized by how many requests are waiting on devices, not by CPUs:
 * WORKERS_MIN threads always run; when requests are queued, no thread is
 * idle, fewer than WORKERS_MIN threads are doing quick work (the others
 * have been inside one device call for WORKERS_BLOCKED_US) or the oldest
 * waiting request has waited that long behind a blocked thread, and the process
 * used less than WORKERS_CPU_BOUND_PCT of a CPU meanwhile, a thread starts
 * for every waiting request at once, up to the cap. The CPU test tells a
 * thread asleep in SG_IO from one merely preempted: without it, a loaded
 * machine made fast requests look blocked, the pool grew, and more threads
 * meant more preemption. A storm of commands to LUNs that take
 * milliseconds then runs in parallel after a millisecond, and a load of
 * fast commands keeps two threads. At the cap requests wait in the FIFO
 * queue for the next thread to finish. Idle threads wait on a LIFO list
 * and work goes to the most recent, so surplus threads really idle and,
 * beyond the minimum, exit after WORKERS_IDLE_EXIT_MS; the loop joins them
 * at once, which is when musl returns a joinable thread's stack.
 *
 * The slot table is allocated for the cap; live threads are listed in a
 * dense array, so a pass over them costs what runs, not what could.
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
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "log.h"
#include "proto.h"
#include "mpath_exec.h"
#include "sgio.h"
#include "trace.h"
#include "worker.h"

/* One thread's bookkeeping. A thread that leaves after idling is joined
 * by the loop (workers_maintain), the others by workers_stop(), so no
 * thread is ever left unjoined and every stack is returned. */
struct worker_slot {
	struct workers *pool;
	pthread_t thread;
	unsigned live_index;            /* position in workers.live */
	bool exited;                    /* it returned and waits to be joined */
	/* Idle: on the pool's idle list, waiting on its own condition. */
	pthread_cond_t wake;
	bool wake_ready;                /* wake was initialised (once per slot) */
	bool woken;                     /* taken off the idle list for work */
	struct worker_slot *idle_prev, *idle_next;
	struct worker_slot *signal_next;   /* woken: signal once unlocked */
	/* When its current device call began; 0 outside one. Only the time
	 * inside the device counts as blocked: a thread preempted while it
	 * decodes or replies (a loaded machine) must not look like one
	 * waiting on a slow LUN, and the device call of a fast command is a
	 * small part of its few microseconds. */
	_Atomic uint64_t busy_since_ns;
	struct sgio_thread io;          /* its pass-through object, reused */
};

struct workers {
	pthread_mutex_t lock;
	/* Idle threads, the most recently idle first. Work goes to the top
	 * one: the threads that stay busy stay hot, and the rest stay idle
	 * long enough to exit, so a pool grown for a storm shrinks back even
	 * under a steady load of fast requests. */
	struct worker_slot *idle_head;
	struct conn *queue_head, *queue_tail;
	unsigned n_queued;
	atomic_uint queued_hint;        /* n_queued, readable without the lock */
	atomic_uint exited_hint;        /* threads waiting to be joined */
	_Atomic(struct conn *) done;    /* handed back, any order (lock-free) */
	unsigned n_threads;             /* not yet exited */
	atomic_uint threads_hint;       /* n_threads, readable without the lock */
	unsigned n_idle;                /* on the idle list */
	unsigned n_waking;              /* taken off it, not yet running */
	unsigned n_starting;            /* created, not yet looking for work */
	unsigned n_min;                 /* threads that never exit */
	unsigned max;                   /* the cap */
	bool stopping;
	atomic_bool quiescing;          /* the loop is stopping: read nothing new */
	atomic_uint n_lingering;
	atomic_uint in_flight;          /* commands between start and reply */
	atomic_uint submits;            /* hand-overs by the loop (wraps; never 0
	                                   in a connection's submit_seq) */
	atomic_uint peak_in_flight;     /* the most there ever were at once */
	bool spawn_failed_logged;
	int wake_fd;
	/* CPU use while requests wait, measured by the loop over windows of
	 * WORKERS_CPU_WINDOW_US, restarted whenever the queue was empty. */
	uint64_t window_start_ns, window_start_cpu_ns;
	long window_start_preempted;
	int cpu_pct;
	int preempted;                  /* involuntary switches in the window */
	/* Slots: max of them. The live ones (joinable threads, exited or not)
	 * are listed densely in live[0, n_live); free ones are stacked. Only
	 * the loop thread reads or changes these arrays; a thread touches
	 * only its own slot. */
	struct worker_slot *slots;
	struct worker_slot **live;
	unsigned n_live;
	struct worker_slot **free_slots;
	unsigned n_free;
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
serve(struct workers *w, struct worker_slot *slot, struct conn *c)
{
	struct proto_reply reply;
	struct sgio_outcome outcome;
	uint64_t elapsed_us, blk_dev;
	unsigned in_flight, peak;

	/* Commands in flight, and the peak: the test of parallelism reads
	 * these from the trace instead of timing anything. */
	in_flight = atomic_fetch_add(&w->in_flight, 1) + 1;
	peak = atomic_load(&w->peak_in_flight);
	while (in_flight > peak &&
	       !atomic_compare_exchange_weak(&w->peak_in_flight, &peak, in_flight))
		;
	TRACE(TRACE_REQUEST_RUNNING, "fd=%d in_flight=%u peak=%u", c->fd, in_flight,
	      in_flight > peak ? in_flight : peak);
	atomic_store(&slot->busy_since_ns, now_ns());
	/* A dm-multipath map's command goes to its paths; anything else,
	 * and a map when multipath support is off, to the fd itself. */
	if (!sgio_check(c->dev_fd, c->cdb, c->len, c->data, &reply, &outcome, &blk_dev) &&
	    !(blk_dev != 0 && mpath_exec(&slot->io, c->dev_fd, blk_dev, c->cdb, c->len,
	                                 c->data, &reply, &outcome)))
		sgio_run(&slot->io, c->dev_fd, c->cdb, c->len, c->data, &reply, &outcome);
	atomic_store(&slot->busy_since_ns, 0);
	atomic_fetch_sub(&w->in_flight, 1);
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

static uint64_t
process_cpu_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) < 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Requests started waiting: forget the last measure. The window itself
 * starts at the first look (cpu_window_update), so that the common case,
 * a queue that empties at once, costs no system call. Lock held. */
static void
cpu_window_restart(struct workers *w)
{
	w->window_start_ns = 0;
	w->cpu_pct = -1;
	w->preempted = -1;
}

/* Times a thread of ours was switched out while it could have run. */
static long
process_preemptions(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return 0;
	return ru.ru_nivcsw;
}

/* Start the window, or close it if it is long enough. Lock held. */
static void
cpu_window_update(struct workers *w, uint64_t now)
{
	uint64_t wall, cpu, used;
	long preempted;

	if (w->window_start_ns == 0) {
		w->window_start_ns = now;
		w->window_start_cpu_ns = process_cpu_ns();
		w->window_start_preempted = process_preemptions();
		return;
	}
	wall = now - w->window_start_ns;
	if (wall < (uint64_t)WORKERS_CPU_WINDOW_US * 1000u)
		return;
	cpu = process_cpu_ns();
	used = cpu > w->window_start_cpu_ns ? cpu - w->window_start_cpu_ns : 0;
	w->cpu_pct = (int)(used * 100u / wall > 1000u ? 1000u : used * 100u / wall);
	w->window_start_ns = now;
	w->window_start_cpu_ns = cpu;
	preempted = process_preemptions();
	w->preempted = (int)(preempted - w->window_start_preempted > 1000000 ?
	                     1000000 : preempted - w->window_start_preempted);
	w->window_start_preempted = preempted;
}

/*
 * Whether threads that look blocked can be waiting on devices rather than
 * for the CPU. Threads long busy while the helper keeps a CPU busy are
 * waiting for the CPU (preempted); not known yet counts as busy. And when
 * other programs keep the CPUs busy, our threads are switched out while
 * they could run: one preempted in the middle of a fast device call looks
 * blocked while the process, starved, uses little CPU, whereas a thread
 * asleep on a slow LUN is never switched out involuntarily. Growing in
 * either case would feed on itself.
 */
static bool
cpu_leaves_room(int cpu_pct, int preempted)
{
	return cpu_pct >= 0 && cpu_pct < WORKERS_CPU_BOUND_PCT &&
	       preempted <= WORKERS_PREEMPTED_MAX;
}

unsigned
workers_plan_spawn(const struct workers_state *st)
{
	unsigned min = st->max < WORKERS_MIN ? st->max : WORKERS_MIN;
	unsigned uncovered, room;

	/* Nothing waits, or threads already free will take all of it. */
	if (st->queued <= st->idle + st->starting)
		return 0;
	/* Enough threads are doing quick work: the queue is moving, and
	 * more threads would only add wake-ups. Unless it is not: threads a
	 * moment into a slow command look quick too, and in a pool grown
	 * for a storm some always are, while a request waits for whichever
	 * finishes first. In a pool that has grown already (so devices
	 * were found slow), a request that has waited as long as a thread
	 * must be busy to count as blocked, with one thread blocked, says
	 * the queue is stuck behind devices. Not in a pool of WORKERS_MIN:
	 * there a long queue of fast commands on a loaded machine looks
	 * the same, with one worker preempted. */
	if (st->threads - st->blocked >= min &&
	    !(st->threads > min && st->blocked > 0 &&
	      st->oldest_wait_us >= WORKERS_BLOCKED_US))
		return 0;
	if (!cpu_leaves_room(st->cpu_pct, st->preempted))
		return 0;
	/* The threads are waiting on devices: every waiting request gets a
	 * thread of its own (the CPU work is microseconds), up to the cap. */
	uncovered = st->queued - st->idle - st->starting;
	room = st->threads < st->max ? st->max - st->threads : 0;
	return uncovered < room ? uncovered : room;
}

/* Join the threads that left after idling and free their slots. Loop
 * thread (or workers_stop), lock held: a thread marks itself exited under
 * the lock and touches nothing of the pool afterwards, so joining it
 * here only waits for it to finish returning. */
static void
reap(struct workers *w)
{
	for (unsigned i = 0; i < w->n_live;) {
		struct worker_slot *slot = w->live[i];

		if (!slot->exited) {
			i++;
			continue;
		}
		pthread_join(slot->thread, NULL);
		slot->exited = false;
		w->live[i] = w->live[--w->n_live];
		w->live[i]->live_index = i;
		w->free_slots[w->n_free++] = slot;
	}
	atomic_store(&w->exited_hint, 0);
}

/*
 * Start n threads, counted already in n_threads and n_starting (so that
 * nobody else starts them too). Loop thread, lock NOT held: creating a
 * few hundred threads takes milliseconds, and the first ones should be
 * taking requests meanwhile. Only the loop thread touches the slot
 * arrays. Threads that could not be created are uncounted again.
 */
static void
spawn_reserved(struct workers *w, unsigned n)
{
	sigset_t all, old;
	unsigned started = 0;
	uint64_t began;
	int err = 0;

	if (n == 0)
		return;
	began = now_ns();
	/* Start with every signal blocked: stop signals belong to the loop's
	 * self-pipe, and one arriving mid-SG_IO could interrupt the command. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	while (started < n && w->n_free > 0) {
		struct worker_slot *slot = w->free_slots[w->n_free - 1];

		slot->pool = w;
		slot->exited = false;
		atomic_store(&slot->busy_since_ns, 0);
		if (!slot->wake_ready) {
			pthread_condattr_t attr;

			/* Idle deadlines are on the monotonic clock. */
			pthread_condattr_init(&attr);
			pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
			pthread_cond_init(&slot->wake, &attr);
			pthread_condattr_destroy(&attr);
			slot->wake_ready = true;
		}
		err = pthread_create(&slot->thread, NULL, worker_main, slot);
		if (err != 0)
			break;
		w->n_free--;
		slot->live_index = w->n_live;
		w->live[w->n_live++] = slot;
		started++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	TRACE(TRACE_WORKERS_STARTED, "count=%u of=%u duration_us=%llu", started, n,
	      (unsigned long long)((now_ns() - began) / 1000u));
	if (started == n)
		return;
	pthread_mutex_lock(&w->lock);
	w->n_threads -= n - started;
	atomic_store(&w->threads_hint, w->n_threads);
	w->n_starting -= n - started;
	if (!w->spawn_failed_logged)
		log_warn("cannot start a worker thread (%u running): %s", w->n_threads,
		         strerror(err != 0 ? err : EAGAIN));
	w->spawn_failed_logged = true;
	pthread_mutex_unlock(&w->lock);
}

/* Count n threads as started (lock held); spawn_reserved() then makes them. */
static unsigned
reserve(struct workers *w, unsigned n)
{
	w->n_threads += n;
	atomic_store(&w->threads_hint, w->n_threads);
	w->n_starting += n;
	return n;
}

/* Threads inside one device call for WORKERS_BLOCKED_US. Lock held. */
static unsigned
count_blocked(struct workers *w, uint64_t now)
{
	uint64_t limit = (uint64_t)WORKERS_BLOCKED_US * 1000u;
	unsigned n = 0;

	for (unsigned i = 0; i < w->n_live; i++) {
		uint64_t since;

		if (w->live[i]->exited)
			continue;
		since = atomic_load(&w->live[i]->busy_since_ns);
		if (since != 0 && now - since >= limit)
			n++;
	}
	return n;
}

/* Apply the sizing rule. Loop thread, lock held. Returns the number of
 * threads reserved, for spawn_reserved() once the lock is released. */
static unsigned
grow(struct workers *w)
{
	struct workers_state st = {
		.threads = w->n_threads, .idle = w->n_idle + w->n_waking,
		.starting = w->n_starting,
		.queued = w->n_queued, .max = w->max,
	};
	uint64_t now;
	unsigned n;

	/* The cheap exits first: counting blocked threads walks them. */
	if (st.queued <= st.idle + st.starting || st.threads >= st.max)
		return 0;
	now = now_ns();
	cpu_window_update(w, now);
	st.cpu_pct = w->cpu_pct;
	st.preempted = w->preempted;
	if (!cpu_leaves_room(st.cpu_pct, st.preempted))
		return 0;        /* before the walk over the threads */
	if (atomic_load(&w->exited_hint) != 0)
		reap(w);         /* their slots may be needed */
	st.blocked = count_blocked(w, now);
	if (w->queue_head != NULL && now > w->queue_head->started_ns)
		st.oldest_wait_us = (unsigned)((now - w->queue_head->started_ns) / 1000u);
	n = workers_plan_spawn(&st);
	if (n > 0)
		TRACE(TRACE_WORKERS_GROW,
		      "new=%u threads=%u queued=%u blocked=%u oldest_wait_us=%u cpu_pct=%d "
		      "preempted=%d",
		      n, st.threads, st.queued, st.blocked, st.oldest_wait_us, st.cpu_pct,
		      st.preempted);
	return reserve(w, n);
}

/* Request buffers for requests a lingering thread reads; the loop returns
 * them to its pool (or to malloc) like its own. */
static uint8_t *
linger_buffer(void *ctx)
{
	(void)ctx;
	return malloc(PRH_MAX_DATA);
}

bool
workers_may_linger(const struct linger_state *st)
{
	unsigned limit = WORKERS_LINGER_MAX;

	if (!st->at_request_start || st->quiescing || st->queued != 0)
		return false;
	/* Threads beyond the minimum were started for a storm on slow LUNs:
	 * they may all watch their clients, which then skip the loop too. */
	if (st->threads > WORKERS_MIN && st->threads - WORKERS_MIN > limit)
		limit = st->threads - WORKERS_MIN;
	else if (!st->alone)
		return false;
	return st->lingering < limit;
}

/*
 * After a reply: if the rule allows, watch this connection a moment for
 * its next request. Returns true when a request is complete and ready to
 * serve; otherwise the connection goes back to the loop in the state it
 * is in.
 */
static bool
linger(struct workers *w, struct conn *c)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	struct linger_state st;
	unsigned n;
	int r;

	st.at_request_start = c->state == CONN_RECV_CDB;
	st.quiescing = atomic_load(&w->quiescing);
	st.queued = atomic_load_explicit(&w->queued_hint, memory_order_relaxed);
	st.threads = atomic_load_explicit(&w->threads_hint, memory_order_relaxed);
	st.alone = c->submit_seq != 0 &&
	           c->submit_seq == atomic_load_explicit(&w->submits, memory_order_relaxed);
	n = atomic_load(&w->n_lingering);
	do {
		st.lingering = n;
		if (!workers_may_linger(&st))
			return false;
	} while (!atomic_compare_exchange_weak(&w->n_lingering, &n, n + 1));
	r = poll(&pfd, 1, WORKERS_LINGER_MS);
	atomic_fetch_sub(&w->n_lingering, 1);
	if (r <= 0 || atomic_load(&w->quiescing))
		return false;
	if (conn_advance(c, linger_buffer, NULL) != CONN_NEXT_EXECUTE)
		return false;
	/* submit_seq stays: it keeps lingering while the loop stays quiet. */
	c->started_ns = now_ns();
	return true;
}

/* The idle list; lock held. */
static void
idle_push(struct workers *w, struct worker_slot *slot)
{
	slot->woken = false;
	slot->idle_prev = NULL;
	slot->idle_next = w->idle_head;
	if (w->idle_head != NULL)
		w->idle_head->idle_prev = slot;
	w->idle_head = slot;
	w->n_idle++;
}

static void
idle_remove(struct workers *w, struct worker_slot *slot)
{
	if (slot->idle_prev != NULL)
		slot->idle_prev->idle_next = slot->idle_next;
	else
		w->idle_head = slot->idle_next;
	if (slot->idle_next != NULL)
		slot->idle_next->idle_prev = slot->idle_prev;
	slot->idle_prev = slot->idle_next = NULL;
	w->n_idle--;
}

/* Hand work to the most recently idle thread; lock held. The thread is
 * signalled by signal_woken() once the lock is dropped: signalled with
 * the lock held, on a busy CPU it would preempt us only to block on the
 * lock we hold, two context switches for nothing. */
static void
wake_one(struct workers *w, struct worker_slot **to_signal)
{
	struct worker_slot *slot = w->idle_head;

	idle_remove(w, slot);
	slot->woken = true;
	w->n_waking++;
	slot->signal_next = *to_signal;
	*to_signal = slot;
}

/* Lock not held. Each slot stays valid: only the loop thread, the caller,
 * joins threads and reuses slots, and a woken thread does not exit. */
static void
signal_woken(struct worker_slot *slot)
{
	while (slot != NULL) {
		struct worker_slot *next = slot->signal_next;

		pthread_cond_signal(&slot->wake);
		slot = next;
	}
}

static void
deadline_in_ms(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += (time_t)(ms / 1000u);
	ts->tv_nsec += (long)(ms % 1000u) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
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
			bool may_exit = w->n_threads > w->n_min;
			int err = 0;

			idle_push(w, slot);
			if (may_exit)
				deadline_in_ms(&deadline, WORKERS_IDLE_EXIT_MS);
			while (!slot->woken && !w->stopping && err != ETIMEDOUT) {
				if (may_exit)
					err = pthread_cond_timedwait(&slot->wake, &w->lock, &deadline);
				else
					err = pthread_cond_wait(&slot->wake, &w->lock);
			}
			if (slot->woken) {
				w->n_waking--;
				continue;
			}
			idle_remove(w, slot);
			if (err == ETIMEDOUT && w->queue_head == NULL &&
			    w->n_threads > w->n_min)
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
		pthread_mutex_unlock(&w->lock);

		serve(w, slot, c);
		while (linger(w, c))
			serve(w, slot, c);
		hand_back(w, c);

		pthread_mutex_lock(&w->lock);
	}
out:
	sgio_thread_release(&slot->io);
	w->n_threads--;
	atomic_store(&w->threads_hint, w->n_threads);
	slot->exited = true;
	/* Ask the loop to join us soon, so the stack goes back at once. */
	if (atomic_fetch_add(&w->exited_hint, 1) == 0)
		wake_loop(w->wake_fd);
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

struct workers *
workers_start(int wake_fd, unsigned max_threads)
{
	struct workers *w = calloc(1, sizeof(*w));
	unsigned n;

	if (w == NULL) {
		log_error("cannot allocate the worker pool");
		return NULL;
	}
	if (max_threads == 0)
		max_threads = 1;
	w->slots = calloc(max_threads, sizeof(*w->slots));
	w->live = calloc(max_threads, sizeof(*w->live));
	w->free_slots = calloc(max_threads, sizeof(*w->free_slots));
	if (w->slots == NULL || w->live == NULL || w->free_slots == NULL) {
		log_error("cannot allocate the worker pool for %u threads", max_threads);
		free(w->slots);
		free(w->live);
		free(w->free_slots);
		free(w);
		return NULL;
	}
	for (unsigned i = 0; i < max_threads; i++)
		w->free_slots[i] = &w->slots[max_threads - 1 - i];
	w->n_free = max_threads;
	w->max = max_threads;
	w->n_min = max_threads < WORKERS_MIN ? max_threads : WORKERS_MIN;
	w->wake_fd = wake_fd;
	pthread_mutex_init(&w->lock, NULL);

	pthread_mutex_lock(&w->lock);
	n = reserve(w, w->n_min);
	pthread_mutex_unlock(&w->lock);
	spawn_reserved(w, n);
	if (w->n_threads < w->n_min) {
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
	unsigned wake, n_new, seq;
	struct worker_slot *to_signal = NULL;

	/* Only a request handed over on its own may be followed by its
	 * thread (workers_may_linger): one in a batch has company. */
	seq = atomic_fetch_add_explicit(&w->submits, 1, memory_order_relaxed) + 1;
	if (seq == 0)
		seq = atomic_fetch_add_explicit(&w->submits, 1, memory_order_relaxed) + 1;
	for (struct conn *c = head; c != NULL; c = c->next) {
		c->started_ns = now;
		c->submit_seq = count == 1 ? seq : 0;
	}
	tail->next = NULL;
	pthread_mutex_lock(&w->lock);
	if (w->n_queued == 0)
		cpu_window_restart(w);
	if (w->queue_tail != NULL)
		w->queue_tail->next = head;
	else
		w->queue_head = head;
	w->queue_tail = tail;
	w->n_queued += count;
	atomic_store_explicit(&w->queued_hint, w->n_queued, memory_order_relaxed);
	n_new = grow(w);
	/* Wake as many idle threads as there are new requests, not all of
	 * them: after a storm hundreds may be idle, and a broadcast would
	 * send them all to fight for the lock over a handful of requests. */
	wake = count < w->n_idle ? count : w->n_idle;
	for (unsigned i = 0; i < wake; i++)
		wake_one(w, &to_signal);
	pthread_mutex_unlock(&w->lock);
	signal_woken(to_signal);
	spawn_reserved(w, n_new);
}

int
workers_maintain(struct workers *w)
{
	unsigned n_new;

	/* The common case, nothing waiting, costs two atomic loads. */
	if (atomic_load_explicit(&w->queued_hint, memory_order_relaxed) == 0 &&
	    atomic_load_explicit(&w->exited_hint, memory_order_relaxed) == 0)
		return -1;
	pthread_mutex_lock(&w->lock);
	if (atomic_load(&w->exited_hint) != 0)
		reap(w);
	n_new = grow(w);
	pthread_mutex_unlock(&w->lock);
	spawn_reserved(w, n_new);
	if (atomic_load_explicit(&w->queued_hint, memory_order_relaxed) == 0 ||
	    atomic_load_explicit(&w->threads_hint, memory_order_relaxed) >= w->max)
		return -1;  /* nothing waits, or nothing more can start */
	/* Requests wait: look again when a thread may count as blocked (and
	 * the CPU window has closed). */
	return WORKERS_BLOCKED_US;
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
	for (struct worker_slot *slot = w->idle_head; slot != NULL; slot = slot->idle_next)
		pthread_cond_signal(&slot->wake);
	pthread_mutex_unlock(&w->lock);
	/* Only the loop thread spawns and reaps, and it is here: the live
	 * list is stable. */
	for (unsigned i = 0; i < w->n_live; i++)
		pthread_join(w->live[i]->thread, NULL);
	for (unsigned i = 0; i < w->max; i++) {
		if (w->slots[i].wake_ready)
			pthread_cond_destroy(&w->slots[i].wake);
	}
	pthread_mutex_destroy(&w->lock);
	free(w->slots);
	free(w->live);
	free(w->free_slots);
	free(w);
}

/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for the worker pool's sizing rule (workers_plan_spawn): when
 * it grows, by how much, and where it stops; and for the lingering rule
 * (workers_may_linger). No threads are started. */
#include "tap.h"
#include "worker.h"

/* threads, idle, starting, queued, blocked, max, cpu_pct; the oldest
 * request has just arrived */
static unsigned
plan(unsigned threads, unsigned idle, unsigned starting, unsigned queued,
     unsigned blocked, unsigned max, int cpu_pct)
{
	struct workers_state st = {
		.threads = threads, .idle = idle, .starting = starting,
		.queued = queued, .blocked = blocked, .max = max, .cpu_pct = cpu_pct,
	};

	return workers_plan_spawn(&st);
}

/* The same, with the oldest queued request waiting wait_us. */
static unsigned
plan_waited(unsigned threads, unsigned queued, unsigned blocked, int cpu_pct,
            unsigned wait_us)
{
	struct workers_state st = {
		.threads = threads, .queued = queued, .blocked = blocked, .max = 512,
		.cpu_pct = cpu_pct, .oldest_wait_us = wait_us,
	};

	return workers_plan_spawn(&st);
}

/* A thread that has just replied in a pool of `threads`, nothing queued. */
static bool
may_linger(unsigned threads, unsigned lingering, bool alone)
{
	struct linger_state st = {
		.at_request_start = true, .threads = threads, .lingering = lingering,
		.alone = alone,
	};

	return workers_may_linger(&st);
}

static void
test_linger(void)
{
	struct linger_state st = { .at_request_start = true, .threads = 2, .alone = true };

	ok(may_linger(2, 0, true), "a lone client: its thread watches it for the next request");
	ok(!may_linger(2, 0, false),
	   "a client that came in a batch, or the loop handed over more since: back to the loop");
	ok(!may_linger(2, WORKERS_LINGER_MAX, true),
	   "at most WORKERS_LINGER_MAX threads watch clients in a pool at its minimum");
	ok(!may_linger(WORKERS_MIN + WORKERS_LINGER_MAX, 0, false),
	   "a pool grown by no more than the linger limit follows the minimum's rule");
	ok(may_linger(WORKERS_MIN + 10, 9, false),
	   "a pool grown for slow devices: threads beyond the minimum watch their clients");
	ok(!may_linger(WORKERS_MIN + 10, 10, false), "...no more of them than that");
	st.queued = 1;
	ok(!workers_may_linger(&st), "a request waits in the queue: the thread takes it instead");
	st.queued = 0;
	st.quiescing = true;
	ok(!workers_may_linger(&st), "the helper is stopping: no new request is read");
	st.quiescing = false;
	st.at_request_start = false;
	ok(!workers_may_linger(&st),
	   "the connection is not at a request boundary (reply still being written)");
}

int
main(void)
{
	test_linger();
	is_int(plan(2, 2, 0, 0, 0, 512, 0), 0, "nothing queued: no growth");
	is_int(plan(2, 2, 0, 2, 0, 512, 0), 0, "idle threads cover the queue");
	is_int(plan(2, 0, 0, 62, 0, 512, 0), 0,
	       "threads doing quick work: the queue is moving, no growth");
	is_int(plan(2, 0, 0, 62, 1, 512, 0), 62,
	       "one of two blocked: a thread for every waiting request");
	is_int(plan(2, 0, 0, 62, 2, 512, 0), 62,
	       "both blocked on devices: a thread for every waiting request");
	is_int(plan(10, 1, 3, 30, 10, 512, 0), 26,
	       "idle and starting threads are counted against the queue");
	is_int(plan(2, 0, 0, 600, 2, 512, 0), 510, "never past the cap");
	is_int(plan(4, 0, 0, 1, 4, 4, 0), 0, "at the cap, requests wait in the queue");
	is_int(plan(2, 0, 0, 200, 2, 512, 90), 0,
	       "blocked while the CPU is busy: preempted, not waiting on devices");
	is_int(plan(2, 0, 0, 200, 2, 512, WORKERS_CPU_BOUND_PCT), 0,
	       "the CPU threshold itself counts as busy");
	is_int(plan(2, 0, 0, 200, 2, 512, WORKERS_CPU_BOUND_PCT - 1), 200,
	       "just under the CPU threshold: grow");
	is_int(plan(2, 0, 0, 200, 2, 512, -1), 0,
	       "CPU use not measured yet: wait for a whole window");
	is_int(plan(64, 0, 0, 64, 62, 512, 5), 0,
	       "two threads still doing quick work keep the pool as it is");
	is_int(plan(2, 0, 0, 5, 2, 2, 0), 0, "a cap of two never grows");
	{
		struct workers_state st = {
			.threads = 2, .queued = 50, .blocked = 2, .max = 512,
			.cpu_pct = 10, .preempted = WORKERS_PREEMPTED_MAX + 1,
		};

		is_int(workers_plan_spawn(&st), 0,
		       "threads switched out involuntarily: the CPUs are busy, no growth");
		st.preempted = WORKERS_PREEMPTED_MAX;
		is_int(workers_plan_spawn(&st), 50, "no preemption beyond the bound: grow");
	}
	/* A pool grown for a storm: half its threads a moment into a slow
	 * command, one request waiting for whichever finishes first. */
	is_int(plan_waited(15, 1, 7, 5, WORKERS_BLOCKED_US - 1), 0,
	       "quick-looking threads and a request that just arrived: no growth");
	is_int(plan_waited(15, 1, 7, 5, WORKERS_BLOCKED_US), 1,
	       "the request has waited as long as a blocked thread: it gets one");
	is_int(plan_waited(15, 1, 7, WORKERS_CPU_BOUND_PCT, 5000), 0,
	       "...unless the CPU is busy (the queue waits for the CPU)");
	is_int(plan_waited(15, 3, 0, 5, 5000), 0,
	       "a long wait with no thread blocked is not a slow device: no growth");
	is_int(plan_waited(2, 40, 1, 5, WORKERS_BLOCKED_US * 4), 40,
	       "both rules at once: one thread for each waiting request");
	is_int(plan_waited(3, 200, 1, 5, WORKERS_BLOCKED_US * 4), 200,
	       "a pool already grown: a long wait behind one blocked thread grows it");
	is_int(plan_waited(2, 200, 0, 5, WORKERS_BLOCKED_US * 4), 0,
	       "a pool at its minimum needs its threads blocked, not a long queue "
	       "(fast commands on a loaded machine)");
	return tap_done();
}

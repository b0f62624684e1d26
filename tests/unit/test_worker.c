/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for the worker pool's sizing rule (workers_plan_spawn): when
 * it grows, by how much, and where it stops. No threads are started. */
#include "tap.h"
#include "worker.h"

/* threads, idle, starting, queued, blocked, max, cpu_pct */
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

int
main(void)
{
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
	return tap_done();
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mpath_exec.c: owns the I/O of persistent reservations on dm-multipath
 * maps. It asks the opener (mpath_opener.c) whether a device is a map and
 * for its paths' fds, keeps each map's memory between requests, runs the
 * plan's sends (mpath_plan.c decides them) through sgio.c, the sends of
 * one step in parallel, and turns the plan's answer and events into the
 * guest's reply, trace events and log lines.
 *
 * Device-mapper's major number is dynamic, so the opener is asked once
 * per block major: a major that is not device-mapper is remembered and
 * never asked about again, so ordinary disks cost nothing here.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "log.h"
#include "mpath_exec.h"
#include "mpath_opener.h"
#include "mpath_plan.h"
#include "trace.h"

enum major_kind { MAJOR_UNKNOWN, MAJOR_NOT_DM, MAJOR_DM };

#define KNOWN_MAJORS 4096
static _Atomic unsigned char major_kinds[KNOWN_MAJORS];

/* One map's memory. busy counts requests holding the entry; plan_lock
 * runs them one at a time (the plan reads and writes mem). */
struct map_entry {
	bool used;
	uint64_t dev;
	unsigned busy;
	uint64_t last_use;
	uint64_t paths_signature;   /* what -v last logged for it */
	pthread_mutex_t plan_lock;
	struct mpath_memory mem;
};

static struct map_entry maps[MPATH_EXEC_MAPS];
static pthread_mutex_t maps_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t maps_clock;
static pthread_once_t maps_once = PTHREAD_ONCE_INIT;

static void
maps_init(void)
{
	for (unsigned i = 0; i < MPATH_EXEC_MAPS; i++)
		pthread_mutex_init(&maps[i].plan_lock, NULL);
}

/* The map's entry, held (busy) and locked; NULL if every entry is busy. */
static struct map_entry *
map_acquire(uint64_t dev)
{
	struct map_entry *e = NULL, *lru = NULL;

	pthread_once(&maps_once, maps_init);
	pthread_mutex_lock(&maps_lock);
	for (unsigned i = 0; i < MPATH_EXEC_MAPS && e == NULL; i++) {
		if (maps[i].used && maps[i].dev == dev)
			e = &maps[i];
	}
	if (e == NULL) {
		for (unsigned i = 0; i < MPATH_EXEC_MAPS; i++) {
			struct map_entry *m = &maps[i];

			if (!m->used) {
				lru = m;
				break;
			}
			if (m->busy == 0 && (lru == NULL || m->last_use < lru->last_use))
				lru = m;
		}
		if (lru != NULL) {
			if (lru->used)
				log_info("multipath: forgetting map %u:%u (more than %d maps)",
				         major((dev_t)lru->dev), minor((dev_t)lru->dev),
				         MPATH_EXEC_MAPS);
			e = lru;
			e->used = true;
			e->dev = dev;
			e->paths_signature = 0;
			memset(&e->mem, 0, sizeof(e->mem));
		}
	}
	if (e != NULL) {
		e->busy++;
		e->last_use = ++maps_clock;
	}
	pthread_mutex_unlock(&maps_lock);
	if (e != NULL)
		pthread_mutex_lock(&e->plan_lock);
	return e;
}

static void
map_release(struct map_entry *e)
{
	pthread_mutex_unlock(&e->plan_lock);
	pthread_mutex_lock(&maps_lock);
	e->busy--;
	pthread_mutex_unlock(&maps_lock);
}

/* -v: the paths of a map, whenever they differ from what was logged. */
static void
log_paths(struct map_entry *e, const struct mpath_found *found)
{
	char line[512];
	size_t off = 0;
	uint64_t sig = 1469598103934665603ull;

	for (unsigned i = 0; i < found->n_paths; i++) {
		const struct mpath_found_path *p = &found->paths[i];

		sig = (sig ^ p->dev) * 1099511628211ull;
		sig = (sig ^ (uint64_t)(p->fd >= 0) ^ ((uint64_t)p->open_err << 1)) *
		      1099511628211ull;
	}
	if (sig == e->paths_signature)
		return;
	e->paths_signature = sig;
	for (unsigned i = 0; i < found->n_paths && off < sizeof(line) - 1; i++) {
		const struct mpath_found_path *p = &found->paths[i];
		int n = snprintf(line + off, sizeof(line) - off, "%s%s (%u:%u, %s%s%s)",
		                 i > 0 ? ", " : "", p->name, major((dev_t)p->dev),
		                 minor((dev_t)p->dev), p->running ? "running" : "not running",
		                 p->open_err != 0 && p->running ? ": cannot open: " : "",
		                 p->open_err != 0 && p->running ? strerror(p->open_err) : "");

		if (n < 0)
			break;
		off += (size_t)n;
	}
	if (off >= sizeof(line))
		off = sizeof(line) - 1;
	line[off] = '\0';
	log_info("multipath: map %u:%u: %u path%s: %s%s", major((dev_t)e->dev),
	         minor((dev_t)e->dev), found->n_paths, found->n_paths == 1 ? "" : "s",
	         line, found->truncated ? " (more paths not used)" : "");
	/* A running path that cannot be opened is a set-up problem (-u
	 * without a group that may open the node, a container's /dev without
	 * it): say so without -v. */
	for (unsigned i = 0; i < found->n_paths; i++) {
		const struct mpath_found_path *p = &found->paths[i];

		if (p->running && p->open_err != 0)
			log_warn("multipath: map %u:%u: cannot open path %s (%u:%u): %s%s",
			         major((dev_t)e->dev), minor((dev_t)e->dev), p->name,
			         major((dev_t)p->dev), minor((dev_t)p->dev), strerror(p->open_err),
			         p->open_err == EACCES ? " (the helper's group must be able to "
			                                 "open it: -g disk)" : "");
	}
}

/* One send, run on its own thread or the caller's. */
struct send_job {
	struct sgio_thread *io;         /* NULL: the job's own */
	int fd;
	const struct mpath_send *send;
	uint8_t *buf;                   /* PRH_MAX_DATA bytes */
	struct proto_reply reply;
	struct sgio_outcome outcome;
	pthread_t thread;
	bool threaded;
};

static void
run_send(struct send_job *job)
{
	struct sgio_thread own = { 0 };
	struct sgio_thread *io = job->io != NULL ? job->io : &own;
	uint16_t len = job->send->cdb[0] == PRH_OP_PR_IN ? job->send->alloc_len
	                                                 : job->send->param_len;

	if (job->send->cdb[0] != PRH_OP_PR_IN && job->send->param_len > 0)
		memcpy(job->buf, job->send->param, job->send->param_len);
	if (job->fd < 0) {
		/* The plan only sends to usable paths, which have an fd. */
		memset(&job->outcome, 0, sizeof(job->outcome));
		proto_reply_init(&job->reply);
		job->outcome.os_err = EBADF;
		proto_reply_from_errno(&job->reply, EBADF);
	} else {
		sgio_execute(io, job->fd, job->send->cdb, len, job->buf, &job->reply,
		             &job->outcome);
	}
	if (io == &own)
		sgio_thread_release(&own);
}

static void *
send_thread(void *arg)
{
	run_send(arg);
	return NULL;
}

/* The sends of one step: the first on this thread, the others on threads
 * of their own (a step is a handful of sends to different paths, rare
 * enough that starting threads costs nothing that matters). */
static void
run_step(struct sgio_thread *t, const struct mpath_found *found,
         const struct mpath_send *sends, unsigned n, struct send_job *jobs)
{
	for (unsigned i = 0; i < n; i++) {
		jobs[i].io = i == 0 ? t : NULL;
		jobs[i].fd = sends[i].path < found->n_paths ? found->paths[sends[i].path].fd : -1;
		jobs[i].send = &sends[i];
		jobs[i].threaded = false;
	}
	for (unsigned i = 1; i < n; i++)
		jobs[i].threaded = pthread_create(&jobs[i].thread, NULL, send_thread,
		                                  &jobs[i]) == 0;
	run_send(&jobs[0]);
	for (unsigned i = 1; i < n; i++) {
		if (jobs[i].threaded)
			pthread_join(jobs[i].thread, NULL);
		else
			run_send(&jobs[i]);
	}
}

static void
trace_events(uint64_t map, const struct mpath_answer *answer,
             const struct mpath_found *found)
{
	for (unsigned i = 0; i < answer->n_events; i++) {
		const struct mpath_event *ev = &answer->events[i];
		const char *name = ev->path >= 0 && (unsigned)ev->path < found->n_paths
		                   ? found->paths[ev->path].name : "-";

		TRACE(TRACE_MPATH_EVENT,
		      "map=%u:%u event=%s path=%s n=%u role=%s key=0x%llx errno=%d "
		      "status=0x%02x sense=%x/%02x/%02x",
		      major((dev_t)map), minor((dev_t)map), mpath_event_name(ev->kind), name,
		      ev->n, mpath_role_name(ev->role), (unsigned long long)ev->key,
		      ev->os_err, ev->status, ev->sense_key, ev->asc, ev->ascq);
		switch (ev->kind) {
		case MPATH_EVENT_REPAIRED:
		case MPATH_EVENT_STALE_REMOVED:
		case MPATH_EVENT_FENCED:
		case MPATH_EVENT_REREGISTERED:
		case MPATH_EVENT_MARKED:
			log_info("multipath: map %u:%u: %s %s", major((dev_t)map),
			         minor((dev_t)map), mpath_event_name(ev->kind), name);
			break;
		default:
			break;
		}
	}
}

/* The plan, from begin to answer; the map's entry is held. */
static void
run_plan(struct sgio_thread *t, struct map_entry *e, const struct mpath_found *found,
         const uint8_t cdb[PRH_CDB_SIZE], uint16_t len, uint8_t *data,
         struct proto_reply *reply, struct sgio_outcome *outcome)
{
	struct mpath_plan *plan = malloc(sizeof(*plan));
	struct mpath_send sends[MPATH_MAX_SENDS];
	struct send_job jobs[MPATH_MAX_SENDS];
	struct mpath_path paths[MPATH_MAX_PATHS];
	struct mpath_request req;
	struct sgio_outcome by_path[MPATH_MAX_PATHS];   /* each path's latest send */
	unsigned by_path_id[MPATH_MAX_PATHS];
	const struct mpath_answer *answer;
	uint8_t *bufs = malloc((size_t)MPATH_MAX_SENDS * PRH_MAX_DATA);
	unsigned n;

	if (plan == NULL || bufs == NULL) {
		free(plan);
		free(bufs);
		outcome->os_err = ENOMEM;
		proto_reply_from_errno(reply, ENOMEM);
		return;
	}
	memset(by_path, 0, sizeof(by_path));
	memset(by_path_id, 0xff, sizeof(by_path_id));
	for (unsigned i = 0; i < found->n_paths; i++) {
		paths[i].dev = found->paths[i].dev;
		paths[i].usable = found->paths[i].fd >= 0;
		paths[i].initiator = found->paths[i].initiator;
	}
	memcpy(req.cdb, cdb, PRH_CDB_SIZE);
	req.param = cdb[0] == PRH_OP_PR_OUT ? data : NULL;
	req.param_len = cdb[0] == PRH_OP_PR_OUT ? len : 0;
	mpath_plan_begin(plan, &req, paths, found->n_paths, &e->mem);
	while ((n = mpath_plan_next(plan, sends)) > 0) {
		for (unsigned i = 0; i < n; i++)
			jobs[i].buf = bufs + (size_t)i * PRH_MAX_DATA;
		run_step(t, found, sends, n, jobs);
		for (unsigned i = 0; i < n; i++) {
			struct mpath_result r;

			r.os_err = jobs[i].outcome.os_err;
			r.transport = jobs[i].outcome.host_status != 0 &&
			              mpath_host_status_is_path_failure(jobs[i].outcome.host_status);
			r.status = jobs[i].reply.status;
			memcpy(r.sense, jobs[i].reply.sense, PRH_SENSE_SIZE);
			r.data = jobs[i].buf;
			r.data_len = jobs[i].reply.size;
			if (sends[i].path < MPATH_MAX_PATHS) {
				by_path[sends[i].path] = jobs[i].outcome;
				by_path_id[sends[i].path] = sends[i].id;
			}
			mpath_plan_result(plan, i, &r);
		}
	}
	answer = mpath_plan_answer(plan);
	*reply = answer->reply;
	/* For the trace: the errno and host status behind the answer, when
	 * the answering send was that path's last. */
	if (answer->source == MPATH_ANSWER_PATH && answer->path >= 0 &&
	    answer->path < MPATH_MAX_PATHS && by_path_id[answer->path] == answer->send_id)
		*outcome = by_path[answer->path];
	outcome->called_ioctl = answer->source == MPATH_ANSWER_PATH;
	if (cdb[0] == PRH_OP_PR_IN) {
		memset(data, 0, PRH_MAX_DATA);
		if (reply->size > 0 && answer->data != NULL)
			memcpy(data, answer->data, reply->size);
	} else {
		reply->size = 0;
	}
	trace_events(e->dev, answer, found);
	free(bufs);
	free(plan);
}

bool
mpath_exec(struct sgio_thread *t, int dev_fd, uint64_t blk_dev,
           const uint8_t cdb[PRH_CDB_SIZE], uint16_t len, uint8_t *data,
           struct proto_reply *reply, struct sgio_outcome *outcome)
{
	unsigned maj = major((dev_t)blk_dev);
	struct mpath_found found;
	struct map_entry *e;
	unsigned usable = 0;
	int flags, r;

	if (!mpath_opener_running())
		return false;
	if (maj < KNOWN_MAJORS && atomic_load(&major_kinds[maj]) == MAJOR_NOT_DM)
		return false;
	flags = fcntl(dev_fd, F_GETFL);
	r = mpath_opener_query(dev_fd, flags >= 0 && (flags & O_ACCMODE) != O_RDONLY, &found);
	if (r < 0) {
		/* Without the opener a map cannot be told from a plain disk. A
		 * known non-dm major never gets here; for the rest, a retryable
		 * error beats sending a registration to one path. */
		log_warn("multipath: no answer from the path opener for %u:%u: %s",
		         maj, minor((dev_t)blk_dev), strerror(-r));
		outcome->os_err = -r;
		proto_reply_check_condition(reply, SENSE_KEY_ABORTED_COMMAND, 0x08, 0x00);
		return true;
	}
	if (maj < KNOWN_MAJORS)
		atomic_store(&major_kinds[maj], found.is_dm ? MAJOR_DM : MAJOR_NOT_DM);
	for (unsigned i = 0; i < found.n_paths; i++)
		usable += found.paths[i].fd >= 0;
	TRACE(TRACE_MPATH_PATHS, "map=%u:%u dm=%d multipath=%d paths=%u usable=%u",
	      maj, minor((dev_t)blk_dev), found.is_dm, found.is_multipath, found.n_paths,
	      usable);
	/* Not a map, or a map over one path: exactly as without multipath. */
	if (!found.is_multipath || found.n_paths < 2) {
		mpath_found_close(&found);
		return false;
	}
	e = map_acquire(blk_dev);
	if (e == NULL) {
		mpath_found_close(&found);
		log_warn("multipath: %d maps busy at once; request refused as busy",
		         MPATH_EXEC_MAPS);
		reply->status = PRH_STATUS_BUSY;
		return true;
	}
	log_paths(e, &found);
	run_plan(t, e, &found, cdb, len, data, reply, outcome);
	map_release(e);
	mpath_found_close(&found);
	return true;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mpath_plan.c: owns every decision of persistent reservations on a
 * dm-multipath map, as a plan that hands out steps of path commands and
 * digests their results: repair of paths that missed a registration
 * change, the guest's command on one answering path (the next one when a
 * path fails), then the fan-out its success calls for (REGISTER on the
 * other paths, RELEASE on every path, registrations put back after the
 * map's own PREEMPT). It never does I/O, never reads a clock, and keeps
 * its state in the plan and in the map's memory the caller hands in.
 *
 * The one rule above all others: nothing here registers a key that
 * another host removed. The helper registers a key on a path only (a)
 * right after the guest's own command succeeded on the answering path
 * with that key (which proves the key is registered there at that
 * moment), or (b) in a repair, when READ KEYS has just shown the key
 * still registered on the LU. Once READ KEYS shows the map's key gone,
 * the memory forgets it (key 0): from then on only the guest's own
 * REGISTER can bring a key back. The race left is documented in
 * docs/multipath.md: a fence that lands between the guest's command and
 * the fan-out that follows it.
 *
 * Bounds: a path that fails is not used again in the request (at most
 * MPATH_MAX_PATHS failures), a helper send is repeated at most
 * MPATH_UA_RETRIES times for unit attentions and once for a conflict, and
 * each phase sends to a path at most once otherwise; MPATH_MAX_STEPS only
 * guards against a bug in that reasoning.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mpath_plan.h"
#include "prh.h"
#include "proto.h"

enum { PHASE_START, PHASE_RUNNING, PHASE_DONE };

/* What a send's result means to the plan. */
enum outcome {
	OUTCOME_GOOD,
	OUTCOME_PATH_FAILED,     /* os error, transport failure, or never reported */
	OUTCOME_UNIT_ATTENTION,
	OUTCOME_CONFLICT,
	OUTCOME_OTHER
};

/* Not a path failure: the LU's own answer (what dm-multipath also passes
 * up instead of failing the path). */
#define HOST_DID_TARGET_FAILURE_ 0x10
#define HOST_DID_NEXUS_FAILURE_  0x11
#define HOST_DID_ALLOC_FAILURE_  0x12
#define HOST_DID_MEDIUM_ERROR_   0x13

/* Helper-synthesized answers. */
#define ASC_INVALID_FIELD_IN_CDB 0x24   /* 05/24/00 */
#define ASC_LUN_COMM_FAILURE     0x08   /* 0B/08/00 */

static uint64_t
get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void
put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static void
sense_fields(const uint8_t *sense, uint8_t *key, uint8_t *asc, uint8_t *ascq)
{
	switch (sense[0] & 0x7f) {
	case 0x70:
	case 0x71:
		*key = sense[2] & 0x0f;
		*asc = sense[12];
		*ascq = sense[13];
		break;
	case 0x72:
	case 0x73:
		*key = sense[1] & 0x0f;
		*asc = sense[2];
		*ascq = sense[3];
		break;
	default:
		*key = *asc = *ascq = 0;
		break;
	}
}

static enum outcome
classify(const struct mpath_pending *p)
{
	uint8_t key, asc, ascq;

	if (!p->reported || p->os_err != 0 || p->transport)
		return OUTCOME_PATH_FAILED;
	switch (p->status) {
	case PRH_STATUS_GOOD:
		return OUTCOME_GOOD;
	case PRH_STATUS_RESERVATION_CONFLICT:
		return OUTCOME_CONFLICT;
	case PRH_STATUS_CHECK_CONDITION:
		sense_fields(p->sense, &key, &asc, &ascq);
		return key == SENSE_KEY_UNIT_ATTENTION ? OUTCOME_UNIT_ATTENTION
		                                       : OUTCOME_OTHER;
	default:
		return OUTCOME_OTHER;
	}
}

bool
mpath_host_status_is_path_failure(unsigned host_status)
{
	switch (host_status) {
	case 0:
	case HOST_DID_TARGET_FAILURE_:
	case HOST_DID_NEXUS_FAILURE_:
	case HOST_DID_ALLOC_FAILURE_:
	case HOST_DID_MEDIUM_ERROR_:
		return false;
	default:
		return true;
	}
}

/* ---- events ---- */

static void
add_event(struct mpath_plan *plan, const struct mpath_event *ev)
{
	if (plan->n_events == MPATH_MAX_EVENTS) {
		plan->events_dropped++;
		return;
	}
	plan->events[plan->n_events++] = *ev;
}

static void
event(struct mpath_plan *plan, enum mpath_event_kind kind, int path, uint64_t key)
{
	struct mpath_event ev = { .kind = kind, .path = path, .key = key };

	if (path >= 0)
		ev.dev = plan->paths[path].dev;
	add_event(plan, &ev);
}

/* An event about a send's result, with its status and sense. */
static void
event_result(struct mpath_plan *plan, enum mpath_event_kind kind,
             const struct mpath_pending *p)
{
	struct mpath_event ev = {
		.kind = kind, .path = (int)p->send.path,
		.dev = plan->paths[p->send.path].dev, .os_err = p->os_err,
		.status = p->status,
	};

	sense_fields(p->sense, &ev.sense_key, &ev.asc, &ev.ascq);
	add_event(plan, &ev);
}

/* ---- answers ---- */

static void
finish(struct mpath_plan *plan)
{
	plan->phase = PHASE_DONE;
	plan->n_pend = 0;
	plan->answer.events = plan->events;
	plan->answer.n_events = plan->n_events;
	plan->answer.events_dropped = plan->events_dropped;
}

/* The guest gets what this send's path answered, byte for byte. */
static void
answer_verbatim(struct mpath_plan *plan, const struct mpath_pending *p)
{
	struct mpath_answer *a = &plan->answer;

	a->source = MPATH_ANSWER_PATH;
	a->path = (int)p->send.path;
	a->send_id = p->send.id;
	proto_reply_init(&a->reply);
	a->reply.status = p->status;
	memcpy(a->reply.sense, p->sense, sizeof(a->reply.sense));
	if (p->send.cdb[0] == PRH_OP_PR_IN && p->status == PRH_STATUS_GOOD)
		a->reply.size = plan->data_len < p->send.alloc_len ? plan->data_len
		                                                   : p->send.alloc_len;
	a->data = plan->data;
	plan->answered = true;
}

static void
answer_helper(struct mpath_plan *plan, uint8_t key, uint8_t asc, uint8_t ascq)
{
	struct mpath_answer *a = &plan->answer;

	a->source = MPATH_ANSWER_HELPER;
	a->path = -1;
	a->send_id = 0;
	proto_reply_init(&a->reply);
	proto_reply_check_condition(&a->reply, key, asc, ascq);
	a->data = plan->data;
	plan->answered = true;
}

/*
 * No path could take the command. ABORTED COMMAND, LOGICAL UNIT
 * COMMUNICATION FAILURE: what QEMU's multipath-enabled helper answers when
 * its library finds no path, and what QEMU itself answers when it cannot
 * reach the helper; Linux and Windows guests retry ABORTED COMMAND.
 */
static void
answer_no_path(struct mpath_plan *plan)
{
	event(plan, MPATH_EVENT_NO_PATH, -1, 0);
	answer_helper(plan, SENSE_KEY_ABORTED_COMMAND, ASC_LUN_COMM_FAILURE, 0x00);
	finish(plan);
}

/* ---- paths and memory ---- */

static bool
available(const struct mpath_plan *plan, unsigned i)
{
	return plan->paths[i].usable && !plan->failed[i];
}

/* Paths of one initiator port, as far as an ALL_TG_PT registration goes. */
static bool
same_port(const struct mpath_plan *plan, unsigned i, unsigned j)
{
	return i == j || (plan->paths[i].initiator != 0 &&
	                  plan->paths[i].initiator == plan->paths[j].initiator);
}

static bool
dev_in_paths(const struct mpath_plan *plan, uint64_t dev)
{
	for (unsigned i = 0; i < plan->n_paths; i++)
		if (plan->paths[i].dev == dev)
			return true;
	return false;
}

/*
 * Give every path its memory slot. A path the memory has never seen may
 * carry anything (it joined the map, or its slot was reused while it was
 * gone), so once the map's key is known it is repaired before use.
 */
static void
attach_memory(struct mpath_plan *plan)
{
	struct mpath_memory *mem = plan->mem;

	for (unsigned i = 0; i < plan->n_paths; i++) {
		struct mpath_path_memory *slot = NULL;

		for (unsigned s = 0; s < MPATH_MAX_PATHS && slot == NULL; s++)
			if (mem->path[s].used && mem->path[s].dev == plan->paths[i].dev)
				slot = &mem->path[s];
		for (unsigned s = 0; s < MPATH_MAX_PATHS && slot == NULL; s++)
			if (!mem->path[s].used)
				slot = &mem->path[s];
		/* All slots used: one of them belongs to a dev that has left the
		 * map (at most MPATH_MAX_PATHS distinct devs are here). */
		for (unsigned s = 0; s < MPATH_MAX_PATHS && slot == NULL; s++)
			if (!dev_in_paths(plan, mem->path[s].dev))
				slot = &mem->path[s];
		if (slot == NULL)       /* not reached; keeps every path a slot */
			slot = &mem->path[0];
		if (!slot->used || slot->dev != plan->paths[i].dev) {
			slot->used = true;
			slot->dev = plan->paths[i].dev;
			slot->key = 0;
			slot->needs_repair = mem->key_known;
		}
		plan->slot[i] = slot;
	}
}

/* The answering path: a usable one, preferably one with nothing to
 * repair (its registration is the one the memory describes). */
static int
pick_primary(const struct mpath_plan *plan)
{
	for (unsigned i = 0; i < plan->n_paths; i++)
		if (available(plan, i) && !plan->slot[i]->needs_repair)
			return (int)i;
	for (unsigned i = 0; i < plan->n_paths; i++)
		if (available(plan, i))
			return (int)i;
	return -1;
}

static void
path_failed(struct mpath_plan *plan, const struct mpath_pending *p)
{
	plan->failed[p->send.path] = true;
	event_result(plan, MPATH_EVENT_PATH_FAILED, p);
}

/* Path i now carries key, as the helper registered it. */
static void
confirm(struct mpath_plan *plan, unsigned i, uint64_t key)
{
	plan->slot[i]->key = key;
	plan->slot[i]->needs_repair = false;
}

static bool
changes_registrations(uint8_t sa)
{
	return sa == MPATH_PR_REGISTER || sa == MPATH_PR_REGISTER_IGNORE ||
	       sa == MPATH_PR_CLEAR || sa == MPATH_PR_PREEMPT ||
	       sa == MPATH_PR_PREEMPT_AND_ABORT;
}

static bool
is_pr_out(const struct mpath_plan *plan)
{
	return plan->op == PRH_OP_PR_OUT;
}

/* Byte 20 for the registrations the helper makes on its own: the flags of
 * the guest's last registration, whose APTPL must not change (the LU keeps
 * the APTPL of the last registration it received). */
static uint8_t
own_flags(struct mpath_plan *plan)
{
	struct mpath_memory *mem = plan->mem;
	uint8_t flags = 0;

	if (!mem->flags_known)
		return 0;
	if (mem->all_tg_pt)
		flags |= MPATH_PARAM_ALL_TG_PT;
	if (mem->aptpl)
		flags |= MPATH_PARAM_APTPL;
	return flags;
}

/* ---- building sends ---- */

static struct mpath_pending *
new_send(struct mpath_plan *plan, unsigned path, enum mpath_role role)
{
	struct mpath_pending *p = &plan->pend[plan->n_pend++];

	memset(p, 0, sizeof(*p));
	p->send.path = path;
	p->send.role = role;
	return p;
}

static void
set_pr_in(struct mpath_pending *p, uint8_t sa, uint16_t alloc_len)
{
	p->send.cdb[0] = PRH_OP_PR_IN;
	p->send.cdb[1] = sa;
	p->send.cdb[7] = (uint8_t)(alloc_len >> 8);
	p->send.cdb[8] = (uint8_t)alloc_len;
	p->send.alloc_len = alloc_len;
}

/* REGISTER AND IGNORE EXISTING KEY with key (0 unregisters) and flags. */
static void
set_register_ignore(struct mpath_pending *p, uint64_t key, uint8_t flags)
{
	p->send.cdb[0] = PRH_OP_PR_OUT;
	p->send.cdb[1] = MPATH_PR_REGISTER_IGNORE;
	p->send.cdb[8] = MPATH_PARAM_BASIC;
	memset(p->param, 0, sizeof(p->param));
	put_be64(p->param + 8, key);
	p->param[20] = flags;
	p->own_param = true;
	p->send.param_len = MPATH_PARAM_BASIC;
}

/* The guest's command, as it sent it. */
static void
set_guest_command(struct mpath_plan *plan, struct mpath_pending *p)
{
	memcpy(p->send.cdb, plan->req.cdb, PRH_CDB_SIZE);
	if (is_pr_out(plan)) {
		p->send.param_len = plan->req.param_len;
	} else {
		p->send.alloc_len = proto_get_be16(plan->req.cdb + 7);
	}
}

/* The guest's REGISTER for another path: the basic 24 bytes only, since
 * SPEC_I_PT names other initiators (registered once, by the first path)
 * and a registered path refuses it. */
static void
set_secondary_register(struct mpath_plan *plan, struct mpath_pending *p)
{
	memcpy(p->send.cdb, plan->req.cdb, PRH_CDB_SIZE);
	p->send.cdb[5] = p->send.cdb[6] = p->send.cdb[7] = 0;
	p->send.cdb[8] = MPATH_PARAM_BASIC;
	memcpy(p->param, plan->req.param, MPATH_PARAM_BASIC);
	p->param[20] &= (uint8_t)~MPATH_PARAM_SPEC_I_PT;
	p->own_param = true;
	p->send.param_len = MPATH_PARAM_BASIC;
}

/* ---- the phases ---- */

static bool
repair_targets_left(const struct mpath_plan *plan)
{
	for (unsigned i = 0; i < plan->n_paths; i++)
		if (available(plan, i) && plan->slot[i]->needs_repair)
			return true;
	return false;
}

/* Could the guest's PREEMPT remove registrations of this map's other
 * paths? Then they must be registered again after it, with the APTPL the
 * LU has. */
static bool
preempt_hits_own_paths(const struct mpath_plan *plan)
{
	uint64_t rk, sk;

	if (!is_pr_out(plan) || plan->req.param_len < MPATH_PARAM_BASIC ||
	    (plan->sa != MPATH_PR_PREEMPT && plan->sa != MPATH_PR_PREEMPT_AND_ABORT) ||
	    plan->n_paths < 2)
		return false;
	rk = get_be64(plan->req.param);
	sk = get_be64(plan->req.param + 8);
	if (sk == 0 || sk == rk)
		return true;
	for (unsigned i = 0; i < plan->n_paths; i++)
		if (plan->slot[i]->key == sk)
			return true;
	return false;
}

/*
 * Before the guest's command: find the answering path; if a usable path
 * missed a registration change, READ KEYS (on the answering path, so that
 * a unit attention pending there reaches the guest), learn the LU's
 * APTPL if a registration will be sent and it is not known, repair; then
 * the command itself.
 */
static void
proceed(struct mpath_plan *plan)
{
	struct mpath_pending *p;

	plan->n_pend = 0;
	if (plan->primary < 0 || !available(plan, (unsigned)plan->primary)) {
		plan->primary = pick_primary(plan);
		if (plan->primary < 0) {
			answer_no_path(plan);
			return;
		}
	}
	if (!plan->keys_read && plan->mem->key_known && repair_targets_left(plan)) {
		p = new_send(plan, (unsigned)plan->primary, MPATH_ROLE_READ_KEYS);
		set_pr_in(p, MPATH_PR_READ_KEYS, MPATH_READ_KEYS_LEN);
		return;
	}
	if (!plan->caps_done && !plan->mem->flags_known &&
	    ((plan->keys_read && !plan->repair_done && repair_targets_left(plan)) ||
	     preempt_hits_own_paths(plan))) {
		p = new_send(plan, (unsigned)plan->primary, MPATH_ROLE_CAPABILITIES);
		set_pr_in(p, MPATH_PR_REPORT_CAPABILITIES, 8);
		return;
	}
	if (plan->keys_read && !plan->repair_done) {
		plan->repair_done = true;
		if (!plan->mem->flags_known && repair_targets_left(plan))
			event(plan, MPATH_EVENT_APTPL_UNKNOWN, -1, 0);
		for (unsigned i = 0; i < plan->n_paths; i++) {
			if (!available(plan, i) || !plan->slot[i]->needs_repair)
				continue;
			p = new_send(plan, i, MPATH_ROLE_REPAIR);
			set_register_ignore(p, plan->repair_key, own_flags(plan));
		}
		if (plan->n_pend > 0)
			return;
	}
	p = new_send(plan, (unsigned)plan->primary, MPATH_ROLE_COMMAND);
	set_guest_command(plan, p);
}

/* Is key among the keys of a READ KEYS reply? *cut: the reply did not
 * hold every key, so "no" is not known. */
static bool
keys_hold(const struct mpath_plan *plan, uint64_t key, bool *cut)
{
	uint32_t listed, avail;

	*cut = false;
	if (plan->data_len < 8) {
		*cut = true;
		return false;
	}
	listed = proto_get_be32(plan->data + 4);
	avail = plan->data_len - 8;
	if (listed > avail) {
		*cut = true;
		listed = avail;
	}
	for (uint32_t off = 8; off + 8 <= 8 + listed; off += 8)
		if (get_be64(plan->data + off) == key)
			return true;
	return false;
}

static void
digest_read_keys(struct mpath_plan *plan)
{
	struct mpath_pending *p = &plan->pend[0];
	struct mpath_memory *mem = plan->mem;
	bool cut, held;

	switch (classify(p)) {
	case OUTCOME_PATH_FAILED:
		path_failed(plan, p);
		proceed(plan);
		return;
	case OUTCOME_UNIT_ATTENTION:
		/* Pending on the answering path: it is the guest's to see, and
		 * its command was not run. The repair waits for its retry. */
		answer_verbatim(plan, p);
		finish(plan);
		return;
	case OUTCOME_GOOD:
		break;
	case OUTCOME_CONFLICT:
	case OUTCOME_OTHER:
		event_result(plan, MPATH_EVENT_REPAIR_SKIPPED, p);
		plan->keys_read = plan->repair_done = true;
		proceed(plan);
		return;
	}
	held = mem->key != 0 && keys_hold(plan, mem->key, &cut);
	if (mem->key != 0 && !held && cut) {
		/* Not seen, but not all keys were listed: do nothing rather
		 * than forget a key that may be there. */
		event(plan, MPATH_EVENT_REPAIR_SKIPPED, -1, mem->key);
		plan->keys_read = plan->repair_done = true;
		proceed(plan);
		return;
	}
	if (mem->key != 0 && !held) {
		/* Another host removed the map's key (a fence), or cleared
		 * the LU. Forget it, so that no later repair or retry can put
		 * it back; the returning paths lose what they still carry. */
		event(plan, MPATH_EVENT_FENCED, -1, mem->key);
		mem->key = 0;
	}
	plan->repair_key = mem->key;
	plan->keys_read = true;
	proceed(plan);
}

static void
digest_capabilities(struct mpath_plan *plan)
{
	struct mpath_pending *p = &plan->pend[0];
	struct mpath_memory *mem = plan->mem;

	switch (classify(p)) {
	case OUTCOME_PATH_FAILED:
		path_failed(plan, p);
		proceed(plan);
		return;
	case OUTCOME_UNIT_ATTENTION:
		answer_verbatim(plan, p);
		finish(plan);
		return;
	case OUTCOME_GOOD:
		if (plan->data_len >= 4) {
			/* PTPL_A: persistence through power loss is active. The
			 * ALL_TG_PT of a registration made elsewhere is not
			 * reported; registering each path by itself is always
			 * right. */
			mem->flags_known = true;
			mem->all_tg_pt = false;
			mem->aptpl = (plan->data[3] & 0x01) != 0;
		}
		break;
	case OUTCOME_CONFLICT:
	case OUTCOME_OTHER:
		break;
	}
	plan->caps_done = true;
	proceed(plan);
}

/* Requeue a send of the current step into next[]: same path, same
 * command, a new id when handed out. */
static struct mpath_pending *
requeue(struct mpath_pending *next, unsigned *n, const struct mpath_pending *p)
{
	struct mpath_pending *q = &next[(*n)++];

	*q = *p;
	q->reported = false;
	q->os_err = 0;
	q->transport = false;
	q->status = 0;
	memset(q->sense, 0, sizeof(q->sense));
	q->data_len = 0;
	return q;
}

/* A unit attention on a send the helper makes itself: consumed, and the
 * send repeated, a bounded number of times. */
static bool
retry_unit_attention(struct mpath_plan *plan, struct mpath_pending *next,
                     unsigned *n, const struct mpath_pending *p)
{
	struct mpath_pending *q;

	if (p->ua_retries >= MPATH_UA_RETRIES)
		return false;
	event_result(plan, MPATH_EVENT_UA_RETRY, p);
	q = requeue(next, n, p);
	q->ua_retries++;
	return true;
}

static void
digest_repair(struct mpath_plan *plan)
{
	struct mpath_pending next[MPATH_MAX_SENDS];
	unsigned n = 0;

	for (unsigned k = 0; k < plan->n_pend; k++) {
		const struct mpath_pending *p = &plan->pend[k];
		unsigned i = p->send.path;

		switch (classify(p)) {
		case OUTCOME_GOOD:
			event(plan, plan->repair_key != 0 ? MPATH_EVENT_REPAIRED
			                                  : MPATH_EVENT_STALE_REMOVED,
			      (int)i, plan->repair_key != 0 ? plan->repair_key
			                                    : plan->slot[i]->key);
			confirm(plan, i, plan->repair_key);
			break;
		case OUTCOME_PATH_FAILED:
			path_failed(plan, p);
			break;
		case OUTCOME_UNIT_ATTENTION:
			if (retry_unit_attention(plan, next, &n, p))
				break;
			/* FALLTHROUGH */
		case OUTCOME_CONFLICT:
		case OUTCOME_OTHER:
			/* Still marked: the next request tries again. */
			event_result(plan, MPATH_EVENT_GAVE_UP, p);
			break;
		}
	}
	memcpy(plan->pend, next, n * sizeof(next[0]));
	plan->n_pend = n;
	if (n == 0)
		proceed(plan);
}

/* Queue fan-out sends to the paths still wanted, one per initiator port
 * when the registration covers every target port of its port. */
static void
queue_fanout(struct mpath_plan *plan, enum mpath_role role)
{
	for (unsigned i = 0; i < plan->n_paths; i++) {
		struct mpath_pending *p;
		bool covered = false;

		if (!plan->want[i] || plan->done[i] || plan->tried[i] || !available(plan, i))
			continue;
		if (plan->fanout_grouped) {
			for (unsigned j = 0; j < plan->n_paths && !covered; j++)
				if (j != i && same_port(plan, i, j) && plan->done[j])
					covered = true;
			for (unsigned k = 0; k < plan->n_pend && !covered; k++)
				if (same_port(plan, i, plan->pend[k].send.path))
					covered = true;
			if (covered)
				continue;
		}
		plan->tried[i] = true;
		p = new_send(plan, i, role);
		if (role == MPATH_ROLE_REREGISTER)
			set_register_ignore(p, plan->fanout_key, own_flags(plan));
		else if (plan->sa == MPATH_PR_RELEASE)
			set_guest_command(plan, p);
		else
			set_secondary_register(plan, p);
	}
}

static void
finish_fanout(struct mpath_plan *plan)
{
	if (plan->fanout_changes_keys)
		for (unsigned i = 0; i < plan->n_paths; i++)
			if (!plan->done[i] && plan->slot[i]->needs_repair)
				event(plan, MPATH_EVENT_MARKED, (int)i, plan->slot[i]->key);
	finish(plan);
}

static void
fanout_success(struct mpath_plan *plan, unsigned i, enum mpath_role role)
{
	plan->done[i] = true;
	if (!plan->fanout_changes_keys)
		return;
	confirm(plan, i, plan->fanout_key);
	if (role == MPATH_ROLE_REREGISTER)
		event(plan, MPATH_EVENT_REREGISTERED, (int)i, plan->fanout_key);
	if (!plan->fanout_grouped)
		return;
	/* The registration covers the other usable paths of its port. */
	for (unsigned j = 0; j < plan->n_paths; j++) {
		if (j == i || !same_port(plan, i, j) || !available(plan, j))
			continue;
		plan->done[j] = true;
		confirm(plan, j, plan->fanout_key);
	}
}

static void
digest_fanout(struct mpath_plan *plan)
{
	struct mpath_pending next[MPATH_MAX_SENDS];
	enum mpath_role role = plan->pend[0].send.role;
	unsigned n = 0;
	uint8_t key, asc, ascq;

	for (unsigned k = 0; k < plan->n_pend; k++) {
		const struct mpath_pending *p = &plan->pend[k];
		struct mpath_pending *q;
		unsigned i = p->send.path;
		bool registering = role == MPATH_ROLE_REREGISTER ||
		                   plan->sa != MPATH_PR_RELEASE;

		switch (classify(p)) {
		case OUTCOME_GOOD:
			fanout_success(plan, i, role);
			break;
		case OUTCOME_PATH_FAILED:
			path_failed(plan, p);
			break;
		case OUTCOME_UNIT_ATTENTION:
			/* Typically established by the guest's command itself on
			 * the answering path (registrations preempted,
			 * reservation released): not the guest's to see here. */
			if (!retry_unit_attention(plan, next, &n, p))
				event_result(plan, MPATH_EVENT_GAVE_UP, p);
			break;
		case OUTCOME_CONFLICT:
			if (registering && !p->conflict_retried &&
			    (p->send.cdb[1] & 0x1f) != MPATH_PR_REGISTER_IGNORE) {
				/* The path's registration is not the one the guest
				 * changed (it missed an earlier change, or was never
				 * made): the answering path's success has just shown
				 * the guest's key valid, so set it regardless. */
				event_result(plan, MPATH_EVENT_CONFLICT_RETRY, p);
				q = requeue(next, &n, p);
				q->conflict_retried = true;
				q->send.cdb[1] = (uint8_t)((q->send.cdb[1] & 0xe0) |
				                           MPATH_PR_REGISTER_IGNORE);
				break;
			}
			if (!registering && plan->mem->key_known && plan->mem->key != 0) {
				/* RELEASE refused: this path is not registered,
				 * though the map is. */
				plan->slot[i]->needs_repair = true;
				event(plan, MPATH_EVENT_MARKED, (int)i, plan->slot[i]->key);
			}
			event_result(plan, MPATH_EVENT_GAVE_UP, p);
			break;
		case OUTCOME_OTHER:
			sense_fields(p->sense, &key, &asc, &ascq);
			if (!registering && p->status == PRH_STATUS_CHECK_CONDITION &&
			    key == SENSE_KEY_ILLEGAL_REQUEST &&
			    plan->answer.reply.status == PRH_STATUS_GOOD) {
				/* This path holds the reservation and refused to
				 * release it (another type or scope): the guest's
				 * RELEASE did not happen, so it gets this answer. */
				answer_verbatim(plan, p);
			}
			event_result(plan, MPATH_EVENT_GAVE_UP, p);
			break;
		}
	}
	memcpy(plan->pend, next, n * sizeof(next[0]));
	plan->n_pend = n;
	queue_fanout(plan, role);
	if (plan->n_pend == 0)
		finish_fanout(plan);
}

/* The guest's command succeeded on the answering path: remember what it
 * changed and start what must follow. */
static void
after_command(struct mpath_plan *plan)
{
	struct mpath_memory *mem = plan->mem;
	unsigned primary = (unsigned)plan->primary;
	const uint8_t *param = plan->req.param;
	uint64_t rk, sk;

	plan->n_pend = 0;
	if (!is_pr_out(plan)) {
		finish(plan);
		return;
	}
	switch (plan->sa) {
	case MPATH_PR_REGISTER:
	case MPATH_PR_REGISTER_IGNORE:
		if (plan->req.param_len < MPATH_PARAM_BASIC)
			break;
		mem->key_known = true;
		mem->key = get_be64(param + 8);
		mem->flags_known = true;
		mem->all_tg_pt = (param[20] & MPATH_PARAM_ALL_TG_PT) != 0;
		mem->aptpl = (param[20] & MPATH_PARAM_APTPL) != 0;
		/* Every path the helper remembers, here or gone, missed the
		 * change until a send confirms it. */
		for (unsigned s = 0; s < MPATH_MAX_PATHS; s++)
			if (mem->path[s].used)
				mem->path[s].needs_repair = true;
		plan->fanout_key = mem->key;
		plan->fanout_changes_keys = true;
		plan->fanout_grouped = mem->all_tg_pt;
		fanout_success(plan, primary, MPATH_ROLE_SECONDARY);
		for (unsigned i = 0; i < plan->n_paths; i++)
			plan->want[i] = i != primary;
		queue_fanout(plan, MPATH_ROLE_SECONDARY);
		if (plan->n_pend == 0)
			finish_fanout(plan);
		return;
	case MPATH_PR_RELEASE:
		/* The holder may be any path: release on all of them. A
		 * registered path that does not hold it answers GOOD. */
		plan->done[primary] = true;
		for (unsigned i = 0; i < plan->n_paths; i++)
			plan->want[i] = i != primary;
		queue_fanout(plan, MPATH_ROLE_SECONDARY);
		if (plan->n_pend == 0)
			finish_fanout(plan);
		return;
	case MPATH_PR_PREEMPT:
	case MPATH_PR_PREEMPT_AND_ABORT:
		if (plan->req.param_len < MPATH_PARAM_BASIC)
			break;
		rk = get_be64(param);
		sk = get_be64(param + 8);
		mem->key_known = true;
		mem->key = rk;
		confirm(plan, primary, rk);
		/* The LU removed every registration with key sk (all others
		 * for sk 0 under an all-registrants reservation) except the
		 * answering path's: ours among them must come back, since
		 * the answering path's success proves rk registered. */
		for (unsigned i = 0; i < plan->n_paths; i++)
			plan->want[i] = plan->slot[i] != plan->slot[primary] &&
			                (sk == 0 || sk == rk || plan->slot[i]->key == sk);
		for (unsigned s = 0; s < MPATH_MAX_PATHS; s++) {
			struct mpath_path_memory *slot = &mem->path[s];

			if (!slot->used || slot == plan->slot[primary])
				continue;
			if (sk == 0 || sk == rk || slot->key == sk) {
				slot->key = 0;
				slot->needs_repair = true;
			}
		}
		plan->fanout_key = rk;
		plan->fanout_changes_keys = true;
		plan->fanout_grouped = mem->flags_known && mem->all_tg_pt;
		if (!mem->flags_known)
			event(plan, MPATH_EVENT_APTPL_UNKNOWN, -1, 0);
		queue_fanout(plan, MPATH_ROLE_REREGISTER);
		if (plan->n_pend == 0)
			finish_fanout(plan);
		return;
	case MPATH_PR_CLEAR:
		/* No registration is left on the LU, ours included; nothing
		 * follows, and no repair may bring one back. */
		mem->key_known = true;
		mem->key = 0;
		for (unsigned s = 0; s < MPATH_MAX_PATHS; s++) {
			mem->path[s].key = 0;
			mem->path[s].needs_repair = false;
		}
		break;
	default:
		break;
	}
	finish(plan);
}

static void
digest_command(struct mpath_plan *plan)
{
	struct mpath_pending *p = &plan->pend[0];

	switch (classify(p)) {
	case OUTCOME_PATH_FAILED:
		/* The command may or may not have reached the LU: a path that
		 * may now carry another registration is repaired later. */
		if (is_pr_out(plan) && changes_registrations(plan->sa)) {
			plan->slot[p->send.path]->needs_repair = true;
			event(plan, MPATH_EVENT_MARKED, (int)p->send.path,
			      plan->slot[p->send.path]->key);
		}
		path_failed(plan, p);
		proceed(plan);
		return;
	case OUTCOME_GOOD:
		answer_verbatim(plan, p);
		after_command(plan);
		return;
	case OUTCOME_UNIT_ATTENTION:
	case OUTCOME_CONFLICT:
	case OUTCOME_OTHER:
		answer_verbatim(plan, p);
		finish(plan);
		return;
	}
}

/* ---- the interface ---- */

void
mpath_plan_begin(struct mpath_plan *plan, const struct mpath_request *req,
                 const struct mpath_path *paths, unsigned n_paths,
                 struct mpath_memory *mem)
{
	memset(plan, 0, offsetof(struct mpath_plan, data));
	plan->data_len = 0;
	plan->req = *req;
	plan->op = req->cdb[0];
	plan->sa = req->cdb[1] & 0x1f;
	plan->n_paths = n_paths < MPATH_MAX_PATHS ? n_paths : MPATH_MAX_PATHS;
	if (plan->n_paths > 0)
		memcpy(plan->paths, paths, plan->n_paths * sizeof(paths[0]));
	plan->mem = mem;
	plan->primary = -1;
	plan->phase = PHASE_START;
	attach_memory(plan);
}

unsigned
mpath_plan_next(struct mpath_plan *plan, struct mpath_send sends[MPATH_MAX_SENDS])
{
	struct mpath_event ev = { .kind = MPATH_EVENT_STEP, .path = -1 };

	if (plan->phase == PHASE_DONE)
		return 0;
	if (plan->phase == PHASE_START) {
		plan->phase = PHASE_RUNNING;
		if (is_pr_out(plan) && plan->sa == MPATH_PR_REGISTER_AND_MOVE) {
			/* It would move the registration of one path to another
			 * initiator, leaving the map's other paths registered:
			 * the guest gets INVALID FIELD IN CDB, as from a target
			 * without the service action. */
			event(plan, MPATH_EVENT_REJECTED, -1, 0);
			answer_helper(plan, SENSE_KEY_ILLEGAL_REQUEST,
			              ASC_INVALID_FIELD_IN_CDB, 0x00);
			finish(plan);
			return 0;
		}
		proceed(plan);
	} else {
		switch (plan->pend[0].send.role) {
		case MPATH_ROLE_READ_KEYS:
			digest_read_keys(plan);
			break;
		case MPATH_ROLE_CAPABILITIES:
			digest_capabilities(plan);
			break;
		case MPATH_ROLE_REPAIR:
			digest_repair(plan);
			break;
		case MPATH_ROLE_COMMAND:
			digest_command(plan);
			break;
		case MPATH_ROLE_SECONDARY:
		case MPATH_ROLE_REREGISTER:
			digest_fanout(plan);
			break;
		}
	}
	if (plan->phase == PHASE_DONE)
		return 0;
	if (plan->n_pend == 0 || ++plan->steps > MPATH_MAX_STEPS) {
		/* Not reached by the reasoning in the file comment. */
		answer_no_path(plan);
		return 0;
	}
	for (unsigned k = 0; k < plan->n_pend; k++) {
		struct mpath_pending *p = &plan->pend[k];

		p->send.id = plan->next_id++;
		p->send.param = p->own_param ? p->param
		                : p->send.cdb[0] == PRH_OP_PR_OUT ? plan->req.param : NULL;
		p->reported = false;
		sends[k] = p->send;
	}
	ev.n = plan->n_pend;
	ev.role = plan->pend[0].send.role;
	add_event(plan, &ev);
	return plan->n_pend;
}

void
mpath_plan_result(struct mpath_plan *plan, unsigned send_index,
                  const struct mpath_result *result)
{
	struct mpath_pending *p;

	if (plan->phase != PHASE_RUNNING || send_index >= plan->n_pend)
		return;
	p = &plan->pend[send_index];
	if (p->reported)
		return;
	p->reported = true;
	p->os_err = result->os_err;
	p->transport = result->transport;
	p->status = result->status;
	memcpy(p->sense, result->sense, sizeof(p->sense));
	if (p->send.cdb[0] == PRH_OP_PR_IN && result->os_err == 0 &&
	    !result->transport) {
		uint32_t len = result->data != NULL ? result->data_len : 0;

		if (len > p->send.alloc_len)
			len = p->send.alloc_len;
		if (len > sizeof(plan->data))
			len = sizeof(plan->data);
		if (len > 0)
			memcpy(plan->data, result->data, len);
		plan->data_len = len;
		p->data_len = len;
	}
}

const struct mpath_answer *
mpath_plan_answer(const struct mpath_plan *plan)
{
	if (plan->phase != PHASE_DONE || !plan->answered)
		return NULL;
	return &plan->answer;
}

const char *
mpath_role_name(enum mpath_role role)
{
	switch (role) {
	case MPATH_ROLE_COMMAND:      return "command";
	case MPATH_ROLE_SECONDARY:    return "secondary";
	case MPATH_ROLE_REREGISTER:   return "reregister";
	case MPATH_ROLE_READ_KEYS:    return "read_keys";
	case MPATH_ROLE_CAPABILITIES: return "capabilities";
	case MPATH_ROLE_REPAIR:       return "repair";
	}
	return "?";
}

const char *
mpath_event_name(enum mpath_event_kind kind)
{
	switch (kind) {
	case MPATH_EVENT_STEP:           return "step";
	case MPATH_EVENT_PATH_FAILED:    return "path_failed";
	case MPATH_EVENT_CONFLICT_RETRY: return "conflict_retry";
	case MPATH_EVENT_UA_RETRY:       return "ua_retry";
	case MPATH_EVENT_GAVE_UP:        return "gave_up";
	case MPATH_EVENT_REPAIRED:       return "repaired";
	case MPATH_EVENT_STALE_REMOVED:  return "stale_removed";
	case MPATH_EVENT_FENCED:         return "fenced";
	case MPATH_EVENT_REPAIR_SKIPPED: return "repair_skipped";
	case MPATH_EVENT_MARKED:         return "marked";
	case MPATH_EVENT_REREGISTERED:   return "reregistered";
	case MPATH_EVENT_APTPL_UNKNOWN:  return "aptpl_unknown";
	case MPATH_EVENT_NO_PATH:        return "no_path";
	case MPATH_EVENT_REJECTED:       return "rejected";
	}
	return "?";
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests for the multipath decision module (mpath_plan). A fake LUN
 * plays SPC-4's persistent reservations per I_T nexus: nexuses 0-2 are
 * the map's paths, nexus 3 is another host. Each guest request runs
 * through a plan whose sends the fake executes; the tests check the exact
 * sends, step by step, the exact answer, the LUN's registrations and
 * reservation afterwards, and the memory the plan leaves, over sequences
 * (register, path down, key change, path back, another host preempts...).
 * Faults per path: down (the ioctl fails), a transport failure before or
 * after the command ran, unit attentions.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpath_plan.h"
#include "tap.h"

#define NEXUS_MAX 4
#define OTHER     3             /* another host's nexus */

#define KEY_A 0xaULL
#define KEY_B 0xbULL
#define KEY_C 0xcULL
#define KEY_X 0x99ULL           /* the other host's key */

/* Reservation types (SPC-4). */
#define TYPE_WE     1
#define TYPE_EA     3
#define TYPE_WE_RO  5
#define TYPE_EA_RO  6
#define TYPE_WE_AR  7
#define TYPE_EA_AR  8

/* ---- the fake LUN ---- */

struct fake_lun {
	unsigned port[NEXUS_MAX];       /* initiator port of each nexus */
	bool registered[NEXUS_MAX];
	uint64_t key[NEXUS_MAX];
	bool reserved;
	unsigned holder;                /* not all-registrants types */
	uint8_t type;
	bool aptpl;
	uint32_t generation;
	uint8_t ua_asc[NEXUS_MAX], ua_ascq[NEXUS_MAX];  /* one pending UA (asc 0: none) */
	/* Faults. */
	bool down[NEXUS_MAX];           /* every command: ENODEV */
	bool fail_before[NEXUS_MAX];    /* next command: transport failure, not run */
	bool fail_after[NEXUS_MAX];     /* next command runs, then transport failure */
	unsigned sticky_ua[NEXUS_MAX];  /* next commands: 06/29/00, not run */
	bool no_capabilities;           /* REPORT CAPABILITIES: 05/24/00 */
	unsigned commands[NEXUS_MAX];
};

struct sim {
	struct fake_lun lun;
	unsigned n_paths;
	bool unusable[MPATH_MAX_PATHS];  /* the caller's view (state, open) */
	bool initiator_known;
	uint64_t dev_base;
	struct mpath_memory mem;
	char log[4096];
	struct mpath_answer answer;
	uint8_t data[PRH_MAX_DATA];
	struct mpath_event events[MPATH_MAX_EVENTS];
	unsigned n_events;
	unsigned steps;
	unsigned violations;            /* malformed sends or steps */
};

static struct mpath_plan plan;
static struct sim S;

static bool
all_registrants(uint8_t type)
{
	return type == TYPE_WE_AR || type == TYPE_EA_AR;
}

static bool
holds(const struct fake_lun *lun, unsigned n)
{
	if (!lun->reserved || !lun->registered[n])
		return false;
	return all_registrants(lun->type) || lun->holder == n;
}

static void
set_ua(struct fake_lun *lun, unsigned n, uint8_t asc, uint8_t ascq)
{
	lun->ua_asc[n] = asc;
	lun->ua_ascq[n] = ascq;
}

static void
sense(struct mpath_result *res, uint8_t key, uint8_t asc, uint8_t ascq)
{
	res->status = PRH_STATUS_CHECK_CONDITION;
	memset(res->sense, 0, sizeof(res->sense));
	res->sense[0] = 0x70;
	res->sense[2] = key;
	res->sense[7] = 10;
	res->sense[12] = asc;
	res->sense[13] = ascq;
}

static uint64_t
be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void
put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static void
unregister(struct fake_lun *lun, unsigned t)
{
	bool was_holder = lun->reserved && !all_registrants(lun->type) && lun->holder == t;

	lun->registered[t] = false;
	lun->key[t] = 0;
	if (was_holder) {
		lun->reserved = false;
		if (lun->type == TYPE_WE_RO || lun->type == TYPE_EA_RO)
			for (unsigned x = 0; x < NEXUS_MAX; x++)
				if (lun->registered[x])
					set_ua(lun, x, 0x2a, 0x04);
	}
	if (lun->reserved && all_registrants(lun->type)) {
		bool any = false;

		for (unsigned x = 0; x < NEXUS_MAX; x++)
			any = any || lun->registered[x];
		if (!any)
			lun->reserved = false;
	}
}

/* PR OUT REGISTER / REGISTER AND IGNORE EXISTING KEY. */
static void
fake_register(struct fake_lun *lun, unsigned n, bool ignore, const uint8_t *param,
              uint16_t len, struct mpath_result *res)
{
	uint64_t rk = be64(param), sk = be64(param + 8);
	uint8_t flags = param[20];

	if (!ignore && !lun->registered[n] && rk != 0) {
		res->status = PRH_STATUS_RESERVATION_CONFLICT;
		return;
	}
	if (!ignore && lun->registered[n] && rk != lun->key[n]) {
		res->status = PRH_STATUS_RESERVATION_CONFLICT;
		return;
	}
	if ((flags & MPATH_PARAM_SPEC_I_PT) && (lun->registered[n] || len <= 24)) {
		sense(res, 0x05, 0x24, 0x00);   /* SPEC_I_PT on a registered nexus */
		return;
	}
	if (!(flags & MPATH_PARAM_SPEC_I_PT) && len != 24) {
		sense(res, 0x05, 0x1a, 0x00);   /* parameter list length error */
		return;
	}
	if (sk == 0 && !lun->registered[n])
		return;                         /* nothing to do: GOOD */
	for (unsigned t = 0; t < NEXUS_MAX; t++) {
		if (t != n && !((flags & MPATH_PARAM_ALL_TG_PT) && lun->port[t] == lun->port[n]))
			continue;
		if (sk == 0) {
			unregister(lun, t);
		} else {
			lun->registered[t] = true;
			lun->key[t] = sk;
		}
	}
	lun->aptpl = (flags & MPATH_PARAM_APTPL) != 0;
	lun->generation++;
}

static bool
registered_with(const struct fake_lun *lun, unsigned n, uint64_t rk)
{
	return lun->registered[n] && lun->key[n] == rk;
}

static void
fake_pr_out(struct fake_lun *lun, unsigned n, const uint8_t *cdb, const uint8_t *param,
            uint16_t len, struct mpath_result *res)
{
	uint8_t sa = cdb[1] & 0x1f, type = cdb[2] & 0x0f;
	uint64_t rk, sk;
	bool found = false;

	if (len < 24) {
		sense(res, 0x05, 0x1a, 0x00);
		return;
	}
	rk = be64(param);
	sk = be64(param + 8);
	switch (sa) {
	case MPATH_PR_REGISTER:
	case MPATH_PR_REGISTER_IGNORE:
		fake_register(lun, n, sa == MPATH_PR_REGISTER_IGNORE, param, len, res);
		return;
	case MPATH_PR_RESERVE:
		if (!registered_with(lun, n, rk) ||
		    (lun->reserved && (!holds(lun, n) || lun->type != type))) {
			res->status = PRH_STATUS_RESERVATION_CONFLICT;
			return;
		}
		lun->reserved = true;
		lun->holder = n;
		lun->type = type;
		return;
	case MPATH_PR_RELEASE:
		if (!registered_with(lun, n, rk)) {
			res->status = PRH_STATUS_RESERVATION_CONFLICT;
			return;
		}
		if (!holds(lun, n))
			return;
		if (lun->type != type) {
			sense(res, 0x05, 0x26, 0x04);   /* invalid release */
			return;
		}
		lun->reserved = false;
		if (type >= TYPE_WE_RO)
			for (unsigned x = 0; x < NEXUS_MAX; x++)
				if (x != n && lun->registered[x])
					set_ua(lun, x, 0x2a, 0x04);
		return;
	case MPATH_PR_CLEAR:
		if (!registered_with(lun, n, rk)) {
			res->status = PRH_STATUS_RESERVATION_CONFLICT;
			return;
		}
		for (unsigned x = 0; x < NEXUS_MAX; x++) {
			if (x != n && lun->registered[x])
				set_ua(lun, x, 0x2a, 0x03);
			lun->registered[x] = false;
			lun->key[x] = 0;
		}
		lun->reserved = false;
		lun->generation++;
		return;
	case MPATH_PR_PREEMPT:
	case MPATH_PR_PREEMPT_AND_ABORT:
		if (!registered_with(lun, n, rk)) {
			res->status = PRH_STATUS_RESERVATION_CONFLICT;
			return;
		}
		if (sk == 0) {
			if (!lun->reserved || !all_registrants(lun->type)) {
				sense(res, 0x05, 0x26, 0x00);
				return;
			}
			for (unsigned x = 0; x < NEXUS_MAX; x++)
				if (x != n && lun->registered[x]) {
					unregister(lun, x);
					set_ua(lun, x, 0x2a, 0x05);
				}
			lun->holder = n;
			lun->type = type;
			lun->generation++;
			return;
		}
		for (unsigned x = 0; x < NEXUS_MAX; x++)
			found = found || (lun->registered[x] && lun->key[x] == sk);
		if (!found) {
			res->status = PRH_STATUS_RESERVATION_CONFLICT;
			return;
		}
		if (lun->reserved && !all_registrants(lun->type) &&
		    lun->key[lun->holder] == sk) {
			lun->holder = n;
			lun->type = type;
		}
		for (unsigned x = 0; x < NEXUS_MAX; x++)
			if (x != n && lun->registered[x] && lun->key[x] == sk) {
				lun->registered[x] = false;
				lun->key[x] = 0;
				set_ua(lun, x, 0x2a, 0x05);
			}
		lun->generation++;
		return;
	default:
		sense(res, 0x05, 0x24, 0x00);
		return;
	}
}

static uint32_t
fake_pr_in(struct fake_lun *lun, const uint8_t *cdb, uint8_t *buf, struct mpath_result *res)
{
	uint32_t len = 8, count = 0;

	memset(buf, 0, 64);
	buf[0] = (uint8_t)(lun->generation >> 24);
	buf[3] = (uint8_t)lun->generation;
	switch (cdb[1] & 0x1f) {
	case MPATH_PR_READ_KEYS:
		for (unsigned x = 0; x < NEXUS_MAX; x++)
			if (lun->registered[x]) {
				put64(buf + 8 + 8 * count, lun->key[x]);
				count++;
			}
		buf[7] = (uint8_t)(8 * count);
		return 8 + 8 * count;
	case MPATH_PR_READ_RESERVATION:
		if (lun->reserved) {
			buf[7] = 16;
			put64(buf + 8, lun->key[lun->holder]);
			buf[21] = lun->type;
			len = 24;
		}
		return len;
	case MPATH_PR_REPORT_CAPABILITIES:
		if (lun->no_capabilities) {
			sense(res, 0x05, 0x24, 0x00);
			return 0;
		}
		memset(buf, 0, 8);
		buf[1] = 8;
		buf[2] = 0x1d;
		buf[3] = (uint8_t)(0x80 | (lun->aptpl ? 0x01 : 0x00));
		return 8;
	default:
		sense(res, 0x05, 0x24, 0x00);
		return 0;
	}
}

/* Run one command on nexus n, as SG_IO on its node would. */
static void
fake_exec(struct fake_lun *lun, unsigned n, const uint8_t *cdb, const uint8_t *param,
          uint16_t len, struct mpath_result *res, uint8_t *buf)
{
	memset(res, 0, sizeof(*res));
	lun->commands[n]++;
	if (lun->down[n]) {
		res->os_err = ENODEV;
		sense(res, 0x04, 0x44, 0x00);
		return;
	}
	if (lun->fail_before[n]) {
		lun->fail_before[n] = false;
		res->transport = true;
		sense(res, 0x0b, 0x05, 0x00);
		return;
	}
	if (lun->sticky_ua[n] > 0) {
		lun->sticky_ua[n]--;
		sense(res, 0x06, 0x29, 0x00);
		return;
	}
	if (lun->ua_asc[n] != 0) {
		sense(res, 0x06, lun->ua_asc[n], lun->ua_ascq[n]);
		set_ua(lun, n, 0, 0);
		return;
	}
	if (cdb[0] == PRH_OP_PR_IN) {
		res->data_len = fake_pr_in(lun, cdb, buf, res);
		res->data = buf;
	} else {
		fake_pr_out(lun, n, cdb, param, len, res);
	}
	if (lun->fail_after[n]) {
		lun->fail_after[n] = false;
		res->transport = true;
		res->data_len = 0;
		sense(res, 0x0b, 0x05, 0x00);
	}
}

/* ---- the driver ---- */

static const char *
sa_name(const uint8_t *cdb)
{
	static const char *out[] = { "REG", "RES", "REL", "CLR", "PRE", "PAB", "IGN", "MOV" };
	static const char *in[] = { "RK", "RR", "RC", "RF" };
	unsigned sa = cdb[1] & 0x1f;

	if (cdb[0] == PRH_OP_PR_IN)
		return sa < 4 ? in[sa] : "IN?";
	return sa < 8 ? out[sa] : "OUT?";
}

static void
describe(char *p, size_t size, const struct mpath_send *s)
{
	unsigned sa = s->cdb[1] & 0x1f;
	int w = snprintf(p, size, "p%u %s", s->path, sa_name(s->cdb));

	if (s->cdb[0] == PRH_OP_PR_OUT && s->param_len >= 24) {
		uint64_t rk = be64(s->param), sk = be64(s->param + 8);
		uint8_t f = s->param[20];

		if (sa == MPATH_PR_REGISTER || sa == MPATH_PR_REGISTER_IGNORE)
			w += snprintf(p + w, size - (size_t)w, " %" PRIx64 ">%" PRIx64, rk, sk);
		else if (sa == MPATH_PR_PREEMPT || sa == MPATH_PR_PREEMPT_AND_ABORT)
			w += snprintf(p + w, size - (size_t)w, " %" PRIx64 "/%" PRIx64 " t%u",
			              rk, sk, s->cdb[2] & 0x0f);
		else if (sa == MPATH_PR_CLEAR)
			w += snprintf(p + w, size - (size_t)w, " %" PRIx64, rk);
		else
			w += snprintf(p + w, size - (size_t)w, " %" PRIx64 " t%u", rk,
			              s->cdb[2] & 0x0f);
		if (f & MPATH_PARAM_SPEC_I_PT)
			w += snprintf(p + w, size - (size_t)w, " +s");
		if (f & MPATH_PARAM_ALL_TG_PT)
			w += snprintf(p + w, size - (size_t)w, " +t");
		if (f & MPATH_PARAM_APTPL)
			w += snprintf(p + w, size - (size_t)w, " +p");
		if (s->param_len != 24)
			snprintf(p + w, size - (size_t)w, " /%u", s->param_len);
	}
}

/* Check what any caller relies on: lengths agree with the CDB, one send
 * per path in a step, the role's shape. */
static void
check_send(const struct mpath_send *s, const struct mpath_send *step, unsigned k)
{
	uint16_t cdb_len = (uint16_t)(s->cdb[7] << 8 | s->cdb[8]);

	if (s->path >= S.n_paths)
		S.violations++;
	for (unsigned j = 0; j < k; j++)
		if (step[j].path == s->path || step[j].id == s->id)
			S.violations++;
	if (s->cdb[0] == PRH_OP_PR_OUT && (s->param_len != cdb_len || s->param == NULL))
		S.violations++;
	if (s->cdb[0] == PRH_OP_PR_IN && s->alloc_len != cdb_len)
		S.violations++;
	if (s->role != MPATH_ROLE_COMMAND && (s->cdb[5] != 0 || s->cdb[6] != 0))
		S.violations++;
}

static void
setup(unsigned n_paths)
{
	memset(&S, 0, sizeof(S));
	S.n_paths = n_paths;
	S.dev_base = 0x800;     /* 8:0, sda */
	for (unsigned n = 0; n < NEXUS_MAX; n++)
		S.lun.port[n] = n;
}

/* The caller's side: a path is down when it cannot be used (both its
 * state and the ioctl say so). */
static void
path_down(unsigned i)
{
	S.unusable[i] = true;
	S.lun.down[i] = true;
}

static void
path_up(unsigned i)
{
	S.unusable[i] = false;
	S.lun.down[i] = false;
}

static const struct mpath_answer *
run(const uint8_t cdb[PRH_CDB_SIZE], const uint8_t *param, uint16_t len)
{
	struct mpath_path paths[MPATH_MAX_PATHS];
	struct mpath_send sends[MPATH_MAX_SENDS];
	struct mpath_request req;
	static uint8_t buf[PRH_MAX_DATA];
	const struct mpath_answer *a;
	size_t used = 0;
	unsigned n;

	for (unsigned i = 0; i < S.n_paths; i++) {
		paths[i].dev = S.dev_base + 16 * i;
		paths[i].usable = !S.unusable[i];
		paths[i].initiator = S.initiator_known ? S.lun.port[i] + 1 : 0;
	}
	memcpy(req.cdb, cdb, PRH_CDB_SIZE);
	req.param = param;
	req.param_len = len;
	S.log[0] = '\0';
	S.steps = 0;
	mpath_plan_begin(&plan, &req, paths, S.n_paths, &S.mem);
	while ((n = mpath_plan_next(&plan, sends)) > 0) {
		if (++S.steps > 2 * MPATH_MAX_STEPS) {
			S.violations++;
			break;
		}
		if (S.steps > 1)
			used += (size_t)snprintf(S.log + used, sizeof(S.log) - used, " | ");
		for (unsigned k = 0; k < n; k++) {
			struct mpath_result res;

			check_send(&sends[k], sends, k);
			if (k > 0)
				used += (size_t)snprintf(S.log + used, sizeof(S.log) - used, ", ");
			describe(S.log + used, sizeof(S.log) - used, &sends[k]);
			used += strlen(S.log + used);
			fake_exec(&S.lun, sends[k].path, sends[k].cdb, sends[k].param,
			          sends[k].param_len, &res, buf);
			mpath_plan_result(&plan, k, &res);
		}
	}
	a = mpath_plan_answer(&plan);
	if (a == NULL) {
		S.violations++;
		memset(&S.answer, 0, sizeof(S.answer));
		return &S.answer;
	}
	S.answer = *a;
	memcpy(S.data, a->data, a->reply.size);
	S.n_events = a->n_events;
	memcpy(S.events, a->events, a->n_events * sizeof(a->events[0]));
	return &S.answer;
}

static uint8_t cdb_buf[PRH_CDB_SIZE];
static uint8_t param_buf[PRH_MAX_DATA];

static const struct mpath_answer *
pr_out(uint8_t sa, uint8_t type, uint64_t rk, uint64_t sk, uint8_t flags)
{
	memset(cdb_buf, 0, sizeof(cdb_buf));
	memset(param_buf, 0, 24);
	cdb_buf[0] = PRH_OP_PR_OUT;
	cdb_buf[1] = sa;
	cdb_buf[2] = type;
	cdb_buf[8] = 24;
	put64(param_buf, rk);
	put64(param_buf + 8, sk);
	param_buf[20] = flags;
	return run(cdb_buf, param_buf, 24);
}

static const struct mpath_answer *
pr_in(uint8_t sa, uint16_t alloc)
{
	memset(cdb_buf, 0, sizeof(cdb_buf));
	cdb_buf[0] = PRH_OP_PR_IN;
	cdb_buf[1] = sa;
	cdb_buf[7] = (uint8_t)(alloc >> 8);
	cdb_buf[8] = (uint8_t)alloc;
	return run(cdb_buf, NULL, 0);
}

#define REGISTER(rk, sk)  pr_out(MPATH_PR_REGISTER, 0, (rk), (sk), 0)

/* The other host, straight to the LUN. */
static uint8_t
other(uint8_t sa, uint8_t type, uint64_t rk, uint64_t sk)
{
	uint8_t cdb[PRH_CDB_SIZE] = { PRH_OP_PR_OUT, sa, type, 0, 0, 0, 0, 0, 24 };
	uint8_t param[24] = { 0 };
	struct mpath_result res;
	uint8_t buf[64];

	put64(param, rk);
	put64(param + 8, sk);
	fake_exec(&S.lun, OTHER, cdb, param, 24, &res, buf);
	return res.status;
}

/* "a,a,-,99": each nexus's key, - when not registered. */
static const char *
keys(void)
{
	static char out[64];
	size_t used = 0;

	for (unsigned n = 0; n < NEXUS_MAX; n++)
		used += (size_t)snprintf(out + used, sizeof(out) - used, "%s%s",
		                         n ? "," : "", S.lun.registered[n] ? "" : "-");
	used = 0;
	for (unsigned n = 0; n < NEXUS_MAX; n++) {
		if (S.lun.registered[n])
			used += (size_t)snprintf(out + used, sizeof(out) - used, "%s%" PRIx64,
			                         n ? "," : "", S.lun.key[n]);
		else
			used += (size_t)snprintf(out + used, sizeof(out) - used, "%s-",
			                         n ? "," : "");
	}
	return out;
}

/* "..R": which paths the memory marks for repair. */
static const char *
marks(void)
{
	static char out[MPATH_MAX_PATHS + 1];

	for (unsigned i = 0; i < S.n_paths; i++) {
		out[i] = '.';
		for (unsigned s = 0; s < MPATH_MAX_PATHS; s++)
			if (S.mem.path[s].used && S.mem.path[s].dev == S.dev_base + 16 * i &&
			    S.mem.path[s].needs_repair)
				out[i] = 'R';
	}
	out[S.n_paths] = '\0';
	return out;
}

static unsigned
count_events(enum mpath_event_kind kind)
{
	unsigned c = 0;

	for (unsigned i = 0; i < S.n_events; i++)
		c += S.events[i].kind == kind;
	return c;
}

static bool
has_event(enum mpath_event_kind kind, int path, uint64_t key)
{
	for (unsigned i = 0; i < S.n_events; i++)
		if (S.events[i].kind == kind && S.events[i].path == path &&
		    S.events[i].key == key)
			return true;
	return false;
}

#define answer_is(a, st, k, as, aq, src, what)                                \
	do {                                                                     \
		uint8_t k_ = 0, as_ = 0, aq_ = 0;                                    \
		if ((a)->reply.status == PRH_STATUS_CHECK_CONDITION) {              \
			k_ = (a)->reply.sense[2] & 0x0f;                                 \
			as_ = (a)->reply.sense[12];                                      \
			aq_ = (a)->reply.sense[13];                                      \
		}                                                                    \
		is_int((a)->reply.status, (st), "%s: status", what);                 \
		is_int(k_ << 16 | as_ << 8 | aq_, (k) << 16 | (as) << 8 | (aq),      \
		       "%s: sense", what);                                           \
		is_int((a)->path, (src), "%s: answered by", what);                   \
	} while (0)

#define GOOD_FROM(a, path, what) answer_is(a, 0, 0, 0, 0, path, what)

static void
no_violations(const char *what)
{
	is_int(S.violations, 0, "%s: every send well formed, one per path per step", what);
}

/* Three paths registered with key a, through the helper. */
static void
registered_a(void)
{
	setup(3);
	REGISTER(0, KEY_A);
}

/* ---- tests ---- */

static void
test_pr_in(void)
{
	const struct mpath_answer *a;

	registered_a();
	a = pr_in(MPATH_PR_READ_KEYS, 0x2000);
	is_str(S.log, "p0 RK", "PR IN: one send, to the first usable path");
	GOOD_FROM(a, 0, "PR IN");
	is_int(a->source, MPATH_ANSWER_PATH, "PR IN: the path's reply");
	is_int(a->reply.size, 32, "READ KEYS: header and three keys");
	is_int(be64(S.data + 8), KEY_A, "READ KEYS: the data as the path returned it");
	is_int(be64(S.data + 24), KEY_A, "...the key once per path");

	a = pr_in(MPATH_PR_READ_KEYS, 12);
	is_int(a->reply.size, 12, "PR IN: the payload clipped to the allocation length");
	is_mem(plan.pend[0].send.cdb, cdb_buf, PRH_CDB_SIZE, "PR IN: the guest's CDB verbatim");

	path_down(0);
	a = pr_in(MPATH_PR_READ_RESERVATION, 0x2000);
	is_str(S.log, "p1 RR", "PR IN: an unusable path is skipped");
	GOOD_FROM(a, 1, "PR IN past an unusable path");

	path_up(0);
	S.lun.down[0] = true;       /* looks usable, fails at the ioctl */
	S.lun.fail_before[1] = true;
	a = pr_in(MPATH_PR_READ_KEYS, 0x2000);
	is_str(S.log, "p0 RK | p1 RK | p2 RK", "PR IN: the next path after each path failure");
	GOOD_FROM(a, 2, "PR IN after two path failures");
	is_int(count_events(MPATH_EVENT_PATH_FAILED), 2, "PR IN: two path_failed events");
	is_str(marks(), "...", "PR IN: a failure marks nothing for repair");
	no_violations("PR IN");
}

static void
test_no_path(void)
{
	const struct mpath_answer *a;

	registered_a();
	for (unsigned i = 0; i < 3; i++)
		path_down(i);
	a = pr_out(MPATH_PR_RESERVE, TYPE_WE_RO, KEY_A, 0, 0);
	is_str(S.log, "", "no usable path: nothing is sent");
	answer_is(a, PRH_STATUS_CHECK_CONDITION, 0x0b, 0x08, 0x00, -1,
	          "no usable path: ABORTED COMMAND, LUN COMMUNICATION FAILURE");
	is_int(a->source, MPATH_ANSWER_HELPER, "no usable path: synthesized");
	is_int(count_events(MPATH_EVENT_NO_PATH), 1, "no usable path: event");

	for (unsigned i = 0; i < 3; i++)
		S.unusable[i] = false;      /* look usable, all fail */
	a = pr_in(MPATH_PR_READ_KEYS, 0x2000);
	is_str(S.log, "p0 RK | p1 RK | p2 RK", "every path failing: each tried once");
	answer_is(a, PRH_STATUS_CHECK_CONDITION, 0x0b, 0x08, 0x00, -1,
	          "every path failing: the same retryable error");

	setup(2);
	a = pr_in(MPATH_PR_READ_KEYS, 0x2000);
	mpath_plan_begin(&plan, &(struct mpath_request){ .cdb = { PRH_OP_PR_IN } },
	                 NULL, 0, &S.mem);
	is_int(mpath_plan_next(&plan, (struct mpath_send[MPATH_MAX_SENDS]){ 0 }), 0,
	       "a map without paths: no step");
	ok(mpath_plan_answer(&plan) != NULL &&
	   mpath_plan_answer(&plan)->reply.status == PRH_STATUS_CHECK_CONDITION,
	   "...and the no-path answer");
	no_violations("no path");
}

static void
test_register(void)
{
	const struct mpath_answer *a;

	setup(3);
	a = REGISTER(0, KEY_A);
	is_str(S.log, "p0 REG 0>a | p1 REG 0>a, p2 REG 0>a",
	       "REGISTER: first path, then the others in one step");
	GOOD_FROM(a, 0, "REGISTER");
	is_int(a->send_id, 0, "REGISTER: the guest gets the first send's reply");
	is_str(keys(), "a,a,a,-", "REGISTER: every path registered");
	ok(S.mem.key_known && S.mem.key == KEY_A, "REGISTER: memory holds the map's key");
	is_str(marks(), "...", "REGISTER: nothing to repair");

	a = REGISTER(KEY_A, KEY_B);
	is_str(S.log, "p0 REG a>b | p1 REG a>b, p2 REG a>b", "key change: the same shape");
	is_str(keys(), "b,b,b,-", "key change: every path has the new key");

	a = REGISTER(KEY_A, KEY_C);
	is_str(S.log, "p0 REG a>c", "wrong key: conflict on the first path, no fan-out");
	answer_is(a, PRH_STATUS_RESERVATION_CONFLICT, 0, 0, 0, 0, "wrong key");
	is_str(keys(), "b,b,b,-", "wrong key: nothing changed");
	is_int(S.mem.key, KEY_B, "wrong key: memory unchanged");

	a = pr_out(MPATH_PR_REGISTER_IGNORE, 0, 0, KEY_C, 0);
	is_str(S.log, "p0 IGN 0>c | p1 IGN 0>c, p2 IGN 0>c",
	       "REGISTER AND IGNORE: the guest's service action on every path");
	is_str(keys(), "c,c,c,-", "REGISTER AND IGNORE: every path");

	/* One path out of step (registered by hand, behind the helper). */
	S.lun.key[2] = KEY_X;
	a = REGISTER(KEY_C, KEY_A);
	is_str(S.log, "p0 REG c>a | p1 REG c>a, p2 REG c>a | p2 IGN c>a",
	       "conflict on a secondary: retried as REGISTER AND IGNORE");
	GOOD_FROM(a, 0, "conflict on a secondary");
	is_str(keys(), "a,a,a,-", "conflict on a secondary: repaired in place");
	is_int(count_events(MPATH_EVENT_CONFLICT_RETRY), 1, "conflict_retry event");

	/* A secondary that is not registered at all. */
	S.lun.registered[1] = false;
	S.lun.key[1] = 0;
	REGISTER(KEY_A, KEY_B);
	is_str(S.log, "p0 REG a>b | p1 REG a>b, p2 REG a>b | p1 IGN a>b",
	       "an unregistered secondary: conflict, then REGISTER AND IGNORE");
	is_str(keys(), "b,b,b,-", "...registered");

	/* A guest REGISTER with a parameter list too short: the target's
	 * answer, no fan-out, memory unchanged. */
	memset(cdb_buf, 0, sizeof(cdb_buf));
	cdb_buf[0] = PRH_OP_PR_OUT;
	cdb_buf[8] = 8;
	a = run(cdb_buf, param_buf, 8);
	is_str(S.log, "p0 REG", "short list: to the first path only");
	answer_is(a, PRH_STATUS_CHECK_CONDITION, 0x05, 0x1a, 0x00, 0, "short list");
	is_int(S.mem.key, KEY_B, "short list: memory unchanged");
	no_violations("REGISTER");
}

static void
test_spec_i_pt(void)
{
	const struct mpath_answer *a;
	uint8_t cdb[PRH_CDB_SIZE] = { PRH_OP_PR_OUT, MPATH_PR_REGISTER, 0, 0, 0, 0, 0, 0, 52 };
	uint8_t param[52] = { 0 };

	setup(3);
	put64(param + 8, KEY_A);
	param[20] = MPATH_PARAM_SPEC_I_PT | MPATH_PARAM_APTPL;
	param[27] = 24;             /* one 24-byte TransportID */
	param[28] = 0x00;           /* FC */
	a = run(cdb, param, sizeof(param));
	is_str(S.log, "p0 REG 0>a +s +p /52 | p1 REG 0>a +p, p2 REG 0>a +p",
	       "SPEC_I_PT: the whole list on the first path, the basic 24 bytes "
	       "without SPEC_I_PT on the others");
	GOOD_FROM(a, 0, "SPEC_I_PT");
	is_str(keys(), "a,a,a,-", "SPEC_I_PT: every path registered");
	ok(plan.pend[0].send.cdb[8] == 24 || plan.n_pend == 0, "secondary CDBs say 24 bytes");
	no_violations("SPEC_I_PT");
}

static void
test_all_tg_pt(void)
{
	const struct mpath_answer *a;

	/* Paths 0 and 1 leave through one initiator port, path 2 through
	 * another; the caller knows it. */
	setup(3);
	S.lun.port[1] = 0;
	S.initiator_known = true;
	a = pr_out(MPATH_PR_REGISTER, 0, 0, KEY_A, MPATH_PARAM_ALL_TG_PT);
	is_str(S.log, "p0 REG 0>a +t | p2 REG 0>a +t",
	       "ALL_TG_PT, ports known: one send per initiator port");
	GOOD_FROM(a, 0, "ALL_TG_PT");
	is_str(keys(), "a,a,a,-", "ALL_TG_PT: the port's registration covers path 1");
	is_str(marks(), "...", "ALL_TG_PT: path 1 counts as registered");

	/* The representative of a port fails: the next path of that port. */
	S.lun.fail_before[2] = true;
	S.lun.port[2] = 2;
	S.n_paths = 4;
	S.lun.port[3] = 2;          /* nexus 3 as a fourth path, on port 2 */
	a = pr_out(MPATH_PR_REGISTER, 0, KEY_A, KEY_B, MPATH_PARAM_ALL_TG_PT);
	is_str(S.log, "p0 RK | p3 IGN 0>a +t | p0 REG a>b +t | p2 REG a>b +t | p3 REG a>b +t",
	       "ALL_TG_PT: a new path (3) is repaired first, with ALL_TG_PT; a "
	       "failed port representative (2) is replaced by the next path of "
	       "its port (3)");
	GOOD_FROM(a, 0, "ALL_TG_PT with a failed representative");
	is_str(keys(), "b,b,b,b", "...port 2 (paths 2 and 3) registered through path 3");

	/* Ports not known: every path gets a send; those already covered
	 * conflict and are retried with REGISTER AND IGNORE (same result). */
	setup(3);
	S.lun.port[1] = 0;
	a = pr_out(MPATH_PR_REGISTER, 0, 0, KEY_A, MPATH_PARAM_ALL_TG_PT);
	is_str(S.log, "p0 REG 0>a +t | p1 REG 0>a +t, p2 REG 0>a +t | p1 IGN 0>a +t",
	       "ALL_TG_PT, ports unknown: every path, a covered one retried");
	is_str(keys(), "a,a,a,-", "ALL_TG_PT, ports unknown: same registrations");
	no_violations("ALL_TG_PT");
}

static void
test_path_down_and_repair(void)
{
	const struct mpath_answer *a;

	registered_a();
	path_down(2);
	a = REGISTER(KEY_A, KEY_B);
	is_str(S.log, "p0 REG a>b | p1 REG a>b", "REGISTER with a path down: not sent there");
	GOOD_FROM(a, 0, "REGISTER with a path down");
	is_str(marks(), "..R", "the down path is marked for repair");
	ok(has_event(MPATH_EVENT_MARKED, 2, KEY_A), "marked event (it still has a)");
	is_str(keys(), "b,b,a,-", "the LUN: path 2 keeps its old key");

	a = pr_in(MPATH_PR_READ_KEYS, 0x2000);
	is_str(S.log, "p0 RK", "still down: no repair attempted");

	path_up(2);
	a = pr_in(MPATH_PR_READ_KEYS, 0x2000);
	is_str(S.log, "p0 RK | p2 IGN 0>b | p0 RK",
	       "path back: READ KEYS, REGISTER AND IGNORE with the map's key, then "
	       "the guest's command");
	GOOD_FROM(a, 0, "after a repair");
	is_int(a->send_id, 2, "the guest gets its own command's reply");
	is_str(keys(), "b,b,b,-", "repaired: path 2 has the map's key");
	is_str(marks(), "...", "repaired: nothing left to repair");
	ok(has_event(MPATH_EVENT_REPAIRED, 2, KEY_B), "repaired event");
	is_int(be64(S.data + 24), KEY_B, "the guest's READ KEYS sees the repaired state");

	a = pr_in(MPATH_PR_READ_KEYS, 0x2000);
	is_str(S.log, "p0 RK", "the next command: no repair");

	/* Down across two key changes and a reservation. */
	path_down(1);
	REGISTER(KEY_B, KEY_C);
	pr_out(MPATH_PR_RESERVE, TYPE_WE_RO, KEY_C, 0, 0);
	REGISTER(KEY_C, KEY_A);
	is_str(keys(), "a,b,a,-", "path 1 missed two changes (still has b)");
	path_up(1);
	a = pr_out(MPATH_PR_RELEASE, TYPE_WE_RO, KEY_A, 0, 0);
	is_str(S.log, "p0 RK | p1 IGN 0>a | p0 REL a t5 | p1 REL a t5, p2 REL a t5 | "
	       "p1 REL a t5, p2 REL a t5",
	       "repair before a RELEASE, then RELEASE on every path (their "
	       "RESERVATIONS RELEASED unit attentions consumed)");
	GOOD_FROM(a, 0, "RELEASE after repair");
	is_str(keys(), "a,a,a,-", "all paths back on the map's key");
	ok(!S.lun.reserved, "the reservation is released");
	no_violations("path down and repair");
}

static void
test_aptpl_kept_by_repair(void)
{
	setup(3);
	pr_out(MPATH_PR_REGISTER, 0, 0, KEY_A, MPATH_PARAM_APTPL);
	path_down(2);
	pr_out(MPATH_PR_REGISTER, 0, KEY_A, KEY_B, MPATH_PARAM_APTPL);
	path_up(2);
	pr_in(MPATH_PR_READ_KEYS, 0x2000);
	is_str(S.log, "p0 RK | p2 IGN 0>b +p | p0 RK", "repair repeats the map's APTPL");
	ok(S.lun.aptpl, "the LUN keeps APTPL on");

	/* ALL_TG_PT is repeated too: port 2 holds nexus 2 only here. */
	setup(3);
	pr_out(MPATH_PR_REGISTER, 0, 0, KEY_A, MPATH_PARAM_ALL_TG_PT);
	path_down(1);
	pr_out(MPATH_PR_REGISTER, 0, KEY_A, KEY_B, MPATH_PARAM_ALL_TG_PT);
	path_up(1);
	pr_in(MPATH_PR_READ_KEYS, 0x2000);
	is_str(S.log, "p0 RK | p1 IGN 0>b +t | p0 RK", "repair repeats ALL_TG_PT");
	no_violations("flags kept by repair");
}

static void
test_fenced(void)
{
	const struct mpath_answer *a;

	/* Path 2 is down when the guest registers: it misses key a. */
	setup(3);
	path_down(2);
	REGISTER(0, KEY_A);
	is_str(keys(), "a,a,-,-", "registered while path 2 is down");
	is_str(marks(), "..R", "path 2 marked");
	is_int(other(MPATH_PR_REGISTER, 0, 0, KEY_X), 0, "other host registers");
	is_int(other(MPATH_PR_PREEMPT, TYPE_WE_RO, KEY_X, KEY_A), 0,
	       "other host preempts the map's key (a fence)");
	is_str(keys(), "-,-,-,99", "the fence removed every registration of a");
	path_up(2);
	a = pr_in(MPATH_PR_READ_KEYS, 0x2000);
	is_str(S.log, "p0 RK", "fenced: the repair's READ KEYS meets the fence's unit attention");
	answer_is(a, PRH_STATUS_CHECK_CONDITION, 0x06, 0x2a, 0x05, 0,
	          "fenced: the guest sees REGISTRATIONS PREEMPTED");
	is_str(marks(), "..R", "...the repair waits for the guest's retry");
	a = pr_in(MPATH_PR_READ_KEYS, 0x2000);
	is_str(S.log, "p0 RK | p2 IGN 0>0 | p0 RK",
	       "fenced: READ KEYS, then the returning path is only unregistered");
	GOOD_FROM(a, 0, "fenced");
	is_str(keys(), "-,-,-,99", "fenced: key a is NOT registered on the returning path");
	ok(has_event(MPATH_EVENT_FENCED, -1, KEY_A), "fenced event");
	ok(S.mem.key_known && S.mem.key == 0, "fenced: memory forgets the key");
	is_str(marks(), "...", "fenced: nothing left to repair");

	/* A path that was down during the fence itself missed nothing the
	 * helper did (the LUN removed its registration too): nothing is sent
	 * to it when it returns. */
	registered_a();
	path_down(1);
	other(MPATH_PR_REGISTER, 0, 0, KEY_X);
	other(MPATH_PR_PREEMPT, TYPE_WE_RO, KEY_X, KEY_A);
	path_up(1);
	pr_in(MPATH_PR_READ_KEYS, 0x2000);
	a = pr_in(MPATH_PR_READ_KEYS, 0x2000);
	is_str(S.log, "p0 RK", "down during the fence: no repair, nothing registered");
	is_str(keys(), "-,-,-,99", "...key a stays gone");

	/* Later path cycles put nothing back either. */
	path_down(0);
	pr_in(MPATH_PR_READ_KEYS, 0x2000);
	path_up(0);
	a = pr_in(MPATH_PR_READ_KEYS, 0x2000);
	is_str(S.log, "p0 RK", "after the fence: a path cycle registers nothing");
	is_str(keys(), "-,-,-,99", "...key a stays gone");

	/* The guest's old REGISTER fails and does not fan out. */
	a = REGISTER(KEY_A, KEY_B);
	is_str(S.log, "p0 REG a>b", "fenced guest's REGISTER: conflict, no fan-out");
	answer_is(a, PRH_STATUS_RESERVATION_CONFLICT, 0, 0, 0, 0, "fenced guest's REGISTER");
	is_str(keys(), "-,-,-,99", "...nothing registered");

	/* Only the guest's own REGISTER AND IGNORE brings a key back. */
	pr_out(MPATH_PR_REGISTER_IGNORE, 0, 0, KEY_A, 0);
	is_str(keys(), "a,a,a,99", "unfencing is the guest's decision");
	no_violations("fenced");
}

/* The returning path carries an old key and holds the reservation: the
 * other host's fence of the current key cannot complete until the helper
 * removes it. */
static void
test_stale_key_holder(void)
{
	const struct mpath_answer *a;

	registered_a();
	path_down(0);
	path_down(1);
	a = pr_out(MPATH_PR_RESERVE, TYPE_WE, KEY_A, 0, 0);
	is_str(S.log, "p2 RES a t1", "RESERVE through the only usable path");
	GOOD_FROM(a, 2, "RESERVE through path 2");
	path_up(0);
	path_up(1);
	path_down(2);
	REGISTER(KEY_A, KEY_B);
	is_str(keys(), "b,b,a,-", "path 2 holds the reservation with old key a");
	other(MPATH_PR_REGISTER, 0, 0, KEY_X);
	other(MPATH_PR_PREEMPT, TYPE_WE, KEY_X, KEY_B);
	is_str(keys(), "-,-,a,99", "the fence removed b, not the stale a");
	ok(S.lun.reserved && S.lun.holder == 2, "...and the reservation stays with path 2");
	is_int(other(MPATH_PR_RESERVE, TYPE_WE, KEY_X, 0), PRH_STATUS_RESERVATION_CONFLICT,
	       "the other host cannot reserve");

	path_up(2);
	a = pr_in(MPATH_PR_READ_RESERVATION, 0x2000);
	answer_is(a, PRH_STATUS_CHECK_CONDITION, 0x06, 0x2a, 0x05, 0,
	          "the fence's unit attention first");
	a = pr_in(MPATH_PR_READ_RESERVATION, 0x2000);
	is_str(S.log, "p0 RK | p2 IGN 0>0 | p0 RR",
	       "repair: the map's key is gone, the stale key is removed");
	GOOD_FROM(a, 0, "READ RESERVATION after the stale key's removal");
	ok(has_event(MPATH_EVENT_STALE_REMOVED, 2, KEY_A), "stale_removed event (key a)");
	is_str(keys(), "-,-,-,99", "no key of the map is left");
	ok(!S.lun.reserved, "the stale holder's reservation is gone");
	is_int(other(MPATH_PR_RESERVE, TYPE_WE, KEY_X, 0), 0, "the fence completes");

	/* The same stale key while the map's key is still registered: the
	 * path is given the current key instead. */
	registered_a();
	path_down(2);
	REGISTER(KEY_A, KEY_B);
	path_up(2);
	pr_in(MPATH_PR_READ_KEYS, 0x2000);
	is_str(keys(), "b,b,b,-", "not fenced: the stale key is replaced by the map's");
	no_violations("stale key");
}

static void
test_unregister(void)
{
	const struct mpath_answer *a;

	registered_a();
	path_down(1);
	a = REGISTER(KEY_A, 0);
	is_str(S.log, "p0 REG a>0 | p2 REG a>0", "unregister: every usable path");
	GOOD_FROM(a, 0, "unregister");
	ok(S.mem.key_known && S.mem.key == 0, "unregister: memory says unregistered");
	is_str(keys(), "-,a,-,-", "path 1 still has a");
	path_up(1);
	pr_in(MPATH_PR_READ_KEYS, 0x2000);
	is_str(S.log, "p0 RK | p1 IGN 0>0 | p0 RK", "back: its key is removed, not repaired");
	is_str(keys(), "-,-,-,-", "nothing registered");
	path_down(1);
	pr_in(MPATH_PR_READ_KEYS, 0x2000);
	path_up(1);
	pr_in(MPATH_PR_READ_KEYS, 0x2000);
	is_str(keys(), "-,-,-,-", "never registered again");

	/* Unregister when a secondary is out of step. */
	registered_a();
	S.lun.registered[2] = false;
	S.lun.key[2] = 0;
	REGISTER(KEY_A, 0);
	is_str(S.log, "p0 REG a>0 | p1 REG a>0, p2 REG a>0 | p2 IGN a>0",
	       "unregister: a conflict on an unregistered path retried, a no-op");
	is_str(keys(), "-,-,-,-", "unregistered everywhere");
	no_violations("unregister");
}

static void
test_reserve(void)
{
	const struct mpath_answer *a;

	registered_a();
	a = pr_out(MPATH_PR_RESERVE, TYPE_WE_RO, KEY_A, 0, 0);
	is_str(S.log, "p0 RES a t5", "RESERVE: one path");
	GOOD_FROM(a, 0, "RESERVE");
	ok(S.lun.reserved && S.lun.holder == 0, "reserved through path 0");

	registered_a();
	S.lun.fail_before[0] = true;
	a = pr_out(MPATH_PR_RESERVE, TYPE_WE_AR, KEY_A, 0, 0);
	is_str(S.log, "p0 RES a t7 | p1 RES a t7", "RESERVE: the next path on a transport failure");
	GOOD_FROM(a, 1, "RESERVE after failover");
	is_str(marks(), "...", "RESERVE failover: no repair needed");

	/* The command ran, then the transport failed: on an all-registrants
	 * reservation the retry is GOOD (the LUN already holds it). */
	registered_a();
	S.lun.fail_after[0] = true;
	a = pr_out(MPATH_PR_RESERVE, TYPE_WE_AR, KEY_A, 0, 0);
	GOOD_FROM(a, 1, "RESERVE ran, then transport failure, all-registrants");

	registered_a();
	other(MPATH_PR_REGISTER, 0, 0, KEY_X);
	other(MPATH_PR_RESERVE, TYPE_WE_RO, KEY_X, 0);
	a = pr_out(MPATH_PR_RESERVE, TYPE_WE_RO, KEY_A, 0, 0);
	is_str(S.log, "p0 RES a t5", "RESERVE conflict: no other path tried");
	answer_is(a, PRH_STATUS_RESERVATION_CONFLICT, 0, 0, 0, 0, "RESERVE conflict, verbatim");
	no_violations("RESERVE");
}

static void
test_release(void)
{
	const struct mpath_answer *a;

	/* Held by path 1 (path 0 was down when the guest reserved). */
	registered_a();
	path_down(0);
	pr_out(MPATH_PR_RESERVE, TYPE_WE, KEY_A, 0, 0);
	path_up(0);
	a = pr_out(MPATH_PR_RELEASE, TYPE_WE, KEY_A, 0, 0);
	is_str(S.log, "p0 REL a t1 | p1 REL a t1, p2 REL a t1", "RELEASE: every path");
	GOOD_FROM(a, 0, "RELEASE");
	ok(!S.lun.reserved, "RELEASE: the holder (path 1) released it");

	/* Registrants-only: the holder's release sets RESERVATIONS RELEASED
	 * on the other paths, which the fan-out consumes. */
	registered_a();
	pr_out(MPATH_PR_RESERVE, TYPE_WE_RO, KEY_A, 0, 0);
	a = pr_out(MPATH_PR_RELEASE, TYPE_WE_RO, KEY_A, 0, 0);
	is_str(S.log, "p0 REL a t5 | p1 REL a t5, p2 REL a t5 | p1 REL a t5, p2 REL a t5",
	       "RELEASE type 5: unit attentions on the other paths consumed by retrying");
	GOOD_FROM(a, 0, "RELEASE type 5");
	is_int(count_events(MPATH_EVENT_UA_RETRY), 2, "two ua_retry events");
	ok(S.lun.ua_asc[1] == 0 && S.lun.ua_asc[2] == 0, "no unit attention left behind");

	/* The holder refuses: another type. */
	registered_a();
	path_down(0);
	pr_out(MPATH_PR_RESERVE, TYPE_EA, KEY_A, 0, 0);
	path_up(0);
	a = pr_out(MPATH_PR_RELEASE, TYPE_WE, KEY_A, 0, 0);
	answer_is(a, PRH_STATUS_CHECK_CONDITION, 0x05, 0x26, 0x04, 1,
	          "RELEASE of the wrong type: the holder's refusal reaches the guest");
	ok(S.lun.reserved, "...and the reservation stays");

	/* A secondary not registered: RESERVATION CONFLICT there, marked. */
	registered_a();
	S.lun.registered[2] = false;
	S.lun.key[2] = 0;
	a = pr_out(MPATH_PR_RELEASE, TYPE_WE, KEY_A, 0, 0);
	GOOD_FROM(a, 0, "RELEASE with an unregistered secondary");
	is_str(marks(), "..R", "the unregistered secondary is marked for repair");
	pr_in(MPATH_PR_READ_KEYS, 0x2000);
	is_str(keys(), "a,a,a,-", "...and repaired at the next command");

	/* Conflict on the answering path: no fan-out. */
	registered_a();
	a = pr_out(MPATH_PR_RELEASE, TYPE_WE, KEY_B, 0, 0);
	is_str(S.log, "p0 REL b t1", "RELEASE with a wrong key: no fan-out");
	answer_is(a, PRH_STATUS_RESERVATION_CONFLICT, 0, 0, 0, 0, "RELEASE with a wrong key");
	no_violations("RELEASE");
}

static void
test_clear(void)
{
	const struct mpath_answer *a;

	registered_a();
	pr_out(MPATH_PR_RESERVE, TYPE_WE_RO, KEY_A, 0, 0);
	other(MPATH_PR_REGISTER, 0, 0, KEY_X);
	path_down(2);
	a = pr_out(MPATH_PR_CLEAR, 0, KEY_A, 0, 0);
	is_str(S.log, "p0 CLR a", "CLEAR: one path, nothing follows");
	GOOD_FROM(a, 0, "CLEAR");
	is_str(keys(), "-,-,-,-", "CLEAR: no registration left");
	ok(S.mem.key_known && S.mem.key == 0, "CLEAR: memory says unregistered");
	is_str(marks(), "...", "CLEAR: nothing to repair, not even the down path");
	path_up(2);
	a = pr_in(MPATH_PR_READ_KEYS, 0x2000);
	is_str(S.log, "p0 RK", "after CLEAR: a returning path is left alone");
	is_str(keys(), "-,-,-,-", "after CLEAR: nothing registered");

	/* The guest registers again: the CLEAR's unit attentions on the
	 * other paths are consumed by the fan-out. */
	a = REGISTER(0, KEY_B);
	is_str(S.log, "p0 REG 0>b | p1 REG 0>b, p2 REG 0>b | p1 REG 0>b, p2 REG 0>b",
	       "REGISTER after CLEAR: unit attentions on secondaries retried");
	answer_is(a, 0, 0, 0, 0, 0, "REGISTER after CLEAR");
	is_str(keys(), "b,b,b,-", "registered again");

	/* Path failure before CLEAR ran: next path. */
	S.lun.fail_before[0] = true;
	a = pr_out(MPATH_PR_CLEAR, 0, KEY_B, 0, 0);
	is_str(S.log, "p0 CLR b | p1 CLR b", "CLEAR: failover");
	GOOD_FROM(a, 1, "CLEAR after failover");
	is_str(marks(), "...", "CLEAR: the failed path needs nothing after a CLEAR");
	no_violations("CLEAR");
}

static void
test_preempt(void)
{
	const struct mpath_answer *a;

	/* Self-preempt to change the reservation's type. */
	registered_a();
	pr_out(MPATH_PR_RESERVE, TYPE_WE_RO, KEY_A, 0, 0);
	a = pr_out(MPATH_PR_PREEMPT, TYPE_EA_RO, KEY_A, KEY_A, 0);
	is_str(S.log, "p0 PRE a/a t6 | p1 IGN 0>a, p2 IGN 0>a | p1 IGN 0>a, p2 IGN 0>a",
	       "self-PREEMPT: the other paths registered again (their unit "
	       "attentions consumed)");
	GOOD_FROM(a, 0, "self-PREEMPT");
	is_str(keys(), "a,a,a,-", "self-PREEMPT: every path registered");
	ok(S.lun.reserved && S.lun.type == TYPE_EA_RO, "self-PREEMPT: the new type");
	is_int(count_events(MPATH_EVENT_REREGISTERED), 2, "two reregistered events");

	/* PREEMPT of the other host's key: ours untouched. */
	registered_a();
	other(MPATH_PR_REGISTER, 0, 0, KEY_X);
	other(MPATH_PR_RESERVE, TYPE_WE_RO, KEY_X, 0);
	a = pr_out(MPATH_PR_PREEMPT_AND_ABORT, TYPE_WE_RO, KEY_A, KEY_X, 0);
	is_str(S.log, "p0 PAB a/99 t5", "PREEMPT AND ABORT of another key: one path");
	GOOD_FROM(a, 0, "PREEMPT AND ABORT");
	is_str(keys(), "a,a,a,-", "the other host is gone, ours stay");

	/* Self-preempt with a path down: marked, repaired later. */
	registered_a();
	pr_out(MPATH_PR_RESERVE, TYPE_WE_RO, KEY_A, 0, 0);
	path_down(2);
	pr_out(MPATH_PR_PREEMPT, TYPE_WE_RO, KEY_A, KEY_A, 0);
	is_str(S.log, "p0 PRE a/a t5 | p1 IGN 0>a | p1 IGN 0>a",
	       "self-PREEMPT with a path down");
	is_str(marks(), "..R", "the down path is marked");
	is_str(keys(), "a,a,-,-", "the LUN removed its registration");
	path_up(2);
	pr_in(MPATH_PR_READ_KEYS, 0x2000);
	is_str(S.log, "p0 RK | p2 IGN 0>a | p2 IGN 0>a | p0 RK",
	       "back: repaired (its unit attention consumed)");
	is_str(keys(), "a,a,a,-", "...registered");

	/* All-registrants reservation, service action key 0. */
	registered_a();
	pr_out(MPATH_PR_RESERVE, TYPE_WE_AR, KEY_A, 0, 0);
	other(MPATH_PR_REGISTER, 0, 0, KEY_X);
	a = pr_out(MPATH_PR_PREEMPT, TYPE_WE_RO, KEY_A, 0, 0);
	GOOD_FROM(a, 0, "PREEMPT 0 of an all-registrants reservation");
	is_str(keys(), "a,a,a,-", "...every other registration gone, ours put back");

	/* PREEMPT refused: nothing follows. */
	registered_a();
	a = pr_out(MPATH_PR_PREEMPT, TYPE_WE_RO, KEY_A, KEY_X, 0);
	is_str(S.log, "p0 PRE a/99 t5", "PREEMPT of an absent key: one send");
	answer_is(a, PRH_STATUS_RESERVATION_CONFLICT, 0, 0, 0, 0, "PREEMPT of an absent key");
	no_violations("PREEMPT");
}

/* After a helper restart the memory is empty: the APTPL to repeat is
 * read from REPORT CAPABILITIES before the guest's PREEMPT. */
static void
test_preempt_after_restart(void)
{
	const struct mpath_answer *a;

	setup(3);
	pr_out(MPATH_PR_REGISTER, 0, 0, KEY_A, MPATH_PARAM_APTPL);
	pr_out(MPATH_PR_RESERVE, TYPE_WE_RO, KEY_A, 0, 0);
	memset(&S.mem, 0, sizeof(S.mem));
	a = pr_out(MPATH_PR_PREEMPT, TYPE_EA_RO, KEY_A, KEY_A, 0);
	is_str(S.log, "p0 RC | p0 PRE a/a t6 | p1 IGN 0>a +p, p2 IGN 0>a +p | "
	       "p1 IGN 0>a +p, p2 IGN 0>a +p",
	       "memory lost: REPORT CAPABILITIES first, APTPL repeated");
	GOOD_FROM(a, 0, "PREEMPT after a restart");
	ok(S.lun.aptpl, "APTPL still on");
	is_str(keys(), "a,a,a,-", "every path registered");

	/* The LUN cannot report: registrations go without APTPL, said so. */
	setup(3);
	pr_out(MPATH_PR_REGISTER, 0, 0, KEY_A, 0);
	memset(&S.mem, 0, sizeof(S.mem));
	S.lun.no_capabilities = true;
	pr_out(MPATH_PR_PREEMPT, TYPE_EA_RO, KEY_A, KEY_A, 0);
	is_str(S.log, "p0 RC | p0 PRE a/a t6 | p1 IGN 0>a, p2 IGN 0>a | "
	       "p1 IGN 0>a, p2 IGN 0>a", "no REPORT CAPABILITIES: APTPL 0");
	is_int(count_events(MPATH_EVENT_APTPL_UNKNOWN), 1, "aptpl_unknown event");

	/* A unit attention on the probe is the guest's (its command did not
	 * run). */
	setup(3);
	pr_out(MPATH_PR_REGISTER, 0, 0, KEY_A, 0);
	memset(&S.mem, 0, sizeof(S.mem));
	set_ua(&S.lun, 0, 0x29, 0x00);
	a = pr_out(MPATH_PR_PREEMPT, TYPE_EA_RO, KEY_A, KEY_A, 0);
	is_str(S.log, "p0 RC", "unit attention on the probe: nothing else sent");
	answer_is(a, PRH_STATUS_CHECK_CONDITION, 0x06, 0x29, 0x00, 0,
	          "unit attention on the probe: passed through");
	no_violations("PREEMPT after restart");
}

static void
test_register_and_move(void)
{
	const struct mpath_answer *a;
	struct mpath_memory before;

	registered_a();
	path_down(2);
	pr_out(MPATH_PR_REGISTER, 0, KEY_A, KEY_B, 0);
	path_up(2);
	before = S.mem;
	a = pr_out(MPATH_PR_REGISTER_AND_MOVE, 0, KEY_B, KEY_C, 0);
	is_str(S.log, "", "REGISTER AND MOVE: nothing sent (not even a repair)");
	answer_is(a, PRH_STATUS_CHECK_CONDITION, 0x05, 0x24, 0x00, -1,
	          "REGISTER AND MOVE: INVALID FIELD IN CDB");
	is_int(a->source, MPATH_ANSWER_HELPER, "REGISTER AND MOVE: synthesized");
	ok(memcmp(&before, &S.mem, sizeof(before)) == 0, "REGISTER AND MOVE: memory untouched");
	is_int(count_events(MPATH_EVENT_REJECTED), 1, "rejected event");
	no_violations("REGISTER AND MOVE");
}

static void
test_unit_attentions(void)
{
	const struct mpath_answer *a;

	/* On the answering path: passed through, nothing else sent. */
	registered_a();
	set_ua(&S.lun, 0, 0x2a, 0x03);
	a = REGISTER(KEY_A, KEY_B);
	is_str(S.log, "p0 REG a>b", "unit attention on the answering path: no retry, no fan-out");
	answer_is(a, PRH_STATUS_CHECK_CONDITION, 0x06, 0x2a, 0x03, 0,
	          "unit attention on the answering path: verbatim");
	is_int(S.mem.key, KEY_A, "...memory unchanged");
	a = REGISTER(KEY_A, KEY_B);
	GOOD_FROM(a, 0, "the guest's retry");

	/* On the READ KEYS of a repair: it is the answering path's too. */
	registered_a();
	path_down(2);
	REGISTER(KEY_A, KEY_B);
	path_up(2);
	set_ua(&S.lun, 0, 0x29, 0x00);
	a = pr_in(MPATH_PR_READ_KEYS, 0x2000);
	is_str(S.log, "p0 RK", "unit attention on the repair's READ KEYS: stop there");
	answer_is(a, PRH_STATUS_CHECK_CONDITION, 0x06, 0x29, 0x00, 0,
	          "...the guest gets it");
	is_str(marks(), "..R", "...the repair waits");
	a = pr_in(MPATH_PR_READ_KEYS, 0x2000);
	is_str(S.log, "p0 RK | p2 IGN 0>b | p0 RK", "the guest's retry repairs");

	/* On a secondary, forever: bounded. */
	registered_a();
	S.lun.sticky_ua[2] = 1000;
	a = REGISTER(KEY_A, KEY_B);
	is_str(S.log, "p0 REG a>b | p1 REG a>b, p2 REG a>b | p2 REG a>b | p2 REG a>b | p2 REG a>b",
	       "unit attentions on a secondary: at most MPATH_UA_RETRIES retries");
	GOOD_FROM(a, 0, "secondary stuck in unit attentions");
	is_int(count_events(MPATH_EVENT_UA_RETRY), MPATH_UA_RETRIES, "ua_retry events");
	is_int(count_events(MPATH_EVENT_GAVE_UP), 1, "gave_up event");
	is_str(marks(), "..R", "the stuck path is marked for repair");

	/* ...and on its repair: bounded too, still marked. */
	a = pr_in(MPATH_PR_READ_KEYS, 0x2000);
	is_str(S.log, "p0 RK | p2 IGN 0>b | p2 IGN 0>b | p2 IGN 0>b | p2 IGN 0>b | p0 RK",
	       "repair stuck in unit attentions: bounded, then the guest's command");
	GOOD_FROM(a, 0, "after a failed repair");
	is_str(marks(), "..R", "still marked");
	S.lun.sticky_ua[2] = 0;
	pr_in(MPATH_PR_READ_KEYS, 0x2000);
	is_str(marks(), "...", "repaired once the path answers");
	is_str(keys(), "b,b,b,-", "...with the map's key");
	no_violations("unit attentions");
}

/* A path that fails at each step of a plan. */
static void
test_path_fails_at_each_step(void)
{
	const struct mpath_answer *a;

	/* During the repair's READ KEYS: the next path reads them. */
	registered_a();
	path_down(2);
	REGISTER(KEY_A, KEY_B);
	path_up(2);
	S.lun.fail_before[0] = true;
	a = pr_in(MPATH_PR_READ_KEYS, 0x2000);
	is_str(S.log, "p0 RK | p1 RK | p2 IGN 0>b | p1 RK",
	       "path failure on READ KEYS: the next path, which then answers");
	GOOD_FROM(a, 1, "failure on READ KEYS");
	is_str(keys(), "b,b,b,-", "...repaired");

	/* During the repair itself: the path stays marked. */
	registered_a();
	path_down(2);
	REGISTER(KEY_A, KEY_B);
	path_up(2);
	S.lun.fail_before[2] = true;
	a = pr_in(MPATH_PR_READ_KEYS, 0x2000);
	is_str(S.log, "p0 RK | p2 IGN 0>b | p0 RK", "path failure on the repair");
	GOOD_FROM(a, 0, "failure on the repair");
	is_str(marks(), "..R", "...still marked");

	/* During the guest's REGISTER, after it ran: the next path takes the
	 * command; the failed one is marked (its state is not known). */
	registered_a();
	S.lun.fail_after[0] = true;
	a = REGISTER(KEY_A, KEY_B);
	is_str(S.log, "p0 REG a>b | p1 REG a>b | p2 REG a>b",
	       "path failure on the first REGISTER: the next path is first");
	GOOD_FROM(a, 1, "failure on the first REGISTER");
	is_str(marks(), "R..", "the failed path is marked");
	a = pr_in(MPATH_PR_READ_KEYS, 0x2000);
	is_str(S.log, "p1 RK | p0 IGN 0>b | p1 RK",
	       "repaired with the new key (a marked path does not answer first)");
	is_str(keys(), "b,b,b,-", "...consistent");

	/* During the fan-out: marked. */
	registered_a();
	S.lun.fail_before[1] = true;
	a = REGISTER(KEY_A, KEY_B);
	is_str(S.log, "p0 REG a>b | p1 REG a>b, p2 REG a>b", "path failure in the fan-out");
	GOOD_FROM(a, 0, "failure in the fan-out");
	is_str(marks(), ".R.", "the failed secondary is marked");
	ok(has_event(MPATH_EVENT_MARKED, 1, KEY_A), "marked event");

	/* Every path fails on the guest's command. */
	registered_a();
	for (unsigned i = 0; i < 3; i++)
		S.lun.down[i] = true;
	a = REGISTER(KEY_A, KEY_B);
	is_str(S.log, "p0 REG a>b | p1 REG a>b | p2 REG a>b", "every path fails: each once");
	answer_is(a, PRH_STATUS_CHECK_CONDITION, 0x0b, 0x08, 0x00, -1,
	          "every path fails: retryable error");
	is_int(S.mem.key, KEY_A, "...memory keeps the key");
	is_str(marks(), "RRR", "...every path marked (the command may have run)");
	no_violations("path failures");
}

/* The caller forgets to report a send, or reports nonsense: the plan
 * treats it as a failed path and still finishes. */
static void
test_caller_mistakes(void)
{
	struct mpath_send sends[MPATH_MAX_SENDS];
	struct mpath_result res = { .status = PRH_STATUS_GOOD };
	struct mpath_request req = { .cdb = { PRH_OP_PR_IN, 0, 0, 0, 0, 0, 0, 0x20, 0 } };
	struct mpath_path paths[2] = { { .dev = 1, .usable = true }, { .dev = 2, .usable = true } };
	struct mpath_memory mem = { 0 };
	unsigned n;

	mpath_plan_begin(&plan, &req, paths, 2, &mem);
	n = mpath_plan_next(&plan, sends);
	is_int(n, 1, "PR IN: one send");
	ok(mpath_plan_answer(&plan) == NULL, "no answer before the plan is finished");
	mpath_plan_result(&plan, 5, &res);      /* out of range: ignored */
	n = mpath_plan_next(&plan, sends);
	is_int(n, 1, "an unreported send counts as a failed path: the next path");
	is_int(sends[0].path, 1, "...path 1");
	mpath_plan_result(&plan, 0, &res);
	res.status = PRH_STATUS_BUSY;
	mpath_plan_result(&plan, 0, &res);      /* twice: the first counts */
	n = mpath_plan_next(&plan, sends);
	is_int(n, 0, "finished");
	is_int(mpath_plan_answer(&plan)->reply.status, PRH_STATUS_GOOD,
	       "the first report of a send counts");
	is_int(mpath_plan_next(&plan, sends), 0, "finished stays finished");

	/* More paths than the plan handles: the first MPATH_MAX_PATHS. */
	{
		struct mpath_path many[MPATH_MAX_PATHS + 2];
		struct mpath_request reg = { .cdb = { PRH_OP_PR_OUT, 0, 0, 0, 0, 0, 0, 0, 24 } };
		uint8_t param[24] = { 0 };

		for (unsigned i = 0; i < MPATH_MAX_PATHS + 2; i++)
			many[i] = (struct mpath_path){ .dev = 100 + i, .usable = true };
		param[15] = 1;
		reg.param = param;
		reg.param_len = 24;
		memset(&mem, 0, sizeof(mem));
		mpath_plan_begin(&plan, &reg, many, MPATH_MAX_PATHS + 2, &mem);
		n = mpath_plan_next(&plan, sends);
		res.status = PRH_STATUS_GOOD;
		mpath_plan_result(&plan, 0, &res);
		n = mpath_plan_next(&plan, sends);
		is_int(n, MPATH_MAX_PATHS - 1, "fan-out to at most MPATH_MAX_PATHS - 1 others");
		for (unsigned k = 0; k < n; k++)
			mpath_plan_result(&plan, k, &res);
		is_int(mpath_plan_next(&plan, sends), 0, "...then finished");
	}
}

/* Paths leave the map and new ones join: memory slots are reused, and a
 * path the memory does not know is repaired before use. */
static void
test_memory_slots(void)
{
	registered_a();
	/* Path 2 is replaced by a new device (another dev_t). */
	S.dev_base = 0x800;
	pr_in(MPATH_PR_READ_KEYS, 0x2000);
	S.lun.registered[2] = false;    /* the new device's nexus: nothing */
	S.lun.key[2] = 0;
	{
		struct mpath_path paths[3] = {
			{ .dev = 0x800, .usable = true }, { .dev = 0x810, .usable = true },
			{ .dev = 0x900, .usable = true },
		};
		struct mpath_request req = { .cdb = { PRH_OP_PR_IN, 0, 0, 0, 0, 0, 0, 0x20, 0 } };
		struct mpath_send sends[MPATH_MAX_SENDS];
		uint8_t buf[PRH_MAX_DATA];
		unsigned n, steps = 0;
		char log[256] = "";

		mpath_plan_begin(&plan, &req, paths, 3, &S.mem);
		while ((n = mpath_plan_next(&plan, sends)) > 0) {
			for (unsigned k = 0; k < n; k++) {
				struct mpath_result res;

				snprintf(log + strlen(log), sizeof(log) - strlen(log), "%sp%u %s",
				         steps ? " | " : "", sends[k].path, sa_name(sends[k].cdb));
				fake_exec(&S.lun, sends[k].path, sends[k].cdb, sends[k].param,
				          sends[k].param_len, &res, buf);
				mpath_plan_result(&plan, k, &res);
			}
			steps++;
		}
		is_str(log, "p0 RK | p2 IGN | p0 RK", "a new path is repaired before use");
		is_str(keys(), "a,a,a,-", "...and registered with the map's key");
	}
	/* Before the helper knew a key, a new path is not touched. */
	setup(3);
	pr_in(MPATH_PR_READ_KEYS, 0x2000);
	is_str(S.log, "p0 RK", "no key known: no repair");
	no_violations("memory slots");
}

static void
test_host_status(void)
{
	ok(!mpath_host_status_is_path_failure(0), "host status 0: not a path failure");
	ok(mpath_host_status_is_path_failure(0x01), "DID_NO_CONNECT: path failure");
	ok(mpath_host_status_is_path_failure(0x03), "DID_TIME_OUT: path failure");
	ok(mpath_host_status_is_path_failure(0x0e), "DID_TRANSPORT_DISRUPTED: path failure");
	ok(mpath_host_status_is_path_failure(0x0f), "DID_TRANSPORT_FAILFAST: path failure");
	ok(!mpath_host_status_is_path_failure(0x10), "DID_TARGET_FAILURE: the LU's answer");
	ok(!mpath_host_status_is_path_failure(0x11), "DID_NEXUS_FAILURE: the LU's answer");
	ok(!mpath_host_status_is_path_failure(0x12), "DID_ALLOC_FAILURE: the LU's answer");
	ok(!mpath_host_status_is_path_failure(0x13), "DID_MEDIUM_ERROR: the LU's answer");
	for (int k = MPATH_EVENT_STEP; k <= MPATH_EVENT_REJECTED; k++)
		ok(strcmp(mpath_event_name((enum mpath_event_kind)k), "?") != 0,
		   "event %d has a name (%s)", k, mpath_event_name((enum mpath_event_kind)k));
	for (int r = MPATH_ROLE_COMMAND; r <= MPATH_ROLE_REPAIR; r++)
		ok(strcmp(mpath_role_name((enum mpath_role)r), "?") != 0, "role %d has a name", r);
}

/*
 * Random sequences: guest commands, paths going down and up, faults,
 * and another host fencing the map. After every request: a key the other
 * host removed is registered on none of the map's paths unless the guest
 * itself registered it since; every plan finishes within its bound; and
 * when all paths are up and nothing failed, a guest registration leaves
 * every path with the same key.
 */
static uint32_t rnd_state = 12345;

static uint32_t
rnd(uint32_t n)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (rnd_state >> 16) % n;
}

static void
test_random_sequences(void)
{
	static const uint64_t pool[] = { 0, KEY_A, KEY_B, KEY_C };
	uint64_t fenced[8];
	unsigned n_fenced = 0, bad_fence = 0, bad_consistency = 0, max_steps = 0;
	unsigned requests = 0;

	for (unsigned round = 0; round < 40; round++) {
		setup(3);
		n_fenced = 0;
		for (unsigned op = 0; op < 60; op++) {
			unsigned r = rnd(100), p = rnd(3);
			uint64_t guest_key = S.mem.key_known ? S.mem.key : 0;
			bool clean = true;

			if (r < 15) {
				if (S.unusable[p])
					path_up(p);
				else
					path_down(p);
				continue;
			}
			if (r < 22) {
				/* The other host fences whatever key path p has. */
				if (S.lun.registered[p] && S.lun.key[p] != 0) {
					uint64_t k = S.lun.key[p];

					other(MPATH_PR_REGISTER_IGNORE, 0, 0, KEY_X);
					if (other(MPATH_PR_PREEMPT, TYPE_WE_RO, KEY_X, k) == 0 &&
					    n_fenced < 8)
						fenced[n_fenced++] = k;
				}
				continue;
			}
			for (unsigned i = 0; i < 3; i++) {
				clean = clean && !S.unusable[i];
				S.lun.fail_before[i] = false;   /* faults last one request */
			}
			if (rnd(4) == 0) {
				S.lun.fail_before[rnd(3)] = true;
				clean = false;
			}
			if (rnd(5) == 0) {
				set_ua(&S.lun, rnd(3), 0x29, 0x00);
				clean = false;
			}
			requests++;
			if (r < 55) {
				uint64_t nk = pool[rnd(4)];
				uint8_t sa = rnd(2) ? MPATH_PR_REGISTER : MPATH_PR_REGISTER_IGNORE;
				const struct mpath_answer *a = pr_out(sa, 0, guest_key, nk, 0);

				/* The guest's own registration lifts a fence of nk. */
				for (unsigned f = 0; f < n_fenced; f++)
					if (fenced[f] == nk)
						fenced[f] = fenced[--n_fenced];
				if (clean && a->reply.status == PRH_STATUS_GOOD) {
					for (unsigned i = 0; i < 3; i++)
						if (S.lun.registered[i] != (nk != 0) ||
						    (nk != 0 && S.lun.key[i] != nk)) {
							if (getenv("MPATH_DEBUG"))
								printf("# inconsistent: sa %u %llx>%llx log '%s' keys %s\n",
								       sa, (unsigned long long)guest_key,
								       (unsigned long long)nk, S.log, keys());
							bad_consistency++;
						}
				}
			} else if (r < 70) {
				pr_out(MPATH_PR_RESERVE, TYPE_WE_RO, guest_key, 0, 0);
			} else if (r < 80) {
				pr_out(MPATH_PR_RELEASE, TYPE_WE_RO, guest_key, 0, 0);
			} else if (r < 88) {
				pr_out(MPATH_PR_PREEMPT, TYPE_WE_RO, guest_key, guest_key, 0);
			} else if (r < 92) {
				pr_out(MPATH_PR_CLEAR, 0, guest_key, 0, 0);
			} else {
				pr_in(MPATH_PR_READ_KEYS, 0x2000);
			}
			if (S.steps > max_steps)
				max_steps = S.steps;
			for (unsigned f = 0; f < n_fenced; f++)
				for (unsigned i = 0; i < 3; i++)
					if (S.lun.registered[i] && S.lun.key[i] == fenced[f])
						bad_fence++;
		}
	}
	is_int(bad_fence, 0, "random sequences (%u requests): no fenced key ever comes back",
	       requests);
	is_int(bad_consistency, 0,
	       "random sequences: a clean registration leaves every path on the same key");
	ok(max_steps <= 12, "random sequences: every plan finished (longest: %u steps)",
	   max_steps);
	no_violations("random sequences");
}

int
main(void)
{
	test_pr_in();
	test_no_path();
	test_register();
	test_spec_i_pt();
	test_all_tg_pt();
	test_path_down_and_repair();
	test_aptpl_kept_by_repair();
	test_fenced();
	test_stale_key_holder();
	test_unregister();
	test_reserve();
	test_release();
	test_clear();
	test_preempt();
	test_preempt_after_restart();
	test_register_and_move();
	test_unit_attentions();
	test_path_fails_at_each_step();
	test_caller_mistakes();
	test_memory_slots();
	test_host_status();
	test_random_sequences();
	return tap_done();
}

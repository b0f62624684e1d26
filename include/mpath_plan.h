/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mpath_plan.h: the decisions behind persistent reservations on a
 * dm-multipath map. Registrations are per I_T nexus, that is per path, so
 * one guest command becomes several path commands: which command goes to
 * which path and in which order, what is retried, which path is repaired
 * and how, what is remembered between requests, and what the guest is
 * answered. Pure code: no I/O, no clock, no threads, no libsgutils2. The
 * caller finds the map's paths, opens their nodes, runs the sends (SG_IO)
 * and reports each result. docs/multipath.md has the decision table.
 *
 * One guest request on one map:
 *
 *	mpath_plan_begin(&plan, &req, paths, n_paths, &map_memory);
 *	while ((n = mpath_plan_next(&plan, sends)) > 0) {
 *		run sends[0] .. sends[n - 1], in parallel if you like;
 *		mpath_plan_result(&plan, i, &result) for each of them;
 *	}
 *	answer = mpath_plan_answer(&plan);   reply with answer->reply
 *
 * The plan reads and writes the map's memory while it runs: plans on the
 * same map must not run at the same time (two QEMU connections may send
 * to the same map; the caller holds a per-map lock for the whole plan).
 * A send whose result is never reported counts as a failed path, so the
 * plan always finishes, after at most MPATH_MAX_STEPS steps.
 */
#ifndef PRH_MPATH_PLAN_H
#define PRH_MPATH_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "prh.h"
#include "proto.h"

#define MPATH_MAX_PATHS     8    /* paths of one map the plan handles */
#define MPATH_MAX_SENDS     MPATH_MAX_PATHS  /* sends in one step */
#define MPATH_UA_RETRIES    3    /* per send the helper issues itself */
#define MPATH_MAX_STEPS     128  /* a defensive bound; see the .c file */
#define MPATH_MAX_EVENTS    64
#define MPATH_PARAM_BASIC   24   /* the basic PR OUT parameter list */
#define MPATH_READ_KEYS_LEN PRH_MAX_DATA  /* allocation length of our READ KEYS */

/* PERSISTENT RESERVE OUT service actions (cdb[1] & 0x1f). */
#define MPATH_PR_REGISTER            0x00
#define MPATH_PR_RESERVE             0x01
#define MPATH_PR_RELEASE             0x02
#define MPATH_PR_CLEAR               0x03
#define MPATH_PR_PREEMPT             0x04
#define MPATH_PR_PREEMPT_AND_ABORT   0x05
#define MPATH_PR_REGISTER_IGNORE     0x06   /* REGISTER AND IGNORE EXISTING KEY */
#define MPATH_PR_REGISTER_AND_MOVE   0x07
/* PERSISTENT RESERVE IN service actions. */
#define MPATH_PR_READ_KEYS           0x00
#define MPATH_PR_READ_RESERVATION    0x01
#define MPATH_PR_REPORT_CAPABILITIES 0x02
#define MPATH_PR_READ_FULL_STATUS    0x03
/* Flags in byte 20 of the basic parameter list. */
#define MPATH_PARAM_SPEC_I_PT        0x08
#define MPATH_PARAM_ALL_TG_PT        0x04
#define MPATH_PARAM_APTPL            0x01

/*
 * One path of the map, as the caller found it for this request. usable:
 * its SCSI device state is "running" and its node could be opened.
 * initiator: equal non-zero values promise that the paths leave through
 * the same initiator port (the SCSI host number + 1 is such a value);
 * 0 = not known. Only ALL_TG_PT registrations use it: one of them covers
 * every path of its initiator port, so one send per port is enough.
 */
struct mpath_path {
	uint64_t dev;           /* the path's dev_t */
	bool usable;
	uint32_t initiator;
};

/* What the helper remembers about one path between requests. */
struct mpath_path_memory {
	bool used;              /* this slot belongs to dev */
	uint64_t dev;
	uint64_t key;           /* key the helper last registered it with (0: none) */
	bool needs_repair;      /* it missed a registration change of the map */
};

/*
 * What the helper remembers about one map between requests; the caller
 * keeps one per map, zero-initialised, and never interprets it. Holds the
 * map's key as last successfully set through the helper (key_known; 0 =
 * unregistered, also after CLEAR or once the key was found fenced), the
 * flags of that registration (ALL_TG_PT and APTPL, which repairs must
 * repeat), and a slot per path dev. Key it by the map's dev_t; zeroing it
 * (a new map, a helper restart) is always safe: nothing is repaired until
 * the guest registers or preempts through the helper again.
 */
struct mpath_memory {
	bool key_known;
	uint64_t key;
	bool flags_known;
	bool all_tg_pt;
	bool aptpl;
	struct mpath_path_memory path[MPATH_MAX_PATHS];
};

/* The guest's request: its CDB as received and, for PR OUT, its
 * parameter list (param_len = BE16 of cdb[7..8], as the protocol reads
 * it). param must stay valid until the plan is finished. */
struct mpath_request {
	uint8_t cdb[PRH_CDB_SIZE];
	const uint8_t *param;
	uint16_t param_len;
};

/* Why a send is made (for traces and logs). */
enum mpath_role {
	MPATH_ROLE_COMMAND,       /* the guest's command, on the answering path */
	MPATH_ROLE_SECONDARY,     /* the guest's REGISTER or RELEASE on another path */
	MPATH_ROLE_REREGISTER,    /* registration put back after the map's own PREEMPT */
	MPATH_ROLE_READ_KEYS,     /* repair: the keys the LU holds */
	MPATH_ROLE_CAPABILITIES,  /* REPORT CAPABILITIES: is APTPL active */
	MPATH_ROLE_REPAIR         /* a returning path given the map's key, or key 0 */
};

/*
 * One command for one path. The caller runs cdb on paths[path] exactly as
 * sgio_execute() runs a guest's command: for PR OUT with the param_len
 * bytes at param (they belong to the plan or to the request); for PR IN
 * into a buffer of at least alloc_len bytes (the CDB's allocation length).
 * id numbers the sends of a plan from 0.
 */
struct mpath_send {
	unsigned path;
	unsigned id;
	enum mpath_role role;
	uint8_t cdb[PRH_CDB_SIZE];
	const uint8_t *param;
	uint16_t param_len;
	uint16_t alloc_len;
};

/*
 * What a send gave. os_err: the ioctl (or the open) failed; any non-zero
 * value makes the path unusable for the rest of the request. transport:
 * the host status says the path is gone (mpath_host_status_is_path_failure).
 * status and sense: what the reply to the guest would carry (the device's
 * own, or the mapping of an errno or host status, as sgio_execute() fills
 * them); the plan may hand them to the guest verbatim. data, data_len: the
 * PR IN bytes the device returned (copied; the caller's buffer may be
 * reused once mpath_plan_result() returns).
 */
struct mpath_result {
	int os_err;
	bool transport;
	uint8_t status;
	uint8_t sense[PRH_SENSE_SIZE];
	const uint8_t *data;
	uint32_t data_len;
};

enum mpath_event_kind {
	MPATH_EVENT_STEP,           /* n sends in one step, of role `role` */
	MPATH_EVENT_PATH_FAILED,    /* path failed: not used again in this request */
	MPATH_EVENT_CONFLICT_RETRY, /* conflict on a secondary: retried as REGISTER AND IGNORE */
	MPATH_EVENT_UA_RETRY,       /* unit attention asc/ascq consumed, send repeated */
	MPATH_EVENT_GAVE_UP,        /* a helper send failed for good (status, sense) */
	MPATH_EVENT_REPAIRED,       /* path registered with the map's key `key` */
	MPATH_EVENT_STALE_REMOVED,  /* path unregistered; `key`: what it last had */
	MPATH_EVENT_FENCED,         /* the map's key `key` is gone from the LU: never put back */
	MPATH_EVENT_REPAIR_SKIPPED, /* READ KEYS failed or was cut short: repair later */
	MPATH_EVENT_MARKED,         /* path missed a registration change: repair it later */
	MPATH_EVENT_REREGISTERED,   /* path registered again with `key` after a PREEMPT */
	MPATH_EVENT_APTPL_UNKNOWN,  /* registrations sent with APTPL 0, the LU's not known */
	MPATH_EVENT_NO_PATH,        /* no usable path answered: retryable error */
	MPATH_EVENT_REJECTED        /* REGISTER AND MOVE: not through a map */
};

struct mpath_event {
	enum mpath_event_kind kind;
	int path;               /* index into paths[]; -1 for the map */
	uint64_t dev;           /* that path's dev, 0 for the map */
	uint64_t key;
	unsigned n;             /* STEP: sends in the step */
	enum mpath_role role;   /* STEP: their role */
	int os_err;             /* PATH_FAILED: the errno, 0 for a transport failure */
	uint8_t status, sense_key, asc, ascq;
};

/* Who produced the answer. */
enum mpath_answer_source {
	MPATH_ANSWER_PATH,      /* send `send_id` on `path`: its reply verbatim */
	MPATH_ANSWER_HELPER     /* synthesized here (no path, REGISTER AND MOVE) */
};

/*
 * What the guest gets: reply (status, sense, size) and, for PR IN with
 * GOOD, reply.size bytes at data (the plan's own copy, clipped to the
 * guest's allocation length), plus the events of the whole plan.
 */
struct mpath_answer {
	enum mpath_answer_source source;
	int path;
	unsigned send_id;
	struct proto_reply reply;
	const uint8_t *data;
	const struct mpath_event *events;
	unsigned n_events;
	unsigned events_dropped;    /* events beyond MPATH_MAX_EVENTS */
};

/* The plan's state: allocate it (about 13 KB: not on a small stack),
 * never read or write its fields. */
struct mpath_pending {
	struct mpath_send send;
	uint8_t param[MPATH_PARAM_BASIC];  /* a list the plan wrote */
	bool own_param;
	bool reported;
	bool conflict_retried;
	unsigned ua_retries;
	int os_err;
	bool transport;
	uint8_t status;
	uint8_t sense[PRH_SENSE_SIZE];
	uint32_t data_len;
};

struct mpath_plan {
	struct mpath_request req;
	uint8_t op, sa;
	struct mpath_path paths[MPATH_MAX_PATHS];
	unsigned n_paths;
	struct mpath_memory *mem;
	struct mpath_path_memory *slot[MPATH_MAX_PATHS];
	bool failed[MPATH_MAX_PATHS];   /* failed during this request */
	bool done[MPATH_MAX_PATHS];     /* fan-out: registered or released */
	bool tried[MPATH_MAX_PATHS];    /* fan-out: a send went to it */
	bool want[MPATH_MAX_PATHS];     /* fan-out: still to reach */
	int phase;
	int primary;                    /* the answering path, -1 none */
	bool keys_read, repair_done, caps_done;
	uint64_t repair_key;
	bool fanout_grouped;
	uint64_t fanout_key;
	bool fanout_changes_keys;
	unsigned steps, next_id;
	struct mpath_pending pend[MPATH_MAX_SENDS];
	unsigned n_pend;
	bool answered;
	struct mpath_answer answer;
	struct mpath_event events[MPATH_MAX_EVENTS];
	unsigned n_events, events_dropped;
	uint8_t data[PRH_MAX_DATA];
	uint32_t data_len;
};

/*
 * Start a plan for req on a map with n_paths paths (at most
 * MPATH_MAX_PATHS are looked at) and the map's memory, which the plan
 * updates as results arrive. paths is copied; the indices in sends and
 * events refer to it. Does not send anything yet.
 */
void mpath_plan_begin(struct mpath_plan *plan, const struct mpath_request *req,
                      const struct mpath_path *paths, unsigned n_paths,
                      struct mpath_memory *mem);

/*
 * The sends of the next step, into sends[0, n); 0 when the plan is
 * finished. The sends of one step go to different paths and may run in
 * parallel; report every one before calling again.
 */
unsigned mpath_plan_next(struct mpath_plan *plan, struct mpath_send sends[MPATH_MAX_SENDS]);

/* Report the result of sends[send_index] of the current step. */
void mpath_plan_result(struct mpath_plan *plan, unsigned send_index,
                       const struct mpath_result *result);

/* The answer for the guest, once mpath_plan_next() returned 0 (before
 * that: NULL). Points into the plan. */
const struct mpath_answer *mpath_plan_answer(const struct mpath_plan *plan);

/*
 * Does an SG_IO host status mean the path, not the LU, failed? Yes for
 * every non-zero value except those that report the target's own verdict
 * (DID_TARGET_FAILURE, DID_NEXUS_FAILURE, DID_ALLOC_FAILURE,
 * DID_MEDIUM_ERROR), the same line dm-multipath draws for I/O.
 */
bool mpath_host_status_is_path_failure(unsigned host_status);

/* Names for traces: "read_keys", "repaired", ... */
const char *mpath_role_name(enum mpath_role role);
const char *mpath_event_name(enum mpath_event_kind kind);

#endif /* PRH_MPATH_PLAN_H */

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * priv.h: the one-way drop from root to CAP_SYS_RAWIO.
 */
#ifndef PRH_PRIV_H
#define PRH_PRIV_H

#include <sys/types.h>

/*
 * Become uid/gid with no supplementary groups, keep CAP_SYS_RAWIO in the
 * permitted and effective sets and nothing else anywhere (inheritable,
 * ambient and bounding sets empty), and set no_new_privs. Must run before
 * any thread exists: capabilities are per thread. Returns 0, or -1 after
 * logging which step failed (the process is then in an unspecified state
 * and must exit).
 */
int priv_drop(uid_t uid, gid_t gid);

/*
 * After priv_drop, in a process that needs no capability at all (the
 * multipath path opener): empty every capability set and check that
 * none is left. Returns 0, or -1 after logging.
 */
int priv_drop_all(void);

#endif /* PRH_PRIV_H */

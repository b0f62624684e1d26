/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sandbox.h: the seccomp allow-list the helper runs under once started.
 */
#ifndef PRH_SANDBOX_H
#define PRH_SANDBOX_H

/*
 * Install a seccomp-bpf filter on every thread of the process that allows
 * only the system calls the running helper makes; any other call kills
 * the process. ioctl is allowed only for SG_IO. Call after every start-up
 * step that needs more (socket, pid file, privilege drop, the first
 * libsgutils2 call, worker threads, syslog connection). no_new_privs must
 * already be set (priv_drop does it). Returns 0, 1 if the kernel has no
 * seccomp filtering (the helper then runs unsandboxed, with a warning), or
 * -1 after logging an error.
 */
int sandbox_enter(void);

/*
 * The multipath path opener's filter (mpath_opener.c), for that process
 * only: its socket, reading sysfs, opening device nodes without creating
 * or changing any file; anything else kills it. Sets no_new_privs.
 * Returns 0, 1 without seccomp, -1 after logging.
 */
int sandbox_enter_opener(void);

/* One entry of an allow-list: the number on this architecture, and the
 * name (for the test that compares the list with a trace). */
struct sandbox_call {
	long nr;
	const char *name;
};

/* The helper's allow-list (opener 0) or the opener's (1), as built into
 * this binary; *n gets the length. openat/open, ioctl and clone, which
 * the filters allow only with checked arguments, are not in either. */
const struct sandbox_call *sandbox_calls(int opener, unsigned *n);

#endif /* PRH_SANDBOX_H */

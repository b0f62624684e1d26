/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * priv.c: the only file that changes credentials or capabilities. It runs
 * once, in main(), before the loop and before any thread; afterwards the
 * process holds CAP_SYS_RAWIO only. That capability is what the kernel's
 * SG_IO filter demands before it lets PERSISTENT RESERVE IN/OUT through on
 * a file descriptor; everything else the helper does needs no privilege.
 */
#include <errno.h>
#include <grp.h>
#include <stdbool.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "log.h"
#include "priv.h"

static int
fail(const char *step)
{
	log_error("cannot drop privileges: %s: %s", step, strerror(errno));
	return -1;
}

/* Build the one capability state we want to end with. */
static cap_t
rawio_only(void)
{
	static const cap_value_t keep[] = { CAP_SYS_RAWIO };
	cap_t caps = cap_init();

	if (caps == NULL)
		return NULL;
	if (cap_set_flag(caps, CAP_PERMITTED, 1, keep, CAP_SET) < 0 ||
	    cap_set_flag(caps, CAP_EFFECTIVE, 1, keep, CAP_SET) < 0) {
		cap_free(caps);
		return NULL;
	}
	return caps;
}

/* Read the result back: trust what the kernel reports, not our calls. */
static int
verify(uid_t uid, gid_t gid, cap_t want)
{
	uid_t ruid, euid, suid;
	gid_t rgid, egid, sgid;
	cap_t have = cap_get_proc();
	int differ;

	if (have == NULL)
		return fail("reading capabilities back");
	differ = cap_compare(have, want);
	cap_free(have);
	if (differ != 0) {
		errno = EPERM;
		return fail("capabilities differ from CAP_SYS_RAWIO only");
	}
	if (getresuid(&ruid, &euid, &suid) < 0 || getresgid(&rgid, &egid, &sgid) < 0)
		return fail("reading ids back");
	if (ruid != uid || euid != uid || suid != uid ||
	    rgid != gid || egid != gid || sgid != gid) {
		errno = EPERM;
		return fail("ids differ from the requested ones");
	}
	if (getgroups(0, NULL) != 0) {
		errno = EPERM;
		return fail("supplementary groups remain");
	}
	for (cap_value_t c = 0; c < (cap_value_t)cap_max_bits(); c++) {
		if (cap_get_bound(c) > 0) {
			errno = EPERM;
			return fail("bounding set not empty");
		}
	}
	/* With uid != 0 and no CAP_SETUID, regaining root must be impossible. */
	if (uid != 0 && setuid(0) == 0) {
		errno = EPERM;
		return fail("root could be regained");
	}
	return 0;
}

int
priv_drop(uid_t uid, gid_t gid)
{
	cap_t want;
	int r = -1;

	/* 1. Empty the bounding set first, while CAP_SETPCAP is still in the
	 * effective set: no later exec could ever regain a capability. */
	for (cap_value_t c = 0; c < (cap_value_t)cap_max_bits(); c++) {
		if (cap_get_bound(c) > 0 && cap_drop_bound(c) < 0)
			return fail("clearing the bounding set");
	}
	/* 2. Ambient capabilities would survive the uid change; none wanted. */
	if (CAP_AMBIENT_SUPPORTED() && cap_reset_ambient() < 0)
		return fail("clearing the ambient set");
	/* 3. Keep the permitted set across setresuid so CAP_SYS_RAWIO is still
	 * there to keep after the switch to an unprivileged uid. */
	if (prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) < 0)
		return fail("PR_SET_KEEPCAPS");
	/* 4. No supplementary groups: the helper opens no files on behalf of
	 * clients (devices arrive as fds over the socket), so group access is
	 * never needed, and root's groups would only widen what a compromised
	 * helper could reach. */
	if (setgroups(0, NULL) < 0)
		return fail("setgroups");
	/* 5. Group before user: changing the gid needs CAP_SETGID, which the
	 * uid change takes away. */
	if (setresgid(gid, gid, gid) < 0)
		return fail("setresgid");
	if (setresuid(uid, uid, uid) < 0)
		return fail("setresuid");

	/* 6. Permitted = effective = CAP_SYS_RAWIO, inheritable empty. */
	want = rawio_only();
	if (want == NULL)
		return fail("building the capability set");
	if (cap_set_proc(want) < 0) {
		fail("setting CAP_SYS_RAWIO only");
		goto out;
	}
	/* 7. Keep-caps has served its purpose. */
	if (prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L) < 0) {
		fail("clearing PR_SET_KEEPCAPS");
		goto out;
	}
	/* 8. no_new_privs: not even a setuid binary exec'd by a subverted
	 * helper could gain anything. The helper itself never execs. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) < 0) {
		fail("PR_SET_NO_NEW_PRIVS");
		goto out;
	}
	r = verify(uid, gid, want);
out:
	cap_free(want);
	return r;
}

int
priv_drop_all(void)
{
	cap_t none = cap_init(), have;
	int differ;

	if (none == NULL)
		return fail("building the empty capability set");
	if (cap_set_proc(none) < 0) {
		cap_free(none);
		return fail("dropping every capability");
	}
	have = cap_get_proc();
	if (have == NULL) {
		cap_free(none);
		return fail("reading capabilities back");
	}
	differ = cap_compare(have, none);
	cap_free(have);
	cap_free(none);
	if (differ != 0) {
		errno = EPERM;
		return fail("capabilities remain");
	}
	return 0;
}

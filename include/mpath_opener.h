/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mpath_opener.h: the small process that finds the paths of a dm-multipath
 * map and opens their device nodes, so that the sandboxed helper itself
 * never opens a file.
 */
#ifndef PRH_MPATH_OPENER_H
#define PRH_MPATH_OPENER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Paths handled per map; a map with more is served through its first
 * MPATH_OPENER_MAX_PATHS paths in name order (and says so in the log). */
#define MPATH_OPENER_MAX_PATHS 8
/* How long a worker waits for the opener's answer. Opening a path node
 * can wait on the device; past this the request fails as a busy device. */
#define MPATH_OPENER_TIMEOUT_MS 10000

struct mpath_found_path {
	char name[32];       /* the kernel's name, e.g. "sdb" */
	uint64_t dev;        /* its device number (makedev) */
	bool running;        /* its SCSI device state is "running" */
	uint32_t initiator;  /* its SCSI host number + 1 (0: not known) */
	int open_err;        /* 0: fd is open; else why not (errno) */
	int fd;              /* -1 unless open_err is 0; the caller closes it */
};

struct mpath_found {
	bool is_dm;          /* a device-mapper device */
	bool is_multipath;   /* ... whose table is dm-multipath's */
	bool truncated;      /* it had more than MPATH_OPENER_MAX_PATHS paths */
	unsigned n_paths;
	struct mpath_found_path paths[MPATH_OPENER_MAX_PATHS];
};

/*
 * Fork the opener (single-threaded start-up, after the privilege drop and
 * before the sandbox; the opener keeps the helper's uid and gid, drops
 * every capability and enters its own seccomp filter). detached: the
 * helper runs with -d, so the opener points its standard fds at
 * /dev/null, as the helper will. Returns 0, or -1 after logging why.
 */
int mpath_opener_start(bool detached);

/* Whether the opener runs (multipath support is on and it started). */
bool mpath_opener_running(void);

/*
 * Ask the opener about the block device behind map_fd (any thread; one
 * question at a time). On success fills *found; for a multipath map each
 * usable path's node is opened read-write if want_write, else read-only,
 * and its fd is the caller's to close. Returns 0, or a negative errno:
 * -ETIMEDOUT (no answer in MPATH_OPENER_TIMEOUT_MS), -EPIPE (the opener
 * is gone), -ENOSYS (not running).
 */
int mpath_opener_query(int map_fd, bool want_write, struct mpath_found *found);

/* Close the fds in *found that are still open. */
void mpath_found_close(struct mpath_found *found);

/* Tell the opener to exit (it also exits when the helper does). */
void mpath_opener_stop(void);

/* Pure helpers of the opener, for the unit tests. "MAJ:MIN\n" as sysfs
 * writes it; false if malformed. */
bool mpath_parse_devnum(const char *text, uint64_t *dev);
/* The SCSI host number in a device link's last part ("H:C:T:L");
 * -1 if there is none. */
long mpath_parse_scsi_host(const char *link);
/* Whether a dm device's uuid names a multipath map ("mpath-..."). */
bool mpath_uuid_is_multipath(const char *uuid);

#endif /* PRH_MPATH_OPENER_H */

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pidfile.h: the pid file, locked for the life of the process.
 */
#ifndef PRH_PIDFILE_H
#define PRH_PIDFILE_H

#include <sys/types.h>

struct pidfile {
	int fd;             /* open and fcntl-locked while we run; -1 if none */
	dev_t dev;
	ino_t ino;
	const char *path;
};

/*
 * Create or open path, take an exclusive fcntl lock on it and write the
 * current pid. The fd stays open (close-on-exec) so the lock lasts until the
 * process ends. If another process holds the lock, nothing is written and
 * the error names its pid. Returns 0, or -1 after logging an error.
 */
int pidfile_create(struct pidfile *pf, const char *path);

/* Remove the pid file if it is still the one we locked; if the directory
 * no longer lets us (privileges dropped), empty it instead. */
void pidfile_remove(struct pidfile *pf);

/* Process holding a lock on the pid file at path: its pid, 0 if nobody,
 * -1 on error. Never call it in the process that holds the lock: closing
 * its own fd on the file would release that lock. */
pid_t pidfile_owner(const char *path);

#endif /* PRH_PIDFILE_H */

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pidfile.c: owns the pid file. The fcntl write lock is the only proof that
 * a helper is alive: it disappears with the process, however it ends. The
 * lock fd must therefore never be closed while running (closing any fd on
 * the file would drop the lock, so this is the only code that opens it).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "pidfile.h"

static int
lock_whole_file(int fd, struct flock *fl)
{
	memset(fl, 0, sizeof(*fl));
	fl->l_type = F_WRLCK;
	fl->l_whence = SEEK_SET;
	return fcntl(fd, F_SETLK, fl);
}

pid_t
pidfile_owner(const char *path)
{
	struct flock fl;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);

	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_GETLK, &fl) < 0) {
		close(fd);
		return -1;
	}
	close(fd);
	return fl.l_type == F_UNLCK ? 0 : fl.l_pid;
}

int
pidfile_create(struct pidfile *pf, const char *path)
{
	char buf[32];
	struct stat st, now;
	struct flock fl;
	int fd, len;

	pf->fd = -1;
	pf->path = path;
	for (;;) {
		/* O_NOFOLLOW: root must not be tricked into writing through a
		 * symlink planted in a shared directory. */
		fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW,
		          0644);
		if (fd < 0) {
			log_error("cannot create pid file '%s': %s", path, strerror(errno));
			return -1;
		}
		if (fstat(fd, &st) < 0 || lock_whole_file(fd, &fl) < 0) {
			int err = errno;
			pid_t owner = pidfile_owner(path);

			close(fd);
			if ((err == EAGAIN || err == EACCES) && owner > 0)
				log_error("pid file '%s' is locked by another helper (pid %ld)",
				          path, (long)owner);
			else
				log_error("cannot lock pid file '%s': %s", path, strerror(err));
			return -1;
		}
		/* If the file was unlinked or replaced between open and lock (an
		 * exiting helper removing it), our lock is on a dead inode. */
		if (stat(path, &now) == 0 && now.st_dev == st.st_dev &&
		    now.st_ino == st.st_ino)
			break;
		close(fd);
	}

	len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || write(fd, buf, (size_t)len) != len) {
		log_error("cannot write pid file '%s': %s", path, strerror(errno));
		unlink(path);
		close(fd);
		return -1;
	}
	pf->fd = fd;
	pf->dev = st.st_dev;
	pf->ino = st.st_ino;
	return 0;
}

void
pidfile_remove(struct pidfile *pf)
{
	struct stat st;

	if (pf->fd < 0)
		return;
	if (lstat(pf->path, &st) == 0 && st.st_dev == pf->dev &&
	    st.st_ino == pf->ino && unlink(pf->path) < 0) {
		int err = errno;

		/* After dropping privileges the directory may not be writable;
		 * the fd still is, so leave an empty file rather than a pid that
		 * may be reused by an unrelated process. */
		if (ftruncate(pf->fd, 0) < 0)
			log_debug("cannot empty pid file '%s': %s", pf->path,
			          strerror(errno));
		log_debug("cannot remove pid file '%s': %s", pf->path, strerror(err));
	}
	close(pf->fd);
	pf->fd = -1;
}

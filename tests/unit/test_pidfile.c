/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for pidfile.c: locking, content, removal rules. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "pidfile.h"
#include "tap.h"

static char dir[] = "/tmp/prh-test-pidfile-XXXXXX";

/* Read the file in a child: closing any fd on the file in this process
 * would release this process's fcntl lock (a POSIX rule, and the reason
 * pidfile.c never opens the file twice). */
static void
read_text(const char *path, char *buf, size_t size)
{
	int pipefd[2];
	ssize_t n;
	pid_t pid;

	buf[0] = '\0';
	if (pipe(pipefd) < 0)
		return;
	pid = fork();
	if (pid == 0) {
		char tmp[256];
		int fd = open(path, O_RDONLY);
		ssize_t got = fd >= 0 ? read(fd, tmp, sizeof(tmp)) : 0;

		if (got > 0 && write(pipefd[1], tmp, (size_t)got) < 0)
			_exit(1);
		_exit(0);
	}
	close(pipefd[1]);
	n = read(pipefd[0], buf, size - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(pipefd[0]);
	waitpid(pid, NULL, 0);
}

/* In a child (fcntl locks do not conflict within one process): try to take
 * the pid file. Returns the child's exit status: 0 took it, 1 refused. The
 * child's error message lands in errfile. */
static int
second_instance(const char *path, const char *errfile, pid_t *owner_seen)
{
	int pipefd[2], status;
	pid_t pid;

	if (pipe(pipefd) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		struct pidfile pf;
		pid_t owner = pidfile_owner(path);
		int fd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		dup2(fd, STDERR_FILENO);
		if (write(pipefd[1], &owner, sizeof(owner)) < 0)
			_exit(3);
		_exit(pidfile_create(&pf, path) == 0 ? 0 : 1);
	}
	close(pipefd[1]);
	if (read(pipefd[0], owner_seen, sizeof(*owner_seen)) != sizeof(*owner_seen))
		*owner_seen = -2;
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int
main(void)
{
	char path[256], errfile[256], text[256], want[64], link_path[256];
	struct pidfile pf, pf2;
	struct stat st;
	pid_t owner;

	umask(022);
	if (mkdtemp(dir) == NULL)
		return 99;
	log_init(1);
	snprintf(path, sizeof(path), "%s/helper.pid", dir);
	snprintf(errfile, sizeof(errfile), "%s/err", dir);

	is_int(pidfile_create(&pf, path), 0, "create a new pid file");
	read_text(path, text, sizeof(text));
	snprintf(want, sizeof(want), "%ld\n", (long)getpid());
	is_str(text, want, "content is the pid and a newline");
	ok(fcntl(pf.fd, F_GETFD) & FD_CLOEXEC, "the lock fd is close-on-exec");
	umask(022);
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644, "mode 0644 (umask 022)");

	is_int(second_instance(path, errfile, &owner), 1, "a second instance is refused");
	is_int(owner, getpid(), "pidfile_owner names the holder");
	read_text(errfile, text, sizeof(text));
	snprintf(want, sizeof(want), "locked by another helper (pid %ld)", (long)getpid());
	ok(strstr(text, want) != NULL, "the error names the running pid: %s", text);
	read_text(path, text, sizeof(text));
	snprintf(want, sizeof(want), "%ld\n", (long)getpid());
	is_str(text, want, "the refused instance did not touch the file");

	pidfile_remove(&pf);
	ok(access(path, F_OK) < 0 && errno == ENOENT, "removed at exit");
	is_int(pf.fd, -1, "fd closed");
	is_int(pidfile_owner(path), 0, "no owner once gone");

	/* A stale file (no lock) with longer content is taken over cleanly. */
	{
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		ok(write(fd, "1234567890\n", 11) == 11, "write a stale pid file");
		close(fd);
	}
	is_int(pidfile_create(&pf, path), 0, "stale pid file taken over");
	read_text(path, text, sizeof(text));
	is_str(text, want, "old content fully replaced");
	is_int(second_instance(path, errfile, &owner), 1, "and it is locked again");

	/* The file was replaced behind our back: never remove someone else's. */
	ok(rename(path, errfile) == 0, "move our pid file away");
	{
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		close(fd);
	}
	pidfile_remove(&pf);
	ok(access(path, F_OK) == 0, "a file that is not ours is left in place");
	unlink(path);
	unlink(errfile);

	/* A symlink planted at the path is not followed. */
	snprintf(link_path, sizeof(link_path), "%s/target", dir);
	ok(symlink(link_path, path) == 0, "plant a symlink");
	is_int(pidfile_create(&pf2, path), -1, "symlink refused (O_NOFOLLOW)");
	ok(access(link_path, F_OK) < 0, "nothing created through it");
	unlink(path);

	snprintf(path, sizeof(path), "%s/no/such/dir/x.pid", dir);
	is_int(pidfile_create(&pf2, path), -1, "missing directory fails");

	snprintf(text, sizeof(text), "rm -rf %s", dir);
	if (system(text) != 0)
		return 99;
	return tap_done();
}

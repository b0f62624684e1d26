/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * daemon.c: owns detaching from the terminal. The parent and the child share
 * a pipe: one byte from the child means "ready"; end-of-file without it
 * means the child died during start-up, and the parent reports its status.
 * This closes QEMU's gap where `-d` returned 0 before the pid file existed
 * and even when the helper failed right after.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"

#define DAEMON_READY_BYTE 'R'

static int ready_fd = -1;

/* The parent's side: never returns. */
static void
wait_for_child(pid_t child, int fd)
{
	unsigned char byte;
	ssize_t n;
	int status;

	do {
		n = read(fd, &byte, 1);
	} while (n < 0 && errno == EINTR);
	if (n == 1 && byte == DAEMON_READY_BYTE)
		_exit(0);

	while (waitpid(child, &status, 0) < 0) {
		if (errno != EINTR) {
			log_error("lost track of the helper process: %s", strerror(errno));
			_exit(1);
		}
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		_exit(WEXITSTATUS(status));
	if (WIFSIGNALED(status))
		log_error("helper process killed by signal %d during start-up",
		          WTERMSIG(status));
	else
		log_error("helper process stopped before it was ready");
	_exit(1);
}

int
daemon_start(void)
{
	int fds[2];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0) {
		log_error("cannot create readiness pipe: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		log_error("cannot fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid > 0) {
		close(fds[1]);
		wait_for_child(pid, fds[0]);
	}
	close(fds[0]);
	ready_fd = fds[1];
	/* A new session: no controlling terminal, no job-control signals. */
	if (setsid() < 0) {
		log_error("setsid: %s", strerror(errno));
		return -1;
	}
	return 0;
}

void
daemon_ready(void)
{
	unsigned char byte = DAEMON_READY_BYTE;
	int null_fd;

	/* Do not keep any directory busy (the pid file path is absolute). */
	if (chdir("/") < 0)
		log_warn("chdir /: %s", strerror(errno));
	/* From here on stderr is gone: route messages to syslog first. */
	log_use_syslog();
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null_fd >= 0) {
		dup2(null_fd, STDIN_FILENO);
		dup2(null_fd, STDOUT_FILENO);
		dup2(null_fd, STDERR_FILENO);
		if (null_fd > STDERR_FILENO)
			close(null_fd);
	}
	if (write(ready_fd, &byte, 1) != 1)
		log_warn("cannot notify the starting process: %s", strerror(errno));
	close(ready_fd);
	ready_fd = -1;
}

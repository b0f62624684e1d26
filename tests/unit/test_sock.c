/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests for sock.c: creating the listener (live sockets never stolen,
 * stale ones replaced, other files left alone), removal rules, and systemd
 * socket activation checks.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "sock.h"
#include "tap.h"

static char dir[] = "/tmp/prh-test-sock-XXXXXX";

static int
bound_socket(const char *path, int type, int do_listen)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, type, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		return -1;
	if (do_listen && listen(fd, 4) < 0)
		return -1;
	return fd;
}

static int
can_connect(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0), r;

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	r = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return r;
}

static ino_t
inode_of(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 ? st.st_ino : 0;
}

static void
test_create(void)
{
	char path[256], other[256], longp[256];
	struct listener l, l2;
	ino_t ino;
	int fd, flags;

	snprintf(path, sizeof(path), "%s/a.sock", dir);
	is_int(sock_create(&l, path), 0, "create on a free path");
	ok(l.fd >= 0 && l.owned && !l.activated, "owned, not activated");
	flags = fcntl(l.fd, F_GETFL);
	ok(flags >= 0 && (flags & O_NONBLOCK), "listener is non-blocking");
	ok(fcntl(l.fd, F_GETFD) & FD_CLOEXEC, "listener is close-on-exec");
	ok(can_connect(path), "it accepts connections");

	ino = inode_of(path);
	is_int(sock_create(&l2, path), -1, "a live socket is not replaced");
	is_int(inode_of(path), ino, "the live socket file is untouched");
	ok(can_connect(path), "and the first listener still works");

	/* The first listener vanishes without cleaning up: a stale file. */
	close(l.fd);
	ok(access(path, F_OK) == 0 && !can_connect(path), "stale socket file left behind");
	is_int(sock_create(&l2, path), 0, "a stale socket is replaced");
	ok(can_connect(path), "by a new, working socket");
	sock_close(&l2);
	ok(access(path, F_OK) < 0, "sock_close removes our socket");

	/* Something else at the path is not ours to delete. */
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	close(fd);
	is_int(sock_create(&l2, path), -1, "a regular file at the path is refused");
	ok(access(path, F_OK) == 0, "and left in place");
	unlink(path);

	/* Never remove a successor's socket. */
	is_int(sock_create(&l, path), 0, "create again");
	snprintf(other, sizeof(other), "%s/moved.sock", dir);
	ok(rename(path, other) == 0, "our socket file is moved away");
	fd = bound_socket(path, SOCK_STREAM, 1);
	ok(fd >= 0, "another socket now sits at the path");
	sock_close(&l);
	ok(access(path, F_OK) == 0, "sock_close leaves a socket that is not ours");
	close(fd);
	unlink(path);
	unlink(other);

	/* Path length: sun_path is 108 bytes, and all of them may be used. */
	memset(longp, 'x', sizeof(longp));
	snprintf(longp, sizeof(longp), "%s/", dir);
	memset(longp + strlen(longp), 'p', 108 - strlen(longp));
	longp[108] = '\0';
	is_int(strlen(longp), 108, "a 108-byte path");
	is_int(sock_create(&l, longp), 0, "108 bytes (no NUL) accepted");
	sock_close(&l);
	ok(access(longp, F_OK) < 0, "and removed again");
	longp[108] = 'p';
	longp[109] = '\0';
	is_int(sock_create(&l, longp), -1, "109 bytes refused");
}

static void
test_activation(void)
{
	unsigned long n = 99;
	char pid[32];

	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	is_int(sock_activation_count(&n), 0, "no variables: fine");
	is_int(n, 0, "no activation");

	snprintf(pid, sizeof(pid), "%ld", (long)getpid() + 1);
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "1", 1);
	is_int(sock_activation_count(&n), 0, "LISTEN_PID of another process");
	is_int(n, 0, "is ignored");
	ok(getenv("LISTEN_FDS") != NULL, "and the variables are left alone");

	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "1x", 1);
	is_int(sock_activation_count(&n), 0, "LISTEN_FDS not a number");
	is_int(n, 0, "is ignored");

	setenv("LISTEN_FDS", "0", 1);
	is_int(sock_activation_count(&n), 0, "LISTEN_FDS=0");
	ok(n == 0 && getenv("LISTEN_PID") == NULL, "means no activation, variables unset");

	/* fd 3 is a listening socket */
	{
		char path[256];
		int s;

		snprintf(path, sizeof(path), "%s/act.sock", dir);
		s = bound_socket(path, SOCK_STREAM, 1);
		ok(dup2(s, 3) == 3, "listening socket on fd 3");
		if (s != 3)
			close(s);
		setenv("LISTEN_PID", pid, 1);
		setenv("LISTEN_FDS", "1", 1);
		setenv("LISTEN_FDNAMES", "x", 1);
		is_int(sock_activation_count(&n), 0, "valid activation");
		is_int(n, 1, "one fd");
		ok(getenv("LISTEN_PID") == NULL && getenv("LISTEN_FDS") == NULL &&
		   getenv("LISTEN_FDNAMES") == NULL, "all three variables unset");
		ok(fcntl(3, F_GETFD) & FD_CLOEXEC, "fd 3 made close-on-exec");
		{
			struct listener l;

			is_int(sock_adopt(&l, 3), 0, "fd 3 adopted");
			ok(l.activated && !l.owned, "activated, never unlinked");
			is_str(l.path, path, "its path is known for logs");
			sock_close(&l);
			ok(access(path, F_OK) == 0, "sock_close leaves an activated socket");
			unlink(path);
		}
	}

	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "1", 1);
	close(3);
	is_int(sock_activation_count(&n), -1, "LISTEN_FDS names a closed fd: error");

	{
		struct listener l;
		char path[256];
		int s;

		snprintf(path, sizeof(path), "%s/nl.sock", dir);
		s = bound_socket(path, SOCK_STREAM, 0);
		is_int(sock_adopt(&l, s), -1, "a socket that is not listening is refused");
		close(s);
		unlink(path);
		s = bound_socket(path, SOCK_DGRAM, 0);
		is_int(sock_adopt(&l, s), -1, "a datagram socket is refused");
		close(s);
		unlink(path);
		s = open("/dev/null", O_RDONLY);
		is_int(sock_adopt(&l, s), -1, "a file that is not a socket is refused");
		close(s);
		s = socket(AF_INET, SOCK_STREAM, 0);
		if (s >= 0 && listen(s, 1) == 0)
			is_int(sock_adopt(&l, s), -1, "a TCP socket is refused");
		else
			ok(0, "could not create a TCP listener for the test");
		if (s >= 0)
			close(s);
	}
}

int
main(void)
{
	char cmd[128];

	log_init(0);
	if (mkdtemp(dir) == NULL)
		return 99;
	test_create();
	test_activation();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 99;
	return tap_done();
}

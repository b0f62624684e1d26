/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sock.c: owns the listening socket: systemd socket activation (without
 * libsystemd), creating the socket file without ever stealing a live
 * helper's socket, and removing only the file this process created.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "num.h"
#include "sock.h"

int
sock_activation_count(unsigned long *n_fds)
{
	unsigned long long pid, n;

	*n_fds = 0;
	if (!num_parse_decimal(getenv("LISTEN_PID"), (unsigned long long)-1, &pid) ||
	    pid != (unsigned long long)getpid())
		return 0;
	if (!num_parse_decimal(getenv("LISTEN_FDS"), (unsigned long long)-1, &n))
		return 0;

	/* The variables are for us alone; children must not see them. */
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");

	for (unsigned long long i = 0; i < n; i++) {
		unsigned long long fd = SOCK_ACTIVATION_FIRST_FD + i;

		if (fd > (unsigned long long)INT32_MAX ||
		    fcntl((int)fd, F_SETFD, FD_CLOEXEC) < 0) {
			log_error("socket activation: invalid file descriptor %llu: %s",
			          fd, strerror(fd > INT32_MAX ? EBADF : errno));
			return -1;
		}
	}
	*n_fds = (unsigned long)n;
	return 0;
}

static int
get_int_sockopt(int fd, int option, int *value)
{
	socklen_t len = sizeof(*value);

	return getsockopt(fd, SOL_SOCKET, option, value, &len);
}

int
sock_adopt(struct listener *l, int fd)
{
	struct sockaddr_un addr;
	socklen_t addr_len = sizeof(addr);
	int domain, type, listening, flags;

	memset(l, 0, sizeof(*l));
	l->fd = -1;
	if (get_int_sockopt(fd, SO_DOMAIN, &domain) < 0 ||
	    get_int_sockopt(fd, SO_TYPE, &type) < 0 ||
	    get_int_sockopt(fd, SO_ACCEPTCONN, &listening) < 0) {
		log_error("socket activation: fd %d is not a socket: %s", fd,
		          strerror(errno));
		return -1;
	}
	if (domain != AF_UNIX || type != SOCK_STREAM || !listening) {
		log_error("socket activation: fd %d is not a listening Unix stream socket",
		          fd);
		return -1;
	}
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
		log_error("socket activation: fd %d: %s", fd, strerror(errno));
		return -1;
	}
	memset(&addr, 0, sizeof(addr));
	if (getsockname(fd, (struct sockaddr *)&addr, &addr_len) == 0 &&
	    addr_len > offsetof(struct sockaddr_un, sun_path))
		memcpy(l->path, addr.sun_path,
		       addr_len - offsetof(struct sockaddr_un, sun_path));
	l->fd = fd;
	l->activated = true;
	return 0;
}

/*
 * Is a helper accepting connections on path? A non-blocking connect answers
 * at once: success or EAGAIN (backlog full) means alive, ECONNREFUSED means
 * nobody listens. Returns 1 alive, 0 stale, -1 undecidable (errno set).
 */
static int
socket_is_live(const struct sockaddr_un *addr, socklen_t len)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int r;

	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)addr, len) == 0 ||
	    errno == EAGAIN || errno == EINPROGRESS)
		r = 1;
	else if (errno == ECONNREFUSED || errno == ENOENT)
		r = 0;
	else
		r = -1;
	close(fd);
	return r;
}

/*
 * Serialise helpers starting in the same directory: between the liveness
 * probe and bind() another instance could otherwise slip in. An advisory
 * lock on the directory itself leaves no file behind. Returns the locked
 * directory fd, or -1 if the directory cannot be opened (then no lock).
 */
static int
lock_parent_dir(const char *path)
{
	char copy[sizeof(((struct listener *)0)->path)];
	int fd;

	snprintf(copy, sizeof(copy), "%s", path);
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

/* Remove a stale socket file at path, refusing live sockets and non-sockets. */
static int
clear_path(const char *path, const struct sockaddr_un *addr, socklen_t len)
{
	struct stat st;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		log_error("cannot check socket path '%s': %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		log_error("'%s' exists and is not a socket; not replacing it", path);
		return -1;
	}
	switch (socket_is_live(addr, len)) {
	case 1:
		log_error("another helper is listening on '%s'; not replacing its socket",
		          path);
		return -1;
	case 0:
		break;
	default:
		log_error("cannot check whether socket '%s' is in use: %s", path,
		          strerror(errno));
		return -1;
	}
	log_info("replacing stale socket '%s'", path);
	if (unlink(path) < 0 && errno != ENOENT) {
		log_error("cannot remove stale socket '%s': %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int
sock_create(struct listener *l, const char *path)
{
	struct sockaddr_un addr;
	size_t path_len = strlen(path);
	socklen_t addr_len;
	struct stat st;
	int dir_fd, fd;

	memset(l, 0, sizeof(*l));
	l->fd = -1;
	/* The path may fill sun_path completely (no NUL), as Linux allows. */
	if (path_len > sizeof(addr.sun_path)) {
		log_error("socket path '%s' is too long (at most %zu bytes)", path,
		          sizeof(addr.sun_path));
		return -1;
	}
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	memcpy(addr.sun_path, path, path_len);
	addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + path_len);
	memcpy(l->path, path, path_len);

	dir_fd = lock_parent_dir(path);
	if (clear_path(path, &addr, addr_len) < 0)
		goto fail;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_error("cannot create socket: %s", strerror(errno));
		goto fail;
	}
	if (bind(fd, (struct sockaddr *)&addr, addr_len) < 0) {
		log_error("cannot bind socket to '%s': %s", path, strerror(errno));
		close(fd);
		goto fail;
	}
	/* QEMU's helper listens with a backlog of 1; a node-wide helper gets
	 * bursts of connections when many VMs start at once. The kernel caps
	 * the value at net.core.somaxconn, the system's maximum (musl's
	 * SOMAXCONN constant is an outdated 128). */
	if (listen(fd, INT_MAX) < 0 || stat(path, &st) < 0) {
		log_error("cannot listen on '%s': %s", path, strerror(errno));
		unlink(path);
		close(fd);
		goto fail;
	}
	if (dir_fd >= 0)
		close(dir_fd);
	l->fd = fd;
	l->owned = true;
	l->dev = st.st_dev;
	l->ino = st.st_ino;
	return 0;

fail:
	if (dir_fd >= 0)
		close(dir_fd);
	return -1;
}

void
sock_close(struct listener *l)
{
	struct stat st;

	if (l->fd < 0)
		return;
	if (l->owned && lstat(l->path, &st) == 0 && st.st_dev == l->dev &&
	    st.st_ino == l->ino) {
		if (unlink(l->path) < 0) {
			/* Expected after dropping to a user that cannot write the
			 * directory; the next start replaces the stale file. */
			if (errno == EACCES || errno == EPERM)
				log_debug("cannot remove socket '%s': %s", l->path,
				          strerror(errno));
			else if (errno != ENOENT)
				log_warn("cannot remove socket '%s': %s", l->path,
				         strerror(errno));
		}
	}
	close(l->fd);
	l->fd = -1;
}

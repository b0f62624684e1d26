/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sock.h: the listening socket, either created on a path or inherited from
 * systemd socket activation.
 */
#ifndef PRH_SOCK_H
#define PRH_SOCK_H

#include <stdbool.h>
#include <sys/types.h>
#include <sys/un.h>

struct listener {
	int fd;
	bool activated;     /* inherited from systemd: never unlinked */
	bool owned;         /* we bound the path: unlink it when we stop */
	dev_t dev;          /* identity of the socket file we bound, so that */
	ino_t ino;          /* we never unlink a successor's socket */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
};

#define SOCK_ACTIVATION_FIRST_FD 3   /* SD_LISTEN_FDS_START */

/*
 * Check systemd socket activation: LISTEN_PID must be this process's pid
 * and LISTEN_FDS a decimal number. If they are, unset LISTEN_PID,
 * LISTEN_FDS and LISTEN_FDNAMES and mark the passed fds close-on-exec.
 * Stores the number of passed fds in *n_fds (0: no activation).
 * Returns 0, or -1 after logging an error.
 */
int sock_activation_count(unsigned long *n_fds);

/* Use an activated fd: it must be a listening AF_UNIX stream socket.
 * Returns 0, or -1 after logging an error. */
int sock_adopt(struct listener *l, int fd);

/*
 * Create a listening socket at path. A live socket (one that accepts a
 * connection) is never replaced; a stale one (connection refused) is; any
 * other file at the path is left alone and is an error. Returns 0, or -1
 * after logging an error.
 */
int sock_create(struct listener *l, const char *path);

/* Close the listener; unlink its path if we created it and it is still
 * ours. Quiet when privileges no longer allow the unlink. */
void sock_close(struct listener *l);

#endif /* PRH_SOCK_H */

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * server.h: the poll() loop that owns the listening socket and every client
 * connection.
 */
#ifndef PRH_SERVER_H
#define PRH_SERVER_H

#include "sock.h"

/* Default cap on simultaneous connections (--max-connections). While the
 * table is full the listener is not polled; new clients wait in the
 * listen backlog. */
#define SERVER_DEFAULT_MAX_CONNECTIONS 1024u

/* After a stop signal, replies still being written get this long. */
#define SERVER_STOP_DRAIN_S 5

/* After EMFILE/ENFILE from accept(), wait this long before retrying unless
 * a connection closes first. */
#define SERVER_ACCEPT_RETRY_MS 1000

struct server;

/*
 * Allocate the loop's tables, prepare libsgutils2 and start the worker
 * threads (at most max_threads of them, see worker.h). Threads inherit the caller's capabilities, so call it after
 * dropping privileges. Returns NULL after logging an error.
 */
struct server *server_start(struct listener *listener, int sig_fd,
                            unsigned max_connections, unsigned max_threads);

/*
 * Serve until a stop signal arrives on sig_fd, then stop gracefully: close
 * the listener (sock_close), drop idle and half-read connections, let
 * requests in flight finish and their replies go out. Returns 0 after a
 * clean stop, -1 after logging an internal error.
 */
int server_run(struct server *s);

/* Stop the workers and free everything server_start() made. */
void server_stop(struct server *s);

#endif /* PRH_SERVER_H */

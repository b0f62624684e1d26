/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conn.h: one client connection and its protocol state machine.
 *
 * A connection belongs to the poll() loop, except from the moment the loop
 * hands a complete request to the workers until a worker hands the
 * connection back (in_worker): a worker runs the command, writes the
 * reply and may read the client's next request meanwhile. Ownership passes
 * through the worker queues (worker.h), which order the memory accesses.
 */
#ifndef PRH_CONN_H
#define PRH_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "prh.h"

enum conn_state {
	CONN_SEND_FEATURES,   /* our 4-byte feature word is being written */
	CONN_RECV_FEATURES,   /* reading the client's feature word */
	CONN_RECV_CDB,        /* reading a 16-byte CDB and its fd */
	CONN_RECV_PARAMS,     /* reading a PR OUT parameter list */
	CONN_EXECUTING,       /* a worker runs the command */
	CONN_SEND_REPLY,      /* the reply is partly written */
	CONN_CLOSING          /* to be closed by the loop */
};

/* What the loop should do with the connection next. */
enum conn_next {
	CONN_NEXT_READ,       /* poll for POLLIN */
	CONN_NEXT_WRITE,      /* poll for POLLOUT */
	CONN_NEXT_EXECUTE,    /* a request is complete: hand it to a worker */
	CONN_NEXT_CLOSE       /* close it (close_reason says why) */
};

struct conn {
	int fd;
	enum conn_state state;
	uint32_t done;              /* bytes done in the current state */
	int dev_fd;                 /* the request's device, -1 if none yet */
	uint16_t len;               /* transfer length from the CDB */
	uint8_t features[PRH_FEATURES_SIZE];
	uint8_t cdb[PRH_CDB_SIZE];
	uint8_t *data;              /* PRH_MAX_DATA bytes while a request needs them */
	uint8_t reply[PRH_REPLY_HDR_SIZE];
	uint32_t reply_len;         /* header + payload */
	const char *close_reason;
	pid_t peer_pid;
	uid_t peer_uid;
	gid_t peer_gid;
	unsigned slot;              /* index in the loop's tables */
	bool in_worker;             /* handed to the workers and not yet back:
	                               whatever its state, the loop must not
	                               touch it (loop thread only) */
	struct conn *next;          /* link in a worker queue */
	uint64_t started_ns;        /* when the request was handed over */
	unsigned submit_seq;        /* the hand-over that brought it, if it
	                               came alone (worker.c); 0 otherwise */
};

/* The socket calls the state machine makes. The fuzzer (tests/fuzz)
 * replaces them to drive connections without sockets; the helper always
 * uses the real ones. */
struct conn_io {
	ssize_t (*recvmsg)(int fd, struct msghdr *msg, int flags);
	ssize_t (*sendmsg)(int fd, const struct msghdr *msg, int flags);
};

/* Use ops for every connection (NULL: the real socket calls). */
void conn_set_io(const struct conn_io *ops);

/* Set up a connection on an accepted, non-blocking socket and try to write
 * the feature word. Reads the peer's credentials (SO_PEERCRED). */
void conn_init(struct conn *c, int fd);

/*
 * Advance the state machine as far as the socket allows without blocking
 * (reading, or writing a pending reply). For CONN_NEXT_EXECUTE the request
 * is in cdb/len/dev_fd/data. get_buffer is called when a request needs
 * its PRH_MAX_DATA buffer; it may return NULL (then the connection closes).
 */
enum conn_next conn_advance(struct conn *c, uint8_t *(*get_buffer)(void *),
                            void *ctx);

/* Write as much of the reply as the socket takes. Returns 1 when all of it
 * is written (the connection is then ready for the next CDB), 0 if the rest
 * must wait for POLLOUT, -1 if the client is gone (close_reason set). Safe
 * on a worker thread that owns the connection. */
int conn_send_reply(struct conn *c);

/* Close the socket and any device fd. The data buffer is the caller's. */
void conn_close_fds(struct conn *c);

#endif /* PRH_CONN_H */

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conn.c: owns the bytes and file descriptors of one client connection:
 * the feature exchange, reading a CDB with exactly one SCM_RIGHTS fd,
 * reading a PR OUT parameter list, and writing the reply. It never blocks
 * (every socket call is non-blocking) and knows nothing about SCSI beyond
 * the CDB checks of proto.c. Every way a client can break the protocol
 * ends here in CONN_NEXT_CLOSE with a reason; none reaches an exit path.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "conn.h"
#include "log.h"
#include "proto.h"
#include "trace.h"

static const struct conn_io socket_io = { recvmsg, sendmsg };
static const struct conn_io *io = &socket_io;

void
conn_set_io(const struct conn_io *ops)
{
	io = ops != NULL ? ops : &socket_io;
}

/* recv() and send() through the I/O table. */
static ssize_t
recv_plain(struct conn *c, void *buf, size_t len)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	return io->recvmsg(c->fd, &msg, MSG_DONTWAIT);
}

static ssize_t
send_plain(struct conn *c, const void *buf, size_t len)
{
	struct iovec iov = { .iov_base = (void *)(uintptr_t)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	return io->sendmsg(c->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* Room for this many fds per recvmsg. More than one per request is a
 * violation anyway; more than fit sets MSG_CTRUNC and the kernel closes
 * the excess. */
#define CONN_MAX_FDS_PER_RECV 16

void
conn_init(struct conn *c, int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->dev_fd = -1;
	c->peer_pid = -1;
	c->peer_uid = (uid_t)-1;
	c->peer_gid = (gid_t)-1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
		c->peer_pid = cred.pid;
		c->peer_uid = cred.uid;
		c->peer_gid = cred.gid;
	}
	/* The feature word is all zeros: no optional feature is defined. */
	c->state = CONN_SEND_FEATURES;
}

static enum conn_next
close_because(struct conn *c, const char *reason)
{
	c->close_reason = reason;
	c->state = CONN_CLOSING;
	return CONN_NEXT_CLOSE;
}

/* A protocol violation: logged (at the given level) and closed. */
static enum conn_next
violation(struct conn *c, bool loud, const char *reason)
{
	if (loud)
		log_warn("client fd %d (pid %ld): %s; closing the connection",
		         c->fd, (long)c->peer_pid, reason);
	else
		log_info("client fd %d (pid %ld): %s; closing the connection",
		         c->fd, (long)c->peer_pid, reason);
	return close_because(c, reason);
}

static bool
would_block(int err)
{
	return err == EAGAIN || err == EWOULDBLOCK;
}

/* Take the fds of one recvmsg. Returns false on a violation (every fd
 * received is closed then). */
static bool
take_fds(struct conn *c, struct msghdr *msg, const char **reason)
{
	bool ok = true;

	for (struct cmsghdr *cm = CMSG_FIRSTHDR(msg); cm != NULL;
	     cm = CMSG_NXTHDR(msg, cm)) {
		size_t n;
		int *fds;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		fds = (int *)(void *)CMSG_DATA(cm);
		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, &fds[i], sizeof(fd));
			if (ok && c->dev_fd < 0) {
				c->dev_fd = fd;
				continue;
			}
			/* Exactly one fd per request; QEMU's helper closes them
			 * all and the connection with them. */
			close(fd);
			ok = false;
			*reason = "more than one file descriptor in a request";
		}
	}
	if (msg->msg_flags & MSG_CTRUNC) {
		ok = false;
		*reason = "ancillary data truncated (too many file descriptors)";
	}
	if (!ok && c->dev_fd >= 0) {
		close(c->dev_fd);
		c->dev_fd = -1;
	}
	return ok;
}

/* Read CDB bytes with their ancillary data. Returns bytes read, 0 on EOF,
 * -1 with errno set, or -2 on a violation (reason set). */
static ssize_t
recv_cdb_bytes(struct conn *c, const char **reason)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * CONN_MAX_FDS_PER_RECV)];
	} control;
	struct iovec iov = {
		.iov_base = c->cdb + c->done,
		.iov_len = PRH_CDB_SIZE - c->done,
	};
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	ssize_t n;

	n = io->recvmsg(c->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return -1;
	if (!take_fds(c, &msg, reason))
		return -2;
	return n;
}

/* A whole CDB is in: check it, in QEMU's helper's order. */
static enum conn_next
cdb_complete(struct conn *c, uint8_t *(*get_buffer)(void *), void *ctx)
{
	bool needs_buffer;

	if (c->dev_fd < 0)
		return violation(c, true, "request without a file descriptor");
	switch (proto_check_cdb(c->cdb, &c->len)) {
	case PROTO_OK:
		break;
	case PROTO_BAD_OPCODE:
		log_warn("client fd %d (pid %ld): invalid CDB (opcode 0x%02x); "
		         "closing the connection", c->fd, (long)c->peer_pid, c->cdb[0]);
		return close_because(c, "invalid CDB");
	case PROTO_TOO_LONG:
		return violation(c, false, "transfer length above 8192 bytes");
	}
	TRACE(TRACE_REQUEST_DECODED,
	      "fd=%d opcode=0x%02x sa=0x%02x len=%u dev_fd=%d",
	      c->fd, c->cdb[0], c->cdb[1] & 0x1f, c->len, c->dev_fd);

	/* PR IN always reads into a full buffer (as QEMU does); PR OUT
	 * needs one only for a non-empty parameter list. */
	needs_buffer = c->cdb[0] == PRH_OP_PR_IN || c->len > 0;
	if (needs_buffer && c->data == NULL) {
		c->data = get_buffer(ctx);
		if (c->data == NULL)
			return violation(c, true, "out of memory for a request buffer");
	}
	c->done = 0;
	if (c->cdb[0] == PRH_OP_PR_OUT && c->len > 0) {
		c->state = CONN_RECV_PARAMS;
		return CONN_NEXT_READ;
	}
	c->state = CONN_EXECUTING;
	return CONN_NEXT_EXECUTE;
}

int
conn_send_reply(struct conn *c)
{
	while (c->done < c->reply_len) {
		struct iovec iov[2];
		struct msghdr msg;
		int n_iov = 0;
		ssize_t n;

		memset(&msg, 0, sizeof(msg));
		if (c->done < PRH_REPLY_HDR_SIZE) {
			iov[n_iov].iov_base = c->reply + c->done;
			iov[n_iov].iov_len = PRH_REPLY_HDR_SIZE - c->done;
			n_iov++;
			if (c->reply_len > PRH_REPLY_HDR_SIZE) {
				iov[n_iov].iov_base = c->data;
				iov[n_iov].iov_len = c->reply_len - PRH_REPLY_HDR_SIZE;
				n_iov++;
			}
		} else {
			iov[n_iov].iov_base = c->data + (c->done - PRH_REPLY_HDR_SIZE);
			iov[n_iov].iov_len = c->reply_len - c->done;
			n_iov++;
		}
		msg.msg_iov = iov;
		msg.msg_iovlen = (size_t)n_iov;
		n = io->sendmsg(c->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (would_block(errno))
				return 0;
			c->close_reason = "client gone while the reply was written";
			c->state = CONN_CLOSING;
			return -1;
		}
		c->done += (uint32_t)n;
	}
	TRACE(TRACE_REPLY_SENT, "fd=%d status=0x%02x size=%u", c->fd,
	      c->reply[3], c->reply_len - PRH_REPLY_HDR_SIZE);
	c->done = 0;
	c->state = CONN_RECV_CDB;
	return 1;
}

/* A state step either finishes the call with a conn_next value or asks
 * for another round of the loop. */
#define STEP_AGAIN (-1)

/* A failed non-blocking socket call: retry, wait for poll(), or close. */
static int
io_failed(struct conn *c, enum conn_next when_blocked, const char *reason)
{
	if (errno == EINTR)
		return STEP_AGAIN;
	if (would_block(errno))
		return (int)when_blocked;
	return (int)close_because(c, reason);
}

static int
step_send_features(struct conn *c)
{
	static const uint8_t no_features[PRH_FEATURES_SIZE];
	ssize_t n = send_plain(c, no_features + c->done, PRH_FEATURES_SIZE - c->done);

	if (n < 0)
		return io_failed(c, CONN_NEXT_WRITE,
		                 "client gone before the feature exchange");
	c->done += (uint32_t)n;
	if (c->done == PRH_FEATURES_SIZE) {
		c->done = 0;
		c->state = CONN_RECV_FEATURES;
	}
	return STEP_AGAIN;
}

static int
step_recv_features(struct conn *c)
{
	/* Plain recv: fds sent with the feature word are dropped by the
	 * kernel, as they are by QEMU's helper. */
	ssize_t n = recv_plain(c, c->features + c->done, PRH_FEATURES_SIZE - c->done);

	if (n == 0)
		return (int)close_because(c, "end of file during the feature exchange");
	if (n < 0)
		return io_failed(c, CONN_NEXT_READ,
		                 "receive error during the feature exchange");
	c->done += (uint32_t)n;
	if (c->done < PRH_FEATURES_SIZE)
		return STEP_AGAIN;
	/* We support no feature, so any bit set is one we lack. */
	if (proto_get_be32(c->features) != 0)
		return (int)violation(c, false, "client requested unsupported features");
	c->done = 0;
	c->state = CONN_RECV_CDB;
	return STEP_AGAIN;
}

static int
step_recv_cdb(struct conn *c, uint8_t *(*get_buffer)(void *), void *ctx)
{
	const char *reason = NULL;
	enum conn_next next;
	ssize_t n = recv_cdb_bytes(c, &reason);

	if (n == -2)
		return (int)violation(c, false, reason);
	if (n == 0) {
		if (c->done == 0 && c->dev_fd < 0)
			return (int)close_because(c, "client closed the connection");
		return (int)violation(c, false, "end of file in the middle of a CDB");
	}
	if (n < 0)
		return io_failed(c, CONN_NEXT_READ, "receive error");
	c->done += (uint32_t)n;
	if (c->done < PRH_CDB_SIZE)
		return STEP_AGAIN;
	next = cdb_complete(c, get_buffer, ctx);
	/* The parameter list may already be waiting. */
	return c->state == CONN_RECV_PARAMS ? STEP_AGAIN : (int)next;
}

static int
step_recv_params(struct conn *c)
{
	/* Plain recv, as for the feature word: fds here are not part of the
	 * protocol and the kernel drops them. */
	ssize_t n = recv_plain(c, c->data + c->done, c->len - c->done);

	if (n == 0)
		return (int)violation(c, true, "end of file before the whole parameter list");
	if (n < 0)
		return io_failed(c, CONN_NEXT_READ, "receive error");
	c->done += (uint32_t)n;
	if (c->done < c->len)
		return STEP_AGAIN;
	c->done = 0;
	c->state = CONN_EXECUTING;
	return CONN_NEXT_EXECUTE;
}

enum conn_next
conn_advance(struct conn *c, uint8_t *(*get_buffer)(void *), void *ctx)
{
	int r = STEP_AGAIN;

	while (r == STEP_AGAIN) {
		switch (c->state) {
		case CONN_SEND_FEATURES:
			r = step_send_features(c);
			break;
		case CONN_RECV_FEATURES:
			r = step_recv_features(c);
			break;
		case CONN_RECV_CDB:
			r = step_recv_cdb(c, get_buffer, ctx);
			break;
		case CONN_RECV_PARAMS:
			r = step_recv_params(c);
			break;
		case CONN_SEND_REPLY:
			/* Once written, the loop decides whether to read the next
			 * request (not while stopping). */
			switch (conn_send_reply(c)) {
			case 1:
				return CONN_NEXT_READ;
			case 0:
				return CONN_NEXT_WRITE;
			default:
				return CONN_NEXT_CLOSE;
			}
		case CONN_EXECUTING:
			/* Owned by a worker: the loop never polls it. */
			return CONN_NEXT_EXECUTE;
		case CONN_CLOSING:
			return CONN_NEXT_CLOSE;
		}
	}
	return (enum conn_next)r;
}

void
conn_close_fds(struct conn *c)
{
	if (c->dev_fd >= 0) {
		close(c->dev_fd);
		c->dev_fd = -1;
	}
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
}

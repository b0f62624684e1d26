/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_conn.c: a libFuzzer target for the protocol state machine (conn.c)
 * and the codec it uses (proto.c). The input (fuzz_conn.h) scripts what a
 * client sends, split at arbitrary points and with fds attached anywhere,
 * and when the loop runs. Sockets are replaced by an in-memory fake behind
 * conn_set_io(); the executor is a stub. Checked on every run:
 *   - a request handed to the executor is well formed: opcode 0x5E/0x5F,
 *     length <= 8192, exactly one open device fd, a buffer when needed;
 *   - the feature word sent is zero; no reply claims more payload than
 *     the allocation length;
 *   - CONN_NEXT_WRITE only after a send would block;
 *   - every fd the fake ever handed over is closed when the connection is.
 * A violated check aborts, which libFuzzer reports as a crash.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "fuzz_conn.h"
#include "log.h"
#include "prh.h"
#include "proto.h"

#define MAX_CHUNKS   512
#define CHUNK_MAX    255
#define MAX_TRACKED  4096

struct chunk {
	uint8_t data[CHUNK_MAX];
	size_t len, off;
	int n_fds;
	bool ctrunc;
	bool fds_given;
};

static struct {
	struct chunk q[MAX_CHUNKS];
	unsigned head, tail;
	bool eof, reset, wouldblock_once;
	bool room_limited;
	size_t room;
	bool send_blocked;          /* the last send returned EAGAIN */
	size_t sent;                /* bytes the helper wrote */
	uint8_t features_sent[PRH_FEATURES_SIZE];
	int tracked[MAX_TRACKED];   /* every fd handed to the state machine */
	unsigned n_tracked;
	int null_fd;
} fake;

#define CHECK(cond)                                                          \
	do {                                                                     \
		if (!(cond)) {                                                       \
			fprintf(stderr, "fuzz_conn: check failed: %s (line %d)\n",      \
			        #cond, __LINE__);                                        \
			abort();                                                         \
		}                                                                    \
	} while (0)

static int
new_fd(void)
{
	int fd = fcntl(fake.null_fd, F_DUPFD_CLOEXEC, 3);

	CHECK(fd >= 0);
	if (fake.n_tracked < MAX_TRACKED)
		fake.tracked[fake.n_tracked++] = fd;
	return fd;
}

static ssize_t
fake_recvmsg(int fd, struct msghdr *msg, int flags)
{
	struct chunk *ch;
	size_t n;

	(void)fd;
	(void)flags;
	msg->msg_flags = 0;
	if (fake.reset) {
		errno = ECONNRESET;
		return -1;
	}
	if (fake.wouldblock_once || fake.head == fake.tail) {
		fake.wouldblock_once = false;
		if (fake.head == fake.tail && fake.eof) {
			msg->msg_controllen = 0;
			return 0;
		}
		errno = EAGAIN;
		return -1;
	}
	ch = &fake.q[fake.head];
	n = ch->len - ch->off;
	if (n > msg->msg_iov[0].iov_len)
		n = msg->msg_iov[0].iov_len;
	memcpy(msg->msg_iov[0].iov_base, ch->data + ch->off, n);
	ch->off += n;

	/* Like the kernel: fds come with the first bytes of their message,
	 * as many as fit in the control buffer; the rest are dropped. */
	if (!ch->fds_given && ch->n_fds > 0) {
		int fit = 0, give;

		ch->fds_given = true;
		while (msg->msg_control != NULL && fit < ch->n_fds &&
		       CMSG_SPACE(sizeof(int) * (size_t)(fit + 1)) <= msg->msg_controllen)
			fit++;
		give = fit;
		if (give > 0) {
			struct cmsghdr *cm = CMSG_FIRSTHDR(msg);
			int fds[FUZZ_FLAG_FDS_MASK + 1];

			CHECK(cm != NULL);
			for (int i = 0; i < give; i++)
				fds[i] = new_fd();
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)give);
			memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)give);
			msg->msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)give);
		} else {
			msg->msg_controllen = 0;
		}
		if (give < ch->n_fds || ch->ctrunc)
			msg->msg_flags |= MSG_CTRUNC;
	} else {
		msg->msg_controllen = 0;
	}
	if (ch->off == ch->len)
		fake.head++;
	return (ssize_t)n;
}

static ssize_t
fake_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	size_t total = 0, n, done = 0;

	(void)fd;
	(void)flags;
	if (fake.reset) {
		errno = EPIPE;
		return -1;
	}
	for (size_t i = 0; i < msg->msg_iovlen; i++)
		total += msg->msg_iov[i].iov_len;
	n = total;
	if (fake.room_limited && n > fake.room)
		n = fake.room;
	if (n == 0 && total > 0) {
		fake.send_blocked = true;
		errno = EAGAIN;
		return -1;
	}
	if (fake.room_limited)
		fake.room -= n;
	/* Record the first bytes ever written: the feature word. */
	for (size_t i = 0; i < msg->msg_iovlen && done < n; i++) {
		const uint8_t *p = msg->msg_iov[i].iov_base;

		for (size_t j = 0; j < msg->msg_iov[i].iov_len && done < n; j++, done++) {
			if (fake.sent + done < PRH_FEATURES_SIZE)
				fake.features_sent[fake.sent + done] = p[j];
		}
	}
	fake.sent += n;
	return (ssize_t)n;
}

static const struct conn_io fake_io = { fake_recvmsg, fake_sendmsg };

static uint8_t *
get_buffer(void *ctx)
{
	(void)ctx;
	return malloc(PRH_MAX_DATA);
}

/* What the worker does, with a scripted answer instead of SG_IO. */
static void
execute(struct conn *c, uint8_t status, uint16_t want_size)
{
	struct proto_reply reply;
	uint16_t len = proto_transfer_length(c->cdb);

	CHECK(c->state == CONN_EXECUTING);
	CHECK(c->cdb[0] == PRH_OP_PR_IN || c->cdb[0] == PRH_OP_PR_OUT);
	CHECK(c->len == len && len <= PRH_MAX_DATA);
	CHECK(c->dev_fd >= 0 && fcntl(c->dev_fd, F_GETFD) >= 0);
	CHECK(c->cdb[0] == PRH_OP_PR_OUT && len == 0 ? true : c->data != NULL);

	close(c->dev_fd);
	c->dev_fd = -1;
	proto_reply_init(&reply);
	reply.status = status;
	if (status != PRH_STATUS_GOOD || c->cdb[0] != PRH_OP_PR_IN)
		reply.size = 0;
	else
		reply.size = want_size < len ? want_size : len;
	CHECK(reply.size <= len);
	if (reply.size > 0)
		memset(c->data, 0xa5, reply.size);
	proto_encode_reply(&reply, c->reply);
	c->reply_len = PRH_REPLY_HDR_SIZE + reply.size;
	c->done = 0;
	c->state = CONN_SEND_REPLY;
}

/* The loop's reaction to conn_advance(); false once closed. */
static bool
apply(struct conn *c, enum conn_next next, uint8_t status, uint16_t size)
{
	switch (next) {
	case CONN_NEXT_EXECUTE:
		execute(c, status, size);
		fake.send_blocked = false;
		switch (conn_send_reply(c)) {
		case 1:
			break;
		case 0:
			CHECK(fake.send_blocked);
			break;
		default:
			CHECK(c->state == CONN_CLOSING);
			conn_close_fds(c);
			return false;
		}
		return true;
	case CONN_NEXT_WRITE:
		CHECK(fake.send_blocked);
		return true;
	case CONN_NEXT_READ:
		if (c->state == CONN_RECV_CDB && c->done == 0 && c->dev_fd < 0) {
			free(c->data);
			c->data = NULL;
		}
		return true;
	case CONN_NEXT_CLOSE:
		CHECK(c->state == CONN_CLOSING && c->close_reason != NULL);
		conn_close_fds(c);
		return false;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	struct conn c;
	size_t i = 0;
	bool open_conn;
	uint8_t status = 0;
	uint16_t reply_size = 0;

	memset(&fake, 0, sizeof(fake));
	fake.null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	CHECK(fake.null_fd >= 0);
	log_init(LOG_VERBOSITY_QUIET);
	conn_set_io(&fake_io);

	conn_init(&c, new_fd());
	fake.send_blocked = false;
	open_conn = apply(&c, conn_advance(&c, get_buffer, NULL), 0, 0);

	while (open_conn && i < size) {
		switch (in[i++] % OP_COUNT) {
		case OP_DATA: {
			struct chunk *ch;

			if (i + 2 > size || fake.tail == MAX_CHUNKS)
				goto out;
			ch = &fake.q[fake.tail];
			memset(ch, 0, sizeof(*ch));
			ch->len = in[i++];
			ch->n_fds = in[i] & FUZZ_FLAG_FDS_MASK;
			ch->ctrunc = (in[i] & FUZZ_FLAG_CTRUNC) != 0;
			i++;
			if (ch->len == 0 || i + ch->len > size)
				goto out;
			memcpy(ch->data, in + i, ch->len);
			i += ch->len;
			fake.tail++;
			break;
		}
		case OP_WOULDBLOCK:
			fake.wouldblock_once = true;
			break;
		case OP_EOF:
			fake.eof = true;
			break;
		case OP_ADVANCE:
			fake.send_blocked = false;
			open_conn = apply(&c, conn_advance(&c, get_buffer, NULL), status,
			                  reply_size);
			break;
		case OP_SEND_ROOM:
			if (i >= size)
				goto out;
			fake.room_limited = true;
			fake.room = in[i++] * 4u;
			break;
		case OP_RESET:
			fake.reset = true;
			break;
		case OP_REPLY:
			if (i + 3 > size)
				goto out;
			status = in[i];
			reply_size = (uint16_t)(in[i + 1] << 8 | in[i + 2]);
			i += 3;
			break;
		}
	}
out:
	if (open_conn)
		conn_close_fds(&c);
	free(c.data);

	/* The helper's first bytes are always the zero feature word. */
	for (size_t k = 0; k < PRH_FEATURES_SIZE && k < fake.sent; k++)
		CHECK(fake.features_sent[k] == 0);
	/* Nothing handed over may outlive the connection. */
	for (unsigned k = 0; k < fake.n_tracked; k++)
		CHECK(fcntl(fake.tracked[k], F_GETFD) < 0 && errno == EBADF);
	close(fake.null_fd);
	conn_set_io(NULL);
	return 0;
}

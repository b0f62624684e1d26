/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests for conn.c over a socketpair: the feature exchange, CDBs split
 * across reads, the one-fd-per-request rule (and that every extra fd is
 * closed), parameter lists, violations, and reply writing. No helper
 * process, no device: the state machine alone.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "log.h"
#include "prh.h"
#include "tap.h"

static int n_buffers;

static uint8_t *
get_buffer(void *ctx)
{
	(void)ctx;
	n_buffers++;
	return malloc(PRH_MAX_DATA);
}

static int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	while (d != NULL && readdir(d) != NULL)
		n++;
	if (d != NULL)
		closedir(d);
	return n;
}

/* Send bytes with n_fds copies of fd attached. */
static void
send_with_fds(int sock, const void *buf, size_t len, int fd, int n_fds)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 32)];
	} control;
	struct iovec iov = { .iov_base = (void *)(uintptr_t)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (n_fds > 0) {
		int fds[32];
		struct cmsghdr *cm;

		for (int i = 0; i < n_fds; i++)
			fds[i] = fd;
		memset(&control, 0, sizeof(control));
		msg.msg_control = control.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)n_fds);
		cm = CMSG_FIRSTHDR(&msg);
		if (cm == NULL)
			abort();
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)n_fds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)n_fds);
	}
	if (sendmsg(sock, &msg, 0) != (ssize_t)len)
		abort();
}

struct pair {
	struct conn c;
	int client;
};

/* A connection past the feature exchange, ready for a CDB. */
static void
open_pair(struct pair *p)
{
	int sv[2];
	uint8_t features[4];
	static const uint8_t zero[4];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0)
		abort();
	p->client = sv[1];
	conn_init(&p->c, sv[0]);
	if (conn_advance(&p->c, get_buffer, NULL) != CONN_NEXT_READ ||
	    recv(p->client, features, 4, 0) != 4 || send(p->client, zero, 4, 0) != 4 ||
	    conn_advance(&p->c, get_buffer, NULL) != CONN_NEXT_READ ||
	    p->c.state != CONN_RECV_CDB)
		abort();
}

static void
close_pair(struct pair *p)
{
	conn_close_fds(&p->c);
	free(p->c.data);
	p->c.data = NULL;
	close(p->client);
}

static void
cdb_for(uint8_t cdb[16], uint8_t op, unsigned len)
{
	memset(cdb, 0, 16);
	cdb[0] = op;
	cdb[7] = (uint8_t)(len >> 8);
	cdb[8] = (uint8_t)len;
}

static void
test_features(void)
{
	struct conn c;
	uint8_t got[8];
	int sv[2], base = count_fds();

	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
	conn_init(&c, sv[0]);
	is_int(c.state, CONN_SEND_FEATURES, "a new connection starts with our features");
	is_int(conn_advance(&c, get_buffer, NULL), CONN_NEXT_READ,
	       "features written at once, then waits for the client's");
	ok(recv(sv[1], got, sizeof(got), 0) == 4 && memcmp(got, "\0\0\0\0", 4) == 0,
	   "the helper sends exactly 4 zero bytes");
	send(sv[1], "\0\0", 2, 0);
	is_int(conn_advance(&c, get_buffer, NULL), CONN_NEXT_READ, "half a feature word");
	is_int(c.state, CONN_RECV_FEATURES, "still in the feature exchange");
	send(sv[1], "\0\1", 2, 0);
	is_int(conn_advance(&c, get_buffer, NULL), CONN_NEXT_CLOSE,
	       "a non-zero feature request closes");
	conn_close_fds(&c);
	close(sv[1]);

	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
	conn_init(&c, sv[0]);
	close(sv[1]);
	is_int(conn_advance(&c, get_buffer, NULL), CONN_NEXT_CLOSE,
	       "client gone before the exchange: close");
	conn_close_fds(&c);
	is_int(count_fds(), base, "no fd left behind");
}

static void
test_requests(void)
{
	struct pair p;
	uint8_t cdb[16];
	int dev = open("/dev/null", O_RDWR), base;

	base = count_fds();
	open_pair(&p);
	cdb_for(cdb, PRH_OP_PR_IN, 100);
	send_with_fds(p.client, cdb, 1, dev, 0);
	is_int(conn_advance(&p.c, get_buffer, NULL), CONN_NEXT_READ, "one CDB byte: wait");
	send_with_fds(p.client, cdb + 1, 15, dev, 1);
	is_int(conn_advance(&p.c, get_buffer, NULL), CONN_NEXT_EXECUTE,
	       "the rest with the fd: execute");
	ok(p.c.dev_fd >= 0 && p.c.dev_fd != dev, "the fd was received");
	ok(fcntl(p.c.dev_fd, F_GETFD) & FD_CLOEXEC, "received close-on-exec");
	is_int(p.c.len, 100, "allocation length");
	ok(p.c.data != NULL, "PR IN gets a buffer");
	is_int(p.c.state, CONN_EXECUTING, "state EXECUTING");
	close_pair(&p);
	is_int(count_fds(), base, "no fd leaked");

	open_pair(&p);
	cdb_for(cdb, PRH_OP_PR_IN, 0);
	send_with_fds(p.client, cdb, 16, dev, 0);
	is_int(conn_advance(&p.c, get_buffer, NULL), CONN_NEXT_CLOSE, "no fd: close");
	is_str(p.c.close_reason, "request without a file descriptor", "reason: no fd");
	close_pair(&p);

	open_pair(&p);
	cdb_for(cdb, PRH_OP_PR_IN, 8);
	send_with_fds(p.client, cdb, 16, dev, 2);
	is_int(conn_advance(&p.c, get_buffer, NULL), CONN_NEXT_CLOSE, "two fds: close");
	is_int(p.c.dev_fd, -1, "no fd kept");
	close_pair(&p);
	is_int(count_fds(), base, "both fds closed");

	open_pair(&p);
	send_with_fds(p.client, cdb, 8, dev, 1);
	is_int(conn_advance(&p.c, get_buffer, NULL), CONN_NEXT_READ, "first fd");
	send_with_fds(p.client, cdb + 8, 8, dev, 1);
	is_int(conn_advance(&p.c, get_buffer, NULL), CONN_NEXT_CLOSE,
	       "a second fd in a later part of the CDB: close");
	close_pair(&p);
	is_int(count_fds(), base, "both fds closed (1+1)");

	open_pair(&p);
	send_with_fds(p.client, cdb, 16, dev, 20);
	is_int(conn_advance(&p.c, get_buffer, NULL), CONN_NEXT_CLOSE,
	       "20 fds (ancillary data truncated): close");
	close_pair(&p);
	if (getenv("PRH_EMULATOR") != NULL) {
		/* qemu-user receives all 20 on the host, passes on what fits
		 * the program's buffer and leaves the rest open in itself:
		 * only a kernel closes what did not fit. */
		printf("# n/a: every fd closed, kept or truncated (qemu-user "
		       "keeps the fds it truncates; natively checked)\n");
		base = count_fds();
	} else {
		is_int(count_fds(), base, "every fd closed, kept or truncated");
	}

	open_pair(&p);
	cdb_for(cdb, 0x12, 36);
	send_with_fds(p.client, cdb, 16, dev, 1);
	is_int(conn_advance(&p.c, get_buffer, NULL), CONN_NEXT_CLOSE, "INQUIRY: close");
	is_str(p.c.close_reason, "invalid CDB", "reason: invalid CDB");
	close_pair(&p);
	is_int(count_fds(), base, "its fd closed");

	open_pair(&p);
	cdb_for(cdb, PRH_OP_PR_OUT, 8193);
	send_with_fds(p.client, cdb, 16, dev, 1);
	is_int(conn_advance(&p.c, get_buffer, NULL), CONN_NEXT_CLOSE, "length 8193: close");
	close_pair(&p);
	is_int(count_fds(), base, "its fd closed");

	open_pair(&p);
	send_with_fds(p.client, cdb, 10, dev, 1);
	shutdown(p.client, SHUT_WR);
	is_int(conn_advance(&p.c, get_buffer, NULL), CONN_NEXT_CLOSE, "EOF mid-CDB: close");
	close_pair(&p);
	is_int(count_fds(), base, "its fd closed");

	open_pair(&p);
	shutdown(p.client, SHUT_WR);
	is_int(conn_advance(&p.c, get_buffer, NULL), CONN_NEXT_CLOSE,
	       "EOF between requests: close");
	is_str(p.c.close_reason, "client closed the connection", "a normal close");
	close_pair(&p);
	close(dev);
}

static void
test_pr_out(void)
{
	struct pair p;
	uint8_t cdb[16], param[24];
	int dev = open("/dev/null", O_RDWR), base = count_fds();

	for (int i = 0; i < 24; i++)
		param[i] = (uint8_t)(i + 1);
	open_pair(&p);
	cdb_for(cdb, PRH_OP_PR_OUT, 24);
	send_with_fds(p.client, cdb, 16, dev, 1);
	is_int(conn_advance(&p.c, get_buffer, NULL), CONN_NEXT_READ,
	       "PR OUT CDB read: waits for the parameter list");
	is_int(p.c.state, CONN_RECV_PARAMS, "state RECV_PARAMS");
	send_with_fds(p.client, param, 10, dev, 1);
	is_int(conn_advance(&p.c, get_buffer, NULL), CONN_NEXT_READ, "part of it");
	send_with_fds(p.client, param + 10, 14, dev, 0);
	is_int(conn_advance(&p.c, get_buffer, NULL), CONN_NEXT_EXECUTE, "all of it: execute");
	is_mem(p.c.data, param, 24, "the parameter list as sent");
	close_pair(&p);
	is_int(count_fds(), base, "an fd sent with parameter bytes is dropped, not leaked");

	open_pair(&p);
	cdb_for(cdb, PRH_OP_PR_OUT, 0);
	send_with_fds(p.client, cdb, 16, dev, 1);
	is_int(conn_advance(&p.c, get_buffer, NULL), CONN_NEXT_EXECUTE,
	       "PR OUT with length 0 executes at once");
	ok(p.c.data == NULL, "and needs no buffer");
	close_pair(&p);

	open_pair(&p);
	cdb_for(cdb, PRH_OP_PR_OUT, 24);
	send_with_fds(p.client, cdb, 16, dev, 1);
	send_with_fds(p.client, param, 5, dev, 0);
	shutdown(p.client, SHUT_WR);
	is_int(conn_advance(&p.c, get_buffer, NULL), CONN_NEXT_CLOSE,
	       "EOF in the parameter list: close");
	close_pair(&p);
	is_int(count_fds(), base, "its fd closed");
	close(dev);
}

static void
test_reply(void)
{
	struct pair p;
	uint8_t got[PRH_REPLY_HDR_SIZE + 64];

	open_pair(&p);
	p.c.data = malloc(PRH_MAX_DATA);
	for (int i = 0; i < PRH_REPLY_HDR_SIZE; i++)
		p.c.reply[i] = (uint8_t)i;
	for (int i = 0; i < 40; i++)
		p.c.data[i] = (uint8_t)(0xa0 + i);
	p.c.reply_len = PRH_REPLY_HDR_SIZE + 40;
	p.c.done = 0;
	p.c.state = CONN_SEND_REPLY;
	is_int(conn_send_reply(&p.c), 1, "a small reply is written at once");
	is_int(p.c.state, CONN_RECV_CDB, "then the next CDB is awaited");
	ok(recv(p.client, got, sizeof(got), 0) == PRH_REPLY_HDR_SIZE + 40 &&
	   memcmp(got, p.c.reply, PRH_REPLY_HDR_SIZE) == 0 &&
	   memcmp(got + PRH_REPLY_HDR_SIZE, p.c.data, 40) == 0,
	   "header and payload arrive in order");

	/* A full socket buffer: the rest waits for POLLOUT. */
	{
		int small = 4096;
		static uint8_t sink[1 << 20];
		ssize_t n;
		size_t total = 0;

		setsockopt(p.c.fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
		/* fill the pipe */
		while (send(p.c.fd, sink, 4096, MSG_DONTWAIT) > 0)
			;
		p.c.reply_len = PRH_REPLY_HDR_SIZE + PRH_MAX_DATA;
		p.c.done = 0;
		p.c.state = CONN_SEND_REPLY;
		is_int(conn_send_reply(&p.c), 0, "full socket: partial, wait for POLLOUT");
		is_int(p.c.state, CONN_SEND_REPLY, "still sending");
		{
			enum conn_next next = CONN_NEXT_WRITE;

			for (int round = 0; round < 1000 && next == CONN_NEXT_WRITE; round++) {
				while ((n = recv(p.client, sink, sizeof(sink), MSG_DONTWAIT)) > 0)
					total += (size_t)n;
				next = conn_advance(&p.c, get_buffer, NULL);
			}
			is_int(next, CONN_NEXT_READ,
			       "as the client reads, the rest is written");
		}
		while ((n = recv(p.client, sink, sizeof(sink), MSG_DONTWAIT)) > 0)
			total += (size_t)n;
		ok(total > PRH_REPLY_HDR_SIZE + PRH_MAX_DATA, "all bytes arrived");
	}

	close(p.client);
	p.client = -1;
	p.c.reply_len = PRH_REPLY_HDR_SIZE;
	p.c.done = 0;
	p.c.state = CONN_SEND_REPLY;
	is_int(conn_send_reply(&p.c), -1, "client gone: -1, no SIGPIPE");
	is_int(p.c.state, CONN_CLOSING, "closing");
	conn_close_fds(&p.c);
	free(p.c.data);
}

int
main(void)
{
	/* A write to a closed peer must be EPIPE, not a signal. */
	log_init(0);
	test_features();
	test_requests();
	test_pr_out();
	test_reply();
	ok(n_buffers > 0, "buffers were requested through the callback");
	return tap_done();
}

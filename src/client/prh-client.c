/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * prh-client: a command-line client of the pr-manager-helper protocol, for
 * tests, benchmarks and operators. It connects to a helper's socket, does
 * the feature exchange, opens the device given on the command line, sends
 * one PERSISTENT RESERVE IN or OUT command with that fd attached, and
 * prints the reply: status, decoded sense and payload. A "raw" mode sends
 * arbitrary bytes and fds, for malformed-input tests.
 *
 * With --qtest it plays a guest instead (for tests): the command goes to a
 * SCSI disk of QEMU's virtio-scsi controller, through QEMU's qtest socket
 * (qtest.c, vscsi.c), and QEMU's own pr-manager-helper client forwards it
 * to the helper the disk was configured with. What is printed is then what
 * a guest sees, in the same format.
 *
 * Exit status: 0 a reply was received (whatever its SCSI status), 1 error,
 * 2 usage, 3 the helper closed the connection without replying.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <scsi/sg_lib.h>

#include "num.h"
#include "prh.h"
#include "proto.h"
#include "qtest.h"
#include "vscsi.h"

#define EXIT_USAGE  2
#define EXIT_CLOSED 3

struct client_opts {
	const char *socket_path;
	int timeout_ms;         /* per receive; -1 waits forever */
	uint16_t alloc_len;     /* PR IN allocation length */
	bool read_only;         /* open the device O_RDONLY */
	uint64_t key;           /* RESERVATION KEY */
	uint64_t sa_key;        /* SERVICE ACTION RESERVATION KEY */
	unsigned type;          /* PR type (CDB byte 2, low nibble) */
	unsigned scope;
	bool aptpl, all_tg_pt, spec_i_pt, unreg;
	unsigned rel_tgt_port;  /* REGISTER AND MOVE */
	uint8_t tid[256];       /* REGISTER AND MOVE TransportID */
	size_t tid_len;
	int param_len;          /* PR OUT parameter list length override, -1 none */
	unsigned repeat;        /* send the command this many times */
	bool quiet;             /* print only the status line */
	const char *qtest_path; /* play a guest through QEMU's qtest socket */
	unsigned target, lun;   /* the guest's disk, with qtest_path */
};

static const struct {
	const char *name;
	uint8_t opcode;
	uint8_t sa;
} commands[] = {
	{ "read-keys",           PRH_OP_PR_IN,  0x00 },
	{ "read-reservation",    PRH_OP_PR_IN,  0x01 },
	{ "report-capabilities", PRH_OP_PR_IN,  0x02 },
	{ "read-full-status",    PRH_OP_PR_IN,  0x03 },
	{ "register",            PRH_OP_PR_OUT, 0x00 },
	{ "reserve",             PRH_OP_PR_OUT, 0x01 },
	{ "release",             PRH_OP_PR_OUT, 0x02 },
	{ "clear",               PRH_OP_PR_OUT, 0x03 },
	{ "preempt",             PRH_OP_PR_OUT, 0x04 },
	{ "preempt-abort",       PRH_OP_PR_OUT, 0x05 },
	{ "register-ignore",     PRH_OP_PR_OUT, 0x06 },
	{ "register-move",       PRH_OP_PR_OUT, 0x07 },
};

static void
usage(FILE *f)
{
	fprintf(f,
"Usage: prh-client [OPTION]... COMMAND [DEVICE]\n"
"Send one persistent reservation command through a qemu-pr-helper socket.\n"
"\n"
"Commands with a DEVICE (opened read-write unless --read-only):\n"
"  read-keys  read-reservation  report-capabilities  read-full-status\n"
"  register  register-ignore  reserve  release  clear  preempt\n"
"  preempt-abort  register-move\n"
"Other commands:\n"
"  handshake          feature exchange only; prints the helper's word\n"
"  init               (with --qtest) reset and set up QEMU's virtio-scsi\n"
"                     controller, then clear each disk's reset unit attention\n"
"  raw STEP...        scripted bytes: 'send HEX', 'sendfd PATH HEX',\n"
"                     'sendfd-ro PATH HEX', 'sendfds PATH,PATH HEX',\n"
"                     'recv N', 'reply' (header and its payload),\n"
"                     'features',\n"
"                     'expect-eof', 'sleep MS', 'shut-wr', 'rcvbuf N',\n"
"                     'mark TEXT' (TEXT to stderr at once: the steps\n"
"                     before it are done)\n"
"\n"
"  -k, --socket=PATH     helper socket (default " PRH_DEFAULT_SOCKET ")\n"
"  -t, --timeout=MS      give up waiting for a reply after MS (default 10000)\n"
"  -a, --alloc=N         PR IN allocation length (default 8192)\n"
"  -K, --key=HEX         reservation key\n"
"  -S, --sa-key=HEX      service action reservation key\n"
"  -T, --type=N          reservation type (1 WE, 3 EA, 5 WE-RO, 6 EA-RO,\n"
"                        7 WE-AR, 8 EA-AR)\n"
"      --scope=N         scope (default 0, LU_SCOPE)\n"
"      --aptpl --all-tg-pt --spec-i-pt --unreg   parameter list flags\n"
"      --rel-tgt-port=N  REGISTER AND MOVE relative target port\n"
"      --transport-id=HEX  REGISTER AND MOVE TransportID\n"
"      --param-len=N     send N as the parameter list length (CDB 7-8)\n"
"  -r, --read-only       open the device O_RDONLY\n"
"  -n, --repeat=N        send the command N times on one connection\n"
"  -q, --quiet           print only the status line\n"
"\n"
"As a guest (tests): the command goes through QEMU's virtio-scsi controller\n"
"to a disk whose PR commands QEMU forwards to its pr-manager-helper; no\n"
"DEVICE, no --read-only. QEMU runs stopped (-S) with -qtest PATH.\n"
"      --qtest=PATH      QEMU's qtest socket\n"
"      --target=N --lun=N  the disk (default 0 and 0)\n");
}

/* ---- socket helpers --------------------------------------------------- */

static int
connect_helper(const char *path)
{
	struct sockaddr_un addr;
	size_t len = strlen(path);
	int fd;

	if (len > sizeof(addr.sun_path)) {
		fprintf(stderr, "prh-client: socket path too long\n");
		return -1;
	}
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	memcpy(addr.sun_path, path, len);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr,
	                      (socklen_t)(sizeof(addr.sun_family) + len)) < 0) {
		fprintf(stderr, "prh-client: connect %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Send all of buf; the fds ride on the first sendmsg. */
static int
send_all(int sock, const uint8_t *buf, size_t len, const int *fds, size_t n_fds)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 16)];
	} control;
	size_t off = 0;

	if (n_fds > 16)
		return -1;
	do {
		struct iovec iov = { .iov_base = (void *)(uintptr_t)(buf + off),
		                     .iov_len = len - off };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t n;

		if (n_fds > 0) {
			struct cmsghdr *cm;

			memset(&control, 0, sizeof(control));
			msg.msg_control = control.buf;
			msg.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
			cm = CMSG_FIRSTHDR(&msg);
			if (cm == NULL)
				return -1;
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
			memcpy(CMSG_DATA(cm), fds, sizeof(int) * n_fds);
		}
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		off += (size_t)n;
		n_fds = 0;
	} while (off < len);
	return 0;
}

/* Receive exactly len bytes. Returns len, the bytes got before EOF, or -1
 * (errno ETIMEDOUT on timeout). */
static ssize_t
recv_all(int sock, uint8_t *buf, size_t len, int timeout_ms)
{
	size_t off = 0;

	while (off < len) {
		struct pollfd pfd = { .fd = sock, .events = POLLIN };
		ssize_t n;
		int r = poll(&pfd, 1, timeout_ms);

		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (r < 0)
			return -1;
		n = recv(sock, buf + off, len - off, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ECONNRESET)
				return (ssize_t)off;
			return -1;
		}
		if (n == 0)
			return (ssize_t)off;
		off += (size_t)n;
	}
	return (ssize_t)off;
}

static void
print_hex(const char *label, const uint8_t *p, size_t n)
{
	printf("%s:", label);
	for (size_t i = 0; i < n; i++)
		printf(" %02x", p[i]);
	printf("\n");
}

static int
parse_hex(const char *s, uint8_t *out, size_t max, size_t *len)
{
	size_t n = 0;

	while (*s != '\0') {
		unsigned v;

		if (*s == ' ' || *s == ':' || *s == '-') {
			s++;
			continue;
		}
		if (n == max || sscanf(s, "%2x", &v) != 1 || s[1] == '\0' ||
		    strchr("0123456789abcdefABCDEF", s[0]) == NULL ||
		    strchr("0123456789abcdefABCDEF", s[1]) == NULL)
			return -1;
		out[n++] = (uint8_t)v;
		s += 2;
	}
	*len = n;
	return 0;
}

static int
handshake(int sock, int timeout_ms, bool print)
{
	uint8_t features[PRH_FEATURES_SIZE];
	static const uint8_t zero[PRH_FEATURES_SIZE];
	ssize_t n = recv_all(sock, features, sizeof(features), timeout_ms);

	if (n != (ssize_t)sizeof(features)) {
		fprintf(stderr, "prh-client: no feature word from the helper\n");
		return -1;
	}
	if (print)
		print_hex("features", features, sizeof(features));
	if (send_all(sock, zero, sizeof(zero), NULL, 0) < 0) {
		fprintf(stderr, "prh-client: send: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- the reply -------------------------------------------------------- */

static const char *
status_name(uint32_t status)
{
	switch (status) {
	case PRH_STATUS_GOOD: return "GOOD";
	case PRH_STATUS_CHECK_CONDITION: return "CHECK CONDITION";
	case PRH_STATUS_CONDITION_MET: return "CONDITION MET";
	case PRH_STATUS_BUSY: return "BUSY";
	case PRH_STATUS_RESERVATION_CONFLICT: return "RESERVATION CONFLICT";
	case PRH_STATUS_TASK_SET_FULL: return "TASK SET FULL";
	default: return "other";
	}
}

static void
print_payload(uint8_t opcode, uint8_t sa, const uint8_t *p, uint32_t n)
{
	print_hex("payload", p, n);
	if (opcode != PRH_OP_PR_IN || n < 8)
		return;
	if (sa == 0x00 || sa == 0x01 || sa == 0x03)
		printf("generation: 0x%08x\n", proto_get_be32(p));
	if (sa == 0x00) {
		uint32_t add = proto_get_be32(p + 4);

		for (uint32_t off = 8; off + 8 <= n && off < add + 8; off += 8) {
			printf("key: 0x");
			for (int i = 0; i < 8; i++)
				printf("%02x", p[off + (uint32_t)i]);
			printf("\n");
		}
	} else if (sa == 0x01) {
		if (proto_get_be32(p + 4) >= 16 && n >= 24) {
			printf("reservation key: 0x");
			for (int i = 8; i < 16; i++)
				printf("%02x", p[i]);
			printf("\nscope: %u type: %u\n", (unsigned)(p[21] >> 4), (unsigned)(p[21] & 0x0f));
		} else {
			printf("no reservation\n");
		}
	}
}

/* Print a reply: status, then (unless quiet) size, sense, decoded sense
 * and the payload (none if payload is NULL). */
static void
print_reply(uint32_t status, uint32_t size, const uint8_t sense[PRH_SENSE_SIZE],
            const uint8_t *payload, uint8_t opcode, uint8_t sa, bool quiet)
{
	printf("status: 0x%02x %s\n", status, status_name(status));
	if (quiet)
		return;
	printf("size: %u\n", size);
	print_hex("sense", sense, PRH_SENSE_SIZE);
	if (status == PRH_STATUS_CHECK_CONDITION) {
		struct sg_scsi_sense_hdr ssh;
		char text[128];

		if (sg_scsi_normalize_sense(sense, PRH_SENSE_SIZE, &ssh)) {
			sg_get_asc_ascq_str(ssh.asc, ssh.ascq, (int)sizeof(text), text);
			printf("sense key: 0x%x asc: 0x%02x ascq: 0x%02x (%s)\n",
			       ssh.sense_key, ssh.asc, ssh.ascq, text);
		} else {
			printf("sense key: none\n");
		}
	}
	if (payload != NULL && size > 0)
		print_payload(opcode, sa, payload, size);
}

static int
read_reply(int sock, int timeout_ms, uint8_t opcode, uint8_t sa, uint16_t alloc,
           bool quiet)
{
	uint8_t hdr[PRH_REPLY_HDR_SIZE], sense[PRH_SENSE_SIZE];
	static uint8_t payload[PRH_MAX_DATA];
	uint32_t status, size;
	ssize_t n = recv_all(sock, hdr, sizeof(hdr), timeout_ms);

	if (n < 0) {
		fprintf(stderr, "prh-client: reading the reply: %s\n", strerror(errno));
		return EXIT_FAILURE;
	}
	if (n == 0) {
		printf("closed\n");
		return EXIT_CLOSED;
	}
	if (n != (ssize_t)sizeof(hdr)) {
		fprintf(stderr, "prh-client: reply header cut after %zd bytes\n", n);
		return EXIT_FAILURE;
	}
	proto_decode_reply(hdr, &status, &size, sense);
	/* The helper must never send more than the allocation length: a
	 * QEMU client would abort on it. */
	if (size > alloc || size > PRH_MAX_DATA) {
		print_reply(status, size, sense, NULL, opcode, sa, quiet);
		fprintf(stderr, "prh-client: payload size %u exceeds allocation length %u\n",
		        size, alloc);
		return EXIT_FAILURE;
	}
	if (size > 0 && recv_all(sock, payload, size, timeout_ms) != (ssize_t)size) {
		print_reply(status, size, sense, NULL, opcode, sa, quiet);
		fprintf(stderr, "prh-client: payload cut short\n");
		return EXIT_FAILURE;
	}
	print_reply(status, size, sense, payload, opcode, sa, quiet);
	return EXIT_SUCCESS;
}

/* ---- PR commands ------------------------------------------------------ */

static void
put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

/* Build the CDB and, for PR OUT, the parameter list (SPC-4 layouts). */
static size_t
build_request(const struct client_opts *o, uint8_t opcode, uint8_t sa,
              uint8_t cdb[PRH_CDB_SIZE], uint8_t *param)
{
	size_t param_len = 0;
	uint16_t len;

	memset(cdb, 0, PRH_CDB_SIZE);
	cdb[0] = opcode;
	cdb[1] = sa;
	if (opcode == PRH_OP_PR_IN) {
		len = o->alloc_len;
	} else {
		cdb[2] = (uint8_t)((o->scope & 0x0f) << 4 | (o->type & 0x0f));
		if (sa == 0x07) {
			/* REGISTER AND MOVE: key, SA key, flags, port, TransportID */
			memset(param, 0, 24 + o->tid_len);
			put_be64(param, o->key);
			put_be64(param + 8, o->sa_key);
			param[17] = (uint8_t)((o->unreg ? 0x02 : 0) | (o->aptpl ? 0x01 : 0));
			param[18] = (uint8_t)(o->rel_tgt_port >> 8);
			param[19] = (uint8_t)o->rel_tgt_port;
			proto_put_be32(param + 20, (uint32_t)o->tid_len);
			memcpy(param + 24, o->tid, o->tid_len);
			param_len = 24 + o->tid_len;
		} else {
			memset(param, 0, 24);
			put_be64(param, o->key);
			put_be64(param + 8, o->sa_key);
			param[20] = (uint8_t)((o->spec_i_pt ? 0x08 : 0) |
			                      (o->all_tg_pt ? 0x04 : 0) |
			                      (o->aptpl ? 0x01 : 0));
			param_len = 24;
		}
		len = (uint16_t)(o->param_len >= 0 ? (size_t)o->param_len : param_len);
		if (o->param_len >= 0)
			param_len = (size_t)o->param_len;
	}
	cdb[7] = (uint8_t)(len >> 8);
	cdb[8] = (uint8_t)len;
	return param_len;
}

static int
run_command(const struct client_opts *o, uint8_t opcode, uint8_t sa,
            const char *device)
{
	uint8_t cdb[PRH_CDB_SIZE];
	static uint8_t param[PRH_MAX_DATA];
	size_t param_len;
	int sock, rc = EXIT_SUCCESS;

	param_len = build_request(o, opcode, sa, cdb, param);
	sock = connect_helper(o->socket_path);
	if (sock < 0)
		return EXIT_FAILURE;
	if (handshake(sock, o->timeout_ms, false) < 0) {
		close(sock);
		return EXIT_CLOSED;
	}
	for (unsigned i = 0; i < o->repeat && rc == EXIT_SUCCESS; i++) {
		int dev = open(device, (o->read_only ? O_RDONLY : O_RDWR) |
		               O_NONBLOCK | O_CLOEXEC);

		if (dev < 0) {
			fprintf(stderr, "prh-client: open %s: %s\n", device, strerror(errno));
			rc = EXIT_FAILURE;
			break;
		}
		if (send_all(sock, cdb, sizeof(cdb), &dev, 1) < 0 ||
		    (param_len > 0 && send_all(sock, param, param_len, NULL, 0) < 0)) {
			fprintf(stderr, "prh-client: send: %s\n", strerror(errno));
			close(dev);
			rc = EXIT_CLOSED;
			break;
		}
		close(dev);
		rc = read_reply(sock, o->timeout_ms, opcode, sa,
		                opcode == PRH_OP_PR_IN ? o->alloc_len : 0, o->quiet);
	}
	close(sock);
	return rc;
}

/* ---- as a guest, through QEMU (--qtest) -------------------------------- */

/* QEMU's qtest socket appears while QEMU starts; wait this long for it
 * (or --timeout, if shorter). */
#define QTEST_CONNECT_WAIT_MS 30000
/* Targets "init" probes for disks; QEMU answers BAD_TARGET for the rest. */
#define QTEST_INIT_TARGETS 16

static struct qtest qtest_conn;  /* large line buffer: not on the stack */

static int
qtest_start(const struct client_opts *o, struct vscsi *v, bool reset)
{
	int wait_ms = o->timeout_ms >= 0 && o->timeout_ms < QTEST_CONNECT_WAIT_MS
	              ? o->timeout_ms : QTEST_CONNECT_WAIT_MS;

	if (qtest_connect(&qtest_conn, o->qtest_path, wait_ms, o->timeout_ms) < 0)
		return -1;
	if (vscsi_open(v, &qtest_conn, reset) < 0) {
		qtest_close(&qtest_conn);
		return -1;
	}
	return 0;
}

/*
 * init: set the controller up, then send TEST UNIT READY once to LUN 0 of
 * each target. Right after the reset QEMU itself answers the first command
 * to each disk with a RESET unit attention (it never reaches the device);
 * consuming it here keeps it out of the commands under test. Prints one
 * line per disk found.
 */
static int
run_qtest_init(const struct client_opts *o)
{
	static const uint8_t tur[6];
	struct vscsi v;
	int rc = EXIT_SUCCESS;

	if (qtest_start(o, &v, true) < 0)
		return EXIT_FAILURE;
	printf("controller: PCI slot %u, I/O 0x%x, queue size %u, cdb %u, sense %u\n",
	       v.slot, v.iobase, v.queue_size, v.cdb_size, v.sense_size);
	for (unsigned t = 0; t < QTEST_INIT_TARGETS; t++) {
		struct vscsi_cmd cmd = { .target = t, .lun = 0, .cdb = tur, .cdb_len = 6,
		                         .timeout_ms = o->timeout_ms };
		struct vscsi_result res = { 0 };

		if (vscsi_run(&v, &cmd, &res) < 0) {
			rc = EXIT_FAILURE;
			break;
		}
		if (res.response == VSCSI_S_BAD_TARGET)
			continue;
		printf("target %u: response %s status 0x%02x", t,
		       vscsi_response_name(res.response), res.status);
		if (res.status == PRH_STATUS_CHECK_CONDITION)
			printf(" sense %x/%02x/%02x", res.sense[2] & 0x0f, res.sense[12],
			       res.sense[13]);
		printf("\n");
	}
	qtest_close(&qtest_conn);
	return rc;
}

static int
run_command_qtest(const struct client_opts *o, uint8_t opcode, uint8_t sa)
{
	uint8_t cdb[PRH_CDB_SIZE];
	static uint8_t param[PRH_MAX_DATA], data_in[VSCSI_DATA_MAX];
	size_t param_len = build_request(o, opcode, sa, cdb, param);
	struct vscsi v;
	int rc = EXIT_SUCCESS;

	if (qtest_start(o, &v, false) < 0)
		return EXIT_FAILURE;
	for (unsigned i = 0; i < o->repeat && rc == EXIT_SUCCESS; i++) {
		/* A guest sends the 10-byte CDB; QEMU pads it to 16 for the helper. */
		struct vscsi_cmd cmd = {
			.target = o->target, .lun = o->lun, .cdb = cdb, .cdb_len = 10,
			.data_out = param, .data_out_len = param_len,
			.data_in_len = opcode == PRH_OP_PR_IN ? o->alloc_len : 0,
			.timeout_ms = o->timeout_ms,
		};
		struct vscsi_result res = { .data_in = data_in };

		if (vscsi_run(&v, &cmd, &res) < 0) {
			rc = EXIT_FAILURE;
			break;
		}
		printf("response: 0x%02x %s\n", res.response, vscsi_response_name(res.response));
		if (res.response != VSCSI_S_OK)
			continue;
		if (!o->quiet)
			printf("sense length: %u\n", res.sense_len);
		/* Data-in counts only with GOOD (QEMU leaves resid 0 otherwise). */
		print_reply(res.status, (uint32_t)res.data_in_got, res.sense,
		            res.status == PRH_STATUS_GOOD ? data_in : NULL, opcode, sa, o->quiet);
	}
	qtest_close(&qtest_conn);
	return rc;
}

/* ---- raw mode --------------------------------------------------------- */

static int
open_fds(char *list, bool read_only, int *fds, size_t *n_fds)
{
	*n_fds = 0;
	for (char *p = strtok(list, ","); p != NULL; p = strtok(NULL, ",")) {
		int fd = -1;

		if (*n_fds == 16)
			return -1;
		if (!read_only)
			fd = open(p, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			fd = open(p, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "prh-client: open %s: %s\n", p, strerror(errno));
			return -1;
		}
		fds[(*n_fds)++] = fd;
	}
	return 0;
}

/* One raw step. Returns 0 to go on, or an exit status. */
static int
raw_step(int sock, const char *step, int timeout_ms)
{
	static uint8_t buf[PRH_MAX_DATA + PRH_REPLY_HDR_SIZE + 64];
	char copy[4096], *word, *rest;
	size_t len;

	snprintf(copy, sizeof(copy), "%s", step);
	word = strtok_r(copy, " ", &rest);
	if (word == NULL)
		return 0;
	if (strcmp(word, "send") == 0 || strcmp(word, "sendfd") == 0 ||
	    strcmp(word, "sendfds") == 0 || strcmp(word, "sendfd-ro") == 0) {
		int fds[16];
		size_t n_fds = 0;
		int r;

		if (strcmp(word, "send") != 0) {
			char *paths = strtok_r(NULL, " ", &rest);

			if (paths == NULL ||
			    open_fds(paths, strcmp(word, "sendfd-ro") == 0, fds, &n_fds) < 0)
				return EXIT_USAGE;
		}
		if (parse_hex(rest != NULL ? rest : "", buf, sizeof(buf), &len) < 0) {
			fprintf(stderr, "prh-client: bad hex in '%s'\n", step);
			return EXIT_USAGE;
		}
		r = send_all(sock, buf, len, fds, n_fds);
		for (size_t i = 0; i < n_fds; i++)
			close(fds[i]);
		if (r < 0) {
			printf("send failed: %s\n", strerror(errno));
			return EXIT_CLOSED;
		}
		return 0;
	}
	if (strcmp(word, "recv") == 0) {
		unsigned long long n;
		ssize_t got;
		char *arg = strtok_r(NULL, " ", &rest);

		if (!num_parse_decimal(arg, sizeof(buf), &n))
			return EXIT_USAGE;
		got = recv_all(sock, buf, (size_t)n, timeout_ms);
		if (got < 0) {
			printf("recv failed: %s\n", strerror(errno));
			return EXIT_FAILURE;
		}
		print_hex("recv", buf, (size_t)got);
		if ((size_t)got < n) {
			printf("eof after %zd bytes\n", got);
			return EXIT_CLOSED;
		}
		return 0;
	}
	if (strcmp(word, "reply") == 0) {
		/* One whole reply: the header, then as many payload bytes as
		 * its size field says (at most PRH_MAX_DATA). */
		ssize_t got = recv_all(sock, buf, PRH_REPLY_HDR_SIZE, timeout_ms);
		uint32_t size;

		if (got < 0) {
			printf("recv failed: %s\n", strerror(errno));
			return EXIT_FAILURE;
		}
		if (got < PRH_REPLY_HDR_SIZE) {
			print_hex("recv", buf, (size_t)got);
			printf("eof after %zd bytes\n", got);
			return EXIT_CLOSED;
		}
		size = proto_get_be32(buf + 4);
		if (size > PRH_MAX_DATA) {
			print_hex("recv", buf, PRH_REPLY_HDR_SIZE);
			printf("size %u above %d\n", size, PRH_MAX_DATA);
			return EXIT_FAILURE;
		}
		got = size > 0 ? recv_all(sock, buf + PRH_REPLY_HDR_SIZE, size, timeout_ms) : 0;
		if (got < 0) {
			printf("recv failed: %s\n", strerror(errno));
			return EXIT_FAILURE;
		}
		print_hex("recv", buf, PRH_REPLY_HDR_SIZE + (size_t)got);
		if ((size_t)got < size) {
			printf("eof after %zd payload bytes\n", got);
			return EXIT_CLOSED;
		}
		return 0;
	}
	if (strcmp(word, "features") == 0)
		return handshake(sock, timeout_ms, true) < 0 ? EXIT_CLOSED : 0;
	if (strcmp(word, "expect-eof") == 0) {
		ssize_t got = recv_all(sock, buf, 1, timeout_ms);

		if (got == 0) {
			printf("eof\n");
			return 0;
		}
		printf(got < 0 ? "no eof: %s\n" : "no eof: data\n", strerror(errno));
		return EXIT_FAILURE;
	}
	if (strcmp(word, "sleep") == 0) {
		unsigned long long ms;
		struct timespec ts;

		if (!num_parse_decimal(strtok_r(NULL, " ", &rest), 3600000, &ms))
			return EXIT_USAGE;
		ts.tv_sec = (time_t)(ms / 1000);
		ts.tv_nsec = (long)(ms % 1000) * 1000000L;
		nanosleep(&ts, NULL);
		return 0;
	}
	if (strcmp(word, "mark") == 0) {
		/* stderr is unbuffered: a test waiting for TEXT knows every
		 * step before this one has completed. */
		fprintf(stderr, "%s\n", rest != NULL ? rest : "");
		return 0;
	}
	if (strcmp(word, "shut-wr") == 0) {
		shutdown(sock, SHUT_WR);
		return 0;
	}
	if (strcmp(word, "rcvbuf") == 0) {
		unsigned long long n;
		int size;

		if (!num_parse_decimal(strtok_r(NULL, " ", &rest), 1 << 24, &n))
			return EXIT_USAGE;
		size = (int)n;
		setsockopt(sock, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
		return 0;
	}
	fprintf(stderr, "prh-client: unknown raw step '%s'\n", step);
	return EXIT_USAGE;
}

static int
run_raw(const struct client_opts *o, int n_steps, char **steps)
{
	int sock = connect_helper(o->socket_path);
	int rc = 0;

	if (sock < 0)
		return EXIT_FAILURE;
	for (int i = 0; i < n_steps && rc == 0; i++)
		rc = raw_step(sock, steps[i], o->timeout_ms);
	close(sock);
	return rc;
}

/* ---- main ------------------------------------------------------------- */

static bool
parse_u64_hex(const char *s, uint64_t *out)
{
	char *end;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	if (*s == '\0' || strlen(s) > 16)
		return false;
	errno = 0;
	*out = strtoull(s, &end, 16);
	return errno == 0 && *end == '\0';
}

int
main(int argc, char **argv)
{
	enum { O_SCOPE = 256, O_APTPL, O_ALL_TG_PT, O_SPEC_I_PT, O_UNREG,
	       O_REL_TGT_PORT, O_TRANSPORT_ID, O_PARAM_LEN, O_QTEST, O_TARGET, O_LUN };
	static const struct option long_opts[] = {
		{ "socket", required_argument, NULL, 'k' },
		{ "timeout", required_argument, NULL, 't' },
		{ "alloc", required_argument, NULL, 'a' },
		{ "key", required_argument, NULL, 'K' },
		{ "sa-key", required_argument, NULL, 'S' },
		{ "type", required_argument, NULL, 'T' },
		{ "scope", required_argument, NULL, O_SCOPE },
		{ "aptpl", no_argument, NULL, O_APTPL },
		{ "all-tg-pt", no_argument, NULL, O_ALL_TG_PT },
		{ "spec-i-pt", no_argument, NULL, O_SPEC_I_PT },
		{ "unreg", no_argument, NULL, O_UNREG },
		{ "rel-tgt-port", required_argument, NULL, O_REL_TGT_PORT },
		{ "transport-id", required_argument, NULL, O_TRANSPORT_ID },
		{ "param-len", required_argument, NULL, O_PARAM_LEN },
		{ "qtest", required_argument, NULL, O_QTEST },
		{ "target", required_argument, NULL, O_TARGET },
		{ "lun", required_argument, NULL, O_LUN },
		{ "read-only", no_argument, NULL, 'r' },
		{ "repeat", required_argument, NULL, 'n' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct client_opts o = {
		.socket_path = PRH_DEFAULT_SOCKET,
		.timeout_ms = 10000,
		.alloc_len = PRH_MAX_DATA,
		.param_len = -1,
		.repeat = 1,
	};
	unsigned long long n;
	const char *cmd;
	int c;

	while ((c = getopt_long(argc, argv, "+k:t:a:K:S:T:rn:qh", long_opts, NULL)) != -1) {
		switch (c) {
		case 'k': o.socket_path = optarg; break;
		case 't':
			if (!num_parse_decimal(optarg, 3600000, &n))
				goto bad;
			o.timeout_ms = (int)n;
			break;
		case 'a':
			if (!num_parse_decimal(optarg, 65535, &n))
				goto bad;
			o.alloc_len = (uint16_t)n;
			break;
		case 'K': if (!parse_u64_hex(optarg, &o.key)) goto bad; break;
		case 'S': if (!parse_u64_hex(optarg, &o.sa_key)) goto bad; break;
		case 'T':
			if (!num_parse_decimal(optarg, 15, &n))
				goto bad;
			o.type = (unsigned)n;
			break;
		case O_SCOPE:
			if (!num_parse_decimal(optarg, 15, &n))
				goto bad;
			o.scope = (unsigned)n;
			break;
		case O_APTPL: o.aptpl = true; break;
		case O_ALL_TG_PT: o.all_tg_pt = true; break;
		case O_SPEC_I_PT: o.spec_i_pt = true; break;
		case O_UNREG: o.unreg = true; break;
		case O_REL_TGT_PORT:
			if (!num_parse_decimal(optarg, 65535, &n))
				goto bad;
			o.rel_tgt_port = (unsigned)n;
			break;
		case O_TRANSPORT_ID:
			if (parse_hex(optarg, o.tid, sizeof(o.tid), &o.tid_len) < 0)
				goto bad;
			break;
		case O_PARAM_LEN:
			if (!num_parse_decimal(optarg, 65535, &n))
				goto bad;
			o.param_len = (int)n;
			break;
		case O_QTEST: o.qtest_path = optarg; break;
		case O_TARGET:
			if (!num_parse_decimal(optarg, 255, &n))
				goto bad;
			o.target = (unsigned)n;
			break;
		case O_LUN:
			if (!num_parse_decimal(optarg, 0x3fff, &n))
				goto bad;
			o.lun = (unsigned)n;
			break;
		case 'r': o.read_only = true; break;
		case 'n':
			if (!num_parse_decimal(optarg, 100000000, &n) || n == 0)
				goto bad;
			o.repeat = (unsigned)n;
			break;
		case 'q': o.quiet = true; break;
		case 'h': usage(stdout); return EXIT_SUCCESS;
		default: goto bad;
		}
	}
	if (optind >= argc)
		goto bad;
	cmd = argv[optind++];
	if (o.qtest_path != NULL) {
		/* As a guest: QEMU holds the device (and its access mode). */
		if (optind != argc || o.read_only)
			goto bad;
		if (strcmp(cmd, "init") == 0)
			return run_qtest_init(&o);
		for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
			if (strcmp(cmd, commands[i].name) == 0)
				return run_command_qtest(&o, commands[i].opcode, commands[i].sa);
		}
		goto bad;
	}
	if (strcmp(cmd, "handshake") == 0) {
		int sock = connect_helper(o.socket_path);
		int rc;

		if (sock < 0)
			return EXIT_FAILURE;
		rc = handshake(sock, o.timeout_ms, true) < 0 ? EXIT_CLOSED : EXIT_SUCCESS;
		close(sock);
		return rc;
	}
	if (strcmp(cmd, "raw") == 0)
		return run_raw(&o, argc - optind, argv + optind);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(cmd, commands[i].name) != 0)
			continue;
		if (optind + 1 != argc)
			goto bad;
		return run_command(&o, commands[i].opcode, commands[i].sa, argv[optind]);
	}
bad:
	usage(stderr);
	return EXIT_USAGE;
}

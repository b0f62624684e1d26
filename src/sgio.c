/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sgio.c: the only file that talks to libsgutils2. It checks the passed fd
 * (PR OUT needs write access; only block devices and SCSI generic nodes
 * reach the ioctl), runs the CDB unchanged through the sg_pt pass-through
 * layer, and turns the raw outcome into status and sense with proto.c.
 * Runs on worker threads; it may block for up to SGIO_TIMEOUT_S.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <scsi/sg_pt.h>

#include "proto.h"
#include "sgio.h"

#define SCSI_GENERIC_CHAR_MAJOR 21   /* /dev/sgN */

/* sg_pt classifies an fd when it is given one (object built, or fd
 * replaced), and on the first sg node it sees it records the driver
 * version in unlocked globals. That step takes microseconds and never
 * waits on the device, so serialising it costs nothing and keeps the
 * library's globals race-free. */
static pthread_mutex_t construct_lock = PTHREAD_MUTEX_INITIALIZER;

#ifdef PRH_TEST_HOOKS
/*
 * Test builds only (never the installed binary). A FIFO passed as the
 * device stands for a SCSI device the host does not have:
 *   PRH_TEST_FIFO_HOLD=1        it answers only when the test releases it:
 *                               each request waits until it can read one
 *                               byte from the FIFO (a LUN that hangs for
 *                               as long as the test wants, no clock
 *                               involved);
 *   PRH_TEST_FIFO_DELAY_MS=N    it takes N ms to answer (a slow LUN);
 *   PRH_TEST_FIFO_PAYLOAD=N     it answers GOOD, and PR IN returns N bytes
 *                               (0, 1, 2, ... mod 256) before the helper
 *                               cuts them to the allocation length;
 *   PRH_TEST_FORBIDDEN_SYSCALL  every request first makes a system call
 *                               the sandbox forbids (it must kill us).
 */
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int test_fifo_hold;
static unsigned long test_fifo_delay_ms;
static long test_fifo_payload = -1;
static int test_forbidden_syscall;

static void
test_hooks_init(void)
{
	const char *v;

	test_fifo_hold = getenv("PRH_TEST_FIFO_HOLD") != NULL;
	if ((v = getenv("PRH_TEST_FIFO_DELAY_MS")) != NULL)
		test_fifo_delay_ms = strtoul(v, NULL, 10);
	if ((v = getenv("PRH_TEST_FIFO_PAYLOAD")) != NULL)
		test_fifo_payload = strtol(v, NULL, 10);
	test_forbidden_syscall = getenv("PRH_TEST_FORBIDDEN_SYSCALL") != NULL;
}

/* Returns 1 when the hook answered the request itself. */
static int
test_hook_answer(int dev_fd, uint8_t opcode, uint16_t len, uint8_t *data,
                 struct proto_reply *reply, struct sgio_outcome *outcome)
{
	struct stat st;
	struct timespec ts;

	if (test_forbidden_syscall)
		syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	if (fstat(dev_fd, &st) < 0 || !S_ISFIFO(st.st_mode))
		return 0;
	/* The client opened the FIFO non-blocking: wait in poll(), then take
	 * exactly one byte (another request may take the next one). */
	while (test_fifo_hold) {
		struct pollfd pfd = { .fd = dev_fd, .events = POLLIN };
		uint8_t byte;

		if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
			break;
		if (read(dev_fd, &byte, 1) == 1)
			break;
	}
	if (test_fifo_delay_ms > 0) {
		ts.tv_sec = (time_t)(test_fifo_delay_ms / 1000);
		ts.tv_nsec = (long)(test_fifo_delay_ms % 1000) * 1000000L;
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
	if (test_fifo_payload < 0)
		return 0;
	if (opcode == PRH_OP_PR_IN) {
		long n = test_fifo_payload < PRH_MAX_DATA ? test_fifo_payload : PRH_MAX_DATA;

		for (long i = 0; i < n; i++)
			data[i] = (uint8_t)i;
		outcome->transferred = (uint32_t)n;
		reply->size = outcome->transferred < len ? outcome->transferred : len;
	}
	return 1;
}
#endif

void
sgio_init(void)
{
	struct sg_pt_base *pt;

#ifdef PRH_TEST_HOOKS
	test_hooks_init();
#endif

	/* sg_pt's first use scans /proc/devices and sets unlocked globals;
	 * do it here, single-threaded, before the sandbox hides /proc. */
	pt = construct_scsi_pt_obj_with_fd(-1, 0);
	if (pt != NULL)
		destruct_scsi_pt_obj(pt);
}

/*
 * The raw driver_status, which sg_pt has no getter for: its transport
 * error string always carries it as "Driver_status=0x..". If the text
 * cannot be parsed, fall back to the library's own category.
 */
static unsigned
driver_status_of(const struct sg_pt_base *pt)
{
	char text[256];
	const char *p;
	unsigned ds;

	get_scsi_pt_transport_err_str(pt, (int)sizeof(text), text);
	p = strstr(text, "Driver_status=0x");
	if (p != NULL && sscanf(p + 16, "%x", &ds) == 1)
		return ds;
	if (get_scsi_pt_transport_err(pt) == 0 &&
	    get_scsi_pt_result_category(pt) == SCSI_PT_RESULT_TRANSPORT_ERR)
		return DRIVER_STATUS_TIMEOUT_MASK;
	return 0;
}

/* Checks that stand in for the ioctl. Returns 1 if *reply is final. */
static int
check_fd(int dev_fd, uint8_t opcode, struct proto_reply *reply,
         struct sgio_outcome *outcome, struct stat *st_out)
{
	struct stat st;
	int flags;

	/* The kernel lets PR OUT through SG_IO on a read-only fd for callers
	 * with CAP_SYS_RAWIO, which we have: enforce write access ourselves,
	 * with the answer QEMU gives. If F_GETFL fails, the ioctl decides. */
	if (opcode == PRH_OP_PR_OUT) {
		flags = fcntl(dev_fd, F_GETFL);
		if (flags >= 0 && (flags & O_ACCMODE) == O_RDONLY) {
			proto_reply_check_condition(reply, SENSE_KEY_ILLEGAL_REQUEST,
			                            0x20, 0x00);
			return 1;
		}
	}
	/* A privileged ioctl on an arbitrary fd is attack surface: only block
	 * devices and SCSI generic nodes get it. Anything else gets exactly
	 * what SG_IO would have said for it, ENOTTY. */
	if (fstat(dev_fd, &st) < 0) {
		outcome->os_err = errno;
		proto_reply_from_errno(reply, errno);
		return 1;
	}
	if (!S_ISBLK(st.st_mode) &&
	    !(S_ISCHR(st.st_mode) && major(st.st_rdev) == SCSI_GENERIC_CHAR_MAJOR)) {
		outcome->os_err = ENOTTY;
		proto_reply_from_errno(reply, ENOTTY);
		return 1;
	}
	*st_out = st;
	return 0;
}

void
sgio_thread_release(struct sgio_thread *t)
{
	if (t->pt != NULL)
		destruct_scsi_pt_obj(t->pt);
	t->pt = NULL;
}

/* The thread's object, holding dev_fd and nothing of an earlier command:
 * clear_scsi_pt_obj() zeroes all but the fd and its classification, and
 * set_pt_file_handle() classifies the new fd, exactly as building a new
 * object would. NULL if the first build fails. */
static struct sg_pt_base *
thread_pt(struct sgio_thread *t, int dev_fd)
{
	pthread_mutex_lock(&construct_lock);
	if (t->pt == NULL) {
		t->pt = construct_scsi_pt_obj_with_fd(dev_fd, 0);
	} else {
		clear_scsi_pt_obj(t->pt);
		set_pt_file_handle(t->pt, dev_fd, 0);
	}
	pthread_mutex_unlock(&construct_lock);
	return t->pt;
}

int
sgio_check(int dev_fd, const uint8_t cdb[PRH_CDB_SIZE], uint16_t len, uint8_t *data,
           struct proto_reply *reply, struct sgio_outcome *outcome, uint64_t *blk_dev)
{
	struct stat st;

	memset(outcome, 0, sizeof(*outcome));
	proto_reply_init(reply);
	*blk_dev = 0;
#ifdef PRH_TEST_HOOKS
	if (test_hook_answer(dev_fd, cdb[0], len, data, reply, outcome))
		return 1;
#else
	(void)len;
	(void)data;
#endif
	if (check_fd(dev_fd, cdb[0], reply, outcome, &st))
		return 1;
	if (S_ISBLK(st.st_mode))
		*blk_dev = (uint64_t)st.st_rdev;
	return 0;
}

void
sgio_execute(struct sgio_thread *t, int dev_fd, const uint8_t cdb[PRH_CDB_SIZE],
             uint16_t len, uint8_t *data, struct proto_reply *reply,
             struct sgio_outcome *outcome)
{
	uint64_t blk_dev;

	if (!sgio_check(dev_fd, cdb, len, data, reply, outcome, &blk_dev))
		sgio_run(t, dev_fd, cdb, len, data, reply, outcome);
}

void
sgio_run(struct sgio_thread *t, int dev_fd, const uint8_t cdb[PRH_CDB_SIZE],
         uint16_t len, uint8_t *data, struct proto_reply *reply,
         struct sgio_outcome *outcome)
{
	struct sg_pt_base *pt;
	uint8_t opcode = cdb[0];
	int res, resid;

	pt = thread_pt(t, dev_fd);
	if (pt == NULL) {
		outcome->os_err = ENOMEM;
		proto_reply_from_errno(reply, ENOMEM);
		return;
	}
	/* sg_pt keeps a pointer to the CDB but never writes it. */
	set_scsi_pt_cdb(pt, (uint8_t *)(uintptr_t)cdb, PRH_CDB_SIZE);
	set_scsi_pt_sense(pt, reply->sense, PRH_SENSE_SIZE);
	if (opcode == PRH_OP_PR_IN) {
		/* Buffers are reused across clients: a device that misreports
		 * its residual must not make us send another client's bytes. */
		memset(data, 0, len);
		/* The whole buffer, as QEMU does: the CDB's allocation length
		 * limits the device; the reply is cut to it below. */
		set_scsi_pt_data_in(pt, data, PRH_MAX_DATA);
	} else if (len > 0) {
		set_scsi_pt_data_out(pt, data, len);
	}

	outcome->called_ioctl = 1;
	res = do_scsi_pt(pt, -1, SGIO_TIMEOUT_S, 0);
	if (res < 0 || get_scsi_pt_os_err(pt) != 0) {
		/* The ioctl failed: errno decides, nothing from the device. */
		outcome->os_err = res < 0 ? -res : get_scsi_pt_os_err(pt);
		proto_reply_from_errno(reply, outcome->os_err);
		goto out;
	}
	if (res > 0) {
		/* The library refused the fd (e.g. an NVMe namespace, which it
		 * will not send SCSI commands to): what SG_IO says there. */
		outcome->os_err = ENOTTY;
		proto_reply_from_errno(reply, ENOTTY);
		goto out;
	}

	outcome->host_status = (unsigned)get_scsi_pt_transport_err(pt);
	outcome->driver_status = driver_status_of(pt);
	outcome->device_status = (unsigned)get_scsi_pt_status_response(pt) & 0xff;
	if (outcome->host_status != 0) {
		proto_reply_from_host_status(reply, outcome->host_status);
	} else if (proto_driver_status_is_timeout(outcome->driver_status)) {
		reply->status = PRH_STATUS_BUSY;
	} else {
		/* The device's own status and sense, untouched. */
		reply->status = (uint8_t)outcome->device_status;
	}

	if (reply->status == PRH_STATUS_GOOD && opcode == PRH_OP_PR_IN) {
		resid = get_scsi_pt_resid(pt);
		if (resid < 0)
			resid = 0;
		if (resid > PRH_MAX_DATA)
			resid = PRH_MAX_DATA;
		outcome->transferred = (uint32_t)(PRH_MAX_DATA - resid);
		reply->size = outcome->transferred < len ? outcome->transferred : len;
	} else {
		reply->size = 0;
	}
out:
	/* The object must not keep the fd, which the caller closes next. An
	 * NVMe device leaves translation state in it: start afresh. */
	if (pt_device_is_nvme(pt))
		sgio_thread_release(t);
	else
		set_pt_file_handle(pt, -1, 0);
}

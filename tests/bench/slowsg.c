/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * slowsg.so: an LD_PRELOAD shim that makes a FIFO behave as a slow SCSI
 * device for a dynamically linked helper (QEMU's), the counterpart of our
 * test build's PRH_TEST_FIFO_DELAY_MS, so that `make bench` can compare
 * both helpers on the same simulated LUN.
 *
 * ioctl(fd, SG_IO, hdr) on a FIFO sleeps SLOWSG_DELAY_MS milliseconds in
 * the calling thread, as a command waiting on its LUN would, then answers
 * GOOD; a data-in command gets an 8-byte READ KEYS header (generation 0,
 * no keys). Any other ioctl, or SG_IO on anything but a FIFO, goes to the
 * real ioctl unchanged.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>

#include <scsi/sg.h>

typedef int (*ioctl_fn)(int, unsigned long, ...);

static void
sleep_ms(unsigned long ms)
{
	struct timespec ts = { .tv_sec = (time_t)(ms / 1000),
	                       .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int
fake_sg_io(sg_io_hdr_t *h)
{
	const char *v = getenv("SLOWSG_DELAY_MS");
	unsigned n = 0;

	sleep_ms(v != NULL ? strtoul(v, NULL, 10) : 0);
	h->status = 0;
	h->masked_status = 0;
	h->msg_status = 0;
	h->host_status = 0;
	h->driver_status = 0;
	h->sb_len_wr = 0;
	h->info = 0;
	h->duration = 0;
	if (h->dxfer_direction == SG_DXFER_FROM_DEV && h->dxferp != NULL &&
	    h->iovec_count == 0) {
		n = h->dxfer_len < 8 ? h->dxfer_len : 8;
		memset(h->dxferp, 0, n);
	}
	h->resid = (int)(h->dxfer_len - n);
	return 0;
}

int
ioctl(int fd, unsigned long request, ...)
{
	static ioctl_fn real;
	struct stat st;
	va_list ap;
	void *arg;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (request == SG_IO && fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode))
		return fake_sg_io(arg);
	if (real == NULL)
		real = (ioctl_fn)(uintptr_t)dlsym(RTLD_NEXT, "ioctl");
	return real(fd, request, arg);
}

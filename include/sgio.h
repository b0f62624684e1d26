/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sgio.h: running one PERSISTENT RESERVE IN/OUT command on a device fd.
 */
#ifndef PRH_SGIO_H
#define PRH_SGIO_H

#include <stdint.h>

#include "prh.h"
#include "proto.h"

/*
 * Explicit SG_IO timeout. QEMU's helper passes 1 ms, which the kernel
 * raises to 7 s for block devices but not for /dev/sg nodes. 30 s is the
 * Linux sd driver's default command timeout.
 */
#define SGIO_TIMEOUT_S 30

/* What happened below the reply, for logs and trace events. */
struct sgio_outcome {
	int os_err;             /* errno of the ioctl (or of the fd checks) */
	unsigned host_status;
	unsigned driver_status;
	unsigned device_status;
	uint32_t transferred;   /* PR IN bytes the device returned */
	int called_ioctl;       /* 0 when a check answered without SG_IO */
};

/*
 * One worker thread's pass-through object, built on its first command and
 * reused for every later one (zero-initialise it; sgio_thread_release()
 * when the thread ends). Building and freeing the library's object for
 * each command cost a tenth of the helper's time at 200k commands/s.
 */
struct sg_pt_base;
struct sgio_thread {
	struct sg_pt_base *pt;
};

void sgio_thread_release(struct sgio_thread *t);

/* Prepare the pass-through library (it reads /proc/devices once, with no
 * lock): call once before worker threads start. */
void sgio_init(void);

/*
 * Run the request on dev_fd, on the calling thread's t: sgio_check, then,
 * unless that answered, sgio_run. cdb is the 16-byte CDB as received; len
 * its transfer length. For PR OUT data holds the len-byte parameter list;
 * for PR IN data must hold PRH_MAX_DATA bytes and receives the payload.
 * Fills *reply (status, sense, size = the payload bytes to send, never
 * more than the allocation length) and *outcome. Does not close dev_fd.
 */
void sgio_execute(struct sgio_thread *t, int dev_fd,
                  const uint8_t cdb[PRH_CDB_SIZE], uint16_t len, uint8_t *data,
                  struct proto_reply *reply, struct sgio_outcome *outcome);

/*
 * The checks that stand before the ioctl (write access for PR OUT; only
 * block devices and SCSI generic nodes). Initialises *reply and *outcome;
 * returns 1 if *reply is final, else 0 with *blk_dev the device number
 * of a block device (0 for an sg node), for the caller to decide where
 * the command goes (a multipath map's paths, or dev_fd itself).
 */
int sgio_check(int dev_fd, const uint8_t cdb[PRH_CDB_SIZE], uint16_t len,
               uint8_t *data, struct proto_reply *reply,
               struct sgio_outcome *outcome, uint64_t *blk_dev);

/* The command through SG_IO on dev_fd, after sgio_check said 0. */
void sgio_run(struct sgio_thread *t, int dev_fd, const uint8_t cdb[PRH_CDB_SIZE],
              uint16_t len, uint8_t *data, struct proto_reply *reply,
              struct sgio_outcome *outcome);

#endif /* PRH_SGIO_H */

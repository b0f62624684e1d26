/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vscsi.h: a minimal guest driver for QEMU's virtio-scsi-pci controller
 * (legacy virtio 0.9 interface: I/O BAR 0, one request queue), run from
 * outside the guest over qtest. It submits one SCSI command at a time to
 * target/LUN of the controller and returns what a guest would see: the
 * virtio-scsi response code, the SCSI status, the sense bytes and the
 * data-in bytes. The guest is stopped (QEMU -S), so nothing else touches
 * the controller; the driver's state (ring indexes) lives in guest memory,
 * which lets every prh-client process pick up where the last one left off.
 */
#ifndef PRH_CLIENT_VSCSI_H
#define PRH_CLIENT_VSCSI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qtest.h"

#define VSCSI_SENSE_MAX  96     /* sense bytes the driver asks for */
#define VSCSI_DATA_MAX   65536  /* largest data-in or data-out buffer */

/* virtio-scsi response codes (virtio 1.x, 5.6.6.1). */
#define VSCSI_S_OK         0
#define VSCSI_S_OVERRUN    1
#define VSCSI_S_ABORTED    2
#define VSCSI_S_BAD_TARGET 3
#define VSCSI_S_RESET      4
#define VSCSI_S_BUSY       5
#define VSCSI_S_TRANSPORT_FAILURE 6
#define VSCSI_S_TARGET_FAILURE    7
#define VSCSI_S_NEXUS_FAILURE     8
#define VSCSI_S_FAILURE    9

struct vscsi {
	struct qtest *q;
	unsigned slot;          /* PCI slot on bus 0 */
	uint16_t iobase;        /* legacy I/O BAR */
	uint16_t queue_size;    /* entries of the request queue */
	uint32_t cdb_size, sense_size;  /* from the device's configuration */
};

struct vscsi_cmd {
	unsigned target, lun;
	const uint8_t *cdb;
	size_t cdb_len;
	const uint8_t *data_out;    /* PR OUT parameter list, or NULL */
	size_t data_out_len;
	size_t data_in_len;         /* allocation length; 0 for none */
	int timeout_ms;             /* for the completion; -1 forever */
};

struct vscsi_result {
	uint8_t response;           /* VSCSI_S_* */
	uint8_t status;             /* SCSI status */
	uint32_t sense_len, resid;
	uint8_t sense[VSCSI_SENSE_MAX];
	uint8_t *data_in;           /* caller's buffer of data_in_len bytes */
	size_t data_in_got;         /* data_in_len - resid */
};

/*
 * Find the controller (the first virtio-scsi PCI function on bus 0) and,
 * if reset is set, reset and set it up: I/O BAR, bus mastering, status
 * ACKNOWLEDGE|DRIVER, no optional features, the first request queue's ring
 * in guest memory, DRIVER_OK. Without reset the controller must already
 * have been set up by an earlier call. 0 or -1 (message on stderr).
 */
int vscsi_open(struct vscsi *v, struct qtest *q, bool reset);

/* Run one command; 0 when the controller answered (any response code),
 * -1 on a driver or qtest failure or a timeout. */
int vscsi_run(struct vscsi *v, const struct vscsi_cmd *cmd, struct vscsi_result *res);

/* The name of a response code, for printing. */
const char *vscsi_response_name(uint8_t response);

#endif /* PRH_CLIENT_VSCSI_H */
